/* The argument layer: see args.h. The only binding file that reads Lua values with the raw
 * luaL_check* / lua_to* calls. */
#include <math.h>
#include <stdarg.h>
#include <string.h>

#include "common/args.h"

/* ---- quoting ---- */

const char *lcnet_quote(lua_State *L, const char *s, size_t len) {
  size_t shown = len > LCNET_QUOTE_MAX ? LCNET_QUOTE_MAX : len;
  luaL_Buffer b;
  luaL_buffinit(L, &b);
  luaL_addchar(&b, '\'');
  for (size_t i = 0; i < shown; i++) {
    unsigned char ch = (unsigned char)s[i];
    if (ch == '\'' || ch == '\\') {
      luaL_addchar(&b, '\\');
      luaL_addchar(&b, (char)ch);
    } else if (ch == '\0') {
      luaL_addstring(&b, "\\0");
    } else if (ch == '\n') {
      luaL_addstring(&b, "\\n");
    } else if (ch < 32 || ch == 127) {
      char esc[5] = {'\\', (char)('0' + ch / 100), (char)('0' + ch / 10 % 10),
                     (char)('0' + ch % 10), '\0'};
      luaL_addstring(&b, esc);
    } else {
      luaL_addchar(&b, (char)ch);
    }
  }
  luaL_addchar(&b, '\'');
  luaL_pushresult(&b);
  if (shown < len) {
    lua_pushfstring(L, "%s... (%I bytes)", lua_tostring(L, -1), (lua_Integer)len);
    lua_remove(L, -2);
  }
  return lua_tostring(L, -1);
}

const char *lcnet_quote_value(lua_State *L, int idx) {
  switch (lua_type(L, idx)) {
  case LUA_TSTRING: {
    size_t len;
    const char *s = lua_tolstring(L, idx, &len);
    return lcnet_quote(L, s, len);
  }
  case LUA_TNUMBER: return luaL_tolstring(L, idx, NULL);
  default: return lua_pushstring(L, luaL_typename(L, idx));
  }
}

const char *lcnet_clip(lua_State *L, const char *s) {
  size_t len = strlen(s);
  if (len <= LCNET_QUOTE_MAX) return lua_pushstring(L, s);
  lua_pushlstring(L, s, LCNET_QUOTE_MAX);
  lua_pushfstring(L, "%s... (%I bytes)", lua_tostring(L, -1), (lua_Integer)len);
  lua_remove(L, -2);
  return lua_tostring(L, -1);
}

static int argerror_v(lua_State *L, int arg, const char *what, const char *fmt, va_list ap) {
  const char *msg = lua_pushvfstring(L, fmt, ap);
  if (what != NULL) msg = lua_pushfstring(L, "%s: %s", what, msg);
  return luaL_argerror(L, arg, msg);
}

int lcnet_argerror(lua_State *L, int arg, const char *what, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  argerror_v(L, arg, what, fmt, ap);
  va_end(ap); /* not reached */
  return 0;
}

/* ---- values at a stack index; errors blame `arg` ---- */

/* What a value is called in messages, made only when there is an error: a fixed text, or
 * "field 'path.key'" of an options table. */
struct who {
  const char *what;
  const lcnet_fields *f;
  const char *key;
};

static const char *who_name(lua_State *L, const struct who *w) {
  if (w->f == NULL) return w->what;
  return w->f->path ? lua_pushfstring(L, "field '%s.%s'", w->f->path, w->key)
                    : lua_pushfstring(L, "field '%s'", w->key);
}

static int fail(lua_State *L, int arg, const struct who *w, const char *fmt, ...) {
  const char *what = who_name(L, w);
  va_list ap;
  va_start(ap, fmt);
  argerror_v(L, arg, what, fmt, ap);
  va_end(ap);
  return 0;
}

/* Type error: "WHAT: T expected, got U". */
static int type_error(lua_State *L, int idx, int arg, const struct who *w, const char *expected) {
  idx = lua_absindex(L, idx);
  return fail(L, arg, w, "%s expected, got %s", expected, luaL_typename(L, idx));
}

static const char *text_checks(lua_State *L, int arg, const char *s, size_t n, size_t max,
                               const struct who *w, int nul_ok) {
  if (n > max)
    fail(L, arg, w, "too long (%I bytes, at most %I)", (lua_Integer)n, (lua_Integer)max);
  if (!nul_ok && memchr(s, '\0', n) != NULL)
    fail(L, arg, w, "%s contains a NUL byte", lcnet_quote(L, s, n));
  return s;
}

