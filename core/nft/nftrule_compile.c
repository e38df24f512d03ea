/* The rule compiler: nft rule text -> libnftnl expressions, the way nft generates them. */
#define _GNU_SOURCE
#include "nft/nftrule_int.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <libnftnl/expr.h>
#include <libnftnl/rule.h>

/* Bytes of the rule, and of one token, a message quotes: a message about a long rule stays
 * short whole, the column and the reason included (the bindings cut longer ones). */
enum { RULE_QUOTE = 48, TOKEN_QUOTE = 40 };

int cc_fail(struct cc *c, int tok, int rc, const char *fmt, ...) {
  if (c->err == NULL) return rc;
  char what[256], rule[RULE_QUOTE + 48];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(what, sizeof what, fmt, ap);
  va_end(ap);
  size_t n = strlen(c->text);
  if (n > RULE_QUOTE)
    snprintf(rule, sizeof rule, "rule \"%.*s...\" (%zu bytes)", RULE_QUOTE, c->text, n);
  else
    snprintf(rule, sizeof rule, "rule \"%s\"", c->text);
  c->err->column = tok >= 0 && tok < c->nt ? (int)c->t[tok].pos + 1 : 0;
  if (c->err->column > 0)
    snprintf(c->err->msg, sizeof c->err->msg, "%s: column %d: %s", rule, c->err->column, what);
  else
    snprintf(c->err->msg, sizeof c->err->msg, "%s: %s", rule, what);
  return rc;
}

int cc_tokstr(const struct cc *c, int tok, char *buf, size_t size) {
  const struct tok *k = &c->t[tok];
  const char *p = c->text + k->pos;
  size_t n = k->len;
  if (k->kind == TK_STRING) { p++; n -= 2; }
  if (n + 1 > size) return -1;
  memcpy(buf, p, n);
  buf[n] = 0;
  return 0;
}

int cc_is(const struct cc *c, int tok, const char *word) {
  const struct tok *k = &c->t[tok];
  return k->kind == TK_WORD && k->len == strlen(word) &&
         memcmp(c->text + k->pos, word, k->len) == 0;
}

/* Quoted text of a token, for messages. */
static const char *tq(const struct cc *c, int tok, char *buf, size_t size) {
  const struct tok *k = &c->t[tok];
  if (k->kind == TK_END) return "end of rule";
  if (k->len > TOKEN_QUOTE)
    snprintf(buf, size, "\"%.*s...\"", TOKEN_QUOTE, c->text + k->pos);
  else
    snprintf(buf, size, "\"%.*s\"", (int)k->len, c->text + k->pos);
  return buf;
}

/* ---- dependencies: what nft adds so a header field is read from the right protocol ---- */

static int need_l3(struct cc *c, int tok, uint32_t l3, int l4) {
  if (l3 == 0) return 0;
  if (l4 == 1 && c->family == NFPROTO_IPV6) return 0;  /* nft allows icmp in ip6 tables */
  const char *name = l3 == L3_IP4 ? "ip" : "ip6";
  switch (c->family) {
  case NFPROTO_IPV4:
  case NFPROTO_IPV6:
    if ((c->family == NFPROTO_IPV4) != (l3 == L3_IP4))
      return cc_fail(c, tok, -EINVAL, "conflicting protocols: %s match in an %s table", name,
                     c->family == NFPROTO_IPV4 ? "ip" : "ip6");
    return 0;
  case NFPROTO_INET:
    if (c->l3 == l3) return 0;
    if (c->l3 != 0) return cc_fail(c, tok, -EINVAL, "conflicting protocols: ip and ip6");
    c->l3 = l3;
    {
      uint8_t v = (uint8_t)l3;
      int rc = em_meta_load(c, NFT_META_NFPROTO);
      return rc < 0 ? rc : em_cmp(c, NFT_CMP_EQ, &v, 1);
    }
  default:
    return cc_fail(c, tok, -EOPNOTSUPP, "%s header match in a bridge/netdev/arp table", name);
  }
}

