/* The decoder's last pass: statements and expressions to text, the way `nft list` prints them
 * (nft's expression, statement and datatype printers, in cnet's own code). */
#include "nftrule/nr_decode.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_log.h>
#include <linux/netfilter/nf_nat.h>
#include <linux/netfilter/nf_synproxy.h>
#include <linux/netfilter/nf_tables.h>
#include <libnftnl/set.h>

struct pr {
  struct nr_sbuf *b;
  struct nr_dc *d;
};

enum { PF_NUMERIC = 1,  /* inside a range: numbers, no symbols */
       PF_LIST = 2,     /* flags as a,b (nft's list) rather than a | b */
       PF_STATELESS = 4,
       PF_WHOLE = 8 };   /* flags as one number (a header field's value: nft leaves it so) */

#define OUT(...) nr_sb_add(P->b, __VA_ARGS__)

static void p_expr(struct pr *P, const struct nr_expr *e, int pf);

static const struct nr_type *etype(const struct nr_expr *e) {
  const struct nr_type *t = nr_type_get(e->type);
  return t ? t : nr_type_get(T_INTEGER);
}

/* a value of a flag type (tcp flags, ct state...) with more than one flag: nft prints it as
 * flags or'ed together */
static int is_flags(const struct nr_expr *e) {
  if (e == NULL || e->kind != X_VALUE) return 0;
  const struct nr_type *t = etype(e);
  if (t->base != NB_BITMASK || t->id == T_BITMASK) return 0;
  int n = 0;
  for (unsigned i = 0; i < (e->bits + 7u) / 8; i++) n += __builtin_popcount(e->val[i]);
  return n > 1;
}

static void p_string(struct pr *P, const struct nr_expr *v) {
  unsigned bytes = (v->bits + 7) / 8;
  const char *s = (const char *)v->val;
  size_t n = strnlen(s, bytes);
  if (n == bytes) {  /* no terminating NUL: compared as a prefix */
    OUT("\"%.*s*\"", (int)n, s);
    return;
  }
  if (n > 0 && s[n - 1] == '*') OUT("\"%.*s\\*\"", (int)n - 1, s);
  else OUT("\"%.*s\"", (int)n, s);
}

static void p_value(struct pr *P, const struct nr_expr *v, int pf) {
  const struct nr_type *t = etype(v);
  if (v->flags & XF_LIST) pf |= PF_LIST;
  unsigned bytes = (v->bits + 7) / 8;
  if (v->flags & XF_WIRE) {  /* never typed: the bytes as they are */
    OUT("0x");
    for (unsigned i = 0; i < bytes; i++) OUT("%02x", v->val[i]);
    return;
  }
  if (t->base == NB_STRING) {
    p_string(P, v);
    return;
  }
  if (is_flags(v) && !(pf & PF_WHOLE)) {
    /* each flag, the lowest first */
    const char *sep = "";
    for (int bit = 0; bit < (int)bytes * 8; bit++) {
      if (!(v->val[bytes - 1 - bit / 8] & (1u << (bit % 8)))) continue;
      uint8_t one[NR_VMAX] = {0};
      one[bytes - 1 - bit / 8] = (uint8_t)(1u << (bit % 8));
      char buf[128];
      nr_type_print(t, one, v->bits, buf, sizeof buf, P->d->env, pf & PF_NUMERIC);
      OUT("%s%s", sep, buf);
      sep = pf & PF_LIST ? "," : " | ";
    }
    return;
  }
  char buf[256];
  nr_type_print(t, v->val, v->bits, buf, sizeof buf, P->d->env, pf & PF_NUMERIC);
  OUT("%s", buf);
}

static const char *const op_sym[] = {
  [OP_EQ] = "==", [OP_NEQ] = "!=", [OP_LT] = "<", [OP_GT] = ">", [OP_LTE] = "<=",
  [OP_GTE] = ">=", [OP_NEG] = "!", [OP_AND] = "&", [OP_OR] = "|", [OP_XOR] = "^",
  [OP_LSHIFT] = "<<", [OP_RSHIFT] = ">>"};

