/* cnet.nft transactions: tx.add_table(...), ..., tx.commit(), and the commands they share
 * with the one-shot shortcuts (cnet.nft.add_rule(...) is a one-command transaction). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "nft/lnft.h"

enum { RULE_MAX = 64 * 1024 * 1024 }; /* far beyond any real rule; below it, length is the core's */

static const char *const families_hint = "(ip, ip6, inet, arp, bridge, netdev)";

void lnft_ref(lua_State *L, int idx, const char *op, const char *kind, int want_name,
              int *family, char *table, char *name) {
  /* three names of at most 255 bytes and two spaces fit; longer is refused here */
  const char *ref = lcnet_check_text(L, idx, 3 * CNET_NFT_NAMELEN, NULL, NULL);
  int rc = cnet_nft_parse_ref(ref, want_name, family, table, name);
  if (rc == 0) return;
  if (rc == -EAFNOSUPPORT) {
    char word[32] = "";
    sscanf(ref, "%31s", word);
    lua_pushfstring(L, "unknown family \"%s\" %s", word, families_hint);
  } else if (rc == -ENAMETOOLONG) {
    lua_pushfstring(L, "a name is longer than %d bytes", CNET_NFT_NAMELEN - 1);
  } else {
    const char *expected = want_name == 1 ? "expected \"[family] table name\""
                           : want_name == 0 ? "expected \"[family] table\""
                                            : "expected \"[family] table [name]\"";
    if (cnet_nft_family(ref) >= 0) /* "ip" alone: nft refuses it too */
      lua_pushfstring(L, "%s: \"%s\" is a family, not a table", expected, ref);
    else
      lua_pushstring(L, expected);
  }
  const char *msg = lua_tostring(L, -1); /* not user input: the message just made */
  lcnet_raise(L, rc, op, kind ? lua_pushfstring(L, "%s %s", kind, ref) : ref, msg);
}

/* lcnet_raise with the error object's `where` replaced (the line that queued a command). */
static int raise_k(lua_State *L) {
  /* called by raise_where with the bindings' own values */
  return lcnet_raise(L, (int)lua_tointeger(L, 1), lua_tostring(L, 2), /* not user input */
                     lua_tostring(L, 3), lua_tostring(L, 4));       /* not user input */
}

static int raise_where(lua_State *L, int rc, const char *op, const char *object,
                       const char *errmsg, int where) {
  where = lua_absindex(L, where);
  lua_pushcfunction(L, raise_k);
  lua_pushinteger(L, rc);
  lua_pushstring(L, op);
  lua_pushstring(L, object);
  lua_pushstring(L, errmsg);
  lua_pcall(L, 4, 1, 0); /* leaves the error object */
  if (lua_istable(L, -1) && lua_isstring(L, where)) {
    lua_pushvalue(L, where);
    lua_setfield(L, -2, "where");
  }
  return lua_error(L);
}

/* The transaction at idx, open and on an open namespace handle (its user value 1): the core
 * transaction acts through that handle's sockets, which ns.close() frees. Raises otherwise.
 * The ops call it again right before each core call, since reading their arguments can run
 * Lua code (an __index metamethod) that closes either one. */
static lnfttx *checktx(lua_State *L, int idx) {
  lnfttx *t = lua_touserdata(L, idx); /* never user input: an upvalue, or apply's own slot */
  if (t->tx == NULL)
    luaL_error(L, t->committed ? "cnet.nft.transaction was already committed"
                               : "cnet.nft.transaction is closed");
  if (t->h == NULL || t->h->ns == NULL)
    luaL_error(L, "cnet.nft.transaction: its namespace handle (cnet.netns) is closed");
  return t;
}

/* After a core call: raise its error, or remember the calling line of each new command
 * (looked up once per call, shared by the commands it queued; nothing in one_call mode). */
static void done(lua_State *L, int txi, int rc, unsigned before, const char *op,
                 const char *object) {
  lnfttx *t = lua_touserdata(L, txi);
  if (rc < 0) lcnet_raise(L, rc, op, object, cnet_nft_tx_errmsg(t->tx));
  unsigned after = cnet_nft_tx_count(t->tx);
  if (t->one_call || after == before) return;
  lua_getiuservalue(L, txi, 3);
  luaL_where(L, 1);
  for (unsigned i = before; i < after; i++) {
    lua_pushvalue(L, -1);
    lua_rawseti(L, -3, (lua_Integer)i + 1);
  }
  lua_pop(L, 2);
}

