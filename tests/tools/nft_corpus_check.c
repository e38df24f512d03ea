/* The nft corpus check: every rule of tests/nft-corpus/ goes through cnet and through nft
 * (libnftables 1.0.6, the library the nft binary is a thin shell over) in every family the
 * line names, and nft is the judge:
 *
 *  - nft writes: nft adds the rule; nft lists it (the reference text); the kernel's
 *    expressions are dumped (the reference bytecode); cnet lists the same rule, which must
 *    be exactly nft's text or marked not decodable (a text that differs is a failure);
 *  - cnet writes: cnet compiles and commits the rule (cnet_nft_tx, the path the Lua API
 *    takes); nft lists it, which must equal the reference text, and the kernel's expressions
 *    must equal the reference bytecode (anonymous sets compared by content);
 *  - refusals: a rule nft refuses must be refused by cnet (EINVAL with a column is "right");
 *    a rule nft accepts and cnet refuses must say EOPNOTSUPP "not supported" with a column.
 *
 * Prints each failure, then per category and per family: accepted, listed identically,
 * bytecode identical, listed both ways, refused right. With --doc FILE it writes that table
 * as markdown; with --check FILE it also fails when a category refuses more valid rules, or
 * refuses more of them without "not supported", than FILE records (the ratchet).
 * Must run in a fresh network namespace (tests/nft-corpus-check does that). Exit 0: no
 * failure and no regression. */
#define _GNU_SOURCE
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sched.h>
#include <sys/wait.h>
#include <arpa/inet.h>
#include <net/if.h>
#include <libmnl/libmnl.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nf_tables.h>
#include <libnftnl/expr.h>
#include <libnftnl/rule.h>
#include <libnftnl/set.h>
#include <nftables/libnftables.h>

#include "cnet/netns.h"
#include "cnet/nft.h"

enum { NFAM = 5, MAXCAT = 64, BIG = 65536 };
static const char *const famnames[NFAM] = {"ip", "ip6", "inet", "bridge", "netdev"};
static const int famnums[NFAM] = {NFPROTO_IPV4, NFPROTO_IPV6, NFPROTO_INET, NFPROTO_BRIDGE,
                                  NFPROTO_NETDEV};

/* ---- counters ---- */

struct tally {
  unsigned pairs, valid, accepted, listed, bytecode;
  unsigned dec_exact, dec_marked, dec_wrong;
  unsigned invalid, refused, refused_right;
  unsigned valid_refused, valid_refused_right;
  unsigned failures;
  unsigned added_nft, added_cnet;  /* rules a pair left in its chains (not a statistic) */
};

static struct tally cats[MAXCAT], fams[NFAM], total;
static char catnames[MAXCAT][64];
static int ncats;
static int verbose, show_refusals;
static FILE *refusal_log;

static void add(struct tally *t, const struct tally *d) {
  unsigned *a = (unsigned *)t;
  const unsigned *b = (const unsigned *)d;
  for (size_t i = 0; i < sizeof *t / sizeof(unsigned); i++) a[i] += b[i];
}

/* ---- nft through libnftables ---- */

static struct nft_ctx *nft;

/* Each family's current table: "t1", "t2"... A rule goes into chains of its own (nft's and
 * cnet's), never deleted one by one: deleting rules makes the next commit wait for an RCU
 * grace period (about 10 ms each); a table is dropped whole after ROTATE pairs instead. */
enum { ROTATE = 25 };
static char tname[NFAM][16];
static int tgen[NFAM], tused[NFAM];
/* Per table: the test chains made (bit per chain kind) and the rules each holds: nft's
 * rules go into chain a_KIND, cnet's into b_KIND. */
enum { NKIND = 8 };
static unsigned kinds_made[NFAM], nrules[NFAM][NKIND][2];

/* Runs one nft command; returns 0 or -1 (the error text in *err, when err != NULL). */
static int nft_run(const char *cmd, const char **out, const char **err) {
  int rc = nft_run_cmd_from_buffer(nft, cmd);
  if (out) *out = nft_ctx_get_output_buffer(nft);
  const char *e = nft_ctx_get_error_buffer(nft);
  if (err) *err = e;
  return rc == 0 ? 0 : -1;
}

/* The last rule line of `list chain` (tab-stripped) into buf; returns how many rule lines
 * the chain has, or -1. */
static int nft_list_chain(int fi, const char *chain, char *buf, size_t size) {
  char cmd[256];
  const char *out;
  snprintf(cmd, sizeof cmd, "list chain %s %s %s", famnames[fi], tname[fi], chain);
  buf[0] = 0;
  if (nft_run(cmd, &out, NULL) < 0) return -1;
  int in = 0, count = 0;
  for (const char *p = out; *p;) {
    const char *nl = strchr(p, '\n');
    size_t n = nl ? (size_t)(nl - p) : strlen(p);
    const char *s = p;
    while (n > 0 && (*s == '\t' || *s == ' ')) { s++; n--; }
    p = nl ? nl + 1 : p + strlen(p);
    if (n >= 6 && strncmp(s, "chain ", 6) == 0) { in = 1; continue; }
    /* an empty line is a rule with nothing nft can show (e.g. "meta protocol ip" in an ip
     * table, which nft drops) */
    if (!in || (n >= 5 && strncmp(s, "type ", 5) == 0)) continue;
    if (n == 1 && *s == '}') { in = 0; continue; }
    if (n + 1 >= size) return -1;
    memcpy(buf, s, n);
    buf[n] = 0;
    count++;
  }
  return count;
}

/* ---- the kernel's view: rule expressions and anonymous sets, through libmnl ---- */

static struct mnl_socket *mnl;
static uint32_t mnl_seq = 1;

struct dumped {
  struct nftnl_rule *rules[1];   /* the chain's last rule */
  int nrules, count;
  struct nftnl_set *sets[256];
  int nsets;
  struct nftnl_set *cur;
};

static int rule_cb(const struct nlmsghdr *nlh, void *data) {
  struct dumped *d = data;
  struct nftnl_rule *r = nftnl_rule_alloc();
  if (nftnl_rule_nlmsg_parse(nlh, r) < 0) { nftnl_rule_free(r); return MNL_CB_OK; }
  if (d->nrules) nftnl_rule_free(d->rules[0]);
  d->rules[0] = r;
  d->nrules = 1;
  d->count++;
  return MNL_CB_OK;
}
static int set_cb(const struct nlmsghdr *nlh, void *data) {
  struct dumped *d = data;
  struct nftnl_set *s = nftnl_set_alloc();
  if (nftnl_set_nlmsg_parse(nlh, s) < 0 || d->nsets == 256 ||
      !(nftnl_set_get_u32(s, NFTNL_SET_FLAGS) & NFT_SET_ANONYMOUS)) {
    nftnl_set_free(s);
    return MNL_CB_OK;
  }
  d->sets[d->nsets++] = s;
  return MNL_CB_OK;
}
static int elem_cb(const struct nlmsghdr *nlh, void *data) {
  struct dumped *d = data;
  nftnl_set_elems_nlmsg_parse(nlh, d->cur);
  return MNL_CB_OK;
}

