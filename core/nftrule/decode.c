/* The decoder's first pass: the kernel's expressions, register by register, back into the
 * compiler's statements and expressions (what a load put in a register, what a cmp compared
 * it with). Anything cnet does not know makes the rule "not decodable": the caller then
 * shows what it could decode and says so, never a guess. */
#include "nftrule/nr_int.h"

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

#include "nftrule/nr_decode.h"

static const char *ename(const struct nftnl_expr *e) {
  return nftnl_expr_get_str(e, NFTNL_EXPR_NAME);
}
static uint32_t u32(const struct nftnl_expr *e, uint16_t a) {
  return nftnl_expr_is_set(e, a) ? nftnl_expr_get_u32(e, a) : 0;
}
static int has(const struct nftnl_expr *e, uint16_t a) { return nftnl_expr_is_set(e, a); }

int nr_dfail(struct nr_dc *d, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(d->bad, sizeof d->bad, fmt, ap);
  va_end(ap);
  return -EOPNOTSUPP;
}

/* ---- registers: nft's numbering (32-bit slots from 1) ---- */

static int reg_slot(uint32_t kreg) {
  if (kreg >= NFT_REG32_00 && kreg <= NFT_REG32_15) return (int)(kreg - NFT_REG32_00) + 1;
  if (kreg >= NFT_REG_1 && kreg <= NFT_REG_4) return (int)(kreg - NFT_REG_1) * 4 + 1;
  return -1;
}

static int set_reg(struct nr_dc *d, uint32_t kreg, struct nr_expr *e) {
  int s = reg_slot(kreg);
  if (s < 0 || s >= NR_DREGS) return nr_dfail(d, "register %u", kreg);
  d->reg[s] = e;
  return 0;
}

/* A copy of an expression read from a register: each reader gets its own, as the
 * postprocessing changes what it reads (a masked load becomes a bit field). */
static struct nr_expr *clone(struct nr_dc *d, const struct nr_expr *e) {
  if (e == NULL) return NULL;
  struct nr_expr *x = nr_alloc(&d->c.arena, sizeof *x);
  if (x == NULL) return NULL;
  *x = *e;
  if (e->val) {
    if ((x->val = nr_alloc(&d->c.arena, NR_VMAX)) == NULL) return NULL;
    memcpy(x->val, e->val, NR_VMAX);
  }
  if ((e->l && (x->l = clone(d, e->l)) == NULL) || (e->r && (x->r = clone(d, e->r)) == NULL))
    return NULL;
  if ((e->kind == X_HASH) && e->u.gen.e && (x->u.gen.e = clone(d, e->u.gen.e)) == NULL)
    return NULL;
  if (e->v && e->kind == X_CONCAT) {
    if ((x->v = nr_alloc(&d->c.arena, (size_t)e->n * sizeof *x->v)) == NULL) return NULL;
    for (int i = 0; i < e->n; i++)
      if ((x->v[i] = clone(d, e->v[i])) == NULL) return NULL;
  }
  return x;
}

static struct nr_expr *get_reg(struct nr_dc *d, uint32_t kreg) {
  int s = reg_slot(kreg);
  return s < 0 || s >= NR_DREGS ? NULL : clone(d, d->reg[s]);
}

static struct nr_expr *raw_value(struct nr_dc *d, const void *data, uint32_t len) {
  struct nr_expr *v = nr_value_new(&d->c, T_INTEGER, BO_BE, len * 8, -1);
  if (v == NULL) return NULL;
  if (len > NR_VMAX) len = NR_VMAX;
  memcpy(v->val, data, len);  /* wire bytes for now; typed (and byte order fixed) later */
  v->flags |= XF_WIRE;
  return v;
}

static struct nr_stmt *stmt_add(struct nr_dc *d, int kind) {
  struct nr_stmt *s = nr_stmt_new(&d->c, kind, -1);
  if (s) nr_stmt_add(&d->c, s);
  return s;
}

static int match_add(struct nr_dc *d, int op, struct nr_expr *l, struct nr_expr *r) {
  struct nr_stmt *s = stmt_add(d, S_MATCH);
  struct nr_expr *rel = nr_expr_new(&d->c, X_BINOP, -1);
  if (s == NULL || rel == NULL) return -ENOMEM;
  rel->op = (uint8_t)op;
  rel->l = l;
  rel->r = r;
  s->e = rel;
  return 0;
}

/* ---- loads ---- */

static int d_payload(struct nr_dc *d, const struct nftnl_expr *e) {
  uint32_t base = u32(e, NFTNL_EXPR_PAYLOAD_BASE), off = u32(e, NFTNL_EXPR_PAYLOAD_OFFSET),
           len = u32(e, NFTNL_EXPR_PAYLOAD_LEN);
  if (base > NFT_PAYLOAD_INNER_HEADER || len == 0 || len > NR_VMAX)
    return nr_dfail(d, "payload");
  struct nr_expr *p = nr_expr_new(&d->c, X_PAYLOAD, -1);
  if (p == NULL) return -ENOMEM;
  p->u.pl.base = (uint8_t)(base + 1);
  p->u.pl.off = (uint16_t)(off * 8);
  p->bits = (uint16_t)(len * 8);
  nr_payload_raw(p);  /* until a header field is found */
  if (!has(e, NFTNL_EXPR_PAYLOAD_SREG)) return set_reg(d, u32(e, NFTNL_EXPR_PAYLOAD_DREG), p);
  /* a write: what the kernel is asked to fix up is checked once the field is named */
  struct nr_expr *v = get_reg(d, u32(e, NFTNL_EXPR_PAYLOAD_SREG));
  if (v == NULL) return nr_dfail(d, "payload write without a value");
  struct nr_stmt *s = stmt_add(d, S_PAYLOAD_SET);
  if (s == NULL) return -ENOMEM;
  s->key = p;
  s->e = v;
  s->u.pw.csum_type = u32(e, NFTNL_EXPR_PAYLOAD_CSUM_TYPE);
  s->u.pw.csum_off = u32(e, NFTNL_EXPR_PAYLOAD_CSUM_OFFSET);
  s->u.pw.csum_flags = u32(e, NFTNL_EXPR_PAYLOAD_FLAGS);
  return 0;
}

