/* Emission: the evaluated rule as libnftnl expressions, with nft's register allocation (a
 * 128-bit register per value, 32-bit registers for concatenations), and the anonymous sets
 * and maps it uses (elements encoded as nft encodes them: interval ends, open intervals). */
#include "nftrule/nr_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <libnftnl/expr.h>
#include <libnftnl/rule.h>
#include <libnftnl/set.h>
#include <libnftnl/udata.h>

enum { REG_VERDICT = 0 };

/* ---- registers, the way nft hands them out ---- */

static int reg_space(unsigned bits) { return (int)((bits + 31) / 32); }

static int get_reg(struct nr_cc *c, const struct nr_expr *e) {
  int n = e && e->kind == X_CONCAT ? reg_space(e->bits) : 4;
  int r = c->reg_low;
  c->reg_low += n;
  return r;
}

static void put_reg(struct nr_cc *c, const struct nr_expr *e) {
  c->reg_low -= e && e->kind == X_CONCAT ? reg_space(e->bits) : 4;
}

/* nft numbers registers in 32-bit slots from 1; the kernel has 128-bit NFT_REG_1..4 and
 * 32-bit NFT_REG32_00..15: a slot on a 128-bit boundary is written as the 128-bit one. */
static uint32_t kreg(int reg) {
  if (reg == REG_VERDICT) return NFT_REG_VERDICT;
  int r = reg - NFT_REG_1;
  return r % 4 == 0 ? (uint32_t)(NFT_REG_1 + r / 4) : (uint32_t)(r + NFT_REG32_00);
}

/* The kernel's limit on expressions in one rule (NFT_RULE_MAXEXPRS): the statement that
 * passes it is refused. */
enum { MAXEXPRS = 128 };

static int add(struct nr_cc *c, struct nftnl_expr *e) {
  if (e == NULL) { c->oom = 1; return -ENOMEM; }
  if (c->nexpr >= MAXEXPRS) {
    nftnl_expr_free(e);
    return nr_fail(c, c->emit_tok, -EINVAL, "rule too long: more than %d expressions (the "
                   "kernel's limit for one rule)", MAXEXPRS);
  }
  c->nexpr++;
  nftnl_rule_add_expr(c->r, e);
  return 0;
}

/* A value's bytes as the register holds them. */
static unsigned wire(const struct nr_expr *v, uint8_t *out) {
  unsigned n = (v->bits + 7) / 8;
  const struct nr_type *t = nr_type_get(v->type);
  if (v->order == BO_HOST && !(t && t->base == NB_STRING))
    for (unsigned i = 0; i < n; i++) out[i] = v->val[n - 1 - i];
  else
    memcpy(out, v->val, n);
  return n;
}

static int gen(struct nr_cc *c, const struct nr_expr *e, int dreg);

static int gen_imm(struct nr_cc *c, const struct nr_expr *v, int dreg) {
  struct nftnl_expr *e = nftnl_expr_alloc("immediate");
  if (e == NULL) return -ENOMEM;
  nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_DREG, kreg(dreg));
  if (v->kind == X_VERDICT) {
    nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_VERDICT, (uint32_t)v->u.vd.verdict);
    if (v->str && nftnl_expr_set_str(e, NFTNL_EXPR_IMM_CHAIN, v->str) < 0) c->oom = 1;
  } else {
    uint8_t b[NR_VMAX];
    unsigned n = wire(v, b);
    nftnl_expr_set(e, NFTNL_EXPR_IMM_DATA, b, n);
  }
  return add(c, e);
}

static int gen_key(struct nr_cc *c, const char *name, uint16_t key_attr, uint32_t key,
                   uint16_t dreg_attr, int dreg) {
  struct nftnl_expr *e = nftnl_expr_alloc(name);
  if (e == NULL) return -ENOMEM;
  nftnl_expr_set_u32(e, dreg_attr, kreg(dreg));
  nftnl_expr_set_u32(e, key_attr, key);
  return add(c, e);
}

/* Folds a chain of & | ^ with constants into nft's one bitwise: mask and xor. */
static int gen_bitwise(struct nr_cc *c, const struct nr_expr *e, int dreg) {
  const struct nr_expr *chain[16];
  int n = 0;
  const struct nr_expr *l = e;
  while (l->kind == X_BINOP && (l->op == OP_AND || l->op == OP_OR || l->op == OP_XOR) && n < 16) {
    chain[n++] = l;
    l = l->l;
  }
  int rc = gen(c, l, dreg);
  if (rc < 0) return rc;
  unsigned len = (e->bits + 7) / 8;
  uint8_t mask[NR_VMAX], xr[NR_VMAX];
  memset(mask, 0, sizeof mask);
  memset(xr, 0, sizeof xr);
  /* numeric (big endian) arithmetic on `len` bytes; the top bits beyond e->bits stay 0 */
  for (unsigned b = 0; b < e->bits; b++) mask[len - 1 - b / 8] |= (uint8_t)(1u << (b % 8));
  for (int i = n - 1; i >= 0; i--) {
    const uint8_t *v = chain[i]->r->val;
    unsigned vl = (chain[i]->r->bits + 7) / 8;
    uint8_t val[NR_VMAX];
    memset(val, 0, sizeof val);
    memcpy(val + (len > vl ? len - vl : 0), v + (vl > len ? vl - len : 0), vl < len ? vl : len);
    for (unsigned j = 0; j < len; j++) {
      uint8_t m, x;
      switch (chain[i]->op) {
      case OP_AND: m = val[j]; x = 0; break;
      case OP_OR: m = (uint8_t)~val[j]; x = val[j]; break;
      default: m = 0xff; x = val[j]; break;
      }
      xr[j] = (uint8_t)(x ^ (xr[j] & m));
      mask[j] &= m;
    }
  }
  struct nr_expr mv = {.kind = X_VALUE, .type = e->type, .order = e->order, .bits = (uint16_t)(len * 8), .val = mask};
  struct nr_expr xv = mv;
  xv.val = xr;
  uint8_t mb[NR_VMAX], xb[NR_VMAX];
  wire(&mv, mb);
  wire(&xv, xb);
  struct nftnl_expr *x = nftnl_expr_alloc("bitwise");
  if (x == NULL) return -ENOMEM;
  nftnl_expr_set_u32(x, NFTNL_EXPR_BITWISE_SREG, kreg(dreg));
  nftnl_expr_set_u32(x, NFTNL_EXPR_BITWISE_DREG, kreg(dreg));
  nftnl_expr_set_u32(x, NFTNL_EXPR_BITWISE_OP, NFT_BITWISE_BOOL);
  nftnl_expr_set_u32(x, NFTNL_EXPR_BITWISE_LEN, len);
  nftnl_expr_set(x, NFTNL_EXPR_BITWISE_MASK, mb, len);
  nftnl_expr_set(x, NFTNL_EXPR_BITWISE_XOR, xb, len);
  return add(c, x);
}

