/* store.h — the manager's copy of every agent's state: the only module of the manager that talks
 * to a database. Two backends behind one API (store.c dispatches through store_backend.h):
 *
 *   sqlite:PATH (or a bare PATH)   one SQLite file (WAL), one manager (store_sqlite.c, through
 *                                  proto/daemon/sqlite_db.h)
 *   postgresql://… / postgres://…  a PostgreSQL database (libpq URI) that several managers share
 *                                  (store_pg.c): versioned migrations, per-agent ownership
 *
 * Tables (the same concepts in both):
 *   agents    one row per agent id (the CN of its certificate): first/last seen, version, the
 *             highest outbox seq applied (duplicate suppression) and traffic counters
 *   policies  one row per (agent, policy): bundle hash + version + source hash and metadata of the
 *             policy, and the last summary (scan id, counts, score, times, results hash)
 *   checks    one row per (agent, policy, check): result ("passed", "failed", "not applicable"),
 *             reason, scan id, the check event JSON (stored as sent, never parsed), the title
 *   connections  one row per agent that ever completed a Hello: connected now or not, from where,
 *             when it last connected and disconnected, and (PostgreSQL) which manager node serves it
 *   agent_stores  the store id each agent's Hello carried (a new id: its seqs started over)
 *   alert_outbox  alert lines committed with the state change they describe; a drain claims rows
 *             (claimed_by = its node, claimed_at) before writing them to its alerts file and deletes
 *             them after (alerts.h)
 *   alert_drains  one row per node with a drain under way: where in which alerts file it began
 *
 * Each manager has one writer connection: the server brackets each event-loop iteration with
 * mstore_begin / mstore_commit. Readers (`tenet-manager query`, tests) open the store read-only
 * beside it. Functions return TN_OK, TN_ENOMEM or TN_EDB (mstore_error says why). */
#ifndef TENET_MANAGER_STORE_H
#define TENET_MANAGER_STORE_H

#include <stddef.h>
#include <stdint.h>

typedef struct mstore mstore;

/* Open the store named by store ("sqlite:PATH", a bare PATH, or a "postgresql://" / "postgres://"
 * libpq URI), creating it (SQLite) or migrating its schema (PostgreSQL) unless readonly. durable:
 * every commit reaches the disk (SQLite synchronous=FULL, PostgreSQL synchronous_commit=on) rather
 * than surviving a crash of the process only. NULL with a message in err. The store is the
 * caller's (mstore_close). */
mstore *mstore_open(const char *store, int readonly, int durable, char *err, size_t errlen);
/* NULL is a no-op. */
void mstore_close(mstore *s);
/* The last error (owned by s). */
const char *mstore_error(const mstore *s);
/* "sqlite" or "postgresql". */
const char *mstore_backend_name(const mstore *s);
/* Non-zero when several managers may write this store at once (PostgreSQL). */
int mstore_shared(const mstore *s);
/* Non-zero when the store was opened durable (every commit reaches the disk before it returns). */
int mstore_durable(const mstore *s);
/* Check a store string without opening anything: TN_OK, or TN_ECONFIG with why in err. */
int mstore_check_string(const char *store, char *err, size_t errlen);
/* Check that the store can be used, changing nothing: PostgreSQL connects and reads the schema
 * version (none yet, or one this binary can migrate); SQLite checks nothing more than the string
 * (the directory check is the caller's). TN_OK, or TN_ECONFIG / TN_EDB with why in err. */
int mstore_probe(const char *store, char *err, size_t errlen);
/* Name this manager in the store (connections.node, alert claims; default: the host name; copied).
 * PostgreSQL, writable store: also takes the node's session-level advisory lock, held for the
 * store's life; TN_EDB ("another manager runs as node ...") when a live session holds it. */
int mstore_set_node(mstore *s, const char *node);
/* The number of the current database session: it changes when a lost PostgreSQL connection was
 * opened again, which ended the old session's claims (SQLite: always 1). */
uint64_t mstore_session(const mstore *s);

int mstore_begin(mstore *s);
int mstore_commit(mstore *s);
void mstore_rollback(mstore *s);
/* Non-zero inside a transaction. */
int mstore_in_transaction(const mstore *s);

/* ---- agents ---- */

typedef struct mstore_counters {
  int64_t frames_in, bytes_in, frames_out, bytes_out; /* frames include their 4-byte header */
  int64_t hellos, deltas, delta_checks, dumps, dump_checks, dump_ends, summaries, policy_lists;
  int64_t duplicates;      /* messages skipped because their seq was already applied */
  int64_t dumps_requested; /* DumpRequests sent */
  int64_t offers_sent;     /* BundleOffers sent */
  int64_t dropped_checks;  /* test fault injection (test_drop_check) */
} mstore_counters;

