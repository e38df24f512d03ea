/* The netlink request queue: see include/cnet/nl.h. */
#include "netlink/nl_int.h"
#include "cnet/intr.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <linux/netlink.h>

#ifndef SOL_NETLINK
#define SOL_NETLINK 270
#endif


static void set_buf(int fd, int opt_force, int opt, int size) {
  /* FORCE ignores rmem_max/wmem_max but needs CAP_NET_ADMIN; fall back to the capped one. */
  if (setsockopt(fd, SOL_SOCKET, opt_force, &size, sizeof size) < 0)
    (void)setsockopt(fd, SOL_SOCKET, opt, &size, sizeof size);
}

int cnet_nl_open(int protocol, struct cnet_nl **out) {
  *out = NULL;
  struct cnet_nl *nl = calloc(1, sizeof *nl);
  if (nl == NULL) return -ENOMEM;
  nl->sock = mnl_socket_open2(protocol, SOCK_CLOEXEC);
  if (nl->sock == NULL) {
    int rc = errno ? -errno : -ENOMEM; /* never 0: the caller would take a NULL socket */
    free(nl);
    return rc;
  }
  int fd = mnl_socket_get_fd(nl->sock), one = 1;
  (void)setsockopt(fd, SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof one);
  (void)setsockopt(fd, SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof one);
  set_buf(fd, SO_RCVBUFFORCE, SO_RCVBUF, 4 << 20);
  if (mnl_socket_bind(nl->sock, 0, MNL_SOCKET_AUTOPID) < 0) {
    int rc = -errno;
    mnl_socket_close(nl->sock);
    free(nl);
    return rc;
  }
  nl->portid = mnl_socket_get_portid(nl->sock);
  nl->seq = 1;
  nl->sndbuf = SNDBUF_FLOOR;
  *out = nl;
  return 0;
}

void nl_forget_results(struct cnet_nl *nl) {
  for (unsigned i = 0; i < nl->nreq; i++) free(nl->reqs[i].errmsg);
  nl->nreq = 0;
  nl->len = 0;
  nl->flushed = 0;
}

void cnet_nl_close(struct cnet_nl *nl) {
  if (nl == NULL) return;
  if (nl->batch != NULL && nlb_close(nl)) return; /* its batch still owes the kernel */
  nl_free(nl);
}

void nl_free(struct cnet_nl *nl) {
  nl_pipe_abandon(nl);
  nl_forget_results(nl);
  mnl_socket_close(nl->sock);
  for (unsigned i = 0; i < nl->nfds; i++) close(nl->fds[i]);
  free(nl->fds);
  free(nl->waits);
  free(nl->names);
  free(nl->reqs);
  free(nl->buf);
  free(nl->rbuf);
  free(nl);
}

uint32_t cnet_nl_portid(const struct cnet_nl *nl) { return nl->portid; }
int cnet_nl_fd(const struct cnet_nl *nl) { return mnl_socket_get_fd(nl->sock); }
unsigned cnet_nl_pending(const struct cnet_nl *nl) { return nl->flushed ? 0 : nl->nreq; }
unsigned cnet_nl_flushed(const struct cnet_nl *nl) { return nl->flushed ? nl->nreq : 0; }

struct nlmsghdr *cnet_nl_msg(struct cnet_nl *nl, uint16_t type, uint16_t flags) {
  if (nl->flushed) nl_forget_results(nl);
  if (nl->cap - nl->len < ROOM) {
    size_t cap = nl->cap ? nl->cap * 2 : 2 * ROOM;
    while (cap - nl->len < ROOM) cap *= 2;
    char *b = realloc(nl->buf, cap);
    if (b == NULL) return NULL;
    nl->buf = b;
    nl->cap = cap;
  }
  nl->cur = nl->len;
  nl->building = 1;
  memset(nl->buf + nl->cur, 0, MNL_NLMSG_HDRLEN);
  struct nlmsghdr *nlh = mnl_nlmsg_put_header(nl->buf + nl->cur);
  nlh->nlmsg_type = type;
  nlh->nlmsg_flags = NLM_F_REQUEST | flags;
  nlh->nlmsg_seq = nl->seq++;
  return nlh;
}

size_t cnet_nl_room(const struct cnet_nl *nl) {
  if (!nl->building) return 0;
  const struct nlmsghdr *nlh = (const void *)(nl->buf + nl->cur);
  return nl->cap - nl->cur - nlh->nlmsg_len;
}

