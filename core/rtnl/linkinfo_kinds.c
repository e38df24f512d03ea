/* The fields of each link kind cnet knows, one line per field: its name as `ip -d -j link`
 * lists it (iproute2 6.1), its attribute and its encoding. Decoding (linkinfo.c) and
 * encoding (link.c's requests) both read these tables, so a new field is one line here.
 * See include/cnet/linkinfo.h. */
#include <string.h>
#include <linux/if_bridge.h>
#include <linux/if_link.h>
#include <linux/if_tun.h>

#include "cnet/linkinfo.h"
#include "rtnl/linkinfo_int.h"

#define UINT(n, a, sz, fl) {.name = n, .attr = a, .type = CNET_LF_UINT, .size = sz, .flags = fl}
#define UMAX(n, a, sz, mx) {.name = n, .attr = a, .type = CNET_LF_UINT, .size = sz, .max = mx}
#define BE(n, a, sz, fl, mx) \
  {.name = n, .attr = a, .type = CNET_LF_BE, .size = sz, .flags = fl, .max = mx}
#define BOOL(n, a, fl) {.name = n, .attr = a, .type = CNET_LF_BOOL, .size = 1, .flags = fl}
#define FLAG(n, a) {.name = n, .attr = a, .type = CNET_LF_FLAG}
#define BIT(n, a, sz, b) {.name = n, .attr = a, .type = CNET_LF_BIT, .size = sz, .bit = b}
#define BOOLOPT(n, b) \
  {.name = n, .attr = IFLA_BR_MULTI_BOOLOPT, .type = CNET_LF_BOOLOPT, .bit = 1u << (b)}
#define ENUM(n, a, sz, be_, nm, fl) \
  {.name = n, .attr = a, .type = CNET_LF_ENUM, .size = sz, .be = be_, .names = nm, .flags = fl}
#define ADDR(n, n6, a, a6, fl) \
  {.name = n, .name6 = n6, .attr = a, .attr6 = a6, .type = CNET_LF_ADDR, .flags = fl}
#define TYPED(n, a, t, fl) {.name = n, .attr = a, .type = t, .flags = fl}

enum { RO = CNET_LF_RO, ALIAS = CNET_LF_ALIAS, OMIT = CNET_LF_OMITZERO };

/* ---- vxlan (drivers/net/vxlan) ---- */

static const struct cnet_lf_name vxlan_df[] = {
    {VXLAN_DF_UNSET, "unset"}, {VXLAN_DF_SET, "set"}, {VXLAN_DF_INHERIT, "inherit"}, {0, NULL}};

static const struct cnet_link_field vxlan[] = {
    UMAX("id", IFLA_VXLAN_ID, 4, 0xffffff),
    /* one attribute, listed as ip does: "group" when multicast, "remote" when not */
    ADDR("group", "group6", IFLA_VXLAN_GROUP, IFLA_VXLAN_GROUP6, CNET_LF_MCAST | OMIT),
    ADDR("remote", "remote6", IFLA_VXLAN_GROUP, IFLA_VXLAN_GROUP6, CNET_LF_UCAST | OMIT),
    ADDR("local", "local6", IFLA_VXLAN_LOCAL, IFLA_VXLAN_LOCAL6, OMIT),
    TYPED("link", IFLA_VXLAN_LINK, CNET_LF_IFINDEX, OMIT),
    TYPED("dev", IFLA_VXLAN_LINK, CNET_LF_IFINDEX, ALIAS),
    TYPED("port_range", IFLA_VXLAN_PORT_RANGE, CNET_LF_RANGE, 0),
    BE("port", IFLA_VXLAN_PORT, 2, 0, 0),
    BE("dstport", IFLA_VXLAN_PORT, 2, ALIAS, 0),
    BOOL("learning", IFLA_VXLAN_LEARNING, 0),
    BOOL("proxy", IFLA_VXLAN_PROXY, 0),
    BOOL("rsc", IFLA_VXLAN_RSC, 0),
    BOOL("l2miss", IFLA_VXLAN_L2MISS, 0),
    BOOL("l3miss", IFLA_VXLAN_L3MISS, 0),
    UINT("tos", IFLA_VXLAN_TOS, 1, 0),
    UINT("ttl", IFLA_VXLAN_TTL, 1, 0),
    ENUM("df", IFLA_VXLAN_DF, 1, 0, vxlan_df, 0),
    BE("label", IFLA_VXLAN_LABEL, 4, 0, 0xfffff),
    UINT("ageing", IFLA_VXLAN_AGEING, 4, 0),
    UINT("limit", IFLA_VXLAN_LIMIT, 4, 0),
    BOOL("udp_csum", IFLA_VXLAN_UDP_CSUM, 0),
    BOOL("udp_zero_csum6_tx", IFLA_VXLAN_UDP_ZERO_CSUM6_TX, 0),
    BOOL("udp_zero_csum6_rx", IFLA_VXLAN_UDP_ZERO_CSUM6_RX, 0),
    BOOL("remcsum_tx", IFLA_VXLAN_REMCSUM_TX, 0),
    BOOL("remcsum_rx", IFLA_VXLAN_REMCSUM_RX, 0),
    FLAG("gbp", IFLA_VXLAN_GBP),
    FLAG("gpe", IFLA_VXLAN_GPE),
    FLAG("remcsum_nopartial", IFLA_VXLAN_REMCSUM_NOPARTIAL),
    BOOL("external", IFLA_VXLAN_COLLECT_METADATA, 0),
    BOOL("vnifilter", IFLA_VXLAN_VNIFILTER, 0),
};