static const char *to_text(lua_State *L, int idx, int arg, size_t max, const struct who *w,
                           size_t *len, int nul_ok) {
  if (lua_type(L, idx) != LUA_TSTRING) type_error(L, idx, arg, w, "string");
  size_t n;
  const char *s = lua_tolstring(L, idx, &n);
  if (len != NULL) *len = n;
  return text_checks(L, arg, s, n, max, w, nul_ok);
}

/* A string, or a number turned into its text in the stack slot idx. */
static const char *to_textnum(lua_State *L, int idx, int arg, size_t max, const struct who *w) {
  int t = lua_type(L, idx);
  if (t == LUA_TNUMBER) {
    if (!lua_isinteger(L, idx) && !isfinite(lua_tonumber(L, idx)))
      fail(L, arg, w, "%s is not a usable number", luaL_tolstring(L, idx, NULL));
  } else if (t != LUA_TSTRING) {
    type_error(L, idx, arg, w, "string");
  }
  size_t n;
  const char *s = lua_tolstring(L, idx, &n);
  return text_checks(L, arg, s, n, max, w, 0);
}

static lua_Integer to_int(lua_State *L, int idx, int arg, lua_Integer lo, lua_Integer hi,
                          const struct who *w) {
  if (lua_type(L, idx) != LUA_TNUMBER) type_error(L, idx, arg, w, "integer");
  int isint;
  lua_Integer v = lua_tointegerx(L, idx, &isint);
  if (!isint) {
    lua_Number x = lua_tonumber(L, idx);
    /* a whole number beyond the 64-bit range is out of range, not "not an integer" */
    if (isfinite(x) && x == floor(x))
      fail(L, arg, w, "%s out of range [%I, %I]", luaL_tolstring(L, idx, NULL), lo, hi);
    fail(L, arg, w, "integer expected, got %s", luaL_tolstring(L, idx, NULL));
  }
  if (v < lo || v > hi) fail(L, arg, w, "%I out of range [%I, %I]", v, lo, hi);
  return v;
}

/* A bound as people write it: 3600, not 3600.0. */
static const char *num_text(lua_State *L, lua_Number v) {
  if (v == floor(v) && fabs(v) < 1e15) return lua_pushfstring(L, "%I", (lua_Integer)v);
  return lua_pushfstring(L, "%f", v);
}

static lua_Number to_number(lua_State *L, int idx, int arg, lua_Number lo, lua_Number hi,
                            const struct who *w) {
  if (lua_type(L, idx) != LUA_TNUMBER) type_error(L, idx, arg, w, "number");
  lua_Number v = lua_tonumber(L, idx);
  if (!(v >= lo && v <= hi)) /* NaN fails both */
    fail(L, arg, w, "%s out of range [%s, %s]", luaL_tolstring(L, idx, NULL), num_text(L, lo),
         num_text(L, hi));
  return v;
}

static int to_enum(lua_State *L, int idx, int arg, const char *const names[],
                   const struct who *w, const char *noun) {
  if (lua_type(L, idx) != LUA_TSTRING) type_error(L, idx, arg, w, "string");
  size_t n;
  const char *s = lua_tolstring(L, idx, &n);
  if (strlen(s) == n)
    for (int i = 0; names[i] != NULL; i++)
      if (strcmp(names[i], s) == 0) return i;
  if (w->f != NULL) return fail(L, arg, w, "unknown value %s", lcnet_quote(L, s, n));
  return lcnet_argerror(L, arg, NULL, "unknown %s %s", noun ? noun : "value",
                        lcnet_quote(L, s, n));
}

const char *lcnet_to_text(lua_State *L, int idx, int arg, size_t max, const char *what,
                          size_t *len) {
  struct who w = {what, NULL, NULL};
  return to_text(L, idx, arg, max, &w, len, 0);
}

lua_Integer lcnet_to_int(lua_State *L, int idx, int arg, lua_Integer lo, lua_Integer hi,
                         const char *what) {
  struct who w = {what, NULL, NULL};
  return to_int(L, idx, arg, lo, hi, &w);
}

lua_Number lcnet_to_number(lua_State *L, int idx, int arg, lua_Number lo, lua_Number hi,
                           const char *what) {
  struct who w = {what, NULL, NULL};
  return to_number(L, idx, arg, lo, hi, &w);
}

const char *lcnet_to_textnum(lua_State *L, int idx, int arg, size_t max, const char *what) {
  struct who w = {what, NULL, NULL};
  return to_textnum(L, idx, arg, max, &w);
}

const char *lcnet_try_text(lua_State *L, int idx, size_t max) {
  if (lua_type(L, idx) != LUA_TSTRING) return NULL;
  size_t n;
  const char *s = lua_tolstring(L, idx, &n);
  return n <= max && strlen(s) == n ? s : NULL;
}

