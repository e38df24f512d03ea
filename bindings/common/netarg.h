/* Argument helpers shared by the link, addr and route bindings: device arguments (name or
 * index) resolved in a namespace, addresses, families. Built on the argument layer (args.h). */
#ifndef LCNET_NETARG_H
#define LCNET_NETARG_H

#include "common/lcnet.h"
#include "cnet/ipaddr.h"

/* A device given as a name (string) or an ifindex (integer) at stack index `v`, resolved in
 * ns. Raises `op object: No such device` (ENODEV, with "<what> NAME" as detail) when
 * missing, a type error for other types. */
int lcnet_ifindex(lua_State *L, struct cnet_netns *ns, int v, int arg, const char *op,
                  const char *object, const char *what);
/* The same, asking the kernel even inside a batch: for an index sent on another namespace's
 * socket than ns's, where the batch cannot check a remembered one. */
int lcnet_ifindex_now(lua_State *L, struct cnet_netns *ns, int v, int arg, const char *op,
                      const char *object, const char *what);

/* A device argument at idx that must be a name or an index, resolved as lcnet_ifindex does;
 * *label is its text for messages (the name, or the index formatted in a pushed string). */
int lcnet_dev_arg(lua_State *L, struct cnet_netns *ns, int idx, const char *op,
                  const char **label);

/* Parses an address (prefix = 0: bare; 1: "a/p" or bare) from the string at stack index v;
 * on failure raises `op object: Invalid argument: invalid address "TEXT"`. */
void lcnet_checkaddr(lua_State *L, int v, int prefix, int family, const char *op,
                     const char *object, struct cnet_ipaddr *out);

/* Family names: "inet"/"inet6" (also "ip"/"ip6", "ipv4"/"ipv6", 4 and 6) to AF_*; nil gives
 * AF_UNSPEC. Raises a bad-argument error otherwise. */
int lcnet_opt_family(lua_State *L, int idx, const char *key);
const char *lcnet_family_name(int family);

/* Runs body(L, ctx) under lua_pcall: body builds Lua values inside netlink reply callbacks,
 * where an error (out of memory) would otherwise unwind through the socket's flush and leave
 * its queue pointing at a dead C frame. On such an error the rtnetlink queue of ns is
 * discarded and the error raised again. body returns how many results it left (at most 1)
 * and sets *rc (0 or -errno); lcnet_pdump returns *rc with body's result pushed when 0. */
typedef int (*lcnet_body)(lua_State *L, void *ctx, int *rc);
int lcnet_pdump(lua_State *L, struct cnet_netns *ns, lcnet_body body, void *ctx);

#endif
