/* cnet.rule: policy routing rules (ip rule): add, delete, list. Rules come back as plain
 * tables with the same keys add takes, so a listed rule can be given to delete. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <linux/fib_rules.h>

#include "cnet/link.h"
#include "cnet/route.h"
#include "cnet/rule.h"
#include "common/netarg.h"

static const char *const rule_keys[] = {
    "priority", "family", "from", "to", "tos", "fwmark", "fwmask", "iif", "oif", "table",
    "action", "goto", "suppress_prefixlength", "invert", "protocol", "unresolved", NULL};

/* An interface-name field: names only (a rule matches a name, whether or not such a device
 * exists now, as ip rule does). */
static const char *opt_ifname(lua_State *L, const char *key) {
  const char *name = lcnet_opt_string(L, 1, key, NULL);
  if (name && cnet_link_check_name(name) < 0)
    lcnet_argerror(L, 1, NULL, "field '%s': invalid interface name %s", key,
                   lcnet_quote(L, name, strlen(name)));
  return name;
}

static void opt_prefix(lua_State *L, const char *key, int family, const char *op,
                       const char *object, struct cnet_ipaddr *out) {
  memset(out, 0, sizeof *out);
  const char *text = lcnet_opt_string(L, 1, key, NULL);
  if (text == NULL || strcmp(text, "all") == 0) return;
  lua_getfield(L, 1, key);
  lcnet_checkaddr(L, -1, 1, family, op, object, out);
  lua_pop(L, 1);
}

/* The text naming a rule in errors, like ip rule show prints it. */
static const char *describe(lua_State *L, const struct cnet_rule_req *req, const char *from,
                            const char *to) {
  luaL_Buffer b;
  luaL_buffinit(L, &b);
  char num[48];
  if (req->has_priority) {
    snprintf(num, sizeof num, "pref %u ", req->priority);
    luaL_addstring(&b, num);
  }
  if (req->invert) luaL_addstring(&b, "not ");
  luaL_addstring(&b, "from ");
  luaL_addstring(&b, from ? from : "all");
  if (to) {
    luaL_addstring(&b, " to ");
    luaL_addstring(&b, to);
  }
  if (req->has_fwmark) {
    snprintf(num, sizeof num, " fwmark 0x%x", req->fwmark);
    luaL_addstring(&b, num);
    if (req->has_fwmask) {
      snprintf(num, sizeof num, "/0x%x", req->fwmask);
      luaL_addstring(&b, num);
    }
  }
  if (req->iif) {
    luaL_addstring(&b, " iif ");
    luaL_addstring(&b, req->iif);
  }
  if (req->oif) {
    luaL_addstring(&b, " oif ");
    luaL_addstring(&b, req->oif);
  }
  if (req->action == FR_ACT_GOTO) {
    snprintf(num, sizeof num, " goto %u", req->goto_target);
    luaL_addstring(&b, num);
  } else if (req->action > 0 && req->action != FR_ACT_TO_TBL) {
    const char *name = cnet_rule_action_name((uint8_t)req->action); /* NULL for a bare number */
    if (name) snprintf(num, sizeof num, " %s", name);
    else snprintf(num, sizeof num, " action %d", req->action);
    luaL_addstring(&b, num);
  } else if (req->table) {
    const char *name = cnet_route_table_name(req->table);
    if (name) snprintf(num, sizeof num, " lookup %s", name);
    else snprintf(num, sizeof num, " lookup %u", req->table);
    luaL_addstring(&b, num);
  }
  luaL_pushresult(&b);
  return lcnet_batch_object(L);
}

