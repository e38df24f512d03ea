/* Processes inside a network namespace; see include/cnet/proc.h. */
#define _GNU_SOURCE
#include "cnet/proc.h"
#include "cnet/intr.h"
#include "cnet/nl.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

/* ---- starting a child ---- */

/* The steps a child takes before exec; a failing one is reported to the parent by number. */
enum step { STEP_SETNS, STEP_UNSHARE, STEP_SLAVE, STEP_SYSFS, STEP_FDS, STEP_CWD, STEP_EXEC };
static const char *const step_text[] = {
    [STEP_SETNS] = "setns into the namespace",
    [STEP_UNSHARE] = "unshare the mount namespace",
    [STEP_SLAVE] = "make / a slave mount",
    [STEP_SYSFS] = "mount /sys",
    [STEP_FDS] = "set up stdin/stdout/stderr",
    [STEP_CWD] = "chdir",
    [STEP_EXEC] = "exec",
};

struct report {
  int step, err;
};

static int in_namespace(const struct cnet_netns *ns) {
  struct stat st;
  dev_t dev;
  ino_t ino;
  cnet_netns_ident(ns, &dev, &ino);
  return stat("/proc/thread-self/ns/net", &st) == 0 && st.st_dev == dev && st.st_ino == ino;
}

static __attribute__((noreturn)) void child_fail(int fd, int step) {
  struct report r = {step, errno ? errno : EIO};
  ssize_t n = write(fd, &r, sizeof r);
  (void)n;
  _exit(127);
}

/* A fresh mount namespace whose /sys belongs to the network namespace we are in now: sysfs
 * takes the network namespace of whoever mounts it. Like `ip netns exec`, keep /sys
 * read-only when it was. Returns the failed step or -1. */
static int remount_sys(void) {
  if (unshare(CLONE_NEWNS) < 0) return STEP_UNSHARE;
  /* Nothing we mount from here on may propagate back to the caller's mounts. */
  if (mount("", "/", NULL, MS_SLAVE | MS_REC, NULL) < 0) return STEP_SLAVE;
  unsigned long flags = 0;
  struct statvfs sv;
  if (statvfs("/sys", &sv) == 0 && (sv.f_flag & ST_RDONLY)) flags |= MS_RDONLY;
  (void)umount2("/sys", MNT_DETACH); /* fails harmlessly when nothing is mounted there */
  if (mount("sysfs", "/sys", "sysfs", flags, NULL) < 0) return STEP_SYSFS;
  return -1;
}

/* Like `ip netns exec`: each file in /etc/netns/NAME is bound over its namesake in /etc
 * (resolv.conf, hosts, ...), in the child's own mount namespace only. Best effort, as there:
 * a file with no namesake in /etc is skipped. */
static void bind_etc(const char *name) {
  char dir[PATH_MAX];
  if (name == NULL || snprintf(dir, sizeof dir, "/etc/netns/%s", name) >= (int)sizeof dir) return;
  DIR *d = opendir(dir);
  if (d == NULL) return;
  for (struct dirent *e; (e = readdir(d)) != NULL;) {
    if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
    char src[PATH_MAX], dst[PATH_MAX];
    if (snprintf(src, sizeof src, "%s/%s", dir, e->d_name) >= (int)sizeof src ||
        snprintf(dst, sizeof dst, "/etc/%s", e->d_name) >= (int)sizeof dst)
      continue;
    (void)mount(src, dst, "none", MS_BIND, NULL);
  }
  closedir(d);
}

