/* nftables over nfnetlink: transactions sent as one atomic batch, and listings.
 *
 * A transaction (struct cnet_nft_tx) collects commands (add table, add chain, add rule, ...)
 * and sends them at commit as ONE nfnetlink batch (BATCH_BEGIN, the commands, BATCH_END in a
 * single sendmsg): the kernel applies all of them or none. Each command keeps a label in nft's
 * own words ("add rule ip cnet forward \"iifname br0 accept\""), so when the kernel refuses one
 * message of the batch the caller can name the command that failed. The batch asks for no
 * per-message ACK: nfnetlink handles it inside sendmsg and answers just the messages it
 * refuses, so a batch of any size needs receive room for its errors only.
 *
 * Rules are compiled from nft rule text by cnet_nftrule_compile (cnet/nftrule.h) when they are
 * added, so a malformed rule is refused at once, before anything reaches the kernel.
 *
 * Every function returns 0 (or a count) or a negative errno. Extra text (the compiler's message,
 * the kernel's extended ACK) goes to the transaction's error buffer (cnet_nft_tx_errmsg) or, for
 * listings, to the namespace's (cnet_netns_errmsg).
 */
#ifndef CNET_NFT_H
#define CNET_NFT_H

#include <stdint.h>
#include <libmnl/libmnl.h>

#include "cnet/netns.h"

#define CNET_NFT_NAMELEN 256 /* NFT_NAME_MAXLEN */

/* Families by nft's name: "ip", "ip6", "inet", "arp", "bridge", "netdev".
 * Returns the NFPROTO_* value, or -EAFNOSUPPORT for an unknown name. */
int cnet_nft_family(const char *name);
const char *cnet_nft_family_name(int family); /* "ip"...; "unknown" */

/* An object reference as nft writes it: "[FAMILY] TABLE [NAME]". The family is optional
 * (default ip, as in nft); a first word that names a family is one, and a family alone
 * ("ip") is no reference (-EINVAL), as in nft. `want_name`: 0 = no NAME,
 * 1 = NAME required, 2 = NAME optional (name[0] == '\0' when absent).
 * Returns 0, -EAFNOSUPPORT (unknown family), -EINVAL (wrong number of words),
 * -ENAMETOOLONG. table/name: CNET_NFT_NAMELEN bytes each (name may be NULL if want_name 0). */
int cnet_nft_parse_ref(const char *ref, int want_name, int *family, char *table, char *name);

/* A base chain's priority: a number ("-150"), a standard name ("filter", "srcnat", "dstnat",
 * "mangle", "raw", "security", "out") with the value nft gives it in that family, or
 * "NAME + N" / "NAME - N". Returns 0 or -EINVAL (unknown name or bad number; "out" is
 * bridge-only, "raw"/"mangle"/"security" are ip/ip6/inet only). */
int cnet_nft_priority(int family, const char *text, int32_t *prio);
/* Hook by name ("prerouting", "input", "forward", "output", "postrouting", "ingress",
 * "egress") for the family; -EINVAL when the family has no such hook. */
int cnet_nft_hook(int family, const char *name, uint32_t *hooknum);
const char *cnet_nft_hook_name(int family, uint32_t hooknum);

/* ---- transactions ---- */

struct cnet_nft_tx;

/* A new, empty transaction acting on ns (borrowed: ns must outlive the transaction).
 * Returns 0 or -ENOMEM; free with cnet_nft_tx_free (which discards uncommitted commands). */
int cnet_nft_tx_new(struct cnet_netns *ns, struct cnet_nft_tx **out);
void cnet_nft_tx_free(struct cnet_nft_tx *tx); /* NULL is fine */
unsigned cnet_nft_tx_count(const struct cnet_nft_tx *tx);
/* The label of command i ("add table ip cnet"), or NULL. */
const char *cnet_nft_tx_label(const struct cnet_nft_tx *tx, unsigned i);
/* Text of the last error (compiler message, kernel extended ACK), "" when none. */
const char *cnet_nft_tx_errmsg(const struct cnet_nft_tx *tx);

/* A base chain. Leave type NULL for a regular chain (then the rest is ignored).
 * type: "filter", "nat", "route"; hook: see cnet_nft_hook; prio: a number or name (see
 * cnet_nft_priority; NULL = 0); policy: "accept", "drop" or NULL (kernel default: accept);
 * device: required by netdev chains and inet ingress chains (-EINVAL without one, as nft). */
struct cnet_nft_chain_spec {
  const char *type, *hook, *prio, *policy, *device;
};

