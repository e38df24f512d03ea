/* ICMP echo packets: building requests, reading replies and errors; see cnet/probe.h. */
#include "cnet/probe.h"

#include <errno.h>
#include <netinet/in.h>
#include <string.h>

/* Offsets used here, from RFC 792 (ICMP), RFC 4443 (ICMPv6), RFC 791 and RFC 8200. */
#define ICMP_HDR 8 /* type, code, checksum, id, seq */
#define IP6_HDR 40

enum {
  V4_ECHO_REPLY = 0, V4_DEST_UNREACH = 3, V4_ECHO = 8, V4_TIME_EXCEEDED = 11,
  V6_DEST_UNREACH = 1, V6_TIME_EXCEEDED = 3, V6_ECHO = 128, V6_ECHO_REPLY = 129,
};

uint16_t cnet_icmp_checksum(const void *data, size_t len) {
  const uint8_t *p = data;
  uint32_t sum = 0;
  for (; len > 1; p += 2, len -= 2) sum += (uint32_t)(p[0] << 8 | p[1]);
  if (len == 1) sum += (uint32_t)(p[0] << 8);
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return (uint16_t)~sum; /* in host order: store it big-endian */
}

static void put16(uint8_t *p, uint16_t v) {
  p[0] = (uint8_t)(v >> 8);
  p[1] = (uint8_t)v;
}

static uint16_t get16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }

int cnet_icmp_echo_build(int family, uint16_t id, uint16_t seq, void *buf, size_t len) {
  uint8_t *p = buf;
  if (len < ICMP_HDR || len > 65507 || (family != AF_INET && family != AF_INET6)) return -EINVAL;
  p[0] = family == AF_INET ? V4_ECHO : V6_ECHO;
  p[1] = 0;
  put16(p + 2, 0);
  put16(p + 4, id);
  put16(p + 6, seq);
  for (size_t i = ICMP_HDR; i < len; i++) p[i] = (uint8_t)(0x20 + i % 64);
  if (family == AF_INET) put16(p + 2, cnet_icmp_checksum(p, len));
  return (int)len;
}

/* Whether an ICMP header quoted at q (n bytes) is our echo request. */
static int quotes_echo(const uint8_t *q, size_t n, uint8_t echo, uint16_t id, uint16_t seq) {
  return n >= ICMP_HDR && q[0] == echo && get16(q + 4) == id && get16(q + 6) == seq;
}

static int v4_unreach_reason(uint8_t code) {
  switch (code) {
  case 0: case 6: case 11: return CNET_PROBE_UNREACHABLE;      /* net unreachable/unknown */
  case 3: return CNET_PROBE_PORT_UNREACHABLE;
  case 9: case 10: case 13: return CNET_PROBE_PROHIBITED;      /* administratively filtered */
  default: return CNET_PROBE_HOST_UNREACHABLE;
  }
}

static int v6_unreach_reason(uint8_t code) {
  switch (code) {
  case 0: case 2: return CNET_PROBE_UNREACHABLE;               /* no route, beyond scope */
  case 1: case 5: case 6: return CNET_PROBE_PROHIBITED;        /* prohibited, policy, reject */
  case 4: return CNET_PROBE_PORT_UNREACHABLE;
  default: return CNET_PROBE_HOST_UNREACHABLE;                 /* 3: address unreachable */
  }
}

static int classify4(uint16_t id, uint16_t seq, const uint8_t *p, size_t len) {
  if (len < 20 || (p[0] >> 4) != 4) return -1;
  size_t ihl = (size_t)(p[0] & 0x0f) * 4;
  if (ihl < 20 || len < ihl + ICMP_HDR || p[9] != IPPROTO_ICMP) return -1;
  const uint8_t *icmp = p + ihl;
  size_t n = len - ihl;
  if (icmp[0] == V4_ECHO_REPLY) {
    return get16(icmp + 4) == id && get16(icmp + 6) == seq ? CNET_PROBE_OK : -1;
  }
  if (icmp[0] != V4_DEST_UNREACH && icmp[0] != V4_TIME_EXCEEDED) return -1;
  /* The error quotes the offending packet: its IP header, then at least 8 bytes of it. */
  const uint8_t *in = icmp + ICMP_HDR;
  size_t in_len = n - ICMP_HDR;
  if (in_len < 20 || (in[0] >> 4) != 4 || in[9] != IPPROTO_ICMP) return -1;
  size_t in_ihl = (size_t)(in[0] & 0x0f) * 4;
  if (in_ihl < 20 || in_len < in_ihl) return -1;
  if (!quotes_echo(in + in_ihl, in_len - in_ihl, V4_ECHO, id, seq)) return -1;
  return icmp[0] == V4_TIME_EXCEEDED ? CNET_PROBE_TTL_EXCEEDED : v4_unreach_reason(icmp[1]);
}

static int classify6(uint16_t id, uint16_t seq, const uint8_t *icmp, size_t len) {
  if (len < ICMP_HDR) return -1;
  if (icmp[0] == V6_ECHO_REPLY) {
    return get16(icmp + 4) == id && get16(icmp + 6) == seq ? CNET_PROBE_OK : -1;
  }
  if (icmp[0] != V6_DEST_UNREACH && icmp[0] != V6_TIME_EXCEEDED) return -1;
  /* The quoted packet: a fixed IPv6 header, then (without extension headers, as we send
   * none) our ICMPv6 echo request. */
  const uint8_t *in = icmp + ICMP_HDR;
  size_t in_len = len - ICMP_HDR;
  if (in_len < IP6_HDR || (in[0] >> 4) != 6 || in[6] != IPPROTO_ICMPV6) return -1;
  if (!quotes_echo(in + IP6_HDR, in_len - IP6_HDR, V6_ECHO, id, seq)) return -1;
  return icmp[0] == V6_TIME_EXCEEDED ? CNET_PROBE_TTL_EXCEEDED : v6_unreach_reason(icmp[1]);
}

int cnet_icmp_classify(int family, uint16_t id, uint16_t seq, const void *buf, size_t len) {
  if (family == AF_INET) return classify4(id, seq, buf, len);
  if (family == AF_INET6) return classify6(id, seq, buf, len);
  return -1;
}

const char *cnet_probe_reason_name(int reason) {
  switch (reason) {
  case CNET_PROBE_OK: return "ok";
  case CNET_PROBE_UNREACHABLE: return "unreachable";
  case CNET_PROBE_HOST_UNREACHABLE: return "host unreachable";
  case CNET_PROBE_PROHIBITED: return "prohibited";
  case CNET_PROBE_TIMEOUT: return "timeout";
  case CNET_PROBE_REFUSED: return "refused";
  case CNET_PROBE_RESET: return "reset";
  case CNET_PROBE_TTL_EXCEEDED: return "ttl exceeded";
  case CNET_PROBE_PORT_UNREACHABLE: return "port unreachable";
  default: return "unknown";
  }
}
