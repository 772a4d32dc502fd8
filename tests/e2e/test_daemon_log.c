/* test_daemon_log.c — the daemons' log holds back repeated lines: a message identical to the one
 * before (level and text) is counted, and "last message repeated N times" is written when another
 * message comes or on dlog_flush_repeats; a million repeats cost two lines, not a million. */
#include <stdio.h>
#include <stdlib.h>

#include "proto/daemon/daemon_log.h"
#include "test.h"
#include "tmpdir.h"

static char dir[4096], path[4200];

static void test_repeats_counted(void) {
  char err[256];
  REQUIRE(dlog_open("tenet-test", path, DLOG_INFO, err, sizeof err) == 0);
  for (int i = 0; i < 1000000; i++)
    log_warn("accept: %s", "Too many open files");
  log_info("something else");
  log_info("something else"); /* same text, held back */
  log_warn("something else"); /* another level: a different message */
  for (int i = 0; i < 3; i++)
    log_info("third %d", i); /* different texts: all written */
  log_info("third 2");
  dlog_flush_repeats();
  dlog_flush_repeats(); /* nothing pending: nothing written */
  dlog_close();
  CHECK_INT(tmp_count(path, "WARNING: accept: Too many open files"), 1);
  CHECK_INT(tmp_count(path, "WARNING: last message repeated 999999 times"), 1);
  CHECK_INT(tmp_count(path, "INFO: something else"), 1);
  CHECK_INT(tmp_count(path, "INFO: last message repeated 1 times"), 2);
  CHECK_INT(tmp_count(path, "WARNING: something else"), 1);
  CHECK_INT(tmp_count(path, "INFO: third "), 3);
  CHECK_INT(tmp_count(path, "\n"), 9);
  char *all = tmp_read(path);
  REQUIRE(all);
  /* the order: the count follows the message it counts, before the next one */
  char *a = strstr(all, "accept:"), *r = strstr(all, "repeated 999999"), *s = strstr(all, "something else");
  CHECK(a && r && s && a < r && r < s);
  free(all);
}

int main(void) {
  tmp_make("daemon-log", dir, sizeof dir);
  snprintf(path, sizeof path, "%s/test.log", dir);
  RUN(test_repeats_counted);
  if (!test_failed_) tmp_remove(dir);
  return test_report();
}
