/* Evaluation of statements and of the whole rule: statement arguments against what they set,
 * NAT and reject by family (with the dependencies nft adds for them), the terminal-statement
 * rule, and nft's last step: adjacent header matches merged into one load. */
#include "nftrule/nr_int.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_nat.h>
#include <linux/netfilter/nf_tables.h>

/* A value for a statement: constants read as `like`, expressions checked against it. */
/* "syn | ack", "1 | 2": constants only, which nft folds into one value */
static int all_const(const struct nr_expr *e) {
  if (e->kind == X_BINOP) return all_const(e->l) && all_const(e->r);
  return (e->flags & XF_CONST) != 0;
}

static int eval_arg(struct nr_cc *c, struct nr_expr **ep, const struct nr_expr *like) {
  struct nr_expr *e = *ep;
  int rc;
  if (e->kind == X_SET) return nr_fail(c, e->tok, -EINVAL, "a set cannot be used here");
  if (e->kind == X_SETREF) return nr_fail(c, e->tok, -EINVAL, "a set reference cannot be used here");
  if (e->kind == X_MAP) {
    struct nr_expr *key = e->l, *m = e->r;
    if ((rc = nr_eval_lhs(c, &e->l)) < 0) return rc;
    key = e->l;
    struct nr_set *set;
    if (m->kind == X_SETREF) {
      if ((rc = nr_set_named(c, m->tok, m->str, &set)) < 0) return rc;
      if (!set->is_map || set->is_vmap || set->is_objmap)
        return nr_fail(c, m->tok, -EINVAL, "@%s is not a map of values", set->name);
      if (!nr_set_takes_key(set, key))
        return nr_fail(c, m->tok, -EINVAL, "map @%s does not take keys of this type", set->name);
      if (set->data_type != like->type && like->kind != X_CONCAT)
        return nr_fail(c, m->tok, -EINVAL, "map @%s does not give values of this type", set->name);
      m->u.ref.set = set;
    } else {
      if ((rc = nr_set_anon(c, m, key, like, 0, 0, &set)) < 0) return rc;
      m->u.ref.set = set;
    }
    if ((set->flags & NFT_SET_INTERVAL) && (rc = nr_to_big_endian(c, &e->l)) < 0) return rc;
    e->type = like->type;
    e->bits = like->bits;
    e->order = like->order;
    return 0;
  }
  if ((e->flags & XF_CONST) || (e->kind == X_BINOP && all_const(e))) {
    if ((rc = nr_eval_const(c, ep, like)) < 0) return rc;
    e = *ep;
    if (e->kind == X_PREFIX) {
      /* a prefix as a value: nft turns it into the range it covers */
      struct nr_expr *lo = e->l, *hi = nr_value_new(c, lo->type, lo->order, lo->bits, e->tok);
      if (hi == NULL) return -ENOMEM;
      memcpy(hi->val, lo->val, NR_VMAX);
      unsigned bytes = (lo->bits + 7) / 8;
      for (unsigned b = (unsigned)e->u.pre.plen; b < bytes * 8; b++)
        hi->val[b / 8] |= (uint8_t)(0x80u >> (b % 8));
      struct nr_expr *r = nr_expr_new(c, X_RANGE, e->tok);
      if (r == NULL) return -ENOMEM;
      r->l = lo;
      r->r = hi;
      r->type = lo->type;
      r->bits = lo->bits;
      r->order = lo->order;
      r->flags = XF_CONST | XF_INTERVAL;
      *ep = r;
    }
    return 0;
  }
  if ((rc = nr_eval_lhs(c, ep)) < 0) return rc;
  e = *ep;
  const struct nr_type *want = nr_type_get(like->type), *have = nr_type_get(e->type);
  if (e->kind == X_CONCAT || (e->type != like->type &&
                              !(have && have->id == T_INTEGER && want && want->base == NB_INT &&
                                e->bits == like->bits) &&
                              !(e->kind == X_HASH || e->kind == X_NUMGEN)))
    return nr_fail(c, e->tok, -EINVAL, "datatype mismatch: expected %s, expression has type %s",
                   want ? want->name : "?", have ? have->name : "?");
  if (e->kind == X_RT && e->order != like->order) {
    struct nr_expr *u = nr_expr_new(c, X_UNARY, e->tok);
    if (u == NULL) return -ENOMEM;
    u->op = like->order == BO_BE ? OP_HTON : OP_NTOH;
    u->l = e;
    u->type = e->type;
    u->bits = e->bits;
    u->order = like->order;
    *ep = u;
  }
  return 0;
}

