/* Traffic-control filters without a kernel: the names (parents, protocols, verdicts, u32
 * handles), u32's match words packed into keys and printed back, and every classifier's
 * options with their actions built and decoded back. The decoders of matchall and flower
 * and of the gact action are only exercised here on a kernel without them: the kernel dumps
 * a filter's options in the layout cnet sends, which is what the round trips check. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <linux/if_ether.h>
#include <linux/pkt_cls.h>
#include <linux/rtnetlink.h>

#include "cnet/tcfilter.h"

#include "check.h"
#include "msgbuf.h"

static void test_names(void) {
  uint32_t p;
  CHECK(cnet_tc_filter_parse_parent("ingress", &p) == 0 && p == 0xfffffff2, "ingress");
  CHECK(cnet_tc_filter_parse_parent("egress", &p) == 0 && p == 0xfffffff3, "egress");
  CHECK(cnet_tc_filter_parse_parent("root", &p) == 0 && p == 0, "root");
  CHECK(cnet_tc_filter_parse_parent("1:10", &p) == 0 && p == 0x10010, "1:10");
  const char *bad[] = {"", "clsact", "none", "1", "1:2:3", "sideways"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
    CHECK(cnet_tc_filter_parse_parent(bad[i], &p) == -EINVAL, "parent %s accepted", bad[i]);
  char name[64];
  uint32_t parents[] = {0, 0xfffffff2, 0xfffffff3, 0x10000, 0x10010};
  for (size_t i = 0; i < sizeof parents / sizeof parents[0]; i++) {
    cnet_tc_filter_format_parent(parents[i], name, sizeof name);
    CHECK(cnet_tc_filter_parse_parent(name, &p) == 0 && p == parents[i], "%s", name);
  }
  uint16_t proto;
  CHECK(cnet_tc_parse_protocol("ip", &proto) == 0 && proto == ETH_P_IP, "ip");
  CHECK(cnet_tc_parse_protocol("802.1q", &proto) == 0 && proto == ETH_P_8021Q, "802.1q");
  CHECK(cnet_tc_parse_protocol("0x88cc", &proto) == 0 && proto == 0x88cc, "0x88cc");
  CHECK(cnet_tc_parse_protocol("2048", &proto) == 0 && proto == ETH_P_IP, "2048");
  CHECK(cnet_tc_parse_protocol("0x10000", &proto) == -EINVAL, "0x10000 accepted");
  CHECK(cnet_tc_parse_protocol("ipx", &proto) == -EINVAL, "ipx accepted");
  CHECK(strcmp(cnet_tc_protocol_name(ETH_P_ALL, name, sizeof name), "all") == 0, "all");
  CHECK(strcmp(cnet_tc_protocol_name(0x1234, name, sizeof name), "0x1234") == 0, "0x1234");
  int v;
  CHECK(cnet_tc_verdict_parse("continue", &v) == 0 && v == TC_ACT_UNSPEC, "continue");
  CHECK(cnet_tc_verdict_parse("shot", &v) == 0 && v == TC_ACT_SHOT, "shot");
  CHECK(cnet_tc_verdict_parse("Pass", &v) == 0 && v == TC_ACT_OK, "Pass");
  CHECK(cnet_tc_verdict_parse("goto", &v) == -EINVAL, "goto accepted");
  CHECK(strcmp(cnet_tc_verdict_name(TC_ACT_OK), "pass") == 0, "pass");
  CHECK(strcmp(cnet_tc_verdict_name(TC_ACT_SHOT), "drop") == 0, "drop");
  static const struct { const char *text; uint32_t h; const char *back; } handles[] = {
      {"800::800", 0x80000800, "800::800"}, {"800:", 0x80000000, "800:"},
      {"1:2:3", 0x00102003, "1:2:3"}, {"0x80000801", 0x80000801, "800::801"}};
  for (size_t i = 0; i < sizeof handles / sizeof handles[0]; i++) {
    uint32_t h;
    CHECK(cnet_tc_u32_parse_handle(handles[i].text, &h) == 0 && h == handles[i].h, "%s",
          handles[i].text);
    cnet_tc_u32_format_handle(handles[i].h, name, sizeof name);
    CHECK(strcmp(name, handles[i].back) == 0, "%s printed %s", handles[i].text, name);
  }
  const char *bad_handles[] = {"800", "1000::", "1:100:", "1:2:1000", "x:", "0x", "1:2:3:4"};
  for (size_t i = 0; i < sizeof bad_handles / sizeof bad_handles[0]; i++) {
    uint32_t h;
    CHECK(cnet_tc_u32_parse_handle(bad_handles[i], &h) == -EINVAL, "u32 handle %s accepted",
          bad_handles[i]);
  }
}

/* The keys one match gives, as "val/mask@off" in host order, space-separated. */
static const char *keys_of(const char *const *matches, size_t n, int *rc, char *err) {
  static char out[512];
  struct cnet_tc_u32_key keys[CNET_TC_U32_MAXKEYS];
  unsigned nkeys = 0;
  *rc = 0;
  for (size_t i = 0; i < n && *rc == 0; i++)
    *rc = cnet_tc_u32_parse_match(matches[i], keys, &nkeys, err);
  out[0] = '\0';
  for (unsigned i = 0; i < nkeys; i++) {
    size_t len = strlen(out);
    snprintf(out + len, sizeof out - len, "%s%08x/%08x@%d%s", i ? " " : "", ntohl(keys[i].val),
             ntohl(keys[i].mask), keys[i].off, keys[i].offmask ? "+" : "");
  }
  return out;
}

