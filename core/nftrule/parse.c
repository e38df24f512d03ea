/* The expression parser: nft's grammar for what a rule matches on (left-hand sides, with
 * bitwise operators and concatenations) and what it compares with (right-hand sides:
 * values, ranges, prefixes, lists, sets, @sets). Words on the right are kept as symbols;
 * eval.c reads them against the left-hand side's type. */
#include "nftrule/nr_int.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <linux/netfilter/nf_tables.h>

#define T(c) ((c)->t[(c)->i])
#define KIND(c) (T(c).kind)

static int word_is(const struct nr_cc *c, int tok, const char *const *words) {
  for (int j = 0; words[j]; j++)
    if (nr_is(c, tok, words[j])) return 1;
  return 0;
}

static struct nr_expr *symbol(struct nr_cc *c, int tok) {
  struct nr_expr *e = nr_expr_new(c, X_SYMBOL, tok);
  if (e == NULL) return NULL;
  e->str = nr_tokdup(c, tok);
  e->flags = XF_CONST;
  if (c->t[tok].kind == TK_STRING) e->op = 1;   /* quoted: never split into a range */
  return e;
}

/* ---- left-hand side primaries ---- */

/* p's field at the current word (f when the caller found it already). */
static int parse_payload(struct nr_cc *c, const struct nr_proto *p, int tok,
                         const struct nr_field *f, struct nr_expr **out) {
  char b[80];
  const struct tok *k = &T(c);
  if (k->kind != TK_WORD)
    return nr_fail(c, c->i, -EINVAL, "expected a %s header field, got %s", p->name,
                   nr_tokq(c, c->i, b, sizeof b));
  int words = 1;
  if (f == NULL && p == &nr_proto_arp && (nr_is(c, c->i, "saddr") || nr_is(c, c->i, "daddr")) &&
      (nr_is(c, c->i + 1, "ip") || nr_is(c, c->i + 1, "ether"))) {
    char n[32];
    snprintf(n, sizeof n, "%.5s %s", c->text + k->pos, nr_is(c, c->i + 1, "ip") ? "ip" : "ether");
    f = nr_field_byname(p, n, strlen(n));
    words = 2;
  } else if (f == NULL) {
    f = nr_field_byname(p, c->text + k->pos, k->len);
  }
  if (f == NULL)
    return nr_fail(c, c->i, -EINVAL, "unknown %s header field %s", p->name,
                   nr_tokq(c, c->i, b, sizeof b));
  c->i += words;
  return (*out = nr_payload_new(c, p, f, tok)) ? 0 : -ENOMEM;
}

/* @ll,OFFSET,LENGTH: bits of a header nft knows nothing about */
static int parse_raw(struct nr_cc *c, struct nr_expr **out) {
  int tok = c->i;
  const struct tok *k = &T(c);
  static const char *const bases[] = {"@ll", "@nh", "@th", "@ih", NULL};
  int base = 0;
  for (int j = 0; bases[j]; j++)
    if (k->len == 3 && memcmp(c->text + k->pos, bases[j], 3) == 0) base = j + 1;
  if (base == 0) return 1;
  c->i++;
  unsigned long long v[2];
  for (int j = 0; j < 2; j++) {
    char s[32];
    if (KIND(c) != TK_COMMA)
      return nr_fail(c, c->i, -EINVAL, "expected \",\" in a raw payload expression");
    c->i++;
    if (KIND(c) != TK_WORD || nr_tokstr(c, c->i, s, sizeof s) < 0 ||
        nr_number(s, 0xffff, &v[j]) < 0)
      return nr_fail(c, c->i, -EINVAL, "expected a number of bits");
    c->i++;
  }
  if (v[1] == 0 || v[1] > NR_VMAX * 8)
    return nr_fail(c, tok, -EINVAL, "raw payload length %llu out of range", v[1]);
  struct nr_expr *e = nr_expr_new(c, X_PAYLOAD, tok);
  if (e == NULL) return -ENOMEM;
  e->u.pl.base = (uint8_t)base;
  e->u.pl.off = (uint16_t)v[0];
  e->u.pl.is_raw = 1;
  e->bits = (uint16_t)v[1];
  e->type = T_INTEGER;
  e->order = BO_BE;
  *out = e;
  return 0;
}

static int parse_key(struct nr_cc *c, int kind, const struct nr_key *k, int tok, int dir,
                     struct nr_expr **out) {
  struct nr_expr *e = nr_expr_new(c, kind, tok);
  if (e == NULL) return -ENOMEM;
  e->u.key.k = k;
  e->u.key.dir = (int8_t)dir;
  e->type = k->type;
  e->order = k->order;
  e->bits = k->bits;
  *out = e;
  return 0;
}

