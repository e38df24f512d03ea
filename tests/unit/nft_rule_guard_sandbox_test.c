/* The serializer's own size guard (core/nft/nft_tx.c, RULE_MAX): a rule whose expressions take
 * more than 60 KiB of the netlink message is refused when it is added, with a clear error,
 * and leaves the transaction as it was: nothing of it (not its anonymous sets) is sent.
 *
 * No rule text reaches the guard today. The compiler stops at the kernel's 128 expressions,
 * and the largest expression it writes is about 290 bytes (a named counter, quota or set with
 * a 255-byte name), so the largest rule takes about 37 KiB (test_largest_rule). To
 * reach the guard, this program compiles nft_tx.c itself with the compiler's entry swapped for
 * one that compiles the text twice into the rule, as a compiler with a higher limit would.
 * (cnet_core's own nft_tx.o is then never linked: this file defines all its symbols.)
 *
 * Runs in a sandbox (ctest: tests/sandbox.sh); the independent view is the nft command. */
#define _GNU_SOURCE /* as nft_tx.c asks, before any header */
#include "cnet/nftrule.h" /* before the swap: its declaration keeps the real name */

static int copies = 1;
static int compile_copies(const char *text, const struct cnet_nftrule_env *env,
                          struct nftnl_rule *r, struct cnet_nftrule_out *out,
                          struct cnet_nftrule_err *err);
#define cnet_nftrule_compile compile_copies
#include "nft/nft_tx.c"
#undef cnet_nftrule_compile

#include "check.h"
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

/* The output of a shell command (first 1 MiB): nft's own view. */
static const char *sh(const char *cmd) {
  static char out[1 << 20];
  out[0] = '\0';
  FILE *p = popen(cmd, "r");
  if (p == NULL) return out;
  size_t n = fread(out, 1, sizeof out - 1, p);
  out[n] = '\0';
  pclose(p);
  return out;
}

static size_t count(const char *hay, const char *needle) {
  size_t n = 0;
  for (const char *p = hay; (p = strstr(p, needle)) != NULL; p += strlen(needle)) n++;
  return n;
}

static char name[256];  /* a counter's name of 255 bytes, the most nft allows */

/* An anonymous set ("tcp dport { 22, 80 }": 4 expressions), then n named counters (one
 * expression of about 290 bytes each). Malloc'd. */
static char *rule_of(int n) {
  const char *head = "tcp dport { 22, 80 }";
  char *rule = malloc(strlen(head) + (size_t)n * (strlen(" counter name ") + 255) + 1);
  char *p = rule + sprintf(rule, "%s", head);
  for (int i = 0; i < n; i++) p += sprintf(p, " counter name %s", name);
  return rule;
}

/* The largest rule the compiler writes is taken: the guard is far above it. (Not committed:
 * the kernel would take it, but a rule over 32 KiB no longer fits the kernel's dump message,
 * so neither nft nor cnet could list it back.) */
static void test_largest_rule(struct cnet_netns *ns) {
  struct cnet_nft_tx *tx;
  char *big_rule = rule_of(124); /* 128 expressions */
  copies = 1;
  CHECK(cnet_nft_tx_new(ns, &tx) == 0, "tx_new");
  CHECK(cnet_nft_tx_add_rule(tx, NFPROTO_IPV4, "tg", "c", big_rule, CNET_NFT_APPEND, 0) == 0,
        "the largest rule: %s", cnet_nft_tx_errmsg(tx));
  CHECK(cnet_nft_tx_count(tx) == 1, "%u commands", cnet_nft_tx_count(tx));
  CHECK(tx->alen > 34 * 1024 && tx->alen < RULE_MAX, "its attributes take %zu bytes", tx->alen);
  cnet_nft_tx_free(tx);
  free(big_rule);
}

/* Past the guard: refused when added, the transaction left as it was, nothing sent for it.
 * Twice 110 counters take about 63 KiB: over RULE_MAX, still under the 64 KiB of a message
 * and of the 16-bit attribute length, so only the guard can see it. */
