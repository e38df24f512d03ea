/* Internals shared by the nftrule_*.c files (not installed, not public). */
#ifndef CNET_NFTRULE_INT_H
#define CNET_NFTRULE_INT_H

#include <stddef.h>
#include <stdint.h>
#include "cnet/nftrule.h"

/* ---- lexer (nftrule_lex.c) ---- */
enum tok_kind { TK_END, TK_WORD, TK_STRING, TK_LBRACE, TK_RBRACE, TK_COMMA, TK_NEQ, TK_PIPE,
                TK_BAD };
struct tok {
  enum tok_kind kind;
  unsigned pos, len;   /* byte offset into the text and length (a string: with its quotes) */
};
/* Splits text into tokens (last one TK_END). Returns the count, or -ENOMEM; on an unterminated
 * string the token is TK_BAD. *out is malloc'ed. */
int nftrule_lex(const char *text, struct tok **out);

/* ---- fields (nftrule_field.c) ---- */
enum fkind { FK_IFNAME, FK_IFINDEX, FK_PROTO, FK_MARK, FK_NFPROTO, FK_IP4, FK_IP6, FK_PORT,
             FK_ICMPTYPE, FK_CTSTATE };
enum { L3_NONE = 0, L3_IP4 = 2, L3_IP6 = 10 };   /* NFPROTO_ numbers */

/* One header field or meta/ct key a match can name. */
struct field {
  const char *name;    /* as printed: "ip saddr", "tcp dport", "meta l4proto", "iifname" */
  enum fkind kind;
  int src;             /* 0 meta, 1 payload, 2 ct */
  uint32_t key;        /* meta/ct key, or payload base (NFT_PAYLOAD_*_HEADER) */
  uint32_t offset;     /* payload offset in bytes */
  uint32_t len;        /* bytes */
  uint32_t l3;         /* network protocol this field needs (L3_IP4/L3_IP6/L3_NONE) */
  uint32_t l4;         /* transport protocol number this field needs (0: none) */
  uint32_t dtype;      /* nft datatype number, for sets */
};
extern const struct field nftrule_fields[];
const struct field *nftrule_field_by_name(const char *a, size_t alen, const char *b, size_t blen);
const struct field *nftrule_field_meta(uint32_t key);
const struct field *nftrule_field_ct(uint32_t key);
/* The payload field starting at base/offset (NULL if none). l3 resolves ip vs ip6. */
const struct field *nftrule_field_payload(uint32_t base, uint32_t offset, uint32_t l3, uint32_t l4);

/* Names */
int nftrule_proto_by_name(const char *s, size_t n);          /* -1 if unknown */
void nftrule_proto_print(unsigned proto, char *buf, size_t size);
int nftrule_icmp_by_name(const char *s, size_t n);
const char *nftrule_icmp_name(unsigned type);                /* NULL if unnamed */
int nftrule_ctstate_by_name(const char *s, size_t n);        /* bit, or -1 */
/* Formats one value of field f (len bytes as in the register) into buf. */
void nftrule_value_print(const struct field *f, const uint8_t *v, char *buf, size_t size);

/* ---- compiler state (nftrule_compile.c, nftrule_value.c, nftrule_emit.c) ---- */
struct nftnl_rule;
struct nftnl_expr;
struct cc {
  const char *text;
  struct tok *t;
  int nt, i;                     /* tokens, current index */
  const struct cnet_nftrule_env *env;
  int family;
  struct nftnl_rule *r;
  struct cnet_nftrule_out *out;
  struct cnet_nftrule_err *err;
  uint32_t l3;                   /* network protocol known so far (L3_*), 0 unknown */
  int l4;                        /* transport protocol known so far, -1 unknown */
  int l4_mixed;                  /* a protocol match contradicted l4: no header may follow */
  uint32_t next_id;
  unsigned nexpr;                /* expressions added so far (em_add) */
  int stmt;                      /* token that starts the statement or match being compiled */
  int terminal;                  /* token of the terminal statement seen (verdict, reject, NAT),
                                  * -1 while none: nothing but a comment may follow it */
};

/* The kernel's limit on expressions in one rule (NFT_RULE_MAXEXPRS in nf_tables_api.c): it
 * refuses a rule with more. em_add refuses the 129th with -EINVAL at the current token. */
enum { CC_MAXEXPRS = 128 };

/* One element of a match: a value, a range lo-hi or a prefix (stored as its range). */
struct elem {
  uint8_t lo[16], hi[16];
  int plen;                      /* prefix length, -1 if not a prefix */
  int range;                     /* lo != hi */
};

/* Records the error (message quoting the rule, column of token `tok`, or 0 if tok < 0) and
 * returns rc. */
int cc_fail(struct cc *c, int tok, int rc, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Copies token `tok`'s text (strings: without quotes) into buf; -1 if it does not fit. */
int cc_tokstr(const struct cc *c, int tok, char *buf, size_t size);
int cc_is(const struct cc *c, int tok, const char *word);

/* nftrule_value.c: parses token `tok` as one element of field f (value, range, prefix). */
int cc_elem(struct cc *c, const struct field *f, int tok, struct elem *e);
int cc_number(const char *s, unsigned long long max, unsigned long long *out);

/* nftrule_emit.c: expression builders; each returns 0, -ENOMEM, or -EINVAL past CC_MAXEXPRS
 * expressions (the error recorded). */
int em_meta_load(struct cc *c, uint32_t key);
int em_payload(struct cc *c, uint32_t base, uint32_t off, uint32_t len);
int em_ct(struct cc *c, uint32_t key);
int em_cmp(struct cc *c, uint32_t op, const void *data, uint32_t len);
int em_bitwise(struct cc *c, const void *mask, uint32_t len);
int em_range(struct cc *c, uint32_t op, const void *lo, const void *hi, uint32_t len);
int em_lookup(struct cc *c, const char *set, uint32_t id, int neg);
int em_imm(struct cc *c, uint32_t reg, const void *data, uint32_t len);
int em_verdict(struct cc *c, int verdict, const char *chain);
int em_add(struct cc *c, struct nftnl_expr *e);
/* Builds the anonymous set for elems (sorted, checked) and queues it in c->out; *id gets the
 * set id. tok: the '{' token, for errors. */
int em_anon_set(struct cc *c, const struct field *f, struct elem *elems, unsigned n, int tok,
                uint32_t *id);

/* ---- small string builder ----
 * Into a fixed buffer (p, size: what does not fit is cut, and overflow set), or, with heap
 * set, into a malloc'd one that grows (p may start NULL; overflow set only when out of
 * memory; the caller frees p). */
struct sbuf { char *p; size_t size, len; int overflow, heap; };
void sb_add(struct sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
