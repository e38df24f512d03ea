/* File locks (flock) with optional waiting bounds, for state shared between processes. */
#define _GNU_SOURCE
#include "cnet/lock.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

struct cnet_lock {
  int fd;
};

/* mkdir -p of the directories above path's last component. */
static int make_parents(const char *path) {
  char buf[PATH_MAX];
  size_t n = strlen(path);
  if (n >= sizeof buf) return -ENAMETOOLONG;
  memcpy(buf, path, n + 1);
  for (char *p = buf + 1; *p; p++) {
    if (*p != '/') continue;
    *p = '\0';
    if (mkdir(buf, 0755) < 0 && errno != EEXIST) return -errno;
    *p = '/';
  }
  return 0;
}

static long long now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Polls for the lock until the deadline, sleeping 0.1 ms at first and at most 5 ms. */
static int wait_bounded(int fd, int timeout_ms) {
  long long deadline = now_ms() + timeout_ms;
  long nap_us = 100;
  for (;;) {
    if (flock(fd, LOCK_EX | LOCK_NB) == 0) return 0;
    if (errno != EWOULDBLOCK && errno != EINTR) return -errno;
    if (timeout_ms == 0) return -EWOULDBLOCK;
    if (now_ms() >= deadline) return -ETIMEDOUT;
    struct timespec ts = {0, nap_us * 1000};
    nanosleep(&ts, NULL);
    if (nap_us < 5000) nap_us *= 2;
  }
}

int cnet_lock_open(const char *path, int timeout_ms, struct cnet_lock **out) {
  *out = NULL;
  if (path == NULL || *path == '\0') return -EINVAL;
  int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0 && errno == ENOENT) {
    int rc = make_parents(path);
    if (rc < 0) return rc;
    fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  }
  if (fd < 0) return -errno;
  int rc = 0;
  if (timeout_ms < 0) {
    while (flock(fd, LOCK_EX) < 0) {
      if (errno != EINTR) {
        rc = -errno;
        break;
      }
    }
  } else {
    rc = wait_bounded(fd, timeout_ms);
  }
  struct cnet_lock *lock = rc == 0 ? malloc(sizeof *lock) : NULL;
  if (rc == 0 && lock == NULL) rc = -ENOMEM;
  if (rc < 0) {
    close(fd);
    return rc;
  }
  lock->fd = fd;
  *out = lock;
  return 0;
}

void cnet_lock_close(struct cnet_lock *lock) {
  if (lock == NULL) return;
  close(lock->fd); /* closing the only descriptor releases the flock */
  free(lock);
}
