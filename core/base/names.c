/* Value/name tables: see include/cnet/names.h. */
#include "cnet/names.h"

#include <errno.h>
#include <string.h>

const char *cnet_name_of(const struct cnet_name *t, size_t n, unsigned value) {
  for (size_t i = 0; i < n; i++)
    if (t[i].value == value) return t[i].name;
  return NULL;
}

long cnet_name_value(const struct cnet_name *t, size_t n, const char *name) {
  for (size_t i = 0; i < n; i++)
    if (strcmp(t[i].name, name) == 0) return (long)t[i].value;
  return -EINVAL;
}
