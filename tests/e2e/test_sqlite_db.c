/* test_sqlite_db.c — the daemons' SQLite helper on real files: a new store is created, stamped and
 * set up once (on_create), reopened without being set up again, refused with a clear message when
 * its stamp is another schema's, opened read-only only when it exists; statements come from the
 * caller's table; a rolled-back transaction leaves nothing and a committed one stays. */
#include <limits.h>
#include <sqlite3.h>

#include "err.h"
#include "sqlite_db.h"
#include "test.h"
#include "tmpdir.h"

static char dir[PATH_MAX], path[PATH_MAX + 32], err[1024];

static const char schema[] = "CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);"
                             "CREATE TABLE IF NOT EXISTS t(k INTEGER PRIMARY KEY, v TEXT NOT NULL);";
enum { Q_PUT, Q_COUNT, Q__N };
static const char *const sql[Q__N] = {"INSERT INTO t(k, v) VALUES(?1, ?2)", "SELECT count(*) FROM t"};

static int creations;

/* Runs inside the creating transaction, before the table's statements are prepared. */
static int on_create(sqlite_db *d, void *arg) {
  creations++;
  char q[128];
  snprintf(q, sizeof q, "INSERT INTO t(k, v) VALUES(0, '%s')", (const char *)arg);
  return sqlite3_exec(sqlite_db_handle(d), q, NULL, NULL, NULL) == SQLITE_OK ? TN_OK
                                                                             : sqlite_db_fail(d, "seeding");
}

static sqlite_db_options opts(int readonly, const char *version) {
  sqlite_db_options o = {.readonly = readonly,
                         .durable = 1,
                         .schema = schema,
                         .version = version,
                         .what = "test store",
                         .on_create = on_create,
                         .arg = "seed"};
  return o;
}

static long long count(sqlite_db *d) {
  sqlite3_stmt *st = sqlite_db_stmt(d, Q_COUNT);
  long long n = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : -1;
  sqlite3_reset(st);
  return n;
}

static int put(sqlite_db *d, int k) {
  sqlite3_stmt *st = sqlite_db_stmt(d, Q_PUT);
  sqlite3_bind_int64(st, 1, k);
  sqlite3_bind_text(st, 2, "x", -1, SQLITE_STATIC);
  return sqlite_db_exec(d, st, "inserting");
}

static void test_create_reopen(void) {
  sqlite_db_options o = opts(0, "test-1");
  sqlite_db *d = sqlite_db_open(path, &o, sql, Q__N, err, sizeof err);
  if (!d) fprintf(stderr, "%s\n", err);
  REQUIRE(d != NULL);
  CHECK_INT(creations, 1);
  CHECK_INT(count(d), 1);
  sqlite3_stmt *q;
  REQUIRE(sqlite3_prepare_v2(sqlite_db_handle(d), "PRAGMA journal_mode", -1, &q, NULL) == SQLITE_OK);
  CHECK(sqlite3_step(q) == SQLITE_ROW && strcmp((const char *)sqlite3_column_text(q, 0), "wal") == 0);
  sqlite3_finalize(q);
  sqlite_db_close(d);
  d = sqlite_db_open(path, &o, sql, Q__N, err, sizeof err);
  REQUIRE(d != NULL);
  CHECK_INT(creations, 1); /* not set up twice */
  CHECK_INT(count(d), 1);
  sqlite_db_close(d);
  sqlite_db_close(NULL);
}

static void test_transactions(void) {
  sqlite_db_options o = opts(0, "test-1");
  sqlite_db *d = sqlite_db_open(path, &o, sql, Q__N, err, sizeof err);
  REQUIRE(d != NULL);
  CHECK_INT(sqlite_db_in_transaction(d), 0);
  CHECK_INT(sqlite_db_begin(d), TN_OK);
  CHECK_INT(sqlite_db_in_transaction(d), 1);
  CHECK_INT(put(d, 1), TN_OK);
  sqlite_db_rollback(d);
  CHECK_INT(sqlite_db_in_transaction(d), 0);
  CHECK_INT(count(d), 1);
  sqlite_db_rollback(d); /* outside a transaction: nothing */
  CHECK_INT(sqlite_db_begin(d), TN_OK);
  CHECK_INT(put(d, 2), TN_OK);
  CHECK_INT(put(d, 2), TN_EDB); /* duplicate key: the error names the step */
  CHECK(strstr(sqlite_db_error(d), "inserting: UNIQUE constraint failed") != NULL);
  CHECK_INT(sqlite_db_commit(d), TN_OK);
  CHECK_INT(count(d), 2);
  sqlite_db_close(d);
}

static void test_refusals(void) {
  sqlite_db_options o = opts(0, "test-2");
  CHECK(sqlite_db_open(path, &o, sql, Q__N, err, sizeof err) == NULL);
  CHECK(strstr(err, "not a test store of this version (schema 'test-1', expected 'test-2')") != NULL);
  o = opts(1, "test-1");
  sqlite_db *d = sqlite_db_open(path, &o, sql, Q__N, err, sizeof err);
  REQUIRE(d != NULL);
  CHECK_INT(count(d), 2);
  CHECK_INT(sqlite_db_begin(d), TN_EDB);
  CHECK(strstr(sqlite_db_error(d), "read-only") != NULL);
  sqlite_db_close(d);
  char missing[PATH_MAX + 32];
  snprintf(missing, sizeof missing, "%s/none/x.db", dir);
  CHECK(sqlite_db_open(missing, &o, sql, Q__N, err, sizeof err) == NULL);
  CHECK(strstr(err, "cannot open the test store") != NULL);
  o = opts(0, "test-1");
  static const char *const badsql[1] = {"SELECT nope FROM t"};
  CHECK(sqlite_db_open(path, &o, badsql, 1, err, sizeof err) == NULL);
  CHECK(strstr(err, "preparing statement 0: no such column: nope") != NULL);
}

int main(void) {
  tmp_make("sqlite-db", dir, sizeof dir);
  snprintf(path, sizeof path, "%s/test.db", dir);
  RUN(test_create_reopen);
  RUN(test_transactions);
  RUN(test_refusals);
  tmp_remove(dir);
  return test_report();
}
