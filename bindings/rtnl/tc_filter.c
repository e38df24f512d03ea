/* cnet.tc.filter: traffic-control filters (tc filter): the matchall, u32 and flower
 * classifiers with gact and mirred actions; add, replace, change, delete, list. Fields
 * carry tc's keywords; filters come back as plain tables. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <linux/if_ether.h>
#include <linux/pkt_cls.h>

#include "cnet/lladdr.h"
#include "cnet/tcfilter.h"
#include "common/args.h"
#include "common/netarg.h"
#include "rtnl/ltc.h"

#define U32MAX 0xffffffffLL

/* The type of field key (nothing left on the stack). */
static int field_type(const struct ltc_call *c, const char *key) {
  int t = lua_getfield(c->f.L, c->f.idx, key);
  lua_pop(c->f.L, 1);
  return t;
}

/* ---- reading a filter ---- */

static uint32_t read_parent(lua_State *L, const struct ltc_call *c, uint32_t dflt) {
  int t = field_type(c, "parent");
  if (t == LUA_TNIL) return dflt;
  if (t == LUA_TNUMBER) return (uint32_t)lcnet_field_int(&c->f, "parent", 0, U32MAX, 0);
  const char *text = lcnet_field_text(&c->f, "parent", 64, NULL, NULL);
  uint32_t p;
  if (cnet_tc_filter_parse_parent(text, &p) < 0)
    ltc_bad_value(L, c, "parent", text, "a filter's parent",
                  "\"ingress\", \"egress\", \"root\", \"1:\", \"1:10\"");
  return p;
}

static uint16_t read_protocol(lua_State *L, const struct ltc_call *c, uint16_t dflt) {
  int t = field_type(c, "protocol");
  if (t == LUA_TNIL) return dflt;
  if (t == LUA_TNUMBER) return (uint16_t)lcnet_field_int(&c->f, "protocol", 0, 0xffff, 0);
  const char *text = lcnet_field_text(&c->f, "protocol", 32, NULL, NULL);
  uint16_t p;
  if (cnet_tc_parse_protocol(text, &p) < 0)
    ltc_bad_value(L, c, "protocol", text, "a protocol", "\"ip\", \"ipv6\", \"all\", \"0x88cc\"");
  return p;
}

static uint32_t read_handle(lua_State *L, const struct ltc_call *c, const char *kind) {
  int t = field_type(c, "handle");
  if (t == LUA_TNIL) return 0;
  if (t == LUA_TNUMBER) return (uint32_t)lcnet_field_int(&c->f, "handle", 0, U32MAX, 0);
  const char *text = lcnet_field_text(&c->f, "handle", 32, NULL, NULL);
  uint32_t h;
  if (kind == NULL || strcmp(kind, "u32") != 0 || cnet_tc_u32_parse_handle(text, &h) < 0)
    ltc_bad_value(L, c, "handle", text, "a filter handle", "1, u32's \"800::800\"");
  return h;
}

static void read_classid(lua_State *L, const struct ltc_call *c, struct cnet_tc_filter *f) {
  int t = field_type(c, "classid");
  if (t == LUA_TNIL) return;
  f->has_classid = 1;
  if (t == LUA_TNUMBER) {
    f->classid = (uint32_t)lcnet_field_int(&c->f, "classid", 0, U32MAX, 0);
    return;
  }
  const char *text = lcnet_field_text(&c->f, "classid", 64, NULL, NULL);
  if (strchr(text, ':') == NULL || cnet_tc_parse_classid(text, &f->classid) < 0)
    ltc_bad_value(L, c, "classid", text, "a class", "\"1:10\"");
}

static int read_verdict(lua_State *L, const struct ltc_call *c, const lcnet_fields *af,
                        const char *key, int dflt) {
  const char *name = lcnet_field_text(af, key, 32, NULL, NULL);
  if (name == NULL) return dflt;
  int v;
  if (cnet_tc_verdict_parse(name, &v) < 0)
    ltc_bad_value(L, c, key, name, "a verdict", "\"pass\", \"drop\", \"continue\", \"pipe\"");
  return v;
}

