/* e2e_first_contact.c — scenario 1: a new agent meets a new manager. The agent scans its signed
 * bundle, sends every check (all new) and the summary; the manager ends up with exactly the
 * agent's state (same checks, same results, both results hashes equal — the seed's 1642ab1d… for
 * passed, failed, failed, passed), alerts once per check and once for the summary, and the query
 * command shows it to a person. */
#include "harness.h"
#include "test.h"
#include "tmpdir.h"

#define SEED_HASH "1642ab1dc478052ac3556b5e700cd82adb69728008301882b9cbee0696ff2c84"

static e2e_env env;
static e2e_manager mgr;
static e2e_agent ag;

static void test_first_contact(void) {
  e2e_manager_init(&mgr, &env, "manager", NULL);
  REQUIRE(e2e_manager_start(&mgr) == 0);
  e2e_agent_init(&ag, &env, "001", mgr.port, NULL);
  e2e_agent_install_seed(&ag, &env, (const char *const[]){"ok", "no", "no", "ok"}); /* the seed table */
  REQUIRE(e2e_agent_start(&ag) == 0);

  REQUIRE(e2e_wait_converged(&mgr, &ag, "seed") == 0);
  CHECK(e2e_same_checks(&mgr, &ag, "seed"));
  char mh[65], ah[65];
  CHECK_INT(e2e_manager_hash(&mgr, "001", "seed", mh), 4);
  CHECK_INT(e2e_agent_hash(&ag, "seed", ah), 4);
  CHECK_STR(mh, SEED_HASH);
  CHECK_STR(ah, SEED_HASH);

  /* one alert per check, then the summary */
  REQUIRE(e2e_wait_text(mgr.alerts, "\"type\":\"summary\"", 1, E2E_WAIT_MS) == 0);
  CHECK_INT(tmp_count(mgr.alerts, "\"type\":\"check\""), 4);
  CHECK_INT(tmp_count(mgr.alerts, "\"agent\":{\"id\":\"001\"}"), 5);
  CHECK_INT(tmp_count(mgr.alerts, "\"title\":\"Flag 1002 is ok\""), 1);
  CHECK_INT(tmp_count(mgr.alerts, "\"score\":\"50\""), 1);
  CHECK_INT(tmp_count(mgr.alerts, "\"policy_id\":\"seed\""), 1);
  /* no dump was needed */
  CHECK_INT(tmp_count(mgr.log, "Requesting DB dump"), 0);
  CHECK_INT(tmp_count(mgr.log, "Agent '001' connected from 127.0.0.1"), 1);
  CHECK_INT(tmp_count(ag.log, "Connected to manager 127.0.0.1"), 1);

  /* the query command, read-only beside the running manager */
  char out[16384];
  const char *q1[] = {env.manager_bin, "-c", mgr.conf, "query", "agents", NULL};
  CHECK_INT(e2e_run(q1, out, sizeof out), 0);
  CHECK(strstr(out, "agent 001") != NULL);
  CHECK(strstr(out, "seed") != NULL && strstr(out, "score  50%") != NULL);
  const char *q2[] = {env.manager_bin, "-c", mgr.conf, "query", "checks", "001", "seed", NULL};
  CHECK_INT(e2e_run(q2, out, sizeof out), 0);
  CHECK(strstr(out, "1002       failed          Flag 1002 is ok") != NULL);
  CHECK(strstr(out, SEED_HASH) != NULL);
  const char *q3[] = {env.manager_bin, "-c", mgr.conf, "query", "checks", "001", "seed", "--json", NULL};
  CHECK_INT(e2e_run(q3, out, sizeof out), 0);
  CHECK(strstr(out, "{\"id\":1003,\"result\":\"passed\"") != NULL);
  const char *q4[] = {env.manager_bin, "-c", mgr.conf, "query", "hash", "001", "seed", NULL};
  CHECK_INT(e2e_run(q4, out, sizeof out), 0);
  CHECK(strncmp(out, SEED_HASH, 64) == 0);
  const char *q5[] = {env.manager_bin, "-c", mgr.conf, "query", "checks", "001", "nope", NULL};
  CHECK_INT(e2e_run(q5, out, sizeof out), 1);
  CHECK(strstr(out, "no results for agent '001' policy 'nope'") != NULL);
  const char *q6[] = {env.manager_bin, "-c", mgr.conf, "query", "stats", "001", "--json", NULL};
  CHECK_INT(e2e_run(q6, out, sizeof out), 0);
  CHECK(strstr(out, "\"delta_checks\":4") != NULL);

  e2e_agent_stop(&ag, SIGTERM);
  e2e_manager_stop(&mgr, SIGTERM);
  CHECK_INT(tmp_count(ag.log, "INFO: Stopped"), 1);
  CHECK_INT(tmp_count(mgr.log, "INFO: Stopped"), 1);
}

static void test_daemons_exit_cleanly(void) { CHECK(e2e_daemons_ok()); }

int main(void) {
  e2e_setup(&env, "e2e-first");
  RUN(test_first_contact);
  e2e_agent_stop(&ag, SIGKILL);
  e2e_manager_stop(&mgr, SIGKILL);
  RUN(test_daemons_exit_cleanly);
  e2e_teardown(&env, test_failed_);
  return test_report();
}
