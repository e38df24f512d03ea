/* Placeholder until the nft binding lands: it adds no functions yet. */
#include "lcnet.h"

void lcnet_open_nft(lua_State *L, int ns) {
  (void)L;
  (void)ns;
}
