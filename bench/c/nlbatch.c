#include "nlbatch.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <linux/netlink.h>

int nlb_open(struct nlb *b, int bus, size_t cap, size_t flush_at, const char *what)
{
	memset(b, 0, sizeof *b);
	b->what = what;
	b->cap = cap;
	b->flush_at = flush_at;
	b->seq = 1;
	b->buf = malloc(cap);
	if (b->buf == NULL)
		return -ENOMEM;
	b->nl = mnl_socket_open(bus);
	if (b->nl == NULL || mnl_socket_bind(b->nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		int rc = -errno;
		nlb_close(b);
		return rc;
	}
	/* A big batch is one skb: the send buffer must hold it (root may force). */
	int sz = (int)(cap + 65536);
	setsockopt(mnl_socket_get_fd(b->nl), SOL_SOCKET, SO_SNDBUFFORCE, &sz, sizeof sz);
	int one = 1;
	setsockopt(mnl_socket_get_fd(b->nl), SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof one);
	return 0;
}

void nlb_close(struct nlb *b)
{
	if (b->nl != NULL)
		mnl_socket_close(b->nl);
	free(b->buf);
	b->nl = NULL;
	b->buf = NULL;
}

struct nlmsghdr *nlb_put(struct nlb *b, uint16_t type, uint16_t flags)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(b->buf + b->len);
	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST | flags;
	nlh->nlmsg_seq = b->seq++;
	return nlh;
}

int nlb_end(struct nlb *b, struct nlmsghdr *nlh)
{
	b->len += NLMSG_ALIGN(nlh->nlmsg_len);
	b->last = nlh;
	if (b->len + 2048 > b->cap) {
		fprintf(stderr, "%s: batch buffer too small\n", b->what);
		abort();
	}
	if (b->flush_at != 0 && b->len >= b->flush_at)
		return nlb_flush(b);
	return 0;
}

char *nlb_tail(struct nlb *b)
{
	return b->buf + b->len;
}

void nlb_raw(struct nlb *b, struct nlmsghdr *nlh)
{
	b->len += NLMSG_ALIGN(nlh->nlmsg_len);
}

int nlb_send(struct nlb *b)
{
	if (b->len == 0)
		return 0;
	if (b->last != NULL)
		b->last->nlmsg_flags |= NLM_F_ACK;
	ssize_t n = mnl_socket_sendto(b->nl, b->buf, b->len);
	if (n < 0) {
		int rc = -errno;
		fprintf(stderr, "%s: sendto: %s\n", b->what, strerror(errno));
		return rc;
	}
	return 0;
}

int nlb_wait(struct nlb *b)
{
	if (b->len == 0)
		return 0;
	uint32_t want = b->last != NULL ? b->last->nlmsg_seq : 0;
	int first = 0;
	char rbuf[16384];
	b->len = 0;
	b->last = NULL;
	if (want == 0)
		return 0;
	for (;;) {
		ssize_t n = mnl_socket_recvfrom(b->nl, rbuf, sizeof rbuf);
		if (n < 0) {
			fprintf(stderr, "%s: recv: %s\n", b->what, strerror(errno));
			return -errno;
		}
		struct nlmsghdr *nlh = (struct nlmsghdr *)rbuf;
		int len = (int)n;
		for (; mnl_nlmsg_ok(nlh, len); nlh = mnl_nlmsg_next(nlh, &len)) {
			if (nlh->nlmsg_type != NLMSG_ERROR)
				continue;
			const struct nlmsgerr *e = mnl_nlmsg_get_payload(nlh);
			if (e->error != 0) {
				fprintf(stderr, "%s: request %u (type %u): %s\n", b->what,
					nlh->nlmsg_seq, e->msg.nlmsg_type, strerror(-e->error));
				if (first == 0)
					first = e->error;
			}
			if (nlh->nlmsg_seq == want)
				return first;
		}
	}
}

int nlb_flush(struct nlb *b)
{
	int rc = nlb_send(b);
	if (rc < 0)
		return rc;
	return nlb_wait(b);
}
