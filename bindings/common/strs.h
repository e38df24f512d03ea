/* Strings repeated across the tables of a big list (field names, enumeration names),
 * interned once per call and kept on the Lua stack. Setting a field then costs a stack copy
 * and a raw set instead of looking a C string up in Lua's string table, which was half the
 * CPU time of a 10000-route dump. */
#ifndef LCNET_STRS_H
#define LCNET_STRS_H

#include "common/lcnet.h"

enum { LCNET_STRS_VALS = 24, LCNET_STRS_KEYS = 32 };

struct lcnet_strs {
  lua_State *L;
  int base;                            /* stack index of the first key */
  int nvals;
  const char *vals[LCNET_STRS_VALS];   /* cached value names (static storage), by address */
  int slots[LCNET_STRS_VALS];          /* their stack indexes */
  const char *last[LCNET_STRS_KEYS];   /* per key: the name it was last given, and its slot */
  int last_slot[LCNET_STRS_KEYS];
};

/* Pushes keys[0..nkeys-1] (nkeys <= LCNET_STRS_KEYS) at the top of the stack (they must stay there while the strings
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

/* The same for the value of key k: a key mostly gets the same name table after table, so
 * that one is tried first. */
static inline void lcnet_strs_val_of(struct lcnet_strs *s, int k, const char *v, int depth) {
  if (s->last[k] == v) {
    lua_pushvalue(s->L, s->last_slot[k]);
    return;
  }
  lcnet_strs_val(s, v, depth);
  for (int i = 0; i < s->nvals; i++)
    if (s->vals[i] == v) {
      s->last[k] = v;
      s->last_slot[k] = s->slots[i];
    }
}

#endif
