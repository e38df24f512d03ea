/* Protocol headers: each field once (name, offset and length in bits, type), which
 * protocol carries which, and the field or meta key naming the next protocol. The compiler
 * reads these to load fields and add the implicit matches nft adds (meta l4proto tcp before
 * tcp dport); the decoder reads them to name a load and to drop those implicit matches. */
#include "nftrule/nr_int.h"

#include <string.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>

/* nft's protocol description numbers */
enum { PD_AH = 1, PD_ESP, PD_COMP, PD_ICMP, PD_IGMP, PD_UDP, PD_UDPLITE, PD_TCP, PD_DCCP,
       PD_SCTP, PD_TH, PD_IP, PD_IP6, PD_ICMPV6, PD_ARP, PD_VLAN, PD_ETHER };

/* icmp fields that exist only for some message types (nft adds the type match) */
enum { IC_ANY, IC_ECHO, IC_MTU, IC_ADDRESS, IC6_ECHO, IC6_MTU, IC6_PPTR, IC6_MGMQ };

#define F(name, type, off, bits) {name, type, BO_BE, off, bits, IC_ANY}
#define FI(name, type, off, bits, dep) {name, type, BO_BE, off, bits, dep}
#define N(a) (int)(sizeof a / sizeof a[0])

/* upper protocols of ip, ip6 and the "either" pseudo protocol, in nft's order */
static const struct nr_link ip_up[] = {
  {1, &nr_proto_icmp}, {2, &nr_proto_igmp}, {58, &nr_proto_icmp6}, {50, &nr_proto_esp},
  {51, &nr_proto_ah}, {108, &nr_proto_comp}, {17, &nr_proto_udp}, {136, &nr_proto_udplite},
  {6, &nr_proto_tcp}, {33, &nr_proto_dccp}, {132, &nr_proto_sctp}};
static const struct nr_link ip6_up[] = {
  {50, &nr_proto_esp}, {51, &nr_proto_ah}, {108, &nr_proto_comp}, {17, &nr_proto_udp},
  {136, &nr_proto_udplite}, {6, &nr_proto_tcp}, {33, &nr_proto_dccp}, {132, &nr_proto_sctp},
  {1, &nr_proto_icmp}, {2, &nr_proto_igmp}, {58, &nr_proto_icmp6}};
static const struct nr_link l4_up[] = {
  {50, &nr_proto_esp}, {51, &nr_proto_ah}, {108, &nr_proto_comp}, {17, &nr_proto_udp},
  {136, &nr_proto_udplite}, {6, &nr_proto_tcp}, {33, &nr_proto_dccp}, {132, &nr_proto_sctp},
  {1, &nr_proto_icmp}, {2, &nr_proto_igmp}, {58, &nr_proto_icmp6}};
static const struct nr_link eth_up[] = {
  {0x0800, &nr_proto_ip}, {0x0806, &nr_proto_arp}, {0x86dd, &nr_proto_ip6},
  {0x8100, &nr_proto_vlan}, {0x88a8, &nr_proto_vlan}};
static const struct nr_link inet_up[] = {{NFPROTO_IPV4, &nr_proto_ip},
                                         {NFPROTO_IPV6, &nr_proto_ip6}};

static const struct nr_field eth_f[] = {
  F("daddr", T_ETHERADDR, 0, 48), F("saddr", T_ETHERADDR, 48, 48),
  F("type", T_ETHERTYPE, 96, 16)};
const struct nr_proto nr_proto_eth = {"ether", PD_ETHER, PB_LL, 2, 0, 0, 0, 112, -1, 0,
                                      eth_f, N(eth_f), eth_up, N(eth_up), 0};

static const struct nr_field vlan_f[] = {
  F("pcp", T_INTEGER, 0, 3), F("dei", T_INTEGER, 3, 1), F("cfi", T_INTEGER, 3, 1),
  F("id", T_INTEGER, 4, 12), F("type", T_ETHERTYPE, 16, 16)};
const struct nr_proto nr_proto_vlan = {"vlan", PD_VLAN, PB_LL, 4, 0, 0, 0, 32, -1, 0,
                                       vlan_f, N(vlan_f), eth_up, N(eth_up), 0};

