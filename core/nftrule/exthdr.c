/* Extension headers and options: tcp options, ip options, IPv6 extension headers and sctp
 * chunks, each described once (name, kernel type, fields with offset and length in bits from
 * the option's or header's start). The parser reads these to load a field, the decoder to
 * name a load the kernel holds (nft's tcpopt.c, ipopt.c, exthdr.c, sctp_chunk.c). */
#include "nftrule/nr_int.h"

#include <stdio.h>
#include <string.h>
#include <linux/netfilter/nf_tables.h>

#define F(name, type, off, bits) {name, type, BO_BE, off, bits, 0}
#define N(a) (int)(sizeof a / sizeof a[0])
#define D(name, op, type, f) {name, op, type, f, N(f)}

/* ---- tcp options (their kind, length, then the fields) ---- */

static const struct nr_field to_kind[] = {F("kind", T_INTEGER, 0, 8)};
static const struct nr_field to_common[] = {F("kind", T_INTEGER, 0, 8),
                                            F("length", T_INTEGER, 8, 8)};
static const struct nr_field to_maxseg[] = {F("kind", T_INTEGER, 0, 8),
                                            F("length", T_INTEGER, 8, 8),
                                            F("size", T_INTEGER, 16, 16)};
static const struct nr_field to_window[] = {F("kind", T_INTEGER, 0, 8),
                                            F("length", T_INTEGER, 8, 8),
                                            F("count", T_INTEGER, 16, 8)};
/* the four blocks a sack option can hold: "sack left" is the first block's, "sack2 right"
 * the third's (64 bits apart) */
static const struct nr_field to_sack[] = {
  F("kind", T_INTEGER, 0, 8), F("length", T_INTEGER, 8, 8), F("left", T_INTEGER, 16, 32),
  F("right", T_INTEGER, 48, 32), F("left", T_INTEGER, 80, 32), F("right", T_INTEGER, 112, 32),
  F("left", T_INTEGER, 144, 32), F("right", T_INTEGER, 176, 32), F("left", T_INTEGER, 208, 32),
  F("right", T_INTEGER, 240, 32)};
static const struct nr_field to_timestamp[] = {F("kind", T_INTEGER, 0, 8),
                                               F("length", T_INTEGER, 8, 8),
                                               F("tsval", T_INTEGER, 16, 32),
                                               F("tsecr", T_INTEGER, 48, 32)};
static const struct nr_field to_mptcp[] = {F("kind", T_INTEGER, 0, 8),
                                           F("length", T_INTEGER, 8, 8),
                                           F("subtype", T_INTEGER, 16, 4)};

enum { TO = NFT_EXTHDR_OP_TCPOPT, IO = NFT_EXTHDR_OP_IPV4, XO = NFT_EXTHDR_OP_IPV6,
       SO = NFT_EXTHDR_OP_SCTP };

static const struct nr_xdesc tcpopts[] = {
  D("eol", TO, 0, to_kind), D("nop", TO, 1, to_kind), D("maxseg", TO, 2, to_maxseg),
  D("window", TO, 3, to_window), D("sack-perm", TO, 4, to_common), D("sack", TO, 5, to_sack),
  D("timestamp", TO, 8, to_timestamp), D("md5sig", TO, 19, to_common),
  D("mptcp", TO, 30, to_mptcp), D("fastopen", TO, 34, to_common)};

/* ---- ip options ---- */

static const struct nr_field io_route[] = {F("type", T_INTEGER, 0, 8),
                                           F("length", T_INTEGER, 8, 8),
                                           F("ptr", T_INTEGER, 16, 8),
                                           F("addr", T_INTEGER, 24, 32)};
static const struct nr_field io_ra[] = {F("type", T_INTEGER, 0, 8), F("length", T_INTEGER, 8, 8),
                                        F("value", T_INTEGER, 16, 16)};

static const struct nr_xdesc ipopts[] = {D("lsrr", IO, 131, io_route), D("rr", IO, 7, io_route),
                                         D("ssrr", IO, 137, io_route), D("ra", IO, 148, io_ra)};

/* ---- IPv6 extension headers ---- */

static const struct nr_field x_opts[] = {F("nexthdr", T_INET_PROTO, 0, 8),
                                         F("hdrlength", T_INTEGER, 8, 8)};
static const struct nr_field x_rt[] = {F("nexthdr", T_INET_PROTO, 0, 8),
                                       F("hdrlength", T_INTEGER, 8, 8),
                                       F("type", T_INTEGER, 16, 8), F("seg-left", T_INTEGER, 24, 8)};
