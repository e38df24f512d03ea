/* The rule decoder: libnftnl expressions (as the kernel lists them) -> nft's canonical text. */
#define _GNU_SOURCE
#include "nft/nftrule_int.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_nat.h>
#include <linux/netfilter/nf_tables.h>
#include <libnftnl/expr.h>
#include <libnftnl/rule.h>
#include <libnftnl/set.h>
#include <libnftnl/udata.h>

#define STMT_MAX 640

struct dstmt {
  char text[STMT_MAX];
  char *big;                   /* instead of text when it may not fit (an anonymous set) */
  int dep_l3, dep_l4;          /* this is "meta nfproto X" / "meta l4proto X" (eq), or 0/-1 */
  uint32_t need_l3;            /* a field of this network header */
  int need_l4;                 /* a field of this transport header, or 0 */
  int hidden;
};

struct dc {
  const struct cnet_nftrule_denv *env;
  int family;
  struct nftnl_expr **ex;
  int n, i;
  struct dstmt *st;
  int nst;
  uint32_t l3;                 /* network protocol known from the table or a match */
  int l4;
  uint8_t reg[8][16];
  uint32_t reglen[8];
  char bad[96];                /* the unsupported expression, for the error */
};

static const char *ename(const struct nftnl_expr *e) { return nftnl_expr_get_str(e, NFTNL_EXPR_NAME); }
static int is(const struct nftnl_expr *e, const char *name) {
  return e != NULL && strcmp(ename(e), name) == 0;
}
static struct nftnl_expr *peek(struct dc *d, int k) {
  return d->i + k < d->n ? d->ex[d->i + k] : NULL;
}
static uint32_t u32(const struct nftnl_expr *e, uint16_t a) {
  return nftnl_expr_is_set(e, a) ? nftnl_expr_get_u32(e, a) : 0;
}
static const uint8_t *data(const struct nftnl_expr *e, uint16_t a, uint32_t *len) {
  *len = 0;
  return nftnl_expr_is_set(e, a) ? nftnl_expr_get(e, a, len) : NULL;
}

static int unsupported(struct dc *d, const char *what) {
  snprintf(d->bad, sizeof d->bad, "%s", what);
  return -EOPNOTSUPP;
}

static struct dstmt *new_stmt(struct dc *d) {
  struct dstmt *s = &d->st[d->nst++];
  memset(s, 0, sizeof *s);
  s->dep_l4 = -1;
  return s;
}

/* ---- values ---- */

static void print_ifname(const uint8_t *v, uint32_t len, char *buf, size_t size) {
  char name[17] = {0};
  memcpy(name, v, len > 16 ? 16 : len);
  if (len < 16) snprintf(buf, size, "\"%s*\"", name);
  else snprintf(buf, size, "\"%s\"", name);
}

static void print_value(struct dc *d, const struct field *f, const uint8_t *v, uint32_t len,
                        char *buf, size_t size) {
  if (f->kind == FK_IFNAME) { print_ifname(v, len, buf, size); return; }
  if (f->kind == FK_IFINDEX) {
    uint32_t idx;
    char name[64];
    memcpy(&idx, v, 4);
    if (d->env && d->env->ifname && d->env->ifname(d->env->ud, idx, name, sizeof name) == 0)
      snprintf(buf, size, "\"%s\"", name);
    else
      snprintf(buf, size, "%u", idx);
    return;
  }
  uint8_t full[16] = {0};
  memcpy(full, v, len > 16 ? 16 : len);
  nftrule_value_print(f, full, buf, size);
}

/* Prefix length of a mask (contiguous ones from the top), -1 if not a prefix mask. */
static int mask_plen(const uint8_t *m, uint32_t len) {
  int plen = 0, zero = 0;
  for (uint32_t b = 0; b < len * 8; b++) {
    int on = (m[b / 8] >> (7 - b % 8)) & 1;
    if (on && zero) return -1;
    if (on) plen++;
    else zero = 1;
  }
  return plen;
}

/* [lo, hi] is exactly a prefix: the plen, else -1 */
static int range_plen(const uint8_t *lo, const uint8_t *hi, uint32_t len) {
  uint8_t m[16];
  for (uint32_t j = 0; j < len; j++) m[j] = (uint8_t)~(lo[j] ^ hi[j]);
  int p = mask_plen(m, len);
  if (p < 0) return -1;
  for (uint32_t b = (uint32_t)p; b < len * 8; b++) {
    int l = (lo[b / 8] >> (7 - b % 8)) & 1, h = (hi[b / 8] >> (7 - b % 8)) & 1;
    if (l != 0 || h != 1) return -1;
  }
  return p;
}

