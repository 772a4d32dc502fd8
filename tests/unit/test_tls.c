/* test_tls.c — the TLS transport over real loopback sockets, with certificates made by pki.c in a
 * temporary directory: mutual handshake and frame exchange, the peer id, every way a peer must be
 * refused (no certificate, another CA, wrong server name, certificate used for the wrong role),
 * a non-blocking event-loop server with several clients, timeouts, truncated and oversized frames
 * from the peer, and writes to a vanished peer (an error, not SIGPIPE). Peers run in threads. */
#include <poll.h>
#include <pthread.h>
#include <dirent.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "codec.h"
#include "err.h"
#include "frame.h"
#include "pki.h"
#include "proto_hex.h"
#include "test.h"
#include "tls.h"

static char root[256];
static char err[TLS_ERR_LEN];

static const char *at(const char *rel) {
  static char buf[8][512];
  static int i;
  i = (i + 1) % 8;
  snprintf(buf[i], sizeof buf[i], "%s/%s", root, rel);
  return buf[i];
}

static int copy_file(const char *from, const char *to) {
  FILE *in = fopen(from, "rb"), *out = fopen(to, "wb");
  char buf[8192];
  size_t n;
  int ok = in && out;
  while (ok && (n = fread(buf, 1, sizeof buf, in)) > 0)
    ok = fwrite(buf, 1, n, out) == n;
  if (in) fclose(in);
  if (out) fclose(out);
  return ok;
}

/* ---- certificates ------------------------------------------------------------------------------ */

/* pki/      the deployment's CA, manager "manager.test" (localhost, 127.0.0.1), agents agent-7, agent-8
 * other/    an unrelated CA with its own manager and its own "agent-7"
 * wrong/    the deployment's CA, a manager certificate for elsewhere.example only */
static int make_pki(void) {
  char e[512];
  const char *wrong_san[] = {"elsewhere.example"};
  if (pki_init(at("pki"), NULL, NULL, NULL, e, sizeof e) != TN_OK ||
      pki_issue_manager(at("pki"), "manager.test", NULL, 0, NULL, NULL, e, sizeof e) != TN_OK ||
      pki_issue_agent(at("pki"), "agent-7", NULL, NULL, e, sizeof e) != TN_OK ||
      pki_issue_agent(at("pki"), "agent-8", NULL, NULL, e, sizeof e) != TN_OK ||
      pki_init(at("other"), NULL, NULL, NULL, e, sizeof e) != TN_OK ||
      pki_issue_manager(at("other"), "manager.test", NULL, 0, NULL, NULL, e, sizeof e) != TN_OK ||
      pki_issue_agent(at("other"), "agent-7", NULL, NULL, e, sizeof e) != TN_OK) {
    fprintf(stderr, "pki: %s\n", e);
    return -1;
  }
  mkdir(at("wrong"), 0700);
  if (!copy_file(at("pki/ca.crt"), at("wrong/ca.crt")) || !copy_file(at("pki/ca.key"), at("wrong/ca.key")) ||
      pki_issue_manager(at("wrong"), "elsewhere.example", wrong_san, 1, NULL, NULL, e, sizeof e) != TN_OK) {
    fprintf(stderr, "pki: %s\n", e);
    return -1;
  }
  return 0;
}

static tls_ctx *server_ctx(const char *dir) {
  char crt[512], key[512];
  snprintf(crt, sizeof crt, "%s/manager.crt", dir);
  snprintf(key, sizeof key, "%s/manager.key", dir);
  tls_ctx *c = tls_ctx_new_server(crt, key, at("pki/ca.crt"), err, sizeof err);
  if (!c) fprintf(stderr, "server ctx: %s\n", err);
  return c;
}

static tls_ctx *agent_ctx(const char *dir, const char *id) {
  char crt[512], key[512];
  snprintf(crt, sizeof crt, "%s/agents/%s.crt", dir, id);
  snprintf(key, sizeof key, "%s/agents/%s.key", dir, id);
  tls_ctx *c = tls_ctx_new_client(crt, key, at("pki/ca.crt"), err, sizeof err);
  if (!c) fprintf(stderr, "client ctx: %s\n", err);
  return c;
}

/* ---- a blocking server in a thread ------------------------------------------------------------- */

typedef struct server server;
typedef void (*serve_fn)(server *s, tls_conn *c);

struct server {
  tls_ctx *ctx;
  int lfd, port;
  serve_fn serve;
  pthread_t th;
  /* results */
  int handshake_rc;
  int end_rc; /* how serving ended */
  int frames;
  char peer_id[128];
  char err[TLS_ERR_LEN];
};

