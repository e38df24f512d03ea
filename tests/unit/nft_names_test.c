/* Tier 1 (no privileges): nft names (families, hooks, standard priorities, references) and
 * set elements parsed (into libnftnl objects and into netlink attributes) and formatted back. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <linux/netfilter.h>
#include <libmnl/libmnl.h>
#include <libnftnl/common.h>
#include <libnftnl/set.h>

#include "cnet/nft.h"
#include "nft/nft_int.h"

#include "check.h"

static void families(void) {
  CHECK(cnet_nft_family("ip") == NFPROTO_IPV4, "ip");
  CHECK(cnet_nft_family("ip6") == NFPROTO_IPV6, "ip6");
  CHECK(cnet_nft_family("inet") == NFPROTO_INET, "inet");
  CHECK(cnet_nft_family("bridge") == NFPROTO_BRIDGE, "bridge");
  CHECK(cnet_nft_family("netdev") == NFPROTO_NETDEV, "netdev");
  CHECK(cnet_nft_family("arp") == NFPROTO_ARP, "arp");
  CHECK(cnet_nft_family("ipv4") == -EAFNOSUPPORT, "ipv4 is not nft's name");
  CHECK(strcmp(cnet_nft_family_name(NFPROTO_INET), "inet") == 0, "name of inet");
}

static void refs(void) {
  int f;
  char t[CNET_NFT_NAMELEN], n[CNET_NFT_NAMELEN];
  CHECK(cnet_nft_parse_ref("ip cnet forward", 1, &f, t, n) == 0 && f == NFPROTO_IPV4 &&
        !strcmp(t, "cnet") && !strcmp(n, "forward"), "full chain ref");
  CHECK(cnet_nft_parse_ref("  cnet   forward ", 1, &f, t, n) == 0 && f == NFPROTO_IPV4 &&
        !strcmp(t, "cnet") && !strcmp(n, "forward"), "family defaults to ip");
  CHECK(cnet_nft_parse_ref("inet filter", 0, &f, t, NULL) == 0 && f == NFPROTO_INET &&
        !strcmp(t, "filter"), "table ref");
  CHECK(cnet_nft_parse_ref("filter", 0, &f, t, NULL) == 0 && f == NFPROTO_IPV4, "bare table");
  CHECK(cnet_nft_parse_ref("inet filter", 2, &f, t, n) == 0 && f == NFPROTO_INET && n[0] == 0,
        "optional name absent");
  CHECK(cnet_nft_parse_ref("filter input", 2, &f, t, n) == 0 && f == NFPROTO_IPV4 &&
        !strcmp(n, "input"), "optional name present");
  CHECK(cnet_nft_parse_ref("ipx cnet", 0, &f, t, NULL) == -EAFNOSUPPORT, "unknown family");
  CHECK(cnet_nft_parse_ref("ipx cnet fw", 1, &f, t, n) == -EAFNOSUPPORT, "unknown family 3");
  CHECK(cnet_nft_parse_ref("ip cnet", 1, &f, t, n) == -EINVAL, "chain name missing");
  CHECK(cnet_nft_parse_ref("", 0, &f, t, NULL) == -EINVAL, "empty");
  CHECK(cnet_nft_parse_ref("ip a b c", 2, &f, t, n) == -EINVAL, "four words");
  char longname[300];
  memset(longname, 'x', sizeof longname - 1);
  longname[sizeof longname - 1] = 0;
  CHECK(cnet_nft_parse_ref(longname, 0, &f, t, NULL) == -ENAMETOOLONG, "too long");
}

static void hooks_and_prios(void) {
  uint32_t h;
  int32_t p;
  CHECK(cnet_nft_hook(NFPROTO_IPV4, "forward", &h) == 0 && h == 2, "forward");
  CHECK(cnet_nft_hook(NFPROTO_INET, "ingress", &h) == 0 && h == 5, "inet ingress");
  CHECK(cnet_nft_hook(NFPROTO_IPV4, "ingress", &h) == -EINVAL, "ip has no ingress");
  CHECK(cnet_nft_hook(NFPROTO_NETDEV, "egress", &h) == 0 && h == 1, "netdev egress");
  CHECK(cnet_nft_hook(NFPROTO_ARP, "forward", &h) == -EINVAL, "arp forward");
  CHECK(strcmp(cnet_nft_hook_name(NFPROTO_IPV6, 4), "postrouting") == 0, "hook name");
  struct { int fam; const char *text; int32_t want; } ok[] = {
    {NFPROTO_IPV4, "srcnat", 100},  {NFPROTO_IPV4, "dstnat", -100}, {NFPROTO_INET, "filter", 0},
    {NFPROTO_IPV6, "raw", -300},    {NFPROTO_IPV4, "mangle", -150}, {NFPROTO_IPV4, "security", 50},
    {NFPROTO_BRIDGE, "filter", -200}, {NFPROTO_BRIDGE, "srcnat", 300},
    {NFPROTO_BRIDGE, "dstnat", -300}, {NFPROTO_BRIDGE, "out", 100},
    {NFPROTO_IPV4, "filter + 10", 10}, {NFPROTO_IPV4, "srcnat-5", 95}, {NFPROTO_IPV4, "-42", -42},
    {NFPROTO_NETDEV, "filter", 0}};
  for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++)
    CHECK(cnet_nft_priority(ok[i].fam, ok[i].text, &p) == 0 && p == ok[i].want,
          "priority %s: %d", ok[i].text, p);
  const char *bad[] = {"banana", "filter +", "filter * 2", "1x", "99999999999", ""};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
    CHECK(cnet_nft_priority(NFPROTO_IPV4, bad[i], &p) == -EINVAL, "bad priority '%s'", bad[i]);
  CHECK(cnet_nft_priority(NFPROTO_IPV4, "out", &p) == -EINVAL, "out is bridge-only");
  CHECK(cnet_nft_priority(NFPROTO_NETDEV, "srcnat", &p) == -EINVAL, "no srcnat in netdev");
}

/* Adds the element(s) of text to s as libnftnl objects, as listings hold them. */
static int elem_parse(struct nftnl_set *s, uint32_t type, uint32_t len, int interval,
                      const char *text, char *err, size_t errlen) {
  struct cnet_nft_elem e[2];
  int n = cnet_nft_elem_keys(type, len, interval, text, e, err, errlen);
  for (int i = 0; i < n; i++) {
    struct nftnl_set_elem *x = nftnl_set_elem_alloc();
    nftnl_set_elem_set(x, NFTNL_SET_ELEM_KEY, e[i].key, len);
    if (e[i].flags) nftnl_set_elem_set_u32(x, NFTNL_SET_ELEM_FLAGS, e[i].flags);
    nftnl_set_elem_add(s, x);
  }
  return n < 0 ? n : 0;
}

