/* The decoder's second pass, after nft's own postprocessing: loads become header fields (a
 * merged load splits back into its fields), values take the type of what they are compared
 * with, bit masks become prefixes, bit fields or flag lists, and the protocol matches nft
 * adds by itself are hidden again, with nft's rules for when they are implied. */
#include "nftrule/nr_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_nat.h>
#include <linux/netfilter/nf_tables.h>
#include <libnftnl/set.h>
#include <libnftnl/udata.h>

#include "nftrule/nr_decode.h"

/* ---- values ---- */

/* A value read from the kernel (register bytes) as a value like `like`. */
static void type_value(struct nr_expr *v, const struct nr_expr *like) {
  if (v == NULL) return;
  if (v->kind == X_RANGE) { type_value(v->l, like); type_value(v->r, like); return; }
  if (v->kind == X_PREFIX) { type_value(v->l, like); return; }
  if (v->kind != X_VALUE) return;
  const struct nr_type *t = nr_type_get(like->type);
  if (v->flags & XF_WIRE) {
    unsigned n = (v->bits + 7) / 8;
    if (like->order == BO_HOST && !(t && t->base == NB_STRING))
      for (unsigned i = 0; i < n / 2; i++) {
        uint8_t x = v->val[i];
        v->val[i] = v->val[n - 1 - i];
        v->val[n - 1 - i] = x;
      }
    v->flags &= (uint8_t)~XF_WIRE;
  }
  v->type = like->type;
  v->order = like->order;
}

static int vzero(const struct nr_expr *v) {
  for (unsigned i = 0; i < (v->bits + 7u) / 8; i++)
    if (v->val[i]) return 0;
  return 1;
}

/* ---- header fields ---- */

void nr_payload_raw(struct nr_expr *p) {
  p->u.pl.is_raw = 1;
  p->u.pl.p = NULL;
  p->u.pl.f = NULL;
  p->type = T_XINTEGER;
  p->order = BO_BE;
  p->flags &= (uint16_t)~XF_PROTOCOL;
  if (p->u.pl.base == PB_TH && p->bits == 16 && (p->u.pl.off == 0 || p->u.pl.off == 16)) {
    const struct nr_field *f = &nr_proto_th.f[p->u.pl.off == 0 ? 0 : 1];
    p->u.pl.p = &nr_proto_th;
    p->u.pl.f = f;
    p->type = f->type;
  }
}

static const struct nr_proto *desc_at(struct nr_dc *d, int base) {
  const struct nr_proto *p = d->c.pctx.p[base];
  return p == &nr_proto_unknown ? NULL : p;
}

/* The field of the known protocol at the load's base and offset, as nft's
 * payload_expr_complete finds it (offsets past stacked link headers adjusted). */
static const struct nr_proto *stacked_desc(struct nr_dc *d, const struct nr_proto *top,
                                           unsigned off, unsigned *skip) {
  *skip = 0;
  if (top->base != PB_LL || off < top->hdr_bits) return top;
  unsigned total = 0;
  for (int i = 0; i < d->c.pctx.nstacked; i++) {
    const struct nr_proto *s = d->c.pctx.stacked[i];
    if (off < total + s->hdr_bits) { *skip = total; return s; }
    total += s->hdr_bits;
  }
  *skip = total;
  return top;
}

static int icmp_dep_ok(struct nr_dc *d, const struct nr_field *f) {
  static const int dep_type[] = {0, 8, 3, 5, 128, 2, 4, 130};
  int have = d->c.pctx.icmp_type;
  if (!f->icmp_dep || !have) return 1;
  int want = dep_type[f->icmp_dep];
  return have == want || (f->icmp_dep == 4 && have == 129);
}

static void to_field(struct nr_expr *p, const struct nr_proto *desc, const struct nr_field *f) {
  p->u.pl.p = desc;
  p->u.pl.f = f;
  p->u.pl.is_raw = 0;
  p->type = f->type;
  p->order = f->order;
  if (nr_field_is_protocol(desc, f)) p->flags |= XF_PROTOCOL;
}

static void payload_complete(struct nr_dc *d, struct nr_expr *p) {
  if (!p->u.pl.is_raw) return;
  const struct nr_proto *desc = desc_at(d, p->u.pl.base);
  if (desc == NULL || desc->f == NULL) return;
  unsigned skip;
  desc = stacked_desc(d, desc, p->u.pl.off, &skip);
  for (int i = 0; i < desc->nf; i++) {
    const struct nr_field *f = &desc->f[i];
    if (f->off + skip == p->u.pl.off && f->bits == p->bits && icmp_dep_ok(d, f)) {
      to_field(p, desc, f);
      return;
    }
  }
}

/* ---- dependencies: nft's payload_dependency_* ---- */

static void dep_store(struct nr_dc *d, struct nr_stmt *s, int base) {
  const struct nr_expr *rel = s->e;
  /* an icmp echo type match is never one (nft's payload_dependency_store_icmp_type) */
  if (rel->l->kind == X_PAYLOAD && !rel->l->u.pl.is_raw && rel->r->kind == X_VALUE &&
      rel->r->bits == 8) {
    const struct nr_proto *p = rel->l->u.pl.p;
    uint8_t type = rel->r->val[0];
    if (p == &nr_proto_icmp) {
      if (type == 0) type = 8;
      d->c.pctx.icmp_type = type;
      if (type == 8) return;
    } else if (p == &nr_proto_icmp6) {
      d->c.pctx.icmp_type = type;
      if (type == 128 || type == 129) return;
    }
  }
  if (base + 1 < 6) d->pdeps[base + 1] = s;
}

static struct nr_stmt *dep_get(struct nr_dc *d, int base) {
  if (d->pdeps[base]) return d->pdeps[base];
  if (base == PB_TH && d->pdeps[PB_IH]) return d->pdeps[PB_IH];
  return NULL;
}

static void dep_release(struct nr_dc *d, int base) {
  int b = d->pdeps[base] ? base : (base == PB_TH && d->pdeps[PB_IH]) ? PB_IH : -1;
  if (b < 0) return;
  d->pdeps[b]->hidden = 1;
  if (d->pdeps[b] == d->prev) d->prev = NULL;
  d->pdeps[b] = NULL;
}

static int may_kill_icmp(struct nr_dc *d, const struct nr_expr *dep, const struct nr_expr *p) {
  static const int dep_type[] = {0, 8, 3, 5, 128, 2, 4, 130};
  if (!p->u.pl.f || !p->u.pl.f->icmp_dep) return 0;
  if (dep->l->kind != X_PAYLOAD || dep->l->u.pl.p != p->u.pl.p) return 0;
  return d->c.pctx.icmp_type == dep_type[p->u.pl.f->icmp_dep];
}

static int may_kill(struct nr_dc *d, const struct nr_expr *p) {
  struct nr_stmt *ds = dep_get(d, p->u.pl.base);
  const struct nr_expr *dep = ds->e, *dl = dep->l;
  int fam = d->c.family;
  if (fam == NFPROTO_BRIDGE || fam == NFPROTO_NETDEV || fam == NFPROTO_INET) {
    /* ip6 nexthdr / ip protocol stay: they also say which network protocol it is */
    if (dl->kind == X_PAYLOAD && dl->u.pl.base == PB_NH && !dl->u.pl.is_raw &&
        (dl->u.pl.p == &nr_proto_ip || dl->u.pl.p == &nr_proto_ip6) && p->u.pl.base == PB_TH)
      return 0;
    if (dl->kind == X_PAYLOAD && (dep->op == OP_EQ) && p->u.pl.base == dl->u.pl.base) {
      if (p->flags & XF_PROTOCOL) return 0;
      if (p->u.pl.base == PB_LL) {
        if (dl->u.pl.p == &nr_proto_vlan) return 0;
        if (dl->u.pl.p == &nr_proto_eth && dep->r->kind == X_VALUE && dep->r->bits == 16)
          return nr_be_get(dep->r->val, 2) == 0x8100;
      }
    }
  }
  if (p->u.pl.base != PB_TH) return 1;
  if (dl->kind != X_PAYLOAD || dl->u.pl.base != PB_TH) return 1;
  if (dl->u.pl.p == &nr_proto_icmp || dl->u.pl.p == &nr_proto_icmp6) return may_kill_icmp(d, dep, p);
  return 1;
}

