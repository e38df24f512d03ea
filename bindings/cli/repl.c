/* The interactive REPL of the host binary: GNU readline line editing with history saved to
 * ~/.cnet_history, tab completion that walks tables and namespace handles, expressions printed
 * (tables through cnet.inspect), multi-line input for incomplete statements, errors reported
 * without leaving. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/select.h>
#include <unistd.h>

#include <readline/history.h>
#include <readline/readline.h>

#include "cli/host.h"
#include "common/inspect.h"
#include "common/lcnet.h"

#define HISTORY_MAX 1000
#define CHUNKNAME "=stdin"
#define PROMPT1 "cnet> "
#define PROMPT1_SANDBOX "cnet[sandbox]> "
#define PROMPT2 "...> "

static lua_State *repl_state; /* for the completion callbacks */

/* ---- reading a line: readline's callback interface, so Ctrl-C can drop the line ---------- */

static volatile sig_atomic_t prompt_interrupted;
static char *line_read;
static int line_done;

static void on_prompt_sigint(int sig) {
  (void)sig;
  prompt_interrupted = 1;
}

static void on_line(char *line) {
  line_read = line;
  line_done = 1;
  rl_callback_handler_remove();
}

enum read_result { READ_LINE, READ_EOF, READ_INTERRUPTED };

/* Prints what background processes wrote above the prompt, then draws the prompt and the
 * line being typed again below it. */
static void print_relayed(void) {
  size_t len;
  char *text = host_relay_take(&len);
  if (text == NULL) return;
  rl_clear_visible_line();
  fwrite(text, 1, len, rl_outstream);
  if (text[len - 1] != '\n') fputc('\n', rl_outstream);
  fflush(rl_outstream);
  free(text);
  rl_on_new_line();
  rl_redisplay();
}

/* Reads one line with prompt; *out is malloc'ed (free it) when READ_LINE. */
static enum read_result read_line(const char *prompt, char **out) {
  /* SIGINT waits, blocked, for pselect, which takes it only while it waits: a Ctrl-C that
   * came between a look at the flag and a plain select (the prompt just drawn, a key
   * being handled) was left unseen until the next key. */
  sigset_t intr, unblocked;
  sigemptyset(&intr);
  sigaddset(&intr, SIGINT);
  sigprocmask(SIG_BLOCK, &intr, &unblocked);
  struct sigaction sa, old;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_prompt_sigint; /* no SA_RESTART: pselect must return EINTR */
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, &old);
  prompt_interrupted = 0;
  line_done = 0;
  line_read = NULL;
  enum read_result res = READ_LINE;
  rl_callback_handler_install(prompt, on_line);
  host_relay_prompt(1);
  print_relayed(); /* what arrived between the last prompt and this one */
  while (!line_done) {
    int fd = fileno(rl_instream), relay = host_relay_notify_fd();
    fd_set fds;
    FD_ZERO(&fds);
    FD_SET(fd, &fds);
    if (relay >= 0) FD_SET(relay, &fds);
    int r = pselect((fd > relay ? fd : relay) + 1, &fds, NULL, NULL, NULL, &unblocked);
    if (prompt_interrupted) {
      /* Drop the line: show ^C after it, as a shell does, and start a fresh prompt. The
       * ^C goes out before the handler is removed: leaving the terminal mode ends with a
       * carriage return (bracketed paste off) that would put it over the prompt. */
      rl_point = rl_end;
      rl_redisplay();
      fputs("^C\n", rl_outstream);
      fflush(rl_outstream);
      rl_free_line_state();
      rl_callback_sigcleanup();
      rl_replace_line("", 0);
      rl_callback_handler_remove();
      res = READ_INTERRUPTED;
      break;
    }
    if (r < 0) {
      if (errno == EINTR) continue;
      rl_callback_handler_remove();
      res = READ_EOF;
      break;
    }
    if (relay >= 0 && FD_ISSET(relay, &fds)) print_relayed();
    if (FD_ISSET(fd, &fds)) rl_callback_read_char();
  }
  host_relay_prompt(0);
  sigprocmask(SIG_SETMASK, &unblocked, NULL); /* one that came meanwhile is taken here */
  sigaction(SIGINT, &old, NULL);
  if (res == READ_LINE && line_read == NULL) res = READ_EOF;
  *out = line_read;
  return res;
}

/* ---- history ------------------------------------------------------------------------ */

static char history_path[4096];

static void history_add_entry(const char *entry);

static void history_open(void) {
  const char *path = getenv("CNET_HISTORY");
  const char *home = getenv("HOME");
  if (path != NULL && *path) {
    snprintf(history_path, sizeof history_path, "%s", path);
  } else if (home != NULL && *home) {
    snprintf(history_path, sizeof history_path, "%s/.cnet_history", home);
  } else {
    history_path[0] = '\0';
    return;
  }
  using_history();
  stifle_history(HISTORY_MAX);
  read_history(history_path);
}

