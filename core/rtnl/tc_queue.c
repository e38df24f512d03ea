/* Queues that do not shape: the fifos, pfifo_fast and prio (bands), sfq, fq_codel and fq
 * (fair queueing), and the ingress/clsact hooks that only hold filters. */
#include <errno.h>
#include <string.h>

#include "rtnl/tc_int.h"

/* ---- pfifo (a packet count) and bfifo (bytes): one u32 as TCA_OPTIONS ---- */

static const struct tc_field pfifo_fields[] = {{{"limit", CNET_TC_UINT, 0}, 0, 0, 0}};
static const struct tc_field bfifo_fields[] = {{{"limit", CNET_TC_SIZE, 0}, 0, 0, 0}};

static int fifo_encode(struct tcw *w, const struct cnet_tc_kind *k, const struct cnet_tc_opts *o) {
  if (!tc_given(o, 0)) return 0; /* the kernel's default: the device's txqueuelen */
  struct tc_fifo_qopt q;
  int rc = k->fields[0].pub.type == CNET_TC_SIZE ? tc_size32(w, &o->v[0], "limit", &q.limit)
                                                 : tc_u32(w, &o->v[0], "limit", &q.limit);
  return rc < 0 ? rc : tcw_put(w, TCA_OPTIONS, &q, sizeof q);
}

static void fifo_decode(const struct nlattr *opts, const struct cnet_tc_kind *k,
                        struct cnet_tc_info *info) {
  if (mnl_attr_get_payload_len(opts) >= sizeof(struct tc_fifo_qopt))
    tc_value_u(info, k, 0, mnl_attr_get_u32(opts));
}

const struct cnet_tc_kind tc_kind_pfifo = {"pfifo", "sch_fifo", 0, pfifo_fields, 1, fifo_encode,
                                           fifo_decode};
const struct cnet_tc_kind tc_kind_bfifo = {"bfifo", "sch_fifo", 0, bfifo_fields, 1, fifo_encode,
                                           fifo_decode};

/* ---- prio and pfifo_fast: bands and the priority map ---- */

enum { P_BANDS, P_PRIOMAP };
static const struct tc_field prio_fields[] = {{{"bands", CNET_TC_UINT, 0}, 0, 0, 0},
                                              {{"priomap", CNET_TC_LIST, 0}, 0, 0, 0}};
static const struct tc_field pfifo_fast_fields[] = {{{"bands", CNET_TC_UINT, 1}, 0, 0, 0},
                                                    {{"priomap", CNET_TC_LIST, 1}, 0, 0, 0}};

static int prio_encode(struct tcw *w, const struct cnet_tc_kind *k, const struct cnet_tc_opts *o) {
  (void)k;
  /* the kernel's own default map, as tc starts from it */
  struct tc_prio_qopt q = {3, {1, 2, 2, 2, 1, 2, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1}};
  uint32_t bands = 3;
  int rc = tc_given(o, P_BANDS) ? tc_u32(w, &o->v[P_BANDS], "bands", &bands) : 0;
  if (rc < 0) return rc;
  if (bands < 2 || bands > TCQ_PRIO_BANDS) return tcw_fail(w, -ERANGE, "prio: bands is 2..16");
  q.bands = (int)bands;
  if (tc_given(o, P_PRIOMAP)) {
    for (unsigned i = 0; i < o->nlist && i <= TC_PRIO_MAX; i++) {
      if (o->list[i] >= bands)
        return tcw_fail(w, -ERANGE, "prio: priomap entry %u is band %u, beyond the %u bands",
                        i + 1, o->list[i], bands);
      q.priomap[i] = o->list[i];
    }
  }
  /* an old-style struct, then an (empty) nest of the same type: tc's "compat" layout */
  struct nlattr *outer = tcw_nest(w, TCA_OPTIONS);
  if (outer == NULL) return -EMSGSIZE;
  rc = tcw_raw(w, &q, sizeof q);
  struct nlattr *inner = rc == 0 ? tcw_nest(w, TCA_OPTIONS) : NULL;
  if (inner == NULL) return -EMSGSIZE;
  tcw_end(w, inner);
  tcw_end(w, outer);
  return 0;
}

