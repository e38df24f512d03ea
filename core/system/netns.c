/* Network namespaces: open, create, delete, list; see include/cnet/netns.h. */
#define _GNU_SOURCE
#include "cnet/netns.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <net/if.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>
#include <linux/nsfs.h>

#ifndef NSFS_MAGIC
#define NSFS_MAGIC 0x6e736673
#endif

#define SELF_NS "/proc/thread-self/ns/net"

struct cnet_netns {
  int fd;
  char *name, *path;
  dev_t dev;
  ino_t ino;
  struct cnet_nl *rtnl, *nfnl;
  int next_index;       /* made here and only cnet added links since: the next free ifindex */
  char errmsg[CNET_ERRMSG_MAX];
};

int cnet_netns_check_name(const char *name) {
  size_t n = strlen(name);
  if (n == 0 || strchr(name, '/') != NULL || strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
    return -EINVAL;
  if (n > NAME_MAX) return -ENAMETOOLONG;
  return 0;
}

static int name_path(const char *name, char *buf, size_t size) {
  int rc = cnet_netns_check_name(name);
  if (rc < 0) return rc;
  snprintf(buf, size, "%s/%s", CNET_NETNS_DIR, name);
  return 0;
}

/* Takes ownership of fd and of the sockets; the namespace must be the one fd refers to. */
static int wrap(int fd, const char *name, const char *path, struct cnet_nl *rtnl,
                struct cnet_netns **out) {
  struct cnet_netns *ns = calloc(1, sizeof *ns);
  struct stat st;
  if (ns == NULL || fstat(fd, &st) < 0 || (name && !(ns->name = strdup(name))) ||
      (path && !(ns->path = strdup(path)))) {
    int rc = ns == NULL ? -ENOMEM : (errno ? -errno : -ENOMEM);
    if (ns) { free(ns->name); free(ns->path); free(ns); }
    close(fd);
    cnet_nl_close(rtnl);
    return rc;
  }
  ns->fd = fd;
  ns->dev = st.st_dev;
  ns->ino = st.st_ino;
  ns->rtnl = rtnl;
  cnet_nl_set_nskey(rtnl, (uint64_t)st.st_ino);
  *out = ns;
  return 0;
}

int cnet_netns_enter(const struct cnet_netns *ns, int *saved) {
  *saved = open(SELF_NS, O_RDONLY | O_CLOEXEC);
  if (*saved < 0) return -errno;
  if (setns(ns->fd, CLONE_NEWNET) < 0) {
    int rc = -errno;
    close(*saved);
    *saved = -1;
    return rc;
  }
  return 0;
}

int cnet_netns_leave(int saved) {
  int rc = setns(saved, CLONE_NEWNET) < 0 ? -errno : 0;
  close(saved);
  return rc;
}

/* Opens the routing socket while the thread is inside the namespace of fd. */
static int open_rtnl_in(int fd, struct cnet_nl **rtnl) {
  struct cnet_netns tmp = {.fd = fd};
  int saved, rc = cnet_netns_enter(&tmp, &saved);
  if (rc < 0) return rc;
  rc = cnet_nl_open(NETLINK_ROUTE, rtnl);
  int back = cnet_netns_leave(saved);
  if (back < 0) { /* stuck in the wrong namespace: nothing sensible can follow */
    cnet_nl_close(*rtnl);
    *rtnl = NULL;
    return back;
  }
  return rc;
}

static int check_netns_fd(int fd) {
  struct statfs sfs;
  if (fstatfs(fd, &sfs) < 0) return -errno;
  if ((unsigned long)sfs.f_type != NSFS_MAGIC) return -EINVAL;
  int type = ioctl(fd, NS_GET_NSTYPE);
  if (type >= 0 && type != CLONE_NEWNET) return -EINVAL;
  return 0;
}

static int open_fd(const char *path, const char *name, struct cnet_netns **out) {
  *out = NULL;
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -errno;
  int rc = check_netns_fd(fd);
  struct cnet_nl *rtnl = NULL;
  if (rc == 0) rc = open_rtnl_in(fd, &rtnl);
  if (rc < 0) {
    close(fd);
    return rc;
  }
  return wrap(fd, name, path, rtnl, out);
}

int cnet_netns_open_current(struct cnet_netns **out) {
  *out = NULL;
  int fd = open(SELF_NS, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -errno;
  struct cnet_nl *rtnl;
  int rc = cnet_nl_open(NETLINK_ROUTE, &rtnl);
  if (rc < 0) {
    close(fd);
    return rc;
  }
  return wrap(fd, NULL, NULL, rtnl, out);
}

int cnet_netns_open_name(const char *name, struct cnet_netns **out) {
  char path[PATH_MAX];
  *out = NULL;
  int rc = name_path(name, path, sizeof path);
  return rc < 0 ? rc : open_fd(path, name, out);
}

int cnet_netns_open_path(const char *path, struct cnet_netns **out) {
  return open_fd(path, NULL, out);
}

int cnet_netns_open_pid(pid_t pid, struct cnet_netns **out) {
  char path[64];
  *out = NULL;
  if (pid <= 0) return -ESRCH;
  snprintf(path, sizeof path, "/proc/%d/ns/net", (int)pid);
  int rc = open_fd(path, NULL, out);
  return rc == -ENOENT ? -ESRCH : rc;
}

void cnet_netns_close(struct cnet_netns *ns) {
  if (ns == NULL) return;
  cnet_nl_close(ns->rtnl);
  cnet_nl_close(ns->nfnl);
  close(ns->fd);
  free(ns->name);
  free(ns->path);
  free(ns);
}

static int prepare_dir_now(void) {
  if (mkdir(CNET_NETNS_DIR, 0755) < 0 && errno != EEXIST) return -errno;
  if (mount("", CNET_NETNS_DIR, "none", MS_SHARED | MS_REC, NULL) == 0) return 0;
  if (errno != EINVAL) return -errno;
  /* Not a mount point yet: make it one by binding it onto itself, then share it. */
  if (mount(CNET_NETNS_DIR, CNET_NETNS_DIR, "none", MS_BIND | MS_REC, NULL) < 0) return -errno;
  return mount("", CNET_NETNS_DIR, "none", MS_SHARED | MS_REC, NULL) < 0 ? -errno : 0;
}

/* Like iproute2: /run/netns is a shared mount point, so a namespace bound there by one mount
 * namespace is seen by the others. Done once per process: a recursive MS_SHARED walks every
 * mount below /run/netns (one per namespace), and repeating it for each new namespace was
 * half of the mount calls of adding 500 (strace: 18 ms of mount time, 10 ms once). */
static int prepare_dir(void) {
  static int prepared;
  if (prepared) return 0;
  int rc = prepare_dir_now();
  if (rc == 0) prepared = 1;
  return rc;
}

int cnet_netns_stale(const char *name) {
  char path[PATH_MAX];
  int rc = name_path(name, path, sizeof path);
  if (rc < 0) return rc;
  struct stat st;
  struct statfs sfs;
  if (lstat(path, &st) < 0 || statfs(path, &sfs) < 0) return -errno;
  return S_ISREG(st.st_mode) && st.st_size == 0 && (unsigned long)sfs.f_type != NSFS_MAGIC;
}

/* Creates the empty file a namespace is bound onto, or takes over a stale one (left by a
 * process that died between creating and mounting, as cnet and iproute2 both do in two
 * steps); -EEXIST if the name is taken. On success *lock holds /run/netns locked (flock):
 * two cnet processes cannot both take the same stale entry; close it once the mount is
 * made. */
static int make_mount_file(const char *name, const char *path, int *lock) {
  int rc = prepare_dir();
  if (rc < 0) return rc;
  *lock = open(CNET_NETNS_DIR, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (*lock < 0) return -errno;
  while (flock(*lock, LOCK_EX) < 0) {
    if (errno != EINTR) {
      rc = -errno;
      close(*lock);
      return rc;
    }
  }
  int fd = open(path, O_RDONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0);
  if (fd >= 0) {
    close(fd);
    return 0;
  }
  rc = -errno;
  if (rc == -EEXIST && cnet_netns_stale(name) == 1) return 0;
  close(*lock);
  return rc;
}

int cnet_netns_add(const char *name, struct cnet_netns **out) {
  char path[PATH_MAX];
  *out = NULL;
  int lock = -1;
  int rc = name_path(name, path, sizeof path);
  if (rc < 0 || (rc = make_mount_file(name, path, &lock)) < 0) return rc;
  int saved = open(SELF_NS, O_RDONLY | O_CLOEXEC);
  if (saved < 0) {
    rc = -errno;
    unlink(path);
    close(lock);
    return rc;
  }
  struct cnet_nl *rtnl = NULL;
  int fd = -1;
  /* Unshare in this thread (no process spawn), pin the namespace with a bind mount, open
   * its routing socket while inside, then go back. */
  if (unshare(CLONE_NEWNET) < 0) {
    rc = -errno;
  } else {
    if (mount(SELF_NS, path, "none", MS_BIND, NULL) < 0) rc = -errno;
    if (rc == 0) rc = cnet_nl_open(NETLINK_ROUTE, &rtnl);
    if (rc == 0 && (fd = open(SELF_NS, O_RDONLY | O_CLOEXEC)) < 0) rc = -errno;
    if (setns(saved, CLONE_NEWNET) < 0 && rc == 0) rc = -errno;
  }
  close(saved);
  if (rc < 0) {
    if (fd >= 0) close(fd);
    cnet_nl_close(rtnl);
  } else {
    rc = wrap(fd, name, path, rtnl, out); /* on failure it closed fd and rtnl */
  }
  if (rc < 0) { /* nothing left behind: the name goes with the namespace */
    umount2(path, MNT_DETACH | UMOUNT_NOFOLLOW);
    unlink(path);
  }
  close(lock);
  if (rc < 0) return rc;
  (*out)->next_index = 2; /* a new namespace holds only lo, index 1 */
  return 0;
}

int cnet_netns_claim_index(struct cnet_netns *ns) {
  if (ns->next_index <= 0) return 0;
  /* Another handle, a program or a module (fallback tunnel devices) may have added links
   * this handle did not see: a taken index ends the tracking. */
  struct ifreq ifr;
  memset(&ifr, 0, sizeof ifr);
  ifr.ifr_ifindex = ns->next_index;
  if (ioctl(cnet_nl_fd(ns->rtnl), SIOCGIFNAME, &ifr) == 0 || errno != ENODEV) {
    ns->next_index = 0;
    return 0;
  }
  return ns->next_index++;
}

void cnet_netns_unfresh(struct cnet_netns *ns) { ns->next_index = 0; }

int cnet_netns_delete(const char *name) {
  char path[PATH_MAX];
  int rc = name_path(name, path, sizeof path);
  if (rc < 0) return rc;
  /* NOFOLLOW: a symlink planted in /run/netns must not lead the unmount to a mount
   * elsewhere; it is removed like any other name. EINVAL: nothing mounted there (a stale
   * entry, a symlink), so only the name goes. */
  if (umount2(path, MNT_DETACH | UMOUNT_NOFOLLOW) < 0 && errno != EINVAL) return -errno;
  return unlink(path) < 0 ? -errno : 0;
}

int cnet_netns_attach(const char *name, pid_t pid) {
  char path[PATH_MAX], src[64];
  int rc = name_path(name, path, sizeof path);
  if (rc < 0) return rc;
  if (pid <= 0) return -ESRCH;
  snprintf(src, sizeof src, "/proc/%d/ns/net", (int)pid);
  if (access(src, F_OK) < 0) return errno == ENOENT ? -ESRCH : -errno;
  int lock;
  if ((rc = make_mount_file(name, path, &lock)) < 0) return rc;
  if (mount(src, path, "none", MS_BIND, NULL) < 0) {
    rc = errno == ENOENT ? -ESRCH : -errno;
    unlink(path);
  }
  close(lock);
  return rc;
}

static int by_name(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

int cnet_netns_list(int (*fn)(const char *name, void *data), void *data) {
  DIR *d = opendir(CNET_NETNS_DIR);
  if (d == NULL) return errno == ENOENT ? 0 : -errno;
  char **names = NULL;
  size_t n = 0, cap = 0;
  int rc = 0;
  for (struct dirent *e; (e = readdir(d)) != NULL;) {
    if (e->d_name[0] == '.') continue;
    if (n == cap) {
      cap = cap ? cap * 2 : 16;
      char **m = realloc(names, cap * sizeof *m);
      if (m == NULL) { rc = -ENOMEM; break; }
      names = m;
    }
    if ((names[n] = strdup(e->d_name)) == NULL) { rc = -ENOMEM; break; }
    n++;
  }
  closedir(d);
  if (rc == 0 && n > 1) qsort(names, n, sizeof *names, by_name);
  for (size_t i = 0; i < n; i++) {
    if (rc == 0) rc = fn(names[i], data);
    free(names[i]);
  }
  free(names);
  return rc;
}

int cnet_netns_fd(const struct cnet_netns *ns) { return ns->fd; }
const char *cnet_netns_name(const struct cnet_netns *ns) { return ns->name; }
const char *cnet_netns_path(const struct cnet_netns *ns) { return ns->path; }
struct cnet_nl *cnet_netns_rtnl(struct cnet_netns *ns) { return ns->rtnl; }

void cnet_netns_sync(const struct cnet_netns *ns) { cnet_nl_sync(ns->rtnl); }
const char *cnet_netns_errmsg(const struct cnet_netns *ns) { return ns->errmsg; }
char *cnet_netns_errbuf(struct cnet_netns *ns) { return ns->errmsg; }

int cnet_netns_is_current(const struct cnet_netns *ns) {
  struct stat st;
  if (stat(SELF_NS, &st) < 0) return -errno;
  return st.st_dev == ns->dev && st.st_ino == ns->ino;
}

void cnet_netns_ident(const struct cnet_netns *ns, dev_t *dev, ino_t *ino) {
  *dev = ns->dev;
  *ino = ns->ino;
}

int cnet_netns_nfnl(struct cnet_netns *ns, struct cnet_nl **out) {
  if (ns->nfnl == NULL) {
    int saved, rc = cnet_netns_enter(ns, &saved);
    if (rc < 0) return rc;
    rc = cnet_nl_open(NETLINK_NETFILTER, &ns->nfnl);
    int back = cnet_netns_leave(saved);
    if (rc == 0 && back < 0) rc = back;
    if (rc < 0) {
      cnet_nl_close(ns->nfnl);
      ns->nfnl = NULL;
      return rc;
    }
  }
  *out = ns->nfnl;
  return 0;
}
