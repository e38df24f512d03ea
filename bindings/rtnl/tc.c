/* cnet.tc: qdiscs and classes (add, replace, change, delete, list) and one-call shaping;
 * filters are tc_filter.c's.
 * Options are the kind's own, named as tc names them; values take numbers or tc's strings. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "cnet/link.h"
#include "cnet/tc.h"
#include "common/args.h"
#include "common/netarg.h"
#include "rtnl/ltc.h"

int ltc_bad_value(lua_State *L, const struct ltc_call *c, const char *key,
                  const char *text, const char *what, const char *example) {
  const char *q = lcnet_quote(L, text, strlen(text));
  lua_pushfstring(L, "%s: %s is not %s (e.g. %s)", key, q, what, example);
  return lcnet_raise(L, -EINVAL, c->op, c->object, lua_tostring(L, -1)); /* not user input */
}

static const char *const type_names[] = {"rate", "size", "time", "percentage"};
static const char *const type_examples[] = {"\"10mbit\", \"1.5mbps\", 1e6", "\"32kb\", 1500",
                                            "\"50ms\", 0.05", "\"1%\", 0.5"};

/* Reads option i of kind k (its value at the top of the stack) into o. */
static void read_value(lua_State *L, const struct ltc_call *c, const struct cnet_tc_kind *k,
                       unsigned i, struct cnet_tc_opts *o) {
  const struct cnet_tc_field *f = cnet_tc_kind_field_at(k, i);
  const char *key = f->name;
  int t = lua_type(L, -1);
  struct cnet_tc_num *n = &o->v[i];
  if (f->out_only) lcnet_field_fail(&c->f, key, "reported by the kernel, not set");
  switch (f->type) {
  case CNET_TC_RATE:
  case CNET_TC_SIZE:
  case CNET_TC_TIME:
  case CNET_TC_PERCENT: {
    int ti = (int)f->type;
    if (t == LUA_TNUMBER) {
      double max = f->type == CNET_TC_PERCENT ? 100 : 1e30;
      *n = (struct cnet_tc_num){lcnet_field_number(&c->f, key, 0, max, 0),
                                f->type == CNET_TC_TIME ? 1e9 : 1};
    } else if (t == LUA_TSTRING) {
      const char *text = lcnet_field_text(&c->f, key, 64, NULL, NULL);
      int rc = f->type == CNET_TC_RATE   ? cnet_tc_parse_rate(text, n)
               : f->type == CNET_TC_SIZE ? cnet_tc_parse_size(text, n)
               : f->type == CNET_TC_TIME ? cnet_tc_parse_time(text, n)
                                         : cnet_tc_parse_percent(text, n);
      if (rc < 0)
        ltc_bad_value(L, c, key, text, lua_pushfstring(L, "a %s", type_names[ti]),
                      type_examples[ti]);
    } else {
      lcnet_field_fail(&c->f, key, "%s expected (a number or a string such as %s), got %s",
                       type_names[ti], type_examples[ti], luaL_typename(L, -1));
    }
    break;
  }
  case CNET_TC_UINT:
    *n = (struct cnet_tc_num){(double)lcnet_field_int(&c->f, key, 0, 0xffffffffLL, 0), 1};
    break;
  case CNET_TC_BOOL:
    *n = (struct cnet_tc_num){lcnet_field_bool(&c->f, key, 0), 1};
    break;
  case CNET_TC_CLASS: {
    uint32_t id = 0;
    if (t == LUA_TNUMBER) {
      id = (uint32_t)lcnet_field_int(&c->f, key, 0, 0xffff, 0);
    } else if (t == LUA_TSTRING) {
      const char *text = lcnet_field_text(&c->f, key, 64, NULL, NULL);
      char buf[16];
      /* "10" is hex as in tc's `default 10`: the minor of class 1:10 */
      snprintf(buf, sizeof buf, strchr(text, ':') ? "%s" : "0:%s", text);
      if (strlen(text) > 9 || cnet_tc_parse_classid(buf, &id) < 0 || id == CNET_TC_ROOT ||
          id == CNET_TC_INGRESS)
        ltc_bad_value(L, c, key, text, "a class", "\"1:10\", \"10\"");
      id &= 0xffff;
    } else {
      lcnet_field_fail(&c->f, key, "class expected (\"1:10\"), got %s", luaL_typename(L, -1));
    }
    *n = (struct cnet_tc_num){id, 1};
    break;
  }
  case CNET_TC_LIST: {
    if (t != LUA_TTABLE)
      lcnet_field_fail(&c->f, key, "list of integers expected, got %s", luaL_typename(L, -1));
    lua_Integer len = (lua_Integer)lua_rawlen(L, -1);
    if (len < 1 || len > 16) lcnet_field_fail(&c->f, key, "1 to 16 entries");
    for (lua_Integer j = 1; j <= len; j++) {
      lua_rawgeti(L, -1, j);
      const char *what = lua_pushfstring(L, "field '%s' entry %d", key, (int)j);
      o->list[j - 1] = (uint8_t)lcnet_to_int(L, -2, c->f.arg, 0, 15, what);
      lua_pop(L, 2);
    }
    o->nlist = (unsigned)len;
    *n = (struct cnet_tc_num){(double)len, 1};
    break;
  }
  }
  o->given |= 1u << i;
}

