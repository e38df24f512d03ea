/* Shared by the nft binding files (nft.c: module functions, apply, listings; nft_tx.c: the
 * transaction object and the commands). */
#ifndef LNFT_H
#define LNFT_H

#include "cnet/nft.h"
#include "common/lcnet.h"

#define LNFT_TX "cnet.nft.transaction"

/* The transaction userdata; tx == NULL once committed or closed. User values: 1 the namespace
 * handle (kept alive), 2 the table of bound methods, 3 the Lua line that queued each command.
 * one_call: every command is queued and committed by one C call (apply), so the line is that
 * call's caller for all of them: nothing is recorded per command, commit asks for it once. */
typedef struct {
  struct cnet_nft_tx *tx;
  lnetns *h; /* user value 1, kept here to check it per command without a Lua lookup */
  int committed;
  int one_call;
  int soft_restart; /* commit returns -ERESTART (stale read) instead of raising it */
} lnfttx;

/* Pushes a new open transaction on the namespace handle at stack index ns. */
lnfttx *lnft_tx_push(lua_State *L, int ns);
/* Sends the transaction at idx (raises the failed command's error object). Returns 0, or
 * -ERESTART without raising when the transaction has soft_restart set and the kernel refused
 * it for a stale read (the transaction is spent either way). */
int lnft_tx_commit(lua_State *L, int idx);

/* The commands, shared by transaction methods and one-shot shortcuts: each reads its
 * arguments from stack index `base` on and queues into the transaction at `txi`. */
typedef void (*lnft_op)(lua_State *L, int txi, int base);
struct lnft_opdef { const char *name; lnft_op fn; };
extern const struct lnft_opdef lnft_ops[];

/* Helpers for apply (nft.c): queue into the transaction at txi, raising on error. */
void lnft_add_table(lua_State *L, int txi, int family, const char *table);
void lnft_delete_table(lua_State *L, int txi, int family, const char *table);
void lnft_add_chain(lua_State *L, int txi, int family, const char *table, const char *chain,
                    int spec);
void lnft_add_rule(lua_State *L, int txi, int family, const char *table, const char *chain,
                   const char *text);
void lnft_add_set(lua_State *L, int txi, int family, const char *table, const char *set,
                  int spec);

/* Parses an nft reference at idx ("ip cnet forward"); raises a clear error for op on failure,
 * naming the object as "KIND REF" (just REF when kind is NULL). */
void lnft_ref(lua_State *L, int idx, const char *op, const char *kind, int want_name,
              int *family, char *table, char *name);

#endif
