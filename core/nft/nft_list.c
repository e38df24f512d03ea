/* Listings: tables, chains, rules (decoded to nft text, with counters), sets with elements.
 * Each one is a complete dump first (cnet_nl_dump retries interrupted ones), then a walk. */
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <libnftnl/table.h>
#include <libnftnl/chain.h>
#include <libnftnl/rule.h>
#include <libnftnl/expr.h>
#include <libnftnl/set.h>

#include "cnet/nftrule.h"
#include "nft/nft_int.h"

enum kind { K_TABLE, K_CHAIN, K_RULE, K_SET };

/* What a dump collects: parsed objects of one kind. */
struct objs {
  enum kind kind;
  int family;
  const char *table, *name;     /* request filter (table/chain/set), may be NULL */
  void **v;
  unsigned n, cap;
};

static void *obj_alloc(enum kind k) {
  switch (k) {
  case K_TABLE: return nftnl_table_alloc();
  case K_CHAIN: return nftnl_chain_alloc();
  case K_RULE: return nftnl_rule_alloc();
  default: return nftnl_set_alloc();
  }
}

static void obj_free(enum kind k, void *o) {
  switch (k) {
  case K_TABLE: nftnl_table_free(o); break;
  case K_CHAIN: nftnl_chain_free(o); break;
  case K_RULE: nftnl_rule_free(o); break;
  default: nftnl_set_free(o); break;
  }
}

static void objs_reset(void *data) {
  struct objs *o = data;
  for (unsigned i = 0; i < o->n; i++) obj_free(o->kind, o->v[i]);
  o->n = 0;
}

static void objs_free(struct objs *o) {
  objs_reset(o);
  free(o->v);
  o->v = NULL;
  o->cap = 0;
}

static int objs_cb(const struct nlmsghdr *nlh, void *data) {
  struct objs *o = data;
  void *x = obj_alloc(o->kind);
  if (x == NULL) return -ENOMEM;
  int rc;
  switch (o->kind) {
  case K_TABLE: rc = nftnl_table_nlmsg_parse(nlh, x); break;
  case K_CHAIN: rc = nftnl_chain_nlmsg_parse(nlh, x); break;
  case K_RULE: rc = nftnl_rule_nlmsg_parse(nlh, x); break;
  default: rc = nftnl_set_nlmsg_parse(nlh, x); break;
  }
  if (rc < 0) { obj_free(o->kind, x); return -EPROTO; }
  if (o->n == o->cap) {
    unsigned cap = o->cap ? o->cap * 2 : 32;
    void **p = realloc(o->v, cap * sizeof *p);
    if (p == NULL) { obj_free(o->kind, x); return -ENOMEM; }
    o->v = p;
    o->cap = cap;
  }
  o->v[o->n++] = x;
  return MNL_CB_OK;
}

static int objs_build(struct cnet_nl *nl, void *data) {
  struct objs *o = data;
  static const uint16_t types[] = {NFT_MSG_GETTABLE, NFT_MSG_GETCHAIN, NFT_MSG_GETRULE,
                                   NFT_MSG_GETSET};
  struct nlmsghdr *nlh = cnet_nft_msg(nl, types[o->kind], o->family, NLM_F_DUMP);
  if (nlh == NULL) return -ENOMEM;
  /* Rules and sets can be dumped for one table (and chain) only; the rest is filtered here. */
  if (o->kind == K_RULE && o->table != NULL) {
    struct nftnl_rule *r = nftnl_rule_alloc();
    if (r == NULL) return -ENOMEM;
    /* a failed copy would turn the filtered dump into a dump of everything */
    if (nftnl_rule_set_str(r, NFTNL_RULE_TABLE, o->table) < 0 ||
        (o->name != NULL && nftnl_rule_set_str(r, NFTNL_RULE_CHAIN, o->name) < 0)) {
      nftnl_rule_free(r);
      return -ENOMEM;
    }
    nftnl_rule_nlmsg_build_payload(nlh, r);
    nftnl_rule_free(r);
  } else if (o->kind == K_SET && o->table != NULL) {
    struct nftnl_set *s = nftnl_set_alloc();
    if (s == NULL) return -ENOMEM;
    if (nftnl_set_set_str(s, NFTNL_SET_TABLE, o->table) < 0) {
      nftnl_set_free(s);
      return -ENOMEM;
    }
    nftnl_set_nlmsg_build_payload(nlh, s);
    nftnl_set_free(s);
  }
  return 0;
}

