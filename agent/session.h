/* session.h — the agent's connection to its manager: TLS 1.3 with mutual certificates, one Hello
 * per connection, then the outbox in seq order (a window of unacknowledged bytes in flight), and
 * whatever the manager sends back:
 *
 *   Ack{seq}          the rows up to seq leave the outbox
 *   DumpRequest       every stored check of the policy is queued (outbox.h), then sent
 *   BundleOffer       installed when trusted and not a rollback (trust.h), then a rescan is asked
 *
 * A lost connection is retried with exponential backoff (reconnect_min doubling up to
 * reconnect_max, with jitter); unacknowledged rows are sent again on the next connection, which
 * the manager de-duplicates by seq. The session runs on the daemon's event loop (evloop.h): it
 * watches the socket and a wake-up descriptor (the scheduler writes to it when it queued
 * messages), retries with a one-shot timer, and refills its window from the outbox in the loop's
 * before-sleep hook (which it owns). */
#ifndef TENET_AGENT_SESSION_H
#define TENET_AGENT_SESSION_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "evloop.h"
#include "store.h"
#include "tls.h"
#include "trust.h"

typedef struct agent_session agent_session;

/* What the session calls back into (main.c wires these). */
typedef struct agent_session_hooks {
  int wake_fd; /* readable (eventfd) when new outbox rows wait; -1: none */
  /* A bundle was installed: a rescan should follow. */
  void (*on_installed)(void *arg, const char *policy_id);
  void *arg;
} agent_session_hooks;

/* A session over cfg (borrowed) with its own store connection (cfg->state_db), the trust store
 * (borrowed) and a client TLS context (taken: freed with the session, even on failure). NULL with
 * a message in err. */
agent_session *agent_session_new(const agent_config *cfg, const agent_trust *trust, tls_ctx *ctx, char *err,
                                 size_t errlen);
/* Write what is already queued (best effort, without waiting), close the connection, stop
 * watching, free. NULL is a no-op. Call before freeing the loop. */
void agent_session_free(agent_session *s);

/* Start on loop (borrowed; the session takes its before-sleep hook): connect now, then send,
 * receive and reconnect as the loop runs. hooks is copied. TN_OK, or TN_EIO with a message in err
 * when the loop cannot watch the wake-up descriptor. */
int agent_session_start(agent_session *s, evloop *loop, const agent_session_hooks *hooks, char *err,
                        size_t errlen);

#endif
