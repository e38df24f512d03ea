/* Making tun/tap devices. The kernel lists their settings over netlink (kind "tun") but makes
 * them only through /dev/net/tun: open it inside the namespace the device is to live in,
 * TUNSETIFF with the name and flags, TUNSETOWNER/TUNSETGROUP, and TUNSETPERSIST so that the
 * device outlives the descriptor (as `ip tuntap add` does). The rest of the request (mtu,
 * mac, master, up, alias) follows as one change of the new device. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <linux/if_link.h>
#include <linux/if_tun.h>

#include "rtnl/link_int.h"
#include "rtnl/linkinfo_int.h"

static uint64_t opt(const struct cnet_link_req *req, const char *name, uint64_t dflt) {
  const struct cnet_link_opt *o = cnet_linkinfo_opt(req->info, req->ninfo, name);
  return o ? o->value.u : dflt;
}

/* The TUNSETIFF flags and owner/group of the request; -EINVAL for options tun takes none of
 * (or persist = false: nothing would hold such a device open). */
static int tun_flags(const struct cnet_link_req *req, short *flags, uint32_t *owner,
                     uint32_t *group) {
  uint64_t type = opt(req, "type", 0);
  if (type != IFF_TUN && type != IFF_TAP) return -EINVAL;
  if (!opt(req, "persist", 1)) return -EINVAL;
  *flags = (short)(type | IFF_TUN_EXCL);
  if (!opt(req, "pi", 0)) *flags |= IFF_NO_PI;
  if (opt(req, "vnet_hdr", 0)) *flags |= IFF_VNET_HDR;
  if (opt(req, "multi_queue", 0)) *flags |= IFF_MULTI_QUEUE;
  *owner = (uint32_t)opt(req, "user", 0xffffffffu);
  *group = (uint32_t)opt(req, "group", 0xffffffffu);
  return 0;
}

/* Opens /dev/net/tun inside `home`: a tun device is made in the namespace its file was
 * opened in. Returns the descriptor or -errno. */
static int open_tun(struct cnet_netns *home) {
  int saved, rc = cnet_netns_enter(home, &saved);
  if (rc < 0) return rc;
  int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
  int e = errno;
  rc = cnet_netns_leave(saved);
  if (fd < 0) return -e;
  if (rc < 0) {
    close(fd);
    return rc;
  }
  return fd;
}

static int make(struct cnet_netns *home, const struct cnet_link_req *req, char *err) {
  short flags;
  uint32_t owner, group;
  if (tun_flags(req, &flags, &owner, &group) < 0) {
    snprintf(err, CNET_ERRMSG_MAX, "tun/tap takes type, pi, vnet_hdr, multi_queue, user, group "
                                   "and persist = true");
    return -EINVAL;
  }
  int fd = open_tun(home);
  if (fd < 0) {
    snprintf(err, CNET_ERRMSG_MAX, "cannot open /dev/net/tun");
    return fd == -ENOENT || fd == -ENODEV ? -EOPNOTSUPP : fd;
  }
  struct ifreq ifr;
  memset(&ifr, 0, sizeof ifr);
  snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "%s", req->name);
  ifr.ifr_flags = flags;
  int rc = 0;
  if (ioctl(fd, TUNSETIFF, &ifr) < 0) rc = errno == EBUSY ? -EEXIST : -errno; /* TUN_EXCL */
  else if (owner != 0xffffffffu && ioctl(fd, TUNSETOWNER, (unsigned long)owner) < 0) rc = -errno;
  else if (group != 0xffffffffu && ioctl(fd, TUNSETGROUP, (unsigned long)group) < 0) rc = -errno;
  else if (ioctl(fd, TUNSETPERSIST, 1UL) < 0) rc = -errno;
  if (rc < 0 && rc != -EEXIST) (void)ioctl(fd, TUNSETPERSIST, 0UL); /* gone with the fd */
  close(fd);
  return rc;
}

int link_add_tuntap(struct cnet_netns *ns, const struct cnet_link_req *req) {
  char *err = cnet_netns_errbuf(ns);
  struct cnet_netns *home = req->netns_fd >= 0 && req->netns ? req->netns : ns;
  /* what a batch queued goes first: the device may join a bridge made there */
  cnet_netns_sync(ns);
  if (home != ns) cnet_netns_sync(home);
  cnet_netns_unfresh(home);
  int rc = make(home, req, err);
  if (rc < 0) return rc;
  return link_add_rest(ns, home, req, 1);
}
