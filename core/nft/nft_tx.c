#define _GNU_SOURCE /* vasprintf */
/* Transactions: commands collected as libnftnl objects, sent at commit as one nfnetlink batch
 * (BEGIN, commands, END in a single sendmsg). See include/cnet/nft.h.
 *
 * Rules are the bulk of a big transaction, so they are kept lean: each added rule is compiled
 * into one reused nftnl_rule, turned into its netlink attributes at once (appended to the
 * transaction's byte arena), and its expressions dropped; commit copies those bytes behind a
 * fresh header. A rule's label is written only when someone asks for it (an error).
 * Set elements, the bulk of a big set, go the same way: parsed from their text straight into
 * netlink attributes in the arena (no libnftnl object per element), one command per message's
 * worth of them. */
#include <errno.h>
#include <net/if.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <arpa/inet.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nfnetlink.h>
#include <libnftnl/table.h>
#include <libnftnl/chain.h>
#include <libnftnl/rule.h>
#include <libnftnl/expr.h>
#include <libnftnl/set.h>
#include <libnftnl/gen.h>

#include "cnet/nftrule.h"
#include "nft/nft_int.h"

enum kind { K_TABLE, K_CHAIN, K_RULE, K_SET, K_ELEMS };
/* Element attributes per NEWSETELEM message: well inside one message's room (and the 16-bit
 * length of the attribute nesting them); about a thousand IPv4 addresses. */
enum { ELEM_BYTES = 16 * 1024 };

struct cmd {
  enum kind kind;
  uint16_t type, flags;         /* NFT_MSG_*, NLM_F_* besides REQUEST|ACK */
  int family;
  void *obj;                    /* nftnl_table / chain / rule / set; NULL for a rule already
                                 * serialized: its attributes are in the arena. For K_ELEMS the
                                 * set names the set only: its elements are in the arena */
  size_t off, len;              /* those attributes: tx->arena + off, len bytes */
  struct cnet_nftrule_out anon; /* a rule's anonymous sets, sent before it */
  char *label;                  /* NULL for a serialized rule until cnet_nft_tx_label */
  char *names;                  /* serialized rule: "table\0chain\0text" for its label */
  const char *verb;             /* serialized rule: "add", "insert", "replace" */
  uint64_t handle;              /* serialized rule: its position or handle (label only) */
};

/* Something the transaction read from the kernel: whether a table exists (name NULL), or a
 * set's key type, length and flags. */
struct fact {
  int family;
  char *table, *name;
  int present;
  struct cnet_nftrule_setinfo set;  /* a set's types, lengths, flags (set_id unused) */
};

struct cnet_nft_tx {
  struct cnet_netns *ns;
  struct cmd *cmds;
  unsigned n, cap;
  uint32_t set_id;              /* last NFTA_SET_ID handed out in this transaction */
  int spent;                    /* committed (or tried to): no more commands */
  int have_gen;                 /* the transaction read the ruleset: gen is its generation */
  uint32_t gen;
  struct fact *facts;           /* what it read (commit checks them again after -ERESTART) */
  unsigned nfacts, capfacts;
  char *arena;                  /* serialized rules' and elements' attributes, back to back */
  size_t alen, acap;
  struct nftnl_rule *rule;      /* reused for every rule of the same family/table/chain */
  char errmsg[CNET_NFTRULE_ERRMAX];
};

/* libnftnl writes a message's attributes without checking the room it writes into, so cnet
 * calls it only where there is room for the largest it can write: a rule's own attributes
 * (names under 256 bytes, a comment), one expression (names, data of 64 bytes at most), a
 * table, chain or set (names), one set element. A rule as a whole is kept to what the kernel
 * can list back (CNET_NFT_LIST_MAX, nft_rule_size.c), well inside the send queue's 64 KiB per
 * message and the 16-bit length of the attribute that nests its expressions. */
enum { PIECE_ROOM = 16 * 1024 };

int cnet_nft_tx_new(struct cnet_netns *ns, struct cnet_nft_tx **out) {
  *out = calloc(1, sizeof **out);
  if (*out == NULL) return -ENOMEM;
  (*out)->ns = ns;
  return 0;
}

static void cmd_free(struct cmd *c) {
  if (c->obj != NULL) { /* NULL when its allocation failed; libnftnl's frees refuse NULL */
    switch (c->kind) {
    case K_TABLE: nftnl_table_free(c->obj); break;
    case K_CHAIN: nftnl_chain_free(c->obj); break;
    case K_RULE: nftnl_rule_free(c->obj); break;
    case K_SET: case K_ELEMS: nftnl_set_free(c->obj); break;
    }
  }
  cnet_nftrule_out_free(&c->anon);
  free(c->label);
  free(c->names);
}

static void drop_all(struct cnet_nft_tx *tx) {
  for (unsigned i = 0; i < tx->n; i++) cmd_free(&tx->cmds[i]);
  tx->n = 0;
}

void cnet_nft_tx_free(struct cnet_nft_tx *tx) {
  if (tx == NULL) return;
  drop_all(tx);
  for (unsigned i = 0; i < tx->nfacts; i++) {
    free(tx->facts[i].table);
    free(tx->facts[i].name);
  }
  free(tx->facts);
  free(tx->cmds);
  free(tx->arena);
  if (tx->rule != NULL) nftnl_rule_free(tx->rule);
  free(tx);
}

