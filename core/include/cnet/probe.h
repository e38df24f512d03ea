/* Probes of a namespace's reachability: ICMP echo (ping), TCP connect, traceroute.
 * Sockets are made inside the namespace (enter, socket(), leave), so they stay bound to it;
 * every wait is bounded by poll and ends early with -EINTR on an interrupt request
 * (cnet/intr.h). A failed probe is an observation, given as a reason code;
 * only a system failure (no raw socket allowed, bad arguments) returns -errno. */
#ifndef CNET_PROBE_H
#define CNET_PROBE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

#include "cnet/netns.h"

/* Why a probe got no answer (CNET_PROBE_OK: it did). */
enum cnet_probe_reason {
  CNET_PROBE_OK = 0,
  CNET_PROBE_UNREACHABLE,      /* no route (ENETUNREACH, ICMP net unreachable) */
  CNET_PROBE_HOST_UNREACHABLE, /* ICMP host/address unreachable, neighbour failure */
  CNET_PROBE_PROHIBITED,       /* refused by a firewall (EPERM/EACCES, ICMP admin prohibited) */
  CNET_PROBE_TIMEOUT,          /* nothing came back in time */
  CNET_PROBE_REFUSED,          /* TCP: nobody listens (RST) */
  CNET_PROBE_RESET,            /* TCP: the connection was reset while talking */
  CNET_PROBE_TTL_EXCEEDED,     /* ICMP time exceeded (a loop, or a too-small TTL) */
  CNET_PROBE_PORT_UNREACHABLE, /* ICMP port unreachable */
};
/* "unreachable", "host unreachable", ... ; "ok" for CNET_PROBE_OK. */
const char *cnet_probe_reason_name(int reason);

/* An IPv4 or IPv6 address in text ("192.0.2.1", "2001:db8::1") -> a socket address with
 * port; 0 or -EINVAL. Host names are not resolved. */
int cnet_probe_addr(const char *text, uint16_t port, struct sockaddr_storage *out,
                    socklen_t *len);
/* Writes a socket address's IP as text into buf (INET6_ADDRSTRLEN bytes suffice). */
void cnet_probe_addr_text(const struct sockaddr *sa, char *buf, size_t size);

/* A socket of the given kind made inside ns (close-on-exec). Returns the fd or -errno. */
int cnet_probe_socket(const struct cnet_netns *ns, int domain, int type, int protocol);

/* ---- ICMP echo ---- */

/* The outcome of one probe. from is who answered: the target, or the router or host that
 * reported an error (from_len 0: nobody). */
struct cnet_probe_reply {
  int reason;
  double rtt; /* seconds, when someone answered */
  struct sockaddr_storage from;
  socklen_t from_len;
};

/* A raw ICMP socket in a namespace, for echo requests to one address family. */
struct cnet_pinger;

/* family: AF_INET or AF_INET6. 0 or -errno (-EPERM without CAP_NET_RAW in the namespace). */
int cnet_pinger_open(const struct cnet_netns *ns, int family, struct cnet_pinger **out);
void cnet_pinger_close(struct cnet_pinger *p); /* NULL is fine */

/* Sends one echo request to dst with hop limit ttl (0: the system default) and waits up to
 * timeout_ms for its reply or an ICMP error about it. Returns 0 with *r filled (r->reason),
 * or -errno when sending failed for a reason that is no observation (-EINVAL, ...). */
int cnet_pinger_probe(struct cnet_pinger *p, const struct sockaddr *dst, socklen_t dst_len,
                      int ttl, int timeout_ms, struct cnet_probe_reply *r);

/* ---- traceroute ---- */

/* One hop: ttl, and what came back (reason CNET_PROBE_TTL_EXCEEDED from a router on the way,
 * CNET_PROBE_OK from the target, CNET_PROBE_TIMEOUT when silent, another reason when the
 * path ended in an error). */
struct cnet_trace_hop {
  int ttl;
  struct cnet_probe_reply reply;
};

/* Sends echo requests to dst with hop limits 1, 2, ... max_hops (tries probes times per hop
 * while nothing answers, each waiting up to timeout_ms) until the target answers or an
 * error other than "time exceeded" ends the path. hops must hold max_hops entries; *n
 * receives how many were filled, *reached whether the target answered. 0 or -errno (-EINTR
 * when interrupted, with the hops so far in hops and *n). */
int cnet_probe_traceroute(const struct cnet_netns *ns, const struct sockaddr *dst,
                          socklen_t dst_len, int max_hops, int probes, int timeout_ms,
                          struct cnet_trace_hop *hops, int *n, int *reached);

/* ---- TCP connect ---- */

/* Connects to dst inside ns within timeout_ms. With retry_ms > 0, a failed attempt (refused:
 * the server is not listening yet; unreachable; timed out) is repeated every 20 ms until
 * one succeeds or retry_ms have passed since the first, so a caller can wait for a server it
 * just started; *reason is then the last attempt's. When send is non-NULL, writes it and
 * reads the answer until the peer closes or timeout_ms passes again; *reply receives it
 * (malloc'd, NUL-terminated, caller frees; NULL when send is NULL). *rtt: the successful
 * attempt's connect time. Returns 0 with *reason set, -EINTR when interrupted
 * (cnet/intr.h), or -errno. */
int cnet_probe_tcp(const struct cnet_netns *ns, const struct sockaddr *dst, socklen_t dst_len,
                   int timeout_ms, int retry_ms, const char *send, size_t send_len,
                   int *reason, char **reply, size_t *reply_len, double *rtt);

/* ---- ICMP packets (pure functions, exposed for the unit tests) ---- */

/* The Internet checksum (RFC 1071) of len bytes. */
uint16_t cnet_icmp_checksum(const void *data, size_t len);

/* Writes an echo request (ICMP type 8, or ICMPv6 type 128) of size len >= 8 into buf:
 * header with id and seq, payload filled with a pattern. The IPv4 checksum is computed; for
 * IPv6 the kernel computes it (it covers a pseudo-header). Returns len or -EINVAL. */
int cnet_icmp_echo_build(int family, uint16_t id, uint16_t seq, void *buf, size_t len);

/* What a received ICMP packet means for the echo (id, seq):
 * -1: not about it; CNET_PROBE_OK: its echo reply; otherwise the reason of an error about
 * it. buf is what a raw socket delivers: for IPv4 starting at the IP header, for IPv6 at the
 * ICMPv6 header. */
int cnet_icmp_classify(int family, uint16_t id, uint16_t seq, const void *buf, size_t len);

#endif
