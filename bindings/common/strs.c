/* Interned strings of a list call: see strs.h. */
#include "common/strs.h"

void lcnet_strs_init(lua_State *L, struct lcnet_strs *s, const char *const *keys, int nkeys) {
  luaL_checkstack(L, nkeys + LCNET_STRS_VALS + 8, "list");
  s->L = L;
  s->base = lua_gettop(L) + 1;
  s->nvals = 0;
  for (int k = 0; k < LCNET_STRS_KEYS; k++) s->last[k] = NULL;
  for (int k = 0; k < nkeys; k++) lua_pushstring(L, keys[k]);
}

void lcnet_strs_val(struct lcnet_strs *s, const char *v, int depth) {
  for (int i = 0; i < s->nvals; i++)
    if (s->vals[i] == v) {
      lua_pushvalue(s->L, s->slots[i]);
      return;
    }
  lua_pushstring(s->L, v);
  if (s->nvals == LCNET_STRS_VALS) return; /* a full cache: the name is simply not kept */
  lua_pushvalue(s->L, -1);
  lua_rotate(s->L, -(depth + 2), 1); /* v, <depth values>, v */
  s->vals[s->nvals] = v;
  s->slots[s->nvals++] = lua_absindex(s->L, -(depth + 2));
}
