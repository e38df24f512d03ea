/* cnet.link.stats: a link's counters (IFLA_STATS64), or every link's. */
#include <errno.h>
#include <stdio.h>

#include "common/args.h"
#include "common/netarg.h"
#include "rtnl/llink.h"

/* Pushes the counters of l as {rx_bytes = n, ...}. */
static void push_stats(lua_State *L, const struct cnet_link *l) {
  uint64_t v[CNET_LINK_NSTATS];
  unsigned n = cnet_link_stats(l, v);
  lua_createtable(L, 0, (int)n);
  for (unsigned i = 0; i < n; i++) {
    lua_pushinteger(L, (lua_Integer)v[i]); /* wraps past 2^63, like any Lua integer */
    lua_setfield(L, -2, cnet_link_stat_name(i));
  }
}

static int one_cb(const struct cnet_link *l, void *data) {
  push_stats(data, l);
  return 0;
}

static int all_cb(const struct cnet_link *l, void *data) {
  lua_State *L = data;
  push_stats(L, l);
  lua_setfield(L, 1, l->name);
  return 0;
}

static void all_reset(void *data) {
  lua_State *L = data;
  lua_newtable(L);
  lua_replace(L, 1);
}

struct stats_ctx {
  struct cnet_netns *ns;
  int index;
  const char *name; /* NULL: every link */
};

/* Runs protected (lcnet_pdump). */
static int stats_body(lua_State *L, void *data, int *rc) {
  struct stats_ctx *x = data;
  if (x->name == NULL && x->index == 0) {
    lua_newtable(L); /* 1: name -> counters */
    *rc = cnet_link_list_stats(x->ns, all_cb, all_reset, L);
  } else {
    *rc = cnet_link_get_stats(x->ns, x->index, x->name, one_cb, L);
  }
  return *rc < 0 ? 0 : 1;
}

/* cnet.link.stats(dev) -> {rx_bytes=, tx_bytes=, ...}; cnet.link.stats() -> {name = {...}} */
int llink_stats(lua_State *L) {
  struct cnet_netns *ns = lcnet_ns(L);
  struct stats_ctx x = {ns, 0, NULL};
  char label[24];
  const char *object = NULL;
  if (lua_type(L, 1) == LUA_TNUMBER) {
    x.index = lcnet_ifindex(L, ns, 1, 1, "link.stats", NULL, "dev");
    snprintf(label, sizeof label, "%d", x.index);
    object = label;
  } else if (lua_type(L, 1) == LUA_TSTRING) {
    object = x.name = lcnet_check_text(L, 1, CNET_IFNAMSIZ - 1, "interface name", NULL);
  } else if (!lua_isnoneornil(L, 1)) {
    luaL_argexpected(L, 0, 1, "interface name or index");
  }
  int rc = lcnet_pdump(L, ns, stats_body, &x);
  if (rc < 0) return lcnet_raise(L, rc, "link.stats", object, cnet_netns_errmsg(ns));
  return 1;
}
