/* e2e_bad_frames.c — scenario 9: hostile bytes on the wire. With a valid certificate, a peer sends
 * garbage instead of protobuf, a frame header announcing more than the cap, a frame cut short by
 * the end of the stream, a message only the manager may send, something other than Hello first,
 * a message that breaks the schema's rules, a Hello for another protocol revision, and bytes that
 * are not TLS at all. Each time the manager drops that connection with a
 * log line saying why — and keeps serving a real agent connected all along. */
#include <sys/socket.h>
#include <sys/time.h>

#include "harness.h"
#include "test.h"
#include "tmpdir.h"

static e2e_env env;
static e2e_manager mgr;
static e2e_agent ag;

static void expect_dropped(e2e_client *cl, const char *log_text, int count) {
  CHECK(e2e_client_closed_by_peer(cl, E2E_WAIT_MS));
  e2e_client_close(cl);
  CHECK(e2e_wait_text(mgr.log, log_text, count, E2E_WAIT_MS) == 0);
}

static void connect_peer(e2e_client *cl) {
  int rc = e2e_client_connect(cl, &env, mgr.port, "003", NULL);
  if (rc != TN_OK) fprintf(stderr, "connect: %s\n", cl->err);
  REQUIRE(rc == TN_OK);
}

static void test_bad_frames(void) {
  e2e_manager_init(&mgr, &env, "manager", "max_frame = 64K\n");
  REQUIRE(e2e_manager_start(&mgr) == 0);
  e2e_agent_init(&ag, &env, "002", mgr.port, NULL);
  e2e_agent_install_seed(&ag, &env, (const char *const[]){"ok", "ok", "ok", "ok"});
  REQUIRE(e2e_agent_start(&ag) == 0);
  REQUIRE(e2e_wait_converged(&mgr, &ag, "seed") == 0);
  e2e_issue_agent(&env, "003");
  e2e_client cl;

  /* 1. Garbage where a protobuf message should be. */
  connect_peer(&cl);
  const uint8_t garbage[] = {0, 0, 0, 10, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
  REQUIRE(e2e_client_send_raw(&cl, garbage, sizeof garbage) == TN_OK);
  expect_dropped(&cl, "malformed frame of 10 bytes", 1);

  /* 2. A header announcing 2 GiB (the cap is 64 KiB). */
  connect_peer(&cl);
  REQUIRE(e2e_client_hello(&cl, "003") == TN_OK);
  const uint8_t huge[] = {0x7f, 0xff, 0xff, 0xff, 1, 2, 3};
  REQUIRE(e2e_client_send_raw(&cl, huge, sizeof huge) == TN_OK);
  expect_dropped(&cl, "exceeds the 65536-byte limit: connection dropped", 1);

  /* 3. A frame cut short by the end of the stream. */
  connect_peer(&cl);
  REQUIRE(e2e_client_hello(&cl, "003") == TN_OK);
  const uint8_t cut[] = {0, 0, 0, 100, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
  REQUIRE(e2e_client_send_raw(&cl, cut, sizeof cut) == TN_OK);
  e2e_client_close(&cl); /* close_notify, then FIN: the stream ends inside the frame */
  CHECK(e2e_wait_text(mgr.log, "stream ended inside a frame (10 of 100 payload bytes): connection dropped", 1,
                      E2E_WAIT_MS) == 0);

  /* 4. A message only the manager sends. */
  connect_peer(&cl);
  REQUIRE(e2e_client_hello(&cl, "003") == TN_OK);
  Tenet__Ack a = TENET__ACK__INIT;
  a.seq = 5;
  Tenet__Envelope e = TENET__ENVELOPE__INIT;
  e.body_case = TENET__ENVELOPE__BODY_ACK;
  e.ack = &a;
  REQUIRE(e2e_client_send(&cl, &e) == TN_OK);
  expect_dropped(&cl, "agents do not send ack messages", 1);

  /* 5. Something other than Hello first. */
  connect_peer(&cl);
  Tenet__PolicyList pl = TENET__POLICY_LIST__INIT;
  Tenet__Envelope e2 = TENET__ENVELOPE__INIT;
  e2.seq = 1;
  e2.body_case = TENET__ENVELOPE__BODY_POLICY_LIST;
  e2.policy_list = &pl;
  REQUIRE(e2e_client_send(&cl, &e2) == TN_OK);
  expect_dropped(&cl, "the first message must be hello, not policy_list", 1);

  /* 6. Valid protobuf that breaks the schema's rules: a check result of 7, a short hash. */
  connect_peer(&cl);
  REQUIRE(e2e_client_hello(&cl, "003") == TN_OK);
  /* field 17 (check_deltas) { policy_id "p", checks { check_id 1, result 7 } } */
  const uint8_t bad_result[] = {0, 0, 0, 12, 0x8a, 0x01, 9, 0x0a, 1, 'p', 0x1a, 4, 0x08, 1, 0x10, 7};
  REQUIRE(e2e_client_send_raw(&cl, bad_result, sizeof bad_result) == TN_OK);
  expect_dropped(&cl, "check_deltas.checks[0].result is 7, not a check result", 1);

  /* 7. A Hello for a protocol this manager does not speak. */
  connect_peer(&cl);
  Tenet__Hello fut = TENET__HELLO__INIT;
  fut.protocol = CODEC_PROTOCOL_VERSION + 1;
  fut.agent_id = "003";
  fut.agent_version = "future";
  Tenet__Envelope e3 = TENET__ENVELOPE__INIT;
  e3.body_case = TENET__ENVELOPE__BODY_HELLO;
  e3.hello = &fut;
  REQUIRE(e2e_client_send(&cl, &e3) == TN_OK);
  expect_dropped(&cl, "hello for protocol 2, this manager speaks 1: connection dropped", 1);

  /* 8. Not even TLS. */
  int fd;
  char err[256];
  REQUIRE(tls_tcp_connect("127.0.0.1", mgr.port, 5000, &fd, err, sizeof err) == TN_OK);
  const char junk[] = "GET / HTTP/1.0\r\n\r\n";
  CHECK(write(fd, junk, sizeof junk - 1) == (ssize_t)(sizeof junk - 1));
  char buf[256];
  struct timeval tv = {10, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  while (read(fd, buf, sizeof buf) > 0) {
  }
  close(fd);
  CHECK(e2e_wait_text(mgr.log, "refused: TLS", 1, E2E_WAIT_MS) == 0);

  /* The real agent was served all along and still is. */
  CHECK_INT(tmp_count(mgr.log, "Agent '002' (127.0.0.1"), 0); /* never disconnected */
  mstore_counters c0, c1;
  REQUIRE(e2e_manager_counters(&mgr, "002", &c0, NULL));
  e2e_flag(&ag, 1000, "no");
  REQUIRE(e2e_agent_rescan(&ag) == 0);
  REQUIRE(e2e_wait_converged(&mgr, &ag, "seed") == 0);
  for (int i = 0; i < 600; i++) {
    e2e_manager_counters(&mgr, "002", &c1, NULL);
    if (c1.summaries > c0.summaries) break;
    usleep(50000);
  }
  CHECK(c1.summaries > c0.summaries);
  CHECK(e2e_same_checks(&mgr, &ag, "seed"));
  /* nothing 003 sent was stored */
  char h[65];
  CHECK_INT(e2e_manager_hash(&mgr, "003", "p", h), 0);
}

static void test_daemons_exit_cleanly(void) { CHECK(e2e_daemons_ok()); }

int main(void) {
  e2e_setup(&env, "e2e-frames");
  RUN(test_bad_frames);
  e2e_agent_stop(&ag, SIGTERM);
  e2e_manager_stop(&mgr, SIGTERM);
  RUN(test_daemons_exit_cleanly);
  e2e_teardown(&env, test_failed_);
  return test_report();
}
