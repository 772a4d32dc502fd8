/* osmatch.c — Wazuh's OS_Match ("sregex", the osmatch_* half of osregex.h), used for d: file
 * names without r:. Written from SCA-SEMANTICS §4.6: a leading '!' negates the whole result, '|'
 * separates alternatives tried in order, and each alternative is a case-insensitive (ASCII A-Z)
 * literal with no escapes or wildcards:
 *   ^x$  equality      ^x  prefix      x$  suffix      x  substring      (empty: always matches)
 * The subject is a C string for Wazuh: an embedded NUL ends it. */
#include "osregex.h"

#include <stdlib.h>
#include <string.h>

#include "err.h"

enum { M_SUB, M_PREFIX, M_SUFFIX, M_EQUAL };

typedef struct malt {
  char *lit; /* lower-cased literal (owned) */
  size_t len;
  int kind; /* M_* */
} malt;

struct osmatch {
  int negate;
  int nalts;
  malt *alts;
};

static unsigned char fold(unsigned char c) { return (c >= 'A' && c <= 'Z') ? c + 32 : c; }

osmatch *osmatch_compile(const char *pattern, char *err, size_t errlen) {
  if (!pattern) {
    tn_err_set(err, errlen, TN_EREGEX, "null pattern");
    return NULL;
  }
  osmatch *m = calloc(1, sizeof *m);
  if (!m) goto oom;
  if (*pattern == '!') {
    m->negate = 1;
    pattern++;
  }
  int nalts = 1;
  for (const char *q = pattern; *q; q++)
    nalts += *q == '|';
  if (!(m->alts = calloc((size_t)nalts, sizeof *m->alts))) goto oom;
  for (const char *s = pattern;; s++) {
    const char *e = strchr(s, '|');
    size_t n = e ? (size_t)(e - s) : strlen(s);
    malt *a = &m->alts[m->nalts++];
    int pre = n > 0 && s[0] == '^';
    int suf = n > (size_t)pre && s[n - 1] == '$';
    a->kind = pre ? (suf ? M_EQUAL : M_PREFIX) : (suf ? M_SUFFIX : M_SUB);
    a->len = n - (size_t)pre - (size_t)suf;
    if (!(a->lit = malloc(a->len + 1))) goto oom;
    for (size_t i = 0; i < a->len; i++)
      a->lit[i] = (char)fold((unsigned char)s[pre + i]);
    a->lit[a->len] = 0;
    if (!e) break;
    s = e;
  }
  return m;
oom:
  osmatch_free(m);
  tn_err_set(err, errlen, TN_ENOMEM, "out of memory");
  return NULL;
}

void osmatch_free(osmatch *m) {
  if (!m) return;
  for (int i = 0; i < m->nalts; i++)
    free(m->alts[i].lit);
  free(m->alts);
  free(m);
}

/* Case-insensitive comparison of n subject bytes with a lower-cased literal. */
static int same(const char *s, const char *lit, size_t n) {
  for (size_t i = 0; i < n; i++)
    if (fold((unsigned char)s[i]) != (unsigned char)lit[i]) return 0;
  return 1;
}

static int alt_match(const malt *a, const char *s, size_t n) {
  switch (a->kind) {
  case M_EQUAL: return n == a->len && same(s, a->lit, n);
  case M_PREFIX: return n >= a->len && same(s, a->lit, a->len);
  case M_SUFFIX: return n >= a->len && same(s + n - a->len, a->lit, a->len);
  default:
    for (size_t i = 0; i + a->len <= n; i++)
      if (same(s + i, a->lit, a->len)) return 1;
    return 0;
  }
}

int osmatch_exec(const osmatch *m, const char *subject, size_t len) {
  if (!m || !subject) return 0;
  const char *nul = memchr(subject, 0, len);
  size_t n = nul ? (size_t)(nul - subject) : len;
  int hit = 0;
  for (int i = 0; i < m->nalts && !hit; i++)
    hit = alt_match(&m->alts[i], subject, n);
  return m->negate ? !hit : hit;
}
