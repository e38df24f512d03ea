/* Routes: see include/cnet/route.h. */
#include "cnet/route.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <linux/rtnetlink.h>

#include "cnet/addr.h"
#include "cnet/names.h"
#include "netlink/nlattr_int.h"
#include "rtnl/dump_int.h"

void cnet_route_req_init(struct cnet_route_req *req) {
  memset(req, 0, sizeof *req);
  req->protocol = req->scope = req->type = -1;
}

int cnet_route_parse(const struct nlmsghdr *nlh, struct cnet_route *out) {
  memset(out, 0, sizeof *out);
  if ((nlh->nlmsg_type != RTM_NEWROUTE && nlh->nlmsg_type != RTM_DELROUTE) || nlh->nlmsg_len < MNL_NLMSG_HDRLEN + sizeof(struct rtmsg))
    return -EINVAL;
  const struct rtmsg *rtm = mnl_nlmsg_get_payload(nlh);
  out->family = rtm->rtm_family;
  out->dst_len = rtm->rtm_dst_len;
  out->protocol = rtm->rtm_protocol;
  out->scope = rtm->rtm_scope;
  out->type = rtm->rtm_type;
  out->table = rtm->rtm_table;
  out->flags = rtm->rtm_flags;
  size_t alen = cnet_ipaddr_len(rtm->rtm_family);
  if (alen == 0) return -EINVAL;
  struct attrs it = attrs_of_msg(nlh, sizeof *rtm);
  const struct nlattr *a;
  while ((a = next_attr(&it)) != NULL) {
    uint16_t len = attr_len(a);
    switch (attr_type(a)) {
    case RTA_DST: if (len >= alen) out->dst = attr_data(a); break;
    case RTA_GATEWAY:
      if (len >= alen) {
        out->gateway = attr_data(a);
        out->via_family = out->family;
      }
      break;
    case RTA_VIA:
      if (len >= sizeof(struct rtvia)) {
        const struct rtvia *v = attr_data(a);
        size_t vlen = cnet_ipaddr_len(v->rtvia_family);
        if (vlen && len >= sizeof *v + vlen) {
          out->gateway = v->rtvia_addr;
          out->via_family = v->rtvia_family;
        }
      }
      break;
    case RTA_PREFSRC: if (len >= alen) out->prefsrc = attr_data(a); break;
    case RTA_OIF: if (len >= 4) out->oif = (int)attr_u32(a, 0); break;
    case RTA_PRIORITY:
      if (len >= 4) {
        out->priority = attr_u32(a, 0);
        out->has_priority = 1;
      }
      break;
    case RTA_TABLE: if (len >= 4) out->table = attr_u32(a, 0); break;
    case RTA_MULTIPATH:
      out->multipath = attr_data(a);
      out->multipath_len = len;
      break;
    default: break;
    }
  }
  return 0;
}

/* The gateway of a RTA_GATEWAY (of the route's family) or RTA_VIA attribute. */
static int gateway_of(const struct nlattr *a, int family, const void **gw, int *gw_family) {
  uint16_t len = attr_len(a);
  if (attr_type(a) == RTA_GATEWAY && len >= cnet_ipaddr_len(family)) {
    *gw = attr_data(a);
    *gw_family = family;
    return 1;
  }
  if (attr_type(a) == RTA_VIA && len >= sizeof(struct rtvia)) {
    const struct rtvia *v = attr_data(a);
    size_t vlen = cnet_ipaddr_len(v->rtvia_family);
    if (vlen && len >= sizeof *v + vlen) {
      *gw = v->rtvia_addr;
      *gw_family = v->rtvia_family;
      return 1;
    }
  }
  return 0;
}

int cnet_route_nexthop(const struct cnet_route *r, size_t *pos, struct cnet_nexthop *out) {
  memset(out, 0, sizeof *out);
  if (r->multipath == NULL || *pos + sizeof(struct rtnexthop) > r->multipath_len) return 0;
  const struct rtnexthop *nh = (const void *)((const char *)r->multipath + *pos);
  if (nh->rtnh_len < sizeof *nh || nh->rtnh_len > r->multipath_len - *pos) return 0;
  out->oif = nh->rtnh_ifindex;
  out->weight = nh->rtnh_hops + 1;
  out->flags = nh->rtnh_flags;
  const char *p = (const char *)nh + RTNH_ALIGN(sizeof *nh);
  struct attrs it = {p, (const char *)nh + nh->rtnh_len};
  const struct nlattr *a;
  while ((a = next_attr(&it)) != NULL)
    if (out->gateway == NULL) gateway_of(a, r->family, &out->gateway, &out->via_family);
  *pos += RTNH_ALIGN(nh->rtnh_len);
  return 1;
}

