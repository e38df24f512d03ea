/* Placeholder until the sysctl binding lands: it adds no functions yet. */
#include "lcnet.h"

void lcnet_open_sysctl(lua_State *L, int ns) {
  (void)L;
  (void)ns;
}
