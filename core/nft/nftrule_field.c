/* The fields a rule can match (meta keys, header fields, ct state) and their value names. */
#define _GNU_SOURCE
#include "nft/nftrule_int.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/netfilter/nf_tables.h>

#define NH NFT_PAYLOAD_NETWORK_HEADER
#define TH NFT_PAYLOAD_TRANSPORT_HEADER

/* dtype numbers: nft's datatype ids (ipv4_addr 7, ipv6_addr 8, inet_proto 12,
 * inet_service 13, icmp_type 14, mark 19, ct_state 26). */
const struct field nftrule_fields[] = {
  {"iifname", FK_IFNAME, 0, NFT_META_IIFNAME, 0, 16, 0, 0, 41},
  {"oifname", FK_IFNAME, 0, NFT_META_OIFNAME, 0, 16, 0, 0, 41},
  {"iif", FK_IFINDEX, 0, NFT_META_IIF, 0, 4, 0, 0, 20},
  {"oif", FK_IFINDEX, 0, NFT_META_OIF, 0, 4, 0, 0, 20},
  {"meta l4proto", FK_PROTO, 0, NFT_META_L4PROTO, 0, 1, 0, 0, 12},
  {"meta mark", FK_MARK, 0, NFT_META_MARK, 0, 4, 0, 0, 19},
  {"meta nfproto", FK_NFPROTO, 0, NFT_META_NFPROTO, 0, 1, 0, 0, 2},
  {"ip protocol", FK_PROTO, 1, NH, 9, 1, L3_IP4, 0, 12},
  {"ip saddr", FK_IP4, 1, NH, 12, 4, L3_IP4, 0, 7},
  {"ip daddr", FK_IP4, 1, NH, 16, 4, L3_IP4, 0, 7},
  {"ip6 saddr", FK_IP6, 1, NH, 8, 16, L3_IP6, 0, 8},
  {"ip6 daddr", FK_IP6, 1, NH, 24, 16, L3_IP6, 0, 8},
  {"tcp sport", FK_PORT, 1, TH, 0, 2, 0, 6, 13},
  {"tcp dport", FK_PORT, 1, TH, 2, 2, 0, 6, 13},
  {"udp sport", FK_PORT, 1, TH, 0, 2, 0, 17, 13},
  {"udp dport", FK_PORT, 1, TH, 2, 2, 0, 17, 13},
  {"icmp type", FK_ICMPTYPE, 1, TH, 0, 1, L3_IP4, 1, 14},
  {"ct state", FK_CTSTATE, 2, NFT_CT_STATE, 0, 4, 0, 0, 26},
  {NULL, 0, 0, 0, 0, 0, 0, 0, 0},
};

/* Compares in place ("a" or "a b" against each name): no copy, no library call per entry,
 * since every rule's first words come through here. */
const struct field *nftrule_field_by_name(const char *a, size_t alen, const char *b,
                                          size_t blen) {
  for (const struct field *f = nftrule_fields; f->name; f++) {
    const char *n = f->name;
    if (n[0] != a[0] || strncmp(n, a, alen) != 0) continue;
    if (b == NULL) {
      if (n[alen] == '\0') return f;
    } else if (n[alen] == ' ' && strncmp(n + alen + 1, b, blen) == 0 &&
               n[alen + 1 + blen] == '\0') {
      return f;
    }
  }
  return NULL;
}

const struct field *nftrule_field_meta(uint32_t key) {
  for (const struct field *f = nftrule_fields; f->name; f++)
    if (f->src == 0 && f->key == key) return f;
  return NULL;
}

const struct field *nftrule_field_ct(uint32_t key) {
  for (const struct field *f = nftrule_fields; f->name; f++)
    if (f->src == 2 && f->key == key) return f;
  return NULL;
}

const struct field *nftrule_field_payload(uint32_t base, uint32_t offset, uint32_t l3,
                                          uint32_t l4) {
  for (const struct field *f = nftrule_fields; f->name; f++) {
    if (f->src != 1 || f->key != base || f->offset != offset) continue;
    if (base == NH && f->l3 != l3) continue;
    if (base == TH && f->l4 != l4) continue;
    return f;
  }
  return NULL;
}

static const struct { const char *name; int num; } protos[] = {
  {"icmp", 1}, {"igmp", 2}, {"tcp", 6}, {"udp", 17}, {"gre", 47}, {"esp", 50}, {"ah", 51},
  {"icmpv6", 58}, {"sctp", 132}, {"udplite", 136}, {NULL, 0},
};

