/* e2e_failover.c — issue 13: an agent with several managers (`manager = A, B`). A is down when the
 * agent starts: it fails over to B, and B converges (its results hash equals the agent's). Then B
 * is killed (kill -9) and A comes back: the agent returns to A, which has never heard of it and
 * whose view converges from the agent's hash check at the new session (the resent summary makes A
 * ask for a dump), with every check alerted once, as first seen. A change scanned while on A
 * reaches A. An agent restarted against a manager that agrees costs it one summary and one policy
 * list: no dump, no alert. A manager that closes the connection right after Hello (as one does
 * when another manager still holds the agent) sends the agent on to the next. Two independent SQLite
 * managers: this is the agent-side behaviour; managers sharing one PostgreSQL store are the harness's
 * multi-manager scenarios. */
#include <stdio.h>
#include <sys/wait.h>

#include "agent/store.h"
#include "harness.h"
#include "test.h"
#include "tmpdir.h"

static e2e_env env;
static e2e_manager ma, mb;
static e2e_agent ag, ag2;

static void test_failover_and_back(void) {
  e2e_manager_init(&ma, &env, "manager-a", NULL);
  e2e_manager_init(&mb, &env, "manager-b", NULL);
  /* A gets its port (kept for its restart), then goes away before the agent starts. */
  REQUIRE(e2e_manager_start(&ma) == 0);
  e2e_manager_stop(&ma, SIGTERM);
  REQUIRE(e2e_manager_start(&mb) == 0);
  char second[64];
  snprintf(second, sizeof second, "manager = 127.0.0.1:%d\n", mb.port); /* appended: A, B */
  e2e_agent_init(&ag, &env, "001", ma.port, second);
  e2e_agent_install_seed(&ag, &env, (const char *const[]){"ok", "ok", "no", "ok"});
  REQUIRE(e2e_agent_start(&ag) == 0);

  char a_addr[64], b_addr[64], line[256];
  snprintf(a_addr, sizeof a_addr, "127.0.0.1:%d", ma.port);
  snprintf(b_addr, sizeof b_addr, "127.0.0.1:%d", mb.port);
  snprintf(line, sizeof line, "managers %s, %s", a_addr, b_addr);
  CHECK(tmp_count(ag.log, line) == 1); /* the start line names both, in order */

  /* A refuses: one line saying so and where the agent goes next; then B serves it. */
  REQUIRE(e2e_wait_converged(&mb, &ag, "seed") == 0);
  CHECK(e2e_same_checks(&mb, &ag, "seed"));
  snprintf(line, sizeof line, "Cannot connect to manager %s: ", a_addr);
  CHECK(tmp_count(ag.log, line) >= 1);
  snprintf(line, sizeof line, "(next attempt: %s in ", b_addr);
  CHECK(tmp_count(ag.log, line) >= 1);
  snprintf(line, sizeof line, "Connected to manager %s", b_addr);
  CHECK(tmp_count(ag.log, line) == 1);

  /* A change while on B. */
  e2e_flag(&ag, 1002, "ok");
  REQUIRE(e2e_agent_rescan(&ag) == 0);
  REQUIRE(e2e_wait_converged(&mb, &ag, "seed") == 0);
  CHECK_INT(tmp_count(mb.alerts, "\"result\":\"passed\",\"previous_result\":\"failed\""), 1);

  /* B dies; A comes back on its port: the agent loses B and returns to A. */
  e2e_manager_stop(&mb, SIGKILL);
  REQUIRE(e2e_manager_start(&ma) == 0);
  snprintf(line, sizeof line, "Connected to manager %s", a_addr);
  REQUIRE(e2e_wait_text(ag.log, line, 1, E2E_WAIT_MS) == 0);
  REQUIRE(e2e_wait_converged(&ma, &ag, "seed") == 0);
  CHECK(e2e_same_checks(&ma, &ag, "seed"));
  snprintf(line, sizeof line, "Connection to manager %s lost: ", b_addr);
  CHECK(tmp_count(ag.log, line) >= 1);
  /* A learnt everything from the hash check: the summary (with the policy's metadata) and a dump,
   * each check alerted once as first seen. */
  CHECK(tmp_count(ma.log, "Agent '001' reports policy 'seed' for the first time") == 1);
  CHECK(tmp_count(ma.log, "Policy 'seed' of agent '001' is in sync after a dump of 4 checks") >= 1);
  for (int id = 1000; id <= 1003; id++) {
    char needle[64];
    snprintf(needle, sizeof needle, "\"id\":\"%d\",\"title\"", id);
    CHECK_INT(tmp_count(ma.alerts, needle), 1);
  }
  CHECK_INT(tmp_count(ma.alerts, "previous_result"), 0);

  /* A change while on A reaches A, alerted once. */
  e2e_flag(&ag, 1000, "no");
  REQUIRE(e2e_agent_rescan(&ag) == 0);
  REQUIRE(e2e_wait_converged(&ma, &ag, "seed") == 0);
  CHECK(e2e_same_checks(&ma, &ag, "seed"));
  CHECK_INT(tmp_count(ma.alerts, "\"result\":\"failed\",\"previous_result\":\"passed\""), 1);
}