/* A named set. type: "ipv4_addr", "ipv6_addr", "ether_addr", "inet_proto", "inet_service",
 * "mark", "ifname". flags: CNET_NFT_SET_* below. size: 0, or the most elements the set may
 * hold (nft's `size`); the kernel then makes its table that big at once instead of growing
 * it while elements arrive, which makes loading a big set cheaper. */
enum { CNET_NFT_SET_INTERVAL = 1, CNET_NFT_SET_CONSTANT = 2 };
struct cnet_nft_set_spec {
  const char *type;
  unsigned flags;
  uint32_t size;
};

/* How a rule goes in. APPEND: at the end of the chain, or after rule `handle` when nonzero.
 * INSERT: at the start, or before rule `handle`. REPLACE: in place of rule `handle`. */
enum cnet_nft_where { CNET_NFT_APPEND, CNET_NFT_INSERT, CNET_NFT_REPLACE };

/* Commands. Each checks its input and queues one command (plus, for a rule, the anonymous
 * sets it uses); nothing reaches the kernel before commit. Errors: -EINVAL (bad hook,
 * priority, policy, type, element, or rule text: see cnet_nft_tx_errmsg), -ENOENT (a named set
 * referred to that exists neither in this transaction nor in the kernel), -ENOMEM.
 * A failed call leaves the transaction as it was. */
int cnet_nft_tx_add_table(struct cnet_nft_tx *tx, int family, const char *table);
int cnet_nft_tx_delete_table(struct cnet_nft_tx *tx, int family, const char *table);
int cnet_nft_tx_flush_table(struct cnet_nft_tx *tx, int family, const char *table);
int cnet_nft_tx_add_chain(struct cnet_nft_tx *tx, int family, const char *table,
                          const char *chain, const struct cnet_nft_chain_spec *spec);
int cnet_nft_tx_delete_chain(struct cnet_nft_tx *tx, int family, const char *table,
                             const char *chain);
int cnet_nft_tx_flush_chain(struct cnet_nft_tx *tx, int family, const char *table,
                            const char *chain);
int cnet_nft_tx_add_rule(struct cnet_nft_tx *tx, int family, const char *table,
                         const char *chain, const char *text, enum cnet_nft_where where,
                         uint64_t handle);
int cnet_nft_tx_delete_rule(struct cnet_nft_tx *tx, int family, const char *table,
                            const char *chain, uint64_t handle);
int cnet_nft_tx_add_set(struct cnet_nft_tx *tx, int family, const char *table, const char *set,
                        const struct cnet_nft_set_spec *spec);
int cnet_nft_tx_delete_set(struct cnet_nft_tx *tx, int family, const char *table,
                           const char *set);
int cnet_nft_tx_flush_set(struct cnet_nft_tx *tx, int family, const char *table,
                          const char *set);
/* Elements in nft's notation for the set's type: "192.0.2.1", and in interval sets also
 * "192.0.2.0/24" and "192.0.2.1-192.0.2.9"; ports "80" or "80-89" or names known to
 * getservbyname; "eth0"; marks as numbers. `del`: delete instead of add. */
int cnet_nft_tx_elements(struct cnet_nft_tx *tx, int family, const char *table, const char *set,
                         const char *const *elems, unsigned n, int del);

/* Whether family/table exists in the kernel now: 1, 0, or -errno. Like a set lookup it is a
 * read: commit then sends the ruleset generation it saw, and the kernel refuses the batch
 * with -ERESTART if the ruleset changed in between (see cnet_nft_tx_commit). */
int cnet_nft_tx_table_exists(struct cnet_nft_tx *tx, int family, const char *table);

/* Sends every command as one batch and waits for the kernel's verdict. Returns 0 when the
 * kernel applied the whole batch, otherwise the error of the first refused command (the
 * kernel then applied nothing), whatever the batch's size: *failed receives its index (-1
 * when the batch as a whole failed, e.g. the socket) and cnet_nft_tx_errmsg the kernel's text.
 * A transaction that read the ruleset (a set's type, whether a table exists) is pinned to the
 * generation it read; when the kernel refuses the batch for a newer generation (-ERESTART,
 * nothing applied), commit reads the generation and what the transaction read again and, if
 * that still holds, sends the batch again, up to CNET_NFT_RESTART_TRIES times in all. It
 * returns -ERESTART when what was read changed, or the ruleset kept changing. Either way the
 * transaction is spent: labels stay readable, but further commands and commits fail with
 * -EINVAL. An empty transaction commits as 0. */
