/* The CNI plugin's Lua sources (cni/), compiled in as data by cmake/embed_lua.cmake. */
#ifndef LCNET_CNI_CHUNKS_H
#define LCNET_CNI_CHUNKS_H

#include <stddef.h>

struct lcnet_chunk {
  const char *module; /* "cnet.cni.json" */
  const char *path;   /* "cni/json.lua", the chunk name in messages */
  const char *text;   /* not NUL-terminated */
  size_t len;
};

/* Ends with an entry whose module is NULL. */
extern const struct lcnet_chunk lcnet_cni_chunks[];

#endif