/* The device of a mirred action (field key of af, at the top of the stack). */
static int read_target(lua_State *L, const struct ltc_call *c, const lcnet_fields *af,
                       const char *key) {
  int t = lua_getfield(L, af->idx, key);
  if (t != LUA_TSTRING && t != LUA_TNUMBER)
    lcnet_field_fail(af, key, "interface name or index expected, got %s", lua_typename(L, t));
  int index = lcnet_ifindex(L, c->ns, lua_gettop(L), c->f.arg, c->op, c->object, key);
  lua_pop(L, 1);
  return index;
}

/* One action: a verdict's name ("drop": gact), or {kind = "gact", verdict = ...} or
 * {kind = "mirred", redirect = DEV | mirror = DEV, direction = "egress", verdict = ...}, at
 * stack index v; path names it in messages ("action", "action[2]"). */
static void read_action(lua_State *L, const struct ltc_call *c, int v, const char *path,
                        struct cnet_tc_action *a) {
  memset(a, 0, sizeof *a);
  v = lua_absindex(L, v);
  if (lua_type(L, v) == LUA_TSTRING) {
    const char *name = lcnet_to_text(L, v, c->f.arg, 32, path, NULL);
    a->kind = CNET_TC_ACT_GACT;
    if (cnet_tc_verdict_parse(name, &a->verdict) < 0)
      ltc_bad_value(L, c, path, name, "an action",
                    "\"drop\", \"pass\", {kind = \"mirred\", redirect = \"eth1\"}");
    return;
  }
  if (lua_type(L, v) != LUA_TTABLE)
    lcnet_argerror(L, c->f.arg, NULL, "field '%s': action expected (\"drop\", {kind = ...}), got %s",
                   path, luaL_typename(L, v));
  lcnet_fields af = lcnet_fields_in(&c->f, v, path);
  static const char *const kinds[] = {"gact", "mirred", NULL};
  int kind = lcnet_field_enum(&af, "kind", NULL, kinds);
  if (kind < 0) lcnet_field_fail(&af, "kind", "required (\"gact\" or \"mirred\")");
  if (kind == 0) {
    static const char *const known[] = {"kind", "verdict", NULL};
    lcnet_field_check_keys(&af, known);
    a->kind = CNET_TC_ACT_GACT;
    if (field_type(&(struct ltc_call){c->ns, c->op, c->object, af}, "verdict") == LUA_TNIL)
      lcnet_field_fail(&af, "verdict", "required (\"pass\", \"drop\", ...)");
    a->verdict = read_verdict(L, c, &af, "verdict", 0);
    return;
  }
  static const char *const known[] = {"kind", "redirect", "mirror", "direction", "verdict", NULL};
  lcnet_field_check_keys(&af, known);
  static const char *const directions[] = {"egress", "ingress", NULL};
  a->kind = CNET_TC_ACT_MIRRED;
  a->ingress = lcnet_field_enum(&af, "direction", "egress", directions) == 1;
  struct ltc_call sub = {c->ns, c->op, c->object, af};
  int redirect = field_type(&sub, "redirect") != LUA_TNIL, mirror = field_type(&sub, "mirror") != LUA_TNIL;
  if (redirect == mirror)
    lcnet_argerror(L, c->f.arg, NULL, "field '%s': mirred takes one of redirect and mirror", path);
  a->mirror = mirror;
  a->ifindex = read_target(L, c, &af, mirror ? "mirror" : "redirect");
  /* tc's defaults: the redirected packet is gone (stolen), a mirrored one goes on (pipe) */
  a->verdict = read_verdict(L, c, &af, "verdict", mirror ? TC_ACT_PIPE : TC_ACT_STOLEN);
}

/* Field `action`: one action or a list of them. */
static void read_actions(lua_State *L, const struct ltc_call *c, struct cnet_tc_filter *f) {
  int t = lua_getfield(L, c->f.idx, "action");
  int v = lua_gettop(L);
  if (t == LUA_TTABLE && lua_rawlen(L, v) > 0) { /* a list; else one action's table */
    lua_Integer n = (lua_Integer)lua_rawlen(L, v);
    if (n > CNET_TC_MAXACTS) lcnet_field_fail(&c->f, "action", "at most %d actions", CNET_TC_MAXACTS);
    for (lua_Integer i = 1; i <= n; i++) {
      lua_rawgeti(L, v, i); /* v + 1 */
      const char *path = lua_pushfstring(L, "action[%d]", (int)i);
      read_action(L, c, v + 1, path, &f->acts[i - 1]);
      lua_settop(L, v);
    }
    f->nacts = (unsigned)n;
  } else if (t != LUA_TNIL) {
    lua_settop(L, v);
    read_action(L, c, v, "action", &f->acts[0]);
    f->nacts = 1;
  }
  lua_settop(L, v - 1);
}