static int parse_meta(struct nr_cc *c, int tok, struct nr_expr **out) {
  char b[80];
  if (KIND(c) != TK_WORD)
    return nr_fail(c, c->i, -EINVAL, "expected a meta key, got %s", nr_tokq(c, c->i, b, sizeof b));
  const struct tok *k = &T(c);
  const struct nr_key *key = nr_key_byname(nr_meta_keys, c->text + k->pos, k->len);
  /* nft's old names (broute, ibridgename, obridgename came after nft 1.0.6: unknown) */
  if (key == NULL && nr_is(c, c->i, "secpath"))
    key = nr_key_byname(nr_meta_keys, "ipsec", 5);
  if (key == NULL && nr_is(c, c->i, "ibriport")) key = nr_key_byname(nr_meta_keys, "ibrname", 7);
  if (key == NULL && nr_is(c, c->i, "obriport")) key = nr_key_byname(nr_meta_keys, "obrname", 7);
  if (key == NULL)
    return nr_fail(c, c->i, -EINVAL, "unknown meta key %s", nr_tokq(c, c->i, b, sizeof b));
  c->i++;
  return parse_key(c, X_META, key, tok, -1, out);
}

static int parse_ct(struct nr_cc *c, int tok, struct nr_expr **out) {
  char b[80];
  int dir = -1;
  if (nr_is(c, c->i, "original")) { dir = 0; c->i++; }
  else if (nr_is(c, c->i, "reply")) { dir = 1; c->i++; }
  if (KIND(c) != TK_WORD)
    return nr_fail(c, c->i, -EINVAL, "expected a ct key, got %s", nr_tokq(c, c->i, b, sizeof b));
  const struct nr_key *key = NULL;
  int words = 1;
  if ((nr_is(c, c->i, "ip") || nr_is(c, c->i, "ip6")) &&
      (nr_is(c, c->i + 1, "saddr") || nr_is(c, c->i + 1, "daddr"))) {
    char n[16];
    snprintf(n, sizeof n, "%s %s", nr_is(c, c->i, "ip") ? "ip" : "ip6",
             nr_is(c, c->i + 1, "saddr") ? "saddr" : "daddr");
    key = nr_key_byname(nr_ct_keys, n, strlen(n));
    words = 2;
  } else {
    key = nr_key_byname(nr_ct_keys, c->text + T(c).pos, T(c).len);
  }
  if (key == NULL)
    return nr_fail(c, c->i, -EINVAL, "unknown ct key %s", nr_tokq(c, c->i, b, sizeof b));
  if (dir >= 0 && (key->flags & K_NODIR))
    return nr_fail(c, c->i, -EINVAL, "ct %s takes no direction", key->name);
  if (dir < 0 && (key->flags & K_NEEDDIR))
    return nr_fail(c, c->i, -EINVAL, "ct %s needs a direction (original or reply)", key->name);
  c->i += words;
  return parse_key(c, X_CT, key, tok, dir, out);
}

static int parse_rt(struct nr_cc *c, int tok, struct nr_expr **out) {
  char b[80];
  int fam = 0;
  if (nr_is(c, c->i, "ip")) { fam = 4; c->i++; }
  else if (nr_is(c, c->i, "ip6")) { fam = 6; c->i++; }
  if (KIND(c) != TK_WORD)
    return nr_fail(c, c->i, -EINVAL, "expected an rt key, got %s", nr_tokq(c, c->i, b, sizeof b));
  const struct nr_key *key = nr_key_byname(nr_rt_keys, c->text + T(c).pos, T(c).len);
  if (key == NULL)
    return nr_fail(c, c->i, -EINVAL, "unknown rt key %s", nr_tokq(c, c->i, b, sizeof b));
  if (key->key == NFT_RT_NEXTHOP4) {
    /* the address family: written, or the table's */
    if (fam == 6 || (fam == 0 && c->family == 10)) key = &nr_rt_keys[2];
    else if (fam == 0 && c->family != 2)
      return nr_fail(c, c->i, -EINVAL, "rt nexthop needs ip or ip6 in this family");
  } else if (fam) {
    return nr_fail(c, c->i - 1, -EINVAL, "rt %s takes no address family", key->name);
  }
  c->i++;
  int rc = parse_key(c, X_RT, key, tok, -1, out);
  if (rc == 0 && fam) (*out)->u.key.dir = (int8_t)fam;  /* written with ip/ip6 */
  return rc;
}

static int parse_number_arg(struct nr_cc *c, const char *what, unsigned long long max,
                            uint32_t *out);

