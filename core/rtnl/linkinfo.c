/* Kind and port data of links: decoding through the field tables of linkinfo_kinds.c, and
 * the inverse for requests. See include/cnet/linkinfo.h. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <linux/if_bridge.h>
#include <linux/if_link.h>

#include "cnet/link.h"
#include "netlink/nlattr_int.h"
#include "rtnl/linkinfo_int.h"

const struct cnet_link_field *cnet_link_field_find(const char *kind, int port, const char *name) {
  unsigned n;
  const struct cnet_link_field *f = cnet_link_fields(kind, port, &n);
  for (unsigned i = 0; i < n; i++)
    if (strcmp(f[i].name, name) == 0 || (f[i].name6 && strcmp(f[i].name6, name) == 0))
      return &f[i];
  return NULL;
}

uint64_t cnet_link_field_max(const struct cnet_link_field *f) {
  switch (f->type) {
  case CNET_LF_UINT:
  case CNET_LF_BE:
    if (f->max) return f->max;
    return f->size >= 8 ? UINT64_MAX : (UINT64_C(1) << (8 * f->size)) - 1;
  case CNET_LF_BOOL:
  case CNET_LF_FLAG:
  case CNET_LF_BIT:
  case CNET_LF_BOOLOPT: return 1;
  case CNET_LF_IFINDEX: return INT32_MAX;
  case CNET_LF_ID: return 0xfffffffe;
  default: return 0;
  }
}

int cnet_link_field_enum(const struct cnet_link_field *f, const char *name, uint64_t *value) {
  if (f->type != CNET_LF_ENUM) return -EINVAL;
  for (const struct cnet_lf_name *p = f->names; p->name; p++) {
    if (strcmp(p->name, name) == 0) {
      *value = p->value;
      return 0;
    }
  }
  return -EINVAL;
}

/* ---- decoding ---- */

/* An unsigned integer of `size` bytes (host order, or network order when be). */
static int read_uint(const struct nlattr *a, unsigned size, int be, uint64_t *out) {
  if (attr_len(a) < size) return -EINVAL;
  const unsigned char *p = attr_data(a);
  uint8_t u8;
  uint16_t u16;
  uint32_t u32;
  uint64_t u64;
  switch (size) {
  case 1: memcpy(&u8, p, 1); *out = u8; return 0;
  case 2: memcpy(&u16, p, 2); *out = be ? ntohs(u16) : u16; return 0;
  case 4: memcpy(&u32, p, 4); *out = be ? ntohl(u32) : u32; return 0;
  case 8: memcpy(&u64, p, 8); *out = u64; return 0;
  default: return -EINVAL;
  }
}

static int all_zero(const unsigned char *p, size_t n) {
  for (size_t i = 0; i < n; i++)
    if (p[i]) return 0;
  return 1;
}

static int is_multicast(const struct cnet_ipaddr *a) {
  return a->family == AF_INET ? (a->bytes[0] & 0xf0) == 0xe0 : a->bytes[0] == 0xff;
}

/* Decodes field f from attribute a into v. Returns 1 when the field is to be listed, 0 when
 * not (a short payload; unless `raw`, also an unset address or a condition that does not
 * hold). */
