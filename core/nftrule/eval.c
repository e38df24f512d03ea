/* Evaluation of expressions and matches, the way nft evaluates them: the types of both sides,
 * the protocol matches a header field depends on (added before the statement, as nft adds
 * them), bit fields, byte order conversions, and what a match tells about the protocols
 * that follow. */
#include "nftrule/nr_int.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>

static const char *base_name(int b) {
  return b == PB_LL ? "link layer" : b == PB_NH ? "network layer" : "transport layer";
}

struct nr_expr *nr_meta_new(struct nr_cc *c, uint32_t key, int tok) {
  const struct nr_key *k = nr_key_bynum(nr_meta_keys, key);
  struct nr_expr *e = nr_expr_new(c, X_META, tok);
  if (e == NULL || k == NULL) return NULL;
  e->u.key.k = k;
  e->u.key.dir = -1;
  e->type = k->type;
  e->order = k->order;
  e->bits = k->bits;
  return e;
}

static struct nr_expr *payload_new(struct nr_cc *c, const struct nr_proto *p, int fidx, int tok) {
  return nr_payload_new(c, p, &p->f[fidx], tok);
}

/* ---- protocol context ---- */

static int is_protocol_key(const struct nr_expr *e) {
  if (e->kind == X_PAYLOAD)
    return !e->u.pl.is_raw && e->u.pl.p && nr_field_is_protocol(e->u.pl.p, e->u.pl.f);
  if (e->kind == X_META)
    return e->u.key.k->key == NFT_META_L4PROTO || e->u.key.k->key == NFT_META_NFPROTO ||
           e->u.key.k->key == NFT_META_PROTOCOL || e->u.key.k->key == NFT_META_IIFTYPE;
  return 0;
}

static void update_one(struct nr_cc *c, const struct nr_expr *l, const struct nr_expr *v) {
  nr_pctx_learn(&c->pctx, c->family, l, nr_be_get(v->val, (v->bits + 7u) / 8));
}

/* What "lhs == value" (or a set of values) tells about the next protocol. */
void nr_pctx_update(struct nr_cc *c, const struct nr_expr *rel) {
  const struct nr_expr *l = rel->l, *r = rel->r;
  if (!is_protocol_key(l)) return;
  if (r->kind == X_VALUE) update_one(c, l, r);
  else if (r->kind == X_SET)
    for (int i = 0; i < r->n; i++)
      if (r->v[i]->kind == X_VALUE) update_one(c, l, r->v[i]);
}

/* ---- dependencies ---- */

/* Puts dependency s before the statement being evaluated (after earlier dependencies) and
 * evaluates it there. */
static int insert_dep(struct nr_cc *c, struct nr_stmt *s) {
  struct nr_stmt *cur = c->cur, *prev = c->cur_prev;
  s->dep = 1;
  s->next = cur;
  if (prev) prev->next = s;
  else c->first = s;
  c->cur = s;
  int rc = nr_eval_match(c, s);
  c->cur = cur;
  c->cur_prev = s;
  return rc;
}

/* Inserts "lhs == value" before the statement being evaluated, and evaluates it. */
int nr_add_dep(struct nr_cc *c, struct nr_expr *lhs, uint64_t value, int tok) {
  struct nr_stmt *s = nr_stmt_new(c, S_MATCH, tok);
  struct nr_expr *rel = nr_expr_new(c, X_BINOP, tok);
  struct nr_expr *v = nr_value_new(c, lhs->type, lhs->order, lhs->bits, tok);
  if (s == NULL || rel == NULL || v == NULL) return -ENOMEM;
  nr_be_put(v->val, (unsigned)(lhs->bits + 7) / 8, value);
  rel->op = OP_EQ;
  rel->l = lhs;
  rel->r = v;
  s->e = rel;
  return insert_dep(c, s);
}

/* The match naming protocol `upper` in the header `desc` (meta l4proto tcp, ether type ip). */
static int add_proto_dep(struct nr_cc *c, const struct nr_proto *desc,
                         const struct nr_proto *upper, int tok) {
  int64_t num = nr_proto_num(desc, upper);
  if (num < 0)
    return nr_fail(c, tok, -EINVAL, "conflicting protocols specified: %s vs. %s", desc->name,
                   upper->name);
  struct nr_expr *lhs;
  if (desc->key >= 0) lhs = payload_new(c, desc, desc->key, tok);
  else lhs = nr_meta_new(c, desc->key_meta, tok);
  if (lhs == NULL) return -ENOMEM;
  return nr_add_dep(c, lhs, (uint64_t)num, tok);
}

int nr_add_proto_dep(struct nr_cc *c, const struct nr_proto *desc,
                     const struct nr_proto *upper, int tok) {
  return add_proto_dep(c, desc, upper, tok);
}

static const struct nr_proto *family_ll(int family) {
  switch (family) {
  case NFPROTO_INET: return &nr_proto_inet;
  case NFPROTO_BRIDGE: return &nr_proto_eth;
  case NFPROTO_NETDEV: return &nr_proto_netdev;
  default: return NULL;
  }
}

