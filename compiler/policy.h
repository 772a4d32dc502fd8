/* policy.h — the checked policy AST: what the YAML front end (ydoc.c + parse.c) produces from a
 * Wazuh SCA policy and what code generation (rules.c + codegen.c) consumes.
 *
 * parse.c has already applied the 4.x loader's typing and validation (SCA-SEMANTICS §1): every
 * field here has the right type; fields Wazuh ignores are dropped; problems went to the diag list.
 * Rule strings are kept verbatim (rules.c parses them). All strings are owned by the AST and are
 * NUL-terminated; positions are 1-based YAML line/column of the node they came from. */
#ifndef TENET_POLICY_H
#define TENET_POLICY_H

#include <stddef.h>
#include <stdint.h>

#include "diag.h"

typedef struct srcpos {
  uint32_t line, col;
} srcpos;

typedef struct ast_string {
  char *s;    /* NULL when absent */
  srcpos pos;
} ast_string;

typedef struct ast_strlist {
  int present;       /* a list (or mapping) was there, maybe empty (n = 0); a scalar is dropped as
                        Wazuh drops it (-Wreferences) and leaves present = 0 */
  ast_string *items; /* string items (a mapping's string values) only; non-strings were dropped
                        with a warning */
  size_t n;
  srcpos pos;
} ast_strlist;

/* One compliance entry: key -> values (strings only). 4.x list-of-maps shape and 5.x map shape both
 * end up here, in document order. */
typedef struct ast_compliance {
  char *key;
  ast_string *values;
  size_t nvalues;
  srcpos pos;
} ast_compliance;

typedef struct ast_rule {
  char *text; /* verbatim rule string */
  srcpos pos; /* position of the scalar node (column of its first character, quote included) */
  int quoted; /* the scalar was quoted ('...' or "..."), for column arithmetic */
} ast_rule;

typedef struct ast_check {
  int64_t id;          /* integral part of the id (4.x valueint); for a text id, its key
                          (vm/checkid.h checkid_text_key) */
  double id_value;     /* the id as written, when numeric */
  char *id_text;       /* 5.x: a string id as written; NULL for numeric ids */
  int id_is_text;      /* 5.x: id_text is not an integer: a text id (id is its key) */
  srcpos pos;          /* the check mapping */
  srcpos id_pos;
  ast_string title;    /* 5.x `name` maps here */
  ast_string description, rationale, remediation;
  ast_strlist references;
  int compliance_present;
  int compliance_is_map; /* 5.x object form (4.x dialect renders it as an empty object) */
  ast_compliance *compliance;
  size_t ncompliance;
  char *mitre_json;    /* 5.x `mitre` object rendered as compact JSON, or NULL */
  ast_string condition;/* verbatim; validated by codegen */
  ast_string regex_type;
  ast_rule *rules;
  size_t nrules;
} ast_check;

typedef struct ast_variable {
  char *name;  /* including the leading '$' */
  char *value;
  srcpos pos;
} ast_variable;

typedef struct policy_ast {
  char *path;              /* as given on the command line (for diagnostics) */
  uint8_t source_sha256[32];
  int schema;              /* 4 or 5 (5: `name` instead of `title`, map compliance, mitre, ...) */
  ast_string id, name, file, description, regex_type;
  ast_strlist references;
  srcpos policy_pos;
  int has_requirements;
  ast_check requirements;  /* title, description, condition, rules, regex_type (id unused) */
  ast_variable *variables; /* in document order */
  size_t nvariables;
  ast_check *checks;       /* in document order */
  size_t nchecks;
} policy_ast;

/* Read and check a policy file. Returns the AST (caller frees with policy_ast_free) or NULL when
 * the file cannot be read or is not YAML at all; every problem found is added to diags (errors
 * and warnings). A non-NULL result may still carry errors in diags: callers stop if
 * diag_errors(diags) > 0. */
policy_ast *policy_parse_file(const char *path, diag_list *diags);
/* Same, from memory (path is used for diagnostics only). */
policy_ast *policy_parse_buffer(const char *path, const char *data, size_t len, diag_list *diags);
/* The same, for a compilation under `--dialect` (0: from the schema, 4 or 5 as enum prog_dialect):
 * under the 5.x dialect a check id may be any string (SCA-SEMANTICS §10 "Loading"). */
policy_ast *policy_parse_file_as(const char *path, int dialect, diag_list *diags);
policy_ast *policy_parse_buffer_as(const char *path, const char *data, size_t len, int dialect,
                                   diag_list *diags);
void policy_ast_free(policy_ast *p);

#endif
