/* cnet.neigh: add, replace, delete, list, flush of ARP/NDP entries; and the listing of
 * neighbour-table entries shared with cnet.fdb (lneigh.h). Entries come back as plain
 * tables. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <linux/neighbour.h>

#include "cnet/link.h"
#include "common/netarg.h"
#include "common/strs.h"
#include "rtnl/lneigh.h"

#ifndef NTF_EXT_LOCKED
#define NTF_EXT_LOCKED (1 << 1) /* linux 6.2; older headers lack it */
#endif

/* ---- shared with fdb.c ---- */

const char *lneigh_object(lua_State *L, const char *what, const char *dev, const char *dst) {
  luaL_Buffer b;
  luaL_buffinit(L, &b);
  luaL_addstring(&b, what);
  if (dev) {
    luaL_addstring(&b, " dev ");
    luaL_addstring(&b, dev);
  }
  if (dst) {
    luaL_addstring(&b, " dst ");
    luaL_addstring(&b, dst);
  }
  luaL_pushresult(&b);
  return lcnet_batch_object(L);
}

static uint32_t one_state(lua_State *L, int idx, const char *key, int family, int v) {
  const char *what = lua_pushfstring(L, "field '%s'", key);
  const char *name = lcnet_to_text(L, v, idx, 32, what, NULL);
  lua_pop(L, 1);
  if (strcmp(name, "all") == 0) return ~0u;
  long bit = cnet_neigh_state_parse(family, name);
  if (bit < 0) lcnet_argerror(L, idx, what, "unknown state %s", lcnet_quote_value(L, v));
  return (uint32_t)bit;
}

uint32_t lneigh_opt_states(lua_State *L, int idx, const char *key, int family) {
  int t = lua_getfield(L, idx, key);
  int v = lua_gettop(L);
  uint32_t states = 0;
  if (t == LUA_TSTRING) {
    states = one_state(L, idx, key, family, v);
  } else if (t == LUA_TTABLE) {
    lua_Integer n = (lua_Integer)lua_rawlen(L, v);
    for (lua_Integer i = 1; i <= n; i++) {
      lua_rawgeti(L, v, i);
      const char *elem = lua_pushfstring(L, "%s[%I]", key, i); /* errors name the element */
      states |= one_state(L, idx, elem, family, lua_gettop(L) - 1);
      lua_pop(L, 2);
    }
    if (n == 0) luaL_argerror(L, idx, lua_pushfstring(L, "field '%s': empty list of states", key));
  } else if (t != LUA_TNIL) {
    lcnet_field_error(L, idx, key, "state name or list of names");
  }
  lua_settop(L, v - 1);
  return states;
}

/* Field names of entry tables, interned once per listing (strs.h). */
enum { K_FAMILY, K_DST, K_DEV, K_LLADDR, K_STATE, K_ROUTER, K_PROXY, K_EXTERN_LEARN, K_MAC,
       K_SELF, K_MASTER, K_VLAN, K_PORT, K_VNI, K_SRC_VNI, K_VIA, K_STICKY, K_OFFLOAD,
       K_LOCKED, K_NHID, K_LINK_NETNSID, NKEYS };
static const char *const key_names[NKEYS] = {
    "family", "dst",    "dev",     "lladdr", "state",   "router",  "proxy",
    "extern_learn", "mac", "self", "master", "vlan",    "port",    "vni",
    "src_vni", "via",   "sticky",  "offload", "locked", "nhid",    "link_netnsid"};

/* One row being built: where its keys come from and how it names devices (the listing
 * from its index -> name table, the monitor also from what its link events said). */
struct row {
  lua_State *L;
  struct lcnet_strs *s;
  lcnet_name_fn name;
  void *ctx;
};

static void set_int(struct lcnet_strs *s, int k, lua_Integer v) {
  lcnet_strs_key(s, k);
  lua_pushinteger(s->L, v);
  lua_rawset(s->L, -3);
}

