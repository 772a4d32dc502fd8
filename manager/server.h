/* server.h — the manager's network side: one thread, one epoll loop (evloop.h), non-blocking TLS
 * for every agent (no thread per agent).
 *
 * Per connection: TLS handshake with a client certificate (the CN is the agent id — nothing an
 * agent says can name another agent), then Hello, then agent messages. Each loop iteration applies
 * every frame that arrived (integrity.h) inside one transaction, commits it once, and only then
 * writes the replies: Acks for what was committed, DumpRequests, and the alerts. A malformed,
 * oversized or truncated frame, a message out of place or a handshake that does not finish in time
 * closes that connection only. Admission: connections before Hello have their own budget
 * (max_preauth_connections, the oldest evicted when full) and a cap per address; max_connections
 * stays below the descriptor limit; accept() failing for want of descriptors pauses the listener.
 * A frame left unfinished for frame_timeout, or silence for idle_timeout, closes the connection;
 * TCP keepalive finds vanished peers. Agents revoked by the CRL are refused and dropped. Bundle offers
 * (distribute.h) go out at Hello and when the bundle directory changes. The store records when each agent
 * connects and disconnects (query agents). */
#ifndef TENET_MANAGER_SERVER_H
#define TENET_MANAGER_SERVER_H

#include <stddef.h>

#include "alerts.h"
#include "config.h"
#include "distribute.h"
#include "integrity.h"
#include "store.h"

typedef struct server server;

/* Load the TLS files of cfg (borrowed) and listen on cfg->listen: what can fail at start-up, done
 * before the daemon detaches. NULL with a message in err. */
server *server_new(const manager_config *cfg, char *err, size_t errlen);
/* Make the event loop and serve with these (borrowed; dist may be NULL: no distribution). Marks
 * every agent the store still calls connected as disconnected (the manager before this one is
 * gone). TN_OK, or TN_EDB/TN_EIO with a message in err. */
int server_start(server *s, mstore *store, alerts *al, integrity *ig, distrib *dist, char *err,
                 size_t errlen);
/* Read the bundle directory now and offer what changed (SIGHUP). */
void server_refresh_bundles(server *s);
/* Re-read the CRL (option crl) when its file changed since the last look, or always with force
 * (SIGHUP): later handshakes check the new list, and connected agents whose certificate it revokes
 * are dropped. A list that cannot be read or verified is logged and the previous one stays. The
 * server also looks every second. */
void server_reload_crl(server *s, int force);
/* The port bound (useful with port 0). */
int server_port(const server *s);
/* Serve until on_signal (called for each signal read from signal_fd, -1: none) returns non-zero.
 * Returns TN_OK, or TN_EIO when the event loop fails. */
int server_run(server *s, int signal_fd, int (*on_signal)(void *arg, int signo), void *arg);
/* Close every connection (the open batch is committed first) and free. NULL is a no-op. */
void server_free(server *s);

#endif
