/* cnet.now() and cnet.sleep(seconds): the time scripts need to wait for something (a server
 * to listen, a device to go away) without a process per wait. */
#include <errno.h>
#include <math.h>
#include <time.h>

#include "common/args.h"
#include "common/lcnet.h"

/* cnet.now() -> seconds on the monotonic clock (a float): for measuring and deadlines. */
static int clock_now(lua_State *L) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  lua_pushnumber(L, (lua_Number)ts.tv_sec + (lua_Number)ts.tv_nsec / 1e9);
  return 1;
}

/* cnet.sleep(seconds) -> true, or false when a signal (Ctrl-C) cut it short, so that the
 * host's interrupt reaches the script at once rather than after the whole sleep. */
static int clock_sleep(lua_State *L) {
  lua_Number s = lcnet_check_number(L, 1, 0, 86400.0 * 365, "seconds");
  struct timespec ts = {(time_t)s, (long)((s - floor(s)) * 1e9)};
  int rc = nanosleep(&ts, NULL);
  lua_pushboolean(L, rc == 0 || errno != EINTR);
  return 1;
}

void lcnet_open_clock(lua_State *L) {
  lua_pushcfunction(L, clock_now);
  lua_setfield(L, -2, "now");
  lua_pushcfunction(L, clock_sleep);
  lua_setfield(L, -2, "sleep");
}
