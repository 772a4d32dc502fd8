/* test_diag_golden.c — diagnostics: diag.c's printing and counting, and the golden compiler-error
 * files of tests/golden/diag/.
 *
 * Each golden file is a small policy that carries its expected diagnostics as YAML comments:
 *   # expect-error: LINE:COL message
 *   # expect-warning: LINE:COL message
 * The runner compiles every *.yml there (parse + codegen) and requires the diagnostics to be
 * exactly those (level, line, column, message), in any order; it prints the difference otherwise.
 * A file without expectations must compile cleanly. Compilation succeeds iff no error is expected. */
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

static const char *lvl(diag_level l) { return l == DIAG_ERROR ? "error" : "warning"; }

/* Read the `# expect-...` comments of a golden file. Returns 0, or -1 (and says why on log). */
static int expectations(const char *path, items *out, FILE *log) {
  FILE *f = fopen(path, "r");
  if (!f) {
    fprintf(log, "%s: cannot open\n", path);
    return -1;
  }
  char line[4096];
  int lineno = 0, rc = 0;
  while (fgets(line, sizeof(line), f)) {
    lineno++;
    char *p = strstr(line, "# expect-");
    if (!p) continue;
    p += strlen("# expect-");
    diag_level level;
    if (strncmp(p, "error:", 6) == 0) {
      level = DIAG_ERROR;
      p += 6;
    } else if (strncmp(p, "warning:", 8) == 0) {
      level = DIAG_WARNING;
      p += 8;
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

/* Compare one golden file, reporting differences on log; returns 1 when it passes. */
static int golden_one(const char *path, FILE *log) {
  items want = {0}, got = {0};
  int ok = expectations(path, &want, log) == 0;
  diag_list *d = diag_list_new();
  compile_options opt = COMPILE_OPTIONS_DEFAULT;
  program *p = compile_policy_file(path, &opt, d);
  for (size_t i = 0; i < d->n; i++)
    push(&got, d->items[i].level, d->items[i].line, d->items[i].col,
         d->items[i].message ? d->items[i].message : "");
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
  if ((p != NULL) == errors_expected) {
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

int main(void) {
  RUN(test_print_format);
  RUN(test_print_order_stable);
  RUN(test_print_color_and_sanitize);
  RUN(test_runner_catches_mismatch);
  RUN(test_golden_dir);
  return test_report();
}
