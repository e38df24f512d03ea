/* cnet.link: list, get, add, set, delete. Links come back as plain tables. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <net/if.h>
#include <linux/if_link.h>

#include "cnet/link.h"
#include "cnet/lladdr.h"
#include "common/netarg.h"
#include "common/strs.h"

/* ---- results ---- */

/* Field names of a link table, interned once per call (strs.h). */
enum { K_INDEX, K_NAME, K_KIND, K_MTU, K_MAC, K_FLAGS, K_UP, K_OPERSTATE, K_MASTER_INDEX,
       K_LINK_INDEX, K_PEER_INDEX, K_PEER_NETNSID, K_MASTER, NKEYS };
static const char *const key_names[NKEYS] = {
    "index",        "name",       "kind",       "mtu",          "mac",
    "flags",        "up",         "operstate",  "master_index", "link_index",
    "peer_index",   "peer_netnsid", "master"};

/* The table being built is on top: sets its field k to the value on top (popped). */
static void set_top(struct lcnet_strs *s, int k) {
  lcnet_strs_key(s, k);
  lua_insert(s->L, -2);
  lua_rawset(s->L, -3);
}
static void set_int(struct lcnet_strs *s, int k, lua_Integer v) {
  lcnet_strs_key(s, k);
  lua_pushinteger(s->L, v);
  lua_rawset(s->L, -3);
}

static void push_mac(lua_State *L, const unsigned char *mac, unsigned len) {
  char buf[CNET_LLADDR_STRLEN];
  lua_pushlstring(L, buf, cnet_lladdr_format(mac, len, buf));
}

/* Pushes the table describing one link (master left as master_index only). With names > 0,
 * also sets names[index] = name (a table at that stack index). */
static void push_link(struct lcnet_strs *s, const struct cnet_link *l, int names) {
  lua_State *L = s->L;
  int veth = l->kind && strcmp(l->kind, "veth") == 0;
  int fields = 6 + (l->kind != NULL) + (l->mac && l->mac_len > 0) + 2 * (l->master > 0) +
               (l->link > 0) * (1 + veth) + (l->link_netnsid >= 0);
  lua_createtable(L, 0, fields); /* exactly: no spare hash slots in a big dump */
  set_int(s, K_INDEX, l->index);
  lcnet_strs_key(s, K_NAME);
  lua_pushstring(L, l->name);
  if (names > 0) {
    lua_pushvalue(L, -1);
    lua_rawseti(L, names, l->index);
  }
  lua_rawset(L, -3);
  if (l->kind) {
    lcnet_strs_key(s, K_KIND);
    lua_pushstring(L, l->kind);
    lua_rawset(L, -3);
  }
  set_int(s, K_MTU, l->mtu);
  if (l->mac && l->mac_len > 0) {
    push_mac(L, l->mac, l->mac_len);
    set_top(s, K_MAC);
  }
  const char *flag_names[32];
  unsigned n = cnet_link_flag_names(l->flags, flag_names);
  lcnet_strs_key(s, K_FLAGS);
  lua_createtable(L, (int)n, 0);
  for (unsigned i = 0; i < n; i++) {
    lcnet_strs_val(s, flag_names[i], 3); /* below: link table, key, flags table */
    lua_rawseti(L, -2, (lua_Integer)i + 1);
  }
  lua_rawset(L, -3);
  lcnet_strs_key(s, K_UP);
  lua_pushboolean(L, (l->flags & IFF_UP) != 0);
  lua_rawset(L, -3);
  lcnet_strs_key(s, K_OPERSTATE);
  lcnet_strs_val_of(s, K_OPERSTATE, cnet_link_operstate_name(l->operstate), 2);
  lua_rawset(L, -3);
  if (l->master > 0) set_int(s, K_MASTER_INDEX, l->master);
  if (l->link > 0) {
    set_int(s, K_LINK_INDEX, l->link);
    if (veth) set_int(s, K_PEER_INDEX, l->link);
  }
  if (l->link_netnsid >= 0) set_int(s, K_PEER_NETNSID, l->link_netnsid);
}