static void dep_kill(struct nr_dc *d, const struct nr_expr *p) {
  if (p->u.pl.p == NULL) return;  /* nothing known about a raw load (th sport is known) */
  if (dep_get(d, p->u.pl.base) && may_kill(d, p)) dep_release(d, p->u.pl.base);
}

/* ---- protocol context: what an equality match tells (nft's pctx update) ---- */

static void pctx_update(struct nr_dc *d, const struct nr_expr *l, const struct nr_expr *v) {
  if (v->kind != X_VALUE) return;
  if (l->kind == X_PAYLOAD && (l->u.pl.is_raw || !(l->flags & XF_PROTOCOL))) return;
  nr_pctx_learn(&d->c.pctx, d->c.family, l, nr_be_get(v->val, (v->bits + 7u) / 8));
}

/* ---- matches on header fields ---- */

/* Splits a load of several adjacent fields (nft merges them) into one match each. */
static int payload_expand(struct nr_dc *d, struct nr_stmt *s) {
  struct nr_expr *rel = s->e, *p = rel->l, *v = rel->r;
  const struct nr_proto *desc = desc_at(d, p->u.pl.base);
  unsigned off = p->u.pl.off, left = p->bits, at = 0;
  struct nr_stmt *after = s, *first = NULL;
  int base = p->u.pl.base;
  struct { struct nr_expr *f; unsigned tbits; } parts[16];
  int n = 0;
  if (desc && desc->f) {
    unsigned skip;
    desc = stacked_desc(d, desc, off, &skip);
    for (int i = 0; i < desc->nf && left > 0 && n < 16; i++) {
      const struct nr_field *f = &desc->f[i];
      if (f->off + skip != off || !icmp_dep_ok(d, f)) continue;
      struct nr_expr *x = nr_expr_new(&d->c, X_PAYLOAD, -1);
      if (x == NULL) return -ENOMEM;
      *x = *p;
      x->flags = 0;
      to_field(x, desc, f);
      x->u.pl.off = (uint16_t)off;
      if (f->bits <= left) {
        x->bits = f->bits;
        left -= f->bits;
        off += f->bits;
      } else {
        x->bits = (uint16_t)left;
        left = 0;
      }
      parts[n].f = x;
      parts[n++].tbits = f->bits;
    }
  }
  if (left > 0) {  /* what no field covers stays a raw load */
    struct nr_expr *x = nr_expr_new(&d->c, X_PAYLOAD, -1);
    if (x == NULL) return -ENOMEM;
    *x = *p;
    x->flags = 0;
    x->u.pl.off = (uint16_t)off;
    x->bits = (uint16_t)left;
    nr_payload_raw(x);
    parts[n].f = x;
    parts[n++].tbits = left;
  }
  for (int k = 0; k < n; k++) {
    struct nr_expr *f = parts[k].f;
    unsigned bytes = (f->bits + 7) / 8;
    struct nr_expr *val = nr_value_new(&d->c, f->type, f->order, f->bits, -1);
    if (val == NULL) return -ENOMEM;
    memcpy(val->val, v->val + at / 8, bytes);
    val->flags |= XF_WIRE;
    at += f->bits;
    type_value(val, f);
    struct nr_expr *rhs = val;
    if (!f->u.pl.is_raw && f->bits < parts[k].tbits) {
      /* fewer bytes than the field: a prefix (ip saddr 10.0.0.0/8) */
      struct nr_expr *full = nr_value_new(&d->c, f->type, f->order, parts[k].tbits, -1);
      struct nr_expr *pre = nr_expr_new(&d->c, X_PREFIX, -1);
      if (full == NULL || pre == NULL) return -ENOMEM;
      memcpy(full->val, val->val, bytes);
      pre->l = full;
      pre->u.pre.plen = f->bits;
      pre->type = f->type;
      pre->bits = (uint16_t)parts[k].tbits;
      f->bits = (uint16_t)parts[k].tbits;
      rhs = pre;
    }
    struct nr_stmt *ns = nr_stmt_new(&d->c, S_MATCH, -1);
    struct nr_expr *nrel = nr_expr_new(&d->c, X_BINOP, -1);
    if (ns == NULL || nrel == NULL) return -ENOMEM;
    nrel->op = rel->op;
    nrel->flags = XF_WHOLE;
    nrel->l = f;
    nrel->r = rhs;
    ns->e = nrel;
    ns->next = after->next;
    after->next = ns;
    if (d->c.last == after) d->c.last = ns;
    after = ns;
    if (first == NULL) first = ns;
    if (rel->op == OP_EQ) pctx_update(d, f, rhs);
    int b = base;
    /* a protocol field naming a header of the same layer (ether type vlan) */
    if (rel->op == OP_EQ && (f->flags & XF_PROTOCOL) && rhs->kind == X_VALUE && !f->u.pl.is_raw) {
      const struct nr_proto *up = nr_proto_up(f->u.pl.p, (uint32_t)nr_be_get(rhs->val, bytes));
      if (up && up->base == f->u.pl.p->base) b--;
    }
    dep_kill(d, f);
    if (rel->op == OP_EQ && (f->flags & XF_PROTOCOL)) dep_store(d, ns, b);
  }
  s->hidden = 2;  /* replaced by its parts */
  d->resume = after;
  return 0;
}

/* nft's payload_expr_trim: a masked load that is a bit field (or adjacent bit fields) of a
 * known header becomes a load of just those bits; *shift: how far the bits sit from the
 * load's last bit. */
static int payload_trim(struct nr_dc *d, struct nr_expr *p, const struct nr_expr *mask,
                        unsigned *shift) {
  const struct nr_proto *desc = desc_at(d, p->u.pl.base);
  unsigned bytes = (mask->bits + 7) / 8;
  if (desc == NULL || desc->f == NULL || bytes > 8) return 0;
  uint64_t m = nr_be_get(mask->val, bytes);
  if (m == 0) return 0;
  unsigned moff = (unsigned)__builtin_ctzll(m), mlen = moff;
  while (mlen < 64 && (m >> mlen) & 1) mlen++;  /* the first zero above the lowest run */
  unsigned skip, left = p->bits, len = 0;
  desc = stacked_desc(d, desc, p->u.pl.off, &skip);
  unsigned off = bytes * 8 - mlen, at = p->u.pl.off - skip + off;
  for (int i = 0; i < desc->nf; i++) {
    const struct nr_field *f = &desc->f[i];
    if (f->off != at) continue;
    if (f->bits > left) return 0;
    left -= f->bits;
    at += f->bits;
    len += f->bits;
    if (left == 0) return 0;
    if (moff + len == mlen) {
      p->u.pl.off = (uint16_t)(p->u.pl.off + off);
      p->bits = (uint16_t)len;
      *shift = moff;
      nr_payload_raw(p);
      payload_complete(d, p);
      return 1;
    }
  }
  return 0;
}

/* values shifted right and cut to the field's width */
static void unshift(struct nr_expr *v, unsigned shift, unsigned bits) {
  if (v == NULL) return;
  if (v->kind == X_RANGE) { unshift(v->l, shift, bits); unshift(v->r, shift, bits); return; }
  if (v->kind != X_VALUE) return;
  unsigned n = (v->bits + 7) / 8, m = (bits + 7) / 8;
  uint64_t x = nr_be_get(v->val, n) >> shift;
  memset(v->val, 0, NR_VMAX);
  nr_be_put(v->val, m, x);
  v->bits = (uint16_t)bits;
}

/* types nft prints masks of as prefixes (its DTYPE_F_PREFIX) */
static int is_prefix_type(int type) {
  return type == T_IPADDR || type == T_IP6ADDR || type == T_MARK || type == T_DEVGROUP ||
         type == T_REALM;
}

