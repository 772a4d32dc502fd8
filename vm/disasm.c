/* disasm.c — the disassembler behind `tenet inspect` (see disasm.h). Every opcode's notation comes
 * from opcodes.def; the comment column spells out operands (strings quoted, regexes by source). */
#include "disasm.h"

#include <string.h>

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

static void operand(FILE *out, uint32_t v, char kind) {
  if (v == PROG_NONE) fprintf(out, " %-6s", "-");
  else fprintf(out, " %c%-5u", kind, v);
}

static void comment(FILE *out, const program *p, const insn *in) {
  switch (in->op) {
  case OP_FILE: fputs("f:", out); quoted(out, program_str(p, in->a)); break;
  case OP_DIR:
    fputs("d:", out);
    quoted(out, program_str(p, in->a));
    if (in->b != PROG_NONE) fputs(" name ", out), quoted(out, program_str(p, p->regexes[in->b].source));
    break;
  case OP_CMD:
    fputs("c:", out);
    quoted(out, program_str(p, in->a));
    if (in->b == PROG_NONE) fputs(" (no pattern: passes without running)", out);
    break;
  case OP_PROC: fputs("p:", out); quoted(out, program_str(p, in->a)); break;
  case OP_REG:
    fputs("r:", out);
    quoted(out, program_str(p, in->a));
    if (in->b != PROG_NONE) fputs(" value ", out), quoted(out, program_str(p, in->b));
    break;
  case OP_RESULT: fprintf(out, "condition %s", vm_condition_name(in->x)); break;
  case OP_MREGEX:
    fputs(in->flags & F_NEG ? "!r:" : "r:", out);
    quoted(out, program_str(p, p->regexes[in->a].source));
    break;
  case OP_MNUMERIC:
    fputs(in->flags & F_NEG ? "!n:" : "n:", out);
    if (in->a != PROG_NONE) quoted(out, program_str(p, p->regexes[in->a].source));
    if (in->x >= CMP_ERR_BASE) fprintf(out, " %s in ", vm_cmp_name(in->x)), quoted(out, program_str(p, in->b));
    else fprintf(out, " %s %s", vm_cmp_name(in->x), program_str(p, in->c));
    break;
  case OP_MLITERAL:
    fputs(in->flags & F_NEG ? "!equals " : "equals ", out);
    quoted(out, program_str(p, in->a));
    break;
  default: break;
  }
}

void disasm_check(FILE *out, const program *p, const prog_check *chk, const char *label) {
  fprintf(out, "%s  condition %s  (line %u)\n", label, vm_condition_name(chk->condition), chk->line);
  fprintf(out, "  addr  opcode    p1     p2     p3     flags  line  comment\n");
  for (uint32_t i = 0; i < chk->code_len && chk->code + i < p->ncode; i++) {
    const insn *in = &p->code[chk->code + i];
    const char *name = vm_opcode_name(in->op);
    fprintf(out, "  %4u  %-8s ", i, name ? name : "???");
    switch (in->op) {
    case OP_FILE: case OP_CMD: case OP_PROC:
      operand(out, in->a, 's'), operand(out, in->b, '@'), operand(out, PROG_NONE, ' ');
      break;
    case OP_DIR: operand(out, in->a, 's'), operand(out, in->b, 'r'), operand(out, in->c, '@'); break;
    case OP_REG: operand(out, in->a, 's'), operand(out, in->b, 's'), operand(out, in->c, '@'); break;
    case OP_ALL: case OP_ANY: case OP_NONE:
      operand(out, in->a, '@'), operand(out, PROG_NONE, ' '), operand(out, PROG_NONE, ' ');
      break;
    case OP_MREGEX: operand(out, in->a, 'r'), operand(out, PROG_NONE, ' '), operand(out, PROG_NONE, ' '); break;
    case OP_MNUMERIC: operand(out, in->a, 'r'), operand(out, in->b, 's'), operand(out, in->c, 's'); break;
    case OP_MLITERAL: operand(out, in->a, 's'), operand(out, PROG_NONE, ' '), operand(out, PROG_NONE, ' '); break;
    default: operand(out, PROG_NONE, ' '), operand(out, PROG_NONE, ' '), operand(out, PROG_NONE, ' '); break;
    }
    char flags[8] = "";
    if (in->flags & F_NEG) strcat(flags, "neg ");
    if (in->flags & F_NOSHORT) strcat(flags, "ns");
    fprintf(out, " %-6s %5u  ", flags, p->lines ? p->lines[chk->code + i] : 0);
    comment(out, p, in);
    fputc('\n', out);
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
    snprintf(label, sizeof label, "check %lld '%.*s%s'", (long long)c->id, 60, title, strlen(title) > 60 ? "..." : "");
    fputc('\n', out);
    disasm_check(out, p, c, label);
  }
}
