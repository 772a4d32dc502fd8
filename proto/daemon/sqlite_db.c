/* sqlite_db.c — open, schema stamp, prepared statements and transactions for the daemons' stores
 * (see sqlite_db.h). */
#include "sqlite_db.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "err.h"

#define BUSY_TIMEOUT_MS 30000

enum { TX_BEGIN, TX_COMMIT, TX_ROLLBACK, TX__COUNT };
static const char *const tx_sql[TX__COUNT] = {"BEGIN IMMEDIATE", "COMMIT", "ROLLBACK"};
static const char *const tx_what[TX__COUNT] = {"begin", "commit", "rollback"};

struct sqlite_db {
  sqlite3 *db;
  sqlite3_stmt *tx[TX__COUNT]; /* prepared once: a busy writer begins and commits every loop turn */
  sqlite3_stmt **st;
  size_t nst;
  char err[512];
};

int sqlite_db_fail(sqlite_db *d, const char *what) {
  snprintf(d->err, sizeof d->err, "%s: %s", what, sqlite3_errmsg(d->db));
  return TN_EDB;
}

const char *sqlite_db_error(const sqlite_db *d) { return d->err; }
sqlite3 *sqlite_db_handle(sqlite_db *d) { return d->db; }

sqlite3_stmt *sqlite_db_stmt(sqlite_db *d, size_t i) {
  sqlite3_stmt *st = d->st[i];
  sqlite3_reset(st);
  sqlite3_clear_bindings(st);
  return st;
}

int sqlite_db_exec(sqlite_db *d, sqlite3_stmt *st, const char *what) {
  int rc = sqlite3_step(st);
  sqlite3_reset(st);
  return rc == SQLITE_DONE ? TN_OK : sqlite_db_fail(d, what);
}

/* The schema stamp: 1 found (into v), 0 absent, -1 error. */
static int read_stamp(sqlite_db *d, char *v, size_t vlen) {
  sqlite3_stmt *q = NULL;
  if (sqlite3_prepare_v2(d->db, "SELECT value FROM meta WHERE key = 'schema'", -1, &q, NULL) != SQLITE_OK)
    return -1;
  int rc = sqlite3_step(q);
  if (rc == SQLITE_ROW) {
    const unsigned char *t = sqlite3_column_text(q, 0);
    snprintf(v, vlen, "%s", t ? (const char *)t : "");
  }
  sqlite3_finalize(q);
  return rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : -1;
}

static int wrong_stamp(sqlite_db *d, const sqlite_db_options *o, const char *found) {
  snprintf(d->err, sizeof d->err, "not a %s of this version (schema '%s', expected '%s')", o->what, found,
           o->version);
  return TN_EDB;
}

/* Create the schema (idempotent) and stamp a new store, or check an existing store's stamp. */
static int init_schema(sqlite_db *d, const sqlite_db_options *o) {
  char *msg = NULL, v[128] = "";
  if (sqlite3_exec(d->db, "BEGIN IMMEDIATE", NULL, NULL, &msg) != SQLITE_OK) {
    snprintf(d->err, sizeof d->err, "%s", msg ? msg : sqlite3_errmsg(d->db));
    sqlite3_free(msg);
    return TN_EDB;
  }
  int rc = TN_OK;
  if (sqlite3_exec(d->db, o->schema, NULL, NULL, &msg) != SQLITE_OK) goto bad;
  int found = read_stamp(d, v, sizeof v);
  if (found < 0) goto bad;
  if (found && strcmp(v, o->version) != 0) {
    rc = wrong_stamp(d, o, v);
    goto out;
  }
  if (!found) {
    sqlite3_stmt *ins = NULL;
    if (sqlite3_prepare_v2(d->db, "INSERT INTO meta(key, value) VALUES('schema', ?1)", -1, &ins, NULL) !=
        SQLITE_OK)
      goto bad;
    sqlite3_bind_text(ins, 1, o->version, -1, SQLITE_STATIC);
    int st = sqlite3_step(ins);
    sqlite3_finalize(ins);
    if (st != SQLITE_DONE) goto bad;
    if (o->on_create && (rc = o->on_create(d, o->arg)) != TN_OK) goto out;
  }
  if (sqlite3_exec(d->db, "COMMIT", NULL, NULL, &msg) != SQLITE_OK) goto bad;
  return TN_OK;
bad:
  snprintf(d->err, sizeof d->err, "creating the schema: %s", msg ? msg : sqlite3_errmsg(d->db));
  rc = TN_EDB;
out:
  sqlite3_exec(d->db, "ROLLBACK", NULL, NULL, NULL);
  sqlite3_free(msg);
  return rc;
}