static int popcount(const struct nr_expr *v) {
  int n = 0;
  for (unsigned i = 0; i < (v->bits + 7u) / 8; i++) n += __builtin_popcount(v->val[i]);
  return n;
}

/* a mask that is contiguous ones from the top: its length, else -1 */
static int mask_plen(const struct nr_expr *m) {
  unsigned total = (m->bits + 7) / 8 * 8;
  int plen = 0, zero = 0;
  for (unsigned b = 0; b < total; b++) {
    int on = (m->val[b / 8] >> (7 - b % 8)) & 1;
    if (on && zero) return -1;
    if (on) plen++;
    else zero = 1;
  }
  return plen;
}

/* ---- extension headers ---- */

/* A tcp option, or an ip option or IPv6 extension header, says its protocol: the match
 * before that said it goes (nft's exthdr_dependency_kill). */
static void exthdr_dep_kill(struct nr_dc *d, const struct nr_expr *e) {
  int base = e->u.ex.op == NFT_EXTHDR_OP_TCPOPT ? PB_TH
             : e->u.ex.op == NFT_EXTHDR_OP_IPV4 || e->u.ex.op == NFT_EXTHDR_OP_IPV6 ? PB_NH : 0;
  if (base && dep_get(d, base)) dep_release(d, base);
}

/* A masked load of an option or extension header that is one field (nft's
 * exthdr_find_template): the load becomes the field; *shift as payload_trim's. Returns 1,
 * 0 when it is not one, -1 when nft would list a field it cannot name. */
static int exthdr_trim(struct nr_expr *e, const struct nr_expr *mask, unsigned *shift) {
  unsigned bytes = (mask->bits + 7) / 8;
  if (bytes > 8) return 0;
  uint64_t m = nr_be_get(mask->val, bytes);
  if (m == 0) return 0;
  unsigned moff = (unsigned)__builtin_ctzll(m), mlen = moff;
  while (mlen < 64 && (m >> mlen) & 1) mlen++;
  unsigned off = e->u.ex.off + bytes * 8 - mlen, len = mlen - moff;
  switch (e->u.ex.op) {
  case NFT_EXTHDR_OP_TCPOPT:
  case NFT_EXTHDR_OP_IPV4:
    /* only a load no field covers is looked at again */
    if (e->u.ex.f != NULL || nr_xfield_at(e->u.ex.d, off, len) == NULL) return 0;
    break;
  case NFT_EXTHDR_OP_IPV6:
    break;
  default:
    return 0;
  }
  struct nr_expr x = *e;
  nr_exthdr_name(&x, e->u.ex.type, off, len);
  if (x.u.ex.f == NULL) return -1;  /* nft renames the load "unknown" here */
  *e = x;
  *shift = moff;
  return 1;
}

/* ---- the typing walk ---- */

static int post_expr(struct nr_dc *d, struct nr_expr **ep);

static const struct nr_type *dtype(const struct nr_expr *e) { return nr_type_get(e->type); }

static int typed_set(struct nr_dc *d, struct nr_expr *r, const struct nr_expr *key,
                     const struct nr_expr *data);

static int post_expr(struct nr_dc *d, struct nr_expr **ep) {
  struct nr_expr *e = *ep;
  int rc = 0;
  switch (e->kind) {
  case X_PAYLOAD:
    payload_complete(d, e);
    dep_kill(d, e);
    return 0;
  case X_UNARY:
    if ((rc = post_expr(d, &e->l)) < 0) return rc;
    e->type = e->l->type;
    e->order = e->l->order == BO_HOST ? BO_BE : BO_HOST;
    return 0;
  case X_CONCAT:
    d->in_concat++;
    for (int i = 0; i < e->n && rc == 0; i++) rc = post_expr(d, &e->v[i]);
    d->in_concat--;
    return rc;
  case X_BINOP:
    if ((rc = post_expr(d, &e->l)) < 0) return rc;
    if (e->op == OP_LSHIFT || e->op == OP_RSHIFT) {
      struct nr_expr like = {.type = T_INTEGER, .order = BO_HOST, .bits = 32};
      type_value(e->r, &like);
    } else {
      type_value(e->r, e->l);
    }
    e->type = e->l->type;
    e->order = e->l->order;
    if (e->op == OP_AND && d->in_concat && e->l->kind == X_PAYLOAD && e->r->kind == X_VALUE) {
      /* in a concatenation the mask of a bit field goes without saying (no relation to
       * adjust) */
      unsigned shift;
      if (payload_trim(d, e->l, e->r, &shift)) *ep = e->l;
    }
    return 0;
  case X_CT: {
    uint32_t k = e->u.key.k->key;
    if (k == NFT_CT_SRC || k == NFT_CT_DST) {
      const struct nr_proto *nh = desc_at(d, PB_NH);
      if (nh == &nr_proto_ip) { e->type = T_IPADDR; e->bits = 32; }
      else if (nh == &nr_proto_ip6) { e->type = T_IP6ADDR; e->bits = 128; }
      else return nr_dfail(d, "ct address of unknown family");
    } else if (k == NFT_CT_PROTO_SRC || k == NFT_CT_PROTO_DST) {
      const struct nr_proto *th = desc_at(d, PB_TH);
      e->type = th && th->nf > 1 && th->f[0].type == T_INET_SERVICE ? T_INET_SERVICE : T_INTEGER;
    }
    return 0;
  }
  case X_HASH:
    if (e->u.gen.e) return post_expr(d, &e->u.gen.e);
    return 0;
  case X_EXTHDR:
    exthdr_dep_kill(d, e);
    return 0;
  case X_MAP:
    if ((rc = post_expr(d, &e->l)) < 0) return rc;
    return 0;
  default:
    return 0;
  }
}

static const struct nr_expr *base_of(const struct nr_expr *e) {
  return e->kind == X_UNARY ? e->l : e;
}

/* meta and ct matches: types, protocol context and dependencies (nft's
 * ct_meta_common_postprocess) */
static void meta_ct_post(struct nr_dc *d, struct nr_stmt *s) {
  struct nr_expr *rel = s->e, *l = rel->l;
  int base = 0;
  if (l->kind == X_META) {
    switch (l->u.key.k->key) {
    case NFT_META_NFPROTO: case NFT_META_PROTOCOL: base = PB_LL; break;
    case NFT_META_L4PROTO: base = PB_NH; break;
    default: base = 0;
    }
  } else if (l->kind == X_CT) {
    switch (l->u.key.k->key) {
    case NFT_CT_L3PROTOCOL: base = PB_LL; break;
    case NFT_CT_SRC: case NFT_CT_DST: case NFT_CT_PROTOCOL:
    case NFT_CT_SRC_IP: case NFT_CT_DST_IP: case NFT_CT_SRC_IP6: case NFT_CT_DST_IP6:
      base = PB_NH; break;
    case NFT_CT_PROTO_SRC: case NFT_CT_PROTO_DST: base = PB_TH; break;
    default: base = 0;
    }
  }
  if (rel->op != OP_EQ || rel->r->kind != X_VALUE) return;
  pctx_update(d, l, rel->r);
  if (base >= PB_TH) return;
  int protocol = l->kind == X_META &&
                 (l->u.key.k->key == NFT_META_NFPROTO || l->u.key.k->key == NFT_META_L4PROTO ||
                  l->u.key.k->key == NFT_META_PROTOCOL || l->u.key.k->key == NFT_META_IIFTYPE);
  struct nr_stmt *ds = d->pdeps[base];
  if (ds && base > 0) {
    /* nft's meta_may_dependency_kill */
    const struct nr_expr *dep = ds->e, *dl = dep->l;
    int nfproto = 0, decided = 0, kill = 1;
    if (dl->kind == X_META && dl->u.key.k->key == NFT_META_NFPROTO) nfproto = dep->r->val[0];
    else if (dl->kind == X_META && dl->u.key.k->key == NFT_META_PROTOCOL) {
      uint64_t et = nr_be_get(dep->r->val, 2);
      nfproto = et == 0x0800 ? 2 : et == 0x86dd ? 10 : 0;
    } else if (dl->kind == X_PAYLOAD && dl->u.pl.base == PB_LL && dl->type == T_ETHERTYPE) {
      uint64_t et = nr_be_get(dep->r->val, 2);
      nfproto = et == 0x0800 ? 2 : et == 0x86dd ? 10 : 0;
    } else {
      decided = 1;
    }
    if (!decided) {
      int fam = d->c.family;
      if (fam == NFPROTO_IPV4 || fam == NFPROTO_IPV6) kill = fam == nfproto;
      else if (fam != NFPROTO_INET && fam != NFPROTO_NETDEV && fam != NFPROTO_BRIDGE) kill = 1;
      else if (!(l->kind == X_META && l->u.key.k->key == NFT_META_L4PROTO)) kill = 1;
      else {
        int l4 = rel->r->val[0];
        if (l4 != 1 && l4 != 58) kill = 0;
        else kill = !((nfproto == 2 && l4 == 58) || (nfproto == 10 && l4 == 1));
      }
    }
    if (kill) dep_release(d, base);
  }
  if (protocol) dep_store(d, s, base);
}

