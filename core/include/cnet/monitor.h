/* Change notifications of one namespace, as `ip monitor` and `nft monitor` see them: netlink
 * sockets opened inside the namespace and subscribed to the kernel's multicast groups, read
 * with a timeout. The messages are the kernel's own (RTM_NEWLINK, NFT_MSG_NEWRULE, ...): the
 * listings' decoders (cnet_link_parse, cnet_neigh_parse, cnet_tc_parse, cnet_nft_event_decode
 * ...) read them. */
#ifndef CNET_MONITOR_H
#define CNET_MONITOR_H

#include <libmnl/libmnl.h>

#include "cnet/netns.h"

/* What to watch, and what each message is about. */
enum {
  CNET_MON_LINK = 1,     /* RTM_NEWLINK / RTM_DELLINK */
  CNET_MON_ADDR = 2,     /* RTM_NEWADDR / RTM_DELADDR, IPv4 and IPv6 */
  CNET_MON_ROUTE = 4,    /* RTM_NEWROUTE / RTM_DELROUTE, IPv4 and IPv6 */
  CNET_MON_NEIGH = 8,    /* RTM_NEWNEIGH / RTM_DELNEIGH */
  CNET_MON_TC = 16,      /* RTM_NEW/DEL QDISC and TCLASS */
  CNET_MON_NFT = 32,     /* nf_tables messages (NFNLGRP_NFTABLES) */
  CNET_MON_ALL = 63,
  CNET_MON_OVERFLOW = 64 /* not a group: the kernel dropped notifications (see below) */
};

struct cnet_monitor;

/* Subscribes to `what` (CNET_MON_* bits, at least one) in ns. Returns 0 or -errno (-EINVAL
 * for no bits; socket errors). *out is the caller's (cnet_monitor_close). The monitor does
 * not keep ns: it may be closed first. */
int cnet_monitor_open(struct cnet_netns *ns, unsigned what, struct cnet_monitor **out);
void cnet_monitor_close(struct cnet_monitor *m); /* NULL is fine */

/* Waits up to timeout_ms (< 0: without end, 0: only what is there) for notifications, then
 * hands fn every one that has arrived by then, in the order of each socket. When the kernel
 * had to drop notifications because the socket's buffer was full, fn gets what =
 * CNET_MON_OVERFLOW and nlh = NULL at that point: what changed meanwhile is lost, read the
 * state again. fn returning non-zero stops the delivery (the rest stays for the next call)
 * and is returned. Returns the number of notifications delivered (0: the time ran out),
 * -EINTR when a signal interrupted the wait, or -errno. */
typedef int (*cnet_monitor_fn)(unsigned what, const struct nlmsghdr *nlh, void *data);
int cnet_monitor_read(struct cnet_monitor *m, int timeout_ms, cnet_monitor_fn fn, void *data);

/* 1 when the message reports a deletion (RTM_DEL*, NFT_MSG_DEL*), else 0. */
int cnet_monitor_is_del(unsigned what, const struct nlmsghdr *nlh);

#endif
