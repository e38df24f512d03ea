/* Links: see include/cnet/link.h. */
#include "cnet/link.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <net/if.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>

#include "netlink/nlattr_int.h"
#include "rtnl/link_int.h"
#include "rtnl/linkinfo_int.h"

void cnet_link_req_init(struct cnet_link_req *req) {
  memset(req, 0, sizeof *req);
  req->up = -1;
  req->promisc = -1;
  req->peer_up = -1;
  req->netns_fd = -1;
  req->peer_netns_fd = -1;
}

int cnet_link_check_name(const char *name) {
  if (name == NULL || *name == '\0') return -EINVAL;
  if (strlen(name) >= CNET_IFNAMSIZ) return -ENAMETOOLONG;
  if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0) return -EINVAL;
  for (const char *p = name; *p; p++)
    if (*p == '/' || *p == ':' || *p == ' ' || *p == '\t' || *p == '\n') return -EINVAL;
  return 0;
}

/* ---- decoding ---- */

static void parse_linkinfo(const struct nlattr *info, struct cnet_link *out) {
  struct attrs it = attrs_nested(info);
  const struct nlattr *a;
  while ((a = next_attr(&it)) != NULL) {
    switch (attr_type(a)) {
    case IFLA_INFO_KIND: out->kind = attr_str(a); break;
    case IFLA_INFO_SLAVE_KIND: out->port_kind = attr_str(a); break;
    case IFLA_INFO_DATA: out->info_data = a; break;
    case IFLA_INFO_SLAVE_DATA: out->port_data = a; break;
    default: break;
    }
  }
}

int cnet_link_parse(const struct nlmsghdr *nlh, struct cnet_link *out) {
  memset(out, 0, sizeof *out);
  out->link_netnsid = -1;
  if ((nlh->nlmsg_type != RTM_NEWLINK && nlh->nlmsg_type != RTM_DELLINK) || nlh->nlmsg_len < MNL_NLMSG_HDRLEN + sizeof(struct ifinfomsg))
    return -EINVAL;
  const struct ifinfomsg *ifi = mnl_nlmsg_get_payload(nlh);
  out->index = ifi->ifi_index;
  out->flags = ifi->ifi_flags;
  struct attrs it = attrs_of_msg(nlh, sizeof *ifi);
  const struct nlattr *a;
  while ((a = next_attr(&it)) != NULL) {
    switch (attr_type(a)) {
    case IFLA_IFNAME: {
      const char *name = attr_str(a);
      if (name) out->name = name;
      break;
    }
    case IFLA_MTU: out->mtu = attr_u32(a, 0); break;
    case IFLA_ADDRESS:
      out->mac = attr_data(a);
      out->mac_len = attr_len(a);
      break;
    case IFLA_OPERSTATE:
      if (attr_len(a) >= 1) out->operstate = *(const uint8_t *)attr_data(a);
      break;
    case IFLA_MASTER: out->master = (int)attr_u32(a, 0); break;
    case IFLA_LINK: out->link = (int)attr_u32(a, 0); break;
    case IFLA_LINK_NETNSID:
      if (attr_len(a) >= 4) out->link_netnsid = (int)attr_u32(a, 0);
      break;
    case IFLA_LINKINFO: parse_linkinfo(a, out); break;
    case IFLA_MIN_MTU: out->min_mtu = attr_u32(a, 0); break;
    case IFLA_MAX_MTU: out->max_mtu = attr_u32(a, 0); break;
    case IFLA_IFALIAS: {
      const char *alias = attr_str(a);
      if (alias && *alias) out->alias = alias;
      break;
    }
    case IFLA_STATS64: out->stats64 = a; break;
    default: break;
    }
  }
  if (out->name == NULL) return -EINVAL;
  /* ordinary devices point at themselves; a veth whose peer lives in another namespace
   * (IFLA_LINK_NETNSID given) may have the same index as that peer */
  if (out->link == out->index && out->link_netnsid < 0) out->link = 0;
  return 0;
}

/* ---- building ---- */

struct room {
  struct nlmsghdr *nlh;
  size_t limit; /* total bytes the message may reach */
  int full;
};

