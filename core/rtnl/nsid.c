/* Namespace ids: see include/cnet/nsid.h. */
#include "cnet/nsid.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <linux/net_namespace.h>
#include <linux/rtnetlink.h>

#include "cnet/link.h"
#include "netlink/nlattr_int.h"

struct names {
  char **v;
  size_t n, cap;
};

static int keep_name(const char *name, void *data) {
  struct names *ns = data;
  if (ns->n == ns->cap) {
    size_t cap = ns->cap ? 2 * ns->cap : 16;
    char **v = realloc(ns->v, cap * sizeof *v);
    if (v == NULL) return -ENOMEM;
    ns->v = v, ns->cap = cap;
  }
  if ((ns->v[ns->n] = strdup(name)) == NULL) return -ENOMEM;
  ns->n++;
  return 0;
}

static int nsid_cb(const struct nlmsghdr *nlh, void *data) {
  if (nlh->nlmsg_type != RTM_NEWNSID) return MNL_CB_OK;
  struct attrs it = attrs_of_msg(nlh, sizeof(struct rtgenmsg));
  const struct nlattr *a;
  while ((a = next_attr(&it)) != NULL)
    if (attr_type(a) == NETNSA_NSID && attr_len(a) >= 4) *(int *)data = (int)attr_u32(a, 0);
  return MNL_CB_OK;
}

/* Queues RTM_GETNSID for the namespace behind fd; the answer goes to *id. */
static int queue_getnsid(struct cnet_nl *nl, int fd, int *id) {
  struct nlmsghdr *nlh = cnet_nl_msg(nl, RTM_GETNSID, NLM_F_ACK);
  if (nlh == NULL) return -ENOMEM;
  struct rtgenmsg *g = mnl_nlmsg_put_extra_header(nlh, sizeof *g);
  g->rtgen_family = AF_UNSPEC;
  mnl_attr_put_u32(nlh, NETNSA_FD, (uint32_t)fd);
  int rc = cnet_nl_queue(nl, nsid_cb, id);
  return rc < 0 ? rc : 0;
}

/* The name under /run/netns of the process's own namespace ("" for none), found by comparing
 * inodes and remembered while /run/netns and that namespace stay the same: the common case
 * (a container's veth whose peer is in the host) then costs no walk over every namespace. */
static struct {
  int valid;
  dev_t dev;
  ino_t ino;
  struct timespec mtime;
  char name[CNET_NSID_NAMESZ];
} self_cache;

struct self_find {
  dev_t dev;
  ino_t ino;
  char *out;
};

static int match_self(const char *name, void *data) {
  struct self_find *f = data;
  char path[sizeof CNET_NETNS_DIR + CNET_NSID_NAMESZ];
  struct stat st;
  snprintf(path, sizeof path, "%s/%s", CNET_NETNS_DIR, name);
  if (stat(path, &st) == 0 && st.st_dev == f->dev && st.st_ino == f->ino) {
    snprintf(f->out, CNET_NSID_NAMESZ, "%s", name);
    return 1; /* the first by name, as the walk below picks */
  }
  return 0;
}

static int self_name(int selffd, char *out) {
  struct stat self, dir;
  out[0] = '\0';
  if (fstat(selffd, &self) < 0) return -errno;
  /* A directory's mtime moves in clock ticks (a few ms): a name added and removed within
   * the tick of the last look leaves it as it was. So a look is remembered only when the
   * directory's last change is from an earlier tick than the look: every later change then
   * gets a later mtime. */
  struct timespec now;
  if (clock_gettime(CLOCK_REALTIME_COARSE, &now) < 0) now.tv_sec = 0, now.tv_nsec = 0;
  if (stat(CNET_NETNS_DIR, &dir) < 0) return 0; /* no named namespaces at all */
  if (self_cache.valid && self_cache.dev == self.st_dev && self_cache.ino == self.st_ino &&
      self_cache.mtime.tv_sec == dir.st_mtim.tv_sec &&
      self_cache.mtime.tv_nsec == dir.st_mtim.tv_nsec) {
    snprintf(out, CNET_NSID_NAMESZ, "%s", self_cache.name);
    return 0;
  }
  struct self_find f = {self.st_dev, self.st_ino, out};
  int rc = cnet_netns_list(match_self, &f);
  if (rc < 0) return rc;
  self_cache.valid = dir.st_mtim.tv_sec < now.tv_sec ||
                     (dir.st_mtim.tv_sec == now.tv_sec && dir.st_mtim.tv_nsec < now.tv_nsec);
  self_cache.dev = self.st_dev, self_cache.ino = self.st_ino;
  self_cache.mtime = dir.st_mtim;
  snprintf(self_cache.name, sizeof self_cache.name, "%s", out);
  return 0;
}

