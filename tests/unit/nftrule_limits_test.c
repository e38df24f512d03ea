/* The compiler's limits and nft's refusals, without a kernel: statements after a terminal one,
 * the kernel's 128 expressions per rule, rules of any length (refused, never overflowing),
 * anonymous sets of any size (decoded whole, never cut). Run under ASan by ctest as well. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/netfilter.h>
#include <libnftnl/expr.h>
#include <libnftnl/rule.h>
#include <libnftnl/set.h>
#include "cnet/nftrule.h"

#include "nftrule_fake.h"

static int failures;

/* Compiles text; returns rc, err filled; *nexpr gets the expression count. */
static int compile(int family, const char *text, struct cnet_nftrule_err *err, int *nexpr,
                   struct nftnl_rule **keep, struct cnet_nftrule_out *out) {
  struct nftnl_rule *r = nftnl_rule_alloc();
  struct cnet_nftrule_out o;
  struct cnet_nftrule_env env = {.family = family, .table = "t", .ifindex = ifindex,
                                 .lookup_set = lookup_set};
  int rc = cnet_nftrule_compile(text, &env, r, &o, err);
  *nexpr = 0;
  struct nftnl_expr_iter *it = nftnl_expr_iter_create(r);
  while (nftnl_expr_iter_next(it) != NULL) ++*nexpr;
  nftnl_expr_iter_destroy(it);
  if (rc < 0 && (o.nsets != 0 || o.sets != NULL)) {
    printf("FAIL [%.60s] left sets behind\n", text);
    failures++;
  }
  if (keep != NULL && rc == 0) {
    *keep = r;
    *out = o;
    return rc;
  }
  cnet_nftrule_out_free(&o);
  nftnl_rule_free(r);
  return rc;
}

static void good(int family, const char *text) {
  struct cnet_nftrule_err err;
  int n;
  int rc = compile(family, text, &err, &n, NULL, NULL);
  if (rc < 0) {
    printf("FAIL [%.60s] refused: %s\n", text, err.msg);
    failures++;
  }
}

/* text is refused with want_rc at column want_col, the message containing want */
static void refused(int family, const char *text, int want_rc, int want_col, const char *want) {
  struct cnet_nftrule_err err;
  int n;
  int rc = compile(family, text, &err, &n, NULL, NULL);
  if (rc != want_rc || err.column != want_col || strstr(err.msg, want) == NULL) {
    printf("FAIL [%.60s]\n  got  %d col %d: %s\n  want %d col %d: ...%s...\n", text, rc,
           err.column, err.msg, want_rc, want_col, want);
    failures++;
  }
  if (strlen(err.msg) >= CNET_NFTRULE_ERRMAX) {
    printf("FAIL [%.60s]: message not terminated\n", text);
    failures++;
  }
}

static char *repeat(const char *word, size_t times) {
  size_t n = strlen(word);
  char *s = malloc(n * times + 1);
  for (size_t i = 0; i < times; i++) memcpy(s + i * n, word, n);
  s[n * times] = 0;
  return s;
}

/* "tcp dport { 0, 1, ... }" of n ports (with duplicates beyond 65536); compiles, and the
 * decoder lists every distinct port, in full. */
static void big_set(unsigned n, int interval) {
  size_t cap = 32 + (size_t)n * 14, len = 0;
  char *text = malloc(cap);
  len += (size_t)snprintf(text, cap, "tcp dport { ");
  for (unsigned i = 0; i < n; i++) {
    unsigned p = i % 65536, q = (3 * i) % 65535; /* ranges q-q+1: never adjacent */
    if (interval) len += (size_t)snprintf(text + len, cap - len, "%s%u-%u", i ? ", " : "", q, q + 1);
    else len += (size_t)snprintf(text + len, cap - len, "%s%u", i ? ", " : "", p);
  }
  snprintf(text + len, cap - len, " } accept");
  struct cnet_nftrule_err err;
  struct nftnl_rule *r = NULL;
  struct cnet_nftrule_out out;
  int ne;
  int rc = compile(NFPROTO_IPV4, text, &err, &ne, &r, &out);
  if (rc < 0) {
    printf("FAIL big set of %u: %s\n", n, err.msg);
    failures++;
    free(text);
    return;
  }
  struct ctx c = {&out, 0};
  struct cnet_nftrule_denv denv = {.family = NFPROTO_IPV4, .ud = &c, .find_set = find_set,
                                   .ifname = ifname};
  size_t size = 1 << 20;
  char *buf = malloc(size);
  int drc = cnet_nftrule_decode(r, &denv, buf, size, &err);
  unsigned distinct = interval ? (n < 21845 ? n : 21845) : n < 65536 ? n : 65536;
  unsigned commas = 0;
  for (const char *p = buf; drc >= 0 && *p; p++) commas += *p == ',';
  if (drc < 0 || strstr(buf, " } accept") == NULL || commas + 1 != distinct ||
      (interval && strstr(buf, ", 65532-65533 }") == NULL)) {
    printf("FAIL big set of %u (interval %d): decode %d, %u elements listed, text ...%s\n", n,
           interval, drc, commas + 1, drc >= 0 ? buf + (strlen(buf) > 40 ? strlen(buf) - 40 : 0) : err.msg);
    failures++;
  }
  free(buf);
  cnet_nftrule_out_free(&out);
  nftnl_rule_free(r);
  free(text);
}