void cnet_nl_cancel(struct cnet_nl *nl) {
  nl->building = 0;
  nl->seq--;
}

static int queue(struct cnet_nl *nl, cnet_nl_cb cb, void *data, int dump) {
  if (!nl->building) return -EINVAL;
  if (nl->nreq == nl->reqcap) {
    unsigned cap = nl->reqcap ? nl->reqcap * 2 : 8; /* most sockets queue a few */
    struct req *r = realloc(nl->reqs, cap * sizeof *r);
    if (r == NULL) return -ENOMEM;
    nl->reqs = r;
    nl->reqcap = cap;
  }
  struct nlmsghdr *nlh = (void *)(nl->buf + nl->cur);
  struct req *r = &nl->reqs[nl->nreq];
  memset(r, 0, sizeof *r);
  r->seq = nlh->nlmsg_seq;
  r->dump = (unsigned char)dump;
  r->expect = dump || (nlh->nlmsg_flags & NLM_F_ACK);
  r->cb = cb;
  r->data = data;
  r->tag = nl->batch ? nl->batch->tag : 0;
  if (nl->batch != NULL && nl->call_tag == nl->batch->tag) {
    r->ndeps = (unsigned char)nl->next_ndeps;
    memcpy(r->deps, nl->next_deps, nl->next_ndeps * sizeof *r->deps);
  }
  nl->next_ndeps = 0;
  nl->len = nl->cur + NLMSG_ALIGN(nlh->nlmsg_len);
  nl->building = 0;
  return (int)nl->nreq++;
}

int cnet_nl_queue(struct cnet_nl *nl, cnet_nl_cb cb, void *data) {
  return queue(nl, cb, data, 0);
}

static struct req *find(struct cnet_nl *nl, uint32_t seq) {
  if (nl->nreq == 0) return NULL;
  uint32_t idx = seq - nl->reqs[0].seq; /* sequence numbers are consecutive in a queue */
  if (idx >= nl->nreq || nl->reqs[idx].seq != seq) return NULL;
  return &nl->reqs[idx];
}

static void keep_errmsg(struct req *r, const struct nlmsghdr *nlh) {
  const struct nlmsgerr *e = mnl_nlmsg_get_payload(nlh);
  if (!(nlh->nlmsg_flags & NLM_F_ACK_TLVS) || r->errmsg != NULL || r->has_off) return;
  /* The TLVs follow the echoed request: only its header when the ACK is capped. */
  size_t off = sizeof *e;
  if (!(nlh->nlmsg_flags & NLM_F_CAPPED)) off += e->msg.nlmsg_len - sizeof e->msg;
  off = MNL_ALIGN(off);
  if (MNL_NLMSG_HDRLEN + off > nlh->nlmsg_len) return;
  const struct nlattr *attr;
  mnl_attr_for_each_payload((const void *)((const char *)e + off), nlh->nlmsg_len - MNL_NLMSG_HDRLEN - off) {
    if (mnl_attr_get_type(attr) == NLMSGERR_ATTR_MSG &&
        mnl_attr_validate(attr, MNL_TYPE_NUL_STRING) == 0 && r->errmsg == NULL)
      r->errmsg = strdup(mnl_attr_get_str(attr));
    if (mnl_attr_get_type(attr) == NLMSGERR_ATTR_OFFS &&
        mnl_attr_validate(attr, MNL_TYPE_U32) == 0) {
      r->erroff = mnl_attr_get_u32(attr);
      r->has_off = 1;
    }
  }
}

