/* outbox.h — what the agent tells the manager, decided and queued in the same SQLite transaction
 * as the state change it reports (store.h), so a crash never separates the two:
 *
 *   record_scan         a finished scan: the delta against the stored state (checks that are new
 *                       or changed result; all of them when the bundle hash changed), the new
 *                       state, then CheckDeltas batches and the ScanSummary
 *   record_dump         the answer to a DumpRequest: every stored check (CheckDeltas dump=true),
 *                       DumpEnd, and when the manager flushed, the last summary with end_of_dump
 *   record_policy_list  the policies the agent runs, queued only when the list changed; the state
 *                       of policies no longer run is dropped in the same transaction
 *
 * Queued messages are ready frames (Envelope with its seq). The session (session.c) sends them and
 * deletes them when the manager acknowledges them. Summaries carry the policy's metadata (name,
 * file, description, references, source hash) only when the manager may not have it — the first
 * scan of a bundle, and at the end of a flushed dump — which keeps an unchanged scan's only message
 * small.
 *
 * Bounded while the manager is away: when AGENT_OUTBOX_COALESCE_SCANS summaries of a policy wait,
 * recording the next scan replaces the policy's waiting scan deltas and summaries by the net
 * change — the current result of every check they carried or that changed now, and one summary
 * (with the policy's metadata if a replaced one had it). Dumps stay untouched. The outbox of a
 * policy thus holds at most that many scans' deltas (each at most one entry per check), however
 * long the outage; the manager still receives the final state of every check that changed, alerts
 * for each net transition, and the hashes converge. */
#ifndef TENET_AGENT_OUTBOX_H
#define TENET_AGENT_OUTBOX_H

#include <stddef.h>
#include <stdint.h>

#include "scan.h"
#include "store.h"

/* What the manager needs to know about the bundle that produced a scan. Strings are borrowed. */
typedef struct agent_policy_meta {
  const char *policy_id, *name, *file, *description, *references;
  char bundle_hash[65];
  char source_hash[65];
  uint64_t policy_version;
} agent_policy_meta;

/* Waiting summaries of one policy that trigger coalescing (see above). */
#define AGENT_OUTBOX_COALESCE_SCANS 8

/* Limits of the messages built. */
typedef struct agent_outbox_limits {
  size_t batch_checks; /* check events per CheckDeltas */
  size_t max_frame;    /* frame cap (frame.h) */
} agent_outbox_limits;

typedef struct agent_record_result {
  size_t changed;        /* checks sent (new or changed result) */
  size_t messages;       /* outbox rows added */
  int invalidated;       /* the bundle hash changed: stored results were dropped */
  char results_hash[65]; /* the stored results' hash after the scan */
} agent_record_result;

/* Record a finished scan (scan->status == SCAN_DONE) of the policy m. One transaction.
 * Returns TN_OK, TN_EDB, TN_ENOMEM or TN_EPROTO with a message in err. */
int agent_outbox_record_scan(agent_store *s, const agent_policy_meta *m, const policy_scan *scan,
                             const agent_outbox_limits *lim, agent_record_result *res, char *err,
                             size_t errlen);

/* Queue a dump of policy_id (DumpRequest). *messages (may be NULL) gets the rows added. */
int agent_outbox_record_dump(agent_store *s, const char *policy_id, int flushed,
                             const agent_outbox_limits *lim, size_t *messages, char *err, size_t errlen);

/* Record the list of policies run (any order); *queued (may be NULL) = 1 when a PolicyList was
 * queued because the list changed. Stored state of other policies is deleted. */
int agent_outbox_record_policy_list(agent_store *s, const char *const *ids, size_t n,
                                    const agent_outbox_limits *lim, int *queued, char *err, size_t errlen);

/* A new session (session.c) makes the manager compare results hashes and learn the policy list,
 * whichever manager it is and whatever it holds: for every policy with a stored summary and no
 * ScanSummary waiting, that summary is queued again (with the policy's metadata, end_of_dump false:
 * a manager that agrees changes nothing and alerts nothing; one that differs or has no copy asks
 * for a dump); the last policy list recorded is queued unless a PolicyList waits. One transaction.
 * What already waits is not copied again, so sessions that end before an Ack add nothing more.
 * *messages (may be NULL) gets the rows added. */
int agent_outbox_record_resync(agent_store *s, const agent_outbox_limits *lim, size_t *messages, char *err,
                               size_t errlen);

/* The CheckResult (tenet.proto) of a VM result (EV_FOUND, EV_NOT_FOUND, EV_INVALID). */
int agent_outbox_result(int ev_result);

#endif
