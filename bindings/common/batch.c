/* cnet.batch(fn): every change fn makes is queued and sent many requests per sendmsg; the
 * failures come back as error objects naming the Lua line that asked for each change. */
#include <string.h>

#include "common/lcnet.h"

#define BATCH_KEY "cnet.batch.active"

typedef struct {
  struct cnet_batch *b;
  int ntags;
} lbatch;

static int batch_gc(lua_State *L) {
  lbatch *lb = luaL_checkudata(L, 1, "cnet.batch");
  cnet_batch_free(lb->b);
  lb->b = NULL;
  return 0;
}

/* What a batch keeps of each call, to name the call if one of its requests fails: slots
 * of the flat array that is the batch's user value 1, call i at (i - 1) * T_SLOTS + 1 on.
 * A table per call holding the Lua line as text (luaL_where) cost 6,000 instructions a call;
 * these values cost 2,000 (callgrind, cnet up of 500 containers), the text is made only for
 * a failure. An absent value is false, which keeps the array dense. */
enum {
  T_NETNS,   /* the name of the call's namespace: the `eth0` of each container told apart */
  T_FN,      /* the running C function: its "noun.verb" (lcnet_note_op) */
  T_OBJECT,  /* what the call acts on: a string or number (or LCNET_NOTE_OBJECT's text) */
  T_CALLER,  /* the Lua function that made the call, */
  T_LINE,    /* and its line then (0 when unknown) */
  T_EXPLAIN, /* LCNET_NOTE_EXPLAIN's function */
  T_SLOTS
};

/* The ops table: C function -> "noun.verb", filled as functions are bound. */
void lcnet_note_op(lua_State *L, lua_CFunction f, const char *noun, const char *verb) {
  if (luaL_getsubtable(L, LUA_REGISTRYINDEX, "cnet.ops")) {
    lua_rawgetp(L, -1, (void *)f);
    int known = !lua_isnil(L, -1);
    lua_pop(L, 1);
    if (known) {
      lua_pop(L, 1);
      return;
    }
  }
  if (noun != NULL) lua_pushfstring(L, "%s.%s", noun, verb);
  else lua_pushstring(L, verb);
  lua_rawsetp(L, -2, (void *)f);
  lua_pop(L, 1);
}

/* Pushes "noun.verb" of the C function f (a function value at idx), or "cnet". */
static void push_op(lua_State *L, int idx) {
  lua_CFunction f = lua_tocfunction(L, idx);
  int top = lua_gettop(L);
  if (f != NULL && lua_getfield(L, LUA_REGISTRYINDEX, "cnet.ops") == LUA_TTABLE &&
      lua_rawgetp(L, -1, (void *)f) == LUA_TSTRING) {
    lua_replace(L, top + 1);
    lua_settop(L, top + 1);
    return;
  }
  lua_settop(L, top);
  lua_pushliteral(L, "cnet");
}

/* Pushes what the call acts on, as it was passed: its first argument, or the name/dst of a
 * spec table, when a string or a number; else false. */
static void push_call_object(lua_State *L) {
  int t = lua_type(L, 1);
  if (t == LUA_TTABLE && lua_getfield(L, 1, "name") == LUA_TNIL) {
    lua_pop(L, 1);
    lua_getfield(L, 1, "dst");
  } else if (t != LUA_TTABLE) {
    lua_pushvalue(L, 1);
  }
  int k = lua_type(L, -1);
  if (k != LUA_TSTRING && k != LUA_TNUMBER) {
    lua_pop(L, 1);
    lua_pushboolean(L, 0);
  }
}

/* Records the running API call (namespace name, op, object, Lua line) as the tag of what it
 * queues. */
static void tag_call(lua_State *L, lbatch *lb, int ud, struct cnet_netns *ns) {
  lua_getiuservalue(L, ud, 1); /* the tags */
  int tags = lua_gettop(L);
  lua_Integer base = (lua_Integer)lb->ntags * T_SLOTS + 1;
  const char *nsname = cnet_netns_name(ns);
  if (nsname != NULL && nsname[0] != '\0') lua_pushstring(L, nsname);
  else lua_pushboolean(L, 0);
  lua_rawseti(L, tags, base + T_NETNS);
  lua_Debug ar;
  if (lua_getstack(L, 0, &ar) && lua_getinfo(L, "f", &ar)) lua_rawseti(L, tags, base + T_FN);
  else {
    lua_pushboolean(L, 0);
    lua_rawseti(L, tags, base + T_FN);
  }
  push_call_object(L);
  lua_rawseti(L, tags, base + T_OBJECT);
  int line = 0;
  if (lua_getstack(L, 1, &ar) && lua_getinfo(L, "fl", &ar)) line = ar.currentline;
  else lua_pushboolean(L, 0);
  lua_rawseti(L, tags, base + T_CALLER);
  lua_pushinteger(L, line);
  lua_rawseti(L, tags, base + T_LINE);
  lua_pushboolean(L, 0);
  lua_rawseti(L, tags, base + T_EXPLAIN);
  lua_pop(L, 1);
  cnet_batch_set_tag(lb->b, ++lb->ntags);
}

