/* Traffic control requests and listings: see include/cnet/tc.h. The kinds' options live in
 * tc_shaper.c, tc_netem.c and tc_queue.c; values and tc's arithmetic in tc_units.c. */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <linux/gen_stats.h>
#include <linux/rtnetlink.h>

#include "rtnl/tc_int.h"

static const struct cnet_tc_kind *const kinds[] = {
    &tc_kind_tbf,   &tc_kind_htb,        &tc_kind_pfifo,     &tc_kind_bfifo,
    &tc_kind_pfifo_fast, &tc_kind_ingress, &tc_kind_clsact,  &tc_kind_netem,
    &tc_kind_fq_codel, &tc_kind_sfq,     &tc_kind_prio,      &tc_kind_fq,
    &tc_kind_htb_class};
enum { NKINDS = sizeof kinds / sizeof kinds[0] };

const struct cnet_tc_kind *cnet_tc_kind_find(const char *name, int cls) {
  for (unsigned i = 0; i < NKINDS; i++)
    if (kinds[i]->cls == (cls != 0) && strcmp(kinds[i]->name, name) == 0) return kinds[i];
  return NULL;
}

const char *cnet_tc_kind_name(const struct cnet_tc_kind *k) { return k->name; }
const char *cnet_tc_kind_module(const struct cnet_tc_kind *k) { return k->module; }

unsigned cnet_tc_kind_nfields(const struct cnet_tc_kind *k) { return k->nfields; }

const struct cnet_tc_field *cnet_tc_kind_field_at(const struct cnet_tc_kind *k, unsigned i) {
  return i < k->nfields ? &k->fields[i].pub : NULL;
}

int cnet_tc_kind_field(const struct cnet_tc_kind *k, const char *name) {
  for (unsigned i = 0; i < k->nfields; i++)
    if (strcmp(k->fields[i].pub.name, name) == 0) return (int)i;
  return -1;
}

const char *cnet_tc_kind_nth(unsigned n, int *cls) {
  if (n >= NKINDS) return NULL;
  if (cls) *cls = kinds[n]->cls;
  return kinds[n]->name;
}

/* ---- requests ---- */

static int is_hook(const struct cnet_tc_kind *k) {
  return k == &tc_kind_ingress || k == &tc_kind_clsact;
}

int cnet_tc_build(struct nlmsghdr *nlh, size_t room, const struct cnet_tc_req *req, char *errmsg) {
  struct tcw w = {nlh, nlh->nlmsg_len + room, errmsg};
  if (errmsg) errmsg[0] = '\0';
  if (nlh->nlmsg_len + MNL_ALIGN(sizeof(struct tcmsg)) > w.limit) return -EMSGSIZE;
  struct tcmsg *t = mnl_nlmsg_put_extra_header(nlh, sizeof *t);
  t->tcm_family = AF_UNSPEC;
  t->tcm_ifindex = req->index;
  t->tcm_handle = req->handle;
  t->tcm_parent = req->parent;
  const struct cnet_tc_kind *k = req->kind;
  if (k == NULL) return 0;
  if (is_hook(k)) { /* their place is fixed: the ingress hook, handle ffff: */
    t->tcm_parent = CNET_TC_INGRESS;
    t->tcm_handle = 0xffff0000u;
  }
  int rc = tcw_put(&w, TCA_KIND, k->name, strlen(k->name) + 1);
  int del = nlh->nlmsg_type == RTM_DELQDISC || nlh->nlmsg_type == RTM_DELTCLASS;
  if (rc < 0 || del) return rc;
  if (req->opts != NULL) {
    for (unsigned i = 0; i < k->nfields; i++)
      if (tc_given(req->opts, i) && k->fields[i].pub.out_only)
        return tcw_fail(&w, -EINVAL, "%s: '%s' is reported by the kernel, not set", k->name,
                        k->fields[i].pub.name);
    if (req->opts->given >> k->nfields)
      return tcw_fail(&w, -EINVAL, "%s: an option of another kind", k->name);
  }
  if (k->encode == NULL) {
    if (req->opts != NULL && req->opts->given != 0)
      return tcw_fail(&w, -EINVAL, "%s takes no options", k->name);
    return 0;
  }
  return k->encode(&w, k, req->opts);
}

int cnet_tc_explain(int err, const char *extack, const char *kind, char *out) {
  const struct cnet_tc_kind *k = kind ? cnet_tc_kind_find(kind, 0) : NULL;
  if (err == -ENOENT && extack != NULL && strstr(extack, "kind is unknown") != NULL && kind) {
    char module[64];
    snprintf(module, sizeof module, "%s", k ? k->module : "");
    if (module[0] == '\0') snprintf(module, sizeof module, "sch_%s", kind);
    snprintf(out, CNET_ERRMSG_MAX, "qdisc kind %s is not available in this kernel (module %s)",
             kind, module);
    return -EOPNOTSUPP;
  }
  if (out != extack) snprintf(out, CNET_ERRMSG_MAX, "%s", extack ? extack : "");
  return err;
}

struct fillctx {
  const struct cnet_tc_req *req;
  char *errmsg;
};

static int fill(struct nlmsghdr *nlh, size_t room, const void *data) {
  const struct fillctx *f = data;
  return cnet_tc_build(nlh, room, f->req, f->errmsg);
}

