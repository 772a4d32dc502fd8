/* test_builtin_dpkg.c — dpkg-query -s / -W and dpkg -s (vm/builtin_dpkg.c) against the real
 * programs: every installed package, the corpus's -W formats, absent packages alone and mixed
 * with installed ones, and the forms the builtin must decline. */
#include "builtin_diff.h"

#define FMT_CORPUS "-f='${binary:Package}t${Status}t${db:Status-Status}n'"

#include <dirent.h>

static char **pkgs;
static int *pkg_ok; /* "install ok installed": the only state the builtin answers for */
static size_t npkgs;
static int expected; /* groups made only of such packages, counted by groups() */

/* Every package of the status file, in file order. */
static void load_packages(void) {
  FILE *f = fopen("/var/lib/dpkg/status", "r");
  if (!f) return;
  char line[4096];
  size_t cap = 0;
  while (fgets(line, sizeof line, f)) {
    if (!strcmp(line, "Status: install ok installed\n") && npkgs) pkg_ok[npkgs - 1] = 1;
    if (strncmp(line, "Package: ", 9) != 0) continue;
    line[strcspn(line, "\n")] = 0;
    if (npkgs == cap) {
      cap = cap ? cap * 2 : 256;
      pkgs = realloc(pkgs, cap * sizeof *pkgs);
      pkg_ok = realloc(pkg_ok, cap * sizeof *pkg_ok);
    }
    pkg_ok[npkgs] = 0;
    pkgs[npkgs++] = strdup(line + 9);
  }
  fclose(f);
}

static const char *const absent[] = {
    "tenet-no-such-package", "nftables-x", "telnetd-ssl-x", "xinetd-x", "z9", "a.b+c-d", NULL};

/* Whether dpkg is at rest (no journal in updates/): otherwise the builtin rightly declines, and
 * the tests only require that nothing it answers differs. */
static int dpkg_at_rest(void) {
  DIR *d = opendir("/var/lib/dpkg/updates");
  if (!d) return 1;
  struct dirent *e;
  int n = 0;
  while ((e = readdir(d)))
    n += e->d_name[0] != '.';
  closedir(d);
  if (n) printf("dpkg is busy (journal pending): answered counts not required\n");
  return n == 0;
}

/* Groups of up to n installed packages after a fixed prefix of options. */
static void groups(const char *a0, const char *a1, const char *a2, size_t n) {
  for (size_t i = 0; i < npkgs; i += n) {
    char *argv[32];
    size_t k = 0;
    argv[k++] = (char *)a0;
    argv[k++] = (char *)a1;
    if (a2) argv[k++] = (char *)a2;
    int all_ok = 1;
    for (size_t j = i; j < npkgs && j < i + n; j++) {
      argv[k++] = pkgs[j];
      all_ok &= pkg_ok[j];
    }
    expected += all_ok;
    argv[k] = NULL;
    diff_argv(argv);
  }
}

static void test_status_every_package(void) {
  REQUIRE(npkgs > 0);
  diff_ = (diff_stats){0};
  expected = 0;
  groups("dpkg-query", "-s", NULL, 10);
  diff_report("dpkg-query -s (groups of 10)");
  CHECK_INT(diff_.mismatched, 0);
  if (dpkg_at_rest()) CHECK_INT(diff_.answered, expected);
}

static void test_show_every_package(void) {
  diff_ = (diff_stats){0};
  expected = 0;
  groups("dpkg-query", "-W", FMT_CORPUS, 20);
  groups("dpkg-query", "-W", "-f=${Package} ${Version} ${Architecture} ${Status}|", 20);
  groups("dpkg-query", "--show", NULL, 20);
  diff_report("dpkg-query -W (groups of 20, three formats)");
  CHECK_INT(diff_.mismatched, 0);
  if (dpkg_at_rest()) CHECK_INT(diff_.answered, expected);
}

static void test_absent_and_mixed(void) {
  diff_ = (diff_stats){0};
  const char *small = npkgs ? pkgs[0] : "dpkg";
  for (const char *const *a = absent; *a; a++) {
    DIFF("dpkg-query", "-s", *a);
    DIFF("dpkg", "-s", *a);
    DIFF("dpkg-query", "-W", FMT_CORPUS, *a);
    DIFF("dpkg-query", "-s", *a, small);
    DIFF("dpkg-query", "-s", small, *a, "zz-absent-too");
    DIFF("dpkg-query", "-W", FMT_CORPUS, *a, small, "dpkg");
    DIFF("dpkg-query", "-W", FMT_CORPUS, "dpkg", *a, small, small);
  }
  DIFF("dpkg", "-s", "dpkg", "coreutils");
  DIFF("dpkg", "--status", "bash");
  diff_report("absent and mixed");
  CHECK_INT(diff_.mismatched, 0);
  if (dpkg_at_rest()) CHECK_INT(diff_.declined, 0);
}

/* Forms the builtin must leave to the real program. */
static void test_declines(void) {
  builtin_result b;
  const char *const cases[][6] = {
      {"dpkg-query", "-s", "Bash", NULL},                      /* dpkg folds case */
      {"dpkg-query", "-s", "b*", NULL},                        /* a pattern (an error for -s) */
      {"dpkg-query", "-W", "lib*", NULL},                      /* a pattern */
      {"dpkg-query", "-s", "libc6:amd64", NULL},               /* arch-qualified */
      {"dpkg-query", "-l", "bash", NULL},                      /* another command */
      {"dpkg-query", "-s", NULL},                              /* no package */
      {"dpkg-query", "-W", "-f=${Description}", "bash", NULL}, /* a field not reproduced */
      {"dpkg-query", "-W", "-f=${Package}\\n", "bash", NULL},  /* an escape */
      {"dpkg", "-l", "bash", NULL},
      {"dpkg-query", "--admindir=/tmp", "-s", "bash", NULL},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    size_t argc = 0;
    while (cases[i][argc])
      argc++;
    CHECK_INT(builtin_run((char *const *)cases[i], argc, &b), TN_ENOTFOUND);
  }
  setenv("DPKG_ADMINDIR", "/tmp", 1);
  CHECK_INT(builtin_run((char *const *)(const char *const[]){"dpkg-query", "-s", "bash", NULL}, 3, &b),
            TN_ENOTFOUND);
  unsetenv("DPKG_ADMINDIR");
  setenv("LC_ALL", "de_DE.UTF-8", 1);
  CHECK_INT(builtin_run((char *const *)(const char *const[]){"dpkg-query", "-s", "bash", NULL}, 3, &b),
            TN_ENOTFOUND);
  unsetenv("LC_ALL");
  if (dpkg_at_rest()) {
    CHECK_INT(builtin_run((char *const *)(const char *const[]){"dpkg-query", "-s", "bash", NULL}, 3, &b),
              TN_OK);
    builtin_result_free(&b);
  }
}

int main(void) {
  builtin_set_enabled(1);
  load_packages();
  RUN(test_status_every_package);
  RUN(test_show_every_package);
  RUN(test_absent_and_mixed);
  RUN(test_declines);
  for (size_t i = 0; i < npkgs; i++)
    free(pkgs[i]);
  free(pkgs);
  free(pkg_ok);
  return test_report();
}
