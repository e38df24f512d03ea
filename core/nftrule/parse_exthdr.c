/* The grammar of extension header expressions, nft's way: "tcp option maxseg size",
 * "tcp option sack-perm" (exists/missing), "tcp option @kind,offset,length", "ip option rr
 * ptr", "exthdr frag" (exists/missing), "frag more-fragments", "rt0 addr[1]", "srh sid[2]",
 * "sctp chunk init num-inbound-streams", and the statement "reset tcp option sack-perm".
 * The fields come from exthdr.c's tables. */
#include "nftrule/nr_int.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <linux/netfilter/nf_tables.h>

#define T(c) ((c)->t[(c)->i])
#define KIND(c) (T(c).kind)

static const char *word(const struct nr_cc *c, int tok, size_t *len) {
  *len = c->t[tok].kind == TK_WORD ? c->t[tok].len : 0;
  return c->text + c->t[tok].pos;
}

/* An X_EXTHDR load of field f (offset moved by `extra` bits) of d, or of the whole option
 * for an exists/missing check (f is then its first field: kind, type, next header). */
static int new_exthdr(struct nr_cc *c, int tok, int op, unsigned type,
                      const struct nr_xdesc *d, const struct nr_field *f, unsigned extra,
                      int present, struct nr_expr **out) {
  struct nr_expr *e = nr_expr_new(c, X_EXTHDR, tok);
  if (e == NULL) return -ENOMEM;
  e->u.ex.op = (uint8_t)op;
  e->u.ex.type = (uint8_t)(d ? d->type : type);
  e->u.ex.d = d;
  e->u.ex.f = f;
  e->u.ex.off = (uint16_t)(f ? f->off + extra : 0);
  e->u.ex.flags = present ? NFT_EXTHDR_F_PRESENT : 0;
  e->bits = f ? f->bits : 8;
  e->type = present ? T_BOOLEAN : f ? f->type : T_INTEGER;
  e->order = BO_BE;
  *out = e;
  return 0;
}

/* ---- tcp option ---- */

/* A tcp option named by nft's words, or by its kind (0-255). *sack: the block of a sack0-3
 * name; *named: written by a name that takes the option's own fields. */
static int tcp_kind(const char *w, size_t n, const struct nr_xdesc **d,
                    unsigned *kind, int *sack, int *named) {
  static const struct { const char *alias, *name; int sack; } alias[] = {
    {"mss", "maxseg", 0}, {"sack-permitted", "sack-perm", 0}, {"sack0", "sack", 0},
    {"sack1", "sack", 1}, {"sack2", "sack", 2}, {"sack3", "sack", 3}, {"echo", "timestamp", -1}};
  char s[32];
  unsigned long long v;
  *sack = 0;
  *named = 1;
  for (size_t j = 0; j < sizeof alias / sizeof alias[0]; j++)
    if (strlen(alias[j].alias) == n && memcmp(alias[j].alias, w, n) == 0) {
      if (alias[j].sack < 0) *named = 0;  /* "echo": kind 8, but not its fields */
      else *sack = alias[j].sack;
      w = alias[j].name;
      n = strlen(w);
      break;
    }
  if ((*d = nr_xdesc_byname(NFT_EXTHDR_OP_TCPOPT, w, n)) != NULL) {
    *kind = (*d)->type;
    return 0;
  }
  if (n == 0 || n >= sizeof s) return -1;
  memcpy(s, w, n);
  s[n] = 0;
  if (nr_number(s, ~0ULL, &v) < 0) return -1;
  if (v > 255) return -2;
  *kind = (unsigned)v;
  *d = nr_xdesc_bytype(NFT_EXTHDR_OP_TCPOPT, *kind);
  *named = 0;
  return 0;
}

