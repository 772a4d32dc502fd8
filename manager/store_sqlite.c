/* store_sqlite.c — the manager's SQLite store backend (store.h, store_backend.h): its schema and
 * statements; opening, preparing and transactions are sqlite_db.h's. Statements are prepared once.
 * One manager per file (its pid file beside it): every claim succeeds, the session never changes. */
#include "store_backend.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "err.h"
#include "scan.h"
#include "sqlite_db.h"

#define SCHEMA_VERSION "tenet-manager-3" /* 2: checks.title; 3: alert claims and drains */

#define COUNTER_COLUMNS                                                                                      \
  "frames_in, bytes_in, frames_out, bytes_out, hellos, deltas, delta_checks, dumps, dump_checks, "           \
  "dump_ends, summaries, policy_lists, duplicates, dumps_requested, offers_sent, dropped_checks"

/* The drain under way (alerts.h): where it began writing the alerts file. */
#define ALERT_DRAINS                                                                                         \
  "CREATE TABLE IF NOT EXISTS alert_drains(node TEXT PRIMARY KEY, file_offset INTEGER NOT NULL, "            \
  "file_dev INTEGER NOT NULL, file_ino INTEGER NOT NULL, claimed_at INTEGER NOT NULL);"

/* A store of schema 2 (before alert claims) becomes 3 when a manager opens it. */
static const char upgrade_2_3[] = "ALTER TABLE alert_outbox ADD COLUMN claimed_by TEXT;"
                                  "ALTER TABLE alert_outbox ADD COLUMN claimed_at INTEGER;" ALERT_DRAINS
                                  "UPDATE meta SET value = '" SCHEMA_VERSION "' WHERE key = 'schema';";

static const char schema[] =
    "CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS agents("
    "  agent_id TEXT PRIMARY KEY, first_seen INTEGER NOT NULL, last_seen INTEGER NOT NULL,"
    "  version TEXT NOT NULL DEFAULT '', hello_id TEXT NOT NULL DEFAULT '', last_seq INTEGER NOT NULL "
    "DEFAULT 0,"
    "  frames_in INTEGER NOT NULL DEFAULT 0, bytes_in INTEGER NOT NULL DEFAULT 0,"
    "  frames_out INTEGER NOT NULL DEFAULT 0, bytes_out INTEGER NOT NULL DEFAULT 0,"
    "  hellos INTEGER NOT NULL DEFAULT 0, deltas INTEGER NOT NULL DEFAULT 0,"
    "  delta_checks INTEGER NOT NULL DEFAULT 0, dumps INTEGER NOT NULL DEFAULT 0,"
    "  dump_checks INTEGER NOT NULL DEFAULT 0, dump_ends INTEGER NOT NULL DEFAULT 0,"
    "  summaries INTEGER NOT NULL DEFAULT 0, policy_lists INTEGER NOT NULL DEFAULT 0,"
    "  duplicates INTEGER NOT NULL DEFAULT 0, dumps_requested INTEGER NOT NULL DEFAULT 0,"
    "  offers_sent INTEGER NOT NULL DEFAULT 0, dropped_checks INTEGER NOT NULL DEFAULT 0) WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS policies("
    "  agent_id TEXT NOT NULL, policy_id TEXT NOT NULL, bundle_hash TEXT NOT NULL, policy_version INTEGER "
    "NOT NULL,"
    "  source_hash TEXT NOT NULL, name TEXT NOT NULL, file TEXT NOT NULL, description TEXT NOT NULL,"
    "  refs TEXT NOT NULL, scan_id INTEGER NOT NULL, passed INTEGER NOT NULL, failed INTEGER NOT NULL,"
    "  invalid INTEGER NOT NULL, total_checks INTEGER NOT NULL, score REAL NOT NULL, start_time INTEGER NOT "
    "NULL,"
    "  end_time INTEGER NOT NULL, summary_hash TEXT NOT NULL, last_summary INTEGER NOT NULL,"
    "  PRIMARY KEY(agent_id, policy_id)) WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS checks("
    "  agent_id TEXT NOT NULL, policy_id TEXT NOT NULL, check_id INTEGER NOT NULL, result TEXT NOT NULL,"
    "  reason TEXT NOT NULL, scan_id INTEGER NOT NULL, event TEXT NOT NULL, updated INTEGER NOT NULL,"
    "  title TEXT NOT NULL DEFAULT '', PRIMARY KEY(agent_id, policy_id, check_id)) WITHOUT ROWID;"
    /* added beside the tables above (a store made before it gets it at the manager's next start) */
    "CREATE TABLE IF NOT EXISTS connections("
    "  agent_id TEXT PRIMARY KEY, connected INTEGER NOT NULL, peer TEXT NOT NULL,"
    "  connected_at INTEGER NOT NULL, disconnected_at INTEGER NOT NULL) WITHOUT ROWID;"
    /* the id of the agent's own store (Hello.store_id): a new one means its seqs started over */
    "CREATE TABLE IF NOT EXISTS agent_stores(agent_id TEXT PRIMARY KEY, store_id TEXT NOT NULL) WITHOUT "
    "ROWID;"
    /* alerts committed with the state they describe, deleted once written to the alerts file */
    "CREATE TABLE IF NOT EXISTS alert_outbox(id INTEGER PRIMARY KEY AUTOINCREMENT, line BLOB NOT NULL,"
    " claimed_by TEXT, claimed_at INTEGER);" ALERT_DRAINS;

