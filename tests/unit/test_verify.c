/* test_verify.c — the bytecode verifier (vm/verify.c): it accepts the shapes the compiler emits
 * (opcodes.def's comment) and rejects everything else, naming the line that caught it.
 *
 * Every invalid case starts from the same valid program and breaks exactly one thing. */
#include "test.h"

#include <time.h>

#include "bundle.h"
#include "err.h"
#include "program.h"

#define N PROG_NONE

/* Emit one instruction; the YAML line is a made-up but distinct number. */
static uint32_t E(program *p, uint8_t op, uint8_t flags, uint16_t x, uint32_t a, uint32_t b,
                  uint32_t c) {
  return program_emit(p, op, flags, x, a, b, c, 100 + p->ncode);
}

static void add_check(program *p, int64_t id, uint8_t cond, uint32_t start, const char *title) {
  prog_check c = {.id = id,
                  .title = program_intern(p, title),
                  .condition = cond,
                  .code = start,
                  .code_len = p->ncode - start,
                  .meta = program_intern(p, "\"id\":1"),
                  .line = 10};
  program_add_check(p, &c);
}

/* A valid program using every opcode, every rule kind, NOT, all three conditions, matcher
 * sequences shared by address, and requirements. Check 1 starts at 0, check 2 at 11, check 3 at
 * 20, the requirements at 23. */
static program *base(void) {
  program *p = program_new();
  p->policy_id = program_intern(p, "pol");
  p->policy_name = program_intern(p, "name");
  p->policy_file = program_intern(p, "pol.yml");
  p->policy_description = program_intern(p, "desc");
  p->source_name = program_intern(p, "src.yml");
  uint32_t rx0 = program_add_regex(p, "^root", RX_OSREGEX, RXF_LOWERED, "(?i)^root");
  uint32_t rx1 = program_add_regex(p, "(\\d+)", RX_PCRE2, RXF_CASELESS, NULL);
  uint32_t rx2 = program_add_regex(p, ".conf", RX_OSMATCH, 0, NULL);
  uint32_t s_passwd = program_intern(p, "/etc/passwd"), s_uname = program_intern(p, "uname -a");

  uint32_t s = p->ncode; /* check 1: all */
  E(p, OP_FILE, 0, 0, s_passwd, 6, N);
  E(p, OP_ALL, 0, 0, 5, 0, 0);
  E(p, OP_CMD, 0, 0, s_uname, 8, N);
  E(p, OP_NOT, 0, 0, 0, 0, 0);
  E(p, OP_ALL, 0, 0, 5, 0, 0);
  E(p, OP_RESULT, 0, COND_ALL, 0, 0, 0);
  E(p, OP_MREGEX, F_NEG, 0, rx0, 0, 0);
  E(p, OP_MEND, 0, 0, 0, 0, 0);
  E(p, OP_MNUMERIC, 0, CMP_GT, rx1, program_intern(p, "compare > 3"), program_intern(p, "3"));
  E(p, OP_MLITERAL, F_NEG, 0, program_intern(p, "literal"), 0, 0);
  E(p, OP_MEND, 0, 0, 0, 0, 0);
  add_check(p, 1, COND_ALL, s, "first");

  s = p->ncode; /* check 2: any */
  E(p, OP_DIR, 0, 0, program_intern(p, "/etc"), rx2, 5);
  E(p, OP_ANY, 0, 0, 4, 0, 0);
  E(p, OP_PROC, 0, 0, program_intern(p, "sshd"), 7, N);
  E(p, OP_ANY, 0, 0, 4, 0, 0);
  E(p, OP_RESULT, 0, COND_ANY, 0, 0, 0);
  E(p, OP_MREGEX, 0, 0, rx1, 0, 0);
  E(p, OP_MEND, 0, 0, 0, 0, 0);
  E(p, OP_MLITERAL, 0, 0, program_intern(p, "sshd"), 0, 0);
  E(p, OP_MEND, 0, 0, 0, 0, 0);
  add_check(p, 2, COND_ANY, s, "second");

  s = p->ncode; /* check 3: none, a registry rule */
  E(p, OP_REG, 0, 0, program_intern(p, "HKLM\\Soft"), program_intern(p, "Val"), N);
  E(p, OP_NONE, 0, 0, 2, 0, 0);
  E(p, OP_RESULT, 0, COND_NONE, 0, 0, 0);
  add_check(p, 3, COND_NONE, s, "third");
  p->flags |= PROGF_REGISTRY;

  s = p->ncode; /* requirements */
  E(p, OP_FILE, 0, 0, program_intern(p, "/etc/os-release"), N, N);
  E(p, OP_ANY, 0, 0, 2, 0, 0);
  E(p, OP_RESULT, 0, COND_ANY, 0, 0, 0);
  p->has_requirements = 1;
  p->requirements = (prog_check){.id = 0, .title = program_intern(p, "reqs"), .condition = COND_ANY,
                                 .code = s, .code_len = p->ncode - s, .meta = N, .line = 5};
  program_freeze(p);
  return p;
}