static const struct nr_field arp_f[] = {
  F("htype", T_INTEGER, 0, 16), F("ptype", T_ETHERTYPE, 16, 16), F("hlen", T_INTEGER, 32, 8),
  F("plen", T_INTEGER, 40, 8), F("operation", T_ARPOP, 48, 16),
  F("saddr ether", T_ETHERADDR, 64, 48), F("saddr ip", T_IPADDR, 112, 32),
  F("daddr ether", T_ETHERADDR, 144, 48), F("daddr ip", T_IPADDR, 192, 32)};
const struct nr_proto nr_proto_arp = {"arp", PD_ARP, PB_NH, -1, 0, 0, 0, 0, -1, 0, arp_f,
                                      N(arp_f), NULL, 0, 0};

enum { IPF_DSCP = 2, IPF_LENGTH = 4, IPF_PROTOCOL = 8, IPF_CHECKSUM = 9, IPF_SADDR = 10,
       IPF_DADDR = 11 };
static const struct nr_field ip_f[] = {
  F("version", T_INTEGER, 0, 4), F("hdrlength", T_INTEGER, 4, 4), F("dscp", T_DSCP, 8, 6),
  F("ecn", T_ECN, 14, 2), F("length", T_INTEGER, 16, 16), F("id", T_INTEGER, 32, 16),
  F("frag-off", T_INTEGER, 48, 16), F("ttl", T_INTEGER, 64, 8),
  F("protocol", T_INET_PROTO, 72, 8), F("checksum", T_INTEGER, 80, 16),
  F("saddr", T_IPADDR, 96, 32), F("daddr", T_IPADDR, 128, 32)};
const struct nr_proto nr_proto_ip = {
  "ip", PD_IP, PB_NH, -1, NFT_META_L4PROTO, T_INET_PROTO, 8, 0, IPF_CHECKSUM,
  NFT_PAYLOAD_CSUM_INET, ip_f, N(ip_f), ip_up, N(ip_up),
  1u << IPF_SADDR | 1u << IPF_DADDR | 1u << IPF_PROTOCOL | 1u << IPF_LENGTH};

enum { IP6F_LENGTH = 4, IP6F_NEXTHDR = 5, IP6F_SADDR = 7, IP6F_DADDR = 8 };
static const struct nr_field ip6_f[] = {
  F("version", T_INTEGER, 0, 4), F("dscp", T_DSCP, 4, 6), F("ecn", T_ECN, 10, 2),
  F("flowlabel", T_INTEGER, 12, 20), F("length", T_INTEGER, 32, 16),
  F("nexthdr", T_INET_PROTO, 48, 8), F("hoplimit", T_INTEGER, 56, 8),
  F("saddr", T_IP6ADDR, 64, 128), F("daddr", T_IP6ADDR, 192, 128)};
const struct nr_proto nr_proto_ip6 = {
  "ip6", PD_IP6, PB_NH, -1, NFT_META_L4PROTO, T_INET_PROTO, 8, 0, -1, 0, ip6_f, N(ip6_f),
  ip6_up, N(ip6_up),
  1u << IP6F_SADDR | 1u << IP6F_DADDR | 1u << IP6F_NEXTHDR | 1u << IP6F_LENGTH};

static const struct nr_field icmp_f[] = {
  F("type", T_ICMP_TYPE, 0, 8), F("code", T_ICMP_CODE, 8, 8),
  F("checksum", T_INTEGER, 16, 16), FI("id", T_INTEGER, 32, 16, IC_ECHO),
  FI("sequence", T_INTEGER, 48, 16, IC_ECHO), FI("gateway", T_INTEGER, 32, 32, IC_ADDRESS),
  FI("mtu", T_INTEGER, 48, 16, IC_MTU)};
const struct nr_proto nr_proto_icmp = {"icmp", PD_ICMP, PB_TH, 0, 0, 0, 0, 0, 2,
                                       NFT_PAYLOAD_CSUM_INET, icmp_f, N(icmp_f), NULL, 0, 0};

static const struct nr_field icmp6_f[] = {
  F("type", T_ICMP6_TYPE, 0, 8), F("code", T_ICMPV6_CODE, 8, 8),
  F("checksum", T_INTEGER, 16, 16), FI("mtu", T_INTEGER, 32, 32, IC6_MTU), FI("id", T_INTEGER, 32, 16, IC6_ECHO),
  FI("sequence", T_INTEGER, 48, 16, IC6_ECHO), FI("max-delay", T_INTEGER, 32, 16, IC6_MGMQ)};
