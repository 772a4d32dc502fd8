/* test_builtin_scan.c — the builtins change nothing a scan reports: policies are scanned on this
 * host without builtins, with them, and without them again; every check event with builtins must
 * equal the one without (a check whose two builtin-free scans disagree is volatile on this host and
 * needs to equal either). Also: the builtins answered some of the commands. The unit test scans the
 * project's own policy (policies/debian12-baseline.yml); corpus/test_builtin_scan the corpus pair
 * the issue is about (cis_debian12.yml + sca_distro_independent_linux.yml, 397 checks), skipped
 * without the corpus (tests/corpus.h). */
#include "builtin.h"
#include "corpus.h"
#include "cache.h"
#include "compile.h"
#include "err.h"
#include "scan.h"
#include "test.h"
#include "vm.h"

#define MAXPOL 2
static char paths[MAXPOL][4096];
static size_t NPOL;
static program *progs[MAXPOL];
static vm_image *imgs[MAXPOL];

static int scan(int builtins, policy_scan *out) {
  builtin_set_enabled(builtins);
  scan_cache *cache = scan_cache_new(1);
  scan_options so = {.jobs = 0, .eval = EVAL_OPTIONS_DEFAULT, .scan_id = 7};
  int rc = scan_run_many((const vm_image *const *)imgs, NULL, NPOL, cache, &so, out);
  scan_cache_free(cache);
  return rc;
}

static void test_same_events(void) {
  for (size_t i = 0; i < NPOL; i++) {
    char err[256];
    diag_list *d = diag_list_new();
    compile_options co = COMPILE_OPTIONS_DEFAULT;
    progs[i] = compile_policy_file(paths[i], &co, d);
    diag_list_free(d);
    REQUIRE(progs[i] != NULL);
    REQUIRE((imgs[i] = vm_image_load(progs[i], err, sizeof err)) != NULL);
  }
  policy_scan off1[MAXPOL], on[MAXPOL], off2[MAXPOL];
  REQUIRE(scan(0, off1) == TN_OK);
  size_t before = builtin_answered_count();
  REQUIRE(scan(1, on) == TN_OK);
  size_t native = builtin_answered_count() - before;
  REQUIRE(scan(0, off2) == TN_OK);
  int compared = 0, volatile_ = 0;
  for (size_t p = 0; p < NPOL; p++) {
    CHECK_INT(on[p].status, off1[p].status);
    REQUIRE(on[p].nchecks == off1[p].nchecks && on[p].nchecks == off2[p].nchecks);
    for (size_t i = 0; i < on[p].nchecks; i++) {
      const char *a = on[p].checks[i].event, *b = off1[p].checks[i].event, *c = off2[p].checks[i].event;
      if (strcmp(b, c) != 0) volatile_++;
      if (strcmp(a, b) != 0 && strcmp(a, c) != 0) {
        fprintf(stderr, "with builtins:    %s\nwithout builtins: %s\n", a, b);
        CHECK(0);
      }
      compared++;
    }
  }
  printf("%d check events compared, %d volatile on this host, %zu commands answered natively\n", compared,
         volatile_, native);
  if (NPOL == 2) { /* the corpus pair */
    CHECK_INT(compared, 397);
    CHECK(native >= 100);
  } else { /* the project's own policy: 93 checks, several dpkg-query/stat/sysctl commands */
    CHECK_INT(compared, 93);
    CHECK(native >= 5);
  }
  CHECK(volatile_ < 10);
  for (size_t p = 0; p < NPOL; p++) {
    policy_scan_free(&off1[p]);
    policy_scan_free(&on[p]);
    policy_scan_free(&off2[p]);
    vm_image_free(imgs[p]);
    program_free(progs[p]);
  }
}

int main(int argc, char **argv) {
  if (test_corpus_wanted(argc, argv)) {
    char dir[2048];
    if (!test_corpus_dir("wazuh-4.14.7", dir, sizeof dir)) return TEST_SKIP;
    snprintf(paths[0], sizeof paths[0], "%s/debian/cis_debian12.yml", dir);
    snprintf(paths[1], sizeof paths[1], "%s/generic/sca_distro_independent_linux.yml", dir);
    NPOL = 2;
  } else {
    snprintf(paths[0], sizeof paths[0], "%s/policies/debian12-baseline.yml", test_env("TENET_SOURCE_DIR", "."));
    NPOL = 1;
  }
  RUN(test_same_events);
  return test_report();
}
