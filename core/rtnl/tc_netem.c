/* netem: delay, jitter, loss, duplication, corruption, reordering and a rate. Its options
 * are a struct (tc_netem_qopt) followed, inside the same TCA_OPTIONS, by attributes for
 * what the struct has no room for (correlations, reordering, corruption, the rate). */
#include <errno.h>
#include <string.h>

#include "rtnl/tc_int.h"

enum { N_DELAY, N_JITTER, N_DELAY_CORR, N_LOSS, N_LOSS_CORR, N_DUP, N_DUP_CORR, N_CORRUPT,
       N_CORRUPT_CORR, N_REORDER, N_REORDER_CORR, N_GAP, N_RATE, N_LIMIT, N_ECN, N_COUNT };
static const struct tc_field netem_fields[] = {
    {{"delay", CNET_TC_TIME, 0}, 0, 0, 0},
    {{"jitter", CNET_TC_TIME, 0}, 0, 0, 0},
    {{"delay_correlation", CNET_TC_PERCENT, 0}, 0, 0, 0},
    {{"loss", CNET_TC_PERCENT, 0}, 0, 0, 0},
    {{"loss_correlation", CNET_TC_PERCENT, 0}, 0, 0, 0},
    {{"duplicate", CNET_TC_PERCENT, 0}, 0, 0, 0},
    {{"duplicate_correlation", CNET_TC_PERCENT, 0}, 0, 0, 0},
    {{"corrupt", CNET_TC_PERCENT, 0}, 0, 0, 0},
    {{"corrupt_correlation", CNET_TC_PERCENT, 0}, 0, 0, 0},
    {{"reorder", CNET_TC_PERCENT, 0}, 0, 0, 0},
    {{"reorder_correlation", CNET_TC_PERCENT, 0}, 0, 0, 0},
    {{"gap", CNET_TC_UINT, 0}, 0, 0, 0},
    {{"rate", CNET_TC_RATE, 0}, 0, 0, 0},
    {{"limit", CNET_TC_UINT, 0}, 0, 0, 0},
    {{"ecn", CNET_TC_BOOL, 0}, 0, 0, 0}};

static uint32_t pct(const struct cnet_tc_opts *o, unsigned i) {
  return tc_given(o, i) ? tc_percent32(&o->v[i]) : 0;
}

static int netem_encode(struct tcw *w, const struct cnet_tc_kind *k, const struct cnet_tc_opts *o) {
  (void)k;
  struct tc_netem_qopt q = {.limit = 1000};
  int rc = 0;
  if (tc_given(o, N_JITTER) && !tc_given(o, N_DELAY))
    return tcw_fail(w, -EINVAL, "netem: jitter needs delay");
  if (tc_given(o, N_DELAY_CORR) && !tc_given(o, N_JITTER))
    return tcw_fail(w, -EINVAL, "netem: delay_correlation needs jitter");
  if (tc_given(o, N_DELAY)) rc = tc_ticks32(w, &o->v[N_DELAY], "delay", &q.latency);
  if (rc == 0 && tc_given(o, N_JITTER)) rc = tc_ticks32(w, &o->v[N_JITTER], "jitter", &q.jitter);
  if (rc == 0 && tc_given(o, N_LIMIT)) rc = tc_u32(w, &o->v[N_LIMIT], "limit", &q.limit);
  if (rc == 0 && tc_given(o, N_GAP)) rc = tc_u32(w, &o->v[N_GAP], "gap", &q.gap);
  if (rc < 0) return rc;
  q.loss = pct(o, N_LOSS);
  q.duplicate = pct(o, N_DUP);
  struct tc_netem_reorder reorder = {pct(o, N_REORDER), pct(o, N_REORDER_CORR)};
  struct tc_netem_corrupt corrupt = {pct(o, N_CORRUPT), pct(o, N_CORRUPT_CORR)};
  struct tc_netem_corr corr = {pct(o, N_DELAY_CORR), pct(o, N_LOSS_CORR), pct(o, N_DUP_CORR)};
  if (reorder.probability) {
    if (q.latency == 0) return tcw_fail(w, -EINVAL, "netem: reorder needs delay");
    if (q.gap == 0) q.gap = 1;
  } else if (q.gap > 0) {
    return tcw_fail(w, -EINVAL, "netem: gap needs reorder");
  }
  int ecn = tc_given(o, N_ECN) && o->v[N_ECN].num != 0;
  if (ecn && q.loss == 0) return tcw_fail(w, -EINVAL, "netem: ecn needs loss");
  /* tc leaves the correlations out when only duplicate_correlation is given (its parser
   * forgets to mark them); cnet sends them whenever any is given. */
  int has_corr = tc_given(o, N_DELAY_CORR) || tc_given(o, N_LOSS_CORR) ||
                 tc_given(o, N_DUP_CORR) || tc_given(o, N_REORDER_CORR) ||
                 tc_given(o, N_CORRUPT_CORR);
  uint64_t rate64 = 0;
  if (tc_given(o, N_RATE) && (rc = tc_rate64(w, &o->v[N_RATE], "rate", &rate64)) < 0) return rc;
  struct nlattr *nest = tcw_nest(w, TCA_OPTIONS);
  if (nest == NULL) return -EMSGSIZE;
  rc = tcw_raw(w, &q, sizeof q);
  if (rc == 0 && has_corr) rc = tcw_put(w, TCA_NETEM_CORR, &corr, sizeof corr);
  if (rc == 0 && tc_given(o, N_REORDER)) rc = tcw_put(w, TCA_NETEM_REORDER, &reorder, sizeof reorder);
  if (rc == 0 && ecn) rc = tcw_put_u32(w, TCA_NETEM_ECN, 1);
  if (rc == 0 && tc_given(o, N_CORRUPT)) rc = tcw_put(w, TCA_NETEM_CORRUPT, &corrupt, sizeof corrupt);
  if (rc == 0 && tc_given(o, N_RATE)) {
    struct tc_netem_rate r;
    memset(&r, 0, sizeof r);
    r.rate = rate64 >= (1ULL << 32) ? UINT32_MAX : (uint32_t)rate64;
    if (rate64 >= (1ULL << 32)) rc = tcw_put(w, TCA_NETEM_RATE64, &rate64, sizeof rate64);
    if (rc == 0) rc = tcw_put(w, TCA_NETEM_RATE, &r, sizeof r);
  }
  if (rc == 0) tcw_end(w, nest);
  return rc;
}

