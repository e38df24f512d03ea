/* cnet.link: list, get, add, set, delete. Links come back as plain tables. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <net/if.h>
#include <linux/if_link.h>

#include "cnet/link.h"
#include "cnet/lladdr.h"
#include "cnet/nsid.h"
#include "common/netarg.h"
#include "common/strs.h"
#include "rtnl/llink.h"

/* ---- results ---- */

/* Field names of a link table, interned once per call (strs.h). */
enum { K_INDEX, K_NAME, K_KIND, K_MTU, K_MAC, K_FLAGS, K_UP, K_OPERSTATE, K_MASTER_INDEX,
       K_LINK_INDEX, K_PEER_INDEX, K_PEER_NETNSID, K_MASTER, K_ALIAS, K_PEER, K_PEER_NETNS,
       NKEYS };
static const char *const key_names[NKEYS] = {
    "index",        "name",       "kind",       "mtu",          "mac",
    "flags",        "up",         "operstate",  "master_index", "link_index",
    "peer_index",   "peer_netnsid", "master",   "alias",        "peer",
    "peer_netns"};

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

void llink_push_mac(lua_State *L, const unsigned char *mac, unsigned len) {
  char buf[CNET_LLADDR_STRLEN];
  lua_pushlstring(L, buf, cnet_lladdr_format(mac, len, buf));
}

/* Pushes the table describing one link (master and veth peer left as indexes only: see
 * name_links). With names > 0, also sets names[index] = name (a table at that stack index).
 * Device indexes in the kind's details are named through ns. */
static void push_link(struct lcnet_strs *s, struct cnet_netns *ns, const struct cnet_link *l,
                      int names) {
  lua_State *L = s->L;
  int veth = l->kind && strcmp(l->kind, "veth") == 0;
  int fields = 6 + (l->kind != NULL) + (l->mac && l->mac_len > 0) + 2 * (l->master > 0) +
               (l->link > 0) * (1 + 3 * veth) + (l->link_netnsid >= 0) + (l->alias != NULL) +
               (l->info_data != NULL) + 2 * (l->port_kind != NULL);
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
    llink_push_mac(L, l->mac, l->mac_len);
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
  if (l->alias) {
    lcnet_strs_key(s, K_ALIAS);
    lua_pushstring(L, l->alias);
    lua_rawset(L, -3);
  }
  llink_push_details(L, ns, l);
}

struct collect {
  lua_State *L;
  struct cnet_netns *ns;
  int list;   /* stack index of the result array */
  int names;  /* stack index of index -> name */
  int n;
  struct lcnet_strs *s;
};

