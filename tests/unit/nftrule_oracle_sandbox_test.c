/* The nft oracle, both ways, over tests/nft-corpus.txt (run in a sandbox by ctest):
 *  1. cnet compiles each rule and sends it (libnftnl + the netlink queue, one batch with its
 *     anonymous sets); `nft list chain` must print exactly the corpus's canonical text;
 *  2. `nft` adds the same rule; cnet dumps it from the kernel (rule + anonymous set elements)
 *     and decodes it; the text must equal what `nft list chain` prints.
 * Refuses to run outside a fresh network namespace (it creates nft tables). */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <net/if.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nf_tables.h>
#include <libnftnl/rule.h>
#include <libnftnl/set.h>

#include "cnet/nl.h"
#include "cnet/nftrule.h"

#include "fresh_netns.h"


static int failures;

static const char *famname(int f) {
  return f == NFPROTO_IPV4 ? "ip" : f == NFPROTO_IPV6 ? "ip6" : "inet";
}

/* Runs `nft -f -` with script on its stdin; returns its exit status. */
static int nft_script(const char *script) {
  FILE *p = popen("nft -f - 2>&1", "w");
  if (p == NULL) return -1;
  fputs(script, p);
  return pclose(p);
}

/* `nft list chain` output: the rule lines of the chain, tab-stripped, newline-joined. */
static int nft_rules(int fam, const char *chain, char *out, size_t size) {
  char cmd[128], line[2048];
  snprintf(cmd, sizeof cmd, "nft list chain %s t %s", famname(fam), chain);
  FILE *p = popen(cmd, "r");
  if (p == NULL) return -1;
  out[0] = 0;
  int in = 0;
  while (fgets(line, sizeof line, p)) {
    char *s = line;
    while (*s == '\t' || *s == ' ') s++;
    s[strcspn(s, "\n")] = 0;
    if (strncmp(s, "chain ", 6) == 0) { in = 1; continue; }
    if (!in || strncmp(s, "type ", 5) == 0 || *s == 0) continue;
    if (strcmp(s, "}") == 0) { in = 0; continue; }
    if (out[0]) strncat(out, "\n", size - strlen(out) - 1);
    strncat(out, s, size - strlen(out) - 1);
  }
  return pclose(p);
}

static void put_nfgen(struct nlmsghdr *nlh, int family, uint16_t res_id) {
  struct nfgenmsg *g = mnl_nlmsg_put_extra_header(nlh, sizeof *g);
  g->nfgen_family = (uint8_t)family;
  g->version = NFNETLINK_V0;
  g->res_id = htons(res_id);
}

static uint16_t nft_type(int msg) { return (uint16_t)((NFNL_SUBSYS_NFTABLES << 8) | msg); }

/* ---- the environment a real caller would give ---- */

static int env_ifindex(void *ud, const char *name, uint32_t *idx) {
  (void)ud;
  unsigned i = if_nametoindex(name);
  if (i == 0) return -ENODEV;
  *idx = i;
  return 0;
}
static int env_ifname(void *ud, uint32_t idx, char *name, size_t size) {
  (void)ud;
  char b[IF_NAMESIZE];
  if (if_indextoname(idx, b) == NULL) return -ENODEV;
  snprintf(name, size, "%s", b);
  return 0;
}
static int env_lookup_set(void *ud, const char *name, uint32_t *type, uint32_t *len,
                          uint32_t *flags, uint32_t *id) {
  (void)ud;
  *flags = 0;
  *id = 0;
  if (strcmp(name, "s4") == 0) { *type = 7; *len = 4; return 0; }
  if (strcmp(name, "s6") == 0) { *type = 8; *len = 16; return 0; }
  if (strcmp(name, "sp") == 0) { *type = 13; *len = 2; return 0; }
  if (strcmp(name, "sm") == 0) { *type = 19; *len = 4; return 0; }
  return -ENOENT;
}
static uint32_t set_ids = 100;
static uint32_t env_next_id(void *ud) { (void)ud; return ++set_ids; }

/* ---- direction 1: send a compiled rule ---- */

