/* The shapers: tbf (token bucket) and htb (hierarchy of token buckets, with classes).
 * Both carry rate tables and express bursts as the time to send them in psched ticks;
 * the kernel reports only those ticks, so listed bursts are computed back as tc does. */
#include <errno.h>
#include <string.h>

#include "rtnl/tc_int.h"

static uint32_t rate32(uint64_t r) { return r >= (1ULL << 32) ? UINT32_MAX : (uint32_t)r; }

/* ---- tbf ---- */

enum { TBF_RATE, TBF_BURST, TBF_LATENCY, TBF_LIMIT, TBF_PEAKRATE, TBF_MTU };
static const struct tc_field tbf_fields[] = {
    {{"rate", CNET_TC_RATE, 0}, 0, 0, 0},       {{"burst", CNET_TC_SIZE, 0}, 0, 0, 0},
    {{"latency", CNET_TC_TIME, 0}, 0, 0, 0},    {{"limit", CNET_TC_SIZE, 0}, 0, 0, 0},
    {{"peakrate", CNET_TC_RATE, 0}, 0, 0, 0},   {{"mtu", CNET_TC_SIZE, 0}, 0, 0, 0}};

static int tbf_encode(struct tcw *w, const struct cnet_tc_kind *k, const struct cnet_tc_opts *o) {
  (void)k;
  if (!tc_given(o, TBF_RATE) || !tc_given(o, TBF_BURST))
    return tcw_fail(w, -EINVAL, "tbf needs rate and burst");
  if (tc_given(o, TBF_LATENCY) == tc_given(o, TBF_LIMIT))
    return tcw_fail(w, -EINVAL, "tbf needs either latency or limit, not both");
  if (tc_given(o, TBF_PEAKRATE) && !tc_given(o, TBF_MTU))
    return tcw_fail(w, -EINVAL, "tbf: peakrate needs mtu");
  uint64_t rate64, prate64 = 0;
  uint32_t buffer, mtu = 0, latency = 0;
  struct tc_tbf_qopt opt;
  memset(&opt, 0, sizeof opt);
  int rc = tc_rate64(w, &o->v[TBF_RATE], "rate", &rate64);
  if (rc == 0) rc = tc_size32(w, &o->v[TBF_BURST], "burst", &buffer);
  if (rc == 0 && tc_given(o, TBF_MTU)) rc = tc_size32(w, &o->v[TBF_MTU], "mtu", &mtu);
  if (rc == 0 && tc_given(o, TBF_PEAKRATE)) rc = tc_rate64(w, &o->v[TBF_PEAKRATE], "peakrate", &prate64);
  if (rc == 0 && tc_given(o, TBF_LATENCY)) rc = tc_usec32(w, &o->v[TBF_LATENCY], "latency", &latency);
  if (rc == 0 && tc_given(o, TBF_LIMIT)) rc = tc_size32(w, &o->v[TBF_LIMIT], "limit", &opt.limit);
  if (rc < 0) return rc;
  if (rate64 == 0 || buffer == 0) return tcw_fail(w, -EINVAL, "tbf: rate and burst must be above 0");
  if (tc_given(o, TBF_PEAKRATE) && (prate64 == 0 || mtu == 0))
    return tcw_fail(w, -EINVAL, "tbf: peakrate and mtu must be above 0");
  if (tc_given(o, TBF_LATENCY) && latency == 0)
    return tcw_fail(w, -EINVAL, "tbf: latency must be above 0");
  opt.rate.rate = rate32(rate64);
  opt.peakrate.rate = rate32(prate64);
  if (!tc_given(o, TBF_LIMIT)) { /* the queue that holds `latency` worth of traffic */
    double lim = rate64 * (double)latency / 1000000 + buffer;
    if (prate64) {
      double lim2 = prate64 * (double)latency / 1000000 + mtu;
      if (lim2 < lim) lim = lim2;
    }
    if (!(lim < 4294967296.0)) return tcw_fail(w, -ERANGE, "tbf: latency makes the limit above 4gb");
    opt.limit = (uint32_t)lim;
  }
  uint32_t rtab[256], ptab[256];
  tc_rtab(&opt.rate, rtab, mtu);
  opt.buffer = tc_xmittime(opt.rate.rate, buffer);
  if (prate64) {
    tc_rtab(&opt.peakrate, ptab, mtu);
    opt.mtu = tc_xmittime(opt.peakrate.rate, mtu);
  }
  struct nlattr *nest = tcw_nest(w, TCA_OPTIONS);
  if (nest == NULL) return -EMSGSIZE;
  rc = tcw_put(w, TCA_TBF_PARMS, &opt, sizeof opt);
  if (rc == 0) rc = tcw_put_u32(w, TCA_TBF_BURST, buffer);
  if (rc == 0 && rate64 >= (1ULL << 32)) rc = tcw_put(w, TCA_TBF_RATE64, &rate64, sizeof rate64);
  if (rc == 0) rc = tcw_put(w, TCA_TBF_RTAB, rtab, sizeof rtab);
  if (rc == 0 && prate64) {
    if (prate64 >= (1ULL << 32)) rc = tcw_put(w, TCA_TBF_PRATE64, &prate64, sizeof prate64);
    if (rc == 0) rc = tcw_put_u32(w, TCA_TBF_PBURST, mtu);
    if (rc == 0) rc = tcw_put(w, TCA_TBF_PTAB, ptab, sizeof ptab);
  }
  if (rc == 0) tcw_end(w, nest);
  return rc;
}

