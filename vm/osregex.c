/* osregex.c — the native OS_Regex matcher (the osregex_* half of osregex.h).
 *
 * Written from the behaviour in SCA-SEMANTICS §4.1-§4.3 and tuned until it reproduces every value
 * of shared/conformance/osregex-vectors.json (match, groups and the returned "end" pointer). It is
 * the reference engine: the compiler only moves a pattern to PCRE2 when osregex_lower.c can show
 * that both agree, so every quirk below is deliberate.
 *
 * Compiled form. Each top-level alternative becomes a byte string in which literals are lower-cased
 * (ASCII A-Z only), escapes stay as two bytes "\x" (a following '+' or '*' makes them quantified),
 * and '(' ')' stay as group markers. '^' in first and '$' in last position become flags. The string
 * is padded with NULs so the scanner may look a few bytes ahead.
 *
 * Scanner (one alternative). A cursor pt walks the pattern and st the subject; attempts start at
 * successive subject positions. Per subject byte:
 *  - a group marker under pt is recorded (its slot gets st) and skipped, one per byte: a second
 *    marker right behind it is then compared as a literal, which is why ")(" never matches;
 *  - an unquantified escape or a literal consumes the byte (the first such byte of the attempt is
 *    remembered as the restart point);
 *  - a quantified escape that matches keeps consuming. From its second byte on ('*': from the
 *    first) it peeks at the next token (one group marker skipped): if that token accepts the byte
 *    the scanner jumps to it ("lazy transition") and pushes (pt, st) on a 4-entry restart stack;
 *    when the pattern ends right after the token it just goes on; otherwise the peek "fails" and
 *    the run goes on. The first byte of a '+' run records a group marker right behind the token
 *    at that byte (a stale value that a later pass over the marker overwrites);
 *  - a quantified escape that does not match: if it is the last token and has matched, the match
 *    ends here; a '*' token, or a '+' token that has matched, is skipped and the byte is tried
 *    again with the next token ('*' also moves the returned end pointer back one byte);
 *  - anything else fails: pop the restart stack, or with '^' give up, or restart the pattern one
 *    byte after the remembered restart point (or after the failing byte) with all groups cleared.
 * When the subject ends, the attempt succeeds only if what is left of the pattern is empty, a
 * quantified token followed by at most two '*' tokens while the "has matched" flag is set (the
 * flag can be stale: it survives a jump over '*' tokens to a later '+' token), or a single '*'
 * token; group markers around them are tolerated in a few places. Before that check one pending
 * group marker is recorded at the end of the subject: right behind a matched '+' token only if no
 * peek failed during its run, otherwise the first marker after any run of '*' tokens.
 * The result pointer is cleared by a restart and set by the byte-consuming steps except the peek
 * that finds the pattern's end; an attempt that sets nothing after a restart does not match.
 * A group is reported for each complete (open, close) pair from the first one on.
 *
 * The subject is a C string for Wazuh: an embedded NUL ends it. */
#include "osregex.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "osregex_class.h"

#define OSREGEX_MAX_PATTERN 20480
#define PAD 8         /* NUL bytes after each compiled alternative */
#define STACK_SLOTS 4 /* OS_Regex keeps at most four restart points */
#define LOCAL_SLOTS 64

#define F_BEGIN 0x1u
#define F_END 0x2u

typedef struct alt {
  unsigned char *p; /* compiled alternative, PAD NULs after it */
  int32_t *slot;    /* per byte of p: group slot of a '(' or ')' there, else -1 */
  int nslots;       /* 2 * number of groups */
  unsigned flags;   /* F_BEGIN, F_END */
} alt;

struct osregex {
  alt *alts;
  int nalts;
  int maxslots;
};

static unsigned lower(unsigned c) { return (c >= 'A' && c <= 'Z') ? c + 32 : c; }
static int is_quant(unsigned c) { return c == '+' || c == '*'; }
static int is_paren(unsigned c) { return c == '(' || c == ')'; }

/* Build one alternative from pattern bytes [s, s+n) (already split at top-level '|'). */
static int alt_build(alt *a, const char *s, size_t n) {
  size_t i = 0, last = (size_t)-1; /* start of the last token */
  a->flags = 0;
  if (n > 0 && s[0] == '^') {
    a->flags |= F_BEGIN;
    i = 1;
  }
  for (size_t j = i; j < n; j += (s[j] == '\\') ? 2 : 1)
    last = j;
  if (n > i && last == n - 1 && s[n - 1] == '$') {
    a->flags |= F_END;
    n--;
  }
  size_t len = n - i;
  a->p = calloc(len + PAD, 1);
  a->slot = malloc((len + PAD) * sizeof *a->slot);
  if (!a->p || !a->slot) return -1;
  a->nslots = 0;
  for (size_t k = 0; k < len + PAD; k++)
    a->slot[k] = -1;
  for (size_t k = 0; k < len; k++) {
    unsigned c = (unsigned char)s[i + k];
    if (c == '\\') {
      a->p[k] = '\\';
      a->p[k + 1] = (unsigned char)s[i + k + 1];
      k++;
    } else {
      a->p[k] = (unsigned char)lower(c);
      if (is_paren(c)) a->slot[k] = a->nslots++;
    }
  }
  return 0;
}

