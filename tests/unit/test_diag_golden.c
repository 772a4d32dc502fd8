/* test_diag_golden.c — diagnostics: diag.c's printing and counting, and the golden compiler-error
 * files of tests/golden/diag/.
 *
 * Each golden file is a small policy that carries its expected diagnostics as YAML comments:
 *   # flags: -Wall -Werror=bad-regex        (optional: warning options, applied in order)
 *   # expect-error: LINE:COL message
 *   # expect-warning: LINE:COL message
 *   # expect-note: LINE:COL message         (a note of the diagnostic before it in the file)
 * The runner compiles every *.yml there (parse + codegen) with those flags and requires the
 * diagnostics to be exactly those (level as the options leave it, line, column, message), in any
 * order; it prints the difference otherwise. Every code produced must be a row of warnings.def.
 * A file without expectations must compile cleanly. Compilation succeeds iff no error is expected.
 *
 * tests/golden/diag/render/NAME.yml are rendered as text (with carets and notes), JSON and SARIF
 * and compared byte for byte with NAME.txt, NAME.json and NAME.sarif; `--update` rewrites them
 * (review the diff). */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "compile.h"
#include "diag.h"
#include "program.h"
#include "test.h"

/* ---- diag.c ----------------------------------------------------------------------------------- */

static char *printed(const diag_list *d, int color) {
  char *buf = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&buf, &len);
  if (!f) return NULL;
  diag_print(d, f, color);
  fclose(f);
  return buf;
}

static void test_print_format(void) {
  diag_list *d = diag_list_new();
  REQUIRE(d);
  diag_add(d, DIAG_WARNING, "float-id", "p.yml", 7, 9, "check id %s is not an integer", "5.5");
  diag_add(d, DIAG_ERROR, "type", "p.yml", 2, 7, "policy id must be a string");
  diag_add(d, DIAG_ERROR, "io", "missing.yml", 0, 0, "cannot open policy file");
  CHECK_INT(diag_errors(d), 2);
  CHECK_INT(diag_warnings(d), 1);
  char *out = printed(d, 0);
  CHECK_STR(out, "missing.yml: error: cannot open policy file\n"
                 "p.yml:2:7: error: policy id must be a string\n"
                 "p.yml:7:9: warning: check id 5.5 is not an integer [-Wfloat-id]\n");
  free(out);
  d->strict = 1; /* warnings become errors */
  CHECK_INT(diag_errors(d), 3);
  out = printed(d, 0);
  CHECK(out && strstr(out, "p.yml:7:9: error: check id 5.5 is not an integer [-Werror=float-id]\n"));
  free(out);
  diag_list_free(d);
  diag_list_free(NULL);
}

static void test_print_order_stable(void) {
  diag_list *d = diag_list_new();
  diag_add(d, DIAG_ERROR, "x", "a.yml", 3, 1, "third-a");
  diag_add(d, DIAG_ERROR, "x", "a.yml", 1, 5, "first");
  diag_add(d, DIAG_ERROR, "x", "a.yml", 3, 1, "third-b");
  diag_add(d, DIAG_ERROR, "x", "a.yml", 1, 2, "zeroth");
  diag_add(d, DIAG_ERROR, "x", "a.yml", 3, 1, "third-c");
  char *out = printed(d, 0);
  CHECK_STR(out, "a.yml:1:2: error: zeroth\n"
                 "a.yml:1:5: error: first\n"
                 "a.yml:3:1: error: third-a\n"
                 "a.yml:3:1: error: third-b\n"
                 "a.yml:3:1: error: third-c\n");
  free(out);
  CHECK_STR(d->items[0].message, "third-a"); /* printing does not reorder the list */
  diag_list_free(d);
}

