/* regex.c — the VM's regex engines behind one interface (regex.h), and the only caller of PCRE2.
 *
 * RX_PCRE2 patterns are compiled with options 0 (case-sensitive, byte semantics, as Wazuh 4.x
 * does) or PCRE2_CASELESS, then JIT-compiled; RX_OSREGEX runs the native matcher (osregex.c) unless
 * the compiler supplied a lowered PCRE2 form proven equivalent, which runs on the JIT like any
 * PCRE2 pattern; RX_OSMATCH is always native.
 *
 * A compiled rx is immutable. The per-match scratch PCRE2 needs (match data, a match context with
 * a JIT stack) lives in thread-local storage, created on a thread's first match and freed when the
 * thread exits, so one rx can be shared by any number of threads.
 *
 * Subjects are (ptr, len) byte strings. Wazuh hands its engines C strings, so an embedded NUL ends
 * the subject for every engine. A lowered pattern (no end anchor, no lookaround: checked when it is
 * compiled) runs on the whole (ptr, len) and the NUL is looked for only in a match it found, which
 * keeps the hot no-match path free of an extra scan; any other pattern sees the truncated subject. */
#define PCRE2_CODE_UNIT_WIDTH 8
#include "regex.h"

#include <pcre2.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "osregex.h"

enum { K_OSREGEX, K_OSMATCH, K_PCRE2 };

struct rx {
  int kind;
  int warned;      /* a match error was logged for this pattern (set atomically, once) */
  char *source;    /* the pattern as written, for the log */
  int jit;         /* K_PCRE2: JIT compilation succeeded */
  int prefix_safe; /* K_PCRE2: a match within the subject's C-string prefix is found on the whole */
  osregex *os;
  osmatch *om;
  pcre2_code *code;
};

/* ---- thread-local scratch --------------------------------------------------------------------- */

typedef struct scratch {
  pcre2_match_data *md;
  pcre2_match_context *mctx;
  pcre2_jit_stack *stack;
  uint32_t limit; /* the limit set on mctx (0: PCRE2's defaults) */
} scratch;

static uint32_t g_match_limit;     /* rx_set_match_limit; 0: PCRE2's default, Wazuh's */
static size_t g_match_errors;      /* rx_match_errors */
static rx_log_fn g_log;            /* rx_set_log; NULL: stderr */

#define OVECTOR_PAIRS 16 /* group 1 is all we read; more groups just make rc 0 */
#define JIT_STACK_START (32 * 1024)
#define JIT_STACK_MAX (1024 * 1024)

static pthread_key_t scratch_key;
static pthread_once_t scratch_once = PTHREAD_ONCE_INIT;
static int scratch_key_ok;
static __thread scratch *tl_scratch;

static void scratch_free(void *p) {
  scratch *s = p;
  if (!s) return;
  pcre2_match_data_free(s->md);
  pcre2_match_context_free(s->mctx);
  pcre2_jit_stack_free(s->stack);
  free(s);
}

static void scratch_key_make(void) { scratch_key_ok = pthread_key_create(&scratch_key, scratch_free) == 0; }

static scratch *scratch_get(void) {
  if (tl_scratch) return tl_scratch;
  pthread_once(&scratch_once, scratch_key_make);
  scratch *s = calloc(1, sizeof *s);
  if (!s) return NULL;
  s->md = pcre2_match_data_create(OVECTOR_PAIRS, NULL);
  s->mctx = pcre2_match_context_create(NULL);
  s->stack = pcre2_jit_stack_create(JIT_STACK_START, JIT_STACK_MAX, NULL);
  if (!s->md || !s->mctx) {
    scratch_free(s);
    return NULL;
  }
  if (s->stack) pcre2_jit_stack_assign(s->mctx, NULL, s->stack);
  if (scratch_key_ok) pthread_setspecific(scratch_key, s);
  tl_scratch = s;
  return s;
}

/* ---- compile ---------------------------------------------------------------------------------- */

static pcre2_code *pcre_compile(const char *pattern, uint32_t options, char *err, size_t errlen) {
  int code;
  PCRE2_SIZE off;
  pcre2_code *c = pcre2_compile((PCRE2_SPTR)pattern, PCRE2_ZERO_TERMINATED, options, &code, &off, NULL);
  if (!c && err && errlen) {
    PCRE2_UCHAR msg[160];
    if (pcre2_get_error_message(code, msg, sizeof msg) < 0) strcpy((char *)msg, "error");
    snprintf(err, errlen, "%s at offset %zu", (const char *)msg, (size_t)off);
  }
  return c;
}

