/* Traffic control (RTM_*QDISC, RTM_*TCLASS): queueing disciplines and classes with the
 * options of each kind, encoded the way iproute2's tc encodes them (the same bytes for the
 * same command), rate tables included. */
#ifndef CNET_TC_H
#define CNET_TC_H

#include <stddef.h>
#include <stdint.h>
#include <libmnl/libmnl.h>

#include "cnet/netns.h"

/* ---- handles: 16 bits major, 16 bits minor ---- */

#define CNET_TC_ROOT 0xFFFFFFFFu    /* TC_H_ROOT: the device's egress root */
#define CNET_TC_INGRESS 0xFFFFFFF1u /* TC_H_INGRESS, also TC_H_CLSACT */

/* Parses a qdisc handle: "1:" or "1" (major, hex, minor 0), "none" (0, the kernel picks).
 * Returns 0 or -EINVAL. */
int cnet_tc_parse_qdisc_handle(const char *text, uint32_t *out);
/* Parses a class id or parent: "1:10" (hex), "1:" (1:0), "root", "ingress" or "clsact"
 * (ffff:fff1), "none" (0). Returns 0 or -EINVAL. */
int cnet_tc_parse_classid(const char *text, uint32_t *out);
/* Formats as tc prints: "root", "none", "1:", "1:10", "ffff:fff1" (size >= 16). */
void cnet_tc_format_classid(uint32_t h, char *buf, size_t size);
/* A qdisc handle: "1:", "8001:", "0:" (size >= 16). */
void cnet_tc_format_handle(uint32_t h, char *buf, size_t size);

/* ---- values in tc's notation ----
 * A number and the unit it was written in, kept apart so that the core can compute every
 * value with the same floating-point steps as tc, and send the same bytes. The unit is the
 * multiplier to the type's base: bit/s for rates, bytes for sizes, nanoseconds for times,
 * percent for percentages. */
struct cnet_tc_num {
  double num, unit;
};

/* rate: "10mbit", "100kbit", "1gbit", "512kibit", "1.5mbps" (megabytes), "1000bit", "1000"
 *   (bit/s); size: "32kb" or "32k", "1mb", "1gb", "1kbit"/"1mbit"/"1gbit" (as tc: bits over
 *   binary multiples), "1500b", "1500" (bytes); time: "50ms", "1.5s", "100us", "10ns" (a unit
 *   is required); percent: "1%" or "1" (0..100). Units are case-insensitive.
 * Each returns 0 or -EINVAL (no number, unknown unit, negative, out of range). */
int cnet_tc_parse_rate(const char *text, struct cnet_tc_num *out);
int cnet_tc_parse_size(const char *text, struct cnet_tc_num *out);
int cnet_tc_parse_time(const char *text, struct cnet_tc_num *out);
int cnet_tc_parse_percent(const char *text, struct cnet_tc_num *out);

/* ---- kinds and their options ---- */

enum cnet_tc_type {
  CNET_TC_RATE,    /* bit/s in, bit/s out (the kernel keeps bytes/s) */
  CNET_TC_SIZE,    /* bytes */
  CNET_TC_TIME,    /* seconds out; in: a number of seconds or a string with a unit */
  CNET_TC_PERCENT, /* 0..100 */
  CNET_TC_UINT,    /* a plain count, 0..4294967295 */
  CNET_TC_BOOL,
  CNET_TC_CLASS,   /* a class of this qdisc: "1:10", "10" (hex minor, as tc) or the minor */
  CNET_TC_LIST     /* up to 16 integers 0..15 (prio's priomap) */
};

/* One option of a kind: its name (tc's keyword) and type. out_only: reported by the
 * kernel, never sent (htb's level, pfifo_fast's priomap). */
struct cnet_tc_field {
  const char *name;
  enum cnet_tc_type type;
  int out_only;
};

/* A kind cnet knows: qdiscs "tbf", "htb", "pfifo", "bfifo", "pfifo_fast", "ingress",
 * "clsact", "netem", "fq_codel", "sfq", "prio", "fq", and the class kind "htb".
 * Kinds cnet does not know are still listed (kind name, handles, statistics). */
struct cnet_tc_kind;
/* The kind called name, as a qdisc (cls = 0) or a class (cls = 1); NULL when unknown. */
const struct cnet_tc_kind *cnet_tc_kind_find(const char *name, int cls);
const char *cnet_tc_kind_name(const struct cnet_tc_kind *k);
/* The kernel module that provides it ("sch_netem"). */
const char *cnet_tc_kind_module(const struct cnet_tc_kind *k);
/* Its options, in the order tc sends them: how many, and the ith (NULL past the end). */
unsigned cnet_tc_kind_nfields(const struct cnet_tc_kind *k);
const struct cnet_tc_field *cnet_tc_kind_field_at(const struct cnet_tc_kind *k, unsigned i);
/* The index of the option called name, or -1. */
int cnet_tc_kind_field(const struct cnet_tc_kind *k, const char *name);
/* The name of the nth kind (qdisc kinds, then "htb" as a class kind via *cls), or NULL
 * past the end: for completion and docs. */
