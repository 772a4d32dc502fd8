/* strbuf.h — a growable byte buffer, the one string builder used everywhere.
 * On allocation failure the buffer latches `oom` and further appends are no-ops, so callers check
 * once at the end (strbuf_ok). */
#ifndef TENET_STRBUF_H
#define TENET_STRBUF_H

#include <stdarg.h>
#include <stddef.h>

typedef struct strbuf {
  char *data; /* NUL-terminated while len > 0 or after any append; owned */
  size_t len;
  size_t cap;
  int oom;
} strbuf;

#define STRBUF_INIT {NULL, 0, 0, 0}

void strbuf_append(strbuf *b, const char *s, size_t n);
void strbuf_puts(strbuf *b, const char *s);
void strbuf_putc(strbuf *b, char c);
void strbuf_printf(strbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void strbuf_vprintf(strbuf *b, const char *fmt, va_list ap);
/* Append s as the contents of a JSON string (no quotes), escaped the way cJSON prints it:
 * \" \\ \b \f \n \r \t, other bytes < 0x20 as \u00XX, everything else (UTF-8 too) verbatim. */
void strbuf_json_escape(strbuf *b, const char *s, size_t n);
/* Append "s" (quoted, escaped). */
void strbuf_json_str(strbuf *b, const char *s);
int strbuf_ok(const strbuf *b);
void strbuf_reset(strbuf *b);
/* Give up ownership of the data (a NUL-terminated string, "" when empty); the buffer is reset.
 * Returns NULL on earlier allocation failure. Caller frees. */
char *strbuf_take(strbuf *b);
void strbuf_free(strbuf *b);

#endif
