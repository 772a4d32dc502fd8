/* e2e_bundle_fifo.c — a FIFO named like a bundle (evil.tnb) in the agent's bundle directory must
 * not hang the agent: installing an offered bundle reads every *.tnb to find the one holding the
 * policy, and each scan cycle lists the directory. Bundles are opened non-blocking and read only
 * when they are regular files. With the FIFO present (nobody ever writes to it), the agent scans,
 * installs version 2 offered by the real manager, rescans and converges. */
#include <sys/stat.h>

#include "harness.h"
#include "test.h"
#include "tmpdir.h"

static e2e_env env;
static e2e_manager mgr;
static e2e_agent ag;

static void test_fifo_in_bundle_dir(void) {
  e2e_manager_init(&mgr, &env, "manager", NULL);
  REQUIRE(e2e_manager_start(&mgr) == 0);
  char fx[PATH_MAX + 32], v1[PATH_MAX + 32], v2[PATH_MAX + 32];
  e2e_seed_versions(&env, fx, v1, v2, sizeof fx);

  e2e_agent_init(&ag, &env, "001", mgr.port, NULL);
  snprintf(ag.fx, sizeof ag.fx, "%s", fx);
  char tnb[PATH_MAX + 64], fifo[PATH_MAX + 64];
  e2e_join(tnb, sizeof tnb, ag.bundles, "seed.tnb");
  const char *cp[] = {"/bin/cp", v1, tnb, NULL};
  REQUIRE(e2e_run(cp, NULL, 0) == 0);
  e2e_join(fifo, sizeof fifo, ag.bundles, "evil.tnb");
  REQUIRE(mkfifo(fifo, 0644) == 0);
  e2e_flag(&ag, 1000, "ok");
  e2e_flag(&ag, 1001, "no");
  e2e_flag(&ag, 1002, "no");
  e2e_flag(&ag, 1003, "ok");
  REQUIRE(e2e_agent_start(&ag) == 0);
  REQUIRE(e2e_wait_converged(&mgr, &ag, "seed") == 0);

  /* Publish version 2: the offer makes the agent look through its bundle directory. */
  char dst[PATH_MAX + 64];
  e2e_join(dst, sizeof dst, mgr.bundles, "seed.tnb");
  const char *cp2[] = {"/bin/cp", v2, dst, NULL};
  REQUIRE(e2e_run(cp2, NULL, 0) == 0);
  REQUIRE(e2e_wait_text(ag.log, "Installed bundle for policy 'seed' version 2 from the manager", 1,
                        E2E_WAIT_MS) == 0);
  REQUIRE(e2e_wait_text(mgr.log, "Policy 'seed' of agent '001' is in sync after a dump of 4 checks", 1,
                        E2E_WAIT_MS) == 0);
  REQUIRE(e2e_wait_converged(&mgr, &ag, "seed") == 0);
  /* the session still answers: another scan cycle with the FIFO still there */
  REQUIRE(e2e_agent_rescan(&ag) == 0);
  struct stat st;
  CHECK(stat(fifo, &st) == 0 && S_ISFIFO(st.st_mode)); /* left alone, never replaced */
}

static void test_daemons_exit_cleanly(void) { CHECK(e2e_daemons_ok()); }

int main(void) {
  e2e_setup(&env, "e2e-fifo");
  RUN(test_fifo_in_bundle_dir);
  e2e_agent_stop(&ag, SIGTERM);
  e2e_manager_stop(&mgr, SIGTERM);
  RUN(test_daemons_exit_cleanly);
  e2e_teardown(&env, test_failed_);
  return test_report();
}
