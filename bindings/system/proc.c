/* Processes in a namespace: exec, spawn, wait, pids, kill (bound to a namespace handle). */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "cnet/proc.h"
#include "common/lcnet.h"

extern char **environ;

/* Seconds (a number >= 0) at idx -> milliseconds, rounded up; errors blame argument arg. */
static int seconds_arg(lua_State *L, int idx, int arg, const char *what) {
  int isnum;
  lua_Number s = lua_tonumberx(L, idx, &isnum);
  if (!isnum || !(s >= 0 && s <= 86400.0 * 365)) {
    luaL_argerror(L, arg, lua_pushfstring(L, "%s must be a number of seconds >= 0", what));
  }
  return (int)ceil(s * 1000.0);
}

/* The argv table at idx -> a NULL-terminated array (userdata, pushed); its strings are kept
 * in the anchor table at index anchor. */
static const char **argv_arg(lua_State *L, int idx, int anchor) {
  luaL_checktype(L, idx, LUA_TTABLE);
  lua_Integer n = luaL_len(L, idx);
  luaL_argcheck(L, n > 0, idx, "empty command");
  luaL_argcheck(L, n < 65536, idx, "too many arguments");
  const char **v = lua_newuserdatauv(L, sizeof *v * (size_t)(n + 1), 0);
  for (lua_Integer i = 1; i <= n; i++) {
    lua_geti(L, idx, i);
    if (!lua_isstring(L, -1)) {
      luaL_argerror(L, idx, lua_pushfstring(L, "command element %I is a %s, not a string", i,
                                            luaL_typename(L, -1)));
    }
    const char *s = lua_tostring(L, -1);
    if (i == 1 && *s == '\0') luaL_argerror(L, idx, "empty program name");
    v[i - 1] = s;
    lua_rawseti(L, anchor, (lua_Integer)lua_rawlen(L, anchor) + 1); /* keeps s alive */
  }
  v[n] = NULL;
  return v;
}

/* The env option at idx (a table: NAME = value, or false to remove) merged over the caller's
 * environment -> a NULL-terminated array (userdata, pushed). */
static const char **env_arg(lua_State *L, int idx, int anchor, int arg) {
  if (lua_type(L, idx) != LUA_TTABLE) luaL_argerror(L, arg, "option 'env' must be a table");
  size_t n = 0, extra = 0;
  for (char **e = environ; e != NULL && *e != NULL; e++) n++;
  lua_pushnil(L);
  while (lua_next(L, idx) != 0) {
    lua_pop(L, 1);
    extra++;
  }
  const char **v = lua_newuserdatauv(L, sizeof *v * (n + extra + 1), 0);
  size_t k = 0;
  for (char **e = environ; e != NULL && *e != NULL; e++) {
    const char *eq = strchr(*e, '=');
    if (eq == NULL) continue;
    lua_pushlstring(L, *e, (size_t)(eq - *e));
    int overridden = lua_rawget(L, idx) != LUA_TNIL;
    lua_pop(L, 1);
    if (!overridden) v[k++] = *e;
  }
  lua_pushnil(L);
  while (lua_next(L, idx) != 0) {
    if (lua_type(L, -2) != LUA_TSTRING || strchr(lua_tostring(L, -2), '=') != NULL ||
        *lua_tostring(L, -2) == '\0') {
      luaL_argerror(L, arg, "option 'env' wants variable names as keys");
    }
    if (lua_isboolean(L, -1) && !lua_toboolean(L, -1)) {
      lua_pop(L, 1);
      continue;
    }
    if (!lua_isstring(L, -1)) {
      luaL_argerror(L, arg, lua_pushfstring(L, "option 'env': value of '%s' is a %s",
                                            lua_tostring(L, -2), luaL_typename(L, -1)));
    }
    const char *s = lua_pushfstring(L, "%s=%s", lua_tostring(L, -2), lua_tostring(L, -1));
    v[k++] = s;
    lua_rawseti(L, anchor, (lua_Integer)lua_rawlen(L, anchor) + 1);
    lua_pop(L, 1);
  }
  v[k] = NULL;
  return v;
}