static void print_range(struct dc *d, const struct field *f, const uint8_t *lo,
                        const uint8_t *hi, char *buf, size_t size) {
  char a[64], b[64];
  int p = (f->kind == FK_IP4 || f->kind == FK_IP6) ? range_plen(lo, hi, f->len) : -1;
  print_value(d, f, lo, f->len, a, sizeof a);
  if (memcmp(lo, hi, f->len) == 0) snprintf(buf, size, "%s", a);
  else if (p > 0) snprintf(buf, size, "%s/%d", a, p);
  else {
    print_value(d, f, hi, f->len, b, sizeof b);
    snprintf(buf, size, "%s-%s", a, b);
  }
}

struct kelem { uint8_t key[16]; int end; };
static int kelem_cmp(const void *a, const void *b) {
  const struct kelem *x = a, *y = b;
  int c = memcmp(x->key, y->key, 16);
  return c ? c : x->end - y->end;
}

/* "{ a, b-c, d/24 }" from an anonymous set's elements */
static int print_set(struct dc *d, const struct field *f, const char *name, struct sbuf *out) {
  const struct nftnl_set *s = d->env && d->env->find_set ? d->env->find_set(d->env->ud, name) : NULL;
  if (s == NULL) {
    snprintf(d->bad, sizeof d->bad, "anonymous set %s (not found)", name);
    return -ENOENT;
  }
  int interval = nftnl_set_is_set(s, NFTNL_SET_FLAGS) &&
                 (nftnl_set_get_u32(s, NFTNL_SET_FLAGS) & NFT_SET_INTERVAL);
  unsigned n = 0, cap = 16;
  struct kelem *k = malloc(cap * sizeof *k);
  if (k == NULL) return -ENOMEM;
  struct nftnl_set_elems_iter *it = nftnl_set_elems_iter_create((struct nftnl_set *)s);
  if (it == NULL) { free(k); return -ENOMEM; }
  for (struct nftnl_set_elem *e = nftnl_set_elems_iter_next(it); e; e = nftnl_set_elems_iter_next(it)) {
    uint32_t len = 0;
    const void *key = nftnl_set_elem_get(e, NFTNL_SET_ELEM_KEY, &len);
    if (key == NULL || len != f->len) continue;
    if (n == cap) {
      struct kelem *nk = realloc(k, 2 * cap * sizeof *k);
      if (nk == NULL) { nftnl_set_elems_iter_destroy(it); free(k); return -ENOMEM; }
      k = nk;
      cap *= 2;
    }
    memset(&k[n], 0, sizeof k[n]);
    memcpy(k[n].key, key, len);
    k[n].end = nftnl_set_elem_is_set(e, NFTNL_SET_ELEM_FLAGS) &&
               (nftnl_set_elem_get_u32(e, NFTNL_SET_ELEM_FLAGS) & NFT_SET_ELEM_INTERVAL_END);
    n++;
  }
  nftnl_set_elems_iter_destroy(it);
  if (n == 0) {  /* an anonymous set always has elements: these were not listed */
    free(k);
    snprintf(d->bad, sizeof d->bad, "anonymous set %s (no elements listed)", name);
    return -ENOENT;
  }
  qsort(k, n, sizeof *k, kelem_cmp);
  sb_add(out, "{ ");
  int first = 1;
  char buf[160];
  for (unsigned j = 0; j < n; j++) {
    if (k[j].end) continue;
    uint8_t hi[16];
    memcpy(hi, k[j].key, 16);
    if (interval) {
      /* the interval runs to just below the next element (an end, or the next start) */
      if (j + 1 < n) {
        memcpy(hi, k[j + 1].key, 16);
        for (unsigned b = f->len; b-- > 0;)
          if (hi[b]-- != 0) break;
      } else {
        memset(hi, 0xff, f->len);
      }
    }
    print_range(d, f, k[j].key, hi, buf, sizeof buf);
    sb_add(out, "%s%s", first ? "" : ", ", buf);
    first = 0;
  }
  sb_add(out, " }");
  free(k);
  return 0;
}

/* ---- matches ---- */

