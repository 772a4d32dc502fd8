/* verify.c — the bytecode verifier: the mirror of code generation (compiler/emit, codegen).
 *
 * program_verify accepts exactly the shape the compiler emits (opcodes.def's comment) and nothing
 * else, so the interpreter can run a verified program without re-checking a single operand:
 *
 *   check code   := main matchers
 *   main         := (rule NOT? step)* RESULT      every step is the one of the check's condition
 *                                                 and jumps to that RESULT
 *   rule         := FILE | DIR | CMD | PROC | REG
 *   matchers     := (matcher* MEND)*              matcher := MREGEX | MNUMERIC | MLITERAL
 *
 * Operands: string ids are inside the table at the start of a string; regex indexes are inside the
 * regex table; a rule's @expr (relative to the check's first instruction) is "-" where the notation
 * allows it or the first instruction of a matcher sequence of the same check; RESULT's x is the
 * check's condition; MNUMERIC's x is a known comparison, and its regex is "-" exactly when x is
 * CMP_ERR_NOCOMPARE. Flags: F_NOSHORT only on steps, F_NEG only on matchers. Tables: regexes have
 * a known dialect, known flags and a lowered form iff RXF_LOWERED; checks have unique ids and
 * disjoint code ranges inside the code (checked first, so verifying is linear in the code size);
 * every instruction has a line; a registry rule anywhere requires PROGF_REGISTRY.
 *
 * Every rejection names the line of this file that caught it: "invalid bytecode (verify.c:N): …". */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "bundle.h"
#include "err.h"

typedef struct verifier {
  const program *p;
  char *err;
  size_t errlen;
  int uses_registry; /* a REG rule was seen */
} verifier;

