/* The argument layer: every value a binding takes from Lua goes through these checkers, so
 * that a new function cannot skip one. They refuse, with "bad argument #n to 'f' (...)":
 *   - strings with an embedded NUL byte (C would silently see only the part before it) and
 *     strings longer than the limit given (LCNET_TEXT_MAX unless said otherwise);
 *   - integers outside the range asked for, floats with a fraction, NaN and infinities
 *     (a value is never wrapped into its C type);
 *   - values of the wrong type (a number is not a name, a string is not a number).
 * Messages quote at most LCNET_QUOTE_MAX bytes of what the user gave, and say how long the
 * rest was. tests/spec/args_source_spec.lua fails when a binding outside this file reads an
 * argument with luaL_check* / lua_to* directly; tests/spec/args_table_spec.lua drives every
 * public function with bad values. See docs/design.md "Argument checks". */
#ifndef LCNET_ARGS_H
#define LCNET_ARGS_H

#include <stddef.h>
#include <lua.h>
#include <lauxlib.h>

enum {
  LCNET_TEXT_MAX = 4096, /* default limit of a text argument or field */
  LCNET_QUOTE_MAX = 200  /* bytes of user text a message quotes */
};

/* ---- quoting ---- */

/* Pushes s (len bytes) as it should appear in a message: double-quoted, control bytes
 * escaped (\0, \n, \ddd), cut after LCNET_QUOTE_MAX bytes with the rest's length said:
 * "aaaa..." (1048576 bytes). Returns the pushed string. */
const char *lcnet_quote(lua_State *L, const char *s, size_t len);
/* The same for the value at idx: strings quoted, other values as their type name, or the
 * number's text. */
const char *lcnet_quote_value(lua_State *L, int idx);
/* Pushes s itself when it is short, else its first LCNET_QUOTE_MAX bytes plus
 * "... (N bytes)": for text already inside a message (an error object's object). */
const char *lcnet_clip(lua_State *L, const char *s);

/* Raises "bad argument #arg to 'f' (WHAT: MSG)" (just MSG when what is NULL), where MSG is a
 * lua_pushfstring format. Never returns. */
int lcnet_argerror(lua_State *L, int arg, const char *what, const char *fmt, ...);

/* ---- positional arguments ---- */

/* A text argument: a Lua string (numbers are refused), no NUL byte, at most max bytes.
 * what names it in messages ("namespace name"); len may be NULL. */
const char *lcnet_check_text(lua_State *L, int arg, size_t max, const char *what, size_t *len);
/* The same, nil or none giving dflt. */
const char *lcnet_opt_text(lua_State *L, int arg, size_t max, const char *what,
                           const char *dflt);
/* A string or a number (converted to its text in place): for values that are text to the
 * kernel, where 80 and "80" mean the same (nft elements, sysctl values, argv). */
const char *lcnet_check_textnum(lua_State *L, int arg, size_t max, const char *what);
/* Any string, NUL bytes allowed, at most max bytes (data to send, a process's stdin). */
const char *lcnet_check_bytes(lua_State *L, int arg, size_t max, const char *what,
                              size_t *len);

/* An integer in [lo, hi]: a Lua number with an integer value (3.0 is 3; 3.5, NaN, inf,
 * strings are refused). */
lua_Integer lcnet_check_int(lua_State *L, int arg, lua_Integer lo, lua_Integer hi,
                            const char *what);
lua_Integer lcnet_opt_int(lua_State *L, int arg, lua_Integer lo, lua_Integer hi,
                          lua_Integer dflt, const char *what);
/* A finite number in [lo, hi] (seconds and other real quantities). */
lua_Number lcnet_check_number(lua_State *L, int arg, lua_Number lo, lua_Number hi,
                              const char *what);
/* A boolean (not merely a truthy value). */
int lcnet_check_bool(lua_State *L, int arg, const char *what);

/* One of the NULL-terminated names (no NUL, quoted when unknown); returns its position.
 * dflt (may be NULL) when nil or none. */