#define NAMES char table[CNET_NFT_NAMELEN], name[CNET_NFT_NAMELEN]; int family; (void)name

/* ---- tables ---- */

void lnft_add_table(lua_State *L, int txi, int family, const char *table) {
  lnfttx *t = checktx(L, txi);
  unsigned before = cnet_nft_tx_count(t->tx);
  int rc = cnet_nft_tx_add_table(t->tx, family, table);
  done(L, txi, rc, before, "nft.add",
       lua_pushfstring(L, "table %s %s", cnet_nft_family_name(family), table));
  lua_pop(L, 1);
}

void lnft_delete_table(lua_State *L, int txi, int family, const char *table) {
  lnfttx *t = checktx(L, txi);
  unsigned before = cnet_nft_tx_count(t->tx);
  int rc = cnet_nft_tx_delete_table(t->tx, family, table);
  done(L, txi, rc, before, "nft.delete",
       lua_pushfstring(L, "table %s %s", cnet_nft_family_name(family), table));
  lua_pop(L, 1);
}

static void op_add_table(lua_State *L, int txi, int base) {
  NAMES;
  lnft_ref(L, base, "nft.add", "table", 0, &family, table, NULL);
  lnft_add_table(L, txi, family, table);
}

static void op_delete_table(lua_State *L, int txi, int base) {
  NAMES;
  lnft_ref(L, base, "nft.delete", "table", 0, &family, table, NULL);
  lnft_delete_table(L, txi, family, table);
}

static void op_flush_table(lua_State *L, int txi, int base) {
  NAMES;
  lnft_ref(L, base, "nft.flush", "table", 0, &family, table, NULL);
  lnfttx *t = checktx(L, txi);
  unsigned before = cnet_nft_tx_count(t->tx);
  int rc = cnet_nft_tx_flush_table(t->tx, family, table);
  done(L, txi, rc, before, "nft.flush",
       lua_pushfstring(L, "table %s %s", cnet_nft_family_name(family), table));
}

/* ---- chains ---- */

/* A text option of a chain or set spec where a number is taken as its text (priority = 0);
 * a number's text stays on the stack until the command is queued. */
static const char *opt_string(const lcnet_fields *f, const char *key) {
  return lcnet_field_textnum(f, key, LCNET_TEXT_MAX, NULL);
}

/* The fields of a spec: the argument at spec (a positive index), or, from apply (a negative
 * index), a description inside argument 1 reached as "chains.NAME" or "sets.NAME". */
static lcnet_fields spec_fields(lua_State *L, int spec, const char *noun, const char *name) {
  if (spec > 0) return lcnet_fields_of(L, spec);
  spec = lua_absindex(L, spec);
  lcnet_fields top = lcnet_fields_of(L, 1);
  const char *path = lua_pushfstring(L, "%s.%s", noun, name); /* stays for the messages */
  return lcnet_fields_in(&top, spec, path);
}

/* spec: a table {type=, hook=, priority=, policy=, device=} (nil: a regular chain); in apply
 * its array part holds the rules and is skipped here. */
void lnft_add_chain(lua_State *L, int txi, int family, const char *table, const char *chain,
                    int spec) {
  struct cnet_nft_chain_spec cs = {NULL, NULL, NULL, NULL, NULL};
  if (spec != 0 && !lua_isnoneornil(L, spec)) {
    lcnet_fields f = spec_fields(L, spec, "chains", chain);
    luaL_checktype(L, f.idx, LUA_TTABLE);
    cs.type = lcnet_field_text(&f, "type", LCNET_TEXT_MAX, NULL, NULL);
    cs.hook = lcnet_field_text(&f, "hook", LCNET_TEXT_MAX, NULL, NULL);
    cs.prio = opt_string(&f, "priority"); /* a number or a name: 0, -10, "srcnat" */
    cs.policy = lcnet_field_text(&f, "policy", LCNET_TEXT_MAX, NULL, NULL);
    cs.device = lcnet_field_text(&f, "device", LCNET_TEXT_MAX, NULL, NULL);
    if (cs.type == NULL && (cs.hook || cs.prio || cs.policy || cs.device))
      cs.type = "filter"; /* a hook without a type: nft's default type */
  }
  lnfttx *t = checktx(L, txi);
  unsigned before = cnet_nft_tx_count(t->tx);
  int rc = cnet_nft_tx_add_chain(t->tx, family, table, chain, &cs);
  done(L, txi, rc, before, "nft.add",
       lua_pushfstring(L, "chain %s %s %s", cnet_nft_family_name(family), table, chain));
  lua_pop(L, 1);
}