static int gen_shift(struct nr_cc *c, const struct nr_expr *e, int dreg) {
  int rc = gen(c, e->l, dreg);
  if (rc < 0) return rc;
  struct nftnl_expr *x = nftnl_expr_alloc("bitwise");
  if (x == NULL) return -ENOMEM;
  uint32_t n = (uint32_t)nr_be_get(e->r->val, 4);
  nftnl_expr_set_u32(x, NFTNL_EXPR_BITWISE_SREG, kreg(dreg));
  nftnl_expr_set_u32(x, NFTNL_EXPR_BITWISE_DREG, kreg(dreg));
  nftnl_expr_set_u32(x, NFTNL_EXPR_BITWISE_OP, e->op == OP_LSHIFT ? NFT_BITWISE_LSHIFT
                                                                  : NFT_BITWISE_RSHIFT);
  nftnl_expr_set_u32(x, NFTNL_EXPR_BITWISE_LEN, (e->bits + 7) / 8);
  nftnl_expr_set(x, NFTNL_EXPR_BITWISE_DATA, &n, sizeof n);
  return add(c, x);
}

static const char *set_name(const struct nr_set *s) {
  if (s->name) return s->name;
  return s->is_objmap ? "__objmap%d" : s->is_map ? "__map%d" : "__set%d";
}

static int gen_map(struct nr_cc *c, const struct nr_expr *m, int dreg) {
  int sreg, space = 0, rc;
  const struct nr_set *set = m->r->u.ref.set;
  sreg = dreg == REG_VERDICT ? get_reg(c, m->l) : dreg;
  if (m->l->kind == X_CONCAT) {  /* nft reserves the key's registers while loading it */
    space = reg_space(m->l->bits);
    c->reg_low += space;
  }
  rc = gen(c, m->l, sreg);
  c->reg_low -= space;
  if (rc < 0) return rc;
  struct nftnl_expr *x = nftnl_expr_alloc("lookup");
  if (x == NULL) return -ENOMEM;
  nftnl_expr_set_u32(x, NFTNL_EXPR_LOOKUP_SREG, kreg(sreg));
  nftnl_expr_set_u32(x, NFTNL_EXPR_LOOKUP_DREG, kreg(dreg));
  if (nftnl_expr_set_str(x, NFTNL_EXPR_LOOKUP_SET, set_name(set)) < 0) c->oom = 1;
  if (set->id) nftnl_expr_set_u32(x, NFTNL_EXPR_LOOKUP_SET_ID, set->id);
  if (dreg == REG_VERDICT) put_reg(c, m->l);
  return add(c, x);
}

/* an object chosen by a map: the key's register and the map */
static int gen_objref_map(struct nr_cc *c, const struct nr_expr *m) {
  const struct nr_set *set = m->r->u.ref.set;
  int sreg = get_reg(c, m->l), rc = gen(c, m->l, sreg);
  put_reg(c, m->l);
  if (rc < 0) return rc;
  struct nftnl_expr *x = nftnl_expr_alloc("objref");
  if (x == NULL) return -ENOMEM;
  nftnl_expr_set_u32(x, NFTNL_EXPR_OBJREF_SET_SREG, kreg(sreg));
  if (nftnl_expr_set_str(x, NFTNL_EXPR_OBJREF_SET_NAME, set_name(set)) < 0) c->oom = 1;
  if (set->id) nftnl_expr_set_u32(x, NFTNL_EXPR_OBJREF_SET_ID, set->id);
  return add(c, x);
}

/* an exthdr expression: which option or header, and where in it (no register yet) */
static struct nftnl_expr *gen_exthdr(const struct nr_expr *e) {
  struct nftnl_expr *x = nftnl_expr_alloc("exthdr");
  if (x == NULL) return NULL;
  nftnl_expr_set_u8(x, NFTNL_EXPR_EXTHDR_TYPE, e->u.ex.type);
  nftnl_expr_set_u32(x, NFTNL_EXPR_EXTHDR_OFFSET, e->u.ex.off / 8u);
  nftnl_expr_set_u32(x, NFTNL_EXPR_EXTHDR_LEN, (e->bits + 7) / 8u);
  nftnl_expr_set_u32(x, NFTNL_EXPR_EXTHDR_OP, e->u.ex.op);
  return x;
}

