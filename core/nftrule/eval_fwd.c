/* Evaluation of dup, fwd, tproxy, queue and flow, as nft evaluates them: which families
 * have them, what their values are (addresses of the table's family, interfaces by index,
 * ports, queue numbers), and what they need matched first. */
#include "nftrule/nr_int.h"

#include <errno.h>
#include <string.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>

static struct nr_expr like_of(int type) {
  const struct nr_type *t = nr_type_get((unsigned)type);
  struct nr_expr like = {.kind = X_VALUE, .type = (uint8_t)type};
  like.order = t->order;
  like.bits = t->bits;
  return like;
}

static int addr_type(uint32_t family) {
  return family == NFPROTO_IPV4 ? T_IPADDR : family == NFPROTO_IPV6 ? T_IP6ADDR : 0;
}

static int eval_dup(struct nr_cc *c, struct nr_stmt *s) {
  struct nr_expr dev = like_of(T_IFINDEX), addr;
  int rc;
  switch (c->family) {
  case NFPROTO_IPV4:
  case NFPROTO_IPV6:
    addr = like_of(addr_type((uint32_t)c->family));
    if ((rc = nr_eval_arg(c, &s->key, &addr)) < 0) return rc;
    return s->e2 ? nr_eval_arg(c, &s->e2, &dev) : 0;
  case NFPROTO_NETDEV:
    if (s->e2) return nr_fail(c, s->e2->tok, -EINVAL, "cannot specify device");
    return nr_eval_arg(c, &s->key, &dev);
  default:
    return nr_fail(c, s->tok, -EINVAL, "unsupported family");
  }
}

static int eval_fwd(struct nr_cc *c, struct nr_stmt *s) {
  struct nr_expr dev = like_of(T_IFINDEX), addr;
  int rc;
  if (c->family != NFPROTO_NETDEV) return nr_fail(c, s->tok, -EINVAL, "unsupported family");
  if ((rc = nr_eval_arg(c, &s->e2, &dev)) < 0) return rc;
  if (s->key == NULL) return 0;
  addr = like_of(addr_type(s->u.fwd.family));
  return nr_eval_arg(c, &s->key, &addr);
}

static int eval_tproxy(struct nr_cc *c, struct nr_stmt *s) {
  int rc;
  uint32_t fam = s->u.tp.family;
  switch (c->family) {
  case NFPROTO_IPV4:
  case NFPROTO_IPV6:
    if (fam == 0) s->u.tp.family = fam = (uint32_t)c->family;
    break;
  case NFPROTO_INET:
    break;
  default:
    return nr_fail(c, s->tok, -EINVAL, "tproxy is only supported for IPv4/IPv6/INET");
  }
  if (c->pctx.p[PB_TH] == NULL)
    return nr_fail(c, s->tok, -EINVAL, "Transparent proxy support requires transport protocol "
                   "match");
  const struct nr_proto *nh = c->pctx.p[PB_NH];
  if ((nh == &nr_proto_ip && fam != NFPROTO_IPV4) || (nh == &nr_proto_ip6 && fam != NFPROTO_IPV6))
    return nr_fail(c, s->tok, -EINVAL, "conflicting protocols specified: %s vs. %s. You must "
                   "specify ip or ip6 family in tproxy statement", nh->name,
                   fam == NFPROTO_IPV4 ? "ip" : fam == NFPROTO_IPV6 ? "ip6" : "unknown");
  if (s->key) {
    if (s->key->kind == X_RANGE)
      return nr_fail(c, s->key->tok, -EINVAL, "Address ranges are not supported for tproxy.");
    if (addr_type(fam) == 0)
      return nr_fail(c, s->tok, -EINVAL, "ip or ip6 must be specified with address for inet "
                     "tables.");
    struct nr_expr addr = like_of(addr_type(fam));
    if ((rc = nr_eval_arg(c, &s->key, &addr)) < 0) return rc;
    if (s->key->kind == X_RANGE)
      return nr_fail(c, s->key->tok, -EINVAL, "Address ranges are not supported for tproxy.");
  }
  if (s->e2) {
    struct nr_expr port = like_of(T_INET_SERVICE);
    if ((rc = nr_eval_arg(c, &s->e2, &port)) < 0) return rc;
    if (s->e2->kind == X_RANGE)
      return nr_fail(c, s->e2->tok, -EINVAL, "Port ranges are not supported for tproxy.");
  }
  return 0;
}

static int eval_queue(struct nr_cc *c, struct nr_stmt *s) {
  int rc;
  struct nr_expr num = {.kind = X_VALUE, .type = T_INTEGER, .order = BO_HOST, .bits = 16};
  if (s->e == NULL) return 0;
  if ((rc = nr_eval_arg(c, &s->e, &num)) < 0) return rc;
  struct nr_expr *e = s->e;
  if ((s->u.q.flags & NFT_QUEUE_FLAG_CPU_FANOUT) && e->kind != X_RANGE)
    return nr_fail(c, e->tok, -EINVAL, "fanout requires a range to be specified");
  if ((e->kind == X_HASH || e->kind == X_NUMGEN) &&
      (uint64_t)e->u.gen.offset + e->u.gen.mod - 1 > 65535)
    return nr_fail(c, e->tok, -EINVAL, "queue expression max value exceeds 65535");
  if (e->kind == X_VALUE || e->kind == X_RANGE) {
    const struct nr_expr *lo = e->kind == X_RANGE ? e->l : e, *hi = e->kind == X_RANGE ? e->r : e;
    s->u.q.num = (uint16_t)nr_be_get(lo->val, 2);
    s->u.q.total = (uint16_t)(nr_be_get(hi->val, 2) - s->u.q.num + 1);
  }
  return 0;
}

int nr_eval_fwd_stmt(struct nr_cc *c, struct nr_stmt *s) {
  switch (s->kind) {
  case S_DUP: return eval_dup(c, s);
  case S_FWD: return eval_fwd(c, s);
  case S_TPROXY: return eval_tproxy(c, s);
  case S_QUEUE: return eval_queue(c, s);
  case S_FLOW: return 0;
  default: return nr_unsupported(c, s->tok, "this statement");
  }
}
