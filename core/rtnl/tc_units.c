/* Traffic control values: tc's notation for handles, rates, sizes, times and percentages,
 * the psched clock, rate tables, and the attribute writers the kind files share.
 * The arithmetic follows tc's own order of operations (iproute2 tc/tc_core.c and
 * lib/utils*.c), so that cnet computes the very same field values from the same text. */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <ctype.h>

#include "rtnl/tc_int.h"

/* ---- handles ---- */

/* Hex digits only (no sign, no "0x", no blanks), at most 4 of them: one half of a handle. */
static int hex16(const char *s, size_t n, uint32_t *out) {
  if (n == 0 || n > 4) return -EINVAL;
  uint32_t v = 0;
  for (size_t i = 0; i < n; i++) {
    if (!isxdigit((unsigned char)s[i])) return -EINVAL;
    v = v * 16 + (uint32_t)(isdigit((unsigned char)s[i]) ? s[i] - '0' : tolower(s[i]) - 'a' + 10);
  }
  *out = v;
  return 0;
}

int cnet_tc_parse_qdisc_handle(const char *text, uint32_t *out) {
  if (strcmp(text, "none") == 0) {
    *out = 0;
    return 0;
  }
  size_t n = strlen(text);
  if (n > 0 && text[n - 1] == ':') n--;
  uint32_t maj;
  if (hex16(text, n, &maj) < 0) return -EINVAL;
  *out = maj << 16;
  return 0;
}

int cnet_tc_parse_classid(const char *text, uint32_t *out) {
  if (strcmp(text, "root") == 0) *out = CNET_TC_ROOT;
  else if (strcmp(text, "ingress") == 0 || strcmp(text, "clsact") == 0) *out = CNET_TC_INGRESS;
  else if (strcmp(text, "none") == 0) *out = 0;
  else {
    const char *colon = strchr(text, ':');
    uint32_t maj, min = 0;
    if (colon == NULL || hex16(text, (size_t)(colon - text), &maj) < 0) return -EINVAL;
    if (colon[1] != '\0' && hex16(colon + 1, strlen(colon + 1), &min) < 0) return -EINVAL;
    *out = maj << 16 | min;
  }
  return 0;
}

void cnet_tc_format_classid(uint32_t h, char *buf, size_t size) {
  if (h == CNET_TC_ROOT) snprintf(buf, size, "root");
  else if (h == 0) snprintf(buf, size, "none");
  else if ((h & 0xffff) == 0) snprintf(buf, size, "%x:", h >> 16);
  else snprintf(buf, size, "%x:%x", h >> 16, h & 0xffff);
}

void cnet_tc_format_handle(uint32_t h, char *buf, size_t size) {
  snprintf(buf, size, "%x:", h >> 16);
}

/* ---- notation ---- */

struct unit {
  const char *name;
  double scale;
};

/* A non-negative decimal number then a unit from the table (or none: `bare`, or -EINVAL
 * when bare is 0). */
static int parse_num(const char *text, const struct unit *units, double bare,
                     struct cnet_tc_num *out) {
  if (!(isdigit((unsigned char)text[0]) || (text[0] == '.' && isdigit((unsigned char)text[1]))))
    return -EINVAL; /* no sign, no blanks, no "inf"/"nan"/hex */
  char *end;
  double v = strtod(text, &end);
  if (end == text || !isfinite(v) || v < 0) return -EINVAL;
  for (const char *p = text; p < end; p++) /* decimal only: strtod also reads "0x10" */
    if (!isdigit((unsigned char)*p) && *p != '.' && *p != 'e' && *p != 'E' && *p != '+' &&
        *p != '-')
      return -EINVAL;
  if (*end == '\0') {
    if (bare == 0) return -EINVAL;
    *out = (struct cnet_tc_num){v, bare};
    return 0;
  }
  for (const struct unit *u = units; u->name != NULL; u++) {
    if (strcasecmp(end, u->name) == 0) {
      *out = (struct cnet_tc_num){v, u->scale};
      return 0;
    }
  }
  return -EINVAL;
}

int cnet_tc_parse_rate(const char *text, struct cnet_tc_num *out) {
  /* bits per second, decimal and binary multiples; "Bps" forms are bytes */
  static const struct unit units[] = {
      {"bit", 1.}, {"kibit", 1024.}, {"kbit", 1000.}, {"mibit", 1024. * 1024.},
      {"mbit", 1000000.}, {"gibit", 1024. * 1024. * 1024.}, {"gbit", 1000000000.},
      {"tibit", 1024. * 1024. * 1024. * 1024.}, {"tbit", 1000000000000.}, {"bps", 8.},
      {"kibps", 8. * 1024.}, {"kbps", 8000.}, {"mibps", 8. * 1024 * 1024.},
      {"mbps", 8000000.}, {"gibps", 8. * 1024. * 1024. * 1024.}, {"gbps", 8000000000.},
      {"tibps", 8. * 1024. * 1024. * 1024. * 1024.}, {"tbps", 8000000000000.}, {NULL, 0}};
  return parse_num(text, units, 1., out);
}

