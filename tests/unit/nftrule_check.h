/* Checks shared by the nftrule unit tests of single features: a rule compiles to the
 * expressions nft makes (libnftnl's text of them) and lists back as nft lists it, or is
 * refused with a code, column and message. Counts failures in `failures`. */
#ifndef NFTRULE_CHECK_H
#define NFTRULE_CHECK_H

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <linux/netfilter.h>
#include <libnftnl/expr.h>
#include <libnftnl/rule.h>
#include "cnet/nftrule.h"

#include "nftrule_fake.h"

enum { IP = NFPROTO_IPV4, IP6 = NFPROTO_IPV6, INET = NFPROTO_INET, BRIDGE = NFPROTO_BRIDGE,
       NETDEV = NFPROTO_NETDEV };
static int failures;

static int decode(int family, struct nftnl_rule *r, struct cnet_nftrule_out *out, char *buf,
                  size_t size) {
  struct ctx c = {out, 0};
  struct cnet_nftrule_denv denv = {.family = family, .ud = &c, .find_set = find_set,
                                   .ifname = ifname};
  struct cnet_nftrule_err err;
  return cnet_nftrule_decode(r, &denv, buf, size, &err);
}

/* text compiles, its expressions print (libnftnl's text) as `bytecode` (NULL: not checked),
 * and it lists as `want` (NULL: as itself; "*": any text) */
static void ok(int family, const char *text, const char *bytecode, const char *want) {
  struct nftnl_rule *r = nftnl_rule_alloc();
  struct cnet_nftrule_out out;
  struct cnet_nftrule_err err;
  struct cnet_nftrule_env env = {.family = family, .table = "t", .ifindex = ifindex,
                                 .lookup_set = lookup_set};
  char buf[2048], code[2048] = "";
  int rc = cnet_nftrule_compile(text, &env, r, &out, &err);
  if (rc < 0) {
    printf("FAIL compile [%d] %s: %s\n", family, text, err.msg);
    failures++;
    nftnl_rule_free(r);
    return;
  }
  struct nftnl_expr_iter *it = nftnl_expr_iter_create(r);
  for (struct nftnl_expr *e = nftnl_expr_iter_next(it); e; e = nftnl_expr_iter_next(it)) {
    char one[512];
    nftnl_expr_snprintf(one, sizeof one, e, NFTNL_OUTPUT_DEFAULT, 0);
    for (size_t n = strlen(one); n > 0 && one[n - 1] == ' ';) one[--n] = 0;
    snprintf(code + strlen(code), sizeof code - strlen(code), "%s[ %s %s ]",
             code[0] ? " " : "", nftnl_expr_get_str(e, NFTNL_EXPR_NAME), one);
  }
  nftnl_expr_iter_destroy(it);
  if (bytecode && strcmp(code, bytecode) != 0) {
    printf("FAIL bytecode [%d] %s\n  got  %s\n  want %s\n", family, text, code, bytecode);
    failures++;
  }
  rc = decode(family, r, &out, buf, sizeof buf);
  if (rc < 0 || (!(want && strcmp(want, "*") == 0) && strcmp(buf, want ? want : text) != 0)) {
    printf("FAIL listing [%d] %s\n  got  %s (%d)\n  want %s\n", family, text, buf, rc,
           want ? want : text);
    failures++;
  }
  cnet_nftrule_out_free(&out);
  nftnl_rule_free(r);
}

static void bad(int family, const char *text, int want_rc, int want_col, const char *want_msg) {
  struct nftnl_rule *r = nftnl_rule_alloc();
  struct cnet_nftrule_out out;
  struct cnet_nftrule_err err;
  struct cnet_nftrule_env env = {.family = family, .table = "t", .lookup_set = lookup_set};
  int rc = cnet_nftrule_compile(text, &env, r, &out, &err);
  if (rc != want_rc || err.column != want_col || strstr(err.msg, want_msg) == NULL) {
    printf("FAIL error %s\n  got  %d col %d: %s\n  want %d col %d: ...%s\n", text, rc,
           err.column, err.msg, want_rc, want_col, want_msg);
    failures++;
  }
  nftnl_rule_free(r);
}

#endif
