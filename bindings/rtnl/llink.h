/* Shared by the files of cnet.link: link.c (list, get, add, set, delete), link_info.c (a kind's
 * and a port's fields, both ways), link_stats.c (link.stats). */
#ifndef LLINK_H
#define LLINK_H

#include "cnet/link.h"
#include "common/lcnet.h"

/* Sets, in the link table on top of the stack, what l's kind and master say about it:
 * `info` (the kind's fields), `port` (its fields as a port) and `port_kind`, as
 * `ip -d -j link` lists them. Device indexes inside are named through ns where it knows them
 * (an ioctl each, safe inside a dump's callback); with ns NULL they stay indexes. */
void llink_push_details(lua_State *L, struct cnet_netns *ns, const struct cnet_link *l);

/* Options of a request, read from a Lua table: values point into the table's strings or
 * into these buffers, so the struct lives as long as the call. */
struct llink_opts {
  struct cnet_link_opt o[CNET_LINK_MAX_OPTS];
  unsigned char bytes[CNET_LINK_MAX_OPTS][32]; /* MAC values */
  unsigned n;
};

/* Reads every key of the table at idx that is not in `skip` (NULL-terminated, may be NULL) as
 * a field of `kind` (port = 0) or of a port under a `kind` master (port = 1) into opts.
 * `arg` is the argument the table is or is inside, `path` the nested table's name ("port")
 * or NULL. Unknown keys, read-only fields and bad values raise argument errors; values that
 * are well-typed but unusable (a malformed address, a missing device) raise `op object: ...`
 * error objects. Device names resolve in ns. Leaves one table on the stack, which keeps the
 * buffers of long values (a macvlan's address list) alive until the call returns. */
void llink_read_opts(lua_State *L, int idx, int arg, const char *path, const char *kind,
                     int port, const char *const skip[], struct cnet_netns *ns, const char *op,
                     const char *object, struct llink_opts *opts);

/* 1 when some kind cnet knows has a field called name (for "not for type X" messages). */
int llink_known_field(const char *name);

/* link.c: a link-layer address as "aa:bb:..." (lowercase), pushed (cnet_lladdr_format). */
void llink_push_mac(lua_State *L, const unsigned char *mac, unsigned len);

/* cnet.link.fields (link_info.c). */
int llink_fields(lua_State *L);

/* cnet.link.stats (link_stats.c). */
int llink_stats(lua_State *L);

#endif