enum {
  ST_AGENT_TOUCH,
  ST_AGENT_GET,
  ST_AGENT_SEQ,
  ST_AGENT_ADD,
  ST_AGENTS_EACH,
  ST_CONN_UP,
  ST_CONN_DOWN,
  ST_CONN_SEEN,
  ST_CONN_RESET,
  ST_POLICY_GET,
  ST_POLICY_PUT,
  ST_POLICY_DEL,
  ST_POLICY_IDS,
  ST_POLICIES_AGENT,
  ST_POLICIES_ALL,
  ST_CHECK_GET,
  ST_CHECK_PUT,
  ST_CHECKS_DEL,
  ST_CHECKS_DEL_OTHER,
  ST_CHECK_RESULTS,
  ST_CHECKS_EACH,
  ST_STORE_ID_GET,
  ST_STORE_ID_PUT,
  ST_AGENT_SEQ_RESET,
  ST_ALERT_ADD,
  ST_ALERTS_EACH,
  ST_ALERTS_DEL,
  ST_ALERTS_STATS,
  ST_ALERT_DEL_ONE,
  ST_ALERTS_CLAIM,
  ST_ALERTS_CLAIMED,
  ST_DRAIN_PUT,
  ST_DRAIN_GET,
  ST_FINISH_ROWS,
  ST_FINISH_DRAIN,
  ST__COUNT
};

#define POLICY_COLUMNS                                                                                       \
  "agent_id, policy_id, bundle_hash, policy_version, source_hash, name, file, description, refs, scan_id, "  \
  "passed, failed, invalid, total_checks, score, start_time, end_time, summary_hash, last_summary"

#define AGENT_COLUMNS                                                                                        \
  "agent_id, first_seen, last_seen, version, hello_id, last_seq, " COUNTER_COLUMNS                           \
  ", coalesce(connected, 0), coalesce(peer, ''), coalesce(connected_at, 0), coalesce(disconnected_at, 0)"
#define AGENT_FROM " FROM agents LEFT JOIN connections USING(agent_id)"

static const char *const sql[ST__COUNT] = {
    [ST_AGENT_TOUCH] =
        "INSERT INTO agents(agent_id, first_seen, last_seen, version, hello_id) VALUES(?1, ?2, ?2, ?3, ?4) "
        "ON CONFLICT(agent_id) DO UPDATE SET last_seen = ?2, version = ?3, hello_id = ?4",
    [ST_AGENT_GET] = "SELECT " AGENT_COLUMNS AGENT_FROM " WHERE agent_id = ?1",
    [ST_AGENT_SEQ] =
        "UPDATE agents SET last_seq = max(last_seq, ?2), last_seen = max(last_seen, ?3) WHERE agent_id = ?1",
    [ST_AGENT_ADD] =
        "UPDATE agents SET frames_in = frames_in + ?2, bytes_in = bytes_in + ?3, frames_out = frames_out + "
        "?4, "
        "bytes_out = bytes_out + ?5, hellos = hellos + ?6, deltas = deltas + ?7, "
        "delta_checks = delta_checks + ?8, dumps = dumps + ?9, dump_checks = dump_checks + ?10, "
        "dump_ends = dump_ends + ?11, summaries = summaries + ?12, policy_lists = policy_lists + ?13, "
        "duplicates = duplicates + ?14, dumps_requested = dumps_requested + ?15, "
        "offers_sent = offers_sent + ?16, dropped_checks = dropped_checks + ?17 WHERE agent_id = ?1",
    [ST_AGENTS_EACH] = "SELECT " AGENT_COLUMNS AGENT_FROM " ORDER BY agent_id",
    [ST_CONN_UP] = "INSERT INTO connections(agent_id, connected, peer, connected_at, disconnected_at) "
                   "VALUES(?1, 1, ?2, ?3, 0) ON CONFLICT(agent_id) DO UPDATE SET connected = 1, peer = ?2, "
                   "connected_at = ?3",
    [ST_CONN_DOWN] = "UPDATE connections SET connected = 0, disconnected_at = ?2 WHERE agent_id = ?1",
    [ST_CONN_SEEN] = "UPDATE agents SET last_seen = max(last_seen, ?2) WHERE agent_id = ?1",
    [ST_CONN_RESET] = "UPDATE connections SET connected = 0, disconnected_at = ?1 WHERE connected = 1",
    [ST_POLICY_GET] = "SELECT " POLICY_COLUMNS " FROM policies WHERE agent_id = ?1 AND policy_id = ?2",
    [ST_POLICY_PUT] =
        "INSERT OR REPLACE INTO policies(" POLICY_COLUMNS ") VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, "
        "?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19)",
    [ST_POLICY_DEL] = "DELETE FROM policies WHERE agent_id = ?1 AND policy_id = ?2",
    [ST_POLICY_IDS] = "SELECT policy_id FROM policies WHERE agent_id = ?1 UNION "
                      "SELECT DISTINCT policy_id FROM checks WHERE agent_id = ?1",
    [ST_POLICIES_AGENT] = "SELECT " POLICY_COLUMNS " FROM policies WHERE agent_id = ?1 ORDER BY policy_id",
    [ST_POLICIES_ALL] = "SELECT " POLICY_COLUMNS " FROM policies ORDER BY agent_id, policy_id",
    [ST_CHECK_GET] = "SELECT result FROM checks WHERE agent_id = ?1 AND policy_id = ?2 AND check_id = ?3",
    [ST_CHECK_PUT] =
        "INSERT OR REPLACE INTO checks(agent_id, policy_id, check_id, result, reason, scan_id, event, "
        "updated, title) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
    [ST_CHECKS_DEL] = "DELETE FROM checks WHERE agent_id = ?1 AND policy_id = ?2",
    [ST_CHECKS_DEL_OTHER] = "DELETE FROM checks WHERE agent_id = ?1 AND policy_id = ?2 AND scan_id != ?3",
    [ST_CHECK_RESULTS] = "SELECT result FROM checks WHERE agent_id = ?1 AND policy_id = ?2 ORDER BY check_id",
    [ST_CHECKS_EACH] = "SELECT check_id, result, reason, scan_id, event, updated, title FROM checks "
                       "WHERE agent_id = ?1 AND policy_id = ?2 ORDER BY check_id",
    [ST_STORE_ID_GET] = "SELECT store_id FROM agent_stores WHERE agent_id = ?1",
    [ST_STORE_ID_PUT] = "INSERT OR REPLACE INTO agent_stores(agent_id, store_id) VALUES(?1, ?2)",
    [ST_AGENT_SEQ_RESET] = "UPDATE agents SET last_seq = 0 WHERE agent_id = ?1",
    [ST_ALERT_ADD] = "INSERT INTO alert_outbox(line) VALUES(?1)",
    [ST_ALERTS_EACH] = "SELECT id, line FROM alert_outbox ORDER BY id LIMIT ?1",
    [ST_ALERTS_DEL] = "DELETE FROM alert_outbox WHERE id <= ?1",
    [ST_ALERTS_STATS] = "SELECT count(*), coalesce(sum(length(line)), 0) FROM alert_outbox",
    [ST_ALERT_DEL_ONE] = "DELETE FROM alert_outbox WHERE id = ?1",
    [ST_ALERTS_CLAIM] = "UPDATE alert_outbox SET claimed_by = ?1, claimed_at = ?2 WHERE id IN "
                        "(SELECT id FROM alert_outbox WHERE claimed_by IS NULL ORDER BY id LIMIT ?3)",
    /* one manager per file: every claim is this manager's, whatever its node name was */
    [ST_ALERTS_CLAIMED] = "SELECT id, line FROM alert_outbox WHERE claimed_by IS NOT NULL ORDER BY id",
    [ST_DRAIN_PUT] = "INSERT OR REPLACE INTO alert_drains(node, file_offset, file_dev, file_ino, claimed_at) "
                     "VALUES(?1, ?2, ?3, ?4, ?5)",
    [ST_DRAIN_GET] = "SELECT file_offset, file_dev, file_ino, claimed_at FROM alert_drains ORDER BY "
                     "claimed_at DESC LIMIT 1",
    [ST_FINISH_ROWS] = "DELETE FROM alert_outbox WHERE claimed_by IS NOT NULL",
    [ST_FINISH_DRAIN] = "DELETE FROM alert_drains",
};