static int iiftype_dep(struct nr_cc *c, const struct nr_proto *p, int tok) {
  if (p != &nr_proto_eth && nr_proto_num(&nr_proto_eth, p) < 0)
    return nr_fail(c, tok, -EINVAL, "protocol specification is invalid for this family");
  struct nr_expr *lhs = nr_meta_new(c, NFT_META_IIFTYPE, tok);
  if (lhs == NULL) return -ENOMEM;
  return nr_add_dep(c, lhs, 1 /* ARPHRD_ETHER */, tok);
}

/* nft's payload dependency: the protocol below must say that p follows. */
static int gen_dependency(struct nr_cc *c, const struct nr_proto *p, int tok) {
  int hb, base = p->base, rc;
  nr_family_proto(c->family, &hb);
  if (base < hb) {
    if (base < hb - 1) return nr_fail(c, tok, -EINVAL, "payload base is invalid for this family");
    return iiftype_dep(c, p, tok);
  }
  const struct nr_proto *desc = c->pctx.p[base - 1];
  if (desc == NULL) {
    if (base - 1 == PB_LL) {
      desc = family_ll(c->family);
    } else if (base == PB_TH) {
      if (p == &nr_proto_icmp || p == &nr_proto_icmp6 || p == &nr_proto_igmp) {
        const struct nr_proto *ll = c->pctx.p[PB_LL], *up;
        if (ll == NULL) ll = family_ll(c->family);
        if (ll != NULL) {
          up = p == &nr_proto_icmp6 ? &nr_proto_ip6 : &nr_proto_ip;
          if ((rc = add_proto_dep(c, ll, up, tok)) < 0) return rc;
          desc = up;
        }
      } else {
        desc = &nr_proto_inet_service;
      }
    }
  }
  if (desc == NULL)
    return nr_fail(c, tok, -EINVAL, "ambiguous payload specification: no %s protocol specified",
                   base_name(base - 1));
  if (c->family == NFPROTO_BRIDGE && desc == &nr_proto_eth &&
      (p == &nr_proto_ip || p == &nr_proto_ip6))
    desc = &nr_proto_netdev;  /* nft matches skb->protocol here, which sees through vlans */
  return add_proto_dep(c, desc, p, tok);
}

/* icmp fields that exist only for some message types: nft adds a type match. */
static int icmp_dep(struct nr_cc *c, struct nr_expr *e) {
  const struct nr_field *f = e->u.pl.f;
  static const int dep_type[] = {0, 8, 3, 5, 128, 2, 4, 130};
  int want = dep_type[f->icmp_dep];
  int echo = f->icmp_dep == 1 || f->icmp_dep == 4;
  int have = c->pctx.icmp_type;
  if (have == want || (f->icmp_dep == 4 && have == 129)) return 0;
  if (have)
    return nr_fail(c, e->tok, -EINVAL, "incompatible icmp match: rule has %d, need %d", have, want);
  struct nr_expr *lhs = payload_new(c, e->u.pl.p, 0, e->tok);
  if (lhs == NULL) return -ENOMEM;
  int rc;
  if (!echo) {
    rc = nr_add_dep(c, lhs, (uint64_t)want, e->tok);
  } else {
    /* "icmp type { echo-reply, echo-request }" */
    struct nr_expr *set = nr_expr_new(c, X_SET, e->tok);
    if (set == NULL) return -ENOMEM;
    set->v = nr_alloc(&c->arena, 2 * sizeof *set->v);
    if (set->v == NULL) return -ENOMEM;
    for (int k = 0; k < 2; k++) {
      struct nr_expr *v = nr_value_new(c, lhs->type, BO_BE, 8, e->tok);
      if (v == NULL) return -ENOMEM;
      v->val[0] = (uint8_t)(k == 0 ? want : want == 8 ? 0 : 129);
      set->v[set->n++] = v;
    }
    set->flags = XF_CONST;
    struct nr_stmt *s = nr_stmt_new(c, S_MATCH, e->tok);
    struct nr_expr *rel = nr_expr_new(c, X_BINOP, e->tok);
    if (s == NULL || rel == NULL) return -ENOMEM;
    rel->op = OP_IMPLICIT;
    rel->l = lhs;
    rel->r = set;
    s->e = rel;
    rc = insert_dep(c, s);
  }
  c->pctx.icmp_type = want;
  return rc;
}

