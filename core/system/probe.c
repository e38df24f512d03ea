/* Probes: sockets made inside a namespace, ICMP echo, traceroute, TCP connect; see
 * cnet/probe.h. Every wait goes through cnet_poll with a deadline, so an interrupt request
 * (cnet/intr.h) ends it. */
#define _GNU_SOURCE
#include "cnet/probe.h"
#include "cnet/intr.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/icmp6.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <linux/icmp.h>

#define ECHO_SIZE 64 /* ICMP header + 56 bytes, as ping sends by default */

/* ---- addresses and sockets ---- */

int cnet_probe_addr(const char *text, uint16_t port, struct sockaddr_storage *out,
                    socklen_t *len) {
  memset(out, 0, sizeof *out);
  struct sockaddr_in *v4 = (struct sockaddr_in *)out;
  struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)out;
  if (inet_pton(AF_INET, text, &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(port);
    *len = sizeof *v4;
    return 0;
  }
  if (inet_pton(AF_INET6, text, &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(port);
    *len = sizeof *v6;
    return 0;
  }
  return -EINVAL;
}

void cnet_probe_addr_text(const struct sockaddr *sa, char *buf, size_t size) {
  const void *a = sa->sa_family == AF_INET ? (const void *)&((const struct sockaddr_in *)sa)->sin_addr
                                           : (const void *)&((const struct sockaddr_in6 *)sa)->sin6_addr;
  if (size == 0) return;
  if (inet_ntop(sa->sa_family, a, buf, (socklen_t)size) == NULL) buf[0] = '\0';
}

static int same_namespace(const struct cnet_netns *ns) {
  struct stat st;
  dev_t dev;
  ino_t ino;
  cnet_netns_ident(ns, &dev, &ino);
  return stat("/proc/thread-self/ns/net", &st) == 0 && st.st_dev == dev && st.st_ino == ino;
}

int cnet_probe_socket(const struct cnet_netns *ns, int domain, int type, int protocol) {
  cnet_netns_sync(ns); /* a probe inside a batch travels what was queued before it */
  type |= SOCK_CLOEXEC;
  if (same_namespace(ns)) { /* no switch needed, and none allowed without CAP_SYS_ADMIN */
    int fd = socket(domain, type, protocol);
    return fd < 0 ? -errno : fd;
  }
  int saved, rc = cnet_netns_enter(ns, &saved);
  if (rc < 0) return rc;
  int fd = socket(domain, type, protocol);
  int err = fd < 0 ? -errno : 0;
  rc = cnet_netns_leave(saved);
  if (rc < 0) { /* still inside: a socket made now would be wrong anyway */
    if (fd >= 0) close(fd);
    return rc;
  }
  return fd < 0 ? err : fd;
}

/* ---- time ---- */

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Milliseconds until deadline (never negative), rounded up so poll does not spin. */
static int left_ms(double deadline) {
  double left = deadline - now_s();
  if (left <= 0) return 0;
  return (int)(left * 1000.0) + 1;
}

/* A send or connect failure that is an answer about the path, or -errno. */
static int path_reason(int err) {
  switch (err) {
  case ENETUNREACH: case ENETDOWN: return CNET_PROBE_UNREACHABLE;
  case EADDRNOTAVAIL: return CNET_PROBE_UNREACHABLE; /* no source address: IPv6 on a down lo */
  case EHOSTUNREACH: case EHOSTDOWN: return CNET_PROBE_HOST_UNREACHABLE;
  case EPERM: case EACCES: return CNET_PROBE_PROHIBITED;  /* a firewall drop or prohibit route */
  case ECONNREFUSED: return CNET_PROBE_REFUSED;
  case ECONNRESET: case EPIPE: return CNET_PROBE_RESET;
  case ETIMEDOUT: return CNET_PROBE_TIMEOUT;
  default: return -err;
  }
}

/* ---- ICMP echo ---- */

struct cnet_pinger {
  int fd, family;
  uint16_t id, seq;
};

/* Only echo replies and the errors that may be about our requests reach the socket. */
static void set_filter(int fd, int family) {
  if (family == AF_INET) {
    struct icmp_filter f = {
        .data = ~((1U << ICMP_ECHOREPLY) | (1U << ICMP_DEST_UNREACH) | (1U << ICMP_TIME_EXCEEDED))};
    (void)setsockopt(fd, SOL_RAW, ICMP_FILTER, &f, sizeof f);
  } else {
    struct icmp6_filter f;
    ICMP6_FILTER_SETBLOCKALL(&f);
    ICMP6_FILTER_SETPASS(ICMP6_ECHO_REPLY, &f);
    ICMP6_FILTER_SETPASS(ICMP6_DST_UNREACH, &f);
    ICMP6_FILTER_SETPASS(ICMP6_TIME_EXCEEDED, &f);
    (void)setsockopt(fd, IPPROTO_ICMPV6, ICMP6_FILTER, &f, sizeof f);
  }
}

int cnet_pinger_open(const struct cnet_netns *ns, int family, struct cnet_pinger **out) {
  *out = NULL;
  if (family != AF_INET && family != AF_INET6) return -EAFNOSUPPORT;
  struct cnet_pinger *p = calloc(1, sizeof *p);
  if (p == NULL) return -ENOMEM;
  int fd = cnet_probe_socket(ns, family, SOCK_RAW | SOCK_NONBLOCK,
                             family == AF_INET ? IPPROTO_ICMP : IPPROTO_ICMPV6);
  if (fd < 0) {
    free(p);
    return fd;
  }
  set_filter(fd, family);
  p->fd = fd;
  p->family = family;
  /* A raw socket sees every ICMP packet of the namespace: a random identifier keeps our
   * replies apart from those of other pingers. */
  if (getrandom(&p->id, sizeof p->id, GRND_NONBLOCK) != (ssize_t)sizeof p->id) {
    p->id = (uint16_t)(getpid() ^ (uintptr_t)p);
  }
  *out = p;
  return 0;
}

void cnet_pinger_close(struct cnet_pinger *p) {
  if (p == NULL) return;
  close(p->fd);
  free(p);
}

static int set_ttl(struct cnet_pinger *p, int ttl) {
  int v = ttl > 0 ? ttl : -1; /* -1: back to the route's or system's default */
  int rc = p->family == AF_INET ? setsockopt(p->fd, IPPROTO_IP, IP_TTL, &v, sizeof v)
                                : setsockopt(p->fd, IPPROTO_IPV6, IPV6_UNICAST_HOPS, &v, sizeof v);
  return rc < 0 ? -errno : 0;
}

/* A lost first echo is common right after links come up (the veth carrier and its qdisc
 * arrive asynchronously, up to a second later), so a probe sends a fresh echo every
 * RESEND_MS until the deadline, as ping(8) does once a second, and takes the first answer to
 * any of them. */
enum { RESEND_MS = 200, MAX_ECHOES = 64 };

static int send_echo(struct cnet_pinger *p, const struct sockaddr *dst, socklen_t dst_len,
                     uint16_t seq) {
  uint8_t pkt[ECHO_SIZE];
  cnet_icmp_echo_build(p->family, p->id, seq, pkt, sizeof pkt);
  ssize_t n;
  do n = sendto(p->fd, pkt, sizeof pkt, 0, dst, dst_len);
  while (n < 0 && errno == EINTR);
  return n < 0 ? -errno : 0;
}

int cnet_pinger_probe(struct cnet_pinger *p, const struct sockaddr *dst, socklen_t dst_len,
                      int ttl, int timeout_ms, struct cnet_probe_reply *r) {
  memset(r, 0, sizeof *r);
  if (dst->sa_family != p->family || ttl < 0 || ttl > 255 || timeout_ms < 0) return -EINVAL;
  int rc = set_ttl(p, ttl);
  if (rc < 0) return rc;
  /* Leftovers of an earlier probe that timed out are not answers to this one: drain them. */
  uint8_t buf[4096];
  while (recv(p->fd, buf, sizeof buf, MSG_DONTWAIT) >= 0) {}
  double sent_at[MAX_ECHOES];
  uint16_t first = (uint16_t)(p->seq + 1);
  int nsent = 0;
  double t0 = now_s(), deadline = t0 + timeout_ms / 1000.0, next = t0;
  for (;;) {
    double t = now_s();
    if (t >= next && t < deadline && nsent < MAX_ECHOES) {
      rc = send_echo(p, dst, dst_len, ++p->seq);
      if (rc < 0) { /* no route, a firewall: the answer came from our own stack */
        if (nsent > 0) {
          p->seq--;
        } else {
          rc = path_reason(-rc);
          if (rc < 0) return rc;
          r->reason = rc;
          return 0;
        }
      } else {
        sent_at[nsent++] = t;
      }
      next = t + RESEND_MS / 1000.0;
    }
    double wake = next < deadline && nsent < MAX_ECHOES ? next : deadline;
    struct pollfd pfd = {.fd = p->fd, .events = POLLIN};
    int k = cnet_poll(&pfd, 1, left_ms(wake));
    if (k < 0) return k;
    if (k > 0) {
      struct sockaddr_storage from;
      socklen_t from_len = sizeof from;
      ssize_t n = recvfrom(p->fd, buf, sizeof buf, MSG_DONTWAIT, (struct sockaddr *)&from,
                           &from_len);
      double got = now_s();
      if (n >= 0 && got < deadline) {
        for (int i = nsent - 1; i >= 0; i--) {
          int what = cnet_icmp_classify(p->family, p->id, (uint16_t)(first + i), buf, (size_t)n);
          if (what < 0) continue;
          r->reason = what;
          r->rtt = got - sent_at[i];
          r->from = from;
          r->from_len = from_len;
          return 0;
        }
      } else if (n < 0 && errno != EAGAIN && errno != EINTR) {
        return -errno;
      }
    }
    if (now_s() >= deadline) {
      r->reason = CNET_PROBE_TIMEOUT;
      return 0;
    }
  }
}

/* ---- traceroute ---- */

int cnet_probe_traceroute(const struct cnet_netns *ns, const struct sockaddr *dst,
                          socklen_t dst_len, int max_hops, int probes, int timeout_ms,
                          struct cnet_trace_hop *hops, int *n, int *reached) {
  *n = 0;
  *reached = 0;
  if (max_hops < 1 || max_hops > 255 || probes < 1) return -EINVAL;
  struct cnet_pinger *p;
  int rc = cnet_pinger_open(ns, dst->sa_family, &p);
  if (rc < 0) return rc;
  for (int ttl = 1; ttl <= max_hops; ttl++) {
    struct cnet_trace_hop *h = &hops[(*n)++];
    h->ttl = ttl;
    for (int i = 0; i < probes; i++) {
      rc = cnet_pinger_probe(p, dst, dst_len, ttl, timeout_ms, &h->reply);
      if (rc < 0 || h->reply.reason != CNET_PROBE_TIMEOUT) break;
    }
    if (rc < 0) break;
    int why = h->reply.reason;
    if (why == CNET_PROBE_OK) *reached = 1;
    if (why != CNET_PROBE_TTL_EXCEEDED && why != CNET_PROBE_TIMEOUT) break;
  }
  cnet_pinger_close(p);
  return rc;
}

/* ---- TCP connect ---- */

/* Waits for events on fd until deadline: 1 ready, 0 timed out, -errno. */
static int wait_fd(int fd, short events, double deadline) {
  for (;;) {
    struct pollfd pfd = {.fd = fd, .events = events};
    int k = cnet_poll(&pfd, 1, left_ms(deadline));
    if (k > 0) return 1;
    if (k < 0) return k;
    if (k == 0 && now_s() >= deadline) return 0;
  }
}

/* Sends all of data, then reads until the peer closes or the deadline passes. 0 with
 * *reason, or -errno. */
static int exchange(int fd, const char *data, size_t len, double deadline, int *reason,
                    char **reply, size_t *reply_len) {
  size_t off = 0, cap = 0;
  while (off < len) {
    int k = wait_fd(fd, POLLOUT, deadline);
    if (k <= 0) return k < 0 ? k : (*reason = CNET_PROBE_TIMEOUT, 0);
    ssize_t w = send(fd, data + off, len - off, MSG_NOSIGNAL);
    if (w > 0) off += (size_t)w;
    else if (w < 0 && errno != EAGAIN && errno != EINTR) {
      int rc = path_reason(errno);
      return rc < 0 ? rc : (*reason = rc, 0);
    }
  }
  for (;;) {
    int k = wait_fd(fd, POLLIN, deadline);
    if (k < 0) return k;
    if (k == 0) return 0; /* silent peer that keeps the connection: what we have is the reply */
    if (*reply_len + 4096 + 1 > cap) {
      size_t ncap = cap ? cap * 2 : 8192;
      char *b = realloc(*reply, ncap);
      if (b == NULL) return -ENOMEM;
      *reply = b;
      cap = ncap;
    }
    ssize_t got = recv(fd, *reply + *reply_len, 4096, 0);
    if (got == 0) return 0;
    if (got > 0) {
      *reply_len += (size_t)got;
      (*reply)[*reply_len] = '\0';
    } else if (errno != EAGAIN && errno != EINTR) {
      int rc = path_reason(errno);
      if (rc < 0) return rc;
      if (*reply_len == 0) *reason = rc; /* reset before a word came back */
      return 0;
    }
  }
}

/* One connection attempt: CNET_PROBE_OK with *fd connected, another reason (fd closed), or
 * -errno. */
static int connect_once(const struct cnet_netns *ns, const struct sockaddr *dst,
                        socklen_t dst_len, int timeout_ms, int *fd_out) {
  int fd = cnet_probe_socket(ns, dst->sa_family, SOCK_STREAM | SOCK_NONBLOCK, 0);
  if (fd < 0) return fd;
  int rc;
  if (connect(fd, dst, dst_len) < 0 && errno != EINPROGRESS) {
    rc = path_reason(errno);
  } else {
    int k = wait_fd(fd, POLLOUT, now_s() + timeout_ms / 1000.0);
    int err = 0;
    socklen_t el = sizeof err;
    if (k < 0) rc = k;
    else if (k == 0) rc = CNET_PROBE_TIMEOUT;
    else if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &el) < 0) rc = -errno;
    else rc = err ? path_reason(err) : CNET_PROBE_OK;
  }
  if (rc == CNET_PROBE_OK) *fd_out = fd;
  else close(fd);
  return rc;
}

