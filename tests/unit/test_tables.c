/* test_tables.c — the tables drive the verifier and the disassembler: for every row of
 * vm/opcodes.def, every operand slot is checked by its kind (operands.def) — a good value is
 * accepted, a bad one rejected naming the opcode, "-" accepted exactly where the kind is optional,
 * an unused slot never read — flags are accepted exactly where the row allows them, and the
 * disassembly prints each slot with its kind's letter; for every row of vm/rules.def, the kind
 * agrees with its opcode, its positions are permutations and its program flags are required. */
#include "test.h"

#include <sys/wait.h>

#include "bundle.h"
#include "disasm.h"
#include "err.h"
#include "program.h"
#include "rulekind.h"

#define N PROG_NONE

/* A check made to hold one instruction of opcode `op`, every other instruction fixed. */
typedef struct fixture {
  program *p;
  uint8_t op, cond;
  uint32_t at;      /* relative index of the instruction under test */
  uint32_t result;  /* relative index of the RESULT */
  uint32_t matcher; /* relative index of a matcher sequence */
  uint32_t str, digits;
} fixture;

static const char *const STR_TEXT = "/etc/passwd";
static const char *const RX_TEXT = "^root";

/* A value of `kind` that the verifier accepts in this fixture. */
static uint32_t good(const fixture *f, int slot, unsigned kind) {
  switch (kind) {
  case OPK_NONE: return slot == SLOT_X ? 0xBEEF : 0xDEADBEEF; /* garbage: never read */
  case OPK_STR:
  case OPK_STR_OPT:
  case OPK_CMPTEXT: return f->str;
  case OPK_RX:
  case OPK_RX_OPT:
  case OPK_RX_CMP: return 0;
  case OPK_DIGITS: return f->digits;
  case OPK_EXPR:
  case OPK_EXPR_OPT: return f->matcher;
  case OPK_RESULT: return f->result;
  case OPK_COND: return f->cond;
  case OPK_CMP: return CMP_GT;
  }
  return 0;
}

/* Values of `kind` the verifier must reject (the end of the list is N+1). */
static void bad_values(const fixture *f, unsigned kind, uint32_t out[4]) {
  const uint32_t end = N - 1; /* a sentinel no kind accepts here */
  for (int i = 0; i < 4; i++)
    out[i] = end;
  switch (kind) {
  case OPK_STR:
  case OPK_CMPTEXT: out[0] = f->p->strtab_len, out[1] = f->str + 1, out[2] = N; break;
  case OPK_STR_OPT:
  case OPK_DIGITS: out[0] = f->p->strtab_len, out[1] = f->str + 1; break;
  case OPK_RX:
  case OPK_RX_CMP: out[0] = f->p->nregexes, out[1] = N; break;
  case OPK_RX_OPT: out[0] = f->p->nregexes; break;
  case OPK_EXPR: out[0] = f->result, out[1] = N, out[2] = 0; break;
  case OPK_EXPR_OPT: out[0] = f->result, out[1] = 0; break;
  case OPK_RESULT: out[0] = f->result + 1, out[1] = 0; break;
  case OPK_COND: out[0] = (f->cond + 1u) % 3u, out[1] = 7; break;
  case OPK_CMP: out[0] = 0, out[1] = CMP_GT + 1, out[2] = CMP_ERR_BADOP + 1; break;
  default: break;
  }
}

static int optional(unsigned kind) {
  return kind == OPK_STR_OPT || kind == OPK_RX_OPT || kind == OPK_EXPR_OPT;
}

static void set_slot(insn *in, int slot, uint32_t v) {
  switch (slot) {
  case SLOT_X: in->x = (uint16_t)v; break;
  case SLOT_A: in->a = v; break;
  case SLOT_B: in->b = v; break;
  default: in->c = v; break;
  }
}

static uint8_t step_of(uint8_t cond) {
  return cond == COND_ALL ? OP_ALL : cond == COND_ANY ? OP_ANY : OP_NONE;
}