typedef struct counted {
  const e2e_manager *m;
  int64_t summaries, policy_lists;
} counted;

static int counters_reach(void *arg) {
  counted *c = arg;
  mstore_counters k;
  return e2e_manager_counters(c->m, "001", &k, NULL) && k.summaries >= c->summaries &&
         k.policy_lists >= c->policy_lists;
}

/* Every message of the agent was acknowledged (so the manager's counters hold them all). */
static int outbox_empty(void *arg) {
  const e2e_agent *a = arg;
  char err[512];
  agent_store *s = agent_store_open(a->db, err, sizeof err);
  size_t rows = 1, bytes = 0;
  if (s && agent_store_outbox_stats(s, &rows, &bytes) != TN_OK) rows = 1;
  agent_store_close(s);
  return rows == 0;
}

/* The hash check on a new session costs nothing when the manager agrees: the agent restarts
 * (without a scan at start) against A, which receives the resent summary and policy list, asks for
 * no dump and alerts nothing. */
static void test_resync_agreeing_manager(void) {
  mstore_counters before, after;
  REQUIRE(e2e_wait(outbox_empty, &ag, E2E_WAIT_MS));
  REQUIRE(e2e_manager_counters(&ma, "001", &before, NULL));
  int alerts = e2e_lines(ma.alerts);
  e2e_agent_stop(&ag, SIGTERM);
  snprintf(ag.extra + strlen(ag.extra), sizeof ag.extra - strlen(ag.extra), "scan_on_start = no\n");
  REQUIRE(e2e_agent_start(&ag) == 0);
  counted c = {&ma, before.summaries + 1, before.policy_lists + 1};
  REQUIRE(e2e_wait(counters_reach, &c, E2E_WAIT_MS));
  REQUIRE(e2e_wait_converged(&ma, &ag, "seed") == 0);
  REQUIRE(e2e_manager_counters(&ma, "001", &after, NULL));
  CHECK_INT(after.summaries - before.summaries, 1);
  CHECK_INT(after.policy_lists - before.policy_lists, 1);
  CHECK_INT(after.dumps_requested - before.dumps_requested, 0);
  CHECK_INT(after.deltas - before.deltas, 0);
  CHECK_INT(e2e_lines(ma.alerts), alerts);
}

/* A manager that turns agents away: TLS, read the Hello (its agent id goes to a line of seen), close
 * — what a manager does when another one still holds the agent. Runs in a child until killed. */
