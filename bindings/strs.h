/* Strings repeated across the tables of a big list (field names, enumeration names),
 * interned once per call and kept on the Lua stack. Setting a field then costs a stack copy
 * and a raw set instead of looking a C string up in Lua's string table, which was half the
 * CPU time of a 10000-route dump. */
#ifndef LCNET_STRS_H
#define LCNET_STRS_H

#include "lcnet.h"

enum { LCNET_STRS_VALS = 24 };

struct lcnet_strs {
  lua_State *L;
  int base;                            /* stack index of the first key */
  int nvals;
  const char *vals[LCNET_STRS_VALS];   /* cached value names (static storage), by address */
  int slots[LCNET_STRS_VALS];          /* their stack indexes */
};

/* Pushes keys[0..nkeys-1] at the top of the stack (they must stay there while the strings
 * are used) and reserves stack room for the cache. */
void lcnet_strs_init(lua_State *L, struct lcnet_strs *s, const char *const *keys, int nkeys);

/* Pushes key k. */
static inline void lcnet_strs_key(const struct lcnet_strs *s, int k) {
  lua_pushvalue(s->L, s->base + k);
}

/* Pushes the name v, a string of static storage, from the cache. The first time a name is
 * seen a copy goes into the cache below the `depth` values on top of the stack (the tables
 * and key being built), which keep their order. */
void lcnet_strs_val(struct lcnet_strs *s, const char *v, int depth);

#endif
