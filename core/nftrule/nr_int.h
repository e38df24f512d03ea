/* The rule language's insides, shared by the files of core/nftrule/ (not installed).
 *
 * The compiler works the way nft's own front end does, in our own code: the text is parsed
 * into expressions and statements (parse*.c), evaluated (eval*.c: types, implicit protocol
 * dependencies, byte order), and emitted as libnftnl expressions (emit*.c). The decoder does
 * the reverse: kernel expressions back into the same expressions (decode*.c), dependencies
 * nft adds itself removed, then printed (print.c). Both directions read the same tables:
 * datatypes (type*.c), header fields per protocol (proto.c), meta/ct and other keys
 * (keys.c), extension headers (exthdr.c); a field known to one direction is known to both.
 */
#ifndef CNET_NR_INT_H
#define CNET_NR_INT_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include "cnet/nftrule.h"

/* ---------------------------------------------------------------- datatypes ---- */

/* Byte order of a value in its register. */
enum { BO_NONE = 0, BO_BE = 1, BO_HOST = 2 };

/* What a type is at heart (nft's base types). */
enum nr_base { NB_INT, NB_BITMASK, NB_STRING, NB_LLADDR, NB_VERDICT, NB_INVALID };

/* nft's datatype numbers: a set's key type is one of these (or a concatenation of them,
 * 6 bits each), so they are part of the kernel-visible format. */
enum nr_tid {
  T_INVALID = 0, T_VERDICT = 1, T_NFPROTO = 2, T_BITMASK = 3, T_INTEGER = 4, T_STRING = 5,
  T_LLADDR = 6, T_IPADDR = 7, T_IP6ADDR = 8, T_ETHERADDR = 9, T_ETHERTYPE = 10, T_ARPOP = 11,
  T_INET_PROTO = 12, T_INET_SERVICE = 13, T_ICMP_TYPE = 14, T_TCP_FLAG = 15,
  T_DCCP_PKTTYPE = 16, T_MH_TYPE = 17, T_TIME = 18, T_MARK = 19, T_IFINDEX = 20,
  T_ARPHRD = 21, T_REALM = 22, T_CLASSID = 23, T_UID = 24, T_GID = 25, T_CT_STATE = 26,
  T_CT_DIR = 27, T_CT_STATUS = 28, T_ICMP6_TYPE = 29, T_CT_LABEL = 30, T_PKTTYPE = 31,
  T_ICMP_CODE = 32, T_ICMPV6_CODE = 33, T_ICMPX_CODE = 34, T_DEVGROUP = 35, T_DSCP = 36,
  T_ECN = 37, T_FIB_ADDR = 38, T_BOOLEAN = 39, T_CT_EVENT = 40, T_IFNAME = 41,
  T_IGMP_TYPE = 42, T_TIME_DATE = 43, T_TIME_HOUR = 44, T_TIME_DAY = 45, T_CGROUPV2 = 46,
  T__MAX,
  T_XINTEGER = T__MAX,  /* decode only: a raw load's integer, which nft prints in hex */
  T__ALL
};

struct nr_sym { const char *name; uint64_t val; };

/* How values of a type are read and printed. */
enum nr_fmt {
  FM_DEC, FM_HEX, FM_MARK, FM_IPV4, FM_IPV6, FM_LLADDR, FM_PROTO, FM_STRING, FM_IFNAME,
  FM_IFINDEX, FM_TIME, FM_CLASSID, FM_UID, FM_GID, FM_DATE, FM_HOUR, FM_DAY, FM_NFPROTO,
  FM_VERDICT, FM_BOOLEAN, FM_FILE,  /* realm/devgroup: names from iproute2 files */
  FM_CGROUP                        /* a cgroupv2 path's inode (cgroup.c) */
};

struct nr_type {
  uint8_t id;                  /* enum nr_tid */
  uint8_t base;                /* enum nr_base */
  uint8_t order;               /* BO_* of its values */
  uint8_t fmt;                 /* enum nr_fmt */
  uint16_t bits;               /* natural size; 0: variable (integer, string) */
  const char *name;            /* "ipv4_addr" */
  const struct nr_sym *syms;   /* symbolic constants, or NULL */
  uint8_t sym_hex;             /* numbers without a symbol print in hex (ether_type...) */
};

