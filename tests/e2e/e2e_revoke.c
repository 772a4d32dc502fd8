/* e2e_revoke.c — certificate revocation (issue 8, item 15) with real processes: `tenet pki revoke`
 * writes the CA-signed CRL the manager's `crl` option names; the manager notices the new file by
 * itself (or at SIGHUP), drops the connections of revoked agents and refuses their handshakes,
 * while other agents stay served. A CRL that is not the CA's leaves the previous list in force. */
#include <stdio.h>
#include <stdlib.h>

#include "harness.h"
#include "test.h"
#include "tmpdir.h"

static e2e_env env;
static e2e_manager mgr;
static e2e_agent good, victim;

static int pki_revoke_cli(const char *who, char *out, size_t cap) {
  const char *argv[] = {env.tenet, "pki", "revoke", env.pki, who, NULL};
  return e2e_run(argv, out, cap);
}

static void test_revoke(void) {
  char out[4096], crl[PATH_MAX + 32];
  e2e_join(crl, sizeof crl, env.pki, "crl.pem");
  /* The list exists before the manager starts: revoke a certificate nobody uses. */
  e2e_issue_agent(&env, "099");
  REQUIRE(pki_revoke_cli("099", out, sizeof out) == 0);
  CHECK(strstr(out, "revoked ") && strstr(out, "CN=099") && strstr(out, "(1 revoked certificate)"));
  CHECK(pki_revoke_cli("099", out, sizeof out) == 0);
  CHECK(strstr(out, "already revoked:") != NULL);
  CHECK(pki_revoke_cli("nobody", out, sizeof out) == 1);
  CHECK(strstr(out, "nobody.crt") != NULL);
  /* a certificate of another CA is refused, and the list is left as it was */
  char other[PATH_MAX + 32], foreign[PATH_MAX + 64];
  e2e_join(other, sizeof other, env.dir, "other-pki");
  const char *init[] = {env.tenet, "pki", "init", other, NULL};
  const char *issue[] = {env.tenet, "pki", "issue-agent", other, "050", NULL};
  REQUIRE(e2e_run(init, NULL, 0) == 0 && e2e_run(issue, NULL, 0) == 0);
  snprintf(foreign, sizeof foreign, "%s/agents/050.crt", other);
  CHECK(pki_revoke_cli(foreign, out, sizeof out) == 1);
  CHECK(strstr(out, "was not issued by the CA of") != NULL);

  char extra[PATH_MAX + 64];
  snprintf(extra, sizeof extra, "crl = %s\n", crl);
  e2e_manager_init(&mgr, &env, "manager", extra);
  REQUIRE(e2e_manager_start(&mgr) == 0);
  CHECK(e2e_wait_text(mgr.log, "Listening on", 1, E2E_WAIT_MS) == 0);

  e2e_agent_init(&good, &env, "002", mgr.port, NULL);
  e2e_agent_install_seed(&good, &env, (const char *const[]){"ok", "ok", "ok", "ok"});
  REQUIRE(e2e_agent_start(&good) == 0);
  e2e_agent_init(&victim, &env, "003", mgr.port, NULL);
  e2e_agent_install_seed(&victim, &env, (const char *const[]){"ok", "no", "ok", "ok"});
  REQUIRE(e2e_agent_start(&victim) == 0);
  REQUIRE(e2e_wait_converged(&mgr, &good, "seed") == 0);
  REQUIRE(e2e_wait_converged(&mgr, &victim, "seed") == 0);

  /* The already-revoked certificate cannot connect. */
  e2e_client cl;
  if (e2e_client_connect(&cl, &env, mgr.port, "099", NULL) == TN_OK) {
    e2e_client_hello(&cl, "099");
    CHECK(e2e_client_closed_by_peer(&cl, E2E_WAIT_MS));
  }
  e2e_client_close(&cl);
  CHECK(e2e_wait_text(mgr.log, "certificate verify failed: certificate revoked", 1, E2E_WAIT_MS) == 0);

  /* Revoke a connected agent: the manager sees the new file, drops it and refuses it after. */
  REQUIRE(pki_revoke_cli("003", out, sizeof out) == 0);
  CHECK(strstr(out, "(2 revoked certificates)") != NULL);
  CHECK(e2e_wait_text(mgr.log, "Agent '003' (127.0.0.1", 1, E2E_WAIT_MS) == 0);
  CHECK(e2e_wait_text(mgr.log, "its certificate is revoked: connection dropped", 1, E2E_WAIT_MS) == 0);
  CHECK(e2e_wait_text(mgr.log, "2 revoked certificates, 1 connection dropped", 1, E2E_WAIT_MS) == 0);
  /* the agent reconnects and is refused */
  CHECK(e2e_wait_text(mgr.log, "certificate verify failed: certificate revoked", 2, E2E_WAIT_MS) == 0);

  /* A file that is not the CA's list: logged, the previous list stays. */
  char saved[8192];
  FILE *f = fopen(crl, "r");
  REQUIRE(f);
  size_t n = fread(saved, 1, sizeof saved, f);
  fclose(f);
  f = fopen(crl, "w");
  REQUIRE(f);
  fputs("not a CRL\n", f);
  fclose(f);
  CHECK(e2e_wait_text(mgr.log, "CRL not reloaded, the list loaded before stays", 1, E2E_WAIT_MS) == 0);
  int refused = tmp_count(mgr.log, "certificate verify failed: certificate revoked");
  CHECK(e2e_wait_text(mgr.log, "certificate verify failed: certificate revoked", refused + 1, E2E_WAIT_MS) ==
        0);
  f = fopen(crl, "w");
  REQUIRE(f);
  fwrite(saved, 1, n, f);
  fclose(f);
  CHECK(e2e_wait_text(mgr.log, "2 revoked certificates, 0 connections dropped", 1, E2E_WAIT_MS) == 0);

  /* SIGHUP re-reads it as well. */
  REQUIRE(kill(mgr.pid, SIGHUP) == 0);
  CHECK(e2e_wait_text(mgr.log, "2 revoked certificates, 0 connections dropped", 2, E2E_WAIT_MS) == 0);

  /* The good agent was served all along. */
  CHECK_INT(tmp_count(mgr.log, "Agent '002' (127.0.0.1"), 0);
  e2e_flag(&good, 1001, "no");
  REQUIRE(e2e_agent_rescan(&good) == 0);
  CHECK(e2e_wait_converged(&mgr, &good, "seed") == 0);
  CHECK(e2e_same_checks(&mgr, &good, "seed"));
}

static void test_daemons_exit_cleanly(void) { CHECK(e2e_daemons_ok()); }

int main(void) {
  e2e_setup(&env, "e2e-revoke");
  RUN(test_revoke);
  e2e_agent_stop(&good, SIGTERM);
  e2e_agent_stop(&victim, SIGTERM);
  e2e_manager_stop(&mgr, SIGTERM);
  RUN(test_daemons_exit_cleanly);
  e2e_teardown(&env, test_failed_);
  return test_report();
}
