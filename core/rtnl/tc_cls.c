/* The classifiers' options: matchall, u32 and flower, written as tc's f_matchall.c,
 * f_u32.c and f_flower.c write them (for a command that gives the options in the order
 * cnet writes them) and read back from listings. */
#include <arpa/inet.h>
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <linux/if_ether.h>
#include <linux/pkt_cls.h>

#include "cnet/names.h"
#include "netlink/nlattr_int.h"
#include "rtnl/tc_filter_int.h"

/* TCA_*_FLAGS of the three: only the skip bits are the caller's. */
static int check_flags(struct tcw *w, const struct cnet_tc_filter *f) {
  uint32_t skip = TCA_CLS_FLAGS_SKIP_HW | TCA_CLS_FLAGS_SKIP_SW;
  if ((f->flags & skip) == skip) return tcw_fail(w, -EINVAL, "skip_hw and skip_sw exclude each other");
  if (f->flags & ~skip) return tcw_fail(w, -EINVAL, "only skip_hw and skip_sw can be set");
  return 0;
}

static int foreign(struct tcw *w, const struct cnet_tc_filter *f, int keys, int flower) {
  if (f->nkeys && !keys) return tcw_fail(w, -EINVAL, "%s takes no u32 match", f->kind);
  if (f->flower.given && !flower) return tcw_fail(w, -EINVAL, "%s takes no flower keys", f->kind);
  return check_flags(w, f);
}

static void decode_flags(const struct nlattr *a, struct cnet_tc_filter *f) {
  f->flags = attr_u32(a, 0);
}

/* ---- matchall: every packet ---- */

static int matchall_encode(struct tcw *w, const struct cnet_tc_filter *f) {
  int rc = foreign(w, f, 0, 0);
  if (rc < 0) return rc;
  if (!f->has_classid && f->nacts == 0 && f->flags == 0) return 0; /* tc: no options, no nest */
  struct nlattr *opts = tcw_nest(w, TCA_OPTIONS);
  if (opts == NULL) return -EMSGSIZE;
  if (f->has_classid && (rc = tcw_put_u32(w, TCA_MATCHALL_CLASSID, f->classid)) < 0) return rc;
  if ((rc = tc_actions_encode(w, TCA_MATCHALL_ACT, f)) < 0) return rc;
  if (f->flags && (rc = tcw_put_u32(w, TCA_MATCHALL_FLAGS, f->flags)) < 0) return rc;
  tcw_end(w, opts);
  return 0;
}

static void matchall_decode(const struct nlattr *opts, struct cnet_tc_filter *f) {
  struct attrs it = attrs_nested(opts);
  const struct nlattr *a;
  while ((a = next_attr(&it)) != NULL) {
    switch (attr_type(a)) {
    case TCA_MATCHALL_CLASSID: f->has_classid = 1; f->classid = attr_u32(a, 0); break;
    case TCA_MATCHALL_ACT: tc_actions_decode(a, f); break;
    case TCA_MATCHALL_FLAGS: decode_flags(a, f); break;
    default: break;
    }
  }
}

/* ---- u32: 32-bit words at offsets ---- */

static int u32_encode(struct tcw *w, const struct cnet_tc_filter *f) {
  int rc = foreign(w, f, 1, 0);
  if (rc < 0) return rc;
  if (!f->has_classid && f->nacts == 0 && f->flags == 0 && f->nkeys == 0) return 0;
  if (f->nkeys > CNET_TC_U32_MAXKEYS) return tcw_fail(w, -EINVAL, "more than %d keys", CNET_TC_U32_MAXKEYS);
  struct nlattr *opts = tcw_nest(w, TCA_OPTIONS);
  if (opts == NULL) return -EMSGSIZE;
  if (f->has_classid && (rc = tcw_put_u32(w, TCA_U32_CLASSID, f->classid)) < 0) return rc;
  if ((rc = tc_actions_encode(w, TCA_U32_ACT, f)) < 0) return rc;
  if (f->nkeys) {
    /* the selector and its keys in one attribute; terminal when the filter decides */
    struct {
      struct tc_u32_sel sel;
      struct tc_u32_key keys[CNET_TC_U32_MAXKEYS];
    } s;
    memset(&s, 0, sizeof s);
    s.sel.flags = f->has_classid || f->nacts ? TC_U32_TERMINAL : 0;
    s.sel.nkeys = (unsigned char)f->nkeys;
    for (unsigned i = 0; i < f->nkeys; i++)
      s.keys[i] = (struct tc_u32_key){f->keys[i].mask, f->keys[i].val, f->keys[i].off,
                                      f->keys[i].offmask};
    rc = tcw_put(w, TCA_U32_SEL, &s, sizeof s.sel + f->nkeys * sizeof s.keys[0]);
    if (rc < 0) return rc;
  }
  if (f->flags && (rc = tcw_put_u32(w, TCA_U32_FLAGS, f->flags)) < 0) return rc;
  tcw_end(w, opts);
  return 0;
}

