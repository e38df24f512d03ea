/* Expression builders for the rule compiler, and anonymous sets. All loads go to register 1,
 * as nft does for these rules. */
#define _GNU_SOURCE
#include "nft/nftrule_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/netfilter/nf_tables.h>
#include <libnftnl/expr.h>
#include <libnftnl/rule.h>
#include <libnftnl/set.h>
#include <libnftnl/udata.h>

int em_add(struct cc *c, struct nftnl_expr *e) {
  if (e == NULL) return -ENOMEM;
  if (c->nexpr >= CC_MAXEXPRS) {
    nftnl_expr_free(e);
    return cc_fail(c, c->stmt, -EINVAL,
                   "rule too long: more than %d expressions (the kernel's limit for one rule)",
                   CC_MAXEXPRS);
  }
  c->nexpr++;
  nftnl_rule_add_expr(c->r, e);
  return 0;
}

static struct nftnl_expr *ex(const char *name) { return nftnl_expr_alloc(name); }

int em_meta_load(struct cc *c, uint32_t key) {
  struct nftnl_expr *e = ex("meta");
  if (e == NULL) return -ENOMEM;
  nftnl_expr_set_u32(e, NFTNL_EXPR_META_KEY, key);
  nftnl_expr_set_u32(e, NFTNL_EXPR_META_DREG, NFT_REG_1);
  return em_add(c, e);
}

int em_payload(struct cc *c, uint32_t base, uint32_t off, uint32_t len) {
  struct nftnl_expr *e = ex("payload");
  if (e == NULL) return -ENOMEM;
  nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_DREG, NFT_REG_1);
  nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_BASE, base);
  nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_OFFSET, off);
  nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_LEN, len);
  return em_add(c, e);
}

int em_ct(struct cc *c, uint32_t key) {
  struct nftnl_expr *e = ex("ct");
  if (e == NULL) return -ENOMEM;
  nftnl_expr_set_u32(e, NFTNL_EXPR_CT_KEY, key);
  nftnl_expr_set_u32(e, NFTNL_EXPR_CT_DREG, NFT_REG_1);
  return em_add(c, e);
}

int em_cmp(struct cc *c, uint32_t op, const void *data, uint32_t len) {
  struct nftnl_expr *e = ex("cmp");
  if (e == NULL) return -ENOMEM;
  nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_SREG, NFT_REG_1);
  nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_OP, op);
  nftnl_expr_set(e, NFTNL_EXPR_CMP_DATA, data, len);
  return em_add(c, e);
}

int em_bitwise(struct cc *c, const void *mask, uint32_t len) {
  static const uint8_t zero[16];
  struct nftnl_expr *e = ex("bitwise");
  if (e == NULL) return -ENOMEM;
  nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_SREG, NFT_REG_1);
  nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_DREG, NFT_REG_1);
  nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_LEN, len);
  nftnl_expr_set(e, NFTNL_EXPR_BITWISE_MASK, mask, len);
  nftnl_expr_set(e, NFTNL_EXPR_BITWISE_XOR, zero, len);
  return em_add(c, e);
}

int em_range(struct cc *c, uint32_t op, const void *lo, const void *hi, uint32_t len) {
  struct nftnl_expr *e = ex("range");
  if (e == NULL) return -ENOMEM;
  nftnl_expr_set_u32(e, NFTNL_EXPR_RANGE_SREG, NFT_REG_1);
  nftnl_expr_set_u32(e, NFTNL_EXPR_RANGE_OP, op);
  nftnl_expr_set(e, NFTNL_EXPR_RANGE_FROM_DATA, lo, len);
  nftnl_expr_set(e, NFTNL_EXPR_RANGE_TO_DATA, hi, len);
  return em_add(c, e);
}

int em_lookup(struct cc *c, const char *set, uint32_t id, int neg) {
  struct nftnl_expr *e = ex("lookup");
  if (e == NULL) return -ENOMEM;
  nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_SREG, NFT_REG_1);
  nftnl_expr_set_str(e, NFTNL_EXPR_LOOKUP_SET, set);
  if (id != 0) nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_SET_ID, id);
  if (neg) nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_FLAGS, NFT_LOOKUP_F_INV);
  return em_add(c, e);
}

int em_imm(struct cc *c, uint32_t reg, const void *data, uint32_t len) {
  struct nftnl_expr *e = ex("immediate");
  if (e == NULL) return -ENOMEM;
  nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_DREG, reg);
  nftnl_expr_set(e, NFTNL_EXPR_IMM_DATA, data, len);
  return em_add(c, e);
}

int em_verdict(struct cc *c, int verdict, const char *chain) {
  struct nftnl_expr *e = ex("immediate");
  if (e == NULL) return -ENOMEM;
  nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_DREG, NFT_REG_VERDICT);
  nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_VERDICT, (uint32_t)verdict);
  if (chain != NULL) nftnl_expr_set_str(e, NFTNL_EXPR_IMM_CHAIN, chain);
  return em_add(c, e);
}

/* ---- anonymous sets ---- */

static int elem_cmp(const void *a, const void *b) {
  return memcmp(((const struct elem *)a)->lo, ((const struct elem *)b)->lo, 16);
}

/* v += 1 on a big-endian byte string; returns 1 on overflow (v was all ones). */
static int be_inc(uint8_t *v, unsigned len) {
  for (unsigned i = len; i-- > 0;)
    if (++v[i] != 0) return 0;
  return 1;
}