struct collect {
  lua_State *L;
  int list;   /* stack index of the result array */
  int names;  /* stack index of index -> name */
  int n;
  struct lcnet_strs *s;
};

static int collect_cb(const struct cnet_link *l, void *data) {
  struct collect *c = data;
  push_link(c->s, l, c->names);
  lua_rawseti(c->L, c->list, ++c->n);
  return 0;
}

static void collect_reset(void *data) {
  struct collect *c = data;
  lua_newtable(c->L);
  lua_replace(c->L, c->list);
  lua_newtable(c->L);
  lua_replace(c->L, c->names);
  c->n = 0;
}

/* Fills `master` (the name) of every link whose master is in the table at names. */
static void name_masters(struct lcnet_strs *s, int list, int names, int n) {
  lua_State *L = s->L;
  for (int i = 1; i <= n; i++) {
    lua_rawgeti(L, list, i);
    lcnet_strs_key(s, K_MASTER_INDEX);
    if (lua_rawget(L, -2) == LUA_TNUMBER) {
      lcnet_strs_key(s, K_MASTER);
      lua_rawgeti(L, names, lua_tointeger(L, -2)); /* not user input: a dump's index */
      lua_rawset(L, -4);
    }
    lua_pop(L, 2);
  }
}

struct list_ctx {
  struct cnet_netns *ns;
  int master;
  const char *kind;
};

/* Runs protected (lcnet_pdump): the dump, then the masters' names. */
static int list_body(lua_State *L, void *data, int *rc) {
  struct list_ctx *x = data;
  lua_newtable(L); /* 1: result */
  lua_newtable(L); /* 2: index -> name */
  struct lcnet_strs s;
  lcnet_strs_init(L, &s, key_names, NKEYS); /* 3...: the shared strings */
  struct collect c = {L, 1, 2, 0, &s};
  *rc = cnet_link_list_filtered(x->ns, x->master, x->kind, collect_cb, collect_reset, &c);
  if (*rc < 0) return 0;
  name_masters(&s, 1, 2, c.n);
  if (x->master > 0) { /* the master itself is not in a filtered list: name it once */
    char name[CNET_IFNAMSIZ];
    if (cnet_link_name(x->ns, x->master, name) == 0) {
      for (int i = 1; i <= c.n; i++) {
        lua_rawgeti(L, 1, i);
        lua_pushstring(L, name);
        lua_setfield(L, -2, "master");
        lua_pop(L, 1);
      }
    }
  }
  lua_settop(L, 1);
  return 1;
}

/* cnet.link.list([{master=, kind=}]) -> { link, ... } */
static int link_list(lua_State *L) {
  struct cnet_netns *ns = lcnet_ns(L);
  static const char *const known[] = {"master", "kind", "type", NULL};
  lcnet_check_options(L, 1, known);
  int master = 0;
  const char *kind = NULL;
  if (lua_istable(L, 1)) {
    kind = lcnet_opt_string(L, 1, "kind", NULL);
    const char *type = lcnet_opt_string(L, 1, "type", NULL); /* the same, by another name */
    if (kind != NULL && type != NULL && strcmp(kind, type) != 0)
      luaL_argerror(L, 1, "fields 'kind' and 'type' differ (they are one filter)");
    if (kind == NULL) kind = type;
    int t = lua_getfield(L, 1, "master");
    if (t == LUA_TSTRING || t == LUA_TNUMBER)
      master = lcnet_ifindex(L, ns, -1, 1, "link.list", "", "master");
    else if (t != LUA_TNIL)
      lcnet_field_error(L, 1, "master", "interface name or index");
    lua_pop(L, 1);
  }
  struct list_ctx ctx = {ns, master, kind};
  int rc = lcnet_pdump(L, ns, list_body, &ctx);
  if (rc < 0) return lcnet_raise(L, rc, "link.list", NULL, cnet_netns_errmsg(ns));
  return 1;
}

static int one_cb(const struct cnet_link *l, void *data) {
  push_link(data, l, 0);
  return 0;
}

struct get_ctx {
  struct cnet_netns *ns;
  int index;
  const char *name;
};