static void test_print_color_and_sanitize(void) {
  diag_list *d = diag_list_new();
  diag_add(d, DIAG_WARNING, "w", "a.yml", 1, 1, "evil \033[2J text\n");
  CHECK_STR(d->items[0].message, "evil ?[2J text?");
  char *out = printed(d, 1);
  REQUIRE(out);
  CHECK(strstr(out, "\033[1ma.yml:1:1:") != NULL);
  CHECK(strstr(out, "\033[1;35mwarning:") != NULL);
  CHECK(strstr(out, "evil ?[2J text?") != NULL);
  free(out);
  diag_add(d, DIAG_ERROR, "e", "a.yml", 2, 1, "bad");
  out = printed(d, 1);
  CHECK(out && strstr(out, "\033[1;31merror:") != NULL);
  free(out);
  diag_list_free(d);
}

/* ---- golden files ----------------------------------------------------------------------------- */

typedef struct item {
  diag_level level;
  unsigned line, col;
  char *msg;
  int matched;
} item;

typedef struct items {
  item *v;
  size_t n, cap;
} items;

static void push(items *l, diag_level level, unsigned line, unsigned col, const char *msg) {
  if (l->n == l->cap) {
    l->cap = l->cap ? 2 * l->cap : 16;
    l->v = realloc(l->v, l->cap * sizeof(*l->v));
    if (!l->v) abort();
  }
  l->v[l->n++] = (item){level, line, col, strdup(msg), 0};
}

static void clear(items *l) {
  for (size_t i = 0; i < l->n; i++)
    free(l->v[i].msg);
  free(l->v);
}

static int itemcmp(const void *pa, const void *pb) {
  const item *a = pa, *b = pb;
  if (a->line != b->line) return a->line < b->line ? -1 : 1;
  if (a->col != b->col) return a->col < b->col ? -1 : 1;
  if (a->level != b->level) return a->level < b->level ? -1 : 1;
  return strcmp(a->msg, b->msg);
}

static const char *lvl(diag_level l) {
  return l == DIAG_ERROR ? "error" : l == DIAG_WARNING ? "warning" : "note";
}

/* Read the `# flags:` and `# expect-...` comments of a golden file into d's options and out.
 * Returns 0, or -1 (and says why on log). */
static int expectations(const char *path, items *out, diag_list *d, FILE *log) {
  FILE *f = fopen(path, "r");
  if (!f) {
    fprintf(log, "%s: cannot open\n", path);
    return -1;
  }
  char line[4096];
  int lineno = 0, rc = 0;
  while (fgets(line, sizeof(line), f)) {
    lineno++;
    char *p = strstr(line, "# flags:");
    if (p) {
      char *save = NULL, err[256];
      for (char *tok = strtok_r(p + 8, " \t\r\n", &save); tok; tok = strtok_r(NULL, " \t\r\n", &save))
        if (diag_option(d, tok, err, sizeof(err)) != 0) {
          fprintf(log, "%s:%d: %s\n", path, lineno, err);
          rc = -1;
        }
      continue;
    }
    p = strstr(line, "# expect-");
    if (!p) continue;
    p += strlen("# expect-");
    diag_level level;
    if (strncmp(p, "error:", 6) == 0) {
      level = DIAG_ERROR;
      p += 6;
    } else if (strncmp(p, "warning:", 8) == 0) {
      level = DIAG_WARNING;
      p += 8;
    } else if (strncmp(p, "note:", 5) == 0) {
      level = DIAG_NOTE;
      p += 5;
    } else {
      fprintf(log, "%s:%d: unknown expectation: %s", path, lineno, p);
      rc = -1;
      continue;
    }
    unsigned l, c;
    int used = 0;
    if (sscanf(p, " %u:%u %n", &l, &c, &used) != 2 || used == 0) {
      fprintf(log, "%s:%d: malformed expectation (want LINE:COL message)\n", path, lineno);
      rc = -1;
      continue;
    }
    p += used;
    size_t n = strlen(p);
    while (n && (p[n - 1] == '\n' || p[n - 1] == '\r' || p[n - 1] == ' '))
      p[--n] = '\0';
    push(out, level, l, c, p);
  }
  fclose(f);
  return rc;
}