static pid_t turn_away_start(int *port, const char *seen) {
  char cert[PATH_MAX + 32], key[PATH_MAX + 32], ca[PATH_MAX + 32], err[TLS_ERR_LEN];
  snprintf(cert, sizeof cert, "%s/manager.crt", env.pki);
  snprintf(key, sizeof key, "%s/manager.key", env.pki);
  snprintf(ca, sizeof ca, "%s/ca.crt", env.pki);
  tls_ctx *ctx = tls_ctx_new_server(cert, key, ca, err, sizeof err);
  int lfd;
  if (!ctx || tls_tcp_listen("127.0.0.1", 0, 16, &lfd, port, err, sizeof err) != TN_OK) {
    fprintf(stderr, "turn-away manager: %s\n", err);
    tls_ctx_free(ctx);
    return -1;
  }
  pid_t pid = fork();
  if (pid != 0) {
    close(lfd);
    tls_ctx_free(ctx);
    return pid;
  }
  for (;;) {
    int fd;
    if (tls_tcp_accept(lfd, &fd, NULL, 0, err, sizeof err) != TN_OK) continue;
    tls_tcp_timeout(fd, 5000, err, sizeof err);
    tls_conn *c = tls_conn_new(ctx, fd, NULL, err, sizeof err);
    frame_decoder *d = frame_decoder_new(FRAME_MAX_DEFAULT);
    const uint8_t *payload;
    size_t len;
    Tenet__Envelope *m = NULL;
    if (c && d && tls_conn_handshake(c, err, sizeof err) == TN_OK &&
        tls_conn_read_frame(c, d, &payload, &len, err, sizeof err) == TN_OK &&
        codec_decode(payload, len, FRAME_MAX_DEFAULT, &m, err, sizeof err) == TN_OK &&
        m->body_case == TENET__ENVELOPE__BODY_HELLO) {
      FILE *f = fopen(seen, "a");
      if (f) {
        fprintf(f, "hello %s\n", m->hello->agent_id);
        fclose(f);
      }
    }
    codec_free(m);
    frame_decoder_free(d);
    tls_conn_free(c);
  }
}

/* A manager that closes the connection right after Hello is a failed connection like any other:
 * the agent moves on to the next address (A, which serves it) and converges there. */
static void test_turned_away_after_hello(void) {
  char seen[PATH_MAX + 32], extra[64], line[256];
  snprintf(seen, sizeof seen, "%s/turned-away.txt", env.dir);
  int port = 0;
  pid_t fake = turn_away_start(&port, seen);
  REQUIRE(fake > 0);
  snprintf(extra, sizeof extra, "manager = 127.0.0.1:%d\n", ma.port); /* the list: fake, A */
  e2e_agent_init(&ag2, &env, "002", port, extra);
  e2e_agent_install_seed(&ag2, &env, (const char *const[]){"ok", "no", "ok", "no"});
  int started = e2e_agent_start(&ag2);
  int converged = started == 0 ? e2e_wait_converged(&ma, &ag2, "seed") : -1;
  kill(fake, SIGKILL);
  waitpid(fake, NULL, 0);
  REQUIRE(started == 0);
  REQUIRE(converged == 0);
  CHECK(e2e_same_checks(&ma, &ag2, "seed"));
  CHECK(tmp_count(seen, "hello 002\n") >= 1);
  snprintf(line, sizeof line, "Connection to manager 127.0.0.1:%d lost: ", port);
  CHECK(tmp_count(ag2.log, line) >= 1);
  snprintf(line, sizeof line, "(next attempt: 127.0.0.1:%d in ", ma.port);
  CHECK(tmp_count(ag2.log, line) >= 1);
}

static void test_daemons_exit_cleanly(void) { CHECK(e2e_daemons_ok()); }

int main(void) {
  e2e_setup(&env, "e2e-failover");
  RUN(test_failover_and_back);
  RUN(test_resync_agreeing_manager);
  RUN(test_turned_away_after_hello);
  e2e_agent_stop(&ag, SIGTERM);
  e2e_agent_stop(&ag2, SIGTERM);
  e2e_manager_stop(&ma, SIGTERM);
  e2e_manager_stop(&mb, SIGTERM);
  RUN(test_daemons_exit_cleanly);
  e2e_teardown(&env, test_failed_);
  return test_report();
}