const struct nr_proto nr_proto_icmp6 = {"icmpv6", PD_ICMPV6, PB_TH, 0, 0, 0, 0, 0, 2,
                                        NFT_PAYLOAD_CSUM_INET, icmp6_f, N(icmp6_f), NULL, 0,
                                        0};

static const struct nr_field igmp_f[] = {
  F("type", T_IGMP_TYPE, 0, 8), F("mrt", T_INTEGER, 8, 8), F("checksum", T_INTEGER, 16, 16),
  F("group", T_INTEGER, 32, 32)};
const struct nr_proto nr_proto_igmp = {"igmp", PD_IGMP, PB_TH, 0, 0, 0, 0, 0, 2,
                                       NFT_PAYLOAD_CSUM_INET, igmp_f, N(igmp_f), NULL, 0, 0};

static const struct nr_field udp_f[] = {
  F("sport", T_INET_SERVICE, 0, 16), F("dport", T_INET_SERVICE, 16, 16),
  F("length", T_INTEGER, 32, 16), F("checksum", T_INTEGER, 48, 16)};
const struct nr_proto nr_proto_udp = {"udp", PD_UDP, PB_TH, -1, 0, 0, 0, 0, 3,
                                      NFT_PAYLOAD_CSUM_INET, udp_f, N(udp_f), NULL, 0, 0};

static const struct nr_field udplite_f[] = {
  F("sport", T_INET_SERVICE, 0, 16), F("dport", T_INET_SERVICE, 16, 16),
  F("csumcov", T_INTEGER, 32, 16), F("checksum", T_INTEGER, 48, 16)};
const struct nr_proto nr_proto_udplite = {"udplite", PD_UDPLITE, PB_TH, -1, 0, 0, 0, 0, -1, 0,
                                          udplite_f, N(udplite_f), NULL, 0, 0};

static const struct nr_field tcp_f[] = {
  F("sport", T_INET_SERVICE, 0, 16), F("dport", T_INET_SERVICE, 16, 16),
  F("sequence", T_INTEGER, 32, 32), F("ackseq", T_INTEGER, 64, 32),
  F("doff", T_INTEGER, 96, 4), F("reserved", T_INTEGER, 100, 4),
  F("flags", T_TCP_FLAG, 104, 8), F("window", T_INTEGER, 112, 16),
  F("checksum", T_INTEGER, 128, 16), F("urgptr", T_INTEGER, 144, 16)};
const struct nr_proto nr_proto_tcp = {"tcp", PD_TCP, PB_TH, -1, 0, 0, 0, 0, 8,
                                      NFT_PAYLOAD_CSUM_INET, tcp_f, N(tcp_f), NULL, 0, 0};

static const struct nr_field dccp_f[] = {
  F("sport", T_INET_SERVICE, 0, 16), F("dport", T_INET_SERVICE, 16, 16),
  F("type", T_DCCP_PKTTYPE, 67, 4)};
const struct nr_proto nr_proto_dccp = {"dccp", PD_DCCP, PB_TH, -1, 0, 0, 0, 0, -1, 0, dccp_f,
                                       N(dccp_f), NULL, 0, 0};

static const struct nr_field sctp_f[] = {
  F("sport", T_INET_SERVICE, 0, 16), F("dport", T_INET_SERVICE, 16, 16),
  F("vtag", T_INTEGER, 32, 32), F("checksum", T_INTEGER, 64, 32)};
const struct nr_proto nr_proto_sctp = {"sctp", PD_SCTP, PB_TH, -1, 0, 0, 0, 0, 3,
                                       NFT_PAYLOAD_CSUM_SCTP, sctp_f, N(sctp_f), NULL, 0, 0};

static const struct nr_field ah_f[] = {
  F("nexthdr", T_INET_PROTO, 0, 8), F("hdrlength", T_INTEGER, 8, 8),
  F("reserved", T_INTEGER, 16, 16), F("spi", T_INTEGER, 32, 32),
  F("sequence", T_INTEGER, 64, 32)};
const struct nr_proto nr_proto_ah = {"ah", PD_AH, PB_TH, -1, 0, 0, 0, 0, -1, 0, ah_f,
                                     N(ah_f), NULL, 0, 0};

