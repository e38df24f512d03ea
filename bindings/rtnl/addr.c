/* cnet.addr: add, delete, list, flush. Addresses come back as plain tables. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <linux/if_addr.h>

#include "cnet/addr.h"
#include "cnet/link.h"
#include "common/netarg.h"

#define FOREVER 0xffffffffLL

/* A lifetime option: seconds (0..4294967295, the last meaning forever) or "forever"; -1
 * when absent. */
static lua_Integer opt_lifetime(const lcnet_fields *f, const char *key) {
  lua_State *L = f->L;
  int t = lua_getfield(L, f->idx, key);
  lua_pop(L, 1);
  if (t == LUA_TSTRING) {
    const char *v = lcnet_field_text(f, key, 16, NULL, NULL);
    if (strcmp(v, "forever") != 0) lcnet_field_fail(f, key, "seconds or \"forever\" expected");
    return FOREVER;
  }
  return lcnet_field_int(f, key, 0, FOREVER, -1);
}

/* The flags addr.add takes as boolean options (the others only the kernel sets). */
static const char *const settable_flags[] = {"nodad", "noprefixroute", "home", "mngtmpaddr",
                                             "autojoin", "optimistic", NULL};

/* Reads addr.add/delete's arguments: dev, "a/p", options. */
static void read_req(lua_State *L, struct cnet_netns *ns, const char *op, int with_options,
                     struct cnet_addr_req *req, const char **dev) {
  cnet_addr_req_init(req);
  lcnet_check_text(L, 2, 128, "address", NULL);
  if (with_options) {
    static const char *const known[] = {"broadcast", "label", "scope", "valid_lft",
                                        "preferred_lft", "replace", "nodad", "noprefixroute",
                                        "home", "mngtmpaddr", "autojoin", "optimistic", NULL};
    lcnet_check_options(L, 3, known);
  }
  req->index = lcnet_dev_arg(L, ns, 1, op, dev);
  lcnet_checkaddr(L, 2, 1, AF_UNSPEC, op, *dev, &req->addr);
  if (!with_options || lua_isnoneornil(L, 3)) return;
  const char *brd = lcnet_opt_string(L, 3, "broadcast", NULL);
  if (brd && req->addr.family != AF_INET)
    lcnet_raise(L, -EINVAL, op, *dev, "broadcast is for IPv4 addresses only");
  if (brd && strcmp(brd, "+") == 0) {
    req->broadcast = 2;
  } else if (brd) {
    lua_getfield(L, 3, "broadcast");
    lcnet_checkaddr(L, -1, 0, AF_INET, op, *dev, &req->brd);
    lua_pop(L, 1);
    req->broadcast = 1;
  }
  req->label = lcnet_opt_string(L, 3, "label", NULL);
  if (req->label && (strlen(req->label) >= CNET_IFNAMSIZ ||
                     strncmp(req->label, *dev, strlen(*dev)) != 0))
    lcnet_raise(L, -EINVAL, op, *dev, "label must start with the device name, 15 bytes at most");
  lcnet_fields f = lcnet_fields_of(L, 3);
  const char *scope = lcnet_field_text(&f, "scope", LCNET_TEXT_MAX, NULL, NULL);
  if (scope && (req->scope = cnet_scope_parse(scope)) < 0)
    lcnet_field_fail(&f, "scope", "unknown scope %s (global, site, link, host or 0..255)",
                     lcnet_quote(L, scope, strlen(scope)));
  lua_Integer valid = opt_lifetime(&f, "valid_lft");
  lua_Integer preferred = opt_lifetime(&f, "preferred_lft");
  if (valid >= 0 || preferred >= 0) {
    if (valid < 0) valid = FOREVER;
    if (preferred < 0) preferred = valid;
    if (preferred > valid)
      luaL_argerror(L, 3, "lifetimes: preferred_lft must not exceed valid_lft");
    req->has_lifetime = 1;
    req->valid = (uint32_t)valid;
    req->preferred = (uint32_t)preferred;
  }
  for (const char *const *flag = settable_flags; *flag != NULL; flag++)
    if (lcnet_field_bool(&f, *flag, 0)) req->flags |= (uint32_t)cnet_addr_flag_parse(*flag);
}