static void put(struct room *r, uint16_t type, size_t len, const void *data) {
  if (!r->full && !mnl_attr_put_check(r->nlh, r->limit, type, len, data)) r->full = 1;
}
static void put_u32(struct room *r, uint16_t type, uint32_t v) { put(r, type, sizeof v, &v); }
static void put_str(struct room *r, uint16_t type, const char *s) { put(r, type, strlen(s) + 1, s); }
static struct nlattr *nest(struct room *r, uint16_t type) {
  if (r->full) return NULL;
  struct nlattr *n = mnl_attr_nest_start_check(r->nlh, r->limit, type);
  if (n == NULL) r->full = 1;
  return n;
}
static void nest_end(struct room *r, struct nlattr *n) {
  if (!r->full && n != NULL) mnl_attr_nest_end(r->nlh, n);
}

static void put_ifinfo(struct room *r, int index, int up, int promisc) {
  if (r->full || r->nlh->nlmsg_len + MNL_ALIGN(sizeof(struct ifinfomsg)) > r->limit) {
    r->full = 1;
    return;
  }
  struct ifinfomsg *ifi = (void *)((char *)r->nlh + r->nlh->nlmsg_len);
  memset(ifi, 0, MNL_ALIGN(sizeof *ifi));
  r->nlh->nlmsg_len += MNL_ALIGN(sizeof *ifi);
  ifi->ifi_family = AF_UNSPEC;
  ifi->ifi_index = index;
  if (up >= 0) {
    ifi->ifi_change |= IFF_UP;
    ifi->ifi_flags |= up ? IFF_UP : 0;
  }
  if (promisc >= 0) {
    ifi->ifi_change |= IFF_PROMISC;
    ifi->ifi_flags |= promisc ? IFF_PROMISC : 0;
  }
}

/* A device's queue counts. Given, they also spare the kernel a change after registering it:
 * a veth made with the driver's default (one queue per possible CPU) is cut down to one
 * real queue at once, which waits for an RCU grace period while holding the routing lock. */
static void put_queues(struct room *r, uint32_t tx, uint32_t rx) {
  if (tx) put_u32(r, IFLA_NUM_TX_QUEUES, tx);
  if (rx) put_u32(r, IFLA_NUM_RX_QUEUES, rx);
}

static void put_veth(struct room *r, const struct cnet_link_req *req) {
  struct nlattr *peer = nest(r, VETH_INFO_PEER);
  put_ifinfo(r, req->peer_index, req->peer_up, -1);
  if (req->peer_name) put_str(r, IFLA_IFNAME, req->peer_name);
  put_queues(r, req->peer_txqueues, req->peer_rxqueues);
  if (req->peer_netns_fd >= 0) put_u32(r, IFLA_NET_NS_FD, (uint32_t)req->peer_netns_fd);
  if (req->peer_mtu) put_u32(r, IFLA_MTU, req->peer_mtu);
  if (req->peer_mac) put(r, IFLA_ADDRESS, req->peer_mac_len, req->peer_mac);
  nest_end(r, peer);
}

/* The kind's or the port's options, as IFLA_INFO_DATA or IFLA_INFO_SLAVE_DATA. */
static void put_opts(struct room *r, uint16_t type, const struct cnet_link_opt *opts, unsigned n,
                     const struct nlattr *base, int *rc) {
  struct nlattr *data = nest(r, type);
  if (r->full) return;
  int e = cnet_linkinfo_put(r->nlh, r->limit, opts, n, base);
  if (e == -EMSGSIZE) r->full = 1;
  else if (e < 0) *rc = e;
  nest_end(r, data);
}

