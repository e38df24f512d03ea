/* Hardware address text: see include/cnet/lladdr.h. */
#include "cnet/lladdr.h"

#include <errno.h>

static int hexval(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  c = (char)(c | 32);
  return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

int cnet_lladdr_parse(const char *text, unsigned char *out, unsigned *len) {
  unsigned n = 0;
  const char *p = text;
  while (*p && n < CNET_LLADDR_MAX) {
    int hi = hexval(p[0]), lo = hi < 0 ? -1 : hexval(p[1]);
    if (hi < 0 || lo < 0) return -EINVAL;
    out[n++] = (unsigned char)(hi << 4 | lo);
    p += 2;
    if (*p == ':') {
      p++;
      if (*p == '\0') return -EINVAL;
    } else if (*p != '\0') {
      return -EINVAL;
    }
  }
  if (*p != '\0' || n == 0) return -EINVAL;
  *len = n;
  return 0;
}

size_t cnet_lladdr_format(const unsigned char *bytes, unsigned len, char *buf) {
  static const char hex[] = "0123456789abcdef";
  if (len > CNET_LLADDR_MAX) len = CNET_LLADDR_MAX;
  char *p = buf;
  for (unsigned i = 0; i < len; i++) { /* by hand: snprintf per byte shows in big dumps */
    if (i) *p++ = ':';
    *p++ = hex[bytes[i] >> 4];
    *p++ = hex[bytes[i] & 15];
  }
  *p = '\0';
  return (size_t)(p - buf);
}
