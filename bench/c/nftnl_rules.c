/* nftnl-rules: the rules(M) workload on raw libnftnl, as one batch.
 *
 *   nftnl-rules rules M   table ip bench, chain input, M rules "ip saddr A accept"
 *   nftnl-rules set M     the same addresses as one named set, one rule "ip saddr @allow accept"
 *
 * Address i (1..M) is 10.0.0.0 + i, as in every other rules(M) peer. */
#include "nftmsg.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <libnftnl/expr.h>
#include <libnftnl/rule.h>
#include <libnftnl/set.h>

#define TABLE "bench"
#define CHAIN "input"
#define SET "allow"
#define ELEMS_PER_MSG 1000

static uint32_t addr(int i)
{
	return htonl((10u << 24) + (uint32_t)i);
}

static void add_set(struct nlb *b, int m)
{
	struct nftnl_set *s = nftnl_set_alloc();
	nftnl_set_set_str(s, NFTNL_SET_TABLE, TABLE);
	nftnl_set_set_str(s, NFTNL_SET_NAME, SET);
	nftnl_set_set_u32(s, NFTNL_SET_FAMILY, NFPROTO_IPV4);
	nftnl_set_set_u32(s, NFTNL_SET_KEY_TYPE, 7); /* nft's ipv4_addr datatype */
	nftnl_set_set_u32(s, NFTNL_SET_KEY_LEN, 4);
	nftnl_set_set_u32(s, NFTNL_SET_ID, 1);
	struct nlmsghdr *nlh = nftnl_nlmsg_build_hdr(nlb_tail(b), NFT_MSG_NEWSET, NFPROTO_IPV4,
						     NLM_F_CREATE, b->seq++);
	nftnl_set_nlmsg_build_payload(nlh, s);
	nftnl_set_free(s);
	nlb_end(b, nlh);

	for (int first = 1; first <= m; first += ELEMS_PER_MSG) {
		s = nftnl_set_alloc();
		nftnl_set_set_str(s, NFTNL_SET_TABLE, TABLE);
		nftnl_set_set_str(s, NFTNL_SET_NAME, SET);
		nftnl_set_set_u32(s, NFTNL_SET_ID, 1);
		for (int i = first; i < first + ELEMS_PER_MSG && i <= m; i++) {
			struct nftnl_set_elem *e = nftnl_set_elem_alloc();
			uint32_t a = addr(i);
			nftnl_set_elem_set(e, NFTNL_SET_ELEM_KEY, &a, 4);
			nftnl_set_elem_add(s, e);
		}
		nlh = nftnl_nlmsg_build_hdr(nlb_tail(b), NFT_MSG_NEWSETELEM, NFPROTO_IPV4,
					    NLM_F_CREATE, b->seq++);
		nftnl_set_elems_nlmsg_build_payload(nlh, s);
		nftnl_set_free(s);
		nlb_end(b, nlh);
	}

	struct nftnl_rule *r = nft_rule_new(TABLE, CHAIN);
	nft_rule_saddr(r);
	struct nftnl_expr *lk = nftnl_expr_alloc("lookup");
	nftnl_expr_set_u32(lk, NFTNL_EXPR_LOOKUP_SREG, NFT_REG_1);
	nftnl_expr_set_str(lk, NFTNL_EXPR_LOOKUP_SET, SET);
	nftnl_expr_set_u32(lk, NFTNL_EXPR_LOOKUP_SET_ID, 1);
	nftnl_rule_add_expr(r, lk);
	nft_rule_verdict(r, NF_ACCEPT);
	nft_add_rule(b, r);
}

int main(int argc, char **argv)
{
	if (argc != 3 || (strcmp(argv[1], "rules") != 0 && strcmp(argv[1], "set") != 0)) {
		fprintf(stderr, "usage: nftnl-rules rules|set M\n");
		return 2;
	}
	int m = atoi(argv[2]);
	if (m < 1 || m > 1000000) {
		fprintf(stderr, "nftnl-rules: bad M\n");
		return 2;
	}
	struct nlb b;
	int rc = nft_open(&b, (size_t)m * 256 + 65536);
	if (rc < 0) {
		fprintf(stderr, "nftnl-rules: socket: %s\n", strerror(-rc));
		return 1;
	}
	nft_begin(&b);
	nft_add_table(&b, TABLE);
	nft_add_chain(&b, TABLE, CHAIN, "filter", NF_INET_LOCAL_IN, 0);
	if (strcmp(argv[1], "set") == 0) {
		add_set(&b, m);
	} else {
		for (int i = 1; i <= m; i++) {
			struct nftnl_rule *r = nft_rule_new(TABLE, CHAIN);
			nft_rule_saddr(r);
			nft_rule_cmp_addr(r, addr(i), 0xffffffffu);
			nft_rule_verdict(r, NF_ACCEPT);
			nft_add_rule(&b, r);
		}
	}
	nft_end(&b);
	rc = nlb_flush(&b);
	nlb_close(&b);
	return rc < 0 ? 1 : 0;
}