void lcnet_batch_hook(lua_State *L, struct cnet_netns *ns) {
  if (lua_getfield(L, LUA_REGISTRYINDEX, BATCH_KEY) == LUA_TNIL) {
    lua_pop(L, 1);
    return;
  }
  int ud = lua_gettop(L);
  lbatch *lb = lua_touserdata(L, ud);
  if (lb->b != NULL) {
    int rc = cnet_nl_set_batch(cnet_netns_rtnl(ns), lb->b);
    if (rc < 0) lcnet_raise(L, rc, "batch", NULL, NULL);
    tag_call(L, lb, ud, ns);
  }
  lua_pop(L, 1);
}

void lcnet_batch_note(lua_State *L, enum lcnet_note what) {
  if (lua_getfield(L, LUA_REGISTRYINDEX, BATCH_KEY) == LUA_TNIL) {
    lua_pop(L, 2);
    return;
  }
  lbatch *lb = lua_touserdata(L, -1);
  if (lb->b != NULL && lb->ntags > 0) {
    lua_getiuservalue(L, -1, 1); /* value, ud, tags */
    lua_pushvalue(L, -3);
    lua_rawseti(L, -2, (lua_Integer)(lb->ntags - 1) * T_SLOTS + 1 +
                           (what == LCNET_NOTE_EXPLAIN ? T_EXPLAIN : T_OBJECT));
    lua_pop(L, 1);
  }
  lua_pop(L, 2);
}

const char *lcnet_batch_object(lua_State *L) {
  const char *text = lua_tostring(L, -1); /* not user input: the caller's own text */
  lua_pushvalue(L, -1); /* popped by the note */
  lcnet_batch_note(L, LCNET_NOTE_OBJECT);
  return text;
}

/* Pushes the error object of failure i, built like lcnet_raise's, from its tag. */
static void push_failure(lua_State *L, lbatch *lb, int ud, unsigned i) {
  int tag = 0;
  const char *extack = "";
  int err = cnet_batch_failure(lb->b, i, &tag, &extack);
  int t = lua_gettop(L) + 1;
  lua_getiuservalue(L, ud, 1);
  lua_Integer base = (lua_Integer)(tag - 1) * T_SLOTS + 1;
  if (tag <= 0 || tag > lb->ntags) { /* no call: an op of "batch", nothing else known */
    lua_pushnil(L);
    lua_pushliteral(L, "batch");
    lua_pushnil(L);
    lua_pushnil(L);
    lua_pushnil(L);
  } else {
    if (lua_rawgeti(L, t, base + T_NETNS) != LUA_TSTRING) {
      lua_pop(L, 1);
      lua_pushnil(L);
    }
    lua_rawgeti(L, t, base + T_FN);
    push_op(L, -1);
    lua_remove(L, -2);
    if (lua_rawgeti(L, t, base + T_OBJECT) == LUA_TNUMBER) {
      luaL_tolstring(L, -1, NULL);
      lua_remove(L, -2);
    }
    lua_rawgeti(L, t, base + T_CALLER);
    lua_Debug ar;
    lua_rawgeti(L, t, base + T_LINE);
    ar.currentline = (int)lua_tointeger(L, -1); /* not user input: the line the hook kept */
    lua_pop(L, 1);
    /* the text luaL_where gave at the call */
    if (ar.currentline > 0 && lua_isfunction(L, -1) && lua_getinfo(L, ">S", &ar))
      lua_pushfstring(L, "%s:%d: ", ar.short_src, ar.currentline);
    else {
      lua_pop(L, 1);
      lua_pushliteral(L, "");
    }
    lua_rawgeti(L, t, base + T_EXPLAIN);
  }
  /* t: tags, netns, op, object, where, explain */
  if (lua_isfunction(L, t + 5)) { /* the call's own reading of the failure */
    lua_pushvalue(L, t + 5);
    lua_pushinteger(L, err);
    lua_pushstring(L, extack);
    lua_call(L, 2, 2);
    err = (int)lua_tointeger(L, -2);                           /* not user input: a binding's */
    extack = lua_tostring(L, -1) ? lua_tostring(L, -1) : "";  /* not user input; kept on the stack */
  }
  const char *op = lua_tostring(L, t + 2);     /* not user input: a binding's name */
  const char *object = lua_tostring(L, t + 3); /* not user input */
  /* lcnet_raise builds the object and throws it: catch it to keep it as a value. */
  lua_pushcfunction(L, lcnet_raise_thunk);
  lua_pushinteger(L, err);
  lua_pushstring(L, op);
  lua_pushstring(L, object);
  lua_pushstring(L, extack);
  lua_pcall(L, 4, 1, 0);
  lua_pushvalue(L, t + 4); /* the queueing line, not the line that ended the batch */
  lua_setfield(L, -2, "where");
  lua_pushvalue(L, t + 1);
  lua_setfield(L, -2, "netns");
  lua_replace(L, t);
  lua_settop(L, t);
}

