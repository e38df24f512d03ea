/* `cnet --sandbox`: a throwaway world to try recipes in. The mechanism is here in C (new PID,
 * network and mount namespaces, a fresh /proc, a tmpfs on /run/netns, signal forwarding);
 * the network inside (the simulated upstream "internet") is policy, built in Lua with the
 * public cnet API by the chunk below. */
#define _GNU_SOURCE /* unshare */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <lauxlib.h>

#include "cli/host.h"

/* ---- the parent: waits, forwards signals, returns the child's status ------------------- */

static volatile pid_t sandbox_child;

/* Signals a process sends (kill, timeout) go on to the child. Keyboard signals are not
 * forwarded: the terminal already sent them to the child, which shares our process group. */
static void forward(int sig, siginfo_t *si, void *uc) {
  (void)uc;
  if (si->si_code == SI_KERNEL) return;
  if (sandbox_child > 0) kill(sandbox_child, sig);
}

static void parent_wait(pid_t child) {
  static const int sigs[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2};
  sandbox_child = child;
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = forward;
  sa.sa_flags = SA_SIGINFO | SA_RESTART;
  sigemptyset(&sa.sa_mask);
  for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++) sigaction(sigs[i], &sa, NULL);
  int status;
  while (waitpid(child, &status, 0) < 0) {
    if (errno != EINTR) {
      perror(HOST_NAME ": --sandbox: waitpid");
      _exit(1);
    }
  }
  fflush(stdout);
  if (WIFEXITED(status)) exit(WEXITSTATUS(status));
  exit(128 + WTERMSIG(status));
}

/* ---- the child: PID 1 of the sandbox ---------------------------------------------------- */

/* PID 1 ignores every signal it has no handler for, so termination requests need one. */
static void child_terminate(int sig) {
  _exit(128 + sig);
}

static int write_file(const char *path, const char *text) {
  int fd = open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0) return -errno;
  ssize_t n = write(fd, text, strlen(text));
  int rc = n < 0 ? -errno : 0;
  close(fd);
  return rc;
}

/* Without root, a user namespace where we are root gives the same powers over the new
 * namespaces (and only over them). */
static int enter_user_namespace(const char **what) {
  char map[64];
  uid_t uid = geteuid();
  gid_t gid = getegid();
  *what = "unshare(CLONE_NEWUSER)";
  if (unshare(CLONE_NEWUSER) < 0) return -errno;
  *what = "/proc/self/setgroups";
  int rc = write_file("/proc/self/setgroups", "deny");
  if (rc < 0 && rc != -ENOENT) return rc;
  snprintf(map, sizeof map, "0 %u 1\n", (unsigned)uid);
  *what = "/proc/self/uid_map";
  if ((rc = write_file("/proc/self/uid_map", map)) < 0) return rc;
  snprintf(map, sizeof map, "0 %u 1\n", (unsigned)gid);
  *what = "/proc/self/gid_map";
  if ((rc = write_file("/proc/self/gid_map", map)) < 0) return rc;
  return 0;
}

static int setup_child(const char **what) {
  static const int sigs[] = {SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2};
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = child_terminate;
  sigemptyset(&sa.sa_mask);
  for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++) sigaction(sigs[i], &sa, NULL);
  *what = "prctl(PR_SET_PDEATHSIG)";
  if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0) return -errno;
  /* UTS and IPC too: a script's sethostname or System V IPC must not reach the machine. */
  *what = "unshare(CLONE_NEWNET|CLONE_NEWNS|CLONE_NEWUTS|CLONE_NEWIPC)";
  if (unshare(CLONE_NEWNET | CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC) < 0) return -errno;
  *what = "sethostname";
  if (sethostname("cnet-sandbox", strlen("cnet-sandbox")) < 0) return -errno;
  *what = "making mounts private";
  if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0) return -errno;
  *what = "mounting /proc";
  if (mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0) return -errno;
  /* A tmpfs over all of /run, so that /run/netns starts empty without leaving even an empty
   * directory behind on the machine. */
  *what = "mounting a tmpfs on /run";
  if (mount("cnet-sandbox", "/run", "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755") < 0) return -errno;
  *what = "creating /run/netns";
  if (mkdir("/run/netns", 0755) < 0 && errno != EEXIST) return -errno;
  *what = "mounting a tmpfs on /run/netns";
  if (mount("cnet-sandbox", "/run/netns", "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC,
            "mode=0755") < 0)
    return -errno;
  setenv("CNET_SANDBOX", "1", 1);
  return 0;
}