/* Where an output goes: nil (inherit), false (/dev/null) or a file path (created, truncated). */
typedef struct {
  const char *path; /* NULL: inherit */
} lsink;

static lsink sink_arg(lua_State *L, int opts, const char *key, int arg) {
  lsink s = {NULL};
  if (lua_isnoneornil(L, opts)) return s;
  int t = lua_getfield(L, opts, key);
  if (t == LUA_TBOOLEAN && !lua_toboolean(L, -1)) s.path = "/dev/null";
  else if (t == LUA_TSTRING) s.path = lua_tostring(L, -1);
  else if (t != LUA_TNIL) {
    luaL_argerror(L, arg, lua_pushfstring(L, "option '%s' must be a file path or false", key));
  }
  lua_pop(L, 1); /* the string stays alive in the options table */
  return s;
}

/* Opens the outputs into fd[1], fd[2]; returns 0 or -errno with *failed the failing path. */
static int open_sinks(const lsink *out, const lsink *err, int fd[3], const char **failed) {
  const lsink *s[2] = {out, err};
  for (int i = 0; i < 2; i++) {
    if (s[i]->path == NULL) continue;
    if (i == 1 && out->path != NULL && strcmp(out->path, err->path) == 0) {
      fd[2] = fcntl(fd[1], F_DUPFD_CLOEXEC, 3); /* one file for both, like 2>&1 */
    } else {
      fd[i + 1] = open(s[i]->path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    }
    if (fd[i + 1] < 0) {
      *failed = s[i]->path;
      return -errno;
    }
  }
  return 0;
}

static void close_fds(int fd[3]) {
  for (int i = 0; i < 3; i++) {
    if (fd[i] >= 0) close(fd[i]);
    fd[i] = -1;
  }
}

/* Fills spec from argv at 1 and the common options at 2. Pushes an anchor table and the
 * arrays; nothing here owns C resources, so raising is safe. */
static void spec_args(lua_State *L, struct cnet_proc_spec *spec) {
  lua_newtable(L);
  int anchor = lua_gettop(L);
  spec->argv = argv_arg(L, 1, anchor);
  spec->envp = NULL;
  spec->cwd = NULL;
  spec->fd[0] = spec->fd[1] = spec->fd[2] = -1;
  spec->own_group = 0;
  if (lua_isnoneornil(L, 2)) return;
  if (lua_getfield(L, 2, "env") != LUA_TNIL) spec->envp = env_arg(L, lua_gettop(L), anchor, 2);
  if (lua_getfield(L, 2, "cwd") != LUA_TNIL) {
    if (lua_type(L, -1) != LUA_TSTRING) luaL_argerror(L, 2, "option 'cwd' must be a string");
    spec->cwd = lua_tostring(L, -1);
  }
}

static int start_failed(lua_State *L, int rc, const char *op, const char *prog) {
  return lcnet_raise(L, rc, op, prog, cnet_netns_errmsg(lcnet_ns(L)));
}

/* The run's collected output, owned by a userdata so that a raise cannot leak it. */
static int io_gc(lua_State *L) {
  cnet_proc_io_free(lua_touserdata(L, 1));
  return 0;
}

/* exec(argv [, {capture=, stdin=, env=, cwd=, stdout=, stderr=, timeout=}])
 *   -> code, out, err (out and err are strings when capture is true, else nil) */
static int proc_exec(lua_State *L) {
  static const char *const known[] = {"capture", "stdin",  "env",     "cwd",
                                      "stdout",  "stderr", "timeout", NULL};
  struct cnet_netns *ns = lcnet_ns(L);
  lcnet_check_options(L, 2, known);
  struct cnet_proc_spec spec;
  spec_args(L, &spec);
  struct cnet_proc_io *io = lua_newuserdatauv(L, sizeof *io, 0);
  memset(io, 0, sizeof *io);
  io->timeout_ms = -1;
  lua_createtable(L, 0, 1);
  lua_pushcfunction(L, io_gc);
  lua_setfield(L, -2, "__gc");
  lua_setmetatable(L, -2);
  lsink out = {NULL}, err = {NULL};
  if (!lua_isnoneornil(L, 2)) {
    lua_getfield(L, 2, "capture");
    io->capture = lua_toboolean(L, -1);
    if (lua_getfield(L, 2, "stdin") != LUA_TNIL) {
      if (lua_type(L, -1) != LUA_TSTRING) luaL_argerror(L, 2, "option 'stdin' must be a string");
      io->in = lua_tolstring(L, -1, &io->in_len);
    }
    if (lua_getfield(L, 2, "timeout") != LUA_TNIL) {
      io->timeout_ms = seconds_arg(L, lua_gettop(L), 2, "timeout");
    }
    out = sink_arg(L, 2, "stdout", 2);
    err = sink_arg(L, 2, "stderr", 2);
    if (io->capture && (out.path || err.path)) {
      luaL_argerror(L, 2, "options 'stdout'/'stderr' and 'capture' exclude each other");
    }
  }
  const char *failed = NULL;
  int rc = open_sinks(&out, &err, spec.fd, &failed);
  if (rc == 0) rc = cnet_proc_run(ns, &spec, io);
  close_fds(spec.fd);
  if (rc < 0 && failed != NULL) return lcnet_raise(L, rc, "netns.exec", failed, "open output");
  if (rc < 0) return start_failed(L, rc, "netns.exec", spec.argv[0]);
  lua_pushinteger(L, io->status);
  if (!io->capture) return 1;
  lua_pushlstring(L, io->out ? io->out : "", io->out_len);
  lua_pushlstring(L, io->err ? io->err : "", io->err_len);
  return 3;
}

/* spawn(argv [, {stdout=, stderr=, env=, cwd=}]) -> pid; stdin is /dev/null */
static int proc_spawn(lua_State *L) {
  static const char *const known[] = {"env", "cwd", "stdout", "stderr", NULL};
  struct cnet_netns *ns = lcnet_ns(L);
  lcnet_check_options(L, 2, known);
  struct cnet_proc_spec spec;
  spec_args(L, &spec);
  lsink out = sink_arg(L, 2, "stdout", 2), err = sink_arg(L, 2, "stderr", 2);
  const char *failed = NULL;
  int rc = open_sinks(&out, &err, spec.fd, &failed);
  if (rc == 0) {
    spec.fd[0] = open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (spec.fd[0] < 0) {
      rc = -errno;
      failed = "/dev/null";
    }
  }
  /* An output left to inherit goes where the host asked background output to go (the REPL
   * prints it above its prompt), else to the caller's own. */
  for (int i = 1; i <= 2 && rc == 0; i++) {
    if (spec.fd[i] >= 0) continue;
    if (lua_getfield(L, LUA_REGISTRYINDEX, LCNET_SPAWN_OUTPUT) == LUA_TNUMBER) {
      spec.fd[i] = fcntl((int)lua_tointeger(L, -1), F_DUPFD_CLOEXEC, 3);
      if (spec.fd[i] < 0) rc = -errno, failed = "the REPL's output pipe";
    }
    lua_pop(L, 1);
  }
  spec.own_group = 1;
  pid_t pid = -1;
  if (rc == 0) rc = cnet_proc_spawn(ns, &spec, &pid);
  close_fds(spec.fd);
  if (rc < 0 && failed != NULL) return lcnet_raise(L, rc, "netns.spawn", failed, "open output");
  if (rc < 0) return start_failed(L, rc, "netns.spawn", spec.argv[0]);
  lua_pushinteger(L, pid);
  return 1;
}

/* wait(pid [, timeout]) -> code, or nil, "timeout" while it still runs */
static int proc_wait(lua_State *L) {
  lcnet_self_arg(L); /* ns:wait(pid) */
  lua_Integer pid = luaL_checkinteger(L, 1);
  int timeout = lua_isnoneornil(L, 2) ? -1 : seconds_arg(L, 2, 2, "timeout");
  luaL_argcheck(L, pid > 0, 1, "pid must be positive");
  int code;
  int rc = cnet_proc_wait((pid_t)pid, timeout, &code);
  if (rc == -ETIMEDOUT) {
    lua_pushnil(L);
    lua_pushliteral(L, "timeout");
    return 2;
  }
  if (rc < 0) return lcnet_raise(L, rc, "netns.wait", lua_pushfstring(L, "%I", pid), NULL);
  lua_pushinteger(L, code);
  return 1;
}

static int push_pid(pid_t pid, void *data) {
  lua_State *L = data;
  lua_pushinteger(L, pid);
  lua_rawseti(L, -2, (lua_Integer)lua_rawlen(L, -2) + 1);
  return 0;
}

/* pids() -> { pid, ... } of every process whose network namespace is this one */
static int proc_pids(lua_State *L) {
  struct cnet_netns *ns = lcnet_ns(L);
  lua_newtable(L);
  int rc = cnet_proc_pids(ns, push_pid, L);
  if (rc < 0) return lcnet_raise(L, rc, "netns.pids", cnet_netns_name(ns), NULL);
  return 1;
}

/* kill([sig] [, {wait = seconds}]) -> count signalled, count still there */
static int proc_kill(lua_State *L) {
  static const char *const known[] = {"wait", "force", NULL};
  struct cnet_netns *ns = lcnet_ns(L);
  if (lua_type(L, 1) == LUA_TTABLE) { /* kill{wait = 1}: the default signal */
    lua_settop(L, 1);
    lua_pushnil(L);
    lua_insert(L, 1);
  }
  int sig = SIGTERM;
  if (lua_type(L, 1) == LUA_TNUMBER) {
    lua_Integer n = luaL_checkinteger(L, 1);
    luaL_argcheck(L, n >= 0 && n <= 64, 1, lua_pushfstring(L, "unknown signal %I", n));
    sig = (int)n;
  } else if (!lua_isnoneornil(L, 1)) {
    const char *name = luaL_checkstring(L, 1);
    sig = cnet_proc_signal(name);
    if (sig < 0) luaL_argerror(L, 1, lua_pushfstring(L, "unknown signal '%s'", name));
  }
  lcnet_check_options(L, 2, known);
  int wait = 0;
  if (!lua_isnoneornil(L, 2) && lua_getfield(L, 2, "wait") != LUA_TNIL) {
    wait = seconds_arg(L, lua_gettop(L), 2, "wait");
  }
  int force = 0;
  if (!lua_isnoneornil(L, 2)) force = lua_getfield(L, 2, "force") != LUA_TNIL && lua_toboolean(L, -1);
  /* cnet's own namespace holds cnet and, outside a sandbox, the whole machine: signalling
   * all of it is never what `kill` on a container's namespace meant. */
  if (!force && cnet_netns_is_current(ns) == 1)
    return lcnet_raise(L, -EPERM, "netns.kill",
                       cnet_netns_name(ns) ? cnet_netns_name(ns) : "(own namespace)",
                       "refusing to signal every process of cnet's own network namespace; "
                       "pass {force = true} to mean it");
  size_t count, left;
  int rc = cnet_proc_kill(ns, sig, wait, &count, &left);
  if (rc < 0) return lcnet_raise(L, rc, "netns.kill", cnet_netns_name(ns), NULL);
  lua_pushinteger(L, (lua_Integer)count);
  lua_pushinteger(L, (lua_Integer)left);
  return 2;
}

void lcnet_open_proc(lua_State *L, int ns) {
  static const luaL_Reg fns[] = {{"exec", proc_exec}, {"spawn", proc_spawn},
                                 {"wait", proc_wait}, {"pids", proc_pids},
                                 {"kill", proc_kill}, {NULL, NULL}};
  lcnet_bind(L, fns, ns);
}
