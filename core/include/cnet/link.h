/* Network links (RTM_*LINK): decode, build, list, get, add, set, delete. */
#ifndef CNET_LINK_H
#define CNET_LINK_H

#include <stdint.h>
#include <libmnl/libmnl.h>

#include "cnet/ipaddr.h"
#include "cnet/linkinfo.h"
#include "cnet/netns.h"

#define CNET_IFNAMSIZ 16 /* IFNAMSIZ: names are at most 15 bytes */
#define CNET_LINK_MAX_OPTS 64 /* kind (or port) options in one request, at most */

/* One link as the kernel describes it. Pointers point into the netlink message given to
 * cnet_link_parse and live only as long as it. */
struct cnet_link {
  int index;
  const char *name;
  const char *kind;          /* IFLA_INFO_KIND ("veth", "bridge", ...), NULL for none */
  uint32_t mtu;
  uint32_t flags;            /* IFF_* */
  const unsigned char *mac;  /* IFLA_ADDRESS, mac_len bytes; NULL when absent */
  unsigned mac_len;
  uint8_t operstate;         /* IF_OPER_* */
  int master;                /* ifindex of the master, 0 for none */
  int link;                  /* IFLA_LINK (veth peer, lower device), 0 for none */
  int link_netnsid;          /* IFLA_LINK_NETNSID: the peer's namespace id, -1 for none */
  uint32_t min_mtu, max_mtu; /* IFLA_MIN_MTU / IFLA_MAX_MTU, 0 when not reported */
  const char *alias;         /* IFLA_IFALIAS, NULL when it has none */
  const char *port_kind;     /* IFLA_INFO_SLAVE_KIND: its master's kind ("bridge"), or NULL */
  const struct nlattr *info_data; /* IFLA_INFO_DATA, the kind's own data, or NULL; and */
  const struct nlattr *port_data; /* IFLA_INFO_SLAVE_DATA, its data as a port, or NULL: both
                                   * read through cnet_link_details (cnet/linkinfo.h) */
  const struct nlattr *stats64;   /* IFLA_STATS64, or NULL: read through cnet_link_stats */
};

/* Decodes an RTM_NEWLINK (or RTM_DELLINK) message. Returns 0 or -EINVAL (not a link message). */
int cnet_link_parse(const struct nlmsghdr *nlh, struct cnet_link *out);

/* What to create or change. Zero the struct (cnet_link_req_init), then fill what applies;
 * fields left at their "unset" value are not sent. */
struct cnet_link_req {
  const char *name;          /* add: the new name; set: a new name (rename) */
  const char *kind;          /* add only: "veth", "bridge", "macvlan", "vxlan" */
  uint32_t mtu;              /* 0: unset */
  const unsigned char *mac;  /* NULL: unset */
  unsigned mac_len;
  int master;                /* ifindex; 0: unset; -1: no master (set only) */
  int up;                    /* -1: unset, 0: down, 1: up */
  int promisc;               /* -1: unset, 0: off, 1: promiscuous mode (IFF_PROMISC) */
  uint32_t txqueues, rxqueues; /* add only: the device's number of transmit and receive
                              * queues (IFLA_NUM_TX_QUEUES / _RX_); 0: the driver's default */
  int netns_fd;              /* -1: unset; else create in / move to that namespace */
  struct cnet_netns *netns;  /* set: the namespace netns_fd names, as a handle (borrowed);
                              * lets cnet_link_set check the move first and undo it */
  int new_index;             /* set with netns_fd: the ifindex to take there; 0: unset */
  int link;                  /* lower device ifindex (macvlan; vxlan's dev), 0: unset */
  /* veth */
  const char *peer_name;     /* NULL: the kernel picks vethN */
  int peer_netns_fd;         /* -1: the peer lives where the link does */
  struct cnet_netns *peer_netns; /* the namespace peer_netns_fd names (borrowed), or NULL */
  int peer_index;            /* the peer's ifindex; the kernel honours it only along with the
                              * device's own (add's index), 0: the kernel picks */
  const unsigned char *peer_mac;
  unsigned peer_mac_len;
  uint32_t peer_mtu;
  int peer_up;               /* -1 / 0 / 1 */
  uint32_t peer_txqueues, peer_rxqueues; /* as txqueues, rxqueues, for the peer; 0: default */
  /* The kind's own options (IFLA_INFO_DATA): fields of cnet_link_fields(kind, 0). In a set,
   * `kind` must then name the device's kind (the kernel refuses another). */
  const struct cnet_link_opt *info;
  unsigned ninfo;
  /* Options of the device as a port of its master (IFLA_INFO_SLAVE_DATA), set only: fields
   * of cnet_link_fields(port_kind, 1). */
  const char *port_kind;
  const struct cnet_link_opt *port;
  unsigned nport;
  const struct nlattr *info_base; /* set: the device's IFLA_INFO_DATA, from which flag bits
                                   * not given keep their value (NULL: they start from 0) */
  const char *alias;         /* IFLA_IFALIAS; NULL: unset; "": remove the alias */
};
void cnet_link_req_init(struct cnet_link_req *req);

