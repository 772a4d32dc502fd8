/* e2e_claims.c — two real tenet-manager processes on one PostgreSQL store (pg/e2e_claims): the
 * server's wiring of per-agent ownership.
 *
 *   - an agent (a hand-driven TLS peer with agent 001's certificate) says Hello to manager m1: the
 *     store records it connected to node m1
 *   - the same agent says Hello to m2 while m1 still serves it: m2 closes the connection without
 *     processing anything and logs why
 *   - m1 is killed with SIGKILL (its session, and its claim, end): m2 accepts the agent, the store
 *     says node m2, and m1's leftover connection row did not stop it
 *   - m2 stops with SIGTERM: its connection is recorded as ended and its exit status is 0 */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "e2e/harness.h"
#include "e2e/tmpdir.h"
#include "pg_test.h"
#include "test.h"

typedef struct mgr {
  char name[8], conf[PATH_MAX + 32], log[PATH_MAX + 32], portfile[PATH_MAX + 32];
  int port;
  pid_t pid;
} mgr;

static e2e_env env;
static mgr m1, m2; /* killed at exit whatever happened */
static char uri[512], err[1024];

static int start(mgr *m, const char *name) {
  snprintf(m->name, sizeof m->name, "%s", name);
  snprintf(m->conf, sizeof m->conf, "%s/%s.conf", env.dir, name);
  snprintf(m->log, sizeof m->log, "%s/%s.log", env.dir, name);
  snprintf(m->portfile, sizeof m->portfile, "%s/%s.port", env.dir, name);
  FILE *f = fopen(m->conf, "w");
  REQUIRE(f);
  fprintf(f,
          "listen = 127.0.0.1:0\ncert = %s/manager.crt\nkey = %s/manager.key\nca = %s/ca.crt\n"
          "store = %s\nnode_name = %s\nalerts_file = %s/%s-alerts.json\nlog_file = %s\nlog_level = debug\n"
          "port_file = %s\npid_file = %s/%s.pid\ndurable = no\n",
          env.pki, env.pki, env.pki, uri, name, env.dir, name, m->log, m->portfile, env.dir, name);
  fclose(f);
  m->pid = fork();
  if (m->pid == 0) {
    int fd = open("/dev/null", O_WRONLY);
    dup2(fd, 1); /* the log is the file; ctest must not wait on a pipe a daemon holds */
    dup2(fd, 2);
    execl(env.manager_bin, env.manager_bin, "-f", "-c", m->conf, (char *)NULL);
    _exit(127);
  }
  for (int i = 0; i < E2E_WAIT_MS / 50; i++) {
    char *p = tmp_read(m->portfile);
    m->port = p ? atoi(p) : 0;
    free(p);
    if (m->port > 0) return 0;
    usleep(50000);
  }
  return -1;
}

static int stop(mgr *m, int sig) {
  int st = 0;
  kill(m->pid, sig);
  waitpid(m->pid, &st, 0);
  m->pid = 0;
  return st;
}

/* The store says agent 001 is connected to node. */
typedef struct want {
  const char *node;
  int connected;
} want;

static int store_says(void *arg) {
  const want *w = arg;
  mstore *s = mstore_open(uri, 1, 0, err, sizeof err);
  if (!s) return 0;
  mstore_agent a;
  int found = 0, ok = mstore_agent_get(s, "001", &a, &found) == TN_OK && found &&
                      a.connected == w->connected && strcmp(a.node, w->node) == 0;
  mstore_close(s);
  return ok;
}

static void test_claims_across_managers(void) {
  e2e_issue_agent(&env, "001");
  REQUIRE(start(&m1, "m1") == 0);
  REQUIRE(start(&m2, "m2") == 0);

  e2e_client a;
  REQUIRE(e2e_client_connect(&a, &env, m1.port, "001", NULL) == TN_OK);
  REQUIRE(e2e_client_hello(&a, "001") == TN_OK);
  want on_m1 = {"m1", 1};
  CHECK(e2e_wait(store_says, &on_m1, E2E_WAIT_MS));

  /* m1 serves it: m2 refuses, without recording anything */
  e2e_client b;
  REQUIRE(e2e_client_connect(&b, &env, m2.port, "001", NULL) == TN_OK);
  REQUIRE(e2e_client_hello(&b, "001") == TN_OK);
  CHECK(e2e_client_closed_by_peer(&b, E2E_WAIT_MS));
  e2e_client_close(&b);
  CHECK(e2e_wait_text(m2.log, "refused: another manager still serves this agent", 1, E2E_WAIT_MS) == 0);
  CHECK(store_says(&on_m1));
  CHECK(tmp_count(m2.log, "Agent '001' connected") == 0);

  /* m1 dies holding the agent: its claim goes with its database session */
  stop(&m1, SIGKILL);
  e2e_client c;
  int accepted = 0;
  want on_m2 = {"m2", 1};
  for (int i = 0; i < 50 && !accepted;
       i++) { /* the server ends m1's session as soon as it sees the socket close */
    REQUIRE(e2e_client_connect(&c, &env, m2.port, "001", NULL) == TN_OK);
    REQUIRE(e2e_client_hello(&c, "001") == TN_OK);
    accepted = e2e_wait(store_says, &on_m2, 2000);
    if (!accepted) e2e_client_close(&c);
  }
  CHECK(accepted);
  CHECK(e2e_wait_text(m2.log, "Agent '001' connected", 1, E2E_WAIT_MS) == 0);
  e2e_client_close(&a);

  int st = stop(&m2, SIGTERM);
  CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
  if (accepted) e2e_client_close(&c);
  want gone = {"m2", 0};
  CHECK(store_says(&gone));
}

int main(void) {
  int rc = pg_test_database("claims_e2e", uri, sizeof uri);
  if (rc) return rc;
  e2e_setup(&env, "pg-claims");
  RUN(test_claims_across_managers);
  if (m1.pid > 0) stop(&m1, SIGKILL);
  if (m2.pid > 0) stop(&m2, SIGKILL);
  e2e_teardown(&env, test_failed_);
  return test_report();
}
