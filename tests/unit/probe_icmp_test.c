/* ICMP echo packets (checksum, building, reading replies and quoted errors), probe address
 * text and signal names. No kernel, no privileges. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "cnet/probe.h"
#include "cnet/proc.h"

#include "check.h"

static void test_checksum(void) {
  /* RFC 1071's worked example: the one's complement sum of these words is 0xddf2. */
  const uint8_t words[] = {0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7};
  CHECK(cnet_icmp_checksum(words, sizeof words) == (uint16_t)~0xddf2, "got %#x",
        cnet_icmp_checksum(words, sizeof words));
  /* An odd length pads with a zero byte. */
  const uint8_t odd[] = {0x12, 0x34, 0x56};
  CHECK(cnet_icmp_checksum(odd, sizeof odd) == (uint16_t)~(0x1234 + 0x5600), "odd length");
}

static void test_build(void) {
  uint8_t p[64];
  CHECK(cnet_icmp_echo_build(AF_INET, 0xbeef, 7, p, sizeof p) == 64, "v4 build");
  CHECK(p[0] == 8 && p[1] == 0, "v4 type/code %d/%d", p[0], p[1]);
  CHECK(p[4] == 0xbe && p[5] == 0xef && p[6] == 0 && p[7] == 7, "id/seq big-endian");
  CHECK(cnet_icmp_checksum(p, sizeof p) == 0, "a packet with its checksum sums to zero");
  CHECK(cnet_icmp_echo_build(AF_INET6, 1, 2, p, sizeof p) == 64, "v6 build");
  CHECK(p[0] == 128 && p[2] == 0 && p[3] == 0, "v6 type 128, checksum left to the kernel");
  CHECK(cnet_icmp_echo_build(AF_INET, 1, 2, p, 7) == -EINVAL, "too short");
  CHECK(cnet_icmp_echo_build(AF_UNIX, 1, 2, p, sizeof p) == -EINVAL, "bad family");
}

/* An IPv4 header of 20 bytes for protocol ICMP at p. */
static void ip4(uint8_t *p) {
  memset(p, 0, 20);
  p[0] = 0x45;
  p[8] = 64;
  p[9] = IPPROTO_ICMP;
}

static void test_classify4(void) {
  uint8_t pkt[20 + 64];
  ip4(pkt);
  cnet_icmp_echo_build(AF_INET, 0x1234, 9, pkt + 20, 64);
  pkt[20] = 0; /* echo reply */
  CHECK(cnet_icmp_classify(AF_INET, 0x1234, 9, pkt, sizeof pkt) == CNET_PROBE_OK, "reply");
  CHECK(cnet_icmp_classify(AF_INET, 0x1234, 10, pkt, sizeof pkt) == -1, "other seq");
  CHECK(cnet_icmp_classify(AF_INET, 0x4321, 9, pkt, sizeof pkt) == -1, "other id");
  pkt[20] = 8; /* our own request, seen on loopback */
  CHECK(cnet_icmp_classify(AF_INET, 0x1234, 9, pkt, sizeof pkt) == -1, "request is no reply");
  CHECK(cnet_icmp_classify(AF_INET, 0x1234, 9, pkt, 20 + 4) == -1, "truncated");

  /* An error: outer IP + ICMP header, then the quoted IP header and our request's first
   * 8 bytes. */
  uint8_t err[20 + 8 + 20 + 8];
  ip4(err);
  memset(err + 20, 0, 8);
  ip4(err + 28);
  cnet_icmp_echo_build(AF_INET, 0x1234, 9, err + 48, 8);
  const struct {
    uint8_t type, code;
    int want;
  } cases[] = {
      {11, 0, CNET_PROBE_TTL_EXCEEDED}, {3, 0, CNET_PROBE_UNREACHABLE},
      {3, 1, CNET_PROBE_HOST_UNREACHABLE}, {3, 3, CNET_PROBE_PORT_UNREACHABLE},
      {3, 13, CNET_PROBE_PROHIBITED}, {3, 10, CNET_PROBE_PROHIBITED},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    err[20] = cases[i].type;
    err[21] = cases[i].code;
    int got = cnet_icmp_classify(AF_INET, 0x1234, 9, err, sizeof err);
    CHECK(got == cases[i].want, "type %d code %d -> %d, want %d", cases[i].type, cases[i].code,
          got, cases[i].want);
  }
  err[20] = 11;
  CHECK(cnet_icmp_classify(AF_INET, 0x1234, 8, err, sizeof err) == -1, "error about another seq");
  err[28 + 9] = IPPROTO_UDP;
  CHECK(cnet_icmp_classify(AF_INET, 0x1234, 9, err, sizeof err) == -1, "error about UDP");
  err[28 + 9] = IPPROTO_ICMP;
  CHECK(cnet_icmp_classify(AF_INET, 0x1234, 9, err, sizeof err - 1) == -1, "quote cut short");
}