static void *server_main(void *arg) {
  server *s = arg;
  int fd;
  char e[TLS_ERR_LEN];
  s->handshake_rc = tls_tcp_accept(s->lfd, &fd, NULL, 0, e, sizeof e);
  if (s->handshake_rc != TN_OK) return NULL;
  tls_tcp_timeout(fd, 5000, NULL, 0);
  tls_conn *c = tls_conn_new(s->ctx, fd, NULL, s->err, sizeof s->err);
  if (!c) {
    s->handshake_rc = TN_ETLS;
    return NULL;
  }
  s->handshake_rc = tls_conn_handshake(c, s->err, sizeof s->err);
  if (s->handshake_rc == TN_OK) {
    const char *id = tls_peer_id(c);
    snprintf(s->peer_id, sizeof s->peer_id, "%s", id ? id : "(null)");
    s->serve(s, c);
  }
  tls_conn_free(c);
  return NULL;
}

/* Echo every frame back until the client goes away. */
static void serve_echo(server *s, tls_conn *c) {
  frame_decoder *d = frame_decoder_new(0);
  strbuf out = STRBUF_INIT;
  for (;;) {
    const uint8_t *p;
    size_t n;
    s->end_rc = tls_conn_read_frame(c, d, &p, &n, s->err, sizeof s->err);
    if (s->end_rc != TN_OK) break;
    s->frames++;
    strbuf_reset(&out);
    frame_encode(&out, p, n, FRAME_MAX_DEFAULT);
    s->end_rc = tls_conn_write_all(c, out.data, out.len, s->err, sizeof s->err);
    if (s->end_rc != TN_OK) break;
  }
  strbuf_free(&out);
  frame_decoder_free(d);
}

/* A frame header for 10 bytes, then 3 bytes, then a clean close. */
static void serve_truncated(server *s, tls_conn *c) {
  static const uint8_t bytes[] = {0, 0, 0, 10, 'a', 'b', 'c'};
  s->end_rc = tls_conn_write_all(c, bytes, sizeof bytes, s->err, sizeof s->err);
}

/* A header announcing 4 GiB - 1, then wait for the client to hang up. */
static void serve_oversized(server *s, tls_conn *c) {
  static const uint8_t bytes[] = {0xff, 0xff, 0xff, 0xff, 'x'};
  s->end_rc = tls_conn_write_all(c, bytes, sizeof bytes, s->err, sizeof s->err);
  uint8_t buf[64];
  size_t n;
  while (tls_conn_read(c, buf, sizeof buf, &n, NULL, 0) == TN_OK) {
  }
}

/* Hang up right after the handshake. */
static void serve_hangup(server *s, tls_conn *c) { s->end_rc = TN_OK; }

static int server_start(server *s, tls_ctx *ctx, serve_fn serve) {
  memset(s, 0, sizeof *s);
  s->ctx = ctx;
  s->serve = serve;
  s->handshake_rc = -100;
  if (tls_tcp_listen("127.0.0.1", 0, 8, &s->lfd, &s->port, err, sizeof err) != TN_OK) {
    fprintf(stderr, "listen: %s\n", err);
    return -1;
  }
  return pthread_create(&s->th, NULL, server_main, s) == 0 ? 0 : -1;
}

static void server_join(server *s) {
  pthread_join(s->th, NULL);
  close(s->lfd);
}

/* Connect to 127.0.0.1:port expecting the server to be `name`; returns the connection (handshake
 * result in *rc) or NULL. */
static tls_conn *client_connect(tls_ctx *ctx, int port, const char *name, int *rc, char *e, size_t elen) {
  int fd;
  *rc = tls_tcp_connect("127.0.0.1", port, 2000, &fd, e, elen);
  if (*rc != TN_OK) return NULL;
  tls_tcp_timeout(fd, 5000, NULL, 0);
  tls_conn *c = tls_conn_new(ctx, fd, name, e, elen);
  if (!c) {
    *rc = TN_ETLS;
    return NULL;
  }
  *rc = tls_conn_handshake(c, e, elen);
  return c;
}

/* ---- tests ------------------------------------------------------------------------------------- */