int cnet_link_build(struct nlmsghdr *nlh, size_t room, int index, const struct cnet_link_req *req) {
  int rc;
  if (req->name && (rc = cnet_link_check_name(req->name)) < 0) return rc;
  if (req->peer_name && (rc = cnet_link_check_name(req->peer_name)) < 0) return rc;
  if (req->kind && strlen(req->kind) == 0) return -EINVAL;
  if ((req->mac && (req->mac_len == 0 || req->mac_len > 32)) ||
      (req->peer_mac && (req->peer_mac_len == 0 || req->peer_mac_len > 32)))
    return -EINVAL;
  struct room r = {nlh, nlh->nlmsg_len + room, 0};
  put_ifinfo(&r, index, req->up, req->promisc);
  if (req->name) put_str(&r, IFLA_IFNAME, req->name);
  put_queues(&r, req->txqueues, req->rxqueues);
  if (req->mtu) put_u32(&r, IFLA_MTU, req->mtu);
  if (req->mac) put(&r, IFLA_ADDRESS, req->mac_len, req->mac);
  if (req->master) put_u32(&r, IFLA_MASTER, req->master < 0 ? 0 : (uint32_t)req->master);
  if (req->netns_fd >= 0) put_u32(&r, IFLA_NET_NS_FD, (uint32_t)req->netns_fd);
  if (req->netns_fd >= 0 && req->new_index > 0)
    put_u32(&r, IFLA_NEW_IFINDEX, (uint32_t)req->new_index);
  if (req->link > 0) put_u32(&r, IFLA_LINK, (uint32_t)req->link);
  /* without the NUL, as ip sends it: the kernel keeps the bytes given, and an empty one
   * removes the alias */
  if (req->alias) put(&r, IFLA_IFALIAS, strlen(req->alias), req->alias);
  int bad = 0;
  if (req->kind || (req->port_kind && req->nport)) {
    struct nlattr *info = nest(&r, IFLA_LINKINFO);
    if (req->kind) put_str(&r, IFLA_INFO_KIND, req->kind);
    int veth = req->kind && strcmp(req->kind, "veth") == 0;
    if (veth) {
      struct nlattr *data = nest(&r, IFLA_INFO_DATA);
      put_veth(&r, req);
      nest_end(&r, data);
    } else if (req->kind && req->ninfo) {
      put_opts(&r, IFLA_INFO_DATA, req->info, req->ninfo, req->info_base, &bad);
    }
    if (req->port_kind && req->nport) {
      put_str(&r, IFLA_INFO_SLAVE_KIND, req->port_kind);
      put_opts(&r, IFLA_INFO_SLAVE_DATA, req->port, req->nport, NULL, &bad);
    }
    nest_end(&r, info);
  }
  if (bad) return bad;
  return r.full ? -EMSGSIZE : 0;
}

/* ---- talking to the kernel ---- */

struct each {
  cnet_link_fn fn;
  void *data;
  int found;
  int master;        /* filters of a list: 0 / NULL for none */
  const char *kind;
  void (*reset)(void *data);
  int stats;         /* ask for the counters too */
};

/* Before a retried dump: the caller's reset gets the caller's data. */
static void each_reset(void *data) {
  struct each *e = data;
  e->found = 0;
  if (e->reset) e->reset(e->data);
}

static int each_cb(const struct nlmsghdr *nlh, void *data) {
  struct each *e = data;
  struct cnet_link l;
  if (cnet_link_parse(nlh, &l) < 0) return MNL_CB_OK;
  /* The kernel filters too (strict dumps), but an older one ignores the filter. */
  if (e->master && l.master != e->master) return MNL_CB_OK;
  if (e->kind && (l.kind == NULL || strcmp(l.kind, e->kind) != 0)) return MNL_CB_OK;
  e->found++;
  if (e->fn == NULL) return MNL_CB_OK;
  int rc = e->fn(&l, e->data);
  if (rc != 0) return rc < 0 ? rc : -ECANCELED;
  return MNL_CB_OK;
}

static int put_skip_stats(struct cnet_nl *nl, struct nlmsghdr *nlh) {
  if (!mnl_attr_put_u32_check(nlh, nlh->nlmsg_len + cnet_nl_room(nl), IFLA_EXT_MASK,
                              RTEXT_FILTER_SKIP_STATS))
    return -EMSGSIZE;
  return 0;
}