int cnet_tc_parse_size(const char *text, struct cnet_tc_num *out) {
  /* tc's sizes: binary multiples; the "bit" forms divide by 8 in integers first */
  static const struct unit units[] = {
      {"kb", 1024}, {"k", 1024}, {"gb", 1024. * 1024 * 1024}, {"g", 1024. * 1024 * 1024},
      {"gbit", 1024 * 1024 * 1024 / 8}, {"mb", 1024 * 1024}, {"m", 1024 * 1024},
      {"mbit", 1024 * 1024 / 8}, {"kbit", 1024 / 8}, {"b", 1}, {NULL, 0}};
  return parse_num(text, units, 1., out);
}

int cnet_tc_parse_time(const char *text, struct cnet_tc_num *out) {
  static const struct unit units[] = {
      {"s", 1e9}, {"sec", 1e9}, {"secs", 1e9}, {"ms", 1e6}, {"msec", 1e6}, {"msecs", 1e6},
      {"us", 1e3}, {"usec", 1e3}, {"usecs", 1e3}, {"ns", 1}, {"nsec", 1}, {"nsecs", 1},
      {NULL, 0}};
  return parse_num(text, units, 0, out);
}

int cnet_tc_parse_percent(const char *text, struct cnet_tc_num *out) {
  static const struct unit units[] = {{"%", 1}, {NULL, 0}};
  int rc = parse_num(text, units, 1., out);
  return rc == 0 && out->num > 100 ? -EINVAL : rc;
}

/* ---- the psched clock ---- */

static double tick_in_usec = 0;
static uint32_t timer_hz = 0;

/* /proc/net/psched: microseconds-to-ns, ns per tick, clock resolution, timer frequency. */
static void psched_init(void) {
  if (tick_in_usec > 0) return;
  unsigned t2us = 1000, us2t = 64, res = 1000000, hz = 1000000000; /* the kernel's since 2.6.30 */
  FILE *f = fopen("/proc/net/psched", "re");
  if (f != NULL) {
    unsigned a, b, c, d;
    int n = fscanf(f, "%08x%08x%08x%08x", &a, &b, &c, &d);
    if (n >= 3 && b != 0) {
      t2us = a;
      us2t = b;
      res = c;
      if (n == 4) hz = d;
    }
    fclose(f);
  }
  /* A clock resolution of 1e9 means the old convention: the ratio is then 1. */
  if (res == 1000000000) t2us = us2t;
  double factor = (double)res / 1000000;
  timer_hz = res == 1000000 && hz != 0 ? hz : 1000; /* what tc uses to size htb's bursts */
  tick_in_usec = (double)t2us / us2t * factor;
}

double tc_tick_in_usec(void) {
  psched_init();
  return tick_in_usec;
}

uint32_t tc_hz(void) {
  psched_init();
  return timer_hz;
}

uint32_t tc_time2tick(uint32_t usec) { return (uint32_t)(usec * tc_tick_in_usec()); }
uint32_t tc_tick2time(uint32_t ticks) { return (uint32_t)(ticks / tc_tick_in_usec()); }

/* The double-to-unsigned steps below are tc's; values that would not fit were refused
 * before (tc_size32 ...), and a time beyond 2^32 us cannot come from a u32 size. */
uint32_t tc_xmittime(uint64_t rate, uint32_t size) {
  double us = 1000000 * ((double)size / (double)rate);
  if (!(us < 4294967296.0)) return UINT32_MAX;
  return tc_time2tick((uint32_t)us);
}

uint32_t tc_xmitsize(uint64_t rate, uint32_t ticks) {
  double b = ((double)rate * tc_tick2time(ticks)) / 1000000;
  return b < 4294967296.0 ? (uint32_t)b : UINT32_MAX;
}

void tc_rtab(struct tc_ratespec *r, uint32_t rtab[256], uint32_t mtu) {
  if (mtu == 0) mtu = 2047;
  int cell_log = 0;
  while ((mtu >> cell_log) > 255) cell_log++;
  for (unsigned i = 0; i < 256; i++) {
    uint32_t sz = (i + 1) << cell_log;
    if (sz < r->mpu) sz = r->mpu;
    rtab[i] = tc_xmittime(r->rate, sz); /* the 32-bit rate, as tc */
  }
  r->cell_align = -1;
  r->cell_log = (unsigned char)cell_log;
  r->linklayer = TC_LINKLAYER_ETHERNET;
}

