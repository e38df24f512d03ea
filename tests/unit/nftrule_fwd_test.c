/* dup, fwd, tproxy, queue, flow offload, osf, ipsec, socket cgroupv2, meta secmark (and
 * meta's old key names), objects chosen by maps, without a kernel: the expressions nft makes
 * for them (libnftnl's text), listed back as nft lists them, and nft's refusals. Queue and
 * flow offload matter most here: the kernel this project tests on has neither, so the corpus
 * check sees nft and cnet refused by the kernel alike and only this test sees what cnet
 * sends. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <linux/netfilter.h>
#include <libnftnl/expr.h>
#include <libnftnl/rule.h>
#include "cnet/nftrule.h"

#include "nftrule_check.h"

/* socket cgroupv2: a path below /sys/fs/cgroup is its inode number, 64 bits in host order;
 * listed as the first path nft's walk finds with that inode, else the number */
static void cgroupv2(void) {
  struct stat st;
  if (stat("/sys/fs/cgroup/.", &st) < 0) {
    printf("SKIP socket cgroupv2: no /sys/fs/cgroup\n");
    return;
  }
  uint64_t id = (uint64_t)st.st_ino;
  uint32_t w[2];
  memcpy(w, &id, sizeof w);
  char code[256], buf[512], path[600];
  snprintf(code, sizeof code, "[ socket load cgroupv2 => reg 1 ] [ cmp eq reg 1 0x%08x 0x%08x ]",
           w[0], w[1]);
  ok(IP, "socket cgroupv2 level 2 \".\"", code, "*");  /* bytecode only */
  struct nftnl_rule *r = nftnl_rule_alloc();
  struct cnet_nftrule_out out;
  struct cnet_nftrule_env env = {.family = IP, .table = "t"};
  int good = 0;
  if (cnet_nftrule_compile("socket cgroupv2 level 2 \".\"", &env, r, &out, NULL) == 0) {
    if (decode(IP, r, &out, buf, sizeof buf) > 0) {
      unsigned long long n;
      const char *v = buf + strlen("socket cgroupv2 level 2 ");
      if (sscanf(v, "%llu", &n) == 1) good = n == id;
      else if (v[0] == '"' && snprintf(path, sizeof path, "/sys/fs/cgroup/%.*s",
                                       (int)strlen(v) - 2, v + 1) > 0 && stat(path, &st) == 0)
        good = (uint64_t)st.st_ino == id;
    }
    cnet_nftrule_out_free(&out);
  }
  nftnl_rule_free(r);
  if (!good) {
    printf("FAIL listing socket cgroupv2 level 2 \".\": %s (id %llu)\n", buf,
           (unsigned long long)id);
    failures++;
  }
  bad(IP, "socket cgroupv2 level 1 \"no/such/cgroup\"", -EINVAL, 25, "cgroupv2 path fails");
  bad(IP, "socket cgroupv2 \".\"", -EINVAL, 17, "expected level");
}

