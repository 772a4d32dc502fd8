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

/* One line of the 5.x rule: the rule's result when this line settles it, else -1. */
static int step5(eval_ctx *c, uint32_t expr, int single_negated, const char *line, size_t n) {
  int v = vm_exec_matcher(c, expr, line, n);
  if (single_negated) {
    if (v == 0) return EV_NOT_FOUND; /* a line matches the negated pattern */
  } else if (v == EV_FOUND) {
    return EV_FOUND;
  } else if (v == EV_INVALID) {
    return EV_INVALID;
  }
  return -1;
}

static int single_negated5(eval_ctx *c, uint32_t expr) {
  const insn *m = &c->code[expr];
  return (m->flags & F_NEG) && expr + 1 < c->code_len && c->code[expr + 1].op == OP_MEND;
}

int eval_content5(eval_ctx *c, uint32_t expr, const char *text, size_t len) {
  int single_negated = single_negated5(c, expr);
  lines_cursor cur;
  lines_cursor_init(&cur, text, len);
  const char *line;
  size_t n;
  if (len == 0) return EV_NOT_FOUND;
  while (lines_text5_next(&cur, &line, &n)) {
    int r = step5(c, expr, single_negated, line, n);
    if (r >= 0) return r;
  }
  return single_negated ? EV_FOUND : EV_NOT_FOUND;
}

int eval_content5_stream(eval_ctx *c, uint32_t expr, int fd, const char *path) {
  int single_negated = single_negated5(c, expr), any = 0, r = -1;
  strbuf line = STRBUF_INIT;
  char *chunk = malloc(CONTENT5_CHUNK);
  if (!chunk) {
    eval_set_reason(c, "Could not open file '%s'", path);
    return EV_INVALID;
  }
  for (;;) {
    if (scan_cache_over_budget(c->cache)) {
      eval_set_reason(c, "%s", scan_cache_budget_reason(c->cache));
      r = EV_INVALID;
      break;
    }
    ssize_t got = read(fd, chunk, CONTENT5_CHUNK);
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) break; /* end of file, or a read error ends the text like std::getline's */
    any = 1;
    const char *p = chunk, *end = chunk + got;
    while (r < 0 && p < end) {
      const char *nl = memchr(p, '\n', (size_t)(end - p));
      size_t take = (size_t)((nl ? nl : end) - p);
      if (line.len + take > CONTENT5_LINE_MAX) {
        eval_set_reason(c, "Line longer than %zu bytes in '%s': the file is not read whole",
                        (size_t)CONTENT5_LINE_MAX, path);
        r = EV_INVALID;
        break;
      }
      strbuf_append(&line, p, take);
      if (!strbuf_ok(&line)) {
        eval_set_reason(c, "Could not open file '%s'", path);
        r = EV_INVALID;
        break;
      }
      p += take;
      if (!nl) break;
      p++; /* the newline */
      r = step5(c, expr, single_negated, line.data ? line.data : "", line.len);
      line.len = 0;
    }
    if (r >= 0) break;
  }
  if (r < 0 && line.len) r = step5(c, expr, single_negated, line.data, line.len); /* no final '\n' */
  free(chunk);
  strbuf_free(&line);
  if (r >= 0) return r;
  if (!any) return EV_NOT_FOUND; /* empty text */
  return single_negated ? EV_FOUND : EV_NOT_FOUND;
}