static char err[512];

static int verify(const program *p) {
  err[0] = '\0';
  return program_verify(p, err, sizeof err);
}

/* The instruction at relative index i of check k (k = 3 means the requirements). */
static insn *at(program *p, int k, uint32_t i) {
  const prog_check *c = k < 3 ? &p->checks[k] : &p->requirements;
  return &p->code[c->code + i];
}

static void test_valid_program(void) {
  program *p = base();
  CHECK_INT(verify(p), TN_OK);
  CHECK_STR(err, "");
  program_free(p);
}

static void test_valid_variants(void) {
  /* 5.x steps that do not short-circuit; n: without compare; rule-less requirements; an empty
   * matcher sequence; no requirements; no checks. */
  program *p = base();
  p->dialect = DIALECT_WAZUH5;
  at(p, 0, 1)->flags = F_NOSHORT;
  at(p, 0, 4)->flags = F_NOSHORT;
  CHECK_INT(verify(p), TN_OK);
  /* n: without ' compare ': no regex, the text only. */
  at(p, 0, 8)->x = CMP_ERR_NOCOMPARE;
  at(p, 0, 8)->a = N;
  at(p, 0, 8)->c = N; /* and no expected value */
  CHECK_INT(verify(p), TN_OK);
  /* Requirements with an invalid condition: a lone RESULT (any), never met. */
  p->requirements.code += 2;
  p->requirements.code_len = 1;
  CHECK_INT(verify(p), TN_OK);
  p->has_requirements = 0;
  CHECK_INT(verify(p), TN_OK);
  *at(p, 0, 9) = (insn){.op = OP_MEND}; /* "MNUMERIC MEND MEND": the 2nd sequence is empty */
  CHECK_INT(verify(p), TN_OK);
  p->nchecks = 0;
  CHECK_INT(verify(p), TN_OK);
  program_free(p);

  /* A program with no code at all. */
  p = program_new();
  program_freeze(p);
  CHECK_INT(verify(p), TN_OK);
  program_free(p);
}

/* One way to break the base program. */
typedef struct breakage {
  const char *name;
  void (*apply)(program *p);
  const char *expect; /* a fragment of the message */
} breakage;

