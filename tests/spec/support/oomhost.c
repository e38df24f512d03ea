/* A Lua host whose allocator fails on demand: oomhost MODULE.so SCRIPT.lua. The script gets
 * `cnet` and `with_budget(n, f)`: calls f protected, with the n-th growing allocation failing,
 * and returns pcall's results; outside it nothing fails.
 * Used by link_spec.lua to drive out-of-memory errors through netlink reply callbacks. */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>

static long budget = -1;

static void *alloc(void *ud, void *ptr, size_t osize, size_t nsize) {
  (void)ud;
  if (nsize == 0) {
    free(ptr);
    return NULL;
  }
  if (ptr == NULL) osize = 0; /* osize then encodes the object type */
  if (nsize > osize && budget >= 0) {
    if (budget == 0) return NULL;
    budget--;
  }
  return realloc(ptr, nsize);
}

static int with_budget(lua_State *L) {
  long n = (long)luaL_checkinteger(L, 1);
  luaL_checktype(L, 2, LUA_TFUNCTION);
  lua_settop(L, 2);
  lua_checkstack(L, 8); /* room for the results, allocated before the budget is armed */
  budget = n;
  int status = lua_pcall(L, 0, 1, 0);
  budget = -1;
  lua_pushboolean(L, status == LUA_OK);
  lua_insert(L, -2);
  return 2;
}

int main(int argc, char **argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: oomhost MODULE.so SCRIPT.lua\n");
    return 2;
  }
  lua_State *L = lua_newstate(alloc, NULL);
  luaL_openlibs(L);
  void *h = dlopen(argv[1], RTLD_NOW | RTLD_GLOBAL);
  lua_CFunction open = h ? (lua_CFunction)dlsym(h, "luaopen_cnet") : NULL;
  if (open == NULL) {
    fprintf(stderr, "oomhost: %s\n", dlerror());
    return 2;
  }
  luaL_requiref(L, "cnet", open, 1);
  lua_pop(L, 1);
  lua_register(L, "with_budget", with_budget);
  int rc = luaL_dofile(L, argv[2]) == LUA_OK ? 0 : 1;
  if (rc) fprintf(stderr, "%s\n", luaL_tolstring(L, -1, NULL));
  lua_close(L);
  return rc;
}