static int decode(const struct cnet_link_field *f, const struct nlattr *a, int raw,
                  struct cnet_link_value *v) {
  memset(v, 0, sizeof *v);
  uint16_t type = attr_type(a);
  switch (f->type) {
  case CNET_LF_UINT:
  case CNET_LF_BE:
  case CNET_LF_ENUM:
    if (read_uint(a, f->size, f->type == CNET_LF_BE || f->be, &v->u) < 0) return 0;
    if (f->type == CNET_LF_ENUM)
      for (const struct cnet_lf_name *p = f->names; p->name; p++)
        if (p->value == v->u) v->name = p->name;
    return raw || !(f->flags & CNET_LF_OMITZERO) || v->u != 0;
  case CNET_LF_BOOL:
    if (attr_len(a) < 1) return 0;
    v->u = *(const uint8_t *)attr_data(a) != 0;
    return 1;
  case CNET_LF_FLAG: v->u = 1; return 1;
  case CNET_LF_BIT:
    if (read_uint(a, f->size, 0, &v->u) < 0) return 0;
    v->u = (v->u & f->bit) != 0;
    return 1;
  case CNET_LF_BOOLOPT: {
    struct br_boolopt_multi bm;
    if (attr_len(a) < sizeof bm) return 0;
    memcpy(&bm, attr_data(a), sizeof bm);
    v->u = (bm.optval & f->bit) != 0;
    return raw || (bm.optmask & f->bit) != 0;
  }
  case CNET_LF_ADDR: {
    int v6 = type == f->attr6;
    size_t len = v6 ? 16 : 4;
    if (attr_len(a) < len) return 0;
    v->addr.family = v6 ? AF_INET6 : AF_INET;
    v->addr.prefix = (uint8_t)(8 * len);
    memcpy(v->addr.bytes, attr_data(a), len);
    if (raw) return 1;
    if ((f->flags & CNET_LF_OMITZERO) && all_zero(v->addr.bytes, len)) return 0;
    if ((f->flags & CNET_LF_MCAST) && !is_multicast(&v->addr)) return 0;
    if ((f->flags & CNET_LF_UCAST) && is_multicast(&v->addr)) return 0;
    return 1;
  }
  case CNET_LF_MAC:
  case CNET_LF_BRID:
    v->bytes = attr_data(a);
    v->len = attr_len(a);
    return v->len > 0 && (f->type != CNET_LF_BRID || v->len >= sizeof(struct ifla_bridge_id));
  case CNET_LF_IFINDEX:
  case CNET_LF_ID:
    if (read_uint(a, 4, 0, &v->u) < 0) return 0;
    if (raw) return 1;
    if (f->type == CNET_LF_ID) return v->u != 0xffffffffu;
    return !(f->flags & CNET_LF_OMITZERO) || v->u != 0;
  case CNET_LF_RANGE: {
    struct ifla_vxlan_port_range r;
    if (attr_len(a) < sizeof r) return 0;
    memcpy(&r, attr_data(a), sizeof r);
    v->lo = ntohs(r.low);
    v->hi = ntohs(r.high);
    return 1;
  }
  case CNET_LF_MACLIST: {
    v->list = a;
    const void *pos = NULL;
    while (cnet_link_maclist_next(v, &pos)) v->count++;
    return 1;
  }
  default: return 0;
  }
}

const unsigned char *cnet_link_maclist_next(const struct cnet_link_value *v, const void **pos) {
  const struct nlattr *nest = v->list;
  if (nest == NULL) return NULL;
  struct attrs it = attrs_nested(nest);
  if (*pos) it.p = *pos;
  const struct nlattr *a;
  while ((a = next_attr(&it)) != NULL) {
    if (attr_len(a) >= 6) {
      *pos = it.p;
      return attr_data(a);
    }
  }
  return NULL;
}

int cnet_link_details(const struct cnet_link *l, int port, cnet_link_field_fn fn, void *data) {
  const struct nlattr *nest = port ? l->port_data : l->info_data;
  if (nest == NULL) return 0;
  unsigned n;
  const struct cnet_link_field *fields = cnet_link_fields(port ? l->port_kind : l->kind, port, &n);
  if (fields == NULL) return 0;
  struct attrs it = attrs_nested(nest);
  const struct nlattr *a;
  while ((a = next_attr(&it)) != NULL) {
    uint16_t type = attr_type(a);
    for (unsigned i = 0; i < n; i++) {
      const struct cnet_link_field *f = &fields[i];
      if (f->flags & CNET_LF_ALIAS) continue;
      if (f->attr != type && !(f->type == CNET_LF_ADDR && f->attr6 == type)) continue;
      struct cnet_link_value v;
      if (!decode(f, a, 0, &v)) continue;
      int rc = fn(f, &v, data);
      if (rc) return rc;
    }
  }
  return 0;
}