/* A read-only opener checks the stamp without writing. */
static int check_schema_ro(sqlite_db *d, const sqlite_db_options *o) {
  char v[128] = "";
  int found = read_stamp(d, v, sizeof v);
  if (found < 0) {
    snprintf(d->err, sizeof d->err, "not a %s: %s", o->what, sqlite3_errmsg(d->db));
    return TN_EDB;
  }
  return found && strcmp(v, o->version) == 0 ? TN_OK : wrong_stamp(d, o, v);
}

sqlite_db *sqlite_db_open(const char *path, const sqlite_db_options *o, const char *const *sql, size_t n,
                          char *err, size_t errlen) {
  sqlite_db *d = calloc(1, sizeof *d);
  if (!d || !(d->st = calloc(n ? n : 1, sizeof *d->st))) {
    snprintf(err, errlen, "out of memory");
    free(d);
    return NULL;
  }
  d->nst = n;
  int flags =
      (o->readonly ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE) | SQLITE_OPEN_NOMUTEX;
  int rc = sqlite3_open_v2(path, &d->db, flags, NULL);
  if (rc != SQLITE_OK) {
    snprintf(err, errlen, "%s: cannot open the %s: %s", path, o->what,
             d->db ? sqlite3_errmsg(d->db) : sqlite3_errstr(rc));
    goto fail;
  }
  sqlite3_busy_timeout(d->db, BUSY_TIMEOUT_MS);
  if (!o->readonly) {
    char *msg = NULL;
    const char *pragmas = o->durable ? "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"
                                     : "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;";
    if (sqlite3_exec(d->db, pragmas, NULL, NULL, &msg) != SQLITE_OK) {
      snprintf(err, errlen, "%s: %s", path, msg ? msg : sqlite3_errmsg(d->db));
      sqlite3_free(msg);
      goto fail;
    }
    if (init_schema(d, o) != TN_OK) {
      snprintf(err, errlen, "%s: %s", path, d->err);
      goto fail;
    }
  } else if (check_schema_ro(d, o) != TN_OK) {
    snprintf(err, errlen, "%s: %s", path, d->err);
    goto fail;
  }
  for (int i = 0; !o->readonly && i < TX__COUNT; i++)
    if (sqlite3_prepare_v3(d->db, tx_sql[i], -1, SQLITE_PREPARE_PERSISTENT, &d->tx[i], NULL) != SQLITE_OK) {
      snprintf(err, errlen, "%s: preparing %s: %s", path, tx_sql[i], sqlite3_errmsg(d->db));
      goto fail;
    }
  for (size_t i = 0; i < n; i++)
    if (sqlite3_prepare_v3(d->db, sql[i], -1, SQLITE_PREPARE_PERSISTENT, &d->st[i], NULL) != SQLITE_OK) {
      snprintf(err, errlen, "%s: preparing statement %zu: %s", path, i, sqlite3_errmsg(d->db));
      goto fail;
    }
  return d;
fail:
  sqlite_db_close(d);
  return NULL;
}

void sqlite_db_close(sqlite_db *d) {
  if (!d) return;
  for (size_t i = 0; i < d->nst; i++)
    sqlite3_finalize(d->st[i]);
  for (int i = 0; i < TX__COUNT; i++)
    sqlite3_finalize(d->tx[i]);
  sqlite3_close(d->db);
  free(d->st);
  free(d);
}

/* Run one of the prepared transaction statements (a read-only store has none: TN_EDB). */
static int tx(sqlite_db *d, int which) {
  if (!d->tx[which]) {
    snprintf(d->err, sizeof d->err, "%s: the store is open read-only", tx_what[which]);
    return TN_EDB;
  }
  return sqlite_db_exec(d, d->tx[which], tx_what[which]);
}

int sqlite_db_begin(sqlite_db *d) { return tx(d, TX_BEGIN); }
int sqlite_db_commit(sqlite_db *d) { return tx(d, TX_COMMIT); }
void sqlite_db_rollback(sqlite_db *d) {
  if (!sqlite3_get_autocommit(d->db)) tx(d, TX_ROLLBACK);
}
int sqlite_db_in_transaction(const sqlite_db *d) { return !sqlite3_get_autocommit(d->db); }

void sqlite_db_restrict_mode(const char *path) {
  if (!path || !*path || *path == ':') return;
  static const char *const suffix[] = {"", "-wal", "-shm"};
  for (int i = 0; i < 3; i++) {
    char f[4096];
    struct stat st;
    if (snprintf(f, sizeof f, "%s%s", path, suffix[i]) < (int)sizeof f && stat(f, &st) == 0 &&
        S_ISREG(st.st_mode) && (st.st_mode & 077))
      chmod(f, 0600);
  }
}
