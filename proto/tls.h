/* tls.h — the agent <-> manager transport: TCP socket helpers and TLS 1.3 with mutual certificates
 * (OpenSSL; the only module that calls libssl).
 *
 * Both ends load a certificate, its key and the CA that issued the other end's certificate
 * (tenet pki, pki.h). The manager requires a client certificate from that CA; the agent checks
 * the manager's chain and its name (DNS name or IP address in subjectAltName). The identity of the
 * peer is the CN of its verified certificate: tls_peer_id.
 *
 * A connection works on a blocking socket (the agent: handshake, write_all, read_frame simply
 * block, bounded by tls_tcp_timeout) or a non-blocking one (the manager's event loop: every call
 * returns TLS_WANT_READ / TLS_WANT_WRITE instead of blocking; call it again when poll says the
 * socket is ready in that direction). Writes never raise SIGPIPE.
 *
 * Socket helpers follow Redis anet.c: they fill a caller-owned error buffer (err, errlen) and
 * return a status. All functions return TN_OK or a TN_* code from err.def, or one of the TLS_*
 * values below (negative, so they never collide with err.def). */
#ifndef TENET_TLS_H
#define TENET_TLS_H

#include <stddef.h>
#include <stdint.h>

#include "frame.h"

#define TLS_WANT_READ (-1)  /* non-blocking: call again once the socket is readable */
#define TLS_WANT_WRITE (-2) /* non-blocking: call again once the socket is writable */
#define TLS_CLOSED (-3)     /* the peer closed the connection at a clean point */

/* A good size for the err buffers of this module. */
#define TLS_ERR_LEN 256

/* ---- TCP ------------------------------------------------------------------------------------ */

/* Listen on host:port (host: an address, or a name whose first bindable address is used; NULL, ""
 * or "*": every address, IPv6 and IPv4 when the system allows; port 0: an ephemeral port). *fd gets
 * the listening socket (blocking, close-on-exec, SO_REUSEADDR), *bound_port (if not NULL) the
 * port actually bound. Returns TN_OK, TN_EUSAGE (bad port) or TN_ENET. */
int tls_tcp_listen(const char *host, int port, int backlog, int *fd, int *bound_port, char *err,
                   size_t errlen);

/* Accept one connection on a listening socket. *fd gets the new socket (blocking,
 * close-on-exec); peer (if not NULL) gets "address:port" of the client. Returns TN_OK,
 * TLS_WANT_READ (non-blocking listener with nothing pending) or TN_ENET (errno still tells why, e.g.
 * EMFILE when the process has no descriptor left). */
int tls_tcp_accept(int lfd, int *fd, char *peer, size_t peerlen, char *err, size_t errlen);

/* Connect to host:port (a name or an address literal; every resolved address is tried in turn),
 * giving up on each after timeout_ms (<= 0: the system's own timeout). *fd gets a connected,
 * blocking, close-on-exec socket with no I/O timeout. Returns TN_OK, TN_EUSAGE, TN_ETIMEOUT or
 * TN_ENET. */
int tls_tcp_connect(const char *host, int port, int timeout_ms, int *fd, char *err, size_t errlen);

/* Make fd non-blocking (on != 0) or blocking. Returns TN_OK or TN_ENET. */
int tls_tcp_nonblock(int fd, int on, char *err, size_t errlen);

/* Bound every blocking read and write on fd by timeout_ms (0: no bound). A TLS call that runs into
 * it returns TN_ETIMEOUT. Returns TN_OK or TN_ENET. */
int tls_tcp_timeout(int fd, int timeout_ms, char *err, size_t errlen);

/* TCP keepalive on fd: probes after idle_s seconds of silence, a dead peer noticed about a minute
 * later (idle_s <= 0: keepalive off). Returns TN_OK or TN_ENET. */
int tls_tcp_keepalive(int fd, int idle_s, char *err, size_t errlen);

/* ---- contexts --------------------------------------------------------------------------------- */

typedef struct tls_ctx tls_ctx; /* opaque; shareable by many connections and threads */

/* The manager's context: TLS 1.3 only, certificate chain cert_file (PEM) with key_file, and every
 * client must present a certificate that chains to ca_file. NULL on failure with the reason in
 * err. Free with tls_ctx_free. */
tls_ctx *tls_ctx_new_server(const char *cert_file, const char *key_file, const char *ca_file, char *err,
                            size_t errlen);

/* The agent's context: TLS 1.3 only, presents cert_file/key_file and accepts only a server chain
 * that ends at ca_file (the name is checked per connection, tls_conn_new). cert_file and key_file
 * may both be NULL for a client without a certificate (which a Tenet server refuses). NULL on
 * failure with the reason in err. */