/* Reads every key of the spec table except the `common` ones as an option of k. */
static void read_opts(lua_State *L, const struct ltc_call *c, const struct cnet_tc_kind *k,
                      const char *const common[], struct cnet_tc_opts *o) {
  memset(o, 0, sizeof *o);
  lua_pushnil(L);
  while (lua_next(L, c->f.idx) != 0) {
    const char *key = lcnet_try_text(L, -2, 64);
    if (key == NULL)
      lcnet_argerror(L, c->f.arg, NULL, "unknown option %s", lcnet_quote_value(L, -2));
    int skip = 0;
    for (const char *const *p = common; *p && !skip; p++) skip = strcmp(*p, key) == 0;
    if (!skip) {
      int i = k ? cnet_tc_kind_field(k, key) : -1;
      if (i < 0)
        lcnet_argerror(L, c->f.arg, NULL, "unknown option '%s' for %s", key,
                       k ? cnet_tc_kind_name(k) : "this kind");
      read_value(L, c, k, (unsigned)i, o);
    }
    lua_pop(L, 1);
  }
}

/* parent / handle / classid fields as handles */
static uint32_t opt_handle(lua_State *L, const struct ltc_call *c, const char *key, uint32_t dflt,
                           int qdisc_handle) {
  int t = lua_getfield(L, c->f.idx, key);
  lua_pop(L, 1);
  if (t == LUA_TNIL) return dflt;
  if (t == LUA_TNUMBER) return (uint32_t)lcnet_field_int(&c->f, key, 0, 0xffffffffLL, 0);
  if (t != LUA_TSTRING)
    lcnet_field_fail(&c->f, key, "handle expected (\"1:\", \"1:10\"), got %s",
                     lua_typename(L, t));
  const char *text = lcnet_field_text(&c->f, key, 64, NULL, NULL);
  uint32_t h = 0;
  int rc = qdisc_handle ? cnet_tc_parse_qdisc_handle(text, &h) : cnet_tc_parse_classid(text, &h);
  if (rc < 0)
    ltc_bad_value(L, c, key, text, qdisc_handle ? "a qdisc handle" : "a class or parent",
                  qdisc_handle ? "\"1:\"" : "\"1:10\", \"root\"");
  return h;
}

/* A batched request's failure comes back later, through this: the same explanation as at
 * once (upvalue 1: the kind). */
static int explain_later(lua_State *L) {
  int err = (int)lua_tointeger(L, 1);                           /* not user input: the batch's */
  const char *extack = lua_tostring(L, 2);                      /* not user input: the kernel's */
  const char *kind = lua_tostring(L, lua_upvalueindex(1));      /* not user input: ours */
  char buf[CNET_ERRMSG_MAX];
  int rc = cnet_tc_explain(err < 0 ? err : -err, extack ? extack : "", kind, buf);
  lua_pushinteger(L, err < 0 ? rc : -rc);
  lua_pushstring(L, buf);
  return 2;
}