/* Build the fixture of opcode op: the instruction under test has good operands everywhere. */
static fixture build(uint8_t op) {
  fixture f = {.op = op, .cond = COND_ALL};
  program *p = f.p = program_new();
  p->policy_id = program_intern(p, "pol");
  p->policy_name = program_intern(p, "name");
  p->policy_file = program_intern(p, "pol.yml");
  p->policy_description = program_intern(p, "desc");
  p->source_name = program_intern(p, "src.yml");
  f.str = program_intern(p, STR_TEXT);
  f.digits = program_intern(p, "3");
  program_add_regex(p, RX_TEXT, RX_PCRE2, 0, NULL);
  const vm_opinfo *o = vm_opcode_info(op);
  if (o->cls == OPC_STEP) f.cond = op == OP_ALL ? COND_ALL : op == OP_ANY ? COND_ANY : COND_NONE;
  /* layout: a rule (or the one under test), NOT when tested, the step, RESULT, matchers */
  uint32_t rule_at = 0, not_at = o->cls == OPC_NOT ? 1 : N;
  uint32_t step_at = o->cls == OPC_NOT ? 2 : 1;
  f.result = step_at + 1;
  f.matcher = f.result + 1;
  f.at = o->cls == OPC_RULE     ? rule_at
         : o->cls == OPC_NOT    ? not_at
         : o->cls == OPC_STEP   ? step_at
         : o->cls == OPC_RESULT ? f.result
                                : f.matcher;
  for (uint32_t i = 0; i <= f.result + 2; i++) {
    insn in = {0};
    if (i == rule_at)
      in = (insn){.op = OP_FILE, .a = f.str, .b = f.matcher, .c = N};
    else if (i == not_at)
      in = (insn){.op = OP_NOT};
    else if (i == step_at)
      in = (insn){.op = step_of(f.cond), .a = f.result};
    else if (i == f.result)
      in = (insn){.op = OP_RESULT, .x = f.cond};
    else if (i == f.matcher)
      in = (insn){.op = OP_MREGEX, .a = 0};
    else
      in = (insn){.op = OP_MEND};
    if (i == f.at) {
      in = (insn){.op = op};
      for (int s = 0; s < SLOT__COUNT; s++)
        set_slot(&in, s, good(&f, s, o->kind[s]));
    }
    program_emit(p, in.op, in.flags, in.x, in.a, in.b, in.c, 10 + i);
  }
  const vm_rule_kind *rk = vm_rule_kind_by_op(op);
  if (rk) p->flags |= rk->progflags;
  prog_check c = {.id = 1,
                  .title = program_intern(p, "t"),
                  .condition = f.cond,
                  .code = 0,
                  .code_len = p->ncode,
                  .meta = program_intern(p, "\"id\":1"),
                  .line = 5};
  program_add_check(p, &c);
  program_freeze(p);
  return f;
}

static char err[512];

static int verify(const fixture *f) {
  err[0] = '\0';
  return program_verify(f->p, err, sizeof err);
}

static insn *under_test(fixture *f) { return &f->p->code[f->at]; }