/* Handles one received datagram; returns how many expected replies it completed. */
unsigned nl_handle(struct cnet_nl *nl, const char *buf, size_t n) {
  unsigned completed = 0;
  const struct nlmsghdr *nlh = (const void *)buf;
  int len = (int)n;
  for (; mnl_nlmsg_ok(nlh, len); nlh = mnl_nlmsg_next(nlh, &len)) {
    if (nlh->nlmsg_pid != nl->portid && nlh->nlmsg_pid != 0) continue;
    struct req *r = find(nl, nlh->nlmsg_seq);
    if (r == NULL || r->done) continue;
    if (nlh->nlmsg_flags & NLM_F_DUMP_INTR) r->intr = 1;
    if (nlh->nlmsg_type == NLMSG_ERROR || nlh->nlmsg_type == NLMSG_DONE) {
      int code = 0;
      if (nlh->nlmsg_type == NLMSG_ERROR) {
        if (nlh->nlmsg_len < MNL_NLMSG_HDRLEN + sizeof(struct nlmsgerr)) code = -EPROTO;
        else code = ((const struct nlmsgerr *)mnl_nlmsg_get_payload(nlh))->error;
        if (code != 0) keep_errmsg(r, nlh);
      } else if (nlh->nlmsg_len >= MNL_NLMSG_HDRLEN + sizeof(int)) {
        code = *(const int *)mnl_nlmsg_get_payload(nlh); /* a dump that failed midway */
      }
      if (r->err == 0) r->err = code;
      /* An ACK (or dump end) closes the request; an unasked-for error also closes it. */
      if (r->expect || code != 0) {
        r->done = 1;
        if (r->expect) completed++;
      }
      continue;
    }
    if (r->cb != NULL && r->err == 0) {
      errno = 0;
      int rc = r->cb(nlh, r->data);
      if (rc < MNL_CB_STOP) r->err = rc < MNL_CB_ERROR ? rc : (errno ? -errno : -EPROTO);
    }
  }
  return completed;
}

/* Reads until `expected` replies have come. When some request asked for no ACK (`drain`),
 * its possible error is read too: routing netlink answers inside sendmsg, so by then every
 * such error is already queued and a non-blocking read finds it. Without such requests
 * there is nothing more to read, and no extra recv is spent on learning that. */
int nl_receive(struct cnet_nl *nl, unsigned expected, int drain) {
  if (nl->rbuf == NULL && (nl->rbuf = malloc(RECV_SIZE)) == NULL) return -ENOMEM;
  int fd = mnl_socket_get_fd(nl->sock);
  for (;;) {
    if (expected == 0 && !drain) return 0;
    ssize_t n = recv(fd, nl->rbuf, RECV_SIZE, expected ? 0 : MSG_DONTWAIT);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) return 0;
      if (errno == ENOBUFS) {
        /* The kernel dropped replies that did not fit the receive buffer (an nfnetlink batch
         * of thousands of refused commands answers each one). The socket reports that first,
         * but what did fit is still queued, in order, the first errors with it: read it all,
         * without waiting for replies that may be gone (see cnet_nl_flush). */
        nl->overrun = 1;
        expected = 0;
        drain = 1;
        continue;
      }
      return -errno;
    }
    if (n == 0) return 0;
    unsigned got = nl_handle(nl, nl->rbuf, (size_t)n);
    expected = got > expected ? 0 : expected - got;
  }
}

static int send_range(struct cnet_nl *nl, size_t from, size_t to) {
  size_t len = to - from;
  if (len > nl->sndbuf) {
    set_buf(mnl_socket_get_fd(nl->sock), SO_SNDBUFFORCE, SO_SNDBUF, (int)(len + 4096));
    nl->sndbuf = len;
  }
  for (;;) {
    ssize_t n = mnl_socket_sendto(nl->sock, nl->buf + from, len);
    if (n >= 0) return 0;
    if (errno != EINTR) return -errno;
  }
}

static size_t msg_len_at(const struct cnet_nl *nl, size_t off) {
  return NLMSG_ALIGN(((const struct nlmsghdr *)(const void *)(nl->buf + off))->nlmsg_len);
}

