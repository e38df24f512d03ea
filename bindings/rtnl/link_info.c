/* cnet.link: a kind's fields and a port's fields, from the core's tables (cnet/linkinfo.h) to
 * Lua values and back. Listing and requests share the names, so a listed `info` table can be
 * given back to link.add. */
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>

#include "cnet/lladdr.h"
#include "cnet/linkinfo.h"
#include "common/args.h"
#include "common/netarg.h"
#include "rtnl/llink.h"

/* ---- listing ---- */

/* A user or group id by name, as ip shows it, or the number when it has none. */
static void push_id(lua_State *L, const struct cnet_link_field *f, uint32_t id) {
  char buf[1024];
  if (strcmp(f->name, "group") == 0) {
    struct group g, *r = NULL;
    if (getgrgid_r(id, &g, buf, sizeof buf, &r) == 0 && r) {
      lua_pushstring(L, r->gr_name);
      return;
    }
  } else {
    struct passwd pw, *r = NULL;
    if (getpwuid_r(id, &pw, buf, sizeof buf, &r) == 0 && r) {
      lua_pushstring(L, r->pw_name);
      return;
    }
  }
  lua_pushinteger(L, id);
}

struct push_ctx {
  lua_State *L;
  struct cnet_netns *ns;
};

/* Sets the field's value in the table on top. */
static int push_field(const struct cnet_link_field *f, const struct cnet_link_value *v, void *data) {
  struct push_ctx *c = data;
  lua_State *L = c->L;
  char text[CNET_IPADDR_STRLEN];
  const char *name = f->name;
  switch (f->type) {
  case CNET_LF_UINT:
  case CNET_LF_BE:
  case CNET_LF_BOOLOPT: /* ip shows these as numbers: 0 or 1 */
    lua_pushinteger(L, (lua_Integer)v->u);
    break;
  case CNET_LF_BOOL:
  case CNET_LF_FLAG:
  case CNET_LF_BIT: lua_pushboolean(L, v->u != 0); break;
  case CNET_LF_ENUM:
    if (v->name) lua_pushstring(L, v->name);
    else lua_pushinteger(L, (lua_Integer)v->u);
    break;
  case CNET_LF_ADDR:
    if (cnet_ipaddr_format(v->addr.family, v->addr.bytes, text, sizeof text) < 0) return 0;
    if (v->addr.family == AF_INET6 && f->name6) name = f->name6;
    lua_pushstring(L, text);
    break;
  case CNET_LF_MAC: llink_push_mac(L, v->bytes, v->len); break;
  case CNET_LF_BRID: { /* as ip shows it: priority bytes, then the address unpadded */
    char buf[64];
    const unsigned char *b = v->bytes;
    snprintf(buf, sizeof buf, "%02x%02x.%x:%x:%x:%x:%x:%x", b[0], b[1], b[2], b[3], b[4], b[5],
             b[6], b[7]);
    lua_pushstring(L, buf);
    break;
  }
  case CNET_LF_IFINDEX: {
    char dev[CNET_IFNAMSIZ];
    if (c->ns && cnet_link_name_nowait(c->ns, (int)v->u, dev) == 0) lua_pushstring(L, dev);
    else lua_pushinteger(L, (lua_Integer)v->u);
    break;
  }
  case CNET_LF_ID: push_id(L, f, (uint32_t)v->u); break;
  case CNET_LF_RANGE:
    lua_createtable(L, 0, 2);
    lua_pushinteger(L, v->lo);
    lua_setfield(L, -2, "low");
    lua_pushinteger(L, v->hi);
    lua_setfield(L, -2, "high");
    break;
  case CNET_LF_MACLIST: {
    lua_createtable(L, (int)v->count, 0);
    const void *pos = NULL;
    const unsigned char *mac;
    for (lua_Integer i = 1; (mac = cnet_link_maclist_next(v, &pos)) != NULL; i++) {
      llink_push_mac(L, mac, 6);
      lua_rawseti(L, -2, i);
    }
    break;
  }
  default: return 0;
  }
  lua_setfield(L, -2, name);
  return 0;
}

void llink_push_details(lua_State *L, struct cnet_netns *ns, const struct cnet_link *l) {
  struct push_ctx c = {L, ns};
  unsigned n;
  if (l->info_data && cnet_link_fields(l->kind, 0, &n)) {
    lua_createtable(L, 0, (int)n);
    cnet_link_details(l, 0, push_field, &c);
    lua_setfield(L, -2, "info");
  }
  if (l->port_kind) {
    lua_pushstring(L, l->port_kind);
    lua_setfield(L, -2, "port_kind");
  }
  if (l->port_data && cnet_link_fields(l->port_kind, 1, &n)) {
    lua_createtable(L, 0, (int)n);
    cnet_link_details(l, 1, push_field, &c);
    lua_setfield(L, -2, "port");
  }
}

