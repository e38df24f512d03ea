/* Link counters (IFLA_STATS64): see include/cnet/link.h. */
#include <stddef.h>
#include <string.h>
#include <linux/if_link.h>

#include "cnet/link.h"
#include "netlink/nlattr_int.h"

#define STAT(f) {#f, offsetof(struct rtnl_link_stats64, f)}

/* In the struct's order, which is the kernel's: a shorter struct from an older kernel ends
 * early. */
static const struct {
  const char *name;
  size_t off;
} stats[CNET_LINK_NSTATS] = {
    STAT(rx_packets),        STAT(tx_packets),          STAT(rx_bytes),
    STAT(tx_bytes),          STAT(rx_errors),           STAT(tx_errors),
    STAT(rx_dropped),        STAT(tx_dropped),          STAT(multicast),
    STAT(collisions),        STAT(rx_length_errors),    STAT(rx_over_errors),
    STAT(rx_crc_errors),     STAT(rx_frame_errors),     STAT(rx_fifo_errors),
    STAT(rx_missed_errors),  STAT(tx_aborted_errors),   STAT(tx_carrier_errors),
    STAT(tx_fifo_errors),    STAT(tx_heartbeat_errors), STAT(tx_window_errors),
    STAT(rx_compressed),     STAT(tx_compressed),       STAT(rx_nohandler),
    STAT(rx_otherhost_dropped),
};

const char *cnet_link_stat_name(unsigned i) {
  return i < CNET_LINK_NSTATS ? stats[i].name : NULL;
}

unsigned cnet_link_stats(const struct cnet_link *l, uint64_t values[CNET_LINK_NSTATS]) {
  memset(values, 0, CNET_LINK_NSTATS * sizeof *values);
  if (l->stats64 == NULL) return 0;
  const unsigned char *p = attr_data(l->stats64);
  size_t len = attr_len(l->stats64);
  unsigned n = 0;
  for (unsigned i = 0; i < CNET_LINK_NSTATS; i++) {
    if (stats[i].off + sizeof(uint64_t) > len) break;
    memcpy(&values[i], p + stats[i].off, sizeof(uint64_t)); /* 4-byte aligned in the message */
    n++;
  }
  return n;
}
