/* Placeholder until the link binding lands: it adds no functions yet. */
#include "lcnet.h"

void lcnet_open_link(lua_State *L, int ns) {
  (void)L;
  (void)ns;
}