/* Runs in the child after fork; never returns. */
static __attribute__((noreturn)) void child_main(const struct cnet_netns *ns, int same,
                                                 const struct cnet_proc_spec *spec, int rep) {
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, NULL);
  signal(SIGPIPE, SIG_DFL);
  errno = 0;
  /* A background program leads a process group of its own: the terminal's Ctrl-C, meant
   * for the caller, does not reach it (as for `cmd &` in a shell). */
  if (spec->own_group) (void)setpgid(0, 0);
  if (!same) {
    if (setns(cnet_netns_fd(ns), CLONE_NEWNET) < 0) child_fail(rep, STEP_SETNS);
    int step = remount_sys();
    if (step >= 0) child_fail(rep, step);
    bind_etc(cnet_netns_name(ns));
  } else {
    /* Already in the namespace (the module's own): the mount step is a nicety that needs
     * privileges; an unprivileged caller still gets its program run. Bind /etc files only
     * inside a mount namespace of our own. */
    if (remount_sys() < 0) bind_etc(cnet_netns_name(ns));
  }
  /* Move low source descriptors out of the way, then place them. */
  int fd[3];
  for (int i = 0; i < 3; i++) {
    fd[i] = spec->fd[i];
    if (fd[i] >= 0 && fd[i] < 3 && fd[i] != i) {
      fd[i] = fcntl(fd[i], F_DUPFD_CLOEXEC, 3);
      if (fd[i] < 0) child_fail(rep, STEP_FDS);
    }
  }
  for (int i = 0; i < 3; i++) {
    if (fd[i] < 0) continue;
    if (fd[i] == i) {
      if (fcntl(i, F_SETFD, 0) < 0) child_fail(rep, STEP_FDS);
    } else if (dup2(fd[i], i) < 0) {
      child_fail(rep, STEP_FDS);
    }
  }
  /* Whatever the caller left inheritable (Lua's io.open files, say) stays with the caller. */
  (void)syscall(SYS_close_range, 3U, ~0U, CLOSE_RANGE_CLOEXEC);
  if (spec->cwd != NULL && chdir(spec->cwd) < 0) child_fail(rep, STEP_CWD);
  char *const *argv = (char *const *)spec->argv;
  if (spec->envp != NULL) execvpe(argv[0], argv, (char *const *)spec->envp);
  else execvp(argv[0], argv);
  child_fail(rep, STEP_EXEC);
}

int cnet_proc_spawn(struct cnet_netns *ns, const struct cnet_proc_spec *spec, pid_t *pid) {
  char *errbuf = cnet_netns_errbuf(ns);
  errbuf[0] = '\0';
  if (spec->argv == NULL || spec->argv[0] == NULL || spec->argv[0][0] == '\0') return -EINVAL;
  /* The program sees every change queued before it, and may add, rename or remove links
   * behind cnet's back: a batch forgets the names and indexes it remembered. */
  cnet_netns_sync(ns);
  cnet_netns_unfresh(ns);
  cnet_nl_forget_names(cnet_netns_rtnl(ns));
  int same = in_namespace(ns);
  int rep[2];
  if (pipe2(rep, O_CLOEXEC) < 0) return -errno;
  pid_t child = fork();
  if (child < 0) {
    int rc = -errno;
    close(rep[0]);
    close(rep[1]);
    return rc;
  }
  if (child == 0) {
    close(rep[0]);
    child_main(ns, same, spec, rep[1]);
  }
  close(rep[1]);
  /* The report pipe closes on a successful exec (it is close-on-exec); a failing child
   * writes which step failed first. */
  struct report r;
  ssize_t n;
  do n = read(rep[0], &r, sizeof r);
  while (n < 0 && errno == EINTR);
  close(rep[0]);
  if (n == (ssize_t)sizeof r) {
    while (waitpid(child, NULL, 0) < 0 && errno == EINTR) {}
    /* A program that does not execute is described by errno alone. */
    if (r.step != STEP_EXEC) snprintf(errbuf, CNET_ERRMSG_MAX, "%s", step_text[r.step]);
    return r.err > 0 ? -r.err : -EIO;
  }
  *pid = child;
  return 0;
}

/* ---- waiting ---- */

static int exit_code(int st) {
  if (WIFEXITED(st)) return WEXITSTATUS(st);
  if (WIFSIGNALED(st)) return 128 + WTERMSIG(st);
  return 255;
}

static long long now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Milliseconds left until deadline (< 0: none), capped by cap when cap >= 0. */
static int left_ms(long long deadline, int cap) {
  if (deadline < 0) return cap;
  long long left = deadline - now_ms();
  if (left < 0) left = 0;
  if (cap >= 0 && left > cap) left = cap;
  return (int)left;
}

static int pidfd_of(pid_t pid) {
#ifdef SYS_pidfd_open
  int fd = (int)syscall(SYS_pidfd_open, pid, 0);
  if (fd >= 0) fcntl(fd, F_SETFD, FD_CLOEXEC);
  return fd;
#else
  (void)pid;
  return -1;
#endif
}

/* 1 when reaped (*st set), 0 while running, -errno. */
static int try_reap(pid_t pid, int *st) {
  pid_t r;
  do r = waitpid(pid, st, WNOHANG);
  while (r < 0 && errno == EINTR);
  if (r < 0) return -errno;
  return r == pid;
}

