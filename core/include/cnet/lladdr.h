/* Link-layer (MAC) addresses as text: "02:00:00:00:00:01". Shared by links, neighbours and
 * the bridge FDB. */
#ifndef CNET_LLADDR_H
#define CNET_LLADDR_H

#include <stddef.h>

#define CNET_LLADDR_MAX 32      /* the longest hardware address netlink carries (MAX_ADDR_LEN) */
#define CNET_LLADDR_STRLEN (CNET_LLADDR_MAX * 3) /* its text with a NUL */

/* Parses pairs of hex digits separated by ':' ("02:00:5e:00:00:01"), at most
 * CNET_LLADDR_MAX bytes, into out (CNET_LLADDR_MAX bytes); *len receives the count.
 * Returns 0, or -EINVAL for anything else (empty text, one digit, junk, a trailing ':'). */
int cnet_lladdr_parse(const char *text, unsigned char *out, unsigned *len);

/* Writes len bytes (at most CNET_LLADDR_MAX are used) as lowercase "aa:bb:..." into buf,
 * which must hold CNET_LLADDR_STRLEN bytes; returns the text's length. */
size_t cnet_lladdr_format(const unsigned char *bytes, unsigned len, char *buf);

#endif
