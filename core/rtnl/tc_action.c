/* Filter actions: gact (a verdict) and mirred (the packet, or a copy, to another device),
 * written as tc's m_gact.c and m_mirred.c write them and read back from listings. */
#include <errno.h>
#include <string.h>
#include <strings.h>
#include <linux/pkt_cls.h>
#include <linux/tc_act/tc_gact.h>
#include <linux/tc_act/tc_mirred.h>

#include "netlink/nlattr_int.h"
#include "rtnl/tc_filter_int.h"

/* tc's names; the first of a verdict is the one listings give */
static const struct {
  int verdict;
  const char *name;
} verdicts[] = {{TC_ACT_UNSPEC, "continue"}, {TC_ACT_OK, "pass"},     {TC_ACT_SHOT, "drop"},
                {TC_ACT_RECLASSIFY, "reclassify"}, {TC_ACT_PIPE, "pipe"},
                {TC_ACT_STOLEN, "stolen"},   {TC_ACT_TRAP, "trap"},   {TC_ACT_OK, "ok"},
                {TC_ACT_SHOT, "shot"}};
enum { NVERDICTS = sizeof verdicts / sizeof verdicts[0] };

int cnet_tc_verdict_parse(const char *name, int *out) {
  for (unsigned i = 0; i < NVERDICTS; i++)
    if (strcasecmp(verdicts[i].name, name) == 0) {
      *out = verdicts[i].verdict;
      return 0;
    }
  return -EINVAL;
}

const char *cnet_tc_verdict_name(int verdict) {
  for (unsigned i = 0; i < NVERDICTS; i++)
    if (verdicts[i].verdict == verdict) return verdicts[i].name;
  return NULL;
}

static const char *kind_name(int kind) {
  return kind == CNET_TC_ACT_GACT ? "gact" : kind == CNET_TC_ACT_MIRRED ? "mirred" : NULL;
}

const char *cnet_tc_action_module(int kind) {
  return kind == CNET_TC_ACT_GACT ? "act_gact" : kind == CNET_TC_ACT_MIRRED ? "act_mirred" : NULL;
}

/* The options nest of one action (tc marks this one NLA_F_NESTED, the others not). */
static int encode_one(struct tcw *w, const struct cnet_tc_action *a, unsigned n) {
  const char *kind = kind_name(a->kind);
  if (kind == NULL) return tcw_fail(w, -EINVAL, "action %u: a kind cnet does not write", n);
  struct nlattr *one = tcw_nest(w, (uint16_t)n);
  if (one == NULL || tcw_put(w, TCA_ACT_KIND, kind, strlen(kind) + 1) < 0) return -EMSGSIZE;
  struct nlattr *opts = tcw_nest(w, TCA_ACT_OPTIONS | NLA_F_NESTED);
  if (opts == NULL) return -EMSGSIZE;
  int rc;
  if (a->kind == CNET_TC_ACT_GACT) {
    struct tc_gact p;
    memset(&p, 0, sizeof p);
    p.action = a->verdict;
    rc = tcw_put(w, TCA_GACT_PARMS, &p, sizeof p);
  } else {
    if (a->ifindex <= 0) return tcw_fail(w, -EINVAL, "action %u: mirred needs a device", n);
    struct tc_mirred p;
    memset(&p, 0, sizeof p);
    p.action = a->verdict;
    p.eaction = a->ingress ? (a->mirror ? TCA_INGRESS_MIRROR : TCA_INGRESS_REDIR)
                           : (a->mirror ? TCA_EGRESS_MIRROR : TCA_EGRESS_REDIR);
    p.ifindex = (uint32_t)a->ifindex;
    rc = tcw_put(w, TCA_MIRRED_PARMS, &p, sizeof p);
  }
  if (rc < 0) return rc;
  tcw_end(w, opts);
  tcw_end(w, one);
  return 0;
}

int tc_actions_encode(struct tcw *w, uint16_t type, const struct cnet_tc_filter *f) {
  if (f->nacts == 0) return 0;
  if (f->nacts > CNET_TC_MAXACTS)
    return tcw_fail(w, -EINVAL, "at most %d actions", CNET_TC_MAXACTS);
  struct nlattr *all = tcw_nest(w, type);
  if (all == NULL) return -EMSGSIZE;
  for (unsigned i = 0; i < f->nacts; i++) {
    int rc = encode_one(w, &f->acts[i], i + 1);
    if (rc < 0) return rc;
  }
  tcw_end(w, all);
  return 0;
}

/* The parameters attribute (TCA_GACT_PARMS and TCA_MIRRED_PARMS are both 2) of opts, when
 * it holds at least len bytes. */
static const void *parms(const struct nlattr *opts, size_t len) {
  struct attrs it = attrs_nested(opts);
  const struct nlattr *a;
  while ((a = next_attr(&it)) != NULL)
    if (attr_type(a) == TCA_GACT_PARMS && attr_len(a) >= len) return attr_data(a);
  return NULL;
}

void tc_actions_decode(const struct nlattr *nest, struct cnet_tc_filter *f) {
  struct attrs it = attrs_nested(nest);
  const struct nlattr *one;
  while ((one = next_attr(&it)) != NULL && f->nacts < CNET_TC_MAXACTS) {
    struct cnet_tc_action *a = &f->acts[f->nacts];
    memset(a, 0, sizeof *a);
    const struct nlattr *x, *opts = NULL;
    struct attrs in = attrs_nested(one);
    while ((x = next_attr(&in)) != NULL) {
      if (attr_type(x) == TCA_ACT_KIND) a->name = attr_str(x);
      else if (attr_type(x) == TCA_ACT_OPTIONS) opts = x;
    }
    if (a->name == NULL) continue;
    a->kind = CNET_TC_ACT_OTHER;
    if (opts != NULL && strcmp(a->name, "gact") == 0) {
      struct tc_gact p;
      const void *d = parms(opts, sizeof p);
      if (d != NULL) {
        memcpy(&p, d, sizeof p);
        a->kind = CNET_TC_ACT_GACT;
        a->verdict = p.action;
      }
    } else if (opts != NULL && strcmp(a->name, "mirred") == 0) {
      struct tc_mirred p;
      const void *d = parms(opts, sizeof p);
      if (d != NULL) {
        memcpy(&p, d, sizeof p);
        a->kind = CNET_TC_ACT_MIRRED;
        a->verdict = p.action;
        a->mirror = p.eaction == TCA_EGRESS_MIRROR || p.eaction == TCA_INGRESS_MIRROR;
        a->ingress = p.eaction == TCA_INGRESS_MIRROR || p.eaction == TCA_INGRESS_REDIR;
        a->ifindex = (int)p.ifindex;
      }
    }
    f->nacts++;
  }
}
