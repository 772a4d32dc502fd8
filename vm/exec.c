/* exec.c — the interpreter: the check dispatch loop and the matcher dispatch loop, nothing else.
 * Rule evaluators live in eval_*.c, the n: minterm in numeric.c (see opcodes.def for the ISA). */
#include <string.h>
#include <strings.h>

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

int vm_exec_check(eval_ctx *c, const prog_check *chk) {
  eval_ctx_reset(c);
  c->code = c->prog->code + chk->code;
  c->code_len = chk->code_len;
  int g = chk->condition == COND_ALL ? EV_FOUND : EV_NOT_FOUND;
  int r = EV_NOT_FOUND, decided = 0;
  for (uint32_t pc = 0; pc < c->code_len; pc++) {
    const insn *in = &c->code[pc];
    vmdispatch(in->op) {
      vmcase(FILE) { r = eval_file(c, in); vmbreak; }
      vmcase(DIR) { r = eval_dir(c, in); vmbreak; }
      vmcase(CMD) { r = eval_command(c, in); vmbreak; }
      vmcase(PROC) { r = eval_process(c, in); vmbreak; }
      vmcase(REG) {
        eval_set_reason(c, "Registry rules can only be evaluated on Windows: '%s'", program_str(c->prog, in->a));
        r = EV_INVALID;
        vmbreak;
      }
      vmcase(NOT) {
        if (r != EV_INVALID) r = !r;
        vmbreak;
      }
      vmcase(ALL)
      vmcase(ANY)
      vmcase(NONE) {
        if (decided) vmbreak; /* 5.x: a decision was recorded; later rules still run */
        int decisive = in->op == OP_ALL ? r == EV_NOT_FOUND : r == EV_FOUND;
        if (decisive) {
          g = r;
          if (in->flags & F_NOSHORT) {
            decided = 1;
            vmbreak;
          }
          pc = in->a - 1; /* short-circuit: later rules are not evaluated */
          vmbreak;
        }
        if (r == EV_INVALID) g = EV_INVALID;
        vmbreak;
      }
      vmcase(RESULT) {
        if (in->x == COND_NONE && g != EV_INVALID) g = !g;
        return g;
      }
    default:
      eval_set_reason(c, "corrupt program: opcode %u in check code", in->op);
      return EV_INVALID;
    }
  }
  return g;
}
