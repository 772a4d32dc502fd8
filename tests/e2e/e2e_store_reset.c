/* e2e_store_reset.c — issue 8 item 1: an agent whose state database is re-created while its clock
 * is a day behind numbers its outbox below what the manager applied. The agent's Hello carries the
 * new store's id: the manager forgets the old sequence numbers, asks for dumps, and both stores
 * converge (before, every message was acknowledged as a duplicate and the manager kept the old
 * results forever). Then a hand-driven agent replays a summary already applied whose hash differs
 * from the manager's checks: the skipped summary still triggers a dump request. */
#include "harness.h"
#include "scan.h"
#include "test.h"
#include "tmpdir.h"

static e2e_env env;
static e2e_manager mgr;
static e2e_agent ag;

static void remove_db(const char *db) {
  char p[PATH_MAX + 64];
  unlink(db);
  snprintf(p, sizeof p, "%s-wal", db);
  unlink(p);
  snprintf(p, sizeof p, "%s-shm", db);
  unlink(p);
}

static void test_recreated_store_behind(void) {
  e2e_manager_init(&mgr, &env, "manager", NULL);
  REQUIRE(e2e_manager_start(&mgr) == 0);
  e2e_agent_init(&ag, &env, "001", mgr.port, NULL);
  e2e_agent_install_seed(&ag, &env, (const char *const[]){"ok", "ok", "ok", "ok"});
  REQUIRE(e2e_agent_start(&ag) == 0);
  REQUIRE(e2e_wait_converged(&mgr, &ag, "seed") == 0);
  mstore_counters c;
  uint64_t seq_before = 0, seq_after = 0;
  REQUIRE(e2e_manager_counters(&mgr, "001", &c, &seq_before));
  REQUIRE(seq_before > 0);

  /* The database is lost and re-created with the wall clock one day behind; a result changed. */
  e2e_agent_stop(&ag, SIGTERM);
  remove_db(ag.db);
  e2e_flag(&ag, 1001, "no");
  setenv("TENET_TEST_CLOCK_OFFSET", "-86400", 1);
  REQUIRE(e2e_agent_start(&ag) == 0);
  unsetenv("TENET_TEST_CLOCK_OFFSET");

  REQUIRE(e2e_wait_text(mgr.log, "Agent '001' has a new state store", 1, E2E_WAIT_MS) == 0);
  REQUIRE(e2e_wait_converged(&mgr, &ag, "seed") == 0);
  CHECK(e2e_same_checks(&mgr, &ag, "seed"));
  /* the clock really was behind: the new store's numbers are below the old ones */
  REQUIRE(e2e_manager_counters(&mgr, "001", &c, &seq_after));
  CHECK(seq_after < seq_before);
  CHECK(seq_before - seq_after > 80000000ULL); /* ~a day of milliseconds */
  CHECK_INT(tmp_count(mgr.alerts, "\"id\":\"1001\",\"title\":\"Flag 1001 is ok\""), 2);
  /* 1001 failed is alerted: as a change, or as first seen when the dump of the empty new store
   * reached the manager before the first scan did (both leave the same state) */
  CHECK_INT(tmp_count(mgr.alerts, "\"result\":\"failed\""), 1);

  /* A restart with the same store is not a new store. */
  e2e_agent_stop(&ag, SIGTERM);
  REQUIRE(e2e_agent_start(&ag) == 0);
  REQUIRE(e2e_wait_text(ag.log, "Connected to manager", 2, E2E_WAIT_MS) == 0);
  e2e_flag(&ag, 1002, "no");
  REQUIRE(e2e_agent_rescan(&ag) == 0);
  REQUIRE(e2e_wait_converged(&mgr, &ag, "seed") == 0);
  CHECK_INT(tmp_count(mgr.log, "has a new state store"), 1);
}

/* The results hash of results[0..n) ("passed", ...) as 32 raw bytes into raw. */
static void hash_of(const char *const *results, size_t n, uint8_t raw[CODEC_HASH_LEN],
                    ProtobufCBinaryData *h) {
  char hex[65];
  scan_results_hash_strings(results, n, hex);
  codec_hash_from_hex(h, raw, hex);
}

