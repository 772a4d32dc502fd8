/* tls.c — TCP helpers and TLS 1.3 with mutual certificates over OpenSSL (see tls.h).
 *
 * Sockets are attached to OpenSSL through a small BIO of our own that uses send(MSG_NOSIGNAL) and
 * recv, so a peer that vanished gives an error instead of SIGPIPE, and EINTR is retried. */
#include "tls.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "err.h"

/* The oldest error of OpenSSL's queue as text (the queue is then cleared). */
static const char *ssl_reason(char *buf, size_t len) {
  unsigned long e = ERR_peek_error();
  if (!e) {
    snprintf(buf, len, "unknown OpenSSL error");
  } else {
    const char *r = ERR_reason_error_string(e);
    if (r)
      snprintf(buf, len, "%s", r);
    else
      ERR_error_string_n(e, buf, len);
  }
  ERR_clear_error();
  return buf;
}

/* ---- TCP ------------------------------------------------------------------------------------ */

static int resolve(const char *host, int port, int passive, struct addrinfo **res, char *err, size_t errlen) {
  if (port < 0 || port > 65535) return tn_err_set(err, errlen, TN_EUSAGE, "port %d is out of range", port);
  char service[8];
  snprintf(service, sizeof service, "%d", port);
  struct addrinfo hints;
  memset(&hints, 0, sizeof hints);
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICSERV | (passive ? AI_PASSIVE : 0);
  if (host && (!*host || strcmp(host, "*") == 0)) host = NULL;
  int gai = getaddrinfo(host, service, &hints, res);
  if (gai != 0)
    return tn_err_set(err, errlen, TN_ENET, "cannot resolve %s: %s", host ? host : "*", gai_strerror(gai));
  return TN_OK;
}

int tls_tcp_listen(const char *host, int port, int backlog, int *fd, int *bound_port, char *err,
                   size_t errlen) {
  *fd = -1;
  struct addrinfo *res;
  int rc = resolve(host, port, 1, &res, err, errlen);
  if (rc != TN_OK) return rc;
  /* With no host, prefer the IPv6 wildcard (dual stack) when the system offers one. */
  rc = tn_err_set(err, errlen, TN_ENET, "no address to listen on");
  for (int pass = 0; pass < 2 && *fd < 0; pass++) {
    for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
      if (!host && (pass == 0) != (ai->ai_family == AF_INET6)) continue;
      if (host && pass == 1) break;
      int s = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
      if (s < 0) {
        rc = tn_err_set(err, errlen, TN_ENET, "socket: %s", strerror(errno));
        continue;
      }
      int one = 1, zero = 0;
      setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
      if (ai->ai_family == AF_INET6 && !host) setsockopt(s, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof zero);
      if (bind(s, ai->ai_addr, ai->ai_addrlen) != 0 || listen(s, backlog > 0 ? backlog : 128) != 0) {
        rc = tn_err_set(err, errlen, TN_ENET, "cannot listen on %s:%d: %s", host ? host : "*", port,
                        strerror(errno));
        close(s);
        continue;
      }
      *fd = s;
      break;
    }
  }
  freeaddrinfo(res);
  if (*fd < 0) return rc;
  if (bound_port) {
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    if (getsockname(*fd, (struct sockaddr *)&ss, &sl) != 0) {
      close(*fd);
      *fd = -1;
      return tn_err_set(err, errlen, TN_ENET, "getsockname: %s", strerror(errno));
    }
    *bound_port = ss.ss_family == AF_INET6 ? ntohs(((struct sockaddr_in6 *)&ss)->sin6_port)
                                           : ntohs(((struct sockaddr_in *)&ss)->sin_port);
  }
  return TN_OK;
}

