/* The kind and port field tables both ways: for every kind cnet knows, a request carrying a
 * value for each settable field is built and read back with the decoder that reads the
 * kernel's replies; each value must come back as given, and no other field may claim its
 * attribute. That the tables match the kernel is for tests/spec/link_kinds_spec.lua, against
 * iproute2. No socket, no privileges. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>

#include "cnet/link.h"
#include "cnet/linkinfo.h"

#include "check.h"

static unsigned char buf[16384] __attribute__((aligned(8)));

static const struct {
  const char *kind;
  int port;
} kinds[] = {{"vxlan", 0}, {"macvlan", 0}, {"macvtap", 0}, {"bridge", 0}, {"bridge", 1}, {"tun", 0},
             {"vlan", 0},  {"ipvlan", 0},  {"vrf", 0},     {"bond", 0}};

static const unsigned char macs[12] = {2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2};

/* A value for field i that is not the kernel's default and differs from field to field. */
static void value_for(const struct cnet_link_field *f, unsigned i, struct cnet_link_value *v) {
  memset(v, 0, sizeof *v);
  uint64_t max = cnet_link_field_max(f);
  switch (f->type) {
  case CNET_LF_UINT:
  case CNET_LF_BE: v->u = max > 1000 ? max - i : 1 + i % max; break;
  case CNET_LF_BOOL:
  case CNET_LF_BOOLOPT: v->u = i % 2; break;
  case CNET_LF_FLAG:
  case CNET_LF_BIT: v->u = 1; break;
  case CNET_LF_ENUM: {
    const struct cnet_lf_name *p = f->names;
    while (p[1].name) p++;
    v->u = p->value;
    break;
  }
  case CNET_LF_ADDR:
    /* the IPv6 form of a field when its IPv4 one is the multicast "group" */
    if (f->flags & CNET_LF_MCAST) cnet_ipaddr_parse("ff05::1:3", AF_INET6, &v->addr);
    else if (f->flags & CNET_LF_UCAST) cnet_ipaddr_parse("192.0.2.7", AF_INET, &v->addr);
    else cnet_ipaddr_parse("2001:db8::5", AF_INET6, &v->addr);
    break;
  case CNET_LF_MAC: v->bytes = macs, v->len = 6; break;
  case CNET_LF_IFINDEX: v->u = 7 + i; break;
  case CNET_LF_ID: v->u = 1000 + i; break;
  case CNET_LF_RANGE: v->lo = 1000, v->hi = (uint16_t)(2000 + i); break;
  case CNET_LF_MACLIST: v->bytes = macs, v->count = 2; break;
  default: break;
  }
}

static int same(const struct cnet_link_field *f, const struct cnet_link_value *a,
                const struct cnet_link_value *b) {
  switch (f->type) {
  case CNET_LF_ADDR: return cnet_ipaddr_equal(&a->addr, &b->addr);
  case CNET_LF_MAC: return a->len == b->len && memcmp(a->bytes, b->bytes, a->len) == 0;
  case CNET_LF_RANGE: return a->lo == b->lo && a->hi == b->hi;
  case CNET_LF_MACLIST: {
    const void *pos = NULL;
    const unsigned char *m;
    unsigned n = 0;
    while ((m = cnet_link_maclist_next(b, &pos)) != NULL) {
      if (n >= a->count || memcmp(m, a->bytes + 6 * n, 6) != 0) return 0;
      n++;
    }
    return n == a->count && b->count == a->count;
  }
  default: return a->u == b->u;
  }
}

struct expect {
  const struct cnet_link_opt *opts;
  unsigned n, seen;
  const char *kind;
};

static int check_field(const struct cnet_link_field *f, const struct cnet_link_value *v, void *data) {
  struct expect *e = data;
  for (unsigned i = 0; i < e->n; i++) {
    if (e->opts[i].field != f) continue;
    CHECK(same(f, &e->opts[i].value, v), "%s: field %s comes back as given", e->kind, f->name);
    e->seen++;
    return 0;
  }
  /* a field the request did not set: only one the kernel fills in, never one that shares an
   * attribute with a set field under another reading */
  for (unsigned i = 0; i < e->n; i++)
    CHECK(e->opts[i].field->attr != f->attr || f->type == CNET_LF_BIT || f->type == CNET_LF_BOOLOPT,
          "%s: field %s decoded from the attribute of %s", e->kind, f->name, e->opts[i].field->name);
  return 0;
}

