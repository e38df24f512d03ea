/* cnet.route: add, replace, delete, list, get. Routes come back as plain tables. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <linux/rtnetlink.h>

#include "cnet/addr.h"
#include "cnet/link.h"
#include "cnet/route.h"
#include "common/netarg.h"
#include "common/strs.h"

enum { MAX_HOPS = 256 };

/* nexthops = {{via=, dev=, weight=}, ...} of the spec at 1, into a userdata left on the
 * stack (so an error raised later frees it). */
static void read_nexthops(lua_State *L, struct cnet_netns *ns, const char *op, const char *dst,
                          struct cnet_route_req *req) {
  static const char *const known[] = {"via", "gateway", "dev", "weight", NULL};
  lcnet_fields f = lcnet_fields_of(L, 1);
  int t = lua_getfield(L, 1, "nexthops");
  if (t == LUA_TNIL) {
    lua_pop(L, 1);
    return;
  }
  if (t != LUA_TTABLE) lcnet_field_fail(&f, "nexthops", "list of next hops expected, got %s",
                                        luaL_typename(L, -1));
  int list = lua_gettop(L);
  lua_Integer n = (lua_Integer)lua_rawlen(L, list);
  if (n < 1 || n > MAX_HOPS) lcnet_field_fail(&f, "nexthops", "1 to 256 next hops expected");
  if (req->via.family || req->oif > 0)
    lcnet_field_fail(&f, "nexthops", "not with 'via' or 'dev' (give them per next hop)");
  struct cnet_nexthop_req *hops = lua_newuserdatauv(L, (size_t)n * sizeof *hops, 0);
  memset(hops, 0, (size_t)n * sizeof *hops);
  for (lua_Integer i = 1; i <= n; i++) {
    char path[32];
    snprintf(path, sizeof path, "nexthops[%d]", (int)i);
    if (lua_rawgeti(L, list, i) != LUA_TTABLE)
      lcnet_field_fail(&f, "nexthops", "next hop %I is not a table", i);
    int h = lua_gettop(L);
    lcnet_fields hf = lcnet_fields_in(&f, h, path);
    lcnet_field_check_keys(&hf, known);
    struct cnet_nexthop_req *hop = &hops[i - 1];
    const char *key = lua_getfield(L, h, "via") == LUA_TNIL ? "gateway" : "via";
    lua_pop(L, 1);
    const char *via = lcnet_field_text(&hf, key, 128, NULL, NULL);
    if (via) {
      lua_getfield(L, h, key);
      lcnet_checkaddr(L, -1, 0, AF_UNSPEC, op, dst, &hop->via);
      lua_pop(L, 1);
    }
    if (lua_getfield(L, h, "dev") != LUA_TNIL) hop->oif = lcnet_ifindex(L, ns, -1, 1, op, dst, "dev");
    lua_pop(L, 1);
    hop->weight = (int)lcnet_field_int(&hf, "weight", 1, 256, 1);
    if (!hop->via.family && !hop->oif) lcnet_field_fail(&hf, "via", "via or dev required");
    lua_settop(L, h - 1);
  }
  lua_replace(L, list); /* the userdata stays where the list was */
  req->hops = hops;
  req->nhops = (unsigned)n;
}

/* Reads a route spec {dst=, via=, dev=, src=, metric=, table=, scope=, proto=, type=,
 * family=}; leaves the text naming the route (dst) in *what. */
