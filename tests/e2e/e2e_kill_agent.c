/* e2e_kill_agent.c — scenario 6: kill -9 of the agent
 *   mid-scan: while a slow check runs (a 3 s command), nothing of the unfinished scan is stored
 *     or sent; after a restart the agent scans again and the stores converge;
 *   mid-send: the manager is frozen (SIGSTOP) so the agent's frames sit in the socket unread and
 *     unacknowledged; the agent is killed, the manager resumes and applies what it had received;
 *     the restarted agent sends the same rows again and the manager skips them by seq — every
 *     change alerted exactly once, stores equal. */
#include <signal.h>

#include "agent/store.h"
#include "harness.h"
#include "test.h"
#include "tmpdir.h"

static e2e_env env;
static e2e_manager mgr;
static e2e_agent ag;

static size_t outbox_rows(const e2e_agent *a) {
  char err[512];
  agent_store *s = agent_store_open(a->db, err, sizeof err);
  size_t n = 0, bytes = 0;
  if (s) agent_store_outbox_stats(s, &n, &bytes);
  agent_store_close(s);
  return n;
}

static void write_policy(const char *yml) {
  FILE *f = fopen(yml, "w");
  REQUIRE(f);
  fprintf(f,
          "policy:\n  id: \"slow\"\n  file: \"slow.yml\"\n  name: \"Slow policy\"\n  description: \"One slow "
          "check.\"\n"
          "variables:\n  $fx: %s\n"
          "checks:\n",
          ag.fx);
  for (int id = 1000; id < 1004; id++)
    fprintf(f,
            "  - id: %d\n    title: \"Flag %d is ok\"\n    condition: all\n    rules:\n      - 'f:$fx/flag%d "
            "-> r:^ok'\n",
            id, id, id);
  fprintf(f, "  - id: 2000\n    title: \"A slow command\"\n    condition: all\n    rules:\n"
             "      - 'c:sleep 3 -> r:never'\n");
  fclose(f);
}

static void test_kill_mid_scan(void) {
  e2e_manager_init(&mgr, &env, "manager", NULL);
  REQUIRE(e2e_manager_start(&mgr) == 0);
  e2e_agent_init(&ag, &env, "001", mgr.port, NULL);
  char yml[PATH_MAX + 32], tnb[PATH_MAX + 32];
  e2e_join(yml, sizeof yml, ag.dir, "slow.yml");
  e2e_join(tnb, sizeof tnb, ag.bundles, "slow.tnb");
  write_policy(yml);
  e2e_compile(&env, yml, tnb, "release", 1);
  for (int id = 1000; id < 1004; id++)
    e2e_flag(&ag, id, "ok");
  REQUIRE(e2e_agent_start(&ag) == 0);
  REQUIRE(e2e_wait_converged(&mgr, &ag, "slow") == 0);
  char before[65];
  e2e_agent_hash(&ag, "slow", before);

  e2e_flag(&ag, 1000, "no");
  int starts = tmp_count(ag.log, "Starting evaluation of policy");
  kill(ag.pid, SIGUSR1);
  REQUIRE(e2e_wait_text(ag.log, "Starting evaluation of policy", starts + 1, E2E_WAIT_MS) == 0);
  usleep(500000); /* inside the 3 s command */
  e2e_agent_stop(&ag, SIGKILL);
  char after[65];
  e2e_agent_hash(&ag, "slow", after);
  CHECK_STR(after, before); /* the unfinished scan left nothing */
  CHECK_INT(outbox_rows(&ag), 0);

  REQUIRE(e2e_agent_start(&ag) == 0); /* scans on start */
  REQUIRE(e2e_wait_text(mgr.alerts, "\"result\":\"failed\",\"previous_result\":\"passed\"", 1, E2E_WAIT_MS) ==
          0);
  REQUIRE(e2e_wait_converged(&mgr, &ag, "slow") == 0);
  CHECK(e2e_same_checks(&mgr, &ag, "slow"));
}

static void test_kill_mid_send(void) {
  REQUIRE(e2e_wait_converged(&mgr, &ag, "slow") == 0);
  mstore_counters c0;
  REQUIRE(e2e_manager_counters(&mgr, "001", &c0, NULL));
  REQUIRE(e2e_wait_text(ag.log, "Security Configuration Assessment scan finished.", 2, E2E_WAIT_MS) == 0);

  kill(mgr.pid, SIGSTOP);
  e2e_flag(&ag, 1001, "no");
  int sent = tmp_count(ag.log, "DEBUG: Sending scan_summary");
  int wrote = tmp_count(ag.log, "DEBUG: Wrote ");
  REQUIRE(e2e_agent_rescan(&ag) == 0);
  REQUIRE(e2e_wait_text(ag.log, "DEBUG: Sending scan_summary", sent + 1, E2E_WAIT_MS) == 0);
  /* the frames are in the socket (the manager cannot have read them: it is stopped) */
  REQUIRE(e2e_wait_text(ag.log, "DEBUG: Wrote ", wrote + 1, E2E_WAIT_MS) == 0);
  CHECK(outbox_rows(&ag) >= 2); /* sent, not acknowledged */
  e2e_agent_stop(&ag, SIGKILL);
  kill(mgr.pid, SIGCONT);
  /* the manager applies what was in its socket */
  REQUIRE(e2e_wait_text(mgr.alerts, "flag1001\"],\"result\":\"failed\",\"previous_result\":\"passed\"", 1,
                        E2E_WAIT_MS) == 0);
  CHECK(outbox_rows(&ag) >= 2);

  REQUIRE(e2e_agent_start(&ag) == 0);
  REQUIRE(e2e_wait_converged(&mgr, &ag, "slow") == 0);
  /* the resent rows were recognised */
  mstore_counters c1;
  for (int i = 0; i < 600; i++) {
    e2e_manager_counters(&mgr, "001", &c1, NULL);
    if (c1.duplicates - c0.duplicates >= 2) break;
    usleep(50000);
  }
  CHECK(c1.duplicates - c0.duplicates >= 2);
  CHECK(e2e_same_checks(&mgr, &ag, "slow"));
  CHECK_INT(tmp_count(mgr.alerts, "flag1001\"],\"result\":\"failed\",\"previous_result\":\"passed\""), 1);
  CHECK_INT(tmp_count(mgr.log, "Requesting DB dump"), 0);
}

static void test_daemons_exit_cleanly(void) { CHECK(e2e_daemons_ok()); }

int main(void) {
  e2e_setup(&env, "e2e-kill");
  RUN(test_kill_mid_scan);
  RUN(test_kill_mid_send);
  e2e_agent_stop(&ag, SIGTERM);
  e2e_manager_stop(&mgr, SIGTERM);
  RUN(test_daemons_exit_cleanly);
  e2e_teardown(&env, test_failed_);
  return test_report();
}
