/* parse.c — YAML node tree -> checked policy AST (policy.h): the entry points, the `policy`,
 * `requirements` and `variables` sections. The top layer of the front end: it calls
 * parse_check.c for the checks and parse_field.c / parse_keys.c for fields and keys.
 *
 * Types and shapes are checked here with Wazuh 4.x's typing (SCA-SEMANTICS §1); rule grammar and
 * condition values are left to codegen. Every problem is reported, each at the node at fault. */
#include "parse_check.h"
#include "parse_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bundle.h"
#include "crypto.h"
#include "err.h"

/* ---- sections --------------------------------------------------------------------------------- */

static void policy_section(pctx *c, const ynode *root) {
  policy_ast *a = c->ast;
  const ynode *p = ynode_get(root, "policy");
  if (!p) {
    parse_error(c, root, "missing-field", "missing required section 'policy'");
    return;
  }
  if (p->kind != YNODE_MAPPING) {
    parse_error(c, p, "type", "section 'policy' must be a mapping, not a %s", ynode_kind_name(p));
    return;
  }
  a->policy_pos = parse_pos(p);
  parse_keys_check(c, p, PARSE_POLICY, "policy");
  if (parse_string(c, p, "id", "policy", 1, &a->id)) { /* Tenet's rule for ids (bundle.h) */
    char why[200];
    if (bundle_policy_id_check(a->id.s, why, sizeof why) != TN_OK)
      parse_error(c, ynode_get(p, "id"), "limit", "%s", why);
  }
  parse_string(c, p, "name", "policy", 1, &a->name);
  parse_string(c, p, "file", "policy", 1, &a->file);
  parse_string(c, p, "description", "policy", 1, &a->description);
  parse_strlist(c, p, "references", "policy", &a->references);
  parse_string(c, p, "regex_type", "policy", 0, &a->regex_type);
}

static void requirements_section(pctx *c, const ynode *root) {
  const ynode *r = ynode_get(root, "requirements");
  ast_check *k = &c->ast->requirements;
  if (!r) return;
  if (r->kind != YNODE_MAPPING) {
    parse_error(c, r, "type", "section 'requirements' must be a mapping, not a %s", ynode_kind_name(r));
    return;
  }
  c->ast->has_requirements = 1;
  k->pos = parse_pos(r);
  parse_keys_check(c, r, PARSE_REQUIREMENTS, "requirements");
  /* 5.x renamed title to name and still reads title. */
  const char *title = c->schema == 5 && ynode_get(r, "name") ? "name" : "title";
  parse_string(c, r, title, "requirements", 1, &k->title);
  parse_string(c, r, "description", "requirements", 1, &k->description);
  parse_string(c, r, "condition", "requirements", 1, &k->condition);
  parse_string(c, r, "regex_type", "requirements", 0, &k->regex_type);
  parse_rules(c, r, "requirements", 1, k);
}

static void variables_section(pctx *c, const ynode *root) {
  const ynode *v = ynode_get(root, "variables");
  char hint[128];
  if (!v) return;
  if (v->kind == YNODE_SCALAR) { /* Wazuh iterates its children: a scalar has none (§1.4) */
    if (!v->len)
      parse_warning(c, v, "empty-section", "section 'variables' is empty: Wazuh reads no variable from it");
    else
      parse_warning(c, v, "empty-section",
                    "section 'variables' is a %s, not a mapping: Wazuh reads no variable from it",
                    ynode_kind_name(v));
    return;
  }
  if (v->kind != YNODE_MAPPING) {
    parse_error(c, v, "type", "section 'variables' must be a mapping, not a %s", ynode_kind_name(v));
    return;
  }
  if (v->n > PARSE_MAX_VARIABLES) {
    parse_error(c, v, "limit", "too many variables (%zu; at most %d)", v->n, PARSE_MAX_VARIABLES);
    return;
  }
  policy_ast *a = c->ast;
  a->variables = parse_calloc(c, v->n, sizeof(*a->variables));
  for (size_t i = 0; a->variables && i < v->n; i++) {
    const ynode *k = v->pairs[i].key, *val = v->pairs[i].value;
    int show = k->len > 60 ? 60 : (int)k->len;
    if (k->text[0] != '$') {
      parse_error(c, k, "variable", "invalid variable name '%.*s': variable names start with '$'", show,
                  k->text);
      continue;
    }
    if (!ynode_is_string(val)) {
      parse_error(c, val, "type", "variable '%.*s' must be a string%s", show, k->text,
                  parse_hint(val, k->text, hint, sizeof(hint)));
      continue;
    }
    int dup = 0; /* an exact duplicate: the first definition wins (ydoc.c warned) */
    for (size_t j = 0; j < a->nvariables && !dup; j++)
      dup = strlen(a->variables[j].name) == k->len && memcmp(a->variables[j].name, k->text, k->len) == 0;
    if (dup) continue;
    ast_variable *var = &a->variables[a->nvariables];
    var->name = parse_strdup(c, k->text, k->len);
    var->value = parse_strdup(c, val->text, val->len);
    var->pos = parse_pos(k);
    if (var->name && var->value) {
      a->nvariables++;
    } else {
      free(var->name);
      free(var->value);
      memset(var, 0, sizeof(*var));
    }
  }
}