/* ---- reject ---- */

static int reject_deps(struct nr_cc *c, struct nr_stmt *s) {
  /* nft puts these dependencies at the start of the rule, so that "log ... reject with tcp
   * reset" logs only what it rejects */
  struct nr_stmt *cur = c->cur, *prev = c->cur_prev;
  c->cur = c->first;
  c->cur_prev = NULL;
  int rc = 0;
  if (s->u.rej.type == NFT_REJECT_TCP_RST) {
    if (c->pctx.p[PB_TH] == NULL) {
      struct nr_expr e = {.kind = X_PAYLOAD, .tok = s->tok};
      e.u.pl.p = &nr_proto_tcp;
      (void)e;
      /* the dependency of a tcp header field */
      const struct nr_proto *desc = c->pctx.p[PB_NH];
      if (desc == NULL) desc = &nr_proto_inet_service;
      struct nr_expr *lhs = nr_meta_new(c, NFT_META_L4PROTO, s->tok);
      if (lhs == NULL) return -ENOMEM;
      if (desc->key >= 0) {
        rc = nr_fail(c, s->tok, -EINVAL, "cannot reject with tcp reset here");
      } else {
        rc = nr_add_dep(c, lhs, 6, s->tok);
      }
    }
  } else if (s->u.rej.type == NFT_REJECT_ICMP_UNREACH && c->pctx.p[PB_NH] == NULL) {
    if (s->u.rej.code < 0) {
      rc = nr_fail(c, s->tok, -EINVAL, "missing icmp error type");
    } else {
      const struct nr_proto *ll = c->pctx.p[PB_LL], *up;
      up = s->u.rej.family == 4 ? &nr_proto_ip : &nr_proto_ip6;
      if (c->family == NFPROTO_BRIDGE && ll == &nr_proto_eth) ll = &nr_proto_netdev;
      int64_t num = nr_proto_num(ll, up);
      struct nr_expr *lhs = ll ? nr_meta_new(c, ll->key_meta, s->tok) : NULL;
      if (num < 0 || lhs == NULL) rc = nr_fail(c, s->tok, -EINVAL, "cannot reject here");
      else rc = nr_add_dep(c, lhs, (uint64_t)num, s->tok);
    }
  }
  /* the statement list may have a new head: find where the current one is now */
  c->cur = cur;
  c->cur_prev = prev;
  if (c->cur_prev == NULL && c->first != cur) {
    struct nr_stmt *p = c->first;
    while (p && p->next != cur) p = p->next;
    c->cur_prev = p;
  }
  return rc;
}

static int eval_reject(struct nr_cc *c, struct nr_stmt *s) {
  int fam = c->family;
  const struct nr_proto *nh = c->pctx.p[PB_NH];
  if (s->u.rej.type == 255) {  /* no "with": the family's default */
    if (fam == NFPROTO_IPV4 || fam == NFPROTO_IPV6) {
      s->u.rej.type = NFT_REJECT_ICMP_UNREACH;
      s->u.rej.family = fam == NFPROTO_IPV4 ? 4 : 6;
      s->u.rej.code = fam == NFPROTO_IPV4 ? 3 : 4;
    } else if (nh == NULL || nh == &nr_proto_unknown ||
               (nh != &nr_proto_ip && nh != &nr_proto_ip6)) {
      s->u.rej.type = NFT_REJECT_ICMPX_UNREACH;
      s->u.rej.code = 1;
    } else {
      s->u.rej.type = NFT_REJECT_ICMP_UNREACH;
      s->u.rej.family = nh == &nr_proto_ip ? 4 : 6;
      s->u.rej.code = nh == &nr_proto_ip ? 3 : 4;
    }
  } else if (s->u.rej.type == NFT_REJECT_TCP_RST) {
    const struct nr_proto *th = c->pctx.p[PB_TH];
    if (th != NULL && th != &nr_proto_tcp)
      return nr_fail(c, s->tok, -EINVAL, "you cannot use tcp reset with this protocol");
  }
  switch (fam) {
  case NFPROTO_IPV4:
  case NFPROTO_IPV6:
    if (s->u.rej.type == NFT_REJECT_TCP_RST) return reject_deps(c, s);
    if (s->u.rej.type == NFT_REJECT_ICMPX_UNREACH)
      return nr_fail(c, s->tok, -EINVAL, "abstracted ICMP unreachable not supported");
    if ((s->u.rej.family == 4) != (fam == NFPROTO_IPV4))
      return nr_fail(c, s->tok, -EINVAL, "conflicting protocols specified: ip vs ip6");
    return 0;
  case NFPROTO_INET:
  case NFPROTO_BRIDGE:
  case NFPROTO_NETDEV:
    if (fam != NFPROTO_INET) {
      const struct nr_proto *ll = c->pctx.p[PB_LL];
      if (ll != &nr_proto_eth && ll != &nr_proto_vlan && ll != &nr_proto_netdev)
        return nr_fail(c, s->tok, -EINVAL, "cannot reject from this link layer protocol");
    }
    if (nh != NULL) {
      int ip4 = nh == &nr_proto_ip, ip6 = nh == &nr_proto_ip6;
      if (s->u.rej.type == NFT_REJECT_ICMP_UNREACH) {
        if (!ip4 && !ip6)
          return nr_fail(c, s->tok, -EINVAL, fam == NFPROTO_INET
                         ? "cannot infer ICMP reject variant to use: explicit value required"
                         : "cannot reject this network family");
        if ((s->u.rej.family == 4) != ip4)
          return nr_fail(c, s->tok, -EINVAL, "conflicting protocols specified: ip vs ip6");
      } else if (fam != NFPROTO_INET && !ip4 && !ip6) {
        return nr_fail(c, s->tok, -EINVAL, "cannot reject this network family");
      }
    }
    if (s->u.rej.type == NFT_REJECT_ICMPX_UNREACH) return 0;
    return reject_deps(c, s);
  default:
    return nr_fail(c, s->tok, -EINVAL, "cannot use reject in this family");
  }
}