/* cnet.addr.add(dev, "a/p" [, {broadcast=, label=, scope=, valid_lft=, preferred_lft=, replace=}]) */
static int addr_add(lua_State *L) {
  struct cnet_netns *ns = lcnet_ns(L);
  struct cnet_addr_req req;
  const char *dev;
  read_req(L, ns, "addr.add", 1, &req, &dev);
  int replace = lua_istable(L, 3) ? lcnet_opt_bool(L, 3, "replace", 0) : 0;
  int rc = cnet_addr_add(ns, &req, replace);
  if (rc < 0) return lcnet_raise(L, rc, "addr.add", dev, cnet_netns_errmsg(ns));
  return 0;
}

/* cnet.addr.delete(dev, "a/p") */
static int addr_delete(lua_State *L) {
  struct cnet_netns *ns = lcnet_ns(L);
  struct cnet_addr_req req;
  const char *dev;
  read_req(L, ns, "addr.delete", 0, &req, &dev);
  int rc = cnet_addr_delete(ns, &req);
  if (rc < 0) return lcnet_raise(L, rc, "addr.delete", dev, cnet_netns_errmsg(ns));
  return 0;
}

struct collect {
  struct lcnet_list out;       /* first: lcnet_list_reset resets it */
  int names;
  struct cnet_netns *ns;
};

static void setstr(lua_State *L, const char *k, const char *v) {
  lua_pushstring(L, v);
  lua_setfield(L, -2, k);
}

/* The device name of index (cached in the table at names; looked up on a miss). */
static void push_devname(struct collect *c, int index) {
  lcnet_push_ifname(c->out.L, c->ns, c->names, index, 1);
}

/* One address table as addr.list gives it, without dev. */
void lcnet_push_addr(lua_State *L, const struct cnet_addr *a) {
  char buf[CNET_IPADDR_STRLEN];
  lua_createtable(L, 0, 10);
  lua_pushinteger(L, a->index);
  lua_setfield(L, -2, "index");
  setstr(L, "family", lcnet_family_name(a->family));
  cnet_ipaddr_format(a->family, a->address, buf, sizeof buf);
  setstr(L, "address", buf);
  lua_pushinteger(L, a->prefix);
  lua_setfield(L, -2, "prefix");
  lua_pushfstring(L, "%s/%d", buf, (int)a->prefix);
  lua_setfield(L, -2, "cidr");
  if (a->broadcast && cnet_ipaddr_format(a->family, a->broadcast, buf, sizeof buf) == 0)
    setstr(L, "broadcast", buf);
  if (a->peer && cnet_ipaddr_format(a->family, a->peer, buf, sizeof buf) == 0)
    setstr(L, "peer", buf);
  const char *scope = cnet_scope_name(a->scope);
  if (scope) setstr(L, "scope", scope);
  else {
    lua_pushinteger(L, a->scope);
    lua_setfield(L, -2, "scope");
  }
  if (a->label) setstr(L, "label", a->label);
  /* Flags as ip -j shows them: a true field per flag, and "dynamic" for an address that
   * expires (the kernel marks the others permanent). */
  for (uint32_t bit = 1; bit != 0 && bit <= a->flags; bit <<= 1) {
    const char *name = (a->flags & bit) && bit != IFA_F_PERMANENT
                           ? cnet_addr_flag_name(a->family, bit) : NULL;
    if (name) {
      lua_pushboolean(L, 1);
      lua_setfield(L, -2, name);
    }
  }
  if (!(a->flags & IFA_F_PERMANENT)) {
    lua_pushboolean(L, 1);
    lua_setfield(L, -2, "dynamic");
  }
  if (a->valid != 0xffffffffu) {
    lua_pushinteger(L, a->valid);
    lua_setfield(L, -2, "valid_lft");
    lua_pushinteger(L, a->preferred);
    lua_setfield(L, -2, "preferred_lft");
  }
}

static int collect_cb(const struct cnet_addr *a, void *data) {
  struct collect *c = data;
  lcnet_push_addr(c->out.L, a);
  lcnet_list_add(&c->out);
  return 0;
}

