/* The compiler's small helpers: the arena, error messages, tokens, numbers, a string builder. */
#define _GNU_SOURCE
#include "nftrule/nr_int.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- arena: one compile's nodes, freed at once ---- */

struct nr_chunk { struct nr_chunk *next; size_t used, size; _Alignas(16) char mem[]; };

/* One first chunk kept per thread between compiles: a chunk of this size is past malloc's
 * per-thread cache, and getting and giving back one for every rule of a big ruleset was a
 * tenth of its compile time. */
#define NR_CHUNK 8192
static _Thread_local struct nr_chunk *spare;

void *nr_alloc(struct nr_arena *a, size_t n) {
  n = (n + 15) & ~(size_t)15;
  struct nr_chunk *h = a->head;
  if (h == NULL || h->size - h->used < n) {
    size_t size = n > NR_CHUNK ? n : NR_CHUNK;
    struct nr_chunk *k = NULL;
    if (size == NR_CHUNK && spare != NULL) {
      k = spare;
      spare = NULL;
    } else {
      k = malloc(sizeof *k + size);
    }
    if (k == NULL) return NULL;
    k->next = h;
    k->used = 0;
    k->size = size;
    a->head = h = k;
  }
  void *p = h->mem + h->used;
  h->used += n;
  memset(p, 0, n);
  return p;
}

void nr_arena_free(struct nr_arena *a) {
  for (struct nr_chunk *k = a->head, *next; k; k = next) {
    next = k->next;
    if (k->size == NR_CHUNK && spare == NULL) spare = k;
    else free(k);
  }
  a->head = NULL;
}

char *nr_strdup(struct nr_arena *a, const char *s, size_t n) {
  char *p = nr_alloc(a, n + 1);
  if (p) memcpy(p, s, n);
  return p;
}

/* ---- errors ---- */

/* Bytes of the rule, and of one token, a message quotes: a message about a long rule stays
 * short whole, the column and the reason included (the bindings cut longer ones). */
enum { RULE_QUOTE = 48, TOKEN_QUOTE = 40 };

static int vfail(struct nr_cc *c, int tok, int rc, const char *suffix, const char *fmt,
                 va_list ap) {
  if (c->err == NULL) return rc;
  char what[300];
  vsnprintf(what, sizeof what, fmt, ap);
  c->err->column = tok >= 0 && tok < c->nt ? (int)c->t[tok].pos + 1 : 0;
  struct nr_sbuf b = {c->err->msg, sizeof c->err->msg, 0, 0, 0};
  size_t n = strlen(c->text);
  if (n > RULE_QUOTE) nr_sb_add(&b, "rule \"%.*s...\" (%zu bytes): ", RULE_QUOTE, c->text, n);
  else nr_sb_add(&b, "rule \"%s\": ", c->text);
  if (c->err->column > 0) nr_sb_add(&b, "column %d: ", c->err->column);
  nr_sb_add(&b, "%s%s", what, suffix);
  return rc;
}

int nr_fail(struct nr_cc *c, int tok, int rc, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  rc = vfail(c, tok, rc, "", fmt, ap);
  va_end(ap);
  return rc;
}

int nr_unsupported(struct nr_cc *c, int tok, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int rc = vfail(c, tok, -EOPNOTSUPP, " is not supported by cnet", fmt, ap);
  va_end(ap);
  return rc;
}

/* ---- tokens ---- */

int nr_tokstr(const struct nr_cc *c, int tok, char *buf, size_t size) {
  const struct tok *k = &c->t[tok];
  const char *p = c->text + k->pos;
  size_t n = k->len;
  if (k->kind == TK_STRING) { p++; n -= 2; }
  if (n + 1 > size) return -1;
  memcpy(buf, p, n);
  buf[n] = 0;
  return 0;
}

const char *nr_tokq(const struct nr_cc *c, int tok, char *buf, size_t size) {
  const struct tok *k = &c->t[tok];
  if (k->kind == TK_END) return "end of rule";
  if (k->len > TOKEN_QUOTE) snprintf(buf, size, "\"%.*s...\"", TOKEN_QUOTE, c->text + k->pos);
  else snprintf(buf, size, "\"%.*s\"", (int)k->len, c->text + k->pos);
  return buf;
}