static int d_key(struct nr_dc *d, const struct nftnl_expr *e, int kind, const struct nr_key *tab,
                 uint16_t key_attr, uint16_t dreg_attr, uint16_t sreg_attr, const char *what) {
  uint32_t key = u32(e, key_attr);
  const struct nr_key *k = nr_key_bynum(tab, key);
  if (k == NULL) return nr_dfail(d, "%s key %u", what, key);
  struct nr_expr *x = nr_expr_new(&d->c, kind, -1);
  if (x == NULL) return -ENOMEM;
  x->u.key.k = k;
  x->u.key.dir = -1;
  x->type = k->type;
  x->order = k->order;
  x->bits = k->bits;
  if (kind == X_CT && has(e, NFTNL_EXPR_CT_DIR)) x->u.key.dir = (int8_t)nftnl_expr_get_u8(e, NFTNL_EXPR_CT_DIR);
  if (sreg_attr && has(e, sreg_attr)) {
    struct nr_expr *v = get_reg(d, u32(e, sreg_attr));
    if (v == NULL) return nr_dfail(d, "%s set without a value", what);
    struct nr_stmt *s = stmt_add(d, kind == X_META ? S_META_SET : S_CT_SET);
    if (s == NULL) return -ENOMEM;
    s->key = x;
    s->e = v;
    return 0;
  }
  return set_reg(d, u32(e, dreg_attr), x);
}

static int d_immediate(struct nr_dc *d, const struct nftnl_expr *e) {
  uint32_t dreg = u32(e, NFTNL_EXPR_IMM_DREG);
  if (dreg == NFT_REG_VERDICT) {
    struct nr_stmt *s = stmt_add(d, S_VERDICT);
    struct nr_expr *v = nr_expr_new(&d->c, X_VERDICT, -1);
    if (s == NULL || v == NULL) return -ENOMEM;
    v->u.vd.verdict = (int)u32(e, NFTNL_EXPR_IMM_VERDICT);
    switch (v->u.vd.verdict) {
    case NF_ACCEPT: case NF_DROP: case NFT_RETURN: case NFT_CONTINUE: break;
    case NFT_JUMP: case NFT_GOTO:
      if (!has(e, NFTNL_EXPR_IMM_CHAIN)) return nr_dfail(d, "verdict with a chain id");
      v->str = nr_strdup(&d->c.arena, nftnl_expr_get_str(e, NFTNL_EXPR_IMM_CHAIN),
                         strlen(nftnl_expr_get_str(e, NFTNL_EXPR_IMM_CHAIN)));
      break;
    default: return nr_dfail(d, "verdict %d", v->u.vd.verdict);
    }
    s->e = v;
    return 0;
  }
  uint32_t len;
  const void *data = nftnl_expr_get(e, NFTNL_EXPR_IMM_DATA, &len);
  if (data == NULL || len > NR_VMAX) return nr_dfail(d, "immediate");
  struct nr_expr *v = raw_value(d, data, len);
  if (v == NULL) return -ENOMEM;
  return set_reg(d, dreg, v);
}

/* cmp: a match; "cmp gte" then "cmp lte" on the same register is a range (nft writes ranges
 * so). */
static int d_cmp(struct nr_dc *d, const struct nftnl_expr *e) {
  struct nr_expr *l = get_reg(d, u32(e, NFTNL_EXPR_CMP_SREG));
  uint32_t len;
  const void *data = nftnl_expr_get(e, NFTNL_EXPR_CMP_DATA, &len);
  if (l == NULL || data == NULL || len > NR_VMAX) return nr_dfail(d, "cmp");
  struct nr_expr *v = raw_value(d, data, len);
  if (v == NULL) return -ENOMEM;
  const struct nr_type *lt = nr_type_get(l->type);
  if (l->bits > len * 8 && !(lt && lt->base == NB_STRING)) {
    /* fewer bytes than the value: a prefix (nft compares just those) */
    if (l->bits > NR_VMAX * 8) return nr_dfail(d, "cmp");
    struct nr_expr *pre = nr_expr_new(&d->c, X_PREFIX, -1);
    if (pre == NULL) return -ENOMEM;
    v->bits = l->bits;
    pre->l = v;
    pre->u.pre.plen = (int)len * 8;
    pre->bits = l->bits;
    v = pre;
  } else if (l->bits > 0 && len * 8 > (l->bits + 31u) / 32 * 32) {
    return nr_dfail(d, "cmp of a concatenation");
  }
  static const int ops[] = {[NFT_CMP_EQ] = OP_EQ, [NFT_CMP_NEQ] = OP_NEQ, [NFT_CMP_LT] = OP_LT,
                            [NFT_CMP_LTE] = OP_LTE, [NFT_CMP_GT] = OP_GT, [NFT_CMP_GTE] = OP_GTE};
  uint32_t op = u32(e, NFTNL_EXPR_CMP_OP);
  if (op > NFT_CMP_GTE) return nr_dfail(d, "cmp op %u", op);
  return match_add(d, ops[op], l, v);
}

static int d_range(struct nr_dc *d, const struct nftnl_expr *e) {
  struct nr_expr *l = get_reg(d, u32(e, NFTNL_EXPR_RANGE_SREG));
  uint32_t l1, l2;
  const void *a = nftnl_expr_get(e, NFTNL_EXPR_RANGE_FROM_DATA, &l1);
  const void *b = nftnl_expr_get(e, NFTNL_EXPR_RANGE_TO_DATA, &l2);
  if (l == NULL || a == NULL || b == NULL || l1 != l2 || l1 > NR_VMAX) return nr_dfail(d, "range");
  struct nr_expr *r = nr_expr_new(&d->c, X_RANGE, -1);
  if (r == NULL) return -ENOMEM;
  r->l = raw_value(d, a, l1);
  r->r = raw_value(d, b, l2);
  if (r->l == NULL || r->r == NULL) return -ENOMEM;
  r->flags = XF_CONST;
  return match_add(d, u32(e, NFTNL_EXPR_RANGE_OP) == NFT_RANGE_NEQ ? OP_NEQ : OP_EQ, l, r);
}

/* "l OP value" of len bytes, the value as the register holds it */
static struct nr_expr *binop(struct nr_dc *d, int op, struct nr_expr *l, const uint8_t *v,
                             uint32_t len) {
  struct nr_expr *b = nr_expr_new(&d->c, X_BINOP, -1);
  if (b == NULL || (b->r = raw_value(d, v, len)) == NULL) return NULL;
  b->op = (uint8_t)op;
  b->l = l;
  b->bits = l->bits;
  return b;
}

