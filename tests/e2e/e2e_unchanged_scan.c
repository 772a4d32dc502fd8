/* e2e_unchanged_scan.c — scenario 2: once the manager holds the agent's state, a rescan that
 * changes nothing sends only the summary: one frame, no CheckDeltas, and few bytes (counted by the
 * manager per agent: frames and bytes of every frame it read, its 4-byte header included). A
 * rescan that changes one check sends exactly one check event. */
#include "harness.h"
#include "test.h"
#include "tmpdir.h"

static e2e_env env;
static e2e_manager mgr;
static e2e_agent ag;

typedef struct seen {
  const e2e_manager *m;
  int64_t summaries;
} seen;

static int summaries_at_least(void *arg) {
  seen *s = arg;
  mstore_counters c;
  e2e_manager_counters(s->m, "001", &c, NULL);
  return c.summaries >= s->summaries;
}

static void test_unchanged_rescan(void) {
  e2e_manager_init(&mgr, &env, "manager", NULL);
  REQUIRE(e2e_manager_start(&mgr) == 0);
  e2e_agent_init(&ag, &env, "001", mgr.port, NULL);
  e2e_agent_install_seed(&ag, &env, (const char *const[]){"ok", "no", "no", "ok"}); /* the seed table */
  REQUIRE(e2e_agent_start(&ag) == 0);
  REQUIRE(e2e_wait_converged(&mgr, &ag, "seed") == 0);
  seen s = {&mgr, 1};
  REQUIRE(e2e_wait(summaries_at_least, &s, E2E_WAIT_MS));
  int alerts0 = e2e_lines(mgr.alerts);

  for (int round = 0; round < 3; round++) {
    mstore_counters before, after;
    e2e_manager_counters(&mgr, "001", &before, NULL);
    REQUIRE(e2e_agent_rescan(&ag) == 0);
    s.summaries = before.summaries + 1;
    REQUIRE(e2e_wait(summaries_at_least, &s, E2E_WAIT_MS));
    e2e_manager_counters(&mgr, "001", &after, NULL);
    int64_t frames = after.frames_in - before.frames_in, bytes = after.bytes_in - before.bytes_in;
    printf("unchanged rescan %d: %lld frame(s), %lld bytes (frame header included; TLS adds 22 bytes per "
           "record)\n",
           round + 1, (long long)frames, (long long)bytes);
    CHECK_INT(frames, 1);
    CHECK_INT(after.deltas - before.deltas, 0);
    CHECK_INT(after.delta_checks - before.delta_checks, 0);
    CHECK_INT(after.policy_lists - before.policy_lists, 0);
    CHECK(bytes > 0 && bytes + 22 <= 200); /* the target counts TLS record overhead too */
    CHECK_INT(after.dumps_requested - before.dumps_requested, 0);
  }
  CHECK_INT(e2e_lines(mgr.alerts), alerts0); /* nothing changed: no alert */

  /* One check changes: one CheckDeltas carrying one check, then the summary. */
  mstore_counters before, after;
  e2e_manager_counters(&mgr, "001", &before, NULL);
  e2e_flag(&ag, 1001, "ok");
  REQUIRE(e2e_agent_rescan(&ag) == 0);
  s.summaries = before.summaries + 1;
  REQUIRE(e2e_wait(summaries_at_least, &s, E2E_WAIT_MS));
  e2e_manager_counters(&mgr, "001", &after, NULL);
  CHECK_INT(after.frames_in - before.frames_in, 2);
  CHECK_INT(after.deltas - before.deltas, 1);
  CHECK_INT(after.delta_checks - before.delta_checks, 1);
  REQUIRE(e2e_wait_converged(&mgr, &ag, "seed") == 0);
  REQUIRE(e2e_wait_text(mgr.alerts, "\"previous_result\":\"failed\"", 1, E2E_WAIT_MS) == 0);
  CHECK_INT(e2e_lines(mgr.alerts), alerts0 + 2); /* the check and the summary */
}

static void test_daemons_exit_cleanly(void) { CHECK(e2e_daemons_ok()); }

int main(void) {
  e2e_setup(&env, "e2e-unchanged");
  RUN(test_unchanged_rescan);
  e2e_agent_stop(&ag, SIGTERM);
  e2e_manager_stop(&mgr, SIGTERM);
  RUN(test_daemons_exit_cleanly);
  e2e_teardown(&env, test_failed_);
  return test_report();
}
