/* Statements of the rule language: verdicts, counter, log, limit, reject, NAT, mark set. */
#define _GNU_SOURCE
#include "nft/nftrule_int.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_nat.h>
#include <linux/netfilter/nf_tables.h>
#include <libnftnl/expr.h>
#include <libnftnl/rule.h>
#include <libnftnl/udata.h>

static int want_word(struct cc *c, const char *what) {
  if (c->t[c->i].kind != TK_WORD)
    return cc_fail(c, c->i, -EINVAL, "expected %s", what);
  return 0;
}

/* "N/second" etc. */
static int st_limit(struct cc *c) {
  int tok = c->i, rc;
  if (cc_is(c, tok, "over") || cc_is(c, tok, "name"))
    return cc_fail(c, tok, -EOPNOTSUPP, "limit %.*s is not supported by cnet",
                   (int)c->t[tok].len, c->text + c->t[tok].pos);
  if (!cc_is(c, tok, "rate")) return cc_fail(c, tok, -EINVAL, "expected \"rate\" after limit");
  tok = ++c->i;
  if (cc_is(c, tok, "over"))
    return cc_fail(c, tok, -EOPNOTSUPP, "limit rate over is not supported by cnet");
  char s[64];
  if ((rc = want_word(c, "a rate such as 10/second")) < 0) return rc;
  if (cc_tokstr(c, tok, s, sizeof s) < 0) return cc_fail(c, tok, -EINVAL, "bad rate");
  char *slash = strchr(s, '/');
  unsigned long long rate;
  if (slash == NULL) return cc_fail(c, tok, -EINVAL, "bad rate \"%s\": write N/second", s);
  *slash = 0;
  if (cc_number(s, 0xffffffffULL, &rate) < 0 || rate == 0)
    return cc_fail(c, tok, -EINVAL, "bad rate \"%s\"", s);
  static const struct { const char *name; uint64_t secs; } units[] = {
    {"second", 1}, {"minute", 60}, {"hour", 3600}, {"day", 86400}, {NULL, 0}};
  uint64_t unit = 0;
  for (int j = 0; units[j].name; j++)
    if (strcmp(slash + 1, units[j].name) == 0) unit = units[j].secs;
  if (unit == 0) {
    if (strstr(slash + 1, "bytes") || strchr(s, 'b'))
      return cc_fail(c, tok, -EOPNOTSUPP, "byte rates are not supported by cnet");
    return cc_fail(c, tok, -EINVAL, "bad rate unit \"%s\" (second, minute, hour, day)", slash + 1);
  }
  c->i++;
  if (cc_is(c, c->i, "burst"))
    return cc_fail(c, c->i, -EOPNOTSUPP, "limit burst is not supported by cnet");
  struct nftnl_expr *e = nftnl_expr_alloc("limit");
  if (e == NULL) return -ENOMEM;
  nftnl_expr_set_u64(e, NFTNL_EXPR_LIMIT_RATE, rate);
  nftnl_expr_set_u64(e, NFTNL_EXPR_LIMIT_UNIT, unit);
  nftnl_expr_set_u32(e, NFTNL_EXPR_LIMIT_BURST, 5);  /* nft's default, not printed */
  nftnl_expr_set_u32(e, NFTNL_EXPR_LIMIT_TYPE, NFT_LIMIT_PKTS);
  nftnl_expr_set_u32(e, NFTNL_EXPR_LIMIT_FLAGS, 0);
  return em_add(c, e);
}

