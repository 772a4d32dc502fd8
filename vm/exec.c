/* exec.c — the interpreter: the check dispatch loop, nothing else. Each rule kind is dispatched to
 * its evaluator (eval_<kind>.c) from rules.def; content matchers run in content.c, the n: minterm
 * in numeric.c (see opcodes.def for the ISA). */
#include "vm.h"

#define vmdispatch(op) switch (op)
#define vmcase(name) case OP_##name:
#define vmbreak break

int vm_exec_check(eval_ctx *c, const prog_check *chk) {
  eval_ctx_reset(c);
  c->code = c->prog->code + chk->code;
  c->code_len = chk->code_len;
  int g = chk->condition == COND_ALL ? EV_FOUND : EV_NOT_FOUND;
  int r = EV_NOT_FOUND, decided = 0;
  for (uint32_t pc = 0; pc < c->code_len; pc++) {
    const insn *in = &c->code[pc];
    vmdispatch(in->op) {
#define RULE(letter, op, eval, ...) vmcase(op) { c->rule_reason = 0; r = eval(c, in); vmbreak; }
#include "rules.def"
#undef RULE
      vmcase(NOT) {
        if (r == EV_FOUND || r == EV_NOT_FOUND) r = !r; /* invalid and not run stay */
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
        if (r == EV_NOT_RUN) g = EV_NOT_RUN; /* 5.x: not run wins over invalid when undecided */
        else if (r == EV_INVALID && g != EV_NOT_RUN) g = EV_INVALID;
        vmbreak;
      }
      vmcase(RESULT) {
        if (pc == 0 && c->prog->dialect == DIALECT_WAZUH5) return EV_INVALID; /* 5.x: no rule left */
        if (in->x == COND_NONE && (g == EV_FOUND || g == EV_NOT_FOUND)) g = !g;
        return g;
      }
    default:
      eval_set_reason(c, "corrupt program: opcode %u in check code", in->op);
      return EV_INVALID;
    }
  }
  return g;
}
