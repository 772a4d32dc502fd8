/* disasm.c — the disassembler behind `tenet inspect` (see disasm.h), driven by the tables: the p1..p3
 * columns print each slot by its operand kind (operands.def), the comment column spells rules as
 * rules.def writes them and other instructions as opcodes.def's prefix then their operands
 * (strings quoted, regexes by source); `tenet inspect --isa` lists the tables themselves. */
#include "disasm.h"

#include <string.h>

#include "rulekind.h"

#define SHOW_MAX 72

/* Print s quoted and shortened for a comment column. */
static void quoted(FILE *out, const char *s) {
  size_t n = strlen(s);
  fputc('\'', out);
  for (size_t i = 0; i < n && i < SHOW_MAX; i++) {
    unsigned char ch = (unsigned char)s[i];
    if (ch == '\n') fputs("\\n", out);
    else if (ch == '\t') fputs("\\t", out);
    else if (ch < 0x20) fprintf(out, "\\x%02x", ch);
    else fputc(ch, out);
  }
  if (n > SHOW_MAX) fputs("...", out);
  fputc('\'', out);
}

static const char *dialect_name(unsigned d) {
  switch (d) {
  case RX_OSREGEX: return "osregex";
  case RX_PCRE2: return "pcre2";
  case RX_OSMATCH: return "osmatch";
  }
  return "?";
}

static uint32_t slot_value(const insn *in, int slot) {
  switch (slot) {
  case SLOT_X: return in->x;
  case SLOT_A: return in->a;
  case SLOT_B: return in->b;
  default: return in->c;
  }
}

/* A p1..p3 column: the value with its kind's letter, "-" for PROG_NONE or an unused slot. */
static void operand(FILE *out, const insn *in, int slot, unsigned kind) {
  uint32_t v = slot_value(in, slot);
  if (kind == OPK_NONE || v == PROG_NONE) fprintf(out, " %-6s", "-");
  else fprintf(out, " %c%-5u", vm_operand_kind_info(kind)->letter, v);
}

/* An operand in the comment column, shown as its kind says (regexes by their source, strings
 * quoted, conditions and comparisons by name); addresses are in the p columns only. */
static void show(FILE *out, const program *p, const insn *in, int slot, unsigned kind) {
  uint32_t v = slot_value(in, slot);
  switch ((enum vm_operand_kind)kind) {
  case OPK_STR: quoted(out, program_str(p, v)); break;
  case OPK_STR_OPT:
    if (v != PROG_NONE) quoted(out, program_str(p, v));
    break;
  case OPK_RX:
  case OPK_RX_OPT:
  case OPK_RX_CMP:
    if (v != PROG_NONE) quoted(out, program_str(p, p->regexes[v].source));
    break;
  case OPK_CMPTEXT: /* the text, when the comparison could not be read from it */
    if (in->x >= CMP_ERR_BASE) fputs(" in ", out), quoted(out, program_str(p, v));
    break;
  case OPK_DIGITS:
    if (in->x < CMP_ERR_BASE) fprintf(out, " %s", program_str(p, v));
    break;
  case OPK_COND: fputs(vm_condition_name(v), out); break;
  case OPK_CMP: fprintf(out, " %s", vm_cmp_name(v)); break;
  default: break;
  }
}

/* The comment column: a rule as rules.def writes it ("d:'/etc' name '.conf'"), anything else as
 * its prefix then its operands in slot order ("!n:'(\d+)' > 3"). */
static void comment(FILE *out, const program *p, const insn *in) {
  const vm_opinfo *op = vm_opcode_info(in->op);
  if (!op) return;
  const vm_rule_kind *rk = op->cls == OPC_RULE ? vm_rule_kind_by_op(in->op) : NULL;
  if (rk) {
    fprintf(out, "%c:", rk->letter);
    show(out, p, in, SLOT_A, op->kind[SLOT_A]);
    if (rk->shape == RULE_SHAPE_NAME_CONTENT && in->b != PROG_NONE)
      fprintf(out, " %s ", rk->name_label), show(out, p, in, SLOT_B, op->kind[SLOT_B]);
    uint32_t expr = rk->shape == RULE_SHAPE_NAME_CONTENT ? in->c : in->b;
    if (rk->note && expr == PROG_NONE) fprintf(out, " (%s)", rk->note);
    return;
  }
  if (op->cls == OPC_MATCH && (in->flags & F_NEG)) fputc('!', out);
  fputs(op->prefix, out);
  show(out, p, in, SLOT_A, op->kind[SLOT_A]);
  for (int s = SLOT_X; s < SLOT__COUNT; s++)
    if (s != SLOT_A) show(out, p, in, s, op->kind[s]);
}

