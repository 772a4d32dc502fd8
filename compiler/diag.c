/* diag.c — compiler diagnostics: collect, control (-W options), count (see diag.h). Printing is
 * diag_render.c's.
 *
 * Messages quote policy text, which is hostile: control bytes are replaced with '?' when a
 * diagnostic is added, so printing one can never drive the terminal. */
#include "diag.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

struct diag_source {
  char *file;
  char *data;
  size_t len;
};

static const diag_code_info codes[] = {
#define DIAG_W(sym, code, on, desc) {code, 1, on, desc},
#define DIAG_E(sym, code, desc) {code, 0, 0, desc},
#include "warnings.def"
#undef DIAG_W
#undef DIAG_E
};

#define NCODES (sizeof(codes) / sizeof(codes[0]))

const diag_code_info *diag_codes(size_t *n) {
  if (n) *n = NCODES;
  return codes;
}

/* Index of a warning code (its diag_warning), or -1. The table lists the warnings first. */
static int warning_index(const char *code, size_t len) {
  for (size_t i = 0; i < DIAG_W_COUNT; i++)
    if (strlen(codes[i].code) == len && memcmp(codes[i].code, code, len) == 0) return (int)i;
  return -1;
}

static _Noreturn void oom(void) {
  /* Losing an error could let a broken policy compile: refuse to go on. */
  fputs("tenet: out of memory recording a diagnostic\n", stderr);
  abort();
}

diag_list *diag_list_new(void) {
  diag_list *d = calloc(1, sizeof(diag_list));
  if (!d) return NULL;
  for (size_t i = 0; i < DIAG_W_COUNT; i++)
    d->wstate[i] = codes[i].on_by_default ? DIAG_WS_ON : 0;
  return d;
}

static void clear_items(diag_list *d) {
  for (size_t i = 0; i < d->n; i++) {
    free(d->items[i].file);
    free(d->items[i].message);
    for (size_t j = 0; j < d->items[i].nnotes; j++)
      free(d->items[i].notes[j].message);
    free(d->items[i].notes);
  }
  free(d->items);
  for (size_t i = 0; i < d->nsources; i++) {
    free(d->sources[i].file);
    free(d->sources[i].data);
  }
  free(d->sources);
}

void diag_list_free(diag_list *d) {
  if (!d) return;
  clear_items(d);
  free(d);
}

/* ---- options ---------------------------------------------------------------------------------- */

static const char *const *warning_names(void) {
  static const char *names[DIAG_W_COUNT];
  for (size_t i = 0; i < DIAG_W_COUNT; i++)
    names[i] = codes[i].code;
  return names;
}

static int unknown(const char *opt, const char *code, char *err, size_t errlen) {
  for (size_t i = DIAG_W_COUNT; i < NCODES; i++)
    if (strcmp(codes[i].code, code) == 0) {
      snprintf(err, errlen, "'%s': '%s' is an error, not a warning; it cannot be turned off or changed", opt,
               code);
      return -1;
    }
  const char *best = diag_suggest(code, strlen(code), warning_names(), DIAG_W_COUNT);
  size_t pre = (size_t)(code - opt);
  if (best)
    snprintf(err, errlen, "unknown warning option '%s'; did you mean '%.*s%s'?", opt, (int)pre, opt, best);
  else
    snprintf(err, errlen, "unknown warning option '%s' (see tenet compile --help)", opt);
  return -1;
}

int diag_option(diag_list *d, const char *opt, char *err, size_t errlen) {
  if (strcmp(opt, "-w") == 0) {
    d->all_off = 1;
    return 0;
  }
  if (strncmp(opt, "-W", 2) != 0 || !opt[2]) {
    snprintf(err, errlen, "unknown warning option '%s'", opt);
    return -1;
  }
  const char *s = opt + 2;
  if (strcmp(s, "all") == 0) {
    for (size_t i = 0; i < DIAG_W_COUNT; i++)
      d->wstate[i] |= DIAG_WS_ON;
    d->all_off = 0;
    return 0;
  }
  if (strcmp(s, "error") == 0 || strcmp(s, "no-error") == 0) {
    d->strict = s[0] == 'e';
    return 0;
  }
  int no = strncmp(s, "no-", 3) == 0;
  if (no) s += 3;
  int error = strncmp(s, "error=", 6) == 0;
  if (error) s += 6;
  int i = warning_index(s, strlen(s));
  if (i < 0) return unknown(opt, s, err, errlen);
  if (error) { /* like gcc: -Werror=code also enables it; -Wno-error=code leaves that alone */
    d->wstate[i] |= DIAG_WS_ERROR_SET;
    if (no)
      d->wstate[i] &= (unsigned char)~DIAG_WS_ERROR;
    else
      d->wstate[i] |= DIAG_WS_ERROR | DIAG_WS_ON;
  } else if (no) {
    d->wstate[i] &= (unsigned char)~DIAG_WS_ON;
  } else {
    d->wstate[i] |= DIAG_WS_ON;
  }
  return 0;
}

