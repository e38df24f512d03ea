/* cnet_poll and the interrupt request (cnet/intr.h). No kernel, no privileges.
 *
 * The test defines poll(2) itself (the executable's definition is the one the core's call
 * binds to), so that what a loaded machine does only now and then happens on every run: a
 * descriptor becomes ready and, in the same moment, the SIGINT handler raises the request,
 * as when the REPL waits for a foreground child that the same Ctrl-C killed. */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <string.h>

#include "cnet/intr.h"

#include "check.h"

enum next { READY, READY_AND_SIGNAL, SIGNAL_ONCE, NOTHING };
static enum next next_poll;
static int polls;

static void on_sigint(int sig) {
  (void)sig;
  cnet_interrupt_raise();
}

int poll(struct pollfd *fds, nfds_t nfds, int timeout) {
  (void)timeout;
  polls++;
  switch (next_poll) {
  case READY_AND_SIGNAL:
    raise(SIGINT); /* the handler runs before raise returns: on the way out of the wait */
    /* fall through */
  case READY:
    if (nfds > 0) fds[0].revents = POLLIN;
    return nfds > 0 ? 1 : 0;
  case SIGNAL_ONCE:
    next_poll = READY; /* a signal that is no interrupt request: the wait goes on */
    errno = EINTR;
    return -1;
  case NOTHING:
    break;
  }
  return 0;
}

int main(void) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_sigint;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, NULL);
  struct pollfd p = {.fd = 0, .events = POLLIN};
  int k;

  next_poll = READY;
  CHECK((k = cnet_poll(&p, 1, -1)) == 1, "a ready descriptor is counted: %d", k);

  next_poll = READY_AND_SIGNAL;
  CHECK((k = cnet_poll(&p, 1, -1)) == -EINTR, "an interrupt raised as a descriptor became "
        "ready ends the wait as interrupted: %d", k);
  CHECK(cnet_interrupt_pending(), "the request stays until cleared");

  polls = 0;
  next_poll = READY;
  CHECK((k = cnet_poll(&p, 1, -1)) == -EINTR && polls == 0,
        "a pending request ends the next wait before it starts: %d after %d polls", k, polls);
  cnet_interrupt_clear();
  CHECK((k = cnet_poll(&p, 1, -1)) == 1, "cleared, the wait works again: %d", k);

  polls = 0;
  next_poll = SIGNAL_ONCE;
  CHECK((k = cnet_poll(&p, 1, -1)) == 1 && polls == 2,
        "another signal resumes the wait: %d after %d polls", k, polls);

  next_poll = NOTHING;
  CHECK((k = cnet_poll(&p, 1, 0)) == 0, "nothing ready within the time: %d", k);
  CHECK((k = cnet_poll(NULL, 0, 0)) == 0, "an interruptible sleep of no time: %d", k);
  return failures != 0;
}
