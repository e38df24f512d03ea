/* Argument helpers for the link, addr and route bindings: see netarg.h. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "cnet/link.h"
#include "cnet/lladdr.h"
#include "cnet/route.h"
#include "common/netarg.h"

int lcnet_field_error(lua_State *L, int idx, const char *key, const char *expected) {
  lua_getfield(L, idx, key);
  const char *msg = lua_pushfstring(L, "field '%s': %s expected, got %s", key, expected,
                                    luaL_typename(L, -1));
  return luaL_argerror(L, idx, msg);
}

const char *lcnet_opt_string(lua_State *L, int idx, const char *key, const char *dflt) {
  int t = lua_getfield(L, idx, key);
  const char *s = dflt;
  if (t == LUA_TSTRING) s = lua_tostring(L, -1); /* anchored by the options table */
  else if (t != LUA_TNIL) lcnet_field_error(L, idx, key, "string");
  lua_pop(L, 1);
  return s;
}

lua_Integer lcnet_opt_integer(lua_State *L, int idx, const char *key, lua_Integer dflt) {
  lua_getfield(L, idx, key);
  lua_Integer v = dflt;
  int isnum = 0;
  if (!lua_isnil(L, -1)) {
    v = lua_tointegerx(L, -1, &isnum);
    if (!isnum || lua_type(L, -1) == LUA_TSTRING) lcnet_field_error(L, idx, key, "integer");
  }
  lua_pop(L, 1);
  return v;
}

lua_Integer lcnet_opt_range(lua_State *L, int idx, const char *key, lua_Integer lo,
                            lua_Integer hi, lua_Integer dflt) {
  int t = lua_getfield(L, idx, key);
  lua_pop(L, 1);
  if (t == LUA_TNIL) return dflt;
  lua_Integer v = lcnet_opt_integer(L, idx, key, dflt);
  if (v < lo || v > hi)
    luaL_argerror(L, idx, lua_pushfstring(L, "field '%s': %I..%I expected", key, lo, hi));
  return v;
}

uint32_t lcnet_opt_table(lua_State *L, int idx, const char *key) {
  int t = lua_getfield(L, idx, key);
  long v = 0;
  if (t == LUA_TNUMBER) {
    int isint;
    lua_Integer n = lua_tointegerx(L, -1, &isint);
    if (!isint || n <= 0 || n > 0xffffffffLL)
      luaL_argerror(L, idx, lua_pushfstring(L, "field '%s': table 1..4294967295", key));
    v = (long)n;
  } else if (t == LUA_TSTRING) {
    v = cnet_route_table_parse(lua_tostring(L, -1));
    if (v < 0)
      luaL_argerror(L, idx, lua_pushfstring(L, "field '%s': unknown table '%s'", key,
                                            lua_tostring(L, -1)));
  } else if (t != LUA_TNIL) {
    lcnet_field_error(L, idx, key, "table number or name");
  }
  lua_pop(L, 1);
  return (uint32_t)v;
}

int lcnet_opt_enum(lua_State *L, int idx, const char *key, int (*parse)(const char *)) {
  int t = lua_getfield(L, idx, key);
  int v = -1;
  if (t == LUA_TNUMBER) {
    int isint;
    lua_Integer n = lua_tointegerx(L, -1, &isint);
    if (!isint || n < 0 || n > 255)
      luaL_argerror(L, idx, lua_pushfstring(L, "field '%s': 0..255 expected", key));
    v = (int)n;
  } else if (t == LUA_TSTRING) {
    v = parse(lua_tostring(L, -1));
    if (v < 0)
      luaL_argerror(L, idx, lua_pushfstring(L, "field '%s': unknown value '%s'", key,
                                            lua_tostring(L, -1)));
  } else if (t != LUA_TNIL) {
    lcnet_field_error(L, idx, key, "name or number");
  }
  lua_pop(L, 1);
  return v;
}

int lcnet_opt_bool(lua_State *L, int idx, const char *key, int dflt) {
  int t = lua_getfield(L, idx, key);
  int v = dflt;
  if (t == LUA_TBOOLEAN) v = lua_toboolean(L, -1);
  else if (t != LUA_TNIL) lcnet_field_error(L, idx, key, "boolean");
  lua_pop(L, 1);
  return v;
}

static int ifindex(lua_State *L, struct cnet_netns *ns, int v, int arg, const char *op,
                   const char *object, const char *what, int now) {
  if (lua_type(L, v) == LUA_TNUMBER) {
    int isint;
    lua_Integer i = lua_tointegerx(L, v, &isint);
    if (!isint || i <= 0 || i > 0x7fffffff) luaL_argerror(L, arg, "bad interface index");
    return (int)i;
  }
  if (lua_type(L, v) != LUA_TSTRING) {
    luaL_argerror(L, arg, lua_pushfstring(L, "%s: interface name or index expected, got %s",
                                          what, luaL_typename(L, v)));
  }
  const char *name = lua_tostring(L, v);
  int index, rc = now ? cnet_link_index_now(ns, name, &index) : cnet_link_index(ns, name, &index);
  if (rc < 0) {
    char detail[96];
    snprintf(detail, sizeof detail, "%s %s", what, name);
    lcnet_raise(L, rc, op, object ? object : name, object ? detail : NULL);
  }
  return index;
}

