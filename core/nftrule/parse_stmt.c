/* The statement parser: what a rule does (verdicts, counter, log, limit, quota, reject, NAT,
 * setting meta/ct/header fields, verdict maps, sets from the packet path, named objects) and
 * matches, in nft's grammar. Values are checked by eval.c, which knows their types. */
#include "nftrule/nr_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_log.h>
#include <linux/netfilter/nf_nat.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nf_synproxy.h>

#define T(c) ((c)->t[(c)->i])
#define KIND(c) (T(c).kind)

static int number(struct nr_cc *c, const char *what, unsigned long long max,
                  unsigned long long *out) {
  char s[48];
  if (KIND(c) != TK_WORD || nr_tokstr(c, c->i, s, sizeof s) < 0 || nr_number(s, max, out) < 0)
    return nr_fail(c, c->i, -EINVAL, "expected %s", what);
  c->i++;
  return 0;
}

/* "10/second", or "1 mbytes/second" when bytes != NULL. Returns 0 or -EINVAL. */
static int time_unit(const char *s, uint64_t *secs) {
  static const struct { const char *n; uint64_t s; } u[] = {
    {"second", 1}, {"minute", 60}, {"hour", 3600}, {"day", 86400}, {"week", 604800}};
  for (size_t j = 0; j < sizeof u / sizeof u[0]; j++)
    if (strcmp(s, u[j].n) == 0) { *secs = u[j].s; return 0; }
  return -1;
}

static int byte_unit(const char *s, uint64_t *mult) {
  if (strcmp(s, "bytes") == 0) *mult = 1;
  else if (strcmp(s, "kbytes") == 0) *mult = 1024;
  else if (strcmp(s, "mbytes") == 0) *mult = 1024 * 1024;
  else return -1;
  return 0;
}

/* ---- stateful statements ---- */

static int st_counter(struct nr_cc *c, int tok) {
  struct nr_stmt *s = nr_stmt_new(c, S_COUNTER, tok);
  unsigned long long v;
  int rc;
  if (s == NULL) return -ENOMEM;
  if (nr_is(c, c->i, "packets")) {
    c->i++;
    if ((rc = number(c, "a packet count", ~0ULL, &v)) < 0) return rc;
    s->u.ctr.packets = v;
    if (!nr_is(c, c->i, "bytes")) return nr_fail(c, c->i, -EINVAL, "expected \"bytes N\"");
    c->i++;
    if ((rc = number(c, "a byte count", ~0ULL, &v)) < 0) return rc;
    s->u.ctr.bytes = v;
  } else if (nr_is(c, c->i, "bytes")) {
    c->i++;
    if ((rc = number(c, "a byte count", ~0ULL, &v)) < 0) return rc;
    s->u.ctr.bytes = v;
  }
  nr_stmt_add(c, s);
  return 0;
}

static const struct { const char *name; uint32_t level; } log_levels[] = {
  {"emerg", 0}, {"alert", 1}, {"crit", 2}, {"err", 3}, {"warn", 4}, {"notice", 5},
  {"info", 6}, {"debug", 7}, {"audit", 8}};

static int st_log(struct nr_cc *c, int tok) {
  struct nr_stmt *s = nr_stmt_new(c, S_LOG, tok);
  unsigned long long v;
  int rc;
  char b[80];
  if (s == NULL) return -ENOMEM;
  for (;;) {
    int at = c->i;
    if (nr_is(c, at, "prefix")) {
      c->i++;
      if (KIND(c) != TK_STRING && KIND(c) != TK_WORD)
        return nr_fail(c, c->i, -EINVAL, "expected a prefix string after log prefix");
      const char *p = nr_tokdup(c, c->i);
      if (p == NULL) return -ENOMEM;
      if (strlen(p) >= NF_LOG_PREFIXLEN)
        return nr_fail(c, c->i, -EINVAL, "log prefix longer than %d characters",
                       NF_LOG_PREFIXLEN - 1);
      if (strchr(p, '$')) return nr_unsupported(c, c->i, "a variable in the log prefix");
      s->u.log.prefix = p;
      s->u.log.set |= LF_PREFIX;
      c->i++;
    } else if (nr_is(c, at, "level")) {
      c->i++;
      size_t j;
      for (j = 0; j < sizeof log_levels / sizeof log_levels[0]; j++)
        if (nr_is(c, c->i, log_levels[j].name)) break;
      if (j == sizeof log_levels / sizeof log_levels[0])
        return nr_fail(c, c->i, -EINVAL, "bad log level %s (emerg, alert, crit, err, warn, "
                       "notice, info, debug, audit)", nr_tokq(c, c->i, b, sizeof b));
      s->u.log.level = log_levels[j].level;
      s->u.log.set |= LF_LEVEL;
      c->i++;
    } else if (nr_is(c, at, "group")) {
      c->i++;
      if ((rc = number(c, "a log group", 0xffffffffULL, &v)) < 0) return rc;
      s->u.log.group = (uint16_t)v;
      s->u.log.set |= LF_GROUP;
    } else if (nr_is(c, at, "snaplen")) {
      c->i++;
      if ((rc = number(c, "a snap length", 0xffffffffULL, &v)) < 0) return rc;
      s->u.log.snaplen = (uint32_t)v;
      s->u.log.set |= LF_SNAPLEN;
    } else if (nr_is(c, at, "queue-threshold")) {
      c->i++;
      if ((rc = number(c, "a queue threshold", 0xffffffffULL, &v)) < 0) return rc;
      s->u.log.qthresh = (uint16_t)v;
      s->u.log.set |= LF_QTHRESH;
    } else if (nr_is(c, at, "flags")) {
      c->i++;
      uint32_t f = 0;
      if (nr_is(c, c->i, "tcp")) {
        c->i++;
        for (;;) {
          if (nr_is(c, c->i, "sequence")) f |= NF_LOG_TCPSEQ;
          else if (nr_is(c, c->i, "options")) f |= NF_LOG_TCPOPT;
          else return nr_fail(c, c->i, -EINVAL, "expected sequence or options after log flags tcp");
          c->i++;
          if (KIND(c) != TK_COMMA) break;
          c->i++;
        }
      } else if (nr_is(c, c->i, "ip")) {
        c->i++;
        if (!nr_is(c, c->i, "options")) return nr_fail(c, c->i, -EINVAL, "expected options");
        c->i++;
        f = NF_LOG_IPOPT;
      } else if (nr_is(c, c->i, "skuid")) { c->i++; f = NF_LOG_UID; }
      else if (nr_is(c, c->i, "ether")) { c->i++; f = NF_LOG_MACDECODE; }
      else if (nr_is(c, c->i, "all")) { c->i++; f = NF_LOG_MASK; }
      else return nr_fail(c, c->i, -EINVAL, "bad log flags %s (tcp sequence, tcp options, ip "
                          "options, skuid, ether, all)", nr_tokq(c, c->i, b, sizeof b));
      s->u.log.flags |= f;
      s->u.log.set |= LF_FLAGS;
    } else {
      break;
    }
  }
  uint32_t set = s->u.log.set;
  if ((set & LF_GROUP) && (set & (LF_LEVEL | LF_FLAGS)))
    return nr_fail(c, tok, -EINVAL, "log group does not take a level or flags");
  if ((set & LF_LEVEL) && s->u.log.level == 8 && (set & (LF_PREFIX | LF_FLAGS)))
    return nr_fail(c, tok, -EINVAL, "log level audit takes no prefix or flags");
  nr_stmt_add(c, s);
  return 0;
}