tls_ctx *tls_ctx_new_client(const char *cert_file, const char *key_file, const char *ca_file, char *err,
                            size_t errlen);

/* Refuse client certificates revoked by the CRL in crl_file (PEM, e.g. `tenet pki revoke`'s
 * crl.pem): checked at every later handshake of ctx (a server context, once per context; load a new
 * context to change the list). The CRL must be signed by a CA of ca_file and not expired.
 * *entries (may be NULL) gets how many certificates it revokes. Returns TN_OK, TN_EUSAGE, TN_EIO or
 * TN_ETLS with a message in err. */
int tls_ctx_load_crl(tls_ctx *ctx, const char *crl_file, int *entries, char *err, size_t errlen);

/* tls_ctx_free(NULL) is a no-op. Connections keep their context alive, so it may be freed first. */
void tls_ctx_free(tls_ctx *ctx);

/* ---- connections ------------------------------------------------------------------------------ */

typedef struct tls_conn tls_conn; /* opaque; one thread at a time */

/* Wrap a connected socket; takes ownership of fd (closed by tls_conn_free, or here on failure).
 * Client contexts need server_name, the DNS name or IP address the manager's certificate must
 * carry (also sent as SNI when it is a name); server contexts take NULL. The handshake has not
 * started. NULL on failure with the reason in err. */
tls_conn *tls_conn_new(tls_ctx *ctx, int fd, const char *server_name, char *err, size_t errlen);

/* Run (or continue) the handshake, including the certificate checks. Returns TN_OK once done,
 * TLS_WANT_READ / TLS_WANT_WRITE (non-blocking), TN_ETIMEOUT (blocking socket with a timeout),
 * TLS_CLOSED (the peer closed first) or TN_ETLS (e.g. "certificate verify failed: ...", "peer did
 * not return a certificate"). With TLS 1.3 a client learns that the server refused its
 * certificate only at its first read (TN_ETLS). */
int tls_conn_handshake(tls_conn *c, char *err, size_t errlen);

/* Read up to cap (> 0) decrypted bytes. Returns TN_OK with *n > 0, TLS_WANT_READ / TLS_WANT_WRITE,
 * TLS_CLOSED (close_notify or end of the TCP stream), TN_ETIMEOUT, TN_ENET or TN_ETLS. Runs the
 * handshake first if it is not done. */
int tls_conn_read(tls_conn *c, void *buf, size_t cap, size_t *n, char *err, size_t errlen);

/* Write up to len bytes; *n gets how many were taken (may be fewer than len). After
 * TLS_WANT_*, call again with the same remaining bytes (they may have moved in memory, and more
 * may follow them, so an output buffer can keep growing meanwhile). Returns
 * TN_OK with *n > 0, TLS_WANT_READ / TLS_WANT_WRITE, TN_ETIMEOUT, TN_ENET (e.g. the peer reset
 * the connection) or TN_ETLS. */
int tls_conn_write(tls_conn *c, const void *buf, size_t len, size_t *n, char *err, size_t errlen);

/* Write all len bytes on a blocking socket (tls_conn_write until done). Returns TN_OK, or the
 * first error of tls_conn_write (TLS_WANT_* only on a non-blocking socket). */
int tls_conn_write_all(tls_conn *c, const void *buf, size_t len, char *err, size_t errlen);

/* Read until d holds a whole frame and return it: TN_OK with *payload and *len (pointing into d, valid
 * until the next call with d). On a non-blocking socket it returns TLS_WANT_* once the socket has
 * nothing more and no whole frame is buffered; call again when ready (and always drain until then:
 * bytes may already wait inside TLS). TLS_CLOSED when the stream ended on a frame boundary;
 * TN_EPROTO when it ended inside a frame; TN_ETOOBIG for a frame above d's cap; or an error of
 * tls_conn_read. */
int tls_conn_read_frame(tls_conn *c, frame_decoder *d, const uint8_t **payload, size_t *len, char *err,
                        size_t errlen);

/* Non-zero when the peer's certificate of c is revoked by the CRL loaded into ctx (which may be
 * another context than c's own: a list loaded later judges connections made earlier). */
int tls_conn_peer_revoked(const tls_ctx *ctx, const tls_conn *c);

/* The socket (for poll/epoll). Owned by the connection. */
int tls_conn_fd(const tls_conn *c);

/* Non-zero once the handshake completed. */
int tls_conn_established(const tls_conn *c);

/* The CN of the peer's verified certificate (for an agent: its agent id), or NULL before the
 * handshake completed or when the peer presented none. Owned by the connection. */
const char *tls_peer_id(const tls_conn *c);

/* Send close_notify if the handshake completed (best effort, never blocks for long), close the
 * socket and free. tls_conn_free(NULL) is a no-op. */
void tls_conn_free(tls_conn *c);

#endif
