/* e2e_hygiene.c — issue 8 items 13, 14 and the full-disk part of 16, with real daemons:
 *   modes     the stores (with -wal and -shm) are 0600, alerts and logs 0640 at most, and a
 *             store left 0644 by an older version is 0600 again after a restart;
 *   escaping  a peer with a valid certificate sends a Hello id, a version, a check title and a
 *             reason holding newlines and terminal escape sequences: the manager's log keeps one
 *             line per message and `query` prints them escaped;
 *   full disk a manager whose store sits on a full file system says "disk full" (new store and
 *             existing store), not "not a tenet-manager store". */
#include <errno.h>
#include <fcntl.h>
#include <sys/mount.h>

#include "harness.h"
#include "test.h"
#include "tmpdir.h"

static e2e_env env;
static e2e_manager mgr;
static e2e_agent ag;
static char fs[PATH_MAX + 16];
static int mounted;

static int mode_of(const char *path) {
  struct stat st;
  if (stat(path, &st) != 0) {
    fprintf(stderr, "%s: %s\n", path, strerror(errno));
    return -1;
  }
  return (int)(st.st_mode & 07777);
}

static void check_store_modes(const char *db) {
  char side[PATH_MAX + 64];
  CHECK_INT(mode_of(db), 0600);
  snprintf(side, sizeof side, "%s-wal", db);
  CHECK_INT(mode_of(side), 0600);
  snprintf(side, sizeof side, "%s-shm", db);
  CHECK_INT(mode_of(side), 0600);
}

static void test_modes(void) {
  e2e_manager_init(&mgr, &env, "manager", NULL);
  REQUIRE(e2e_manager_start(&mgr) == 0);
  e2e_agent_init(&ag, &env, "001", mgr.port, NULL);
  e2e_agent_install_seed(&ag, &env, (const char *const[]){"ok", "ok", "no", "ok"});
  REQUIRE(e2e_agent_start(&ag) == 0);
  REQUIRE(e2e_wait_converged(&mgr, &ag, "seed") == 0);
  check_store_modes(mgr.db);
  check_store_modes(ag.db);
  CHECK_INT(mode_of(mgr.alerts) & 0137, 0);
  CHECK_INT(mode_of(mgr.log) & 0137, 0);
  CHECK_INT(mode_of(ag.log) & 0137, 0);
  /* a store an older version left world-readable */
  e2e_manager_stop(&mgr, SIGTERM);
  REQUIRE(chmod(mgr.db, 0644) == 0);
  REQUIRE(e2e_manager_start(&mgr) == 0);
  REQUIRE(e2e_wait_text(mgr.log, "Listening on", 2, E2E_WAIT_MS) == 0);
  CHECK_INT(mode_of(mgr.db), 0600);
}

#define HOSTILE_ID "x\n2026/01/01 00:00:00 tenet-manager: ERROR: forged\x1b[31m"
#define HOSTILE_TITLE "T\x1b[2J\nforged title\r"

static int has_esc(const char *s) { return s && strchr(s, 0x1b) != NULL; }

