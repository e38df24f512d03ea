/* cnet.sysctl: get and set kernel parameters as the namespace sees them. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cnet/sysctl.h"
#include "common/lcnet.h"

enum { VALUE_MAX = 64 * 1024, KEY_MAX = 400 };

/* The key argument: text, and a usable path below /proc/sys, else an error that says the key
 * is bad (before anything is read or written, so a bad key is never blamed on the value). */
static const char *key_arg(lua_State *L, const char *op) {
  const char *key = lcnet_check_text(L, 1, KEY_MAX, "sysctl key", NULL);
  char path[512];
  int rc = cnet_sysctl_path(key, path, sizeof path);
  if (rc < 0)
    lcnet_raise(L, rc, op, key,
                rc == -ENAMETOOLONG ? "key too long"
                                    : "invalid key (net.ipv4.ip_forward or net/ipv4/ip_forward)");
  return key;
}

/* cnet.sysctl.get(key) -> value string (trailing newline removed) */
static int sysctl_get(lua_State *L) {
  struct cnet_netns *ns = lcnet_ns(L);
  const char *key = key_arg(L, "sysctl.get");
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
  const char *key = key_arg(L, "sysctl.set");
  const char *value;
  if (lua_type(L, 2) == LUA_TBOOLEAN) {
    value = lcnet_check_bool(L, 2, "value") ? "1" : "0";
  } else if (lua_type(L, 2) == LUA_TNUMBER) {
    value = lua_pushfstring(L, "%I", lcnet_check_int(L, 2, LUA_MININTEGER, LUA_MAXINTEGER, "value"));
  } else {
    luaL_argexpected(L, lua_type(L, 2) == LUA_TSTRING, 2, "string, integer or boolean");
    value = lcnet_check_text(L, 2, VALUE_MAX, "value", NULL);
  }
  int rc = cnet_sysctl_set(ns, key, value);
  if (rc < 0) {
    const char *detail = rc == -ENOENT ? NULL
                         : rc == -EINVAL
                             ? lua_pushfstring(L, "value %s refused", lcnet_quote(L, value, strlen(value)))
                             : cnet_netns_errmsg(ns);
    return lcnet_raise(L, rc, "sysctl.set", key, detail);
  }
  return 0;
}

void lcnet_open_sysctl(lua_State *L, int ns) {
  static const luaL_Reg fns[] = {{"get", sysctl_get}, {"set", sysctl_set}, {NULL, NULL}};
  lcnet_bind_sub(L, "sysctl", fns, ns);
}
