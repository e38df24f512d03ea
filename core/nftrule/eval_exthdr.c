/* Evaluation of extension header expressions, as nft evaluates them: an IPv6 extension
 * header or an ip option needs its network protocol (nft adds "meta nfproto ipv6", "ether
 * type ip6" or "meta protocol ip6" before the rule in tables that see both), a tcp option or
 * sctp chunk needs nothing; a field that is not whole bytes becomes a masked load. */
#include "nftrule/nr_int.h"

#include <errno.h>
#include <linux/netfilter/nf_tables.h>

static int network_dep(struct nr_cc *c, struct nr_expr *e) {
  const struct nr_proto *want = e->u.ex.op == NFT_EXTHDR_OP_IPV4 ? &nr_proto_ip : &nr_proto_ip6;
  const struct nr_proto *nh = c->pctx.p[PB_NH];
  if (nh == want) return 0;
  if (nh != NULL)
    return nr_fail(c, e->tok, -EINVAL, "cannot use exthdr with %s", nh->name);
  const struct nr_proto *ll = c->pctx.p[PB_LL];
  if (ll == NULL || ll == &nr_proto_unknown)
    return nr_fail(c, e->tok, -EINVAL, "Cannot generate dependency: no link layer protocol "
                   "specified");
  /* nft puts this dependency first in the rule, before what the rule matched so far */
  struct nr_stmt *cur = c->cur, *prev = c->cur_prev;
  c->cur = c->first;
  c->cur_prev = NULL;
  int rc = nr_add_proto_dep(c, ll, want, e->tok);
  c->cur = cur;
  c->cur_prev = prev;
  if (prev == NULL && c->first != cur) {  /* the new head comes before the statement */
    struct nr_stmt *p = c->first;
    while (p && p->next != cur) p = p->next;
    c->cur_prev = p;
  }
  return rc;
}

int nr_eval_exthdr(struct nr_cc *c, struct nr_expr **ep) {
  struct nr_expr *e = *ep;
  int rc;
  if (e->u.ex.op == NFT_EXTHDR_OP_IPV4 || e->u.ex.op == NFT_EXTHDR_OP_IPV6)
    if ((rc = network_dep(c, e)) < 0) return rc;
  unsigned tlen = e->u.ex.f ? e->u.ex.f->bits : 0;
  if (e->u.ex.op == NFT_EXTHDR_OP_IPV4 && e->u.ex.off + tlen > 320)
    return nr_fail(c, e->tok, -EINVAL, "offset and size %u exceeds max ip option len (320)",
                   e->u.ex.off + tlen);
  if (e->u.ex.off % 8 || e->bits % 8) return nr_eval_bits(c, ep, e->u.ex.off);
  return 0;
}

/* "tcp option maxseg size set 1360": only whole tcp option fields can be written (nft asks
 * the kernel for any, and the kernel refuses the others) */
int nr_eval_exthdr_write(struct nr_cc *c, struct nr_stmt *s) {
  struct nr_expr *e = s->key;
  if (e->u.ex.op != NFT_EXTHDR_OP_TCPOPT)
    return nr_fail(c, s->tok, -EINVAL, "only tcp options can be set (the kernel writes no %s)",
                   e->u.ex.op == NFT_EXTHDR_OP_IPV4 ? "ip options" : "sctp chunks");
  if (e->u.ex.off % 8 || e->bits % 8)
    return nr_fail(c, s->tok, -EINVAL, "a bit field of a tcp option cannot be set");
  if (e->bits != 16 && e->bits != 32)
    return nr_fail(c, s->tok, -EINVAL, "the kernel sets only 2 or 4 byte tcp option fields");
  return 0;
}