static int payload_deps(struct nr_cc *c, struct nr_expr *e) {
  const struct nr_proto *p = e->u.pl.p;
  int base = p->base, rc;
  if (p == &nr_proto_th) return 0;  /* nft adds no dependency for th */
  const struct nr_proto *desc = c->pctx.p[base];
  if (desc == NULL) {
    if ((rc = gen_dependency(c, p, e->tok)) < 0) return rc;
    desc = c->pctx.p[base];
    if (desc == p) goto icmp;
    if (base == PB_LL && desc != NULL) {
      /* a stacked link layer header: ether type vlan */
      if (nr_proto_num(desc, p) < 0)
        return nr_fail(c, e->tok, -EINVAL, "conflicting protocols specified: %s vs. %s",
                       desc->name, p->name);
      if ((rc = add_proto_dep(c, desc, p, e->tok)) < 0) return rc;
      for (int i = 0; i < c->pctx.nstacked; i++) e->u.pl.off += c->pctx.stacked[i]->hdr_bits;
      return 0;
    }
  }
  if (base == PB_TH && desc != NULL && desc->base == base && c->pctx.nth > 1) {
    /* two transport protocols matched: a transport header field is ambiguous */
    for (int i = 0; i < c->pctx.nth; i++)
      if (c->pctx.th[i] != p)
        return nr_fail(c, e->tok, -EINVAL, "conflicting protocols specified: %s vs. %s",
                       c->pctx.th[i]->name, p->name);
  }
  if (desc == p) {
    if (base == PB_LL)
      for (int i = 0; i < c->pctx.nstacked; i++) e->u.pl.off += c->pctx.stacked[i]->hdr_bits;
    goto icmp;
  }
  if (desc != NULL && desc != &nr_proto_unknown && desc->base == base) {
    /* same layer, another protocol: resolve as nft does */
    if (base == PB_LL) {
      if (desc == &nr_proto_inet || desc == &nr_proto_netdev) {
        if ((rc = iiftype_dep(c, p, e->tok)) < 0) return rc;
        if (c->pctx.p[PB_LL] == p) return 0;
        desc = c->pctx.p[PB_LL];
      } else {
        for (int i = 0; i < c->pctx.nstacked; i++)
          if (c->pctx.stacked[i] == p) return 0;
      }
    }
    if (c->pctx.p[base + 1] == NULL && desc && nr_proto_num(desc, p) >= 0) {
      if ((rc = add_proto_dep(c, desc, p, e->tok)) < 0) return rc;
      if (base == PB_LL)
        for (int i = 0; i < c->pctx.nstacked; i++) e->u.pl.off += c->pctx.stacked[i]->hdr_bits;
      if (c->pctx.p[base] == p) return 0;
    }
  }
  return nr_fail(c, e->tok, -EINVAL, "conflicting protocols specified: %s vs. %s",
                 c->pctx.p[base] ? c->pctx.p[base]->name : "?", p->name);
icmp:
  if ((p == &nr_proto_icmp || p == &nr_proto_icmp6) && e->u.pl.f->icmp_dep) return icmp_dep(c, e);
  return 0;
}

/* ---- left-hand sides ---- */

/* A header field that is not whole bytes: load the bytes, mask the field, and remember how
 * far values must be shifted (nft: expr_evaluate_bits and binop_transfer). */
int nr_eval_bits(struct nr_cc *c, struct nr_expr **ep, unsigned offset) {
  struct nr_expr *e = *ep;
  unsigned off = offset % 8, len = e->bits, extra = 0;
  int shift = (int)((len + 7) / 8 * 8) - (int)(off + len);
  while (shift < 0) { shift += 8; extra += 8; }
  unsigned masklen = len + (unsigned)shift;
  struct nr_expr *mask = nr_value_new(c, e->type, e->order, masklen, e->tok);
  struct nr_expr *and = nr_expr_new(c, X_BINOP, e->tok);
  if (mask == NULL || and == NULL) return -ENOMEM;
  unsigned bytes = (masklen + 7) / 8;
  for (unsigned b = (unsigned)shift; b < masklen; b++)
    mask->val[bytes - 1 - b / 8] |= (uint8_t)(1u << (b % 8));
  and->op = OP_AND;
  and->l = e;
  and->r = mask;
  and->type = e->type;
  and->order = e->order;
  and->bits = (uint16_t)masklen;
  and->shift = (uint8_t)shift;
  and->u.pre.plen = (int)len;  /* the field's own width, for reading values */
  e->bits = (uint16_t)(len + extra);
  *ep = and;
  return 0;
}

static int concat_bits(const struct nr_expr *e) {
  int bits = 0;
  for (int i = 0; i < e->n; i++) bits += (e->v[i]->bits + 31) / 32 * 32;
  return bits;
}

int nr_eval_payload(struct nr_cc *c, struct nr_expr *e) {
  if (e->u.pl.is_raw && e->u.pl.base == PB_TH && e->bits == 16 &&
      (e->u.pl.off == 0 || e->u.pl.off == 16))
    e->type = T_INET_SERVICE;  /* nft reads @th,0,16 and @th,16,16 as ports */
  return e->u.pl.is_raw ? 0 : payload_deps(c, e);
}

