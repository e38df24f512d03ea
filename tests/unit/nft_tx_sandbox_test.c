/* Transactions against the kernel (run in a sandbox by ctest): the lean rule path (rules
 * serialized as they are added, labels written on demand) and cnet_nft_tx_table_exists, whose
 * read pins the ruleset generation: a change made after it gets the batch refused, and sent
 * again when what was read still holds.
 * Independent view: the `nft` command. Nothing here reaches outside the sandbox. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/netfilter.h>

#include "cnet/nft.h"

#include "check.h"
#include "shell.h"

static void test_table_exists(struct cnet_netns *ns) {
  struct cnet_nft_tx *tx;
  CHECK(cnet_nft_tx_new(ns, &tx) == 0, "tx_new");
  CHECK(cnet_nft_tx_table_exists(tx, NFPROTO_IPV4, "te") == 0, "absent table reads as 0");
  CHECK(cnet_nft_tx_table_exists(tx, NFPROTO_IPV4, "") == -EINVAL, "empty name refused");
  CHECK(cnet_nft_tx_table_exists(tx, 99, "te") == -EAFNOSUPPORT, "bad family refused");
  CHECK(cnet_nft_tx_add_table(tx, NFPROTO_IPV4, "te") == 0, "add_table");
  CHECK(cnet_nft_tx_add_chain(tx, NFPROTO_IPV4, "te", "mine", NULL) == 0, "add_chain");
  /* someone else changes the ruleset after the read, elsewhere: the kernel refuses the batch
   * for its generation, what was read still holds, so commit sends it again */
  sh("nft add table ip other");
  int failed = 0;
  CHECK(cnet_nft_tx_commit(tx, &failed) == 0, "still true read: sent again (%s)",
        cnet_nft_tx_errmsg(tx));
  cnet_nft_tx_free(tx);
  CHECK(strstr(sh("nft list table ip te"), "chain mine") != NULL, "applied");
  sh("nft delete table ip te");

  /* ... but what it read changed (the table it saw missing appeared): refused whole */
  CHECK(cnet_nft_tx_new(ns, &tx) == 0, "tx_new");
  CHECK(cnet_nft_tx_table_exists(tx, NFPROTO_IPV4, "te") == 0, "absent table reads as 0");
  CHECK(cnet_nft_tx_add_table(tx, NFPROTO_IPV4, "te") == 0, "add_table");
  CHECK(cnet_nft_tx_add_chain(tx, NFPROTO_IPV4, "te", "mine", NULL) == 0, "add_chain");
  sh("nft add table ip te");
  CHECK(cnet_nft_tx_commit(tx, &failed) == -ERESTART, "stale read refused");
  CHECK(failed == -1, "failed = %d (the batch as a whole)", failed);
  CHECK(strstr(cnet_nft_tx_errmsg(tx), "changed after this transaction read it") != NULL,
        "message: %s", cnet_nft_tx_errmsg(tx));
  cnet_nft_tx_free(tx);
  CHECK(strstr(sh("nft list table ip te"), "chain mine") == NULL, "nothing applied");
  sh("nft delete table ip te");

  CHECK(cnet_nft_tx_new(ns, &tx) == 0, "tx_new");
  CHECK(cnet_nft_tx_table_exists(tx, NFPROTO_IPV4, "other") == 1, "present table reads as 1");
  CHECK(cnet_nft_tx_add_table(tx, NFPROTO_IPV4, "te") == 0, "add_table");
  CHECK(cnet_nft_tx_commit(tx, &failed) == 0, "unchanged ruleset commits");
  cnet_nft_tx_free(tx);
  CHECK(strstr(sh("nft list tables"), "table ip te") != NULL, "applied");
  sh("nft delete table ip te; nft delete table ip other");
}