/* u32's `match`: one match in tc's words or a list of them. */
static void read_match(lua_State *L, const struct ltc_call *c, struct cnet_tc_filter *f) {
  int t = lua_getfield(L, c->f.idx, "match");
  int v = lua_gettop(L);
  lua_Integer n = t == LUA_TTABLE ? (lua_Integer)lua_rawlen(L, v) : 1;
  if (t != LUA_TSTRING && t != LUA_TTABLE)
    lcnet_field_fail(&c->f, "match", "match or list of matches expected (\"ip dst 192.0.2.1/32\"), got %s",
                     lua_typename(L, t));
  if (n < 1 || n > CNET_TC_U32_MAXKEYS) lcnet_field_fail(&c->f, "match", "1 to 128 matches");
  for (lua_Integer i = 1; i <= n; i++) {
    if (t == LUA_TTABLE) lua_rawgeti(L, v, i);
    else lua_pushvalue(L, v);
    const char *what = t == LUA_TTABLE ? lua_pushfstring(L, "match[%d]", (int)i) : "match";
    const char *text = lcnet_to_text(L, v + 1, c->f.arg, 255, what, NULL);
    char err[CNET_ERRMSG_MAX];
    if (cnet_tc_u32_parse_match(text, f->keys, &f->nkeys, err) < 0) {
      lua_pushfstring(L, "%s %s: %s", what, lcnet_quote(L, text, strlen(text)), err);
      lcnet_raise(L, -EINVAL, c->op, c->object, lua_tostring(L, -1)); /* not user input */
    }
    lua_settop(L, v);
  }
  lua_settop(L, v - 1);
}

static void read_mac(lua_State *L, const struct ltc_call *c, const char *key, uint8_t *out) {
  const char *text = lcnet_field_text(&c->f, key, 64, NULL, NULL);
  unsigned char mac[CNET_LLADDR_MAX];
  unsigned len = 0;
  if (cnet_lladdr_parse(text, mac, &len) < 0 || len != 6)
    ltc_bad_value(L, c, key, text, "a MAC address", "\"02:00:00:00:00:01\"");
  memcpy(out, mac, 6);
}

static void read_ip(lua_State *L, const struct ltc_call *c, const char *key,
                    struct cnet_ipaddr *out) {
  const char *text = lcnet_field_text(&c->f, key, 64, NULL, NULL);
  if (cnet_ipaddr_parse_prefix(text, AF_UNSPEC, out) < 0)
    ltc_bad_value(L, c, key, text, "an address or prefix", "\"192.0.2.0/24\", \"2001:db8::1\"");
}

