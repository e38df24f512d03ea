/* Sets and maps a rule uses: anonymous ones made from "{ ... }" (their elements typed by the
 * key, intervals merged, one element made a plain match, as nft does), and named ones
 * looked up through the environment. */
#include "nftrule/nr_int.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>

static uint32_t key_type_of(const struct nr_expr *key) {
  if (key->kind != X_CONCAT) return key->type;
  uint32_t t = 0;
  for (int i = 0; i < key->n; i++) t = t << 6 | key->v[i]->type;
  return t;
}

/* A verdict written as a map's data: accept, drop, continue, return, jump X, goto X. */
static int verdict_value(struct nr_cc *c, struct nr_expr **ep) {
  struct nr_expr *e = *ep;
  if (e->kind == X_VERDICT) return 0;
  static const struct { const char *n; int v; } vs[] = {
    {"accept", NF_ACCEPT}, {"drop", NF_DROP}, {"continue", NFT_CONTINUE},
    {"return", NFT_RETURN}};
  if (e->kind == X_SYMBOL && e->op != 1)
    for (size_t i = 0; i < sizeof vs / sizeof vs[0]; i++)
      if (strcmp(e->str, vs[i].n) == 0) {
        e->kind = X_VERDICT;
        e->u.vd.verdict = vs[i].v;
        e->str = NULL;
        e->type = T_VERDICT;
        return 0;
      }
  if (e->kind == X_SYMBOL && strcmp(e->str, "queue") == 0)
    return nr_unsupported(c, e->tok, "queue as a map verdict");
  return nr_fail(c, e->tok, -EINVAL, "expected a verdict (accept, drop, continue, return, "
                 "jump CHAIN, goto CHAIN)");
}

static const struct nr_expr *elem_key(const struct nr_expr *e) {
  if (e->kind == X_MAPPING) e = e->l;
  if (e->kind == X_ELEM) e = e->l;
  return e;
}

static void set_be(struct nr_expr *k) {
  const struct nr_type *t = nr_type_get(k->type);
  if (k->kind == X_CONCAT) {
    for (int i = 0; i < k->n; i++) set_be(k->v[i]);
    return;
  }
  if (t && t->base == NB_STRING) return;
  k->order = BO_BE;
  if (k->l) set_be(k->l);
  if (k->r) set_be(k->r);
}

static int is_interval(const struct nr_expr *k) {
  if (k->kind == X_RANGE || k->kind == X_PREFIX) return 1;
  if (k->kind == X_CONCAT)
    for (int i = 0; i < k->n; i++)
      if (k->v[i]->kind == X_RANGE || k->v[i]->kind == X_PREFIX) return 1;
  return 0;
}

int nr_set_anon(struct nr_cc *c, struct nr_expr *sx, const struct nr_expr *key,
                const struct nr_expr *data, int vmap, int objmap, struct nr_set **out) {
  int rc, is_map = data != NULL || vmap || objmap;
  uint32_t flags = NFT_SET_ANONYMOUS | NFT_SET_CONSTANT;
  *out = NULL;
  if (key->kind == X_CONCAT)
    for (int i = 0; i < key->n; i++)
      if (key->v[i]->kind == X_UNARY)
        return nr_unsupported(c, key->tok, "a concatenation in host byte order");
  if (key->kind == X_CONCAT)
    for (int i = 0; i < key->n; i++) {
      /* nft reads a part whose type has no size of its own (an integer) through the typeof
       * user data it writes with the set, which cnet does not write: it would list another
       * value ("ip ttl . tcp dport { 0 . 16384 }") */
      const struct nr_type *t = nr_type_get(key->v[i]->type);
      if (t == NULL || t->bits == 0)
        return nr_unsupported(c, key->v[i]->tok, "an anonymous set keyed by a concatenation "
                              "with a part of type %s", t ? t->name : "unknown");
    }
  for (int i = 0; i < sx->n; i++) {
    struct nr_expr **ep = &sx->v[i], *e = *ep;
    if (e->kind == X_MAPPING) {
      if (!is_map) return nr_fail(c, e->tok, -EINVAL, "\":\" in a set that is not a map");
      struct nr_expr **kp = e->l->kind == X_ELEM ? &e->l->l : &e->l;
      if ((rc = nr_eval_const(c, kp, key)) < 0) return rc;
      if (vmap) {
        if ((rc = verdict_value(c, &e->r)) < 0) return rc;
      } else if (objmap) {
        if (e->r->kind != X_SYMBOL || e->r->str == NULL || strlen(e->r->str) >= 256)
          return nr_fail(c, e->r->tok, -EINVAL, "expected an object name");
      } else if ((rc = nr_eval_const(c, &e->r, data)) < 0) {
        return rc;
      } else if (e->r->kind == X_PREFIX || (e->r->flags & XF_INTERVAL)) {
        return nr_unsupported(c, e->r->tok, "a range as map data");
      }
    } else {
      if (is_map) return nr_fail(c, e->tok, -EINVAL, "a map element needs \": value\"");
      struct nr_expr **kp = e->kind == X_ELEM ? &e->l : ep;
      if ((rc = nr_eval_const(c, kp, key)) < 0) return rc;
    }
    const struct nr_expr *k = elem_key(sx->v[i]);
    if (k->kind == X_SETREF) return nr_fail(c, k->tok, -EINVAL, "set reference inside a set");
    if (is_interval(k)) {
      flags |= NFT_SET_INTERVAL;
      if (k->kind == X_CONCAT) flags |= NFT_SET_CONCAT;
    }
  }
  if (!is_map && sx->n == 1) {
    /* one element is a plain match, as nft makes it (dropping the element's options) */
    if (sx->v[0]->kind == X_ELEM) sx->v[0] = sx->v[0]->l;
    int k = sx->v[0]->kind;
    if (k == X_VALUE || k == X_RANGE || k == X_PREFIX) return 0;
  }
  for (int i = 0; i < sx->n; i++) {
    const struct nr_expr *e = sx->v[i]->kind == X_MAPPING ? sx->v[i]->l : sx->v[i];
    if (e->kind == X_ELEM && (e->u.el.counter & 2))  /* the kernel refuses nft's too */
      return nr_fail(c, e->tok, -EINVAL, "an element timeout needs a set with timeouts (an "
                     "anonymous set has none)");
  }
  if ((flags & NFT_SET_CONCAT) && is_map)
    return nr_unsupported(c, sx->tok, "a map keyed by concatenated ranges");
  if ((flags & NFT_SET_INTERVAL) && is_map && key->kind == X_CONCAT)
    return nr_unsupported(c, sx->tok, "a map keyed by concatenated ranges");
  struct nr_set *s = nr_alloc(&c->arena, sizeof *s);
  if (s == NULL) return -ENOMEM;
  if ((flags & NFT_SET_INTERVAL) && key->order == BO_HOST) {
    /* interval lookups compare in big endian: the key is converted, so are the values */
    for (int i = 0; i < sx->n; i++) set_be((struct nr_expr *)elem_key(sx->v[i]));
  }
  if (objmap) flags |= NFT_SET_OBJECT;  /* the kernel takes an object map without MAP */
  else if (is_map) flags |= NFT_SET_MAP;
  s->flags = flags;
  s->key_type = key_type_of(key);
  s->key_bits = (uint32_t)(key->bits + 7) / 8 * 8;
  s->key_order = (flags & NFT_SET_INTERVAL) ? BO_BE : key->order;
  if (key->kind == X_CONCAT) {
    s->nconcat = (uint8_t)key->n;
    for (int i = 0; i < key->n; i++) s->concat_bits[i] = (uint8_t)key->v[i]->bits;
  }
  if (vmap) {
    s->data_type = T_VERDICT;
    s->is_vmap = 1;
  } else if (data) {
    s->data_type = key_type_of(data);
    s->data_bits = (uint32_t)(data->bits + 7) / 8 * 8;
    s->data_order = data->order;
  }
  s->is_map = is_map;
  s->is_objmap = objmap != 0;
  s->obj_type = (uint32_t)objmap;
  s->init = sx;
  s->id = c->env && c->env->next_set_id ? c->env->next_set_id(c->env->ud) : c->next_id++;
  *out = s;
  return 0;
}