static void set_true(struct lcnet_strs *s, int k) {
  lcnet_strs_key(s, k);
  lua_pushboolean(s->L, 1);
  lua_rawset(s->L, -3);
}

static void set_text(struct lcnet_strs *s, int k, const char *text, size_t len) {
  lcnet_strs_key(s, k);
  lua_pushlstring(s->L, text, len);
  lua_rawset(s->L, -3);
}

static void set_dev(const struct row *r, int k, int index) {
  lcnet_strs_key(r->s, k);
  r->name(r->L, r->ctx, index);
  lua_rawset(r->L, -3);
}

static void set_state(struct lcnet_strs *s, int family, uint16_t state) {
  const char *name = cnet_neigh_state_name(family, state);
  lcnet_strs_key(s, K_STATE);
  if (name) lcnet_strs_val_of(s, K_STATE, name, 2);
  else lua_pushinteger(s->L, state);
  lua_rawset(s->L, -3);
}

static void set_dst(struct lcnet_strs *s, const struct cnet_neigh *e) {
  char buf[CNET_IPADDR_STRLEN];
  if (cnet_ipaddr_format(e->dst_family, e->dst, buf, sizeof buf) == 0)
    set_text(s, K_DST, buf, strlen(buf));
}

static void set_lladdr(struct lcnet_strs *s, int k, const struct cnet_neigh *e) {
  char buf[CNET_LLADDR_STRLEN];
  size_t len = cnet_lladdr_format(e->lladdr, e->lladdr_len, buf);
  set_text(s, k, buf, len);
}

/* An ARP/NDP entry: {family=, dst=, dev=, lladdr=, state=, router=, proxy=, extern_learn=} */
static void push_ip(const struct row *r, const struct cnet_neigh *e) {
  struct lcnet_strs *s = r->s;
  int router = (e->flags & NTF_ROUTER) != 0, proxy = (e->flags & NTF_PROXY) != 0;
  int ext = (e->flags & NTF_EXT_LEARNED) != 0;
  lua_createtable(r->L, 0, 2 + !proxy + (e->dst != NULL) + (e->index > 0) +
                               (e->lladdr != NULL) + router + proxy + ext);
  lcnet_strs_key(s, K_FAMILY);
  lcnet_strs_val_of(s, K_FAMILY, lcnet_family_name(e->family), 2);
  lua_rawset(r->L, -3);
  if (e->dst) set_dst(s, e);
  if (e->index > 0) set_dev(r, K_DEV, e->index);
  if (e->lladdr) set_lladdr(s, K_LLADDR, e);
  if (!proxy) set_state(s, e->family, e->state);
  if (router) set_true(s, K_ROUTER);
  if (proxy) set_true(s, K_PROXY);
  if (ext) set_true(s, K_EXTERN_LEARN);
}

