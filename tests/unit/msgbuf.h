/* The buffer the message-building unit tests build their requests in (one message at a
 * time), shared by linkmsg_test.c and rtnlmsg_test.c. */
#ifndef CNET_TEST_MSGBUF_H
#define CNET_TEST_MSGBUF_H

#include <stdint.h>
#include <string.h>
#include <libmnl/libmnl.h>

static unsigned char buf[8192] __attribute__((aligned(8)));

/* A fresh request of type `type` at the start of buf (everything after it zeroed). */
static struct nlmsghdr *start(uint16_t type) {
  memset(buf, 0, sizeof buf);
  struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
  nlh->nlmsg_type = type;
  nlh->nlmsg_flags = NLM_F_REQUEST;
  return nlh;
}

/* The bytes left in buf after the message built so far. */
static size_t room(const struct nlmsghdr *nlh) { return sizeof buf - nlh->nlmsg_len; }

#endif
