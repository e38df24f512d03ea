/* VLANs of bridge ports (`bridge vlan`): RTM_SETLINK/RTM_DELLINK of family AF_BRIDGE with an
 * IFLA_AF_SPEC of VLAN entries, and the AF_BRIDGE link dump that reports them. The kernel
 * takes them only on a bridge with vlan_filtering (CONFIG_BRIDGE_VLAN_FILTERING); without
 * it every change fails with -EOPNOTSUPP and listings hold no VLANs. */
#ifndef CNET_BRVLAN_H
#define CNET_BRVLAN_H

#include <stdint.h>
#include <libmnl/libmnl.h>

#include "cnet/netns.h"

/* One VLAN, or a range of VLANs with the same flags, of one device. */
struct cnet_brvlan {
  int index;                 /* the port, or the bridge itself (its own VLANs, "self") */
  int master;                /* the port's bridge (IFLA_MASTER), 0 for the bridge itself */
  uint16_t vid, vid_end;     /* vid_end == vid for a single VLAN */
  uint16_t flags;            /* BRIDGE_VLAN_INFO_PVID, _UNTAGGED */
};

/* What to add or delete. */
struct cnet_brvlan_req {
  int index;                 /* the port (or the bridge with self) */
  uint16_t vid;              /* 1..4094 */
  uint16_t vid_end;          /* 0: vid alone; else the last of the range vid..vid_end */
  uint16_t flags;            /* BRIDGE_VLAN_INFO_PVID (not with a range), _UNTAGGED */
  uint16_t bridge_flags;     /* BRIDGE_FLAGS_SELF / _MASTER; 0: not sent (the kernel: master) */
};

/* Fills an RTM_SETLINK (add) or RTM_DELLINK (delete) whose header the caller made. Returns
 * 0, -EINVAL (vid outside 1..4094, an empty range, pvid on a range) or -EMSGSIZE. */
int cnet_brvlan_build(struct nlmsghdr *nlh, size_t room, const struct cnet_brvlan_req *req);

/* 0 or -errno (-EOPNOTSUPP without VLAN filtering in the kernel or on the bridge, -ENODEV,
 * -EINVAL); the kernel's text in cnet_netns_errbuf. Deferred inside a batch. */
int cnet_brvlan_add(struct cnet_netns *ns, const struct cnet_brvlan_req *req);
int cnet_brvlan_delete(struct cnet_netns *ns, const struct cnet_brvlan_req *req);

/* Calls fn for each VLAN entry of an AF_BRIDGE RTM_NEWLINK message (ranges as one entry).
 * Returns 0, fn's non-zero value, or -EINVAL when the message is not such a link. */
typedef int (*cnet_brvlan_fn)(const struct cnet_brvlan *v, void *data);
int cnet_brvlan_parse(const struct nlmsghdr *nlh, cnet_brvlan_fn fn, void *data);

/* Every VLAN of device `index` (0: of every bridge and port), from one dump. fn: non-zero
 * stops and is returned; reset before a retried dump. */
int cnet_brvlan_list(struct cnet_netns *ns, int index, cnet_brvlan_fn fn,
                     void (*reset)(void *data), void *data);

#endif