static void test_u32_match(void) {
  /* the keys tc packs for the same words (tc filter show prints them) */
  static const struct { const char *match; const char *keys; } cases[] = {
      {"ip dst 192.0.2.1/32", "c0000201/ffffffff@16"},
      {"ip src 198.51.100.0/24", "c6336400/ffffff00@12"},
      {"ip protocol 6 0xff", "00060000/00ff0000@8"},
      {"ip tos 0x10 0xff", "00100000/00ff0000@0"},
      {"ip dport 80 0xffff", "00000050/0000ffff@20"},
      {"ip sport 1024 ffff", "04000000/ffff0000@20"},
      {"ip df", "00004000/00004000@4"},
      {"ip nofrag", "00000000/00003fff@4"},
      {"ip6 dst 2001:db8::/48", "20010db8/ffffffff@24 00000000/ffff0000@28"},
      {"ip6 priority 0x10 0xff", "01000000/0ff00000@0"},
      {"tcp dst 22 0xffff", "00000016/0000ffff@0+"},
      {"icmp type 8 0xff", "08000000/ff000000@0+"},
      {"ether src 02:00:00:00:00:01", "02000000/ffffffff@-8 00010000/ffff0000@-4"},
      {"u32 0x1 0xff at 12", "00000001/000000ff@12"},
      {"u16 0x1000 0xffff at nexthdr+2", "00001000/0000ffff@0+"},
      {"u8 0x45 0xff at nexthdr+ 1", "00450000/00ff0000@0+"},
      {"ip dst 192.0.2.1/32 at 20", "c0000201/ffffffff@20"},
  };
  char err[CNET_ERRMSG_MAX];
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    int rc;
    const char *got = keys_of(&cases[i].match, 1, &rc, err);
    CHECK(rc == 0, "%s: %s", cases[i].match, err);
    CHECK(strcmp(got, cases[i].keys) == 0, "%s gave %s", cases[i].match, got);
  }
  /* words sharing a word merge into one key; contradicting ones are refused */
  const char *merged[] = {"ip dport 80 0xffff", "ip sport 1024 0xffff"};
  int rc;
  CHECK(strcmp(keys_of(merged, 2, &rc, err), "04000050/ffffffff@20") == 0, "merge");
  const char *contra[] = {"ip dport 80 0xffff", "ip dport 81 0xffff"};
  keys_of(contra, 2, &rc, err);
  CHECK(rc == -EINVAL && strstr(err, "contradicts") != NULL, "contradiction: %s", err);
  const char *bad[] = {"", "ip", "ip dst", "ip dst 192.0.2.300", "ip dport 80", "ip dport x 0xffff",
                       "ip dport 70000 0xffff", "u32 1 0xff at 13", "u32 1 0xff at", "sctp dst 1 1",
                       "ip dst 192.0.2.1 junk", "ether src 02:00:00:00:00", "ip6 dst 192.0.2.1",
                       "u8 0x100 0xff", "ip df at 4"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    keys_of(&bad[i], 1, &rc, err);
    CHECK(rc == -EINVAL && err[0] != '\0', "match '%s' accepted", bad[i]);
  }
  /* a key printed back parses to itself */
  struct cnet_tc_u32_key keys[CNET_TC_U32_MAXKEYS], again[CNET_TC_U32_MAXKEYS];
  unsigned n = 0, m = 0;
  const char *all[] = {"ip6 src 2001:db8::1/128", "tcp src 80 0xffff", "ether dst 02:00:00:00:00:02"};
  for (size_t i = 0; i < 3; i++) CHECK(cnet_tc_u32_parse_match(all[i], keys, &n, err) == 0, "%s", err);
  char text[64];
  for (unsigned i = 0; i < n; i++) {
    cnet_tc_u32_format_key(&keys[i], text, sizeof text);
    CHECK(cnet_tc_u32_parse_match(text, again, &m, err) == 0, "%s: %s", text, err);
  }
  CHECK(m == n && memcmp(keys, again, n * sizeof keys[0]) == 0, "keys printed back differ");
}

