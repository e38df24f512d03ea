/* Extension headers and options without a kernel: tcp options, ip options, IPv6 extension
 * headers and sctp chunks compiled to the exthdr expression nft makes (checked field by
 * field), listed back, and the loads only nft makes (raw tcp options, masks nft cannot
 * name) listed as nft lists them; refusals with their column. The corpus check
 * (tests/nft-corpus/06-tcpopt.txt) compares all of it with nft 1.0.6 itself. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <libnftnl/expr.h>
#include <libnftnl/rule.h>
#include <libnftnl/set.h>
#include "cnet/nftrule.h"

#include "nftrule_check.h"

/* ---- rules as nft writes them, expression by expression ---- */

static struct nftnl_expr *exthdr(uint8_t type, uint32_t off, uint32_t len, uint32_t op,
                                 uint32_t flags) {
  struct nftnl_expr *e = nftnl_expr_alloc("exthdr");
  nftnl_expr_set_u32(e, NFTNL_EXPR_EXTHDR_DREG, NFT_REG_1);
  nftnl_expr_set_u8(e, NFTNL_EXPR_EXTHDR_TYPE, type);
  nftnl_expr_set_u32(e, NFTNL_EXPR_EXTHDR_OFFSET, off);
  nftnl_expr_set_u32(e, NFTNL_EXPR_EXTHDR_LEN, len);
  nftnl_expr_set_u32(e, NFTNL_EXPR_EXTHDR_OP, op);
  nftnl_expr_set_u32(e, NFTNL_EXPR_EXTHDR_FLAGS, flags);
  return e;
}

static struct nftnl_expr *mask(const void *m, const void *zero, uint32_t len) {
  struct nftnl_expr *e = nftnl_expr_alloc("bitwise");
  nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_SREG, NFT_REG_1);
  nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_DREG, NFT_REG_1);
  nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_LEN, len);
  nftnl_expr_set(e, NFTNL_EXPR_BITWISE_MASK, m, len);
  nftnl_expr_set(e, NFTNL_EXPR_BITWISE_XOR, zero, len);
  return e;
}

static struct nftnl_expr *cmp_eq(const void *data, uint32_t len) {
  struct nftnl_expr *e = nftnl_expr_alloc("cmp");
  nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_SREG, NFT_REG_1);
  nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_OP, NFT_CMP_EQ);
  nftnl_expr_set(e, NFTNL_EXPR_CMP_DATA, data, len);
  return e;
}

/* the rule's expressions decode to `want`; want_rc < 0: marked not decodable, the listing
 * ending in "<...>" */
static void listed(int family, struct nftnl_rule *r, int want_rc, const char *want) {
  char buf[1024];
  int rc = decode(family, r, NULL, buf, sizeof buf);
  if ((want_rc < 0 ? rc != want_rc : rc < 0) || strcmp(buf, want) != 0) {
    printf("FAIL decode [%d]\n  got  %s (%d)\n  want %s (%d)\n", family, buf, rc, want, want_rc);
    failures++;
  }
  nftnl_rule_free(r);
}

