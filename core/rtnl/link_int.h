/* What the link files of core/rtnl share (link.c, link_set.c, link_stats.c, tuntap.c). */
#ifndef CNET_LINK_INT_H
#define CNET_LINK_INT_H

#include "cnet/link.h"

/* Starts an RTM_GETLINK/NEWLINK/DELLINK that will name the link by index, or by name when
 * index is 0 (checked: -ENODEV for a name no link can have). NULL with *rc set on failure. */
struct nlmsghdr *link_start_named(struct cnet_nl *nl, uint16_t type, uint16_t flags, int index,
                                  const char *name, int *rc);

/* Sends the request built on nl. Outside a batch one that names a namespace by descriptor
 * is answered before the call returns, like every other. */
int link_talk_fds(struct cnet_nl *nl, const struct cnet_link_req *req, char *err);

/* After a device is made: what its creation could not carry (the alias; with `all`, also
 * mtu, mac, master and up), as one change of it in `home`, the namespace it was made in.
 * Outside a batch the device is deleted again when the kernel refuses that change; the
 * error's text goes to ns. */
int link_add_rest(struct cnet_netns *ns, struct cnet_netns *home, const struct cnet_link_req *req,
                  int all);

/* tuntap.c: makes a tun/tap device through /dev/net/tun (req->info holds the fields of the
 * "tun" kind: type, pi, vnet_hdr, multi_queue, persist, user, group). */
int link_add_tuntap(struct cnet_netns *ns, const struct cnet_link_req *req);

#endif
