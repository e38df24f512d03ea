/* Namespace ids (RTM_GETNSID): how one namespace names the others it has links into. A veth
 * whose peer lives elsewhere reports the peer's namespace as such an id (IFLA_LINK_NETNSID);
 * these calls turn it back into a name under /run/netns and read the peer there. */
#ifndef CNET_NSID_H
#define CNET_NSID_H

#include "cnet/netns.h"

#define CNET_NSID_NAMESZ 256 /* room for a name under /run/netns */

/* For each of n namespace ids of ns, the name under /run/netns of the namespace it stands
 * for, into names[i] ("" when no namespace there has that id; the first by name when more
 * names reach one namespace). Every namespace there is asked in one send. Returns 0 or
 * -errno (-ENOMEM); the caller owns the arrays. */
int cnet_nsid_names(struct cnet_netns *ns, unsigned n, const int *nsid,
                    char (*names)[CNET_NSID_NAMESZ]);

/* The names of n devices, device i being index[i] in the namespace ns knows as nsid[i]
 * (IFLA_TARGET_NETNSID), into names[i] (CNET_IFNAMSIZ bytes each; "" for one that is not
 * found). All are asked in one send. Returns 0 or -errno (-ENOMEM). */
int cnet_nsid_link_names(struct cnet_netns *ns, unsigned n, const int *nsid, const int *index,
                         char (*names)[16]);

#endif