int host_sandbox_enter(const char **what) {
  int rc;
  if (geteuid() != 0 && (rc = enter_user_namespace(what)) < 0) return rc;
  *what = "unshare(CLONE_NEWPID)";
  if (unshare(CLONE_NEWPID) < 0) return -errno;
  fflush(NULL);
  *what = "fork";
  pid_t child = fork();
  if (child < 0) return -errno;
  if (child > 0) parent_wait(child); /* never returns */
  return setup_child(what);
}

/* ---- the network inside, in Lua ---------------------------------------------------------- */

/* sleep(seconds): a pause for the chunk below while the web server starts. */
static int sandbox_sleep(lua_State *L) {
  lua_Number s = luaL_checknumber(L, 1);
  struct timespec ts = {(time_t)s, (long)((s - (lua_Number)(time_t)s) * 1e9)};
  while (nanosleep(&ts, &ts) < 0 && errno == EINTR) {
  }
  return 0;
}

static const char build_chunk[] =
    "local cnet, hello, sleep = ...\n"
    "-- The sandbox itself: loopback up, an uplink to the 'internet', a default route.\n"
    "cnet.link.set('lo', {up = true})\n"
    "local inet <close> = cnet.netns.add('internet')\n"
    "inet.link.set('lo', {up = true})\n"
    "-- A host out there: an address on the internet's loopback.\n"
    "inet.addr.add('lo', '198.51.100.1/32')\n"
    "cnet.link.add{name = 'uplink0', type = 'veth', peer = {name = 'eth0', netns = inet}}\n"
    "inet.addr.add('eth0', '203.0.113.1/24')\n"
    "inet.link.set('eth0', {up = true})\n"
    "cnet.addr.add('uplink0', '203.0.113.2/24')\n"
    "cnet.link.set('uplink0', {up = true})\n"
    "-- The internet knows 203.0.113.0/24 only: private ranges get no answer (no NAT yet).\n"
    "cnet.route.add{dst = 'default', via = '203.0.113.1'}\n"
    "-- A veth's carrier comes up asynchronously (linkwatch): start the script only once the\n"
    "-- uplink carries traffic, so its first look at the links and its first ping are stable.\n"
    "for _ = 1, 300 do\n"
    "  if cnet.link.get('uplink0').operstate == 'up' and\n"
    "     cnet.ping('203.0.113.1', {timeout = 0.05}) then break end\n"
    "  sleep(0.01)\n"
    "end\n"
    "if not hello then\n"
    "  io.stderr:write('cnet: --sandbox: cnet-hello not found (set CNET_HELLO): ',\n"
    "                  '198.51.100.1 serves no web page\\n')\n"
    "  return\n"
    "end\n"
    "inet.spawn({hello, '-q', '80'})\n"
    "if not inet.tcp_connect('198.51.100.1', 80, {retry = 3}) then\n"
    "  error('the web server on 198.51.100.1:80 did not start', 0)\n"
    "end\n";

/* The path of cnet-hello: $CNET_HELLO, else the first in $PATH; NULL when none. */
static const char *find_hello(lua_State *L) {
  const char *env = getenv("CNET_HELLO");
  if (env != NULL && *env) return env;
  const char *path = getenv("PATH");
  while (path != NULL && *path) {
    size_t len = strcspn(path, ":");
    const char *cand = lua_pushfstring(L, "%s/cnet-hello", lua_pushlstring(L, path, len));
    if (len > 0 && access(cand, X_OK) == 0) return cand; /* kept alive on the stack */
    lua_pop(L, 2);
    path += len + (path[len] == ':');
  }
  return NULL;
}

int host_sandbox_build(lua_State *L) {
  int top = lua_gettop(L);
  const char *hello = find_hello(L);
  int status = luaL_loadbuffer(L, build_chunk, sizeof build_chunk - 1, "=(sandbox)");
  if (status != LUA_OK) return status;
  lua_getglobal(L, "cnet");
  if (hello != NULL) lua_pushstring(L, hello);
  else lua_pushnil(L);
  lua_pushcfunction(L, sandbox_sleep);
  status = host_docall(L, 3, 0);
  if (status != LUA_OK) {
    lua_pushfstring(L, "--sandbox: %s", lua_tostring(L, -1));
    lua_replace(L, top + 1);
    lua_settop(L, top + 1);
    return status;
  }
  lua_settop(L, top);
  return LUA_OK;
}