/* tcp option @KIND,OFFSET,LENGTH: bits of an option, named or not */
static int tcp_raw(struct nr_cc *c, int tok, struct nr_expr **out) {
  size_t n;
  const char *w = word(c, c->i, &n);
  const struct nr_xdesc *d;
  unsigned kind;
  int sack, named, ktok = c->i;
  if (n < 2 || tcp_kind(w + 1, n - 1, &d, &kind, &sack, &named) < 0 || sack)
    return nr_fail(c, ktok, -EINVAL, "expected a tcp option kind after \"@\"");
  c->i++;
  unsigned long long v[2];
  for (int j = 0; j < 2; j++) {
    char s[32];
    if (KIND(c) != TK_COMMA)
      return nr_fail(c, c->i, -EINVAL, "expected \",\" in a raw tcp option expression");
    c->i++;
    if (KIND(c) != TK_WORD || nr_tokstr(c, c->i, s, sizeof s) < 0 || nr_number(s, 255, &v[j]) < 0)
      return nr_fail(c, c->i, -EINVAL, "expected a number of bits (0-255)");
    c->i++;
  }
  if (v[1] == 0 || v[1] > 128)
    return nr_fail(c, tok, -EINVAL, "raw tcp option length %llu out of range", v[1]);
  const struct nr_field *f = nr_xfield_at(d, (unsigned)v[0], (unsigned)v[1]);
  /* nft checks the field it found (none: just the offset) against the options' room */
  if ((f ? f->bits : 0) + v[0] > 320)
    return nr_fail(c, tok, -EINVAL, "offset and size %llu exceeds max tcp headerlen (320)",
                   (f ? f->bits : 0) + v[0]);
  int rc = new_exthdr(c, tok, NFT_EXTHDR_OP_TCPOPT, kind, d, f, 0, 0, out);
  if (rc < 0) return rc;
  (*out)->u.ex.off = (uint16_t)v[0];
  (*out)->bits = (uint16_t)v[1];
  (*out)->type = f ? f->type : T_INTEGER;
  return 0;
}

/* "tcp option" is at c->i - 2 (tok), the option at c->i */
static int tcp_option(struct nr_cc *c, int tok, struct nr_expr **out) {
  char b[80];
  size_t n;
  const char *w = word(c, c->i, &n);
  if (n == 0) return nr_fail(c, c->i, -EINVAL, "expected a tcp option after \"tcp option\"");
  if (w[0] == '@') return tcp_raw(c, tok, out);
  const struct nr_xdesc *d;
  unsigned kind;
  int sack, named, ktok = c->i;
  int rc = tcp_kind(w, n, &d, &kind, &sack, &named);
  if (rc == -2) return nr_fail(c, ktok, -EINVAL, "tcp option kind %.*s too large (0-255)", (int)n, w);
  if (rc < 0) return nr_fail(c, ktok, -EINVAL, "unknown tcp option %s", nr_tokq(c, ktok, b, sizeof b));
  c->i++;
  w = word(c, c->i, &n);
  const struct nr_field *f = NULL;
  if (n == 6 && memcmp(w, "length", 6) == 0) {
    f = nr_xfield_byname(d, "length", 6);
    if (f == NULL)
      return nr_fail(c, c->i, -EINVAL, "tcp option %.*s has no length field",
                     (int)c->t[ktok].len, c->text + c->t[ktok].pos);
  } else if (n > 0 && !(n == 4 && memcmp(w, "kind", 4) == 0) &&
             (f = nr_xfield_byname(d, w, n)) != NULL && !named) {
    return nr_fail(c, c->i, -EINVAL, "tcp option %.*s: write its name to read %.*s",
                   (int)c->t[ktok].len, c->text + c->t[ktok].pos, (int)n, w);
  }
  if (f == NULL) {
    /* no field: whether the option is there (exists, missing) */
    static const char *const fields[] = {"size", "count", "left", "right", "tsval", "tsecr",
                                         "subtype", NULL};
    for (int j = 0; fields[j]; j++)
      if (strlen(fields[j]) == n && memcmp(fields[j], w, n) == 0)
        return nr_fail(c, c->i, -EINVAL, "tcp option %.*s has no field %s",
                       (int)c->t[ktok].len, c->text + c->t[ktok].pos, fields[j]);
    if (sack && d) return new_exthdr(c, tok, NFT_EXTHDR_OP_TCPOPT, kind, d, &d->f[0], 0, 1, out);
    return new_exthdr(c, tok, NFT_EXTHDR_OP_TCPOPT, kind, d, d ? &d->f[0] : NULL, 0, 1, out);
  }
  c->i++;
  unsigned extra = f->bits == 32 && f->off >= 16 && d->type == 5 ? 64u * (unsigned)sack : 0;
  return new_exthdr(c, tok, NFT_EXTHDR_OP_TCPOPT, kind, d, f, extra, 0, out);
}