static int add_elem(struct nftnl_set *s, const uint8_t *key, unsigned len, int end) {
  struct nftnl_set_elem *e = nftnl_set_elem_alloc();
  if (e == NULL) return -ENOMEM;
  nftnl_set_elem_set(e, NFTNL_SET_ELEM_KEY, key, len);
  if (end) nftnl_set_elem_set_u32(e, NFTNL_SET_ELEM_FLAGS, NFT_SET_ELEM_INTERVAL_END);
  nftnl_set_elem_add(s, e);
  return 0;
}

static int fill_elems(struct nftnl_set *s, const struct field *f, const struct elem *el,
                      unsigned n, int interval, unsigned *count) {
  unsigned len = f->len;
  static const uint8_t zero[16];
  *count = 0;
  if (!interval) {
    for (unsigned i = 0; i < n; i++, ++*count)
      if (add_elem(s, el[i].lo, len, 0) < 0) return -ENOMEM;
    return 0;
  }
  /* An interval set holds the start of each interval and, flagged INTERVAL_END, the first
   * value after it; nft also marks the space below the first interval with an end at 0. */
  if (memcmp(el[0].lo, zero, len) != 0) {
    if (add_elem(s, zero, len, 1) < 0) return -ENOMEM;
    ++*count;
  }
  for (unsigned i = 0; i < n; i++) {
    if (add_elem(s, el[i].lo, len, 0) < 0) return -ENOMEM;
    ++*count;
    uint8_t next[16];
    memcpy(next, el[i].hi, len);
    if (be_inc(next, len)) continue;
    if (i + 1 < n && memcmp(next, el[i + 1].lo, len) == 0) continue;
    if (add_elem(s, next, len, 1) < 0) return -ENOMEM;
    ++*count;
  }
  return 0;
}

int em_anon_set(struct cc *c, const struct field *f, struct elem *el, unsigned n, int tok,
                uint32_t *id) {
  int interval = 0;
  unsigned len = f->len;
  for (unsigned i = 0; i < n; i++) interval |= el[i].range;
  qsort(el, n, sizeof *el, elem_cmp);
  /* As nft does: duplicates collapse; in an interval set, overlapping and adjacent intervals
   * merge ({ 1-5, 6-10 } is { 1-10 }). */
  unsigned m = 0;
  for (unsigned i = 0; i < n; i++) {
    if (m > 0) {
      struct elem *last = &el[m - 1];
      uint8_t next[16];
      memcpy(next, last->hi, len);
      int wrapped = be_inc(next, len);
      int touches = interval ? (wrapped || memcmp(el[i].lo, next, len) <= 0)
                             : memcmp(el[i].lo, last->lo, len) == 0;
      if (touches) {
        if (memcmp(el[i].hi, last->hi, len) > 0) memcpy(last->hi, el[i].hi, len);
        continue;
      }
    }
    el[m++] = el[i];
  }
  n = m;
  if (c->out == NULL) return cc_fail(c, tok, -EINVAL, "anonymous set needs an output");
  struct nftnl_set **ns = realloc(c->out->sets, (c->out->nsets + 1) * sizeof *ns);
  if (ns == NULL) return -ENOMEM;
  c->out->sets = ns;
  struct nftnl_set *s = nftnl_set_alloc();
  if (s == NULL) return -ENOMEM;
  c->out->sets[c->out->nsets++] = s;

  *id = c->env && c->env->next_set_id ? c->env->next_set_id(c->env->ud) : c->next_id++;
  if (c->env && c->env->table) nftnl_set_set_str(s, NFTNL_SET_TABLE, c->env->table);
  nftnl_set_set_str(s, NFTNL_SET_NAME, "__set%d");
  nftnl_set_set_u32(s, NFTNL_SET_FAMILY, (uint32_t)c->family);
  nftnl_set_set_u32(s, NFTNL_SET_FLAGS, NFT_SET_ANONYMOUS | NFT_SET_CONSTANT |
                                            (interval ? NFT_SET_INTERVAL : 0));
  nftnl_set_set_u32(s, NFTNL_SET_KEY_TYPE, f->dtype);
  nftnl_set_set_u32(s, NFTNL_SET_KEY_LEN, len);
  nftnl_set_set_u32(s, NFTNL_SET_ID, *id);
  if (len > 1) {  /* addresses and ports are big endian (nft's "key byteorder" user data) */
    struct nftnl_udata_buf *u = nftnl_udata_buf_alloc(64);
    if (u == NULL) return -ENOMEM;
    nftnl_udata_put_u32(u, NFTNL_UDATA_SET_KEYBYTEORDER, 2);
    nftnl_set_set_data(s, NFTNL_SET_USERDATA, nftnl_udata_buf_data(u), nftnl_udata_buf_len(u));
    nftnl_udata_buf_free(u);
  }
  unsigned count;
  if (fill_elems(s, f, el, n, interval, &count) < 0) return -ENOMEM;
  nftnl_set_set_u32(s, NFTNL_SET_DESC_SIZE, count);
  return 0;
}

void cnet_nftrule_out_free(struct cnet_nftrule_out *out) {
  if (out == NULL) return;
  for (unsigned i = 0; i < out->nsets; i++)
    if (out->sets[i]) nftnl_set_free(out->sets[i]);
  free(out->sets);
  out->sets = NULL;
  out->nsets = 0;
}
