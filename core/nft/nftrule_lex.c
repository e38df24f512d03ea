/* The rule lexer: words, "strings", braces, commas, "!=" and "|". */
#define _GNU_SOURCE
#include "nft/nftrule_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static int is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }
static int is_special(char c) {
  return c == '{' || c == '}' || c == ',' || c == '"' || c == '|' || is_space(c);
}

int nftrule_lex(const char *text, struct tok **out) {
  size_t n = strlen(text), cap = 16, cnt = 0, i = 0;
  struct tok *t = malloc(cap * sizeof *t);
  if (t == NULL) return -ENOMEM;
  for (;;) {
    while (i < n && is_space(text[i])) i++;
    if (cnt + 1 >= cap) {
      struct tok *nt = realloc(t, 2 * cap * sizeof *t);
      if (nt == NULL) { free(t); return -ENOMEM; }
      t = nt;
      cap *= 2;
    }
    struct tok *k = &t[cnt++];
    k->pos = (unsigned)i;
    k->len = 1;
    if (i >= n) { k->kind = TK_END; k->len = 0; break; }
    char c = text[i];
    if (c == '{') k->kind = TK_LBRACE;
    else if (c == '}') k->kind = TK_RBRACE;
    else if (c == ',') k->kind = TK_COMMA;
    else if (c == '|') k->kind = TK_PIPE;
    else if (c == '!' && i + 1 < n && text[i + 1] == '=') { k->kind = TK_NEQ; k->len = 2; }
    else if (c == '"') {
      size_t j = i + 1;
      while (j < n && text[j] != '"') j++;
      if (j >= n) {  /* unterminated: the rest of the text */
        k->kind = TK_BAD;
        k->len = (unsigned)(n - i);
      } else {
        k->kind = TK_STRING;
        k->len = (unsigned)(j + 1 - i);
      }
    } else {
      size_t j = i;
      while (j < n && !is_special(text[j])) j++;
      k->kind = TK_WORD;
      k->len = (unsigned)(j - i);
    }
    i += k->len;
  }
  *out = t;
  return (int)cnt;
}
