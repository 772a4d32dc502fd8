/* parse_field.c — the field helpers of the policy front end (parse_int.h): positions,
 * diagnostics at a node, the text budget, and typed reads of one field (string, list of strings,
 * rules) with Wazuh 4.x's typing (SCA-SEMANTICS §1.1) and shapes (§1.6).
 *
 * The bottom layer of the front end: parse.c and parse_check.c call it; it calls neither. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parse_int.h"

srcpos parse_pos(const ynode *n) {
  srcpos p = {1, 1};
  if (n) {
    p.line = n->line;
    p.col = n->col;
  }
  return p;
}

static void report(pctx *c, diag_level level, const ynode *at, const char *code, const char *fmt,
                   va_list ap) {
  char *msg = NULL;
  if (vasprintf(&msg, fmt, ap) < 0) msg = NULL;
  srcpos p = parse_pos(at);
  diag_add(c->diags, level, code, c->path, p.line, p.col, "%s", msg ? msg : "(out of memory)");
  free(msg);
}

void parse_error(pctx *c, const ynode *at, const char *code, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  report(c, DIAG_ERROR, at, code, fmt, ap);
  va_end(ap);
}

void parse_warning(pctx *c, const ynode *at, const char *code, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  report(c, DIAG_WARNING, at, code, fmt, ap);
  va_end(ap);
}

char *parse_strdup(pctx *c, const char *s, size_t n) {
  if (n >= c->budget) {
    if (!c->over_budget)
      parse_error(c, NULL, "limit", "policy text is too large once YAML aliases are expanded");
    c->over_budget = 1;
    return NULL;
  }
  c->budget -= n + 1;
  char *p = malloc(n + 1);
  if (!p) {
    c->oom = 1;
    return NULL;
  }
  memcpy(p, s, n);
  p[n] = '\0';
  return p;
}

void *parse_calloc(pctx *c, size_t n, size_t size) {
  if (!n) return NULL;
  void *p = calloc(n, size);
  if (!p) c->oom = 1;
  return p;
}

const char *parse_hint(const ynode *v, const char *key, char *buf, size_t n) {
  if (v && v->kind == YNODE_SCALAR && v->is_number) {
    if (key)
      snprintf(buf, n, " (quote it: %s: \"%.40s\")", key, v->text);
    else
      snprintf(buf, n, " (quote it: \"%.40s\")", v->text);
  } else {
    snprintf(buf, n, ", not a %s", ynode_kind_name(v));
  }
  return buf;
}

int parse_string(pctx *c, const ynode *m, const char *key, const char *ctx, int required, ast_string *out) {
  const ynode *v = ynode_get(m, key);
  char hint[128];
  if (!v) {
    if (required) parse_error(c, m, "missing-field", "%s: missing required field '%s'", ctx, key);
    return 0;
  }
  if (!ynode_is_string(v)) {
    parse_error(c, v, "type", "%s %s must be a string%s", ctx, key, parse_hint(v, key, hint, sizeof(hint)));
    return 0;
  }
  out->s = parse_strdup(c, v->text, v->len);
  out->pos = parse_pos(v);
  return out->s != NULL;
}

/* A string member into out (non-strings are dropped with a warning); returns 1 when kept. */
static int strlist_item(pctx *c, const ynode *it, const char *key, const char *ctx, ast_strlist *out) {
  char hint[128];
  if (!ynode_is_string(it)) {
    parse_warning(c, it, "references", "%s %s item must be a string%s; it is dropped", ctx, key,
                  parse_hint(it, NULL, hint, sizeof(hint)));
    return 0;
  }
  ast_string *s = &out->items[out->n];
  s->s = parse_strdup(c, it->text, it->len);
  s->pos = parse_pos(it);
  if (s->s) out->n++;
  return s->s != NULL;
}