/* After a load of field f (len bytes at the field's start) at d->i: the comparison. */
/* Every load and comparison of the subset works on register 1, as nft emits them. */
static int reg1(const struct nftnl_expr *e) {
  static const struct { const char *name; uint16_t attr; } regs[] = {
    {"payload", NFTNL_EXPR_PAYLOAD_DREG}, {"meta", NFTNL_EXPR_META_DREG},
    {"ct", NFTNL_EXPR_CT_DREG}, {"cmp", NFTNL_EXPR_CMP_SREG},
    {"range", NFTNL_EXPR_RANGE_SREG}, {"bitwise", NFTNL_EXPR_BITWISE_SREG}, {NULL, 0}};
  if (e == NULL) return 1;
  for (int j = 0; regs[j].name; j++)
    if (is(e, regs[j].name)) return u32(e, regs[j].attr) == NFT_REG_1;
  return 1;
}

static int dec_compare(struct dc *d, const struct field *f, uint32_t len) {
  struct nftnl_expr *e = peek(d, 1);
  if (!reg1(peek(d, 0)) || !reg1(e) || (is(e, "bitwise") && u32(e, NFTNL_EXPR_BITWISE_DREG) != NFT_REG_1))
    return unsupported(d, "expression on a register other than 1");
  int plen = len < f->len ? (int)len * 8 : -1, rc;
  uint32_t l;
  char val[160], val2[160];
  struct dstmt *s;
  if (is(e, "bitwise") && len == f->len && f->kind != FK_CTSTATE) {
    uint32_t xl;
    const uint8_t *m = data(e, NFTNL_EXPR_BITWISE_MASK, &l), *x = data(e, NFTNL_EXPR_BITWISE_XOR, &xl);
    static const uint8_t zero[16];
    if (m == NULL || l != f->len || (x && memcmp(x, zero, xl) != 0) ||
        (f->kind != FK_IP4 && f->kind != FK_IP6) || (plen = mask_plen(m, l)) <= 0)
      return unsupported(d, "bitwise");
    d->i++;
    e = peek(d, 1);
  }
  if (is(e, "cmp")) {
    uint32_t op = u32(e, NFTNL_EXPR_CMP_OP);
    if (!reg1(e)) return unsupported(d, "cmp on a register other than 1");
    const uint8_t *v = data(e, NFTNL_EXPR_CMP_DATA, &l);
    struct nftnl_expr *e2 = peek(d, 2);
    if (v == NULL) return unsupported(d, "cmp");
    if (op == NFT_CMP_GTE && is(e2, "cmp") && u32(e2, NFTNL_EXPR_CMP_OP) == NFT_CMP_LTE &&
        plen < 0) {
      uint32_t l2;
      const uint8_t *v2 = data(e2, NFTNL_EXPR_CMP_DATA, &l2);
      if (v2 == NULL || l != f->len || l2 != f->len) return unsupported(d, "cmp");
      print_value(d, f, v, l, val, sizeof val);
      print_value(d, f, v2, l2, val2, sizeof val2);
      s = new_stmt(d);
      snprintf(s->text, sizeof s->text, "%s %s-%s", f->name, val, val2);
      d->i += 3;
      goto meta;
    }
    if (op != NFT_CMP_EQ && op != NFT_CMP_NEQ) return unsupported(d, "cmp (ordering)");
    if (f->kind == FK_IFNAME ? l > 16 : (plen < 0 ? l != f->len : l != (plen > 0 && len < f->len ? len : f->len)))
      return unsupported(d, "cmp (length)");
    print_value(d, f, v, l, val, sizeof val);
    s = new_stmt(d);
    if (plen >= 0)
      snprintf(s->text, sizeof s->text, "%s %s%s/%d", f->name, op == NFT_CMP_NEQ ? "!= " : "", val, plen);
    else
      snprintf(s->text, sizeof s->text, "%s %s%s", f->name, op == NFT_CMP_NEQ ? "!= " : "", val);
    if (op == NFT_CMP_EQ && plen < 0 && f->kind == FK_NFPROTO) {
      s->dep_l3 = v[0];
      d->l3 = v[0];
    }
    if (op == NFT_CMP_EQ && plen < 0 && f->kind == FK_PROTO) {
      s->dep_l4 = v[0];
      d->l4 = v[0];
    }
    d->i += 2;
    goto meta;
  }
  if (plen >= 0) return unsupported(d, "prefix without cmp");
  if (is(e, "range")) {
    uint32_t op = u32(e, NFTNL_EXPR_RANGE_OP), l2;
    const uint8_t *lo = data(e, NFTNL_EXPR_RANGE_FROM_DATA, &l), *hi = data(e, NFTNL_EXPR_RANGE_TO_DATA, &l2);
    if (lo == NULL || hi == NULL || l != f->len || l2 != f->len) return unsupported(d, "range");
    print_value(d, f, lo, l, val, sizeof val);
    print_value(d, f, hi, l2, val2, sizeof val2);
    s = new_stmt(d);
    snprintf(s->text, sizeof s->text, "%s %s%s-%s", f->name, op == NFT_RANGE_NEQ ? "!= " : "", val, val2);
    d->i += 2;
    goto meta;
  }
  if (is(e, "lookup")) {
    const char *set = nftnl_expr_get_str(e, NFTNL_EXPR_LOOKUP_SET);
    int neg = (u32(e, NFTNL_EXPR_LOOKUP_FLAGS) & NFT_LOOKUP_F_INV) != 0;
    if (set == NULL || nftnl_expr_is_set(e, NFTNL_EXPR_LOOKUP_DREG)) return unsupported(d, "lookup (map)");
    if (f->kind != FK_IP4 && f->kind != FK_IP6 && f->kind != FK_PORT && f->kind != FK_PROTO &&
        f->kind != FK_ICMPTYPE && !(f->kind == FK_MARK && strncmp(set, "__set", 5) != 0))
      return unsupported(d, "lookup (set of this type)");
    if (u32(e, NFTNL_EXPR_LOOKUP_SREG) != NFT_REG_1) return unsupported(d, "lookup (register)");
    s = new_stmt(d);
    struct sbuf b = {NULL, 0, 0, 0, 1}; /* a set of any size is listed whole */
    sb_add(&b, "%s %s", f->name, neg ? "!= " : "");
    rc = 0;
    if (strncmp(set, "__set", 5) == 0) rc = print_set(d, f, set, &b);
    else sb_add(&b, "@%s", set);
    if (rc == 0 && b.overflow) rc = -ENOMEM;
    if (rc < 0) {
      free(b.p);
      d->nst--;
      return rc;
    }
    s->big = b.p;
    d->i += 2;
    goto meta;
  }
  return unsupported(d, e ? ename(e) : "load without comparison");
meta:
  s->need_l3 = f->l3;
  s->need_l4 = (int)f->l4;
  return 0;
}

