/* Header writes ("FIELD set VALUE") without a kernel: the expressions nft 1.0.6 makes for them
 * (libnftnl's text, taken from `nft --debug=netlink` on this machine), listed back as nft
 * lists them, and the refusals: what nft refuses (EINVAL) and what nft would list as another
 * rule (EOPNOTSUPP). The corpus check (tests/nft-corpus/17-headers.txt, 18-l2.txt) compares
 * the same rules with nft through the kernel. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <linux/netfilter.h>
#include <libnftnl/expr.h>
#include <libnftnl/rule.h>
#include "cnet/nftrule.h"

#include "nftrule_check.h"

#define W(x) "[ payload write reg 1 => " x " ]"

int main(void) {
  /* whole fields: the value written with the checksum the header has, and the pseudo-header
   * flag for the fields the transport checksum covers */
  ok(IP, "ip daddr set 192.0.2.1", "[ immediate reg 1 0x010200c0 ] "
     W("4b @ network header + 16 csum_type 1 csum_off 10 csum_flags 0x1"), NULL);
  ok(IP, "ip id set 0", "[ immediate reg 1 0x00000000 ] "
     W("2b @ network header + 4 csum_type 1 csum_off 10 csum_flags 0x0"), NULL);
  ok(INET, "tcp dport set 8080", "[ meta load l4proto => reg 1 ] [ cmp eq reg 1 0x00000006 ] "
     "[ immediate reg 1 0x0000901f ] "
     W("2b @ transport header + 2 csum_type 1 csum_off 16 csum_flags 0x0"), NULL);
  ok(IP6, "udp dport set 53", "[ meta load l4proto => reg 1 ] [ cmp eq reg 1 0x00000011 ] "
     "[ immediate reg 1 0x00003500 ] "
     W("2b @ transport header + 2 csum_type 1 csum_off 6 csum_flags 0x0"), NULL);
  ok(IP, "sctp dport set 5", "[ meta load l4proto => reg 1 ] [ cmp eq reg 1 0x00000084 ] "
     "[ immediate reg 1 0x00000500 ] "
     W("2b @ transport header + 2 csum_type 2 csum_off 8 csum_flags 0x0"), NULL);
  ok(IP6, "ip6 daddr set 2001:db8::1", "[ immediate reg 1 0xb80d0120 0x00000000 0x00000000 "
     "0x01000000 ] " W("16b @ network header + 24 csum_type 0 csum_off 0 csum_flags 0x1"), NULL);
  ok(IP6, "ip6 hoplimit set 64", "[ immediate reg 1 0x00000040 ] "
     W("1b @ network header + 7 csum_type 0 csum_off 0 csum_flags 0x0"), NULL);
  ok(BRIDGE, "ip daddr set 192.0.2.1", "[ meta load protocol => reg 1 ] "
     "[ cmp eq reg 1 0x00000008 ] [ immediate reg 1 0x010200c0 ] "
     W("4b @ network header + 16 csum_type 1 csum_off 10 csum_flags 0x1"), NULL);
  ok(BRIDGE, "ether type set ip", "[ immediate reg 1 0x00000008 ] "
     W("2b @ link header + 12 csum_type 0 csum_off 0 csum_flags 0x0"), NULL);
  ok(IP, "@th,0,16 set 1024", "[ immediate reg 1 0x00000004 ] "
     W("2b @ transport header + 0 csum_type 0 csum_off 0 csum_flags 0x0"), "th sport set 1024");

  /* bit fields, and single bytes under a checksum: the bytes around them loaded, the field's
   * bits cleared, the value put in (16-bit aligned under a checksum) */
  ok(IP, "ip dscp set cs1", "[ payload load 2b @ network header + 0 => reg 1 ] "
     "[ bitwise reg 1 = ( reg 1 & 0x000003ff ) ^ 0x00002000 ] "
     W("2b @ network header + 0 csum_type 1 csum_off 10 csum_flags 0x0"), NULL);
  ok(IP, "ip ecn set ce", "[ payload load 2b @ network header + 0 => reg 1 ] "
     "[ bitwise reg 1 = ( reg 1 & 0x0000fcff ) ^ 0x00000300 ] "
     W("2b @ network header + 0 csum_type 1 csum_off 10 csum_flags 0x0"), NULL);
  ok(IP, "ip ttl set 1", "[ payload load 2b @ network header + 8 => reg 1 ] "
     "[ bitwise reg 1 = ( reg 1 & 0x0000ff00 ) ^ 0x00000001 ] "
     W("2b @ network header + 8 csum_type 1 csum_off 10 csum_flags 0x0"), NULL);
  ok(IP, "ip protocol set 17", "[ payload load 2b @ network header + 8 => reg 1 ] "
     "[ bitwise reg 1 = ( reg 1 & 0x000000ff ) ^ 0x00001100 ] "
     W("2b @ network header + 8 csum_type 1 csum_off 10 csum_flags 0x1"), "ip protocol set udp");
  ok(IP6, "ip6 flowlabel set 1", "[ payload load 3b @ network header + 1 => reg 1 ] "
     "[ bitwise reg 1 = ( reg 1 & 0x000000f0 ) ^ 0x00010000 ] "
     W("3b @ network header + 1 csum_type 0 csum_off 0 csum_flags 0x0"), NULL);
  ok(IP6, "ip6 dscp set cs1", "[ payload load 2b @ network header + 0 => reg 1 ] "
     "[ bitwise reg 1 = ( reg 1 & 0x00003ff0 ) ^ 0x00000002 ] "
     W("2b @ network header + 0 csum_type 0 csum_off 0 csum_flags 0x0"), NULL);
  ok(IP6, "ip6 ecn set ce", "[ payload load 1b @ network header + 1 => reg 1 ] "
     "[ bitwise reg 1 = ( reg 1 & 0x000000cf ) ^ 0x00000030 ] "
     W("1b @ network header + 1 csum_type 0 csum_off 0 csum_flags 0x0"), NULL);
  ok(BRIDGE, "vlan pcp set 1", "[ payload load 2b @ link header + 12 => reg 1 ] "
     "[ cmp eq reg 1 0x00000081 ] [ payload load 1b @ link header + 14 => reg 1 ] "
     "[ bitwise reg 1 = ( reg 1 & 0x0000001f ) ^ 0x00000020 ] "
     W("1b @ link header + 14 csum_type 0 csum_off 0 csum_flags 0x0"), NULL);
  ok(IP, "vlan id set 20", "[ meta load iiftype => reg 1 ] [ cmp eq reg 1 0x00000001 ] "
     "[ payload load 2b @ link header + 12 => reg 1 ] [ cmp eq reg 1 0x00000081 ] "
     "[ payload load 2b @ link header + 14 => reg 1 ] "
     "[ bitwise reg 1 = ( reg 1 & 0x000000f0 ) ^ 0x00001400 ] "
     W("2b @ link header + 14 csum_type 0 csum_off 0 csum_flags 0x0"), NULL);
  ok(BRIDGE, "vlan type set ip6", NULL, NULL);  /* the ether type dependency goes */

  /* values read from the packet, and maps */
  ok(IP, "ip saddr set ip daddr", "[ payload load 4b @ network header + 16 => reg 1 ] "
     W("4b @ network header + 12 csum_type 1 csum_off 10 csum_flags 0x1"), NULL);
  ok(IP, "tcp dport set tcp dport map { 22 : 80 }", NULL, NULL);

  /* what nft refuses */
  bad(IP, "ip protocol set tcp", -EINVAL, 20, "syntax error");
  bad(IP, "ip ttl set ip ttl", -EINVAL, 12, "only be set to a constant");
  bad(IP, "ip dscp set ip dscp", -EINVAL, 13, "only be set to a constant");
  bad(IP, "ip saddr set { 10.0.0.1 }", -EINVAL, 14, "set");
  bad(IP, "ip ttl set 256", -EINVAL, 12, "");
  /* what nft would list as another rule: the icmp type and code written as a word (listed
   * as "th sport set ..."), a raw write named as a field without its checksum update */
  bad(IP, "icmp type set echo-reply", -EOPNOTSUPP, 1, "lists it as another rule");
  bad(IP6, "icmpv6 code set 1", -EOPNOTSUPP, 1, "lists it as another rule");
  bad(IP, "@nh,4,4 set 5", -EOPNOTSUPP, 1, "raw bit field");
  bad(IP, "tcp dport 22 @th,0,16 set 1", -EOPNOTSUPP, 14, "raw write of tcp sport");

  if (failures) printf("%d failure(s)\n", failures);
  return failures ? 1 : 0;
}