/* Formats the elements of s and compares them with want (joined by ' '). */
static void check_format(const char *what, const char *type, struct nftnl_set *s,
                         const char *want) {
  char **out;
  int n = cnet_nft_elems_format(s, &out);
  char got[512] = "";
  for (int i = 0; i < n; i++) {
    if (i) strcat(got, " ");
    strcat(got, out[i]);
  }
  CHECK(strcmp(got, want) == 0, "%s %s: got '%s', want '%s'", what, type, got, want);
  cnet_nft_elems_free(out, (unsigned)n);
}

/* Parses elems into a set of type and formats them back, both ways elements are made: as
 * libnftnl objects, and as the netlink attributes a transaction sends (read back by
 * libnftnl's own parser from a whole NEWSETELEM message). */
static void roundtrip(const char *type, int interval, const char *const *elems, const char *want) {
  const struct cnet_nft_settype *t = cnet_nft_settype_byname(type);
  struct nftnl_set *s = nftnl_set_alloc();
  nftnl_set_set_u32(s, NFTNL_SET_KEY_TYPE, t->type);
  nftnl_set_set_u32(s, NFTNL_SET_KEY_LEN, t->len);
  nftnl_set_set_u32(s, NFTNL_SET_FLAGS, interval ? NFT_SET_INTERVAL : 0);
  char err[128], msg[4096];
  struct nlmsghdr *nlh = nftnl_nlmsg_build_hdr(msg, NFT_MSG_NEWSETELEM, NFPROTO_IPV4, 0, 1);
  mnl_attr_put_strz(nlh, NFTA_SET_ELEM_LIST_TABLE, "t");
  mnl_attr_put_strz(nlh, NFTA_SET_ELEM_LIST_SET, "s");
  struct nlattr *nest = mnl_attr_nest_start(nlh, NFTA_SET_ELEM_LIST_ELEMENTS);
  for (const char *const *e = elems; *e; e++) {
    CHECK(elem_parse(s, t->type, t->len, interval, *e, err, sizeof err) == 0,
          "%s: %s", *e, err);
    struct cnet_nft_elem k[2];
    int nk = cnet_nft_elem_keys(t->type, t->len, interval, *e, k, err, sizeof err);
    CHECK(nk == 1 || nk == 2, "%s: %d keys", *e, nk);
    for (int i = 0; i < nk; i++) {
      size_t w = cnet_nft_elem_put((unsigned char *)nlh + nlh->nlmsg_len, &k[i], t->len);
      CHECK(w <= CNET_NFT_ELEM_MAX && w % 4 == 0, "%s: %zu bytes", *e, w);
      nlh->nlmsg_len += (uint32_t)w;
    }
  }
  mnl_attr_nest_end(nlh, nest);
  check_format("objects", type, s, want);
  nftnl_set_free(s);
  s = nftnl_set_alloc();
  CHECK(nftnl_set_elems_nlmsg_parse(nlh, s) >= 0, "%s: libnftnl cannot read the message", type);
  nftnl_set_set_u32(s, NFTNL_SET_KEY_TYPE, t->type);
  nftnl_set_set_u32(s, NFTNL_SET_KEY_LEN, t->len);
  nftnl_set_set_u32(s, NFTNL_SET_FLAGS, interval ? NFT_SET_INTERVAL : 0);
  check_format("attributes", type, s, want);
  nftnl_set_free(s);
}