static int gen(struct nr_cc *c, const struct nr_expr *e, int dreg) {
  struct nftnl_expr *x;
  int rc;
  switch (e->kind) {
  case X_VALUE:
  case X_VERDICT:
    return gen_imm(c, e, dreg);
  case X_PAYLOAD:
    if ((x = nftnl_expr_alloc("payload")) == NULL) return -ENOMEM;
    nftnl_expr_set_u32(x, NFTNL_EXPR_PAYLOAD_DREG, kreg(dreg));
    nftnl_expr_set_u32(x, NFTNL_EXPR_PAYLOAD_BASE, (uint32_t)e->u.pl.base - 1);
    nftnl_expr_set_u32(x, NFTNL_EXPR_PAYLOAD_OFFSET, e->u.pl.off / 8u);
    nftnl_expr_set_u32(x, NFTNL_EXPR_PAYLOAD_LEN, (e->bits + 7) / 8u);
    return add(c, x);
  case X_META:
    return gen_key(c, "meta", NFTNL_EXPR_META_KEY, e->u.key.k->key, NFTNL_EXPR_META_DREG, dreg);
  case X_CT:
    if ((x = nftnl_expr_alloc("ct")) == NULL) return -ENOMEM;
    nftnl_expr_set_u32(x, NFTNL_EXPR_CT_DREG, kreg(dreg));
    nftnl_expr_set_u32(x, NFTNL_EXPR_CT_KEY, e->u.key.k->key);
    if (e->u.key.dir >= 0) nftnl_expr_set_u8(x, NFTNL_EXPR_CT_DIR, (uint8_t)e->u.key.dir);
    return add(c, x);
  case X_RT:
    return gen_key(c, "rt", NFTNL_EXPR_RT_KEY, e->u.key.k->key, NFTNL_EXPR_RT_DREG, dreg);
  case X_EXTHDR:
    if ((x = gen_exthdr(e)) == NULL) return -ENOMEM;
    nftnl_expr_set_u32(x, NFTNL_EXPR_EXTHDR_DREG, kreg(dreg));
    nftnl_expr_set_u32(x, NFTNL_EXPR_EXTHDR_FLAGS, e->u.ex.flags);
    return add(c, x);
  case X_SOCKET:
    if ((x = nftnl_expr_alloc("socket")) == NULL) return -ENOMEM;
    nftnl_expr_set_u32(x, NFTNL_EXPR_SOCKET_DREG, kreg(dreg));
    nftnl_expr_set_u32(x, NFTNL_EXPR_SOCKET_KEY, e->u.key.k->key);
    nftnl_expr_set_u32(x, NFTNL_EXPR_SOCKET_LEVEL, e->u.key.level);
    return add(c, x);
  case X_OSF:
    if ((x = nftnl_expr_alloc("osf")) == NULL) return -ENOMEM;
    nftnl_expr_set_u32(x, NFTNL_EXPR_OSF_DREG, kreg(dreg));
    nftnl_expr_set_u8(x, NFTNL_EXPR_OSF_TTL, e->u.osf.ttl);
    nftnl_expr_set_u32(x, NFTNL_EXPR_OSF_FLAGS, e->u.osf.flags);
    return add(c, x);
  case X_XFRM:
    if ((x = nftnl_expr_alloc("xfrm")) == NULL) return -ENOMEM;
    nftnl_expr_set_u32(x, NFTNL_EXPR_XFRM_DREG, kreg(dreg));
    nftnl_expr_set_u32(x, NFTNL_EXPR_XFRM_KEY, e->u.xfrm.key);
    nftnl_expr_set_u8(x, NFTNL_EXPR_XFRM_DIR, e->u.xfrm.dir);
    nftnl_expr_set_u32(x, NFTNL_EXPR_XFRM_SPNUM, e->u.xfrm.spnum);
    return add(c, x);
  case X_NUMGEN:
    if ((x = nftnl_expr_alloc("numgen")) == NULL) return -ENOMEM;
    nftnl_expr_set_u32(x, NFTNL_EXPR_NG_DREG, kreg(dreg));
    nftnl_expr_set_u32(x, NFTNL_EXPR_NG_TYPE, e->u.gen.type);
    nftnl_expr_set_u32(x, NFTNL_EXPR_NG_MODULUS, e->u.gen.mod);
    nftnl_expr_set_u32(x, NFTNL_EXPR_NG_OFFSET, e->u.gen.offset);
    return add(c, x);
  case X_HASH: {
    if ((x = nftnl_expr_alloc("hash")) == NULL) return -ENOMEM;
    if (e->u.gen.e) {
      int sreg = get_reg(c, e->u.gen.e);
      if ((rc = gen(c, e->u.gen.e, sreg)) < 0) { nftnl_expr_free(x); return rc; }
      put_reg(c, e->u.gen.e);
      nftnl_expr_set_u32(x, NFTNL_EXPR_HASH_SREG, kreg(sreg));
      nftnl_expr_set_u32(x, NFTNL_EXPR_HASH_LEN, (e->u.gen.e->bits + 7) / 8u);
    }
    nftnl_expr_set_u32(x, NFTNL_EXPR_HASH_DREG, kreg(dreg));
    nftnl_expr_set_u32(x, NFTNL_EXPR_HASH_MODULUS, e->u.gen.mod);
    if (e->u.gen.seed_set) nftnl_expr_set_u32(x, NFTNL_EXPR_HASH_SEED, e->u.gen.seed);
    nftnl_expr_set_u32(x, NFTNL_EXPR_HASH_OFFSET, e->u.gen.offset);
    nftnl_expr_set_u32(x, NFTNL_EXPR_HASH_TYPE, e->u.gen.type);
    return add(c, x);
  }
  case X_FIB:
    if ((x = nftnl_expr_alloc("fib")) == NULL) return -ENOMEM;
    nftnl_expr_set_u32(x, NFTNL_EXPR_FIB_DREG, kreg(dreg));
    nftnl_expr_set_u32(x, NFTNL_EXPR_FIB_RESULT, e->u.fib.result);
    nftnl_expr_set_u32(x, NFTNL_EXPR_FIB_FLAGS, e->u.fib.flags);
    return add(c, x);
  case X_UNARY: {
    if ((rc = gen(c, e->l, dreg)) < 0) return rc;
    if ((x = nftnl_expr_alloc("byteorder")) == NULL) return -ENOMEM;
    unsigned size = e->l->bits % 64 == 0 ? 8 : e->l->bits % 32 == 0 ? 4 : 2;
    nftnl_expr_set_u32(x, NFTNL_EXPR_BYTEORDER_SREG, kreg(dreg));
    nftnl_expr_set_u32(x, NFTNL_EXPR_BYTEORDER_DREG, kreg(dreg));
    nftnl_expr_set_u32(x, NFTNL_EXPR_BYTEORDER_LEN, e->bits / 8u);
    nftnl_expr_set_u32(x, NFTNL_EXPR_BYTEORDER_SIZE, size);
    nftnl_expr_set_u32(x, NFTNL_EXPR_BYTEORDER_OP, e->op == OP_HTON ? NFT_BYTEORDER_HTON
                                                                    : NFT_BYTEORDER_NTOH);
    return add(c, x);
  }
  case X_BINOP:
    if (e->op == OP_LSHIFT || e->op == OP_RSHIFT) return gen_shift(c, e, dreg);
    return gen_bitwise(c, e, dreg);
  case X_CONCAT:
    for (int i = 0; i < e->n; i++) {
      if ((rc = gen(c, e->v[i], dreg)) < 0) return rc;
      dreg += reg_space(e->v[i]->bits);
    }
    return 0;
  case X_MAP:
    return gen_map(c, e, dreg);
  default:
    return nr_unsupported(c, e->tok, "this expression");
  }
}

/* ---- matches ---- */

static int cmp(struct nr_cc *c, int sreg, uint32_t op, const uint8_t *d, unsigned len) {
  struct nftnl_expr *x = nftnl_expr_alloc("cmp");
  if (x == NULL) return -ENOMEM;
  nftnl_expr_set_u32(x, NFTNL_EXPR_CMP_SREG, kreg(sreg));
  nftnl_expr_set_u32(x, NFTNL_EXPR_CMP_OP, op);
  nftnl_expr_set(x, NFTNL_EXPR_CMP_DATA, d, len);
  return add(c, x);
}

static uint32_t cmp_op(int op) {
  switch (op) {
  case OP_NEQ: return NFT_CMP_NEQ;
  case OP_LT: return NFT_CMP_LT;
  case OP_GT: return NFT_CMP_GT;
  case OP_LTE: return NFT_CMP_LTE;
  case OP_GTE: return NFT_CMP_GTE;
  default: return NFT_CMP_EQ;
  }
}