static int need_l4(struct cc *c, int tok, int proto) {
  if (c->l4_mixed) return cc_fail(c, tok, -EINVAL, "conflicting transport protocols");
  if (c->l4 == proto) return 0;
  if (c->l4 >= 0) return cc_fail(c, tok, -EINVAL, "conflicting transport protocols");
  if (c->family != NFPROTO_IPV4 && c->family != NFPROTO_IPV6 && c->family != NFPROTO_INET)
    return cc_fail(c, tok, -EOPNOTSUPP, "transport header match in a bridge/netdev/arp table");
  c->l4 = proto;
  uint8_t v = (uint8_t)proto;
  int rc = em_meta_load(c, NFT_META_L4PROTO);
  return rc < 0 ? rc : em_cmp(c, NFT_CMP_EQ, &v, 1);
}

/* ---- matches ---- */

static int load_field(struct cc *c, const struct field *f, uint32_t len) {
  if (f->src == 0) return em_meta_load(c, f->key);
  if (f->src == 2) return em_ct(c, f->key);
  return em_payload(c, f->key, f->offset, len);
}

/* A single element (value, range or prefix) against field f. */
static int match_elem(struct cc *c, const struct field *f, const struct elem *e, int neg) {
  uint32_t op = neg ? NFT_CMP_NEQ : NFT_CMP_EQ;
  int rc;
  if (e->plen >= 0) {
    if (e->plen % 8 == 0) {  /* whole bytes: nft loads only the prefix bytes */
      uint32_t n = (uint32_t)e->plen / 8;
      if ((rc = load_field(c, f, n)) < 0) return rc;
      return em_cmp(c, op, e->lo, n);
    }
    uint8_t mask[16] = {0};
    for (int b = 0; b < e->plen; b++) mask[b / 8] |= (uint8_t)(0x80u >> (b % 8));
    if ((rc = load_field(c, f, f->len)) < 0) return rc;
    if ((rc = em_bitwise(c, mask, f->len)) < 0) return rc;
    return em_cmp(c, op, e->lo, f->len);
  }
  if ((rc = load_field(c, f, f->len)) < 0) return rc;
  if (!e->range) return em_cmp(c, op, e->lo, f->len);
  if (neg) return em_range(c, NFT_RANGE_NEQ, e->lo, e->hi, f->len);
  if ((rc = em_cmp(c, NFT_CMP_GTE, e->lo, f->len)) < 0) return rc;
  return em_cmp(c, NFT_CMP_LTE, e->hi, f->len);
}

static int match_set(struct cc *c, const struct field *f, int neg) {
  int open = c->i++, rc;
  unsigned n = 0, cap = 8;
  if (f->kind != FK_IP4 && f->kind != FK_IP6 && f->kind != FK_PORT && f->kind != FK_PROTO &&
      f->kind != FK_ICMPTYPE)
    return cc_fail(c, open, -EOPNOTSUPP, "anonymous set for %s", f->name);
  struct elem *el = malloc(cap * sizeof *el);
  if (el == NULL) return -ENOMEM;
  for (;;) {
    char b[64];
    if (c->t[c->i].kind == TK_RBRACE && n > 0) break;
    if (n == cap) {
      struct elem *ne = realloc(el, 2 * cap * sizeof *el);
      if (ne == NULL) { free(el); return -ENOMEM; }
      el = ne;
      cap *= 2;
    }
    if ((rc = cc_elem(c, f, c->i, &el[n])) < 0) { free(el); return rc; }
    n++;
    c->i++;
    if (c->t[c->i].kind == TK_COMMA) { c->i++; continue; }
    if (c->t[c->i].kind == TK_RBRACE) break;
    free(el);
    return cc_fail(c, c->i, -EINVAL, "expected \",\" or \"}\" in set, got %s",
                   tq(c, c->i, b, sizeof b));
  }
  c->i++;  /* '}' */
  if (n == 1) {  /* nft turns a one-element set into a plain match */
    rc = match_elem(c, f, &el[0], neg);
    free(el);
    return rc;
  }
  uint32_t id = 0;
  rc = em_anon_set(c, f, el, n, open, &id);
  free(el);
  if (rc < 0) return rc;
  if ((rc = load_field(c, f, f->len)) < 0) return rc;
  return em_lookup(c, "__set%d", id, neg);
}