static int d_bitwise(struct nr_dc *d, const struct nftnl_expr *e) {
  struct nr_expr *l = get_reg(d, u32(e, NFTNL_EXPR_BITWISE_SREG));
  uint32_t op = u32(e, NFTNL_EXPR_BITWISE_OP), len = u32(e, NFTNL_EXPR_BITWISE_LEN);
  if (l == NULL || len == 0 || len > NR_VMAX) return nr_dfail(d, "bitwise");
  struct nr_expr *x;
  if (op == NFT_BITWISE_LSHIFT || op == NFT_BITWISE_RSHIFT) {
    uint32_t dl;
    const void *data = nftnl_expr_get(e, NFTNL_EXPR_BITWISE_DATA, &dl);
    if (data == NULL || dl != 4) return nr_dfail(d, "bitwise shift");
    x = nr_expr_new(&d->c, X_BINOP, -1);
    if (x == NULL) return -ENOMEM;
    x->op = op == NFT_BITWISE_LSHIFT ? OP_LSHIFT : OP_RSHIFT;
    x->l = l;
    x->r = raw_value(d, data, 4);
    if (x->r == NULL) return -ENOMEM;
    x->r->order = BO_HOST;
    x->bits = l->bits;
  } else if (op == NFT_BITWISE_BOOL) {
    /* nft's reading of mask and xor: x & m ^ x' | o */
    uint32_t ml, xl;
    const uint8_t *m = nftnl_expr_get(e, NFTNL_EXPR_BITWISE_MASK, &ml);
    const uint8_t *xr = nftnl_expr_get(e, NFTNL_EXPR_BITWISE_XOR, &xl);
    if (m == NULL || xr == NULL || ml != len || xl != len) return nr_dfail(d, "bitwise");
    uint8_t mm[NR_VMAX], xx[NR_VMAX], oo[NR_VMAX];
    int all_ones = 1, xzero = 1, ozero = 1;
    for (uint32_t i = 0; i < len; i++) {
      mm[i] = m[i];
      xx[i] = xr[i];
      if (mm[i] != 0xff) all_ones = 0;
      if (xx[i]) xzero = 0;
    }
    if (!all_ones || !xzero)
      for (uint32_t i = 0; i < len; i++) {
        oo[i] = (uint8_t)((mm[i] & xx[i]) ^ xx[i]);
        xx[i] &= mm[i];
        mm[i] |= oo[i];
        if (oo[i]) ozero = 0;
      }
    else memset(oo, 0, len);
    xzero = 1;
    all_ones = 1;
    for (uint32_t i = 0; i < len; i++) {
      if (xx[i]) xzero = 0;
      if (mm[i] != 0xff) all_ones = 0;
    }
    x = l;
    if (!(all_ones && l->bits == len * 8) && (x = binop(d, OP_AND, x, mm, len)) == NULL)
      return -ENOMEM;
    if (!xzero && (x = binop(d, OP_XOR, x, xx, len)) == NULL) return -ENOMEM;
    if (!ozero && (x = binop(d, OP_OR, x, oo, len)) == NULL) return -ENOMEM;
  } else {
    return nr_dfail(d, "bitwise op %u", op);
  }
  return set_reg(d, u32(e, NFTNL_EXPR_BITWISE_DREG), x);
}

static int d_byteorder(struct nr_dc *d, const struct nftnl_expr *e) {
  struct nr_expr *l = get_reg(d, u32(e, NFTNL_EXPR_BYTEORDER_SREG));
  if (l == NULL) return nr_dfail(d, "byteorder");
  struct nr_expr *u = nr_expr_new(&d->c, X_UNARY, -1);
  if (u == NULL) return -ENOMEM;
  u->op = u32(e, NFTNL_EXPR_BYTEORDER_OP) == NFT_BYTEORDER_HTON ? OP_HTON : OP_NTOH;
  u->l = l;
  u->bits = l->bits;
  return set_reg(d, u32(e, NFTNL_EXPR_BYTEORDER_DREG), u);
}

/* A set lookup's key spanning several registers: a concatenation. */
static struct nr_expr *concat_from(struct nr_dc *d, uint32_t kreg, unsigned bits) {
  int s = reg_slot(kreg);
  struct nr_expr *cat = nr_expr_new(&d->c, X_CONCAT, -1);
  if (cat == NULL || s < 0) return NULL;
  cat->v = nr_alloc(&d->c.arena, 16 * sizeof *cat->v);
  if (cat->v == NULL) return NULL;
  unsigned have = 0;
  while (have < bits && s < NR_DREGS && cat->n < 16) {
    struct nr_expr *x = clone(d, d->reg[s]);
    if (x == NULL) return NULL;
    cat->v[cat->n++] = x;
    unsigned span = (x->bits + 31) / 32;
    if (span == 0) return NULL;
    have += span * 32;
    s += (int)span;
  }
  if (have != bits) return NULL;
  cat->bits = (uint16_t)bits;
  return cat;
}

static const struct nftnl_set *find_set(struct nr_dc *d, const char *name) {
  return d->env && d->env->find_set ? d->env->find_set(d->env->ud, name) : NULL;
}

/* The set a lookup names: anonymous sets are read whole (elements), named ones by name. */
static int setref(struct nr_dc *d, const char *name, struct nr_expr **out,
                  const struct nftnl_set **nset) {
  struct nr_expr *r = nr_expr_new(&d->c, X_SETREF, -1);
  if (r == NULL) return -ENOMEM;
  r->str = nr_strdup(&d->c.arena, name, strlen(name));
  *out = r;
  *nset = find_set(d, name);
  int anon = strncmp(name, "__", 2) == 0;
  /* a named set prints as "@name" even unknown (its key is then read as it comes) */
  if (*nset == NULL && anon) return nr_dfail(d, "set %s (not found)", name);
  if (anon) r->kind = X_SET;  /* anonymous: its elements are printed */
  return r->str ? 0 : -ENOMEM;
}

