/* Address and prefix text: parsing (strict), formatting, host-bit arithmetic. No kernel. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "cnet/ipaddr.h"

#include "check.h"

/* Parses text as a prefix and formats it back; compares with want ("" = must fail). */
static void roundtrip(const char *text, int family, const char *want) {
  struct cnet_ipaddr a;
  int rc = cnet_ipaddr_parse_prefix(text, family, &a);
  if (*want == '\0') {
    CHECK(rc == -EINVAL, "\"%s\" parsed (rc %d)", text, rc);
    return;
  }
  CHECK(rc == 0, "\"%s\" refused (rc %d)", text, rc);
  if (rc != 0) return;
  char buf[CNET_IPADDR_STRLEN];
  CHECK(cnet_ipaddr_format_prefix(a.family, a.bytes, a.prefix, buf, sizeof buf) == 0, "%s", text);
  CHECK(strcmp(buf, want) == 0, "\"%s\" -> \"%s\", want \"%s\"", text, buf, want);
}

static void test_prefixes(void) {
  roundtrip("192.168.1.10/24", AF_UNSPEC, "192.168.1.10/24");
  roundtrip("192.168.1.10", AF_UNSPEC, "192.168.1.10/32");
  roundtrip("0.0.0.0/0", AF_UNSPEC, "0.0.0.0/0");
  roundtrip("10.0.0.0/8", AF_INET, "10.0.0.0/8");
  roundtrip("2001:db8::1/64", AF_UNSPEC, "2001:db8::1/64");
  roundtrip("2001:0db8:0000:0000:0000:0000:0000:0001/128", AF_UNSPEC, "2001:db8::1/128");
  roundtrip("::/0", AF_INET6, "::/0");
  roundtrip("::ffff:192.0.2.1/96", AF_UNSPEC, "::ffff:192.0.2.1/96");
  roundtrip("fe80::1", AF_UNSPEC, "fe80::1/128");
  roundtrip("100.64.0.1/10", AF_UNSPEC, "100.64.0.1/10");
  roundtrip("255.255.255.255/32", AF_UNSPEC, "255.255.255.255/32");
  /* malformed */
  const char *bad[] = {"192.168.1.300/24", "192.168.1.1/33", "192.168.1.1/", "192.168.1.1/-1",
                       "192.168.1.1/ 8", "192.168.1.1/8x", "192.168.1.1/0008", "1.2.3/8",
                       "1.2.3.4.5", "01.2.3.4x", " 1.2.3.4", "1.2.3.4 ", "", "/24", "br0",
                       "2001:db8::1/129", "2001:db8:::1/64", "2001:db8::g/64", "fe80::1%eth0",
                       "1.2.3.4/24/8"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) roundtrip(bad[i], AF_UNSPEC, "");
  /* family constraints */
  roundtrip("10.0.0.1/8", AF_INET6, "");
  roundtrip("2001:db8::1", AF_INET, "");
  struct cnet_ipaddr a;
  CHECK(cnet_ipaddr_parse_prefix(NULL, AF_UNSPEC, &a) == -EINVAL, "NULL text");
  CHECK(cnet_ipaddr_parse_prefix("10.0.0.1", AF_UNSPEC, &a) == 0 && !a.has_prefix &&
        a.prefix == 32, "bare address: full length, no explicit prefix");
  CHECK(cnet_ipaddr_parse_prefix("10.0.0.1/32", AF_UNSPEC, &a) == 0 && a.has_prefix, "explicit");
}

static void test_bare(void) {
  struct cnet_ipaddr a;
  CHECK(cnet_ipaddr_parse("192.0.2.1", AF_UNSPEC, &a) == 0 && a.family == AF_INET &&
        a.bytes[0] == 192 && a.bytes[3] == 1, "ipv4 bytes");
  CHECK(cnet_ipaddr_parse("192.0.2.1/24", AF_UNSPEC, &a) == -EINVAL, "no prefix in a bare address");
  CHECK(cnet_ipaddr_parse("2001:db8::ff", AF_UNSPEC, &a) == 0 && a.family == AF_INET6 &&
        a.bytes[0] == 0x20 && a.bytes[15] == 0xff, "ipv6 bytes");
  CHECK(cnet_ipaddr_len(AF_INET) == 4 && cnet_ipaddr_len(AF_INET6) == 16 &&
        cnet_ipaddr_len(AF_UNIX) == 0, "lengths");
  char small[8];
  CHECK(cnet_ipaddr_format(AF_INET6, a.bytes, small, sizeof small) == -ENOSPC, "no room");
  CHECK(cnet_ipaddr_format(AF_UNIX, a.bytes, small, sizeof small) == -EAFNOSUPPORT, "family");
}

static void host_bits(const char *text, const char *want_brd, const char *want_net) {
  struct cnet_ipaddr a, b;
  char buf[CNET_IPADDR_STRLEN];
  CHECK(cnet_ipaddr_parse_prefix(text, AF_UNSPEC, &a) == 0, "%s", text);
  cnet_ipaddr_host_bits(&a, &b);
  cnet_ipaddr_format(b.family, b.bytes, buf, sizeof buf);
  CHECK(strcmp(buf, want_brd) == 0, "%s: host bits set %s, want %s", text, buf, want_brd);
  cnet_ipaddr_network(&a, &b);
  cnet_ipaddr_format(b.family, b.bytes, buf, sizeof buf);
  CHECK(strcmp(buf, want_net) == 0, "%s: network %s, want %s", text, buf, want_net);
}

static void test_host_bits(void) {
  host_bits("192.168.1.10/24", "192.168.1.255", "192.168.1.0");
  host_bits("10.1.2.3/8", "10.255.255.255", "10.0.0.0");
  host_bits("172.16.5.4/12", "172.31.255.255", "172.16.0.0");
  host_bits("192.168.1.10/32", "192.168.1.10", "192.168.1.10");
  host_bits("192.168.1.10/31", "192.168.1.11", "192.168.1.10");
  host_bits("192.168.1.10/0", "255.255.255.255", "0.0.0.0");
  host_bits("192.168.1.10/27", "192.168.1.31", "192.168.1.0");
  host_bits("2001:db8::1/64", "2001:db8::ffff:ffff:ffff:ffff", "2001:db8::");
  host_bits("2001:db8:1:2::5/52", "2001:db8:1:fff:ffff:ffff:ffff:ffff", "2001:db8:1::");
  struct cnet_ipaddr a, b;
  cnet_ipaddr_parse("10.0.0.1", AF_UNSPEC, &a);
  cnet_ipaddr_parse("10.0.0.1", AF_UNSPEC, &b);
  b.prefix = 8;
  CHECK(cnet_ipaddr_equal(&a, &b), "equal ignores prefix");
  cnet_ipaddr_parse("::a00:1", AF_UNSPEC, &b);
  CHECK(!cnet_ipaddr_equal(&a, &b), "families differ");
}

int main(void) {
  test_prefixes();
  test_bare();
  test_host_bits();
  if (failures) fprintf(stderr, "%d check(s) failed\n", failures);
  else printf("ipaddr: all checks passed\n");
  return failures ? 1 : 0;
}
