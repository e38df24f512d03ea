/* Shared inside the nft core files (nft.c, nft_tx.c, nft_set.c, nft_list.c); not public. */
#ifndef CNET_NFT_INT_H
#define CNET_NFT_INT_H

#include <stddef.h>
#include <stdint.h>
#include <linux/netfilter/nf_tables.h>

#include "cnet/nft.h"
#include "cnet/nl.h"

struct nftnl_set;

/* Starts an nf_tables request of `type` (NFT_MSG_*) for `family` in nl's send queue:
 * netlink header plus nfgenmsg. NULL on ENOMEM. */
struct nlmsghdr *cnet_nft_msg(struct cnet_nl *nl, uint16_t type, int family, uint16_t flags);

/* Set key types nft knows by name. */
struct cnet_nft_settype {
  const char *name;
  uint32_t type, len;  /* nft datatype number, key length in bytes */
};
const struct cnet_nft_settype *cnet_nft_settype_byname(const char *name);
const struct cnet_nft_settype *cnet_nft_settype_bynum(uint32_t type);

/* Adds the elements `text` (one element, in nft notation) to s: one element, or for an
 * interval set a start element and (unless the range runs to the top) an end element.
 * Returns 0, -EINVAL (errmsg filled), -ENOMEM. */
int cnet_nft_elem_parse(struct nftnl_set *s, uint32_t type, uint32_t len, int interval,
                        const char *text, char *errmsg, size_t errlen);
/* Formats the elements of a listed set in nft notation; *out is a malloc'd array of
 * malloc'd strings (free with cnet_nft_elems_free). Returns the count or -ENOMEM. */
int cnet_nft_elems_format(const struct nftnl_set *s, char ***out);
void cnet_nft_elems_free(char **elems, unsigned n);

#endif