#define MSTORE_NCOUNTERS 16

typedef struct mstore_agent {
  char agent_id[65];
  int64_t first_seen, last_seen;
  char version[32];
  char hello_id[65]; /* the id the agent's Hello claimed */
  uint64_t last_seq;
  mstore_counters c;
  int connected;           /* connected to the manager now (as the manager last recorded it) */
  char peer[80];           /* address of the last connection */
  int64_t connected_at;    /* when it last connected (0: never) */
  int64_t disconnected_at; /* when it last disconnected (0: never) */
  char node[64];           /* the manager node that recorded the connection ("" with SQLite) */
} mstore_agent;

/* Insert or update an agent at a connection (Hello). */
int mstore_agent_touch(mstore *s, const char *agent_id, const char *version, const char *hello_id,
                       int64_t now);
int mstore_agent_get(mstore *s, const char *agent_id, mstore_agent *a, int *found);
int mstore_agent_set_last_seq(mstore *s, const char *agent_id, uint64_t seq, int64_t now);
/* Add c to the agent's counters. */
int mstore_agent_add_counters(mstore *s, const char *agent_id, const mstore_counters *c);
/* The agent completed a Hello from peer / its connection ended (last_seen becomes now). */
int mstore_agent_connected(mstore *s, const char *agent_id, const char *peer, int64_t now);
int mstore_agent_disconnected(mstore *s, const char *agent_id, int64_t now);
/* Every agent recorded as connected by this node becomes disconnected at now (a manager
 * starting; SQLite: every agent, the file has one manager). */
int mstore_connections_reset(mstore *s, int64_t now);
typedef int (*mstore_agent_fn)(void *arg, const mstore_agent *a);
int mstore_agents_each(mstore *s, mstore_agent_fn fn, void *arg);

/* Ownership (several managers on one store): a manager serves an agent only while it holds its
 * claim. PostgreSQL: a session-level advisory lock keyed by XXH64 of the id, taken without waiting
 * (*claimed = 0: another manager's session holds it) and freed by mstore_agent_release or by the
 * end of the session (a manager killed, its connection lost). Claims stack: each claim needs its
 * release. A release inside a transaction takes effect when the transaction ends, so the next
 * owner sees this manager's last writes. SQLite: *claimed is always 1. */
int mstore_agent_claim(mstore *s, const char *agent_id, int *claimed);
int mstore_agent_release(mstore *s, const char *agent_id);

/* The store id (Hello.store_id) last recorded for the agent into out (*found = 0: none). */
int mstore_agent_store_id(mstore *s, const char *agent_id, char out[65], int *found);
/* Record the agent's store id; forget (non-zero): the agent's store is a new one, so the highest
 * seq applied (last_seq) goes back to 0. */
int mstore_agent_new_store(mstore *s, const char *agent_id, const char *store_id, int forget);

/* ---- alert outbox ---- */

/* Queue one alert line (inside the transaction that changes the state it describes). */
int mstore_alert_add(mstore *s, const char *line, size_t len);
/* The line is borrowed for the call; a non-zero return stops the walk and is returned. */
typedef int (*mstore_alert_fn)(void *arg, int64_t id, const char *line, size_t len);
/* Walk at most limit queued alerts, oldest first. Inside a transaction the rows walked are held
 * until it ends and skipped by other managers' walks (PostgreSQL: FOR UPDATE SKIP LOCKED; SQLite:
 * the transaction holds the write lock), so two drainers never take the same row. */
int mstore_alerts_each(mstore *s, size_t limit, mstore_alert_fn fn, void *arg);
/* Delete the queued alerts with id <= upto (written; one drainer only). */
int mstore_alerts_delete(mstore *s, int64_t upto);
/* Delete the queued alerts ids[0..n) (written: the rows a drain took). */
int mstore_alerts_delete_ids(mstore *s, const int64_t *ids, size_t n);
/* How many alerts are queued and their bytes. */
int mstore_alerts_stats(mstore *s, int64_t *count, int64_t *bytes);

/* ---- alert drains (claim, write, finish; alerts.h) ---- */

/* Where a node's drain began writing: the alerts file's size before the write and its identity. */
typedef struct mstore_drain {
  int64_t file_offset;
  uint64_t file_dev, file_ino;
  int64_t claimed_at; /* wall-clock ms */
} mstore_drain;