/* Runs protected (lcnet_pdump): the get, then the master's name. */
static int get_body(lua_State *L, void *data, int *rc) {
  struct get_ctx *x = data;
  struct lcnet_strs s;
  lcnet_strs_init(L, &s, key_names, NKEYS);
  *rc = cnet_link_get(x->ns, x->index, x->name, one_cb, &s);
  if (*rc < 0) return 0;
  if (lua_getfield(L, -1, "master_index") == LUA_TNUMBER) {
    char master[CNET_IFNAMSIZ];
    int index = (int)lua_tointeger(L, -1); /* not user input: the dump's master_index */
    if (cnet_link_name(x->ns, index, master) == 0) {
      lua_pushstring(L, master);
      lua_setfield(L, -3, "master");
    }
  }
  lua_pop(L, 1);
  return 1;
}

/* Pushes the link given at stack index idx (name or index) of ns, master named. */
static void push_one(lua_State *L, struct cnet_netns *ns, int idx, const char *op) {
  int index = 0;
  const char *name = NULL;
  char label[24];
  if (lua_type(L, idx) == LUA_TNUMBER) {
    index = (int)lcnet_check_int(L, idx, 1, 0x7fffffff, "interface index");
    snprintf(label, sizeof label, "%d", index);
    name = label;
  } else {
    name = lcnet_check_text(L, idx, CNET_IFNAMSIZ - 1, "interface name", NULL);
  }
  struct get_ctx ctx = {ns, index, index ? NULL : name};
  int rc = lcnet_pdump(L, ns, get_body, &ctx);
  if (rc < 0) lcnet_raise(L, rc, op, name, cnet_netns_errmsg(ns));
}

/* cnet.link.get(name | index) -> link */
static int link_get(lua_State *L) {
  struct cnet_netns *ns = lcnet_ns(L);
  luaL_argexpected(L, lua_type(L, 1) == LUA_TSTRING || lua_type(L, 1) == LUA_TNUMBER, 1,
                   "interface name or index");
  push_one(L, ns, 1, "link.get");
  return 1;
}

/* ---- requests ---- */

static void check_name(lua_State *L, const char *name, const char *op, const char *object) {
  int rc = cnet_link_check_name(name);
  if (rc == -ENAMETOOLONG) {
    lcnet_raise(L, -EINVAL, op, object, "interface name longer than 15 bytes");
  } else if (rc < 0) {
    char detail[64];
    snprintf(detail, sizeof detail, "invalid interface name \"%.32s\"", name);
    lcnet_raise(L, rc, op, object, detail);
  }
}

/* mac = "aa:bb:.." option of the table at idx into buf. */
static void opt_mac(const lcnet_fields *f, const char *key, const char *op, const char *object,
                    unsigned char *buf, const unsigned char **mac, unsigned *len) {
  unsigned n = lcnet_field_lladdr(f, key, op, object, buf);
  if (n == 0) return;
  *len = n;
  *mac = buf;
}

/* mtu: 1..4294967295 (0 is refused: it would read as "not given" and be ignored); the
 * kernel then checks the device's own range and says so. */
static uint32_t opt_mtu(const lcnet_fields *f, const char *key) {
  return (uint32_t)lcnet_field_int(f, key, 1, 0xffffffffLL, 0);
}

/* master = name | index | false, resolved in ns (the namespace the link lives in). */
static int opt_master(lua_State *L, int idx, struct cnet_netns *ns, const char *op,
                      const char *object, int elsewhere) {
  int t = lua_getfield(L, idx, "master");
  int master = 0;
  if (t == LUA_TBOOLEAN) {
    if (lua_toboolean(L, -1)) /* not user input: the type is checked, only true or false */
      lcnet_field_error(L, idx, "master", "name, index or false");
    master = -1;
  } else if (t == LUA_TSTRING || t == LUA_TNUMBER) {
    master = elsewhere ? lcnet_ifindex_now(L, ns, -1, idx, op, object, "master")
                       : lcnet_ifindex(L, ns, -1, idx, op, object, "master");
  } else if (t != LUA_TNIL) {
    lcnet_field_error(L, idx, "master", "name, index or false");
  }
  lua_pop(L, 1);
  return master;
}

