/* codegen_match.c — content matchers and regexes (SCA-SEMANTICS §2.3, §4, §5).
 *
 * Every regex of a policy is compiled here, in the dialect and with the flags the VM will use,
 * so that what Wazuh would only discover while scanning becomes a compile-time warning: an r:
 * regex that does not compile never matches, an n: one makes the minterm not applicable, and
 * OS_Regex's anchors in mid-pattern are literal characters. OS_Regex patterns that osregex_lower
 * can translate carry their PCRE2 form (RXF_LOWERED) so the VM can run them on PCRE2's JIT. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "codegen_int.h"
#include "osregex_lower.h"
#include "regex.h"
#include "strbuf.h"

/* Result of checking one pattern. */
typedef struct rx_info {
  uint32_t idx; /* regex-table index; PROG_NONE on allocation failure or when left out */
  int ok;       /* compiles in its dialect */
  char why[160];
} rx_info;

/* Compile pattern in its dialect, find its lowering (OS_Regex) and add it to the table; one that
 * does not compile is added with RXF_BAD when add_bad is set, else left out (idx PROG_NONE). */
static rx_info add_regex(cg *g, const char *pattern, uint8_t dialect, uint8_t flags, int add_bad) {
  rx_info info = {PROG_NONE, 0, ""};
  /* Policies repeat patterns: one already in the table (same text, dialect and case flag) that
   * compiled is reused as it is, without compiling and lowering it again. */
  uint32_t src = program_intern(g->p, pattern);
  for (uint32_t i = 0; src != PROG_NONE && i < g->p->nregexes; i++) {
    const prog_regex *r = &g->p->regexes[i];
    if (r->source == src && r->dialect == dialect && !(r->flags & RXF_BAD) &&
        (r->flags & RXF_CASELESS) == (flags & RXF_CASELESS)) {
      info.idx = i;
      info.ok = 1;
      return info;
    }
  }
  rx *re = rx_compile(pattern, dialect, flags, NULL, info.why, sizeof info.why);
  char *lowered = NULL;
  if (!re) {
    flags |= RXF_BAD;
    if (!info.why[0]) strcpy(info.why, "invalid pattern");
  } else {
    info.ok = 1;
    rx_free(re);
    if (dialect == RX_OSREGEX) {
      size_t cap = strlen(pattern) * 16 + 256;
      lowered = malloc(cap);
      if (!lowered) {
        g->oom = 1;
        return info;
      }
      char err[64];
      /* keep the lowering only when PCRE2 accepts it */
      rx *low = osregex_lower(pattern, lowered, cap) == 1
                    ? rx_compile(pattern, dialect, flags, lowered, err, sizeof err)
                    : NULL;
      if (low) {
        rx_free(low);
        flags |= RXF_LOWERED;
      } else {
        free(lowered);
        lowered = NULL;
      }
    }
  }
  if (!info.ok && !add_bad) return info;
  info.idx = program_add_regex(g->p, pattern, dialect, flags, lowered);
  free(lowered);
  if (info.idx == PROG_NONE) g->oom = 1;
  return info;
}

/* OS_Regex anchors count only as the first ('^') or last ('$') character of an alternative
 * (§4.1); anywhere else they are literal characters, which is rarely what the author meant. */
static void warn_anchors(cg *g, const cg_rule *cr, rule_span pat) {
  const char *s = cr->r.src + pat.off;
  size_t start = 0;
  for (size_t i = 0; i < pat.len; i++) {
    char c = s[i];
    if (c == '\\') {
      i++; /* an escape token: \$ \^ \| are literals */
      continue;
    }
    if (c == '|') {
      start = i + 1;
    } else if (c == '$' && i + 1 < pat.len && s[i + 1] != '|') {
      cg_rule_warn(g, cr, pat.off + (uint32_t)i, "literal-dollar",
                   "'$' in mid-pattern matches a literal '$'");
    } else if (c == '^' && i != start) {
      cg_rule_warn(g, cr, pat.off + (uint32_t)i, "literal-caret", "'^' in mid-pattern matches a literal '^'");
    }
  }
}