static void op_add_chain(lua_State *L, int txi, int base) {
  NAMES;
  static const char *const known[] = {"type", "hook", "priority", "policy", "device", NULL};
  lnft_ref(L, base, "nft.add", "chain", 1, &family, table, name);
  lcnet_check_options(L, base + 1, known);
  lnft_add_chain(L, txi, family, table, name, lua_isnoneornil(L, base + 1) ? 0 : base + 1);
}

/* delete/flush of a chain or a set named "[family] table name": one command each. */
static void named_cmd(lua_State *L, int txi, int base, const char *noun, const char *verb,
                      int (*fn)(struct cnet_nft_tx *, int, const char *, const char *)) {
  NAMES;
  const char *op = lua_pushfstring(L, "nft.%s", verb);
  lnft_ref(L, base, op, noun, 1, &family, table, name);
  lnfttx *t = checktx(L, txi);
  unsigned before = cnet_nft_tx_count(t->tx);
  int rc = fn(t->tx, family, table, name);
  done(L, txi, rc, before, op,
       lua_pushfstring(L, "%s %s %s %s", noun, cnet_nft_family_name(family), table, name));
}

static void op_delete_chain(lua_State *L, int txi, int base) {
  named_cmd(L, txi, base, "chain", "delete", cnet_nft_tx_delete_chain);
}
static void op_flush_chain(lua_State *L, int txi, int base) {
  named_cmd(L, txi, base, "chain", "flush", cnet_nft_tx_flush_chain);
}

/* ---- rules ---- */

static void rule_cmd(lua_State *L, int txi, int family, const char *table, const char *chain,
                     const char *text, enum cnet_nft_where where, uint64_t handle,
                     const char *verb) {
  lnfttx *t = checktx(L, txi);
  unsigned before = cnet_nft_tx_count(t->tx);
  int rc = cnet_nft_tx_add_rule(t->tx, family, table, chain, text, where, handle);
  if (rc >= 0) { /* the common case: no strings made for an error that did not happen */
    done(L, txi, rc, before, NULL, NULL);
    return;
  }
  const char *op = lua_pushfstring(L, "nft.%s", verb);
  done(L, txi, rc, before, op,
       lua_pushfstring(L, "rule %s %s %s \"%s\"", cnet_nft_family_name(family), table, chain,
                       text));
}

void lnft_add_rule(lua_State *L, int txi, int family, const char *table, const char *chain,
                   const char *text) {
  rule_cmd(L, txi, family, table, chain, text, CNET_NFT_APPEND, 0, "add");
}

static uint64_t check_handle(lua_State *L, int idx, int arg, const char *what) {
  return (uint64_t)lcnet_to_int(L, idx, arg, 1, LUA_MAXINTEGER, what);
}

/* add_rule(chain, text [, {after = handle}]) / insert_rule(chain, text [, {before = handle}]) */
static void add_or_insert(lua_State *L, int txi, int base, int insert) {
  NAMES;
  const char *op = insert ? "nft.insert" : "nft.add";
  lnft_ref(L, base, op, "rule", 1, &family, table, name);
  const char *text = lcnet_check_text(L, base + 1, RULE_MAX, "rule", NULL);
  const char *key = insert ? "before" : "after";
  const char *const known[] = {key, NULL};
  lcnet_check_options(L, base + 2, known);
  uint64_t handle = 0;
  if (!lua_isnoneornil(L, base + 2)) {
    lcnet_fields f = lcnet_fields_of(L, base + 2);
    handle = (uint64_t)lcnet_field_int(&f, key, 1, LUA_MAXINTEGER, 0);
  }
  rule_cmd(L, txi, family, table, name, text, insert ? CNET_NFT_INSERT : CNET_NFT_APPEND,
           handle, insert ? "insert" : "add");
}

