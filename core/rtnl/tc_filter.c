/* Traffic-control filters: see include/cnet/tcfilter.h. The classifiers' options live in
 * tc_cls.c (u32's match language in tc_u32.c), the actions in tc_action.c. */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <linux/if_ether.h>
#include <linux/rtnetlink.h>

#include "netlink/nlattr_int.h"
#include "rtnl/tc_filter_int.h"

/* ---- names ---- */

int cnet_tc_filter_parse_parent(const char *text, uint32_t *out) {
  if (strcmp(text, "ingress") == 0) *out = CNET_TC_FILTER_INGRESS;
  else if (strcmp(text, "egress") == 0) *out = CNET_TC_FILTER_EGRESS;
  else if (strcmp(text, "root") == 0) *out = 0;
  /* tc's own "root" (ffff:ffff) finds the qdisc ffff:, the hooks: cnet means the root qdisc */
  else if (strchr(text, ':') == NULL || cnet_tc_parse_classid(text, out) < 0) return -EINVAL;
  return 0;
}

void cnet_tc_filter_format_parent(uint32_t parent, char *buf, size_t size) {
  if (parent == CNET_TC_FILTER_INGRESS) snprintf(buf, size, "ingress");
  else if (parent == CNET_TC_FILTER_EGRESS) snprintf(buf, size, "egress");
  else if (parent == 0) snprintf(buf, size, "root");
  else cnet_tc_format_classid(parent, buf, size);
}

static const struct {
  uint16_t proto;
  const char *name;
} protocols[] = {{ETH_P_ALL, "all"},        {ETH_P_IP, "ip"},          {ETH_P_IPV6, "ipv6"},
                 {ETH_P_ARP, "arp"},        {ETH_P_RARP, "rarp"},      {ETH_P_8021Q, "802.1Q"},
                 {ETH_P_8021AD, "802.1ad"}, {ETH_P_MPLS_UC, "mpls_uc"}, {ETH_P_MPLS_MC, "mpls_mc"},
                 {0x88cc, "lldp"}};
enum { NPROTOCOLS = sizeof protocols / sizeof protocols[0] };

int cnet_tc_parse_protocol(const char *text, uint16_t *out) {
  for (unsigned i = 0; i < NPROTOCOLS; i++)
    if (strcasecmp(protocols[i].name, text) == 0) {
      *out = protocols[i].proto;
      return 0;
    }
  if (!isdigit((unsigned char)text[0])) return -EINVAL;
  char *end;
  unsigned long v = strtoul(text, &end, 0);
  if (*end != '\0' || v > 0xffff) return -EINVAL;
  *out = (uint16_t)v;
  return 0;
}

const char *cnet_tc_protocol_name(uint16_t proto, char *buf, size_t size) {
  for (unsigned i = 0; i < NPROTOCOLS; i++)
    if (protocols[i].proto == proto) return protocols[i].name;
  snprintf(buf, size, "0x%04x", proto);
  return buf;
}

/* ---- requests ---- */

int cnet_tc_filter_build(struct nlmsghdr *nlh, size_t room, const struct cnet_tc_filter *f,
                         char *errmsg) {
  struct tcw w = {nlh, nlh->nlmsg_len + room, errmsg};
  if (errmsg) errmsg[0] = '\0';
  if (nlh->nlmsg_len + MNL_ALIGN(sizeof(struct tcmsg)) > w.limit) return -EMSGSIZE;
  struct tcmsg *t = mnl_nlmsg_put_extra_header(nlh, sizeof *t);
  t->tcm_family = AF_UNSPEC;
  t->tcm_ifindex = f->index;
  t->tcm_handle = f->handle;
  t->tcm_parent = f->parent;
  t->tcm_info = TC_H_MAKE((uint32_t)f->prio << 16, htons(f->protocol));
  int rc = 0;
  if (f->chain >= 0) {
    if (f->chain > 0xffffffffLL) return tcw_fail(&w, -EINVAL, "chain out of range");
    rc = tcw_put_u32(&w, TCA_CHAIN, (uint32_t)f->chain);
  }
  if (rc == 0 && f->kind != NULL) rc = tcw_put(&w, TCA_KIND, f->kind, strlen(f->kind) + 1);
  if (rc < 0 || f->kind == NULL || nlh->nlmsg_type == RTM_DELTFILTER) return rc;
  const struct tc_cls *cls = tc_cls_find(f->kind);
  if (cls != NULL) return cls->encode(&w, f);
  if (f->has_classid || f->nacts || f->nkeys || f->flower.given || f->flags)
    return tcw_fail(&w, -EINVAL, "cnet writes no options of filter kind %s", f->kind);
  return 0;
}

