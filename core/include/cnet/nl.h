/* One netlink socket with a request queue: many requests per sendmsg, replies matched by
 * sequence number, one result per request. Shared by rtnetlink and nfnetlink users. */
#ifndef CNET_NL_H
#define CNET_NL_H

#include <stddef.h>
#include <stdint.h>
#include <libmnl/libmnl.h>

#define CNET_ERRMSG_MAX 256

struct cnet_nl;

/* Called for every data message answering a request (dump parts, RTM_NEWLINK of a get, ...).
 * Return MNL_CB_OK to go on, MNL_CB_ERROR to fail the request with -errno (set errno), or a
 * negative errno directly (anything < MNL_CB_ERROR). */
typedef int (*cnet_nl_cb)(const struct nlmsghdr *nlh, void *data);

/* Opens a socket of `protocol` (NETLINK_ROUTE, NETLINK_NETFILTER) in the calling thread's
 * current network namespace, with extended ACKs, capped ACKs and large buffers.
 * Returns 0 or -errno; *out owned by the caller (cnet_nl_close). */
int cnet_nl_open(int protocol, struct cnet_nl **out);
void cnet_nl_close(struct cnet_nl *nl); /* NULL is fine; discards anything queued */

/* Starts a request at the end of the send queue and returns its header (type, flags set,
 * NLM_F_REQUEST added, fresh sequence number). Add the payload with libmnl's mnl_* helpers,
 * keeping within cnet_nl_room() bytes, then call cnet_nl_queue(). Returns NULL on ENOMEM. */
struct nlmsghdr *cnet_nl_msg(struct cnet_nl *nl, uint16_t type, uint16_t flags);
size_t cnet_nl_room(const struct cnet_nl *nl); /* bytes left for the message being built */

/* Queues the message started by cnet_nl_msg. `cb`/`data` receive its data replies (may be
 * NULL). A request with NLM_F_ACK or NLM_F_DUMP is waited for; one without them (an nfnetlink
 * BEGIN/END) only collects an error if the kernel sends one. Returns the request's index in
 * the queue (>= 0), or -errno. */
int cnet_nl_queue(struct cnet_nl *nl, cnet_nl_cb cb, void *data);

/* Drops the message started by cnet_nl_msg without queueing it. */
void cnet_nl_cancel(struct cnet_nl *nl);

/* Number of requests queued since the last flush. */
unsigned cnet_nl_pending(const struct cnet_nl *nl);

/* Sends every queued request (as few sendmsg calls as the socket allows; `one_send` forces a
 * single sendmsg, required for an nfnetlink batch) and collects every reply.
 * Returns 0 when all requests succeeded, otherwise the (negative) error of the first failed
 * request; per-request results stay readable with cnet_nl_result until the next cnet_nl_msg.
 * While an interrupt is pending (cnet/intr.h) nothing more is sent: a queue sent in several
 * sendmsg calls stops between two of them, and the requests not sent fail with -EINTR. */
int cnet_nl_flush(struct cnet_nl *nl, int one_send);

/* After a flush: the result of request `index` (0 or -errno, -ENOMSG if the kernel never
 * answered one that expected an answer) and its extended-ACK text ("" when none). */
int cnet_nl_result(const struct cnet_nl *nl, unsigned index, const char **errmsg);
/* After a flush: where in request `index` (bytes from its netlink header) the attribute the
 * kernel blamed for its error starts (the extended ACK's NLMSGERR_ATTR_OFFS). Returns 0, or
 * -ENOENT when the kernel named none. */
int cnet_nl_result_offset(const struct cnet_nl *nl, unsigned index, uint32_t *off);
/* After a flush: index of the first failed request, or -1. */
int cnet_nl_first_error(const struct cnet_nl *nl);
/* After a flush: how many requests the last flush carried. */
unsigned cnet_nl_flushed(const struct cnet_nl *nl);

/* Queue + flush of the one message just built: the synchronous form. Returns 0 or -errno;
 * the kernel's text, if any, is copied into errmsg (CNET_ERRMSG_MAX bytes, may be NULL). */
int cnet_nl_talk(struct cnet_nl *nl, cnet_nl_cb cb, void *data, char *errmsg);

/* One change: a request of `type` (NLM_F_ACK added to flags) whose body `fill` writes from
 * `req` within `room` bytes, then cnet_nl_talk without a reply callback (so a batch defers
 * it). Returns 0 or -errno; the kernel's text goes to errmsg. */
typedef int (*cnet_nl_fill)(struct nlmsghdr *nlh, size_t room, const void *req);
int cnet_nl_change(struct cnet_nl *nl, uint16_t type, uint16_t flags, cnet_nl_fill fill,
                   const void *req, char *errmsg);

/* Many independent changes sent together, at once even inside a batch (which is sent
 * first): request i has `type` (NLM_F_ACK added) and the body fill writes from
 * (const char *)reqs + i * size. *done (may be NULL) counts those that succeeded. A failure
 * whose code is `ignore` (a negative errno, or 0 for none) is neither counted nor an error.
 * Returns 0 or the first other failure (the kernel's text in errmsg); the others are still
 * sent. */
