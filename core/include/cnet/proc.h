/* Processes inside a network namespace: run and wait, spawn in the background, list the
 * processes a namespace holds, signal them. The iproute2 counterparts are `ip netns exec`,
 * `ip netns pids` and `ip netns pids NS | xargs kill`. */
#ifndef CNET_PROC_H
#define CNET_PROC_H

#include <stddef.h>
#include <sys/types.h>

#include "cnet/netns.h"

/* What to start. argv is NULL-terminated with argv[0] non-NULL; a name without '/' is
 * searched in the caller's PATH (like execvp). envp is the child's whole environment
 * (NULL-terminated) or NULL to inherit the caller's. cwd NULL keeps the caller's.
 * fd[i] is what the child gets as descriptor i (0, 1, 2); -1 inherits the caller's.
 * Every pointer stays owned by the caller. */
struct cnet_proc_spec {
  const char *const *argv;
  const char *const *envp;
  const char *cwd;
  int fd[3];
  int own_group; /* nonzero: the child leads a new process group (setpgid), so signals for the
                  * caller's group, such as the terminal's Ctrl-C, do not reach it */
};

/* Starts spec inside ns. The child switches into the namespace (setns), takes a mount
 * namespace of its own in which /sys is remounted so /sys/class/net lists the namespace's
 * devices and each file of /etc/netns/NAME is bound over its namesake in /etc (both as
 * `ip netns exec` does), then executes the program. The caller's namespaces never
 * change. Descriptors other than 0-2 are not passed on.
 * Returns 0 once the program runs (*pid set; the caller reaps it, see cnet_proc_wait), or
 * -errno when it could not be started: the step that failed before exec ("setns into the
 * namespace", "mount /sys", "chdir", ...) is described in cnet_netns_errbuf(ns) (left empty
 * when exec itself failed: -ENOENT is a missing program), and the child is already reaped.
 * -EINVAL: empty argv. */
int cnet_proc_spawn(struct cnet_netns *ns, const struct cnet_proc_spec *spec, pid_t *pid);

/* Run and wait. in/in_len: bytes written to the child's standard input (in != NULL makes
 * stdin a pipe and overrides spec->fd[0]). capture: stdout and stderr are collected into
 * out/err (malloc'd, NUL-terminated, freed by cnet_proc_io_free) instead of spec->fd[1..2].
 * timeout_ms: the child is killed (SIGKILL) when it runs longer; < 0 waits forever.
 * On return status holds the exit code, or 128 + signal number when it was killed. */
struct cnet_proc_io {
  const char *in;
  size_t in_len;
  int capture;
  int timeout_ms;
  char *out, *err;
  size_t out_len, err_len;
  int status;
  int timed_out;
};

/* Returns 0 when the program ran (whatever its exit status) or -errno: the same start
 * failures as cnet_proc_spawn, or a failure while waiting; -EINTR when interrupted
 * (cnet/intr.h): the program was then killed (SIGKILL) and reaped. Output collected so far is kept in
 * io even on failure; always call cnet_proc_io_free. */
int cnet_proc_run(struct cnet_netns *ns, const struct cnet_proc_spec *spec,
                  struct cnet_proc_io *io);
void cnet_proc_io_free(struct cnet_proc_io *io);

/* Waits for the child pid to end, up to timeout_ms (< 0: forever; 0: just checks).
 * Returns 0 with *code = exit status or 128 + signal, -ETIMEDOUT while it still runs, -ECHILD
 * when pid is not an unreaped child of the caller, -EINTR when interrupted (cnet/intr.h;
 * the child runs on). */
int cnet_proc_wait(pid_t pid, int timeout_ms, int *code);

/* Calls fn(pid, data) for each process whose network namespace is ns (the same kernel
 * namespace as /proc/PID/ns/net), in /proc order (ascending pids). Stops and returns fn's value
 * when non-zero; returns 0 or -errno when /proc cannot be read. Processes that exit meanwhile
 * are skipped. */
int cnet_proc_pids(const struct cnet_netns *ns, int (*fn)(pid_t pid, void *data), void *data);

/* Sends sig to every process in ns except the caller itself, then reaps those that are the
 * caller's children. With wait_ms > 0 it waits up to that long until none of them is left
 * in the namespace. *count receives how many processes were signalled, *left how many are
 * still in the namespace at return (0 when all are gone). Returns 0 or -errno (-EINTR: the
 * wait was interrupted, the signals were sent). */
int cnet_proc_kill(const struct cnet_netns *ns, int sig, int wait_ms, size_t *count,
                   size_t *left);

/* A signal by name ("TERM", "SIGTERM", "term", "9" also works) -> its number, or -EINVAL.
 * cnet_proc_signame gives the short name of a number, or NULL. */
int cnet_proc_signal(const char *name);
const char *cnet_proc_signame(int sig);

#endif
