/* Kernel parameters under /proc/sys, read and written inside a given network namespace. */
#ifndef CNET_SYSCTL_H
#define CNET_SYSCTL_H

#include <stddef.h>

#include "cnet/netns.h"

/* Turns a key into a path below /proc/sys: "net.ipv4.ip_forward" (dots) or
 * "net/ipv4/conf/eth0.1/forwarding" (slashes: taken as they are, so names with dots work).
 * Returns 0, -EINVAL (empty, "..", a leading '/', bad characters) or -ENAMETOOLONG. */
int cnet_sysctl_path(const char *key, char *path, size_t len);

/* Reads the value of key as seen inside ns into buf (NUL-terminated, trailing newline
 * removed; a value longer than len-1 bytes gives -EOVERFLOW). -ENOENT for an unknown key. */
int cnet_sysctl_get(struct cnet_netns *ns, const char *key, char *buf, size_t len);

/* Writes value (a newline is added) inside ns. -ENOENT unknown key, -EINVAL refused value,
 * -EACCES/-EPERM read-only or not allowed; -EPERM (with a reason in the errbuf) for any key
 * outside net.*, since those are machine-wide. */
int cnet_sysctl_set(struct cnet_netns *ns, const char *key, const char *value);

#endif