int tls_tcp_accept(int lfd, int *fd, char *peer, size_t peerlen, char *err, size_t errlen) {
  *fd = -1;
  struct sockaddr_storage ss;
  socklen_t sl = sizeof ss;
  int s;
  do
    s = accept4(lfd, (struct sockaddr *)&ss, &sl, SOCK_CLOEXEC);
  while (s < 0 && errno == EINTR);
  if (s < 0) {
    int e = errno;
    if (e == EAGAIN || e == EWOULDBLOCK) return TLS_WANT_READ;
    tn_err_set(err, errlen, TN_ENET, "accept: %s", strerror(e));
    errno = e;
    return TN_ENET;
  }
  int one = 1;
  setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  if (peer && peerlen) {
    char host[INET6_ADDRSTRLEN] = "?";
    int port = 0;
    if (ss.ss_family == AF_INET) {
      struct sockaddr_in *a = (struct sockaddr_in *)&ss;
      inet_ntop(AF_INET, &a->sin_addr, host, sizeof host);
      port = ntohs(a->sin_port);
    } else if (ss.ss_family == AF_INET6) {
      struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
      inet_ntop(AF_INET6, &a->sin6_addr, host, sizeof host);
      port = ntohs(a->sin6_port);
    }
    snprintf(peer, peerlen, ss.ss_family == AF_INET6 ? "[%s]:%d" : "%s:%d", host, port);
  }
  *fd = s;
  return TN_OK;
}

int tls_tcp_nonblock(int fd, int on, char *err, size_t errlen) {
  int fl = fcntl(fd, F_GETFL);
  if (fl < 0) return tn_err_set(err, errlen, TN_ENET, "fcntl(F_GETFL): %s", strerror(errno));
  int nfl = on ? fl | O_NONBLOCK : fl & ~O_NONBLOCK;
  if (nfl != fl && fcntl(fd, F_SETFL, nfl) < 0)
    return tn_err_set(err, errlen, TN_ENET, "fcntl(F_SETFL): %s", strerror(errno));
  return TN_OK;
}

int tls_tcp_timeout(int fd, int timeout_ms, char *err, size_t errlen) {
  struct timeval tv = {0, 0};
  if (timeout_ms > 0) {
    tv.tv_sec = timeout_ms / 1000;
    tv.tv_usec = (timeout_ms % 1000) * 1000;
  }
  if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) != 0 ||
      setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv) != 0)
    return tn_err_set(err, errlen, TN_ENET, "setsockopt(SO_RCVTIMEO/SO_SNDTIMEO): %s", strerror(errno));
  return TN_OK;
}

int tls_tcp_keepalive(int fd, int idle_s, char *err, size_t errlen) {
  int on = idle_s > 0, idle = idle_s, intvl = idle_s > 60 ? 60 : (idle_s > 6 ? idle_s / 6 : 1), cnt = 6;
  if (setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &on, sizeof on) != 0 ||
      (on && (setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof idle) != 0 ||
              setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &intvl, sizeof intvl) != 0 ||
              setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &cnt, sizeof cnt) != 0)))
    return tn_err_set(err, errlen, TN_ENET, "setsockopt(SO_KEEPALIVE): %s", strerror(errno));
  return TN_OK;
}

/* One connect attempt, bounded by timeout_ms. Returns TN_OK, TN_ETIMEOUT or TN_ENET (errno set). */
static int connect_one(int s, const struct sockaddr *sa, socklen_t salen, int timeout_ms) {
  if (timeout_ms <= 0) {
    int r;
    do
      r = connect(s, sa, salen);
    while (r < 0 && errno == EINTR);
    return r == 0 ? TN_OK : TN_ENET;
  }
  if (tls_tcp_nonblock(s, 1, NULL, 0) != TN_OK) return TN_ENET;
  if (connect(s, sa, salen) == 0) return tls_tcp_nonblock(s, 0, NULL, 0);
  if (errno != EINPROGRESS) return TN_ENET;
  struct pollfd p = {s, POLLOUT, 0};
  int r;
  do
    r = poll(&p, 1, timeout_ms);
  while (r < 0 && errno == EINTR); /* a signal restarts the full wait: good enough for a bound */
  if (r == 0) {
    errno = ETIMEDOUT;
    return TN_ETIMEOUT;
  }
  if (r < 0) return TN_ENET;
  int soerr = 0;
  socklen_t sl = sizeof soerr;
  if (getsockopt(s, SOL_SOCKET, SO_ERROR, &soerr, &sl) != 0) return TN_ENET;
  if (soerr) {
    errno = soerr;
    return TN_ENET;
  }
  return tls_tcp_nonblock(s, 0, NULL, 0);
}