static int d_lookup(struct nr_dc *d, const struct nftnl_expr *e) {
  const char *name = nftnl_expr_get_str(e, NFTNL_EXPR_LOOKUP_SET);
  struct nr_expr *l = get_reg(d, u32(e, NFTNL_EXPR_LOOKUP_SREG)), *r;
  const struct nftnl_set *set;
  int rc;
  if (name == NULL || l == NULL) return nr_dfail(d, "lookup");
  if ((rc = setref(d, name, &r, &set)) < 0) return rc;
  unsigned klen = set ? nftnl_set_get_u32(set, NFTNL_SET_KEY_LEN) * 8 : 0;
  if (l->bits < klen) {
    l = concat_from(d, u32(e, NFTNL_EXPR_LOOKUP_SREG), klen);
    if (l == NULL) return nr_dfail(d, "lookup key");
  }
  r->u.ref.set = (struct nr_set *)set;  /* the libnftnl set, for the postprocess */
  r->flags |= XF_NFTNL;
  if (has(e, NFTNL_EXPR_LOOKUP_DREG)) {
    struct nr_expr *m = nr_expr_new(&d->c, X_MAP, -1);
    if (m == NULL) return -ENOMEM;
    m->l = l;
    m->r = r;
    uint32_t dreg = u32(e, NFTNL_EXPR_LOOKUP_DREG);
    if (dreg != NFT_REG_VERDICT) {
      if (set == NULL) return nr_dfail(d, "map %s (not found)", name);
      m->bits = (uint16_t)(nftnl_set_get_u32(set, NFTNL_SET_DATA_LEN) * 8);
      return set_reg(d, dreg, m);
    }
    m->op = 1;
    struct nr_stmt *s = stmt_add(d, S_VMAP);
    if (s == NULL) return -ENOMEM;
    s->e = m;
    return 0;
  }
  int inv = (u32(e, NFTNL_EXPR_LOOKUP_FLAGS) & NFT_LOOKUP_F_INV) != 0;
  return match_add(d, inv ? OP_NEQ : OP_EQ, l, r);
}

/* An extension header load, write or reset (nft's netlink_parse_exthdr): what it reads is
 * named after exthdr.c's tables. */
static int d_exthdr(struct nr_dc *d, const struct nftnl_expr *e) {
  struct nr_expr *x = nr_expr_new(&d->c, X_EXTHDR, -1);
  if (x == NULL) return -ENOMEM;
  uint32_t op = u32(e, NFTNL_EXPR_EXTHDR_OP), len = u32(e, NFTNL_EXPR_EXTHDR_LEN) * 8;
  unsigned type = has(e, NFTNL_EXPR_EXTHDR_TYPE) ? nftnl_expr_get_u8(e, NFTNL_EXPR_EXTHDR_TYPE) : 0;
  if (op > NFT_EXTHDR_OP_SCTP || len > NR_VMAX * 8) return nr_dfail(d, "exthdr op %u", op);
  x->u.ex.op = (uint8_t)op;
  x->u.ex.flags = u32(e, NFTNL_EXPR_EXTHDR_FLAGS);
  if (x->u.ex.flags & ~(uint32_t)NFT_EXTHDR_F_PRESENT) return nr_dfail(d, "exthdr flags");
  if (!has(e, NFTNL_EXPR_EXTHDR_DREG) && !has(e, NFTNL_EXPR_EXTHDR_SREG)) {
    /* reset tcp option KIND */
    if (op != NFT_EXTHDR_OP_TCPOPT) return nr_dfail(d, "exthdr reset");
    struct nr_stmt *s = stmt_add(d, S_OPTSTRIP);
    if (s == NULL) return -ENOMEM;
    x->u.ex.flags |= NFT_EXTHDR_F_PRESENT;
    nr_exthdr_name(x, type, 0, 8);
    s->key = x;
    return 0;
  }
  nr_exthdr_name(x, type, u32(e, NFTNL_EXPR_EXTHDR_OFFSET) * 8, len);
  /* nft has no names for these and would fail printing them */
  if (x->u.ex.d == NULL && (op == NFT_EXTHDR_OP_IPV4 || op == NFT_EXTHDR_OP_SCTP))
    return nr_dfail(d, "exthdr type %u", type);
  if (has(e, NFTNL_EXPR_EXTHDR_DREG)) return set_reg(d, u32(e, NFTNL_EXPR_EXTHDR_DREG), x);
  struct nr_expr *v = get_reg(d, u32(e, NFTNL_EXPR_EXTHDR_SREG));
  if (v == NULL) return nr_dfail(d, "exthdr write without a value");
  struct nr_stmt *s = stmt_add(d, S_EXTHDR_SET);
  if (s == NULL) return -ENOMEM;
  s->key = x;
  s->e = v;
  return 0;
}

/* "counter name KEY map SET": the object a map gives for the key (its kind is the map's) */
static int d_objref_map(struct nr_dc *d, const struct nftnl_expr *e) {
  struct nr_expr *l = get_reg(d, u32(e, NFTNL_EXPR_OBJREF_SET_SREG)), *r;
  const char *name = nftnl_expr_get_str(e, NFTNL_EXPR_OBJREF_SET_NAME);
  const struct nftnl_set *set;
  int rc;
  if (l == NULL || name == NULL) return nr_dfail(d, "objref map");
  if ((rc = setref(d, name, &r, &set)) < 0) return rc;
  if (set == NULL || !nftnl_set_is_set(set, NFTNL_SET_OBJ_TYPE))
    return nr_dfail(d, "objref map %s (its object type unknown)", name);
  unsigned klen = nftnl_set_get_u32(set, NFTNL_SET_KEY_LEN) * 8;
  if (l->bits < klen && (l = concat_from(d, u32(e, NFTNL_EXPR_OBJREF_SET_SREG), klen)) == NULL)
    return nr_dfail(d, "objref map key");
  r->u.ref.set = (struct nr_set *)set;
  r->flags |= XF_NFTNL;
  struct nr_expr *m = nr_expr_new(&d->c, X_MAP, -1);
  struct nr_stmt *s = stmt_add(d, S_OBJREF);
  if (m == NULL || s == NULL) return -ENOMEM;
  m->l = l;
  m->r = r;
  s->u.obj.type = nftnl_set_get_u32(set, NFTNL_SET_OBJ_TYPE);
  s->u.obj.map = s->e = m;
  return 0;
}

