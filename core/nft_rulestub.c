/* A stand-in for the rule language (cnet/nftrule.h) until its real implementation
 * (core/nftrule_*.c, another engineer's) is on main: it compiles and decodes only a handful
 * of constructs (iifname/oifname NAME, ip saddr/daddr ADDR[/LEN], counter, accept, drop,
 * return, masquerade), enough to test transactions and listings. The whole file compiles to
 * nothing once the real compiler's private header exists next to it. */
#if !__has_include("nftrule_int.h")

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <libnftnl/rule.h>
#include <libnftnl/expr.h>
#include <libnftnl/set.h>

#include "cnet/nftrule.h"

static int refuse(struct cnet_nftrule_err *err, const char *text, const char *tok, int rc,
                  const char *why) {
  if (err != NULL) {
    err->column = (int)(tok - text) + 1;
    snprintf(err->msg, sizeof err->msg, "rule \"%s\": column %d: %s", text, err->column, why);
  }
  return rc;
}

static struct nftnl_expr *ex(struct nftnl_rule *r, const char *name) {
  struct nftnl_expr *e = nftnl_expr_alloc(name);
  if (e != NULL) nftnl_rule_add_expr(r, e);
  return e;
}

static void verdict(struct nftnl_rule *r, int v) {
  struct nftnl_expr *e = ex(r, "immediate");
  nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_DREG, NFT_REG_VERDICT);
  nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_VERDICT, (uint32_t)v);
}

int cnet_nftrule_compile(const char *text, const struct cnet_nftrule_env *env,
                         struct nftnl_rule *r, struct cnet_nftrule_out *out,
                         struct cnet_nftrule_err *err) {
  (void)env;
  if (out != NULL) memset(out, 0, sizeof *out);
  char buf[512];
  if (strlen(text) >= sizeof buf) return refuse(err, text, text, -EINVAL, "rule too long");
  strcpy(buf, text);
  char *save = NULL;
  int words = 0;
  for (char *w = strtok_r(buf, " \t", &save); w; w = strtok_r(NULL, " \t", &save), words++) {
    const char *at = text + (w - buf);
    if (strcmp(w, "iifname") == 0 || strcmp(w, "oifname") == 0) {
      int in = w[0] == 'i';
      char *name = strtok_r(NULL, " \t", &save);
      if (name == NULL) return refuse(err, text, at, -EINVAL, "interface name expected");
      size_t n = strlen(name);
      if (n >= 2 && name[0] == '"' && name[n - 1] == '"') { name[n - 1] = '\0'; name++; }
      if (strlen(name) >= 16) return refuse(err, text, at, -EINVAL, "interface name too long");
      struct nftnl_expr *m = ex(r, "meta");
      nftnl_expr_set_u32(m, NFTNL_EXPR_META_KEY, in ? NFT_META_IIFNAME : NFT_META_OIFNAME);
      nftnl_expr_set_u32(m, NFTNL_EXPR_META_DREG, NFT_REG_1);
      char pad[16] = {0};
      strcpy(pad, name);
      struct nftnl_expr *c = ex(r, "cmp");
      nftnl_expr_set_u32(c, NFTNL_EXPR_CMP_SREG, NFT_REG_1);
      nftnl_expr_set_u32(c, NFTNL_EXPR_CMP_OP, NFT_CMP_EQ);
      nftnl_expr_set(c, NFTNL_EXPR_CMP_DATA, pad, (uint32_t)strlen(name) + 1);
    } else if (strcmp(w, "ip") == 0) {
      char *field = strtok_r(NULL, " \t", &save), *val = strtok_r(NULL, " \t", &save);
      if (field == NULL || val == NULL || (strcmp(field, "saddr") && strcmp(field, "daddr")))
        return refuse(err, text, at, -EOPNOTSUPP, "only ip saddr/daddr ADDR[/LEN] here");
      char *slash = strchr(val, '/');
      int plen = 32;
      if (slash) { *slash = '\0'; plen = atoi(slash + 1); }
      struct in_addr a;
      if (inet_pton(AF_INET, val, &a) != 1 || plen < 0 || plen > 32)
        return refuse(err, text, at, -EINVAL, "bad IPv4 address");
      struct nftnl_expr *p = ex(r, "payload");
      nftnl_expr_set_u32(p, NFTNL_EXPR_PAYLOAD_BASE, NFT_PAYLOAD_NETWORK_HEADER);
      nftnl_expr_set_u32(p, NFTNL_EXPR_PAYLOAD_OFFSET, field[0] == 's' ? 12 : 16);
      nftnl_expr_set_u32(p, NFTNL_EXPR_PAYLOAD_LEN, 4);
      nftnl_expr_set_u32(p, NFTNL_EXPR_PAYLOAD_DREG, NFT_REG_1);
      uint32_t mask = plen ? htonl(~0u << (32 - plen)) : 0;
      if (plen < 32) {
        uint32_t zero = 0;
        struct nftnl_expr *b = ex(r, "bitwise");
        nftnl_expr_set_u32(b, NFTNL_EXPR_BITWISE_SREG, NFT_REG_1);
        nftnl_expr_set_u32(b, NFTNL_EXPR_BITWISE_DREG, NFT_REG_1);
        nftnl_expr_set_u32(b, NFTNL_EXPR_BITWISE_LEN, 4);
        nftnl_expr_set(b, NFTNL_EXPR_BITWISE_MASK, &mask, 4);
        nftnl_expr_set(b, NFTNL_EXPR_BITWISE_XOR, &zero, 4);
      }
      uint32_t v = a.s_addr & mask;
      struct nftnl_expr *c = ex(r, "cmp");
      nftnl_expr_set_u32(c, NFTNL_EXPR_CMP_SREG, NFT_REG_1);
      nftnl_expr_set_u32(c, NFTNL_EXPR_CMP_OP, NFT_CMP_EQ);
      nftnl_expr_set(c, NFTNL_EXPR_CMP_DATA, &v, 4);
    } else if (strcmp(w, "counter") == 0) {
      ex(r, "counter");
    } else if (strcmp(w, "accept") == 0) {
      verdict(r, NF_ACCEPT);
    } else if (strcmp(w, "drop") == 0) {
      verdict(r, NF_DROP);
    } else if (strcmp(w, "return") == 0) {
      verdict(r, NFT_RETURN);
    } else if (strcmp(w, "masquerade") == 0) {
      ex(r, "masq");
    } else {
      return refuse(err, text, at, -EINVAL, "unknown word");
    }
  }
  if (words == 0) return refuse(err, text, text, -EINVAL, "empty rule");
  return 0;
}

