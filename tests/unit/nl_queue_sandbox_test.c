/* The netlink queue against the kernel (run in a sandbox by ctest): several requests in one
 * sendmsg, each answered by its own result; the kernel's extended-ACK text kept per request;
 * a dump collecting every part. Nothing here changes state outside the sandbox. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <net/if.h>
#include <linux/rtnetlink.h>

#include "cnet/nl.h"

#include "check.h"

static int queue_getlink(struct cnet_nl *nl, int index, const char *name, cnet_nl_cb cb, void *d) {
  struct nlmsghdr *nlh = cnet_nl_msg(nl, RTM_GETLINK, NLM_F_ACK);
  struct ifinfomsg *ifi = mnl_nlmsg_put_extra_header(nlh, sizeof *ifi);
  ifi->ifi_family = AF_UNSPEC;
  ifi->ifi_index = index;
  if (name) mnl_attr_put_strz(nlh, IFLA_IFNAME, name);
  return cnet_nl_queue(nl, cb, d);
}

static int count_links(const struct nlmsghdr *nlh, void *data) {
  if (nlh->nlmsg_type == RTM_NEWLINK) ++*(int *)data;
  return MNL_CB_OK;
}

static int build_dump(struct cnet_nl *nl, void *data) {
  (void)data;
  struct nlmsghdr *nlh = cnet_nl_msg(nl, RTM_GETLINK, NLM_F_DUMP);
  struct ifinfomsg *ifi = mnl_nlmsg_put_extra_header(nlh, sizeof *ifi);
  ifi->ifi_family = AF_UNSPEC;
  return 0;
}

static void reset_count(void *data) { *(int *)data = 0; }

int main(void) {
  struct cnet_nl *nl;
  int rc = cnet_nl_open(NETLINK_ROUTE, &nl);
  CHECK(rc == 0, "open: %s", strerror(-rc));
  if (rc < 0) return 1;

  /* Four requests, one sendmsg: lo exists, index 999999 and "nope0" do not. */
  int got[4] = {0};
  int idx[4];
  idx[0] = queue_getlink(nl, 1, NULL, count_links, &got[0]);
  idx[1] = queue_getlink(nl, 999999, NULL, count_links, &got[1]);
  idx[2] = queue_getlink(nl, 0, "lo", count_links, &got[2]);
  idx[3] = queue_getlink(nl, 0, "nope0", count_links, &got[3]);
  CHECK(cnet_nl_pending(nl) == 4, "pending %u", cnet_nl_pending(nl));
  rc = cnet_nl_flush(nl, 0);
  CHECK(rc == -ENODEV, "flush returned %d", rc);
  CHECK(cnet_nl_first_error(nl) == 1, "first error at %d", cnet_nl_first_error(nl));
  const char *msg;
  CHECK(cnet_nl_result(nl, (unsigned)idx[0], &msg) == 0 && got[0] == 1, "lo by index");
  CHECK(cnet_nl_result(nl, (unsigned)idx[1], &msg) == -ENODEV && got[1] == 0, "999999");
  CHECK(cnet_nl_result(nl, (unsigned)idx[2], &msg) == 0 && got[2] == 1, "lo by name");
  CHECK(cnet_nl_result(nl, (unsigned)idx[3], &msg) == -ENODEV && got[3] == 0, "nope0");
  CHECK(cnet_nl_flushed(nl) == 4 && cnet_nl_pending(nl) == 0, "counts after flush");

  /* A link of an unknown kind: refused with the kernel's own words in the extended ACK. */
  struct nlmsghdr *nlh = cnet_nl_msg(nl, RTM_NEWLINK, NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL);
  struct ifinfomsg *ifi = mnl_nlmsg_put_extra_header(nlh, sizeof *ifi);
  ifi->ifi_family = AF_UNSPEC;
  mnl_attr_put_strz(nlh, IFLA_IFNAME, "x0");
  struct nlattr *info = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
  mnl_attr_put_strz(nlh, IFLA_INFO_KIND, "no-such-kind");
  mnl_attr_nest_end(nlh, info);
  char text[CNET_ERRMSG_MAX];
  rc = cnet_nl_talk(nl, NULL, NULL, text);
  CHECK(rc == -EOPNOTSUPP, "unknown kind: %d", rc);
  CHECK(strstr(text, "nknown device type") != NULL, "extack text: '%s'", text);
  CHECK(if_nametoindex("x0") == 0, "nothing made");

  /* Many requests at once: more than one sendmsg chunk, every one answered. */
  for (int i = 0; i < 2000; i++) queue_getlink(nl, 1, NULL, NULL, NULL);
  rc = cnet_nl_flush(nl, 0);
  CHECK(rc == 0 && cnet_nl_flushed(nl) == 2000, "2000 requests: rc %d, flushed %u", rc,
        cnet_nl_flushed(nl));

  /* A dump. */
  int links = 0;
  rc = cnet_nl_dump(nl, build_dump, count_links, reset_count, &links, text);
  CHECK(rc == 0 && links >= 1, "dump: rc %d, %d links", rc, links);

  /* A batch: requests without replies are deferred, then sent together; each failure keeps
   * the tag it was queued under. Deleting index 999999 fails, deleting nothing else. */
  struct cnet_batch *b;
  CHECK(cnet_batch_new(&b) == 0, "batch");
  CHECK(cnet_nl_set_batch(nl, b) == 0, "attach");
  for (int tag = 1; tag <= 3; tag++) {
    cnet_batch_set_tag(b, tag);
    nlh = cnet_nl_msg(nl, tag == 2 ? RTM_DELLINK : RTM_GETLINK, NLM_F_ACK);
    ifi = mnl_nlmsg_put_extra_header(nlh, sizeof *ifi);
    ifi->ifi_family = AF_UNSPEC;
    ifi->ifi_index = tag == 2 ? 999999 : 1;
    CHECK(cnet_nl_talk(nl, NULL, NULL, text) == 0, "deferred talk %d returns 0", tag);
  }
  CHECK(cnet_nl_pending(nl) == 3, "3 deferred, got %u", cnet_nl_pending(nl));
  CHECK(cnet_batch_flush(b) == -ENODEV, "batch flush reports the failure");
  int tag = 0;
  CHECK(cnet_batch_failures(b) == 1 && cnet_batch_failure(b, 0, &tag, &msg) == -ENODEV && tag == 2,
        "failure kept with tag 2 (got %d failures, tag %d)", cnet_batch_failures(b), tag);
  CHECK(cnet_batch_sent(b) == 3, "sent %u", cnet_batch_sent(b));
  /* A read in a batch first applies what was deferred, then answers synchronously. */
  cnet_batch_set_tag(b, 4);
  queue_getlink(nl, 1, NULL, NULL, NULL); /* queued directly: stays pending until a read */
  int n = 0;
  rc = cnet_nl_dump(nl, build_dump, count_links, reset_count, &n, text);
  CHECK(rc == 0 && n >= 1, "dump inside a batch: %d", rc);
  cnet_batch_free(b);
  CHECK(cnet_nl_pending(nl) == 0, "nothing left pending");

  cnet_nl_close(nl);
  if (failures == 0) printf("nl queue: all checks passed\n");
  return failures != 0;
}
