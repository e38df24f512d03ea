/* Message building and attribute decoding for links, addresses and routes: build a request
 * in a plain buffer, decode it back with the same parsers that read the kernel's replies.
 * No socket, no privileges. */
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <linux/if_addr.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>

#include "cnet/addr.h"
#include "cnet/link.h"
#include "cnet/route.h"

#include "check.h"
#include "msgbuf.h"

/* The nested attribute of type `type` inside `parent`, or NULL. */
static const struct nlattr *child(const struct nlattr *parent, uint16_t type) {
  const struct nlattr *a;
  mnl_attr_for_each_nested(a, parent) if (mnl_attr_get_type(a) == type) return a;
  return NULL;
}

static const struct nlattr *top(const struct nlmsghdr *nlh, size_t hdr, uint16_t type) {
  const struct nlattr *a;
  mnl_attr_for_each(a, nlh, hdr) if (mnl_attr_get_type(a) == type) return a;
  return NULL;
}

static void test_bridge(void) {
  struct cnet_link_req req;
  cnet_link_req_init(&req);
  static const unsigned char mac[6] = {0x02, 0, 0, 0, 0xaa, 0x01};
  req.name = "br0";
  req.kind = "bridge";
  req.mtu = 1400;
  req.mac = mac;
  req.mac_len = 6;
  req.master = 7;
  req.up = 1;
  struct nlmsghdr *nlh = start(RTM_NEWLINK);
  CHECK(cnet_link_build(nlh, room(nlh), 0, &req) == 0, "build");
  CHECK(mnl_nlmsg_ok(nlh, (int)nlh->nlmsg_len), "well formed");
  const struct ifinfomsg *ifi = mnl_nlmsg_get_payload(nlh);
  CHECK(ifi->ifi_change == IFF_UP && ifi->ifi_flags == IFF_UP, "up in the header");
  struct cnet_link l;
  CHECK(cnet_link_parse(nlh, &l) == 0, "parse");
  CHECK(strcmp(l.name, "br0") == 0, "name %s", l.name);
  CHECK(l.kind && strcmp(l.kind, "bridge") == 0, "kind");
  CHECK(l.mtu == 1400, "mtu %u", l.mtu);
  CHECK(l.mac_len == 6 && memcmp(l.mac, mac, 6) == 0, "mac");
  CHECK(l.master == 7, "master %d", l.master);
  CHECK(l.link == 0 && l.link_netnsid == -1, "no link");
  CHECK((l.flags & IFF_UP) != 0, "flags");
  /* nothing unset is sent */
  CHECK(top(nlh, sizeof *ifi, IFLA_NET_NS_FD) == NULL && top(nlh, sizeof *ifi, IFLA_LINK) == NULL,
        "no netns, no link");
  const struct nlattr *info = top(nlh, sizeof *ifi, IFLA_LINKINFO);
  CHECK(info && child(info, IFLA_INFO_DATA) == NULL, "a bridge sends no info data");
}

static void test_veth(void) {
  struct cnet_link_req req;
  cnet_link_req_init(&req);
  req.name = "br-veth0";
  req.kind = "veth";
  req.peer_name = "veth0";
  req.peer_netns_fd = 42;
  req.peer_up = 0;
  req.netns_fd = 41;
  struct nlmsghdr *nlh = start(RTM_NEWLINK);
  CHECK(cnet_link_build(nlh, room(nlh), 0, &req) == 0, "build");
  const struct ifinfomsg *ifi = mnl_nlmsg_get_payload(nlh);
  CHECK(ifi->ifi_change == 0, "up unset: no flag change");
  const struct nlattr *ns = top(nlh, sizeof *ifi, IFLA_NET_NS_FD);
  CHECK(ns && mnl_attr_get_u32(ns) == 41, "link netns fd");
  const struct nlattr *info = top(nlh, sizeof *ifi, IFLA_LINKINFO);
  const struct nlattr *data = info ? child(info, IFLA_INFO_DATA) : NULL;
  const struct nlattr *peer = data ? child(data, VETH_INFO_PEER) : NULL;
  CHECK(peer != NULL, "peer nest");
  if (peer == NULL) return;
  /* The peer nest starts with its own ifinfomsg, then attributes. */
  const struct ifinfomsg *pifi = mnl_attr_get_payload(peer);
  CHECK(pifi->ifi_change == IFF_UP && pifi->ifi_flags == 0, "peer down");
  const char *p = (const char *)pifi + NLMSG_ALIGN(sizeof *pifi);
  const char *end = (const char *)peer + peer->nla_len;
  const char *pname = NULL;
  uint32_t pfd = 0;
  for (const struct nlattr *a = (const void *)p; (const char *)a < end;
       a = (const void *)((const char *)a + NLA_ALIGN(a->nla_len))) {
    if (mnl_attr_get_type(a) == IFLA_IFNAME) pname = mnl_attr_get_str(a);
    if (mnl_attr_get_type(a) == IFLA_NET_NS_FD) pfd = mnl_attr_get_u32(a);
  }
  CHECK(pname && strcmp(pname, "veth0") == 0, "peer name");
  CHECK(pfd == 42, "peer netns fd %u", pfd);
}