int main(void) {
  /* dup: an address (ip, ip6) and maybe a device, or (netdev) a device */
  ok(IP, "dup to 10.2.3.4 device \"lo\"", "[ immediate reg 1 0x0403020a ] "
     "[ immediate reg 2 0x00000001 ] [ dup sreg_addr 1 sreg_dev 2 ]", NULL);
  ok(IP, "dup to ip saddr", "[ payload load 4b @ network header + 12 => reg 1 ] "
     "[ dup sreg_addr 1 ]", NULL);
  ok(IP6, "dup to abcd::1 device eth0 accept", NULL, "dup to abcd::1 device \"eth0\" accept");
  ok(NETDEV, "dup to \"eth0\"", "[ immediate reg 1 0x00000002 ] [ dup sreg_dev 1 ]", NULL);
  ok(NETDEV, "dup to meta iif", NULL, "dup to iif");
  bad(NETDEV, "dup to \"lo\" device \"eth0\"", -EINVAL, 20, "cannot specify device");
  bad(INET, "dup to 10.2.3.4", -EINVAL, 1, "unsupported family");

  /* fwd: netdev only, and last in the rule */
  ok(NETDEV, "fwd ip to 192.168.200.1 device \"lo\"", "[ immediate reg 1 0x00000001 ] "
     "[ immediate reg 2 0x01c8a8c0 ] [ fwd sreg_dev 1 sreg_addr 2 nfproto 2 ]", NULL);
  ok(NETDEV, "counter fwd to \"eth0\"", NULL, "counter packets 0 bytes 0 fwd to \"eth0\"");
  bad(NETDEV, "fwd to 1 counter", -EINVAL, 10, "after terminal statement");
  bad(IP, "fwd to \"lo\"", -EINVAL, 1, "unsupported family");
  bad(NETDEV, "fwd ip to 10.0.0.1", -EINVAL, 19, "expected \"device\"");

  /* tproxy: after a transport match, the family named in inet tables */
  ok(INET, "tcp dport 99 tproxy ip to 1.1.1.1:999", "[ meta load l4proto => reg 1 ] "
     "[ cmp eq reg 1 0x00000006 ] [ payload load 2b @ transport header + 2 => reg 1 ] "
     "[ cmp eq reg 1 0x00006300 ] [ immediate reg 1 0x01010101 ] "
     "[ immediate reg 2 0x0000e703 ] [ tproxy ip addr reg 1 port reg 2 ]", NULL);
  ok(IP6, "tcp dport 80 tproxy to ::1", NULL, "tcp dport 80 tproxy to [::1]");
  ok(INET, "meta l4proto 17 tproxy to :50080", NULL, "meta l4proto udp tproxy to :50080");
  ok(IP, "tcp dport 80 tproxy to 127.0.0.1 : 8080 meta mark set 1 accept", NULL,
     "tcp dport 80 tproxy to 127.0.0.1:8080 meta mark set 0x00000001 accept");
  bad(INET, "tcp dport 80 tproxy to 127.0.0.1", -EINVAL, 14, "ip or ip6 must be specified");
  bad(INET, "tproxy to :80", -EINVAL, 1, "requires transport protocol match");
  bad(IP, "tcp dport 80 tproxy to :80-90", -EINVAL, 24, "Port ranges are not supported");
  bad(IP, "tcp dport 80 tproxy to :tcp dport", -EOPNOTSUPP, 24, "not supported by cnet");

  /* queue (the kernel here has none: checked only offline) */
  ok(IP, "queue", "[ queue num 0 ]", "queue to 0");
  ok(IP, "queue num 4-5 fanout bypass", "[ queue num 4-5 bypass fanout ]",
     "queue flags bypass,fanout to 4-5");
  ok(IP, "queue flags bypass to numgen inc mod 65536", "[ numgen reg 1 = inc mod 65536 ] "
     "[ queue sreg_qnum 1 bypass ]", NULL);
  ok(IP, "queue to 2", "[ queue num 2 ]", NULL);
  bad(IP, "queue num 65536", -EINVAL, 11, "");
  bad(IP, "queue flags fanout to symhash mod 65536", -EINVAL, 23, "fanout requires a range");
  bad(IP, "queue to symhash mod 2 offset 65536", -EINVAL, 10, "max value exceeds 65535");
  bad(IP, "queue num 1 counter", -EINVAL, 13, "after terminal statement");

  /* flow offload (no flow tables here either) */
  ok(IP, "ip protocol tcp flow add @ft", "[ payload load 1b @ network header + 9 => reg 1 ] "
     "[ cmp eq reg 1 0x00000006 ] [ flow_offload flowtable ft ]", NULL);
  ok(IP, "flow offload @ft", NULL, "flow add @ft");

  /* osf, ipsec */
  ok(INET, "osf ttl skip version \"Linux:3.0\"", NULL, NULL);
  ok(IP, "osf name { \"Windows\", \"MacOs\" }", NULL, "osf name { \"MacOs\", \"Windows\" }");
  bad(IP6, "osf name \"Linux\"", -EINVAL, 1, "osf works only in ip and inet tables");
  bad(IP, "osf ttl foo name \"Linux\"", -EINVAL, 9, "invalid ttl option");
  ok(IP, "ipsec in reqid 1-10", "[ xfrm load in 0 reqid => reg 1 ] "
     "[ byteorder reg 1 = hton(reg 1, 4, 4) ] [ cmp gte reg 1 0x01000000 ] "
     "[ cmp lte reg 1 0x0a000000 ]", NULL);
  ok(INET, "ipsec out spnum 2 ip6 saddr dead::/64", NULL, NULL);
  bad(IP, "ipsec in spnum 256 spi 1", -EINVAL, 16, "value too large");
  bad(BRIDGE, "ipsec in spi 1", -EINVAL, 1, "only valid in ip/ip6/inet tables");

  /* meta secmark: an object by name, or the connection's mark */
  ok(IP, "meta secmark set \"s1\"", "[ objref type 8 name s1 ]", NULL);
  ok(IP, "meta secmark set ct secmark", "[ ct load secmark => reg 1 ] "
     "[ meta set secmark with reg 1 ]", NULL);
  ok(IP, "ct secmark set meta secmark", NULL, NULL);
  bad(IP, "meta secmark 1", -EINVAL, 14, "right hand side constant value");
  bad(IP, "ct secmark set 1", -EINVAL, 1, "must not be set to constant value");

  /* meters: a dynset on a set of the meter's name, made with the rule */
  ok(IP, "meter m1 size 16 { ip saddr limit rate 10/second }", "[ payload load 4b @ network "
     "header + 12 => reg 1 ] [ dynset add reg_key 1 set m1 expr [ limit rate 10/second burst 5 "
     "type packets flags 0x0 ] ]", NULL);
  ok(IP, "meter m0 { ip saddr counter }", NULL, "meter m0 size 65535 { ip saddr counter }");
  ok(IP, "meter m2 size 128 { ip saddr timeout 10s counter }", "[ payload load 4b @ network "
     "header + 12 => reg 1 ] [ dynset update reg_key 1 set m2 timeout 10000ms expr [ counter "
     "pkts 0 bytes 0 ] ]", "meter m2 size 128 { ip saddr timeout 10s counter }");
  /* a meter's set and an anonymous set in one rule: each found by its own name */
  ok(IP, "meter m1 { ip saddr limit rate 10/second } meta l4proto { tcp, udp, 47 }", NULL,
     "meter m1 size 65535 { ip saddr limit rate 10/second } meta l4proto { tcp, udp, gre }");
  bad(IP, "meter m3 { ip saddr }", -EINVAL, 1, "meter statement must be stateful");
  bad(IP, "meter m4 { ip saddr counter limit rate 1/second }", -EINVAL, 29, "one statement");

  /* objects chosen by maps: an anonymous object map (flags anonymous, constant, object; the
   * object type; elements naming objects), looked up by objref */
  ok(IP, "counter name tcp dport map { 22 : \"c1\", 80 : \"c2\" }", "[ meta load l4proto => "
     "reg 1 ] [ cmp eq reg 1 0x00000006 ] [ payload load 2b @ transport header + 2 => reg 1 ] "
     "[ objref sreg 1 set __objmap%d ]", NULL);
  ok(IP, "quota name ip saddr map { 10.0.0.0/8 : \"q1\" }", NULL, NULL);
  ok(IP, "ct helper set tcp dport map { 21 : \"h1\" }", NULL, NULL);
  bad(IP, "counter name tcp dport map { 22 : 1 + 1 }", -EINVAL, 37, "expected");
  bad(IP, "counter name tcp dport map { 22 }", -EINVAL, 33, "expected \":\"");

  /* meta's old names nft still reads */
  ok(BRIDGE, "meta ibriport \"br0\"", NULL, "meta ibrname \"br0\"");
  ok(BRIDGE, "meta obriport \"br0\"", NULL, "meta obrname \"br0\"");
  bad(BRIDGE, "meta broute set 1", -EINVAL, 6, "unknown meta key");

  /* nft 1.0.6 has no last, and nobody writes xt */
  bad(IP, "counter last", -EINVAL, 9, "not in nft 1.0.6");
  bad(IP, "xt match \"state\"", -EINVAL, 1, "cannot be written");

  cgroupv2();
  if (failures) printf("%d failure(s)\n", failures);
  return failures ? 1 : 0;
}