/* Whether code is a row of warnings.def of the right kind. */
static int known_code(const char *code, diag_level level) {
  size_t n;
  const diag_code_info *c = diag_codes(&n);
  for (size_t i = 0; i < n; i++)
    if (strcmp(c[i].code, code) == 0) return c[i].is_warning == (level == DIAG_WARNING);
  return 0;
}

/* Compare one golden file, reporting differences on log; returns 1 when it passes. */
static int golden_one(const char *path, FILE *log) {
  items want = {0}, got = {0};
  diag_list *d = diag_list_new();
  int ok = expectations(path, &want, d, log) == 0;
  compile_options opt = COMPILE_OPTIONS_DEFAULT;
  program *p = compile_policy_file(path, &opt, d);
  for (size_t i = 0; i < d->n; i++) {
    const diag *g = &d->items[i];
    push(&got, diag_effective(d, g), g->line, g->col, g->message ? g->message : "");
    for (size_t j = 0; j < g->nnotes; j++)
      push(&got, DIAG_NOTE, g->notes[j].line, g->notes[j].col,
           g->notes[j].message ? g->notes[j].message : "");
    if (!known_code(g->code, g->level)) {
      ok = 0;
      fprintf(log, "%s:%u:%u: code '%s' is not a %s row of compiler/warnings.def\n", path, g->line, g->col,
              g->code, lvl(g->level));
    }
  }
  if (want.n) qsort(want.v, want.n, sizeof(item), itemcmp);
  if (got.n) qsort(got.v, got.n, sizeof(item), itemcmp);
  for (size_t i = 0; i < want.n; i++)
    for (size_t j = 0; j < got.n; j++)
      if (!got.v[j].matched && itemcmp(&want.v[i], &got.v[j]) == 0) {
        want.v[i].matched = got.v[j].matched = 1;
        break;
      }
  int diff = 0;
  for (size_t i = 0; i < want.n; i++)
    diff |= !want.v[i].matched;
  for (size_t j = 0; j < got.n; j++)
    diff |= !got.v[j].matched;
  if (diff) {
    ok = 0;
    fprintf(log, "%s: diagnostics differ (- expected, + produced):\n", path);
    for (size_t i = 0; i < want.n; i++)
      if (!want.v[i].matched)
        fprintf(log, "  - # expect-%s: %u:%u %s\n", lvl(want.v[i].level), want.v[i].line, want.v[i].col,
                want.v[i].msg);
    for (size_t j = 0; j < got.n; j++)
      if (!got.v[j].matched)
        fprintf(log, "  + # expect-%s: %u:%u %s\n", lvl(got.v[j].level), got.v[j].line, got.v[j].col,
                got.v[j].msg);
  }
  int errors_expected = 0;
  for (size_t i = 0; i < want.n; i++)
    errors_expected |= want.v[i].level == DIAG_ERROR;
  if ((p != NULL) == errors_expected || (p != NULL) != (diag_errors(d) == 0)) {
    ok = 0;
    fprintf(log, "%s: compilation %s, but %s expected\n", path, p ? "succeeded" : "failed",
            errors_expected ? "errors are" : "no error is");
  }
  program_free(p);
  diag_list_free(d);
  clear(&want);
  clear(&got);
  return ok;
}

static int ymlname(const struct dirent *e) {
  size_t n = strlen(e->d_name);
  return n > 4 && strcmp(e->d_name + n - 4, ".yml") == 0;
}

