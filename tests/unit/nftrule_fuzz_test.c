/* Mangled rules (every corpus rule truncated at each byte, with each byte replaced by a few
 * troublesome characters, with each token dropped) must never crash the compiler, must fail
 * with a well-formed error, or compile to expressions the decoder explains and that compile
 * again to the same rule. Run under ASan by ctest as well. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <linux/netfilter.h>
#include <libnftnl/rule.h>
#include <libnftnl/set.h>
#include "cnet/nftrule.h"

static int failures, tried, compiled;

#include "nftrule_fake.h"

/* compile + decode; returns the compile rc, text in buf when 0 */
static int cycle(int fam, const char *text, char *buf, size_t size, int *drc) {
  struct nftnl_rule *r = nftnl_rule_alloc();
  struct cnet_nftrule_out out;
  struct cnet_nftrule_err err;
  struct cnet_nftrule_env env = {.family = fam, .table = "t", .ifindex = ifindex,
                                 .lookup_set = lookup_set};
  int rc = cnet_nftrule_compile(text, &env, r, &out, &err);
  *drc = 0;
  if (rc < 0) {
    int col_ok = err.column >= 0 && (size_t)err.column <= strlen(text) + 1;
    int code_ok = rc == -EINVAL || rc == -EOPNOTSUPP || rc == -ENOENT || rc == -ENODEV;
    if (!col_ok || !code_ok || strncmp(err.msg, "rule \"", 6) != 0 || out.nsets || out.sets) {
      printf("FAIL bad error for [%s]: rc %d col %d msg %s\n", text, rc, err.column, err.msg);
      failures++;
    }
  } else {
    struct ctx c = {&out, 0};
    struct cnet_nftrule_denv denv = {.family = fam, .ud = &c, .find_set = find_set,
                                     .ifname = ifname};
    *drc = cnet_nftrule_decode(r, &denv, buf, size, &err);
    cnet_nftrule_out_free(&out);
  }
  nftnl_rule_free(r);
  return rc;
}

static void check(int fam, const char *text) {
  char a[2048], b[2048], c[2048];
  int drc;
  tried++;
  if (cycle(fam, text, a, sizeof a, &drc) < 0) return;
  compiled++;
  if (drc < 0) {
    printf("FAIL [%s] compiles but does not decode (%d): %s\n", text, drc, a);
    failures++;
    return;
  }
  /* the decoded text compiles again; after at most one more round it is a fixed point */
  if (cycle(fam, a, b, sizeof b, &drc) < 0 || drc < 0) {
    printf("FAIL [%s] decodes to [%s], which does not compile back\n", text, a);
    failures++;
    return;
  }
  if (strcmp(a, b) != 0 && (cycle(fam, b, c, sizeof c, &drc) < 0 || strcmp(b, c) != 0)) {
    printf("FAIL [%s] -> [%s] -> [%s] -> [%s]: no fixed point\n", text, a, b, c);
    failures++;
  }
}

int main(void) {
  char path[4096], line[2048];
  snprintf(path, sizeof path, "%s", __FILE__);
  char *slash = strrchr(path, '/');
  if (slash) *slash = 0;
  slash = strrchr(path, '/');
  if (slash) *slash = 0;
  else snprintf(path, sizeof path, "..");
  strncat(path, "/nftrule-oracle.txt", sizeof path - strlen(path) - 1);
  FILE *f = fopen(path, "r");
  if (f == NULL) { perror(path); return 1; }
  static const char subst[] = " {},\"!-/:.@*|x0[]";
  while (fgets(line, sizeof line, f)) {
    line[strcspn(line, "\n")] = 0;
    if (line[0] == 0 || line[0] == '#') continue;
    int refuse = line[0] == '!', off = 0;
    char fs[8], chain[32], text[1024], m[1024];
    if (sscanf(line + refuse, "%7s %31s %n", fs, chain, &off) != 2) continue;
    int fam = strcmp(fs, "ip") == 0 ? NFPROTO_IPV4 : strcmp(fs, "ip6") == 0 ? NFPROTO_IPV6
                                                                          : NFPROTO_INET;
    snprintf(text, sizeof text, "%s", line + refuse + off);
    char *arrow = strstr(text, " => ");
    if (arrow) *arrow = 0;
    size_t n = strlen(text);
    for (size_t i = 0; i <= n; i++) {          /* truncations */
      snprintf(m, sizeof m, "%.*s", (int)i, text);
      check(fam, m);
    }
    for (size_t i = 0; i < n; i++)             /* substitutions */
      for (const char *s = subst; *s; s++) {
        snprintf(m, sizeof m, "%s", text);
        m[i] = *s;
        check(fam, m);
      }
    for (size_t i = 0; i < n; i++) {           /* drop the word starting at i */
      if (i > 0 && text[i - 1] != ' ') continue;
      size_t j = i;
      while (j < n && text[j] != ' ') j++;
      snprintf(m, sizeof m, "%.*s%s", (int)i, text, text + j);
      check(fam, m);
    }
  }
  fclose(f);
  for (int v = 0; v < 256; v++) {              /* every protocol and icmp type number */
    char m[64];
    snprintf(m, sizeof m, "meta l4proto %d", v);
    check(NFPROTO_IPV4, m);
    snprintf(m, sizeof m, "ip protocol != %d", v);
    check(NFPROTO_INET, m);
    snprintf(m, sizeof m, "icmp type %d", v);
    check(NFPROTO_IPV4, m);
  }
  printf("nftrule fuzz: %d mangled rules, %d compiled, %d failure(s)\n", tried, compiled,
         failures);
  return failures ? 1 : 0;
}
