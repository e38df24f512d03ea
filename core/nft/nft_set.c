/* Named sets: key types by name, elements parsed from and formatted to nft's notation. */
#include <ctype.h>
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <linux/netlink.h>
#include <libnftnl/set.h>

#include "nft/nft_int.h"

enum { T_IPV4 = 7, T_IPV6 = 8, T_ETHER = 9, T_PROTO = 12, T_SERVICE = 13, T_MARK = 19,
       T_IFNAME = 41, KEYMAX = CNET_NFT_KEYMAX };

static const struct cnet_nft_settype types[] = {
  {"ipv4_addr", T_IPV4, 4},     {"ipv6_addr", T_IPV6, 16},     {"ether_addr", T_ETHER, 6},
  {"inet_proto", T_PROTO, 1},   {"inet_service", T_SERVICE, 2}, {"mark", T_MARK, 4},
  {"ifname", T_IFNAME, 16},     {NULL, 0, 0}};

const struct cnet_nft_settype *cnet_nft_settype_byname(const char *name) {
  for (const struct cnet_nft_settype *t = types; t->name; t++)
    if (strcmp(t->name, name) == 0) return t;
  return NULL;
}

const struct cnet_nft_settype *cnet_nft_settype_bynum(uint32_t type) {
  for (const struct cnet_nft_settype *t = types; t->name; t++)
    if (t->type == type) return t;
  return NULL;
}

static int parse_uint(const char *s, unsigned long max, unsigned long *out) {
  if (!isdigit((unsigned char)*s)) return -EINVAL;
  char *end;
  errno = 0;
  unsigned long v = strtoul(s, &end, 0);
  if (*end != '\0' || errno != 0 || v > max) return -EINVAL;
  *out = v;
  return 0;
}

/* One value of the type into key (len bytes; big-endian for numbers nft keeps in network
 * order, host order for marks). Returns 0 or -EINVAL. */
static int parse_value(uint32_t type, uint32_t len, const char *s, unsigned char *key) {
  unsigned long v;
  memset(key, 0, len);
  switch (type) {
  case T_IPV4: return inet_pton(AF_INET, s, key) == 1 ? 0 : -EINVAL;
  case T_IPV6: return inet_pton(AF_INET6, s, key) == 1 ? 0 : -EINVAL;
  case T_ETHER: {
    unsigned b[6];
    char tail;
    if (sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x%c", &b[0], &b[1], &b[2], &b[3], &b[4], &b[5],
               &tail) != 6)
      return -EINVAL;
    for (int i = 0; i < 6; i++) key[i] = (unsigned char)b[i];
    return 0;
  }
  case T_PROTO: {
    if (parse_uint(s, 255, &v) < 0) {
      struct protoent *p = getprotobyname(s);
      if (p == NULL) return -EINVAL;
      v = (unsigned long)p->p_proto;
    }
    key[0] = (unsigned char)v;
    return 0;
  }
  case T_SERVICE: {
    if (parse_uint(s, 65535, &v) < 0) {
      struct servent *se = getservbyname(s, "tcp");
      if (se == NULL) return -EINVAL;
      v = ntohs((uint16_t)se->s_port);
    }
    key[0] = (unsigned char)(v >> 8);
    key[1] = (unsigned char)v;
    return 0;
  }
  case T_MARK: {
    if (parse_uint(s, 0xffffffffUL, &v) < 0) return -EINVAL;
    uint32_t m = (uint32_t)v;
    memcpy(key, &m, 4);
    return 0;
  }
  case T_IFNAME: {
    size_t n = strlen(s);
    if (n == 0 || n >= len) return -EINVAL;
    memcpy(key, s, n);
    return 0;
  }
  default:
    return -EINVAL;
  }
}

/* key += 1 as a big-endian number; returns 1 when it wrapped around. */
static int increment(unsigned char *key, uint32_t len) {
  for (uint32_t i = len; i-- > 0;)
    if (++key[i] != 0) return 0;
  return 1;
}

static const char *type_name(uint32_t type) {
  const struct cnet_nft_settype *t = cnet_nft_settype_bynum(type);
  return t ? t->name : "this type";
}

