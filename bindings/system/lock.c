/* cnet.lock: an exclusive lock on a file, shared between processes (flock). */
#include <errno.h>
#include <math.h>

#include "cnet/lock.h"
#include "common/args.h"
#include "common/lcnet.h"

#define LCNET_LOCK "cnet.lock"

typedef struct {
  struct cnet_lock *lock; /* NULL once released */
} llock;

/* cnet.lock(path [, {timeout = seconds}]) -> lock handle; waits for other holders */
static int lock_open(lua_State *L) {
  const char *path = lcnet_check_text(L, 1, LCNET_TEXT_MAX, "lock file", NULL);
  int timeout_ms = -1;
  static const char *const known[] = {"timeout", NULL};
  lcnet_check_options(L, 2, known); /* a table (or nothing) with known keys only */
  if (!lua_isnoneornil(L, 2)) {
    lcnet_fields f = lcnet_fields_of(L, 2);
    lua_Number t = lcnet_field_number(&f, "timeout", 0, 86400, -1);
    if (t >= 0) timeout_ms = (int)ceil(t * 1000);
  }
  llock *h = lua_newuserdatauv(L, sizeof *h, 0); /* allocate first, released... */
  h->lock = NULL;
  luaL_setmetatable(L, LCNET_LOCK);
  int rc = cnet_lock_open(path, timeout_ms, &h->lock); /* ...then acquire */
  if (rc < 0)
    return lcnet_raise(L, rc, "lock", path,
                       rc == -ETIMEDOUT || rc == -EWOULDBLOCK ? "held by another process" : NULL);
  return 1;
}

/* __gc, __close and lock:close(): releases the lock; harmless twice. */
static int lock_release(lua_State *L) {
  llock *h = luaL_checkudata(L, 1, LCNET_LOCK);
  if (h->lock != NULL) {
    cnet_lock_close(h->lock);
    h->lock = NULL;
  }
  return 0;
}

/* __tostring: "cnet.lock (held)" or "cnet.lock (released)" */
static int lock_tostring(lua_State *L) {
  llock *h = luaL_checkudata(L, 1, LCNET_LOCK);
  lua_pushstring(L, h->lock ? "cnet.lock (held)" : "cnet.lock (released)");
  return 1;
}

void lcnet_open_lock(lua_State *L) {
  static const luaL_Reg meta[] = {
      {"__gc", lock_release}, {"__close", lock_release}, {"__tostring", lock_tostring},
      {NULL, NULL}};
  static const luaL_Reg methods[] = {{"close", lock_release}, {NULL, NULL}};
  if (luaL_newmetatable(L, LCNET_LOCK)) {
    luaL_setfuncs(L, meta, 0);
    luaL_newlib(L, methods);
    lua_setfield(L, -2, "__index");
  }
  lua_pop(L, 1);
  lua_pushcfunction(L, lock_open);
  lua_setfield(L, -2, "lock");
}
