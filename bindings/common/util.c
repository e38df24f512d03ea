/* Helpers shared by the binding files: binding closures to a namespace, protected rows. */
#include <errno.h>

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


const char *lcnet_ns_label(struct cnet_netns *ns) {
  if (cnet_netns_name(ns) != NULL) return cnet_netns_name(ns);
  if (cnet_netns_path(ns) != NULL) return cnet_netns_path(ns);
  return cnet_netns_is_current(ns) == 1 ? "(cnet's own namespace)" : "(unnamed namespace)";
}

int lcnet_row(lua_State *L, lua_CFunction fn, void *ud) {
  lua_pushcfunction(L, fn);
  lua_pushvalue(L, -2);
  lua_pushlightuserdata(L, ud);
  if (lua_pcall(L, 2, 0, 0) == LUA_OK) return 0;
  lua_insert(L, -2); /* error, list */
  return -ECANCELED;
}

int lcnet_rows_done(lua_State *L, int rc) {
  if (rc != -ECANCELED) return rc;
  lua_pop(L, 1);     /* the list */
  return lua_error(L); /* the row's error, now that the core has freed what it held */
}