int cnet_proc_wait(pid_t pid, int timeout_ms, int *code) {
  int st, rc;
  if (pid <= 0) return -ECHILD;
  long long deadline = timeout_ms >= 0 ? now_ms() + timeout_ms : -1;
  int pfd = pidfd_of(pid);
  /* The pidfd becomes readable when the child ends; without one, look every 10 ms. */
  while ((rc = try_reap(pid, &st)) == 0) {
    if (deadline >= 0 && now_ms() >= deadline) break;
    struct pollfd p = {.fd = pfd, .events = POLLIN};
    int k = cnet_poll(&p, pfd >= 0 ? 1 : 0, left_ms(deadline, pfd >= 0 ? -1 : 10));
    if (k == -EINTR) {
      rc = k;
      break;
    }
  }
  if (pfd >= 0) close(pfd);
  if (rc < 0) return rc;
  if (rc == 0) return -ETIMEDOUT;
  *code = exit_code(st);
  return 0;
}

/* ---- run with captured output ---- */

struct sink {
  char **buf;
  size_t *len, cap;
};

/* Appends one read's worth: > 0 bytes read, 0 at end of file, -EAGAIN/-EINTR: nothing yet,
 * other -errno. */
static int sink_read(int fd, struct sink *s) {
  char chunk[16384];
  ssize_t n = read(fd, chunk, sizeof chunk);
  if (n < 0) return -errno;
  if (n == 0) return 0;
  if (*s->len + (size_t)n + 1 > s->cap) {
    size_t cap = s->cap ? s->cap : 4096;
    while (cap < *s->len + (size_t)n + 1) cap *= 2;
    char *b = realloc(*s->buf, cap);
    if (b == NULL) return -ENOMEM;
    *s->buf = b;
    s->cap = cap;
  }
  memcpy(*s->buf + *s->len, chunk, (size_t)n);
  *s->len += (size_t)n;
  (*s->buf)[*s->len] = '\0';
  return (int)n;
}

static void close_fd(int *fd) {
  if (*fd >= 0) close(*fd);
  *fd = -1;
}

/* Reads what is already in the pipe, without waiting for writers that outlived the child
 * (a daemon it started may hold the pipe open forever). */
static int drain(int *fd, struct sink *s) {
  if (*fd < 0) return 0;
  int rc = fcntl(*fd, F_SETFL, O_NONBLOCK) < 0 ? -errno : 1;
  while (rc > 0 || rc == -EINTR) rc = sink_read(*fd, s);
  close_fd(fd);
  return rc == -EAGAIN ? 0 : rc;
}

/* The loop of cnet_proc_run once the child runs: feed stdin, collect output, watch the
 * child. Returns 0 or -errno; io->status set once reaped. */
static int pump(pid_t pid, int in_w, int out_r, int err_r, struct cnet_proc_io *io) {
  struct sink so = {&io->out, &io->out_len, 0}, se = {&io->err, &io->err_len, 0};
  size_t off = 0;
  long long deadline = io->timeout_ms >= 0 ? now_ms() + io->timeout_ms : -1;
  int pfd = pidfd_of(pid), st = 0, rc = 0, reaped = 0;
  if (in_w >= 0 && io->in_len == 0) close_fd(&in_w);
  while (!reaped && rc == 0) {
    struct pollfd p[4];
    int n = 0, iw = -1, io_ = -1, ie = -1;
    if (in_w >= 0) { iw = n; p[n++] = (struct pollfd){.fd = in_w, .events = POLLOUT}; }
    if (out_r >= 0) { io_ = n; p[n++] = (struct pollfd){.fd = out_r, .events = POLLIN}; }
    if (err_r >= 0) { ie = n; p[n++] = (struct pollfd){.fd = err_r, .events = POLLIN}; }
    if (pfd >= 0) p[n++] = (struct pollfd){.fd = pfd, .events = POLLIN};
    int r = cnet_poll(p, (nfds_t)n, left_ms(deadline, pfd >= 0 ? -1 : 10));
    if (r < 0) { rc = r; break; } /* interrupted, or a failure: the child is killed below */
    if (r > 0 && iw >= 0 && p[iw].revents) {
      ssize_t w = write(in_w, io->in + off, io->in_len - off);
      if (w > 0) off += (size_t)w;
      if ((w < 0 && errno != EINTR && errno != EAGAIN) || off == io->in_len) close_fd(&in_w);
    }
    if (r > 0 && io_ >= 0 && p[io_].revents) {
      int k = sink_read(out_r, &so);
      if (k == -EAGAIN || k == -EINTR) k = 1;
      if (k <= 0) close_fd(&out_r);
      if (k < 0) rc = k;
    }
    if (r > 0 && ie >= 0 && p[ie].revents) {
      int k = sink_read(err_r, &se);
      if (k == -EAGAIN || k == -EINTR) k = 1;
      if (k <= 0) close_fd(&err_r);
      if (k < 0) rc = k;
    }
    int k = try_reap(pid, &st);
    if (k < 0) { rc = k; break; }
    if (k == 1) { reaped = 1; break; }
    if (deadline >= 0 && now_ms() >= deadline) {
      kill(pid, SIGKILL);
      io->timed_out = 1;
      while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {}
      reaped = 1;
    }
  }
  if (!reaped) { /* interrupted, or an internal failure: do not leave the child behind */
    kill(pid, SIGKILL);
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {}
  }
  io->status = exit_code(st);
  int d1 = drain(&out_r, &so), d2 = drain(&err_r, &se);
  close_fd(&in_w);
  if (pfd >= 0) close(pfd);
  if (rc == 0) rc = d1 < 0 ? d1 : d2;
  return rc;
}

