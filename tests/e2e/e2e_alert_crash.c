/* e2e_alert_crash.c — alerts exactly once when the manager dies inside an alert drain. A real
 * tenet-manager with test_crash_after_alert_write exits right after writing and fsyncing its first
 * batch of alerts, before the store records them written. A torn line is appended to its alerts
 * file (a foreign writer, or a crash mid-line of a later write); the manager is started again
 * without the fault: it recovers its claim from its own file — keeps the lines it wrote, cuts the
 * torn tail — and every alert of the agent's first scan is in the file exactly once, whole.
 * SQLite by default; tests/pg/e2e_alert_crash.c includes this file for PostgreSQL (ALERT_CRASH_PG),
 * where a second manager with the same node_name is also refused. */
#include <signal.h>

#include "harness.h"
#include "test.h"
#include "tmpdir.h"

static e2e_env env;
static e2e_manager mgr;
static e2e_agent ag;

static int outbox_empty(void *arg) {
  (void)arg;
  return e2e_manager_outbox(&mgr) == 0;
}

static void test_crash_inside_drain(void) {
  e2e_manager_init(&mgr, &env, "m1", "test_crash_after_alert_write = yes\n");
  REQUIRE(e2e_manager_start(&mgr) == 0);
  e2e_agent_init(&ag, &env, "201", mgr.port, NULL);
  e2e_agent_install_seed(&ag, &env, (const char *const[]){"ok", "no", "ok", "ok"});
  REQUIRE(e2e_agent_start(&ag) == 0);
  /* the first drain writes the scan's alerts and the manager exits */
  REQUIRE(e2e_wait_text(mgr.log, "TEST MODE: exiting after writing", 1, E2E_WAIT_MS) == 0);
  e2e_manager_stop(&mgr, SIGKILL); /* collects the exited process */
  int written = e2e_lines(mgr.alerts);
  CHECK(written >= 1);
  CHECK(e2e_manager_outbox(&mgr) >= written); /* written, still queued: the drain did not finish */
  FILE *f = fopen(mgr.alerts, "a");
  REQUIRE(f);
  fputs("{\"timestamp\":\"2026-01-01T00:00:00.000+0000\",\"agent\":{\"id\":\"2", f);
  fclose(f);

#ifdef ALERT_CRASH_PG
  /* PostgreSQL: while m1 runs, another manager named m1 is refused */
  static e2e_manager twin;
  e2e_manager_init(&twin, &env, "twin", NULL);
  snprintf(twin.name, sizeof twin.name, "m1");
#endif
  mgr.extra[0] = '\0'; /* restarted without the fault */
  REQUIRE(e2e_manager_start(&mgr) == 0);
  REQUIRE(e2e_wait_converged(&mgr, &ag, "seed") == 0);
  REQUIRE(e2e_wait(outbox_empty, NULL, E2E_WAIT_MS));
  CHECK(tmp_count(mgr.log, "Alerts: recovered an interrupted drain") == 1);
  CHECK(tmp_count(mgr.log, "torn or foreign tail") == 1);
  const char *files[] = {mgr.alerts};
  static e2e_alert_tally t;
  REQUIRE(e2e_alerts_tally(files, 1, &t) == 0);
  printf("alerts: %d lines (%d checks, %d summaries), %d written before the crash, %d torn\n", t.lines,
         t.checks, t.summaries, written, t.torn);
  CHECK_INT(t.torn, 0);
  CHECK_INT(e2e_alerts_duplicates(&t), 0);
  CHECK_INT(t.checks, 4); /* the four checks, seen for the first time */
  CHECK_INT(t.summaries, 1);
  for (int64_t id = 1000; id < 1004; id++)
    CHECK_INT(e2e_alerts_count(&t, "201", id, t.key[0].scan_id), 1);

#ifdef ALERT_CRASH_PG
  CHECK(e2e_manager_start(&twin) != 0);
  char out[PATH_MAX + 64];
  snprintf(out, sizeof out, "%s/stderr.log", twin.dir);
  CHECK(tmp_count(out, "another tenet-manager runs as node 'm1'") >= 1);
  e2e_manager_stop(&twin, SIGKILL);
#endif
}

static void test_daemons_exit_cleanly(void) { CHECK(e2e_daemons_ok()); }

int main(void) {
#ifdef ALERT_CRASH_PG
  e2e_setup_pg(&env, "alert-crash");
#else
  e2e_setup(&env, "alert-crash");
#endif
  RUN(test_crash_inside_drain);
  e2e_agent_stop(&ag, SIGTERM);
  e2e_manager_stop(&mgr, SIGTERM);
  RUN(test_daemons_exit_cleanly);
  e2e_teardown(&env, test_failed_);
  return test_report();
}
