/* parse_check.c — the `checks` section: ids and their registry (SCA-SEMANTICS §1.5, §1.7),
 * metadata, compliance in both shapes (§1.6 and §10), mitre, condition and rules.
 *
 * Types and shapes only: rule grammar and condition values are codegen's. The middle layer of
 * the front end: called by parse.c, it calls parse_field.c and parse_keys.c. */
#include "parse_check.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "checkid.h"
#include "program.h"
#include "strbuf.h"

int parse_schema(const ynode *checks) {
  if (!checks || checks->kind != YNODE_SEQUENCE) return 4;
  for (size_t i = 0; i < checks->n; i++) {
    const ynode *k = checks->items[i];
    if (k->kind != YNODE_MAPPING) continue;
    const ynode *cm = ynode_get(k, "compliance");
    if ((ynode_get(k, "name") && !ynode_get(k, "title")) || (cm && cm->kind == YNODE_MAPPING) ||
        ynode_get(k, "mitre"))
      return 5;
  }
  return 4;
}

void parse_check_clear(ast_check *k) {
  free(k->id_text);
  free(k->title.s);
  free(k->description.s);
  free(k->rationale.s);
  free(k->remediation.s);
  for (size_t i = 0; i < k->references.n; i++)
    free(k->references.items[i].s);
  free(k->references.items);
  for (size_t i = 0; i < k->ncompliance; i++) {
    free(k->compliance[i].key);
    for (size_t j = 0; j < k->compliance[i].nvalues; j++)
      free(k->compliance[i].values[j].s);
    free(k->compliance[i].values);
  }
  free(k->compliance);
  free(k->mitre_json);
  free(k->condition.s);
  free(k->regex_type.s);
  for (size_t i = 0; i < k->nrules; i++)
    free(k->rules[i].text);
  free(k->rules);
  memset(k, 0, sizeof(*k));
}

/* ---- ids -------------------------------------------------------------------------------------- */

/* A 5.x string id: an optional sign and decimal digits only. */
static int intstring(const char *s, size_t len, long long *out) {
  size_t i = (len && (s[0] == '-' || s[0] == '+')) ? 1 : 0;
  if (i == len || len > 20) return 0;
  for (size_t j = i; j < len; j++)
    if (s[j] < '0' || s[j] > '9') return 0;
  *out = strtoll(s, NULL, 10);
  return 1;
}

/* Under the 5.x dialect (`--dialect wazuh5`, or a 5.x schema without --dialect) a check id may be
 * any string, as the 5.x module loads it (SCA-SEMANTICS §10 "Loading"). */
static int text_ids_allowed(const pctx *c) {
  return c->dialect == DIALECT_WAZUH5 || (c->dialect == 0 && c->schema == 5);
}

/* A 5.x text id: kept as written, keyed by checkid_text_key. */
static int text_id(pctx *c, const ynode *v, ast_check *k) {
  if (v->len == 0) {
    parse_error(c, v, "type", "check id must not be an empty string");
    return 0;
  }
  if (v->len > CHECKID_TEXT_MAX) {
    parse_error(c, v, "type", "check id of %zu bytes is too long (at most %d)", v->len, CHECKID_TEXT_MAX);
    return 0;
  }
  if (memchr(v->text, '\0', v->len)) {
    parse_error(c, v, "type", "check id must not contain a NUL byte");
    return 0;
  }
  if (!(k->id_text = parse_strdup(c, v->text, v->len))) return 0;
  k->id_is_text = 1;
  k->id = checkid_text_key(v->text, v->len);
  return 1;
}