int cnet_tc_change(struct cnet_netns *ns, int cls, enum cnet_tc_op op,
                   const struct cnet_tc_req *req) {
  static const uint16_t flags[] = {NLM_F_CREATE | NLM_F_EXCL, NLM_F_CREATE | NLM_F_REPLACE, 0, 0};
  uint16_t type = op == CNET_TC_DELETE ? (cls ? RTM_DELTCLASS : RTM_DELQDISC)
                                       : (cls ? RTM_NEWTCLASS : RTM_NEWQDISC);
  char *err = cnet_netns_errbuf(ns);
  struct fillctx f = {req, err};
  int rc = cnet_nl_change(cnet_netns_rtnl(ns), type, flags[op], fill, &f, err);
  if (rc < 0 && !cls && req->kind) rc = cnet_tc_explain(rc, err, req->kind->name, err);
  return rc;
}

/* ---- listing ---- */

static void parse_stats2(const struct nlattr *nest, struct cnet_tc_stats *s) {
  const struct nlattr *a;
  mnl_attr_for_each_nested(a, nest) {
    size_t n = mnl_attr_get_payload_len(a);
    const void *d = mnl_attr_get_payload(a);
    if (mnl_attr_get_type(a) == TCA_STATS_BASIC && n >= 12) {
      struct gnet_stats_basic b;
      memcpy(&b, d, 12);
      s->bytes = b.bytes;
      if (s->packets == 0) s->packets = b.packets;
      s->present = 1;
    } else if (mnl_attr_get_type(a) == TCA_STATS_PKT64 && n >= 8) {
      s->packets = mnl_attr_get_u64(a); /* the full count where the kernel has one */
    } else if (mnl_attr_get_type(a) == TCA_STATS_QUEUE && n >= sizeof(struct gnet_stats_queue)) {
      struct gnet_stats_queue q;
      memcpy(&q, d, sizeof q);
      s->qlen = q.qlen;
      s->backlog = q.backlog;
      s->drops = q.drops;
      s->requeues = q.requeues;
      s->overlimits = q.overlimits;
      s->present = 1;
    }
  }
}

int cnet_tc_parse(const struct nlmsghdr *nlh, struct cnet_tc_info *out) {
  memset(out, 0, sizeof *out);
  uint16_t t = nlh->nlmsg_type;
  if ((t != RTM_NEWQDISC && t != RTM_DELQDISC && t != RTM_NEWTCLASS && t != RTM_DELTCLASS) ||
      nlh->nlmsg_len < MNL_NLMSG_HDRLEN + sizeof(struct tcmsg))
    return -EINVAL;
  const struct tcmsg *tcm = mnl_nlmsg_get_payload(nlh);
  out->cls = t == RTM_NEWTCLASS || t == RTM_DELTCLASS;
  out->index = tcm->tcm_ifindex;
  out->handle = tcm->tcm_handle;
  out->parent = tcm->tcm_parent;
  const struct nlattr *a, *opts = NULL;
  mnl_attr_for_each(a, nlh, sizeof *tcm) {
    switch (mnl_attr_get_type(a)) {
    case TCA_KIND:
      if (mnl_attr_validate(a, MNL_TYPE_NUL_STRING) == 0) out->kind = mnl_attr_get_str(a);
      break;
    case TCA_OPTIONS: opts = a; break;
    case TCA_STATS2: parse_stats2(a, &out->stats); break;
    default: break;
    }
  }
  if (out->kind == NULL) return -EINVAL;
  out->known = cnet_tc_kind_find(out->kind, out->cls);
  if (out->known && out->known->decode && opts) out->known->decode(opts, out->known, out);
  return 0;
}

struct filter {
  int cls, index;
  cnet_tc_fn fn;
  void *data;
  void (*reset)(void *data);
};

static void filter_reset(void *data) {
  struct filter *f = data;
  if (f->reset) f->reset(f->data);
}

static int each_cb(const struct nlmsghdr *nlh, void *data) {
  struct filter *f = data;
  struct cnet_tc_info info;
  if (cnet_tc_parse(nlh, &info) < 0 || (f->index > 0 && info.index != f->index)) return MNL_CB_OK;
  int rc = f->fn(&info, f->data);
  if (rc != 0) return rc < 0 ? rc : -ECANCELED;
  return MNL_CB_OK;
}

static int build_dump(struct cnet_nl *nl, void *data) {
  struct filter *f = data;
  struct nlmsghdr *nlh = cnet_nl_msg(nl, f->cls ? RTM_GETTCLASS : RTM_GETQDISC, NLM_F_DUMP);
  if (nlh == NULL) return -ENOMEM;
  struct tcmsg *t = mnl_nlmsg_put_extra_header(nlh, sizeof *t);
  t->tcm_family = AF_UNSPEC;
  t->tcm_ifindex = f->index > 0 ? f->index : 0; /* classes are dumped per device */
  return 0;
}

int cnet_tc_list(struct cnet_netns *ns, int cls, int index, cnet_tc_fn fn,
                 void (*reset)(void *data), void *data) {
  if (cls && index <= 0) return -EINVAL;
  struct filter f = {cls, index, fn, data, reset};
  char *err = cnet_netns_errbuf(ns);
  err[0] = '\0';
  return cnet_nl_dump(cnet_netns_rtnl(ns), build_dump, each_cb, filter_reset, &f, err);
}
