/* mnl-containers: the containers(N) workload on raw libmnl, batched, as the
 * near-physical limit the benchmark compares everything with.
 *
 *   mnl-containers setup N            bridge, N namespaces with veth + addr + route,
 *                                     ip_forward, one masquerade rule
 *   mnl-containers setup-serial N     the same work in the plain script's order (container
 *                                     by container, each request answered before the next),
 *                                     to show what that order costs the kernel
 *   mnl-containers teardown N         namespaces first (the kernel frees the veth
 *                                     pairs in one batch), then bridge and table
 *   mnl-containers teardown-links N   host veths first (one RCU wait each), to
 *                                     show what the slow order costs
 *
 * Must run inside a sandbox (new net + mount namespace, tmpfs on /run/netns). */
#define _GNU_SOURCE
#include "nlbatch.h"
#include "nftmsg.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>

#define BRIDGE "br0"
#define GW "10.200.0.1"

/* With MNL_STAGES set, print the time each stage of setup took (stderr). */
static void stage(const char *name)
{
	static struct timespec last;
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	if (getenv("MNL_STAGES") != NULL && last.tv_sec != 0)
		fprintf(stderr, "%-12s %8.3f ms\n", name,
			(double)(t.tv_sec - last.tv_sec) * 1e3 + (double)(t.tv_nsec - last.tv_nsec) / 1e6);
	last = t;
}

static int fail(const char *what, int rc)
{
	fprintf(stderr, "mnl-containers: %s: %s\n", what, strerror(-rc));
	return 1;
}

static void ns_path(char *out, size_t n, int i)
{
	snprintf(out, n, "/run/netns/c%d", i);
}

/* Container i gets 10.200.0.0/16 host number i + 1. */
static uint32_t ctr_addr(int i)
{
	return htonl((10u << 24) | (200u << 16) | (uint32_t)(i + 1));
}

static struct ifinfomsg *put_ifinfo(struct nlmsghdr *nlh, int index, unsigned flags)
{
	struct ifinfomsg *ifm = mnl_nlmsg_put_extra_header(nlh, sizeof *ifm);
	ifm->ifi_family = AF_UNSPEC;
	ifm->ifi_index = index;
	ifm->ifi_flags = flags;
	ifm->ifi_change = flags;
	return ifm;
}

/* addr/16 on device index, as an RTM_NEWADDR body. */
static void put_addr(struct nlmsghdr *nlh, unsigned index, uint32_t addr)
{
	struct ifaddrmsg *ifa = mnl_nlmsg_put_extra_header(nlh, sizeof *ifa);
	ifa->ifa_family = AF_INET;
	ifa->ifa_prefixlen = 16;
	ifa->ifa_index = index;
	mnl_attr_put_u32(nlh, IFA_LOCAL, addr);
	mnl_attr_put_u32(nlh, IFA_ADDRESS, addr);
}

/* A default route via gw (out of device oif when oif > 0), as an RTM_NEWROUTE body. */
static void put_default_route(struct nlmsghdr *nlh, uint32_t gw, int oif)
{
	struct rtmsg *rtm = mnl_nlmsg_put_extra_header(nlh, sizeof *rtm);
	rtm->rtm_family = AF_INET;
	rtm->rtm_table = RT_TABLE_MAIN;
	rtm->rtm_protocol = RTPROT_BOOT;
	rtm->rtm_scope = RT_SCOPE_UNIVERSE;
	rtm->rtm_type = RTN_UNICAST;
	mnl_attr_put_u32(nlh, RTA_GATEWAY, gw);
	if (oif > 0)
		mnl_attr_put_u32(nlh, RTA_OIF, (uint32_t)oif);
}

/* Like `ip netns add`, without a process: unshare, bind the new namespace
 * to /run/netns/cI, keep an fd to it and a netlink socket opened inside. */
