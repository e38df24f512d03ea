/* Batches: requests deferred on many sockets (one per namespace) and sent in an order the
 * kernel cannot tell from program order.
 *
 * Two requests need their program order only when they change the same namespace (a veth
 * made in the host with its peer in `c1` changes both). So each socket keeps its own queue,
 * and the batch remembers, per namespace, which queue holds the last pending request that
 * changes it. A new request that changes a namespace whose last request sits in another
 * queue makes its queue wait for that one (an edge); sending a queue first sends the queues
 * it waits for. Queues that share nothing are never forced out by each other, so a script
 * that goes container by container (namespace, veth, its peer up, address, route) still
 * reaches the kernel as a few large sends. When waiting would close a cycle, the queue is
 * sent as it stands first. Routing netlink handles a send to the end before sendmsg returns,
 * so a queue that is sent is also applied, in order. */
#include "netlink/nl_int.h"

#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

static int grow(void **arr, unsigned *cap, unsigned need, size_t size) {
  if (need <= *cap) return 0;
  unsigned n = *cap ? *cap * 2 : 8;
  while (n < need) n *= 2;
  void *p = realloc(*arr, n * size);
  if (p == NULL) return -ENOMEM;
  *arr = p;
  *cap = n;
  return 0;
}

static uint64_t key_of(const struct cnet_nl *nl) {
  return nl->nskey ? nl->nskey : ((uint64_t)1 << 63) | (uint64_t)(uintptr_t)nl;
}

/* A queue still holding the requests of generation gen. */
static int live(const struct cnet_nl *q, unsigned gen) {
  return q->gen == gen && cnet_nl_pending(q) > 0;
}

/* ---- per-namespace marks: open addressing on the key ---- */

static struct mark *mark_slot(struct cnet_batch *b, uint64_t key) {
  unsigned mask = b->capmarks - 1, i = (unsigned)(key * 0x9E3779B97F4A7C15ull >> 40) & mask;
  while (b->marks[i].key != 0 && b->marks[i].key != key) i = (i + 1) & mask;
  return &b->marks[i];
}

static struct mark *mark_find(struct cnet_batch *b, uint64_t key) {
  if (b->capmarks == 0) return NULL;
  struct mark *m = mark_slot(b, key);
  return m->key == key ? m : NULL;
}

static int mark_set(struct cnet_batch *b, uint64_t key, struct cnet_nl *q) {
  if (2 * (b->nmarks + 1) > b->capmarks) {
    unsigned cap = b->capmarks ? b->capmarks * 2 : 64;
    struct mark *old = b->marks;
    unsigned oldcap = b->capmarks;
    if ((b->marks = calloc(cap, sizeof *b->marks)) == NULL) {
      b->marks = old;
      return -ENOMEM;
    }
    b->capmarks = cap;
    for (unsigned i = 0; i < oldcap; i++)
      if (old[i].key != 0) *mark_slot(b, old[i].key) = old[i];
    free(old);
  }
  struct mark *m = mark_slot(b, key);
  if (m->key == 0) b->nmarks++;
  m->key = key;
  m->q = q;
  m->gen = q->gen;
  return 0;
}

/* ---- failures ---- */

static void record(struct cnet_batch *b, int tag, int err, const char *errmsg) {
  if (grow((void **)&b->fails, &b->capfails, b->nfails + 1, sizeof *b->fails) < 0)
    return; /* the first failures are kept; later ones are lost under ENOMEM */
  struct failure *f = &b->fails[b->nfails];
  f->tag = tag;
  f->err = err;
  f->order = b->nfails++;
  f->errmsg = errmsg && *errmsg ? strdup(errmsg) : NULL;
}

static int failed(const struct cnet_batch *b, int tag) {
  for (unsigned i = 0; i < b->nfails; i++)
    if (b->fails[i].tag == tag) return 1;
  return 0;
}

static int by_tag(const void *x, const void *y) {
  const struct failure *a = x, *c = y;
  if (a->tag != c->tag) return a->tag < c->tag ? -1 : 1;
  return a->order < c->order ? -1 : a->order > c->order;
}

/* ---- sending ---- */

/* Why request r, which names devices by indexes the batch remembers, must not be sent: the
 * call that made one failed, or a device has another index than remembered (something else
 * added, renamed or removed links there). NULL: send it. Runs once every maker was sent.
 * seen: the device last found as remembered while this queue is checked, not asked again
 * (the bridge that 500 veths of one send name as their master). */