typedef struct sqlite_store {
  sqlite_db *d;
  sqlite3 *db;   /* sqlite_db_handle(d) */
  char node[64]; /* alert_outbox.claimed_by (informative: one manager per file) */
} sqlite_store;

static int fail(sqlite_store *s, const char *what) { return sqlite_db_fail(s->d, what); }

static int sq_checks_delete(void *h, const char *agent_id, const char *policy_id, int *n);

static const char *sq_error(const void *h) {
  const sqlite_store *s = h;
  return sqlite_db_error(s->d);
}

static sqlite3_stmt *stmt(sqlite_store *s, int id) { return sqlite_db_stmt(s->d, (size_t)id); }

static int exec_step(sqlite_store *s, sqlite3_stmt *st, const char *what) {
  return sqlite_db_exec(s->d, st, what);
}

/* SQLite reports a full disk as "disk I/O error" (no room for the -shm), "database or disk is
 * full" or, read-only, as a store it cannot read: when opening failed and the file system holding
 * the store has less than STORE_MIN_FREE bytes left, say so first. */
#define STORE_MIN_FREE (1024 * 1024)
static void explain_full(const char *path, char *err, size_t errlen) {
  char dir[4096];
  snprintf(dir, sizeof dir, "%s", path);
  char *slash = strrchr(dir, '/');
  if (!slash)
    snprintf(dir, sizeof dir, ".");
  else if (slash == dir)
    dir[1] = '\0';
  else
    *slash = '\0';
  struct statvfs v;
  if (statvfs(dir, &v) != 0) return;
  unsigned long long avail = (unsigned long long)v.f_bavail * v.f_frsize;
  if (avail >= STORE_MIN_FREE && v.f_favail > 0) return;
  char why[1024];
  size_t plen = strlen(path);
  /* err is "PATH: what SQLite said" */
  snprintf(why, sizeof why, "%s",
           strncmp(err, path, plen) == 0 && err[plen] == ':' && err[plen + 1] == ' ' ? err + plen + 2 : err);
  if (v.f_favail == 0)
    snprintf(err, errlen, "%s: disk full (no inode free on its file system; SQLite said: %s)", path, why);
  else
    snprintf(err, errlen, "%s: disk full (%llu bytes free on its file system; SQLite said: %s)", path, avail,
             why);
}

/* Bring an existing store of schema 2 to this version before sqlite_db_open checks the stamp. A
 * file that does not exist, or is not a schema-2 store, is left to sqlite_db_open. */
static int upgrade(const char *path, char *err, size_t errlen) {
  sqlite3 *db = NULL;
  if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
    sqlite3_close(db);
    return TN_OK;
  }
  sqlite3_busy_timeout(db, 5000);
  sqlite3_stmt *q = NULL;
  int old = 0;
  if (sqlite3_prepare_v2(db, "SELECT value FROM meta WHERE key = 'schema'", -1, &q, NULL) == SQLITE_OK &&
      sqlite3_step(q) == SQLITE_ROW && sqlite3_column_text(q, 0))
    old = strcmp((const char *)sqlite3_column_text(q, 0), "tenet-manager-2") == 0;
  sqlite3_finalize(q);
  int rc = TN_OK;
  char *msg = NULL;
  if (old) {
    if (sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, &msg) != SQLITE_OK ||
        sqlite3_exec(db, upgrade_2_3, NULL, NULL, &msg) != SQLITE_OK ||
        sqlite3_exec(db, "COMMIT", NULL, NULL, &msg) != SQLITE_OK) {
      snprintf(err, errlen, "%s: upgrading the tenet-manager store to %s: %s", path, SCHEMA_VERSION,
               msg ? msg : sqlite3_errmsg(db));
      sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
      rc = TN_EDB;
    }
  }
  sqlite3_free(msg);
  sqlite3_close(db);
  return rc;
}

