/* The interrupt request and the interruptible poll; see cnet/intr.h. */
#include "cnet/intr.h"

#include <errno.h>
#include <signal.h>
#include <time.h>

static volatile sig_atomic_t requested;

void cnet_interrupt_raise(void) { requested = 1; }
void cnet_interrupt_clear(void) { requested = 0; }
int cnet_interrupt_pending(void) { return requested != 0; }

static long long now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int cnet_poll(struct pollfd *fds, nfds_t nfds, int timeout_ms) {
  long long deadline = timeout_ms >= 0 ? now_ms() + timeout_ms : -1;
  for (;;) {
    if (requested) return -EINTR;
    int slice = CNET_INTERRUPT_SLICE_MS;
    if (deadline >= 0) {
      long long left = deadline - now_ms();
      if (left <= 0) left = 0;
      if (left < slice) slice = (int)left;
    }
    int k = poll(fds, nfds, slice);
    /* The signal that raised the request can end the wait together with a descriptor: a
     * foreground child killed by the same Ctrl-C has made its pidfd readable by the time a
     * busy machine runs us again, so poll counts it and the handler runs on the way out.
     * The request wins; otherwise whether the call is interrupted or returns the child's
     * 130 would be up to the scheduler. */
    if (requested) return -EINTR;
    if (k > 0) return k;
    if (k < 0 && errno != EINTR) return -errno;
    if (deadline >= 0 && now_ms() >= deadline) return requested ? -EINTR : 0;
  }
}