static int build_dump(struct cnet_nl *nl, void *data) {
  struct each *e = data;
  struct nlmsghdr *nlh = cnet_nl_msg(nl, RTM_GETLINK, NLM_F_DUMP);
  if (nlh == NULL) return -ENOMEM;
  struct ifinfomsg *ifi = mnl_nlmsg_put_extra_header(nlh, sizeof *ifi);
  ifi->ifi_family = AF_UNSPEC;
  size_t limit = nlh->nlmsg_len + cnet_nl_room(nl);
  if (e->master && !mnl_attr_put_u32_check(nlh, limit, IFLA_MASTER, (uint32_t)e->master))
    return -EMSGSIZE;
  if (e->kind) {
    struct nlattr *info = mnl_attr_nest_start_check(nlh, limit, IFLA_LINKINFO);
    if (info == NULL || !mnl_attr_put_strz_check(nlh, limit, IFLA_INFO_KIND, e->kind))
      return -EMSGSIZE;
    mnl_attr_nest_end(nlh, info);
  }
  return e->stats ? 0 : put_skip_stats(nl, nlh);
}

static int list(struct cnet_netns *ns, int master, const char *kind, int stats, cnet_link_fn fn,
                void (*reset)(void *data), void *data) {
  struct each e = {fn, data, 0, master, kind, reset, stats};
  struct cnet_nl *nl = cnet_netns_rtnl(ns);
  char *err = cnet_netns_errbuf(ns);
  err[0] = '\0';
  /* The kernel filters too (the callback checks again for kernels that do not). */
  return cnet_nl_dump_filtered(nl, master || kind, build_dump, each_cb, each_reset, &e, err);
}

int cnet_link_list_filtered(struct cnet_netns *ns, int master, const char *kind,
                            cnet_link_fn fn, void (*reset)(void *data), void *data) {
  return list(ns, master, kind, 0, fn, reset, data);
}

int cnet_link_list_stats(struct cnet_netns *ns, cnet_link_fn fn, void (*reset)(void *data),
                         void *data) {
  return list(ns, 0, NULL, 1, fn, reset, data);
}

int cnet_link_list(struct cnet_netns *ns, cnet_link_fn fn, void (*reset)(void *data),
                   void *data) {
  return cnet_link_list_filtered(ns, 0, NULL, fn, reset, data);
}

/* Starts an RTM_GETLINK/NEWLINK/DELLINK naming the link by index or by name. */
struct nlmsghdr *link_start_named(struct cnet_nl *nl, uint16_t type, uint16_t flags,
                                    int index, const char *name, int *rc) {
  *rc = 0;
  if (index <= 0) {
    if ((*rc = cnet_link_check_name(name)) < 0) {
      if (*rc == -EINVAL || *rc == -ENAMETOOLONG) *rc = -ENODEV; /* no such link can exist */
      return NULL;
    }
  }
  struct nlmsghdr *nlh = cnet_nl_msg(nl, type, flags);
  if (nlh == NULL) {
    *rc = -ENOMEM;
    return NULL;
  }
  return nlh;
}

static int get(struct cnet_netns *ns, int index, const char *name, int stats, cnet_link_fn fn,
               void *data) {
  struct cnet_nl *nl = cnet_netns_rtnl(ns);
  char *err = cnet_netns_errbuf(ns);
  err[0] = '\0';
  int rc;
  struct nlmsghdr *nlh = link_start_named(nl, RTM_GETLINK, 0, index, name, &rc);
  if (nlh == NULL) return rc;
  struct ifinfomsg *ifi = mnl_nlmsg_put_extra_header(nlh, sizeof *ifi);
  ifi->ifi_family = AF_UNSPEC;
  ifi->ifi_index = index > 0 ? index : 0;
  if (index <= 0) mnl_attr_put_strz(nlh, IFLA_IFNAME, name);
  if (!stats && (rc = put_skip_stats(nl, nlh)) < 0) {
    cnet_nl_cancel(nl);
    return rc;
  }
  struct each e = {fn, data, 0, 0, NULL, NULL, stats};
  rc = cnet_nl_talk(nl, each_cb, &e, err);
  if (rc == 0 && e.found == 0) rc = -ENODEV;
  return rc;
}

int cnet_link_get(struct cnet_netns *ns, int index, const char *name, cnet_link_fn fn,
                  void *data) {
  return get(ns, index, name, 0, fn, data);
}