int nr_eval_lhs(struct nr_cc *c, struct nr_expr **ep) {
  struct nr_expr *e = *ep;
  int rc;
  switch (e->kind) {
  case X_PAYLOAD:
    if ((rc = nr_eval_payload(c, e)) < 0) return rc;
    if (e->u.pl.off % 8 || e->bits % 8) return nr_eval_bits(c, ep, e->u.pl.off);
    return 0;
  case X_META: {
    uint32_t k = e->u.key.k->key;
    if (k == NFT_META_NFPROTO && c->family != NFPROTO_INET)
      return nr_fail(c, e->tok, -EINVAL, "meta nfproto is only useful in the inet family");
    return 0;
  }
  case X_CT:
    if (e->u.key.k->key == NFT_CT_PROTO_SRC || e->u.key.k->key == NFT_CT_PROTO_DST) {
      /* nft types these by the transport protocol matched before (ports for tcp, udp...) */
      const struct nr_proto *th = c->pctx.p[PB_TH];
      e->type = th && th != &nr_proto_unknown && th->nf > 1 &&
                th->f[0].type == T_INET_SERVICE ? T_INET_SERVICE : T_INVALID;
    }
    if (e->u.key.k->flags & K_FAMADDR) {
      /* ct saddr/daddr: the address family from the table or an earlier match */
      const struct nr_proto *nh = c->pctx.p[PB_NH];
      if (nh == &nr_proto_ip) { e->type = T_IPADDR; e->bits = 32; }
      else if (nh == &nr_proto_ip6) { e->type = T_IP6ADDR; e->bits = 128; }
      else return nr_fail(c, e->tok, -EINVAL, "specify either ip or ip6 for address matching");
    }
    return 0;
  case X_RT:
    if (c->family == NFPROTO_BRIDGE || c->family == NFPROTO_NETDEV)  /* the kernel has none */
      return nr_fail(c, e->tok, -EINVAL, "rt expressions work only in ip, ip6 and inet tables");
    if (e->u.key.k->key == NFT_RT_NEXTHOP4 || e->u.key.k->key == NFT_RT_NEXTHOP6) {
      if (c->family == NFPROTO_INET && e->u.key.dir == 0)
        return nr_fail(c, e->tok, -EINVAL, "cannot determine ip protocol version, use \"ip "
                       "nexthop\" or \"ip6 nexthop\" instead");
      if (c->family != NFPROTO_IPV4 && c->family != NFPROTO_IPV6 && c->family != NFPROTO_INET)
        return nr_unsupported(c, e->tok, "rt nexthop in this family");
    }
    return 0;
  case X_SOCKET:
  case X_NUMGEN:
  case X_FIB:
    return 0;
  case X_OSF:  /* the kernel fingerprints IPv4 only */
    if (c->family != NFPROTO_IPV4 && c->family != NFPROTO_INET)
      return nr_fail(c, e->tok, -EINVAL, "osf works only in ip and inet tables");
    return 0;
  case X_XFRM:
    if (c->family != NFPROTO_IPV4 && c->family != NFPROTO_IPV6 && c->family != NFPROTO_INET)
      return nr_fail(c, e->tok, -EINVAL, "ipsec expression is only valid in ip/ip6/inet tables");
    return 0;
  case X_EXTHDR:
    return nr_eval_exthdr(c, ep);
  case X_HASH:
    if (e->u.gen.e && (rc = nr_eval_lhs(c, &e->u.gen.e)) < 0) return rc;
    return 0;
  case X_CONCAT:
    for (int i = 0; i < e->n; i++) {
      if (e->v[i]->kind == X_CONCAT)
        return nr_fail(c, e->v[i]->tok, -EINVAL, "nested concatenation");
      if ((rc = nr_eval_lhs(c, &e->v[i])) < 0) return rc;
      if (e->v[i]->flags & XF_CONST)
        return nr_fail(c, e->v[i]->tok, -EINVAL, "a concatenation needs expressions, not values");
      if (e->v[i]->kind == X_BINOP)
        return nr_unsupported(c, e->v[i]->tok, "a bit field or bitwise operation in a concatenation");
    }
    e->bits = (uint16_t)concat_bits(e);
    e->type = 0;
    e->order = BO_BE;
    return 0;
  case X_BINOP: {
    if ((rc = nr_eval_lhs(c, &e->l)) < 0) return rc;
    struct nr_expr *l = e->l;
    if (l->flags & XF_CONST)
      return nr_fail(c, e->tok, -EINVAL, "the left side of a bitwise operation must come from "
                     "the packet");
    if (l->kind == X_CONCAT) return nr_fail(c, e->tok, -EINVAL, "bitwise operation on a concatenation");
    const struct nr_type *t = nr_type_get(l->type);
    if (t && t->base == NB_STRING)
      return nr_fail(c, e->tok, -EINVAL, "bitwise operation on a string");
    if (l->kind == X_BINOP && l->shift)
      return nr_unsupported(c, e->tok, "a bitwise operation on a header bit field");
    if (e->op == OP_LSHIFT || e->op == OP_RSHIFT) {
      struct nr_expr like = {.kind = X_VALUE, .type = T_INTEGER, .order = BO_HOST, .bits = 32};
      if ((rc = nr_eval_const(c, &e->r, &like)) < 0) return rc;
      if (e->r->kind != X_VALUE) return nr_fail(c, e->r->tok, -EINVAL, "expected a shift count");
      if (nr_be_get(e->r->val, 4) >= l->bits)
        return nr_fail(c, e->r->tok, -EINVAL, "shift by %llu bits of a %u bit value",
                       (unsigned long long)nr_be_get(e->r->val, 4), l->bits);
    } else {
      if ((rc = nr_eval_const(c, &e->r, l)) < 0) return rc;
      if (e->r->kind != X_VALUE)
        return nr_fail(c, e->r->tok, -EINVAL, "the right side of a bitwise operation must be a value");
    }
    e->type = l->type;
    e->order = l->order;
    e->bits = l->bits;
    return 0;
  }
  case X_SYMBOL: {
    char b[80];
    return nr_fail(c, e->tok, -EINVAL, "unknown keyword %s", nr_tokq(c, e->tok, b, sizeof b));
  }
  case X_MAP:
    return nr_unsupported(c, e->tok, "a map lookup here");
  default:
    return nr_fail(c, e->tok, -EINVAL, "expected an expression");
  }
}

