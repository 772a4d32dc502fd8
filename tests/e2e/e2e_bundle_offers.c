/* e2e_bundle_offers.c — scenario 7: an agent only installs bundles it trusts. The test plays the
 * manager (a TLS server in this process, with the deployment's manager certificate) and offers the
 * real agent: a tampered bundle (body, then signature), one signed by a key outside its trust store, an older
 * version (rollback), an expired one, one whose offer misnames its version — each refused with a log line
 * saying why — then a good one, which is installed atomically and scanned at once. The version it
 * ran is persisted: after a restart an older bundle is still refused, offered or copied by hand. */
#include <poll.h>

#include "harness.h"
#include "test.h"
#include "tmpdir.h"

static e2e_env env;
static e2e_agent ag;
static tls_ctx *sctx;
static int lfd = -1;

typedef struct peer {
  tls_conn *conn;
  frame_decoder *dec;
} peer;

static uint8_t *slurp(const char *path, size_t *len) {
  char *s = NULL;
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  fseek(f, 0, SEEK_SET);
  s = malloc((size_t)n);
  if (s && fread(s, 1, (size_t)n, f) != (size_t)n) {
    free(s);
    s = NULL;
  }
  fclose(f);
  *len = (size_t)n;
  return (uint8_t *)s;
}

/* Accept the agent's connection and read its Hello. */
static int accept_agent(peer *p) {
  struct pollfd pf = {lfd, POLLIN, 0};
  if (poll(&pf, 1, E2E_WAIT_MS) != 1) return -1;
  int fd;
  char err[256];
  if (tls_tcp_accept(lfd, &fd, NULL, 0, err, sizeof err) != TN_OK) return -1;
  tls_tcp_timeout(fd, 10000, NULL, 0);
  if (!(p->conn = tls_conn_new(sctx, fd, NULL, err, sizeof err))) return -1;
  if (!(p->dec = frame_decoder_new(0))) return -1;
  if (tls_conn_handshake(p->conn, err, sizeof err) != TN_OK) {
    fprintf(stderr, "handshake: %s\n", err);
    return -1;
  }
  const char *id = tls_peer_id(p->conn);
  if (!id || strcmp(id, ag.id) != 0) return -1;
  const uint8_t *payload;
  size_t len;
  Tenet__Envelope *m;
  if (tls_conn_read_frame(p->conn, p->dec, &payload, &len, err, sizeof err) != TN_OK ||
      codec_decode(payload, len, FRAME_MAX_DEFAULT, &m, err, sizeof err) != TN_OK)
    return -1;
  int ok = m->body_case == TENET__ENVELOPE__BODY_HELLO;
  codec_free(m);
  return ok ? 0 : -1;
}

static void peer_close(peer *p) {
  tls_conn_free(p->conn);
  frame_decoder_free(p->dec);
  memset(p, 0, sizeof *p);
}

static void send_env(peer *p, Tenet__Envelope *env) {
  strbuf b = STRBUF_INIT;
  char err[256];
  REQUIRE(codec_encode_framed(env, &b, FRAME_MAX_DEFAULT, err, sizeof err) == TN_OK);
  REQUIRE(tls_conn_write_all(p->conn, b.data, b.len, err, sizeof err) == TN_OK);
  strbuf_free(&b);
}

static void offer(peer *p, const char *policy, uint64_t version, const uint8_t *data, size_t len) {
  Tenet__BundleOffer o = TENET__BUNDLE_OFFER__INIT;
  o.policy_id = (char *)policy;
  o.policy_version = version;
  o.bundle.data = (uint8_t *)data;
  o.bundle.len = len;
  Tenet__Envelope env = TENET__ENVELOPE__INIT;
  env.body_case = TENET__ENVELOPE__BODY_BUNDLE_OFFER;
  env.bundle_offer = &o;
  send_env(p, &env);
}

