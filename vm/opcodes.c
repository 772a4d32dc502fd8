/* opcodes.c — the rows of opcodes.def and operands.def as tables, and the names of comparisons
 * and conditions. */
#include "opcodes.h"

#include <stddef.h>

static const vm_opinfo ops[OP__COUNT] = {
#define OP(name, cls, flags, x, a, b, c, prefix, notation)                                         \
  {#name, OPC_##cls, flags, {OPK_##x, OPK_##a, OPK_##b, OPK_##c}, prefix, notation},
#include "opcodes.def"
#undef OP
};

static const vm_operand_info kinds[OPK__COUNT] = {
#define OPND(name, domain, letter, what) {#name, #domain, letter, what},
#include "operands.def"
#undef OPND
};

const vm_opinfo *vm_opcode_info(unsigned op) { return op < OP__COUNT ? &ops[op] : NULL; }
const char *vm_opcode_name(unsigned op) { return op < OP__COUNT ? ops[op].name : NULL; }
const char *vm_opcode_notation(unsigned op) { return op < OP__COUNT ? ops[op].notation : NULL; }
const vm_operand_info *vm_operand_kind_info(unsigned kind) { return kind < OPK__COUNT ? &kinds[kind] : NULL; }

const char *vm_opclass_name(unsigned cls) {
  static const char *const names[OPC__COUNT] = {"rule", "not", "step", "result", "match", "mend"};
  return cls < OPC__COUNT ? names[cls] : "?";
}

const char *vm_cmp_name(unsigned cmp) {
  switch (cmp) {
  case CMP_EQ: return "==";
  case CMP_NE: return "!=";
  case CMP_LE: return "<=";
  case CMP_GE: return ">=";
  case CMP_LT: return "<";
  case CMP_GT: return ">";
  case CMP_ERR_NOCOMPARE: return "<no 'compare'>";
  case CMP_ERR_NOINT: return "<no integer>";
  case CMP_ERR_BADOP: return "<bad operator>";
  }
  return "?";
}

int vm_cmp_known(unsigned cmp) {
  return (cmp >= CMP_EQ && cmp <= CMP_GT) || (cmp >= CMP_ERR_NOCOMPARE && cmp <= CMP_ERR_BADOP);
}

int vm_cmp_has_value(unsigned cmp) { return (cmp >= CMP_EQ && cmp <= CMP_GT) || cmp == CMP_ERR_BADOP; }

const char *vm_condition_name(unsigned cond) {
  switch (cond) {
  case COND_ALL: return "all";
  case COND_ANY: return "any";
  case COND_NONE: return "none";
  }
  return "?";
}