unsigned cnet_nft_tx_count(const struct cnet_nft_tx *tx) { return tx->n; }
const char *cnet_nft_tx_errmsg(const struct cnet_nft_tx *tx) { return tx->errmsg; }
const char *cnet_nft_tx_label(const struct cnet_nft_tx *tx, unsigned i) {
  if (i >= tx->n) return NULL;
  struct cmd *c = &tx->cmds[i];
  if (c->label == NULL && c->names != NULL) { /* a serialized rule: written on demand */
    const char *table = c->names, *chain = table + strlen(table) + 1;
    const char *text = chain + strlen(chain) + 1, *fam = cnet_nft_family_name(c->family);
    const char *what = c->verb[0] == 'r' ? " handle" : " position";
    char num[32] = "";
    if (c->handle) snprintf(num, sizeof num, "%s %llu", what, (unsigned long long)c->handle);
    if (asprintf(&c->label, "%s rule %s %s %s%s \"%s\"", c->verb, fam, table, chain, num,
                 text) < 0)
      c->label = NULL;
  }
  return c->label;
}

static int fail(struct cnet_nft_tx *tx, int rc, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(tx->errmsg, sizeof tx->errmsg, fmt, ap);
  va_end(ap);
  return rc;
}

/* Appends a command; takes obj (freed on failure). The label is printf-formatted. */
static int grow(struct cnet_nft_tx *tx) {
  unsigned cap = tx->cap ? tx->cap * 2 : 16;
  struct cmd *p = realloc(tx->cmds, cap * sizeof *p);
  if (p == NULL) return -ENOMEM;
  tx->cmds = p;
  tx->cap = cap;
  return 0;
}

static int push(struct cnet_nft_tx *tx, enum kind kind, uint16_t type, uint16_t flags,
                int family, void *obj, struct cnet_nftrule_out *anon, const char *fmt, ...) {
  struct cmd c = {kind, type, flags, family, obj, 0, 0, {NULL, 0}, NULL, NULL, NULL, 0};
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
  if (tx->n == tx->cap && grow(tx) < 0) goto nomem;
  tx->cmds[tx->n++] = c;
  return 0;
nomem:
  cmd_free(&c);
  return fail(tx, -ENOMEM, "out of memory");
}

/* Appends a rule serialized into tx->arena (off, len); names is "table\0chain\0text" (taken;
 * freed on failure). */