/* ---- macvlan, macvtap (drivers/net/macvlan.c) ---- */

static const struct cnet_lf_name macvlan_mode[] = {
    {MACVLAN_MODE_PRIVATE, "private"},   {MACVLAN_MODE_VEPA, "vepa"},
    {MACVLAN_MODE_BRIDGE, "bridge"},     {MACVLAN_MODE_PASSTHRU, "passthru"},
    {MACVLAN_MODE_SOURCE, "source"},     {0, NULL}};

static const struct cnet_link_field macvlan[] = {
    ENUM("mode", IFLA_MACVLAN_MODE, 4, 0, macvlan_mode, 0),
    BIT("nopromisc", IFLA_MACVLAN_FLAGS, 2, MACVLAN_FLAG_NOPROMISC),
    BIT("nodst", IFLA_MACVLAN_FLAGS, 2, MACVLAN_FLAG_NODST),
    UINT("bcqueuelen", IFLA_MACVLAN_BC_QUEUE_LEN, 4, 0),
    UINT("usedbcqueuelen", IFLA_MACVLAN_BC_QUEUE_LEN_USED, 4, RO),
    UINT("macaddr_count", IFLA_MACVLAN_MACADDR_COUNT, 4, RO),
    TYPED("macaddr_data", IFLA_MACVLAN_MACADDR_DATA, CNET_LF_MACLIST, 0),
};

/* ---- bridge (net/bridge/br_netlink.c). Times are in hundredths of a second (the kernel's
 * clock_t), as ip shows and takes them. The STP timers, which change by the second, are not
 * listed. ---- */

static const struct cnet_lf_name vlan_protocols[] = {
    {0x8100, "802.1Q"}, {0x88a8, "802.1ad"}, {0, NULL}};

