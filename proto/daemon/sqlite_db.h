/* sqlite_db.h — the one place both daemons' stores get their SQLite connection from: open with
 * WAL, a busy timeout and the stores' pragmas, create or check a schema stamped with a version,
 * prepare every statement of a store's table at once, and bracket writes with
 * begin/commit/rollback.
 *
 * STYLE rule 10: SQLite is called only here and in each daemon's store module (agent/store.c,
 * manager/store.c). The stores keep their own SQL (schemas and statements); this helper holds the
 * mechanics they used to repeat. A connection belongs to one thread. Functions return TN_OK,
 * TN_ENOMEM or TN_EDB; sqlite_db_error says why. */
#ifndef TENET_DAEMON_SQLITE_DB_H
#define TENET_DAEMON_SQLITE_DB_H

#include <stddef.h>

typedef struct sqlite3 sqlite3;
typedef struct sqlite3_stmt sqlite3_stmt;

typedef struct sqlite_db sqlite_db;

/* How to open a store. */
typedef struct sqlite_db_options {
  int readonly;        /* open read-only: no pragmas, no schema creation, the stamp is checked */
  int durable;         /* synchronous=FULL (every commit reaches the disk) rather than NORMAL */
  const char *schema;  /* CREATE TABLE IF NOT EXISTS ... statements (needs a meta(key, value) table) */
  const char *version; /* the schema stamp stored in meta under 'schema' */
  const char *what;    /* "state database", "store": for messages */
  /* Called once, inside the creating transaction, when the store is new (NULL: nothing); the
   * table's statements are not prepared yet (use sqlite_db_handle). TN_OK or TN_EDB (with
   * sqlite_db_fail). */
  int (*on_create)(sqlite_db *d, void *arg);
  void *arg;
} sqlite_db_options;

/* Open (creating unless readonly) the database at path, create or check its schema, and prepare
 * the n statements of sql[] (kept for the connection's life). NULL with a message in err
 * ("PATH: why"). The returned connection is owned by the caller (sqlite_db_close). */
sqlite_db *sqlite_db_open(const char *path, const sqlite_db_options *opt, const char *const *sql, size_t n,
                          char *err, size_t errlen);
/* Finalize the statements and close. NULL is a no-op. */
void sqlite_db_close(sqlite_db *d);

/* Make a store file owner-only (0600), its -wal and -shm too: SQLite gives them the database's
 * mode when it creates them, so a store calls this right after its first open (which also fixes
 * stores made 0644 by older versions). By name only: opening and closing the file here would
 * drop this process's SQLite locks on it (POSIX record locks belong to the process). A path that
 * is empty or starts with ':' (":memory:") is left alone. */
void sqlite_db_restrict_mode(const char *path);

/* The raw handle and the prepared statement i, reset and with its bindings cleared (both owned
 * by d). */
sqlite3 *sqlite_db_handle(sqlite_db *d);
sqlite3_stmt *sqlite_db_stmt(sqlite_db *d, size_t i);

/* Step a statement that returns no row, then reset it. TN_OK or TN_EDB ("what: why"). */
int sqlite_db_exec(sqlite_db *d, sqlite3_stmt *st, const char *what);
/* Record "what: <SQLite's message>" as the last error and return TN_EDB. */
int sqlite_db_fail(sqlite_db *d, const char *what);
/* The last error (owned by d). */
const char *sqlite_db_error(const sqlite_db *d);

/* BEGIN IMMEDIATE (takes the write lock), COMMIT, ROLLBACK (only inside a transaction). */
int sqlite_db_begin(sqlite_db *d);
int sqlite_db_commit(sqlite_db *d);
void sqlite_db_rollback(sqlite_db *d);
/* Non-zero inside a transaction. */
int sqlite_db_in_transaction(const sqlite_db *d);

#endif
