/* Probes bound to a namespace handle: ping, tcp_connect, traceroute. A probe that gets no
 * answer returns nil plus the reason; only caller mistakes and system failures raise. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include "cnet/probe.h"
#include "common/lcnet.h"

/* The option `key` of the table at idx as milliseconds (seconds > 0 in Lua), or def. */
static int timeout_opt(lua_State *L, int idx, const char *key, int def) {
  if (lua_isnoneornil(L, idx)) return def;
  lcnet_fields f = lcnet_fields_of(L, idx);
  lua_Number s = lcnet_field_number(&f, key, 0, 3600, -1);
  if (s < 0) return def;
  if (s == 0) lcnet_field_fail(&f, key, "0 out of range (0, 3600] (seconds)");
  return (int)ceil(s * 1000.0);
}

/* The integer option `key` in [lo, hi], or def. */
static int int_opt(lua_State *L, int idx, const char *key, int lo, int hi, int def) {
  if (lua_isnoneornil(L, idx)) return def;
  lcnet_fields f = lcnet_fields_of(L, idx);
  return (int)lcnet_field_int(&f, key, lo, hi, def);
}

static const char *addr_arg(lua_State *L, int idx, uint16_t port, struct sockaddr_storage *sa,
                            socklen_t *len) {
  const char *text = lcnet_check_text(L, idx, 128, "address", NULL);
  if (cnet_probe_addr(text, port, sa, len) < 0)
    lcnet_argerror(L, idx, NULL, "not an IP address: %s", lcnet_quote_value(L, idx));
  return text;
}

static void push_addr(lua_State *L, const struct sockaddr_storage *sa) {
  char buf[INET6_ADDRSTRLEN];
  cnet_probe_addr_text((const struct sockaddr *)sa, buf, sizeof buf);
  lua_pushstring(L, buf);
}

/* ---- round-trip times: a number of seconds that prints in milliseconds ---- */

#define RTT_META "cnet.rtt"

typedef struct {
  double s;
} lrtt;

static void push_rtt(lua_State *L, double seconds) {
  lrtt *r = lua_newuserdatauv(L, sizeof *r, 0);
  r->s = seconds;
  luaL_setmetatable(L, RTT_META);
}

/* Replaces the rtt at idx (when it is one) by its seconds: what arithmetic and comparisons
 * see, so that Lua itself converts or refuses the other operand. */
static void rtt_seconds(lua_State *L, int idx) {
  lrtt *r = luaL_testudata(L, idx, RTT_META);
  if (r == NULL) return;
  lua_pushnumber(L, r->s);
  lua_replace(L, idx);
}

/* As ping(8) prints times: three significant digits, in milliseconds. */
static int rtt_tostring(lua_State *L) {
  double ms = ((lrtt *)luaL_checkudata(L, 1, RTT_META))->s * 1000.0;
  char buf[64];
  snprintf(buf, sizeof buf, ms < 1 ? "%.3f ms" : ms < 10 ? "%.2f ms" : ms < 100 ? "%.1f ms"
                                                                               : "%.0f ms",
           ms);
  lua_pushstring(L, buf);
  return 1;
}

/* rtt.s: seconds, rtt.ms: milliseconds (plain numbers) */
static int rtt_index(lua_State *L) {
  lrtt *r = luaL_checkudata(L, 1, RTT_META);
  lua_pushliteral(L, "s");
  int s = lua_rawequal(L, 2, -1);
  lua_pushliteral(L, "ms");
  int ms = lua_rawequal(L, 2, -1);
  if (s) lua_pushnumber(L, r->s);
  else if (ms) lua_pushnumber(L, r->s * 1000.0);
  else lua_pushnil(L);
  return 1;
}

/* Arithmetic on an rtt is arithmetic on its seconds, giving plain numbers (rtt * 1000). */
static int rtt_arith(lua_State *L) {
  int op = (int)lua_tointeger(L, lua_upvalueindex(1)); /* not user input: upvalue */
  lua_settop(L, 2);
  rtt_seconds(L, 1);
  rtt_seconds(L, 2);
  if (op == LUA_OPUNM) lua_settop(L, 1), lua_pushvalue(L, 1);
  lua_arith(L, op);
  return 1;
}

