/* fuzz_ydoc.c — libFuzzer harness for the YAML front end (compiler/ydoc.c + parse.c +
 * parse_check.c): policy bytes -> checked AST + diagnostics.
 *
 * Besides "no crash, no leak, no UB", it aborts when an invariant of the front end breaks:
 *   - a NULL AST always comes with at least one error saying why;
 *   - every diagnostic has a file, a message and a position inside the input (line 0 only for
 *     whole-file problems);
 *   - the AST keeps its promises: strings present, at most 255 rules per check, schema 4 or 5.
 * Diagnostics are also printed (to /dev/null) so the formatting code runs on hostile text.
 *
 * Built as fuzz_yaml (libFuzzer, TENET_FUZZ=ON with clang) and as replay_yaml, which CTest runs
 * over tests/fuzz/corpus/yaml/ (tests/fuzz/tests.cmake). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "diag.h"
#include "policy.h"

static void check_ast(const policy_ast *a) {
  if (a->schema != 4 && a->schema != 5) abort();
  if (!a->path) abort();
  for (size_t i = 0; i < a->nchecks; i++) {
    const ast_check *k = &a->checks[i];
    if (k->nrules > 255) abort();
    for (size_t j = 0; j < k->nrules; j++)
      if (!k->rules[j].text || !k->rules[j].text[0]) abort();
    for (size_t j = 0; j < k->ncompliance; j++)
      if (!k->compliance[j].key || k->compliance[j].nvalues == 0) abort();
  }
  for (size_t i = 0; i < a->nvariables; i++)
    if (!a->variables[i].name || a->variables[i].name[0] != '$' || !a->variables[i].value) abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static FILE *sink;
  if (!sink) sink = fopen("/dev/null", "w");
  uint32_t lines = 1; /* an upper bound: every byte that can end a line in YAML counts */
  for (size_t i = 0; i < size; i++)
    lines += data[i] == '\n' || data[i] == '\r' || data[i] == 0x85 || data[i] == 0xa8 || data[i] == 0xa9;

  diag_list *d = diag_list_new();
  if (!d) return 0;
  policy_ast *a = policy_parse_buffer("fuzz.yml", (const char *)data, size, d);
  if (!a && diag_errors(d) == 0) abort();
  for (size_t i = 0; i < d->n; i++) {
    const diag *g = &d->items[i];
    if (!g->file || !g->message || !g->code) abort();
    if (g->line > lines + 1) abort();
  }
  if (a) check_ast(a);
  if (sink) diag_print(d, sink, 1);
  policy_ast_free(a);
  diag_list_free(d);
  return 0;
}