int cnet_link_get_stats(struct cnet_netns *ns, int index, const char *name, cnet_link_fn fn,
                        void *data) {
  return get(ns, index, name, 1, fn, data);
}

static int index_cb(const struct cnet_link *l, void *data) {
  *(int *)data = l->index;
  return 0;
}

/* Name <-> index by ioctl on the namespace's own netlink socket: a socket's device ioctls act
 * in the socket's namespace, and they cost a microsecond where an RTM_GETLINK makes the
 * kernel build the whole link description. Inside a batch, what was deferred goes out first
 * (the name may belong to a link queued to be made). */
int cnet_link_index(struct cnet_netns *ns, const char *name, int *index) {
  *index = 0;
  cnet_netns_errbuf(ns)[0] = '\0';
  if (cnet_link_check_name(name) < 0) return -ENODEV;
  struct cnet_nl *nl = cnet_netns_rtnl(ns);
  if (cnet_nl_name_get(nl, name, index)) return 0; /* known inside this batch */
  int rc = cnet_link_index_now(ns, name, index);
  if (rc == 0) cnet_nl_name_put(nl, name, *index, 0);
  return rc;
}

int cnet_link_index_now(struct cnet_netns *ns, const char *name, int *index) {
  *index = 0;
  cnet_netns_errbuf(ns)[0] = '\0';
  if (cnet_link_check_name(name) < 0) return -ENODEV;
  struct cnet_nl *nl = cnet_netns_rtnl(ns);
  cnet_nl_sync(nl);
  struct ifreq ifr;
  memset(&ifr, 0, sizeof ifr);
  memcpy(ifr.ifr_name, name, strlen(name) + 1);
  if (ioctl(cnet_nl_fd(nl), SIOCGIFINDEX, &ifr) == 0) {
    *index = ifr.ifr_ifindex;
    return 0;
  }
  if (errno == ENODEV) return -ENODEV;
  return cnet_link_get(ns, 0, name, index_cb, index);
}

static int name_cb(const struct cnet_link *l, void *data) {
  strncpy(data, l->name, CNET_IFNAMSIZ - 1);
  ((char *)data)[CNET_IFNAMSIZ - 1] = '\0';
  return 0;
}

int cnet_link_name_nowait(struct cnet_netns *ns, int index, char *name) {
  name[0] = '\0';
  if (index <= 0) return -ENODEV;
  struct ifreq ifr;
  memset(&ifr, 0, sizeof ifr);
  ifr.ifr_ifindex = index;
  if (ioctl(cnet_nl_fd(cnet_netns_rtnl(ns)), SIOCGIFNAME, &ifr) < 0) return -errno;
  memcpy(name, ifr.ifr_name, CNET_IFNAMSIZ - 1);
  name[CNET_IFNAMSIZ - 1] = '\0';
  return 0;
}

int cnet_link_name(struct cnet_netns *ns, int index, char *name) {
  name[0] = '\0';
  cnet_netns_errbuf(ns)[0] = '\0';
  if (index <= 0) return -ENODEV;
  struct cnet_nl *nl = cnet_netns_rtnl(ns);
  cnet_nl_sync(nl);
  struct ifreq ifr;
  memset(&ifr, 0, sizeof ifr);
  ifr.ifr_ifindex = index;
  if (ioctl(cnet_nl_fd(nl), SIOCGIFNAME, &ifr) == 0) {
    memcpy(name, ifr.ifr_name, CNET_IFNAMSIZ - 1);
    name[CNET_IFNAMSIZ - 1] = '\0';
    return 0;
  }
  if (errno == ENODEV) return -ENODEV;
  return cnet_link_get(ns, index, NULL, name_cb, name);
}

/* Sends the request built on nl. Outside a batch one that names a namespace by descriptor
 * is answered before the call returns, like every other. */
int link_talk_fds(struct cnet_nl *nl, const struct cnet_link_req *req, char *err) {
  int rc = cnet_nl_talk(nl, NULL, NULL, err);
  if (rc == 0 && (req->netns_fd >= 0 || req->peer_netns_fd >= 0)) cnet_nl_sync(nl);
  return rc;
}