/* ---- positional arguments ---- */

const char *lcnet_check_text(lua_State *L, int arg, size_t max, const char *what, size_t *len) {
  return lcnet_to_text(L, arg, arg, max, what, len);
}

const char *lcnet_opt_text(lua_State *L, int arg, size_t max, const char *what,
                           const char *dflt) {
  if (lua_isnoneornil(L, arg)) return dflt;
  return lcnet_to_text(L, arg, arg, max, what, NULL);
}

const char *lcnet_check_textnum(lua_State *L, int arg, size_t max, const char *what) {
  return lcnet_to_textnum(L, arg, arg, max, what);
}

const char *lcnet_check_bytes(lua_State *L, int arg, size_t max, const char *what,
                              size_t *len) {
  struct who w = {what, NULL, NULL};
  return to_text(L, arg, arg, max, &w, len, 1);
}

lua_Integer lcnet_check_int(lua_State *L, int arg, lua_Integer lo, lua_Integer hi,
                            const char *what) {
  return lcnet_to_int(L, arg, arg, lo, hi, what);
}

lua_Integer lcnet_opt_int(lua_State *L, int arg, lua_Integer lo, lua_Integer hi,
                          lua_Integer dflt, const char *what) {
  if (lua_isnoneornil(L, arg)) return dflt;
  return lcnet_to_int(L, arg, arg, lo, hi, what);
}

lua_Number lcnet_check_number(lua_State *L, int arg, lua_Number lo, lua_Number hi,
                              const char *what) {
  return lcnet_to_number(L, arg, arg, lo, hi, what);
}

int lcnet_check_bool(lua_State *L, int arg, const char *what) {
  struct who w = {what, NULL, NULL};
  if (lua_type(L, arg) != LUA_TBOOLEAN) type_error(L, arg, arg, &w, "boolean");
  return lua_toboolean(L, arg);
}

int lcnet_check_enum(lua_State *L, int arg, const char *dflt, const char *const names[],
                     const char *what) {
  if (dflt != NULL && lua_isnoneornil(L, arg)) {
    for (int i = 0; names[i] != NULL; i++)
      if (strcmp(names[i], dflt) == 0) return i;
  }
  struct who w = {NULL, NULL, NULL};
  return to_enum(L, arg, arg, names, &w, what);
}

/* ---- fields ---- */

lcnet_fields lcnet_fields_of(lua_State *L, int idx) {
  idx = lua_absindex(L, idx);
  lcnet_fields f = {L, idx, idx, NULL};
  return f;
}

lcnet_fields lcnet_fields_in(const lcnet_fields *parent, int idx, const char *key) {
  lua_State *L = parent->L;
  idx = lua_absindex(L, idx);
  /* a nested path string stays on the stack while the caller reads the nested table */
  lcnet_fields f = {L, idx, parent->arg,
                    parent->path ? lua_pushfstring(L, "%s.%s", parent->path, key) : key};
  return f;
}

int lcnet_field_fail(const lcnet_fields *f, const char *key, const char *fmt, ...) {
  struct who w = {NULL, f, key};
  const char *what = who_name(f->L, &w);
  va_list ap;
  va_start(ap, fmt);
  argerror_v(f->L, f->arg, what, fmt, ap);
  va_end(ap);
  return 0;
}

/* Pushes field key and returns its type; a nil field is popped (nothing left). */
static int get_field(const lcnet_fields *f, const char *key) {
  int t = lua_getfield(f->L, f->idx, key);
  if (t == LUA_TNIL) lua_pop(f->L, 1);
  return t;
}

const char *lcnet_field_text(const lcnet_fields *f, const char *key, size_t max,
                             const char *dflt, size_t *len) {
  if (get_field(f, key) == LUA_TNIL) {
    if (len != NULL) *len = dflt ? strlen(dflt) : 0;
    return dflt;
  }
  struct who w = {NULL, f, key};
  /* a string read from a table stays alive while the table holds it */
  const char *s = to_text(f->L, -1, f->arg, max, &w, len, 0);
  lua_pop(f->L, 1);
  return s;
}

const char *lcnet_field_textnum(const lcnet_fields *f, const char *key, size_t max,
                                const char *dflt) {
  int t = get_field(f, key);
  if (t == LUA_TNIL) return dflt;
  struct who w = {NULL, f, key};
  const char *s = to_textnum(f->L, lua_gettop(f->L), f->arg, max, &w);
  if (t == LUA_TSTRING) lua_pop(f->L, 1); /* a number's new text stays on the stack */
  return s;
}

