/* Placeholder until the probe binding lands: it adds no functions yet. */
#include "lcnet.h"

void lcnet_open_probe(lua_State *L, int ns) {
  (void)L;
  (void)ns;
}