static int netns_add(int i, int home, int *nsfd, struct nlb *b)
{
	char path[64];
	ns_path(path, sizeof path, i);
	int fd = open(path, O_RDONLY | O_CREAT | O_EXCL, 0);
	if (fd < 0)
		return -errno;
	close(fd);
	if (unshare(CLONE_NEWNET) < 0)
		return -errno;
	if (mount("/proc/self/ns/net", path, "none", MS_BIND, NULL) < 0)
		return -errno;
	*nsfd = open(path, O_RDONLY | O_CLOEXEC);
	if (*nsfd < 0)
		return -errno;
	int rc = nlb_open(b, NETLINK_ROUTE, 4096, 0, path);
	if (setns(home, CLONE_NEWNET) < 0)
		return -errno;
	return rc;
}

static int write_file(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY);
	if (fd < 0)
		return -errno;
	ssize_t n = write(fd, text, strlen(text));
	int rc = n < 0 ? -errno : 0;
	close(fd);
	return rc;
}

/* Makes br0 (up) and queues its address on host; returns its index or -errno. */
static int bridge(struct nlb *host)
{
	struct nlmsghdr *nlh = nlb_put(host, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL);
	put_ifinfo(nlh, 0, IFF_UP);
	mnl_attr_put_strz(nlh, IFLA_IFNAME, BRIDGE);
	struct nlattr *li = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
	mnl_attr_put_strz(nlh, IFLA_INFO_KIND, "bridge");
	mnl_attr_nest_end(nlh, li);
	nlb_end(host, nlh);
	int rc = nlb_flush(host);
	if (rc < 0)
		return rc;
	int br = (int)if_nametoindex(BRIDGE);
	if (br == 0)
		return -errno;
	nlh = nlb_put(host, RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL);
	put_addr(nlh, (unsigned)br, inet_addr(GW));
	nlb_end(host, nlh);
	return br;
}

static int setup(int n)
{
	stage("start");
	int home = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	if (home < 0)
		return fail("open own netns", -errno);
	struct nlb host;
	int rc = nlb_open(&host, NETLINK_ROUTE, 1 << 17, 1 << 16, "host rtnl");
	if (rc < 0)
		return fail("socket", rc);

	/* bridge, up, with its address: one round trip */
	int br = bridge(&host);
	if (br < 0)
		return fail("bridge", br);
	struct nlmsghdr *nlh;
	struct nlattr *li;
	uint32_t gw = inet_addr(GW); /* the address goes out with the veths */

	stage("bridge");
	int *nsfd = calloc((size_t)n, sizeof *nsfd);
	struct nlb *ns = calloc((size_t)n, sizeof *ns);
	if (nsfd == NULL || ns == NULL)
		return fail("calloc", -ENOMEM);
	for (int i = 0; i < n; i++)
		if ((rc = netns_add(i + 1, home, &nsfd[i], &ns[i])) < 0)
			return fail("netns add", rc);

	stage("namespaces");
	/* veth pairs: host end up in the bridge, peer eth0 (ifindex 2) created
	 * straight in its namespace.  The peer cannot be brought up in the same
	 * message: veth_open() refuses (ENOTCONN) while the pair is half made. */
	for (int i = 0; i < n; i++) {
		char name[IFNAMSIZ];
		snprintf(name, sizeof name, "veth%d", i + 1);
		nlh = nlb_put(&host, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL);
		put_ifinfo(nlh, 0, IFF_UP);
		mnl_attr_put_strz(nlh, IFLA_IFNAME, name);
		mnl_attr_put_u32(nlh, IFLA_MASTER, (uint32_t)br);
		li = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
		mnl_attr_put_strz(nlh, IFLA_INFO_KIND, "veth");
		struct nlattr *data = mnl_attr_nest_start(nlh, IFLA_INFO_DATA);
		struct nlattr *peer = mnl_attr_nest_start(nlh, VETH_INFO_PEER);
		struct ifinfomsg *pifm = mnl_nlmsg_put_extra_header(nlh, sizeof *pifm);
		pifm->ifi_index = 2; /* known index: the namespace batch needs no lookup */
		mnl_attr_put_strz(nlh, IFLA_IFNAME, "eth0");
		mnl_attr_put_u32(nlh, IFLA_NET_NS_FD, (uint32_t)nsfd[i]);
		mnl_attr_nest_end(nlh, peer);
		mnl_attr_nest_end(nlh, data);
		mnl_attr_nest_end(nlh, li);
		if ((rc = nlb_end(&host, nlh)) < 0)
			return fail("veth", rc);
	}
	if ((rc = nlb_flush(&host)) < 0)
		return fail("veth", rc);

	stage("veths");
	/* inside each namespace: lo and eth0 up, address, default route; send every
	 * namespace's batch, then collect the answers */
	for (int i = 0; i < n; i++) {
		struct nlb *b = &ns[i];
		nlh = nlb_put(b, RTM_NEWLINK, 0);
		put_ifinfo(nlh, 1, IFF_UP);
		nlb_end(b, nlh);
		nlh = nlb_put(b, RTM_NEWLINK, 0);
		put_ifinfo(nlh, 2, IFF_UP);
		nlb_end(b, nlh);
		nlh = nlb_put(b, RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL);
		put_addr(nlh, 2, ctr_addr(i + 1));
		nlb_end(b, nlh);
		nlh = nlb_put(b, RTM_NEWROUTE, NLM_F_CREATE | NLM_F_EXCL);
		put_default_route(nlh, gw, 2);
		nlb_end(b, nlh);
		if ((rc = nlb_send(b)) < 0)
			return fail("netns batch", rc);
	}
	for (int i = 0; i < n; i++) {
		if ((rc = nlb_wait(&ns[i])) < 0)
			return fail("netns batch", rc);
		nlb_close(&ns[i]);
		close(nsfd[i]);
	}

	stage("ns config");
	if ((rc = write_file("/proc/sys/net/ipv4/ip_forward", "1")) < 0)
		return fail("ip_forward", rc);
	if ((rc = nft_masquerade("cnet", "10.200.0.0", 16)) < 0)
		return fail("masquerade", rc);
	stage("fwd + nft");
	nlb_close(&host);
	free(ns);
	free(nsfd);
	return 0;
}