static int collect_cb(const struct cnet_link *l, void *data) {
  struct collect *c = data;
  push_link(c->s, c->ns, l, c->names);
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

/* Names the veth peers among the n links in the table at `list`: from `names` (index ->
 * name, or 0) or the kernel when the peer is here, else through the namespace id the link
 * gives: the peer's name there (`peer`) and the namespace's name under /run/netns
 * (`peer_netns`), each when found. All the remote ones are asked in one send, unless
 * `remote_too` is 0 (a caller that does not need them saves two round trips per list). */
static void name_peers(struct lcnet_strs *s, struct cnet_netns *ns, int list, int n, int names,
                       int remote_too) {
  lua_State *L = s->L;
  int remote = 0;
  for (int i = 1; i <= n; i++) {
    lua_rawgeti(L, list, i);
    lcnet_strs_key(s, K_PEER_INDEX);
    if (lua_rawget(L, -2) == LUA_TNUMBER) {
      int peer = (int)lua_tointeger(L, -1); /* not user input: the dump's peer_index */
      lcnet_strs_key(s, K_PEER_NETNSID);
      int elsewhere = lua_rawget(L, -3) != LUA_TNIL;
      lua_pop(L, 1);
      remote += elsewhere;
      if (!elsewhere) { /* stack: link, peer index */
        char name[CNET_IFNAMSIZ];
        lcnet_strs_key(s, K_PEER);
        if (names <= 0 || lua_rawgeti(L, names, peer) != LUA_TSTRING) {
          if (names > 0) lua_pop(L, 1);
          if (cnet_link_name(ns, peer, name) == 0) lua_pushstring(L, name);
          else lua_pushnil(L);
        }
        lua_rawset(L, -4);
      }
    }
    lua_pop(L, 2);
  }
  if (remote == 0 || !remote_too) return;
  struct peer {
    int nsid, index, at; /* at: its position in the list */
  };
  struct peer *p = lua_newuserdatauv(L, (size_t)remote * sizeof *p, 0); /* freed by Lua */
  int *nsid = lua_newuserdatauv(L, (size_t)remote * 2 * sizeof(int), 0);
  char(*pnames)[CNET_IFNAMSIZ] = lua_newuserdatauv(L, (size_t)remote * CNET_IFNAMSIZ, 0);
  char(*nsnames)[CNET_NSID_NAMESZ] = lua_newuserdatauv(L, (size_t)remote * CNET_NSID_NAMESZ, 0);
  int k = 0;
  for (int i = 1; i <= n && k < remote; i++) {
    lua_rawgeti(L, list, i);
    lcnet_strs_key(s, K_PEER_NETNSID);
    int has = lua_rawget(L, -2) == LUA_TNUMBER;
    lcnet_strs_key(s, K_PEER_INDEX);
    if (lua_rawget(L, -3) == LUA_TNUMBER && has) {
      p[k].at = i;
      p[k].nsid = nsid[k] = (int)lua_tointeger(L, -2);          /* not user input: the dump's */
      p[k].index = nsid[remote + k] = (int)lua_tointeger(L, -1); /* not user input: the dump's */
      k++;
    }
    lua_pop(L, 3);
  }
  if (cnet_nsid_link_names(ns, (unsigned)k, nsid, nsid + remote, pnames) < 0 ||
      cnet_nsid_names(ns, (unsigned)k, nsid, nsnames) < 0) {
    lua_pop(L, 4);
    return;
  }
  for (int j = 0; j < k; j++) {
    lua_rawgeti(L, list, p[j].at);
    if (pnames[j][0]) {
      lcnet_strs_key(s, K_PEER);
      lua_pushstring(L, pnames[j]);
      lua_rawset(L, -3);
    }
    if (nsnames[j][0]) {
      lcnet_strs_key(s, K_PEER_NETNS);
      lua_pushstring(L, nsnames[j]);
      lua_rawset(L, -3);
    }
    lua_pop(L, 1);
  }
  lua_pop(L, 4);
}

struct list_ctx {
  struct cnet_netns *ns;
  int master;
  const char *kind;
  int peers; /* name the peers in other namespaces */
};

/* Runs protected (lcnet_pdump): the dump, then the masters' names. */
static int list_body(lua_State *L, void *data, int *rc) {
  struct list_ctx *x = data;
  lua_newtable(L); /* 1: result */
  lua_newtable(L); /* 2: index -> name */
  struct lcnet_strs s;
  lcnet_strs_init(L, &s, key_names, NKEYS); /* 3...: the shared strings */
  struct collect c = {L, x->ns, 1, 2, 0, &s};
  *rc = cnet_link_list_filtered(x->ns, x->master, x->kind, collect_cb, collect_reset, &c);
  if (*rc < 0) return 0;
  name_masters(&s, 1, 2, c.n);
  name_peers(&s, x->ns, 1, c.n, x->master || x->kind ? 0 : 2, x->peers);
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

/* cnet.link.list([{master=, kind=, peers=}]) -> { link, ... } */
static int link_list(lua_State *L) {
  struct cnet_netns *ns = lcnet_ns(L);
  static const char *const known[] = {"master", "kind", "type", "peers", NULL};
  lcnet_check_options(L, 1, known);
  int master = 0, peers = 1;
  const char *kind = NULL;
  if (lua_istable(L, 1)) {
    peers = lcnet_opt_bool(L, 1, "peers", 1);
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
  struct list_ctx ctx = {ns, master, kind, peers};
  int rc = lcnet_pdump(L, ns, list_body, &ctx);
  if (rc < 0) return lcnet_raise(L, rc, "link.list", NULL, cnet_netns_errmsg(ns));
  return 1;
}

struct get_ctx {
  struct cnet_netns *ns;
  int index;
  const char *name;
  struct lcnet_strs *s;
};

static int one_cb(const struct cnet_link *l, void *data) {
  struct get_ctx *x = data;
  push_link(x->s, x->ns, l, 0);
  return 0;
}

/* Runs protected (lcnet_pdump): the get, then the master's name. */
static int get_body(lua_State *L, void *data, int *rc) {
  struct get_ctx *x = data;
  struct lcnet_strs s;
  lcnet_strs_init(L, &s, key_names, NKEYS);
  x->s = &s;
  *rc = cnet_link_get(x->ns, x->index, x->name, one_cb, x);
  if (*rc < 0) return 0;
  lua_createtable(L, 1, 0); /* the link as a list of one, for name_peers */
  lua_pushvalue(L, -2);
  lua_rawseti(L, -2, 1);
  name_peers(&s, x->ns, lua_gettop(L), 1, 0, 1);
  lua_pop(L, 1);
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
  struct get_ctx ctx = {ns, index, index ? NULL : name, NULL};
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

/* what: which name of the call it is ("interface name", "peer name", "new name"), since the
 * error's object is the link the call is about. */
static void check_name(lua_State *L, const char *name, const char *op, const char *object,
                       const char *what) {
  int rc = cnet_link_check_name(name);
  if (rc == -ENAMETOOLONG) {
    char detail[64];
    snprintf(detail, sizeof detail, "%s longer than 15 bytes", what);
    lcnet_raise(L, -EINVAL, op, object, detail);
  } else if (rc < 0) {
    char detail[64];
    snprintf(detail, sizeof detail, "invalid %s \"%.32s\"", what, name);
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

/* The types link.add makes. "tap" is kind "tun" with type tap. */
static const char *const link_types[] = {"veth",  "bridge", "macvlan", "macvtap", "vxlan",
                                         "ipvlan", "dummy",  "ifb",     "tun",     "tap",
                                         "vlan",  "vrf",    "bond",    "wireguard", NULL};

/* Types whose device sits on a lower one (IFLA_LINK: option `link`, required). */
static int has_lower(const char *type) {
  return strcmp(type, "macvlan") == 0 || strcmp(type, "macvtap") == 0 ||
         strcmp(type, "ipvlan") == 0 || strcmp(type, "vlan") == 0;
}

/* 1 when opts has the field called name. */
static int has_opt(const struct llink_opts *opts, const char *name) {
  for (unsigned i = 0; i < opts->n; i++)
    if (strcmp(opts->o[i].field->name, name) == 0) return 1;
  return 0;
}

/* alias = "text" of the table at idx (IFALIASZ - 1 bytes at most); "" removes it (set). */
static const char *opt_alias(lua_State *L, int idx, const char *op, const char *object) {
  const char *alias = lcnet_opt_string(L, idx, "alias", NULL);
  if (alias && strlen(alias) > 255) lcnet_raise(L, -EINVAL, op, object, "alias longer than 255 bytes");
  return alias;
}

/* txqueues = n, rxqueues = n of fields f (1..4096, the kernel's bound): the device's queue
 * counts, fixed when it is made; tun/tap devices get theirs another way (multi_queue). */
static void opt_queues(lua_State *L, lcnet_fields *f, const char *kind, uint32_t *tx,
                       uint32_t *rx) {
  *tx = (uint32_t)lcnet_field_int(f, "txqueues", 1, 4096, 0);
  *rx = (uint32_t)lcnet_field_int(f, "rxqueues", 1, 4096, 0);
  if ((*tx || *rx) && strcmp(kind, "tun") == 0)
    luaL_argerror(L, 1, "options 'txqueues' and 'rxqueues' are not for tun/tap devices");
}

/* Adds one option of field `name` of kind to opts (a value link.add implies). */
static void imply(struct llink_opts *opts, const char *kind, const char *name, uint64_t v) {
  const struct cnet_link_field *f = cnet_link_field_find(kind, 0, name);
  if (f == NULL || opts->n == CNET_LINK_MAX_OPTS) return;
  memset(&opts->o[opts->n], 0, sizeof opts->o[0]);
  opts->o[opts->n].field = f;
  opts->o[opts->n++].value.u = v;
}

/* A batched link.add's failure comes back later, through this: the same explanation as at
 * once (upvalue 1: the kind). */
static int explain_later(lua_State *L) {
  int err = (int)lua_tointeger(L, 1);                      /* not user input: the batch's */
  const char *extack = lua_tostring(L, 2);                 /* not user input: the kernel's */
  const char *kind = lua_tostring(L, lua_upvalueindex(1)); /* not user input: ours */
  char buf[CNET_ERRMSG_MAX];
  (void)cnet_link_explain(err < 0 ? err : -err, extack ? extack : "", kind, buf);
  lua_pushinteger(L, err);
  lua_pushstring(L, buf);
  return 2;
}

/* cnet.link.add{name=, type=, ...}: creates the link in one request. */
static int link_add(lua_State *L) {
  struct cnet_netns *ns = lcnet_ns(L);
  static const char *const base[] = {"name",  "type", "kind",    "mtu",      "mac",
                                     "master", "up",  "promisc", "txqueues", "rxqueues",
                                     "netns", "peer", "alias",   "link",     NULL};
  /* the last, `link` (the lower device), is a field of its own for some kinds (vxlan) */
  static const char *const base_nolink[] = {"name",    "type",     "kind",     "mtu",
                                            "mac",     "master",   "up",       "promisc",
                                            "txqueues", "rxqueues", "netns",    "peer",
                                            "alias",   NULL};
  luaL_checktype(L, 1, LUA_TTABLE);
  lua_settop(L, 1);
  const char *name = lcnet_opt_string(L, 1, "name", NULL);
  const char *type = lcnet_opt_string(L, 1, "type", NULL);
  const char *alt = lcnet_opt_string(L, 1, "kind", NULL); /* the same, by another name */
  if (type != NULL && alt != NULL && strcmp(type, alt) != 0)
    luaL_argerror(L, 1, "fields 'type' and 'kind' differ (give one)");
  if (type == NULL) type = alt;
  int known_type = 0;
  for (int i = 0; type && link_types[i] && !known_type; i++) known_type = !strcmp(type, link_types[i]);
  if (type && !known_type)
    lcnet_argerror(L, 1, NULL, "unknown link type %s", lcnet_quote(L, type, strlen(type)));
  const char *kind = type && strcmp(type, "tap") == 0 ? "tun" : type;
  /* every key is checked before anything is resolved or sent */
  if (type == NULL) luaL_argerror(L, 1, "field 'type' required");
  struct llink_opts opts;
  int own_link = cnet_link_field_find(kind, 0, "link") != NULL;
  llink_read_opts(L, 1, 1, NULL, kind, 0, own_link ? base_nolink : base, ns,
                  "link.add", name ? name : "", &opts); /* pushes its anchor (2) */
  if (name == NULL) luaL_argerror(L, 1, "field 'name' required");
  if (strcmp(type, "veth") != 0 && lua_getfield(L, 1, "peer") != LUA_TNIL)
    luaL_argerror(L, 1, "option 'peer' is for type veth only");
  if (!has_lower(type) && !own_link && lua_getfield(L, 1, "link") != LUA_TNIL)
    luaL_argerror(L, 1, lua_pushfstring(L, "option 'link' is not for type %s", type));
  lua_settop(L, 2);
  check_name(L, name, "link.add", name, "interface name");

  struct cnet_link_req req;
  cnet_link_req_init(&req);
  req.name = name;
  req.kind = kind;
  unsigned char mac[32], peer_mac[32];
  lcnet_fields f = lcnet_fields_of(L, 1);
  req.mtu = opt_mtu(&f, "mtu");
  opt_mac(&f, "mac", "link.add", name, mac, &req.mac, &req.mac_len);
  req.up = lcnet_opt_bool(L, 1, "up", -1);
  req.promisc = lcnet_opt_bool(L, 1, "promisc", -1);
  req.alias = opt_alias(L, 1, "link.add", name);
  opt_queues(L, &f, kind, &req.txqueues, &req.rxqueues);
  struct cnet_netns *target = opt_netns(L, 1, "netns", 1, "netns"); /* handle pushed if given */
  if (target) req.netns_fd = cnet_netns_fd(target), req.netns = target;
  req.master = opt_master(L, 1, target ? target : ns, "link.add", name, target != NULL);
  if (req.master < 0) req.master = 0;

  if (strcmp(type, "veth") == 0 && lua_getfield(L, 1, "peer") != LUA_TNIL) {
    int p = lua_gettop(L);
    if (lua_type(L, p) == LUA_TSTRING) {
      req.peer_name = lcnet_field_text(&f, "peer", LCNET_TEXT_MAX, NULL, NULL);
    } else if (lua_istable(L, p)) {
      static const char *const peer_known[] = {"name", "netns",    "mac",      "mtu",
                                               "up",   "txqueues", "rxqueues", NULL};
      lcnet_fields pf = lcnet_fields_in(&f, p, "peer");
      lcnet_field_check_keys(&pf, peer_known);
      req.peer_name = lcnet_field_text(&pf, "name", LCNET_TEXT_MAX, NULL, NULL);
      struct cnet_netns *pns = opt_netns(L, p, "netns", 1, "peer.netns");
      if (pns) req.peer_netns_fd = cnet_netns_fd(pns), req.peer_netns = pns;
      opt_mac(&pf, "mac", "link.add", name, peer_mac, &req.peer_mac, &req.peer_mac_len);
      req.peer_mtu = opt_mtu(&pf, "mtu");
      req.peer_up = lcnet_field_bool(&pf, "up", -1);
      opt_queues(L, &pf, kind, &req.peer_txqueues, &req.peer_rxqueues);
    } else {
      lcnet_field_fail(&f, "peer",
                       "the peer's name or a table {name=, netns=, mac=, mtu=, up=, txqueues=, "
                       "rxqueues=} expected, "
                       "got %s", luaL_typename(L, p));
    }
    if (req.peer_name) check_name(L, req.peer_name, "link.add", name, "peer name");
  }
  if (has_lower(type)) {
    if (lua_getfield(L, 1, "link") == LUA_TNIL)
      luaL_argerror(L, 1, lua_pushfstring(L, "field 'link' required for type %s", type));
    req.link = lcnet_ifindex(L, ns, -1, 1, "link.add", name, "link");
  }
  if (strcmp(type, "vxlan") == 0) {
    /* a VNI is needed unless the device takes it from each packet's metadata */
    int ext = 0;
    for (unsigned i = 0; i < opts.n; i++)
      if (strcmp(opts.o[i].field->name, "external") == 0 && opts.o[i].value.u) ext = 1;
    if (!has_opt(&opts, "id") && !ext) luaL_argerror(L, 1, "field 'id': VNI 0..16777215 required");
    /* The kernel's own default port is the pre-IANA 8472; cnet defaults to 4789. */
    if (!has_opt(&opts, "port")) imply(&opts, "vxlan", "port", 4789);
  }
  if (strcmp(type, "vlan") == 0 && !has_opt(&opts, "id"))
    luaL_argerror(L, 1, "field 'id' (the VLAN id, 0..4094) required for type vlan");
  /* ip always says how ipvlan siblings reach each other; the same request says the same */
  if (strcmp(type, "ipvlan") == 0 && !has_opt(&opts, "flags")) imply(&opts, "ipvlan", "flags", 0);
  if (strcmp(kind, "tun") == 0) imply(&opts, "tun", "type", strcmp(type, "tap") ? 1 : 2);
  req.info = opts.o;
  req.ninfo = opts.n;
  lua_pushstring(L, name); /* a batch names the failure as the call would */
  lcnet_batch_note(L, LCNET_NOTE_OBJECT);
  lua_pushstring(L, kind);
  lua_pushcclosure(L, explain_later, 1);
  lcnet_batch_note(L, LCNET_NOTE_EXPLAIN);
  int rc = cnet_link_add(ns, &req);
  if (rc < 0) return lcnet_raise(L, rc, "link.add", name, cnet_netns_errmsg(ns));
  return 0;
}

struct kinds {
  char kind[32], port_kind[32];
};

static int kinds_cb(const struct cnet_link *l, void *data) {
  struct kinds *k = data;
  snprintf(k->kind, sizeof k->kind, "%s", l->kind ? l->kind : "");
  snprintf(k->port_kind, sizeof k->port_kind, "%s", l->port_kind ? l->port_kind : "");
  return 0;
}

/* 1 when the table at idx has a key outside `known`. */
static int other_keys(lua_State *L, int idx, const char *const known[]) {
  lua_pushnil(L);
  while (lua_next(L, idx) != 0) {
    lua_pop(L, 1);
    int ok = 0;
    const char *key = lcnet_try_text(L, -1, 64);
    for (int i = 0; key && known[i] && !ok; i++) ok = strcmp(known[i], key) == 0;
    if (!ok) {
      lua_pop(L, 1);
      return 1;
    }
  }
  return 0;
}

/* cnet.link.set(dev, {up=, master=, mtu=, name=, mac=, netns=, alias=, port={...}, <kind options>}) */
static int link_set(lua_State *L) {
  struct cnet_netns *ns = lcnet_ns(L);
  static const char *const base[] = {"name", "mtu",   "mac",   "master", "up",
                                     "promisc", "netns", "alias", "port", NULL};
  luaL_argexpected(L, lua_type(L, 1) == LUA_TSTRING || lua_type(L, 1) == LUA_TNUMBER, 1,
                   "interface name or index");
  luaL_checktype(L, 2, LUA_TTABLE);
  lua_settop(L, 2);
  int index = 0;
  const char *dev;
  if (lua_type(L, 1) == LUA_TNUMBER) {
    index = lcnet_ifindex(L, ns, 1, 1, "link.set", NULL, "dev");
    dev = lua_pushfstring(L, "%d", index);
  } else {
    dev = lcnet_check_text(L, 1, CNET_IFNAMSIZ - 1, "interface name", NULL);
    lua_pushvalue(L, 1);
  }
  /* 3: dev. Kind options need the device's kind, which only the kernel knows: read it. */
  struct kinds k = {"", ""};
  struct llink_opts opts, popts;
  opts.n = popts.n = 0;
  int flat = 0;
  if (other_keys(L, 2, base)) {
    int rc = cnet_link_get(ns, index, index ? NULL : dev, kinds_cb, &k);
    if (rc < 0) return lcnet_raise(L, rc, "link.set", dev, cnet_netns_errmsg(ns));
    if (strcmp(k.kind, "tun") == 0)
      luaL_argerror(L, 2, "tun/tap options are fixed when the device is made");
    /* A key that is no field of the kind but one of a port of its master is a port option
     * given flat: {hairpin = true} stands for {port = {hairpin = true}}. */
    lua_newtable(L); /* 4: the kind's options */
    lua_newtable(L); /* 5: port options given flat */
    lua_pushnil(L);
    while (lua_next(L, 2) != 0) {
      const char *key = lcnet_try_text(L, -2, 64);
      int to = 4;
      if (key && cnet_link_field_find(k.kind, 0, key) == NULL && k.port_kind[0] &&
          cnet_link_field_find(k.port_kind, 1, key) != NULL)
        to = 5, flat = 1;
      lua_pushvalue(L, -2);
      lua_insert(L, -2);
      lua_rawset(L, to); /* the key stays for lua_next */
    }
    llink_read_opts(L, 4, 2, NULL, k.kind, 0, base, ns, "link.set", dev, &opts); /* 6 */
    if (flat) llink_read_opts(L, 5, 2, NULL, k.port_kind, 1, NULL, ns, "link.set", dev, &popts);
    else lua_pushnil(L); /* 7 */
  } else {
    lua_settop(L, 7);
  }
  if (lua_getfield(L, 2, "port") != LUA_TNIL) {
    if (flat) luaL_argerror(L, 2, "port options given both flat and in 'port'");
    if (!lua_istable(L, -1)) lcnet_field_error(L, 2, "port", "table");
    llink_read_opts(L, -1, 2, "port", "bridge", 1, NULL, ns, "link.set", dev, &popts);
  } else {
    lua_pushnil(L);
  }
  struct cnet_link_req req;
  cnet_link_req_init(&req);
  unsigned char mac[32];
  lcnet_fields f = lcnet_fields_of(L, 2);
  req.name = lcnet_field_text(&f, "name", LCNET_TEXT_MAX, NULL, NULL);
  if (req.name) check_name(L, req.name, "link.set", dev, "new name");
  req.mtu = opt_mtu(&f, "mtu");
  opt_mac(&f, "mac", "link.set", dev, mac, &req.mac, &req.mac_len);
  req.up = lcnet_opt_bool(L, 2, "up", -1);
  req.promisc = lcnet_opt_bool(L, 2, "promisc", -1);
  req.alias = opt_alias(L, 2, "link.set", dev);
  struct cnet_netns *target = opt_netns(L, 2, "netns", 2, "netns");
  if (target) {
    req.netns_fd = cnet_netns_fd(target);
    req.netns = target; /* lets the core check the move first and undo it on failure */
  }
  req.master = opt_master(L, 2, target ? target : ns, "link.set", dev, target != NULL);
  if (opts.n) req.kind = k.kind, req.info = opts.o, req.ninfo = opts.n;
  if (popts.n) req.port_kind = flat ? k.port_kind : "bridge", req.port = popts.o, req.nport = popts.n;
  int rc = cnet_link_set(ns, index, index ? NULL : dev, &req);
  if (rc < 0) return lcnet_raise(L, rc, "link.set", dev, cnet_netns_errmsg(ns));
  return 0;
}

/* cnet.link.delete(dev [, {wait = false}]) */
static int link_delete(lua_State *L) {
  struct cnet_netns *ns = lcnet_ns(L);
  luaL_argexpected(L, lua_type(L, 1) == LUA_TSTRING || lua_type(L, 1) == LUA_TNUMBER, 1,
                   "interface name or index");
  static const char *const known[] = {"wait", NULL};
  lcnet_check_options(L, 2, known);
  int wait = lua_istable(L, 2) ? lcnet_opt_bool(L, 2, "wait", 1) : 1;
  int index = 0;
  const char *dev;
  if (lua_type(L, 1) == LUA_TNUMBER) {
    index = (int)lcnet_check_int(L, 1, 1, 0x7fffffff, "interface index");
    dev = lua_pushfstring(L, "%d", index);
  } else {
    dev = lcnet_check_text(L, 1, CNET_IFNAMSIZ - 1, "interface name", NULL);
  }
  int rc = wait ? cnet_link_delete(ns, index, index ? NULL : dev)
                : cnet_link_delete_unwaited(ns, index, index ? NULL : dev);
  if (rc < 0) return lcnet_raise(L, rc, "link.delete", dev, cnet_netns_errmsg(ns));
  return 0;
}

void lcnet_open_link(lua_State *L, int ns) {
  static const luaL_Reg fns[] = {{"list", link_list},     {"get", link_get},
                                 {"add", link_add},       {"set", link_set},
                                 {"delete", link_delete}, {"stats", llink_stats},
                                 {"fields", llink_fields}, {NULL, NULL}};
  lcnet_bind_sub(L, "link", fns, ns);
}

/* One link table as link.list gives it (master as master_index only), for events. */
void lcnet_push_link(lua_State *L, const struct cnet_link *l) {
  int top = lua_gettop(L);
  struct lcnet_strs s;
  lcnet_strs_init(L, &s, key_names, NKEYS);
  push_link(&s, NULL, l, 0); /* devices inside the details stay indexes */
  lua_replace(L, top + 1);
  lua_settop(L, top + 1);
}