static const struct cnet_link_field bridge[] = {
    UINT("forward_delay", IFLA_BR_FORWARD_DELAY, 4, 0),
    UINT("hello_time", IFLA_BR_HELLO_TIME, 4, 0),
    UINT("max_age", IFLA_BR_MAX_AGE, 4, 0),
    UINT("ageing_time", IFLA_BR_AGEING_TIME, 4, 0),
    UINT("stp_state", IFLA_BR_STP_STATE, 4, 0),
    UINT("priority", IFLA_BR_PRIORITY, 2, 0),
    UINT("vlan_filtering", IFLA_BR_VLAN_FILTERING, 1, 0),
    ENUM("vlan_protocol", IFLA_BR_VLAN_PROTOCOL, 2, 1, vlan_protocols, 0),
    TYPED("bridge_id", IFLA_BR_BRIDGE_ID, CNET_LF_BRID, RO),
    TYPED("root_id", IFLA_BR_ROOT_ID, CNET_LF_BRID, RO),
    UINT("root_port", IFLA_BR_ROOT_PORT, 2, RO),
    UINT("root_path_cost", IFLA_BR_ROOT_PATH_COST, 4, RO),
    UINT("topology_change", IFLA_BR_TOPOLOGY_CHANGE, 1, RO),
    UINT("topology_change_detected", IFLA_BR_TOPOLOGY_CHANGE_DETECTED, 1, RO),
    UINT("vlan_default_pvid", IFLA_BR_VLAN_DEFAULT_PVID, 2, 0),
    UINT("default_pvid", IFLA_BR_VLAN_DEFAULT_PVID, 2, ALIAS),
    UINT("vlan_stats_enabled", IFLA_BR_VLAN_STATS_ENABLED, 1, 0),
    UINT("vlan_stats_per_port", IFLA_BR_VLAN_STATS_PER_PORT, 1, 0),
    UINT("group_fwd_mask", IFLA_BR_GROUP_FWD_MASK, 2, 0),
    TYPED("group_addr", IFLA_BR_GROUP_ADDR, CNET_LF_MAC, 0),
    UINT("mcast_snooping", IFLA_BR_MCAST_SNOOPING, 1, 0),
    BOOLOPT("no_linklocal_learn", BR_BOOLOPT_NO_LL_LEARN),
    BOOLOPT("mcast_vlan_snooping", BR_BOOLOPT_MCAST_VLAN_SNOOPING),
    BOOLOPT("mst_enabled", BR_BOOLOPT_MST_ENABLE),
    UINT("mcast_router", IFLA_BR_MCAST_ROUTER, 1, 0),
    UINT("mcast_query_use_ifaddr", IFLA_BR_MCAST_QUERY_USE_IFADDR, 1, 0),
    UINT("mcast_querier", IFLA_BR_MCAST_QUERIER, 1, 0),
    UINT("mcast_hash_elasticity", IFLA_BR_MCAST_HASH_ELASTICITY, 4, 0),
    UINT("mcast_hash_max", IFLA_BR_MCAST_HASH_MAX, 4, 0),
    UINT("mcast_last_member_cnt", IFLA_BR_MCAST_LAST_MEMBER_CNT, 4, 0),
    UINT("mcast_startup_query_cnt", IFLA_BR_MCAST_STARTUP_QUERY_CNT, 4, 0),
    UINT("mcast_last_member_intvl", IFLA_BR_MCAST_LAST_MEMBER_INTVL, 8, 0),
    UINT("mcast_membership_intvl", IFLA_BR_MCAST_MEMBERSHIP_INTVL, 8, 0),
    UINT("mcast_querier_intvl", IFLA_BR_MCAST_QUERIER_INTVL, 8, 0),
    UINT("mcast_query_intvl", IFLA_BR_MCAST_QUERY_INTVL, 8, 0),
    UINT("mcast_query_response_intvl", IFLA_BR_MCAST_QUERY_RESPONSE_INTVL, 8, 0),
    UINT("mcast_startup_query_intvl", IFLA_BR_MCAST_STARTUP_QUERY_INTVL, 8, 0),
    UINT("mcast_stats_enabled", IFLA_BR_MCAST_STATS_ENABLED, 1, 0),
    UINT("mcast_igmp_version", IFLA_BR_MCAST_IGMP_VERSION, 1, 0),
    UINT("mcast_mld_version", IFLA_BR_MCAST_MLD_VERSION, 1, 0),
    UINT("nf_call_iptables", IFLA_BR_NF_CALL_IPTABLES, 1, 0),
    UINT("nf_call_ip6tables", IFLA_BR_NF_CALL_IP6TABLES, 1, 0),
    UINT("nf_call_arptables", IFLA_BR_NF_CALL_ARPTABLES, 1, 0),
};

/* ---- a bridge's ports (IFLA_INFO_SLAVE_DATA under a bridge; net/bridge/br_netlink.c) ---- */

static const struct cnet_lf_name port_states[] = {
    {BR_STATE_DISABLED, "disabled"},     {BR_STATE_LISTENING, "listening"},
    {BR_STATE_LEARNING, "learning"},     {BR_STATE_FORWARDING, "forwarding"},
    {BR_STATE_BLOCKING, "blocking"},     {0, NULL}};