/* ---- values ---- */

int tcw_fail(struct tcw *w, int rc, const char *fmt, ...) {
  if (w->err != NULL) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(w->err, CNET_ERRMSG_MAX, fmt, ap);
    va_end(ap);
  }
  return rc;
}

int tc_rate64(struct tcw *w, const struct cnet_tc_num *n, const char *name, uint64_t *out) {
  double bytes = n->num * n->unit / 8;
  if (!(bytes < 18446744073709551616.0)) return tcw_fail(w, -ERANGE, "%s: rate too large", name);
  *out = (uint64_t)bytes;
  return 0;
}

int tc_rate32(struct tcw *w, const struct cnet_tc_num *n, const char *name, uint32_t *out) {
  double bytes = n->num * n->unit / 8;
  if (!(bytes < 4294967296.0))
    return tcw_fail(w, -ERANGE, "%s: rate above 34.3gbit (32 bits of bytes/s)", name);
  *out = (uint32_t)bytes;
  return 0;
}

int tc_size32(struct tcw *w, const struct cnet_tc_num *n, const char *name, uint32_t *out) {
  double b = n->num * n->unit;
  if (!(b < 4294967296.0)) return tcw_fail(w, -ERANGE, "%s: size above 4gb", name);
  *out = (uint32_t)b;
  return 0;
}

int tc_usec32(struct tcw *w, const struct cnet_tc_num *n, const char *name, uint32_t *out) {
  double us = n->num * (n->unit / 1000);
  if (!(us < 4294967296.0)) return tcw_fail(w, -ERANGE, "%s: time above 4294s", name);
  *out = (uint32_t)us;
  return 0;
}

int tc_nsec64(struct tcw *w, const struct cnet_tc_num *n, const char *name, int64_t *out) {
  double ns = n->num * n->unit;
  if (!(ns < 9223372036854775808.0)) return tcw_fail(w, -ERANGE, "%s: time too large", name);
  *out = (int64_t)ns;
  return 0;
}

int tc_ticks32(struct tcw *w, const struct cnet_tc_num *n, const char *name, uint32_t *out) {
  uint32_t us = 0;
  int rc = tc_usec32(w, n, name, &us);
  if (rc < 0) return rc;
  if (us * tc_tick_in_usec() >= 4294967296.0)
    return tcw_fail(w, -ERANGE, "%s: time above %.0fs (32 bits of psched ticks)", name,
                    4294967296.0 / tc_tick_in_usec() / 1e6);
  *out = tc_time2tick(us);
  return 0;
}

uint32_t tc_percent32(const struct cnet_tc_num *n) {
  return (uint32_t)rint(n->num / 100. * UINT32_MAX);
}

int tc_u32(struct tcw *w, const struct cnet_tc_num *n, const char *name, uint32_t *out) {
  if (!(n->num >= 0 && n->num < 4294967296.0 && n->num == floor(n->num)))
    return tcw_fail(w, -ERANGE, "%s: not an integer in 0..4294967295", name);
  *out = (uint32_t)n->num;
  return 0;
}

int tc_given(const struct cnet_tc_opts *o, unsigned i) {
  return o != NULL && (o->given >> i & 1);
}

/* ---- writing attributes (no NLA_F_NESTED on nests, as tc) ---- */

/* By hand rather than mnl_attr_put: the libmnl of Debian 12 leaves an attribute's padding
 * as it finds it, and the queue's buffer is not cleared, so a string's last bytes would go
 * out as whatever was there before (harmless to the kernel, but not tc's bytes). */
int tcw_put(struct tcw *w, uint16_t type, const void *data, size_t len) {
  if (len > UINT16_MAX - MNL_ATTR_HDRLEN ||
      w->nlh->nlmsg_len + MNL_ATTR_HDRLEN + MNL_ALIGN(len) > w->limit)
    return -EMSGSIZE;
  struct nlattr *a = mnl_nlmsg_get_payload_tail(w->nlh);
  a->nla_type = type;
  a->nla_len = (uint16_t)(MNL_ATTR_HDRLEN + len);
  char *p = (char *)a + MNL_ATTR_HDRLEN;
  if (len) memcpy(p, data, len);
  memset(p + len, 0, MNL_ALIGN(len) - len);
  w->nlh->nlmsg_len += MNL_ATTR_HDRLEN + MNL_ALIGN(len);
  return 0;
}

int tcw_put_u32(struct tcw *w, uint16_t type, uint32_t v) {
  return tcw_put(w, type, &v, sizeof v);
}

int tcw_raw(struct tcw *w, const void *data, size_t len) {
  if (w->nlh->nlmsg_len + MNL_ALIGN(len) > w->limit) return -EMSGSIZE;
  char *tail = mnl_nlmsg_get_payload_tail(w->nlh);
  memcpy(tail, data, len);
  memset(tail + len, 0, MNL_ALIGN(len) - len);
  w->nlh->nlmsg_len += MNL_ALIGN(len);
  return 0;
}