/* The check's id into k; returns 1 when it is usable (for messages and the registry). */
static int check_id(pctx *c, const ynode *m, ast_check *k) {
  const ynode *v = ynode_get(m, "id");
  char hint[128];
  if (!v) {
    parse_error(c, m, "missing-field", "check: missing required field 'id'");
    return 0;
  }
  k->id_pos = parse_pos(v);
  double x;
  long long n;
  int strings = text_ids_allowed(c);
  if (v->kind == YNODE_SCALAR && v->is_number) {
    x = v->number;
  } else if (v->kind == YNODE_SCALAR && (c->schema == 5 || strings) && intstring(v->text, v->len, &n) &&
             (!strings || (n >= INT32_MIN && n <= INT32_MAX))) {
    x = (double)n;
    k->id_text = parse_strdup(c, v->text, v->len);
  } else if (v->kind == YNODE_SCALAR && strings) {
    return text_id(c, v, k);
  } else if (v->kind != YNODE_SCALAR) {
    parse_error(c, v, "type", "check id must be a number, not a %s", ynode_kind_name(v));
    return 0;
  } else if (c->schema == 5) {
    parse_error(c, v, "type", "check id must be an integer or a string holding one");
    return 0;
  } else {
    char *end;
    strtod(v->text, &end);
    if (v->len && *end == '\0')
      snprintf(hint, sizeof(hint), " (unquote it: id: %.40s)", v->text);
    else
      hint[0] = '\0';
    parse_error(c, v, "type", "check id must be a number%s", hint);
    return 0;
  }
  if (!isfinite(x) || x <= (double)INT32_MIN - 1 || x >= (double)INT32_MAX + 1) {
    parse_error(c, v, "type", "check id %.40s is out of range", v->text);
    return 0;
  }
  k->id = (int64_t)x; /* truncates toward zero, as Wazuh's valueint */
  k->id_value = x;
  if (x != (double)k->id)
    parse_warning(c, v, "float-id", "check id %.40s is not an integer; it is truncated to %lld", v->text,
                  (long long)k->id);
  return 1;
}

typedef struct idrec {
  int64_t id;
  size_t order;
  const ynode *at;
  const char *text; /* a text id, or NULL */
} idrec;

static int idcmp(const void *pa, const void *pb) {
  const idrec *a = pa, *b = pb;
  if (a->id != b->id) return a->id < b->id ? -1 : 1;
  return a->order < b->order ? -1 : a->order > b->order;
}

/* Check ids must be unique, also against the policy id (one key space, §1.7). */
static void unique_ids(pctx *c, idrec *r, size_t n) {
  const char *pid = c->ast->id.s;
  for (size_t i = 0; i < n; i++) {
    char txt[32];
    if (r[i].text) continue; /* the one key space of §1.7 is 4.x's integer ids */
    snprintf(txt, sizeof(txt), "%lld", (long long)r[i].id);
    if (pid && strcmp(txt, pid) == 0)
      parse_error(c, r[i].at, "duplicate-id",
                  "duplicate check id %lld (first defined at line %u as the policy id)", (long long)r[i].id,
                  (unsigned)c->ast->id.pos.line);
  }
  qsort(r, n, sizeof(*r), idcmp);
  for (size_t i = 1, first = 0; i < n; i++) {
    if (r[i].id != r[first].id) {
      first = i;
      continue;
    }
    if (r[i].text && strcmp(r[i].text, r[first].text) != 0) /* two texts, one key: 2^-62 odds */
      parse_error(c, r[i].at, "duplicate-id",
                  "check ids '%s' and '%s' (line %u) have the same key %lld; rename one of them", r[i].text,
                  r[first].text, (unsigned)r[first].at->line, (long long)r[i].id);
    else if (r[i].text)
      parse_error(c, r[i].at, "duplicate-id", "duplicate check id '%s' (first defined at line %u)", r[i].text,
                  (unsigned)r[first].at->line);
    else
      parse_error(c, r[i].at, "duplicate-id", "duplicate check id %lld (first defined at line %u)",
                  (long long)r[i].id, (unsigned)r[first].at->line);
  }
}

/* ---- compliance ------------------------------------------------------------------------------- */

/* The 5.x compliance frameworks; other keys are dropped by the 5.x agent (§10). */
static const char *const frameworks5[] = {"cmmc", "fedramp",      "gdpr",        "hipaa",   "iso_27001",
                                          "nis2", "nist_800_171", "nist_800_53", "pci_dss", "tsc"};

/* Add one entry: key -> the string members of vals (non-strings dropped with a warning). An entry
 * that ends up with no string is not added: it produces nothing in the event. */