static const struct cnet_link_field bridge_port[] = {
    ENUM("state", IFLA_BRPORT_STATE, 1, 0, port_states, 0),
    UINT("priority", IFLA_BRPORT_PRIORITY, 2, 0),
    UINT("cost", IFLA_BRPORT_COST, 4, 0),
    BOOL("hairpin", IFLA_BRPORT_MODE, 0),
    BOOL("guard", IFLA_BRPORT_GUARD, 0),
    BOOL("root_block", IFLA_BRPORT_PROTECT, 0),
    BOOL("fastleave", IFLA_BRPORT_FAST_LEAVE, 0),
    BOOL("learning", IFLA_BRPORT_LEARNING, 0),
    BOOL("flood", IFLA_BRPORT_UNICAST_FLOOD, 0),
    UINT("id", IFLA_BRPORT_ID, 2, RO),
    UINT("no", IFLA_BRPORT_NO, 2, RO),
    UINT("designated_port", IFLA_BRPORT_DESIGNATED_PORT, 2, RO),
    UINT("designated_cost", IFLA_BRPORT_DESIGNATED_COST, 2, RO),
    TYPED("bridge_id", IFLA_BRPORT_BRIDGE_ID, CNET_LF_BRID, RO),
    TYPED("root_id", IFLA_BRPORT_ROOT_ID, CNET_LF_BRID, RO),
    UINT("topology_change_ack", IFLA_BRPORT_TOPOLOGY_CHANGE_ACK, 1, RO),
    UINT("config_pending", IFLA_BRPORT_CONFIG_PENDING, 1, RO),
    BOOL("proxy_arp", IFLA_BRPORT_PROXYARP, 0),
    BOOL("proxy_arp_wifi", IFLA_BRPORT_PROXYARP_WIFI, 0),
    UINT("multicast_router", IFLA_BRPORT_MULTICAST_ROUTER, 1, 0),
    BOOL("mcast_flood", IFLA_BRPORT_MCAST_FLOOD, 0),
    BOOL("bcast_flood", IFLA_BRPORT_BCAST_FLOOD, 0),
    BOOL("mcast_to_unicast", IFLA_BRPORT_MCAST_TO_UCAST, 0),
    BOOL("neigh_suppress", IFLA_BRPORT_NEIGH_SUPPRESS, 0),
    UINT("group_fwd_mask", IFLA_BRPORT_GROUP_FWD_MASK, 2, 0),
    BOOL("vlan_tunnel", IFLA_BRPORT_VLAN_TUNNEL, 0),
    BOOL("isolated", IFLA_BRPORT_ISOLATED, 0),
    BOOL("locked", IFLA_BRPORT_LOCKED, 0),
    TYPED("backup_port", IFLA_BRPORT_BACKUP_PORT, CNET_LF_IFINDEX, OMIT),
    UINT("mcast_eht_hosts_limit", IFLA_BRPORT_MCAST_EHT_HOSTS_LIMIT, 4, 0),
    UINT("mcast_eht_hosts_cnt", IFLA_BRPORT_MCAST_EHT_HOSTS_CNT, 4, RO),
};

/* ---- tun/tap (drivers/net/tun.c). The kernel reports these but takes none of them over
 * netlink: cnet makes a tun/tap device through /dev/net/tun (tuntap.c), from the same
 * fields. ---- */

static const struct cnet_lf_name tun_types[] = {{IFF_TUN, "tun"}, {IFF_TAP, "tap"}, {0, NULL}};

static const struct cnet_link_field tun[] = {
    ENUM("type", IFLA_TUN_TYPE, 1, 0, tun_types, 0),
    BOOL("pi", IFLA_TUN_PI, 0),
    BOOL("vnet_hdr", IFLA_TUN_VNET_HDR, 0),
    BOOL("multi_queue", IFLA_TUN_MULTI_QUEUE, 0),
    UINT("numqueues", IFLA_TUN_NUM_QUEUES, 4, RO),
    UINT("numdisabled", IFLA_TUN_NUM_DISABLED_QUEUES, 4, RO),
    BOOL("persist", IFLA_TUN_PERSIST, 0),
    TYPED("user", IFLA_TUN_OWNER, CNET_LF_ID, 0),
    TYPED("owner", IFLA_TUN_OWNER, CNET_LF_ID, ALIAS),
    TYPED("group", IFLA_TUN_GROUP, CNET_LF_ID, 0),
};

/* ---- kinds this machine's kernel lacks (no driver): their requests are checked byte for
 * byte against ip's (tests/spec/link_request_spec.lua), their listings against the names
 * ip 6.1 prints. ---- */

/* 802.1Q/802.1ad (net/8021q) */
static const struct cnet_link_field vlan[] = {
    UMAX("id", IFLA_VLAN_ID, 2, 4094),
    ENUM("protocol", IFLA_VLAN_PROTOCOL, 2, 1, vlan_protocols, 0),
};

/* ipvlan (drivers/net/ipvlan): the mode, and how slaves of one device reach each other
 * (ip's `bridge`, `private`, `vepa`) */
static const struct cnet_lf_name ipvlan_modes[] = {
    {IPVLAN_MODE_L2, "l2"}, {IPVLAN_MODE_L3, "l3"}, {IPVLAN_MODE_L3S, "l3s"}, {0, NULL}};
static const struct cnet_lf_name ipvlan_flags[] = {
    {0, "bridge"}, {IPVLAN_F_PRIVATE, "private"}, {IPVLAN_F_VEPA, "vepa"}, {0, NULL}};

static const struct cnet_link_field ipvlan[] = {
    ENUM("mode", IFLA_IPVLAN_MODE, 2, 0, ipvlan_modes, 0),
    ENUM("flags", IFLA_IPVLAN_FLAGS, 2, 0, ipvlan_flags, 0),
};