/* ---- constants ---- */

static int value_from(struct nr_cc *c, const char *s, int quoted, const struct nr_expr *like,
                      int tok, struct nr_expr **out);

/* The numeric comparison of two values of `bytes` bytes. */
static int vcmp(const uint8_t *a, const uint8_t *b, unsigned bytes) { return memcmp(a, b, bytes); }

static int make_range(struct nr_cc *c, struct nr_expr *lo, struct nr_expr *hi, int tok,
                      struct nr_expr **out) {
  unsigned bytes = (lo->bits + 7) / 8;
  const struct nr_type *t = nr_type_get(lo->type);
  if (t && t->base != NB_STRING && t->id != T_TIME_HOUR && vcmp(lo->val, hi->val, bytes) > 0)
    return nr_fail(c, tok, -EINVAL, "range has zero or negative size");
  struct nr_expr *r = nr_expr_new(c, X_RANGE, tok);
  if (r == NULL) return -ENOMEM;
  r->l = lo;
  r->r = hi;
  r->type = lo->type;
  r->order = lo->order;
  r->bits = lo->bits;
  r->flags = XF_CONST | XF_INTERVAL;
  *out = r;
  return 0;
}

static int make_prefix(struct nr_cc *c, struct nr_expr *v, unsigned plen, int tok,
                       struct nr_expr **out) {
  if (plen > v->bits) return nr_fail(c, tok, -EINVAL, "prefix length %u is longer than %u bits",
                                     plen, v->bits);
  unsigned bytes = (v->bits + 7) / 8;
  /* like nft, the bits after the prefix are cleared: 10.0.0.1/8 is 10.0.0.0/8 */
  for (unsigned b = plen; b < bytes * 8; b++) v->val[b / 8] &= (uint8_t)~(0x80u >> (b % 8));
  struct nr_expr *p = nr_expr_new(c, X_PREFIX, tok);
  if (p == NULL) return -ENOMEM;
  p->l = v;
  p->u.pre.plen = (int)plen;
  p->type = v->type;
  p->order = v->order;
  p->bits = v->bits;
  p->flags = XF_CONST | XF_INTERVAL;
  *out = p;
  return 0;
}

/* An interface-name style string: "eth*" matches by prefix, "\*" is a star. */
static int string_value(struct nr_cc *c, const char *s, const struct nr_expr *like, int tok,
                        struct nr_expr **out) {
  char buf[NR_VMAX + 1];
  size_t n = 0, len = strlen(s);
  int wildcard = 0;
  unsigned bytes = (like->bits + 7) / 8;
  if (len == 0) return nr_fail(c, tok, -EINVAL, "empty string is not allowed");
  for (size_t i = 0; i < len; i++) {
    /* only a trailing "\*" is an escaped star, as in nft */
    if (s[i] == '\\' && s[i + 1] == '*' && i + 2 == len) { buf[n++] = '*'; i++; }
    else if (s[i] == '*' && i == len - 1) wildcard = 1;
    else buf[n++] = s[i];
    if (n > bytes) return nr_fail(c, tok, -EINVAL, "string \"%s\" is too long", s);
  }
  buf[n] = 0;
  if (wildcard && n == 0) return nr_fail(c, tok, -EINVAL, "a name made of the wildcard only");
  if (n >= bytes && like->type == T_IFNAME)
    return nr_fail(c, tok, -EINVAL, "interface name \"%s\" longer than %u characters", buf, bytes - 1);
  struct nr_expr *v = nr_value_new(c, like->type, like->order, like->bits, tok);
  if (v == NULL) return -ENOMEM;
  memcpy(v->val, buf, n);
  if (!wildcard) { *out = v; return 0; }
  return make_prefix(c, v, (unsigned)n * 8, tok, out);
}