/* An FDB entry: {mac=, dev=, state=, self=, master=, vlan=, dst=, port=, vni=, via=, ...} */
static void push_fdb(const struct row *r, const struct cnet_neigh *e) {
  struct lcnet_strs *s = r->s;
  uint8_t fl = e->flags;
  int self = (fl & NTF_SELF) != 0, sticky = (fl & NTF_STICKY) != 0;
  int ext = (fl & NTF_EXT_LEARNED) != 0, off = (fl & NTF_OFFLOADED) != 0;
  int router = (fl & NTF_ROUTER) != 0, locked = (e->ext_flags & NTF_EXT_LOCKED) != 0;
  lua_createtable(r->L, 0, 1 + (e->lladdr != NULL) + (e->index > 0) + self + (e->master > 0) +
                               (e->vlan >= 0) + (e->dst != NULL) + (e->port >= 0) +
                               (e->vni >= 0) + (e->src_vni >= 0) + (e->via > 0) + sticky +
                               ext + off + router + locked + (e->nhid > 0) +
                               (e->link_netnsid >= 0));
  if (e->lladdr) set_lladdr(s, K_MAC, e);
  if (e->index > 0) set_dev(r, K_DEV, e->index);
  set_state(s, AF_BRIDGE, e->state);
  if (self) set_true(s, K_SELF);
  if (e->master > 0) set_dev(r, K_MASTER, e->master);
  if (e->vlan >= 0) set_int(s, K_VLAN, e->vlan);
  if (e->dst) set_dst(s, e);
  if (e->port >= 0) set_int(s, K_PORT, e->port);
  if (e->vni >= 0) set_int(s, K_VNI, e->vni);
  if (e->src_vni >= 0) set_int(s, K_SRC_VNI, e->src_vni);
  /* A remote's device in another namespace can only be given by its index. */
  if (e->via > 0 && e->link_netnsid >= 0) set_int(s, K_VIA, e->via);
  else if (e->via > 0) set_dev(r, K_VIA, e->via);
  if (sticky) set_true(s, K_STICKY);
  if (ext) set_true(s, K_EXTERN_LEARN);
  if (off) set_true(s, K_OFFLOAD);
  if (router) set_true(s, K_ROUTER);
  if (locked) set_true(s, K_LOCKED);
  if (e->nhid > 0) set_int(s, K_NHID, e->nhid);
  if (e->link_netnsid >= 0) set_int(s, K_LINK_NETNSID, e->link_netnsid);
}

static void push_row(const struct row *r, const struct cnet_neigh *e) {
  if (e->family == AF_BRIDGE) push_fdb(r, e);
  else push_ip(r, e);
}

void lcnet_push_neigh(lua_State *L, const struct cnet_neigh *e, lcnet_name_fn name, void *ctx) {
  struct lcnet_strs s;
  lcnet_strs_init(L, &s, key_names, NKEYS);
  struct row r = {L, &s, name, ctx};
  push_row(&r, e);
  lua_replace(L, s.base); /* the row where the keys began, and the keys gone */
  lua_settop(L, s.base);
}

struct collect {
  struct lcnet_list out;       /* first: lcnet_list_reset resets it */
  struct row row;
  struct cnet_netns *ns;
  int names;                   /* stack index of the index -> name table */
};

static void list_name(lua_State *L, void *ctx, int index) {
  struct collect *c = ctx;
  lcnet_push_ifname(L, c->ns, c->names, index, 0);
}

static int collect_cb(const struct cnet_neigh *e, void *data) {
  struct collect *c = data;
  push_row(&c->row, e);
  lcnet_list_add(&c->out);
  return 0;
}

struct list_ctx {
  struct cnet_netns *ns;
  const struct cnet_neigh_filter *f;
};

/* Runs protected (lcnet_pdump). */
static int list_body(lua_State *L, void *data, int *rc) {
  struct list_ctx *x = data;
  lua_newtable(L); /* 1: result */
  lua_newtable(L); /* 2: ifindex -> name */
  struct lcnet_strs s;
  lcnet_strs_init(L, &s, key_names, NKEYS);
  struct collect c = {{L, 1, 0}, {L, &s, list_name, NULL}, x->ns, 2};
  c.row.ctx = &c;
  *rc = cnet_neigh_list(x->ns, x->f, collect_cb, lcnet_list_reset, &c);
  if (*rc < 0) return 0;
  lua_settop(L, 1);
  return 1;
}