static void test_golden_dir(void) {
  char dir[4096];
  snprintf(dir, sizeof(dir), "%s/tests/golden/diag", test_env("TENET_SOURCE_DIR", "."));
  struct dirent **names = NULL;
  int n = scandir(dir, &names, ymlname, alphasort);
  REQUIRE(n > 0);
  int failed = 0;
  for (int i = 0; i < n; i++) {
    char path[8192];
    snprintf(path, sizeof(path), "%s/%s", dir, names[i]->d_name);
    int ok = golden_one(path, stderr);
    printf("  %-50s %s\n", names[i]->d_name, ok ? "ok" : "FAILED");
    failed += !ok;
    free(names[i]);
  }
  free(names);
  CHECK_INT(failed, 0);
}

/* The runner itself: a wrong, a missing and a malformed expectation each fail the file. */
static void test_runner_catches_mismatch(void) {
  static const char *bad[] = {
      "# expect-error: 2:7 policy id must be a string (quote it: id: \"99\")\n" /* wrong text */
      "policy:\n  id: 12345\n  file: f\n  name: n\n  description: d\nchecks: []\n",
      "policy:\n  id: 12345\n  file: f\n  name: n\n  description: d\nchecks: []\n", /* none */
      "# expect-eror: 2:7 typo\npolicy:\n  id: \"p\"\n  file: f\n  name: n\n  description: d\n"
      "checks: []\n",
      "# expect-error: 2 no column\npolicy:\n  id: \"p\"\n  file: f\n  name: n\n  description: d\n"
      "checks: []\n",
  };
  char path[] = "/tmp/tenet-golden-XXXXXX.yml";
  int fd = mkstemps(path, 4);
  REQUIRE(fd >= 0);
  close(fd);
  FILE *devnull = fopen("/dev/null", "w");
  REQUIRE(devnull);
  for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
    FILE *f = fopen(path, "w");
    REQUIRE(f);
    fputs(bad[i], f);
    fclose(f);
    CHECK(golden_one(path, devnull) == 0);
  }
  /* and the right expectation passes */
  FILE *f = fopen(path, "w");
  REQUIRE(f);
  fputs("policy:\n  id: 12345\n  file: f\n  name: n\n  description: d\nchecks: []\n"
        "# expect-error: 2:7 policy id must be a string (quote it: id: \"12345\")\n",
        f);
  fclose(f);
  CHECK(golden_one(path, stderr) == 1);
  fclose(devnull);
  unlink(path);
}

/* ---- rendered output -------------------------------------------------------------------------- */

static int update_golden;

static char *slurp(const char *path) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  char *buf = NULL;
  size_t len = 0;
  FILE *m = open_memstream(&buf, &len);
  int ch;
  while (m && (ch = fgetc(f)) != EOF)
    fputc(ch, m);
  if (m) fclose(m);
  fclose(f);
  return buf;
}

/* Render one diagnostics list in fmt and compare with (or, updating, write) the file want. */
static int render_one(diag_list *d, diag_format fmt, const char *want) {
  char *got = NULL;
  size_t len = 0;
  FILE *m = open_memstream(&got, &len);
  if (!m) return 0;
  diag_render(d, m, fmt, 0, 1);
  fclose(m);
  int ok = 1;
  if (update_golden) {
    FILE *f = fopen(want, "wb");
    ok = f && fwrite(got, 1, len, f) == len;
    if (f) fclose(f);
  } else {
    char *exp = slurp(want);
    ok = exp && strcmp(exp, got) == 0;
    if (!ok)
      fprintf(stderr, "%s differs:\n--- expected\n%s--- produced\n%s", want, exp ? exp : "(missing)\n", got);
    free(exp);
  }
  free(got);
  return ok;
}

/* tests/golden/diag/render/NAME.yml -> NAME.txt (text with carets and notes), NAME.json, NAME.sarif.
 * Compiled from inside that directory so the paths printed are the bare file names. */