static void u32_decode(const struct nlattr *opts, struct cnet_tc_filter *f) {
  struct attrs it = attrs_nested(opts);
  const struct nlattr *a;
  while ((a = next_attr(&it)) != NULL) {
    switch (attr_type(a)) {
    case TCA_U32_CLASSID: f->has_classid = 1; f->classid = attr_u32(a, 0); break;
    case TCA_U32_ACT: tc_actions_decode(a, f); break;
    case TCA_U32_FLAGS: decode_flags(a, f); break;
    case TCA_U32_SEL: {
      struct tc_u32_sel sel;
      if (attr_len(a) < sizeof sel) break;
      memcpy(&sel, attr_data(a), sizeof sel);
      unsigned n = sel.nkeys;
      if (attr_len(a) < sizeof sel + n * sizeof(struct tc_u32_key)) break;
      const char *p = (const char *)attr_data(a) + sizeof sel;
      for (unsigned i = 0; i < n && i < CNET_TC_U32_MAXKEYS; i++) {
        struct tc_u32_key k;
        memcpy(&k, p + i * sizeof k, sizeof k);
        f->keys[i] = (struct cnet_tc_u32_key){k.mask, k.val, k.off, k.offmask};
      }
      f->nkeys = n < CNET_TC_U32_MAXKEYS ? n : CNET_TC_U32_MAXKEYS;
      break;
    }
    default: break;
    }
  }
}

/* A handle without a node number is one of u32's hash tables, not a filter. */
static int u32_table_row(uint32_t handle) { return (handle & 0xfff) == 0; }

/* ---- flower: keys of the packet's headers ---- */

static const struct cnet_name ip_protos[] = {
  {6, "tcp"}, {17, "udp"}, {132, "sctp"}, {1, "icmp"}, {58, "icmpv6"}};

int cnet_tc_flower_parse_proto(const char *text) {
  return (int)cnet_name_value(ip_protos, CNET_NAMES_LEN(ip_protos), text);
}

const char *cnet_tc_flower_proto_name(uint8_t proto) {
  return cnet_name_of(ip_protos, CNET_NAMES_LEN(ip_protos), proto);
}

/* The port attribute of ip_proto for the destination (dst) or source; 0 for none. */
static uint16_t port_attr(uint8_t ip_proto, int dst) {
  switch (ip_proto) {
  case 6: return dst ? TCA_FLOWER_KEY_TCP_DST : TCA_FLOWER_KEY_TCP_SRC;
  case 17: return dst ? TCA_FLOWER_KEY_UDP_DST : TCA_FLOWER_KEY_UDP_SRC;
  case 132: return dst ? TCA_FLOWER_KEY_SCTP_DST : TCA_FLOWER_KEY_SCTP_SRC;
  default: return 0;
  }
}