/* values (a value, a range, or an anonymous set's elements) shifted and cut to a bit field's
 * width, then typed as the field (nft's binop_adjust) */
static void adjust(struct nr_expr *r, unsigned shift, const struct nr_expr *field) {
  if (r->kind == X_SET) {
    /* elements keep the set's key type, only their bits move */
    for (int i = 0; i < r->n; i++) {
      struct nr_expr *x = r->v[i], like;
      if (x->kind == X_MAPPING) x = x->l;
      like = *field;
      like.type = x->kind == X_VALUE ? x->type : x->l ? x->l->type : field->type;
      if (shift) adjust(x, shift, &like);
    }
    return;
  }
  if (r->kind == X_MAPPING || r->kind == X_PREFIX) { adjust(r->l, shift, field); return; }
  if (r->kind == X_RANGE) { adjust(r->l, shift, field); adjust(r->r, shift, field); return; }
  if (r->kind != X_VALUE) return;
  const struct nr_type *t = nr_type_get(field->type);
  if (shift || (r->bits != field->bits && r->bits <= 64 && field->bits <= 64 && t &&
                t->base != NB_STRING))
    unshift(r, shift, field->bits);
  r->type = field->type;
  r->order = field->order;
}

/* the first element of an anonymous set on an icmp type field tells which icmp message the
 * rule is about (nft's payload_icmp_check) */
static void icmp_check(struct nr_dc *d, struct nr_expr *p, const struct nr_expr *set) {
  const struct nr_proto *desc = desc_at(d, PB_TH);
  if (set->kind != X_SET || set->n == 0 || set->v[0]->kind != X_VALUE) return;
  if (p->u.pl.base != PB_TH || p->bits != 8 || set->v[0]->bits != 8 || d->c.pctx.icmp_type)
    return;
  if (desc != &nr_proto_icmp && desc != &nr_proto_icmp6) return;
  if (p->u.pl.off != desc->f[0].off || p->bits != desc->f[0].bits) return;
  to_field(p, desc, &desc->f[0]);
  d->c.pctx.icmp_type = set->v[0]->val[0];
}

/* a relation on a header field (nft's payload_match_postprocess) */
static int payload_match(struct nr_dc *d, struct nr_stmt *s) {
  struct nr_expr *rel = s->e, *p = rel->l, *r = rel->r;
  int rc;
  if ((rel->op == OP_EQ || rel->op == OP_NEQ) && r->kind == X_VALUE) return payload_expand(d, s);
  if (r->kind == X_SET || r->kind == X_SETREF) {
    if (!(r->flags & XF_CONST) && (rc = typed_set(d, r, p, NULL)) < 0) return rc;
    icmp_check(d, p, r);
  }
  payload_complete(d, p);
  if (r->kind != X_SET && r->kind != X_SETREF) {
    type_value(r, p);
    rel->flags |= XF_WHOLE;
  }
  dep_kill(d, p);
  return 0;
}

/* a relation on "x & mask" (or "(x & mask) >> n"): flags, a prefix, a bit field
 * (nft's relational_binop_postprocess) */
static int binop_match(struct nr_dc *d, struct nr_stmt *s) {
  struct nr_expr *rel = s->e, *r = rel->r, *b;
  int rc;
  if ((rc = post_expr(d, &rel->l)) < 0) return rc;
  b = rel->l;
  struct nr_expr *l = b->l;
  if (r->kind == X_SET || r->kind == X_SETREF) {
    if ((rc = typed_set(d, r, b, NULL)) < 0) return rc;
    r->flags |= XF_CONST;  /* typed */
  } else {
    type_value(r, b);
  }
  const struct nr_type *t = dtype(l);
  if (b->op == OP_AND && (rel->op == OP_EQ || rel->op == OP_NEQ) && t && t->base == NB_BITMASK &&
      t->id != T_BITMASK) {
    if (r->kind != X_VALUE) return 0;
    if (vzero(r)) {
      /* flags: x & flags != 0 is "x flags", x & flags == 0 is "x ! flags" */
      rel->l = l;
      rel->r = b->r;
      rel->r->flags |= XF_LIST;
      rel->op = rel->op == OP_NEQ ? OP_IMPLICIT : OP_NEG;
      return 0;
    }
    /* x & flag == flag stays as it is; anything else is "x value / mask" (several flags in
     * the value make it an expression of flags in nft, never equal to the mask) */
    if (popcount(r) > 1 || memcmp(r->val, b->r->val, (r->bits + 7) / 8) != 0)
      rel->flags |= XF_FLAGCMP;
    return 0;
  }
  if (b->op == OP_AND && is_prefix_type(l->type) && r->kind == X_VALUE &&
      b->r->kind == X_VALUE && mask_plen(b->r) >= 0) {
    struct nr_expr *pre = nr_expr_new(&d->c, X_PREFIX, -1);
    if (pre == NULL) return -ENOMEM;
    pre->l = r;
    pre->u.pre.plen = mask_plen(b->r);
    pre->type = l->type;
    pre->bits = l->bits;
    rel->l = l;
    rel->r = pre;
    return 0;
  }
  unsigned shift;
  if (b->op == OP_AND && b->r->kind == X_VALUE && l->kind == X_EXTHDR) {
    if ((rc = exthdr_trim(l, b->r, &shift)) < 0) return nr_dfail(d, "exthdr bit field");
    if (rc == 0) return 0;
    adjust(r, shift, l);
    rel->l = l;
    return 0;
  }
  if (b->op == OP_AND && b->r->kind == X_VALUE) {
    if (l->kind != X_PAYLOAD || !payload_trim(d, l, b->r, &shift)) return 0;
    adjust(r, shift, l);
    rel->l = l;
    return payload_match(d, s);
  }
  if (b->op == OP_RSHIFT && l->kind == X_BINOP && l->op == OP_AND && b->r->kind == X_VALUE &&
      l->r->kind == X_VALUE && l->l->kind == X_PAYLOAD) {
    /* "(x & mask) >> n": the shift undoes the field's own shift */
    struct nr_expr *p = l->l;
    if (!payload_trim(d, p, l->r, &shift)) return 0;
    unshift(b->r, shift, p->bits);
    b->l = p;
    payload_complete(d, p);
    dep_kill(d, p);
    if (vzero(b->r)) {
      rel->l = p;
      if (r->kind == X_SET) adjust(r, 0, p);
      else type_value(r, p);
    }
    return 0;
  }
  return 0;
}

