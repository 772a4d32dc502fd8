/* test_reaper.c — nothing a c: rule's command starts outlives it (runner.c's reaper), with real
 * processes: a background job after a normal exit, a setsid() escapee after a timeout, both at
 * once from several threads (the worker pool), and a tree several levels deep. Each leftover is
 * looked for in /proc by a marker argument no other process carries. */
#include <errno.h>
#include <dirent.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "err.h"
#include "runner.h"
#include "test.h"

/* The number of live (not zombie) processes whose command line holds `marker`. */
static int count_marked(const char *marker) {
  DIR *d = opendir("/proc");
  if (!d) return -1;
  int found = 0;
  struct dirent *e;
  while ((e = readdir(d))) {
    if (e->d_name[0] < '0' || e->d_name[0] > '9') continue;
    char p[300], buf[4096];
    snprintf(p, sizeof p, "/proc/%s/cmdline", e->d_name);
    FILE *f = fopen(p, "r");
    if (!f) continue;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    for (size_t i = 0; i < n; i++)
      if (!buf[i]) buf[i] = ' ';
    buf[n] = 0;
    if (!strstr(buf, marker)) continue;
    snprintf(p, sizeof p, "/proc/%s/stat", e->d_name);
    if (!(f = fopen(p, "r"))) continue;
    n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = 0;
    char *rp = strrchr(buf, ')');
    if (rp && rp[1] == ' ' && rp[2] != 'Z' && rp[2] != 'X') found++;
  }
  closedir(d);
  return found;
}

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The first case: `sh -c "sleep 778 >/dev/null &"` exits at once; its background sleep
 * still holds the output through stderr, so (as in Wazuh) the command ends at the timeout — and
 * the sleep must go. With both streams redirected the command ends normally, and the sleep must
 * go too. */
static void test_background_job(void) {
  runner_result r;
  REQUIRE(runner_run("sh -c \"sleep 778 >/dev/null &\"", 1, 0, &r) == TN_OK);
  CHECK_INT(r.timed_out, 1);
  runner_result_free(&r);
  CHECK_INT(count_marked("sleep 778"), 0);

  REQUIRE(runner_run("sh -c \"sleep 779 >/dev/null 2>&1 &\"", 10, 0, &r) == TN_OK);
  CHECK_INT(r.timed_out, 0);
  CHECK_INT(r.exit_code, 0);
  runner_result_free(&r);
  CHECK_INT(count_marked("sleep 779"), 0);
}

/* The second case: `setsid sleep 777` leaves our process group and session (setsid
 * forks when it leads a group) and keeps the output open: the command times out, and the
 * escapee must still be killed. */
static void test_setsid_escapee(void) {
  runner_result r;
  double t0 = now_s();
  REQUIRE(runner_run("setsid sleep 777", 1, 0, &r) == TN_OK);
  CHECK_INT(r.timed_out, 1);
  CHECK(now_s() - t0 < 5);
  runner_result_free(&r);
  CHECK_INT(count_marked("sleep 777"), 0);

  /* The same escapee with its output elsewhere: the command ends at once, normally. */
  REQUIRE(runner_run("sh -c \"setsid sleep 776 >/dev/null 2>&1 & echo done\"", 10, 0, &r) == TN_OK);
  CHECK_INT(r.timed_out, 0);
  CHECK_STR(r.output, "done\n");
  runner_result_free(&r);
  CHECK_INT(count_marked("sleep 776"), 0);
}

/* A tree three levels deep whose middle dies at once: orphans re-parent level by level. */
static void test_deep_tree(void) {
  runner_result r;
  REQUIRE(runner_run("sh -c \"sh -c 'sh -c \\\"sleep 775 >/dev/null 2>&1 &\\\" &' >/dev/null 2>&1; echo ok\"",
                     10, 0, &r) == TN_OK);
  CHECK_STR(r.output, "ok\n");
  runner_result_free(&r);
  CHECK_INT(count_marked("sleep 775"), 0);
}

/* Output written by a background job before the output ends still counts (Wazuh's end is the end
 * of the output), so the reaper must not kill early. */
static void test_late_output_kept(void) {
  runner_result r;
  REQUIRE(runner_run("sh -c \"(sleep 0.3; echo late) & echo early\"", 10, 0, &r) == TN_OK);
  CHECK_STR(r.output, "early\nlate\n");
  CHECK_INT(r.timed_out, 0);
  runner_result_free(&r);
}

static void *pool_worker(void *arg) {
  long i = (long)arg;
  runner_result r;
  int bad = 0;
  if (i % 2) {
    bad |= runner_run("setsid sleep 774", 1, 0, &r) != TN_OK || !r.timed_out;
  } else {
    bad |= runner_run("sh -c \"sleep 773 >/dev/null 2>&1 & echo x\"", 10, 0, &r) != TN_OK ||
           strcmp(r.output, "x\n") != 0;
  }
  runner_result_free(&r);
  return (void *)(long)bad;
}

/* Several commands at once, as the worker pool runs them: each reaper cleans up its own tree. */
static void test_pool(void) {
  pthread_t t[6];
  for (long i = 0; i < 6; i++)
    pthread_create(&t[i], NULL, pool_worker, (void *)i);
  for (int i = 0; i < 6; i++) {
    void *bad;
    pthread_join(t[i], &bad);
    CHECK(bad == NULL);
  }
  CHECK_INT(count_marked("sleep 774"), 0);
  CHECK_INT(count_marked("sleep 773"), 0);
  errno = 0;
  CHECK(waitpid(-1, NULL, WNOHANG) == -1 && errno == ECHILD);
}

int main(void) {
  RUN(test_background_job);
  RUN(test_setsid_escapee);
  RUN(test_deep_tree);
  RUN(test_late_output_kept);
  RUN(test_pool);
  return test_report();
}
