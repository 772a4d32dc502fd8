/* parse_keys.c — the keys Wazuh reads at each place of a policy (SCA-SEMANTICS §1.2–§1.5, §10),
 * and the check that warns about any other key (-Wunknown-key, with a did-you-mean) or about a
 * key that matches only ignoring case (-Wkey-case; Wazuh's lookups ignore case).
 *
 * Wazuh ignores keys it does not read, so these are warnings: a misspelled optional key
 * (`complaince:`) would otherwise vanish without a word. */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "parse_int.h"

typedef struct keyset {
  parse_place place;
  int schema;              /* 0: both schemas; 4 or 5: that one only */
  const char *const *keys; /* NULL-terminated */
} keyset;

static const char *const top_keys[] = {"policy", "requirements", "variables", "checks", NULL};
static const char *const policy_keys[] = {"id",         "name",       "file", "description",
                                          "references", "regex_type", NULL};
static const char *const req4_keys[] = {"title", "description", "condition", "rules", "regex_type", NULL};
static const char *const req5_keys[] = {"name",  "title",      "description", "condition",
                                        "rules", "regex_type", NULL};
static const char *const check4_keys[] = {"id",          "title",  "description", "rationale",
                                          "remediation", "impact", "references",  "compliance",
                                          "condition",   "rules",  "regex_type",  NULL};
static const char *const check5_keys[] = {"id",          "name",   "title",      "description", "rationale",
                                          "remediation", "impact", "references", "compliance",  "mitre",
                                          "condition",   "rules",  "regex_type", NULL};

static const keyset sets[] = {
    {PARSE_TOP, 0, top_keys},           {PARSE_POLICY, 0, policy_keys}, {PARSE_REQUIREMENTS, 4, req4_keys},
    {PARSE_REQUIREMENTS, 5, req5_keys}, {PARSE_CHECK, 4, check4_keys},  {PARSE_CHECK, 5, check5_keys},
};

static const char *const *keys_of(parse_place place, int schema, size_t *n) {
  for (size_t i = 0; i < sizeof(sets) / sizeof(*sets); i++) {
    if (sets[i].place != place || (sets[i].schema && sets[i].schema != schema)) continue;
    *n = 0;
    while (sets[i].keys[*n])
      (*n)++;
    return sets[i].keys;
  }
  *n = 0;
  return NULL;
}

/* Whether key k is spelled exactly like a key valid at place in schema. */
static int in_set(const ynode *k, parse_place place, int schema) {
  size_t n;
  const char *const *keys = keys_of(place, schema, &n);
  for (size_t j = 0; keys && j < n; j++)
    if (strlen(keys[j]) == k->len && memcmp(keys[j], k->text, k->len) == 0) return 1;
  return 0;
}

void parse_keys_check(pctx *c, const ynode *m, parse_place place, const char *ctx) {
  size_t n;
  const char *const *keys = keys_of(place, c->schema, &n);
  if (!keys || !m || m->kind != YNODE_MAPPING) return;
  for (size_t i = 0; i < m->n; i++) {
    const ynode *k = m->pairs[i].key;
    const char *exact = NULL, *nocase = NULL;
    for (size_t j = 0; j < n && !exact; j++) {
      if (strlen(keys[j]) != k->len) continue;
      if (memcmp(keys[j], k->text, k->len) == 0)
        exact = keys[j];
      else if (strncasecmp(keys[j], k->text, k->len) == 0)
        nocase = keys[j];
    }
    if (exact) continue;
    int show = k->len > 60 ? 60 : (int)k->len;
    const char *more = k->len > 60 ? "..." : "";
    char what[96]; /* "check 1: unknown key" or "unknown top-level key" */
    if (ctx)
      snprintf(what, sizeof(what), "%s: unknown key", ctx);
    else
      snprintf(what, sizeof(what), "unknown top-level key");
    if (nocase) {
      parse_warning(c, k, "key-case", "%s%skey '%.*s' is read as '%s' (Wazuh compares keys ignoring case)",
                    ctx ? ctx : "", ctx ? ": " : "", show, k->text, nocase);
      continue;
    }
    if (c->schema == 4 && in_set(k, place, 5)) {
      parse_warning(c, k, "unknown-key", "%s '%.*s' is ignored: it is a 5.x key, and this is a 4.x policy",
                    what, show, k->text);
      continue;
    }
    const char *best = diag_suggest(k->text, k->len, keys, n);
    if (best)
      parse_warning(c, k, "unknown-key", "%s '%.*s%s' is ignored; did you mean '%s'?", what, show, k->text,
                    more, best);
    else
      parse_warning(c, k, "unknown-key", "%s '%.*s%s' is ignored", what, show, k->text, more);
  }
}