static int st_limit(struct nr_cc *c, int tok) {
  char s1[64], *slash;
  unsigned long long n, burst;
  uint64_t unit, mult;
  int rc;
  struct nr_stmt *s = nr_stmt_new(c, S_LIMIT, tok);
  if (s == NULL) return -ENOMEM;
  if (!nr_is(c, c->i, "rate")) return nr_fail(c, c->i, -EINVAL, "expected rate after limit");
  c->i++;
  if (nr_is(c, c->i, "over")) { s->u.lim.flags = NFT_LIMIT_F_INV; c->i++; }
  else if (nr_is(c, c->i, "until")) c->i++;
  int rtok = c->i;
  if (KIND(c) != TK_WORD || nr_tokstr(c, c->i, s1, sizeof s1) < 0)
    return nr_fail(c, c->i, -EINVAL, "expected a rate such as 10/second");
  if ((slash = strchr(s1, '/')) != NULL) {  /* packets: N/unit */
    *slash = 0;
    if (nr_number(s1, 0xffffffffffffffffULL, &n) < 0 || time_unit(slash + 1, &unit) < 0)
      return nr_fail(c, rtok, -EINVAL, "bad rate \"%s/%s\" (N/second, minute, hour, day, week)",
                     s1, slash + 1);
    c->i++;
    s->u.lim.type = NFT_LIMIT_PKTS;
    s->u.lim.burst = 5;  /* nft's default, not listed */
    if (nr_is(c, c->i, "burst")) {
      c->i++;
      if ((rc = number(c, "a burst", 0xffffffffULL, &burst)) < 0) return rc;
      if (!nr_is(c, c->i, "packets"))
        return nr_fail(c, c->i, -EINVAL, "expected \"packets\" after the burst");
      c->i++;
      if (burst == 0) return nr_fail(c, c->i - 2, -EINVAL, "a packet burst must not be 0");
      s->u.lim.burst = (uint32_t)burst;
    }
  } else {  /* bytes: N UNIT/time */
    if (nr_number(s1, 0xffffffffffffffffULL, &n) < 0)
      return nr_fail(c, rtok, -EINVAL, "bad rate \"%s\"", s1);
    c->i++;
    char s2[64];
    if (KIND(c) != TK_WORD || nr_tokstr(c, c->i, s2, sizeof s2) < 0 ||
        (slash = strchr(s2, '/')) == NULL)
      return nr_fail(c, c->i, -EINVAL, "expected a rate unit such as mbytes/second");
    *slash = 0;
    if (byte_unit(s2, &mult) < 0 || time_unit(slash + 1, &unit) < 0)
      return nr_fail(c, c->i, -EINVAL, "bad rate unit \"%s/%s\"", s2, slash + 1);
    c->i++;
    n *= mult;
    s->u.lim.type = NFT_LIMIT_PKT_BYTES;
    if (nr_is(c, c->i, "burst")) {
      c->i++;
      if ((rc = number(c, "a burst", 0xffffffffULL, &burst)) < 0) return rc;
      char s3[32];
      if (KIND(c) != TK_WORD || nr_tokstr(c, c->i, s3, sizeof s3) < 0 || byte_unit(s3, &mult) < 0)
        return nr_fail(c, c->i, -EINVAL, "expected bytes, kbytes or mbytes after the burst");
      c->i++;
      s->u.lim.burst = (uint32_t)(burst * mult);
    }
  }
  if (n == 0) return nr_fail(c, rtok, -EINVAL, "a rate must not be 0");
  s->u.lim.rate = n;
  s->u.lim.unit = unit;
  nr_stmt_add(c, s);
  return 0;
}