static void test_tcp_helpers(void) {
  int fd, port;
  CHECK_INT(tls_tcp_listen("127.0.0.1", 70000, 8, &fd, &port, err, sizeof err), TN_EUSAGE);
  REQUIRE(tls_tcp_listen("127.0.0.1", 0, 8, &fd, &port, err, sizeof err) == TN_OK);
  CHECK(port > 0);
  close(fd); /* nothing listens on port now */
  int cfd;
  CHECK_INT(tls_tcp_connect("127.0.0.1", port, 1000, &cfd, err, sizeof err), TN_ENET);
  CHECK(strstr(err, "refused") != NULL);
  CHECK_INT(cfd, -1);
  CHECK_INT(tls_tcp_connect("127.0.0.1", 0, 1000, &cfd, err, sizeof err), TN_EUSAGE);
  CHECK_INT(tls_tcp_connect("", 1, 1000, &cfd, err, sizeof err), TN_EUSAGE);

  /* the wildcard address accepts loopback connections */
  REQUIRE(tls_tcp_listen(NULL, 0, 8, &fd, &port, err, sizeof err) == TN_OK);
  CHECK_INT(tls_tcp_connect("127.0.0.1", port, 1000, &cfd, err, sizeof err), TN_OK);
  close(cfd);
  close(fd);

  /* non-blocking accept with nothing pending */
  REQUIRE(tls_tcp_listen("127.0.0.1", 0, 8, &fd, &port, err, sizeof err) == TN_OK);
  CHECK_INT(tls_tcp_nonblock(fd, 1, err, sizeof err), TN_OK);
  int afd;
  CHECK_INT(tls_tcp_accept(fd, &afd, NULL, 0, err, sizeof err), TLS_WANT_READ);
  REQUIRE(tls_tcp_connect("localhost", port, 1000, &cfd, err, sizeof err) == TN_OK);
  struct pollfd p = {fd, POLLIN, 0};
  CHECK_INT(poll(&p, 1, 2000), 1);
  char peer[64];
  CHECK_INT(tls_tcp_accept(fd, &afd, peer, sizeof peer, err, sizeof err), TN_OK);
  CHECK(strncmp(peer, "127.0.0.1:", 10) == 0 || strncmp(peer, "[::1]:", 6) == 0);
  close(afd);
  close(cfd);
  close(fd);
}