/* ---- requests ---- */

int llink_known_field(const char *name) { return cnet_link_field_known(name); }

struct reader {
  lua_State *L;
  int anchor;        /* stack index of a table keeping buffers alive */
  lcnet_fields fs;   /* the options table, for the argument layer's field readers */
  struct cnet_netns *ns;
  const char *op, *object;
};

/* "key" or "path.key", pushed. */
static const char *label(const struct reader *r, const char *key) {
  return r->fs.path ? lua_pushfstring(r->L, "%s.%s", r->fs.path, key) : lua_pushstring(r->L, key);
}

/* An integer field, 0..max. */
static uint64_t read_uint(const struct reader *r, const char *key, uint64_t max) {
  return (uint64_t)lcnet_field_int(&r->fs, key, 0, max > INT64_MAX ? INT64_MAX : (lua_Integer)max, 0);
}

/* A boolean field. */
static uint64_t read_bool(const struct reader *r, const char *key) {
  return (uint64_t)lcnet_field_bool(&r->fs, key, 0);
}

/* An enumeration by name (or its number). */
static uint64_t read_enum(const struct reader *r, const char *key, int type,
                          const struct cnet_link_field *f) {
  if (type == LUA_TNUMBER) return read_uint(r, key, (UINT64_C(1) << (8 * f->size)) - 1);
  const char *names[16];
  unsigned n = 0;
  for (const struct cnet_lf_name *p = f->names; p->name && n < 15; p++) names[n++] = p->name;
  names[n] = NULL;
  int i = lcnet_field_enum(&r->fs, key, NULL, names);
  return f->names[i].value;
}

static void read_mac(const struct reader *r, const char *text, unsigned char *buf, unsigned *len) {
  if (cnet_lladdr_parse(text, buf, len) < 0) {
    char detail[96];
    snprintf(detail, sizeof detail, "invalid mac address \"%.40s\"", text);
    lcnet_raise(r->L, -EINVAL, r->op, r->object, detail);
  }
}

static void read_addr(const struct reader *r, const char *key, const struct cnet_link_field *f,
                      struct cnet_ipaddr *out) {
  const char *text = lcnet_field_text(&r->fs, key, 64, NULL, NULL);
  /* "remote6" takes IPv6 only; "remote" either family */
  int family = f->name6 && strcmp(key, f->name6) == 0 ? AF_INET6 : AF_UNSPEC;
  if (cnet_ipaddr_parse(text, family, out) < 0) {
    char detail[128];
    snprintf(detail, sizeof detail, "invalid %saddress \"%.64s\"", family ? "IPv6 " : "", text);
    lcnet_raise(r->L, -EINVAL, r->op, r->object, detail);
  }
}

/* A user (or group) id: a number, or a name looked up in the system's databases. */
static uint64_t read_id(const struct reader *r, const char *key, int type,
                        const struct cnet_link_field *f) {
  if (type == LUA_TNUMBER) return read_uint(r, key, cnet_link_field_max(f));
  const char *name = lcnet_field_text(&r->fs, key, 256, NULL, NULL);
  char buf[1024];
  int group = strcmp(f->name, "group") == 0;
  if (group) {
    struct group g, *res = NULL;
    if (getgrnam_r(name, &g, buf, sizeof buf, &res) == 0 && res) return res->gr_gid;
  } else {
    struct passwd pw, *res = NULL;
    if (getpwnam_r(name, &pw, buf, sizeof buf, &res) == 0 && res) return res->pw_uid;
  }
  char detail[96];
  snprintf(detail, sizeof detail, "no such %s \"%.40s\"", group ? "group" : "user", name);
  return (uint64_t)lcnet_raise(r->L, -EINVAL, r->op, r->object, detail);
}

/* {low=, high=}: the table is on top of the stack. */
static void read_range(const struct reader *r, const char *key, struct cnet_link_value *v) {
  lcnet_fields in = lcnet_fields_in(&r->fs, lua_gettop(r->L), key);
  static const char *const known[] = {"low", "high", NULL};
  lcnet_field_check_keys(&in, known);
  lua_Integer lo = lcnet_field_int(&in, "low", 0, 65535, -1);
  lua_Integer hi = lcnet_field_int(&in, "high", 0, 65535, -1);
  if (lo < 0 || hi < 0) lcnet_field_fail(&r->fs, key, "low and high required");
  if (lo > hi) lcnet_field_fail(&r->fs, key, "low above high");
  v->lo = (uint16_t)lo;
  v->hi = (uint16_t)hi;
}

