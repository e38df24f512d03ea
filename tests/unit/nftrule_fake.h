/* The pretend environment the nftrule unit tests compile against: interfaces lo (1) and
 * eth0 (2), named sets s4 (ipv4_addr), s6 (ipv6_addr), sm (mark), sp (inet_service). */
#ifndef NFTRULE_FAKE_H
#define NFTRULE_FAKE_H

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <libnftnl/set.h>
#include "cnet/nftrule.h"

struct ctx { struct cnet_nftrule_out *out; unsigned next; };

/* Anonymous sets are all called "__set%d" before the kernel names them: hand them out in the
 * order the rule refers to them, which is the order they were made. */
static const struct nftnl_set *find_set(void *ud, const char *name) {
  struct ctx *c = ud;
  for (unsigned i = 0; c->out && i < c->out->nsets; i++)  /* a meter's set, made with the rule */
    if (strcmp(nftnl_set_get_str(c->out->sets[i], NFTNL_SET_NAME), name) == 0 &&
        strncmp(name, "__", 2) != 0)
      return c->out->sets[i];
  if (strncmp(name, "__", 2) != 0) return NULL;  /* named sets print as @name unseen */
  return c->next < c->out->nsets ? c->out->sets[c->next++] : NULL;
}
static int ifindex(void *ud, const char *name, uint32_t *idx) {
  (void)ud;
  if (strcmp(name, "lo") == 0) { *idx = 1; return 0; }
  if (strcmp(name, "eth0") == 0) { *idx = 2; return 0; }
  return -ENODEV;
}
static int ifname(void *ud, uint32_t idx, char *name, size_t size) {
  (void)ud;
  if (idx > 2) return -ENODEV;
  snprintf(name, size, "%s", idx == 1 ? "lo" : "eth0");
  return 0;
}
static int lookup_set(void *ud, const char *name, struct cnet_nftrule_setinfo *info) {
  (void)ud;
  if (strcmp(name, "s4") == 0) { info->key_type = 7; info->key_len = 4; return 0; }
  if (strcmp(name, "s6") == 0) { info->key_type = 8; info->key_len = 16; return 0; }
  if (strcmp(name, "sm") == 0) { info->key_type = 19; info->key_len = 4; return 0; }
  if (strcmp(name, "sp") == 0) { info->key_type = 13; info->key_len = 2; return 0; }
  return -ENOENT;
}

#endif