static int push_rule(struct cnet_nft_tx *tx, uint16_t flags, int family, size_t off, size_t len,
                     struct cnet_nftrule_out *anon, char *names, const char *verb,
                     uint64_t handle) {
  if (names == NULL || (tx->n == tx->cap && grow(tx) < 0)) {
    free(names);
    cnet_nftrule_out_free(anon);
    return fail(tx, -ENOMEM, "out of memory");
  }
  struct cmd *c = &tx->cmds[tx->n++];
  memset(c, 0, sizeof *c);
  c->kind = K_RULE;
  c->type = NFT_MSG_NEWRULE;
  c->flags = flags;
  c->family = family;
  c->off = off;
  c->len = len;
  c->anon = *anon;
  c->names = names;
  c->verb = verb;
  c->handle = handle;
  return 0;
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
  if (nftnl_table_set_str(t, NFTNL_TABLE_NAME, table) < 0) { /* its copy failed */
    nftnl_table_free(t);
    return NULL;
  }
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
  if (nftnl_rule_set_str(r, NFTNL_RULE_TABLE, table) < 0 ||
      (chain != NULL && nftnl_rule_set_str(r, NFTNL_RULE_CHAIN, chain) < 0)) {
    nftnl_rule_free(r);
    return NULL;
  }
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
  if (nftnl_chain_set_str(c, NFTNL_CHAIN_TABLE, table) < 0 ||
      nftnl_chain_set_str(c, NFTNL_CHAIN_NAME, chain) < 0) {
    nftnl_chain_free(c);
    return NULL;
  }
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
    /* as nft ("Missing `device' in this chain definition"): such a hook is per device */
    if (spec->device == NULL &&
        (family == NFPROTO_NETDEV || (family == NFPROTO_INET && strcmp(spec->hook, "ingress") == 0)))
      return fail(tx, -EINVAL, "a base chain on the %s %s hook needs a device", fam, spec->hook);
  }
  struct nftnl_chain *c = chain_obj(family, table, chain);
  if (c != NULL && spec != NULL && spec->type != NULL) {
    int bad = nftnl_chain_set_str(c, NFTNL_CHAIN_TYPE, spec->type) < 0;
    nftnl_chain_set_u32(c, NFTNL_CHAIN_HOOKNUM, hook);
    nftnl_chain_set_s32(c, NFTNL_CHAIN_PRIO, prio);
    if (spec->policy != NULL) nftnl_chain_set_u32(c, NFTNL_CHAIN_POLICY, policy);
    if (spec->device != NULL) bad |= nftnl_chain_set_str(c, NFTNL_CHAIN_DEV, spec->device) < 0;
    if (bad) {
      nftnl_chain_free(c);
      c = NULL; /* push reports the failed allocation */
    }
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

static int ignore_reply(const struct nlmsghdr *nlh, void *data) {
  (void)nlh;
  (void)data;
  return MNL_CB_OK;
}

/* The fact about family/table[/name] the transaction read, or NULL. */
static struct fact *fact_of(struct cnet_nft_tx *tx, int family, const char *table,
                            const char *name) {
  for (unsigned i = 0; i < tx->nfacts; i++) {
    struct fact *f = &tx->facts[i];
    if (f->family == family && strcmp(f->table, table) == 0 &&
        (name == NULL ? f->name == NULL : f->name != NULL && strcmp(f->name, name) == 0))
      return f;
  }
  return NULL;
}

static int add_fact(struct cnet_nft_tx *tx, const struct fact *f) {
  if (tx->nfacts == tx->capfacts) {
    unsigned cap = tx->capfacts ? tx->capfacts * 2 : 4;
    struct fact *v = realloc(tx->facts, cap * sizeof *v);
    if (v == NULL) return -ENOMEM;
    tx->facts = v;
    tx->capfacts = cap;
  }
  struct fact *n = &tx->facts[tx->nfacts];
  *n = *f;
  n->table = strdup(f->table);
  n->name = f->name ? strdup(f->name) : NULL;
  if (n->table == NULL || (f->name && n->name == NULL)) {
    free(n->table);
    free(n->name);
    return -ENOMEM;
  }
  tx->nfacts++;
  return 0;
}

/* Whether family/table exists: 1, 0, or -errno. */
static int read_table(struct cnet_nl *nl, int family, const char *table) {
  struct nftnl_table *t = table_obj(family, table);
  if (t == NULL) return -ENOMEM;
  struct nlmsghdr *nlh = cnet_nft_msg(nl, NFT_MSG_GETTABLE, family, NLM_F_ACK);
  if (nlh == NULL) {
    nftnl_table_free(t);
    return -ENOMEM;
  }
  nftnl_table_nlmsg_build_payload(nlh, t);
  nftnl_table_free(t);
  int rc = cnet_nl_talk(nl, ignore_reply, NULL, NULL); /* a callback: never deferred by a batch */
  return rc == 0 ? 1 : rc == -ENOENT ? 0 : rc;
}

/* What the rule compiler needs of a set: key and data types and lengths, flags, object
 * type (set_id left 0). */
static void set_info(const struct nftnl_set *s, struct cnet_nftrule_setinfo *info) {
  static const uint16_t attr[] = {NFTNL_SET_KEY_TYPE, NFTNL_SET_KEY_LEN, NFTNL_SET_FLAGS,
                                  NFTNL_SET_DATA_TYPE, NFTNL_SET_DATA_LEN, NFTNL_SET_OBJ_TYPE};
  uint32_t *dst[] = {&info->key_type, &info->key_len, &info->flags, &info->data_type,
                     &info->data_len, &info->obj_type};
  memset(info, 0, sizeof *info);
  for (size_t i = 0; i < sizeof attr / sizeof attr[0]; i++)
    *dst[i] = nftnl_set_is_set(s, attr[i]) ? nftnl_set_get_u32(s, attr[i]) : 0;
}

/* A set as the kernel has it: 0, -ENOENT, or another -errno. */
static int read_set(struct cnet_nl *nl, int family, const char *table, const char *name,
                    struct cnet_nftrule_setinfo *info) {
  int rc;
  struct nftnl_set *q = nftnl_set_alloc(), *r = nftnl_set_alloc();
  if (q == NULL || r == NULL || nftnl_set_set_str(q, NFTNL_SET_TABLE, table) < 0 ||
      nftnl_set_set_str(q, NFTNL_SET_NAME, name) < 0) {
    rc = -ENOMEM;
    goto out;
  }
  struct nlmsghdr *nlh = cnet_nft_msg(nl, NFT_MSG_GETSET, family, NLM_F_ACK);
  if (nlh == NULL) { rc = -ENOMEM; goto out; }
  nftnl_set_nlmsg_build_payload(nlh, q);
  rc = cnet_nl_talk(nl, set_reply, r, NULL);
  if (rc == 0) set_info(r, info);
out: /* libnftnl's free functions do not take NULL */
  if (q != NULL) nftnl_set_free(q);
  if (r != NULL) nftnl_set_free(r);
  return rc;
}

int cnet_nft_tx_table_exists(struct cnet_nft_tx *tx, int family, const char *table) {
  tx->errmsg[0] = '\0';
  int rc;
  if ((rc = check_family(tx, family)) < 0 || (rc = check_name(tx, "table", table)) < 0)
    return rc;
  struct fact *known = fact_of(tx, family, table, NULL);
  if (known != NULL) return known->present;
  struct cnet_nl *nl;
  rc = cnet_netns_nfnl(tx->ns, &nl);
  if (rc == 0) rc = remember_gen(tx, nl);
  if (rc == 0) rc = read_table(nl, family, table);
  if (rc >= 0) {
    struct fact f = {family, (char *)table, NULL, rc, {0}};
    if (add_fact(tx, &f) < 0) return -ENOMEM;
  }
  return rc;
}

/* The set's types, lengths, flags and (when made in this transaction) id: from the
 * transaction, or read from the kernel once (a fact, pinned by the generation).
 * Returns 0, -ENOENT, or another -errno from the kernel. */
static int find_set(struct cnet_nft_tx *tx, int family, const char *table, const char *name,
                    struct cnet_nftrule_setinfo *info) {
  struct nftnl_set *s = tx_set(tx, family, table, name);
  if (s != NULL) {
    set_info(s, info);
    info->set_id = nftnl_set_get_u32(s, NFTNL_SET_ID);
    return 0;
  }
  struct fact *known = fact_of(tx, family, table, name);
  if (known != NULL) {
    *info = known->set;
    return 0;
  }
  struct cnet_nl *nl;
  int rc = cnet_netns_nfnl(tx->ns, &nl);
  if (rc == 0) rc = remember_gen(tx, nl);
  if (rc == 0) rc = read_set(nl, family, table, name, info);
  if (rc == 0) {
    struct fact f = {family, (char *)table, (char *)name, 1, *info};
    rc = add_fact(tx, &f);
  }
  return rc;
}

struct rule_ctx {
  struct cnet_nft_tx *tx;
  int family;
  const char *table;
};

static uint32_t next_set_id(void *ud) { return ++((struct rule_ctx *)ud)->tx->set_id; }

static int lookup_set(void *ud, const char *name, struct cnet_nftrule_setinfo *info) {
  struct rule_ctx *c = ud;
  return find_set(c->tx, c->family, c->table, name, info);
}

static int ifindex(void *ud, const char *ifname, uint32_t *index) {
  struct rule_ctx *c = ud;
  cnet_netns_sync(c->tx->ns); /* a device a link batch made earlier must exist by now */
  int saved, rc = cnet_netns_enter(c->tx->ns, &saved);
  if (rc < 0) return rc;
  unsigned i = if_nametoindex(ifname);
  rc = i == 0 ? -ENODEV : 0;
  cnet_netns_leave(saved);
  *index = i;
  return rc;
}

/* ---- rules ---- */

/* The reusable rule object for family/table/chain, emptied of expressions and of any
 * position or handle; NULL on ENOMEM. */
static struct nftnl_rule *scratch_rule(struct cnet_nft_tx *tx, int family, const char *table,
                                       const char *chain) {
  struct nftnl_rule *r = tx->rule;
  if (r != NULL && (int)nftnl_rule_get_u32(r, NFTNL_RULE_FAMILY) == family &&
      strcmp(nftnl_rule_get_str(r, NFTNL_RULE_TABLE), table) == 0 &&
      strcmp(nftnl_rule_get_str(r, NFTNL_RULE_CHAIN), chain) == 0) {
    nftnl_rule_unset(r, NFTNL_RULE_POSITION);
    nftnl_rule_unset(r, NFTNL_RULE_HANDLE);
    nftnl_rule_unset(r, NFTNL_RULE_USERDATA); /* a comment */
    return r;
  }
  if (r != NULL) nftnl_rule_free(r);
  tx->rule = rule_obj(family, table, chain);
  return tx->rule;
}

static int drop_expr(struct nftnl_expr *e, void *data) {
  (void)data;
  nftnl_rule_del_expr(e);
  nftnl_expr_free(e);
  return 0;
}

/* Room for n more bytes at the end of the arena. */
static int arena_reserve(struct cnet_nft_tx *tx, size_t n) {
  if (tx->acap - tx->alen >= n) return 0;
  size_t cap = tx->acap ? tx->acap * 2 : 64 * 1024;
  while (cap - tx->alen < n) cap *= 2;
  char *p = realloc(tx->arena, cap);
  if (p == NULL) return -ENOMEM;
  tx->arena = p;
  tx->acap = cap;
  return 0;
}

struct exprs { struct nftnl_expr **v; unsigned n, cap; int nomem; };

static int take_expr(struct nftnl_expr *e, void *data) {
  struct exprs *x = data;
  if (x->n == x->cap) {
    unsigned cap = x->cap ? x->cap * 2 : 32;
    struct nftnl_expr **v = realloc(x->v, cap * sizeof *v);
    if (v == NULL) { x->nomem = 1; return 0; } /* left in the rule, freed with the others */
    x->v = v;
    x->cap = cap;
  }
  nftnl_rule_del_expr(e);
  x->v[x->n++] = e;
  return 0;
}

/* Appends the netlink attributes of r to the arena (*off: where they start, *len: how many
 * bytes) and frees r's expressions. They are written piece by piece behind a temporary
 * message header in the arena, with PIECE_ROOM free before each piece: the rule's own
 * attributes (its expressions taken out), then each expression in the nest that holds them.
 * Returns 0, -ENOMEM, or -EMSGSIZE when the kernel could not list the rule back (error text
 * set; the arena as it was). */
static int serialize_rule(struct cnet_nft_tx *tx, struct nftnl_rule *r, size_t *off,
                          size_t *len) {
  struct exprs x = {NULL, 0, 0, 0};
  nftnl_expr_foreach(r, take_expr, &x);
  size_t start = tx->alen, hdr = MNL_NLMSG_HDRLEN + MNL_ALIGN(sizeof(struct nfgenmsg));
  int rc = x.nomem ? -ENOMEM : arena_reserve(tx, PIECE_ROOM);
  struct nlmsghdr *nlh = NULL;
  size_t nest = 0;
  if (rc == 0) {
    nlh = mnl_nlmsg_put_header(tx->arena + start);
    mnl_nlmsg_put_extra_header(nlh, sizeof(struct nfgenmsg));
    nftnl_rule_nlmsg_build_payload(nlh, r);
    if (x.n > 0) {
      nest = nlh->nlmsg_len;
      mnl_attr_nest_start(nlh, NFTA_RULE_EXPRESSIONS);
    }
  }
  for (unsigned i = 0; rc == 0 && i < x.n; i++) {
    tx->alen = start + nlh->nlmsg_len;
    if ((rc = arena_reserve(tx, PIECE_ROOM)) < 0) break;
    nlh = (struct nlmsghdr *)(void *)(tx->arena + start); /* the arena may have moved */
    struct nlattr *elem = mnl_attr_nest_start(nlh, NFTA_LIST_ELEM);
    nftnl_expr_build_payload(nlh, x.v[i]);
    mnl_attr_nest_end(nlh, elem);
  }
  size_t sent = rc == 0 ? nlh->nlmsg_len - hdr : 0, listed = 0;
  if (rc == 0 && cnet_nft_rule_listed_bound(sent) > CNET_NFT_LIST_MAX)
    listed = cnet_nft_rule_listed_size(sent, x.v, x.n);
  if (listed > CNET_NFT_LIST_MAX)
    rc = fail(tx, -EMSGSIZE, "rule too long: the kernel would list it in %zu bytes, more than "
              "the %d of one listing message", listed, (int)CNET_NFT_LIST_MAX);
  if (rc == 0 && x.n > 0) /* the nest's 16-bit length holds: it is under CNET_NFT_LIST_MAX */
    mnl_attr_nest_end(nlh, (struct nlattr *)(void *)((char *)nlh + nest));
  for (unsigned i = 0; i < x.n; i++) nftnl_expr_free(x.v[i]);
  free(x.v);
  tx->alen = start;
  if (rc < 0) return rc == -ENOMEM ? fail(tx, rc, "out of memory") : rc;
  /* the attributes go where the header was: commit writes a fresh header for them */
  size_t n = nlh->nlmsg_len - hdr;
  memmove(tx->arena + start, tx->arena + start + hdr, n);
  *off = start;
  *len = n;
  tx->alen = start + n;
  return 0;
}

static char *rule_names(const char *table, const char *chain, const char *text) {
  size_t a = strlen(table) + 1, b = strlen(chain) + 1, c = strlen(text) + 1;
  char *p = malloc(a + b + c);
  if (p == NULL) return NULL;
  memcpy(p, table, a);
  memcpy(p + a, chain, b);
  memcpy(p + a + b, text, c);
  return p;
}

int cnet_nft_tx_add_rule(struct cnet_nft_tx *tx, int family, const char *table,
                         const char *chain, const char *text, enum cnet_nft_where where,
                         uint64_t handle) {
  tx->errmsg[0] = '\0';
  int rc = check_chain(tx, family, table, chain);
  if (rc < 0) return rc;
  if (where == CNET_NFT_REPLACE && handle == 0)
    return fail(tx, -EINVAL, "replace needs the handle of the rule to replace");
  if (tx->spent) return fail(tx, -EINVAL, "transaction already committed");
  struct nftnl_rule *r = scratch_rule(tx, family, table, chain);
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
    nftnl_expr_foreach(r, drop_expr, NULL);
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
  size_t off = 0, len = 0;
  rc = serialize_rule(tx, r, &off, &len);
  nftnl_expr_foreach(r, drop_expr, NULL); /* any it could not take out */
  if (rc < 0) {
    cnet_nftrule_out_free(&anon);
    tx->set_id = saved_id;
    return rc;
  }
  return push_rule(tx, flags, family, off, len, &anon, rule_names(table, chain, text), verb,
                   handle);
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
  if (nftnl_set_set_str(s, NFTNL_SET_TABLE, table) < 0 ||
      nftnl_set_set_str(s, NFTNL_SET_NAME, name) < 0) {
    nftnl_set_free(s);
    return NULL;
  }
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
    if (spec->size) nftnl_set_set_u32(s, NFTNL_SET_DESC_SIZE, spec->size);
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

/* Elements go straight from text to netlink attributes in the arena (no libnftnl object per
 * element), ELEM_BYTES of them per message; each message's command keeps a set object naming
 * the set, and a label quoting its first elements. */
int cnet_nft_tx_elements(struct cnet_nft_tx *tx, int family, const char *table, const char *set,
                         const char *const *elems, unsigned n, int del) {
  tx->errmsg[0] = '\0';
  int rc = check_chain(tx, family, table, set);
  if (rc < 0) return rc;
  if (tx->spent) return fail(tx, -EINVAL, "transaction already committed");
  struct cnet_nftrule_setinfo si;
  rc = find_set(tx, family, table, set, &si);
  uint32_t type = si.key_type, len = si.key_len, flags = si.flags, id = si.set_id;
  if (rc < 0)
    return fail(tx, rc, rc == -ENOENT ? "no set %s %s %s" : "cannot read set %s %s %s",
                cnet_nft_family_name(family), table, set);
  const char *fam = cnet_nft_family_name(family), *verb = del ? "delete" : "add";
  int interval = (flags & NFT_SET_INTERVAL) != 0;
  unsigned before = tx->n, i = 0;
  size_t abefore = tx->alen;
  do { /* one message; also one (empty) for no elements at all */
    struct nftnl_set *s = set_obj(family, table, set);
    if (s == NULL || arena_reserve(tx, ELEM_BYTES + 2 * CNET_NFT_ELEM_MAX) < 0) {
      if (s != NULL) nftnl_set_free(s);
      rc = fail(tx, -ENOMEM, "out of memory");
      break;
    }
    if (id) nftnl_set_set_u32(s, NFTNL_SET_ID, id);
    size_t off = tx->alen;
    char shown[160] = ""; /* the label quotes the first elements of this message */
    size_t used = 0;
    for (unsigned first = i; i < n && tx->alen - off < ELEM_BYTES; i++) {
      struct cnet_nft_elem e[2];
      int k = cnet_nft_elem_keys(type, len, interval, elems[i], e, tx->errmsg,
                                 sizeof tx->errmsg);
      if (k < 0) { rc = k; break; }
      for (int j = 0; j < k; j++)
        tx->alen += cnet_nft_elem_put((unsigned char *)tx->arena + tx->alen, &e[j], len);
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
    if (rc < 0) break;
    tx->cmds[tx->n - 1].off = off;
    tx->cmds[tx->n - 1].len = tx->alen - off;
  } while (i < n);
  if (rc < 0) { /* all or nothing: drop the messages this call queued */
    while (tx->n > before) cmd_free(&tx->cmds[--tx->n]);
    tx->alen = abefore;
  }
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

/* Which command each queued message belongs to (by queue index; -1: the batch itself). */
struct owners { int *v; unsigned cap; };

static int own(struct owners *o, int idx, int cmd) {
  if ((unsigned)idx >= o->cap) {
    unsigned cap = o->cap ? o->cap : 64;
    while (cap <= (unsigned)idx) cap *= 2;
    int *v = realloc(o->v, cap * sizeof *v);
    if (v == NULL) return -ENOMEM;
    for (unsigned i = o->cap; i < cap; i++) v[i] = -1;
    o->v = v;
    o->cap = cap;
  }
  o->v[idx] = cmd;
  return 0;
}

static int owner_of(const struct owners *o, int idx) {
  return idx >= 0 && (unsigned)idx < o->cap ? o->v[idx] : -1;
}

/* Queues the message being built for command `cmd`. No NLM_F_ACK: nfnetlink handles the
 * batch inside sendmsg and answers only the messages it refuses (each error carries that
 * message's sequence number), so a batch of any size needs room for its errors only. */
static int queue_for(struct cnet_nl *nl, int cmd, struct owners *o) {
  int idx = cnet_nl_queue(nl, NULL, NULL);
  return idx < 0 ? idx : own(o, idx, cmd);
}

/* Starts a message, with `need` bytes of room for its body (-EMSGSIZE if the queue cannot
 * give them: libnftnl would write past the end). */
static struct nlmsghdr *start(struct cnet_nl *nl, uint16_t type, int family, uint16_t flags,
                              size_t need, int *rc) {
  struct nlmsghdr *nlh = cnet_nft_msg(nl, type, family, flags);
  *rc = nlh == NULL ? -ENOMEM : cnet_nl_room(nl) < need ? -EMSGSIZE : 0;
  if (*rc == -EMSGSIZE) cnet_nl_cancel(nl);
  return *rc == 0 ? nlh : NULL;
}

/* A command whose libnftnl object holds everything: table, chain, set, rule flush/delete. */
static int put_obj(struct cnet_nl *nl, const struct cmd *c, int cmd, struct owners *o) {
  int rc;
  struct nlmsghdr *nlh = start(nl, c->type, c->family, c->flags, PIECE_ROOM, &rc);
  if (nlh == NULL) return rc;
  switch (c->kind) {
  case K_TABLE: nftnl_table_nlmsg_build_payload(nlh, c->obj); break;
  case K_CHAIN: nftnl_chain_nlmsg_build_payload(nlh, c->obj); break;
  case K_RULE: nftnl_rule_nlmsg_build_payload(nlh, c->obj); break;
  case K_SET: nftnl_set_nlmsg_build_payload(nlh, c->obj); break;
  case K_ELEMS: break;
  }
  return queue_for(nl, cmd, o);
}

/* A serialized rule, or a K_ELEMS command: for elements, the set's names first (its object
 * holds no elements, so libnftnl writes just those), then the serialized elements nested as
 * the element list. The bytes were bounded when they were made (CNET_NFT_LIST_MAX,
 * ELEM_BYTES). */
static int put_bytes(struct cnet_nl *nl, const struct cmd *c, const char *bytes, int cmd,
                     struct owners *o) {
  int rc;
  struct nlmsghdr *nlh = start(nl, c->type, c->family, c->flags, c->len + PIECE_ROOM, &rc);
  if (nlh == NULL) return rc;
  struct nlattr *nest = NULL;
  if (c->kind == K_ELEMS) {
    nftnl_set_elems_nlmsg_build_payload(nlh, c->obj);
    if (c->len > 0) nest = mnl_attr_nest_start(nlh, NFTA_SET_ELEM_LIST_ELEMENTS);
  }
  if (c->len > 0) memcpy((char *)nlh + nlh->nlmsg_len, bytes, c->len);
  nlh->nlmsg_len += (uint32_t)c->len;
  if (nest != NULL) mnl_attr_nest_end(nlh, nest);
  return queue_for(nl, cmd, o);
}

/* An anonymous set of a rule: NEWSET, then its elements, ELEM_BYTES of them per NEWSETELEM
 * message (the element list is one attribute, whose length is 16 bits: a big set needs
 * several messages, as nft sends it). */
static int put_anon_set(struct cnet_nl *nl, const struct cmd *c, struct nftnl_set *s, int cmd,
                        struct owners *o) {
  int rc;
  struct nlmsghdr *nlh = start(nl, NFT_MSG_NEWSET, c->family, NLM_F_CREATE, PIECE_ROOM, &rc);
  if (nlh == NULL) return rc;
  nftnl_set_nlmsg_build_payload(nlh, s);
  if ((rc = queue_for(nl, cmd, o)) < 0) return rc;
  /* the names of the set without its elements, for each message's head */
  struct nftnl_set *names = nftnl_set_alloc();
  struct nftnl_set_elems_iter *it = nftnl_set_elems_iter_create(s);
  if (names == NULL || it == NULL) rc = -ENOMEM;
  static const uint16_t strs[] = {NFTNL_SET_TABLE, NFTNL_SET_NAME};
  for (size_t i = 0; rc == 0 && i < sizeof strs / sizeof strs[0]; i++)
    if (nftnl_set_is_set(s, strs[i]) &&
        nftnl_set_set_str(names, strs[i], nftnl_set_get_str(s, strs[i])) < 0)
      rc = -ENOMEM;
  if (rc == 0 && nftnl_set_is_set(s, NFTNL_SET_ID))
    nftnl_set_set_u32(names, NFTNL_SET_ID, nftnl_set_get_u32(s, NFTNL_SET_ID));
  struct nftnl_set_elem *e = rc == 0 ? nftnl_set_elems_iter_next(it) : NULL;
  while (rc == 0 && e != NULL) {
    nlh = start(nl, NFT_MSG_NEWSETELEM, c->family, NLM_F_CREATE, ELEM_BYTES + 2 * PIECE_ROOM,
                &rc);
    if (nlh == NULL) break;
    nftnl_set_elems_nlmsg_build_payload(nlh, names);
    struct nlattr *nest = mnl_attr_nest_start(nlh, NFTA_SET_ELEM_LIST_ELEMENTS);
    do {
      nftnl_set_elem_nlmsg_build(nlh, e, NFTA_LIST_ELEM);
      e = nftnl_set_elems_iter_next(it);
    } while (e != NULL && mnl_nlmsg_get_payload_tail(nlh) - (void *)nest < ELEM_BYTES);
    mnl_attr_nest_end(nlh, nest);
    rc = queue_for(nl, cmd, o);
  }
  if (it != NULL) nftnl_set_elems_iter_destroy(it);
  if (names != NULL) nftnl_set_free(names);
  return rc;
}

/* The expression of serialized rule c that starts the attribute at byte `off` of its
 * message (where the kernel's extended ACK points): its name, or NULL. */
static const char *blamed_expr(const struct cnet_nft_tx *tx, const struct cmd *c, uint32_t off) {
  /* the message: netlink header, nfgenmsg, then the rule's attributes as serialized */
  size_t base = MNL_NLMSG_HDRLEN + MNL_ALIGN(sizeof(struct nfgenmsg));
  if (c->obj != NULL || off < base || off - base >= c->len) return NULL;
  const char *attrs = tx->arena + c->off;
  const struct nlattr *attr, *e, *x;
  mnl_attr_for_each_payload((const void *)attrs, c->len) {
    if (mnl_attr_get_type(attr) != NFTA_RULE_EXPRESSIONS) continue;
    mnl_attr_for_each_nested(e, attr) {
      size_t at = base + (size_t)((const char *)e - attrs);
      if (off < at || off >= at + mnl_attr_get_payload_len(e) + MNL_ATTR_HDRLEN) continue;
      mnl_attr_for_each_nested(x, e)
        if (mnl_attr_get_type(x) == NFTA_EXPR_NAME &&
            mnl_attr_validate(x, MNL_TYPE_NUL_STRING) == 0)
          return mnl_attr_get_str(x);
    }
  }
  return NULL;
}

/* Queues the whole batch: BEGIN, each command (a rule's anonymous sets before it), END. */
static int put_batch(struct cnet_nft_tx *tx, struct cnet_nl *nl, struct owners *o) {
  int rc = put_batch_marker(nl, NFNL_MSG_BATCH_BEGIN, tx);
  for (unsigned i = 0; i < tx->n && rc >= 0; i++) {
    struct cmd *c = &tx->cmds[i];
    for (unsigned k = 0; k < c->anon.nsets && rc >= 0; k++)
      rc = put_anon_set(nl, c, c->anon.sets[k], (int)i, o);
    if (rc < 0) break;
    if (c->obj == NULL || c->kind == K_ELEMS)
      rc = put_bytes(nl, c, c->len ? tx->arena + c->off : NULL, (int)i, o);
    else rc = put_obj(nl, c, (int)i, o);
  }
  if (rc >= 0) rc = put_batch_marker(nl, NFNL_MSG_BATCH_END, NULL);
  return rc < 0 ? rc : 0;
}

/* After the kernel refused a batch with -ERESTART for its generation, nothing of it was
 * applied. The batch still holds if what the transaction read is still true: read the
 * generation again, then each fact; 1 when all hold (the batch may go again, pinned to the
 * new generation), 0 when one changed, or -errno. */
static int facts_hold(struct cnet_nft_tx *tx, struct cnet_nl *nl) {
  tx->have_gen = 0;
  int rc = remember_gen(tx, nl);
  for (unsigned i = 0; rc == 0 && i < tx->nfacts; i++) {
    struct fact *f = &tx->facts[i];
    if (f->name == NULL) {
      rc = read_table(nl, f->family, f->table);
      if (rc >= 0) rc = rc == f->present ? 0 : 1;
    } else {
      struct cnet_nftrule_setinfo now;
      rc = read_set(nl, f->family, f->table, f->name, &now);
      if (rc == 0) rc = memcmp(&now, &f->set, sizeof now) == 0 ? 0 : 1;
      else if (rc == -ENOENT) rc = 1;
    }
  }
  return rc < 0 ? rc : rc == 0;
}

int cnet_nft_tx_commit(struct cnet_nft_tx *tx, int *failed) {
  *failed = -1;
  tx->errmsg[0] = '\0';
  if (tx->spent) return fail(tx, -EINVAL, "transaction already committed");
  tx->spent = 1;
  if (tx->n == 0) return 0;
  struct cnet_nl *nl;
  int rc = cnet_netns_nfnl(tx->ns, &nl);
  if (rc < 0) return fail(tx, rc, "cannot open nfnetlink");
  struct owners o = {NULL, 0};
  for (int tries = 1;; tries++) {
    rc = put_batch(tx, nl, &o);
    if (rc < 0) {
      /* Midway. The queue must be emptied: what is in it goes out without its END, and the
       * kernel aborts a batch that does not end, applying none of it. */
      if (cnet_nl_pending(nl) > 0) (void)cnet_nl_flush(nl, 1);
      free(o.v);
      return rc == -EMSGSIZE ? fail(tx, rc, "cannot build the batch: a message too long")
                             : fail(tx, -ENOMEM, "cannot build the batch: %s", strerror(ENOMEM));
    }
    cnet_netns_sync(tx->ns); /* the kernel checks devices (netdev chains) against what came before */
    rc = cnet_nl_flush(nl, 1);
    /* -ERESTART on BEGIN: the generation the reads saw is gone, and the kernel applied
     * nothing. Send again, a bounded number of times, while what was read still holds. */
    if (rc != -ERESTART || cnet_nl_first_error(nl) != 0 || !tx->have_gen ||
        tries >= CNET_NFT_RESTART_TRIES)
      break;
    int hold = facts_hold(tx, nl);
    if (hold <= 0) {
      free(o.v);
      return hold < 0 ? fail(tx, hold, "cannot read the ruleset again")
                      : fail(tx, -ERESTART, "the ruleset changed after this transaction read "
                             "it: build it again");
    }
  }
  if (rc < 0) {
    int first = cnet_nl_first_error(nl);
    const char *msg = "";
    if (first >= 0) {
      cnet_nl_result(nl, (unsigned)first, &msg);
      *failed = owner_of(&o, first);
    }
    if (rc == -ERESTART && *failed < 0 && !msg[0])
      msg = "the ruleset kept changing after this transaction read it: build it again";
    if (rc == -ENFILE && *failed >= 0 && tx->cmds[*failed].kind == K_ELEMS && !msg[0])
      msg = "the set is full (it holds no more elements than its size)";
    if (rc == -ENOBUFS && *failed < 0 && !msg[0])
      msg = "the kernel's answers overflowed the receive buffer: the batch was refused, its "
            "errors lost";
    /* a rule the kernel refuses at one of its expressions, without a word: say which, and
     * what the code means there (its own message: the rule's anonymous sets go before it) */
    uint32_t off;
    const char *expr = NULL;
    if (!msg[0] && *failed >= 0 && tx->cmds[*failed].kind == K_RULE &&
        owner_of(&o, first + 1) != *failed && (rc == -ENOENT || rc == -EOPNOTSUPP) &&
        cnet_nl_result_offset(nl, (unsigned)first, &off) == 0)
      expr = blamed_expr(tx, &tx->cmds[*failed], off);
    if (expr != NULL && rc == -ENOENT)
      fail(tx, rc, "at its %s expression: this kernel has none, or what it names does not "
           "exist", expr);
    else if (expr != NULL)
      fail(tx, rc, "at its %s expression: not available in this kernel here (table family, "
           "hook or options)", expr);
    else
      fail(tx, rc, "%s", msg);
  }
  free(o.v);
  return rc;
}