/* A list of macs (the table on top of the stack), into a userdata kept by the anchor. */
static void read_maclist(const struct reader *r, const char *key, struct cnet_link_value *v) {
  lua_State *L = r->L;
  int t = lua_gettop(L);
  lua_Integer n = luaL_len(L, t);
  if (n < 0 || n > 4096) lcnet_field_fail(&r->fs, key, "at most 4096 addresses");
  unsigned char *buf = lua_newuserdatauv(L, (size_t)(n ? n : 1) * 6, 0);
  lua_rawseti(L, r->anchor, luaL_len(L, r->anchor) + 1); /* alive until the call returns */
  const char *what = lua_pushfstring(L, "field '%s' item", label(r, key));
  for (lua_Integer i = 1; i <= n; i++) {
    lua_rawgeti(L, t, i);
    const char *text = lcnet_to_text(L, -1, r->fs.arg, 64, what, NULL);
    unsigned char mac[32];
    unsigned len = 0;
    read_mac(r, text, mac, &len);
    if (len != 6) lcnet_raise(L, -EINVAL, r->op, r->object, "a source address has 6 bytes");
    memcpy(buf + 6 * (i - 1), mac, 6);
    lua_pop(L, 1);
  }
  v->bytes = buf;
  v->count = (unsigned)n;
}

/* Reads option `key` of the table (its value on top of the stack) as field f. */
static void read_value(const struct reader *r, const char *key, const struct cnet_link_field *f,
                       struct cnet_link_opt *o, unsigned char *bytes) {
  lua_State *L = r->L;
  struct cnet_link_value *v = &o->value;
  int type = lua_type(L, -1);
  memset(o, 0, sizeof *o);
  o->field = f;
  switch (f->type) {
  case CNET_LF_UINT:
  case CNET_LF_BE:
  case CNET_LF_BOOLOPT: v->u = read_uint(r, key, cnet_link_field_max(f)); break;
  case CNET_LF_BOOL:
  case CNET_LF_FLAG:
  case CNET_LF_BIT: v->u = read_bool(r, key); break;
  case CNET_LF_ENUM: v->u = read_enum(r, key, type, f); break;
  case CNET_LF_ADDR: read_addr(r, key, f, &v->addr); break;
  case CNET_LF_MAC:
    read_mac(r, lcnet_field_text(&r->fs, key, 128, NULL, NULL), bytes, &v->len);
    v->bytes = bytes;
    break;
  case CNET_LF_IFINDEX: {
    int at = lua_gettop(L);
    const char *what = label(r, key);
    v->u = (uint64_t)lcnet_ifindex(L, r->ns, at, r->fs.arg, r->op, r->object, what);
    break;
  }
  case CNET_LF_ID: v->u = read_id(r, key, type, f); break;
  case CNET_LF_RANGE:
    if (type != LUA_TTABLE) lcnet_field_fail(&r->fs, key, "{low=, high=} expected, got %s", luaL_typename(L, -1));
    read_range(r, key, v);
    break;
  case CNET_LF_MACLIST:
    if (type != LUA_TTABLE) lcnet_field_fail(&r->fs, key, "list of mac addresses expected, got %s", luaL_typename(L, -1));
    read_maclist(r, key, v);
    break;
  default: lcnet_field_fail(&r->fs, key, "cannot be set");
  }
}

static int skipped(const char *key, const char *const skip[]) {
  for (int i = 0; skip && skip[i]; i++)
    if (strcmp(skip[i], key) == 0) return 1;
  return 0;
}