static int parse_socket(struct nr_cc *c, int tok, struct nr_expr **out) {
  char b[80];
  if (KIND(c) != TK_WORD)
    return nr_fail(c, c->i, -EINVAL, "expected a socket key, got %s", nr_tokq(c, c->i, b, sizeof b));
  const struct nr_key *key = nr_key_byname(nr_socket_keys, c->text + T(c).pos, T(c).len);
  if (key == NULL)
    return nr_fail(c, c->i, -EINVAL, "unknown socket key %s", nr_tokq(c, c->i, b, sizeof b));
  c->i++;
  uint32_t level = 0;
  if (key->key == NFT_SOCKET_CGROUPV2) {  /* socket cgroupv2 level N "path" */
    int rc;
    if (!nr_is(c, c->i, "level")) return nr_fail(c, c->i, -EINVAL, "expected level after cgroupv2");
    c->i++;
    if ((rc = parse_number_arg(c, "a cgroup level", 0xffffffffULL, &level)) < 0) return rc;
  }
  int rc = parse_key(c, X_SOCKET, key, tok, -1, out);
  if (rc == 0) (*out)->u.key.level = level;
  return rc;
}

/* osf [ttl loose|skip] name|version: the operating system the SYN looks like */
static int parse_osf(struct nr_cc *c, int tok, struct nr_expr **out) {
  struct nr_expr *e = nr_expr_new(c, X_OSF, tok);
  if (e == NULL) return -ENOMEM;
  if (nr_is(c, c->i, "ttl")) {
    c->i++;
    if (nr_is(c, c->i, "loose")) e->u.osf.ttl = 1;       /* NF_OSF_TTL_LESS */
    else if (nr_is(c, c->i, "skip")) e->u.osf.ttl = 2;   /* NF_OSF_TTL_NOCHECK */
    else return nr_fail(c, c->i, -EINVAL, "invalid ttl option (loose or skip)");
    c->i++;
  }
  if (nr_is(c, c->i, "version")) e->u.osf.flags = NFT_OSF_F_VERSION;
  else if (!nr_is(c, c->i, "name")) return nr_fail(c, c->i, -EINVAL, "expected name or version");
  c->i++;
  e->type = T_STRING;
  e->order = BO_HOST;
  e->bits = NFT_OSF_MAXGENRELEN * 8;
  *out = e;
  return 0;
}

/* ipsec in|out [spnum N] spi|reqid|ip saddr|ip daddr|ip6 saddr|ip6 daddr */
static int parse_xfrm(struct nr_cc *c, int tok, struct nr_expr **out) {
  struct nr_expr *e = nr_expr_new(c, X_XFRM, tok);
  int rc, v6 = 0;
  if (e == NULL) return -ENOMEM;
  e->u.xfrm.dir = nr_is(c, c->i, "out");  /* XFRM_POLICY_IN 0, OUT 1 */
  c->i++;
  if (nr_is(c, c->i, "spnum")) {
    c->i++;
    int at = c->i;
    if ((rc = parse_number_arg(c, "a policy number", 0xffffffffULL, &e->u.xfrm.spnum)) < 0) return rc;
    if (e->u.xfrm.spnum > 255) return nr_fail(c, at, -EINVAL, "value too large");
  }
  if (nr_is(c, c->i, "spi") || nr_is(c, c->i, "reqid")) {
    int spi = nr_is(c, c->i, "spi");
    e->u.xfrm.key = spi ? NFT_XFRM_KEY_SPI : NFT_XFRM_KEY_REQID;
    e->type = T_INTEGER;
    e->order = spi ? BO_BE : BO_HOST;  /* nft's templates: the spi as on the wire */
    e->bits = 32;
    c->i++;
  } else if ((nr_is(c, c->i, "ip") || (v6 = nr_is(c, c->i, "ip6"))) &&
             (nr_is(c, c->i + 1, "saddr") || nr_is(c, c->i + 1, "daddr"))) {
    int src = nr_is(c, c->i + 1, "saddr");
    e->u.xfrm.key = v6 ? (src ? NFT_XFRM_KEY_SADDR_IP6 : NFT_XFRM_KEY_DADDR_IP6)
                       : (src ? NFT_XFRM_KEY_SADDR_IP4 : NFT_XFRM_KEY_DADDR_IP4);
    e->type = v6 ? T_IP6ADDR : T_IPADDR;
    e->order = BO_BE;
    e->bits = v6 ? 128 : 32;
    c->i += 2;
  } else {
    return nr_fail(c, c->i, -EINVAL, "expected spi, reqid, ip saddr/daddr or ip6 saddr/daddr");
  }
  *out = e;
  return 0;
}

