/* diag.h — compiler diagnostics, collected (never fatal at the first) and printed like gcc:
 *   file:line:col: error: message
 *   file:line:col: warning: message [-Wcode]
 * Each diagnostic has a level, a short code (kebab-case, e.g. "bad-regex"), a position and a
 * message. With strict mode, warnings print and count as errors. */
#ifndef TENET_DIAG_H
#define TENET_DIAG_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

typedef enum { DIAG_ERROR = 0, DIAG_WARNING = 1 } diag_level;

typedef struct diag {
  diag_level level;
  const char *code; /* static string */
  char *file;       /* owned */
  uint32_t line, col;
  char *message;    /* owned */
} diag;

typedef struct diag_list {
  diag *items;
  size_t n, cap;
  int strict; /* warnings count as errors */
} diag_list;

diag_list *diag_list_new(void);
void diag_list_free(diag_list *d);
/* Add a diagnostic (printf-style message). file is copied. */
void diag_add(diag_list *d, diag_level level, const char *code, const char *file, uint32_t line,
              uint32_t col, const char *fmt, ...) __attribute__((format(printf, 7, 8)));
/* Number of errors (including warnings when strict) and of warnings. */
size_t diag_errors(const diag_list *d);
size_t diag_warnings(const diag_list *d);
/* Print every diagnostic in order of (file, line, col, insertion), gcc style; colour if asked. */
void diag_print(const diag_list *d, FILE *out, int color);

#endif
