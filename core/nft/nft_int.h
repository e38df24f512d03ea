/* Shared inside the nft core files (nft.c, nft_tx.c, nft_set.c, nft_list.c, nft_rule_size.c);
 * not public. */
#ifndef CNET_NFT_INT_H
#define CNET_NFT_INT_H

#include <stddef.h>
#include <stdint.h>
#include <linux/netfilter/nf_tables.h>

#include "cnet/nft.h"
#include "cnet/nl.h"

struct nftnl_set;
struct nftnl_table;
struct nftnl_chain;
struct nftnl_rule;

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

/* One set element parsed from nft notation: its key (the set's key length of it is used)
 * and its flags (0, or NFT_SET_ELEM_INTERVAL_END for the end marker of an interval). */
enum { CNET_NFT_KEYMAX = 16,
       CNET_NFT_ELEM_MAX = 40 }; /* bytes cnet_nft_elem_put writes at most */
struct cnet_nft_elem {
  unsigned char key[CNET_NFT_KEYMAX];
  uint32_t flags;
};
/* Parses `text` (one element in nft notation) into out: one element, or for an interval set
 * a start element and (unless the range runs to the top) an end marker. Returns how many (1
 * or 2), or -EINVAL with errmsg filled. */
int cnet_nft_elem_keys(uint32_t type, uint32_t len, int interval, const char *text,
                       struct cnet_nft_elem out[2], char *errmsg, size_t errlen);
/* Writes e as one NFTA_LIST_ELEM attribute (the body of NFTA_SET_ELEM_LIST_ELEMENTS) for a
 * key of len bytes; returns the bytes written (at most CNET_NFT_ELEM_MAX). */
size_t cnet_nft_elem_put(unsigned char *buf, const struct cnet_nft_elem *e, uint32_t len);
/* Formats the elements of a listed set in nft notation; *out is a malloc'd array of
 * malloc'd strings (free with cnet_nft_elems_free). Returns the count or -ENOMEM. */
int cnet_nft_elems_format(const struct nftnl_set *s, char ***out);
void cnet_nft_elems_free(char **elems, unsigned n);

/* nft_list.c: the listings' view of one parsed object (strings point into it), shared with
 * the event decoder (nft_event.c). A rule's info has its counters but no text. */
void cnet_nft_table_info_of(const struct nftnl_table *t, struct cnet_nft_table_info *info);
void cnet_nft_chain_info_of(const struct nftnl_chain *c, struct cnet_nft_chain_info *info);
void cnet_nft_rule_info_of(const struct nftnl_rule *r, struct cnet_nft_rule_info *info);
/* The rule's canonical text (cnet_nftrule_decode) into *text: malloc'd, *size bytes, grown
 * until the whole text fits, however long (a big anonymous set). Returns the decoder's
 * result, or -ENOSPC when it could not grow (out of memory; the text is cut). */
struct cnet_nftrule_denv;
struct cnet_nftrule_err;
int cnet_nft_rule_text(const struct nftnl_rule *r, const struct cnet_nftrule_denv *denv,
                       char **text, size_t *size, struct cnet_nftrule_err *err);
/* nft_rule_size.c: the most bytes a rule may take in the kernel's listing (one dump message,
 * header included; a longer rule is taken but can never be listed back), and an estimate,
 * never below the kernel's, of what a rule takes there: its attributes as sent take `sent`
 * bytes, its expressions are v[0..n). */
enum { CNET_NFT_LIST_MAX = 32000 };
struct nftnl_expr;
size_t cnet_nft_rule_listed_size(size_t sent, struct nftnl_expr *const *v, unsigned n);
size_t cnet_nft_rule_listed_bound(size_t sent); /* >= the estimate, in constant time */

/* A set without its elements; tname holds the type's text when nft has no name for it. */
void cnet_nft_set_info_of(const struct nftnl_set *s, struct cnet_nft_set_info *info,
                          char tname[24]);

#endif
