/* cnet.nft: transactions, one-shot commands, the declarative apply, and listings.
 * Every function here is a closure whose upvalue 1 is the namespace handle it acts on. */
#include <string.h>
#include <linux/netfilter/nf_tables.h>

#include "nft/lnft.h"

/* nft.transaction(): a new, empty transaction on this namespace. */
static int nft_transaction(lua_State *L) {
  lcnet_ns(L);
  lnft_tx_push(L, lua_upvalueindex(1));
  return 1;
}

/* The one-shot shortcuts: upvalue 2 is the op's index; a one-command transaction. */
static int nft_oneshot(lua_State *L) {
  lcnet_ns(L);
  lua_settop(L, 3); /* no op reads more than three arguments */
  lnft_tx_push(L, lua_upvalueindex(1)); /* at 4, above the arguments */
  lnft_ops[lua_tointeger(L, lua_upvalueindex(2))].fn(L, 4, 1); /* not user input */
  lnft_tx_commit(L, 4);
  return 0;
}

/* ---- apply ---- */

/* Pushes an array of the string keys of the table at idx, sorted. */
static void sorted_keys(lua_State *L, int idx, const char *what) {
  idx = lua_absindex(L, idx);
  lua_newtable(L);
  int out = lua_gettop(L);
  lua_Integer n = 0;
  lua_pushnil(L);
  while (lua_next(L, idx) != 0) {
    lua_pop(L, 1);
    if (lua_type(L, -1) != LUA_TSTRING)
      lcnet_argerror(L, 1, NULL, "field '%ss': %s names are string keys, got a %s key", what,
                     what, luaL_typename(L, -1));
    int key = lua_gettop(L);
    lcnet_to_text(L, key, 1, CNET_NFT_NAMELEN - 1,
                  lua_pushfstring(L, "field '%ss': %s name", what, what), NULL);
    lua_settop(L, key);
    /* insertion sort: descriptions are small */
    lua_Integer i = n++;
    while (i > 0) {
      lua_geti(L, out, i);
      int gt = lua_compare(L, -1, -2, LUA_OPLT) == 0;
      if (!gt) { lua_pop(L, 1); break; }
      lua_seti(L, out, i + 1);
      i--;
    }
    lua_pushvalue(L, -1);
    lua_seti(L, out, i + 1);
  }
}

/* A chain description: known options plus an array of rules; anything else is refused. */
static void check_chain_desc(lua_State *L, int idx, const char *name) {
  static const char *const known[] = {"type", "hook", "priority", "policy", "device", NULL};
  if (!lua_istable(L, idx))
    lcnet_argerror(L, 1, NULL, "field 'chains.%s': the chain's options and rules (a table) "
                               "expected, got %s", name, luaL_typename(L, idx));
  lua_Integer n = luaL_len(L, idx);
  lua_pushnil(L);
  while (lua_next(L, idx) != 0) {
    lua_pop(L, 1);
    int ok = 0;
    if (lua_isinteger(L, -1)) {
      lua_Integer i = lua_tointeger(L, -1); /* not user input: an integer key, checked below */
      ok = i >= 1 && i <= n;
    }
    const char *k = lcnet_try_text(L, -1, 16);
    for (const char *const *p = known; k != NULL && *p && !ok; p++) ok = strcmp(*p, k) == 0;
    if (!ok)
      lcnet_argerror(L, 1, NULL, "chain %s: unknown option %s", name, lcnet_quote_value(L, -1));
  }
}

/* Queues the description (stack: 1 the argument, 3 chains, 4 sets) into the transaction at
 * txi. replace: the table may exist, so it is added, deleted and added again (the kernel
 * then frees the old one after an RCU grace period, which the next close of the socket waits
 * for); otherwise it is just added. */
