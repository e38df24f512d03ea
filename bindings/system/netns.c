/* Namespace handles (`cnet.netns` userdata) and the `cnet.netns` submodule. */
#include <errno.h>
#include <limits.h>
#include <string.h>

#include "common/lcnet.h"

static lnetns *checkhandle(lua_State *L, int idx) {
  return luaL_checkudata(L, idx, LCNET_NETNS);
}

/* __gc, __close and close(): idempotent. */
static int netns_release(lua_State *L) {
  lnetns *h = checkhandle(L, 1);
  if (h->ns != NULL) {
    cnet_netns_close(h->ns);
    h->ns = NULL;
  }
  return 0;
}

/* close() as a bound function, so both ns.close() and ns:close() work. */
static int netns_close_bound(lua_State *L) {
  lua_settop(L, 0);
  lua_pushvalue(L, lua_upvalueindex(1));
  return netns_release(L);
}

/* A handle's API in parts, each bound into its table on first use. Binding all of them cost
 * 170,000 instructions a handle, a quarter of `cnet up` of 500 containers, where a topology
 * uses three parts of each namespace's handle. The last part (probe, proc and monitor) holds
 * many top-level names; a key no other part has binds it. */
static void open_rest(lua_State *L, int ud) {
  lcnet_open_probe(L, ud);
  lcnet_open_proc(L, ud);
  lcnet_open_monitor(L, ud);
}

static const struct part {
  const char *key;
  void (*open)(lua_State *L, int ud);
} parts[] = {
  {"link", lcnet_open_link}, {"addr", lcnet_open_addr}, {"route", lcnet_open_route},
  {"neigh", lcnet_open_neigh}, {"fdb", lcnet_open_fdb}, {"vlan", lcnet_open_vlan},
  {"rule", lcnet_open_rule}, {"sysctl", lcnet_open_sysctl}, {"nft", lcnet_open_nft},
  {"tc", lcnet_open_tc}, {NULL, open_rest}};

enum { NPARTS = sizeof parts / sizeof parts[0], ALL_PARTS = (1u << NPARTS) - 1 };

/* Binds part i of the API of the handle at ud into the table on top of the stack. */
static void bind_part(lua_State *L, lnetns *h, int ud, unsigned i) {
  if (h->bound & (1u << i)) return;
  h->bound |= 1u << i;
  parts[i].open(L, ud);
}

void lcnet_netns_api(lua_State *L, int idx) {
  idx = lua_absindex(L, idx);
  lnetns *h = checkhandle(L, idx);
  lua_getiuservalue(L, idx, 1);
  for (unsigned i = 0; i < NPARTS; i++) bind_part(L, h, idx, i);
}

/* __index: the live fields (closed, name, path), then the API table kept as user value 1
 * (binding the part that holds the key, the first time). */
static int netns_index(lua_State *L) {
  lnetns *h = checkhandle(L, 1);
  const char *k = lcnet_try_text(L, 2, 8);
  if (k != NULL && strcmp(k, "closed") == 0) {
    lua_pushboolean(L, h->ns == NULL);
    return 1;
  }
  /* read from the namespace, so that making a handle allocates nothing after the namespace
   * is acquired (see lcnet_new_netns) */
  if (k != NULL && (strcmp(k, "name") == 0 || strcmp(k, "path") == 0)) {
    const char *v = h->ns == NULL ? NULL
                    : *k == 'n'   ? cnet_netns_name(h->ns)
                                  : cnet_netns_path(h->ns);
    if (v != NULL) lua_pushstring(L, v);
    else lua_pushnil(L);
    return 1;
  }
  lua_getiuservalue(L, 1, 1);
  lua_pushvalue(L, 2);
  if (lua_rawget(L, -2) != LUA_TNIL || h->bound == ALL_PARTS) return 1;
  lua_pop(L, 1);
  unsigned i = 0;
  while (parts[i].key != NULL && (k == NULL || strcmp(k, parts[i].key) != 0)) i++;
  bind_part(L, h, 1, i);
  lua_pushvalue(L, 2);
  lua_rawget(L, -2);
  return 1;
}

static int netns_tostring(lua_State *L) {
  lnetns *h = checkhandle(L, 1);
  if (h->ns == NULL) {
    lua_pushliteral(L, "cnet.netns (closed)");
  } else {
    const char *name = cnet_netns_name(h->ns), *path = cnet_netns_path(h->ns);
    if (name != NULL) lua_pushfstring(L, "cnet.netns %s", name);
    else if (path != NULL) lua_pushfstring(L, "cnet.netns %s", path);
    else lua_pushliteral(L, "cnet.netns (current)");
  }
  return 1;
}