static const char *orphaned(const struct cnet_batch *b, const struct cnet_nl *q,
                            const struct req *r, struct dep *seen, char *why, size_t n) {
  for (unsigned d = 0; d < r->ndeps; d++) {
    const struct dep *dep = &r->deps[d];
    if (dep->tag != 0 && failed(b, dep->tag)) return "not sent: the device it names was not created";
    if (dep->index == seen->index && strcmp(dep->name, seen->name) == 0) continue;
    struct ifreq ifr;
    memset(&ifr, 0, sizeof ifr);
    memcpy(ifr.ifr_name, dep->name, sizeof dep->name);
    if (ioctl(cnet_nl_fd(q), SIOCGIFINDEX, &ifr) < 0) {
      snprintf(why, n, "not sent: device %s is missing", dep->name);
      return why;
    }
    if (ifr.ifr_ifindex != dep->index) {
      snprintf(why, n, "not sent: device %s has index %d, not the %d this batch expected",
               dep->name, ifr.ifr_ifindex, dep->index);
      return why;
    }
    *seen = *dep;
  }
  return NULL;
}

/* Takes out of q the requests that orphaned() refuses, each recorded as a failure. */
static void drop_orphans(struct cnet_batch *b, struct cnet_nl *q) {
  unsigned n = q->nreq, kept = 0;
  char why[128];
  const char *first = NULL;
  struct dep seen = {0, 0, ""};
  unsigned i0 = 0;
  for (; i0 < n && first == NULL; i0++)
    if (q->reqs[i0].ndeps > 0) first = orphaned(b, q, &q->reqs[i0], &seen, why, sizeof why);
  if (first == NULL) return;
  i0--;
  uint32_t seq = q->reqs[0].seq;
  size_t from = 0, to = 0;
  for (unsigned i = 0; i < n; i++) {
    struct nlmsghdr *nlh = (void *)(q->buf + from);
    size_t len = NLMSG_ALIGN(nlh->nlmsg_len);
    struct req r = q->reqs[i];
    const char *drop = i < i0 ? NULL : i == i0 ? first
                     : r.ndeps ? orphaned(b, q, &r, &seen, why, sizeof why) : NULL;
    if (drop != NULL) {
      record(b, r.tag, -ECANCELED, drop);
      free(r.errmsg);
    } else {
      memmove(q->buf + to, q->buf + from, len);
      ((struct nlmsghdr *)(void *)(q->buf + to))->nlmsg_seq = r.seq = seq + kept;
      q->reqs[kept++] = r;
      to += len;
    }
    from += len;
  }
  if (q->building) { /* the message being built follows, renumbered too */
    struct nlmsghdr *nlh = (void *)(q->buf + q->cur);
    memmove(q->buf + to, nlh, nlh->nlmsg_len);
    q->cur = to;
    ((struct nlmsghdr *)(void *)(q->buf + to))->nlmsg_seq = seq + kept;
    q->seq = seq + kept + 1;
  } else {
    q->seq = seq + kept;
  }
  q->nreq = kept;
  q->len = to;
}

/* Sends q's queue as it stands; a message being built on q stays, moved to the front. */
static void send_queue(struct cnet_batch *b, struct cnet_nl *q) {
  if (cnet_nl_pending(q) == 0) return;
  drop_orphans(b, q);
  if (q->nreq > 0) {
    cnet_nl_flush(q, 0);
    for (unsigned i = 0; i < q->nreq; i++)
      if (q->reqs[i].err != 0) record(b, q->reqs[i].tag, q->reqs[i].err, q->reqs[i].errmsg);
    b->sent += q->nreq;
  }
  q->flushed = 1;
  /* Close the descriptors of what was sent; a message being built keeps its own. */
  for (unsigned i = 0; i < q->nfds_queued; i++) close(q->fds[i]);
  if (q->nfds > q->nfds_queued)
    memmove(q->fds, q->fds + q->nfds_queued, (q->nfds - q->nfds_queued) * sizeof *q->fds);
  q->nfds -= q->nfds_queued;
  q->nfds_queued = 0;
  q->nwaits = 0;
  q->gen++;
  if (q->building) {
    struct nlmsghdr *nlh = (void *)(q->buf + q->cur);
    memmove(q->buf, nlh, nlh->nlmsg_len);
    nl_forget_results(q);
    q->cur = 0;
  }
}