static int send_rule(struct cnet_nl *nl, int fam, const char *chain, const char *text,
                     char *why, size_t wsize) {
  struct cnet_nftrule_env env = {.family = fam, .table = "t", .next_set_id = env_next_id,
                                 .lookup_set = env_lookup_set, .ifindex = env_ifindex};
  struct cnet_nftrule_out out;
  struct cnet_nftrule_err err;
  struct nftnl_rule *r = nftnl_rule_alloc();
  int rc = cnet_nftrule_compile(text, &env, r, &out, &err);
  if (rc < 0) {
    snprintf(why, wsize, "compile: %s", err.msg);
    nftnl_rule_free(r);
    return rc;
  }
  nftnl_rule_set_str(r, NFTNL_RULE_TABLE, "t");
  nftnl_rule_set_str(r, NFTNL_RULE_CHAIN, chain);
  nftnl_rule_set_u32(r, NFTNL_RULE_FAMILY, (uint32_t)fam);

  struct nlmsghdr *nlh = cnet_nl_msg(nl, NFNL_MSG_BATCH_BEGIN, 0);
  put_nfgen(nlh, AF_UNSPEC, NFNL_SUBSYS_NFTABLES);
  cnet_nl_queue(nl, NULL, NULL);
  for (unsigned i = 0; i < out.nsets; i++) {
    nlh = cnet_nl_msg(nl, nft_type(NFT_MSG_NEWSET), NLM_F_CREATE | NLM_F_ACK);
    put_nfgen(nlh, fam, 0);
    nftnl_set_nlmsg_build_payload(nlh, out.sets[i]);
    cnet_nl_queue(nl, NULL, NULL);
    nlh = cnet_nl_msg(nl, nft_type(NFT_MSG_NEWSETELEM), NLM_F_CREATE | NLM_F_ACK);
    put_nfgen(nlh, fam, 0);
    nftnl_set_elems_nlmsg_build_payload(nlh, out.sets[i]);
    cnet_nl_queue(nl, NULL, NULL);
  }
  nlh = cnet_nl_msg(nl, nft_type(NFT_MSG_NEWRULE), NLM_F_CREATE | NLM_F_APPEND | NLM_F_ACK);
  put_nfgen(nlh, fam, 0);
  nftnl_rule_nlmsg_build_payload(nlh, r);
  cnet_nl_queue(nl, NULL, NULL);
  nlh = cnet_nl_msg(nl, NFNL_MSG_BATCH_END, 0);
  put_nfgen(nlh, AF_UNSPEC, NFNL_SUBSYS_NFTABLES);
  cnet_nl_queue(nl, NULL, NULL);
  rc = cnet_nl_flush(nl, 1);
  if (rc < 0) {
    const char *msg = "";
    int bad = cnet_nl_first_error(nl);
    if (bad >= 0) cnet_nl_result(nl, (unsigned)bad, &msg);
    snprintf(why, wsize, "kernel: %s %s (request %d)", strerror(-rc), msg, bad);
  }
  cnet_nftrule_out_free(&out);
  nftnl_rule_free(r);
  return rc;
}

/* ---- direction 2: dump and decode ---- */

struct dump {
  int fam;
  const char *chain;
  struct nftnl_rule *rule;
  struct nftnl_set *sets[64];
  int nsets;
  struct nftnl_set *cur;
};

static int build_rules(struct cnet_nl *nl, void *data) {
  struct dump *d = data;
  struct nlmsghdr *nlh = cnet_nl_msg(nl, nft_type(NFT_MSG_GETRULE), NLM_F_DUMP);
  put_nfgen(nlh, d->fam, 0);
  struct nftnl_rule *r = nftnl_rule_alloc();
  nftnl_rule_set_str(r, NFTNL_RULE_TABLE, "t");
  nftnl_rule_set_str(r, NFTNL_RULE_CHAIN, d->chain);
  nftnl_rule_nlmsg_build_payload(nlh, r);
  nftnl_rule_free(r);
  return 0;
}
static int take_rule(const struct nlmsghdr *nlh, void *data) {
  struct dump *d = data;
  struct nftnl_rule *r = nftnl_rule_alloc();
  if (nftnl_rule_nlmsg_parse(nlh, r) < 0) { nftnl_rule_free(r); return MNL_CB_OK; }
  if (d->rule) nftnl_rule_free(d->rule);
  d->rule = r;
  return MNL_CB_OK;
}
static int build_sets(struct cnet_nl *nl, void *data) {
  struct dump *d = data;
  struct nlmsghdr *nlh = cnet_nl_msg(nl, nft_type(NFT_MSG_GETSET), NLM_F_DUMP);
  put_nfgen(nlh, d->fam, 0);
  struct nftnl_set *s = nftnl_set_alloc();
  nftnl_set_set_str(s, NFTNL_SET_TABLE, "t");
  nftnl_set_nlmsg_build_payload(nlh, s);
  nftnl_set_free(s);
  return 0;
}
static int take_set(const struct nlmsghdr *nlh, void *data) {
  struct dump *d = data;
  struct nftnl_set *s = nftnl_set_alloc();
  if (nftnl_set_nlmsg_parse(nlh, s) < 0 || d->nsets == 64) { nftnl_set_free(s); return MNL_CB_OK; }
  d->sets[d->nsets++] = s;
  return MNL_CB_OK;
}
static int build_elems(struct cnet_nl *nl, void *data) {
  struct dump *d = data;
  struct nlmsghdr *nlh = cnet_nl_msg(nl, nft_type(NFT_MSG_GETSETELEM), NLM_F_DUMP);
  put_nfgen(nlh, d->fam, 0);
  struct nftnl_set *s = nftnl_set_alloc();
  nftnl_set_set_str(s, NFTNL_SET_TABLE, "t");
  nftnl_set_set_str(s, NFTNL_SET_NAME, nftnl_set_get_str(d->cur, NFTNL_SET_NAME));
  nftnl_set_elems_nlmsg_build_payload(nlh, s);
  nftnl_set_free(s);
  return 0;
}
static int take_elems(const struct nlmsghdr *nlh, void *data) {
  struct dump *d = data;
  nftnl_set_elems_nlmsg_parse(nlh, d->cur);
  return MNL_CB_OK;
}
static const struct nftnl_set *find_set(void *ud, const char *name) {
  struct dump *d = ud;
  for (int i = 0; i < d->nsets; i++)
    if (strcmp(nftnl_set_get_str(d->sets[i], NFTNL_SET_NAME), name) == 0) return d->sets[i];
  return NULL;
}