static void compliance_add(pctx *c, const char *ctx, ast_check *k, const ynode *key, const ynode *vals) {
  char hint[128];
  int show = key->len > 60 ? 60 : (int)key->len;
  if (vals->kind == YNODE_SCALAR) {
    parse_warning(c, vals, "compliance",
                  "%s: compliance '%.*s' must be a list of strings (write %.*s: [\"%.40s\"]); "
                  "a single value produces nothing",
                  ctx, show, key->text, show, key->text, vals->text);
    return;
  }
  if (vals->kind == YNODE_MAPPING && c->schema == 5) {
    parse_warning(c, vals, "compliance",
                  "%s: compliance '%.*s' must be a list of strings, not a mapping; it is ignored", ctx, show,
                  key->text);
    return;
  }
  if (vals->kind == YNODE_MAPPING) /* 4.x iterates a mapping's values like a list's items */
    parse_warning(c, vals, "compliance",
                  "%s: compliance '%.*s' should be a list of strings, not a mapping; "
                  "the mapping's values are used",
                  ctx, show, key->text);
  ast_string *out = parse_calloc(c, vals->n, sizeof(*out));
  size_t n = 0;
  for (size_t i = 0; out && i < vals->n; i++) {
    const ynode *one = vals->kind == YNODE_SEQUENCE ? vals->items[i] : vals->pairs[i].value;
    if (!ynode_is_string(one)) {
      parse_warning(c, one, "compliance", "%s: compliance '%.*s' value must be a string%s; it is dropped",
                    ctx, show, key->text, parse_hint(one, NULL, hint, sizeof(hint)));
      continue;
    }
    out[n].s = parse_strdup(c, one->text, one->len);
    out[n].pos = parse_pos(one);
    if (out[n].s) n++;
  }
  if (!n) {
    free(out);
    return;
  }
  ast_compliance *e = &k->compliance[k->ncompliance];
  e->key = parse_strdup(c, key->text, key->len);
  e->values = out;
  e->nvalues = n;
  e->pos = parse_pos(key);
  if (e->key) {
    k->ncompliance++;
  } else {
    for (size_t i = 0; i < n; i++)
      free(out[i].s);
    free(out);
    memset(e, 0, sizeof(*e));
  }
}

static int framework5(const ynode *key) {
  for (size_t i = 0; i < sizeof(frameworks5) / sizeof(*frameworks5); i++)
    if (strlen(frameworks5[i]) == key->len && memcmp(frameworks5[i], key->text, key->len) == 0) return 1;
  return 0;
}

static void compliance(pctx *c, const ynode *m, const char *ctx, ast_check *k) {
  const ynode *v = ynode_get(m, "compliance");
  if (!v) return;
  k->compliance_present = 1;
  if (v->kind == YNODE_SCALAR) {
    parse_warning(c, v, "compliance",
                  "%s: compliance must be a list of one-key mappings, not a %s; "
                  "it produces an empty compliance object",
                  ctx, ynode_kind_name(v));
    return;
  }
  k->compliance = parse_calloc(c, v->n, sizeof(*k->compliance));
  if (!k->compliance) return;
  if (v->kind == YNODE_MAPPING) { /* 5.x: framework -> list of strings */
    k->compliance_is_map = 1;
    for (size_t i = 0; i < v->n; i++) {
      const ynode *key = v->pairs[i].key;
      if (!framework5(key)) {
        int show = key->len > 60 ? 60 : (int)key->len;
        parse_warning(c, key, "compliance",
                      "%s: compliance key '%.*s' is not a 5.x framework (cmmc, fedramp, gdpr, "
                      "hipaa, iso_27001, nis2, nist_800_171, nist_800_53, pci_dss, tsc); it is "
                      "dropped",
                      ctx, show, key->text);
        continue;
      }
      compliance_add(c, ctx, k, key, v->pairs[i].value);
    }
    return;
  }
  /* 4.x: a list of one-key mappings; the key is each entry's first member (§1.6). */
  for (size_t i = 0; i < v->n; i++) {
    const ynode *e = v->items[i];
    if (e->kind != YNODE_MAPPING || e->n == 0) {
      parse_warning(c, e, "compliance",
                    "%s: compliance entry must be a one-key mapping (like cis: [\"1.1\"]), not %s%s; "
                    "it is ignored",
                    ctx, e->kind != YNODE_MAPPING ? "a " : "an empty ",
                    e->kind != YNODE_MAPPING ? ynode_kind_name(e) : "mapping");
      continue;
    }
    const ynode *key = e->pairs[0].key;
    if (e->n > 1)
      parse_warning(c, e->pairs[1].key, "compliance",
                    "%s: compliance entry has %zu keys; only the first ('%.*s') is read", ctx, e->n,
                    key->len > 60 ? 60 : (int)key->len, key->text);
    compliance_add(c, ctx, k, key, e->pairs[0].value);
  }
}

/* ---- mitre ------------------------------------------------------------------------------------ */

static void json_number(strbuf *b, double x) {
  if (!isfinite(x)) {
    strbuf_puts(b, "null");
  } else if (x == floor(x) && fabs(x) < 1e15) {
    strbuf_printf(b, "%.0f", x);
  } else {
    char t[32];
    snprintf(t, sizeof(t), "%.15g", x);
    if (strtod(t, NULL) != x) snprintf(t, sizeof(t), "%.17g", x);
    strbuf_puts(b, t);
  }
}