/* Read (and acknowledge) agent messages until a summary of the given policy version arrives. */
static int wait_summary(peer *p, uint64_t version) {
  tls_tcp_timeout(tls_conn_fd(p->conn), E2E_WAIT_MS, NULL, 0);
  for (;;) {
    const uint8_t *payload;
    size_t len;
    char err[256];
    Tenet__Envelope *m;
    if (tls_conn_read_frame(p->conn, p->dec, &payload, &len, err, sizeof err) != TN_OK) return -1;
    if (codec_decode(payload, len, FRAME_MAX_DEFAULT, &m, err, sizeof err) != TN_OK) return -1;
    int done =
        m->body_case == TENET__ENVELOPE__BODY_SCAN_SUMMARY && m->scan_summary->policy_version == version;
    Tenet__Ack a = TENET__ACK__INIT;
    a.seq = m->seq;
    codec_free(m);
    Tenet__Envelope env = TENET__ENVELOPE__INIT;
    env.body_case = TENET__ENVELOPE__BODY_ACK;
    env.ack = &a;
    send_env(p, &env);
    if (done) return 0;
  }
}

static void test_offers(void) {
  char crt[PATH_MAX + 32], key[PATH_MAX + 32], ca[PATH_MAX + 32], err[256];
  sctx = tls_ctx_new_server(e2e_join(crt, sizeof crt, env.pki, "manager.crt"),
                            e2e_join(key, sizeof key, env.pki, "manager.key"),
                            e2e_join(ca, sizeof ca, env.pki, "ca.crt"), err, sizeof err);
  REQUIRE(sctx);
  int port;
  REQUIRE(tls_tcp_listen("127.0.0.1", 0, 16, &lfd, &port, err, sizeof err) == TN_OK);

  e2e_agent_init(&ag, &env, "005", port, NULL);
  const int ids[] = {1000, 1001, 1002, 1003};
  char yml[PATH_MAX + 32], v[5][PATH_MAX + 32], inst[PATH_MAX + 32];
  e2e_join(yml, sizeof yml, env.dir, "seed.yml");
  for (int i = 1; i <= 3; i++) {
    char name[32];
    snprintf(name, sizeof name, "seed-v%d.tnb", i);
    e2e_join(v[i], sizeof v[i], env.dir, name);
    char suffix[16];
    snprintf(suffix, sizeof suffix, " (v%d)", i);
    e2e_policy_write(yml, "seed", ag.fx, ids, 4, suffix);
    e2e_compile(&env, yml, v[i], "release", (unsigned)i);
  }
  e2e_join(v[4], sizeof v[4], env.dir, "seed-v3-rogue.tnb");
  e2e_compile(&env, yml, v[4], "rogue", 3);
  char expired[PATH_MAX + 32], k[PATH_MAX + 32];
  e2e_join(expired, sizeof expired, env.dir, "seed-v3-expired.tnb");
  e2e_join(k, sizeof k, env.keys, "release.key");
  const char *exp_argv[] = {env.tenet, "compile",  "--key",   k,    "--policy-version",
                            "3",       "--expiry", "1000000", "-o", expired,
                            yml,       NULL};
  char out[4096];
  REQUIRE(e2e_run(exp_argv, out, sizeof out) == 0);

  e2e_join(inst, sizeof inst, ag.bundles, "seed.tnb");
  const char *cp[] = {"/bin/cp", v[2], inst, NULL};
  REQUIRE(e2e_run(cp, NULL, 0) == 0);
  for (int i = 0; i < 4; i++)
    e2e_flag(&ag, ids[i], "ok");
  REQUIRE(e2e_agent_start(&ag) == 0);
  peer p = {0};
  REQUIRE(accept_agent(&p) == 0);
  REQUIRE(wait_summary(&p, 2) == 0);

  size_t n3, n1, nr, ne;
  uint8_t *b3 = slurp(v[3], &n3), *b1 = slurp(v[1], &n1), *br = slurp(v[4], &nr), *be = slurp(expired, &ne);
  REQUIRE(b3 && b1 && br && be);
  uint8_t *tampered = malloc(n3);
  memcpy(tampered, b3, n3);
  tampered[n3 / 2] ^= 0x20;

  offer(&p, "seed", 3, tampered, n3);
  REQUIRE(e2e_wait_text(ag.log, "WARNING: Refused bundle offer for policy 'seed' version 3: tampered:", 1,
                        E2E_WAIT_MS) == 0);
  memcpy(tampered, b3, n3);
  tampered[n3 - 1] ^= 0x01; /* the body is intact, the signature is not */
  offer(&p, "seed", 3, tampered, n3);
  REQUIRE(e2e_wait_text(
              ag.log,
              "Refused bundle offer for policy 'seed' version 3: tampered: bundle signature does not verify",
              1, E2E_WAIT_MS) == 0);
  offer(&p, "seed", 3, br, nr);
  REQUIRE(
      e2e_wait_text(ag.log,
                    "WARNING: Refused bundle offer for policy 'seed' version 3: wrong signer: signed by key",
                    1, E2E_WAIT_MS) == 0);
  offer(&p, "seed", 1, b1, n1);
  REQUIRE(e2e_wait_text(
              ag.log,
              "WARNING: Refused bundle offer for policy 'seed' version 1: rollback: version 1 is lower than "
              "version 2 already run for policy 'seed'",
              1, E2E_WAIT_MS) == 0);
  offer(&p, "seed", 3, be, ne);
  REQUIRE(e2e_wait_text(ag.log, "WARNING: Refused bundle offer for policy 'seed' version 3: expired:", 1,
                        E2E_WAIT_MS) == 0);
  offer(&p, "seed", 4, b3, n3);
  REQUIRE(e2e_wait_text(ag.log,
                        "the offer names policy 'seed' version 4 but the bundle is policy 'seed' version 3",
                        1, E2E_WAIT_MS) == 0);
  /* nothing of that reached the bundle directory */
  size_t ni;
  uint8_t *now = slurp(inst, &ni);
  size_t n2;
  uint8_t *b2 = slurp(v[2], &n2);
  CHECK(now && ni == n2 && memcmp(now, b2, n2) == 0);
  free(now);

  /* The good one: installed in place, then scanned. */
  offer(&p, "seed", 3, b3, n3);
  REQUIRE(e2e_wait_text(ag.log, "Installed bundle for policy 'seed' version 3 from the manager", 1,
                        E2E_WAIT_MS) == 0);
  REQUIRE(wait_summary(&p, 3) == 0);
  now = slurp(inst, &ni);
  CHECK(now && ni == n3 && memcmp(now, b3, n3) == 0);
  free(now);
  CHECK_INT(tmp_count(ag.log, "Refused bundle offer"), 6);

  /* Restart: the version already run (3) is remembered. */
  e2e_agent_stop(&ag, SIGTERM);
  peer_close(&p);
  char old[PATH_MAX + 32];
  e2e_join(old, sizeof old, ag.bundles, "old.tnb");
  const char *cp2[] = {"/bin/cp", v[2], old, NULL};
  REQUIRE(e2e_run(cp2, NULL, 0) == 0);
  REQUIRE(e2e_agent_start(&ag) == 0);
  REQUIRE(accept_agent(&p) == 0);
  REQUIRE(e2e_wait_text(ag.log, "old.tnb: rollback: version 2 is lower than version 3 already run", 1,
                        E2E_WAIT_MS) == 0);
  offer(&p, "seed", 2, b2, n2);
  REQUIRE(e2e_wait_text(ag.log, "Refused bundle offer for policy 'seed' version 2: rollback", 1,
                        E2E_WAIT_MS) == 0);
  CHECK_INT(tmp_count(ag.log, "Refused bundle offer"), 7);
  peer_close(&p);
  free(b1);
  free(b2);
  free(b3);
  free(br);
  free(be);
  free(tampered);
}

static void test_daemons_exit_cleanly(void) { CHECK(e2e_daemons_ok()); }

int main(void) {
  e2e_setup(&env, "e2e-offers");
  RUN(test_offers);
  e2e_agent_stop(&ag, SIGTERM);
  if (lfd >= 0) close(lfd);
  tls_ctx_free(sctx);
  RUN(test_daemons_exit_cleanly);
  e2e_teardown(&env, test_failed_);
  return test_report();
}
