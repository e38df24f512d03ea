/* Shared by cnet.neigh (neigh.c) and cnet.fdb (fdb.c): the kernel keeps both in its
 * neighbour tables, so they share the state option and the listing. */
#ifndef LCNET_LNEIGH_H
#define LCNET_LNEIGH_H

#include "cnet/neigh.h"
#include "common/lcnet.h"

/* Field `key` of the table at idx as a state filter: a state name, a list of names, or
 * "all"; 0 (any state) when nil. Names as cnet_neigh_state_parse takes them for family. */
uint32_t lneigh_opt_states(lua_State *L, int idx, const char *key, int family);

/* Pushes the list of entries f takes (IP entries or FDB entries by f->family), or raises
 * `op object: ...`. */
void lneigh_push_list(lua_State *L, struct cnet_netns *ns, const struct cnet_neigh_filter *f,
                      const char *op, const char *object);

/* Runs a flush and pushes the count, or raises. */
void lneigh_push_flush(lua_State *L, struct cnet_netns *ns, const struct cnet_neigh_filter *f,
                       const char *op, const char *object);

/* Reads an entry (the table at 1) into req for op; add: with the state an add sends.
 * Returns the text naming the entry in errors. */
typedef const char *(*lneigh_reader)(lua_State *L, struct cnet_netns *ns, const char *op,
                                     int add, struct cnet_neigh_req *req);
/* The change a call makes: add (with a mode), add or append as the entry's `append` field
 * says (fdb.add), or delete. */
enum lneigh_verb { LNEIGH_ADD, LNEIGH_REPLACE, LNEIGH_APPEND, LNEIGH_ADD_OR_APPEND, LNEIGH_DELETE };
/* One change: read the entry, then make it; raises on failure. Returns 0 values. */
int lneigh_change(lua_State *L, const char *op, lneigh_reader read, enum lneigh_verb verb);

/* The text naming an entry in errors ("192.0.2.5 dev eth0"), pushed, and given to the batch
 * as the call's object. Returns it. */
const char *lneigh_object(lua_State *L, const char *what, const char *dev, const char *dst);

#endif