/* Compact JSON of a node tree; depth is bounded by ydoc.c, size by PARSE_MAX_MITRE. */
static void json_node(strbuf *b, const ynode *n) {
  if (b->len > PARSE_MAX_MITRE) return;
  switch (n->kind) {
  case YNODE_SCALAR:
    if (n->is_number) {
      json_number(b, n->number);
    } else {
      strbuf_putc(b, '"');
      strbuf_json_escape(b, n->text, n->len);
      strbuf_putc(b, '"');
    }
    break;
  case YNODE_SEQUENCE:
    strbuf_putc(b, '[');
    for (size_t i = 0; i < n->n; i++) {
      if (i) strbuf_putc(b, ',');
      json_node(b, n->items[i]);
    }
    strbuf_putc(b, ']');
    break;
  case YNODE_MAPPING:
    strbuf_putc(b, '{');
    for (size_t i = 0; i < n->n; i++) {
      if (i) strbuf_putc(b, ',');
      strbuf_putc(b, '"');
      strbuf_json_escape(b, n->pairs[i].key->text, n->pairs[i].key->len);
      strbuf_puts(b, "\":");
      json_node(b, n->pairs[i].value);
    }
    strbuf_putc(b, '}');
    break;
  }
}

static void mitre(pctx *c, const ynode *m, const char *ctx, ast_check *k) {
  const ynode *v = ynode_get(m, "mitre");
  if (!v) return;
  if (v->kind != YNODE_MAPPING) {
    parse_error(c, v, "type", "%s mitre must be a mapping, not a %s", ctx, ynode_kind_name(v));
    return;
  }
  strbuf b = STRBUF_INIT;
  json_node(&b, v);
  if (!strbuf_ok(&b)) {
    c->oom = 1;
  } else if (b.len > PARSE_MAX_MITRE) {
    parse_error(c, v, "limit", "%s mitre is too large (more than %u bytes of JSON)", ctx, PARSE_MAX_MITRE);
  } else {
    k->mitre_json = parse_strdup(c, b.data, b.len);
  }
  strbuf_free(&b);
}

/* ---- checks ----------------------------------------------------------------------------------- */

static int one_check(pctx *c, const ynode *m, ast_check *k) {
  char ctx[48];
  k->pos = parse_pos(m);
  int ok = check_id(c, m, k);
  if (ok && k->id_is_text)
    snprintf(ctx, sizeof(ctx), "check '%.36s%s'", k->id_text, strlen(k->id_text) > 36 ? "..." : "");
  else if (ok)
    snprintf(ctx, sizeof(ctx), "check %lld", (long long)k->id);
  else
    snprintf(ctx, sizeof(ctx), "check");
  parse_keys_check(c, m, PARSE_CHECK, ctx);
  /* 5.x renamed title to name and still reads title. */
  const char *title = c->schema == 5 && !(ynode_get(m, "title") && !ynode_get(m, "name")) ? "name" : "title";
  parse_string(c, m, title, ctx, 1, &k->title);
  parse_string(c, m, "description", ctx, 0, &k->description);
  parse_string(c, m, "rationale", ctx, 0, &k->rationale);
  parse_string(c, m, "remediation", ctx, 0, &k->remediation);
  parse_strlist(c, m, "references", ctx, &k->references);
  compliance(c, m, ctx, k);
  mitre(c, m, ctx, k);
  parse_string(c, m, "condition", ctx, 1, &k->condition);
  parse_string(c, m, "regex_type", ctx, 0, &k->regex_type);
  parse_rules(c, m, ctx, 0, k);
  return ok;
}

void parse_checks(pctx *c, const ynode *checks) {
  policy_ast *a = c->ast;
  if (checks->kind != YNODE_SEQUENCE) {
    parse_error(c, checks, "type", "section 'checks' must be a list of checks, not a %s",
                ynode_kind_name(checks));
    return;
  }
  a->checks = parse_calloc(c, checks->n, sizeof(*a->checks));
  idrec *ids = parse_calloc(c, checks->n, sizeof(*ids));
  size_t nids = 0;
  for (size_t i = 0; a->checks && ids && i < checks->n; i++) {
    const ynode *m = checks->items[i];
    if (m->kind != YNODE_MAPPING) {
      parse_error(c, m, "type", "a check must be a mapping, not a %s", ynode_kind_name(m));
      continue;
    }
    ast_check *k = &a->checks[a->nchecks++];
    if (one_check(c, m, k))
      ids[nids++] = (idrec){k->id, i, ynode_get(m, "id"), k->id_is_text ? k->id_text : NULL};
    if (c->oom || c->over_budget) break;
  }
  if (ids) unique_ids(c, ids, nids);
  free(ids);
}
