/* Traffic control without a kernel: tc's notation (rates, sizes, times, percentages,
 * handles), the arithmetic that turns it into the kernel's fields, and every kind's options
 * encoded and decoded back. The decoders of kinds this kernel lacks (netem, fq_codel, sfq,
 * prio, fq) are only exercised here: the kernel dumps their options in the layout cnet
 * sends (a struct and/or a nest in TCA_OPTIONS), which is what the round trips check. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/rtnetlink.h>

#include "rtnl/tc_int.h"

#include "check.h"

static void test_notation(void) {
  struct cnet_tc_num n;
  static const struct { const char *text; double bits; } rates[] = {
      {"10mbit", 10e6}, {"10Mbit", 10e6}, {"100kbit", 100e3}, {"1gbit", 1e9},
      {"512kibit", 512 * 1024.}, {"1.5mbps", 12e6}, {"1000", 1000}, {"1000bit", 1000},
      {"2MBps", 16e6}, {".5mbit", 0.5e6}};
  for (size_t i = 0; i < sizeof rates / sizeof rates[0]; i++) {
    CHECK(cnet_tc_parse_rate(rates[i].text, &n) == 0, "%s", rates[i].text);
    CHECK(n.num * n.unit == rates[i].bits, "%s: %g", rates[i].text, n.num * n.unit);
  }
  static const struct { const char *text; double bytes; } sizes[] = {
      {"32kb", 32768}, {"32k", 32768}, {"1mb", 1048576}, {"1500", 1500}, {"1500b", 1500},
      {"1mbit", 131072}, {"1g", 1073741824.}, {"10KB", 10240}};
  for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
    CHECK(cnet_tc_parse_size(sizes[i].text, &n) == 0, "%s", sizes[i].text);
    CHECK(n.num * n.unit == sizes[i].bytes, "%s: %g", sizes[i].text, n.num * n.unit);
  }
  static const struct { const char *text; double ns; } times[] = {
      {"50ms", 50e6}, {"1.5s", 1.5e9}, {"100us", 100e3}, {"10ns", 10}, {"2secs", 2e9}};
  for (size_t i = 0; i < sizeof times / sizeof times[0]; i++) {
    CHECK(cnet_tc_parse_time(times[i].text, &n) == 0, "%s", times[i].text);
    CHECK(n.num * n.unit == times[i].ns, "%s: %g", times[i].text, n.num * n.unit);
  }
  CHECK(cnet_tc_parse_percent("1%", &n) == 0 && n.num == 1, "1%%");
  CHECK(cnet_tc_parse_percent("0.5", &n) == 0 && n.num == 0.5, "0.5");
  const char *bad_rates[] = {"", "mbit", "10mbits", "-1mbit", "10 mbit", "inf", "nan", "0x10",
                             "1e999mbit", "10kb"};
  for (size_t i = 0; i < sizeof bad_rates / sizeof bad_rates[0]; i++)
    CHECK(cnet_tc_parse_rate(bad_rates[i], &n) == -EINVAL, "rate %s accepted", bad_rates[i]);
  CHECK(cnet_tc_parse_time("50", &n) == -EINVAL, "a time without a unit accepted");
  CHECK(cnet_tc_parse_time("5m", &n) == -EINVAL, "5m accepted as a time");
  CHECK(cnet_tc_parse_size("10kbps", &n) == -EINVAL, "10kbps accepted as a size");
  CHECK(cnet_tc_parse_percent("101%", &n) == -EINVAL, "101%% accepted");
  CHECK(cnet_tc_parse_percent("1%%", &n) == -EINVAL, "1%%%% accepted");
}

static void test_handles(void) {
  uint32_t h;
  CHECK(cnet_tc_parse_qdisc_handle("1:", &h) == 0 && h == 0x10000, "1:");
  CHECK(cnet_tc_parse_qdisc_handle("ffff", &h) == 0 && h == 0xffff0000, "ffff");
  CHECK(cnet_tc_parse_qdisc_handle("none", &h) == 0 && h == 0, "none");
  const char *bad[] = {"1:2", "10000:", "", ":", "g:", "1::", " 1:"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
    CHECK(cnet_tc_parse_qdisc_handle(bad[i], &h) == -EINVAL, "qdisc handle %s accepted", bad[i]);
  CHECK(cnet_tc_parse_classid("1:10", &h) == 0 && h == 0x10010, "1:10");
  CHECK(cnet_tc_parse_classid("1:", &h) == 0 && h == 0x10000, "1:");
  CHECK(cnet_tc_parse_classid("root", &h) == 0 && h == CNET_TC_ROOT, "root");
  CHECK(cnet_tc_parse_classid("clsact", &h) == 0 && h == CNET_TC_INGRESS, "clsact");
  CHECK(cnet_tc_parse_classid("ffff:fff1", &h) == 0 && h == CNET_TC_INGRESS, "ffff:fff1");
  const char *badc[] = {"10", "1:10000", "x:1", "1:1:1", ""};
  for (size_t i = 0; i < sizeof badc / sizeof badc[0]; i++)
    CHECK(cnet_tc_parse_classid(badc[i], &h) == -EINVAL, "class id %s accepted", badc[i]);
  char buf[16];
  cnet_tc_format_classid(0x10010, buf, sizeof buf);
  CHECK(strcmp(buf, "1:10") == 0, "%s", buf);
  cnet_tc_format_classid(CNET_TC_ROOT, buf, sizeof buf);
  CHECK(strcmp(buf, "root") == 0, "%s", buf);
  cnet_tc_format_classid(CNET_TC_INGRESS, buf, sizeof buf);
  CHECK(strcmp(buf, "ffff:fff1") == 0, "%s", buf);
  cnet_tc_format_handle(0x80010000, buf, sizeof buf);
  CHECK(strcmp(buf, "8001:") == 0, "%s", buf);
}

/* tc's arithmetic with the kernel's 64 ns ticks (what /proc/net/psched says everywhere since
 * 2.6.31), truncating where tc truncates: 32768 bytes at 10mbit are 26214.4 us, cut to 26214,
 * times 15.625 is 409593.75 ticks, cut to 409593 (tc sends exactly that); the kernel keeps
 * the burst from TCA_TBF_BURST instead and reports 409600. */