int tls_tcp_connect(const char *host, int port, int timeout_ms, int *fd, char *err, size_t errlen) {
  *fd = -1;
  if (!host || !*host) return tn_err_set(err, errlen, TN_EUSAGE, "no host to connect to");
  if (port <= 0 || port > 65535) return tn_err_set(err, errlen, TN_EUSAGE, "port %d is out of range", port);
  struct addrinfo *res;
  int rc = resolve(host, port, 0, &res, err, errlen);
  if (rc != TN_OK) return rc;
  rc = tn_err_set(err, errlen, TN_ENET, "cannot connect to %s:%d", host, port);
  for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
    int s = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
    if (s < 0) {
      rc = tn_err_set(err, errlen, TN_ENET, "socket: %s", strerror(errno));
      continue;
    }
    int r = connect_one(s, ai->ai_addr, ai->ai_addrlen, timeout_ms);
    if (r == TN_OK) {
      int one = 1;
      setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
      *fd = s;
      break;
    }
    rc = tn_err_set(err, errlen, r, "cannot connect to %s:%d: %s", host, port,
                    r == TN_ETIMEOUT ? "timed out" : strerror(errno));
    close(s);
  }
  freeaddrinfo(res);
  return *fd >= 0 ? TN_OK : rc;
}

/* ---- the socket BIO --------------------------------------------------------------------------- */

typedef struct sock_bio {
  int fd;
  int eof;
} sock_bio;

static int sb_write(BIO *b, const char *buf, int len) {
  sock_bio *s = BIO_get_data(b);
  BIO_clear_retry_flags(b);
  ssize_t r;
  do
    r = send(s->fd, buf, (size_t)len, MSG_NOSIGNAL);
  while (r < 0 && errno == EINTR);
  if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) BIO_set_retry_write(b);
  return (int)r;
}

static int sb_read(BIO *b, char *buf, int len) {
  sock_bio *s = BIO_get_data(b);
  BIO_clear_retry_flags(b);
  if (!buf || len <= 0) return 0;
  ssize_t r;
  do
    r = recv(s->fd, buf, (size_t)len, 0);
  while (r < 0 && errno == EINTR);
  if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) BIO_set_retry_read(b);
  if (r == 0) s->eof = 1;
  return (int)r;
}

static long sb_ctrl(BIO *b, int cmd, long num, void *ptr) {
  sock_bio *s = BIO_get_data(b);
  switch (cmd) {
  case BIO_CTRL_FLUSH: return 1;
  case BIO_CTRL_EOF: return s && s->eof;
  default: return 0;
  }
}

static int sb_create(BIO *b) {
  BIO_set_init(b, 1);
  return 1;
}

static int sb_destroy(BIO *b) {
  free(BIO_get_data(b)); /* the fd belongs to the tls_conn */
  BIO_set_data(b, NULL);
  return 1;
}

static BIO_METHOD *sock_method;
static CRYPTO_ONCE sock_method_once = CRYPTO_ONCE_STATIC_INIT;

static void sock_method_init(void) {
  BIO_METHOD *m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "tenet socket");
  if (!m) return;
  BIO_meth_set_write(m, sb_write);
  BIO_meth_set_read(m, sb_read);
  BIO_meth_set_ctrl(m, sb_ctrl);
  BIO_meth_set_create(m, sb_create);
  BIO_meth_set_destroy(m, sb_destroy);
  sock_method = m;
}

static BIO *sock_bio_new(int fd) {
  if (!CRYPTO_THREAD_run_once(&sock_method_once, sock_method_init) || !sock_method) return NULL;
  sock_bio *s = calloc(1, sizeof *s);
  if (!s) return NULL;
  BIO *b = BIO_new(sock_method);
  if (!b) {
    free(s);
    return NULL;
  }
  s->fd = fd;
  BIO_set_data(b, s);
  return b;
}

/* ---- contexts --------------------------------------------------------------------------------- */

struct tls_ctx {
  SSL_CTX *ssl;
  int server;
  X509_CRL *crl; /* the revocation list loaded (tls_ctx_load_crl), or NULL */
};