const char *lcnet_field_bytes(const lcnet_fields *f, const char *key, size_t max,
                              size_t *len) {
  if (get_field(f, key) == LUA_TNIL) {
    *len = 0;
    return NULL;
  }
  struct who w = {NULL, f, key};
  const char *s = to_text(f->L, -1, f->arg, max, &w, len, 1);
  lua_pop(f->L, 1);
  return s;
}

lua_Integer lcnet_field_int(const lcnet_fields *f, const char *key, lua_Integer lo,
                            lua_Integer hi, lua_Integer dflt) {
  if (get_field(f, key) == LUA_TNIL) return dflt;
  struct who w = {NULL, f, key};
  lua_Integer v = to_int(f->L, -1, f->arg, lo, hi, &w);
  lua_pop(f->L, 1);
  return v;
}

lua_Number lcnet_field_number(const lcnet_fields *f, const char *key, lua_Number lo,
                              lua_Number hi, lua_Number dflt) {
  if (get_field(f, key) == LUA_TNIL) return dflt;
  struct who w = {NULL, f, key};
  lua_Number v = to_number(f->L, -1, f->arg, lo, hi, &w);
  lua_pop(f->L, 1);
  return v;
}

int lcnet_field_bool(const lcnet_fields *f, const char *key, int dflt) {
  int t = get_field(f, key);
  if (t == LUA_TNIL) return dflt;
  struct who w = {NULL, f, key};
  if (t != LUA_TBOOLEAN) type_error(f->L, -1, f->arg, &w, "boolean");
  int v = lua_toboolean(f->L, -1);
  lua_pop(f->L, 1);
  return v;
}

int lcnet_field_enum(const lcnet_fields *f, const char *key, const char *dflt,
                     const char *const names[]) {
  if (get_field(f, key) == LUA_TNIL) {
    if (dflt != NULL)
      for (int i = 0; names[i] != NULL; i++)
        if (strcmp(names[i], dflt) == 0) return i;
    return -1;
  }
  struct who w = {NULL, f, key};
  int v = to_enum(f->L, -1, f->arg, names, &w, NULL);
  lua_pop(f->L, 1);
  return v;
}

void lcnet_field_check_keys(const lcnet_fields *f, const char *const known[]) {
  lua_State *L = f->L;
  lua_pushnil(L);
  while (lua_next(L, f->idx) != 0) {
    lua_pop(L, 1);
    int ok = 0;
    size_t n = 0;
    const char *k = NULL;
    if (lua_type(L, -1) == LUA_TSTRING) {
      k = lua_tolstring(L, -1, &n);
      if (strlen(k) == n)
        for (const char *const *p = known; *p != NULL && !ok; p++) ok = strcmp(*p, k) == 0;
    }
    if (!ok) {
      const char *shown = k ? lcnet_quote(L, k, n)
                            : lua_pushfstring(L, "(a %s key)", luaL_typename(L, -1));
      if (f->path) lcnet_argerror(L, f->arg, NULL, "field '%s': unknown option %s", f->path, shown);
      lcnet_argerror(L, f->arg, NULL, "unknown option %s", shown);
    }
  }
}

/* ---- the first helpers, on the same checks ---- */

int lcnet_field_error(lua_State *L, int idx, const char *key, const char *expected) {
  lua_getfield(L, idx, key);
  return lcnet_argerror(L, idx, NULL, "field '%s': %s expected, got %s", key, expected,
                        luaL_typename(L, -1));
}

const char *lcnet_opt_string(lua_State *L, int idx, const char *key, const char *dflt) {
  lcnet_fields f = lcnet_fields_of(L, idx);
  return lcnet_field_text(&f, key, LCNET_TEXT_MAX, dflt, NULL);
}

lua_Integer lcnet_opt_integer(lua_State *L, int idx, const char *key, lua_Integer dflt) {
  lcnet_fields f = lcnet_fields_of(L, idx);
  return lcnet_field_int(&f, key, LUA_MININTEGER, LUA_MAXINTEGER, dflt);
}

int lcnet_opt_bool(lua_State *L, int idx, const char *key, int dflt) {
  lcnet_fields f = lcnet_fields_of(L, idx);
  return lcnet_field_bool(&f, key, dflt);
}

void lcnet_check_options(lua_State *L, int idx, const char *const known[]) {
  if (lua_isnoneornil(L, idx)) return;
  idx = lua_absindex(L, idx);
  struct who w = {NULL, NULL, NULL};
  if (lua_type(L, idx) != LUA_TTABLE) type_error(L, idx, idx, &w, "table");
  lcnet_fields f = lcnet_fields_of(L, idx);
  lcnet_field_check_keys(&f, known);
}