static int st_quota(struct nr_cc *c, int tok) {
  unsigned long long n;
  uint64_t mult;
  char u[32];
  int rc;
  struct nr_stmt *s = nr_stmt_new(c, S_QUOTA, tok);
  if (s == NULL) return -ENOMEM;
  if (nr_is(c, c->i, "over")) { s->u.quota.flags = NFT_QUOTA_F_INV; c->i++; }
  else if (nr_is(c, c->i, "until")) c->i++;
  if ((rc = number(c, "a byte count", ~0ULL, &n)) < 0) return rc;
  if (KIND(c) != TK_WORD || nr_tokstr(c, c->i, u, sizeof u) < 0 || byte_unit(u, &mult) < 0)
    return nr_fail(c, c->i, -EINVAL, "expected bytes, kbytes or mbytes");
  c->i++;
  s->u.quota.bytes = n * mult;
  if (nr_is(c, c->i, "used")) {
    c->i++;
    if ((rc = number(c, "a byte count", ~0ULL, &n)) < 0) return rc;
    if (KIND(c) != TK_WORD || nr_tokstr(c, c->i, u, sizeof u) < 0 || byte_unit(u, &mult) < 0)
      return nr_fail(c, c->i, -EINVAL, "expected bytes, kbytes or mbytes");
    c->i++;
    s->u.quota.used = n * mult;
  }
  nr_stmt_add(c, s);
  return 0;
}

/* counter/quota/limit/synproxy name X, ct helper/timeout/expectation set X */
static int st_objref(struct nr_cc *c, int tok, uint32_t type) {
  struct nr_stmt *s = nr_stmt_new(c, S_OBJREF, tok);
  if (s == NULL) return -ENOMEM;
  s->u.obj.type = type;
  int start = c->i;
  if (KIND(c) == TK_STRING || (KIND(c) == TK_WORD && c->t[c->i + 1].kind != TK_WORD) ||
      (KIND(c) == TK_WORD && !nr_parse_primary(c, &s->u.obj.map, 0) == 0)) {
    c->i = start;
    if (KIND(c) != TK_STRING && KIND(c) != TK_WORD)
      return nr_fail(c, c->i, -EINVAL, "expected an object name");
    s->u.obj.name = nr_tokdup(c, c->i);
    s->u.obj.map = NULL;
    c->i++;
  } else {
    /* the object chosen by a map lookup: counter name ip saddr map { 10.0.0.1 : "c1" } */
    int rc;
    c->i = start;
    if ((rc = nr_parse_stmt_arg(c, &s->u.obj.map)) < 0) return rc;
    if (s->u.obj.map->kind != X_MAP)
      return nr_fail(c, start, -EINVAL, "expected an object name or a map lookup");
  }
  nr_stmt_add(c, s);
  return 0;
}

static int st_reject(struct nr_cc *c, int tok) {
  char b[80];
  struct nr_stmt *s = nr_stmt_new(c, S_REJECT, tok);
  if (s == NULL) return -ENOMEM;
  s->u.rej.code = -1;
  s->u.rej.type = 255;  /* the family's default: eval.c */
  if (nr_is(c, c->i, "with")) {
    c->i++;
    if (nr_is(c, c->i, "tcp")) {
      c->i++;
      if (!nr_is(c, c->i, "reset")) return nr_fail(c, c->i, -EINVAL, "expected reset after with tcp");
      c->i++;
      s->u.rej.type = NFT_REJECT_TCP_RST;
    } else if (nr_is(c, c->i, "icmp") || nr_is(c, c->i, "icmpv6") || nr_is(c, c->i, "icmpx")) {
      int which = nr_is(c, c->i, "icmp") ? 4 : nr_is(c, c->i, "icmpv6") ? 6 : 0;
      c->i++;
      if (nr_is(c, c->i, "type")) c->i++;
      const struct nr_type *t = nr_type_get(which == 4 ? T_ICMP_CODE : which == 6 ? T_ICMPV6_CODE
                                                                             : T_ICMPX_CODE);
      char s1[64], why[128];
      uint8_t v[NR_VMAX];
      if (KIND(c) != TK_WORD || nr_tokstr(c, c->i, s1, sizeof s1) < 0 ||
          nr_type_parse(c, t, s1, 8, v, why, sizeof why) < 0)
        return nr_fail(c, c->i, -EINVAL, "bad %s code %s", t->name + 0, nr_tokq(c, c->i, b, sizeof b));
      c->i++;
      s->u.rej.code = v[0];
      s->u.rej.family = (uint8_t)which;
      s->u.rej.type = which ? NFT_REJECT_ICMP_UNREACH : NFT_REJECT_ICMPX_UNREACH;
    } else {
      return nr_fail(c, c->i, -EINVAL, "expected icmp, icmpv6, icmpx or tcp reset after reject with");
    }
  }
  nr_stmt_add(c, s);
  return 0;
}

/* ---- NAT ---- */

static int nat_flags(struct nr_cc *c, struct nr_stmt *s) {
  for (;;) {
    if (nr_is(c, c->i, "random")) s->u.nat.flags |= NF_NAT_RANGE_PROTO_RANDOM;
    else if (nr_is(c, c->i, "fully-random")) s->u.nat.flags |= NF_NAT_RANGE_PROTO_RANDOM_FULLY;
    else if (nr_is(c, c->i, "persistent")) s->u.nat.flags |= NF_NAT_RANGE_PERSISTENT;
    else return 0;
    c->i++;
    if (KIND(c) != TK_COMMA) return 0;
    c->i++;
  }
}

/* A word "ADDR", "ADDR:PORT", "[ADDR6]:PORT", ":PORT", "ADDR-ADDR:P-Q" split into symbols;
 * addr/port stay NULL when absent. */