int cnet_proc_run(struct cnet_netns *ns, const struct cnet_proc_spec *spec,
                  struct cnet_proc_io *io) {
  int in[2] = {-1, -1}, out[2] = {-1, -1}, err[2] = {-1, -1}, rc = 0;
  io->out = io->err = NULL;
  io->out_len = io->err_len = 0;
  io->status = -1;
  io->timed_out = 0;
  struct cnet_proc_spec s = *spec;
  if (io->in != NULL) {
    if (pipe2(in, O_CLOEXEC) < 0) return -errno;
    s.fd[0] = in[0];
  }
  if (io->capture) {
    if (pipe2(out, O_CLOEXEC) < 0 || pipe2(err, O_CLOEXEC) < 0) rc = -errno;
    s.fd[1] = out[1];
    s.fd[2] = err[1];
  }
  /* A child that stops reading its input must not kill us with SIGPIPE: block it while we
   * write, and swallow one that became pending because of us. */
  sigset_t pipe_set, old, pending;
  sigemptyset(&pipe_set);
  sigaddset(&pipe_set, SIGPIPE);
  sigpending(&pending);
  int was_pending = sigismember(&pending, SIGPIPE);
  sigprocmask(SIG_BLOCK, &pipe_set, &old);
  pid_t pid = -1;
  if (rc == 0) rc = cnet_proc_spawn(ns, &s, &pid);
  close_fd(&in[0]);
  close_fd(&out[1]);
  close_fd(&err[1]);
  if (rc == 0) {
    if (in[1] >= 0) fcntl(in[1], F_SETFL, O_NONBLOCK);
    rc = pump(pid, in[1], out[0], err[0], io);
    in[1] = out[0] = err[0] = -1; /* pump closed them */
  }
  close_fd(&in[1]);
  close_fd(&out[0]);
  close_fd(&err[0]);
  sigpending(&pending);
  if (!was_pending && sigismember(&pending, SIGPIPE)) {
    struct timespec zero = {0, 0};
    (void)sigtimedwait(&pipe_set, NULL, &zero);
  }
  sigprocmask(SIG_SETMASK, &old, NULL);
  return rc;
}

void cnet_proc_io_free(struct cnet_proc_io *io) {
  free(io->out);
  free(io->err);
  io->out = io->err = NULL;
  io->out_len = io->err_len = 0;
}

/* ---- the processes of a namespace ---- */

int cnet_proc_pids(const struct cnet_netns *ns, int (*fn)(pid_t pid, void *data), void *data) {
  dev_t dev;
  ino_t ino;
  cnet_netns_ident(ns, &dev, &ino);
  DIR *d = opendir("/proc");
  if (d == NULL) return -errno;
  int rc = 0;
  for (struct dirent *e; rc == 0 && (e = readdir(d)) != NULL;) {
    if (!isdigit((unsigned char)e->d_name[0])) continue;
    char path[300];
    struct stat st;
    snprintf(path, sizeof path, "/proc/%s/ns/net", e->d_name);
    /* Gone meanwhile, or a zombie (its namespaces are already released): skip. */
    if (stat(path, &st) < 0 || st.st_dev != dev || st.st_ino != ino) continue;
    rc = fn((pid_t)strtol(e->d_name, NULL, 10), data);
  }
  closedir(d);
  return rc;
}

struct pidvec {
  pid_t *v;
  size_t n, cap;
  pid_t skip;
};

static int collect(pid_t pid, void *data) {
  struct pidvec *pv = data;
  if (pid == pv->skip) return 0;
  if (pv->n == pv->cap) {
    size_t cap = pv->cap ? pv->cap * 2 : 32;
    pid_t *v = realloc(pv->v, cap * sizeof *v);
    if (v == NULL) return -ENOMEM;
    pv->v = v;
    pv->cap = cap;
  }
  pv->v[pv->n++] = pid;
  return 0;
}

