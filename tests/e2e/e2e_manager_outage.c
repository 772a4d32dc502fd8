/* e2e_manager_outage.c — scenario 5: the manager is down while the agent scans several times
 * (results change in between); the agent keeps everything in its outbox and retries with capped
 * exponential backoff; when the manager comes back (same store, same port) it receives every
 * message once, alerts for every change in order, and both stores converge. Then the manager is
 * killed (SIGKILL) right after a change and restarted: nothing is lost either. */
#include "harness.h"
#include "test.h"
#include "tmpdir.h"

static e2e_env env;
static e2e_manager mgr;
static e2e_agent ag;

static void test_outage(void) {
  e2e_manager_init(&mgr, &env, "manager", NULL);
  REQUIRE(e2e_manager_start(&mgr) == 0);
  e2e_agent_init(&ag, &env, "001", mgr.port, NULL);
  e2e_agent_install_seed(&ag, &env, (const char *const[]){"ok", "ok", "ok", "ok"});
  REQUIRE(e2e_agent_start(&ag) == 0);
  REQUIRE(e2e_wait_converged(&mgr, &ag, "seed") == 0);

  e2e_manager_stop(&mgr, SIGTERM);
  /* Three scans while the manager is away, each changing something. */
  e2e_flag(&ag, 1000, "no");
  REQUIRE(e2e_agent_rescan(&ag) == 0);
  e2e_flag(&ag, 1001, "no");
  REQUIRE(e2e_agent_rescan(&ag) == 0);
  e2e_flag(&ag, 1000, "ok");
  e2e_flag(&ag, 1002, NULL); /* not applicable */
  REQUIRE(e2e_agent_rescan(&ag) == 0);
  REQUIRE(e2e_wait_text(ag.log, "Cannot connect to manager 127.0.0.1", 1, E2E_WAIT_MS) == 0);
  mstore_counters before;
  REQUIRE(e2e_manager_counters(&mgr, "001", &before, NULL));

  REQUIRE(e2e_manager_start(&mgr) == 0);
  REQUIRE(e2e_wait_converged(&mgr, &ag, "seed") == 0);
  CHECK(e2e_same_checks(&mgr, &ag, "seed"));
  mstore_counters after;
  uint64_t last_seq;
  /* every queued summary arrives */
  for (int i = 0; i < 200; i++) {
    e2e_manager_counters(&mgr, "001", &after, &last_seq);
    if (after.summaries - before.summaries >= 3) break;
    usleep(50000);
  }
  CHECK_INT(after.summaries - before.summaries, 3);
  CHECK_INT(after.deltas - before.deltas, 3);
  CHECK_INT(after.delta_checks - before.delta_checks, 4); /* 1000, 1001, 1000 + 1002 */
  CHECK_INT(after.duplicates - before.duplicates, 0);
  CHECK_INT(after.dumps_requested - before.dumps_requested, 0);
  /* the alerts tell the story in order: 1000 failed, 1001 failed, 1000 passed again, 1002 n/a */
  CHECK_INT(tmp_count(mgr.alerts, "\"id\":\"1000\",\"title\":\"Flag 1000 is ok\""), 3);
  CHECK_INT(tmp_count(mgr.alerts, "\"result\":\"failed\",\"previous_result\":\"passed\""), 2);
  CHECK_INT(tmp_count(mgr.alerts, "\"result\":\"passed\",\"previous_result\":\"failed\""), 1);
  CHECK_INT(tmp_count(mgr.alerts, "\"result\":\"not applicable\",\"reason\":\"Could not open file"), 1);

  /* A crash of the manager (kill -9) right after the agent sent a change. */
  e2e_flag(&ag, 1003, "no");
  REQUIRE(e2e_agent_rescan(&ag) == 0);
  e2e_manager_stop(&mgr, SIGKILL);
  e2e_flag(&ag, 1001, "ok");
  REQUIRE(e2e_agent_rescan(&ag) == 0);
  REQUIRE(e2e_manager_start(&mgr) == 0);
  REQUIRE(e2e_wait_converged(&mgr, &ag, "seed") == 0);
  CHECK(e2e_same_checks(&mgr, &ag, "seed"));
  CHECK_INT(tmp_count(mgr.alerts, "\"id\":\"1003\""), 2); /* first seen, then failed */
  CHECK_INT(tmp_count(mgr.alerts, "\"id\":\"1001\""), 3); /* first seen, failed, passed */
}

static void test_daemons_exit_cleanly(void) { CHECK(e2e_daemons_ok()); }

int main(void) {
  e2e_setup(&env, "e2e-outage");
  RUN(test_outage);
  e2e_agent_stop(&ag, SIGTERM);
  e2e_manager_stop(&mgr, SIGTERM);
  RUN(test_daemons_exit_cleanly);
  e2e_teardown(&env, test_failed_);
  return test_report();
}