#define CNET_NFT_RESTART_TRIES 32
int cnet_nft_tx_commit(struct cnet_nft_tx *tx, int *failed);

/* ---- listings ----
 * Each calls fn once per object, in kernel order, after a complete dump (retried when
 * interrupted). family 0 = every family; table/chain/set NULL = all. Strings in the info
 * structs live until fn returns. fn returning non-zero stops the walk and is returned.
 * Errors: -errno from the kernel (text in cnet_netns_errmsg(ns)), -ENOMEM. */

struct cnet_nft_table_info {
  int family;
  const char *name;
  uint64_t handle;
  uint32_t flags, use;
};

struct cnet_nft_chain_info {
  int family;
  const char *table, *name;
  uint64_t handle;
  int base;                       /* 1 for a base chain: the fields below are set */
  const char *type, *hook, *device; /* device NULL unless netdev */
  int32_t prio;
  const char *policy;             /* "accept" or "drop" */
  uint32_t use;
};

struct cnet_nft_rule_info {
  int family;
  const char *table, *chain;
  uint64_t handle;
  const char *text;               /* canonical nft text from the decoder */
  const char *text_error;         /* NULL, or why the text is partial */
  int counter;                    /* the rule has a counter: packets/bytes are set */
  uint64_t packets, bytes;
};

struct cnet_nft_set_info {
  int family;
  const char *table, *name;
  uint64_t handle;
  const char *type;               /* "ipv4_addr", ..., or "type N" when unknown */
  uint32_t key_len, flags;        /* NFT_SET_* flags from the kernel */
  uint32_t size;                  /* the most elements it may hold; 0: no limit */
  const char *const *elems;       /* in nft notation, intervals merged ("10.0.0.0/8") */
  unsigned nelems;
};

int cnet_nft_list_tables(struct cnet_netns *ns, int family, const char *table,
                         int (*fn)(const struct cnet_nft_table_info *, void *), void *data);
int cnet_nft_list_chains(struct cnet_netns *ns, int family, const char *table,
                         const char *chain,
                         int (*fn)(const struct cnet_nft_chain_info *, void *), void *data);
int cnet_nft_list_rules(struct cnet_netns *ns, int family, const char *table, const char *chain,
                        int (*fn)(const struct cnet_nft_rule_info *, void *), void *data);
/* Anonymous sets (the ones rules carry) are skipped. */
int cnet_nft_list_sets(struct cnet_netns *ns, int family, const char *table, const char *set,
                       int (*fn)(const struct cnet_nft_set_info *, void *), void *data);

/* ---- events ----
 * Decoding nf_tables notifications (cnet/monitor.h delivers them) into the listings' shapes.
 * A rule's text needs its anonymous sets, which the kernel announces (with their elements)
 * just before the rule: the decoder keeps each one until the kernel says it is deleted,
 * after its rule. (The rule of an anonymous set made before the decoder started has no
 * text: its error says so.) */

struct cnet_nft_events;
int cnet_nft_events_new(struct cnet_nft_events **out); /* 0 or -ENOMEM */
void cnet_nft_events_free(struct cnet_nft_events *e); /* NULL is fine */

enum cnet_nft_evkind { CNET_NFT_EV_TABLE, CNET_NFT_EV_CHAIN, CNET_NFT_EV_RULE, CNET_NFT_EV_SET,
                       CNET_NFT_EV_ELEMENTS };

/* One change. Only the member of `kind` is set; strings live until fn returns. ELEMENTS:
 * set.family/table/name identify the set, set.elems/nelems are the elements added or
 * removed, in nft notation (empty when the set's type could not be learned). */
struct cnet_nft_event {
  enum cnet_nft_evkind kind;
  int del;                       /* 1: deleted */
  struct cnet_nft_table_info table;
  struct cnet_nft_chain_info chain;
  struct cnet_nft_rule_info rule;
  struct cnet_nft_set_info set;
};

/* Decodes one NFNLGRP_NFTABLES message and calls fn for the change it describes. Messages
 * that describe none by themselves (anonymous sets and their elements, the end of a
 * transaction, objects cnet does not list) call nothing. ns (may be NULL: then nothing is
 * asked) is where the message came from: asked for a named set's key type the first time its
 * elements change, and for interface names in rules. Returns 0, fn's non-zero value, or
 * -ENOMEM / -EPROTO (a message libnftnl cannot parse). */
int cnet_nft_event_decode(struct cnet_nft_events *e, struct cnet_netns *ns,
                          const struct nlmsghdr *nlh,
                          int (*fn)(const struct cnet_nft_event *ev, void *data), void *data);

#endif
