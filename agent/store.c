/* store.c — the agent's SQLite state (see store.h): its schema and statements; opening,
 * preparing and transactions are sqlite_db.h's. Every statement is prepared once per connection
 * and reused. */
#include "store.h"

#include <errno.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <sys/random.h>
#include <sys/time.h>

#include "err.h"
#include "scan.h"
#include "sqlite_db.h"

#define SCHEMA_VERSION "tenet-agent-2" /* 2: checks.detail */

static const char schema[] =
    "CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS policies("
    "  policy_id TEXT PRIMARY KEY, bundle_hash TEXT NOT NULL, policy_version INTEGER NOT NULL,"
    "  scan_id INTEGER NOT NULL, results_hash TEXT NOT NULL, last_scan INTEGER NOT NULL,"
    "  summary BLOB) WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS checks("
    "  policy_id TEXT NOT NULL, check_id INTEGER NOT NULL, result INTEGER NOT NULL,"
    "  reason TEXT NOT NULL, scan_id INTEGER NOT NULL, event TEXT NOT NULL, detail BLOB,"
    "  PRIMARY KEY(policy_id, check_id)) WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS versions(policy_id TEXT PRIMARY KEY, max_version INTEGER NOT NULL) WITHOUT "
    "ROWID;"
    "CREATE TABLE IF NOT EXISTS outbox(seq INTEGER PRIMARY KEY AUTOINCREMENT, kind TEXT NOT NULL,"
    "  policy_id TEXT, frame BLOB NOT NULL);";

enum {
  ST_POLICY_GET,
  ST_POLICY_PUT,
  ST_POLICY_DEL,
  ST_POLICY_DEL_CHECKS,
  ST_POLICY_IDS,
  ST_CHECKS_EACH,
  ST_CHECK_RESULTS,
  ST_CHECK_PUT,
  ST_CHECKS_DEL_STALE,
  ST_CHECK_KEEP,
  ST_VERSION_GET,
  ST_VERSION_RAISE,
  ST_OUTBOX_SEQ,
  ST_OUTBOX_ADD,
  ST_OUTBOX_EACH,
  ST_OUTBOX_ACK,
  ST_OUTBOX_STATS,
  ST_META_GET,
  ST_META_PUT,
  ST_OUTBOX_POLICY,
  ST_OUTBOX_DEL,
  ST_OUTBOX_COUNT,
  ST__COUNT
};

static const char *const sql[ST__COUNT] = {
    [ST_POLICY_GET] = "SELECT bundle_hash, policy_version, scan_id, results_hash, last_scan, summary "
                      "FROM policies WHERE policy_id = ?1",
    [ST_POLICY_PUT] = "INSERT OR REPLACE INTO policies(policy_id, bundle_hash, policy_version, scan_id, "
                      "results_hash, last_scan, summary) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    [ST_POLICY_DEL] = "DELETE FROM policies WHERE policy_id = ?1",
    [ST_POLICY_DEL_CHECKS] = "DELETE FROM checks WHERE policy_id = ?1",
    [ST_POLICY_IDS] = "SELECT policy_id FROM policies UNION SELECT DISTINCT policy_id FROM checks ORDER BY 1",
    [ST_CHECKS_EACH] =
        "SELECT check_id, result, reason, scan_id, event, detail FROM checks WHERE policy_id = ?1 "
        "ORDER BY check_id",
    [ST_CHECK_RESULTS] = "SELECT check_id, result FROM checks WHERE policy_id = ?1 ORDER BY check_id",
    [ST_CHECK_PUT] =
        "INSERT OR REPLACE INTO checks(policy_id, check_id, result, reason, scan_id, event, detail) "
        "VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    [ST_CHECKS_DEL_STALE] = "DELETE FROM checks WHERE policy_id = ?1 AND scan_id != ?2",
    [ST_CHECK_KEEP] = "UPDATE checks SET scan_id = ?3 WHERE policy_id = ?1 AND check_id = ?2",
    [ST_VERSION_GET] = "SELECT max_version FROM versions WHERE policy_id = ?1",
    [ST_VERSION_RAISE] = "INSERT INTO versions(policy_id, max_version) VALUES(?1, ?2) ON CONFLICT(policy_id) "
                         "DO UPDATE SET max_version = max(max_version, excluded.max_version)",
    [ST_OUTBOX_SEQ] = "SELECT seq FROM sqlite_sequence WHERE name = 'outbox'",
    [ST_OUTBOX_ADD] = "INSERT INTO outbox(seq, kind, policy_id, frame) VALUES(?1, ?2, ?3, ?4)",
    [ST_OUTBOX_EACH] = "SELECT seq, kind, frame FROM outbox WHERE seq > ?1 ORDER BY seq LIMIT ?2",
    [ST_OUTBOX_ACK] = "DELETE FROM outbox WHERE seq <= ?1",
    [ST_OUTBOX_STATS] = "SELECT count(*), coalesce(sum(length(frame)), 0) FROM outbox",
    [ST_META_GET] = "SELECT value FROM meta WHERE key = ?1",
    [ST_META_PUT] = "INSERT OR REPLACE INTO meta(key, value) VALUES(?1, ?2)",
    [ST_OUTBOX_POLICY] =
        "SELECT seq, kind, frame FROM outbox WHERE policy_id = ?1 AND kind IN ('check_deltas', "
        "'scan_summary') ORDER BY seq",
    [ST_OUTBOX_DEL] = "DELETE FROM outbox WHERE seq = ?1",
    [ST_OUTBOX_COUNT] = "SELECT count(*) FROM outbox WHERE policy_id IS ?1 AND kind = ?2",
};