/* Reads a rule spec at 1 (add: the defaults of ip rule add). Returns its description. */
static const char *read_rule(lua_State *L, const char *op, struct cnet_rule_req *req) {
  luaL_checktype(L, 1, LUA_TTABLE);
  lua_settop(L, 1);
  lcnet_check_options(L, 1, rule_keys);
  /* As ip rule: a rule of nothing is refused. An add would make a catch-all rule, a delete
   * would take the first rule of all (the main table's). */
  int fields = 0;
  lua_pushnil(L);
  while (lua_next(L, 1) != 0) {
    lua_pop(L, 1);
    const char *k = lua_tostring(L, -1); /* not user input: a key check_options accepted */
    fields += strcmp(k, "family") != 0 && strcmp(k, "unresolved") != 0;
  }
  if (fields == 0) luaL_argerror(L, 1, "a rule needs a selector or an action (priority, from, ...)");
  cnet_rule_req_init(req);
  req->family = lcnet_opt_family(L, 1, "family");
  lcnet_fields f = lcnet_fields_of(L, 1);
  lua_Integer prio = lcnet_field_int(&f, "priority", 0, 0xffffffffLL, -1);
  if (prio >= 0) {
    req->has_priority = 1;
    req->priority = (uint32_t)prio;
  }
  lua_Integer mark = lcnet_field_int(&f, "fwmark", 0, 0xffffffffLL, -1);
  lua_Integer mask = lcnet_field_int(&f, "fwmask", 0, 0xffffffffLL, -1);
  if (mask >= 0 && mark < 0) luaL_argerror(L, 1, "field 'fwmask': only with fwmark");
  req->has_fwmark = mark >= 0;
  req->fwmark = (uint32_t)(mark >= 0 ? mark : 0);
  req->has_fwmask = mask >= 0;
  req->fwmask = (uint32_t)(mask >= 0 ? mask : 0);
  req->iif = opt_ifname(L, "iif");
  req->oif = opt_ifname(L, "oif");
  req->table = lcnet_opt_table(L, 1, "table", 1);
  req->action = lcnet_opt_enum(L, 1, "action", cnet_rule_action_parse);
  lua_Integer target = lcnet_field_int(&f, "goto", 0, 0xffffffffLL, -1);
  if (target >= 0) {
    if (req->action >= 0 && req->action != FR_ACT_GOTO)
      luaL_argerror(L, 1, "field 'goto': only with action 'goto'");
    req->action = FR_ACT_GOTO;
    req->goto_target = (uint32_t)target;
  } else if (req->action == FR_ACT_GOTO) {
    luaL_argerror(L, 1, "field 'goto' required with action 'goto'");
  }
  if (req->table && req->action >= 0 && req->action != FR_ACT_TO_TBL)
    luaL_argerror(L, 1, "field 'table': only with action 'lookup'");
  lua_Integer spl = lcnet_field_int(&f, "suppress_prefixlength", 0, 128, -1);
  if (spl >= 0) {
    req->has_suppress_prefixlen = 1;
    req->suppress_prefixlen = (uint32_t)spl;
  }
  req->invert = lcnet_opt_bool(L, 1, "invert", 0);
  req->tos = (int)lcnet_field_int(&f, "tos", 0, 255, -1);
  req->protocol = lcnet_opt_enum(L, 1, "protocol", cnet_route_protocol_parse);
  (void)lcnet_opt_bool(L, 1, "unresolved", 0); /* a listing's fact, ignored */
  const char *from = lcnet_opt_string(L, 1, "from", NULL);
  const char *to = lcnet_opt_string(L, 1, "to", NULL);
  if (from && strcmp(from, "all") == 0) from = NULL;
  if (to && strcmp(to, "all") == 0) to = NULL;
  const char *text = describe(L, req, from, to);
  opt_prefix(L, "from", req->family, op, text, &req->src);
  opt_prefix(L, "to", req->family, op, text, &req->dst);
  if (req->src.family && req->dst.family && req->src.family != req->dst.family)
    lcnet_raise(L, -EINVAL, op, text, "address families do not match");
  if (req->family && ((req->src.family && req->src.family != req->family) ||
                      (req->dst.family && req->dst.family != req->family)))
    lcnet_raise(L, -EINVAL, op, text, "address families do not match");
  return text;
}

/* cnet.rule.add{priority=, from=, to=, fwmark=, fwmask=, iif=, oif=, table=, action=, goto=,
 * suppress_prefixlength=, invert=, tos=, protocol=, family=} */
static int rule_add(lua_State *L) {
  struct cnet_netns *ns = lcnet_ns(L);
  struct cnet_rule_req req;
  const char *text = read_rule(L, "rule.add", &req);
  int rc = cnet_rule_add(ns, &req);
  if (rc < 0) return lcnet_raise(L, rc, "rule.add", text, cnet_netns_errmsg(ns));
  return 0;
}

/* cnet.rule.delete{...}: the fields given narrow which rule goes. */
static int rule_delete(lua_State *L) {
  struct cnet_netns *ns = lcnet_ns(L);
  struct cnet_rule_req req;
  const char *text = read_rule(L, "rule.delete", &req);
  int rc = cnet_rule_delete(ns, &req);
  if (rc < 0) return lcnet_raise(L, rc, "rule.delete", text, cnet_netns_errmsg(ns));
  return 0;
}