static int st_log(struct cc *c) {
  static const char *const opts[] = {"level", "group", "snaplen", "queue-threshold", "flags",
                                     NULL};
  struct nftnl_expr *e;
  for (int j = 0; opts[j]; j++)
    if (cc_is(c, c->i, opts[j]))
      return cc_fail(c, c->i, -EOPNOTSUPP, "log %s is not supported by cnet", opts[j]);
  if (!cc_is(c, c->i, "prefix")) {
    e = nftnl_expr_alloc("log");
    return em_add(c, e);
  }
  int tok = ++c->i;
  char s[160];
  if (c->t[tok].kind != TK_STRING)
    return cc_fail(c, tok, -EINVAL, "expected a quoted prefix after log prefix");
  if (cc_tokstr(c, tok, s, sizeof s) < 0 || strlen(s) > 127)
    return cc_fail(c, tok, -EINVAL, "log prefix longer than 127 characters");
  if (strchr(s, '$') || strchr(s, '\\'))
    return cc_fail(c, tok, -EOPNOTSUPP, "log prefix with \"$\" or \"\\\"");
  c->i++;
  for (int j = 0; opts[j]; j++)
    if (cc_is(c, c->i, opts[j]))
      return cc_fail(c, c->i, -EOPNOTSUPP, "log %s is not supported by cnet", opts[j]);
  e = nftnl_expr_alloc("log");
  if (e == NULL) return -ENOMEM;
  nftnl_expr_set_str(e, NFTNL_EXPR_LOG_PREFIX, s);
  return em_add(c, e);
}

static int st_reject(struct cc *c, int tok) {
  uint32_t type;
  uint8_t code;
  if (cc_is(c, c->i, "with"))
    return cc_fail(c, c->i, -EOPNOTSUPP, "reject with ... is not supported by cnet");
  switch (c->family) {
  case NFPROTO_IPV4: type = NFT_REJECT_ICMP_UNREACH; code = 3; break;  /* port unreachable */
  case NFPROTO_IPV6: type = NFT_REJECT_ICMP_UNREACH; code = 4; break;  /* port unreachable */
  case NFPROTO_INET: type = NFT_REJECT_ICMPX_UNREACH; code = NFT_REJECT_ICMPX_PORT_UNREACH; break;
  default: return cc_fail(c, tok, -EOPNOTSUPP, "reject in a bridge/netdev/arp table");
  }
  struct nftnl_expr *e = nftnl_expr_alloc("reject");
  if (e == NULL) return -ENOMEM;
  nftnl_expr_set_u32(e, NFTNL_EXPR_REJECT_TYPE, type);
  nftnl_expr_set_u8(e, NFTNL_EXPR_REJECT_CODE, code);
  return em_add(c, e);
}

/* ":P" or ":P-Q" into network-order ports; returns 0/-1 */
static int parse_ports(const char *s, uint16_t *lo, uint16_t *hi) {
  char buf[32];
  unsigned long long a, b;
  if (strlen(s) >= sizeof buf) return -1;
  strcpy(buf, s);
  char *dash = strchr(buf, '-');
  if (dash) *dash = 0;
  if (cc_number(buf, 65535, &a) < 0) return -1;
  b = a;
  if (dash && cc_number(dash + 1, 65535, &b) < 0) return -1;
  if (b < a) return -1;
  *lo = htons((uint16_t)a);
  *hi = htons((uint16_t)b);
  return 0;
}

static int port_opts(struct cc *c) {
  static const char *const flags[] = {"random", "fully-random", "persistent", NULL};
  for (int j = 0; flags[j]; j++)
    if (cc_is(c, c->i, flags[j]))
      return cc_fail(c, c->i, -EOPNOTSUPP, "NAT flag \"%s\" is not supported by cnet", flags[j]);
  return 0;
}

static int need_transport(struct cc *c, int tok) {
  if (c->l4 != 6 && c->l4 != 17)
    return cc_fail(c, tok, -EINVAL,
                   "transport protocol mapping is only valid after transport protocol match");
  return 0;
}

