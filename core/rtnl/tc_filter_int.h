/* Inside traffic-control filters: the classifiers' option codecs (tc_cls.c) and the actions'
 * (tc_action.c), shared with tc_filter.c. Writing goes through tc_int.h's tcw helpers. */
#ifndef CNET_TC_FILTER_INT_H
#define CNET_TC_FILTER_INT_H

#include "cnet/tcfilter.h"
#include "rtnl/tc_int.h"

/* A classifier cnet knows: its options written into TCA_OPTIONS (or nothing, as tc when
 * none are given) and read back; table_row says which of its rows are not filters (u32's
 * hash tables). */
struct tc_cls {
  const char *name;
  int (*encode)(struct tcw *w, const struct cnet_tc_filter *f);
  void (*decode)(const struct nlattr *opts, struct cnet_tc_filter *f);
  int (*table_row)(uint32_t handle);
};
const struct tc_cls *tc_cls_find(const char *name);

/* The actions of f as tc writes them: a nest `type` holding one nest per action (1, 2,
 * ...) with its kind and its options. 0, -EINVAL with w->err, -EMSGSIZE. */
int tc_actions_encode(struct tcw *w, uint16_t type, const struct cnet_tc_filter *f);
/* Reads such a nest into f->acts. */
void tc_actions_decode(const struct nlattr *nest, struct cnet_tc_filter *f);

#endif