static int parse_number_arg(struct nr_cc *c, const char *what, unsigned long long max,
                            uint32_t *out) {
  char s[32];
  unsigned long long v;
  if (KIND(c) != TK_WORD || nr_tokstr(c, c->i, s, sizeof s) < 0 || nr_number(s, max, &v) < 0)
    return nr_fail(c, c->i, -EINVAL, "expected %s", what);
  c->i++;
  *out = (uint32_t)v;
  return 0;
}

/* numgen's and hash's common end: "[offset N]"; the value is a 32-bit host-order integer */
static int parse_gen_offset(struct nr_cc *c, struct nr_expr *e, struct nr_expr **out) {
  int rc;
  if (nr_is(c, c->i, "offset")) {
    c->i++;
    if ((rc = parse_number_arg(c, "an offset", 0xffffffffULL, &e->u.gen.offset)) < 0) return rc;
  }
  e->type = T_INTEGER;
  e->order = BO_HOST;
  e->bits = 32;
  *out = e;
  return 0;
}

static int parse_numgen(struct nr_cc *c, int tok, struct nr_expr **out) {
  struct nr_expr *e = nr_expr_new(c, X_NUMGEN, tok);
  if (e == NULL) return -ENOMEM;
  if (nr_is(c, c->i, "inc")) e->u.gen.type = NFT_NG_INCREMENTAL;
  else if (nr_is(c, c->i, "random")) e->u.gen.type = NFT_NG_RANDOM;
  else return nr_fail(c, c->i, -EINVAL, "expected inc or random after numgen");
  c->i++;
  if (!nr_is(c, c->i, "mod")) return nr_fail(c, c->i, -EINVAL, "expected mod");
  c->i++;
  int rc = parse_number_arg(c, "a modulus", 0xffffffffULL, &e->u.gen.mod);
  if (rc < 0) return rc;
  if (e->u.gen.mod == 0) return nr_fail(c, c->i - 1, -EINVAL, "numgen modulus cannot be 0");
  return parse_gen_offset(c, e, out);
}

static int parse_hash(struct nr_cc *c, int tok, int sym, struct nr_expr **out) {
  struct nr_expr *e = nr_expr_new(c, X_HASH, tok);
  int rc;
  if (e == NULL) return -ENOMEM;
  e->u.gen.type = sym ? NFT_HASH_SYM : NFT_HASH_JENKINS;
  if (!sym) {
    if (nr_is(c, c->i, "mod")) return nr_fail(c, c->i, -EINVAL, "jhash needs an expression to hash");
    if ((rc = nr_parse_expr(c, &e->u.gen.e)) < 0) return rc;
  }
  if (!nr_is(c, c->i, "mod")) return nr_fail(c, c->i, -EINVAL, "expected mod");
  c->i++;
  if ((rc = parse_number_arg(c, "a modulus", 0xffffffffULL, &e->u.gen.mod)) < 0) return rc;
  if (e->u.gen.mod == 0) return nr_fail(c, c->i - 1, -EINVAL, "hash modulus cannot be 0");
  if (!sym && nr_is(c, c->i, "seed")) {
    c->i++;
    if ((rc = parse_number_arg(c, "a seed", 0xffffffffULL, &e->u.gen.seed)) < 0) return rc;
    e->u.gen.seed_set = 1;
  }
  return parse_gen_offset(c, e, out);
}

/* fib saddr|daddr [. mark] [. iif|oif] oif|oifname|type */
static int parse_fib(struct nr_cc *c, int tok, struct nr_expr **out) {
  uint32_t flags = 0;
  for (;;) {
    if (nr_is(c, c->i, "saddr")) flags |= NFTA_FIB_F_SADDR;
    else if (nr_is(c, c->i, "daddr")) flags |= NFTA_FIB_F_DADDR;
    else if (nr_is(c, c->i, "mark")) flags |= NFTA_FIB_F_MARK;
    else if (nr_is(c, c->i, "iif")) flags |= NFTA_FIB_F_IIF;
    else if (nr_is(c, c->i, "oif") && (nr_is(c, c->i + 1, ".") || nr_is(c, c->i - 1, ".")))
      flags |= NFTA_FIB_F_OIF;
    else return nr_fail(c, c->i, -EINVAL, "expected saddr, daddr, mark, iif or oif in fib");
    c->i++;
    if (!nr_is(c, c->i, ".")) break;
    c->i++;
  }
  struct nr_expr *e = nr_expr_new(c, X_FIB, tok);
  if (e == NULL) return -ENOMEM;
  if (nr_is(c, c->i, "oif")) {
    e->u.fib.result = NFT_FIB_RESULT_OIF;
    e->type = T_IFINDEX;
    e->bits = 32;
  } else if (nr_is(c, c->i, "oifname")) {
    e->u.fib.result = NFT_FIB_RESULT_OIFNAME;
    e->type = T_IFNAME;
    e->bits = 128;
  } else if (nr_is(c, c->i, "type")) {
    e->u.fib.result = NFT_FIB_RESULT_ADDRTYPE;
    e->type = T_FIB_ADDR;
    e->bits = 32;
  } else {
    return nr_fail(c, c->i, -EINVAL, "expected oif, oifname or type in fib");
  }
  c->i++;
  e->u.fib.flags = flags;
  e->order = BO_HOST;
  *out = e;
  return 0;
}