/* flower's keys, each given as tc names it. */
static void read_flower(lua_State *L, const struct ltc_call *c, struct cnet_tc_flower *k) {
  if (field_type(c, "dst_mac") != LUA_TNIL) read_mac(L, c, "dst_mac", k->dst_mac), k->given |= CNET_FLOWER_DST_MAC;
  if (field_type(c, "src_mac") != LUA_TNIL) read_mac(L, c, "src_mac", k->src_mac), k->given |= CNET_FLOWER_SRC_MAC;
  int t = field_type(c, "ip_proto");
  if (t == LUA_TNUMBER) {
    k->ip_proto = (uint8_t)lcnet_field_int(&c->f, "ip_proto", 0, 255, 0);
    k->given |= CNET_FLOWER_IP_PROTO;
  } else if (t != LUA_TNIL) {
    const char *text = lcnet_field_text(&c->f, "ip_proto", 16, NULL, NULL);
    int p = cnet_tc_flower_parse_proto(text);
    if (p < 0)
      ltc_bad_value(L, c, "ip_proto", text, "an IP protocol", "\"tcp\", \"udp\", \"icmp\", 47");
    k->ip_proto = (uint8_t)p;
    k->given |= CNET_FLOWER_IP_PROTO;
  }
  if (field_type(c, "dst_ip") != LUA_TNIL) read_ip(L, c, "dst_ip", &k->dst_ip), k->given |= CNET_FLOWER_DST_IP;
  if (field_type(c, "src_ip") != LUA_TNIL) read_ip(L, c, "src_ip", &k->src_ip), k->given |= CNET_FLOWER_SRC_IP;
  if (field_type(c, "dst_port") != LUA_TNIL) {
    k->dst_port = (uint16_t)lcnet_field_int(&c->f, "dst_port", 0, 65535, 0);
    k->given |= CNET_FLOWER_DST_PORT;
  }
  if (field_type(c, "src_port") != LUA_TNIL) {
    k->src_port = (uint16_t)lcnet_field_int(&c->f, "src_port", 0, 65535, 0);
    k->given |= CNET_FLOWER_SRC_PORT;
  }
}

static const char *const common_keys[] = {"kind", "parent", "prio", "protocol", "handle", "chain",
                                          "classid", "action", "skip_hw", "skip_sw", NULL};
static const char *const u32_keys[] = {"match", NULL};
static const char *const flower_keys[] = {"dst_mac", "src_mac", "ip_proto", "dst_ip", "src_ip",
                                          "dst_port", "src_port", NULL};

/* Refuses keys that are neither common nor the kind's own. */
static void check_keys(lua_State *L, const struct ltc_call *c, const char *kind) {
  const char *const *own = strcmp(kind, "u32") == 0 ? u32_keys
                           : strcmp(kind, "flower") == 0 ? flower_keys : NULL;
  lua_pushnil(L);
  while (lua_next(L, c->f.idx) != 0) {
    lua_pop(L, 1);
    const char *key = lcnet_try_text(L, -1, 64);
    int ok = 0;
    for (const char *const *p = common_keys; key && *p && !ok; p++) ok = strcmp(*p, key) == 0;
    for (const char *const *p = own; key && p && *p && !ok; p++) ok = strcmp(*p, key) == 0;
    if (!ok)
      lcnet_argerror(L, c->f.arg, NULL, "unknown option %s for %s", lcnet_quote_value(L, -1), kind);
  }
}

/* A batched request's failure comes back later, through this: the same explanation as at
 * once (upvalues: the kind, the action kinds). */
static int explain_later(lua_State *L) {
  int err = (int)lua_tointeger(L, 1);                           /* not user input: the batch's */
  const char *extack = lua_tostring(L, 2);                      /* not user input: the kernel's */
  const char *kind = lua_tostring(L, lua_upvalueindex(1));      /* not user input: checked */
  const char *acts = lua_tostring(L, lua_upvalueindex(2));      /* not user input: ours */
  char buf[CNET_ERRMSG_MAX];
  int rc = cnet_tc_filter_explain(err < 0 ? err : -err, extack ? extack : "", kind, acts, buf);
  lua_pushinteger(L, err < 0 ? rc : -rc);
  lua_pushstring(L, buf);
  return 2;
}

static void send_change(lua_State *L, const struct ltc_call *c, enum cnet_tc_op op,
                        const struct cnet_tc_filter *f) {
  lua_pushstring(L, c->object); /* a batch names the failure as the call would */
  lcnet_batch_note(L, LCNET_NOTE_OBJECT);
  if (op != CNET_TC_DELETE && f->kind != NULL) {
    char acts[64]; /* as the direct call's message names them (core/rtnl/tc_filter.c) */
    cnet_tc_filter_action_kinds(f, acts, sizeof acts);
    lua_pushstring(L, f->kind);
    lua_pushstring(L, acts);
    lua_pushcclosure(L, explain_later, 2);
    lcnet_batch_note(L, LCNET_NOTE_EXPLAIN);
  }
  int rc = cnet_tc_filter_change(c->ns, op, f);
  if (rc < 0) lcnet_raise(L, rc, c->op, c->object, cnet_netns_errmsg(c->ns));
}