static int match_named(struct cc *c, const struct field *f, int neg) {
  int tok = c->i++, rc;
  char name[256];
  if (cc_tokstr(c, tok, name, sizeof name) < 0 || name[1] == 0)
    return cc_fail(c, tok, -EINVAL, "bad set name");
  if (f->kind != FK_IP4 && f->kind != FK_IP6 && f->kind != FK_PORT && f->kind != FK_PROTO &&
      f->kind != FK_ICMPTYPE && f->kind != FK_MARK)
    return cc_fail(c, tok, -EOPNOTSUPP, "named set for %s", f->name);
  uint32_t id = 0;
  if (c->env && c->env->lookup_set) {
    uint32_t type = 0, len = 0, flags = 0;
    rc = c->env->lookup_set(c->env->ud, name + 1, &type, &len, &flags, &id);
    if (rc < 0) return cc_fail(c, tok, rc, "no set %s in this table", name);
    if (len != f->len || (type != 0 && type != f->dtype))
      return cc_fail(c, tok, -EINVAL, "set %s does not hold %s values", name, f->name);
  }
  if ((rc = load_field(c, f, f->len)) < 0) return rc;
  return em_lookup(c, name + 1, id, neg);
}

static int match_ifname(struct cc *c, const struct field *f, int neg) {
  int tok = c->i++;
  char name[64];
  if ((c->t[tok].kind != TK_WORD && c->t[tok].kind != TK_STRING) ||
      cc_tokstr(c, tok, name, sizeof name) < 0)
    return cc_fail(c, tok, -EINVAL, "expected an interface name");
  size_t n = strlen(name);
  if (n == 0 || n >= 16) return cc_fail(c, tok, -EINVAL, "bad interface name \"%s\"", name);
  int rc;
  if (f->kind == FK_IFINDEX) {
    uint32_t idx;
    if (strchr(name, '*')) return cc_fail(c, tok, -EINVAL, "wildcard in %s: use %sname", f->name, f->name);
    if (c->env == NULL || c->env->ifindex == NULL)
      return cc_fail(c, tok, -EOPNOTSUPP, "%s needs the namespace's interfaces", f->name);
    if ((rc = c->env->ifindex(c->env->ud, name, &idx)) < 0)
      return cc_fail(c, tok, rc, "no interface \"%s\"", name);
    if ((rc = em_meta_load(c, f->key)) < 0) return rc;
    return em_cmp(c, neg ? NFT_CMP_NEQ : NFT_CMP_EQ, &idx, 4);
  }
  char *star = strchr(name, '*');
  if (star && (star[1] != 0 || star == name))
    return cc_fail(c, tok, -EOPNOTSUPP, "wildcard other than a trailing \"*\" in \"%s\"", name);
  uint8_t data[16] = {0};
  memcpy(data, name, n);
  if ((rc = em_meta_load(c, f->key)) < 0) return rc;
  return em_cmp(c, neg ? NFT_CMP_NEQ : NFT_CMP_EQ, data, star ? (uint32_t)(star - name) : 16);
}

static int match_ctstate(struct cc *c, const struct field *f, int neg) {
  uint32_t bits = 0;
  int rc;
  if (c->t[c->i].kind == TK_LBRACE)
    return cc_fail(c, c->i, -EOPNOTSUPP, "set for ct state: write \"ct state a,b\"");
  for (;;) {
    int tok = c->i;
    const struct tok *k = &c->t[tok];
    int bit = k->kind == TK_WORD ? nftrule_ctstate_by_name(c->text + k->pos, k->len) : -1;
    if (bit < 0) {
      char b[64];
      return cc_fail(c, tok, -EINVAL, "bad ct state %s (new, established, related, invalid, untracked)",
                     tq(c, tok, b, sizeof b));
    }
    bits |= (uint32_t)bit;
    c->i++;
    if (c->t[c->i].kind == TK_COMMA || c->t[c->i].kind == TK_PIPE) { c->i++; continue; }
    break;
  }
  if ((rc = em_ct(c, f->key)) < 0) return rc;
  if (neg) return em_cmp(c, NFT_CMP_NEQ, &bits, 4);
  uint32_t zero = 0;
  if ((rc = em_bitwise(c, &bits, 4)) < 0) return rc;
  return em_cmp(c, NFT_CMP_NEQ, &zero, 4);
}

