/* Fuzzing the whole nft rule path (run in a sandbox by ctest, plain and under ASan+UBSan):
 * rule text -> lexer -> parser/compiler -> the netlink message of a transaction (rule and
 * anonymous sets serialized) -> the kernel -> listed back and decoded. Inputs are made by a
 * generator over nft's rule grammar, then mangled: long rules (a statement repeated hundreds
 * of times, words up to 1 MiB), big anonymous sets (thousands of elements, duplicates,
 * overlapping ranges and prefixes), long names (sets, chains, interfaces, prefixes,
 * comments), deep nesting ("{ { { ..."), truncations and stray bytes; the corpus
 * (tests/nftrule-oracle.txt) seeds it too. For each input:
 *   1. compiled in memory, a rule must decode, and its text compile back to the same text;
 *   2. added to a transaction, it must be accepted or refused exactly as in 1, and a refusal
 *      must be a well-formed error;
 *   3. an accepted rule is committed; the kernel may refuse it (a clean error naming the
 *      command), and when it takes it, cnet's listing of the kernel's rule must be the text
 *      of 1.
 * Memory errors are the sanitizer's to find (this program is built with ASan+UBSan too).
 *
 * Bounded by time, CNET_FUZZ_SECONDS (default 15), or by count, CNET_FUZZ_INPUTS (then no time
 * bound unless CNET_FUZZ_SECONDS is given too). CNET_FUZZ_SEED: the generator's seed (default:
 * the clock). The seed is printed before the first input, so a run that crashes or is killed
 * by ctest's TIMEOUT can be replayed; each failure names its input's number, and the last line
 * a digest of every input made (one seed makes the same inputs). Built with -DCNET_LIBFUZZER it is a libFuzzer
 * target instead (each input: a family byte, then the rule text), for long runs; see
 * docs/api.md ("How it is checked"). Refuses to run outside a fresh network namespace. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <net/if.h>
#include <linux/netfilter.h>
#include <libnftnl/rule.h>
#include <libnftnl/set.h>

#include "cnet/netns.h"
#include "cnet/nft.h"
#include "cnet/nftrule.h"

#include "fresh_netns.h"
#include "nftrule_sets.h"

static struct cnet_netns *ns;
static long tried, compiled, committed, kernel_refused, listed;
static int failures;

#define FAIL(...)                                                                   \
  do {                                                                              \
    failures++;                                                                     \
    fprintf(stderr, "FAIL (input %ld): ", tried);                                  \
    fprintf(stderr, __VA_ARGS__);                                                   \
    fputc('\n', stderr);                                                            \
  } while (0)

static const char *shown(const char *text) { /* a rule in a message: its first 200 bytes */
  static char buf[256];
  snprintf(buf, sizeof buf, "%.200s%s", text, strlen(text) > 200 ? "..." : "");
  return buf;
}

/* ---- the compiler's view of the sandbox: the named sets made below, its interfaces ---- */

static int lookup_set(void *ud, const char *name, struct cnet_nftrule_setinfo *info) {
  (void)ud;
  static const struct { const char *name; uint32_t type, len; } sets[] = {
    {"s4", 7, 4}, {"s6", 8, 16}, {"sm", 19, 4}, {"sp", 13, 2}};
  for (size_t i = 0; i < sizeof sets / sizeof sets[0]; i++)
    if (strcmp(name, sets[i].name) == 0) {
      info->key_type = sets[i].type;
      info->key_len = sets[i].len;
      return 0;
    }
  return -ENOENT;
}

static int ifindex(void *ud, const char *name, uint32_t *idx) {
  (void)ud;
  *idx = if_nametoindex(name);
  return *idx ? 0 : -ENODEV;
}

static int ifname(void *ud, uint32_t idx, char *name, size_t size) {
  (void)ud;
  char buf[IF_NAMESIZE];
  if (if_indextoname(idx, buf) == NULL) return -ENODEV;
  snprintf(name, size, "%s", buf);
  return 0;
}

