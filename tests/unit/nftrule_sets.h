/* How the in-memory decoders of the nftrule tests find the sets a compiled rule refers to:
 * the sets the compile made (cnet_nftrule_out), without a kernel to name them. */
#ifndef NFTRULE_SETS_H
#define NFTRULE_SETS_H

#include <string.h>
#include <libnftnl/set.h>
#include "cnet/nftrule.h"

struct ctx { struct cnet_nftrule_out *out; unsigned next; };

/* A meter's set has its own name; anonymous sets are all called "__set%d" before the kernel
 * names them: hand those out in the order the rule refers to them, which is the order they
 * were made, skipping the meters' sets. Other named sets are not found (they print as
 * @name unseen). */
static const struct nftnl_set *find_set(void *ud, const char *name) {
  struct ctx *c = ud;
  int anon = strncmp(name, "__", 2) == 0;
  for (unsigned i = 0; !anon && c->out && i < c->out->nsets; i++)
    if (strcmp(nftnl_set_get_str(c->out->sets[i], NFTNL_SET_NAME), name) == 0)
      return c->out->sets[i];
  while (anon && c->out && c->next < c->out->nsets) {
    const struct nftnl_set *s = c->out->sets[c->next++];
    if (strncmp(nftnl_set_get_str(s, NFTNL_SET_NAME), "__", 2) == 0) return s;
  }
  return NULL;
}

#endif