int main(void) {
  const int IP = NFPROTO_IPV4, INET = NFPROTO_INET;
  /* nft: "Statement after terminal statement has no effect" */
  refused(IP, "accept accept", -EINVAL, 8,
          "column 8: \"accept\" after terminal statement \"accept\" has no effect");
  refused(IP, "masquerade counter accept", -EINVAL, 12,
          "\"counter\" after terminal statement \"masquerade\" has no effect");
  refused(IP, "drop counter", -EINVAL, 6, "\"counter\" after terminal statement \"drop\"");
  refused(IP, "jump other accept", -EINVAL, 12, "after terminal statement \"jump\"");
  refused(IP, "counter accept tcp dport 22", -EINVAL, 16, "\"tcp\" after terminal statement");
  refused(IP, "reject counter", -EINVAL, 8, "after terminal statement \"reject\"");
  refused(IP, "return log", -EINVAL, 8, "after terminal statement \"return\"");
  refused(IP, "tcp dport 80 dnat to 10.0.0.2 counter", -EINVAL, 31, "after terminal statement \"dnat\"");
  refused(IP, "redirect drop", -EINVAL, 10, "after terminal statement \"redirect\"");
  refused(INET, "goto x drop", -EINVAL, 8, "after terminal statement \"goto\"");
  /* a syntax error in what follows is reported as such, as nft parses before it evaluates */
  refused(IP, "accept please", -EINVAL, 8, "unknown keyword \"please\"");
  /* found by tests/unit/nft_fuzz_sandbox_test.c: it compiled, and listed as "icmp type
   * echo-request udp sport 2048/8 reject"; nft: "conflicting protocols specified" */
  refused(IP, "icmp type echo-request ip protocol udp icmp type echo-request reject", -EINVAL,
          40, "conflicting");
  refused(IP, "icmp type { 0, 8, 11 } ip protocol udp udp dport 53861 counter", -EINVAL, 40,
          "conflicting");
  refused(IP, "udp dport @sp meta l4proto tcp tcp sport 33179", -EINVAL, 32, "conflicting");
  refused(IP, "meta l4proto udp meta l4proto tcp tcp sport 1", -EINVAL, 35, "conflicting");
  refused(IP, "ip protocol udp tcp dport 22", -EINVAL, 17, "conflicting");
  good(IP, "icmp type echo-request ip protocol udp");
  good(IP, "tcp dport 22 meta l4proto udp");
  good(IP, "tcp dport 22 ip protocol tcp tcp sport 1");
  good(IP, "meta l4proto tcp tcp dport 22");
  good(IP, "accept comment \"kept\"");
  good(IP, "log counter accept");
  good(IP, "counter meta mark set 0x1 accept");

  /* the kernel's 128 expressions per rule (NFT_RULE_MAXEXPRS) */
  char *s = repeat("counter ", 128);
  good(IP, s);
  free(s);
  s = repeat("counter ", 129);
  refused(IP, s, -EINVAL, 1025, "more than 128 expressions");
  free(s);
  /* the reports that found the overflows: a long rule, and 1 MiB of counters */
  s = repeat("accept ", 1365);
  refused(IP, s, -EINVAL, 8, "after terminal statement \"accept\"");
  free(s);
  s = repeat("counter ", 131072);
  refused(IP, s, -EINVAL, 1025, "more than 128 expressions");
  free(s);
  s = repeat("ip saddr 10.0.0.1 ", 70); /* 2 expressions each */
  refused(IP, s, -EINVAL, 1153, "more than 128 expressions"); /* at the 65th match */
  free(s);
  /* one word of 1 MiB, and deep braces */
  s = repeat("x", 1 << 20);
  refused(IP, s, -EINVAL, 1, "unknown keyword");
  free(s);
  s = repeat("{ ", 100000);
  refused(IP, s, -EINVAL, 1, "unexpected \"{\"");
  free(s);
  char *t = repeat("{ ", 100000);
  size_t n = strlen(t);
  s = malloc(n + 16);
  snprintf(s, n + 16, "tcp dport %s", t);
  refused(IP, s, -EINVAL, 13, "expected a value");
  free(s);
  free(t);

  /* anonymous sets: the report's 70000 ports with duplicates, and past 8182 elements */
  big_set(8200, 0);
  big_set(70000, 0);
  big_set(70000, 1);

  if (failures) printf("%d failure(s)\n", failures);
  else printf("nftrule limits: all passed\n");
  return failures ? 1 : 0;
}