/* The attribute of field f in the nest `data` (may be NULL), or NULL. */
static const struct nlattr *find_attr(const struct nlattr *data, const struct cnet_link_field *f) {
  if (data == NULL) return NULL;
  struct attrs it = attrs_nested(data);
  const struct nlattr *a;
  while ((a = next_attr(&it)) != NULL) {
    uint16_t t = attr_type(a);
    if (t == f->attr || (f->type == CNET_LF_ADDR && t == f->attr6)) return a;
  }
  return NULL;
}

unsigned cnet_linkinfo_undo(const struct nlattr *old, const struct nlattr *now,
                            const struct cnet_link_opt *opts, unsigned n,
                            struct cnet_link_opt *out) {
  unsigned k = 0;
  for (unsigned i = 0; i < n; i++) {
    const struct cnet_link_field *f = opts[i].field;
    const struct nlattr *a = find_attr(old, f), *b = find_attr(now, f);
    if (a == NULL) continue;
    if (b != NULL && a->nla_len == b->nla_len && attr_type(a) == attr_type(b) &&
        memcmp(attr_data(a), attr_data(b), attr_len(a)) == 0)
      continue;
    out[k].field = f;
    if (!decode(f, a, 1, &out[k].value)) continue;
    if (f->type == CNET_LF_MACLIST) { /* the list to send is contiguous: not kept, skipped */
      continue;
    }
    k++;
  }
  return k;
}

/* ---- encoding ---- */

const struct cnet_link_opt *cnet_linkinfo_opt(const struct cnet_link_opt *opts, unsigned n,
                                              const char *name) {
  for (unsigned i = 0; i < n; i++)
    if (strcmp(opts[i].field->name, name) == 0) return &opts[i];
  return NULL;
}

static int put(struct nlmsghdr *nlh, size_t limit, uint16_t type, size_t len, const void *data) {
  return mnl_attr_put_check(nlh, limit, type, len, data) ? 0 : -EMSGSIZE;
}

static int put_uint(struct nlmsghdr *nlh, size_t limit, uint16_t type, unsigned size, int be,
                    uint64_t v) {
  uint8_t u8 = (uint8_t)v;
  uint16_t u16 = be ? htons((uint16_t)v) : (uint16_t)v;
  uint32_t u32 = be ? htonl((uint32_t)v) : (uint32_t)v;
  switch (size) {
  case 1: return put(nlh, limit, type, 1, &u8);
  case 2: return put(nlh, limit, type, 2, &u16);
  case 4: return put(nlh, limit, type, 4, &u32);
  case 8: return put(nlh, limit, type, 8, &v);
  default: return -EINVAL;
  }
}

/* The BIT fields of attribute `attr`, merged over its value in base (or 0). */
static int put_bits(struct nlmsghdr *nlh, size_t limit, const struct cnet_link_opt *opts,
                    unsigned n, unsigned first, const struct nlattr *base) {
  const struct cnet_link_field *f0 = opts[first].field;
  uint64_t v = 0;
  if (base != NULL) {
    struct attrs it = attrs_nested(base);
    const struct nlattr *a;
    while ((a = next_attr(&it)) != NULL)
      if (attr_type(a) == f0->attr) (void)read_uint(a, f0->size, 0, &v);
  }
  for (unsigned i = first; i < n; i++) {
    const struct cnet_link_field *f = opts[i].field;
    if (f->type != CNET_LF_BIT || f->attr != f0->attr) continue;
    v = opts[i].value.u ? v | f->bit : v & ~(uint64_t)f->bit;
  }
  return put_uint(nlh, limit, f0->attr, f0->size, 0, v);
}

