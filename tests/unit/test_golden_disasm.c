/* test_golden_disasm.c — golden tests: each tests/golden/disasm/NAME.yml compiles to exactly the
 * listing in NAME.disasm (the disassembly `tenet inspect` prints, without the header). Run with
 * --update to rewrite the expectations, then review them as a diff. */
#include <dirent.h>
#include <stdio.h>

#include "compile.h"
#include "disasm.h"
#include "test.h"

static int update;

static char *slurp(const char *path) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  strbuf b = STRBUF_INIT;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, f)) > 0) strbuf_append(&b, buf, n);
  fclose(f);
  return strbuf_take(&b);
}

static void check_one(const char *dir, const char *name) {
  char yml[8300], want_path[8300];
  snprintf(yml, sizeof yml, "%s/%s", dir, name);
  snprintf(want_path, sizeof want_path, "%s/%.*s.disasm", dir, (int)(strlen(name) - 4), name);
  diag_list *d = diag_list_new();
  compile_options co = COMPILE_OPTIONS_DEFAULT;
  program *p = compile_policy_file(yml, &co, d);
  if (!p) diag_print(d, stderr, 0);
  REQUIRE(p != NULL);
  char *got = NULL;
  size_t len = 0;
  FILE *m = open_memstream(&got, &len);
  disasm_program(m, p, NULL);
  fclose(m);
  if (update) {
    FILE *f = fopen(want_path, "w");
    REQUIRE(f != NULL);
    fputs(got, f);
    fclose(f);
    printf("updated %s\n", want_path);
  } else {
    char *want = slurp(want_path);
    if (!want) fprintf(stderr, "missing %s (run test_golden_disasm --update)\n", want_path);
    else if (strcmp(got, want) != 0) fprintf(stderr, "%s differs from %s:\n%s\n", name, want_path, got);
    CHECK(want && strcmp(got, want) == 0);
    free(want);
  }
  free(got);
  program_free(p);
  diag_list_free(d);
}

static void test_golden_listings(void) {
  char dir[4096];
  snprintf(dir, sizeof dir, "%s/tests/golden/disasm", test_env("TENET_SOURCE_DIR", "."));
  DIR *dp = opendir(dir);
  REQUIRE(dp != NULL);
  struct dirent *e;
  int n = 0;
  while ((e = readdir(dp))) {
    size_t l = strlen(e->d_name);
    if (l > 4 && strcmp(e->d_name + l - 4, ".yml") == 0) {
      check_one(dir, e->d_name);
      n++;
    }
  }
  closedir(dp);
  CHECK(n > 0);
}

int main(int argc, char **argv) {
  update = argc > 1 && strcmp(argv[1], "--update") == 0;
  RUN(test_golden_listings);
  return test_report();
}
