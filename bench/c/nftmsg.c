#include "nftmsg.h"

#include <arpa/inet.h>
#include <errno.h>
#include <string.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <libnftnl/chain.h>
#include <libnftnl/common.h>
#include <libnftnl/expr.h>
#include <libnftnl/rule.h>
#include <libnftnl/table.h>

int nft_open(struct nlb *b, size_t cap)
{
	return nlb_open(b, NETLINK_NETFILTER, cap, 0, "nftables");
}

void nft_begin(struct nlb *b)
{
	nlb_raw(b, nftnl_batch_begin(nlb_tail(b), b->seq++));
}

void nft_end(struct nlb *b)
{
	nlb_raw(b, nftnl_batch_end(nlb_tail(b), b->seq++));
}

static struct nlmsghdr *put_hdr(struct nlb *b, int type, uint16_t flags)
{
	return nftnl_nlmsg_build_hdr(nlb_tail(b), (uint16_t)type, NFPROTO_IPV4, flags, b->seq++);
}

void nft_add_table(struct nlb *b, const char *table)
{
	struct nftnl_table *t = nftnl_table_alloc();
	nftnl_table_set_str(t, NFTNL_TABLE_NAME, table);
	struct nlmsghdr *nlh = put_hdr(b, NFT_MSG_NEWTABLE, NLM_F_CREATE);
	nftnl_table_nlmsg_build_payload(nlh, t);
	nftnl_table_free(t);
	nlb_end(b, nlh);
}

void nft_add_chain(struct nlb *b, const char *table, const char *chain,
		   const char *type, uint32_t hook, int32_t prio)
{
	struct nftnl_chain *c = nftnl_chain_alloc();
	nftnl_chain_set_str(c, NFTNL_CHAIN_TABLE, table);
	nftnl_chain_set_str(c, NFTNL_CHAIN_NAME, chain);
	nftnl_chain_set_str(c, NFTNL_CHAIN_TYPE, type);
	nftnl_chain_set_u32(c, NFTNL_CHAIN_HOOKNUM, hook);
	nftnl_chain_set_s32(c, NFTNL_CHAIN_PRIO, prio);
	struct nlmsghdr *nlh = put_hdr(b, NFT_MSG_NEWCHAIN, NLM_F_CREATE);
	nftnl_chain_nlmsg_build_payload(nlh, c);
	nftnl_chain_free(c);
	nlb_end(b, nlh);
}

struct nftnl_rule *nft_rule_new(const char *table, const char *chain)
{
	struct nftnl_rule *r = nftnl_rule_alloc();
	nftnl_rule_set_u32(r, NFTNL_RULE_FAMILY, NFPROTO_IPV4);
	nftnl_rule_set_str(r, NFTNL_RULE_TABLE, table);
	nftnl_rule_set_str(r, NFTNL_RULE_CHAIN, chain);
	return r;
}

void nft_rule_saddr(struct nftnl_rule *r)
{
	struct nftnl_expr *e = nftnl_expr_alloc("payload");
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_BASE, NFT_PAYLOAD_NETWORK_HEADER);
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_DREG, NFT_REG_1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_OFFSET, 12);
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_LEN, 4);
	nftnl_rule_add_expr(r, e);
}

void nft_rule_cmp_addr(struct nftnl_rule *r, uint32_t addr, uint32_t mask)
{
	if (mask != 0xffffffffu) {
		uint32_t zero = 0;
		struct nftnl_expr *bw = nftnl_expr_alloc("bitwise");
		nftnl_expr_set_u32(bw, NFTNL_EXPR_BITWISE_SREG, NFT_REG_1);
		nftnl_expr_set_u32(bw, NFTNL_EXPR_BITWISE_DREG, NFT_REG_1);
		nftnl_expr_set_u32(bw, NFTNL_EXPR_BITWISE_LEN, 4);
		nftnl_expr_set(bw, NFTNL_EXPR_BITWISE_MASK, &mask, 4);
		nftnl_expr_set(bw, NFTNL_EXPR_BITWISE_XOR, &zero, 4);
		nftnl_rule_add_expr(r, bw);
	}
	struct nftnl_expr *e = nftnl_expr_alloc("cmp");
	nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_SREG, NFT_REG_1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_OP, NFT_CMP_EQ);
	nftnl_expr_set(e, NFTNL_EXPR_CMP_DATA, &addr, 4);
	nftnl_rule_add_expr(r, e);
}

void nft_rule_verdict(struct nftnl_rule *r, int verdict)
{
	struct nftnl_expr *e = nftnl_expr_alloc("immediate");
	nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_DREG, NFT_REG_VERDICT);
	nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_VERDICT, (uint32_t)verdict);
	nftnl_rule_add_expr(r, e);
}

void nft_add_rule(struct nlb *b, struct nftnl_rule *r)
{
	struct nlmsghdr *nlh = put_hdr(b, NFT_MSG_NEWRULE, NLM_F_CREATE | NLM_F_APPEND);
	nftnl_rule_nlmsg_build_payload(nlh, r);
	nftnl_rule_free(r);
	nlb_end(b, nlh);
}

int nft_masquerade(const char *table, const char *net, int prefix)
{
	struct nlb b;
	int rc = nft_open(&b, 16384);
	if (rc < 0)
		return rc;
	nft_begin(&b);
	nft_add_table(&b, table);
	nft_add_chain(&b, table, "postrouting", "nat", NF_INET_POST_ROUTING, 100);
	struct nftnl_rule *r = nft_rule_new(table, "postrouting");
	nft_rule_saddr(r);
	uint32_t mask = prefix == 0 ? 0 : htonl(~0u << (32 - prefix));
	nft_rule_cmp_addr(r, inet_addr(net) & mask, mask);
	nftnl_rule_add_expr(r, nftnl_expr_alloc("masq"));
	nft_add_rule(&b, r);
	nft_end(&b);
	rc = nlb_flush(&b);
	nlb_close(&b);
	return rc;
}

int nft_table_delete(const char *table)
{
	struct nlb b;
	int rc = nft_open(&b, 8192);
	if (rc < 0)
		return rc;
	nft_begin(&b);
	struct nftnl_table *t = nftnl_table_alloc();
	nftnl_table_set_str(t, NFTNL_TABLE_NAME, table);
	struct nlmsghdr *nlh = put_hdr(&b, NFT_MSG_DELTABLE, 0);
	nftnl_table_nlmsg_build_payload(nlh, t);
	nftnl_table_free(t);
	nlb_end(&b, nlh);
	nft_end(&b);
	rc = nlb_flush(&b);
	nlb_close(&b);
	return rc;
}