/* dup, fwd, tproxy, queue, flow offload: the values their registers hold (typed later) */
static int d_fwd(struct nr_dc *d, const struct nftnl_expr *e, int kind) {
  struct nr_stmt *s = stmt_add(d, kind);
  if (s == NULL) return -ENOMEM;
  struct nr_expr **slot[2] = {NULL, NULL};
  uint16_t attr[2] = {0, 0};
  switch (kind) {
  case S_DUP:
    attr[0] = NFTNL_EXPR_DUP_SREG_ADDR, slot[0] = &s->key;
    attr[1] = NFTNL_EXPR_DUP_SREG_DEV, slot[1] = &s->e2;
    break;
  case S_FWD:
    s->u.fwd.family = u32(e, NFTNL_EXPR_FWD_NFPROTO);
    attr[0] = NFTNL_EXPR_FWD_SREG_ADDR, slot[0] = &s->key;
    attr[1] = NFTNL_EXPR_FWD_SREG_DEV, slot[1] = &s->e2;
    break;
  case S_TPROXY:
    s->u.tp.family = u32(e, NFTNL_EXPR_TPROXY_FAMILY);
    attr[0] = NFTNL_EXPR_TPROXY_REG_ADDR, slot[0] = &s->key;
    attr[1] = NFTNL_EXPR_TPROXY_REG_PORT, slot[1] = &s->e2;
    break;
  case S_QUEUE:
    s->u.q.flags = has(e, NFTNL_EXPR_QUEUE_FLAGS) ? nftnl_expr_get_u16(e, NFTNL_EXPR_QUEUE_FLAGS) : 0;
    if (!has(e, NFTNL_EXPR_QUEUE_SREG_QNUM)) {
      s->u.q.num = has(e, NFTNL_EXPR_QUEUE_NUM) ? nftnl_expr_get_u16(e, NFTNL_EXPR_QUEUE_NUM) : 0;
      s->u.q.total = has(e, NFTNL_EXPR_QUEUE_TOTAL) ? nftnl_expr_get_u16(e, NFTNL_EXPR_QUEUE_TOTAL) : 0;
      return 0;
    }
    attr[0] = NFTNL_EXPR_QUEUE_SREG_QNUM, slot[0] = &s->e;
    break;
  default: {
    const char *name = nftnl_expr_get_str(e, NFTNL_EXPR_FLOW_TABLE_NAME);
    if (name == NULL) return nr_dfail(d, "flow_offload");
    s->u.flow.name = nr_strdup(&d->c.arena, name, strlen(name));
    return s->u.flow.name ? 0 : -ENOMEM;
  }
  }
  for (int i = 0; i < 2; i++) {
    if (slot[i] == NULL || !has(e, attr[i])) continue;
    if ((*slot[i] = get_reg(d, u32(e, attr[i]))) == NULL)
      return nr_dfail(d, "%s without its value", ename(e));
  }
  if (kind == S_DUP && s->key == NULL) {  /* netdev: "dup to DEVICE" */
    s->key = s->e2;
    s->e2 = NULL;
    s->u.dup.to_dev = 1;
  }
  if ((kind == S_FWD && s->e2 == NULL) || (kind == S_DUP && s->key == NULL))
    return nr_dfail(d, "%s without a device", ename(e));
  return 0;
}

/* ---- statements ---- */

static int d_nat(struct nr_dc *d, const struct nftnl_expr *e, uint32_t type) {
  struct nr_stmt *s = stmt_add(d, S_NAT);
  if (s == NULL) return -ENOMEM;
  s->u.nat.type = type;
  uint16_t a_flags = NFTNL_EXPR_NAT_FLAGS, a_pmin = NFTNL_EXPR_NAT_REG_PROTO_MIN,
           a_pmax = NFTNL_EXPR_NAT_REG_PROTO_MAX;
  if (type == NAT_MASQ) {
    a_flags = NFTNL_EXPR_MASQ_FLAGS;
    a_pmin = NFTNL_EXPR_MASQ_REG_PROTO_MIN;
    a_pmax = NFTNL_EXPR_MASQ_REG_PROTO_MAX;
  } else if (type == NAT_REDIR) {
    a_flags = NFTNL_EXPR_REDIR_FLAGS;
    a_pmin = NFTNL_EXPR_REDIR_REG_PROTO_MIN;
    a_pmax = NFTNL_EXPR_REDIR_REG_PROTO_MAX;
  } else {
    s->u.nat.type = u32(e, NFTNL_EXPR_NAT_TYPE);
    s->u.nat.family = u32(e, NFTNL_EXPR_NAT_FAMILY);
    if (d->c.family == NFPROTO_INET) s->u.nat.tflags |= 2;  /* nft names the family there */
    if (has(e, NFTNL_EXPR_NAT_REG_ADDR_MIN)) {
      struct nr_expr *lo = get_reg(d, u32(e, NFTNL_EXPR_NAT_REG_ADDR_MIN)), *hi = NULL;
      if (lo == NULL) return nr_dfail(d, "nat address");
      if (has(e, NFTNL_EXPR_NAT_REG_ADDR_MAX) &&
          u32(e, NFTNL_EXPR_NAT_REG_ADDR_MAX) != u32(e, NFTNL_EXPR_NAT_REG_ADDR_MIN)) {
        hi = get_reg(d, u32(e, NFTNL_EXPR_NAT_REG_ADDR_MAX));
        if (hi == NULL || lo->kind != X_VALUE || hi->kind != X_VALUE)
          return nr_dfail(d, "nat address range");
      }
      if (hi) {
        struct nr_expr *r = nr_expr_new(&d->c, X_RANGE, -1);
        if (r == NULL) return -ENOMEM;
        r->l = lo;
        r->r = hi;
        r->flags = XF_CONST;
        lo = r;
      }
      s->key = lo;
      /* a map giving address and port leaves no port registers to read */
      if (lo->kind == X_MAP && lo->bits == (s->u.nat.family == NFPROTO_IPV6 ? 160 : 64)) {
        s->u.nat.flags = u32(e, a_flags);
        return 0;
      }
    }
  }
  s->u.nat.flags = u32(e, a_flags);
  if (has(e, a_pmin)) {
    struct nr_expr *lo = get_reg(d, u32(e, a_pmin)), *hi = NULL;
    if (lo == NULL) return nr_dfail(d, "nat port");
    if (has(e, a_pmax) && u32(e, a_pmax) != u32(e, a_pmin)) {
      hi = get_reg(d, u32(e, a_pmax));
      if (hi == NULL || lo->kind != X_VALUE || hi->kind != X_VALUE) return nr_dfail(d, "nat ports");
      struct nr_expr *r = nr_expr_new(&d->c, X_RANGE, -1);
      if (r == NULL) return -ENOMEM;
      r->l = lo;
      r->r = hi;
      r->flags = XF_CONST;
      lo = r;
    }
    s->e2 = lo;
  }
  return 0;
}