/* masquerade [to :P[-Q]] and redirect [to :P[-Q]] */
static int st_masq_redir(struct cc *c, int redir) {
  uint16_t lo = 0, hi = 0;
  int have = 0, rc, ptok = c->i;
  if (cc_is(c, c->i, "to")) {
    ptok = ++c->i;
    char s[64];
    if (c->t[ptok].kind != TK_WORD || cc_tokstr(c, ptok, s, sizeof s) < 0 || s[0] != ':' ||
        parse_ports(s + 1, &lo, &hi) < 0)
      return cc_fail(c, ptok, -EINVAL, "expected \":PORT\" or \":PORT-PORT\"");
    if ((rc = need_transport(c, ptok)) < 0) return rc;
    c->i++;
    have = 1;
  }
  if ((rc = port_opts(c)) < 0) return rc;
  if (have) {
    if ((rc = em_imm(c, NFT_REG_1, &lo, 2)) < 0) return rc;
    if (hi != lo && (rc = em_imm(c, NFT_REG_2, &hi, 2)) < 0) return rc;
  }
  struct nftnl_expr *e = nftnl_expr_alloc(redir ? "redir" : "masq");
  if (e == NULL) return -ENOMEM;
  if (have) {
    nftnl_expr_set_u32(e, redir ? NFTNL_EXPR_REDIR_REG_PROTO_MIN : NFTNL_EXPR_MASQ_REG_PROTO_MIN,
                       NFT_REG_1);
    if (hi != lo)
      nftnl_expr_set_u32(e, redir ? NFTNL_EXPR_REDIR_REG_PROTO_MAX
                                  : NFTNL_EXPR_MASQ_REG_PROTO_MAX, NFT_REG_2);
    nftnl_expr_set_u32(e, redir ? NFTNL_EXPR_REDIR_FLAGS : NFTNL_EXPR_MASQ_FLAGS,
                       NF_NAT_RANGE_PROTO_SPECIFIED);
  }
  return em_add(c, e);
}

/* snat|dnat [ip|ip6] to ADDR[:P[-Q]] | [ADDR6][:P[-Q]] */
static int st_nat(struct cc *c, int dnat) {
  int fam = 0, rc;
  if (cc_is(c, c->i, "ip")) { fam = NFPROTO_IPV4; c->i++; }
  else if (cc_is(c, c->i, "ip6")) { fam = NFPROTO_IPV6; c->i++; }
  if (!cc_is(c, c->i, "to"))
    return cc_fail(c, c->i, -EINVAL, "expected \"to\" after %s", dnat ? "dnat" : "snat");
  int tok = ++c->i;
  char s[96], *addr = s, *port = NULL;
  if (c->t[tok].kind != TK_WORD || cc_tokstr(c, tok, s, sizeof s) < 0)
    return cc_fail(c, tok, -EINVAL, "expected an address");
  if (s[0] == '[') {
    char *close = strchr(s, ']');
    if (close == NULL) return cc_fail(c, tok, -EINVAL, "missing \"]\" in \"%s\"", s);
    *close = 0;
    addr = s + 1;
    if (close[1] == ':') port = close + 2;
    else if (close[1] != 0) return cc_fail(c, tok, -EINVAL, "bad address \"%s\"", s);
  } else if (strchr(s, ':') == strrchr(s, ':') && strchr(s, ':')) {
    port = strchr(s, ':');  /* exactly one colon: IPv4 address and port */
    *port++ = 0;
  }
  uint8_t a[16];
  int afam;
  if (inet_pton(AF_INET, addr, a) == 1) afam = NFPROTO_IPV4;
  else if (inet_pton(AF_INET6, addr, a) == 1) afam = NFPROTO_IPV6;
  else if (strchr(addr, '-'))
    return cc_fail(c, tok, -EOPNOTSUPP, "address range in %s", dnat ? "dnat" : "snat");
  else return cc_fail(c, tok, -EINVAL, "bad address \"%s\"", addr);
  if (fam && fam != afam)
    return cc_fail(c, tok, -EINVAL, "address \"%s\" is not %s", addr,
                   fam == NFPROTO_IPV4 ? "IPv4" : "IPv6");
  if (c->family == NFPROTO_IPV4 || c->family == NFPROTO_IPV6) {
    if (afam != c->family)
      return cc_fail(c, tok, -EINVAL, "address family does not match the table's");
  } else if (c->family != NFPROTO_INET) {
    return cc_fail(c, tok, -EOPNOTSUPP, "NAT in a bridge/netdev/arp table");
  } else if (fam == 0) {
    return cc_fail(c, tok, -EINVAL, "ip or ip6 must be specified with address for inet tables");
  }
  uint16_t lo = 0, hi = 0;
  if (port && parse_ports(port, &lo, &hi) < 0)
    return cc_fail(c, tok, -EINVAL, "bad port \"%s\"", port);
  if (port && (rc = need_transport(c, tok)) < 0) return rc;
  c->i++;
  if ((rc = port_opts(c)) < 0) return rc;
  if ((rc = em_imm(c, NFT_REG_1, a, afam == NFPROTO_IPV4 ? 4 : 16)) < 0) return rc;
  if (port) {
    if ((rc = em_imm(c, NFT_REG_2, &lo, 2)) < 0) return rc;
    if (hi != lo && (rc = em_imm(c, NFT_REG_3, &hi, 2)) < 0) return rc;
  }
  struct nftnl_expr *e = nftnl_expr_alloc("nat");
  if (e == NULL) return -ENOMEM;
  nftnl_expr_set_u32(e, NFTNL_EXPR_NAT_TYPE, dnat ? NFT_NAT_DNAT : NFT_NAT_SNAT);
  nftnl_expr_set_u32(e, NFTNL_EXPR_NAT_FAMILY, (uint32_t)afam);
  nftnl_expr_set_u32(e, NFTNL_EXPR_NAT_REG_ADDR_MIN, NFT_REG_1);
  if (port) {
    nftnl_expr_set_u32(e, NFTNL_EXPR_NAT_REG_PROTO_MIN, NFT_REG_2);
    if (hi != lo) nftnl_expr_set_u32(e, NFTNL_EXPR_NAT_REG_PROTO_MAX, NFT_REG_3);
    nftnl_expr_set_u32(e, NFTNL_EXPR_NAT_FLAGS, NF_NAT_RANGE_PROTO_SPECIFIED);
  }
  return em_add(c, e);
}