/* Sends q after every queue it waits for. */
static void send_chain(struct cnet_batch *b, struct cnet_nl *q) {
  if (q->visiting < 0) return; /* already on the way out (cannot happen without a cycle) */
  q->visiting = -1;
  for (unsigned i = 0; i < q->nwaits; i++)
    if (live(q->waits[i].q, q->waits[i].gen)) send_chain(b, q->waits[i].q);
  q->visiting = 0;
  send_queue(b, q);
}

/* 1 when x's queue waits, directly or not, for target's. */
static int waits_on(struct cnet_nl *x, const struct cnet_nl *target, int stamp) {
  if (x == target) return 1;
  if (x->visiting == stamp) return 0;
  x->visiting = stamp;
  for (unsigned i = 0; i < x->nwaits; i++)
    if (live(x->waits[i].q, x->waits[i].gen) && waits_on(x->waits[i].q, target, stamp)) return 1;
  return 0;
}

/* Forgets what an earlier call left on nl for its next request and never used. */
static void new_call(struct cnet_nl *nl) {
  if (nl->call_tag == nl->batch->tag) return;
  nl->call_tag = nl->batch->tag;
  nl->ntouch = nl->next_ndeps = 0;
}

/* 1 when the call that made a device the next request names waits in nl's own queue: it must
 * reach the kernel before orphaned() can look at the device. */
static int maker_queued_here(const struct cnet_nl *nl) {
  for (unsigned d = 0; d < nl->next_ndeps; d++)
    for (unsigned i = 0; nl->next_deps[d].tag != 0 && i < cnet_nl_pending(nl); i++)
      if (nl->reqs[i].tag == nl->next_deps[d].tag) return 1;
  return 0;
}

int nlb_defer(struct cnet_nl *nl) {
  struct cnet_batch *b = nl->batch;
  new_call(nl);
  uint64_t keys[1 + MAX_TOUCH];
  unsigned nkeys = 0;
  keys[nkeys++] = key_of(nl);
  for (unsigned i = 0; i < nl->ntouch; i++) keys[nkeys++] = nl->touch[i];
  nl->ntouch = 0;
  for (unsigned k = 0; k < nkeys; k++) {
    struct mark *m = mark_find(b, keys[k]);
    if (m == NULL || m->q == nl || !live(m->q, m->gen)) continue;
    struct cnet_nl *before = m->q;
    if (waits_on(before, nl, ++b->walk)) send_chain(b, nl); /* a cycle: nl goes first */
    if (grow((void **)&nl->waits, &nl->capwaits, nl->nwaits + 1, sizeof *nl->waits) < 0)
      send_chain(b, before); /* no room to remember the order: keep it by sending now */
    else
      nl->waits[nl->nwaits++] = (struct edge){before, before->gen};
  }
  if (maker_queued_here(nl)) send_chain(b, nl);
  int idx = cnet_nl_queue(nl, NULL, NULL);
  if (idx < 0) return idx;
  nl->nfds_queued = nl->nfds;
  for (unsigned k = 0; k < nkeys; k++)
    if (mark_set(b, keys[k], nl) < 0) { /* cannot track it: order by sending at once */
      send_chain(b, nl);
      break;
    }
  /* Keep the send buffer and the ACKs of one send within bounds. */
  if (cnet_nl_pending(nl) >= CHUNK_MSGS) send_chain(b, nl);
  return 0;
}

/* ---- the batch's life ---- */

int cnet_batch_new(struct cnet_batch **out) {
  *out = calloc(1, sizeof **out);
  return *out == NULL ? -ENOMEM : 0;
}

static void detach(struct cnet_batch *b, struct cnet_nl *nl) {
  for (unsigned i = 0; i < b->nsocks; i++)
    if (b->socks[i] == nl) {
      b->socks[i] = b->socks[--b->nsocks];
      break;
    }
  nl->batch = NULL;
  nl->nwaits = nl->nnames = nl->ntouch = nl->next_ndeps = 0;
  for (unsigned i = 0; i < nl->nfds; i++) close(nl->fds[i]);
  nl->nfds = nl->nfds_queued = 0;
  if (nl->closed) nl_free(nl);
}

int cnet_nl_set_batch(struct cnet_nl *nl, struct cnet_batch *b) {
  if (nl->batch == b) return 0;
  if (nl->batch != NULL) {
    cnet_batch_flush(nl->batch);
    detach(nl->batch, nl);
  }
  if (b == NULL) return 0;
  if (grow((void **)&b->socks, &b->capsocks, b->nsocks + 1, sizeof *b->socks) < 0) return -ENOMEM;
  b->socks[b->nsocks++] = nl;
  nl->batch = b;
  return 0;
}