static int gen_match(struct nr_cc *c, const struct nr_expr *rel) {
  const struct nr_expr *l = rel->l, *r = rel->r;
  int sreg, rc;
  uint8_t b[NR_VMAX], b2[NR_VMAX];
  struct nftnl_expr *x;
  switch (r->kind) {
  case X_RANGE:
    sreg = get_reg(c, l);
    if ((rc = gen(c, l, sreg)) < 0) return rc;
    if (rel->op == OP_NEQ) {
      if ((x = nftnl_expr_alloc("range")) == NULL) return -ENOMEM;
      nftnl_expr_set_u32(x, NFTNL_EXPR_RANGE_SREG, kreg(sreg));
      nftnl_expr_set_u32(x, NFTNL_EXPR_RANGE_OP, NFT_RANGE_NEQ);
      unsigned n = wire(r->l, b);
      wire(r->r, b2);
      nftnl_expr_set(x, NFTNL_EXPR_RANGE_FROM_DATA, b, n);
      nftnl_expr_set(x, NFTNL_EXPR_RANGE_TO_DATA, b2, n);
      rc = add(c, x);
    } else {
      unsigned n = wire(r->l, b);
      if ((rc = cmp(c, sreg, NFT_CMP_GTE, b, n)) < 0) return rc;
      n = wire(r->r, b);
      rc = cmp(c, sreg, NFT_CMP_LTE, b, n);
    }
    put_reg(c, l);
    return rc;
  case X_SET:
  case X_SETREF: {
    const struct nr_set *set = r->u.ref.set;
    sreg = get_reg(c, l);
    if ((rc = gen(c, l, sreg)) < 0) return rc;
    if ((x = nftnl_expr_alloc("lookup")) == NULL) return -ENOMEM;
    nftnl_expr_set_u32(x, NFTNL_EXPR_LOOKUP_SREG, kreg(sreg));
    if (nftnl_expr_set_str(x, NFTNL_EXPR_LOOKUP_SET, set_name(set)) < 0) c->oom = 1;
    if (set->id) nftnl_expr_set_u32(x, NFTNL_EXPR_LOOKUP_SET_ID, set->id);
    if (rel->op == OP_NEQ) nftnl_expr_set_u32(x, NFTNL_EXPR_LOOKUP_FLAGS, NFT_LOOKUP_F_INV);
    put_reg(c, l);
    return add(c, x);
  }
  case X_PREFIX: {
    const struct nr_type *t = nr_type_get(l->type);
    int plen = r->u.pre.plen;
    sreg = get_reg(c, l);
    if (!(t && t->base == NB_STRING) && (r->order != BO_BE || plen == 0 || plen % 8)) {
      if ((rc = gen(c, l, sreg)) < 0) return rc;
      unsigned n = (r->bits + 7) / 8;
      uint8_t mask[NR_VMAX], zero[NR_VMAX];
      memset(mask, 0, sizeof mask);
      memset(zero, 0, sizeof zero);
      for (int k = 0; k < plen; k++) mask[k / 8] |= (uint8_t)(0x80u >> (k % 8));
      struct nr_expr mv = {.kind = X_VALUE, .type = r->type, .order = r->order, .bits = r->bits, .val = mask};
      uint8_t mb[NR_VMAX];
      wire(&mv, mb);
      if ((x = nftnl_expr_alloc("bitwise")) == NULL) return -ENOMEM;
      nftnl_expr_set_u32(x, NFTNL_EXPR_BITWISE_SREG, kreg(sreg));
      nftnl_expr_set_u32(x, NFTNL_EXPR_BITWISE_DREG, kreg(sreg));
      nftnl_expr_set_u32(x, NFTNL_EXPR_BITWISE_LEN, n);
      nftnl_expr_set(x, NFTNL_EXPR_BITWISE_MASK, mb, n);
      nftnl_expr_set(x, NFTNL_EXPR_BITWISE_XOR, zero, n);
      if ((rc = add(c, x)) < 0) return rc;
      wire(r->l, b);
      rc = cmp(c, sreg, cmp_op(rel->op), b, n);
    } else {
      /* only the prefix's bytes are loaded and compared */
      unsigned n = (unsigned)(plen + 7) / 8;
      struct nr_expr lc = *l;
      lc.bits = (uint16_t)plen;
      if ((rc = gen(c, &lc, sreg)) < 0) return rc;
      wire(r->l, b);
      rc = cmp(c, sreg, cmp_op(rel->op), b, n);
    }
    put_reg(c, l);
    return rc;
  }
  default:
    break;
  }
  const struct nr_type *rt = nr_type_get(r->type);
  if ((rel->op == OP_IMPLICIT || rel->op == OP_NEG) && rt && rt->base == NB_BITMASK &&
      rt->id != T_BITMASK) {
    /* flags: (lhs & flags) != 0, or == 0 for "!" */
    sreg = get_reg(c, l);
    if ((rc = gen(c, l, sreg)) < 0) return rc;
    unsigned len = (l->bits + 7) / 8;
    uint8_t zero[NR_VMAX];
    memset(zero, 0, sizeof zero);
    wire(r, b);
    if (l->kind == X_BINOP) {
      rc = cmp(c, sreg, NFT_CMP_EQ, b, (r->bits + 7) / 8);
    } else {
      if ((x = nftnl_expr_alloc("bitwise")) == NULL) return -ENOMEM;
      nftnl_expr_set_u32(x, NFTNL_EXPR_BITWISE_SREG, kreg(sreg));
      nftnl_expr_set_u32(x, NFTNL_EXPR_BITWISE_DREG, kreg(sreg));
      nftnl_expr_set_u32(x, NFTNL_EXPR_BITWISE_LEN, len);
      nftnl_expr_set(x, NFTNL_EXPR_BITWISE_MASK, b, (r->bits + 7) / 8);
      nftnl_expr_set(x, NFTNL_EXPR_BITWISE_XOR, zero, len);
      if ((rc = add(c, x)) < 0) return rc;
      rc = cmp(c, sreg, rel->op == OP_NEG ? NFT_CMP_EQ : NFT_CMP_NEQ, zero, len);
    }
    put_reg(c, l);
    return rc;
  }
  sreg = get_reg(c, l);
  if ((rc = gen(c, l, sreg)) < 0) return rc;
  unsigned n = wire(r, b);
  rc = cmp(c, sreg, cmp_op(rel->op), b, n);
  put_reg(c, l);
  return rc;
}

/* ---- statements ---- */

static struct nftnl_expr *stateful(const struct nr_stmt *s) {
  struct nftnl_expr *x = NULL;
  switch (s->kind) {
  case S_COUNTER:
    if ((x = nftnl_expr_alloc("counter")) == NULL) return NULL;
    if (s->u.ctr.packets) nftnl_expr_set_u64(x, NFTNL_EXPR_CTR_PACKETS, s->u.ctr.packets);
    if (s->u.ctr.bytes) nftnl_expr_set_u64(x, NFTNL_EXPR_CTR_BYTES, s->u.ctr.bytes);
    return x;
  case S_LIMIT:
    if ((x = nftnl_expr_alloc("limit")) == NULL) return NULL;
    nftnl_expr_set_u64(x, NFTNL_EXPR_LIMIT_RATE, s->u.lim.rate);
    nftnl_expr_set_u64(x, NFTNL_EXPR_LIMIT_UNIT, s->u.lim.unit);
    nftnl_expr_set_u32(x, NFTNL_EXPR_LIMIT_TYPE, s->u.lim.type);
    if (s->u.lim.burst) nftnl_expr_set_u32(x, NFTNL_EXPR_LIMIT_BURST, s->u.lim.burst);
    nftnl_expr_set_u32(x, NFTNL_EXPR_LIMIT_FLAGS, s->u.lim.flags);
    return x;
  case S_QUOTA:
    if ((x = nftnl_expr_alloc("quota")) == NULL) return NULL;
    nftnl_expr_set_u64(x, NFTNL_EXPR_QUOTA_BYTES, s->u.quota.bytes);
    nftnl_expr_set_u64(x, NFTNL_EXPR_QUOTA_CONSUMED, s->u.quota.used);
    nftnl_expr_set_u32(x, NFTNL_EXPR_QUOTA_FLAGS, s->u.quota.flags);
    return x;
  case S_CONNLIMIT:
    if ((x = nftnl_expr_alloc("connlimit")) == NULL) return NULL;
    nftnl_expr_set_u32(x, NFTNL_EXPR_CONNLIMIT_COUNT, s->u.cl.count);
    nftnl_expr_set_u32(x, NFTNL_EXPR_CONNLIMIT_FLAGS, s->u.cl.flags);
    return x;
  default:
    return NULL;
  }
}

static int gen_set_stmt(struct nr_cc *c, const struct nr_stmt *s, uint32_t key, int dir) {
  int sreg = get_reg(c, s->e), rc;
  if ((rc = gen(c, s->e, sreg)) < 0) return rc;
  put_reg(c, s->e);
  struct nftnl_expr *x = nftnl_expr_alloc(s->kind == S_META_SET ? "meta" : "ct");
  if (x == NULL) return -ENOMEM;
  if (s->kind == S_META_SET) {
    nftnl_expr_set_u32(x, NFTNL_EXPR_META_SREG, kreg(sreg));
    nftnl_expr_set_u32(x, NFTNL_EXPR_META_KEY, key);
  } else {
    nftnl_expr_set_u32(x, NFTNL_EXPR_CT_SREG, kreg(sreg));
    nftnl_expr_set_u32(x, NFTNL_EXPR_CT_KEY, key);
    if (dir >= 0) nftnl_expr_set_u8(x, NFTNL_EXPR_CT_DIR, (uint8_t)dir);
  }
  return add(c, x);
}