static void foreign(void) {
  static const uint8_t zero[4], one[1] = {1}, fifteen[1] = {15}, m0f[1] = {0x0f},
                       m03[1] = {0x03}, be1[2] = {0, 1};
  struct nftnl_rule *r;

  /* tcp option @2,64,16 1: no maxseg field there; nft lists "maxseg1 unknown" */
  r = nftnl_rule_alloc();
  nftnl_rule_add_expr(r, exthdr(2, 8, 2, NFT_EXTHDR_OP_TCPOPT, 0));
  nftnl_rule_add_expr(r, cmp_eq(be1, 2));
  listed(IP, r, 0, "tcp option maxseg1 unknown 1");

  /* tcp option @30,20,4 1: the low half of mptcp's byte is no field either */
  r = nftnl_rule_alloc();
  nftnl_rule_add_expr(r, exthdr(30, 2, 1, NFT_EXTHDR_OP_TCPOPT, 0));
  nftnl_rule_add_expr(r, mask(m0f, zero, 1));
  nftnl_rule_add_expr(r, cmp_eq(one, 1));
  listed(IP, r, 0, "tcp option mptcp unknown & 15 == 1");

  /* tcp option 200 exists, and a kind nft has no name for */
  r = nftnl_rule_alloc();
  nftnl_rule_add_expr(r, exthdr(200, 0, 1, NFT_EXTHDR_OP_TCPOPT, NFT_EXTHDR_F_PRESENT));
  nftnl_rule_add_expr(r, cmp_eq(one, 1));
  listed(IP, r, 0, "tcp option 200 exists");
  r = nftnl_rule_alloc();
  nftnl_rule_add_expr(r, exthdr(200, 1, 1, NFT_EXTHDR_OP_TCPOPT, 0));
  nftnl_rule_add_expr(r, cmp_eq(fifteen, 1));
  listed(IP, r, 0, "tcp option @200,8,8 15");

  /* "frag reserved & 3 == 1": nft would rename the field "unknown"; cnet marks the rule */
  r = nftnl_rule_alloc();
  nftnl_rule_add_expr(r, exthdr(44, 1, 1, NFT_EXTHDR_OP_IPV6, 0));
  nftnl_rule_add_expr(r, mask(m03, zero, 1));
  nftnl_rule_add_expr(r, cmp_eq(one, 1));
  listed(IP6, r, -EOPNOTSUPP, "frag reserved & 3 == 1 <exthdr bit field>");

  /* an sctp chunk type nft has no name for: nft cannot print it */
  r = nftnl_rule_alloc();
  nftnl_rule_add_expr(r, exthdr(99, 0, 1, NFT_EXTHDR_OP_SCTP, NFT_EXTHDR_F_PRESENT));
  nftnl_rule_add_expr(r, cmp_eq(one, 1));
  listed(IP, r, -EOPNOTSUPP, "<exthdr type 99>");
}

