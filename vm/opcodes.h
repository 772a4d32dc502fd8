/* opcodes.h — the instruction set (expanded from opcodes.def) and its version. */
#ifndef TENET_OPCODES_H
#define TENET_OPCODES_H

#include <stdint.h>

/* Bump whenever opcodes.def changes meaning; tests/unit/test_isa.c ties this to a hash of the file. */
#define VM_ISA_VERSION 1

enum vm_opcode {
#define OP(name, operands, notation) OP_##name,
#include "opcodes.def"
#undef OP
  OP__COUNT
};

/* Instruction flags. */
#define F_NEG 0x01u     /* matcher minterm is negated ('!') */
#define F_NOSHORT 0x02u /* 5.x dialect: a step records the decision but does not jump */

/* MNUMERIC comparison operators (x operand). Values >= CMP_ERR_BASE are compile-time errors that
 * Wazuh reports at run time (only once the regex has matched and captured, SCA-SEMANTICS §5). */
enum vm_cmp {
  CMP_EQ = 1,
  CMP_NE,
  CMP_LE,
  CMP_GE,
  CMP_LT,
  CMP_GT,
  CMP_ERR_BASE = 0x10,
  CMP_ERR_NOCOMPARE = 0x10, /* no " compare " keyword: N, reason 'Keyword 'compare' not found...' */
  CMP_ERR_NOINT = 0x11,     /* no digits in the comparison text: N */
  CMP_ERR_BADOP = 0x12,     /* no recognised operator: N (after the expected value is converted) */
};

/* Check conditions (RESULT's x, prog_check.condition). */
enum vm_condition { COND_ALL = 0, COND_ANY = 1, COND_NONE = 2 };

/* Name of an opcode ("FILE"), or NULL when out of range. */
const char *vm_opcode_name(unsigned op);
/* The operand description and the notation line of an opcode (from opcodes.def). */
const char *vm_opcode_operands(unsigned op);
const char *vm_opcode_notation(unsigned op);
/* Name of a comparison operator ("<=") or error kind. */
const char *vm_cmp_name(unsigned cmp);
const char *vm_condition_name(unsigned cond);

#endif
