/* Shared by cnet.tc's files: tc.c binds the qdisc and class functions and asks tc_filter.c
 * for the filter ones. */
#ifndef LCNET_LTC_H
#define LCNET_LTC_H

#include "common/lcnet.h"

/* Sets `filter` (cnet.tc.filter), bound to the handle at stack index ns, in the table at
 * the top of the stack (cnet.tc). */
void lcnet_open_tc_filter(lua_State *L, int ns);

#endif
