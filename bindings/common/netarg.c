/* Argument helpers for the link, addr and route bindings: see netarg.h. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "cnet/link.h"
#include "cnet/lladdr.h"
#include "cnet/route.h"
#include "common/netarg.h"

static int ifindex(lua_State *L, struct cnet_netns *ns, int v, int arg, const char *op,
                   const char *object, const char *what, int now) {
  v = lua_absindex(L, v);
  int field = v != arg; /* a value read from a field of argument arg, or arg itself */
  const char *label = field ? lua_pushfstring(L, "field '%s'", what) : NULL;
  int t = lua_type(L, v), index = 0;
  const char *name = NULL;
  if (t == LUA_TNUMBER)
    index = (int)lcnet_to_int(L, v, arg, 1, 0x7fffffff, field ? label : "interface index");
  else if (t == LUA_TSTRING)
    name = lcnet_to_text(L, v, arg, CNET_IFNAMSIZ - 1, field ? label : "interface name", NULL);
  else
    lcnet_argerror(L, arg, label, "interface name or index expected, got %s",
                   luaL_typename(L, v));
  if (field) lua_pop(L, 1);
  if (name == NULL) return index;
  int rc = now ? cnet_link_index_now(ns, name, &index) : cnet_link_index(ns, name, &index);
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
  if (lua_type(L, v) == LUA_TNUMBER && lua_isinteger(L, v))
    return lua_pushfstring(L, "%I", lua_tointeger(L, v)); /* not user input: checked integer */
  const char *s = lcnet_try_text(L, v, CNET_IFNAMSIZ - 1);
  return s ? s : "?";
}

unsigned lcnet_field_lladdr(const lcnet_fields *f, const char *key, const char *op,
                            const char *object, unsigned char *out) {
  const char *text = lcnet_field_text(f, key, 200, NULL, NULL);
  unsigned len = 0;
  if (text != NULL && cnet_lladdr_parse(text, out, &len) < 0) {
    char detail[96];
    snprintf(detail, sizeof detail, "invalid mac address \"%.40s\"", text);
    lcnet_raise(f->L, -EINVAL, op, object, detail);
  }
  return len;
}

uint32_t lcnet_opt_table(lua_State *L, int idx, const char *key, lua_Integer lo) {
  lcnet_fields f = lcnet_fields_of(L, idx);
  int t = lua_getfield(L, idx, key);
  lua_pop(L, 1);
  long v = 0;
  if (t == LUA_TNUMBER) {
    v = (long)lcnet_field_int(&f, key, lo, 0xffffffffLL, 0);
  } else if (t == LUA_TSTRING) {
    const char *name = lcnet_field_text(&f, key, LCNET_TEXT_MAX, NULL, NULL);
    v = cnet_route_table_parse(name);
    if (v < 0)
      lcnet_field_fail(&f, key, "unknown table %s (main, local, default or a number)",
                       lcnet_quote(L, name, strlen(name)));
  } else if (t != LUA_TNIL) {
    lcnet_field_error(L, idx, key, "table number or name");
  }
  return (uint32_t)v;
}

int lcnet_opt_enum(lua_State *L, int idx, const char *key, int (*parse)(const char *)) {
  lcnet_fields f = lcnet_fields_of(L, idx);
  int t = lua_getfield(L, idx, key);
  lua_pop(L, 1);
  int v = -1;
  if (t == LUA_TNUMBER) {
    v = (int)lcnet_field_int(&f, key, 0, 255, -1);
  } else if (t == LUA_TSTRING) {
    const char *name = lcnet_field_text(&f, key, LCNET_TEXT_MAX, NULL, NULL);
    v = parse(name);
    if (v < 0) lcnet_field_fail(&f, key, "unknown value %s", lcnet_quote(L, name, strlen(name)));
  } else if (t != LUA_TNIL) {
    lcnet_field_error(L, idx, key, "name or number");
  }
  return v;
}

void lcnet_push_ifname(lua_State *L, struct cnet_netns *ns, int names, int index, int full) {
  if (lua_rawgeti(L, names, index) != LUA_TNIL) return;
  lua_pop(L, 1);
  char name[CNET_IFNAMSIZ];
  int rc = full ? cnet_link_name(ns, index, name) : cnet_link_name_nowait(ns, index, name);
  if (rc < 0) snprintf(name, sizeof name, "if%d", index);
  lua_pushstring(L, name);
  lua_pushvalue(L, -1);
  lua_rawseti(L, names, index);
}

int lcnet_dev_arg(lua_State *L, struct cnet_netns *ns, int idx, const char *op,
                  const char **label) {
  luaL_argexpected(L, lua_type(L, idx) == LUA_TSTRING || lua_type(L, idx) == LUA_TNUMBER, idx,
                   "interface name or index");
  int index = lcnet_ifindex(L, ns, idx, idx, op, NULL, "dev");
  /* a name was checked by lcnet_ifindex; a number is formatted in a copy */
  *label = lua_type(L, idx) == LUA_TSTRING ? lcnet_try_text(L, idx, CNET_IFNAMSIZ)
                                           : lua_pushfstring(L, "%d", index);
  return index;
}

void lcnet_checkaddr(lua_State *L, int v, int prefix, int family, const char *op,
                     const char *object, struct cnet_ipaddr *out) {
  const char *text = lcnet_try_text(L, v, 128);
  int rc = text == NULL ? -EINVAL
           : prefix     ? cnet_ipaddr_parse_prefix(text, family, out)
                        : cnet_ipaddr_parse(text, family, out);
  if (rc < 0) {
    const char *detail =
        lua_type(L, v) != LUA_TSTRING
            ? lua_pushfstring(L, "address expected, got %s", luaL_typename(L, v))
            : lua_pushfstring(L, "invalid address %s", lcnet_quote_value(L, v));
    lcnet_raise(L, -EINVAL, op, object, detail);
  }
}

int lcnet_opt_family(lua_State *L, int idx, const char *key) {
  static const char *const names[] = {"inet", "ip", "ipv4", "inet6", "ip6", "ipv6", NULL};
  lcnet_fields f = lcnet_fields_of(L, idx);
  int t = lua_getfield(L, idx, key);
  lua_pop(L, 1);
  if (t == LUA_TNIL) return AF_UNSPEC;
  if (t == LUA_TNUMBER) {
    lua_Integer n = lcnet_field_int(&f, key, 4, 6, 0);
    if (n == 5) lcnet_field_fail(&f, key, "unknown family 5 (4 or 6, inet or inet6)");
    return n == 4 ? AF_INET : AF_INET6;
  }
  if (t != LUA_TSTRING) lcnet_field_fail(&f, key, "family name expected (inet or inet6)");
  const char *s = lcnet_field_text(&f, key, LCNET_TEXT_MAX, NULL, NULL);
  for (int i = 0; names[i] != NULL; i++)
    if (strcmp(s, names[i]) == 0) return i < 3 ? AF_INET : AF_INET6;
  lua_getfield(L, idx, key);
  return lcnet_field_fail(&f, key, "unknown family %s (inet or inet6)", lcnet_quote_value(L, -1));
}

const char *lcnet_family_name(int family) {
  return family == AF_INET ? "inet" : family == AF_INET6 ? "inet6" : "unspec";
}

void lcnet_list_reset(void *list) {
  struct lcnet_list *l = list;
  lua_newtable(l->L);
  lua_replace(l->L, l->list);
  l->n = 0;
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