static void prio_decode(const struct nlattr *opts, const struct cnet_tc_kind *k,
                        struct cnet_tc_info *info) {
  struct tc_prio_qopt q;
  if (mnl_attr_get_payload_len(opts) < sizeof q) return;
  memcpy(&q, mnl_attr_get_payload(opts), sizeof q);
  tc_value_u(info, k, P_BANDS, (uint64_t)q.bands);
  memcpy(info->list, q.priomap, sizeof info->list);
  tc_value_u(info, k, P_PRIOMAP, sizeof info->list);
}

const struct cnet_tc_kind tc_kind_prio = {"prio", "sch_prio", 0, prio_fields, 2, prio_encode,
                                          prio_decode};
const struct cnet_tc_kind tc_kind_pfifo_fast = {"pfifo_fast", "sch_generic", 0, pfifo_fast_fields,
                                                2, NULL, prio_decode};

/* ---- sfq: one struct (tc_sfq_qopt_v1), sent only when an option is given ---- */

enum { S_LIMIT, S_PERTURB, S_QUANTUM, S_DIVISOR, S_FLOWS, S_DEPTH, S_HEADDROP, S_COUNT };
static const struct tc_field sfq_fields[] = {
    {{"limit", CNET_TC_UINT, 0}, 0, 0, 0},   {{"perturb", CNET_TC_UINT, 0}, 0, 0, 0},
    {{"quantum", CNET_TC_SIZE, 0}, 0, 0, 0}, {{"divisor", CNET_TC_UINT, 0}, 0, 0, 0},
    {{"flows", CNET_TC_UINT, 0}, 0, 0, 0},   {{"depth", CNET_TC_UINT, 0}, 0, 0, 0},
    {{"headdrop", CNET_TC_BOOL, 0}, 0, 0, 0}};

static int sfq_encode(struct tcw *w, const struct cnet_tc_kind *k, const struct cnet_tc_opts *o) {
  (void)k;
  if (o == NULL || o->given == 0) return 0;
  struct tc_sfq_qopt_v1 q;
  memset(&q, 0, sizeof q);
  uint32_t perturb = 0;
  int rc = 0;
  if (tc_given(o, S_LIMIT)) rc = tc_u32(w, &o->v[S_LIMIT], "limit", &q.v0.limit);
  if (rc == 0 && tc_given(o, S_LIMIT) && q.v0.limit < 2) rc = tcw_fail(w, -ERANGE, "sfq: limit below 2");
  if (rc == 0 && tc_given(o, S_PERTURB)) rc = tc_u32(w, &o->v[S_PERTURB], "perturb", &perturb);
  if (rc == 0 && perturb > INT32_MAX) rc = tcw_fail(w, -ERANGE, "perturb: too large");
  if (rc == 0 && tc_given(o, S_QUANTUM)) rc = tc_size32(w, &o->v[S_QUANTUM], "quantum", &q.v0.quantum);
  if (rc == 0 && tc_given(o, S_DIVISOR)) rc = tc_u32(w, &o->v[S_DIVISOR], "divisor", &q.v0.divisor);
  if (rc == 0 && tc_given(o, S_FLOWS)) rc = tc_u32(w, &o->v[S_FLOWS], "flows", &q.v0.flows);
  if (rc == 0 && tc_given(o, S_DEPTH)) rc = tc_u32(w, &o->v[S_DEPTH], "depth", &q.depth);
  if (rc < 0) return rc;
  q.v0.perturb_period = (int)perturb;
  q.headdrop = tc_given(o, S_HEADDROP) && o->v[S_HEADDROP].num != 0;
  return tcw_put(w, TCA_OPTIONS, &q, sizeof q);
}

static void sfq_decode(const struct nlattr *opts, const struct cnet_tc_kind *k,
                       struct cnet_tc_info *info) {
  struct tc_sfq_qopt_v1 q;
  memset(&q, 0, sizeof q);
  size_t n = mnl_attr_get_payload_len(opts);
  if (n < sizeof q.v0) return;
  memcpy(&q, mnl_attr_get_payload(opts), n < sizeof q ? n : sizeof q);
  tc_value_u(info, k, S_LIMIT, q.v0.limit);
  tc_value_u(info, k, S_PERTURB, (uint32_t)q.v0.perturb_period);
  tc_value_u(info, k, S_QUANTUM, q.v0.quantum);
  tc_value_u(info, k, S_DIVISOR, q.v0.divisor);
  tc_value_u(info, k, S_FLOWS, q.v0.flows);
  if (n >= sizeof q) {
    tc_value_u(info, k, S_DEPTH, q.depth);
    tc_value_u(info, k, S_HEADDROP, q.headdrop != 0);
  }
}

