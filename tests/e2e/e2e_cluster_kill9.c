/* e2e_cluster_kill9.c — three managers on one PostgreSQL database, six agents spread over them
 * (101-104 list m1 first, 105 m2, 106 m3). While five agents' results change — their rescans
 * running and their messages in flight — m1, which holds four of them, is killed with `kill -9`:
 * its database session ends and frees its claims, and whatever it committed but had not yet written
 * to its alerts file stays queued in the store. The agents fail over to m2/m3 and resume from their
 * outboxes. m1 is started again (as systemd would): if the kill landed inside an alert drain (its
 * lines written, the rows not yet deleted), m1 recovers its claim from its own alerts file, so
 * those lines are neither lost nor repeated. After one more change on every agent, every manager's
 * view converges to every agent's
 * (same results hash, same checks), the store's alert outbox is empty, and the alert lines of all
 * three alerts files, counted per (agent, check, scan), are exactly the expected ones, each once:
 * 4 first-seen checks per agent, 2 changes on each of 101-105, 1 on each agent — 40 check alerts —
 * and one summary per scan that changed something (17). */
#include <signal.h>

#include "harness.h"
#include "test.h"
#include "tmpdir.h"

#define NAGENTS 6

static e2e_env env;
static e2e_manager m[3];
static e2e_agent ag[NAGENTS];

static int scans_finished(const e2e_agent *a) {
  return tmp_count(a->log, "Security Configuration Assessment scan finished.");
}