static void elements(void) {
  roundtrip("ipv4_addr", 0, (const char *[]){"198.51.100.2", "192.0.2.1", NULL},
            "192.0.2.1 198.51.100.2");
  roundtrip("ipv4_addr", 1, (const char *[]){"10.0.0.0/8", "192.0.2.5-192.0.2.9", "1.2.3.4",
                                             "255.255.255.0/24", NULL},
            "1.2.3.4 10.0.0.0/8 192.0.2.5-192.0.2.9 255.255.255.0/24");
  roundtrip("ipv4_addr", 1, (const char *[]){"10.1.2.3/8", NULL}, "10.0.0.0/8"); /* host bits */
  roundtrip("ipv6_addr", 1, (const char *[]){"2001:db8::/32", "::1", NULL}, "::1 2001:db8::/32");
  roundtrip("inet_service", 1, (const char *[]){"8000-8099", "ssh", "65535", NULL},
            "22 8000-8099 65535");
  roundtrip("inet_service", 0, (const char *[]){"443", "80", NULL}, "80 443");
  roundtrip("inet_proto", 0, (const char *[]){"udp", "6", NULL}, "tcp udp");
  roundtrip("mark", 0, (const char *[]){"0x10", "7", NULL}, "0x00000007 0x00000010");
  roundtrip("ifname", 0, (const char *[]){"eth0", "br0", NULL}, "\"br0\" \"eth0\"");
  roundtrip("ether_addr", 0, (const char *[]){"02:00:00:00:00:0a", NULL}, "02:00:00:00:00:0a");

  const struct cnet_nft_settype *v4 = cnet_nft_settype_byname("ipv4_addr");
  const struct cnet_nft_settype *port = cnet_nft_settype_byname("inet_service");
  struct nftnl_set *s = nftnl_set_alloc();
  char err[128];
  const char *bad4[] = {"1.2.3", "1.2.3.4/33", "10.0.0.9-10.0.0.1", "x", "", NULL};
  for (const char **b = bad4; *b; b++)
    CHECK(elem_parse(s, v4->type, v4->len, 1, *b, err, sizeof err) == -EINVAL, "%s", *b);
  CHECK(elem_parse(s, v4->type, v4->len, 0, "10.0.0.0/8", err, sizeof err) == -EINVAL &&
        strstr(err, "flags interval") != NULL, "prefix in a plain set: %s", err);
  CHECK(elem_parse(s, port->type, port->len, 0, "65536", err, sizeof err) == -EINVAL,
        "port too big");
  CHECK(elem_parse(s, port->type, port->len, 0, "nosuchservice", err, sizeof err) ==
        -EINVAL, "unknown service");
  nftnl_set_free(s);
  CHECK(cnet_nft_settype_byname("ipv5_addr") == NULL, "unknown type");
}

int main(void) {
  families();
  refs();
  hooks_and_prios();
  elements();
  if (failures) printf("%d failures\n", failures);
  else printf("nft names and elements: all checks passed\n");
  return failures != 0;
}