static void read_route(lua_State *L, struct cnet_netns *ns, const char *op,
                       struct cnet_route_req *req, const char **what) {
  static const char *const known[] = {"dst", "via", "gateway", "dev", "src", "metric", "table",
                                      "scope", "proto", "protocol", "type", "family",
                                      "nexthops", NULL};
  luaL_checktype(L, 1, LUA_TTABLE);
  lua_settop(L, 1);
  lcnet_check_options(L, 1, known);
  cnet_route_req_init(req);
  req->family = lcnet_opt_family(L, 1, "family");
  const char *dst = lcnet_opt_string(L, 1, "dst", NULL);
  if (dst == NULL) luaL_argerror(L, 1, "field 'dst' required (an address/prefix or \"default\")");
  *what = dst;
  if (strcmp(dst, "default") != 0) {
    lua_getfield(L, 1, "dst");
    lcnet_checkaddr(L, -1, 1, req->family, op, dst, &req->dst);
    lua_pop(L, 1);
    if (req->dst.prefix == 0 && req->family == 0) req->family = req->dst.family;
    if (req->dst.prefix == 0) req->dst.family = 0; /* 0.0.0.0/0 is the default route */
    else if (req->family == 0) req->family = req->dst.family;
  }
  const char *via_key = "via";
  int has_gw = lua_getfield(L, 1, "gateway") != LUA_TNIL;
  lua_pop(L, 1);
  if (lua_getfield(L, 1, "via") == LUA_TNIL) {
    lua_pop(L, 1);
    lua_getfield(L, 1, "gateway");
    via_key = "gateway";
  } else if (has_gw) {
    luaL_argerror(L, 1, "fields 'via' and 'gateway' are one (give one)");
  }
  if (!lua_isnil(L, -1)) {
    if (lua_type(L, -1) != LUA_TSTRING) lcnet_field_error(L, 1, via_key, "string");
    lcnet_checkaddr(L, -1, 0, AF_UNSPEC, op, dst, &req->via);
  }
  lua_pop(L, 1);
  if (lua_getfield(L, 1, "src") != LUA_TNIL) {
    if (lua_type(L, -1) != LUA_TSTRING) lcnet_field_error(L, 1, "src", "string");
    lcnet_checkaddr(L, -1, 0, req->family, op, dst, &req->src);
  }
  lua_pop(L, 1);
  if (lua_getfield(L, 1, "dev") != LUA_TNIL) req->oif = lcnet_ifindex(L, ns, -1, 1, op, dst, "dev");
  lua_pop(L, 1);
  lcnet_fields f = lcnet_fields_of(L, 1);
  lua_Integer metric = lcnet_field_int(&f, "metric", 0, 0xffffffffLL, -1); /* -1: not given */
  if (metric >= 0) {
    req->has_metric = 1;
    req->metric = (uint32_t)metric;
  }
  req->table = lcnet_opt_table(L, 1, "table", 1);
  req->scope = lcnet_opt_enum(L, 1, "scope", cnet_scope_parse);
  req->protocol = lcnet_opt_enum(L, 1, "proto", cnet_route_protocol_parse);
  int protocol = lcnet_opt_enum(L, 1, "protocol", cnet_route_protocol_parse); /* another name */
  if (req->protocol >= 0 && protocol >= 0)
    luaL_argerror(L, 1, "fields 'proto' and 'protocol' are one (give one)");
  if (req->protocol < 0) req->protocol = protocol;
  req->type = lcnet_opt_enum(L, 1, "type", cnet_route_type_parse);
  read_nexthops(L, ns, op, dst, req);
  if (req->family == 0) req->family = req->src.family ? req->src.family : req->via.family;
  if (req->family == 0 && req->nhops > 0) req->family = req->hops[0].via.family;
  if (req->family == 0) req->family = AF_INET; /* "default" alone: IPv4, as ip does */
  if ((req->dst.family && req->dst.family != req->family) ||
      (req->via.family == AF_INET && req->family == AF_INET6)) {
    /* say which: "address families differ (dst inet6, via inet, family inet)" */
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    luaL_addstring(&b, "address families differ (");
    if (req->dst.family) {
      luaL_addstring(&b, "dst ");
      luaL_addstring(&b, lcnet_family_name(req->dst.family));
      luaL_addstring(&b, ", ");
    }
    if (req->via.family) {
      luaL_addstring(&b, "via ");
      luaL_addstring(&b, lcnet_family_name(req->via.family));
      luaL_addstring(&b, ", ");
    }
    luaL_addstring(&b, "family ");
    luaL_addstring(&b, lcnet_family_name(req->family));
    luaL_addchar(&b, ')');
    luaL_pushresult(&b);
    lcnet_raise(L, -EINVAL, op, dst, lua_tostring(L, -1)); /* not user input: made here */
  }
}

static int route_change(lua_State *L, const char *op, int replace) {
  struct cnet_netns *ns = lcnet_ns(L);
  struct cnet_route_req req;
  const char *what;
  read_route(L, ns, op, &req, &what);
  int rc = cnet_route_add(ns, &req, replace);
  if (rc < 0) return lcnet_raise(L, rc, op, what, cnet_netns_errmsg(ns));
  return 0;
}

/* cnet.route.add{dst=, via=, dev=, src=, metric=, table=, scope=, proto=, type=} */
static int route_add(lua_State *L) { return route_change(L, "route.add", 0); }
/* cnet.route.replace{...}: adds, or replaces the route with the same dst/table/metric. */
static int route_replace(lua_State *L) { return route_change(L, "route.replace", 1); }