static int put_boolopts(struct nlmsghdr *nlh, size_t limit, const struct cnet_link_opt *opts,
                        unsigned n, unsigned first) {
  struct br_boolopt_multi bm = {0, 0};
  for (unsigned i = first; i < n; i++) {
    const struct cnet_link_field *f = opts[i].field;
    if (f->type != CNET_LF_BOOLOPT) continue;
    bm.optmask |= f->bit;
    if (opts[i].value.u) bm.optval |= f->bit;
  }
  return put(nlh, limit, opts[first].field->attr, sizeof bm, &bm);
}

/* The macvlan source list: replaces the whole set of addresses. */
static int put_maclist(struct nlmsghdr *nlh, size_t limit, const struct cnet_link_field *f,
                       const struct cnet_link_value *v) {
  int rc = put_uint(nlh, limit, IFLA_MACVLAN_MACADDR_MODE, 4, 0, MACVLAN_MACADDR_SET);
  if (rc < 0) return rc;
  struct nlattr *nest = mnl_attr_nest_start_check(nlh, limit, f->attr);
  if (nest == NULL) return -EMSGSIZE;
  for (unsigned i = 0; i < v->count; i++)
    if ((rc = put(nlh, limit, IFLA_MACVLAN_MACADDR, 6, v->bytes + 6 * i)) < 0) return rc;
  mnl_attr_nest_end(nlh, nest);
  return 0;
}

static int put_one(struct nlmsghdr *nlh, size_t limit, const struct cnet_link_field *f,
                   const struct cnet_link_value *v) {
  uint64_t max = cnet_link_field_max(f);
  switch (f->type) {
  case CNET_LF_UINT:
  case CNET_LF_BE:
  case CNET_LF_BOOL:
  case CNET_LF_IFINDEX:
  case CNET_LF_ID:
    if (v->u > max) return -EINVAL;
    return put_uint(nlh, limit, f->attr, f->type == CNET_LF_UINT || f->type == CNET_LF_BE ? f->size
                                         : f->type == CNET_LF_BOOL ? 1 : 4,
                    f->type == CNET_LF_BE, v->u);
  case CNET_LF_ENUM: return put_uint(nlh, limit, f->attr, f->size, f->be, v->u);
  case CNET_LF_FLAG: return v->u ? put(nlh, limit, f->attr, 0, NULL) : 0;
  case CNET_LF_ADDR:
    if (v->addr.family == AF_INET) return put(nlh, limit, f->attr, 4, v->addr.bytes);
    if (v->addr.family == AF_INET6 && f->attr6) return put(nlh, limit, f->attr6, 16, v->addr.bytes);
    return -EINVAL;
  case CNET_LF_MAC:
    if (v->bytes == NULL || v->len == 0 || v->len > 32) return -EINVAL;
    return put(nlh, limit, f->attr, v->len, v->bytes);
  case CNET_LF_RANGE: {
    if (v->lo > v->hi) return -EINVAL;
    struct ifla_vxlan_port_range r = {htons(v->lo), htons(v->hi)};
    return put(nlh, limit, f->attr, sizeof r, &r);
  }
  case CNET_LF_MACLIST: return put_maclist(nlh, limit, f, v);
  default: return -EINVAL;
  }
}

int cnet_linkinfo_put(struct nlmsghdr *nlh, size_t limit, const struct cnet_link_opt *opts,
                      unsigned n, const struct nlattr *base) {
  for (unsigned i = 0; i < n; i++) {
    const struct cnet_link_field *f = opts[i].field;
    if (f->flags & CNET_LF_RO) return -EINVAL;
    /* the fields sharing one attribute go in with the first of them */
    int merged = f->type == CNET_LF_BIT || f->type == CNET_LF_BOOLOPT, seen = 0;
    for (unsigned j = 0; merged && j < i; j++) seen |= opts[j].field->attr == f->attr;
    if (seen) continue;
    int rc = f->type == CNET_LF_BIT       ? put_bits(nlh, limit, opts, n, i, base)
             : f->type == CNET_LF_BOOLOPT ? put_boolopts(nlh, limit, opts, n, i)
                                          : put_one(nlh, limit, f, &opts[i].value);
    if (rc < 0) return rc;
  }
  return 0;
}