/* Check and add a content regex (r: or n:) in the check's engine. */
static uint32_t content_regex(cg *g, const cg_rule *cr, rule_span pat, cg_engine eng, const char *kind) {
  char *text = rule_span_dup(&cr->r, pat);
  if (!text) {
    g->oom = 1;
    return PROG_NONE;
  }
  rx_info info = add_regex(g, text, eng.dialect, eng.flags, 1);
  if (info.idx != PROG_NONE) {
    if (!info.ok)
      cg_rule_warn(g, cr, pat.off, "bad-regex", "regex '%s' does not compile (%s): Wazuh evaluates %s", text,
                   info.why, kind);
    else if (eng.dialect == RX_OSREGEX)
      warn_anchors(g, cr, pat);
  }
  free(text);
  return info.idx;
}

static uint32_t intern_span(cg *g, const cg_rule *cr, rule_span s) {
  uint32_t id = program_intern_len(g->p, cr->r.src + s.off, s.len);
  if (id == PROG_NONE) g->oom = 1;
  return id;
}

/* Warnings for §5's quirks in a comparison Wazuh accepts: "=>"/"=<" mean "==", the sign and the
 * decimals of the expected value are dropped. */
static void warn_comparison(cg *g, const cg_rule *cr, const rule_minterm *m) {
  const char *c = cr->r.src + m->comparison.off;
  if (m->comparison.len >= 2 && c[0] == '=' && (c[1] == '>' || c[1] == '<'))
    cg_rule_warn(g, cr, m->comparison.off, "numeric-quirk", "operator '%.2s' means '==' in Wazuh 4.x", c);
  const char *d = cr->r.src + m->digits.off;
  if (m->digits.off > m->comparison.off && d[-1] == '-')
    cg_rule_warn(g, cr, m->digits.off - 1, "numeric-quirk",
                 "the sign of '-%.*s' is ignored: Wazuh compares with %.*s", (int)m->digits.len, d,
                 (int)m->digits.len, d);
  uint32_t after = m->digits.off + m->digits.len, end = m->comparison.off + m->comparison.len;
  if (after + 1 < end && cr->r.src[after] == '.' && cr->r.src[after + 1] >= '0' &&
      cr->r.src[after + 1] <= '9')
    cg_rule_warn(g, cr, after, "numeric-quirk",
                 "the decimals of '%.*s' are ignored: Wazuh compares with %.*s",
                 (int)(after + 2 - m->digits.off), d, (int)m->digits.len, d);
}

/* Emit one n: minterm. */
static uint32_t emit_numeric(cg *g, const cg_rule *cr, const rule_minterm *m, uint8_t fl, cg_engine eng) {
  uint32_t line = cr->ar->pos.line;
  if (m->cmp == CMP_ERR_NOCOMPARE) {
    cg_rule_warn(g, cr, m->text.off, "bad-numeric",
                 "n: without ' compare ': Wazuh evaluates it as not applicable");
    uint32_t text = intern_span(g, cr, m->after_n);
    if (text == PROG_NONE) return PROG_NONE;
    return program_emit(g->p, OP_MNUMERIC, fl, CMP_ERR_NOCOMPARE, PROG_NONE, text, PROG_NONE, line);
  }
  uint32_t rx = content_regex(g, cr, m->pattern, eng, "n: as not applicable");
  uint32_t text = intern_span(g, cr, m->comparison);
  if (rx == PROG_NONE || text == PROG_NONE) return PROG_NONE;
  uint32_t digits = PROG_NONE;
  if (m->cmp == CMP_ERR_NOINT) {
    cg_rule_warn(g, cr, m->comparison.off, "bad-numeric",
                 "no integer in the comparison '%s': Wazuh evaluates n: as not applicable",
                 program_str(g->p, text));
  } else {
    if (m->cmp == CMP_ERR_BADOP)
      cg_rule_warn(g, cr, m->comparison.off, "bad-numeric",
                   "no operator in the comparison '%s': Wazuh evaluates n: as not applicable",
                   program_str(g->p, text));
    else
      warn_comparison(g, cr, m);
    if ((digits = intern_span(g, cr, m->digits)) == PROG_NONE) return PROG_NONE;
  }
  return program_emit(g->p, OP_MNUMERIC, fl, (uint16_t)m->cmp, rx, text, digits, line);
}