/* nft's binding strength of binary operators (a smaller number binds tighter) */
static int prec(const struct nr_expr *e) {
  if (is_flags(e)) return 4;
  if (e->kind != X_BINOP) return 0;
  switch (e->op) {
  case OP_LSHIFT: case OP_RSHIFT: return 1;
  case OP_AND: return 2;
  case OP_XOR: return 3;
  case OP_OR: return 4;
  default: return 0;
  }
}

static void p_arg(struct pr *P, const struct nr_expr *op, const struct nr_expr *arg, int pf) {
  int paren = prec(op) && prec(op) < prec(arg);
  if (paren) OUT("(");
  p_expr(P, arg, pf);
  if (paren) OUT(")");
}

static void p_binop(struct pr *P, const struct nr_expr *e, int pf) {
  p_arg(P, e, e->l, pf);
  OUT(" %s ", e->op < sizeof op_sym / sizeof *op_sym && op_sym[e->op] ? op_sym[e->op] : "?");
  p_arg(P, e, e->r, pf);
}

static void p_verdict(struct pr *P, const struct nr_expr *v) {
  switch (v->u.vd.verdict) {
  case NF_ACCEPT: OUT("accept"); return;
  case NF_DROP: OUT("drop"); return;
  case NFT_CONTINUE: OUT("continue"); return;
  case NFT_BREAK: OUT("break"); return;
  case NFT_RETURN: OUT("return"); return;
  case NFT_JUMP: OUT("jump %s", v->str ? v->str : "?"); return;
  case NFT_GOTO: OUT("goto %s", v->str ? v->str : "?"); return;
  default:
    if ((v->u.vd.verdict & NF_VERDICT_MASK) == NF_QUEUE) OUT("queue");
    else OUT("unknown verdict value %u", (unsigned)v->u.vd.verdict);
  }
}

static void p_set(struct pr *P, const struct nr_expr *s, int pf) {
  OUT("{ ");
  for (int i = 0; i < s->n; i++) {
    if (i) OUT(", ");
    p_expr(P, s->v[i], pf & PF_NUMERIC);
  }
  OUT(" }");
}

static void p_ct(struct pr *P, const struct nr_expr *e) {
  OUT("ct ");
  if (e->u.key.dir >= 0) {
    OUT("%s ", e->u.key.dir == 0 ? "original" : "reply");
    if (e->u.key.k->flags & K_FAMADDR) {
      if (e->type == T_IPADDR) OUT("ip ");
      else if (e->type == T_IP6ADDR) OUT("ip6 ");
    }
  }
  OUT("%s", e->u.key.k->name);
}

static void p_fib(struct pr *P, const struct nr_expr *e) {
  static const struct { uint32_t f; const char *name; } fl[] = {
    {NFTA_FIB_F_SADDR, "saddr"}, {NFTA_FIB_F_DADDR, "daddr"}, {NFTA_FIB_F_MARK, "mark"},
    {NFTA_FIB_F_IIF, "iif"}, {NFTA_FIB_F_OIF, "oif"}};
  uint32_t flags = e->u.fib.flags & ~(uint32_t)NFTA_FIB_F_PRESENT;
  OUT("fib ");
  for (unsigned i = 0; i < sizeof fl / sizeof *fl; i++) {
    if (!(flags & fl[i].f)) continue;
    OUT("%s", fl[i].name);
    flags &= ~fl[i].f;
    if (flags) OUT(" . ");
  }
  if (flags) OUT("0x%x", flags);
  switch (e->u.fib.result) {
  case NFT_FIB_RESULT_OIF: OUT(" oif"); break;
  case NFT_FIB_RESULT_OIFNAME: OUT(" oifname"); break;
  case NFT_FIB_RESULT_ADDRTYPE: OUT(" type"); break;
  default: OUT(" unknown"); break;
  }
}