static void op_add_rule(lua_State *L, int txi, int base) { add_or_insert(L, txi, base, 0); }
static void op_insert_rule(lua_State *L, int txi, int base) { add_or_insert(L, txi, base, 1); }

/* replace_rule(chain, handle, text) */
static void op_replace_rule(lua_State *L, int txi, int base) {
  NAMES;
  lnft_ref(L, base, "nft.replace", "rule", 1, &family, table, name);
  uint64_t handle = check_handle(L, base + 1, base + 1, "rule handle");
  const char *text = lcnet_check_text(L, base + 2, RULE_MAX, "rule", NULL);
  rule_cmd(L, txi, family, table, name, text, CNET_NFT_REPLACE, handle, "replace");
}

/* delete_rule(chain, handle) */
static void op_delete_rule(lua_State *L, int txi, int base) {
  NAMES;
  lnft_ref(L, base, "nft.delete", "rule", 1, &family, table, name);
  uint64_t handle = check_handle(L, base + 1, base + 1, "rule handle");
  lnfttx *t = checktx(L, txi);
  unsigned before = cnet_nft_tx_count(t->tx);
  int rc = cnet_nft_tx_delete_rule(t->tx, family, table, name, handle);
  done(L, txi, rc, before, "nft.delete",
       lua_pushfstring(L, "rule %s %s %s handle %I", cnet_nft_family_name(family), table, name,
                       (lua_Integer)handle));
}

/* ---- sets ---- */

/* elements: one string (or number) or an array of them; errors blame argument arg. Fills *v
 * with pointers to strings kept alive by what it leaves on the stack (the caller restores
 * the stack top after use). Returns the count. */
static unsigned check_elems(lua_State *L, int idx, int arg, const char *what, const char ***v) {
  idx = lua_absindex(L, idx);
  if (lua_type(L, idx) == LUA_TSTRING || lua_type(L, idx) == LUA_TNUMBER) {
    const char **a = lua_newuserdatauv(L, sizeof *a, 0);
    lua_pushvalue(L, idx);
    /* a number converted in the copy, not in the caller's value */
    a[0] = lcnet_to_textnum(L, -1, arg, LCNET_TEXT_MAX, what);
    *v = a;
    return 1;
  }
  if (!lua_istable(L, idx))
    lcnet_argerror(L, arg, what, "a string or a list of strings expected, got %s",
                   luaL_typename(L, idx));
  lua_Integer n = luaL_len(L, idx);
  if (n < 0 || n > 0x7fffffff) lcnet_argerror(L, arg, what, "%I is not a usable count", n);
  const char **a = lua_newuserdatauv(L, (size_t)(n ? n : 1) * sizeof *a, 0);
  /* A string read from a plain table stays alive in it (nothing runs that could change the
   * table before the caller is done), so it needs no anchor; a number is converted in a copy,
   * anchored in a table made for them; a table with a metatable is read through it and every
   * value anchored. */
  int raw = !lua_getmetatable(L, idx), anchor = 0;
  if (!raw) lua_pop(L, 1);
  for (lua_Integer i = 1; i <= n; i++) {
    int t = raw ? lua_rawgeti(L, idx, i) : lua_geti(L, idx, i);
    int e = lua_gettop(L);
    a[i - 1] = t == LUA_TSTRING ? lcnet_try_text(L, e, LCNET_TEXT_MAX) : NULL;
    if (a[i - 1] == NULL) { /* a number, or a bad value: the full check names the element */
      a[i - 1] = lcnet_to_textnum(L, e, arg, LCNET_TEXT_MAX,
                                  lua_pushfstring(L, "%s, element #%I", what, i));
      lua_settop(L, e);
    }
    if (raw && t == LUA_TSTRING) {
      lua_pop(L, 1);
      continue;
    }
    if (anchor == 0) {
      lua_createtable(L, 0, 0);
      lua_insert(L, -2);
      anchor = lua_gettop(L) - 1;
    }
    lua_rawseti(L, anchor, (lua_Integer)lua_rawlen(L, anchor) + 1);
  }
  *v = a;
  return (unsigned)n;
}