/* One option of field `name` of kind. */
static struct cnet_link_opt opt(const char *kind, const char *name) {
  struct cnet_link_opt o;
  memset(&o, 0, sizeof o);
  o.field = cnet_link_field_find(kind, 0, name);
  CHECK(o.field != NULL, "field %s of %s", name, kind);
  return o;
}

static void test_vxlan_macvlan(void) {
  struct cnet_link_req req;
  cnet_link_req_init(&req);
  req.name = "vx0";
  req.kind = "vxlan";
  struct cnet_link_opt o[5] = {opt("vxlan", "id"), opt("vxlan", "dev"), opt("vxlan", "remote"),
                               opt("vxlan", "local"), opt("vxlan", "port")};
  o[0].value.u = 42;
  o[1].value.u = 3;
  cnet_ipaddr_parse("192.0.2.1", AF_UNSPEC, &o[2].value.addr);
  cnet_ipaddr_parse("2001:db8::1", AF_UNSPEC, &o[3].value.addr);
  o[4].value.u = 4789;
  req.info = o;
  req.ninfo = 5;
  struct nlmsghdr *nlh = start(RTM_NEWLINK);
  CHECK(cnet_link_build(nlh, room(nlh), 0, &req) == 0, "build");
  size_t h = sizeof(struct ifinfomsg);
  CHECK(top(nlh, h, IFLA_LINK) == NULL, "vxlan's dev goes in IFLA_VXLAN_LINK, not IFLA_LINK");
  const struct nlattr *data = child(top(nlh, h, IFLA_LINKINFO), IFLA_INFO_DATA);
  CHECK(mnl_attr_get_u32(child(data, IFLA_VXLAN_ID)) == 42, "vni");
  CHECK(mnl_attr_get_u32(child(data, IFLA_VXLAN_LINK)) == 3, "dev");
  CHECK(memcmp(mnl_attr_get_payload(child(data, IFLA_VXLAN_GROUP)), o[2].value.addr.bytes, 4) == 0,
        "remote");
  CHECK(child(data, IFLA_VXLAN_LOCAL6) != NULL && child(data, IFLA_VXLAN_LOCAL) == NULL,
        "an IPv6 local goes in LOCAL6");
  const unsigned char *port = mnl_attr_get_payload(child(data, IFLA_VXLAN_PORT));
  CHECK(port[0] == 0x12 && port[1] == 0xb5, "port 4789 in network order");
  /* a VNI of more than 24 bits is refused before anything is sent */
  o[0].value.u = 1u << 24;
  nlh = start(RTM_NEWLINK);
  CHECK(cnet_link_build(nlh, room(nlh), 0, &req) == -EINVAL, "VNI over 24 bits");

  cnet_link_req_init(&req);
  req.name = "mv0";
  req.kind = "macvlan";
  req.link = 5;
  struct cnet_link_opt m = opt("macvlan", "mode");
  CHECK(cnet_link_field_enum(m.field, "bridge", &m.value.u) == 0, "bridge is a mode");
  CHECK(cnet_link_field_enum(m.field, "bridges", &m.value.u) == -EINVAL, "bridges is not");
  req.info = &m;
  req.ninfo = 1;
  nlh = start(RTM_NEWLINK);
  CHECK(cnet_link_build(nlh, room(nlh), 0, &req) == 0, "build");
  CHECK(mnl_attr_get_u32(top(nlh, h, IFLA_LINK)) == 5, "lower device");
  data = child(top(nlh, h, IFLA_LINKINFO), IFLA_INFO_DATA);
  CHECK(mnl_attr_get_u32(child(data, IFLA_MACVLAN_MODE)) == MACVLAN_MODE_BRIDGE, "mode");
}