static int nat_word(struct nr_cc *c, int tok, int v6, struct nr_expr **addr,
                    struct nr_expr **port) {
  const char *w = nr_tokdup(c, tok);
  if (w == NULL) return -ENOMEM;
  char *s = (char *)w, *p = NULL;
  if (s[0] == '[') {
    char *close = strchr(s, ']');
    if (close == NULL) return nr_fail(c, tok, -EINVAL, "missing \"]\" in \"%s\"", w);
    *close = 0;
    s++;
    if (close[1] == ':') p = close + 2;
    else if (close[1] != 0) return nr_fail(c, tok, -EINVAL, "bad address \"%s\"", w);
  } else if (s[0] == ':' && !(v6 && s[1] == ':')) {  /* ":PORT", not the address "::1" */
    p = s + 1;
    s = NULL;
  } else if (!v6 && strchr(s, ':')) {  /* IPv4 (or an unknown family): ADDR:PORT */
    if (strchr(s, ':') != strrchr(s, ':'))
      return nr_fail(c, tok, -EINVAL, "an IPv6 address with a port needs brackets: [ADDR]:PORT");
    p = strchr(s, ':');
    *p++ = 0;
  }
  if (s) {
    if ((*addr = nr_expr_new(c, X_SYMBOL, tok)) == NULL) return -ENOMEM;
    (*addr)->str = s;
    (*addr)->flags = XF_CONST;
  }
  if (p) {
    if (*p == 0) return nr_fail(c, tok, -EINVAL, "missing port after \":\"");
    if ((*port = nr_expr_new(c, X_SYMBOL, tok)) == NULL) return -ENOMEM;
    (*port)->str = p;
    (*port)->flags = XF_CONST;
  }
  return 0;
}

/* Is the token the start of an expression (a map lookup), not a literal address? */
static int starts_expr(struct nr_cc *c, int tok) {
  int save = c->i;
  struct nr_expr *e = NULL;
  struct cnet_nftrule_err *err = c->err;
  c->i = tok;
  c->err = NULL;
  int rc = nr_parse_primary(c, &e, 0);
  c->err = err;
  c->i = save;
  return rc == 0 && e != NULL;
}

/* A statement argument that may be a map: EXPR [map SET] */
static int stmt_arg(struct nr_cc *c, struct nr_expr **out) {
  int rc, tok = c->i;
  if ((rc = nr_parse_expr(c, out)) < 0) return rc;
  if (nr_is(c, c->i, "map")) {
    c->i++;
    struct nr_expr *m = nr_expr_new(c, X_MAP, tok), *set;
    if (m == NULL) return -ENOMEM;
    if (KIND(c) == TK_LBRACE) rc = nr_parse_set_body(c, &set, 2);
    else if (KIND(c) == TK_WORD && c->text[T(c).pos] == '@') rc = nr_parse_rhs(c, &set, 0);
    else return nr_fail(c, c->i, -EINVAL, "expected a map after \"map\"");
    if (rc < 0) return rc;
    m->l = *out;
    m->r = set;
    *out = m;
  }
  return 0;
}

static int st_nat(struct nr_cc *c, int tok, uint32_t type) {
  int rc;
  struct nr_stmt *s = nr_stmt_new(c, S_NAT, tok);
  if (s == NULL) return -ENOMEM;
  s->u.nat.type = type;
  int is_snat_dnat = type == NFT_NAT_SNAT || type == NFT_NAT_DNAT;
  if (is_snat_dnat) {
    if (nr_is(c, c->i, "ip")) { s->u.nat.family = NFPROTO_IPV4; c->i++; }
    else if (nr_is(c, c->i, "ip6")) { s->u.nat.family = NFPROTO_IPV6; c->i++; }
    if (nr_is(c, c->i, "addr") && nr_is(c, c->i + 1, ".") && nr_is(c, c->i + 2, "port")) {
      c->i += 3;
      s->u.nat.tflags |= 1;  /* the map gives address . port */
    }
    if (nr_is(c, c->i, "to")) c->i++;
    else if (s->u.nat.tflags) return nr_fail(c, c->i, -EINVAL, "expected \"to\"");
  } else if (nr_is(c, c->i, "to")) {
    c->i++;
  } else {
    if ((rc = nat_flags(c, s)) < 0) return rc;
    nr_stmt_add(c, s);
    return 0;
  }
  int atok = c->i;
  if (KIND(c) == TK_END) return nr_fail(c, c->i, -EINVAL, "expected an address");
  if (KIND(c) == TK_WORD && c->text[T(c).pos] == ':' && T(c).len > 1 && !is_snat_dnat &&
      c->text[T(c).pos + 1] != ':') {
    /* ":PORT", or ":EXPR" (redirect to :tcp dport map {...}) */
    const char *w = c->text + T(c).pos + 1;
    if ((w[0] >= 'a' && w[0] <= 'z') && T(c).len > 1) {
      /* an expression written right after the colon */
      return nr_unsupported(c, atok, "a port chosen by an expression");
    }
  }
  if (KIND(c) == TK_WORD && starts_expr(c, c->i)) {
    if ((rc = stmt_arg(c, &s->key)) < 0) return rc;
    if (nr_is(c, c->i, ":"))
      return nr_unsupported(c, c->i, "a port after an address map");
  } else if (KIND(c) == TK_WORD) {
    struct nr_expr *addr = NULL, *port = NULL;
    if ((rc = nat_word(c, atok, s->u.nat.family == NFPROTO_IPV6 ||
                                    (s->u.nat.family == 0 && c->family == NFPROTO_IPV6),
                       &addr, &port)) < 0)
      return rc;
    c->i++;
    if (addr && nr_is(c, c->i, "-") && c->t[c->i + 1].kind == TK_WORD) {
      /* "ADDR - ADDR[:PORT]" */
      struct nr_expr *hi = NULL;
      c->i++;
      if ((rc = nat_word(c, c->i, s->u.nat.family == NFPROTO_IPV6, &hi, &port)) < 0) return rc;
      c->i++;
      struct nr_expr *r = nr_expr_new(c, X_RANGE, atok);
      if (r == NULL) return -ENOMEM;
      r->l = addr;
      r->r = hi;
      r->flags = XF_CONST;
      addr = r;
    }
    if (port == NULL && nr_is(c, c->i, ":") && c->t[c->i + 1].kind == TK_WORD) {
      /* "ADDR : PORT" written with spaces */
      c->i++;
      if ((port = nr_expr_new(c, X_SYMBOL, c->i)) == NULL) return -ENOMEM;
      port->str = nr_tokdup(c, c->i);
      port->flags = XF_CONST;
      c->i++;
    }
    if (!is_snat_dnat && addr) {
      /* redirect/masquerade take only ":PORT" (nft also reads a bare port for redirect) */
      if (type == NAT_REDIR && port == NULL) { port = addr; addr = NULL; }
      else return nr_fail(c, atok, -EINVAL, "expected \":PORT\"");
    }
    s->key = addr;
    s->e2 = port;
  } else {
    return nr_fail(c, c->i, -EINVAL, "expected an address");
  }
  if ((rc = nat_flags(c, s)) < 0) return rc;
  nr_stmt_add(c, s);
  return 0;
}