int nlb_close(struct cnet_nl *nl) {
  /* Other queues may wait for this one and marks may point at it: keep it, queue and all,
   * until the batch ends. */
  nl->closed = 1;
  return 1;
}

void cnet_batch_set_tag(struct cnet_batch *b, int tag) { b->tag = tag; }

int cnet_batch_flush(struct cnet_batch *b) {
  for (unsigned i = 0; i < b->nsocks; i++)
    if (cnet_nl_pending(b->socks[i]) > 0) send_chain(b, b->socks[i]);
  /* Reordered sends record failures out of program order: put them back in it. */
  if (b->nfails > 1) qsort(b->fails, b->nfails, sizeof *b->fails, by_tag);
  return b->nfails ? b->fails[0].err : 0;
}

void cnet_nl_sync(struct cnet_nl *nl) {
  if (nl->batch != NULL) cnet_batch_flush(nl->batch);
}

unsigned cnet_batch_sent(const struct cnet_batch *b) { return b->sent; }
unsigned cnet_batch_failures(const struct cnet_batch *b) { return b->nfails; }

int cnet_batch_failure(const struct cnet_batch *b, unsigned i, int *tag, const char **errmsg) {
  if (i >= b->nfails) return 0;
  *tag = b->fails[i].tag;
  *errmsg = b->fails[i].errmsg ? b->fails[i].errmsg : "";
  return b->fails[i].err;
}

void cnet_batch_free(struct cnet_batch *b) {
  if (b == NULL) return;
  cnet_batch_flush(b);
  while (b->nsocks > 0) detach(b, b->socks[0]);
  for (unsigned i = 0; i < b->nfails; i++) free(b->fails[i].errmsg);
  free(b->fails);
  free(b->marks);
  free(b->socks);
  free(b);
}

/* ---- what link requests tell the batch ---- */

void cnet_nl_set_nskey(struct cnet_nl *nl, uint64_t key) { nl->nskey = key; }
int cnet_nl_batched(const struct cnet_nl *nl) { return nl->batch != NULL; }

int cnet_nl_touch(struct cnet_nl *nl, struct cnet_nl *other) {
  if (nl->batch == NULL) return 0;
  if (other->batch != nl->batch) {
    int rc = cnet_nl_set_batch(other, nl->batch);
    if (rc < 0) return rc;
  }
  new_call(nl);
  if (nl->ntouch < MAX_TOUCH) nl->touch[nl->ntouch++] = key_of(other);
  return 0;
}

int cnet_nl_hold_fd(struct cnet_nl *nl, int fd) {
  if (grow((void **)&nl->fds, &nl->capfds, nl->nfds + 1, sizeof *nl->fds) < 0) {
    close(fd);
    return -ENOMEM;
  }
  nl->fds[nl->nfds++] = fd;
  return 0;
}

int cnet_nl_name_get(struct cnet_nl *nl, const char *name, int *index) {
  if (nl->batch == NULL) return 0;
  new_call(nl);
  for (unsigned i = 0; i < nl->nnames; i++)
    if (strcmp(nl->names[i].name, name) == 0) {
      if (nl->next_ndeps == MAX_DEPS) return 0; /* cannot be checked: ask the kernel */
      *index = nl->names[i].index;
      struct dep *d = &nl->next_deps[nl->next_ndeps++];
      d->tag = nl->names[i].dep;
      d->index = nl->names[i].index;
      memcpy(d->name, nl->names[i].name, sizeof d->name);
      return 1;
    }
  return 0;
}

void cnet_nl_name_put(struct cnet_nl *nl, const char *name, int index, int made) {
  if (nl->batch == NULL || strlen(name) >= sizeof nl->names[0].name) return;
  unsigned i = 0;
  while (i < nl->nnames && strcmp(nl->names[i].name, name) != 0) i++;
  if (i < nl->nnames && made && nl->names[i].dep != 0)
    return; /* a second add of the name fails (EEXIST) while the first device stays */
  if (i == nl->nnames) {
    if (grow((void **)&nl->names, &nl->capnames, i + 1, sizeof *nl->names) < 0) return;
    nl->nnames++;
  }
  strcpy(nl->names[i].name, name);
  nl->names[i].index = index;
  nl->names[i].dep = made ? nl->batch->tag : 0;
}

void cnet_nl_forget_names(struct cnet_nl *nl) {
  struct cnet_batch *b = nl->batch;
  if (b == NULL) return;
  for (unsigned i = 0; i < b->nsocks; i++) b->socks[i]->nnames = 0;
}