const struct nr_type *nr_type_get(unsigned id);      /* NULL if unknown */
/* cgroup.c: the id of a cgroupv2 path below /sys/fs/cgroup (0, or -1 and why); the path
 * nft would print for an id (0, or -1: none, print the number) */
int nr_cgroup_id(const char *path, uint64_t *id, char *why, size_t wsize);
int nr_cgroup_path(uint64_t id, char *out, size_t size);
const struct nr_type *nr_type_byname(const char *name);

/* ------------------------------------------------------------ header fields ---- */

enum nr_pbase { PB_LL = 1, PB_NH = 2, PB_TH = 3, PB_IH = 4 };  /* nftnl base + 1 */

struct nr_proto;
struct nr_field {
  const char *name;            /* "saddr"; two words for arp's "saddr ip" */
  uint8_t type;                /* enum nr_tid */
  uint8_t order;
  uint16_t off, bits;          /* from the header's start, in bits */
  uint8_t icmp_dep;            /* icmp fields that only exist for some types (see proto.c) */
};

struct nr_link { uint32_t num; const struct nr_proto *p; };

struct nr_proto {
  const char *name;            /* "tcp" */
  uint8_t id;                  /* nft's protocol description number (set user data) */
  uint8_t base;                /* enum nr_pbase */
  int8_t key;                  /* index of the field naming the next protocol, -1: none */
  uint32_t key_meta;           /* ...or the meta key that does (NFT_META_*), when key < 0 */
  uint8_t key_type;            /* type of that meta key's values */
  uint16_t key_bits;
  uint16_t hdr_bits;           /* header length, for stacked headers (vlan after ether) */
  int8_t csum;                 /* index of the checksum field (payload writes), -1 */
  uint8_t csum_type;           /* NFT_PAYLOAD_CSUM_* */
  const struct nr_field *f;
  int nf;
  const struct nr_link *up;    /* protocols this one can carry */
  int nup;
  uint32_t pseudo;             /* fields (bit per index) in the l4 checksum's pseudo header */
};

extern const struct nr_proto nr_proto_eth, nr_proto_vlan, nr_proto_arp, nr_proto_ip,
    nr_proto_ip6, nr_proto_icmp, nr_proto_icmp6, nr_proto_igmp, nr_proto_tcp, nr_proto_udp,
    nr_proto_udplite, nr_proto_sctp, nr_proto_dccp, nr_proto_ah, nr_proto_esp, nr_proto_comp,
    nr_proto_th, nr_proto_inet, nr_proto_netdev, nr_proto_inet_service;

const struct nr_proto *nr_proto_byname(const char *name, size_t n);
/* The protocol `num` carried by p (NULL if p does not carry it). */
const struct nr_proto *nr_proto_up(const struct nr_proto *p, uint32_t num);
/* The number p gives upper protocol q (-1 if none). */
int64_t nr_proto_num(const struct nr_proto *p, const struct nr_proto *q);
const struct nr_field *nr_field_byname(const struct nr_proto *p, const char *name, size_t n);
/* What a write of header field k (a payload expression) asks the kernel to fix up, as nft
 * asks it: the header's own checksum (NFT_PAYLOAD_CSUM_* and its byte offset; 0, 0: none)
 * and NFT_PAYLOAD_L4CSUM_PSEUDOHDR when the field is in the transport checksum's pseudo
 * header. A raw load names no header: nothing. */
struct nr_expr;
void nr_payload_csum(const struct nr_expr *k, uint32_t *type, uint32_t *off, uint32_t *flags);
/* nft 1.0.6 lists a write of part of an icmp, icmpv6 or igmp header's first word (type or
 * code: written as the 16 bits under the checksum) as a write of "th sport": another rule. */
int nr_proto_write_misread(const struct nr_proto *p);
/* The protocol a family's hook starts with, and at which base. */
const struct nr_proto *nr_family_proto(int family, int *base);

/* ---------------------------------------- extension headers and options ---- */

/* A tcp option, ip option, IPv6 extension header or sctp chunk (exthdr.c): the kernel's
 * NFT_EXTHDR_OP_*, the option kind (next header value, chunk type) and its fields, offsets
 * in bits from the option's start. */