/* Adds an entry (skipping blanks and repeats) and appends it to the file at once, so the
 * history survives however the session ends. A multi-line statement is kept as one line
 * (the history file has one entry per line) unless a comment makes line ends matter. */
static void history_add(const char *text) {
  if (text[strspn(text, " \t\n")] == '\0') return;
  char *entry = strdup(text);
  if (entry == NULL) return;
  if (strstr(entry, "--") == NULL)
    for (char *p = entry; *p; p++)
      if (*p == '\n') *p = ' ';
  history_add_entry(entry);
  free(entry);
}

static void history_add_entry(const char *entry) {
  HIST_ENTRY *last = history_length > 0 ? history_get(history_base + history_length - 1) : NULL;
  if (last != NULL && strcmp(last->line, entry) == 0) return;
  add_history(entry);
  if (history_path[0] == '\0') return;
  /* append_history needs the file to exist. Only its owner may read it: it holds whatever
   * was typed, addresses and secrets included. */
  int fd = open(history_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (fd >= 0) close(fd);
  append_history(1, history_path);
}

static void history_close(void) {
  if (history_path[0] != '\0') history_truncate_file(history_path, HISTORY_MAX);
}

/* ---- completion --------------------------------------------------------------------- */

static const char *const keywords[] = {
    "and", "break", "do", "else", "elseif", "end", "false", "for", "function", "goto", "if",
    "in", "local", "nil", "not", "or", "repeat", "return", "then", "true", "until", "while",
    NULL};

static int is_name(const char *s) {
  if (!(*s == '_' || (*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z'))) return 0;
  for (s++; *s; s++)
    if (!(*s == '_' || (*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
          (*s >= '0' && *s <= '9')))
      return 0;
  return 1;
}

/* Adds to the set at `out` the string keys of the table at t starting with `partial`
 * (functions only when `methods`), each prefixed by `prefix`. */
static void add_keys(lua_State *L, int t, int out, const char *prefix, const char *partial,
                     int methods) {
  size_t plen = strlen(partial);
  t = lua_absindex(L, t);
  lua_pushnil(L);
  while (lua_next(L, t) != 0) {
    if (lua_type(L, -2) == LUA_TSTRING && (!methods || lua_type(L, -1) == LUA_TFUNCTION)) {
      const char *k = lua_tostring(L, -2);
      if (strncmp(k, partial, plen) == 0 && is_name(k)) {
        lua_pushfstring(L, "%s%s", prefix, k);
        lua_pushboolean(L, 1);
        lua_rawset(L, out);
      }
    }
    lua_pop(L, 1);
  }
}

/* Adds the fields reachable from the value at v: its own keys when a table, a namespace
 * handle's API table (user value 1) when a userdata, then the __index tables of its
 * metatables, a few levels deep. */
static void add_fields(lua_State *L, int v, int out, const char *prefix, const char *partial,
                       int methods) {
  v = lua_absindex(L, v);
  lua_pushvalue(L, v);
  for (int level = 0; level < 4; level++) {
    int cur = lua_gettop(L);
    if (lua_istable(L, cur)) {
      lcnet_api_fill(L, cur); /* a handle's ns.link binds its functions on first use */
      add_keys(L, cur, out, prefix, partial, methods);
    }
    if (lua_type(L, cur) == LUA_TUSERDATA) {
      if (luaL_testudata(L, cur, LCNET_NETNS) != NULL) lcnet_netns_api(L, cur); /* all of it */
      else lua_getiuservalue(L, cur, 1);
      if (lua_istable(L, -1))
        add_keys(L, -1, out, prefix, partial, methods);
      lua_pop(L, 1);
    }
    if (!lua_getmetatable(L, cur)) break;
    lua_getfield(L, -1, "__index");
    lua_remove(L, -2);
    if (!lua_istable(L, -1) && lua_type(L, -1) != LUA_TUSERDATA) break;
  }
}

/* Protected: (text) -> table whose keys are the completions of text. */
static int collect(lua_State *L) {
  const char *text = luaL_checkstring(L, 1);
  lua_newtable(L);
  int out = lua_gettop(L);
  const char *sep = strpbrk(text, ".:");
  const char *last = NULL;
  for (const char *p = text; *p; p++)
    if (*p == '.' || *p == ':') last = p;
  if (sep == NULL) { /* a global or a keyword */
    lua_pushglobaltable(L);
    add_fields(L, -1, out, "", text, 0);
    size_t len = strlen(text);
    for (const char *const *k = keywords; *k != NULL; k++) {
      if (strncmp(*k, text, len) == 0) {
        lua_pushstring(L, *k);
        lua_pushboolean(L, 1);
        lua_rawset(L, out);
      }
    }
    lua_settop(L, out);
    return 1;
  }
  /* Walk the path before the last separator: a.b.c */
  lua_pushglobaltable(L);
  const char *p = text;
  while (p < last) {
    const char *q = p + strcspn(p, ".:");
    if (q > last) q = last;
    lua_pushlstring(L, p, (size_t)(q - p));
    if (!is_name(lua_tostring(L, -1))) return 1;
    if (!lua_istable(L, -2) && lua_type(L, -2) != LUA_TUSERDATA) return 1;
    lua_gettable(L, -2); /* may run __index: a failure just means no completion */
    lua_remove(L, -2);
    if (*q == ':' && q != last) return 1;
    p = q + 1;
  }
  lua_pushlstring(L, text, (size_t)(last - text + 1));
  add_fields(L, -2, out, lua_tostring(L, -1), last + 1, *last == ':');
  lua_settop(L, out);
  return 1;
}

static char **candidates;
static size_t ncandidates, next_candidate;

static void free_candidates(void) {
  for (size_t i = next_candidate; i < ncandidates; i++) free(candidates[i]);
  free(candidates);
  candidates = NULL;
  ncandidates = next_candidate = 0;
}

static char *generator(const char *text, int state) {
  if (state == 0) {
    free_candidates();
    lua_State *L = repl_state;
    int top = lua_gettop(L);
    lua_pushcfunction(L, collect);
    lua_pushstring(L, text);
    if (lua_pcall(L, 1, 1, 0) == LUA_OK && lua_istable(L, -1)) {
      size_t n = 0;
      lua_pushnil(L);
      while (lua_next(L, -2) != 0) {
        lua_pop(L, 1);
        n++;
      }
      candidates = calloc(n ? n : 1, sizeof *candidates);
      lua_pushnil(L);
      while (candidates != NULL && lua_next(L, -2) != 0) {
        lua_pop(L, 1);
        char *s = strdup(lua_tostring(L, -1));
        if (s != NULL) candidates[ncandidates++] = s;
      }
    }
    lua_settop(L, top);
  }
  if (next_candidate < ncandidates) return candidates[next_candidate++]; /* readline frees */
  return NULL;
}

static char **complete(const char *text, int start, int end) {
  (void)start;
  (void)end;
  rl_attempted_completion_over = 1; /* never fall back to file names */
  rl_completion_append_character = '\0';
  return rl_completion_matches(text, generator);
}

/* ---- evaluating --------------------------------------------------------------------- */

/* In a sandbox (cnet --sandbox, or anything started inside one) the prompt says so: what is
 * typed there changes a throwaway network, not the machine's. */
static int sandboxed(void) {
  const char *s = getenv("CNET_SANDBOX");
  return s != NULL && strcmp(s, "1") == 0;
}

static const char *prompt(lua_State *L, int first) {
  const char *p = NULL;
  if (lua_getglobal(L, first ? "_PROMPT" : "_PROMPT2") == LUA_TSTRING) p = lua_tostring(L, -1);
  lua_pop(L, 1); /* the string stays alive in the global */
  if (p != NULL) return p;
  if (first) return sandboxed() ? PROMPT1_SANDBOX : PROMPT1;
  return PROMPT2;
}

static int incomplete(lua_State *L, int status) {
  if (status != LUA_ERRSYNTAX) return 0;
  size_t len;
  const char *msg = lua_tolstring(L, -1, &len);
  static const char eof[] = "<eof>";
  return len >= sizeof eof - 1 && strcmp(msg + len - (sizeof eof - 1), eof) == 0;
}

/* Reads a whole statement and compiles it: pushes the function, or the error message.
 * Returns the load status, or -1 at end of input, or -2 when Ctrl-C dropped the input. */
static int read_statement(lua_State *L) {
  char *line;
  enum read_result r = read_line(prompt(L, 1), &line);
  if (r == READ_EOF) return -1;
  if (r == READ_INTERRUPTED) return -2;
  const char *code = line[0] == '=' ? line + 1 : line; /* `=expr` as in Lua 5.1-5.3 */
  /* An expression first, so that typing one prints its value. */
  lua_pushfstring(L, "return %s;", code);
  int status = luaL_loadbuffer(L, lua_tostring(L, -1), lua_rawlen(L, -1), CHUNKNAME);
  lua_remove(L, -2);
  if (status == LUA_OK) {
    history_add(line);
    free(line);
    return status;
  }
  lua_pop(L, 1);
  lua_pushstring(L, line);
  free(line);
  for (;;) {
    size_t len;
    const char *buf = lua_tolstring(L, -1, &len);
    status = luaL_loadbuffer(L, buf, len, CHUNKNAME);
    if (!incomplete(L, status)) break;
    lua_pop(L, 1); /* the error message */
    r = read_line(prompt(L, 0), &line);
    if (r == READ_INTERRUPTED) {
      lua_pop(L, 1);
      return -2;
    }
    if (r == READ_EOF) {
      status = luaL_loadbuffer(L, buf, len, CHUNKNAME); /* report what is missing */
      break;
    }
    lua_pushfstring(L, "\n%s", line);
    free(line);
    lua_concat(L, 2);
  }
  history_add(lua_tostring(L, -2));
  lua_remove(L, -2);
  return status;
}

/* Prints the values above base, tab-separated; tables (without __tostring) readably. */
static void print_results(lua_State *L, int base) {
  int n = lua_gettop(L) - base;
  if (n == 0) return;
  luaL_checkstack(L, 4, "too many results to print");
  for (int i = 1; i <= n; i++) {
    int idx = base + i;
    if (lua_type(L, idx) == LUA_TTABLE && luaL_getmetafield(L, idx, "__tostring") == LUA_TNIL) {
      lcnet_inspect_push(L, idx, 0, 0);
    } else {
      if (lua_type(L, idx) == LUA_TTABLE) lua_pop(L, 1); /* the __tostring field */
      luaL_tolstring(L, idx, NULL);
    }
    fputs(lua_tostring(L, -1), stdout);
    fputs(i < n ? "\t" : "\n", stdout);
    lua_pop(L, 1);
  }
  fflush(stdout);
}

/* Drops the traceback from the error message at the top of the stack when it shows nothing
 * but the typed line and C functions: for `error("x")` at the prompt it is noise. */
static void trim_traceback(lua_State *L) {
  const char *msg = lua_tostring(L, -1);
  if (msg == NULL) return;
  const char *tb = strstr(msg, "\nstack traceback:\n");
  if (tb == NULL) return;
  for (const char *line = strchr(tb + 1, '\n'); line != NULL; line = strchr(line + 1, '\n')) {
    if (strncmp(line, "\n\t[C]:", 6) != 0 && strncmp(line, "\n\tstdin:", 8) != 0) return;
  }
  lua_pushlstring(L, msg, (size_t)(tb - msg));
  lua_replace(L, -2);
}

/* Protected: prints the results, so a failing __tostring is reported like any error. */
static int print_protected(lua_State *L) {
  print_results(L, 0);
  return 0;
}

void host_repl(lua_State *L) {
  repl_state = L;
  rl_readline_name = HOST_NAME;
  rl_attempted_completion_function = complete;
  rl_basic_word_break_characters = " \t\n\"\\'`@$><=;|&{(,+-*/%^~#[]";
  rl_catch_signals = 0; /* read_line handles Ctrl-C itself */
  history_open();
  host_repl_mode(1);
  if (isatty(STDIN_FILENO)) {
    printf(HOST_NAME " %s (%s): the cnet module is loaded as `cnet`; Ctrl-D leaves\n",
           CNET_VERSION, LUA_RELEASE);
    if (sandboxed())
      printf("In a sandbox: new namespaces with a simulated internet (198.51.100.1); "
             "everything vanishes when you leave.\n");
    fflush(stdout);
  }
  /* On a terminal, what processes spawned from here write is relayed above the prompt. */
  if (isatty(STDIN_FILENO) && isatty(STDOUT_FILENO)) {
    int fd = host_relay_start();
    if (fd >= 0) {
      lua_pushinteger(L, fd);
      lua_setfield(L, LUA_REGISTRYINDEX, LCNET_SPAWN_OUTPUT);
    }
  }
  for (;;) {
    int base = lua_gettop(L);
    int status = read_statement(L);
    if (status == -1) break;
    if (status == -2) continue;
    if (status == LUA_OK) status = host_docall(L, 0, LUA_MULTRET);
    if (status == LUA_OK) {
      int n = lua_gettop(L) - base;
      if (n > 0) {
        lua_pushcfunction(L, print_protected);
        lua_insert(L, base + 1);
        status = host_docall(L, n, 0);
      }
    }
    if (status != LUA_OK) {
      trim_traceback(L);
      host_report(L, status);
    }
    lua_settop(L, base);
  }
  lua_pushnil(L);
  lua_setfield(L, LUA_REGISTRYINDEX, LCNET_SPAWN_OUTPUT);
  host_repl_mode(0);
  history_close();
  free_candidates();
  if (isatty(STDIN_FILENO)) fputs("\n", stdout);
  fflush(stdout);
}