int lcnet_check_enum(lua_State *L, int arg, const char *dflt, const char *const names[],
                     const char *what);

/* The value at any stack index idx, read as one of the above, for values that are not
 * arguments themselves (table elements): errors blame argument arg and call the value
 * `what`. */
const char *lcnet_to_text(lua_State *L, int idx, int arg, size_t max, const char *what,
                          size_t *len);
const char *lcnet_to_textnum(lua_State *L, int idx, int arg, size_t max, const char *what);
lua_Integer lcnet_to_int(lua_State *L, int idx, int arg, lua_Integer lo, lua_Integer hi,
                         const char *what);
lua_Number lcnet_to_number(lua_State *L, int idx, int arg, lua_Number lo, lua_Number hi,
                           const char *what);

/* Without raising: the string at idx when it is a Lua string with no NUL byte and at most max
 * bytes, else NULL. For a caller that reports a bad value its own way (an error object that
 * quotes it with lcnet_quote_value). */
const char *lcnet_try_text(lua_State *L, int idx, size_t max);

/* ---- fields of an options table ---- */

/* Where a table's fields come from: its stack index, the argument it is (or is inside) for
 * messages, and the path of a nested table ("peer" for link.add's peer = {...}: its field
 * errors read "field 'peer.name': ..."). */
typedef struct {
  lua_State *L;
  int idx, arg;
  const char *path; /* NULL at the top level */
} lcnet_fields;

/* Fields of the table argument at idx (which is also its argument number). */
lcnet_fields lcnet_fields_of(lua_State *L, int idx);
/* Fields of a nested table at stack index idx, inside `parent`, reached by key. */
lcnet_fields lcnet_fields_in(const lcnet_fields *parent, int idx, const char *key);

/* Each returns the field's value, or dflt when the field is nil, and pushes nothing (but
 * field_textnum leaves a number's text on the stack, which keeps it alive). */
const char *lcnet_field_text(const lcnet_fields *f, const char *key, size_t max,
                             const char *dflt, size_t *len);
const char *lcnet_field_textnum(const lcnet_fields *f, const char *key, size_t max,
                                const char *dflt);
const char *lcnet_field_bytes(const lcnet_fields *f, const char *key, size_t max,
                              size_t *len);
lua_Integer lcnet_field_int(const lcnet_fields *f, const char *key, lua_Integer lo,
                            lua_Integer hi, lua_Integer dflt);
lua_Number lcnet_field_number(const lcnet_fields *f, const char *key, lua_Number lo,
                              lua_Number hi, lua_Number dflt);
int lcnet_field_bool(const lcnet_fields *f, const char *key, int dflt);
int lcnet_field_enum(const lcnet_fields *f, const char *key, const char *dflt,
                     const char *const names[]);
/* Raises "bad argument #arg to 'f' (field 'path.key': MSG)". Never returns. */
int lcnet_field_fail(const lcnet_fields *f, const char *key, const char *fmt, ...);
/* Refuses any key of the table not in the NULL-terminated list known. */
void lcnet_field_check_keys(const lcnet_fields *f, const char *const known[]);

/* The helpers of the first bindings, kept for the code that uses them: the same checks on a
 * table argument at idx (NUL refused, at most LCNET_TEXT_MAX bytes; integers whole and
 * within lua_Integer, the caller checks the range; strict booleans, -1 allowed as dflt). */
const char *lcnet_opt_string(lua_State *L, int idx, const char *key, const char *dflt);
lua_Integer lcnet_opt_integer(lua_State *L, int idx, const char *key, lua_Integer dflt);
int lcnet_opt_bool(lua_State *L, int idx, const char *key, int dflt);
/* Raises a type error about field `key` of the argument at idx. */
int lcnet_field_error(lua_State *L, int idx, const char *key, const char *expected);
/* Options tables: raises "unknown option 'x'" for any key not in `known`; nothing when idx
 * is none or nil; a type error when it is not a table. */
void lcnet_check_options(lua_State *L, int idx, const char *const known[]);

#endif