/* Inside a transaction: mark at most limit unclaimed alerts, oldest first, claimed by this node at
 * now (wall-clock ms); rows another transaction holds are skipped (PostgreSQL: FOR UPDATE SKIP
 * LOCKED). *claimed gets how many. PostgreSQL: fails (TN_EDB) unless this node holds its node lock
 * (mstore_set_node, taken again here when it was lost). */
int mstore_alerts_claim(mstore *s, size_t limit, int64_t now, size_t *claimed);
/* Walk the alerts this node claimed, by id (SQLite: every claimed alert, the file has one node). */
int mstore_alerts_claimed_each(mstore *s, mstore_alert_fn fn, void *arg);
/* Record (replace) this node's drain / read it (*found = 0: none; PostgreSQL: the row is held until
 * the transaction ends, so a takeover waits for it). */
int mstore_drain_put(mstore *s, const mstore_drain *d);
int mstore_drain_get(mstore *s, mstore_drain *d, int *found);
/* The drain is written: delete this node's claimed alerts and its drain record. */
int mstore_alerts_finish(mstore *s);
/* Inside a transaction: the claims of every other node whose node lock is free (the manager is
 * dead) and whose drain began at or before `before` (wall-clock ms) are released to any drain
 * (logged as a warning per node: the dead node may have written them already). *released gets
 * how many alerts. SQLite: none (one node per file). */
int mstore_alerts_takeover(mstore *s, int64_t before, int64_t *released);

/* ---- policies ---- */

typedef struct mstore_policy {
  char agent_id[65];
  char policy_id[256];
  char bundle_hash[65];
  uint64_t policy_version;
  char source_hash[65];
  char *name, *file, *description, *references; /* malloc'd by get/each; "" when unknown */
  int64_t scan_id;
  int64_t passed, failed, invalid, total_checks;
  double score;
  int64_t start_time, end_time;
  char summary_hash[65]; /* results hash of the last summary */
  int64_t last_summary;  /* when it arrived */
} mstore_policy;

int mstore_policy_get(mstore *s, const char *agent_id, const char *policy_id, mstore_policy *p, int *found);
int mstore_policy_put(mstore *s, const mstore_policy *p);
/* Delete a policy row and its checks; *checks (may be NULL) gets how many checks went. */
int mstore_policy_delete(mstore *s, const char *agent_id, const char *policy_id, int *checks);
/* Delete every policy (and checks) of the agent whose id is not in ids; *deleted gets the count. */
int mstore_policies_retain(mstore *s, const char *agent_id, const char *const *ids, size_t n, int *deleted);
/* Free the strings get/each allocated (p itself is the caller's); NULL is a no-op. */
void mstore_policy_free(mstore_policy *p);
typedef int (*mstore_policy_fn)(void *arg, const mstore_policy *p);
/* Walk policies (of one agent, or of all when agent_id is NULL) by agent then policy id. */
int mstore_policies_each(mstore *s, const char *agent_id, mstore_policy_fn fn, void *arg);

/* ---- checks ---- */

typedef struct mstore_check {
  int64_t check_id;
  const char *result; /* "passed", "failed", "not applicable" */
  const char *reason;
  int64_t scan_id;
  const char *event;
  int64_t updated;
  const char *title; /* from the check detail the agent sent ("" when none) */
} mstore_check;

/* The stored result of one check into result (*found = 0 when absent). */
int mstore_check_get(mstore *s, const char *agent_id, const char *policy_id, int64_t check_id,
                     char result[16], int *found);
int mstore_check_put(mstore *s, const char *agent_id, const char *policy_id, const mstore_check *c);
/* Delete the checks of a policy; *n (may be NULL) gets how many. */
int mstore_checks_delete(mstore *s, const char *agent_id, const char *policy_id, int *n);
/* Delete the checks of a policy whose scan id is not scan_id. */
int mstore_checks_delete_other_scans(mstore *s, const char *agent_id, const char *policy_id, int64_t scan_id,
                                     int *n);
/* Results hash (ARCHITECTURE.md) of the stored checks of a policy; *n gets their count. */
int mstore_results_hash(mstore *s, const char *agent_id, const char *policy_id, char out[65], size_t *n);
typedef int (*mstore_check_fn)(void *arg, const mstore_check *c);
/* Walk the checks of a policy by ascending id (pointers valid during the call). */
int mstore_checks_each(mstore *s, const char *agent_id, const char *policy_id, mstore_check_fn fn, void *arg);

#endif
