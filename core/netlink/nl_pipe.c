/* Pipelined dump receive: see nl_int.h.
 *
 * The kernel builds a dump one datagram per recv(), inside that recv. Read in one thread,
 * building a datagram (kernel) and decoding the previous one (the reply callbacks, which make
 * Lua tables) take turns. A reader thread, started once a dump proves to span several
 * datagrams whose decoding takes about as long as the kernel's building, receives ahead into
 * a small ring while the caller's thread decodes: the two overlap on a second core. The reader touches only the socket and the ring; every reply
 * callback still runs in the caller's thread, in order, and the reader is gone before the
 * flush returns (or, after a longjmp out of a callback, before the socket is used again). */
#include "netlink/nl_int.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>

enum { NSLOTS = 4 };

struct nl_pipe {
  pthread_t thread;
  pthread_mutex_t mu;
  pthread_cond_t readable, writable;
  int fd;
  uint32_t portid, seq;           /* the dump ends with NLMSG_DONE or NLMSG_ERROR of this seq */
  char *slots[NSLOTS];
  size_t lens[NSLOTS];
  unsigned head, tail;            /* datagrams received, datagrams handed to the decoder */
  int done;                       /* the reader has stopped (dump end, or err) */
  int err;                        /* recv's error, as -errno */
  int abandon;                    /* nobody decodes any more: read to the end, keep nothing */
};

/* Whether the datagram holds the end of the dump: its DONE, or an error answering it. */
static int ends_dump(const char *buf, size_t n, uint32_t portid, uint32_t seq) {
  const struct nlmsghdr *nlh = (const void *)buf;
  int len = (int)n;
  for (; mnl_nlmsg_ok(nlh, len); nlh = mnl_nlmsg_next(nlh, &len))
    if ((nlh->nlmsg_type == NLMSG_DONE || nlh->nlmsg_type == NLMSG_ERROR) &&
        nlh->nlmsg_seq == seq && (nlh->nlmsg_pid == portid || nlh->nlmsg_pid == 0))
      return 1;
  return 0;
}

static void *reader(void *arg) {
  struct nl_pipe *p = arg;
  for (;;) {
    pthread_mutex_lock(&p->mu);
    while (!p->abandon && p->head - p->tail == NSLOTS) pthread_cond_wait(&p->writable, &p->mu);
    /* When abandoned, slot 0 is scratch: the decoder no longer reads the ring. */
    char *slot = p->abandon ? p->slots[0] : p->slots[p->head % NSLOTS];
    pthread_mutex_unlock(&p->mu);
    ssize_t n = recv(p->fd, slot, RECV_SIZE, 0);
    int err = n < 0 ? errno : 0;
    if (err == EINTR) continue;
    int end = n <= 0 || ends_dump(slot, (size_t)n, p->portid, p->seq);
    pthread_mutex_lock(&p->mu);
    if (n < 0) p->err = -err;
    else if (n > 0 && !p->abandon) p->lens[p->head++ % NSLOTS] = (size_t)n;
    if (end) p->done = 1;
    pthread_cond_signal(&p->readable);
    pthread_mutex_unlock(&p->mu);
    if (end) return NULL;
  }
}

static void pipe_free(struct nl_pipe *p) {
  pthread_mutex_destroy(&p->mu);
  pthread_cond_destroy(&p->readable);
  pthread_cond_destroy(&p->writable);
  free(p->slots[0]);
  free(p);
}

/* Starts the reader; NULL when that is not possible (then the caller reads in its thread). */
static struct nl_pipe *pipe_start(struct cnet_nl *nl, uint32_t seq) {
  struct nl_pipe *p = calloc(1, sizeof *p);
  if (p == NULL) return NULL;
  char *ring = malloc((size_t)NSLOTS * RECV_SIZE);
  if (ring == NULL) {
    free(p);
    return NULL;
  }
  for (int i = 0; i < NSLOTS; i++) p->slots[i] = ring + (size_t)i * RECV_SIZE;
  p->fd = mnl_socket_get_fd(nl->sock);
  p->portid = nl->portid;
  p->seq = seq;
  pthread_mutex_init(&p->mu, NULL);
  pthread_cond_init(&p->readable, NULL);
  pthread_cond_init(&p->writable, NULL);
  /* Signals stay with the caller's threads: the reader starts with all of them blocked. */
  sigset_t all, old;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &old);
  int rc = pthread_create(&p->thread, NULL, reader, p);
  pthread_sigmask(SIG_SETMASK, &old, NULL);
  if (rc != 0) {
    pipe_free(p);
    return NULL;
  }
  return p;
}

void nl_pipe_abandon(struct cnet_nl *nl) {
  struct nl_pipe *p = nl->pipe;
  if (p == NULL) return;
  pthread_mutex_lock(&p->mu);
  p->abandon = 1;
  pthread_cond_signal(&p->writable);
  pthread_mutex_unlock(&p->mu);
  pthread_join(p->thread, NULL); /* it reads the dump to its end, as cnet_nl_discard would */
  nl->pipe = NULL;
  pipe_free(p);
}

static int64_t now_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

int nl_receive_dump(struct cnet_nl *nl, uint32_t seq) {
  nl_pipe_abandon(nl); /* one a longjmp left without cnet_nl_discard */
  int fd = mnl_socket_get_fd(nl->sock);
  /* The first two datagrams in this thread. The second, full-sized one tells whether a
   * reader is worth its wake-ups: only when decoding a datagram takes at least half as long
   * as the kernel takes to build the next (a route dump into Lua tables, not a link dump,
   * where the kernel's work dominates). */
  for (int k = 0;; k++) {
    int64_t t0 = now_ns();
    ssize_t n;
    do n = recv(fd, nl->rbuf, RECV_SIZE, 0);
    while (n < 0 && errno == EINTR);
    if (n < 0) return -errno;
    if (n == 0) return 0;
    int64_t t1 = now_ns();
    int end = ends_dump(nl->rbuf, (size_t)n, nl->portid, seq);
    unsigned got = nl_handle(nl, nl->rbuf, (size_t)n);
    if (end || got) return 0;
    if (k == 1) {
      if (now_ns() - t1 >= (t1 - t0) / 2) break;
      return nl_receive(nl, 1, 0);
    }
  }
  struct nl_pipe *p = pipe_start(nl, seq);
  if (p == NULL) return nl_receive(nl, 1, 0); /* no thread to be had: the plain way */
  nl->pipe = p; /* a reply callback may leave by longjmp: cnet_nl_discard then ends p */
  for (;;) {
    pthread_mutex_lock(&p->mu);
    while (p->tail == p->head && !p->done) pthread_cond_wait(&p->readable, &p->mu);
    if (p->tail == p->head) { /* done and all decoded */
      pthread_mutex_unlock(&p->mu);
      break;
    }
    unsigned i = p->tail % NSLOTS;
    pthread_mutex_unlock(&p->mu);
    nl_handle(nl, p->slots[i], p->lens[i]);
    pthread_mutex_lock(&p->mu);
    p->tail++;
    pthread_cond_signal(&p->writable);
    pthread_mutex_unlock(&p->mu);
  }
  pthread_join(p->thread, NULL);
  int rc = p->err;
  nl->pipe = NULL;
  pipe_free(p);
  return rc;
}