static void apply_queue(lua_State *L, int txi, int family, const char *table, int replace) {
  lnft_add_table(L, txi, family, table);
  if (replace) {
    lnft_delete_table(L, txi, family, table);
    lnft_add_table(L, txi, family, table);
  }
  if (!lua_isnil(L, 4)) {
    sorted_keys(L, 4, "set");
    int keys = lua_gettop(L);
    for (lua_Integer i = 1, n = luaL_len(L, keys); i <= n; i++) {
      lua_geti(L, keys, i);
      lua_pushvalue(L, -1);
      lua_gettable(L, 4);
      lnft_add_set(L, txi, family, table, lcnet_try_text(L, -2, CNET_NFT_NAMELEN), -1);
      lua_pop(L, 2);
    }
    lua_pop(L, 1);
  }
  if (!lua_isnil(L, 3)) {
    sorted_keys(L, 3, "chain");
    int keys = lua_gettop(L);
    lua_Integer n = luaL_len(L, keys);
    for (lua_Integer i = 1; i <= n; i++) { /* every chain first: rules may jump to any */
      lua_geti(L, keys, i);
      const char *name = lcnet_try_text(L, -1, CNET_NFT_NAMELEN); /* checked by sorted_keys */
      lua_pushvalue(L, -1);
      lua_gettable(L, 3);
      check_chain_desc(L, lua_gettop(L), name);
      lnft_add_chain(L, txi, family, table, name, -1);
      lua_pop(L, 2);
    }
    for (lua_Integer i = 1; i <= n; i++) {
      lua_geti(L, keys, i);
      const char *name = lcnet_try_text(L, -1, CNET_NFT_NAMELEN);
      lua_pushvalue(L, -1);
      lua_gettable(L, 3);
      int chain = lua_gettop(L);
      for (lua_Integer r = 1, nr = luaL_len(L, chain); r <= nr; r++) {
        lua_geti(L, chain, r);
        if (lua_type(L, -1) != LUA_TSTRING)
          lcnet_argerror(L, 1, NULL, "chain %s: rule #%d is a %s, not a string", name, (int)r,
                         luaL_typename(L, -1));
        int rule = lua_gettop(L);
        const char *text = lcnet_try_text(L, rule, 64 * 1024 * 1024);
        if (text == NULL) { /* the label is made only for the error (10% of rules(10000)) */
          text = lcnet_to_text(L, rule, 1, 64 * 1024 * 1024,
                               lua_pushfstring(L, "chain %s: rule #%d", name, (int)r), NULL);
          lua_settop(L, rule);
        }
        lnft_add_rule(L, txi, family, table, name, text);
        lua_pop(L, 1);
      }
      lua_pop(L, 2);
    }
    lua_pop(L, 1);
  }
}

/* nft.apply{table = "ip cnet", chains = {...}, sets = {...}}: replaces the whole table with
 * the description in one atomic batch (add table; delete table; add table and its sets,
 * chains and rules; when the table does not exist yet, just add it and its contents).
 * Re-applying the same description converges to the same ruleset; no other table is
 * touched. */
static int nft_apply(lua_State *L) {
  static const char *const known[] = {"table", "chains", "sets", NULL};
  lcnet_ns(L);
  luaL_checktype(L, 1, LUA_TTABLE);
  lua_settop(L, 1);
  lcnet_check_options(L, 1, known);
  char table[CNET_NFT_NAMELEN];
  int family;
  lcnet_fields f = lcnet_fields_of(L, 1);
  if (lcnet_field_text(&f, "table", 3 * CNET_NFT_NAMELEN, NULL, NULL) == NULL)
    luaL_argerror(L, 1, "field 'table' (\"[family] name\") required");
  lua_getfield(L, 1, "table"); /* 2 */
  lnft_ref(L, 2, "nft.apply", "table", 0, &family, table, NULL);
  lua_getfield(L, 1, "chains"); /* 3 */
  lua_getfield(L, 1, "sets");   /* 4 */
  if (!lua_isnil(L, 3) && !lua_istable(L, 3))
    lcnet_field_fail(&f, "chains", "a table of NAME = {options and rules} expected, got %s",
                     luaL_typename(L, 3));
  if (!lua_isnil(L, 4) && !lua_istable(L, 4))
    lcnet_field_fail(&f, "sets", "a table of NAME = {type=, ...} expected, got %s",
                     luaL_typename(L, 4));
  /* Is there a table to replace? Asking costs one round trip and spares the kernel the
   * deferred free of a table deleted in the batch. The adding form is right only while the
   * table is missing, so that transaction keeps what it read and is pinned to the ruleset's
   * generation: commit sends it again while the table is still missing, and when the table
   * appeared meanwhile (-ERESTART) the description goes in the replacing form. That form is
   * right whatever the ruleset holds, so it is built in a transaction that read nothing (no
   * generation pins it, no change elsewhere can make the kernel refuse it). */
  int replace = 0;
  {
    lnfttx *t = lnft_tx_push(L, lua_upvalueindex(1)); /* 5 */
    t->one_call = 1;
    replace = cnet_nft_tx_table_exists(t->tx, family, table) != 0; /* present, or unknown */
    if (!replace) {
      t->soft_restart = 1;
      apply_queue(L, 5, family, table, 0);
      if (lnft_tx_commit(L, 5) == 0) return 0;
    }
    lua_settop(L, 4);
  }
  lnft_tx_push(L, lua_upvalueindex(1))->one_call = 1; /* 5 */
  apply_queue(L, 5, family, table, 1);
  lnft_tx_commit(L, 5);
  return 0;
}