/* ---- NAT ---- */

/* "dnat ip addr . port to KEY map { k : ADDR . PORT }" (or data that is ADDR . PORT): one map
 * gives both; the lookup's result holds the address, then the port in the next 32 bits. */
static int eval_nat_addr_port(struct nr_cc *c, struct nr_stmt *s, const struct nr_expr *addr) {
  int rc;
  if (s->key->kind != X_MAP)
    return nr_fail(c, s->key->tok, -EINVAL, "address . port needs a map lookup");
  if (s->e2) return nr_fail(c, s->e2->tok, -EINVAL, "a port after a map that gives one");
  struct nr_expr *cat = nr_expr_new(c, X_CONCAT, s->tok);
  struct nr_expr *a = nr_value_new(c, addr->type, BO_BE, addr->bits, s->tok);
  struct nr_expr *p = nr_value_new(c, T_INET_SERVICE, BO_BE, 16, s->tok);
  if (cat == NULL || a == NULL || p == NULL ||
      (cat->v = nr_alloc(&c->arena, 2 * sizeof *cat->v)) == NULL)
    return -ENOMEM;
  cat->v[0] = a;
  cat->v[1] = p;
  cat->n = 2;
  cat->bits = (uint16_t)(addr->bits + 32);
  cat->order = BO_BE;
  if ((rc = eval_arg(c, &s->key, cat)) < 0) return rc;
  const struct nr_set *set = s->key->r->u.ref.set;
  if (set && set->name && set->data_bits != cat->bits)
    return nr_fail(c, s->key->r->tok, -EINVAL, "map @%s does not give an address and a port",
                   set->name);
  if (c->pctx.p[PB_TH] == NULL)
    return nr_fail(c, s->tok, -EINVAL, "transport protocol mapping is only valid after "
                   "transport protocol match");
  return 0;
}

