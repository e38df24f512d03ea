/* Symbolic names of errno values ("EEXIST"), for error objects. */
#ifndef CNET_ERRNAME_H
#define CNET_ERRNAME_H

/* Returns the name of a positive errno value, or "EUNKNOWN". */
const char *cnet_errname(int err);

#endif