/* words that start an expression nft has but cnet does not compile yet */
static const char *const unsupported_lhs[] = {
  "gre",
  "vxlan", "geneve", "gretap", "inner", NULL};

int nr_parse_primary(struct nr_cc *c, struct nr_expr **out, int required) {
  int tok = c->i, rc;
  const struct tok *k = &T(c);
  char b[80];
  *out = NULL;
  if (k->kind == TK_LPAREN) {
    c->i++;
    if ((rc = nr_parse_value_expr(c, out)) < 0) return rc;
    if (KIND(c) != TK_RPAREN) return nr_fail(c, c->i, -EINVAL, "expected \")\"");
    c->i++;
    (*out)->flags |= XF_PAREN;
    return 0;
  }
  if (k->kind == TK_WORD) {
    const char *w = c->text + k->pos;
    if ((rc = nr_parse_exthdr(c, out)) <= 0) return rc;  /* tcp option, frag, exthdr... */
    if (w[0] == '@' && (rc = parse_raw(c, out)) <= 0) return rc;
    const struct nr_proto *p = nr_proto_byname(w, k->len);
    if (p != NULL && c->t[tok + 1].kind == TK_WORD) {
      if (p == &nr_proto_dccp && nr_is(c, tok + 1, "option"))
        return nr_unsupported(c, tok, "%s option", p->name);
      const struct nr_field *f = NULL;
      if (p == &nr_proto_th ||
          (f = nr_field_byname(p, c->text + c->t[tok + 1].pos, c->t[tok + 1].len)) != NULL ||
          p == &nr_proto_arp) {
        c->i++;
        return parse_payload(c, p, tok, p == &nr_proto_arp ? NULL : f, out);
      }
    }
    if (nr_is(c, tok, "meta")) { c->i++; return parse_meta(c, tok, out); }
    if (nr_is(c, tok, "ct")) { c->i++; return parse_ct(c, tok, out); }
    if (nr_is(c, tok, "rt")) {  /* routing data (routing header fields are exthdr's) */
      c->i++;
      return parse_rt(c, tok, out);
    }
    if (nr_is(c, tok, "socket")) { c->i++; return parse_socket(c, tok, out); }
    if (nr_is(c, tok, "numgen")) { c->i++; return parse_numgen(c, tok, out); }
    if (nr_is(c, tok, "jhash")) { c->i++; return parse_hash(c, tok, 0, out); }
    if (nr_is(c, tok, "symhash")) { c->i++; return parse_hash(c, tok, 1, out); }
    if (nr_is(c, tok, "fib")) { c->i++; return parse_fib(c, tok, out); }
    if (nr_is(c, tok, "osf")) { c->i++; return parse_osf(c, tok, out); }
    if (nr_is(c, tok, "ipsec") && (nr_is(c, tok + 1, "in") || nr_is(c, tok + 1, "out"))) {
      c->i++;
      return parse_xfrm(c, tok, out);
    }
    const struct nr_key *key = nr_key_byname(nr_meta_keys, w, k->len);
    if (key && (key->flags & (K_UNQUAL | K_BARE)) &&
        !(nr_is(c, tok, "ipsec") && (nr_is(c, tok + 1, "in") || nr_is(c, tok + 1, "out")))) {
      c->i++;
      return parse_key(c, X_META, key, tok, -1, out);
    }
    if (nr_is(c, tok, "secpath") && 0) return 0;
    if (word_is(c, tok, unsupported_lhs)) {
      if (c->t[tok + 1].kind == TK_WORD)
        return nr_unsupported(c, tok, "\"%.*s %.*s\"", (int)k->len, w, (int)c->t[tok + 1].len,
                              c->text + c->t[tok + 1].pos);
      return nr_unsupported(c, tok, "\"%.*s\"", (int)k->len, w);
    }
  }
  if (!required) return 1;
  if (k->kind == TK_WORD || k->kind == TK_STRING) {
    /* a constant: its meaning comes from the other side */
    *out = symbol(c, tok);
    if (*out == NULL) return -ENOMEM;
    c->i++;
    return 0;
  }
  return nr_fail(c, tok, -EINVAL, "unexpected %s", nr_tokq(c, tok, b, sizeof b));
}