uint32_t cg_emit_content(cg *g, const cg_rule *cr, cg_engine eng) {
  uint32_t line = cr->ar->pos.line, first = g->p->ncode;
  if (cr->r.nminterms == 0)
    cg_rule_warn(g, cr, cr->r.content.off, "empty-content",
                 "empty content expression: Wazuh counts every line as a match");
  for (size_t i = 0; i < cr->r.nminterms && !g->oom; i++) {
    const rule_minterm *m = &cr->r.minterms[i];
    uint8_t fl = m->neg ? F_NEG : 0;
    uint32_t at = PROG_NONE;
    if (m->kind == MINTERM_REGEX) {
      uint32_t rx = content_regex(g, cr, m->pattern, eng, "r: as never matching");
      if (rx != PROG_NONE) at = program_emit(g->p, OP_MREGEX, fl, 0, rx, PROG_NONE, PROG_NONE, line);
    } else if (m->kind == MINTERM_NUMERIC) {
      at = emit_numeric(g, cr, m, fl, eng);
    } else {
      uint32_t text = intern_span(g, cr, m->text);
      if (text != PROG_NONE) at = program_emit(g->p, OP_MLITERAL, fl, 0, text, PROG_NONE, PROG_NONE, line);
    }
    if (at == PROG_NONE) g->oom = 1;
  }
  if (g->oom || program_emit(g->p, OP_MEND, 0, 0, PROG_NONE, PROG_NONE, PROG_NONE, line) == PROG_NONE) {
    g->oom = 1;
    return PROG_NONE;
  }
  return first;
}

uint32_t cg_name_regex(cg *g, const cg_rule *cr) {
  rule_span name = cr->r.name;
  char *whole = rule_span_dup(&cr->r, name);
  if (!whole) {
    g->oom = 1;
    return PROG_NONE;
  }
  rx_info info;
  if (g->dialect == DIALECT_WAZUH5) {
    /* 5.x (SCA-SEMANTICS §10): an "r:" name pattern is PCRE2, caseless like every 5.x regex; a plain
     * name is an exact, case-sensitive name match (a PCRE2 pattern with every byte escaped). */
    int is_rx = name.len >= 2 && strncasecmp(whole, "r:", 2) == 0;
    strbuf pat = STRBUF_INIT;
    if (is_rx && cr->r.has_content && cr->r.nminterms) {
      /* the module never splits "r:<name> -> <content>": its first minterm is the regex
       * "<name> -> <first content minterm>" (docs/WAZUH5.md); the VM tests the others on the name */
      rule_span m0 = cr->r.minterms[0].text;
      strbuf_append(&pat, cr->r.src + name.off + 2, m0.off + m0.len - (name.off + 2));
    } else if (is_rx) {
      strbuf_puts(&pat, whole + 2);
    } else {
      strbuf_putc(&pat, '^');
      for (const char *q = whole; *q; q++) {
        if (!((*q >= 'a' && *q <= 'z') || (*q >= 'A' && *q <= 'Z') || (*q >= '0' && *q <= '9'))) strbuf_putc(&pat, '\\');
        strbuf_putc(&pat, *q);
      }
      strbuf_puts(&pat, "\\z");
    }
    free(whole);
    if (!strbuf_ok(&pat)) {
      strbuf_free(&pat);
      g->oom = 1;
      return PROG_NONE;
    }
    info = add_regex(g, pat.data, RX_PCRE2, is_rx ? RXF_CASELESS : 0, 1);
    if (info.idx != PROG_NONE && !info.ok)
      cg_rule_warn(g, cr, name.off + (is_rx ? 2 : 0), "bad-regex",
                   "file-name regex '%s' does not compile (%s): it never matches", pat.data, info.why);
    strbuf_free(&pat);
    return info.idx;
  }
  if (name.len >= 2 && strncasecmp(whole, "r:", 2) == 0) {
    /* OS_Regex (case-insensitive) whatever the policy's engine; OS_Match on the whole text if it
     * does not compile (§2.6) */
    info = add_regex(g, whole + 2, RX_OSREGEX, 0, 0);
    if (info.ok) {
      if (info.idx != PROG_NONE) warn_anchors(g, cr, (rule_span){name.off + 2, name.len - 2});
      free(whole);
      return info.idx;
    }
    if (g->oom) {
      free(whole);
      return PROG_NONE;
    }
    cg_rule_warn(g, cr, name.off + 2, "bad-regex",
                 "regex '%s' does not compile (%s): Wazuh matches file names against '%s' with OS_Match",
                 whole + 2, info.why, whole);
  }
  info = add_regex(g, whole, RX_OSMATCH, 0, 1);
  if (info.idx != PROG_NONE && !info.ok)
    cg_rule_warn(g, cr, name.off, "bad-regex",
                 "file-name pattern '%s' does not compile (%s): Wazuh never matches it", whole, info.why);
  free(whole);
  return info.idx;
}
