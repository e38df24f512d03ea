/* Neighbour table entries (RTM_*NEIGH): IPv4 ARP and IPv6 NDP entries, proxy entries, and
 * the bridge forwarding database (family AF_BRIDGE: a MAC address on a bridge port, or a
 * VXLAN device's remote). The kernel uses one message for all of them, so one decoder and
 * one builder serve both `cnet.neigh` and `cnet.fdb`. */
#ifndef CNET_NEIGH_H
#define CNET_NEIGH_H

#include <stdint.h>
#include <libmnl/libmnl.h>

#include "cnet/ipaddr.h"
#include "cnet/lladdr.h"
#include "cnet/netns.h"

/* One entry as the kernel reports it; pointers point into the message given to
 * cnet_neigh_parse and live as long as it. */
struct cnet_neigh {
  int family;                  /* AF_INET, AF_INET6 or AF_BRIDGE */
  int index;                   /* ndm_ifindex: the device (an FDB entry's port), 0 for none */
  uint16_t state;              /* NUD_* */
  uint8_t flags;               /* NTF_* */
  uint32_t ext_flags;          /* NDA_FLAGS_EXT (NTF_EXT_*), 0 when absent */
  const void *dst;             /* NDA_DST: the neighbour's address, or a VXLAN remote */
  int dst_family;              /* AF_INET / AF_INET6 by dst's length; 0 without dst */
  const unsigned char *lladdr; /* NDA_LLADDR, lladdr_len bytes; NULL when absent */
  unsigned lladdr_len;
  int vlan;                    /* NDA_VLAN, -1 when absent */
  int port;                    /* NDA_PORT (UDP port of a VXLAN remote), host order; -1 */
  int64_t vni, src_vni;        /* NDA_VNI, NDA_SRC_VNI; -1 when absent */
  int via;                     /* NDA_IFINDEX: the device a VXLAN remote is reached through */
  int master;                  /* NDA_MASTER: the bridge an FDB entry belongs to; 0 */
  int link_netnsid;            /* NDA_LINK_NETNSID, -1 when absent */
  uint32_t nhid;               /* NDA_NH_ID, 0 when absent */
};

/* Decodes an RTM_NEWNEIGH (or RTM_DELNEIGH) message: 0, or -EINVAL when it is not one. */
int cnet_neigh_parse(const struct nlmsghdr *nlh, struct cnet_neigh *out);

/* What to add, replace, append or delete. Start from cnet_neigh_req_init (everything unset),
 * then fill what applies. */
struct cnet_neigh_req {
  int family;                  /* AF_BRIDGE for the FDB; 0 (or AF_INET/AF_INET6): dst's */
  int index;                   /* the device (FDB: the port or the VXLAN device) */
  uint16_t state;              /* NUD_* (add/replace/append only) */
  uint8_t flags;               /* NTF_* */
  uint32_t ext_flags;          /* NTF_EXT_*; 0 is not sent */
  struct cnet_ipaddr dst;      /* family 0: none */
  unsigned char lladdr[CNET_LLADDR_MAX];
  unsigned lladdr_len;         /* 0: none */
  int vlan, port;              /* -1: none */
  int64_t vni, src_vni;        /* -1: none */
  int via;                     /* 0: none */
};
void cnet_neigh_req_init(struct cnet_neigh_req *req);
/* The request naming the entry e (to delete exactly it): family, device, address(es),
 * vlan, VXLAN remote, and NTF_SELF or NTF_MASTER for an FDB entry (master when the kernel
 * reported the entry's bridge, else self). */
void cnet_neigh_req_of(const struct cnet_neigh *e, struct cnet_neigh_req *req);

/* Fills an RTM_NEWNEIGH/RTM_DELNEIGH whose header the caller made. Returns 0, -EINVAL (no
 * family: IP entries need dst; a vni or src_vni over 24 bits) or -EMSGSIZE. */
int cnet_neigh_build(struct nlmsghdr *nlh, size_t room, const struct cnet_neigh_req *req);

enum cnet_neigh_mode {
  CNET_NEIGH_ADD,              /* -EEXIST when the entry exists */
  CNET_NEIGH_REPLACE,          /* adds or overwrites */
  CNET_NEIGH_APPEND            /* FDB: one more remote for a VXLAN entry (bridge fdb append) */
};
/* Returns 0 or -errno (the kernel's text in cnet_netns_errbuf): -EEXIST, -ENODEV, -EINVAL
 * (the kernel's refusal of a combination), -EOPNOTSUPP (a device without an FDB). Inside a
 * batch (nl.h) the request is queued and 0 returned. */
int cnet_neigh_add(struct cnet_netns *ns, const struct cnet_neigh_req *req,
                   enum cnet_neigh_mode mode);
/* -ENOENT when there is no such entry. */
int cnet_neigh_delete(struct cnet_netns *ns, const struct cnet_neigh_req *req);

/* A state as one bit for filters: NUD_* bits, plus this one for the state without any bit. */
#define CNET_NUD_NONE 0x100u

/* Which entries a listing or a flush takes. */
struct cnet_neigh_filter {
  int family;                  /* AF_UNSPEC (IPv4 and IPv6), AF_INET, AF_INET6, AF_BRIDGE */
  int index;                   /* 0: any device; FDB: entries of this port or device */
  int master;                  /* FDB: entries of this bridge and its ports; 0: any */
  int proxy;                   /* IP: 1 lists the proxy entries instead of the cache */
  int vlan;                    /* FDB: only entries of this VLAN; 0: any */
  uint32_t states;             /* a mask of cnet_neigh_state_bit values; 0: any */
};

/* The bit of an entry's state in filters: for IP entries its NUD_* bit (the strongest when
 * more are set) or CNET_NUD_NONE; for FDB entries NUD_PERMANENT, else NUD_NOARP (static),
 * else NUD_STALE, else NUD_REACHABLE (dynamic). */
uint32_t cnet_neigh_state_bit(int family, uint16_t state);

/* Every entry the filter takes, in one dump (the kernel filters by device and bridge with
 * strict checking, 4.20+; the callback checks again what it can). fn: non-zero stops the
 * dump and is returned; reset runs before a retried dump. */
typedef int (*cnet_neigh_fn)(const struct cnet_neigh *e, void *data);
int cnet_neigh_list(struct cnet_netns *ns, const struct cnet_neigh_filter *f, cnet_neigh_fn fn,
                    void (*reset)(void *data), void *data);

/* Deletes every entry the filter takes: one dump, then every delete request in one send.
 * Entries gone in between are not errors. *count (may be NULL) receives how many were
 * deleted. Sent at once even inside a batch (it reads first, which sends the batch). */
int cnet_neigh_flush(struct cnet_netns *ns, const struct cnet_neigh_filter *f,
                     unsigned *count);

/* State names. IP: "permanent", "noarp", "reachable", "stale", "delay", "probe", "failed",
 * "incomplete", "none" (as `ip neigh` spells them, lowercase). FDB: "permanent", "static",
 * "stale", "dynamic" (as `bridge fdb` takes them). name returns NULL for an unknown state;
 * parse returns the filter bit (cnet_neigh_state_bit's), or -EINVAL. */
const char *cnet_neigh_state_name(int family, uint16_t state);
long cnet_neigh_state_parse(int family, const char *name);
/* The NUD_* state an add request sends for a state name: IP: the NUD bit (0 for "none");
 * FDB as `bridge fdb add` does: permanent = NOARP|PERMANENT, static = NOARP|REACHABLE,
 * dynamic = REACHABLE. -EINVAL for a name that cannot be added (FDB "stale"). */
long cnet_neigh_state_for_add(int family, const char *name);

#endif
