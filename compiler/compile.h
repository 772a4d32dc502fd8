/* compile.h — the compiler's entry point: policy YAML -> checked AST -> program (bytecode). */
#ifndef TENET_COMPILE_H
#define TENET_COMPILE_H

#include <stdint.h>

#include "diag.h"
#include "policy.h"
#include "program.h"

typedef struct compile_options {
  int dialect;             /* 0: from the schema (4.x -> DIALECT_WAZUH4, 5.x -> DIALECT_WAZUH5); or 4/5 */
  uint64_t policy_version; /* default 1 */
  int64_t expiry;          /* unix seconds; 0 = none */
} compile_options;

#define COMPILE_OPTIONS_DEFAULT {0, 1, 0}

/* Generate code for a checked AST (codegen.c). Returns the frozen program, or NULL when errors were
 * added to diags. Deterministic: the same AST and options give the same program. */
program *codegen_policy(const policy_ast *ast, const compile_options *opt, diag_list *diags);

/* Parse + codegen a file (compile.c). NULL when any error (diags say why). */
program *compile_policy_file(const char *path, const compile_options *opt, diag_list *diags);
program *compile_policy_buffer(const char *path, const char *data, size_t len,
                               const compile_options *opt, diag_list *diags);

#endif
