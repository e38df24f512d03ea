/* u32's match language: tc's words for header fields ("ip dst 192.0.2.0/24", "ip dport 80
 * 0xffff") turned into the 32-bit (value, mask, offset) keys the kernel compares, the way
 * tc's f_u32.c packs them, so cnet sends tc's bytes; keys printed back as raw matches that
 * parse to the same keys. */
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "cnet/lladdr.h"
#include "cnet/tcfilter.h"

enum ftype {
  T_U8, T_U16, T_U32, /* a value and a mask of that width */
  T_IP4, T_IP6,       /* an address prefix */
  T_MAC,              /* six exact bytes */
  T_FIXED16,          /* no argument: val and mask below */
  T_TCLASS            /* ip6 priority: 8 bits after the version nibble */
};

/* Each field once: tc's words, its type, its offset from the network header (or from the
 * next header when offmask is -1; negative: in the link-layer header). */
static const struct field {
  const char *proto, *name; /* name NULL: raw u32/u16/u8 */
  uint8_t type;
  int16_t off;
  int8_t offmask;
  uint16_t val, mask;
} fields[] = {
    {"ip", "src", T_IP4, 12, 0, 0, 0},         {"ip", "dst", T_IP4, 16, 0, 0, 0},
    {"ip", "tos", T_U8, 1, 0, 0, 0},           {"ip", "dsfield", T_U8, 1, 0, 0, 0},
    {"ip", "precedence", T_U8, 1, 0, 0, 0},    {"ip", "ihl", T_U8, 0, 0, 0, 0},
    {"ip", "protocol", T_U8, 9, 0, 0, 0},      {"ip", "nofrag", T_FIXED16, 6, 0, 0, 0x3fff},
    {"ip", "firstfrag", T_FIXED16, 6, 0, 0x2000, 0x3fff},
    {"ip", "df", T_FIXED16, 6, 0, 0x4000, 0x4000},
    {"ip", "mf", T_FIXED16, 6, 0, 0x2000, 0x2000},
    {"ip", "sport", T_U16, 20, 0, 0, 0},       {"ip", "dport", T_U16, 22, 0, 0, 0},
    {"ip", "icmp_type", T_U8, 20, 0, 0, 0},    {"ip", "icmp_code", T_U8, 21, 0, 0, 0},
    {"ip6", "src", T_IP6, 8, 0, 0, 0},         {"ip6", "dst", T_IP6, 24, 0, 0, 0},
    {"ip6", "priority", T_TCLASS, 0, 0, 0, 0}, {"ip6", "protocol", T_U8, 6, 0, 0, 0},
    {"ip6", "flowlabel", T_U32, 0, 0, 0, 0},   {"ip6", "sport", T_U16, 40, 0, 0, 0},
    {"ip6", "dport", T_U16, 42, 0, 0, 0},
    {"tcp", "src", T_U16, 0, -1, 0, 0},        {"tcp", "dst", T_U16, 2, -1, 0, 0},
    {"udp", "src", T_U16, 0, -1, 0, 0},        {"udp", "dst", T_U16, 2, -1, 0, 0},
    {"icmp", "type", T_U8, 0, -1, 0, 0},       {"icmp", "code", T_U8, 1, -1, 0, 0},
    {"ether", "src", T_MAC, -8, 0, 0, 0},      {"ether", "dst", T_MAC, -14, 0, 0, 0},
    {"u32", NULL, T_U32, 0, 0, 0, 0},          {"u16", NULL, T_U16, 0, 0, 0, 0},
    {"u8", NULL, T_U8, 0, 0, 0, 0},
};
enum { NFIELDS = sizeof fields / sizeof fields[0] };

struct keys {
  struct cnet_tc_u32_key *v;
  unsigned *n;
  char *err;
};

static int fail(struct keys *k, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(struct keys *k, const char *fmt, ...) {
  if (k->err != NULL) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(k->err, CNET_ERRMSG_MAX, fmt, ap);
    va_end(ap);
  }
  return -EINVAL;
}

/* tc's pack_key: key and mask in network order; a key on a word an earlier key covers is
 * merged into it unless the two disagree on a bit both test. */
static int pack(struct keys *k, uint32_t key, uint32_t mask, int off, int offmask) {
  key &= mask;
  for (unsigned i = 0; i < *k->n; i++) {
    struct cnet_tc_u32_key *x = &k->v[i];
    if (x->off == off && x->offmask == offmask) {
      if ((key ^ x->val) & mask & x->mask)
        return fail(k, "contradicts an earlier match of the same bits");
      x->val |= key;
      x->mask |= mask;
      return 0;
    }
  }
  if (*k->n >= CNET_TC_U32_MAXKEYS) return fail(k, "more than %d keys", CNET_TC_U32_MAXKEYS);
  if (off % 4 != 0) return fail(k, "offset %d is not a multiple of 4", off);
  k->v[(*k->n)++] = (struct cnet_tc_u32_key){mask, key, off, offmask};
  return 0;
}