rx *rx_compile(const char *pattern, int dialect, unsigned flags, const char *lowered, char *err,
               size_t errlen) {
  if (err && errlen) err[0] = 0;
  if (!pattern) {
    if (err && errlen) snprintf(err, errlen, "null pattern");
    return NULL;
  }
  rx *r = calloc(1, sizeof *r);
  if (!r) {
    if (err && errlen) snprintf(err, errlen, "out of memory");
    return NULL;
  }
  if (dialect == RX_OSMATCH) {
    r->kind = K_OSMATCH;
    if (!(r->om = osmatch_compile(pattern, err, errlen))) goto fail;
    return r;
  }
  if (dialect == RX_OSREGEX && !lowered) {
    r->kind = K_OSREGEX;
    if (!(r->os = osregex_compile(pattern, err, errlen))) goto fail;
    return r;
  }
  if (dialect != RX_OSREGEX && dialect != RX_PCRE2) {
    if (err && errlen) snprintf(err, errlen, "unknown regex dialect %d", dialect);
    goto fail;
  }
  r->kind = K_PCRE2;
  uint32_t options = (dialect == RX_PCRE2 && (flags & RXF_CASELESS)) ? PCRE2_CASELESS : 0;
  if (!(r->code = pcre_compile(dialect == RX_OSREGEX ? lowered : pattern, options, err, errlen))) goto fail;
  r->jit = pcre2_jit_compile(r->code, PCRE2_JIT_COMPLETE) == 0;
  r->source = strdup(pattern);
  /* A lowered pattern keeps its exact native form: the answer when PCRE2 hits a limit. */
  if (dialect == RX_OSREGEX) r->os = osregex_compile(pattern, NULL, 0);
  r->prefix_safe = dialect == RX_OSREGEX && !strstr(lowered, "\\z") && !strstr(lowered, "\\Z") &&
                   !strchr(lowered, '$') && !strstr(lowered, "(?=") && !strstr(lowered, "(?!") &&
                   !strstr(lowered, "(?<") && !strstr(lowered, "\\b") && !strstr(lowered, "\\B");
  return r;
fail:
  free(r);
  return NULL;
}

void rx_free(rx *r) {
  if (!r) return;
  osregex_free(r->os);
  osmatch_free(r->om);
  pcre2_code_free(r->code);
  free(r->source);
  free(r);
}

const char *rx_engine(const rx *r) {
  if (!r) return "none";
  switch (r->kind) {
  case K_OSREGEX: return "osregex";
  case K_OSMATCH: return "osmatch";
  default: return r->jit ? "pcre2-jit" : "pcre2";
  }
}

/* ---- match ------------------------------------------------------------------------------------ */

static size_t c_len(const char *s, size_t len) {
  const char *nul = memchr(s, 0, len);
  return nul ? (size_t)(nul - s) : len;
}

static void apply_limit(scratch *s) {
  uint32_t want = __atomic_load_n(&g_match_limit, __ATOMIC_RELAXED);
  if (s->limit == want) return;
  uint32_t match = want, depth = want;
  if (!want) { /* back to this PCRE2 build's defaults */
    pcre2_config(PCRE2_CONFIG_MATCHLIMIT, &match);
    pcre2_config(PCRE2_CONFIG_DEPTHLIMIT, &depth);
  }
  pcre2_set_match_limit(s->mctx, match);
  pcre2_set_depth_limit(s->mctx, depth);
  s->limit = want;
}

/* PCRE2 match on (subject, len) as a C string; returns pcre2's rc (>= 0 on a match), the ovector
 * in s->md. The JIT runs on its default machine stack first and on the thread's larger stack only
 * when a pattern needs it; any other JIT error (its match limit counts differently) is settled by
 * the interpreter with the limits Wazuh's pcre2_match has, so a negative rc other than
 * PCRE2_ERROR_NOMATCH is the interpreter's own limit error. */
static int pcre_run(const rx *r, scratch *s, const char *subject, size_t len) {
  if (!r->prefix_safe) len = c_len(subject, len);
  apply_limit(s);
  pcre2_match_context *fast = s->limit ? s->mctx : NULL;
  for (int pass = 0; pass < 2; pass++) {
    int rc = PCRE2_ERROR_NOMATCH, done = 0;
    if (r->jit) {
      rc = pcre2_jit_match(r->code, (PCRE2_SPTR)subject, len, 0, 0, s->md, fast);
      if (rc == PCRE2_ERROR_JIT_STACKLIMIT && s->stack)
        rc = pcre2_jit_match(r->code, (PCRE2_SPTR)subject, len, 0, 0, s->md, s->mctx);
      done = rc >= 0 || rc == PCRE2_ERROR_NOMATCH;
    }
    if (!done) /* the interpreter: no JIT, or the JIT ran out of stack or hit a limit */
      rc = pcre2_match(r->code, (PCRE2_SPTR)subject, len, 0, r->jit ? PCRE2_NO_JIT : 0, s->md, s->mctx);
    if (rc < 0 || !r->prefix_safe || pass) return rc;
    PCRE2_SIZE end = pcre2_get_ovector_pointer(s->md)[1];
    if (!memchr(subject, 0, end < len ? end : len)) return rc;
    len = c_len(subject, len); /* the match crosses a NUL: look again in the C string */
  }
  return PCRE2_ERROR_NOMATCH;
}

