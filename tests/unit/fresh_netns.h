/* For the C tests that change the kernel's state (*_sandbox_test.c): whether this network
 * namespace is a fresh one (lo only), as tests/sandbox.sh makes it. They refuse to run
 * anywhere else. */
#ifndef CNET_TEST_FRESH_NETNS_H
#define CNET_TEST_FRESH_NETNS_H

#include <string.h>
#include <net/if.h>

static int in_fresh_netns(void) {
  struct if_nameindex *ifs = if_nameindex();
  int ok = ifs != NULL;
  for (struct if_nameindex *i = ifs; ok && i->if_index; i++)
    if (strcmp(i->if_name, "lo") != 0) ok = 0;
  if (ifs) if_freenameindex(ifs);
  return ok;
}

#endif
