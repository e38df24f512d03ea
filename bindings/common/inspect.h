/* The value printer shared by the REPL and cnet.inspect (bindings/common/inspect.c). */
#ifndef LCNET_INSPECT_H
#define LCNET_INSPECT_H

#include "common/lcnet.h"

/* Pushes a readable rendering of the value at idx: tables nested and sorted, strings quoted.
 * depth and width of 0 take the defaults (6 levels, 78 columns). */
void lcnet_inspect_push(lua_State *L, int idx, int depth, int width);

/* cnet.inspect(value [, {depth = n, width = n}]) -> string, as a lua_CFunction. */
int lcnet_inspect(lua_State *L);

/* Sets cnet.inspect in the table at the top of the stack (the module table). */
void lcnet_open_inspect(lua_State *L);

#endif
