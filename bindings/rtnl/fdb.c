/* cnet.fdb: the bridge forwarding database (bridge fdb): add, append, replace, delete, list,
 * flush; entries of bridge ports and VXLAN remotes. Listing shared with cnet.neigh
 * (lneigh.h). */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <linux/neighbour.h>

#include "cnet/link.h"
#include "cnet/lladdr.h"
#include "common/netarg.h"
#include "rtnl/lneigh.h"

/* Field key of the table at 1 as a device (name or index): its stack index, or 0 when nil. */
static int dev_field(lua_State *L, const char *key) {
  int t = lua_getfield(L, 1, key);
  if (t == LUA_TNIL) {
    lua_pop(L, 1);
    return 0;
  }
  if (t != LUA_TSTRING && t != LUA_TNUMBER) lcnet_field_error(L, 1, key, "interface name or index");
  return lua_gettop(L);
}

static const char *const entry_keys[] = {
    "mac", "dev", "dst", "port", "vni", "src_vni", "via", "vlan", "master", "self", "state",
    "sticky", "extern_learn", "router", "append", NULL};

/* Reads an entry {mac=, dev=, dst=, port=, vni=, src_vni=, via=, vlan=, master=, self=,
 * state=, sticky=, extern_learn=, router=, append=} at 1; returns the text naming it.
 * (append is read by fdb.add; elsewhere it is accepted and means nothing.) */
static const char *read_entry(lua_State *L, struct cnet_netns *ns, const char *op, int add,
                              struct cnet_neigh_req *req) {
  luaL_checktype(L, 1, LUA_TTABLE);
  lua_settop(L, 1);
  lcnet_check_options(L, 1, entry_keys);
  cnet_neigh_req_init(req);
  req->family = AF_BRIDGE;
  const char *mac = lcnet_opt_string(L, 1, "mac", NULL);
  if (mac == NULL) luaL_argerror(L, 1, "field 'mac' required");
  int devv = dev_field(L, "dev");
  if (devv == 0) luaL_argerror(L, 1, "field 'dev' required");
  const char *dst = lcnet_opt_string(L, 1, "dst", NULL);
  const char *object = lneigh_object(L, mac, lcnet_dev_text(L, devv), dst);
  lcnet_fields f = lcnet_fields_of(L, 1);
  req->lladdr_len = lcnet_field_lladdr(&f, "mac", op, object, req->lladdr);
  if (dst) {
    lua_getfield(L, 1, "dst");
    lcnet_checkaddr(L, -1, 0, AF_UNSPEC, op, object, &req->dst);
    lua_pop(L, 1);
  }
  req->port = (int)lcnet_field_int(&f, "port", 1, 65535, -1);
  req->vni = lcnet_field_int(&f, "vni", 0, 0xffffff, -1);
  req->src_vni = lcnet_field_int(&f, "src_vni", 0, 0xffffff, -1);
  req->vlan = (int)lcnet_field_int(&f, "vlan", 1, 4094, -1);
  /* master: true, or the bridge's name as a listing gives it */
  int t = lua_getfield(L, 1, "master");
  lua_pop(L, 1);
  int master = 0;
  if (t == LUA_TSTRING) {
    const char *br = lcnet_field_text(&f, "master", CNET_IFNAMSIZ - 1, NULL, NULL);
    if (cnet_link_check_name(br) < 0)
      lcnet_field_fail(&f, "master", "invalid bridge name %s", lcnet_quote(L, br, strlen(br)));
    master = 1;
  } else if (t == LUA_TBOOLEAN) {
    master = lcnet_field_bool(&f, "master", 0);
  } else if (t != LUA_TNIL) {
    lcnet_field_fail(&f, "master", "boolean or bridge name expected, got %s", lua_typename(L, t));
  }
  (void)lcnet_field_bool(&f, "append", 0);
  if (master) req->flags |= NTF_MASTER;
  if (lcnet_opt_bool(L, 1, "self", 0)) req->flags |= NTF_SELF;
  if (!(req->flags & (NTF_SELF | NTF_MASTER))) req->flags |= NTF_SELF; /* as bridge fdb */
  if (lcnet_opt_bool(L, 1, "sticky", 0)) req->flags |= NTF_STICKY;
  if (lcnet_opt_bool(L, 1, "extern_learn", 0)) req->flags |= NTF_EXT_LEARNED;
  if (lcnet_opt_bool(L, 1, "router", 0)) req->flags |= NTF_ROUTER;
  const char *state = lcnet_opt_string(L, 1, "state", NULL);
  if (add) {
    long nud = cnet_neigh_state_for_add(AF_BRIDGE, state ? state : "permanent");
    if (nud < 0)
      luaL_argerror(L, 1, lua_pushfstring(L, "field 'state': %s (permanent, static or dynamic)",
                                          lcnet_quote(L, state, strlen(state))));
    req->state = (uint16_t)nud;
  }
  int viav = dev_field(L, "via");
  if (viav) req->via = lcnet_ifindex(L, ns, viav, 1, op, object, "via");
  req->index = lcnet_ifindex(L, ns, devv, 1, op, object, "dev");
  return object;
}

