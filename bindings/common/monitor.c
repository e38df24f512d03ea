/* cnet.monitor: the kernel's change notifications of a namespace as Lua tables, shaped as the
 * listings' rows (link.list, addr.list, route.list, neigh.list, fdb.list, tc.qdisc.list,
 * nft.list_*) plus `event` ("new" or "del") and `object` (what changed). It spans every
 * room, hence common/. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <sys/socket.h>

#include "cnet/addr.h"
#include "cnet/link.h"
#include "cnet/monitor.h"
#include "cnet/neigh.h"
#include "cnet/nft.h"
#include "cnet/route.h"
#include "cnet/tc.h"
#include "common/args.h"
#include "common/lcnet.h"

#define LCNET_MONITOR "cnet.monitor"

/* User values: 1 the namespace handle (kept alive), 2 the queue of events not yet taken,
 * 3 index -> device name, as link events taught it (for the devices of deletions). */
typedef struct {
  struct cnet_monitor *m;       /* NULL once closed */
  struct cnet_nft_events *nft;
  unsigned what;
  lua_Integer head, tail;       /* queue[head .. tail - 1] */
} lmonitor;

static const struct {
  const char *key;
  unsigned bit;
} objects[] = {{"links", CNET_MON_LINK}, {"addrs", CNET_MON_ADDR}, {"routes", CNET_MON_ROUTE},
               {"neigh", CNET_MON_NEIGH}, {"tc", CNET_MON_TC},      {"nft", CNET_MON_NFT}};
enum { NOBJECTS = sizeof objects / sizeof objects[0] };

static lmonitor *checkmon(lua_State *L, int idx) {
  lmonitor *mon = luaL_checkudata(L, idx, LCNET_MONITOR);
  if (mon->m == NULL) luaL_error(L, "cnet.monitor is closed");
  return mon;
}

/* The namespace of the monitor at idx while its handle is open, else NULL. */
static struct cnet_netns *mon_ns(lua_State *L, int idx) {
  lua_getiuservalue(L, idx, 1);
  lnetns *h = luaL_testudata(L, -1, LCNET_NETNS);
  lua_pop(L, 1);
  return h ? h->ns : NULL;
}

/* ---- building events (under lua_pcall: an error must not unwind through the core) ---- */

struct readctx {
  lmonitor *mon;
  int ud;                       /* stack index of the monitor in the caller's frame */
  unsigned what;
  const struct nlmsghdr *nlh;
  const struct cnet_nft_event *nev;
  struct cnet_netns *ns;
  int failed;
};

/* Inside the protected builders the monitor is argument 2. */
#define MON 2

/* Appends the table on top to the queue. */
static void enqueue(lua_State *L, struct readctx *c) {
  lua_getiuservalue(L, MON, 2);
  lua_insert(L, -2);
  lua_rawseti(L, -2, c->mon->tail++);
  lua_pop(L, 1);
}

static void set_event(lua_State *L, const char *object, int del) {
  lua_pushstring(L, object);
  lua_setfield(L, -2, "object");
  lua_pushstring(L, del ? "del" : "new");
  lua_setfield(L, -2, "event");
}

/* Pushes the name of device index (c: the struct readctx). */
static void push_devname(lua_State *L, void *c, int index) {
  char name[CNET_IFNAMSIZ];
  struct cnet_netns *ns = ((struct readctx *)c)->ns;
  if (ns != NULL && cnet_link_name_nowait(ns, index, name) == 0) {
    lua_pushstring(L, name);
    return;
  }
  lua_getiuservalue(L, MON, 3);
  if (lua_rawgeti(L, -1, index) == LUA_TNIL) { /* gone: as a link event named it */
    lua_pop(L, 1);
    lua_pushfstring(L, "if%d", index);
  }
  lua_remove(L, -2);
}

/* Sets field `key` of the table on top to the name of device index. */
static void set_devname(lua_State *L, struct readctx *c, const char *key, int index) {
  if (index <= 0) return;
  push_devname(L, c, index);
  lua_setfield(L, -2, key);
}

