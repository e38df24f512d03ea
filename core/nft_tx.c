#define _GNU_SOURCE /* vasprintf */
/* Transactions: commands collected as libnftnl objects, sent at commit as one nfnetlink batch
 * (BEGIN, commands, END in a single sendmsg). See include/cnet/nft.h. */
#include <errno.h>
#include <net/if.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <arpa/inet.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nfnetlink.h>
#include <libnftnl/table.h>
#include <libnftnl/chain.h>
#include <libnftnl/rule.h>
#include <libnftnl/set.h>
#include <libnftnl/gen.h>

#include "cnet/nftrule.h"
#include "nft_int.h"

enum kind { K_TABLE, K_CHAIN, K_RULE, K_SET, K_ELEMS };
enum { ELEMS_PER_MSG = 256 }; /* keeps each NEWSETELEM well inside one message's room */

struct cmd {
  enum kind kind;
  uint16_t type, flags;         /* NFT_MSG_*, NLM_F_* besides REQUEST|ACK */
  int family;
  void *obj;                    /* nftnl_table / chain / rule / set (with elements) */
  struct cnet_nftrule_out anon; /* a rule's anonymous sets, sent before it */
  char *label;
};

struct cnet_nft_tx {
  struct cnet_netns *ns;
  struct cmd *cmds;
  unsigned n, cap;
  uint32_t set_id;              /* last NFTA_SET_ID handed out in this transaction */
  int spent;                    /* committed (or tried to): no more commands */
  int have_gen;                 /* the transaction read the ruleset: gen is its generation */
  uint32_t gen;
  char errmsg[CNET_NFTRULE_ERRMAX];
};

int cnet_nft_tx_new(struct cnet_netns *ns, struct cnet_nft_tx **out) {
  *out = calloc(1, sizeof **out);
  if (*out == NULL) return -ENOMEM;
  (*out)->ns = ns;
  return 0;
}

static void cmd_free(struct cmd *c) {
  switch (c->kind) {
  case K_TABLE: nftnl_table_free(c->obj); break;
  case K_CHAIN: nftnl_chain_free(c->obj); break;
  case K_RULE: nftnl_rule_free(c->obj); break;
  case K_SET: case K_ELEMS: nftnl_set_free(c->obj); break;
  }
  cnet_nftrule_out_free(&c->anon);
  free(c->label);
}

static void drop_all(struct cnet_nft_tx *tx) {
  for (unsigned i = 0; i < tx->n; i++) cmd_free(&tx->cmds[i]);
  tx->n = 0;
}

void cnet_nft_tx_free(struct cnet_nft_tx *tx) {
  if (tx == NULL) return;
  drop_all(tx);
  free(tx->cmds);
  free(tx);
}

unsigned cnet_nft_tx_count(const struct cnet_nft_tx *tx) { return tx->n; }
const char *cnet_nft_tx_errmsg(const struct cnet_nft_tx *tx) { return tx->errmsg; }
const char *cnet_nft_tx_label(const struct cnet_nft_tx *tx, unsigned i) {
  return i < tx->n ? tx->cmds[i].label : NULL;
}

static int fail(struct cnet_nft_tx *tx, int rc, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(tx->errmsg, sizeof tx->errmsg, fmt, ap);
  va_end(ap);
  return rc;
}

/* Appends a command; takes obj (freed on failure). The label is printf-formatted. */
static int push(struct cnet_nft_tx *tx, enum kind kind, uint16_t type, uint16_t flags,
                int family, void *obj, struct cnet_nftrule_out *anon, const char *fmt, ...) {
  struct cmd c = {kind, type, flags, family, obj, {NULL, 0}, NULL};
  if (tx->spent) {
    cmd_free(&c);
    if (anon != NULL) cnet_nftrule_out_free(anon);
    return fail(tx, -EINVAL, "transaction already committed");
  }
  if (anon != NULL) c.anon = *anon;
  va_list ap;
  va_start(ap, fmt);
  int len = vasprintf(&c.label, fmt, ap);
  va_end(ap);
  if (len < 0) c.label = NULL;
  if (obj == NULL || c.label == NULL) goto nomem;
  if (tx->n == tx->cap) {
    unsigned cap = tx->cap ? tx->cap * 2 : 16;
    struct cmd *p = realloc(tx->cmds, cap * sizeof *p);
    if (p == NULL) goto nomem;
    tx->cmds = p;
    tx->cap = cap;
  }
  tx->cmds[tx->n++] = c;
  return 0;
nomem:
  cmd_free(&c);
  return fail(tx, -ENOMEM, "out of memory");
}