/* A gateway: RTA_GATEWAY in the route's family, RTA_VIA in another (IPv4 via IPv6). */
static int put_gateway(struct nlmsghdr *nlh, size_t limit, int fam, const struct cnet_ipaddr *via) {
  if (via->family == fam) return mnl_attr_put_check(nlh, limit, RTA_GATEWAY, cnet_ipaddr_len(fam), via->bytes);
  char buf[sizeof(struct rtvia) + 16];
  struct rtvia *v = (void *)buf;
  v->rtvia_family = (unsigned short)via->family;
  memcpy(v->rtvia_addr, via->bytes, 16);
  return attr_put(nlh, limit, RTA_VIA, sizeof *v + 16, buf);
}

/* RTA_MULTIPATH: each next hop is a struct rtnexthop followed by its own attributes, its
 * rtnh_len covering both. */
static int put_multipath(struct nlmsghdr *nlh, size_t limit, int fam, const struct cnet_route_req *req) {
  struct nlattr *mp = mnl_attr_nest_start_check(nlh, limit, RTA_MULTIPATH);
  if (mp == NULL) return 0;
  mp->nla_type = RTA_MULTIPATH; /* not a nested attribute set: no NLA_F_NESTED */
  for (unsigned i = 0; i < req->nhops; i++) {
    const struct cnet_nexthop_req *h = &req->hops[i];
    if (nlh->nlmsg_len + RTNH_ALIGN(sizeof(struct rtnexthop)) > limit) return 0;
    struct rtnexthop *nh = mnl_nlmsg_get_payload_tail(nlh);
    memset(nh, 0, sizeof *nh);
    nh->rtnh_hops = (unsigned char)((h->weight > 0 ? h->weight : 1) - 1);
    nh->rtnh_ifindex = h->oif;
    nlh->nlmsg_len += RTNH_ALIGN(sizeof *nh);
    if (h->via.family && !put_gateway(nlh, limit, fam, &h->via)) return 0;
    nh->rtnh_len = (unsigned short)((char *)mnl_nlmsg_get_payload_tail(nlh) - (char *)nh);
  }
  mnl_attr_nest_end(nlh, mp);
  return 1;
}

static int req_family(const struct cnet_route_req *req) {
  int fam = req->family;
  const struct cnet_ipaddr *parts[] = {&req->dst, &req->src};
  for (int i = 0; i < 2; i++) {
    if (parts[i]->family == 0) continue;
    if (fam && parts[i]->family != fam) return -EINVAL;
    fam = parts[i]->family;
  }
  if (!fam) fam = req->via.family; /* IPv4 routes may go via IPv6, not the other way round */
  if (!fam && req->nhops > 0) fam = req->hops[0].via.family;
  return fam ? fam : -EINVAL;
}