/* One request, sent and answered before the next: the shape of a plain script. */
static int one(struct nlb *b, struct nlmsghdr *nlh, const char *what)
{
	int rc = nlb_end(b, nlh);
	if (rc == 0)
		rc = nlb_flush(b);
	return rc < 0 ? fail(what, rc) : 0;
}

static int setup_serial(int n)
{
	int home = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	if (home < 0)
		return fail("open own netns", -errno);
	struct nlb host;
	int rc = nlb_open(&host, NETLINK_ROUTE, 1 << 16, 0, "host rtnl");
	if (rc < 0)
		return fail("socket", rc);
	int br = bridge(&host);
	if (br < 0 || (rc = nlb_flush(&host)) < 0)
		return fail("bridge", br < 0 ? br : rc);
	uint32_t gw = inet_addr(GW);
	struct nlmsghdr *nlh;
	struct nlattr *li;
	for (int i = 1; i <= n; i++) {
		int nsfd;
		struct nlb ns;
		char name[IFNAMSIZ];
		if ((rc = netns_add(i, home, &nsfd, &ns)) < 0)
			return fail("netns add", rc);
		nlh = nlb_put(&ns, RTM_NEWLINK, 0);
		put_ifinfo(nlh, 1, IFF_UP);
		if (one(&ns, nlh, "lo up"))
			return 1;
		snprintf(name, sizeof name, "veth%d", i);
		nlh = nlb_put(&host, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL);
		put_ifinfo(nlh, 0, 0);
		mnl_attr_put_strz(nlh, IFLA_IFNAME, name);
		li = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
		mnl_attr_put_strz(nlh, IFLA_INFO_KIND, "veth");
		struct nlattr *data = mnl_attr_nest_start(nlh, IFLA_INFO_DATA);
		struct nlattr *peer = mnl_attr_nest_start(nlh, VETH_INFO_PEER);
		mnl_nlmsg_put_extra_header(nlh, sizeof(struct ifinfomsg));
		mnl_attr_put_strz(nlh, IFLA_IFNAME, "eth0");
		mnl_attr_put_u32(nlh, IFLA_NET_NS_FD, (uint32_t)nsfd);
		mnl_attr_nest_end(nlh, peer);
		mnl_attr_nest_end(nlh, data);
		mnl_attr_nest_end(nlh, li);
		if (one(&host, nlh, "veth"))
			return 1;
		nlh = nlb_put(&host, RTM_NEWLINK, 0);
		put_ifinfo(nlh, 0, IFF_UP);
		mnl_attr_put_strz(nlh, IFLA_IFNAME, name);
		mnl_attr_put_u32(nlh, IFLA_MASTER, (uint32_t)br);
		if (one(&host, nlh, "veth up + master"))
			return 1;
		nlh = nlb_put(&ns, RTM_NEWLINK, 0);
		put_ifinfo(nlh, 2, IFF_UP); /* a new namespace's first device after lo */
		if (one(&ns, nlh, "eth0 up"))
			return 1;
		nlh = nlb_put(&ns, RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL);
		put_addr(nlh, 2, ctr_addr(i));
		if (one(&ns, nlh, "address"))
			return 1;
		nlh = nlb_put(&ns, RTM_NEWROUTE, NLM_F_CREATE | NLM_F_EXCL);
		put_default_route(nlh, gw, 0);
		if (one(&ns, nlh, "default route"))
			return 1;
		nlb_close(&ns);
		close(nsfd);
	}
	if ((rc = write_file("/proc/sys/net/ipv4/ip_forward", "1")) < 0)
		return fail("ip_forward", rc);
	if ((rc = nft_masquerade("cnet", "10.200.0.0", 16)) < 0)
		return fail("masquerade", rc);
	nlb_close(&host);
	return 0;
}