static int check_name(struct cnet_nft_tx *tx, const char *what, const char *name) {
  size_t n = strlen(name);
  if (n == 0) return fail(tx, -EINVAL, "empty %s name", what);
  if (n >= CNET_NFT_NAMELEN) return fail(tx, -ENAMETOOLONG, "%s name too long", what);
  return 0;
}

static int check_family(struct cnet_nft_tx *tx, int family) {
  if (strcmp(cnet_nft_family_name(family), "unknown") == 0)
    return fail(tx, -EAFNOSUPPORT, "unknown family %d", family);
  return 0;
}

/* ---- tables ---- */

static struct nftnl_table *table_obj(int family, const char *table) {
  struct nftnl_table *t = nftnl_table_alloc();
  if (t == NULL) return NULL;
  nftnl_table_set_u32(t, NFTNL_TABLE_FAMILY, (uint32_t)family);
  nftnl_table_set_str(t, NFTNL_TABLE_NAME, table);
  return t;
}

static int table_cmd(struct cnet_nft_tx *tx, uint16_t type, uint16_t flags, const char *verb,
                     int family, const char *table) {
  tx->errmsg[0] = '\0';
  int rc;
  if ((rc = check_family(tx, family)) < 0 || (rc = check_name(tx, "table", table)) < 0)
    return rc;
  return push(tx, K_TABLE, type, flags, family, table_obj(family, table), NULL,
              "%s table %s %s", verb, cnet_nft_family_name(family), table);
}

int cnet_nft_tx_add_table(struct cnet_nft_tx *tx, int family, const char *table) {
  return table_cmd(tx, NFT_MSG_NEWTABLE, NLM_F_CREATE, "add", family, table);
}

int cnet_nft_tx_delete_table(struct cnet_nft_tx *tx, int family, const char *table) {
  return table_cmd(tx, NFT_MSG_DELTABLE, 0, "delete", family, table);
}

/* Flushing a table or a chain is a DELRULE naming only the table (and the chain). */
static struct nftnl_rule *rule_obj(int family, const char *table, const char *chain) {
  struct nftnl_rule *r = nftnl_rule_alloc();
  if (r == NULL) return NULL;
  nftnl_rule_set_u32(r, NFTNL_RULE_FAMILY, (uint32_t)family);
  nftnl_rule_set_str(r, NFTNL_RULE_TABLE, table);
  if (chain != NULL) nftnl_rule_set_str(r, NFTNL_RULE_CHAIN, chain);
  return r;
}

int cnet_nft_tx_flush_table(struct cnet_nft_tx *tx, int family, const char *table) {
  tx->errmsg[0] = '\0';
  int rc;
  if ((rc = check_family(tx, family)) < 0 || (rc = check_name(tx, "table", table)) < 0)
    return rc;
  return push(tx, K_RULE, NFT_MSG_DELRULE, 0, family, rule_obj(family, table, NULL), NULL,
              "flush table %s %s", cnet_nft_family_name(family), table);
}

/* ---- chains ---- */

static int check_chain(struct cnet_nft_tx *tx, int family, const char *table,
                       const char *chain) {
  int rc;
  if ((rc = check_family(tx, family)) < 0 || (rc = check_name(tx, "table", table)) < 0 ||
      (rc = check_name(tx, "chain", chain)) < 0)
    return rc;
  return 0;
}