void cnet_tc_filter_action_kinds(const struct cnet_tc_filter *f, char *buf, size_t size) {
  buf[0] = '\0';
  for (unsigned i = 0; i < f->nacts; i++) {
    const char *m = cnet_tc_action_module(f->acts[i].kind);
    if (m == NULL || strstr(buf, m + 4) != NULL) continue;
    size_t n = strlen(buf);
    snprintf(buf + n, size - n, "%s%s", n ? " " : "", m + 4); /* "act_gact" -> "gact" */
  }
}

int cnet_tc_filter_explain(int err, const char *extack, const char *kind, const char *actions,
                           char *out) {
  const char *text = extack ? extack : "";
  if (err == -ENOENT && strstr(text, "classifier not found") != NULL && kind != NULL) {
    snprintf(out, CNET_ERRMSG_MAX,
             "filter kind %s is not available in this kernel (module cls_%s)", kind, kind);
    return -EOPNOTSUPP;
  }
  if (err == -ENOENT && strstr(text, "action module") != NULL && actions && actions[0]) {
    char names[256] = "", mods[256] = "";
    const char *p = actions;
    while (*p) { /* "gact mirred" -> "gact, mirred" and "act_gact, act_mirred" */
      size_t n = strcspn(p, " "), a = strlen(names), m = strlen(mods);
      snprintf(names + a, sizeof names - a, "%s%.*s", a ? ", " : "", (int)n, p);
      snprintf(mods + m, sizeof mods - m, "%sact_%.*s", m ? ", " : "", (int)n, p);
      p += n + (p[n] == ' ');
    }
    if (strchr(actions, ' ') == NULL)
      snprintf(out, CNET_ERRMSG_MAX, "action %s is not available in this kernel (module %s)",
               names, mods);
    else
      snprintf(out, CNET_ERRMSG_MAX,
               "one of the actions %s is not available in this kernel (modules %s)", names, mods);
    return -EOPNOTSUPP;
  }
  if (err == -EOPNOTSUPP && text[0] == '\0') {
    /* rtnetlink's answer to a message type no one registered: CONFIG_NET_CLS is off */
    snprintf(out, CNET_ERRMSG_MAX, "filters are not available in this kernel (CONFIG_NET_CLS)");
    return err;
  }
  if (out != extack) snprintf(out, CNET_ERRMSG_MAX, "%s", text);
  return err;
}

struct fillctx {
  const struct cnet_tc_filter *f;
  char *errmsg;
};

static int fill(struct nlmsghdr *nlh, size_t room, const void *data) {
  const struct fillctx *x = data;
  return cnet_tc_filter_build(nlh, room, x->f, x->errmsg);
}

int cnet_tc_filter_change(struct cnet_netns *ns, enum cnet_tc_op op,
                          const struct cnet_tc_filter *f) {
  /* tc's flags: replace is NLM_F_CREATE alone for filters, change none */
  static const uint16_t flags[] = {NLM_F_CREATE | NLM_F_EXCL, NLM_F_CREATE, 0, 0};
  char *err = cnet_netns_errbuf(ns);
  struct fillctx x = {f, err};
  uint16_t type = op == CNET_TC_DELETE ? RTM_DELTFILTER : RTM_NEWTFILTER;
  int rc = cnet_nl_change(cnet_netns_rtnl(ns), type, flags[op], fill, &x, err);
  if (rc < 0) {
    char acts[64];
    cnet_tc_filter_action_kinds(f, acts, sizeof acts);
    rc = cnet_tc_filter_explain(rc, err, f->kind, acts, err);
  }
  return rc;
}

/* ---- listing ---- */

int cnet_tc_filter_parse(const struct nlmsghdr *nlh, struct cnet_tc_filter *out) {
  memset(out, 0, offsetof(struct cnet_tc_filter, acts));
  memset(&out->flower, 0, sizeof out->flower);
  out->nkeys = 0; /* after acts: the memset above stops there */
  if ((nlh->nlmsg_type != RTM_NEWTFILTER && nlh->nlmsg_type != RTM_DELTFILTER) ||
      nlh->nlmsg_len < MNL_NLMSG_HDRLEN + sizeof(struct tcmsg))
    return -EINVAL;
  const struct tcmsg *t = mnl_nlmsg_get_payload(nlh);
  out->index = t->tcm_ifindex;
  out->handle = t->tcm_handle;
  out->parent = t->tcm_parent;
  out->prio = (uint16_t)(TC_H_MAJ(t->tcm_info) >> 16);
  out->protocol = ntohs((uint16_t)TC_H_MIN(t->tcm_info));
  struct attrs it = attrs_of_msg(nlh, sizeof *t);
  const struct nlattr *a, *opts = NULL;
  while ((a = next_attr(&it)) != NULL) {
    switch (attr_type(a)) {
    case TCA_KIND: out->kind = attr_str(a); break;
    case TCA_CHAIN: out->chain = attr_u32(a, 0); break;
    case TCA_OPTIONS: opts = a; break;
    default: break;
    }
  }
  if (out->kind == NULL) return -EINVAL;
  if (opts == NULL) return 1; /* the row announcing a classifier instance (prio, protocol) */
  const struct tc_cls *cls = tc_cls_find(out->kind);
  if (cls == NULL) return 0;
  if (cls->table_row && cls->table_row(out->handle)) return 1;
  cls->decode(opts, out);
  return 0;
}