/* Two handles are equal when they reach the same kernel namespace. */
static int netns_eq(lua_State *L) {
  lnetns *a = checkhandle(L, 1), *b = checkhandle(L, 2);
  if (a->ns == NULL || b->ns == NULL) {
    lua_pushboolean(L, a == b);
    return 1;
  }
  dev_t da, db;
  ino_t ia, ib;
  cnet_netns_ident(a->ns, &da, &ia);
  cnet_netns_ident(b->ns, &db, &ib);
  lua_pushboolean(L, da == db && ia == ib);
  return 1;
}

lnetns *lcnet_new_netns(lua_State *L) {
  lnetns *h = lua_newuserdatauv(L, sizeof *h, 1);
  h->ns = NULL;
  h->bound = 0;
  luaL_setmetatable(L, LCNET_NETNS);
  int ud = lua_gettop(L);
  lua_createtable(L, 0, 16); /* the API bound to this handle: its parts come on first use */
  lcnet_mark_api(L);
  lua_pushvalue(L, ud);
  lua_pushcclosure(L, netns_close_bound, 1);
  lua_setfield(L, -2, "close");
  lua_setiuservalue(L, ud, 1);
  return h;
}

/* The argument at arg as a namespace name: text of at most NAME_MAX bytes (a file name in
 * /run/netns; the core refuses "", "." , ".." and names with '/'). */
static const char *name_text(lua_State *L, int arg) {
  return lcnet_check_text(L, arg, NAME_MAX, "namespace name", NULL);
}

struct cnet_netns *lcnet_tons(lua_State *L, int idx) {
  idx = lua_absindex(L, idx);
  if (lua_type(L, idx) == LUA_TSTRING) {
    const char *name = lcnet_to_text(L, idx, idx, NAME_MAX, "namespace name", NULL);
    lnetns *h = lcnet_new_netns(L);
    int rc = cnet_netns_open_name(name, &h->ns);
    if (rc < 0) lcnet_raise(L, rc, "netns.open", name, NULL);
    return h->ns;
  }
  lnetns *h = luaL_testudata(L, idx, LCNET_NETNS);
  if (h == NULL) lcnet_argerror(L, idx, NULL, "cnet.netns or namespace name expected, got %s",
                                luaL_typename(L, idx));
  if (h->ns == NULL) luaL_argerror(L, idx, "cnet.netns is closed");
  lua_pushvalue(L, idx);
  return h->ns;
}

/* cnet.netns.add(name) -> handle */
static int netns_add(lua_State *L) {
  const char *name = name_text(L, 1);
  lnetns *h = lcnet_new_netns(L); /* made first: nothing can fail once the namespace exists */
  int rc = cnet_netns_add(name, &h->ns);
  if (rc < 0) return lcnet_raise(L, rc, "netns.add", name, NULL);
  return 1;
}

/* cnet.netns.open(name) or open{name=|path=|pid=} -> handle */
static int netns_open(lua_State *L) {
  int rc;
  const char *what;
  lnetns *h;
  if (lua_type(L, 1) == LUA_TTABLE) {
    static const char *const known[] = {"name", "path", "pid", NULL};
    lua_settop(L, 1);
    lcnet_check_options(L, 1, known);
    lcnet_fields f = lcnet_fields_of(L, 1);
    const char *name = lcnet_field_text(&f, "name", NAME_MAX, NULL, NULL);
    const char *path = lcnet_field_text(&f, "path", PATH_MAX - 1, NULL, NULL);
    lua_Integer pid = lcnet_field_int(&f, "pid", 1, INT_MAX, 0);
    luaL_argcheck(L, (name != NULL) + (path != NULL) + (pid != 0) == 1, 1,
                  "give exactly one of name, path, pid");
    what = name ? name : path ? path : lua_pushfstring(L, "pid %I", pid);
    h = lcnet_new_netns(L);
    rc = name ? cnet_netns_open_name(name, &h->ns)
         : path ? cnet_netns_open_path(path, &h->ns)
                : cnet_netns_open_pid((pid_t)pid, &h->ns);
  } else {
    what = name_text(L, 1);
    h = lcnet_new_netns(L);
    rc = cnet_netns_open_name(what, &h->ns);
  }
  if (rc < 0) return lcnet_raise(L, rc, "netns.open", what, NULL);
  return 1;
}

/* cnet.netns.current() -> handle of the namespace the calling thread is in */
static int netns_current(lua_State *L) {
  lnetns *h = lcnet_new_netns(L);
  int rc = cnet_netns_open_current(&h->ns);
  if (rc < 0) return lcnet_raise(L, rc, "netns.current", NULL, NULL);
  return 1;
}