void llink_read_opts(lua_State *L, int idx, int arg, const char *path, const char *kind,
                     int port, const char *const skip[], struct cnet_netns *ns, const char *op,
                     const char *object, struct llink_opts *opts) {
  idx = lua_absindex(L, idx);
  lua_newtable(L);
  struct reader r = {L, lua_gettop(L), {L, idx, arg, path}, ns, op, object};
  opts->n = 0;
  lua_pushnil(L);
  while (lua_next(L, idx) != 0) {
    int top = lua_gettop(L);
    const char *key = lcnet_try_text(L, -2, 64); /* NULL: not a plain short string */
    if (key == NULL) {
      const char *what = lcnet_quote_value(L, -2);
      if (path) lcnet_argerror(L, arg, NULL, "unknown option %s in '%s'", what, path);
      lcnet_argerror(L, arg, NULL, "unknown option %s", what);
    }
    if (skipped(key, skip)) {
      lua_pop(L, 1);
      continue;
    }
    const struct cnet_link_field *f = cnet_link_field_find(kind, port, key);
    if (f == NULL) {
      const char *l = label(&r, key);
      if (port)
        luaL_argerror(L, arg, lua_pushfstring(L, "unknown option '%s' for a port of a %s", l, kind));
      if (llink_known_field(key) && kind[0] == '\0')
        luaL_argerror(L, arg, lua_pushfstring(L, "option '%s' is not for a device without a kind", l));
      if (llink_known_field(key))
        luaL_argerror(L, arg, lua_pushfstring(L, "option '%s' is not for type %s", l, kind));
      luaL_argerror(L, arg, lua_pushfstring(L, "unknown option '%s'", l));
    }
    if (f->flags & CNET_LF_RO) lcnet_field_fail(&r.fs, key, "read-only (the kernel only reports it)");
    for (unsigned i = 0; i < opts->n; i++) {
      const struct cnet_link_field *g = opts->o[i].field;
      if (g->attr == f->attr && f->type != CNET_LF_BIT && f->type != CNET_LF_BOOLOPT)
        lcnet_field_fail(&r.fs, key, "given twice (as '%s' too)", g->name);
    }
    if (opts->n == CNET_LINK_MAX_OPTS) luaL_argerror(L, arg, "too many options");
    /* an alias stands for its field in the request */
    const struct cnet_link_field *target = f;
    if (f->flags & CNET_LF_ALIAS) {
      unsigned n;
      const struct cnet_link_field *all = cnet_link_fields(kind, port, &n);
      for (unsigned i = 0; i < n; i++)
        if (all[i].attr == f->attr && !(all[i].flags & CNET_LF_ALIAS) && all[i].type == f->type)
          target = &all[i];
    }
    read_value(&r, key, target, &opts->o[opts->n], opts->bytes[opts->n]);
    opts->n++;
    lua_settop(L, top - 1); /* the key, for lua_next */
  }
}

/* ---- the tables themselves ---- */

static const char *type_name(const struct cnet_link_field *f) {
  switch (f->type) {
  case CNET_LF_UINT:
  case CNET_LF_BE:
  case CNET_LF_BOOLOPT: return "integer";
  case CNET_LF_BOOL:
  case CNET_LF_FLAG:
  case CNET_LF_BIT: return "boolean";
  case CNET_LF_ENUM: return "name";
  case CNET_LF_ADDR: return "address";
  case CNET_LF_MAC: return "mac";
  case CNET_LF_IFINDEX: return "device";
  case CNET_LF_ID: return strcmp(f->name, "group") == 0 ? "group" : "user";
  case CNET_LF_RANGE: return "range";
  case CNET_LF_MACLIST: return "macs";
  case CNET_LF_BRID: return "bridge id";
  default: return "?";
  }
}

/* cnet.link.fields(kind [, "port"]) -> { {name=, type=, readonly=, alias_of=, values=, max=}, ... } */
int llink_fields(lua_State *L) {
  lcnet_self_arg(L); /* ns.link:fields(...) as ns.link.fields(...) */
  const char *kind = lcnet_check_text(L, 1, 64, "kind", NULL);
  static const char *const which[] = {"kind", "port", NULL};
  int port = lcnet_check_enum(L, 2, "kind", which, "fields");
  unsigned n;
  const struct cnet_link_field *f = cnet_link_fields(kind, port, &n);
  lua_createtable(L, (int)n, 0);
  for (unsigned i = 0; i < n; i++) {
    lua_createtable(L, 0, 6);
    lua_pushstring(L, f[i].name);
    lua_setfield(L, -2, "name");
    lua_pushstring(L, type_name(&f[i]));
    lua_setfield(L, -2, "type");
    lua_pushboolean(L, (f[i].flags & CNET_LF_RO) != 0);
    lua_setfield(L, -2, "readonly");
    if (f[i].name6) {
      lua_pushstring(L, f[i].name6);
      lua_setfield(L, -2, "name6");
    }
    if (f[i].flags & CNET_LF_ALIAS) {
      for (unsigned j = 0; j < n; j++)
        if (f[j].attr == f[i].attr && !(f[j].flags & CNET_LF_ALIAS)) {
          lua_pushstring(L, f[j].name);
          lua_setfield(L, -2, "alias_of");
          break;
        }
    }
    uint64_t max = cnet_link_field_max(&f[i]);
    if (max > 1 && max < (uint64_t)INT64_MAX && strcmp(type_name(&f[i]), "integer") == 0) {
      lua_pushinteger(L, (lua_Integer)max);
      lua_setfield(L, -2, "max");
    }
    if (f[i].type == CNET_LF_ENUM) {
      lua_newtable(L);
      lua_Integer k = 1;
      for (const struct cnet_lf_name *p = f[i].names; p->name; p++) {
        lua_pushstring(L, p->name);
        lua_rawseti(L, -2, k++);
      }
      lua_setfield(L, -2, "values");
    }
    lua_rawseti(L, -2, (lua_Integer)i + 1);
  }
  return 1;
}