/* field already consumed; c->i at the operator or value */
static int match(struct cc *c, const struct field *f, int ftok) {
  int neg = 0, rc;
  char b[64];
  if (c->t[c->i].kind == TK_NEQ) { neg = 1; c->i++; }
  else if (cc_is(c, c->i, "==")) c->i++;
  else if (c->t[c->i].kind == TK_WORD &&
           (cc_is(c, c->i, "<") || cc_is(c, c->i, ">") || cc_is(c, c->i, "<=") ||
            cc_is(c, c->i, ">=") || cc_is(c, c->i, "!")))
    return cc_fail(c, c->i, -EOPNOTSUPP, "operator %s", tq(c, c->i, b, sizeof b));
  static const char *const binops[] = {"and", "or", "xor", "&", "^", "<<", ">>", ".", NULL};
  for (int j = 0; binops[j]; j++)
    if (cc_is(c, c->i, binops[j]))
      return cc_fail(c, c->i, -EOPNOTSUPP, "%s (%s) is not supported by cnet",
                     tq(c, c->i, b, sizeof b),
                     binops[j][0] == '.' ? "concatenation" : "bitwise operation");
  if (c->t[c->i].kind == TK_PIPE)
    return cc_fail(c, c->i, -EOPNOTSUPP, "\"|\" (bitwise operation) is not supported by cnet");
  const struct tok *v = &c->t[c->i];
  if (v->kind == TK_END)
    return cc_fail(c, c->i, -EINVAL, "missing value after %s", f->name);
  if ((rc = need_l3(c, ftok, f->l3, (int)f->l4)) < 0) return rc;
  if (f->l4 && (rc = need_l4(c, ftok, (int)f->l4)) < 0) return rc;
  if (f->kind == FK_IFNAME || f->kind == FK_IFINDEX) {
    if (v->kind == TK_LBRACE) return cc_fail(c, c->i, -EOPNOTSUPP, "set of interfaces");
    return match_ifname(c, f, neg);
  }
  if (f->kind == FK_CTSTATE) return match_ctstate(c, f, neg);
  if (v->kind == TK_LBRACE) return match_set(c, f, neg);
  if (v->kind == TK_WORD && c->text[v->pos] == '@') return match_named(c, f, neg);
  struct elem e;
  if ((rc = cc_elem(c, f, c->i, &e)) < 0) return rc;
  if (e.range && (f->kind == FK_PROTO || f->kind == FK_MARK))
    return cc_fail(c, c->i, -EOPNOTSUPP, "range of %s", f->name);
  c->i++;
  if ((rc = match_elem(c, f, &e, neg)) < 0) return rc;
  /* an equality on the transport protocol tells later matches which header follows. Like
   * nft, one that contradicts what the rule knew already is taken, but no transport header
   * may follow it ("icmp type 8 ip protocol udp" is fine, "... icmp type 8" conflicts) */
  if (!neg && !e.range && f->kind == FK_PROTO) {
    if (c->l4 < 0) c->l4 = e.lo[0];
    else if (c->l4 != e.lo[0]) c->l4_mixed = 1;
  }
  return 0;
}

/* Like nft, a statement (or match) after a terminal one is refused: it would never run. Checked
 * once the statement at `tok` has parsed, so a syntax error in it is reported first, as nft
 * parses the whole rule before it evaluates it. term: c->terminal before that statement. */
static int after_terminal(struct cc *c, int tok, int term) {
  if (term < 0) return 0;
  char a[64], b[64];
  return cc_fail(c, tok, -EINVAL, "%s after terminal statement %s has no effect",
                 tq(c, tok, a, sizeof a), tq(c, term, b, sizeof b));
}

/* ---- statements (nftrule_stmt.c) ---- */
int nftrule_statement(struct cc *c, int *handled);

static const char *const unsupported[] = {
  "ether", "vlan", "arp", "th", "sctp", "dccp", "icmpv6", "igmp", "esp", "ah", "comp", "udplite",
  "fib", "rt", "socket", "osf", "queue", "notrack", "quota", "dup", "fwd", "synproxy", "tproxy",
  "flow", "set", "add", "update", "delete", "numgen", "jhash", "symhash", "hash",
  "exthdr", "hbh", "frag", "dst", "mh", "srh", "rt0", "rt2", "ipsec", "cgroup", "skuid",
  "skgid", "priority", "pkttype", "cpu", "nftrace", "secmark", "xt", "gre", "vxlan", "geneve",
  "last", "inner", "ct", "meta", "ip", "ip6", "tcp", "udp", "icmp", "map", "vmap", "mark",
  "continue", "ether", "iiftype", "oiftype", "iifgroup", "oifgroup", "length", "protocol",
  "nfproto", "l4proto", "day", "hour", "time", NULL};

