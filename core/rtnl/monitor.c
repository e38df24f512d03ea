/* Change notifications: see include/cnet/monitor.h. One socket for routing netlink groups,
 * one for nf_tables, both opened inside the namespace; poll over both. */
#include "cnet/monitor.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/rtnetlink.h>

#ifndef SOL_NETLINK
#define SOL_NETLINK 270
#endif

enum { RBUF = 64 * 1024, NSOCK = 2 };

struct cnet_monitor {
  struct mnl_socket *sock[NSOCK]; /* rtnl, nfnl; NULL when not watched */
  char *buf;
  size_t len, off;                /* a datagram partly delivered (fn stopped midway) */
  int from;                       /* the socket it came from */
};

/* Routing groups of each CNET_MON_* bit. */
static const struct {
  unsigned what;
  unsigned groups[2];
} rtgroups[] = {
    {CNET_MON_LINK, {RTNLGRP_LINK, 0}},
    {CNET_MON_ADDR, {RTNLGRP_IPV4_IFADDR, RTNLGRP_IPV6_IFADDR}},
    {CNET_MON_ROUTE, {RTNLGRP_IPV4_ROUTE, RTNLGRP_IPV6_ROUTE}},
    {CNET_MON_NEIGH, {RTNLGRP_NEIGH, 0}},
    {CNET_MON_TC, {RTNLGRP_TC, 0}}};

static int open_sock(int protocol, const unsigned *groups, unsigned n, struct mnl_socket **out) {
  struct mnl_socket *s = mnl_socket_open2(protocol, SOCK_CLOEXEC | SOCK_NONBLOCK);
  if (s == NULL) return -errno;
  int fd = mnl_socket_get_fd(s), size = 4 << 20;
  /* a burst of changes (a big batch) must not overflow the queue while the script is busy */
  if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof size) < 0)
    (void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
  int rc = mnl_socket_bind(s, 0, MNL_SOCKET_AUTOPID) < 0 ? -errno : 0;
  for (unsigned i = 0; rc == 0 && i < n; i++)
    if (groups[i] && setsockopt(fd, SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, &groups[i],
                                sizeof groups[i]) < 0)
      rc = -errno;
  if (rc < 0) {
    mnl_socket_close(s);
    return rc;
  }
  *out = s;
  return 0;
}

int cnet_monitor_open(struct cnet_netns *ns, unsigned what, struct cnet_monitor **out) {
  *out = NULL;
  if ((what & CNET_MON_ALL) == 0) return -EINVAL;
  struct cnet_monitor *m = calloc(1, sizeof *m);
  if (m == NULL || (m->buf = malloc(RBUF)) == NULL) {
    free(m);
    return -ENOMEM;
  }
  unsigned groups[16], n = 0;
  for (size_t i = 0; i < sizeof rtgroups / sizeof rtgroups[0]; i++)
    if (what & rtgroups[i].what)
      for (int j = 0; j < 2; j++)
        if (rtgroups[i].groups[j]) groups[n++] = rtgroups[i].groups[j];
  int saved, rc = cnet_netns_enter(ns, &saved);
  if (rc < 0) {
    cnet_monitor_close(m);
    return rc;
  }
  if (n > 0) rc = open_sock(NETLINK_ROUTE, groups, n, &m->sock[0]);
  if (rc == 0 && (what & CNET_MON_NFT)) {
    unsigned g = NFNLGRP_NFTABLES;
    rc = open_sock(NETLINK_NETFILTER, &g, 1, &m->sock[1]);
  }
  int back = cnet_netns_leave(saved);
  if (rc == 0) rc = back;
  if (rc < 0) {
    cnet_monitor_close(m);
    return rc;
  }
  *out = m;
  return 0;
}

void cnet_monitor_close(struct cnet_monitor *m) {
  if (m == NULL) return;
  for (int i = 0; i < NSOCK; i++)
    if (m->sock[i]) mnl_socket_close(m->sock[i]);
  free(m->buf);
  free(m);
}

