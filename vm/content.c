/* content.c — content matching shared by the rule evaluators: the matcher dispatch loop (one
 * subject line against an M* ... MEND sequence, SCA-SEMANTICS §2.3) and the 5.x rule for a whole
 * text (§10), over a buffer or streamed from a file with a bounded line buffer. The n: minterm
 * itself is in numeric.c. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "cache.h"

#include "eval_int.h"
#include "lines.h"
#include "vm.h"

#define vmdispatch(op) switch (op)
#define vmcase(name) case OP_##name:
#define vmbreak break

int vm_exec_matcher(eval_ctx *c, uint32_t expr, const char *line, size_t len) {
  const insn *first = &c->code[expr];
  if (first->op == OP_MREGEX && first[1].op == OP_MEND) { /* most matchers: one regex, no loop */
    const rx *re = c->rx[first->a];
    return (int)(first->flags & F_NEG) ^ (re ? rx_match_line(re, line, len) : 0);
  }
  int v = 1;
  for (uint32_t pc = expr; pc < c->code_len; pc++) {
    const insn *in = &c->code[pc];
    int r = 0;
    vmdispatch(in->op) {
      vmcase(MREGEX) {
        const rx *re = c->rx[in->a];
        r = re ? rx_match_line(re, line, len) : 0; /* a regex that does not compile never matches */
        vmbreak;
      }
      vmcase(MNUMERIC) {
        r = vm_numeric_minterm(c, in, line, len);
        vmbreak;
      }
      vmcase(MLITERAL) {
        const char *lit = program_str(c->prog, in->a);
        size_t n = strlen(lit);
        if (c->prog->dialect == DIALECT_WAZUH5)
          r = n == len && memcmp(lit, line, n) == 0; /* 5.x: case-sensitive equality */
        else
          r = n == len && strncasecmp(lit, line, n) == 0;
        vmbreak;
      }
      vmcase(MEND) { return v; }
    default:
      return v; /* unreachable in a verified program */
    }
    v *= (int)(in->flags & F_NEG) ^ r;
  }
  return v;
}

/* One line in the 5.x way (sca_utils PatternMatches): the minterms in order, stopping at the
 * first that fails; a regex that does not compile or an n: error is an exception in the module,
 * raised only when that minterm is reached. Returns 1 (all pass), 0, or -1 (the exception). */
int eval_line5(eval_ctx *c, uint32_t expr, const char *line, size_t len) {
  for (uint32_t pc = expr; pc < c->code_len; pc++) {
    const insn *in = &c->code[pc];
    int r;
    if (in->op == OP_MEND) return 1;
    if (in->op == OP_MREGEX) {
      const rx *re = c->rx[in->a];
      if (!re) return -1;
      r = rx_match_line(re, line, len);
    } else if (in->op == OP_MNUMERIC) {
      r = vm_numeric_minterm(c, in, line, len);
      if (r == EV_INVALID) return -1;
    } else if (in->op == OP_MLITERAL) {
      const char *lit = program_str(c->prog, in->a);
      size_t n = strlen(lit);
      r = n == len && memcmp(lit, line, n) == 0; /* 5.x: case-sensitive equality */
    } else {
      return -1; /* unreachable in a verified program */
    }
    if (((int)(in->flags & F_NEG) ^ (r != 0)) == 0) return 0;
  }
  return 1;
}

/* The module sends a pattern that does not start with r:, !r:, n: or !n: (IsRegexOrNumericPattern)
 * to plain equality with the whole pattern text, " && " and all: one line equal to it. */
static int literal5(eval_ctx *c, uint32_t expr, const char *text, size_t len) {
  strbuf pat = STRBUF_INIT;
  eval_pattern_text5(c, expr, &pat);
  const char *want = pat.data ? pat.data : "";
  size_t wn = strlen(want);
  lines_cursor cur;
  lines_cursor_init(&cur, text, len);
  const char *line;
  size_t n;
  int v = EV_NOT_FOUND;
  while (v == EV_NOT_FOUND && lines_text5_next(&cur, &line, &n))
    if (n == wn && memcmp(line, want, n) == 0) v = EV_FOUND;
  strbuf_free(&pat);
  return v;
}

int eval_pattern_literal5(eval_ctx *c, uint32_t expr) { return c->code[expr].op == OP_MLITERAL; }

int eval_content5(eval_ctx *c, uint32_t expr, const char *text, size_t len) {
  const insn *m = &c->code[expr];
  if (eval_pattern_literal5(c, expr)) return literal5(c, expr, text, len);
  int single_negated = (m->flags & F_NEG) && expr + 1 < c->code_len && c->code[expr + 1].op == OP_MEND;
  lines_cursor cur;
  lines_cursor_init(&cur, text, len);
  const char *line;
  size_t n;
  if (len == 0) return EV_NOT_FOUND;
  while (lines_text5_next(&cur, &line, &n)) {
    int v = eval_line5(c, expr, line, n);
    if (v < 0) return EV_INVALID;
    if (single_negated) {
      if (v == 0) return EV_NOT_FOUND; /* a line matches the negated pattern */
    } else if (v == 1) {
      return EV_FOUND;
    }
  }
  return single_negated ? EV_FOUND : EV_NOT_FOUND;
}