static void elems_cmd(lua_State *L, int txi, int family, const char *table, const char *set,
                      int idx, int arg, const char *what, int del) {
  int top = lua_gettop(L);
  const char **v;
  unsigned n = check_elems(L, idx, arg, what, &v);
  lnfttx *t = checktx(L, txi);
  unsigned before = cnet_nft_tx_count(t->tx);
  int rc = cnet_nft_tx_elements(t->tx, family, table, set, v, n, del);
  done(L, txi, rc, before, del ? "nft.delete" : "nft.add",
       lua_pushfstring(L, "element %s %s %s", cnet_nft_family_name(family), table, set));
  lua_settop(L, top);
}

/* spec: {type = "ipv4_addr", flags = "interval" | {"interval", "constant"}, size = N,
 * elements = {...}}; a positive index is an argument, a negative one apply's description. */
void lnft_add_set(lua_State *L, int txi, int family, const char *table, const char *set,
                  int spec) {
  static const char *const known[] = {"type", "flags", "size", "elements", NULL};
  int top = lua_gettop(L);
  lcnet_fields f = spec_fields(L, spec, "sets", set);
  spec = f.idx;
  if (!lua_istable(L, spec))
    lcnet_argerror(L, f.arg, f.path ? lua_pushfstring(L, "field '%s'", f.path) : NULL,
                   "set description (a table) expected, got %s", luaL_typename(L, spec));
  static const char *const later[] = {"map", "typeof", "timeout", NULL};
  for (int i = 0; later[i]; i++) {  /* nft's, not a typo: say so rather than "unknown" */
    lua_getfield(L, spec, later[i]);
    int present = !lua_isnil(L, -1);
    lua_pop(L, 1);
    if (present)
      lcnet_field_fail(&f, later[i], "named maps, typeof and timeouts are not supported by "
                       "cnet's sets yet (make such a set with nft; rules may use it, and "
                       "anonymous maps: \"meta mark set ip saddr map { ... }\")");
  }
  lcnet_field_check_keys(&f, known);
  struct cnet_nft_set_spec ss = {opt_string(&f, "type"), 0, 0};
  lua_getfield(L, spec, "flags");
  int fl = lua_gettop(L);
  int ft = lua_type(L, fl);
  lua_Integer nf = ft == LUA_TTABLE ? luaL_len(L, fl) : ft == LUA_TSTRING ? 1 : 0;
  if (ft != LUA_TNIL && ft != LUA_TTABLE && ft != LUA_TSTRING)
    lcnet_field_fail(&f, "flags", "a flag or a list of flags expected, got %s",
                     luaL_typename(L, fl));
  for (lua_Integer i = 1; i <= nf; i++) {
    if (ft == LUA_TTABLE) lua_geti(L, fl, i);
    else lua_pushvalue(L, fl);
    const char *fs = lcnet_try_text(L, -1, 16);
    if (fs != NULL && strcmp(fs, "interval") == 0) ss.flags |= CNET_NFT_SET_INTERVAL;
    else if (fs != NULL && strcmp(fs, "constant") == 0) ss.flags |= CNET_NFT_SET_CONSTANT;
    else lcnet_field_fail(&f, "flags", "unknown set flag %s (interval, constant)",
                          lcnet_quote_value(L, -1));
    lua_pop(L, 1);
  }
  lua_pop(L, 1);
  ss.size = (uint32_t)lcnet_field_int(&f, "size", 1, 0xffffffffLL, 0);
  lnfttx *t = checktx(L, txi);
  unsigned before = cnet_nft_tx_count(t->tx);
  int rc = cnet_nft_tx_add_set(t->tx, family, table, set, &ss);
  done(L, txi, rc, before, "nft.add",
       lua_pushfstring(L, "set %s %s %s", cnet_nft_family_name(family), table, set));
  lua_pop(L, 1);
  const char *what = f.path ? lua_pushfstring(L, "field '%s.elements'", f.path) : "field 'elements'";
  lua_getfield(L, spec, "elements");
  if (!lua_isnil(L, -1)) elems_cmd(L, txi, family, table, set, -1, f.arg, what, 0);
  lua_settop(L, top);
}