static unsigned classify(int from, uint16_t type) {
  if (from == 1) return (type >> 8) == NFNL_SUBSYS_NFTABLES ? CNET_MON_NFT : 0;
  switch (type) {
  case RTM_NEWLINK: case RTM_DELLINK: return CNET_MON_LINK;
  case RTM_NEWADDR: case RTM_DELADDR: return CNET_MON_ADDR;
  case RTM_NEWROUTE: case RTM_DELROUTE: return CNET_MON_ROUTE;
  case RTM_NEWNEIGH: case RTM_DELNEIGH: return CNET_MON_NEIGH;
  case RTM_NEWQDISC: case RTM_DELQDISC: case RTM_NEWTCLASS: case RTM_DELTCLASS: return CNET_MON_TC;
  default: return 0;
  }
}

/* Delivers what is left of the datagram in m->buf; returns fn's stop value or 0, and adds
 * the delivered count to *count. */
static int deliver(struct cnet_monitor *m, cnet_monitor_fn fn, void *data, int *count) {
  while (m->off < m->len) {
    const struct nlmsghdr *nlh = (const void *)(m->buf + m->off);
    size_t left = m->len - m->off;
    if (left < sizeof *nlh || nlh->nlmsg_len < sizeof *nlh || nlh->nlmsg_len > left) {
      m->off = m->len; /* a truncated tail: nothing more to read in it */
      break;
    }
    m->off += NLMSG_ALIGN(nlh->nlmsg_len);
    unsigned what = classify(m->from, nlh->nlmsg_type);
    if (what == 0) continue;
    (*count)++;
    int rc = fn(what, nlh, data);
    if (rc != 0) return rc;
  }
  return 0;
}

int cnet_monitor_read(struct cnet_monitor *m, int timeout_ms, cnet_monitor_fn fn, void *data) {
  int count = 0, rc = deliver(m, fn, data, &count);
  if (rc != 0) return rc;
  struct pollfd pfd[NSOCK];
  int map[NSOCK], n = 0;
  for (int i = 0; i < NSOCK; i++) {
    if (m->sock[i] == NULL) continue;
    pfd[n] = (struct pollfd){mnl_socket_get_fd(m->sock[i]), POLLIN, 0};
    map[n++] = i;
  }
  int ready = poll(pfd, (nfds_t)n, count > 0 ? 0 : timeout_ms);
  if (ready < 0) return count > 0 ? count : -errno;
  for (int k = 0; k < n && ready > 0; k++) {
    if (!(pfd[k].revents & (POLLIN | POLLERR))) continue;
    for (;;) { /* everything queued on this socket now */
      ssize_t got = recv(pfd[k].fd, m->buf, RBUF, MSG_DONTWAIT);
      if (got < 0 && errno == EINTR) continue;
      if (got < 0 && errno == ENOBUFS) { /* the kernel dropped some: say so, read on */
        count++;
        if ((rc = fn(CNET_MON_OVERFLOW, NULL, data)) != 0) return rc;
        continue;
      }
      if (got <= 0) break;
      m->len = (size_t)got;
      m->off = 0;
      m->from = map[k];
      if ((rc = deliver(m, fn, data, &count)) != 0) return rc;
    }
  }
  return count;
}

int cnet_monitor_is_del(unsigned what, const struct nlmsghdr *nlh) {
  if (nlh == NULL) return 0;
  if (what == CNET_MON_NFT) {
    switch (nlh->nlmsg_type & 0xff) {
    case NFT_MSG_DELTABLE: case NFT_MSG_DELCHAIN: case NFT_MSG_DELRULE: case NFT_MSG_DELSET:
    case NFT_MSG_DELSETELEM: case NFT_MSG_DELOBJ: case NFT_MSG_DELFLOWTABLE: return 1;
    default: return 0;
    }
  }
  switch (nlh->nlmsg_type) {
  case RTM_DELLINK: case RTM_DELADDR: case RTM_DELROUTE: case RTM_DELNEIGH: case RTM_DELQDISC:
  case RTM_DELTCLASS: return 1;
  default: return 0;
  }
}
