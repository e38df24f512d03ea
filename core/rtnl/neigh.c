/* Neighbours and bridge FDB entries: see include/cnet/neigh.h. */
#include "cnet/neigh.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <linux/neighbour.h>
#include <linux/rtnetlink.h>

#include "cnet/names.h"
#include "netlink/nlattr_int.h"
#include "rtnl/dump_int.h"

void cnet_neigh_req_init(struct cnet_neigh_req *req) {
  memset(req, 0, sizeof *req);
  req->vlan = req->port = -1;
  req->vni = req->src_vni = -1;
}

int cnet_neigh_parse(const struct nlmsghdr *nlh, struct cnet_neigh *out) {
  memset(out, 0, sizeof *out);
  out->vlan = out->port = out->link_netnsid = -1;
  out->vni = out->src_vni = -1;
  if ((nlh->nlmsg_type != RTM_NEWNEIGH && nlh->nlmsg_type != RTM_DELNEIGH) ||
      nlh->nlmsg_len < MNL_NLMSG_HDRLEN + sizeof(struct ndmsg))
    return -EINVAL;
  const struct ndmsg *ndm = mnl_nlmsg_get_payload(nlh);
  out->family = ndm->ndm_family;
  out->index = ndm->ndm_ifindex;
  out->state = ndm->ndm_state;
  out->flags = ndm->ndm_flags;
  struct attrs it = attrs_of_msg(nlh, sizeof *ndm);
  const struct nlattr *a;
  while ((a = next_attr(&it)) != NULL) {
    uint16_t len = attr_len(a);
    const void *p = attr_data(a);
    uint16_t u16;
    switch (attr_type(a)) {
    case NDA_DST:
      if (len == 4 || len == 16) {
        out->dst = p;
        out->dst_family = len == 4 ? AF_INET : AF_INET6;
      }
      break;
    case NDA_LLADDR:
      if (len > 0) {
        out->lladdr = p;
        out->lladdr_len = len;
      }
      break;
    case NDA_VLAN:
      if (len >= 2) {
        memcpy(&u16, p, 2);
        out->vlan = u16;
      }
      break;
    case NDA_PORT:
      if (len >= 2) {
        memcpy(&u16, p, 2);
        out->port = ntohs(u16);
      }
      break;
    case NDA_VNI: if (len >= 4) out->vni = attr_u32(a, 0); break;
    case NDA_SRC_VNI: if (len >= 4) out->src_vni = attr_u32(a, 0); break;
    case NDA_IFINDEX: out->via = (int)attr_u32(a, 0); break;
    case NDA_MASTER: out->master = (int)attr_u32(a, 0); break;
    case NDA_LINK_NETNSID: if (len >= 4) out->link_netnsid = (int)attr_u32(a, 0); break;
    case NDA_NH_ID: out->nhid = attr_u32(a, 0); break;
    case NDA_FLAGS_EXT: out->ext_flags = attr_u32(a, 0); break;
    default: break;
    }
  }
  return 0;
}

void cnet_neigh_req_of(const struct cnet_neigh *e, struct cnet_neigh_req *req) {
  cnet_neigh_req_init(req);
  req->family = e->family;
  req->index = e->index;
  req->flags = e->flags & NTF_PROXY;
  if (e->family == AF_BRIDGE) req->flags = e->master > 0 ? NTF_MASTER : NTF_SELF;
  if (e->dst) {
    req->dst.family = e->dst_family;
    req->dst.prefix = (uint8_t)(cnet_ipaddr_len(e->dst_family) * 8);
    memcpy(req->dst.bytes, e->dst, cnet_ipaddr_len(e->dst_family));
  }
  if (e->family == AF_BRIDGE && e->lladdr) {
    req->lladdr_len = e->lladdr_len > CNET_LLADDR_MAX ? CNET_LLADDR_MAX : e->lladdr_len;
    memcpy(req->lladdr, e->lladdr, req->lladdr_len);
  }
  req->vlan = e->vlan;
  req->port = e->port;
  req->vni = e->vni;
  req->src_vni = e->src_vni;
  req->via = e->via;
}