/* ---- listings ---- */

static void set_str(lua_State *L, const char *k, const char *v) {
  if (v == NULL) return;
  lua_pushstring(L, v);
  lua_setfield(L, -2, k);
}

static void set_int(lua_State *L, const char *k, lua_Integer v) {
  lua_pushinteger(L, v);
  lua_setfield(L, -2, k);
}

/* Appends the table at the top of the stack to the array just below it. */
static void append(lua_State *L) {
  lua_rawseti(L, -2, (lua_Integer)lua_rawlen(L, -2) + 1);
}

/* The rows below run under lcnet_row (the core holds the dump meanwhile): list at 1, the
 * object's info at 2. */
static int table_row_p(lua_State *L) {
  const struct cnet_nft_table_info *t = lua_touserdata(L, 2);
  lua_settop(L, 1);
  lua_createtable(L, 0, 4);
  set_str(L, "family", cnet_nft_family_name(t->family));
  set_str(L, "name", t->name);
  set_int(L, "handle", (lua_Integer)t->handle);
  append(L);
  return 0;
}

static int chain_row_p(lua_State *L) {
  const struct cnet_nft_chain_info *c = lua_touserdata(L, 2);
  lua_settop(L, 1);
  lua_createtable(L, 0, 9);
  set_str(L, "family", cnet_nft_family_name(c->family));
  set_str(L, "table", c->table);
  set_str(L, "name", c->name);
  set_int(L, "handle", (lua_Integer)c->handle);
  if (c->base) {
    set_str(L, "type", c->type);
    set_str(L, "hook", c->hook);
    set_int(L, "priority", c->prio);
    set_str(L, "policy", c->policy);
    set_str(L, "device", c->device);
  }
  append(L);
  return 0;
}

static int rule_row_p(lua_State *L) {
  const struct cnet_nft_rule_info *r = lua_touserdata(L, 2);
  lua_settop(L, 1);
  lua_createtable(L, 0, 8);
  set_str(L, "family", cnet_nft_family_name(r->family));
  set_str(L, "table", r->table);
  set_str(L, "chain", r->chain);
  set_int(L, "handle", (lua_Integer)r->handle);
  set_str(L, "text", r->text);
  set_str(L, "error", r->text_error);
  if (r->counter) {
    lua_createtable(L, 0, 2);
    set_int(L, "packets", (lua_Integer)r->packets);
    set_int(L, "bytes", (lua_Integer)r->bytes);
    lua_setfield(L, -2, "counter");
  }
  append(L);
  return 0;
}

static int set_row_p(lua_State *L) {
  const struct cnet_nft_set_info *s = lua_touserdata(L, 2);
  lua_settop(L, 1);
  lua_createtable(L, 0, 8);
  set_str(L, "family", cnet_nft_family_name(s->family));
  set_str(L, "table", s->table);
  set_str(L, "name", s->name);
  set_int(L, "handle", (lua_Integer)s->handle);
  set_str(L, "type", s->type);
  lua_newtable(L);
  static const struct { uint32_t bit; const char *name; } flags[] = {
    {NFT_SET_CONSTANT, "constant"}, {NFT_SET_INTERVAL, "interval"},
    {NFT_SET_TIMEOUT, "timeout"}, {NFT_SET_EVAL, "dynamic"}};
  for (size_t i = 0; i < sizeof flags / sizeof flags[0]; i++)
    if (s->flags & flags[i].bit) {
      lua_pushstring(L, flags[i].name);
      append(L);
    }
  lua_setfield(L, -2, "flags");
  if (s->size) set_int(L, "size", (lua_Integer)s->size);
  lua_createtable(L, (int)s->nelems, 0);
  for (unsigned i = 0; i < s->nelems; i++) {
    lua_pushstring(L, s->elems[i]);
    lua_rawseti(L, -2, (lua_Integer)i + 1);
  }
  lua_setfield(L, -2, "elements");
  append(L);
  return 0;
}

