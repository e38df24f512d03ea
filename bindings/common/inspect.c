/* cnet.inspect: renders any Lua value as readable text (tables nested, keys sorted, arrays
 * compact, depth-limited, cycles marked). Used by the REPL to show results, and offered to
 * Lua as cnet.inspect(value [, {depth = n, width = n}]) -> string. */
#include <string.h>

#include "common/inspect.h"
#include "common/lcnet.h"

#define DEFAULT_DEPTH 6
#define DEFAULT_WIDTH 78

struct ictx {
  int seen;  /* stack index of a table: tables on the current path -> true */
  int depth; /* deepest level shown in full */
  int width; /* a table fits on one line when its text is at most this wide */
};

static void render(lua_State *L, int idx, int level, const struct ictx *c);

/* Pushes s as a double-quoted Lua string literal, escaping what would not read back. */
static void push_quoted(lua_State *L, int idx) {
  size_t len;
  const char *s = lua_tolstring(L, idx, &len); /* not user input: a value to print */
  luaL_Buffer b;
  luaL_buffinit(L, &b);
  luaL_addchar(&b, '"');
  for (size_t i = 0; i < len; i++) {
    unsigned char ch = (unsigned char)s[i];
    switch (ch) {
    case '"': luaL_addstring(&b, "\\\""); break;
    case '\\': luaL_addstring(&b, "\\\\"); break;
    case '\n': luaL_addstring(&b, "\\n"); break;
    case '\r': luaL_addstring(&b, "\\r"); break;
    case '\t': luaL_addstring(&b, "\\t"); break;
    default:
      if (ch < 32 || ch == 127) {
        char esc[8];
        /* three digits, so a following digit cannot be read as part of the escape */
        esc[0] = '\\';
        esc[1] = (char)('0' + ch / 100);
        esc[2] = (char)('0' + ch / 10 % 10);
        esc[3] = (char)('0' + ch % 10);
        esc[4] = '\0';
        luaL_addstring(&b, esc);
      } else {
        luaL_addchar(&b, (char)ch);
      }
    }
  }
  luaL_addchar(&b, '"');
  luaL_pushresult(&b);
}