void parse_strlist(pctx *c, const ynode *m, const char *key, const char *ctx, ast_strlist *out) {
  const ynode *v = ynode_get(m, key);
  if (!v) return;
  if (v->kind == YNODE_SCALAR) { /* Wazuh iterates the node's children: a scalar has none (§1.6) */
    parse_warning(c, v, "references",
                  "%s %s given as a %s is dropped, as Wazuh drops it (write a list: %s: [\"%.40s\"])", ctx,
                  key, ynode_kind_name(v), key, v->text);
    return;
  }
  if (v->kind == YNODE_MAPPING)
    parse_warning(c, v, "references",
                  "%s %s should be a list of strings, not a mapping; its values are used, as Wazuh uses them",
                  ctx, key);
  out->present = 1;
  out->pos = parse_pos(v);
  out->items = parse_calloc(c, v->n, sizeof(*out->items));
  for (size_t i = 0; out->items && i < v->n; i++)
    strlist_item(c, v->kind == YNODE_SEQUENCE ? v->items[i] : v->pairs[i].value, key, ctx, out);
}

/* Whether the 5.x module can make an evaluator of a rule (its rule factory, SCA-SEMANTICS §10):
 * trimmed of spaces and tabs, a lowercase "not " prefix removed, cut before the first "->" when
 * the rule has " -> ", the text before the first ':' (one leading '!' ignored) must be a type
 * letter. Otherwise the module logs "Failed to parse rule" and drops the rule. */
static int rule_type_known5(const char *s, size_t len) {
  while (len && (*s == ' ' || *s == '\t'))
    s++, len--;
  if (len >= 4 && memcmp(s, "not ", 4) == 0) {
    s += 4, len -= 4;
    while (len && (*s == ' ' || *s == '\t'))
      s++, len--;
  }
  char *copy = strndup(s, len);
  if (copy && strstr(copy, " -> ")) len = (size_t)(strstr(copy, "->") - copy);
  free(copy);
  const char *colon = memchr(s, ':', len);
  if (!colon) return 0;
  const char *key = s;
  size_t klen = (size_t)(colon - s);
  if (klen && key[0] == '!') key++, klen--;
  if (klen != 1) return 0;
  return strchr("frpdc", key[0]) != NULL;
}

void parse_rules(pctx *c, const ynode *m, const char *ctx, int allow_empty, ast_check *out) {
  const ynode *v = ynode_get(m, "rules");
  char hint[128];
  if (!v) {
    parse_error(c, m, "missing-field", "%s: missing required field 'rules'", ctx);
    return;
  }
  if (v->kind != YNODE_SEQUENCE) {
    parse_error(c, v, "type", "%s rules must be a list of strings, not a %s", ctx, ynode_kind_name(v));
    return;
  }
  if (v->n == 0 && !allow_empty) {
    parse_error(c, v, "rules", "%s rules must not be empty", ctx);
    return;
  }
  if (v->n > PARSE_MAX_RULES) {
    parse_error(c, v, "rules", "%s has %zu rules; at most %d are allowed", ctx, v->n, PARSE_MAX_RULES);
    return;
  }
  out->rules = parse_calloc(c, v->n, sizeof(*out->rules));
  for (size_t i = 0; out->rules && i < v->n; i++) {
    const ynode *it = v->items[i];
    if (!ynode_is_string(it)) {
      parse_error(c, it, "type", "%s: rule must be a string%s", ctx,
                  parse_hint(it, NULL, hint, sizeof(hint)));
      continue;
    }
    if (it->len == 0) {
      parse_error(c, it, "rules", "%s: empty rule", ctx);
      continue;
    }
    if (c->schema == 5 && !rule_type_known5(it->text, it->len)) {
      parse_warning(c, it, "dropped-rule",
                    "%s: rule '%.60s' has no known type: Wazuh 5.x drops it (\"Failed to parse rule\") and keeps the "
                    "rest",
                    ctx, it->text);
      continue;
    }
    ast_rule *r = &out->rules[out->nrules];
    r->text = parse_strdup(c, it->text, it->len);
    r->pos = parse_pos(it);
    r->quoted = it->quoted;
    if (r->text) out->nrules++;
  }
}
