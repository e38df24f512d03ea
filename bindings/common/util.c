/* Helpers shared by the binding files: binding closures to a namespace, option checks. */
#include <string.h>

#include "common/lcnet.h"

struct cnet_netns *lcnet_ns(lua_State *L) {
  lnetns *h = luaL_checkudata(L, lua_upvalueindex(1), LCNET_NETNS);
  if (h->ns == NULL) luaL_error(L, "cnet.netns is closed");
  lcnet_batch_hook(L, h->ns);
  return h->ns;
}

static void bind_all(lua_State *L, const luaL_Reg *fns, int ns, const char *noun) {
  ns = lua_absindex(L, ns);
  for (; fns->name != NULL; fns++) {
    lcnet_note_op(L, fns->func, noun, fns->name);
    lua_pushvalue(L, ns);
    lua_pushcclosure(L, fns->func, 1);
    lua_setfield(L, -2, fns->name);
  }
}

void lcnet_bind(lua_State *L, const luaL_Reg *fns, int ns) { bind_all(L, fns, ns, NULL); }

void lcnet_bind_sub(lua_State *L, const char *name, const luaL_Reg *fns, int ns) {
  lcnet_bind_named(L, name, name, fns, ns);
}

void lcnet_bind_named(lua_State *L, const char *name, const char *noun, const luaL_Reg *fns,
                      int ns) {
  ns = lua_absindex(L, ns);
  lua_newtable(L);
  bind_all(L, fns, ns, noun);
  lua_setfield(L, -2, name);
}

void lcnet_check_options(lua_State *L, int idx, const char *const known[]) {
  if (lua_isnoneornil(L, idx)) return;
  luaL_checktype(L, idx, LUA_TTABLE);
  idx = lua_absindex(L, idx);
  lua_pushnil(L);
  while (lua_next(L, idx) != 0) {
    lua_pop(L, 1);
    int ok = 0;
    if (lua_type(L, -1) == LUA_TSTRING) {
      const char *k = lua_tostring(L, -1);
      for (const char *const *p = known; *p != NULL && !ok; p++) ok = strcmp(*p, k) == 0;
    }
    if (!ok) {
      const char *k = lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : luaL_typename(L, -1);
      luaL_argerror(L, idx, lua_pushfstring(L, "unknown option '%s'", k));
    }
  }
}
