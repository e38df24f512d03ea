/* The grammar of the statements that send a packet (or a copy) somewhere else, nft's way:
 * "dup to ADDR [device IFNAME]", "fwd [ip|ip6 to ADDR device] to IFNAME", "tproxy [ip|ip6]
 * to [ADDR][:PORT]", "queue [num N[-M]] [flags bypass,fanout] [to EXPR]", "flow add @FT".
 * Their values are read by eval_fwd.c against the table's family. */
#include "nftrule/nr_int.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>

#define T(c) ((c)->t[(c)->i])
#define KIND(c) (T(c).kind)

/* a value: an expression (a map lookup included) or one word or string */
static int value(struct nr_cc *c, const char *what, struct nr_expr **out) {
  if (KIND(c) != TK_WORD && KIND(c) != TK_STRING && KIND(c) != TK_LPAREN)
    return nr_fail(c, c->i, -EINVAL, "expected %s", what);
  if (KIND(c) == TK_WORD && nr_starts_expr(c, c->i)) return nr_parse_stmt_arg(c, out);
  struct nr_expr *e = nr_expr_new(c, X_SYMBOL, c->i);
  if (e == NULL) return -ENOMEM;
  e->str = nr_tokdup(c, c->i);
  e->flags = XF_CONST;
  if (KIND(c) == TK_STRING) e->op = 1;  /* quoted */
  c->i++;
  *out = e;
  return e->str ? 0 : -ENOMEM;
}

static int family_word(struct nr_cc *c, uint32_t *family) {
  if (nr_is(c, c->i, "ip")) *family = NFPROTO_IPV4;
  else if (nr_is(c, c->i, "ip6")) *family = NFPROTO_IPV6;
  else return 0;
  c->i++;
  return 1;
}

static int expect_to(struct nr_cc *c, const char *stmt) {
  if (!nr_is(c, c->i, "to")) return nr_fail(c, c->i, -EINVAL, "expected \"to\" after %s", stmt);
  c->i++;
  return 0;
}

/* dup to ADDR [device IFNAME] (ip, ip6), dup to IFNAME (netdev) */
static int st_dup(struct nr_cc *c, int tok) {
  int rc;
  struct nr_stmt *s = nr_stmt_new(c, S_DUP, tok);
  if (s == NULL) return -ENOMEM;
  if ((rc = expect_to(c, "dup")) < 0 || (rc = value(c, "a destination", &s->key)) < 0) return rc;
  if (nr_is(c, c->i, "device")) {
    c->i++;
    if ((rc = value(c, "a device", &s->e2)) < 0) return rc;
  }
  nr_stmt_add(c, s);
  return 0;
}

/* fwd to IFNAME; fwd ip|ip6 to ADDR device IFNAME (netdev) */
static int st_fwd(struct nr_cc *c, int tok) {
  int rc;
  struct nr_stmt *s = nr_stmt_new(c, S_FWD, tok);
  if (s == NULL) return -ENOMEM;
  if (family_word(c, &s->u.fwd.family)) {
    if ((rc = expect_to(c, "fwd")) < 0 || (rc = value(c, "an address", &s->key)) < 0) return rc;
    if (!nr_is(c, c->i, "device"))
      return nr_fail(c, c->i, -EINVAL, "expected \"device\" after the address");
    c->i++;
  } else if ((rc = expect_to(c, "fwd")) < 0) {
    return rc;
  }
  if ((rc = value(c, "a device", &s->e2)) < 0) return rc;
  nr_stmt_add(c, s);
  return 0;
}

/* tproxy [ip|ip6] to ADDR | ADDR:PORT | [ADDR6]:PORT | :PORT | ADDR : PORT | EXPR */
static int st_tproxy(struct nr_cc *c, int tok) {
  int rc;
  struct nr_stmt *s = nr_stmt_new(c, S_TPROXY, tok);
  if (s == NULL) return -ENOMEM;
  family_word(c, &s->u.tp.family);
  if ((rc = expect_to(c, "tproxy")) < 0) return rc;
  int atok = c->i;
  if (KIND(c) != TK_WORD) return nr_fail(c, c->i, -EINVAL, "expected an address or \":PORT\"");
  const char *w = c->text + T(c).pos;
  if (w[0] == ':' && T(c).len > 1 && w[1] >= 'a' && w[1] <= 'z')
    /* nft lists a port from an expression as nothing at all */
    return nr_unsupported(c, atok, "a tproxy port chosen by an expression");
  if (nr_starts_expr(c, c->i)) {
    if ((rc = nr_parse_stmt_arg(c, &s->key)) < 0) return rc;
  } else {
    int v6 = s->u.tp.family == NFPROTO_IPV6 || (s->u.tp.family == 0 && c->family == NFPROTO_IPV6);
    if ((rc = nr_parse_nat_word(c, atok, v6, &s->key, &s->e2)) < 0) return rc;
    c->i++;
    if (s->key && nr_is(c, c->i, "-") && c->t[c->i + 1].kind == TK_WORD)
      return nr_fail(c, atok, -EINVAL, "Address ranges are not supported for tproxy.");
  }
  if (s->key && s->e2 == NULL && nr_is(c, c->i, ":") && c->t[c->i + 1].kind == TK_WORD) {
    /* "ADDR : PORT" written with spaces */
    c->i++;
    if ((rc = value(c, "a port", &s->e2)) < 0) return rc;
  }
  nr_stmt_add(c, s);
  return 0;
}