/* add/replace/change(dev, {kind=, parent=, prio=, protocol=, handle=, chain=, classid=,
 * action=, skip_hw=, skip_sw=, the kind's keys...}) */
static int filter_change(lua_State *L, const char *op, enum cnet_tc_op what) {
  struct cnet_netns *ns = lcnet_ns(L);
  luaL_checktype(L, 2, LUA_TTABLE);
  lua_settop(L, 2);
  const char *dev;
  int index = lcnet_dev_arg(L, ns, 1, op, &dev);
  lcnet_fields fl = lcnet_fields_of(L, 2);
  const char *kind = lcnet_field_text(&fl, "kind", 32, NULL, NULL);
  if (kind == NULL) lcnet_field_fail(&fl, "kind", "required (\"matchall\", \"u32\", \"flower\")");
  if (!cnet_tc_filter_kind_known(kind))
    lcnet_field_fail(&fl, "kind", "unknown filter kind %s (matchall, u32, flower)",
                     lcnet_quote(L, kind, strlen(kind)));
  struct ltc_call c = {ns, op, lua_pushfstring(L, "%s %s", dev, kind), fl};
  check_keys(L, &c, kind);
  struct cnet_tc_filter *f = lua_newuserdatauv(L, sizeof *f, 0); /* big: not on the C stack */
  memset(f, 0, sizeof *f);
  f->index = index;
  f->kind = kind;
  f->parent = read_parent(L, &c, 0);
  f->prio = (uint16_t)lcnet_field_int(&fl, "prio", 0, 0xffff, 0);
  /* tc's default for a new filter: every protocol; a change names the filter's own or none */
  f->protocol = read_protocol(L, &c, what == CNET_TC_CHANGE ? 0 : ETH_P_ALL);
  f->handle = read_handle(L, &c, kind);
  f->chain = lcnet_field_int(&fl, "chain", 0, U32MAX, -1);
  read_classid(L, &c, f);
  read_actions(L, &c, f);
  if (lcnet_field_bool(&fl, "skip_hw", 0)) f->flags |= TCA_CLS_FLAGS_SKIP_HW;
  if (lcnet_field_bool(&fl, "skip_sw", 0)) f->flags |= TCA_CLS_FLAGS_SKIP_SW;
  if (strcmp(kind, "u32") == 0 && field_type(&c, "match") != LUA_TNIL) read_match(L, &c, f);
  if (strcmp(kind, "flower") == 0) read_flower(L, &c, &f->flower);
  send_change(L, &c, what, f);
  return 0;
}

static int filter_add(lua_State *L) { return filter_change(L, "tc.filter.add", CNET_TC_ADD); }
static int filter_replace(lua_State *L) { return filter_change(L, "tc.filter.replace", CNET_TC_REPLACE); }
static int filter_modify(lua_State *L) { return filter_change(L, "tc.filter.change", CNET_TC_CHANGE); }

/* delete(dev [, {parent=, prio=, protocol=, kind=, handle=, chain=}]): the filters that
 * match; without prio, every filter of the parent */
static int filter_delete(lua_State *L) {
  struct cnet_netns *ns = lcnet_ns(L);
  static const char *const known[] = {"parent", "prio", "protocol", "kind", "handle", "chain", NULL};
  lua_settop(L, 2);
  const char *dev;
  int index = lcnet_dev_arg(L, ns, 1, "tc.filter.delete", &dev);
  lcnet_check_options(L, 2, known);
  struct ltc_call c = {ns, "tc.filter.delete", dev, lcnet_fields_of(L, 2)};
  struct cnet_tc_filter *f = lua_newuserdatauv(L, sizeof *f, 0);
  memset(f, 0, sizeof *f);
  f->index = index;
  f->chain = -1;
  if (lua_istable(L, 2)) {
    f->kind = lcnet_field_text(&c.f, "kind", 32, NULL, NULL);
    if (f->kind && f->kind[0] == '\0') lcnet_field_fail(&c.f, "kind", "empty");
    f->parent = read_parent(L, &c, 0);
    f->prio = (uint16_t)lcnet_field_int(&c.f, "prio", 0, 0xffff, 0);
    f->protocol = read_protocol(L, &c, 0);
    f->handle = read_handle(L, &c, f->kind);
    f->chain = lcnet_field_int(&c.f, "chain", 0, U32MAX, -1);
    if (f->handle && f->kind == NULL) lcnet_field_fail(&c.f, "kind", "required with a handle");
  }
  char where[16];
  cnet_tc_filter_format_parent(f->parent, where, sizeof where);
  c.object = f->prio ? lua_pushfstring(L, "%s %s prio %d", dev, where, (int)f->prio)
                     : lua_pushfstring(L, "%s %s", dev, where);
  send_change(L, &c, CNET_TC_DELETE, f);
  return 0;
}