static void p_expr(struct pr *P, const struct nr_expr *e, int pf) {
  if (e == NULL) {
    OUT("?");
    return;
  }
  switch (e->kind) {
  case X_VALUE: p_value(P, e, pf); return;
  case X_RANGE:
    p_expr(P, e->l, pf | PF_NUMERIC);
    OUT("-");
    p_expr(P, e->r, pf | PF_NUMERIC);
    return;
  case X_PREFIX:
    p_expr(P, e->l, pf);
    OUT("/%d", e->u.pre.plen);
    return;
  case X_SET: p_set(P, e, pf); return;
  case X_SETREF: OUT("@%s", e->str); return;
  case X_SYMBOL: OUT("\"%s\"", e->str); return;  /* an object's name, in an object map */
  case X_MAPPING:
    p_expr(P, e->l, pf);
    OUT(" : ");
    p_expr(P, e->r, pf);
    return;
  case X_CONCAT:
    for (int i = 0; i < e->n; i++) {
      if (i) OUT(" . ");
      p_expr(P, e->v[i], pf);
    }
    return;
  case X_LIST:
    for (int i = 0; i < e->n; i++) {
      if (i) OUT(",");
      p_expr(P, e->v[i], pf);
    }
    return;
  case X_BINOP: p_binop(P, e, pf); return;
  case X_UNARY: p_expr(P, e->l, pf); return;
  case X_MAP:
    p_expr(P, e->l, pf);
    OUT(e->op == 1 ? " vmap " : " map ");
    p_expr(P, e->r, pf);
    return;
  case X_VERDICT: p_verdict(P, e); return;
  case X_PAYLOAD:
    if (e->u.pl.p && e->u.pl.f)
      OUT("%s %s", e->u.pl.p->name, e->u.pl.f->name);
    else
      OUT("@%s,%u,%u", (const char *[]){"?", "ll", "nh", "th", "ih"}[e->u.pl.base <= 4 ? e->u.pl.base : 0],
          e->u.pl.off, e->bits);
    return;
  case X_META:
    if (e->u.key.k->flags & K_UNQUAL) OUT("%s", e->u.key.k->name);
    else OUT("meta %s", e->u.key.k->name);
    return;
  case X_CT: p_ct(P, e); return;
  case X_RT:
    OUT("rt %s%s", e->u.key.k->key == NFT_RT_NEXTHOP4 ? "ip " :
                   e->u.key.k->key == NFT_RT_NEXTHOP6 ? "ip6 " : "", e->u.key.k->name);
    return;
  case X_SOCKET:
    OUT("socket %s", e->u.key.k->name);
    if (e->u.key.k->key == NFT_SOCKET_CGROUPV2) OUT(" level %u", e->u.key.level);
    return;
  case X_NUMGEN:
    OUT("numgen %s mod %u", e->u.gen.type == NFT_NG_RANDOM ? "random" : "inc", e->u.gen.mod);
    if (e->u.gen.offset) OUT(" offset %u", e->u.gen.offset);
    return;
  case X_HASH:
    if (e->u.gen.type == NFT_HASH_SYM) {
      OUT("symhash");
    } else {
      OUT("jhash ");
      p_expr(P, e->u.gen.e, pf);
    }
    OUT(" mod %u", e->u.gen.mod);
    if (e->u.gen.seed_set) OUT(" seed 0x%x", e->u.gen.seed);
    if (e->u.gen.offset) OUT(" offset %u", e->u.gen.offset);
    return;
  case X_FIB: p_fib(P, e); return;
  case X_OSF:
    OUT("osf %s%s", e->u.osf.ttl == 1 ? "ttl loose " : e->u.osf.ttl == 2 ? "ttl skip " : "",
        e->u.osf.flags & NFT_OSF_F_VERSION ? "version" : "name");
    return;
  case X_XFRM:
    OUT("ipsec %s", e->u.xfrm.dir ? "out" : "in");
    if (e->u.xfrm.spnum) OUT(" spnum %u", e->u.xfrm.spnum);
    switch (e->u.xfrm.key) {
    case NFT_XFRM_KEY_SPI: OUT(" spi"); break;
    case NFT_XFRM_KEY_REQID: OUT(" reqid"); break;
    case NFT_XFRM_KEY_SADDR_IP4: OUT(" ip saddr"); break;
    case NFT_XFRM_KEY_DADDR_IP4: OUT(" ip daddr"); break;
    case NFT_XFRM_KEY_SADDR_IP6: OUT(" ip6 saddr"); break;
    default: OUT(" ip6 daddr"); break;
    }
    return;
  case X_EXTHDR: nr_exthdr_print(e, P->b); return;
  default:
    OUT("<expression %d>", e->kind);
    return;
  }
}

