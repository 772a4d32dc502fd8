/* codegen_int.h — what the code generator's files share: codegen.c (checks, rules, steps),
 * codegen_match.c (regexes and content matchers), codegen_diag.c (a rule's diagnostics), subst.c
 * (policy variables) and meta.c (the pre-rendered event JSON). Each file depends only on those
 * after it in that list, never back. Not a public API: only compile.h's codegen_policy is. */
#ifndef TENET_CODEGEN_INT_H
#define TENET_CODEGEN_INT_H

#include <stddef.h>
#include <stdint.h>

#include "diag.h"
#include "policy.h"
#include "program.h"
#include "rules.h"

/* ---- subst.c: policy variables (SCA-SEMANTICS §1.4) ---- */

typedef struct subst_var {
  const char *name; /* borrowed from the AST, '$' included */
  const char *value;
  size_t namelen;
} subst_var;

/* The variables in substitution order: longest name first, document order among equal lengths. */
typedef struct subst_table {
  subst_var *v; /* owned */
  size_t n;
} subst_table;

/* Build the table from the AST's variables (those with a name and a value). 0 or TN_ENOMEM. */
int subst_table_init(subst_table *t, const policy_ast *ast);
void subst_table_free(subst_table *t);
/* text[0..len) with every variable replaced in table order, each at every occurrence, left to
 * right, one variable after the other (so a value naming a later variable is expanded again).
 * Returns a malloc'd string (caller frees) or NULL on allocation failure. */
char *subst_apply(const subst_table *t, const char *text, size_t len);

/* ---- meta.c: the event's static "check" members (SCA-SEMANTICS §6.2) ---- */

/* The JSON members "id" ... "references" of a check's event object, rendered as Wazuh 4.x's cJSON
 * prints them (no braces, no trailing comma). dialect selects the compliance shape (4: a map-shaped
 * compliance renders as {}; 5: rendered); vars, when not NULL, are substituted in every string
 * (5.x). Returns a malloc'd string (caller frees) or NULL on allocation failure. */
char *meta_render_check(const ast_check *c, int dialect, const subst_table *vars);
/* The same members as fields of out (prog_check: description ... rules), interned into p;
 * c == NULL (the requirements) gives none. TN_OK or TN_ENOMEM. */
int meta_check_fields(program *p, const ast_check *c, int dialect, const subst_table *vars, prog_check *out);

/* ---- codegen.c / codegen_match.c ---- */

/* Code generation state for one policy. */
typedef struct cg {
  program *p;
  const policy_ast *ast;
  diag_list *diags;
  const char *file; /* for diagnostics */
  int dialect;      /* enum prog_dialect */
  subst_table vars;
  size_t errors; /* errors added by code generation */
  int oom;       /* an allocation failed */
} cg;

/* The regex engine of a check (SCA-SEMANTICS §2.4): RX_OSREGEX or RX_PCRE2, and RXF_CASELESS. */
typedef struct cg_engine {
  uint8_t dialect;
  uint8_t flags;
} cg_engine;

/* One rule of the check being generated. */
typedef struct cg_rule {
  const ast_rule *ar;
  rule r;         /* parsed from ar->text, or from `subst` (5.x) */
  char *subst;    /* owned: the substituted rule text (5.x dialect), or NULL */
  int exact_cols; /* offsets in r map to YAML columns (the parsed text is the YAML text) */
  uint32_t expr;  /* @address of the rule's matcher within the check, or PROG_NONE */
} cg_rule;

/* ---- codegen_diag.c ---- */

/* YAML line and column of byte offset off of a rule's parsed text. */
void cg_rule_pos(const cg_rule *cr, uint32_t off, uint32_t *line, uint32_t *col);
/* A warning at byte offset off of a rule (printf-style message). */
void cg_rule_warn(cg *g, const cg_rule *cr, uint32_t off, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

/* ---- codegen_match.c ---- */

/* Emit the matcher of a rule's content: one M* per minterm then MEND. Regexes are checked and
 * added to the table, with warnings for what Wazuh evaluates as never matching or not applicable.
 * Returns the index of the first instruction, or PROG_NONE on allocation failure (g->oom set). */
uint32_t cg_emit_content(cg *g, const cg_rule *cr, cg_engine eng);
/* The regex-table index of a rule's name when its kind's name is a regex (d:'s file-name pattern:
 * always OS_Regex with "r:", OS_Match otherwise or when that does not compile; 5.x: PCRE2);
 * PROG_NONE on allocation failure (codegen_match.c). */
uint32_t cg_name_regex(cg *g, const cg_rule *cr);

#endif
