/* store.h — the agent's durable state in one SQLite file (WAL): the only module that calls
 * SQLite in the agent (through proto/daemon/sqlite_db.h, which opens, prepares and brackets
 * transactions).
 *
 *   policies  one row per policy id: bundle hash and version of the last recorded scan, its scan
 *             id, results hash and the last ScanSummary (a ready frame, for dumps)
 *   checks    one row per (policy, check): result, reason, scan id, the check event JSON and the
 *             encoded check detail (for dumps)
 *   versions  anti-rollback: the highest bundle version ever installed or run per policy id
 *   outbox    messages for the manager, as ready frames keyed by their seq; a row leaves only
 *             when the manager acknowledges it (agent_store_outbox_ack)
 *   meta      schema version and small values (the last policy list sent)
 *
 * Every writer brackets its changes with agent_store_begin / _commit, so a state change and the
 * outbox rows that report it are one transaction. A connection belongs to one thread; threads
 * open their own (WAL lets a reader run beside the writer; writers wait up to 30 s for the lock).
 * Outbox sequence numbers start at the store's creation time in milliseconds, so a re-created
 * store never reuses the numbers of an older one. Functions return TN_OK, TN_ENOMEM or TN_EDB
 * (agent_store_error says why). */
#ifndef TENET_AGENT_STORE_H
#define TENET_AGENT_STORE_H

#include <stddef.h>
#include <stdint.h>

typedef struct agent_store agent_store;

/* Open (creating if needed) the state database at path. NULL on failure with a message in err. */
agent_store *agent_store_open(const char *path, char *err, size_t errlen);
/* Close; NULL is a no-op. */
void agent_store_close(agent_store *s);
/* The last error message (owned by the store). */
const char *agent_store_error(const agent_store *s);

/* Transactions: begin takes the write lock (BEGIN IMMEDIATE). rollback after a failed step. */
int agent_store_begin(agent_store *s);
int agent_store_commit(agent_store *s);
void agent_store_rollback(agent_store *s);

/* ---- policies ---- */

typedef struct agent_policy_row {
  char bundle_hash[65]; /* hex; the bundle that produced the stored checks */
  uint64_t policy_version;
  int64_t scan_id;       /* last recorded scan (-1: none) */
  char results_hash[65]; /* hash of the stored results after that scan */
  int64_t last_scan;     /* end time of that scan (Unix seconds) */
  uint8_t *summary;      /* frame of the last ScanSummary with full metadata (NULL: none); malloc'd by get */
  size_t summary_len;
} agent_policy_row;

/* Fill row for policy_id; *found = 0 when absent. Free row with agent_policy_row_free. */
int agent_store_policy_get(agent_store *s, const char *policy_id, agent_policy_row *row, int *found);
/* Insert or replace the row of policy_id. */
int agent_store_policy_put(agent_store *s, const char *policy_id, const agent_policy_row *row);
/* Delete a policy with its checks. */
int agent_store_policy_delete(agent_store *s, const char *policy_id);
/* Every stored policy id, ascending (malloc'd array of malloc'd strings; free with
 * agent_store_strings_free). */
int agent_store_policy_ids(agent_store *s, char ***ids, size_t *n);
void agent_policy_row_free(agent_policy_row *row);
void agent_store_strings_free(char **v, size_t n);

/* ---- checks ---- */

typedef struct agent_check_row {
  int64_t check_id;
  int result;         /* Tenet__CheckResult: 1 passed, 2 failed, 3 not applicable */
  const char *reason; /* "" unless not applicable */
  int64_t scan_id;
  const char *event;  /* the check event JSON */
  const void *detail; /* the encoded Tenet__CheckDetail (codec_detail_encode), or NULL */
  size_t detail_len;
} agent_check_row;

/* Called for each row (pointers valid during the call only); a non-zero return stops the walk
 * and is returned. */
typedef int (*agent_store_check_fn)(void *arg, const agent_check_row *row);

/* Walk the checks of a policy in ascending check id. */
int agent_store_checks_each(agent_store *s, const char *policy_id, agent_store_check_fn fn, void *arg);
/* The stored (check id, result) pairs of a policy, ascending id: malloc'd arrays (free both). */
int agent_store_check_results(agent_store *s, const char *policy_id, int64_t **ids, int **results, size_t *n);
/* Insert or replace one check. */
int agent_store_check_put(agent_store *s, const char *policy_id, const agent_check_row *row);
/* Delete every check of a policy (bundle changed: the stored results are invalid). */
int agent_store_checks_delete(agent_store *s, const char *policy_id);
/* A 5.x check that was not run: its stored row (if any) keeps its result, reason and event and only
 * takes scan_id, so that it is not stale (not run never overwrites the last known state). */
int agent_store_check_keep(agent_store *s, const char *policy_id, int64_t check_id, int64_t scan_id);
/* Delete the checks of a policy whose scan id is not scan_id (checks the policy no longer has). */
int agent_store_checks_delete_stale(agent_store *s, const char *policy_id, int64_t scan_id);
/* Results hash (ARCHITECTURE.md) of the stored checks of a policy; *n gets their count. */
int agent_store_results_hash(agent_store *s, const char *policy_id, char out[65], size_t *n);

/* ---- anti-rollback ---- */

/* The highest version recorded for policy_id (*found = 0: none). */
int agent_store_version_get(agent_store *s, const char *policy_id, uint64_t *version, int *found);
/* Record version if it is higher than the one stored. */
int agent_store_version_raise(agent_store *s, const char *policy_id, uint64_t version);

/* ---- outbox ---- */

/* The seq the next agent_store_outbox_add will use (inside a write transaction). */
int agent_store_outbox_next_seq(agent_store *s, uint64_t *seq);
/* Append a ready frame with its seq (from agent_store_outbox_next_seq), a kind for logs
 * ("check_deltas", ...) and the policy it concerns (may be NULL). */
int agent_store_outbox_add(agent_store *s, uint64_t seq, const char *kind, const char *policy_id,
                           const uint8_t *frame, size_t len);

typedef int (*agent_store_outbox_fn)(void *arg, uint64_t seq, const char *kind, const uint8_t *frame,
                                     size_t len);
/* Walk the outbox in seq order from the first seq > after, at most max rows; fn as for checks. */
int agent_store_outbox_each(agent_store *s, uint64_t after, size_t max, agent_store_outbox_fn fn, void *arg);
/* Delete every row with seq <= upto (the manager acknowledged them); *deleted (may be NULL). */
int agent_store_outbox_ack(agent_store *s, uint64_t upto, int *deleted);
/* Rows and bytes waiting. */
int agent_store_outbox_stats(agent_store *s, size_t *count, size_t *bytes);
/* Walk the waiting check_deltas and scan_summary rows of a policy in seq order (outbox.c
 * coalesces them); delete one row; count a policy's waiting rows of one kind. */
int agent_store_outbox_policy_each(agent_store *s, const char *policy_id, agent_store_outbox_fn fn,
                                   void *arg);
int agent_store_outbox_delete(agent_store *s, uint64_t seq);
int agent_store_outbox_count(agent_store *s, const char *policy_id, const char *kind, size_t *n);
/* (policy_id NULL counts the rows about no policy: policy lists.) */

/* ---- meta ---- */

/* A small named value (*value malloc'd, NULL when absent). */
int agent_store_meta_get(agent_store *s, const char *key, char **value);
int agent_store_meta_put(agent_store *s, const char *key, const char *value);

#endif
