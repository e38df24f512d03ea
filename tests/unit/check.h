/* The one check of the C unit tests: counts and prints a failed condition, and goes on so
 * that one run shows every failure. main returns `failures != 0`. */
#ifndef CNET_TEST_CHECK_H
#define CNET_TEST_CHECK_H

#include <stdio.h>

static int failures;

#define CHECK(cond, ...)                                                      \
  do {                                                                        \
    if (!(cond)) {                                                            \
      failures++;                                                             \
      fprintf(stderr, "%s:%d: check failed: %s: ", __FILE__, __LINE__, #cond); \
      fprintf(stderr, __VA_ARGS__);                                           \
      fputc('\n', stderr);                                                    \
    }                                                                         \
  } while (0)

#endif