static const struct nr_field x_rt0[] = {F("reserved", T_INTEGER, 32, 32),
                                        F("addr[1]", T_IP6ADDR, 64, 128),
                                        F("addr[2]", T_IP6ADDR, 192, 128)};
static const struct nr_field x_srh[] = {F("last-entry", T_INTEGER, 32, 8),
                                        F("flags", T_INTEGER, 40, 8), F("tag", T_INTEGER, 48, 16),
                                        F("sid[1]", T_IP6ADDR, 64, 128),
                                        F("sid[2]", T_IP6ADDR, 192, 128)};
static const struct nr_field x_frag[] = {
  F("nexthdr", T_INET_PROTO, 0, 8), F("reserved", T_INTEGER, 8, 8),
  F("frag-off", T_INTEGER, 16, 13), F("reserved2", T_INTEGER, 29, 2),
  F("more-fragments", T_INTEGER, 31, 1), F("id", T_INTEGER, 32, 32)};
static const struct nr_field x_mh[] = {
  F("nexthdr", T_INET_PROTO, 0, 8), F("hdrlength", T_INTEGER, 8, 8), F("type", T_MH_TYPE, 16, 8),
  F("reserved", T_INTEGER, 24, 8), F("checksum", T_INTEGER, 32, 16)};

/* rt, srh (rt4), rt0 in the order nft names a routing header load (the first that has a
 * field there: "rt0 addr[1]" is listed as "srh sid[1]"); rt2 has no fields nft can load */
static const struct nr_xdesc ip6hdrs[] = {
  D("hbh", XO, 0, x_opts), D("rt", XO, 43, x_rt), D("srh", XO, 43, x_srh),
  D("rt0", XO, 43, x_rt0), D("frag", XO, 44, x_frag), D("dst", XO, 60, x_opts),
  D("mh", XO, 135, x_mh)};

/* ---- sctp chunks ---- */

#define SC_COMMON F("type", T_INTEGER, 0, 8), F("flags", T_INTEGER, 8, 8), \
                  F("length", T_INTEGER, 16, 16)
static const struct nr_field sc_common[] = {SC_COMMON};
static const struct nr_field sc_data[] = {SC_COMMON, F("tsn", T_INTEGER, 32, 32),
                                          F("stream", T_INTEGER, 64, 16),
                                          F("ssn", T_INTEGER, 80, 16),
                                          F("ppid", T_INTEGER, 96, 32)};
static const struct nr_field sc_init[] = {
  SC_COMMON, F("init-tag", T_INTEGER, 32, 32), F("a-rwnd", T_INTEGER, 64, 32),
  F("num-outbound-streams", T_INTEGER, 96, 16), F("num-inbound-streams", T_INTEGER, 112, 16),
  F("initial-tsn", T_INTEGER, 128, 32)};
static const struct nr_field sc_sack[] = {
  SC_COMMON, F("cum-tsn-ack", T_INTEGER, 32, 32), F("a-rwnd", T_INTEGER, 64, 32),
  F("num-gap-ack-blocks", T_INTEGER, 96, 16), F("num-dup-tsns", T_INTEGER, 112, 16)};
static const struct nr_field sc_shutdown[] = {SC_COMMON, F("cum-tsn-ack", T_INTEGER, 32, 32)};
static const struct nr_field sc_tsn[] = {SC_COMMON, F("lowest-tsn", T_INTEGER, 32, 32)};
static const struct nr_field sc_seqno[] = {SC_COMMON, F("seqno", T_INTEGER, 32, 32)};
static const struct nr_field sc_fwd[] = {SC_COMMON, F("new-cum-tsn", T_INTEGER, 32, 32)};

static const struct nr_xdesc chunks[] = {
  D("data", SO, 0, sc_data), D("init", SO, 1, sc_init), D("init-ack", SO, 2, sc_init),
  D("sack", SO, 3, sc_sack), D("heartbeat", SO, 4, sc_common),
  D("heartbeat-ack", SO, 5, sc_common), D("abort", SO, 6, sc_common),
  D("shutdown", SO, 7, sc_shutdown), D("shutdown-ack", SO, 8, sc_common),
  D("error", SO, 9, sc_common), D("cookie-echo", SO, 10, sc_common),
  D("cookie-ack", SO, 11, sc_common), D("ecne", SO, 12, sc_tsn), D("cwr", SO, 13, sc_tsn),
  D("shutdown-complete", SO, 14, sc_common), D("asconf-ack", SO, 128, sc_seqno),
  D("forward-tsn", SO, 192, sc_fwd), D("asconf", SO, 193, sc_seqno)};