/* ---- ip option, sctp chunk ---- */

/* "ip option TYPE [FIELD]", "sctp chunk TYPE [FIELD]" (op decides which) */
static int typed_option(struct nr_cc *c, int tok, int op, struct nr_expr **out) {
  char b[80];
  size_t n;
  const char *what = op == NFT_EXTHDR_OP_IPV4 ? "ip option" : "sctp chunk";
  const char *w = word(c, c->i, &n);
  const struct nr_xdesc *d = n ? nr_xdesc_byname(op, w, n) : NULL;
  if (d == NULL)
    return nr_fail(c, c->i, -EINVAL, "unknown %s %s", what, nr_tokq(c, c->i, b, sizeof b));
  c->i++;
  w = word(c, c->i, &n);
  const struct nr_field *f = n ? nr_xfield_byname(d, w, n) : NULL;
  if (f == NULL) {
    /* a field of another option or chunk is a mistake, anything else the value of
     * exists/missing */
    int other = 0;
    for (unsigned t = 0; t < 256 && !other && n; t++) {
      const struct nr_xdesc *x = nr_xdesc_bytype(op, t);
      other = x && nr_xfield_byname(x, w, n);
    }
    if (other) return nr_fail(c, c->i, -EINVAL, "%s %s has no field %.*s", what, d->name, (int)n, w);
    return new_exthdr(c, tok, op, d->type, d, &d->f[0], 0, 1, out);
  }
  c->i++;
  return new_exthdr(c, tok, op, d->type, d, f, 0, 0, out);
}

/* ---- IPv6 extension headers ---- */

/* a field name, "addr[1]" also written "addr [1]" or "addr [ 1 ]", into buf */
static int field_name(struct nr_cc *c, char *buf, size_t size) {
  size_t len = 0, n;
  const char *w = word(c, c->i, &n);
  if (n == 0 || n >= size) return -1;
  memcpy(buf, w, n);
  len = n;
  buf[len] = 0;
  c->i++;
  if ((strcmp(buf, "addr") == 0 || strcmp(buf, "sid") == 0) && KIND(c) == TK_WORD &&
      c->text[T(c).pos] == '[') {
    while (KIND(c) == TK_WORD && len + T(c).len < size) {
      memcpy(buf + len, c->text + T(c).pos, T(c).len);
      len += T(c).len;
      c->i++;
      if (buf[len - 1] == ']') break;
    }
  }
  buf[len] = 0;
  return 0;
}

static int ip6_header(struct nr_cc *c, int tok, struct nr_expr **out) {
  char b[80], name[48];
  size_t n;
  const char *w = word(c, tok, &n);
  const struct nr_xdesc *d = nr_xdesc_byname(NFT_EXTHDR_OP_IPV6, w, n);
  if (nr_is(c, tok, "rt2")) {
    /* nft has no field of the type 2 routing header it can load ("rt2 addr" fails) */
    return nr_fail(c, c->i, -EINVAL, "rt2 has no field nft can match");
  }
  int ftok = c->i;
  if (field_name(c, name, sizeof name) < 0)
    return nr_fail(c, ftok, -EINVAL, "expected a %.*s header field, got %s", (int)n, w,
                   nr_tokq(c, ftok, b, sizeof b));
  const struct nr_field *f = nr_xfield_byname(d, name, strlen(name));
  if (f && d == nr_xdesc_byname(NFT_EXTHDR_OP_IPV6, "rt0", 3) && strncmp(name, "addr", 4) != 0)
    f = NULL;  /* nft's grammar reads only the addresses of a type 0 routing header */
  if (f == NULL) {
    const char *br = strchr(name, '[');
    if (br && strcmp(br, "[0]") == 0)
      return nr_unsupported(c, ftok, "%s %s (index 0 reads the field before the addresses)",
                            d->name, name);
    return nr_fail(c, ftok, -EINVAL, "unknown %s header field \"%s\"", d->name, name);
  }
  return new_exthdr(c, tok, NFT_EXTHDR_OP_IPV6, d->type, d, f, 0, 0, out);
}