static int post_match(struct nr_dc *d, struct nr_stmt *s) {
  struct nr_expr *rel = s->e, *r = rel->r;
  int rc;
  if (rel->l->kind == X_PAYLOAD) return payload_match(d, s);
  if (rel->l->kind == X_BINOP) return binop_match(d, s);
  if ((rc = post_expr(d, &rel->l)) < 0) return rc;
  const struct nr_expr *l = rel->l;
  if (r->kind == X_SET || r->kind == X_SETREF) {
    if ((rc = typed_set(d, r, l, NULL)) < 0) return rc;
  } else {
    type_value(r, l);
  }
  const struct nr_expr *bl = base_of(l);
  if (bl->kind == X_META || bl->kind == X_CT) {
    struct nr_expr *save = rel->l;
    rel->l = (struct nr_expr *)bl;
    meta_ct_post(d, s);
    rel->l = save;
  }
  return 0;
}

/* two matches "x >= a" and "x <= b" are the range "x a-b" (nft's expr_postprocess_range) */
static void merge_range(struct nr_dc *d, struct nr_stmt *s) {
  struct nr_stmt *p = d->prev;
  if (p == NULL || p->kind != S_MATCH || s->kind != S_MATCH || p->hidden) return;
  struct nr_expr *a = p->e, *b = s->e;
  const struct nr_expr *la = base_of(a->l), *lb = base_of(b->l);
  if (la->kind != lb->kind) return;
  int op;
  if (b->op == OP_LTE && a->op == OP_GTE) op = OP_EQ;
  else if (b->op == OP_GT && a->op == OP_LT) op = OP_NEQ;
  else return;
  if (a->r->kind != X_VALUE || b->r->kind != X_VALUE) return;
  struct nr_expr *range = nr_expr_new(&d->c, X_RANGE, -1);
  if (range == NULL) return;
  range->l = a->r;
  range->r = b->r;
  range->type = b->r->type;
  range->order = b->r->order;
  b->r = range;
  b->op = (uint8_t)op;
  p->hidden = 2;
}

/* ---- sets and maps ---- */

struct kelem {
  uint8_t k[NR_VMAX], kend[NR_VMAX];
  int end, has_end, idx;
  struct nftnl_set_elem *e;
  struct nr_expr *x;       /* the element as listed */
  uint8_t sk[NR_VMAX];     /* nft's sort value, most significant byte first */
};

/* kernel order of an interval set's elements: by key, an end before a start at the same key */
static int wire_cmp(const void *a, const void *b) {
  const struct kelem *x = a, *y = b;
  int c = memcmp(x->k, y->k, NR_VMAX);
  if (c == 0) c = y->end - x->end;
  return c ? c : x->idx - y->idx;
}

/* nft's listing order: its merge sort by value (list_expr_sort), equal values included:
 * the list is cut after its middle, both halves sorted, and an element of the first half
 * goes before one of the second only when smaller. */
static void nft_msort(struct kelem **a, struct kelem **tmp, int n) {
  if (n < 2) return;
  int m = (n + 1) / 2;
  nft_msort(a, tmp, m);
  nft_msort(a + m, tmp, n - m);
  int i = 0, j = m, k = 0;
  while (i < m && j < n) tmp[k++] = memcmp(a[i]->sk, a[j]->sk, NR_VMAX) < 0 ? a[i++] : a[j++];
  while (i < m) tmp[k++] = a[i++];
  while (j < n) tmp[k++] = a[j++];
  memcpy(a, tmp, (size_t)n * sizeof *a);
}

/* The value of `bytes` key bytes (a concatenation's part: at byte `at`) typed like `like`. */
static struct nr_expr *key_value(struct nr_dc *d, const uint8_t *k, unsigned at, unsigned bytes,
                                 const struct nr_expr *like) {
  struct nr_expr *v = nr_value_new(&d->c, like->type, like->order, bytes * 8, -1);
  if (v == NULL) return NULL;
  memcpy(v->val, k + at, bytes);
  v->flags |= XF_WIRE;
  type_value(v, like);
  v->bits = like->bits ? like->bits : (uint16_t)(bytes * 8);
  return v;
}

/* [lo, hi] as an aligned block: the length of the prefix they share, else -1 */
static int block_plen(const uint8_t *lo, const uint8_t *hi, unsigned bytes) {
  unsigned total = bytes * 8, b = total;
  /* from the last bit: lo 0 and hi 1 */
  while (b > 0 && !((lo[(b - 1) / 8] >> (7 - (b - 1) % 8)) & 1) &&
         ((hi[(b - 1) / 8] >> (7 - (b - 1) % 8)) & 1))
    b--;
  for (unsigned i = 0; i < b; i++)
    if (((lo[i / 8] ^ hi[i / 8]) >> (7 - i % 8)) & 1) return -1;
  return (int)b;
}

/* One interval [lo, hi] of an interval set as nft lists it: a value, a prefix (addresses,
 * marks...), a wildcard string ("eth*") or a range (nft's add_interval; in a concatenation
 * concat_range_aggregate). */
static struct nr_expr *interval_elem(struct nr_dc *d, const uint8_t *lo, const uint8_t *hi,
                                     unsigned bytes, const struct nr_expr *like, int in_concat) {
  struct nr_expr *a = key_value(d, lo, 0, bytes, like);
  if (a == NULL || memcmp(lo, hi, bytes) == 0) return a;
  int plen = block_plen(lo, hi, bytes);
  const struct nr_type *t = nr_type_get(like->type);
  int is_string = t && t->base == NB_STRING;
  struct nr_expr *x;
  if (is_string && plen >= 0 && plen % 8 == 0) {
    size_t n = in_concat ? (size_t)plen / 8 : strnlen((const char *)lo, bytes);
    if (n > 0 && n < bytes) {
      /* no NUL: printed as "abc*" */
      memset(a->val + n, 0, NR_VMAX - n);
      a->bits = (uint16_t)(n * 8);
      return a;
    }
    if (in_concat) plen = -1;
  }
  if (plen >= 0 && (is_prefix_type(like->type) || (is_string && !in_concat))) {
    if ((x = nr_expr_new(&d->c, X_PREFIX, -1)) == NULL) return NULL;
    x->l = a;
    x->u.pre.plen = plen - (int)(bytes * 8 - (like->bits ? like->bits : bytes * 8));
    x->type = like->type;
    return x;
  }
  if ((x = nr_expr_new(&d->c, X_RANGE, -1)) == NULL) return NULL;
  x->l = a;
  x->r = key_value(d, hi, 0, bytes, like);
  x->type = like->type;
  return x->r ? x : NULL;
}

/* a concatenation's value (or, with hi, intervals per part) */
static struct nr_expr *concat_elem(struct nr_dc *d, const uint8_t *lo, const uint8_t *hi,
                                   const struct nr_expr *key) {
  struct nr_expr *cat = nr_expr_new(&d->c, X_CONCAT, -1);
  if (cat == NULL) return NULL;
  cat->v = nr_alloc(&d->c.arena, (size_t)key->n * sizeof *cat->v);
  if (cat->v == NULL) return NULL;
  unsigned at = 0;
  for (int i = 0; i < key->n; i++) {
    const struct nr_expr *part = key->v[i];
    unsigned bytes = (part->bits + 7) / 8;
    if (at + bytes > NR_VMAX) return NULL;
    struct nr_expr *a = hi ? interval_elem(d, lo + at, hi + at, bytes, part, 1)
                           : key_value(d, lo, at, bytes, part);
    if (a == NULL) return NULL;
    cat->v[cat->n++] = a;
    at += (bytes + 3) / 4 * 4;
  }
  return cat;
}