int main(void) {
  /* tcp options: no dependency, the field's bytes of the option */
  ok(IP, "tcp option maxseg size 1360",
     "[ exthdr load tcpopt 2b @ 2 + 2 => reg 1 ] [ cmp eq reg 1 0x00005005 ]", NULL);
  ok(INET, "tcp option sack-perm exists",
     "[ exthdr load tcpopt 1b @ 4 + 0 present => reg 1 ] [ cmp eq reg 1 0x00000001 ]", NULL);
  ok(IP, "tcp option sack2 right 7", "[ exthdr load tcpopt 4b @ 5 + 22 => reg 1 ] "
     "[ cmp eq reg 1 0x07000000 ]", NULL);
  ok(IP, "tcp option sack0 left 1", NULL, "tcp option sack left 1");
  ok(IP, "tcp option mss size 1460", NULL, "tcp option maxseg size 1460");
  ok(IP, "tcp option echo exists", NULL, "tcp option timestamp exists");
  ok(IP, "tcp option 5 length 10", NULL, "tcp option sack length 10");
  ok(IP, "tcp option @maxseg,16,16 1460", NULL, "tcp option maxseg size 1460");
  ok(IP, "tcp option mptcp subtype 1", "[ exthdr load tcpopt 1b @ 30 + 2 => reg 1 ] "
     "[ bitwise reg 1 = ( reg 1 & 0x000000f0 ) ^ 0x00000000 ] [ cmp eq reg 1 0x00000010 ]", NULL);
  ok(IP, "tcp option mptcp subtype { 0, 2 }", NULL, NULL);
  ok(INET, "meta l4proto tcp tcp option maxseg size 1", NULL, "tcp option maxseg size 1");
  ok(IP, "tcp option maxseg size set 1360",
     "[ immediate reg 1 0x00005005 ] [ exthdr write tcpopt reg 1 => 2b @ 2 + 2 ]", NULL);
  ok(IP, "tcp flags syn tcp option maxseg size set rt mtu", NULL, NULL);
  ok(IP, "reset tcp option sack-perm", "[ exthdr reset tcpopt 4 ]", NULL);
  ok(IP, "reset tcp option 123 counter", NULL, "reset tcp option 123 counter packets 0 bytes 0");

  /* ip options and IPv6 extension headers: their network protocol first, where it may vary */
  ok(IP, "ip option lsrr exists",
     "[ exthdr load ipv4 1b @ 131 + 0 present => reg 1 ] [ cmp eq reg 1 0x00000001 ]", NULL);
  ok(INET, "ip option ra value 0", "[ meta load nfproto => reg 1 ] [ cmp eq reg 1 0x00000002 ] "
     "[ exthdr load ipv4 2b @ 148 + 2 => reg 1 ] [ cmp eq reg 1 0x00000000 ]", NULL);
  ok(BRIDGE, "exthdr hbh exists", "[ payload load 2b @ link header + 12 => reg 1 ] "
     "[ cmp eq reg 1 0x0000dd86 ] [ exthdr load ipv6 1b @ 0 + 0 present => reg 1 ] "
     "[ cmp eq reg 1 0x00000001 ]", NULL);
  ok(INET, "meta l4proto tcp frag nexthdr tcp", "[ meta load nfproto => reg 1 ] "
     "[ cmp eq reg 1 0x0000000a ] [ meta load l4proto => reg 1 ] [ cmp eq reg 1 0x00000006 ] "
     "[ exthdr load ipv6 1b @ 44 + 0 => reg 1 ] [ cmp eq reg 1 0x00000006 ]", NULL);
  ok(IP6, "frag frag-off 0", "[ exthdr load ipv6 2b @ 44 + 2 => reg 1 ] "
     "[ bitwise reg 1 = ( reg 1 & 0x0000f8ff ) ^ 0x00000000 ] [ cmp eq reg 1 0x00000000 ]", NULL);
  ok(IP6, "frag more-fragments 1 frag frag-off 1-10", NULL, NULL);
  ok(IP6, "rt0 addr[1] ::1", NULL, "srh sid[1] ::1");  /* nft's name for that field */
  ok(IP6, "rt0 addr [ 2 ] ::1", NULL, "srh sid[2] ::1");
  ok(IP6, "mh type { binding-update, binding-acknowledgement }", NULL, NULL);
  ok(INET, "meta nfproto ipv6 exthdr frag missing", NULL, "exthdr frag missing");

  /* sctp chunks */
  ok(INET, "sctp chunk init num-outbound-streams 1",
     "[ exthdr load 2b @ 1 + 12 => reg 1 ] [ cmp eq reg 1 0x00000100 ]", NULL);
  ok(IP, "sctp chunk data flags & 0x1 == 0x1", NULL, "sctp chunk data flags & 1 == 1");

  bad(IP, "tcp option 256 exists", -EINVAL, 12, "tcp option kind 256 too large");
  bad(IP, "tcp option 6 length 1", -EINVAL, 14, "has no length field");
  bad(IP, "tcp option 2 size 3", -EINVAL, 14, "write its name to read size");
  bad(IP, "tcp option sack-perm size 3", -EINVAL, 22, "has no field size");
  bad(IP, "tcp option window count set 2", -EINVAL, 1, "only 2 or 4 byte");
  bad(IP, "tcp option mptcp subtype set 1", -EINVAL, 1, "bit field of a tcp option");
  bad(IP, "ip option ra value set 1", -EINVAL, 1, "only tcp options can be set");
  bad(IP, "ip option lsrr value 1", -EINVAL, 16, "ip option lsrr has no field value");
  bad(IP6, "ip option rr exists", -EINVAL, 1, "cannot use exthdr with ip6");
  bad(IP, "exthdr hbh exists", -EINVAL, 1, "cannot use exthdr with ip");
  bad(IP6, "exthdr srh exists", -EINVAL, 8, "expected hbh, rt, frag, dst or mh");
  bad(IP6, "rt2 addr ::1", -EINVAL, 5, "rt2 has no field");
  bad(IP6, "rt0 reserved 1", -EINVAL, 5, "unknown rt0 header field");
  bad(IP6, "srh sid[0] ::1", -EOPNOTSUPP, 5, "not supported by cnet");
  bad(IP6, "frag id set 1", -EINVAL, 1, "only tcp options can be set");
  bad(IP, "sctp chunk data init-tag 1", -EINVAL, 17, "sctp chunk data has no field init-tag");
  bad(IP, "reset tcp option maxseg size", -EINVAL, 25, "unknown keyword");
  bad(BRIDGE, "rt mtu 1500", -EINVAL, 1, "rt expressions work only in ip, ip6 and inet");

  foreign();
  if (failures) printf("%d failure(s)\n", failures);
  return failures ? 1 : 0;
}
