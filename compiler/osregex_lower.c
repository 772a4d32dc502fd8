/* osregex_lower.c — OS_Regex → PCRE2, only when provably equivalent (see osregex_lower.h).
 *
 * The native scanner (vm/osregex.c) is not a backtracking engine: a quantified escape ("\x+",
 * "\x*") runs greedily, peeking at the next token and jumping to it lazily when it accepts the
 * current byte; a failed attempt restarts after the first literal it consumed (or after the
 * failing byte), not at the next start position; at the end of the subject only a few pending
 * '*' tokens are accepted; and captures are recorded in passing, with known gaps. A lowering is
 * emitted only when, for every alternative, all of the following hold (each closes one of those
 * gaps; "First(rest)" is the set of bytes that can start what follows a token: the next token,
 * and the ones after it while they are '*' tokens; the empty rest has no bytes):
 *
 *  D  Every quantified token's class is disjoint from First(rest). Then a run never stops early:
 *     the lazy peek never succeeds, no restart point is pushed, and the maximal munch OS_Regex
 *     takes is the only split a backtracking engine can use too (giving bytes back cannot help,
 *     they would have to start the rest). PCRE2 gets possessive quantifiers, equal under D.
 *     Classes are OS_Regex's byte tables, declared once in vm/osregex_class.def with their PCRE2
 *     equivalents (\s is only the space, \w has - @ _, \p is its own punctuation set, \. is any
 *     byte); literals fold ASCII A-Z only (PCRE2's (?i) without UTF).
 *  R  Unanchored alternatives may begin with at most one quantified token, or with several that
 *     are all '*' tokens (and then group 1 must open after them). With D, every start position
 *     the native scanner skips after a failure then provably cannot begin a match, or the next
 *     position it does try begins one with the same captures, so both engines find the same
 *     leftmost match. Anchored ('^') alternatives make one attempt, like PCRE2's ^.
 *  E  At the end of the subject the native acceptance test (simulated here for every state an
 *     attempt can be in when the subject runs out: inside each quantified run, right after each
 *     literal or single escape, and at the start for the empty subject) agrees with PCRE2's,
 *     which accepts when everything left can match empty. This rules out e.g. a literal followed
 *     by two trailing '*' tokens, or three '*' tokens pending. One disagreement is repaired
 *     instead: inside a '*' run OS_Regex keeps a stale "has matched" flag and so accepts a
 *     pending '+' token ("x\s*(\d+)" matches "x " natively, without a group). Each such state gets
 *     a branch "the tokens before the run, the run, \z" in (?|...), capturing group 1 only when it
 *     closed before the run, as OS_Regex records it (a run inside group 1 is allowed only when a
 *     token other than '*' stands between it and the ')', which then stays unrecorded: no group);
 *     the run may not be one of the leading '*' tokens of an unanchored alternative (OS_Regex
 *     never tries that alternative's last start position).
 *  N  No alternative is a lone '*' token with '$' and without '^' (after a failed attempt OS_Regex
 *     forgets its start and the '*' run never records one, so "\d*$" fails on "ab12"); a bare '$'
 *     alternative only matches the empty subject and becomes ^\z.
 *  G  Capture group 1 (the only one SCA reads; the other parentheses are dropped): its content and the
 *     rest cannot both match empty (OS_Regex records just one pending parenthesis at the end of
 *     the subject, so it would report no group); a '+' token inside it that may be running when
 *     the subject ends must be directly followed by the ')' that ends the alternative (otherwise
 *     the close is never recorded, or stays at the run's first byte after a failed peek).
 *     No group is empty and no ')' is directly followed by '(' (those never match natively).
 *  A  With several alternatives and any group, OS_Regex tries each alternative over the whole
 *     subject before the next one: the lowering is (?|^[\x00-\xff]*?(?:A)|...) so PCRE2 does the
 *     same, and numbers the groups per alternative as OS_Regex does. '^' is ^, '$' is \z.
 * tests/unit/test_lower.c checks this differentially on every pattern of the policy corpus. */
#include "osregex_lower.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "osregex.h"
#include "osregex_class.h"

#define PAD 8

enum { T_LIT, T_ESC, T_PLUS, T_STAR, T_OPEN, T_CLOSE };

typedef struct bset {
  uint8_t b[32];
} bset;

typedef struct tok {
  int kind;
  unsigned char ch; /* T_LIT: the (lower-cased) byte; escapes: the escape letter */
  size_t pos, len;  /* span in the compiled alternative */
  bset first;       /* bytes the token can consume */
} tok;

