/* Links: changing one, all or nothing (cnet_link_set, see include/cnet/link.h). */
#include "cnet/link.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <net/if.h>
#include <sys/socket.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>

#include "rtnl/link_int.h"
#include "rtnl/linkinfo_int.h"

/* ---- set: all or nothing ---- */

/* The fields of a link that cnet_link_set can change, copied out of a reply: the kind and
 * port data whole (when they fit), to give back what a refused request changed there. */
#define STATE_DATA 2048
struct state {
  int index;
  char name[CNET_IFNAMSIZ];
  char kind[32];
  char port_kind[32];
  uint32_t mtu, min_mtu, max_mtu;
  unsigned char mac[32];
  unsigned mac_len;
  int master;
  int up;
  int promisc;
  char alias[256];                 /* IFALIASZ */
  uint32_t info[STATE_DATA / 4];   /* IFLA_INFO_DATA, aligned as an attribute */
  uint32_t port[STATE_DATA / 4];   /* IFLA_INFO_SLAVE_DATA */
  int has_info, has_port;
};

static const struct nlattr *state_info(const struct state *s) {
  return s->has_info ? (const struct nlattr *)s->info : NULL;
}
static const struct nlattr *state_port(const struct state *s) {
  return s->has_port ? (const struct nlattr *)s->port : NULL;
}

/* Copies attribute a whole into buf (STATE_DATA bytes); 1 when it fit. */
static int keep_attr(uint32_t *buf, const struct nlattr *a) {
  if (a == NULL || a->nla_len > STATE_DATA) return 0;
  memcpy(buf, a, a->nla_len);
  return 1;
}