static int mnl_dump(uint16_t type, int family, void (*build)(struct nlmsghdr *, void *),
                    void *obj, mnl_cb_t cb, void *data) {
  char buf[MNL_SOCKET_BUFFER_SIZE * 4];
  struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
  nlh->nlmsg_type = (NFNL_SUBSYS_NFTABLES << 8) | type;
  nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
  nlh->nlmsg_seq = ++mnl_seq;
  struct nfgenmsg *g = mnl_nlmsg_put_extra_header(nlh, sizeof *g);
  g->nfgen_family = (uint8_t)family;
  g->version = NFNETLINK_V0;
  build(nlh, obj);
  if (mnl_socket_sendto(mnl, nlh, nlh->nlmsg_len) < 0) return -1;
  for (;;) {
    ssize_t n = mnl_socket_recvfrom(mnl, buf, sizeof buf);
    if (n <= 0) return -1;
    int rc = mnl_cb_run(buf, (size_t)n, mnl_seq, mnl_socket_get_portid(mnl), cb, data);
    if (rc <= 0) return rc;
  }
}
static void build_rule(struct nlmsghdr *nlh, void *o) { nftnl_rule_nlmsg_build_payload(nlh, o); }
static void build_set(struct nlmsghdr *nlh, void *o) { nftnl_set_nlmsg_build_payload(nlh, o); }
static void build_elems(struct nlmsghdr *nlh, void *o) { nftnl_set_elems_nlmsg_build_payload(nlh, o); }

static void dumped_free(struct dumped *d) {
  for (int i = 0; i < d->nrules; i++) nftnl_rule_free(d->rules[i]);
  for (int i = 0; i < d->nsets; i++) nftnl_set_free(d->sets[i]);
  memset(d, 0, sizeof *d);
}

/* The chain's last rule and the anonymous sets of the table (with elements for those the
 * rule uses); returns the chain's rule count or -1. */
static int dump_chain(int fi, const char *chain, struct dumped *d) {
  int family = famnums[fi];
  memset(d, 0, sizeof *d);
  struct nftnl_rule *r = nftnl_rule_alloc();
  nftnl_rule_set_str(r, NFTNL_RULE_TABLE, tname[fi]);
  nftnl_rule_set_str(r, NFTNL_RULE_CHAIN, chain);
  int rc = mnl_dump(NFT_MSG_GETRULE, family, build_rule, r, rule_cb, d);
  nftnl_rule_free(r);
  struct nftnl_set *s = nftnl_set_alloc();
  nftnl_set_set_str(s, NFTNL_SET_TABLE, tname[fi]);
  if (rc >= 0) rc = mnl_dump(NFT_MSG_GETSET, family, build_set, s, set_cb, d);
  nftnl_set_free(s);
  /* the anonymous sets the rule names (lookups, maps, object maps) */
  char names[4096] = " ";
  struct nftnl_expr_iter *it = d->nrules ? nftnl_expr_iter_create(d->rules[0]) : NULL;
  for (struct nftnl_expr *e = it ? nftnl_expr_iter_next(it) : NULL; e; e = nftnl_expr_iter_next(it)) {
    static const uint16_t attrs[] = {NFTNL_EXPR_LOOKUP_SET, NFTNL_EXPR_DYNSET_SET_NAME,
                                     NFTNL_EXPR_OBJREF_SET_NAME};
    static const char *const kinds[] = {"lookup", "dynset", "objref"};
    for (int j = 0; j < 3; j++)
      if (strcmp(nftnl_expr_get_str(e, NFTNL_EXPR_NAME), kinds[j]) == 0 &&
          nftnl_expr_is_set(e, attrs[j])) {
        strncat(names, nftnl_expr_get_str(e, attrs[j]), sizeof names - strlen(names) - 2);
        strcat(names, " ");
      }
  }
  if (it) nftnl_expr_iter_destroy(it);
  for (int i = 0; rc >= 0 && i < d->nsets; i++) {
    char key[300];
    snprintf(key, sizeof key, " %s ", nftnl_set_get_str(d->sets[i], NFTNL_SET_NAME));
    if (strstr(names, key) == NULL) continue;
    d->cur = d->sets[i];
    struct nftnl_set *q = nftnl_set_alloc();
    nftnl_set_set_str(q, NFTNL_SET_TABLE, tname[fi]);
    nftnl_set_set_str(q, NFTNL_SET_NAME, nftnl_set_get_str(d->sets[i], NFTNL_SET_NAME));
    rc = mnl_dump(NFT_MSG_GETSETELEM, family, build_elems, q, elem_cb, d);
    nftnl_set_free(q);
  }
  return rc < 0 ? -1 : d->count;
}