static const char *name_arg(lua_State *L, int idx) {
  lnetns *h = luaL_testudata(L, idx, LCNET_NETNS);
  if (h != NULL) {
    luaL_argcheck(L, h->ns != NULL, idx, "cnet.netns is closed");
    const char *name = cnet_netns_name(h->ns);
    luaL_argcheck(L, name != NULL, idx, "namespace has no name in " CNET_NETNS_DIR);
    return name;
  }
  if (lua_type(L, idx) != LUA_TSTRING)
    lcnet_argerror(L, idx, NULL, "cnet.netns or namespace name expected, got %s",
                   luaL_typename(L, idx));
  return name_text(L, idx);
}

/* cnet.netns.delete(name or handle): removes the name; the namespace itself goes away when
 * nothing else (process, open handle, bind mount) holds it. */
static int netns_delete(lua_State *L) {
  const char *name = name_arg(L, 1);
  int rc = cnet_netns_delete(name);
  if (rc < 0) return lcnet_raise(L, rc, "netns.delete", name, NULL);
  return 0;
}

/* cnet.netns.attach(name, pid) -> handle: gives PID's namespace a name, like `ip netns attach` */
static int netns_attach(lua_State *L) {
  const char *name = name_text(L, 1);
  pid_t pid = (pid_t)lcnet_check_int(L, 2, 1, INT_MAX, "pid");
  lnetns *h = lcnet_new_netns(L);
  int rc = cnet_netns_attach(name, pid);
  if (rc < 0) return lcnet_raise(L, rc, "netns.attach", name, NULL);
  rc = cnet_netns_open_name(name, &h->ns);
  if (rc < 0) {
    cnet_netns_delete(name); /* leave nothing half-made */
    return lcnet_raise(L, rc, "netns.attach", name, NULL);
  }
  return 1;
}

/* cnet.netns.detach(name): forgets the name, leaves the namespace to its processes */
static int netns_detach(lua_State *L) {
  const char *name = name_text(L, 1);
  int rc = cnet_netns_delete(name);
  if (rc < 0) return lcnet_raise(L, rc, "netns.detach", name, NULL);
  return 0;
}

/* Appends {name=, path=, stale=} to the list at 1 (the name is the light userdata at 2). */
static int push_row(lua_State *L) {
  const char *name = lua_touserdata(L, 2);
  lua_settop(L, 1);
  lua_createtable(L, 0, 2);
  lua_pushstring(L, name);
  lua_setfield(L, -2, "name");
  lua_pushfstring(L, CNET_NETNS_DIR "/%s", name);
  lua_setfield(L, -2, "path");
  if (cnet_netns_stale(name) == 1) {
    lua_pushboolean(L, 1);
    lua_setfield(L, -2, "stale");
  }
  lua_rawseti(L, 1, (lua_Integer)lua_rawlen(L, 1) + 1);
  return 0;
}

static int push_listed(const char *name, void *data) {
  return lcnet_row(data, push_row, (void *)name);
}

/* cnet.netns.list() -> { {name=, path=, stale=}, ... } sorted by name; stale = true for an
 * empty entry nothing is mounted on */
static int netns_list(lua_State *L) {
  lua_newtable(L);
  int rc = lcnet_rows_done(L, cnet_netns_list(push_listed, L));
  if (rc < 0) return lcnet_raise(L, rc, "netns.list", NULL, NULL);
  return 1;
}

/* cnet.netns.exists(name) -> boolean */
static int netns_exists(lua_State *L) {
  const char *name = name_text(L, 1);
  struct cnet_netns *ns;
  int rc = cnet_netns_open_name(name, &ns);
  cnet_netns_close(ns);
  lua_pushboolean(L, rc == 0);
  return 1;
}

void lcnet_netns_init(lua_State *L) {
  static const luaL_Reg meta[] = {
      {"__gc", netns_release}, {"__close", netns_release}, {"__index", netns_index},
      {"__tostring", netns_tostring}, {"__eq", netns_eq}, {NULL, NULL}};
  if (luaL_newmetatable(L, LCNET_NETNS)) luaL_setfuncs(L, meta, 0);
  lua_pop(L, 1);
  static const luaL_Reg fns[] = {
      {"add", netns_add}, {"open", netns_open}, {"current", netns_current},
      {"delete", netns_delete}, {"attach", netns_attach}, {"detach", netns_detach},
      {"list", netns_list}, {"exists", netns_exists}, {NULL, NULL}};
  luaL_newlib(L, fns);
}