int lneigh_change(lua_State *L, const char *op, lneigh_reader read, enum lneigh_verb verb) {
  struct cnet_netns *ns = lcnet_ns(L); /* first: it drops a method call's self */
  int del = verb == LNEIGH_DELETE;
  enum cnet_neigh_mode mode = verb == LNEIGH_REPLACE  ? CNET_NEIGH_REPLACE
                              : verb == LNEIGH_APPEND ? CNET_NEIGH_APPEND
                                                      : CNET_NEIGH_ADD;
  if (verb == LNEIGH_ADD_OR_APPEND && lua_type(L, 1) == LUA_TTABLE &&
      lcnet_opt_bool(L, 1, "append", 0))
    mode = CNET_NEIGH_APPEND;
  struct cnet_neigh_req req;
  const char *object = read(L, ns, op, !del, &req);
  int rc = del ? cnet_neigh_delete(ns, &req) : cnet_neigh_add(ns, &req, mode);
  if (rc < 0) return lcnet_raise(L, rc, op, object, cnet_netns_errmsg(ns));
  return 0;
}

void lneigh_push_list(lua_State *L, struct cnet_netns *ns, const struct cnet_neigh_filter *f,
                      const char *op, const char *object) {
  struct list_ctx ctx = {ns, f};
  int rc = lcnet_pdump(L, ns, list_body, &ctx);
  if (rc < 0) lcnet_raise(L, rc, op, object, cnet_netns_errmsg(ns));
}

void lneigh_push_flush(lua_State *L, struct cnet_netns *ns, const struct cnet_neigh_filter *f,
                       const char *op, const char *object) {
  unsigned count;
  int rc = cnet_neigh_flush(ns, f, &count);
  if (rc < 0) lcnet_raise(L, rc, op, object, cnet_netns_errmsg(ns));
  lua_pushinteger(L, count);
}

/* ---- cnet.neigh ---- */

static const char *const entry_keys[] = {"dst", "dev", "lladdr", "state", "proxy", "router",
                                         "extern_learn", "family", NULL};

/* Reads {dst=, dev=, lladdr=, state=, proxy=, router=, extern_learn=, family=} at 1. */
static const char *read_entry(lua_State *L, struct cnet_netns *ns, const char *op, int add,
                              struct cnet_neigh_req *req) {
  luaL_checktype(L, 1, LUA_TTABLE);
  lua_settop(L, 1);
  lcnet_check_options(L, 1, entry_keys);
  cnet_neigh_req_init(req);
  int family = lcnet_opt_family(L, 1, "family");
  const char *dst = lcnet_opt_string(L, 1, "dst", NULL);
  if (dst == NULL) luaL_argerror(L, 1, "field 'dst' required (an IPv4 or IPv6 address)");
  int proxy = lcnet_opt_bool(L, 1, "proxy", 0);
  const char *dev = NULL;
  int devv = 0;
  if (lua_getfield(L, 1, "dev") != LUA_TNIL) {
    devv = lua_gettop(L);
    if (lua_type(L, devv) != LUA_TSTRING && lua_type(L, devv) != LUA_TNUMBER)
      lcnet_field_error(L, 1, "dev", "interface name or index");
    dev = lcnet_dev_text(L, devv);
  } else if (!proxy) {
    luaL_argerror(L, 1, "field 'dev' required");
  }
  const char *object = lneigh_object(L, dst, dev, NULL);
  lua_getfield(L, 1, "dst");
  lcnet_checkaddr(L, -1, 0, family, op, object, &req->dst);
  lua_pop(L, 1);
  req->family = req->dst.family;
  if (devv) req->index = lcnet_ifindex(L, ns, devv, 1, op, object, "dev");
  lcnet_fields f = lcnet_fields_of(L, 1);
  req->lladdr_len = lcnet_field_lladdr(&f, "lladdr", op, object, req->lladdr);
  if (proxy) req->flags |= NTF_PROXY;
  if (lcnet_opt_bool(L, 1, "router", 0)) req->flags |= NTF_ROUTER;
  if (lcnet_opt_bool(L, 1, "extern_learn", 0)) req->flags |= NTF_EXT_LEARNED;
  const char *state = lcnet_opt_string(L, 1, "state", NULL);
  if (add && !proxy) {
    long nud = cnet_neigh_state_for_add(req->family, state ? state : "permanent");
    if (nud < 0)
      luaL_argerror(L, 1, lua_pushfstring(L, "field 'state': unknown state %s",
                                          lcnet_quote(L, state, strlen(state))));
    req->state = (uint16_t)nud;
  }
  return object;
}