osregex *osregex_compile(const char *pattern, char *err, size_t errlen) {
  if (!pattern) {
    tn_err_set(err, errlen, TN_EREGEX, "null pattern");
    return NULL;
  }
  size_t n = strlen(pattern);
  if (n > OSREGEX_MAX_PATTERN) {
    tn_err_set(err, errlen, TN_EREGEX, "pattern too long");
    return NULL;
  }
  int depth = 0, nalts = 1;
  for (size_t i = 0; i < n; i++) {
    char c = pattern[i];
    if (c == '\\') {
      if (i + 1 >= n || !osregex_class_is_escape((unsigned char)pattern[i + 1])) {
        tn_err_set(err, errlen, TN_EREGEX, "invalid escape");
        return NULL;
      }
      i++;
    } else if (c == '(') {
      if (++depth > 1) {
        tn_err_set(err, errlen, TN_EREGEX, "nested parenthesis");
        return NULL;
      }
    } else if (c == ')') {
      if (--depth < 0) {
        tn_err_set(err, errlen, TN_EREGEX, "unbalanced parenthesis");
        return NULL;
      }
    } else if (c == '|') {
      if (depth) {
        tn_err_set(err, errlen, TN_EREGEX, "'|' inside parenthesis");
        return NULL;
      }
      nalts++;
    }
  }
  if (depth) {
    tn_err_set(err, errlen, TN_EREGEX, "unbalanced parenthesis");
    return NULL;
  }
  osregex *re = calloc(1, sizeof *re);
  if (!re || !(re->alts = calloc((size_t)nalts, sizeof *re->alts))) {
    free(re);
    tn_err_set(err, errlen, TN_ENOMEM, "out of memory");
    return NULL;
  }
  size_t start = 0;
  for (size_t i = 0; i <= n; i++) {
    if (i < n && pattern[i] == '\\') {
      i++;
      continue;
    }
    if (i < n && pattern[i] != '|') continue;
    alt *a = &re->alts[re->nalts++];
    if (alt_build(a, pattern + start, i - start) != 0) {
      osregex_free(re);
      tn_err_set(err, errlen, TN_ENOMEM, "out of memory");
      return NULL;
    }
    if (a->nslots > re->maxslots) re->maxslots = a->nslots;
    start = i + 1;
  }
  return re;
}

void osregex_free(osregex *re) {
  if (!re) return;
  for (int i = 0; i < re->nalts; i++) {
    free(re->alts[i].p);
    free(re->alts[i].slot);
  }
  free(re->alts);
  free(re);
}

/* Per-attempt scanner state. */
typedef struct scan {
  const alt *a;
  const unsigned char *s;
  long n;
  long *val;          /* group slot values */
  unsigned char *set; /* which slots hold a value */
  long stk_pt[STACK_SLOTS], stk_st[STACK_SLOTS];
  int depth;
} scan;

#define NONE (-2L) /* "NULL" result pointer; -1 is a valid "one before the subject" */

static void rec(scan *sc, long pos, long st) {
  int k = sc->a->slot[pos];
  if (k < 0) return;
  sc->val[k] = st;
  sc->set[k] = 1;
}

static int end_str(const unsigned char *p, long q) { return p[q] == 0 || (p[q] == ')' && p[q + 1] == 0); }

/* End of subject: record one pending group marker and decide whether the attempt succeeded. */
static long at_end(scan *sc, long pt, int rm, int fp, long r) {
  const unsigned char *p = sc->a->p;
  if (sc->a->nslots > 0) {
    if (p[pt] == '\\' && p[pt + 2] == '+' && rm && is_paren(p[pt + 3]) && !fp) {
      rec(sc, pt + 3, sc->n);
    } else {
      while (p[pt] && !is_paren(p[pt]) && p[pt] == '\\' && p[pt + 2] == '*')
        pt += 3;
      if (is_paren(p[pt])) rec(sc, pt++, sc->n);
    }
  }
  long q = pt;
  if (p[q] == 0) return r;
  if (p[q] == '\\' && rm) {
    q += 2;
    if (is_quant(p[q])) {
      q++;
      if (is_paren(p[q])) q++;
      if (end_str(p, q)) return r;
      if (p[q] == '\\') {
        q += 2;
        if (p[q] == '*' && end_str(p, ++q)) return r;
      }
    }
  }
  if (p[q] == '\\') {
    q += 2;
    if (p[q] == '*' && end_str(p, ++q)) return r;
  }
  return NONE;
}

