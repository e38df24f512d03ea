/* Policy routing rules (RTM_*RULE, `ip rule`): decode, build, add, delete, list. */
#ifndef CNET_RULE_H
#define CNET_RULE_H

#include <stdint.h>
#include <libmnl/libmnl.h>

#include "cnet/ipaddr.h"
#include "cnet/netns.h"

/* One rule as the kernel reports it; pointers point into the message given to
 * cnet_rule_parse. Optional numbers come with a has_ flag. */
struct cnet_rule {
  int family;                 /* AF_INET / AF_INET6 (other FIB rule families are skipped) */
  uint8_t src_len, dst_len, tos;
  uint8_t action;             /* FR_ACT_* */
  uint32_t flags;             /* FIB_RULE_* (INVERT: "not", UNRESOLVED: goto target missing) */
  uint32_t table;             /* FRA_TABLE, else the header's */
  const void *src, *dst;      /* FRA_SRC / FRA_DST; NULL: any ("all") */
  const char *iif, *oif;      /* FRA_IIFNAME / FRA_OIFNAME, or NULL */
  int has_priority, has_fwmark, has_fwmask, has_goto, has_suppress_prefixlen;
  uint32_t priority, fwmark, fwmask, goto_target, suppress_prefixlen;
  int protocol;               /* FRA_PROTOCOL, -1 when absent */
};

/* Decodes an RTM_NEWRULE message: 0 or -EINVAL. */
int cnet_rule_parse(const struct nlmsghdr *nlh, struct cnet_rule *out);

/* What to add or delete. Start from cnet_rule_req_init. */
struct cnet_rule_req {
  int family;                 /* AF_INET / AF_INET6; 0: from src/dst, else AF_INET */
  struct cnet_ipaddr src, dst;/* family 0: any */
  const char *iif, *oif;      /* device names (the kernel matches names, present or not) */
  int has_priority, has_fwmark, has_fwmask, has_suppress_prefixlen;
  uint32_t priority, fwmark, fwmask, suppress_prefixlen;
  uint32_t table;             /* 0: unset (an add that looks up gets main, as ip does) */
  int action;                 /* FR_ACT_*; -1: unset (add: lookup; delete: any) */
  uint32_t goto_target;       /* with FR_ACT_GOTO: the priority to jump to */
  int invert;                 /* FIB_RULE_INVERT ("not") */
  int tos;                    /* -1: unset */
  int protocol;               /* -1: unset */
};
void cnet_rule_req_init(struct cnet_rule_req *req);

/* Fills an RTM_NEWRULE/RTM_DELRULE (type taken from nlh). Returns 0, -EINVAL (families
 * disagree, an interface name too long) or -EMSGSIZE. */
int cnet_rule_build(struct nlmsghdr *nlh, size_t room, const struct cnet_rule_req *req);

/* add: -EEXIST when an equal rule exists; delete: -ENOENT when none matches (the fields set
 * narrow the match; the first matching rule goes). Deferred inside a batch. */
int cnet_rule_add(struct cnet_netns *ns, const struct cnet_rule_req *req);
int cnet_rule_delete(struct cnet_netns *ns, const struct cnet_rule_req *req);

/* Every rule of family (AF_UNSPEC: IPv4 and IPv6), in the kernel's order (by priority).
 * fn/reset as for routes. */
typedef int (*cnet_rule_fn)(const struct cnet_rule *r, void *data);
int cnet_rule_list(struct cnet_netns *ns, int family, cnet_rule_fn fn, void (*reset)(void *data),
                   void *data);

/* Action names: "lookup", "goto", "nop", "blackhole", "unreachable", "prohibit". name returns
 * NULL for another value; parse returns FR_ACT_* or -EINVAL. */
const char *cnet_rule_action_name(uint8_t action);
int cnet_rule_action_parse(const char *name);

#endif