static void test_every_opcode_is_verified_by_its_kinds(void) {
  for (uint8_t op = 0; op < OP__COUNT; op++) {
    const vm_opinfo *o = vm_opcode_info(op);
    fixture f = build(op);
    if (verify(&f) != TN_OK) fprintf(stderr, "%s: good fixture rejected: %s\n", o->name, err);
    CHECK_INT(verify(&f), TN_OK);
    for (int s = 0; s < SLOT__COUNT; s++) {
      const unsigned kind = o->kind[s];
      const uint32_t keep = s == SLOT_X   ? under_test(&f)->x
                            : s == SLOT_A ? under_test(&f)->a
                            : s == SLOT_B ? under_test(&f)->b
                                          : under_test(&f)->c;
      uint32_t bad[4];
      bad_values(&f, kind, bad);
      for (int k = 0; k < 4 && bad[k] != N - 1; k++) {
        set_slot(under_test(&f), s, bad[k]);
        int rc = verify(&f);
        if (rc != TN_ECORRUPT || !strstr(err, o->name))
          fprintf(stderr, "%s slot %c (%s) = %u: rc %d '%s'\n", o->name, "xabc"[s],
                  vm_operand_kind_info(kind) -> name, bad[k], rc, err);
        CHECK_INT(rc, TN_ECORRUPT);
        CHECK(strstr(err, o->name) != NULL);
      }
      if (optional(kind)) { /* "-" is fine (a name-shaped rule then has no content either) */
        set_slot(under_test(&f), s, N);
        const vm_rule_kind *rk = vm_rule_kind_by_op(op);
        if (rk && rk->shape == RULE_SHAPE_NAME_CONTENT && s == SLOT_B) under_test(&f)->c = N;
        if (verify(&f) != TN_OK) fprintf(stderr, "%s slot %c: '-' rejected: %s\n", o->name, "xabc"[s], err);
        CHECK_INT(verify(&f), TN_OK);
        program_free(f.p);
        f = build(op);
      }
      set_slot(under_test(&f), s, keep);
      CHECK_INT(verify(&f), TN_OK);
    }
    /* flags: exactly those the row allows */
    for (unsigned bit = 0; bit < 8; bit++) {
      under_test(&f)->flags = (uint8_t)(1u << bit);
      int allowed = (o->flags >> bit) & 1u;
      int rc = verify(&f);
      if (rc != (allowed ? TN_OK : TN_ECORRUPT))
        fprintf(stderr, "%s flag 0x%x: rc %d '%s'\n", o->name, 1u << bit, rc, err);
      CHECK_INT(rc, allowed ? TN_OK : TN_ECORRUPT);
      if (!allowed) CHECK(strstr(err, "flags") != NULL);
    }
    program_free(f.p);
  }
}

/* Print one check's disassembly into a string (caller frees). */
__attribute__((noinline)) static char *listing(const program *p) {
  char *buf = NULL;
  size_t len = 0;
  FILE *out = open_memstream(&buf, &len);
  disasm_check(out, p, &p->checks[0], "check");
  fclose(out);
  return buf;
}

static void test_every_opcode_is_disassembled_by_its_kinds(void) {
  for (uint8_t op = 0; op < OP__COUNT; op++) {
    const vm_opinfo *o = vm_opcode_info(op);
    fixture f = build(op);
    char *text = listing(f.p);
    REQUIRE(text != NULL);
    /* the line of the instruction under test: "  %4u  NAME     p1 p2 p3 ..." */
    char head[32];
    snprintf(head, sizeof head, "\n  %4u  %-8s ", f.at, o->name);
    const char *line = strstr(text, head);
    CHECK(line != NULL);
    if (!line) {
      free(text);
      program_free(f.p);
      continue;
    }
    line += strlen(head);
    for (int s = SLOT_A; s < SLOT__COUNT; s++) {
      char col[8] = "", want[16];
      sscanf(line + 7 * (s - SLOT_A), "%7s", col);
      const unsigned kind = o->kind[s];
      uint32_t v = good(&f, s, kind);
      if (kind == OPK_NONE)
        snprintf(want, sizeof want, "-");
      else
        snprintf(want, sizeof want, "%c%u", vm_operand_kind_info(kind)->letter, v);
      if (strcmp(col, want) != 0)
        fprintf(stderr, "%s slot %c: column '%s', want '%s'\n", o->name, "xabc"[s], col, want);
      CHECK_STR(col, want);
    }
    /* the comment names the strings and regexes the operands point at */
    const char *eol = strchr(line, '\n');
    char comment[256];
    snprintf(comment, sizeof comment, "%.*s", (int)(eol ? eol - line : (long)strlen(line)), line);
    for (int s = SLOT_X; s < SLOT__COUNT; s++) {
      const char *dom = vm_operand_kind_info(o->kind[s])->domain;
      if (strcmp(dom, "rx") == 0) CHECK(strstr(comment, "'^root'") != NULL);
      if (o->kind[s] == OPK_STR || o->kind[s] == OPK_STR_OPT) CHECK(strstr(comment, "'/etc/passwd'") != NULL);
    }
    const vm_rule_kind *rk = vm_rule_kind_by_op(op);
    if (rk) {
      char lead[8];
      snprintf(lead, sizeof lead, "%c:'", rk->letter);
      CHECK(strstr(comment, lead) != NULL);
    }
    free(text);
    program_free(f.p);
  }
}