static int rtt_compare(lua_State *L) {
  int op = (int)lua_tointeger(L, lua_upvalueindex(1)); /* not user input: upvalue */
  lua_settop(L, 2);
  rtt_seconds(L, 1);
  rtt_seconds(L, 2);
  lua_pushboolean(L, lua_compare(L, 1, 2, op));
  return 1;
}

static int rtt_concat(lua_State *L) {
  luaL_tolstring(L, 1, NULL);
  luaL_tolstring(L, 2, NULL);
  lua_concat(L, 2);
  return 1;
}

static void rtt_init(lua_State *L) {
  if (!luaL_newmetatable(L, RTT_META)) {
    lua_pop(L, 1);
    return;
  }
  static const struct {
    const char *name;
    int op;
  } arith[] = {{"__add", LUA_OPADD}, {"__sub", LUA_OPSUB},   {"__mul", LUA_OPMUL},
               {"__div", LUA_OPDIV}, {"__mod", LUA_OPMOD},   {"__pow", LUA_OPPOW},
               {"__unm", LUA_OPUNM}, {"__idiv", LUA_OPIDIV}},
    compare[] = {{"__eq", LUA_OPEQ}, {"__lt", LUA_OPLT}, {"__le", LUA_OPLE}};
  for (size_t i = 0; i < sizeof arith / sizeof arith[0]; i++) {
    lua_pushinteger(L, arith[i].op);
    lua_pushcclosure(L, rtt_arith, 1);
    lua_setfield(L, -2, arith[i].name);
  }
  for (size_t i = 0; i < sizeof compare / sizeof compare[0]; i++) {
    lua_pushinteger(L, compare[i].op);
    lua_pushcclosure(L, rtt_compare, 1);
    lua_setfield(L, -2, compare[i].name);
  }
  lua_pushcfunction(L, rtt_tostring);
  lua_setfield(L, -2, "__tostring");
  lua_pushcfunction(L, rtt_index);
  lua_setfield(L, -2, "__index");
  lua_pushcfunction(L, rtt_concat);
  lua_setfield(L, -2, "__concat");
  lua_pop(L, 1);
}

/* ---- the probes ---- */

/* ping(addr [, {timeout = 2, count = 1, ttl =}]) -> rtt (seconds, the mean of the replies)
 *   or nil, reason [, address of who reported the error] */
static int probe_ping(lua_State *L) {
  static const char *const known[] = {"timeout", "count", "ttl", NULL};
  struct cnet_netns *ns = lcnet_ns(L);
  struct sockaddr_storage dst;
  socklen_t len;
  const char *text = addr_arg(L, 1, 0, &dst, &len);
  lcnet_check_options(L, 2, known);
  /* 2 s: a link that just came up may take up to a second to pass packets (the kernel
   * processes some carrier changes at most once a second). */
  int timeout = timeout_opt(L, 2, "timeout", 2000);
  int count = int_opt(L, 2, "count", 1, 1000, 1);
  int ttl = int_opt(L, 2, "ttl", 1, 255, 0);
  struct cnet_pinger *p;
  int rc = cnet_pinger_open(ns, dst.ss_family, &p);
  if (rc < 0) return lcnet_raise(L, rc, "ping", text, NULL);
  struct cnet_probe_reply r, last = {.reason = CNET_PROBE_TIMEOUT};
  int replies = 0;
  double total = 0;
  for (int i = 0; i < count && rc == 0; i++) {
    rc = cnet_pinger_probe(p, (struct sockaddr *)&dst, len, ttl, timeout, &r);
    if (rc < 0) break;
    if (r.reason == CNET_PROBE_OK) {
      replies++;
      total += r.rtt;
    } else {
      last = r;
    }
  }
  cnet_pinger_close(p);
  if (rc < 0) return lcnet_raise(L, rc, "ping", text, NULL);
  if (replies > 0) {
    push_rtt(L, total / replies);
    return 1;
  }
  lua_pushnil(L);
  lua_pushstring(L, cnet_probe_reason_name(last.reason));
  if (last.from_len == 0) return 2;
  push_addr(L, &last.from);
  return 3;
}

/* tcp_connect(addr, port [, {timeout = 1, send = text, retry = seconds}])
 *   -> true [, reply], or nil, reason */
