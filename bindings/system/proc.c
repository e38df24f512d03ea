/* Processes in a namespace: exec, spawn, wait, pids, kill (bound to a namespace handle). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "cnet/proc.h"
#include "common/lcnet.h"

extern char **environ;

/* Seconds (a number >= 0) at idx -> milliseconds, rounded up; errors blame argument arg. */
static int seconds_arg(lua_State *L, int idx, int arg, const char *what) {
  lua_Number s = lcnet_to_number(L, idx, arg, 0, 86400.0 * 365, what);
  return (int)ceil(s * 1000.0);
}

/* The argv table at idx -> a NULL-terminated array (userdata, pushed); its strings are kept
 * in the anchor table at index anchor. */
static const char **argv_arg(lua_State *L, int idx, int anchor) {
  if (lua_type(L, idx) != LUA_TTABLE)
    lcnet_argerror(L, idx, NULL, "command (a list of strings) expected, got %s",
                   luaL_typename(L, idx));
  lua_Integer n = luaL_len(L, idx);
  luaL_argcheck(L, n > 0, idx, "empty command");
  luaL_argcheck(L, n < 65536, idx, "too many arguments");
  const char **v = lua_newuserdatauv(L, sizeof *v * (size_t)(n + 1), 0);
  for (lua_Integer i = 1; i <= n; i++) {
    lua_geti(L, idx, i);
    if (lua_type(L, -1) != LUA_TSTRING && lua_type(L, -1) != LUA_TNUMBER) {
      luaL_argerror(L, idx, lua_pushfstring(L, "command element %I is a %s, not a string", i,
                                            luaL_typename(L, -1)));
    }
    /* MAX_ARG_STRLEN: the kernel takes no longer argument */
    int elem = lua_gettop(L);
    const char *what = i == 1 ? "program name" : lua_pushfstring(L, "command element %I", i);
    const char *s = lcnet_to_textnum(L, elem, idx, 128 * 1024, what);
    lua_settop(L, elem);
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
  if (lua_type(L, idx) != LUA_TTABLE)
    lcnet_argerror(L, arg, "field 'env'", "a table of NAME = value (or false) expected, got %s",
                   luaL_typename(L, idx));
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
    int val = lua_gettop(L), key = val - 1;
    const char *name = lua_type(L, key) == LUA_TSTRING
                           ? lcnet_to_text(L, key, arg, 128 * 1024, "field 'env': variable name", NULL)
                           : NULL;
    if (name == NULL || strchr(name, '=') != NULL || *name == '\0') {
      lcnet_argerror(L, arg, "field 'env'", "variable names (without '=') as keys, got %s",
                     lcnet_quote_value(L, key));
    }
    if (lua_type(L, val) == LUA_TBOOLEAN && !lua_toboolean(L, val)) { /* not user input: false */
      lua_pop(L, 1);
      continue;
    }
    if (lua_type(L, val) != LUA_TSTRING && lua_type(L, val) != LUA_TNUMBER) {
      lcnet_argerror(L, arg, "field 'env'", "value of %s is a %s (string, number or false)",
                     lcnet_quote(L, name, strlen(name)), luaL_typename(L, val));
    }
    const char *value = lcnet_to_textnum(L, val, arg, 128 * 1024,
                                         lua_pushfstring(L, "field 'env.%s'", name));
    lua_settop(L, val);
    const char *s = lua_pushfstring(L, "%s=%s", name, value);
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
  lcnet_fields f = lcnet_fields_of(L, opts);
  int t = lua_getfield(L, opts, key);
  lua_pop(L, 1);
  if (t == LUA_TBOOLEAN && !lcnet_field_bool(&f, key, 1)) s.path = "/dev/null";
  else if (t == LUA_TSTRING) s.path = lcnet_field_text(&f, key, PATH_MAX - 1, NULL, NULL);
  else if (t != LUA_TNIL) lcnet_field_fail(&f, key, "a file path or false expected, got %s",
                                          t == LUA_TBOOLEAN ? "true" : lua_typename(L, t));
  (void)arg;
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
  lcnet_fields f = lcnet_fields_of(L, 2);
  spec->cwd = lcnet_field_text(&f, "cwd", PATH_MAX - 1, NULL, NULL);
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
    lcnet_fields f = lcnet_fields_of(L, 2);
    io->capture = lcnet_field_bool(&f, "capture", 0);
    io->in = lcnet_field_bytes(&f, "stdin", (size_t)1 << 30, &io->in_len);
    if (lua_getfield(L, 2, "timeout") != LUA_TNIL) {
      io->timeout_ms = seconds_arg(L, lua_gettop(L), 2, "field 'timeout'");
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
      int fd = (int)lua_tointeger(L, -1); /* not user input: set by the host */
      spec.fd[i] = fcntl(fd, F_DUPFD_CLOEXEC, 3);
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
  lua_Integer pid = lcnet_check_int(L, 1, 1, INT_MAX, "pid");
  int timeout = lua_isnoneornil(L, 2) ? -1 : seconds_arg(L, 2, 2, "timeout");
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

/* Appends the pid (light userdata at 2) to the list at 1. */
static int pid_row(lua_State *L) {
  pid_t *pid = lua_touserdata(L, 2);
  lua_pushinteger(L, *pid);
  lua_rawseti(L, 1, (lua_Integer)lua_rawlen(L, 1) + 1);
  return 0;
}

static int push_pid(pid_t pid, void *data) {
  return lcnet_row(data, pid_row, &pid); /* the core holds /proc open meanwhile */
}

/* pids() -> { pid, ... } of every process whose network namespace is this one */
static int proc_pids(lua_State *L) {
  struct cnet_netns *ns = lcnet_ns(L);
  lua_newtable(L);
  int rc = lcnet_rows_done(L, cnet_proc_pids(ns, push_pid, L));
  if (rc < 0) return lcnet_raise(L, rc, "netns.pids", lcnet_ns_label(ns), NULL);
  return 1;
}

/* kill([sig] [, {wait = seconds}]) -> count signalled, count still there */
static int proc_kill(lua_State *L) {
  static const char *const known[] = {"wait", "force", NULL};
  struct cnet_netns *ns = lcnet_ns(L);
  if (lua_type(L, 1) == LUA_TTABLE) { /* kill{wait = 1}: the default signal */
    lua_settop(L, 1);
    lcnet_check_options(L, 1, known); /* checked where the caller put it, so errors say #1 */
    lua_pushnil(L);
    lua_insert(L, 1);
  }
  int sig = SIGTERM;
  if (lua_type(L, 1) == LUA_TNUMBER) {
    sig = (int)lcnet_check_int(L, 1, 0, 64, "signal number");
  } else if (!lua_isnoneornil(L, 1)) {
    size_t len;
    if (lua_type(L, 1) != LUA_TSTRING)
      lcnet_argerror(L, 1, NULL, "signal name or number expected, got %s", luaL_typename(L, 1));
    const char *name = lcnet_check_bytes(L, 1, 64 * 1024 * 1024, "signal", &len);
    sig = strlen(name) == len ? cnet_proc_signal(name) : -1;
    if (sig < 0) lcnet_argerror(L, 1, NULL, "unknown signal %s", lcnet_quote(L, name, len));
  }
  lcnet_check_options(L, 2, known);
  int wait = 0, force = 0;
  if (!lua_isnoneornil(L, 2)) {
    if (lua_getfield(L, 2, "wait") != LUA_TNIL) wait = seconds_arg(L, lua_gettop(L), 2, "field 'wait'");
    lcnet_fields f = lcnet_fields_of(L, 2);
    force = lcnet_field_bool(&f, "force", 0);
  }
  /* cnet's own namespace holds cnet and, outside a sandbox, the whole machine: signalling
   * all of it is never what `kill` on a container's namespace meant. */
  if (!force && cnet_netns_is_current(ns) == 1)
    return lcnet_raise(L, -EPERM, "netns.kill", lcnet_ns_label(ns),
                       "refusing to signal every process of cnet's own network namespace; "
                       "pass {force = true} to mean it");
  size_t count, left;
  int rc = cnet_proc_kill(ns, sig, wait, &count, &left);
  if (rc < 0) return lcnet_raise(L, rc, "netns.kill", lcnet_ns_label(ns), NULL);
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
