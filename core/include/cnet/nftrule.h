/* nft rule syntax <-> libnftnl expressions.
 *
 * cnet_nftrule_compile() parses one rule written in (a documented subset of) nft's rule
 * language, e.g. "ip saddr 192.168.1.0/24 tcp dport { 22, 80 } counter accept", and appends the
 * expressions nft itself would generate to a struct nftnl_rule. cnet_nftrule_decode() does the
 * reverse on a rule listed by the kernel and writes the canonical text: exactly what
 * `nft list ruleset` prints for that rule (without the handle comment).
 * The subset and what is left out: docs/api.md ("Rules in nft's syntax").
 *
 * Pure functions: no netlink, no kernel, no globals. Everything that needs the outside world
 * (named sets, interface indexes, set ids of the batch) comes through callbacks in the env.
 */
#ifndef CNET_NFTRULE_H
#define CNET_NFTRULE_H

#include <stddef.h>
#include <stdint.h>

struct nftnl_rule;
struct nftnl_set;

#define CNET_NFTRULE_ERRMAX 512

/* Where and why a rule was refused (compile) or could not be decoded (decode).
 * column: 1-based byte column of the offending token in the rule text (0 when the error has no
 * position, e.g. -ENOMEM, or for decode). msg: the full message, quoting the rule, e.g.
 *   rule "ip saddr 1.2.3 accept": column 10: bad IPv4 address "1.2.3"
 * (truncated to fit, always NUL-terminated). */
struct cnet_nftrule_err {
  int column;
  char msg[CNET_NFTRULE_ERRMAX];
};

/* A named set or map as the compiler needs to know it: key_type/data_type are nft datatype
 * numbers (concatenations: 6 bits per part; data_type NFT_DATA_VERDICT for verdict maps),
 * key_len/data_len in bytes, flags NFT_SET_*, obj_type NFT_OBJECT_* for object maps. set_id:
 * nonzero when the set is made in the same batch (a rule then also names it by this id). */
struct cnet_nftrule_setinfo {
  uint32_t key_type, key_len, flags, data_type, data_len, obj_type, set_id;
};

/* What the compiler needs from the outside world. Every callback may be NULL. */
struct cnet_nftrule_env {
  int family;          /* the table's NFPROTO_* (ip, ip6, inet, bridge, netdev) */
  const char *table;   /* the rule's table: copied into the anonymous sets made for it */
  void *ud;            /* passed to every callback */

  /* A set id unique within the batch the rule goes into (NFTA_SET_ID; the rule's lookup
   * refers to an anonymous set by this id, since the kernel names it only at commit).
   * NULL: ids 1, 2, 3... counted from env->first_set_id (fine for one rule per batch). */
  uint32_t (*next_set_id)(void *ud);
  uint32_t first_set_id;

  /* Named set or map "@name": fill *info (zeroed first). Return 0, or -ENOENT when there is
   * no such set (the rule is refused at its column). NULL: rules naming sets are refused
   * (-EOPNOTSUPP). */
  int (*lookup_set)(void *ud, const char *name, struct cnet_nftrule_setinfo *info);

  /* "iif NAME"/"oif NAME": the interface index of NAME in the target namespace.
   * Return 0 or -ENODEV. NULL: iif/oif by name are refused (-EOPNOTSUPP). */
  int (*ifindex)(void *ud, const char *ifname, uint32_t *index);
};

/* Anonymous sets the compiled rule refers to ("{ 22, 80 }"). Each set is complete: table,
 * family, name "__set%d", flags ANONYMOUS|CONSTANT (|INTERVAL), key type/len, set id, and its
 * elements. The caller must put, in the same batch and BEFORE the rule, for each set:
 *   NFT_MSG_NEWSET     (nftnl_set_nlmsg_build_payload, flags NLM_F_CREATE|NLM_F_ACK)
 *   NFT_MSG_NEWSETELEM (nftnl_set_elems_nlmsg_build_payload, flags NLM_F_CREATE|NLM_F_ACK)
 * Owned by out; free with cnet_nftrule_out_free (a caller may take a set by setting its
 * slot to NULL). */
struct cnet_nftrule_out {
  struct nftnl_set **sets;
  unsigned nsets;
};

/* Parses `text` and appends its expressions to `r` (which should be empty; table, chain and
 * family of `r` are the caller's business). `out` receives the anonymous sets (zeroed first;
 * may be NULL only if the rule uses none, otherwise -EINVAL). `err` may be NULL.
 * Returns 0, or:
 *   -EINVAL      syntax error, bad value, unknown keyword (err: column + message)
 *   -EOPNOTSUPP  valid nft, but outside cnet's subset (err: column + message)
 *   -ENOENT      named set not found (lookup_set), -ENODEV interface not found (ifindex)
 *   -ENOMEM
 * On error `r` may hold some expressions already: discard it. `out` is emptied. */
int cnet_nftrule_compile(const char *text, const struct cnet_nftrule_env *env,
                         struct nftnl_rule *r, struct cnet_nftrule_out *out,
                         struct cnet_nftrule_err *err);

void cnet_nftrule_out_free(struct cnet_nftrule_out *out);

/* What the decoder needs from the outside world. Every callback may be NULL. */
struct cnet_nftrule_denv {
  int family;          /* the table's NFPROTO_* (decides which implicit matches nft hides) */
  void *ud;
  /* The set called `name` in the rule's table, WITH its elements (a set listing with
   * NFT_MSG_GETSETELEM). Needed to print anonymous sets as "{ a, b }". Returns NULL when
   * unknown: an anonymous set then makes decode fail (-ENOENT). Named sets print as "@name"
   * without it. The set stays owned by the caller. */
  const struct nftnl_set *(*find_set)(void *ud, const char *name);
  /* iif/oif: the name of ifindex, as nft prints it ("iif \"lo\""). Return 0 or -ENODEV;
   * NULL or failure: printed as a number, like nft does for an unknown index. */
  int (*ifname)(void *ud, uint32_t index, char *name, size_t size);
};

/* Writes the canonical text of the rule's expressions into buf (always NUL-terminated when
 * size > 0). Returns the text's length (>= 0), or:
 *   -ENOSPC      buf too small (buf holds a truncated text)
 *   -EOPNOTSUPP  an expression (sequence) outside the subset (err->msg names it; buf holds
 *                the text decoded so far followed by " <name>" for the unknown expression)
 *   -ENOENT      anonymous set not found through find_set
 *   -ENOMEM
 * `err` may be NULL; err->column is 0. */
int cnet_nftrule_decode(const struct nftnl_rule *r, const struct cnet_nftrule_denv *env,
                        char *buf, size_t size, struct cnet_nftrule_err *err);

#endif