struct nr_expr;
struct nr_xdesc {
  const char *name;            /* "maxseg", "lsrr", "frag", "data" */
  uint8_t op, type;
  const struct nr_field *f;
  int nf;
};
const struct nr_xdesc *nr_xdesc_byname(int op, const char *name, size_t n);
const struct nr_xdesc *nr_xdesc_bytype(int op, unsigned type);   /* the first of that type */
const struct nr_field *nr_xfield_byname(const struct nr_xdesc *d, const char *name, size_t n);
const struct nr_field *nr_xfield_at(const struct nr_xdesc *d, unsigned off, unsigned bits);
/* decode: names an X_EXTHDR load (u.ex.op and flags set) of `bits` at `off` in header
 * `type`, and types it */
void nr_exthdr_name(struct nr_expr *e, unsigned type, unsigned off, unsigned bits);
struct nr_sbuf;
void nr_exthdr_print(const struct nr_expr *e, struct nr_sbuf *b);

/* ------------------------------------------------------------------ keys ---- */

/* meta, ct, rt, socket keys: one table each, read by parser and decoder. */
struct nr_key {
  const char *name;
  uint32_t key;                /* NFT_META_* ... */
  uint8_t type, order;
  uint16_t bits;
  uint8_t flags;               /* K_* */
};
enum { K_UNQUAL = 1,           /* written without "meta" (iifname) */
       K_BARE = 2,             /* may also be written without "meta" (mark, skuid...) */
       K_DIR = 4,              /* ct: takes original/reply */
       K_NODIR = 8,            /* ct: never takes a direction */
       K_NEEDDIR = 16,         /* ct: needs a direction */
       K_SET = 32,             /* can be set (meta/ct set) */
       K_FAMADDR = 64 };       /* ct saddr/daddr: type from the family */

extern const struct nr_key nr_meta_keys[], nr_ct_keys[], nr_rt_keys[], nr_socket_keys[];
const struct nr_key *nr_key_byname(const struct nr_key *tab, const char *name, size_t n);
const struct nr_key *nr_key_bynum(const struct nr_key *tab, uint32_t key);

/* ----------------------------------------------------------- the lexer ---- */

enum tok_kind { TK_END, TK_WORD, TK_STRING, TK_LBRACE, TK_RBRACE, TK_COMMA, TK_LPAREN,
                TK_RPAREN, TK_PIPE, TK_AMP, TK_CARET, TK_BAD };
struct tok {
  enum tok_kind kind;
  unsigned pos, len;           /* byte offset into the text and length (strings: with quotes) */
};
/* Splits text into tokens (last one TK_END); returns the count or -ENOMEM. *out is
 * malloc'ed. An unterminated string is one TK_BAD token. */
int nr_lex(const char *text, struct tok **out);

/* ----------------------------------------------------- values and expressions ---- */

enum { NR_VMAX = 64 };         /* bytes of the largest value: 4 x ipv6 in a concatenation */

enum nr_ek {
  X_VALUE,      /* constant: v (numeric, most significant byte first; strings as is) */
  X_SYMBOL,     /* a word not read yet: its meaning depends on the other side */
  X_RANGE,      /* l - r */
  X_PREFIX,     /* l / plen */
  X_SET,        /* { elems } anonymous */
  X_ELEM,       /* set element: l, with timeout/expires/comment/counter */
  X_MAPPING,    /* l : r */
  X_SETREF,     /* @name */
  X_CONCAT,     /* l . r . ... (list) */
  X_BINOP,      /* l OP r */
  X_LIST,       /* a,b,c of bitmask values */
  X_MAP,        /* l map|vmap r */
  X_VERDICT,
  X_PAYLOAD, X_EXTHDR, X_META, X_CT, X_RT, X_SOCKET, X_OSF, X_FIB, X_NUMGEN, X_HASH,
  X_XFRM,
  X_UNARY       /* byte order conversion of l */
};

enum nr_op { OP_NONE, OP_IMPLICIT, OP_EQ, OP_NEQ, OP_LT, OP_GT, OP_LTE, OP_GTE, OP_NEG,
             OP_AND, OP_OR, OP_XOR, OP_LSHIFT, OP_RSHIFT, OP_HTON, OP_NTOH };