int cnet_nl_flush(struct cnet_nl *nl, int one_send) {
  nl_pipe_abandon(nl); /* a dump's reader a longjmp left behind must not eat these replies */
  if (nl->flushed || nl->nreq == 0) {
    nl->flushed = 1;
    return cnet_nl_first_error(nl) < 0 ? 0 : nl->reqs[cnet_nl_first_error(nl)].err;
  }
  size_t off = 0;
  unsigned i = 0;
  int rc = 0;
  nl->overrun = 0;
  while (i < nl->nreq && rc == 0) {
    /* Stopped by the user (cnet/intr.h): what is sent is finished, the rest is not sent. */
    if (cnet_interrupt_pending()) {
      for (unsigned j = i; j < nl->nreq; j++) nl->reqs[j].err = -EINTR;
      break;
    }
    size_t start = off;
    unsigned first = i, expected = 0;
    int drain = 0;
    do {
      if (nl->reqs[i].expect) expected++;
      else drain = 1;
      off += msg_len_at(nl, off);
      i++;
    } while (i < nl->nreq &&
             (one_send || (off - start < CHUNK_BYTES && i - first < CHUNK_MSGS)));
    rc = send_range(nl, start, off);
    if (rc == 0 && i - first == 1 && nl->reqs[first].dump) { /* a dump alone: pipelined */
      if (nl->rbuf == NULL && (nl->rbuf = malloc(RECV_SIZE)) == NULL) rc = -ENOMEM;
      else rc = nl_receive_dump(nl, nl->reqs[first].seq);
    } else if (rc == 0) {
      rc = nl_receive(nl, expected, drain);
    }
    if (rc < 0) { /* the socket failed: every request of the chunk on shares its fate */
      for (unsigned j = first; j < nl->nreq; j++)
        if (!nl->reqs[j].done && nl->reqs[j].err == 0) nl->reqs[j].err = rc;
    }
  }
  for (unsigned j = 0; j < nl->nreq; j++) {
    struct req *r = &nl->reqs[j];
    if (r->expect && !r->done && r->err == 0) r->err = nl->overrun ? -ENOBUFS : -ENOMSG;
    if (r->dump && r->intr && r->err == 0) r->err = -EINTR;
  }
  /* Replies were lost, yet none of those kept is an error: one of the requests that asked for
   * no answer was refused, and which is unknown. The first of them carries the loss (for an
   * nfnetlink batch: its BEGIN, the batch as a whole), so it is never taken for a success. */
  for (unsigned j = 0; nl->overrun && cnet_nl_first_error(nl) < 0 && j < nl->nreq; j++)
    if (!nl->reqs[j].expect) nl->reqs[j].err = -ENOBUFS;
  nl->flushed = 1;
  int first = cnet_nl_first_error(nl);
  return first < 0 ? 0 : nl->reqs[first].err;
}

int cnet_nl_result(const struct cnet_nl *nl, unsigned index, const char **errmsg) {
  if (errmsg) *errmsg = "";
  if (!nl->flushed || index >= nl->nreq) return -EINVAL;
  if (errmsg && nl->reqs[index].errmsg) *errmsg = nl->reqs[index].errmsg;
  return nl->reqs[index].err;
}

int cnet_nl_result_offset(const struct cnet_nl *nl, unsigned index, uint32_t *off) {
  if (!nl->flushed || index >= nl->nreq || !nl->reqs[index].has_off) return -ENOENT;
  *off = nl->reqs[index].erroff;
  return 0;
}

int cnet_nl_first_error(const struct cnet_nl *nl) {
  for (unsigned i = 0; i < nl->nreq; i++)
    if (nl->reqs[i].err != 0) return (int)i;
  return -1;
}

static void copy_errmsg(const struct cnet_nl *nl, int index, char *errmsg) {
  if (errmsg == NULL) return;
  errmsg[0] = '\0';
  const char *m = "";
  if (index >= 0) cnet_nl_result(nl, (unsigned)index, &m);
  strncpy(errmsg, m, CNET_ERRMSG_MAX - 1);
  errmsg[CNET_ERRMSG_MAX - 1] = '\0';
}

int cnet_nl_talk(struct cnet_nl *nl, cnet_nl_cb cb, void *data, char *errmsg) {
  if (errmsg) errmsg[0] = '\0';
  if (nl->batch != NULL) {
    if (cb == NULL) return nlb_defer(nl);
    /* A request with a reply reads the kernel's state: everything deferred goes first. */
    nl->next_ndeps = 0;
    cnet_batch_flush(nl->batch);
  }
  int idx = cnet_nl_queue(nl, cb, data);
  if (idx < 0) return idx;
  int rc = cnet_nl_flush(nl, 0);
  /* Earlier queued requests may have failed too; this call reports its own message. */
  int own = cnet_nl_result(nl, (unsigned)idx, NULL);
  copy_errmsg(nl, own ? idx : cnet_nl_first_error(nl), errmsg);
  return own ? own : rc;
}

int cnet_nl_change(struct cnet_nl *nl, uint16_t type, uint16_t flags, cnet_nl_fill fill,
                   const void *req, char *errmsg) {
  if (errmsg) errmsg[0] = '\0';
  struct nlmsghdr *nlh = cnet_nl_msg(nl, type, flags | NLM_F_ACK);
  if (nlh == NULL) return -ENOMEM;
  int rc = fill(nlh, cnet_nl_room(nl), req);
  if (rc < 0) {
    cnet_nl_cancel(nl);
    return rc;
  }
  return cnet_nl_talk(nl, NULL, NULL, errmsg);
}