void disasm_check(FILE *out, const program *p, const prog_check *chk, const char *label) {
  fprintf(out, "%s  condition %s  (line %u)\n", label, vm_condition_name(chk->condition), chk->line);
  fprintf(out, "  addr  opcode    p1     p2     p3     flags  line  comment\n");
  for (uint32_t i = 0; i < chk->code_len && chk->code + i < p->ncode; i++) {
    const insn *in = &p->code[chk->code + i];
    const vm_opinfo *op = vm_opcode_info(in->op);
    fprintf(out, "  %4u  %-8s ", i, op ? op->name : "???");
    for (int s = SLOT_A; s < SLOT__COUNT; s++)
      operand(out, in, s, op ? op->kind[s] : OPK_NONE);
    char flags[8] = "";
    if (in->flags & F_NEG) strcat(flags, "neg ");
    if (in->flags & F_NOSHORT) strcat(flags, "ns");
    fprintf(out, " %-6s %5u  ", flags, p->lines ? p->lines[chk->code + i] : 0);
    comment(out, p, in);
    fputc('\n', out);
  }
}

void disasm_isa(FILE *out) {
  fprintf(out, "instruction set, ISA version %d: 16 bytes each, op (u8) flags (u8) x (u16) a b c (u32)\n\n",
          VM_ISA_VERSION);
  static const int width[SLOT__COUNT] = {6, 7, 9, 9};
  fprintf(out, "  %2s  %-8s  %-6s  %-9s", "op", "opcode", "class", "flags");
  for (int s = 0; s < SLOT__COUNT; s++) fprintf(out, "  %-*c", width[s], "xabc"[s]);
  fprintf(out, " notation\n");
  for (unsigned i = 0; i < OP__COUNT; i++) {
    const vm_opinfo *op = vm_opcode_info(i);
    char flags[16] = "";
    if (op->flags & F_NEG) strcat(flags, "neg ");
    if (op->flags & F_NOSHORT) strcat(flags, "ns ");
    if (!flags[0]) strcpy(flags, "-");
    fprintf(out, "  %2u  %-8s  %-6s  %-9s", i, op->name, vm_opclass_name(op->cls), flags);
    for (int s = 0; s < SLOT__COUNT; s++) {
      const char *k = op->kind[s] == OPK_NONE ? "-" : vm_operand_kind_info(op->kind[s])->name;
      fprintf(out, "  %-*s", width[s], k);
    }
    fprintf(out, " %s\n", op->notation);
  }
  fprintf(out, "\noperand kinds\n");
  for (unsigned k = 0; k < OPK__COUNT; k++) {
    const vm_operand_info *o = vm_operand_kind_info(k);
    fprintf(out, "  %-9s %-4s  %c  %s\n", o->name, o->domain, o->letter == ' ' ? '-' : o->letter, o->what);
  }
  fprintf(out, "\nrule kinds\n");
  fprintf(out, "  type  opcode    body                                   location key\n");
  static const char *const shapes[] = {[RULE_SHAPE_CONTENT] = "location [-> content]",
                                       [RULE_SHAPE_NAME_CONTENT] = "location [-> name [-> content]]",
                                       [RULE_SHAPE_ONLY_CONTENT] = "content"};
  for (size_t i = 0; i < VM_RULE_KIND_COUNT; i++) {
    const vm_rule_kind *rk = vm_rule_kind_at(i);
    fprintf(out, "  %c:    %-8s  %-38s %s\n", rk->letter, vm_opcode_name(rk->op), shapes[rk->shape], rk->key);
  }
}

void disasm_program(FILE *out, const program *p, const vm_image *img) {
  fprintf(out, "regexes (%u)\n", p->nregexes);
  if (p->nregexes) fprintf(out, "  idx    dialect  runs on     pattern\n");
  for (uint32_t i = 0; i < p->nregexes; i++) {
    const prog_regex *r = &p->regexes[i];
    const char *engine = "native";
    if (r->flags & RXF_BAD) engine = "(invalid)";
    else if (img && img->rx[i]) engine = rx_engine(img->rx[i]);
    else if (r->flags & RXF_LOWERED) engine = "pcre2-jit";
    else if (r->dialect == RX_PCRE2) engine = "pcre2-jit";
    else engine = dialect_name(r->dialect);
    fprintf(out, "  r%-5u %-8s %-11s ", i, dialect_name(r->dialect), engine);
    quoted(out, program_str(p, r->source));
    if (r->flags & RXF_CASELESS) fputs(" (caseless)", out);
    if (r->flags & RXF_LOWERED) fputs("  => ", out), quoted(out, program_str(p, r->lowered));
    fputc('\n', out);
  }
  if (p->has_requirements) {
    fputc('\n', out);
    char label[256];
    snprintf(label, sizeof label, "requirements '%s'", program_str(p, p->requirements.title));
    disasm_check(out, p, &p->requirements, label);
  }
  for (uint32_t i = 0; i < p->nchecks; i++) {
    const prog_check *c = &p->checks[i];
    char label[320];
    const char *title = program_str(p, c->title);
    const char *text = program_check_text_id(p, c); /* a 5.x text id: shown with its key */
    if (text)
      snprintf(label, sizeof label, "check %.64s%s (key %lld) '%.*s%s'", text, strlen(text) > 64 ? "..." : "",
               (long long)c->id, 60, title, strlen(title) > 60 ? "..." : "");
    else
      snprintf(label, sizeof label, "check %lld '%.*s%s'", (long long)c->id, 60, title,
               strlen(title) > 60 ? "..." : "");
    fputc('\n', out);
    disasm_check(out, p, c, label);
  }
}