/* ---- listing ---- */

struct collect {
  struct lcnet_list out;       /* first: lcnet_list_reset resets it */
  struct cnet_netns *ns;
  int names;
};

static void set_str(lua_State *L, const char *key, const char *v) {
  lua_pushstring(L, v);
  lua_setfield(L, -2, key);
}

static void set_int(lua_State *L, const char *key, lua_Integer v) {
  lua_pushinteger(L, v);
  lua_setfield(L, -2, key);
}

static void set_true(lua_State *L, const char *key) {
  lua_pushboolean(L, 1);
  lua_setfield(L, -2, key);
}

static void set_dev(struct collect *c, const char *key, int index) {
  lcnet_push_ifname(c->out.L, c->ns, c->names, index, 0);
  lua_setfield(c->out.L, -2, key);
}

static void push_action(struct collect *c, const struct cnet_tc_action *a) {
  lua_State *L = c->out.L;
  lua_createtable(L, 0, 4);
  const char *verdict = cnet_tc_verdict_name(a->verdict);
  if (a->kind == CNET_TC_ACT_GACT) {
    set_str(L, "kind", "gact");
    if (verdict) set_str(L, "verdict", verdict);
    else set_int(L, "verdict", a->verdict);
  } else if (a->kind == CNET_TC_ACT_MIRRED) {
    set_str(L, "kind", "mirred");
    set_dev(c, a->mirror ? "mirror" : "redirect", a->ifindex);
    set_str(L, "direction", a->ingress ? "ingress" : "egress");
    if (a->verdict != (a->mirror ? TC_ACT_PIPE : TC_ACT_STOLEN)) { /* only what tc's default is not */
      if (verdict) set_str(L, "verdict", verdict);
      else set_int(L, "verdict", a->verdict);
    }
  } else {
    set_str(L, "kind", a->name);
  }
}

static void set_ip(lua_State *L, const char *key, const struct cnet_ipaddr *a) {
  char buf[CNET_IPADDR_STRLEN + 8];
  if (cnet_ipaddr_format_prefix(a->family, a->bytes, a->prefix, buf, sizeof buf) == 0)
    set_str(L, key, buf);
}

static void set_mac(lua_State *L, const char *key, const uint8_t *mac) {
  char buf[CNET_LLADDR_STRLEN];
  cnet_lladdr_format(mac, 6, buf);
  set_str(L, key, buf);
}