/* Run one alternative. Returns the result pointer as an offset (NONE: no match). */
static long run(scan *sc) {
  const alt *a = sc->a;
  const unsigned char *p = a->p, *s = sc->s;
  const long n = sc->n;
  const int begin = (a->flags & F_BEGIN) != 0, end = (a->flags & F_END) != 0;
  long r = 0, st = 0, restart = -1, pt = 0;
  int rm = 0, fp = 0;
  sc->depth = 0;
  memset(sc->set, 0, (size_t)a->nslots);
  if (n == 0) return at_end(sc, pt, rm, fp, r);
  for (;;) {
    int ok = 0;
    unsigned c = s[st];
    if (p[pt] == 0) {
      if (!end) return r;
    } else if (is_paren(p[pt])) {
      rec(sc, pt++, st);
      if (p[pt] == 0 && !end) return r;
    }
    if (p[pt] == '\\') {
      unsigned e = p[pt + 1], q = p[pt + 2];
      if (osregex_class_has(e, c)) {
        ok = 1;
        if (!is_quant(q)) {
          pt += 2;
          if (restart < 0) restart = st;
          r = st;
        } else if (q == '*' || rm) {
          long nx = pt + 3;
          int step = -1;
          rm = 1;
          if (is_paren(p[nx])) nx++;
          if (p[nx] == 0) {
            step = 1;
          } else if (p[nx] == '\\') {
            if (osregex_class_has(p[nx + 1], c)) step = is_quant(p[nx + 2]) ? 0 : 2;
          } else if (p[nx] == lower(c)) {
            rm = 0;
            step = 1;
          }
          if (step < 0) {
            fp = 1;
            r = st;
          } else if (p[nx] != 0) {
            if (is_paren(p[nx - 1])) rec(sc, nx - 1, st);
            if (sc->depth < STACK_SLOTS) {
              sc->stk_pt[sc->depth] = pt;
              sc->stk_st[sc->depth++] = st;
            }
            pt = nx + step;
            fp = 0;
            r = st;
          }
        } else {
          if (is_paren(p[pt + 3])) rec(sc, pt + 3, st);
          rm = 1;
          fp = 0;
          r = st;
        }
      } else if (is_quant(q) && p[pt + 3] == 0 && rm) {
        r = st;
        if (!end) return r;
      } else if (q == '*') {
        pt += 3;
        r = st - 1;
        rm = fp = 0;
        st--;
        ok = 1;
      } else if (q == '+' && rm) {
        pt += 3;
        rm = fp = 0;
        st--;
        ok = 1;
      }
      if (!ok) rm = 0;
    } else if (p[pt] == lower(c)) {
      pt++;
      if (restart < 0) restart = st;
      r = st;
      ok = 1;
    }
    if (!ok) {
      if (sc->depth > 0) {
        sc->depth--;
        pt = sc->stk_pt[sc->depth];
        st = sc->stk_st[sc->depth];
      } else {
        if (begin) return NONE;
        if (restart >= 0) {
          st = restart;
          restart = -1;
        }
        memset(sc->set, 0, (size_t)a->nslots);
        rm = fp = 0;
        pt = 0;
        r = NONE;
      }
    }
    if (++st >= n) break;
  }
  return at_end(sc, pt, rm, fp, r);
}

/* See osregex.h. *end is SIZE_MAX when OS_Regex's pointer lies one byte before the subject (a '*'
 * token skipped at the first byte, then the pattern ended: "\\d*" on "x"). */
int osregex_exec(const osregex *re, const char *subject, size_t len, size_t (*groups)[2], int maxgroups,
                 int *ngroups, size_t *end) {
  if (ngroups) *ngroups = 0;
  if (!re || !subject) return 0;
  const char *nul = memchr(subject, 0, len);
  long n = (long)(nul ? (size_t)(nul - subject) : len);
  long lval[LOCAL_SLOTS];
  unsigned char lset[LOCAL_SLOTS];
  scan sc = {.s = (const unsigned char *)subject, .n = n, .val = lval, .set = lset};
  if (re->maxslots > LOCAL_SLOTS) {
    sc.val = malloc((size_t)re->maxslots * sizeof *sc.val);
    sc.set = malloc((size_t)re->maxslots);
    if (!sc.val || !sc.set) {
      free(sc.val);
      free(sc.set);
      return 0;
    }
  }
  int matched = 0;
  for (int i = 0; i < re->nalts && !matched; i++) {
    sc.a = &re->alts[i];
    long r = run(&sc);
    if (r == NONE) continue;
    matched = 1;
    if (end) *end = r < 0 ? SIZE_MAX : (size_t)r;
    int g = 0;
    for (int k = 0; k + 1 < sc.a->nslots && sc.set[k] && sc.set[k + 1]; k += 2) {
      if (groups && g < maxgroups) {
        long o = sc.val[k], c = sc.val[k + 1];
        groups[g][0] = (size_t)o;
        groups[g][1] = (size_t)(c < o ? n : c); /* Wazuh's strncpy runs to the NUL */
      }
      g++;
    }
    if (ngroups) *ngroups = g < maxgroups ? g : maxgroups;
  }
  if (sc.val != lval) {
    free(sc.val);
    free(sc.set);
  }
  return matched;
}