struct agent_store {
  sqlite_db *d;
  sqlite3 *db; /* sqlite_db_handle(d) */
};

static int fail(agent_store *s, const char *what) { return sqlite_db_fail(s->d, what); }

const char *agent_store_error(const agent_store *s) { return sqlite_db_error(s->d); }

/* The statement, reset and with its bindings cleared. */
static sqlite3_stmt *stmt(agent_store *s, int id) { return sqlite_db_stmt(s->d, (size_t)id); }

/* Step a statement that returns no rows. */
static int exec_step(agent_store *s, sqlite3_stmt *st, const char *what) {
  return sqlite_db_exec(s->d, st, what);
}

/* The wall clock in milliseconds. Builds with TENET_TEST_HOOKS shift it by the seconds in
 * TENET_TEST_CLOCK_OFFSET, so tests can create a store with the clock really behind. */
static int64_t now_ms(void) {
  struct timeval tv;
  gettimeofday(&tv, NULL);
  int64_t ms = (int64_t)tv.tv_sec * 1000 + tv.tv_usec / 1000;
#ifdef TENET_TEST_HOOKS
  const char *off = getenv("TENET_TEST_CLOCK_OFFSET");
  if (off && *off) ms += strtoll(off, NULL, 10) * 1000;
#endif
  return ms;
}

/* The store's id (meta 'store_id'): 128 random bits as 32 hex digits, drawn once per store and
 * sent in Hello, so the manager tells a re-created store from the one it knew. */
static int ensure_store_id(sqlite_db *d) {
  sqlite3 *db = sqlite_db_handle(d);
  uint8_t r[16];
  char hex[33], ins[160];
  if (getrandom(r, sizeof r, 0) != (ssize_t)sizeof r) {
    snprintf(ins, sizeof ins, "no random bytes for the store id: %s", strerror(errno));
    return sqlite_db_fail(d, ins);
  }
  for (int i = 0; i < 16; i++)
    snprintf(hex + 2 * i, 3, "%02x", r[i]);
  snprintf(ins, sizeof ins, "INSERT OR IGNORE INTO meta(key, value) VALUES('store_id', '%s')", hex);
  return sqlite3_exec(db, ins, NULL, NULL, NULL) == SQLITE_OK ? TN_OK
                                                              : sqlite_db_fail(d, "creating the store id");
}

/* A new store: outbox sequence numbers start at its creation time in milliseconds (the manager
 * tells stores apart by their id, not by their numbers). */
static int seed_outbox(sqlite_db *d, void *arg) {
  char ins[160];
  snprintf(ins, sizeof ins,
           "INSERT INTO sqlite_sequence(name, seq) SELECT 'outbox', %lld "
           "WHERE NOT EXISTS (SELECT 1 FROM sqlite_sequence WHERE name = 'outbox')",
           (long long)now_ms());
  if (sqlite3_exec(sqlite_db_handle(d), ins, NULL, NULL, NULL) != SQLITE_OK)
    return sqlite_db_fail(d, "creating the outbox");
  return ensure_store_id(d);
}