static int elem_data(struct nr_dc *d, struct nftnl_set_elem *e, const struct nr_expr *data,
                     struct nr_expr **out) {
  *out = NULL;
  if (nftnl_set_elem_is_set(e, NFTNL_SET_ELEM_VERDICT)) {
    struct nr_expr *v = nr_expr_new(&d->c, X_VERDICT, -1);
    if (v == NULL) return -ENOMEM;
    v->u.vd.verdict = (int)nftnl_set_elem_get_u32(e, NFTNL_SET_ELEM_VERDICT);
    if (nftnl_set_elem_is_set(e, NFTNL_SET_ELEM_CHAIN)) {
      const char *c = nftnl_set_elem_get_str(e, NFTNL_SET_ELEM_CHAIN);
      v->str = nr_strdup(&d->c.arena, c, strlen(c));
    }
    *out = v;
    return 0;
  }
  if (nftnl_set_elem_is_set(e, NFTNL_SET_ELEM_OBJREF)) {  /* an object, by name */
    const char *name = nftnl_set_elem_get_str(e, NFTNL_SET_ELEM_OBJREF);
    struct nr_expr *v = nr_expr_new(&d->c, X_SYMBOL, -1);
    if (v == NULL || name == NULL || (v->str = nr_strdup(&d->c.arena, name, strlen(name))) == NULL)
      return -ENOMEM;
    *out = v;
    return 0;
  }
  uint32_t len;
  const uint8_t *p = nftnl_set_elem_is_set(e, NFTNL_SET_ELEM_DATA)
                         ? nftnl_set_elem_get(e, NFTNL_SET_ELEM_DATA, &len) : NULL;
  if (p == NULL || data == NULL || len > NR_VMAX) return nr_dfail(d, "map data");
  *out = data->kind == X_CONCAT ? concat_elem(d, p, NULL, data)
                                : key_value(d, p, 0, (data->bits + 7) / 8, data);
  return *out ? 0 : -ENOMEM;
}

/* nft's sort value of a listed element: the number it holds in nft (host order values as
 * numbers, strings and concatenations read backwards), flags by their lowest flag */
static void sort_value(struct kelem *k, const struct nr_expr *key, unsigned klen) {
  const struct nr_expr *x = k->x;
  memset(k->sk, 0, sizeof k->sk);
  if (key->kind == X_CONCAT) {
    uint8_t flat[NR_VMAX];
    unsigned at = 0, n = 0;
    for (int i = 0; i < key->n; i++) {
      unsigned bytes = (key->v[i]->bits + 7) / 8;
      if (at + bytes > klen || n + bytes > NR_VMAX) break;
      memcpy(flat + n, k->k + at, bytes);
      n += bytes;
      at += (bytes + 3) / 4 * 4;
    }
    for (unsigned i = 0; i < n; i++) k->sk[i] = flat[n - 1 - i];
    return;
  }
  if (x->kind == X_MAPPING) x = x->l;
  if (x->kind != X_VALUE) return;
  unsigned bytes = (x->bits + 7) / 8;
  const struct nr_type *t = nr_type_get(x->type);
  if (t && t->base == NB_STRING) {
    for (unsigned i = 0; i < bytes && i < NR_VMAX; i++) k->sk[i] = x->val[bytes - 1 - i];
    return;
  }
  memcpy(k->sk + (NR_VMAX - bytes), x->val, bytes);
  if (t && t->base == NB_BITMASK && t->id != T_BITMASK && popcount(x) > 1) {
    /* only the lowest flag counts */
    int done = 0;
    for (unsigned i = NR_VMAX; i-- > NR_VMAX - bytes;) {
      if (done) { k->sk[i] = 0; continue; }
      if (k->sk[i]) {
        k->sk[i] = (uint8_t)(k->sk[i] & -k->sk[i]);
        done = 1;
      }
    }
  }
}

/* an element's user data says no more than how nft built it (an interval open to the
 * top): nothing that would be listed (a comment) */
static int udata_flags_only(const struct nftnl_udata *a, void *data) {
  if (nftnl_udata_type(a) != NFTNL_UDATA_SET_ELEM_FLAGS) *(int *)data = 0;
  return 0;
}

static int elem_udata_ok(struct nftnl_set_elem *e) {
  if (!nftnl_set_elem_is_set(e, NFTNL_SET_ELEM_USERDATA)) return 1;
  uint32_t len;
  const void *u = nftnl_set_elem_get(e, NFTNL_SET_ELEM_USERDATA, &len);
  int ok = 1;
  if (u == NULL || nftnl_udata_parse(u, len, udata_flags_only, &ok) < 0) return 0;
  return ok;
}

/* An anonymous set's elements as nft lists them, typed like the key (intervals put back
 * together from their start and end elements, in nft's order); a named one stays "@name". */
static int typed_set(struct nr_dc *d, struct nr_expr *r, const struct nr_expr *key,
                     const struct nr_expr *data) {
  if (r->kind == X_SETREF) return 0;
  const struct nftnl_set *set = (const struct nftnl_set *)r->u.ref.set;
  uint32_t flags = nftnl_set_get_u32(set, NFTNL_SET_FLAGS);
  unsigned klen = nftnl_set_get_u32(set, NFTNL_SET_KEY_LEN);
  int interval = (flags & NFT_SET_INTERVAL) != 0;
  const struct nr_expr *k = base_of(key);
  struct nr_expr like = *k;
  if (key->kind == X_UNARY || interval) like.order = interval && k->order == BO_HOST ? BO_BE : k->order;
  if (key->kind == X_BINOP && key->l->kind != X_CONCAT) {
    like = *key;
    like.type = key->l->type;
  }
  if (key->kind == X_CONCAT) like = *key;
  int concat = like.kind == X_CONCAT;
  /* elements are read as the set's own key type (an address: prefixes) */
  const struct nr_type *kt = nr_type_get(nftnl_set_get_u32(set, NFTNL_SET_KEY_TYPE));
  if (!concat && kt && kt->id != T_INVALID && kt->id != T_VERDICT) like.type = kt->id;
  int n = 0, cap = 16;
  struct kelem *v = malloc((size_t)cap * sizeof *v);
  if (v == NULL) return -ENOMEM;
  struct nftnl_set_elems_iter *it = nftnl_set_elems_iter_create((struct nftnl_set *)set);
  if (it == NULL) { free(v); return -ENOMEM; }
  int rc = 0;
  for (struct nftnl_set_elem *e = nftnl_set_elems_iter_next(it); e; e = nftnl_set_elems_iter_next(it)) {
    uint32_t len;
    const void *kp = nftnl_set_elem_get(e, NFTNL_SET_ELEM_KEY, &len);
    if (kp == NULL || len != klen || len > NR_VMAX) { rc = nr_dfail(d, "set element"); break; }
    if (n == cap) {
      struct kelem *nv = realloc(v, (size_t)(cap *= 2) * sizeof *v);
      if (nv == NULL) { rc = -ENOMEM; break; }
      v = nv;
    }
    memset(&v[n], 0, sizeof v[n]);
    memcpy(v[n].k, kp, len);
    v[n].idx = n;
    v[n].end = nftnl_set_elem_is_set(e, NFTNL_SET_ELEM_FLAGS) &&
               (nftnl_set_elem_get_u32(e, NFTNL_SET_ELEM_FLAGS) & NFT_SET_ELEM_INTERVAL_END);
    if (nftnl_set_elem_is_set(e, NFTNL_SET_ELEM_KEY_END)) {
      const void *ke = nftnl_set_elem_get(e, NFTNL_SET_ELEM_KEY_END, &len);
      if (ke && len == klen) { memcpy(v[n].kend, ke, len); v[n].has_end = 1; }
    }
    if (nftnl_set_elem_is_set(e, NFTNL_SET_ELEM_TIMEOUT) ||
        nftnl_set_elem_is_set(e, NFTNL_SET_ELEM_EXPR) || !elem_udata_ok(e) ||
        (nftnl_set_elem_is_set(e, NFTNL_SET_ELEM_OBJREF) && !(flags & NFT_SET_OBJECT))) {
      rc = nr_dfail(d, "set element with options");
      break;
    }
    v[n].e = e;
    n++;
  }
  nftnl_set_elems_iter_destroy(it);
  if (rc == 0 && n == 0) rc = nr_dfail(d, "anonymous set %s (no elements listed)", r->str);
  r->v = rc == 0 ? nr_alloc(&d->c.arena, (size_t)n * sizeof *r->v) : NULL;
  if (rc == 0 && r->v == NULL) rc = -ENOMEM;
  if (rc < 0) { free(v); return rc; }
  r->n = 0;
  unsigned kbytes = (like.bits + 7) / 8;
  if (!concat && kbytes > klen) kbytes = klen;
  if (interval && !concat) qsort(v, (size_t)n, sizeof *v, wire_cmp);
  for (int i = 0; i < n && rc == 0; i++) {
    struct kelem *ke = &v[i];
    if (ke->end) continue;
    struct nr_expr *kx;
    if (concat) {
      kx = concat_elem(d, ke->k, interval && ke->has_end ? ke->kend : NULL, &like);
    } else if (interval) {
      /* the interval runs to just below the next element (an end, or the next start) */
      uint8_t hi[NR_VMAX];
      if (i + 1 < n) {
        memcpy(hi, v[i + 1].k, klen);
        for (unsigned b = klen; b-- > 0;)
          if (hi[b]-- != 0) break;
      } else {
        memset(hi, 0xff, klen);
      }
      kx = interval_elem(d, ke->k, hi, kbytes, &like, 0);
    } else {
      kx = key_value(d, ke->k, 0, kbytes, &like);
    }
    if (kx == NULL) { rc = -ENOMEM; break; }
    if (flags & (NFT_SET_MAP | NFT_SET_OBJECT)) {
      struct nr_expr *dv, *m = nr_expr_new(&d->c, X_MAPPING, -1);
      if (m == NULL) { rc = -ENOMEM; break; }
      if ((rc = elem_data(d, ke->e, data, &dv)) < 0) break;
      m->l = kx;
      m->r = dv;
      kx = m;
    }
    ke->x = kx;
    r->v[r->n++] = kx;
  }
  if (rc == 0 && !interval) {
    /* nft sorts what it lists by value; intervals are in order already, and concatenations
     * of intervals keep the kernel's order */
    struct kelem **pv = malloc(2 * (size_t)n * sizeof *pv);
    if (pv == NULL) {
      free(v);
      return -ENOMEM;
    }
    for (int i = 0; i < n; i++) {
      sort_value(&v[i], &like, klen);
      pv[i] = &v[i];
    }
    nft_msort(pv, pv + n, n);
    r->n = 0;
    for (int i = 0; i < n; i++) r->v[r->n++] = pv[i]->x;
    free(pv);
  }
  free(v);
  return rc;
}

