/* Interface addresses: see include/cnet/addr.h. */
#include "cnet/addr.h"
#include "cnet/names.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <linux/if_addr.h>
#include <linux/rtnetlink.h>

#include "rtnl/dump_int.h"

void cnet_addr_req_init(struct cnet_addr_req *req) {
  memset(req, 0, sizeof *req);
  req->scope = -1;
}

int cnet_addr_parse(const struct nlmsghdr *nlh, struct cnet_addr *out) {
  memset(out, 0, sizeof *out);
  out->valid = out->preferred = 0xffffffffu;
  if ((nlh->nlmsg_type != RTM_NEWADDR && nlh->nlmsg_type != RTM_DELADDR) || nlh->nlmsg_len < MNL_NLMSG_HDRLEN + sizeof(struct ifaddrmsg))
    return -EINVAL;
  const struct ifaddrmsg *ifa = mnl_nlmsg_get_payload(nlh);
  out->family = ifa->ifa_family;
  out->index = (int)ifa->ifa_index;
  out->prefix = ifa->ifa_prefixlen;
  out->scope = ifa->ifa_scope;
  out->flags = ifa->ifa_flags;
  size_t alen = cnet_ipaddr_len(ifa->ifa_family);
  if (alen == 0) return -EINVAL;
  const void *local = NULL, *address = NULL;
  const struct nlattr *a;
  mnl_attr_for_each(a, nlh, sizeof *ifa) {
    uint16_t len = mnl_attr_get_payload_len(a);
    switch (mnl_attr_get_type(a)) {
    case IFA_LOCAL: if (len >= alen) local = mnl_attr_get_payload(a); break;
    case IFA_ADDRESS: if (len >= alen) address = mnl_attr_get_payload(a); break;
    case IFA_BROADCAST: if (len >= alen) out->broadcast = mnl_attr_get_payload(a); break;
    case IFA_LABEL:
      if (mnl_attr_validate(a, MNL_TYPE_NUL_STRING) == 0) out->label = mnl_attr_get_str(a);
      break;
    case IFA_FLAGS: if (len >= 4) out->flags = mnl_attr_get_u32(a); break;
    case IFA_CACHEINFO:
      if (len >= sizeof(struct ifa_cacheinfo)) {
        const struct ifa_cacheinfo *ci = mnl_attr_get_payload(a);
        out->valid = ci->ifa_valid;
        out->preferred = ci->ifa_prefered;
      }
      break;
    default: break;
    }
  }
  out->address = local ? local : address;
  if (local && address && memcmp(local, address, alen) != 0) out->peer = address;
  return out->address ? 0 : -EINVAL;
}

int cnet_addr_build(struct nlmsghdr *nlh, size_t room, const struct cnet_addr_req *req) {
  int fam = req->addr.family;
  size_t alen = cnet_ipaddr_len(fam);
  if (alen == 0) return -EINVAL;
  if (req->broadcast && fam != AF_INET) return -EINVAL;
  if (req->broadcast == 1 && req->brd.family != AF_INET) return -EINVAL;
  if (req->label && strlen(req->label) >= 16) return -EINVAL;
  size_t limit = nlh->nlmsg_len + room;
  if (nlh->nlmsg_len + MNL_ALIGN(sizeof(struct ifaddrmsg)) > limit) return -EMSGSIZE;
  struct ifaddrmsg *ifa = mnl_nlmsg_put_extra_header(nlh, sizeof *ifa);
  ifa->ifa_family = (uint8_t)fam;
  ifa->ifa_prefixlen = req->addr.prefix;
  ifa->ifa_index = (uint32_t)req->index;
  ifa->ifa_scope = req->scope >= 0 ? (uint8_t)req->scope : 0;
  /* The header holds 8 flag bits; newer ones (noprefixroute, ...) need IFA_FLAGS, which the
   * kernel then reads instead of the header's. */
  ifa->ifa_flags = (uint8_t)req->flags;
  int ok = mnl_attr_put_check(nlh, limit, IFA_LOCAL, alen, req->addr.bytes) &&
           mnl_attr_put_check(nlh, limit, IFA_ADDRESS, alen, req->addr.bytes);
  if (ok && req->broadcast) {
    struct cnet_ipaddr brd = req->brd;
    if (req->broadcast == 2) cnet_ipaddr_host_bits(&req->addr, &brd);
    ok = mnl_attr_put_check(nlh, limit, IFA_BROADCAST, alen, brd.bytes);
  }
  if (ok && req->label) ok = mnl_attr_put_strz_check(nlh, limit, IFA_LABEL, req->label);
  if (ok && req->flags > 0xff) ok = mnl_attr_put_u32_check(nlh, limit, IFA_FLAGS, req->flags);
  if (ok && req->has_lifetime) {
    struct ifa_cacheinfo ci = {.ifa_prefered = req->preferred, .ifa_valid = req->valid};
    ok = mnl_attr_put_check(nlh, limit, IFA_CACHEINFO, sizeof ci, &ci);
  }
  return ok ? 0 : -EMSGSIZE;
}

