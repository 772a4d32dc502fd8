/* meta.c — the static part of a check event (SCA-SEMANTICS §6.2), rendered once at compile time:
 * the members "id", "title", "description", "rationale", "remediation", "compliance", "rules",
 * "condition" and "references" of the event's "check" object, in that order, byte for byte as
 * Wazuh 4.x's cJSON_PrintUnformatted writes them. The VM appends the location fields and the
 * result after them.
 *
 * meta_check_fields stores the same values as fields of the check (string ids and lists), so the
 * renderers that are not Wazuh events read them without parsing JSON (docs/RESULTS-FLOW.md). */
#include <stdlib.h>
#include <string.h>

#include "codegen_int.h"
#include "err.h"
#include "strbuf.h"

/* Append a JSON string, with the policy variables substituted first when vars is given (5.x). */
static void put_str(strbuf *b, const char *s, const subst_table *vars) {
  if (!vars || vars->n == 0) {
    strbuf_json_str(b, s);
    return;
  }
  char *t = subst_apply(vars, s, strlen(s));
  if (!t) {
    b->oom = 1;
    return;
  }
  strbuf_json_str(b, t);
  free(t);
}

static void put_member(strbuf *b, const char *key, const char *value, const subst_table *vars) {
  strbuf_printf(b, ",\"%s\":", key);
  put_str(b, value, vars);
}

/* Strings joined with ',' as one JSON string (Wazuh's wm_strcat: empty items keep their comma). */
static void put_joined(strbuf *b, const ast_string *items, size_t n, const subst_table *vars) {
  strbuf joined = STRBUF_INIT;
  for (size_t i = 0; i < n; i++) {
    if (i) strbuf_putc(&joined, ',');
    strbuf_puts(&joined, items[i].s ? items[i].s : "");
  }
  if (!strbuf_ok(&joined))
    b->oom = 1;
  else
    put_str(b, joined.data ? joined.data : "", vars);
  strbuf_free(&joined);
}

/* "compliance": 4.x list shape -> {"key":"v1,v2",...}; keys without a string value produce
 * nothing; the 5.x map shape is an empty object under the 4.x dialect (§1.6). */
static void put_compliance(strbuf *b, const ast_check *c, int dialect, const subst_table *vars) {
  strbuf_puts(b, ",\"compliance\":{");
  int first = 1;
  if (!(c->compliance_is_map && dialect != DIALECT_WAZUH5)) {
    for (size_t i = 0; i < c->ncompliance; i++) {
      const ast_compliance *e = &c->compliance[i];
      if (!e->key || e->nvalues == 0) continue;
      if (!first) strbuf_putc(b, ',');
      first = 0;
      strbuf_json_str(b, e->key);
      strbuf_putc(b, ':');
      put_joined(b, e->values, e->nvalues, vars);
    }
  }
  strbuf_putc(b, '}');
}

/* The string the event prints for s (substituted when vars is given), interned; PROG_NONE on
 * allocation failure. */
static uint32_t field(program *p, const char *s, const subst_table *vars) {
  if (!vars || vars->n == 0) return program_intern(p, s);
  char *t = subst_apply(vars, s, strlen(s));
  if (!t) return PROG_NONE;
  uint32_t id = program_intern(p, t);
  free(t);
  return id;
}

/* Items joined with ',' as the event prints them (wm_strcat: empty items keep their comma). */
static uint32_t joined_field(program *p, const ast_string *items, size_t n, const subst_table *vars) {
  strbuf joined = STRBUF_INIT;
  for (size_t i = 0; i < n; i++) {
    if (i) strbuf_putc(&joined, ',');
    strbuf_puts(&joined, items[i].s ? items[i].s : "");
  }
  uint32_t id = strbuf_ok(&joined) ? field(p, joined.data ? joined.data : "", vars) : PROG_NONE;
  strbuf_free(&joined);
  return id;
}