struct nr_set;
struct nftnl_set;
struct nr_expr {
  uint8_t kind;                /* enum nr_ek */
  uint8_t op;                  /* binop, unary; map: 1 for vmap */
  uint8_t order;               /* BO_* */
  uint16_t flags;              /* XF_* */
  uint16_t bits;               /* length in bits */
  uint8_t type;                /* enum nr_tid (0: not known yet) */
  uint8_t shift;               /* a header bit field: values go this many bits left */
  uint8_t ctype;               /* concatenations: type of the whole key (see nr_concat_type) */
  int tok;                     /* token it came from, for errors (-1 none) */
  struct nr_expr *l, *r;       /* operands, range ends, mapping key/data, map key/set */
  struct nr_expr **v;          /* set elements, concatenation, list */
  int n;
  uint8_t *val;                /* X_VALUE: NR_VMAX bytes */
  const char *str;             /* X_SYMBOL text, X_SETREF name, X_VERDICT chain */
  union {
    struct { const struct nr_proto *p; const struct nr_field *f; uint8_t base;
             uint16_t off; uint8_t is_raw; } pl;               /* off in bits */
    struct { uint8_t op, type; uint16_t off; uint32_t flags; const struct nr_xdesc *d;
             const struct nr_field *f; } ex;    /* exthdr: NFT_EXTHDR_OP_*, off in bits */
    struct { const struct nr_key *k; int8_t dir; uint32_t level; } key;  /* meta/ct/rt/socket */
    struct { uint32_t result, flags; } fib;
    struct { uint32_t type, mod, offset, seed; uint8_t seed_set; struct nr_expr *e; } gen;
    struct { uint32_t key, spnum; uint8_t dir; } xfrm;
    struct { uint8_t ttl; uint32_t flags; } osf;
    struct { int verdict; } vd;
    struct { uint64_t timeout, expires; const char *comment; int counter;
             struct nr_stmt *stmts; } el;                      /* X_ELEM */
    struct { int plen; } pre;
    struct { struct nr_set *set; } ref;                        /* X_SETREF, X_SET */
  } u;
};
enum { XF_PROTOCOL = 1,        /* a field naming the next protocol (meta l4proto, ip protocol) */
       XF_INTERVAL = 2,        /* a range, prefix or interval set */
       XF_BOOLEAN = 4,         /* exists/missing check */
       XF_CONST = 8,
       XF_PAREN = 16,          /* written in parentheses */
       XF_WIRE = 32,           /* decode: val holds the register's bytes, not yet typed */
       XF_NFTNL = 64,          /* decode: u.ref.set is a libnftnl set */
       XF_LIST = 128,          /* decode: flags printed as a list (a,b) */
       XF_FLAGCMP = 256,       /* decode: a relation printed "x value / mask" */
       XF_WHOLE = 512 };       /* decode: a header field's value, flags left as one number */

/* A set a rule refers to: anonymous (made with the rule) or named (looked up). */
struct nr_set {
  const char *name;            /* NULL: anonymous */
  uint32_t id;                 /* set id in the batch (0: an existing named set) */
  uint32_t flags;              /* NFT_SET_* */
  uint32_t key_type, key_bits, data_type, data_bits, obj_type;
  uint8_t key_order, data_order;
  uint8_t nconcat, concat_bits[16];
  struct nr_expr *init;        /* X_SET of the elements (anonymous sets) */
  int is_map, is_vmap, is_objmap;
  int is_meter;                /* a meter's set: made with the rule, empty, its size given */
  uint32_t size;
};

/* ------------------------------------------------------------- statements ---- */

enum nr_sk {
  S_MATCH,     /* relational: e->l OP e->r (e is X_BINOP with op a relational op) */
  S_VERDICT, S_COUNTER, S_LOG, S_LIMIT, S_QUOTA, S_REJECT, S_NAT, S_META_SET, S_CT_SET,
  S_PAYLOAD_SET, S_EXTHDR_SET, S_OPTSTRIP, S_DYNSET, S_DUP, S_FWD, S_QUEUE, S_NOTRACK,
  S_SYNPROXY, S_TPROXY, S_FLOW, S_OBJREF, S_CONNLIMIT, S_LAST, S_VMAP, S_SECMARK
};