static int gen_nat(struct nr_cc *c, const struct nr_stmt *s) {
  uint32_t type = s->u.nat.type;
  const char *name = type == NAT_MASQ ? "masq" : type == NAT_REDIR ? "redir" : "nat";
  struct nftnl_expr *x = nftnl_expr_alloc(name);
  int regs = 0, rc;
  uint16_t a_flags = type == NAT_MASQ ? NFTNL_EXPR_MASQ_FLAGS
                     : type == NAT_REDIR ? NFTNL_EXPR_REDIR_FLAGS : NFTNL_EXPR_NAT_FLAGS;
  uint16_t a_pmin = type == NAT_MASQ ? NFTNL_EXPR_MASQ_REG_PROTO_MIN
                    : type == NAT_REDIR ? NFTNL_EXPR_REDIR_REG_PROTO_MIN : NFTNL_EXPR_NAT_REG_PROTO_MIN;
  uint16_t a_pmax = type == NAT_MASQ ? NFTNL_EXPR_MASQ_REG_PROTO_MAX
                    : type == NAT_REDIR ? NFTNL_EXPR_REDIR_REG_PROTO_MAX : NFTNL_EXPR_NAT_REG_PROTO_MAX;
  if (x == NULL) return -ENOMEM;
  if (type == NFT_NAT_SNAT || type == NFT_NAT_DNAT) {
    nftnl_expr_set_u32(x, NFTNL_EXPR_NAT_TYPE, type);
    nftnl_expr_set_u32(x, NFTNL_EXPR_NAT_FAMILY, s->u.nat.family);
  }
  if (s->u.nat.flags) nftnl_expr_set_u32(x, a_flags, s->u.nat.flags);
  if (s->key) {
    int amin = get_reg(c, NULL);
    regs++;
    if (s->key->kind == X_RANGE) {
      int amax = get_reg(c, NULL);
      regs++;
      if ((rc = gen(c, s->key->l, amin)) < 0 || (rc = gen(c, s->key->r, amax)) < 0) goto fail;
      nftnl_expr_set_u32(x, NFTNL_EXPR_NAT_REG_ADDR_MIN, kreg(amin));
      nftnl_expr_set_u32(x, NFTNL_EXPR_NAT_REG_ADDR_MAX, kreg(amax));
    } else {
      if ((rc = gen(c, s->key, amin)) < 0) goto fail;
      nftnl_expr_set_u32(x, NFTNL_EXPR_NAT_REG_ADDR_MIN, kreg(amin));
    }
  }
  if (s->e2) {
    int pmin = get_reg(c, NULL);
    regs++;
    if (s->e2->kind == X_RANGE) {
      int pmax = get_reg(c, NULL);
      regs++;
      if ((rc = gen(c, s->e2->l, pmin)) < 0 || (rc = gen(c, s->e2->r, pmax)) < 0) goto fail;
      nftnl_expr_set_u32(x, a_pmin, kreg(pmin));
      nftnl_expr_set_u32(x, a_pmax, kreg(pmax));
    } else {
      if ((rc = gen(c, s->e2, pmin)) < 0) goto fail;
      nftnl_expr_set_u32(x, a_pmin, kreg(pmin));
    }
  }
  while (regs-- > 0) put_reg(c, NULL);
  return add(c, x);
fail:
  nftnl_expr_free(x);
  return rc;
}

/* dup, fwd, tproxy, queue, flow: values into registers, nft's order, then the statement */
static int gen_fwd(struct nr_cc *c, const struct nr_stmt *s) {
  const char *name = s->kind == S_DUP ? "dup" : s->kind == S_FWD ? "fwd"
                     : s->kind == S_TPROXY ? "tproxy" : s->kind == S_QUEUE ? "queue" : "flow_offload";
  struct nftnl_expr *x = nftnl_expr_alloc(name);
  int rc = 0, r1 = 0, r2 = 0;
  if (x == NULL) return -ENOMEM;
  switch (s->kind) {
  case S_DUP:  /* the address, or (netdev) the device, then the device */
    r1 = get_reg(c, s->key);
    if ((rc = gen(c, s->key, r1)) < 0) break;
    nftnl_expr_set_u32(x, s->key->type == T_IFINDEX ? NFTNL_EXPR_DUP_SREG_DEV
                                                    : NFTNL_EXPR_DUP_SREG_ADDR, kreg(r1));
    if (s->e2) {
      r2 = get_reg(c, s->e2);
      if ((rc = gen(c, s->e2, r2)) < 0) break;
      nftnl_expr_set_u32(x, NFTNL_EXPR_DUP_SREG_DEV, kreg(r2));
      put_reg(c, s->e2);
    }
    put_reg(c, s->key);
    break;
  case S_FWD:  /* the device, then the address */
    r1 = get_reg(c, s->e2);
    if ((rc = gen(c, s->e2, r1)) < 0) break;
    nftnl_expr_set_u32(x, NFTNL_EXPR_FWD_SREG_DEV, kreg(r1));
    if (s->key) {
      r2 = get_reg(c, s->key);
      if ((rc = gen(c, s->key, r2)) < 0) break;
      nftnl_expr_set_u32(x, NFTNL_EXPR_FWD_SREG_ADDR, kreg(r2));
      put_reg(c, s->key);
    }
    put_reg(c, s->e2);
    if (s->u.fwd.family) nftnl_expr_set_u32(x, NFTNL_EXPR_FWD_NFPROTO, s->u.fwd.family);
    break;
  case S_TPROXY: {
    int regs = 0;
    nftnl_expr_set_u32(x, NFTNL_EXPR_TPROXY_FAMILY, s->u.tp.family);
    if (s->key) {
      r1 = get_reg(c, NULL);
      regs++;
      if ((rc = gen(c, s->key, r1)) < 0) break;
      nftnl_expr_set_u32(x, NFTNL_EXPR_TPROXY_REG_ADDR, kreg(r1));
    }
    if (s->e2) {
      r2 = get_reg(c, NULL);
      regs++;
      if ((rc = gen(c, s->e2, r2)) < 0) break;
      nftnl_expr_set_u32(x, NFTNL_EXPR_TPROXY_REG_PORT, kreg(r2));
    }
    while (regs-- > 0) put_reg(c, NULL);
    break;
  }
  case S_QUEUE:
    if (s->e && s->e->kind != X_VALUE && s->e->kind != X_RANGE) {
      r1 = get_reg(c, s->e);
      if ((rc = gen(c, s->e, r1)) < 0) break;
      put_reg(c, s->e);
      nftnl_expr_set_u32(x, NFTNL_EXPR_QUEUE_SREG_QNUM, kreg(r1));
    } else {
      nftnl_expr_set_u16(x, NFTNL_EXPR_QUEUE_NUM, s->u.q.num);
      nftnl_expr_set_u16(x, NFTNL_EXPR_QUEUE_TOTAL, s->e ? s->u.q.total : 1);
    }
    if (s->u.q.flags) nftnl_expr_set_u16(x, NFTNL_EXPR_QUEUE_FLAGS, s->u.q.flags);
    break;
  default:
    nftnl_expr_set_str(x, NFTNL_EXPR_FLOW_TABLE_NAME, s->u.flow.name);
    break;
  }
  if (rc < 0) {
    nftnl_expr_free(x);
    return rc;
  }
  return add(c, x);
}

