/* nf_tables notifications in the listings' shapes: see cnet_nft_event_decode in nft.h. */
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <libnftnl/chain.h>
#include <libnftnl/rule.h>
#include <libnftnl/set.h>
#include <libnftnl/table.h>
#include <linux/netfilter/nfnetlink.h>

#include "cnet/nftrule.h"
#include "nft/nft_int.h"

/* A named set's key, learned from its NEWSET or from the kernel. */
struct settype {
  int family;
  char *table, *name;
  uint32_t type, len, flags;
};

struct cnet_nft_events {
  struct cnet_netns *ns;          /* of the message being decoded; NULL: ask nothing */
  struct nftnl_set **anon;        /* anonymous sets announced and not deleted since: their
                                   * rules' texts need them when they come and when they go */
  unsigned nanon, capanon;
  struct settype *types;
  unsigned ntypes, captypes;
};

int cnet_nft_events_new(struct cnet_nft_events **out) {
  *out = calloc(1, sizeof **out);
  return *out == NULL ? -ENOMEM : 0;
}

static void drop_anon(struct cnet_nft_events *e) {
  for (unsigned i = 0; i < e->nanon; i++) nftnl_set_free(e->anon[i]);
  e->nanon = 0;
}

void cnet_nft_events_free(struct cnet_nft_events *e) {
  if (e == NULL) return;
  drop_anon(e);
  free(e->anon);
  for (unsigned i = 0; i < e->ntypes; i++) {
    free(e->types[i].table);
    free(e->types[i].name);
  }
  free(e->types);
  free(e);
}

static int same(const struct nftnl_set *s, int family, const char *table, const char *name) {
  return (int)nftnl_set_get_u32(s, NFTNL_SET_FAMILY) == family &&
         strcmp(nftnl_set_get_str(s, NFTNL_SET_TABLE), table) == 0 &&
         strcmp(nftnl_set_get_str(s, NFTNL_SET_NAME), name) == 0;
}

static struct nftnl_set **find_anon(struct cnet_nft_events *e, int family, const char *table,
                                    const char *name) {
  for (unsigned i = 0; i < e->nanon; i++)
    if (same(e->anon[i], family, table, name)) return &e->anon[i];
  return NULL;
}

static struct settype *find_type(struct cnet_nft_events *e, int family, const char *table,
                                 const char *name) {
  for (unsigned i = 0; i < e->ntypes; i++)
    if (e->types[i].family == family && strcmp(e->types[i].table, table) == 0 &&
        strcmp(e->types[i].name, name) == 0)
      return &e->types[i];
  return NULL;
}

static int keep_type(struct cnet_nft_events *e, int family, const char *table, const char *name,
                     uint32_t type, uint32_t len, uint32_t flags) {
  struct settype *t = find_type(e, family, table, name);
  if (t == NULL) {
    if (e->ntypes == e->captypes) {
      unsigned cap = e->captypes ? e->captypes * 2 : 8;
      struct settype *v = realloc(e->types, cap * sizeof *v);
      if (v == NULL) return -ENOMEM;
      e->types = v;
      e->captypes = cap;
    }
    t = &e->types[e->ntypes];
    t->table = strdup(table);
    t->name = strdup(name);
    if (t->table == NULL || t->name == NULL) {
      free(t->table);
      free(t->name);
      return -ENOMEM;
    }
    t->family = family;
    e->ntypes++;
  }
  t->type = type;
  t->len = len;
  t->flags = flags;
  return 0;
}

/* ---- the rule decoder's view: anonymous sets of this transaction, interface names ---- */

struct rulectx {
  struct cnet_nft_events *e;
  int family;
  const char *table;
};

static const struct nftnl_set *rule_set(void *ud, const char *name) {
  struct rulectx *c = ud;
  struct nftnl_set **s = find_anon(c->e, c->family, c->table, name);
  return s ? *s : NULL;
}

static int rule_ifname(void *ud, uint32_t index, char *name, size_t size) {
  struct rulectx *c = ud;
  char buf[IF_NAMESIZE];
  if (c->e->ns == NULL) return -ENODEV;
  int saved, rc = cnet_netns_enter(c->e->ns, &saved);
  if (rc < 0) return rc;
  rc = if_indextoname(index, buf) == NULL ? -ENODEV : 0;
  cnet_netns_leave(saved);
  if (rc == 0) snprintf(name, size, "%s", buf);
  return rc;
}

/* ---- learning a named set's type from the kernel ---- */

struct learned {
  uint32_t type, len, flags;
  int found;
};

