/* Inside traffic control: the kind tables and the arithmetic tc does on values (psched
 * ticks, rate tables). Shared by tc.c, tc_units.c and the kind files tc_*.c. */
#ifndef CNET_TC_INT_H
#define CNET_TC_INT_H

#include <stdio.h>
#include <stdint.h>
#include <linux/pkt_sched.h>
#include <linux/rtnetlink.h>

#include "cnet/tc.h"

/* How a field is stored where the table alone drives encoding and decoding (the nested
 * attributes of fq_codel and fq); kinds with a struct or derived values use 0 and their own
 * code. */
enum conv {
  C_CUSTOM = 0,
  C_U32,      /* UINT as is */
  C_BOOL32,   /* BOOL as a u32 0/1 */
  C_LOG2,     /* UINT sent as its log2 (fq's buckets) */
  C_RATE32,   /* RATE in bytes/s */
  C_SIZE32,   /* SIZE in bytes */
  C_USEC32,   /* TIME in microseconds */
  C_NSEC32    /* TIME in nanoseconds */
};

enum { F_UNSET_ALL_ONES = 1 }; /* ~0 in a dump means "not set": leave it out */

struct tc_field {
  struct cnet_tc_field pub;       /* first: the public view */
  uint8_t conv, flags;
  uint16_t attr;
};

/* A nest being written; the helpers below never set NLA_F_NESTED, as tc does not. */
struct tcw {
  struct nlmsghdr *nlh;
  size_t limit;                   /* nlmsg_len must stay within this */
  char *err;                      /* CNET_ERRMSG_MAX bytes, or NULL */
};

struct cnet_tc_kind {
  const char *name, *module;
  unsigned char cls;              /* 1: a class kind */
  const struct tc_field *fields;
  unsigned nfields;
  /* Writes TCA_OPTIONS (or nothing). 0, -EINVAL / -ERANGE with w->err, -EMSGSIZE. */
  int (*encode)(struct tcw *w, const struct cnet_tc_kind *k, const struct cnet_tc_opts *o);
  /* Decodes the TCA_OPTIONS attribute into info->values. */
  void (*decode)(const struct nlattr *opts, const struct cnet_tc_kind *k, struct cnet_tc_info *info);
};

/* tc_units.c: the psched clock of /proc/net/psched (read once) and tc's arithmetic. */
double tc_tick_in_usec(void);           /* ticks per microsecond (15.625 with 64 ns ticks) */
uint32_t tc_hz(void);                   /* the timer frequency tc divides rates by */
uint32_t tc_time2tick(uint32_t usec);
uint32_t tc_tick2time(uint32_t ticks);
uint32_t tc_xmittime(uint64_t rate, uint32_t size);     /* ticks to send size bytes */
uint32_t tc_xmitsize(uint64_t rate, uint32_t ticks);    /* bytes sent in ticks */
/* Fills a rate table (the time to send (i+1) << cell_log bytes, i < 256) and the ratespec
 * fields that describe it; cell_log from mtu (0: 2047) as tc picks it. */
void tc_rtab(struct tc_ratespec *r, uint32_t rtab[256], uint32_t mtu);

/* The field values as tc computes them from what was written. Each returns 0 or -ERANGE
 * (does not fit) after writing the reason to w->err. */
int tc_rate64(struct tcw *w, const struct cnet_tc_num *n, const char *name, uint64_t *out);
int tc_rate32(struct tcw *w, const struct cnet_tc_num *n, const char *name, uint32_t *out);
int tc_size32(struct tcw *w, const struct cnet_tc_num *n, const char *name, uint32_t *out);
int tc_usec32(struct tcw *w, const struct cnet_tc_num *n, const char *name, uint32_t *out);
int tc_nsec64(struct tcw *w, const struct cnet_tc_num *n, const char *name, int64_t *out);
int tc_ticks32(struct tcw *w, const struct cnet_tc_num *n, const char *name, uint32_t *out);
uint32_t tc_percent32(const struct cnet_tc_num *n);
int tc_u32(struct tcw *w, const struct cnet_tc_num *n, const char *name, uint32_t *out);

/* Writing: each returns 0 or -EMSGSIZE. */
int tcw_put(struct tcw *w, uint16_t type, const void *data, size_t len);
int tcw_put_u32(struct tcw *w, uint16_t type, uint32_t v);
int tcw_raw(struct tcw *w, const void *data, size_t len); /* bytes inside the open nest */
struct nlattr *tcw_nest(struct tcw *w, uint16_t type);   /* NULL on -EMSGSIZE */
void tcw_end(struct tcw *w, struct nlattr *nest);
int tcw_fail(struct tcw *w, int rc, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Table-driven nests (fq_codel, fq): every given field in table order; and back. */
int tc_encode_nested(struct tcw *w, const struct cnet_tc_kind *k, const struct cnet_tc_opts *o);
void tc_decode_nested(const struct nlattr *opts, const struct cnet_tc_kind *k,
                      struct cnet_tc_info *info);

/* Decoding helpers: append a value of field i. */
void tc_value_u(struct cnet_tc_info *info, const struct cnet_tc_kind *k, unsigned i, uint64_t u);
void tc_value_d(struct cnet_tc_info *info, const struct cnet_tc_kind *k, unsigned i, double d);
int tc_given(const struct cnet_tc_opts *o, unsigned i);

/* The kinds, one file per family: tc_shaper.c (tbf, htb), tc_netem.c, tc_queue.c (fifos,
 * prio, sfq, fq_codel, fq, ingress, clsact). */
extern const struct cnet_tc_kind tc_kind_tbf, tc_kind_htb, tc_kind_htb_class;
extern const struct cnet_tc_kind tc_kind_netem;
extern const struct cnet_tc_kind tc_kind_pfifo, tc_kind_bfifo, tc_kind_pfifo_fast,
    tc_kind_prio, tc_kind_sfq, tc_kind_fq_codel, tc_kind_fq, tc_kind_ingress, tc_kind_clsact;

#endif