/* vrf (drivers/net/vrf.c) */
static const struct cnet_link_field vrf[] = {
    UINT("table", IFLA_VRF_TABLE, 4, 0),
};

/* bond (drivers/net/bonding): the common settings, named as ip prints them */
static const struct cnet_lf_name bond_modes[] = {
    {0, "balance-rr"}, {1, "active-backup"}, {2, "balance-xor"}, {3, "broadcast"},
    {4, "802.3ad"},    {5, "balance-tlb"},   {6, "balance-alb"}, {0, NULL}};
static const struct cnet_lf_name bond_hash[] = {
    {0, "layer2"},   {1, "layer3+4"}, {2, "layer2+3"}, {3, "encap2+3"},
    {4, "encap3+4"}, {5, "vlan+srcmac"}, {0, NULL}};
static const struct cnet_lf_name bond_lacp_rate[] = {{0, "slow"}, {1, "fast"}, {0, NULL}};
static const struct cnet_lf_name bond_ad_select[] = {
    {0, "stable"}, {1, "bandwidth"}, {2, "count"}, {0, NULL}};

static const struct cnet_link_field bond[] = {
    ENUM("mode", IFLA_BOND_MODE, 1, 0, bond_modes, 0),
    TYPED("active_slave", IFLA_BOND_ACTIVE_SLAVE, CNET_LF_IFINDEX, OMIT),
    UINT("miimon", IFLA_BOND_MIIMON, 4, 0),
    UINT("updelay", IFLA_BOND_UPDELAY, 4, 0),
    UINT("downdelay", IFLA_BOND_DOWNDELAY, 4, 0),
    UINT("peer_notify_delay", IFLA_BOND_PEER_NOTIF_DELAY, 4, 0),
    UINT("use_carrier", IFLA_BOND_USE_CARRIER, 1, 0),
    UINT("arp_interval", IFLA_BOND_ARP_INTERVAL, 4, 0),
    TYPED("primary", IFLA_BOND_PRIMARY, CNET_LF_IFINDEX, OMIT),
    ENUM("xmit_hash_policy", IFLA_BOND_XMIT_HASH_POLICY, 1, 0, bond_hash, 0),
    UINT("resend_igmp", IFLA_BOND_RESEND_IGMP, 4, 0),
    UINT("all_slaves_active", IFLA_BOND_ALL_SLAVES_ACTIVE, 1, 0),
    UINT("min_links", IFLA_BOND_MIN_LINKS, 4, 0),
    UINT("lp_interval", IFLA_BOND_LP_INTERVAL, 4, 0),
    UINT("packets_per_slave", IFLA_BOND_PACKETS_PER_SLAVE, 4, 0),
    ENUM("ad_lacp_rate", IFLA_BOND_AD_LACP_RATE, 1, 0, bond_lacp_rate, 0),
    ENUM("lacp_rate", IFLA_BOND_AD_LACP_RATE, 1, 0, bond_lacp_rate, ALIAS),
    ENUM("ad_select", IFLA_BOND_AD_SELECT, 1, 0, bond_ad_select, 0),
    UINT("tlb_dynamic_lb", IFLA_BOND_TLB_DYNAMIC_LB, 1, 0),
};

#define TABLE(t) t, sizeof t / sizeof t[0]

static const struct kind {
  const char *kind;
  int port;
  const struct cnet_link_field *fields;
  unsigned n;
} kinds[] = {
    {"vxlan", 0, TABLE(vxlan)},     {"macvlan", 0, TABLE(macvlan)},
    {"macvtap", 0, TABLE(macvlan)}, {"bridge", 0, TABLE(bridge)},
    {"bridge", 1, TABLE(bridge_port)}, {"tun", 0, TABLE(tun)},
    {"vlan", 0, TABLE(vlan)},       {"ipvlan", 0, TABLE(ipvlan)},
    {"vrf", 0, TABLE(vrf)},         {"bond", 0, TABLE(bond)},
};

const struct cnet_link_field *cnet_link_fields(const char *kind, int port, unsigned *n) {
  *n = 0;
  if (kind == NULL) return NULL;
  for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
    if (kinds[i].port == (port != 0) && strcmp(kinds[i].kind, kind) == 0) {
      *n = kinds[i].n;
      return kinds[i].fields;
    }
  }
  return NULL;
}

int cnet_link_field_known(const char *name) {
  for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
    for (unsigned j = 0; j < kinds[i].n; j++) {
      const struct cnet_link_field *f = &kinds[i].fields[j];
      if (strcmp(f->name, name) == 0 || (f->name6 && strcmp(f->name6, name) == 0)) return 1;
    }
  return 0;
}
