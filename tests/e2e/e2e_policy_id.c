/* e2e_policy_id.c — a peer holding a valid agent certificate names policy ids outside Tenet's
 * rule (vm/bundle.h) in a DumpEnd and a PolicyList: the real manager neither truncates nor stores
 * them, logs each once with its length and why, acknowledges the message and keeps serving the
 * connection (a good agent beside it still converges). */
#include "harness.h"
#include "test.h"
#include "tmpdir.h"

static e2e_env env;
static e2e_manager mgr;
static e2e_agent ag;

static void test_invalid_ids_refused(void) {
  e2e_manager_init(&mgr, &env, "manager", NULL);
  REQUIRE(e2e_manager_start(&mgr) == 0);
  e2e_agent_init(&ag, &env, "002", mgr.port, NULL);
  e2e_agent_install_seed(&ag, &env, (const char *const[]){"ok", "no", "ok", "ok"});
  REQUIRE(e2e_agent_start(&ag) == 0);
  REQUIRE(e2e_wait_converged(&mgr, &ag, "seed") == 0);

  e2e_issue_agent(&env, "003");
  e2e_client cl;
  int rc = e2e_client_connect(&cl, &env, mgr.port, "003", NULL);
  if (rc != TN_OK) fprintf(stderr, "connect: %s\n", cl.err);
  REQUIRE(rc == TN_OK);
  REQUIRE(e2e_client_hello(&cl, "003") == TN_OK);

  char long_id[301];
  memset(long_id, 'p', 300);
  long_id[300] = 0;
  Tenet__DumpEnd de = TENET__DUMP_END__INIT;
  de.policy_id = long_id;
  de.scan_id = 1;
  Tenet__Envelope e = TENET__ENVELOPE__INIT;
  e.seq = 1;
  e.body_case = TENET__ENVELOPE__BODY_DUMP_END;
  e.dump_end = &de;
  REQUIRE(e2e_client_send(&cl, &e) == TN_OK);
  REQUIRE(
      e2e_wait_text(mgr.log,
                    "names an invalid policy id (300 bytes): policy id of 300 bytes (at most 128); ignored",
                    1, E2E_WAIT_MS) == 0);

  char *ids[] = {"seed", "../etc"};
  Tenet__PolicyList pl = TENET__POLICY_LIST__INIT;
  pl.n_policy_ids = 2;
  pl.policy_ids = ids;
  Tenet__Envelope e2 = TENET__ENVELOPE__INIT;
  e2.seq = 2;
  e2.body_case = TENET__ENVELOPE__BODY_POLICY_LIST;
  e2.policy_list = &pl;
  REQUIRE(e2e_client_send(&cl, &e2) == TN_OK);
  REQUIRE(e2e_wait_text(mgr.log,
                        "names an invalid policy id (6 bytes): policy id has the byte 0x2e at offset 0", 1,
                        E2E_WAIT_MS) == 0);
  /* acknowledged (not sent again), and the connection is still served */
  Tenet__Envelope *m = NULL;
  int acked = 0;
  for (int i = 0; i < 10 && !acked; i++) {
    if (e2e_client_read(&cl, &m, 3000) != TN_OK) break;
    if (m->body_case == TENET__ENVELOPE__BODY_ACK && m->ack->seq >= 2) acked = 1;
    codec_free(m);
  }
  CHECK(acked);
  e2e_client_close(&cl);
  /* the good agent is unaffected */
  REQUIRE(e2e_agent_rescan(&ag) == 0);
  REQUIRE(e2e_wait_converged(&mgr, &ag, "seed") == 0);
}

static void test_daemons_exit_cleanly(void) { CHECK(e2e_daemons_ok()); }

int main(void) {
  e2e_setup(&env, "e2e-policy-id");
  RUN(test_invalid_ids_refused);
  e2e_agent_stop(&ag, SIGTERM);
  e2e_manager_stop(&mgr, SIGTERM);
  RUN(test_daemons_exit_cleanly);
  e2e_teardown(&env, test_failed_);
  return test_report();
}