static int eval_nat(struct nr_cc *c, struct nr_stmt *s) {
  int rc;
  uint32_t type = s->u.nat.type;
  int fam = c->family;
  if (fam != NFPROTO_IPV4 && fam != NFPROTO_IPV6 && fam != NFPROTO_INET)
    return nr_fail(c, s->tok, -EINVAL, "NAT is only supported for IPv4/IPv6");
  if (fam != NFPROTO_INET) {
    if (s->u.nat.family == 0) s->u.nat.family = (uint32_t)fam;
  } else if (s->key == NULL) {
    s->u.nat.family = NFPROTO_INET;
  } else if (s->u.nat.family == 0) {
    if (c->pctx.p[PB_NH] == &nr_proto_ip) s->u.nat.family = NFPROTO_IPV4;
    else if (c->pctx.p[PB_NH] == &nr_proto_ip6) s->u.nat.family = NFPROTO_IPV6;
  }
  if (s->key) {
    const struct nr_proto *nh = c->pctx.p[PB_NH];
    if ((nh == &nr_proto_ip && s->u.nat.family != NFPROTO_IPV4) ||
        (nh == &nr_proto_ip6 && s->u.nat.family != NFPROTO_IPV6))
      return nr_fail(c, s->tok, -EINVAL, "conflicting protocols specified: %s vs. %s. You must "
                     "specify ip or ip6 family in %s statement", nh->name,
                     s->u.nat.family == NFPROTO_IPV4 ? "ip" : "ip6",
                     type == NFT_NAT_SNAT ? "snat" : "dnat");
    if (s->u.nat.family != NFPROTO_IPV4 && s->u.nat.family != NFPROTO_IPV6)
      return nr_fail(c, s->tok, -EINVAL, "ip or ip6 must be specified with address for inet "
                     "tables");
    struct nr_expr like = {.kind = X_VALUE, .order = BO_BE};
    like.type = s->u.nat.family == NFPROTO_IPV4 ? T_IPADDR : T_IP6ADDR;
    like.bits = s->u.nat.family == NFPROTO_IPV4 ? 32 : 128;
    if (s->key->kind == X_MAP && s->key->r->kind == X_SET)
      for (int i = 0; i < s->key->r->n; i++)
        if (s->key->r->v[i]->kind == X_MAPPING && s->key->r->v[i]->r->kind == X_CONCAT)
          s->u.nat.tflags |= 1;
    if (s->u.nat.tflags & 1) return eval_nat_addr_port(c, s, &like);
    if ((rc = eval_arg(c, &s->key, &like)) < 0) return rc;
    if (s->key->kind == X_MAP && s->key->r->u.ref.set &&
        (s->key->r->u.ref.set->flags & NFT_SET_INTERVAL) && s->key->r->u.ref.set->data_bits &&
        0)
      return 0;
  }
  if (s->e2) {
    if (c->pctx.p[PB_TH] == NULL)
      return nr_fail(c, s->e2->tok, -EINVAL, "transport protocol mapping is only valid after "
                     "transport protocol match");
    struct nr_expr like = {.kind = X_VALUE, .type = T_INET_SERVICE, .order = BO_BE, .bits = 16};
    if ((rc = eval_arg(c, &s->e2, &like)) < 0) return rc;
    s->u.nat.flags |= NF_NAT_RANGE_PROTO_SPECIFIED;
  }
  return 0;
}

/* ---- statements ---- */

static int is_terminal(const struct nr_stmt *s) {
  switch (s->kind) {
  case S_VERDICT: return s->e->u.vd.verdict != NFT_CONTINUE;
  case S_REJECT: case S_NAT: case S_QUEUE: case S_FWD: return 1;  /* not tproxy: nft's way */
  default: return 0;
  }
}

static int key_like(const struct nr_expr *key, struct nr_expr *like) {
  memset(like, 0, sizeof *like);
  like->kind = X_VALUE;
  like->type = key->type;
  like->order = key->order;
  like->bits = key->bits;
  return 0;
}

/* A raw write of whole bytes that nft's listing names after the header known there (as the
 * decoder does) would read back as that field's write, with the checksum updates a raw one
 * does not ask for: another rule. */
static int raw_write_named(struct nr_cc *c, const struct nr_expr *k) {
  const struct nr_proto *p = c->pctx.p[k->u.pl.base];
  if (p == NULL || p == &nr_proto_unknown || p->f == NULL) return 0;
  for (int i = 0; i < p->nf; i++) {
    if (p->f[i].off != k->u.pl.off || p->f[i].bits != k->bits) continue;
    struct nr_expr named = *k;
    uint32_t ctype, coff, cflags;
    named.u.pl.is_raw = 0;
    named.u.pl.p = p;
    named.u.pl.f = &p->f[i];
    nr_payload_csum(&named, &ctype, &coff, &cflags);
    if (coff || cflags)
      return nr_unsupported(c, k->tok, "a raw write of %s %s (nft lists it as that field's "
                            "write, which updates checksums)", p->name, p->f[i].name);
    return 0;
  }
  return 0;
}

/* "FIELD set VALUE" (nft's stmt_evaluate_payload). The kernel writes whole bytes, and
 * updates a checksum 16 bits at a time: a field that is not whole bytes, or an odd number of
 * bytes under a checksum, is written as the bytes around it (an even number of them under a
 * checksum, 16-bit aligned where it can be): loaded, the field's bits cleared, the value put
 * in their place. The key keeps its field (for the checksum) and takes those bytes. */