static int table_row(const struct cnet_nft_table_info *t, void *data) {
  return lcnet_row(data, table_row_p, (void *)t);
}
static int chain_row(const struct cnet_nft_chain_info *c, void *data) {
  return lcnet_row(data, chain_row_p, (void *)c);
}
static int rule_row(const struct cnet_nft_rule_info *r, void *data) {
  return lcnet_row(data, rule_row_p, (void *)r);
}
static int set_row(const struct cnet_nft_set_info *s, void *data) {
  return lcnet_row(data, set_row_p, (void *)s);
}

/* Optional reference at idx: family (and table, and name) to filter on. */
static void opt_ref(lua_State *L, int idx, const char *op, int *family, char *table,
                    char *name, const char **tp, const char **np) {
  *family = 0;
  *tp = *np = NULL;
  if (lua_isnoneornil(L, idx)) return;
  const char *ref = lcnet_check_text(L, idx, 3 * CNET_NFT_NAMELEN, NULL, NULL);
  int f = cnet_nft_family(ref); /* a family alone: "inet" */
  if (f >= 0) { *family = f; return; }
  lnft_ref(L, idx, op, NULL, name ? 2 : 0, family, table, name);
  *tp = table;
  if (name && name[0]) *np = name;
}

static int listed(lua_State *L, int rc, const char *op) {
  rc = lcnet_rows_done(L, rc);
  if (rc < 0) {
    struct cnet_netns *ns = lcnet_ns(L);
    return lcnet_raise(L, rc, op, lcnet_try_text(L, 1, 3 * CNET_NFT_NAMELEN), cnet_netns_errmsg(ns));
  }
  return 1;
}

/* nft.list_tables([family]) -> {{family=, name=, handle=}, ...}. Like `nft list tables
 * [family]`, it takes a family only: anything else raises instead of listing nothing. */
static int nft_list_tables(lua_State *L) {
  struct cnet_netns *ns = lcnet_ns(L);
  int family = 0;
  if (!lua_isnoneornil(L, 1)) {
    const char *f = lcnet_check_text(L, 1, 3 * CNET_NFT_NAMELEN, NULL, NULL);
    if ((family = cnet_nft_family(f)) < 0)
      lcnet_raise(L, family, "nft.list_tables", lcnet_clip(L, f),
                  lua_pushfstring(L, "expected a family (ip, ip6, inet, arp, bridge, netdev), "
                                  "got %s", lcnet_quote(L, f, strlen(f))));
  }
  lua_newtable(L);
  return listed(L, cnet_nft_list_tables(ns, family, NULL, table_row, L), "nft.list_tables");
}

/* The listings below differ only in what they list: each reads "[family] table [name]",
 * then fills a new array with one row per object. */
#define LISTING(fn, op, list, row)                                                   \
  static int fn(lua_State *L) {                                                    \
    struct cnet_netns *ns = lcnet_ns(L);                                           \
    char table[CNET_NFT_NAMELEN], name[CNET_NFT_NAMELEN];                          \
    int family;                                                                    \
    const char *tp, *np;                                                           \
    opt_ref(L, 1, op, &family, table, name, &tp, &np);                             \
    lua_newtable(L);                                                               \
    return listed(L, list(ns, family, tp, np, row, L), op);                        \
  }

/* nft.list_chains(["[family] table [chain]"]) -> {{family=, table=, name=, handle=, type=,
 * hook=, priority=, policy=}, ...} */
LISTING(nft_list_chains, "nft.list_chains", cnet_nft_list_chains, chain_row)
/* nft.list_rules(["[family] table [chain]"]) -> {{handle=, text=, counter=?, ...}, ...} */
LISTING(nft_list_rules, "nft.list_rules", cnet_nft_list_rules, rule_row)
/* nft.list_sets(["[family] table [set]"]) -> {{name=, type=, flags=, elements=, ...}, ...} */
LISTING(nft_list_sets, "nft.list_sets", cnet_nft_list_sets, set_row)

/* Moves rows of the array at `rows` whose fields match the table record at `rec` into
 * rec[field] (an array). */
static void nest(lua_State *L, int rows, int rec, const char *key, const char *field) {
  lua_newtable(L);
  int out = lua_gettop(L);
  lua_getfield(L, rec, "family");
  lua_getfield(L, rec, "name");
  for (lua_Integer i = 1, n = (lua_Integer)lua_rawlen(L, rows); i <= n; i++) {
    lua_rawgeti(L, rows, i);
    lua_getfield(L, -1, "family");
    lua_getfield(L, -2, key);
    int same = lua_rawequal(L, -1, -4) && lua_rawequal(L, -2, -5); /* key, family */
    lua_pop(L, 2);
    if (same) lua_rawseti(L, out, (lua_Integer)lua_rawlen(L, out) + 1);
    else lua_pop(L, 1);
  }
  lua_pop(L, 2);
  lua_setfield(L, rec, field);
}

