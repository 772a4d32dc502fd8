/* rules.c — parser of one SCA rule string into a typed rule (grammar in rules.h).
 *
 * The lexing follows Wazuh 4.x exactly (SCA-SEMANTICS §2.1): "not "/"NOT " only at position 0, the
 * type is everything before the first ':', " -> " splits at its first occurrence, " && " splits
 * minterms with empty tokens dropped and nothing trimmed, r:/n: prefixes are case-insensitive, one
 * leading '!' negates a minterm. The types, the shape of their bodies and their messages come
 * from vm/rules.def. What Wazuh rejects when it loads a policy, or aborts on while
 * scanning, is a syntax error here (a deliberate divergence, SCA-SEMANTICS §11.19). */
#include "rules.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "err.h"
#include "opcodes.h"
#include "rulekind.h"

#define ARROW " -> "
#define AND " && "
#define COMPARE " compare "

static rule_span span(size_t off, size_t len) { return (rule_span){(uint32_t)off, (uint32_t)len}; }

/* First occurrence of needle in s[off, end), or end when absent. */
static size_t find(const char *s, size_t off, size_t end, const char *needle) {
  size_t n = strlen(needle);
  for (size_t i = off; i + n <= end; i++)
    if (memcmp(s + i, needle, n) == 0) return i;
  return end;
}