int cnet_nl_change_all(struct cnet_nl *nl, uint16_t type, uint16_t flags, cnet_nl_fill fill,
                       const void *reqs, size_t size, unsigned n, int ignore, unsigned *done,
                       char *errmsg) {
  if (errmsg) errmsg[0] = '\0';
  if (done) *done = 0;
  if (n == 0) return 0;
  if (nl->batch != NULL) cnet_batch_flush(nl->batch);
  if (cnet_nl_pending(nl) > 0) (void)cnet_nl_flush(nl, 0); /* not ours to report */
  int rc = 0;
  unsigned queued = 0;
  for (const char *p = reqs; queued < n; queued++, p += size) {
    struct nlmsghdr *nlh = cnet_nl_msg(nl, type, flags | NLM_F_ACK);
    if (nlh == NULL) { rc = -ENOMEM; break; }
    rc = fill(nlh, cnet_nl_room(nl), p);
    if (rc < 0) {
      cnet_nl_cancel(nl);
      break;
    }
    int q = queue(nl, NULL, NULL, 0);
    if (q < 0) { rc = q; break; }
  }
  if (queued == 0) return rc;
  (void)cnet_nl_flush(nl, 0); /* what was queued goes out even after a failure to build */
  unsigned ok = 0;
  for (unsigned i = 0; i < queued; i++) {
    const char *m;
    int r = cnet_nl_result(nl, i, &m);
    if (r == 0) ok++;
    else if (r != ignore && rc == 0) {
      rc = r;
      if (errmsg) {
        strncpy(errmsg, m, CNET_ERRMSG_MAX - 1);
        errmsg[CNET_ERRMSG_MAX - 1] = '\0';
      }
    }
  }
  if (done) *done = ok;
  return rc;
}

int cnet_nl_dump(struct cnet_nl *nl, cnet_nl_build build, cnet_nl_cb cb,
                 void (*reset)(void *data), void *data, char *errmsg) {
  if (errmsg) errmsg[0] = '\0';
  if (nl->batch != NULL) cnet_batch_flush(nl->batch);
  if (cnet_nl_pending(nl) > 0) {
    int rc = cnet_nl_flush(nl, 0);
    if (rc < 0) {
      copy_errmsg(nl, cnet_nl_first_error(nl), errmsg);
      return rc;
    }
  }
  int rc = -EINTR;
  for (int tries = 0; tries < DUMP_TRIES && rc == -EINTR; tries++) {
    if (tries > 0 && reset != NULL) reset(data);
    if (nl->flushed) nl_forget_results(nl);
    rc = build(nl, data);
    if (rc < 0) {
      if (nl->building) cnet_nl_cancel(nl);
      return rc;
    }
    int idx = queue(nl, cb, data, 1);
    if (idx < 0) return idx;
    rc = cnet_nl_flush(nl, 0);
    copy_errmsg(nl, idx, errmsg);
  }
  return rc;
}

int cnet_nl_dump_filtered(struct cnet_nl *nl, int strict, cnet_nl_build build, cnet_nl_cb cb,
                          void (*reset)(void *data), void *data, char *errmsg) {
  int fd = mnl_socket_get_fd(nl->sock), on = 1, off = 0;
  strict = strict && setsockopt(fd, SOL_NETLINK, NETLINK_GET_STRICT_CHK, &on, sizeof on) == 0;
  int rc = cnet_nl_dump(nl, build, cb, reset, data, errmsg);
  if (strict) (void)setsockopt(fd, SOL_NETLINK, NETLINK_GET_STRICT_CHK, &off, sizeof off);
  return rc;
}

void cnet_nl_discard(struct cnet_nl *nl) {
  nl_pipe_abandon(nl);
  /* Read away what the kernel still holds for us: an abandoned dump stays running (and the
   * socket refuses the next one with EBUSY) until it is read to its end, and each read makes
   * the kernel fill the next part, so this loop ends with the dump. */
  if (nl->rbuf != NULL) {
    int fd = mnl_socket_get_fd(nl->sock);
    ssize_t n;
    do n = recv(fd, nl->rbuf, RECV_SIZE, MSG_DONTWAIT);
    while (n > 0 || (n < 0 && errno == EINTR));
  }
  nl_forget_results(nl);
  nl->building = 0;
}
