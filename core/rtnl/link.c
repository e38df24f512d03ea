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

void cnet_link_req_init(struct cnet_link_req *req) {
  memset(req, 0, sizeof *req);
  req->up = -1;
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
  while ((a = next_attr(&it)) != NULL)
    if (attr_type(a) == IFLA_INFO_KIND) {
      const char *kind = attr_str(a);
      if (kind) out->kind = kind;
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

static void put_ifinfo(struct room *r, int index, int up) {
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
    ifi->ifi_change = IFF_UP;
    ifi->ifi_flags = up ? IFF_UP : 0;
  }
}

static void put_veth(struct room *r, const struct cnet_link_req *req) {
  struct nlattr *peer = nest(r, VETH_INFO_PEER);
  put_ifinfo(r, req->peer_index, req->peer_up);
  if (req->peer_name) put_str(r, IFLA_IFNAME, req->peer_name);
  if (req->peer_netns_fd >= 0) put_u32(r, IFLA_NET_NS_FD, (uint32_t)req->peer_netns_fd);
  if (req->peer_mtu) put_u32(r, IFLA_MTU, req->peer_mtu);
  if (req->peer_mac) put(r, IFLA_ADDRESS, req->peer_mac_len, req->peer_mac);
  nest_end(r, peer);
}

static void put_vxlan(struct room *r, const struct cnet_link_req *req) {
  if (req->has_vni) put_u32(r, IFLA_VXLAN_ID, req->vni);
  if (req->remote.family == AF_INET) put(r, IFLA_VXLAN_GROUP, 4, req->remote.bytes);
  if (req->remote.family == AF_INET6) put(r, IFLA_VXLAN_GROUP6, 16, req->remote.bytes);
  if (req->local.family == AF_INET) put(r, IFLA_VXLAN_LOCAL, 4, req->local.bytes);
  if (req->local.family == AF_INET6) put(r, IFLA_VXLAN_LOCAL6, 16, req->local.bytes);
  if (req->link > 0) put_u32(r, IFLA_VXLAN_LINK, (uint32_t)req->link);
  /* The kernel's own default port is the pre-IANA 8472; cnet defaults to 4789. */
  uint16_t port = htons(req->dstport ? req->dstport : 4789);
  put(r, IFLA_VXLAN_PORT, sizeof port, &port);
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
  put_ifinfo(&r, index, req->up);
  if (req->name) put_str(&r, IFLA_IFNAME, req->name);
  if (req->mtu) put_u32(&r, IFLA_MTU, req->mtu);
  if (req->mac) put(&r, IFLA_ADDRESS, req->mac_len, req->mac);
  if (req->master) put_u32(&r, IFLA_MASTER, req->master < 0 ? 0 : (uint32_t)req->master);
  if (req->netns_fd >= 0) put_u32(&r, IFLA_NET_NS_FD, (uint32_t)req->netns_fd);
  if (req->netns_fd >= 0 && req->new_index > 0)
    put_u32(&r, IFLA_NEW_IFINDEX, (uint32_t)req->new_index);
  int vxlan = req->kind && strcmp(req->kind, "vxlan") == 0;
  if (req->link > 0 && !vxlan) put_u32(&r, IFLA_LINK, (uint32_t)req->link);
  if (req->kind) {
    struct nlattr *info = nest(&r, IFLA_LINKINFO);
    put_str(&r, IFLA_INFO_KIND, req->kind);
    int veth = strcmp(req->kind, "veth") == 0;
    int macvlan = strcmp(req->kind, "macvlan") == 0 || strcmp(req->kind, "macvtap") == 0;
    if (veth || vxlan || (macvlan && req->macvlan_mode)) {
      struct nlattr *data = nest(&r, IFLA_INFO_DATA);
      if (veth) put_veth(&r, req);
      if (vxlan) put_vxlan(&r, req);
      if (macvlan) put_u32(&r, IFLA_MACVLAN_MODE, req->macvlan_mode);
      nest_end(&r, data);
    }
    nest_end(&r, info);
  }
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
  return put_skip_stats(nl, nlh);
}

int cnet_link_list_filtered(struct cnet_netns *ns, int master, const char *kind,
                            cnet_link_fn fn, void (*reset)(void *data), void *data) {
  struct each e = {fn, data, 0, master, kind, reset};
  struct cnet_nl *nl = cnet_netns_rtnl(ns);
  char *err = cnet_netns_errbuf(ns);
  err[0] = '\0';
  /* The kernel filters too (the callback checks again for kernels that do not). */
  return cnet_nl_dump_filtered(nl, master || kind, build_dump, each_cb, each_reset, &e, err);
}

int cnet_link_list(struct cnet_netns *ns, cnet_link_fn fn, void (*reset)(void *data),
                   void *data) {
  return cnet_link_list_filtered(ns, 0, NULL, fn, reset, data);
}

/* Starts an RTM_GETLINK/NEWLINK/DELLINK naming the link by index or by name. */
static struct nlmsghdr *start_named(struct cnet_nl *nl, uint16_t type, uint16_t flags,
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

int cnet_link_get(struct cnet_netns *ns, int index, const char *name, cnet_link_fn fn,
                  void *data) {
  struct cnet_nl *nl = cnet_netns_rtnl(ns);
  char *err = cnet_netns_errbuf(ns);
  err[0] = '\0';
  int rc;
  struct nlmsghdr *nlh = start_named(nl, RTM_GETLINK, 0, index, name, &rc);
  if (nlh == NULL) return rc;
  struct ifinfomsg *ifi = mnl_nlmsg_put_extra_header(nlh, sizeof *ifi);
  ifi->ifi_family = AF_UNSPEC;
  ifi->ifi_index = index > 0 ? index : 0;
  if (index <= 0) mnl_attr_put_strz(nlh, IFLA_IFNAME, name);
  if ((rc = put_skip_stats(nl, nlh)) < 0) {
    cnet_nl_cancel(nl);
    return rc;
  }
  struct each e = {fn, data, 0, 0, NULL, NULL};
  rc = cnet_nl_talk(nl, each_cb, &e, err);
  if (rc == 0 && e.found == 0) rc = -ENODEV;
  return rc;
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
static int talk_fds(struct cnet_nl *nl, const struct cnet_link_req *req, char *err) {
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

int cnet_link_add(struct cnet_netns *ns, const struct cnet_link_req *req) {
  struct cnet_nl *nl = cnet_netns_rtnl(ns);
  char *err = cnet_netns_errbuf(ns);
  err[0] = '\0';
  if (req->kind == NULL || req->name == NULL) return -EINVAL;
  struct cnet_link_req r = *req;
  int peer_up = strcmp(req->kind, "veth") == 0 && req->peer_up == 1;
  if (peer_up) r.peer_up = -1; /* brought up right after: see peer_up_after */
  if (cnet_nl_batched(nl)) {
    int rc = add_batched(ns, nl, &r, err);
    return rc == 0 && peer_up ? peer_up_after(ns, &r) : rc;
  }
  struct nlmsghdr *nlh = cnet_nl_msg(nl, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL | NLM_F_ACK);
  if (nlh == NULL) return -ENOMEM;
  int rc = cnet_link_build(nlh, cnet_nl_room(nl), 0, &r);
  if (rc < 0) {
    cnet_nl_cancel(nl);
    return rc;
  }
  /* The kernel picks the new devices' indexes: whoever tracked them no longer knows. */
  cnet_netns_unfresh(ns);
  if (req->netns_fd >= 0 && req->netns) cnet_netns_unfresh(req->netns);
  if (req->peer_netns_fd >= 0 && req->peer_netns) cnet_netns_unfresh(req->peer_netns);
  rc = talk_fds(nl, &r, err);
  if (rc == 0 && peer_up && (rc = peer_up_after(ns, &r)) < 0) {
    /* all or nothing, as for the one request: the pair goes again */
    struct cnet_netns *home = req->netns_fd >= 0 && req->netns ? req->netns : ns;
    char keep[CNET_ERRMSG_MAX];
    memcpy(keep, err, sizeof keep);
    (void)cnet_link_delete(home, 0, req->name);
    memcpy(err, keep, sizeof keep);
  }
  return rc;
}

/* ---- set: all or nothing ---- */

/* The fields of a link that cnet_link_set can change, copied out of a reply. */
struct state {
  int index;
  char name[CNET_IFNAMSIZ];
  char kind[32];
  uint32_t mtu, min_mtu, max_mtu;
  unsigned char mac[32];
  unsigned mac_len;
  int master;
  int up;
};

static int state_cb(const struct cnet_link *l, void *data) {
  struct state *s = data;
  memset(s, 0, sizeof *s);
  s->index = l->index;
  strncpy(s->name, l->name, CNET_IFNAMSIZ - 1);
  if (l->kind) strncpy(s->kind, l->kind, sizeof s->kind - 1);
  s->mtu = l->mtu;
  s->min_mtu = l->min_mtu;
  s->max_mtu = l->max_mtu;
  s->mac_len = l->mac && l->mac_len <= sizeof s->mac ? l->mac_len : 0;
  if (s->mac_len) memcpy(s->mac, l->mac, s->mac_len);
  s->master = l->master;
  s->up = (l->flags & IFF_UP) != 0;
  return 0;
}

static int read_state(struct cnet_netns *ns, int index, const char *name, struct state *s) {
  return cnet_link_get(ns, index, index > 0 ? NULL : name, state_cb, s);
}

static int ack_cb(const struct nlmsghdr *nlh, void *data) {
  (void)nlh;
  (void)data;
  return MNL_CB_OK;
}

/* Sends a change of link `index` in ns and waits for the answer, inside a batch too (a
 * request with a reply callback is never deferred). */
static int send_set(struct cnet_netns *ns, int index, const struct cnet_link_req *req) {
  struct cnet_nl *nl = cnet_netns_rtnl(ns);
  struct nlmsghdr *nlh = cnet_nl_msg(nl, RTM_NEWLINK, NLM_F_ACK);
  if (nlh == NULL) return -ENOMEM;
  int rc = cnet_link_build(nlh, cnet_nl_room(nl), index, req);
  if (rc < 0) {
    cnet_nl_cancel(nl);
    return rc;
  }
  return cnet_nl_talk(nl, ack_cb, NULL, cnet_netns_errbuf(ns));
}

static int same_ns(const struct cnet_netns *a, const struct cnet_netns *b) {
  dev_t da, db;
  ino_t ia, ib;
  cnet_netns_ident(a, &da, &ia);
  cnet_netns_ident(b, &db, &ib);
  return da == db && ia == ib;
}

/* Kinds whose driver can enslave another device (ndo_add_slave). */
static int takes_ports(const char *kind) {
  static const char *const kinds[] = {"bridge", "bond", "team", "vrf", "openvswitch", "batadv",
                                      NULL};
  for (int i = 0; kinds[i]; i++)
    if (strcmp(kind, kinds[i]) == 0) return 1;
  return 0;
}

static int refuse(struct cnet_netns *ns, int rc, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(cnet_netns_errbuf(ns), CNET_ERRMSG_MAX, fmt, ap);
  va_end(ap);
  return rc;
}

/* Refuses beforehand what the kernel would refuse only after applying other parts. `to` is
 * where the link ends up (ns unless it moves). */
static int precheck(struct cnet_netns *ns, struct cnet_netns *to, int moving,
                    const struct state *old, const struct cnet_link_req *req) {
  const char *final = req->name ? req->name : old->name;
  if (moving || strcmp(final, old->name) != 0) {
    int ix;
    if (cnet_link_index(to, final, &ix) == 0 && (moving || ix != old->index))
      return refuse(ns, -EEXIST, "interface name \"%s\" is taken%s", final,
                    moving ? " in the target namespace" : "");
  }
  if (req->master > 0) {
    struct state m;
    if (read_state(to, req->master, NULL, &m) == 0 && !takes_ports(m.kind))
      return refuse(ns, -EOPNOTSUPP, "master %s (%s) cannot take ports", m.name,
                    m.kind[0] ? m.kind : "no kind");
  }
  if (req->mtu && old->min_mtu && req->mtu < old->min_mtu)
    return refuse(ns, -EINVAL, "mtu less than device minimum (%u)", (unsigned)old->min_mtu);
  if (req->mtu && old->max_mtu && req->mtu > old->max_mtu)
    return refuse(ns, -EINVAL, "mtu greater than device maximum (%u)", (unsigned)old->max_mtu);
  if (req->mac && old->mac_len && req->mac_len != old->mac_len)
    return refuse(ns, -EINVAL, "mac address of %u bytes for a device whose addresses have %u",
                  req->mac_len, old->mac_len);
  cnet_netns_errbuf(ns)[0] = '\0';
  return 0;
}

/* Where the link is after a refused request: in ns under its old index, or moved to `to`
 * under the name it was to have there (checked free beforehand) or its old one. */
static struct cnet_netns *locate(struct cnet_netns *ns, struct cnet_netns *to, int moving,
                                 const struct state *old, const struct cnet_link_req *req,
                                 struct state *now) {
  if (read_state(ns, old->index, NULL, now) == 0) return ns;
  if (!moving) return NULL;
  if (req->name && read_state(to, 0, req->name, now) == 0) return to;
  if (read_state(to, 0, old->name, now) == 0) return to;
  return NULL;
}

/* Sends the old values of whatever differs between old and now (the link is `now` in
 * `where`); field by field if the kernel refuses them together. Best effort. */
static void restore(struct cnet_netns *ns, const struct state *old, struct cnet_netns *where,
                    const struct state *now) {
  int back = where != ns;
  struct cnet_link_req all;
  cnet_link_req_init(&all);
  if (back) {
    all.netns_fd = cnet_netns_fd(ns);
    if (now->index != old->index) all.new_index = old->index; /* 6.5+ honours it */
  }
  if (strcmp(now->name, old->name) != 0) all.name = old->name;
  if (now->mtu != old->mtu) all.mtu = old->mtu;
  if (old->mac_len && (now->mac_len != old->mac_len || memcmp(now->mac, old->mac, old->mac_len)))
    all.mac = old->mac, all.mac_len = old->mac_len;
  /* a move takes the link out of its master and down */
  int master = back ? 0 : now->master, up = back ? 0 : now->up;
  if (master != old->master) all.master = old->master ? old->master : -1;
  if (up != old->up) all.up = old->up;
  if (!back && !all.name && !all.mtu && !all.mac && !all.master && all.up < 0) return;
  if (send_set(where, now->index, &all) == 0) return;

  int index = now->index;
  if (back) {
    struct cnet_link_req move;
    cnet_link_req_init(&move);
    move.netns_fd = all.netns_fd;
    move.new_index = all.new_index;
    if (send_set(where, index, &move) < 0) return;
    struct state moved;
    if (read_state(ns, 0, now->name, &moved) < 0) return;
    index = moved.index;
  }
  struct cnet_link_req one;
  cnet_link_req_init(&one);
  one.name = all.name;
  (void)send_set(ns, index, &one);
  cnet_link_req_init(&one);
  one.mac = all.mac, one.mac_len = all.mac_len;
  if (one.mac) (void)send_set(ns, index, &one);
  cnet_link_req_init(&one);
  one.mtu = all.mtu;
  if (one.mtu) (void)send_set(ns, index, &one);
  cnet_link_req_init(&one);
  one.master = all.master;
  if (one.master) (void)send_set(ns, index, &one);
  cnet_link_req_init(&one);
  one.up = all.up;
  if (one.up >= 0) (void)send_set(ns, index, &one);
}

/* One change alone is applied whole or not at all by the kernel: no read needed. A master
 * is not (the kernel leaves the old master before joining the new one), nor is a mac (the
 * kernel takes a longer one than the device's and keeps its first bytes). */
static int atomic_alone(const struct cnet_link_req *req) {
  int n = (req->name != NULL) + (req->mtu != 0) + (req->mac != NULL) + (req->master != 0) +
          (req->up >= 0) + (req->netns_fd >= 0);
  return n <= 1 && req->master <= 0 && req->mac == NULL;
}

/* Inside a batch nothing is read first: a change of up, master and mtu is one request, which
 * the kernel may apply in part when it refuses a later field (the batch reports the failure;
 * nothing is undone). Renames, moves and macs still take the checked way. */
static int batch_alone(const struct cnet_nl *nl, const struct cnet_link_req *req) {
  return cnet_nl_batched(nl) && req->name == NULL && req->netns_fd < 0 && req->mac == NULL;
}

int cnet_link_set(struct cnet_netns *ns, int index, const char *name,
                  const struct cnet_link_req *req) {
  struct cnet_nl *nl = cnet_netns_rtnl(ns);
  char *err = cnet_netns_errbuf(ns);
  err[0] = '\0';
  int rc;
  if (req->kind != NULL) return -EINVAL;
  if (req->name != NULL || req->netns_fd >= 0) cnet_nl_forget_names(nl); /* names change */
  if (req->netns_fd >= 0 && req->netns != NULL) cnet_netns_unfresh(req->netns);
  if (atomic_alone(req) || batch_alone(nl, req)) {
    /* A rename puts the new name in IFLA_IFNAME, so the link must be named by index. */
    if (index <= 0 && req->name != NULL) {
      if ((rc = cnet_link_index(ns, name, &index)) < 0) return rc;
    }
    struct nlmsghdr *nlh = start_named(nl, RTM_NEWLINK, NLM_F_ACK, index, name, &rc);
    if (nlh == NULL) return rc;
    if (index <= 0) {
      struct cnet_link_req byname = *req;
      byname.name = name;
      rc = cnet_link_build(nlh, cnet_nl_room(nl), 0, &byname);
    } else {
      rc = cnet_link_build(nlh, cnet_nl_room(nl), index, req);
    }
    if (rc < 0) {
      cnet_nl_cancel(nl);
      return rc;
    }
    return talk_fds(nl, req, err);
  }

  struct state old;
  if ((rc = read_state(ns, index, name, &old)) < 0) return rc;
  struct cnet_netns *to = req->netns_fd >= 0 && req->netns != NULL ? req->netns : ns;
  int moving = to != ns && !same_ns(to, ns);
  if ((rc = precheck(ns, to, moving, &old, req)) < 0) return rc;
  rc = send_set(ns, old.index, req);
  if (rc == 0) return 0;
  char saved[CNET_ERRMSG_MAX];
  memcpy(saved, err, CNET_ERRMSG_MAX);
  struct state now;
  struct cnet_netns *where = locate(ns, to, moving, &old, req, &now);
  if (where != NULL) restore(ns, &old, where, &now);
  memcpy(err, saved, CNET_ERRMSG_MAX);
  return rc;
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
  struct nlmsghdr *nlh = start_named(nl, RTM_DELLINK, NLM_F_ACK, index, name, &rc);
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