const char *nr_tokdup(struct nr_cc *c, int tok) {
  const struct tok *k = &c->t[tok];
  const char *p = c->text + k->pos;
  size_t n = k->len;
  if (k->kind == TK_STRING) { p++; n -= 2; }
  char *s = nr_strdup(&c->arena, p, n);
  if (s == NULL) c->oom = 1;
  return s;
}

/* ---- nodes ---- */

struct nr_expr *nr_expr_new(struct nr_cc *c, int kind, int tok) {
  struct nr_expr *e = nr_alloc(&c->arena, sizeof *e);
  if (e == NULL) { c->oom = 1; return NULL; }
  e->kind = (uint8_t)kind;
  e->tok = tok;
  return e;
}

struct nr_expr *nr_value_new(struct nr_cc *c, int type, int order, unsigned bits, int tok) {
  struct nr_expr *e = nr_expr_new(c, X_VALUE, tok);
  if (e == NULL) return NULL;
  e->val = nr_alloc(&c->arena, NR_VMAX);
  if (e->val == NULL) { c->oom = 1; return NULL; }
  e->type = (uint8_t)type;
  e->order = (uint8_t)order;
  e->bits = (uint16_t)bits;
  e->flags = XF_CONST;
  return e;
}

struct nr_stmt *nr_stmt_new(struct nr_cc *c, int kind, int tok) {
  struct nr_stmt *s = nr_alloc(&c->arena, sizeof *s);
  if (s == NULL) { c->oom = 1; return NULL; }
  s->kind = (uint8_t)kind;
  s->tok = tok;
  return s;
}

void nr_stmt_add(struct nr_cc *c, struct nr_stmt *s) {
  if (c->last) c->last->next = s;
  else c->first = s;
  c->last = s;
}

/* ---- numbers ---- */

int nr_number(const char *s, unsigned long long max, unsigned long long *out) {
  if (*s < '0' || *s > '9') return -1;
  char *end;
  errno = 0;
  /* like nft: decimal, hex with 0x, and octal with a leading 0 (nft reads 022 as 18) */
  int hex = s[0] == '0' && (s[1] == 'x' || s[1] == 'X');
  if (hex && !((s[2] >= '0' && s[2] <= '9') || (s[2] >= 'a' && s[2] <= 'f') ||
               (s[2] >= 'A' && s[2] <= 'F')))
    return -1;
  unsigned long long v = strtoull(s, &end, 0);
  if (errno != 0 || *end != 0 || v > max) return -1;
  *out = v;
  return 0;
}

void nr_be_put(uint8_t *v, unsigned bytes, uint64_t x) {
  for (unsigned i = bytes; i-- > 0;) {
    v[i] = (uint8_t)x;
    x >>= 8;
  }
}

uint64_t nr_be_get(const uint8_t *v, unsigned bytes) {
  uint64_t x = 0;
  for (unsigned i = 0; i < bytes; i++) x = (x << 8) | v[i];
  return x;
}

void nr_sb_add(struct nr_sbuf *b, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  size_t room = b->len < b->size ? b->size - b->len : 0;
  int n = vsnprintf(room ? b->p + b->len : NULL, room, fmt, ap);
  va_end(ap);
  if (n < 0) return;
  if ((size_t)n >= room && b->heap && !b->overflow) {
    size_t size = b->size ? b->size : 256;
    while (size - b->len <= (size_t)n) size *= 2;
    char *p = realloc(b->p, size);
    if (p != NULL) {
      b->p = p;
      b->size = size;
      va_start(ap, fmt);
      vsnprintf(b->p + b->len, size - b->len, fmt, ap);
      va_end(ap);
      b->len += (size_t)n;
      return;
    }
  }
  if ((size_t)n >= room) b->overflow = 1;
  if ((size_t)n < room || !b->heap) b->len += (size_t)n;  /* a heap buffer keeps what fits */
}