static int put_mac(struct tcw *w, uint16_t type, const uint8_t *mac) {
  static const uint8_t all[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
  int rc = tcw_put(w, type, mac, 6);
  return rc < 0 ? rc : tcw_put(w, (uint16_t)(type + 1), all, 6); /* its _MASK follows it */
}

/* The address as written (tc does not mask it) and its prefix as a mask. */
static int put_ip(struct tcw *w, const struct cnet_ipaddr *a, int dst) {
  int v4 = a->family == AF_INET;
  uint16_t type = v4 ? (dst ? TCA_FLOWER_KEY_IPV4_DST : TCA_FLOWER_KEY_IPV4_SRC)
                     : (dst ? TCA_FLOWER_KEY_IPV6_DST : TCA_FLOWER_KEY_IPV6_SRC);
  size_t len = v4 ? 4 : 16;
  uint8_t mask[16] = {0};
  for (unsigned b = 0; b < a->prefix; b++) mask[b / 8] |= (uint8_t)(0x80 >> (b % 8));
  int rc = tcw_put(w, type, a->bytes, len);
  return rc < 0 ? rc : tcw_put(w, (uint16_t)(type + 1), mask, len);
}

static int flower_encode(struct tcw *w, const struct cnet_tc_filter *f) {
  int rc = foreign(w, f, 0, 1);
  if (rc < 0) return rc;
  const struct cnet_tc_flower *k = &f->flower;
  int family = f->protocol == ETH_P_IP ? AF_INET : f->protocol == ETH_P_IPV6 ? AF_INET6 : 0;
  if ((k->given & (CNET_FLOWER_IP_PROTO | CNET_FLOWER_DST_IP | CNET_FLOWER_SRC_IP)) && !family)
    return tcw_fail(w, -EINVAL, "flower: ip_proto, dst_ip and src_ip need protocol ip or ipv6");
  if (((k->given & CNET_FLOWER_DST_IP) && k->dst_ip.family != family) ||
      ((k->given & CNET_FLOWER_SRC_IP) && k->src_ip.family != family))
    return tcw_fail(w, -EINVAL, "flower: an address of another family than protocol %s",
                    family == AF_INET ? "ip" : "ipv6");
  int ports = k->given & (CNET_FLOWER_DST_PORT | CNET_FLOWER_SRC_PORT);
  if (ports && (!(k->given & CNET_FLOWER_IP_PROTO) || port_attr(k->ip_proto, 1) == 0))
    return tcw_fail(w, -EINVAL, "flower: ports need ip_proto tcp, udp or sctp");
  struct nlattr *opts = tcw_nest(w, TCA_OPTIONS); /* tc writes it even when empty */
  if (opts == NULL) return -EMSGSIZE;
  if (f->has_classid && (rc = tcw_put_u32(w, TCA_FLOWER_CLASSID, f->classid)) < 0) return rc;
  if ((k->given & CNET_FLOWER_DST_MAC) && (rc = put_mac(w, TCA_FLOWER_KEY_ETH_DST, k->dst_mac)) < 0)
    return rc;
  if ((k->given & CNET_FLOWER_SRC_MAC) && (rc = put_mac(w, TCA_FLOWER_KEY_ETH_SRC, k->src_mac)) < 0)
    return rc;
  if ((k->given & CNET_FLOWER_IP_PROTO) &&
      (rc = tcw_put(w, TCA_FLOWER_KEY_IP_PROTO, &k->ip_proto, 1)) < 0)
    return rc;
  if ((k->given & CNET_FLOWER_DST_IP) && (rc = put_ip(w, &k->dst_ip, 1)) < 0) return rc;
  if ((k->given & CNET_FLOWER_SRC_IP) && (rc = put_ip(w, &k->src_ip, 0)) < 0) return rc;
  uint16_t be;
  if (k->given & CNET_FLOWER_DST_PORT) {
    be = htons(k->dst_port);
    if ((rc = tcw_put(w, port_attr(k->ip_proto, 1), &be, 2)) < 0) return rc;
  }
  if (k->given & CNET_FLOWER_SRC_PORT) {
    be = htons(k->src_port);
    if ((rc = tcw_put(w, port_attr(k->ip_proto, 0), &be, 2)) < 0) return rc;
  }
  if ((rc = tc_actions_encode(w, TCA_FLOWER_ACT, f)) < 0) return rc;
  if ((rc = tcw_put_u32(w, TCA_FLOWER_FLAGS, f->flags)) < 0) return rc;
  if (f->protocol != ETH_P_ALL && f->protocol != 0) {
    be = htons(f->protocol);
    if ((rc = tcw_put(w, TCA_FLOWER_KEY_ETH_TYPE, &be, 2)) < 0) return rc;
  }
  tcw_end(w, opts);
  return 0;
}

/* The number of leading one bits of a mask of len bytes, or -1 when it is not a prefix. */
static int prefix_of(const uint8_t *mask, size_t len) {
  int bits = 0, hole = 0;
  for (size_t i = 0; i < len * 8; i++) {
    int one = (mask[i / 8] >> (7 - i % 8)) & 1;
    if (one && hole) return -1;
    if (one) bits++;
    else hole = 1;
  }
  return bits;
}

static int all_ones(const struct nlattr *a, size_t len) {
  if (a == NULL || attr_len(a) != len) return 0;
  return prefix_of(attr_data(a), len) == (int)(len * 8);
}

static void flower_decode(const struct nlattr *opts, struct cnet_tc_filter *f) {
  struct cnet_tc_flower *k = &f->flower;
  const struct nlattr *tb[TCA_FLOWER_MAX + 1] = {0};
  struct attrs it = attrs_nested(opts);
  const struct nlattr *a;
  while ((a = next_attr(&it)) != NULL)
    if (attr_type(a) <= TCA_FLOWER_MAX) tb[attr_type(a)] = a;
  if (tb[TCA_FLOWER_CLASSID]) {
    f->has_classid = 1;
    f->classid = attr_u32(tb[TCA_FLOWER_CLASSID], 0);
  }
  if (tb[TCA_FLOWER_ACT]) tc_actions_decode(tb[TCA_FLOWER_ACT], f);
  if (tb[TCA_FLOWER_FLAGS]) decode_flags(tb[TCA_FLOWER_FLAGS], f);
  /* exact MAC addresses only: a masked one is not a key cnet writes */
  if (tb[TCA_FLOWER_KEY_ETH_DST] && attr_len(tb[TCA_FLOWER_KEY_ETH_DST]) == 6 &&
      all_ones(tb[TCA_FLOWER_KEY_ETH_DST_MASK], 6)) {
    memcpy(k->dst_mac, attr_data(tb[TCA_FLOWER_KEY_ETH_DST]), 6);
    k->given |= CNET_FLOWER_DST_MAC;
  }
  if (tb[TCA_FLOWER_KEY_ETH_SRC] && attr_len(tb[TCA_FLOWER_KEY_ETH_SRC]) == 6 &&
      all_ones(tb[TCA_FLOWER_KEY_ETH_SRC_MASK], 6)) {
    memcpy(k->src_mac, attr_data(tb[TCA_FLOWER_KEY_ETH_SRC]), 6);
    k->given |= CNET_FLOWER_SRC_MAC;
  }
  if (tb[TCA_FLOWER_KEY_IP_PROTO] && attr_len(tb[TCA_FLOWER_KEY_IP_PROTO]) >= 1) {
    k->ip_proto = *(const uint8_t *)attr_data(tb[TCA_FLOWER_KEY_IP_PROTO]);
    k->given |= CNET_FLOWER_IP_PROTO;
  }
  static const struct {
    uint16_t key, mask;
    int family, dst;
  } ips[] = {{TCA_FLOWER_KEY_IPV4_DST, TCA_FLOWER_KEY_IPV4_DST_MASK, AF_INET, 1},
             {TCA_FLOWER_KEY_IPV4_SRC, TCA_FLOWER_KEY_IPV4_SRC_MASK, AF_INET, 0},
             {TCA_FLOWER_KEY_IPV6_DST, TCA_FLOWER_KEY_IPV6_DST_MASK, AF_INET6, 1},
             {TCA_FLOWER_KEY_IPV6_SRC, TCA_FLOWER_KEY_IPV6_SRC_MASK, AF_INET6, 0}};
  for (size_t i = 0; i < sizeof ips / sizeof ips[0]; i++) {
    size_t len = ips[i].family == AF_INET ? 4 : 16;
    const struct nlattr *ka = tb[ips[i].key], *ma = tb[ips[i].mask];
    if (ka == NULL || attr_len(ka) != len) continue;
    int bits = ma && attr_len(ma) == len ? prefix_of(attr_data(ma), len) : (int)len * 8;
    if (bits < 0) continue;
    struct cnet_ipaddr *ip = ips[i].dst ? &k->dst_ip : &k->src_ip;
    memset(ip, 0, sizeof *ip);
    ip->family = ips[i].family;
    ip->prefix = (uint8_t)bits;
    ip->has_prefix = 1;
    memcpy(ip->bytes, attr_data(ka), len);
    k->given |= ips[i].dst ? CNET_FLOWER_DST_IP : CNET_FLOWER_SRC_IP;
  }
  for (int dst = 0; dst <= 1; dst++) {
    uint16_t type = (k->given & CNET_FLOWER_IP_PROTO) ? port_attr(k->ip_proto, dst) : 0;
    const struct nlattr *pa = type ? tb[type] : NULL;
    if (pa == NULL || attr_len(pa) != 2) continue;
    uint16_t be;
    memcpy(&be, attr_data(pa), 2);
    if (dst) k->dst_port = ntohs(be), k->given |= CNET_FLOWER_DST_PORT;
    else k->src_port = ntohs(be), k->given |= CNET_FLOWER_SRC_PORT;
  }
}

/* ---- the table ---- */

static const struct tc_cls classifiers[] = {
    {"matchall", matchall_encode, matchall_decode, NULL},
    {"u32", u32_encode, u32_decode, u32_table_row},
    {"flower", flower_encode, flower_decode, NULL},
};

const struct tc_cls *tc_cls_find(const char *name) {
  for (size_t i = 0; i < sizeof classifiers / sizeof classifiers[0]; i++)
    if (strcmp(classifiers[i].name, name) == 0) return &classifiers[i];
  return NULL;
}

int cnet_tc_filter_kind_known(const char *kind) { return tc_cls_find(kind) != NULL; }