static int is_identifier(const char *s, size_t len) {
  static const char *const reserved[] = {
      "and", "break", "do", "else", "elseif", "end", "false", "for", "function", "goto", "if",
      "in", "local", "nil", "not", "or", "repeat", "return", "then", "true", "until", "while",
      NULL};
  if (len == 0 || !(s[0] == '_' || (s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z')))
    return 0;
  for (size_t i = 1; i < len; i++) {
    char ch = s[i];
    if (!(ch == '_' || (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
          (ch >= '0' && ch <= '9')))
      return 0;
  }
  for (const char *const *r = reserved; *r != NULL; r++)
    if (strcmp(*r, s) == 0) return 0;
  return 1;
}

/* Order of keys: numbers, then strings, then booleans, then anything else. */
static int type_rank(int t) {
  switch (t) {
  case LUA_TNUMBER: return 0;
  case LUA_TSTRING: return 1;
  case LUA_TBOOLEAN: return 2;
  default: return 3;
  }
}

/* table.sort comparator over keys of mixed types. */
static int key_less(lua_State *L) {
  int ta = lua_type(L, 1), tb = lua_type(L, 2);
  if (ta != tb) {
    lua_pushboolean(L, type_rank(ta) < type_rank(tb));
  } else if (ta == LUA_TNUMBER || ta == LUA_TSTRING) {
    lua_pushboolean(L, lua_compare(L, 1, 2, LUA_OPLT));
  } else if (ta == LUA_TBOOLEAN) {
    lua_pushboolean(L, !lua_toboolean(L, 1) && lua_toboolean(L, 2)); /* not user input */
  } else {
    const char *a = lua_pushfstring(L, "%p", lua_topointer(L, 1));
    const char *b = lua_pushfstring(L, "%p", lua_topointer(L, 2));
    lua_pushboolean(L, strcmp(a, b) < 0);
  }
  return 1;
}

/* Pushes the text of a key: `name`, `[1]`, `["a b"]`. */
static void push_key(lua_State *L, int idx) {
  idx = lua_absindex(L, idx);
  if (lua_type(L, idx) == LUA_TSTRING) {
    size_t len;
    const char *s = lua_tolstring(L, idx, &len); /* not user input: a key to print */
    if (is_identifier(s, len)) {
      lua_pushvalue(L, idx);
      return;
    }
    push_quoted(L, idx);
  } else if (lua_type(L, idx) == LUA_TNUMBER || lua_type(L, idx) == LUA_TBOOLEAN) {
    luaL_tolstring(L, idx, NULL);
  } else {
    lua_pushfstring(L, "<%s>", luaL_tolstring(L, idx, NULL));
    lua_remove(L, -2);
  }
  lua_pushfstring(L, "[%s]", lua_tostring(L, -1)); /* not user input: our own text */
  lua_remove(L, -2);
}

static void push_indent(lua_State *L, int level) {
  luaL_Buffer b;
  luaL_buffinit(L, &b);
  for (int i = 0; i < level; i++) luaL_addstring(&b, "  ");
  luaL_pushresult(&b);
}

/* Appends the string at the top of the stack to the array at out (popping it). */
static void append(lua_State *L, int out) {
  lua_rawseti(L, out, (lua_Integer)lua_rawlen(L, out) + 1);
}

/* Replaces the array at idx by the concatenation of its strings. */
static void concat_into(lua_State *L, int idx) {
  lua_Integer n = (lua_Integer)lua_rawlen(L, idx);
  luaL_Buffer b;
  luaL_buffinit(L, &b);
  for (lua_Integer i = 1; i <= n; i++) {
    lua_rawgeti(L, idx, i);
    luaL_addvalue(&b);
  }
  luaL_pushresult(&b);
  lua_replace(L, idx);
}

static size_t piece_len(lua_State *L, int parts, lua_Integer i, int *newline) {
  size_t len;
  lua_rawgeti(L, parts, i);
  const char *s = lua_tolstring(L, -1, &len); /* not user input: our own text */
  *newline = memchr(s, '\n', len) != NULL;
  lua_pop(L, 1);
  return len;
}

/* Pushes the pieces in the array at parts (n of them) joined into one table text, on one
 * line when it fits, else one piece per line (runs of short array items share a line). */
static void join_table(lua_State *L, int parts, lua_Integer n, lua_Integer narray, int level,
                       const struct ictx *c) {
  if (n == 0) {
    lua_pushliteral(L, "{}");
    return;
  }
  size_t total = 4;
  int multiline = 0;
  for (lua_Integer i = 1; i <= n; i++) {
    int nl;
    total += piece_len(L, parts, i, &nl) + 2;
    multiline |= nl;
  }
  lua_newtable(L);
  int out = lua_gettop(L);
  if (!multiline && total + (size_t)level * 2 <= (size_t)c->width) {
    lua_pushliteral(L, "{ ");
    append(L, out);
    for (lua_Integer i = 1; i <= n; i++) {
      if (i > 1) {
        lua_pushliteral(L, ", ");
        append(L, out);
      }
      lua_rawgeti(L, parts, i);
      append(L, out);
    }
    lua_pushliteral(L, " }");
    append(L, out);
    concat_into(L, out);
    return;
  }
  size_t inner_len = (size_t)(level + 1) * 2;
  lua_pushliteral(L, "{\n");
  append(L, out);
  size_t col = 0; /* width used on the current line, 0 at the start of a line */
  for (lua_Integer i = 1; i <= n; i++) {
    int nl;
    size_t len = piece_len(L, parts, i, &nl);
    int packable = i <= narray && !nl;
    if (packable && col > 0 && col + len + 2 <= (size_t)c->width) {
      lua_pushliteral(L, " ");
      append(L, out);
      col += len + 2;
    } else {
      if (col > 0) {
        lua_pushliteral(L, "\n");
        append(L, out);
      }
      push_indent(L, level + 1);
      append(L, out);
      col = packable ? inner_len + len + 1 : 0;
    }
    lua_rawgeti(L, parts, i);
    append(L, out);
    lua_pushstring(L, packable ? "," : ",\n");
    append(L, out);
  }
  if (col > 0) {
    lua_pushliteral(L, "\n");
    append(L, out);
  }
  push_indent(L, level);
  append(L, out);
  lua_pushliteral(L, "}");
  append(L, out);
  concat_into(L, out);
}

static void render_table(lua_State *L, int t, int level, const struct ictx *c) {
  if (luaL_getmetafield(L, t, "__tostring") != LUA_TNIL) {
    lua_pop(L, 1);
    luaL_tolstring(L, t, NULL);
    return;
  }
  lua_pushvalue(L, t);
  if (lua_rawget(L, c->seen) != LUA_TNIL) {
    lua_pop(L, 1);
    lua_pushliteral(L, "<cycle>");
    return;
  }
  lua_pop(L, 1);
  if (level >= c->depth) {
    lua_pushliteral(L, "{...}");
    return;
  }
  luaL_checkstack(L, 12, "table nested too deeply");
  lcnet_api_fill(L, t); /* a handle's ns.link binds its functions on first use */
  lua_pushvalue(L, t);
  lua_pushboolean(L, 1);
  lua_rawset(L, c->seen);
  int top = lua_gettop(L);
  lua_newtable(L); /* parts */
  int parts = top + 1;
  lua_Integer n = 0;
  lua_Integer narray = 0;
  while (lua_rawgeti(L, t, narray + 1) != LUA_TNIL) {
    render(L, -1, level + 1, c);
    lua_rawseti(L, parts, ++n);
    lua_pop(L, 1);
    narray++;
  }
  lua_pop(L, 1);
  lua_newtable(L); /* the other keys, to sort */
  int keys = top + 2;
  lua_Integer nkeys = 0;
  lua_pushnil(L);
  while (lua_next(L, t) != 0) {
    lua_pop(L, 1);
    if (lua_isinteger(L, -1)) {
      lua_Integer k = lua_tointeger(L, -1); /* not user input: a key being printed */
      if (k >= 1 && k <= narray) continue;
    }
    lua_pushvalue(L, -1);
    lua_rawseti(L, keys, ++nkeys);
  }
  if (nkeys > 1) {
    lua_getglobal(L, "table");
    if (lua_istable(L, -1) && lua_getfield(L, -1, "sort") == LUA_TFUNCTION) {
      lua_pushvalue(L, keys);
      lua_pushcfunction(L, key_less);
      lua_call(L, 2, 0);
    }
    lua_settop(L, keys);
  }
  for (lua_Integer i = 1; i <= nkeys; i++) {
    lua_rawgeti(L, keys, i);
    int k = lua_gettop(L);
    push_key(L, k);
    lua_pushvalue(L, k);
    lua_rawget(L, t);
    render(L, -1, level + 1, c);
    lua_remove(L, -2);
    lua_pushfstring(L, "%s = %s", lua_tostring(L, -2), /* not user input: our own text */
                    lua_tostring(L, -1));                 /* not user input: our own text */
    lua_rawseti(L, parts, ++n);
    lua_settop(L, keys);
  }
  join_table(L, parts, n, narray, level, c);
  lua_replace(L, top + 1);
  lua_settop(L, top + 1);
  lua_pushvalue(L, t);
  lua_pushnil(L);
  lua_rawset(L, c->seen);
}

/* Pushes the text of the value at idx. */
static void render(lua_State *L, int idx, int level, const struct ictx *c) {
  idx = lua_absindex(L, idx);
  switch (lua_type(L, idx)) {
  case LUA_TSTRING: push_quoted(L, idx); break;
  case LUA_TTABLE: render_table(L, idx, level, c); break;
  default: luaL_tolstring(L, idx, NULL); break;
  }
}

void lcnet_inspect_push(lua_State *L, int idx, int depth, int width) {
  idx = lua_absindex(L, idx);
  struct ictx c = {0, depth > 0 ? depth : DEFAULT_DEPTH, width > 0 ? width : DEFAULT_WIDTH};
  lua_newtable(L);
  c.seen = lua_gettop(L);
  render(L, idx, 0, &c);
  lua_remove(L, c.seen);
}

/* cnet.inspect(value [, {depth = n, width = n}]) -> string */
int lcnet_inspect(lua_State *L) {
  static const char *const known[] = {"depth", "width", NULL};
  luaL_checkany(L, 1);
  lcnet_check_options(L, 2, known);
  int depth = 0, width = 0;
  if (lua_istable(L, 2)) {
    lcnet_fields f = lcnet_fields_of(L, 2);
    depth = (int)lcnet_field_int(&f, "depth", 1, 100, DEFAULT_DEPTH);
    width = (int)lcnet_field_int(&f, "width", 10, 1000000, DEFAULT_WIDTH);
  }
  lua_settop(L, 1);
  lcnet_inspect_push(L, 1, depth, width);
  return 1;
}

void lcnet_open_inspect(lua_State *L) {
  lua_pushcfunction(L, lcnet_inspect);
  lua_setfield(L, -2, "inspect");
}
