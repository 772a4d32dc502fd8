/* numeric.c — the n: minterm of SCA-SEMANTICS §5, step by step, with Wazuh's reason texts.
 * The compiler has already split "regex compare op value" and resolved the operator and the
 * expected value (MNUMERIC x/a/b/c); errors it found are reported here, in Wazuh's order. */
#include <errno.h>
#include <stdlib.h>

#include "vm.h"

#define CAPTURE_SMALL 4096

static int compare(eval_ctx *c, const insn *in, int m, const char *cap);

int vm_numeric_minterm(eval_ctx *c, const insn *in, const char *line, size_t len) {
  const char *text = program_str(c->prog, in->b);
  if (in->x == CMP_ERR_NOCOMPARE) {
    eval_set_reason(c, "Keyword 'compare' not found. Did you forget adding 'compare COMPARATOR VALUE' to your rule?' %s'",
                    text);
    return EV_INVALID;
  }
  if (in->a >= c->prog->nregexes) { /* unreachable in a verified program */
    eval_set_reason(c, "corrupt program: regex %u out of range", in->a);
    return EV_INVALID;
  }
  const rx *re = c->rx[in->a];
  if (!re) {
    eval_set_reason(c, "Cannot compile regex '%s'", program_str(c->prog, c->prog->regexes[in->a].source));
    return EV_INVALID;
  }
  /* The capture cannot be longer than the line: a stack buffer for usual lines, else the heap. */
  char small[CAPTURE_SMALL], *cap = len < sizeof small ? small : malloc(len + 1);
  if (!cap) {
    eval_set_reason(c, "out of memory matching a %zu-byte line", len);
    return EV_INVALID;
  }
  int m = rx_match_capture(re, line, len, cap, len < sizeof small ? sizeof small : len + 1);
  int r = compare(c, in, m, cap);
  if (cap != small) free(cap);
  return r;
}

/* Steps 4-8 of §5 once the regex ran: m is rx_match_capture's result, cap the captured text. */
static int compare(eval_ctx *c, const insn *in, int m, const char *cap) {
  const char *text = program_str(c->prog, in->b);
  if (m == 0) return EV_NOT_FOUND;
  if (m < 0) {
    eval_set_reason(c, "Regex '%s' matched, but no string was captured by it. Did you forget specifying a capture group?",
                    program_str(c->prog, c->prog->regexes[in->a].source));
    return EV_INVALID;
  }
  char *end;
  errno = 0;
  long got = strtol(cap, &end, 10);
  if (end == cap || errno == ERANGE) {
    eval_set_reason(c, "Conversion error. Cannot convert '%s' to integer.", cap);
    return EV_INVALID;
  }
  if (in->x == CMP_ERR_NOINT) {
    eval_set_reason(c, "No integer was found within the comparison '%s' ", text);
    return EV_INVALID;
  }
  const char *digits = program_str(c->prog, in->c);
  errno = 0;
  long want = strtol(digits, &end, 10);
  if (end == digits || errno == ERANGE) {
    eval_set_reason(c, "Conversion error. Cannot convert '%s' to integer.", digits);
    return EV_INVALID;
  }
  switch (in->x) {
  case CMP_EQ: return got == want;
  case CMP_NE: return got != want;
  case CMP_LE: return got <= want;
  case CMP_GE: return got >= want;
  case CMP_LT: return got < want;
  case CMP_GT: return got > want;
  default:
    eval_set_reason(c, "Unrecognized operation: '%s'", text);
    return EV_INVALID;
  }
}