static void set_int(lua_State *L, const char *k, lua_Integer v) {
  lua_pushinteger(L, v);
  lua_setfield(L, -2, k);
}

static void set_str(lua_State *L, const char *k, const char *v) {
  lua_pushstring(L, v);
  lua_setfield(L, -2, k);
}

static void set_prefix(lua_State *L, const char *k, int family, const void *addr, unsigned len) {
  char buf[CNET_IPADDR_STRLEN];
  if (cnet_ipaddr_format_prefix(family, addr, len, buf, sizeof buf) == 0) set_str(L, k, buf);
}

/* Pushes {priority=, family=, from=, to=, fwmark=, ..., action=, table=} */
static int collect_cb(const struct cnet_rule *r, void *data) {
  struct lcnet_list *out = data;
  lua_State *L = out->L;
  lua_createtable(L, 0, 8);
  set_int(L, "priority", r->priority); /* the kernel leaves out a priority of 0 */
  set_str(L, "family", lcnet_family_name(r->family));
  if (r->src) set_prefix(L, "from", r->family, r->src, r->src_len);
  if (r->dst) set_prefix(L, "to", r->family, r->dst, r->dst_len);
  if (r->tos) set_int(L, "tos", r->tos);
  if (r->has_fwmark) set_int(L, "fwmark", r->fwmark);
  if (r->has_fwmask && r->fwmask != 0xffffffffu) set_int(L, "fwmask", r->fwmask); /* the default */
  if (r->iif) set_str(L, "iif", r->iif);
  if (r->oif) set_str(L, "oif", r->oif);
  const char *action = cnet_rule_action_name(r->action);
  if (action) set_str(L, "action", action);
  else set_int(L, "action", r->action);
  if (r->action == FR_ACT_TO_TBL) {
    const char *name = cnet_route_table_name(r->table);
    if (name) set_str(L, "table", name);
    else set_int(L, "table", r->table);
  }
  if (r->has_goto) set_int(L, "goto", r->goto_target);
  if (r->has_suppress_prefixlen) set_int(L, "suppress_prefixlength", r->suppress_prefixlen);
  if (r->flags & FIB_RULE_INVERT) {
    lua_pushboolean(L, 1);
    lua_setfield(L, -2, "invert");
  }
  if (r->flags & FIB_RULE_UNRESOLVED) {
    lua_pushboolean(L, 1);
    lua_setfield(L, -2, "unresolved");
  }
  if (r->protocol > 0) {
    const char *proto = cnet_route_protocol_name((uint8_t)r->protocol);
    if (proto) set_str(L, "protocol", proto);
    else set_int(L, "protocol", r->protocol);
  }
  lcnet_list_add(out);
  return 0;
}

struct list_ctx {
  struct cnet_netns *ns;
  int family;
};

/* Runs protected (lcnet_pdump). */
static int list_body(lua_State *L, void *data, int *rc) {
  struct list_ctx *x = data;
  lua_newtable(L);
  struct lcnet_list out = {L, 1, 0};
  *rc = cnet_rule_list(x->ns, x->family, collect_cb, lcnet_list_reset, &out);
  return *rc < 0 ? 0 : 1;
}

/* cnet.rule.list([{family=}]) -> { rule, ... } in priority order */
static int rule_list(lua_State *L) {
  struct cnet_netns *ns = lcnet_ns(L);
  static const char *const known[] = {"family", NULL};
  lcnet_check_options(L, 1, known);
  lua_settop(L, 1);
  struct list_ctx ctx = {ns, lua_istable(L, 1) ? lcnet_opt_family(L, 1, "family") : AF_UNSPEC};
  int rc = lcnet_pdump(L, ns, list_body, &ctx);
  if (rc < 0) return lcnet_raise(L, rc, "rule.list", NULL, cnet_netns_errmsg(ns));
  return 1;
}

void lcnet_open_rule(lua_State *L, int ns) {
  static const luaL_Reg fns[] = {{"add", rule_add}, {"delete", rule_delete}, {"list", rule_list},
                                 {NULL, NULL}};
  lcnet_bind_sub(L, "rule", fns, ns);
}