static int gen_stmt(struct nr_cc *c, const struct nr_stmt *s) {
  struct nftnl_expr *x;
  int rc;
  switch (s->kind) {
  case S_MATCH:
    return gen_match(c, s->e);
  case S_VERDICT:
    return gen_imm(c, s->e, REG_VERDICT);
  case S_VMAP:
    return gen_map(c, s->e, REG_VERDICT);
  case S_COUNTER:
  case S_LIMIT:
  case S_QUOTA:
  case S_CONNLIMIT:
    return add(c, stateful(s));
  case S_META_SET:
    return gen_set_stmt(c, s, s->key->u.key.k->key, -1);
  case S_CT_SET:
    return gen_set_stmt(c, s, s->key->u.key.k->key, s->key->u.key.dir);
  case S_PAYLOAD_SET: {
    int sreg = get_reg(c, s->e);
    if ((rc = gen(c, s->e, sreg)) < 0) return rc;
    put_reg(c, s->e);
    uint32_t ctype, coff, cflags;
    nr_payload_csum(s->key, &ctype, &coff, &cflags);
    if ((x = nftnl_expr_alloc("payload")) == NULL) return -ENOMEM;
    nftnl_expr_set_u32(x, NFTNL_EXPR_PAYLOAD_SREG, kreg(sreg));
    nftnl_expr_set_u32(x, NFTNL_EXPR_PAYLOAD_BASE, (uint32_t)s->key->u.pl.base - 1);
    nftnl_expr_set_u32(x, NFTNL_EXPR_PAYLOAD_OFFSET, s->key->u.pl.off / 8u);
    nftnl_expr_set_u32(x, NFTNL_EXPR_PAYLOAD_LEN, (s->key->bits + 7) / 8u);
    if (coff) {
      nftnl_expr_set_u32(x, NFTNL_EXPR_PAYLOAD_CSUM_TYPE, ctype);
      nftnl_expr_set_u32(x, NFTNL_EXPR_PAYLOAD_CSUM_OFFSET, coff);
    }
    if (cflags) nftnl_expr_set_u32(x, NFTNL_EXPR_PAYLOAD_FLAGS, cflags);
    return add(c, x);
  }
  case S_EXTHDR_SET: {
    int sreg = get_reg(c, s->e);
    if ((rc = gen(c, s->e, sreg)) < 0) return rc;
    put_reg(c, s->e);
    if ((x = gen_exthdr(s->key)) == NULL) return -ENOMEM;
    nftnl_expr_set_u32(x, NFTNL_EXPR_EXTHDR_SREG, kreg(sreg));
    return add(c, x);
  }
  case S_DUP:
  case S_FWD:
  case S_TPROXY:
  case S_QUEUE:
  case S_FLOW:
    return gen_fwd(c, s);
  case S_OPTSTRIP:  /* reset: just which option */
    if ((x = nftnl_expr_alloc("exthdr")) == NULL) return -ENOMEM;
    nftnl_expr_set_u8(x, NFTNL_EXPR_EXTHDR_TYPE, s->key->u.ex.type);
    nftnl_expr_set_u32(x, NFTNL_EXPR_EXTHDR_OP, s->key->u.ex.op);
    return add(c, x);
  case S_LOG:
    if ((x = nftnl_expr_alloc("log")) == NULL) return -ENOMEM;
    if ((s->u.log.set & LF_PREFIX) &&
        nftnl_expr_set_str(x, NFTNL_EXPR_LOG_PREFIX, s->u.log.prefix) < 0)
      c->oom = 1;
    if (s->u.log.set & LF_GROUP) {
      nftnl_expr_set_u16(x, NFTNL_EXPR_LOG_GROUP, s->u.log.group);
      if (s->u.log.set & LF_SNAPLEN) nftnl_expr_set_u32(x, NFTNL_EXPR_LOG_SNAPLEN, s->u.log.snaplen);
      if (s->u.log.set & LF_QTHRESH)
        nftnl_expr_set_u16(x, NFTNL_EXPR_LOG_QTHRESHOLD, s->u.log.qthresh);
    } else {
      if (s->u.log.set & LF_LEVEL) nftnl_expr_set_u32(x, NFTNL_EXPR_LOG_LEVEL, s->u.log.level);
      if (s->u.log.flags) nftnl_expr_set_u32(x, NFTNL_EXPR_LOG_FLAGS, s->u.log.flags);
    }
    return add(c, x);
  case S_REJECT:
    if ((x = nftnl_expr_alloc("reject")) == NULL) return -ENOMEM;
    nftnl_expr_set_u32(x, NFTNL_EXPR_REJECT_TYPE, s->u.rej.type);
    if (s->u.rej.code >= 0) nftnl_expr_set_u8(x, NFTNL_EXPR_REJECT_CODE, (uint8_t)s->u.rej.code);
    return add(c, x);
  case S_NAT:
    return gen_nat(c, s);
  case S_NOTRACK:
    return add(c, nftnl_expr_alloc("notrack"));
  case S_SYNPROXY:
    if ((x = nftnl_expr_alloc("synproxy")) == NULL) return -ENOMEM;
    nftnl_expr_set_u16(x, NFTNL_EXPR_SYNPROXY_MSS, s->u.syn.mss);
    nftnl_expr_set_u8(x, NFTNL_EXPR_SYNPROXY_WSCALE, s->u.syn.wscale);
    nftnl_expr_set_u32(x, NFTNL_EXPR_SYNPROXY_FLAGS, s->u.syn.flags);
    return add(c, x);
  case S_OBJREF: {
    if (s->u.obj.map) return gen_objref_map(c, s->u.obj.map);
    if ((x = nftnl_expr_alloc("objref")) == NULL) return -ENOMEM;
    char name[256];
    memset(name, 0, sizeof name);
    snprintf(name, sizeof name, "%s", s->u.obj.name);
    if (nftnl_expr_set(x, NFTNL_EXPR_OBJREF_IMM_NAME, name, strlen(name) + 1) < 0) c->oom = 1;
    nftnl_expr_set_u32(x, NFTNL_EXPR_OBJREF_IMM_TYPE, s->u.obj.type);
    return add(c, x);
  }
  case S_DYNSET: {
    int sreg = get_reg(c, s->key), dreg = 0;
    if ((rc = gen(c, s->key, sreg)) < 0) return rc;
    if (s->e) {
      dreg = get_reg(c, s->e);
      if ((rc = gen(c, s->e, dreg)) < 0) return rc;
      put_reg(c, s->e);
    }
    put_reg(c, s->key);
    if ((x = nftnl_expr_alloc("dynset")) == NULL) return -ENOMEM;
    nftnl_expr_set_u32(x, NFTNL_EXPR_DYNSET_SREG_KEY, kreg(sreg));
    if (s->e) nftnl_expr_set_u32(x, NFTNL_EXPR_DYNSET_SREG_DATA, kreg(dreg));
    if (s->u.dyn.timeout) nftnl_expr_set_u64(x, NFTNL_EXPR_DYNSET_TIMEOUT, s->u.dyn.timeout);
    nftnl_expr_set_u32(x, NFTNL_EXPR_DYNSET_OP, s->u.dyn.op);
    if (nftnl_expr_set_str(x, NFTNL_EXPR_DYNSET_SET_NAME, s->u.dyn.set->name) < 0) c->oom = 1;
    if (s->u.dyn.set->id) nftnl_expr_set_u32(x, NFTNL_EXPR_DYNSET_SET_ID, s->u.dyn.set->id);
    int n = 0;
    for (const struct nr_stmt *t = s->sub; t; t = t->next) n++;
    for (const struct nr_stmt *t = s->sub; t; t = t->next) {
      struct nftnl_expr *st = stateful(t);
      if (st == NULL) { nftnl_expr_free(x); return -ENOMEM; }
      if (n == 1) nftnl_expr_set(x, NFTNL_EXPR_DYNSET_EXPR, st, 0);
      else nftnl_expr_add_expr(x, NFTNL_EXPR_DYNSET_EXPRESSIONS, st);
    }
    if (n > 1 && s->e == NULL) nftnl_expr_set_u32(x, NFTNL_EXPR_DYNSET_FLAGS, NFT_DYNSET_F_EXPR);
    return add(c, x);
  }
  default:
    return nr_unsupported(c, s->tok, "this statement");
  }
}

