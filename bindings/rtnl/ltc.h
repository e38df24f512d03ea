/* Shared by cnet.tc's files: tc.c binds the qdisc and class functions and asks tc_filter.c
 * for the filter ones. */
#ifndef LCNET_LTC_H
#define LCNET_LTC_H

#include "common/args.h"
#include "common/lcnet.h"

/* What a tc call names in its messages ("op", the object) and its table argument's fields. */
struct ltc_call {
  struct cnet_netns *ns;
  const char *op, *object;
  lcnet_fields f;
};

/* A value of the right type that does not parse (what: "a rate", "a class", ...): raises
 * an error object, as for a bad address. */
int ltc_bad_value(lua_State *L, const struct ltc_call *c, const char *key,
                  const char *text, const char *what, const char *example);

/* Sets `filter` (cnet.tc.filter), bound to the handle at stack index ns, in the table at
 * the top of the stack (cnet.tc). */
void lcnet_open_tc_filter(lua_State *L, int ns);

#endif
