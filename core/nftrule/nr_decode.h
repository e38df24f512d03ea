/* The decoder's state, shared by decode.c (expressions to statements), decode_post.c (nft's
 * postprocessing: dependencies, header fields, types) and print.c (text). */
#ifndef CNET_NR_DECODE_H
#define CNET_NR_DECODE_H

#include <stdarg.h>
#include "nftrule/nr_int.h"

enum { NR_DREGS = 20 };

struct nr_dc {
  struct nr_cc c;                  /* arena, statement list, family, protocol context */
  const struct cnet_nftrule_denv *env;
  struct nr_expr *reg[NR_DREGS];   /* what each 32-bit register slot holds */
  char bad[160];                   /* what could not be decoded */
  struct nr_stmt *pdeps[6];        /* per base: a protocol match a later field may imply */
  struct nr_stmt *prev;            /* the statement before (ranges come in two) */
  int in_concat;                   /* post: walking a concatenation's parts */
  struct nr_stmt *resume;          /* a statement split in parts: its last part, done */
};

/* A load nothing names yet: "@base,offset,length", an integer printed in hex, except the
 * transport header's first two 16-bit words: "th sport", "th dport" (nft's payload_init_raw).
 * Sets u.pl (base and off kept), type and order. */
void nr_payload_raw(struct nr_expr *p);
int nr_dfail(struct nr_dc *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int nr_decode_exprs(struct nr_dc *d, const struct nftnl_rule *r);
/* A counter, limit, quota or connlimit expression as its statement (not added to the rule;
 * NULL for another expression or no memory). */
struct nftnl_expr;
struct nr_stmt *nr_decode_stateful(struct nr_dc *d, const struct nftnl_expr *e);
int nr_decode_post(struct nr_dc *d);
int nr_print_rule(struct nr_dc *d, struct nr_sbuf *b);

#endif