int cnet_nft_elem_keys(uint32_t type, uint32_t len, int interval, const char *text,
                       struct cnet_nft_elem out[2], char *errmsg, size_t errlen) {
  unsigned char *lo = out[0].key, hi[CNET_NFT_KEYMAX];
  out[0].flags = 0;
  if (len > CNET_NFT_KEYMAX) goto bad;
  /* a range "a-b": a dash that is not part of an IPv6 address or a name */
  const char *slash = strchr(text, '/');
  const char *dash = (type == T_IFNAME) ? NULL : strchr(text, '-');
  if (slash == NULL && dash == NULL) { /* the common case: one value, parsed in place */
    if (parse_value(type, len, text, lo) < 0) goto bad;
    if (!interval) return 1;
    memcpy(hi, lo, len);
  } else {
    if (!interval || type == T_MARK || type == T_IFNAME || type == T_ETHER) {
      snprintf(errmsg, errlen, "element \"%s\": ranges and prefixes need a set with "
               "flags interval (of addresses, ports or protocols)", text);
      return -EINVAL;
    }
    char buf[128];
    if (strlen(text) >= sizeof buf) goto bad;
    strcpy(buf, text);
    if (slash != NULL) {
      buf[slash - text] = '\0';
      unsigned long plen;
      if (parse_value(type, len, buf, lo) < 0 ||
          parse_uint(buf + (slash - text) + 1, len * 8, &plen) < 0)
        goto bad;
      memcpy(hi, lo, len);
      for (uint32_t bit = (uint32_t)plen; bit < len * 8; bit++) {
        lo[bit / 8] &= (unsigned char)~(0x80 >> (bit % 8));
        hi[bit / 8] |= (unsigned char)(0x80 >> (bit % 8));
      }
    } else {
      buf[dash - text] = '\0';
      if (parse_value(type, len, buf, lo) < 0 ||
          parse_value(type, len, buf + (dash - text) + 1, hi) < 0)
        goto bad;
      if (memcmp(lo, hi, len) > 0) {
        snprintf(errmsg, errlen, "element \"%s\": range runs backwards", text);
        return -EINVAL;
      }
    }
  }
  /* an interval is its start plus an end marker just past its last value */
  if (increment(hi, len)) return 1; /* runs to the top: no end marker */
  memcpy(out[1].key, hi, len);
  out[1].flags = NFT_SET_ELEM_INTERVAL_END;
  return 2;
bad:
  snprintf(errmsg, errlen, "element \"%s\": not a valid %s", text, type_name(type));
  return -EINVAL;
}

/* One netlink attribute header at p. */
static void put_attr(unsigned char *p, uint16_t type, size_t len) {
  struct nlattr a = {(uint16_t)len, type};
  memcpy(p, &a, sizeof a);
}

size_t cnet_nft_elem_put(unsigned char *buf, const struct cnet_nft_elem *e, uint32_t len) {
  /* NFTA_LIST_ELEM { [NFTA_SET_ELEM_FLAGS u32] NFTA_SET_ELEM_KEY { NFTA_DATA_VALUE key } } */
  size_t value = NLA_HDRLEN + NLA_ALIGN(len), key = NLA_HDRLEN + value;
  size_t flags = e->flags ? NLA_HDRLEN + 4 : 0, all = NLA_HDRLEN + flags + key;
  unsigned char *p = buf;
  put_attr(p, NLA_F_NESTED | NFTA_LIST_ELEM, all);
  p += NLA_HDRLEN;
  if (flags) {
    uint32_t be = htonl(e->flags);
    put_attr(p, NFTA_SET_ELEM_FLAGS, NLA_HDRLEN + 4);
    memcpy(p + NLA_HDRLEN, &be, 4);
    p += flags;
  }
  put_attr(p, NLA_F_NESTED | NFTA_SET_ELEM_KEY, key);
  put_attr(p + NLA_HDRLEN, NFTA_DATA_VALUE, NLA_HDRLEN + len);
  p += 2 * NLA_HDRLEN;
  memcpy(p, e->key, len);
  memset(p + len, 0, NLA_ALIGN(len) - len);
  return all;
}

/* ---- formatting ---- */

static void format_value(uint32_t type, uint32_t len, const unsigned char *key, char *out,
                         size_t size) {
  switch (type) {
  case T_IPV4: inet_ntop(AF_INET, key, out, (socklen_t)size); return;
  case T_IPV6: inet_ntop(AF_INET6, key, out, (socklen_t)size); return;
  case T_ETHER:
    snprintf(out, size, "%02x:%02x:%02x:%02x:%02x:%02x", key[0], key[1], key[2], key[3],
             key[4], key[5]);
    return;
  case T_PROTO: {
    struct protoent *p = getprotobynumber(key[0]);
    if (p) snprintf(out, size, "%s", p->p_name);
    else snprintf(out, size, "%u", key[0]);
    return;
  }
  case T_SERVICE: snprintf(out, size, "%u", (unsigned)(key[0] << 8 | key[1])); return;
  case T_MARK: {
    uint32_t m;
    memcpy(&m, key, 4);
    snprintf(out, size, "0x%08x", m);
    return;
  }
  case T_IFNAME: snprintf(out, size, "\"%.*s\"", (int)len, (const char *)key); return;
  default: {
    size_t used = (size_t)snprintf(out, size, "0x");
    for (uint32_t i = 0; i < len && used + 3 <= size; i++)
      used += (size_t)snprintf(out + used, size - used, "%02x", key[i]);
  }
  }
}

