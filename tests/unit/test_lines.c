/* test_lines.c — the line models (vm/lines.c): Wazuh's fgets model for files (checked against the
 * real fgets on real files, boundary by boundary), OS_StrBreak's model for command output, and the
 * 5.x getline model. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "err.h"
#include "lines.h"
#include "test.h"

static char tmpdir[] = "/tmp/tenet_lines_XXXXXX";

/* A line as (bytes, length), for expectations that may hold NUL bytes. */
typedef struct want {
  const char *s;
  size_t n;
} want;
#define L(str) ((want){str, sizeof(str) - 1})

static int same(const char *got, size_t gn, want w) { return gn == w.n && memcmp(got, w.s, gn) == 0; }

static void show(const char *what, const char *s, size_t n) {
  fprintf(stderr, "  %s (%zu): \"", what, n);
  for (size_t i = 0; i < n && i < 80; i++) {
    unsigned char c = (unsigned char)s[i];
    if (c >= 0x20 && c < 0x7f && c != '\\')
      fputc(c, stderr);
    else
      fprintf(stderr, "\\x%02x", c);
  }
  fprintf(stderr, n > 80 ? "...\"\n" : "\"\n");
}

/* ---- file model ---- */

static int file_is(const char *data, size_t len, size_t nwant, const want *w) {
  lines_cursor c;
  lines_cursor_init(&c, data, len);
  const char *line;
  size_t n, k = 0;
  int ok = 1;
  while (lines_file_next(&c, &line, &n)) {
    if (k >= nwant || !same(line, n, w[k])) {
      ok = 0;
      show("line", line, n);
    }
    k++;
  }
  if (k != nwant) ok = 0;
  if (!ok) fprintf(stderr, "  file model: %zu lines, expected %zu\n", k, nwant);
  return ok;
}

#define FILE_IS(lit, ...)                                                                                    \
  do {                                                                                                       \
    const want w_[] = {__VA_ARGS__};                                                                         \
    CHECK(file_is(lit, sizeof(lit) - 1, sizeof w_ / sizeof w_[0], w_));                                      \
  } while (0)
#define FILE_EMPTY(lit) CHECK(file_is(lit, sizeof(lit) - 1, 0, NULL))

static void test_file_basic(void) {
  FILE_EMPTY("");
  FILE_IS("a\nb\n", L("a"), L("b"));
  FILE_IS("a\nb", L("a"), L("b"));
  FILE_IS("\n", L(""));
  FILE_IS("\n\n", L(""), L(""));
  FILE_IS("a\r\n", L("a"));
  FILE_IS("a\r\r\n\r", L("a"), L(""));
  FILE_IS("\r", L(""));
  FILE_IS("x\ry\n", L("x\ry")); /* only trailing CR/LF go */
  FILE_IS("  lead and trail  \n", L("  lead and trail  "));
  FILE_IS("ab\0cd\nef", L("ab"), L("ef")); /* NUL ends the subject, the piece goes on */
  FILE_IS("ab\r\0cd\n", L("ab"));          /* then the CR before the NUL is trimmed */
  FILE_IS("\0\n\0", L(""), L(""));
  FILE_IS("a\\\nb", L("a\\"), L("b")); /* no line continuation in files */
}

static char *repeat(char ch, size_t n, const char *tail) {
  size_t t = strlen(tail);
  char *s = malloc(n + t + 1);
  memset(s, ch, n);
  memcpy(s + n, tail, t + 1);
  return s;
}

static void test_file_chunks(void) {
  char *s;
  /* 2046 bytes + '\n' fit in one fgets. */
  s = repeat('x', 2046, "\n");
  {
    want w[] = {{s, 2046}};
    CHECK(file_is(s, 2047, 1, w));
  }
  free(s);
  /* 2047 bytes + '\n': the newline comes back on its own as an empty line. */
  s = repeat('x', 2047, "\n");
  {
    want w[] = {{s, 2047}, L("")};
    CHECK(file_is(s, 2048, 2, w));
  }
  free(s);
  /* 2048 bytes: 2047 + 1. */
  s = repeat('y', 2048, "");
  {
    want w[] = {{s, 2047}, {s, 1}};
    CHECK(file_is(s, 2048, 2, w));
  }
  free(s);
  /* 5000 bytes then a newline: 2047 + 2047 + 906. */
  s = repeat('z', 5000, "\nend");
  {
    want w[] = {{s, 2047}, {s, 2047}, {s, 906}, L("end")};
    CHECK(file_is(s, 5004, 4, w));
  }
  free(s);
  /* 2046 bytes + CRLF: the CR lands in the first piece (and is trimmed), the LF alone after. */
  s = repeat('w', 2046, "\r\n");
  {
    want w[] = {{s, 2046}, L("")};
    CHECK(file_is(s, 2048, 2, w));
  }
  free(s);
  /* A match split by the chunk boundary is two subjects. */
  s = repeat('.', 2045, "PermitRootLogin no\n");
  {
    want w[] = {{s, 2047}, L("rmitRootLogin no")};
    CHECK(file_is(s, 2045 + 19, 2, w));
  }
  free(s);
}

