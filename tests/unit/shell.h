/* The output of a shell command (its first 1 MiB), for the kernel's view through nft or ip in
 * the sandbox tests. */
#ifndef CNET_TEST_SHELL_H
#define CNET_TEST_SHELL_H

#include <stdio.h>

static inline const char *sh(const char *cmd) {
  static char out[1 << 20];
  out[0] = '\0';
  FILE *p = popen(cmd, "r");
  if (p == NULL) return out;
  size_t n = fread(out, 1, sizeof out - 1, p);
  out[n] = '\0';
  pclose(p);
  return out;
}

#endif
