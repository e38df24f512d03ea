/* The host binary `cnet`: runs Lua scripts, one-liners and an interactive REPL with the cnet
 * module preloaded, optionally inside a throwaway sandbox (--sandbox). Shaped like the stock
 * `lua` interpreter: a protected main, a message handler that adds a traceback, Ctrl-C turned
 * into a Lua error, `arg` filled the same way. */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <lualib.h>

#include "cli/host.h"
#include "cnet/intr.h"
#include "common/embedded.h"
#include "common/inspect.h"
#include "common/lcnet.h"

int luaopen_cnet(lua_State *L);

static const char usage_text[] =
    "usage: " HOST_NAME " [options] [script [args...]]\n"
    "       " HOST_NAME " [--sandbox] COMMAND [args...]\n"
    "Runs a Lua 5.4 script with the cnet module loaded as the global `cnet`.\n"
    "Options:\n"
    "  -e CODE      run the Lua code CODE\n"
    "  -l NAME      require module NAME into the global NAME\n"
    "  -i           enter the interactive REPL after running the script\n"
    "  -            run standard input as the script and stop handling options\n"
    "  --           stop handling options\n"
    "  --sandbox    run everything inside a throwaway sandbox: new network, mount and PID\n"
    "               namespaces, loopback up, and a simulated upstream 'internet' namespace\n"
    "               (uplink0 203.0.113.2/24, default route via 203.0.113.1, a host at\n"
    "               198.51.100.1 that answers ping and HTTP on port 80); it all vanishes\n"
    "               at exit\n"
    "  -v, --version  print the version and exit\n"
    "  -h, --help     print this help and exit\n"
    "With no script and no -e, " HOST_NAME
    " starts the REPL when standard input is a terminal and\n"
    "runs standard input as a script otherwise. With no arguments and CNI_COMMAND set in the\n"
    "environment, it is the CNI plugin (the way a container runtime calls it; docs/cni.md).\n"
    "Exit status: 0 on success, 1 when the script fails, 2 on a usage error.\n"
    "A COMMAND word runs that command instead of a script (`" HOST_NAME " COMMAND --help` for\n"
    "its own help; a script of the same name runs as ./NAME). Commands:\n";

/* What the command line asks for (argv is not copied). */
struct options {
  int sandbox, interactive, version, help, has_code;
  int script; /* argv index of the script, 0 when none */
  int stdin_script;
  int command; /* argv index of a COMMAND word (up, down, ...), 0 when none */
  int cni_plugin; /* run as a CNI plugin: no arguments, CNI_COMMAND set */
};

/* The subcommands are the embedded Lua modules cnet.cmd.NAME (bindings/lua/cnet/cmd/). */
#define COMMAND_PREFIX "cnet.cmd."

static int is_command(const char *word) {
  size_t n = strlen(COMMAND_PREFIX);
  for (const struct lcnet_lua_source *s = lcnet_lua_sources; s->module != NULL; s++)
    if (strncmp(s->module, COMMAND_PREFIX, n) == 0 && strcmp(s->module + n, word) == 0) return 1;
  return 0;
}

static void print_usage(FILE *f) {
  fputs(usage_text, f);
  size_t n = strlen(COMMAND_PREFIX);
  for (const struct lcnet_lua_source *s = lcnet_lua_sources; s->module != NULL; s++)
    if (strncmp(s->module, COMMAND_PREFIX, n) == 0 && strchr(s->module + n, '.') == NULL)
      fprintf(f, "  %s\n", s->module + n);
}

