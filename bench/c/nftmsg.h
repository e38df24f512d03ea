/* nftmsg: libnftnl message building shared by the bench's C peers. */
#ifndef BENCH_NFTMSG_H
#define BENCH_NFTMSG_H

#include <stdint.h>
#include "nlbatch.h"

struct nftnl_rule;

/* Open an nfnetlink socket with room for a batch of cap bytes. */
int nft_open(struct nlb *b, size_t cap);
/* Queue BEGIN / END of an nftables batch. */
void nft_begin(struct nlb *b);
void nft_end(struct nlb *b);
/* Queue "add table ip NAME". */
void nft_add_table(struct nlb *b, const char *table);
/* Queue a base chain of the ip family. */
void nft_add_chain(struct nlb *b, const char *table, const char *chain,
		   const char *type, uint32_t hook, int32_t prio);
/* Queue a rule (takes ownership of r). */
void nft_add_rule(struct nlb *b, struct nftnl_rule *r);
/* A new rule object for table/chain in the ip family. */
struct nftnl_rule *nft_rule_new(const char *table, const char *chain);
/* Append "ip saddr" loaded into register 1. */
void nft_rule_saddr(struct nftnl_rule *r);
/* Append "cmp eq reg1 ADDR" (network order), optionally masked first. */
void nft_rule_cmp_addr(struct nftnl_rule *r, uint32_t addr, uint32_t mask);
/* Append a verdict (NF_ACCEPT ...). */
void nft_rule_verdict(struct nftnl_rule *r, int verdict);

/* One batch: table NAME, nat postrouting chain, "ip saddr NET/PREFIX masquerade". */
int nft_masquerade(const char *table, const char *net, int prefix);
/* One batch: delete table ip NAME. */
int nft_table_delete(const char *table);

#endif