static int learn_cb(const struct cnet_nft_set_info *s, void *data) {
  struct learned *l = data;
  const struct cnet_nft_settype *t = cnet_nft_settype_byname(s->type);
  if (t != NULL) {
    l->type = t->type;
    l->len = s->key_len;
    l->flags = s->flags;
    l->found = 1;
  }
  return 0;
}

/* ---- decoding ---- */

typedef int (*event_fn)(const struct cnet_nft_event *ev, void *data);

static int on_rule(struct cnet_nft_events *e, const struct nlmsghdr *nlh, int del, event_fn fn,
                   void *data) {
  struct nftnl_rule *r = nftnl_rule_alloc();
  if (r == NULL) return -ENOMEM;
  if (nftnl_rule_nlmsg_parse(nlh, r) < 0) {
    nftnl_rule_free(r);
    return -EPROTO;
  }
  struct cnet_nft_event ev = {.kind = CNET_NFT_EV_RULE, .del = del};
  cnet_nft_rule_info_of(r, &ev.rule);
  size_t size = 4096; /* grows for a rule whose text is longer (a big anonymous set) */
  char *text = malloc(size);
  if (text == NULL) {
    nftnl_rule_free(r);
    return -ENOMEM;
  }
  struct rulectx ctx = {e, ev.rule.family, ev.rule.table};
  struct cnet_nftrule_denv denv = {.family = ev.rule.family, .ud = &ctx, .find_set = rule_set,
                                   .ifname = rule_ifname};
  struct cnet_nftrule_err err = {0, ""};
  int drc = cnet_nft_rule_text(r, &denv, &text, &size, &err);
  ev.rule.text = text;
  if (drc < 0) ev.rule.text_error = err.msg[0] ? err.msg : strerror(-drc);
  int rc = drc == -ENOSPC ? -ENOMEM : fn(&ev, data);
  free(text);
  nftnl_rule_free(r);
  return rc;
}

static int on_set(struct cnet_nft_events *e, const struct nlmsghdr *nlh, int del, event_fn fn,
                  void *data) {
  struct nftnl_set *s = nftnl_set_alloc();
  if (s == NULL) return -ENOMEM;
  if (nftnl_set_nlmsg_parse(nlh, s) < 0) {
    nftnl_set_free(s);
    return -EPROTO;
  }
  int family = (int)nftnl_set_get_u32(s, NFTNL_SET_FAMILY);
  const char *table = nftnl_set_get_str(s, NFTNL_SET_TABLE);
  const char *name = nftnl_set_get_str(s, NFTNL_SET_NAME);
  struct nftnl_set **known = find_anon(e, family, table, name);
  /* a deletion may come without flags: nft names its anonymous sets "__set<N>" */
  if ((nftnl_set_get_u32(s, NFTNL_SET_FLAGS) & NFT_SET_ANONYMOUS) || known != NULL ||
      (del && strncmp(name, "__set", 5) == 0)) {
    if (known != NULL) { /* gone, or announced again: forget the old copy */
      nftnl_set_free(*known);
      *known = e->anon[--e->nanon];
    }
    if (del) {
      nftnl_set_free(s);
      return 0;
    }
    if (e->nanon == e->capanon) {
      unsigned cap = e->capanon ? e->capanon * 2 : 8;
      struct nftnl_set **v = realloc(e->anon, cap * sizeof *v);
      if (v == NULL) {
        nftnl_set_free(s);
        return -ENOMEM;
      }
      e->anon = v;
      e->capanon = cap;
    }
    e->anon[e->nanon++] = s; /* its elements follow; its rule comes after them */
    return 0;
  }
  int rc = del ? 0
               : keep_type(e, family, table, name, nftnl_set_get_u32(s, NFTNL_SET_KEY_TYPE),
                           nftnl_set_get_u32(s, NFTNL_SET_KEY_LEN),
                           nftnl_set_get_u32(s, NFTNL_SET_FLAGS));
  struct cnet_nft_event ev = {.kind = CNET_NFT_EV_SET, .del = del};
  char tname[24];
  cnet_nft_set_info_of(s, &ev.set, tname);
  if (rc == 0) rc = fn(&ev, data);
  nftnl_set_free(s);
  return rc;
}

