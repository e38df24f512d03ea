/* Tables of numeric values and their names (route protocols, scopes, neighbour states,
 * rule actions, ...): one entry describes both directions. */
#ifndef CNET_NAMES_H
#define CNET_NAMES_H

#include <stddef.h>

struct cnet_name {
  unsigned value;
  const char *name;
};

#define CNET_NAMES_LEN(t) (sizeof (t) / sizeof (t)[0])

/* The name of value in the n entries of t (the first entry with it), or NULL. */
const char *cnet_name_of(const struct cnet_name *t, size_t n, unsigned value);
/* The value named name, or -EINVAL. */
long cnet_name_value(const struct cnet_name *t, size_t n, const char *name);

#endif