static struct nftnl_chain *chain_obj(int family, const char *table, const char *chain) {
  struct nftnl_chain *c = nftnl_chain_alloc();
  if (c == NULL) return NULL;
  nftnl_chain_set_u32(c, NFTNL_CHAIN_FAMILY, (uint32_t)family);
  nftnl_chain_set_str(c, NFTNL_CHAIN_TABLE, table);
  nftnl_chain_set_str(c, NFTNL_CHAIN_NAME, chain);
  return c;
}

int cnet_nft_tx_add_chain(struct cnet_nft_tx *tx, int family, const char *table,
                          const char *chain, const struct cnet_nft_chain_spec *spec) {
  tx->errmsg[0] = '\0';
  int rc = check_chain(tx, family, table, chain);
  if (rc < 0) return rc;
  const char *fam = cnet_nft_family_name(family);
  uint32_t hook = 0, policy = NF_ACCEPT;
  int32_t prio = 0;
  if (spec != NULL && spec->type != NULL) {
    if (strcmp(spec->type, "filter") != 0 && strcmp(spec->type, "nat") != 0 &&
        strcmp(spec->type, "route") != 0)
      return fail(tx, -EINVAL, "unknown chain type \"%s\" (filter, nat, route)", spec->type);
    if (spec->hook == NULL) return fail(tx, -EINVAL, "a base chain needs a hook");
    if (cnet_nft_hook(family, spec->hook, &hook) < 0)
      return fail(tx, -EINVAL, "unknown hook \"%s\" for family %s", spec->hook, fam);
    if (spec->prio != NULL && cnet_nft_priority(family, spec->prio, &prio) < 0)
      return fail(tx, -EINVAL, "bad priority \"%s\" for family %s", spec->prio, fam);
    if (spec->policy != NULL) {
      if (strcmp(spec->policy, "accept") == 0) policy = NF_ACCEPT;
      else if (strcmp(spec->policy, "drop") == 0) policy = NF_DROP;
      else return fail(tx, -EINVAL, "bad policy \"%s\" (accept, drop)", spec->policy);
    }
    if (spec->device != NULL && strlen(spec->device) >= IFNAMSIZ)
      return fail(tx, -EINVAL, "device name \"%s\" too long", spec->device);
  }
  struct nftnl_chain *c = chain_obj(family, table, chain);
  if (c != NULL && spec != NULL && spec->type != NULL) {
    nftnl_chain_set_str(c, NFTNL_CHAIN_TYPE, spec->type);
    nftnl_chain_set_u32(c, NFTNL_CHAIN_HOOKNUM, hook);
    nftnl_chain_set_s32(c, NFTNL_CHAIN_PRIO, prio);
    if (spec->policy != NULL) nftnl_chain_set_u32(c, NFTNL_CHAIN_POLICY, policy);
    if (spec->device != NULL) nftnl_chain_set_str(c, NFTNL_CHAIN_DEV, spec->device);
  }
  return push(tx, K_CHAIN, NFT_MSG_NEWCHAIN, NLM_F_CREATE, family, c, NULL,
              "add chain %s %s %s", fam, table, chain);
}

int cnet_nft_tx_delete_chain(struct cnet_nft_tx *tx, int family, const char *table,
                             const char *chain) {
  tx->errmsg[0] = '\0';
  int rc = check_chain(tx, family, table, chain);
  if (rc < 0) return rc;
  return push(tx, K_CHAIN, NFT_MSG_DELCHAIN, 0, family, chain_obj(family, table, chain), NULL,
              "delete chain %s %s %s", cnet_nft_family_name(family), table, chain);
}

int cnet_nft_tx_flush_chain(struct cnet_nft_tx *tx, int family, const char *table,
                            const char *chain) {
  tx->errmsg[0] = '\0';
  int rc = check_chain(tx, family, table, chain);
  if (rc < 0) return rc;
  return push(tx, K_RULE, NFT_MSG_DELRULE, 0, family, rule_obj(family, table, chain), NULL,
              "flush chain %s %s %s", cnet_nft_family_name(family), table, chain);
}

/* ---- sets: what the rule compiler and element parser need to know about them ---- */