static int dump(struct cnet_netns *ns, struct objs *o) {
  struct cnet_nl *nl;
  char *errbuf = cnet_netns_errbuf(ns);
  errbuf[0] = '\0';
  int rc = cnet_netns_nfnl(ns, &nl);
  if (rc < 0) return rc;
  rc = cnet_nl_dump(nl, objs_build, objs_cb, objs_reset, o, errbuf);
  if (rc < 0) objs_free(o);
  return rc;
}

static int ignore_reply(const struct nlmsghdr *nlh, void *data) {
  (void)nlh;
  (void)data;
  return MNL_CB_OK;
}

/* Like nft, a listing of a table, chain or set that does not exist fails (-ENOENT) instead of
 * coming back empty: family/table, and name (a chain for kind K_CHAIN or K_RULE, a set for
 * K_SET) when given, are asked for first. 0 or -errno. */
static int exists(struct cnet_netns *ns, enum kind kind, int family, const char *table,
                  const char *name) {
  if (table == NULL || family == 0) return 0;
  struct cnet_nl *nl;
  char *errbuf = cnet_netns_errbuf(ns);
  int rc = cnet_netns_nfnl(ns, &nl);
  for (int pass = 0; rc == 0 && pass < (name != NULL ? 2 : 1); pass++) {
    int chain = pass == 1 && kind != K_SET;
    uint16_t type = pass == 0 ? NFT_MSG_GETTABLE : chain ? NFT_MSG_GETCHAIN : NFT_MSG_GETSET;
    struct nlmsghdr *nlh = cnet_nft_msg(nl, type, family, NLM_F_ACK);
    if (nlh == NULL) return -ENOMEM;
    if (pass == 0) {
      mnl_attr_put_strz(nlh, NFTA_TABLE_NAME, table);
    } else if (chain) {
      mnl_attr_put_strz(nlh, NFTA_CHAIN_TABLE, table);
      mnl_attr_put_strz(nlh, NFTA_CHAIN_NAME, name);
    } else {
      mnl_attr_put_strz(nlh, NFTA_SET_TABLE, table);
      mnl_attr_put_strz(nlh, NFTA_SET_NAME, name);
    }
    rc = cnet_nl_talk(nl, ignore_reply, NULL, errbuf); /* a callback: never deferred */
  }
  return rc;
}

static int match(const char *want, const char *have) {
  return want == NULL || (have != NULL && strcmp(want, have) == 0);
}

int cnet_nft_list_tables(struct cnet_netns *ns, int family, const char *table,
                         int (*fn)(const struct cnet_nft_table_info *, void *), void *data) {
  struct objs o = {K_TABLE, family, NULL, NULL, NULL, 0, 0};
  int rc = exists(ns, K_TABLE, family, table, NULL);
  if (rc == 0) rc = dump(ns, &o);
  for (unsigned i = 0; rc == 0 && i < o.n; i++) {
    struct cnet_nft_table_info info;
    cnet_nft_table_info_of(o.v[i], &info);
    if (match(table, info.name)) rc = fn(&info, data);
  }
  objs_free(&o);
  return rc;
}

int cnet_nft_list_chains(struct cnet_netns *ns, int family, const char *table,
                         const char *chain,
                         int (*fn)(const struct cnet_nft_chain_info *, void *), void *data) {
  struct objs o = {K_CHAIN, family, NULL, NULL, NULL, 0, 0};
  int rc = exists(ns, K_CHAIN, family, table, chain);
  if (rc == 0) rc = dump(ns, &o);
  for (unsigned i = 0; rc == 0 && i < o.n; i++) {
    struct cnet_nft_chain_info info;
    cnet_nft_chain_info_of(o.v[i], &info);
    if (!match(table, info.table) || !match(chain, info.name)) continue;
    rc = fn(&info, data);
  }
  objs_free(&o);
  return rc;
}

/* ---- rules: the decoder's view of the outside world ---- */

/* Sets of the table the rules being decoded live in: every set of the table from one dump
 * (`all`, loaded on the first lookup), and those a rule needed, with their elements (`v`). */
struct setcache {
  struct cnet_netns *ns;
  int family;
  const char *table;
  struct objs all;
  int loaded;
  struct nftnl_set **v;
  unsigned n, cap;
};

static void setcache_reset(struct setcache *c) {
  for (unsigned k = 0; k < c->n; k++) nftnl_set_free(c->v[k]);
  c->n = 0;
  objs_free(&c->all);
  c->loaded = 0;
}