static void test_context_errors(void) {
  CHECK(tls_ctx_new_server(at("pki/nope.crt"), at("pki/manager.key"), at("pki/ca.crt"), err, sizeof err) ==
        NULL);
  CHECK(strstr(err, "nope.crt") != NULL);
  /* a key that is not the certificate's */
  CHECK(tls_ctx_new_server(at("pki/manager.crt"), at("pki/agents/agent-7.key"), at("pki/ca.crt"), err,
                           sizeof err) == NULL);
  if (!strstr(err, "does not match")) fprintf(stderr, "mismatch: %s\n", err);
  CHECK(strstr(err, "does not match") != NULL);
  CHECK(tls_ctx_new_server(NULL, NULL, at("pki/ca.crt"), err, sizeof err) == NULL);
  CHECK(tls_ctx_new_client(at("pki/agents/agent-7.crt"), NULL, at("pki/ca.crt"), err, sizeof err) == NULL);
  CHECK(tls_ctx_new_client(NULL, NULL, NULL, err, sizeof err) == NULL);
  CHECK(tls_ctx_new_client(NULL, NULL, at("pki/missing-ca.crt"), err, sizeof err) == NULL);
  tls_ctx_free(NULL);
  tls_conn_free(NULL);
  /* a client connection needs the server's name */
  tls_ctx *c = tls_ctx_new_client(NULL, NULL, at("pki/ca.crt"), err, sizeof err);
  REQUIRE(c);
  int sv[2];
  REQUIRE(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
  CHECK(tls_conn_new(c, sv[0], NULL, err, sizeof err) == NULL); /* closes sv[0] */
  close(sv[1]);
  tls_ctx_free(c);
}

/* The normal case: agent and manager authenticate each other and exchange protobuf frames. */
static void test_mutual_handshake_and_frames(void) {
  tls_ctx *sctx = server_ctx(at("pki")), *cctx = agent_ctx(at("pki"), "agent-7");
  REQUIRE(sctx && cctx);
  server s;
  REQUIRE(server_start(&s, sctx, serve_echo) == 0);
  int rc;
  tls_conn *c = client_connect(cctx, s.port, "localhost", &rc, err, sizeof err);
  if (rc != TN_OK) fprintf(stderr, "client: %s\n", err);
  REQUIRE(c && rc == TN_OK);
  CHECK(tls_conn_established(c));
  CHECK_STR(tls_peer_id(c), "manager.test");

  /* a Hello, then frames of assorted sizes up to 1 MiB */
  Tenet__PolicyInfo pi = TENET__POLICY_INFO__INIT;
  pi.policy_id = "cis_debian12";
  pi.bundle_hash = hx("1642ab1dc478052ac3556b5e700cd82adb69728008301882b9cbee0696ff2c84");
  Tenet__PolicyInfo *pis[] = {&pi};
  Tenet__Hello h = TENET__HELLO__INIT;
  h.protocol = CODEC_PROTOCOL_VERSION;
  h.agent_id = "agent-7";
  h.n_policies = 1;
  h.policies = pis;
  Tenet__Envelope env = TENET__ENVELOPE__INIT;
  env.body_case = TENET__ENVELOPE__BODY_HELLO;
  env.hello = &h;
  strbuf out = STRBUF_INIT;
  REQUIRE(codec_encode_framed(&env, &out, FRAME_MAX_DEFAULT, err, sizeof err) == TN_OK);
  static const size_t sizes[] = {0, 1, 16383, 16384, 16385, (size_t)1 << 20};
  char *big = malloc((size_t)1 << 20);
  REQUIRE(big);
  for (size_t i = 0; i < ((size_t)1 << 20); i++)
    big[i] = (char)(i * 13);
  for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++)
    frame_encode(&out, big, sizes[i], FRAME_MAX_DEFAULT);
  CHECK_INT(tls_conn_write_all(c, out.data, out.len, err, sizeof err), TN_OK);

  frame_decoder *d = frame_decoder_new(0);
  const uint8_t *p;
  size_t n;
  REQUIRE(tls_conn_read_frame(c, d, &p, &n, err, sizeof err) == TN_OK);
  Tenet__Envelope *m;
  REQUIRE(codec_decode(p, n, FRAME_MAX_DEFAULT, &m, err, sizeof err) == TN_OK);
  CHECK_INT(m->body_case, TENET__ENVELOPE__BODY_HELLO);
  CHECK_STR(m->hello->agent_id, "agent-7");
  CHECK_STR(m->hello->policies[0]->policy_id, "cis_debian12");
  codec_free(m);
  for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
    rc = tls_conn_read_frame(c, d, &p, &n, err, sizeof err);
    if (rc != TN_OK) fprintf(stderr, "read %zu: %s\n", i, err);
    REQUIRE(rc == TN_OK);
    CHECK_INT(n, sizes[i]);
    CHECK(n == 0 || memcmp(p, big, n) == 0);
  }
  frame_decoder_free(d);
  strbuf_free(&out);
  free(big);
  tls_conn_free(c); /* close_notify: the server sees a clean end */
  server_join(&s);
  CHECK_INT(s.handshake_rc, TN_OK);
  CHECK_STR(s.peer_id, "agent-7");
  CHECK_INT(s.frames, 7);
  CHECK_INT(s.end_rc, TLS_CLOSED);

  /* the same manager is reachable by its IP address (SAN IP:127.0.0.1) */
  REQUIRE(server_start(&s, sctx, serve_echo) == 0);
  c = client_connect(cctx, s.port, "127.0.0.1", &rc, err, sizeof err);
  CHECK_INT(rc, TN_OK);
  tls_conn_free(c);
  server_join(&s);
  CHECK_INT(s.handshake_rc, TN_OK);
  tls_ctx_free(cctx);
  tls_ctx_free(sctx);
}

/* After a refused handshake the client cannot exchange anything: with TLS 1.3 it may believe the
 * handshake succeeded, but its first read fails. */
static void check_client_refused(tls_conn *c, int rc) {
  if (!c || rc != TN_OK) return;
  frame_decoder *d = frame_decoder_new(0);
  const uint8_t *p;
  size_t n;
  int r = tls_conn_read_frame(c, d, &p, &n, err, sizeof err);
  CHECK(r != TN_OK);
  frame_decoder_free(d);
}

static void test_client_without_certificate_refused(void) {
  tls_ctx *sctx = server_ctx(at("pki"));
  tls_ctx *cctx = tls_ctx_new_client(NULL, NULL, at("pki/ca.crt"), err, sizeof err);
  REQUIRE(sctx && cctx);
  server s;
  REQUIRE(server_start(&s, sctx, serve_echo) == 0);
  int rc;
  tls_conn *c = client_connect(cctx, s.port, "localhost", &rc, err, sizeof err);
  check_client_refused(c, rc);
  tls_conn_free(c);
  server_join(&s);
  CHECK_INT(s.handshake_rc, TN_ETLS);
  CHECK(strstr(s.err, "certificate") != NULL);
  CHECK_STR(s.peer_id, "");
  CHECK_INT(s.frames, 0);
  tls_ctx_free(cctx);
  tls_ctx_free(sctx);
}

