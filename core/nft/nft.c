/* nftables names: families, hooks, standard priorities, object references; the request header.
 * See include/cnet/nft.h. */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nfnetlink.h>

#include "nft/nft_int.h"

static const struct { const char *name; int family; } families[] = {
  {"ip", NFPROTO_IPV4},     {"ip6", NFPROTO_IPV6},       {"inet", NFPROTO_INET},
  {"arp", NFPROTO_ARP},     {"bridge", NFPROTO_BRIDGE},  {"netdev", NFPROTO_NETDEV},
};

int cnet_nft_family(const char *name) {
  for (size_t i = 0; i < sizeof families / sizeof families[0]; i++)
    if (strcmp(families[i].name, name) == 0) return families[i].family;
  return -EAFNOSUPPORT;
}

const char *cnet_nft_family_name(int family) {
  for (size_t i = 0; i < sizeof families / sizeof families[0]; i++)
    if (families[i].family == family) return families[i].name;
  return "unknown";
}

/* Hooks each family offers; netdev numbers its hooks on its own (NF_NETDEV_*). */
static const char *const inet_hooks[] = {"prerouting", "input", "forward", "output",
                                         "postrouting", "ingress"};
static const char *const arp_hooks[] = {"input", "output"};
static const char *const netdev_hooks[] = {"ingress", "egress"};

static const char *const *hooks_of(int family, unsigned *n) {
  switch (family) {
  case NFPROTO_IPV4: case NFPROTO_IPV6: case NFPROTO_BRIDGE:
    *n = 5; return inet_hooks;
  case NFPROTO_INET:
    *n = 6; return inet_hooks; /* inet ingress: NF_INET_INGRESS (Linux 5.10) */
  case NFPROTO_ARP:
    *n = 2; return arp_hooks;
  case NFPROTO_NETDEV:
    *n = 2; return netdev_hooks;
  default:
    *n = 0; return NULL;
  }
}

int cnet_nft_hook(int family, const char *name, uint32_t *hooknum) {
  unsigned n;
  const char *const *h = hooks_of(family, &n);
  for (unsigned i = 0; i < n; i++) {
    if (strcmp(h[i], name) == 0) {
      /* ARP's hooks are NF_ARP_IN 0 and NF_ARP_OUT 1 */
      *hooknum = i;
      return 0;
    }
  }
  return -EINVAL;
}

const char *cnet_nft_hook_name(int family, uint32_t hooknum) {
  unsigned n;
  const char *const *h = hooks_of(family, &n);
  return hooknum < n ? h[hooknum] : "unknown";
}

/* The standard priorities, as nft defines them per family. */
struct prio { const char *name; int32_t value; };
static const struct prio ip_prios[] = {
  {"raw", -300}, {"mangle", -150}, {"dstnat", -100}, {"filter", 0}, {"security", 50},
  {"srcnat", 100}, {NULL, 0}};
static const struct prio bridge_prios[] = {
  {"dstnat", -300}, {"filter", -200}, {"out", 100}, {"srcnat", 300}, {NULL, 0}};
static const struct prio other_prios[] = {{"filter", 0}, {NULL, 0}};

static int parse_int(const char *s, long lo, long hi, long *out) {
  char *end;
  errno = 0;
  long v = strtol(s, &end, 10);
  while (isspace((unsigned char)*end)) end++;
  if (end == s || *end != '\0' || errno != 0 || v < lo || v > hi) return -EINVAL;
  *out = v;
  return 0;
}

int cnet_nft_priority(int family, const char *text, int32_t *prio) {
  while (isspace((unsigned char)*text)) text++;
  long v;
  if (parse_int(text, INT32_MIN, INT32_MAX, &v) == 0) {
    *prio = (int32_t)v;
    return 0;
  }
  const struct prio *table = family == NFPROTO_BRIDGE ? bridge_prios
                           : (family == NFPROTO_IPV4 || family == NFPROTO_IPV6 ||
                              family == NFPROTO_INET) ? ip_prios : other_prios;
  size_t n = 0;
  while (isalpha((unsigned char)text[n])) n++;
  for (const struct prio *p = table; p->name != NULL; p++) {
    if (strlen(p->name) != n || strncmp(p->name, text, n) != 0) continue;
    const char *rest = text + n;
    while (isspace((unsigned char)*rest)) rest++;
    long off = 0;
    if (*rest == '+' || *rest == '-') {
      if (parse_int(rest + 1, 0, INT32_MAX, &off) < 0) return -EINVAL;
      if (*rest == '-') off = -off;
    } else if (*rest != '\0') {
      return -EINVAL;
    }
    long total = p->value + off;
    if (total < INT32_MIN || total > INT32_MAX) return -EINVAL;
    *prio = (int32_t)total;
    return 0;
  }
  return -EINVAL;
}

/* Copies the next blank-separated word of *s into buf (size bytes); 0, -EINVAL when there is
 * none, -ENAMETOOLONG. */
static int next_word(const char **s, char *buf, size_t size) {
  const char *p = *s;
  while (isspace((unsigned char)*p)) p++;
  size_t n = 0;
  while (p[n] != '\0' && !isspace((unsigned char)p[n])) n++;
  if (n == 0) return -EINVAL;
  if (n >= size) return -ENAMETOOLONG;
  memcpy(buf, p, n);
  buf[n] = '\0';
  *s = p + n;
  return 0;
}

int cnet_nft_parse_ref(const char *ref, int want_name, int *family, char *table, char *name) {
  char words[3][CNET_NFT_NAMELEN];
  int n = 0, rc = 0;
  const char *p = ref;
  while (n < 3 && (rc = next_word(&p, words[n], sizeof words[n])) == 0) n++;
  if (rc == -ENAMETOOLONG) return rc;
  while (isspace((unsigned char)*p)) p++;
  if (*p != '\0' || n == 0) return -EINVAL; /* none, or more than three words */
  /* The family is optional; the first word is one when it names a family, or when the
   * count says it must be (then an unknown name is an unknown family). */
  int f = cnet_nft_family(words[0]);
  int fam_word = n == 3 || (n == 2 && (f >= 0 || want_name == 0));
  if (fam_word && f < 0) return f;
  if (n == 1 && f >= 0) return -EINVAL; /* a family alone names no table (nft refuses it too) */
  *family = fam_word ? f : NFPROTO_IPV4;
  int rest = n - fam_word;
  if (rest < 1 || (rest == 1 && want_name == 1) || (rest == 2 && want_name == 0)) return -EINVAL;
  strcpy(table, words[fam_word]);
  if (name != NULL) {
    if (rest == 2) strcpy(name, words[fam_word + 1]);
    else name[0] = '\0';
  }
  return 0;
}

struct nlmsghdr *cnet_nft_msg(struct cnet_nl *nl, uint16_t type, int family, uint16_t flags) {
  struct nlmsghdr *nlh = cnet_nl_msg(nl, (NFNL_SUBSYS_NFTABLES << 8) | type, flags);
  if (nlh == NULL) return NULL;
  struct nfgenmsg *g = mnl_nlmsg_put_extra_header(nlh, sizeof *g);
  g->nfgen_family = (uint8_t)family;
  g->version = NFNETLINK_V0;
  g->res_id = 0;
  return nlh;
}