static int on_elems(struct cnet_nft_events *e, const struct nlmsghdr *nlh, int del, event_fn fn,
                    void *data) {
  struct nftnl_set *s = nftnl_set_alloc();
  if (s == NULL) return -ENOMEM;
  if (nftnl_set_elems_nlmsg_parse(nlh, s) < 0) {
    nftnl_set_free(s);
    return -EPROTO;
  }
  int family = (int)nftnl_set_get_u32(s, NFTNL_SET_FAMILY);
  const char *table = nftnl_set_get_str(s, NFTNL_SET_TABLE);
  const char *name = nftnl_set_get_str(s, NFTNL_SET_NAME);
  struct nftnl_set **anon = find_anon(e, family, table, name);
  if (anon != NULL) { /* an anonymous set's elements: kept for its rule */
    nftnl_set_free(s);
    if (!del && nftnl_set_elems_nlmsg_parse(nlh, *anon) < 0) return -EPROTO;
    return 0;
  }
  struct settype *t = find_type(e, family, table, name);
  if (t == NULL && e->ns != NULL) { /* a set not seen made here: ask the kernel once */
    struct learned l = {0, 0, 0, 0};
    char tbl[CNET_NFT_NAMELEN], nm[CNET_NFT_NAMELEN];
    snprintf(tbl, sizeof tbl, "%s", table);
    snprintf(nm, sizeof nm, "%s", name);
    if (cnet_nft_list_sets(e->ns, family, tbl, nm, learn_cb, &l) == 0 && l.found &&
        keep_type(e, family, tbl, nm, l.type, l.len, l.flags) == 0)
      t = find_type(e, family, tbl, nm);
  }
  struct cnet_nft_event ev = {.kind = CNET_NFT_EV_ELEMENTS, .del = del};
  char **elems = NULL;
  int ne = 0;
  if (t != NULL) {
    nftnl_set_set_u32(s, NFTNL_SET_KEY_TYPE, t->type);
    nftnl_set_set_u32(s, NFTNL_SET_KEY_LEN, t->len);
    nftnl_set_set_u32(s, NFTNL_SET_FLAGS, t->flags);
    ne = cnet_nft_elems_format(s, &elems);
    if (ne < 0) {
      nftnl_set_free(s);
      return ne;
    }
  }
  ev.set.family = family;
  ev.set.table = table;
  ev.set.name = name;
  ev.set.elems = (const char *const *)elems;
  ev.set.nelems = (unsigned)ne;
  int rc = fn(&ev, data);
  cnet_nft_elems_free(elems, (unsigned)ne);
  nftnl_set_free(s);
  return rc;
}

int cnet_nft_event_decode(struct cnet_nft_events *e, struct cnet_netns *ns,
                          const struct nlmsghdr *nlh, event_fn fn, void *data) {
  if ((nlh->nlmsg_type >> 8) != NFNL_SUBSYS_NFTABLES) return 0;
  e->ns = ns;
  int type = nlh->nlmsg_type & 0xff, rc = 0;
  struct cnet_nft_event ev;
  memset(&ev, 0, sizeof ev);
  switch (type) {
  case NFT_MSG_NEWTABLE:
  case NFT_MSG_DELTABLE: {
    struct nftnl_table *t = nftnl_table_alloc();
    if (t == NULL) return -ENOMEM;
    if (nftnl_table_nlmsg_parse(nlh, t) < 0) rc = -EPROTO;
    ev.kind = CNET_NFT_EV_TABLE;
    ev.del = type == NFT_MSG_DELTABLE;
    if (rc == 0) {
      cnet_nft_table_info_of(t, &ev.table);
      rc = fn(&ev, data);
    }
    nftnl_table_free(t);
    return rc;
  }
  case NFT_MSG_NEWCHAIN:
  case NFT_MSG_DELCHAIN: {
    struct nftnl_chain *c = nftnl_chain_alloc();
    if (c == NULL) return -ENOMEM;
    if (nftnl_chain_nlmsg_parse(nlh, c) < 0) rc = -EPROTO;
    ev.kind = CNET_NFT_EV_CHAIN;
    ev.del = type == NFT_MSG_DELCHAIN;
    if (rc == 0) {
      cnet_nft_chain_info_of(c, &ev.chain);
      rc = fn(&ev, data);
    }
    nftnl_chain_free(c);
    return rc;
  }
  case NFT_MSG_NEWRULE:
  case NFT_MSG_DELRULE: return on_rule(e, nlh, type == NFT_MSG_DELRULE, fn, data);
  case NFT_MSG_NEWSET:
  case NFT_MSG_DELSET: return on_set(e, nlh, type == NFT_MSG_DELSET, fn, data);
  case NFT_MSG_NEWSETELEM:
  case NFT_MSG_DELSETELEM: return on_elems(e, nlh, type == NFT_MSG_DELSETELEM, fn, data);
  default: return 0;
  }
}