const struct cnet_tc_kind tc_kind_sfq = {"sfq", "sch_sfq", 0, sfq_fields, S_COUNT, sfq_encode,
                                         sfq_decode};

/* ---- fq_codel and fq: nests of u32s, driven by the table alone (in tc's order) ---- */

static const struct tc_field fq_codel_fields[] = {
    {{"limit", CNET_TC_UINT, 0}, C_U32, 0, TCA_FQ_CODEL_LIMIT},
    {{"flows", CNET_TC_UINT, 0}, C_U32, 0, TCA_FQ_CODEL_FLOWS},
    {{"quantum", CNET_TC_UINT, 0}, C_U32, 0, TCA_FQ_CODEL_QUANTUM},
    {{"interval", CNET_TC_TIME, 0}, C_USEC32, 0, TCA_FQ_CODEL_INTERVAL},
    {{"target", CNET_TC_TIME, 0}, C_USEC32, 0, TCA_FQ_CODEL_TARGET},
    {{"ecn", CNET_TC_BOOL, 0}, C_BOOL32, 0, TCA_FQ_CODEL_ECN},
    {{"ce_threshold", CNET_TC_TIME, 0}, C_USEC32, F_UNSET_ALL_ONES, TCA_FQ_CODEL_CE_THRESHOLD},
    {{"memory_limit", CNET_TC_SIZE, 0}, C_SIZE32, 0, TCA_FQ_CODEL_MEMORY_LIMIT},
    {{"drop_batch", CNET_TC_UINT, 0}, C_U32, 0, TCA_FQ_CODEL_DROP_BATCH_SIZE}};

const struct cnet_tc_kind tc_kind_fq_codel = {"fq_codel", "sch_fq_codel", 0, fq_codel_fields, 9,
                                              tc_encode_nested, tc_decode_nested};

static const struct tc_field fq_fields[] = {
    {{"buckets", CNET_TC_UINT, 0}, C_LOG2, 0, TCA_FQ_BUCKETS_LOG},
    {{"limit", CNET_TC_UINT, 0}, C_U32, 0, TCA_FQ_PLIMIT},
    {{"flow_limit", CNET_TC_UINT, 0}, C_U32, 0, TCA_FQ_FLOW_PLIMIT},
    {{"quantum", CNET_TC_UINT, 0}, C_U32, 0, TCA_FQ_QUANTUM},
    {{"initial_quantum", CNET_TC_UINT, 0}, C_U32, 0, TCA_FQ_INITIAL_QUANTUM},
    {{"pacing", CNET_TC_BOOL, 0}, C_BOOL32, 0, TCA_FQ_RATE_ENABLE},
    {{"maxrate", CNET_TC_RATE, 0}, C_RATE32, F_UNSET_ALL_ONES, TCA_FQ_FLOW_MAX_RATE},
    {{"low_rate_threshold", CNET_TC_RATE, 0}, C_RATE32, 0, TCA_FQ_LOW_RATE_THRESHOLD},
    {{"refill_delay", CNET_TC_TIME, 0}, C_USEC32, 0, TCA_FQ_FLOW_REFILL_DELAY},
    {{"orphan_mask", CNET_TC_UINT, 0}, C_U32, 0, TCA_FQ_ORPHAN_MASK},
    {{"ce_threshold", CNET_TC_TIME, 0}, C_USEC32, F_UNSET_ALL_ONES, TCA_FQ_CE_THRESHOLD},
    {{"timer_slack", CNET_TC_TIME, 0}, C_NSEC32, 0, TCA_FQ_TIMER_SLACK}};

const struct cnet_tc_kind tc_kind_fq = {"fq", "sch_fq", 0, fq_fields, 12, tc_encode_nested,
                                        tc_decode_nested};

/* ---- ingress and clsact: hooks for filters, no options ---- */

const struct cnet_tc_kind tc_kind_ingress = {"ingress", "sch_ingress", 0, NULL, 0, NULL, NULL};
const struct cnet_tc_kind tc_kind_clsact = {"clsact", "sch_ingress", 0, NULL, 0, NULL, NULL};