int lcnet_ifindex(lua_State *L, struct cnet_netns *ns, int v, int arg, const char *op,
                  const char *object, const char *what) {
  return ifindex(L, ns, v, arg, op, object, what, 0);
}

int lcnet_ifindex_now(lua_State *L, struct cnet_netns *ns, int v, int arg, const char *op,
                      const char *object, const char *what) {
  return ifindex(L, ns, v, arg, op, object, what, 1);
}

const char *lcnet_dev_text(lua_State *L, int v) {
  if (lua_type(L, v) == LUA_TNUMBER) return lua_pushfstring(L, "%I", lua_tointeger(L, v));
  return lua_tostring(L, v);
}

void lcnet_checkaddr(lua_State *L, int v, int prefix, int family, const char *op,
                     const char *object, struct cnet_ipaddr *out) {
  const char *text = lua_tostring(L, v);
  int rc = text == NULL ? -EINVAL
           : prefix     ? cnet_ipaddr_parse_prefix(text, family, out)
                        : cnet_ipaddr_parse(text, family, out);
  if (rc < 0) {
    char detail[160];
    if (text == NULL)
      snprintf(detail, sizeof detail, "address expected, got %s", luaL_typename(L, v));
    else
      snprintf(detail, sizeof detail, "invalid address \"%.100s\"", text);
    lcnet_raise(L, -EINVAL, op, object, detail);
  }
}

unsigned lcnet_opt_lladdr(lua_State *L, int idx, const char *key, const char *op,
                          const char *object, unsigned char *out) {
  const char *text = lcnet_opt_string(L, idx, key, NULL);
  unsigned len = 0;
  if (text != NULL && cnet_lladdr_parse(text, out, &len) < 0) {
    char detail[96];
    snprintf(detail, sizeof detail, "invalid mac address \"%.40s\"", text);
    lcnet_raise(L, -EINVAL, op, object, detail);
  }
  return len;
}

void lcnet_push_ifname(lua_State *L, struct cnet_netns *ns, int names, int index) {
  if (lua_rawgeti(L, names, index) != LUA_TNIL) return;
  lua_pop(L, 1);
  char name[CNET_IFNAMSIZ];
  if (cnet_link_name_nowait(ns, index, name) < 0) snprintf(name, sizeof name, "if%d", index);
  lua_pushstring(L, name);
  lua_pushvalue(L, -1);
  lua_rawseti(L, names, index);
}

int lcnet_opt_family(lua_State *L, int idx, const char *key) {
  int t = lua_getfield(L, idx, key);
  int fam = AF_UNSPEC;
  if (t == LUA_TNUMBER) {
    lua_Integer n = lua_tointeger(L, -1);
    fam = n == 4 ? AF_INET : n == 6 ? AF_INET6 : -1;
  } else if (t == LUA_TSTRING) {
    const char *s = lua_tostring(L, -1);
    if (!strcmp(s, "inet") || !strcmp(s, "ip") || !strcmp(s, "ipv4")) fam = AF_INET;
    else if (!strcmp(s, "inet6") || !strcmp(s, "ip6") || !strcmp(s, "ipv6")) fam = AF_INET6;
    else fam = -1;
  } else if (t != LUA_TNIL) {
    fam = -1;
  }
  if (fam < 0) {
    const char *got = t == LUA_TSTRING ? lua_tostring(L, -1) : luaL_typename(L, -1);
    luaL_argerror(L, idx, lua_pushfstring(L, "field '%s': unknown family '%s' (inet or inet6)",
                                          key, got));
  }
  lua_pop(L, 1);
  return fam;
}

const char *lcnet_family_name(int family) {
  return family == AF_INET ? "inet" : family == AF_INET6 ? "inet6" : "unspec";
}

struct pdump {
  lcnet_body body;
  void *ctx;
  int rc;
};

static int pdump_run(lua_State *L) {
  struct pdump *p = lua_touserdata(L, 1);
  lua_settop(L, 0);
  int n = p->body(L, p->ctx, &p->rc);
  return n;
}

int lcnet_pdump(lua_State *L, struct cnet_netns *ns, lcnet_body body, void *ctx) {
  struct pdump p = {body, ctx, 0};
  lua_pushcfunction(L, pdump_run);
  lua_pushlightuserdata(L, &p);
  /* A dump makes only live tables, so collecting meanwhile finds nothing to free; and in
   * generational mode every minor collection walks the whole growing result list again
   * (it is old and touched by each append): quadratic. The collector pauses for the dump. */
  int running = lua_gc(L, LUA_GCISRUNNING);
  if (running) lua_gc(L, LUA_GCSTOP);
  int status = lua_pcall(L, 1, 1, 0);
  if (running) lua_gc(L, LUA_GCRESTART);
  if (status != LUA_OK) {
    cnet_nl_discard(cnet_netns_rtnl(ns));
    lua_error(L);
  }
  if (p.rc < 0) lua_pop(L, 1);
  return p.rc;
}
