/* Keys of meta, ct, rt and socket expressions: name, kernel key, type, size, byte order,
 * and how they may be written. Parser and decoder both read these tables. */
#include "nftrule/nr_int.h"

#include <string.h>
#include <linux/netfilter/nf_tables.h>

#define H BO_HOST
#define B BO_BE

const struct nr_key nr_meta_keys[] = {
  {"length", NFT_META_LEN, T_INTEGER, H, 32, 0},
  {"protocol", NFT_META_PROTOCOL, T_ETHERTYPE, B, 16, 0},
  {"nfproto", NFT_META_NFPROTO, T_NFPROTO, H, 8, 0},
  {"l4proto", NFT_META_L4PROTO, T_INET_PROTO, H, 8, 0},
  {"priority", NFT_META_PRIORITY, T_CLASSID, H, 32, K_SET},
  {"mark", NFT_META_MARK, T_MARK, H, 32, K_BARE | K_SET},
  {"iif", NFT_META_IIF, T_IFINDEX, H, 32, K_UNQUAL},
  {"iifname", NFT_META_IIFNAME, T_IFNAME, H, 128, K_UNQUAL},
  {"iiftype", NFT_META_IIFTYPE, T_ARPHRD, H, 16, K_BARE},
  {"oif", NFT_META_OIF, T_IFINDEX, H, 32, K_UNQUAL},
  {"oifname", NFT_META_OIFNAME, T_IFNAME, H, 128, K_UNQUAL},
  {"oiftype", NFT_META_OIFTYPE, T_ARPHRD, H, 16, K_BARE},
  {"skuid", NFT_META_SKUID, T_UID, H, 32, K_BARE},
  {"skgid", NFT_META_SKGID, T_GID, H, 32, K_BARE},
  {"nftrace", NFT_META_NFTRACE, T_INTEGER, H, 1, K_BARE | K_SET},
  {"rtclassid", NFT_META_RTCLASSID, T_REALM, H, 32, K_BARE},
  {"ibrname", NFT_META_BRI_IIFNAME, T_IFNAME, H, 128, K_BARE},
  {"obrname", NFT_META_BRI_OIFNAME, T_IFNAME, H, 128, K_BARE},
  {"pkttype", NFT_META_PKTTYPE, T_PKTTYPE, H, 8, K_BARE | K_SET},
  {"cpu", NFT_META_CPU, T_INTEGER, H, 32, K_BARE},
  {"iifgroup", NFT_META_IIFGROUP, T_DEVGROUP, H, 32, K_UNQUAL},
  {"oifgroup", NFT_META_OIFGROUP, T_DEVGROUP, H, 32, K_UNQUAL},
  {"cgroup", NFT_META_CGROUP, T_INTEGER, H, 32, K_BARE},
  {"random", NFT_META_PRANDOM, T_INTEGER, B, 32, K_BARE},
  {"ipsec", NFT_META_SECPATH, T_BOOLEAN, H, 8, K_BARE},
  {"iifkind", NFT_META_IIFKIND, T_IFNAME, H, 128, K_BARE},
  {"oifkind", NFT_META_OIFKIND, T_IFNAME, H, 128, K_BARE},
  {"ibrpvid", NFT_META_BRI_IIFPVID, T_INTEGER, H, 16, 0},
  {"ibrvproto", NFT_META_BRI_IIFVPROTO, T_ETHERTYPE, B, 16, 0},
  {"time", NFT_META_TIME_NS, T_TIME_DATE, H, 64, K_BARE},
  {"day", NFT_META_TIME_DAY, T_TIME_DAY, H, 8, K_BARE},
  {"hour", NFT_META_TIME_HOUR, T_TIME_HOUR, H, 32, K_BARE},
  {"secmark", NFT_META_SECMARK, T_INTEGER, H, 32, K_SET},
  {"sdif", NFT_META_SDIF, T_IFINDEX, H, 32, 0},
  {"sdifname", NFT_META_SDIFNAME, T_IFNAME, H, 128, 0},
  {NULL, 0, 0, 0, 0, 0}};