struct elemdump { struct nftnl_set **s; int family; const char *table, *name; };

static int elems_build(struct cnet_nl *nl, void *data) {
  struct elemdump *d = data;
  struct nlmsghdr *nlh = cnet_nft_msg(nl, NFT_MSG_GETSETELEM, d->family, NLM_F_DUMP);
  if (nlh == NULL) return -ENOMEM;
  nftnl_set_elems_nlmsg_build_payload(nlh, *d->s);
  return 0;
}

static int elems_cb(const struct nlmsghdr *nlh, void *data) {
  struct elemdump *d = data;
  return nftnl_set_elems_nlmsg_parse(nlh, *d->s) < 0 ? -EPROTO : MNL_CB_OK;
}

/* A retry starts again from a set without elements (same key type, flags, names). */
static void elems_reset(void *data) {
  struct elemdump *d = data;
  struct nftnl_set *s = nftnl_set_alloc();
  if (s == NULL) return;
  static const uint16_t u32s[] = {NFTNL_SET_FAMILY, NFTNL_SET_FLAGS, NFTNL_SET_KEY_TYPE,
                                  NFTNL_SET_KEY_LEN};
  for (size_t i = 0; i < sizeof u32s / sizeof u32s[0]; i++)
    if (nftnl_set_is_set(*d->s, u32s[i]))
      nftnl_set_set_u32(s, u32s[i], nftnl_set_get_u32(*d->s, u32s[i]));
  if (nftnl_set_set_str(s, NFTNL_SET_TABLE, d->table) < 0 ||
      nftnl_set_set_str(s, NFTNL_SET_NAME, d->name) < 0) {
    nftnl_set_free(s); /* out of memory: the old set stays (reset cannot fail) */
    return;
  }
  nftnl_set_free(*d->s);
  *d->s = s;
}

/* Fills set s (named, with table and family set) with its elements. */
static int load_elems(struct cnet_netns *ns, struct nftnl_set **s) {
  struct cnet_nl *nl;
  int rc = cnet_netns_nfnl(ns, &nl);
  if (rc < 0) return rc;
  struct elemdump d = {s, (int)nftnl_set_get_u32(*s, NFTNL_SET_FAMILY),
                       nftnl_set_get_str(*s, NFTNL_SET_TABLE),
                       nftnl_set_get_str(*s, NFTNL_SET_NAME)};
  /* the strings belong to *s, which a reset replaces: keep copies */
  char table[CNET_NFT_NAMELEN], name[CNET_NFT_NAMELEN];
  snprintf(table, sizeof table, "%s", d.table);
  snprintf(name, sizeof name, "%s", d.name);
  d.table = table;
  d.name = name;
  return cnet_nl_dump(nl, elems_build, elems_cb, elems_reset, &d, cnet_netns_errbuf(ns));
}

static const struct nftnl_set *find_set(void *ud, const char *name) {
  struct setcache *c = ud;
  for (unsigned i = 0; i < c->n; i++)
    if (strcmp(nftnl_set_get_str(c->v[i], NFTNL_SET_NAME), name) == 0) return c->v[i];
  if (c->n == c->cap) {
    unsigned cap = c->cap ? c->cap * 2 : 8;
    struct nftnl_set **p = realloc(c->v, cap * sizeof *p);
    if (p == NULL) return NULL;
    c->v = p;
    c->cap = cap;
  }
  /* the set itself (key type, flags) from the table's one set dump, then its elements */
  if (!c->loaded) {
    c->all = (struct objs){K_SET, c->family, c->table, NULL, NULL, 0, 0};
    if (dump(c->ns, &c->all) < 0) return NULL;
    c->loaded = 1;
  }
  struct nftnl_set *found = NULL;
  for (unsigned i = 0; i < c->all.n; i++) {
    if (strcmp(nftnl_set_get_str(c->all.v[i], NFTNL_SET_NAME), name) == 0 &&
        strcmp(nftnl_set_get_str(c->all.v[i], NFTNL_SET_TABLE), c->table) == 0) {
      found = c->all.v[i];
      c->all.v[i] = c->all.v[--c->all.n];
      break;
    }
  }
  if (found == NULL) return NULL;
  if (load_elems(c->ns, &found) < 0) {
    nftnl_set_free(found);
    return NULL;
  }
  c->v[c->n++] = found;
  return found;
}

