/* Shared by the files of the host binary `cnet` (main.c, repl.c, sandbox.c), never by the
 * module: these need readline and process-wide state (signals, namespaces). */
#ifndef CNET_HOST_H
#define CNET_HOST_H

#include <lua.h>

#define HOST_NAME "cnet"
#ifndef CNET_VERSION
#define CNET_VERSION "0.0.0"
#endif

/* main.c: calls the function below narg arguments on the stack with a traceback-adding
 * message handler and Ctrl-C turned into a Lua error (and an interrupt of the core's waits,
 * cnet/intr.h); returns the lua_pcall status. */
int host_docall(lua_State *L, int narg, int nres);
/* main.c: on while the REPL runs: repeated Ctrl-C never ends the process. */
void host_repl_mode(int on);
/* main.c: prints the error message at the top of the stack (when status != LUA_OK) as
 * "cnet: message" on stderr and pops it; returns status. */
int host_report(lua_State *L, int status);

/* repl.c: reads, evaluates and prints until end of input; history in ~/.cnet_history. */
void host_repl(lua_State *L);

/* relay.c: the output of processes spawned from the REPL goes through a pipe that a thread
 * reads: printed at once while a statement runs, held while the prompt is shown, so that the
 * REPL prints it above the prompt and draws the line being typed again.
 * start: makes the pipe and the thread; returns the descriptor spawned processes write to,
 * or -errno. notify_fd: readable when held text waits (-1 before start). prompt(on): the
 * prompt is shown (hold) or not (write; what was held is written at once). take: moves
 * the held text into a malloc'd string (*len bytes), NULL when none. */
int host_relay_start(void);
int host_relay_notify_fd(void);
void host_relay_prompt(int on);
char *host_relay_take(size_t *len);

/* sandbox.c: moves the process into a throwaway sandbox (new PID, network and mount
 * namespaces, private /proc and /run/netns). Returns 0 in the sandboxed child, which is PID 1
 * of its namespace; the parent never returns: it waits for the child and exits with its
 * status. On failure returns -errno and *what names the step that failed. */
int host_sandbox_enter(const char **what);
/* sandbox.c: builds the sandbox's network with the cnet API (loopback, the `internet`
 * namespace, uplink, default route, hello server); returns a lua_pcall status. */
int host_sandbox_build(lua_State *L);

/* linger.c: called by the CNI plugin once its answer is written, just before it exits (DEL
 * and GC): forks a detached process that holds copies of this process's sockets until it
 * has exited, so that the kernel's waits at the last close of a socket (an RCU barrier after
 * nftables deletions) are not the runtime's. Changes nothing the kernel shows; best effort
 * (nothing happens when fork fails). */
void host_linger_sockets(void);

#endif
