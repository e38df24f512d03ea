/* luaopen_cnet: the module is the API bound to the namespace the process started in. */
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>

#include "common/embedded.h"
#include "common/inspect.h"
#include "common/lcnet.h"

#ifndef CNET_VERSION
#define CNET_VERSION "0.0.0"
#endif

/* Each open namespace holds a few descriptors; hundreds of containers need more than the
 * usual soft limit of 1024, and the hard limit is ours to use. */
static void raise_fd_limit(void) {
  struct rlimit rl;
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
    rl.rlim_cur = rl.rlim_max;
    (void)setrlimit(RLIMIT_NOFILE, &rl);
  }
}

/* Lists the module's subtables in package.loaded as "cnet.link", ...: Lua names a function
 * found there in its error messages, so an argument error raised under pcall says
 * 'cnet.link.add' rather than '?'. */
static void name_submodules(lua_State *L) {
  static const char *const nouns[] = {"link",   "addr", "route", "neigh", "fdb",      "vlan",
                                      "rule",   "sysctl", "nft", "netns", "tc", "tc.qdisc",
                                      "tc.class", NULL};
  luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_LOADED_TABLE);
  for (const char *const *n = nouns; *n != NULL; n++) {
    /* walk "a.b" down from the module table */
    char path[32];
    snprintf(path, sizeof path, "%s", *n);
    lua_pushvalue(L, -2);
    for (char *part = strtok(path, "."); part != NULL && lua_istable(L, -1); part = strtok(NULL, ".")) {
      lua_getfield(L, -1, part);
      lua_remove(L, -2);
    }
    if (lua_istable(L, -1)) { /* module, loaded, sub */
      char key[40];
      snprintf(key, sizeof key, "cnet.%s", *n);
      lua_setfield(L, -2, key);
    } else {
      lua_pop(L, 1);
    }
  }
  lua_pop(L, 1);
}

/* package.preload loader of an embedded module (upvalue 1: its lcnet_lua_source). */
static int embedded_loader(lua_State *L) {
  const struct lcnet_lua_source *s = lua_touserdata(L, lua_upvalueindex(1));
  /* "bt": built as bytecode by luac5.4 when the build had it (bindings/lua/embed.cmake) */
  if (luaL_loadbufferx(L, s->text, s->len, s->chunkname, "bt") != LUA_OK) return lua_error(L);
  lua_pushvalue(L, 1); /* the module name, as require passes it */
  lua_call(L, 1, 1);
  return 1;
}

/* Makes `require "cnet.topology"` (and every other module of bindings/lua/) find the copy
 * compiled in. An entry someone put in package.preload first is left alone. */
static void preload_embedded(lua_State *L) {
  luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_PRELOAD_TABLE);
  for (const struct lcnet_lua_source *s = lcnet_lua_sources; s->module != NULL; s++) {
    if (lua_getfield(L, -1, s->module) == LUA_TNIL) {
      lua_pushlightuserdata(L, (void *)s);
      lua_pushcclosure(L, embedded_loader, 1);
      lua_setfield(L, -3, s->module);
    }
    lua_pop(L, 1);
  }
  lua_pop(L, 1);
}

/* __index of the module table: cnet.topology (and any other embedded module cnet.NAME) is
 * required on first use, so `cnet.topology.new(...)` works at the REPL and in scripts
 * without a require, and costs nothing to programs that never touch it. */
static int lazy_index(lua_State *L) {
  if (lua_type(L, 2) != LUA_TSTRING) return 0;
  size_t len;
  const char *key = lua_tolstring(L, 2, &len); /* not user input: a key, compared whole */
  if (strlen(key) != len) return 0;           /* "topology\0x" is no module name */
  const char *name = lua_pushfstring(L, "cnet.%s", key);
  luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_PRELOAD_TABLE);
  int embedded = lua_getfield(L, -1, name) != LUA_TNIL;
  lua_pop(L, 2);
  if (!embedded) return 0;
  lua_getglobal(L, "require");
  lua_pushstring(L, name);
  lua_call(L, 1, 1);
  lua_pushvalue(L, 2);
  lua_pushvalue(L, -2);
  lua_rawset(L, 1);
  return 1;
}

__attribute__((visibility("default"))) int luaopen_cnet(lua_State *L) {
  raise_fd_limit();
  preload_embedded(L);
  lcnet_error_init(L);
  lcnet_batch_init(L);
  lcnet_netns_init(L); /* pushes the netns submodule */
  lnetns *self = lcnet_new_netns(L);
  int rc = cnet_netns_open_current(&self->ns);
  if (rc < 0) return lcnet_raise(L, rc, "netns.current", NULL, NULL);
  /* The module table is the handle's API table plus the module-level fields. */
  lcnet_netns_api(L, -1);
  lua_pushvalue(L, -3);
  lua_setfield(L, -2, "netns");
  lcnet_push_batch(L);
  lua_setfield(L, -2, "batch");
  lcnet_open_lock(L);
  lua_pushliteral(L, CNET_VERSION);
  lua_setfield(L, -2, "version");
  lcnet_open_inspect(L);
  lcnet_open_clock(L);
  name_submodules(L);
  lua_pushvalue(L, -2);
  lua_setfield(L, -2, "self"); /* the handle of the start namespace */
  lua_pushnil(L);
  lua_setfield(L, -2, "close"); /* the start namespace stays open as long as the module */
  /* A metatable of its own (the handles' API tables share one): still marked as an API
   * table (cnet:ping(...) works), plus the lazy loading of embedded modules. */
  lua_createtable(L, 0, 2);
  lua_pushliteral(L, LCNET_API);
  lua_setfield(L, -2, "__name");
  lua_pushcfunction(L, lazy_index);
  lua_setfield(L, -2, "__index");
  lua_setmetatable(L, -2);
  return 1;
}