static int ifname_of(void *ud, uint32_t index, char *name, size_t size) {
  struct setcache *c = ud;
  char buf[IF_NAMESIZE];
  int saved, rc = cnet_netns_enter(c->ns, &saved);
  if (rc < 0) return rc;
  rc = if_indextoname(index, buf) == NULL ? -ENODEV : 0;
  cnet_netns_leave(saved);
  if (rc == 0) snprintf(name, size, "%s", buf);
  return rc;
}

/* ---- one object's listing view: shared with events (nft_event.c) ---- */

void cnet_nft_table_info_of(const struct nftnl_table *t, struct cnet_nft_table_info *info) {
  *info = (struct cnet_nft_table_info){
      .family = (int)nftnl_table_get_u32(t, NFTNL_TABLE_FAMILY),
      .name = nftnl_table_get_str(t, NFTNL_TABLE_NAME),
      .handle = nftnl_table_get_u64(t, NFTNL_TABLE_HANDLE),
      .flags = nftnl_table_get_u32(t, NFTNL_TABLE_FLAGS),
      .use = nftnl_table_get_u32(t, NFTNL_TABLE_USE)};
}

void cnet_nft_chain_info_of(const struct nftnl_chain *c, struct cnet_nft_chain_info *info) {
  *info = (struct cnet_nft_chain_info){
      .family = (int)nftnl_chain_get_u32(c, NFTNL_CHAIN_FAMILY),
      .table = nftnl_chain_get_str(c, NFTNL_CHAIN_TABLE),
      .name = nftnl_chain_get_str(c, NFTNL_CHAIN_NAME),
      .handle = nftnl_chain_get_u64(c, NFTNL_CHAIN_HANDLE),
      .use = nftnl_chain_get_u32(c, NFTNL_CHAIN_USE)};
  if (nftnl_chain_is_set(c, NFTNL_CHAIN_HOOKNUM)) {
    info->base = 1;
    info->type = nftnl_chain_get_str(c, NFTNL_CHAIN_TYPE);
    info->hook = cnet_nft_hook_name(info->family, nftnl_chain_get_u32(c, NFTNL_CHAIN_HOOKNUM));
    info->prio = nftnl_chain_get_s32(c, NFTNL_CHAIN_PRIO);
    info->policy = nftnl_chain_get_u32(c, NFTNL_CHAIN_POLICY) == 0 ? "drop" : "accept";
    if (nftnl_chain_is_set(c, NFTNL_CHAIN_DEV))
      info->device = nftnl_chain_get_str(c, NFTNL_CHAIN_DEV);
  }
}

void cnet_nft_set_info_of(const struct nftnl_set *s, struct cnet_nft_set_info *info,
                          char tname[24]) {
  uint32_t type = nftnl_set_get_u32(s, NFTNL_SET_KEY_TYPE);
  const struct cnet_nft_settype *t = cnet_nft_settype_bynum(type);
  snprintf(tname, 24, "type %u", type);
  *info = (struct cnet_nft_set_info){
      .family = (int)nftnl_set_get_u32(s, NFTNL_SET_FAMILY),
      .table = nftnl_set_get_str(s, NFTNL_SET_TABLE),
      .name = nftnl_set_get_str(s, NFTNL_SET_NAME),
      .handle = nftnl_set_get_u64(s, NFTNL_SET_HANDLE),
      .type = t ? t->name : tname,
      .key_len = nftnl_set_get_u32(s, NFTNL_SET_KEY_LEN),
      .flags = nftnl_set_get_u32(s, NFTNL_SET_FLAGS),
      .size = nftnl_set_is_set(s, NFTNL_SET_DESC_SIZE) ? nftnl_set_get_u32(s, NFTNL_SET_DESC_SIZE)
                                                       : 0};
}

static void counters(const struct nftnl_rule *r, struct cnet_nft_rule_info *info);

void cnet_nft_rule_info_of(const struct nftnl_rule *r, struct cnet_nft_rule_info *info) {
  *info = (struct cnet_nft_rule_info){
      .family = (int)nftnl_rule_get_u32(r, NFTNL_RULE_FAMILY),
      .table = nftnl_rule_get_str(r, NFTNL_RULE_TABLE),
      .chain = nftnl_rule_get_str(r, NFTNL_RULE_CHAIN),
      .handle = nftnl_rule_get_u64(r, NFTNL_RULE_HANDLE)};
  counters(r, info);
}

