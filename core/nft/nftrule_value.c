/* Values of a match: addresses, prefixes, ranges, ports, protocol and icmp type names. */
#define _GNU_SOURCE
#include "nft/nftrule_int.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

int cc_number(const char *s, unsigned long long max, unsigned long long *out) {
  if (*s < '0' || *s > '9') return -1;
  char *end;
  errno = 0;
  /* like nft: decimal, hex with 0x, and octal with a leading 0 (nft reads 022 as 18) */
  int hex = s[0] == '0' && (s[1] == 'x' || s[1] == 'X');
  if (hex && !((s[2] >= '0' && s[2] <= '9') || (s[2] >= 'a' && s[2] <= 'f') ||
               (s[2] >= 'A' && s[2] <= 'F')))
    return -1;
  unsigned long long v = strtoull(s, &end, 0);
  if (errno != 0 || *end != 0 || v > max) return -1;
  *out = v;
  return 0;
}

static const char *kind_name(enum fkind k) {
  switch (k) {
  case FK_IP4: return "IPv4 address";
  case FK_IP6: return "IPv6 address";
  case FK_PORT: return "port";
  case FK_PROTO: return "protocol";
  case FK_ICMPTYPE: return "icmp type";
  case FK_MARK: return "mark";
  default: return "value";
  }
}

/* One value (no range, no prefix) into v (f->len bytes, as the register holds it). */
static int one_value(const struct field *f, const char *s, uint8_t *v) {
  unsigned long long n;
  int x;
  memset(v, 0, 16);
  switch (f->kind) {
  case FK_IP4: return inet_pton(AF_INET, s, v) == 1 ? 0 : -1;
  case FK_IP6: return inet_pton(AF_INET6, s, v) == 1 ? 0 : -1;
  case FK_PORT: {
    if (cc_number(s, 65535, &n) < 0) return -1;
    uint16_t be = htons((uint16_t)n);
    memcpy(v, &be, 2);
    return 0;
  }
  case FK_PROTO:
    x = nftrule_proto_by_name(s, strlen(s));
    if (x < 0 && cc_number(s, 255, &n) == 0) x = (int)n;
    if (x < 0) {  /* the names nft prints come from the protocol database: take them too */
      struct protoent pe, *res = NULL;
      char tmp[1024];
      if (getprotobyname_r(s, &pe, tmp, sizeof tmp, &res) == 0 && res != NULL &&
          res->p_proto >= 0 && res->p_proto <= 255)
        x = res->p_proto;
    }
    if (x < 0) return -1;
    v[0] = (uint8_t)x;
    return 0;
  case FK_ICMPTYPE:
    x = nftrule_icmp_by_name(s, strlen(s));
    if (x < 0 && cc_number(s, 255, &n) == 0) x = (int)n;
    if (x < 0) return -1;
    v[0] = (uint8_t)x;
    return 0;
  case FK_MARK: {
    if (cc_number(s, 0xffffffffULL, &n) < 0) return -1;
    uint32_t m = (uint32_t)n;
    memcpy(v, &m, 4);
    return 0;
  }
  default: return -1;
  }
}

int cc_elem(struct cc *c, const struct field *f, int tok, struct elem *e) {
  char s[128];
  memset(e, 0, sizeof *e);
  e->plen = -1;
  if (c->t[tok].kind != TK_WORD || cc_tokstr(c, tok, s, sizeof s) < 0)
    return cc_fail(c, tok, -EINVAL, "expected %s", kind_name(f->kind));
  if (s[0] == '@') return cc_fail(c, tok, -EOPNOTSUPP, "named set inside a set");
  /* A whole name first: icmp types such as "echo-request" contain a dash. */
  if (one_value(f, s, e->lo) == 0) {
    memcpy(e->hi, e->lo, f->len);
    return 0;
  }
  char *slash = strchr(s, '/'), *dash = strchr(s, '-');
  if (slash && (f->kind == FK_IP4 || f->kind == FK_IP6)) {
    unsigned long long pl;
    *slash = 0;
    if (one_value(f, s, e->lo) < 0)
      return cc_fail(c, tok, -EINVAL, "bad %s \"%s\"", kind_name(f->kind), s);
    if (cc_number(slash + 1, f->len * 8, &pl) < 0)
      return cc_fail(c, tok, -EINVAL, "bad prefix length \"%s\"", slash + 1);
    if (pl == 0) return cc_fail(c, tok, -EOPNOTSUPP, "prefix length 0 (matches everything)");
    for (unsigned b = 0; b < f->len * 8; b++) {
      unsigned byte = b / 8, bit = 0x80u >> (b % 8);
      if (b >= pl) {  /* like nft, host bits are cleared: 10.0.0.1/8 is 10.0.0.0/8 */
        e->lo[byte] &= (uint8_t)~bit;
        e->hi[byte] |= (uint8_t)bit;
      } else {
        e->hi[byte] |= e->lo[byte] & bit;
      }
    }
    if (pl < f->len * 8) {
      e->plen = (int)pl;
      e->range = 1;
    }
    return 0;
  }
  if (dash && f->kind != FK_PROTO && f->kind != FK_MARK) {
    *dash = 0;
    if (one_value(f, s, e->lo) < 0)
      return cc_fail(c, tok, -EINVAL, "bad %s \"%s\"", kind_name(f->kind), s);
    if (one_value(f, dash + 1, e->hi) < 0)
      return cc_fail(c, tok, -EINVAL, "bad %s \"%s\"", kind_name(f->kind), dash + 1);
    int d = memcmp(e->lo, e->hi, f->len);
    if (f->kind == FK_ICMPTYPE) return cc_fail(c, tok, -EOPNOTSUPP, "icmp type range");
    if (d > 0) return cc_fail(c, tok, -EINVAL, "range start is above its end");
    e->range = d != 0;
    return 0;
  }
  if (f->kind == FK_PORT && s[0] >= 'a' && s[0] <= 'z')
    return cc_fail(c, tok, -EOPNOTSUPP, "service name \"%s\": write the port number", s);
  if (f->kind == FK_PROTO)
    return cc_fail(c, tok, -EINVAL, "unknown protocol \"%s\"", s);
  return cc_fail(c, tok, -EINVAL, "bad %s \"%s\"", kind_name(f->kind), s);
}