static struct nr_stmt *stateful(struct nr_dc *d, const struct nftnl_expr *e, int add) {
  const char *n = ename(e);
  struct nr_stmt *s = NULL;
  if (strcmp(n, "counter") == 0) {
    if ((s = nr_stmt_new(&d->c, S_COUNTER, -1)) == NULL) return NULL;
    s->u.ctr.packets = nftnl_expr_get_u64(e, NFTNL_EXPR_CTR_PACKETS);
    s->u.ctr.bytes = nftnl_expr_get_u64(e, NFTNL_EXPR_CTR_BYTES);
  } else if (strcmp(n, "limit") == 0) {
    if ((s = nr_stmt_new(&d->c, S_LIMIT, -1)) == NULL) return NULL;
    s->u.lim.rate = nftnl_expr_get_u64(e, NFTNL_EXPR_LIMIT_RATE);
    s->u.lim.unit = nftnl_expr_get_u64(e, NFTNL_EXPR_LIMIT_UNIT);
    s->u.lim.burst = u32(e, NFTNL_EXPR_LIMIT_BURST);
    s->u.lim.type = u32(e, NFTNL_EXPR_LIMIT_TYPE);
    s->u.lim.flags = u32(e, NFTNL_EXPR_LIMIT_FLAGS);
  } else if (strcmp(n, "quota") == 0) {
    if ((s = nr_stmt_new(&d->c, S_QUOTA, -1)) == NULL) return NULL;
    s->u.quota.bytes = nftnl_expr_get_u64(e, NFTNL_EXPR_QUOTA_BYTES);
    s->u.quota.used = nftnl_expr_get_u64(e, NFTNL_EXPR_QUOTA_CONSUMED);
    s->u.quota.flags = u32(e, NFTNL_EXPR_QUOTA_FLAGS);
  } else if (strcmp(n, "connlimit") == 0) {
    if ((s = nr_stmt_new(&d->c, S_CONNLIMIT, -1)) == NULL) return NULL;
    s->u.cl.count = u32(e, NFTNL_EXPR_CONNLIMIT_COUNT);
    s->u.cl.flags = u32(e, NFTNL_EXPR_CONNLIMIT_FLAGS);
  } else {
    return NULL;
  }
  if (add) nr_stmt_add(&d->c, s);
  return s;
}

static int d_dynset(struct nr_dc *d, const struct nftnl_expr *e) {
  const char *name = nftnl_expr_get_str(e, NFTNL_EXPR_DYNSET_SET_NAME);
  struct nr_expr *key = get_reg(d, u32(e, NFTNL_EXPR_DYNSET_SREG_KEY));
  if (name == NULL || key == NULL) return nr_dfail(d, "dynset");
  const struct nftnl_set *set = find_set(d, name);
  if (set == NULL && (strncmp(name, "__", 2) == 0 || has(e, NFTNL_EXPR_DYNSET_SREG_DATA)))
    return nr_dfail(d, "set %s (not found)", name);
  unsigned klen = set ? nftnl_set_get_u32(set, NFTNL_SET_KEY_LEN) * 8 : 0;
  if (key->bits < klen) {
    key = concat_from(d, u32(e, NFTNL_EXPR_DYNSET_SREG_KEY), klen);
    if (key == NULL) return nr_dfail(d, "dynset key");
  }
  struct nr_stmt *s = stmt_add(d, S_DYNSET);
  if (s == NULL) return -ENOMEM;
  s->key = key;
  s->u.dyn.op = u32(e, NFTNL_EXPR_DYNSET_OP);
  s->u.dyn.timeout = has(e, NFTNL_EXPR_DYNSET_TIMEOUT) ? nftnl_expr_get_u64(e, NFTNL_EXPR_DYNSET_TIMEOUT) : 0;
  s->u.obj.name = NULL;
  s->str_set = nr_strdup(&d->c.arena, name, strlen(name));
  s->nset = set;
  if (has(e, NFTNL_EXPR_DYNSET_SREG_DATA)) {
    s->e = get_reg(d, u32(e, NFTNL_EXPR_DYNSET_SREG_DATA));
    if (s->e == NULL) return nr_dfail(d, "dynset data");
  }
  if (has(e, NFTNL_EXPR_DYNSET_EXPR)) {
    const struct nftnl_expr *x = nftnl_expr_get(e, NFTNL_EXPR_DYNSET_EXPR, NULL);
    if (x == NULL || (s->sub = stateful(d, x, 0)) == NULL) return nr_dfail(d, "dynset statement");
  }
  if (has(e, NFTNL_EXPR_DYNSET_EXPRESSIONS)) return nr_dfail(d, "dynset statements");
  return 0;
}

static int d_log(struct nr_dc *d, const struct nftnl_expr *e) {
  struct nr_stmt *s = stmt_add(d, S_LOG);
  if (s == NULL) return -ENOMEM;
  if (has(e, NFTNL_EXPR_LOG_PREFIX)) {
    const char *p = nftnl_expr_get_str(e, NFTNL_EXPR_LOG_PREFIX);
    s->u.log.prefix = nr_strdup(&d->c.arena, p, strlen(p));
    s->u.log.set |= LF_PREFIX;
  }
  if (has(e, NFTNL_EXPR_LOG_GROUP)) {
    s->u.log.group = nftnl_expr_get_u16(e, NFTNL_EXPR_LOG_GROUP);
    s->u.log.set |= LF_GROUP;
  }
  if (has(e, NFTNL_EXPR_LOG_SNAPLEN)) {
    s->u.log.snaplen = u32(e, NFTNL_EXPR_LOG_SNAPLEN);
    s->u.log.set |= LF_SNAPLEN;
  }
  if (has(e, NFTNL_EXPR_LOG_QTHRESHOLD)) {
    s->u.log.qthresh = nftnl_expr_get_u16(e, NFTNL_EXPR_LOG_QTHRESHOLD);
    s->u.log.set |= LF_QTHRESH;
  }
  if (has(e, NFTNL_EXPR_LOG_LEVEL)) {
    s->u.log.level = u32(e, NFTNL_EXPR_LOG_LEVEL);
    s->u.log.set |= LF_LEVEL;
  }
  if (has(e, NFTNL_EXPR_LOG_FLAGS)) {
    s->u.log.flags = u32(e, NFTNL_EXPR_LOG_FLAGS);
    s->u.log.set |= LF_FLAGS;
  }
  return 0;
}

