/* opcodes.c — name and notation tables expanded from opcodes.def. */
#include "opcodes.h"

#include <stddef.h>

static const char *const names[] = {
#define OP(name, operands, notation) #name,
#include "opcodes.def"
#undef OP
};
static const char *const operands_tab[] = {
#define OP(name, operands, notation) operands,
#include "opcodes.def"
#undef OP
};
static const char *const notations[] = {
#define OP(name, operands, notation) notation,
#include "opcodes.def"
#undef OP
};

const char *vm_opcode_name(unsigned op) { return op < OP__COUNT ? names[op] : NULL; }
const char *vm_opcode_operands(unsigned op) { return op < OP__COUNT ? operands_tab[op] : NULL; }
const char *vm_opcode_notation(unsigned op) { return op < OP__COUNT ? notations[op] : NULL; }

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

const char *vm_condition_name(unsigned cond) {
  switch (cond) {
  case COND_ALL: return "all";
  case COND_ANY: return "any";
  case COND_NONE: return "none";
  }
  return "?";
}