static int st_mark_set(struct cc *c) {
  int tok = c->i;
  char s[32];
  unsigned long long v;
  if (c->t[tok].kind != TK_WORD || cc_tokstr(c, tok, s, sizeof s) < 0 ||
      cc_number(s, 0xffffffffULL, &v) < 0)
    return cc_fail(c, tok, -EINVAL, "bad mark value");
  c->i++;
  uint32_t m = (uint32_t)v;
  int rc = em_imm(c, NFT_REG_1, &m, 4);
  if (rc < 0) return rc;
  struct nftnl_expr *e = nftnl_expr_alloc("meta");
  if (e == NULL) return -ENOMEM;
  nftnl_expr_set_u32(e, NFTNL_EXPR_META_KEY, NFT_META_MARK);
  nftnl_expr_set_u32(e, NFTNL_EXPR_META_SREG, NFT_REG_1);
  return em_add(c, e);
}

/* comment "TEXT": kept in the rule's user data, as nft does; only last in the rule */
static int st_comment(struct cc *c) {
  int tok = c->i;
  char s[160];
  if (tok == 1)  /* nft's grammar wants a statement first */
    return cc_fail(c, 0, -EINVAL, "a rule cannot be only a comment");
  if (c->t[tok].kind != TK_STRING)
    return cc_fail(c, tok, -EINVAL, "expected a quoted comment");
  if (cc_tokstr(c, tok, s, sizeof s) < 0 || strlen(s) > 128)
    return cc_fail(c, tok, -EINVAL, "comment longer than 128 characters");
  if (strchr(s, '\\'))
    return cc_fail(c, tok, -EOPNOTSUPP, "comment with \"\\\"");
  c->i++;
  if (c->t[c->i].kind != TK_END)
    return cc_fail(c, c->i, -EINVAL, "comment must come last in the rule");
  struct nftnl_udata_buf *u = nftnl_udata_buf_alloc(256);
  if (u == NULL) return -ENOMEM;
  if (!nftnl_udata_put_strz(u, NFTNL_UDATA_RULE_COMMENT, s)) {
    nftnl_udata_buf_free(u);
    return -ENOMEM;
  }
  nftnl_rule_set_data(c->r, NFTNL_RULE_USERDATA, nftnl_udata_buf_data(u), nftnl_udata_buf_len(u));
  nftnl_udata_buf_free(u);
  return 0;
}

/* Statements after which nft allows nothing but a comment (its STMT_F_TERMINAL): every verdict
 * but continue, reject, and NAT. Add new terminal statements here. */
