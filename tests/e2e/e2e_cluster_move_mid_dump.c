/* e2e_cluster_move_mid_dump.c — two managers on one PostgreSQL database; an agent moves from A to
 * B in the middle of a dump. The agent's policy has 4,000 checks; A drops the last one of the
 * agent's first report in transit (test_drop_check), so the summary's results hash differs from
 * A's and A requests a dump of all 4,000. As soon as A's counters in the store show dump checks
 * applied, A is frozen (SIGSTOP: it can commit nothing more); the store then proves the dump is
 * unfinished (no dump end, fewer than 4,000 dump checks, the dropped check still missing) and A is
 * killed (SIGKILL), which ends its database session and frees its claim on the agent. The agent
 * fails over to B and resumes from its outbox; B's view converges (the agent's results hash, every
 * check with the agent's result), and over both managers' alerts files every check is alerted
 * exactly once — the dropped one included — and nothing twice. */
#include <signal.h>

#include "harness.h"
#include "test.h"
#include "tmpdir.h"

#define NCHECKS 4000
#define FIRST_ID 1000
#define LAST_ID (FIRST_ID + NCHECKS - 1)

static e2e_env env;
static e2e_manager ma, mb;
static e2e_agent ag;

/* The agent's policy "big": checks FIRST_ID..LAST_ID over its fixture files, a third passing, a
 * third failing, a third not applicable. */
static void install_big_policy(void) {
  static int ids[NCHECKS];
  for (int i = 0; i < NCHECKS; i++) {
    ids[i] = FIRST_ID + i;
    e2e_flag(&ag, ids[i], i % 3 == 0 ? "ok" : i % 3 == 1 ? "no" : NULL);
  }
  char yml[PATH_MAX + 32], tnb[PATH_MAX + 32];
  e2e_join(yml, sizeof yml, ag.dir, "big.yml");
  e2e_join(tnb, sizeof tnb, ag.bundles, "big.tnb");
  e2e_policy_write(yml, "big", ag.fx, ids, NCHECKS, NULL);
  e2e_compile(&env, yml, tnb, "release", 1);
}

typedef struct dump_seen {
  mstore *st;
  mstore_agent a;
} dump_seen;

static int dump_started(void *arg) {
  dump_seen *d = arg;
  int found = 0;
  return mstore_agent_get(d->st, "201", &d->a, &found) == TN_OK && found && d->a.c.dump_checks > 0;
}