struct strbuf { char *p; size_t len, size; };
static void sb(struct strbuf *b, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  size_t room = b->size - b->len;
  int n = vsnprintf(b->p + b->len, room, fmt, ap);
  va_end(ap);
  if (n > 0) b->len += (size_t)n < room ? (size_t)n : room - 1;
}
static void hex(struct strbuf *b, const void *p, uint32_t n) {
  for (uint32_t i = 0; i < n; i++) sb(b, "%02x", ((const uint8_t *)p)[i]);
}
static int strcmp_p(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

/* An anonymous set by content: what the rule means, not the name the kernel gave it. */
static void describe_set(struct strbuf *b, struct nftnl_set *s) {
  static const struct { uint16_t a; const char *n; } u32s[] = {
    {NFTNL_SET_FLAGS, "flags"}, {NFTNL_SET_KEY_TYPE, "ktype"}, {NFTNL_SET_KEY_LEN, "klen"},
    {NFTNL_SET_DATA_TYPE, "dtype"}, {NFTNL_SET_DATA_LEN, "dlen"}, {NFTNL_SET_OBJ_TYPE, "otype"},
    {NFTNL_SET_POLICY, "policy"}, {NFTNL_SET_DESC_SIZE, "size"}, {NFTNL_SET_GC_INTERVAL, "gc"},
    {NFTNL_SET_DESC_CONCAT, NULL}};
  sb(b, "{");
  for (int i = 0; u32s[i].n; i++)
    if (nftnl_set_is_set(s, u32s[i].a)) sb(b, " %s=%u", u32s[i].n, nftnl_set_get_u32(s, u32s[i].a));
  if (nftnl_set_is_set(s, NFTNL_SET_TIMEOUT))
    sb(b, " timeout=%llu", (unsigned long long)nftnl_set_get_u64(s, NFTNL_SET_TIMEOUT));
  uint32_t len;
  if (nftnl_set_is_set(s, NFTNL_SET_DESC_CONCAT)) {
    const void *p = nftnl_set_get_data(s, NFTNL_SET_DESC_CONCAT, &len);
    sb(b, " concat=");
    hex(b, p, len);
  }
  /* The set's user data is left out: nft keeps its own notes there (key byte order, the
   * key's expression for `typeof`), which the kernel never reads; if they mattered, nft's
   * listing of cnet's rule would differ, and that is compared. */
  char *el[4096];
  int n = 0;
  struct nftnl_set_elems_iter *it = nftnl_set_elems_iter_create(s);
  for (struct nftnl_set_elem *e = nftnl_set_elems_iter_next(it); e && n < 4096;
       e = nftnl_set_elems_iter_next(it)) {
    /* key, key end, data or verdict, flags; not the element's user data (nft's notes) */
    char t[1024];
    struct strbuf eb = {t, 0, sizeof t};
    static const struct { uint16_t a; const char *n; } parts[] = {
      {NFTNL_SET_ELEM_KEY, "key"}, {NFTNL_SET_ELEM_KEY_END, "end"},
      {NFTNL_SET_ELEM_DATA, "data"}, {NFTNL_SET_ELEM_OBJREF, "obj"}};
    t[0] = 0;
    for (size_t j = 0; j < sizeof parts / sizeof parts[0]; j++)
      if (nftnl_set_elem_is_set(e, parts[j].a)) {
        uint32_t l;
        const void *p = nftnl_set_elem_get(e, parts[j].a, &l);
        sb(&eb, "%s=", parts[j].n);
        if (parts[j].a == NFTNL_SET_ELEM_OBJREF) sb(&eb, "%s", (const char *)p);
        else hex(&eb, p, l);
        sb(&eb, " ");
      }
    if (nftnl_set_elem_is_set(e, NFTNL_SET_ELEM_VERDICT))
      sb(&eb, "verdict=%d ", (int)nftnl_set_elem_get_u32(e, NFTNL_SET_ELEM_VERDICT));
    if (nftnl_set_elem_is_set(e, NFTNL_SET_ELEM_CHAIN))
      sb(&eb, "chain=%s ", nftnl_set_elem_get_str(e, NFTNL_SET_ELEM_CHAIN));
    if (nftnl_set_elem_is_set(e, NFTNL_SET_ELEM_FLAGS))
      sb(&eb, "flags=%u ", nftnl_set_elem_get_u32(e, NFTNL_SET_ELEM_FLAGS));
    if (nftnl_set_elem_is_set(e, NFTNL_SET_ELEM_USERDATA)) {
      uint32_t ulen;
      const uint8_t *u = nftnl_set_elem_get(e, NFTNL_SET_ELEM_USERDATA, &ulen);
      sb(&eb, "udata=");
      for (uint32_t k = 0; u && k < ulen; k++) sb(&eb, "%02x", u[k]);
      sb(&eb, " ");
    }
    if (nftnl_set_elem_is_set(e, NFTNL_SET_ELEM_TIMEOUT))
      sb(&eb, "timeout=%llu ", (unsigned long long)nftnl_set_elem_get_u64(e, NFTNL_SET_ELEM_TIMEOUT));
    el[n++] = strdup(t);
  }
  nftnl_set_elems_iter_destroy(it);
  qsort(el, (size_t)n, sizeof el[0], strcmp_p);
  sb(b, " elems[");
  for (int i = 0; i < n; i++) { sb(b, "%s%s", i ? "; " : "", el[i]); free(el[i]); }
  sb(b, "] }");
}

/* The rules of a chain dump as text: each expression as libnftnl prints it, anonymous set
 * names replaced by the sets' content, the rule's user data in hex. */
static void bytecode(struct dumped *d, char *out, size_t size) {
  struct strbuf b = {out, 0, size};
  out[0] = 0;
  for (int r = 0; r < d->nrules; r++) {
    struct nftnl_expr_iter *it = nftnl_expr_iter_create(d->rules[r]);
    for (struct nftnl_expr *e = nftnl_expr_iter_next(it); e; e = nftnl_expr_iter_next(it)) {
      char t[2048], *p = t;
      nftnl_expr_snprintf(t, sizeof t, e, NFTNL_OUTPUT_DEFAULT, 0);
      sb(&b, "[ %s ", nftnl_expr_get_str(e, NFTNL_EXPR_NAME));
      while (*p) {  /* "__set12", "__map3" -> the set's content */
        char *at = strstr(p, "__");
        size_t w = at ? strspn(at + 2, "abcdefghijklmnopqrstuvwxyz") : 0;
        size_t k = at ? strspn(at + 2 + w, "0123456789") : 0;
        if (at == NULL || w == 0 || k == 0) {
          if (at == NULL) { sb(&b, "%s", p); break; }
          sb(&b, "%.*s", (int)(at + 2 - p), p);
          p = at + 2;
          continue;
        }
        sb(&b, "%.*s", (int)(at - p), p);
        char name[64];
        snprintf(name, sizeof name, "%.*s", (int)(2 + w + k), at);
        int found = 0;
        for (int i = 0; i < d->nsets; i++)
          if (strcmp(nftnl_set_get_str(d->sets[i], NFTNL_SET_NAME), name) == 0) {
            sb(&b, "%.*s", (int)(2 + w), at);  /* the kind of set, without its number */
            describe_set(&b, d->sets[i]);
            found = 1;
          }
        if (!found) sb(&b, "%s", name);
        p = at + 2 + w + k;
      }
      sb(&b, "]\n");
    }
    nftnl_expr_iter_destroy(it);
    uint32_t len;
    if (nftnl_rule_is_set(d->rules[r], NFTNL_RULE_USERDATA)) {
      const void *p = nftnl_rule_get_data(d->rules[r], NFTNL_RULE_USERDATA, &len);
      sb(&b, "udata ");
      hex(&b, p, len);
      sb(&b, "\n");
    }
  }
}

/* ---- cnet ---- */

static struct cnet_netns *ns;

struct listed { char text[8192]; char err[1024]; int n; };
static int list_cb(const struct cnet_nft_rule_info *r, void *data) {
  struct listed *l = data;
  l->n++;
  snprintf(l->text, sizeof l->text, "%s", r->text ? r->text : "");
  snprintf(l->err, sizeof l->err, "%s", r->text_error ? r->text_error : "");
  return 0;
}

/* Column named in a compiler message ("...: column 12: ..."), 0 when none. */
static int msg_column(const char *msg) {
  const char *c = strstr(msg, "column ");
  return c ? atoi(c + 7) : 0;
}


/* ---- one rule in one family ---- */

static char *ref_list, *ref_bc, *got_list, *got_bc;

/* Prints a failure in one write, so that the workers' reports do not interleave. */
static void fail(struct tally *t, const char *where, const char *fam, const char *chain,
                 const char *rule, const char *fmt, ...) {
  static char buf[4 * BIG];
  va_list ap;
  t->failures++;
  int n = snprintf(buf, sizeof buf, "FAIL %s: %s %s: %s\n   ", where, fam, chain, rule);
  va_start(ap, fmt);
  if (n > 0 && (size_t)n < sizeof buf) n += vsnprintf(buf + n, sizeof buf - (size_t)n, fmt, ap);
  va_end(ap);
  if (n > (int)sizeof buf - 2) n = (int)sizeof buf - 2;
  buf[n++] = '\n';
  fflush(stdout);
  if (write(1, buf, (size_t)n) < 0) return;
}

/* The chains a corpus line can name, per family (type, hook, priority; a regular chain has
 * no type). NULL type and hook in a family: the family has no such chain. */
struct chainkind { const char *name; struct cnet_nft_chain_spec spec[3]; };  /* l3, bridge, netdev */
static const struct chainkind chainkinds[] = {
  {"c", {{"filter", "forward", "0", NULL, NULL}, {"filter", "forward", "0", NULL, NULL},
         {"filter", "ingress", "0", NULL, "lo"}}},
  {"in", {{"filter", "input", "0", NULL, NULL}, {"filter", "input", "0", NULL, NULL}, {0}}},
  {"out", {{"filter", "output", "0", NULL, NULL}, {"filter", "output", "0", NULL, NULL}, {0}}},
  {"pre", {{"nat", "prerouting", "-100", NULL, NULL}, {0}, {0}}},
  {"n", {{"nat", "postrouting", "100", NULL, NULL}, {0}, {0}}},
  {"raw", {{"filter", "prerouting", "-300", NULL, NULL},
           {"filter", "prerouting", "-300", NULL, NULL}, {0}}},
  {"other", {{"", NULL, NULL, NULL, NULL}, {"", NULL, NULL, NULL, NULL}, {"", NULL, NULL, NULL, NULL}}},
};

static const struct cnet_nft_chain_spec *chain_spec(int fi, const char *c) {
  for (size_t i = 0; i < sizeof chainkinds / sizeof chainkinds[0]; i++)
    if (strcmp(chainkinds[i].name, c) == 0) {
      const struct cnet_nft_chain_spec *sp = &chainkinds[i].spec[fi < 3 ? 0 : fi == 3 ? 1 : 2];
      return sp->type ? sp : NULL;
    }
  return NULL;
}

/* The chain in nft's words: "{ type filter hook input priority 0; }" or "" (regular). */
static void chain_text(const struct cnet_nft_chain_spec *sp, char *buf, size_t size) {
  if (sp->type[0] == 0) { buf[0] = 0; return; }
  snprintf(buf, size, "{ type %s hook %s%s%s priority %s; }", sp->type, sp->hook,
           sp->device ? " device " : "", sp->device ? sp->device : "", sp->prio);
}

/* The named objects the corpus's rules use, made in a table when a rule names them (a table
 * with many named sets makes every nft command fetch them all: nft's cache). */
static const struct { const char *name, *def; } objects[] = {
  {"s4", "set %1$s %2$s s4 { type ipv4_addr; }"},
  {"s6", "set %1$s %2$s s6 { type ipv6_addr; }"},
  {"sp", "set %1$s %2$s sp { type inet_service; }"},
  {"sm", "set %1$s %2$s sm { type mark; }"},
  {"si", "set %1$s %2$s si { type ifname; }"},
  {"se", "set %1$s %2$s se { type ether_addr; }"},
  {"sproto", "set %1$s %2$s sproto { type inet_proto; }"},
  {"n4", "set %1$s %2$s n4 { type ipv4_addr; flags interval; }"},
  {"n6", "set %1$s %2$s n6 { type ipv6_addr; flags interval; }"},
  {"np", "set %1$s %2$s np { type inet_service; flags interval; }"},
  {"d4", "set %1$s %2$s d4 { type ipv4_addr; flags dynamic,timeout; timeout 1m; size 65535; }"},
  {"d6", "set %1$s %2$s d6 { type ipv6_addr; flags dynamic,timeout; timeout 1m; size 65535; }"},
  {"dp", "set %1$s %2$s dp { type inet_service; flags dynamic; }"},
  {"dm", "set %1$s %2$s dm { type mark; flags dynamic; }"},
  {"c4p", "set %1$s %2$s c4p { type ipv4_addr . inet_service; }"},
  {"c6p", "set %1$s %2$s c6p { type ipv6_addr . inet_service; }"},
  {"dc4p", "set %1$s %2$s dc4p { type ipv4_addr . inet_service; flags dynamic; }"},
  {"vm4", "map %1$s %2$s vm4 { type ipv4_addr : verdict; }"},
  {"vm6", "map %1$s %2$s vm6 { type ipv6_addr : verdict; }"},
  {"vmp", "map %1$s %2$s vmp { type inet_service : verdict; }"},
  {"vmi", "map %1$s %2$s vmi { type ifname : verdict; }"},
  {"vmm", "map %1$s %2$s vmm { type mark : verdict; }"},
  {"vmc", "map %1$s %2$s vmc { type ipv4_addr . inet_service : verdict; }"},
  {"mp4", "map %1$s %2$s mp4 { type inet_service : ipv4_addr; }"},
  {"mp6", "map %1$s %2$s mp6 { type inet_service : ipv6_addr; }"},
  {"m44", "map %1$s %2$s m44 { type ipv4_addr : ipv4_addr; }"},
  {"m66", "map %1$s %2$s m66 { type ipv6_addr : ipv6_addr; }"},
  {"mm", "map %1$s %2$s mm { type mark : mark; }"},
  {"mpp", "map %1$s %2$s mpp { type inet_service : inet_service; }"},
  {"m4m", "map %1$s %2$s m4m { type ipv4_addr : mark; }"},
  {"mim", "map %1$s %2$s mim { type ifname : mark; }"},
  {"m4c", "map %1$s %2$s m4c { type ipv4_addr : ipv4_addr . inet_service; }"},
  {"dm4", "map %1$s %2$s dm4 { type ipv4_addr : mark; flags dynamic,timeout; timeout 1m; }"},
  {"cm", "map %1$s %2$s cm { type ipv4_addr : counter; }"},
  {"qm", "map %1$s %2$s qm { type ipv4_addr : quota; }"},
  {"c1", "counter %1$s %2$s c1"},
  {"c2", "counter %1$s %2$s c2"},
  {"q1", "quota %1$s %2$s q1 { 100 mbytes; }"},
  {"q2", "quota %1$s %2$s q2 { over 200 mbytes; }"},
  {"l1", "limit %1$s %2$s l1 { rate 10/second; }"},
  {"l2", "limit %1$s %2$s l2 { rate over 1 mbytes/second; }"},
  {"sy1", "synproxy %1$s %2$s sy1 { mss 1460; wscale 7; timestamp sack-perm; }"},
  {"h1", "ct helper %1$s %2$s h1 { type \"ftp\" protocol tcp; }"},
  {"h2", "ct helper %1$s %2$s h2 { type \"sip\" protocol udp; }"},
  {"e1", "ct expectation %1$s %2$s e1 { protocol tcp; dport 21; timeout 1m; size 8; }"},
  {"t1", "ct timeout %1$s %2$s t1 { protocol tcp; l3proto ip; policy = { established: 100 }; }"},
};
#define NOBJ (sizeof objects / sizeof objects[0])
static uint64_t avail[NFAM], made[NFAM];

/* Finds which objects family fi can have (one the kernel or the family lacks is reported
 * with -v; rules using it are then refused by both). */
static int probe_objects(int fi) {
  char cmd[1024];
  const char *f = famnames[fi], *err;
  snprintf(cmd, sizeof cmd, "add table %s probe", f);
  if (nft_run(cmd, NULL, &err) < 0) { fprintf(stderr, "%s: %s\n", cmd, err); return -1; }
  for (size_t i = 0; i < NOBJ; i++) {
    char obj[512];
    snprintf(obj, sizeof obj, objects[i].def, f, "probe");
    snprintf(cmd, sizeof cmd, "add %s", obj);
    if (nft_run(cmd, NULL, &err) == 0) avail[fi] |= 1ULL << i;
    else if (verbose) fprintf(stderr, "note: family %s has no %s\n", f, obj);
  }
  snprintf(cmd, sizeof cmd, "delete table %s probe", f);
  nft_run(cmd, NULL, NULL);
  return 0;
}

/* A table for family fi with room for another pair: a fresh one every ROTATE pairs (the old
 * one, with all its chains, deleted in one go). */
static int table_for(int fi) {
  const char *err;
  char cmd[256];
  if (tgen[fi] > 0 && tused[fi] < ROTATE) return 0;
  if (tgen[fi] > 0) {
    snprintf(cmd, sizeof cmd, "delete table %s %s", famnames[fi], tname[fi]);
    nft_run(cmd, NULL, NULL);
  }
  snprintf(tname[fi], sizeof tname[fi], "t%d", ++tgen[fi]);
  tused[fi] = 0;
  made[fi] = 0;
  kinds_made[fi] = 0;
  memset(nrules[fi], 0, sizeof nrules[fi]);
  snprintf(cmd, sizeof cmd, "add table %1$s %2$s\nadd chain %1$s %2$s other\n"
           "add chain %1$s %2$s other2", famnames[fi], tname[fi]);
  if (nft_run(cmd, NULL, &err) < 0) {
    fprintf(stderr, "cannot make table %s %s:\n%s\n", famnames[fi], tname[fi], err);
    return -1;
  }
  return 0;
}

static int kind_index(const char *c) {
  for (size_t i = 0; i < sizeof chainkinds / sizeof chainkinds[0]; i++)
    if (strcmp(chainkinds[i].name, c) == 0) return (int)i;
  return -1;
}

/* Makes the two test chains of a kind in the current table, once. */
static int chains_for(int fi, const char *cname) {
  int k = kind_index(cname);
  if (kinds_made[fi] & (1u << k)) return 0;
  char spectext[128], cmd[512];
  const char *err;
  chain_text(chain_spec(fi, cname), spectext, sizeof spectext);
  snprintf(cmd, sizeof cmd, "add chain %1$s %2$s a_%3$s %4$s\nadd chain %1$s %2$s b_%3$s %4$s",
           famnames[fi], tname[fi], cname, spectext);
  if (nft_run(cmd, NULL, &err) < 0) {
    fprintf(stderr, "cannot make chains: %s\n%s\n", cmd, err);
    return -1;
  }
  kinds_made[fi] |= 1u << k;
  return 0;
}

/* Makes the objects the rule names (as a whole word) that the table lacks. */
static int objects_for(int fi, const char *rule) {
  static char batch[16384];
  size_t n = 0;
  uint64_t add = 0;
  for (size_t i = 0; i < NOBJ; i++) {
    if (!(avail[fi] & (1ULL << i)) || (made[fi] & (1ULL << i))) continue;
    size_t len = strlen(objects[i].name);
    for (const char *p = strstr(rule, objects[i].name); p; p = strstr(p + 1, objects[i].name)) {
      int before = p > rule && (isalnum((unsigned char)p[-1]) || p[-1] == '_');
      int after = isalnum((unsigned char)p[len]) || p[len] == '_';
      if (before || after) continue;
      char obj[512];
      snprintf(obj, sizeof obj, objects[i].def, famnames[fi], tname[fi]);
      n += (size_t)snprintf(batch + n, sizeof batch - n, "add %s\n", obj);
      add |= 1ULL << i;
      break;
    }
  }
  if (n == 0) return 0;
  const char *err;
  if (nft_run(batch, NULL, &err) < 0) {
    fprintf(stderr, "cannot make objects in %s %s:\n%s\n%s", famnames[fi], tname[fi], batch, err);
    return -1;
  }
  made[fi] |= add;
  return 0;
}

/* One rule in one family: nft adds it at the end of chain a_KIND, cnet at the end of b_KIND;
 * the last rule of each chain is the one compared (rules are never deleted one by one:
 * every deletion makes the kernel's next commit wait for an RCU grace period). */
static void one(int fi, const char *cname, const char *rule, const char *where, struct tally *t) {
  const char *fam = famnames[fi], *table = tname[fi];
  char cmd[BIG], chain[32], cchain[32];
  const char *nerr = "";
  int k = kind_index(cname);
  unsigned have_a = nrules[fi][k][0], have_b = nrules[fi][k][1];
  t->pairs++;
  snprintf(chain, sizeof chain, "a_%s", cname);
  snprintf(cchain, sizeof cchain, "b_%s", cname);
  /* nft writes */
  snprintf(cmd, sizeof cmd, "add rule %s %s %s %s", fam, table, chain, rule);
  int nft_ok = nft_run(cmd, NULL, &nerr) == 0;
  char marked[1100] = "";  /* why cnet could not list nft's rule */
  if (nft_ok) {
    t->valid++;
    t->added_nft = 1;
    struct dumped d;
    int n1 = nft_list_chain(fi, chain, ref_list, BIG), n2 = dump_chain(fi, chain, &d);
    if (n1 != (int)have_a + 1 || n2 != (int)have_a + 1) {
      fail(t, where, fam, cname, rule, "cannot list nft's rule (%d, %d rules, want %u)", n1, n2,
           have_a + 1);
      dumped_free(&d);
      return;
    }
    bytecode(&d, ref_bc, BIG);
    dumped_free(&d);
    struct listed l = {.n = 0};
    int rc = cnet_nft_list_rules(ns, famnums[fi], table, chain, list_cb, &l);
    if (rc < 0 || l.n != (int)have_a + 1) {
      fail(t, where, fam, cname, rule, "cnet cannot list nft's rule: %s", strerror(-rc));
    } else if (l.err[0]) {
      t->dec_marked++;
      snprintf(marked, sizeof marked, "%s", l.err);
      if (verbose) printf("undecodable %s: %s %s: %s\n   %s\n", where, fam, cname, rule, l.err);
      if (strcmp(l.text, ref_list) == 0)  /* marked, but the text it shows must not mislead */
        fail(t, where, fam, cname, rule, "marked not decodable, yet printed nft's text: %s", l.err);
    } else if (strcmp(l.text, ref_list) == 0) {
      t->dec_exact++;
    } else {
      t->dec_wrong++;
      fail(t, where, fam, cname, rule, "cnet lists nft's rule as\n     %s\n   nft lists\n     %s",
           l.text, ref_list);
    }
  } else {
    t->invalid++;
  }

  /* cnet writes */
  struct cnet_nft_tx *tx;
  if (cnet_nft_tx_new(ns, &tx) < 0) { fail(t, where, fam, cname, rule, "no memory"); return; }
  int rc = cnet_nft_tx_add_rule(tx, famnums[fi], table, cchain, rule, CNET_NFT_APPEND, 0);
  int late = 0, failed;
  char msg[1024];
  snprintf(msg, sizeof msg, "%s", cnet_nft_tx_errmsg(tx));
  if (rc == 0) {
    rc = cnet_nft_tx_commit(tx, &failed);
    late = rc < 0;
    snprintf(msg, sizeof msg, "%s", cnet_nft_tx_errmsg(tx));
  }
  cnet_nft_tx_free(tx);
  if (rc == 0) {
    if (!nft_ok) {
      fail(t, where, fam, cname, rule, "cnet accepts a rule nft refuses: %.300s", nerr);
      t->added_cnet = 1;
      return;
    }
    t->accepted++;
    t->added_cnet = 1;
    /* what cnet writes, it reads: nft's rule for the same text is no stranger */
    if (marked[0])
      fail(t, where, fam, cname, rule, "cnet writes this rule but cannot list nft's: %s", marked);
    struct dumped d;
    int n1 = nft_list_chain(fi, cchain, got_list, BIG), n2 = dump_chain(fi, cchain, &d);
    if (n1 != (int)have_b + 1 || n2 != (int)have_b + 1) {
      fail(t, where, fam, cname, rule, "nft cannot list cnet's rule (%d, %d rules, want %u)", n1,
           n2, have_b + 1);
      dumped_free(&d);
    } else {
      bytecode(&d, got_bc, BIG);
      dumped_free(&d);
      if (strcmp(got_list, ref_list) == 0) t->listed++;
      else fail(t, where, fam, cname, rule, "nft lists cnet's rule as\n     %s\n   and its own as\n     %s",
                got_list, ref_list);
      if (strcmp(got_bc, ref_bc) == 0) t->bytecode++;
      else fail(t, where, fam, cname, rule, "bytecode differs\n   cnet:\n%s   nft:\n%s", got_bc, ref_bc);
    }
    return;
  }
  const char *code = rc == -EOPNOTSUPP ? "EOPNOTSUPP" : rc == -EINVAL ? "EINVAL" : strerror(-rc);
  int col = msg_column(msg);
  if (!nft_ok) {
    t->refused++;
    if (rc == -EINVAL && col > 0 && !late) t->refused_right++;
    else if (verbose) printf("refused not as EINVAL+column %s: %s %s: %s\n   %s (%s)\n", where, fam, cname, rule, code, msg);
    return;
  }
  t->valid_refused++;
  int right = rc == -EOPNOTSUPP && col > 0 && strstr(msg, "not supported") != NULL && !late;
  if (right) t->valid_refused_right++;
  if (refusal_log) fprintf(refusal_log, "%s\t%s\t%s\t%s\t%s\n", where, fam, rule, code, msg);
  if (show_refusals || (!right && verbose))
    printf("%s %s: %s %s: %s\n   %s: %s\n", right ? "unsupported" : "WRONG REFUSAL", where, fam,
           cname, rule, code, msg);
}

struct job { int cat, fam; const char *chain, *rule; char where[96]; };
struct result { int job; struct tally t; };

/* One pair, in the runner: its tables, chains and objects, then one(), then the chains'
 * rule counts. */
static void pair(int fi, const char *chain, const char *rule, const char *where,
                 struct tally *t) {
  if (table_for(fi) < 0 || objects_for(fi, rule) < 0 || chains_for(fi, chain) < 0) {
    t->pairs = 1;
    t->failures = 1;
    return;
  }
  tused[fi]++;
  one(fi, chain, rule, where, t);
  fflush(stdout);
  if (refusal_log) fflush(refusal_log);
  int k = kind_index(chain);
  nrules[fi][k][0] += t->added_nft;
  nrules[fi][k][1] += t->added_cnet;
}

/* What a runner tells its worker: a pair started, or its result. */
struct msg { int job, started; struct tally t; };

/* Runs the worker's pairs in a child process, a runner, many pairs each: nft itself aborts on
 * some input (nft 1.0.6 has assertions that some rules and some bytecode reach), and a crash
 * must count, not end the run. When a runner dies, the pair it had started is the crash, and
 * a new runner goes on after it, in tables of its own (what the dead one left is unknown). */
static int run_pairs(int w, int nworkers, const struct job *jobs, int njobs, int fd) {
  int j = w, restarts = 0;
  while (j < njobs) {
    int p[2];
    if (pipe(p) < 0) return 2;
    fflush(stdout);
    if (refusal_log) fflush(refusal_log);
    pid_t pid = fork();
    if (pid < 0) return 2;
    if (pid == 0) {
      close(p[0]);
      for (int k = j; k < njobs; k += nworkers) {
        struct msg m = {.job = k, .started = 1};
        if (write(p[1], &m, sizeof m) != (ssize_t)sizeof m) _exit(1);
        m.started = 0;
        pair(jobs[k].fam, jobs[k].chain, jobs[k].rule, jobs[k].where, &m.t);
        if (write(p[1], &m, sizeof m) != (ssize_t)sizeof m) _exit(1);
      }
      _exit(0);
    }
    close(p[1]);
    struct msg m;
    int current = -1;
    while (read(p[0], &m, sizeof m) == (ssize_t)sizeof m) {
      if (m.started) { current = m.job; continue; }
      struct result r = {.job = m.job, .t = m.t};
      if (write(fd, &r, sizeof r) != (ssize_t)sizeof r) return 2;
      current = -1;
    }
    close(p[0]);
    int status = 0;
    waitpid(pid, &status, 0);
    if (current < 0) {
      if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return 0;
      return 2;  /* died between pairs: not a pair's doing */
    }
    struct result r = {.job = current};
    const struct job *c = &jobs[current];
    r.t.pairs = 1;
    fail(&r.t, c->where, famnames[c->fam], c->chain, c->rule, "the check crashed (%s): nft "
         "aborted on this rule or on cnet's encoding of it",
         WIFSIGNALED(status) ? strsignal(WTERMSIG(status)) : "exit");
    fflush(stdout);
    if (write(fd, &r, sizeof r) != (ssize_t)sizeof r) return 2;
    /* the next runner starts after the crash, in new tables */
    restarts++;
    for (int fi = 0; fi < NFAM; fi++) {
      tgen[fi] = 1000 * restarts;
      tused[fi] = ROTATE;
    }
    j = current + nworkers;
  }
  return 0;
}

/* ---- the corpus ---- */

static int fam_mask(const char *spec) {
  int m = 0;
  char buf[64];
  snprintf(buf, sizeof buf, "%s", spec);
  for (char *save, *w = strtok_r(buf, ",", &save); w; w = strtok_r(NULL, ",", &save)) {
    if (strcmp(w, "all") == 0) m |= 31;
    else if (strcmp(w, "l3") == 0) m |= 7;
    else if (strcmp(w, "l2") == 0) m |= 24;
    else if (strcmp(w, "v4") == 0) m |= 1 | 4;
    else if (strcmp(w, "v6") == 0) m |= 2 | 4;
    else if (strcmp(w, "v4l2") == 0) m |= 1 | 4 | 8 | 16;
    else if (strcmp(w, "v6l2") == 0) m |= 2 | 4 | 8 | 16;
    else {
      int k = -1;
      for (int i = 0; i < NFAM; i++) if (strcmp(w, famnames[i]) == 0) k = i;
      if (k < 0) return -1;
      m |= 1 << k;
    }
  }
  return m;
}

struct line { char fams[32], chain[16], *rule; int lineno; };

static int read_category(const char *path, struct line **out) {
  FILE *f = fopen(path, "r");
  if (f == NULL) { perror(path); return -1; }
  char buf[BIG];
  int n = 0, cap = 256, lineno = 0;
  struct line *v = malloc((size_t)cap * sizeof *v);
  while (fgets(buf, sizeof buf, f)) {
    lineno++;
    buf[strcspn(buf, "\n")] = 0;
    char *p = buf;
    while (isspace((unsigned char)*p)) p++;
    if (*p == 0 || *p == '#') continue;
    if (n == cap) v = realloc(v, (size_t)(cap *= 2) * sizeof *v);
    int k = 0;
    if (sscanf(p, "%31s %15s %n", v[n].fams, v[n].chain, &k) != 2 || k == 0) {
      fprintf(stderr, "%s:%d: bad line (want FAMILIES CHAIN RULE)\n", path, lineno);
      fclose(f);
      return -1;
    }
    v[n].rule = strdup(p + k);
    v[n].lineno = lineno;
    n++;
  }
  fclose(f);
  *out = v;
  return n;
}

static int cmp_names(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

/* ---- the table ---- */

static void pct(char *buf, size_t size, unsigned a, unsigned b) {
  if (b == 0) snprintf(buf, size, "-");
  else snprintf(buf, size, "%u%%", (unsigned)((a * 100ULL + b / 2) / b));
}

static void row(FILE *o, const char *name, const struct tally *t) {
  char p[16];
  pct(p, sizeof p, t->accepted, t->valid);
  fprintf(o, "| %s | %u | %u | %u | %s | %u | %u | %u | %u | %u | %u | %u | %u | %u |\n", name,
          t->pairs, t->valid, t->accepted, p, t->listed, t->bytecode, t->dec_exact,
          t->dec_marked, t->dec_wrong, t->invalid, t->refused_right,
          t->valid_refused, t->valid_refused_right);
}

static void table(FILE *o) {
  fprintf(o, "| category | rules x families | nft accepts | cnet accepts | %% | listed identically "
             "| bytecode identical | nft's rule listed exactly | marked not decodable | listed wrong "
             "| nft refuses | cnet refuses (EINVAL, column) | valid, cnet refuses "
             "| of which \"not supported\", column |\n");
  fprintf(o, "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
  for (int i = 0; i < ncats; i++) row(o, catnames[i], &cats[i]);
  row(o, "**all**", &total);
  fprintf(o, "\n| family | rules | nft accepts | cnet accepts | %% | listed identically "
             "| bytecode identical | nft's rule listed exactly | marked not decodable | listed wrong "
             "| nft refuses | cnet refuses (EINVAL, column) | valid, cnet refuses "
             "| of which \"not supported\", column |\n");
  fprintf(o, "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
  for (int i = 0; i < NFAM; i++) row(o, famnames[i], &fams[i]);
}

/* The ratchet: per category, valid rules refused and refused wrongly must not grow. */
static int check_against(const char *doc) {
  FILE *f = fopen(doc, "r");
  if (f == NULL) { perror(doc); return 1; }
  char line[2048];
  int bad = 0, seen = 0;
  while (fgets(line, sizeof line, f)) {
    if (strncmp(line, "| ", 2) != 0) continue;
    char *cols[16];
    int n = 0;
    for (char *save, *w = strtok_r(line + 1, "|", &save); w && n < 16; w = strtok_r(NULL, "|", &save)) {
      while (*w == ' ') w++;
      char *e = w + strlen(w);
      while (e > w && isspace((unsigned char)e[-1])) *--e = 0;
      cols[n++] = w;
    }
    if (n < 14) continue;
    for (int i = 0; i < ncats; i++) {
      if (strcmp(cols[0], catnames[i]) != 0) continue;
      seen++;
      unsigned vr = (unsigned)atoi(cols[12]), vrr = (unsigned)atoi(cols[13]);
      if (cats[i].valid_refused > vr) {
        printf("REGRESSION %s: cnet refuses %u valid rules, %s records %u\n", catnames[i],
               cats[i].valid_refused, doc, vr);
        bad = 1;
      }
      if (cats[i].valid_refused - cats[i].valid_refused_right > vr - vrr) {
        printf("REGRESSION %s: %u valid rules refused without \"not supported\", %s records %u\n",
               catnames[i], cats[i].valid_refused - cats[i].valid_refused_right, doc, vr - vrr);
        bad = 1;
      }
    }
  }
  fclose(f);
  if (seen == 0) { printf("%s: no category rows found\n", doc); bad = 1; }
  return bad;
}

/* ---- workers: each in a network namespace of its own, so the kernel's waits overlap ---- */


/* A worker: its own namespace (lo, veth0, veth1), nft context, sockets and tables; runs jobs
 * w, w+W, w+2W... and sends each result to fd. */
static int worker(int w, int nworkers, const struct job *jobs, int njobs, int fd) {
  if (unshare(CLONE_NEWNET) < 0) { perror("unshare"); return 2; }
  if (system("ip link set lo up && ip link add veth0 type veth peer name veth1 && "
             "ip link set veth0 up && ip link set veth1 up") != 0) {
    fprintf(stderr, "worker %d: cannot set up its interfaces\n", w);
    return 2;
  }
  nft = nft_ctx_new(NFT_CTX_DEFAULT);
  nft_ctx_buffer_output(nft);
  nft_ctx_buffer_error(nft);
  mnl = mnl_socket_open(NETLINK_NETFILTER);
  if (nft == NULL || mnl == NULL || mnl_socket_bind(mnl, 0, MNL_SOCKET_AUTOPID) < 0 ||
      cnet_netns_open_current(&ns) < 0) {
    fprintf(stderr, "cannot open nft, netlink or cnet\n");
    return 2;
  }
  for (int fi = 0; fi < NFAM; fi++)
    if (probe_objects(fi) < 0 || table_for(fi) < 0) return 2;
  /* cnet opens its nfnetlink socket on first use: open it here, once, not in every child
   * (closing a socket that changed the ruleset costs the kernel a grace period) */
  struct listed l = {.n = 0};
  cnet_nft_list_rules(ns, NFPROTO_IPV4, tname[0], "other", list_cb, &l);
  ref_list = malloc(BIG);
  ref_bc = malloc(BIG);
  got_list = malloc(BIG);
  got_bc = malloc(BIG);
  int rc = run_pairs(w, nworkers, jobs, njobs, fd);
  if (rc != 0) return rc;
  for (int fi = 0; fi < NFAM; fi++) {
    char cmd[128];
    snprintf(cmd, sizeof cmd, "delete table %s %s", famnames[fi], tname[fi]);
    nft_run(cmd, NULL, NULL);
  }
  cnet_netns_close(ns);
  mnl_socket_close(mnl);
  nft_ctx_free(nft);
  return 0;
}

int main(int argc, char **argv) {
  const char *dir = NULL, *doc = NULL, *check = NULL, *only = NULL, *rlog = NULL;
  int nworkers = 4;
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--doc") == 0 && i + 1 < argc) doc = argv[++i];
    else if (strcmp(argv[i], "--check") == 0 && i + 1 < argc) check = argv[++i];
    else if (strcmp(argv[i], "--only") == 0 && i + 1 < argc) only = argv[++i];
    else if (strcmp(argv[i], "--refusals") == 0 && i + 1 < argc) rlog = argv[++i];
    else if (strcmp(argv[i], "-j") == 0 && i + 1 < argc) nworkers = atoi(argv[++i]);
    else if (strcmp(argv[i], "-v") == 0) verbose = 1;
    else if (strcmp(argv[i], "--show-refusals") == 0) show_refusals = 1;
    else if (argv[i][0] != '-' && dir == NULL) dir = argv[i];
    else {
      fprintf(stderr, "usage: %s [-v] [-j WORKERS] [--show-refusals] [--refusals FILE] "
                      "[--only CATEGORY] [--doc FILE] [--check FILE] CORPUS_DIR\n", argv[0]);
      return 2;
    }
  }
  if (dir == NULL || nworkers < 1) { fprintf(stderr, "no corpus directory\n"); return 2; }
  struct if_nameindex *ifs = if_nameindex();
  for (struct if_nameindex *i = ifs; ifs && i->if_index; i++)
    if (strcmp(i->if_name, "lo") != 0) {
      fprintf(stderr, "refusing to run: interface %s: not a fresh network namespace "
                      "(run through tests/nft-corpus-check)\n", i->if_name);
      return 2;
    }
  if (ifs) if_freenameindex(ifs);
  if (rlog && (refusal_log = fopen(rlog, "w")) == NULL) { perror(rlog); return 2; }
  if (refusal_log) setvbuf(refusal_log, NULL, _IOLBF, 0);

  DIR *d = opendir(dir);
  if (d == NULL) { perror(dir); return 2; }
  char *files[MAXCAT];
  int nfiles = 0;
  for (struct dirent *e; (e = readdir(d)) != NULL;) {
    size_t n = strlen(e->d_name);
    if (n > 4 && strcmp(e->d_name + n - 4, ".txt") == 0 && nfiles < MAXCAT)
      files[nfiles++] = strdup(e->d_name);
  }
  closedir(d);
  qsort(files, (size_t)nfiles, sizeof files[0], cmp_names);
  int corrupt = 0, njobs = 0, capjobs = 1024, nallrules = 0, caprules = 1024;
  struct job *jobs = malloc((size_t)capjobs * sizeof *jobs);
  char **allrules = malloc((size_t)caprules * sizeof *allrules);  /* every rule, freed at the end */
  for (int fidx = 0; fidx < nfiles; fidx++) {
    char name[64], path[4096];
    const char *base = files[fidx];
    while (isdigit((unsigned char)*base)) base++;
    if (*base == '-') base++;
    snprintf(name, sizeof name, "%.*s", (int)(strlen(base) - 4), base);
    if (only && strcmp(only, name) != 0) continue;
    snprintf(path, sizeof path, "%s/%s", dir, files[fidx]);
    struct line *lines;
    int n = read_category(path, &lines);
    if (n < 0) { corrupt = 1; continue; }
    int ci = ncats++;
    snprintf(catnames[ci], sizeof catnames[ci], "%s", name);
    for (int k = 0; k < n; k++) {
      if (nallrules == caprules)
        allrules = realloc(allrules, (size_t)(caprules *= 2) * sizeof *allrules);
      allrules[nallrules++] = lines[k].rule;
      int m = fam_mask(lines[k].fams);
      if (m < 0) {
        fprintf(stderr, "%s:%d: bad families \"%s\"\n", path, lines[k].lineno, lines[k].fams);
        corrupt = 1;
        continue;
      }
      for (int fi = 0; fi < NFAM; fi++) {
        if (!(m & (1 << fi))) continue;
        if (chain_spec(fi, lines[k].chain) == NULL) {
          fprintf(stderr, "%s:%d: no chain \"%s\" in family %s\n", path, lines[k].lineno,
                  lines[k].chain, famnames[fi]);
          corrupt = 1;
          continue;
        }
        if (njobs == capjobs) jobs = realloc(jobs, (size_t)(capjobs *= 2) * sizeof *jobs);
        struct job *j = &jobs[njobs++];
        j->cat = ci;
        j->fam = fi;
        j->chain = strdup(lines[k].chain);
        j->rule = lines[k].rule;
        snprintf(j->where, sizeof j->where, "%s:%d", files[fidx], lines[k].lineno);
      }
    }
    free(lines);
  }
  struct timespec t0, t1;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  int p[2];
  if (pipe(p) < 0) { perror("pipe"); return 2; }
  fflush(stdout);
  for (int w = 0; w < nworkers; w++) {
    pid_t pid = fork();
    if (pid < 0) { perror("fork"); return 2; }
    if (pid == 0) {
      close(p[0]);
      int rc = worker(w, nworkers, jobs, njobs, p[1]);
      fflush(stdout);
      _exit(rc);
    }
  }
  close(p[1]);
  int done = 0;
  struct result r;
  while (read(p[0], &r, sizeof r) == (ssize_t)sizeof r) {
    if (r.job < 0 || r.job >= njobs) continue;
    add(&cats[jobs[r.job].cat], &r.t);
    add(&fams[jobs[r.job].fam], &r.t);
    add(&total, &r.t);
    done++;
  }
  int status, wfail = 0;
  while (wait(&status) > 0)
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) wfail = 1;
  clock_gettime(CLOCK_MONOTONIC, &t1);
  printf("\n");
  table(stdout);
  printf("\n%u rule x family pairs in %.1f s (%d workers); %u failures\n", total.pairs,
         (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9, nworkers,
         total.failures);
  if (done != njobs || wfail) {
    printf("only %d of %d pairs ran (a worker failed)\n", done, njobs);
    corrupt = 1;
  }
  if (doc) {
    FILE *o = fopen(doc, "w");
    if (o == NULL) { perror(doc); return 2; }
    table(o);
    fclose(o);
  }
  if (corrupt) printf("the corpus has errors (see above): fix them first\n");
  int bad = corrupt || total.failures > 0;
  if (check) bad |= check_against(check);
  if (refusal_log) fclose(refusal_log);
  for (int k = 0; k < njobs; k++) free((char *)jobs[k].chain);
  for (int k = 0; k < nallrules; k++) free(allrules[k]);
  for (int k = 0; k < nfiles; k++) free(files[k]);
  free(jobs);
  free(allrules);
  return bad ? 1 : 0;
}
