/* Traffic-control filters (RTM_*TFILTER): classifiers attached to a qdisc, a class or a
 * clsact hook, with their actions, encoded the way iproute2's `tc filter` encodes them (the
 * same bytes for the same command). Classifiers: matchall, u32, flower; actions: gact
 * (pass, drop, ...) and mirred (redirect, mirror). */
#ifndef CNET_TCFILTER_H
#define CNET_TCFILTER_H

#include <stddef.h>
#include <stdint.h>
#include <libmnl/libmnl.h>

#include "cnet/ipaddr.h"
#include "cnet/netns.h"
#include "cnet/tc.h"

/* The clsact hooks as a filter's parent (TC_H_MAKE(TC_H_CLSACT, TC_H_MIN_INGRESS/EGRESS));
 * the ingress qdisc takes filters at the first too. */
#define CNET_TC_FILTER_INGRESS 0xFFFFFFF2u
#define CNET_TC_FILTER_EGRESS 0xFFFFFFF3u

/* Where a filter sits: "ingress", "egress", "root" (0: the device's root qdisc, what tc
 * sends without a parent), a qdisc "1:" or a class "1:10" (hex). 0 or -EINVAL. */
int cnet_tc_filter_parse_parent(const char *text, uint32_t *out);
/* "ingress", "egress", "root" (for 0) or the handle as tc prints it (size >= 16). */
void cnet_tc_filter_format_parent(uint32_t parent, char *buf, size_t size);

/* An Ethernet protocol by tc's name ("all", "ip", "ipv6", "arp", "rarp", "802.1Q",
 * "802.1ad", "mpls_uc", "mpls_mc", "lldp"; case-insensitive) or number ("0x88cc", "2048"),
 * in host order. 0 or -EINVAL. */
int cnet_tc_parse_protocol(const char *text, uint16_t *out);
/* The name of proto, or "0x88cc" written into buf (size >= 8). */
const char *cnet_tc_protocol_name(uint16_t proto, char *buf, size_t size);

/* ---- actions ---- */

enum cnet_tc_act_kind {
  CNET_TC_ACT_OTHER,  /* listing only: a kind cnet does not decode (name says which) */
  CNET_TC_ACT_GACT,   /* a verdict: pass, drop, ... */
  CNET_TC_ACT_MIRRED  /* a copy or the packet itself to another device */
};

struct cnet_tc_action {
  int kind;                   /* enum cnet_tc_act_kind */
  int verdict;                /* TC_ACT_*: gact's; mirred's after the packet went out */
  int mirror;                 /* mirred: 1 mirror (a copy), 0 redirect (the packet) */
  int ingress;                /* mirred: 1 into the device's ingress, 0 out of its egress */
  int ifindex;                /* mirred: the device */
  const char *name;           /* listing: the kind's name as the kernel gave it */
};

/* Verdicts by tc's names: "pass" (or "ok"), "drop" (or "shot"), "continue", "reclassify",
 * "pipe", "stolen", "trap" (case-insensitive). 0 with *out the TC_ACT_* value (continue is
 * -1), or -EINVAL. */
int cnet_tc_verdict_parse(const char *name, int *out);
/* "pass", "drop", ... or NULL for a verdict without a name (goto chain, jump). */
const char *cnet_tc_verdict_name(int verdict);
/* The kernel module an action kind lives in ("act_gact"), for messages. */
const char *cnet_tc_action_module(int kind);

/* ---- u32 ---- */

/* One key as struct tc_u32_key: the 32-bit word at off (from the network header, or from
 * the next header when offmask is -1) masked with mask must equal val. val and mask are in
 * network byte order, as the kernel keeps them. */
struct cnet_tc_u32_key {
  uint32_t mask, val;
  int32_t off, offmask;
};
#define CNET_TC_U32_MAXKEYS 128

/* Adds the keys of one match in tc's words to keys[0..*nkeys): "ip src|dst PREFIX",
 * "ip protocol|tos|dsfield|ihl|icmp_type|icmp_code V MASK", "ip sport|dport V MASK",
 * "ip nofrag|firstfrag|df|mf", "ip6 src|dst PREFIX", "ip6 protocol|sport|dport V MASK",
 * "ip6 priority V MASK", "ip6 flowlabel V MASK", "tcp|udp src|dst V MASK", "icmp type|code V
 * MASK", "ether src|dst MAC", "u32|u16|u8 V MASK [at [nexthdr+]OFF]" (the addresses take `at`
 * too). Values are decimal, 0x-hex or 0-octal; masks are hex ("0xffff" or "ffff"), as in tc.
 * A key that shares its word with an earlier one is merged into it, as tc does. 0, or
 * -EINVAL with the reason in errmsg (CNET_ERRMSG_MAX bytes or NULL). */
int cnet_tc_u32_parse_match(const char *text, struct cnet_tc_u32_key *keys, unsigned *nkeys,
                            char *errmsg);
/* A key as the match that gives it back: "u32 0xc0000201 0xffffffff at 16" ("at
 * nexthdr+0" for next-header keys). size >= 64. */
void cnet_tc_u32_format_key(const struct cnet_tc_u32_key *k, char *buf, size_t size);
/* u32's handles: "800::800" (table:bucket:node, hex), "800:", "0x80000800". 0 or -EINVAL. */
int cnet_tc_u32_parse_handle(const char *text, uint32_t *out);
void cnet_tc_u32_format_handle(uint32_t h, char *buf, size_t size); /* size >= 32 */

/* ---- flower ---- */

