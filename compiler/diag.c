/* diag.c — compiler diagnostics: collect, count, print gcc style (see diag.h).
 *
 * Messages quote policy text, which is hostile: control bytes are replaced with '?' when a
 * diagnostic is added, so printing one can never drive the terminal. */
#include "diag.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

diag_list *diag_list_new(void) { return calloc(1, sizeof(diag_list)); }

void diag_list_free(diag_list *d) {
  if (!d) return;
  for (size_t i = 0; i < d->n; i++) {
    free(d->items[i].file);
    free(d->items[i].message);
  }
  free(d->items);
  free(d);
}

static void sanitize(char *s) {
  for (; s && *s; s++)
    if ((unsigned char)*s < 0x20 || *s == 0x7f) *s = '?';
}

void diag_add(diag_list *d, diag_level level, const char *code, const char *file, uint32_t line, uint32_t col,
              const char *fmt, ...) {
  if (!d) return;
  if (d->n == d->cap) {
    size_t ncap = d->cap ? d->cap * 2 : 16;
    diag *items = realloc(d->items, ncap * sizeof(*items));
    if (!items) {
      /* Losing an error could let a broken policy compile: refuse to go on. */
      fputs("tenet: out of memory recording a diagnostic\n", stderr);
      abort();
    }
    d->items = items;
    d->cap = ncap;
  }
  diag *g = &d->items[d->n++];
  g->level = level;
  g->code = code ? code : "";
  g->file = file ? strdup(file) : NULL;
  g->line = line;
  g->col = col;
  g->message = NULL;
  va_list ap;
  va_start(ap, fmt);
  if (vasprintf(&g->message, fmt, ap) < 0) g->message = NULL;
  va_end(ap);
  sanitize(g->message);
}

size_t diag_errors(const diag_list *d) {
  size_t n = 0;
  for (size_t i = 0; d && i < d->n; i++)
    if (d->items[i].level == DIAG_ERROR || d->strict) n++;
  return n;
}

size_t diag_warnings(const diag_list *d) {
  size_t n = 0;
  for (size_t i = 0; d && i < d->n; i++)
    if (d->items[i].level == DIAG_WARNING) n++;
  return n;
}

static int cmp(const void *pa, const void *pb) {
  const diag *a = *(const diag *const *)pa, *b = *(const diag *const *)pb;
  int c = strcmp(a->file ? a->file : "", b->file ? b->file : "");
  if (c) return c;
  if (a->line != b->line) return a->line < b->line ? -1 : 1;
  if (a->col != b->col) return a->col < b->col ? -1 : 1;
  return a < b ? -1 : a > b; /* insertion order: the items array is in it */
}

#define BOLD "\033[1m"
#define RED "\033[1;31m"
#define MAGENTA "\033[1;35m"
#define RESET "\033[0m"

static void print1(const diag *g, FILE *out, int strict, int color) {
  const char *file = g->file ? g->file : "<input>";
  int warn = g->level == DIAG_WARNING;
  int as_error = !warn || strict;
  const char *hue = as_error ? RED : MAGENTA;
  fprintf(out, "%s%s", color ? BOLD : "", file);
  if (g->line) fprintf(out, ":%u:%u", (unsigned)g->line, (unsigned)g->col);
  fprintf(out, ":%s %s%s:%s %s", color ? RESET : "", color ? hue : "", as_error ? "error" : "warning",
          color ? RESET : "", g->message ? g->message : "(message lost: out of memory)");
  if (warn)
    fprintf(out, " [%s%s%s%s]", color ? hue : "", strict ? "-Werror=" : "-W", g->code, color ? RESET : "");
  fputc('\n', out);
}

void diag_print(const diag_list *d, FILE *out, int color) {
  if (!d || !d->n) return;
  const diag **order = malloc(d->n * sizeof(*order));
  if (!order) { /* print unsorted rather than not at all */
    for (size_t i = 0; i < d->n; i++)
      print1(&d->items[i], out, d->strict, color);
    return;
  }
  for (size_t i = 0; i < d->n; i++)
    order[i] = &d->items[i];
  qsort(order, d->n, sizeof(*order), cmp);
  for (size_t i = 0; i < d->n; i++)
    print1(order[i], out, d->strict, color);
  free(order);
}
