/* alerts.h — the manager's alerts: one JSON object per line in the alerts file, shaped like the
 * alerts of Wazuh's SCA decoder (SCA-SEMANTICS §7.7) so existing consumers read them:
 *
 *   {"timestamp":"2025-01-31T12:00:00.123+0000","agent":{"id":"002"},"location":"sca",
 *    "data":{"sca":{"type":"check","scan_id":"123","policy":"...","check":{"id":"1002",
 *    "title":"...","description":"...","rationale":"...","remediation":"...",
 *    "compliance":{"cis":"1.1"},"references":"...","file":["/etc/x"],"command":[...],
 *    "result":"failed","reason":"...","previous_result":"passed"}}}}
 *
 *   ... "data":{"sca":{"type":"summary","scan_id":"123","policy":"...","description":"...",
 *    "policy_id":"p","passed":"3","failed":"1","invalid":"0","total_checks":"4","score":"75",
 *    "file":"p.yml"}}}
 *
 * Values are strings as Wazuh's decoder prints them (the score is the truncated integer); file,
 * directory, registry, process and command are arrays (the comma-separated event value split).
 * Alerts are queued while the server applies a batch and written only after the batch committed
 * (alerts_flush), or dropped if it rolled back (alerts_discard), so an alert never describes a
 * state the store does not hold.
 *
 * Durable alerts (docs/RELIABILITY.md): once attached to the manager's store (alerts_attach), an
 * alert is a row of the store's alert outbox inserted in the same transaction as the state change
 * it reports, so it is durable before the agent's message is acknowledged. alerts_flush drains
 * the rows into the file, exactly once, in three steps of at most 512 rows:
 *   claim   (in a committed transaction: the server's batch transaction itself, alerts_precommit,
 *           or one of the drain's own for a backlog) the oldest unclaimed rows are marked claimed
 *           by this node (mstore_set_node) and the drain recorded: the file's size before
 *           writing, its dev/ino;
 *   write   the claimed lines are appended (and fdatasync'd when the store is durable);
 *   finish  the claimed rows and the drain record are deleted by the next transaction this node
 *           commits (the next claim's or batch's, before anything else), or by one of their own
 *           after a backlog, after a second without a batch, and at alerts_close.
 * So at any time the claimed rows and the drain record describe at most one batch whose write may
 * be incomplete.
 * A drain cut short (the manager killed, a full disk, the store lost) is recovered before anything
 * else is drained — at the first flush after alerts_attach, and after any failure: the claimed
 * lines found whole after the recorded offset of the same file were written and stay, a torn or
 * foreign tail is truncated, the rest is written, then the drain finishes. Only a file rotated or
 * cut while the drain was interrupted gets them all again (logged). On a shared store a dead node's
 * claims older than alert_takeover are released to any manager (alerts_set_takeover; logged: the
 * lines the dead node had written appear twice). When the file cannot be written (a full disk) the
 * rows stay in the store, are retried at every flush, and a restarted manager writes them first.
 * A write cut short is truncated back so the file holds whole lines only. The outbox is
 * bounded: at the cap (ALERTS_MAX_PENDING) alerts_full() is true and the manager stops accepting
 * the messages that would add alerts (their batch rolls back, nothing is acknowledged, the agents
 * send them again later) until the file takes the backlog. */
#ifndef TENET_MANAGER_ALERTS_H
#define TENET_MANAGER_ALERTS_H

#include <stddef.h>
#include <stdint.h>

#include "store.h"

typedef struct alerts alerts;

/* Alerts appended to path ("" or NULL: kept in memory only and discarded at flush — for
 * benchmarks). NULL with a message in err. */
alerts *alerts_open(const char *path, char *err, size_t errlen);
/* With written rows still in the store: deletes them first (the store must still be open). */
void alerts_close(alerts *a);
/* The most alerts the store's outbox holds before agents' messages are refused (~100 MB of
 * alerts at ~1 KB each). */
#define ALERTS_MAX_PENDING 100000

/* Queue alerts in store's alert outbox from now on (store borrowed; cap <= 0: ALERTS_MAX_PENDING).
 * Returns TN_OK or TN_EDB. */
int alerts_attach(alerts *a, mstore *store, int64_t cap);
/* Release the claims of dead nodes (shared store) whose drain began at least ms ago, to drain them
 * here (0: never). */
void alerts_set_takeover(alerts *a, int64_t ms);
/* TEST ONLY (test_crash_after_alert_write): _exit(3) right after a drain's write (+ fsync), before
 * its finish. */
void alerts_set_test_crash(alerts *a, int on);
/* Reopen the file (after rotation). TN_OK or TN_EIO. */
int alerts_reopen(alerts *a);

struct Tenet__CheckDetail;

/* Queue a check alert. detail is the structured metadata and evidence the agent sent with the
 * check (proto/tenet.proto CheckDetail, borrowed for the call); NULL (an agent that sends none)
 * leaves only id, result and reason. policy_name (may be NULL) names the policy when detail does
 * not; the policy id is the last resort. previous is the stored result before this event, or NULL
 * for a check seen for the first time. Returns TN_OK, TN_ENOMEM or TN_EDB (queuing it in the
 * store failed: the batch must roll back). */
int alerts_check(alerts *a, const char *agent_id, const char *policy_id, const char *policy_name,
                 int64_t scan_id, int64_t check_id, const char *result, const char *reason,
                 const struct Tenet__CheckDetail *detail, const char *previous);
/* Queue a summary alert from the policy as stored after the summary. Returns like alerts_check. */
int alerts_summary(alerts *a, const mstore_policy *p);

/* Right before the server commits a batch (inside its transaction): delete the rows of the last
 * drain, written already, and claim the batch's alerts with the drain record, so that they are
 * written after the commit without a transaction of their own (skipped while a drain must be
 * recovered or the file fails: then alerts_flush drains them as usual). TN_OK, TN_ENOMEM or TN_EDB
 * (the batch must roll back: alerts_discard). */
int alerts_precommit(alerts *a);
/* Write the queued alerts (with a store: not while a transaction is open; call it after each
 * commit and now and then). Returns TN_OK or TN_EIO (the alerts stay queued). */
int alerts_flush(alerts *a);
/* Drop the queued alerts of a batch that rolled back. */
void alerts_discard(alerts *a);
/* Non-zero (and logged once) when the store's outbox reached its cap: refuse what adds alerts. */
int alerts_full(alerts *a);
/* Alerts queued and not yet written. */
int64_t alerts_pending(const alerts *a);
/* Alerts written so far. */
uint64_t alerts_written(const alerts *a);

#endif