/* The newest set command of this transaction creating family/table/name, or NULL. */
static struct nftnl_set *tx_set(struct cnet_nft_tx *tx, int family, const char *table,
                                const char *name) {
  for (unsigned i = tx->n; i-- > 0;) {
    struct cmd *c = &tx->cmds[i];
    if (c->kind != K_SET || c->family != family) continue;
    if (strcmp(nftnl_set_get_str(c->obj, NFTNL_SET_TABLE), table) != 0 ||
        strcmp(nftnl_set_get_str(c->obj, NFTNL_SET_NAME), name) != 0)
      continue;
    return c->type == NFT_MSG_NEWSET ? c->obj : NULL;
  }
  return NULL;
}

static int set_reply(const struct nlmsghdr *nlh, void *data) {
  return nftnl_set_nlmsg_parse(nlh, data) < 0 ? MNL_CB_ERROR : MNL_CB_OK;
}

static int gen_reply(const struct nlmsghdr *nlh, void *data) {
  return nftnl_gen_nlmsg_parse(nlh, data) < 0 ? MNL_CB_ERROR : MNL_CB_OK;
}

/* Before the transaction first reads the kernel's ruleset (a set's type), remember the
 * ruleset's generation: commit sends it with the batch, and the kernel refuses the batch
 * (-ERESTART) if anything changed the ruleset in between, so nothing is applied on the
 * strength of a stale read. */
static int remember_gen(struct cnet_nft_tx *tx, struct cnet_nl *nl) {
  if (tx->have_gen) return 0;
  struct nftnl_gen *g = nftnl_gen_alloc();
  if (g == NULL) return -ENOMEM;
  struct nlmsghdr *nlh = cnet_nft_msg(nl, NFT_MSG_GETGEN, AF_UNSPEC, NLM_F_ACK);
  int rc = nlh == NULL ? -ENOMEM : cnet_nl_talk(nl, gen_reply, g, NULL);
  if (rc == 0 && nftnl_gen_is_set(g, NFTNL_GEN_ID)) {
    tx->gen = nftnl_gen_get_u32(g, NFTNL_GEN_ID);
    tx->have_gen = 1;
  }
  nftnl_gen_free(g);
  return rc;
}

/* The set's key type, length, flags and (when made in this transaction) id.
 * Returns 0, -ENOENT, or another -errno from the kernel. */
static int find_set(struct cnet_nft_tx *tx, int family, const char *table, const char *name,
                    uint32_t *type, uint32_t *len, uint32_t *flags, uint32_t *id) {
  struct nftnl_set *s = tx_set(tx, family, table, name);
  if (s != NULL) {
    *type = nftnl_set_get_u32(s, NFTNL_SET_KEY_TYPE);
    *len = nftnl_set_get_u32(s, NFTNL_SET_KEY_LEN);
    *flags = nftnl_set_get_u32(s, NFTNL_SET_FLAGS);
    *id = nftnl_set_get_u32(s, NFTNL_SET_ID);
    return 0;
  }
  struct cnet_nl *nl;
  int rc = cnet_netns_nfnl(tx->ns, &nl);
  if (rc == 0) rc = remember_gen(tx, nl);
  if (rc < 0) return rc;
  struct nftnl_set *q = nftnl_set_alloc(), *r = nftnl_set_alloc();
  if (q == NULL || r == NULL) { rc = -ENOMEM; goto out; }
  nftnl_set_set_str(q, NFTNL_SET_TABLE, table);
  nftnl_set_set_str(q, NFTNL_SET_NAME, name);
  struct nlmsghdr *nlh = cnet_nft_msg(nl, NFT_MSG_GETSET, family, NLM_F_ACK);
  if (nlh == NULL) { rc = -ENOMEM; goto out; }
  nftnl_set_nlmsg_build_payload(nlh, q);
  rc = cnet_nl_talk(nl, set_reply, r, NULL);
  if (rc == 0) {
    *type = nftnl_set_get_u32(r, NFTNL_SET_KEY_TYPE);
    *len = nftnl_set_get_u32(r, NFTNL_SET_KEY_LEN);
    *flags = nftnl_set_get_u32(r, NFTNL_SET_FLAGS);
    *id = 0;
  }
out:
  nftnl_set_free(q);
  nftnl_set_free(r);
  return rc;
}