/* ---- statements ---- */

/* nft writes "==" only where leaving it out would read differently. whole: flags are one
 * number */
static int must_print_eq(const struct nr_expr *rel, int whole) {
  const struct nr_expr *r = rel->r;
  if (rel->l->kind == X_BINOP) return 1;
  if (r->kind != X_VALUE || (is_flags(r) && !whole)) return 0;
  const struct nr_type *t = etype(r);
  return t->base == NB_BITMASK && t->id != T_BITMASK;
}

static void p_match(struct pr *P, const struct nr_expr *rel) {
  if (rel->flags & XF_FLAGCMP) {
    p_expr(P, rel->l->l, 0);
    OUT(rel->op == OP_NEQ ? " != " : " ");
    p_expr(P, rel->r, PF_LIST);
    OUT(" / ");
    p_expr(P, rel->l->r, PF_LIST);
    return;
  }
  /* a header field's value is printed as nft read it, without splitting flags */
  int whole = rel->flags & XF_WHOLE ? PF_WHOLE : 0;
  p_expr(P, rel->l, 0);
  switch (rel->op) {
  case OP_IMPLICIT: OUT(" "); break;
  case OP_EQ: OUT(must_print_eq(rel, whole) ? " == " : " "); break;
  default: OUT(" %s ", op_sym[rel->op] ? op_sym[rel->op] : "?"); break;
  }
  p_expr(P, rel->r, whole);
}

static const char *rate_unit(uint64_t bytes, uint64_t *n) {
  static const char *const unit[] = {"bytes", "kbytes", "mbytes"};
  int i = 0;
  *n = bytes;
  if (bytes == 0) return unit[0];
  while (i < 2 && *n % 1024 == 0) {
    *n /= 1024;
    i++;
  }
  return unit[i];
}

static const char *time_unit(uint64_t u) {
  switch (u) {
  case 1: return "second";
  case 60: return "minute";
  case 3600: return "hour";
  case 86400: return "day";
  case 604800: return "week";
  default: return "error";
  }
}

static void p_stmt(struct pr *P, const struct nr_stmt *s, int pf);

static void p_log(struct pr *P, const struct nr_stmt *s) {
  static const char *const level[] = {"emerg", "alert", "crit", "err", "warn", "notice",
                                      "info", "debug", "audit"};
  OUT("log");
  if (s->u.log.set & LF_PREFIX) OUT(" prefix \"%s\"", s->u.log.prefix);
  if (s->u.log.set & LF_GROUP) OUT(" group %u", s->u.log.group);
  if (s->u.log.set & LF_SNAPLEN) OUT(" snaplen %u", s->u.log.snaplen);
  if (s->u.log.set & LF_QTHRESH) OUT(" queue-threshold %u", s->u.log.qthresh);
  if ((s->u.log.set & LF_LEVEL) && s->u.log.level != 4)
    OUT(" level %s", s->u.log.level <= 8 ? level[s->u.log.level] : "unknown");
  uint32_t f = s->u.log.flags;
  if ((f & NF_LOG_MASK) == NF_LOG_MASK) {
    OUT(" flags all");
    return;
  }
  if (f & (NF_LOG_TCPSEQ | NF_LOG_TCPOPT)) {
    OUT(" flags tcp");
    if (f & NF_LOG_TCPSEQ) OUT(" sequence");
    if (f & NF_LOG_TCPOPT) OUT("%soptions", f & NF_LOG_TCPSEQ ? "," : " ");
  }
  if (f & NF_LOG_IPOPT) OUT(" flags ip options");
  if (f & NF_LOG_UID) OUT(" flags skuid");
  if (f & NF_LOG_MACDECODE) OUT(" flags ether");
}