/* ---- statements ---- */

/* a statement's value read as type `type` (nft's expr_set_type), or an expression's own
 * postprocessing (a map's data typed as `type`) */
static int typed_arg(struct nr_dc *d, struct nr_expr **ep, int type, int order, unsigned bits) {
  struct nr_expr like = {.kind = X_VALUE, .type = (uint8_t)type, .order = (uint8_t)order,
                         .bits = (uint16_t)bits};
  struct nr_expr *e = *ep;
  int rc;
  if (e == NULL) return 0;
  if (e->kind == X_VALUE || e->kind == X_RANGE) {
    type_value(e, &like);
    return 0;
  }
  if ((rc = post_expr(d, ep)) < 0) return rc;
  if (e->kind == X_MAP) return typed_set(d, e->r, e->l, &like);
  return 0;
}

static int addr_of(uint32_t family, int *type, unsigned *bits) {
  *type = family == NFPROTO_IPV4 ? T_IPADDR : family == NFPROTO_IPV6 ? T_IP6ADDR : 0;
  *bits = family == NFPROTO_IPV4 ? 32 : 128;
  return *type;
}

/* dup, fwd, tproxy, queue: values typed as nft's netlink_parse_* type them */
static int post_fwd(struct nr_dc *d, struct nr_stmt *s) {
  int rc, at;
  unsigned abits;
  switch (s->kind) {
  case S_DUP:
    if (s->u.dup.to_dev) return typed_arg(d, &s->key, T_IFINDEX, BO_HOST, 32);
    if (!addr_of((uint32_t)d->c.family, &at, &abits)) return nr_dfail(d, "dup address family");
    if ((rc = typed_arg(d, &s->key, at, BO_BE, abits)) < 0) return rc;
    return typed_arg(d, &s->e2, T_IFINDEX, BO_HOST, 32);
  case S_FWD:
    if ((rc = typed_arg(d, &s->e2, T_IFINDEX, BO_HOST, 32)) < 0) return rc;
    if (s->key == NULL) return 0;
    if (!addr_of(s->u.fwd.family, &at, &abits)) return nr_dfail(d, "fwd address family");
    return typed_arg(d, &s->key, at, BO_BE, abits);
  case S_TPROXY:
    if (s->key) {
      if (!addr_of(s->u.tp.family, &at, &abits)) return nr_dfail(d, "tproxy address family");
      if ((rc = typed_arg(d, &s->key, at, BO_BE, abits)) < 0) return rc;
    }
    if (s->e2) {
      /* nft leaves out a port that is no value: say so rather than list a rule without it */
      if (s->e2->kind != X_VALUE) return nr_dfail(d, "tproxy port from an expression");
      memset(d->pdeps, 0, sizeof d->pdeps);
      return typed_arg(d, &s->e2, T_INET_SERVICE, BO_BE, 16);
    }
    return 0;
  case S_QUEUE:
    if (s->e) return typed_arg(d, &s->e, T_INTEGER, BO_HOST, 32);
    return 0;
  default:
    return 0;
  }
}

/* "FIELD set VALUE" (nft's stmt_payload_postprocess): the written bytes named as a field;
 * bytes written as "(the same bytes & mask) | value" are the field whose bits the mask
 * clears, set to the value in them. What the kernel is asked to fix up must be what the
 * listing's text asks for, or the listing would mean another rule. */
static int payload_write_post(struct nr_dc *d, struct nr_stmt *s) {
  struct nr_expr *k = s->key, *v;
  int rc;
  payload_complete(d, k);
  if ((rc = post_expr(d, &s->e)) < 0) return rc;
  v = s->e;
  if (v->kind == X_MAP && (rc = typed_set(d, v->r, v->l, k)) < 0) return rc;
  if (k->u.pl.is_raw && v->kind == X_BINOP && k->bits <= 64) {
    const struct nr_expr *or = v->op == OP_OR ? v->r : NULL, *in = or ? v->l : v;
    const struct nr_expr *mask = NULL, *load = in;
    if (in->kind == X_BINOP && in->op == OP_AND) {
      mask = in->r;
      load = in->l;
    }
    unsigned bytes = k->bits / 8u;
    if (load->kind != X_PAYLOAD || load->u.pl.base != k->u.pl.base ||
        load->u.pl.off != k->u.pl.off || load->bits != k->bits ||
        (mask && mask->kind != X_VALUE) || (or && or->kind != X_VALUE) || (!mask && !or))
      return nr_dfail(d, "payload write of an expression");
    uint64_t all = bytes == 8 ? ~0ULL : (1ULL << bytes * 8) - 1;
    uint64_t m = mask ? nr_be_get(mask->val, bytes) : all, o = or ? nr_be_get(or->val, bytes) : 0;
    struct nr_expr *cleared = nr_value_new(&d->c, T_INTEGER, BO_BE, k->bits, -1);
    if (cleared == NULL) return -ENOMEM;
    nr_be_put(cleared->val, bytes, (~m | o) & all);
    unsigned shift;
    if (!payload_trim(d, k, cleared, &shift) || k->u.pl.is_raw)
      return nr_dfail(d, "payload write of a bit field nft does not name");
    if (nr_proto_write_misread(k->u.pl.p))
      return nr_dfail(d, "payload write of %s %s (nft lists another rule)", k->u.pl.p->name,
                      k->u.pl.f->name);
    struct nr_expr *val = nr_value_new(&d->c, k->type, k->order, k->bits, -1);
    if (val == NULL) return -ENOMEM;
    nr_be_put(val->val, (k->bits + 7u) / 8, (o >> shift) & ((1ULL << k->bits) - 1));
    s->e = v = val;
  }
  uint32_t ctype, coff, cflags;
  nr_payload_csum(k, &ctype, &coff, &cflags);
  if (ctype != s->u.pw.csum_type || coff != s->u.pw.csum_off || cflags != s->u.pw.csum_flags)
    return nr_dfail(d, "payload write with other checksum updates than nft's");
  uint16_t proto = k->flags & XF_PROTOCOL;
  k->flags &= (uint16_t)~XF_PROTOCOL;  /* nft: a write says nothing of the next protocol */
  dep_kill(d, k);
  k->flags |= proto;
  if (v->kind == X_VALUE) type_value(v, k);
  return 0;
}