static void b_opcode(program *p) { at(p, 0, 2)->op = OP__COUNT; }
static void b_opcode_255(program *p) { at(p, 1, 6)->op = 255; }
static void b_flag_unknown(program *p) { at(p, 0, 6)->flags = 0x80; }
static void b_flag_neg_on_rule(program *p) { at(p, 0, 0)->flags = F_NEG; }
static void b_flag_noshort_on_matcher(program *p) { at(p, 0, 6)->flags = F_NOSHORT; }
static void b_flag_on_result(program *p) { at(p, 0, 5)->flags = F_NOSHORT; }
static void b_flag_on_not(program *p) { at(p, 0, 3)->flags = F_NEG; }
static void b_flag_on_mend(program *p) { at(p, 0, 7)->flags = F_NEG; }
static void b_str_range(program *p) { at(p, 0, 0)->a = p->strtab_len; }
static void b_str_none(program *p) { at(p, 0, 2)->a = N; }
static void b_str_midstring(program *p) { at(p, 0, 0)->a += 1; }
static void b_literal_str(program *p) { at(p, 0, 9)->a = p->strtab_len + 100; }
static void b_numeric_text(program *p) { at(p, 0, 8)->b = p->strtab_len; }
static void b_regex_range(program *p) { at(p, 0, 6)->a = p->nregexes; }
static void b_numeric_regex(program *p) { at(p, 0, 8)->a = N; }
static void b_dir_regex(program *p) { at(p, 1, 0)->b = 77; }
static void b_dir_expr_no_pattern(program *p) { at(p, 1, 0)->b = N; }
static void b_numeric_cmp(program *p) { at(p, 0, 8)->x = 0; }
static void b_numeric_cmp_gap(program *p) { at(p, 0, 8)->x = CMP_GT + 1; }
static void b_range_outside(program *p) { p->checks[2].code = p->ncode; }
static void b_range_len(program *p) { p->checks[2].code_len = UINT32_MAX; }
static void b_range_overlap(program *p) {
  /* check 3 re-uses check 2's code: each is well formed on its own */
  p->checks[2].code = p->checks[1].code;
  p->checks[2].code_len = p->checks[1].code_len;
  p->checks[2].condition = COND_ANY;
}
static void b_wrong_step(program *p) { at(p, 0, 1)->op = OP_ANY; }
static void b_step_target(program *p) { at(p, 0, 1)->a = 4; }
static void b_jump_out(program *p) { at(p, 1, 1)->a = 1000; }
static void b_result_cond(program *p) { at(p, 0, 5)->x = COND_ANY; }
static void b_no_result(program *p) { p->checks[2].code_len = 2; }
static void b_numeric_nocompare_regex(program *p) { at(p, 0, 8)->x = CMP_ERR_NOCOMPARE; }
static void b_empty_range(program *p) { p->checks[2].code_len = 0; }
static void b_rule_without_step(program *p) { at(p, 0, 1)->op = OP_FILE; }
static void b_double_not(program *p) { at(p, 0, 4)->op = OP_NOT; }
static void b_matcher_in_main(program *p) { at(p, 0, 2)->op = OP_MREGEX; }
static void b_rule_after_result(program *p) { at(p, 0, 6)->op = OP_FILE; }
static void b_step_after_result(program *p) { at(p, 0, 7)->op = OP_ALL; }
static void b_result_twice(program *p) { at(p, 0, 9)->op = OP_RESULT; }
static void b_no_mend(program *p) { at(p, 0, 10)->op = OP_MLITERAL; }
static void b_expr_midsequence(program *p) { at(p, 0, 2)->b = 9; }
static void b_expr_main_part(program *p) { at(p, 0, 0)->b = 3; }
static void b_expr_result(program *p) { at(p, 0, 0)->b = 5; }
static void b_expr_past_check(program *p) { at(p, 0, 0)->b = 11; }
static void b_proc_no_expr(program *p) { at(p, 1, 2)->b = N; }
static void b_rx_dialect(program *p) { p->regexes[1].dialect = 0; }
static void b_rx_flags(program *p) { p->regexes[1].flags = 0x40; }
static void b_rx_lowered_noflag(program *p) { p->regexes[0].flags = 0; }
static void b_rx_flag_nolowered(program *p) { p->regexes[1].flags |= RXF_LOWERED; }
static void b_rx_source(program *p) { p->regexes[2].source = p->strtab_len; }
static void b_dup_id(program *p) { p->checks[2].id = 1; }
static void b_condition(program *p) { p->checks[1].condition = 3; }
static void b_registry_flag(program *p) { p->flags = 0; }
static void b_prog_flags(program *p) { p->flags |= 0x100; }
static void b_dialect(program *p) { p->dialect = 3; }
static void b_title(program *p) { p->checks[0].title = p->strtab_len; }
static void b_meta_none(program *p) { p->checks[0].meta = N; }
static void b_req_meta(program *p) { p->requirements.meta = 0; }
static void b_req_id(program *p) { p->requirements.id = 7; }
static void b_policy_id(program *p) { p->policy_id = N; }
static void b_references(program *p) { p->policy_references = 3; /* inside "pol", not a start */ }
static void b_strtab_nul(program *p) { p->strtab[p->strtab_len - 1] = 'x'; }
static void b_strtab_first(program *p) { p->strtab[0] = 'x'; }
static void b_lines(program *p) {
  free(p->lines);
  p->lines = NULL;
}