/* A certificate from another CA, even for an existing agent id, is refused. */
static void test_client_from_other_ca_refused(void) {
  tls_ctx *sctx = server_ctx(at("pki"));
  char crt[512], key[512];
  snprintf(crt, sizeof crt, "%s", at("other/agents/agent-7.crt"));
  snprintf(key, sizeof key, "%s", at("other/agents/agent-7.key"));
  tls_ctx *cctx = tls_ctx_new_client(crt, key, at("pki/ca.crt"), err, sizeof err);
  REQUIRE(sctx && cctx);
  server s;
  REQUIRE(server_start(&s, sctx, serve_echo) == 0);
  int rc;
  tls_conn *c = client_connect(cctx, s.port, "localhost", &rc, err, sizeof err);
  check_client_refused(c, rc);
  tls_conn_free(c);
  server_join(&s);
  CHECK_INT(s.handshake_rc, TN_ETLS);
  CHECK(strstr(s.err, "certificate verify failed") != NULL);
  CHECK_INT(s.frames, 0);
  tls_ctx_free(cctx);
  tls_ctx_free(sctx);
}

/* The manager's certificate must name what the agent connected to. */
static void test_wrong_server_name_refused(void) {
  struct {
    const char *dir, *name, *why;
  } cases[] = {
      {"wrong", "localhost", "hostname mismatch"},   /* certificate for elsewhere.example */
      {"pki", "other.example", "hostname mismatch"}, /* right certificate, other name */
      {"pki", "127.0.0.2", "IP address mismatch"},   /* an IP the certificate does not list */
      {"other", "localhost", "unable to get local issuer certificate"}, /* another CA */
  };
  tls_ctx *cctx = agent_ctx(at("pki"), "agent-7");
  REQUIRE(cctx);
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    char crt[512], key[512];
    snprintf(crt, sizeof crt, "%s/manager.crt", at(cases[i].dir));
    snprintf(key, sizeof key, "%s/manager.key", at(cases[i].dir));
    tls_ctx *sctx = tls_ctx_new_server(crt, key, at("pki/ca.crt"), err, sizeof err);
    REQUIRE(sctx);
    server s;
    REQUIRE(server_start(&s, sctx, serve_echo) == 0);
    int rc;
    char cerr[TLS_ERR_LEN] = "";
    tls_conn *c = client_connect(cctx, s.port, cases[i].name, &rc, cerr, sizeof cerr);
    CHECK_INT(rc, TN_ETLS);
    if (!strstr(cerr, cases[i].why)) fprintf(stderr, "case %zu: %s\n", i, cerr);
    CHECK(strstr(cerr, cases[i].why) != NULL);
    CHECK(tls_peer_id(c) == NULL);
    tls_conn_free(c);
    server_join(&s);
    CHECK(s.handshake_rc != TN_OK);
    tls_ctx_free(sctx);
  }
  tls_ctx_free(cctx);
}

/* Key usages: an agent certificate cannot act as the manager, nor the manager's as an agent. */
static void test_certificate_roles(void) {
  tls_ctx *fake_server = tls_ctx_new_server(at("pki/agents/agent-8.crt"), at("pki/agents/agent-8.key"),
                                            at("pki/ca.crt"), err, sizeof err);
  tls_ctx *cctx = agent_ctx(at("pki"), "agent-7");
  REQUIRE(fake_server && cctx);
  server s;
  REQUIRE(server_start(&s, fake_server, serve_echo) == 0);
  int rc;
  char cerr[TLS_ERR_LEN] = "";
  tls_conn *c = client_connect(cctx, s.port, "agent-8", &rc, cerr, sizeof cerr);
  CHECK_INT(rc, TN_ETLS);
  if (!strstr(cerr, "unsuitable certificate purpose")) fprintf(stderr, "role: %s\n", cerr);
  CHECK(strstr(cerr, "unsuitable certificate purpose") != NULL);
  tls_conn_free(c);
  server_join(&s);
  tls_ctx_free(fake_server);

  tls_ctx *sctx = server_ctx(at("pki"));
  tls_ctx *fake_agent =
      tls_ctx_new_client(at("pki/manager.crt"), at("pki/manager.key"), at("pki/ca.crt"), err, sizeof err);
  REQUIRE(sctx && fake_agent);
  REQUIRE(server_start(&s, sctx, serve_echo) == 0);
  c = client_connect(fake_agent, s.port, "localhost", &rc, cerr, sizeof cerr);
  check_client_refused(c, rc);
  tls_conn_free(c);
  server_join(&s);
  CHECK_INT(s.handshake_rc, TN_ETLS);
  if (!strstr(s.err, "unsuitable certificate purpose")) fprintf(stderr, "role: %s\n", s.err);
  CHECK(strstr(s.err, "unsuitable certificate purpose") != NULL);
  tls_ctx_free(fake_agent);
  tls_ctx_free(sctx);
  tls_ctx_free(cctx);
}

