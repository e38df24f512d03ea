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

/* The text of a device argument (name or index) at stack index v, for messages: the name,
 * or the index formatted (pushed); a value of another type gives "?" (the device's own
 * check reports it). Reads no user input it has not already been given as checked. */
const char *lcnet_dev_text(lua_State *L, int v);

/* Field `key` of the fields f as a hardware address ("02:00:00:00:00:01") into out
 * (CNET_LLADDR_MAX bytes): returns its length, 0 when the field is nil. A malformed one
 * raises `op object: Invalid argument: invalid mac address "TEXT"`. */
unsigned lcnet_field_lladdr(const lcnet_fields *f, const char *key, const char *op,
                            const char *object, unsigned char *out);

/* A routing table field of the table at idx: a number (lo..4294967295) or "main", "local",
 * "default"; 0 when nil. */
uint32_t lcnet_opt_table(lua_State *L, int idx, const char *key, lua_Integer lo);
/* An enumeration field given by name (parse returns its value or < 0) or number (0..255);
 * -1 when nil. */
int lcnet_opt_enum(lua_State *L, int idx, const char *key, int (*parse)(const char *));

/* Pushes the name of device `index` for a listing, cached in the table at stack index
 * `names` (ifindex -> name); a device gone meanwhile is named "ifN". With full = 0 it asks
 * only the kernel's ioctl (no netlink), so it is safe inside a dump's reply callback; with
 * full = 1 it may also ask netlink (cnet_link_name), so only after the dump. */
void lcnet_push_ifname(lua_State *L, struct cnet_netns *ns, int names, int index, int full);

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

/* A listing's result being built inside a dump: the list at stack index `list`, n entries so
 * far. The first member of each binding's collect struct, so that one reset serves all. */
struct lcnet_list {
  lua_State *L;
  int list, n;
};
/* Before a retried (interrupted) dump: a fresh empty list in the same stack slot. */
void lcnet_list_reset(void *list);
/* Appends the value on top of the stack (popped). */
static inline void lcnet_list_add(struct lcnet_list *l) { lua_rawseti(l->L, l->list, ++l->n); }

/* Runs body(L, ctx) under lua_pcall: body builds Lua values inside netlink reply callbacks,
 * where an error (out of memory) would otherwise unwind through the socket's flush and leave
 * its queue pointing at a dead C frame. On such an error the rtnetlink queue of ns is
 * discarded and the error raised again. body returns how many results it left (at most 1)
 * and sets *rc (0 or -errno); lcnet_pdump returns *rc with body's result pushed when 0. */
typedef int (*lcnet_body)(lua_State *L, void *ctx, int *rc);
int lcnet_pdump(lua_State *L, struct cnet_netns *ns, lcnet_body body, void *ctx);

#endif
