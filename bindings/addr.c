/* Placeholder until the addr binding lands: it adds no functions yet. */
#include "lcnet.h"

void lcnet_open_addr(lua_State *L, int ns) {
  (void)L;
  (void)ns;
}