/* When every id stands for the process's own namespace, fills names with its name and
 * returns 1; 0 when some id is another namespace (or the question could not be asked). */
static int all_self(struct cnet_netns *ns, unsigned n, const int *nsid,
                    char (*names)[CNET_NSID_NAMESZ]) {
  int fd = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return 0;
  struct cnet_nl *nl = cnet_netns_rtnl(ns);
  int id = -1, all = 0;
  cnet_nl_sync(nl);
  if (queue_getnsid(nl, fd, &id) == 0) (void)cnet_nl_flush(nl, 0); /* a refusal leaves id -1 */
  if (id >= 0) {
    all = 1;
    for (unsigned i = 0; i < n; i++) all &= nsid[i] == id;
  }
  char name[CNET_NSID_NAMESZ];
  if (all && self_name(fd, name) < 0) all = 0;
  close(fd);
  for (unsigned i = 0; all && i < n; i++) snprintf(names[i], CNET_NSID_NAMESZ, "%s", name);
  return all;
}

int cnet_nsid_names(struct cnet_netns *ns, unsigned n, const int *nsid,
                    char (*names)[CNET_NSID_NAMESZ]) {
  for (unsigned i = 0; i < n; i++) names[i][0] = '\0';
  if (n == 0 || all_self(ns, n, nsid, names)) return 0;
  struct names list = {NULL, 0, 0};
  int rc = cnet_netns_list(keep_name, &list);
  int *ids = rc == 0 && list.n ? calloc(list.n, sizeof *ids) : NULL;
  int *fds = ids ? calloc(list.n, sizeof *fds) : NULL;
  if (rc == 0 && list.n && fds == NULL) rc = -ENOMEM;
  struct cnet_nl *nl = cnet_netns_rtnl(ns);
  if (rc == 0 && list.n) {
    cnet_nl_sync(nl); /* what a batch queued goes out first, answered on its own */
    for (size_t i = 0; i < list.n; i++) {
      char path[sizeof CNET_NETNS_DIR + CNET_NSID_NAMESZ];
      snprintf(path, sizeof path, "%s/%s", CNET_NETNS_DIR, list.v[i]);
      ids[i] = -1;
      fds[i] = open(path, O_RDONLY | O_CLOEXEC);
      if (fds[i] >= 0 && rc == 0) rc = queue_getnsid(nl, fds[i], &ids[i]);
    }
    /* A name that is no namespace is refused alone; only the answers matter. */
    if (rc == 0) (void)cnet_nl_flush(nl, 0);
    else cnet_nl_discard(nl);
    for (size_t i = 0; i < list.n; i++)
      if (fds[i] >= 0) close(fds[i]);
  }
  for (size_t i = 0; rc == 0 && i < list.n; i++)
    for (unsigned j = 0; ids[i] >= 0 && j < n; j++)
      if (nsid[j] == ids[i] && names[j][0] == '\0')
        snprintf(names[j], CNET_NSID_NAMESZ, "%s", list.v[i]);
  for (size_t i = 0; i < list.n; i++) free(list.v[i]);
  free(list.v);
  free(ids);
  free(fds);
  return rc;
}

static int name_cb(const struct nlmsghdr *nlh, void *data) {
  struct cnet_link l;
  if (cnet_link_parse(nlh, &l) == 0) snprintf(data, CNET_IFNAMSIZ, "%s", l.name);
  return MNL_CB_OK;
}

int cnet_nsid_link_names(struct cnet_netns *ns, unsigned n, const int *nsid, const int *index,
                         char (*names)[16]) {
  struct cnet_nl *nl = cnet_netns_rtnl(ns);
  cnet_nl_sync(nl);
  for (unsigned i = 0; i < n; i++) {
    names[i][0] = '\0';
    struct nlmsghdr *nlh = cnet_nl_msg(nl, RTM_GETLINK, NLM_F_ACK);
    if (nlh == NULL) {
      cnet_nl_discard(nl);
      return -ENOMEM;
    }
    struct ifinfomsg *ifi = mnl_nlmsg_put_extra_header(nlh, sizeof *ifi);
    ifi->ifi_family = AF_UNSPEC;
    ifi->ifi_index = index[i];
    mnl_attr_put_u32(nlh, IFLA_TARGET_NETNSID, (uint32_t)nsid[i]);
    mnl_attr_put_u32(nlh, IFLA_EXT_MASK, RTEXT_FILTER_SKIP_STATS);
    int rc = cnet_nl_queue(nl, name_cb, names[i]);
    if (rc < 0) {
      cnet_nl_discard(nl);
      return rc;
    }
  }
  (void)cnet_nl_flush(nl, 0); /* one that is gone answers ENODEV alone */
  return 0;
}