static int value_from(struct nr_cc *c, const char *s, int quoted, const struct nr_expr *like,
                      int tok, struct nr_expr **out) {
  const struct nr_type *t = nr_type_get(like->type);
  char why[160];
  if (t == NULL || t->id == T_INVALID)
    return nr_fail(c, tok, -EINVAL, "cannot read \"%s\": the type of what it is compared with is "
                   "not known (match the transport protocol first)", s);
  if (t->base == NB_STRING) return string_value(c, s, like, tok, out);
  unsigned bits = like->u.pre.plen && like->kind == X_BINOP && like->shift ? (unsigned)like->u.pre.plen
                                                                      : like->bits;
  struct nr_expr *v = nr_value_new(c, like->type, like->order, like->bits, tok);
  if (v == NULL) return -ENOMEM;
  int rc = nr_type_parse(c, t, s, bits, v->val, why, sizeof why);
  if (rc == 0) {
    if (like->shift) {  /* a bit field: the value moves to its place in the loaded bytes */
      unsigned bytes = (like->bits + 7) / 8;
      uint64_t x = nr_be_get(v->val, (bits + 7) / 8) << like->shift;
      memset(v->val, 0, NR_VMAX);
      nr_be_put(v->val, bytes, x);
    }
    *out = v;
    return 0;
  }
  if (rc == -2) return nr_fail(c, tok, -EOPNOTSUPP, "%s", why);
  if (rc == -3) return nr_fail(c, tok, -ENODEV, "%s", why);
  if (!quoted) {
    /* a range "a-b" or a prefix "a/n" written as one word */
    const char *slash = strchr(s, '/');
    if (slash) {
      char head[128];
      unsigned long long plen;
      if ((size_t)(slash - s) >= sizeof head || nr_number(slash + 1, 4096, &plen) < 0)
        return nr_fail(c, tok, -EINVAL, "bad prefix \"%s\"", s);
      memcpy(head, s, (size_t)(slash - s));
      head[slash - s] = 0;
      struct nr_expr *base;
      if ((rc = value_from(c, head, 1, like, tok, &base)) < 0) return rc;
      if (base->kind != X_VALUE) return nr_fail(c, tok, -EINVAL, "bad prefix \"%s\"", s);
      if (t->base != NB_INT && t->base != NB_BITMASK && t->base != NB_LLADDR)
        return nr_fail(c, tok, -EINVAL, "prefix of a %s", t->name);
      return make_prefix(c, base, (unsigned)plen, tok, out);
    }
    for (const char *d = strchr(s, '-'); d; d = strchr(d + 1, '-')) {
      char lo[128];
      if ((size_t)(d - s) >= sizeof lo || d == s || d[1] == 0) continue;
      memcpy(lo, s, (size_t)(d - s));
      lo[d - s] = 0;
      struct nr_expr *a, *b;
      struct cnet_nftrule_err *err = c->err;
      c->err = NULL;
      int ra = value_from(c, lo, 1, like, tok, &a);
      int rb = ra < 0 ? ra : value_from(c, d + 1, 1, like, tok, &b);
      c->err = err;
      if (ra < 0 || rb < 0 || a->kind != X_VALUE || b->kind != X_VALUE) continue;
      return make_range(c, a, b, tok, out);
    }
  }
  return nr_fail(c, tok, -EINVAL, "%s", why);
}

static int fold(struct nr_cc *c, struct nr_expr *e, struct nr_expr **out) {
  struct nr_expr *l = e->l, *r = e->r;
  if (l->kind != X_VALUE || r->kind != X_VALUE)
    return nr_fail(c, e->tok, -EINVAL, "bitwise operation on something other than values");
  unsigned bytes = (l->bits + 7) / 8;
  for (unsigned i = 0; i < bytes; i++) {
    if (e->op == OP_OR) l->val[i] |= r->val[i];
    else if (e->op == OP_AND) l->val[i] &= r->val[i];
    else if (e->op == OP_XOR) l->val[i] ^= r->val[i];
    else return nr_unsupported(c, e->tok, "a shift of values");
  }
  *out = l;
  return 0;
}