static void test_golden_render(void) {
  char dir[4096], cwd[4096];
  snprintf(dir, sizeof(dir), "%s/tests/golden/diag/render", test_env("TENET_SOURCE_DIR", "."));
  REQUIRE(getcwd(cwd, sizeof(cwd)) != NULL);
  REQUIRE(chdir(dir) == 0);
  struct dirent **names = NULL;
  int n = scandir(".", &names, ymlname, alphasort);
  CHECK(n > 0);
  for (int i = 0; i < n; i++) {
    const char *name = names[i]->d_name;
    diag_list *d = diag_list_new();
    items ignored = {0};
    CHECK(expectations(name, &ignored, d, stderr) == 0);
    clear(&ignored);
    compile_options opt = COMPILE_OPTIONS_DEFAULT;
    program_free(compile_policy_file(name, &opt, d));
    CHECK(d->n > 0);
    char want[512];
    size_t stem = strlen(name) - 4;
    static const struct {
      diag_format fmt;
      const char *ext;
    } outs[] = {{DIAG_FORMAT_TEXT, "txt"}, {DIAG_FORMAT_JSON, "json"}, {DIAG_FORMAT_SARIF, "sarif"}};
    for (size_t k = 0; k < sizeof(outs) / sizeof(*outs); k++) {
      snprintf(want, sizeof(want), "%.*s.%s", (int)stem, name, outs[k].ext);
      int ok = render_one(d, outs[k].fmt, want);
      printf("  render/%-43s %s\n", want, ok ? (update_golden ? "updated" : "ok") : "FAILED");
      CHECK(ok);
    }
    diag_list_free(d);
    free(names[i]);
  }
  free(names);
  REQUIRE(chdir(cwd) == 0);
}

/* ---- warning options -------------------------------------------------------------------------- */

static void test_options(void) {
  char err[256];
  diag_list *d = diag_list_new();
  REQUIRE(d);
  /* defaults come from warnings.def; key-case is off */
  diag_add(d, DIAG_WARNING, "key-case", "a.yml", 1, 1, "off by default");
  CHECK_INT(d->n, 0);
  CHECK(diag_option(d, "-Wall", err, sizeof(err)) == 0);
  diag_add(d, DIAG_WARNING, "key-case", "a.yml", 1, 1, "on with -Wall");
  CHECK_INT(d->n, 1);
  CHECK(diag_option(d, "-Wno-bad-regex", err, sizeof(err)) == 0);
  diag_add(d, DIAG_WARNING, "bad-regex", "a.yml", 2, 1, "suppressed");
  diag_note_add(d, 2, 1, "a note of a suppressed warning goes too");
  CHECK_INT(d->n, 1);
  CHECK_INT(d->items[0].nnotes, 0);
  diag_add(d, DIAG_WARNING, "float-id", "a.yml", 3, 1, "stays a warning");
  CHECK_INT(diag_errors(d), 0);
  CHECK(diag_option(d, "-Werror", err, sizeof(err)) == 0);
  CHECK_INT(diag_errors(d), 2);
  CHECK(diag_option(d, "-Wno-error=float-id", err, sizeof(err)) == 0);
  CHECK_INT(diag_errors(d), 1);
  CHECK_INT(diag_warnings(d), 1);
  CHECK(diag_option(d, "-Wno-error", err, sizeof(err)) == 0);
  CHECK(diag_option(d, "-Werror=key-case", err, sizeof(err)) == 0);
  CHECK_INT(diag_errors(d), 1);
  CHECK_INT(diag_effective(d, &d->items[0]), DIAG_ERROR);
  /* -Werror=code turns the warning on too, like gcc */
  CHECK(diag_option(d, "-Wno-bad-regex", err, sizeof(err)) == 0);
  CHECK(diag_option(d, "-Werror=bad-regex", err, sizeof(err)) == 0);
  diag_add(d, DIAG_WARNING, "bad-regex", "a.yml", 4, 1, "on again, as an error");
  CHECK_INT(d->n, 3);
  CHECK_INT(diag_errors(d), 2);
  /* -w silences every warning; errors still count */
  CHECK(diag_option(d, "-w", err, sizeof(err)) == 0);
  diag_add(d, DIAG_WARNING, "float-id", "a.yml", 5, 1, "silenced");
  diag_add(d, DIAG_ERROR, "type", "a.yml", 6, 1, "errors stay");
  CHECK_INT(d->n, 4);
  /* unknown codes: did-you-mean; error codes cannot be changed; garbage is refused */
  CHECK(diag_option(d, "-Wno-bad-numric", err, sizeof(err)) == -1);
  CHECK_STR(err, "unknown warning option '-Wno-bad-numric'; did you mean '-Wno-bad-numeric'?");
  CHECK(diag_option(d, "-Werror=unknwn-key", err, sizeof(err)) == -1);
  CHECK_STR(err, "unknown warning option '-Werror=unknwn-key'; did you mean '-Werror=unknown-key'?");
  CHECK(diag_option(d, "-Wfrobnicate", err, sizeof(err)) == -1);
  CHECK_STR(err, "unknown warning option '-Wfrobnicate' (see tenet compile --help)");
  CHECK(diag_option(d, "-Wno-type", err, sizeof(err)) == -1);
  CHECK_STR(err, "'-Wno-type': 'type' is an error, not a warning; it cannot be turned off or changed");
  CHECK(diag_option(d, "-W", err, sizeof(err)) == -1);
  CHECK(diag_option(d, "--Wall", err, sizeof(err)) == -1);
  diag_list_free(d);
}