/* netns = handle | name, field `key` of the table at idx (argument `arg`, field called
 * `label` in messages): pushes the handle, kept on the stack until the call returns. */
static struct cnet_netns *opt_netns(lua_State *L, int idx, const char *key, int arg,
                                    const char *label) {
  int t = lua_getfield(L, idx, key);
  if (t == LUA_TNIL) {
    lua_pop(L, 1);
    return NULL;
  }
  lnetns *h = luaL_testudata(L, -1, LCNET_NETNS);
  if (t != LUA_TSTRING && h == NULL)
    lcnet_argerror(L, arg, NULL, "field '%s': cnet.netns or namespace name expected, got %s",
                   label, luaL_typename(L, -1));
  if (h != NULL && h->ns == NULL)
    luaL_argerror(L, arg, lua_pushfstring(L, "field '%s': cnet.netns is closed", label));
  if (t == LUA_TSTRING) { /* checked here, so that a bad name blames the field */
    int v = lua_gettop(L);
    lcnet_to_text(L, v, arg, 255, lua_pushfstring(L, "field '%s'", label), NULL);
    lua_settop(L, v);
  }
  struct cnet_netns *target = lcnet_tons(L, lua_gettop(L)); /* pushes the handle */
  lua_remove(L, -2);
  return target;
}

static const char *const link_types[] = {"veth", "bridge", "macvlan", "macvtap", "vxlan",
                                         "dummy", "ipvlan", NULL};

static uint32_t macvlan_mode(lua_State *L, int idx) {
  static const char *const modes[] = {"private", "vepa", "bridge", "passthru", "source", NULL};
  static const uint32_t values[] = {MACVLAN_MODE_PRIVATE, MACVLAN_MODE_VEPA, MACVLAN_MODE_BRIDGE,
                                    MACVLAN_MODE_PASSTHRU, MACVLAN_MODE_SOURCE};
  lcnet_fields f = lcnet_fields_of(L, idx);
  int i = lcnet_field_enum(&f, "mode", NULL, modes);
  return i < 0 ? 0 : values[i];
}

static void only_for(lua_State *L, int idx, const char *type, const char *want,
                     const char *const keys[]) {
  if (strcmp(type, want) == 0 || (strcmp(want, "macvlan") == 0 && strcmp(type, "macvtap") == 0))
    return;
  for (int i = 0; keys[i]; i++) {
    if (lua_getfield(L, idx, keys[i]) != LUA_TNIL)
      luaL_argerror(L, idx, lua_pushfstring(L, "option '%s' is for type %s only", keys[i], want));
    lua_pop(L, 1);
  }
}