/* Checks the options; returns 0, or prints the problem and returns -1 (a usage error). */
static int parse_options(int argc, char **argv, struct options *o) {
  memset(o, 0, sizeof *o);
  if (argc == 1 && getenv("CNI_COMMAND") != NULL) {
    o->cni_plugin = 1; /* a runtime's call: the request is in the environment and on stdin */
    return 0;
  }
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    if (strcmp(a, "--sandbox") == 0) {
      o->sandbox = 1;
    } else if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
      o->help = 1;
    } else if (strcmp(a, "--version") == 0 || strcmp(a, "-v") == 0) {
      o->version = 1;
    } else if (strcmp(a, "-i") == 0) {
      o->interactive = 1;
    } else if (strcmp(a, "-e") == 0 || strcmp(a, "-l") == 0) {
      if (i + 1 >= argc) {
        fprintf(stderr, HOST_NAME ": '%s' needs an argument\n", a);
        return -1;
      }
      o->has_code |= a[1] == 'e';
      i++;
    } else if (strcmp(a, "--") == 0) {
      if (i + 1 < argc) o->script = i + 1;
      return 0;
    } else if (strcmp(a, "-") == 0) {
      o->script = i;
      o->stdin_script = 1;
      return 0;
    } else if (a[0] == '-') {
      fprintf(stderr, HOST_NAME ": unrecognized option '%s'\n", a);
      return -1;
    } else if (!o->has_code && !o->interactive && is_command(a)) {
      o->command = i;
      return 0;
    } else {
      o->script = i;
      return 0;
    }
  }
  return 0;
}

/* ---- running Lua code ---------------------------------------------------------------- */

static lua_State *running_state; /* for the SIGINT handler */
static volatile sig_atomic_t interrupts;
static int in_repl; /* Ctrl-C never ends the process */

void host_repl_mode(int on) { in_repl = on; }

static void stop_hook(lua_State *L, lua_Debug *ar) {
  (void)ar;
  lua_sethook(L, NULL, 0, 0);
  interrupts = 0;
  luaL_error(L, "interrupted!");
}

/* Ctrl-C: stop the Lua code at its next instruction (lua_sethook is safe in a signal
 * handler; a count hook fires on Lua instructions only, so it never fires inside the message
 * handler of an error already on its way) and make the core's waits give up
 * (cnet/intr.h), so a probe, a process wait or a batch's sends end within a fraction of a
 * second with an "interrupted" error. In a script, a second Ctrl-C before that happens
 * gives up at once; the REPL never ends that way (in a sandbox that would end every
 * process in it): Ctrl-\ quits. Leaving the action in place (never SIG_DFL) matters in the
 * sandbox, where the process is PID 1 and ignores signals it has no handler for. */
static void on_sigint(int sig) {
  cnet_interrupt_raise();
  if (interrupts++ > 0 && !in_repl) _exit(128 + sig);
  if (interrupts == 3) {
    static const char hint[] = "\n(still running C code that cannot be interrupted; Ctrl-\\ quits)\n";
    ssize_t n = write(STDERR_FILENO, hint, sizeof hint - 1);
    (void)n;
  }
  lua_sethook(running_state, stop_hook, LUA_MASKCOUNT, 1);
}

/* Turns an error value into "message\ntraceback". A cnet error object (a table with a
 * __tostring and a `where` field) is shown as where .. tostring(err). */
static int msghandler(lua_State *L) {
  const char *msg = lua_tostring(L, 1);
  if (msg == NULL) {
    if (lua_type(L, 1) == LUA_TTABLE && luaL_getmetafield(L, 1, "__tostring") != LUA_TNIL) {
      lua_pop(L, 1);
      lua_getfield(L, 1, "where");
      const char *where = lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : "";
      msg = lua_pushfstring(L, "%s%s", where, luaL_tolstring(L, 1, NULL));
    } else if (luaL_callmeta(L, 1, "__tostring") && lua_type(L, -1) == LUA_TSTRING) {
      msg = lua_tostring(L, -1);
    } else {
      msg = lua_pushfstring(L, "(error object is a %s value)", luaL_typename(L, 1));
    }
  }
  luaL_traceback(L, L, msg, 1);
  return 1;
}

int host_docall(lua_State *L, int narg, int nres) {
  int base = lua_gettop(L) - narg;
  lua_pushcfunction(L, msghandler);
  lua_insert(L, base);
  struct sigaction sa, old;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_sigint;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESTART;
  running_state = L;
  interrupts = 0;
  cnet_interrupt_clear();
  sigaction(SIGINT, &sa, &old);
  int status = lua_pcall(L, narg, nres, base);
  sigaction(SIGINT, &old, NULL);
  lua_sethook(L, NULL, 0, 0);
  interrupts = 0;
  cnet_interrupt_clear();
  lua_remove(L, base);
  return status;
}