static int eval_payload_write(struct nr_cc *c, struct nr_stmt *s) {
  struct nr_expr *k = s->key, like;
  int rc;
  if ((rc = nr_eval_payload(c, k)) < 0) return rc;
  const struct nr_proto *kw =
      s->e->kind == X_SYMBOL ? nr_proto_byname(s->e->str, strlen(s->e->str)) : NULL;
  if (kw && kw->base != PB_NH && kw != &nr_proto_vlan)
    /* nft's grammar reads "tcp" there as the start of "tcp dport", not a protocol number
     * (network protocols and vlan it reads as ether types) */
    return nr_fail(c, s->e->tok + 1, -EINVAL, "syntax error, unexpected end after %s", s->e->str);
  key_like(k, &like);
  if ((rc = eval_arg(c, &s->e, &like)) < 0) return rc;
  if (s->e->kind == X_RANGE)
    return nr_fail(c, s->e->tok, -EINVAL, "a range or prefix cannot be written to a header field");
  uint32_t ctype, coff, cflags;
  nr_payload_csum(k, &ctype, &coff, &cflags);
  unsigned bits = k->bits, boff = k->u.pl.off / 8u, extra = 0;
  int csum = coff != 0;
  if (k->u.pl.off % 8 == 0 && bits % 8 == 0 && !(csum && bits / 8 % 2))
    return k->u.pl.is_raw ? raw_write_named(c, k) : 0;
  if (s->e->kind != X_VALUE)  /* nft refuses it too: the value is xor'ed in as a constant */
    return nr_fail(c, s->e->tok, -EINVAL, "this field can only be set to a constant (it is "
                   "written with the bits around it)");
  if (k->u.pl.is_raw) return nr_unsupported(c, k->tok, "setting a raw bit field");
  if (nr_proto_write_misread(k->u.pl.p))
    return nr_unsupported(c, k->tok, "setting %s %s (nft 1.0.6 lists it as another rule)",
                          k->u.pl.p->name, k->u.pl.f->name);
  int shift = (int)((bits + 7) / 8 * 8) - (int)(k->u.pl.off % 8 + bits);
  while (shift < 0) { shift += 8; extra += 8; }
  unsigned size = (bits + extra + 7) / 8;
  if (csum && size % 2) {
    size++;
    if (boff % 2) boff--;
    else shift += 8;
  }
  if (size > 8 || bits > 56) return nr_unsupported(c, k->tok, "setting a bit field this wide");
  uint64_t all = size == 8 ? ~0ULL : (1ULL << size * 8) - 1;
  uint64_t field = ((1ULL << bits) - 1) << shift;
  uint64_t val = nr_be_get(s->e->val, (s->e->bits + 7u) / 8) << shift;
  struct nr_expr *load = nr_expr_new(c, X_PAYLOAD, k->tok);
  struct nr_expr *mask = nr_value_new(c, T_INTEGER, BO_BE, size * 8, k->tok);
  struct nr_expr *xv = nr_value_new(c, T_INTEGER, BO_BE, size * 8, s->e->tok);
  struct nr_expr *and = nr_expr_new(c, X_BINOP, k->tok), *xor = nr_expr_new(c, X_BINOP, k->tok);
  if (load == NULL || mask == NULL || xv == NULL || and == NULL || xor == NULL) return -ENOMEM;
  load->u.pl.base = k->u.pl.base;
  load->u.pl.off = (uint16_t)(boff * 8);
  load->u.pl.is_raw = 1;
  load->bits = (uint16_t)(size * 8);
  load->type = T_INTEGER;
  load->order = BO_BE;
  nr_be_put(mask->val, size, all & ~field);
  nr_be_put(xv->val, size, val & field);
  *and = (struct nr_expr){.kind = X_BINOP, .op = OP_AND, .order = BO_BE, .type = T_INTEGER,
                          .bits = load->bits, .tok = k->tok, .l = load, .r = mask};
  *xor = *and;
  xor->op = OP_XOR;
  xor->l = and;
  xor->r = xv;
  s->e = xor;
  k->u.pl.off = load->u.pl.off;
  k->bits = load->bits;
  return 0;
}

/* "counter name KEY map { k : "c1" }": an object map (anonymous, or a named one holding
 * objects of the statement's kind) looked up with the key; s->e is the lookup (its set is
 * made with the rule like any anonymous set). */
