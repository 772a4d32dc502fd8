/* server.h — the manager's network side: one thread, one epoll loop (evloop.h), non-blocking TLS
 * for every agent (no thread per agent).
 *
 * Per connection: TLS handshake with a client certificate (the CN is the agent id — nothing an
 * agent says can name another agent), then Hello, then agent messages. Each loop iteration applies
 * every frame that arrived (integrity.h) inside one transaction, commits it once, and only then
 * writes the replies: Acks for what was committed, DumpRequests, and the alerts. A malformed,
 * oversized or truncated frame, a message out of place or a handshake that does not finish in time
 * closes that connection only. Bundle offers (distribute.h) go out at Hello and when the bundle
 * directory changes. */
#ifndef TENET_MANAGER_SERVER_H
#define TENET_MANAGER_SERVER_H

#include <stddef.h>

#include "alerts.h"
#include "config.h"
#include "distribute.h"
#include "integrity.h"
#include "store.h"

typedef struct server server;

/* Listen on cfg->listen with the TLS context of cfg. dist may be NULL (no distribution). All
 * borrowed. NULL with a message in err. */
server *server_new(const manager_config *cfg, mstore *store, alerts *al, integrity *ig, distrib *dist,
                   char *err, size_t errlen);
/* The port bound (useful with port 0). */
int server_port(const server *s);
/* Serve until on_signal (called for each signal read from signal_fd, -1: none) returns non-zero.
 * Returns TN_OK, or TN_EIO when the event loop fails. */
int server_run(server *s, int signal_fd, int (*on_signal)(void *arg, int signo), void *arg);
/* Close every connection (the open batch is committed first) and free. NULL is a no-op. */
void server_free(server *s);

#endif