int nr_set_named(struct nr_cc *c, int tok, const char *name, struct nr_set **out) {
  struct cnet_nftrule_setinfo info;
  memset(&info, 0, sizeof info);
  if (strlen(name) >= 256) return nr_fail(c, tok, -EINVAL, "set name too long");
  if (c->env == NULL || c->env->lookup_set == NULL)
    return nr_unsupported(c, tok, "a named set without a table to look it up in");
  int rc = c->env->lookup_set(c->env->ud, name, &info);
  if (rc < 0) return nr_fail(c, tok, rc, "no set @%s in this table", name);
  struct nr_set *s = nr_alloc(&c->arena, sizeof *s);
  if (s == NULL) return -ENOMEM;
  s->name = nr_strdup(&c->arena, name, strlen(name));
  s->id = info.set_id;
  s->flags = info.flags;
  s->key_type = info.key_type;
  s->key_bits = info.key_len * 8;
  s->is_map = (info.flags & NFT_SET_MAP) != 0;
  s->is_objmap = (info.flags & NFT_SET_OBJECT) != 0;
  s->is_vmap = s->is_map && info.data_type == NFT_DATA_VERDICT;
  s->data_type = info.data_type;
  s->data_bits = info.data_len * 8;
  s->obj_type = info.obj_type;
  *out = s;
  return s->name ? 0 : -ENOMEM;
}

int nr_set_meter(struct nr_cc *c, struct nr_stmt *s, struct nr_set **out) {
  const struct nr_expr *key = s->key;
  struct nr_set *set = nr_alloc(&c->arena, sizeof *set);
  if (set == NULL) return -ENOMEM;
  if (key->kind == X_CONCAT)
    for (int i = 0; i < key->n; i++)
      if (key->v[i]->kind == X_UNARY)
        return nr_unsupported(c, key->tok, "a concatenation in host byte order");
  /* nft's meter set: anonymous but named, filled from the packet path (EVAL) */
  set->name = s->str_set;
  set->flags = NFT_SET_ANONYMOUS | NFT_SET_EVAL | (s->u.dyn.timeout ? NFT_SET_TIMEOUT : 0);
  set->key_type = key_type_of(key);
  set->key_bits = (uint32_t)(key->bits + 7) / 8 * 8;
  set->key_order = key->order;
  if (key->kind == X_CONCAT) {
    set->nconcat = (uint8_t)key->n;
    for (int i = 0; i < key->n; i++) set->concat_bits[i] = (uint8_t)key->v[i]->bits;
  }
  set->is_meter = 1;
  set->size = s->u.dyn.size;
  set->id = c->env && c->env->next_set_id ? c->env->next_set_id(c->env->ud) : c->next_id++;
  *out = set;
  return 0;
}

int nr_set_takes_key(const struct nr_set *set, const struct nr_expr *key) {
  return set->key_type == key_type_of(key) && set->key_bits == (uint32_t)(key->bits + 7) / 8 * 8;
}
