/* Netlink attribute walking by hand, for the decoders of big dumps (link and route lists):
 * no library call per attribute. Each attribute is checked to lie within its payload, as
 * libmnl's iterator does. Internal to core/. */
#ifndef CNET_NLATTR_INT_H
#define CNET_NLATTR_INT_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <linux/netlink.h>
#include <libmnl/libmnl.h>

struct attrs {
  const char *p, *end;
};

/* The attributes from byte `off` of a message's payload (its fixed header's aligned size). */
static inline struct attrs attrs_of_msg(const struct nlmsghdr *nlh, size_t off) {
  const char *start = (const char *)nlh + NLMSG_HDRLEN + NLMSG_ALIGN(off);
  const char *end = (const char *)nlh + nlh->nlmsg_len;
  struct attrs it = {start, start <= end ? end : start};
  return it;
}

static inline const void *attr_data(const struct nlattr *a) {
  return (const char *)a + NLA_HDRLEN;
}

/* The attributes nested in a. */
static inline struct attrs attrs_nested(const struct nlattr *a) {
  struct attrs it = {attr_data(a), (const char *)a + a->nla_len};
  return it;
}

/* The next attribute, or NULL at the end (or at a malformed one). */
static inline const struct nlattr *next_attr(struct attrs *it) {
  if (it->end - it->p < (ptrdiff_t)sizeof(struct nlattr)) return NULL;
  const struct nlattr *a = (const void *)it->p;
  if (a->nla_len < sizeof *a || a->nla_len > it->end - it->p) return NULL;
  it->p += NLA_ALIGN(a->nla_len);
  return a;
}

static inline uint16_t attr_type(const struct nlattr *a) { return a->nla_type & NLA_TYPE_MASK; }
static inline uint16_t attr_len(const struct nlattr *a) { return a->nla_len - NLA_HDRLEN; }

/* The payload as a string, or NULL unless it is NUL-terminated. */
static inline const char *attr_str(const struct nlattr *a) {
  uint16_t len = attr_len(a);
  const char *s = attr_data(a);
  return len > 0 && s[len - 1] == '\0' ? s : NULL;
}

/* A u32 payload, or dflt when it is too short. */
static inline uint32_t attr_u32(const struct nlattr *a, uint32_t dflt) {
  uint32_t v;
  if (attr_len(a) < 4) return dflt;
  memcpy(&v, attr_data(a), sizeof v);
  return v;
}

/* Writing: mnl_attr_put_check, then the attribute's padding zeroed. libmnl 1.0.4 leaves the
 * padding as the buffer had it (a previous request's bytes, or bytes never written), so a
 * request would not be the same bytes twice, nor the bytes iproute2 sends. Returns 0 when
 * it does not fit within limit. */
static inline int attr_put(struct nlmsghdr *nlh, size_t limit, uint16_t type, size_t len,
                           const void *data) {
  if (!mnl_attr_put_check(nlh, limit, type, len, data)) return 0;
  size_t pad = MNL_ALIGN(len) - len;
  if (pad) memset((char *)nlh + nlh->nlmsg_len - pad, 0, pad);
  return 1;
}
static inline int attr_put_u8(struct nlmsghdr *nlh, size_t limit, uint16_t type, uint8_t v) {
  return attr_put(nlh, limit, type, sizeof v, &v);
}
static inline int attr_put_u16(struct nlmsghdr *nlh, size_t limit, uint16_t type, uint16_t v) {
  return attr_put(nlh, limit, type, sizeof v, &v);
}
static inline int attr_put_strz(struct nlmsghdr *nlh, size_t limit, uint16_t type, const char *s) {
  return attr_put(nlh, limit, type, strlen(s) + 1, s);
}

#endif