/* Peer misbehaviour reaches the reader as a clear status. */
static void test_bad_frames_from_peer(void) {
  tls_ctx *sctx = server_ctx(at("pki")), *cctx = agent_ctx(at("pki"), "agent-7");
  REQUIRE(sctx && cctx);
  server s;
  int rc;
  const uint8_t *p;
  size_t n;

  REQUIRE(server_start(&s, sctx, serve_truncated) == 0);
  tls_conn *c = client_connect(cctx, s.port, "localhost", &rc, err, sizeof err);
  REQUIRE(rc == TN_OK);
  frame_decoder *d = frame_decoder_new(0);
  CHECK_INT(tls_conn_read_frame(c, d, &p, &n, err, sizeof err), TN_EPROTO);
  CHECK(strstr(err, "3 of 10") != NULL);
  frame_decoder_free(d);
  tls_conn_free(c);
  server_join(&s);

  REQUIRE(server_start(&s, sctx, serve_oversized) == 0);
  c = client_connect(cctx, s.port, "localhost", &rc, err, sizeof err);
  REQUIRE(rc == TN_OK);
  d = frame_decoder_new(0);
  CHECK_INT(tls_conn_read_frame(c, d, &p, &n, err, sizeof err), TN_ETOOBIG);
  CHECK(strstr(err, "4294967295") != NULL);
  frame_decoder_free(d);
  tls_conn_free(c);
  server_join(&s);

  /* a blocking read with a timeout gives up */
  REQUIRE(server_start(&s, sctx, serve_echo) == 0);
  c = client_connect(cctx, s.port, "localhost", &rc, err, sizeof err);
  REQUIRE(rc == TN_OK);
  tls_tcp_timeout(tls_conn_fd(c), 200, NULL, 0);
  d = frame_decoder_new(0);
  CHECK_INT(tls_conn_read_frame(c, d, &p, &n, err, sizeof err), TN_ETIMEOUT);
  frame_decoder_free(d);
  tls_conn_free(c);
  server_join(&s);
  CHECK_INT(s.end_rc, TLS_CLOSED);

  /* writing to a peer that hung up is an error (TN_ENET), not SIGPIPE */
  REQUIRE(server_start(&s, sctx, serve_hangup) == 0);
  c = client_connect(cctx, s.port, "localhost", &rc, err, sizeof err);
  REQUIRE(rc == TN_OK);
  server_join(&s);
  static char chunk[65536];
  int wrc = TN_OK;
  for (int i = 0; i < 200 && wrc == TN_OK; i++) {
    wrc = tls_conn_write_all(c, chunk, sizeof chunk, err, sizeof err);
    if (wrc == TN_OK) usleep(1000);
  }
  CHECK_INT(wrc, TN_ENET);
  tls_conn_free(c);

  tls_ctx_free(cctx);
  tls_ctx_free(sctx);
}

/* ---- the non-blocking server ------------------------------------------------------------------- */

#define NB_MAX_CONNS 8

typedef struct nb_conn {
  tls_conn *c;
  frame_decoder *d;
  strbuf out;
  size_t sent;
  int want_write;
} nb_conn;

typedef struct nb_server {
  tls_ctx *ctx;
  int lfd, port;
  int expect_good; /* stop after this many authenticated clients closed */
  pthread_t th;
  /* results */
  int good_closed, refused, frames;
  char peers[NB_MAX_CONNS][64];
  int npeers;
  char last_refusal[TLS_ERR_LEN];
} nb_server;

static void nb_close(nb_conn *k) {
  tls_conn_free(k->c);
  frame_decoder_free(k->d);
  strbuf_free(&k->out);
  memset(k, 0, sizeof *k);
}

/* Make progress on one connection: handshake, read every whole frame (echoing it), write what is
 * pending. Returns 0 to keep it, -1 when it is finished. */