static int push_nft(lua_State *L) {
  struct readctx *c = lua_touserdata(L, 1);
  const struct cnet_nft_event *ev = c->nev;
  static const char *const names[] = {"table", "chain", "rule", "set", "element"};
  if (ev->kind == CNET_NFT_EV_ELEMENTS) {
    lua_createtable(L, 0, 6);
    lua_pushstring(L, cnet_nft_family_name(ev->set.family));
    lua_setfield(L, -2, "family");
    lua_pushstring(L, ev->set.table);
    lua_setfield(L, -2, "table");
    lua_pushstring(L, ev->set.name);
    lua_setfield(L, -2, "set");
    lua_createtable(L, (int)ev->set.nelems, 0);
    for (unsigned i = 0; i < ev->set.nelems; i++) {
      lua_pushstring(L, ev->set.elems[i]);
      lua_rawseti(L, -2, (lua_Integer)i + 1);
    }
    lua_setfield(L, -2, "elements");
  } else {
    const void *info = ev->kind == CNET_NFT_EV_TABLE   ? (const void *)&ev->table
                       : ev->kind == CNET_NFT_EV_CHAIN ? (const void *)&ev->chain
                       : ev->kind == CNET_NFT_EV_RULE  ? (const void *)&ev->rule
                                                       : (const void *)&ev->set;
    lcnet_push_nft_row(L, (int)ev->kind, info);
  }
  set_event(L, names[ev->kind], ev->del);
  enqueue(L, c);
  return 0;
}

static int push_event(lua_State *L) {
  struct readctx *c = lua_touserdata(L, 1);
  const struct nlmsghdr *nlh = c->nlh;
  int del = cnet_monitor_is_del(c->what, nlh);
  switch (c->what) {
  case CNET_MON_LINK: {
    struct cnet_link l;
    if (cnet_link_parse(nlh, &l) < 0) return 0;
    lcnet_push_link(L, &l);
    set_devname(L, c, "master", l.master);
    lua_getiuservalue(L, MON, 3); /* remember the name for later deletions */
    lua_pushstring(L, l.name);
    lua_rawseti(L, -2, l.index);
    lua_pop(L, 1);
    set_event(L, "link", del);
    break;
  }
  case CNET_MON_ADDR: {
    struct cnet_addr a;
    if (cnet_addr_parse(nlh, &a) < 0) return 0;
    lcnet_push_addr(L, &a);
    set_devname(L, c, "dev", a.index);
    set_event(L, "addr", del);
    break;
  }
  case CNET_MON_ROUTE: {
    struct cnet_route r;
    if (cnet_route_parse(nlh, &r) < 0) return 0;
    lcnet_push_route(L, &r);
    set_devname(L, c, "dev", r.oif);
    set_event(L, "route", del);
    break;
  }
  case CNET_MON_NEIGH: {
    struct cnet_neigh n;
    if (cnet_neigh_parse(nlh, &n) < 0) return 0;
    lcnet_push_neigh(L, &n, push_devname, c);
    set_event(L, n.family == AF_BRIDGE ? "fdb" : "neigh", del);
    break;
  }
  case CNET_MON_TC: {
    struct cnet_tc_info info;
    if (cnet_tc_parse(nlh, &info) < 0) return 0;
    lcnet_push_tc(L, &info);
    set_devname(L, c, "dev", info.index);
    set_event(L, info.cls ? "class" : "qdisc", del);
    break;
  }
  default: /* CNET_MON_OVERFLOW */
    lua_createtable(L, 0, 2);
    lua_pushliteral(L, "overflow");
    lua_setfield(L, -2, "event");
    lua_pushliteral(L, "monitor");
    lua_setfield(L, -2, "object");
    break;
  }
  enqueue(L, c);
  return 0;
}

/* Runs f(c) protected; on error keeps the error value on the stack and marks c failed. */
static int protect(lua_State *L, lua_CFunction f, struct readctx *c) {
  lua_pushcfunction(L, f);
  lua_pushlightuserdata(L, c);
  lua_pushvalue(L, c->ud);
  if (lua_pcall(L, 2, 0, 0) != LUA_OK) {
    c->failed = 1;
    return -ECANCELED;
  }
  return 0;
}

struct nftctx {
  lua_State *L;
  struct readctx *c;
};

static int nft_event_cb(const struct cnet_nft_event *ev, void *data) {
  struct nftctx *x = data;
  x->c->nev = ev;
  return protect(x->L, push_nft, x->c);
}

struct msgctx {
  lua_State *L;
  struct readctx *c;
};

static int on_message(unsigned what, const struct nlmsghdr *nlh, void *data) {
  struct msgctx *x = data;
  struct readctx *c = x->c;
  c->what = what;
  c->nlh = nlh;
  if (what == CNET_MON_NFT) {
    struct nftctx n = {x->L, c};
    int rc = cnet_nft_event_decode(c->mon->nft, c->ns, nlh, nft_event_cb, &n);
    return c->failed ? rc : 0; /* a message libnftnl cannot read is skipped */
  }
  return protect(x->L, push_event, c);
}