static int fail(rule_error *err, size_t off, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Record a syntax error at byte offset off; returns TN_EPOLICY. */
static int fail(rule_error *err, size_t off, const char *fmt, ...) {
  if (!err) return TN_EPOLICY;
  err->off = (uint32_t)off;
  va_list ap;
  va_start(ap, fmt);
  int rc = tn_err_vset(err->msg, sizeof err->msg, TN_EPOLICY, fmt, ap);
  va_end(ap);
  return rc;
}

unsigned rule_parse_comparison(const char *text, size_t len, uint64_t *value, size_t *digits_off,
                               size_t *digits_len) {
  size_t i = 0;
  while (i < len && !(text[i] >= '0' && text[i] <= '9'))
    i++;
  size_t start = i;
  uint64_t v = 0;
  for (; i < len && text[i] >= '0' && text[i] <= '9'; i++) {
    unsigned d = (unsigned)(text[i] - '0');
    v = v > (UINT64_MAX - d) / 10 ? UINT64_MAX : v * 10 + d;
  }
  *value = v;
  *digits_off = start;
  *digits_len = i - start;
  if (i == start) return CMP_ERR_NOINT; /* §5 step 6 comes before the operator */
  /* §5 step 7, in Wazuh's order: a leading '=' wins, then substrings. */
  if (len > 0 && text[0] == '=') return CMP_EQ;
  static const struct {
    const char *op;
    unsigned cmp;
  } ops[] = {{"!=", CMP_NE}, {"<=", CMP_LE}, {">=", CMP_GE}, {"<", CMP_LT}, {">", CMP_GT}};
  for (size_t k = 0; k < sizeof ops / sizeof ops[0]; k++)
    if (find(text, 0, len, ops[k].op) < len) return ops[k].cmp;
  return CMP_ERR_BADOP;
}

/* Classify the minterm src[off, off+len) (its '!' already consumed by the caller). */
static void parse_minterm(const char *src, size_t off, size_t len, rule_minterm *m) {
  m->text = span(off, len);
  if (len >= 2 && strncasecmp(src + off, "r:", 2) == 0) {
    m->kind = MINTERM_REGEX;
    m->pattern = span(off + 2, len - 2);
    return;
  }
  if (len >= 2 && strncasecmp(src + off, "n:", 2) == 0) {
    m->kind = MINTERM_NUMERIC;
    size_t start = off + 2, end = off + len;
    m->after_n = span(start, end - start);
    size_t at = find(src, start, end, COMPARE);
    if (at == end) {
      m->cmp = CMP_ERR_NOCOMPARE;
      m->pattern = m->after_n;
      m->comparison = span(end, 0);
      m->digits = span(end, 0);
      return;
    }
    m->has_compare = 1;
    m->pattern = span(start, at - start);
    size_t cstart = at + strlen(COMPARE);
    m->comparison = span(cstart, end - cstart);
    size_t doff, dlen;
    m->cmp = rule_parse_comparison(src + cstart, end - cstart, &m->value, &doff, &dlen);
    m->digits = span(cstart + doff, dlen);
    return;
  }
  m->kind = MINTERM_LITERAL;
  m->pattern = m->text;
}

/* Split the content src[off, end) into minterms. */
static int parse_content(const char *src, size_t off, size_t end, rule *r) {
  size_t cap = 0;
  size_t at = off;
  size_t dl = strlen(AND);
  while (at < end) {
    size_t next = find(src, at, end, AND);
    if (next > at) { /* an empty token (leading, doubled or trailing " && ") is dropped */
      if (r->nminterms == cap) {
        size_t ncap = cap ? cap * 2 : 4;
        rule_minterm *n = realloc(r->minterms, ncap * sizeof *n);
        if (!n) return TN_ENOMEM;
        r->minterms = n;
        cap = ncap;
      }
      rule_minterm *m = &r->minterms[r->nminterms++];
      memset(m, 0, sizeof *m);
      size_t s = at;
      if (src[s] == '!') {
        m->neg = 1;
        s++;
      }
      parse_minterm(src, s, next - s, m);
    }
    if (next == end) break;
    at = next + dl;
  }
  return TN_OK;
}

/* "f, d, c, p or r": the letters of rules.def, for the unknown-type error. */
static void kind_letters(char *buf, size_t n) {
  size_t at = 0;
  buf[0] = '\0';
  for (size_t i = 0; i < VM_RULE_KIND_COUNT && at < n; i++) {
    const char *sep = i == 0 ? "" : i + 1 == VM_RULE_KIND_COUNT ? " or " : ", ";
    int w = snprintf(buf + at, n - at, "%s%c", sep, vm_rule_kind_at(i)->letter);
    if (w < 0) break;
    at += (size_t)w;
  }
}

int rule_parse(const char *src, rule *out, rule_error *err) {
  memset(out, 0, sizeof *out);
  out->src = src;
  size_t n = strlen(src);
  if (n > UINT32_MAX / 2) return fail(err, 0, "rule is too long");
  if (n == 0) return fail(err, 0, "empty rule");
  if (isspace((unsigned char)src[0]))
    return fail(err, 0, "rule starts with whitespace (Wazuh rejects the policy)");

  size_t pos = 0;
  if (strncmp(src, "not ", 4) == 0 || strncmp(src, "NOT ", 4) == 0) {
    out->negated = 1;
    pos = 4;
  } else if (strncasecmp(src, "not ", 4) == 0) {
    return fail(err, 0, "'%.3s' is not a negation: write 'not ' or 'NOT ' (Wazuh rejects the policy)", src);
  }
  if (pos == n) return fail(err, pos, "empty rule after 'not '");
  if (isspace((unsigned char)src[pos]))
    return fail(err, pos, "the rule type must follow 'not ' directly (Wazuh rejects the policy)");
  if (src[pos] == '!')
    return fail(err, pos, "'!' before the rule type is not allowed (Wazuh rejects the policy)");

  const char *colon = memchr(src + pos, ':', n - pos);
  if (!colon) return fail(err, pos, "missing ':' after the rule type");
  size_t tlen = (size_t)(colon - (src + pos));
  const vm_rule_kind *kind = tlen == 1 ? vm_rule_kind_by_letter(src[pos]) : NULL;
  if (!kind) {
    char type[48], letters[64];
    snprintf(type, sizeof type, "%.*s%s", tlen > 32 ? 32 : (int)tlen, src + pos, tlen > 32 ? "..." : "");
    kind_letters(letters, sizeof letters);
    return fail(err, pos, "unknown rule type '%s' (expected %s)", type, letters);
  }
  out->type = src[pos];
  size_t body = pos + 2;
  out->body = span(body, n - body);

  int rc = TN_OK;
  if (kind->shape == RULE_SHAPE_ONLY_CONTENT) {
    out->location = span(body, 0);
    out->has_content = 1;
    out->content = out->body;
    rc = parse_content(src, body, n, out);
  } else {
    size_t arrow = find(src, body, n, ARROW);
    out->location = span(body, arrow - body);
    if (arrow == body) return fail(err, body, "%c: rule has an empty %s", kind->letter, kind->empty);
    size_t rest = arrow + strlen(ARROW); /* start of the part after " -> " (when arrow < n) */
    if (arrow < n && kind->shape == RULE_SHAPE_NAME_CONTENT) {
      size_t arrow2 = find(src, rest, n, ARROW);
      out->has_name = 1;
      out->name = span(rest, arrow2 - rest);
      arrow = arrow2;
      rest = arrow2 + strlen(ARROW);
    }
    if (arrow < n) {
      out->has_content = 1;
      out->content = span(rest, n - rest);
      rc = parse_content(src, rest, n, out);
    }
  }
  if (rc != TN_OK) rule_free(out);
  return rc;
}

void rule_free(rule *r) {
  if (!r) return;
  free(r->minterms);
  r->minterms = NULL;
  r->nminterms = 0;
}

char *rule_span_dup(const rule *r, rule_span s) { return strndup(r->src + s.off, s.len); }