int cnet_route_build(struct nlmsghdr *nlh, size_t room, const struct cnet_route_req *req) {
  int fam = req_family(req);
  if (fam < 0) return fam;
  if (req->via.family == AF_INET && fam == AF_INET6) return -EINVAL;
  if (req->nhops > 0 && (req->via.family || req->oif > 0)) return -EINVAL;
  for (unsigned i = 0; i < req->nhops; i++)
    if (req->hops[i].weight < 0 || req->hops[i].weight > 256 ||
        (req->hops[i].via.family == AF_INET && fam == AF_INET6))
      return -EINVAL;
  size_t limit = nlh->nlmsg_len + room, alen = cnet_ipaddr_len(fam);
  if (nlh->nlmsg_len + MNL_ALIGN(sizeof(struct rtmsg)) > limit) return -EMSGSIZE;
  int del = nlh->nlmsg_type == RTM_DELROUTE;
  struct rtmsg *rtm = mnl_nlmsg_put_extra_header(nlh, sizeof *rtm);
  rtm->rtm_family = (uint8_t)fam;
  rtm->rtm_dst_len = req->dst.family ? req->dst.prefix : 0;
  uint32_t table = req->table ? req->table : RT_TABLE_MAIN;
  rtm->rtm_table = table < 256 ? (uint8_t)table : RT_TABLE_UNSPEC;
  if (req->protocol >= 0) rtm->rtm_protocol = (uint8_t)req->protocol;
  else rtm->rtm_protocol = del ? RTPROT_UNSPEC : RTPROT_BOOT;
  if (req->type >= 0) rtm->rtm_type = (uint8_t)req->type;
  else rtm->rtm_type = del ? RTN_UNSPEC : RTN_UNICAST;
  if (req->scope >= 0) rtm->rtm_scope = (uint8_t)req->scope;
  else if (del) rtm->rtm_scope = RT_SCOPE_NOWHERE; /* matches any scope */
  else if (rtm->rtm_type == RTN_LOCAL || rtm->rtm_type == RTN_NAT) rtm->rtm_scope = RT_SCOPE_HOST;
  else if (rtm->rtm_type == RTN_BROADCAST || rtm->rtm_type == RTN_MULTICAST ||
           rtm->rtm_type == RTN_ANYCAST)
    rtm->rtm_scope = RT_SCOPE_LINK;
  else if (rtm->rtm_type == RTN_UNICAST && req->via.family == 0 && req->nhops == 0)
    rtm->rtm_scope = RT_SCOPE_LINK;
  else rtm->rtm_scope = RT_SCOPE_UNIVERSE;
  /* IPv6 ignores scope; the kernel picks, and a link scope there is refused by nothing but
   * shown oddly, so send universe as ip does. */
  if (fam == AF_INET6 && req->scope < 0 && !del) rtm->rtm_scope = RT_SCOPE_UNIVERSE;
  int ok = 1;
  if (req->dst.family) ok = mnl_attr_put_check(nlh, limit, RTA_DST, alen, req->dst.bytes);
  if (ok && req->via.family) ok = put_gateway(nlh, limit, fam, &req->via);
  if (ok && req->nhops > 0) ok = put_multipath(nlh, limit, fam, req);
  if (ok && req->src.family) ok = mnl_attr_put_check(nlh, limit, RTA_PREFSRC, alen, req->src.bytes);
  if (ok && req->oif > 0) ok = mnl_attr_put_u32_check(nlh, limit, RTA_OIF, (uint32_t)req->oif);
  if (ok && req->has_metric) ok = mnl_attr_put_u32_check(nlh, limit, RTA_PRIORITY, req->metric);
  if (ok && table >= 256) ok = mnl_attr_put_u32_check(nlh, limit, RTA_TABLE, table);
  return ok ? 0 : -EMSGSIZE;
}

static int fill(struct nlmsghdr *nlh, size_t room, const void *req) {
  return cnet_route_build(nlh, room, req);
}

static int talk(struct cnet_netns *ns, uint16_t type, uint16_t flags,
                const struct cnet_route_req *req) {
  return cnet_nl_change(cnet_netns_rtnl(ns), type, flags, fill, req, cnet_netns_errbuf(ns));
}

int cnet_route_add(struct cnet_netns *ns, const struct cnet_route_req *req, int replace) {
  return talk(ns, RTM_NEWROUTE, NLM_F_CREATE | (replace ? NLM_F_REPLACE : NLM_F_EXCL), req);
}

int cnet_route_delete(struct cnet_netns *ns, const struct cnet_route_req *req) {
  return talk(ns, RTM_DELROUTE, 0, req);
}

struct filter {
  struct dump_caller caller;   /* first: see dump_int.h */
  int family;
  uint32_t table;
  cnet_route_fn fn;
};

static int each_cb(const struct nlmsghdr *nlh, void *data) {
  struct filter *f = data;
  struct cnet_route r;
  if (cnet_route_parse(nlh, &r) < 0) return MNL_CB_OK;
  if (r.flags & RTM_F_CLONED) return MNL_CB_OK;
  if ((f->family && r.family != f->family) || (f->table && r.table != f->table))
    return MNL_CB_OK;
  return dump_caller_rc(f->fn(&r, f->caller.data));
}

static int build_dump(struct cnet_nl *nl, void *data) {
  struct filter *f = data;
  struct nlmsghdr *nlh = cnet_nl_msg(nl, RTM_GETROUTE, NLM_F_DUMP);
  if (nlh == NULL) return -ENOMEM;
  struct rtmsg *rtm = mnl_nlmsg_put_extra_header(nlh, sizeof *rtm);
  rtm->rtm_family = (uint8_t)f->family;
  /* With strict checking the kernel filters by table itself (4.20+); the callback checks
   * again, so an older kernel that ignores the filter still gives the right answer. */
  if (f->table) {
    rtm->rtm_table = f->table < 256 ? (uint8_t)f->table : RT_TABLE_UNSPEC;
    if (!mnl_attr_put_u32_check(nlh, nlh->nlmsg_len + cnet_nl_room(nl), RTA_TABLE, f->table))
      return -EMSGSIZE;
  }
  return 0;
}