/* cnet.fdb.add{mac=, dev=, ... [, append=true]}: -EEXIST when the entry exists; with
 * append, as fdb.append (for callers that build one spec table per entry). */
static int fdb_add(lua_State *L) { return lneigh_change(L, "fdb.add", read_entry, LNEIGH_ADD_OR_APPEND); }
/* cnet.fdb.append{mac=, dev=, dst=, ...}: one more remote of a VXLAN entry. */
static int fdb_append(lua_State *L) {
  return lneigh_change(L, "fdb.append", read_entry, LNEIGH_APPEND);
}
/* cnet.fdb.replace{...}: adds or overwrites. */
static int fdb_replace(lua_State *L) {
  return lneigh_change(L, "fdb.replace", read_entry, LNEIGH_REPLACE);
}
/* cnet.fdb.delete{mac=, dev= [, dst=, vlan=, master=, ...]} */
static int fdb_delete(lua_State *L) {
  return lneigh_change(L, "fdb.delete", read_entry, LNEIGH_DELETE);
}

/* Reads list/flush's filter {dev=, br=, state=, vlan=}; returns the text of the device
 * named (for errors) or NULL. */
static const char *read_filter(lua_State *L, struct cnet_netns *ns, const char *op,
                               struct cnet_neigh_filter *f) {
  static const char *const known[] = {"dev", "br", "state", "vlan", NULL};
  memset(f, 0, sizeof *f);
  f->family = AF_BRIDGE;
  lua_settop(L, 1);
  if (lua_isnil(L, 1)) return NULL;
  luaL_checktype(L, 1, LUA_TTABLE);
  lcnet_check_options(L, 1, known);
  f->states = lneigh_opt_states(L, 1, "state", AF_BRIDGE);
  lcnet_fields fl = lcnet_fields_of(L, 1);
  f->vlan = (int)lcnet_field_int(&fl, "vlan", 1, 4094, 0);
  const char *text = NULL;
  int brv = dev_field(L, "br");
  if (brv) {
    text = lcnet_dev_text(L, brv);
    f->master = lcnet_ifindex(L, ns, brv, 1, op, NULL, "br");
  }
  int devv = dev_field(L, "dev");
  if (devv) {
    text = lcnet_dev_text(L, devv);
    f->index = lcnet_ifindex(L, ns, devv, 1, op, NULL, "dev");
  }
  return text;
}

/* cnet.fdb.list([{dev=, br=, state=, vlan=}]) -> { entry, ... } */
static int fdb_list(lua_State *L) {
  struct cnet_netns *ns = lcnet_ns(L);
  struct cnet_neigh_filter f;
  const char *text = read_filter(L, ns, "fdb.list", &f);
  lneigh_push_list(L, ns, &f, "fdb.list", text);
  return 1;
}

/* cnet.fdb.flush{dev= | br=, state=, vlan=} -> count. Without a state, the dynamic and stale
 * (learned) entries. */
static int fdb_flush(lua_State *L) {
  struct cnet_netns *ns = lcnet_ns(L);
  luaL_checktype(L, 1, LUA_TTABLE);
  struct cnet_neigh_filter f;
  const char *text = read_filter(L, ns, "fdb.flush", &f);
  if (f.index == 0 && f.master == 0) luaL_argerror(L, 1, "field 'dev' or 'br' required");
  if (f.states == 0) f.states = NUD_REACHABLE | NUD_STALE;
  lneigh_push_flush(L, ns, &f, "fdb.flush", text);
  return 1;
}

void lcnet_open_fdb(lua_State *L, int ns) {
  static const luaL_Reg fns[] = {{"add", fdb_add},       {"append", fdb_append},
                                 {"replace", fdb_replace}, {"delete", fdb_delete},
                                 {"list", fdb_list},     {"flush", fdb_flush},
                                 {NULL, NULL}};
  lcnet_bind_sub(L, "fdb", fns, ns);
}