/* ---- bitwise operators: | ^ & << >> and their word forms, nft's precedence ---- */

static int parse_level(struct nr_cc *c, int level, int rhs, struct nr_expr **out);

/* The operator at the current token and its level (0 "|", 1 "^", 2 "&", 3 shifts; a higher
 * level binds tighter), or -1. Most tokens after an operand are not operators: the first
 * letter settles that before any word is compared. */
static int binop_here(const struct nr_cc *c, int *op) {
  const struct tok *k = &c->t[c->i];
  switch (k->kind) {
  case TK_PIPE: *op = OP_OR; return 0;
  case TK_CARET: *op = OP_XOR; return 1;
  case TK_AMP: *op = OP_AND; return 2;
  case TK_WORD: break;
  default: return -1;
  }
  switch (c->text[k->pos]) {
  case 'o': if (nr_is(c, c->i, "or")) { *op = OP_OR; return 0; } break;
  case 'x': if (nr_is(c, c->i, "xor")) { *op = OP_XOR; return 1; } break;
  case 'a': if (nr_is(c, c->i, "and")) { *op = OP_AND; return 2; } break;
  case '<': case 'l':
    if (nr_is(c, c->i, "<<") || nr_is(c, c->i, "lshift")) { *op = OP_LSHIFT; return 3; }
    break;
  case '>': case 'r':
    if (nr_is(c, c->i, ">>") || nr_is(c, c->i, "rshift")) { *op = OP_RSHIFT; return 3; }
    break;
  }
  return -1;
}

/* A value on the right-hand side: a word, a string, or a parenthesized expression. */
static int rhs_primary(struct nr_cc *c, struct nr_expr **out) {
  int tok = c->i, rc;
  char b[80];
  if (T(c).kind == TK_LPAREN) {
    c->i++;
    if ((rc = parse_level(c, 0, 1, out)) < 0) return rc;
    if (KIND(c) != TK_RPAREN) return nr_fail(c, c->i, -EINVAL, "expected \")\"");
    c->i++;
    (*out)->flags |= XF_PAREN;
    return 0;
  }
  if (T(c).kind != TK_WORD && T(c).kind != TK_STRING)
    return nr_fail(c, tok, -EINVAL, "expected a value, got %s", nr_tokq(c, tok, b, sizeof b));
  if ((*out = symbol(c, tok)) == NULL) return -ENOMEM;
  c->i++;
  return 0;
}

/* Operators of level >= min, left-associative, by precedence climbing: one operand read, then
 * each operator takes as its right side what binds tighter than itself. */
static int parse_level(struct nr_cc *c, int min, int rhs, struct nr_expr **out) {
  int rc, op, level;
  if ((rc = rhs ? rhs_primary(c, out) : nr_parse_primary(c, out, 1)) < 0) return rc;
  while ((level = binop_here(c, &op)) >= min) {
    int tok = c->i++;
    struct nr_expr *r;
    if ((rc = parse_level(c, level + 1, rhs, &r)) < 0) return rc;
    struct nr_expr *e = nr_expr_new(c, X_BINOP, tok);
    if (e == NULL) return -ENOMEM;
    e->op = (uint8_t)op;
    e->l = *out;
    e->r = r;
    *out = e;
  }
  return 0;
}

int nr_parse_value_expr(struct nr_cc *c, struct nr_expr **out) {
  return parse_level(c, 0, 0, out);
}

/* Parts joined by "." into a concatenation (at most 16), each read by part(). */
static int parse_concat(struct nr_cc *c, int (*part)(struct nr_cc *, struct nr_expr **),
                        int flags, struct nr_expr **out) {
  int rc, tok = c->i;
  struct nr_expr *e;
  if ((rc = part(c, &e)) < 0) return rc;
  if (!nr_is(c, c->i, ".")) { *out = e; return 0; }
  struct nr_expr *cat = nr_expr_new(c, X_CONCAT, tok);
  if (cat == NULL) return -ENOMEM;
  cat->v = nr_alloc(&c->arena, 16 * sizeof *cat->v);
  if (cat->v == NULL) return -ENOMEM;
  cat->v[cat->n++] = e;
  cat->flags = (uint16_t)flags;
  while (nr_is(c, c->i, ".")) {
    c->i++;
    if (cat->n == 16) return nr_fail(c, c->i, -EINVAL, "too many concatenated expressions");
    if ((rc = part(c, &cat->v[cat->n])) < 0) return rc;
    cat->n++;
  }
  *out = cat;
  return 0;
}

