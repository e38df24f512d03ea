/* Error objects: tables that print as "op object: message" and still match by code. */
#include <errno.h>
#include <string.h>

#include "cnet/errname.h"
#include "common/lcnet.h"

/* __tostring: "op object: strerror" plus ": kernel text" when the kernel gave one. */
static int error_tostring(lua_State *L) {
  luaL_checktype(L, 1, LUA_TTABLE);
  lua_getfield(L, 1, "message");
  if (!lua_isstring(L, -1)) lua_pushliteral(L, "cnet error");
  return 1;
}

void lcnet_error_init(lua_State *L) {
  if (luaL_newmetatable(L, LCNET_ERROR)) {
    lua_pushcfunction(L, error_tostring);
    lua_setfield(L, -2, "__tostring");
  }
  lua_pop(L, 1);
}

int lcnet_raise(lua_State *L, int rc, const char *op, const char *object, const char *errmsg) {
  int err = rc < 0 ? -rc : rc;
  /* The object and the detail may quote what the user gave (a megabyte-long rule): a
   * message shows its start and says how long it was. */
  if (object != NULL) object = lcnet_clip(L, object);
  if (errmsg != NULL) errmsg = lcnet_clip(L, errmsg);
  lua_createtable(L, 0, 8);
  lua_pushstring(L, op);
  lua_setfield(L, -2, "op");
  if (object != NULL && *object) {
    lua_pushstring(L, object);
    lua_setfield(L, -2, "object");
  }
  lua_pushstring(L, cnet_errname(err));
  lua_setfield(L, -2, "code");
  lua_pushinteger(L, err);
  lua_setfield(L, -2, "errno");
  if (errmsg != NULL && *errmsg) {
    lua_pushstring(L, errmsg);
    lua_setfield(L, -2, "extack");
  }
  luaL_where(L, 1); /* the Lua line that called the failing function */
  lua_setfield(L, -2, "where");
  luaL_Buffer b;
  luaL_buffinit(L, &b);
  luaL_addstring(&b, op);
  if (object != NULL && *object) {
    luaL_addchar(&b, ' ');
    luaL_addstring(&b, object);
  }
  luaL_addstring(&b, ": ");
  /* EINTR reaches Lua when the user stopped the call (Ctrl-C) or a dump kept being
   * interrupted by changes: "Interrupted system call" says neither. */
  luaL_addstring(&b, err == EINTR ? "interrupted" : strerror(err));
  if (errmsg != NULL && *errmsg) {
    luaL_addstring(&b, ": ");
    luaL_addstring(&b, errmsg);
  }
  luaL_pushresult(&b);
  lua_setfield(L, -2, "message");
  luaL_setmetatable(L, LCNET_ERROR);
  return lua_error(L);
}

int lcnet_raise_thunk(lua_State *L) {
  /* called by the bindings themselves with their own values */
  int err = (int)lua_tointeger(L, 1);                                /* not user input */
  return lcnet_raise(L, err, lua_tostring(L, 2), lua_tostring(L, 3), /* not user input */
                     lua_tostring(L, 4));                            /* not user input */
}