static int st_synproxy(struct nr_cc *c, int tok) {
  unsigned long long v;
  int rc;
  struct nr_stmt *s = nr_stmt_new(c, S_SYNPROXY, tok);
  if (s == NULL) return -ENOMEM;
  for (;;) {
    if (nr_is(c, c->i, "mss")) {
      c->i++;
      if ((rc = number(c, "an mss", 0xffffffffULL, &v)) < 0) return rc;  /* nft keeps 16 bits */
      s->u.syn.mss = (uint16_t)v;
      s->u.syn.flags |= NF_SYNPROXY_OPT_MSS;
    } else if (nr_is(c, c->i, "wscale")) {
      c->i++;
      if ((rc = number(c, "a window scale", 0xffffffffULL, &v)) < 0) return rc;
      s->u.syn.wscale = (uint8_t)v;
      s->u.syn.flags |= NF_SYNPROXY_OPT_WSCALE;
    } else if (nr_is(c, c->i, "timestamp")) {
      c->i++;
      s->u.syn.flags |= NF_SYNPROXY_OPT_TIMESTAMP;
    } else if (nr_is(c, c->i, "sack-perm")) {
      c->i++;
      s->u.syn.flags |= NF_SYNPROXY_OPT_SACK_PERM;
    } else {
      break;
    }
  }
  nr_stmt_add(c, s);
  return 0;
}

/* add|update|delete @set { key [timeout T] [stateful...] [: data] } */
static int dyn_body(struct nr_cc *c, struct nr_stmt *s);

static int st_dynset(struct nr_cc *c, int tok, uint32_t op) {
  int rc;
  struct nr_stmt *s = nr_stmt_new(c, S_DYNSET, tok);
  if (s == NULL) return -ENOMEM;
  s->u.dyn.op = op;
  if (KIND(c) != TK_WORD || c->text[T(c).pos] != '@' || T(c).len < 2)
    return nr_fail(c, c->i, -EINVAL, "expected @set");
  int stok = c->i;
  const char *name = nr_strdup(&c->arena, c->text + T(c).pos + 1, T(c).len - 1);
  if (name == NULL) return -ENOMEM;
  c->i++;
  if ((rc = dyn_body(c, s)) < 0) return rc;
  if ((rc = nr_set_named(c, stok, name, &s->u.dyn.set)) < 0) return rc;
  nr_stmt_add(c, s);
  return 0;
}

/* meter NAME [size N] { KEY [timeout T] STATEFUL }: nft's older form of "update @set", on a
 * set of its own the rule makes */
static int st_meter(struct nr_cc *c, int tok) {
  int rc;
  unsigned long long size = 0;
  struct nr_stmt *s = nr_stmt_new(c, S_DYNSET, tok);
  if (s == NULL) return -ENOMEM;
  if (KIND(c) != TK_WORD && KIND(c) != TK_STRING)
    return nr_fail(c, c->i, -EINVAL, "expected a meter name");
  if ((s->str_set = nr_tokdup(c, c->i)) == NULL) return -ENOMEM;
  if (strlen(s->str_set) >= 256) return nr_fail(c, c->i, -EINVAL, "meter name too long");
  c->i++;
  if (nr_is(c, c->i, "size")) {
    c->i++;
    if ((rc = number(c, "a size", 0xffffffffULL, &size)) < 0) return rc;
  }
  if ((rc = dyn_body(c, s)) < 0) return rc;
  if (s->sub == NULL) return nr_fail(c, tok, -EINVAL, "meter statement must be stateful");
  if (s->sub->next) return nr_fail(c, s->sub->next->tok, -EINVAL, "a meter takes one statement");
  if (s->e) return nr_fail(c, s->e->tok, -EINVAL, "a meter is a set, not a map");
  s->u.dyn.meter = 1;
  s->u.dyn.size = (uint32_t)size;
  s->u.dyn.op = s->u.dyn.timeout ? NFT_DYNSET_OP_UPDATE : NFT_DYNSET_OP_ADD;
  nr_stmt_add(c, s);
  return 0;
}

