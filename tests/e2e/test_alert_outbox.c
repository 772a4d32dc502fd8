/* test_alert_outbox.c — the manager's alert outbox at the logic level, on a real SQLite store:
 * alerts are rows committed with the state they describe; an alerts file that refuses writes
 * (/dev/full: ENOSPC) keeps them in the store; at the cap, messages that may alert are refused
 * (TN_ETOOBIG: the server rolls the batch back, nothing is acknowledged) and nothing of them is
 * applied; a restart with a writable file writes the backlog once, in order, and the agent's
 * message is accepted again. A manager process killed right after writing a drain
 * (test_crash_after_alert_write), its file then left as is, with a torn foreign line appended, or
 * with its last line cut: the restarted manager's recovery leaves every alert in the file exactly
 * once. With --pg (pg/test_alert_outbox, the fixture `pg`) the same on a PostgreSQL store, whose
 * drain claims rows with FOR UPDATE SKIP LOCKED; there also a second manager with the same node
 * name is refused, and a dead node's claims are taken over after alert_takeover. */
#include <limits.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

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

enum { NCRASH = 7 };

/* How a crash_in_drain process dies. */
enum {
  CRASH_DRAIN,          /* committed without alerts_precommit: claimed by a drain, dies after writing */
  CRASH_BATCH_WRITTEN,  /* claimed inside the batch (alerts_precommit), dies after writing */
  CRASH_BATCH_COMMITTED /* claimed inside the batch, dies after the commit, before writing */
};

/* Queue alerts for checks from..to in one batch (claimed in it when precommit) and commit it. */
static int crash_batch(mstore *ms, alerts *al, int from, int to, int precommit) {
  if (mstore_begin(ms) != TN_OK) return 12;
  for (int i = from; i <= to; i++)
    if (alerts_check(al, "001", "p", "P", 7, 100 + i, "failed", NULL, NULL, "passed") != TN_OK) return 13;
  if (precommit && alerts_precommit(al) != TN_OK) return 16;
  return mstore_commit(ms) != TN_OK ? 14 : 0;
}

/* A manager process (node) that queues alerts for checks 101..100+NCRASH and dies (how) after
 * committing them, before finishing the drain. first > 0: checks 101..100+first go in an earlier
 * batch, written and still in the store, which the crashing batch's transaction deletes. Returns
 * its exit status (3: the test crash). */