static void *sq_open(const char *path, int readonly, int durable, char *err, size_t errlen) {
  if (!readonly && upgrade(path, err, errlen) != TN_OK) return NULL;
  sqlite_store *s = calloc(1, sizeof *s);
  if (!s) {
    snprintf(err, errlen, "out of memory");
    return NULL;
  }
  snprintf(s->node, sizeof s->node, "local");
  sqlite_db_options o = {
      .readonly = readonly,
      .durable = durable,
      .schema = schema,
      .version = SCHEMA_VERSION,
      .what = "tenet-manager store",
  };
  if (!(s->d = sqlite_db_open(path, &o, sql, ST__COUNT, err, errlen))) {
    explain_full(path, err, errlen);
    free(s);
    return NULL;
  }
  if (!readonly) sqlite_db_restrict_mode(path);
  s->db = sqlite_db_handle(s->d);
  return s;
}

static int sq_probe(const char *path, char *err, size_t errlen) {
  (void)path;
  (void)err;
  (void)errlen;
  return TN_OK;
}

static void sq_close(void *h) {
  sqlite_store *s = h;
  sqlite_db_close(s->d);
  free(s);
}

/* One store, one manager: nothing to name, one session, every claim succeeds (the pid file keeps a
 * second manager off the file). */
static int sq_set_node(void *h, const char *node) {
  sqlite_store *s = h;
  if (node && *node) snprintf(s->node, sizeof s->node, "%s", node);
  return TN_OK;
}

static uint64_t sq_session(const void *h) {
  (void)h;
  return 1;
}

static int sq_agent_claim(void *h, const char *agent_id, int *claimed) {
  (void)h;
  (void)agent_id;
  *claimed = 1;
  return TN_OK;
}

static int sq_agent_release(void *h, const char *agent_id) {
  (void)h;
  (void)agent_id;
  return TN_OK;
}

static int sq_begin(void *h) {
  sqlite_store *s = h;
  return sqlite_db_begin(s->d);
}
static int sq_commit(void *h) {
  sqlite_store *s = h;
  return sqlite_db_commit(s->d);
}
static void sq_rollback(void *h) {
  sqlite_store *s = h;
  sqlite_db_rollback(s->d);
}
static int sq_in_transaction(const void *h) {
  const sqlite_store *s = h;
  return sqlite_db_in_transaction(s->d);
}

static void text_into(char *dst, size_t cap, const unsigned char *src) {
  snprintf(dst, cap, "%s", src ? (const char *)src : "");
}

/* ---- agents ---- */

static int sq_agent_touch(void *h, const char *agent_id, const char *version, const char *hello_id,
                          int64_t now) {
  sqlite_store *s = h;
  sqlite3_stmt *st = stmt(s, ST_AGENT_TOUCH);
  sqlite3_bind_text(st, 1, agent_id, -1, SQLITE_STATIC);
  sqlite3_bind_int64(st, 2, now);
  sqlite3_bind_text(st, 3, version ? version : "", -1, SQLITE_STATIC);
  sqlite3_bind_text(st, 4, hello_id ? hello_id : "", -1, SQLITE_STATIC);
  return exec_step(s, st, "recording an agent");
}

static void read_agent(sqlite3_stmt *st, mstore_agent *a) {
  memset(a, 0, sizeof *a);
  text_into(a->agent_id, sizeof a->agent_id, sqlite3_column_text(st, 0));
  a->first_seen = sqlite3_column_int64(st, 1);
  a->last_seen = sqlite3_column_int64(st, 2);
  text_into(a->version, sizeof a->version, sqlite3_column_text(st, 3));
  text_into(a->hello_id, sizeof a->hello_id, sqlite3_column_text(st, 4));
  a->last_seq = (uint64_t)sqlite3_column_int64(st, 5);
  int64_t *c = &a->c.frames_in;
  for (int i = 0; i < MSTORE_NCOUNTERS; i++)
    c[i] = sqlite3_column_int64(st, 6 + i);
  a->connected = sqlite3_column_int(st, 6 + MSTORE_NCOUNTERS);
  text_into(a->peer, sizeof a->peer, sqlite3_column_text(st, 7 + MSTORE_NCOUNTERS));
  a->connected_at = sqlite3_column_int64(st, 8 + MSTORE_NCOUNTERS);
  a->disconnected_at = sqlite3_column_int64(st, 9 + MSTORE_NCOUNTERS);
}

static int sq_agent_get(void *h, const char *agent_id, mstore_agent *a, int *found) {
  sqlite_store *s = h;
  *found = 0;
  sqlite3_stmt *st = stmt(s, ST_AGENT_GET);
  sqlite3_bind_text(st, 1, agent_id, -1, SQLITE_STATIC);
  int rc = sqlite3_step(st);
  if (rc == SQLITE_ROW) {
    read_agent(st, a);
    *found = 1;
    rc = SQLITE_DONE;
  }
  sqlite3_reset(st);
  return rc == SQLITE_DONE ? TN_OK : fail(s, "reading an agent");
}

static int sq_agent_set_last_seq(void *h, const char *agent_id, uint64_t seq, int64_t now) {
  sqlite_store *s = h;
  sqlite3_stmt *st = stmt(s, ST_AGENT_SEQ);
  sqlite3_bind_text(st, 1, agent_id, -1, SQLITE_STATIC);
  sqlite3_bind_int64(st, 2, (sqlite3_int64)seq);
  sqlite3_bind_int64(st, 3, now);
  return exec_step(s, st, "recording an agent's seq");
}

static int sq_agent_add_counters(void *h, const char *agent_id, const mstore_counters *c) {
  sqlite_store *s = h;
  sqlite3_stmt *st = stmt(s, ST_AGENT_ADD);
  sqlite3_bind_text(st, 1, agent_id, -1, SQLITE_STATIC);
  const int64_t *v = &c->frames_in;
  for (int i = 0; i < MSTORE_NCOUNTERS; i++)
    sqlite3_bind_int64(st, 2 + i, v[i]);
  return exec_step(s, st, "updating counters");
}