/* cnet.link.add{name=, type=, ...}: creates the link in one request. */
static int link_add(lua_State *L) {
  struct cnet_netns *ns = lcnet_ns(L);
  static const char *const known[] = {"name", "type", "kind", "mtu", "mac", "master", "up",
                                      "netns", "peer", "link", "mode", "id", "remote", "local",
                                      "dstport", "dev", NULL};
  luaL_checktype(L, 1, LUA_TTABLE);
  lua_settop(L, 1);
  lcnet_check_options(L, 1, known);
  const char *name = lcnet_opt_string(L, 1, "name", NULL);
  if (name == NULL) luaL_argerror(L, 1, "field 'name' required");
  const char *type = lcnet_opt_string(L, 1, "type", NULL);
  const char *kind = lcnet_opt_string(L, 1, "kind", NULL); /* the same, by another name */
  if (type != NULL && kind != NULL && strcmp(type, kind) != 0)
    luaL_argerror(L, 1, "fields 'type' and 'kind' differ (give one)");
  if (type == NULL) type = kind;
  if (type == NULL) luaL_argerror(L, 1, "field 'type' required");
  int known_type = 0;
  for (int i = 0; link_types[i] && !known_type; i++) known_type = strcmp(type, link_types[i]) == 0;
  if (!known_type)
    lcnet_argerror(L, 1, NULL, "unknown link type %s", lcnet_quote(L, type, strlen(type)));
  static const char *const veth_keys[] = {"peer", NULL};
  static const char *const macvlan_keys[] = {"mode", NULL};
  static const char *const vxlan_keys[] = {"id", "remote", "local", "dstport", "dev", NULL};
  only_for(L, 1, type, "veth", veth_keys);
  only_for(L, 1, type, "macvlan", macvlan_keys);
  only_for(L, 1, type, "vxlan", vxlan_keys);
  check_name(L, name, "link.add", name);

  struct cnet_link_req req;
  cnet_link_req_init(&req);
  req.name = name;
  req.kind = type;
  unsigned char mac[32], peer_mac[32];
  lcnet_fields f = lcnet_fields_of(L, 1);
  req.mtu = opt_mtu(&f, "mtu");
  opt_mac(&f, "mac", "link.add", name, mac, &req.mac, &req.mac_len);
  req.up = lcnet_opt_bool(L, 1, "up", -1);
  struct cnet_netns *target = opt_netns(L, 1, "netns", 1, "netns"); /* handle pushed if given */
  if (target) req.netns_fd = cnet_netns_fd(target), req.netns = target;
  req.master = opt_master(L, 1, target ? target : ns, "link.add", name, target != NULL);
  if (req.master < 0) req.master = 0;

  if (strcmp(type, "veth") == 0 && lua_getfield(L, 1, "peer") != LUA_TNIL) {
    int p = lua_gettop(L);
    if (lua_type(L, p) == LUA_TSTRING) {
      req.peer_name = lcnet_field_text(&f, "peer", LCNET_TEXT_MAX, NULL, NULL);
    } else if (lua_istable(L, p)) {
      static const char *const peer_known[] = {"name", "netns", "mac", "mtu", "up", NULL};
      lcnet_fields pf = lcnet_fields_in(&f, p, "peer");
      lcnet_field_check_keys(&pf, peer_known);
      req.peer_name = lcnet_field_text(&pf, "name", LCNET_TEXT_MAX, NULL, NULL);
      struct cnet_netns *pns = opt_netns(L, p, "netns", 1, "peer.netns");
      if (pns) req.peer_netns_fd = cnet_netns_fd(pns), req.peer_netns = pns;
      opt_mac(&pf, "mac", "link.add", name, peer_mac, &req.peer_mac, &req.peer_mac_len);
      req.peer_mtu = opt_mtu(&pf, "mtu");
      req.peer_up = lcnet_field_bool(&pf, "up", -1);
    } else {
      lcnet_field_fail(&f, "peer",
                       "the peer's name or a table {name=, netns=, mac=, mtu=, up=} expected, "
                       "got %s", luaL_typename(L, p));
    }
    if (req.peer_name) check_name(L, req.peer_name, "link.add", name);
  }
  if (strcmp(type, "macvlan") == 0 || strcmp(type, "macvtap") == 0 || strcmp(type, "ipvlan") == 0) {
    if (lua_getfield(L, 1, "link") == LUA_TNIL)
      luaL_argerror(L, 1, lua_pushfstring(L, "field 'link' required for type %s", type));
    req.link = lcnet_ifindex(L, ns, -1, 1, "link.add", name, "link");
    req.macvlan_mode = strcmp(type, "ipvlan") ? macvlan_mode(L, 1) : 0;
  } else if (lua_getfield(L, 1, "link") != LUA_TNIL) {
    luaL_argerror(L, 1, lua_pushfstring(L, "option 'link' is not for type %s", type));
  }
  if (strcmp(type, "vxlan") == 0) {
    lua_Integer id = lcnet_field_int(&f, "id", 0, 0xffffff, -1);
    if (id < 0) luaL_argerror(L, 1, "field 'id' (the VNI, 0..16777215) required for type vxlan");
    req.has_vni = 1;
    req.vni = (uint32_t)id;
    if (lua_getfield(L, 1, "remote") != LUA_TNIL)
      lcnet_checkaddr(L, -1, 0, AF_UNSPEC, "link.add", name, &req.remote);
    if (lua_getfield(L, 1, "local") != LUA_TNIL)
      lcnet_checkaddr(L, -1, 0, AF_UNSPEC, "link.add", name, &req.local);
    lua_Integer port = lcnet_field_int(&f, "dstport", 0, 65535, 0);
    req.dstport = (uint16_t)port;
    if (lua_getfield(L, 1, "dev") != LUA_TNIL)
      req.link = lcnet_ifindex(L, ns, -1, 1, "link.add", name, "dev");
  }
  int rc = cnet_link_add(ns, &req);
  if (rc < 0) return lcnet_raise(L, rc, "link.add", name, cnet_netns_errmsg(ns));
  return 0;
}

