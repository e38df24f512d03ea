/* A Lua host whose allocations fail on demand: oomhost MODULE.so SCRIPT.lua. The script gets
 * `cnet` and:
 *   with_budget(n, f)  calls f protected with the n-th growing Lua allocation failing, and
 *                      every one after it; returns pcall's results.
 *   with_failing(n, f) calls f protected with the n-th call of malloc, calloc or realloc in
 *                      the whole process failing, once (the core's, libmnl's, libnftnl's,
 *                      libc's own and Lua's: Lua collects and retries, so a Lua allocation
 *                      absorbs it); returns pcall's results plus whether the failure
 *                      happened (false: f made fewer than n allocations).
 *   fds()              the number of open file descriptors.
 *   live()             the number of C heap blocks allocated and not freed.
 * Outside those calls nothing fails. The host replaces malloc, calloc, realloc and free (the
 * executable's own definitions come first for every library, and the real ones are found
 * with dlsym(RTLD_NEXT), which under AddressSanitizer are its own). Used by link_spec.lua,
 * route_spec.lua and oom_spec.lua. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>

/* ---- the process's allocator ---- */

static void *(*real_malloc)(size_t);
static void *(*real_calloc)(size_t, size_t);
static void *(*real_realloc)(void *, size_t);
static void (*real_free)(void *);

/* dlsym itself may allocate before the real functions are known: from here. */
static char boot[1 << 16];
static size_t boot_used;
static int in_boot(const void *p) {
  return (const char *)p >= boot && (const char *)p < boot + sizeof boot;
}
static void *boot_alloc(size_t n) {
  size_t need = 16 + ((n + 15) & ~(size_t)15); /* a header holding the size */
  if (boot_used + need > sizeof boot) return NULL;
  char *p = boot + boot_used;
  boot_used += need;
  memcpy(p, &n, sizeof n);
  return p + 16;
}
static size_t boot_size(const void *p) {
  size_t n;
  memcpy(&n, (const char *)p - 16, sizeof n);
  return n;
}

static void resolve(void) {
  static int busy;
  if (real_malloc != NULL || busy) return;
  busy = 1;
  real_calloc = (void *(*)(size_t, size_t))dlsym(RTLD_NEXT, "calloc");
  real_realloc = (void *(*)(void *, size_t))dlsym(RTLD_NEXT, "realloc");
  real_free = (void (*)(void *))dlsym(RTLD_NEXT, "free");
  real_malloc = (void *(*)(size_t))dlsym(RTLD_NEXT, "malloc");
  busy = 0;
}

static long countdown = -1; /* calls until the one that fails; -1: none fails */
static int fired;
static long live_blocks;

static int should_fail(void) {
  if (__atomic_load_n(&countdown, __ATOMIC_RELAXED) < 0) return 0;
  if (__atomic_sub_fetch(&countdown, 1, __ATOMIC_RELAXED) != 0) return 0;
  __atomic_store_n(&fired, 1, __ATOMIC_RELAXED);
  errno = ENOMEM; /* as the real ones do */
  return 1;
}

static void *counted(void *p) {
  if (p != NULL) __atomic_add_fetch(&live_blocks, 1, __ATOMIC_RELAXED);
  return p;
}

void *malloc(size_t n) {
  resolve();
  if (real_malloc == NULL) return boot_alloc(n);
  return should_fail() ? NULL : counted(real_malloc(n));
}

void *calloc(size_t n, size_t size) {
  resolve();
  if (real_calloc == NULL) return boot_alloc(n * size); /* boot is zeroed */
  return should_fail() ? NULL : counted(real_calloc(n, size));
}

void free(void *p) {
  if (p == NULL || in_boot(p)) return;
  resolve();
  __atomic_sub_fetch(&live_blocks, 1, __ATOMIC_RELAXED);
  real_free(p);
}

void *realloc(void *p, size_t n) {
  resolve();
  if (p == NULL) return malloc(n);
  if (n == 0) {
    free(p);
    return NULL;
  }
  if (in_boot(p)) { /* moved out of the boot area */
    void *q = malloc(n);
    if (q != NULL) memcpy(q, p, n < boot_size(p) ? n : boot_size(p));
    return q;
  }
  return should_fail() ? NULL : real_realloc(p, n);
}

/* ---- Lua's allocator ---- */

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

static int with_failing(lua_State *L) {
  long n = (long)luaL_checkinteger(L, 1);
  luaL_checktype(L, 2, LUA_TFUNCTION);
  lua_settop(L, 2);
  lua_checkstack(L, 8);
  __atomic_store_n(&fired, 0, __ATOMIC_RELAXED);
  __atomic_store_n(&countdown, n, __ATOMIC_RELAXED);
  int status = lua_pcall(L, 0, 1, 0);
  __atomic_store_n(&countdown, -1, __ATOMIC_RELAXED);
  lua_pushboolean(L, status == LUA_OK);
  lua_insert(L, -2);
  lua_pushboolean(L, __atomic_load_n(&fired, __ATOMIC_RELAXED));
  return 3;
}

static int fds(lua_State *L) {
  DIR *d = opendir("/proc/self/fd");
  int n = 0;
  if (d != NULL) {
    while (readdir(d) != NULL) n++;
    closedir(d);
  }
  lua_pushinteger(L, n - 3); /* ".", ".." and the directory's own descriptor */
  return 1;
}

static int live(lua_State *L) {
  lua_pushinteger(L, __atomic_load_n(&live_blocks, __ATOMIC_RELAXED));
  return 1;
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
  lua_register(L, "with_failing", with_failing);
  lua_register(L, "fds", fds);
  lua_register(L, "live", live);
  int rc = luaL_dofile(L, argv[2]) == LUA_OK ? 0 : 1;
  if (rc) fprintf(stderr, "%s\n", luaL_tolstring(L, -1, NULL));
  lua_close(L);
  dlclose(h); /* so that a leak check at exit sees only what the module lost */
  return rc;
}