static void test_kill9(void) {
  for (int i = 0; i < 3; i++) {
    char name[8];
    snprintf(name, sizeof name, "m%d", i + 1);
    e2e_manager_init(&m[i], &env, name, NULL);
    REQUIRE(e2e_manager_start(&m[i]) == 0);
  }
  for (int i = 0; i < NAGENTS; i++) {
    char id[8];
    snprintf(id, sizeof id, "%d", 101 + i);
    int first = i < 4 ? 0 : i - 3; /* 101-104: m1, 105: m2, 106: m3 */
    const e2e_manager *list[] = {&m[first], &m[(first + 1) % 3], &m[(first + 2) % 3]};
    e2e_agent_init(&ag[i], &env, id, list[0]->port, NULL);
    e2e_agent_managers(&ag[i], list, 3);
    e2e_agent_install_seed(&ag[i], &env, (const char *const[]){"ok", "ok", "ok", "ok"});
    REQUIRE(e2e_agent_start(&ag[i]) == 0);
  }
  for (int i = 0; i < NAGENTS; i++)
    REQUIRE(e2e_wait_converged(&m[0], &ag[i], "seed") == 0);
  for (int i = 0; i < 4; i++) {
    char line[128];
    snprintf(line, sizeof line, "Agent '%s' connected from 127.0.0.1", ag[i].id);
    CHECK_INT(tmp_count(m[0].log, line), 1); /* m1 holds 101-104 */
  }

  /* Results change on 101-105; m1 dies while the first of them reports and the others scan. */
  int before[NAGENTS];
  for (int i = 0; i < 5; i++) {
    before[i] = scans_finished(&ag[i]);
    e2e_flag(&ag[i], 1000, "no");
    e2e_flag(&ag[i], 1001, "no");
    kill(ag[i].pid, SIGUSR1);
  }
  REQUIRE(e2e_wait_text(ag[0].log, "Security Configuration Assessment scan finished.", before[0] + 1,
                        E2E_WAIT_MS) == 0);
  e2e_manager_stop(&m[0], SIGKILL);
  for (int i = 1; i < 5; i++)
    REQUIRE(e2e_wait_text(ag[i].log, "Security Configuration Assessment scan finished.", before[i] + 1,
                          E2E_WAIT_MS) == 0);

  /* m1's agents fail over to m2 (or m3) and converge there. */
  const char *logs[] = {m[1].log, m[2].log};
  for (int i = 0; i < 4; i++) {
    char line[128];
    snprintf(line, sizeof line, "Agent '%s' connected from 127.0.0.1", ag[i].id);
    for (int k = 0; k < E2E_WAIT_MS / 50 && e2e_count_all(logs, 2, line) < 1; k++)
      usleep(50000);
    CHECK(e2e_count_all(logs, 2, line) >= 1);
  }
  for (int i = 0; i < NAGENTS; i++)
    REQUIRE(e2e_wait_converged(&m[1], &ag[i], "seed") == 0);

  /* m1 comes back (same node name, same alerts file): it recovers any drain the kill cut short. */
  REQUIRE(e2e_manager_start(&m[0]) == 0);

  /* One more change everywhere, served by the survivors. */
  for (int i = 0; i < NAGENTS; i++) {
    e2e_flag(&ag[i], 1002, "no");
    REQUIRE(e2e_agent_rescan(&ag[i]) == 0);
  }
  for (int i = 0; i < NAGENTS; i++)
    for (int k = 0; k < 3; k++) {
      REQUIRE(e2e_wait_converged(&m[k], &ag[i], "seed") == 0);
      CHECK(e2e_same_checks(&m[k], &ag[i], "seed"));
    }

  /* Alerts: wait until every queued one was written (by a survivor, m1's included), then count. */
  const char *files[] = {m[0].alerts, m[1].alerts, m[2].alerts};
  static e2e_alert_tally t;
  for (int k = 0; k < E2E_WAIT_MS / 50; k++) {
    REQUIRE(e2e_alerts_tally(files, 3, &t) == 0);
    if (t.checks >= 40 && t.summaries >= 17 && e2e_manager_outbox(&m[1]) == 0) break;
    usleep(50000);
  }
  REQUIRE(e2e_alerts_tally(files, 3, &t) == 0);
  printf("alerts: %d lines (%d checks, %d summaries) in m1 %d, m2 %d, m3 %d; %d torn line(s)\n", t.lines,
         t.checks, t.summaries, e2e_lines(m[0].alerts), e2e_lines(m[1].alerts), e2e_lines(m[2].alerts),
         t.torn);
  printf("m1 after its restart: %d interrupted drain(s) recovered\n",
         tmp_count(m[0].log, "Alerts: recovered an interrupted drain of"));
  CHECK_INT(e2e_manager_outbox(&m[1]), 0);
  CHECK_INT(e2e_alerts_duplicates(&t), 0);
  CHECK_INT(t.checks, 40);
  CHECK_INT(t.summaries, 17);
  for (int i = 0; i < NAGENTS; i++) {
    int checks = 0, summaries = 0;
    for (size_t k = 0; k < t.n; k++) {
      if (strcmp(t.key[k].agent, ag[i].id) != 0) continue;
      if (strcmp(t.key[k].type, "check") == 0)
        checks += t.key[k].count;
      else
        summaries += t.key[k].count;
    }
    CHECK_INT(checks, i < 5 ? 7 : 5);
    CHECK_INT(summaries, i < 5 ? 3 : 2);
  }
  /* each change is there, once: 1000 and 1001 failed (101-105), 1002 failed (all) */
  CHECK_INT(e2e_count_all(files, 3, "\"result\":\"failed\",\"previous_result\":\"passed\""), 5 * 2 + NAGENTS);
}

static void test_daemons_exit_cleanly(void) { CHECK(e2e_daemons_ok()); }

int main(void) {
  e2e_setup_pg(&env, "cluster-kill9");
  RUN(test_kill9);
  for (int i = 0; i < NAGENTS; i++)
    e2e_agent_stop(&ag[i], SIGTERM);
  e2e_manager_stop(&m[1], SIGTERM);
  e2e_manager_stop(&m[2], SIGTERM);
  e2e_manager_stop(&m[0], SIGTERM);
  RUN(test_daemons_exit_cleanly);
  e2e_teardown(&env, test_failed_);
  return test_report();
}
