/* disasm.h — a readable listing of a program (SQLite EXPLAIN style): header, regex table with the
 * engine each pattern runs on, then every check's code, each instruction tagged with its YAML line. */
#ifndef TENET_DISASM_H
#define TENET_DISASM_H

#include <stdio.h>

#include "program.h"
#include "vm.h"

/* Print the regex table and the code of the requirements and every check. img may be NULL (the
 * engine column then says what the bundle asks for, not what this host runs). */
void disasm_program(FILE *out, const program *p, const vm_image *img);
/* Print the code of one check (used by tests and by `tenet inspect --check ID`). */
void disasm_check(FILE *out, const program *p, const prog_check *chk, const char *label);
/* Print the instruction set (`tenet inspect --isa`): every opcode with its class, flags, operand
 * kinds and notation line (opcodes.def), the operand kinds (operands.def) and the rule kinds
 * (rules.def). */
void disasm_isa(FILE *out);

#endif
