/* Encoding kind and port options into a request (the inverse of cnet_link_details), for
 * link.c and tuntap.c. Internal to core/rtnl. */
#ifndef CNET_LINKINFO_INT_H
#define CNET_LINKINFO_INT_H

#include <stddef.h>
#include <libmnl/libmnl.h>

#include "cnet/linkinfo.h"

/* Appends the attributes of opts to nlh, which may grow to `limit` bytes in all. BIT fields
 * of one attribute are merged into it, starting from that attribute in `base` (the device's
 * current data, may be NULL); BOOLOPT fields into one br_boolopt_multi that changes only
 * them. Returns 0, -EINVAL (a read-only field, a value the field cannot take, an IPv6
 * address for an IPv4-only field) or -EMSGSIZE. */
int cnet_linkinfo_put(struct nlmsghdr *nlh, size_t limit, const struct cnet_link_opt *opts,
                      unsigned n, const struct nlattr *base);

/* For undoing a refused change: for each option of opts whose attribute differs between old
 * and now (the device's kind or port data before and after; either may be NULL), the
 * value it had in old, into out (room for n). Returns how many. What old lacks cannot be
 * given back and is skipped, and so is a macvlan's source list. Values point into old. */
unsigned cnet_linkinfo_undo(const struct nlattr *old, const struct nlattr *now,
                            const struct cnet_link_opt *opts, unsigned n,
                            struct cnet_link_opt *out);

/* The option of opts for the field named `name` (its listing name), or NULL. */
const struct cnet_link_opt *cnet_linkinfo_opt(const struct cnet_link_opt *opts, unsigned n,
                                              const char *name);

#endif
