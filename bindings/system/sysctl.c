/* cnet.sysctl: get and set kernel parameters as the namespace sees them. */
#include <errno.h>
#include <stdio.h>

#include "cnet/sysctl.h"
#include "common/lcnet.h"

enum { VALUE_MAX = 64 * 1024 };

/* cnet.sysctl.get(key) -> value string (trailing newline removed) */
static int sysctl_get(lua_State *L) {
  struct cnet_netns *ns = lcnet_ns(L);
  const char *key = luaL_checkstring(L, 1);
  luaL_Buffer b;
  char *buf = luaL_buffinitsize(L, &b, VALUE_MAX); /* owned by Lua: raising later is safe */
  int rc = cnet_sysctl_get(ns, key, buf, VALUE_MAX);
  if (rc < 0) return lcnet_raise(L, rc, "sysctl.get", key, NULL);
  size_t n = 0;
  while (buf[n]) n++;
  luaL_pushresultsize(&b, n);
  return 1;
}

/* cnet.sysctl.set(key, value): value a string, integer or boolean (true = "1") */
static int sysctl_set(lua_State *L) {
  struct cnet_netns *ns = lcnet_ns(L);
  const char *key = luaL_checkstring(L, 1);
  const char *value;
  if (lua_type(L, 2) == LUA_TBOOLEAN) {
    value = lua_toboolean(L, 2) ? "1" : "0";
  } else if (lua_type(L, 2) == LUA_TNUMBER) {
    if (!lua_isinteger(L, 2)) luaL_argerror(L, 2, "integer expected, got float");
    value = lua_pushfstring(L, "%I", lua_tointeger(L, 2));
  } else {
    luaL_argexpected(L, lua_type(L, 2) == LUA_TSTRING, 2, "string, integer or boolean");
    value = lua_tostring(L, 2);
  }
  int rc = cnet_sysctl_set(ns, key, value);
  if (rc < 0) {
    char detail[96];
    snprintf(detail, sizeof detail, "value \"%.64s\"", value);
    return lcnet_raise(L, rc, "sysctl.set", key,
                       rc == -EINVAL ? detail : cnet_netns_errmsg(ns));
  }
  return 0;
}

void lcnet_open_sysctl(lua_State *L, int ns) {
  static const luaL_Reg fns[] = {{"get", sysctl_get}, {"set", sysctl_set}, {NULL, NULL}};
  lcnet_bind_sub(L, "sysctl", fns, ns);
}