static const struct nr_field esp_f[] = {F("spi", T_INTEGER, 0, 32),
                                        F("sequence", T_INTEGER, 32, 32)};
const struct nr_proto nr_proto_esp = {"esp", PD_ESP, PB_TH, -1, 0, 0, 0, 0, -1, 0, esp_f,
                                      N(esp_f), NULL, 0, 0};

static const struct nr_field comp_f[] = {F("nexthdr", T_INET_PROTO, 0, 8),
                                         F("flags", T_BITMASK, 8, 8),
                                         F("cpi", T_INTEGER, 16, 16)};
const struct nr_proto nr_proto_comp = {"comp", PD_COMP, PB_TH, -1, 0, 0, 0, 0, -1, 0, comp_f,
                                       N(comp_f), NULL, 0, 0};

static const struct nr_field th_f[] = {F("sport", T_INET_SERVICE, 0, 16),
                                       F("dport", T_INET_SERVICE, 16, 16)};
const struct nr_proto nr_proto_th = {"th", PD_TH, PB_TH, -1, 0, 0, 0, 0, -1, 0, th_f, N(th_f),
                                     NULL, 0, 0};

/* pseudo protocols: what the family knows before any match (nft's proto_inet, proto_netdev,
 * proto_inet_service): the next protocol is named by a meta key */
const struct nr_proto nr_proto_inet = {"inet", 0, PB_LL, -1, NFT_META_NFPROTO, T_NFPROTO, 8,
                                       0, -1, 0, NULL, 0, inet_up, N(inet_up), 0};
const struct nr_proto nr_proto_netdev = {"netdev", 0, PB_LL, -1, NFT_META_PROTOCOL,
                                         T_ETHERTYPE, 16, 0, -1, 0, NULL, 0, eth_up,
                                         N(eth_up), 0};
const struct nr_proto nr_proto_inet_service = {"inet-service", 0, PB_TH, -1, NFT_META_L4PROTO,
                                               T_INET_PROTO, 8, 0, -1, 0, NULL, 0, l4_up,
                                               N(l4_up), 0};

const struct nr_proto nr_proto_unknown = {"unknown", 0, 0, -1, 0, 0, 0, 0, -1, 0, NULL, 0,
                                          NULL, 0, 0};

int nr_field_is_protocol(const struct nr_proto *p, const struct nr_field *f) {
  if (p->key >= 0 && f == &p->f[p->key]) return 1;
  return (p == &nr_proto_ip && f == &ip_f[IPF_PROTOCOL]) ||
         (p == &nr_proto_ip6 && f == &ip6_f[IP6F_NEXTHDR]);
}

static const struct nr_proto *const named[] = {
  &nr_proto_eth, &nr_proto_vlan, &nr_proto_arp, &nr_proto_ip, &nr_proto_ip6, &nr_proto_icmp,
  &nr_proto_icmp6, &nr_proto_igmp, &nr_proto_tcp, &nr_proto_udp, &nr_proto_udplite,
  &nr_proto_sctp, &nr_proto_dccp, &nr_proto_ah, &nr_proto_esp, &nr_proto_comp, &nr_proto_th,
  NULL};

const struct nr_proto *nr_proto_byname(const char *name, size_t n) {
  for (int i = 0; named[i]; i++)
    if (strlen(named[i]->name) == n && memcmp(named[i]->name, name, n) == 0) return named[i];
  return NULL;
}

const struct nr_proto *nr_proto_up(const struct nr_proto *p, uint32_t num) {
  for (int i = 0; p && i < p->nup; i++)
    if (p->up[i].num == num) return p->up[i].p;
  return NULL;
}

int64_t nr_proto_num(const struct nr_proto *p, const struct nr_proto *q) {
  for (int i = 0; p && i < p->nup; i++)
    if (p->up[i].p == q) return p->up[i].num;
  return -1;
}

const struct nr_field *nr_field_byname(const struct nr_proto *p, const char *name, size_t n) {
  for (int i = 0; i < p->nf; i++)
    if (nr_word_is(name, n, p->f[i].name)) return &p->f[i];
  return NULL;
}

