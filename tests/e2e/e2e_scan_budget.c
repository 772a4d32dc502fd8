/* e2e_scan_budget.c — the agent's scan_budget option: a real agent with scan_budget = 1s runs a
 * policy of two checks whose commands sleep 20 and 21 s. Each command is stopped when the budget
 * runs out (or not started after it), both checks are not applicable with the budget's reason,
 * the agent logs a warning, and the cycle takes seconds, not minutes. */
#include <stdio.h>
#include <time.h>

#include "harness.h"
#include "test.h"
#include "tmpdir.h"

static e2e_env env;
static e2e_manager mgr;
static e2e_agent ag;

static void test_budget(void) {
  e2e_manager_init(&mgr, &env, "manager", NULL);
  REQUIRE(e2e_manager_start(&mgr) == 0);
  e2e_agent_init(&ag, &env, "001", mgr.port, "scan_budget = 1s\n");
  char yml[PATH_MAX + 32], tnb[PATH_MAX + 64];
  e2e_join(yml, sizeof yml, env.dir, "slow.yml");
  FILE *f = fopen(yml, "w");
  REQUIRE(f);
  fputs(
      "policy:\n  id: \"slow\"\n  file: \"slow.yml\"\n  name: \"slow\"\n  description: \"d\"\n"
      "checks:\n"
      "  - id: 1\n    title: \"slow command\"\n    condition: all\n    rules:\n      - 'c:sleep 20 -> r:x'\n"
      "  - id: 2\n    title: \"after it\"\n    condition: all\n    rules:\n      - 'c:sleep 21 -> r:x'\n",
      f);
  fclose(f);
  e2e_join(tnb, sizeof tnb, ag.bundles, "slow.tnb");
  e2e_compile(&env, yml, tnb, "release", 1);
  time_t t0 = time(NULL);
  REQUIRE(e2e_agent_start(&ag) == 0);
  REQUIRE(e2e_wait_text(ag.log, "Security Configuration Assessment scan finished.", 1, E2E_WAIT_MS) == 0);
  CHECK(time(NULL) - t0 < 15);
  CHECK(e2e_wait_text(ag.log, "Scan time budget of 1 s exceeded: not evaluated: raise scan_budget", 1,
                      E2E_WAIT_MS) == 0);
  CHECK(e2e_wait_text(ag.log, "0 passed, 0 failed, 2 not applicable", 1, E2E_WAIT_MS) == 0);
  REQUIRE(e2e_wait_converged(&mgr, &ag, "slow") == 0);
}

static void test_daemons_exit_cleanly(void) { CHECK(e2e_daemons_ok()); }

int main(void) {
  e2e_setup(&env, "e2e-budget");
  RUN(test_budget);
  e2e_agent_stop(&ag, SIGTERM);
  e2e_manager_stop(&mgr, SIGTERM);
  RUN(test_daemons_exit_cleanly);
  e2e_teardown(&env, test_failed_);
  return test_report();
}