static int fail(verifier *v, int line, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(verifier *v, int line, const char *fmt, ...) {
  if (v->err && v->errlen) {
    int n = snprintf(v->err, v->errlen, "invalid bytecode (verify.c:%d): ", line);
    if (n >= 0 && (size_t)n < v->errlen) {
      va_list ap;
      va_start(ap, fmt);
      vsnprintf(v->err + n, v->errlen - (size_t)n, fmt, ap);
      va_end(ap);
    }
  }
  return TN_ECORRUPT;
}
#define BAD(...) fail(v, __LINE__, __VA_ARGS__)

/* A string id is valid when it is inside the table and starts a string (the table itself is
 * checked to begin and end with NUL, so every string id names a terminated string). */
static int str_ok(const verifier *v, uint32_t id) {
  const program *p = v->p;
  return id < p->strtab_len && (id == 0 || p->strtab[id - 1] == '\0');
}
static int str_opt_ok(const verifier *v, uint32_t id) { return id == PROG_NONE || str_ok(v, id); }

static int verify_tables(verifier *v) {
  const program *p = v->p;
  if (p->dialect != DIALECT_WAZUH4 && p->dialect != DIALECT_WAZUH5)
    return BAD("unknown dialect %u", p->dialect);
  if (p->flags & ~PROGF_REGISTRY) return BAD("unknown program flags 0x%x", p->flags);
  if (!p->strtab || p->strtab_len == 0) return BAD("no string table");
  if (p->strtab[0] != '\0') return BAD("string 0 is not the empty string");
  if (p->strtab[p->strtab_len - 1] != '\0') return BAD("string table does not end in NUL");

  static const char *const names[] = {"policy id", "policy name", "policy file",
                                      "policy description", "source name"};
  const uint32_t ids[] = {p->policy_id, p->policy_name, p->policy_file, p->policy_description,
                          p->source_name};
  for (size_t i = 0; i < sizeof ids / sizeof ids[0]; i++)
    if (!str_ok(v, ids[i])) return BAD("%s: bad string id %u", names[i], ids[i]);
  if (!str_opt_ok(v, p->policy_references))
    return BAD("policy references: bad string id %u", p->policy_references);

  if (p->nregexes && !p->regexes) return BAD("regex table missing");
  for (uint32_t i = 0; i < p->nregexes; i++) {
    const prog_regex *r = &p->regexes[i];
    if (r->dialect != RX_OSREGEX && r->dialect != RX_PCRE2 && r->dialect != RX_OSMATCH)
      return BAD("regex %u: unknown dialect %u", i, r->dialect);
    if (r->flags & ~(RXF_CASELESS | RXF_LOWERED | RXF_BAD))
      return BAD("regex %u: unknown flags 0x%x", i, r->flags);
    if (!str_ok(v, r->source)) return BAD("regex %u: bad source string id %u", i, r->source);
    if (r->flags & RXF_LOWERED) {
      if (!str_ok(v, r->lowered)) return BAD("regex %u: bad lowered string id %u", i, r->lowered);
    } else if (r->lowered != PROG_NONE) {
      return BAD("regex %u: lowered form without RXF_LOWERED", i);
    }
  }

  if (p->ncode && (!p->code || !p->lines)) return BAD("code or line table missing");
  if (p->nchecks && !p->checks) return BAD("check table missing");
  return TN_OK;
}

static uint8_t step_of(uint8_t condition) {
  return condition == COND_ALL ? OP_ALL : condition == COND_ANY ? OP_ANY : OP_NONE;
}

static int is_rule(uint8_t op) {
  return op == OP_FILE || op == OP_DIR || op == OP_CMD || op == OP_PROC || op == OP_REG;
}
static int is_matcher(uint8_t op) { return op == OP_MREGEX || op == OP_MNUMERIC || op == OP_MLITERAL; }

/* A rule's @expr operand: "-" when allowed, else the start of a matcher sequence. `result` is the
 * RESULT's relative index; matchers occupy (result, len). */
static int expr_ok(const insn *code, uint32_t result, uint32_t len, uint32_t e, int optional) {
  if (e == PROG_NONE) return optional;
  if (e <= result || e >= len) return 0;
  return e == result + 1 || code[e - 1].op == OP_MEND;
}

static int verify_rule(verifier *v, const char *who, const insn *code, uint32_t i, uint32_t result,
                       uint32_t len) {
  const insn *in = &code[i];
  const uint32_t nrx = v->p->nregexes;
  const char *name = vm_opcode_name(in->op);
  if (in->flags) return BAD("%s @%u %s: flags 0x%x on a rule", who, i, name, in->flags);
  if (!str_ok(v, in->a)) return BAD("%s @%u %s: bad string id %u", who, i, name, in->a);
  switch (in->op) {
  case OP_FILE:
  case OP_CMD:
    if (!expr_ok(code, result, len, in->b, 1))
      return BAD("%s @%u %s: expression @%u is not a matcher of this check", who, i, name, in->b);
    break;
  case OP_PROC:
    if (!expr_ok(code, result, len, in->b, 0))
      return BAD("%s @%u %s: expression @%u is not a matcher of this check", who, i, name, in->b);
    break;
  case OP_DIR:
    if (in->b != PROG_NONE && in->b >= nrx)
      return BAD("%s @%u %s: regex %u out of range", who, i, name, in->b);
    if (!expr_ok(code, result, len, in->c, 1))
      return BAD("%s @%u %s: expression @%u is not a matcher of this check", who, i, name, in->c);
    if (in->c != PROG_NONE && in->b == PROG_NONE)
      return BAD("%s @%u %s: content expression without a file pattern", who, i, name);
    break;
  case OP_REG:
    v->uses_registry = 1;
    if (!str_opt_ok(v, in->b)) return BAD("%s @%u %s: bad string id %u", who, i, name, in->b);
    if (!expr_ok(code, result, len, in->c, 1))
      return BAD("%s @%u %s: expression @%u is not a matcher of this check", who, i, name, in->c);
    if (in->c != PROG_NONE && in->b == PROG_NONE)
      return BAD("%s @%u %s: content expression without a value name", who, i, name);
    break;
  }
  return TN_OK;
}

static int verify_matcher(verifier *v, const char *who, const insn *in, uint32_t i) {
  const char *name = vm_opcode_name(in->op);
  if (in->op == OP_MEND) {
    if (in->flags) return BAD("%s @%u MEND: flags 0x%x", who, i, in->flags);
    return TN_OK;
  }
  if (in->flags & ~F_NEG) return BAD("%s @%u %s: flags 0x%x on a matcher", who, i, name, in->flags);
  switch (in->op) {
  case OP_MREGEX:
    if (in->a >= v->p->nregexes) return BAD("%s @%u %s: regex %u out of range", who, i, name, in->a);
    break;
  case OP_MNUMERIC:
    if (!((in->x >= CMP_EQ && in->x <= CMP_GT) ||
          (in->x >= CMP_ERR_NOCOMPARE && in->x <= CMP_ERR_BADOP)))
      return BAD("%s @%u %s: unknown comparison %u", who, i, name, in->x);
    /* Without " compare " there is nothing to split off a regex: the compiler emits none. */
    if (in->x == CMP_ERR_NOCOMPARE) {
      if (in->a != PROG_NONE) return BAD("%s @%u %s: a regex without 'compare'", who, i, name);
    } else if (in->a >= v->p->nregexes) {
      return BAD("%s @%u %s: regex %u out of range", who, i, name, in->a);
    }
    if (!str_ok(v, in->b)) return BAD("%s @%u %s: bad string id %u", who, i, name, in->b);
    /* c: the expected value's digits, present exactly when the comparison has an integer */
    if ((in->x >= CMP_EQ && in->x <= CMP_GT) || in->x == CMP_ERR_BADOP ? !str_ok(v, in->c) : in->c != PROG_NONE)
      return BAD("%s @%u %s: bad expected-value string %u", who, i, name, in->c);
    break;
  case OP_MLITERAL:
    if (!str_ok(v, in->a)) return BAD("%s @%u %s: bad string id %u", who, i, name, in->a);
    break;
  }
  return TN_OK;
}

/* One check (or the requirements): code range, main part, then matcher area. */
static int verify_check(verifier *v, const prog_check *c, const char *who) {
  const program *p = v->p;
  if (c->condition > COND_NONE) return BAD("%s: unknown condition %u", who, c->condition);
  if (c->code > p->ncode || c->code_len > p->ncode - c->code)
    return BAD("%s: code range [%u, +%u) outside the code (%u instructions)", who, c->code,
               c->code_len, p->ncode);
  const insn *code = p->code + c->code;
  const uint32_t len = c->code_len;
  for (uint32_t i = 0; i < len; i++)
    if (code[i].op >= OP__COUNT) return BAD("%s @%u: unknown opcode %u", who, i, code[i].op);

  /* Find the RESULT: the main part is (rule NOT? step) groups. There may be none: the compiler
   * emits a lone RESULT for requirements whose condition is invalid (never met, as in Wazuh). */
  uint32_t i = 0;
  const uint8_t step = step_of(c->condition);
  while (i < len && code[i].op != OP_RESULT) {
    if (!is_rule(code[i].op))
      return BAD("%s @%u: %s where a rule or RESULT belongs", who, i, vm_opcode_name(code[i].op));
    i++;
    if (i < len && code[i].op == OP_NOT) {
      if (code[i].flags) return BAD("%s @%u NOT: flags 0x%x", who, i, code[i].flags);
      i++;
    }
    if (i >= len) return BAD("%s: rule without a step at the end of the code", who);
    if (code[i].op != step)
      return BAD("%s @%u: %s where the step %s of condition %s belongs", who, i,
                 vm_opcode_name(code[i].op), vm_opcode_name(step),
                 vm_condition_name(c->condition));
    i++;
  }
  if (i >= len) return BAD("%s: no RESULT", who);
  const uint32_t result = i;
  if (code[result].flags) return BAD("%s @%u RESULT: flags 0x%x", who, result, code[result].flags);
  if (code[result].x != c->condition)
    return BAD("%s @%u RESULT: condition %u differs from the check's %u", who, result,
               code[result].x, c->condition);

  /* Matcher area: sequences of matchers, each ended by MEND. */
  for (i = result + 1; i < len; i++) {
    if (!is_matcher(code[i].op) && code[i].op != OP_MEND)
      return BAD("%s @%u: %s after RESULT (only matchers belong there)", who, i,
                 vm_opcode_name(code[i].op));
    int rc = verify_matcher(v, who, &code[i], i);
    if (rc != TN_OK) return rc;
  }
  if (len > result + 1 && code[len - 1].op != OP_MEND)
    return BAD("%s @%u: matcher sequence not ended by MEND", who, len - 1);

  /* Now that the layout is known: the operands of rules and steps. */
  for (i = 0; i < result; i++) {
    const insn *in = &code[i];
    if (is_rule(in->op)) {
      int rc = verify_rule(v, who, code, i, result, len);
      if (rc != TN_OK) return rc;
    } else if (in->op == step) {
      if (in->flags & ~F_NOSHORT)
        return BAD("%s @%u %s: flags 0x%x on a step", who, i, vm_opcode_name(in->op), in->flags);
      if (in->a != result)
        return BAD("%s @%u %s: jump to @%u, not to the RESULT @%u", who, i,
                   vm_opcode_name(in->op), in->a, result);
    }
  }
  return TN_OK;
}

typedef struct range {
  uint32_t start, len;
  int64_t id;
} range;

static int by_start(const void *a, const void *b) {
  const range *x = a, *y = b;
  return x->start < y->start ? -1 : x->start > y->start;
}
static int by_id(const void *a, const void *b) {
  const range *x = a, *y = b;
  return x->id < y->id ? -1 : x->id > y->id;
}

/* Code ranges inside the code and disjoint (the requirements included), unique check ids. Done
 * before any check's code is read, so the work of verifying the code is linear in its size even
 * when a hostile bundle gives a million checks the same huge range. */
static int verify_layout(verifier *v) {
  const program *p = v->p;
  size_t n = (size_t)p->nchecks + (p->has_requirements ? 1 : 0);
  if (n == 0) return TN_OK;
  range *r = malloc(n * sizeof *r);
  if (!r) {
    if (v->err && v->errlen) snprintf(v->err, v->errlen, "out of memory");
    return TN_ENOMEM;
  }
  for (uint32_t i = 0; i < p->nchecks; i++)
    r[i] = (range){p->checks[i].code, p->checks[i].code_len, p->checks[i].id};
  if (p->has_requirements) r[n - 1] = (range){p->requirements.code, p->requirements.code_len, 0};
  int rc = TN_OK;
  for (size_t i = 0; i < n; i++)
    if (r[i].start > p->ncode || r[i].len > p->ncode - r[i].start) {
      char who[48];
      if (p->has_requirements && i == n - 1) snprintf(who, sizeof who, "requirements");
      else snprintf(who, sizeof who, "check %lld", (long long)r[i].id);
      rc = BAD("%s: code range [%u, +%u) outside the code (%u instructions)", who, r[i].start,
               r[i].len, p->ncode);
      goto done;
    }
  qsort(r, n, sizeof *r, by_start);
  for (size_t i = 1; i < n; i++)
    if (r[i].start < r[i - 1].start + r[i - 1].len) {
      rc = BAD("code ranges of two checks overlap at instruction %u", r[i].start);
      goto done;
    }
  /* Ids last: the requirements (id 0 by rule) are left out. */
  size_t m = 0;
  for (uint32_t i = 0; i < p->nchecks; i++) r[m++].id = p->checks[i].id;
  qsort(r, m, sizeof *r, by_id);
  for (size_t i = 1; i < m; i++)
    if (r[i].id == r[i - 1].id) {
      rc = BAD("check id %lld appears twice", (long long)r[i].id);
      goto done;
    }
done:
  free(r);
  return rc;
}

int program_verify(const program *p, char *err, size_t errlen) {
  verifier vv = {p, err, errlen, 0}, *v = &vv;
  if (!p) return BAD("no program");
  int rc = verify_tables(v);
  if (rc == TN_OK) rc = verify_layout(v);
  if (rc != TN_OK) return rc;

  char who[48];
  for (uint32_t i = 0; i < p->nchecks; i++) {
    const prog_check *c = &p->checks[i];
    snprintf(who, sizeof who, "check %lld", (long long)c->id);
    if (!str_ok(v, c->title)) return BAD("%s: bad title string id %u", who, c->title);
    if (!str_ok(v, c->meta)) return BAD("%s: bad metadata string id %u", who, c->meta);
    if ((rc = verify_check(v, c, who)) != TN_OK) return rc;
  }
  if (p->has_requirements) {
    const prog_check *c = &p->requirements;
    if (c->id != 0 || c->meta != PROG_NONE)
      return BAD("requirements: id must be 0 and metadata none");
    if (!str_ok(v, c->title)) return BAD("requirements: bad title string id %u", c->title);
    if ((rc = verify_check(v, c, "requirements")) != TN_OK) return rc;
  }
  if (v->uses_registry && !(p->flags & PROGF_REGISTRY))
    return BAD("registry rules without the PROGF_REGISTRY flag");
  return TN_OK;
}