static int nb_step(nb_server *s, nb_conn *k) {
  char e[TLS_ERR_LEN];
  int was_established = tls_conn_established(k->c);
  int rc = tls_conn_handshake(k->c, e, sizeof e);
  if (rc == TLS_WANT_READ || rc == TLS_WANT_WRITE) {
    k->want_write = rc == TLS_WANT_WRITE;
    return 0;
  }
  if (rc != TN_OK) {
    s->refused++;
    snprintf(s->last_refusal, sizeof s->last_refusal, "%s", e);
    return -1;
  }
  if (!was_established && s->npeers < NB_MAX_CONNS)
    snprintf(s->peers[s->npeers++], sizeof s->peers[0], "%s", tls_peer_id(k->c));
  k->want_write = 0;
  for (;;) {
    const uint8_t *p;
    size_t n;
    rc = tls_conn_read_frame(k->c, k->d, &p, &n, e, sizeof e);
    if (rc != TN_OK) break;
    s->frames++;
    frame_encode(&k->out, p, n, FRAME_MAX_DEFAULT);
  }
  if (rc == TLS_CLOSED) {
    s->good_closed++;
    return -1;
  }
  if (rc == TLS_WANT_WRITE)
    k->want_write = 1;
  else if (rc != TLS_WANT_READ)
    return -1;
  while (k->sent < k->out.len) {
    size_t n;
    int w = tls_conn_write(k->c, k->out.data + k->sent, k->out.len - k->sent, &n, e, sizeof e);
    if (w == TLS_WANT_WRITE || w == TLS_WANT_READ) {
      k->want_write = 1;
      break;
    }
    if (w != TN_OK) return -1;
    k->sent += n;
  }
  if (k->sent == k->out.len) {
    strbuf_reset(&k->out);
    k->sent = 0;
  }
  return 0;
}

static void *nb_main(void *arg) {
  nb_server *s = arg;
  nb_conn conns[NB_MAX_CONNS];
  memset(conns, 0, sizeof conns);
  tls_tcp_nonblock(s->lfd, 1, NULL, 0);
  time_t deadline = time(NULL) + 60; /* a hung test fails instead of blocking CTest */
  while (s->good_closed < s->expect_good && time(NULL) < deadline) {
    struct pollfd pf[NB_MAX_CONNS + 1];
    int idx[NB_MAX_CONNS + 1];
    int np = 0;
    pf[np] = (struct pollfd){s->lfd, POLLIN, 0};
    idx[np++] = -1;
    for (int i = 0; i < NB_MAX_CONNS; i++) {
      if (!conns[i].c) continue;
      short ev = POLLIN;
      if (conns[i].want_write || conns[i].out.len > conns[i].sent) ev |= POLLOUT;
      pf[np] = (struct pollfd){tls_conn_fd(conns[i].c), ev, 0};
      idx[np++] = i;
    }
    if (poll(pf, (nfds_t)np, 10) < 0) break;
    for (int j = 0; j < np; j++) {
      if (!pf[j].revents) continue;
      if (idx[j] < 0) {
        int fd;
        while (tls_tcp_accept(s->lfd, &fd, NULL, 0, NULL, 0) == TN_OK) {
          int slot = -1;
          for (int i = 0; i < NB_MAX_CONNS && slot < 0; i++)
            if (!conns[i].c) slot = i;
          if (slot < 0 || tls_tcp_nonblock(fd, 1, NULL, 0) != TN_OK) {
            close(fd);
            continue;
          }
          conns[slot].c = tls_conn_new(s->ctx, fd, NULL, NULL, 0);
          conns[slot].d = frame_decoder_new(0);
          if (nb_step(s, &conns[slot]) != 0) nb_close(&conns[slot]);
        }
      } else if (conns[idx[j]].c && nb_step(s, &conns[idx[j]]) != 0) {
        nb_close(&conns[idx[j]]);
      }
    }
  }
  for (int i = 0; i < NB_MAX_CONNS; i++)
    if (conns[i].c) nb_close(&conns[i]);
  return NULL;
}

typedef struct nb_client {
  tls_ctx *ctx;
  int port, id;
  int ok;
  char err[TLS_ERR_LEN];
} nb_client;

