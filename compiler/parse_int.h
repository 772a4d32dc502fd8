/* parse_int.h — the bottom layer of the policy front end, shared by parse.c (policy,
 * requirements, variables, entry points) and parse_check.c (checks): the parse context, the field
 * helpers (parse_field.c) and the key check (parse_keys.c). The layers call downwards only:
 * parse.c -> parse_check.c (parse_check.h) -> parse_field.c, parse_keys.c.
 *
 * Every helper reports what is wrong at the node at fault (a missing field at the mapping that
 * lacks it) and carries on, so one run lists every problem. Allocation failures latch `oom`; the
 * entry point then drops the AST and reports once. */
#ifndef TENET_PARSE_INT_H
#define TENET_PARSE_INT_H

#include <stddef.h>

#include "policy.h"
#include "ydoc.h"

#define PARSE_MAX_RULES 255        /* rules per check, as Wazuh 4.x */
#define PARSE_MAX_VARIABLES 1024   /* entries of `variables` */
#define PARSE_MAX_MITRE (1u << 20) /* bytes of one check's rendered mitre JSON */

typedef struct pctx {
  const char *path;
  diag_list *diags;
  policy_ast *ast;
  int schema;      /* 4 or 5 */
  int oom;         /* an allocation failed */
  size_t budget;   /* bytes of AST text still allowed (aliases can multiply text) */
  int over_budget; /* the budget ran out (reported once) */
  int dialect;     /* 0 (from the schema), DIALECT_WAZUH4 or DIALECT_WAZUH5: what `--dialect` says */
} pctx;

srcpos parse_pos(const ynode *n);
/* Report at node `at` (1:1 when NULL). */
void parse_error(pctx *c, const ynode *at, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
void parse_warning(pctx *c, const ynode *at, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Copy n bytes into a new NUL-terminated string, charged to the text budget. NULL on failure. */
char *parse_strdup(pctx *c, const char *s, size_t n);
/* calloc that latches oom; NULL for n == 0 too. */
void *parse_calloc(pctx *c, size_t n, size_t size);

/* Why v is not a string, as a message tail: " (quote it: key: \"12\")" for a number (without
 * "key: " when key is NULL), ", not a sequence" for a collection. Written to buf (n >= 96). */
const char *parse_hint(const ynode *v, const char *key, char *buf, size_t n);

/* Field `key` of mapping m as a string into out. A missing required field or a value of another
 * type is an error (ctx names the owner in the message: "policy", "check 1000"). Returns 1 when
 * out was set. */
int parse_string(pctx *c, const ynode *m, const char *key, const char *ctx, int required, ast_string *out);
/* Optional list of strings (references), read as Wazuh reads it (SCA-SEMANTICS §1.6): a scalar is
 * dropped and a mapping's values are used, with a warning; non-string items are dropped with a
 * warning. */
void parse_strlist(pctx *c, const ynode *m, const char *key, const char *ctx, ast_strlist *out);
/* The required `rules` list: non-empty strings, at most PARSE_MAX_RULES; an empty list is an
 * error unless allow_empty. */
void parse_rules(pctx *c, const ynode *m, const char *ctx, int allow_empty, ast_check *out);

/* Where a mapping sits in a policy, for the keys valid there (parse_keys.c). */
typedef enum { PARSE_TOP, PARSE_POLICY, PARSE_REQUIREMENTS, PARSE_CHECK } parse_place;
/* Warn about every key of mapping m that Wazuh does not read at place (-Wunknown-key, with a
 * did-you-mean) or reads only ignoring case (-Wkey-case). ctx prefixes the message ("check 1");
 * NULL for the top level. */
void parse_keys_check(pctx *c, const ynode *m, parse_place place, const char *ctx);

#endif
