/* Helpers shared by the binding files: binding closures to a namespace, protected rows. */
#include <errno.h>
#include <string.h>

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

/* A table made by lcnet_bind_named holds its functions once they are used: binding them
 * all, a closure each, was the larger part of what a namespace handle cost (`cnet up` of 500
 * containers uses 3 of the 16 functions of link, addr and route in each namespace). Its
 * metatable, one for each list of functions, makes a missing one on first use (__index) and
 * all of them before a walk (__pairs, lcnet_api_fill); the handle each such table belongs to
 * is in a registry table with weak keys. */
#define API_OWNER "cnet.api.owner"

static int api_index(lua_State *L);

/* The list of functions of the lazy API table at idx, or NULL for any other value. */
static const luaL_Reg *lazy_fns(lua_State *L, int idx) {
  const luaL_Reg *fns = NULL;
  if (luaL_getmetafield(L, idx, "__index") == LUA_TNIL) return NULL;
  if (lua_tocfunction(L, -1) == api_index && lua_getupvalue(L, -1, 1) != NULL) {
    fns = lua_touserdata(L, -1);
    lua_pop(L, 1);
  }
  lua_pop(L, 1);
  return fns;
}

/* Binds fn into the lazy API table at idx (to the handle that owns the table) and pushes
 * the closure. */
static void bind_lazy(lua_State *L, int idx, const luaL_Reg *fn) {
  idx = lua_absindex(L, idx);
  lua_getfield(L, LUA_REGISTRYINDEX, API_OWNER);
  lua_pushvalue(L, idx);
  lua_rawget(L, -2);
  lua_pushcclosure(L, fn->func, 1);
  lua_remove(L, -2);
  lua_pushstring(L, fn->name);
  lua_pushvalue(L, -2);
  lua_rawset(L, idx);
}

/* __index of a lazy API table (t, key): binds the function of that name, or gives nil. */
static int api_index(lua_State *L) {
  const char *k = lcnet_try_text(L, 2, 64); /* no function has a longer name */
  if (k == NULL) return 0;
  size_t len = strlen(k);
  for (const luaL_Reg *fn = lua_touserdata(L, lua_upvalueindex(1)); fn->name != NULL; fn++) {
    if (strlen(fn->name) == len && memcmp(fn->name, k, len) == 0) {
      bind_lazy(L, 1, fn);
      return 1;
    }
  }
  return 0;
}

void lcnet_api_fill(lua_State *L, int idx) {
  idx = lua_absindex(L, idx);
  const luaL_Reg *fn = lazy_fns(L, idx);
  if (fn == NULL) return;
  for (; fn->name != NULL; fn++) {
    lua_getfield(L, idx, fn->name); /* binds it if missing */
    lua_pop(L, 1);
  }
  lua_pushnil(L);
  while (lua_next(L, idx) != 0) { /* the tables nested in it (tc.qdisc, ...) */
    lcnet_api_fill(L, -1);
    lua_pop(L, 1);
  }
}

/* next(t, k), as the base library's */
static int api_next(lua_State *L) {
  luaL_checktype(L, 1, LUA_TTABLE);
  lua_settop(L, 2);
  if (lua_next(L, 1)) return 2;
  lua_pushnil(L);
  return 1;
}

/* __pairs of a lazy API table: every function is in it before the walk. */
static int api_pairs(lua_State *L) {
  lcnet_api_fill(L, 1);
  lua_pushcfunction(L, api_next);
  lua_pushvalue(L, 1);
  lua_pushnil(L);
  return 3;
}

/* Pushes the metatable of the lazy API tables of fns, made (and its operations named, see
 * lcnet_note_op) the first time. */
static void push_lazy_meta(lua_State *L, const luaL_Reg *fns, const char *noun) {
  if (lua_rawgetp(L, LUA_REGISTRYINDEX, fns) == LUA_TTABLE) return;
  lua_pop(L, 1);
  for (const luaL_Reg *fn = fns; fn->name != NULL; fn++)
    lcnet_note_op(L, fn->func, noun, fn->name);
  lua_createtable(L, 0, 3);
  lua_pushliteral(L, LCNET_API); /* an API table all the same (lcnet_self_arg) */
  lua_setfield(L, -2, "__name");
  lua_pushlightuserdata(L, (void *)fns);
  lua_pushcclosure(L, api_index, 1);
  lua_setfield(L, -2, "__index");
  lua_pushcfunction(L, api_pairs);
  lua_setfield(L, -2, "__pairs");
  lua_pushvalue(L, -1);
  lua_rawsetp(L, LUA_REGISTRYINDEX, fns);
}

void lcnet_bind_named(lua_State *L, const char *name, const char *noun, const luaL_Reg *fns,
                      int ns) {
  ns = lua_absindex(L, ns);
  int n = 0;
  while (fns[n].name != NULL) n++;
  lua_createtable(L, 0, n);
  push_lazy_meta(L, fns, noun);
  lua_setmetatable(L, -2);
  if (luaL_getsubtable(L, LUA_REGISTRYINDEX, API_OWNER) == 0) {
    lua_createtable(L, 0, 1);
    lua_pushliteral(L, "k");
    lua_setfield(L, -2, "__mode");
    lua_setmetatable(L, -2);
  }
  lua_pushvalue(L, -2);
  lua_pushvalue(L, ns);
  lua_rawset(L, -3);
  lua_pop(L, 1);
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