static uint64_t attr_u64_or(const struct nlattr *a, uint64_t dflt) {
  return a != NULL && mnl_attr_get_payload_len(a) >= 8 ? mnl_attr_get_u64(a) : dflt;
}

static void tbf_decode(const struct nlattr *opts, const struct cnet_tc_kind *k,
                       struct cnet_tc_info *info) {
  const struct nlattr *a, *parms = NULL, *r64 = NULL, *p64 = NULL;
  mnl_attr_for_each_nested(a, opts) {
    switch (mnl_attr_get_type(a)) {
    case TCA_TBF_PARMS: parms = a; break;
    case TCA_TBF_RATE64: r64 = a; break;
    case TCA_TBF_PRATE64: p64 = a; break;
    default: break;
    }
  }
  struct tc_tbf_qopt q;
  if (parms == NULL || mnl_attr_get_payload_len(parms) < sizeof q) return;
  memcpy(&q, mnl_attr_get_payload(parms), sizeof q);
  uint64_t rate = attr_u64_or(r64, q.rate.rate), prate = attr_u64_or(p64, q.peakrate.rate);
  tc_value_u(info, k, TBF_RATE, rate);
  tc_value_u(info, k, TBF_BURST, tc_xmitsize(rate, q.buffer));
  /* tc's latency: how long the last byte of a full queue waits, in whole microseconds */
  double lat = 1000000 * (q.limit / (double)rate) - tc_tick2time(q.buffer);
  if (prate) {
    double lat2 = 1000000 * (q.limit / (double)prate) - tc_tick2time(q.mtu);
    if (lat2 > lat) lat = lat2;
  }
  if (lat >= 0) tc_value_d(info, k, TBF_LATENCY, (double)(uint64_t)lat / 1e6);
  tc_value_u(info, k, TBF_LIMIT, q.limit);
  if (prate) {
    tc_value_u(info, k, TBF_PEAKRATE, prate);
    tc_value_u(info, k, TBF_MTU, tc_xmitsize(prate, q.mtu));
  }
}

const struct cnet_tc_kind tc_kind_tbf = {"tbf", "sch_tbf", 0, tbf_fields, 6, tbf_encode, tbf_decode};

/* ---- htb: the qdisc ---- */

enum { HTB_DEFAULT, HTB_R2Q, HTB_DIRECT_QLEN };
static const struct tc_field htb_fields[] = {{{"default", CNET_TC_CLASS, 0}, 0, 0, 0},
                                             {{"r2q", CNET_TC_UINT, 0}, 0, 0, 0},
                                             {{"direct_qlen", CNET_TC_UINT, 0}, 0, 0, 0}};