static int dump_decode(struct cnet_nl *nl, int fam, const char *chain, char *buf, size_t size,
                       char *why, size_t wsize) {
  struct dump d = {.fam = fam, .chain = chain};
  char em[CNET_ERRMSG_MAX];
  int rc = cnet_nl_dump(nl, build_rules, take_rule, NULL, &d, em);
  if (rc == 0) rc = cnet_nl_dump(nl, build_sets, take_set, NULL, &d, em);
  for (int i = 0; rc == 0 && i < d.nsets; i++) {
    if (!(nftnl_set_get_u32(d.sets[i], NFTNL_SET_FLAGS) & NFT_SET_ANONYMOUS)) continue;
    d.cur = d.sets[i];
    rc = cnet_nl_dump(nl, build_elems, take_elems, NULL, &d, em);
  }
  if (rc < 0) snprintf(why, wsize, "dump: %s %s", strerror(-rc), em);
  else if (d.rule == NULL) { snprintf(why, wsize, "dump: no rule"); rc = -ENOENT; }
  else {
    struct cnet_nftrule_denv env = {.family = fam, .ud = &d, .find_set = find_set,
                                    .ifname = env_ifname};
    struct cnet_nftrule_err err;
    rc = cnet_nftrule_decode(d.rule, &env, buf, size, &err);
    if (rc < 0) snprintf(why, wsize, "decode: %s", err.msg);
  }
  if (d.rule) nftnl_rule_free(d.rule);
  for (int i = 0; i < d.nsets; i++) nftnl_set_free(d.sets[i]);
  return rc < 0 ? rc : 0;
}