/* A file never adopted is read from disk for its source line, once; one that cannot be read
 * prints without one. */
static void test_source_from_disk(void) {
  char path[] = "/tmp/tenet-src-XXXXXX";
  int fd = mkstemp(path);
  REQUIRE(fd >= 0);
  REQUIRE(write(fd, "one\n\ttwo é x\r\nthree", 21) == 21);
  close(fd);
  diag_list *d = diag_list_new();
  REQUIRE(d);
  diag_add(d, DIAG_WARNING, "float-id", path, 2, 7, "at x");
  diag_add(d, DIAG_ERROR, "type", "/nonexistent/tenet.yml", 1, 1, "no source");
  char *buf = NULL;
  size_t len = 0;
  FILE *m = open_memstream(&buf, &len);
  REQUIRE(m);
  diag_render(d, m, DIAG_FORMAT_TEXT, 0, 1);
  fclose(m);
  char want[512];
  snprintf(want, sizeof(want),
           "/nonexistent/tenet.yml:1:1: error: no source\n"
           "%s:2:7: warning: at x [-Wfloat-id]\n"
           "     2 | \ttwo é x\n"
           "       | \t     ^\n",
           path);
  CHECK_STR(buf, want);
  free(buf);
  CHECK_INT(d->nsources, 2); /* both tried once, kept (the unreadable one as empty) */
  unlink(path);
  diag_list_free(d);
}

static void test_suggest(void) {
  static const char *const keys[] = {"title", "compliance", "condition", "rules", "references"};
  CHECK_STR(diag_suggest("complaince", 10, keys, 5), "compliance");
  CHECK_STR(diag_suggest("referencces", 11, keys, 5), "references");
  CHECK_STR(diag_suggest("rule", 4, keys, 5), "rules");
  CHECK(diag_suggest("impact", 6, keys, 5) == NULL);
  CHECK(diag_suggest("x", 1, keys, 5) == NULL);
}

int main(int argc, char **argv) {
  update_golden = argc > 1 && strcmp(argv[1], "--update") == 0;
  if (update_golden) {
    RUN(test_golden_render);
    return test_report();
  }
  RUN(test_print_format);
  RUN(test_print_order_stable);
  RUN(test_print_color_and_sanitize);
  RUN(test_options);
  RUN(test_suggest);
  RUN(test_source_from_disk);
  RUN(test_runner_catches_mismatch);
  RUN(test_golden_dir);
  RUN(test_golden_render);
  return test_report();
}