struct elem { unsigned char key[KEYMAX]; int end; };

static int elem_cmp(const void *a, const void *b) {
  const struct elem *x = a, *y = b;
  int c = memcmp(x->key, y->key, KEYMAX);
  return c ? c : x->end - y->end;
}

/* The prefix length when [lo, hi] is exactly one prefix, else -1. */
static int prefix_of(const unsigned char *lo, const unsigned char *hi, uint32_t len) {
  uint32_t bits = len * 8, p = 0;
  while (p < bits && ((lo[p / 8] ^ hi[p / 8]) & (0x80 >> (p % 8))) == 0) p++;
  for (uint32_t b = p; b < bits; b++) {
    unsigned char m = (unsigned char)(0x80 >> (b % 8));
    if ((lo[b / 8] & m) || !(hi[b / 8] & m)) return -1;
  }
  return (int)p;
}

struct collect { struct elem *v; unsigned n, cap; };

static int collect_elem(struct nftnl_set_elem *e, void *data) {
  struct collect *c = data;
  uint32_t klen = 0;
  const void *k = nftnl_set_elem_get(e, NFTNL_SET_ELEM_KEY, &klen);
  if (k == NULL || klen > KEYMAX) return 0;
  if (c->n == c->cap) {
    unsigned cap = c->cap ? c->cap * 2 : 16;
    struct elem *p = realloc(c->v, cap * sizeof *p);
    if (p == NULL) return -1;
    c->v = p;
    c->cap = cap;
  }
  struct elem *x = &c->v[c->n++];
  memset(x->key, 0, KEYMAX);
  memcpy(x->key, k, klen);
  x->end = nftnl_set_elem_is_set(e, NFTNL_SET_ELEM_FLAGS) &&
           (nftnl_set_elem_get_u32(e, NFTNL_SET_ELEM_FLAGS) & NFT_SET_ELEM_INTERVAL_END);
  return 0;
}

void cnet_nft_elems_free(char **elems, unsigned n) {
  if (elems == NULL) return;
  for (unsigned i = 0; i < n; i++) free(elems[i]);
  free(elems);
}

int cnet_nft_elems_format(const struct nftnl_set *s, char ***out) {
  *out = NULL;
  uint32_t type = nftnl_set_get_u32(s, NFTNL_SET_KEY_TYPE);
  uint32_t len = nftnl_set_get_u32(s, NFTNL_SET_KEY_LEN);
  int interval = (nftnl_set_get_u32(s, NFTNL_SET_FLAGS) & NFT_SET_INTERVAL) != 0;
  if (len > KEYMAX) return 0;
  struct collect c = {NULL, 0, 0};
  if (nftnl_set_elem_foreach((struct nftnl_set *)s, collect_elem, &c) < 0) {
    free(c.v);
    return -ENOMEM;
  }
  struct elem *v = c.v;
  unsigned n = c.n;
  if (n > 1) qsort(v, n, sizeof *v, elem_cmp);
  char **txt = calloc(n ? n : 1, sizeof *txt);
  if (txt == NULL) { free(v); return -ENOMEM; }
  unsigned m = 0;
  char a[80], b[80], line[180];
  for (unsigned i = 0; i < n; i++) {
    if (v[i].end) continue; /* an end without a start: the kernel's own bookkeeping */
    format_value(type, len, v[i].key, a, sizeof a);
    if (!interval) {
      snprintf(line, sizeof line, "%s", a);
    } else {
      unsigned char hi[KEYMAX];
      const unsigned char *lo = v[i].key;
      if (i + 1 < n && v[i + 1].end) {
        memcpy(hi, v[i + 1].key, KEYMAX); /* hi = end - 1 */
        for (uint32_t j = len; j-- > 0;)
          if (hi[j]-- != 0) break;
        i++;
      } else {
        memset(hi, 0xff, len); /* no end marker: the range runs to the top */
      }
      int p = prefix_of(lo, hi, len);
      if (memcmp(lo, hi, len) == 0) snprintf(line, sizeof line, "%s", a);
      else if (p >= 0 && (type == T_IPV4 || type == T_IPV6))
        snprintf(line, sizeof line, "%s/%d", a, p);
      else {
        format_value(type, len, hi, b, sizeof b);
        snprintf(line, sizeof line, "%s-%s", a, b);
      }
    }
    if ((txt[m] = strdup(line)) == NULL) { cnet_nft_elems_free(txt, m); free(v); return -ENOMEM; }
    m++;
  }
  free(v);
  *out = txt;
  return (int)m;
}
