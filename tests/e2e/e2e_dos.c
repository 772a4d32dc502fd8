/* e2e_dos.c — denial of service against a real tenet-manager (issue 8, items 4-7), each time with a
 * real agent that must still be served:
 *
 *   descriptors  the manager runs with RLIMIT_NOFILE 64 (soft and hard) and 200 sockets arrive: it
 *                keeps max_connections below the limit, does not spin (CPU time read from
 *                /proc/PID/stat) nor flood its log, and a real agent then connects and converges
 *   pre-auth     60 held sockets that never start TLS, from other loopback addresses, do
 *                not lock a real agent out (pre-authentication budget, per-address cap)
 *   policies     Hello and PolicyList naming 65,536 policies are refused at once (max_policies);
 *                a PolicyList at the cap is applied and the real agent is served meanwhile
 *   timeouts     a peer dribbling a partial frame is closed after frame_timeout; a silent one
 *                after idle_timeout */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>

#include "harness.h"
#include "test.h"
#include "tmpdir.h"

static e2e_env env;

/* A TCP connection to 127.0.0.1:port from source address 127.0.0.<host>. -1 on failure. */
static int raw_connect(int port, int host) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  struct sockaddr_in src = {0}, dst = {0};
  src.sin_family = AF_INET;
  src.sin_addr.s_addr = htonl(0x7f000000u | (uint32_t)host);
  dst.sin_family = AF_INET;
  dst.sin_port = htons((uint16_t)port);
  dst.sin_addr.s_addr = htonl(0x7f000001u);
  if (bind(fd, (struct sockaddr *)&src, sizeof src) != 0 ||
      connect(fd, (struct sockaddr *)&dst, sizeof dst) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

/* utime + stime of a process in clock ticks (/proc/PID/stat fields 14 and 15). */
static long long cpu_ticks(pid_t pid) {
  char path[64], buf[1024];
  snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
  FILE *f = fopen(path, "r");
  if (!f) return -1;
  size_t n = fread(buf, 1, sizeof buf - 1, f);
  fclose(f);
  buf[n] = '\0';
  char *p = strrchr(buf, ')');
  long long ut = 0, st = 0;
  if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lld %lld", &ut, &st) != 2) return -1;
  return ut + st;
}

static long file_size(const char *path) {
  struct stat st;
  return stat(path, &st) == 0 ? (long)st.st_size : -1;
}

/* Item 4: a descriptor limit of 64 and 200 connections. */
static void test_descriptor_limit(void) {
  e2e_manager mgr;
  e2e_agent ag;
  /* the manager runs under a wrapper that lowers both limits, so it cannot raise its own */
  char wrapper[PATH_MAX + 32];
  e2e_join(wrapper, sizeof wrapper, env.dir, "lowfd.sh");
  FILE *f = fopen(wrapper, "w");
  REQUIRE(f);
  fprintf(f, "#!/bin/sh\nulimit -S -n 64 && ulimit -H -n 64 || exit 99\nexec '%s' \"$@\"\n", env.manager_bin);
  fclose(f);
  chmod(wrapper, 0755);
  const char *real = env.manager_bin;
  env.manager_bin = wrapper;
  e2e_manager_init(
      &mgr, &env, "mgr-fd",
      "max_connections = 10000\nmax_preauth_connections = 10000\nmax_preauth_per_address = 10000\n"
      "handshake_timeout = 60s\n");
  int started = e2e_manager_start(&mgr);
  env.manager_bin = real;
  REQUIRE(started == 0);
  CHECK(e2e_wait_text(mgr.log, "max_connections 10000 lowered to", 1, E2E_WAIT_MS) == 0);

  int fds[200], nfd = 0;
  for (int i = 0; i < 200; i++) {
    int fd = raw_connect(mgr.port, 2 + i % 8);
    if (fd >= 0) fds[nfd++] = fd;
  }
  CHECK(nfd > 100);
  usleep(500000); /* the manager takes them in */
  long long t0 = cpu_ticks(mgr.pid);
  long log0 = file_size(mgr.log);
  sleep(3);
  long long t1 = cpu_ticks(mgr.pid);
  long log1 = file_size(mgr.log);
  long tck = sysconf(_SC_CLK_TCK);
  double cpu = (double)(t1 - t0) / (double)tck;
  printf("  manager CPU over 3 s with %d held connections: %.2f s; log grew %ld bytes\n", nfd, cpu,
         log1 - log0);
  REQUIRE(t0 >= 0 && t1 >= 0);
  CHECK(cpu < 0.5); /* a listener spinning on EMFILE would burn the whole 3 s */
  CHECK(log1 - log0 < 4096);

  /* a real agent gets in (a held socket is evicted for it) and converges */
  e2e_agent_init(&ag, &env, "002", mgr.port, NULL);
  e2e_agent_install_seed(&ag, &env, (const char *const[]){"ok", "no", "ok", "ok"});
  REQUIRE(e2e_agent_start(&ag) == 0);
  CHECK(e2e_wait_converged(&mgr, &ag, "seed") == 0);
  CHECK(e2e_same_checks(&mgr, &ag, "seed"));
  for (int i = 0; i < nfd; i++)
    close(fds[i]);
  e2e_agent_stop(&ag, SIGTERM);
  e2e_manager_stop(&mgr, SIGTERM);
  CHECK(tmp_count(mgr.log, "accept: ") < 20);
}

/* Item 5: 60 held sockets never starting TLS. */
static void test_preauth_budget(void) {
  e2e_manager mgr;
  e2e_agent ag;
  e2e_manager_init(&mgr, &env, "mgr-pre",
                   "max_connections = 40\nmax_preauth_connections = 8\nmax_preauth_per_address = 4\n"
                   "handshake_timeout = 60s\n");
  REQUIRE(e2e_manager_start(&mgr) == 0);
  int fds[60], nfd = 0;
  for (int i = 0; i < 60; i++) {
    int fd = raw_connect(mgr.port, i < 40 ? 2 : 3 + i % 10); /* 40 from one address, 20 from ten */
    if (fd >= 0) fds[nfd++] = fd;
  }
  CHECK_INT(nfd, 60);
  usleep(300000);
  e2e_agent_init(&ag, &env, "004", mgr.port, NULL);
  e2e_agent_install_seed(&ag, &env, (const char *const[]){"ok", "ok", "no", "ok"});
  REQUIRE(e2e_agent_start(&ag) == 0);
  CHECK(e2e_wait_converged(&mgr, &ag, "seed") == 0);
  /* the turned-away sockets are summed up in one line, not one line each */
  CHECK(e2e_wait_text(mgr.log, "before Hello: ", 1, E2E_WAIT_MS) == 0);
  CHECK(e2e_wait_text(mgr.log, "over max_preauth_per_address", 1, E2E_WAIT_MS) == 0);
  CHECK(e2e_wait_text(mgr.log, "evicted before Hello (max_preauth_connections)", 1, E2E_WAIT_MS) == 0);
  CHECK(tmp_count(mgr.log, "refused") < 5);
  /* the agent stays served with the sockets still held */
  e2e_flag(&ag, 1002, "ok");
  REQUIRE(e2e_agent_rescan(&ag) == 0);
  CHECK(e2e_wait_converged(&mgr, &ag, "seed") == 0);
  CHECK(e2e_same_checks(&mgr, &ag, "seed"));
  for (int i = 0; i < nfd; i++)
    close(fds[i]);
  e2e_agent_stop(&ag, SIGTERM);
  e2e_manager_stop(&mgr, SIGTERM);
}

static void send_or_die(e2e_client *cl, Tenet__Envelope *e) {
  int rc = e2e_client_send(cl, e);
  if (rc != TN_OK) fprintf(stderr, "send: %s\n", cl->err);
  REQUIRE(rc == TN_OK);
}

static void connect_as(e2e_client *cl, int port, const char *id) {
  int rc = e2e_client_connect(cl, &env, port, id, NULL);
  if (rc != TN_OK) fprintf(stderr, "connect: %s\n", cl->err);
  REQUIRE(rc == TN_OK);
}

/* Item 6: 65,536 policies in Hello and in PolicyList. */
static void test_policy_flood(void) {
  e2e_manager mgr;
  e2e_agent ag;
  e2e_manager_init(&mgr, &env, "mgr-pol", "max_policies = 1024\n");
  REQUIRE(e2e_manager_start(&mgr) == 0);
  e2e_agent_init(&ag, &env, "005", mgr.port, NULL);
  e2e_agent_install_seed(&ag, &env, (const char *const[]){"ok", "ok", "ok", "no"});
  REQUIRE(e2e_agent_start(&ag) == 0);
  REQUIRE(e2e_wait_converged(&mgr, &ag, "seed") == 0);
  e2e_issue_agent(&env, "006");

  enum { N = 65536 };
  static uint8_t zero_hash[32];
  char(*ids)[16] = malloc(N * sizeof *ids);
  char **ptrs = malloc(N * sizeof *ptrs);
  Tenet__PolicyInfo *infos = malloc(N * sizeof *infos), **iptr = malloc(N * sizeof *iptr);
  REQUIRE(ids && ptrs && infos && iptr);
  for (int i = 0; i < N; i++) {
    snprintf(ids[i], sizeof ids[i], "p%05d", i);
    ptrs[i] = ids[i];
    tenet__policy_info__init(&infos[i]);
    infos[i].policy_id = ids[i];
    infos[i].policy_version = 1;
    infos[i].bundle_hash.data = zero_hash;
    infos[i].bundle_hash.len = sizeof zero_hash;
    iptr[i] = &infos[i];
  }
  e2e_client cl;

  /* a Hello naming 65,536 policies */
  connect_as(&cl, mgr.port, "006");
  Tenet__Hello h = TENET__HELLO__INIT;
  h.protocol = CODEC_PROTOCOL_VERSION;
  h.agent_id = "006";
  h.agent_version = "e2e";
  h.n_policies = N;
  h.policies = iptr;
  Tenet__Envelope e = TENET__ENVELOPE__INIT;
  e.body_case = TENET__ENVELOPE__BODY_HELLO;
  e.hello = &h;
  send_or_die(&cl, &e);
  CHECK(e2e_client_closed_by_peer(&cl, E2E_WAIT_MS));
  e2e_client_close(&cl);
  CHECK(e2e_wait_text(mgr.log,
                      "hello names 65536 policies, more than max_policies (1024): connection dropped", 1,
                      E2E_WAIT_MS) == 0);

  /* a PolicyList naming 65,536 */
  connect_as(&cl, mgr.port, "006");
  REQUIRE(e2e_client_hello(&cl, "006") == TN_OK);
  Tenet__PolicyList pl = TENET__POLICY_LIST__INIT;
  pl.n_policy_ids = N;
  pl.policy_ids = ptrs;
  Tenet__Envelope e2 = TENET__ENVELOPE__INIT;
  e2.seq = 1;
  e2.body_case = TENET__ENVELOPE__BODY_POLICY_LIST;
  e2.policy_list = &pl;
  send_or_die(&cl, &e2);
  CHECK(e2e_client_closed_by_peer(&cl, E2E_WAIT_MS));
  e2e_client_close(&cl);
  CHECK(e2e_wait_text(mgr.log, "policy_list names 65536 policies, more than max_policies (1024)", 1,
                      E2E_WAIT_MS) == 0);

  /* at the cap it is applied (and acknowledged), in reverse order: the comparison sorts it */
  connect_as(&cl, mgr.port, "006");
  REQUIRE(e2e_client_hello(&cl, "006") == TN_OK);
  pl.n_policy_ids = 1024;
  for (int i = 0; i < 1024; i++)
    ptrs[i] = ids[1023 - i];
  e2.seq = 2;
  send_or_die(&cl, &e2);
  Tenet__Envelope *m = NULL;
  int rc;
  while ((rc = e2e_client_read(&cl, &m, 10000)) == TN_OK && m->body_case != TENET__ENVELOPE__BODY_ACK)
    codec_free(m);
  CHECK_INT(rc, TN_OK);
  if (rc == TN_OK) {
    CHECK(m->ack->seq == 2);
    codec_free(m);
  }
  e2e_client_close(&cl);
  free(ids);
  free(ptrs);
  free(infos);
  free(iptr);

  /* the real agent was served all along */
  CHECK_INT(tmp_count(mgr.log, "Agent '005' (127.0.0.1"), 0);
  e2e_flag(&ag, 1003, "ok");
  REQUIRE(e2e_agent_rescan(&ag) == 0);
  CHECK(e2e_wait_converged(&mgr, &ag, "seed") == 0);
  CHECK(e2e_same_checks(&mgr, &ag, "seed"));
  e2e_agent_stop(&ag, SIGTERM);
  e2e_manager_stop(&mgr, SIGTERM);
}

/* Item 7: a partial frame dribbled a byte a second, and silence after Hello. */
static void test_timeouts(void) {
  e2e_manager mgr;
  e2e_manager_init(&mgr, &env, "mgr-time", "frame_timeout = 2s\nidle_timeout = 5s\ntcp_keepalive = 30s\n");
  REQUIRE(e2e_manager_start(&mgr) == 0);
  e2e_issue_agent(&env, "007");
  e2e_client cl;
  connect_as(&cl, mgr.port, "007");
  REQUIRE(e2e_client_hello(&cl, "007") == TN_OK);
  const uint8_t header[] = {0, 0, 0, 100};
  REQUIRE(e2e_client_send_raw(&cl, header, sizeof header) == TN_OK);
  int closed = 0;
  struct timespec t0, t1;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  for (int i = 0; i < 60 && !closed; i++) { /* one byte every 500 ms: never a whole frame */
    uint8_t b = (uint8_t)i;
    if (e2e_client_send_raw(&cl, &b, 1) != TN_OK) closed = 1;
    usleep(500000);
    if (tmp_count(mgr.log, "a frame unfinished for more than frame_timeout (2s): connection dropped") > 0)
      closed = 1;
  }
  clock_gettime(CLOCK_MONOTONIC, &t1);
  CHECK(closed);
  CHECK(e2e_client_closed_by_peer(&cl, E2E_WAIT_MS));
  e2e_client_close(&cl);
  printf("  dribbling peer closed after %.1f s\n",
         (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
  CHECK(t1.tv_sec - t0.tv_sec < 10);

  connect_as(&cl, mgr.port, "007");
  REQUIRE(e2e_client_hello(&cl, "007") == TN_OK);
  CHECK(e2e_client_closed_by_peer(&cl, E2E_WAIT_MS));
  e2e_client_close(&cl);
  CHECK(e2e_wait_text(mgr.log, "disconnected: no frame for idle_timeout (5s)", 1, E2E_WAIT_MS) == 0);
  e2e_manager_stop(&mgr, SIGTERM);
}

static void test_daemons_exit_cleanly(void) { CHECK(e2e_daemons_ok()); }

int main(void) {
  e2e_setup(&env, "e2e-dos");
  RUN(test_descriptor_limit);
  RUN(test_preauth_budget);
  RUN(test_policy_flood);
  RUN(test_timeouts);
  RUN(test_daemons_exit_cleanly);
  e2e_teardown(&env, test_failed_);
  return test_report();
}
