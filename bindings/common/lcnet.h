/* Shared declarations of the Lua bindings: the only headers that mix lua.h and the core. */
#ifndef LCNET_H
#define LCNET_H

#include <lua.h>
#include <lauxlib.h>

#include "cnet/netns.h"
#include "common/args.h"

#define LCNET_NETNS "cnet.netns"
#define LCNET_ERROR "cnet.error"
#define LCNET_API "cnet.api" /* metatable marking the API tables of a handle */
/* Registry field a host may set to a file descriptor (an integer): the stdout and stderr of
 * processes spawned without a stdout/stderr option (the REPL's pipe to print them above its
 * prompt). Unset: they inherit the caller's. */
#define LCNET_SPAWN_OUTPUT "cnet.spawn.output"

/* The userdata behind a namespace handle; ns == NULL once closed. Its user value 1 is the
 * table of API functions bound to it (what `ns.link`, `ns.ping`, ... return), filled part
 * by part on first use (netns.c); `bound` says which parts are in it. */
typedef struct {
  struct cnet_netns *ns;
  unsigned bound;
} lnetns;

/* The namespace the running API closure is bound to (upvalue 1); raises if it was closed.
 * First drops a leading argument that is that very handle or one of its API tables, which
 * is what a method call passes (ns:ping(...), ns.link:list()): the handle is already bound,
 * so both call forms work. Call it before reading the arguments. */
struct cnet_netns *lcnet_ns(lua_State *L);
/* That drop alone, for bound functions that need no namespace (wait). */
void lcnet_self_arg(lua_State *L);
/* Gives the table at the top of the stack the metatable that marks a handle's API table,
 * which lcnet_self_arg recognises by its __name LCNET_API (the module table, and the parts
 * ns.link, ns.addr, ... that lcnet_bind_named makes, have metatables of their own with
 * that name). */
void lcnet_mark_api(lua_State *L);

/* How errors name a namespace: its name, else its path, else "(cnet's own namespace)" or
 * "(unnamed namespace)". */
const char *lcnet_ns_label(struct cnet_netns *ns);

/* Accepts a namespace handle or a namespace name at idx; pushes the handle (opening the
 * name if needed, so the garbage collector owns it) and returns its namespace. Raises a
 * `netns.open NAME: ...` error object when the name does not open. */
struct cnet_netns *lcnet_tons(lua_State *L, int idx);

/* Raises the error object of a failed operation (never returns). rc is a negative errno;
 * object and errmsg (the kernel's extended ACK text) may be NULL or "". */
int lcnet_raise(lua_State *L, int rc, const char *op, const char *object, const char *errmsg);

/* lcnet_raise as a Lua function (err, op, object, extack), to build an error object under
 * lua_pcall and keep it as a value. */
int lcnet_raise_thunk(lua_State *L);

/* batch.c: cnet.batch. The hook runs in lcnet_ns: when a batch is active it attaches the
 * namespace's routing socket to it and tags what the running call queues. */
void lcnet_batch_init(lua_State *L);
void lcnet_push_batch(lua_State *L);
void lcnet_batch_hook(lua_State *L, struct cnet_netns *ns);
void lcnet_note_op(lua_State *L, lua_CFunction f, const char *noun, const char *verb);
/* What lcnet_batch_note records of the running call: the text naming its object in errors,
 * or a function (err, extack) -> err, extack that rewrites the call's failure when the
 * kernel's answer arrives after the call returned. */
enum lcnet_note { LCNET_NOTE_OBJECT, LCNET_NOTE_EXPLAIN };
/* Inside a batch: pops the value on top into the running call's record as `what`.
 * Outside a batch: just pops. */
void lcnet_batch_note(lua_State *L, enum lcnet_note what);
/* The string on top of the stack (left there) names the running call's object in errors:
 * noted as the batch's object (LCNET_NOTE_OBJECT) and returned. */
const char *lcnet_batch_object(lua_State *L);

/* For a row callback that the core calls while it holds memory or descriptors (a listing):
 * runs fn under lua_pcall with the value on top of the stack (the result list) at 1 and ud
 * (a light userdata) at 2, so that an error (out of memory) cannot unwind through the core.
 * Returns 0, or -ECANCELED with the error moved below the list: the callback returns that
 * to the core, which stops and frees what it holds; then lcnet_rows_done raises it. */
int lcnet_row(lua_State *L, lua_CFunction fn, void *ud);
/* After the core's listing returned rc with the list on top: raises a row's error
 * (-ECANCELED), else returns rc. */
