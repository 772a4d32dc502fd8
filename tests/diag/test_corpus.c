/* test_corpus.c — every published policy of ../shared/corpus (Wazuh 4.14.7 and 5.x schemas)
 * compiles with 0 errors, as Wazuh loads every one of them; and the README's own
 * `tenet compile --strict -Wno-error=...` line passes on the stock CIS Debian 12 policies.
 *
 * Exits 77 (CTest SKIP_RETURN_CODE) with the reason when the corpus is absent. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "compile.h"
#include "diag.h"
#include "program.h"
#include "test.h"

#define SKIP 77

static char corpus[4096];
static char **files;
static size_t nfiles;

static void collect(const char *dir) {
  DIR *d = opendir(dir);
  if (!d) return;
  struct dirent *e;
  while ((e = readdir(d))) {
    if (e->d_name[0] == '.') continue;
    char path[8192];
    snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
    struct stat st;
    if (stat(path, &st) != 0) continue;
    size_t n = strlen(e->d_name);
    if (S_ISDIR(st.st_mode)) {
      collect(path);
    } else if ((n > 4 && strcmp(e->d_name + n - 4, ".yml") == 0) ||
               (n > 5 && strcmp(e->d_name + n - 5, ".yaml") == 0)) {
      files = realloc(files, (nfiles + 1) * sizeof(*files));
      if (!files) abort();
      files[nfiles++] = strdup(path);
    }
  }
  closedir(d);
}

static int pathcmp(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* Every policy compiles (parse + codegen) with the default warning options and 0 errors. */
static void test_every_policy_compiles(void) {
  size_t schema4 = 0, schema5 = 0, warnings = 0;
  for (size_t i = 0; i < nfiles; i++) {
    diag_list *d = diag_list_new();
    REQUIRE(d);
    compile_options opt = COMPILE_OPTIONS_DEFAULT;
    program *p = compile_policy_file(files[i], &opt, d);
    if (!p || diag_errors(d)) {
      fprintf(stderr, "%s: %zu error(s):\n", files[i], diag_errors(d));
      diag_render(d, stderr, DIAG_FORMAT_TEXT, 0, 1);
    }
    CHECK(p != NULL);
    CHECK_INT(diag_errors(d), 0);
    if (p && p->dialect == DIALECT_WAZUH5)
      schema5++;
    else if (p)
      schema4++;
    warnings += diag_warnings(d);
    program_free(p);
    diag_list_free(d);
  }
  printf("  %zu policies compiled (%zu in the 4.x schema, %zu in 5.x), %zu warnings, 0 errors\n", nfiles,
         schema4, schema5, warnings);
  CHECK(schema4 > 0 && schema5 > 0);
}

/* The README's line, run through the real binary on both stock CIS Debian 12 policies. */
#define README_FLAGS                                                                                         \
  "--strict -Wno-error=bad-numeric -Wno-error=numeric-quirk -Wno-error=literal-caret "                       \
  "-Wno-error=literal-dollar"

static void test_readme_strict_line(void) {
  const char *bin = test_env("TENET_BIN", "build/tenet");
  int found = 0;
  for (size_t i = 0; i < nfiles; i++) {
    if (!strstr(files[i], "/debian/cis_debian12.yml")) continue;
    found++;
    char cmd[16384];
    snprintf(cmd, sizeof(cmd), "'%s' compile -n -q %s '%s' 2>&1", bin, README_FLAGS, files[i]);
    FILE *f = popen(cmd, "r");
    REQUIRE(f);
    char line[4096];
    while (fgets(line, sizeof(line), f))
      if (strstr(line, "error")) fprintf(stderr, "  %s", line);
    int st = pclose(f);
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    /* and without the -Wno-error flags, --strict refuses the 4.x one (its warnings are real) */
    if (strstr(files[i], "4.14")) {
      snprintf(cmd, sizeof(cmd), "'%s' compile -n -q --strict '%s' >/dev/null 2>&1", bin, files[i]);
      st = system(cmd);
      CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 1);
    }
  }
  CHECK(found >= 1);
}

int main(void) {
  snprintf(corpus, sizeof(corpus), "%s/corpus", test_env("TENET_SHARED_DIR", "../shared"));
  struct stat st;
  if (stat(corpus, &st) != 0 || !S_ISDIR(st.st_mode)) {
    printf("SKIP: no policy corpus at %s (%s); it is the shared/ folder's corpus/\n", corpus,
           strerror(errno));
    return SKIP;
  }
  collect(corpus);
  if (!nfiles) {
    printf("SKIP: no .yml policy under %s\n", corpus);
    return SKIP;
  }
  qsort(files, nfiles, sizeof(*files), pathcmp);
  RUN(test_every_policy_compiles);
  RUN(test_readme_strict_line);
  for (size_t i = 0; i < nfiles; i++)
    free(files[i]);
  free(files);
  return test_report();
}