int cnet_nftrule_compile(const char *text, const struct cnet_nftrule_env *env,
                         struct nftnl_rule *r, struct cnet_nftrule_out *out,
                         struct cnet_nftrule_err *err) {
  struct cc c = {.text = text, .env = env, .r = r, .out = out, .err = err, .l4 = -1,
                 .terminal = -1};
  c.family = env ? env->family : NFPROTO_INET;
  c.next_id = env && env->first_set_id ? env->first_set_id : 1;
  if (err) { err->column = 0; err->msg[0] = 0; }
  if (out) { out->sets = NULL; out->nsets = 0; }
  if (text == NULL || r == NULL) return -EINVAL;
  int n = nftrule_lex(text, &c.t);
  if (n < 0) return n;
  c.nt = n;
  int rc = 0;
  char b[96];
  if (c.t[0].kind == TK_END) { rc = cc_fail(&c, -1, -EINVAL, "empty rule"); goto done; }
  for (int j = 0; j < n; j++)
    if (c.t[j].kind == TK_BAD) {
      rc = cc_fail(&c, j, -EINVAL, "unterminated string");
      goto done;
    }
  while (c.t[c.i].kind != TK_END) {
    int tok = c.i;
    const struct tok *k = &c.t[tok];
    if (k->kind == TK_BAD) { rc = cc_fail(&c, tok, -EINVAL, "unterminated string"); goto done; }
    if (k->kind != TK_WORD) {
      rc = cc_fail(&c, tok, -EINVAL, "unexpected %s", tq(&c, tok, b, sizeof b));
      goto done;
    }
    int term = c.terminal;
    c.stmt = tok;
    /* fields: one word (iifname) or two (ip saddr) */
    const struct field *f = nftrule_field_by_name(c.text + k->pos, k->len, NULL, 0);
    int words = 1;
    if (f == NULL && c.t[tok + 1].kind == TK_WORD) {
      const struct tok *k2 = &c.t[tok + 1];
      f = nftrule_field_by_name(c.text + k->pos, k->len, c.text + k2->pos, k2->len);
      words = 2;
    }
    if (f == NULL && cc_is(&c, tok, "mark") && !cc_is(&c, tok + 1, "set")) {
      f = nftrule_field_by_name("meta mark", 9, NULL, 0);
      words = 1;
    }
    if (f != NULL && f->kind == FK_NFPROTO) f = NULL;   /* nft's own dependency, not offered */
    if (f != NULL && !(f->kind == FK_MARK && cc_is(&c, tok + words, "set"))) {
      c.i += words;
      if ((rc = match(&c, f, tok)) < 0 || (rc = after_terminal(&c, tok, term)) < 0) goto done;
      continue;
    }
    if (cc_is(&c, tok, ".")) {
      rc = cc_fail(&c, tok, -EOPNOTSUPP, "\".\" (concatenation) is not supported by cnet");
      goto done;
    }
    int handled = 0;
    if ((rc = nftrule_statement(&c, &handled)) < 0) goto done;
    if (handled && !cc_is(&c, tok, "comment") && (rc = after_terminal(&c, tok, term)) < 0)
      goto done;
    if (handled) continue;
    for (int j = 0; unsupported[j]; j++)
      if (cc_is(&c, tok, unsupported[j])) {
        if (c.t[tok + 1].kind == TK_WORD)
          snprintf(b, sizeof b, "\"%.*s %.*s\"", (int)k->len, c.text + k->pos,
                   (int)c.t[tok + 1].len, c.text + c.t[tok + 1].pos);
        else
          tq(&c, tok, b, sizeof b);
        rc = cc_fail(&c, tok, -EOPNOTSUPP, "%s is not supported by cnet", b);
        goto done;
      }
    rc = cc_fail(&c, tok, -EINVAL, "unknown keyword %s", tq(&c, tok, b, sizeof b));
    goto done;
  }
done:
  free(c.t);
  if (rc < 0 && out) cnet_nftrule_out_free(out);
  return rc;
}
