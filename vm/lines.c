/* lines.c — the line models of SCA-SEMANTICS §2.2 and §10 (see lines.h). */
#include "lines.h"

#include <stdlib.h>
#include <string.h>

#include "err.h"

/* os_trimcrlf: strip trailing '\r' and '\n' bytes. */
static size_t trim_crlf(const char *s, size_t n) {
  while (n && (s[n - 1] == '\n' || s[n - 1] == '\r'))
    n--;
  return n;
}

void lines_cursor_init(lines_cursor *c, const char *data, size_t len) {
  c->data = data;
  c->len = len;
  c->pos = 0;
}

int lines_file_next(lines_cursor *c, const char **line, size_t *n) {
  if (c->pos >= c->len) return 0; /* fgets reads nothing: end of file */
  const char *p = c->data + c->pos;
  size_t avail = c->len - c->pos;
  size_t piece = avail < LINES_FGETS_SIZE - 1 ? avail : LINES_FGETS_SIZE - 1;
  const char *nl = memchr(p, '\n', piece);
  if (nl) piece = (size_t)(nl - p) + 1;
  c->pos += piece;
  const char *nul = memchr(p, '\0', piece); /* the C string ends there */
  size_t len = nul ? (size_t)(nul - p) : piece;
  *line = p;
  *n = trim_crlf(p, len);
  return 1;
}

int lines_file_stream_next(FILE *f, char buf[LINES_FGETS_SIZE], const char **line, size_t *n) {
  if (!fgets(buf, LINES_FGETS_SIZE, f)) return 0;
  *line = buf;
  *n = trim_crlf(buf, strlen(buf));
  return 1;
}

int lines_text5_next(lines_cursor *c, const char **line, size_t *n) {
  if (c->pos >= c->len) return 0;
  const char *p = c->data + c->pos;
  size_t avail = c->len - c->pos;
  const char *nl = memchr(p, '\n', avail);
  size_t len = nl ? (size_t)(nl - p) : avail;
  c->pos += nl ? len + 1 : len;
  *line = p;
  *n = len;
  return 1;
}

int lines_command(const char *output, size_t len, line_list *out) {
  memset(out, 0, sizeof *out);
  size_t n = strnlen(output, len); /* Wazuh holds the output as a C string */
  out->text = malloc(n + 1);
  out->line = malloc(LINES_STRBREAK_MAX * sizeof *out->line);
  out->len = malloc(LINES_STRBREAK_MAX * sizeof *out->len);
  if (!out->text || !out->line || !out->len) {
    line_list_free(out);
    return TN_ENOMEM;
  }
  char *t = out->text;
  size_t w = 0, start = 0;
  for (size_t i = 0; i < n; i++) {
    char ch = output[i];
    if (ch == '\n' && out->n < LINES_STRBREAK_MAX - 1) {
      if (w > start && t[w - 1] == '\\') { /* line continuation: drop the backslash, keep the newline */
        t[w - 1] = '\n';
        continue;
      }
      out->line[out->n] = t + start;
      out->len[out->n++] = w - start;
      start = w;
      continue;
    }
    t[w++] = ch;
  }
  t[w] = '\0';
  out->line[out->n] = t + start;
  out->len[out->n++] = w - start;
  for (size_t k = 0; k < out->n; k++)
    out->len[k] = trim_crlf(out->line[k], out->len[k]);
  return TN_OK;
}

void line_list_free(line_list *l) {
  if (!l) return;
  free(l->text);
  free((void *)l->line);
  free(l->len);
  memset(l, 0, sizeof *l);
}