int cnet_neigh_build(struct nlmsghdr *nlh, size_t room, const struct cnet_neigh_req *req) {
  int fam = req->family ? req->family : req->dst.family;
  if (fam == 0 || (fam != AF_BRIDGE && req->dst.family != fam)) return -EINVAL;
  if (req->vni > 0xffffff || req->src_vni > 0xffffff || req->lladdr_len > CNET_LLADDR_MAX)
    return -EINVAL;
  size_t limit = nlh->nlmsg_len + room;
  if (nlh->nlmsg_len + MNL_ALIGN(sizeof(struct ndmsg)) > limit) return -EMSGSIZE;
  struct ndmsg *ndm = mnl_nlmsg_put_extra_header(nlh, sizeof *ndm);
  ndm->ndm_family = (uint8_t)fam;
  ndm->ndm_ifindex = req->index;
  ndm->ndm_state = req->state;
  ndm->ndm_flags = req->flags;
  int ok = 1;
  if (req->dst.family)
    ok = mnl_attr_put_check(nlh, limit, NDA_DST, cnet_ipaddr_len(req->dst.family), req->dst.bytes);
  if (ok && req->lladdr_len) ok = attr_put(nlh, limit, NDA_LLADDR, req->lladdr_len, req->lladdr);
  if (ok && req->vlan >= 0) ok = attr_put_u16(nlh, limit, NDA_VLAN, (uint16_t)req->vlan);
  if (ok && req->port >= 0) ok = attr_put_u16(nlh, limit, NDA_PORT, htons((uint16_t)req->port));
  if (ok && req->vni >= 0) ok = mnl_attr_put_u32_check(nlh, limit, NDA_VNI, (uint32_t)req->vni);
  if (ok && req->src_vni >= 0)
    ok = mnl_attr_put_u32_check(nlh, limit, NDA_SRC_VNI, (uint32_t)req->src_vni);
  if (ok && req->via > 0) ok = mnl_attr_put_u32_check(nlh, limit, NDA_IFINDEX, (uint32_t)req->via);
  if (ok && req->ext_flags) ok = mnl_attr_put_u32_check(nlh, limit, NDA_FLAGS_EXT, req->ext_flags);
  return ok ? 0 : -EMSGSIZE;
}

static int fill(struct nlmsghdr *nlh, size_t room, const void *req) {
  return cnet_neigh_build(nlh, room, req);
}

int cnet_neigh_add(struct cnet_netns *ns, const struct cnet_neigh_req *req,
                   enum cnet_neigh_mode mode) {
  uint16_t flags = NLM_F_CREATE | (mode == CNET_NEIGH_REPLACE  ? NLM_F_REPLACE
                                   : mode == CNET_NEIGH_APPEND ? NLM_F_APPEND
                                                               : NLM_F_EXCL);
  return cnet_nl_change(cnet_netns_rtnl(ns), RTM_NEWNEIGH, flags, fill, req,
                        cnet_netns_errbuf(ns));
}

int cnet_neigh_delete(struct cnet_netns *ns, const struct cnet_neigh_req *req) {
  return cnet_nl_change(cnet_netns_rtnl(ns), RTM_DELNEIGH, 0, fill, req, cnet_netns_errbuf(ns));
}

/* ---- states ---- */

/* Strongest first: the order in which a state with several bits is named. */
static const struct cnet_name ip_states[] = {
  {NUD_PERMANENT, "permanent"}, {NUD_NOARP, "noarp"},   {NUD_REACHABLE, "reachable"},
  {NUD_STALE, "stale"},         {NUD_DELAY, "delay"},   {NUD_PROBE, "probe"},
  {NUD_FAILED, "failed"},       {NUD_INCOMPLETE, "incomplete"}, {CNET_NUD_NONE, "none"},
};
static const struct cnet_name fdb_states[] = {
  {NUD_PERMANENT, "permanent"}, {NUD_NOARP, "static"}, {NUD_STALE, "stale"},
  {NUD_REACHABLE, "dynamic"},
};

/* The table of family's state names, and its length. */
static const struct cnet_name *states_of(int family, size_t *n) {
  *n = family == AF_BRIDGE ? CNET_NAMES_LEN(fdb_states) : CNET_NAMES_LEN(ip_states);
  return family == AF_BRIDGE ? fdb_states : ip_states;
}

uint32_t cnet_neigh_state_bit(int family, uint16_t state) {
  size_t n;
  const struct cnet_name *t = states_of(family, &n);
  /* every entry but the last, which stands for "no other bit" */
  for (size_t i = 0; i + 1 < n; i++)
    if (state & t[i].value) return t[i].value;
  return t[n - 1].value;
}

const char *cnet_neigh_state_name(int family, uint16_t state) {
  uint32_t bit = cnet_neigh_state_bit(family, state);
  if (family != AF_BRIDGE && bit == CNET_NUD_NONE && state != 0) return NULL;
  size_t n;
  const struct cnet_name *t = states_of(family, &n);
  return cnet_name_of(t, n, bit);
}

long cnet_neigh_state_parse(int family, const char *name) {
  size_t n;
  const struct cnet_name *t = states_of(family, &n);
  return cnet_name_value(t, n, name);
}

long cnet_neigh_state_for_add(int family, const char *name) {
  long bit = cnet_neigh_state_parse(family, name);
  if (bit < 0) return bit;
  if (family != AF_BRIDGE) return bit == CNET_NUD_NONE ? 0 : bit;
  switch (bit) {
  case NUD_PERMANENT: return NUD_NOARP | NUD_PERMANENT;
  case NUD_NOARP: return NUD_NOARP | NUD_REACHABLE;
  case NUD_REACHABLE: return NUD_REACHABLE;
  default: return -EINVAL;
  }
}