static int crash_in_drain_at(const char *node, const char *file, int how, int first) {
  pid_t k = fork();
  REQUIRE(k >= 0);
  if (k == 0) {
    mstore *ms = mstore_open(store, 0, 0, err, sizeof err);
    if (!ms || mstore_set_node(ms, node) != TN_OK) _exit(10);
    alerts *al = alerts_open(file, err, sizeof err);
    if (!al || alerts_attach(al, ms, 0) != TN_OK) _exit(11);
    int rc = 0;
    /* a started manager's first flush (the sweep's) recovers nothing here, and lets batches claim */
    if (how != CRASH_DRAIN && alerts_flush(al) != TN_OK) _exit(18);
    if (first > 0 && ((rc = crash_batch(ms, al, 1, first, 1)) != 0 || alerts_flush(al) != TN_OK)) _exit(rc ? rc : 17);
    alerts_set_test_crash(al, 1);
    if ((rc = crash_batch(ms, al, first + 1, NCRASH, how != CRASH_DRAIN)) != 0) _exit(rc);
    if (how == CRASH_BATCH_COMMITTED) _exit(3);
    alerts_flush(al);
    _exit(15); /* not reached: the drain exits */
  }
  int st = 0;
  REQUIRE(waitpid(k, &st, 0) == k);
  return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static int crash_in_drain(const char *node, const char *file) {
  return crash_in_drain_at(node, file, CRASH_DRAIN, 0);
}

/* file holds each of the NCRASH alerts exactly once, as whole lines and nothing else. */
static void check_once(const char *file) {
  char *text = tmp_read(file);
  REQUIRE(text);
  size_t lines = 0, len = strlen(text);
  for (size_t i = 0; i < len; i++)
    lines += text[i] == '\n';
  CHECK_INT(lines, NCRASH);
  CHECK(len > 0 && text[len - 1] == '\n');
  CHECK_INT(tmp_count(file, "{\"timestamp\":"), NCRASH);
  CHECK_INT(tmp_count(file, "}}}\n"), NCRASH);
  for (int i = 1; i <= NCRASH; i++) {
    char id[32];
    snprintf(id, sizeof id, "\"id\":\"%d\"", 100 + i);
    CHECK_INT(tmp_count(file, id), 1);
  }
  free(text);
}

/* tamper: 0 the file as the crash left it; 1 a torn foreign line appended; 2 the last line cut.
 * how, first: as crash_in_drain_at. */
static void crash_and_recover_at(int tamper, int how, int first) {
  char file[PATH_MAX + 32];
  snprintf(file, sizeof file, "%s/crash-%d-%d-%d.json", dir, tamper, how, first);
  CHECK_INT(crash_in_drain_at("n1", file, how, first), 3);
  /* written (or not yet, after the commit), not finished: */
  CHECK_INT(tmp_count(file, "{\"timestamp\":"), how == CRASH_BATCH_COMMITTED ? first : NCRASH);
  mstore *ms = mstore_open(store, 0, 0, err, sizeof err);
  REQUIRE(ms);
  CHECK_INT(queued(ms), NCRASH - first); /* still queued, claimed; the earlier batch deleted */
  if (tamper == 1) {
    FILE *f = fopen(file, "a");
    REQUIRE(f);
    fputs("{\"timestamp\":\"2026-01-01T00:00:00.000+0000\",\"agent\":{\"id\":\"0", f);
    fclose(f);
  } else if (tamper == 2) {
    struct stat st;
    REQUIRE(stat(file, &st) == 0);
    REQUIRE(truncate(file, st.st_size - 40) == 0);
  }
  REQUIRE(mstore_set_node(ms, "n1") == TN_OK); /* the same manager, restarted */
  /* the dead node's claim is recorded, where its write began (after the earlier batch) */
  mstore_drain dr = {0};
  int found = 0;
  REQUIRE(mstore_begin(ms) == TN_OK);
  CHECK_INT(mstore_drain_get(ms, &dr, &found), TN_OK);
  mstore_rollback(ms);
  CHECK(found);
  if (first > 0) CHECK(dr.file_offset > 0);
  alerts *al = alerts_open(file, err, sizeof err);
  REQUIRE(al);
  REQUIRE(alerts_attach(al, ms, 0) == TN_OK);
  CHECK_INT(alerts_flush(al), TN_OK);
  CHECK_INT(queued(ms), 0);
  check_once(file);
  CHECK_INT(alerts_flush(al), TN_OK);
  check_once(file); /* not again */
  alerts_close(al);
  mstore_close(ms);
}

static void crash_and_recover(int tamper) { crash_and_recover_at(tamper, CRASH_DRAIN, 0); }

static void test_crash_after_write(void) { crash_and_recover(0); }
/* the batch claimed its alerts in its own transaction */
static void test_crash_in_batch_after_write(void) { crash_and_recover_at(0, CRASH_BATCH_WRITTEN, 0); }
static void test_crash_in_batch_torn_line(void) { crash_and_recover_at(1, CRASH_BATCH_WRITTEN, 0); }
static void test_crash_in_batch_before_write(void) { crash_and_recover_at(0, CRASH_BATCH_COMMITTED, 0); }
/* an earlier batch written, deleted by the transaction of the batch that dies before its write */
static void test_crash_next_batch_before_write(void) { crash_and_recover_at(0, CRASH_BATCH_COMMITTED, 3); }
static void test_crash_next_batch_after_write(void) { crash_and_recover_at(2, CRASH_BATCH_WRITTEN, 3); }
static void test_crash_torn_line_appended(void) {
  crash_and_recover(1);
  CHECK(tmp_count(logpath, "torn or foreign tail") >= 1);
}
static void test_crash_last_line_cut(void) { crash_and_recover(2); }

/* PostgreSQL: a second writer with a node name another live session holds is refused. */
static void test_same_node_refused(void) {
  mstore *a = mstore_open(store, 0, 0, err, sizeof err), *b = mstore_open(store, 0, 0, err, sizeof err);
  REQUIRE(a && b);
  CHECK_INT(mstore_set_node(a, "twin"), TN_OK);
  CHECK_INT(mstore_set_node(b, "twin"), TN_EDB);
  CHECK(strstr(mstore_error(b), "another tenet-manager runs as node 'twin'") != NULL);
  mstore_close(a);
  /* free again once the first is gone: its backend ends (and frees the lock) a moment after the
   * client closed the connection, so allow it up to 5 s */
  int rc = TN_EDB;
  for (int i = 0; i < 100 && (rc = mstore_set_node(b, "twin")) != TN_OK; i++) usleep(50 * 1000);
  CHECK_INT(rc, TN_OK);
  mstore_close(b);
}

/* PostgreSQL: node A dies inside a drain and never comes back; B, with alert_takeover = 1 s,
 * drains A's claimed alerts into its own file (they are also in A's: the documented exception). */
static void test_takeover(void) {
  char fa[PATH_MAX + 32], fb[PATH_MAX + 32];
  snprintf(fa, sizeof fa, "%s/takeover-a.json", dir);
  snprintf(fb, sizeof fb, "%s/takeover-b.json", dir);
  CHECK_INT(crash_in_drain("A", fa), 3);
  mstore *ms = mstore_open(store, 0, 0, err, sizeof err);
  REQUIRE(ms && mstore_set_node(ms, "B") == TN_OK);
  alerts *al = alerts_open(fb, err, sizeof err);
  REQUIRE(al && alerts_attach(al, ms, 0) == TN_OK);
  CHECK_INT(alerts_flush(al), TN_OK);
  CHECK_INT(queued(ms), NCRASH); /* A's claim: not B's to take yet */
  CHECK_INT(tmp_count(fb, "{\"timestamp\":"), 0);
  alerts_set_takeover(al, 1000);
  for (int i = 0; i < 600 && queued(ms) > 0; i++) { /* a poll, not a timed assertion */
    usleep(50000);
    REQUIRE(alerts_flush(al) == TN_OK);
  }
  CHECK_INT(queued(ms), 0);
  check_once(fb);
  check_once(fa);
  CHECK(tmp_count(logpath, "node 'A' died during an alert drain") == 1);
  alerts_close(al);
  mstore_close(ms);
}

/* SQLite: a store of schema 2 (before alert claims) with a queued alert opens, is upgraded, and
 * the alert is drained once. */
static void test_sqlite_upgrade(void) {
  char old[PATH_MAX + 32], file[PATH_MAX + 32];
  snprintf(old, sizeof old, "%s/old.db", dir);
  snprintf(file, sizeof file, "%s/old-alerts.json", dir);
  sqlite3 *db = NULL;
  REQUIRE(sqlite3_open(old, &db) == SQLITE_OK);
  REQUIRE(sqlite3_exec(db,
                       "CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;"
                       "INSERT INTO meta VALUES('schema', 'tenet-manager-2');"
                       "CREATE TABLE alert_outbox(id INTEGER PRIMARY KEY AUTOINCREMENT, line BLOB NOT NULL);"
                       "INSERT INTO alert_outbox(line) VALUES(CAST('{\"old\":1}' || char(10) AS BLOB));",
                       NULL, NULL, NULL) == SQLITE_OK);
  sqlite3_close(db);
  mstore *ms = mstore_open(old, 0, 0, err, sizeof err);
  if (!ms) printf("open: %s\n", err);
  REQUIRE(ms);
  alerts *al = alerts_open(file, err, sizeof err);
  REQUIRE(al && alerts_attach(al, ms, 0) == TN_OK);
  CHECK_INT(alerts_flush(al), TN_OK);
  CHECK_INT(queued(ms), 0);
  CHECK_INT(tmp_count(file, "{\"old\":1}\n"), 1);
  alerts_close(al);
  mstore_close(ms);
  REQUIRE(sqlite3_open(old, &db) == SQLITE_OK);
  sqlite3_stmt *q = NULL;
  REQUIRE(sqlite3_prepare_v2(db, "SELECT value FROM meta WHERE key = 'schema'", -1, &q, NULL) == SQLITE_OK);
  REQUIRE(sqlite3_step(q) == SQLITE_ROW);
  CHECK_STR((const char *)sqlite3_column_text(q, 0), "tenet-manager-3");
  sqlite3_finalize(q);
  sqlite3_close(db);
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
  RUN(test_crash_after_write);
  RUN(test_crash_torn_line_appended);
  RUN(test_crash_last_line_cut);
  RUN(test_crash_in_batch_after_write);
  RUN(test_crash_in_batch_torn_line);
  RUN(test_crash_in_batch_before_write);
  RUN(test_crash_next_batch_before_write);
  RUN(test_crash_next_batch_after_write);
  if (!strstr(store, "://")) RUN(test_sqlite_upgrade);
  if (strstr(store, "://")) {
    RUN(test_same_node_refused);
    RUN(test_takeover);
  }
  dlog_close();
  tmp_remove(dir);
  return test_report();
}