int cnet_nl_change_all(struct cnet_nl *nl, uint16_t type, uint16_t flags, cnet_nl_fill fill,
                       const void *reqs, size_t size, unsigned n, int ignore, unsigned *done,
                       char *errmsg);

/* A dump: `build` fills the request (called again for each retry), `cb` takes each part,
 * `reset` (may be NULL) forgets what `cb` collected before a retry. Retries up to 8 times when
 * the kernel marks the dump interrupted (NLM_F_DUMP_INTR); then fails with -EINTR.
 * Anything queued before is flushed first. */
typedef int (*cnet_nl_build)(struct cnet_nl *nl, void *data);
int cnet_nl_dump(struct cnet_nl *nl, cnet_nl_build build, cnet_nl_cb cb,
                 void (*reset)(void *data), void *data, char *errmsg);
/* The same with strict checking (NETLINK_GET_STRICT_CHK) on for this dump only when `strict`,
 * so that the kernel (4.20+) honours the filters the request carries. `cb` must filter again:
 * an older kernel ignores them. */
int cnet_nl_dump_filtered(struct cnet_nl *nl, int strict, cnet_nl_build build, cnet_nl_cb cb,
                          void (*reset)(void *data), void *data, char *errmsg);

/* Batches: deferred sending across sockets.
 * A socket attached to a batch queues every cnet_nl_talk request that has no reply callback
 * and returns 0 at once. Each socket keeps its own queue; requests that change the same
 * namespace reach the kernel in the order they were made, while queues that share no
 * namespace wait for nothing (see nl_batch.c). Everything goes out when the batch is flushed
 * or a request that reads (a callback, a dump) needs the kernel up to date. Failures are kept
 * with the tag that was current when each request was queued (cnet_batch_set_tag), so they
 * can be reported against the line that made them, in program order. A failed request does
 * not stop the others. */
struct cnet_batch;
int cnet_batch_new(struct cnet_batch **out);
/* Flushes, detaches every socket, frees. NULL is fine. */
void cnet_batch_free(struct cnet_batch *b);
/* Attaches nl to b (NULL: detaches, flushing what nl deferred). 0 or -ENOMEM. */
int cnet_nl_set_batch(struct cnet_nl *nl, struct cnet_batch *b);
void cnet_batch_set_tag(struct cnet_batch *b, int tag);
/* Sends what is deferred; returns 0 or the error of the first failure recorded so far. */
int cnet_batch_flush(struct cnet_batch *b);
/* Requests sent so far, failures recorded so far, and failure i (its error, tag, text), in
 * the order of their tags once the batch has been flushed. */
unsigned cnet_batch_sent(const struct cnet_batch *b);
unsigned cnet_batch_failures(const struct cnet_batch *b);
int cnet_batch_failure(const struct cnet_batch *b, unsigned i, int *tag, const char **errmsg);

/* What a request tells the batch beyond its own socket (all no-ops outside a batch):
 * nskey: the identity of nl's namespace (nsfs inode), so that two sockets in one namespace
 * are ordered as one; touch: the next deferred request on nl also changes other's namespace
 * (a veth peer, a move), attaching other to the batch; hold_fd: a descriptor the queued
 * request carries, closed once it is sent (always taken over, also on -ENOMEM: then closed). */
void cnet_nl_set_nskey(struct cnet_nl *nl, uint64_t key);
int cnet_nl_batched(const struct cnet_nl *nl);
int cnet_nl_touch(struct cnet_nl *nl, struct cnet_nl *other);
int cnet_nl_hold_fd(struct cnet_nl *nl, int fd);
/* Device names known inside a batch, per socket. get returns 1 and the index when known; the
 * next deferred request on nl, within the same call, then carries the name and index and is
 * not sent unless the device still has that index, nor when the call that made it (put with
 * `made`) failed. forget drops every name of every socket of the batch. */
int cnet_nl_name_get(struct cnet_nl *nl, const char *name, int *index);
void cnet_nl_name_put(struct cnet_nl *nl, const char *name, int index, int made);
void cnet_nl_forget_names(struct cnet_nl *nl);

/* Sends whatever nl's batch (if it has one) has deferred, so that a change made outside
 * netlink (writing a sysctl file) comes after every request made before it. Failures stay
 * with the batch. */
void cnet_nl_sync(struct cnet_nl *nl);

/* Forgets every queued request and its results, as if none had been made: for a caller
 * whose reply callback was abandoned midway (a Lua error unwinding through a flush). Replies
 * still on the way are skipped later, their sequence numbers being unknown. */
void cnet_nl_discard(struct cnet_nl *nl);

uint32_t cnet_nl_portid(const struct cnet_nl *nl);
int cnet_nl_fd(const struct cnet_nl *nl);

#endif