agent_store *agent_store_open(const char *path, char *err, size_t errlen) {
  agent_store *s = calloc(1, sizeof *s);
  if (!s) {
    snprintf(err, errlen, "out of memory");
    return NULL;
  }
  sqlite_db_options o = {
      .durable = 1,
      .schema = schema,
      .version = SCHEMA_VERSION,
      .what = "tenet-agent state database",
      .on_create = seed_outbox,
  };
  if (!(s->d = sqlite_db_open(path, &o, sql, ST__COUNT, err, errlen))) {
    free(s);
    return NULL;
  }
  s->db = sqlite_db_handle(s->d);
  sqlite_db_restrict_mode(path);
  /* a store made before store ids gets one now */
  if (ensure_store_id(s->d) != TN_OK) {
    snprintf(err, errlen, "%s: %s", path, sqlite_db_error(s->d));
    agent_store_close(s);
    return NULL;
  }
  return s;
}

void agent_store_close(agent_store *s) {
  if (!s) return;
  sqlite_db_close(s->d);
  free(s);
}

int agent_store_begin(agent_store *s) { return sqlite_db_begin(s->d); }
int agent_store_commit(agent_store *s) { return sqlite_db_commit(s->d); }
void agent_store_rollback(agent_store *s) { sqlite_db_rollback(s->d); }

/* ---- policies ---- */

static void copy_hex(char dst[65], const unsigned char *src) {
  snprintf(dst, 65, "%s", src ? (const char *)src : "");
}

int agent_store_policy_get(agent_store *s, const char *policy_id, agent_policy_row *row, int *found) {
  memset(row, 0, sizeof *row);
  row->scan_id = -1;
  *found = 0;
  sqlite3_stmt *st = stmt(s, ST_POLICY_GET);
  sqlite3_bind_text(st, 1, policy_id, -1, SQLITE_STATIC);
  int rc = sqlite3_step(st);
  if (rc == SQLITE_ROW) {
    copy_hex(row->bundle_hash, sqlite3_column_text(st, 0));
    row->policy_version = (uint64_t)sqlite3_column_int64(st, 1);
    row->scan_id = sqlite3_column_int64(st, 2);
    copy_hex(row->results_hash, sqlite3_column_text(st, 3));
    row->last_scan = sqlite3_column_int64(st, 4);
    const void *b = sqlite3_column_blob(st, 5);
    int n = sqlite3_column_bytes(st, 5);
    if (b && n > 0) {
      if (!(row->summary = malloc((size_t)n))) {
        sqlite3_reset(st);
        return TN_ENOMEM;
      }
      memcpy(row->summary, b, (size_t)n);
      row->summary_len = (size_t)n;
    }
    *found = 1;
    rc = SQLITE_DONE;
  }
  sqlite3_reset(st);
  return rc == SQLITE_DONE ? TN_OK : fail(s, "reading a policy");
}

int agent_store_policy_put(agent_store *s, const char *policy_id, const agent_policy_row *row) {
  sqlite3_stmt *st = stmt(s, ST_POLICY_PUT);
  sqlite3_bind_text(st, 1, policy_id, -1, SQLITE_STATIC);
  sqlite3_bind_text(st, 2, row->bundle_hash, -1, SQLITE_STATIC);
  sqlite3_bind_int64(st, 3, (sqlite3_int64)row->policy_version);
  sqlite3_bind_int64(st, 4, row->scan_id);
  sqlite3_bind_text(st, 5, row->results_hash, -1, SQLITE_STATIC);
  sqlite3_bind_int64(st, 6, row->last_scan);
  if (row->summary) sqlite3_bind_blob(st, 7, row->summary, (int)row->summary_len, SQLITE_STATIC);
  return exec_step(s, st, "writing a policy");
}

int agent_store_policy_delete(agent_store *s, const char *policy_id) {
  int rc = agent_store_checks_delete(s, policy_id);
  if (rc != TN_OK) return rc;
  sqlite3_stmt *st = stmt(s, ST_POLICY_DEL);
  sqlite3_bind_text(st, 1, policy_id, -1, SQLITE_STATIC);
  return exec_step(s, st, "deleting a policy");
}

void agent_store_strings_free(char **v, size_t n) {
  if (!v) return;
  for (size_t i = 0; i < n; i++)
    free(v[i]);
  free(v);
}