/* Compiles and decodes in memory: the compile's rc; *text (malloc'd) the decoded text. */
static int cycle(int fam, const char *in, char **text) {
  struct nftnl_rule *r = nftnl_rule_alloc();
  struct cnet_nftrule_out out;
  struct cnet_nftrule_err err;
  struct cnet_nftrule_env env = {.family = fam, .table = "fz", .lookup_set = lookup_set,
                                 .ifindex = ifindex};
  *text = NULL;
  int rc = cnet_nftrule_compile(in, &env, r, &out, &err);
  if (rc < 0) {
    int code_ok = rc == -EINVAL || rc == -EOPNOTSUPP || rc == -ENOENT || rc == -ENODEV;
    if (!code_ok || strncmp(err.msg, "rule \"", 6) != 0 || out.nsets || out.sets ||
        err.column < 0 || (size_t)err.column > strlen(in) + 1)
      FAIL("bad error for [%s]: rc %d col %d: %s", shown(in), rc, err.column, err.msg);
  } else {
    size_t size = 4096;
    int drc;
    for (;;) {
      struct ctx c = {&out, 0};
      struct cnet_nftrule_denv denv = {.family = fam, .ud = &c, .find_set = find_set,
                                       .ifname = ifname};
      *text = realloc(*text, size);
      drc = cnet_nftrule_decode(r, &denv, *text, size, &err);
      if (drc != -ENOSPC) break;
      size *= 2;
    }
    if (drc < 0) {
      FAIL("[%s] compiles but does not decode (%d): %s", shown(in), drc, err.msg);
      free(*text);
      *text = NULL;
      rc = -EPROTO;
    }
    cnet_nftrule_out_free(&out);
  }
  nftnl_rule_free(r);
  return rc;
}

/* ---- the kernel's view ---- */

struct last { uint64_t handle; char *text; };
static int last_rule(const struct cnet_nft_rule_info *r, void *data) {
  struct last *l = data;
  if (r->handle < l->handle) return 0;
  l->handle = r->handle;
  free(l->text);
  l->text = strdup(r->text_error ? "(not decoded)" : r->text);
  return 0;
}

static int famnum(int i) { return i == 0 ? NFPROTO_IPV4 : i == 1 ? NFPROTO_IPV6 : NFPROTO_INET; }

/* The chain a rule belongs in: NAT needs a nat chain of its hook. */
static const char *chain_for(const char *text) {
  if (strstr(text, "masquerade") || strstr(text, "snat")) return "post";
  if (strstr(text, "dnat") || strstr(text, "redirect")) return "pre";
  return "c";
}

static int tx_run(int fam, const char *in, const char *want) {
  struct cnet_nft_tx *tx;
  if (cnet_nft_tx_new(ns, &tx) < 0) return -ENOMEM;
  const char *chain = chain_for(in);
  int rc = cnet_nft_tx_add_rule(tx, fam, "fz", chain, in, CNET_NFT_APPEND, 0);
  if (rc < 0) {
    const char *m = cnet_nft_tx_errmsg(tx);
    if (m[0] == '\0' || strlen(m) >= CNET_NFTRULE_ERRMAX)
      FAIL("transaction refused [%s] (%d) without a message", shown(in), rc);
    if (want != NULL) FAIL("[%s] compiles alone but not in a transaction: %s", shown(in), m);
    cnet_nft_tx_free(tx);
    return rc;
  }
  if (want == NULL) FAIL("[%s] refused alone but taken by a transaction", shown(in));
  int failed = -2;
  rc = cnet_nft_tx_commit(tx, &failed);
  if (rc < 0) {
    kernel_refused++;
    if (failed != 0 && failed != -1)
      FAIL("[%s] refused by the kernel (%d) with failed = %d", shown(in), rc, failed);
    if (failed == 0 && cnet_nft_tx_label(tx, 0) == NULL)
      FAIL("[%s] refused by the kernel (%d) without a label", shown(in), rc);
  } else if (want != NULL) {
    committed++;
    struct last l = {0, NULL};
    int lrc = cnet_nft_list_rules(ns, fam, "fz", chain, last_rule, &l);
    if (lrc < 0 || l.text == NULL) FAIL("cannot list [%s]: %d", shown(in), lrc);
    else if (strcmp(l.text, want) != 0)
      FAIL("[%s]\n  compiles to  %s\n  kernel lists %s", shown(in), shown(want), l.text);
    else listed++;
    free(l.text);
  }
  cnet_nft_tx_free(tx);
  if (rc == 0 && cnet_nft_tx_new(ns, &tx) == 0) { /* one rule per chain: listings stay cheap */
    int f;
    if (cnet_nft_tx_flush_chain(tx, fam, "fz", chain) < 0 || cnet_nft_tx_commit(tx, &f) < 0)
      FAIL("cannot flush chain %s: %s", chain, cnet_nft_tx_errmsg(tx));
    cnet_nft_tx_free(tx);
  }
  return rc;
}

