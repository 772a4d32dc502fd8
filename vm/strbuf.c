/* strbuf.c — growable byte buffer (see strbuf.h). */
#include "strbuf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int reserve(strbuf *b, size_t extra) {
  if (b->oom) return -1;
  if (b->len + extra + 1 <= b->cap) return 0;
  size_t ncap = b->cap ? b->cap : 64;
  while (ncap < b->len + extra + 1) {
    if (ncap > ((size_t)-1) / 2) {
      b->oom = 1;
      return -1;
    }
    ncap *= 2;
  }
  char *n = realloc(b->data, ncap);
  if (!n) {
    b->oom = 1;
    return -1;
  }
  b->data = n;
  b->cap = ncap;
  return 0;
}

void strbuf_append(strbuf *b, const char *s, size_t n) {
  if (reserve(b, n) != 0) return;
  if (n) memcpy(b->data + b->len, s, n);
  b->len += n;
  b->data[b->len] = '\0';
}

void strbuf_puts(strbuf *b, const char *s) { strbuf_append(b, s, strlen(s)); }
void strbuf_putc(strbuf *b, char c) { strbuf_append(b, &c, 1); }

void strbuf_vprintf(strbuf *b, const char *fmt, va_list ap) {
  va_list ap2;
  va_copy(ap2, ap);
  int n = vsnprintf(NULL, 0, fmt, ap2);
  va_end(ap2);
  if (n < 0 || reserve(b, (size_t)n) != 0) return;
  vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
  b->len += (size_t)n;
}

void strbuf_printf(strbuf *b, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  strbuf_vprintf(b, fmt, ap);
  va_end(ap);
}

void strbuf_json_escape(strbuf *b, const char *s, size_t n) {
  static const char hex[] = "0123456789abcdef";
  size_t run = 0; /* start of the pending verbatim run */
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    const char *esc = NULL;
    char u[7];
    switch (c) {
    case '"': esc = "\\\""; break;
    case '\\': esc = "\\\\"; break;
    case '\b': esc = "\\b"; break;
    case '\f': esc = "\\f"; break;
    case '\n': esc = "\\n"; break;
    case '\r': esc = "\\r"; break;
    case '\t': esc = "\\t"; break;
    default:
      if (c < 0x20) {
        u[0] = '\\', u[1] = 'u', u[2] = '0', u[3] = '0', u[4] = hex[c >> 4], u[5] = hex[c & 15], u[6] = 0;
        esc = u;
      }
    }
    if (!esc) continue;
    strbuf_append(b, s + run, i - run);
    strbuf_puts(b, esc);
    run = i + 1;
  }
  strbuf_append(b, s + run, n - run);
}

void strbuf_json_str(strbuf *b, const char *s) {
  strbuf_putc(b, '"');
  strbuf_json_escape(b, s, strlen(s));
  strbuf_putc(b, '"');
}

int strbuf_ok(const strbuf *b) { return !b->oom; }

void strbuf_reset(strbuf *b) {
  b->len = 0;
  if (b->data) b->data[0] = '\0';
}

char *strbuf_take(strbuf *b) {
  if (b->oom) {
    strbuf_free(b);
    return NULL;
  }
  char *d = b->data ? b->data : calloc(1, 1);
  b->data = NULL;
  b->len = b->cap = 0;
  return d;
}

void strbuf_free(strbuf *b) {
  free(b->data);
  b->data = NULL;
  b->len = b->cap = 0;
  b->oom = 0;
}