/* A payload load of several adjacent fields compared at once (nft merges "tcp sport 1 tcp
 * dport 2" this way): split it back. */
static int dec_merged(struct dc *d, uint32_t base, uint32_t off, uint32_t len) {
  struct nftnl_expr *e = peek(d, 1);
  uint32_t l;
  const uint8_t *v = is(e, "cmp") ? data(e, NFTNL_EXPR_CMP_DATA, &l) : NULL;
  if (v == NULL || u32(e, NFTNL_EXPR_CMP_OP) != NFT_CMP_EQ || l != len)
    return unsupported(d, "payload");
  uint32_t at = 0;
  while (at < len) {
    const struct field *f = nftrule_field_payload(base, off + at, d->l3, (uint32_t)d->l4);
    if (f == NULL || at + f->len > len) return unsupported(d, "payload (merged)");
    struct dstmt *s = new_stmt(d);
    char val[160];
    print_value(d, f, v + at, f->len, val, sizeof val);
    snprintf(s->text, sizeof s->text, "%s %s", f->name, val);
    s->need_l3 = f->l3;
    s->need_l4 = (int)f->l4;
    at += f->len;
  }
  d->i += 2;
  return 0;
}

static int dec_payload(struct dc *d, struct nftnl_expr *e) {
  uint32_t base = u32(e, NFTNL_EXPR_PAYLOAD_BASE), off = u32(e, NFTNL_EXPR_PAYLOAD_OFFSET),
           len = u32(e, NFTNL_EXPR_PAYLOAD_LEN);
  if (nftnl_expr_is_set(e, NFTNL_EXPR_PAYLOAD_SREG)) return unsupported(d, "payload set");
  if (base == NFT_PAYLOAD_NETWORK_HEADER && d->l3 == 0) return unsupported(d, "payload (network header of unknown protocol)");
  if (base == NFT_PAYLOAD_TRANSPORT_HEADER && d->l4 < 0) return unsupported(d, "payload (transport header of unknown protocol)");
  const struct field *f = nftrule_field_payload(base, off, d->l3, d->l4 < 0 ? 0 : (uint32_t)d->l4);
  if (f == NULL) return unsupported(d, "payload");
  if (len > f->len) return dec_merged(d, base, off, len);
  return dec_compare(d, f, len);
}

static const char *const ct_names[] = {"invalid", "established", "related", "new", NULL};
static const uint32_t ct_bits[] = {1, 2, 4, 8};

