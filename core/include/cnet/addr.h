/* Interface addresses (RTM_*ADDR): decode, build, list, add, delete, flush. */
#ifndef CNET_ADDR_H
#define CNET_ADDR_H

#include <stdint.h>
#include <libmnl/libmnl.h>

#include "cnet/ipaddr.h"
#include "cnet/netns.h"

/* One address as the kernel reports it; pointers into the message given to cnet_addr_parse. */
struct cnet_addr {
  int family;                /* AF_INET / AF_INET6 */
  int index;                 /* ifindex of the device */
  uint8_t prefix;
  uint8_t scope;             /* RT_SCOPE_* */
  uint32_t flags;            /* IFA_F_* (IFA_FLAGS when present) */
  const void *address;       /* IFA_LOCAL, else IFA_ADDRESS */
  const void *peer;          /* IFA_ADDRESS when it differs from IFA_LOCAL (point-to-point) */
  const void *broadcast;     /* IFA_BROADCAST or NULL */
  const char *label;         /* IFA_LABEL or NULL */
  uint32_t valid, preferred; /* lifetimes in seconds (0xffffffff: forever) */
};

/* Decodes an RTM_NEWADDR (or RTM_DELADDR) message: 0, or -EINVAL when it is not one / lacks an
 * address. */
int cnet_addr_parse(const struct nlmsghdr *nlh, struct cnet_addr *out);

/* What to add or delete. */
struct cnet_addr_req {
  int index;                 /* device */
  struct cnet_ipaddr addr;   /* address and prefix */
  int broadcast;             /* 0: none, 1: explicit (brd), 2: host bits set ("+") */
  struct cnet_ipaddr brd;
  const char *label;         /* NULL: none */
  int scope;                 /* -1: the kernel's choice (global, host for 127/8) */
  int has_lifetime;
  uint32_t valid, preferred; /* seconds; 0xffffffff forever */
  uint32_t flags;            /* IFA_F_* to set (nodad, noprefixroute, home, ...); 0: none */
};
void cnet_addr_req_init(struct cnet_addr_req *req);

/* Fills an RTM_NEWADDR/RTM_DELADDR whose header the caller made. Returns 0, -EINVAL
 * (broadcast on IPv6, family mismatch, label too long) or -EMSGSIZE. */
int cnet_addr_build(struct nlmsghdr *nlh, size_t room, const struct cnet_addr_req *req);

/* add: -EEXIST when the device has the address already (replace = 0). */
int cnet_addr_add(struct cnet_netns *ns, const struct cnet_addr_req *req, int replace);
int cnet_addr_delete(struct cnet_netns *ns, const struct cnet_addr_req *req);

/* Every address of `family` (AF_UNSPEC: both) on device `index` (0: all). fn as for links:
 * non-zero stops the dump and is returned; reset before a retried dump. */
typedef int (*cnet_addr_fn)(const struct cnet_addr *a, void *data);
int cnet_addr_list(struct cnet_netns *ns, int family, int index, cnet_addr_fn fn,
                   void (*reset)(void *data), void *data);

/* Deletes every address of `family` on device index (must be > 0), in one batch of requests.
 * *count (may be NULL) receives how many were removed. */
int cnet_addr_flush(struct cnet_netns *ns, int family, int index, unsigned *count);

/* Names of the IFA_F_* flags an address can carry, as `ip -j addr` spells them (with '_'
 * for '-'): "secondary" (IPv4; "temporary" for IPv6), "nodad", "optimistic", "dadfailed",
 * "home", "deprecated", "tentative", "permanent", "mngtmpaddr", "noprefixroute", "autojoin",
 * "stable_privacy". name returns NULL for an unnamed bit; parse returns the bit or -EINVAL. */
const char *cnet_addr_flag_name(int family, uint32_t bit);
long cnet_addr_flag_parse(const char *name);

const char *cnet_scope_name(uint8_t scope); /* "global", "link", "host", "site", "nowhere" or NULL */
int cnet_scope_parse(const char *name);     /* -EINVAL when unknown */

#endif