static void test_ticks(void) {
  CHECK(tc_tick_in_usec() == 15.625, "%g ticks per us", tc_tick_in_usec());
  CHECK(tc_time2tick(50000) == 781250, "%u", tc_time2tick(50000));
  CHECK(tc_xmittime(1250000, 32768) == 409593, "%u", tc_xmittime(1250000, 32768));
  CHECK(tc_xmitsize(1250000, 409600) == 32767, "%u", tc_xmitsize(1250000, 409600));
  struct tc_ratespec r = {.rate = 1250000};
  uint32_t tab[256];
  tc_rtab(&r, tab, 0); /* mtu 0: 2047, cell_log 3 */
  CHECK(r.cell_log == 3 && r.cell_align == -1 && r.linklayer == TC_LINKLAYER_ETHERNET,
        "cell_log %u", r.cell_log);
  CHECK(tab[0] == 93 && tab[255] == 25593, "rtab %u .. %u", tab[0], tab[255]); /* 8, 2048 bytes */
}

/* Builds kind k with the options given as "name=value" (tc's text; booleans "true"), parses
 * the result as the kernel's answer would come, and returns the decoded info. */
static int roundtrip(const char *kind, int cls, const char *const opts[], struct cnet_tc_info *out,
                     char *buf, size_t size) {
  const struct cnet_tc_kind *k = cnet_tc_kind_find(kind, cls);
  CHECK(k != NULL, "no kind %s", kind);
  if (k == NULL) return -EINVAL;
  struct cnet_tc_opts o;
  memset(&o, 0, sizeof o);
  for (const char *const *p = opts; *p; p++) {
    char name[64];
    const char *eq = strchr(*p, '=');
    snprintf(name, sizeof name, "%.*s", (int)(eq - *p), *p);
    int i = cnet_tc_kind_field(k, name);
    CHECK(i >= 0, "%s has no option %s", kind, name);
    if (i < 0) return -EINVAL;
    const struct cnet_tc_field *f = cnet_tc_kind_field_at(k, (unsigned)i);
    const char *v = eq + 1;
    int rc = 0;
    switch (f->type) {
    case CNET_TC_RATE: rc = cnet_tc_parse_rate(v, &o.v[i]); break;
    case CNET_TC_SIZE: rc = cnet_tc_parse_size(v, &o.v[i]); break;
    case CNET_TC_TIME: rc = cnet_tc_parse_time(v, &o.v[i]); break;
    case CNET_TC_PERCENT: rc = cnet_tc_parse_percent(v, &o.v[i]); break;
    case CNET_TC_BOOL: o.v[i] = (struct cnet_tc_num){strcmp(v, "true") == 0, 1}; break;
    case CNET_TC_LIST:
      for (const char *q = v; *q; q++)
        if (*q != ',') o.list[o.nlist++] = (uint8_t)(*q - '0');
      o.v[i] = (struct cnet_tc_num){o.nlist, 1};
      break;
    default: o.v[i] = (struct cnet_tc_num){strtod(v, NULL), 1}; break;
    }
    CHECK(rc == 0, "%s: %s", kind, *p);
    o.given |= 1u << i;
  }
  memset(buf, 0, size);
  struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
  nlh->nlmsg_type = cls ? RTM_NEWTCLASS : RTM_NEWQDISC;
  struct cnet_tc_req req = {3, 0x10000, CNET_TC_ROOT, k, &o};
  char err[CNET_ERRMSG_MAX];
  int rc = cnet_tc_build(nlh, size - nlh->nlmsg_len, &req, err);
  CHECK(rc == 0, "%s: build %d %s", kind, rc, err);
  if (rc < 0) return rc;
  rc = cnet_tc_parse(nlh, out);
  CHECK(rc == 0 && out->known == k, "%s: parse %d", kind, rc);
  return rc;
}