/* Pushes the table of one filter (its device named through c). */
static void push_filter(struct collect *c, const struct cnet_tc_filter *f) {
  lua_State *L = c->out.L;
  char buf[64];
  lua_createtable(L, 0, 12);
  set_dev(c, "dev", f->index);
  set_int(L, "index", f->index);
  set_str(L, "kind", f->kind);
  cnet_tc_filter_format_parent(f->parent, buf, sizeof buf);
  set_str(L, "parent", buf);
  set_int(L, "prio", f->prio);
  set_str(L, "protocol", cnet_tc_protocol_name(f->protocol, buf, sizeof buf));
  if (strcmp(f->kind, "u32") == 0) {
    cnet_tc_u32_format_handle(f->handle, buf, sizeof buf);
    set_str(L, "handle", buf);
  } else {
    set_int(L, "handle", f->handle);
  }
  set_int(L, "chain", f->chain);
  if (f->has_classid) {
    cnet_tc_format_classid(f->classid, buf, sizeof buf);
    set_str(L, "classid", buf);
  }
  if (f->flags & TCA_CLS_FLAGS_SKIP_HW) set_true(L, "skip_hw");
  if (f->flags & TCA_CLS_FLAGS_SKIP_SW) set_true(L, "skip_sw");
  if (f->flags & TCA_CLS_FLAGS_IN_HW) set_true(L, "in_hw");
  if (f->nacts) {
    lua_createtable(L, (int)f->nacts, 0);
    for (unsigned i = 0; i < f->nacts; i++) {
      push_action(c, &f->acts[i]);
      lua_rawseti(L, -2, (lua_Integer)i + 1);
    }
    lua_setfield(L, -2, "action");
  }
  if (f->nkeys) {
    lua_createtable(L, (int)f->nkeys, 0);
    for (unsigned i = 0; i < f->nkeys; i++) {
      cnet_tc_u32_format_key(&f->keys[i], buf, sizeof buf);
      lua_pushstring(L, buf);
      lua_rawseti(L, -2, (lua_Integer)i + 1);
    }
    lua_setfield(L, -2, "match");
  }
  const struct cnet_tc_flower *k = &f->flower;
  if (k->given & CNET_FLOWER_DST_MAC) set_mac(L, "dst_mac", k->dst_mac);
  if (k->given & CNET_FLOWER_SRC_MAC) set_mac(L, "src_mac", k->src_mac);
  if (k->given & CNET_FLOWER_IP_PROTO) {
    const char *name = cnet_tc_flower_proto_name(k->ip_proto);
    if (name) set_str(L, "ip_proto", name);
    else set_int(L, "ip_proto", k->ip_proto);
  }
  if (k->given & CNET_FLOWER_DST_IP) set_ip(L, "dst_ip", &k->dst_ip);
  if (k->given & CNET_FLOWER_SRC_IP) set_ip(L, "src_ip", &k->src_ip);
  if (k->given & CNET_FLOWER_DST_PORT) set_int(L, "dst_port", k->dst_port);
  if (k->given & CNET_FLOWER_SRC_PORT) set_int(L, "src_port", k->src_port);
}

static int collect_cb(const struct cnet_tc_filter *f, void *data) {
  struct collect *c = data;
  push_filter(c, f);
  lcnet_list_add(&c->out);
  return 0;
}

struct list_ctx {
  struct cnet_netns *ns;
  int index, every;
  uint32_t parent;
};

/* Runs protected (lcnet_pdump). */
static int list_body(lua_State *L, void *data, int *rc) {
  struct list_ctx *x = data;
  lua_newtable(L); /* 1: result */
  lua_newtable(L); /* 2: ifindex -> name */
  struct collect c = {{L, 1, 0}, x->ns, 2};
  *rc = cnet_tc_filter_list(x->ns, x->index, x->parent, x->every, collect_cb, lcnet_list_reset, &c);
  if (*rc < 0) return 0;
  lua_settop(L, 1);
  return 1;
}

/* list(dev [, {parent=}]) -> { filter, ... }: those of parent, or of every place of dev */
static int filter_list(lua_State *L) {
  struct cnet_netns *ns = lcnet_ns(L);
  static const char *const known[] = {"parent", NULL};
  lua_settop(L, 2);
  const char *dev;
  int index = lcnet_dev_arg(L, ns, 1, "tc.filter.list", &dev);
  lcnet_check_options(L, 2, known);
  struct ltc_call c = {ns, "tc.filter.list", dev, lcnet_fields_of(L, 2)};
  struct list_ctx ctx = {ns, index, 1, 0};
  if (lua_istable(L, 2) && field_type(&c, "parent") != LUA_TNIL) {
    ctx.every = 0;
    ctx.parent = read_parent(L, &c, 0);
  }
  int rc = lcnet_pdump(L, ns, list_body, &ctx);
  if (rc < 0) return lcnet_raise(L, rc, c.op, dev, cnet_netns_errmsg(ns));
  return 1;
}

void lcnet_open_tc_filter(lua_State *L, int ns) {
  static const luaL_Reg fns[] = {{"add", filter_add},       {"replace", filter_replace},
                                 {"change", filter_modify}, {"delete", filter_delete},
                                 {"list", filter_list},     {NULL, NULL}};
  lcnet_bind_named(L, "filter", "tc.filter", fns, ns);
}