static int cmp_words(const void *x, const void *y) {
  return strcmp(*(char *const *)x, *(char *const *)y);
}

/* Whether a and b hold the same words, in any order. */
static int same_words(const char *a, const char *b) {
  char *ca = strdup(a), *cb = strdup(b);
  size_t n = strlen(a) / 2 + 2, na = 0, nb = 0;
  char **wa = malloc(n * sizeof *wa), **wb = malloc((strlen(b) / 2 + 2) * sizeof *wb);
  int same = 0;
  if (ca && cb && wa && wb) {
    for (char *save, *w = strtok_r(ca, " ", &save); w; w = strtok_r(NULL, " ", &save)) wa[na++] = w;
    for (char *save, *w = strtok_r(cb, " ", &save); w; w = strtok_r(NULL, " ", &save)) wb[nb++] = w;
    qsort(wa, na, sizeof *wa, cmp_words);
    qsort(wb, nb, sizeof *wb, cmp_words);
    same = na == nb;
    for (size_t i = 0; same && i < na; i++) same = strcmp(wa[i], wb[i]) == 0;
  }
  free(ca);
  free(cb);
  free(wa);
  free(wb);
  return same;
}

/* One input, through all three stages. */
static void fuzz_one(int fam, const char *in) {
  tried++;
  char *a = NULL, *b = NULL, *c = NULL;
  if (cycle(fam, in, &a) == 0) {
    compiled++;
    /* the decoded text compiles again; after at most one more round it is a fixed point, or
     * the same words in another order: nft merges adjacent header matches across other
     * matches and lists the merged one where the first of them stood, so a rule with several
     * matches on one field moves one of them per round (nft's own listings do the same) */
    if (cycle(fam, a, &b) != 0) FAIL("[%s] decodes to [%s], which does not compile", shown(in), shown(a));
    else if (strcmp(a, b) != 0 && (cycle(fam, b, &c) != 0 || (strcmp(b, c) != 0 && !same_words(b, c))))
      FAIL("[%s] -> [%s]: no fixed point", shown(in), shown(a));
  }
  tx_run(fam, in, a);
  free(a);
  free(b);
  free(c);
}

