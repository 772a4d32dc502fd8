/* e2e_cluster_query.c — two managers on one PostgreSQL database agree on what they know: three
 * agents (401 and 403 list manager a first, 402 b) report the seed policy with different results;
 * once every agent converged, `tenet-manager query` run with either manager's configuration prints
 * byte for byte the same agents (with their policies and connections), checks, results hashes and
 * traffic counters — and they are the agents' states. */
#include <signal.h>

#include "harness.h"
#include "test.h"
#include "tmpdir.h"

#define NAGENTS 3

static e2e_env env;
static e2e_manager ma, mb;
static e2e_agent ag[NAGENTS];

/* Run the same query against both managers: both exit with status want and print the same bytes,
 * which out receives. */
static void same_answer(const char *const args[], int want, char *out, size_t cap) {
  static char other[65536];
  const char *argv[16] = {env.manager_bin, "-c", ma.conf, "query"};
  size_t n = 4;
  for (size_t i = 0; args[i] && n < 15; i++)
    argv[n++] = args[i];
  argv[n] = NULL;
  CHECK_INT(e2e_run(argv, out, cap), want);
  argv[2] = mb.conf;
  CHECK_INT(e2e_run(argv, other, sizeof other), want);
  if (strcmp(out, other) != 0)
    fprintf(stderr, "query %s differs:\n--- manager a\n%s--- manager b\n%s", args[0], out, other);
  CHECK_STR(out, other);
}

static void test_query(void) {
  e2e_manager_init(&ma, &env, "a", NULL);
  e2e_manager_init(&mb, &env, "b", NULL);
  REQUIRE(e2e_manager_start(&ma) == 0);
  REQUIRE(e2e_manager_start(&mb) == 0);
  static const char *const values[NAGENTS][4] = {
      {"ok", "no", "no", "ok"}, {"ok", "ok", "ok", "ok"}, {"no", NULL, "no", "ok"}};
  for (int i = 0; i < NAGENTS; i++) {
    char id[8];
    snprintf(id, sizeof id, "%d", 401 + i);
    const e2e_manager *list[] = {i == 1 ? &mb : &ma, i == 1 ? &ma : &mb};
    e2e_agent_init(&ag[i], &env, id, list[0]->port, NULL);
    e2e_agent_managers(&ag[i], list, 2);
    e2e_agent_install_seed(&ag[i], &env, values[i]);
    REQUIRE(e2e_agent_start(&ag[i]) == 0);
  }
  for (int i = 0; i < NAGENTS; i++) {
    REQUIRE(e2e_wait_converged(&ma, &ag[i], "seed") == 0);
    CHECK(e2e_same_checks(&mb, &ag[i], "seed"));
  }
  /* Quiet: every summary applied (the counters stop moving once each agent's first scan is in). */
  for (int i = 0; i < NAGENTS; i++) {
    mstore_counters c = {0};
    for (int k = 0; k < E2E_WAIT_MS / 50 && c.summaries < 1; k++) {
      e2e_manager_counters(&ma, ag[i].id, &c, NULL);
      if (c.summaries < 1) usleep(50000);
    }
    CHECK(c.summaries >= 1);
  }

  static char out[65536];
  same_answer((const char *const[]){"agents", NULL}, 0, out, sizeof out);
  for (int i = 0; i < NAGENTS; i++) {
    char line[128];
    snprintf(line, sizeof line, "agent %s  (version", ag[i].id);
    CHECK(strstr(out, line) != NULL);
  }
  CHECK(strstr(out, "score  50%") != NULL);    /* 401: 2 of 4 */
  CHECK(strstr(out, "score 100%") != NULL);    /* 402 */
  CHECK(strstr(out, "not connected") == NULL); /* every agent is served by one of them */
  same_answer((const char *const[]){"agents", "--json", NULL}, 0, out, sizeof out);
  CHECK(strstr(out, "\"agent_id\":\"403\"") != NULL);
  for (int i = 0; i < NAGENTS; i++) {
    same_answer((const char *const[]){"checks", ag[i].id, "seed", NULL}, 0, out, sizeof out);
    same_answer((const char *const[]){"checks", ag[i].id, "seed", "--json", NULL}, 0, out, sizeof out);
    char ah[65];
    REQUIRE(e2e_agent_hash(&ag[i], "seed", ah) == 4);
    same_answer((const char *const[]){"hash", ag[i].id, "seed", NULL}, 0, out, sizeof out);
    CHECK(strncmp(out, ah, 64) == 0);
  }
  same_answer((const char *const[]){"checks", "402", "seed", NULL}, 0, out, sizeof out);
  CHECK(strstr(out, "1001       passed          Flag 1001 is ok") != NULL);
  same_answer((const char *const[]){"checks", "403", "seed", NULL}, 0, out, sizeof out);
  CHECK(strstr(out, "1001       not applicable") != NULL);
  same_answer((const char *const[]){"stats", "--json", NULL}, 0, out, sizeof out);
  CHECK(strstr(out, "\"delta_checks\":4") != NULL);
  same_answer((const char *const[]){"checks", "401", "nope", NULL}, 1, out, sizeof out);
  CHECK(strstr(out, "no results for agent '401' policy 'nope'") != NULL);
}

static void test_daemons_exit_cleanly(void) { CHECK(e2e_daemons_ok()); }

int main(void) {
  e2e_setup_pg(&env, "cluster-query");
  RUN(test_query);
  for (int i = 0; i < NAGENTS; i++)
    e2e_agent_stop(&ag[i], SIGTERM);
  e2e_manager_stop(&ma, SIGTERM);
  e2e_manager_stop(&mb, SIGTERM);
  RUN(test_daemons_exit_cleanly);
  e2e_teardown(&env, test_failed_);
  return test_report();
}