/* The buffer model must give exactly what fgets gives on the same bytes in a real file. */
static int compare_with_fgets(const char *data, size_t len) {
  char path[256];
  snprintf(path, sizeof path, "%s/f", tmpdir);
  FILE *f = fopen(path, "wb");
  if (!f || fwrite(data, 1, len, f) != len) return 0;
  fclose(f);
  f = fopen(path, "r");
  lines_cursor c;
  lines_cursor_init(&c, data, len);
  char buf[LINES_FGETS_SIZE];
  int ok = 1;
  size_t k = 0;
  for (;; k++) {
    const char *a, *b;
    size_t an, bn;
    int ga = lines_file_next(&c, &a, &an);
    int gb = lines_file_stream_next(f, buf, &b, &bn);
    if (ga != gb) {
      fprintf(stderr, "  line %zu: buffer model %s, fgets %s\n", k, ga ? "has more" : "ended",
              gb ? "has more" : "ended");
      ok = 0;
      break;
    }
    if (!ga) break;
    if (an != bn || memcmp(a, b, an) != 0) {
      fprintf(stderr, "  line %zu differs:\n", k);
      show("buffer", a, an);
      show("fgets", b, bn);
      ok = 0;
      break;
    }
  }
  fclose(f);
  return ok;
}

static void test_file_vs_fgets(void) {
  static const char alphabet[] = {'a', 'b', '\n', '\r', '\0', '\\', ' ', '\t', (char)0xff};
  unsigned seed = 12345;
  char *buf = malloc(20000);
  for (int round = 0; round < 300; round++) {
    size_t len = (size_t)(rand_r(&seed) % 9000);
    /* Mostly long runs without newlines, so the 2047-byte boundary is crossed often. */
    int nl_every = 1 + rand_r(&seed) % 3000;
    for (size_t i = 0; i < len; i++) {
      int r = rand_r(&seed);
      buf[i] = r % nl_every == 0 ? alphabet[r % sizeof alphabet] : (char)('a' + r % 26);
    }
    if (!compare_with_fgets(buf, len)) {
      fprintf(stderr, "  round %d (len %zu) differs\n", round, len);
      CHECK(0);
      break;
    }
  }
  /* Every length around the boundaries, with and without a final newline / CR. */
  for (size_t len = 2040; len < 2060; len++) {
    memset(buf, 'q', len);
    CHECK(compare_with_fgets(buf, len));
    buf[len - 1] = '\n';
    CHECK(compare_with_fgets(buf, len));
    buf[len - 2] = '\r';
    CHECK(compare_with_fgets(buf, len));
    buf[len / 2] = '\0';
    CHECK(compare_with_fgets(buf, len));
  }
  for (size_t len = 4090; len < 4100; len++) {
    memset(buf, 'q', len);
    CHECK(compare_with_fgets(buf, len));
  }
  free(buf);
}

/* ---- command model ---- */

static int cmd_is(const char *out, size_t len, size_t nwant, const want *w) {
  line_list l;
  if (lines_command(out, len, &l) != TN_OK) return 0;
  int ok = l.n == nwant;
  for (size_t k = 0; ok && k < l.n; k++)
    ok = same(l.line[k], l.len[k], w[k]);
  if (!ok) {
    fprintf(stderr, "  command model: %zu lines, expected %zu\n", l.n, nwant);
    for (size_t k = 0; k < l.n && k < 8; k++)
      show("line", l.line[k], l.len[k]);
  }
  line_list_free(&l);
  return ok;
}

#define CMD_IS(lit, ...)                                                                                     \
  do {                                                                                                       \
    const want w_[] = {__VA_ARGS__};                                                                         \
    CHECK(cmd_is(lit, sizeof(lit) - 1, sizeof w_ / sizeof w_[0], w_));                                       \
  } while (0)

static void test_command_basic(void) {
  CMD_IS("", L(""));
  CMD_IS("a", L("a"));
  CMD_IS("a\n", L("a"), L("")); /* a final newline leaves an empty last line */
  CMD_IS("a\nb", L("a"), L("b"));
  CMD_IS("\n", L(""), L(""));
  CMD_IS("a\r\nb\r\n", L("a"), L("b"), L(""));
  CMD_IS("\r", L(""));
  CMD_IS("a\n\n\nb", L("a"), L(""), L(""), L("b"));
  CMD_IS("x\ry\n", L("x\ry"), L(""));
  CMD_IS("a\0b\nc", L("a")); /* the output ends at its first NUL */
  CMD_IS("\0abc", L(""));
}