static const breakage breakages[] = {
    {"opcode = OP__COUNT", b_opcode, "unknown opcode"},
    {"opcode 255", b_opcode_255, "unknown opcode 255"},
    {"unknown flag", b_flag_unknown, "flags 0x80"},
    {"F_NEG on a rule", b_flag_neg_on_rule, "on a rule"},
    {"F_NOSHORT on a matcher", b_flag_noshort_on_matcher, "on a matcher"},
    {"flags on RESULT", b_flag_on_result, "RESULT: flags"},
    {"flags on NOT", b_flag_on_not, "NOT: flags"},
    {"flags on MEND", b_flag_on_mend, "MEND: flags"},
    {"string id past the table", b_str_range, "bad string id"},
    {"string id none", b_str_none, "bad string id"},
    {"string id inside a string", b_str_midstring, "bad string id"},
    {"literal string id", b_literal_str, "bad string id"},
    {"numeric text id", b_numeric_text, "bad string id"},
    {"regex out of range", b_regex_range, "regex 3 out of range"},
    {"numeric regex none", b_numeric_regex, "out of range"},
    {"dir regex out of range", b_dir_regex, "regex 77 out of range"},
    {"dir expression without pattern", b_dir_expr_no_pattern, "without a file pattern"},
    {"comparison 0", b_numeric_cmp, "unknown comparison 0"},
    {"comparison in the gap", b_numeric_cmp_gap, "unknown comparison"},
    {"code range outside", b_range_outside, "outside the code"},
    {"code length overflow", b_range_len, "outside the code"},
    {"overlapping checks", b_range_overlap, "overlap"},
    {"step of another condition", b_wrong_step, "step ALL of condition all"},
    {"step not to RESULT", b_step_target, "not to the RESULT"},
    {"jump out of range", b_jump_out, "jump to @1000"},
    {"RESULT condition", b_result_cond, "differs from the check's"},
    {"no RESULT", b_no_result, "no RESULT"},
    {"regex with CMP_ERR_NOCOMPARE", b_numeric_nocompare_regex, "a regex without 'compare'"},
    {"empty code range", b_empty_range, "no RESULT"},
    {"rule without step", b_rule_without_step, "where the step"},
    {"NOT twice", b_double_not, "where the step"},
    {"matcher in the main part", b_matcher_in_main, "where a rule or RESULT belongs"},
    {"rule after RESULT", b_rule_after_result, "after RESULT"},
    {"step after RESULT", b_step_after_result, "after RESULT"},
    {"two RESULTs", b_result_twice, "after RESULT"},
    {"matchers without MEND", b_no_mend, "not ended by MEND"},
    {"expression inside a sequence", b_expr_midsequence, "not a matcher of this check"},
    {"expression in the main part", b_expr_main_part, "not a matcher of this check"},
    {"expression at RESULT", b_expr_result, "not a matcher of this check"},
    {"expression past the check", b_expr_past_check, "not a matcher of this check"},
    {"process rule without expression", b_proc_no_expr, "not a matcher of this check"},
    {"regex dialect", b_rx_dialect, "unknown dialect 0"},
    {"regex flags", b_rx_flags, "unknown flags 0x40"},
    {"lowered without flag", b_rx_lowered_noflag, "without RXF_LOWERED"},
    {"flag without lowered", b_rx_flag_nolowered, "bad lowered string id"},
    {"regex source", b_rx_source, "bad source string id"},
    {"duplicate check id", b_dup_id, "appears twice"},
    {"unknown condition", b_condition, "unknown condition 3"},
    {"registry without PROGF_REGISTRY", b_registry_flag, "PROGF_REGISTRY"},
    {"unknown program flag", b_prog_flags, "unknown program flags"},
    {"unknown dialect", b_dialect, "unknown dialect 3"},
    {"bad title", b_title, "bad title"},
    {"check without metadata", b_meta_none, "bad metadata"},
    {"requirements with metadata", b_req_meta, "metadata none"},
    {"requirements with an id", b_req_id, "id must be 0"},
    {"policy id none", b_policy_id, "policy id"},
    {"references inside a string", b_references, "policy references"},
    {"string table without final NUL", b_strtab_nul, "does not end in NUL"},
    {"string 0 not empty", b_strtab_first, "string 0"},
    {"no line table", b_lines, "line table missing"},
};