struct nr_stmt {
  uint8_t kind;                /* enum nr_sk */
  uint8_t dep;                 /* a dependency cnet added (compile), or nft would add (decode) */
  uint8_t hidden;              /* decode: not printed */
  int tok;
  struct nr_expr *e;           /* match: the relation; set statements: the value */
  struct nr_expr *key;         /* what is set (meta/ct/payload/exthdr), dynset key, nat address */
  struct nr_expr *e2;          /* nat port, dup device, tproxy port */
  struct nr_stmt *next, *sub;  /* sub: stateful statements of a dynset or element */
  const char *str_set;         /* decode: the set a dynset adds to */
  const struct nftnl_set *nset;
  union {
    struct { uint64_t packets, bytes; } ctr;
    struct { const char *prefix; uint32_t level, flags, snaplen; uint16_t group, qthresh;
             uint32_t set; } log;                              /* set: LF_* present */
    struct { uint64_t rate, unit; uint32_t burst, type, flags; } lim;
    struct { uint64_t bytes, used; uint32_t flags; } quota;
    struct { uint32_t type; int code; uint8_t family; } rej;
    struct { uint32_t type, family, flags, tflags; } nat;  /* type: NFT_NAT_*, NAT_MASQ, NAT_REDIR;
                                        * tflags: 1 address . port map, 2 (decode) family shown */
    struct { uint32_t op; struct nr_set *set; uint64_t timeout; uint32_t size;
             uint8_t meter; } dyn;   /* meter: "meter NAME size N { ... }" (its own set) */
    struct { uint16_t num, total, flags; } q;
    struct { uint16_t mss; uint8_t wscale; uint32_t flags; } syn;
    struct { uint32_t family; } tp;
    struct { const char *name; } flow;
    struct { uint32_t type; const char *name; struct nr_expr *map; } obj;
    struct { uint32_t count, flags; } cl;
    struct { uint64_t used; int set; } last;
    struct { uint32_t family; } fwd;
    struct { uint8_t to_dev; } dup;   /* decode: "dup to DEVICE" (netdev) */
    struct { uint32_t csum_type, csum_off, csum_flags; } pw;  /* decode: a payload write's */
  } u;
};
enum { LF_PREFIX = 1, LF_LEVEL = 2, LF_GROUP = 4, LF_SNAPLEN = 8, LF_QTHRESH = 16,
       LF_FLAGS = 32 };
enum { NAT_MASQ = 100, NAT_REDIR = 101 };

/* ---------------------------------------------------------- the compiler ---- */

/* Bump allocator: every node of one compile or decode comes from here and goes at once. */
struct nr_arena { struct nr_chunk *head; };
void *nr_alloc(struct nr_arena *a, size_t n);          /* zeroed; NULL on ENOMEM */
void nr_arena_free(struct nr_arena *a);
char *nr_strdup(struct nr_arena *a, const char *s, size_t n);

struct nftnl_rule;
struct nftnl_expr;

/* The protocol known at each base (what earlier matches, or the family, established). */
struct nr_pctx {
  const struct nr_proto *p[5];  /* by enum nr_pbase; &nr_proto_unknown: matched, not known */
  const struct nr_proto *stacked[4];  /* link layer headers before the current one (vlan) */
  int nstacked;
  int icmp_type;                /* an icmp type matched (for fields only some types have) */
  const struct nr_proto *th[16];  /* every transport protocol matched so far (nft: more than
                                   * one makes a transport header field ambiguous) */
  int nth;
};
extern const struct nr_proto nr_proto_unknown;
int nr_field_is_protocol(const struct nr_proto *p, const struct nr_field *f);
/* What "l == num" tells about the packet's protocols (l a meta key or header field naming
 * the next protocol). */
void nr_pctx_learn(struct nr_pctx *x, int family, const struct nr_expr *l, uint64_t num);

struct nr_cc {
  const char *text;
  struct tok *t;
  int nt, i;
  const struct cnet_nftrule_env *env;
  int family;
  struct nftnl_rule *r;
  struct cnet_nftrule_out *out;
  struct cnet_nftrule_err *err;
  struct nr_arena arena;
  struct nr_stmt *first, *last;  /* the rule's statements, in order */
  struct nr_pctx pctx;
  uint32_t next_id;
  int reg_low;                   /* emit: next free 32-bit register slot */
  unsigned nexpr;                /* emit: expressions added so far */
  int emit_tok;                  /* emit: token of the statement being emitted */
  int oom;
  struct nr_stmt *cur, *cur_prev;  /* eval: the statement evaluated, and the one before it
                                    * (dependencies go in between) */
  const char *comment;
};

