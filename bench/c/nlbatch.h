/* nlbatch: the smallest pipelined netlink sender the bench peers need.
 * Messages are packed back to back in one buffer and sent with one sendto();
 * only the last message asks for an ACK, the kernel reports any failure on its
 * own, so a whole batch costs one send and one or two receives. */
#ifndef BENCH_NLBATCH_H
#define BENCH_NLBATCH_H

#include <stddef.h>
#include <stdint.h>
#include <libmnl/libmnl.h>

struct nlb {
	struct mnl_socket *nl;
	char *buf;
	size_t cap;          /* bytes in buf */
	size_t len;          /* bytes queued */
	size_t flush_at;     /* auto-flush when len passes this (0: never) */
	uint32_t seq;        /* next sequence number */
	struct nlmsghdr *last; /* last request queued (gets NLM_F_ACK) */
	const char *what;    /* label for error messages */
};

/* Open a netlink socket of the given bus in the current namespace.
 * cap is the buffer size; flush_at 0 means the caller flushes. */
int nlb_open(struct nlb *b, int bus, size_t cap, size_t flush_at, const char *what);
void nlb_close(struct nlb *b);

/* Start a request; returns the header to fill with mnl_attr_put_* calls.
 * Call nlb_end() once the message is complete. */
struct nlmsghdr *nlb_put(struct nlb *b, uint16_t type, uint16_t flags);
/* Finish a request started with nlb_put (may flush). Returns 0 or -errno. */
int nlb_end(struct nlb *b, struct nlmsghdr *nlh);
/* Append a raw message already written at nlb_tail() (nfnetlink batch
 * markers); it does not count as a request. */
char *nlb_tail(struct nlb *b);
void nlb_raw(struct nlb *b, struct nlmsghdr *nlh);

/* Send everything queued; wait for the ACK of the last request.
 * Returns 0, or the first -errno the kernel reported (printed to stderr). */
int nlb_flush(struct nlb *b);

/* Send without waiting; nlb_wait() collects the ACK later.  Lets a caller
 * fire batches on many sockets before reading any answer. */
int nlb_send(struct nlb *b);
int nlb_wait(struct nlb *b);

#endif
