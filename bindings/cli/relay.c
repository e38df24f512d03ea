/* Relaying the output of processes spawned from the REPL (see host.h). A server started at
 * the prompt writes whenever it likes; written straight to the terminal, its lines would
 * land in the middle of the line being typed. Its stdout and stderr are a pipe instead, read
 * by a thread of ours that never touches readline (which is not thread-safe): while a
 * statement runs it writes what it reads to the terminal at once; while the prompt is shown
 * it holds the text and wakes the REPL through a second pipe, and the REPL prints it above
 * the prompt. */
#define _GNU_SOURCE /* pipe2 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/host.h"

/* Held text beyond this is written out even at the prompt: a flood must not grow memory
 * without bound (the prompt line is then redrawn anyway). */
enum { HOLD_MAX = 1 << 20 };

static int out_r = -1, out_w = -1;       /* processes write to out_w; the thread reads out_r */
static int notify_r = -1, notify_w = -1; /* the thread wakes the REPL */
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static int at_prompt;
static char *held;
static size_t held_len;

static void write_all(int fd, const char *p, size_t n) {
  while (n > 0) {
    ssize_t w = write(fd, p, n);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return; /* the terminal is gone: nothing useful to do */
    p += w;
    n -= (size_t)w;
  }
}

/* With the lock held: keeps text for the prompt, or writes it when too much is held. */
static void hold(const char *p, size_t n) {
  char *h = held_len + n <= HOLD_MAX ? realloc(held, held_len + n) : NULL;
  if (h == NULL) {
    write_all(STDOUT_FILENO, held, held_len);
    write_all(STDOUT_FILENO, p, n);
    held_len = 0;
    return;
  }
  memcpy(h + held_len, p, n);
  held = h;
  held_len += n;
  char one = 1;
  ssize_t w = write(notify_w, &one, 1); /* non-blocking: a full pipe already wakes the REPL */
  (void)w;
}

static void *relay_main(void *arg) {
  (void)arg;
  char buf[4096];
  for (;;) {
    ssize_t n = read(out_r, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return NULL;
    pthread_mutex_lock(&lock);
    if (at_prompt) hold(buf, (size_t)n);
    else write_all(STDOUT_FILENO, buf, (size_t)n);
    pthread_mutex_unlock(&lock);
  }
}

int host_relay_start(void) {
  if (out_w >= 0) return out_w;
  int out[2], note[2];
  if (pipe2(out, O_CLOEXEC) < 0) return -errno;
  if (pipe2(note, O_CLOEXEC | O_NONBLOCK) < 0) {
    int rc = -errno;
    close(out[0]);
    close(out[1]);
    return rc;
  }
  out_r = out[0];
  out_w = out[1];
  notify_r = note[0];
  notify_w = note[1];
  /* Signals stay with the main thread: Ctrl-C must interrupt what it runs. */
  sigset_t all, old;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &old);
  pthread_t t;
  int rc = pthread_create(&t, NULL, relay_main, NULL);
  pthread_sigmask(SIG_SETMASK, &old, NULL);
  if (rc != 0) {
    close(out_r);
    close(out_w);
    close(notify_r);
    close(notify_w);
    out_r = out_w = notify_r = notify_w = -1;
    return -rc;
  }
  pthread_detach(t);
  return out_w;
}

int host_relay_notify_fd(void) { return notify_r; }

void host_relay_prompt(int on) {
  if (out_w < 0) return;
  pthread_mutex_lock(&lock);
  at_prompt = on;
  if (!on && held_len > 0) {
    write_all(STDOUT_FILENO, held, held_len);
    held_len = 0;
  }
  pthread_mutex_unlock(&lock);
}

char *host_relay_take(size_t *len) {
  char drain[64];
  while (read(notify_r, drain, sizeof drain) > 0) {
  }
  pthread_mutex_lock(&lock);
  char *text = NULL;
  *len = 0;
  if (held_len > 0 && (text = malloc(held_len)) != NULL) {
    memcpy(text, held, held_len);
    *len = held_len;
    held_len = 0;
  }
  pthread_mutex_unlock(&lock);
  return text;
}
