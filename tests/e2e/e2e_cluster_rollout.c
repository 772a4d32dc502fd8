/* e2e_cluster_rollout.c — a new bundle version rolled out by two managers that share one
 * PostgreSQL database and one bundle directory, while the agents move between them. Four agents
 * run the seed policy version 1 (301-302 list manager a first, 303-304 b). Version 2 (new titles:
 * a new bundle hash, the same results) is renamed into the shared directory; once the first offer
 * went out, a is stopped and restarted (its agents move to b), and once an agent installed the new
 * version, b (every agent moves to a) — offers, installs, flushes and dumps run while agents move,
 * wherever each of them happens to be. In the end every
 * agent runs version 2 (installed once, from a manager), the store holds version 2 and the agent's
 * results for each, and each agent's copy of the policy was flushed once and dumped once (one
 * "is outdated" line over both managers' logs, one DumpRequest in the shared counters); over both
 * alerts files the dump alerted each check once with its new title, plus one end-of-dump summary
 * per agent — no alert twice. */
#include <signal.h>
#include <stdio.h>

#include "harness.h"
#include "test.h"
#include "tmpdir.h"

#define NAGENTS 4

static e2e_env env;
static e2e_manager ma, mb;
static e2e_agent ag[NAGENTS];

static uint64_t stored_version(const e2e_manager *m, const char *agent) {
  char err[512];
  mstore *s = mstore_open(m->db, 1, 0, err, sizeof err);
  if (!s) return 0;
  mstore_policy p;
  int found = 0;
  uint64_t v = 0;
  if (mstore_policy_get(s, agent, "seed", &p, &found) == TN_OK && found) v = p.policy_version;
  mstore_policy_free(&p);
  mstore_close(s);
  return v;
}

typedef struct on_v2 {
  const e2e_manager *m;
  const e2e_agent *a;
} on_v2;

static int runs_v2(void *arg) {
  on_v2 *o = arg;
  return stored_version(o->m, o->a->id) == 2;
}

