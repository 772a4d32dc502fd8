/* rulekind.c — rules.def as a table, with compile-time checks that it agrees with opcodes.def. */
#include "rulekind.h"

#include "opcodes.h"
#include "program.h"

static const vm_rule_kind kinds[VM_RULE_KIND_COUNT] = {
#define RULE(letter, op, eval, loc, key, marker, epos, apos, shape, flags, progflags, empty, name, label,    \
             note)                                                                                           \
  {letter, OP_##op, epos, apos, shape, flags, progflags, #progflags, key, marker, empty, name, label, note},
#include "rules.def"
#undef RULE
};

/* Every row names a RULE-class opcode, with its positions in range (test_isa checks the rest:
 * positions are permutations, the nouns match the shape) ... */
#define RULE(letter, op, eval, loc, key, marker, epos, apos, shape, flags, progflags, empty, name, label,    \
             note)                                                                                           \
  _Static_assert((int)VM_OPCLASS_##op == (int)OPC_RULE,                                                      \
                 "rules.def: " #letter " names " #op ", not a rule opcode");                                 \
  _Static_assert((epos) < VM_RULE_KIND_COUNT && (apos) < VM_RULE_KIND_COUNT,                                 \
                 "rules.def: " #letter " has a position past the table");
#include "rules.def"
#undef RULE

/* ... and every RULE-class opcode has a row (so exec.c dispatches every rule to an evaluator). */
enum {
  RULE_OPCODES = 0
#define OP(name, cls, flags, x, a, b, c, prefix, notation) +((int)OPC_##cls == (int)OPC_RULE)
#include "opcodes.def"
#undef OP
};
_Static_assert((int)RULE_OPCODES == (int)VM_RULE_KIND_COUNT,
               "every RULE opcode of opcodes.def needs a row in rules.def");

const vm_rule_kind *vm_rule_kind_at(size_t i) { return i < VM_RULE_KIND_COUNT ? &kinds[i] : NULL; }

const vm_rule_kind *vm_rule_kind_by_letter(int letter) {
  for (size_t i = 0; i < VM_RULE_KIND_COUNT; i++)
    if (kinds[i].letter == letter && letter) return &kinds[i];
  return NULL;
}

const vm_rule_kind *vm_rule_kind_by_op(unsigned op) {
  for (size_t i = 0; i < VM_RULE_KIND_COUNT; i++)
    if (kinds[i].op == op) return &kinds[i];
  return NULL;
}

const char *vm_rule_kind_event_key(size_t pos) {
  for (size_t i = 0; i < VM_RULE_KIND_COUNT; i++)
    if (kinds[i].event_pos == pos) return kinds[i].key;
  return NULL;
}

const char *vm_rule_kind_alert_key(size_t pos) {
  for (size_t i = 0; i < VM_RULE_KIND_COUNT; i++)
    if (kinds[i].alert_pos == pos) return kinds[i].key;
  return NULL;
}