/* The decoded value of option name (NULL when absent). */
static const struct cnet_tc_value *value(const struct cnet_tc_info *info, const char *name) {
  for (unsigned i = 0; i < info->nvalues; i++)
    if (strcmp(info->values[i].field->name, name) == 0) return &info->values[i];
  return NULL;
}

#define U(info, name, want)                                                                 \
  do {                                                                                      \
    const struct cnet_tc_value *v_ = value(info, name);                                     \
    CHECK(v_ != NULL && v_->u == (uint64_t)(want), "%s = %llu, want %llu", name,            \
          v_ ? (unsigned long long)v_->u : 0ULL, (unsigned long long)(want));               \
  } while (0)
#define D(info, name, want)                                                                 \
  do {                                                                                      \
    const struct cnet_tc_value *v_ = value(info, name);                                     \
    CHECK(v_ != NULL && fabs(v_->d - (double)(want)) < 1e-6 * (fabs((double)(want)) + 1e-3), "%s = %g, want %g", \
          name, v_ ? v_->d : -1.0, (double)(want));                                         \
  } while (0)

static void test_kinds(void) {
  static char buf[16384];
  struct cnet_tc_info info;
  if (roundtrip("tbf", 0, (const char *const[]){"rate=10mbit", "burst=32kb", "latency=50ms", NULL},
                &info, buf, sizeof buf) == 0) {
    U(&info, "rate", 1250000);
    U(&info, "burst", 32766); /* from the 409593 ticks cnet (and tc) send, see test_ticks */
    U(&info, "limit", 62500 + 32768);
    D(&info, "latency", 0.050001);
  }
  if (roundtrip("htb", 1, (const char *const[]){"rate=5mbit", "ceil=8mbit", "burst=15k", "prio=2",
                                               "quantum=3000", NULL},
                &info, buf, sizeof buf) == 0) {
    U(&info, "rate", 625000);
    U(&info, "ceil", 1000000);
    U(&info, "burst", 15360);
    U(&info, "cburst", 1600); /* the default: one timer tick of the ceil (0 bytes) plus mtu */
    U(&info, "prio", 2);
    U(&info, "quantum", 3000);
  }
  if (roundtrip("htb", 0, (const char *const[]){"default=16", "r2q=5", "direct_qlen=100", NULL},
                &info, buf, sizeof buf) == 0) {
    U(&info, "default", 16);
    U(&info, "r2q", 5);
    U(&info, "direct_qlen", 100);
  }
  if (roundtrip("netem", 0, (const char *const[]){"delay=50ms", "jitter=10ms", "loss=1%",
                                                 "duplicate=2", "corrupt=0.5", "reorder=25",
                                                 "reorder_correlation=50", "rate=10mbit",
                                                 "limit=2000", NULL},
                &info, buf, sizeof buf) == 0) {
    D(&info, "delay", 0.05);
    D(&info, "jitter", 0.01);
    D(&info, "loss", 1);
    D(&info, "duplicate", 2);
    D(&info, "corrupt", 0.5);
    D(&info, "reorder", 25);
    D(&info, "reorder_correlation", 50);
    U(&info, "gap", 1); /* reordering without a gap: tc's 1 */
    U(&info, "rate", 1250000);
    U(&info, "limit", 2000);
  }
  if (roundtrip("fq_codel", 0, (const char *const[]){"limit=1000", "target=5ms", "interval=100ms",
                                                    "ecn=true", "memory_limit=4mb", NULL},
                &info, buf, sizeof buf) == 0) {
    U(&info, "limit", 1000);
    D(&info, "target", 0.005);
    D(&info, "interval", 0.1);
    U(&info, "ecn", 1);
    U(&info, "memory_limit", 4 << 20);
    CHECK(value(&info, "ce_threshold") == NULL, "ce_threshold listed though not set");
  }
  if (roundtrip("sfq", 0, (const char *const[]){"perturb=10", "quantum=1514", "limit=127",
                                               "headdrop=true", NULL},
                &info, buf, sizeof buf) == 0) {
    U(&info, "perturb", 10);
    U(&info, "quantum", 1514);
    U(&info, "limit", 127);
    U(&info, "headdrop", 1);
  }
  if (roundtrip("prio", 0, (const char *const[]){"bands=4", "priomap=3,2,1,0", NULL}, &info, buf,
                sizeof buf) == 0) {
    U(&info, "bands", 4);
    CHECK(info.list[0] == 3 && info.list[3] == 0 && info.list[4] == 1, "priomap %u %u %u",
          info.list[0], info.list[3], info.list[4]);
  }
  if (roundtrip("fq", 0, (const char *const[]){"buckets=1000", "maxrate=1mbit", "pacing=true",
                                              "refill_delay=40ms", "timer_slack=10us", NULL},
                &info, buf, sizeof buf) == 0) {
    U(&info, "buckets", 1024); /* a power of two, rounded up as tc does */
    U(&info, "maxrate", 125000);
    U(&info, "pacing", 1);
    D(&info, "refill_delay", 0.04);
    D(&info, "timer_slack", 10e-6);
  }
  if (roundtrip("bfifo", 0, (const char *const[]){"limit=10kb", NULL}, &info, buf, sizeof buf) == 0)
    U(&info, "limit", 10240);
}

