/* Deleting a device without waiting for the kernel to free it: see include/cnet/link.h.
 *
 * The kernel answers RTM_DELLINK only after it has released the device, still inside the
 * sender's sendmsg: the device leaves its namespace (and RTNLGRP_LINK hears RTM_DELLINK)
 * within a millisecond, then the sender waits for RCU grace periods and for the device's
 * last references, 20-60 ms for a veth on a small machine. That wait changes nothing anyone
 * can see. Here a detached grandchild sends the request and takes the wait, while the
 * caller watches the namespace's link group and returns as soon as the kernel says the
 * device is gone, or with the grandchild's own answer when that comes first (an error). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <libmnl/libmnl.h>
#include <linux/rtnetlink.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cnet/intr.h"
#include "cnet/link.h"
#include "cnet/netns.h"
#include "cnet/nl.h"

/* A routing netlink socket of the current namespace, bound to `groups` (0: none). */
static int rtnl_socket(unsigned groups) {
  int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
  if (fd < 0) return -errno;
  struct sockaddr_nl sa = {.nl_family = AF_NETLINK, .nl_groups = groups};
  if (bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
    int rc = -errno;
    close(fd);
    return rc;
  }
  return fd;
}

/* Closes every descriptor but a and b (a < b), and puts /dev/null on 0, 1 and 2: the
 * grandchild must not hold the caller's locks, pipes or sockets open after it has gone. */
static void keep_only(int a, int b) {
  int null = open("/dev/null", O_RDWR | O_CLOEXEC);
  if (null >= 0) {
    for (int fd = 0; fd <= 2; fd++)
      if (fd != a && fd != b) dup2(null, fd);
    if (null > 2 && null != a && null != b) close(null);
  }
  if (a > 3) close_range(3, (unsigned)a - 1, 0);
  if (b > a + 1) close_range((unsigned)a + 1, (unsigned)b - 1, 0);
  close_range((unsigned)b + 1, ~0U, 0);
}

/* The grandchild: sends the request, waits for the kernel's answer, writes its errno (0
 * for success) to `out`. Only system calls: the parent may have had other threads. */
_Noreturn static void send_and_report(int sock, int out, int index) {
  signal(SIGPIPE, SIG_IGN); /* the caller may have stopped listening */
  signal(SIGINT, SIG_IGN);
  union {
    char buf[256];
    struct nlmsghdr align;
  } m;
  memset(&m, 0, sizeof m);
  struct nlmsghdr *nlh = &m.align;
  nlh->nlmsg_len = NLMSG_LENGTH(sizeof(struct ifinfomsg));
  nlh->nlmsg_type = RTM_DELLINK;
  nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
  nlh->nlmsg_seq = 1;
  struct ifinfomsg *ifi = NLMSG_DATA(nlh);
  ifi->ifi_family = AF_UNSPEC;
  ifi->ifi_index = index;
  int err = EIO;
  if (send(sock, nlh, nlh->nlmsg_len, 0) >= 0) {
    char reply[8192];
    ssize_t n;
    while ((n = recv(sock, reply, sizeof reply, 0)) < 0 && errno == EINTR) {
    }
    const struct nlmsghdr *r = (const struct nlmsghdr *)(void *)reply;
    if (n >= (ssize_t)NLMSG_LENGTH(sizeof(struct nlmsgerr)) && r->nlmsg_type == NLMSG_ERROR)
      err = -((const struct nlmsgerr *)NLMSG_DATA(r))->error;
  } else {
    err = errno;
  }
  while (write(out, &err, sizeof err) < 0 && errno == EINTR) {
  }
  _exit(0);
}

/* Whether the messages in buf say that device `index` was deleted. */
static int says_gone(const char *buf, int len, int index) {
  for (const struct nlmsghdr *h = (const void *)buf; mnl_nlmsg_ok(h, len);
       h = mnl_nlmsg_next(h, &len)) {
    if (h->nlmsg_type != RTM_DELLINK || h->nlmsg_len < NLMSG_LENGTH(sizeof(struct ifinfomsg)))
      continue;
    const struct ifinfomsg *ifi = mnl_nlmsg_get_payload(h);
    if (ifi->ifi_index == index) return 1;
  }
  return 0;
}

/* Waits for the kernel's notification on `mon` or the grandchild's answer on `in`; each wait
 * is bounded (the kernel's own is far shorter) and gives up on an interrupt (cnet/intr.h),
 * the device going all the same. */
static int wait_gone(int mon, int in, int index) {
  int watching = 1;
  for (;;) {
    struct pollfd p[2] = {{in, POLLIN, 0}, {watching ? mon : -1, POLLIN, 0}};
    int n = cnet_poll(p, 2, 30000);
    if (n < 0) return n;
    if (n == 0) return -ETIMEDOUT;
    if (p[0].revents) {
      int err;
      ssize_t got = read(in, &err, sizeof err);
      if (got < 0 && errno == EINTR) continue;
      return got == (ssize_t)sizeof err ? -err : -EIO; /* EOF: it died without answering */
    }
    if (p[1].revents) {
      char buf[16384];
      ssize_t got = recv(mon, buf, sizeof buf, MSG_DONTWAIT);
      if (got < 0 && errno == ENOBUFS) watching = 0; /* overrun: the answer will tell */
      else if (got > 0 && says_gone(buf, (int)got, index)) return 0;
    }
  }
}

int cnet_link_delete_unwaited(struct cnet_netns *ns, int index, const char *name) {
  struct cnet_nl *nl = cnet_netns_rtnl(ns);
  cnet_nl_forget_names(nl); /* as cnet_link_delete: what was queued goes first */
  cnet_nl_sync(nl);
  int rc;
  if (index <= 0 && (rc = cnet_link_index(ns, name, &index)) < 0) return rc;
  cnet_netns_errbuf(ns)[0] = '\0';
  int saved, mon = -1, sock = -1, pipefd[2] = {-1, -1};
  if ((rc = cnet_netns_enter(ns, &saved)) < 0) return rc;
  mon = rtnl_socket(1u << (RTNLGRP_LINK - 1));
  sock = mon < 0 ? mon : rtnl_socket(0);
  int left = cnet_netns_leave(saved);
  if (mon < 0 || sock < 0 || left < 0) {
    rc = mon < 0 ? mon : sock < 0 ? sock : left;
    goto out;
  }
  if (pipe2(pipefd, O_CLOEXEC) < 0) {
    rc = -errno;
    goto out;
  }
  pid_t pid = fork();
  if (pid < 0) {
    rc = -errno;
    goto out;
  }
  if (pid == 0) { /* the middle child: leaves at once, so the grandchild belongs to init */
    if (fork() != 0) _exit(0);
    setsid();
    int a = sock < pipefd[1] ? sock : pipefd[1], b = sock < pipefd[1] ? pipefd[1] : sock;
    keep_only(a, b);
    send_and_report(sock, pipefd[1], index);
  }
  close(pipefd[1]);
  pipefd[1] = -1;
  close(sock);
  sock = -1;
  while (waitpid(pid, NULL, 0) < 0 && errno == EINTR) {
  }
  rc = wait_gone(mon, pipefd[0], index);
out:
  if (pipefd[0] >= 0) close(pipefd[0]);
  if (pipefd[1] >= 0) close(pipefd[1]);
  if (sock >= 0) close(sock);
  if (mon >= 0) close(mon);
  return rc;
}
