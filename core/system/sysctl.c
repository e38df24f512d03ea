/* sysctl: see include/cnet/sysctl.h. */
#include "cnet/sysctl.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define PROC_SYS "/proc/sys/"

int cnet_sysctl_path(const char *key, char *path, size_t len) {
  if (key == NULL || *key == '\0' || *key == '/' || *key == '.') return -EINVAL;
  size_t klen = strlen(key), plen = strlen(PROC_SYS);
  if (plen + klen + 1 > len) return -ENAMETOOLONG;
  int slashed = strchr(key, '/') != NULL;
  memcpy(path, PROC_SYS, plen);
  for (size_t i = 0; i < klen; i++) {
    char c = key[i];
    if (c == '\n' || c == ' ' || c == '\t') return -EINVAL;
    path[plen + i] = (!slashed && c == '.') ? '/' : c;
  }
  path[plen + klen] = '\0';
  /* No empty or dot-only components: the path must stay below /proc/sys. */
  for (const char *p = path + plen; *p;) {
    const char *end = strchr(p, '/');
    size_t n = end ? (size_t)(end - p) : strlen(p);
    if (n == 0 || (n == 1 && p[0] == '.') || (n == 2 && p[0] == '.' && p[1] == '.'))
      return -EINVAL;
    p += n;
    if (*p == '/') p++;
    if (end && *p == '\0') return -EINVAL;
  }
  return 0;
}

/* Opens path with flags inside ns: /proc/sys/net shows the namespace of the opener. Inside
 * a batch, the deferred requests go out first (the key may name a link queued to be made). */
static int open_in(struct cnet_netns *ns, const char *path, int flags) {
  cnet_nl_sync(cnet_netns_rtnl(ns));
  int saved, rc = cnet_netns_enter(ns, &saved);
  if (rc < 0) return rc;
  int fd = open(path, flags | O_CLOEXEC);
  int err = fd < 0 ? -errno : 0;
  rc = cnet_netns_leave(saved);
  if (rc < 0) {
    if (fd >= 0) close(fd);
    return rc;
  }
  return fd < 0 ? err : fd;
}

int cnet_sysctl_get(struct cnet_netns *ns, const char *key, char *buf, size_t len) {
  char path[512];
  cnet_netns_errbuf(ns)[0] = '\0';
  if (len == 0) return -EINVAL;
  buf[0] = '\0';
  int rc = cnet_sysctl_path(key, path, sizeof path);
  if (rc < 0) return rc;
  int fd = open_in(ns, path, O_RDONLY);
  if (fd < 0) return fd;
  size_t got = 0;
  for (;;) {
    if (got == len - 1) { /* full: anything more means it does not fit */
      char extra;
      ssize_t n = read(fd, &extra, 1);
      rc = n > 0 ? -EOVERFLOW : n < 0 ? -errno : 0;
      break;
    }
    ssize_t n = read(fd, buf + got, len - 1 - got);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) { rc = -errno; break; }
    if (n == 0) break;
    got += (size_t)n;
  }
  close(fd);
  if (rc < 0) {
    buf[0] = '\0';
    return rc;
  }
  while (got > 0 && buf[got - 1] == '\n') got--;
  buf[got] = '\0';
  return 0;
}

int cnet_sysctl_set(struct cnet_netns *ns, const char *key, const char *value) {
  char path[512];
  cnet_netns_errbuf(ns)[0] = '\0';
  int rc = cnet_sysctl_path(key, path, sizeof path);
  if (rc < 0) return rc;
  /* Only net.* lives in the network namespace; kernel.*, vm.*, fs.* would change the whole
   * machine, whichever namespace the handle names. */
  if (strncmp(path, PROC_SYS "net/", strlen(PROC_SYS "net/")) != 0) {
    snprintf(cnet_netns_errbuf(ns), CNET_ERRMSG_MAX,
             "only net.* keys belong to a network namespace");
    return -EPERM;
  }
  int fd = open_in(ns, path, O_WRONLY);
  if (fd < 0) return fd;
  /* One write of value + newline: proc handlers parse what one write gives them. */
  size_t vlen = strlen(value);
  char small[256];
  const char *out = value;
  size_t olen = vlen;
  if (vlen + 1 < sizeof small) {
    memcpy(small, value, vlen);
    small[vlen] = '\n';
    out = small;
    olen = vlen + 1;
  }
  ssize_t n;
  do n = write(fd, out, olen); while (n < 0 && errno == EINTR);
  rc = n < 0 ? -errno : (size_t)n != olen ? -EIO : 0;
  if (close(fd) < 0 && rc == 0) rc = -errno;
  return rc;
}