enum { MAXPARENTS = 256 };

struct lister {
  cnet_tc_filter_fn fn;
  void *data;
  void (*reset)(void *data);
  int restarted;
  int index;
  uint32_t parent;              /* of the dump running */
  uint32_t parents[MAXPARENTS]; /* every: the places found */
  unsigned nparents;
};

static void sub_reset(void *data) {
  struct lister *x = data;
  x->restarted = 1;
  if (x->reset) x->reset(x->data);
}

static int each_cb(const struct nlmsghdr *nlh, void *data) {
  struct lister *x = data;
  struct cnet_tc_filter f;
  if (cnet_tc_filter_parse(nlh, &f) != 0) return MNL_CB_OK;
  int rc = x->fn(&f, x->data);
  if (rc != 0) return rc < 0 ? rc : -ECANCELED;
  return MNL_CB_OK;
}

static int build_dump(struct cnet_nl *nl, void *data) {
  struct lister *x = data;
  struct nlmsghdr *nlh = cnet_nl_msg(nl, RTM_GETTFILTER, NLM_F_DUMP);
  if (nlh == NULL) return -ENOMEM;
  struct tcmsg *t = mnl_nlmsg_put_extra_header(nlh, sizeof *t);
  t->tcm_family = AF_UNSPEC;
  t->tcm_ifindex = x->index;
  t->tcm_parent = x->parent;
  return 0;
}

static void add_parent(struct lister *x, uint32_t p) {
  for (unsigned i = 0; i < x->nparents; i++)
    if (x->parents[i] == p) return;
  if (x->nparents < MAXPARENTS) x->parents[x->nparents++] = p;
}

/* The places of a device that take filters: its hooks, its qdiscs with a handle, its
 * classes. */
static int place_cb(const struct cnet_tc_info *info, void *data) {
  struct lister *x = data;
  if (info->cls) add_parent(x, info->handle);
  else if (strcmp(info->kind, "clsact") == 0) {
    add_parent(x, CNET_TC_FILTER_INGRESS);
    add_parent(x, CNET_TC_FILTER_EGRESS);
  } else if (strcmp(info->kind, "ingress") == 0) {
    add_parent(x, CNET_TC_FILTER_INGRESS);
  } else if (info->handle != 0) {
    add_parent(x, info->handle);
  }
  return 0;
}

static void place_reset(void *data) { ((struct lister *)data)->nparents = 0; }

int cnet_tc_filter_list(struct cnet_netns *ns, int index, uint32_t parent, int every,
                        cnet_tc_filter_fn fn, void (*reset)(void *data), void *data) {
  if (index <= 0) return -EINVAL;
  struct lister *x = calloc(1, sizeof *x);
  if (x == NULL) return -ENOMEM;
  *x = (struct lister){.fn = fn, .data = data, .reset = reset, .index = index};
  char *err = cnet_netns_errbuf(ns);
  err[0] = '\0';
  int rc = 0;
  if (every) {
    rc = cnet_tc_list(ns, 0, index, place_cb, place_reset, x);
    if (rc == 0) rc = cnet_tc_list(ns, 1, index, place_cb, NULL, x);
  } else {
    add_parent(x, parent);
  }
  /* Dumps of several places: when one is retried (the caller's rows reset), the places
   * before it are listed again, a bounded number of times. */
  for (int round = 0; rc == 0; round++) {
    int again = 0;
    for (unsigned i = 0; i < x->nparents && rc == 0 && !again; i++) {
      x->parent = x->parents[i];
      x->restarted = 0;
      rc = cnet_nl_dump(cnet_netns_rtnl(ns), build_dump, each_cb, sub_reset, x, err);
      if (rc == -EOPNOTSUPP) { /* no classifiers in this kernel: nothing to list anywhere */
        err[0] = '\0';
        rc = 0;
        break;
      }
      again = x->restarted && i > 0;
    }
    if (!again) break;
    if (round == 3) rc = -EINTR;
    else if (reset) reset(data);
  }
  free(x);
  return rc;
}
