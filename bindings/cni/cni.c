/* luaopen_cnet_cni: the CNI plugin and its recipes (Lua in cni/, compiled in). Under stock
 * lua5.4, `require "cnet.cni"` reaches this through cnet.so (Lua's all-in-one loader looks
 * for luaopen_cnet_cni in the library of the first name part); the host binary preloads it. */
#include <string.h>

#include "cni/chunks.h"
#include "common/lcnet.h"

/* package.preload loader of chunk number upvalue 1: runs it with the module name. */
static int chunk_load(lua_State *L) {
  const struct lcnet_chunk *c = &lcnet_cni_chunks[lua_tointeger(L, lua_upvalueindex(1))];
  lua_pushfstring(L, "@%s", c->path);
  int status = luaL_loadbufferx(L, c->text, c->len, lua_tostring(L, -1), "t");
  if (status != LUA_OK) return lua_error(L);
  lua_pushstring(L, c->module);
  lua_call(L, 1, 1);
  return 1;
}

__attribute__((visibility("default"))) int luaopen_cnet_cni(lua_State *L) {
  luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_PRELOAD_TABLE);
  int main = -1;
  for (int i = 0; lcnet_cni_chunks[i].module != NULL; i++) {
    if (strcmp(lcnet_cni_chunks[i].module, "cnet.cni") == 0) main = i;
    if (lua_getfield(L, -1, lcnet_cni_chunks[i].module) == LUA_TNIL) {
      lua_pushinteger(L, i);
      lua_pushcclosure(L, chunk_load, 1);
      lua_setfield(L, -3, lcnet_cni_chunks[i].module);
    }
    lua_pop(L, 1);
  }
  lua_pop(L, 1);
  if (main < 0) return luaL_error(L, "cnet.cni: cni/init.lua was not compiled in");
  lua_pushinteger(L, main);
  lua_pushcclosure(L, chunk_load, 1);
  lua_call(L, 0, 1);
  return 1;
}