static void test_set_and_errors(void) {
  struct cnet_link_req req;
  cnet_link_req_init(&req);
  req.master = -1; /* nomaster */
  req.up = 0;
  req.name = "renamed";
  struct nlmsghdr *nlh = start(RTM_NEWLINK);
  CHECK(cnet_link_build(nlh, room(nlh), 9, &req) == 0, "build");
  const struct ifinfomsg *ifi = mnl_nlmsg_get_payload(nlh);
  CHECK(ifi->ifi_index == 9, "index");
  const struct nlattr *m = top(nlh, sizeof *ifi, IFLA_MASTER);
  CHECK(m && mnl_attr_get_u32(m) == 0, "nomaster is IFLA_MASTER 0");
  CHECK(top(nlh, sizeof *ifi, IFLA_LINKINFO) == NULL, "set sends no linkinfo");

  req.name = "abcdefghijklmnop"; /* 16 bytes */
  nlh = start(RTM_NEWLINK);
  CHECK(cnet_link_build(nlh, room(nlh), 0, &req) == -ENAMETOOLONG, "16-byte name");
  req.name = "abcdefghijklmno"; /* 15: fine */
  nlh = start(RTM_NEWLINK);
  CHECK(cnet_link_build(nlh, room(nlh), 0, &req) == 0, "15-byte name");
  CHECK(cnet_link_check_name("a/b") == -EINVAL && cnet_link_check_name("") == -EINVAL &&
        cnet_link_check_name("..") == -EINVAL && cnet_link_check_name("a b") == -EINVAL &&
        cnet_link_check_name("eth0.1") == 0, "names");
  req.name = "x";
  req.kind = "veth";
  req.peer_name = "y";
  nlh = start(RTM_NEWLINK);
  CHECK(cnet_link_build(nlh, 40, 0, &req) == -EMSGSIZE, "too little room");
  CHECK(strcmp(cnet_link_operstate_name(6), "up") == 0 &&
        strcmp(cnet_link_operstate_name(200), "unknown") == 0, "operstates");
  const char *names[32];
  unsigned n = cnet_link_flag_names(IFF_UP | IFF_BROADCAST | IFF_RUNNING | IFF_MULTICAST, names);
  CHECK(n == 4 && strcmp(names[0], "BROADCAST") == 0 && strcmp(names[1], "MULTICAST") == 0 &&
        strcmp(names[2], "UP") == 0 && strcmp(names[3], "RUNNING") == 0, "flag order like ip");
  /* a message that is no link */
  nlh = start(RTM_NEWADDR);
  struct cnet_link l;
  CHECK(cnet_link_parse(nlh, &l) == -EINVAL, "not a link");
}

