/* Routes (RTM_*ROUTE): decode, build, add/replace/delete, list, get. */
#ifndef CNET_ROUTE_H
#define CNET_ROUTE_H

#include <stdint.h>
#include <libmnl/libmnl.h>

#include "cnet/ipaddr.h"
#include "cnet/netns.h"

/* One route as the kernel reports it; pointers into the message given to cnet_route_parse. */
struct cnet_route {
  int family;
  uint8_t dst_len;
  uint8_t protocol, scope, type; /* RTPROT_*, RT_SCOPE_*, RTN_* */
  uint32_t table;                /* RTA_TABLE when present, else rtm_table */
  uint32_t flags;                /* RTM_F_* / RTNH_F_* of rtm_flags */
  const void *dst;               /* NULL for a default route */
  const void *gateway;           /* RTA_GATEWAY, or the address of RTA_VIA when of this family */
  int via_family;                /* family of gateway (may differ: IPv4 via IPv6) */
  const void *prefsrc;           /* RTA_PREFSRC */
  int oif;                       /* 0 for none */
  int has_priority;
  uint32_t priority;             /* the metric */
  const void *multipath;         /* RTA_MULTIPATH's payload (see cnet_route_nexthop), or NULL */
  uint16_t multipath_len;
};

/* One next hop of a multipath route; gateway points into the message. */
struct cnet_nexthop {
  int oif;                       /* 0 for none */
  int weight;                    /* 1..256 */
  uint8_t flags;                 /* RTNH_F_* (dead, onlink, linkdown, ...) */
  const void *gateway;           /* RTA_GATEWAY or RTA_VIA's address, NULL for none */
  int via_family;
};
/* Walks the next hops of r: *pos starts at 0; returns 1 with *out filled while there is one
 * more, 0 at the end (or at a malformed one). */
int cnet_route_nexthop(const struct cnet_route *r, size_t *pos, struct cnet_nexthop *out);

/* Decodes an RTM_NEWROUTE (or RTM_DELROUTE) message: 0 or -EINVAL. */
int cnet_route_parse(const struct nlmsghdr *nlh, struct cnet_route *out);

/* A next hop of a multipath route to add. */
struct cnet_nexthop_req {
  struct cnet_ipaddr via;        /* family 0: none (a device route) */
  int oif;                       /* 0: none */
  int weight;                    /* 1..256; 0: 1 */
};

struct cnet_route_req {
  int family;                    /* AF_INET / AF_INET6; 0: from dst/via */
  struct cnet_ipaddr dst;        /* family 0: default route */
  struct cnet_ipaddr via;        /* family 0: none */
  struct cnet_ipaddr src;        /* family 0: none */
  int oif;                       /* 0: none */
  int has_metric;
  uint32_t metric;
  uint32_t table;                /* 0: main */
  int protocol;                  /* -1: boot for add/replace (as ip), any for delete */
  int scope;                     /* -1: link without a gateway, universe with one; any for delete */
  int type;                      /* -1: unicast (any for delete) */
  const struct cnet_nexthop_req *hops; /* multipath (RTA_MULTIPATH): nhops next hops, used */
  unsigned nhops;                /* instead of via/oif; 0: a single path */
};
void cnet_route_req_init(struct cnet_route_req *req);

/* Fills an RTM_NEWROUTE/RTM_DELROUTE (type taken from nlh) whose header the caller made.
 * Returns 0, -EINVAL (families disagree, no family, a weight outside 1..256, via or oif
 * given with next hops) or -EMSGSIZE. */
int cnet_route_build(struct nlmsghdr *nlh, size_t room, const struct cnet_route_req *req);

/* add: -EEXIST when an equal route exists. replace: adds or replaces. delete: -ESRCH. */
int cnet_route_add(struct cnet_netns *ns, const struct cnet_route_req *req, int replace);
int cnet_route_delete(struct cnet_netns *ns, const struct cnet_route_req *req);

/* Every route of family (AF_UNSPEC: IPv4 and IPv6) in table (0: every table). Cached and
 * cloned entries are left out. fn/reset as for links. */
typedef int (*cnet_route_fn)(const struct cnet_route *r, void *data);
int cnet_route_list(struct cnet_netns *ns, int family, uint32_t table, cnet_route_fn fn,
                    void (*reset)(void *data), void *data);

/* The route the kernel would use to reach addr (RTM_GETROUTE), optionally from src / out of
 * oif (0: any). fn receives it once. -ENETUNREACH etc. when there is none. */
int cnet_route_get(struct cnet_netns *ns, const struct cnet_ipaddr *addr,
                   const struct cnet_ipaddr *src, int oif, cnet_route_fn fn, void *data);

/* Names: protocol ("kernel", "boot", "static", ... or NULL), type ("unicast", "local", ...),
 * table ("main", "local", "default" or NULL). The parsers return -EINVAL when unknown. */
const char *cnet_route_protocol_name(uint8_t proto);
int cnet_route_protocol_parse(const char *name);
const char *cnet_route_type_name(uint8_t type);
int cnet_route_type_parse(const char *name);
const char *cnet_route_table_name(uint32_t table);
long cnet_route_table_parse(const char *name);

#endif