enum {
  CNET_FLOWER_DST_MAC = 1, CNET_FLOWER_SRC_MAC = 2, CNET_FLOWER_IP_PROTO = 4,
  CNET_FLOWER_DST_IP = 8, CNET_FLOWER_SRC_IP = 16, CNET_FLOWER_DST_PORT = 32,
  CNET_FLOWER_SRC_PORT = 64
};

/* The keys of a flower filter cnet writes and reads: exact MAC addresses, the IP protocol,
 * address prefixes (of the filter's protocol, ip or ipv6), exact ports (tcp, udp, sctp). */
struct cnet_tc_flower {
  unsigned given;             /* CNET_FLOWER_* */
  uint8_t dst_mac[6], src_mac[6];
  uint8_t ip_proto;
  struct cnet_ipaddr dst_ip, src_ip;
  uint16_t dst_port, src_port;
};
/* IP protocols by flower's names ("tcp", "udp", "sctp", "icmp", "icmpv6"; a number is the
 * caller's to read). The number or -EINVAL; the name or NULL. */
int cnet_tc_flower_parse_proto(const char *text);
const char *cnet_tc_flower_proto_name(uint8_t proto);

/* ---- filters ---- */

#define CNET_TC_MAXACTS 32 /* TCA_ACT_MAX_PRIO */

/* A filter to add, replace, change or delete, and one as a listing reports it. */
struct cnet_tc_filter {
  int index;                  /* the device */
  uint32_t parent;            /* see cnet_tc_filter_parse_parent */
  uint32_t handle;            /* 0: the kernel picks (add); any (delete) */
  uint16_t prio;              /* 0: the kernel picks (add); any (delete) */
  uint16_t protocol;          /* ETH_P_*, host order; 0: any (delete) */
  int64_t chain;              /* -1: none given (chain 0) */
  const char *kind;           /* "matchall", "u32", "flower"; NULL: any (delete) */
  int has_classid;
  uint32_t classid;           /* the class the filter sends packets to */
  uint32_t flags;             /* TCA_CLS_FLAGS_SKIP_HW / SKIP_SW (listing: also IN_HW...) */
  unsigned nacts;
  struct cnet_tc_action acts[CNET_TC_MAXACTS];
  unsigned nkeys;             /* u32 */
  struct cnet_tc_u32_key keys[CNET_TC_U32_MAXKEYS];
  struct cnet_tc_flower flower;
};

/* The action kinds of f, space-separated, each once ("gact mirred"), for messages. */
void cnet_tc_filter_action_kinds(const struct cnet_tc_filter *f, char *buf, size_t size);

/* Whether cnet encodes and decodes kind's options. */
int cnet_tc_filter_kind_known(const char *kind);

/* Fills an RTM_{NEW,DEL}TFILTER whose header the caller made, as tc would: the tcmsg (prio
 * and protocol in tcm_info), TCA_CHAIN, TCA_KIND and, for a new filter, the kind's options
 * and actions. Returns 0, -EINVAL with the reason in errmsg (an option the kind does not
 * take, flower addresses of another family than the protocol, ports without their
 * protocol), or -EMSGSIZE. errmsg: CNET_ERRMSG_MAX bytes or NULL. */
int cnet_tc_filter_build(struct nlmsghdr *nlh, size_t room, const struct cnet_tc_filter *f,
                         char *errmsg);

/* Sends one filter change (deferred inside a batch like every change). delete removes the
 * filters that match what is given: a handle, else every filter of the prio (and
 * protocol), else every filter of the parent. Returns 0 or -errno, the text in
 * cnet_netns_errbuf(ns): -EEXIST, -ENOENT (no such filter or parent), -EINVAL (see
 * cnet_tc_filter_build, or the kernel's refusal), -EOPNOTSUPP when the kernel lacks the
 * classifier or an action (see cnet_tc_filter_explain). */
int cnet_tc_filter_change(struct cnet_netns *ns, enum cnet_tc_op op,
                          const struct cnet_tc_filter *f);

/* The kernel's answer to a filter request rewritten for people (as cnet_tc_explain for
 * qdiscs): ENOENT "TC classifier not found" becomes -EOPNOTSUPP "filter kind KIND is not
 * available in this kernel (module cls_KIND)"; ENOENT "Failed to load TC action module"
 * becomes -EOPNOTSUPP "action KIND is not available in this kernel (module act_KIND)" (the
 * kinds sent, space-separated in actions); EOPNOTSUPP without text (a kernel built without
 * classifiers) says so. Anything else: err with out = extack. out: CNET_ERRMSG_MAX bytes. */
int cnet_tc_filter_explain(int err, const char *extack, const char *kind, const char *actions,
                           char *out);

/* Decodes an RTM_NEWTFILTER (or RTM_DELTFILTER). 0 for a filter; 1 for the rows that only
 * announce a classifier instance (no handle) or a u32 hash table, which listings skip;
 * -EINVAL when it is not a filter message. Strings point into the message. */
int cnet_tc_filter_parse(const struct nlmsghdr *nlh, struct cnet_tc_filter *out);

/* The filters of device index at parent; with every set, at every place of the device that
 * takes filters (the clsact or ingress hooks, each qdisc with a handle, each class). A
 * kernel without classifiers lists none. fn: non-zero stops and is returned; reset runs
 * before the listing starts again (an interrupted dump). */
typedef int (*cnet_tc_filter_fn)(const struct cnet_tc_filter *f, void *data);
int cnet_tc_filter_list(struct cnet_netns *ns, int index, uint32_t parent, int every,
                        cnet_tc_filter_fn fn, void (*reset)(void *data), void *data);

#endif