static int eval_objref_map(struct nr_cc *c, struct nr_stmt *s) {
  struct nr_expr *m = s->u.obj.map;
  struct nr_set *set;
  int rc;
  if ((rc = nr_eval_lhs(c, &m->l)) < 0) return rc;
  if (m->l->flags & XF_CONST) return nr_fail(c, m->l->tok, -EINVAL, "a map key must come from the packet");
  if (m->r->kind == X_SETREF) {
    if ((rc = nr_set_named(c, m->r->tok, m->r->str, &set)) < 0) return rc;
    if (!set->is_objmap)
      return nr_fail(c, m->r->tok, -EINVAL, "@%s is not a map of objects", set->name);
    if (set->obj_type != s->u.obj.type)  /* nft takes it, and lists the map's own kind */
      return nr_unsupported(c, m->r->tok, "a map of other objects than the statement's");
    if (!nr_set_takes_key(set, m->l))
      return nr_fail(c, m->r->tok, -EINVAL, "map @%s does not take keys of this type", set->name);
  } else if ((rc = nr_set_anon(c, m->r, m->l, NULL, 0, (int)s->u.obj.type, &set)) < 0) {
    return rc;
  }
  m->r->u.ref.set = set;
  if ((set->flags & NFT_SET_INTERVAL) && (rc = nr_to_big_endian(c, &m->l)) < 0) return rc;
  s->e = m;
  return 0;
}

int nr_eval_stmt(struct nr_cc *c, struct nr_stmt *s) {
  int rc;
  struct nr_expr like;
  switch (s->kind) {
  case S_MATCH:
    return nr_eval_match(c, s);
  case S_META_SET: {
    const struct nr_key *k = s->key->u.key.k;
    if (k->key == NFT_META_SECMARK && s->e->kind != X_CT) {
      /* "meta secmark set NAME": the secmark object NAME (from ct secmark: the mark) */
      if (s->e->kind == X_MAP) return nr_unsupported(c, s->e->tok, "an object chosen by a map");
      if (s->e->kind != X_SYMBOL) return nr_fail(c, s->e->tok, -EINVAL, "expected a secmark name");
      if (strlen(s->e->str) >= 256) return nr_fail(c, s->e->tok, -EINVAL, "object name too long");
      s->kind = S_OBJREF;
      s->u.obj.type = NFT_OBJECT_SECMARK;
      s->u.obj.name = s->e->str;
      s->e = NULL;
      s->key = NULL;
      return 0;
    }
    if (!(k->flags & K_SET))
      return nr_fail(c, s->key->tok, -EINVAL, "meta %s cannot be set", k->name);
    key_like(s->key, &like);
    if (k->key == NFT_META_NFTRACE) like.bits = 1;
    return eval_arg(c, &s->e, &like);
  }
  case S_CT_SET: {
    const struct nr_key *k = s->key->u.key.k;
    if (!(k->flags & K_SET))
      return nr_fail(c, s->key->tok, -EINVAL, "ct %s cannot be set", k->name);
    if (s->key->u.key.dir >= 0 && k->key != NFT_CT_ZONE)
      return nr_fail(c, s->key->tok, -EINVAL, "ct %s takes no direction", k->name);
    if (k->key == NFT_CT_SECMARK && (s->e->flags & XF_CONST))
      return nr_fail(c, s->tok, -EINVAL, "ct secmark must not be set to constant value");
    key_like(s->key, &like);
    return eval_arg(c, &s->e, &like);
  }
  case S_PAYLOAD_SET:
    return eval_payload_write(c, s);
  case S_EXTHDR_SET:
    if ((rc = nr_eval_exthdr_write(c, s)) < 0) return rc;
    key_like(s->key, &like);
    return eval_arg(c, &s->e, &like);
  case S_OPTSTRIP:
    return 0;
  case S_DUP:
  case S_FWD:
  case S_TPROXY:
  case S_QUEUE:
  case S_FLOW:
    return nr_eval_fwd_stmt(c, s);
  case S_VMAP: {
    struct nr_expr *m = s->e;
    if ((rc = nr_eval_lhs(c, &m->l)) < 0) return rc;
    struct nr_set *set;
    if (m->r->kind == X_SETREF) {
      if ((rc = nr_set_named(c, m->r->tok, m->r->str, &set)) < 0) return rc;
      if (!set->is_vmap) return nr_fail(c, m->r->tok, -EINVAL, "@%s is not a verdict map", set->name);
      if (!nr_set_takes_key(set, m->l))
        return nr_fail(c, m->r->tok, -EINVAL, "map @%s does not take keys of this type", set->name);
    } else {
      if ((rc = nr_set_anon(c, m->r, m->l, NULL, 1, 0, &set)) < 0) return rc;
    }
    m->r->u.ref.set = set;
    if ((set->flags & NFT_SET_INTERVAL) && (rc = nr_to_big_endian(c, &m->l)) < 0) return rc;
    return 0;
  }
  case S_REJECT:
    return eval_reject(c, s);
  case S_NAT:
    return eval_nat(c, s);
  case S_DYNSET: {
    if (s->u.dyn.meter) {  /* its set is made for it, keyed like it */
      if ((rc = nr_eval_lhs(c, &s->key)) < 0) return rc;
      if (s->key->flags & XF_CONST)
        return nr_fail(c, s->key->tok, -EINVAL, "Meter key expression can not be constant");
      return nr_set_meter(c, s, &s->u.dyn.set);
    }
    struct nr_set *set = s->u.dyn.set;
    if ((rc = nr_eval_lhs(c, &s->key)) < 0) return rc;
    struct nr_expr *key = s->key;
    if (!nr_set_takes_key(set, key))
      return nr_fail(c, key->tok, -EINVAL, "set @%s does not hold values of this type", set->name);
    if (s->u.dyn.op == NFT_DYNSET_OP_UPDATE && !(set->flags & NFT_SET_TIMEOUT) && 0)
      return nr_fail(c, s->tok, -EINVAL, "update needs a set with timeouts");
    if (set->is_map) {
      if (s->e == NULL) return nr_fail(c, s->tok, -EINVAL, "@%s is a map: give \": value\"", set->name);
      if (set->is_vmap || set->is_objmap) return nr_unsupported(c, s->tok, "adding to this map");
      struct nr_expr dl = {.kind = X_VALUE};
      dl.type = (uint8_t)set->data_type;
      dl.bits = (uint16_t)set->data_bits;
      const struct nr_type *t = nr_type_get(set->data_type);
      dl.order = t ? t->order : BO_BE;
      if ((rc = eval_arg(c, &s->e, &dl)) < 0) return rc;
    } else if (s->e) {
      return nr_fail(c, s->e->tok, -EINVAL, "@%s is a set, not a map", set->name);
    }
    if (s->sub && !(set->flags & NFT_SET_EVAL) && 0) return 0;
    return 0;
  }
  case S_OBJREF:
    if (s->u.obj.map) return eval_objref_map(c, s);
    if (s->u.obj.name && strlen(s->u.obj.name) >= 256)
      return nr_fail(c, s->tok, -EINVAL, "object name too long");
    return 0;
  case S_LOG:
  case S_COUNTER:
  case S_LIMIT:
  case S_QUOTA:
  case S_NOTRACK:
  case S_SYNPROXY:
  case S_CONNLIMIT:
  case S_VERDICT:
    return 0;
  default:
    return nr_unsupported(c, s->tok, "this statement");
  }
}

