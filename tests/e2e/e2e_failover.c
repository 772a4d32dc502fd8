/* e2e_failover.c — issue 13: an agent with several managers (`manager = A, B`). A is down when the
 * agent starts: it fails over to B, and B converges (its results hash equals the agent's). Then B
 * is killed (kill -9) and A comes back: the agent returns to A, which has never heard of it and
 * whose view converges from the agent's hash check at the new session (the resent summary makes A
 * ask for a dump), with every check alerted once, as first seen. A change scanned while on A
 * reaches A. Two independent SQLite managers: this is the agent-side behaviour; managers sharing
 * one PostgreSQL store are the harness's multi-manager scenarios. */
#include <stdio.h>

#include "harness.h"
#include "test.h"
#include "tmpdir.h"

static e2e_env env;
static e2e_manager ma, mb;
static e2e_agent ag;

static void test_failover_and_back(void) {
  e2e_manager_init(&ma, &env, "manager-a", NULL);
  e2e_manager_init(&mb, &env, "manager-b", NULL);
  /* A gets its port (kept for its restart), then goes away before the agent starts. */
  REQUIRE(e2e_manager_start(&ma) == 0);
  e2e_manager_stop(&ma, SIGTERM);
  REQUIRE(e2e_manager_start(&mb) == 0);
  char second[64];
  snprintf(second, sizeof second, "manager = 127.0.0.1:%d\n", mb.port); /* appended: A, B */
  e2e_agent_init(&ag, &env, "001", ma.port, second);
  e2e_agent_install_seed(&ag, &env, (const char *const[]){"ok", "ok", "no", "ok"});
  REQUIRE(e2e_agent_start(&ag) == 0);

  char a_addr[64], b_addr[64], line[256];
  snprintf(a_addr, sizeof a_addr, "127.0.0.1:%d", ma.port);
  snprintf(b_addr, sizeof b_addr, "127.0.0.1:%d", mb.port);
  snprintf(line, sizeof line, "managers %s, %s", a_addr, b_addr);
  CHECK(tmp_count(ag.log, line) == 1); /* the start line names both, in order */

  /* A refuses: one line saying so and where the agent goes next; then B serves it. */
  REQUIRE(e2e_wait_converged(&mb, &ag, "seed") == 0);
  CHECK(e2e_same_checks(&mb, &ag, "seed"));
  snprintf(line, sizeof line, "Cannot connect to manager %s: ", a_addr);
  CHECK(tmp_count(ag.log, line) >= 1);
  snprintf(line, sizeof line, "(next attempt: %s in ", b_addr);
  CHECK(tmp_count(ag.log, line) >= 1);
  snprintf(line, sizeof line, "Connected to manager %s", b_addr);
  CHECK(tmp_count(ag.log, line) == 1);

  /* A change while on B. */
  e2e_flag(&ag, 1002, "ok");
  REQUIRE(e2e_agent_rescan(&ag) == 0);
  REQUIRE(e2e_wait_converged(&mb, &ag, "seed") == 0);
  CHECK_INT(tmp_count(mb.alerts, "\"result\":\"passed\",\"previous_result\":\"failed\""), 1);

  /* B dies; A comes back on its port: the agent loses B and returns to A. */
  e2e_manager_stop(&mb, SIGKILL);
  REQUIRE(e2e_manager_start(&ma) == 0);
  snprintf(line, sizeof line, "Connected to manager %s", a_addr);
  REQUIRE(e2e_wait_text(ag.log, line, 1, E2E_WAIT_MS) == 0);
  REQUIRE(e2e_wait_converged(&ma, &ag, "seed") == 0);
  CHECK(e2e_same_checks(&ma, &ag, "seed"));
  snprintf(line, sizeof line, "Connection lost with manager %s: ", b_addr);
  CHECK(tmp_count(ag.log, line) >= 1);
  /* A learnt everything from the hash check: the summary (with the policy's metadata) and a dump,
   * each check alerted once as first seen. */
  CHECK(tmp_count(ma.log, "Agent '001' reports policy 'seed' for the first time") == 1);
  CHECK(tmp_count(ma.log, "Policy 'seed' of agent '001' is in sync after a dump of 4 checks") >= 1);
  for (int id = 1000; id <= 1003; id++) {
    char needle[64];
    snprintf(needle, sizeof needle, "\"id\":\"%d\",\"title\"", id);
    CHECK_INT(tmp_count(ma.alerts, needle), 1);
  }
  CHECK_INT(tmp_count(ma.alerts, "previous_result"), 0);

  /* A change while on A reaches A, alerted once. */
  e2e_flag(&ag, 1000, "no");
  REQUIRE(e2e_agent_rescan(&ag) == 0);
  REQUIRE(e2e_wait_converged(&ma, &ag, "seed") == 0);
  CHECK(e2e_same_checks(&ma, &ag, "seed"));
  CHECK_INT(tmp_count(ma.alerts, "\"result\":\"failed\",\"previous_result\":\"passed\""), 1);
}

static void test_daemons_exit_cleanly(void) { CHECK(e2e_daemons_ok()); }

int main(void) {
  e2e_setup(&env, "e2e-failover");
  RUN(test_failover_and_back);
  e2e_agent_stop(&ag, SIGTERM);
  e2e_manager_stop(&ma, SIGTERM);
  e2e_manager_stop(&mb, SIGTERM);
  RUN(test_daemons_exit_cleanly);
  e2e_teardown(&env, test_failed_);
  return test_report();
}