int cnet_route_list(struct cnet_netns *ns, int family, uint32_t table, cnet_route_fn fn,
                    void (*reset)(void *data), void *data) {
  struct filter f = {{reset, data}, family, table, fn};
  struct cnet_nl *nl = cnet_netns_rtnl(ns);
  char *err = cnet_netns_errbuf(ns);
  err[0] = '\0';
  /* The kernel filters too (the callback checks again for kernels that do not). */
  return cnet_nl_dump_filtered(nl, table != 0, build_dump, each_cb, dump_caller_reset, &f, err);
}

struct one {
  cnet_route_fn fn;
  void *data;
  int found;
};

static int one_cb(const struct nlmsghdr *nlh, void *data) {
  struct one *o = data;
  struct cnet_route r;
  if (cnet_route_parse(nlh, &r) < 0 || o->found) return MNL_CB_OK;
  o->found = 1;
  int rc = o->fn(&r, o->data);
  if (rc != 0) return rc < 0 ? rc : -ECANCELED;
  return MNL_CB_OK;
}

int cnet_route_get(struct cnet_netns *ns, const struct cnet_ipaddr *addr,
                   const struct cnet_ipaddr *src, int oif, cnet_route_fn fn, void *data) {
  struct cnet_nl *nl = cnet_netns_rtnl(ns);
  char *err = cnet_netns_errbuf(ns);
  err[0] = '\0';
  size_t alen = cnet_ipaddr_len(addr->family);
  if (alen == 0 || (src && src->family && src->family != addr->family)) return -EINVAL;
  struct nlmsghdr *nlh = cnet_nl_msg(nl, RTM_GETROUTE, 0);
  if (nlh == NULL) return -ENOMEM;
  struct rtmsg *rtm = mnl_nlmsg_put_extra_header(nlh, sizeof *rtm);
  rtm->rtm_family = (uint8_t)addr->family;
  rtm->rtm_dst_len = (uint8_t)(alen * 8);
  mnl_attr_put(nlh, RTA_DST, alen, addr->bytes);
  if (src && src->family) {
    rtm->rtm_src_len = (uint8_t)(alen * 8);
    mnl_attr_put(nlh, RTA_SRC, alen, src->bytes);
  }
  if (oif > 0) mnl_attr_put_u32(nlh, RTA_OIF, (uint32_t)oif);
  struct one o = {fn, data, 0};
  int rc = cnet_nl_talk(nl, one_cb, &o, err);
  if (rc == 0 && !o.found) rc = -ENOMSG;
  return rc;
}

/* ---- names ---- */

static const struct cnet_name protocols[] = {
  {RTPROT_UNSPEC, "unspec"}, {RTPROT_REDIRECT, "redirect"}, {RTPROT_KERNEL, "kernel"},
  {RTPROT_BOOT, "boot"}, {RTPROT_STATIC, "static"}, {RTPROT_RA, "ra"}, {RTPROT_DHCP, "dhcp"},
  {RTPROT_BGP, "bgp"}, {RTPROT_OSPF, "ospf"}, {RTPROT_ZEBRA, "zebra"}, {RTPROT_BIRD, "bird"},
};
static const struct cnet_name types[] = {
  {RTN_UNSPEC, "unspec"}, {RTN_UNICAST, "unicast"}, {RTN_LOCAL, "local"},
  {RTN_BROADCAST, "broadcast"}, {RTN_ANYCAST, "anycast"}, {RTN_MULTICAST, "multicast"},
  {RTN_BLACKHOLE, "blackhole"}, {RTN_UNREACHABLE, "unreachable"}, {RTN_PROHIBIT, "prohibit"},
  {RTN_THROW, "throw"}, {RTN_NAT, "nat"},
};
static const struct cnet_name tables[] = {
  {RT_TABLE_MAIN, "main"}, {RT_TABLE_LOCAL, "local"}, {RT_TABLE_DEFAULT, "default"},
};

#define N CNET_NAMES_LEN

const char *cnet_route_protocol_name(uint8_t p) { return cnet_name_of(protocols, N(protocols), p); }
int cnet_route_protocol_parse(const char *s) { return (int)cnet_name_value(protocols, N(protocols), s); }
const char *cnet_route_type_name(uint8_t t) { return cnet_name_of(types, N(types), t); }
int cnet_route_type_parse(const char *s) { return (int)cnet_name_value(types, N(types), s); }
const char *cnet_route_table_name(uint32_t t) { return cnet_name_of(tables, N(tables), t); }
long cnet_route_table_parse(const char *s) { return cnet_name_value(tables, N(tables), s); }