/* ---- merging adjacent header matches (nft's stmt_reduce) ---- */

static int mergeable(const struct nr_stmt *s) {
  if (s->kind != S_MATCH) return 0;
  const struct nr_expr *rel = s->e;
  if (rel->r->kind != X_VALUE || rel->l->kind != X_PAYLOAD) return 0;
  return rel->op == OP_EQ || rel->op == OP_IMPLICIT || rel->op == OP_NEQ;
}

static int can_merge(const struct nr_expr *a, const struct nr_expr *b) {
  if (a->u.pl.base != b->u.pl.base || a->u.pl.off + a->bits != b->u.pl.off) return 0;
  if (a->u.pl.off % 8 || a->bits % 8 || b->u.pl.off % 8 || b->bits % 8) return 0;
  unsigned total = a->bits + b->bits;
  if (total > 128) return 0;
  if (total <= 32) return 1;
  if (a->u.pl.base == PB_LL) return 1;
  return a->bits > 32 || b->bits > 32;
}

static int op_eq(int op) { return op == OP_IMPLICIT ? OP_EQ : op; }

static void merge_run(struct nr_cc *c, struct nr_stmt **sa, int n) {
  /* sort by base and offset (stable) */
  for (int i = 1; i < n; i++)
    for (int j = i; j > 0; j--) {
      const struct nr_expr *x = sa[j - 1]->e->l, *y = sa[j]->e->l;
      if (x->u.pl.base < y->u.pl.base ||
          (x->u.pl.base == y->u.pl.base && x->u.pl.off <= y->u.pl.off))
        break;
      struct nr_stmt *t = sa[j];
      sa[j] = sa[j - 1];
      sa[j - 1] = t;
    }
  int last = 0;
  for (int i = 1; i < n; i++) {
    struct nr_expr *le = sa[last]->e, *te = sa[i]->e;
    if (!can_merge(le->l, te->l) || op_eq(le->op) != op_eq(te->op)) {
      last = i;
      continue;
    }
    /* join: the earlier statement holds both (or the protocol one, nft keeps its place) */
    struct nr_stmt *keep = sa[last], *drop = sa[i];
    int proto = (te->l->flags & XF_PROTOCOL) != 0;
    if (proto) { keep = sa[i]; drop = sa[last]; }
    struct nr_expr *first = le, *second = te;  /* by offset */
    unsigned b1 = first->l->bits / 8, b2 = second->l->bits / 8;
    struct nr_expr *pl = nr_expr_new(c, X_PAYLOAD, first->l->tok);
    struct nr_expr *v = nr_value_new(c, T_INTEGER, BO_BE, (b1 + b2) * 8, first->r->tok);
    if (pl == NULL || v == NULL) return;
    *pl = *first->l;
    pl->u.pl.f = NULL;
    pl->u.pl.p = NULL;
    pl->bits = (uint16_t)((b1 + b2) * 8);
    pl->type = T_INTEGER;
    pl->flags = proto ? XF_PROTOCOL : 0;
    memcpy(v->val, first->r->val, b1);
    memcpy(v->val + b1, second->r->val, b2);
    keep->e->l = pl;
    keep->e->r = v;
    keep->e->op = first->op;
    /* unlink drop */
    for (struct nr_stmt **pp = &c->first; *pp; pp = &(*pp)->next)
      if (*pp == drop) { *pp = drop->next; break; }
    sa[last] = keep;
    if (proto) sa[i] = keep;
    if (proto) last = i;
  }
}