/* A match error (PCRE2_ERROR_MATCHLIMIT, DEPTHLIMIT, HEAPLIMIT, ...) on a pattern with no native
 * form: counted, logged once per pattern, and read as no match — what Wazuh's SCA does with a
 * pcre2_match result that is not positive (SCA-SEMANTICS §4.5). */
static void note_error(const rx *r, int rc) {
  __atomic_add_fetch(&g_match_errors, 1, __ATOMIC_RELAXED);
  if (__atomic_exchange_n(&((rx *)r)->warned, 1, __ATOMIC_RELAXED)) return;
  PCRE2_UCHAR why[120];
  if (pcre2_get_error_message(rc, why, sizeof why) < 0) strcpy((char *)why, "match error");
  char msg[512];
  snprintf(msg, sizeof msg, "regex '%.300s': PCRE2 match error (%s): the line counts as not matching, as in Wazuh",
           r->source ? r->source : "?", (const char *)why);
  rx_log_fn fn = __atomic_load_n(&g_log, __ATOMIC_RELAXED);
  if (fn) fn(msg);
  else fprintf(stderr, "tenet: warning: %s\n", msg);
}

/* The verdict of a PCRE2 rx on a subject: 1 match, 0 no match. A limit error falls back to the
 * exact native matcher for a lowered OS_Regex pattern, else counts as no match (note_error). */
static int pcre_verdict(const rx *r, scratch *s, const char *subject, size_t len) {
  int rc = pcre_run(r, s, subject, len);
  if (rc >= 0) return 1;
  if (rc == PCRE2_ERROR_NOMATCH) return 0;
  if (r->os) return osregex_exec(r->os, subject, len, NULL, 0, NULL, NULL);
  note_error(r, rc);
  return 0;
}

int rx_match(const rx *r, const char *subject, size_t len) {
  if (!r || !subject) return 0;
  switch (r->kind) {
  case K_OSREGEX: return osregex_exec(r->os, subject, len, NULL, 0, NULL, NULL);
  case K_OSMATCH: return osmatch_exec(r->om, subject, len);
  default: {
    scratch *s = scratch_get();
    return s && pcre_verdict(r, s, subject, len);
  }
  }
}

int rx_match_line(const rx *r, const char *line, size_t len) {
  if (!r || !line) return 0;
  if (r->kind != K_PCRE2) return rx_match(r, line, len);
  scratch *s = tl_scratch ? tl_scratch : scratch_get();
  if (!s) return 0;
  if (r->jit && !s->limit) { /* the hot path: no NUL to look for, the JIT on its default stack */
    int rc = pcre2_jit_match(r->code, (PCRE2_SPTR)line, len, 0, 0, s->md, NULL);
    if (rc >= 0) return 1;
    if (rc == PCRE2_ERROR_NOMATCH) return 0;
  }
  return pcre_verdict(r, s, line, len);
}

void rx_set_match_limit(uint32_t limit) { __atomic_store_n(&g_match_limit, limit, __ATOMIC_RELAXED); }
size_t rx_match_errors(void) { return __atomic_load_n(&g_match_errors, __ATOMIC_RELAXED); }
void rx_set_log(rx_log_fn fn) { __atomic_store_n(&g_log, fn, __ATOMIC_RELAXED); }

static void copy_out(char *buf, size_t cap, const char *src, size_t n) {
  if (!buf || !cap) return;
  if (n > cap - 1) n = cap - 1;
  memcpy(buf, src, n);
  buf[n] = 0;
}

int rx_match_capture(const rx *r, const char *subject, size_t len, char *buf, size_t cap) {
  if (buf && cap) buf[0] = 0;
  if (!r || !subject) return 0;
  switch (r->kind) {
  case K_OSREGEX: {
    size_t g[1][2];
    int ng = 0;
    if (!osregex_exec(r->os, subject, len, g, 1, &ng, NULL)) return 0;
    if (ng < 1) return -1;
    copy_out(buf, cap, subject + g[0][0], g[0][1] - g[0][0]);
    return 1;
  }
  case K_OSMATCH: return osmatch_exec(r->om, subject, len) ? -1 : 0;
  default: {
    scratch *s = scratch_get();
    if (!s) return 0;
    int rc = pcre_run(r, s, subject, len);
    if (rc < 0 && rc != PCRE2_ERROR_NOMATCH && r->os) { /* a limit: the exact native matcher */
      size_t g[1][2];
      int ng = 0;
      if (!osregex_exec(r->os, subject, len, g, 1, &ng, NULL)) return 0;
      if (ng < 1) return -1;
      copy_out(buf, cap, subject + g[0][0], g[0][1] - g[0][0]);
      return 1;
    }
    if (rc < 0 && rc != PCRE2_ERROR_NOMATCH) note_error(r, rc);
    if (rc < 0) return 0;
    if (rc == 1) return -1; /* no group took part: Wazuh copies nothing */
    PCRE2_SIZE *ov = pcre2_get_ovector_pointer(s->md);
    if (ov[2] == PCRE2_UNSET) return 1; /* a group that did not participate is "" */
    copy_out(buf, cap, subject + ov[2], ov[3] - ov[2]);
    return 1;
  }
  }
}