/* cnet.route.delete{dst=, ...}: the fields given narrow which route goes. */
static int route_delete(lua_State *L) {
  struct cnet_netns *ns = lcnet_ns(L);
  struct cnet_route_req req;
  const char *what;
  read_route(L, ns, "route.delete", &req, &what);
  int rc = cnet_route_delete(ns, &req);
  if (rc < 0) return lcnet_raise(L, rc, "route.delete", what, cnet_netns_errmsg(ns));
  return 0;
}

/* Field names of a route table, interned once per call (strs.h). */
enum { K_FAMILY, K_DST, K_VIA, K_SRC, K_OIF, K_METRIC, K_TABLE, K_PROTOCOL, K_SCOPE, K_TYPE,
       K_DEV, NKEYS };
static const char *const key_names[NKEYS] = {"family", "dst",      "via",   "src",
                                             "oif",    "metric",   "table", "protocol",
                                             "scope",  "type",     "dev"};

/* The table being built is on top: set its field k to a name from the cache (or to the
 * number v when there is no name). */
static void set_named(struct lcnet_strs *s, int k, const char *name, lua_Integer v) {
  lcnet_strs_key(s, k);
  if (name) lcnet_strs_val_of(s, k, name, 2);
  else lua_pushinteger(s->L, v);
  lua_rawset(s->L, -3);
}

static void set_text(struct lcnet_strs *s, int k, const char *text) {
  lcnet_strs_key(s, k);
  lua_pushlstring(s->L, text, strlen(text)); /* a fresh string: no use for pushstring's cache */
  lua_rawset(s->L, -3);
}

static void set_int(struct lcnet_strs *s, int k, lua_Integer v) {
  lcnet_strs_key(s, k);
  lua_pushinteger(s->L, v);
  lua_rawset(s->L, -3);
}

/* Pushes the table of one route (dev left as the index in field "oif"). */
static void push_route(struct lcnet_strs *s, const struct cnet_route *r) {
  char buf[CNET_IPADDR_STRLEN];
  /* Exactly as many hash slots as fields (dev comes later with oif): a power of two fewer
   * nodes for the common 8-field route halves the memory of a big dump. */
  int fields = 5 + (r->dst || r->dst_len == 0) + (r->gateway != NULL) + (r->prefsrc != NULL) +
               2 * (r->oif > 0) + r->has_priority;
  lua_createtable(s->L, 0, fields);
  set_named(s, K_FAMILY, lcnet_family_name(r->family), r->family);
  if (r->dst == NULL && r->dst_len == 0) {
    set_named(s, K_DST, "default", 0);
  } else if (r->dst) {
    cnet_ipaddr_format_prefix(r->family, r->dst, r->dst_len, buf, sizeof buf);
    set_text(s, K_DST, buf);
  }
  if (r->gateway && cnet_ipaddr_format(r->via_family, r->gateway, buf, sizeof buf) == 0)
    set_text(s, K_VIA, buf);
  if (r->prefsrc && cnet_ipaddr_format(r->family, r->prefsrc, buf, sizeof buf) == 0)
    set_text(s, K_SRC, buf);
  if (r->oif > 0) set_int(s, K_OIF, r->oif);
  if (r->has_priority) set_int(s, K_METRIC, r->priority);
  set_named(s, K_TABLE, cnet_route_table_name(r->table), r->table);
  set_named(s, K_PROTOCOL, cnet_route_protocol_name(r->protocol), r->protocol);
  set_named(s, K_SCOPE, cnet_scope_name(r->scope), r->scope);
  set_named(s, K_TYPE, cnet_route_type_name(r->type), r->type);
}

/* What a dump collects: the result array at stack index list; device names, looked up
 * while the dump runs (the kernel's ioctl lookup needs no netlink) and cached in the table
 * at stack index names, the last one also at stack index dev; and, for the rare route whose
 * device that lookup misses, its position and ifindex in a growable userdata at stack index
 * devs (so a memory error while building tables leaks nothing), named after the dump. */
struct devref {
  int pos, oif;
};
struct collect {
  lua_State *L;
  struct cnet_netns *ns;
  int list, n;
  int names, dev, last_oif;
  int devs;             /* stack index of the userdata holding refs */
  struct devref *refs;
  int nrefs, caprefs;
  struct lcnet_strs *s;
};

static void add_ref(struct collect *c, int pos, int oif) {
  if (c->nrefs == c->caprefs) {
    int cap = c->caprefs ? c->caprefs * 2 : 256;
    struct devref *v = lua_newuserdatauv(c->L, (size_t)cap * sizeof *v, 0);
    if (c->nrefs) memcpy(v, c->refs, (size_t)c->nrefs * sizeof *v);
    lua_replace(c->L, c->devs);
    c->refs = v;
    c->caprefs = cap;
  }
  c->refs[c->nrefs].pos = pos;
  c->refs[c->nrefs].oif = oif;
  c->nrefs++;
}