/* cnet.neigh.add{dst=, dev=, lladdr=, state="permanent", proxy=, router=, extern_learn=} */
static int neigh_add(lua_State *L) {
  return lneigh_change(L, "neigh.add", read_entry, LNEIGH_ADD);
}
/* cnet.neigh.replace{...}: adds or overwrites. */
static int neigh_replace(lua_State *L) {
  return lneigh_change(L, "neigh.replace", read_entry, LNEIGH_REPLACE);
}
/* cnet.neigh.delete{dst=, dev= [, proxy=true]} */
static int neigh_delete(lua_State *L) {
  return lneigh_change(L, "neigh.delete", read_entry, LNEIGH_DELETE);
}

/* Reads list/flush's filter: (dev) or ({dev=, family=, state=, proxy=}); returns the device's
 * text (for errors) or NULL. */
static const char *read_filter(lua_State *L, struct cnet_netns *ns, const char *op,
                               struct cnet_neigh_filter *f) {
  static const char *const known[] = {"dev", "family", "state", "proxy", NULL};
  memset(f, 0, sizeof *f);
  int t = lua_type(L, 1), devv = 0;
  lua_settop(L, 1);
  if (t == LUA_TSTRING || t == LUA_TNUMBER) {
    devv = 1;
  } else if (t == LUA_TTABLE) {
    lcnet_check_options(L, 1, known);
    f->family = lcnet_opt_family(L, 1, "family");
    f->proxy = lcnet_opt_bool(L, 1, "proxy", 0);
    if (lua_getfield(L, 1, "dev") != LUA_TNIL) {
      devv = lua_gettop(L);
      if (lua_type(L, devv) != LUA_TSTRING && lua_type(L, devv) != LUA_TNUMBER)
        lcnet_field_error(L, 1, "dev", "interface name or index");
    }
  } else if (t != LUA_TNIL && t != LUA_TNONE) {
    luaL_typeerror(L, 1, "interface name, index or table");
  }
  const char *dev = devv ? lcnet_dev_text(L, devv) : NULL;
  if (devv) f->index = lcnet_ifindex(L, ns, devv, 1, op, NULL, "dev");
  if (t == LUA_TTABLE) f->states = lneigh_opt_states(L, 1, "state", AF_INET);
  return dev;
}

/* cnet.neigh.list([dev | {dev=, family=, state=, proxy=}]) -> { entry, ... } */
static int neigh_list(lua_State *L) {
  struct cnet_netns *ns = lcnet_ns(L);
  struct cnet_neigh_filter f;
  const char *dev = read_filter(L, ns, "neigh.list", &f);
  lneigh_push_list(L, ns, &f, "neigh.list", dev);
  return 1;
}

/* cnet.neigh.flush([dev | {dev=, family=, state=, proxy=}]) -> count. Without a state, every
 * entry but the permanent and noarp ones (as ip neigh flush). */
static int neigh_flush(lua_State *L) {
  struct cnet_netns *ns = lcnet_ns(L);
  struct cnet_neigh_filter f;
  const char *dev = read_filter(L, ns, "neigh.flush", &f);
  if (f.states == 0 && !f.proxy) f.states = ~(uint32_t)(NUD_PERMANENT | NUD_NOARP);
  lneigh_push_flush(L, ns, &f, "neigh.flush", dev);
  return 1;
}

void lcnet_open_neigh(lua_State *L, int ns) {
  static const luaL_Reg fns[] = {{"add", neigh_add},   {"replace", neigh_replace},
                                 {"delete", neigh_delete}, {"list", neigh_list},
                                 {"flush", neigh_flush}, {NULL, NULL}};
  lcnet_bind_sub(L, "neigh", fns, ns);
}