static int ct_list(uint32_t bits, const char *sep, char *buf, size_t size) {
  struct sbuf b = {buf, size, 0, 0, 0};
  buf[0] = 0;
  int first = 1;
  for (int j = 0; ct_names[j]; j++)
    if (bits & ct_bits[j]) {
      sb_add(&b, "%s%s", first ? "" : sep, ct_names[j]);
      first = 0;
      bits &= ~ct_bits[j];
    }
  if (bits & 64) { sb_add(&b, "%s%s", first ? "" : sep, "untracked"); bits &= ~64u; first = 0; }
  return bits || first ? -1 : 0;
}

static int dec_ct(struct dc *d, struct nftnl_expr *e) {
  if (u32(e, NFTNL_EXPR_CT_KEY) != NFT_CT_STATE || nftnl_expr_is_set(e, NFTNL_EXPR_CT_DIR) ||
      nftnl_expr_is_set(e, NFTNL_EXPR_CT_SREG))
    return unsupported(d, "ct");
  struct nftnl_expr *a = peek(d, 1), *b = peek(d, 2);
  uint32_t l, bits, zero = 0;
  const uint8_t *v;
  char names[128];
  struct dstmt *s;
  if (is(a, "bitwise") && is(b, "cmp") && u32(b, NFTNL_EXPR_CMP_OP) == NFT_CMP_NEQ) {
    const uint8_t *m = data(a, NFTNL_EXPR_BITWISE_MASK, &l);
    uint32_t l2;
    v = data(b, NFTNL_EXPR_CMP_DATA, &l2);
    if (m == NULL || l != 4 || v == NULL || l2 != 4 || memcmp(v, &zero, 4) != 0)
      return unsupported(d, "ct state");
    memcpy(&bits, m, 4);
    if (ct_list(bits, ",", names, sizeof names) < 0) return unsupported(d, "ct state");
    s = new_stmt(d);
    snprintf(s->text, sizeof s->text, "ct state %s", names);
    d->i += 3;
    return 0;
  }
  if (is(a, "cmp") && (v = data(a, NFTNL_EXPR_CMP_DATA, &l)) != NULL && l == 4) {
    uint32_t op = u32(a, NFTNL_EXPR_CMP_OP);
    memcpy(&bits, v, 4);
    if ((op != NFT_CMP_EQ && op != NFT_CMP_NEQ) || ct_list(bits, " | ", names, sizeof names) < 0)
      return unsupported(d, "ct state");
    s = new_stmt(d);
    snprintf(s->text, sizeof s->text, "ct state %s%s", op == NFT_CMP_NEQ ? "!= " : "", names);
    d->i += 2;
    return 0;
  }
  return unsupported(d, "ct state");
}

static int dec_meta(struct dc *d, struct nftnl_expr *e) {
  uint32_t key = u32(e, NFTNL_EXPR_META_KEY);
  if (nftnl_expr_is_set(e, NFTNL_EXPR_META_SREG)) {
    uint32_t r = u32(e, NFTNL_EXPR_META_SREG), m;
    if (key != NFT_META_MARK || r >= 8 || d->reglen[r] != 4) return unsupported(d, "meta set");
    memcpy(&m, d->reg[r], 4);
    snprintf(new_stmt(d)->text, STMT_MAX, "meta mark set 0x%08x", m);
    d->i++;
    return 0;
  }
  const struct field *f = nftrule_field_meta(key);
  if (f == NULL) return unsupported(d, "meta");
  return dec_compare(d, f, f->len);
}

/* ---- statements ---- */

static int port_text(struct dc *d, uint32_t rmin, uint32_t rmax, char *buf, size_t size) {
  uint16_t lo, hi;
  if (rmin >= 8 || d->reglen[rmin] != 2) return -1;
  memcpy(&lo, d->reg[rmin], 2);
  hi = lo;
  if (rmax != 0 && rmax != rmin) {
    if (rmax >= 8 || d->reglen[rmax] != 2) return -1;
    memcpy(&hi, d->reg[rmax], 2);
  }
  if (hi == lo) snprintf(buf, size, ":%u", ntohs(lo));
  else snprintf(buf, size, ":%u-%u", ntohs(lo), ntohs(hi));
  return 0;
}