int host_report(lua_State *L, int status) {
  if (status != LUA_OK) {
    const char *msg = lua_tostring(L, -1);
    if (msg == NULL) msg = "(error object is not a string)";
    fprintf(stderr, HOST_NAME ": %s\n", msg);
    fflush(stderr);
    lua_pop(L, 1);
  }
  return status;
}

/* Loads and runs a chunk; returns the status (already reported). */
static int run_chunk(lua_State *L, int load_status) {
  if (load_status == LUA_OK) load_status = host_docall(L, 0, 0);
  return host_report(L, load_status);
}

/* require(name) into the global `name`. */
static int run_require(lua_State *L, const char *name) {
  lua_getglobal(L, "require");
  lua_pushstring(L, name);
  int status = host_docall(L, 1, 1);
  if (status == LUA_OK) lua_setglobal(L, name);
  return host_report(L, status);
}

/* The global `arg`, as lua fills it: the script at 0, its arguments at 1.., the interpreter
 * and options at negative indices. Without a script, the interpreter is at 0. */
static void create_arg(lua_State *L, int argc, char **argv, int script) {
  lua_createtable(L, argc - script - 1 > 0 ? argc - script - 1 : 0, script + 1);
  for (int i = 0; i < argc; i++) {
    lua_pushstring(L, argv[i]);
    lua_rawseti(L, -2, i - script);
  }
  lua_setglobal(L, "arg");
}

static int run_script(lua_State *L, int argc, char **argv, const struct options *o) {
  const char *fname = o->stdin_script ? NULL : argv[o->script];
  int status = luaL_loadfile(L, fname);
  if (status != LUA_OK) return host_report(L, status);
  int n = 0;
  for (int i = o->script + 1; i < argc; i++, n++) {
    luaL_checkstack(L, 1, "too many script arguments");
    lua_pushstring(L, argv[i]);
  }
  return host_report(L, host_docall(L, n, 0));
}

/* Runs -e and -l in command-line order. */
static int run_options(lua_State *L, char **argv, int last) {
  for (int i = 1; i < last; i++) {
    int status = LUA_OK;
    if (strcmp(argv[i], "-e") == 0) {
      status = run_chunk(L, luaL_loadbuffer(L, argv[i + 1], strlen(argv[i + 1]),
                                            "=(command line)"));
      i++;
    } else if (strcmp(argv[i], "-l") == 0) {
      status = run_require(L, argv[i + 1]);
      i++;
    }
    if (status != LUA_OK) return status;
  }
  return LUA_OK;
}

/* Lets recipes find the tutorial's web server: CNET_HELLO names cnet-hello when it sits next
 * to this binary or one directory up (build/asan/cnet finds build/cnet-hello). */
static void export_hello_path(void) {
  if (getenv("CNET_HELLO") != NULL) return;
  char exe[PATH_MAX], path[PATH_MAX + 32];
  ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
  if (n <= 0) return;
  exe[n] = '\0';
  char *slash = strrchr(exe, '/');
  if (slash == NULL) return;
  *slash = '\0';
  snprintf(path, sizeof path, "%s/cnet-hello", exe);
  if (access(path, X_OK) != 0) {
    slash = strrchr(exe, '/');
    if (slash == NULL) return;
    *slash = '\0';
    snprintf(path, sizeof path, "%s/cnet-hello", exe);
    if (access(path, X_OK) != 0) return;
  }
  setenv("CNET_HELLO", path, 0);
}

static int finish(lua_State *L, int code) {
  lua_pushinteger(L, code);
  return 1;
}

/* `cnet COMMAND args...`: require("cnet.cmd.COMMAND") gives a function, called with the
 * arguments as strings; it returns the exit status (nil is 0) and prints its own one-line
 * reasons. An error it lets escape is reported like a script's. */
static int run_command(lua_State *L, int argc, char **argv, int at) {
  lua_getglobal(L, "require");
  lua_pushfstring(L, COMMAND_PREFIX "%s", argv[at]);
  if (host_report(L, host_docall(L, 1, 1)) != LUA_OK) return 1;
  for (int i = at + 1; i < argc; i++) {
    luaL_checkstack(L, 1, "too many arguments");
    lua_pushstring(L, argv[i]);
  }
  if (host_report(L, host_docall(L, argc - at - 1, 1)) != LUA_OK) return 1;
  int code = lua_isinteger(L, -1) ? (int)lua_tointeger(L, -1) : lua_toboolean(L, -1) == 0 && !lua_isnil(L, -1);
  lua_pop(L, 1);
  return code;
}

