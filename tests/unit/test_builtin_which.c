/* test_builtin_which.c — which (vm/builtin_which.c) against the real debianutils script: every
 * program of /usr/bin and /usr/sbin, absent names, names with '/', files that exist but are not
 * executable or not regular, several names at once, and PATH shapes (empty elements, leading,
 * doubled and trailing ':', "." and relative elements). */
#include <dirent.h>
#include <sys/stat.h>

#include "builtin_diff.h"

static char dir[] = "/tmp/tenet_bwhich_XXXXXX";

static void test_every_program(void) {
  diff_ = (diff_stats){0};
  const char *dirs[] = {"/usr/bin", "/usr/sbin"};
  for (size_t d = 0; d < 2; d++) {
    DIR *dp = opendir(dirs[d]);
    REQUIRE(dp != NULL);
    struct dirent *e;
    int k = 0;
    while ((e = readdir(dp)))
      if (e->d_name[0] != '.' && e->d_name[0] != '-' && k++ % 3 == 0) DIFF("which", e->d_name);
    closedir(dp);
  }
  diff_report("which: every third program of /usr/bin and /usr/sbin");
  CHECK_INT(diff_.mismatched, 0);
  CHECK_INT(diff_.declined, 0);
  CHECK(diff_.answered > 100);
}

static void test_shapes(void) {
  REQUIRE(mkdtemp(dir) != NULL);
  char exe[600], plain[600], sub[600], rel[700];
  snprintf(exe, sizeof exe, "%s/tenet-exe", dir);
  snprintf(plain, sizeof plain, "%s/tenet-plain", dir);
  snprintf(sub, sizeof sub, "%s/tenet-dir", dir);
  FILE *f = fopen(exe, "w");
  fputs("#!/bin/sh\n", f);
  fclose(f);
  chmod(exe, 0700);
  f = fopen(plain, "w");
  fclose(f);
  chmod(plain, 0644);
  mkdir(sub, 0755);
  diff_ = (diff_stats){0};
  DIFF("which", "sh", "tenet-no-such-program", "ls");
  DIFF("which", "tenet-no-such-program");
  DIFF("which", exe, plain, sub, "/bin/sh", "/nonexistent/x");
  DIFF("which");
  DIFF("which", "");
  char *old = getenv("PATH") ? strdup(getenv("PATH")) : NULL;
  const char *shapes[] = {
      "%s:/usr/bin", ":%s", "/usr/bin::%s", "%s:", "/usr/bin:", "::", ":", "", ".:%s", "%s/../tenet_nope:%s"};
  REQUIRE(chdir(dir) == 0);
  snprintf(rel, sizeof rel, "%s", "tenet-exe");
  for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++) {
    char path[2048];
    snprintf(path, sizeof path, shapes[i], dir, dir);
    setenv("PATH", path, 1);
    DIFF("/usr/bin/which", "tenet-exe", "tenet-plain", "tenet-dir", "sh");
    DIFF("/usr/bin/which", rel);
  }
  if (old) setenv("PATH", old, 1);
  free(old);
  REQUIRE(chdir("/") == 0);
  diff_report("which: names, files, PATH shapes");
  CHECK_INT(diff_.mismatched, 0);
  CHECK_INT(diff_.declined, 0);
  test_rm_rf(dir);
}

static void test_declines(void) {
  builtin_result b;
  CHECK_INT(builtin_run((char *const *)(const char *const[]){"which", "-a", "sh", NULL}, 3, &b),
            TN_ENOTFOUND);
  CHECK_INT(builtin_run((char *const *)(const char *const[]){"which", "sh", "-x", NULL}, 3, &b),
            TN_ENOTFOUND);
  char *old = strdup(getenv("PATH"));
  unsetenv("PATH");
  CHECK_INT(builtin_run((char *const *)(const char *const[]){"/usr/bin/which", "sh", NULL}, 2, &b),
            TN_ENOTFOUND);
  setenv("PATH", old, 1);
  free(old);
}

int main(void) {
  builtin_set_enabled(1);
  RUN(test_every_program);
  RUN(test_shapes);
  RUN(test_declines);
  return test_report();
}