const struct nr_proto *nr_family_proto(int family, int *base) {
  switch (family) {
  case NFPROTO_IPV4: *base = PB_NH; return &nr_proto_ip;
  case NFPROTO_IPV6: *base = PB_NH; return &nr_proto_ip6;
  case NFPROTO_INET: *base = PB_LL; return &nr_proto_inet;
  case NFPROTO_BRIDGE: *base = PB_LL; return &nr_proto_eth;
  case NFPROTO_NETDEV: *base = PB_LL; return &nr_proto_netdev;
  case NFPROTO_ARP: *base = PB_NH; return &nr_proto_arp;
  default: *base = 0; return NULL;
  }
}

/* What "lhs == num" tells about the protocols of the packet (nft's pctx updates: meta
 * iiftype/nfproto/l4proto/protocol, and a header field naming the next header). Transport
 * protocols are also kept as a list (more than one makes transport fields ambiguous). */
static void learn_th(struct nr_pctx *x, const struct nr_proto *desc) {
  int seen = 0;
  for (int i = 0; i < x->nth; i++) seen |= x->th[i] == desc;
  if (!seen && x->nth < 16) x->th[x->nth++] = desc;
  x->p[PB_TH] = desc;
}

void nr_pctx_learn(struct nr_pctx *x, int family, const struct nr_expr *l, uint64_t num) {
  int hb;
  const struct nr_proto *hook = nr_family_proto(family, &hb), *desc;
  if (l->kind == X_META) {
    switch (l->u.key.k->key) {
    case NFT_META_IIFTYPE:
      if (hb < PB_NH && family != NFPROTO_INET && family != NFPROTO_NETDEV) return;
      x->p[PB_LL] = num == 1 ? &nr_proto_eth : &nr_proto_unknown;
      return;
    case NFT_META_NFPROTO:
      desc = nr_proto_up(hook, (uint32_t)num);
      if (desc == NULL) desc = (int)num == family && hb == PB_NH ? hook : &nr_proto_unknown;
      x->p[PB_NH] = desc;
      return;
    case NFT_META_L4PROTO:
      desc = nr_proto_up(&nr_proto_inet_service, (uint32_t)num);
      learn_th(x, desc ? desc : &nr_proto_unknown);
      return;
    case NFT_META_PROTOCOL:
      if (hb != PB_LL || (family != NFPROTO_NETDEV && family != NFPROTO_BRIDGE)) return;
      desc = nr_proto_up(hook, (uint32_t)num);
      x->p[PB_NH] = desc ? desc : &nr_proto_unknown;
      return;
    }
    return;
  }
  if (l->kind != X_PAYLOAD) return;
  const struct nr_proto *base = x->p[l->u.pl.base];
  desc = nr_proto_up(base, (uint32_t)num);
  if (desc == NULL) {
    if (base == &nr_proto_icmp) x->icmp_type = num ? (int)num : 8;
    else if (base == &nr_proto_icmp6) x->icmp_type = num == 129 ? 128 : (int)num;
    return;
  }
  if (desc->base == base->base && desc->base == PB_LL && x->nstacked < 4)
    x->stacked[x->nstacked++] = base;
  if (desc->base == PB_TH) learn_th(x, desc);
  else x->p[desc->base] = desc;
}

struct nr_expr *nr_payload_new(struct nr_cc *c, const struct nr_proto *p,
                               const struct nr_field *f, int tok) {
  struct nr_expr *e = nr_expr_new(c, X_PAYLOAD, tok);
  if (e == NULL) return NULL;
  e->u.pl.p = p;
  e->u.pl.f = f;
  e->u.pl.base = p->base;
  e->u.pl.off = f->off;
  e->bits = f->bits;
  e->type = f->type;
  e->order = f->order;
  return e;
}

void nr_payload_csum(const struct nr_expr *k, uint32_t *type, uint32_t *off, uint32_t *flags) {
  const struct nr_proto *p = k->u.pl.is_raw ? NULL : k->u.pl.p;
  *type = *off = *flags = 0;
  if (p == NULL || p->f == NULL) return;
  if (p->csum >= 0 && p->f[p->csum].off > 0) {
    *type = p->csum_type;
    *off = p->f[p->csum].off / 8u;
  }
  if (p->base == PB_NH && k->u.pl.f && (p->pseudo >> (k->u.pl.f - p->f) & 1))
    *flags = NFT_PAYLOAD_L4CSUM_PSEUDOHDR;
}

int nr_proto_write_misread(const struct nr_proto *p) {
  return p == &nr_proto_icmp || p == &nr_proto_icmp6 || p == &nr_proto_igmp;
}