static void test_invalid_programs(void) {
  for (size_t i = 0; i < sizeof breakages / sizeof breakages[0]; i++) {
    const breakage *b = &breakages[i];
    program *p = base();
    b->apply(p);
    int rc = verify(p);
    if (rc != TN_ECORRUPT || !strstr(err, "invalid bytecode (verify.c:") || !strstr(err, b->expect))
      fprintf(stderr, "case '%s': rc %d, message '%s' (expected '%s')\n", b->name, rc, err,
              b->expect);
    CHECK_INT(rc, TN_ECORRUPT);
    CHECK(strstr(err, "invalid bytecode (verify.c:") != NULL);
    CHECK(strstr(err, b->expect) != NULL);
    program_free(p);
  }
}

static void test_registry_expression(void) {
  /* r:key -> value -> expr is fine once the value is there and the expression is a matcher. */
  program *p = program_new();
  p->flags = PROGF_REGISTRY;
  uint32_t rx = program_add_regex(p, "x", RX_OSREGEX, 0, NULL);
  E(p, OP_REG, 0, 0, program_intern(p, "HKLM\\K"), program_intern(p, "V"), 3);
  E(p, OP_ALL, 0, 0, 2, 0, 0);
  E(p, OP_RESULT, 0, COND_ALL, 0, 0, 0);
  E(p, OP_MREGEX, 0, 0, rx, 0, 0);
  E(p, OP_MEND, 0, 0, 0, 0, 0);
  add_check(p, 9, COND_ALL, 0, "reg");
  program_freeze(p);
  CHECK_INT(verify(p), TN_OK);
  p->code[0].b = N;
  CHECK_INT(verify(p), TN_ECORRUPT);
  CHECK(strstr(err, "without a value name") != NULL);
  program_free(p);
}

/* A hostile program giving 50,000 checks the same 100,000-instruction range must be refused
 * before any check's code is scanned (else the work is quadratic: 5e9 instruction visits). */
static void test_shared_range_is_cheap(void) {
  program *p = program_new();
  p->policy_id = program_intern(p, "p");
  E(p, OP_FILE, 0, 0, program_intern(p, "/f"), N, N);
  E(p, OP_ALL, 0, 0, 2, 0, 0);
  E(p, OP_RESULT, 0, COND_ALL, 0, 0, 0);
  while (p->ncode < 100000) E(p, OP_MEND, 0, 0, 0, 0, 0);
  for (int64_t id = 1; id <= 50000; id++) add_check(p, id, COND_ALL, 0, "t");
  program_freeze(p);
  clock_t t0 = clock();
  CHECK_INT(verify(p), TN_ECORRUPT);
  CHECK(strstr(err, "overlap") != NULL);
  CHECK((double)(clock() - t0) / CLOCKS_PER_SEC < 5.0);
  p->nchecks = 1; /* one of them alone is fine */
  CHECK_INT(verify(p), TN_OK);
  program_free(p);
}

static void test_null_error_buffer(void) {
  program *p = base();
  p->code[0].op = 200;
  CHECK_INT(program_verify(p, NULL, 0), TN_ECORRUPT);
  CHECK_INT(program_verify(NULL, err, sizeof err), TN_ECORRUPT);
  program_free(p);
}

int main(void) {
  RUN(test_valid_program);
  RUN(test_valid_variants);
  RUN(test_invalid_programs);
  RUN(test_registry_expression);
  RUN(test_shared_range_is_cheap);
  RUN(test_null_error_buffer);
  return test_report();
}
