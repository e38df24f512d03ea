/* Helpers shared by the binding files: binding closures to a namespace, protected rows. */
#include <errno.h>

#include "common/lcnet.h"

/* 1 when the value at idx is an API table holding the running function: the table it was
 * called from with ':' (ns.link:list(), ns.tc.qdisc:add(...), cnet:ping(...)); -1 when it
 * is an API table without it (another handle's); 0 when it is no API table. */
static int own_api_table(lua_State *L, int idx) {
  if (luaL_getmetafield(L, idx, "__name") == LUA_TNIL) return 0;
  lua_pushliteral(L, LCNET_API);
  int api = lua_rawequal(L, -1, -2);
  lua_pop(L, 2);
  if (!api) return 0;
  lua_Debug ar;
  if (!lua_getstack(L, 0, &ar) || !lua_getinfo(L, "f", &ar)) return -1;
  int found = 0;
  lua_pushnil(L);
  while (!found && lua_next(L, idx) != 0) {
    found = lua_rawequal(L, -1, -3);
    lua_pop(L, 1);
  }
  lua_pop(L, found ? 2 : 1); /* the key lua_next left when it stopped early; the function */
  return found ? 1 : -1;
}

void lcnet_self_arg(lua_State *L) {
  int api = lua_type(L, 1) == LUA_TTABLE ? own_api_table(L, 1) : 0;
  if (api < 0) {
    luaL_argerror(L, 1, "a table of cnet functions is no argument: call a handle's "
                        "functions with '.' (or with ':' on the table that holds them)");
  }
  if (api > 0 || lua_rawequal(L, 1, lua_upvalueindex(1))) lua_remove(L, 1);
}

struct cnet_netns *lcnet_ns(lua_State *L) {
  lnetns *h = luaL_checkudata(L, lua_upvalueindex(1), LCNET_NETNS);
  if (h->ns == NULL) luaL_error(L, "cnet.netns is closed");
  lcnet_self_arg(L);
  lcnet_batch_hook(L, h->ns);
  return h->ns;
}

void lcnet_mark_api(lua_State *L) {
  luaL_newmetatable(L, LCNET_API); /* sets __name, which is what marks an API table */
  lua_setmetatable(L, -2);
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
  lcnet_mark_api(L);
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