static int htb_encode(struct tcw *w, const struct cnet_tc_kind *k, const struct cnet_tc_opts *o) {
  (void)k;
  struct tc_htb_glob g = {.version = 3, .rate2quantum = 10};
  uint32_t qlen = 0;
  int rc = 0;
  if (tc_given(o, HTB_DEFAULT)) rc = tc_u32(w, &o->v[HTB_DEFAULT], "default", &g.defcls);
  if (rc == 0 && g.defcls > 0xffff) rc = tcw_fail(w, -ERANGE, "default: a class minor is 0..ffff");
  if (rc == 0 && tc_given(o, HTB_R2Q)) rc = tc_u32(w, &o->v[HTB_R2Q], "r2q", &g.rate2quantum);
  if (rc == 0 && tc_given(o, HTB_DIRECT_QLEN))
    rc = tc_u32(w, &o->v[HTB_DIRECT_QLEN], "direct_qlen", &qlen);
  if (rc < 0) return rc;
  struct nlattr *nest = tcw_nest(w, TCA_OPTIONS);
  if (nest == NULL) return -EMSGSIZE;
  rc = tcw_put(w, TCA_HTB_INIT, &g, NLMSG_ALIGN(sizeof g));
  if (rc == 0 && tc_given(o, HTB_DIRECT_QLEN)) rc = tcw_put_u32(w, TCA_HTB_DIRECT_QLEN, qlen);
  if (rc == 0) tcw_end(w, nest);
  return rc;
}

static void htb_decode(const struct nlattr *opts, const struct cnet_tc_kind *k,
                       struct cnet_tc_info *info) {
  const struct nlattr *a;
  mnl_attr_for_each_nested(a, opts) {
    if (mnl_attr_get_type(a) == TCA_HTB_INIT &&
        mnl_attr_get_payload_len(a) >= sizeof(struct tc_htb_glob)) {
      struct tc_htb_glob g;
      memcpy(&g, mnl_attr_get_payload(a), sizeof g);
      if (g.defcls) tc_value_u(info, k, HTB_DEFAULT, g.defcls);
      tc_value_u(info, k, HTB_R2Q, g.rate2quantum);
    } else if (mnl_attr_get_type(a) == TCA_HTB_DIRECT_QLEN && mnl_attr_get_payload_len(a) >= 4) {
      tc_value_u(info, k, HTB_DIRECT_QLEN, mnl_attr_get_u32(a));
    }
  }
}

const struct cnet_tc_kind tc_kind_htb = {"htb", "sch_htb", 0, htb_fields, 3, htb_encode, htb_decode};

/* ---- htb: classes ---- */

enum { HC_RATE, HC_CEIL, HC_BURST, HC_CBURST, HC_PRIO, HC_QUANTUM, HC_MTU, HC_LEVEL };
static const struct tc_field htb_class_fields[] = {
    {{"rate", CNET_TC_RATE, 0}, 0, 0, 0},   {{"ceil", CNET_TC_RATE, 0}, 0, 0, 0},
    {{"burst", CNET_TC_SIZE, 0}, 0, 0, 0},  {{"cburst", CNET_TC_SIZE, 0}, 0, 0, 0},
    {{"prio", CNET_TC_UINT, 0}, 0, 0, 0},   {{"quantum", CNET_TC_UINT, 0}, 0, 0, 0},
    {{"mtu", CNET_TC_SIZE, 0}, 0, 0, 0},    {{"level", CNET_TC_UINT, 1}, 0, 0, 0}};