static int pack32(struct keys *k, uint32_t key, uint32_t mask, int off, int offmask) {
  return pack(k, htonl(key), htonl(mask), off, offmask);
}

/* 16 and 8 bits go where tc puts them in their word (tc shifts a 16-bit value only at a
 * word's start; the same bytes either way for the offsets its fields use). */
static int pack16(struct keys *k, uint32_t key, uint32_t mask, int off, int offmask) {
  if (key > 0xffff || mask > 0xffff) return fail(k, "value or mask wider than 16 bits");
  if ((off & 3) == 0) {
    key <<= 16;
    mask <<= 16;
  }
  return pack(k, htonl(key), htonl(mask), off & ~3, offmask);
}

static int pack8(struct keys *k, uint32_t key, uint32_t mask, int off, int offmask) {
  if (key > 0xff || mask > 0xff) return fail(k, "value or mask wider than 8 bits");
  int shift = (3 - (off & 3)) * 8;
  return pack(k, htonl(key << shift), htonl(mask << shift), off & ~3, offmask);
}

/* tc's get_u32: decimal, 0x-hex or 0-octal for values; masks always hex (base 16). */
static int number(const char *s, int base, uint32_t *out) {
  if (s == NULL || *s == '\0' || *s == '-' || *s == '+' || *s == ' ') return -1;
  char *end;
  unsigned long long v = strtoull(s, &end, base);
  if (*end != '\0' || v > 0xffffffffULL) return -1;
  *out = (uint32_t)v;
  return 0;
}

static int integer(const char *s, int *out) {
  if (s == NULL || *s == '\0' || *s == ' ') return -1;
  char *end;
  long v = strtol(s, &end, 0);
  if (*end != '\0' || v < INT_MIN || v > INT_MAX) return -1;
  *out = (int)v;
  return 0;
}

#define MAXWORDS 8

int cnet_tc_u32_parse_match(const char *text, struct cnet_tc_u32_key *keys, unsigned *nkeys,
                            char *errmsg) {
  struct keys k = {keys, nkeys, errmsg};
  if (errmsg) errmsg[0] = '\0';
  char buf[256];
  if (strlen(text) >= sizeof buf) return fail(&k, "too long");
  strcpy(buf, text);
  char *w[MAXWORDS + 1], *save = NULL;
  int n = 0;
  for (char *t = strtok_r(buf, " \t", &save); t != NULL; t = strtok_r(NULL, " \t", &save)) {
    if (n == MAXWORDS) return fail(&k, "too many words");
    w[n++] = t;
  }
  w[n] = NULL;
  if (n == 0) return fail(&k, "empty match");
  const struct field *f = NULL;
  int i = 0;
  for (unsigned j = 0; j < NFIELDS && f == NULL; j++) {
    if (strcmp(fields[j].proto, w[0]) != 0) continue;
    if (fields[j].name == NULL) f = &fields[j], i = 1;
    else if (n > 1 && strcmp(fields[j].name, w[1]) == 0) f = &fields[j], i = 2;
  }
  if (f == NULL) {
    for (unsigned j = 0; j < NFIELDS; j++)
      if (strcmp(fields[j].proto, w[0]) == 0)
        return fail(&k, "unknown field '%s' of %s", n > 1 ? w[1] : "", w[0]);
    return fail(&k, "unknown match '%s' (ip, ip6, tcp, udp, icmp, ether, u32, u16, u8)", w[0]);
  }
  /* the field's arguments */
  uint32_t val = 0, mask = 0;
  struct cnet_ipaddr addr;
  unsigned char mac[CNET_LLADDR_MAX];
  unsigned maclen = 0;
  switch (f->type) {
  case T_U8: case T_U16: case T_U32: case T_TCLASS:
    if (number(w[i], 0, &val) < 0) return fail(&k, "'%s' is not a number", w[i] ? w[i] : "");
    if (number(w[i + 1], 16, &mask) < 0)
      return fail(&k, "'%s' is not a mask (hex, as 0xffff)", w[i + 1] ? w[i + 1] : "");
    i += 2;
    break;
  case T_IP4: case T_IP6:
    if (w[i] == NULL ||
        cnet_ipaddr_parse_prefix(w[i], f->type == T_IP4 ? AF_INET : AF_INET6, &addr) < 0)
      return fail(&k, "'%s' is not an IPv%c prefix", w[i] ? w[i] : "", f->type == T_IP4 ? '4' : '6');
    i++;
    break;
  case T_MAC:
    if (w[i] == NULL || cnet_lladdr_parse(w[i], mac, &maclen) < 0 || maclen != 6)
      return fail(&k, "'%s' is not a MAC address", w[i] ? w[i] : "");
    i++;
    break;
  default: break;
  }
  /* at [nexthdr+]OFF, where tc takes it */
  int off = f->off, offmask = f->offmask;
  if (w[i] != NULL && strcmp(w[i], "at") == 0 && f->type != T_FIXED16 && f->type != T_TCLASS) {
    const char *p = w[++i];
    if (p != NULL && strncmp(p, "nexthdr+", 8) == 0) {
      offmask = -1;
      p = p[8] ? p + 8 : w[++i];
    }
    if (integer(p, &off) < 0) return fail(&k, "'at' needs an offset");
    i++;
  }
  if (w[i] != NULL) return fail(&k, "unexpected '%s'", w[i]);
  switch (f->type) {
  case T_U8: return pack8(&k, val, mask, off, offmask);
  case T_U16: return pack16(&k, val, mask, off, offmask);
  case T_U32: return pack32(&k, val, mask, off, offmask);
  case T_FIXED16: return pack16(&k, f->val, f->mask, off, offmask);
  case T_TCLASS:
    if (val > 0xff || mask > 0xff) return fail(&k, "value or mask wider than 8 bits");
    return pack32(&k, val << 20, mask << 20, off, offmask);
  case T_IP4: {
    uint32_t a;
    memcpy(&a, addr.bytes, 4);
    return pack(&k, a, addr.prefix ? htonl(0xffffffffu << (32 - addr.prefix)) : 0, off, offmask);
  }
  case T_IP6:
    for (int b = 0; b < addr.prefix; b += 32) {
      uint32_t a;
      memcpy(&a, addr.bytes + b / 8, 4);
      uint32_t m = addr.prefix - b >= 32 ? 0xffffffffu : htonl(0xffffffffu << (32 - (addr.prefix - b)));
      int rc = pack(&k, a, m, off + b / 8, offmask);
      if (rc < 0) return rc;
    }
    return 0;
  case T_MAC:
    for (int b = 0; b < 6; b++) {
      int rc = pack8(&k, mac[b], 0xff, off + b, offmask);
      if (rc < 0) return rc;
    }
    return 0;
  default: return fail(&k, "unknown field type");
  }
}

