/* What the listings of the routing objects keep of their caller, shared by their reply
 * callbacks. Internal to core/rtnl/. */
#ifndef CNET_RTNL_DUMP_INT_H
#define CNET_RTNL_DUMP_INT_H

#include <errno.h>
#include <libmnl/libmnl.h>

/* The first member of each listing's filter struct: the caller's data, and the caller's
 * reset, run before a retried (interrupted) dump so that it forgets what it collected. */
struct dump_caller {
  void (*reset)(void *data);
  void *data;
};

/* The reset to give cnet_nl_dump for a filter struct that starts with a dump_caller. */
static inline void dump_caller_reset(void *filter) {
  struct dump_caller *c = filter;
  if (c->reset) c->reset(c->data);
}

/* What a reply callback returns for the value rc of the caller's function: go on at 0,
 * stop with rc when negative, with -ECANCELED when positive. */
static inline int dump_caller_rc(int rc) {
  return rc == 0 ? MNL_CB_OK : rc < 0 ? rc : -ECANCELED;
}

#endif