struct rule_ctx {
  struct cnet_nft_tx *tx;
  int family;
  const char *table;
};

static uint32_t next_set_id(void *ud) { return ++((struct rule_ctx *)ud)->tx->set_id; }

static int lookup_set(void *ud, const char *name, uint32_t *key_type, uint32_t *key_len,
                      uint32_t *flags, uint32_t *set_id) {
  struct rule_ctx *c = ud;
  return find_set(c->tx, c->family, c->table, name, key_type, key_len, flags, set_id);
}

static int ifindex(void *ud, const char *ifname, uint32_t *index) {
  struct rule_ctx *c = ud;
  int saved, rc = cnet_netns_enter(c->tx->ns, &saved);
  if (rc < 0) return rc;
  unsigned i = if_nametoindex(ifname);
  rc = i == 0 ? -ENODEV : 0;
  cnet_netns_leave(saved);
  *index = i;
  return rc;
}

/* ---- rules ---- */

int cnet_nft_tx_add_rule(struct cnet_nft_tx *tx, int family, const char *table,
                         const char *chain, const char *text, enum cnet_nft_where where,
                         uint64_t handle) {
  tx->errmsg[0] = '\0';
  int rc = check_chain(tx, family, table, chain);
  if (rc < 0) return rc;
  if (where == CNET_NFT_REPLACE && handle == 0)
    return fail(tx, -EINVAL, "replace needs the handle of the rule to replace");
  struct nftnl_rule *r = rule_obj(family, table, chain);
  if (r == NULL) return fail(tx, -ENOMEM, "out of memory");
  struct rule_ctx ctx = {tx, family, table};
  struct cnet_nftrule_env env = {
    .family = family, .table = table, .ud = &ctx, .next_set_id = next_set_id,
    .lookup_set = lookup_set, .ifindex = ifindex};
  struct cnet_nftrule_out anon = {NULL, 0};
  struct cnet_nftrule_err err = {0, ""};
  uint32_t saved_id = tx->set_id;
  rc = cnet_nftrule_compile(text, &env, r, &anon, &err);
  if (rc < 0) {
    nftnl_rule_free(r);
    cnet_nftrule_out_free(&anon);
    tx->set_id = saved_id;
    if (err.msg[0] == '\0') snprintf(err.msg, sizeof err.msg, "rule \"%s\": %s", text, strerror(-rc));
    return fail(tx, rc, "%s", err.msg);
  }
  uint16_t flags = NLM_F_CREATE;
  const char *verb = "add";
  switch (where) {
  case CNET_NFT_APPEND:
    flags |= NLM_F_APPEND;
    if (handle) nftnl_rule_set_u64(r, NFTNL_RULE_POSITION, handle);
    break;
  case CNET_NFT_INSERT:
    verb = "insert";
    if (handle) nftnl_rule_set_u64(r, NFTNL_RULE_POSITION, handle);
    break;
  case CNET_NFT_REPLACE:
    verb = "replace";
    flags = NLM_F_REPLACE;
    nftnl_rule_set_u64(r, NFTNL_RULE_HANDLE, handle);
    break;
  }
  const char *fam = cnet_nft_family_name(family);
  if (handle && where == CNET_NFT_REPLACE)
    return push(tx, K_RULE, NFT_MSG_NEWRULE, flags, family, r, &anon,
                "%s rule %s %s %s handle %llu \"%s\"", verb, fam, table, chain,
                (unsigned long long)handle, text);
  if (handle)
    return push(tx, K_RULE, NFT_MSG_NEWRULE, flags, family, r, &anon,
                "%s rule %s %s %s position %llu \"%s\"", verb, fam, table, chain,
                (unsigned long long)handle, text);
  return push(tx, K_RULE, NFT_MSG_NEWRULE, flags, family, r, &anon, "%s rule %s %s %s \"%s\"",
              verb, fam, table, chain, text);
}

