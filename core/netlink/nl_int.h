/* Inside the netlink queue: shared by nl.c (one socket's queue) and nl_batch.c (batches that
 * defer and order requests across sockets). Not part of the core's API. */
#ifndef CNET_NL_INT_H
#define CNET_NL_INT_H

#include "cnet/nl.h"

enum { ROOM = 64 * 1024,          /* room guaranteed to the message being built */
       CHUNK_BYTES = 64 * 1024,   /* bytes per sendmsg outside a one-send batch */
       CHUNK_MSGS = 512,          /* requests per sendmsg: their ACKs must fit the rcvbuf */
       RECV_SIZE = 64 * 1024,
       DUMP_TRIES = 8,
       MAX_TOUCH = 2,             /* other namespaces one request can change (veth peer, move) */
       MAX_DEPS = 2,              /* remembered devices one request can name (dev, master) */
       /* A send this long needs no larger send buffer: the kernel refuses a netlink message
        * over sk_sndbuf - 32 bytes, and no socket has less than SOCK_MIN_SNDBUF (4608, the
        * floor of SO_SNDBUF and of net.core.wmem_default). Spares a setsockopt per socket. */
       SNDBUF_FLOOR = 4096 };

/* A device a request names by a remembered index: checked before the request is sent (see
 * nl_batch.c). tag: the call that made the device in this batch, 0 for a name looked up. */
struct dep {
  int tag, index;
  char name[16];
};

struct req {
  uint32_t seq;
  unsigned char expect;           /* an ACK or a dump end will come */
  unsigned char dump, done, intr;
  int err;
  int tag;                        /* the batch's tag when it was queued (who asked for it) */
  struct dep deps[MAX_DEPS];      /* devices it names by an index the batch remembers */
  unsigned char ndeps;
  cnet_nl_cb cb;
  void *data;
  char *errmsg;                   /* extended ACK text, allocated only when the kernel sends one */
  uint32_t erroff;                /* extended ACK: offset of the attribute the kernel blamed */
  unsigned char has_off;
};

struct failure {
  int tag, err;
  unsigned order;                 /* when it was recorded: keeps the sort by tag stable */
  char *errmsg;
};

/* Where the last pending request changing one namespace waits: queue q, while q->gen is gen. */
struct mark {
  uint64_t key;
  struct cnet_nl *q;
  unsigned gen;
};

/* A deferred-send session over several sockets: see cnet_batch_* in nl.h and nl_batch.c. */
struct cnet_batch {
  struct cnet_nl **socks;         /* every socket attached, to detach them at the end */
  unsigned nsocks, capsocks;
  struct mark *marks;             /* open-addressing table by namespace key */
  unsigned nmarks, capmarks;
  int tag;
  struct failure *fails;
  unsigned nfails, capfails;
  unsigned sent;                  /* requests flushed so far */
  int walk;                       /* stamp of the latest walk over the waits */
};

struct edge {                     /* this queue goes after q's requests of generation gen */
  struct cnet_nl *q;
  unsigned gen;
};

struct cached_name {              /* a device name known inside a batch */
  char name[16];
  int index, dep;
};

struct cnet_nl {
  struct mnl_socket *sock;
  uint32_t portid, seq;
  char *buf;                      /* queued messages, back to back */
  size_t len, cap, cur;           /* cur: offset of the message being built */
  int building;
  struct req *reqs;
  unsigned nreq, reqcap;
  int flushed;                    /* results of the last flush are still readable */
  char *rbuf;
  int overrun;                    /* the last flush lost replies (ENOBUFS) */
  size_t sndbuf;                  /* what a send may hold without raising SO_SNDBUF */
  uint64_t nskey;                 /* identity of the socket's namespace (nsfs inode), 0: unknown */
  /* batch state */
  struct cnet_batch *batch;       /* when set, requests without a reply callback are deferred */
  unsigned gen;                   /* bumped each time the batch sends this queue */
  struct edge *waits;             /* queues whose pending requests must reach the kernel first */
  unsigned nwaits, capwaits;
  int visiting, closed;           /* walk mark; closed by its owner, freed with the batch */
  uint64_t touch[MAX_TOUCH];      /* other namespaces the next deferred request changes */
  unsigned ntouch;
  struct dep next_deps[MAX_DEPS]; /* devices the next deferred request names */
  unsigned next_ndeps;
  int call_tag;                   /* the batch call that set touch and next_deps: a later call
                                     never inherits them */
  int *fds;                       /* descriptors the queued requests carry, closed once sent */
  unsigned nfds, capfds;
  unsigned nfds_queued;           /* fds[0..nfds_queued) belong to queued requests */
  struct cached_name *names;
  unsigned nnames, capnames;
  struct nl_pipe *pipe;           /* the reader of a dump being received (nl_pipe.c) */
};

/* nl.c */
void nl_forget_results(struct cnet_nl *nl);
void nl_free(struct cnet_nl *nl);
unsigned nl_handle(struct cnet_nl *nl, const char *buf, size_t n); /* replies completed */
int nl_receive(struct cnet_nl *nl, unsigned expected, int drain);

/* nl_pipe.c: receives the dump of request seq (the only one sent), with a reader thread
 * running ahead when the dump spans several datagrams that are slow to decode; 0 or -errno
 * of recv. */
int nl_receive_dump(struct cnet_nl *nl, uint32_t seq);
void nl_pipe_abandon(struct cnet_nl *nl);   /* ends a reader left by a callback's longjmp */

/* nl_batch.c */
int nlb_defer(struct cnet_nl *nl);          /* queue the message being built, in order */
int nlb_close(struct cnet_nl *nl);          /* 1: the batch keeps nl until it ends */

#endif
