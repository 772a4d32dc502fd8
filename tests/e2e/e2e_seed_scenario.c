/* e2e_seed_scenario.c — scenario 3, the seed document's example: the manager misses check 1002's
 * update (test_drop_check = 1002 drops it once in transit), so for checks 1000-1003 = passed,
 * failed, failed, passed the agent's results hash is 1642ab1d… and the manager's b43037ca… (1002
 * missing); the manager logs the mismatch, requests a dump, and both stores end up equal. */
#include "harness.h"
#include "test.h"
#include "tmpdir.h"

#define AGENT_HASH "1642ab1dc478052ac3556b5e700cd82adb69728008301882b9cbee0696ff2c84"
#define MANAGER_HASH "b43037ca28d95a69b6f9e03fcd826d2b253a6bb1b6ad28c4ae57a3a766ace610"

static e2e_env env;
static e2e_manager mgr;
static e2e_agent ag;

static void test_lost_update_heals(void) {
  e2e_manager_init(&mgr, &env, "manager", "test_drop_check = 1002\n");
  REQUIRE(e2e_manager_start(&mgr) == 0);
  e2e_agent_init(&ag, &env, "002", mgr.port, NULL);
  e2e_agent_install_seed(&ag, &env, (const char *const[]){"ok", "no", "no", "ok"}); /* the seed table */
  REQUIRE(e2e_agent_start(&ag) == 0);

  REQUIRE(e2e_wait_text(mgr.log, "TEST: dropping check 1002 of policy 'seed' from agent '002' in transit", 1,
                        E2E_WAIT_MS) == 0);
  char line[512];
  snprintf(
      line, sizeof line,
      "INFO: Scan result integrity failed for policy 'seed' of agent '002'. Hash from DB: '%s', hash from "
      "summary: '%s'. Requesting DB dump.",
      MANAGER_HASH, AGENT_HASH);
  REQUIRE(e2e_wait_text(mgr.log, line, 1, E2E_WAIT_MS) == 0);
  REQUIRE(e2e_wait_text(ag.log, "Integration checksum failed for policy 'seed'", 1, E2E_WAIT_MS) == 0);
  REQUIRE(e2e_wait_text(mgr.log, "Policy 'seed' of agent '002' is in sync after a dump of 4 checks", 1,
                        E2E_WAIT_MS) == 0);
  REQUIRE(e2e_wait_converged(&mgr, &ag, "seed") == 0);
  CHECK(e2e_same_checks(&mgr, &ag, "seed"));
  char mh[65];
  CHECK_INT(e2e_manager_hash(&mgr, "002", "seed", mh), 4);
  CHECK_STR(mh, AGENT_HASH);
  mstore_counters c;
  REQUIRE(e2e_manager_counters(&mgr, "002", &c, NULL));
  CHECK_INT(c.dropped_checks, 1);
  CHECK_INT(c.dumps_requested, 1);
  CHECK_INT(c.dump_checks, 4);
  CHECK_INT(c.dump_ends, 1);
  /* 1002 alerted once, when the dump brought it */
  CHECK_INT(tmp_count(mgr.alerts, "\"id\":\"1002\""), 1);

  /* The drop happens once: later changes of 1002 get through without a dump. */
  e2e_flag(&ag, 1002, "ok");
  REQUIRE(e2e_agent_rescan(&ag) == 0);
  REQUIRE(e2e_wait_text(mgr.alerts, "\"previous_result\":\"failed\"", 1, E2E_WAIT_MS) == 0);
  REQUIRE(e2e_wait_converged(&mgr, &ag, "seed") == 0);
  REQUIRE(e2e_manager_counters(&mgr, "002", &c, NULL));
  CHECK_INT(c.dumps_requested, 1);
}

static void test_daemons_exit_cleanly(void) { CHECK(e2e_daemons_ok()); }

int main(void) {
  e2e_setup(&env, "e2e-seed");
  RUN(test_lost_update_heals);
  e2e_agent_stop(&ag, SIGTERM);
  e2e_manager_stop(&mgr, SIGTERM);
  RUN(test_daemons_exit_cleanly);
  e2e_teardown(&env, test_failed_);
  return test_report();
}