/* Fills an RTM_NEWLINK request, its header already made by the caller (nlmsg_type and flags
 * are left alone): the ifinfomsg (index, up flags) and every attribute the request sets.
 * `index` is the link to change (0 to create, or to name it by req->name... see
 * cnet_link_set). Returns 0, -EINVAL (bad field), -ENAMETOOLONG, or -EMSGSIZE when `room`
 * bytes are not enough. */
int cnet_link_build(struct nlmsghdr *nlh, size_t room, int index, const struct cnet_link_req *req);

/* 0 when name is a valid interface name (1..15 bytes, no '/', ':' or whitespace, not "." or
 * ".."), -ENAMETOOLONG when too long, -EINVAL otherwise. */
int cnet_link_check_name(const char *name);

/* Listing: fn is called for each link; a non-zero return stops the dump and is returned.
 * reset (may be NULL) is called before a retried (interrupted) dump, so fn's data can
 * forget what it collected. Returns 0 or -errno; the kernel's text in cnet_netns_errbuf. */
typedef int (*cnet_link_fn)(const struct cnet_link *link, void *data);
int cnet_link_list(struct cnet_netns *ns, cnet_link_fn fn, void (*reset)(void *data),
                   void *data);

/* The same, only the links enslaved to `master` (an ifindex; 0: any) and/or of `kind`
 * (NULL: any). The kernel filters the dump itself where it can. */
int cnet_link_list_filtered(struct cnet_netns *ns, int master, const char *kind,
                            cnet_link_fn fn, void (*reset)(void *data), void *data);

/* One link, by index (when > 0) or by name. -ENODEV when missing. */
int cnet_link_get(struct cnet_netns *ns, int index, const char *name, cnet_link_fn fn,
                  void *data);
/* The same as cnet_link_get and cnet_link_list, with the counters in each link's stats64
 * (the plain calls ask the kernel to leave them out, which it then does not compute). */
int cnet_link_get_stats(struct cnet_netns *ns, int index, const char *name, cnet_link_fn fn,
                        void *data);
int cnet_link_list_stats(struct cnet_netns *ns, cnet_link_fn fn, void (*reset)(void *data),
                         void *data);

/* Counters (IFLA_STATS64): CNET_LINK_NSTATS of them, named as the fields of struct
 * rtnl_link_stats64, which are also the file names under /sys/class/net/DEV/statistics
 * ("rx_bytes", "tx_packets", ..., "rx_nohandler", "rx_otherhost_dropped"). */
#define CNET_LINK_NSTATS 25
const char *cnet_link_stat_name(unsigned i); /* NULL past the last */
/* Copies l's counters (from a reply with them) into values; returns how many the kernel gave
 * (an older kernel sends fewer: the rest are 0), 0 when l carries none. */
unsigned cnet_link_stats(const struct cnet_link *l, uint64_t values[CNET_LINK_NSTATS]);