static void send_change(lua_State *L, const struct ltc_call *c, int cls, enum cnet_tc_op op,
                        const struct cnet_tc_req *req) {
  lua_pushstring(L, c->object); /* a batch names the failure as the call would */
  lcnet_batch_note(L, LCNET_NOTE_OBJECT);
  if (!cls && req->kind != NULL) {
    lua_pushstring(L, cnet_tc_kind_name(req->kind));
    lua_pushcclosure(L, explain_later, 1);
    lcnet_batch_note(L, LCNET_NOTE_EXPLAIN);
  }
  int rc = cnet_tc_change(c->ns, cls, op, req);
  if (rc < 0) lcnet_raise(L, rc, c->op, c->object, cnet_netns_errmsg(c->ns));
}

/* ---- qdiscs ---- */

static const char *const qdisc_common[] = {"kind", "parent", "handle", NULL};

/* add/replace/change(dev, {kind=, parent=, handle=, options...}) */
static int qdisc_change(lua_State *L, const char *op, enum cnet_tc_op what) {
  struct cnet_netns *ns = lcnet_ns(L);
  luaL_checktype(L, 2, LUA_TTABLE);
  const char *dev;
  int index = lcnet_dev_arg(L, ns, 1, op, &dev);
  lcnet_fields f = lcnet_fields_of(L, 2);
  const char *kname = lcnet_field_text(&f, "kind", 32, NULL, NULL);
  if (kname == NULL) lcnet_field_fail(&f, "kind", "required (\"tbf\", \"htb\", ...)");
  struct ltc_call c = {ns, op, lua_pushfstring(L, "%s %s", dev, kname), f};
  const struct cnet_tc_kind *k = cnet_tc_kind_find(kname, 0);
  if (k == NULL) lcnet_argerror(L, 2, NULL, "unknown qdisc kind '%s'", kname);
  struct cnet_tc_opts o;
  read_opts(L, &c, k, qdisc_common, &o);
  struct cnet_tc_req req = {index, opt_handle(L, &c, "handle", 0, 1),
                            opt_handle(L, &c, "parent", CNET_TC_ROOT, 0), k, &o};
  send_change(L, &c, 0, what, &req);
  return 0;
}

static int qdisc_add(lua_State *L) { return qdisc_change(L, "tc.qdisc.add", CNET_TC_ADD); }
static int qdisc_replace(lua_State *L) { return qdisc_change(L, "tc.qdisc.replace", CNET_TC_REPLACE); }
static int qdisc_modify(lua_State *L) { return qdisc_change(L, "tc.qdisc.change", CNET_TC_CHANGE); }

/* delete(dev [, {parent=, handle=, kind=}]): the root qdisc by default */
static int qdisc_delete(lua_State *L) {
  struct cnet_netns *ns = lcnet_ns(L);
  const char *dev;
  int index = lcnet_dev_arg(L, ns, 1, "tc.qdisc.delete", &dev);
  lcnet_check_options(L, 2, qdisc_common);
  struct ltc_call c = {ns, "tc.qdisc.delete", dev, lcnet_fields_of(L, 2)};
  struct cnet_tc_req req = {index, 0, CNET_TC_ROOT, NULL, NULL};
  if (lua_istable(L, 2)) {
    const char *kname = lcnet_field_text(&c.f, "kind", 32, NULL, NULL);
    if (kname && (req.kind = cnet_tc_kind_find(kname, 0)) == NULL)
      lcnet_argerror(L, 2, NULL, "unknown qdisc kind '%s'", kname);
    req.handle = opt_handle(L, &c, "handle", 0, 1);
    req.parent = opt_handle(L, &c, "parent", req.handle ? 0 : CNET_TC_ROOT, 0);
    if (req.kind && (strcmp(kname, "ingress") == 0 || strcmp(kname, "clsact") == 0)) {
      req.parent = CNET_TC_INGRESS;
      req.handle = 0xffff0000u;
    }
  }
  char label[64];
  cnet_tc_format_classid(req.handle ? req.handle : req.parent, label, sizeof label);
  if (req.parent == CNET_TC_INGRESS) snprintf(label, sizeof label, "ingress");
  c.object = lua_pushfstring(L, "%s %s", dev, label);
  req.kind = NULL; /* the kernel finds it by parent/handle; a kind would only be compared */
  send_change(L, &c, 0, CNET_TC_DELETE, &req);
  return 0;
}