/* nft.list([family | "[family] table"]) -> every table with its chains (each with its
 * rules) and sets: {{family=, name=, handle=, chains={{..., rules={...}}}, sets={...}}, ...} */
static int nft_list(lua_State *L) {
  struct cnet_netns *ns = lcnet_ns(L);
  char table[CNET_NFT_NAMELEN];
  int family;
  const char *tp, *np;
  opt_ref(L, 1, "nft.list", &family, table, NULL, &tp, &np);
  lua_newtable(L);
  int tables = lua_gettop(L);
  listed(L, cnet_nft_list_tables(ns, family, tp, table_row, L), "nft.list");
  lua_newtable(L);
  int chains = lua_gettop(L);
  listed(L, cnet_nft_list_chains(ns, family, tp, NULL, chain_row, L), "nft.list");
  lua_newtable(L);
  int rules = lua_gettop(L);
  listed(L, cnet_nft_list_rules(ns, family, tp, NULL, rule_row, L), "nft.list");
  lua_newtable(L);
  int sets = lua_gettop(L);
  listed(L, cnet_nft_list_sets(ns, family, tp, NULL, set_row, L), "nft.list");
  for (lua_Integer i = 1, n = (lua_Integer)lua_rawlen(L, tables); i <= n; i++) {
    lua_rawgeti(L, tables, i);
    int rec = lua_gettop(L);
    nest(L, chains, rec, "table", "chains");
    nest(L, sets, rec, "table", "sets");
    /* each chain takes its rules */
    lua_getfield(L, rec, "chains");
    for (lua_Integer c = 1, nc = (lua_Integer)lua_rawlen(L, -1); c <= nc; c++) {
      lua_rawgeti(L, -1, c);
      int crec = lua_gettop(L);
      lua_newtable(L);
      int out = lua_gettop(L);
      lua_getfield(L, crec, "family");
      lua_getfield(L, crec, "table");
      lua_getfield(L, crec, "name");
      for (lua_Integer r = 1, nr = (lua_Integer)lua_rawlen(L, rules); r <= nr; r++) {
        lua_rawgeti(L, rules, r);
        lua_getfield(L, -1, "family");
        lua_getfield(L, -2, "table");
        lua_getfield(L, -3, "chain");
        int same = lua_rawequal(L, -1, -5) && lua_rawequal(L, -2, -6) &&
                   lua_rawequal(L, -3, -7);
        lua_pop(L, 3);
        if (same) lua_rawseti(L, out, (lua_Integer)lua_rawlen(L, out) + 1);
        else lua_pop(L, 1);
      }
      lua_pop(L, 3);
      lua_setfield(L, crec, "rules");
      lua_pop(L, 1);
    }
    lua_pop(L, 2);
  }
  lua_settop(L, tables);
  return 1;
}

void lcnet_open_nft(lua_State *L, int ns) {
  ns = lua_absindex(L, ns);
  static const luaL_Reg fns[] = {
    {"transaction", nft_transaction}, {"apply", nft_apply},
    {"list", nft_list},               {"list_tables", nft_list_tables},
    {"list_chains", nft_list_chains}, {"list_rules", nft_list_rules},
    {"list_sets", nft_list_sets},     {NULL, NULL}};
  lcnet_bind_sub(L, "nft", fns, ns);
  lua_getfield(L, -1, "nft");
  for (int i = 0; lnft_ops[i].name != NULL; i++) {
    lua_pushvalue(L, ns);
    lua_pushinteger(L, i);
    lua_pushcclosure(L, nft_oneshot, 2);
    lua_setfield(L, -2, lnft_ops[i].name);
  }
  lua_pop(L, 1);
}

/* One row of nft.list_* (kind: 0 table, 1 chain, 2 rule, 3 set), pushed, for events. */
void lcnet_push_nft_row(lua_State *L, int kind, const void *info) {
  lua_createtable(L, 1, 0);
  switch (kind) {
  case 0: table_row(info, L); break;
  case 1: chain_row(info, L); break;
  case 2: rule_row(info, L); break;
  default: set_row(info, L); break;
  }
  lua_rawgeti(L, -1, 1);
  lua_remove(L, -2);
}