static void merge_payloads(struct nr_cc *c) {
  struct nr_stmt *sa[64];
  int n = 0;
  for (struct nr_stmt *s = c->first, *next; s; s = next) {
    next = s->next;
    if (s->kind != S_MATCH) {
      /* like nft, a run of one match goes on past the statement */
      if (n < 2) continue;
      merge_run(c, sa, n);
      n = 0;
      continue;
    }
    /* "meta protocol ip" in an ip table says nothing: nft drops it */
    const struct nr_expr *rel = s->e;
    if (rel->l->kind == X_META && rel->l->u.key.k->key == NFT_META_PROTOCOL &&
        (rel->op == OP_EQ || rel->op == OP_IMPLICIT) && rel->r->kind == X_VALUE) {
      uint64_t p = nr_be_get(rel->r->val, 2);
      /* (nft deletes it when it looks at the next statement: never the last one) */
      if (((c->family == NFPROTO_IPV4 && p == 0x0800) || (c->family == NFPROTO_IPV6 && p == 0x86dd)) &&
          s->next != NULL) {
        for (struct nr_stmt **pp = &c->first; *pp; pp = &(*pp)->next)
          if (*pp == s) { *pp = s->next; break; }
        continue;
      }
    }
    if (mergeable(s) && n < 64) sa[n++] = s;
  }
  if (n > 1) merge_run(c, sa, n);
}

/* ---- the rule ---- */

static int init_pctx(struct nr_cc *c) {
  int base;
  const struct nr_proto *p = nr_family_proto(c->family, &base);
  memset(&c->pctx, 0, sizeof c->pctx);
  if (p == NULL) return nr_fail(c, -1, -EAFNOSUPPORT, "unknown table family %d", c->family);
  c->pctx.p[base] = p;
  return 0;
}

int nr_eval_rule(struct nr_cc *c) {
  int rc;
  if ((rc = init_pctx(c)) < 0) return rc;
  struct nr_stmt *terminal = NULL;
  c->cur_prev = NULL;
  for (struct nr_stmt *s = c->first; s; s = s->next) {
    c->cur = s;
    if (terminal) {
      char a[64], b[64];
      return nr_fail(c, s->tok, -EINVAL, "%s after terminal statement %s has no effect",
                     nr_tokq(c, s->tok, a, sizeof a), nr_tokq(c, terminal->tok, b, sizeof b));
    }
    if ((rc = nr_eval_stmt(c, s)) < 0) return rc;
    if (c->oom) return -ENOMEM;
    if (is_terminal(s)) terminal = s;
    c->cur_prev = s;
  }
  merge_payloads(c);
  return 0;
}

/* for eval_fwd.c: a statement's value read as `like` */
int nr_eval_arg(struct nr_cc *c, struct nr_expr **ep, const struct nr_expr *like) {
  return eval_arg(c, ep, like);
}