/* ---- listing ---- */

struct filter {
  struct dump_caller caller;   /* first: see dump_int.h */
  const struct cnet_neigh_filter *f;
  cnet_neigh_fn fn;
};

/* What the kernel may not have filtered (an old kernel ignores the dump's filters). */
static int takes(const struct cnet_neigh_filter *f, const struct cnet_neigh *e) {
  if (f->family == AF_BRIDGE) {
    if (e->family != AF_BRIDGE) return 0;
  } else {
    if (e->family != AF_INET && e->family != AF_INET6) return 0;
    if (f->family != AF_UNSPEC && e->family != f->family) return 0;
    if (!(e->flags & NTF_PROXY) != !f->proxy) return 0;
  }
  if (f->index > 0 && e->index != f->index) return 0;
  if (f->vlan > 0 && e->vlan != f->vlan) return 0;
  if (f->states && !(f->states & cnet_neigh_state_bit(e->family, e->state))) return 0;
  return 1;
}

static int each_cb(const struct nlmsghdr *nlh, void *data) {
  struct filter *x = data;
  struct cnet_neigh e;
  if (cnet_neigh_parse(nlh, &e) < 0 || !takes(x->f, &e)) return MNL_CB_OK;
  return dump_caller_rc(x->fn(&e, x->caller.data));
}

static int build_dump(struct cnet_nl *nl, void *data) {
  const struct cnet_neigh_filter *f = ((struct filter *)data)->f;
  struct nlmsghdr *nlh = cnet_nl_msg(nl, RTM_GETNEIGH, NLM_F_DUMP);
  if (nlh == NULL) return -ENOMEM;
  size_t limit = nlh->nlmsg_len + cnet_nl_room(nl);
  struct ndmsg *ndm = mnl_nlmsg_put_extra_header(nlh, sizeof *ndm);
  ndm->ndm_family = (uint8_t)f->family;
  int ok = 1;
  if (f->family == AF_BRIDGE) {
    /* The FDB dump takes the port in the header and the bridge as NDA_MASTER. */
    ndm->ndm_ifindex = f->index;
    if (f->master > 0) ok = mnl_attr_put_u32_check(nlh, limit, NDA_MASTER, (uint32_t)f->master);
  } else {
    /* The neighbour dump wants a zero header but for NTF_PROXY, and the device as NDA_IFINDEX. */
    if (f->proxy) ndm->ndm_flags = NTF_PROXY;
    if (f->index > 0) ok = mnl_attr_put_u32_check(nlh, limit, NDA_IFINDEX, (uint32_t)f->index);
  }
  return ok ? 0 : -EMSGSIZE;
}

int cnet_neigh_list(struct cnet_netns *ns, const struct cnet_neigh_filter *f, cnet_neigh_fn fn,
                    void (*reset)(void *data), void *data) {
  struct filter x = {{reset, data}, f, fn};
  char *err = cnet_netns_errbuf(ns);
  err[0] = '\0';
  int strict = f->index > 0 || f->master > 0;
  return cnet_nl_dump_filtered(cnet_netns_rtnl(ns), strict, build_dump, each_cb, dump_caller_reset,
                               &x, err);
}

/* ---- flush: collect, then delete each ---- */

struct collected {
  struct cnet_neigh_req *v;
  unsigned n, cap;
};

static int collect(const struct cnet_neigh *e, void *data) {
  struct collected *c = data;
  if (c->n == c->cap) {
    unsigned cap = c->cap ? c->cap * 2 : 64;
    struct cnet_neigh_req *v = realloc(c->v, cap * sizeof *v);
    if (v == NULL) return -ENOMEM;
    c->v = v;
    c->cap = cap;
  }
  cnet_neigh_req_of(e, &c->v[c->n++]);
  return 0;
}

static void collect_reset(void *data) { ((struct collected *)data)->n = 0; }

int cnet_neigh_flush(struct cnet_netns *ns, const struct cnet_neigh_filter *f,
                     unsigned *count) {
  if (count) *count = 0;
  struct collected c = {0};
  int rc = cnet_neigh_list(ns, f, collect, collect_reset, &c);
  unsigned done = 0;
  /* An entry may go away on its own between the dump and its delete: not an error. */
  if (rc == 0)
    rc = cnet_nl_change_all(cnet_netns_rtnl(ns), RTM_DELNEIGH, 0, fill, c.v, sizeof *c.v, c.n,
                            -ENOENT, &done, cnet_netns_errbuf(ns));
  if (count) *count = done;
  free(c.v);
  return rc;
}