typedef struct alt {
  unsigned char *p; /* compiled like the native engine: lower-cased, escapes kept, NUL-padded */
  int begin, end;
  tok *t;
  size_t nt;
  size_t *core; /* indices (into t) of the non-parenthesis tokens */
  size_t ncore;
  int ngroups;
  size_t gopen, gclose; /* token indices of group 1's parentheses (nt when there is no group) */
  size_t *patch;        /* core indices of the quantified tokens whose end state needs a branch */
  size_t npatch;
} alt;

/* ---- byte sets -------------------------------------------------------------------------------- */

static void bs_add(bset *s, unsigned c) { s->b[c >> 3] |= (uint8_t)(1u << (c & 7)); }
static void bs_or(bset *a, const bset *b) {
  for (int i = 0; i < 32; i++)
    a->b[i] |= b->b[i];
}
static int bs_meets(const bset *a, const bset *b) {
  for (int i = 0; i < 32; i++)
    if (a->b[i] & b->b[i]) return 1;
  return 0;
}

/* Subject bytes a token accepts (NUL never reaches the matcher: it ends the subject). */
static void token_first(tok *t) {
  memset(&t->first, 0, sizeof t->first);
  for (unsigned c = 1; c < 256; c++) {
    int in = t->kind == T_LIT ? (c == t->ch || (c >= 'A' && c <= 'Z' && c + 32 == t->ch))
                              : osregex_class_has(t->ch, c);
    if (in) bs_add(&t->first, c);
  }
}

/* ---- parsing ---------------------------------------------------------------------------------- */

static int is_paren(unsigned c) { return c == '(' || c == ')'; }
static int is_quant(unsigned c) { return c == '+' || c == '*'; }

static void alt_clear(alt *a) {
  free(a->p);
  free(a->t);
  free(a->core);
  free(a->patch);
  memset(a, 0, sizeof *a);
}

/* Build one alternative from pattern bytes [s, s+n) the way the native compiler does. */
static int alt_parse(alt *a, const char *s, size_t n) {
  size_t i = 0, last = (size_t)-1;
  memset(a, 0, sizeof *a);
  if (n > 0 && s[0] == '^') {
    a->begin = 1;
    i = 1;
  }
  for (size_t j = i; j < n; j += (s[j] == '\\') ? 2 : 1)
    last = j;
  if (n > i && last == n - 1 && s[n - 1] == '$') {
    a->end = 1;
    n--;
  }
  size_t len = n - i;
  if (!(a->p = calloc(len + PAD, 1)) || !(a->t = calloc(len + 1, sizeof *a->t)) ||
      !(a->core = calloc(len + 1, sizeof *a->core)) || !(a->patch = calloc(len + 1, sizeof *a->patch)))
    return -1;
  for (size_t k = 0; k < len; k++) {
    unsigned c = (unsigned char)s[i + k];
    a->p[k] = (c >= 'A' && c <= 'Z') ? (unsigned char)(c + 32) : (unsigned char)c;
  }
  for (size_t k = 0; k < len;) {
    tok *t = &a->t[a->nt++];
    t->pos = k;
    unsigned c = a->p[k];
    if (c == '\\') {
      a->p[k + 1] = (unsigned char)s[i + k + 1]; /* escape letters keep their case */
      t->ch = a->p[k + 1];
      t->kind = is_quant(a->p[k + 2]) ? (a->p[k + 2] == '+' ? T_PLUS : T_STAR) : T_ESC;
      t->len = t->kind == T_ESC ? 2 : 3;
    } else if (is_paren(c)) {
      t->kind = c == '(' ? T_OPEN : T_CLOSE;
      t->len = 1;
      if (c == '(') a->ngroups++;
    } else {
      t->kind = T_LIT;
      t->ch = (unsigned char)c;
      t->len = 1;
    }
    if (t->kind != T_OPEN && t->kind != T_CLOSE) {
      token_first(t);
      a->core[a->ncore++] = a->nt - 1;
    }
    k += t->len;
  }
  a->gopen = a->gclose = a->nt;
  for (size_t k = 0; k < a->nt; k++) {
    if (a->t[k].kind == T_OPEN && a->gopen == a->nt) a->gopen = k;
    if (a->t[k].kind == T_CLOSE && a->gclose == a->nt) a->gclose = k;
  }
  return 0;
}

/* ---- analysis --------------------------------------------------------------------------------- */

static const tok *core_tok(const alt *a, size_t i) { return &a->t[a->core[i]]; }

/* Can core tokens [from, to) all match empty? */
static int nullable(const alt *a, size_t from, size_t to) {
  for (size_t i = from; i < to; i++)
    if (core_tok(a, i)->kind != T_STAR) return 0;
  return 1;
}