int nr_parse_stateful(struct nr_cc *c, struct nr_stmt **out) {
  int at = c->i, rc;
  struct nr_stmt *save_last = c->last, *save_first = c->first;
  if (nr_is(c, at, "counter")) { c->i++; rc = st_counter(c, at); }
  else if (nr_is(c, at, "limit")) { c->i++; rc = st_limit(c, at); }
  else if (nr_is(c, at, "quota")) { c->i++; rc = st_quota(c, at); }
  else return 0;
  if (rc < 0) return rc;
  /* st_* appended it to the rule: take it off */
  *out = c->last;
  c->last = save_last;
  c->first = save_first;
  if (save_last) save_last->next = NULL;
  return 1;
}

/* "{ KEY [timeout T] [stateful...] [: DATA] }" of add/update/delete @set and meter */
static int dyn_body(struct nr_cc *c, struct nr_stmt *s) {
  int rc;
  if (KIND(c) != TK_LBRACE) return nr_fail(c, c->i, -EINVAL, "expected \"{\" after the set name");
  c->i++;
  if ((rc = nr_parse_expr(c, &s->key)) < 0) return rc;
  if (nr_is(c, c->i, "timeout")) {
    c->i++;
    char w[64], why[128];
    uint8_t v[NR_VMAX];
    if (KIND(c) != TK_WORD || nr_tokstr(c, c->i, w, sizeof w) < 0 ||
        nr_type_parse(c, nr_type_get(T_TIME), w, 64, v, why, sizeof why) < 0)
      return nr_fail(c, c->i, -EINVAL, "bad timeout");
    s->u.dyn.timeout = nr_be_get(v, 8);
    c->i++;
  }
  /* stateful statements kept with the element */
  struct nr_stmt **tail = &s->sub;
  for (;;) {
    int at = c->i;
    if (nr_is(c, at, "ct") && nr_is(c, at + 1, "count")) {
      return nr_unsupported(c, at, "ct count in a set element");
    } else if (nr_is(c, at, "comment") || nr_is(c, at, "expires") || nr_is(c, at, "last")) {
      return nr_unsupported(c, at, "element %.*s", (int)T(c).len, c->text + T(c).pos);
    }
    if ((rc = nr_parse_stateful(c, tail)) < 0) return rc;
    if (rc == 0) break;
    tail = &(*tail)->next;
  }
  if (nr_is(c, c->i, ":")) {
    c->i++;
    if ((rc = nr_parse_expr(c, &s->e)) < 0) return rc;
  }
  if (KIND(c) != TK_RBRACE) return nr_fail(c, c->i, -EINVAL, "expected \"}\"");
  c->i++;
  return 0;
}

/* comment "TEXT": kept in the rule's user data, as nft does; only last in the rule */
static int st_comment(struct nr_cc *c, int tok) {
  if (c->first == NULL) return nr_fail(c, tok, -EINVAL, "a rule cannot be only a comment");
  if (KIND(c) != TK_STRING && KIND(c) != TK_WORD)
    return nr_fail(c, c->i, -EINVAL, "expected a quoted comment");
  const char *s = nr_tokdup(c, c->i);
  if (s == NULL) return -ENOMEM;
  if (strlen(s) > 128) return nr_fail(c, c->i, -EINVAL, "comment longer than 128 characters");
  c->i++;
  if (KIND(c) != TK_END) return nr_fail(c, c->i, -EINVAL, "comment must come last in the rule");
  c->comment = s;
  return 0;
}

static int st_verdict(struct nr_cc *c, int tok, int verdict) {
  struct nr_stmt *s = nr_stmt_new(c, S_VERDICT, tok);
  struct nr_expr *e = nr_expr_new(c, X_VERDICT, tok);
  if (s == NULL || e == NULL) return -ENOMEM;
  e->u.vd.verdict = verdict;
  e->type = T_VERDICT;
  if (verdict == NFT_JUMP || verdict == NFT_GOTO) {
    char b[80];
    if (KIND(c) != TK_WORD)
      return nr_fail(c, c->i, -EINVAL, "expected a chain name, got %s",
                     nr_tokq(c, c->i, b, sizeof b));
    e->str = nr_tokdup(c, c->i);
    if (e->str == NULL) return -ENOMEM;
    if (strlen(e->str) >= 256) return nr_fail(c, c->i, -EINVAL, "chain name too long");
    c->i++;
  }
  s->e = e;
  nr_stmt_add(c, s);
  return 0;
}

