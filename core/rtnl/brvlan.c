/* Bridge port VLANs: see include/cnet/brvlan.h. */
#include "cnet/brvlan.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <linux/if_bridge.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>

#include "netlink/nlattr_int.h"
#include "rtnl/dump_int.h"

int cnet_brvlan_build(struct nlmsghdr *nlh, size_t room, const struct cnet_brvlan_req *req) {
  int range = req->vid_end != 0;
  if (req->vid < 1 || req->vid > 4094 || (range && (req->vid_end <= req->vid || req->vid_end > 4094)) ||
      (range && (req->flags & BRIDGE_VLAN_INFO_PVID)))
    return -EINVAL;
  size_t limit = nlh->nlmsg_len + room;
  if (nlh->nlmsg_len + MNL_ALIGN(sizeof(struct ifinfomsg)) > limit) return -EMSGSIZE;
  struct ifinfomsg *ifm = mnl_nlmsg_put_extra_header(nlh, sizeof *ifm);
  ifm->ifi_family = AF_BRIDGE;
  ifm->ifi_index = req->index;
  struct nlattr *spec = mnl_attr_nest_start_check(nlh, limit, IFLA_AF_SPEC);
  if (spec == NULL) return -EMSGSIZE;
  spec->nla_type = IFLA_AF_SPEC; /* without NLA_F_NESTED, as bridge sends it (both are taken) */
  int ok = 1;
  if (req->bridge_flags) ok = attr_put_u16(nlh, limit, IFLA_BRIDGE_FLAGS, req->bridge_flags);
  /* A range is two entries: its first VLAN marked RANGE_BEGIN, its last RANGE_END. */
  struct bridge_vlan_info vi = {.flags = req->flags, .vid = req->vid};
  if (range) vi.flags |= BRIDGE_VLAN_INFO_RANGE_BEGIN;
  if (ok) ok = mnl_attr_put_check(nlh, limit, IFLA_BRIDGE_VLAN_INFO, sizeof vi, &vi);
  if (ok && range) {
    vi.flags = (uint16_t)(req->flags | BRIDGE_VLAN_INFO_RANGE_END);
    vi.vid = req->vid_end;
    ok = mnl_attr_put_check(nlh, limit, IFLA_BRIDGE_VLAN_INFO, sizeof vi, &vi);
  }
  if (!ok) return -EMSGSIZE;
  mnl_attr_nest_end(nlh, spec);
  return 0;
}

static int fill(struct nlmsghdr *nlh, size_t room, const void *req) {
  return cnet_brvlan_build(nlh, room, req);
}

int cnet_brvlan_add(struct cnet_netns *ns, const struct cnet_brvlan_req *req) {
  return cnet_nl_change(cnet_netns_rtnl(ns), RTM_SETLINK, 0, fill, req, cnet_netns_errbuf(ns));
}

int cnet_brvlan_delete(struct cnet_netns *ns, const struct cnet_brvlan_req *req) {
  return cnet_nl_change(cnet_netns_rtnl(ns), RTM_DELLINK, 0, fill, req, cnet_netns_errbuf(ns));
}

int cnet_brvlan_parse(const struct nlmsghdr *nlh, cnet_brvlan_fn fn, void *data) {
  if (nlh->nlmsg_type != RTM_NEWLINK || nlh->nlmsg_len < MNL_NLMSG_HDRLEN + sizeof(struct ifinfomsg))
    return -EINVAL;
  const struct ifinfomsg *ifm = mnl_nlmsg_get_payload(nlh);
  if (ifm->ifi_family != AF_BRIDGE) return -EINVAL;
  struct cnet_brvlan v = {.index = ifm->ifi_index};
  const struct nlattr *spec = NULL, *a;
  struct attrs it = attrs_of_msg(nlh, sizeof *ifm);
  while ((a = next_attr(&it)) != NULL) {
    if (attr_type(a) == IFLA_MASTER) v.master = (int)attr_u32(a, 0);
    else if (attr_type(a) == IFLA_AF_SPEC) spec = a;
  }
  if (spec == NULL) return 0;
  /* The compressed form gives ranges as a RANGE_BEGIN entry followed by a RANGE_END one. */
  int begin = -1;
  struct attrs vit = attrs_nested(spec);
  while ((a = next_attr(&vit)) != NULL) {
    if (attr_type(a) != IFLA_BRIDGE_VLAN_INFO || attr_len(a) < sizeof(struct bridge_vlan_info))
      continue;
    struct bridge_vlan_info vi;
    memcpy(&vi, attr_data(a), sizeof vi);
    if (vi.flags & BRIDGE_VLAN_INFO_RANGE_BEGIN) {
      begin = vi.vid;
      continue;
    }
    v.vid = (vi.flags & BRIDGE_VLAN_INFO_RANGE_END) && begin > 0 ? (uint16_t)begin : vi.vid;
    v.vid_end = vi.vid;
    v.flags = vi.flags & (BRIDGE_VLAN_INFO_PVID | BRIDGE_VLAN_INFO_UNTAGGED);
    begin = -1;
    int rc = fn(&v, data);
    if (rc != 0) return rc;
  }
  return 0;
}

struct filter {
  struct dump_caller caller;   /* first: see dump_int.h */
  int index;
  cnet_brvlan_fn fn;
};

static int each_vlan(const struct cnet_brvlan *v, void *data) {
  struct filter *f = data;
  return f->fn(v, f->caller.data);
}

static int each_cb(const struct nlmsghdr *nlh, void *data) {
  struct filter *f = data;
  if (nlh->nlmsg_type != RTM_NEWLINK || nlh->nlmsg_len < MNL_NLMSG_HDRLEN + sizeof(struct ifinfomsg))
    return MNL_CB_OK;
  const struct ifinfomsg *ifm = mnl_nlmsg_get_payload(nlh);
  if (ifm->ifi_family != AF_BRIDGE || (f->index > 0 && ifm->ifi_index != f->index))
    return MNL_CB_OK;
  return dump_caller_rc(cnet_brvlan_parse(nlh, each_vlan, f)); /* only fn's value, now */
}

static int build_dump(struct cnet_nl *nl, void *data) {
  (void)data;
  struct nlmsghdr *nlh = cnet_nl_msg(nl, RTM_GETLINK, NLM_F_DUMP);
  if (nlh == NULL) return -ENOMEM;
  struct ifinfomsg *ifm = mnl_nlmsg_put_extra_header(nlh, sizeof *ifm);
  ifm->ifi_family = AF_BRIDGE; /* the kernel's bridge dump filters by nothing but the mask */
  if (!mnl_attr_put_u32_check(nlh, nlh->nlmsg_len + cnet_nl_room(nl), IFLA_EXT_MASK,
                              RTEXT_FILTER_BRVLAN_COMPRESSED))
    return -EMSGSIZE;
  return 0;
}

int cnet_brvlan_list(struct cnet_netns *ns, int index, cnet_brvlan_fn fn,
                     void (*reset)(void *data), void *data) {
  struct filter f = {{reset, data}, index, fn};
  char *err = cnet_netns_errbuf(ns);
  err[0] = '\0';
  return cnet_nl_dump(cnet_netns_rtnl(ns), build_dump, each_cb, dump_caller_reset, &f, err);
}