static tls_ctx *ctx_new(int server, const char *cert, const char *key, const char *ca, char *err,
                        size_t errlen) {
  char why[160];
  ERR_clear_error();
  if (!ca || !*ca) {
    tn_err_set(err, errlen, TN_EUSAGE, "no CA certificate file given");
    return NULL;
  }
  if (server && (!cert || !key)) {
    tn_err_set(err, errlen, TN_EUSAGE, "a server needs a certificate and a key");
    return NULL;
  }
  if (!cert != !key) {
    tn_err_set(err, errlen, TN_EUSAGE, "a certificate needs its key (and a key its certificate)");
    return NULL;
  }
  tls_ctx *c = calloc(1, sizeof *c);
  if (!c) {
    tn_err_set(err, errlen, TN_ENOMEM, "out of memory");
    return NULL;
  }
  c->server = server;
  c->ssl = SSL_CTX_new(server ? TLS_server_method() : TLS_client_method());
  if (!c->ssl) {
    tn_err_set(err, errlen, TN_ETLS, "cannot create a TLS context: %s", ssl_reason(why, sizeof why));
    goto fail;
  }
  SSL_CTX_set_min_proto_version(c->ssl, TLS1_3_VERSION);
  SSL_CTX_set_max_proto_version(c->ssl, TLS1_3_VERSION);
  SSL_CTX_set_mode(c->ssl, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
  SSL_CTX_set_options(c->ssl, SSL_OP_IGNORE_UNEXPECTED_EOF | SSL_OP_NO_TICKET);
  SSL_CTX_set_session_cache_mode(c->ssl, SSL_SESS_CACHE_OFF);
  if (cert) {
    if (SSL_CTX_use_certificate_chain_file(c->ssl, cert) != 1) {
      tn_err_set(err, errlen, TN_ETLS, "cannot load certificate %s: %s", cert, ssl_reason(why, sizeof why));
      goto fail;
    }
    if (SSL_CTX_use_PrivateKey_file(c->ssl, key, SSL_FILETYPE_PEM) != 1) {
      if (ERR_GET_REASON(ERR_peek_error()) == X509_R_KEY_VALUES_MISMATCH)
        tn_err_set(err, errlen, TN_ETLS, "key %s does not match certificate %s", key, cert);
      else
        tn_err_set(err, errlen, TN_ETLS, "cannot load key %s: %s", key, ssl_reason(why, sizeof why));
      ERR_clear_error();
      goto fail;
    }
    if (SSL_CTX_check_private_key(c->ssl) != 1) {
      tn_err_set(err, errlen, TN_ETLS, "key %s does not match certificate %s", key, cert);
      ERR_clear_error();
      goto fail;
    }
  }
  if (SSL_CTX_load_verify_locations(c->ssl, ca, NULL) != 1) {
    tn_err_set(err, errlen, TN_ETLS, "cannot load CA certificate %s: %s", ca, ssl_reason(why, sizeof why));
    goto fail;
  }
  if (server) {
    STACK_OF(X509_NAME) *names = SSL_load_client_CA_file(ca);
    if (!names) {
      tn_err_set(err, errlen, TN_ETLS, "cannot read CA names from %s: %s", ca, ssl_reason(why, sizeof why));
      goto fail;
    }
    SSL_CTX_set_client_CA_list(c->ssl, names);
    SSL_CTX_set_verify(c->ssl, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
    SSL_CTX_set_num_tickets(c->ssl, 0);
  } else {
    SSL_CTX_set_verify(c->ssl, SSL_VERIFY_PEER, NULL);
  }
  return c;
fail:
  tls_ctx_free(c);
  return NULL;
}

tls_ctx *tls_ctx_new_server(const char *cert_file, const char *key_file, const char *ca_file, char *err,
                            size_t errlen) {
  return ctx_new(1, cert_file, key_file, ca_file, err, errlen);
}

tls_ctx *tls_ctx_new_client(const char *cert_file, const char *key_file, const char *ca_file, char *err,
                            size_t errlen) {
  return ctx_new(0, cert_file, key_file, ca_file, err, errlen);
}

int tls_ctx_load_crl(tls_ctx *ctx, const char *crl_file, int *entries, char *err, size_t errlen) {
  char why[160];
  ERR_clear_error();
  if (!ctx->server || ctx->crl)
    return tn_err_set(err, errlen, TN_EUSAGE, "a CRL is loaded once, by a server");
  FILE *f = fopen(crl_file, "r");
  if (!f) return tn_err_set(err, errlen, TN_EIO, "cannot read CRL %s: %s", crl_file, strerror(errno));
  X509_CRL *crl = PEM_read_X509_CRL(f, NULL, NULL, NULL);
  fclose(f);
  if (!crl)
    return tn_err_set(err, errlen, TN_ETLS, "%s is not a PEM CRL: %s", crl_file, ssl_reason(why, sizeof why));
  /* It must be signed by one of the CAs the context trusts for clients. */
  X509_STORE *store = SSL_CTX_get_cert_store(ctx->ssl);
  STACK_OF(X509_OBJECT) *objs = X509_STORE_get0_objects(store);
  int signed_by_ca = 0;
  for (int i = 0; i < sk_X509_OBJECT_num(objs) && !signed_by_ca; i++) {
    X509 *ca = X509_OBJECT_get0_X509(sk_X509_OBJECT_value(objs, i));
    if (ca && X509_NAME_cmp(X509_get_subject_name(ca), X509_CRL_get_issuer(crl)) == 0 &&
        X509_CRL_verify(crl, X509_get0_pubkey(ca)) == 1)
      signed_by_ca = 1;
  }
  ERR_clear_error();
  if (!signed_by_ca) {
    X509_CRL_free(crl);
    return tn_err_set(err, errlen, TN_ETLS, "CRL %s is not signed by the CA of the agents' certificates",
                      crl_file);
  }
  const ASN1_TIME *next = X509_CRL_get0_nextUpdate(crl);
  if (next && X509_cmp_current_time(next) < 0) {
    X509_CRL_free(crl);
    return tn_err_set(err, errlen, TN_ETLS, "CRL %s has expired (issue it again with `tenet pki revoke`)",
                      crl_file);
  }
  if (X509_STORE_add_crl(store, crl) != 1) {
    X509_CRL_free(crl);
    return tn_err_set(err, errlen, TN_ETLS, "cannot use CRL %s: %s", crl_file, ssl_reason(why, sizeof why));
  }
  X509_STORE_set_flags(store, X509_V_FLAG_CRL_CHECK);
  ctx->crl = crl;
  if (entries) *entries = sk_X509_REVOKED_num(X509_CRL_get_REVOKED(crl));
  return TN_OK;
}

void tls_ctx_free(tls_ctx *ctx) {
  if (!ctx) return;
  X509_CRL_free(ctx->crl);
  SSL_CTX_free(ctx->ssl);
  free(ctx);
}

/* ---- connections ------------------------------------------------------------------------------ */

#define TLS_PEER_ID_MAX 256

struct tls_conn {
  SSL *ssl;
  int fd;
  int server;
  int established;
  char server_name[256];
  char peer_id[TLS_PEER_ID_MAX]; /* "" until known */
};

tls_conn *tls_conn_new(tls_ctx *ctx, int fd, const char *server_name, char *err, size_t errlen) {
  char why[160];
  ERR_clear_error();
  if (!ctx->server && (!server_name || !*server_name)) {
    tn_err_set(err, errlen, TN_EUSAGE, "a client connection needs the server's name");
    close(fd);
    return NULL;
  }
  if (server_name && strlen(server_name) >= sizeof(((tls_conn *)0)->server_name)) {
    tn_err_set(err, errlen, TN_EUSAGE, "server name is too long");
    close(fd);
    return NULL;
  }
  tls_conn *c = calloc(1, sizeof *c);
  if (!c) {
    tn_err_set(err, errlen, TN_ENOMEM, "out of memory");
    close(fd);
    return NULL;
  }
  c->fd = fd;
  c->server = ctx->server;
  c->ssl = SSL_new(ctx->ssl);
  BIO *bio = c->ssl ? sock_bio_new(fd) : NULL;
  if (!bio) {
    tn_err_set(err, errlen, TN_ETLS, "cannot create a TLS connection: %s", ssl_reason(why, sizeof why));
    tls_conn_free(c);
    return NULL;
  }
  SSL_set_bio(c->ssl, bio, bio);
  if (c->server) {
    SSL_set_accept_state(c->ssl);
  } else {
    snprintf(c->server_name, sizeof c->server_name, "%s", server_name);
    unsigned char addr[16];
    int is_ip = inet_pton(AF_INET, server_name, addr) == 1 || inet_pton(AF_INET6, server_name, addr) == 1;
    int ok = is_ip ? X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(c->ssl), server_name)
                   : SSL_set1_host(c->ssl, server_name) && SSL_set_tlsext_host_name(c->ssl, server_name);
    if (ok != 1) {
      tn_err_set(err, errlen, TN_ETLS, "cannot set the expected server name %s: %s", server_name,
                 ssl_reason(why, sizeof why));
      tls_conn_free(c);
      return NULL;
    }
    SSL_set_connect_state(c->ssl);
  }
  return c;
}

/* The CN of the verified peer certificate into c->peer_id ("" when there is no usable one). */
static void load_peer_id(tls_conn *c) {
  c->peer_id[0] = '\0';
  X509 *cert = SSL_get1_peer_certificate(c->ssl);
  if (!cert) return;
  if (SSL_get_verify_result(c->ssl) == X509_V_OK) {
    X509_NAME *name = X509_get_subject_name(cert);
    int i = X509_NAME_get_index_by_NID(name, NID_commonName, -1);
    /* exactly one CN, as UTF-8 without NUL bytes */
    if (i >= 0 && X509_NAME_get_index_by_NID(name, NID_commonName, i) < 0) {
      unsigned char *utf8 = NULL;
      int n = ASN1_STRING_to_UTF8(&utf8, X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, i)));
      if (n > 0 && n < TLS_PEER_ID_MAX && memchr(utf8, '\0', (size_t)n) == NULL) {
        memcpy(c->peer_id, utf8, (size_t)n);
        c->peer_id[n] = '\0';
      }
      OPENSSL_free(utf8);
    }
  }
  X509_free(cert);
}

