/* The serializer's guard on a rule's size (core/nft/nft_tx.c, nft_rule_size.c): the kernel
 * takes rules its listings cannot hold (a rule dump message holds 32448 bytes on x86_64), and
 * such a rule vanishes from `nft list` and cnet's listings with every rule after it. So cnet
 * estimates how long the kernel will list a rule and refuses it, when it is added, past
 * CNET_NFT_LIST_MAX (32000 bytes) with a clear error, leaving the transaction as it was.
 *
 * Checked here: the estimate is never below what the kernel lists, and the bound that lets
 * the serializer skip it never below the estimate, for the expressions whose listing grows
 * most (test_estimate); the largest rule of 255-byte named counters the guard
 * takes lists back whole, with the rule after it (test_largest_listed); one counter more is
 * refused, nothing of it sent (test_guard); and a rule past the 16-bit length of the
 * attribute nesting its expressions is refused the same way. That one needs more than the
 * compiler's 128 expressions, so this program compiles nft_tx.c itself with the compiler's
 * entry swapped for one that compiles the text twice into the rule, as a compiler with a
 * higher limit would, and the estimate swapped for one that also keeps its last result.
 * (cnet_core's own nft_tx.o is then never linked: this file defines all its symbols.)
 *
 * Runs in a sandbox (ctest: tests/sandbox.sh); the independent views are the nft command and
 * the kernel's own rule dump, read here with libmnl. */
#define _GNU_SOURCE /* as nft_tx.c asks, before any header */
#include "cnet/nftrule.h" /* before the swaps: their declarations keep the real names */
#include "nft/nft_int.h"

static int copies = 1;
static int compile_copies(const char *text, const struct cnet_nftrule_env *env,
                          struct nftnl_rule *r, struct cnet_nftrule_out *out,
                          struct cnet_nftrule_err *err);
static size_t estimate, bound; /* the last estimate serialize_rule made, and its bound */
static size_t keep_estimate(size_t sent, struct nftnl_expr *const *v, unsigned n) {
  bound = cnet_nft_rule_listed_bound(sent);
  return estimate = cnet_nft_rule_listed_size(sent, v, n);
}
/* the serializer estimates every rule here, not only those its bound does not clear */
static size_t no_bound(size_t sent) { return sent + CNET_NFT_LIST_MAX + 1; }
#define cnet_nftrule_compile compile_copies
#define cnet_nft_rule_listed_size keep_estimate
#define cnet_nft_rule_listed_bound no_bound
#include "nft/nft_tx.c"
#undef cnet_nftrule_compile
#undef cnet_nft_rule_listed_size
#undef cnet_nft_rule_listed_bound

#include <time.h>
#include <libmnl/libmnl.h>
#include "check.h"
#include "shell.h"
#include "fresh_netns.h"

/* The text compiled `copies` times into r, one copy's expressions after the other's; the
 * anonymous sets of the first copy go to out, the others' are dropped. */
static int compile_copies(const char *text, const struct cnet_nftrule_env *env,
                          struct nftnl_rule *r, struct cnet_nftrule_out *out,
                          struct cnet_nftrule_err *err) {
  int rc = cnet_nftrule_compile(text, env, r, out, err);
  for (int i = 1; rc == 0 && i < copies; i++) {
    struct cnet_nftrule_out more;
    rc = cnet_nftrule_compile(text, env, r, &more, err);
    cnet_nftrule_out_free(&more);
  }
  return rc;
}

static size_t count(const char *hay, const char *needle) {
  size_t n = 0;
  for (const char *p = hay; (p = strstr(p, needle)) != NULL; p += strlen(needle)) n++;
  return n;
}

struct dumped { unsigned n, nth, len; };

static int count_rule(const struct nlmsghdr *nlh, void *data) {
  struct dumped *d = data;
  if (++d->n == d->nth) d->len = nlh->nlmsg_len;
  return MNL_CB_OK;
}

/* The kernel's rule dump of one chain, as nft and cnet read it (a 64 KiB buffer; a read
 * first, which sets the size of the dump's messages): the number of rules listed, and in
 * *len the length of the nth rule's message (0 if not listed). */