/* What the encoders refuse, with their reasons. */
static void test_refusals(void) {
  static char buf[8192];
  struct {
    const char *kind;
    const char *const *opts;
    int rc;
    const char *why;
  } cases[] = {
      {"tbf", (const char *const[]){"rate=1mbit", NULL}, -EINVAL, "tbf needs rate and burst"},
      {"tbf", (const char *const[]){"rate=1mbit", "burst=10k", "limit=1", "latency=1ms", NULL},
       -EINVAL, "either latency or limit"},
      {"tbf", (const char *const[]){"rate=1mbit", "burst=10k", "limit=1", "peakrate=2mbit", NULL},
       -EINVAL, "peakrate needs mtu"},
      {"netem", (const char *const[]){"jitter=1ms", NULL}, -EINVAL, "jitter needs delay"},
      {"netem", (const char *const[]){"reorder=5", NULL}, -EINVAL, "reorder needs delay"},
      {"netem", (const char *const[]){"gap=5", "delay=1ms", NULL}, -EINVAL, "gap needs reorder"},
      {"netem", (const char *const[]){"delay=300s", NULL}, -ERANGE, "psched ticks"},
      {"fq", (const char *const[]){"maxrate=40gbit", NULL}, -ERANGE, "rate above 34.3gbit"},
      {"prio", (const char *const[]){"bands=2", "priomap=1,2", NULL}, -ERANGE, "beyond the 2 bands"},
      {"sfq", (const char *const[]){"limit=1", NULL}, -ERANGE, "limit below 2"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    const struct cnet_tc_kind *k = cnet_tc_kind_find(cases[i].kind, 0);
    struct cnet_tc_opts o;
    memset(&o, 0, sizeof o);
    for (const char *const *p = cases[i].opts; *p; p++) {
      char name[64];
      const char *eq = strchr(*p, '=');
      snprintf(name, sizeof name, "%.*s", (int)(eq - *p), *p);
      int f = cnet_tc_kind_field(k, name);
      const struct cnet_tc_field *fd = cnet_tc_kind_field_at(k, (unsigned)f);
      if (fd->type == CNET_TC_RATE) cnet_tc_parse_rate(eq + 1, &o.v[f]);
      else if (fd->type == CNET_TC_SIZE) cnet_tc_parse_size(eq + 1, &o.v[f]);
      else if (fd->type == CNET_TC_TIME) cnet_tc_parse_time(eq + 1, &o.v[f]);
      else if (fd->type == CNET_TC_PERCENT) cnet_tc_parse_percent(eq + 1, &o.v[f]);
      else if (fd->type == CNET_TC_LIST) {
        for (const char *q = eq + 1; *q; q++)
          if (*q != ',') o.list[o.nlist++] = (uint8_t)(*q - '0');
      } else o.v[f] = (struct cnet_tc_num){strtod(eq + 1, NULL), 1};
      o.given |= 1u << f;
    }
    memset(buf, 0, sizeof buf);
    struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
    nlh->nlmsg_type = RTM_NEWQDISC;
    struct cnet_tc_req req = {3, 0, CNET_TC_ROOT, k, &o};
    char err[CNET_ERRMSG_MAX] = "";
    int rc = cnet_tc_build(nlh, sizeof buf - nlh->nlmsg_len, &req, err);
    CHECK(rc == cases[i].rc && strstr(err, cases[i].why) != NULL, "%s case %zu: %d \"%s\"",
          cases[i].kind, i, rc, err);
  }
}

int main(void) {
  test_notation();
  test_handles();
  test_ticks();
  test_kinds();
  test_refusals();
  if (failures) fprintf(stderr, "%d failures\n", failures);
  return failures != 0;
}