/* The CNI plugin: require("cnet.cni").main() answers the runtime on stdout and returns the
 * exit status. */
static int run_cni_plugin(lua_State *L) {
  lua_getglobal(L, "require");
  lua_pushliteral(L, "cnet.cni");
  if (host_report(L, host_docall(L, 1, 1)) != LUA_OK) return 1;
  lua_getfield(L, -1, "main");
  if (host_report(L, host_docall(L, 0, 1)) != LUA_OK) return 1;
  int code = (int)lua_tointeger(L, -1);
  lua_pop(L, 2);
  const char *command = getenv("CNI_COMMAND");
  /* the commands that delete nftables objects; elsewhere the fork costs more than it saves */
  if (command != NULL && (strcmp(command, "DEL") == 0 || strcmp(command, "GC") == 0))
    host_linger_sockets();
  return code;
}

/* Everything that runs with Lua: called in protected mode, returns the exit status. */
static int pmain(lua_State *L) {
  int argc = (int)lua_tointeger(L, 1);
  char **argv = lua_touserdata(L, 2);
  const struct options *o = lua_touserdata(L, 3);
  luaL_checkversion(L);
  luaL_openlibs(L);
  luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_PRELOAD_TABLE);
  lua_pushcfunction(L, luaopen_cnet);
  lua_setfield(L, -2, "cnet");
  lua_pop(L, 1);
  create_arg(L, argc, argv, o->script ? o->script : o->command);
  lua_gc(L, LUA_GCRESTART);
  lua_gc(L, LUA_GCGEN, 0, 0);

  lua_getglobal(L, "require");
  lua_pushliteral(L, "cnet");
  if (host_report(L, host_docall(L, 1, 1)) != LUA_OK) return finish(L, 1);
  lua_setglobal(L, "cnet");

  if (o->sandbox) {
    if (host_report(L, host_sandbox_build(L)) != LUA_OK) return finish(L, 1);
  }
  if (o->command) return finish(L, run_command(L, argc, argv, o->command));
  if (o->cni_plugin) return finish(L, run_cni_plugin(L));
  int last = o->script ? o->script : argc;
  if (run_options(L, argv, last) != LUA_OK) return finish(L, 1);
  if (o->script && run_script(L, argc, argv, o) != LUA_OK) return finish(L, 1);
  if (o->interactive) {
    host_repl(L);
  } else if (!o->script && !o->has_code) {
    if (isatty(STDIN_FILENO)) {
      host_repl(L);
    } else {
      if (run_chunk(L, luaL_loadfile(L, NULL)) != LUA_OK) return finish(L, 1);
    }
  }
  return finish(L, 0);
}

int main(int argc, char **argv) {
  struct options o;
  if (parse_options(argc, argv, &o) < 0) {
    print_usage(stderr);
    return 2;
  }
  if (o.help) {
    print_usage(stdout);
    return 0;
  }
  if (o.version) {
    printf(HOST_NAME " " CNET_VERSION " (%s)\n", LUA_RELEASE);
    return 0;
  }
  export_hello_path();
  if (o.sandbox) {
    const char *what = "sandbox";
    int rc = host_sandbox_enter(&what);
    if (rc < 0) {
      fprintf(stderr, HOST_NAME ": --sandbox: %s: %s%s\n", what, strerror(-rc),
              rc == -EPERM ? " (the sandbox needs root or user namespaces)" : "");
      return 1;
    }
  }
  lua_State *L = luaL_newstate();
  if (L == NULL) {
    fputs(HOST_NAME ": cannot create the Lua state: not enough memory\n", stderr);
    return 1;
  }
  lua_gc(L, LUA_GCSTOP);
  lua_pushcfunction(L, pmain);
  lua_pushinteger(L, argc);
  lua_pushlightuserdata(L, argv);
  lua_pushlightuserdata(L, &o);
  int status = lua_pcall(L, 3, 1, 0);
  int code = status == LUA_OK ? (int)lua_tointeger(L, -1) : 1;
  if (status != LUA_OK) host_report(L, status);
  lua_close(L);
  return code;
}