static void p_limit(struct pr *P, const struct nr_stmt *s) {
  const char *over = s->u.lim.flags & NFT_LIMIT_F_INV ? "over " : "";
  uint64_t n;
  if (s->u.lim.type == NFT_LIMIT_PKT_BYTES) {
    const char *u = rate_unit(s->u.lim.rate, &n);
    OUT("limit rate %s%llu %s/%s", over, (unsigned long long)n, u, time_unit(s->u.lim.unit));
    if (s->u.lim.burst) {
      u = rate_unit(s->u.lim.burst, &n);
      OUT(" burst %llu %s", (unsigned long long)n, u);
    }
    return;
  }
  OUT("limit rate %s%llu/%s", over, (unsigned long long)s->u.lim.rate, time_unit(s->u.lim.unit));
  if (s->u.lim.burst && s->u.lim.burst != 5) OUT(" burst %u packets", s->u.lim.burst);
}

static void p_quota(struct pr *P, const struct nr_stmt *s, int pf) {
  uint64_t n;
  const char *u = rate_unit(s->u.quota.bytes, &n);
  OUT("quota %s%llu %s", s->u.quota.flags & NFT_QUOTA_F_INV ? "over " : "",
      (unsigned long long)n, u);
  if (!(pf & PF_STATELESS) && s->u.quota.used) {
    u = rate_unit(s->u.quota.used, &n);
    OUT(" used %llu %s", (unsigned long long)n, u);
  }
}

static void p_reject(struct pr *P, const struct nr_stmt *s) {
  uint8_t code[1] = {(uint8_t)(s->u.rej.code < 0 ? 0 : s->u.rej.code)};
  char buf[64];
  OUT("reject");
  switch (s->u.rej.type) {
  case NFT_REJECT_TCP_RST: OUT(" with tcp reset"); return;
  case NFT_REJECT_ICMPX_UNREACH:
    if (code[0] == NFT_REJECT_ICMPX_PORT_UNREACH) return;
    nr_type_print(nr_type_get(T_ICMPX_CODE), code, 8, buf, sizeof buf, NULL, 0);
    OUT(" with icmpx %s", buf);
    return;
  case NFT_REJECT_ICMP_UNREACH:
    if (s->u.rej.family == 4) {
      if (!s->dep && code[0] == 3) return;
      nr_type_print(nr_type_get(T_ICMP_CODE), code, 8, buf, sizeof buf, NULL, 0);
      OUT(" with icmp %s", buf);
    } else if (s->u.rej.family == 6) {
      if (!s->dep && code[0] == 4) return;
      nr_type_print(nr_type_get(T_ICMPV6_CODE), code, 8, buf, sizeof buf, NULL, 0);
      OUT(" with icmpv6 %s", buf);
    }
    return;
  }
}

/* ipv6 addresses before a port go in brackets */
static void p_nat_addr(struct pr *P, const struct nr_expr *a, int port) {
  if (port && a->kind == X_VALUE && a->type == T_IP6ADDR) {
    OUT("[");
    p_expr(P, a, 0);
    OUT("]");
  } else if (port && a->kind == X_RANGE && a->l->type == T_IP6ADDR) {
    OUT("[");
    p_expr(P, a->l, 0);
    OUT("]-[");
    p_expr(P, a->r, 0);
    OUT("]");
  } else {
    p_expr(P, a, 0);
  }
}

static void p_nat(struct pr *P, const struct nr_stmt *s) {
  static const char *const names[] = {[NFT_NAT_SNAT] = "snat", [NFT_NAT_DNAT] = "dnat"};
  uint32_t t = s->u.nat.type;
  OUT("%s", t == NAT_MASQ ? "masquerade" : t == NAT_REDIR ? "redirect" :
            t <= NFT_NAT_DNAT ? names[t] : "nat");
  if (s->key || s->e2) {
    if (s->u.nat.tflags & 2) {  /* family shown (inet tables, address maps) */
      if (s->u.nat.family == NFPROTO_IPV4) OUT(" ip");
      else if (s->u.nat.family == NFPROTO_IPV6) OUT(" ip6");
    }
    if (s->u.nat.flags & NF_NAT_RANGE_NETMAP) OUT(" prefix");
    OUT(" to");
  }
  if (s->key) {
    OUT(" ");
    p_nat_addr(P, s->key, s->e2 != NULL);
  }
  if (s->e2) {
    if (!s->key) OUT(" ");
    OUT(":");
    p_expr(P, s->e2, 0);
  }
  const char *sep = " ";
  if (s->u.nat.flags & NF_NAT_RANGE_PROTO_RANDOM) { OUT("%srandom", sep); sep = ","; }
  if (s->u.nat.flags & NF_NAT_RANGE_PROTO_RANDOM_FULLY) { OUT("%sfully-random", sep); sep = ","; }
  if (s->u.nat.flags & NF_NAT_RANGE_PERSISTENT) OUT("%spersistent", sep);
}