/* Statements that start with their own keyword. *handled = 0 when the text is not one. */
int nr_parse_stmt(struct nr_cc *c, int *handled) {
  int tok = c->i;
  *handled = 1;
  if (KIND(c) != TK_WORD) { *handled = 0; return 0; }
  /* The first letters of every statement keyword below and in nr_parse_fwd_stmt: a word led
   * by another letter ("ip saddr ...") starts an expression, without ~40 comparisons. */
  if (strchr("acdfgjlmnqrstux", c->text[T(c).pos]) == NULL) { *handled = 0; return 0; }
#define IS(w) nr_is(c, tok, w)
#define NEXT(w) nr_is(c, tok + 1, w)
  if (IS("accept")) { c->i++; return st_verdict(c, tok, NF_ACCEPT); }
  if (IS("drop")) { c->i++; return st_verdict(c, tok, NF_DROP); }
  if (IS("return")) { c->i++; return st_verdict(c, tok, NFT_RETURN); }
  if (IS("continue")) { c->i++; return st_verdict(c, tok, NFT_CONTINUE); }
  if (IS("jump")) { c->i++; return st_verdict(c, tok, NFT_JUMP); }
  if (IS("goto")) { c->i++; return st_verdict(c, tok, NFT_GOTO); }
  if (IS("comment")) { c->i++; return st_comment(c, tok); }
  if (IS("counter")) {
    c->i++;
    if (nr_is(c, c->i, "name")) { c->i++; return st_objref(c, tok, NFT_OBJECT_COUNTER); }
    return st_counter(c, tok);
  }
  if (IS("log")) { c->i++; return st_log(c, tok); }
  if (IS("limit")) {
    c->i++;
    if (nr_is(c, c->i, "name")) { c->i++; return st_objref(c, tok, NFT_OBJECT_LIMIT); }
    return st_limit(c, tok);
  }
  if (IS("quota")) {
    c->i++;
    if (nr_is(c, c->i, "name")) { c->i++; return st_objref(c, tok, NFT_OBJECT_QUOTA); }
    return st_quota(c, tok);
  }
  if (IS("synproxy")) {
    c->i++;
    if (nr_is(c, c->i, "name")) { c->i++; return st_objref(c, tok, NFT_OBJECT_SYNPROXY); }
    return st_synproxy(c, tok);
  }
  if (IS("reject")) { c->i++; return st_reject(c, tok); }
  if (IS("snat")) { c->i++; return st_nat(c, tok, NFT_NAT_SNAT); }
  if (IS("dnat")) { c->i++; return st_nat(c, tok, NFT_NAT_DNAT); }
  if (IS("masquerade")) { c->i++; return st_nat(c, tok, NAT_MASQ); }
  if (IS("redirect")) { c->i++; return st_nat(c, tok, NAT_REDIR); }
  if (IS("notrack")) {
    struct nr_stmt *s = nr_stmt_new(c, S_NOTRACK, tok);
    if (s == NULL) return -ENOMEM;
    c->i++;
    nr_stmt_add(c, s);
    return 0;
  }
  if (IS("ct") && (NEXT("helper") || NEXT("timeout") || NEXT("expectation")) &&
      nr_is(c, tok + 2, "set")) {
    uint32_t type = NEXT("helper") ? NFT_OBJECT_CT_HELPER : NEXT("timeout") ? NFT_OBJECT_CT_TIMEOUT
                                                                            : NFT_OBJECT_CT_EXPECT;
    c->i += 3;
    return st_objref(c, tok, type);
  }
  if (IS("ct") && NEXT("count")) {
    unsigned long long n;
    int rc;
    struct nr_stmt *s = nr_stmt_new(c, S_CONNLIMIT, tok);
    if (s == NULL) return -ENOMEM;
    c->i += 2;
    if (nr_is(c, c->i, "over")) { s->u.cl.flags = NFT_CONNLIMIT_F_INV; c->i++; }
    if ((rc = number(c, "a connection count", 0xffffffffULL, &n)) < 0) return rc;
    s->u.cl.count = (uint32_t)n;
    nr_stmt_add(c, s);
    return 0;
  }
  if ((IS("add") || IS("update") || IS("delete")) && c->t[tok + 1].kind == TK_WORD &&
      c->text[c->t[tok + 1].pos] == '@') {
    c->i++;
    return st_dynset(c, tok, IS("add") ? NFT_DYNSET_OP_ADD : IS("update") ? NFT_DYNSET_OP_UPDATE
                                                                          : NFT_DYNSET_OP_DELETE);
  }
  if (IS("reset")) { c->i++; return nr_parse_optstrip(c, tok); }
  int rc = nr_parse_fwd_stmt(c, handled);  /* dup, fwd, tproxy, queue, flow */
  if (*handled) return rc;
  *handled = 1;
  if (IS("last"))  /* the kernel has it, nft 1.0.6 (the language cnet follows) does not */
    return nr_fail(c, tok, -EINVAL, "\"last\" is not in nft 1.0.6's rule language");
  if (IS("xt"))  /* iptables extensions: nft lists them, nobody writes them */
    return nr_fail(c, tok, -EINVAL, "xt expressions cannot be written, only listed");
  if (IS("meter")) { c->i++; return st_meter(c, tok); }
#undef IS
#undef NEXT
  *handled = 0;
  return 0;
}

/* ---- the rule ---- */