/* ---- results ---- */

static void push_handle(lua_State *L, uint32_t h, int qdisc) {
  char buf[16];
  if (qdisc) cnet_tc_format_handle(h, buf, sizeof buf);
  else cnet_tc_format_classid(h, buf, sizeof buf);
  lua_pushstring(L, buf);
}

/* Sets the decoded options of info into the table on top. */
static void push_values(lua_State *L, const struct cnet_tc_info *info) {
  for (unsigned i = 0; i < info->nvalues; i++) {
    const struct cnet_tc_value *v = &info->values[i];
    switch (v->field->type) {
    case CNET_TC_RATE:
      if (v->u <= (uint64_t)INT64_MAX / 8) lua_pushinteger(L, (lua_Integer)(v->u * 8));
      else lua_pushnumber(L, (double)v->u * 8);
      break;
    case CNET_TC_TIME:
    case CNET_TC_PERCENT: lua_pushnumber(L, v->d); break;
    case CNET_TC_BOOL: lua_pushboolean(L, v->u != 0); break;
    case CNET_TC_CLASS: push_handle(L, (info->handle & 0xffff0000u) | (uint32_t)v->u, 0); break;
    case CNET_TC_LIST:
      lua_createtable(L, (int)v->u, 0);
      for (unsigned j = 0; j < v->u && j < 16; j++) {
        lua_pushinteger(L, info->list[j]);
        lua_rawseti(L, -2, j + 1);
      }
      break;
    default: lua_pushinteger(L, (lua_Integer)v->u); break;
    }
    lua_setfield(L, -2, v->field->name);
  }
}

static void setint(lua_State *L, const char *k, lua_Integer v) {
  lua_pushinteger(L, v);
  lua_setfield(L, -2, k);
}

/* Pushes the table describing one qdisc or class (dev left to the caller). */
static void push_info(lua_State *L, const struct cnet_tc_info *info) {
  lua_createtable(L, 0, 8 + (int)info->nvalues);
  setint(L, "index", info->index);
  lua_pushstring(L, info->kind);
  lua_setfield(L, -2, "kind");
  push_handle(L, info->handle, !info->cls);
  lua_setfield(L, -2, info->cls ? "classid" : "handle");
  push_handle(L, info->parent, 0);
  lua_setfield(L, -2, "parent");
  push_values(L, info);
  if (info->stats.present) {
    lua_createtable(L, 0, 7);
    setint(L, "bytes", (lua_Integer)info->stats.bytes);
    setint(L, "packets", (lua_Integer)info->stats.packets);
    setint(L, "drops", info->stats.drops);
    setint(L, "overlimits", info->stats.overlimits);
    setint(L, "requeues", info->stats.requeues);
    setint(L, "backlog", info->stats.backlog);
    setint(L, "qlen", info->stats.qlen);
    lua_setfield(L, -2, "stats");
  }
}

struct collect {
  lua_State *L;
  int list, n;
};

static int collect_cb(const struct cnet_tc_info *info, void *data) {
  struct collect *c = data;
  push_info(c->L, info);
  lua_rawseti(c->L, c->list, ++c->n);
  return 0;
}

static void collect_reset(void *data) {
  struct collect *c = data;
  lua_newtable(c->L);
  lua_replace(c->L, c->list);
  c->n = 0;
}

struct list_ctx {
  struct cnet_netns *ns;
  int cls, index;
};