static void test_hostile_strings(void) {
  e2e_issue_agent(&env, "003");
  e2e_client cl;
  REQUIRE(e2e_client_connect(&cl, &env, mgr.port, "003", NULL) == TN_OK);
  Tenet__Hello h = TENET__HELLO__INIT;
  h.protocol = CODEC_PROTOCOL_VERSION;
  h.agent_id = HOSTILE_ID;
  h.agent_version = "1\x1b]0;pwned\x07";
  Tenet__Envelope e = TENET__ENVELOPE__INIT;
  e.body_case = TENET__ENVELOPE__BODY_HELLO;
  e.hello = &h;
  REQUIRE(e2e_client_send(&cl, &e) == TN_OK);
  Tenet__CheckDetail det = TENET__CHECK_DETAIL__INIT;
  det.title = HOSTILE_TITLE;
  Tenet__CheckDelta d1 = TENET__CHECK_DELTA__INIT;
  d1.check_id = 1;
  d1.result = TENET__CHECK_RESULT__NOT_APPLICABLE;
  d1.reason = "r\x1b[1A\nforged reason";
  d1.event_json = "{}";
  d1.detail = &det;
  Tenet__CheckDelta *dp[] = {&d1};
  Tenet__CheckDeltas ds = TENET__CHECK_DELTAS__INIT;
  ds.policy_id = "p";
  ds.scan_id = 7;
  ds.checks = dp;
  ds.n_checks = 1;
  Tenet__Envelope e2 = TENET__ENVELOPE__INIT;
  e2.seq = 10;
  e2.body_case = TENET__ENVELOPE__BODY_CHECK_DELTAS;
  e2.check_deltas = &ds;
  REQUIRE(e2e_client_send(&cl, &e2) == TN_OK);
  Tenet__Envelope *m = NULL;
  REQUIRE(e2e_client_read(&cl, &m, E2E_WAIT_MS) == TN_OK); /* the ack: applied */
  CHECK(m->body_case == TENET__ENVELOPE__BODY_ACK);
  codec_free(m);
  e2e_client_close(&cl);

  REQUIRE(e2e_wait_text(mgr.log,
                        "sent Hello as 'x\\x0a2026/01/01 00:00:00 tenet-manager: ERROR: forged\\x1b[31m'", 1,
                        E2E_WAIT_MS) == 0);
  char *log = tmp_read(mgr.log);
  REQUIRE(log);
  CHECK(!has_esc(log));
  CHECK(!strstr(log, "\n2026/01/01 00:00:00")); /* no forged line */
  free(log);

  char conf[PATH_MAX + 64], out[16384];
  snprintf(conf, sizeof conf, "%s", mgr.conf);
  const char *q1[] = {env.manager_bin, "-c", conf, "query", "checks", "003", "p", NULL};
  CHECK_INT(e2e_run(q1, out, sizeof out), 0);
  CHECK(!has_esc(out));
  CHECK(strstr(out, "T\\x1b[2J\\x0aforged title\\x0d") != NULL);
  CHECK(strstr(out, "r\\x1b[1A\\x0aforged reason") != NULL);
  CHECK(!strstr(out, "\nforged"));
  const char *q2[] = {env.manager_bin, "-c", conf, "query", "agents", NULL};
  CHECK_INT(e2e_run(q2, out, sizeof out), 0);
  CHECK(!has_esc(out));
  CHECK(strstr(out, "(version 1\\x1b]0;pwned\\x07,") != NULL);
  /* JSON output was already escaped and stays so */
  const char *q3[] = {env.manager_bin, "-c", conf, "query", "checks", "003", "p", "--json", NULL};
  CHECK_INT(e2e_run(q3, out, sizeof out), 0);
  CHECK(!has_esc(out));
  CHECK(strstr(out, "\"title\":\"T\\u001b[2J\\nforged title\\r\"") != NULL);
}

static void fill(const char *path) {
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
  REQUIRE(fd >= 0);
  char block[4096];
  memset(block, 'x', sizeof block);
  while (write(fd, block, sizeof block) > 0) {
  }
  while (write(fd, block, 1) > 0) {
  }
  close(fd);
}

static void expect_disk_full(e2e_manager *m) {
  REQUIRE(e2e_manager_start(m) != 0);
  char path[PATH_MAX + 64];
  snprintf(path, sizeof path, "%s/stderr.log", m->dir);
  char *err = tmp_read(path);
  REQUIRE(err);
  CHECK(strstr(err, ": disk full (") != NULL);
  CHECK(!strstr(err, "not a tenet-manager store"));
  printf("full disk at start: %s", err);
  free(err);
  m->pid = 0;
}

static void test_full_disk_at_start(void) {
  e2e_join(fs, sizeof fs, env.dir, "storefs");
  REQUIRE(mkdir(fs, 0700) == 0);
  if (mount("tmpfs", fs, "tmpfs", 0, "size=512k") != 0) {
    /* without CAP_SYS_ADMIN there is no small file system to fill: nothing to run */
    fprintf(stderr, "note: cannot mount a tmpfs (%s): full-disk start not exercised\n", strerror(errno));
    return;
  }
  mounted = 1;
  char filler[PATH_MAX + 32];
  e2e_join(filler, sizeof filler, fs, "filler");
  /* an existing store on a disk that filled up since */
  static e2e_manager full;
  char extra[PATH_MAX + 64];
  snprintf(extra, sizeof extra, "pid_file = %s/full.pid\n", env.dir); /* the pid file has room */
  e2e_manager_init(&full, &env, "full", extra);
  e2e_join(full.db, sizeof full.db, fs, "manager.db");
  REQUIRE(e2e_manager_start(&full) == 0);
  e2e_manager_stop(&full, SIGTERM);
  fill(filler);
  expect_disk_full(&full);
  /* a new store on a full disk */
  char side[PATH_MAX + 64];
  unlink(full.db);
  snprintf(side, sizeof side, "%s-wal", full.db);
  unlink(side);
  snprintf(side, sizeof side, "%s-shm", full.db);
  unlink(side);
  fill(filler);
  expect_disk_full(&full);
}

static void test_daemons_exit_cleanly(void) { CHECK(e2e_daemons_ok()); }

int main(void) {
  e2e_setup(&env, "e2e-hygiene");
  RUN(test_modes);
  RUN(test_hostile_strings);
  RUN(test_full_disk_at_start);
  e2e_agent_stop(&ag, SIGTERM);
  e2e_manager_stop(&mgr, SIGTERM);
  RUN(test_daemons_exit_cleanly);
  if (mounted) umount2(fs, MNT_DETACH);
  e2e_teardown(&env, test_failed_);
  return test_report();
}
