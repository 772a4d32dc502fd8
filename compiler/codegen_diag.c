/* codegen_diag.c — where a rule's diagnostics point in the YAML: a rule's columns are its scalar's
 * column plus the offset in the rule string (when the parsed text is the YAML text). Shared by
 * codegen.c and codegen_match.c, which depend on it and not on each other's files. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "codegen_int.h"

void cg_rule_pos(const cg_rule *cr, uint32_t off, uint32_t *line, uint32_t *col) {
  *line = cr->ar->pos.line;
  *col = cr->exact_cols ? cr->ar->pos.col + (cr->ar->quoted ? 1u : 0u) + off : cr->ar->pos.col;
}

void cg_rule_warn(cg *g, const cg_rule *cr, uint32_t off, const char *code, const char *fmt, ...) {
  char *msg = NULL;
  va_list ap;
  va_start(ap, fmt);
  int n = vasprintf(&msg, fmt, ap);
  va_end(ap);
  if (n < 0) {
    g->oom = 1;
    return;
  }
  uint32_t line, col;
  cg_rule_pos(cr, off, &line, &col);
  diag_add(g->diags, DIAG_WARNING, code, g->file, line, col, "%s", msg);
  free(msg);
}