/* "exthdr hbh": whether the header is there (exists, missing) */
static int ip6_exists(struct nr_cc *c, int tok, struct nr_expr **out) {
  size_t n;
  const char *w = word(c, c->i, &n);
  static const char *const names[] = {"hbh", "rt", "frag", "dst", "mh", NULL};
  for (int j = 0; names[j]; j++)
    if (strlen(names[j]) == n && memcmp(names[j], w, n) == 0) {
      const struct nr_xdesc *d = nr_xdesc_byname(NFT_EXTHDR_OP_IPV6, w, n);
      c->i++;
      return new_exthdr(c, tok, NFT_EXTHDR_OP_IPV6, d->type, d, &d->f[0], 0, 1, out);
    }
  return nr_fail(c, c->i, -EINVAL, "expected hbh, rt, frag, dst or mh after \"exthdr\"");
}

int nr_parse_exthdr(struct nr_cc *c, struct nr_expr **out) {
  int tok = c->i;
  if (KIND(c) != TK_WORD) return 1;
  if (nr_is(c, tok, "tcp") && nr_is(c, tok + 1, "option")) {
    c->i += 2;
    return tcp_option(c, tok, out);
  }
  if (nr_is(c, tok, "ip") && nr_is(c, tok + 1, "option")) {
    c->i += 2;
    return typed_option(c, tok, NFT_EXTHDR_OP_IPV4, out);
  }
  if (nr_is(c, tok, "sctp") && nr_is(c, tok + 1, "chunk")) {
    c->i += 2;
    return typed_option(c, tok, NFT_EXTHDR_OP_SCTP, out);
  }
  if (nr_is(c, tok, "exthdr")) {
    c->i++;
    return ip6_exists(c, tok, out);
  }
  static const char *const rthdr[] = {"nexthdr", "hdrlength", "type", "seg-left", NULL};
  int rt_field = 0;
  if (nr_is(c, tok, "rt"))  /* "rt" alone is routing data: exthdr only before these fields */
    for (int j = 0; rthdr[j]; j++) rt_field |= nr_is(c, tok + 1, rthdr[j]);
  if (rt_field || nr_is(c, tok, "hbh") || nr_is(c, tok, "frag") ||
      nr_is(c, tok, "dst") || nr_is(c, tok, "mh") || nr_is(c, tok, "srh") ||
      nr_is(c, tok, "rt0") || nr_is(c, tok, "rt2")) {
    c->i++;
    return ip6_header(c, tok, out);
  }
  return 1;
}

/* reset tcp option KIND: the option is overwritten with no-ops (c->i after "reset") */
int nr_parse_optstrip(struct nr_cc *c, int tok) {
  char b[80];
  if (!nr_is(c, c->i, "tcp") || !nr_is(c, c->i + 1, "option"))
    return nr_fail(c, c->i, -EINVAL, "expected \"tcp option\" after reset");
  c->i += 2;
  size_t n;
  const char *w = word(c, c->i, &n);
  const struct nr_xdesc *d;
  unsigned kind;
  int sack, named, ktok = c->i;
  int rc = n ? tcp_kind(w, n, &d, &kind, &sack, &named) : -1;
  if (rc == -2) return nr_fail(c, ktok, -EINVAL, "tcp option kind %.*s too large (0-255)", (int)n, w);
  if (rc < 0) return nr_fail(c, ktok, -EINVAL, "unknown tcp option %s", nr_tokq(c, ktok, b, sizeof b));
  c->i++;
  struct nr_stmt *s = nr_stmt_new(c, S_OPTSTRIP, tok);
  if (s == NULL) return -ENOMEM;
  if ((rc = new_exthdr(c, ktok, NFT_EXTHDR_OP_TCPOPT, kind, d, NULL, 0, 1, &s->key)) < 0)
    return rc;
  nr_stmt_add(c, s);
  return 0;
}