static int blocking(const tls_conn *c) {
  int fl = fcntl(c->fd, F_GETFL);
  return fl >= 0 && !(fl & O_NONBLOCK);
}

/* Map the outcome of an SSL_* call that returned r <= 0. `what` names the operation for err. */
static int ssl_outcome(tls_conn *c, int r, const char *what, char *err, size_t errlen) {
  char why[200];
  int saved = errno;
  int e = SSL_get_error(c->ssl, r);
  switch (e) {
  case SSL_ERROR_WANT_READ:
  case SSL_ERROR_WANT_WRITE:
    ERR_clear_error();
    if (blocking(c)) return tn_err_set(err, errlen, TN_ETIMEOUT, "TLS %s timed out", what);
    return e == SSL_ERROR_WANT_READ ? TLS_WANT_READ : TLS_WANT_WRITE;
  case SSL_ERROR_ZERO_RETURN:
    ERR_clear_error();
    return tn_err_set(err, errlen, TLS_CLOSED, "connection closed by the peer");
  case SSL_ERROR_SYSCALL:
    ERR_clear_error();
    if (saved == 0) return tn_err_set(err, errlen, TLS_CLOSED, "connection closed by the peer");
    return tn_err_set(err, errlen, TN_ENET, "TLS %s: %s", what, strerror(saved));
  default: {
    long v = SSL_get_verify_result(c->ssl);
    unsigned long first = ERR_peek_error();
    ssl_reason(why, sizeof why);
    if (ERR_GET_REASON(first) == SSL_R_CERTIFICATE_VERIFY_FAILED && v != X509_V_OK)
      return tn_err_set(err, errlen, TN_ETLS, "TLS %s: certificate verify failed: %s", what,
                        X509_verify_cert_error_string(v));
    return tn_err_set(err, errlen, TN_ETLS, "TLS %s: %s", what, why);
  }
  }
}

