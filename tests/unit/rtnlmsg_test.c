/* Message building and decoding for neighbours and FDB entries, bridge VLANs, rules and
 * multipath routes: build a request in a plain buffer, decode it back with the parsers that
 * read the kernel's replies. No socket, no privileges. The bridge VLAN listing is checked
 * here too, because this machine's kernel cannot report VLANs (no VLAN filtering). */
#include <arpa/inet.h>
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <linux/fib_rules.h>
#include <linux/if_bridge.h>
#include <linux/if_link.h>
#include <linux/neighbour.h>
#include <linux/rtnetlink.h>

#include "cnet/brvlan.h"
#include "cnet/neigh.h"
#include "cnet/route.h"
#include "cnet/rule.h"

#include "check.h"
#include "msgbuf.h"

static void test_neigh(void) {
  struct cnet_neigh_req req;
  cnet_neigh_req_init(&req);
  CHECK(cnet_ipaddr_parse("2001:db8::5", AF_UNSPEC, &req.dst) == 0, "dst");
  req.index = 4;
  req.state = NUD_REACHABLE;
  req.flags = NTF_ROUTER;
  CHECK(cnet_lladdr_parse("02:00:00:00:00:05", req.lladdr, &req.lladdr_len) == 0, "mac");
  struct nlmsghdr *nlh = start(RTM_NEWNEIGH);
  CHECK(cnet_neigh_build(nlh, room(nlh), &req) == 0, "build");
  struct cnet_neigh e;
  CHECK(cnet_neigh_parse(nlh, &e) == 0, "parse");
  CHECK(e.family == AF_INET6 && e.index == 4 && e.state == NUD_REACHABLE && e.flags == NTF_ROUTER,
        "header: family %d index %d state %u flags %u", e.family, e.index, e.state, e.flags);
  CHECK(e.dst_family == AF_INET6 && memcmp(e.dst, req.dst.bytes, 16) == 0, "dst back");
  CHECK(e.lladdr_len == 6 && memcmp(e.lladdr, req.lladdr, 6) == 0, "lladdr back");
  CHECK(e.vlan == -1 && e.port == -1 && e.vni == -1 && e.via == 0, "nothing else");
  CHECK(strcmp(cnet_neigh_state_name(AF_INET6, e.state), "reachable") == 0, "state name");
  CHECK(cnet_neigh_state_name(AF_INET, 0) != NULL && strcmp(cnet_neigh_state_name(AF_INET, 0), "none") == 0,
        "none");
  /* a family that disagrees with the address is refused */
  req.family = AF_INET;
  nlh = start(RTM_NEWNEIGH);
  CHECK(cnet_neigh_build(nlh, room(nlh), &req) == -EINVAL, "family mismatch");
}

static void test_fdb(void) {
  struct cnet_neigh_req req;
  cnet_neigh_req_init(&req);
  req.family = AF_BRIDGE;
  req.index = 9;
  req.flags = NTF_SELF;
  req.state = (uint16_t)cnet_neigh_state_for_add(AF_BRIDGE, "permanent");
  CHECK(req.state == (NUD_NOARP | NUD_PERMANENT), "permanent as bridge sends it: %u", req.state);
  CHECK(cnet_neigh_state_for_add(AF_BRIDGE, "static") == (NUD_NOARP | NUD_REACHABLE), "static");
  CHECK(cnet_neigh_state_for_add(AF_BRIDGE, "stale") == -EINVAL, "stale cannot be added");
  CHECK(cnet_lladdr_parse("00:00:00:00:00:00", req.lladdr, &req.lladdr_len) == 0, "mac");
  CHECK(cnet_ipaddr_parse("192.0.2.3", AF_UNSPEC, &req.dst) == 0, "dst");
  req.port = 4790;
  req.vni = 43;
  req.src_vni = 7;
  req.via = 3;
  req.vlan = 12;
  struct nlmsghdr *nlh = start(RTM_NEWNEIGH);
  CHECK(cnet_neigh_build(nlh, room(nlh), &req) == 0, "build");
  const struct nlattr *a;
  mnl_attr_for_each(a, nlh, sizeof(struct ndmsg)) {
    if (mnl_attr_get_type(a) == NDA_PORT)
      CHECK(mnl_attr_get_u16(a) == htons(4790), "port in network order");
  }
  struct cnet_neigh e;
  CHECK(cnet_neigh_parse(nlh, &e) == 0, "parse");
  CHECK(e.family == AF_BRIDGE && e.index == 9 && e.flags == NTF_SELF, "header");
  CHECK(e.port == 4790 && e.vni == 43 && e.src_vni == 7 && e.via == 3 && e.vlan == 12,
        "remote: port %d vni %lld src_vni %lld via %d vlan %d", e.port, (long long)e.vni,
        (long long)e.src_vni, e.via, e.vlan);
  CHECK(e.dst_family == AF_INET, "dst family");
  CHECK(strcmp(cnet_neigh_state_name(AF_BRIDGE, e.state), "permanent") == 0, "state name");
  CHECK(strcmp(cnet_neigh_state_name(AF_BRIDGE, NUD_REACHABLE), "dynamic") == 0, "dynamic");
  CHECK(strcmp(cnet_neigh_state_name(AF_BRIDGE, NUD_NOARP | NUD_REACHABLE), "static") == 0, "static");
  /* the request that deletes exactly this entry */
  struct cnet_neigh_req del;
  cnet_neigh_req_of(&e, &del);
  CHECK(del.family == AF_BRIDGE && del.flags == NTF_SELF && del.port == 4790 && del.vni == 43 &&
        del.lladdr_len == 6 && del.dst.family == AF_INET, "req_of");
  req.vni = 1 << 24;
  nlh = start(RTM_NEWNEIGH);
  CHECK(cnet_neigh_build(nlh, room(nlh), &req) == -EINVAL, "vni over 24 bits");
}

