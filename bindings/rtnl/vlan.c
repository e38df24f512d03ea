/* cnet.vlan: VLANs of bridge ports (bridge vlan): add, delete, list. Entries come back as
 * plain tables. */
#include <errno.h>
#include <string.h>
#include <linux/if_bridge.h>

#include "cnet/brvlan.h"
#include "common/netarg.h"

/* Reads {dev=, vid=, vid_end=, pvid=, untagged=, self=, master=} at 1; returns the text
 * naming the VLAN ("vid 10 dev eth0"). */
static const char *read_req(lua_State *L, struct cnet_netns *ns, const char *op,
                            struct cnet_brvlan_req *req) {
  static const char *const known[] = {"dev", "vid", "vid_end", "pvid", "untagged", "self",
                                      "master", NULL};
  luaL_checktype(L, 1, LUA_TTABLE);
  lua_settop(L, 1);
  lcnet_check_options(L, 1, known);
  memset(req, 0, sizeof *req);
  int t = lua_getfield(L, 1, "dev");
  if (t == LUA_TNIL) luaL_argerror(L, 1, "field 'dev' required");
  if (t != LUA_TSTRING && t != LUA_TNUMBER) lcnet_field_error(L, 1, "dev", "interface name or index");
  int devv = lua_gettop(L);
  lua_getfield(L, 1, "vid");
  if (lua_isnil(L, -1)) luaL_argerror(L, 1, "field 'vid' required");
  lua_pop(L, 1);
  lcnet_fields f = lcnet_fields_of(L, 1);
  req->vid = (uint16_t)lcnet_field_int(&f, "vid", 1, 4094, 0);
  lua_Integer end = lcnet_field_int(&f, "vid_end", 1, 4094, 0);
  if (end != 0 && end != req->vid) {
    if (end < req->vid) luaL_argerror(L, 1, "field 'vid_end': must not be below vid");
    req->vid_end = (uint16_t)end;
  }
  if (lcnet_opt_bool(L, 1, "pvid", 0)) {
    if (req->vid_end) luaL_argerror(L, 1, "field 'pvid': one VLAN only, not a range");
    req->flags |= BRIDGE_VLAN_INFO_PVID;
  }
  if (lcnet_opt_bool(L, 1, "untagged", 0)) req->flags |= BRIDGE_VLAN_INFO_UNTAGGED;
  if (lcnet_opt_bool(L, 1, "self", 0)) req->bridge_flags |= BRIDGE_FLAGS_SELF;
  if (lcnet_opt_bool(L, 1, "master", 0)) req->bridge_flags |= BRIDGE_FLAGS_MASTER;
  if (req->vid_end)
    lua_pushfstring(L, "vid %d-%d dev %s", (int)req->vid, (int)req->vid_end, lcnet_dev_text(L, devv));
  else
    lua_pushfstring(L, "vid %d dev %s", (int)req->vid, lcnet_dev_text(L, devv));
  const char *object = lcnet_batch_object(L);
  req->index = lcnet_ifindex(L, ns, devv, 1, op, object, "dev");
  return object;
}

/* cnet.vlan.add{dev=, vid=, vid_end=, pvid=, untagged=, self=, master=} */
static int vlan_add(lua_State *L) {
  struct cnet_netns *ns = lcnet_ns(L);
  struct cnet_brvlan_req req;
  const char *object = read_req(L, ns, "vlan.add", &req);
  int rc = cnet_brvlan_add(ns, &req);
  if (rc < 0) return lcnet_raise(L, rc, "vlan.add", object, cnet_netns_errmsg(ns));
  return 0;
}

/* cnet.vlan.delete{dev=, vid= [, vid_end=]} */
static int vlan_delete(lua_State *L) {
  struct cnet_netns *ns = lcnet_ns(L);
  struct cnet_brvlan_req req;
  const char *object = read_req(L, ns, "vlan.delete", &req);
  int rc = cnet_brvlan_delete(ns, &req);
  if (rc < 0) return lcnet_raise(L, rc, "vlan.delete", object, cnet_netns_errmsg(ns));
  return 0;
}

struct collect {
  struct lcnet_list out;       /* first: lcnet_list_reset resets it */
  struct cnet_netns *ns;
  int names;
};

static void set_int(lua_State *L, const char *k, lua_Integer v) {
  lua_pushinteger(L, v);
  lua_setfield(L, -2, k);
}

static int collect_cb(const struct cnet_brvlan *v, void *data) {
  struct collect *c = data;
  lua_State *L = c->out.L;
  lua_createtable(L, 0, 6);
  lcnet_push_ifname(L, c->ns, c->names, v->index, 0);
  lua_setfield(L, -2, "dev");
  set_int(L, "vid", v->vid);
  if (v->vid_end != v->vid) set_int(L, "vid_end", v->vid_end);
  if (v->flags & BRIDGE_VLAN_INFO_PVID) {
    lua_pushboolean(L, 1);
    lua_setfield(L, -2, "pvid");
  }
  if (v->flags & BRIDGE_VLAN_INFO_UNTAGGED) {
    lua_pushboolean(L, 1);
    lua_setfield(L, -2, "untagged");
  }
  if (v->master > 0) {
    lcnet_push_ifname(L, c->ns, c->names, v->master, 0);
    lua_setfield(L, -2, "master");
  }
  lcnet_list_add(&c->out);
  return 0;
}

struct list_ctx {
  struct cnet_netns *ns;
  int index;
};

/* Runs protected (lcnet_pdump). */
static int list_body(lua_State *L, void *data, int *rc) {
  struct list_ctx *x = data;
  lua_newtable(L); /* 1: result */
  lua_newtable(L); /* 2: ifindex -> name */
  struct collect c = {{L, 1, 0}, x->ns, 2};
  *rc = cnet_brvlan_list(x->ns, x->index, collect_cb, lcnet_list_reset, &c);
  if (*rc < 0) return 0;
  lua_settop(L, 1);
  return 1;
}

/* cnet.vlan.list([dev | {dev=}]) -> { {dev=, vid=, vid_end=, pvid=, untagged=, master=}, ... } */
static int vlan_list(lua_State *L) {
  struct cnet_netns *ns = lcnet_ns(L);
  static const char *const known[] = {"dev", NULL};
  lua_settop(L, 1);
  int devv = 0;
  if (lua_istable(L, 1)) {
    lcnet_check_options(L, 1, known);
    if (lua_getfield(L, 1, "dev") != LUA_TNIL) devv = lua_gettop(L);
  } else if (!lua_isnil(L, 1)) {
    devv = 1;
  }
  /* lcnet_ifindex checks the type, naming field 'dev' when it is one */
  int index = devv ? lcnet_ifindex(L, ns, devv, 1, "vlan.list", NULL, "dev") : 0;
  const char *dev = devv ? lcnet_dev_text(L, devv) : NULL;
  struct list_ctx ctx = {ns, index};
  int rc = lcnet_pdump(L, ns, list_body, &ctx);
  if (rc < 0) return lcnet_raise(L, rc, "vlan.list", dev, cnet_netns_errmsg(ns));
  return 1;
}

void lcnet_open_vlan(lua_State *L, int ns) {
  static const luaL_Reg fns[] = {{"add", vlan_add}, {"delete", vlan_delete}, {"list", vlan_list},
                                 {NULL, NULL}};
  lcnet_bind_sub(L, "vlan", fns, ns);
}
