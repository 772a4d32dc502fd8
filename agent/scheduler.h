/* scheduler.h — the agent's scans: every installed bundle that the trust store accepts, on start
 * and then every scan_interval (fixed cadence, like Wazuh's interval mode), or at once when
 * triggered (a bundle was installed, SIGUSR1). Each finished scan is recorded through outbox.h;
 * the session is told through a file descriptor that new messages wait.
 *
 * A cycle (agent_cycle) is usable on its own, synchronously — agent_scheduler runs cycles on a
 * thread of their own (a scan takes seconds; the connection keeps going meanwhile) and times them
 * with a timer on the daemon's event loop. Bundles are loaded once and kept while their file is unchanged
 * (JIT-compiled regexes included); expiry and anti-rollback are checked every cycle. */
#ifndef TENET_AGENT_SCHEDULER_H
#define TENET_AGENT_SCHEDULER_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "evloop.h"
#include "outbox.h"
#include "store.h"
#include "trust.h"

typedef struct agent_cycle agent_cycle;

/* What one cycle did. */
typedef struct agent_cycle_stats {
  size_t policies; /* bundles loaded and scanned */
  size_t refused;  /* bundle files refused (tampered, wrong signer, expired, rollback, corrupt) */
  size_t changed;  /* check events queued */
  size_t messages; /* outbox rows queued */
  size_t skipped;  /* policies whose requirements were not met, or not runnable here */
} agent_cycle_stats;

/* A cycle runner over cfg (bundle_dir, workers, limits, timeouts), a trust store and a store
 * connection (all borrowed; used from one thread). NULL when out of memory. */
agent_cycle *agent_cycle_new(const agent_config *cfg, const agent_trust *trust, agent_store *store);
void agent_cycle_free(agent_cycle *c);
/* Scan every accepted bundle once and record the results. now: for expiry (0: time(NULL)).
 * Returns TN_OK, or the first store error (the cycle goes on with the other policies). */
int agent_cycle_run(agent_cycle *c, int64_t now, agent_cycle_stats *stats);

typedef struct agent_scheduler agent_scheduler;

/* Start the scan thread: it opens its own store connection (cfg->state_db), runs a cycle each
 * time it is triggered, and writes one byte to notify_fd after each cycle that queued messages.
 * The timing lives on loop (borrowed): a timer triggers a cycle every scan_interval, the first at
 * once when scan_on_start. NULL with a message in err on failure. */
agent_scheduler *agent_scheduler_start(const agent_config *cfg, const agent_trust *trust, int notify_fd,
                                       evloop *loop, char *err, size_t errlen);
/* Ask for a scan now (coalesced with one already pending); the next timed scan comes one interval
 * later (fixed cadence from the last start). From the loop's thread. */
void agent_scheduler_trigger(agent_scheduler *s);
/* Use a new interval from now on (SIGHUP re-read the configuration). From the loop's thread. */
void agent_scheduler_set_interval(agent_scheduler *s, int64_t seconds);
/* Number of cycles completed (for tests and logs). Thread-safe. */
uint64_t agent_scheduler_cycles(agent_scheduler *s);
/* Stop after the current scan, join the thread, free. NULL is a no-op. Call before freeing the
 * loop. */
void agent_scheduler_stop(agent_scheduler *s);

#endif
