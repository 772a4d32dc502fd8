/* e2e_outbox_bound.c — issue 8 item 3: the manager is away while an agent scans a policy whose 40
 * checks all flip at every scan, for 31 scans. The outbox stays bounded by the number of checks
 * (at most AGENT_OUTBOX_COALESCE_SCANS scans' worth of deltas, then the waiting ones are coalesced
 * into the net change), not by the number of scans. When the manager comes back both stores
 * converge, every check ends failed at the manager too, and that transition is alerted. */
#include "agent/outbox.h"
#include "agent/store.h"
#include "harness.h"
#include "test.h"
#include "tmpdir.h"

#define NCHECKS 40
#define CYCLES 31

static e2e_env env;
static e2e_manager mgr;
static e2e_agent ag;

static void outbox(size_t *rows, size_t *bytes) {
  char err[512];
  *rows = *bytes = 0;
  agent_store *s = agent_store_open(ag.db, err, sizeof err);
  REQUIRE(s);
  REQUIRE(agent_store_outbox_stats(s, rows, bytes) == TN_OK);
  agent_store_close(s);
}

static void flag_all(const char *v) {
  for (int i = 0; i < NCHECKS; i++)
    e2e_flag(&ag, 2000 + i, v);
}

static void test_outbox_bounded(void) {
  e2e_manager_init(&mgr, &env, "manager", NULL);
  REQUIRE(e2e_manager_start(&mgr) == 0);
  e2e_agent_init(&ag, &env, "001", mgr.port, NULL);
  int ids[NCHECKS];
  for (int i = 0; i < NCHECKS; i++)
    ids[i] = 2000 + i;
  char yml[sizeof ag.dir + 16], tnb[sizeof ag.bundles + 16];
  e2e_join(yml, sizeof yml, ag.dir, "flip.yml");
  e2e_join(tnb, sizeof tnb, ag.bundles, "flip.tnb");
  e2e_policy_write(yml, "flip", ag.fx, ids, NCHECKS, NULL);
  e2e_compile(&env, yml, tnb, "release", 1);
  flag_all("ok");
  REQUIRE(e2e_agent_start(&ag) == 0);
  REQUIRE(e2e_wait_converged(&mgr, &ag, "flip") == 0);
  e2e_manager_stop(&mgr, SIGTERM);

  size_t rows, bytes, one_rows = 0, one_bytes = 0, max_rows = 0, max_bytes = 0;
  for (int c = 1; c <= CYCLES; c++) {
    flag_all(c % 2 ? "no" : "ok");
    REQUIRE(e2e_agent_rescan(&ag) == 0);
    outbox(&rows, &bytes);
    if (c == 1) {
      one_rows = rows;
      one_bytes = bytes;
    }
    if (rows > max_rows) max_rows = rows;
    if (bytes > max_bytes) max_bytes = bytes;
  }
  printf("outbox: one scan %zu rows %zu bytes; over %d scans at most %zu rows %zu bytes; at the end %zu rows "
         "%zu bytes\n",
         one_rows, one_bytes, CYCLES, max_rows, max_bytes, rows, bytes);
  REQUIRE(one_rows >= 2); /* one CheckDeltas + one summary per scan */
  CHECK(max_rows <= one_rows * AGENT_OUTBOX_COALESCE_SCANS);
  CHECK(max_bytes <= one_bytes * AGENT_OUTBOX_COALESCE_SCANS + 4096);
  CHECK(max_rows < one_rows * CYCLES / 2); /* not growing with the scans */

  REQUIRE(e2e_manager_start(&mgr) == 0);
  REQUIRE(e2e_wait_converged(&mgr, &ag, "flip") == 0);
  CHECK(e2e_same_checks(&mgr, &ag, "flip"));
  /* CYCLES is odd: every check ends failed, and the manager alerted that transition */
  char err[512];
  mstore *s = mstore_open(mgr.db, 1, 0, err, sizeof err);
  REQUIRE(s);
  for (int i = 0; i < NCHECKS; i++) {
    char result[16];
    int found;
    CHECK(mstore_check_get(s, "001", "flip", 2000 + i, result, &found) == TN_OK && found &&
          strcmp(result, "failed") == 0);
  }
  mstore_close(s);
  CHECK(e2e_wait_text(mgr.alerts, "\"result\":\"failed\",\"previous_result\":\"passed\"", NCHECKS,
                      E2E_WAIT_MS) == 0);
}

static void test_daemons_exit_cleanly(void) { CHECK(e2e_daemons_ok()); }

int main(void) {
  e2e_setup(&env, "e2e-outbox-bound");
  RUN(test_outbox_bounded);
  e2e_agent_stop(&ag, SIGTERM);
  e2e_manager_stop(&mgr, SIGTERM);
  RUN(test_daemons_exit_cleanly);
  e2e_teardown(&env, test_failed_);
  return test_report();
}