int main(int argc, char **argv) {
  char corpus[4096];
  if (argc > 1) snprintf(corpus, sizeof corpus, "%s", argv[1]);
  else {  /* tests/unit/<this file> -> tests/nft-corpus.txt */
    snprintf(corpus, sizeof corpus, "%s", __FILE__);
    char *slash = strrchr(corpus, '/');
    if (slash) *slash = 0;
    slash = strrchr(corpus, '/');
    if (slash) *slash = 0;
    else snprintf(corpus, sizeof corpus, "..");
    strncat(corpus, "/nft-corpus.txt", sizeof corpus - strlen(corpus) - 1);
  }
  if (!in_fresh_netns()) {
    fprintf(stderr, "refusing to run: this network namespace has interfaces besides lo "
                    "(run through tests/sandbox.sh)\n");
    return 1;
  }
  FILE *f = fopen(corpus, "r");
  if (f == NULL) { perror(corpus); return 1; }
  const char *setup =
      "table %s t {\n set s4 { type ipv4_addr; }\n set s6 { type ipv6_addr; }\n"
      " set sp { type inet_service; }\n set sm { type mark; }\n chain other { }\n"
      " chain c { type filter hook forward priority 0; }\n"
      " chain n { type nat hook postrouting priority 100; }\n"
      " chain pre { type nat hook prerouting priority -100; }\n}\n";
  char script[4096];
  for (int fam = 0; fam < 3; fam++) {
    snprintf(script, sizeof script, setup, famname(fam == 0 ? NFPROTO_IPV4 : fam == 1 ? NFPROTO_IPV6 : NFPROTO_INET));
    if (nft_script(script) != 0) { fprintf(stderr, "cannot create the tables with nft\n"); return 1; }
  }
  struct cnet_nl *nl;
  int rc = cnet_nl_open(NETLINK_NETFILTER, &nl);
  if (rc < 0) { fprintf(stderr, "nl open: %s\n", strerror(-rc)); return 1; }

  char line[2048], listed[4096], decoded[2048], why[1024];
  int total = 0, ok1 = 0, ok2 = 0, lineno = 0, nrefuse = 0, okrefuse = 0;
  while (fgets(line, sizeof line, f)) {
    lineno++;
    line[strcspn(line, "\n")] = 0;
    if (line[0] == 0 || line[0] == '#') continue;
    char fs[8], chain[32];
    int n = 0, refuse = line[0] == '!';
    if (sscanf(line + refuse, "%7s %31s %n", fs, chain, &n) != 2) {
      printf("corpus line %d: bad line\n", lineno);
      failures++;
      continue;
    }
    int fam = strcmp(fs, "ip") == 0 ? NFPROTO_IPV4 : strcmp(fs, "ip6") == 0 ? NFPROTO_IPV6 : NFPROTO_INET;
    char text[1024], canon[1024];
    snprintf(text, sizeof text, "%s", line + refuse + n);
    if (refuse) {  /* outside the subset: cnet must refuse both ways, never guess */
      nrefuse++;
      struct cnet_nftrule_env env = {.family = fam, .table = "t", .lookup_set = env_lookup_set,
                                     .ifindex = env_ifindex};
      struct cnet_nftrule_out out;
      struct cnet_nftrule_err err;
      struct nftnl_rule *r = nftnl_rule_alloc();
      rc = cnet_nftrule_compile(text, &env, r, &out, &err);
      nftnl_rule_free(r);
      cnet_nftrule_out_free(&out);
      snprintf(script, sizeof script, "flush chain %s t %s\nadd rule %s t %s %s\n", fs, chain,
               fs, chain, text);
      if (rc != -EOPNOTSUPP) {
        printf("line %d [refuse] %s: compile gave %d (%s), want EOPNOTSUPP\n", lineno, text, rc, err.msg);
      } else if (nft_script(script) != 0) {
        printf("line %d [refuse] %s: nft refused it too\n", lineno, text);
      } else if ((rc = dump_decode(nl, fam, chain, decoded, sizeof decoded, why, sizeof why)) != -EOPNOTSUPP) {
        printf("line %d [refuse] %s: decode gave %d \"%s\", want EOPNOTSUPP\n", lineno, text, rc, decoded);
      } else {
        okrefuse++;
      }
      continue;
    }
    char *arrow = strstr(text, " => ");
    if (arrow) { *arrow = 0; snprintf(canon, sizeof canon, "%s", arrow + 4); }
    else snprintf(canon, sizeof canon, "%s", text);
    total++;

    /* 1: cnet -> kernel -> nft */
    snprintf(script, sizeof script, "flush chain %s t %s\n", fs, chain);
    nft_script(script);
    if (send_rule(nl, fam, chain, text, why, sizeof why) < 0) {
      printf("line %d [1] %s %s: %s: %s\n", lineno, fs, chain, text, why);
    } else if (nft_rules(fam, chain, listed, sizeof listed) != 0 || strcmp(listed, canon) != 0) {
      printf("line %d [1] %s %s: %s\n   nft prints: %s\n   cnet's text: %s\n", lineno, fs,
             chain, text, listed, canon);
    } else {
      ok1++;
    }

    /* 2: nft -> kernel -> cnet */
    snprintf(script, sizeof script, "flush chain %s t %s\nadd rule %s t %s %s\n", fs, chain, fs,
             chain, text);
    if (nft_script(script) != 0) {
      printf("line %d [2] %s %s: %s: nft refused it\n", lineno, fs, chain, text);
      continue;
    }
    nft_rules(fam, chain, listed, sizeof listed);
    if (dump_decode(nl, fam, chain, decoded, sizeof decoded, why, sizeof why) < 0)
      printf("line %d [2] %s %s: %s: %s\n", lineno, fs, chain, text, why);
    else if (strcmp(decoded, listed) != 0)
      printf("line %d [2] %s %s: %s\n   nft prints:   %s\n   cnet decodes: %s\n", lineno, fs,
             chain, text, listed, decoded);
    else
      ok2++;
  }
  fclose(f);
  cnet_nl_close(nl);
  for (int fam = 0; fam < 3; fam++) {
    snprintf(script, sizeof script, "delete table %s t\n",
             famname(fam == 0 ? NFPROTO_IPV4 : fam == 1 ? NFPROTO_IPV6 : NFPROTO_INET));
    nft_script(script);
  }
  printf("nft oracle over %d rules: cnet->nft %d/%d match, nft->cnet %d/%d match; "
         "%d/%d rules outside the subset refused both ways\n", total, ok1, total, ok2, total,
         okrefuse, nrefuse);
  if (total < 60) { printf("corpus too small (%d < 60)\n", total); return 1; }
  return (ok1 == total && ok2 == total && okrefuse == nrefuse && failures == 0) ? 0 : 1;
}