/* A queued request keeps its own copy of a namespace descriptor, closed once it is sent:
 * the caller may close the handle (a `<close>` variable in a loop) before the batch ends. */
static int held_dup(struct cnet_nl *nl, int fd) {
  int d = fcntl(fd, F_DUPFD_CLOEXEC, 0);
  if (d < 0) return -errno;
  int rc = cnet_nl_hold_fd(nl, d);
  return rc < 0 ? rc : d;
}

/* link.add inside a batch: queued, ordered after earlier changes of every namespace it
 * touches. In a namespace this process created and keeps track of, cnet knows the index the
 * new device gets (asked for explicitly for the device itself; for a veth peer the kernel
 * only honours one alongside the device's own, so there it is the kernel's next free
 * index), and later calls of the batch can name the device without reading the kernel,
 * which would send everything queued before. The batch checks the index before sending
 * what depends on it (nl_batch.c). */
static int add_batched(struct cnet_netns *ns, struct cnet_nl *nl, const struct cnet_link_req *req,
                       char *err) {
  struct cnet_link_req r = *req;
  struct cnet_netns *home = req->netns_fd >= 0 && req->netns ? req->netns : ns;
  /* a peer without a namespace of its own is made where the request is sent, not where the
   * device goes */
  struct cnet_netns *peer_home = req->peer_netns_fd >= 0 && req->peer_netns ? req->peer_netns : ns;
  int rc = 0, veth = strcmp(req->kind, "veth") == 0;
  if (r.netns_fd >= 0 && (r.netns_fd = held_dup(nl, r.netns_fd)) < 0) return r.netns_fd;
  if (r.peer_netns_fd >= 0 && (r.peer_netns_fd = held_dup(nl, r.peer_netns_fd)) < 0)
    return r.peer_netns_fd;
  if (home != ns && (rc = cnet_nl_touch(nl, cnet_netns_rtnl(home))) < 0) return rc;
  if (veth && peer_home != ns && peer_home != home &&
      (rc = cnet_nl_touch(nl, cnet_netns_rtnl(peer_home))) < 0)
    return rc;
  int index = cnet_netns_claim_index(home), peer_index = 0;
  if (veth) {
    peer_index = cnet_netns_claim_index(peer_home);
    /* The kernel registers the peer first and takes its index only when the device's own is
     * given too; otherwise the peer could take the device's index. */
    if (index > 0) r.peer_index = peer_index;
  }
  struct nlmsghdr *nlh = cnet_nl_msg(nl, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL | NLM_F_ACK);
  if (nlh == NULL) return -ENOMEM;
  if ((rc = cnet_link_build(nlh, cnet_nl_room(nl), index, &r)) < 0) {
    cnet_nl_cancel(nl);
    return rc;
  }
  if ((rc = cnet_nl_talk(nl, NULL, NULL, err)) < 0) return rc;
  if (index > 0) cnet_nl_name_put(cnet_netns_rtnl(home), r.name, index, 1);
  if (peer_index > 0 && r.peer_name)
    cnet_nl_name_put(cnet_netns_rtnl(peer_home), r.peer_name, peer_index, 1);
  return 0;
}

static int peer_link_cb(const struct cnet_link *l, void *data) {
  *(int *)data = l->link;
  return 0;
}

/* The kernel opens a veth peer asked to be up while it makes the pair, before the other end
 * exists, and refuses (ENOTCONN). So a peer that should be up is brought up by a second
 * request right after the pair is made, sent to the peer's namespace; inside a batch it is
 * queued there and waits for the pair like any later change of that namespace. It names the
 * peer (the kernel finds a link by name when the index is 0); a peer without a name is found
 * through the new device's link index, which means reading the device. */