/* Builds f as an RTM_NEWTFILTER and parses it back into *out. */
static int roundtrip(const struct cnet_tc_filter *f, struct cnet_tc_filter *out, char *err) {
  struct nlmsghdr *nlh = start(RTM_NEWTFILTER);
  int rc = cnet_tc_filter_build(nlh, room(nlh), f, err);
  if (rc < 0) return rc;
  return cnet_tc_filter_parse(nlh, out);
}

static struct cnet_tc_filter base(const char *kind) {
  struct cnet_tc_filter f;
  memset(&f, 0, sizeof f);
  f.index = 7;
  f.parent = CNET_TC_FILTER_INGRESS;
  f.handle = 1;
  f.prio = 10;
  f.protocol = ETH_P_IP;
  f.chain = 3;
  f.kind = kind;
  return f;
}

static void same_common(const struct cnet_tc_filter *a, const struct cnet_tc_filter *b) {
  CHECK(b->index == a->index && b->parent == a->parent && b->handle == a->handle, "place");
  CHECK(b->prio == a->prio && b->protocol == a->protocol && b->chain == a->chain,
        "prio %d protocol %x chain %lld", b->prio, b->protocol, (long long)b->chain);
  CHECK(strcmp(b->kind, a->kind) == 0, "kind %s", b->kind);
  CHECK(b->has_classid == a->has_classid && b->classid == a->classid, "classid %x", b->classid);
  CHECK(b->flags == a->flags, "flags %x", b->flags);
  CHECK(b->nacts == a->nacts, "%u actions", b->nacts);
  for (unsigned i = 0; i < a->nacts && i < b->nacts; i++) {
    const struct cnet_tc_action *x = &a->acts[i], *y = &b->acts[i];
    CHECK(x->kind == y->kind && x->verdict == y->verdict && x->mirror == y->mirror &&
          x->ingress == y->ingress && x->ifindex == y->ifindex, "action %u", i + 1);
  }
}