static int sq_agents_each(void *h, mstore_agent_fn fn, void *arg) {
  sqlite_store *s = h;
  sqlite3_stmt *st = stmt(s, ST_AGENTS_EACH);
  int rc;
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    mstore_agent a;
    read_agent(st, &a);
    int stop = fn(arg, &a);
    if (stop) {
      sqlite3_reset(st);
      return stop;
    }
  }
  sqlite3_reset(st);
  return rc == SQLITE_DONE ? TN_OK : fail(s, "listing agents");
}

static int sq_agent_connected(void *h, const char *agent_id, const char *peer, int64_t now) {
  sqlite_store *s = h;
  sqlite3_stmt *st = stmt(s, ST_CONN_UP);
  sqlite3_bind_text(st, 1, agent_id, -1, SQLITE_STATIC);
  sqlite3_bind_text(st, 2, peer ? peer : "", -1, SQLITE_STATIC);
  sqlite3_bind_int64(st, 3, now);
  return exec_step(s, st, "recording a connection");
}

static int sq_agent_disconnected(void *h, const char *agent_id, int64_t now) {
  sqlite_store *s = h;
  sqlite3_stmt *st = stmt(s, ST_CONN_DOWN);
  sqlite3_bind_text(st, 1, agent_id, -1, SQLITE_STATIC);
  sqlite3_bind_int64(st, 2, now);
  int rc = exec_step(s, st, "recording a disconnection");
  if (rc != TN_OK) return rc;
  st = stmt(s, ST_CONN_SEEN);
  sqlite3_bind_text(st, 1, agent_id, -1, SQLITE_STATIC);
  sqlite3_bind_int64(st, 2, now);
  return exec_step(s, st, "recording a disconnection");
}

static int sq_connections_reset(void *h, int64_t now) {
  sqlite_store *s = h;
  sqlite3_stmt *st = stmt(s, ST_CONN_RESET);
  sqlite3_bind_int64(st, 1, now);
  return exec_step(s, st, "resetting connections");
}

/* ---- policies ---- */

static int read_policy(sqlite3_stmt *st, mstore_policy *p) {
  memset(p, 0, sizeof *p);
  text_into(p->agent_id, sizeof p->agent_id, sqlite3_column_text(st, 0));
  text_into(p->policy_id, sizeof p->policy_id, sqlite3_column_text(st, 1));
  text_into(p->bundle_hash, sizeof p->bundle_hash, sqlite3_column_text(st, 2));
  p->policy_version = (uint64_t)sqlite3_column_int64(st, 3);
  text_into(p->source_hash, sizeof p->source_hash, sqlite3_column_text(st, 4));
  char **strs[4] = {&p->name, &p->file, &p->description, &p->references};
  for (int i = 0; i < 4; i++) {
    const unsigned char *t = sqlite3_column_text(st, 5 + i);
    if (!(*strs[i] = strdup(t ? (const char *)t : ""))) {
      mstore_policy_strings_free(p);
      return TN_ENOMEM;
    }
  }
  p->scan_id = sqlite3_column_int64(st, 9);
  p->passed = sqlite3_column_int64(st, 10);
  p->failed = sqlite3_column_int64(st, 11);
  p->invalid = sqlite3_column_int64(st, 12);
  p->total_checks = sqlite3_column_int64(st, 13);
  p->score = sqlite3_column_double(st, 14);
  p->start_time = sqlite3_column_int64(st, 15);
  p->end_time = sqlite3_column_int64(st, 16);
  text_into(p->summary_hash, sizeof p->summary_hash, sqlite3_column_text(st, 17));
  p->last_summary = sqlite3_column_int64(st, 18);
  return TN_OK;
}

static int sq_policy_get(void *h, const char *agent_id, const char *policy_id, mstore_policy *p, int *found) {
  sqlite_store *s = h;
  *found = 0;
  memset(p, 0, sizeof *p);
  sqlite3_stmt *st = stmt(s, ST_POLICY_GET);
  sqlite3_bind_text(st, 1, agent_id, -1, SQLITE_STATIC);
  sqlite3_bind_text(st, 2, policy_id, -1, SQLITE_STATIC);
  int rc = sqlite3_step(st);
  int out = TN_OK;
  if (rc == SQLITE_ROW) {
    out = read_policy(st, p);
    *found = out == TN_OK;
    rc = SQLITE_DONE;
  }
  sqlite3_reset(st);
  if (rc != SQLITE_DONE) return fail(s, "reading a policy");
  return out;
}

static int sq_policy_put(void *h, const mstore_policy *p) {
  sqlite_store *s = h;
  sqlite3_stmt *st = stmt(s, ST_POLICY_PUT);
  sqlite3_bind_text(st, 1, p->agent_id, -1, SQLITE_STATIC);
  sqlite3_bind_text(st, 2, p->policy_id, -1, SQLITE_STATIC);
  sqlite3_bind_text(st, 3, p->bundle_hash, -1, SQLITE_STATIC);
  sqlite3_bind_int64(st, 4, (sqlite3_int64)p->policy_version);
  sqlite3_bind_text(st, 5, p->source_hash, -1, SQLITE_STATIC);
  sqlite3_bind_text(st, 6, p->name ? p->name : "", -1, SQLITE_STATIC);
  sqlite3_bind_text(st, 7, p->file ? p->file : "", -1, SQLITE_STATIC);
  sqlite3_bind_text(st, 8, p->description ? p->description : "", -1, SQLITE_STATIC);
  sqlite3_bind_text(st, 9, p->references ? p->references : "", -1, SQLITE_STATIC);
  sqlite3_bind_int64(st, 10, p->scan_id);
  sqlite3_bind_int64(st, 11, p->passed);
  sqlite3_bind_int64(st, 12, p->failed);
  sqlite3_bind_int64(st, 13, p->invalid);
  sqlite3_bind_int64(st, 14, p->total_checks);
  sqlite3_bind_double(st, 15, p->score);
  sqlite3_bind_int64(st, 16, p->start_time);
  sqlite3_bind_int64(st, 17, p->end_time);
  sqlite3_bind_text(st, 18, p->summary_hash, -1, SQLITE_STATIC);
  sqlite3_bind_int64(st, 19, p->last_summary);
  return exec_step(s, st, "writing a policy");
}