static int fill(struct nlmsghdr *nlh, size_t room, const void *req) {
  return cnet_addr_build(nlh, room, req);
}

static int talk(struct cnet_netns *ns, uint16_t type, uint16_t flags,
                const struct cnet_addr_req *req) {
  return cnet_nl_change(cnet_netns_rtnl(ns), type, flags, fill, req, cnet_netns_errbuf(ns));
}

int cnet_addr_add(struct cnet_netns *ns, const struct cnet_addr_req *req, int replace) {
  return talk(ns, RTM_NEWADDR, NLM_F_CREATE | (replace ? NLM_F_REPLACE : NLM_F_EXCL), req);
}

int cnet_addr_delete(struct cnet_netns *ns, const struct cnet_addr_req *req) {
  return talk(ns, RTM_DELADDR, 0, req);
}

struct filter {
  struct dump_caller caller;   /* first: see dump_int.h */
  int family, index;
  cnet_addr_fn fn;
};

static int each_cb(const struct nlmsghdr *nlh, void *data) {
  struct filter *f = data;
  struct cnet_addr a;
  if (cnet_addr_parse(nlh, &a) < 0) return MNL_CB_OK;
  if ((f->family != AF_UNSPEC && a.family != f->family) || (f->index > 0 && a.index != f->index))
    return MNL_CB_OK;
  return dump_caller_rc(f->fn(&a, f->caller.data));
}

static int build_dump(struct cnet_nl *nl, void *data) {
  struct filter *f = data;
  struct nlmsghdr *nlh = cnet_nl_msg(nl, RTM_GETADDR, NLM_F_DUMP);
  if (nlh == NULL) return -ENOMEM;
  struct ifaddrmsg *ifa = mnl_nlmsg_put_extra_header(nlh, sizeof *ifa);
  ifa->ifa_family = (uint8_t)f->family; /* the kernel filters by family even without strict checks */
  ifa->ifa_index = f->index > 0 ? (uint32_t)f->index : 0; /* and by device with them (4.20+) */
  return 0;
}

int cnet_addr_list(struct cnet_netns *ns, int family, int index, cnet_addr_fn fn,
                   void (*reset)(void *data), void *data) {
  struct filter f = {{reset, data}, family, index, fn};
  char *err = cnet_netns_errbuf(ns);
  err[0] = '\0';
  struct cnet_nl *nl = cnet_netns_rtnl(ns);
  /* The kernel filters too (the callback checks again for kernels that do not). */
  return cnet_nl_dump_filtered(nl, index > 0, build_dump, each_cb, dump_caller_reset, &f, err);
}

/* Flushing: collect the addresses first (a dump cannot be interleaved with requests on the
 * same socket), then queue one RTM_DELADDR per address and send them together. */