int tls_conn_handshake(tls_conn *c, char *err, size_t errlen) {
  if (c->established) return TN_OK;
  ERR_clear_error();
  errno = 0;
  int r = SSL_do_handshake(c->ssl);
  if (r != 1) {
    int rc = ssl_outcome(c, r, "handshake", err, errlen);
    if (rc == TLS_CLOSED) tn_err_set(err, errlen, rc, "connection closed by the peer during the handshake");
    return rc;
  }
  load_peer_id(c);
  if (c->server && !c->peer_id[0])
    return tn_err_set(err, errlen, TN_ETLS, "TLS handshake: the client certificate has no usable CN");
  c->established = 1;
  return TN_OK;
}

int tls_conn_read(tls_conn *c, void *buf, size_t cap, size_t *n, char *err, size_t errlen) {
  *n = 0;
  if (cap == 0) return tn_err_set(err, errlen, TN_EUSAGE, "TLS read into an empty buffer");
  int rc = tls_conn_handshake(c, err, errlen);
  if (rc != TN_OK) return rc;
  ERR_clear_error();
  errno = 0;
  size_t got = 0;
  int r = SSL_read_ex(c->ssl, buf, cap, &got);
  if (r != 1) return ssl_outcome(c, 0, "read", err, errlen);
  *n = got;
  return TN_OK;
}