static int count_left(const struct cnet_netns *ns, size_t *left) {
  struct pidvec pv = {.skip = getpid()};
  int rc = cnet_proc_pids(ns, collect, &pv);
  free(pv.v);
  *left = pv.n;
  return rc;
}

/* Reaps those of pv that are our children and have ended; marks them (and non-children)
 * done by setting them to 0. Returns how many of ours still run. */
enum { REAP_GRACE_MS = 200 };

static size_t reap_ours(struct pidvec *pv) {
  size_t running = 0;
  for (size_t i = 0; i < pv->n; i++) {
    if (pv->v[i] == 0) continue;
    int st;
    int k = try_reap(pv->v[i], &st);
    if (k == 0) running++;
    else pv->v[i] = 0; /* reaped, or not our child (-ECHILD) */
  }
  return running;
}

int cnet_proc_kill(const struct cnet_netns *ns, int sig, int wait_ms, size_t *count,
                   size_t *left) {
  struct pidvec pv = {.skip = getpid()};
  *count = *left = 0;
  int rc = cnet_proc_pids(ns, collect, &pv);
  if (rc < 0) {
    free(pv.v);
    return rc;
  }
  size_t sent = 0;
  for (size_t i = 0; i < pv.n; i++) {
    if (pv.v[i] == 1) { /* never init: in a PID namespace it is the sandbox itself */
      pv.v[i] = 0;
      continue;
    }
    if (kill(pv.v[i], sig) == 0) sent++;
    else pv.v[i] = 0; /* exited meanwhile */
  }
  *count = sent;
  /* Our own children are worth a short wait even when the caller asked for none: reaped
   * now, they do not linger as zombies until the script ends. */
  long long start = now_ms(), deadline = start + (wait_ms > 0 ? wait_ms : 0);
  long long reap_deadline = start + (sig != 0 ? REAP_GRACE_MS : 0);
  if (reap_deadline < deadline) reap_deadline = deadline;
  for (;;) {
    size_t ours = reap_ours(&pv);
    rc = count_left(ns, left);
    long long t = now_ms();
    if (rc < 0 || ((*left == 0 || t >= deadline) && (ours == 0 || t >= reap_deadline))) break;
    rc = cnet_poll(NULL, 0, 5); /* an interruptible pause */
    if (rc < 0) break;
  }
  free(pv.v);
  return rc;
}

/* ---- signal names ---- */

static const struct {
  const char *name;
  int sig;
} signals[] = {
    {"HUP", SIGHUP},   {"INT", SIGINT},       {"QUIT", SIGQUIT},   {"ILL", SIGILL},
    {"TRAP", SIGTRAP}, {"ABRT", SIGABRT},     {"BUS", SIGBUS},     {"FPE", SIGFPE},
    {"KILL", SIGKILL}, {"USR1", SIGUSR1},     {"SEGV", SIGSEGV},   {"USR2", SIGUSR2},
    {"PIPE", SIGPIPE}, {"ALRM", SIGALRM},     {"TERM", SIGTERM},   {"CHLD", SIGCHLD},
    {"CONT", SIGCONT}, {"STOP", SIGSTOP},     {"TSTP", SIGTSTP},   {"TTIN", SIGTTIN},
    {"TTOU", SIGTTOU}, {"URG", SIGURG},       {"XCPU", SIGXCPU},   {"XFSZ", SIGXFSZ},
    {"VTALRM", SIGVTALRM}, {"PROF", SIGPROF}, {"WINCH", SIGWINCH}, {"IO", SIGIO},
    {"PWR", SIGPWR},   {"SYS", SIGSYS},
};

int cnet_proc_signal(const char *name) {
  if (name == NULL || *name == '\0') return -EINVAL;
  if (isdigit((unsigned char)name[0])) {
    char *end;
    long n = strtol(name, &end, 10);
    return *end == '\0' && n >= 0 && n <= SIGRTMAX ? (int)n : -EINVAL;
  }
  if (strncasecmp(name, "SIG", 3) == 0) name += 3;
  for (size_t i = 0; i < sizeof signals / sizeof signals[0]; i++)
    if (strcasecmp(name, signals[i].name) == 0) return signals[i].sig;
  return -EINVAL;
}

const char *cnet_proc_signame(int sig) {
  for (size_t i = 0; i < sizeof signals / sizeof signals[0]; i++)
    if (signals[i].sig == sig) return signals[i].name;
  return NULL;
}