int agent_store_policy_ids(agent_store *s, char ***ids, size_t *n) {
  *ids = NULL;
  *n = 0;
  sqlite3_stmt *st = stmt(s, ST_POLICY_IDS);
  size_t cap = 0;
  int rc;
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    if (*n == cap) {
      cap = cap ? cap * 2 : 8;
      char **nv = realloc(*ids, cap * sizeof *nv);
      if (!nv) goto oom;
      *ids = nv;
    }
    if (!((*ids)[*n] = strdup((const char *)sqlite3_column_text(st, 0)))) goto oom;
    (*n)++;
  }
  sqlite3_reset(st);
  if (rc == SQLITE_DONE) return TN_OK;
  agent_store_strings_free(*ids, *n);
  *ids = NULL;
  *n = 0;
  return fail(s, "listing policies");
oom:
  sqlite3_reset(st);
  agent_store_strings_free(*ids, *n);
  *ids = NULL;
  *n = 0;
  return TN_ENOMEM;
}

void agent_policy_row_free(agent_policy_row *row) {
  if (!row) return;
  free(row->summary);
  row->summary = NULL;
  row->summary_len = 0;
}

/* ---- checks ---- */

int agent_store_checks_each(agent_store *s, const char *policy_id, agent_store_check_fn fn, void *arg) {
  sqlite3_stmt *st = stmt(s, ST_CHECKS_EACH);
  sqlite3_bind_text(st, 1, policy_id, -1, SQLITE_STATIC);
  int rc;
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    agent_check_row r = {
        .check_id = sqlite3_column_int64(st, 0),
        .result = sqlite3_column_int(st, 1),
        .reason = (const char *)sqlite3_column_text(st, 2),
        .scan_id = sqlite3_column_int64(st, 3),
        .event = (const char *)sqlite3_column_text(st, 4),
        .detail = sqlite3_column_blob(st, 5),
        .detail_len = (size_t)sqlite3_column_bytes(st, 5),
    };
    if (!r.reason) r.reason = "";
    if (!r.event) r.event = "";
    int stop = fn(arg, &r);
    if (stop) {
      sqlite3_reset(st);
      return stop;
    }
  }
  sqlite3_reset(st);
  return rc == SQLITE_DONE ? TN_OK : fail(s, "reading checks");
}

int agent_store_check_results(agent_store *s, const char *policy_id, int64_t **ids, int **results,
                              size_t *n) {
  *ids = NULL;
  *results = NULL;
  *n = 0;
  sqlite3_stmt *st = stmt(s, ST_CHECK_RESULTS);
  sqlite3_bind_text(st, 1, policy_id, -1, SQLITE_STATIC);
  size_t cap = 0;
  int rc;
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    if (*n == cap) {
      cap = cap ? cap * 2 : 64;
      int64_t *ni = realloc(*ids, cap * sizeof *ni);
      if (ni) *ids = ni;
      int *nr = realloc(*results, cap * sizeof *nr);
      if (nr) *results = nr;
      if (!ni || !nr) {
        rc = SQLITE_NOMEM;
        break;
      }
    }
    (*ids)[*n] = sqlite3_column_int64(st, 0);
    (*results)[*n] = sqlite3_column_int(st, 1);
    (*n)++;
  }
  sqlite3_reset(st);
  if (rc == SQLITE_DONE) return TN_OK;
  free(*ids);
  free(*results);
  *ids = NULL;
  *results = NULL;
  *n = 0;
  return rc == SQLITE_NOMEM ? TN_ENOMEM : fail(s, "reading results");
}

int agent_store_check_put(agent_store *s, const char *policy_id, const agent_check_row *row) {
  sqlite3_stmt *st = stmt(s, ST_CHECK_PUT);
  sqlite3_bind_text(st, 1, policy_id, -1, SQLITE_STATIC);
  sqlite3_bind_int64(st, 2, row->check_id);
  sqlite3_bind_int(st, 3, row->result);
  sqlite3_bind_text(st, 4, row->reason ? row->reason : "", -1, SQLITE_STATIC);
  sqlite3_bind_int64(st, 5, row->scan_id);
  sqlite3_bind_text(st, 6, row->event ? row->event : "", -1, SQLITE_STATIC);
  if (row->detail_len) sqlite3_bind_blob(st, 7, row->detail, (int)row->detail_len, SQLITE_STATIC);
  return exec_step(s, st, "writing a check");
}

int agent_store_checks_delete(agent_store *s, const char *policy_id) {
  sqlite3_stmt *st = stmt(s, ST_POLICY_DEL_CHECKS);
  sqlite3_bind_text(st, 1, policy_id, -1, SQLITE_STATIC);
  return exec_step(s, st, "deleting checks");
}