/* Sets field dev of the route table on top, or leaves it to name_refs. */
static void set_dev(struct collect *c, int oif) {
  lua_State *L = c->L;
  if (oif != c->last_oif) {
    if (lua_rawgeti(L, c->names, oif) == LUA_TNIL) {
      lua_pop(L, 1);
      char name[CNET_IFNAMSIZ];
      if (cnet_link_name_nowait(c->ns, oif, name) < 0) {
        add_ref(c, c->n + 1, oif);
        return;
      }
      lua_pushstring(L, name);
      lua_pushvalue(L, -1);
      lua_rawseti(L, c->names, oif);
    }
    lua_replace(L, c->dev);
    c->last_oif = oif;
  }
  lcnet_strs_key(c->s, K_DEV);
  lua_pushvalue(L, c->dev);
  lua_rawset(L, -3);
}

/* Sets field nexthops = {{via=, dev=, weight=}, ...} of the route table on top. */
static void set_nexthops(lua_State *L, struct cnet_netns *ns, int names, const struct cnet_route *r) {
  lua_newtable(L);
  size_t pos = 0;
  struct cnet_nexthop nh;
  char buf[CNET_IPADDR_STRLEN];
  for (int i = 1; cnet_route_nexthop(r, &pos, &nh); i++) {
    lua_createtable(L, 0, 3);
    if (nh.gateway && cnet_ipaddr_format(nh.via_family, nh.gateway, buf, sizeof buf) == 0) {
      lua_pushstring(L, buf);
      lua_setfield(L, -2, "via");
    }
    if (nh.oif > 0) {
      lcnet_push_ifname(L, ns, names, nh.oif, 0);
      lua_setfield(L, -2, "dev");
    }
    lua_pushinteger(L, nh.weight);
    lua_setfield(L, -2, "weight");
    lua_rawseti(L, -2, i);
  }
  lua_setfield(L, -2, "nexthops");
}

static int collect_cb(const struct cnet_route *r, void *data) {
  struct collect *c = data;
  push_route(c->s, r);
  if (r->oif > 0) set_dev(c, r->oif);
  if (r->multipath) set_nexthops(c->L, c->ns, c->names, r);
  lua_rawseti(c->L, c->list, ++c->n);
  return 0;
}

static void collect_reset(void *data) {
  struct collect *c = data;
  lua_newtable(c->L);
  lua_replace(c->L, c->list);
  c->n = 0;
  c->nrefs = 0;
  c->last_oif = 0; /* the names cached stay right */
}

/* Sets field dev of the routes whose device the lookup during the dump missed, with the
 * full lookup (which may use netlink, so not inside the dump). */
static void name_refs(lua_State *L, struct cnet_netns *ns, struct collect *c, int names) {
  int last = 0;
  for (int i = 0; i < c->nrefs; i++) {
    int oif = c->refs[i].oif;
    if (oif != last) {
      if (last) lua_pop(L, 1);
      lcnet_push_ifname(L, ns, names, oif, 1);
      last = oif;
    }
    lua_rawgeti(L, c->list, c->refs[i].pos);
    lua_pushvalue(L, c->s->base + K_DEV);
    lua_pushvalue(L, -3);
    lua_rawset(L, -3);
    lua_pop(L, 1);
  }
  if (last) lua_pop(L, 1);
}

struct list_ctx {
  struct cnet_netns *ns;
  int family;
  uint32_t table;
};

/* Runs protected (lcnet_pdump): the dump, then the device names. */
static int list_body(lua_State *L, void *data, int *rc) {
  struct list_ctx *x = data;
  lua_newtable(L); /* 1: result */
  lua_newtable(L); /* 2: ifindex -> name */
  lua_pushnil(L);  /* 3: the refs userdata, once there is one */
  lua_pushnil(L);  /* 4: the last device name */
  struct lcnet_strs s;
  lcnet_strs_init(L, &s, key_names, NKEYS); /* 5...: the shared strings */
  struct collect c = {L, x->ns, 1, 0, 2, 4, 0, 3, NULL, 0, 0, &s};
  *rc = cnet_route_list(x->ns, x->family, x->table, collect_cb, collect_reset, &c);
  if (*rc < 0) return 0;
  name_refs(L, x->ns, &c, 2);
  lua_settop(L, 1);
  return 1;
}

