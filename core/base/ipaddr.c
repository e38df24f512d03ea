/* Address and prefix text: see include/cnet/ipaddr.h. */
#include "cnet/ipaddr.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

size_t cnet_ipaddr_len(int family) {
  return family == AF_INET ? 4 : family == AF_INET6 ? 16 : 0;
}

int cnet_ipaddr_parse(const char *text, int family, struct cnet_ipaddr *out) {
  memset(out, 0, sizeof *out);
  if (text == NULL || *text == '\0') return -EINVAL;
  /* inet_pton is strict for IPv4 (four decimal octets, each <= 255, no leading junk). */
  if (family != AF_INET6 && strchr(text, ':') == NULL) {
    if (inet_pton(AF_INET, text, out->bytes) != 1) return -EINVAL;
    out->family = AF_INET;
  } else if (family != AF_INET && strchr(text, ':') != NULL) {
    if (inet_pton(AF_INET6, text, out->bytes) != 1) return -EINVAL;
    out->family = AF_INET6;
  } else {
    return -EINVAL;
  }
  out->prefix = (uint8_t)(cnet_ipaddr_len(out->family) * 8);
  return 0;
}

int cnet_ipaddr_parse_prefix(const char *text, int family, struct cnet_ipaddr *out) {
  memset(out, 0, sizeof *out);
  if (text == NULL) return -EINVAL;
  const char *slash = strchr(text, '/');
  if (slash == NULL) return cnet_ipaddr_parse(text, family, out);
  char addr[CNET_IPADDR_STRLEN];
  size_t n = (size_t)(slash - text);
  if (n == 0 || n >= sizeof addr) return -EINVAL;
  memcpy(addr, text, n);
  addr[n] = '\0';
  int rc = cnet_ipaddr_parse(addr, family, out);
  if (rc < 0) return rc;
  const char *p = slash + 1;
  unsigned v = 0, max = (unsigned)cnet_ipaddr_len(out->family) * 8;
  if (*p == '\0' || strlen(p) > 3) return -EINVAL;
  for (; *p; p++) {
    if (*p < '0' || *p > '9') return -EINVAL;
    v = v * 10 + (unsigned)(*p - '0');
  }
  if (v > max) return -EINVAL;
  out->prefix = (uint8_t)v;
  out->has_prefix = 1;
  return 0;
}

/* Decimal digits of v (< 1000) at p; returns the end. */
static char *put_dec(char *p, unsigned v) {
  if (v >= 100) *p++ = (char)('0' + v / 100);
  if (v >= 10) *p++ = (char)('0' + v / 10 % 10);
  *p++ = (char)('0' + v % 10);
  return p;
}

int cnet_ipaddr_format(int family, const void *bytes, char *buf, size_t len) {
  if (family == AF_INET) {
    /* By hand: glibc's inet_ntop goes through sprintf, which dominates big route dumps. */
    char tmp[16], *p = tmp;
    const unsigned char *b = bytes;
    for (int i = 0; i < 4; i++) {
      if (i) *p++ = '.';
      p = put_dec(p, b[i]);
    }
    *p = '\0';
    if ((size_t)(p - tmp) >= len) return -ENOSPC;
    memcpy(buf, tmp, (size_t)(p - tmp) + 1);
    return 0;
  }
  if (family != AF_INET6) return -EAFNOSUPPORT;
  char tmp[INET6_ADDRSTRLEN];
  if (inet_ntop(family, bytes, tmp, sizeof tmp) == NULL) return -errno;
  if (strlen(tmp) >= len) return -ENOSPC;
  strcpy(buf, tmp);
  return 0;
}

int cnet_ipaddr_format_prefix(int family, const void *bytes, unsigned prefix, char *buf,
                              size_t len) {
  int rc = cnet_ipaddr_format(family, bytes, buf, len);
  if (rc < 0) return rc;
  size_t used = strlen(buf);
  char tail[8], *end = tail;
  *end++ = '/';
  end = put_dec(end, prefix % 1000);
  size_t n = (size_t)(end - tail);
  if (used + n >= len) return -ENOSPC;
  memcpy(buf + used, tail, n);
  buf[used + n] = '\0';
  return 0;
}

static void apply_mask(const struct cnet_ipaddr *a, struct cnet_ipaddr *out, int set) {
  *out = *a;
  size_t len = cnet_ipaddr_len(a->family);
  for (size_t i = 0; i < len; i++) {
    unsigned first = (unsigned)i * 8; /* bit number of this byte's top bit */
    unsigned char host;                /* host bits within this byte */
    if (a->prefix >= first + 8) host = 0;
    else if (a->prefix <= first) host = 0xff;
    else host = (unsigned char)(0xffu >> (a->prefix - first));
    out->bytes[i] = set ? (unsigned char)(a->bytes[i] | host) : (unsigned char)(a->bytes[i] & ~host);
  }
}

void cnet_ipaddr_host_bits(const struct cnet_ipaddr *a, struct cnet_ipaddr *out) {
  apply_mask(a, out, 1);
}

void cnet_ipaddr_network(const struct cnet_ipaddr *a, struct cnet_ipaddr *out) {
  apply_mask(a, out, 0);
}

int cnet_ipaddr_equal(const struct cnet_ipaddr *a, const struct cnet_ipaddr *b) {
  return a->family == b->family &&
         memcmp(a->bytes, b->bytes, cnet_ipaddr_len(a->family)) == 0;
}