static void op_add_set(lua_State *L, int txi, int base) {
  NAMES;
  lnft_ref(L, base, "nft.add", "set", 1, &family, table, name);
  lnft_add_set(L, txi, family, table, name, base + 1);
}


static void op_delete_set(lua_State *L, int txi, int base) {
  named_cmd(L, txi, base, "set", "delete", cnet_nft_tx_delete_set);
}
static void op_flush_set(lua_State *L, int txi, int base) {
  named_cmd(L, txi, base, "set", "flush", cnet_nft_tx_flush_set);
}

static void op_add_element(lua_State *L, int txi, int base) {
  NAMES;
  lnft_ref(L, base, "nft.add", "element", 1, &family, table, name);
  luaL_checkany(L, base + 1);
  elems_cmd(L, txi, family, table, name, base + 1, base + 1, "elements", 0);
}

static void op_delete_element(lua_State *L, int txi, int base) {
  NAMES;
  lnft_ref(L, base, "nft.delete", "element", 1, &family, table, name);
  luaL_checkany(L, base + 1);
  elems_cmd(L, txi, family, table, name, base + 1, base + 1, "elements", 1);
}

const struct lnft_opdef lnft_ops[] = {
  {"add_table", op_add_table},       {"delete_table", op_delete_table},
  {"flush_table", op_flush_table},   {"add_chain", op_add_chain},
  {"delete_chain", op_delete_chain}, {"flush_chain", op_flush_chain},
  {"add_rule", op_add_rule},         {"insert_rule", op_insert_rule},
  {"replace_rule", op_replace_rule}, {"delete_rule", op_delete_rule},
  {"add_set", op_add_set},           {"delete_set", op_delete_set},
  {"flush_set", op_flush_set},       {"add_element", op_add_element},
  {"delete_element", op_delete_element}, {NULL, NULL}};

/* ---- the transaction object ---- */

/* A method: upvalue 1 the transaction, upvalue 2 the index of its op in lnft_ops. Accepts
 * both tx.add_rule(...) and tx:add_rule(...). */
static int tx_method(lua_State *L) {
  int txi = lua_upvalueindex(1);
  checktx(L, txi);
  int base = lua_rawequal(L, 1, txi) ? 2 : 1;
  lua_settop(L, base + 2); /* no op reads more than three arguments */
  lua_pushvalue(L, txi);   /* the transaction above them, so argument numbers stay right */
  lnft_ops[lua_tointeger(L, lua_upvalueindex(2))].fn(L, base + 3, base); /* not user input */
  return 0;
}

int lnft_tx_commit(lua_State *L, int idx) {
  idx = lua_absindex(L, idx);
  lnfttx *t = checktx(L, idx);
  int failed;
  int rc = cnet_nft_tx_commit(t->tx, &failed);
  if (rc >= 0 || (rc == -ERESTART && t->soft_restart)) {
    cnet_nft_tx_free(t->tx);
    t->tx = NULL;
    t->committed = 1;
    return rc < 0 ? rc : 0;
  }
  /* name the refused command: "add rule ip cnet forward \"...\"" -> op nft.add */
  const char *label = failed >= 0 ? cnet_nft_tx_label(t->tx, (unsigned)failed) : NULL;
  const char *msg = lua_pushstring(L, cnet_nft_tx_errmsg(t->tx));
  const char *op = "nft.commit", *object = NULL;
  if (label != NULL) {
    const char *sp = strchr(label, ' ');
    op = lua_pushfstring(L, "nft.%s", lua_pushlstring(L, label, (size_t)(sp - label)));
    object = lua_pushstring(L, sp + 1);
  }
  if (t->one_call) {
    luaL_where(L, 1); /* the caller of the one C call that queued and committed */
  } else {
    lua_getiuservalue(L, idx, 3);
    lua_geti(L, -1, failed + 1);
  }
  int where = lua_gettop(L);
  cnet_nft_tx_free(t->tx);
  t->tx = NULL;
  t->committed = 1;
  return raise_where(L, rc, op, object, msg, where);
}