/* cnet.route.list([{family=, table=}]) -> { route, ... }; table defaults to "main",
 * table = "all" (or 0) lists every table. */
static int route_list(lua_State *L) {
  struct cnet_netns *ns = lcnet_ns(L);
  static const char *const known[] = {"family", "table", NULL};
  lcnet_check_options(L, 1, known);
  int family = AF_UNSPEC;
  uint32_t table = RT_TABLE_MAIN;
  if (lua_istable(L, 1)) {
    family = lcnet_opt_family(L, 1, "family");
    lua_getfield(L, 1, "table");
    const char *name = lcnet_try_text(L, -1, 8);
    int all = name != NULL && strcmp(name, "all") == 0;
    int given = !lua_isnil(L, -1);
    lua_pop(L, 1);
    if (all) table = 0;
    else if (given) table = lcnet_opt_table(L, 1, "table", 0); /* 0 also means all */
  }
  struct list_ctx ctx = {ns, family, table};
  int rc = lcnet_pdump(L, ns, list_body, &ctx);
  if (rc < 0) return lcnet_raise(L, rc, "route.list", NULL, cnet_netns_errmsg(ns));
  return 1;
}

static int one_cb(const struct cnet_route *r, void *data) {
  push_route(data, r);
  return 0;
}

struct get_ctx {
  struct cnet_netns *ns;
  const struct cnet_ipaddr *addr, *src;
  int oif;
};

/* Runs protected (lcnet_pdump): the lookup, then the device name. */
static int get_body(lua_State *L, void *data, int *rc) {
  struct get_ctx *x = data;
  lua_newtable(L); /* 1: names */
  struct lcnet_strs s;
  lcnet_strs_init(L, &s, key_names, NKEYS);
  *rc = cnet_route_get(x->ns, x->addr, x->src, x->oif, one_cb, &s);
  if (*rc < 0) return 0;
  lua_pushvalue(L, s.base + K_OIF);
  if (lua_rawget(L, -2) == LUA_TNUMBER) {
    int oif = (int)lua_tointeger(L, -1); /* not user input: the kernel's answer */
    lua_pop(L, 1);
    lua_pushvalue(L, s.base + K_DEV);
    lcnet_push_ifname(L, x->ns, 1, oif, 1);
    lua_rawset(L, -3);
  } else {
    lua_pop(L, 1);
  }
  return 1;
}

/* cnet.route.get(addr [, {from=, dev=}]) -> the route the kernel would use */
static int route_get(lua_State *L) {
  struct cnet_netns *ns = lcnet_ns(L);
  static const char *const known[] = {"from", "dev", NULL};
  const char *text = lcnet_check_text(L, 1, 128, "address", NULL);
  lcnet_check_options(L, 2, known);
  lua_settop(L, 2);
  struct cnet_ipaddr addr, src = {0};
  lcnet_checkaddr(L, 1, 0, AF_UNSPEC, "route.get", text, &addr);
  int oif = 0;
  if (lua_istable(L, 2)) {
    if (lua_getfield(L, 2, "from") != LUA_TNIL) {
      if (lua_type(L, -1) != LUA_TSTRING) lcnet_field_error(L, 2, "from", "string");
      lcnet_checkaddr(L, -1, 0, addr.family, "route.get", text, &src);
    }
    if (lua_getfield(L, 2, "dev") != LUA_TNIL) oif = lcnet_ifindex(L, ns, -1, 2, "route.get", text, "dev");
  }
  lua_settop(L, 2);
  struct get_ctx ctx = {ns, &addr, &src, oif};
  int rc = lcnet_pdump(L, ns, get_body, &ctx);
  if (rc < 0) return lcnet_raise(L, rc, "route.get", text, cnet_netns_errmsg(ns));
  return 1;
}

void lcnet_open_route(lua_State *L, int ns) {
  static const luaL_Reg fns[] = {{"add", route_add},   {"replace", route_replace},
                                 {"delete", route_delete}, {"list", route_list},
                                 {"get", route_get},   {NULL, NULL}};
  lcnet_bind_sub(L, "route", fns, ns);
}

/* One route table as route.list gives it (dev left to the caller, oif kept), for events. */
void lcnet_push_route(lua_State *L, const struct cnet_route *r) {
  int top = lua_gettop(L);
  struct lcnet_strs s;
  lcnet_strs_init(L, &s, key_names, NKEYS);
  push_route(&s, r);
  lua_replace(L, top + 1);
  lua_settop(L, top + 1);
}
