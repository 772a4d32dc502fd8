/* subst.c — policy variables (SCA-SEMANTICS §1.4): the substitution order and the textual
 * replacement. Where substitution applies (4.x: the location of f:/d:/c: rules only; 5.x: every
 * string) is codegen.c's and meta.c's business. */
#include <stdlib.h>
#include <string.h>

#include "codegen_int.h"
#include "err.h"
#include "strbuf.h"

int subst_table_init(subst_table *t, const policy_ast *ast) {
  t->v = NULL;
  t->n = 0;
  if (ast->nvariables == 0) return TN_OK;
  t->v = calloc(ast->nvariables, sizeof *t->v);
  if (!t->v) return TN_ENOMEM;
  for (size_t i = 0; i < ast->nvariables; i++) {
    const ast_variable *av = &ast->variables[i];
    if (!av->name || !av->value || !av->name[0]) continue;
    /* insertion sort: stable, longest name first */
    size_t len = strlen(av->name), j = t->n;
    while (j > 0 && t->v[j - 1].namelen < len) {
      t->v[j] = t->v[j - 1];
      j--;
    }
    t->v[j] = (subst_var){av->name, av->value, len};
    t->n++;
  }
  return TN_OK;
}

void subst_table_free(subst_table *t) {
  free(t->v);
  t->v = NULL;
  t->n = 0;
}

/* Replace every occurrence of one variable in cur; returns the new string (cur is freed). */
static char *replace_one(char *cur, const subst_var *v) {
  if (!strstr(cur, v->name)) return cur;
  strbuf b = STRBUF_INIT;
  const char *s = cur, *hit;
  while ((hit = strstr(s, v->name)) != NULL) {
    strbuf_append(&b, s, (size_t)(hit - s));
    strbuf_puts(&b, v->value);
    s = hit + v->namelen;
  }
  strbuf_puts(&b, s);
  free(cur);
  return strbuf_take(&b);
}

char *subst_apply(const subst_table *t, const char *text, size_t len) {
  char *cur = strndup(text, len);
  for (size_t i = 0; cur && i < t->n; i++)
    cur = replace_one(cur, &t->v[i]);
  return cur;
}
