/* cnet_nftrule_compile: text -> tokens -> statements (parse) -> evaluated statements (eval)
 * -> libnftnl expressions and anonymous sets (emit). */
#include "nftrule/nr_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <linux/netfilter.h>
#include <libnftnl/set.h>

int cnet_nftrule_compile(const char *text, const struct cnet_nftrule_env *env,
                         struct nftnl_rule *r, struct cnet_nftrule_out *out,
                         struct cnet_nftrule_err *err) {
  struct nr_cc c;
  memset(&c, 0, sizeof c);
  c.text = text;
  c.env = env;
  c.r = r;
  c.out = out;
  c.err = err;
  c.family = env ? env->family : NFPROTO_INET;
  c.next_id = env && env->first_set_id ? env->first_set_id : 1;
  if (err) { err->column = 0; err->msg[0] = 0; }
  if (out) { out->sets = NULL; out->nsets = 0; }
  if (text == NULL || r == NULL) return -EINVAL;
  int n = nr_lex(text, &c.t);
  if (n < 0) return n;
  c.nt = n;
  int rc = nr_parse_rule(&c);
  if (rc == 0) rc = nr_eval_rule(&c);
  if (rc == 0) rc = nr_emit_rule(&c);
  if (rc == 0 && c.oom) rc = -ENOMEM;
  if (rc == -ENOMEM && err && err->msg[0] == 0) nr_fail(&c, -1, rc, "out of memory");
  free(c.t);
  nr_arena_free(&c.arena);
  if (rc < 0 && out) cnet_nftrule_out_free(out);
  return rc;
}

void cnet_nftrule_out_free(struct cnet_nftrule_out *out) {
  if (out == NULL) return;
  for (unsigned i = 0; i < out->nsets; i++)
    if (out->sets[i]) nftnl_set_free(out->sets[i]);
  free(out->sets);
  out->sets = NULL;
  out->nsets = 0;
}
