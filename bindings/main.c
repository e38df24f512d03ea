/* The host binary `cnet` (minimal form: runs a script or -e code with `cnet` preloaded). */
#include <stdio.h>
#include <string.h>

#include <lualib.h>

#include "lcnet.h"

int luaopen_cnet(lua_State *L);

static int msghandler(lua_State *L) {
  const char *msg = luaL_tolstring(L, 1, NULL);
  luaL_traceback(L, L, msg, 1);
  return 1;
}

int main(int argc, char **argv) {
  lua_State *L = luaL_newstate();
  if (L == NULL) return 1;
  luaL_openlibs(L);
  luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_PRELOAD_TABLE);
  lua_pushcfunction(L, luaopen_cnet);
  lua_setfield(L, -2, "cnet");
  lua_pop(L, 1);
  lua_getglobal(L, "require");
  lua_pushliteral(L, "cnet");
  lua_call(L, 1, 1);
  lua_setglobal(L, "cnet");
  int rc;
  lua_pushcfunction(L, msghandler);
  if (argc >= 3 && strcmp(argv[1], "-e") == 0) rc = luaL_loadstring(L, argv[2]);
  else if (argc >= 2) rc = luaL_loadfile(L, argv[1]);
  else rc = luaL_loadfile(L, NULL);
  if (rc == LUA_OK) rc = lua_pcall(L, 0, 0, -2);
  if (rc != LUA_OK) fprintf(stderr, "cnet: %s\n", lua_tostring(L, -1));
  lua_close(L);
  return rc == LUA_OK ? 0 : 1;
}