int cnet_nft_tx_delete_rule(struct cnet_nft_tx *tx, int family, const char *table,
                            const char *chain, uint64_t handle) {
  tx->errmsg[0] = '\0';
  int rc = check_chain(tx, family, table, chain);
  if (rc < 0) return rc;
  if (handle == 0) return fail(tx, -EINVAL, "delete rule needs a handle");
  struct nftnl_rule *r = rule_obj(family, table, chain);
  if (r != NULL) nftnl_rule_set_u64(r, NFTNL_RULE_HANDLE, handle);
  return push(tx, K_RULE, NFT_MSG_DELRULE, 0, family, r, NULL,
              "delete rule %s %s %s handle %llu", cnet_nft_family_name(family), table, chain,
              (unsigned long long)handle);
}

/* ---- named sets and their elements ---- */

static struct nftnl_set *set_obj(int family, const char *table, const char *name) {
  struct nftnl_set *s = nftnl_set_alloc();
  if (s == NULL) return NULL;
  nftnl_set_set_u32(s, NFTNL_SET_FAMILY, (uint32_t)family);
  nftnl_set_set_str(s, NFTNL_SET_TABLE, table);
  nftnl_set_set_str(s, NFTNL_SET_NAME, name);
  return s;
}

int cnet_nft_tx_add_set(struct cnet_nft_tx *tx, int family, const char *table, const char *set,
                        const struct cnet_nft_set_spec *spec) {
  tx->errmsg[0] = '\0';
  int rc = check_chain(tx, family, table, set);
  if (rc < 0) return rc;
  const struct cnet_nft_settype *t = spec && spec->type ? cnet_nft_settype_byname(spec->type)
                                                        : NULL;
  if (t == NULL)
    return fail(tx, -EINVAL, "unknown set type \"%s\" (ipv4_addr, ipv6_addr, ether_addr, "
                "inet_proto, inet_service, mark, ifname)", spec && spec->type ? spec->type : "");
  struct nftnl_set *s = set_obj(family, table, set);
  if (s != NULL) {
    uint32_t flags = 0;
    if (spec->flags & CNET_NFT_SET_INTERVAL) flags |= NFT_SET_INTERVAL;
    if (spec->flags & CNET_NFT_SET_CONSTANT) flags |= NFT_SET_CONSTANT;
    nftnl_set_set_u32(s, NFTNL_SET_FLAGS, flags);
    nftnl_set_set_u32(s, NFTNL_SET_KEY_TYPE, t->type);
    nftnl_set_set_u32(s, NFTNL_SET_KEY_LEN, t->len);
    nftnl_set_set_u32(s, NFTNL_SET_ID, ++tx->set_id);
  }
  return push(tx, K_SET, NFT_MSG_NEWSET, NLM_F_CREATE, family, s, NULL, "add set %s %s %s",
              cnet_nft_family_name(family), table, set);
}

static int set_cmd(struct cnet_nft_tx *tx, uint16_t type, const char *verb, int family,
                   const char *table, const char *set) {
  tx->errmsg[0] = '\0';
  int rc = check_chain(tx, family, table, set);
  if (rc < 0) return rc;
  return push(tx, type == NFT_MSG_DELSET ? K_SET : K_ELEMS, type, 0, family,
              set_obj(family, table, set), NULL, "%s set %s %s %s", verb,
              cnet_nft_family_name(family), table, set);
}

int cnet_nft_tx_delete_set(struct cnet_nft_tx *tx, int family, const char *table,
                           const char *set) {
  return set_cmd(tx, NFT_MSG_DELSET, "delete", family, table, set);
}

int cnet_nft_tx_flush_set(struct cnet_nft_tx *tx, int family, const char *table,
                          const char *set) {
  return set_cmd(tx, NFT_MSG_DELSETELEM, "flush", family, table, set);
}