/* cnet.link.set(dev, {up=, master=, mtu=, name=, mac=, netns=}) */
static int link_set(lua_State *L) {
  struct cnet_netns *ns = lcnet_ns(L);
  static const char *const known[] = {"name", "mtu", "mac", "master", "up", "netns", NULL};
  luaL_argexpected(L, lua_type(L, 1) == LUA_TSTRING || lua_type(L, 1) == LUA_TNUMBER, 1,
                   "interface name or index");
  luaL_checktype(L, 2, LUA_TTABLE);
  lua_settop(L, 2);
  lcnet_check_options(L, 2, known);
  int index = 0;
  const char *dev;
  if (lua_type(L, 1) == LUA_TNUMBER) {
    index = lcnet_ifindex(L, ns, 1, 1, "link.set", NULL, "dev");
    dev = lua_pushfstring(L, "%d", index);
  } else {
    dev = lcnet_check_text(L, 1, CNET_IFNAMSIZ - 1, "interface name", NULL);
  }
  struct cnet_link_req req;
  cnet_link_req_init(&req);
  unsigned char mac[32];
  lcnet_fields f = lcnet_fields_of(L, 2);
  req.name = lcnet_field_text(&f, "name", LCNET_TEXT_MAX, NULL, NULL);
  if (req.name) check_name(L, req.name, "link.set", dev);
  req.mtu = opt_mtu(&f, "mtu");
  opt_mac(&f, "mac", "link.set", dev, mac, &req.mac, &req.mac_len);
  req.up = lcnet_opt_bool(L, 2, "up", -1);
  struct cnet_netns *target = opt_netns(L, 2, "netns", 2, "netns");
  if (target) {
    req.netns_fd = cnet_netns_fd(target);
    req.netns = target; /* lets the core check the move first and undo it on failure */
  }
  req.master = opt_master(L, 2, target ? target : ns, "link.set", dev, target != NULL);
  int rc = cnet_link_set(ns, index, index ? NULL : dev, &req);
  if (rc < 0) return lcnet_raise(L, rc, "link.set", dev, cnet_netns_errmsg(ns));
  return 0;
}

/* cnet.link.delete(dev) */
static int link_delete(lua_State *L) {
  struct cnet_netns *ns = lcnet_ns(L);
  luaL_argexpected(L, lua_type(L, 1) == LUA_TSTRING || lua_type(L, 1) == LUA_TNUMBER, 1,
                   "interface name or index");
  int index = 0;
  const char *dev;
  if (lua_type(L, 1) == LUA_TNUMBER) {
    index = (int)lcnet_check_int(L, 1, 1, 0x7fffffff, "interface index");
    dev = lua_pushfstring(L, "%d", index);
  } else {
    dev = lcnet_check_text(L, 1, CNET_IFNAMSIZ - 1, "interface name", NULL);
  }
  int rc = cnet_link_delete(ns, index, index ? NULL : dev);
  if (rc < 0) return lcnet_raise(L, rc, "link.delete", dev, cnet_netns_errmsg(ns));
  return 0;
}

void lcnet_open_link(lua_State *L, int ns) {
  static const luaL_Reg fns[] = {{"list", link_list},     {"get", link_get},
                                 {"add", link_add},       {"set", link_set},
                                 {"delete", link_delete}, {NULL, NULL}};
  lcnet_bind_sub(L, "link", fns, ns);
}

/* One link table as link.list gives it (master as master_index only), for events. */
void lcnet_push_link(lua_State *L, const struct cnet_link *l) {
  int top = lua_gettop(L);
  struct lcnet_strs s;
  lcnet_strs_init(L, &s, key_names, NKEYS);
  push_link(&s, l, 0);
  lua_replace(L, top + 1);
  lua_settop(L, top + 1);
}