static int dec_nat(struct dc *d, struct nftnl_expr *e) {
  uint32_t type = u32(e, NFTNL_EXPR_NAT_TYPE), fam = u32(e, NFTNL_EXPR_NAT_FAMILY);
  uint32_t amin = u32(e, NFTNL_EXPR_NAT_REG_ADDR_MIN), amax = u32(e, NFTNL_EXPR_NAT_REG_ADDR_MAX);
  uint32_t pmin = u32(e, NFTNL_EXPR_NAT_REG_PROTO_MIN), pmax = u32(e, NFTNL_EXPR_NAT_REG_PROTO_MAX);
  uint32_t flags = u32(e, NFTNL_EXPR_NAT_FLAGS);
  uint32_t alen = fam == NFPROTO_IPV4 ? 4 : 16;
  if ((fam != NFPROTO_IPV4 && fam != NFPROTO_IPV6) || amin == 0 || amin >= 8 ||
      d->reglen[amin] != alen || (flags & ~(uint32_t)(NF_NAT_RANGE_MAP_IPS | NF_NAT_RANGE_PROTO_SPECIFIED)))
    return unsupported(d, "nat");
  if (amax != 0 && amax != amin &&
      (amax >= 8 || d->reglen[amax] != alen || memcmp(d->reg[amax], d->reg[amin], alen) != 0))
    return unsupported(d, "nat (address range)");
  char addr[64], port[32] = "";
  inet_ntop(fam == NFPROTO_IPV4 ? AF_INET : AF_INET6, d->reg[amin], addr, sizeof addr);
  if (pmin != 0 && port_text(d, pmin, pmax, port, sizeof port) < 0) return unsupported(d, "nat");
  struct dstmt *s = new_stmt(d);
  snprintf(s->text, sizeof s->text, "%s%s to %s%s%s%s", type == NFT_NAT_DNAT ? "dnat" : "snat",
           d->family == NFPROTO_INET ? (fam == NFPROTO_IPV4 ? " ip" : " ip6") : "",
           fam == NFPROTO_IPV6 && pmin ? "[" : "", addr, fam == NFPROTO_IPV6 && pmin ? "]" : "",
           port);
  d->i++;
  return 0;
}

static int dec_masq_redir(struct dc *d, struct nftnl_expr *e, int redir) {
  uint32_t pmin = u32(e, redir ? NFTNL_EXPR_REDIR_REG_PROTO_MIN : NFTNL_EXPR_MASQ_REG_PROTO_MIN);
  uint32_t pmax = u32(e, redir ? NFTNL_EXPR_REDIR_REG_PROTO_MAX : NFTNL_EXPR_MASQ_REG_PROTO_MAX);
  uint32_t flags = u32(e, redir ? NFTNL_EXPR_REDIR_FLAGS : NFTNL_EXPR_MASQ_FLAGS);
  char port[32] = "";
  if (flags & ~(uint32_t)NF_NAT_RANGE_PROTO_SPECIFIED) return unsupported(d, redir ? "redir" : "masq");
  if (pmin != 0 && port_text(d, pmin, pmax, port, sizeof port) < 0)
    return unsupported(d, redir ? "redir" : "masq");
  snprintf(new_stmt(d)->text, STMT_MAX, "%s%s%s", redir ? "redirect" : "masquerade",
           pmin ? " to " : "", port);
  d->i++;
  return 0;
}

static int dec_immediate(struct dc *d, struct nftnl_expr *e) {
  uint32_t reg = u32(e, NFTNL_EXPR_IMM_DREG);
  if (reg == NFT_REG_VERDICT) {
    int v = (int)u32(e, NFTNL_EXPR_IMM_VERDICT);
    const char *chain = nftnl_expr_get_str(e, NFTNL_EXPR_IMM_CHAIN);
    struct dstmt *s;
    switch (v) {
    case NF_ACCEPT: snprintf(new_stmt(d)->text, STMT_MAX, "accept"); break;
    case NF_DROP: snprintf(new_stmt(d)->text, STMT_MAX, "drop"); break;
    case NFT_RETURN: snprintf(new_stmt(d)->text, STMT_MAX, "return"); break;
    case NFT_JUMP:
    case NFT_GOTO:
      if (chain == NULL) return unsupported(d, "immediate (chain id)");
      s = new_stmt(d);
      snprintf(s->text, sizeof s->text, "%s %s", v == NFT_JUMP ? "jump" : "goto", chain);
      break;
    default: return unsupported(d, "immediate (verdict)");
    }
    d->i++;
    return 0;
  }
  uint32_t l;
  const uint8_t *v = data(e, NFTNL_EXPR_IMM_DATA, &l);
  if (reg >= 8 || v == NULL || l > 16) return unsupported(d, "immediate");
  memcpy(d->reg[reg], v, l);
  d->reglen[reg] = l;
  d->i++;
  return 0;
}