/* Bytes that can start what follows core token i. */
static bset first_rest(const alt *a, size_t i) {
  bset s;
  memset(&s, 0, sizeof s);
  for (size_t j = i + 1; j < a->ncore; j++) {
    bs_or(&s, &core_tok(a, j)->first);
    if (core_tok(a, j)->kind != T_STAR) break;
  }
  return s;
}

static int end_str(const unsigned char *p, size_t q) { return p[q] == 0 || (p[q] == ')' && p[q + 1] == 0); }

/* The native end-of-subject test (vm/osregex.c at_end) for an attempt at pattern offset pt. */
static int native_end_accepts(const alt *a, size_t pt, int rm) {
  const unsigned char *p = a->p;
  if (a->ngroups > 0 && !(p[pt] == '\\' && p[pt + 2] == '+' && rm && is_paren(p[pt + 3]))) {
    while (p[pt] && !is_paren(p[pt]) && p[pt] == '\\' && p[pt + 2] == '*')
      pt += 3;
    if (is_paren(p[pt])) pt++;
  }
  size_t q = pt;
  if (p[q] == 0) return 1;
  if (p[q] == '\\' && rm) {
    q += 2;
    if (is_quant(p[q])) {
      q++;
      if (is_paren(p[q])) q++;
      if (end_str(p, q)) return 1;
      if (p[q] == '\\') {
        q += 2;
        if (p[q] == '*' && end_str(p, ++q)) return 1;
      }
    }
  }
  if (p[q] == '\\') {
    q += 2;
    if (p[q] == '*' && end_str(p, ++q)) return 1;
  }
  return 0;
}

/* Condition E: every state an attempt can be in when the subject ends. Where OS_Regex accepts
 * inside a quantified run that PCRE2 could not end on (a '*' run whose stale "matched" flag lets a
 * later '+' token pass), the state is recorded as a patch: a branch "prefix, then that run up to
 * the end of the subject" is added. Any other disagreement refuses the lowering. */
static int end_states(alt *a, size_t qprefix) {
  if (native_end_accepts(a, 0, 0) != nullable(a, 0, a->ncore)) return 0;
  for (size_t i = 0; i < a->ncore; i++) {
    const tok *t = core_tok(a, i);
    int run = t->kind == T_PLUS || t->kind == T_STAR;
    int pcre = nullable(a, i + 1, a->ncore);
    int native = run ? native_end_accepts(a, t->pos, 1) : native_end_accepts(a, t->pos + t->len, 0);
    if (native == pcre) continue;
    if (!run || pcre) return 0;
    if (a->gopen < a->core[i] && a->core[i] < a->gclose) { /* inside group 1: only when the */
      size_t j = i + 1;                                    /* close is never recorded */
      while (j < a->ncore && a->core[j] < a->gclose && core_tok(a, j)->kind == T_STAR)
        j++;
      if (t->kind != T_STAR || j >= a->ncore || a->core[j] > a->gclose) return 0;
    }
    if (!a->begin && qprefix >= 2 && i < qprefix) return 0; /* R: its last start is skipped */
    a->patch[a->npatch++] = i;
  }
  return 1;
}

/* Condition G for the alternative's first group. */
static int group_ok(const alt *a) {
  if (a->gopen == a->nt) return 1;
  size_t co = 0, cc = 0; /* core range of the content */
  for (size_t i = 0; i < a->ncore; i++) {
    if (a->core[i] < a->gopen) co = i + 1;
    if (a->core[i] < a->gclose) cc = i + 1;
  }
  if (nullable(a, co, cc) && nullable(a, cc, a->ncore)) return 0;
  for (size_t i = co; i < cc; i++) {
    const tok *t = core_tok(a, i);
    if (t->kind != T_PLUS || !nullable(a, i + 1, a->ncore)) continue;
    if (a->core[i] + 1 != a->gclose || a->gclose + 1 != a->nt) return 0;
  }
  return 1;
}

static int alt_ok(alt *a) {
  for (size_t k = 0; k + 1 < a->nt; k++) /* "()" and ")(" never match natively */
    if ((a->t[k].kind == T_OPEN || a->t[k].kind == T_CLOSE) &&
        (a->t[k + 1].kind == T_OPEN || a->t[k + 1].kind == T_CLOSE))
      return 0;
  for (size_t i = 0; i < a->ncore; i++) { /* D */
    const tok *t = core_tok(a, i);
    if (t->kind != T_PLUS && t->kind != T_STAR) continue;
    bset rest = first_rest(a, i);
    if (bs_meets(&t->first, &rest)) return 0;
  }
  size_t k = 0;
  if (!a->begin) { /* R */
    size_t plus = 0;
    while (k < a->ncore && (core_tok(a, k)->kind == T_PLUS || core_tok(a, k)->kind == T_STAR))
      plus += core_tok(a, k++)->kind == T_PLUS;
    if (k >= 2 && plus) return 0;
    if (k >= 2)
      for (size_t j = 0; j < a->nt && j < a->core[k - 1]; j++)
        if (a->t[j].kind == T_OPEN) return 0;
    if (a->end && a->ncore == 1 && core_tok(a, 0)->kind == T_STAR) return 0; /* N */
  }
  return end_states(a, k) && group_ok(a);
}