static int peer_up_after(struct cnet_netns *ns, const struct cnet_link_req *req) {
  struct cnet_netns *home = req->netns_fd >= 0 && req->netns ? req->netns : ns;
  struct cnet_netns *peer_home = req->peer_netns_fd >= 0 ? req->peer_netns : ns;
  if (peer_home == NULL) return -EINVAL;
  struct cnet_link_req up;
  cnet_link_req_init(&up);
  up.up = 1;
  up.name = req->peer_name;
  int index = 0, rc;
  if (up.name == NULL) {
    if ((rc = cnet_link_get(home, 0, req->name, peer_link_cb, &index)) < 0) return rc;
    if (index <= 0) return -ENODEV;
  }
  struct cnet_nl *nl = cnet_netns_rtnl(peer_home);
  struct nlmsghdr *nlh = cnet_nl_msg(nl, RTM_NEWLINK, NLM_F_ACK);
  if (nlh == NULL) return -ENOMEM;
  if ((rc = cnet_link_build(nlh, cnet_nl_room(nl), index, &up)) < 0) {
    cnet_nl_cancel(nl);
    return rc;
  }
  rc = cnet_nl_talk(nl, NULL, NULL, cnet_netns_errbuf(ns));
  if (rc < 0 && cnet_netns_errbuf(ns)[0] == '\0')
    snprintf(cnet_netns_errbuf(ns), CNET_ERRMSG_MAX, "bringing the peer up");
  return rc;
}

int link_add_rest(struct cnet_netns *ns, struct cnet_netns *home, const struct cnet_link_req *req,
                  int all) {
  struct cnet_link_req rest;
  cnet_link_req_init(&rest);
  rest.alias = req->alias;
  if (all) {
    rest.mtu = req->mtu;
    rest.mac = req->mac, rest.mac_len = req->mac_len;
    rest.master = req->master;
    rest.up = req->up;
    rest.promisc = req->promisc;
  }
  if (!rest.alias && !rest.mtu && !rest.mac && !rest.master && rest.up < 0 && rest.promisc < 0)
    return 0;
  int rc = cnet_link_set(home, 0, req->name, &rest);
  if (rc == 0 || cnet_nl_batched(cnet_netns_rtnl(home))) return rc;
  char saved[CNET_ERRMSG_MAX];
  memcpy(saved, cnet_netns_errbuf(home), CNET_ERRMSG_MAX);
  (void)cnet_link_delete(home, 0, req->name);
  memcpy(cnet_netns_errbuf(ns), saved, CNET_ERRMSG_MAX);
  return rc;
}

int cnet_link_explain(int rc, const char *extack, const char *kind, char *buf) {
  if (rc == -EOPNOTSUPP && strcmp(extack, "Unknown device type") == 0)
    snprintf(buf, CNET_ERRMSG_MAX, "link kind %s is not available in this kernel", kind);
  else if (buf != extack)
    snprintf(buf, CNET_ERRMSG_MAX, "%s", extack);
  return rc;
}

static int unknown_kind(int rc, const struct cnet_link_req *req, char *err) {
  return cnet_link_explain(rc, err, req->kind, err);
}

int cnet_link_add(struct cnet_netns *ns, const struct cnet_link_req *req) {
  struct cnet_nl *nl = cnet_netns_rtnl(ns);
  char *err = cnet_netns_errbuf(ns);
  err[0] = '\0';
  if (req->kind == NULL || req->name == NULL) return -EINVAL;
  if (strcmp(req->kind, "tun") == 0) return link_add_tuntap(ns, req);
  struct cnet_netns *home = req->netns_fd >= 0 && req->netns ? req->netns : ns;
  struct cnet_link_req r = *req;
  int peer_up = strcmp(req->kind, "veth") == 0 && req->peer_up == 1;
  if (peer_up) r.peer_up = -1; /* brought up right after: see peer_up_after */
  int rc;
  if (cnet_nl_batched(nl)) {
    if ((rc = add_batched(ns, nl, &r, err)) < 0) return rc;
    if (peer_up && (rc = peer_up_after(ns, &r)) < 0) return rc;
    return link_add_rest(ns, home, req, 0); /* the kernel takes no alias with a new device */
  }
  struct nlmsghdr *nlh = cnet_nl_msg(nl, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL | NLM_F_ACK);
  if (nlh == NULL) return -ENOMEM;
  rc = cnet_link_build(nlh, cnet_nl_room(nl), 0, &r);
  if (rc < 0) {
    cnet_nl_cancel(nl);
    return rc;
  }
  /* The kernel picks the new devices' indexes: whoever tracked them no longer knows. */
  cnet_netns_unfresh(ns);
  if (req->netns_fd >= 0 && req->netns) cnet_netns_unfresh(req->netns);
  if (req->peer_netns_fd >= 0 && req->peer_netns) cnet_netns_unfresh(req->peer_netns);
  if ((rc = link_talk_fds(nl, &r, err)) < 0) return unknown_kind(rc, req, err);
  if (peer_up && (rc = peer_up_after(ns, &r)) < 0) {
    /* all or nothing, as for the one request: the pair goes again */
    char keep[CNET_ERRMSG_MAX];
    memcpy(keep, err, sizeof keep);
    (void)cnet_link_delete(home, 0, req->name);
    memcpy(err, keep, sizeof keep);
    return rc;
  }
  return link_add_rest(ns, home, req, 0);
}

