/* opcodes.h — the instruction set (expanded from opcodes.def, its operand kinds from operands.def)
 * and its version. */
#ifndef TENET_OPCODES_H
#define TENET_OPCODES_H

#include <stdint.h>

/* Instruction flags. */
#define F_NEG 0x01u     /* matcher minterm is negated ('!') */
#define F_NOSHORT 0x02u /* 5.x dialect: a step records the decision but does not jump */

/* VM_ISA_VERSION is defined at the top of opcodes.def, beside the rows it versions. */
enum vm_opcode {
#define OP(name, cls, flags, x, a, b, c, prefix, notation) OP_##name,
#include "opcodes.def"
#undef OP
  OP__COUNT
};

/* Where an instruction may stand in a check's code (opcodes.def's class column). */
enum vm_opclass { OPC_RULE, OPC_NOT, OPC_STEP, OPC_RESULT, OPC_MATCH, OPC_MEND, OPC__COUNT };

/* The class of every opcode as a constant, VM_OPCLASS_<NAME>, for compile-time checks. */
enum vm_opclass_of {
#define OP(name, cls, flags, x, a, b, c, prefix, notation) VM_OPCLASS_##name = OPC_##cls,
#include "opcodes.def"
#undef OP
};

/* Kinds of operand (operands.def). */
enum vm_operand_kind {
#define OPND(name, domain, letter, what) OPK_##name,
#include "operands.def"
#undef OPND
  OPK__COUNT
};

/* Operand slots of an instruction, in the order opcodes.def lists them. */
enum vm_slot { SLOT_X, SLOT_A, SLOT_B, SLOT_C, SLOT__COUNT };

/* One row of opcodes.def. */
typedef struct vm_opinfo {
  const char *name;          /* "FILE" */
  uint8_t cls;               /* enum vm_opclass */
  uint8_t flags;             /* flag bits the instruction may carry */
  uint8_t kind[SLOT__COUNT]; /* enum vm_operand_kind of x, a, b, c */
  const char *prefix;        /* start of the disassembly's comment ("r:") */
  const char *notation;      /* one line of notation */
} vm_opinfo;

/* One row of operands.def. */
typedef struct vm_operand_info {
  const char *name;   /* "STR_OPT" */
  const char *domain; /* "str": what the value means in a bundle */
  char letter;        /* disassembly prefix ('s', 'r', '@', ' ') */
  const char *what;   /* one line of description */
} vm_operand_info;

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
/* The notation line of an opcode (from opcodes.def), or NULL when out of range. */
const char *vm_opcode_notation(unsigned op);
/* The opcodes.def row of an opcode (static storage), or NULL when out of range. */
const vm_opinfo *vm_opcode_info(unsigned op);
/* The operands.def row of an operand kind (static storage), or NULL when out of range. */
const vm_operand_info *vm_operand_kind_info(unsigned kind);
/* Name of an instruction class ("rule"), or "?". */
const char *vm_opclass_name(unsigned cls);
/* Name of a comparison operator ("<=") or error kind; "?" for anything else. */
const char *vm_cmp_name(unsigned cmp);
/* 1 when cmp is a known comparison (operator or error kind). */
int vm_cmp_known(unsigned cmp);
/* 1 when a known comparison carries an expected value (an operator, or CMP_ERR_BADOP). */
int vm_cmp_has_value(unsigned cmp);
const char *vm_condition_name(unsigned cond);

#endif