static void test_guard(struct cnet_netns *ns) {
  struct cnet_nft_tx *tx;
  char *big_rule = rule_of(110);
  CHECK(cnet_nft_tx_new(ns, &tx) == 0, "tx_new");
  copies = 1;
  CHECK(cnet_nft_tx_add_rule(tx, NFPROTO_IPV4, "tg", "c", big_rule, CNET_NFT_APPEND, 0) == 0,
        "one copy: %s", cnet_nft_tx_errmsg(tx));
  CHECK(2 * tx->alen > RULE_MAX + 1024 && 2 * tx->alen < UINT16_MAX - 1024,
        "one copy takes %zu bytes: two are not between the guard and 64 KiB", tx->alen);
  cnet_nft_tx_free(tx);
  int failed = 0;
  char before[4096];
  snprintf(before, sizeof before, "%s", sh("nft -j list ruleset"));
  CHECK(cnet_nft_tx_new(ns, &tx) == 0, "tx_new");
  CHECK(cnet_nft_tx_add_chain(tx, NFPROTO_IPV4, "tg", "d", NULL) == 0, "add_chain");
  unsigned queued = cnet_nft_tx_count(tx);
  uint32_t set_id = tx->set_id;
  size_t arena = tx->alen;
  copies = 2;
  int rc = cnet_nft_tx_add_rule(tx, NFPROTO_IPV4, "tg", "c", big_rule, CNET_NFT_APPEND, 0);
  copies = 1;
  CHECK(rc == -EMSGSIZE, "a rule of 228 expressions: %d (%s)", rc, cnet_nft_tx_errmsg(tx));
  CHECK(strcmp(cnet_nft_tx_errmsg(tx), "rule too long: its expressions take more than 61440 "
               "bytes of the netlink message") == 0, "message: %s", cnet_nft_tx_errmsg(tx));
  CHECK(cnet_nft_tx_count(tx) == queued, "%u commands queued, %u before",
        cnet_nft_tx_count(tx), queued);
  CHECK(tx->set_id == set_id, "set ids taken: %u, %u before", tx->set_id, set_id);
  CHECK(tx->alen == arena, "the arena kept %zu bytes of it", tx->alen - arena);
  CHECK(strcmp(before, sh("nft -j list ruleset")) == 0, "the ruleset changed");
  /* the transaction goes on: a rule with an anonymous set of its own, then the commit sends
   * the chain and that rule, and nothing of the refused one */
  CHECK(cnet_nft_tx_add_rule(tx, NFPROTO_IPV4, "tg", "c", "tcp dport { 443, 8443 } accept",
                             CNET_NFT_APPEND, 0) == 0, "add_rule: %s", cnet_nft_tx_errmsg(tx));
  CHECK(cnet_nft_tx_commit(tx, &failed) == 0, "commit: %s (command %d)",
        cnet_nft_tx_errmsg(tx), failed);
  cnet_nft_tx_free(tx);
  const char *listing = sh("nft list table ip tg");
  CHECK(strstr(listing, "chain d {") != NULL, "the chain added before:\n%s", listing);
  CHECK(strstr(listing, "tcp dport { 443, 8443 } accept") != NULL, "the rule after:\n%s", listing);
  CHECK(strstr(listing, "counter name") == NULL && strstr(listing, "{ 22, 80 }") == NULL,
        "the refused rule reached the kernel:\n%.600s", listing);
  CHECK(count(listing, "tcp dport") == 1, "one rule in chain c:\n%.600s", listing);
  free(big_rule);
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
  char cmd[600];
  snprintf(cmd, sizeof cmd, "nft add table ip tg && nft add chain ip tg c && "
           "nft add counter ip tg %s && echo made", name);
  CHECK(strcmp(sh(cmd), "made\n") == 0, "setup: %s", cmd);
  test_largest_rule(ns);
  test_guard(ns);
  sh("nft delete table ip tg");
  cnet_netns_close(ns);
  if (failures) fprintf(stderr, "%d failures\n", failures);
  return failures ? 1 : 0;
}
