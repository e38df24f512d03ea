/* Policy routing rules: see include/cnet/rule.h. */
#include "cnet/rule.h"
#include "cnet/names.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <linux/fib_rules.h>
#include <linux/rtnetlink.h>

#include "netlink/nlattr_int.h"
#include "rtnl/dump_int.h"

void cnet_rule_req_init(struct cnet_rule_req *req) {
  memset(req, 0, sizeof *req);
  req->action = req->tos = req->protocol = -1;
}

int cnet_rule_parse(const struct nlmsghdr *nlh, struct cnet_rule *out) {
  memset(out, 0, sizeof *out);
  out->protocol = -1;
  if (nlh->nlmsg_type != RTM_NEWRULE || nlh->nlmsg_len < MNL_NLMSG_HDRLEN + sizeof(struct fib_rule_hdr))
    return -EINVAL;
  const struct fib_rule_hdr *frh = mnl_nlmsg_get_payload(nlh);
  size_t alen = cnet_ipaddr_len(frh->family);
  if (alen == 0) return -EINVAL;
  out->family = frh->family;
  out->src_len = frh->src_len;
  out->dst_len = frh->dst_len;
  out->tos = frh->tos;
  out->action = frh->action;
  out->flags = frh->flags;
  out->table = frh->table;
  struct attrs it = attrs_of_msg(nlh, sizeof *frh);
  const struct nlattr *a;
  while ((a = next_attr(&it)) != NULL) {
    uint16_t len = attr_len(a);
    switch (attr_type(a)) {
    case FRA_SRC: if (len >= alen) out->src = attr_data(a); break;
    case FRA_DST: if (len >= alen) out->dst = attr_data(a); break;
    case FRA_IIFNAME: out->iif = attr_str(a); break;
    case FRA_OIFNAME: out->oif = attr_str(a); break;
    case FRA_TABLE: if (len >= 4) out->table = attr_u32(a, 0); break;
    case FRA_PRIORITY:
      out->has_priority = len >= 4;
      out->priority = attr_u32(a, 0);
      break;
    case FRA_FWMARK:
      out->has_fwmark = len >= 4;
      out->fwmark = attr_u32(a, 0);
      break;
    case FRA_FWMASK:
      out->has_fwmask = len >= 4;
      out->fwmask = attr_u32(a, 0);
      break;
    case FRA_GOTO:
      out->has_goto = len >= 4;
      out->goto_target = attr_u32(a, 0);
      break;
    case FRA_SUPPRESS_PREFIXLEN:
      /* The kernel reports it only when set (it keeps -1 for unset). */
      out->suppress_prefixlen = attr_u32(a, 0xffffffffu);
      out->has_suppress_prefixlen = out->suppress_prefixlen != 0xffffffffu;
      break;
    case FRA_PROTOCOL: if (len >= 1) out->protocol = *(const uint8_t *)attr_data(a); break;
    default: break;
    }
  }
  return 0;
}

static int req_family(const struct cnet_rule_req *req) {
  int fam = req->family;
  const struct cnet_ipaddr *parts[] = {&req->src, &req->dst};
  for (int i = 0; i < 2; i++) {
    if (parts[i]->family == 0) continue;
    if (fam && parts[i]->family != fam) return -EINVAL;
    fam = parts[i]->family;
  }
  return fam ? fam : AF_INET; /* as ip: a rule without addresses is IPv4 unless told */
}