static int dec_limit(struct dc *d, struct nftnl_expr *e) {
  static const struct { uint64_t secs; const char *name; } units[] = {
    {1, "second"}, {60, "minute"}, {3600, "hour"}, {86400, "day"}, {604800, "week"}, {0, NULL}};
  uint64_t rate = nftnl_expr_get_u64(e, NFTNL_EXPR_LIMIT_RATE);
  uint64_t unit = nftnl_expr_get_u64(e, NFTNL_EXPR_LIMIT_UNIT);
  const char *uname = NULL;
  for (int j = 0; units[j].name; j++)
    if (units[j].secs == unit) uname = units[j].name;
  if (uname == NULL || u32(e, NFTNL_EXPR_LIMIT_TYPE) != NFT_LIMIT_PKTS ||
      u32(e, NFTNL_EXPR_LIMIT_FLAGS) != 0 || u32(e, NFTNL_EXPR_LIMIT_BURST) != 5)
    return unsupported(d, "limit (burst, bytes, over)");
  snprintf(new_stmt(d)->text, STMT_MAX, "limit rate %llu/%s", (unsigned long long)rate, uname);
  d->i++;
  return 0;
}

static int dec_log(struct dc *d, struct nftnl_expr *e) {
  if (nftnl_expr_is_set(e, NFTNL_EXPR_LOG_GROUP) || nftnl_expr_is_set(e, NFTNL_EXPR_LOG_SNAPLEN) ||
      nftnl_expr_is_set(e, NFTNL_EXPR_LOG_QTHRESHOLD) || u32(e, NFTNL_EXPR_LOG_FLAGS) != 0 ||
      (nftnl_expr_is_set(e, NFTNL_EXPR_LOG_LEVEL) && u32(e, NFTNL_EXPR_LOG_LEVEL) != 4))
    return unsupported(d, "log (options)");
  struct dstmt *s = new_stmt(d);
  if (nftnl_expr_is_set(e, NFTNL_EXPR_LOG_PREFIX))
    snprintf(s->text, sizeof s->text, "log prefix \"%s\"", nftnl_expr_get_str(e, NFTNL_EXPR_LOG_PREFIX));
  else
    snprintf(s->text, sizeof s->text, "log");
  d->i++;
  return 0;
}

static int dec_reject(struct dc *d, struct nftnl_expr *e) {
  uint32_t type = u32(e, NFTNL_EXPR_REJECT_TYPE);
  uint8_t code = nftnl_expr_is_set(e, NFTNL_EXPR_REJECT_CODE) ? nftnl_expr_get_u8(e, NFTNL_EXPR_REJECT_CODE) : 0;
  int ok = (d->family == NFPROTO_IPV4 && type == NFT_REJECT_ICMP_UNREACH && code == 3) ||
           (d->family == NFPROTO_IPV6 && type == NFT_REJECT_ICMP_UNREACH && code == 4) ||
           (d->family == NFPROTO_INET && type == NFT_REJECT_ICMPX_UNREACH &&
            code == NFT_REJECT_ICMPX_PORT_UNREACH);
  if (!ok) return unsupported(d, "reject (with)");
  snprintf(new_stmt(d)->text, STMT_MAX, "reject");
  d->i++;
  return 0;
}

static int dec_one(struct dc *d) {
  struct nftnl_expr *e = d->ex[d->i];
  const char *n = ename(e);
  if (strcmp(n, "meta") == 0) return dec_meta(d, e);
  if (strcmp(n, "payload") == 0) return dec_payload(d, e);
  if (strcmp(n, "ct") == 0) return dec_ct(d, e);
  if (strcmp(n, "immediate") == 0) return dec_immediate(d, e);
  if (strcmp(n, "counter") == 0) {
    snprintf(new_stmt(d)->text, STMT_MAX, "counter packets %llu bytes %llu",
             (unsigned long long)nftnl_expr_get_u64(e, NFTNL_EXPR_CTR_PACKETS),
             (unsigned long long)nftnl_expr_get_u64(e, NFTNL_EXPR_CTR_BYTES));
    d->i++;
    return 0;
  }
  if (strcmp(n, "log") == 0) return dec_log(d, e);
  if (strcmp(n, "limit") == 0) return dec_limit(d, e);
  if (strcmp(n, "reject") == 0) return dec_reject(d, e);
  if (strcmp(n, "nat") == 0) return dec_nat(d, e);
  if (strcmp(n, "masq") == 0) return dec_masq_redir(d, e, 0);
  if (strcmp(n, "redir") == 0) return dec_masq_redir(d, e, 1);
  return unsupported(d, n);
}

/* nft hides the protocol matches it adds itself: "meta nfproto ipv4" right before an ip
 * header match (inet tables), "meta l4proto tcp" / "ip protocol tcp" right before a tcp
 * header match. */