static int state_cb(const struct cnet_link *l, void *data) {
  struct state *s = data;
  s->index = l->index;
  snprintf(s->name, sizeof s->name, "%s", l->name);
  snprintf(s->kind, sizeof s->kind, "%s", l->kind ? l->kind : "");
  snprintf(s->port_kind, sizeof s->port_kind, "%s", l->port_kind ? l->port_kind : "");
  s->mtu = l->mtu;
  s->min_mtu = l->min_mtu;
  s->max_mtu = l->max_mtu;
  s->mac_len = l->mac && l->mac_len <= sizeof s->mac ? l->mac_len : 0;
  if (s->mac_len) memcpy(s->mac, l->mac, s->mac_len);
  s->master = l->master;
  s->up = (l->flags & IFF_UP) != 0;
  s->promisc = (l->flags & IFF_PROMISC) != 0; /* as set by users: the kernel reports that */
  snprintf(s->alias, sizeof s->alias, "%s", l->alias ? l->alias : "");
  s->has_info = keep_attr(s->info, l->info_data);
  s->has_port = keep_attr(s->port, l->port_data);
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

/* What a refused request changed in the kind and port data, and how to give it back. */
struct undo {
  struct cnet_link_opt info[CNET_LINK_MAX_OPTS], port[CNET_LINK_MAX_OPTS];
  unsigned ninfo, nport;
};

static void undo_details(const struct state *old, const struct state *now,
                         const struct cnet_link_req *req, struct undo *u) {
  u->ninfo = u->nport = 0;
  if (req->ninfo && req->ninfo <= CNET_LINK_MAX_OPTS)
    u->ninfo = cnet_linkinfo_undo(state_info(old), state_info(now), req->info, req->ninfo, u->info);
  if (req->nport && req->nport <= CNET_LINK_MAX_OPTS && old->port_kind[0])
    u->nport = cnet_linkinfo_undo(state_port(old), state_port(now), req->port, req->nport, u->port);
}

/* Sends the old values of whatever differs between old and now (the link is `now` in
 * `where`); field by field if the kernel refuses them together. Best effort. */
static void restore(struct cnet_netns *ns, const struct state *old, struct cnet_netns *where,
                    const struct state *now, const struct cnet_link_req *req) {
  int back = where != ns;
  struct undo u;
  undo_details(old, now, req, &u);
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
  if (now->promisc != old->promisc) all.promisc = old->promisc;
  if (strcmp(now->alias, old->alias) != 0) all.alias = old->alias;
  if (u.ninfo) all.kind = old->kind, all.info = u.info, all.ninfo = u.ninfo;
  all.info_base = state_info(now);
  if (u.nport) all.port_kind = old->port_kind, all.port = u.port, all.nport = u.nport;
  if (!back && !all.name && !all.mtu && !all.mac && !all.master && all.up < 0 &&
      all.promisc < 0 && !all.alias && !u.ninfo && !u.nport)
    return;
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
  one.alias = all.alias;
  if (one.alias) (void)send_set(ns, index, &one);
  for (unsigned i = 0; i < u.ninfo; i++) { /* one by one: the kernel may refuse some */
    cnet_link_req_init(&one);
    one.kind = all.kind, one.info = &u.info[i], one.ninfo = 1, one.info_base = all.info_base;
    (void)send_set(ns, index, &one);
  }
  for (unsigned i = 0; i < u.nport; i++) {
    cnet_link_req_init(&one);
    one.port_kind = all.port_kind, one.port = &u.port[i], one.nport = 1;
    (void)send_set(ns, index, &one);
  }
  cnet_link_req_init(&one);
  one.promisc = all.promisc;
  if (one.promisc >= 0) (void)send_set(ns, index, &one);
  cnet_link_req_init(&one);
  one.up = all.up;
  if (one.up >= 0) (void)send_set(ns, index, &one);
}

static int has_bits(const struct cnet_link_req *req) {
  for (unsigned i = 0; i < req->ninfo; i++)
    if (req->info[i].field->type == CNET_LF_BIT) return 1;
  return 0;
}

/* One change alone is applied whole or not at all by the kernel: no read needed. A master
 * is not (the kernel leaves the old master before joining the new one), nor is a mac (the
 * kernel takes a longer one than the device's and keeps its first bytes). */
static int atomic_alone(const struct cnet_link_req *req) {
  int n = (req->name != NULL) + (req->mtu != 0) + (req->mac != NULL) + (req->master != 0) +
          (req->up >= 0) + (req->promisc >= 0) + (req->netns_fd >= 0) + (req->alias != NULL) +
          (req->ninfo > 0) + (req->nport > 0);
  /* one kind or port option is one step of the driver; several may stop half-way (a
   * bridge applies its options one after the other), and flag bits need the old flags */
  return n <= 1 && req->master <= 0 && req->mac == NULL && req->ninfo <= 1 && req->nport <= 1 &&
         !has_bits(req);
}

/* Inside a batch nothing is read first: a change of up, master, mtu, alias and kind or port
 * options is one request, which the kernel may apply in part when it refuses a later field
 * (the batch reports the failure; nothing is undone). Renames, moves, macs and flag bits
 * still take the checked way. */
static int batch_alone(const struct cnet_nl *nl, const struct cnet_link_req *req) {
  return cnet_nl_batched(nl) && req->name == NULL && req->netns_fd < 0 && req->mac == NULL &&
         !has_bits(req);
}

/* The kernel refuses port options of a device without a master of that kind, silently. */
static int explain(int rc, const struct cnet_link_req *req, char *err) {
  if (rc == -EOPNOTSUPP && req->nport && err[0] == '\0')
    snprintf(err, CNET_ERRMSG_MAX, "port options for a device that is not a port of a %s",
             req->port_kind);
  return rc;
}

int cnet_link_set(struct cnet_netns *ns, int index, const char *name,
                  const struct cnet_link_req *req) {
  struct cnet_nl *nl = cnet_netns_rtnl(ns);
  char *err = cnet_netns_errbuf(ns);
  err[0] = '\0';
  int rc;
  if ((req->kind != NULL) != (req->ninfo > 0)) return -EINVAL; /* a kind goes with options */
  if (req->nport && req->port_kind == NULL) return -EINVAL;
  if (req->name != NULL || req->netns_fd >= 0) cnet_nl_forget_names(nl); /* names change */
  if (req->netns_fd >= 0 && req->netns != NULL) cnet_netns_unfresh(req->netns);
  if (atomic_alone(req) || batch_alone(nl, req)) {
    /* A rename puts the new name in IFLA_IFNAME, so the link must be named by index. */
    if (index <= 0 && req->name != NULL) {
      if ((rc = cnet_link_index(ns, name, &index)) < 0) return rc;
    }
    struct nlmsghdr *nlh = link_start_named(nl, RTM_NEWLINK, NLM_F_ACK, index, name, &rc);
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
    return explain(link_talk_fds(nl, req, err), req, err);
  }

  struct state old;
  if ((rc = read_state(ns, index, name, &old)) < 0) return rc;
  struct cnet_netns *to = req->netns_fd >= 0 && req->netns != NULL ? req->netns : ns;
  int moving = to != ns && !same_ns(to, ns);
  if ((rc = precheck(ns, to, moving, &old, req)) < 0) return rc;
  struct cnet_link_req r = *req;
  r.info_base = state_info(&old);
  rc = send_set(ns, old.index, &r);
  if (rc == 0) return 0;
  explain(rc, req, err);
  char saved[CNET_ERRMSG_MAX];
  memcpy(saved, err, CNET_ERRMSG_MAX);
  struct state now;
  struct cnet_netns *where = locate(ns, to, moving, &old, req, &now);
  if (where != NULL) restore(ns, &old, where, &now, req);
  memcpy(err, saved, CNET_ERRMSG_MAX);
  return rc;
}