struct vlans {
  int n;
  struct cnet_brvlan v[8];
};

static int take_vlan(const struct cnet_brvlan *v, void *data) {
  struct vlans *vs = data;
  if (vs->n < 8) vs->v[vs->n++] = *v;
  return 0;
}

static void test_brvlan(void) {
  struct cnet_brvlan_req req = {.index = 5, .vid = 20, .vid_end = 22,
                                .flags = BRIDGE_VLAN_INFO_UNTAGGED,
                                .bridge_flags = BRIDGE_FLAGS_MASTER};
  struct nlmsghdr *nlh = start(RTM_SETLINK);
  CHECK(cnet_brvlan_build(nlh, room(nlh), &req) == 0, "build range");
  /* The dump reports VLANs the same way (a range as RANGE_BEGIN then RANGE_END): decode the
   * request as if it were a reply, plus a single VLAN and the port's master. */
  nlh->nlmsg_type = RTM_NEWLINK;
  mnl_attr_put_u32(nlh, IFLA_MASTER, 2);
  struct vlans vs = {0};
  CHECK(cnet_brvlan_parse(nlh, take_vlan, &vs) == 0, "parse");
  CHECK(vs.n == 1, "one range: %d", vs.n);
  CHECK(vs.v[0].index == 5 && vs.v[0].master == 2 && vs.v[0].vid == 20 && vs.v[0].vid_end == 22 &&
        vs.v[0].flags == BRIDGE_VLAN_INFO_UNTAGGED, "range back: %u-%u flags %u", vs.v[0].vid,
        vs.v[0].vid_end, vs.v[0].flags);
  struct cnet_brvlan_req one = {.index = 5, .vid = 10, .flags = BRIDGE_VLAN_INFO_PVID | BRIDGE_VLAN_INFO_UNTAGGED};
  nlh = start(RTM_SETLINK);
  CHECK(cnet_brvlan_build(nlh, room(nlh), &one) == 0, "build one");
  nlh->nlmsg_type = RTM_NEWLINK;
  memset(&vs, 0, sizeof vs);
  CHECK(cnet_brvlan_parse(nlh, take_vlan, &vs) == 0 && vs.n == 1 && vs.v[0].vid == 10 &&
        vs.v[0].vid_end == 10 && vs.v[0].flags == (BRIDGE_VLAN_INFO_PVID | BRIDGE_VLAN_INFO_UNTAGGED),
        "one back");
  struct cnet_brvlan_req bad = {.index = 5, .vid = 20, .vid_end = 22, .flags = BRIDGE_VLAN_INFO_PVID};
  nlh = start(RTM_SETLINK);
  CHECK(cnet_brvlan_build(nlh, room(nlh), &bad) == -EINVAL, "pvid on a range");
  bad.flags = 0;
  bad.vid = 4095;
  bad.vid_end = 0;
  CHECK(cnet_brvlan_build(nlh, room(nlh), &bad) == -EINVAL, "vid 4095");
}