const struct nr_key nr_ct_keys[] = {
  {"state", NFT_CT_STATE, T_CT_STATE, H, 32, K_NODIR},
  {"direction", NFT_CT_DIRECTION, T_CT_DIR, H, 8, K_NODIR},
  {"status", NFT_CT_STATUS, T_CT_STATUS, H, 32, K_NODIR},
  {"mark", NFT_CT_MARK, T_MARK, H, 32, K_NODIR | K_SET},
  {"expiration", NFT_CT_EXPIRATION, T_TIME, H, 32, K_NODIR},
  {"helper", NFT_CT_HELPER, T_STRING, H, 128, K_NODIR},
  {"l3proto", NFT_CT_L3PROTOCOL, T_NFPROTO, H, 8, K_DIR},
  {"saddr", NFT_CT_SRC, T_INVALID, B, 0, K_NEEDDIR | K_FAMADDR},
  {"daddr", NFT_CT_DST, T_INVALID, B, 0, K_NEEDDIR | K_FAMADDR},
  {"protocol", NFT_CT_PROTOCOL, T_INET_PROTO, B, 8, K_DIR},
  {"proto-src", NFT_CT_PROTO_SRC, T_INET_SERVICE, B, 16, K_NEEDDIR},
  {"proto-dst", NFT_CT_PROTO_DST, T_INET_SERVICE, B, 16, K_NEEDDIR},
  {"label", NFT_CT_LABELS, T_CT_LABEL, H, 128, K_NODIR | K_SET},
  {"bytes", NFT_CT_BYTES, T_INTEGER, H, 64, K_DIR},
  {"packets", NFT_CT_PKTS, T_INTEGER, H, 64, K_DIR},
  {"avgpkt", NFT_CT_AVGPKT, T_INTEGER, H, 64, K_DIR},
  {"zone", NFT_CT_ZONE, T_INTEGER, H, 16, K_DIR | K_SET},
  {"event", NFT_CT_EVENTMASK, T_CT_EVENT, H, 32, K_NODIR | K_SET},
  {"ip saddr", NFT_CT_SRC_IP, T_IPADDR, B, 32, K_NEEDDIR},
  {"ip daddr", NFT_CT_DST_IP, T_IPADDR, B, 32, K_NEEDDIR},
  {"ip6 saddr", NFT_CT_SRC_IP6, T_IP6ADDR, B, 128, K_NEEDDIR},
  {"ip6 daddr", NFT_CT_DST_IP6, T_IP6ADDR, B, 128, K_NEEDDIR},
  {"secmark", NFT_CT_SECMARK, T_INTEGER, H, 32, K_NODIR | K_SET},
  {"id", NFT_CT_ID, T_INTEGER, B, 32, K_NODIR},
  {NULL, 0, 0, 0, 0, 0}};

const struct nr_key nr_rt_keys[] = {
  {"classid", NFT_RT_CLASSID, T_REALM, H, 32, 0},
  {"nexthop", NFT_RT_NEXTHOP4, T_IPADDR, B, 32, 0},
  {"nexthop", NFT_RT_NEXTHOP6, T_IP6ADDR, B, 128, 0},
  {"mtu", NFT_RT_TCPMSS, T_INTEGER, H, 16, 0},
  {"ipsec", NFT_RT_XFRM, T_BOOLEAN, H, 8, 0},
  {NULL, 0, 0, 0, 0, 0}};

const struct nr_key nr_socket_keys[] = {
  {"transparent", NFT_SOCKET_TRANSPARENT, T_INTEGER, H, 8, 0},
  {"mark", NFT_SOCKET_MARK, T_MARK, H, 32, 0},
  {"wildcard", NFT_SOCKET_WILDCARD, T_INTEGER, H, 8, 0},
  {"cgroupv2", NFT_SOCKET_CGROUPV2, T_CGROUPV2, H, 64, 0},
  {NULL, 0, 0, 0, 0, 0}};

const struct nr_key *nr_key_byname(const struct nr_key *tab, const char *name, size_t n) {
  for (const struct nr_key *k = tab; k->name; k++)
    if (strlen(k->name) == n && memcmp(k->name, name, n) == 0) return k;
  return NULL;
}

const struct nr_key *nr_key_bynum(const struct nr_key *tab, uint32_t key) {
  for (const struct nr_key *k = tab; k->name; k++)
    if (k->key == key) return k;
  return NULL;
}