/* A left-hand side: bitwise expressions joined by "." into a concatenation. */
int nr_parse_expr(struct nr_cc *c, struct nr_expr **out) {
  return parse_concat(c, nr_parse_value_expr, 0, out);
}

/* ---- right-hand sides ---- */

/* A value, a range "a - b" written with spaces, a prefix "a / 8" likewise, or bitwise ORs. */
static int parse_basic_rhs(struct nr_cc *c, struct nr_expr **out) {
  int rc, tok = c->i;
  if (KIND(c) == TK_LBRACE || KIND(c) == TK_END || KIND(c) == TK_COMMA || KIND(c) == TK_RBRACE)
    return nr_fail(c, c->i, -EINVAL, "expected a value");
  if ((rc = parse_level(c, 0, 1, out)) < 0) return rc;
  if (nr_is(c, c->i, "-") && c->t[c->i + 1].kind != TK_END) {
    struct nr_expr *r, *e = nr_expr_new(c, X_RANGE, tok);
    c->i++;
    if (e == NULL) return -ENOMEM;
    if ((rc = parse_level(c, 0, 1, &r)) < 0) return rc;
    e->l = *out;
    e->r = r;
    e->flags = XF_CONST;
    *out = e;
  }
  return 0;
}

static int parse_concat_rhs(struct nr_cc *c, struct nr_expr **out) {
  return parse_concat(c, parse_basic_rhs, XF_CONST, out);
}

static int parse_setref(struct nr_cc *c, struct nr_expr **out) {
  int tok = c->i;
  const struct tok *k = &T(c);
  if (k->len < 2) return nr_fail(c, tok, -EINVAL, "expected a set name after \"@\"");
  struct nr_expr *e = nr_expr_new(c, X_SETREF, tok);
  if (e == NULL) return -ENOMEM;
  e->str = nr_strdup(&c->arena, c->text + k->pos + 1, k->len - 1);
  if (e->str == NULL) return -ENOMEM;
  e->flags = XF_CONST;
  c->i++;
  *out = e;
  return 0;
}

/* One element of a set: a value (range, prefix, concatenation) with options, or for a map
 * "key : data". */
static int parse_elem(struct nr_cc *c, struct nr_expr **out, int is_map) {
  int rc, tok = c->i;
  struct nr_expr *key = NULL;
  if ((rc = parse_concat_rhs(c, &key)) < 0) return rc;
  /* element options nft allows inside set literals */
  static const char *const opts[] = {"timeout", "expires", "comment", "counter", "quota",
                                     "limit", "last", NULL};
  struct nr_expr *el = NULL;
  while (word_is(c, c->i, opts)) {
    if (el == NULL) {
      if ((el = nr_expr_new(c, X_ELEM, tok)) == NULL) return -ENOMEM;
      el->l = key;
    }
    if (nr_is(c, c->i, "timeout") || nr_is(c, c->i, "expires")) {
      int expires = nr_is(c, c->i, "expires");
      char w[64], why[128];
      uint8_t v[NR_VMAX];
      c->i++;
      if (KIND(c) != TK_WORD || nr_tokstr(c, c->i, w, sizeof w) < 0 ||
          nr_type_parse(c, nr_type_get(T_TIME), w, 64, v, why, sizeof why) < 0)
        return nr_fail(c, c->i, -EINVAL, "bad %s", expires ? "expiry time" : "timeout");
      if (expires) el->u.el.expires = nr_be_get(v, 8);
      else el->u.el.timeout = nr_be_get(v, 8);
      el->u.el.counter |= 2;  /* timed: only a set with timeouts takes it */
      c->i++;
    } else if (nr_is(c, c->i, "comment")) {
      c->i++;
      if (KIND(c) != TK_STRING && KIND(c) != TK_WORD)
        return nr_fail(c, c->i, -EINVAL, "expected a comment string");
      if ((el->u.el.comment = nr_tokdup(c, c->i)) == NULL) return -ENOMEM;
      if (strlen(el->u.el.comment) > 128)
        return nr_fail(c, c->i, -EINVAL, "comment too long: 128 characters at most");
      c->i++;
    } else if (nr_is(c, c->i, "quota")) {  /* nft's grammar has no quota there */
      return nr_fail(c, c->i, -EINVAL, "unexpected quota in a set element");
    } else if (el->u.el.stmts == NULL &&
               (rc = nr_parse_stateful(c, &el->u.el.stmts)) != 0) {  /* counter, limit */
      if (rc < 0) return rc;
      const struct nr_stmt *st = el->u.el.stmts;
      if (st->kind == S_LIMIT && st->u.lim.burst == 0)  /* a byte rate: nft wants a burst here */
        return nr_fail(c, c->i, -EINVAL, "limit burst must be > 0");
    } else if (el->u.el.stmts) {
      return nr_unsupported(c, c->i, "a second statement in a set element");
    } else {
      return nr_unsupported(c, c->i, "stateful element %.*s", (int)T(c).len, c->text + T(c).pos);
    }
  }
  if (nr_is(c, c->i, ":")) {
    int ctok = c->i++;
    if (!is_map) return nr_fail(c, ctok, -EINVAL, "\":\" in a set that is not a map");
    struct nr_expr *m = nr_expr_new(c, X_MAPPING, tok), *data = NULL;
    if (m == NULL) return -ENOMEM;
    if (nr_is(c, c->i, "jump") || nr_is(c, c->i, "goto")) {
      int vt = c->i++;
      if (KIND(c) != TK_WORD && KIND(c) != TK_STRING)
        return nr_fail(c, c->i, -EINVAL, "expected a chain name");
      data = nr_expr_new(c, X_VERDICT, vt);
      if (data == NULL) return -ENOMEM;
      data->u.vd.verdict = nr_is(c, vt, "jump") ? NFT_JUMP : NFT_GOTO;
      data->str = nr_tokdup(c, c->i);
      c->i++;
    } else {
      if ((rc = parse_concat_rhs(c, &data)) < 0) return rc;
    }
    m->l = el ? el : key;
    m->r = data;
    *out = m;
    return 0;
  }
  if (is_map == 2) return nr_fail(c, c->i, -EINVAL, "expected \":\" and a value in a map element");
  *out = el ? el : key;
  return 0;
}