int cnet_nft_tx_elements(struct cnet_nft_tx *tx, int family, const char *table, const char *set,
                         const char *const *elems, unsigned n, int del) {
  tx->errmsg[0] = '\0';
  int rc = check_chain(tx, family, table, set);
  if (rc < 0) return rc;
  uint32_t type, len, flags, id;
  rc = find_set(tx, family, table, set, &type, &len, &flags, &id);
  if (rc < 0)
    return fail(tx, rc, rc == -ENOENT ? "no set %s %s %s" : "cannot read set %s %s %s",
                cnet_nft_family_name(family), table, set);
  const char *fam = cnet_nft_family_name(family), *verb = del ? "delete" : "add";
  unsigned before = tx->n;
  for (unsigned first = 0; first < n || (n == 0 && first == 0); first += ELEMS_PER_MSG) {
    struct nftnl_set *s = set_obj(family, table, set);
    if (s == NULL) { rc = fail(tx, -ENOMEM, "out of memory"); break; }
    if (id) nftnl_set_set_u32(s, NFTNL_SET_ID, id);
    nftnl_set_set_u32(s, NFTNL_SET_KEY_TYPE, type);
    nftnl_set_set_u32(s, NFTNL_SET_KEY_LEN, len);
    nftnl_set_set_u32(s, NFTNL_SET_FLAGS, flags);
    /* the label quotes the first elements of this message */
    char shown[160] = "";
    size_t used = 0;
    unsigned last = first + ELEMS_PER_MSG < n ? first + ELEMS_PER_MSG : n;
    for (unsigned i = first; i < last; i++) {
      rc = cnet_nft_elem_parse(s, type, len, (flags & NFT_SET_INTERVAL) != 0, elems[i],
                               tx->errmsg, sizeof tx->errmsg);
      if (rc < 0) break;
      if (used < sizeof shown - 1) {
        int w = snprintf(shown + used, sizeof shown - used, "%s%s", i > first ? ", " : "",
                         elems[i]);
        used = w < 0 ? used : used + (size_t)w;
        if (used >= sizeof shown - 1) strcpy(shown + sizeof shown - 4, "...");
      }
    }
    if (rc < 0) { nftnl_set_free(s); break; }
    rc = push(tx, K_ELEMS, del ? NFT_MSG_DELSETELEM : NFT_MSG_NEWSETELEM,
              del ? 0 : NLM_F_CREATE, family, s, NULL, "%s element %s %s %s { %s }", verb, fam,
              table, set, shown);
    if (rc < 0 || n == 0) break;
  }
  if (rc < 0) /* all or nothing: drop the chunks this call queued */
    while (tx->n > before) cmd_free(&tx->cmds[--tx->n]);
  return rc;
}

/* ---- commit ---- */

/* BEGIN or END; a BEGIN carries the generation the transaction's reads saw, if any. */
static int put_batch_marker(struct cnet_nl *nl, uint16_t type, const struct cnet_nft_tx *tx) {
  struct nlmsghdr *nlh = cnet_nl_msg(nl, type, 0);
  if (nlh == NULL) return -ENOMEM;
  struct nfgenmsg *g = mnl_nlmsg_put_extra_header(nlh, sizeof *g);
  g->nfgen_family = AF_UNSPEC;
  g->version = NFNETLINK_V0;
  g->res_id = htons(NFNL_SUBSYS_NFTABLES);
  if (tx != NULL && tx->have_gen) mnl_attr_put_u32(nlh, NFNL_BATCH_GENID, htonl(tx->gen));
  return cnet_nl_queue(nl, NULL, NULL);
}

static void build_payload(struct nlmsghdr *nlh, const struct cmd *c) {
  switch (c->kind) {
  case K_TABLE: nftnl_table_nlmsg_build_payload(nlh, c->obj); break;
  case K_CHAIN: nftnl_chain_nlmsg_build_payload(nlh, c->obj); break;
  case K_RULE: nftnl_rule_nlmsg_build_payload(nlh, c->obj); break;
  case K_SET:
    nftnl_set_nlmsg_build_payload(nlh, c->obj);
    break;
  case K_ELEMS: nftnl_set_elems_nlmsg_build_payload(nlh, c->obj); break;
  }
}