/* Reads list/flush's filter: (dev) or (dev, {family=}) or ({dev=, family=}). */
static int read_filter(lua_State *L, struct cnet_netns *ns, const char *op, int *index,
                       const char **dev) {
  static const char *const known[] = {"dev", "family", NULL};
  int opts = 0;
  *index = 0;
  *dev = NULL;
  if (lua_istable(L, 1)) {
    opts = 1;
  } else if (!lua_isnoneornil(L, 1)) {
    *index = lcnet_dev_arg(L, ns, 1, op, dev);
    opts = lua_isnoneornil(L, 2) ? 0 : 2;
  }
  if (opts == 0) return AF_UNSPEC;
  lcnet_check_options(L, opts, known);
  if (opts == 1 && lua_getfield(L, 1, "dev") != LUA_TNIL) {
    int v = lua_gettop(L);
    if (lua_type(L, v) != LUA_TSTRING && lua_type(L, v) != LUA_TNUMBER)
      lcnet_field_error(L, 1, "dev", "interface name or index");
    *index = lcnet_ifindex(L, ns, v, 1, op, NULL, "dev");
    *dev = lua_type(L, v) == LUA_TSTRING ? lcnet_try_text(L, v, CNET_IFNAMSIZ)
                                         : lua_pushfstring(L, "%d", *index);
  } else if (opts == 1) {
    lua_pop(L, 1);
  }
  return lcnet_opt_family(L, opts, "family");
}

struct list_ctx {
  struct cnet_netns *ns;
  int family, index;
};

/* Runs protected (lcnet_pdump): the dump, then the device names. */
static int list_body(lua_State *L, void *data, int *rc) {
  struct list_ctx *x = data;
  lua_newtable(L); /* 1: result */
  lua_newtable(L); /* 2: index -> name */
  struct collect c = {{L, 1, 0}, 2, x->ns};
  *rc = cnet_addr_list(x->ns, x->family, x->index, collect_cb, lcnet_list_reset, &c);
  if (*rc < 0) return 0;
  /* Device names after the dump: looking one up inside the dump would interleave requests. */
  for (int i = 1; i <= c.out.n; i++) {
    lua_rawgeti(L, c.out.list, i);
    lua_getfield(L, -1, "index");
    push_devname(&c, (int)lua_tointeger(L, -1)); /* not user input: the dump's index */
    lua_setfield(L, -3, "dev");
    lua_pop(L, 2);
  }
  lua_settop(L, 1);
  return 1;
}

/* cnet.addr.list([dev | {dev=, family=}]) -> { {dev=, index=, family=, address=, ...}, ... } */
static int addr_list(lua_State *L) {
  struct cnet_netns *ns = lcnet_ns(L);
  int index;
  const char *dev;
  int family = read_filter(L, ns, "addr.list", &index, &dev); /* may push dev's text */
  struct list_ctx ctx = {ns, family, index};
  int rc = lcnet_pdump(L, ns, list_body, &ctx);
  if (rc < 0) return lcnet_raise(L, rc, "addr.list", dev, cnet_netns_errmsg(ns));
  return 1;
}

/* cnet.addr.flush(dev [, {family=}]) -> number removed */
static int addr_flush(lua_State *L) {
  struct cnet_netns *ns = lcnet_ns(L);
  luaL_argexpected(L, lua_type(L, 1) == LUA_TSTRING || lua_type(L, 1) == LUA_TNUMBER, 1,
                   "interface name or index");
  int index;
  const char *dev;
  int family = read_filter(L, ns, "addr.flush", &index, &dev);
  unsigned count;
  int rc = cnet_addr_flush(ns, family, index, &count);
  if (rc < 0) return lcnet_raise(L, rc, "addr.flush", dev, cnet_netns_errmsg(ns));
  lua_pushinteger(L, count);
  return 1;
}

void lcnet_open_addr(lua_State *L, int ns) {
  static const luaL_Reg fns[] = {{"add", addr_add},   {"delete", addr_delete},
                                 {"list", addr_list}, {"flush", addr_flush},
                                 {NULL, NULL}};
  lcnet_bind_sub(L, "addr", fns, ns);
}
