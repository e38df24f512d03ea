/* A network namespace as one network stack: its fd plus netlink sockets opened inside it. */
#ifndef CNET_NETNS_H
#define CNET_NETNS_H

#include <sys/types.h>
#include "cnet/nl.h"

#define CNET_NETNS_DIR "/run/netns" /* where iproute2 keeps named namespaces */

struct cnet_netns;

/* Opening. Each returns 0 or -errno and hands *out to the caller (cnet_netns_close).
 * -ENOENT: no such namespace; -EINVAL: the path is not a network namespace;
 * -ENAMETOOLONG / -EINVAL: a bad name. */
int cnet_netns_open_current(struct cnet_netns **out);           /* the caller's namespace */
int cnet_netns_open_name(const char *name, struct cnet_netns **out); /* /run/netns/NAME */
int cnet_netns_open_path(const char *path, struct cnet_netns **out);
int cnet_netns_open_pid(pid_t pid, struct cnet_netns **out);    /* /proc/PID/ns/net */
void cnet_netns_close(struct cnet_netns *ns);                   /* NULL is fine */

/* Named namespaces, iproute2-compatible (`ip netns list/exec` see them and cnet sees theirs).
 * add: creates a new namespace bound at /run/netns/NAME and opens it (-EEXIST if the name is
 * taken; nothing is left behind on failure). delete: unbinds and removes the name (-ENOENT);
 * it never follows a symlink, so it unmounts nothing outside /run/netns.
 * attach: binds PID's namespace under NAME (like `ip netns attach`); detach = delete.
 * A stale entry (see cnet_netns_stale) does not count as taken: add and attach reuse it. */
int cnet_netns_add(const char *name, struct cnet_netns **out);
int cnet_netns_delete(const char *name);
int cnet_netns_attach(const char *name, pid_t pid);
/* 1 when /run/netns/NAME is stale: the empty file a namespace is mounted on, with nothing
 * mounted (its maker died between the two steps); 0 when it is something else (a
 * namespace), -errno (-ENOENT: no such name). */
int cnet_netns_stale(const char *name);
/* Calls fn for each name in /run/netns, sorted; stops and returns fn's value if non-zero. */
int cnet_netns_list(int (*fn)(const char *name, void *data), void *data);
/* 0 when the name is usable as a file name in /run/netns, else -EINVAL or -ENAMETOOLONG. */
int cnet_netns_check_name(const char *name);

/* Facts. name/path are NULL/"" for a namespace opened by fd or the current one. */
int cnet_netns_fd(const struct cnet_netns *ns);
const char *cnet_netns_name(const struct cnet_netns *ns);
const char *cnet_netns_path(const struct cnet_netns *ns);
/* Kernel identity (device and inode of the nsfs file): equal for the same namespace. */
void cnet_netns_ident(const struct cnet_netns *ns, dev_t *dev, ino_t *ino);
/* 1 when ns is the namespace the calling thread is in, 0 when not, or -errno. */
int cnet_netns_is_current(const struct cnet_netns *ns);

/* The routing-netlink socket living in the namespace (opened with it, never NULL), and the
 * nfnetlink one (opened on first use; 0 or -errno). */
struct cnet_nl *cnet_netns_rtnl(struct cnet_netns *ns);
int cnet_netns_nfnl(struct cnet_netns *ns, struct cnet_nl **out);
/* Sends whatever a batch has deferred (see nl.h), before something outside netlink (a
 * process, a probe's packets, a sysctl file) acts on the namespace. */
void cnet_netns_sync(const struct cnet_netns *ns);

/* Interface indexes of a namespace this handle made: while only cnet adds links there, it
 * knows the next free index, and claim returns it (then the one after), letting a batch name
 * a device it has not made yet. 0 once unknown: the handle did not make the namespace, or
 * something else may have added links (unfresh: a process ran there, a link moved in). */
int cnet_netns_claim_index(struct cnet_netns *ns);
void cnet_netns_unfresh(struct cnet_netns *ns);

/* Switches the calling thread into ns; *saved receives an fd of where it was (pass it to
 * cnet_netns_leave, which switches back and closes it). Returns 0 or -errno. */
int cnet_netns_enter(const struct cnet_netns *ns, int *saved);
int cnet_netns_leave(int saved);

/* The last error's extra text (the kernel's extended ACK), "" when none. Core calls on ns
 * store it here; the buffer is CNET_ERRMSG_MAX bytes. */
const char *cnet_netns_errmsg(const struct cnet_netns *ns);
char *cnet_netns_errbuf(struct cnet_netns *ns);

#endif