static void test_rules(struct cnet_netns *ns) {
  struct cnet_nft_tx *tx;
  struct cnet_nft_chain_spec filter = {"filter", "input", "0", NULL, NULL};
  CHECK(cnet_nft_tx_new(ns, &tx) == 0, "tx_new");
  CHECK(cnet_nft_tx_add_table(tx, NFPROTO_IPV4, "tr") == 0, "add_table");
  CHECK(cnet_nft_tx_add_chain(tx, NFPROTO_IPV4, "tr", "a", &filter) == 0, "add_chain a");
  CHECK(cnet_nft_tx_add_chain(tx, NFPROTO_IPV4, "tr", "b", NULL) == 0, "add_chain b");
  char text[128];
  for (int i = 1; i <= 2000; i++) { /* alternate chains: the reused rule object moves */
    snprintf(text, sizeof text, "ip saddr 10.0.%d.%d %s", i / 256, i % 256,
             i % 3 ? "accept" : "counter drop comment \"c\"");
    CHECK(cnet_nft_tx_add_rule(tx, NFPROTO_IPV4, "tr", i % 2 ? "a" : "b", text,
                               CNET_NFT_APPEND, 0) == 0, "rule %d: %s", i,
          cnet_nft_tx_errmsg(tx));
  }
  /* a refused rule leaves the transaction as it was */
  unsigned n = cnet_nft_tx_count(tx);
  CHECK(cnet_nft_tx_add_rule(tx, NFPROTO_IPV4, "tr", "a", "ip saddr 1.2.3 accept",
                             CNET_NFT_APPEND, 0) == -EINVAL, "bad rule refused");
  CHECK(cnet_nft_tx_count(tx) == n, "count unchanged");
  CHECK(cnet_nft_tx_add_rule(tx, NFPROTO_IPV4, "tr", "a", "iifname x accept",
                             CNET_NFT_INSERT, 999999) == 0, "insert at position");
  const char *label = cnet_nft_tx_label(tx, n);
  CHECK(label && strcmp(label, "insert rule ip tr a position 999999 \"iifname x accept\"") == 0,
        "label %s", label ? label : "(null)");
  label = cnet_nft_tx_label(tx, 3);
  CHECK(label && strcmp(label, "add rule ip tr a \"ip saddr 10.0.0.1 accept\"") == 0,
        "label %s", label ? label : "(null)");
  CHECK(cnet_nft_tx_label(tx, n + 1) == NULL, "no label past the end");
  int failed = 0;
  CHECK(cnet_nft_tx_commit(tx, &failed) == -ENOENT, "position 999999 does not exist");
  CHECK(failed == (int)n, "failed %d, want %u", failed, n);
  cnet_nft_tx_free(tx);
  CHECK(strstr(sh("nft list tables"), "table ip tr") == NULL, "nothing applied");

  CHECK(cnet_nft_tx_new(ns, &tx) == 0, "tx_new");
  CHECK(cnet_nft_tx_add_table(tx, NFPROTO_IPV4, "tr") == 0, "add_table");
  CHECK(cnet_nft_tx_add_chain(tx, NFPROTO_IPV4, "tr", "a", &filter) == 0, "add_chain a");
  CHECK(cnet_nft_tx_add_chain(tx, NFPROTO_IPV4, "tr", "b", NULL) == 0, "add_chain b");
  for (int i = 1; i <= 2000; i++) {
    snprintf(text, sizeof text, "ip saddr 10.0.%d.%d %s", i / 256, i % 256,
             i % 3 ? "accept" : "counter drop comment \"c\"");
    CHECK(cnet_nft_tx_add_rule(tx, NFPROTO_IPV4, "tr", i % 2 ? "a" : "b", text,
                               CNET_NFT_APPEND, 0) == 0, "rule %d", i);
  }
  CHECK(cnet_nft_tx_commit(tx, &failed) == 0, "commit: %s", cnet_nft_tx_errmsg(tx));
  cnet_nft_tx_free(tx);
  /* nft's view, rule by rule: the text each one was given, in order, in its chain */
  const char *a = sh("nft list chain ip tr a");
  const char *p = a;
  int seen = 0;
  for (int i = 1; i <= 2000; i += 2) {
    snprintf(text, sizeof text, "\t\tip saddr 10.0.%d.%d %s\n", i / 256, i % 256,
             i % 3 ? "accept" : "counter packets 0 bytes 0 drop comment \"c\"");
    const char *q = strstr(p, text);
    if (q == NULL) break;
    p = q + strlen(text);
    seen++;
  }
  CHECK(seen == 1000, "chain a holds %d of its 1000 rules in order", seen);
  const char *b = sh("nft list chain ip tr b");
  p = b;
  seen = 0;
  for (int i = 2; i <= 2000; i += 2) {
    snprintf(text, sizeof text, "\t\tip saddr 10.0.%d.%d %s\n", i / 256, i % 256,
             i % 3 ? "accept" : "counter packets 0 bytes 0 drop comment \"c\"");
    const char *q = strstr(p, text);
    if (q == NULL) break;
    p = q + strlen(text);
    seen++;
  }
  CHECK(seen == 1000, "chain b holds %d of its 1000 rules in order", seen);
  sh("nft delete table ip tr");
}

int main(void) {
  struct cnet_netns *ns;
  if (cnet_netns_open_current(&ns) < 0) {
    fprintf(stderr, "cannot open the current namespace\n");
    return 1;
  }
  test_table_exists(ns);
  test_rules(ns);
  cnet_netns_close(ns);
  if (failures) fprintf(stderr, "%d failures\n", failures);
  return failures ? 1 : 0;
}