/* ---- anonymous sets ---- */

struct kv { uint8_t k[NR_VMAX], hi[NR_VMAX]; const struct nr_expr *data; int range; };

/* A key (value, range, prefix, or concatenation of them) as bytes: lo and hi ends, each part
 * of a concatenation padded to 32 bits, as registers hold it. */
static unsigned key_bytes(const struct nr_expr *k, uint8_t *lo, uint8_t *hi, int *range) {
  if (k->kind == X_CONCAT) {
    unsigned n = 0;
    for (int i = 0; i < k->n; i++) {
      uint8_t a[NR_VMAX], b[NR_VMAX];
      int r = 0;
      unsigned m = key_bytes(k->v[i], a, b, &r);
      unsigned pad = (m + 3) / 4 * 4;
      memset(lo + n, 0, pad);
      memset(hi + n, 0, pad);
      memcpy(lo + n, a, m);
      memcpy(hi + n, b, m);
      n += pad;
      *range |= r;
    }
    return n;
  }
  if (k->kind == X_RANGE) {
    *range = 1;
    wire(k->r, hi);
    return wire(k->l, lo);
  }
  if (k->kind == X_PREFIX) {
    *range = 1;
    struct nr_expr v = *k->l;
    uint8_t top[NR_VMAX];
    memcpy(top, k->l->val, NR_VMAX);
    unsigned bytes = (v.bits + 7) / 8;
    for (unsigned b = (unsigned)k->u.pre.plen; b < bytes * 8; b++) top[b / 8] |= (uint8_t)(0x80u >> (b % 8));
    v.val = top;
    wire(&v, hi);
    return wire(k->l, lo);
  }
  unsigned n = wire(k, lo);
  memcpy(hi, lo, n);
  return n;
}

static int kv_cmp(const void *a, const void *b) { return memcmp(((const struct kv *)a)->k,
                                                                ((const struct kv *)b)->k, NR_VMAX); }

static int be_inc(uint8_t *v, unsigned len) {  /* returns 1 on overflow */
  for (unsigned i = len; i-- > 0;)
    if (++v[i] != 0) return 0;
  return 1;
}

static int elem_open(struct nftnl_set_elem *e) {
  struct nftnl_udata_buf *u = nftnl_udata_buf_alloc(16);
  if (u == NULL) return -ENOMEM;
  if (!nftnl_udata_put_u32(u, NFTNL_UDATA_SET_ELEM_FLAGS, NFTNL_SET_ELEM_F_INTERVAL_OPEN)) {
    nftnl_udata_buf_free(u);
    return -ENOMEM;
  }
  int rc = nftnl_set_elem_set(e, NFTNL_SET_ELEM_USERDATA, nftnl_udata_buf_data(u),
                              nftnl_udata_buf_len(u));
  nftnl_udata_buf_free(u);
  return rc < 0 ? -ENOMEM : 0;
}

static struct nftnl_set_elem *elem_new(struct nftnl_set *s, const uint8_t *key, unsigned len) {
  struct nftnl_set_elem *e = nftnl_set_elem_alloc();
  if (e == NULL) return NULL;
  nftnl_set_elem_set(e, NFTNL_SET_ELEM_KEY, key, len);
  nftnl_set_elem_add(s, e);
  return e;
}

static int elem_data(struct nftnl_set_elem *e, const struct nr_expr *d) {
  if (d == NULL) return 0;
  if (d->kind == X_SYMBOL)  /* an object map's object, by name */
    return nftnl_set_elem_set_str(e, NFTNL_SET_ELEM_OBJREF, d->str) < 0 ? -ENOMEM : 0;
  if (d->kind == X_VERDICT) {
    nftnl_set_elem_set_u32(e, NFTNL_SET_ELEM_VERDICT, (uint32_t)d->u.vd.verdict);
    if (d->str && nftnl_set_elem_set_str(e, NFTNL_SET_ELEM_CHAIN, d->str) < 0) return -ENOMEM;
    return 0;
  }
  uint8_t lo[NR_VMAX], hi[NR_VMAX];
  int range = 0;
  unsigned n = key_bytes(d, lo, hi, &range);
  nftnl_set_elem_set(e, NFTNL_SET_ELEM_DATA, lo, n);
  return 0;
}