static int setup(void) {
  if (!in_fresh_netns()) {
    fprintf(stderr, "refusing to run: this network namespace has interfaces besides lo "
                    "(run it through tests/sandbox.sh)\n");
    return -1;
  }
  if (cnet_netns_open_current(&ns) < 0) return -1;
  struct cnet_nft_tx *tx;
  if (cnet_nft_tx_new(ns, &tx) < 0) return -1;
  struct cnet_nft_chain_spec filter = {"filter", "input", "0", NULL, NULL};
  struct cnet_nft_chain_spec pre = {"nat", "prerouting", "dstnat", NULL, NULL};
  struct cnet_nft_chain_spec post = {"nat", "postrouting", "srcnat", NULL, NULL};
  static const char *const types[] = {"ipv4_addr", "ipv6_addr", "mark", "inet_service"};
  static const char *const names[] = {"s4", "s6", "sm", "sp"};
  for (int i = 0; i < 3; i++) {
    int f = famnum(i);
    cnet_nft_tx_add_table(tx, f, "fz");
    cnet_nft_tx_add_chain(tx, f, "fz", "c", &filter);
    cnet_nft_tx_add_chain(tx, f, "fz", "pre", &pre);
    cnet_nft_tx_add_chain(tx, f, "fz", "post", &post);
    cnet_nft_tx_add_chain(tx, f, "fz", "x", NULL);
    for (int s = 0; s < 4; s++) {
      struct cnet_nft_set_spec spec = {types[s], 0, 0};
      cnet_nft_tx_add_set(tx, f, "fz", names[s], &spec);
    }
  }
  int failed, rc = cnet_nft_tx_commit(tx, &failed);
  if (rc < 0) fprintf(stderr, "setup: %s (%d)\n", cnet_nft_tx_errmsg(tx), rc);
  cnet_nft_tx_free(tx);
  return rc;
}

#ifdef CNET_LIBFUZZER
/* libFuzzer: the first byte picks the family, the rest is the rule (up to -max_len). */
int LLVMFuzzerInitialize(int *argc, char ***argv) {
  (void)argc;
  (void)argv;
  if (setup() < 0) abort();
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 1) return 0;
  char *in = malloc(size);
  memcpy(in, data + 1, size - 1);
  in[size - 1] = '\0';
  fuzz_one(famnum(data[0] % 3), in);
  free(in);
  if (failures) abort();
  return 0;
}
#else

/* ---- the generator ---- */

static uint64_t rng;
static uint32_t rnd(void) { /* xorshift64* */
  rng ^= rng >> 12;
  rng ^= rng << 25;
  rng ^= rng >> 27;
  return (uint32_t)((rng * 2685821657736338717ULL) >> 32);
}
static uint32_t below(uint32_t n) { return n ? rnd() % n : 0; }
static int chance(unsigned percent) { return below(100) < percent; }