/* Name to index, and index to name (name: CNET_IFNAMSIZ bytes). -ENODEV when missing. */
int cnet_link_index(struct cnet_netns *ns, const char *name, int *index);
/* The same, always asking the kernel (after sending what a batch queued): for an index that
 * goes into a request sent on another namespace's socket, where the batch cannot check a
 * remembered one before sending. */
int cnet_link_index_now(struct cnet_netns *ns, const char *name, int *index);
int cnet_link_name(struct cnet_netns *ns, int index, char *name);
/* The kernel's name lookup alone (SIOCGIFNAME), without netlink: safe inside a dump's reply
 * callback. 0, or -errno when that lookup fails (cnet_link_name may know more). */
int cnet_link_name_nowait(struct cnet_netns *ns, int index, char *name);

/* Creates a link (req->kind required; req->master must be an index in the namespace the
 * link is created in). Everything given (mtu, mac, master, up, peer) goes in the one
 * RTM_NEWLINK, so the kernel either makes the whole link or nothing, except a veth peer's up
 * (the kernel cannot open the peer before the pair exists): that is a second request, right
 * after, to the peer's namespace; if it fails the pair is deleted again (inside a batch it
 * is queued, and its failure reported with the batch's). -EEXIST when the name is taken,
 * -EOPNOTSUPP for a kind the kernel does not know. */
int cnet_link_add(struct cnet_netns *ns, const struct cnet_link_req *req);
/* The kernel's answer to a request for a kind it has no driver for ("Unknown device type"),
 * said plainly in buf (CNET_ERRMSG_MAX bytes; may be extack itself): "link kind vlan is not
 * available in this kernel". Any other answer is copied as it is. Returns rc. For a batch,
 * whose answers come after the call returned. */
int cnet_link_explain(int rc, const char *extack, const char *kind, char *buf);
/* Changes the link `index` (or, when index is 0, the link named `name`) in one request:
 * rename, mtu, mac, master/nomaster, up/down, namespace. All or nothing: the kernel applies
 * the attributes of one request in its own order and keeps what it applied before a later
 * one fails, so a request changing more than one thing first reads the link, refuses
 * what it can tell will fail (-EEXIST: the name is taken where the link would end up;
 * -EOPNOTSUPP: the master is not a bridge, bond, team or vrf; -EINVAL: an mtu outside the
 * device's range or a mac of the wrong length), and if the kernel still refuses, sends the
 * old values of whatever changed back (moving the link back from req->netns, under its
 * old ifindex). The error returned, and the text in cnet_netns_errbuf(ns), stay the
 * kernel's first refusal. A move without req->netns set cannot be checked or undone.
 * Such a request is sent at once even inside a batch; a single change (only up, only mtu,
 * only a rename, only a move) is atomic in the kernel and may be deferred. */
int cnet_link_set(struct cnet_netns *ns, int index, const char *name,
                  const struct cnet_link_req *req);
/* Inside a batch (see nl.h), add and set are deferred like other requests, except those
 * that carry a namespace descriptor (netns_fd, peer_netns_fd): they are sent before the call
 * returns, so the caller may close the namespace right after. */
/* Deletes the link `index` (or named `name` when index is 0). A veth's peer goes with it. */
int cnet_link_delete(struct cnet_netns *ns, int index, const char *name);
/* The same, returning as soon as the device has left its namespace (the kernel's
 * RTM_DELLINK notification) instead of when the kernel has freed it: the kernel's last
 * 20-60 ms of waiting (RCU grace periods, the device's last references) go to a detached
 * process that sends the request. An error the kernel answers (-ENODEV, -EOPNOTSUPP for a
 * device that cannot be deleted) is returned as by cnet_link_delete. */
int cnet_link_delete_unwaited(struct cnet_netns *ns, int index, const char *name);

/* Names of IFF_* flags and IF_OPER_* states (lowercase states, uppercase flags as ip prints
 * them). cnet_link_flag_name returns NULL for an unnamed bit. */
const char *cnet_link_flag_name(uint32_t bit);
/* The names of the bits set in flags, in the order ip prints them; returns how many. */
unsigned cnet_link_flag_names(uint32_t flags, const char *names[32]);
const char *cnet_link_operstate_name(uint8_t state);

#endif
