/* integrity.h — what the manager does with each agent message: keep its copy of the agent's state
 * (store.h), alert on changes (alerts.h) and heal divergence with the two integrity mechanisms of
 * the seed document (SCA-SEMANTICS §7.4):
 *
 *   CheckDeltas   store each check; alert when it is new or its result changed (with the previous)
 *   ScanSummary   a bundle hash different from the stored one: log
 *                   INFO: Policy '<policy>' information for agent '<agent>' is outdated. Requested latest
 * scan results. flush the policy's checks and request a dump (flushed = true); otherwise compare the
 * summary's results hash with the hash of the stored checks and request a dump (flushed = false) when they
 * differ; a summary alert when the results hash changed or the summary ends a flushed dump DumpEnd delete the
 * checks the agent no longer has (scan id not the dump's), recompute, and ask again (at most max_dump_retries
 * times in a row) if still different PolicyList    delete the policies the agent no longer runs
 *
 * Every message carries its outbox seq: one at or below the highest applied for that agent is a
 * duplicate (a resend after a lost Ack) and is skipped, so nothing is applied twice. Seqs are
 * only comparable within one agent store: a Hello naming a store id the manager has not recorded
 * for an agent it applied messages from resets the highest applied seq and requests a dump of
 * every policy (docs/RELIABILITY.md). A skipped summary never hides a mismatch: when a duplicate
 * summary is the last word on its policy in a batch, its results hash is compared with the stored
 * checks' at integrity_agent_sync and a dump is requested when they differ. Everything
 * happens inside the transaction the server opened; the replies (Ack, DumpRequests) are taken
 * after it committed. */
#ifndef TENET_MANAGER_INTEGRITY_H
#define TENET_MANAGER_INTEGRITY_H

#include <stddef.h>
#include <stdint.h>

#include "alerts.h"
#include "codec.h"
#include "store.h"

typedef struct integrity_options {
  int64_t
      drop_check; /* TEST ONLY: drop this check id once from the first CheckDeltas carrying it (< 0: off) */
  int max_dump_retries; /* re-requests after a DumpEnd that did not converge */
} integrity_options;

typedef struct integrity integrity;
typedef struct integrity_agent integrity_agent; /* the integrity state of one connected agent */

/* A DumpRequest to send once the batch committed. */
typedef struct integrity_request {
  char policy_id[256];
  int flushed;
} integrity_request;

/* The logic over a store and an alert sink (both borrowed). NULL when out of memory. */
integrity *integrity_new(mstore *store, alerts *al, const integrity_options *opt);
void integrity_free(integrity *ig);

/* State for an authenticated agent (agent_id: its certificate CN). NULL when out of memory. */
integrity_agent *integrity_agent_new(integrity *ig, const char *agent_id);
void integrity_agent_free(integrity_agent *a);
const char *integrity_agent_id(const integrity_agent *a);
/* Counters not yet written to the store (the server adds frames and bytes here). */
mstore_counters *integrity_agent_counters(integrity_agent *a);

/* The Hello of a connection: record the agent and learn the highest seq already applied. Inside
 * a transaction. Returns TN_OK, TN_EDB or TN_ENOMEM. */
int integrity_hello(integrity *ig, integrity_agent *a, const Tenet__Hello *h, int64_t now);
/* Apply one agent message (not Hello). Inside a transaction. Returns TN_OK (applied, or skipped as
 * a duplicate), TN_EPROTO (a message only the manager sends), TN_EDB or TN_ENOMEM (the batch must
 * be rolled back). */
int integrity_apply(integrity *ig, integrity_agent *a, const Tenet__Envelope *m, int64_t now);
/* Write the agent's counters and highest applied seq. Inside the transaction, before commit. */
int integrity_agent_sync(integrity *ig, integrity_agent *a, int64_t now);

/* After commit: the seq to acknowledge (0: nothing new) — cleared. */
uint64_t integrity_agent_take_ack(integrity_agent *a);
/* After commit: the dump requests to send (*out borrowed until the next call) — cleared. */
size_t integrity_agent_take_requests(integrity_agent *a, const integrity_request **out);

/* The policy version the agent last reported (Hello or summary) or was offered; 0: unknown. */
uint64_t integrity_agent_version(const integrity_agent *a, const char *policy_id);
void integrity_agent_set_version(integrity_agent *a, const char *policy_id, uint64_t version);

#endif