static int d_one(struct nr_dc *d, const struct nftnl_expr *e) {
  const char *n = ename(e);
  struct nr_stmt *s;
  if (strcmp(n, "payload") == 0) return d_payload(d, e);
  if (strcmp(n, "exthdr") == 0) return d_exthdr(d, e);
  if (strcmp(n, "meta") == 0)
    return d_key(d, e, X_META, nr_meta_keys, NFTNL_EXPR_META_KEY, NFTNL_EXPR_META_DREG,
                 NFTNL_EXPR_META_SREG, "meta");
  if (strcmp(n, "ct") == 0)
    return d_key(d, e, X_CT, nr_ct_keys, NFTNL_EXPR_CT_KEY, NFTNL_EXPR_CT_DREG,
                 NFTNL_EXPR_CT_SREG, "ct");
  if (strcmp(n, "rt") == 0)
    return d_key(d, e, X_RT, nr_rt_keys, NFTNL_EXPR_RT_KEY, NFTNL_EXPR_RT_DREG, 0, "rt");
  if (strcmp(n, "socket") == 0) {
    int rc = d_key(d, e, X_SOCKET, nr_socket_keys, NFTNL_EXPR_SOCKET_KEY,
                   NFTNL_EXPR_SOCKET_DREG, 0, "socket");
    int slot = rc == 0 ? reg_slot(u32(e, NFTNL_EXPR_SOCKET_DREG)) : -1;
    if (slot >= 0 && slot < NR_DREGS && d->reg[slot])  /* the register's own, not a copy */
      d->reg[slot]->u.key.level = u32(e, NFTNL_EXPR_SOCKET_LEVEL);
    return rc;
  }
  if (strcmp(n, "osf") == 0) {
    struct nr_expr *x = nr_expr_new(&d->c, X_OSF, -1);
    if (x == NULL) return -ENOMEM;
    x->u.osf.ttl = has(e, NFTNL_EXPR_OSF_TTL) ? nftnl_expr_get_u8(e, NFTNL_EXPR_OSF_TTL) : 0;
    x->u.osf.flags = u32(e, NFTNL_EXPR_OSF_FLAGS);
    if (x->u.osf.ttl > 2 || (x->u.osf.flags & ~(uint32_t)NFT_OSF_F_VERSION))
      return nr_dfail(d, "osf ttl or flags");
    x->type = T_STRING;
    x->order = BO_HOST;
    x->bits = NFT_OSF_MAXGENRELEN * 8;
    return set_reg(d, u32(e, NFTNL_EXPR_OSF_DREG), x);
  }
  if (strcmp(n, "xfrm") == 0) {
    struct nr_expr *x = nr_expr_new(&d->c, X_XFRM, -1);
    if (x == NULL) return -ENOMEM;
    x->u.xfrm.key = u32(e, NFTNL_EXPR_XFRM_KEY);
    x->u.xfrm.dir = has(e, NFTNL_EXPR_XFRM_DIR) ? nftnl_expr_get_u8(e, NFTNL_EXPR_XFRM_DIR) : 0;
    x->u.xfrm.spnum = u32(e, NFTNL_EXPR_XFRM_SPNUM);
    switch (x->u.xfrm.key) {
    case NFT_XFRM_KEY_SPI: x->type = T_INTEGER; x->order = BO_BE; x->bits = 32; break;
    case NFT_XFRM_KEY_REQID: x->type = T_INTEGER; x->order = BO_HOST; x->bits = 32; break;
    case NFT_XFRM_KEY_SADDR_IP4: case NFT_XFRM_KEY_DADDR_IP4:
      x->type = T_IPADDR; x->order = BO_BE; x->bits = 32; break;
    case NFT_XFRM_KEY_SADDR_IP6: case NFT_XFRM_KEY_DADDR_IP6:
      x->type = T_IP6ADDR; x->order = BO_BE; x->bits = 128; break;
    default: return nr_dfail(d, "xfrm key %u", x->u.xfrm.key);
    }
    if (x->u.xfrm.dir > 1) return nr_dfail(d, "xfrm direction %u", x->u.xfrm.dir);
    if (has(e, NFTNL_EXPR_XFRM_SREG)) return nr_dfail(d, "xfrm set");
    return set_reg(d, u32(e, NFTNL_EXPR_XFRM_DREG), x);
  }
  if (strcmp(n, "immediate") == 0) return d_immediate(d, e);
  if (strcmp(n, "cmp") == 0) return d_cmp(d, e);
  if (strcmp(n, "range") == 0) return d_range(d, e);
  if (strcmp(n, "bitwise") == 0) return d_bitwise(d, e);
  if (strcmp(n, "byteorder") == 0) return d_byteorder(d, e);
  if (strcmp(n, "lookup") == 0) return d_lookup(d, e);
  if (strcmp(n, "numgen") == 0 || strcmp(n, "hash") == 0 || strcmp(n, "fib") == 0) {
    struct nr_expr *x = nr_expr_new(&d->c, n[0] == 'n' ? X_NUMGEN : n[0] == 'h' ? X_HASH : X_FIB, -1);
    if (x == NULL) return -ENOMEM;
    x->order = BO_HOST;
    x->bits = 32;
    x->type = T_INTEGER;
    if (x->kind == X_NUMGEN) {
      x->u.gen.type = u32(e, NFTNL_EXPR_NG_TYPE);
      x->u.gen.mod = u32(e, NFTNL_EXPR_NG_MODULUS);
      x->u.gen.offset = u32(e, NFTNL_EXPR_NG_OFFSET);
      return set_reg(d, u32(e, NFTNL_EXPR_NG_DREG), x);
    }
    if (x->kind == X_HASH) {
      x->u.gen.type = u32(e, NFTNL_EXPR_HASH_TYPE);
      x->u.gen.mod = u32(e, NFTNL_EXPR_HASH_MODULUS);
      x->u.gen.offset = u32(e, NFTNL_EXPR_HASH_OFFSET);
      x->u.gen.seed = u32(e, NFTNL_EXPR_HASH_SEED);
      x->u.gen.seed_set = has(e, NFTNL_EXPR_HASH_SEED) && x->u.gen.type == NFT_HASH_JENKINS;
      if (x->u.gen.type == NFT_HASH_JENKINS) {
        struct nr_expr *k = get_reg(d, u32(e, NFTNL_EXPR_HASH_SREG));
        unsigned bits = u32(e, NFTNL_EXPR_HASH_LEN) * 8;
        if (k == NULL) return nr_dfail(d, "hash");
        if (k->bits < bits) k = concat_from(d, u32(e, NFTNL_EXPR_HASH_SREG), (bits + 31) / 32 * 32);
        if (k == NULL) return nr_dfail(d, "hash key");
        x->u.gen.e = k;
      }
      return set_reg(d, u32(e, NFTNL_EXPR_HASH_DREG), x);
    }
    x->u.fib.result = u32(e, NFTNL_EXPR_FIB_RESULT);
    x->u.fib.flags = u32(e, NFTNL_EXPR_FIB_FLAGS);
    switch (x->u.fib.result) {
    case NFT_FIB_RESULT_OIF: x->type = T_IFINDEX; break;
    case NFT_FIB_RESULT_OIFNAME: x->type = T_IFNAME; x->bits = 128; break;
    case NFT_FIB_RESULT_ADDRTYPE: x->type = T_FIB_ADDR; break;
    default: return nr_dfail(d, "fib result");
    }
    if (x->u.fib.flags & NFTA_FIB_F_PRESENT) x->type = T_BOOLEAN;
    return set_reg(d, u32(e, NFTNL_EXPR_FIB_DREG), x);
  }
  if (stateful(d, e, 1)) return 0;
  if (strcmp(n, "log") == 0) return d_log(d, e);
  if (strcmp(n, "reject") == 0) {
    if ((s = stmt_add(d, S_REJECT)) == NULL) return -ENOMEM;
    s->u.rej.type = u32(e, NFTNL_EXPR_REJECT_TYPE);
    s->u.rej.code = has(e, NFTNL_EXPR_REJECT_CODE) ? nftnl_expr_get_u8(e, NFTNL_EXPR_REJECT_CODE) : -1;
    return 0;
  }
  if (strcmp(n, "nat") == 0) return d_nat(d, e, NFT_NAT_SNAT);
  if (strcmp(n, "masq") == 0) return d_nat(d, e, NAT_MASQ);
  if (strcmp(n, "redir") == 0) return d_nat(d, e, NAT_REDIR);
  if (strcmp(n, "notrack") == 0) return stmt_add(d, S_NOTRACK) ? 0 : -ENOMEM;
  if (strcmp(n, "synproxy") == 0) {
    if ((s = stmt_add(d, S_SYNPROXY)) == NULL) return -ENOMEM;
    s->u.syn.mss = nftnl_expr_get_u16(e, NFTNL_EXPR_SYNPROXY_MSS);
    s->u.syn.wscale = nftnl_expr_get_u8(e, NFTNL_EXPR_SYNPROXY_WSCALE);
    s->u.syn.flags = u32(e, NFTNL_EXPR_SYNPROXY_FLAGS);
    return 0;
  }
  if (strcmp(n, "objref") == 0) {
    if (has(e, NFTNL_EXPR_OBJREF_SET_NAME)) return d_objref_map(d, e);
    if ((s = stmt_add(d, S_OBJREF)) == NULL) return -ENOMEM;
    s->u.obj.type = u32(e, NFTNL_EXPR_OBJREF_IMM_TYPE);
    const char *name = nftnl_expr_get_str(e, NFTNL_EXPR_OBJREF_IMM_NAME);
    if (name == NULL) return nr_dfail(d, "objref");
    s->u.obj.name = nr_strdup(&d->c.arena, name, strlen(name));
    return 0;
  }
  if (strcmp(n, "dynset") == 0) return d_dynset(d, e);
  if (strcmp(n, "dup") == 0) return d_fwd(d, e, S_DUP);
  if (strcmp(n, "fwd") == 0) return d_fwd(d, e, S_FWD);
  if (strcmp(n, "tproxy") == 0) return d_fwd(d, e, S_TPROXY);
  if (strcmp(n, "queue") == 0) return d_fwd(d, e, S_QUEUE);
  if (strcmp(n, "flow_offload") == 0) return d_fwd(d, e, S_FLOW);
  return nr_dfail(d, "%s", n);
}