/* Reads what arrives within timeout_ms into the queue. Returns 0, or -EINTR. */
static int fill(lua_State *L, int ud, int timeout_ms) {
  lmonitor *mon = checkmon(L, ud);
  struct readctx c = {mon, ud, 0, NULL, NULL, mon_ns(L, ud), 0};
  struct msgctx x = {L, &c};
  int rc = cnet_monitor_read(mon->m, timeout_ms, on_message, &x);
  if (c.failed) lua_error(L); /* the error value is on top */
  if (rc == -EINTR) return rc;
  if (rc < 0) lcnet_raise(L, rc, "monitor.next", NULL, NULL);
  return 0;
}

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Pushes the next event and returns 1, or returns 0 when none came by the deadline (< 0:
 * none). */
static int next_event(lua_State *L, int ud, double deadline) {
  lmonitor *mon = checkmon(L, ud);
  for (;;) {
    if (mon->head < mon->tail) {
      lua_getiuservalue(L, ud, 2);
      lua_rawgeti(L, -1, mon->head);
      lua_pushnil(L);
      lua_rawseti(L, -3, mon->head++);
      lua_remove(L, -2);
      return 1;
    }
    double left = deadline < 0 ? -1 : deadline - now();
    if (deadline >= 0 && left < 0) left = 0;
    int ms = left < 0 ? -1 : left > 86400 ? 86400000 : (int)ceil(left * 1000);
    int rc = fill(L, ud, ms);
    if (rc == -EINTR && lua_gethook(L) != NULL) return 0; /* Ctrl-C: let the hook raise */
    if (mon->head == mon->tail && deadline >= 0 && now() >= deadline) return 0;
  }
}

static double opt_timeout(lua_State *L, int idx) {
  if (lua_isnoneornil(L, idx)) return -1;
  return lcnet_check_number(L, idx, 0, 1e9, "timeout");
}

/* mon:next([timeout]) -> event | nil, "timeout" */
static int mon_next(lua_State *L) {
  checkmon(L, 1);
  double t = opt_timeout(L, 2);
  if (next_event(L, 1, t < 0 ? -1 : now() + t)) return 1;
  lua_pushnil(L);
  lua_pushliteral(L, "timeout");
  return 2;
}

static int events_iter(lua_State *L) {
  double t = lua_tonumber(L, lua_upvalueindex(2)); /* not user input: checked by events() */
  lua_settop(L, 0);
  lua_pushvalue(L, lua_upvalueindex(1));
  if (next_event(L, 1, t < 0 ? -1 : now() + t)) return 1;
  return 0;
}

/* mon:events([{timeout=}]) -> iterator: each event, until none comes for `timeout` seconds */
static int mon_events(lua_State *L) {
  checkmon(L, 1);
  double t = -1;
  if (!lua_isnoneornil(L, 2)) {
    static const char *const known[] = {"timeout", NULL};
    lcnet_check_options(L, 2, known);
    lcnet_fields f = lcnet_fields_of(L, 2);
    t = lcnet_field_number(&f, "timeout", 0, 1e9, -1);
  }
  lua_pushvalue(L, 1);
  lua_pushnumber(L, t);
  lua_pushcclosure(L, events_iter, 2);
  return 1;
}

/* Whether event ev (at idx) matches pattern p (a table at pidx): every field equal. */
static int matches(lua_State *L, int ev, int pidx) {
  lua_pushnil(L);
  while (lua_next(L, pidx) != 0) {
    lua_pushvalue(L, -2);
    lua_gettable(L, ev);
    int eq = lua_compare(L, -1, -2, LUA_OPEQ);
    lua_pop(L, 2);
    if (!eq) {
      lua_pop(L, 1);
      return 0;
    }
  }
  return 1;
}

/* mon:wait(pred | pattern [, timeout]) -> event | nil, "timeout": the first event for which
 * pred(ev) is true (or whose fields equal the pattern's) */
static int mon_wait(lua_State *L) {
  checkmon(L, 1);
  luaL_argexpected(L, lua_isfunction(L, 2) || lua_istable(L, 2), 2, "function or table");
  double t = opt_timeout(L, 3);
  double deadline = t < 0 ? -1 : now() + t;
  lua_settop(L, 2);
  while (next_event(L, 1, deadline)) {
    int ev = lua_gettop(L);
    int ok;
    if (lua_istable(L, 2)) {
      ok = matches(L, ev, 2);
    } else {
      lua_pushvalue(L, 2);
      lua_pushvalue(L, ev);
      lua_call(L, 1, 1);
      ok = lua_toboolean(L, -1); /* not user input: the predicate's answer, any truth */
      lua_pop(L, 1);
    }
    if (ok) return 1;
    lua_settop(L, 2);
  }
  lua_pushnil(L);
  lua_pushliteral(L, "timeout");
  return 2;
}