void eval_pattern_text5(eval_ctx *c, uint32_t expr, strbuf *out) {
  const program *p = c->prog;
  for (uint32_t pc = expr; pc < c->code_len && c->code[pc].op != OP_MEND; pc++) {
    const insn *in = &c->code[pc];
    if (pc != expr) strbuf_puts(out, " && ");
    if (in->flags & F_NEG) strbuf_putc(out, '!');
    if (in->op == OP_MREGEX) {
      strbuf_puts(out, "r:");
      strbuf_puts(out, in->a < p->nregexes ? program_str(p, p->regexes[in->a].source) : "");
    } else if (in->op == OP_MNUMERIC) {
      strbuf_puts(out, "n:");
      if (in->a != PROG_NONE && in->a < p->nregexes) {
        strbuf_puts(out, program_str(p, p->regexes[in->a].source));
        strbuf_puts(out, " compare ");
      }
      strbuf_puts(out, program_str(p, in->b));
    } else {
      strbuf_puts(out, program_str(p, in->a));
    }
  }
}

/* eval_content5 over a file streamed from fd, one chunk and one line at a time (files too large
 * for the cache): the same lines (lines_text5_next: split at '\n', a last line without one) and
 * the same result. A line longer than CONTENT5_LINE_MAX bytes (a sparse or binary file) or the
 * scan's time budget running out stops the read: -2, with the reason set. */
int eval_content5_stream(eval_ctx *c, uint32_t expr, int fd, const char *path) {
  const insn *m = &c->code[expr];
  int literal = eval_pattern_literal5(c, expr);
  int single_negated =
      !literal && (m->flags & F_NEG) && expr + 1 < c->code_len && c->code[expr + 1].op == OP_MEND;
  strbuf want = STRBUF_INIT, line = STRBUF_INIT;
  if (literal) eval_pattern_text5(c, expr, &want);
  const char *wtext = want.data ? want.data : "";
  size_t wn = strlen(wtext);
  char *chunk = malloc(CONTENT5_CHUNK);
  int r = chunk ? -1 : -2, any = 0, tail = 0;
  if (!chunk) eval_set_reason(c, "Could not read '%s': out of memory", path);
  while (r == -1) {
    if (scan_cache_over_budget(c->cache)) {
      eval_set_reason(c, "%s", scan_cache_budget_reason(c->cache));
      r = -2;
      break;
    }
    ssize_t got = read(fd, chunk, CONTENT5_CHUNK);
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) break; /* end of file; a read error ends the text as std::getline does */
    any = 1;
    const char *p = chunk, *end = chunk + got;
    while (r == -1 && p < end) {
      const char *nl = memchr(p, '\n', (size_t)(end - p));
      size_t take = (size_t)((nl ? nl : end) - p);
      if (line.len + take > CONTENT5_LINE_MAX) {
        eval_set_reason(c, "Line longer than %zu bytes in '%s': the file is not read whole",
                        (size_t)CONTENT5_LINE_MAX, path);
        r = -2;
        break;
      }
      strbuf_append(&line, p, take);
      if (!strbuf_ok(&line)) {
        eval_set_reason(c, "Could not read '%s': out of memory", path);
        r = -2;
        break;
      }
      p += take;
      tail = !nl;
      if (!nl) break;
      p++; /* the newline */
      const char *l = line.data ? line.data : "";
      if (literal) {
        if (line.len == wn && memcmp(l, wtext, wn) == 0) r = EV_FOUND;
      } else {
        int v = eval_line5(c, expr, l, line.len);
        if (v < 0) r = EV_INVALID;
        else if (single_negated ? v == 0 : v == 1) r = single_negated ? EV_NOT_FOUND : EV_FOUND;
      }
      line.len = 0;
    }
  }
  if (r == -1 && tail && line.len) { /* the last line, without a newline */
    if (literal) {
      if (line.len == wn && memcmp(line.data, wtext, wn) == 0) r = EV_FOUND;
    } else {
      int v = eval_line5(c, expr, line.data, line.len);
      if (v < 0) r = EV_INVALID;
      else if (single_negated ? v == 0 : v == 1) r = single_negated ? EV_NOT_FOUND : EV_FOUND;
    }
  }
  free(chunk);
  strbuf_free(&line);
  strbuf_free(&want);
  if (r != -1) return r;
  if (!any || literal) return EV_NOT_FOUND;
  return single_negated ? EV_FOUND : EV_NOT_FOUND;
}