int cnet_rule_build(struct nlmsghdr *nlh, size_t room, const struct cnet_rule_req *req) {
  int fam = req_family(req);
  if (fam < 0) return fam;
  if ((req->iif && strlen(req->iif) >= 16) || (req->oif && strlen(req->oif) >= 16)) return -EINVAL;
  size_t limit = nlh->nlmsg_len + room, alen = cnet_ipaddr_len(fam);
  if (nlh->nlmsg_len + MNL_ALIGN(sizeof(struct fib_rule_hdr)) > limit) return -EMSGSIZE;
  int add = nlh->nlmsg_type == RTM_NEWRULE;
  struct fib_rule_hdr *frh = mnl_nlmsg_put_extra_header(nlh, sizeof *frh);
  frh->family = (uint8_t)fam;
  frh->src_len = req->src.family ? req->src.prefix : 0;
  frh->dst_len = req->dst.family ? req->dst.prefix : 0;
  frh->tos = req->tos >= 0 ? (uint8_t)req->tos : 0;
  frh->action = req->action >= 0 ? (uint8_t)req->action : add ? FR_ACT_TO_TBL : FR_ACT_UNSPEC;
  frh->flags = req->invert ? FIB_RULE_INVERT : 0;
  uint32_t table = req->table;
  if (table == 0 && add && frh->action == FR_ACT_TO_TBL) table = RT_TABLE_MAIN;
  frh->table = table < 256 ? (uint8_t)table : RT_TABLE_UNSPEC;
  int ok = 1;
  if (req->src.family) ok = mnl_attr_put_check(nlh, limit, FRA_SRC, alen, req->src.bytes);
  if (ok && req->dst.family) ok = mnl_attr_put_check(nlh, limit, FRA_DST, alen, req->dst.bytes);
  if (ok && req->has_priority) ok = mnl_attr_put_u32_check(nlh, limit, FRA_PRIORITY, req->priority);
  if (ok && req->has_fwmark) ok = mnl_attr_put_u32_check(nlh, limit, FRA_FWMARK, req->fwmark);
  if (ok && req->has_fwmask) ok = mnl_attr_put_u32_check(nlh, limit, FRA_FWMASK, req->fwmask);
  if (ok && req->iif) ok = attr_put_strz(nlh, limit, FRA_IIFNAME, req->iif);
  if (ok && req->oif) ok = attr_put_strz(nlh, limit, FRA_OIFNAME, req->oif);
  if (ok && table >= 256) ok = mnl_attr_put_u32_check(nlh, limit, FRA_TABLE, table);
  if (ok && req->has_suppress_prefixlen)
    ok = mnl_attr_put_u32_check(nlh, limit, FRA_SUPPRESS_PREFIXLEN, req->suppress_prefixlen);
  if (ok && frh->action == FR_ACT_GOTO)
    ok = mnl_attr_put_u32_check(nlh, limit, FRA_GOTO, req->goto_target);
  if (ok && req->protocol >= 0) ok = attr_put_u8(nlh, limit, FRA_PROTOCOL, (uint8_t)req->protocol);
  return ok ? 0 : -EMSGSIZE;
}

static int fill(struct nlmsghdr *nlh, size_t room, const void *req) {
  return cnet_rule_build(nlh, room, req);
}

int cnet_rule_add(struct cnet_netns *ns, const struct cnet_rule_req *req) {
  return cnet_nl_change(cnet_netns_rtnl(ns), RTM_NEWRULE, NLM_F_CREATE | NLM_F_EXCL, fill, req,
                        cnet_netns_errbuf(ns));
}

int cnet_rule_delete(struct cnet_netns *ns, const struct cnet_rule_req *req) {
  return cnet_nl_change(cnet_netns_rtnl(ns), RTM_DELRULE, 0, fill, req, cnet_netns_errbuf(ns));
}

struct filter {
  struct dump_caller caller;   /* first: see dump_int.h */
  int family;
  cnet_rule_fn fn;
};

static int each_cb(const struct nlmsghdr *nlh, void *data) {
  struct filter *f = data;
  struct cnet_rule r;
  /* A dump of every family also holds the multicast routing rules (families 128, 129). */
  if (cnet_rule_parse(nlh, &r) < 0 || (f->family && r.family != f->family)) return MNL_CB_OK;
  return dump_caller_rc(f->fn(&r, f->caller.data));
}

static int build_dump(struct cnet_nl *nl, void *data) {
  struct filter *f = data;
  struct nlmsghdr *nlh = cnet_nl_msg(nl, RTM_GETRULE, NLM_F_DUMP);
  if (nlh == NULL) return -ENOMEM;
  struct fib_rule_hdr *frh = mnl_nlmsg_put_extra_header(nlh, sizeof *frh);
  frh->family = (uint8_t)f->family;
  return 0;
}

int cnet_rule_list(struct cnet_netns *ns, int family, cnet_rule_fn fn, void (*reset)(void *data),
                   void *data) {
  struct filter f = {{reset, data}, family, fn};
  char *err = cnet_netns_errbuf(ns);
  err[0] = '\0';
  return cnet_nl_dump(cnet_netns_rtnl(ns), build_dump, each_cb, dump_caller_reset, &f, err);
}

static const struct cnet_name actions[] = {
  {FR_ACT_TO_TBL, "lookup"},       {FR_ACT_GOTO, "goto"},
  {FR_ACT_NOP, "nop"},             {FR_ACT_BLACKHOLE, "blackhole"},
  {FR_ACT_UNREACHABLE, "unreachable"}, {FR_ACT_PROHIBIT, "prohibit"},
};

const char *cnet_rule_action_name(uint8_t action) {
  return cnet_name_of(actions, CNET_NAMES_LEN(actions), action);
}

int cnet_rule_action_parse(const char *name) {
  return (int)cnet_name_value(actions, CNET_NAMES_LEN(actions), name);
}