void cnet_tc_u32_format_key(const struct cnet_tc_u32_key *k, char *buf, size_t size) {
  uint32_t val = ntohl(k->val), mask = ntohl(k->mask);
  if (k->offmask == 0) snprintf(buf, size, "u32 0x%08x 0x%08x at %d", val, mask, k->off);
  else if (k->offmask == -1) snprintf(buf, size, "u32 0x%08x 0x%08x at nexthdr+%d", val, mask, k->off);
  else /* a key no tc word makes: shown, not parseable */
    snprintf(buf, size, "u32 0x%08x 0x%08x at %d offmask 0x%x", val, mask, k->off,
             (unsigned)k->offmask);
}

/* One hex field of a handle, up to max, or 0 when empty. */
static int hexfield(const char *s, size_t len, uint32_t max, uint32_t *out) {
  *out = 0;
  for (size_t i = 0; i < len; i++) {
    char c = s[i];
    int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10
          : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
    if (d < 0 || *out > max / 16) return -1;
    *out = *out * 16 + (uint32_t)d;
  }
  return *out <= max ? 0 : -1;
}

int cnet_tc_u32_parse_handle(const char *text, uint32_t *out) {
  const char *c1 = strchr(text, ':');
  if (c1 == NULL) {
    if (strncmp(text, "0x", 2) != 0 || text[2] == '\0') return -EINVAL;
    return hexfield(text + 2, strlen(text + 2), 0xffffffffu, out) < 0 ? -EINVAL : 0;
  }
  const char *c2 = strchr(c1 + 1, ':');
  uint32_t ht, bucket = 0, node = 0;
  if (hexfield(text, (size_t)(c1 - text), 0xfff, &ht) < 0) return -EINVAL;
  if (c2 == NULL) {
    if (hexfield(c1 + 1, strlen(c1 + 1), 0xff, &bucket) < 0) return -EINVAL;
  } else if (hexfield(c1 + 1, (size_t)(c2 - c1 - 1), 0xff, &bucket) < 0 ||
             hexfield(c2 + 1, strlen(c2 + 1), 0xfff, &node) < 0) {
    return -EINVAL;
  }
  *out = ht << 20 | bucket << 12 | node;
  return 0;
}

void cnet_tc_u32_format_handle(uint32_t h, char *buf, size_t size) {
  uint32_t ht = h >> 20, bucket = (h >> 12) & 0xff, node = h & 0xfff;
  if (h == 0) {
    snprintf(buf, size, "none");
    return;
  }
  int n = ht ? snprintf(buf, size, "%x:", ht) : (buf[0] = '\0', 0);
  if (bucket) n += snprintf(buf + n, size - (size_t)n, "%x", bucket);
  if (node) snprintf(buf + n, size - (size_t)n, ":%x", node);
}