struct str { char *p; size_t len, cap; };
static void put(struct str *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(struct str *s, const char *fmt, ...) {
  va_list ap;
  for (;;) {
    va_start(ap, fmt);
    size_t room = s->cap - s->len;
    int n = vsnprintf(s->p ? s->p + s->len : NULL, room, fmt, ap);
    va_end(ap);
    if ((size_t)n < room) { s->len += (size_t)n; return; }
    s->cap = (s->cap + (size_t)n + 64) * 2;
    s->p = realloc(s->p, s->cap);
  }
}

/* A name of n characters (letters, digits, and now and then something odd). */
static void name(struct str *s, size_t n) {
  static const char ok[] = "abcdefghijklmnopqrstuvwxyz0123456789_-.";
  static const char odd[] = "*\\$@:/{},\" \t";
  for (size_t i = 0; i < n; i++)
    put(s, "%c", chance(2) ? odd[below(sizeof odd - 1)] : ok[below(sizeof ok - 1)]);
}

static size_t length(void) { /* mostly short, sometimes long, rarely huge */
  if (chance(85)) return 1 + below(12);
  if (chance(90)) return below(400);
  return below(70000);
}

/* Values: valid ones, except in a sloppy rule (a bad prefix length, a port past 65535, a
 * backward range): one bad element makes a whole set refused, so the big sets that reach
 * the serializer come from careful rules. */
static int sloppy;

static void v4(struct str *s, uint32_t pool) {
  uint32_t a = pool ? below(pool) : rnd();
  put(s, "%u.%u.%u.%u", a >> 24, (a >> 16) & 255, (a >> 8) & 255, a & 255);
  if (chance(15)) put(s, "/%u", sloppy ? below(34) : chance(90) ? 24 + below(9) : 1 + below(32));
  else if (chance(10)) {
    uint32_t b = sloppy ? rnd() : a + below(1000);
    if (b < a) b = a;
    put(s, "-%u.%u.%u.%u", b >> 24, (b >> 16) & 255, (b >> 8) & 255, b & 255);
  }
}
static void v6(struct str *s) {
  put(s, "%x:%x::%x", below(65536), below(65536), below(65536));
  if (chance(15)) put(s, "/%u", sloppy ? below(130) : chance(90) ? 100 + below(29) : 1 + below(128));
}
static void port(struct str *s, uint32_t pool) {
  uint32_t p = pool ? below(pool) % 65536 : below(sloppy ? 70000 : 65536);
  put(s, "%u", p);
  if (chance(10)) put(s, "-%u", sloppy ? below(70000) : p + below(65536 - p < 50 ? 65536 - p : 50));
}

/* "{ a, b, ... }" of n elements of one kind; a small value pool makes duplicates. */
static void set_of(struct str *s, int kind, uint32_t n) {
  uint32_t pool = chance(30) ? 1 + below(n + 1) : 0;
  put(s, "{ ");
  for (uint32_t i = 0; i < n; i++) {
    if (i) put(s, sloppy && chance(1) ? " " : ", ");
    if (kind == 0) v4(s, pool);
    else if (kind == 1) v6(s);
    else port(s, pool);
  }
  if (!sloppy || !chance(2)) put(s, " }");
}

static uint32_t set_size(void) {
  if (chance(65)) return 1 + below(8);
  if (chance(90)) return below(2000);
  return 8200 + below(4000); /* past the 8,182 elements that once overflowed */
}

/* What a careful rule keeps consistent: its network protocol (4 or 6) and its transport
 * ("tcp", "udp" or none yet), so that its matches do not conflict. */
static int l3;
static const char *l4;

static void match(struct str *s) {
  const char *ip = l3 == 4 ? "ip" : "ip6";
  if (!sloppy && l4 == NULL && chance(30)) l4 = chance(50) ? "tcp" : "udp";
  const char *tp = sloppy || l4 == NULL ? (chance(50) ? "tcp" : "udp") : l4;
  switch (below(13)) {
  case 0: put(s, "%s %s %s", sloppy && chance(20) ? "ip6" : ip, chance(50) ? "saddr" : "daddr",
              chance(10) ? "!= " : "");
          if (chance(30)) set_of(s, l3 == 4 ? 0 : 1, set_size());
          else if (l3 == 4) v4(s, 0);
          else v6(s);
          break;
  case 1: case 2:
          if (!sloppy && l4 == NULL) l4 = tp;
          put(s, "%s %s ", tp, chance(50) ? "sport" : "dport");
          if (chance(40)) set_of(s, 2, set_size()); else port(s, 0); break;
  case 3: put(s, "%s \"", chance(50) ? "iifname" : "oifname"); name(s, length() % 40);
          put(s, "\""); break;
  case 4: put(s, "ct state %s", chance(50) ? "established,related" : "new"); break;
  case 5: if (sloppy || l4 == NULL) put(s, "meta l4proto %s", chance(50) ? "tcp" : "{ tcp, udp, 47 }");
          break;
  case 6: put(s, "meta mark 0x%x", rnd()); break;
  case 7: if (l3 == 4 || sloppy) put(s, "icmp type %s", chance(50) ? "echo-request" : "{ 0, 8, 11 }");
          break;
  case 8: put(s, "%s saddr @", ip);
          if (chance(80)) put(s, l3 == 4 ? "s4" : "s6");
          else name(s, length() % 400);
          break;
  case 9: if (!sloppy && l4 == NULL) l4 = "tcp";
          put(s, "%s dport @sp", sloppy ? tp : l4); break;
  case 10: put(s, "%s lo", chance(50) ? "iif" : "oif"); break;
  case 11: if (l3 == 4 || sloppy) put(s, "ip protocol %s", chance(50) ? "udp" : "{ icmp, igmp }");
           break;
  default: put(s, "mark != %u", rnd()); break;
  }
}

static void statement(struct str *s) {
  switch (below(13)) {
  case 0: put(s, "counter"); break;
  case 1: put(s, "log prefix \""); name(s, length() % 200); put(s, "\""); break;
  case 2: put(s, "limit rate %u/%s", below(100000), chance(50) ? "second" : "minute"); break;
  case 3: put(s, "meta mark set 0x%x", rnd()); break;
  case 4: put(s, "accept"); break;
  case 5: put(s, "drop"); break;
  case 6: put(s, "jump "); if (chance(80)) put(s, "x"); else name(s, length() % 400); break;
  case 7: put(s, "reject"); break;
  case 8: put(s, "masquerade%s", chance(30) ? " to :1024-2048" : ""); break;
  case 9: put(s, "dnat to "); v4(s, 0); if (chance(40)) put(s, ":%u", below(70000)); break;
  case 10: put(s, "snat to "); v4(s, 0); break;
  case 11: put(s, "redirect to :%u", below(70000)); break;
  default: put(s, "comment \""); name(s, length() % 200); put(s, "\""); break;
  }
}

/* A rule: some matches, some statements; now and then one repeated many times. */
static void rule(struct str *s, int fam) {
  unsigned nm = below(4), nst = 1 + below(3);
  sloppy = chance(20);
  l3 = fam == NFPROTO_IPV6 || (fam == NFPROTO_INET && chance(50)) ? 6 : 4;
  l4 = NULL;
  if (chance(3)) { /* a big set alone, valid: what reaches the set's serialization */
    sloppy = 0;
    int kind = chance(50) ? 2 : l3 == 4 ? 0 : 1;
    if (kind == 2) put(s, "%s %s ", chance(50) ? "tcp" : "udp", chance(50) ? "sport" : "dport");
    else put(s, "%s %s ", l3 == 4 ? "ip" : "ip6", chance(50) ? "saddr" : "daddr");
    set_of(s, kind, 8200 + below(4000)); /* the kernel takes ~0.3 s to load one */
    put(s, " %s", chance(50) ? "accept" : "counter drop");
    return;
  }
  if (chance(5)) nm = below(300);
  if (chance(5)) nst = below(300);
  for (unsigned i = 0; i < nm; i++) { match(s); put(s, " "); }
  if (chance(3)) { /* one statement, hundreds or thousands of times */
    struct str one = {NULL, 0, 0};
    statement(&one);
    for (unsigned i = below(4000); i > 0; i--) put(s, "%s ", one.p);
    free(one.p);
  }
  for (unsigned i = 0; i < nst; i++) { statement(s); if (i + 1 < nst) put(s, " "); }
}

/* Mangles s in place: truncation, stray bytes, deep nesting, a huge word, a span doubled. */
static void mangle(struct str *s) {
  static const char stray[] = " {},\"!-/:.@*|x0[]\\\t";
  switch (below(6)) {
  case 0: if (s->len) s->len = below((uint32_t)s->len); break;
  case 1:
    for (unsigned k = 1 + below(4); k > 0 && s->len; k--)
      s->p[below((uint32_t)s->len)] = stray[below(sizeof stray - 1)];
    break;
  case 2: { /* "{ " nested thousands deep, at a random place */
    struct str t = {NULL, 0, 0};
    size_t at = below((uint32_t)s->len + 1);
    put(&t, "%.*s", (int)at, s->p ? s->p : "");
    for (unsigned d = below(20000); d > 0; d--) put(&t, "{ ");
    put(&t, "%s", s->p ? s->p + at : "");
    free(s->p);
    *s = t;
    break;
  }
  case 3: { /* one word of up to 1 MiB */
    size_t n = chance(20) ? below(1 << 20) : below(5000);
    put(s, " ");
    for (size_t i = 0; i < n; i++) put(s, "%c", 'a' + (int)(i % 26));
    break;
  }
  case 4: if (s->len) { /* a span doubled */
    size_t a = below((uint32_t)s->len), n = below((uint32_t)(s->len - a) + 1);
    char *span = strndup(s->p + a, n);
    put(s, " %s", span);
    free(span);
  } break;
  default: break;
  }
  if (s->p) s->p[s->len] = '\0';
}

static char **corpus;
static unsigned ncorpus;

static void load_corpus(void) {
  char path[4096], line[4096];
  snprintf(path, sizeof path, "%s", __FILE__);
  for (int up = 0; up < 2; up++) {
    char *slash = strrchr(path, '/');
    if (slash) *slash = '\0';
  }
  strncat(path, "/nftrule-oracle.txt", sizeof path - strlen(path) - 1);
  FILE *f = fopen(path, "r");
  if (f == NULL) return;
  while (fgets(line, sizeof line, f)) {
    line[strcspn(line, "\n")] = '\0';
    if (line[0] == '\0' || line[0] == '#') continue;
    int off = 0, bang = line[0] == '!';
    char fs[8], chain[32];
    if (sscanf(line + bang, "%7s %31s %n", fs, chain, &off) != 2) continue;
    char *text = strdup(line + bang + off), *arrow = strstr(text, " => ");
    if (arrow) *arrow = '\0';
    corpus = realloc(corpus, (ncorpus + 1) * sizeof *corpus);
    corpus[ncorpus++] = text;
  }
  fclose(f);
}

/* FNV-1a over the inputs made, family and text: equal for two runs that made the same ones. */
static uint64_t digest = 14695981039346656037ULL;
static void digest_input(int fam, const char *text) {
  digest = (digest ^ (uint64_t)fam) * 1099511628211ULL;
  for (const unsigned char *p = (const unsigned char *)text;; p++) {
    digest = (digest ^ *p) * 1099511628211ULL;
    if (*p == '\0') break;
  }
}

int main(void) {
  const char *e = getenv("CNET_FUZZ_INPUTS");
  long inputs = e ? atol(e) : -1;
  e = getenv("CNET_FUZZ_SECONDS");
  double seconds = e ? atof(e) : inputs >= 0 ? 1e12 : 15;
  e = getenv("CNET_FUZZ_SEED");
  uint64_t seed = e ? strtoull(e, NULL, 0) : (uint64_t)time(NULL) * 2654435761u;
  if (seed == 0) seed = 1; /* xorshift stays at 0 */
  rng = seed;
  /* before anything can fail: a crash or ctest's TIMEOUT must not take the seed along */
  printf("nft fuzz: seed %llu (replay: CNET_FUZZ_SEED=%llu)\n", (unsigned long long)seed,
         (unsigned long long)seed);
  fflush(stdout);
  if (setup() < 0) return 1;
  load_corpus();
  struct timespec t0, t;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  for (long i = 0; i != inputs; i++) {
    clock_gettime(CLOCK_MONOTONIC, &t);
    if (t.tv_sec - t0.tv_sec + (t.tv_nsec - t0.tv_nsec) / 1e9 >= seconds) break;
    struct str s = {NULL, 0, 0};
    int fam = famnum((int)below(3));
    put(&s, "%s", "");
    if (ncorpus && chance(30)) put(&s, "%s", corpus[below(ncorpus)]);
    else rule(&s, fam);
    if (chance(5)) { put(&s, " "); rule(&s, fam); } /* two rules run together */
    if (chance(30)) mangle(&s);
    digest_input(fam, s.p);
    fuzz_one(fam, s.p);
    free(s.p);
    if (failures > 20) break;
  }
  clock_gettime(CLOCK_MONOTONIC, &t);
  printf("nft fuzz (seed %llu, %.1f s): %ld inputs (digest %016llx), %ld compiled, %ld "
         "committed (%ld listed back identically), %ld refused by the kernel; %d failure(s)\n",
         (unsigned long long)seed, t.tv_sec - t0.tv_sec + (t.tv_nsec - t0.tv_nsec) / 1e9, tried,
         (unsigned long long)digest, compiled, committed, listed, kernel_refused, failures);
  for (unsigned i = 0; i < ncorpus; i++) free(corpus[i]);
  free(corpus);
  cnet_netns_close(ns);
  return failures ? 1 : 0;
}
#endif