int nr_eval_const(struct nr_cc *c, struct nr_expr **ep, const struct nr_expr *like) {
  struct nr_expr *e = *ep;
  int rc;
  switch (e->kind) {
  case X_VALUE:
    return 0;
  case X_SYMBOL:
    if (like->kind == X_CONCAT)
      return nr_fail(c, e->tok, -EINVAL, "a concatenation needs \" . \" between its values");
    return value_from(c, e->str, e->op == 1, like, e->tok, ep);
  case X_RANGE: {
    if (like->kind == X_CONCAT) return nr_fail(c, e->tok, -EINVAL, "a range of concatenations");
    struct nr_expr *lo = e->l, *hi = e->r;
    if ((rc = nr_eval_const(c, &lo, like)) < 0 || (rc = nr_eval_const(c, &hi, like)) < 0) return rc;
    if (lo->kind != X_VALUE || hi->kind != X_VALUE)
      return nr_fail(c, e->tok, -EINVAL, "a range needs single values");
    return make_range(c, lo, hi, e->tok, ep);
  }
  case X_BINOP:
    if (e->op != OP_OR && e->op != OP_AND && e->op != OP_XOR)
      return nr_unsupported(c, e->tok, "a shift of values");
    if ((rc = nr_eval_const(c, &e->l, like)) < 0 || (rc = nr_eval_const(c, &e->r, like)) < 0)
      return rc;
    return fold(c, e, ep);
  case X_LIST: {
    /* flags: "syn,ack" is their bitwise or */
    const struct nr_type *t = nr_type_get(like->type);
    if (t == NULL || t->base != NB_BITMASK)
      return nr_fail(c, e->tok, -EINVAL, "a list of values (\",\") needs flags such as tcp "
                     "flags or ct state");
    struct nr_expr *acc = NULL;
    for (int i = 0; i < e->n; i++) {
      if ((rc = nr_eval_const(c, &e->v[i], like)) < 0) return rc;
      if (e->v[i]->kind != X_VALUE) return nr_fail(c, e->v[i]->tok, -EINVAL, "expected a flag");
      if (acc == NULL) acc = e->v[i];
      else for (unsigned b = 0; b < (acc->bits + 7u) / 8; b++) acc->val[b] |= e->v[i]->val[b];
    }
    acc->tok = e->tok;
    *ep = acc;
    return 0;
  }
  case X_CONCAT:
    if (like->kind != X_CONCAT)
      return nr_fail(c, e->tok, -EINVAL, "use concatenations with sets and maps, not singleton "
                     "values");
    if (e->n != like->n)
      return nr_fail(c, e->tok, -EINVAL, "%d values for a concatenation of %d", e->n, like->n);
    for (int i = 0; i < e->n; i++)
      if ((rc = nr_eval_const(c, &e->v[i], like->v[i])) < 0) return rc;
    e->type = 0;
    e->bits = like->bits;
    e->flags |= XF_CONST;
    for (int i = 0; i < e->n; i++) e->flags |= e->v[i]->flags & XF_INTERVAL;
    return 0;
  case X_PREFIX:
    return 0;
  default:
    return nr_fail(c, e->tok, -EINVAL, "expected a value");
  }
}

/* ---- byte order ---- */

/* nft compares ranges and intervals in big endian: a host order value of two bytes or more
 * gets a byteorder conversion first. */
int nr_to_big_endian(struct nr_cc *c, struct nr_expr **ep) {
  struct nr_expr *e = *ep;
  if (e->order != BO_HOST) return 0;
  const struct nr_type *t = nr_type_get(e->type);
  if (t && t->base == NB_STRING) return 0;
  if (e->kind == X_CONCAT) {
    for (int i = 0; i < e->n; i++) {
      struct nr_expr *s = e->v[i];
      const struct nr_type *st = nr_type_get(s->type);
      if (s->order != BO_HOST || (st && st->base == NB_STRING)) continue;
      if ((s->bits + 7) / 8 < 2) { s->order = BO_BE; continue; }
      struct nr_expr *u = nr_expr_new(c, X_UNARY, s->tok);
      if (u == NULL) return -ENOMEM;
      u->op = OP_HTON;
      u->l = s;
      u->type = s->type;
      u->bits = s->bits;
      u->order = BO_BE;
      e->v[i] = u;
    }
    return 0;
  }
  if ((e->bits + 7) / 8 < 2) { e->order = BO_BE; return 0; }
  struct nr_expr *u = nr_expr_new(c, X_UNARY, e->tok);
  if (u == NULL) return -ENOMEM;
  u->op = OP_HTON;
  u->l = e;
  u->type = e->type;
  u->bits = e->bits;
  u->order = BO_BE;
  *ep = u;
  return 0;
}

static void set_order(struct nr_expr *e, int order) {
  if (e == NULL) return;
  switch (e->kind) {
  case X_VALUE: e->order = (uint8_t)order; break;
  case X_RANGE: set_order(e->l, order); set_order(e->r, order); e->order = (uint8_t)order; break;
  case X_PREFIX: set_order(e->l, order); e->order = (uint8_t)order; break;
  default: break;
  }
}

/* ---- matches ---- */