/* Errors: record message and column of token `tok` (-1: none) and return rc. */
int nr_fail(struct nr_cc *c, int tok, int rc, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* "valid nft, not supported by cnet": EOPNOTSUPP with the column. */
int nr_unsupported(struct nr_cc *c, int tok, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Whether the n bytes at s spell `word`. Most answers are no, settled by the first letter
 * without measuring the word: the parser asks this of nearly every word it knows, about 90
 * times a rule (compiling 10000 rules: 130 -> 96 million instructions, inline). */
static inline int nr_word_is(const char *s, size_t n, const char *word) {
  return n > 0 && s[0] == word[0] && strlen(word) == n && memcmp(s, word, n) == 0;
}
/* Whether token tok is the word `word`. */
static inline int nr_is(const struct nr_cc *c, int tok, const char *word) {
  if (tok < 0 || tok >= c->nt) return 0;
  const struct tok *k = &c->t[tok];
  return k->kind == TK_WORD && nr_word_is(c->text + k->pos, k->len, word);
}
int nr_tokstr(const struct nr_cc *c, int tok, char *buf, size_t size);
const char *nr_tokq(const struct nr_cc *c, int tok, char *buf, size_t size);
const char *nr_tokdup(struct nr_cc *c, int tok);          /* arena copy, strings unquoted */

struct nr_expr *nr_expr_new(struct nr_cc *c, int kind, int tok);
struct nr_stmt *nr_stmt_new(struct nr_cc *c, int kind, int tok);
void nr_stmt_add(struct nr_cc *c, struct nr_stmt *s);
struct nr_expr *nr_value_new(struct nr_cc *c, int type, int order, unsigned bits, int tok);
/* A load of header field f of protocol p. */
struct nr_expr *nr_payload_new(struct nr_cc *c, const struct nr_proto *p,
                               const struct nr_field *f, int tok);

/* parse.c, parse_stmt.c */
int nr_parse_rule(struct nr_cc *c);
int nr_parse_expr(struct nr_cc *c, struct nr_expr **out);       /* lhs: concat of primaries */
int nr_parse_rhs(struct nr_cc *c, struct nr_expr **out, int allow_list);
int nr_parse_primary(struct nr_cc *c, struct nr_expr **out, int required);
int nr_parse_value_expr(struct nr_cc *c, struct nr_expr **out); /* a statement's argument */
int nr_parse_stmt(struct nr_cc *c, int *handled);
int nr_parse_set_body(struct nr_cc *c, struct nr_expr **out, int is_map);
/* counter, limit or quota at c->i, for a set element or a dynset: 1 and the statement (not
 * in the rule) in *out, 0 when it is none of them, or -errno */
int nr_parse_stateful(struct nr_cc *c, struct nr_stmt **out);
/* parse_stmt.c for parse_fwd.c: is the token an expression's start; EXPR [map SET]; a NAT
 * destination word "ADDR:PORT", "[ADDR6]:PORT", ":PORT" split (addr, port NULL if absent) */
int nr_starts_expr(struct nr_cc *c, int tok);
int nr_parse_stmt_arg(struct nr_cc *c, struct nr_expr **out);
int nr_parse_nat_word(struct nr_cc *c, int tok, int v6, struct nr_expr **addr,
                      struct nr_expr **port);
/* parse_fwd.c: dup, fwd, tproxy, queue, flow (*handled = 0 when it is none of them) */
int nr_parse_fwd_stmt(struct nr_cc *c, int *handled);

/* eval.c, eval_stmt.c: types, dependencies, byte order; the rule's final shape */
int nr_eval_rule(struct nr_cc *c);
int nr_eval_match(struct nr_cc *c, struct nr_stmt *s);
int nr_eval_stmt(struct nr_cc *c, struct nr_stmt *s);
/* Reads a constant (symbols, ranges, prefixes, sets, lists) as values like `like`: its
 * type, length and byte order. */
int nr_eval_const(struct nr_cc *c, struct nr_expr **ep, const struct nr_expr *like);
/* A header field's load: its type (a raw @th,0,16 is a port) and the matches it depends on
 * (nft's payload dependency), without reading a bit field as a masked load. */
int nr_eval_payload(struct nr_cc *c, struct nr_expr *e);
/* Evaluates an expression read from the packet (adding the matches it depends on). */
int nr_eval_lhs(struct nr_cc *c, struct nr_expr **ep);
/* A dependency match "lhs == value" inserted before the statement being evaluated. */
int nr_add_dep(struct nr_cc *c, struct nr_expr *lhs, uint64_t value, int tok);
struct nr_expr *nr_meta_new(struct nr_cc *c, uint32_t key, int tok);
/* The match in header `desc` naming protocol `upper` (meta l4proto tcp, ether type ip6),
 * added as a dependency. */
int nr_add_proto_dep(struct nr_cc *c, const struct nr_proto *desc,
                     const struct nr_proto *upper, int tok);
/* A field that is not whole bytes at bit `offset`: the bytes loaded, masked (nft's
 * expr_evaluate_bits); *ep becomes the mask expression. */
int nr_eval_bits(struct nr_cc *c, struct nr_expr **ep, unsigned offset);
/* parse_exthdr.c, eval_exthdr.c: tcp/ip options, IPv6 extension headers, sctp chunks.
 * nr_parse_exthdr returns 1 when the text at c->i is none of them. */
int nr_parse_exthdr(struct nr_cc *c, struct nr_expr **out);
int nr_parse_optstrip(struct nr_cc *c, int tok);
int nr_eval_exthdr(struct nr_cc *c, struct nr_expr **ep);
int nr_eval_exthdr_write(struct nr_cc *c, struct nr_stmt *s);
/* eval_stmt.c: a statement's value (constant, expression or map lookup) read as `like` */
int nr_eval_arg(struct nr_cc *c, struct nr_expr **ep, const struct nr_expr *like);
/* eval_fwd.c: dup, fwd, tproxy, queue, flow */
int nr_eval_fwd_stmt(struct nr_cc *c, struct nr_stmt *s);
/* nft compares ranges and intervals in big endian: a host order value gets a conversion. */
int nr_to_big_endian(struct nr_cc *c, struct nr_expr **ep);
void nr_pctx_update(struct nr_cc *c, const struct nr_expr *rel);
/* Parses one symbol as a value of type t, bits long, into v (numeric, big endian).
 * Returns 0, or -1 with a reason in why. */
int nr_type_parse(struct nr_cc *c, const struct nr_type *t, const char *s, unsigned bits,
                  uint8_t *v, char *why, size_t wsize);
/* Prints a numeric value of type t. */
void nr_type_print(const struct nr_type *t, const uint8_t *v, unsigned bits, char *buf,
                   size_t size, const struct cnet_nftrule_denv *env, int numeric);
/* "1d2h3m4s5ms", as nft prints times */
void nr_time_print(uint64_t ms, char *buf, size_t size);

/* set.c: anonymous sets from constant sets, named set lookups */
int nr_set_anon(struct nr_cc *c, struct nr_expr *setexpr, const struct nr_expr *key,
                const struct nr_expr *data, int vmap, int objmap, struct nr_set **out);
int nr_set_named(struct nr_cc *c, int tok, const char *name, struct nr_set **out);
/* Whether a named set's keys are of key's type and length (concatenations part by part). */
int nr_set_takes_key(const struct nr_set *set, const struct nr_expr *key);
/* The set a meter statement makes (s->str_set, size, timeout), keyed like s->key. */
int nr_set_meter(struct nr_cc *c, struct nr_stmt *s, struct nr_set **out);

/* emit.c */
int nr_emit_rule(struct nr_cc *c);

/* numbers */
int nr_number(const char *s, unsigned long long max, unsigned long long *out);
void nr_be_put(uint8_t *v, unsigned bytes, uint64_t x);      /* x into the last bytes */
uint64_t nr_be_get(const uint8_t *v, unsigned bytes);

/* ---- small string builder ----
 * Into a fixed buffer (p, size: what does not fit is cut, overflow set), or, with heap set,
 * into a malloc'd one that grows (p may start NULL; overflow only when out of memory; the
 * caller frees p). */
struct nr_sbuf { char *p; size_t size, len; int overflow, heap; };
void nr_sb_add(struct nr_sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
