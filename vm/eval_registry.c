/* eval_registry.c — r: rules (SCA-SEMANTICS §2.9). The Windows registry does not exist where
 * Tenet runs, so every r: rule is invalid with Wazuh's reason naming the key; the compiler marks
 * programs using it PROGF_REGISTRY ("Windows only"). */
#include "eval_int.h"

int eval_registry(eval_ctx *c, const insn *in) {
  eval_set_reason(c, "Registry rules can only be evaluated on Windows: '%s'", program_str(c->prog, in->a));
  return EV_INVALID;
}