void diag_options_copy(diag_list *dst, const diag_list *src) {
  dst->strict = src->strict;
  dst->all_off = src->all_off;
  memcpy(dst->wstate, src->wstate, sizeof(dst->wstate));
}

/* ---- collecting ------------------------------------------------------------------------------- */

static void sanitize(char *s) {
  for (; s && *s; s++)
    if ((unsigned char)*s < 0x20 || *s == 0x7f) *s = '?';
}

static int enabled(const diag_list *d, const char *code) {
  int i = code ? warning_index(code, strlen(code)) : -1;
  if (d->all_off) return 0;
  return i < 0 || (d->wstate[i] & DIAG_WS_ON); /* a code missing from the table stays on */
}

void diag_add(diag_list *d, diag_level level, const char *code, const char *file, uint32_t line, uint32_t col,
              const char *fmt, ...) {
  if (!d) return;
  if (level == DIAG_WARNING && !enabled(d, code)) {
    d->drop_notes = 1;
    return;
  }
  d->drop_notes = 0;
  if (d->n == d->cap) {
    size_t ncap = d->cap ? d->cap * 2 : 16;
    diag *items = realloc(d->items, ncap * sizeof(*items));
    if (!items) oom();
    d->items = items;
    d->cap = ncap;
  }
  diag *g = &d->items[d->n++];
  memset(g, 0, sizeof(*g));
  g->level = level == DIAG_WARNING ? DIAG_WARNING : DIAG_ERROR;
  g->code = code ? code : "";
  g->file = file ? strdup(file) : NULL;
  g->line = line;
  g->col = col;
  va_list ap;
  va_start(ap, fmt);
  if (vasprintf(&g->message, fmt, ap) < 0) g->message = NULL;
  va_end(ap);
  sanitize(g->message);
}

void diag_note_add(diag_list *d, uint32_t line, uint32_t col, const char *fmt, ...) {
  if (!d || !d->n || d->drop_notes) return;
  diag *g = &d->items[d->n - 1];
  diag_note *notes = realloc(g->notes, (g->nnotes + 1) * sizeof(*notes));
  if (!notes) oom();
  g->notes = notes;
  diag_note *nt = &notes[g->nnotes++];
  nt->line = line;
  nt->col = col;
  va_list ap;
  va_start(ap, fmt);
  if (vasprintf(&nt->message, fmt, ap) < 0) nt->message = NULL;
  va_end(ap);
  sanitize(nt->message);
}

void diag_source_adopt(diag_list *d, const char *file, char *data, size_t len) {
  if (!d || !file) {
    free(data);
    return;
  }
  diag_source *s = realloc(d->sources, (d->nsources + 1) * sizeof(*s));
  char *f = strdup(file);
  if (!s || !f) { /* source lines are a courtesy */
    if (s) d->sources = s;
    free(f);
    free(data);
    return;
  }
  d->sources = s;
  d->sources[d->nsources++] = (diag_source){f, data, len};
}

/* Read a file for its source lines (at most DIAG_MAX_SOURCE bytes); NULL data when it cannot be
 * read, so it is not tried again. */
#define DIAG_MAX_SOURCE (64u << 20)
static const diag_source *load_source(diag_list *d, const char *file) {
  char *data = NULL;
  size_t len = 0;
  FILE *f = fopen(file, "rb");
  if (f) {
    size_t cap = 0;
    for (;;) {
      if (len == cap) {
        if (cap >= DIAG_MAX_SOURCE) break;
        char *nd = realloc(data, cap = cap ? cap * 2 : 65536);
        if (!nd) break;
        data = nd;
      }
      size_t got = fread(data + len, 1, cap - len, f);
      if (!got) break;
      len += got;
    }
    if (ferror(f)) {
      free(data);
      data = NULL;
      len = 0;
    }
    fclose(f);
  }
  size_t before = d->nsources;
  diag_source_adopt(d, file, data, len);
  return d->nsources > before ? &d->sources[d->nsources - 1] : NULL;
}