/* A statement led by an expression: EXPR set VALUE, EXPR vmap MAP, or a match. */
static int expr_stmt(struct nr_cc *c) {
  int tok = c->i, rc;
  struct nr_expr *lhs;
  char b[80];
  if ((rc = nr_parse_expr(c, &lhs)) < 0) return rc;
  if (lhs->kind == X_SYMBOL) {
    if (c->t[tok].kind == TK_WORD)
      return nr_fail(c, tok, -EINVAL, "unknown keyword %s", nr_tokq(c, tok, b, sizeof b));
    return nr_fail(c, tok, -EINVAL, "unexpected %s", nr_tokq(c, tok, b, sizeof b));
  }
  if (nr_is(c, c->i, "set")) {
    int stok = c->i++;
    int kind = lhs->kind == X_META ? S_META_SET : lhs->kind == X_CT ? S_CT_SET
             : lhs->kind == X_PAYLOAD ? S_PAYLOAD_SET : lhs->kind == X_EXTHDR ? S_EXTHDR_SET
             : -1;
    if (kind < 0) return nr_fail(c, stok, -EINVAL, "this expression cannot be set");
    struct nr_stmt *s = nr_stmt_new(c, kind, tok);
    if (s == NULL) return -ENOMEM;
    s->key = lhs;
    if (KIND(c) == TK_END) return nr_fail(c, c->i, -EINVAL, "missing value after \"set\"");
    if (KIND(c) == TK_LBRACE) return nr_fail(c, c->i, -EINVAL, "a set cannot be assigned");
    if ((rc = stmt_arg(c, &s->e)) < 0) return rc;
    if (KIND(c) == TK_COMMA && s->e->kind == X_SYMBOL) {  /* flags: new,related */
      struct nr_expr *list = nr_expr_new(c, X_LIST, s->e->tok);
      if (list == NULL) return -ENOMEM;
      list->flags = XF_CONST;
      list->v = nr_alloc(&c->arena, 32 * sizeof *list->v);
      if (list->v == NULL) return -ENOMEM;
      list->v[list->n++] = s->e;
      while (KIND(c) == TK_COMMA && list->n < 32) {
        c->i++;
        if (KIND(c) != TK_WORD) return nr_fail(c, c->i, -EINVAL, "expected a value after \",\"");
        struct nr_expr *e = nr_expr_new(c, X_SYMBOL, c->i);
        if (e == NULL) return -ENOMEM;
        e->str = nr_tokdup(c, c->i);
        e->flags = XF_CONST;
        c->i++;
        list->v[list->n++] = e;
      }
      s->e = list;
    }
    nr_stmt_add(c, s);
    return 0;
  }
  if (nr_is(c, c->i, "vmap") || nr_is(c, c->i, "map")) {
    int vmap = nr_is(c, c->i, "vmap"), mtok = c->i++;
    if (!vmap) return nr_fail(c, mtok, -EINVAL, "a map lookup alone is not a statement");
    struct nr_stmt *s = nr_stmt_new(c, S_VMAP, tok);
    struct nr_expr *m = nr_expr_new(c, X_MAP, mtok), *set;
    if (s == NULL || m == NULL) return -ENOMEM;
    if (KIND(c) == TK_LBRACE) rc = nr_parse_set_body(c, &set, 2);
    else if (KIND(c) == TK_WORD && c->text[T(c).pos] == '@') rc = nr_parse_rhs(c, &set, 0);
    else return nr_fail(c, c->i, -EINVAL, "expected a verdict map after \"vmap\"");
    if (rc < 0) return rc;
    m->op = 1;
    m->l = lhs;
    m->r = set;
    s->e = m;
    nr_stmt_add(c, s);
    return 0;
  }
  /* a match */
  int op = OP_IMPLICIT, optok = c->i;
  static const struct { const char *w; int op; } ops[] = {
    {"==", OP_EQ}, {"eq", OP_EQ}, {"!=", OP_NEQ}, {"ne", OP_NEQ}, {"<", OP_LT}, {"lt", OP_LT},
    {">", OP_GT}, {"gt", OP_GT}, {"<=", OP_LTE}, {"le", OP_LTE}, {">=", OP_GTE},
    {"ge", OP_GTE}, {"!", OP_NEG}};
  for (size_t j = 0; j < sizeof ops / sizeof ops[0]; j++)
    if (nr_is(c, c->i, ops[j].w)) { op = ops[j].op; c->i++; break; }
  if (KIND(c) == TK_END)
    return nr_fail(c, c->i, -EINVAL, "missing value to compare with");
  struct nr_expr *rhs;
  if ((rc = nr_parse_rhs(c, &rhs, 1)) < 0) return rc;
  if (nr_is(c, c->i, "/")) {
    /* flags / mask: (lhs & mask) == flags */
    int mtok = c->i++;
    struct nr_expr *mask;
    if ((rc = nr_parse_rhs(c, &mask, 1)) < 0) return rc;
    struct nr_expr *and = nr_expr_new(c, X_BINOP, mtok);
    if (and == NULL) return -ENOMEM;
    and->op = OP_AND;
    and->l = lhs;
    and->r = mask;
    lhs = and;
    if (op == OP_IMPLICIT) op = OP_EQ;
  }
  struct nr_stmt *s = nr_stmt_new(c, S_MATCH, tok);
  struct nr_expr *rel = nr_expr_new(c, X_BINOP, optok);
  if (s == NULL || rel == NULL) return -ENOMEM;
  rel->op = (uint8_t)op;
  rel->l = lhs;
  rel->r = rhs;
  s->e = rel;
  nr_stmt_add(c, s);
  return 0;
}

int nr_parse_rule(struct nr_cc *c) {
  int rc;
  char b[80];
  for (int i = 0; i < c->nt; i++)  /* the lexer's one error comes first */
    if (c->t[i].kind == TK_BAD) return nr_fail(c, i, -EINVAL, "unterminated string");
  while (KIND(c) != TK_END) {
    if (KIND(c) != TK_WORD && KIND(c) != TK_LPAREN)
      return nr_fail(c, c->i, -EINVAL, "unexpected %s", nr_tokq(c, c->i, b, sizeof b));
    int handled;
    if ((rc = nr_parse_stmt(c, &handled)) < 0) return rc;
    if (handled) continue;
    if ((rc = expr_stmt(c)) < 0) return rc;
  }
  if (c->first == NULL) return nr_fail(c, -1, -EINVAL, "empty rule");
  return c->oom ? -ENOMEM : 0;
}

/* for parse_fwd.c: the NAT statement's ways of reading a destination */
int nr_starts_expr(struct nr_cc *c, int tok) { return starts_expr(c, tok); }
int nr_parse_stmt_arg(struct nr_cc *c, struct nr_expr **out) { return stmt_arg(c, out); }
int nr_parse_nat_word(struct nr_cc *c, int tok, int v6, struct nr_expr **addr,
                      struct nr_expr **port) {
  return nat_word(c, tok, v6, addr, port);
}
