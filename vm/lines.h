/* lines.h — what one "subject line" is for each content source (SCA-SEMANTICS §2.2, §10).
 *
 *   file, 4.x     fgets() into a 2048-byte buffer: pieces of at most 2047 bytes, each ending at
 *                 (and including) a '\n'; an embedded NUL ends the subject early; trailing '\r'
 *                 and '\n' bytes are stripped (os_trimcrlf).
 *   command, 4.x  OS_StrBreak('\n', output, 256) on the output read as a C string (it ends at
 *                 the first NUL): only the first 255 newlines split, the 256th piece keeps the
 *                 remainder with its newlines; a backslash just before a splitting newline is
 *                 removed and that newline stays inside the piece; each piece is os_trimcrlf'd;
 *                 empty output is one empty line.
 *   text, 5.x     std::getline on '\n': no other trimming, no empty line after a final '\n',
 *                 no line at all for empty text.
 *
 * Subjects are byte ranges (pointer + length), not NUL-terminated. */
#ifndef TENET_LINES_H
#define TENET_LINES_H

#include <stddef.h>
#include <stdio.h>

#define LINES_FGETS_SIZE 2048  /* Wazuh's fgets buffer: 2047 bytes of text per piece */
#define LINES_STRBREAK_MAX 256 /* OS_StrBreak's piece limit for command output */

/* A read position in a byte buffer (borrowed; the buffer must outlive the cursor). */
typedef struct lines_cursor {
  const char *data;
  size_t len, pos;
} lines_cursor;

void lines_cursor_init(lines_cursor *c, const char *data, size_t len);

/* 4.x file model over a buffer: the next subject, or 0 at the end. *line points into the buffer. */
int lines_file_next(lines_cursor *c, const char **line, size_t *n);

/* 4.x file model over a stream (files too large to hold in memory): the same subjects, read
 * with fgets into buf. *line points into buf. Returns 0 at end of file or on a read error. */
int lines_file_stream_next(FILE *f, char buf[LINES_FGETS_SIZE], const char **line, size_t *n);

/* 5.x model over a buffer (std::getline): the next line, or 0 at the end. */
int lines_text5_next(lines_cursor *c, const char **line, size_t *n);

/* 4.x command model: the pieces of a command's output. */
typedef struct line_list {
  char *text; /* owned: the output after OS_StrBreak's edits; the pieces point into it */
  const char **line;
  size_t *len;
  size_t n; /* 1..LINES_STRBREAK_MAX */
} line_list;

/* Split output[0..len) (see above). Returns TN_OK or TN_ENOMEM; free with line_list_free. */
int lines_command(const char *output, size_t len, line_list *out);
void line_list_free(line_list *l);

#endif
