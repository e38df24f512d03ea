/* IPv4/IPv6 addresses and prefixes: strict parsing and formatting, shared by every noun. */
#ifndef CNET_IPADDR_H
#define CNET_IPADDR_H

#include <stddef.h>
#include <stdint.h>

#define CNET_IPADDR_STRLEN 64 /* room for any formatted address with "/prefix" */

/* An address of one family (AF_INET: 4 bytes used, AF_INET6: 16) and a prefix length
 * (the full length of the family when the text gave none). */
struct cnet_ipaddr {
  int family;
  uint8_t prefix;
  uint8_t has_prefix; /* the text carried an explicit "/N" */
  unsigned char bytes[16];
};

/* Bytes of an address of `family` (4 or 16), or 0 for any other family. */
size_t cnet_ipaddr_len(int family);

/* Parses a bare address ("192.0.2.1", "2001:db8::1"); no prefix allowed. `family` is
 * AF_UNSPEC (either) or the family the address must have. Returns 0, or -EINVAL for
 * anything malformed (bad octet, junk, wrong family), -EAFNOSUPPORT never. */
int cnet_ipaddr_parse(const char *text, int family, struct cnet_ipaddr *out);

/* Parses "address/prefix" or a bare address (then prefix is the full length and
 * has_prefix 0). The prefix is decimal digits only, at most 32 (IPv4) or 128 (IPv6).
 * Returns 0 or -EINVAL. */
int cnet_ipaddr_parse_prefix(const char *text, int family, struct cnet_ipaddr *out);

/* Writes the address (without prefix) into buf (CNET_IPADDR_STRLEN bytes is always enough):
 * IPv6 in the RFC 5952 form inet_ntop gives. Returns 0, -EAFNOSUPPORT or -ENOSPC. */
int cnet_ipaddr_format(int family, const void *bytes, char *buf, size_t len);
/* Same with "/prefix" appended. */
int cnet_ipaddr_format_prefix(int family, const void *bytes, unsigned prefix, char *buf,
                              size_t len);

/* The address with every host bit (those after `prefix` bits) set: the broadcast address
 * that `ip addr add ... brd +` computes. */
void cnet_ipaddr_host_bits(const struct cnet_ipaddr *a, struct cnet_ipaddr *out);
/* The address with every host bit cleared (the network of a prefix). */
void cnet_ipaddr_network(const struct cnet_ipaddr *a, struct cnet_ipaddr *out);
/* 1 when a and b are the same family and bytes (prefix ignored). */
int cnet_ipaddr_equal(const struct cnet_ipaddr *a, const struct cnet_ipaddr *b);

#endif