static int htb_class_encode(struct tcw *w, const struct cnet_tc_kind *k,
                            const struct cnet_tc_opts *o) {
  (void)k;
  if (!tc_given(o, HC_RATE)) return tcw_fail(w, -EINVAL, "an htb class needs rate");
  struct tc_htb_opt opt;
  memset(&opt, 0, sizeof opt);
  uint64_t rate64, ceil64 = 0;
  uint32_t buffer = 0, cbuffer = 0, mtu = 1600; /* tc's default: an ethernet frame and some */
  int rc = tc_rate64(w, &o->v[HC_RATE], "rate", &rate64);
  if (rc == 0 && tc_given(o, HC_CEIL)) rc = tc_rate64(w, &o->v[HC_CEIL], "ceil", &ceil64);
  if (rc == 0 && tc_given(o, HC_BURST)) rc = tc_size32(w, &o->v[HC_BURST], "burst", &buffer);
  if (rc == 0 && tc_given(o, HC_CBURST)) rc = tc_size32(w, &o->v[HC_CBURST], "cburst", &cbuffer);
  if (rc == 0 && tc_given(o, HC_PRIO)) rc = tc_u32(w, &o->v[HC_PRIO], "prio", &opt.prio);
  if (rc == 0 && tc_given(o, HC_QUANTUM)) rc = tc_u32(w, &o->v[HC_QUANTUM], "quantum", &opt.quantum);
  if (rc == 0 && tc_given(o, HC_MTU)) rc = tc_size32(w, &o->v[HC_MTU], "mtu", &mtu);
  if (rc < 0) return rc;
  if (rate64 == 0) return tcw_fail(w, -EINVAL, "htb class: rate must be above 0");
  if (ceil64 == 0) ceil64 = rate64;
  opt.rate.rate = rate32(rate64);
  opt.ceil.rate = rate32(ceil64);
  /* No burst given: what the rate sends in one timer tick, plus a frame. */
  if (buffer == 0) buffer = (uint32_t)(rate64 / tc_hz() + mtu);
  if (cbuffer == 0) cbuffer = (uint32_t)(ceil64 / tc_hz() + mtu);
  uint32_t rtab[256], ctab[256];
  tc_rtab(&opt.rate, rtab, mtu);
  opt.buffer = tc_xmittime(rate64, buffer);
  tc_rtab(&opt.ceil, ctab, mtu);
  opt.cbuffer = tc_xmittime(ceil64, cbuffer);
  struct nlattr *nest = tcw_nest(w, TCA_OPTIONS);
  if (nest == NULL) return -EMSGSIZE;
  if (rate64 >= (1ULL << 32)) rc = tcw_put(w, TCA_HTB_RATE64, &rate64, sizeof rate64);
  if (rc == 0 && ceil64 >= (1ULL << 32)) rc = tcw_put(w, TCA_HTB_CEIL64, &ceil64, sizeof ceil64);
  if (rc == 0) rc = tcw_put(w, TCA_HTB_PARMS, &opt, sizeof opt);
  if (rc == 0) rc = tcw_put(w, TCA_HTB_RTAB, rtab, sizeof rtab);
  if (rc == 0) rc = tcw_put(w, TCA_HTB_CTAB, ctab, sizeof ctab);
  if (rc == 0) tcw_end(w, nest);
  return rc;
}

static void htb_class_decode(const struct nlattr *opts, const struct cnet_tc_kind *k,
                             struct cnet_tc_info *info) {
  const struct nlattr *a, *parms = NULL, *r64 = NULL, *c64 = NULL;
  mnl_attr_for_each_nested(a, opts) {
    switch (mnl_attr_get_type(a)) {
    case TCA_HTB_PARMS: parms = a; break;
    case TCA_HTB_RATE64: r64 = a; break;
    case TCA_HTB_CEIL64: c64 = a; break;
    default: break;
    }
  }
  struct tc_htb_opt h;
  if (parms == NULL || mnl_attr_get_payload_len(parms) < sizeof h) return;
  memcpy(&h, mnl_attr_get_payload(parms), sizeof h);
  uint64_t rate = attr_u64_or(r64, h.rate.rate), ceil = attr_u64_or(c64, h.ceil.rate);
  tc_value_u(info, k, HC_RATE, rate);
  tc_value_u(info, k, HC_CEIL, ceil);
  tc_value_u(info, k, HC_BURST, tc_xmitsize(rate, h.buffer));
  tc_value_u(info, k, HC_CBURST, tc_xmitsize(ceil, h.cbuffer));
  if (h.level == 0) { /* inner classes have no priority or quantum of their own */
    tc_value_u(info, k, HC_PRIO, h.prio);
    tc_value_u(info, k, HC_QUANTUM, h.quantum);
  }
  tc_value_u(info, k, HC_LEVEL, h.level);
}

const struct cnet_tc_kind tc_kind_htb_class = {"htb", "sch_htb", 1, htb_class_fields, 8,
                                               htb_class_encode, htb_class_decode};