static const char *const terminal[] = {"accept", "drop", "return", "jump", "goto", "reject",
                                       "masquerade", "redirect", "snat", "dnat", NULL};

int nftrule_statement(struct cc *c, int *handled) {
  int tok = c->i;
  *handled = 1;
  for (int j = 0; terminal[j]; j++)
    if (cc_is(c, tok, terminal[j])) c->terminal = tok;
  if (cc_is(c, tok, "comment")) { c->i++; return st_comment(c); }
  if (cc_is(c, tok, "accept")) { c->i++; return em_verdict(c, NF_ACCEPT, NULL); }
  if (cc_is(c, tok, "drop")) { c->i++; return em_verdict(c, NF_DROP, NULL); }
  if (cc_is(c, tok, "return")) { c->i++; return em_verdict(c, NFT_RETURN, NULL); }
  if (cc_is(c, tok, "jump") || cc_is(c, tok, "goto")) {
    char chain[256];
    int ct = ++c->i;
    if (c->t[ct].kind != TK_WORD || cc_tokstr(c, ct, chain, sizeof chain) < 0)
      return cc_fail(c, ct, -EINVAL, "expected a chain name");
    for (const char *p = chain; *p; p++)
      if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
            *p == '_' || *p == '-' || *p == '.'))
        return cc_fail(c, ct, -EINVAL, "bad chain name \"%s\"", chain);
    c->i++;
    return em_verdict(c, cc_is(c, tok, "jump") ? NFT_JUMP : NFT_GOTO, chain);
  }
  if (cc_is(c, tok, "counter")) {
    struct nftnl_expr *e = nftnl_expr_alloc("counter");
    if (e == NULL) return -ENOMEM;
    c->i++;
    if (cc_is(c, c->i, "packets")) {  /* "counter packets N bytes M", as nft lists it */
      unsigned long long p, b;
      char s1[32], s2[32];
      if (c->t[c->i + 1].kind != TK_WORD || cc_tokstr(c, c->i + 1, s1, sizeof s1) < 0 ||
          cc_number(s1, ~0ULL, &p) < 0) {
        nftnl_expr_free(e);
        return cc_fail(c, c->i + 1, -EINVAL, "bad packet count");
      }
      if (!cc_is(c, c->i + 2, "bytes") || c->t[c->i + 3].kind != TK_WORD ||
          cc_tokstr(c, c->i + 3, s2, sizeof s2) < 0 || cc_number(s2, ~0ULL, &b) < 0) {
        nftnl_expr_free(e);
        return cc_fail(c, c->i + 2, -EINVAL, "expected \"bytes N\"");
      }
      nftnl_expr_set_u64(e, NFTNL_EXPR_CTR_PACKETS, p);
      nftnl_expr_set_u64(e, NFTNL_EXPR_CTR_BYTES, b);
      c->i += 4;
    } else if (cc_is(c, c->i, "name")) {
      nftnl_expr_free(e);
      return cc_fail(c, c->i, -EOPNOTSUPP, "named counters are not supported by cnet");
    }
    return em_add(c, e);
  }
  if (cc_is(c, tok, "log")) { c->i++; return st_log(c); }
  if (cc_is(c, tok, "limit")) { c->i++; return st_limit(c); }
  if (cc_is(c, tok, "reject")) { c->i++; return st_reject(c, tok); }
  if (cc_is(c, tok, "masquerade")) { c->i++; return st_masq_redir(c, 0); }
  if (cc_is(c, tok, "redirect")) { c->i++; return st_masq_redir(c, 1); }
  if (cc_is(c, tok, "snat") || cc_is(c, tok, "dnat")) {
    c->i++;
    return st_nat(c, cc_is(c, tok, "dnat"));
  }
  if ((cc_is(c, tok, "meta") && cc_is(c, tok + 1, "mark") && cc_is(c, tok + 2, "set")) ||
      (cc_is(c, tok, "mark") && cc_is(c, tok + 1, "set"))) {
    c->i += cc_is(c, tok, "meta") ? 3 : 2;
    return st_mark_set(c);
  }
  *handled = 0;
  return 0;
}
