/* rules.h — the grammar of one SCA rule string (SCA-SEMANTICS §2.1, §5).
 *
 *   rule     := [ "not " | "NOT " ] type ":" body          type: a letter of vm/rules.def
 *   body     := location [ " -> " content ]                 shape RULE_SHAPE_CONTENT (f: c:)
 *             | location [ " -> " name [ " -> " content ] ] shape RULE_SHAPE_NAME_CONTENT (d: r:)
 *             | content                                     shape RULE_SHAPE_ONLY_CONTENT (p:)
 *   content  := minterm { " && " minterm }                  empty tokens dropped, nothing trimmed
 *   minterm  := [ "!" ] ( ("r:"|"R:") regex | ("n:"|"N:") regex " compare " op value | literal )
 *
 * A parsed rule refers to its source string by spans (offset + length), so every piece carries its
 * column for diagnostics. The parser only reads the string; the caller keeps it alive as long as
 * the rule is used. Problems that Wazuh would only meet at run time (a regex that does not compile,
 * an n: without " compare ") are not syntax errors: they are recorded in the minterm and reported by
 * code generation as warnings. */
#ifndef TENET_RULES_H
#define TENET_RULES_H

#include <stddef.h>
#include <stdint.h>

/* Rule types: the letter before the first ':', one per row of vm/rules.def (RULE_FILE = 'f', ...:
 * RULE_<opcode>); the row also gives the body's shape and the grammar's messages. */
enum rule_type {
#define RULE(letter, op, ...) RULE_##op = letter,
#include "rules.def"
#undef RULE
};

/* Minterm kinds. */
enum minterm_kind { MINTERM_REGEX = 1, MINTERM_NUMERIC, MINTERM_LITERAL };

/* A piece of the rule string: bytes [off, off + len). */
typedef struct rule_span {
  uint32_t off, len;
} rule_span;

typedef struct rule_minterm {
  int kind;          /* enum minterm_kind */
  int neg;           /* a leading '!' (only one is consumed: "!!x" is the negated literal "!x") */
  rule_span text;    /* the minterm after its '!', prefix included ("r:^x", "n:(\d+) compare > 1") */
  rule_span pattern; /* REGEX: the regex after "r:"; NUMERIC: the regex before " compare " (all of
                        the text after "n:" when there is no " compare "); LITERAL: same as text */
  /* NUMERIC only (§5 steps 1, 6 and 7). */
  int has_compare;      /* the text after "n:" holds " compare " */
  rule_span after_n;    /* the text after "n:" (Wazuh's reason for a missing " compare " quotes it) */
  rule_span comparison; /* the text after the first " compare " */
  unsigned cmp;         /* enum vm_cmp: the operator, or CMP_ERR_NOCOMPARE / _NOINT / _BADOP */
  uint64_t value;       /* the first run of digits of the comparison (saturates at UINT64_MAX) */
  rule_span digits;     /* that run of digits (len 0 when there is none) */
} rule_minterm;

typedef struct rule {
  const char *src;    /* the string parsed (borrowed) */
  int negated;        /* "not " / "NOT " prefix */
  char type;          /* enum rule_type */
  rule_span body;     /* everything after "type:" */
  rule_span location; /* f: files, d: directories, c: command, r: key (before the first " -> ");
                         empty for a content-only kind (p:) */
  int has_name;       /* the name of a RULE_SHAPE_NAME_CONTENT kind is present (d: file-name
                         pattern, r: value name) */
  rule_span name;
  int has_content; /* a content expression is present (p: always) */
  rule_span content;
  rule_minterm *minterms; /* owned; nminterms may be 0 (e.g. "f:/x -> " : matches every line) */
  size_t nminterms;
} rule;

/* A syntax error: byte offset in the rule string where it was found, and a message. */
typedef struct rule_error {
  uint32_t off;
  char msg[192];
} rule_error;

/* Parse a rule string. Returns 0 and fills *out (free with rule_free), TN_EPOLICY with *err filled
 * for a syntax error (out is left empty), or TN_ENOMEM. Never keeps src beyond what out points to. */
int rule_parse(const char *src, rule *out, rule_error *err);
/* Free what a parsed rule owns (not its source). NULL and an empty rule are no-ops. */
void rule_free(rule *r);

/* A malloc'd NUL-terminated copy of a span of r's source, or NULL on allocation failure. */
char *rule_span_dup(const rule *r, rule_span s);

/* The §5 comparison of an n: minterm, parsed from text[0..len) (the part after " compare "):
 * sets *value (first run of digits, saturating), *digits_off/len and returns the operator
 * (CMP_EQ...CMP_GT) or CMP_ERR_NOINT / CMP_ERR_BADOP. */
unsigned rule_parse_comparison(const char *text, size_t len, uint64_t *value, size_t *digits_off,
                               size_t *digits_len);

#endif