static void test_addr(void) {
  struct cnet_addr_req req;
  cnet_addr_req_init(&req);
  req.index = 4;
  cnet_ipaddr_parse_prefix("192.168.1.10/24", AF_UNSPEC, &req.addr);
  req.broadcast = 2;
  req.label = "br0:1";
  req.has_lifetime = 1;
  req.valid = 600;
  req.preferred = 300;
  struct nlmsghdr *nlh = start(RTM_NEWADDR);
  CHECK(cnet_addr_build(nlh, room(nlh), &req) == 0, "build");
  struct cnet_addr a;
  CHECK(cnet_addr_parse(nlh, &a) == 0, "parse");
  char text[CNET_IPADDR_STRLEN];
  cnet_ipaddr_format(a.family, a.address, text, sizeof text);
  CHECK(a.family == AF_INET && a.index == 4 && a.prefix == 24 && strcmp(text, "192.168.1.10") == 0,
        "address %s", text);
  cnet_ipaddr_format(a.family, a.broadcast, text, sizeof text);
  CHECK(strcmp(text, "192.168.1.255") == 0, "broadcast + gives %s", text);
  CHECK(a.peer == NULL, "local == address: no peer");
  CHECK(a.label && strcmp(a.label, "br0:1") == 0, "label");
  CHECK(a.valid == 600 && a.preferred == 300, "lifetimes");
  req.broadcast = 0;
  cnet_ipaddr_parse_prefix("2001:db8::1/64", AF_UNSPEC, &req.addr);
  req.broadcast = 2;
  nlh = start(RTM_NEWADDR);
  CHECK(cnet_addr_build(nlh, room(nlh), &req) == -EINVAL, "no broadcast for IPv6");
  CHECK(cnet_scope_parse("link") == RT_SCOPE_LINK && cnet_scope_parse("universe") == 0 &&
        cnet_scope_parse("bogus") == -EINVAL && strcmp(cnet_scope_name(RT_SCOPE_HOST), "host") == 0,
        "scopes");
}

static void test_route(void) {
  struct cnet_route_req req;
  cnet_route_req_init(&req);
  cnet_ipaddr_parse_prefix("10.0.0.0/8", AF_UNSPEC, &req.dst);
  req.oif = 3;
  req.has_metric = 1;
  req.metric = 5;
  struct nlmsghdr *nlh = start(RTM_NEWROUTE);
  CHECK(cnet_route_build(nlh, room(nlh), &req) == 0, "build");
  /* the request doubles as a reply for the parser */
  struct cnet_route r;
  CHECK(cnet_route_parse(nlh, &r) == 0, "parse");
  CHECK(r.family == AF_INET && r.dst_len == 8 && r.oif == 3 && r.has_priority && r.priority == 5,
        "fields");
  CHECK(r.scope == RT_SCOPE_LINK && r.protocol == RTPROT_BOOT && r.type == RTN_UNICAST &&
        r.table == RT_TABLE_MAIN, "ip's defaults without a gateway");
  CHECK(r.gateway == NULL, "no gateway");

  cnet_route_req_init(&req); /* default via, table 1000 */
  cnet_ipaddr_parse("192.0.2.1", AF_UNSPEC, &req.via);
  req.table = 1000;
  nlh = start(RTM_NEWROUTE);
  CHECK(cnet_route_build(nlh, room(nlh), &req) == 0, "build");
  CHECK(cnet_route_parse(nlh, &r) == 0 && r.dst == NULL && r.dst_len == 0, "default");
  CHECK(r.scope == RT_SCOPE_UNIVERSE && r.table == 1000 && r.via_family == AF_INET, "via");
  const struct rtmsg *rtm = mnl_nlmsg_get_payload(nlh);
  CHECK(rtm->rtm_table == RT_TABLE_UNSPEC, "big tables go in RTA_TABLE only");

  cnet_route_req_init(&req); /* IPv4 via IPv6: RTA_VIA */
  cnet_ipaddr_parse_prefix("10.0.0.0/8", AF_UNSPEC, &req.dst);
  cnet_ipaddr_parse("fe80::1", AF_UNSPEC, &req.via);
  nlh = start(RTM_NEWROUTE);
  CHECK(cnet_route_build(nlh, room(nlh), &req) == 0, "build");
  CHECK(cnet_route_parse(nlh, &r) == 0 && r.via_family == AF_INET6 && r.family == AF_INET, "rta_via");

  cnet_route_req_init(&req); /* delete: wildcards */
  cnet_ipaddr_parse_prefix("10.0.0.0/8", AF_UNSPEC, &req.dst);
  nlh = start(RTM_DELROUTE);
  CHECK(cnet_route_build(nlh, room(nlh), &req) == 0, "build");
  rtm = mnl_nlmsg_get_payload(nlh);
  CHECK(rtm->rtm_scope == RT_SCOPE_NOWHERE && rtm->rtm_protocol == 0 && rtm->rtm_type == 0,
        "delete matches any scope, protocol, type");

  cnet_route_req_init(&req); /* IPv6 dst via IPv4: refused */
  cnet_ipaddr_parse_prefix("2001:db8::/32", AF_UNSPEC, &req.dst);
  cnet_ipaddr_parse("192.0.2.1", AF_UNSPEC, &req.via);
  nlh = start(RTM_NEWROUTE);
  CHECK(cnet_route_build(nlh, room(nlh), &req) == -EINVAL, "families");
  CHECK(cnet_route_table_parse("main") == RT_TABLE_MAIN && cnet_route_table_parse("x") == -EINVAL &&
        cnet_route_protocol_parse("static") == RTPROT_STATIC &&
        strcmp(cnet_route_type_name(RTN_LOCAL), "local") == 0, "names");
}