static void test_command_continuation(void) {
  CMD_IS("a\\\nb", L("a\nb"));     /* backslash removed, newline kept inside */
  CMD_IS("a\\\n", L("a"));         /* "a\n" then trimmed */
  CMD_IS("a\\\\\nb", L("a\\\nb")); /* only the backslash right before goes */
  CMD_IS("\\\nb", L("\nb"));
  CMD_IS("a\\b\nc", L("a\\b"), L("c")); /* a backslash elsewhere is kept */
  CMD_IS("a\n\\\n", L("a"), L(""));
  CMD_IS("a\\\n\\\nb", L("a\n\nb"));
  CMD_IS("a\\\n\nb", L("a"), L("b"));   /* "a\n" trimmed; the second newline splits */
  CMD_IS("a\\\r\nb", L("a\\"), L("b")); /* CR between: no continuation */
  CMD_IS("x\\", L("x\\"));
}

static void test_command_limit(void) {
  char buf[8192];
  size_t len = 0;
  /* 300 lines: 255 splits, then the rest (newlines and all) is the 256th piece. */
  for (int i = 0; i < 300; i++)
    len += (size_t)sprintf(buf + len, "L%d\n", i);
  line_list l;
  REQUIRE(lines_command(buf, len, &l) == TN_OK);
  CHECK_INT(l.n, 256);
  CHECK(same(l.line[0], l.len[0], L("L0")));
  CHECK(same(l.line[254], l.len[254], L("L254")));
  char rest[4096];
  size_t rn = 0;
  for (int i = 255; i < 300; i++)
    rn += (size_t)sprintf(rest + rn, i < 299 ? "L%d\n" : "L%d", i);
  CHECK(l.len[255] == rn && memcmp(l.line[255], rest, rn) == 0);
  line_list_free(&l);

  /* Exactly 255 newlines: 256 pieces, the last one empty. */
  len = 0;
  for (int i = 0; i < 255; i++)
    len += (size_t)sprintf(buf + len, "x\n");
  REQUIRE(lines_command(buf, len, &l) == TN_OK);
  CHECK_INT(l.n, 256);
  CHECK_INT(l.len[255], 0);
  line_list_free(&l);

  /* After the 255th split a backslash-newline is left as it is. */
  len = 0;
  for (int i = 0; i < 255; i++)
    len += (size_t)sprintf(buf + len, "x\n");
  len += (size_t)sprintf(buf + len, "a\\\nb\\\n");
  REQUIRE(lines_command(buf, len, &l) == TN_OK);
  CHECK_INT(l.n, 256);
  CHECK(same(l.line[255], l.len[255], L("a\\\nb\\")));
  line_list_free(&l);

  /* Continuations do not count as splits. */
  len = 0;
  for (int i = 0; i < 300; i++)
    len += (size_t)sprintf(buf + len, "c%d\\\n", i);
  len += (size_t)sprintf(buf + len, "end\nlast");
  REQUIRE(lines_command(buf, len, &l) == TN_OK);
  CHECK_INT(l.n, 2);
  CHECK(l.len[0] > 300 && memcmp(l.line[0], "c0\nc1\n", 6) == 0);
  CHECK(same(l.line[1], l.len[1], L("last")));
  line_list_free(&l);
}

/* ---- 5.x model ---- */

static int text5_is(const char *data, size_t len, size_t nwant, const want *w) {
  lines_cursor c;
  lines_cursor_init(&c, data, len);
  const char *line;
  size_t n, k = 0;
  int ok = 1;
  while (lines_text5_next(&c, &line, &n)) {
    if (k >= nwant || !same(line, n, w[k])) ok = 0;
    k++;
  }
  return ok && k == nwant;
}

#define TEXT5_IS(lit, ...)                                                                                   \
  do {                                                                                                       \
    const want w_[] = {__VA_ARGS__};                                                                         \
    CHECK(text5_is(lit, sizeof(lit) - 1, sizeof w_ / sizeof w_[0], w_));                                     \
  } while (0)

static void test_text5(void) {
  CHECK(text5_is("", 0, 0, NULL));
  TEXT5_IS("a", L("a"));
  TEXT5_IS("a\n", L("a"));
  TEXT5_IS("a\n\n", L("a"), L(""));
  TEXT5_IS("\n", L(""));
  TEXT5_IS("a\r\nb", L("a\r"), L("b"));   /* no CR trimming */
  TEXT5_IS("a\0b\nc", L("a\0b"), L("c")); /* NUL is an ordinary byte */
  char *s = repeat('x', 5000, "\n");      /* no 2 KB chunking */
  want w[] = {{s, 5000}};
  CHECK(text5_is(s, 5001, 1, w));
  free(s);
}

int main(void) {
  if (!mkdtemp(tmpdir)) return 2;
  RUN(test_file_basic);
  RUN(test_file_chunks);
  RUN(test_file_vs_fgets);
  RUN(test_command_basic);
  RUN(test_command_continuation);
  RUN(test_command_limit);
  RUN(test_text5);
  char path[256];
  snprintf(path, sizeof path, "%s/f", tmpdir);
  unlink(path);
  rmdir(tmpdir);
  return test_report();
}