static int build_set(struct nr_cc *c, const struct nr_set *set) {
  const struct nr_expr *sx = set->init, none = {.kind = X_SET};
  if (sx == NULL) sx = &none;  /* a meter's set starts empty */
  unsigned klen = set->key_bits / 8;
  struct kv *kv = calloc((size_t)sx->n + 1, sizeof *kv);
  struct nftnl_set *s = nftnl_set_alloc();
  if (kv == NULL || s == NULL) {  /* libnftnl's free functions do not take NULL */
    free(kv);
    if (s != NULL) nftnl_set_free(s);
    return -ENOMEM;
  }
  int n = 0;
  for (int i = 0; i < sx->n; i++) {
    const struct nr_expr *e = sx->v[i], *k = e, *d = NULL;
    if (e->kind == X_MAPPING) { k = e->l; d = e->r; }
    if (k->kind == X_ELEM) k = k->l;
    key_bytes(k, kv[n].k, kv[n].hi, &kv[n].range);
    kv[n].data = d;
    n++;
  }
  int interval = (set->flags & NFT_SET_INTERVAL) && !(set->flags & NFT_SET_CONCAT);
  uint32_t count = 0;
  static const uint8_t zero[NR_VMAX];
  if (set->flags & NFT_SET_CONCAT) {
    for (int i = 0; i < n; i++) {
      struct nftnl_set_elem *e = elem_new(s, kv[i].k, klen);
      if (e == NULL) goto oom;
      nftnl_set_elem_set(e, NFTNL_SET_ELEM_KEY_END, kv[i].hi, klen);
      count++;
    }
  } else if (!interval) {
    qsort(kv, (size_t)n, sizeof *kv, kv_cmp);
    for (int i = 0; i < n; i++) {
      if (i > 0 && memcmp(kv[i].k, kv[i - 1].k, klen) == 0) continue;  /* duplicates */
      struct nftnl_set_elem *e = elem_new(s, kv[i].k, klen);
      if (e == NULL) goto oom;
      if (elem_data(e, kv[i].data) < 0) goto oom;
    }
    count = (uint32_t)sx->n;
  } else {
    qsort(kv, (size_t)n, sizeof *kv, kv_cmp);
    /* merge overlapping and adjacent intervals (sets only: a map's data may differ) */
    int m = 0;
    for (int i = 0; i < n; i++) {
      if (m > 0 && !set->is_map) {
        uint8_t next[NR_VMAX];
        memcpy(next, kv[m - 1].hi, klen);
        int wrapped = be_inc(next, klen);
        if (wrapped || memcmp(kv[i].k, next, klen) <= 0) {
          if (memcmp(kv[i].hi, kv[m - 1].hi, klen) > 0) memcpy(kv[m - 1].hi, kv[i].hi, klen);
          continue;
        }
      }
      kv[m++] = kv[i];
    }
    n = m;
    if (n > 0 && memcmp(kv[0].k, zero, klen) != 0) {
      struct nftnl_set_elem *e = elem_new(s, zero, klen);
      if (e == NULL) goto oom;
      nftnl_set_elem_set_u32(e, NFTNL_SET_ELEM_FLAGS, NFT_SET_ELEM_INTERVAL_END);
      count++;
    }
    /* nft's size: a start and an end per interval (whether or not it sends the end) */
    count += 2 * (uint32_t)n;
    for (int i = 0; i < n; i++) {
      struct nftnl_set_elem *e = elem_new(s, kv[i].k, klen);
      if (e == NULL || elem_data(e, kv[i].data) < 0) goto oom;
      uint8_t next[NR_VMAX];
      memcpy(next, kv[i].hi, klen);
      if (be_inc(next, klen)) {  /* open to the top: nft says so in the element's user data */
        if (elem_open(e) < 0) goto oom;
        continue;
      }
      if (i + 1 < n && memcmp(next, kv[i + 1].k, klen) == 0) continue;
      if ((e = elem_new(s, next, klen)) == NULL) goto oom;
      nftnl_set_elem_set_u32(e, NFTNL_SET_ELEM_FLAGS, NFT_SET_ELEM_INTERVAL_END);
    }
  }
  free(kv);
  if ((c->env && c->env->table && nftnl_set_set_str(s, NFTNL_SET_TABLE, c->env->table) < 0) ||
      nftnl_set_set_str(s, NFTNL_SET_NAME, set_name(set)) < 0) {
    nftnl_set_free(s);
    return -ENOMEM;
  }
  nftnl_set_set_u32(s, NFTNL_SET_FAMILY, (uint32_t)c->family);
  nftnl_set_set_u32(s, NFTNL_SET_FLAGS, set->flags);
  nftnl_set_set_u32(s, NFTNL_SET_KEY_TYPE, set->key_type);
  nftnl_set_set_u32(s, NFTNL_SET_KEY_LEN, klen);
  nftnl_set_set_u32(s, NFTNL_SET_ID, set->id);
  if (set->is_objmap) {
    nftnl_set_set_u32(s, NFTNL_SET_OBJ_TYPE, set->obj_type);
  } else if (set->is_map) {
    nftnl_set_set_u32(s, NFTNL_SET_DATA_TYPE, set->is_vmap ? NFT_DATA_VERDICT : set->data_type);
    nftnl_set_set_u32(s, NFTNL_SET_DATA_LEN, set->is_vmap ? 0 : set->data_bits / 8);
  }
  if (set->flags & NFT_SET_CONCAT) {
    uint8_t f[16];  /* libnftnl takes the field lengths as bytes */
    for (int i = 0; i < set->nconcat; i++) f[i] = (uint8_t)((set->concat_bits[i] + 7) / 8);
    nftnl_set_set_data(s, NFTNL_SET_DESC_CONCAT, f, set->nconcat);
  }
  if (!set->is_meter) nftnl_set_set_u32(s, NFTNL_SET_DESC_SIZE, count);
  else if (set->size) nftnl_set_set_u32(s, NFTNL_SET_DESC_SIZE, set->size);
  struct nftnl_udata_buf *u = nftnl_udata_buf_alloc(64);
  if (u == NULL) { nftnl_set_free(s); return -ENOMEM; }
  nftnl_udata_put_u32(u, NFTNL_UDATA_SET_KEYBYTEORDER, set->key_order == BO_HOST ? 1 : 2);
  if (set->is_map) nftnl_udata_put_u32(u, NFTNL_UDATA_SET_DATABYTEORDER,
                                       set->data_order == BO_HOST ? 1 : 2);
  if ((set->flags & NFT_SET_INTERVAL) && !set->is_map)
    nftnl_udata_put_u32(u, NFTNL_UDATA_SET_MERGE_ELEMENTS, 1);
  int urc = nftnl_set_set_data(s, NFTNL_SET_USERDATA, nftnl_udata_buf_data(u),
                               nftnl_udata_buf_len(u));
  nftnl_udata_buf_free(u);
  if (urc < 0) { nftnl_set_free(s); return -ENOMEM; }
  struct nftnl_set **ns = realloc(c->out->sets, (c->out->nsets + 1) * sizeof *ns);
  if (ns == NULL) { nftnl_set_free(s); return -ENOMEM; }
  c->out->sets = ns;
  c->out->sets[c->out->nsets++] = s;
  return 0;
oom:
  free(kv);
  nftnl_set_free(s);
  return -ENOMEM;
}

static int sets_of(struct nr_cc *c, const struct nr_expr *e) {
  if (e == NULL) return 0;
  int rc;
  if ((e->kind == X_SET) && e->u.ref.set && e->u.ref.set->name == NULL) {
    if (c->out == NULL) return nr_fail(c, e->tok, -EINVAL, "anonymous set needs an output");
    return build_set(c, e->u.ref.set);
  }
  if (e->kind == X_CONCAT) {
    for (int i = 0; i < e->n; i++)
      if ((rc = sets_of(c, e->v[i])) < 0) return rc;
    return 0;
  }
  if (e->kind == X_HASH) return sets_of(c, e->u.gen.e);
  if (e->kind == X_SET) return 0;
  if ((rc = sets_of(c, e->l)) < 0) return rc;
  return sets_of(c, e->r);
}

int nr_emit_rule(struct nr_cc *c) {
  int rc;
  c->reg_low = NFT_REG_1;
  for (const struct nr_stmt *s = c->first; s; s = s->next) {
    if ((rc = sets_of(c, s->e)) < 0 || (rc = sets_of(c, s->key)) < 0 ||
        (rc = sets_of(c, s->e2)) < 0)
      return rc;
    if (s->kind == S_DYNSET && s->u.dyn.set && s->u.dyn.set->is_meter) {
      if (c->out == NULL) return nr_fail(c, s->tok, -EINVAL, "a meter's set needs an output");
      if ((rc = build_set(c, s->u.dyn.set)) < 0) return rc;
    }
    c->emit_tok = s->tok;
    if ((rc = gen_stmt(c, s)) < 0) return rc;
    if (c->oom) return -ENOMEM;
  }
  if (c->comment) {
    struct nftnl_udata_buf *u = nftnl_udata_buf_alloc(256);
    if (u == NULL) return -ENOMEM;
    if (!nftnl_udata_put_strz(u, NFTNL_UDATA_RULE_COMMENT, c->comment)) {
      nftnl_udata_buf_free(u);
      return -ENOMEM;
    }
    int urc = nftnl_rule_set_data(c->r, NFTNL_RULE_USERDATA, nftnl_udata_buf_data(u),
                                  nftnl_udata_buf_len(u));
    nftnl_udata_buf_free(u);
    if (urc < 0) return -ENOMEM;
  }
  return 0;
}