static void document(pctx *c, const ynode *root) {
  if (!root) {
    parse_error(c, NULL, "missing-field",
                "policy file is empty (expected the 'policy' and 'checks' sections)");
    return;
  }
  if (root->kind != YNODE_MAPPING) {
    parse_error(c, root, "type", "a policy must be a mapping with 'policy' and 'checks' sections, not a %s",
                ynode_kind_name(root));
    return;
  }
  const ynode *checks = ynode_get(root, "checks");
  c->schema = c->ast->schema = parse_schema(checks);
  parse_keys_check(c, root, PARSE_TOP, NULL);
  policy_section(c, root);
  requirements_section(c, root);
  variables_section(c, root);
  if (!checks)
    parse_error(c, root, "missing-field", "missing required section 'checks'");
  else
    parse_checks(c, checks);
}

/* ---- entry points ----------------------------------------------------------------------------- */

policy_ast *policy_parse_buffer(const char *path, const char *data, size_t len, diag_list *diags) {
  return policy_parse_buffer_as(path, data, len, 0, diags);
}

policy_ast *policy_parse_buffer_as(const char *path, const char *data, size_t len, int dialect,
                                   diag_list *diags) {
  if (!path) path = "<input>";
  ydoc *doc = ydoc_parse(path, data, len, diags);
  if (!doc) return NULL;
  policy_ast *a = calloc(1, sizeof(*a));
  pctx c = {path, diags, a, 4, 0, ((size_t)16 << 20) + 4 * len, 0, dialect};
  if (a) {
    a->schema = 4;
    a->path = strdup(path);
    crypto_sha256(data ? data : "", data ? len : 0, a->source_sha256);
    if (!a->path)
      c.oom = 1;
    else
      document(&c, ydoc_root(doc));
  }
  ydoc_free(doc);
  if (!a || c.oom) {
    diag_add(diags, DIAG_ERROR, "oom", path, 0, 0, "out of memory while checking the policy");
    policy_ast_free(a);
    return NULL;
  }
  return a;
}

policy_ast *policy_parse_file(const char *path, diag_list *diags) {
  return policy_parse_file_as(path, 0, diags);
}

policy_ast *policy_parse_file_as(const char *path, int dialect, diag_list *diags) {
  FILE *f = fopen(path, "rb");
  if (!f) {
    diag_add(diags, DIAG_ERROR, "io", path, 0, 0, "cannot open policy file: %s", strerror(errno));
    return NULL;
  }
  size_t cap = 1 << 16, len = 0;
  char *buf = malloc(cap);
  int err = 0;
  while (buf) {
    if (len == cap) {
      if (cap > YDOC_MAX_INPUT) break; /* ydoc_parse reports the size */
      char *nb = realloc(buf, cap * 2);
      if (!nb) {
        free(buf);
        buf = NULL;
        break;
      }
      buf = nb;
      cap *= 2;
    }
    size_t got = fread(buf + len, 1, cap - len, f);
    len += got;
    if (got == 0) {
      err = ferror(f) ? (errno ? errno : EIO) : 0;
      break;
    }
  }
  fclose(f);
  if (!buf || err) {
    diag_add(diags, DIAG_ERROR, "io", path, 0, 0, "cannot read policy file: %s",
             buf ? strerror(err) : "out of memory");
    free(buf);
    return NULL;
  }
  policy_ast *a = policy_parse_buffer_as(path, buf, len, dialect, diags);
  diag_source_adopt(diags, path, buf, len); /* for source lines under diagnostics; no copy */
  return a;
}

void policy_ast_free(policy_ast *p) {
  if (!p) return;
  free(p->path);
  free(p->id.s);
  free(p->name.s);
  free(p->file.s);
  free(p->description.s);
  free(p->regex_type.s);
  for (size_t i = 0; i < p->references.n; i++)
    free(p->references.items[i].s);
  free(p->references.items);
  parse_check_clear(&p->requirements);
  for (size_t i = 0; i < p->nvariables; i++) {
    free(p->variables[i].name);
    free(p->variables[i].value);
  }
  free(p->variables);
  for (size_t i = 0; i < p->nchecks; i++)
    parse_check_clear(&p->checks[i]);
  free(p->checks);
  free(p);
}
