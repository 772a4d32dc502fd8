/* verify.c — the bytecode verifier: the mirror of code generation (compiler/emit, codegen).
 *
 * program_verify accepts exactly the shape the compiler emits (opcodes.def's comment) and nothing
 * else, so the interpreter can run a verified program without re-checking a single operand:
 *
 *   check code   := main matchers
 *   main         := (rule NOT? step)* RESULT      every step is the one of the check's condition
 *                                                 and jumps to that RESULT
 *   matchers     := (matcher* MEND)*
 *
 * where rule, NOT, step, RESULT, matcher and MEND are the instruction classes of opcodes.def.
 * Flags and operands are checked by the table, not per opcode: an instruction carries only the
 * flag bits its row allows, and each slot (x, a, b, c) holds what its operand kind says
 * (operands.def: string ids at the start of a string, regex indexes inside the table, @expr the
 * first instruction of a matcher sequence of the same check, a step's target its RESULT,
 * RESULT's condition the check's, ...). A rule also obeys its row of rules.def: a content
 * expression needs the name before it, and the program carries the flags the kind needs
 * (PROGF_REGISTRY for r:). Tables: regexes have a known dialect, known flags and a lowered form
 * iff RXF_LOWERED; checks have unique ids and disjoint code ranges inside the code (checked first,
 * so verifying is linear in the code size); every instruction has a line.
 *
 * Every rejection names the line of this file that caught it: "invalid bytecode (verify.c:N): …". */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "bundle.h"
#include "err.h"
#include "rulekind.h"