int agent_store_check_keep(agent_store *s, const char *policy_id, int64_t check_id, int64_t scan_id) {
  sqlite3_stmt *st = stmt(s, ST_CHECK_KEEP);
  sqlite3_bind_text(st, 1, policy_id, -1, SQLITE_STATIC);
  sqlite3_bind_int64(st, 2, check_id);
  sqlite3_bind_int64(st, 3, scan_id);
  return exec_step(s, st, "keeping a check");
}

int agent_store_checks_delete_stale(agent_store *s, const char *policy_id, int64_t scan_id) {
  sqlite3_stmt *st = stmt(s, ST_CHECKS_DEL_STALE);
  sqlite3_bind_text(st, 1, policy_id, -1, SQLITE_STATIC);
  sqlite3_bind_int64(st, 2, scan_id);
  return exec_step(s, st, "deleting stale checks");
}

int agent_store_results_hash(agent_store *s, const char *policy_id, char out[65], size_t *n) {
  int64_t *ids;
  int *results;
  size_t cnt;
  int rc = agent_store_check_results(s, policy_id, &ids, &results, &cnt);
  if (rc != TN_OK) return rc;
  const char **names = malloc((cnt ? cnt : 1) * sizeof *names);
  if (!names) {
    free(ids);
    free(results);
    return TN_ENOMEM;
  }
  for (size_t i = 0; i < cnt; i++)
    names[i] = results[i] == 1 ? "passed" : results[i] == 2 ? "failed" : "not applicable";
  scan_results_hash_strings(names, cnt, out);
  free(names);
  free(ids);
  free(results);
  if (n) *n = cnt;
  return TN_OK;
}

/* ---- anti-rollback ---- */

int agent_store_version_get(agent_store *s, const char *policy_id, uint64_t *version, int *found) {
  *found = 0;
  *version = 0;
  sqlite3_stmt *st = stmt(s, ST_VERSION_GET);
  sqlite3_bind_text(st, 1, policy_id, -1, SQLITE_STATIC);
  int rc = sqlite3_step(st);
  if (rc == SQLITE_ROW) {
    *version = (uint64_t)sqlite3_column_int64(st, 0);
    *found = 1;
    rc = SQLITE_DONE;
  }
  sqlite3_reset(st);
  return rc == SQLITE_DONE ? TN_OK : fail(s, "reading a policy version");
}

int agent_store_version_raise(agent_store *s, const char *policy_id, uint64_t version) {
  sqlite3_stmt *st = stmt(s, ST_VERSION_RAISE);
  sqlite3_bind_text(st, 1, policy_id, -1, SQLITE_STATIC);
  sqlite3_bind_int64(st, 2, (sqlite3_int64)version);
  return exec_step(s, st, "recording a policy version");
}

/* ---- outbox ---- */

int agent_store_outbox_next_seq(agent_store *s, uint64_t *seq) {
  sqlite3_stmt *st = stmt(s, ST_OUTBOX_SEQ);
  int rc = sqlite3_step(st);
  int64_t last = 0;
  if (rc == SQLITE_ROW) {
    last = sqlite3_column_int64(st, 0);
    rc = SQLITE_DONE;
  }
  sqlite3_reset(st);
  if (rc != SQLITE_DONE) return fail(s, "reading the outbox sequence");
  *seq = (uint64_t)last + 1;
  return TN_OK;
}

int agent_store_outbox_add(agent_store *s, uint64_t seq, const char *kind, const char *policy_id,
                           const uint8_t *frame, size_t len) {
  sqlite3_stmt *st = stmt(s, ST_OUTBOX_ADD);
  sqlite3_bind_int64(st, 1, (sqlite3_int64)seq);
  sqlite3_bind_text(st, 2, kind, -1, SQLITE_STATIC);
  if (policy_id) sqlite3_bind_text(st, 3, policy_id, -1, SQLITE_STATIC);
  sqlite3_bind_blob64(st, 4, frame, len, SQLITE_STATIC);
  return exec_step(s, st, "adding to the outbox");
}

