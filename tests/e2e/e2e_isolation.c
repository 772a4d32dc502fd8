/* e2e_isolation.c — scenario 8: an agent's identity is its certificate. A peer holding the
 * certificate of agent 001 that claims to be 002 in its Hello, deletes "all its policies" and sends
 * check results, changes only 001's rows — agent 002's state is untouched. A client without a
 * certificate, and one whose certificate comes from another CA, get nothing: the handshake is
 * refused, nothing is stored, and the manager keeps serving the real agent. */
#include "harness.h"
#include "test.h"
#include "tmpdir.h"

static e2e_env env;
static e2e_manager mgr;
static e2e_agent ag;

static int agents_known(const e2e_manager *m) {
  char err[512];
  mstore *s = mstore_open(m->db, 1, 0, err, sizeof err);
  int n = 0;
  if (s) {
    mstore_agent a;
    int found;
    const char *ids[] = {"001", "002", "evil", "999"};
    for (size_t i = 0; i < 4; i++)
      if (mstore_agent_get(s, ids[i], &a, &found) == TN_OK && found) n++;
  }
  mstore_close(s);
  return n;
}

static void test_isolation(void) {
  e2e_manager_init(&mgr, &env, "manager", NULL);
  REQUIRE(e2e_manager_start(&mgr) == 0);
  e2e_agent_init(&ag, &env, "002", mgr.port, NULL);
  e2e_agent_install_seed(&ag, &env, (const char *const[]){"ok", "ok", "ok", "ok"});
  REQUIRE(e2e_agent_start(&ag) == 0);
  REQUIRE(e2e_wait_converged(&mgr, &ag, "seed") == 0);
  char h002[65];
  REQUIRE(e2e_manager_hash(&mgr, "002", "seed", h002) == 4);

  /* Certificate 001 pretending to be 002. */
  e2e_issue_agent(&env, "001");
  e2e_client cl;
  int rc = e2e_client_connect(&cl, &env, mgr.port, "001", NULL);
  if (rc != TN_OK) fprintf(stderr, "connect: %s\n", cl.err);
  REQUIRE(rc == TN_OK);
  REQUIRE(e2e_client_hello(&cl, "002") == TN_OK);
  Tenet__PolicyList pl = TENET__POLICY_LIST__INIT; /* "I run nothing": delete everything */
  Tenet__Envelope e1 = TENET__ENVELOPE__INIT;
  e1.seq = 1;
  e1.body_case = TENET__ENVELOPE__BODY_POLICY_LIST;
  e1.policy_list = &pl;
  REQUIRE(e2e_client_send(&cl, &e1) == TN_OK);
  Tenet__CheckDelta d = TENET__CHECK_DELTA__INIT;
  d.check_id = 1000;
  d.result = TENET__CHECK_RESULT__FAILED;
  d.event_json = "{\"type\":\"check\",\"policy_id\":\"seed\",\"check\":{\"id\":1000,\"title\":\"forged\"}}";
  Tenet__CheckDelta *dp[] = {&d};
  Tenet__CheckDeltas ds = TENET__CHECK_DELTAS__INIT;
  ds.policy_id = "seed";
  ds.scan_id = 7;
  ds.checks = dp;
  ds.n_checks = 1;
  Tenet__Envelope e2 = TENET__ENVELOPE__INIT;
  e2.seq = 2;
  e2.body_case = TENET__ENVELOPE__BODY_CHECK_DELTAS;
  e2.check_deltas = &ds;
  REQUIRE(e2e_client_send(&cl, &e2) == TN_OK);
  uint64_t acked = 0; /* the two messages may be committed in one batch or two */
  while (acked < 2) {
    Tenet__Envelope *reply = NULL;
    REQUIRE(e2e_client_read(&cl, &reply, E2E_WAIT_MS) == TN_OK);
    REQUIRE(reply->body_case == TENET__ENVELOPE__BODY_ACK);
    CHECK(reply->ack->seq > acked);
    acked = reply->ack->seq;
    codec_free(reply);
  }
  CHECK_INT(acked, 2);
  e2e_client_close(&cl);
  CHECK_INT(tmp_count(mgr.log, "Agent certificate '001' (127.0.0.1:"), 1);
  CHECK_INT(tmp_count(mgr.log, "sent Hello as '002': using the certificate's id"), 1);
  char h[65];
  CHECK_INT(e2e_manager_hash(&mgr, "002", "seed", h), 4);
  CHECK_STR(h, h002);
  CHECK(e2e_same_checks(&mgr, &ag, "seed"));
  CHECK_INT(e2e_manager_hash(&mgr, "001", "seed", h), 1); /* what 001 sent landed in 001's rows */
  CHECK_INT(tmp_count(mgr.alerts, "\"agent\":{\"id\":\"001\"}"), 1);

  /* No certificate at all. */
  rc = e2e_client_connect(&cl, &env, mgr.port, NULL, NULL);
  if (rc == TN_OK) { /* TLS 1.3: the client learns of the refusal at its first read */
    e2e_client_hello(&cl, "999");
    CHECK(e2e_client_closed_by_peer(&cl, E2E_WAIT_MS));
  }
  e2e_client_close(&cl);
  REQUIRE(e2e_wait_text(mgr.log, "refused: TLS", 1, E2E_WAIT_MS) == 0);

  /* A certificate from another CA. */
  char other[PATH_MAX + 32];
  e2e_join(other, sizeof other, env.dir, "other-pki");
  const char *init[] = {env.tenet, "pki", "init", other, NULL};
  const char *issue[] = {env.tenet, "pki", "issue-agent", other, "evil", NULL};
  REQUIRE(e2e_run(init, NULL, 0) == 0 && e2e_run(issue, NULL, 0) == 0);
  rc = e2e_client_connect(&cl, &env, mgr.port, "evil", other);
  if (rc == TN_OK) {
    e2e_client_hello(&cl, "evil");
    CHECK(e2e_client_closed_by_peer(&cl, E2E_WAIT_MS));
  }
  e2e_client_close(&cl);
  REQUIRE(e2e_wait_text(mgr.log, "refused: TLS", 2, E2E_WAIT_MS) == 0);
  CHECK_INT(agents_known(&mgr), 2); /* 001 and 002 */

  /* The real agent is still served. */
  mstore_counters c0, c1;
  REQUIRE(e2e_manager_counters(&mgr, "002", &c0, NULL));
  e2e_flag(&ag, 1003, "no");
  REQUIRE(e2e_agent_rescan(&ag) == 0);
  REQUIRE(e2e_wait_converged(&mgr, &ag, "seed") == 0);
  for (int i = 0; i < 600; i++) {
    e2e_manager_counters(&mgr, "002", &c1, NULL);
    if (c1.summaries > c0.summaries) break;
    usleep(50000);
  }
  CHECK(c1.summaries > c0.summaries);
}

static void test_daemons_exit_cleanly(void) { CHECK(e2e_daemons_ok()); }

int main(void) {
  e2e_setup(&env, "e2e-isolation");
  RUN(test_isolation);
  e2e_agent_stop(&ag, SIGTERM);
  e2e_manager_stop(&mgr, SIGTERM);
  RUN(test_daemons_exit_cleanly);
  e2e_teardown(&env, test_failed_);
  return test_report();
}
