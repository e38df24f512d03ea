/* How long the kernel lists a rule back, estimated before the rule is sent (nft_tx.c refuses
 * a rule whose estimate passes CNET_NFT_LIST_MAX).
 *
 * The kernel takes a rule its listings cannot hold: a rule dump puts whole rules in messages
 * of at most SKB_WITH_OVERHEAD(32768) bytes (netlink caps a dump's buffer at 32 KiB less the
 * skb's shared info), and a rule that does not fit an empty message ends the dump, so it and
 * every rule after it vanish from `nft list` and cnet's listings alike. Kernel 6.18 on x86_64
 * lists a rule of 32448 bytes and drops one of 32452 (32768 - 320); a kernel built with
 * CONFIG_MAX_SKB_FRAGS=45, the most it allows, has 768 bytes of shared info, so cnet keeps to
 * 32000. Rules of named objects with long names (`counter name`, `quota name`: 288 bytes
 * each with a 255-byte name) pass it; the other big kinds measured (lookups in sets of
 * 255-byte names, dynsets, log prefixes) meet the kernel's limit on a rule's expression
 * state (4 KiB, EFBIG) first, under 20 KiB of listing.
 *
 * The listing is longer than what cnet sends: the rule's handle and the previous rule's (12
 * bytes each), and in some expressions attributes the kernel always lists but libnftnl sends
 * only when set (a counter's packets and bytes, a payload write's checksum fields, a dynset's
 * timeout and flags). `growth` holds, per expression, the most it grew between sending and
 * listing over the rules of tests/nft-corpus/ in every family (the 6762 that cnet and
 * kernel 6.18 take, each sent by cnet and read back from the kernel's dump). An anonymous set's name, sent as
 * "__set%d" and listed with the kernel's number (up to 10 digits), grows by 8 bytes at most,
 * and the set id sent beside it (8 bytes, never listed) makes up for that. A kind missing
 * from the table (of those the compiler writes, queue and flow offload, which the kernel
 * measured lacks) counts as GROWTH_UNKNOWN, more than any measured. */
#include <stdio.h> /* libnftnl/expr.h needs FILE */
#include <string.h>
#include <libnftnl/expr.h>

#include "nft/nft_int.h"

enum { RULE_GROWTH = 24,     /* NFTA_RULE_HANDLE and NFTA_RULE_POSITION, 12 bytes each */
       MSG_HEADER = 20,      /* nlmsghdr and nfgenmsg */
       GROWTH_UNKNOWN = 32,  /* more than any kind grows */
       MIN_EXPR_BYTES = 12 };  /* the least an expression takes as sent: see the bound */

static const struct { const char *name; unsigned bytes; } growth[] = {
  {"counter", 24}, {"nat", 24},
  {"exthdr", 24}, {"payload", 24},  /* writes and resets; loads list as sent (0) */
  {"dynset", 20},  /* plus its own expressions' growth */
  {"bitwise", 8}, {"limit", 8}, {"log", 8}, {"lookup", 8}, {"masq", 8}, {"osf", 8},
  {"redir", 8},
  {"byteorder", 0}, {"cmp", 0}, {"connlimit", 0}, {"ct", 0}, {"dup", 0}, {"fib", 0},
  {"fwd", 0}, {"hash", 0}, {"immediate", 0}, {"meta", 0},
  {"notrack", 0}, {"numgen", 0}, {"objref", 0}, {"quota", 0}, {"range", 0}, {"reject", 0},
  {"rt", 0}, {"socket", 0}, {"synproxy", 0}, {"tproxy", 0}, {"xfrm", 0},
};

static int add_growth(struct nftnl_expr *e, void *data);

/* Names compared by their first letter first: this runs for every expression of every rule
 * (a tenth of adding 10000 rules when each lookup went through the table with strcmp). */
static int is(const char *name, const char *word) {
  return name[0] == word[0] && strcmp(name, word) == 0;
}

static size_t expr_growth(const struct nftnl_expr *e) {
  const char *name = nftnl_expr_get_str(e, NFTNL_EXPR_NAME);
  if (name == NULL) return GROWTH_UNKNOWN;
  if (is(name, "payload") && !nftnl_expr_is_set(e, NFTNL_EXPR_PAYLOAD_SREG)) return 0;
  if (is(name, "exthdr") && nftnl_expr_is_set(e, NFTNL_EXPR_EXTHDR_DREG)) return 0;
  size_t g = GROWTH_UNKNOWN;
  for (size_t i = 0; i < sizeof growth / sizeof growth[0]; i++)
    if (is(name, growth[i].name)) { g = growth[i].bytes; break; }
  /* a dynset's expressions (a counter per element ...) are listed inside it */
  if (is(name, "dynset")) nftnl_expr_expr_foreach(e, add_growth, &g);
  return g;
}

static int add_growth(struct nftnl_expr *e, void *data) {
  *(size_t *)data += expr_growth(e);
  return 0;
}

size_t cnet_nft_rule_listed_size(size_t sent, struct nftnl_expr *const *v, unsigned n) {
  size_t size = MSG_HEADER + sent + RULE_GROWTH;
  for (unsigned i = 0; i < n; i++) size += expr_growth(v[i]);
  return size;
}

/* A bound on the estimate that needs no walk over the expressions: every expression sent,
 * one nested in a dynset too, takes at least MIN_EXPR_BYTES (its list element's header, and
 * its name's header with a name of at least 2 letters, padded to 4), so a rule of `sent`
 * bytes has at most sent / MIN_EXPR_BYTES of them, each growing by at most GROWTH_UNKNOWN
 * (a dynset's own 20 and each of its expressions' are counted apart). Most rules are far
 * under the limit by this bound, and the serializer then skips the walk (4% of adding
 * 10000 rules). */
size_t cnet_nft_rule_listed_bound(size_t sent) {
  return MSG_HEADER + sent + RULE_GROWTH + GROWTH_UNKNOWN * (sent / MIN_EXPR_BYTES);
}