static void hide_deps(struct dc *d) {
  for (int j = 0; j < d->nst; j++) {
    struct dstmt *s = &d->st[j];
    int p = j - 1;
    if (s->need_l4 && p >= 0 && d->st[p].dep_l4 == s->need_l4) {
      d->st[p].hidden = 1;
      if (d->st[p].need_l3 == L3_IP4 && p - 1 >= 0 && d->st[p - 1].dep_l3 == L3_IP4)
        d->st[p - 1].hidden = 1;   /* "ip protocol tcp" had its own nfproto dependency */
      p--;
      if (p >= 0 && d->st[p].hidden) p--;
    }
    if (s->need_l3 && p >= 0 && !d->st[p].hidden && d->st[p].dep_l3 == (int)s->need_l3)
      d->st[p].hidden = 1;
  }
}

/* The rule's user data: nft keeps a comment there. Anything else is not ours to print. */
struct udctx { const char *comment; int other; };
static int ud_cb(const struct nftnl_udata *a, void *data) {
  struct udctx *u = data;
  const char *v = nftnl_udata_get(a);
  uint8_t len = nftnl_udata_len(a);
  if (nftnl_udata_type(a) == NFTNL_UDATA_RULE_COMMENT && len > 0 && v[len - 1] == 0)
    u->comment = v;
  else
    u->other = 1;
  return 0;
}

int cnet_nftrule_decode(const struct nftnl_rule *r, const struct cnet_nftrule_denv *env,
                        char *buf, size_t size, struct cnet_nftrule_err *err) {
  struct dc d = {.env = env, .l4 = -1};
  if (err) { err->column = 0; err->msg[0] = 0; }
  if (size > 0) buf[0] = 0;
  d.family = env ? env->family : NFPROTO_INET;
  if (d.family == NFPROTO_IPV4) d.l3 = L3_IP4;
  if (d.family == NFPROTO_IPV6) d.l3 = L3_IP6;
  struct nftnl_expr_iter *it = nftnl_expr_iter_create(r);
  if (it == NULL) return -ENOMEM;
  int cap = 16, rc = 0;
  d.ex = malloc((size_t)cap * sizeof *d.ex);
  for (struct nftnl_expr *e = nftnl_expr_iter_next(it); e && d.ex; e = nftnl_expr_iter_next(it)) {
    if (d.n == cap) {
      struct nftnl_expr **ne = realloc(d.ex, (size_t)(cap *= 2) * sizeof *ne);
      if (ne == NULL) { free(d.ex); d.ex = NULL; break; }
      d.ex = ne;
    }
    d.ex[d.n++] = e;
  }
  nftnl_expr_iter_destroy(it);
  if (d.ex == NULL) return -ENOMEM;
  /* a merged payload can yield several statements per expression */
  d.st = calloc((size_t)d.n * 4 + 1, sizeof *d.st);
  if (d.st == NULL) { free(d.ex); return -ENOMEM; }
  while (d.i < d.n && rc == 0) rc = dec_one(&d);
  hide_deps(&d);
  struct sbuf b = {buf, size, 0, 0, 0};
  int first = 1;
  for (int j = 0; j < d.nst; j++)
    if (!d.st[j].hidden) {
      sb_add(&b, "%s%s", first ? "" : " ", d.st[j].big ? d.st[j].big : d.st[j].text);
      first = 0;
    }
  if (rc == 0 && nftnl_rule_is_set(r, NFTNL_RULE_USERDATA)) {
    uint32_t ulen = 0;
    const void *ud = nftnl_rule_get_data(r, NFTNL_RULE_USERDATA, &ulen);
    struct udctx u = {NULL, 0};
    if (ud == NULL || nftnl_udata_parse(ud, ulen, ud_cb, &u) < 0 || u.other) {
      rc = unsupported(&d, "rule user data");
    } else if (u.comment) {
      sb_add(&b, "%scomment \"%s\"", first ? "" : " ", u.comment);
      first = 0;
    }
  }
  if (rc < 0 && d.bad[0]) sb_add(&b, "%s<%s>", first ? "" : " ", d.bad);
  if (rc < 0 && err)
    snprintf(err->msg, sizeof err->msg, "cannot decode expression %s: %s", d.bad,
             rc == -EOPNOTSUPP ? "outside cnet's rule subset" : strerror(-rc));
  for (int j = 0; j < d.nst; j++) free(d.st[j].big);
  free(d.st);
  free(d.ex);
  if (rc < 0) return rc;
  if (b.overflow) return -ENOSPC;
  return (int)b.len;
}
