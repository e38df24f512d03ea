/* The rule lexer: words, "strings", braces, parentheses, commas and the bitwise signs
 * | & ^. Everything else (numbers, addresses, ranges, prefixes, "10/second") is a word that
 * the parser reads against the type it must have. "#" starts a comment, as in nft. */
#include "nftrule/nr_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* Bit 1: a space; any bit: a character that ends a word. A table, since every byte of every
 * rule goes through it. */
static const unsigned char cls[256] = {
  [' '] = 3, ['\t'] = 3, ['\n'] = 3, ['\r'] = 3,
  ['{'] = 2, ['}'] = 2, [','] = 2, ['"'] = 2, ['|'] = 2, ['('] = 2, [')'] = 2, ['&'] = 2,
  ['^'] = 2, ['#'] = 2};
static int is_space(char c) { return cls[(unsigned char)c] & 1; }
static int is_special(char c) { return cls[(unsigned char)c] != 0; }

int nr_lex(const char *text, struct tok **out) {
  size_t n = strlen(text), cap = 32, cnt = 0, i = 0;
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
    if (i >= n || text[i] == '#') { k->kind = TK_END; k->len = 0; break; }
    char c = text[i];
    switch (c) {
    case '{': k->kind = TK_LBRACE; break;
    case '}': k->kind = TK_RBRACE; break;
    case ',': k->kind = TK_COMMA; break;
    case '(': k->kind = TK_LPAREN; break;
    case ')': k->kind = TK_RPAREN; break;
    case '|': k->kind = TK_PIPE; break;
    case '&': k->kind = TK_AMP; break;
    case '^': k->kind = TK_CARET; break;
    case '"': {
      size_t j = i + 1;
      while (j < n && text[j] != '"') j++;
      if (j >= n) {  /* unterminated: the rest of the text */
        k->kind = TK_BAD;
        k->len = (unsigned)(n - i);
      } else {
        k->kind = TK_STRING;
        k->len = (unsigned)(j + 1 - i);
      }
      break;
    }
    default: {
      size_t j = i;
      while (j < n && !is_special(text[j])) j++;
      k->kind = TK_WORD;
      k->len = (unsigned)(j - i);
    }
    }
    i += k->len;
  }
  *out = t;
  return (int)cnt;
}