static int post_stmt(struct nr_dc *d, struct nr_stmt *s) {
  int rc;
  switch (s->kind) {
  case S_MATCH:
    if ((rc = post_match(d, s)) < 0) return rc;
    if (s->hidden != 2) merge_range(d, s);
    return 0;
  case S_META_SET:
  case S_CT_SET:
    if (s->e->kind == X_MAP) goto map;
    if ((rc = post_expr(d, &s->e)) < 0) return rc;
    if (s->e->kind == X_VALUE) type_value(s->e, s->key);
    /* nft writes the events a conntrack reports as a list */
    if (s->kind == S_CT_SET && s->key->u.key.k->key == NFT_CT_EVENTMASK && s->e->kind == X_VALUE)
      s->e->flags |= XF_LIST;
    return 0;
  map: {
    struct nr_expr *m = s->e;
    if ((rc = post_expr(d, &m->l)) < 0) return rc;
    return typed_set(d, m->r, m->l, s->key);
  }
  case S_VMAP: {
    struct nr_expr *m = s->e;
    if ((rc = post_expr(d, &m->l)) < 0) return rc;
    return typed_set(d, m->r, m->l, NULL);
  }
  case S_DUP:
  case S_FWD:
  case S_TPROXY:
  case S_QUEUE:
    return post_fwd(d, s);
  case S_OBJREF:
    if (s->u.obj.map == NULL) return 0;
    if ((rc = post_expr(d, &s->u.obj.map->l)) < 0) return rc;
    return typed_set(d, s->u.obj.map->r, s->u.obj.map->l, NULL);
  case S_PAYLOAD_SET:
    return payload_write_post(d, s);
  case S_EXTHDR_SET:  /* nft reads the value as the field, and nothing else */
    if ((rc = post_expr(d, &s->e)) < 0) return rc;
    if (s->e->kind == X_VALUE) type_value(s->e, s->key);
    return 0;
  case S_NAT: {
    struct nr_expr like = {.kind = X_VALUE, .order = BO_BE};
    if (s->key) {
      like.type = s->u.nat.family == NFPROTO_IPV6 ? T_IP6ADDR : T_IPADDR;
      like.bits = s->u.nat.family == NFPROTO_IPV6 ? 128 : 32;
      if (s->key->kind == X_MAP) {
        struct nr_expr *m = s->key;
        if ((rc = post_expr(d, &m->l)) < 0) return rc;
        unsigned dbits = (unsigned)m->bits;
        if (dbits == like.bits + 32u) {
          /* the map gives address and port ("dnat ip to ... map { k : a . p }") */
          struct nr_expr *cat = nr_expr_new(&d->c, X_CONCAT, -1);
          struct nr_expr *port = nr_expr_new(&d->c, X_VALUE, -1);
          cat->v = nr_alloc(&d->c.arena, 2 * sizeof *cat->v);
          if (cat == NULL || port == NULL || cat->v == NULL) return -ENOMEM;
          *port = (struct nr_expr){.kind = X_VALUE, .type = T_INET_SERVICE, .order = BO_BE,
                                   .bits = 16};
          cat->v[0] = &like;
          cat->v[1] = port;
          cat->n = 2;
          if ((rc = typed_set(d, m->r, m->l, cat)) < 0) return rc;
          s->u.nat.tflags |= 2;
          s->e2 = NULL;
          return 0;
        }
        if (dbits != like.bits) return nr_dfail(d, "nat map to address ranges");
        if ((rc = typed_set(d, m->r, m->l, &like)) < 0) return rc;
      } else {
        type_value(s->key, &like);
        if (s->key->kind == X_RANGE) {
          /* a range that is a prefix is listed as one (nft's range_expr_to_prefix) */
          unsigned bytes = like.bits / 8;
          int plen = block_plen(s->key->l->val, s->key->r->val, bytes);
          if (plen >= 0) {
            struct nr_expr *pre = nr_expr_new(&d->c, X_PREFIX, -1);
            if (pre == NULL) return -ENOMEM;
            pre->l = s->key->l;
            pre->u.pre.plen = plen;
            pre->type = like.type;
            s->key = pre;
          }
        }
      }
    }
    if (s->e2) {
      /* nft forgets the dependencies before the port: they stay listed */
      memset(d->pdeps, 0, sizeof d->pdeps);
      like.type = T_INET_SERVICE;
      like.bits = 16;
      if (s->e2->kind == X_MAP) return nr_dfail(d, "nat port map");
      type_value(s->e2, &like);
    }
    return 0;
  }
  case S_REJECT: {
    int fam = d->c.family;
    if (fam == NFPROTO_IPV4 || fam == NFPROTO_IPV6) {
      s->u.rej.family = fam == NFPROTO_IPV4 ? 4 : 6;
      if (s->u.rej.type == NFT_REJECT_TCP_RST && dep_get(d, PB_TH)) dep_release(d, PB_TH);
    } else if (s->u.rej.type != NFT_REJECT_ICMPX_UNREACH) {
      const struct nr_proto *nh = desc_at(d, PB_NH);
      s->u.rej.family = nh == &nr_proto_ip ? 4 : nh == &nr_proto_ip6 ? 6 : 0;
      s->hidden = 0;
      s->dep = 1;  /* printed in full: "reject with icmp ..." */
      if (dep_get(d, PB_NH)) dep_release(d, PB_NH);
    }
    return 0;
  }
  case S_DYNSET:
    if ((rc = post_expr(d, &s->key)) < 0) return rc;
    if (s->e) {
      /* a map's value: typed as the map's data */
      const struct nr_type *t = nr_type_get(nftnl_set_get_u32(s->nset, NFTNL_SET_DATA_TYPE));
      if ((rc = post_expr(d, &s->e)) < 0) return rc;
      if (t == NULL) return nr_dfail(d, "map data type");
      if (s->e->kind == X_VALUE) {
        struct nr_expr like = {.kind = X_VALUE, .type = t->id, .order = t->order,
                               .bits = s->e->bits};
        type_value(s->e, &like);
      }
    }
    if (s->nset != NULL && (nftnl_set_get_u32(s->nset, NFTNL_SET_FLAGS) & NFT_SET_ANONYMOUS)) {
      /* nft's meter: one statement on an anonymous set of its own; with more nft lists the
       * first only, with none it writes the set without its "@" */
      if (s->sub == NULL || s->sub->next || s->e) return nr_dfail(d, "dynset on an anonymous set");
      s->u.dyn.meter = 1;
      /* without a size, the kernel gives a set a dynset fills 65535 (nft_dynset_init) */
      s->u.dyn.size = nftnl_set_is_set(s->nset, NFTNL_SET_DESC_SIZE)
                          ? nftnl_set_get_u32(s->nset, NFTNL_SET_DESC_SIZE) : 65535;
    }
    return 0;
  default:
    return 0;
  }
}

int nr_decode_post(struct nr_dc *d) {
  int base, rc;
  const struct nr_proto *p = nr_family_proto(d->c.family, &base);
  memset(&d->c.pctx, 0, sizeof d->c.pctx);
  if (p) d->c.pctx.p[base] = p;
  for (struct nr_stmt *s = d->c.first; s; s = s->next) {
    if (s->hidden == 2) continue;  /* replaced by the statements after it */
    d->resume = NULL;
    if ((rc = post_stmt(d, s)) < 0) return rc;
    if (d->resume) s = d->resume;  /* its parts are done */
    if (s->hidden != 2) d->prev = s;
    if (s->kind != S_MATCH && s->kind != S_VMAP) memset(d->pdeps, 0, sizeof d->pdeps);
  }
  return 0;
}