struct nlattr *tcw_nest(struct tcw *w, uint16_t type) {
  if (w->nlh->nlmsg_len + MNL_ATTR_HDRLEN > w->limit) return NULL;
  struct nlattr *a = mnl_nlmsg_get_payload_tail(w->nlh);
  a->nla_type = type;
  a->nla_len = MNL_ATTR_HDRLEN;
  w->nlh->nlmsg_len += MNL_ATTR_HDRLEN;
  return a;
}

void tcw_end(struct tcw *w, struct nlattr *nest) {
  nest->nla_len = (uint16_t)((char *)mnl_nlmsg_get_payload_tail(w->nlh) - (char *)nest);
}

/* ---- table-driven nests ---- */

/* ceil(log2(v)), tc's way of turning a bucket count into a log */
static uint32_t log2_up(uint32_t v) {
  uint32_t r = 0;
  for (v--; v; v >>= 1) r++;
  return r;
}

int tc_encode_nested(struct tcw *w, const struct cnet_tc_kind *k, const struct cnet_tc_opts *o) {
  struct nlattr *nest = tcw_nest(w, TCA_OPTIONS);
  if (nest == NULL) return -EMSGSIZE;
  for (unsigned i = 0; i < k->nfields; i++) {
    if (!tc_given(o, i)) continue;
    const struct tc_field *f = &k->fields[i];
    const struct cnet_tc_num *n = &o->v[i];
    uint32_t v = 0;
    int64_t ns = 0;
    int rc = 0;
    switch (f->conv) {
    case C_U32: rc = tc_u32(w, n, f->pub.name, &v); break;
    case C_BOOL32: v = n->num != 0; break;
    case C_LOG2:
      rc = tc_u32(w, n, f->pub.name, &v);
      if (rc == 0 && v == 0) rc = tcw_fail(w, -ERANGE, "%s: must be at least 1", f->pub.name);
      v = log2_up(v);
      break;
    case C_RATE32: rc = tc_rate32(w, n, f->pub.name, &v); break;
    case C_SIZE32: rc = tc_size32(w, n, f->pub.name, &v); break;
    case C_USEC32: rc = tc_usec32(w, n, f->pub.name, &v); break;
    case C_NSEC32:
      rc = tc_nsec64(w, n, f->pub.name, &ns);
      if (rc == 0 && ns > UINT32_MAX) rc = tcw_fail(w, -ERANGE, "%s: above 4.29s", f->pub.name);
      v = (uint32_t)ns;
      break;
    default: rc = -EINVAL; break;
    }
    if (rc == 0) rc = tcw_put_u32(w, f->attr, v);
    if (rc < 0) return rc;
  }
  tcw_end(w, nest);
  return 0;
}

static void add_value(struct cnet_tc_info *info, const struct cnet_tc_kind *k, unsigned i,
                      uint64_t u, double d) {
  if (info->nvalues >= CNET_TC_MAXFIELDS || i >= k->nfields) return;
  struct cnet_tc_value *v = &info->values[info->nvalues++];
  v->field = &k->fields[i].pub;
  v->u = u;
  v->d = d;
}

void tc_value_u(struct cnet_tc_info *info, const struct cnet_tc_kind *k, unsigned i, uint64_t u) {
  add_value(info, k, i, u, (double)u);
}

void tc_value_d(struct cnet_tc_info *info, const struct cnet_tc_kind *k, unsigned i, double d) {
  add_value(info, k, i, 0, d);
}

void tc_decode_nested(const struct nlattr *opts, const struct cnet_tc_kind *k,
                      struct cnet_tc_info *info) {
  for (unsigned i = 0; i < k->nfields; i++) {
    const struct tc_field *f = &k->fields[i];
    const struct nlattr *a;
    mnl_attr_for_each_nested(a, opts) {
      if (mnl_attr_get_type(a) != f->attr || mnl_attr_get_payload_len(a) < 4) continue;
      uint32_t v = mnl_attr_get_u32(a);
      if ((f->flags & F_UNSET_ALL_ONES) && v == UINT32_MAX) break;
      switch (f->conv) {
      case C_BOOL32: tc_value_u(info, k, i, v != 0); break;
      case C_LOG2: tc_value_u(info, k, i, v < 32 ? 1u << v : 0); break;
      case C_USEC32: tc_value_d(info, k, i, v / 1e6); break;
      case C_NSEC32: tc_value_d(info, k, i, v / 1e9); break;
      default: tc_value_u(info, k, i, v); break;
      }
      break;
    }
  }
}