/* Queues one message for command `cmd`; owner[index] = cmd (owner is sized for the batch). */
static int put(struct cnet_nl *nl, uint16_t type, int family, uint16_t flags,
               void (*build)(struct nlmsghdr *, const void *), const void *obj, int cmd,
               int *owner, unsigned cap) {
  /* No NLM_F_ACK: nfnetlink handles the batch inside sendmsg and answers only the messages
   * it refuses (each error carries that message's sequence number), so a batch of any size
   * needs room for its errors only, not for an ACK per message. */
  struct nlmsghdr *nlh = cnet_nft_msg(nl, type, family, flags);
  if (nlh == NULL) return -ENOMEM;
  build(nlh, obj);
  int idx = cnet_nl_queue(nl, NULL, NULL);
  if (idx < 0) return idx;
  if ((unsigned)idx < cap) owner[idx] = cmd;
  return 0;
}

static void build_cmd(struct nlmsghdr *nlh, const void *c) { build_payload(nlh, c); }
static void build_set(struct nlmsghdr *nlh, const void *s) {
  nftnl_set_nlmsg_build_payload(nlh, (struct nftnl_set *)s);
}
static void build_elems(struct nlmsghdr *nlh, const void *s) {
  nftnl_set_elems_nlmsg_build_payload(nlh, (struct nftnl_set *)s);
}

int cnet_nft_tx_commit(struct cnet_nft_tx *tx, int *failed) {
  *failed = -1;
  tx->errmsg[0] = '\0';
  if (tx->spent) return fail(tx, -EINVAL, "transaction already committed");
  tx->spent = 1;
  if (tx->n == 0) return 0;
  struct cnet_nl *nl;
  int rc = cnet_netns_nfnl(tx->ns, &nl);
  unsigned cap = 2;
  for (unsigned i = 0; i < tx->n; i++) cap += 1 + 2 * tx->cmds[i].anon.nsets;
  int *owner = rc < 0 ? NULL : malloc(cap * sizeof *owner);
  if (rc < 0 || owner == NULL) {
    free(owner);
    return fail(tx, rc < 0 ? rc : -ENOMEM, "cannot open nfnetlink");
  }
  for (unsigned i = 0; i < cap; i++) owner[i] = -1; /* BEGIN, END: the batch itself */
  rc = put_batch_marker(nl, NFNL_MSG_BATCH_BEGIN, tx);
  for (unsigned i = 0; i < tx->n && rc >= 0; i++) {
    struct cmd *c = &tx->cmds[i];
    for (unsigned k = 0; k < c->anon.nsets && rc >= 0; k++) {
      rc = put(nl, NFT_MSG_NEWSET, c->family, NLM_F_CREATE, build_set, c->anon.sets[k], (int)i,
               owner, cap);
      if (rc >= 0)
        rc = put(nl, NFT_MSG_NEWSETELEM, c->family, NLM_F_CREATE, build_elems,
                 c->anon.sets[k], (int)i, owner, cap);
    }
    if (rc >= 0) rc = put(nl, c->type, c->family, c->flags, build_cmd, c, (int)i, owner, cap);
  }
  if (rc >= 0) rc = put_batch_marker(nl, NFNL_MSG_BATCH_END, NULL);
  if (rc < 0) {
    /* Out of memory midway. The queue must be emptied: what is in it goes out without its
     * END, and the kernel aborts a batch that does not end, applying none of it. */
    if (cnet_nl_pending(nl) > 0) (void)cnet_nl_flush(nl, 1);
    free(owner);
    return fail(tx, -ENOMEM, "cannot build the batch: %s", strerror(ENOMEM));
  }
  rc = cnet_nl_flush(nl, 1);
  if (rc < 0) {
    int first = cnet_nl_first_error(nl);
    const char *msg = "";
    if (first >= 0) {
      cnet_nl_result(nl, (unsigned)first, &msg);
      if ((unsigned)first < cap) *failed = owner[first];
    }
    if (rc == -ERESTART && *failed < 0 && !msg[0])
      msg = "the ruleset changed after this transaction read it: build it again";
    fail(tx, rc, "%s", msg);
  }
  free(owner);
  return rc;
}