const char *cnet_tc_kind_nth(unsigned n, int *cls);

#define CNET_TC_MAXFIELDS 24

/* Option values given for a kind, by field index. */
struct cnet_tc_opts {
  uint32_t given;                          /* bit i: field i was given */
  struct cnet_tc_num v[CNET_TC_MAXFIELDS]; /* BOOL: num 0 or 1; UINT, CLASS: num */
  uint8_t list[16];                        /* the LIST field's values */
  unsigned nlist;
};

/* A qdisc or class to add, replace, change or delete. */
struct cnet_tc_req {
  int index;                         /* the device */
  uint32_t handle;                   /* qdisc handle (0: the kernel picks) or class id */
  uint32_t parent;                   /* CNET_TC_ROOT, CNET_TC_INGRESS or a class */
  const struct cnet_tc_kind *kind;   /* NULL: no TCA_KIND (a delete by handle) */
  const struct cnet_tc_opts *opts;   /* NULL: no options */
};

/* Fills an RTM_{NEW,DEL}{QDISC,TCLASS} whose header the caller made: the tcmsg, TCA_KIND
 * and the kind's options as tc would send them (rate tables included). For ingress and
 * clsact the parent and handle are theirs (ffff:fff1, ffff:0) whatever req says.
 * Returns 0, -EINVAL with the reason in errmsg (a required option missing, two options
 * that exclude each other, an option of another kind), -ERANGE with the reason (a value
 * that does not fit the kernel's field), or -EMSGSIZE. errmsg: CNET_ERRMSG_MAX bytes or
 * NULL. */
int cnet_tc_build(struct nlmsghdr *nlh, size_t room, const struct cnet_tc_req *req, char *errmsg);

enum cnet_tc_op { CNET_TC_ADD, CNET_TC_REPLACE, CNET_TC_CHANGE, CNET_TC_DELETE };

/* Sends one qdisc (cls = 0) or class (cls = 1) change; deferred inside a batch like every
 * change. Returns 0 or -errno, the text in cnet_netns_errbuf(ns): -EEXIST (add: one is
 * there already), -ENOENT (change/delete: none there), -EINVAL (see cnet_tc_build, or the
 * kernel refused a value), -EOPNOTSUPP when the kernel lacks the kind (it answers ENOENT,
 * "Specified qdisc kind is unknown"; cnet names the kind and its module instead). */
int cnet_tc_change(struct cnet_netns *ns, int cls, enum cnet_tc_op op, const struct cnet_tc_req *req);

/* The kernel's answer to a tc request rewritten for people: ENOENT with "Specified qdisc
 * kind is unknown" becomes -EOPNOTSUPP and "qdisc kind KIND is not available in this
 * kernel (module sch_KIND)" in out (CNET_ERRMSG_MAX bytes). Any other err is returned as
 * is with out = extack. For deferred (batched) requests, whose answers arrive later. */
int cnet_tc_explain(int err, const char *extack, const char *kind, char *out);

/* ---- listing ---- */

/* One decoded option. RATE: u = bytes/s; SIZE, UINT, BOOL, CLASS: u; TIME: d = seconds;
 * PERCENT: d; LIST: list[0..u). */
struct cnet_tc_value {
  const struct cnet_tc_field *field;
  uint64_t u;
  double d;
};

struct cnet_tc_stats {
  int present;
  uint64_t bytes, packets;
  uint32_t drops, overlimits, requeues, backlog, qlen;
};

/* One qdisc or class as the kernel reports it; strings point into the message. */
struct cnet_tc_info {
  int cls;                              /* 0: qdisc, 1: class */
  int index;                            /* device */
  uint32_t handle, parent;
  const char *kind;
  const struct cnet_tc_kind *known;     /* NULL: options not decoded */
  unsigned nvalues;
  struct cnet_tc_value values[CNET_TC_MAXFIELDS];
  uint8_t list[16];
  struct cnet_tc_stats stats;
};

/* Decodes an RTM_NEWQDISC/RTM_NEWTCLASS (also RTM_DEL*: events). 0 or -EINVAL. */
int cnet_tc_parse(const struct nlmsghdr *nlh, struct cnet_tc_info *out);

/* Every qdisc of device index (0: of every device), every class of device index (> 0: the
 * kernel lists classes per device). fn/reset as for links. */
typedef int (*cnet_tc_fn)(const struct cnet_tc_info *info, void *data);
int cnet_tc_list(struct cnet_netns *ns, int cls, int index, cnet_tc_fn fn,
                 void (*reset)(void *data), void *data);

#endif