int agent_store_outbox_each(agent_store *s, uint64_t after, size_t max, agent_store_outbox_fn fn, void *arg) {
  sqlite3_stmt *st = stmt(s, ST_OUTBOX_EACH);
  sqlite3_bind_int64(st, 1, (sqlite3_int64)after);
  sqlite3_bind_int64(st, 2, (sqlite3_int64)max);
  int rc;
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    const uint8_t *frame = sqlite3_column_blob(st, 2);
    size_t len = (size_t)sqlite3_column_bytes(st, 2);
    int stop =
        fn(arg, (uint64_t)sqlite3_column_int64(st, 0), (const char *)sqlite3_column_text(st, 1), frame, len);
    if (stop) {
      sqlite3_reset(st);
      return stop;
    }
  }
  sqlite3_reset(st);
  return rc == SQLITE_DONE ? TN_OK : fail(s, "reading the outbox");
}

int agent_store_outbox_ack(agent_store *s, uint64_t upto, int *deleted) {
  sqlite3_stmt *st = stmt(s, ST_OUTBOX_ACK);
  sqlite3_bind_int64(st, 1, (sqlite3_int64)upto);
  int rc = exec_step(s, st, "acknowledging outbox rows");
  if (deleted) *deleted = rc == TN_OK ? sqlite3_changes(s->db) : 0;
  return rc;
}

int agent_store_outbox_stats(agent_store *s, size_t *count, size_t *bytes) {
  sqlite3_stmt *st = stmt(s, ST_OUTBOX_STATS);
  int rc = sqlite3_step(st);
  if (rc == SQLITE_ROW) {
    *count = (size_t)sqlite3_column_int64(st, 0);
    *bytes = (size_t)sqlite3_column_int64(st, 1);
    rc = SQLITE_DONE;
  }
  sqlite3_reset(st);
  return rc == SQLITE_DONE ? TN_OK : fail(s, "counting the outbox");
}

/* ---- meta ---- */

int agent_store_meta_get(agent_store *s, const char *key, char **value) {
  *value = NULL;
  sqlite3_stmt *st = stmt(s, ST_META_GET);
  sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
  int rc = sqlite3_step(st);
  if (rc == SQLITE_ROW) {
    const char *v = (const char *)sqlite3_column_text(st, 0);
    if (!(*value = strdup(v ? v : ""))) {
      sqlite3_reset(st);
      return TN_ENOMEM;
    }
    rc = SQLITE_DONE;
  }
  sqlite3_reset(st);
  return rc == SQLITE_DONE ? TN_OK : fail(s, "reading meta");
}

int agent_store_meta_put(agent_store *s, const char *key, const char *value) {
  sqlite3_stmt *st = stmt(s, ST_META_PUT);
  sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
  sqlite3_bind_text(st, 2, value, -1, SQLITE_STATIC);
  return exec_step(s, st, "writing meta");
}

/* ---- outbox coalescing ---- */

int agent_store_outbox_policy_each(agent_store *s, const char *policy_id, agent_store_outbox_fn fn,
                                   void *arg) {
  sqlite3_stmt *st = stmt(s, ST_OUTBOX_POLICY);
  sqlite3_bind_text(st, 1, policy_id, -1, SQLITE_STATIC);
  int rc;
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    int stop = fn(arg, (uint64_t)sqlite3_column_int64(st, 0), (const char *)sqlite3_column_text(st, 1),
                  sqlite3_column_blob(st, 2), (size_t)sqlite3_column_bytes(st, 2));
    if (stop) {
      sqlite3_reset(st);
      return stop;
    }
  }
  sqlite3_reset(st);
  return rc == SQLITE_DONE ? TN_OK : fail(s, "reading the outbox");
}

int agent_store_outbox_delete(agent_store *s, uint64_t seq) {
  sqlite3_stmt *st = stmt(s, ST_OUTBOX_DEL);
  sqlite3_bind_int64(st, 1, (sqlite3_int64)seq);
  return exec_step(s, st, "deleting an outbox row");
}

int agent_store_outbox_count(agent_store *s, const char *policy_id, const char *kind, size_t *n) {
  sqlite3_stmt *st = stmt(s, ST_OUTBOX_COUNT);
  sqlite3_bind_text(st, 1, policy_id, -1, SQLITE_STATIC);
  sqlite3_bind_text(st, 2, kind, -1, SQLITE_STATIC);
  int rc = sqlite3_step(st);
  *n = 0;
  if (rc == SQLITE_ROW) {
    *n = (size_t)sqlite3_column_int64(st, 0);
    rc = SQLITE_DONE;
  }
  sqlite3_reset(st);
  return rc == SQLITE_DONE ? TN_OK : fail(s, "counting the outbox");
}