/* Runs protected (lcnet_pdump): the dump, then the device names. */
static int list_body(lua_State *L, void *data, int *rc) {
  struct list_ctx *x = data;
  lua_newtable(L); /* 1: result */
  lua_newtable(L); /* 2: index -> name */
  struct collect c = {L, 1, 0};
  *rc = cnet_tc_list(x->ns, x->cls, x->index, collect_cb, collect_reset, &c);
  if (*rc < 0) return 0;
  for (int i = 1; i <= c.n; i++) {
    lua_rawgeti(L, 1, i);
    lua_getfield(L, -1, "index");
    int index = (int)lua_tointeger(L, -1); /* not user input: the dump's index */
    if (lua_rawgeti(L, 2, index) == LUA_TNIL) {
      char name[CNET_IFNAMSIZ];
      lua_pop(L, 1);
      if (cnet_link_name(x->ns, index, name) < 0) snprintf(name, sizeof name, "if%d", index);
      lua_pushstring(L, name);
      lua_pushvalue(L, -1);
      lua_rawseti(L, 2, index);
    }
    lua_setfield(L, -3, "dev");
    lua_pop(L, 2);
  }
  lua_settop(L, 1);
  return 1;
}

static int list(lua_State *L, int cls, const char *op) {
  struct cnet_netns *ns = lcnet_ns(L);
  const char *dev = NULL;
  int index = 0;
  if (cls || !lua_isnoneornil(L, 1)) index = lcnet_dev_arg(L, ns, 1, op, &dev);
  struct list_ctx ctx = {ns, cls, index};
  int rc = lcnet_pdump(L, ns, list_body, &ctx);
  if (rc < 0) return lcnet_raise(L, rc, op, dev, cnet_netns_errmsg(ns));
  return 1;
}

/* list([dev]) -> { {dev=, index=, kind=, handle=, parent=, options..., stats=}, ... } */
static int qdisc_list(lua_State *L) { return list(L, 0, "tc.qdisc.list"); }

/* ---- classes ---- */

static const char *const class_common[] = {"kind", "parent", "classid", NULL};

/* add/replace/change(dev, {classid=, parent=, kind="htb", options...}) */
static int class_change(lua_State *L, const char *op, enum cnet_tc_op what) {
  struct cnet_netns *ns = lcnet_ns(L);
  luaL_checktype(L, 2, LUA_TTABLE);
  const char *dev;
  int index = lcnet_dev_arg(L, ns, 1, op, &dev);
  lcnet_fields f = lcnet_fields_of(L, 2);
  const char *kname = lcnet_field_text(&f, "kind", 32, "htb", NULL);
  const struct cnet_tc_kind *k = cnet_tc_kind_find(kname, 1);
  if (k == NULL) lcnet_argerror(L, 2, NULL, "unknown class kind '%s' (cnet knows htb)", kname);
  int idtype = lua_getfield(L, 2, "classid");
  lua_pop(L, 1);
  if (idtype == LUA_TNIL) lcnet_field_fail(&f, "classid", "required (\"1:10\")");
  const char *idtext = idtype == LUA_TSTRING ? lcnet_field_text(&f, "classid", 64, NULL, NULL)
                                             : NULL;
  struct ltc_call c = {ns, op, lua_pushfstring(L, "%s %s", dev, idtext ? idtext : "?"), f};
  struct cnet_tc_opts o;
  read_opts(L, &c, k, class_common, &o);
  uint32_t classid = opt_handle(L, &c, "classid", 0, 0);
  if (idtext == NULL) {
    char buf[16];
    cnet_tc_format_classid(classid, buf, sizeof buf);
    c.object = lua_pushfstring(L, "%s %s", dev, buf);
  }
  /* the parent defaults to the qdisc the class belongs to (major:0) */
  struct cnet_tc_req req = {index, classid, opt_handle(L, &c, "parent", classid & 0xffff0000u, 0),
                            k, &o};
  send_change(L, &c, 1, what, &req);
  return 0;
}