struct collected {
  struct cnet_addr_req *v;
  unsigned n, cap;
};

static int collect(const struct cnet_addr *a, void *data) {
  struct collected *c = data;
  if (c->n == c->cap) {
    unsigned cap = c->cap ? c->cap * 2 : 16;
    struct cnet_addr_req *v = realloc(c->v, cap * sizeof *v);
    if (v == NULL) return -ENOMEM;
    c->v = v;
    c->cap = cap;
  }
  struct cnet_addr_req *r = &c->v[c->n++];
  cnet_addr_req_init(r);
  r->index = a->index;
  r->addr.family = a->family;
  r->addr.prefix = a->prefix;
  memcpy(r->addr.bytes, a->address, cnet_ipaddr_len(a->family));
  return 0;
}

static void collect_reset(void *data) { ((struct collected *)data)->n = 0; }

int cnet_addr_flush(struct cnet_netns *ns, int family, int index, unsigned *count) {
  if (count) *count = 0;
  if (index <= 0) return -EINVAL;
  struct collected c = {0};
  int rc = cnet_addr_list(ns, family, index, collect, collect_reset, &c);
  unsigned removed = 0;
  /* Deleting an IPv4 primary also removes its secondaries: those answer EADDRNOTAVAIL. */
  if (rc == 0)
    rc = cnet_nl_change_all(cnet_netns_rtnl(ns), RTM_DELADDR, 0, fill, c.v, sizeof *c.v, c.n,
                            -EADDRNOTAVAIL, &removed, cnet_netns_errbuf(ns));
  /* ...so when nothing failed, every address listed is gone. */
  if (count) *count = rc == 0 ? c.n : removed;
  free(c.v);
  return rc;
}

static const struct cnet_name addr_flags[] = {
  {IFA_F_SECONDARY, "secondary"},   {IFA_F_NODAD, "nodad"},
  {IFA_F_OPTIMISTIC, "optimistic"}, {IFA_F_DADFAILED, "dadfailed"},
  {IFA_F_HOMEADDRESS, "home"},      {IFA_F_DEPRECATED, "deprecated"},
  {IFA_F_TENTATIVE, "tentative"},   {IFA_F_PERMANENT, "permanent"},
  {IFA_F_MANAGETEMPADDR, "mngtmpaddr"}, {IFA_F_NOPREFIXROUTE, "noprefixroute"},
  {IFA_F_MCAUTOJOIN, "autojoin"},   {IFA_F_STABLE_PRIVACY, "stable_privacy"},
};

const char *cnet_addr_flag_name(int family, uint32_t bit) {
  /* One bit, two meanings: a secondary IPv4 address, a temporary (privacy) IPv6 one. */
  if (bit == IFA_F_SECONDARY && family == AF_INET6) return "temporary";
  return cnet_name_of(addr_flags, CNET_NAMES_LEN(addr_flags), bit);
}

long cnet_addr_flag_parse(const char *name) {
  if (strcmp(name, "temporary") == 0) return IFA_F_TEMPORARY;
  return cnet_name_value(addr_flags, CNET_NAMES_LEN(addr_flags), name);
}

static const struct cnet_name scopes[] = {
  {RT_SCOPE_UNIVERSE, "global"}, {RT_SCOPE_SITE, "site"}, {RT_SCOPE_LINK, "link"},
  {RT_SCOPE_HOST, "host"}, {RT_SCOPE_NOWHERE, "nowhere"},
};

const char *cnet_scope_name(uint8_t scope) {
  return cnet_name_of(scopes, CNET_NAMES_LEN(scopes), scope);
}

int cnet_scope_parse(const char *name) {
  if (strcmp(name, "universe") == 0) return RT_SCOPE_UNIVERSE;
  return (int)cnet_name_value(scopes, CNET_NAMES_LEN(scopes), name);
}