void cnet_nftrule_out_free(struct cnet_nftrule_out *out) {
  if (out == NULL) return;
  for (unsigned i = 0; i < out->nsets; i++) nftnl_set_free(out->sets[i]);
  free(out->sets);
  out->sets = NULL;
  out->nsets = 0;
}

int cnet_nftrule_decode(const struct nftnl_rule *r, const struct cnet_nftrule_denv *env,
                        char *buf, size_t size, struct cnet_nftrule_err *err) {
  (void)env;
  size_t used = 0;
  int rc = 0;
  uint32_t meta = 0, off = 0, mask = ~0u;
  buf[0] = '\0';
#define OUT(...) do { int w_ = snprintf(buf + used, size - used, __VA_ARGS__); \
    if (w_ < 0 || (size_t)w_ >= size - used) { nftnl_expr_iter_destroy(it); return -ENOSPC; } \
    used += (size_t)w_; } while (0)
  struct nftnl_expr_iter *it = nftnl_expr_iter_create(r);
  if (it == NULL) return -ENOMEM;
  for (struct nftnl_expr *e = nftnl_expr_iter_next(it); e && rc == 0;
       e = nftnl_expr_iter_next(it)) {
    const char *name = nftnl_expr_get_str(e, NFTNL_EXPR_NAME);
    const char *sep = used ? " " : "";
    if (strcmp(name, "meta") == 0) {
      meta = nftnl_expr_get_u32(e, NFTNL_EXPR_META_KEY);
    } else if (strcmp(name, "payload") == 0) {
      off = nftnl_expr_get_u32(e, NFTNL_EXPR_PAYLOAD_OFFSET);
      mask = htonl(~0u << (32 - 8 * nftnl_expr_get_u32(e, NFTNL_EXPR_PAYLOAD_LEN)));
    } else if (strcmp(name, "bitwise") == 0) {
      uint32_t len;
      memcpy(&mask, nftnl_expr_get(e, NFTNL_EXPR_BITWISE_MASK, &len), 4);
    } else if (strcmp(name, "cmp") == 0) {
      uint32_t len;
      const char *d = nftnl_expr_get(e, NFTNL_EXPR_CMP_DATA, &len);
      if (meta) {
        OUT("%s%s \"%.*s\"", sep, meta == NFT_META_IIFNAME ? "iifname" : "oifname",
            (int)strnlen(d, len), d);
        meta = 0;
      } else {
        char a[INET_ADDRSTRLEN];
        unsigned char ad[4] = {0};
        memcpy(ad, d, len < 4 ? len : 4);
        inet_ntop(AF_INET, ad, a, sizeof a);
        int plen = __builtin_popcount(mask);
        if (plen == 32) OUT("%sip %s %s", sep, off == 12 ? "saddr" : "daddr", a);
        else OUT("%sip %s %s/%d", sep, off == 12 ? "saddr" : "daddr", a, plen);
      }
    } else if (strcmp(name, "counter") == 0) {
      OUT("%scounter packets %llu bytes %llu", sep,
          (unsigned long long)nftnl_expr_get_u64(e, NFTNL_EXPR_CTR_PACKETS),
          (unsigned long long)nftnl_expr_get_u64(e, NFTNL_EXPR_CTR_BYTES));
    } else if (strcmp(name, "immediate") == 0) {
      int v = (int)nftnl_expr_get_u32(e, NFTNL_EXPR_IMM_VERDICT);
      OUT("%s%s", sep, v == NF_ACCEPT ? "accept" : v == NF_DROP ? "drop" : "return");
    } else if (strcmp(name, "masq") == 0) {
      OUT("%smasquerade", sep);
    } else {
      OUT("%s%s", sep, name);
      if (err != NULL) snprintf(err->msg, sizeof err->msg, "unsupported expression %s", name);
      rc = -EOPNOTSUPP;
    }
  }
  nftnl_expr_iter_destroy(it);
#undef OUT
  return rc < 0 ? rc : (int)used;
}

#endif