static int sq_policy_delete(void *h, const char *agent_id, const char *policy_id, int *checks) {
  sqlite_store *s = h;
  int rc = sq_checks_delete(h, agent_id, policy_id, checks);
  if (rc != TN_OK) return rc;
  sqlite3_stmt *st = stmt(s, ST_POLICY_DEL);
  sqlite3_bind_text(st, 1, agent_id, -1, SQLITE_STATIC);
  sqlite3_bind_text(st, 2, policy_id, -1, SQLITE_STATIC);
  return exec_step(s, st, "deleting a policy");
}

static int sq_policies_retain(void *h, const char *agent_id, const char *const *ids, size_t n, int *deleted) {
  sqlite_store *s = h;
  *deleted = 0;
  char **stored = NULL;
  size_t ns = 0, cap = 0;
  sqlite3_stmt *st = stmt(s, ST_POLICY_IDS);
  sqlite3_bind_text(st, 1, agent_id, -1, SQLITE_STATIC);
  int rc, out = TN_OK;
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    if (ns == cap) {
      cap = cap ? cap * 2 : 8;
      char **nv = realloc(stored, cap * sizeof *nv);
      if (!nv) {
        out = TN_ENOMEM;
        break;
      }
      stored = nv;
    }
    if (!(stored[ns] = strdup((const char *)sqlite3_column_text(st, 0)))) {
      out = TN_ENOMEM;
      break;
    }
    ns++;
  }
  sqlite3_reset(st);
  if (out == TN_OK && rc != SQLITE_DONE) out = fail(s, "listing policies");
  for (size_t i = 0; out == TN_OK && i < ns; i++) {
    size_t j;
    for (j = 0; j < n; j++)
      if (strcmp(ids[j], stored[i]) == 0) break;
    if (j < n) continue;
    out = sq_policy_delete(h, agent_id, stored[i], NULL);
    if (out == TN_OK) (*deleted)++;
  }
  for (size_t i = 0; i < ns; i++)
    free(stored[i]);
  free(stored);
  return out;
}

static int sq_policies_each(void *h, const char *agent_id, mstore_policy_fn fn, void *arg) {
  sqlite_store *s = h;
  sqlite3_stmt *st = stmt(s, agent_id ? ST_POLICIES_AGENT : ST_POLICIES_ALL);
  if (agent_id) sqlite3_bind_text(st, 1, agent_id, -1, SQLITE_STATIC);
  int rc;
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    mstore_policy p;
    if (read_policy(st, &p) != TN_OK) {
      sqlite3_reset(st);
      return TN_ENOMEM;
    }
    int stop = fn(arg, &p);
    mstore_policy_strings_free(&p);
    if (stop) {
      sqlite3_reset(st);
      return stop;
    }
  }
  sqlite3_reset(st);
  return rc == SQLITE_DONE ? TN_OK : fail(s, "listing policies");
}

/* ---- checks ---- */

static int sq_check_get(void *h, const char *agent_id, const char *policy_id, int64_t check_id,
                        char result[16], int *found) {
  sqlite_store *s = h;
  *found = 0;
  result[0] = '\0';
  sqlite3_stmt *st = stmt(s, ST_CHECK_GET);
  sqlite3_bind_text(st, 1, agent_id, -1, SQLITE_STATIC);
  sqlite3_bind_text(st, 2, policy_id, -1, SQLITE_STATIC);
  sqlite3_bind_int64(st, 3, check_id);
  int rc = sqlite3_step(st);
  if (rc == SQLITE_ROW) {
    text_into(result, 16, sqlite3_column_text(st, 0));
    *found = 1;
    rc = SQLITE_DONE;
  }
  sqlite3_reset(st);
  return rc == SQLITE_DONE ? TN_OK : fail(s, "reading a check");
}

static int sq_check_put(void *h, const char *agent_id, const char *policy_id, const mstore_check *c) {
  sqlite_store *s = h;
  sqlite3_stmt *st = stmt(s, ST_CHECK_PUT);
  sqlite3_bind_text(st, 1, agent_id, -1, SQLITE_STATIC);
  sqlite3_bind_text(st, 2, policy_id, -1, SQLITE_STATIC);
  sqlite3_bind_int64(st, 3, c->check_id);
  sqlite3_bind_text(st, 4, c->result, -1, SQLITE_STATIC);
  sqlite3_bind_text(st, 5, c->reason ? c->reason : "", -1, SQLITE_STATIC);
  sqlite3_bind_int64(st, 6, c->scan_id);
  sqlite3_bind_text(st, 7, c->event ? c->event : "", -1, SQLITE_STATIC);
  sqlite3_bind_int64(st, 8, c->updated);
  sqlite3_bind_text(st, 9, c->title ? c->title : "", -1, SQLITE_STATIC);
  return exec_step(s, st, "writing a check");
}

static int sq_checks_delete(void *h, const char *agent_id, const char *policy_id, int *n) {
  sqlite_store *s = h;
  sqlite3_stmt *st = stmt(s, ST_CHECKS_DEL);
  sqlite3_bind_text(st, 1, agent_id, -1, SQLITE_STATIC);
  sqlite3_bind_text(st, 2, policy_id, -1, SQLITE_STATIC);
  int rc = exec_step(s, st, "deleting checks");
  if (n) *n = rc == TN_OK ? sqlite3_changes(s->db) : 0;
  return rc;
}

static int sq_checks_delete_other_scans(void *h, const char *agent_id, const char *policy_id, int64_t scan_id,
                                        int *n) {
  sqlite_store *s = h;
  sqlite3_stmt *st = stmt(s, ST_CHECKS_DEL_OTHER);
  sqlite3_bind_text(st, 1, agent_id, -1, SQLITE_STATIC);
  sqlite3_bind_text(st, 2, policy_id, -1, SQLITE_STATIC);
  sqlite3_bind_int64(st, 3, scan_id);
  int rc = exec_step(s, st, "deleting stale checks");
  if (n) *n = rc == TN_OK ? sqlite3_changes(s->db) : 0;
  return rc;
}