/* Send 12 frames (some of 512 KiB), then read all the echoes back and compare. */
static void *nb_client_main(void *arg) {
  nb_client *cl = arg;
  int rc;
  tls_conn *c = client_connect(cl->ctx, cl->port, "localhost", &rc, cl->err, sizeof cl->err);
  if (!c || rc != TN_OK) {
    tls_conn_free(c);
    return NULL;
  }
  size_t big = (size_t)512 << 10;
  uint8_t *buf = malloc(big);
  strbuf out = STRBUF_INIT;
  size_t sizes[12];
  for (int i = 0; i < 12; i++)
    sizes[i] = i % 4 == 3 ? big : (size_t)(i * 1000 + cl->id);
  for (size_t i = 0; i < big; i++)
    buf[i] = (uint8_t)(i + (size_t)cl->id);
  for (int i = 0; i < 12; i++)
    frame_encode(&out, buf, sizes[i], FRAME_MAX_DEFAULT);
  rc = tls_conn_write_all(c, out.data, out.len, cl->err, sizeof cl->err);
  frame_decoder *d = frame_decoder_new(0);
  int good = rc == TN_OK;
  for (int i = 0; i < 12 && good; i++) {
    const uint8_t *p;
    size_t n;
    good = tls_conn_read_frame(c, d, &p, &n, cl->err, sizeof cl->err) == TN_OK && n == sizes[i] &&
           memcmp(p, buf, n) == 0;
  }
  cl->ok = good;
  frame_decoder_free(d);
  strbuf_free(&out);
  free(buf);
  tls_conn_free(c);
  return NULL;
}

/* One event loop serves three agents at once (plus a refused intruder), never blocking. */
static void test_nonblocking_server(void) {
  nb_server s;
  memset(&s, 0, sizeof s);
  s.ctx = server_ctx(at("pki"));
  s.expect_good = 3;
  REQUIRE(s.ctx);
  REQUIRE(tls_tcp_listen("127.0.0.1", 0, 16, &s.lfd, &s.port, err, sizeof err) == TN_OK);
  REQUIRE(pthread_create(&s.th, NULL, nb_main, &s) == 0);

  tls_ctx *a7 = agent_ctx(at("pki"), "agent-7"), *a8 = agent_ctx(at("pki"), "agent-8");
  tls_ctx *intruder = tls_ctx_new_client(at("other/agents/agent-7.crt"), at("other/agents/agent-7.key"),
                                         at("pki/ca.crt"), err, sizeof err);
  REQUIRE(a7 && a8 && intruder);
  nb_client cl[3] = {{a7, s.port, 1, 0, ""}, {a8, s.port, 2, 0, ""}, {a7, s.port, 3, 0, ""}};
  pthread_t th[3];
  for (int i = 0; i < 3; i++)
    REQUIRE(pthread_create(&th[i], NULL, nb_client_main, &cl[i]) == 0);
  /* meanwhile, an intruder with another CA's certificate */
  int rc;
  tls_conn *bad = client_connect(intruder, s.port, "localhost", &rc, err, sizeof err);
  check_client_refused(bad, rc);
  tls_conn_free(bad);
  for (int i = 0; i < 3; i++) {
    pthread_join(th[i], NULL);
    if (!cl[i].ok) fprintf(stderr, "client %d: %s\n", cl[i].id, cl[i].err);
    CHECK(cl[i].ok);
  }
  pthread_join(s.th, NULL);
  close(s.lfd);
  CHECK_INT(s.good_closed, 3);
  CHECK_INT(s.frames, 36);
  CHECK_INT(s.refused, 1);
  CHECK(strstr(s.last_refusal, "certificate verify failed") != NULL);
  int n7 = 0, n8 = 0;
  for (int i = 0; i < s.npeers; i++) {
    n7 += strcmp(s.peers[i], "agent-7") == 0;
    n8 += strcmp(s.peers[i], "agent-8") == 0;
  }
  CHECK_INT(n7, 2);
  CHECK_INT(n8, 1);
  tls_ctx_free(intruder);
  tls_ctx_free(a8);
  tls_ctx_free(a7);
  tls_ctx_free(s.ctx);
}

int main(void) {
  snprintf(root, sizeof root, "%s/tenet-test-tls-XXXXXX", test_env("TMPDIR", "/tmp"));
  if (!mkdtemp(root)) {
    perror("mkdtemp");
    return 1;
  }
  if (make_pki() != 0) {
    test_rm_rf(root);
    return 1;
  }
  RUN(test_tcp_helpers);
  RUN(test_context_errors);
  RUN(test_mutual_handshake_and_frames);
  RUN(test_client_without_certificate_refused);
  RUN(test_client_from_other_ca_refused);
  RUN(test_wrong_server_name_refused);
  RUN(test_certificate_roles);
  RUN(test_bad_frames_from_peer);
  RUN(test_nonblocking_server);
  test_rm_rf(root);
  return test_report();
}
