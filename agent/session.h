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
 * the manager de-duplicates by seq. The loop is single-threaded over poll(2): the socket, a wake-up
 * descriptor (the scheduler writes to it when it queued messages) and a signal descriptor. */
#ifndef TENET_AGENT_SESSION_H
#define TENET_AGENT_SESSION_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "store.h"
#include "trust.h"

typedef struct agent_session agent_session;

/* What the session loop calls back into (main.c wires these). */
typedef struct agent_session_hooks {
  int wake_fd;   /* readable (eventfd) when new outbox rows wait; -1: none */
  int signal_fd; /* signalfd; -1: none */
  /* A signal arrived on signal_fd; return non-zero to end the loop. */
  int (*on_signal)(void *arg, int signo);
  /* A bundle was installed: a rescan should follow. */
  void (*on_installed)(void *arg, const char *policy_id);
  void *arg;
} agent_session_hooks;

/* A session over cfg (borrowed) with its own store connection (cfg->state_db) and the trust store
 * (borrowed). NULL with a message in err. */
agent_session *agent_session_new(const agent_config *cfg, const agent_trust *trust, char *err, size_t errlen);
void agent_session_free(agent_session *s);

/* Connect, send, receive and reconnect until hooks->on_signal asks to stop. Returns TN_OK. */
int agent_session_run(agent_session *s, const agent_session_hooks *hooks);

#endif