/* Pause between attempts while waiting for a server to listen: short, since a server
 * usually binds within milliseconds of starting. */
enum { RETRY_GAP_MS = 20 };

int cnet_probe_tcp(const struct cnet_netns *ns, const struct sockaddr *dst, socklen_t dst_len,
                   int timeout_ms, int retry_ms, const char *send_data, size_t send_len,
                   int *reason, char **reply, size_t *reply_len, double *rtt) {
  *reason = CNET_PROBE_OK;
  *reply = NULL;
  *reply_len = 0;
  *rtt = 0;
  if (timeout_ms < 0 || retry_ms < 0) return -EINVAL;
  double retry_until = now_s() + retry_ms / 1000.0, t0;
  int fd = -1, rc;
  for (;;) {
    t0 = now_s();
    rc = connect_once(ns, dst, dst_len, timeout_ms, &fd);
    if (rc <= 0 || now_s() + RETRY_GAP_MS / 1000.0 > retry_until) break;
    int k = cnet_poll(NULL, 0, RETRY_GAP_MS); /* an interruptible pause */
    if (k < 0) {
      rc = k;
      break;
    }
  }
  if (rc == CNET_PROBE_OK) {
    *rtt = now_s() - t0;
    if (send_data != NULL) {
      *reply = calloc(1, 1);
      rc = *reply == NULL ? -ENOMEM
                          : exchange(fd, send_data, send_len, now_s() + timeout_ms / 1000.0,
                                     reason, reply, reply_len);
    }
    close(fd);
  } else if (rc > 0) {
    *reason = rc;
    rc = 0;
  }
  if (rc < 0) {
    free(*reply);
    *reply = NULL;
    *reply_len = 0;
  }
  return rc;
}