static unsigned dump_chain(const char *table, const char *chain, unsigned nth, unsigned *len) {
  static char buf[65536];
  struct dumped got = {0, nth, 0};
  unsigned seq = (unsigned)time(NULL);
  struct mnl_socket *nl = mnl_socket_open(NETLINK_NETFILTER);
  if (nl == NULL || mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) return 0;
  struct nlmsghdr *nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETGEN, AF_UNSPEC, 0, seq);
  ssize_t n = mnl_socket_sendto(nl, nlh, nlh->nlmsg_len);
  if (n > 0) n = mnl_socket_recvfrom(nl, buf, sizeof buf);
  nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETRULE, NFPROTO_IPV4, NLM_F_DUMP, ++seq);
  mnl_attr_put_strz(nlh, NFTA_RULE_TABLE, table);
  mnl_attr_put_strz(nlh, NFTA_RULE_CHAIN, chain);
  if (n > 0) n = mnl_socket_sendto(nl, nlh, nlh->nlmsg_len);
  while (n > 0 && (n = mnl_socket_recvfrom(nl, buf, sizeof buf)) > 0)
    if (mnl_cb_run(buf, (size_t)n, seq, mnl_socket_get_portid(nl), count_rule, &got) <= 0) break;
  mnl_socket_close(nl);
  *len = got.len;
  return got.n;
}

static char name[256];  /* a counter's (and a set's) name of 255 bytes, the most nft allows */

/* Adds text to chain after the rule there (the kernel then lists the previous rule's
 * handle too), commits, and compares the estimate with the kernel's listing. */
static void check_estimate(struct cnet_netns *ns, const char *chain, const char *text) {
  char cmd[600];
  snprintf(cmd, sizeof cmd, "nft flush chain ip tg %s && nft add rule ip tg %s meta mark 0 && "
           "echo ok", chain, chain);
  CHECK(strcmp(sh(cmd), "ok\n") == 0, "%s", cmd);
  struct cnet_nft_tx *tx;
  int failed = 0;
  CHECK(cnet_nft_tx_new(ns, &tx) == 0, "tx_new");
  estimate = 0;
  CHECK(cnet_nft_tx_add_rule(tx, NFPROTO_IPV4, "tg", chain, text, CNET_NFT_APPEND, 0) == 0,
        "%.60s: %s", text, cnet_nft_tx_errmsg(tx));
  CHECK(cnet_nft_tx_commit(tx, &failed) == 0, "%.60s: commit: %s", text, cnet_nft_tx_errmsg(tx));
  cnet_nft_tx_free(tx);
  unsigned len = 0;
  CHECK(dump_chain("tg", chain, 2, &len) == 2, "%.60s: not listed", text);
  CHECK(len > 0 && estimate >= len, "%.60s: estimated %zu bytes, listed in %u", text,
        estimate, len);
  CHECK(bound >= estimate, "%.60s: bound %zu bytes, estimated %zu", text, bound, estimate);
}

/* The expressions whose listing grows most over what cnet sends (the table of
 * nft_rule_size.c), each where it grew most in the corpus, and the 255-byte names. */
static void test_estimate(struct cnet_netns *ns) {
  static const struct { const char *chain, *text; } rules[] = {
    {"f", "counter"},
    {"f", "ip ttl set 64"},
    {"f", "reset tcp option sack-perm"},
    {"f", "update @%s { ip saddr counter counter }"},
    {"f", "ip saddr @%s"},
    {"f", "counter name %s"},
    {"f", "ct state new counter accept"},
    {"f", "meta mark { 1, 2 } log prefix \"x\""},
    {"f", "limit rate 1 mbytes/second"},
    {"f", "osf name \"Linux\""},
    {"f", "counter name ip saddr map { 10.0.0.1 : \"%s\" }"},
    {"pre", "meta l4proto tcp dnat to ip daddr map { 192.0.2.1 : 10.0.0.1 . 80 }"},
    {"pre", "udp dport 53 redirect to :5353"},
    {"post", "meta l4proto tcp masquerade to :1000"},
  };
  for (size_t i = 0; i < sizeof rules / sizeof rules[0]; i++) {
    char text[1024];
    snprintf(text, sizeof text, rules[i].text, name);
    check_estimate(ns, rules[i].chain, text);
  }
  sh("nft flush chain ip tg f && nft flush chain ip tg pre && nft flush chain ip tg post");
}