static int sq_results_hash(void *h, const char *agent_id, const char *policy_id, char out[65], size_t *n) {
  sqlite_store *s = h;
  sqlite3_stmt *st = stmt(s, ST_CHECK_RESULTS);
  sqlite3_bind_text(st, 1, agent_id, -1, SQLITE_STATIC);
  sqlite3_bind_text(st, 2, policy_id, -1, SQLITE_STATIC);
  char **v = NULL;
  size_t cnt = 0, cap = 0;
  int rc, out_rc = TN_OK;
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    if (cnt == cap) {
      cap = cap ? cap * 2 : 64;
      char **nv = realloc(v, cap * sizeof *nv);
      if (!nv) {
        out_rc = TN_ENOMEM;
        break;
      }
      v = nv;
    }
    const unsigned char *t = sqlite3_column_text(st, 0);
    if (!(v[cnt] = strdup(t ? (const char *)t : ""))) {
      out_rc = TN_ENOMEM;
      break;
    }
    cnt++;
  }
  sqlite3_reset(st);
  if (out_rc == TN_OK && rc != SQLITE_DONE) out_rc = fail(s, "reading results");
  if (out_rc == TN_OK) scan_results_hash_strings((const char *const *)v, cnt, out);
  for (size_t i = 0; i < cnt; i++)
    free(v[i]);
  free(v);
  if (n) *n = cnt;
  return out_rc;
}

static int sq_checks_each(void *h, const char *agent_id, const char *policy_id, mstore_check_fn fn,
                          void *arg) {
  sqlite_store *s = h;
  sqlite3_stmt *st = stmt(s, ST_CHECKS_EACH);
  sqlite3_bind_text(st, 1, agent_id, -1, SQLITE_STATIC);
  sqlite3_bind_text(st, 2, policy_id, -1, SQLITE_STATIC);
  int rc;
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    mstore_check c = {
        .check_id = sqlite3_column_int64(st, 0),
        .result = (const char *)sqlite3_column_text(st, 1),
        .reason = (const char *)sqlite3_column_text(st, 2),
        .scan_id = sqlite3_column_int64(st, 3),
        .event = (const char *)sqlite3_column_text(st, 4),
        .updated = sqlite3_column_int64(st, 5),
        .title = (const char *)sqlite3_column_text(st, 6),
    };
    if (!c.title) c.title = "";
    if (!c.result) c.result = "";
    if (!c.reason) c.reason = "";
    if (!c.event) c.event = "";
    int stop = fn(arg, &c);
    if (stop) {
      sqlite3_reset(st);
      return stop;
    }
  }
  sqlite3_reset(st);
  return rc == SQLITE_DONE ? TN_OK : fail(s, "reading checks");
}

/* ---- agent stores ---- */

static int sq_agent_store_id(void *h, const char *agent_id, char out[65], int *found) {
  sqlite_store *s = h;
  *found = 0;
  out[0] = '\0';
  sqlite3_stmt *st = stmt(s, ST_STORE_ID_GET);
  sqlite3_bind_text(st, 1, agent_id, -1, SQLITE_STATIC);
  int rc = sqlite3_step(st);
  if (rc == SQLITE_ROW) {
    text_into(out, 65, sqlite3_column_text(st, 0));
    *found = 1;
    rc = SQLITE_DONE;
  }
  sqlite3_reset(st);
  return rc == SQLITE_DONE ? TN_OK : fail(s, "reading an agent's store id");
}

static int sq_agent_new_store(void *h, const char *agent_id, const char *store_id, int forget) {
  sqlite_store *s = h;
  sqlite3_stmt *st = stmt(s, ST_STORE_ID_PUT);
  sqlite3_bind_text(st, 1, agent_id, -1, SQLITE_STATIC);
  sqlite3_bind_text(st, 2, store_id, -1, SQLITE_STATIC);
  int rc = exec_step(s, st, "recording an agent's store id");
  if (rc != TN_OK || !forget) return rc;
  st = stmt(s, ST_AGENT_SEQ_RESET);
  sqlite3_bind_text(st, 1, agent_id, -1, SQLITE_STATIC);
  return exec_step(s, st, "resetting an agent's sequence numbers");
}

/* ---- alert outbox ---- */

static int sq_alert_add(void *h, const char *line, size_t len) {
  sqlite_store *s = h;
  sqlite3_stmt *st = stmt(s, ST_ALERT_ADD);
  sqlite3_bind_blob(st, 1, line, (int)len, SQLITE_STATIC);
  return exec_step(s, st, "queuing an alert");
}

/* Hand each (id, line) row of a stepped alert statement to fn; a non-zero return stops the walk and
 * is returned. */
static int walk_alert_rows(sqlite_store *s, sqlite3_stmt *st, mstore_alert_fn fn, void *arg,
                           const char *what) {
  int rc;
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    const void *b = sqlite3_column_blob(st, 1);
    int stop = fn(arg, sqlite3_column_int64(st, 0), b ? b : "", (size_t)sqlite3_column_bytes(st, 1));
    if (stop) {
      sqlite3_reset(st);
      return stop;
    }
  }
  sqlite3_reset(st);
  return rc == SQLITE_DONE ? TN_OK : fail(s, what);
}

static int sq_alerts_each(void *h, size_t limit, mstore_alert_fn fn, void *arg) {
  sqlite_store *s = h;
  sqlite3_stmt *st = stmt(s, ST_ALERTS_EACH);
  sqlite3_bind_int64(st, 1, (sqlite3_int64)limit);
  return walk_alert_rows(s, st, fn, arg, "reading queued alerts");
}

static int sq_alerts_delete(void *h, int64_t upto) {
  sqlite_store *s = h;
  sqlite3_stmt *st = stmt(s, ST_ALERTS_DEL);
  sqlite3_bind_int64(st, 1, upto);
  return exec_step(s, st, "deleting written alerts");
}