int lcnet_rows_done(lua_State *L, int rc);

/* Sets each function of fns into the table at the top of the stack, as a closure whose
 * upvalue 1 is the value at stack index ns (a namespace handle). */
void lcnet_bind(lua_State *L, const luaL_Reg *fns, int ns);
/* Same, into a new table stored as field `name` of the table at the top of the stack; a
 * lazy API table: each function is bound on first use, all of them before a walk with
 * pairs (util.c). */
void lcnet_bind_sub(lua_State *L, const char *name, const luaL_Reg *fns, int ns);
/* The same, with the operation names ("noun.verb", used in batch failures) under `noun`
 * rather than `name`: a table nested deeper ("qdisc" as "tc.qdisc"). */
void lcnet_bind_named(lua_State *L, const char *name, const char *noun, const luaL_Reg *fns,
                      int ns);
/* Binds every function of the lazy API table at idx, and of the lazy tables in it, for a
 * walk with lua_next (next() and pairs() see them all); any other value is left alone. */
void lcnet_api_fill(lua_State *L, int idx);


/* Each noun adds its functions, bound to the handle at stack index ns, to the API table at
 * the top of the stack. One per file: link.c, addr.c, route.c, neigh.c, fdb.c, vlan.c,
 * rule.c, sysctl.c, probe.c, proc.c, nft.c. */
void lcnet_open_link(lua_State *L, int ns);
void lcnet_open_addr(lua_State *L, int ns);
void lcnet_open_route(lua_State *L, int ns);
void lcnet_open_neigh(lua_State *L, int ns);
void lcnet_open_fdb(lua_State *L, int ns);
void lcnet_open_vlan(lua_State *L, int ns);
void lcnet_open_rule(lua_State *L, int ns);
void lcnet_open_sysctl(lua_State *L, int ns);
void lcnet_open_probe(lua_State *L, int ns);
void lcnet_open_proc(lua_State *L, int ns);
void lcnet_open_nft(lua_State *L, int ns);
void lcnet_open_tc(lua_State *L, int ns);

/* Rows of the listings, one at a time, for the events of monitor.c (each pushes a table):
 * a link (link.c; master_index, no master name), an address and a route (addr.c, route.c;
 * without dev), a qdisc or class (tc.c; without dev), an nft table/chain/rule/set
 * (nft.c; kind 0..3 with the matching cnet_nft_*_info). */
struct cnet_link;
struct cnet_addr;
struct cnet_route;
struct cnet_tc_info;
struct cnet_neigh;
void lcnet_push_link(lua_State *L, const struct cnet_link *l);
void lcnet_push_addr(lua_State *L, const struct cnet_addr *a);
void lcnet_push_route(lua_State *L, const struct cnet_route *r);
void lcnet_push_tc(lua_State *L, const struct cnet_tc_info *info);
void lcnet_push_nft_row(lua_State *L, int kind, const void *info);
/* A neighbour or FDB entry as neigh.list / fdb.list give it (neigh.c), its devices (dev,
 * master, via) named by name(L, ctx, index), which pushes the name. */
typedef void (*lcnet_name_fn)(lua_State *L, void *ctx, int index);
void lcnet_push_neigh(lua_State *L, const struct cnet_neigh *e, lcnet_name_fn name, void *ctx);
/* monitor.c: cnet.monitor, bound to the handle at ns, and the cnet.monitor metatable. */
void lcnet_open_monitor(lua_State *L, int ns);

/* lock.c: sets `lock` (cnet.lock, a file lock between processes) in the table at the top of
 * the stack. */
void lcnet_open_lock(lua_State *L);
/* clock.c: cnet.now and cnet.sleep, into the module table at the top of the stack. */
void lcnet_open_clock(lua_State *L);

/* netns.c: pushes a new handle, closed, with its API table: the caller then acquires the
 * namespace into h->ns (closed by __gc/__close/close()). Everything is allocated before the
 * namespace exists, so an out-of-memory error cannot lose it. */
lnetns *lcnet_new_netns(lua_State *L);
/* Pushes the API table of the namespace handle at idx with every part bound (a part's
 * functions still come on first use, or all of them before a walk: lcnet_api_fill). */
void lcnet_netns_api(lua_State *L, int idx);
/* netns.c: metatables and the `cnet.netns` submodule table (pushed). */
void lcnet_netns_init(lua_State *L);
/* error.c: the error object's metatable. */
void lcnet_error_init(lua_State *L);

#endif