static void test_isa_listing_has_every_row(void) {
  char *buf = NULL;
  size_t len = 0;
  FILE *out = open_memstream(&buf, &len);
  disasm_isa(out);
  fclose(out);
  REQUIRE(buf != NULL);
  for (unsigned op = 0; op < OP__COUNT; op++) {
    const vm_opinfo *o = vm_opcode_info(op);
    char name[32];
    snprintf(name, sizeof name, "  %-8s  %-6s", o->name, vm_opclass_name(o->cls));
    const char *line = strstr(buf, name);
    CHECK(line != NULL);
    if (!line) continue;
    const char *eol = strchr(line, '\n');
    char row[512];
    snprintf(row, sizeof row, "%.*s", (int)(eol - line), line);
    CHECK(strstr(row, o->notation) != NULL);
    for (int s = 0; s < SLOT__COUNT; s++)
      if (o->kind[s] != OPK_NONE) CHECK(strstr(row, vm_operand_kind_info(o->kind[s])->name) != NULL);
  }
  for (unsigned k = 0; k < OPK__COUNT; k++)
    CHECK(strstr(buf, vm_operand_kind_info(k)->what) != NULL);
  for (size_t i = 0; i < VM_RULE_KIND_COUNT; i++) {
    char row[64];
    snprintf(row, sizeof row, "  %c:    %-8s", vm_rule_kind_at(i)->letter,
             vm_opcode_name(vm_rule_kind_at(i)->op));
    CHECK(strstr(buf, row) != NULL);
  }
  free(buf);
}

/* `tenet inspect --isa` prints exactly that listing; with a bundle argument it is a usage error. */
static void test_cli_prints_the_isa(void) {
  const char *bin = test_env("TENET_BIN", "build/tenet");
  char cmd[4200], *want = NULL, got[65536];
  size_t wlen = 0, glen = 0;
  FILE *out = open_memstream(&want, &wlen);
  disasm_isa(out);
  fclose(out);
  snprintf(cmd, sizeof cmd, "'%s' inspect --isa", bin);
  FILE *pp = popen(cmd, "r");
  REQUIRE(pp != NULL);
  size_t n;
  while (glen < sizeof got - 1 && (n = fread(got + glen, 1, sizeof got - 1 - glen, pp)) > 0)
    glen += n;
  got[glen] = '\0';
  CHECK_INT(pclose(pp), 0);
  CHECK_STR(got, want);
  free(want);
  snprintf(cmd, sizeof cmd, "'%s' inspect --isa x.tnb 2>/dev/null", bin);
  pp = popen(cmd, "r");
  REQUIRE(pp != NULL);
  while (fread(got, 1, sizeof got, pp) > 0) {
  }
  int st = pclose(pp);
  CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 2);
}

