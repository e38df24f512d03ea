/* The Lua parts of cnet (bindings/lua/), compiled into the module as strings by
 * bindings/lua/embed.cmake and registered in package.preload when cnet loads. */
#ifndef LCNET_EMBEDDED_H
#define LCNET_EMBEDDED_H

#include <stddef.h>

struct lcnet_lua_source {
  const char *module; /* "cnet.topology"; NULL ends the table */
  const char *chunkname; /* "@cnet/topology/init.lua", for error messages */
  const char *text;
  size_t len;
};

extern const struct lcnet_lua_source lcnet_lua_sources[];

#endif