/* An anonymous set ("tcp dport { 22, 80 }": 4 expressions), then n named counters (one
 * expression of 288 bytes each). Malloc'd. */
static char *rule_of(int n) {
  const char *head = "tcp dport { 22, 80 }";
  char *rule = malloc(strlen(head) + (size_t)n * (strlen(" counter name ") + 255) + 1);
  char *p = rule + sprintf(rule, "%s", head);
  for (int i = 0; i < n; i++) p += sprintf(p, " counter name %s", name);
  return rule;
}

/* The largest rule of named counters the guard takes (estimated 31932 bytes; the kernel
 * lists it in 31924) lists back whole, between the rules before and after it. */
static void test_largest_listed(struct cnet_netns *ns) {
  struct cnet_nft_tx *tx;
  int failed = 0;
  char *big_rule = rule_of(110);
  CHECK(strcmp(sh("nft flush chain ip tg c && echo ok"), "ok\n") == 0, "flush");
  CHECK(cnet_nft_tx_new(ns, &tx) == 0, "tx_new");
  CHECK(cnet_nft_tx_add_rule(tx, NFPROTO_IPV4, "tg", "c", "tcp dport 21 accept",
                             CNET_NFT_APPEND, 0) == 0, "before: %s", cnet_nft_tx_errmsg(tx));
  CHECK(cnet_nft_tx_add_rule(tx, NFPROTO_IPV4, "tg", "c", big_rule, CNET_NFT_APPEND, 0) == 0,
        "110 counters: %s", cnet_nft_tx_errmsg(tx));
  size_t big = estimate;
  CHECK(big > CNET_NFT_LIST_MAX - 288 && big <= CNET_NFT_LIST_MAX,
        "estimated %zu bytes: not the largest", big);
  CHECK(cnet_nft_tx_add_rule(tx, NFPROTO_IPV4, "tg", "c", "tcp dport 23 drop",
                             CNET_NFT_APPEND, 0) == 0, "after: %s", cnet_nft_tx_errmsg(tx));
  CHECK(cnet_nft_tx_commit(tx, &failed) == 0, "commit: %s", cnet_nft_tx_errmsg(tx));
  cnet_nft_tx_free(tx);
  const char *listing = sh("nft list chain ip tg c");
  CHECK(count(listing, "counter name") == 110, "%zu counters listed",
        count(listing, "counter name"));
  CHECK(strstr(listing, "tcp dport 21 accept") && strstr(listing, "tcp dport { 22, 80 }") &&
        strstr(listing, "tcp dport 23 drop"), "the rules around it:\n%.300s", listing);
  unsigned len = 0, listed = dump_chain("tg", "c", 2, &len);
  CHECK(listed == 3, "the kernel's dump lists %u rules", listed);
  CHECK(len > 0 && len <= big, "listed in %u bytes, estimated %zu", len, big);
  free(big_rule);
}

/* One counter more is refused when added, the transaction left as it was, nothing sent for
 * it; so are the compiler's largest rule (128 expressions) and, compiled twice, a rule of
 * 256 expressions (73 KiB, past the 16-bit length of the attribute nesting them). */