static double pct_of(uint32_t v) { return v / (double)UINT32_MAX * 100; }

static void netem_decode(const struct nlattr *opts, const struct cnet_tc_kind *k,
                         struct cnet_tc_info *info) {
  struct tc_netem_qopt q;
  if (mnl_attr_get_payload_len(opts) < sizeof q) return;
  memcpy(&q, mnl_attr_get_payload(opts), sizeof q);
  double delay = tc_tick2time(q.latency) / 1e6, jitter = tc_tick2time(q.jitter) / 1e6;
  struct tc_netem_corr corr = {0, 0, 0};
  struct tc_netem_reorder reorder = {0, 0};
  struct tc_netem_corrupt corrupt = {0, 0};
  uint64_t rate = 0;
  int ecn = 0;
  /* the attributes follow the struct inside the same TCA_OPTIONS */
  const char *p = (const char *)mnl_attr_get_payload(opts) + NLA_ALIGN(sizeof q);
  const char *end = (const char *)opts + opts->nla_len;
  while (end - p >= (long)sizeof(struct nlattr)) {
    const struct nlattr *a = (const void *)p;
    if (a->nla_len < sizeof *a || a->nla_len > end - p) break;
    const void *d = mnl_attr_get_payload(a);
    size_t n = mnl_attr_get_payload_len(a);
    switch (mnl_attr_get_type(a)) {
    case TCA_NETEM_CORR: if (n >= sizeof corr) memcpy(&corr, d, sizeof corr); break;
    case TCA_NETEM_REORDER: if (n >= sizeof reorder) memcpy(&reorder, d, sizeof reorder); break;
    case TCA_NETEM_CORRUPT: if (n >= sizeof corrupt) memcpy(&corrupt, d, sizeof corrupt); break;
    case TCA_NETEM_RATE:
      if (n >= sizeof(struct tc_netem_rate) && rate == 0)
        rate = ((const struct tc_netem_rate *)d)->rate;
      break;
    case TCA_NETEM_RATE64: if (n >= 8) rate = mnl_attr_get_u64(a); break;
    case TCA_NETEM_LATENCY64: if (n >= 8) delay = (double)(int64_t)mnl_attr_get_u64(a) / 1e9; break;
    case TCA_NETEM_JITTER64: if (n >= 8) jitter = (double)(int64_t)mnl_attr_get_u64(a) / 1e9; break;
    case TCA_NETEM_ECN: if (n >= 4) ecn = mnl_attr_get_u32(a) != 0; break;
    default: break;
    }
    p += NLA_ALIGN(a->nla_len);
  }
  tc_value_d(info, k, N_DELAY, delay);
  if (jitter > 0) tc_value_d(info, k, N_JITTER, jitter);
  const struct { unsigned field; uint32_t v; } pcts[] = {
      {N_DELAY_CORR, corr.delay_corr}, {N_LOSS, q.loss}, {N_LOSS_CORR, corr.loss_corr},
      {N_DUP, q.duplicate}, {N_DUP_CORR, corr.dup_corr}, {N_CORRUPT, corrupt.probability},
      {N_CORRUPT_CORR, corrupt.correlation}, {N_REORDER, reorder.probability},
      {N_REORDER_CORR, reorder.correlation}};
  for (size_t i = 0; i < sizeof pcts / sizeof pcts[0]; i++)
    if (pcts[i].v) tc_value_d(info, k, pcts[i].field, pct_of(pcts[i].v));
  if (q.gap) tc_value_u(info, k, N_GAP, q.gap);
  if (rate) tc_value_u(info, k, N_RATE, rate);
  tc_value_u(info, k, N_LIMIT, q.limit);
  if (ecn) tc_value_u(info, k, N_ECN, 1);
}

const struct cnet_tc_kind tc_kind_netem = {"netem", "sch_netem", 0, netem_fields, N_COUNT,
                                           netem_encode, netem_decode};