typedef struct verifier {
  const program *p;
  char *err;
  size_t errlen;
  unsigned needs; /* program flags the rule kinds seen need (rules.def's progflags) */
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

static unsigned class_of(uint8_t op) { return vm_opcode_info(op)->cls; }

/* The check being verified: its code, and the RESULT that splits it into main part and matchers. */
typedef struct check_code {
  const char *who;
  const insn *code;
  uint32_t len, result;
  uint8_t condition;
} check_code;

/* A rule's @expr operand: "-" when allowed, else the start of a matcher sequence. Matchers
 * occupy (result, len). */
static int expr_ok(const check_code *k, uint32_t e, int optional) {
  if (e == PROG_NONE) return optional;
  if (e <= k->result || e >= k->len) return 0;
  return e == k->result + 1 || k->code[e - 1].op == OP_MEND;
}

static uint32_t slot_value(const insn *in, int slot) {
  switch (slot) {
  case SLOT_X: return in->x;
  case SLOT_A: return in->a;
  case SLOT_B: return in->b;
  default: return in->c;
  }
}

/* One operand, by the kind opcodes.def gives its slot (operands.def says what each kind holds). */
static int verify_operand(verifier *v, const check_code *k, uint32_t i, int slot, unsigned kind) {
  const insn *in = &k->code[i];
  const char *who = k->who, *name = vm_opcode_name(in->op);
  const uint32_t val = slot_value(in, slot), nrx = v->p->nregexes;
  switch ((enum vm_operand_kind)kind) {
  case OPK_NONE: return TN_OK;
  case OPK_STR:
  case OPK_CMPTEXT:
    if (!str_ok(v, val)) return BAD("%s @%u %s: bad string id %u", who, i, name, val);
    return TN_OK;
  case OPK_STR_OPT:
    if (!str_opt_ok(v, val)) return BAD("%s @%u %s: bad string id %u", who, i, name, val);
    return TN_OK;
  case OPK_RX:
    if (val >= nrx) return BAD("%s @%u %s: regex %u out of range", who, i, name, val);
    return TN_OK;
  case OPK_RX_OPT:
    if (val != PROG_NONE && val >= nrx) return BAD("%s @%u %s: regex %u out of range", who, i, name, val);
    return TN_OK;
  case OPK_RX_CMP:
    /* Without " compare " there is nothing to split off a regex: the compiler emits none. */
    if (in->x == CMP_ERR_NOCOMPARE) {
      if (val != PROG_NONE) return BAD("%s @%u %s: a regex without 'compare'", who, i, name);
    } else if (val >= nrx) {
      return BAD("%s @%u %s: regex %u out of range", who, i, name, val);
    }
    return TN_OK;
  case OPK_DIGITS: /* present exactly when the comparison has an integer */
    if (vm_cmp_has_value(in->x) ? !str_ok(v, val) : val != PROG_NONE)
      return BAD("%s @%u %s: bad expected-value string %u", who, i, name, val);
    return TN_OK;
  case OPK_EXPR:
  case OPK_EXPR_OPT:
    if (!expr_ok(k, val, kind == OPK_EXPR_OPT))
      return BAD("%s @%u %s: expression @%u is not a matcher of this check", who, i, name, val);
    return TN_OK;
  case OPK_RESULT:
    if (val != k->result)
      return BAD("%s @%u %s: jump to @%u, not to the RESULT @%u", who, i, name, val, k->result);
    return TN_OK;
  case OPK_COND:
    if (val != k->condition)
      return BAD("%s @%u %s: condition %u differs from the check's %u", who, i, name, val, k->condition);
    return TN_OK;
  case OPK_CMP:
    if (!vm_cmp_known(val)) return BAD("%s @%u %s: unknown comparison %u", who, i, name, val);
    return TN_OK;
  case OPK__COUNT: break;
  }
  return BAD("%s @%u %s: operand %c has an unknown kind %u", who, i, name, "xabc"[slot], kind);
}

/* One instruction whose place in the check is known: its flags and operands as opcodes.def
 * declares them, then what rules.def adds for a rule (a content expression needs the name before
 * it; the program flags the kind needs). */
static int verify_insn(verifier *v, const check_code *k, uint32_t i) {
  static const char *const flag_place[OPC__COUNT] = {[OPC_RULE] = " on a rule", [OPC_STEP] = " on a step",
                                                     [OPC_MATCH] = " on a matcher"};
  const insn *in = &k->code[i];
  const vm_opinfo *op = vm_opcode_info(in->op);
  if (in->flags & ~op->flags) {
    const char *place = flag_place[op->cls] ? flag_place[op->cls] : "";
    return BAD("%s @%u %s: flags 0x%x%s", k->who, i, op->name, in->flags, place);
  }
  for (int s = 0; s < SLOT__COUNT; s++) {
    int rc = verify_operand(v, k, i, s, op->kind[s]);
    if (rc != TN_OK) return rc;
  }
  if (op->cls != OPC_RULE) return TN_OK;
  const vm_rule_kind *rk = vm_rule_kind_by_op(in->op);
  if (!rk) return BAD("%s @%u %s: a rule opcode without a rule kind", k->who, i, op->name);
  if (rk->shape == RULE_SHAPE_NAME_CONTENT && in->c != PROG_NONE && in->b == PROG_NONE)
    return BAD("%s @%u %s: content expression without a %s", k->who, i, op->name, rk->name);
  v->needs |= rk->progflags;
  return TN_OK;
}

/* One check (or the requirements): code range, the layout of main part and matcher area by
 * instruction class, then every instruction's flags and operands. */
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
    if (class_of(code[i].op) != OPC_RULE)
      return BAD("%s @%u: %s where a rule or RESULT belongs", who, i, vm_opcode_name(code[i].op));
    i++;
    if (i < len && class_of(code[i].op) == OPC_NOT) i++;
    if (i >= len) return BAD("%s: rule without a step at the end of the code", who);
    if (code[i].op != step)
      return BAD("%s @%u: %s where the step %s of condition %s belongs", who, i,
                 vm_opcode_name(code[i].op), vm_opcode_name(step),
                 vm_condition_name(c->condition));
    i++;
  }
  if (i >= len) return BAD("%s: no RESULT", who);
  const check_code k = {who, code, len, i, c->condition};

  /* Matcher area: sequences of matchers, each ended by MEND. */
  for (i = k.result + 1; i < len; i++)
    if (class_of(code[i].op) != OPC_MATCH && class_of(code[i].op) != OPC_MEND)
      return BAD("%s @%u: %s after RESULT (only matchers belong there)", who, i,
                 vm_opcode_name(code[i].op));
  if (len > k.result + 1 && code[len - 1].op != OP_MEND)
    return BAD("%s @%u: matcher sequence not ended by MEND", who, len - 1);

  /* Now that the layout is known: every instruction's flags and operands. */
  for (i = 0; i < len; i++) {
    int rc = verify_insn(v, &k, i);
    if (rc != TN_OK) return rc;
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
  for (size_t i = 0; i < VM_RULE_KIND_COUNT; i++) {
    const vm_rule_kind *rk = vm_rule_kind_at(i);
    if ((v->needs & rk->progflags) && (rk->progflags & ~p->flags))
      return BAD("%s rules without the %s flag", rk->key, rk->progflag_name);
  }
  return TN_OK;
}
