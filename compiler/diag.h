/* diag.h — compiler diagnostics, collected (never fatal at the first), controlled like gcc's
 * (-W<code>, -Wno-<code>, -Werror[=<code>], -Wno-error=<code>, -Wall, -w) and rendered as text,
 * JSON or SARIF 2.1.0 (diag_render.c):
 *   file:line:col: error: message
 *   file:line:col: warning: message [-Wcode]
 *      12 |     the source line
 *         |         ^
 *   file:line:col: note: where it started
 * Each diagnostic has a level, a code from warnings.def, a position, a message and notes. */
#ifndef TENET_DIAG_H
#define TENET_DIAG_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

typedef enum { DIAG_ERROR = 0, DIAG_WARNING = 1, DIAG_NOTE = 2 } diag_level;

/* The warning codes of warnings.def, as an enum (DIAG_W_BAD_REGEX, ...). */
typedef enum {
#define DIAG_W(sym, code, on, desc) DIAG_W_##sym,
#define DIAG_E(sym, code, desc)
#include "warnings.def"
#undef DIAG_W
#undef DIAG_E
  DIAG_W_COUNT
} diag_warning;

/* One row of warnings.def. */
typedef struct diag_code_info {
  const char *code;
  int is_warning;
  int on_by_default; /* warnings only */
  const char *description;
} diag_code_info;

/* Every row of warnings.def in table order (warnings first); *n gets the count. Static storage. */
const diag_code_info *diag_codes(size_t *n);

typedef struct diag_note {
  uint32_t line, col; /* in the diagnostic's file; 0 when unknown */
  char *message;      /* owned */
} diag_note;

typedef struct diag {
  diag_level level; /* as added: DIAG_ERROR or DIAG_WARNING (see diag_effective) */
  const char *code; /* static string */
  char *file;       /* owned */
  uint32_t line, col;
  char *message;    /* owned */
  diag_note *notes; /* owned, nnotes of them */
  size_t nnotes;
} diag;

typedef struct diag_source diag_source; /* a file's text, for source lines under diagnostics */

/* Per-warning state set by options: bit 0 enabled, bit 1 error state set, bit 2 error. */
#define DIAG_WS_ON 1u
#define DIAG_WS_ERROR_SET 2u
#define DIAG_WS_ERROR 4u

typedef struct diag_list {
  diag *items;
  size_t n, cap;
  int strict;  /* -Werror: warnings count as errors (unless -Wno-error=code) */
  int all_off; /* -w: no warnings at all */
  unsigned char wstate[DIAG_W_COUNT];
  int drop_notes; /* the last diagnostic was suppressed: its notes are dropped too */
  diag_source *sources;
  size_t nsources;
} diag_list;

/* A new list with every warning at its default. Free with diag_list_free (NULL is a no-op). */
diag_list *diag_list_new(void);
void diag_list_free(diag_list *d);

/* Apply one gcc-style option: -Wall, -w, -Werror, -Wno-error, -W<code>, -Wno-<code>,
 * -Werror=<code>, -Wno-error=<code>. Later options override earlier ones. Returns 0, or -1 with
 * a message in err (an unknown code gets a did-you-mean; an error code cannot be changed). */
int diag_option(diag_list *d, const char *opt, char *err, size_t errlen);
/* Copy the policy options of src (warning states, -Werror, -w) into dst. */
void diag_options_copy(diag_list *dst, const diag_list *src);

/* Add a diagnostic (printf-style message); file is copied. A disabled warning is not recorded
 * (and the notes added after it are dropped). */
void diag_add(diag_list *d, diag_level level, const char *code, const char *file, uint32_t line, uint32_t col,
              const char *fmt, ...) __attribute__((format(printf, 7, 8)));
/* Attach a note (printf-style) to the diagnostic added last, at line:col of its file. */
void diag_note_add(diag_list *d, uint32_t line, uint32_t col, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Keep file's text so diagnostics in it can show their source line: d takes ownership of data
 * (malloc'd, len bytes, freed with d). Files never given are read from disk when rendered. */
void diag_source_adopt(diag_list *d, const char *file, char *data, size_t len);
/* Move every diagnostic (and source) of src to the end of dst; src is left empty. */
void diag_list_take(diag_list *dst, diag_list *src);

/* The level a diagnostic counts and prints as: a warning promoted by -Werror or -Werror=code is
 * DIAG_ERROR. */
diag_level diag_effective(const diag_list *d, const diag *g);
/* Number of errors (including promoted warnings) and of warnings that stay warnings. */
size_t diag_errors(const diag_list *d);
size_t diag_warnings(const diag_list *d);

/* The candidate closest to word (edit distance, ignoring case) when it is close enough to be a
 * likely misspelling; NULL otherwise. Borrowed from cands. */
const char *diag_suggest(const char *word, size_t len, const char *const *cands, size_t n);

/* The text of line `line` (1-based) of file's source, without its newline; NULL when the source
 * is unknown. A file not adopted is read from disk once (like gcc) and kept. *len gets its length.
 * Borrowed from d. */
const char *diag_source_line(diag_list *d, const char *file, uint32_t line, size_t *len);

/* diag_render.c: how diagnostics are printed. */
typedef enum { DIAG_FORMAT_TEXT = 0, DIAG_FORMAT_JSON, DIAG_FORMAT_SARIF } diag_format;
/* Parse "text", "json" or "sarif"; -1 when unknown. */
int diag_format_parse(const char *name);
/* Print every diagnostic in order of (file, line, col, insertion). Text is gcc style, with the
 * source line and a caret when the source is known and caret is set, colour if asked; JSON is one
 * array; SARIF is one log with one run. */
void diag_render(diag_list *d, FILE *out, diag_format fmt, int color, int caret);
/* diag_render(d, out, DIAG_FORMAT_TEXT, color, 0): the plain gcc lines. */
void diag_print(const diag_list *d, FILE *out, int color);

#endif
