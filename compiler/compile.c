/* compile.c — glue of the compiler pipeline: parse (ydoc.c, parse.c) then codegen (codegen.c). */
#include "compile.h"

#include <stddef.h>

static program *finish(policy_ast *ast, const compile_options *opt, diag_list *diags) {
  if (!ast) return NULL;
  /* Codegen runs even after parse errors, so one run reports every problem (rule grammar too). */
  program *p = codegen_policy(ast, opt, diags);
  policy_ast_free(ast);
  if (p && diag_errors(diags) > 0) {
    program_free(p);
    p = NULL;
  }
  return p;
}

program *compile_policy_file(const char *path, const compile_options *opt, diag_list *diags) {
  return finish(policy_parse_file_as(path, opt ? opt->dialect : 0, diags), opt, diags);
}

program *compile_policy_buffer(const char *path, const char *data, size_t len,
                               const compile_options *opt, diag_list *diags) {
  return finish(policy_parse_buffer_as(path, data, len, opt ? opt->dialect : 0, diags), opt, diags);
}