/* An optional member: PROG_NONE stays "absent", allocation failure sets *oom. */
static uint32_t opt_field(program *p, const char *s, const subst_table *vars, int *oom) {
  if (!s) return PROG_NONE;
  uint32_t id = field(p, s, vars);
  if (id == PROG_NONE) *oom = 1;
  return id;
}

int meta_check_fields(program *p, const ast_check *c, int dialect, const subst_table *vars, prog_check *out) {
  out->description = out->rationale = out->remediation = out->references = PROG_NONE;
  out->condition_text = out->compliance = PROG_NONE;
  out->ncompliance = out->rules = out->nrules = 0;
  out->text_id = PROG_NONE;
  if (!c) return TN_OK; /* the requirements: no event, no metadata */
  int oom = 0;
  /* A 5.x text id; interned here, after the code, so integer-id programs keep their bytes. */
  if (c->id_is_text && (out->text_id = program_intern(p, c->id_text)) == PROG_NONE) oom = 1;
  out->description = opt_field(p, c->description.s, vars, &oom);
  out->rationale = opt_field(p, c->rationale.s, vars, &oom);
  out->remediation = opt_field(p, c->remediation.s, vars, &oom);
  out->condition_text = opt_field(p, c->condition.s ? c->condition.s : "", NULL, &oom);
  if (c->references.n > 0 &&
      (out->references = joined_field(p, c->references.items, c->references.n, vars)) == PROG_NONE)
    oom = 1;
  uint32_t *ids = malloc((2 * c->ncompliance + c->nrules + 1) * sizeof *ids);
  if (!ids) return TN_ENOMEM;
  if (c->compliance_present) { /* the same pairs put_compliance prints */
    uint32_t n = 0;
    if (!(c->compliance_is_map && dialect != DIALECT_WAZUH5))
      for (size_t i = 0; i < c->ncompliance; i++) {
        const ast_compliance *e = &c->compliance[i];
        if (!e->key || e->nvalues == 0) continue;
        ids[2 * n] = program_intern(p, e->key);
        ids[2 * n + 1] = joined_field(p, e->values, e->nvalues, vars);
        if (ids[2 * n] == PROG_NONE || ids[2 * n + 1] == PROG_NONE) oom = 1;
        n++;
      }
    out->ncompliance = n;
    if ((out->compliance = program_add_list(p, ids, 2 * n)) == PROG_NONE) oom = 1;
  }
  for (size_t i = 0; i < c->nrules; i++)
    if ((ids[i] = field(p, c->rules[i].text ? c->rules[i].text : "", vars)) == PROG_NONE) oom = 1;
  out->nrules = (uint32_t)c->nrules;
  if ((out->rules = program_add_list(p, ids, out->nrules)) == PROG_NONE) oom = 1;
  free(ids);
  return oom ? TN_ENOMEM : TN_OK;
}

char *meta_render_check(const ast_check *c, int dialect, const subst_table *vars) {
  strbuf b = STRBUF_INIT;
  if (c->id_text) {
    strbuf_puts(&b, "\"id\":");
    strbuf_json_str(&b, c->id_text);
  } else {
    strbuf_printf(&b, "\"id\":%lld", (long long)c->id);
  }
  put_member(&b, "title", c->title.s ? c->title.s : "", vars);
  if (c->description.s) put_member(&b, "description", c->description.s, vars);
  if (c->rationale.s) put_member(&b, "rationale", c->rationale.s, vars);
  if (c->remediation.s) put_member(&b, "remediation", c->remediation.s, vars);
  if (c->compliance_present) put_compliance(&b, c, dialect, vars);
  strbuf_puts(&b, ",\"rules\":[");
  for (size_t i = 0; i < c->nrules; i++) {
    if (i) strbuf_putc(&b, ',');
    put_str(&b, c->rules[i].text ? c->rules[i].text : "", vars);
  }
  strbuf_putc(&b, ']');
  put_member(&b, "condition", c->condition.s ? c->condition.s : "", NULL);
  if (c->references.n > 0) {
    strbuf_puts(&b, ",\"references\":");
    put_joined(&b, c->references.items, c->references.n, vars);
  }
  return strbuf_take(&b);
}