static int netns_del(int i)
{
	char path[64];
	ns_path(path, sizeof path, i);
	if (umount2(path, MNT_DETACH) < 0)
		return -errno;
	if (unlink(path) < 0)
		return -errno;
	return 0;
}

static int teardown(int n, int links_first)
{
	struct nlb host;
	int rc = nlb_open(&host, NETLINK_ROUTE, 1 << 17, 1 << 16, "host rtnl");
	if (rc < 0)
		return fail("socket", rc);
	if (links_first) {
		for (int i = 0; i < n; i++) {
			char name[IFNAMSIZ];
			snprintf(name, sizeof name, "veth%d", i + 1);
			struct nlmsghdr *nlh = nlb_put(&host, RTM_DELLINK, 0);
			put_ifinfo(nlh, 0, 0);
			mnl_attr_put_strz(nlh, IFLA_IFNAME, name);
			if ((rc = nlb_end(&host, nlh)) < 0)
				return fail("veth delete", rc);
		}
		if ((rc = nlb_flush(&host)) < 0)
			return fail("veth delete", rc);
	}
	for (int i = 0; i < n; i++)
		if ((rc = netns_del(i + 1)) < 0)
			return fail("netns delete", rc);
	struct nlmsghdr *nlh = nlb_put(&host, RTM_DELLINK, 0);
	put_ifinfo(nlh, 0, 0);
	mnl_attr_put_strz(nlh, IFLA_IFNAME, BRIDGE);
	nlb_end(&host, nlh);
	if ((rc = nlb_flush(&host)) < 0)
		return fail("bridge delete", rc);
	if ((rc = nft_table_delete("cnet")) < 0)
		return fail("table delete", rc);
	if ((rc = write_file("/proc/sys/net/ipv4/ip_forward", "0")) < 0)
		return fail("ip_forward", rc);
	nlb_close(&host);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: mnl-containers setup|setup-serial|teardown|teardown-links N\n");
		return 2;
	}
	int n = atoi(argv[2]);
	if (n < 1 || n > 60000) {
		fprintf(stderr, "mnl-containers: bad N\n");
		return 2;
	}
	if (strcmp(argv[1], "setup") == 0)
		return setup(n);
	if (strcmp(argv[1], "setup-serial") == 0)
		return setup_serial(n);
	if (strcmp(argv[1], "teardown") == 0)
		return teardown(n, 0);
	if (strcmp(argv[1], "teardown-links") == 0)
		return teardown(n, 1);
	fprintf(stderr, "mnl-containers: unknown phase %s\n", argv[1]);
	return 2;
}