static void test_rollout(void) {
  char shared[PATH_MAX + 32];
  e2e_join(shared, sizeof shared, env.dir, "bundles");
  mkdir(shared, 0700);
  e2e_manager_init(&ma, &env, "a", NULL);
  e2e_manager_init(&mb, &env, "b", NULL);
  snprintf(ma.bundles, sizeof ma.bundles, "%s", shared);
  snprintf(mb.bundles, sizeof mb.bundles, "%s", shared);
  REQUIRE(e2e_manager_start(&ma) == 0);
  REQUIRE(e2e_manager_start(&mb) == 0);

  char fx[PATH_MAX + 32], v1[PATH_MAX + 32], v2[PATH_MAX + 32];
  e2e_seed_versions(&env, fx, v1, v2, sizeof fx);
  for (int i = 0; i < NAGENTS; i++) {
    char id[8], tnb[PATH_MAX + 64];
    snprintf(id, sizeof id, "%d", 301 + i);
    const e2e_manager *list[] = {i < 2 ? &ma : &mb, i < 2 ? &mb : &ma};
    e2e_agent_init(&ag[i], &env, id, list[0]->port, NULL);
    e2e_agent_managers(&ag[i], list, 2);
    snprintf(ag[i].fx, sizeof ag[i].fx, "%s", fx); /* one fixture directory: the bundles name it */
    const char *cp[] = {"/bin/cp", v1, e2e_join(tnb, sizeof tnb, ag[i].bundles, "seed.tnb"), NULL};
    REQUIRE(e2e_run(cp, NULL, 0) == 0);
  }
  e2e_flag(&ag[0], 1000, "ok");
  e2e_flag(&ag[0], 1001, "no");
  e2e_flag(&ag[0], 1002, "no");
  e2e_flag(&ag[0], 1003, "ok");
  for (int i = 0; i < NAGENTS; i++)
    REQUIRE(e2e_agent_start(&ag[i]) == 0);
  for (int i = 0; i < NAGENTS; i++)
    REQUIRE(e2e_wait_converged(&ma, &ag[i], "seed") == 0);
  const char *alerts[] = {ma.alerts, mb.alerts}, *logs[] = {ma.log, mb.log};
  for (int k = 0; k < E2E_WAIT_MS / 50 && e2e_count_all(alerts, 2, "\"type\":\"summary\"") < NAGENTS; k++)
    usleep(50000);
  REQUIRE(e2e_count_all(alerts, 2, "\"type\":\"summary\"") == NAGENTS);

  /* Publish version 2 (a rename: the managers never read half a file), then move the agents. */
  char staged[PATH_MAX + 64], dst[PATH_MAX + 64];
  e2e_join(staged, sizeof staged, env.dir, "seed-v2.staged");
  e2e_join(dst, sizeof dst, shared, "seed.tnb");
  const char *cp[] = {"/bin/cp", v2, staged, NULL};
  REQUIRE(e2e_run(cp, NULL, 0) == 0);
  REQUIRE(rename(staged, dst) == 0);
  /* The first offer went out: a stops (its agents move to b) and comes back. */
  for (int k = 0; k < E2E_WAIT_MS / 50 && e2e_count_all(logs, 2, "Offered policy 'seed' version 2") < 1; k++)
    usleep(50000);
  REQUIRE(e2e_count_all(logs, 2, "Offered policy 'seed' version 2") >= 1);
  e2e_manager_stop(&ma, SIGTERM);
  REQUIRE(e2e_manager_start(&ma) == 0);
  /* Some agent installed version 2: b stops (every agent moves to a) and comes back. */
  for (int k = 0; k < E2E_WAIT_MS / 50; k++) {
    int installed = 0;
    for (int i = 0; i < NAGENTS; i++)
      installed += tmp_count(ag[i].log, "Installed bundle for policy 'seed' version 2") > 0;
    if (installed) break;
    usleep(20000);
  }
  e2e_manager_stop(&mb, SIGTERM);
  REQUIRE(e2e_manager_start(&mb) == 0);

  for (int i = 0; i < NAGENTS; i++) {
    REQUIRE(e2e_wait_text(ag[i].log, "Installed bundle for policy 'seed' version 2 from the manager", 1,
                          E2E_WAIT_MS) == 0);
    on_v2 o = {&mb, &ag[i]};
    REQUIRE(e2e_wait(runs_v2, &o, E2E_WAIT_MS));
    REQUIRE(e2e_wait_converged(&mb, &ag[i], "seed") == 0);
  }
  for (int k = 0; k < E2E_WAIT_MS / 50 && e2e_count_all(alerts, 2, "\"type\":\"summary\"") < 2 * NAGENTS; k++)
    usleep(50000);
  for (int k = 0; k < E2E_WAIT_MS / 50 && e2e_manager_outbox(&ma) != 0; k++)
    usleep(50000);

  for (int i = 0; i < NAGENTS; i++) {
    CHECK(e2e_same_checks(&ma, &ag[i], "seed"));
    CHECK_INT(stored_version(&ma, ag[i].id), 2);
    CHECK_INT(tmp_count(ag[i].log, "Installed bundle for policy 'seed' version 2 from the manager"), 1);
    char line[160];
    snprintf(line, sizeof line, "INFO: Policy 'seed' information for agent '%s' is outdated.", ag[i].id);
    CHECK_INT(e2e_count_all(logs, 2, line), 1);
    mstore_counters c;
    REQUIRE(e2e_manager_counters(&ma, ag[i].id, &c, NULL));
    CHECK_INT(c.dumps_requested, 1);
    CHECK(c.dump_ends >= 1);
  }

  static e2e_alert_tally t;
  REQUIRE(e2e_alerts_tally(alerts, 2, &t) == 0);
  printf("alerts: %d lines (%d checks, %d summaries): a %d, b %d\n", t.lines, t.checks, t.summaries,
         e2e_lines(ma.alerts), e2e_lines(mb.alerts));
  CHECK_INT(e2e_manager_outbox(&ma), 0);
  CHECK_INT(e2e_alerts_duplicates(&t), 0);
  CHECK_INT(t.checks, 2 * 4 * NAGENTS); /* first seen, then the dump of version 2 */
  CHECK_INT(t.summaries, 2 * NAGENTS);  /* first scan, end of the dump */
  CHECK_INT(e2e_count_all(alerts, 2, " is ok (v2)\""), 4 * NAGENTS);
  char out[8192];
  const char *q[] = {env.manager_bin, "-c", ma.conf, "query", "agents", NULL};
  CHECK_INT(e2e_run(q, out, sizeof out), 0);
  const char *p = out;
  int v2rows = 0;
  while ((p = strstr(p, "seed                         v2"))) {
    v2rows++;
    p++;
  }
  CHECK_INT(v2rows, NAGENTS);
}

static void test_daemons_exit_cleanly(void) { CHECK(e2e_daemons_ok()); }

int main(void) {
  e2e_setup_pg(&env, "cluster-rollout");
  RUN(test_rollout);
  for (int i = 0; i < NAGENTS; i++)
    e2e_agent_stop(&ag[i], SIGTERM);
  e2e_manager_stop(&ma, SIGTERM);
  e2e_manager_stop(&mb, SIGTERM);
  RUN(test_daemons_exit_cleanly);
  e2e_teardown(&env, test_failed_);
  return test_report();
}