int tls_conn_write(tls_conn *c, const void *buf, size_t len, size_t *n, char *err, size_t errlen) {
  *n = 0;
  int rc = tls_conn_handshake(c, err, errlen);
  if (rc != TN_OK) return rc;
  if (len == 0) return TN_OK;
  ERR_clear_error();
  errno = 0;
  size_t put = 0;
  int r = SSL_write_ex(c->ssl, buf, len, &put);
  if (r != 1) {
    rc = ssl_outcome(c, 0, "write", err, errlen);
    /* a write cannot meet a clean end: the peer went away under us */
    if (rc == TLS_CLOSED) rc = tn_err_set(err, errlen, TN_ENET, "TLS write: connection closed by the peer");
    return rc;
  }
  *n = put;
  return TN_OK;
}

int tls_conn_write_all(tls_conn *c, const void *buf, size_t len, char *err, size_t errlen) {
  const uint8_t *p = buf;
  while (len > 0) {
    size_t n;
    int rc = tls_conn_write(c, p, len, &n, err, errlen);
    if (rc != TN_OK) return rc;
    p += n;
    len -= n;
  }
  return TN_OK;
}

int tls_conn_read_frame(tls_conn *c, frame_decoder *d, const uint8_t **payload, size_t *len, char *err,
                        size_t errlen) {
  uint8_t buf[16384];
  for (;;) {
    int rc = frame_decoder_next(d, payload, len);
    if (rc != TN_OK) return tn_err_set(err, errlen, rc, "%s", frame_decoder_error(d));
    if (*payload) return TN_OK;
    size_t n;
    rc = tls_conn_read(c, buf, sizeof buf, &n, err, errlen);
    if (rc == TLS_CLOSED) {
      rc = frame_decoder_finish(d);
      return rc == TN_OK ? TLS_CLOSED : tn_err_set(err, errlen, rc, "%s", frame_decoder_error(d));
    }
    if (rc != TN_OK) return rc;
    rc = frame_decoder_feed(d, buf, n);
    if (rc != TN_OK) return tn_err_set(err, errlen, rc, "%s", frame_decoder_error(d));
  }
}

int tls_conn_peer_revoked(const tls_ctx *ctx, const tls_conn *c) {
  if (!ctx->crl || !c->ssl) return 0;
  X509 *cert = SSL_get0_peer_certificate(c->ssl);
  X509_REVOKED *r = NULL;
  return cert && X509_CRL_get0_by_cert(ctx->crl, &r, cert) == 1;
}

int tls_conn_fd(const tls_conn *c) { return c->fd; }

int tls_conn_established(const tls_conn *c) { return c->established; }

const char *tls_peer_id(const tls_conn *c) { return c->established && c->peer_id[0] ? c->peer_id : NULL; }

void tls_conn_free(tls_conn *c) {
  if (!c) return;
  if (c->ssl) {
    if (c->established && !(SSL_get_shutdown(c->ssl) & SSL_SENT_SHUTDOWN)) {
      tls_tcp_nonblock(c->fd, 1, NULL, 0); /* close_notify is best effort: never wait for it */
      ERR_clear_error();
      SSL_shutdown(c->ssl);
    }
    ERR_clear_error();
    SSL_free(c->ssl);
  }
  if (c->fd >= 0) close(c->fd);
  free(c);
}
