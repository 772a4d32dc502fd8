/* test_schedule.c — the scan starts the checks whose commands were slowest in earlier scans of the
 * same process first (vm/scan.c schedule, runner_cost_us), and the command costs the runner
 * remembers. With one worker the order the commands run is the order of the schedule: each
 * command appends its name to a log file. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cache.h"
#include "compile.h"
#include "err.h"
#include "runner.h"
#include "scan.h"
#include "test.h"
#include "vm.h"

static char dir[] = "/tmp/tenet_sched_XXXXXX";
static char logpath[600];

static void test_costs_remembered(void) {
  runner_result r;
  CHECK_INT(runner_cost_us("sleep 0.2"), -1);
  REQUIRE(runner_run("sleep 0.2", 10, 0, &r) == TN_OK);
  runner_result_free(&r);
  CHECK(runner_cost_us("sleep 0.2") >= 150000);
  REQUIRE(runner_run("true", 10, 0, &r) == TN_OK);
  runner_result_free(&r);
  CHECK(runner_cost_us("true") >= 0 && runner_cost_us("true") < runner_cost_us("sleep 0.2"));
}

/* Run the policy once with one worker; return the log's content (caller frees). */
static char *scan_log(vm_image *img) {
  unlink(logpath);
  scan_cache *cache = scan_cache_new(1);
  scan_options so = {.jobs = 1, .eval = EVAL_OPTIONS_DEFAULT, .scan_id = 1};
  policy_scan ps;
  int rc = scan_run(img, NULL, cache, &so, &ps);
  scan_cache_free(cache);
  if (rc != TN_OK) return NULL;
  policy_scan_free(&ps);
  FILE *f = fopen(logpath, "r");
  if (!f) return NULL;
  char buf[256] = "";
  size_t n = fread(buf, 1, sizeof buf - 1, f);
  buf[n] = 0;
  fclose(f);
  return strdup(buf);
}

static void test_slowest_first(void) {
  REQUIRE(mkdtemp(dir) != NULL);
  snprintf(logpath, sizeof logpath, "%s/log", dir);
  char yml[700];
  snprintf(yml, sizeof yml, "%s/p.yml", dir);
  FILE *f = fopen(yml, "w");
  REQUIRE(f != NULL);
  fprintf(f,
          "policy:\n  id: sched\n  file: p.yml\n  name: schedule\n  description: order\n"
          "checks:\n"
          "  - id: 1\n    title: fast a\n    condition: all\n    rules: ['c:sh -c \"echo a >> %s\" -> r:x']\n"
          "  - id: 2\n    title: fast b\n    condition: all\n    rules: ['c:sh -c \"echo b >> %s\" -> r:x']\n"
          "  - id: 3\n    title: slow\n    condition: all\n"
          "    rules: ['c:sh -c \"echo slow >> %s; sleep 0.3\" -> r:x']\n"
          "  - id: 4\n    title: a file check\n    condition: all\n    rules: ['f:/etc/passwd']\n",
          logpath, logpath, logpath);
  fclose(f);
  diag_list *d = diag_list_new();
  compile_options co = COMPILE_OPTIONS_DEFAULT;
  program *p = compile_policy_file(yml, &co, d);
  diag_list_free(d);
  REQUIRE(p != NULL);
  char err[256];
  vm_image *img = vm_image_load(p, err, sizeof err);
  REQUIRE(img != NULL);
  char *first = scan_log(img);  /* no costs known: policy order */
  char *second = scan_log(img); /* the slow command is known now: it starts first */
  CHECK_STR(first, "a\nb\nslow\n");
  CHECK(second && (!strcmp(second, "slow\na\nb\n") || !strcmp(second, "slow\nb\na\n"))); /* a, b: noise */
  free(first);
  free(second);
  vm_image_free(img);
  program_free(p);
  test_rm_rf(dir);
}

int main(void) {
  RUN(test_costs_remembered);
  RUN(test_slowest_first);
  return test_report();
}