static void test_rule_kinds_agree_with_opcodes(void) {
  int event_seen[VM_RULE_KIND_COUNT] = {0}, alert_seen[VM_RULE_KIND_COUNT] = {0};
  size_t rule_ops = 0;
  for (unsigned op = 0; op < OP__COUNT; op++)
    rule_ops += vm_opcode_info(op)->cls == OPC_RULE;
  CHECK_INT(rule_ops, VM_RULE_KIND_COUNT);
  for (size_t i = 0; i < VM_RULE_KIND_COUNT; i++) {
    const vm_rule_kind *k = vm_rule_kind_at(i);
    const vm_opinfo *o = vm_opcode_info(k->op);
    CHECK(vm_rule_kind_by_letter(k->letter) == k);
    CHECK(vm_rule_kind_by_op(k->op) == k);
    CHECK_INT(o->cls, OPC_RULE);
    REQUIRE(k->event_pos < VM_RULE_KIND_COUNT && k->alert_pos < VM_RULE_KIND_COUNT);
    event_seen[k->event_pos]++, alert_seen[k->alert_pos]++;
    /* slot a is the location (or content text), then name and expression as the shape says */
    CHECK_INT(o->kind[SLOT_A], OPK_STR);
    if (k->shape == RULE_SHAPE_NAME_CONTENT) {
      CHECK(k->name && k->name_label && k->empty);
      CHECK(o->kind[SLOT_B] == OPK_RX_OPT || o->kind[SLOT_B] == OPK_STR_OPT);
      CHECK_INT(o->kind[SLOT_C], OPK_EXPR_OPT);
    } else {
      CHECK(!k->name && !k->name_label);
      CHECK_INT(o->kind[SLOT_B], k->shape == RULE_SHAPE_ONLY_CONTENT ? OPK_EXPR : OPK_EXPR_OPT);
      CHECK_INT(o->kind[SLOT_C], OPK_NONE);
      CHECK((k->empty == NULL) == (k->shape == RULE_SHAPE_ONLY_CONTENT));
    }
    CHECK(k->key && k->marker);
  }
  for (size_t i = 0; i < VM_RULE_KIND_COUNT; i++)
    CHECK(event_seen[i] == 1 && alert_seen[i] == 1);
  /* Wazuh's orders, which events and alerts must keep byte for byte */
  static const char *const event_order[] = {"file", "directory", "process", "registry", "command"};
  static const char *const alert_order[] = {"file", "directory", "registry", "process", "command"};
  for (size_t i = 0; i < 5; i++) {
    CHECK_STR(vm_rule_kind_event_key(i), event_order[i]);
    CHECK_STR(vm_rule_kind_alert_key(i), alert_order[i]);
  }
  CHECK(vm_rule_kind_event_key(VM_RULE_KIND_COUNT) == NULL);
  CHECK(vm_rule_kind_by_letter('x') == NULL && vm_rule_kind_by_letter(0) == NULL);
  CHECK(vm_rule_kind_by_op(OP_MEND) == NULL);
}

/* A rule kind's own constraints: a content expression needs the name before it; a program using
 * the kind needs the kind's program flags. */
static void test_rule_kind_constraints(void) {
  for (size_t i = 0; i < VM_RULE_KIND_COUNT; i++) {
    const vm_rule_kind *k = vm_rule_kind_at(i);
    fixture f = build(k->op);
    if (k->shape == RULE_SHAPE_NAME_CONTENT) {
      under_test(&f)->b = N;
      CHECK_INT(verify(&f), TN_ECORRUPT);
      char want[96];
      snprintf(want, sizeof want, "content expression without a %s", k->name);
      CHECK(strstr(err, want) != NULL);
      under_test(&f)->c = N;
      CHECK_INT(verify(&f), TN_OK);
    }
    if (k->progflags) {
      f.p->flags &= ~k->progflags;
      CHECK_INT(verify(&f), TN_ECORRUPT);
      char want[96];
      snprintf(want, sizeof want, "%s rules without the %s flag", k->key, k->progflag_name);
      CHECK(strstr(err, want) != NULL);
    }
    program_free(f.p);
  }
}

int main(void) {
  RUN(test_every_opcode_is_verified_by_its_kinds);
  RUN(test_every_opcode_is_disassembled_by_its_kinds);
  RUN(test_isa_listing_has_every_row);
  RUN(test_cli_prints_the_isa);
  RUN(test_rule_kinds_agree_with_opcodes);
  RUN(test_rule_kind_constraints);
  return test_report();
}