static void test_rule(void) {
  struct cnet_rule_req req;
  cnet_rule_req_init(&req);
  CHECK(cnet_ipaddr_parse_prefix("10.0.0.0/8", AF_UNSPEC, &req.src) == 0, "src");
  req.has_priority = 1;
  req.priority = 100;
  req.has_fwmark = 1;
  req.fwmark = 0x10;
  req.iif = "eth0";
  req.table = 1000;
  req.invert = 1;
  struct nlmsghdr *nlh = start(RTM_NEWRULE);
  CHECK(cnet_rule_build(nlh, room(nlh), &req) == 0, "build");
  const struct fib_rule_hdr *frh = mnl_nlmsg_get_payload(nlh);
  CHECK(frh->action == FR_ACT_TO_TBL && frh->table == RT_TABLE_UNSPEC && frh->src_len == 8,
        "header: action %u table %u", frh->action, frh->table);
  struct cnet_rule r;
  CHECK(cnet_rule_parse(nlh, &r) == 0, "parse");
  CHECK(r.family == AF_INET && r.table == 1000 && r.priority == 100 && r.has_priority &&
        r.fwmark == 0x10 && r.has_fwmark && !r.has_fwmask && (r.flags & FIB_RULE_INVERT) &&
        r.iif && strcmp(r.iif, "eth0") == 0 && r.src && !r.dst, "rule back");
  /* a delete with nothing set matches any action and table */
  cnet_rule_req_init(&req);
  nlh = start(RTM_DELRULE);
  CHECK(cnet_rule_build(nlh, room(nlh), &req) == 0, "build delete");
  frh = mnl_nlmsg_get_payload(nlh);
  CHECK(frh->action == FR_ACT_UNSPEC && frh->table == 0 && frh->family == AF_INET, "delete header");
  /* an add that only looks up gets main, as ip rule add does */
  nlh = start(RTM_NEWRULE);
  CHECK(cnet_rule_build(nlh, room(nlh), &req) == 0, "build add");
  frh = mnl_nlmsg_get_payload(nlh);
  CHECK(frh->table == RT_TABLE_MAIN, "main by default");
  CHECK(cnet_rule_action_parse("blackhole") == FR_ACT_BLACKHOLE, "action names");
}

static void test_multipath(void) {
  struct cnet_nexthop_req hops[2];
  memset(hops, 0, sizeof hops);
  CHECK(cnet_ipaddr_parse("192.0.2.1", AF_UNSPEC, &hops[0].via) == 0, "via 1");
  hops[0].weight = 3;
  hops[1].oif = 7;
  struct cnet_route_req req;
  cnet_route_req_init(&req);
  CHECK(cnet_ipaddr_parse_prefix("10.0.0.0/8", AF_UNSPEC, &req.dst) == 0, "dst");
  req.hops = hops;
  req.nhops = 2;
  struct nlmsghdr *nlh = start(RTM_NEWROUTE);
  CHECK(cnet_route_build(nlh, room(nlh), &req) == 0, "build");
  const struct rtmsg *rtm = mnl_nlmsg_get_payload(nlh);
  CHECK(rtm->rtm_scope == RT_SCOPE_UNIVERSE, "scope universe with next hops");
  struct cnet_route r;
  CHECK(cnet_route_parse(nlh, &r) == 0 && r.multipath != NULL, "parse");
  size_t pos = 0;
  struct cnet_nexthop nh;
  CHECK(cnet_route_nexthop(&r, &pos, &nh) == 1, "first");
  CHECK(nh.weight == 3 && nh.oif == 0 && nh.gateway && nh.via_family == AF_INET &&
        memcmp(nh.gateway, hops[0].via.bytes, 4) == 0, "first back");
  CHECK(cnet_route_nexthop(&r, &pos, &nh) == 1, "second");
  CHECK(nh.weight == 1 && nh.oif == 7 && nh.gateway == NULL, "second back");
  CHECK(cnet_route_nexthop(&r, &pos, &nh) == 0, "end");
  req.via = hops[0].via;
  nlh = start(RTM_NEWROUTE);
  CHECK(cnet_route_build(nlh, room(nlh), &req) == -EINVAL, "via with next hops");
}

int main(void) {
  test_neigh();
  test_fdb();
  test_brvlan();
  test_rule();
  test_multipath();
  return failures != 0;
}
