/* Placeholder until the route binding lands: it adds no functions yet. */
#include "lcnet.h"

void lcnet_open_route(lua_State *L, int ns) {
  (void)L;
  (void)ns;
}