static void test_roundtrips(void) {
  char err[CNET_ERRMSG_MAX];
  struct cnet_tc_filter out;
  /* matchall: a class, two actions, skip_sw */
  struct cnet_tc_filter f = base("matchall");
  f.has_classid = 1;
  f.classid = 0x10005;
  f.flags = TCA_CLS_FLAGS_SKIP_SW;
  f.nacts = 2;
  f.acts[0] = (struct cnet_tc_action){CNET_TC_ACT_GACT, TC_ACT_OK, 0, 0, 0, NULL};
  f.acts[1] = (struct cnet_tc_action){CNET_TC_ACT_MIRRED, TC_ACT_PIPE, 1, 1, 4, NULL};
  CHECK(roundtrip(&f, &out, err) == 0, "matchall: %s", err);
  same_common(&f, &out);
  /* u32: keys and a redirect */
  f = base("u32");
  f.handle = 0x80000800;
  f.nacts = 1;
  f.acts[0] = (struct cnet_tc_action){CNET_TC_ACT_MIRRED, TC_ACT_STOLEN, 0, 0, 5, NULL};
  CHECK(cnet_tc_u32_parse_match("ip dst 192.0.2.0/24", f.keys, &f.nkeys, err) == 0, "%s", err);
  CHECK(cnet_tc_u32_parse_match("ip dport 53 0xffff", f.keys, &f.nkeys, err) == 0, "%s", err);
  CHECK(roundtrip(&f, &out, err) == 0, "u32: %s", err);
  same_common(&f, &out);
  CHECK(out.nkeys == 2 && memcmp(out.keys, f.keys, 2 * sizeof f.keys[0]) == 0, "u32 keys");
  /* u32's hash tables are not filters */
  f.handle = 0x80000000;
  CHECK(roundtrip(&f, &out, err) == 1, "a hash table listed as a filter");
  /* flower: every key, IPv4 then IPv6 */
  f = base("flower");
  struct cnet_tc_flower *k = &f.flower;
  k->given = CNET_FLOWER_DST_MAC | CNET_FLOWER_SRC_MAC | CNET_FLOWER_IP_PROTO |
             CNET_FLOWER_DST_IP | CNET_FLOWER_SRC_IP | CNET_FLOWER_DST_PORT | CNET_FLOWER_SRC_PORT;
  memcpy(k->dst_mac, "\x02\0\0\0\0\x02", 6);
  memcpy(k->src_mac, "\x02\0\0\0\0\x01", 6);
  k->ip_proto = 6;
  CHECK(cnet_ipaddr_parse_prefix("192.0.2.0/24", AF_INET, &k->dst_ip) == 0, "dst_ip");
  CHECK(cnet_ipaddr_parse_prefix("198.51.100.7", AF_INET, &k->src_ip) == 0, "src_ip");
  k->dst_port = 80;
  k->src_port = 1024;
  f.nacts = 1;
  f.acts[0] = (struct cnet_tc_action){CNET_TC_ACT_GACT, TC_ACT_SHOT, 0, 0, 0, NULL};
  CHECK(roundtrip(&f, &out, err) == 0, "flower: %s", err);
  same_common(&f, &out);
  CHECK(out.flower.given == k->given, "flower keys %x", out.flower.given);
  CHECK(memcmp(out.flower.dst_mac, k->dst_mac, 6) == 0 && memcmp(out.flower.src_mac, k->src_mac, 6) == 0,
        "macs");
  CHECK(out.flower.ip_proto == 6 && out.flower.dst_port == 80 && out.flower.src_port == 1024, "ports");
  CHECK(out.flower.dst_ip.prefix == 24 && memcmp(out.flower.dst_ip.bytes, k->dst_ip.bytes, 4) == 0,
        "dst_ip /%d", out.flower.dst_ip.prefix);
  CHECK(out.flower.src_ip.prefix == 32, "src_ip /%d", out.flower.src_ip.prefix);
  f.protocol = ETH_P_IPV6;
  k->ip_proto = 17;
  CHECK(cnet_ipaddr_parse_prefix("2001:db8::/32", AF_INET6, &k->dst_ip) == 0, "dst_ip6");
  CHECK(cnet_ipaddr_parse_prefix("2001:db8::7", AF_INET6, &k->src_ip) == 0, "src_ip6");
  CHECK(roundtrip(&f, &out, err) == 0, "flower ipv6: %s", err);
  CHECK(out.flower.given == k->given && out.flower.dst_ip.family == AF_INET6 &&
        out.flower.dst_ip.prefix == 32 && out.flower.src_ip.prefix == 128 &&
        out.flower.ip_proto == 17 && out.flower.dst_port == 80, "flower ipv6 keys");
  /* a delete carries no options; a row without options announces a classifier only */
  struct nlmsghdr *nlh = start(RTM_DELTFILTER);
  CHECK(cnet_tc_filter_build(nlh, room(nlh), &f, err) == 0, "delete: %s", err);
  CHECK(cnet_tc_filter_parse(nlh, &out) == 1, "a delete's message parsed as a full filter");
}