static void test_move_mid_dump(void) {
  /* A commits every 2 frames (100 checks): the dump spans 40 batches, a wide window to stop it in. */
  char conf_a[96];
  snprintf(conf_a, sizeof conf_a, "test_drop_check = %d\nframes_per_turn = 2\n", LAST_ID);
  e2e_manager_init(&ma, &env, "a", conf_a);
  e2e_manager_init(&mb, &env, "b", NULL);
  REQUIRE(e2e_manager_start(&ma) == 0);
  REQUIRE(e2e_manager_start(&mb) == 0);
  /* Small CheckDeltas messages: the dump is 80 of them, so it is applied over many batches. */
  e2e_agent_init(&ag, &env, "201", ma.port, "batch_checks = 50\n");
  const e2e_manager *list[] = {&ma, &mb};
  e2e_agent_managers(&ag, list, 2);
  install_big_policy();
  REQUIRE(e2e_agent_start(&ag) == 0);

  char line[256];
  snprintf(line, sizeof line, "TEST: dropping check %d of policy 'big' from agent '201' in transit", LAST_ID);
  REQUIRE(e2e_wait_text(ma.log, line, 1, E2E_WAIT_MS) == 0);
  REQUIRE(e2e_wait_text(ma.log, "Scan result integrity failed for policy 'big' of agent '201'", 1,
                        E2E_WAIT_MS) == 0);
  REQUIRE(e2e_wait_text(ag.log, "Integration checksum failed for policy 'big'", 1, E2E_WAIT_MS) == 0);

  /* Freeze A as soon as it applied part of the dump. */
  char err[512];
  dump_seen d;
  memset(&d, 0, sizeof d);
  d.st = mstore_open(ma.db, 1, 0, err, sizeof err);
  REQUIRE(d.st);
  int started = e2e_wait(dump_started, &d, E2E_WAIT_MS);
  if (started) kill(ma.pid, SIGSTOP);
  REQUIRE(started);
  /* A commits nothing more: what the store holds now is where the dump stopped. */
  int found = 0;
  REQUIRE(mstore_agent_get(d.st, "201", &d.a, &found) == TN_OK && found);
  char result[16];
  int have_last = 1;
  REQUIRE(mstore_check_get(d.st, "201", "big", LAST_ID, result, &have_last) == TN_OK);
  char mh[65];
  size_t stored = 0;
  REQUIRE(mstore_results_hash(d.st, "201", "big", mh, &stored) == TN_OK);
  mstore_close(d.st);
  printf("A stopped after applying %lld of %d dump checks (%zu checks stored, %lld dump ends)\n",
         (long long)d.a.c.dump_checks, NCHECKS, stored, (long long)d.a.c.dump_ends);
  CHECK_INT(d.a.c.dump_ends, 0);
  CHECK(d.a.c.dump_checks < NCHECKS);
  CHECK_INT(have_last, 0); /* the dropped check is still missing: only the rest of the dump brings it */
  CHECK_INT(stored, NCHECKS - 1);
  REQUIRE(d.a.c.dump_ends == 0 && !have_last);

  e2e_manager_stop(&ma, SIGKILL);

  /* The agent moves to B, which ends up with exactly the agent's state. */
  REQUIRE(e2e_wait_text(mb.log, "Agent '201' connected from 127.0.0.1", 1, E2E_WAIT_MS) == 0);
  REQUIRE(e2e_wait_converged(&mb, &ag, "big") == 0);
  CHECK(e2e_same_checks(&mb, &ag, "big"));
  char ah[65];
  CHECK_INT(e2e_manager_hash(&mb, "201", "big", mh), NCHECKS);
  CHECK_INT(e2e_agent_hash(&ag, "big", ah), NCHECKS);
  CHECK_STR(mh, ah);
  mstore_counters c;
  REQUIRE(e2e_manager_counters(&mb, "201", &c, NULL));
  CHECK(c.dump_ends >= 1);

  /* Every check alerted once over both files, once every queued alert was written somewhere. */
  const char *files[] = {ma.alerts, mb.alerts};
  static e2e_alert_tally t;
  for (int i = 0; i < E2E_WAIT_MS / 50; i++) {
    REQUIRE(e2e_alerts_tally(files, 2, &t) == 0);
    if (t.checks >= NCHECKS && e2e_manager_outbox(&mb) == 0) break;
    usleep(50000);
  }
  REQUIRE(e2e_alerts_tally(files, 2, &t) == 0);
  CHECK_INT(e2e_manager_outbox(&mb), 0);
  CHECK_INT(e2e_alerts_duplicates(&t), 0);
  CHECK_INT(t.checks, NCHECKS); /* and no key twice: each of the NCHECKS checks once */
  snprintf(line, sizeof line, "\"check\":{\"id\":\"%d\"", LAST_ID);
  CHECK_INT(e2e_count_all(files, 2, line), 1);
  CHECK(t.summaries >= 1);
}

static void test_daemons_exit_cleanly(void) { CHECK(e2e_daemons_ok()); }

int main(void) {
  e2e_setup_pg(&env, "cluster-move");
  RUN(test_move_mid_dump);
  e2e_agent_stop(&ag, SIGTERM);
  e2e_manager_stop(&mb, SIGTERM);
  e2e_manager_stop(&ma, SIGKILL);
  RUN(test_daemons_exit_cleanly);
  e2e_teardown(&env, test_failed_);
  return test_report();
}