int nr_eval_match(struct nr_cc *c, struct nr_stmt *s) {
  struct nr_expr *rel = s->e;
  int rc;
  char b[80];
  if ((rc = nr_eval_lhs(c, &rel->l)) < 0) return rc;
  struct nr_expr *l = rel->l;
  if (l->flags & XF_CONST)
    return nr_fail(c, l->tok, -EINVAL, "relational expression has constant value");
  if (((l->kind == X_META && l->u.key.k->key == NFT_META_SECMARK) ||
       (l->kind == X_CT && l->u.key.k->key == NFT_CT_SECMARK)) && (rel->r->flags & XF_CONST))
    /* nft: "ct secmark 12" reads as a match, and a secmark is no constant */
    return nr_fail(c, rel->r->tok, -EINVAL, "Cannot be used with right hand side constant value");
  if (rel->r->kind == X_SETREF) {
    struct nr_set *set;
    if ((rc = nr_set_named(c, rel->r->tok, rel->r->str, &set)) < 0) return rc;
    rel->r->u.ref.set = set;
    if (set->is_map && !set->is_vmap && 0) return 0;
    if (!nr_set_takes_key(set, l))
      return nr_fail(c, rel->r->tok, -EINVAL, "set @%s does not hold values of this type", set->name);
    if (rel->op != OP_IMPLICIT && rel->op != OP_EQ && rel->op != OP_NEQ)
      return nr_fail(c, rel->tok, -EINVAL, "a set lookup takes == or != only");
    if ((set->flags & NFT_SET_INTERVAL) && (rc = nr_to_big_endian(c, &rel->l)) < 0) return rc;
    return 0;
  }
  if (rel->r->kind == X_SET) {
    if (rel->op != OP_IMPLICIT && rel->op != OP_EQ && rel->op != OP_NEQ)
      return nr_fail(c, rel->tok, -EINVAL, "a set takes == or != only");
    struct nr_set *set;
    if ((rc = nr_set_anon(c, rel->r, l, NULL, 0, 0, &set)) < 0) return rc;
    if (set == NULL) {
      /* one element: a plain match, as nft makes it */
      rel->r = rel->r->v[0];
      goto single;
    }
    rel->r->u.ref.set = set;
    if (rel->op == OP_IMPLICIT || rel->op == OP_EQ) nr_pctx_update(c, rel);
    if ((set->flags & NFT_SET_INTERVAL) && (rc = nr_to_big_endian(c, &rel->l)) < 0) return rc;
    if (set->flags & NFT_SET_INTERVAL) set_order(NULL, BO_BE);
    return 0;
  }
  if (l->kind == X_FIB && rel->r->kind == X_SYMBOL &&
      (strcmp(rel->r->str, "exists") == 0 || strcmp(rel->r->str, "missing") == 0)) {
    /* fib ... exists/missing: the kernel reports whether there is a result */
    l->u.fib.flags |= NFTA_FIB_F_PRESENT;
    l->type = T_BOOLEAN;
    l->order = BO_HOST;
  }
  if ((rc = nr_eval_const(c, &rel->r, l)) < 0) return rc;
  if (rel->r->kind == X_RANGE && l->type == T_TIME_HOUR &&
      memcmp(rel->r->l->val, rel->r->r->val, 4) > 0) {
    /* "23:00"-"03:00" crosses midnight: nft matches outside "03:00"-"23:00" instead */
    struct nr_expr *t = rel->r->l;
    rel->r->l = rel->r->r;
    rel->r->r = t;
    if (rel->op == OP_EQ || rel->op == OP_IMPLICIT) rel->op = OP_NEQ;
    else if (rel->op == OP_NEQ) rel->op = OP_EQ;
  }
single:;
  struct nr_expr *r = rel->r;
  if (l->kind == X_BINOP && (l->op == OP_XOR || l->op == OP_LSHIFT || l->op == OP_RSHIFT)) {
    /* nft moves these to the constant side: (x ^ a) == b is x == b ^ a */
    if (l->op != OP_XOR || (r->kind != X_VALUE && r->kind != X_RANGE))
      return nr_unsupported(c, l->tok, "a shift compared with a value");
    struct nr_expr *ends[2] = {r->kind == X_RANGE ? r->l : r, r->kind == X_RANGE ? r->r : NULL};
    for (int k = 0; k < 2 && ends[k]; k++)
      for (unsigned j = 0; j < (ends[k]->bits + 7u) / 8; j++) ends[k]->val[j] ^= l->r->val[j];
    rel->l = l = l->l;
  }
  if (r->kind == X_CONCAT)
    return nr_fail(c, r->tok, -EINVAL, "use concatenations with sets and maps, not singleton "
                   "values");
  const struct nr_type *t = nr_type_get(l->type);
  switch (rel->op) {
  case OP_IMPLICIT:
  case OP_EQ:
    nr_pctx_update(c, rel);
    /* fall through */
  case OP_NEQ:
    if (r->kind == X_RANGE) {
      if ((rc = nr_to_big_endian(c, &rel->l)) < 0) return rc;
      set_order(r, BO_BE);
    }
    break;
  case OP_NEG:
    if (l->kind == X_BINOP || r->kind != X_VALUE || t == NULL || t->base != NB_BITMASK)
      return nr_fail(c, rel->tok, -EINVAL, "negation can only be used with singleton bitmask values");
    break;
  case OP_LT: case OP_GT: case OP_LTE: case OP_GTE:
    if (l->kind == X_CONCAT || r->kind != X_VALUE)
      return nr_fail(c, rel->tok, -EINVAL, "relational expression %s is undefined for %s",
                     nr_tokq(c, rel->tok, b, sizeof b), r->kind == X_RANGE ? "ranges" : "this");
    if ((rc = nr_to_big_endian(c, &rel->l)) < 0) return rc;
    set_order(r, BO_BE);
    break;
  }
  return 0;
}