static void test_refusals(void) {
  char err[CNET_ERRMSG_MAX];
  struct cnet_tc_filter out, f = base("flower");
  f.protocol = ETH_P_ALL;
  f.flower.given = CNET_FLOWER_DST_IP;
  CHECK(cnet_ipaddr_parse_prefix("192.0.2.1", AF_INET, &f.flower.dst_ip) == 0, "ip");
  CHECK(roundtrip(&f, &out, err) == -EINVAL && strstr(err, "need protocol ip or ipv6"), "%s", err);
  f.protocol = ETH_P_IPV6;
  CHECK(roundtrip(&f, &out, err) == -EINVAL && strstr(err, "another family"), "%s", err);
  f = base("flower");
  f.flower.given = CNET_FLOWER_DST_PORT;
  CHECK(roundtrip(&f, &out, err) == -EINVAL && strstr(err, "ports need"), "%s", err);
  f.flower.given |= CNET_FLOWER_IP_PROTO;
  f.flower.ip_proto = 1;
  CHECK(roundtrip(&f, &out, err) == -EINVAL && strstr(err, "ports need"), "icmp ports: %s", err);
  f = base("matchall");
  f.flags = TCA_CLS_FLAGS_SKIP_HW | TCA_CLS_FLAGS_SKIP_SW;
  CHECK(roundtrip(&f, &out, err) == -EINVAL && strstr(err, "exclude"), "%s", err);
  f = base("matchall");
  f.nkeys = 1;
  CHECK(roundtrip(&f, &out, err) == -EINVAL && strstr(err, "no u32 match"), "%s", err);
  f = base("u32");
  f.nacts = 1;
  f.acts[0] = (struct cnet_tc_action){CNET_TC_ACT_MIRRED, TC_ACT_STOLEN, 0, 0, 0, NULL};
  CHECK(roundtrip(&f, &out, err) == -EINVAL && strstr(err, "mirred needs a device"), "%s", err);
  /* the kernel's answers rewritten */
  char text[CNET_ERRMSG_MAX];
  CHECK(cnet_tc_filter_explain(-ENOENT, "TC classifier not found", "matchall", "", text) ==
            -EOPNOTSUPP && strcmp(text, "filter kind matchall is not available in this kernel "
                                        "(module cls_matchall)") == 0, "%s", text);
  CHECK(cnet_tc_filter_explain(-ENOENT, "Failed to load TC action module", "u32", "gact mirred",
                               text) == -EOPNOTSUPP &&
            strcmp(text, "one of the actions gact, mirred is not available in this kernel "
                         "(modules act_gact, act_mirred)") == 0, "%s", text);
  CHECK(cnet_tc_filter_explain(-EOPNOTSUPP, "", "u32", "", text) == -EOPNOTSUPP &&
            strstr(text, "CONFIG_NET_CLS") != NULL, "%s", text);
  CHECK(cnet_tc_filter_explain(-EEXIST, "Filter already exists", "u32", "", text) == -EEXIST &&
            strcmp(text, "Filter already exists") == 0, "%s", text);
}

int main(void) {
  test_names();
  test_u32_match();
  test_roundtrips();
  test_refusals();
  if (failures) fprintf(stderr, "%d failures\n", failures);
  return failures != 0;
}
