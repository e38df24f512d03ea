/* sysctl keys to /proc/sys paths: dotted and slashed forms, and keys that must not escape. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cnet/sysctl.h"

static int failures;

static void check(const char *key, int want_rc, const char *want_path) {
  char path[128];
  int rc = cnet_sysctl_path(key, path, sizeof path);
  if (rc != want_rc || (rc == 0 && strcmp(path, want_path) != 0)) {
    failures++;
    fprintf(stderr, "key \"%s\": rc %d path \"%s\", want rc %d path \"%s\"\n", key, rc,
            rc == 0 ? path : "", want_rc, want_path ? want_path : "");
  }
}

int main(void) {
  check("net.ipv4.ip_forward", 0, "/proc/sys/net/ipv4/ip_forward");
  check("net/ipv4/ip_forward", 0, "/proc/sys/net/ipv4/ip_forward");
  check("net/ipv4/conf/eth0.1/forwarding", 0, "/proc/sys/net/ipv4/conf/eth0.1/forwarding");
  check("net.ipv6.conf.all.forwarding", 0, "/proc/sys/net/ipv6/conf/all/forwarding");
  const char *bad[] = {"", ".net", "/etc/passwd", "net..ipv4", "net/../../etc", "net/./x",
                       "net/ipv4/", "net.ipv4.", "net ipv4", "net/ipv4/..", "net\n"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) check(bad[i], -EINVAL, NULL);
  char small[16];
  if (cnet_sysctl_path("net.ipv4.ip_forward", small, sizeof small) != -ENAMETOOLONG) {
    failures++;
    fprintf(stderr, "no room: want -ENAMETOOLONG\n");
  }
  if (failures) fprintf(stderr, "%d check(s) failed\n", failures);
  else printf("sysctlpath: all checks passed\n");
  return failures ? 1 : 0;
}