int cnet_link_delete(struct cnet_netns *ns, int index, const char *name) {
  struct cnet_nl *nl = cnet_netns_rtnl(ns);
  char *err = cnet_netns_errbuf(ns);
  err[0] = '\0';
  int rc;
  /* A deleted veth takes its peer along, wherever that is, and a device's uppers and lowers
   * may live in other namespaces: inside a batch a delete is sent at once, after everything
   * queued before it, and every remembered name is forgotten. */
  cnet_nl_forget_names(nl);
  cnet_nl_sync(nl);
  struct nlmsghdr *nlh = link_start_named(nl, RTM_DELLINK, NLM_F_ACK, index, name, &rc);
  if (nlh == NULL) return rc;
  struct ifinfomsg *ifi = mnl_nlmsg_put_extra_header(nlh, sizeof *ifi);
  ifi->ifi_family = AF_UNSPEC;
  ifi->ifi_index = index > 0 ? index : 0;
  if (index <= 0) mnl_attr_put_strz(nlh, IFLA_IFNAME, name);
  rc = cnet_nl_talk(nl, NULL, NULL, err);
  cnet_nl_sync(nl);
  return rc;
}

/* ---- names ---- */

/* The order ip prints them in, with RUNNING (which ip leaves out) after UP. */
static const struct {
  uint32_t bit;
  const char *name;
} flag_names[] = {
  {IFF_LOOPBACK, "LOOPBACK"}, {IFF_BROADCAST, "BROADCAST"}, {IFF_POINTOPOINT, "POINTOPOINT"},
  {IFF_MULTICAST, "MULTICAST"}, {IFF_NOARP, "NOARP"}, {IFF_ALLMULTI, "ALLMULTI"},
  {IFF_PROMISC, "PROMISC"}, {IFF_NOTRAILERS, "NOTRAILERS"}, {IFF_DEBUG, "DEBUG"},
  {IFF_DYNAMIC, "DYNAMIC"}, {IFF_AUTOMEDIA, "AUTOMEDIA"}, {IFF_PORTSEL, "PORTSEL"},
  {IFF_MASTER, "MASTER"}, {IFF_SLAVE, "SLAVE"}, {IFF_UP, "UP"}, {IFF_RUNNING, "RUNNING"},
  {1u << 16, "LOWER_UP"}, {1u << 17, "DORMANT"}, {1u << 18, "ECHO"},
};

const char *cnet_link_flag_name(uint32_t bit) {
  for (size_t i = 0; i < sizeof flag_names / sizeof flag_names[0]; i++)
    if (flag_names[i].bit == bit) return flag_names[i].name;
  return NULL;
}

unsigned cnet_link_flag_names(uint32_t flags, const char *names[32]) {
  unsigned n = 0;
  for (size_t i = 0; i < sizeof flag_names / sizeof flag_names[0]; i++)
    if (flags & flag_names[i].bit) names[n++] = flag_names[i].name;
  return n;
}

const char *cnet_link_operstate_name(uint8_t state) {
  static const char *const names[] = {"unknown", "notpresent", "down", "lowerlayerdown",
                                      "testing", "dormant", "up"};
  return state < sizeof names / sizeof names[0] ? names[state] : "unknown";
}
