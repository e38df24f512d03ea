/* What a link's kind says about it (IFLA_LINKINFO): the kind's own data (IFLA_INFO_DATA: a
 * vxlan's VNI, a bridge's STP settings) and its port data under a master
 * (IFLA_INFO_SLAVE_DATA: a bridge port's learning, flooding, hairpin...). One table per kind
 * describes each field once (its name as `ip -d -j link` shows it, its attribute, how its value
 * is encoded); decoding a dump and encoding a request both read that table. */
#ifndef CNET_LINKINFO_H
#define CNET_LINKINFO_H

#include <stdint.h>

#include "cnet/ipaddr.h"

struct cnet_link;

/* How a field's value is encoded in its attribute, and so which member of cnet_link_value
 * carries it. */
enum cnet_lf_type {
  CNET_LF_UINT,    /* unsigned integer of `size` bytes, host order: u */
  CNET_LF_BE,      /* unsigned integer of `size` bytes, network order (ports, labels): u */
  CNET_LF_BOOL,    /* u8 0 or 1: u */
  CNET_LF_FLAG,    /* true when the attribute is present, without payload: u */
  CNET_LF_BIT,     /* one bit (`bit`) of an integer attribute of `size` bytes: u (0 or 1) */
  CNET_LF_BOOLOPT, /* one bit of the bridge's struct br_boolopt_multi: u (0 or 1) */
  CNET_LF_ENUM,    /* integer of `size` bytes (network order when `be`), named: u, name */
  CNET_LF_ADDR,    /* IPv4 address (attr) or IPv6 address (attr6): addr */
  CNET_LF_MAC,     /* link-layer address: bytes, len */
  CNET_LF_IFINDEX, /* u32 ifindex, 0 for none: u */
  CNET_LF_ID,      /* u32 user or group id, (uint32_t)-1 for none: u */
  CNET_LF_RANGE,   /* two be16 ports (struct ifla_vxlan_port_range): lo, hi */
  CNET_LF_MACLIST, /* nest of 6-byte addresses (a macvlan's source list): count, list */
  CNET_LF_BRID,    /* struct ifla_bridge_id, read only: bytes (2 priority + 6 address) */
};

/* Field flags. */
enum {
  CNET_LF_RO = 1,        /* listed only: the kernel reports it but takes no such option */
  CNET_LF_ALIAS = 2,     /* an input name only (listing uses the field of the same attr) */
  CNET_LF_MCAST = 4,     /* ADDR: listed under this name only when the address is multicast */
  CNET_LF_UCAST = 8,     /* ADDR: only when it is not */
  CNET_LF_OMITZERO = 16, /* not listed when zero (an unset address, device, label) */
};

/* A name of an enumerated value. */
struct cnet_lf_name {
  uint32_t value;
  const char *name;
};

struct cnet_link_field {
  const char *name;    /* as `ip -d -j link` lists it: "id", "remote", "learning" */
  const char *name6;   /* ADDR: the name of the IPv6 form ("remote6"), accepted as input too */
  uint16_t attr;       /* IFLA_VXLAN_ID, ...; ADDR: the IPv4 attribute */
  uint16_t attr6;      /* ADDR: the IPv6 attribute */
  uint8_t type;        /* enum cnet_lf_type */
  uint8_t size;        /* UINT, BE, BIT, ENUM: bytes of the attribute (1, 2, 4, 8) */
  uint8_t flags;       /* CNET_LF_* above */
  uint8_t be;          /* ENUM: network order */
  uint32_t bit;        /* BIT, BOOLOPT: the bit's mask */
  uint32_t max;        /* UINT, BE: the largest value the kernel takes, when less than the
                        * size allows (a VNI has 24 bits); 0: as the size allows */
  const struct cnet_lf_name *names; /* ENUM: the names, ending with a NULL name */
};

/* A field's value, decoded from a dump or given for a request. Which members count depends on
 * the field's type (see enum cnet_lf_type). Pointers point into the message (decoding) or the
 * caller's memory (requests). */
struct cnet_link_value {
  uint64_t u;
  const char *name;           /* ENUM: the value's name (NULL when it has none) */
  struct cnet_ipaddr addr;    /* ADDR */
  const unsigned char *bytes; /* MAC, BRID; MACLIST in requests: count * 6 bytes */
  unsigned len;               /* MAC, BRID */
  uint16_t lo, hi;            /* RANGE */
  unsigned count;             /* MACLIST */
  const void *list;           /* MACLIST when decoding: the nest (see cnet_link_maclist_next) */
};

/* The fields of `kind`'s data (port = 0) or of a port under a master of kind `kind` (port = 1:
 * "bridge"), and how many (*n). NULL, *n = 0, when cnet knows none (veth, ifb, dummy...). */
const struct cnet_link_field *cnet_link_fields(const char *kind, int port, unsigned *n);
/* The field called `name` (or name6) among them, aliases included, or NULL. */
const struct cnet_link_field *cnet_link_field_find(const char *kind, int port, const char *name);
/* 1 when some kind's (or port's) table has a field called name. */
int cnet_link_field_known(const char *name);
/* The largest value an integer field takes (UINT, BE: by size; BOOL, BIT, BOOLOPT, FLAG: 1;
 * IFINDEX: INT32_MAX; ID: 0xfffffffe). 0 for other types. */
uint64_t cnet_link_field_max(const struct cnet_link_field *f);
/* ENUM: the value of `name`, 0 or -EINVAL when the field has no such name. */
int cnet_link_field_enum(const struct cnet_link_field *f, const char *name, uint64_t *value);

/* Calls fn for every field the link's kind data (port = 0) or port data (port = 1) carries, in
 * the kernel's order (fields of one attribute in table order). A non-zero return of fn stops and is
 * returned; 0 otherwise (also when the link has no such data or cnet knows no fields for it). */
typedef int (*cnet_link_field_fn)(const struct cnet_link_field *f, const struct cnet_link_value *v,
                                  void *data);
int cnet_link_details(const struct cnet_link *l, int port, cnet_link_field_fn fn, void *data);

/* MACLIST (decoded): the next address after *pos (NULL to start), or NULL at the end. */
const unsigned char *cnet_link_maclist_next(const struct cnet_link_value *v, const void **pos);

/* One option of a request: a field of the request's kind (or port kind) and its value. */
struct cnet_link_opt {
  const struct cnet_link_field *field;
  struct cnet_link_value value;
};

#endif
