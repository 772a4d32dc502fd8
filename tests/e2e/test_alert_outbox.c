/* test_alert_outbox.c — the manager's alert outbox at the logic level, on a real SQLite store:
 * alerts are rows committed with the state they describe; an alerts file that refuses writes
 * (/dev/full: ENOSPC) keeps them in the store; at the cap, messages that may alert are refused
 * (TN_ETOOBIG: the server rolls the batch back, nothing is acknowledged) and nothing of them is
 * applied; a restart with a writable file writes the backlog once, in order, and the agent's
 * message is accepted again. With --pg (pg/test_alert_outbox, the fixture `pg`) the same on a
 * PostgreSQL store, whose drain takes rows with FOR UPDATE SKIP LOCKED and fsyncs the file. */
#include <limits.h>

#include "codec.h"
#include "daemon_log.h"
#include "err.h"
#include "manager/alerts.h"
#include "manager/integrity.h"
#include "manager/store.h"
#include "pg_test.h"
#include "test.h"
#include "tmpdir.h"

static char dir[PATH_MAX], err[1024], dbpath[PATH_MAX + 16], store[PATH_MAX + 16], alertpath[PATH_MAX + 16],
    logpath[PATH_MAX + 16];

/* CheckDeltas #seq of policy "p" setting checks first..first+n-1 to passed. */
static int apply_deltas(integrity *ig, integrity_agent *ia, uint64_t seq, int64_t first, size_t n) {
  Tenet__CheckDelta d[8], *dp[8];
  for (size_t i = 0; i < n; i++) {
    tenet__check_delta__init(&d[i]);
    d[i].check_id = first + (int64_t)i;
    d[i].result = TENET__CHECK_RESULT__PASSED;
    d[i].event_json = "{}";
    dp[i] = &d[i];
  }
  Tenet__CheckDeltas ds = TENET__CHECK_DELTAS__INIT;
  ds.policy_id = "p";
  ds.scan_id = 1;
  ds.checks = dp;
  ds.n_checks = n;
  Tenet__Envelope e = TENET__ENVELOPE__INIT;
  e.seq = seq;
  e.body_case = TENET__ENVELOPE__BODY_CHECK_DELTAS;
  e.check_deltas = &ds;
  return integrity_apply(ig, ia, &e, 1700000000);
}

static int64_t queued(mstore *ms) {
  int64_t n = -1, bytes = 0;
  REQUIRE(mstore_alerts_stats(ms, &n, &bytes) == TN_OK);
  return n;
}

static void test_outbox_cap_and_restart(void) {
  mstore *ms = mstore_open(store, 0, 0, err, sizeof err);
  REQUIRE(ms);
  alerts *al = alerts_open("/dev/full", err, sizeof err);
  REQUIRE(al);
  REQUIRE(alerts_attach(al, ms, 3) == TN_OK);
  integrity_options o = {-1, 3};
  integrity *ig = integrity_new(ms, al, &o);
  integrity_agent *ia = integrity_agent_new(ig, "001");
  REQUIRE(ig && ia);
  Tenet__Hello h = TENET__HELLO__INIT;
  h.agent_id = "001";
  REQUIRE(mstore_begin(ms) == TN_OK);
  REQUIRE(integrity_hello(ig, ia, &h, 1700000000) == TN_OK);

  /* three new checks: three alerts, durable with the checks, acknowledged */
  REQUIRE(apply_deltas(ig, ia, 1, 1, 3) == TN_OK);
  REQUIRE(integrity_agent_sync(ig, ia, 1700000000) == TN_OK);
  REQUIRE(mstore_commit(ms) == TN_OK);
  CHECK_INT(integrity_agent_take_ack(ia), 1);
  CHECK_INT(alerts_flush(al), TN_EIO); /* the file is full */
  CHECK_INT(queued(ms), 3);
  CHECK_INT(alerts_pending(al), 3);

  /* at the cap: the next message that may alert is refused, and rolled back by its batch */
  REQUIRE(mstore_begin(ms) == TN_OK);
  CHECK_INT(apply_deltas(ig, ia, 2, 4, 1), TN_ETOOBIG);
  mstore_rollback(ms);
  alerts_discard(al);
  CHECK_INT(integrity_agent_take_ack(ia), 0);
  char result[16];
  int found = 1;
  REQUIRE(mstore_check_get(ms, "001", "p", 4, result, &found) == TN_OK);
  CHECK(!found);
  CHECK_INT(queued(ms), 3);
  CHECK(tmp_count(logpath, "Alert backlog full: 3 alerts wait") == 1);

  /* a restart with a writable file: the backlog goes out once, in order */
  integrity_agent_free(ia);
  integrity_free(ig);
  alerts_close(al);
  REQUIRE((al = alerts_open(alertpath, err, sizeof err)));
  REQUIRE(alerts_attach(al, ms, 3) == TN_OK);
  CHECK_INT(alerts_pending(al), 3);
  CHECK_INT(alerts_flush(al), TN_OK);
  CHECK_INT(queued(ms), 0);
  char *text = tmp_read(alertpath);
  REQUIRE(text);
  const char *a = strstr(text, "\"id\":\"1\""), *b = strstr(text, "\"id\":\"2\""),
             *c = strstr(text, "\"id\":\"3\"");
  CHECK(a && b && c && a < b && b < c);
  free(text);
  CHECK_INT(alerts_flush(al), TN_OK);
  CHECK_INT(tmp_count(alertpath, "\"location\":\"sca\""), 3); /* not again */

  /* accepted again */
  REQUIRE((ig = integrity_new(ms, al, &o)) && (ia = integrity_agent_new(ig, "001")));
  REQUIRE(mstore_begin(ms) == TN_OK);
  REQUIRE(integrity_hello(ig, ia, &h, 1700000000) == TN_OK);
  CHECK_INT(apply_deltas(ig, ia, 2, 4, 1), TN_OK);
  REQUIRE(integrity_agent_sync(ig, ia, 1700000000) == TN_OK);
  REQUIRE(mstore_commit(ms) == TN_OK);
  CHECK_INT(alerts_flush(al), TN_OK);
  CHECK_INT(tmp_count(alertpath, "\"location\":\"sca\""), 4);
  CHECK_INT(queued(ms), 0);
  integrity_agent_free(ia);
  integrity_free(ig);
  alerts_close(al);
  mstore_close(ms);
}

int main(int argc, char **argv) {
  tmp_make("alert-outbox", dir, sizeof dir);
  snprintf(dbpath, sizeof dbpath, "%s/manager.db", dir);
  snprintf(store, sizeof store, "%s", dbpath);
  if (argc > 1 && strcmp(argv[1], "--pg") == 0) {
    int rc = pg_test_database("outbox", store, sizeof store);
    if (rc) {
      tmp_remove(dir);
      return rc;
    }
  }
  snprintf(alertpath, sizeof alertpath, "%s/alerts.json", dir);
  snprintf(logpath, sizeof logpath, "%s/manager.log", dir);
  REQUIRE(dlog_open("tenet-manager", logpath, DLOG_INFO, err, sizeof err) == TN_OK);
  RUN(test_outbox_cap_and_restart);
  dlog_close();
  tmp_remove(dir);
  return test_report();
}