/* "{ a, b-c, d : e }" (c->i at the brace) */
int nr_parse_set_body(struct nr_cc *c, struct nr_expr **out, int is_map) {
  int tok = c->i++, rc, cap = 8;
  char b[80];
  struct nr_expr *s = nr_expr_new(c, X_SET, tok);
  if (s == NULL) return -ENOMEM;
  s->flags = XF_CONST;
  s->v = nr_alloc(&c->arena, (size_t)cap * sizeof *s->v);
  if (s->v == NULL) return -ENOMEM;
  for (;;) {
    if (KIND(c) == TK_RBRACE) {
      if (s->n == 0) return nr_fail(c, c->i, -EINVAL, "empty set");
      break;
    }
    if (KIND(c) == TK_END) return nr_fail(c, tok, -EINVAL, "missing \"}\"");
    if (s->n == cap) {
      struct nr_expr **nv = nr_alloc(&c->arena, (size_t)cap * 2 * sizeof *nv);
      if (nv == NULL) return -ENOMEM;
      memcpy(nv, s->v, (size_t)cap * sizeof *nv);
      s->v = nv;
      cap *= 2;
    }
    if (KIND(c) == TK_WORD && c->text[T(c).pos] == '@')
      return nr_unsupported(c, c->i, "a set inside a set");
    if ((rc = parse_elem(c, &s->v[s->n], is_map)) < 0) return rc;
    s->n++;
    if (KIND(c) == TK_COMMA) { c->i++; continue; }
    if (KIND(c) == TK_RBRACE) break;
    return nr_fail(c, c->i, -EINVAL, "expected \",\" or \"}\" in a set, got %s",
                   nr_tokq(c, c->i, b, sizeof b));
  }
  c->i++;
  *out = s;
  return 0;
}

/* A right-hand side: a set, @set, or a value (with "a,b" lists when allow_list). */
int nr_parse_rhs(struct nr_cc *c, struct nr_expr **out, int allow_list) {
  int rc, tok = c->i;
  if (KIND(c) == TK_LBRACE) return nr_parse_set_body(c, out, 0);
  if (KIND(c) == TK_WORD && c->text[T(c).pos] == '@') return parse_setref(c, out);
  struct nr_expr *e = NULL;
  if ((rc = parse_concat_rhs(c, &e)) < 0) return rc;
  if (!allow_list || KIND(c) != TK_COMMA) { *out = e; return 0; }
  struct nr_expr *list = nr_expr_new(c, X_LIST, tok);
  if (list == NULL) return -ENOMEM;
  list->flags = XF_CONST;
  list->v = nr_alloc(&c->arena, 32 * sizeof *list->v);
  if (list->v == NULL) return -ENOMEM;
  list->v[list->n++] = e;
  while (KIND(c) == TK_COMMA) {
    c->i++;
    if (list->n == 32) return nr_fail(c, c->i, -EINVAL, "list too long");
    if ((rc = parse_basic_rhs(c, &list->v[list->n])) < 0) return rc;
    list->n++;
  }
  *out = list;
  return 0;
}