/* The parsers walk attributes by hand: one that claims more bytes than the message holds,
 * or fewer than its own header, ends the walk; what came before it is kept, nothing after it
 * is read, and strings must be NUL-terminated. */
static void test_malformed(void) {
  struct cnet_link_req req;
  cnet_link_req_init(&req);
  req.name = "m0";
  req.mtu = 1500;
  req.kind = "dummy";
  struct nlmsghdr *nlh = start(RTM_NEWLINK);
  CHECK(cnet_link_build(nlh, room(nlh), 0, &req) == 0, "build");
  const struct ifinfomsg *ifi = mnl_nlmsg_get_payload(nlh);
  struct nlattr *mtu = (struct nlattr *)top(nlh, sizeof *ifi, IFLA_MTU);
  CHECK(mtu != NULL, "mtu sent");
  struct cnet_link l;
  mtu->nla_len = (uint16_t)(nlh->nlmsg_len + 64); /* past the end */
  CHECK(cnet_link_parse(nlh, &l) == 0 && strcmp(l.name, "m0") == 0 && l.mtu == 0 &&
        l.kind == NULL, "walk ends at an overlong attribute");
  mtu->nla_len = 2; /* shorter than its header */
  CHECK(cnet_link_parse(nlh, &l) == 0 && l.mtu == 0 && l.kind == NULL, "walk ends at a short one");
  /* a name without its NUL is no name: the message is refused */
  nlh = start(RTM_NEWLINK);
  req.kind = NULL;
  CHECK(cnet_link_build(nlh, room(nlh), 0, &req) == 0, "build");
  struct nlattr *name = (struct nlattr *)top(nlh, sizeof *ifi, IFLA_IFNAME);
  CHECK(name != NULL, "name sent");
  name->nla_len = NLA_HDRLEN + 2; /* "m0" without its NUL */
  CHECK(cnet_link_parse(nlh, &l) == -EINVAL, "unterminated name");
  /* a route whose last attribute runs past the message: dst kept, oif not read */
  struct cnet_route_req rreq;
  cnet_route_req_init(&rreq);
  cnet_ipaddr_parse_prefix("10.1.0.0/16", AF_UNSPEC, &rreq.dst);
  rreq.oif = 9;
  nlh = start(RTM_NEWROUTE);
  CHECK(cnet_route_build(nlh, room(nlh), &rreq) == 0, "build route");
  struct nlattr *oif = (struct nlattr *)top(nlh, sizeof(struct rtmsg), RTA_OIF);
  CHECK(oif != NULL, "oif sent");
  oif->nla_len = (uint16_t)(oif->nla_len + 4);
  struct cnet_route r;
  CHECK(cnet_route_parse(nlh, &r) == 0 && r.dst != NULL && r.dst_len == 16 && r.oif == 0,
        "route walk ends at an overlong attribute");
}

int main(void) {
  test_bridge();
  test_veth();
  test_vxlan_macvlan();
  test_set_and_errors();
  test_addr();
  test_route();
  test_malformed();
  if (failures) fprintf(stderr, "%d check(s) failed\n", failures);
  else printf("linkmsg: all checks passed\n");
  return failures ? 1 : 0;
}
