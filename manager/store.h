/* store.h — the manager's copy of every agent's state in one SQLite file (WAL): the only module
 * of the manager that calls SQLite (through proto/daemon/sqlite_db.h, which opens, prepares and
 * brackets transactions).
 *
 *   agents    one row per agent id (the CN of its certificate): first/last seen, version, the
 *             highest outbox seq applied (duplicate suppression) and traffic counters
 *   policies  one row per (agent, policy): bundle hash + version + source hash and metadata of the
 *             policy, and the last summary (scan id, counts, score, times, results hash)
 *   checks    one row per (agent, policy, check): result ("passed", "failed", "not applicable"),
 *             reason, scan id, the check event JSON (stored as sent, never parsed), the title
 *   connections  one row per agent that ever completed a Hello: connected now or not, from where,
 *             when it last connected and disconnected (the server writes it; query agents reads it)
 *   agent_stores  the store id each agent's Hello carried (a new id: its seqs started over)
 *   alert_outbox  alert lines committed with the state change they describe, deleted once the
 *             alerts module wrote them to the alerts file (alerts.h)
 *
 * The server is the one writer: it brackets each event-loop iteration with mstore_begin /
 * mstore_commit. Readers (`tenet-manager query`, tests) open the file read-only beside it.
 * Functions return TN_OK, TN_ENOMEM or TN_EDB (mstore_error says why). */
#ifndef TENET_MANAGER_STORE_H
#define TENET_MANAGER_STORE_H

#include <stddef.h>
#include <stdint.h>

typedef struct mstore mstore;

/* Open (creating when !readonly) the store at path. durable: synchronous=FULL (every commit
 * reaches the disk) rather than NORMAL (survives a crash of the process, not of the machine).
 * NULL with a message in err. */
mstore *mstore_open(const char *path, int readonly, int durable, char *err, size_t errlen);
void mstore_close(mstore *s);
const char *mstore_error(const mstore *s);

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
/* Every agent recorded as connected becomes disconnected at now (a manager starting). */
int mstore_connections_reset(mstore *s, int64_t now);
typedef int (*mstore_agent_fn)(void *arg, const mstore_agent *a);
int mstore_agents_each(mstore *s, mstore_agent_fn fn, void *arg);

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
/* Walk at most limit queued alerts, oldest first. */
int mstore_alerts_each(mstore *s, size_t limit, mstore_alert_fn fn, void *arg);
/* Delete the queued alerts with id <= upto (written). */
int mstore_alerts_delete(mstore *s, int64_t upto);
/* How many alerts are queued and their bytes. */
int mstore_alerts_stats(mstore *s, int64_t *count, int64_t *bytes);

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