static int probe_tcp_connect(lua_State *L) {
  static const char *const known[] = {"timeout", "send", "retry", NULL};
  struct cnet_netns *ns = lcnet_ns(L);
  lua_Integer port = lcnet_check_int(L, 2, 1, 65535, "port");
  struct sockaddr_storage dst;
  socklen_t len;
  const char *text = addr_arg(L, 1, (uint16_t)port, &dst, &len);
  lcnet_check_options(L, 3, known);
  int timeout = timeout_opt(L, 3, "timeout", 1000);
  int retry = timeout_opt(L, 3, "retry", 0);
  const char *send = NULL;
  size_t send_len = 0;
  if (!lua_isnoneornil(L, 3)) {
    lcnet_fields f = lcnet_fields_of(L, 3);
    send = lcnet_field_bytes(&f, "send", (size_t)1 << 30, &send_len); /* alive in the table */
  }
  int reason;
  char *reply;
  size_t reply_len;
  double rtt;
  int rc = cnet_probe_tcp(ns, (struct sockaddr *)&dst, len, timeout, retry, send, send_len,
                          &reason, &reply, &reply_len, &rtt);
  if (rc < 0) {
    return lcnet_raise(L, rc, "tcp_connect", lua_pushfstring(L, "%s port %I", text, port), NULL);
  }
  /* Copy the reply to Lua before anything can raise, then free it. */
  luaL_Buffer b;
  if (reply != NULL) {
    char *dst_buf = luaL_buffinitsize(L, &b, reply_len);
    memcpy(dst_buf, reply, reply_len);
    free(reply);
    luaL_pushresultsize(&b, reply_len);
  }
  if (reason != CNET_PROBE_OK) {
    lua_pushnil(L);
    lua_pushstring(L, cnet_probe_reason_name(reason));
    return 2;
  }
  lua_pushboolean(L, 1);
  if (send == NULL) return 1;
  lua_insert(L, -2);
  return 2;
}

/* traceroute(addr [, {max_hops = 30, timeout = 1, probes = 1}])
 *   -> { {ttl =, addr =, rtt =, reason =}, ... }, reached */
static int probe_traceroute(lua_State *L) {
  static const char *const known[] = {"max_hops", "timeout", "probes", NULL};
  struct cnet_netns *ns = lcnet_ns(L);
  struct sockaddr_storage dst;
  socklen_t len;
  const char *text = addr_arg(L, 1, 0, &dst, &len);
  lcnet_check_options(L, 2, known);
  int max_hops = int_opt(L, 2, "max_hops", 1, 255, 30);
  int probes = int_opt(L, 2, "probes", 1, 10, 1);
  int timeout = timeout_opt(L, 2, "timeout", 1000);
  struct cnet_trace_hop *hops = lua_newuserdatauv(L, sizeof *hops * (size_t)max_hops, 0);
  int n, reached;
  int rc = cnet_probe_traceroute(ns, (struct sockaddr *)&dst, len, max_hops, probes, timeout,
                                 hops, &n, &reached);
  if (rc < 0) return lcnet_raise(L, rc, "traceroute", text, NULL);
  lua_createtable(L, n, 0);
  for (int i = 0; i < n; i++) {
    const struct cnet_trace_hop *h = &hops[i];
    lua_createtable(L, 0, 4);
    lua_pushinteger(L, h->ttl);
    lua_setfield(L, -2, "ttl");
    if (h->reply.from_len > 0) {
      push_addr(L, &h->reply.from);
      lua_setfield(L, -2, "addr");
      push_rtt(L, h->reply.rtt);
      lua_setfield(L, -2, "rtt");
    }
    int why = h->reply.reason;
    if (why != CNET_PROBE_OK && why != CNET_PROBE_TTL_EXCEEDED && why != CNET_PROBE_TIMEOUT) {
      lua_pushstring(L, cnet_probe_reason_name(why));
      lua_setfield(L, -2, "reason");
    }
    lua_rawseti(L, -2, i + 1);
  }
  lua_pushboolean(L, reached);
  return 2;
}

void lcnet_open_probe(lua_State *L, int ns) {
  rtt_init(L);
  static const luaL_Reg fns[] = {{"ping", probe_ping},
                                 {"tcp_connect", probe_tcp_connect},
                                 {"traceroute", probe_traceroute},
                                 {NULL, NULL}};
  lcnet_bind(L, fns, ns);
}