static int class_add(lua_State *L) { return class_change(L, "tc.class.add", CNET_TC_ADD); }
static int class_replace(lua_State *L) { return class_change(L, "tc.class.replace", CNET_TC_REPLACE); }
static int class_modify(lua_State *L) { return class_change(L, "tc.class.change", CNET_TC_CHANGE); }

/* delete(dev, classid) */
static int class_delete(lua_State *L) {
  struct cnet_netns *ns = lcnet_ns(L);
  const char *dev;
  int index = lcnet_dev_arg(L, ns, 1, "tc.class.delete", &dev);
  const char *id = lcnet_check_text(L, 2, 64, "class id", NULL);
  struct ltc_call c = {ns, "tc.class.delete", lua_pushfstring(L, "%s %s", dev, id),
                       lcnet_fields_of(L, 2)};
  uint32_t classid;
  if (cnet_tc_parse_classid(id, &classid) < 0 || classid == CNET_TC_ROOT || classid == 0)
    lcnet_raise(L, -EINVAL, c.op, c.object, "not a class id (\"1:10\")");
  struct cnet_tc_req req = {index, classid, 0, NULL, NULL};
  send_change(L, &c, 1, CNET_TC_DELETE, &req);
  return 0;
}

/* list(dev) -> { {dev=, index=, kind=, classid=, parent=, options..., stats=}, ... } */
static int class_list(lua_State *L) { return list(L, 1, "tc.class.list"); }

/* ---- shaping in one call ---- */

static const char *const netem_only[] = {"delay", "jitter", "loss", "duplicate", "corrupt",
                                         "reorder", NULL};

static int given(const struct cnet_tc_opts *o, int i) { return i >= 0 && (o->given >> i & 1); }

/* Sets option `key` of kind k in o to v unless it was given. */
static void set_default(const struct cnet_tc_kind *k, const char *key, struct cnet_tc_num v,
                        struct cnet_tc_opts *o) {
  int i = cnet_tc_kind_field(k, key);
  if (i < 0 || given(o, i)) return;
  o->v[i] = v;
  o->given |= 1u << i;
}

/* shape(dev, {rate=, burst=, latency=, limit=, delay=, jitter=, loss=, duplicate=, corrupt=,
 * reorder=}) -> "tbf" | "netem": replaces the root qdisc. */
static int tc_shape(lua_State *L) {
  struct cnet_netns *ns = lcnet_ns(L);
  luaL_checktype(L, 2, LUA_TTABLE);
  static const char *const known[] = {"rate", "burst", "latency", "limit", "delay", "jitter",
                                      "loss", "duplicate", "corrupt", "reorder", NULL};
  lcnet_check_options(L, 2, known);
  const char *dev;
  int index = lcnet_dev_arg(L, ns, 1, "tc.shape", &dev);
  struct ltc_call c = {ns, "tc.shape", dev, lcnet_fields_of(L, 2)};
  int netem = 0;
  for (const char *const *p = netem_only; *p; p++) {
    netem |= lua_getfield(L, 2, *p) != LUA_TNIL;
    lua_pop(L, 1);
  }
  const struct cnet_tc_kind *k = cnet_tc_kind_find(netem ? "netem" : "tbf", 0);
  if (netem) {
    static const char *const tbf_only[] = {"burst", "latency", NULL};
    for (const char *const *p = tbf_only; *p; p++) {
      if (lua_getfield(L, 2, *p) != LUA_TNIL)
        lcnet_argerror(L, 2, NULL, "'%s' shapes with tbf; with delay or loss cnet uses netem "
                                   "(its rate and limit)", *p);
      lua_pop(L, 1);
    }
  } else if (lua_getfield(L, 2, "rate") == LUA_TNIL) {
    luaL_argerror(L, 2, "give rate, or delay/jitter/loss/duplicate/corrupt/reorder");
  }
  struct cnet_tc_opts o;
  read_opts(L, &c, k, (const char *const[]){NULL}, &o);
  if (!netem) {
    /* burst: 10 ms worth of the rate, at least 16 KiB; a queue of 50 ms */
    int r = cnet_tc_kind_field(k, "rate");
    double bytes10ms = o.v[r].num * o.v[r].unit / 8 / 100;
    set_default(k, "burst", (struct cnet_tc_num){bytes10ms > 16384 ? floor(bytes10ms) : 16384, 1}, &o);
    if (!given(&o, cnet_tc_kind_field(k, "limit")))
      set_default(k, "latency", (struct cnet_tc_num){50, 1e6}, &o);
  }
  struct cnet_tc_req req = {index, 0, CNET_TC_ROOT, k, &o};
  lua_pushstring(L, cnet_tc_kind_name(k));
  lua_pushcclosure(L, explain_later, 1);
  lcnet_batch_note(L, LCNET_NOTE_EXPLAIN);
  /* shape's own refusal is decided at once; a batch still defers the request */
  int rc = cnet_tc_change(ns, 0, CNET_TC_REPLACE, &req);
  if (rc == -EOPNOTSUPP && netem) {
    return lcnet_raise(L, rc, c.op, dev,
                       "delay, jitter, loss, duplicate, corrupt and reorder need the netem "
                       "qdisc, which this kernel lacks (module sch_netem); nothing was changed. "
                       "Shape the rate alone with {rate=...} (tbf)");
  }
  if (rc < 0) return lcnet_raise(L, rc, c.op, dev, cnet_netns_errmsg(ns));
  lua_pushstring(L, cnet_tc_kind_name(k));
  return 1;
}