static int batch_finish(lua_State *L, int ud, int status) {
  lbatch *lb = lua_touserdata(L, ud);
  cnet_batch_flush(lb->b);
  unsigned n = cnet_batch_failures(lb->b);
  lua_pushnil(L);
  lua_setfield(L, LUA_REGISTRYINDEX, BATCH_KEY);
  if (status != LUA_OK) { /* fn itself failed: that error wins, after what it queued went out */
    int e = lua_gettop(L);
    /* what the batch saw fail may be why fn failed: keep it with fn's error object */
    if (n > 0 && lua_istable(L, e) && lua_getfield(L, e, "failures") == LUA_TNIL) {
      lua_pop(L, 1);
      lua_createtable(L, (int)n, 0);
      for (unsigned i = 0; i < n; i++) {
        push_failure(L, lb, ud, i);
        lua_rawseti(L, -2, (lua_Integer)i + 1);
      }
      lua_setfield(L, e, "failures");
    }
    lua_settop(L, e);
    cnet_batch_free(lb->b);
    lb->b = NULL;
    return lua_error(L);
  }
  if (n > 0) {
    push_failure(L, lb, ud, 0);
    int first = lua_gettop(L);
    lua_createtable(L, (int)n, 0);
    for (unsigned i = 0; i < n; i++) {
      push_failure(L, lb, ud, i);
      lua_rawseti(L, -2, (lua_Integer)i + 1);
    }
    lua_setfield(L, first, "failures");
    if (n > 1) {
      lua_getfield(L, first, "message");
      lua_pushfstring(L, "%s (and %d more failed in the batch)", /* not user input: */
                      lua_tostring(L, -1), (int)n - 1);           /* not user input */
      lua_setfield(L, first, "message");
      lua_pop(L, 1);
    }
    cnet_batch_free(lb->b);
    lb->b = NULL;
    return lua_error(L);
  }
  cnet_batch_free(lb->b);
  lb->b = NULL;
  return -1;
}

/* cnet.batch(fn, ...) -> fn's results. Nested batches join the outer one. */
static int batch_run(lua_State *L) {
  luaL_checktype(L, 1, LUA_TFUNCTION);
  if (lua_getfield(L, LUA_REGISTRYINDEX, BATCH_KEY) != LUA_TNIL) {
    lua_pop(L, 1);
    lua_call(L, lua_gettop(L) - 1, LUA_MULTRET);
    return lua_gettop(L);
  }
  lua_pop(L, 1);
  lbatch *lb = lua_newuserdatauv(L, sizeof *lb, 1);
  lb->b = NULL;
  lb->ntags = 0;
  luaL_setmetatable(L, "cnet.batch");
  lua_newtable(L);
  lua_setiuservalue(L, -2, 1);
  int rc = cnet_batch_new(&lb->b);
  if (rc < 0) return lcnet_raise(L, rc, "batch", NULL, NULL);
  lua_insert(L, 1); /* ud, fn, args... */
  lua_pushvalue(L, 1);
  lua_setfield(L, LUA_REGISTRYINDEX, BATCH_KEY);
  int status = lua_pcall(L, lua_gettop(L) - 2, LUA_MULTRET, 0);
  if (batch_finish(L, 1, status) < 0) return lua_gettop(L) - 1;
  return 0; /* not reached: batch_finish raised */
}

void lcnet_batch_init(lua_State *L) {
  if (luaL_newmetatable(L, "cnet.batch")) {
    lua_pushcfunction(L, batch_gc);
    lua_setfield(L, -2, "__gc");
  }
  lua_pop(L, 1);
}

void lcnet_push_batch(lua_State *L) { lua_pushcfunction(L, batch_run); }