static void roundtrip(const char *kind, int port) {
  unsigned n;
  const struct cnet_link_field *fields = cnet_link_fields(kind, port, &n);
  CHECK(fields != NULL && n > 0, "%s has fields", kind);
  struct cnet_link_opt opts[CNET_LINK_MAX_OPTS];
  unsigned k = 0;
  for (unsigned i = 0; i < n; i++) {
    const struct cnet_link_field *f = &fields[i];
    if (f->flags & (CNET_LF_RO | CNET_LF_ALIAS)) continue;
    int taken = 0; /* one field per attribute, except the bits that share one */
    for (unsigned j = 0; j < k; j++)
      taken |= opts[j].field->attr == f->attr && f->type != CNET_LF_BIT &&
               f->type != CNET_LF_BOOLOPT;
    if (taken) continue;
    opts[k].field = f;
    value_for(f, i, &opts[k].value);
    k++;
  }
  struct cnet_link_req req;
  cnet_link_req_init(&req);
  req.name = "x0";
  if (port) {
    req.port_kind = kind, req.port = opts, req.nport = k;
  } else {
    req.kind = kind, req.info = opts, req.ninfo = k;
  }
  memset(buf, 0, sizeof buf);
  struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
  nlh->nlmsg_type = RTM_NEWLINK;
  int rc = cnet_link_build(nlh, sizeof buf - nlh->nlmsg_len, 0, &req);
  CHECK(rc == 0, "%s%s: build %d", kind, port ? " port" : "", rc);
  struct cnet_link l;
  CHECK(cnet_link_parse(nlh, &l) == 0, "parse");
  CHECK(port ? l.port_data != NULL && l.port_kind && !strcmp(l.port_kind, kind) : l.info_data != NULL,
        "%s: data found", kind);
  struct expect e = {opts, k, 0, kind};
  CHECK(cnet_link_details(&l, port, check_field, &e) == 0, "details");
  CHECK(e.seen == k, "%s%s: %u of %u fields came back", kind, port ? " port" : "", e.seen, k);
}

static void test_roundtrip(void) {
  for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++) roundtrip(kinds[i].kind, kinds[i].port);
}

static void test_refusals(void) {
  unsigned char b[256] __attribute__((aligned(8)));
  struct cnet_link_req req;
  cnet_link_req_init(&req);
  req.name = "x0";
  req.kind = "bridge";
  struct cnet_link_opt o;
  memset(&o, 0, sizeof o);
  o.field = cnet_link_field_find("bridge", 0, "root_id");
  CHECK(o.field && (o.field->flags & CNET_LF_RO), "root_id is read-only");
  req.info = &o;
  req.ninfo = 1;
  memset(b, 0, sizeof b);
  struct nlmsghdr *nlh = mnl_nlmsg_put_header(b);
  CHECK(cnet_link_build(nlh, sizeof b - nlh->nlmsg_len, 0, &req) == -EINVAL, "a read-only field");
  o.field = cnet_link_field_find("bridge", 0, "priority");
  o.value.u = 65536;
  memset(b, 0, sizeof b);
  nlh = mnl_nlmsg_put_header(b);
  CHECK(cnet_link_build(nlh, sizeof b - nlh->nlmsg_len, 0, &req) == -EINVAL, "a u16 over 65535");
  /* an IPv6 address for a field that has no IPv6 attribute */
  o.field = cnet_link_field_find("vxlan", 0, "remote6");
  CHECK(o.field && !strcmp(o.field->name, "remote"), "remote6 finds remote");
  CHECK(cnet_link_field_find("vxlan", 0, "colour") == NULL, "no such field");
  CHECK(cnet_link_field_find("veth", 0, "id") == NULL, "veth has no fields");
  CHECK(cnet_link_field_known("learning") && !cnet_link_field_known("colour"), "known fields");
  /* bit fields of one attribute merge, over the device's current flags */
  const struct cnet_link_field *nodst = cnet_link_field_find("macvlan", 0, "nodst");
  struct cnet_link_opt bit = {nodst, {0}};
  bit.value.u = 1;
  req.kind = "macvlan";
  req.info = &bit;
  unsigned char base[16] __attribute__((aligned(4))) = {0};
  struct nlattr *nest = (struct nlattr *)base, *flags = (struct nlattr *)(base + 4);
  nest->nla_len = 4 + 8;
  flags->nla_len = 4 + 2;
  flags->nla_type = IFLA_MACVLAN_FLAGS;
  uint16_t old = MACVLAN_FLAG_NOPROMISC;
  memcpy(base + 8, &old, 2);
  req.info_base = nest;
  memset(b, 0, sizeof b);
  nlh = mnl_nlmsg_put_header(b);
  nlh->nlmsg_type = RTM_NEWLINK;
  CHECK(cnet_link_build(nlh, sizeof b - nlh->nlmsg_len, 0, &req) == 0, "build flags");
  struct cnet_link l;
  CHECK(cnet_link_parse(nlh, &l) == 0 && l.info_data, "parse flags");
  const struct nlattr *a;
  uint16_t got = 0;
  mnl_attr_for_each_nested(a, l.info_data) if (mnl_attr_get_type(a) == IFLA_MACVLAN_FLAGS) got = mnl_attr_get_u16(a);
  CHECK(got == (MACVLAN_FLAG_NOPROMISC | MACVLAN_FLAG_NODST), "nopromisc kept, nodst added: %u", got);
}

int main(void) {
  test_roundtrip();
  test_refusals();
  if (failures) fprintf(stderr, "%d check(s) failed\n", failures);
  else printf("linkinfo: all checks passed\n");
  return failures ? 1 : 0;
}