/* tx.commit(): sends everything as one batch; raises the refused command's error. */
static int tx_commit(lua_State *L) {
  (void)lnft_tx_commit(L, lua_upvalueindex(1));
  return 0;
}

/* __gc, __close, tx.close(): discards what was not committed. */
static int tx_release(lua_State *L) {
  lnfttx *t = luaL_checkudata(L, lua_isuserdata(L, 1) ? 1 : lua_upvalueindex(1), LNFT_TX);
  cnet_nft_tx_free(t->tx);
  t->tx = NULL;
  return 0;
}

static int tx_close_method(lua_State *L) {
  lnfttx *t = luaL_checkudata(L, lua_upvalueindex(1), LNFT_TX);
  cnet_nft_tx_free(t->tx);
  t->tx = NULL;
  return 0;
}

/* tx.count(): the number of commands queued. */
static int tx_count(lua_State *L) {
  lnfttx *t = luaL_checkudata(L, lua_upvalueindex(1), LNFT_TX);
  lua_pushinteger(L, t->tx ? (lua_Integer)cnet_nft_tx_count(t->tx) : 0);
  return 1;
}

static int tx_index(lua_State *L) {
  lua_getiuservalue(L, 1, 2);
  lua_pushvalue(L, 2);
  lua_rawget(L, -2);
  return 1;
}

static int tx_tostring(lua_State *L) {
  lnfttx *t = luaL_checkudata(L, 1, LNFT_TX);
  if (t->tx == NULL)
    lua_pushstring(L, t->committed ? "cnet.nft.transaction (committed)"
                                   : "cnet.nft.transaction (closed)");
  else
    lua_pushfstring(L, "cnet.nft.transaction (%d commands)", (int)cnet_nft_tx_count(t->tx));
  return 1;
}

lnfttx *lnft_tx_push(lua_State *L, int ns) {
  ns = lua_absindex(L, ns);
  lnfttx *t = lua_newuserdatauv(L, sizeof *t, 3);
  t->tx = NULL;
  t->h = NULL;
  t->committed = 0;
  t->one_call = 0;
  t->soft_restart = 0;
  if (luaL_newmetatable(L, LNFT_TX)) {
    lua_pushcfunction(L, tx_release);
    lua_setfield(L, -2, "__gc");
    lua_pushcfunction(L, tx_release);
    lua_setfield(L, -2, "__close");
    lua_pushcfunction(L, tx_index);
    lua_setfield(L, -2, "__index");
    lua_pushcfunction(L, tx_tostring);
    lua_setfield(L, -2, "__tostring");
  }
  lua_setmetatable(L, -2);
  int txi = lua_gettop(L);
  lua_pushvalue(L, ns);
  lua_setiuservalue(L, txi, 1);
  lua_createtable(L, 0, 20); /* methods bound to this transaction */
  for (int i = 0; lnft_ops[i].name != NULL; i++) {
    lua_pushvalue(L, txi);
    lua_pushinteger(L, i);
    lua_pushcclosure(L, tx_method, 2);
    lua_setfield(L, -2, lnft_ops[i].name);
  }
  static const luaL_Reg extra[] = {
    {"commit", tx_commit}, {"close", tx_close_method}, {"count", tx_count}, {NULL, NULL}};
  for (const luaL_Reg *r = extra; r->name; r++) {
    lua_pushvalue(L, txi);
    lua_pushcclosure(L, r->func, 1);
    lua_setfield(L, -2, r->name);
  }
  lua_setiuservalue(L, txi, 2);
  lua_newtable(L);
  lua_setiuservalue(L, txi, 3);
  lnetns *h = luaL_checkudata(L, ns, LCNET_NETNS);
  if (h->ns == NULL) luaL_error(L, "cnet.netns is closed");
  t->h = h;
  int rc = cnet_nft_tx_new(h->ns, &t->tx);
  if (rc < 0) lcnet_raise(L, rc, "nft.transaction", NULL, NULL);
  return t;
}