/* queue [num N|N-M] [bypass] [fanout] / queue [flags F,F] (num N | to EXPR) */
static int st_queue(struct nr_cc *c, int tok) {
  int rc, flags_kw = 0;
  struct nr_stmt *s = nr_stmt_new(c, S_QUEUE, tok);
  if (s == NULL) return -ENOMEM;
  for (;;) {
    if (nr_is(c, c->i, "num") && s->e == NULL) {
      c->i++;
      if (KIND(c) != TK_WORD) return nr_fail(c, c->i, -EINVAL, "expected a queue number");
      if ((rc = value(c, "a queue number", &s->e)) < 0) return rc;
      if (s->e->kind == X_SYMBOL && nr_is(c, c->i, "-") && c->t[c->i + 1].kind == TK_WORD) {
        struct nr_expr *r = nr_expr_new(c, X_RANGE, s->e->tok), *hi;
        c->i++;
        if (r == NULL || (rc = value(c, "a queue number", &hi)) < 0) return r ? rc : -ENOMEM;
        r->l = s->e;
        r->r = hi;
        r->flags = XF_CONST;
        s->e = r;
      }
      if (flags_kw) break;  /* "queue flags F num N" ends there */
    } else if (nr_is(c, c->i, "flags") && !flags_kw && s->e == NULL && s->u.q.flags == 0) {
      c->i++;
      flags_kw = 1;
    } else if (nr_is(c, c->i, "bypass") || nr_is(c, c->i, "fanout")) {
      s->u.q.flags |= nr_is(c, c->i, "bypass") ? NFT_QUEUE_FLAG_BYPASS : NFT_QUEUE_FLAG_CPU_FANOUT;
      c->i++;
      if (KIND(c) == TK_COMMA) {
        c->i++;
        if (!nr_is(c, c->i, "bypass") && !nr_is(c, c->i, "fanout"))
          return nr_fail(c, c->i, -EINVAL, "expected bypass or fanout after \",\"");
      }
    } else if (nr_is(c, c->i, "to") && s->e == NULL) {
      c->i++;
      if ((rc = value(c, "a queue number or expression", &s->e)) < 0) return rc;
      break;
    } else {
      break;
    }
  }
  if (flags_kw && (s->u.q.flags == 0 || s->e == NULL))
    return nr_fail(c, c->i, -EINVAL, "expected queue flags, then \"num\" or \"to\"");
  nr_stmt_add(c, s);
  return 0;
}

/* flow add|offload @FLOWTABLE */
static int st_flow(struct nr_cc *c, int tok) {
  struct nr_stmt *s = nr_stmt_new(c, S_FLOW, tok);
  if (s == NULL) return -ENOMEM;
  if (nr_is(c, c->i, "table"))  /* "flow table NAME { ... }": the meter's old name */
    return nr_unsupported(c, tok, "\"flow table\", nft's old name for a meter,");
  if (!nr_is(c, c->i, "add") && !nr_is(c, c->i, "offload"))
    return nr_fail(c, c->i, -EINVAL, "expected add after flow");
  c->i++;
  if (KIND(c) != TK_WORD || c->text[T(c).pos] != '@' || T(c).len < 2)
    return nr_fail(c, c->i, -EINVAL, "expected @flowtable");
  s->u.flow.name = nr_strdup(&c->arena, c->text + T(c).pos + 1, T(c).len - 1);
  if (s->u.flow.name == NULL) return -ENOMEM;
  c->i++;
  nr_stmt_add(c, s);
  return 0;
}

int nr_parse_fwd_stmt(struct nr_cc *c, int *handled) {
  int tok = c->i;
  *handled = 1;
  if (nr_is(c, tok, "dup")) { c->i++; return st_dup(c, tok); }
  if (nr_is(c, tok, "fwd")) { c->i++; return st_fwd(c, tok); }
  if (nr_is(c, tok, "tproxy")) { c->i++; return st_tproxy(c, tok); }
  if (nr_is(c, tok, "queue")) { c->i++; return st_queue(c, tok); }
  if (nr_is(c, tok, "flow")) { c->i++; return st_flow(c, tok); }
  *handled = 0;
  return 0;
}
