/* Placeholder until the proc binding lands: it adds no functions yet. */
#include "lcnet.h"

void lcnet_open_proc(lua_State *L, int ns) {
  (void)L;
  (void)ns;
}