static void counters(const struct nftnl_rule *r, struct cnet_nft_rule_info *info) {
  struct nftnl_expr_iter *it = nftnl_expr_iter_create((struct nftnl_rule *)r);
  if (it == NULL) return;
  for (struct nftnl_expr *e = nftnl_expr_iter_next(it); e; e = nftnl_expr_iter_next(it)) {
    if (strcmp(nftnl_expr_get_str(e, NFTNL_EXPR_NAME), "counter") == 0) {
      info->counter = 1;
      info->packets += nftnl_expr_get_u64(e, NFTNL_EXPR_CTR_PACKETS);
      info->bytes += nftnl_expr_get_u64(e, NFTNL_EXPR_CTR_BYTES);
    }
  }
  nftnl_expr_iter_destroy(it);
}

int cnet_nft_rule_text(const struct nftnl_rule *r, const struct cnet_nftrule_denv *denv,
                       char **text, size_t *size, struct cnet_nftrule_err *err) {
  int rc;
  while ((rc = cnet_nftrule_decode(r, denv, *text, *size, err)) == -ENOSPC) {
    char *more = realloc(*text, *size * 2);
    if (more == NULL) break;
    *text = more;
    *size *= 2;
  }
  return rc;
}

int cnet_nft_list_rules(struct cnet_netns *ns, int family, const char *table, const char *chain,
                        int (*fn)(const struct cnet_nft_rule_info *, void *), void *data) {
  /* the kernel filters by table and chain only when the family is given */
  struct objs o = {K_RULE, family, family ? table : NULL, family ? chain : NULL, NULL, 0, 0};
  int rc = exists(ns, K_RULE, family, table, chain);
  if (rc == 0) rc = dump(ns, &o);
  struct setcache cache = {ns, 0, NULL, {K_SET, 0, NULL, NULL, NULL, 0, 0}, 0, NULL, 0, 0};
  size_t textmax = 4096; /* grows for a rule whose text is longer (a big anonymous set) */
  char *text = malloc(textmax);
  if (rc == 0 && text == NULL) rc = -ENOMEM;
  for (unsigned i = 0; rc == 0 && i < o.n; i++) {
    struct nftnl_rule *r = o.v[i];
    struct cnet_nft_rule_info info;
    cnet_nft_rule_info_of(r, &info);
    if (!match(table, info.table) || !match(chain, info.chain)) continue;
    if (cache.table == NULL || cache.family != info.family ||
        strcmp(cache.table, info.table) != 0) {
      setcache_reset(&cache);
      cache.family = info.family;
      cache.table = info.table;
    }
    struct cnet_nftrule_denv denv = {.family = info.family, .ud = &cache,
                                     .find_set = find_set, .ifname = ifname_of};
    struct cnet_nftrule_err err = {0, ""};
    int drc = cnet_nft_rule_text(r, &denv, &text, &textmax, &err);
    if (drc == -ENOSPC) { rc = -ENOMEM; break; }
    info.text = text;
    if (drc < 0) info.text_error = err.msg[0] ? err.msg : strerror(-drc);
    rc = fn(&info, data);
  }
  setcache_reset(&cache);
  free(cache.v);
  free(text);
  objs_free(&o);
  return rc;
}

int cnet_nft_list_sets(struct cnet_netns *ns, int family, const char *table, const char *set,
                       int (*fn)(const struct cnet_nft_set_info *, void *), void *data) {
  struct objs o = {K_SET, family, family ? table : NULL, NULL, NULL, 0, 0};
  int rc = exists(ns, K_SET, family, table, set);
  if (rc == 0) rc = dump(ns, &o);
  for (unsigned i = 0; rc == 0 && i < o.n; i++) {
    uint32_t flags = nftnl_set_get_u32(o.v[i], NFTNL_SET_FLAGS);
    if (flags & NFT_SET_ANONYMOUS) continue;
    if (!match(table, nftnl_set_get_str(o.v[i], NFTNL_SET_TABLE)) ||
        !match(set, nftnl_set_get_str(o.v[i], NFTNL_SET_NAME)))
      continue;
    rc = load_elems(ns, (struct nftnl_set **)&o.v[i]);
    if (rc < 0) break;
    struct nftnl_set *s = o.v[i];
    char **elems = NULL;
    int ne = cnet_nft_elems_format(s, &elems);
    if (ne < 0) { rc = ne; break; }
    char tname[24];
    struct cnet_nft_set_info info;
    cnet_nft_set_info_of(s, &info, tname);
    info.elems = (const char *const *)elems;
    info.nelems = (unsigned)ne;
    rc = fn(&info, data);
    cnet_nft_elems_free(elems, (unsigned)ne);
  }
  objs_free(&o);
  return rc;
}