/* __gc, __close and close(): idempotent */
static int mon_close(lua_State *L) {
  lmonitor *mon = luaL_checkudata(L, 1, LCNET_MONITOR);
  cnet_monitor_close(mon->m);
  cnet_nft_events_free(mon->nft);
  mon->m = NULL;
  mon->nft = NULL;
  return 0;
}

static int mon_tostring(lua_State *L) {
  lmonitor *mon = luaL_checkudata(L, 1, LCNET_MONITOR);
  if (mon->m == NULL) {
    lua_pushliteral(L, "cnet.monitor (closed)");
    return 1;
  }
  luaL_Buffer b;
  luaL_buffinit(L, &b);
  luaL_addstring(&b, "cnet.monitor");
  const char *sep = " ";
  for (int i = 0; i < NOBJECTS; i++)
    if (mon->what & objects[i].bit) {
      luaL_addstring(&b, sep);
      luaL_addstring(&b, objects[i].key);
      sep = ",";
    }
  luaL_pushresult(&b);
  return 1;
}

static int mon_index(lua_State *L) {
  lmonitor *mon = luaL_checkudata(L, 1, LCNET_MONITOR);
  const char *k = lcnet_try_text(L, 2, 64);
  if (k == NULL) return 0;
  if (strcmp(k, "closed") == 0) {
    lua_pushboolean(L, mon->m == NULL);
    return 1;
  }
  if (strcmp(k, "netns") == 0) {
    lua_getiuservalue(L, 1, 1);
    return 1;
  }
  luaL_getmetafield(L, 1, "methods");
  lua_getfield(L, -1, k);
  return 1;
}

/* cnet.monitor([{links=, addrs=, routes=, neigh=, tc=, nft=}]) -> monitor (no table or none
 * of them true: all of them) */
static int monitor_open(lua_State *L) {
  struct cnet_netns *ns = lcnet_ns(L);
  unsigned what = 0;
  if (!lua_isnoneornil(L, 1)) {
    static const char *const known[] = {"links", "addrs", "routes", "neigh", "tc", "nft", NULL};
    lcnet_check_options(L, 1, known);
    lcnet_fields f = lcnet_fields_of(L, 1);
    for (int i = 0; i < NOBJECTS; i++)
      if (lcnet_field_bool(&f, objects[i].key, 0)) what |= objects[i].bit;
  }
  if (what == 0) what = CNET_MON_ALL;
  lmonitor *mon = lua_newuserdatauv(L, sizeof *mon, 3);
  memset(mon, 0, sizeof *mon);
  mon->what = what;
  mon->head = mon->tail = 1;
  luaL_setmetatable(L, LCNET_MONITOR);
  lua_pushvalue(L, lua_upvalueindex(1));
  lua_setiuservalue(L, -2, 1);
  lua_newtable(L);
  lua_setiuservalue(L, -2, 2);
  lua_newtable(L);
  lua_setiuservalue(L, -2, 3);
  int rc = cnet_nft_events_new(&mon->nft);
  if (rc == 0) rc = cnet_monitor_open(ns, what, &mon->m);
  if (rc < 0) {
    cnet_nft_events_free(mon->nft);
    mon->nft = NULL;
    return lcnet_raise(L, rc, "monitor", NULL, NULL);
  }
  return 1;
}

void lcnet_open_monitor(lua_State *L, int ns) {
  if (luaL_newmetatable(L, LCNET_MONITOR)) {
    static const luaL_Reg meta[] = {{"__gc", mon_close}, {"__close", mon_close},
                                    {"__tostring", mon_tostring}, {"__index", mon_index},
                                    {NULL, NULL}};
    static const luaL_Reg methods[] = {{"next", mon_next}, {"events", mon_events},
                                       {"wait", mon_wait}, {"close", mon_close},
                                       {NULL, NULL}};
    luaL_setfuncs(L, meta, 0);
    luaL_newlib(L, methods);
    lua_setfield(L, -2, "methods");
  }
  lua_pop(L, 1);
  static const luaL_Reg fns[] = {{"monitor", monitor_open}, {NULL, NULL}};
  lcnet_bind(L, fns, ns);
}