int nftrule_proto_by_name(const char *s, size_t n) {
  for (int i = 0; protos[i].name; i++)
    if (strlen(protos[i].name) == n && memcmp(protos[i].name, s, n) == 0) return protos[i].num;
  return -1;
}

/* Like nft, names come from the protocol database (/etc/protocols) when it has one. */
void nftrule_proto_print(unsigned proto, char *buf, size_t size) {
  struct protoent pe, *res = NULL;
  char tmp[1024];
  if (getprotobynumber_r((int)proto, &pe, tmp, sizeof tmp, &res) == 0 && res != NULL)
    snprintf(buf, size, "%s", res->p_name);
  else
    snprintf(buf, size, "%u", proto);
}

static const char *const icmp_names[] = {
  [0] = "echo-reply", [3] = "destination-unreachable", [4] = "source-quench",
  [5] = "redirect", [8] = "echo-request", [9] = "router-advertisement",
  [10] = "router-solicitation", [11] = "time-exceeded", [12] = "parameter-problem",
  [13] = "timestamp-request", [14] = "timestamp-reply", [15] = "info-request",
  [16] = "info-reply", [17] = "address-mask-request", [18] = "address-mask-reply",
};
#define N_ICMP (sizeof icmp_names / sizeof icmp_names[0])

int nftrule_icmp_by_name(const char *s, size_t n) {
  for (unsigned i = 0; i < N_ICMP; i++)
    if (icmp_names[i] && strlen(icmp_names[i]) == n && memcmp(icmp_names[i], s, n) == 0)
      return (int)i;
  return -1;
}

const char *nftrule_icmp_name(unsigned type) { return type < N_ICMP ? icmp_names[type] : NULL; }

int nftrule_ctstate_by_name(const char *s, size_t n) {
  static const struct { const char *name; int bit; } st[] = {
    {"invalid", 1}, {"established", 2}, {"related", 4}, {"new", 8}, {"untracked", 64},
    {NULL, 0}};
  for (int i = 0; st[i].name; i++)
    if (strlen(st[i].name) == n && memcmp(st[i].name, s, n) == 0) return st[i].bit;
  return -1;
}

void nftrule_value_print(const struct field *f, const uint8_t *v, char *buf, size_t size) {
  uint32_t u32;
  uint16_t u16;
  switch (f->kind) {
  case FK_IP4: inet_ntop(AF_INET, v, buf, (socklen_t)size); break;
  case FK_IP6: inet_ntop(AF_INET6, v, buf, (socklen_t)size); break;
  case FK_PORT: memcpy(&u16, v, 2); snprintf(buf, size, "%u", ntohs(u16)); break;
  case FK_PROTO: nftrule_proto_print(v[0], buf, size); break;
  case FK_NFPROTO:
    if (v[0] == 2 || v[0] == 10) snprintf(buf, size, "%s", v[0] == 2 ? "ipv4" : "ipv6");
    else snprintf(buf, size, "%u", v[0]);
    break;
  case FK_ICMPTYPE:
    if (nftrule_icmp_name(v[0])) snprintf(buf, size, "%s", nftrule_icmp_name(v[0]));
    else snprintf(buf, size, "%u", v[0]);
    break;
  case FK_MARK: memcpy(&u32, v, 4); snprintf(buf, size, "0x%08x", u32); break;
  case FK_IFINDEX: memcpy(&u32, v, 4); snprintf(buf, size, "%u", u32); break;
  default: snprintf(buf, size, "?"); break;
  }
}

void sb_add(struct sbuf *b, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  size_t room = b->len < b->size ? b->size - b->len : 0;
  int n = vsnprintf(room ? b->p + b->len : NULL, room, fmt, ap);
  va_end(ap);
  if (n < 0) return;
  if ((size_t)n >= room && b->heap && !b->overflow) {
    size_t size = b->size ? b->size : 256;
    while (size - b->len <= (size_t)n) size *= 2;
    char *p = realloc(b->p, size);
    if (p != NULL) {
      b->p = p;
      b->size = size;
      va_start(ap, fmt);
      vsnprintf(b->p + b->len, size - b->len, fmt, ap);
      va_end(ap);
      b->len += (size_t)n;
      return;
    }
  }
  if ((size_t)n >= room) b->overflow = 1;
  if ((size_t)n < room || !b->heap) b->len += (size_t)n; /* a heap buffer keeps what fits */
}