/* ---- lookups ---- */

static const struct nr_xdesc *table(int op, int *n) {
  switch (op) {
  case TO: *n = N(tcpopts); return tcpopts;
  case IO: *n = N(ipopts); return ipopts;
  case XO: *n = N(ip6hdrs); return ip6hdrs;
  case SO: *n = N(chunks); return chunks;
  default: *n = 0; return NULL;
  }
}

const struct nr_xdesc *nr_xdesc_byname(int op, const char *name, size_t len) {
  int n;
  const struct nr_xdesc *t = table(op, &n);
  for (int i = 0; i < n; i++)
    if (strlen(t[i].name) == len && memcmp(t[i].name, name, len) == 0) return &t[i];
  return NULL;
}

const struct nr_xdesc *nr_xdesc_bytype(int op, unsigned type) {
  int n;
  const struct nr_xdesc *t = table(op, &n);
  for (int i = 0; i < n; i++)
    if (t[i].type == type) return &t[i];
  return NULL;
}

const struct nr_field *nr_xfield_byname(const struct nr_xdesc *d, const char *name, size_t len) {
  for (int i = 0; d && i < d->nf; i++)
    if (strlen(d->f[i].name) == len && memcmp(d->f[i].name, name, len) == 0) return &d->f[i];
  return NULL;
}

const struct nr_field *nr_xfield_at(const struct nr_xdesc *d, unsigned off, unsigned bits) {
  for (int i = 0; d && i < d->nf; i++)
    if (d->f[i].off == off && d->f[i].bits == bits) return &d->f[i];
  return NULL;
}

/* The header and field a load of `bits` at `off` of header `type` is (nft's exthdr_init_raw):
 * the descriptor (NULL: a kind nft has no name for) and the field (NULL: none there). */
void nr_exthdr_name(struct nr_expr *e, unsigned type, unsigned off, unsigned bits) {
  const struct nr_xdesc *d = nr_xdesc_bytype(e->u.ex.op, type);
  const struct nr_field *f = nr_xfield_at(d, off, bits);
  if (f == NULL && e->u.ex.op == XO && type == 43) {
    /* a routing header load no rt field covers: a field of a routing header type */
    for (int i = 0; i < N(ip6hdrs) && f == NULL; i++)
      if (ip6hdrs[i].type == 43 && (f = nr_xfield_at(&ip6hdrs[i], off, bits)) != NULL)
        d = &ip6hdrs[i];
  }
  e->u.ex.d = d;
  e->u.ex.f = f;
  e->u.ex.type = (uint8_t)type;
  e->u.ex.off = (uint16_t)off;
  e->bits = (uint16_t)bits;
  e->order = BO_BE;
  if (e->u.ex.flags & NFT_EXTHDR_F_PRESENT) e->type = T_BOOLEAN;
  else e->type = f ? f->type : T_INTEGER;
}

/* nft's printer for these expressions */
void nr_exthdr_print(const struct nr_expr *e, struct nr_sbuf *b) {
  const struct nr_xdesc *d = e->u.ex.d;
  const struct nr_field *f = e->u.ex.f;
  int present = (e->u.ex.flags & NFT_EXTHDR_F_PRESENT) != 0;
  switch (e->u.ex.op) {
  case TO:
    if (d == NULL) {
      if (e->u.ex.off == 0 && present) nr_sb_add(b, "tcp option %u", e->u.ex.type);
      else nr_sb_add(b, "tcp option @%u,%u,%u", e->u.ex.type, e->u.ex.off, e->bits);
      return;
    }
    nr_sb_add(b, "tcp option %s", d->name);
    if (present) return;
    /* sack blocks after the first: "sack1" and so on (64 bits each) */
    if (e->u.ex.off / 64) nr_sb_add(b, "%u", e->u.ex.off / 64u);
    nr_sb_add(b, " %s", f ? f->name : "unknown");
    return;
  case IO:
    nr_sb_add(b, "ip option %s", d ? d->name : "unknown");
    if (!present) nr_sb_add(b, " %s", f ? f->name : "unknown");
    return;
  case SO:
    nr_sb_add(b, "sctp chunk %s", d ? d->name : "unknown");
    if (!present) nr_sb_add(b, " %s", f ? f->name : "unknown");
    return;
  default:
    if (present) nr_sb_add(b, "exthdr %s", d ? d->name : "unknown-exthdr");
    else nr_sb_add(b, "%s %s", d ? d->name : "unknown-exthdr", f ? f->name : "unknown");
    return;
  }
}