static int sq_alerts_stats(void *h, int64_t *count, int64_t *bytes) {
  sqlite_store *s = h;
  sqlite3_stmt *st = stmt(s, ST_ALERTS_STATS);
  int rc = sqlite3_step(st);
  if (rc == SQLITE_ROW) {
    *count = sqlite3_column_int64(st, 0);
    *bytes = sqlite3_column_int64(st, 1);
    rc = SQLITE_DONE;
  }
  sqlite3_reset(st);
  return rc == SQLITE_DONE ? TN_OK : fail(s, "counting queued alerts");
}

static int sq_alerts_delete_ids(void *h, const int64_t *ids, size_t n) {
  sqlite_store *s = h;
  for (size_t i = 0; i < n; i++) {
    sqlite3_stmt *st = stmt(s, ST_ALERT_DEL_ONE);
    sqlite3_bind_int64(st, 1, ids[i]);
    int rc = exec_step(s, st, "deleting written alerts");
    if (rc != TN_OK) return rc;
  }
  return TN_OK;
}

/* ---- alert drains ---- */

static int sq_alerts_claim(void *h, size_t limit, int64_t now, size_t *claimed) {
  sqlite_store *s = h;
  sqlite3_stmt *st = stmt(s, ST_ALERTS_CLAIM);
  sqlite3_bind_text(st, 1, s->node, -1, SQLITE_STATIC);
  sqlite3_bind_int64(st, 2, now);
  sqlite3_bind_int64(st, 3, (sqlite3_int64)limit);
  int rc = exec_step(s, st, "claiming queued alerts");
  *claimed = rc == TN_OK ? (size_t)sqlite3_changes(s->db) : 0;
  return rc;
}

static int sq_alerts_claimed_each(void *h, mstore_alert_fn fn, void *arg) {
  sqlite_store *s = h;
  sqlite3_stmt *st = stmt(s, ST_ALERTS_CLAIMED);
  return walk_alert_rows(s, st, fn, arg, "reading claimed alerts");
}

static int sq_drain_put(void *h, const mstore_drain *d) {
  sqlite_store *s = h;
  sqlite3_stmt *st = stmt(s, ST_DRAIN_PUT);
  sqlite3_bind_text(st, 1, s->node, -1, SQLITE_STATIC);
  sqlite3_bind_int64(st, 2, d->file_offset);
  sqlite3_bind_int64(st, 3, (sqlite3_int64)d->file_dev);
  sqlite3_bind_int64(st, 4, (sqlite3_int64)d->file_ino);
  sqlite3_bind_int64(st, 5, d->claimed_at);
  return exec_step(s, st, "recording an alert drain");
}

static int sq_drain_get(void *h, mstore_drain *d, int *found) {
  sqlite_store *s = h;
  sqlite3_stmt *st = stmt(s, ST_DRAIN_GET);
  int rc = sqlite3_step(st);
  *found = rc == SQLITE_ROW;
  if (*found) {
    d->file_offset = sqlite3_column_int64(st, 0);
    d->file_dev = (uint64_t)sqlite3_column_int64(st, 1);
    d->file_ino = (uint64_t)sqlite3_column_int64(st, 2);
    d->claimed_at = sqlite3_column_int64(st, 3);
    rc = SQLITE_DONE;
  }
  sqlite3_reset(st);
  return rc == SQLITE_DONE ? TN_OK : fail(s, "reading the alert drain");
}

static int sq_alerts_finish(void *h) {
  sqlite_store *s = h;
  int rc = exec_step(s, stmt(s, ST_FINISH_ROWS), "deleting written alerts");
  return rc == TN_OK ? exec_step(s, stmt(s, ST_FINISH_DRAIN), "deleting the alert drain") : rc;
}

/* One manager per file: no other node's claims to take over. */
static int sq_alerts_takeover(void *h, int64_t before, int64_t *released) {
  (void)h;
  (void)before;
  *released = 0;
  return TN_OK;
}

const mstore_backend mstore_backend_sqlite = {
    .name = "sqlite",
    .shared = 0,
    .open = sq_open,
    .close = sq_close,
    .probe = sq_probe,
    .error = sq_error,
    .set_node = sq_set_node,
    .session = sq_session,
    .begin = sq_begin,
    .commit = sq_commit,
    .rollback = sq_rollback,
    .in_transaction = sq_in_transaction,
    .agent_claim = sq_agent_claim,
    .agent_release = sq_agent_release,
    .agent_touch = sq_agent_touch,
    .agent_get = sq_agent_get,
    .agent_set_last_seq = sq_agent_set_last_seq,
    .agent_add_counters = sq_agent_add_counters,
    .agent_connected = sq_agent_connected,
    .agent_disconnected = sq_agent_disconnected,
    .connections_reset = sq_connections_reset,
    .agents_each = sq_agents_each,
    .agent_store_id = sq_agent_store_id,
    .agent_new_store = sq_agent_new_store,
    .alert_add = sq_alert_add,
    .alerts_each = sq_alerts_each,
    .alerts_delete = sq_alerts_delete,
    .alerts_delete_ids = sq_alerts_delete_ids,
    .alerts_stats = sq_alerts_stats,
    .alerts_claim = sq_alerts_claim,
    .alerts_claimed_each = sq_alerts_claimed_each,
    .drain_put = sq_drain_put,
    .drain_get = sq_drain_get,
    .alerts_finish = sq_alerts_finish,
    .alerts_takeover = sq_alerts_takeover,
    .policy_get = sq_policy_get,
    .policy_put = sq_policy_put,
    .policy_delete = sq_policy_delete,
    .policies_retain = sq_policies_retain,
    .policies_each = sq_policies_each,
    .check_get = sq_check_get,
    .check_put = sq_check_put,
    .checks_delete = sq_checks_delete,
    .checks_delete_other_scans = sq_checks_delete_other_scans,
    .results_hash = sq_results_hash,
    .checks_each = sq_checks_each,
};