static int send_summary(e2e_client *cl, uint64_t seq, const char *const *results, size_t n) {
  uint8_t rh[CODEC_HASH_LEN], bh[CODEC_HASH_LEN];
  Tenet__ScanSummary s = TENET__SCAN_SUMMARY__INIT;
  s.policy_id = "p";
  s.scan_id = 7;
  s.total_checks = (uint32_t)n;
  hash_of(results, n, rh, &s.results_hash);
  codec_hash_from_hex(&s.bundle_hash, bh, "1111111111111111111111111111111111111111111111111111111111111111");
  s.policy_name = "P";
  Tenet__Envelope e = TENET__ENVELOPE__INIT;
  e.seq = seq;
  e.body_case = TENET__ENVELOPE__BODY_SCAN_SUMMARY;
  e.scan_summary = &s;
  return e2e_client_send(cl, &e);
}

/* Read until a message of the kind comes (1) or the connection is quiet for a second (0). */
static int expect_body(e2e_client *cl, Tenet__Envelope__BodyCase body) {
  for (;;) {
    Tenet__Envelope *m = NULL;
    if (e2e_client_read(cl, &m, 2000) != TN_OK) return 0;
    int hit = m->body_case == body;
    codec_free(m);
    if (hit) return 1;
  }
}

static void test_duplicate_summary_checked(void) {
  e2e_issue_agent(&env, "003");
  e2e_client cl;
  REQUIRE(e2e_client_connect(&cl, &env, mgr.port, "003", NULL) == TN_OK);
  REQUIRE(e2e_client_hello(&cl, "003") == TN_OK);
  /* seq 100: one check passed, and the summary saying so */
  Tenet__CheckDelta d1 = TENET__CHECK_DELTA__INIT;
  d1.check_id = 1;
  d1.result = TENET__CHECK_RESULT__PASSED;
  d1.event_json = "{}";
  Tenet__CheckDelta *dp[] = {&d1};
  Tenet__CheckDeltas ds = TENET__CHECK_DELTAS__INIT;
  ds.policy_id = "p";
  ds.scan_id = 7;
  ds.checks = dp;
  ds.n_checks = 1;
  Tenet__Envelope e = TENET__ENVELOPE__INIT;
  e.seq = 100;
  e.body_case = TENET__ENVELOPE__BODY_CHECK_DELTAS;
  e.check_deltas = &ds;
  REQUIRE(e2e_client_send(&cl, &e) == TN_OK);
  REQUIRE(send_summary(&cl, 101, (const char *const[]){"passed"}, 1) == TN_OK);
  CHECK(expect_body(&cl, TENET__ENVELOPE__BODY_ACK));
  CHECK(!expect_body(&cl, TENET__ENVELOPE__BODY_DUMP_REQUEST)); /* in sync: no dump */

  /* A summary numbered below what was applied, claiming another state: skipped as a duplicate,
   * but its hash differs from the manager's checks, so the manager asks for a dump. */
  REQUIRE(send_summary(&cl, 50, (const char *const[]){"failed"}, 1) == TN_OK);
  CHECK(expect_body(&cl, TENET__ENVELOPE__BODY_DUMP_REQUEST));
  CHECK(e2e_wait_text(mgr.log, "a summary already applied was sent again", 1, E2E_WAIT_MS) == 0);
  /* The dump (nothing changed) ends; then a duplicate that agrees asks for nothing. */
  Tenet__DumpEnd de = TENET__DUMP_END__INIT;
  de.policy_id = "p";
  de.scan_id = 7;
  Tenet__Envelope e3 = TENET__ENVELOPE__INIT;
  e3.seq = 102;
  e3.body_case = TENET__ENVELOPE__BODY_DUMP_END;
  e3.dump_end = &de;
  REQUIRE(e2e_client_send(&cl, &e3) == TN_OK);
  CHECK(e2e_wait_text(mgr.log, "Policy 'p' of agent '003' is in sync after a dump", 1, E2E_WAIT_MS) == 0);
  REQUIRE(send_summary(&cl, 101, (const char *const[]){"passed"}, 1) == TN_OK);
  CHECK(!expect_body(&cl, TENET__ENVELOPE__BODY_DUMP_REQUEST));
  CHECK_INT(tmp_count(mgr.log, "a summary already applied was sent again"), 1);
  e2e_client_close(&cl);
}

static void test_daemons_exit_cleanly(void) { CHECK(e2e_daemons_ok()); }

int main(void) {
  e2e_setup(&env, "e2e-store-reset");
  RUN(test_recreated_store_behind);
  RUN(test_duplicate_summary_checked);
  e2e_agent_stop(&ag, SIGTERM);
  e2e_manager_stop(&mgr, SIGTERM);
  RUN(test_daemons_exit_cleanly);
  e2e_teardown(&env, test_failed_);
  return test_report();
}
