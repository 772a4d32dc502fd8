/* e2e_new_bundle.c — scenario 4: a new bundle version of a policy (same results, new titles, so a
 * new bundle hash) is dropped into the manager's bundle directory. The manager offers it to the
 * connected agent, which verifies and installs it and rescans; the summary's new bundle hash makes
 * the manager log exactly
 *   INFO: Policy 'seed' information for agent '001' is outdated. Requested latest scan results.
 * flush its copy of the policy, request a dump and alert once for every check of the dump (then
 * for the end-of-dump summary). A second agent that connects later with the old version gets the
 * new one offered at its Hello. */
#include "harness.h"
#include "test.h"
#include "tmpdir.h"

static e2e_env env;
static e2e_manager mgr;
static e2e_agent ag, late;

static void setup_agent(e2e_agent *a, const char *id, const char *bundle_v1) {
  e2e_agent_init(a, &env, id, mgr.port, NULL);
  char tnb[PATH_MAX + 64];
  e2e_join(tnb, sizeof tnb, a->bundles, "seed.tnb");
  const char *cp[] = {"/bin/cp", bundle_v1, tnb, NULL};
  REQUIRE(e2e_run(cp, NULL, 0) == 0);
  e2e_flag(a, 1000, "ok");
  e2e_flag(a, 1001, "no");
  e2e_flag(a, 1002, "no");
  e2e_flag(a, 1003, "ok");
}

static void test_new_version(void) {
  e2e_manager_init(&mgr, &env, "manager", NULL);
  REQUIRE(e2e_manager_start(&mgr) == 0);
  /* Fixtures live at the same path for both agents' policies: one shared directory. */
  char fx[PATH_MAX + 32], v1[PATH_MAX + 32], v2[PATH_MAX + 32];
  e2e_seed_versions(&env, fx, v1, v2, sizeof fx);

  setup_agent(&ag, "001", v1);
  snprintf(ag.fx, sizeof ag.fx, "%s", fx);
  e2e_flag(&ag, 1000, "ok");
  e2e_flag(&ag, 1001, "no");
  e2e_flag(&ag, 1002, "no");
  e2e_flag(&ag, 1003, "ok");
  REQUIRE(e2e_agent_start(&ag) == 0);
  REQUIRE(e2e_wait_converged(&mgr, &ag, "seed") == 0);
  REQUIRE(e2e_wait_text(mgr.alerts, "\"type\":\"summary\"", 1, E2E_WAIT_MS) == 0);
  int alerts0 = e2e_lines(mgr.alerts);
  CHECK_INT(alerts0, 5);

  /* Publish version 2. */
  char dst[PATH_MAX + 64];
  e2e_join(dst, sizeof dst, mgr.bundles, "seed.tnb");
  const char *cp[] = {"/bin/cp", v2, dst, NULL};
  REQUIRE(e2e_run(cp, NULL, 0) == 0);
  REQUIRE(e2e_wait_text(mgr.log, "Offered policy 'seed' version 2 to agent '001'", 1, E2E_WAIT_MS) == 0);
  REQUIRE(e2e_wait_text(ag.log, "Installed bundle for policy 'seed' version 2 from the manager", 1,
                        E2E_WAIT_MS) == 0);
  REQUIRE(e2e_wait_text(
              mgr.log,
              "INFO: Policy 'seed' information for agent '001' is outdated. Requested latest scan results.",
              1, E2E_WAIT_MS) == 0);
  REQUIRE(e2e_wait_text(mgr.log, "Policy 'seed' of agent '001' is in sync after a dump of 4 checks", 1,
                        E2E_WAIT_MS) == 0);
  REQUIRE(e2e_wait_converged(&mgr, &ag, "seed") == 0);
  CHECK(e2e_same_checks(&mgr, &ag, "seed"));
  /* an alert for every check of the dump (the new titles), then the end-of-dump summary */
  REQUIRE(e2e_wait_text(mgr.alerts, "\"type\":\"summary\"", 2, E2E_WAIT_MS) == 0);
  CHECK_INT(tmp_count(mgr.alerts, " is ok (v2)\""), 4);
  CHECK_INT(e2e_lines(mgr.alerts), alerts0 + 5);
  char out[8192];
  const char *q[] = {env.manager_bin, "-c", mgr.conf, "query", "agents", NULL};
  CHECK_INT(e2e_run(q, out, sizeof out), 0);
  CHECK(strstr(out, "seed                         v2") != NULL);

  /* A late agent still on version 1 gets version 2 offered at its Hello. */
  setup_agent(&late, "003", v1);
  REQUIRE(e2e_agent_start(&late) == 0);
  REQUIRE(e2e_wait_text(late.log, "Installed bundle for policy 'seed' version 2 from the manager", 1,
                        E2E_WAIT_MS) == 0);
  REQUIRE(e2e_wait_text(mgr.log, "information for agent '003' is outdated", 1, E2E_WAIT_MS) == 0);
  REQUIRE(e2e_wait_converged(&mgr, &late, "seed") == 0);
  /* the agent replaced its old file in place (atomic rename): one bundle in its directory */
  CHECK_INT(tmp_count(late.log, "Bundles "), 0);
}

static void test_daemons_exit_cleanly(void) { CHECK(e2e_daemons_ok()); }

int main(void) {
  e2e_setup(&env, "e2e-bundle");
  RUN(test_new_version);
  e2e_agent_stop(&ag, SIGTERM);
  e2e_agent_stop(&late, SIGTERM);
  e2e_manager_stop(&mgr, SIGTERM);
  RUN(test_daemons_exit_cleanly);
  e2e_teardown(&env, test_failed_);
  return test_report();
}