static void test_classify6(void) {
  uint8_t reply[64];
  cnet_icmp_echo_build(AF_INET6, 77, 3, reply, sizeof reply);
  reply[0] = 129;
  CHECK(cnet_icmp_classify(AF_INET6, 77, 3, reply, sizeof reply) == CNET_PROBE_OK, "v6 reply");
  CHECK(cnet_icmp_classify(AF_INET6, 78, 3, reply, sizeof reply) == -1, "v6 other id");

  uint8_t err[8 + 40 + 8];
  memset(err, 0, sizeof err);
  err[8] = 0x60;                /* version 6 */
  err[8 + 6] = IPPROTO_ICMPV6; /* next header */
  cnet_icmp_echo_build(AF_INET6, 77, 3, err + 48, 8);
  const struct {
    uint8_t type, code;
    int want;
  } cases[] = {
      {3, 0, CNET_PROBE_TTL_EXCEEDED}, {1, 0, CNET_PROBE_UNREACHABLE},
      {1, 3, CNET_PROBE_HOST_UNREACHABLE}, {1, 1, CNET_PROBE_PROHIBITED},
      {1, 4, CNET_PROBE_PORT_UNREACHABLE},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    err[0] = cases[i].type;
    err[1] = cases[i].code;
    int got = cnet_icmp_classify(AF_INET6, 77, 3, err, sizeof err);
    CHECK(got == cases[i].want, "v6 type %d code %d -> %d", cases[i].type, cases[i].code, got);
  }
  err[0] = 2; /* packet too big: not an answer about reachability */
  CHECK(cnet_icmp_classify(AF_INET6, 77, 3, err, sizeof err) == -1, "v6 other type");
}

static void test_addr(void) {
  struct sockaddr_storage sa;
  socklen_t len;
  char buf[INET6_ADDRSTRLEN];
  CHECK(cnet_probe_addr("192.0.2.1", 80, &sa, &len) == 0, "v4");
  CHECK(sa.ss_family == AF_INET && len == sizeof(struct sockaddr_in), "v4 family/len");
  CHECK(ntohs(((struct sockaddr_in *)&sa)->sin_port) == 80, "port");
  cnet_probe_addr_text((struct sockaddr *)&sa, buf, sizeof buf);
  CHECK(strcmp(buf, "192.0.2.1") == 0, "%s", buf);
  CHECK(cnet_probe_addr("2001:DB8::1", 0, &sa, &len) == 0, "v6");
  cnet_probe_addr_text((struct sockaddr *)&sa, buf, sizeof buf);
  CHECK(strcmp(buf, "2001:db8::1") == 0, "%s", buf);
  const char *bad[] = {"", "192.0.2", "192.0.2.256", "example.com", "192.0.2.1/24", "::g"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    CHECK(cnet_probe_addr(bad[i], 0, &sa, &len) == -EINVAL, "'%s' accepted", bad[i]);
  }
  CHECK(strcmp(cnet_probe_reason_name(CNET_PROBE_HOST_UNREACHABLE), "host unreachable") == 0, "name");
}

static void test_signals(void) {
  CHECK(cnet_proc_signal("TERM") == SIGTERM, "TERM");
  CHECK(cnet_proc_signal("SIGKILL") == SIGKILL, "SIGKILL");
  CHECK(cnet_proc_signal("hup") == SIGHUP, "hup");
  CHECK(cnet_proc_signal("9") == 9, "9");
  CHECK(cnet_proc_signal("0") == 0, "0");
  CHECK(cnet_proc_signal("FOO") == -EINVAL, "FOO");
  CHECK(cnet_proc_signal("") == -EINVAL, "empty");
  CHECK(cnet_proc_signal("9x") == -EINVAL, "9x");
  CHECK(cnet_proc_signal("SIG") == -EINVAL, "SIG alone");
  CHECK(strcmp(cnet_proc_signame(SIGUSR1), "USR1") == 0, "USR1");
}

int main(void) {
  test_checksum();
  test_build();
  test_classify4();
  test_classify6();
  test_addr();
  test_signals();
  if (failures) fprintf(stderr, "%d check(s) failed\n", failures);
  return failures != 0;
}
