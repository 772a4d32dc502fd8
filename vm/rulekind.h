/* rulekind.h — the kinds of SCA rule (rules.def) as a table, for the compiler's grammar and code
 * generation, the verifier, the disassembler and the event renderers. The evaluators and the
 * event location kinds are expanded from rules.def directly (eval.h, exec.c). */
#ifndef TENET_RULEKIND_H
#define TENET_RULEKIND_H

#include <stddef.h>
#include <stdint.h>

/* What a rule's body holds (rules.def's shape column). */
enum rule_shape {
  RULE_SHAPE_CONTENT = 1,  /* location [ " -> " content ] */
  RULE_SHAPE_NAME_CONTENT, /* location [ " -> " name [ " -> " content ] ] */
  RULE_SHAPE_ONLY_CONTENT, /* content */
};

/* rules.def's flags column. */
#define RULE_SUBST4 0x1u /* the 4.x dialect substitutes policy variables in the location */

/* The number of rule kinds (rows of rules.def). */
enum {
  VM_RULE_KIND_COUNT = 0
#define RULE(letter, op, eval, loc, key, marker, epos, apos, shape, flags, progflags, empty, name, label,    \
             note)                                                                                           \
  +1
#include "rules.def"
#undef RULE
};

/* One row of rules.def. */
typedef struct vm_rule_kind {
  char letter;               /* 'f' */
  uint8_t op;                /* enum vm_opcode */
  uint8_t event_pos;         /* position of key in a check event = its enum ev_location */
  uint8_t alert_pos;         /* position of key in a manager alert */
  uint8_t shape;             /* enum rule_shape */
  unsigned flags;            /* RULE_SUBST4 */
  unsigned progflags;        /* PROGF_* bits a program using the kind carries */
  const char *progflag_name; /* their spelling ("PROGF_REGISTRY", "0") */
  const char *key;           /* "file" */
  const char *marker;        /* "File" */
  const char *empty;         /* noun of the empty-location error, NULL without a location */
  const char *name;          /* what the name is ("file pattern"), NULL without one */
  const char *name_label;    /* its label in the disassembly ("name") */
  const char *note;          /* the disassembly's note for a rule without content, or NULL */
} vm_rule_kind;

/* Rows by position in rules.def (i < VM_RULE_KIND_COUNT), by letter and by opcode; NULL when
 * there is none. Static storage. */
const vm_rule_kind *vm_rule_kind_at(size_t i);
const vm_rule_kind *vm_rule_kind_by_letter(int letter);
const vm_rule_kind *vm_rule_kind_by_op(unsigned op);
/* The key of the kind at a position of a check event / of a manager alert, NULL past the end. */
const char *vm_rule_kind_event_key(size_t pos);
const char *vm_rule_kind_alert_key(size_t pos);

#endif
