/* Interrupting the core's long waits (a probe waiting for its reply, a process wait, the
 * sends of a big batch), for a host that lets the user stop a call, as a REPL does on Ctrl-C.
 * The request is one process-wide flag: a signal handler raises it, the host clears it
 * before the next call. Waits notice it within CNET_INTERRUPT_SLICE_MS, even when the signal
 * came just before they started to sleep, and return -EINTR; requests already sent to the
 * kernel are always finished (their answers read), so a socket is never left half-read. */
#ifndef CNET_INTR_H
#define CNET_INTR_H

#include <poll.h>

#define CNET_INTERRUPT_SLICE_MS 50

/* Asks every interruptible wait to give up (async-signal-safe). */
void cnet_interrupt_raise(void);
/* Withdraws the request (before running the next call). */
void cnet_interrupt_clear(void);
/* 1 when an interrupt was raised and not cleared since, else 0. */
int cnet_interrupt_pending(void);

/* poll(2) that gives up when an interrupt is pending: waits up to timeout_ms (< 0: forever)
 * in slices of CNET_INTERRUPT_SLICE_MS. Returns poll's count of ready descriptors, 0 when
 * the time is up, -EINTR when interrupted (also when a descriptor became ready in the same
 * moment), or -errno. A signal that interrupts poll without an interrupt request just
 * resumes the wait. nfds may be 0 (an interruptible sleep). */
int cnet_poll(struct pollfd *fds, nfds_t nfds, int timeout_ms);

#endif