/* ---- emission --------------------------------------------------------------------------------- */

typedef struct out {
  char *s;
  size_t cap, n;
  int full;
} out;

static void put(out *o, const char *s) {
  size_t l = strlen(s);
  if (o->full || o->n + l + 1 > o->cap) {
    o->full = 1;
    return;
  }
  memcpy(o->s + o->n, s, l + 1);
  o->n += l;
}

static void put_byte(out *o, unsigned c) {
  char b[8];
  if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_')
    snprintf(b, sizeof b, "%c", c);
  else
    snprintf(b, sizeof b, "\\x%02x", c);
  put(o, b);
}

/* An escape's PCRE2 equivalent, from the same table the native matcher tests bytes with. */
static void put_class(out *o, unsigned e) {
  const char *pcre2 = osregex_class_pcre2(e);
  if (pcre2)
    put(o, pcre2);
  else
    o->full = 1; /* not an escape: osregex_compile refused the pattern already */
}

/* Tokens [0, upto) of an alternative; group 1's parentheses capture, the others are dropped
 * (they only mark positions for OS_Regex, which the conditions above already account for). */
static void emit_tokens(out *o, const alt *a, size_t upto, int capture) {
  if (a->begin) put(o, "^");
  for (size_t k = 0; k < upto; k++) {
    const tok *t = &a->t[k];
    switch (t->kind) {
    case T_LIT: put_byte(o, t->ch); break;
    case T_ESC: put_class(o, t->ch); break;
    case T_PLUS:
      put_class(o, t->ch);
      put(o, "++");
      break;
    case T_STAR:
      put_class(o, t->ch);
      put(o, "*+");
      break;
    case T_OPEN:
      if (capture && k == a->gopen) put(o, "(");
      break;
    default:
      if (capture && k == a->gclose) put(o, ")");
    }
  }
}

static void emit_alt(out *o, const alt *a) {
  if (a->ncore == 0 && a->end) { /* N: a bare '$' only matches the empty subject */
    put(o, "^\\z");
    return;
  }
  if (a->npatch) put(o, "(?|");
  emit_tokens(o, a, a->nt, 1);
  if (a->end) put(o, "\\z");
  for (size_t i = 0; i < a->npatch; i++) { /* E: the run of token patch[i] reaches the end */
    const tok *t = core_tok(a, a->patch[i]);
    put(o, "|");
    emit_tokens(o, a, a->core[a->patch[i]], a->core[a->patch[i]] > a->gclose);
    put_class(o, t->ch);
    put(o, "++\\z");
  }
  if (a->npatch) put(o, ")");
}

int osregex_lower(const char *pattern, char *outbuf, size_t outcap) {
  if (!pattern || !outbuf || !outcap) return 0;
  osregex *check = osregex_compile(pattern, NULL, 0);
  if (!check) return 0;
  osregex_free(check);
  size_t n = strlen(pattern), nalts = 1;
  for (size_t i = 0; i < n; i++) {
    if (pattern[i] == '\\')
      i++;
    else
      nalts += pattern[i] == '|';
  }
  alt *alts = calloc(nalts, sizeof *alts);
  if (!alts) return 0;
  int ok = 1, groups = 0;
  size_t na = 0, start = 0;
  for (size_t i = 0; i <= n && ok; i++) {
    if (i < n && pattern[i] == '\\') {
      i++;
      continue;
    }
    if (i < n && pattern[i] != '|') continue;
    alt *a = &alts[na++];
    ok = alt_parse(a, pattern + start, i - start) == 0 && alt_ok(a);
    groups += a->ngroups;
    start = i + 1;
  }
  if (ok) {
    out o = {outbuf, outcap, 0, 0};
    int ordered = na > 1 && groups > 0;
    put(&o, ordered ? "(?i)(?|" : "(?i)");
    for (size_t i = 0; i < na; i++) {
      if (i) put(&o, "|");
      if (ordered) put(&o, "^[\\x00-\\xff]*?");
      if (na > 1) put(&o, "(?:");
      emit_alt(&o, &alts[i]);
      if (na > 1) put(&o, ")");
    }
    if (ordered) put(&o, ")");
    ok = !o.full;
  }
  for (size_t i = 0; i < na; i++)
    alt_clear(&alts[i]);
  free(alts);
  return ok;
}
