/* The pretend environment the nftrule unit tests compile against: interfaces lo (1) and
 * eth0 (2), named sets s4 (ipv4_addr), s6 (ipv6_addr), sm (mark), sp (inet_service). */
#ifndef NFTRULE_FAKE_H
#define NFTRULE_FAKE_H

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <libnftnl/set.h>
#include "cnet/nftrule.h"

#include "nftrule_sets.h"

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