static int root_cb(const struct cnet_tc_info *info, void *data) {
  if (!info->cls && info->parent == CNET_TC_ROOT) *(uint32_t *)data = info->handle | 1;
  return 0;
}

/* unshape(dev) -> true when a root qdisc was removed, false when the device had its default */
static int tc_unshape(lua_State *L) {
  struct cnet_netns *ns = lcnet_ns(L);
  const char *dev;
  int index = lcnet_dev_arg(L, ns, 1, "tc.unshape", &dev);
  uint32_t root = 0; /* handle | 1 when found: the default qdiscs have handle 0 */
  int rc = cnet_tc_list(ns, 0, index, root_cb, NULL, &root);
  if (rc < 0) return lcnet_raise(L, rc, "tc.unshape", dev, cnet_netns_errmsg(ns));
  if ((root & 0xffff0000u) == 0) {
    lua_pushboolean(L, 0);
    return 1;
  }
  struct cnet_tc_req req = {index, 0, CNET_TC_ROOT, NULL, NULL};
  struct ltc_call c = {ns, "tc.unshape", dev, lcnet_fields_of(L, 1)};
  send_change(L, &c, 0, CNET_TC_DELETE, &req);
  lua_pushboolean(L, 1);
  return 1;
}

void lcnet_open_tc(lua_State *L, int ns) {
  static const luaL_Reg qdisc[] = {{"add", qdisc_add},       {"replace", qdisc_replace},
                                   {"change", qdisc_modify}, {"delete", qdisc_delete},
                                   {"list", qdisc_list},     {NULL, NULL}};
  static const luaL_Reg cls[] = {{"add", class_add},       {"replace", class_replace},
                                 {"change", class_modify}, {"delete", class_delete},
                                 {"list", class_list},     {NULL, NULL}};
  static const luaL_Reg top[] = {{"shape", tc_shape}, {"unshape", tc_unshape}, {NULL, NULL}};
  ns = lua_absindex(L, ns);
  lcnet_bind_sub(L, "tc", top, ns);
  lua_getfield(L, -1, "tc");
  lcnet_bind_named(L, "qdisc", "tc.qdisc", qdisc, ns);
  lcnet_bind_named(L, "class", "tc.class", cls, ns);
  lcnet_open_tc_filter(L, ns);
  lua_pop(L, 1);
}

/* One qdisc or class table as tc.qdisc.list / tc.class.list give it, without dev. */
void lcnet_push_tc(lua_State *L, const struct cnet_tc_info *info) { push_info(L, info); }