static void p_objref(struct pr *P, const struct nr_stmt *s) {
  static const char *const names[] = {
    [NFT_OBJECT_COUNTER] = "counter", [NFT_OBJECT_QUOTA] = "quota",
    [NFT_OBJECT_LIMIT] = "limit", [NFT_OBJECT_SYNPROXY] = "synproxy"};
  switch (s->u.obj.type) {
  case NFT_OBJECT_CT_HELPER: OUT("ct helper set "); break;
  case NFT_OBJECT_CT_TIMEOUT: OUT("ct timeout set "); break;
  case NFT_OBJECT_CT_EXPECT: OUT("ct expectation set "); break;
  case NFT_OBJECT_SECMARK: OUT("meta secmark set "); break;
  default:
    OUT("%s name ", s->u.obj.type < sizeof names / sizeof *names && names[s->u.obj.type]
                        ? names[s->u.obj.type] : "unknown");
  }
  if (s->u.obj.map) p_expr(P, s->u.obj.map, 0);
  else OUT("\"%s\"", s->u.obj.name);
}

static void p_dynset(struct pr *P, const struct nr_stmt *s) {
  static const char *const ops[] = {"add", "update", "delete"};
  if (s->u.dyn.meter) OUT("meter %s size %u { ", s->str_set, s->u.dyn.size);
  else OUT("%s @%s { ", s->u.dyn.op <= 2 ? ops[s->u.dyn.op] : "?", s->str_set);
  p_expr(P, s->key, 0);
  if (s->u.dyn.timeout) {
    char buf[64];
    nr_time_print(s->u.dyn.timeout, buf, sizeof buf);
    OUT(" timeout %s", buf);
  }
  for (const struct nr_stmt *x = s->sub; x; x = x->next) {
    OUT(" ");
    p_stmt(P, x, PF_STATELESS);
  }
  if (s->e) {
    OUT(" : ");
    p_expr(P, s->e, 0);
  }
  OUT(" }");
}

static const char *fam_name(uint32_t family) {
  return family == NFPROTO_IPV4 ? "ip" : family == NFPROTO_IPV6 ? "ip6" : "unknown";
}

/* dup, fwd, tproxy, queue, flow offload, as nft prints them */
static void p_fwd(struct pr *P, const struct nr_stmt *s) {
  switch (s->kind) {
  case S_DUP:
    OUT("dup to ");
    p_expr(P, s->key, 0);
    if (s->e2) {
      OUT(" device ");
      p_expr(P, s->e2, 0);
    }
    return;
  case S_FWD:
    if (s->key) {
      OUT("fwd %s to ", fam_name(s->u.fwd.family));
      p_expr(P, s->key, 0);
      OUT(" device ");
    } else {
      OUT("fwd to ");
    }
    p_expr(P, s->e2, 0);
    return;
  case S_TPROXY:
    OUT("tproxy");
    if (P->d->c.family == NFPROTO_INET && s->u.tp.family) OUT(" %s", fam_name(s->u.tp.family));
    OUT(" to");
    if (s->key) {
      OUT(" ");
      int brackets = s->key->kind == X_VALUE && s->key->type == T_IP6ADDR;
      if (brackets) OUT("[");
      p_expr(P, s->key, 0);
      if (brackets) OUT("]");
    }
    if (s->e2) {
      OUT("%s:", s->key ? "" : " ");
      p_expr(P, s->e2, 0);
    }
    return;
  case S_QUEUE: {
    const char *delim = " flags ";
    OUT("queue");
    if (s->u.q.flags & NFT_QUEUE_FLAG_BYPASS) {
      OUT("%sbypass", delim);
      delim = ",";
    }
    if (s->u.q.flags & NFT_QUEUE_FLAG_CPU_FANOUT) OUT("%sfanout", delim);
    OUT(" to ");
    if (s->e) p_expr(P, s->e, 0);
    else if (s->u.q.total > 1) OUT("%u-%u", s->u.q.num, s->u.q.num + s->u.q.total - 1u);
    else OUT("%u", s->u.q.num);
    return;
  }
  default:
    OUT("flow add @%s", s->u.flow.name);
    return;
  }
}