void diag_list_take(diag_list *dst, diag_list *src) {
  for (size_t i = 0; i < src->n; i++) {
    if (dst->n == dst->cap) {
      size_t ncap = dst->cap ? dst->cap * 2 : 16;
      diag *items = realloc(dst->items, ncap * sizeof(*items));
      if (!items) oom();
      dst->items = items;
      dst->cap = ncap;
    }
    dst->items[dst->n++] = src->items[i];
  }
  src->n = 0;
  for (size_t i = 0; i < src->nsources; i++) {
    diag_source *s = realloc(dst->sources, (dst->nsources + 1) * sizeof(*s));
    if (!s) {
      free(src->sources[i].file);
      free(src->sources[i].data);
      continue;
    }
    dst->sources = s;
    dst->sources[dst->nsources++] = src->sources[i];
  }
  src->nsources = 0;
}

/* ---- counting --------------------------------------------------------------------------------- */

diag_level diag_effective(const diag_list *d, const diag *g) {
  if (g->level != DIAG_WARNING) return g->level;
  int i = warning_index(g->code, strlen(g->code));
  if (i >= 0 && (d->wstate[i] & DIAG_WS_ERROR_SET))
    return (d->wstate[i] & DIAG_WS_ERROR) ? DIAG_ERROR : DIAG_WARNING;
  return d->strict ? DIAG_ERROR : DIAG_WARNING;
}

size_t diag_errors(const diag_list *d) {
  size_t n = 0;
  for (size_t i = 0; d && i < d->n; i++)
    n += diag_effective(d, &d->items[i]) == DIAG_ERROR;
  return n;
}

size_t diag_warnings(const diag_list *d) {
  size_t n = 0;
  for (size_t i = 0; d && i < d->n; i++)
    n += diag_effective(d, &d->items[i]) == DIAG_WARNING;
  return n;
}

/* ---- suggestions and source lines ------------------------------------------------------------- */

/* Edit distance (Levenshtein, ASCII case ignored) of a[0..n) and b, capped at 64 characters. */
static size_t distance(const char *a, size_t n, const char *b) {
  size_t m = strlen(b);
  if (n > 64 || m > 64) return SIZE_MAX;
  size_t row[65];
  for (size_t j = 0; j <= m; j++)
    row[j] = j;
  for (size_t i = 1; i <= n; i++) {
    size_t prev = row[0];
    row[0] = i;
    for (size_t j = 1; j <= m; j++) {
      size_t up = row[j];
      size_t cost = tolower((unsigned char)a[i - 1]) != tolower((unsigned char)b[j - 1]);
      size_t best = prev + cost;
      if (up + 1 < best) best = up + 1;
      if (row[j - 1] + 1 < best) best = row[j - 1] + 1;
      row[j] = best;
      prev = up;
    }
  }
  return row[m];
}

const char *diag_suggest(const char *word, size_t len, const char *const *cands, size_t n) {
  const char *best = NULL;
  size_t bestd = SIZE_MAX;
  for (size_t i = 0; i < n; i++) {
    size_t dd = distance(word, len, cands[i]);
    if (dd < bestd) {
      bestd = dd;
      best = cands[i];
    }
  }
  size_t limit = len / 3 > 2 ? len / 3 : 2; /* a third of the word, at least two edits */
  return best && bestd > 0 && bestd <= limit && bestd < len ? best : NULL;
}

const char *diag_source_line(diag_list *d, const char *file, uint32_t line, size_t *len) {
  if (!d || !file || !line) return NULL;
  const diag_source *s = NULL;
  for (size_t i = d->nsources; i-- > 0 && !s;)
    if (strcmp(d->sources[i].file, file) == 0) s = &d->sources[i];
  if (!s) s = load_source(d, file);
  if (!s || !s->data) return NULL;
  const char *p = s->data, *end = s->data + s->len;
  for (uint32_t l = 1; l < line; l++) {
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    if (!nl) return NULL;
    p = nl + 1;
  }
  const char *nl = memchr(p, '\n', (size_t)(end - p));
  size_t n = (size_t)((nl ? nl : end) - p);
  if (n && p[n - 1] == '\r') n--;
  *len = n;
  return p;
}