static void test_guard(struct cnet_netns *ns) {
  static const struct { int n, copies; } over[] = {{111, 1}, {124, 1}, {124, 2}};
  static char before[1 << 20];
  snprintf(before, sizeof before, "%s", sh("nft -j list ruleset"));
  for (size_t i = 0; i < sizeof over / sizeof over[0]; i++) {
    struct cnet_nft_tx *tx;
    int failed = 0;
    char *big_rule = rule_of(over[i].n);
    CHECK(cnet_nft_tx_new(ns, &tx) == 0, "tx_new");
    CHECK(cnet_nft_tx_add_chain(tx, NFPROTO_IPV4, "tg", "d", NULL) == 0, "add_chain");
    unsigned queued = cnet_nft_tx_count(tx);
    uint32_t set_id = tx->set_id;
    size_t arena = tx->alen;
    copies = over[i].copies;
    estimate = 0;
    int rc = cnet_nft_tx_add_rule(tx, NFPROTO_IPV4, "tg", "c", big_rule, CNET_NFT_APPEND, 0);
    copies = 1;
    CHECK(rc == -EMSGSIZE, "%d counters, %d copies: %d (%s)", over[i].n, over[i].copies, rc,
          cnet_nft_tx_errmsg(tx));
    /* the message gives the estimate (its exact value is pinned by nft_rule_size_spec; here
     * the estimator may change, the refusal may not) */
    CHECK(estimate > CNET_NFT_LIST_MAX, "estimated %zu bytes", estimate);
    char want[200];
    snprintf(want, sizeof want, "rule too long: the kernel would list it in %zu bytes, more "
             "than the 32000 of one listing message", estimate);
    CHECK(strcmp(cnet_nft_tx_errmsg(tx), want) == 0, "message: %s", cnet_nft_tx_errmsg(tx));
    CHECK(cnet_nft_tx_count(tx) == queued, "%u commands queued, %u before",
          cnet_nft_tx_count(tx), queued);
    CHECK(tx->set_id == set_id, "set ids taken: %u, %u before", tx->set_id, set_id);
    CHECK(tx->alen == arena, "the arena kept %zu bytes of it", tx->alen - arena);
    CHECK(strcmp(before, sh("nft -j list ruleset")) == 0, "the ruleset changed");
    if (i == 0) {
      /* the transaction goes on: a rule with an anonymous set of its own, then the commit
       * sends the chain and that rule, and nothing of the refused one */
      CHECK(cnet_nft_tx_add_rule(tx, NFPROTO_IPV4, "tg", "d", "tcp dport { 443, 8443 } accept",
                                 CNET_NFT_APPEND, 0) == 0, "add_rule: %s",
            cnet_nft_tx_errmsg(tx));
      CHECK(cnet_nft_tx_commit(tx, &failed) == 0, "commit: %s (command %d)",
            cnet_nft_tx_errmsg(tx), failed);
      const char *listing = sh("nft list table ip tg");
      CHECK(strstr(listing, "tcp dport { 443, 8443 } accept") != NULL, "the rule after:\n%s",
            listing);
      CHECK(count(listing, "counter name") == 110, "the refused rule reached the kernel");
      sh("nft flush chain ip tg d && nft delete chain ip tg d");
    }
    cnet_nft_tx_free(tx);
    free(big_rule);
  }
}

int main(void) {
  if (!in_fresh_netns()) {
    fprintf(stderr, "refusing to run outside a fresh network namespace (tests/sandbox.sh)\n");
    return 1;
  }
  struct cnet_netns *ns;
  if (cnet_netns_open_current(&ns) < 0) {
    fprintf(stderr, "cannot open the current namespace\n");
    return 1;
  }
  memset(name, 'n', 255);
  char cmd[1200];
  snprintf(cmd, sizeof cmd, "nft add table ip tg && nft add chain ip tg c && "
           "nft add counter ip tg %1$s && "
           "nft add set ip tg %1$s '{ type ipv4_addr; flags dynamic; }' && "
           "nft add chain ip tg f '{ type filter hook forward priority 0; }' && "
           "nft add chain ip tg pre '{ type nat hook prerouting priority -100; }' && "
           "nft add chain ip tg post '{ type nat hook postrouting priority 100; }' && "
           "echo made", name);
  CHECK(strcmp(sh(cmd), "made\n") == 0, "setup: %s", cmd);
  test_estimate(ns);
  test_largest_listed(ns);
  test_guard(ns);
  sh("nft delete table ip tg");
  cnet_netns_close(ns);
  if (failures) fprintf(stderr, "%d failures\n", failures);
  return failures ? 1 : 0;
}