static void p_stmt(struct pr *P, const struct nr_stmt *s, int pf) {
  switch (s->kind) {
  case S_DUP:
  case S_FWD:
  case S_TPROXY:
  case S_QUEUE:
  case S_FLOW:
    p_fwd(P, s);
    return;
  case S_MATCH: p_match(P, s->e); return;
  case S_VERDICT: p_verdict(P, s->e); return;
  case S_VMAP: p_expr(P, s->e, 0); return;
  case S_COUNTER:
    OUT("counter");
    if (!(pf & PF_STATELESS))
      OUT(" packets %llu bytes %llu", (unsigned long long)s->u.ctr.packets,
          (unsigned long long)s->u.ctr.bytes);
    return;
  case S_LOG: p_log(P, s); return;
  case S_LIMIT: p_limit(P, s); return;
  case S_QUOTA: p_quota(P, s, pf); return;
  case S_CONNLIMIT: OUT("ct count %s%u", s->u.cl.flags ? "over " : "", s->u.cl.count); return;
  case S_REJECT: p_reject(P, s); return;
  case S_NAT: p_nat(P, s); return;
  case S_NOTRACK: OUT("notrack"); return;
  case S_META_SET:
    p_expr(P, s->key, 0);
    OUT(" set ");
    p_expr(P, s->e, 0);
    return;
  case S_CT_SET:
    p_ct(P, s->key);
    OUT(" set ");
    p_expr(P, s->e, 0);
    return;
  case S_OBJREF: p_objref(P, s); return;
  case S_PAYLOAD_SET:
  case S_EXTHDR_SET:
    p_expr(P, s->key, 0);
    OUT(" set ");
    p_expr(P, s->e, 0);
    return;
  case S_OPTSTRIP:
    OUT("reset ");
    p_expr(P, s->key, 0);
    return;
  case S_DYNSET: p_dynset(P, s); return;
  case S_SYNPROXY: {
    uint32_t f = s->u.syn.flags;
    const char *ts = f & NF_SYNPROXY_OPT_TIMESTAMP ? " timestamp" : "";
    const char *sack = f & NF_SYNPROXY_OPT_SACK_PERM ? " sack-perm" : "";
    if (f & (NF_SYNPROXY_OPT_MSS | NF_SYNPROXY_OPT_WSCALE))  /* both, if either (as nft) */
      OUT("synproxy mss %u wscale %u%s%s", s->u.syn.mss, s->u.syn.wscale, ts, sack);
    else if (f & NF_SYNPROXY_OPT_MSS) OUT("synproxy mss %u%s%s", s->u.syn.mss, ts, sack);
    else if (f & NF_SYNPROXY_OPT_WSCALE) OUT("synproxy wscale %u%s%s", s->u.syn.wscale, ts, sack);
    else OUT("synproxy%s%s", ts, sack);
    return;
  }
  default:
    OUT("<statement %d>", s->kind);
    return;
  }
}

int nr_print_rule(struct nr_dc *d, struct nr_sbuf *b) {
  struct pr p = {b, d}, *P = &p;
  int first = 1;
  for (const struct nr_stmt *s = d->c.first; s; s = s->next) {
    if (s->hidden) continue;
    if (!first) OUT(" ");
    p_stmt(P, s, 0);
    first = 0;
  }
  return first;
}