int nr_decode_exprs(struct nr_dc *d, const struct nftnl_rule *r) {
  struct nftnl_expr_iter *it = nftnl_expr_iter_create(r);
  if (it == NULL) return -ENOMEM;
  int rc = 0;
  for (struct nftnl_expr *e = nftnl_expr_iter_next(it); e && rc == 0; e = nftnl_expr_iter_next(it)) {
    rc = d_one(d, e);
    if (d->c.oom) rc = -ENOMEM;
  }
  nftnl_expr_iter_destroy(it);
  return rc;
}

/* ---- the entry point ---- */

struct ud_seen { const char *comment; int other; };

static int ud_cb(const struct nftnl_udata *a, void *data) {
  struct ud_seen *u = data;
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
  if (err) { err->column = 0; err->msg[0] = 0; }
  if (size > 0) buf[0] = 0;
  if (r == NULL) return -EINVAL;
  struct nr_dc *d = calloc(1, sizeof *d);
  if (d == NULL) return -ENOMEM;
  d->env = env;
  d->c.family = env ? env->family : NFPROTO_INET;
  int rc = nr_decode_exprs(d, r);
  /* what was decoded is shown even when the rest could not be */
  int prc = nr_decode_post(d);
  if (rc == 0) rc = prc;
  if (d->c.oom) rc = -ENOMEM;
  struct nr_sbuf b = {NULL, 0, 0, 0, 1};
  int empty = nr_print_rule(d, &b);
  if (rc == 0 && nftnl_rule_is_set(r, NFTNL_RULE_USERDATA)) {
    uint32_t ulen = 0;
    const void *ud = nftnl_rule_get_data(r, NFTNL_RULE_USERDATA, &ulen);
    struct ud_seen u = {NULL, 0};
    if (ud == NULL || nftnl_udata_parse(ud, ulen, ud_cb, &u) < 0 || u.other) {
      rc = nr_dfail(d, "rule user data");
    } else if (u.comment) {
      nr_sb_add(&b, "%scomment \"%s\"", empty ? "" : " ", u.comment);
      empty = 0;
    }
  }
  /* the mark makes sure a rule cnet cannot read never looks like nft's text for it */
  if (rc < 0 && d->bad[0]) nr_sb_add(&b, "%s<%s>", empty ? "" : " ", d->bad);
  if (rc < 0 && err)
    snprintf(err->msg, sizeof err->msg, "cannot decode expression %s: %s",
             d->bad[0] ? d->bad : "?",
             rc == -EOPNOTSUPP ? "outside cnet's rule subset" : strerror(-rc));
  if (b.overflow && rc == 0) rc = -ENOMEM;
  size_t len = b.len;
  if (size > 0) {
    size_t n = len < size ? len : size - 1;
    if (b.p) memcpy(buf, b.p, n);
    buf[n] = 0;
  }
  free(b.p);
  nr_arena_free(&d->c.arena);
  free(d);
  if (rc < 0) return rc;
  if (len >= size) return -ENOSPC;
  return (int)len;
}
