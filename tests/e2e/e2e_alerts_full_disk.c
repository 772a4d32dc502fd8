/* e2e_alerts_full_disk.c — issue 8 item 2: the alerts file sits on a full file system (a tiny
 * tmpfs filled to the last block; /dev/full when tmpfs cannot be mounted). The manager keeps
 * applying and acknowledging agent messages, each alert committed in its store's alert outbox
 * with the state it describes; nothing half-written stays in the file. SIGTERM, the disk is freed,
 * the manager restarts and writes every alert exactly once, in order; another restart writes
 * none again. */
#include <errno.h>
#include <fcntl.h>
#include <sys/mount.h>

#include "harness.h"
#include "test.h"
#include "tmpdir.h"

static e2e_env env;
static e2e_manager mgr;
static e2e_agent ag;
static char fs[PATH_MAX + 16], filler[PATH_MAX + 32];
static int mounted;

/* Fill the file system holding path until a write fails with ENOSPC. */
static void fill(const char *path) {
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
  REQUIRE(fd >= 0);
  char block[4096];
  memset(block, 'x', sizeof block);
  ssize_t w;
  while ((w = write(fd, block, sizeof block)) > 0) {
  }
  CHECK(errno == ENOSPC);
  while (write(fd, block, 1) > 0) {
  }
  close(fd);
}

static int64_t queued_alerts(void) {
  char err[512];
  mstore *s = mstore_open(mgr.db, 1, 0, err, sizeof err);
  if (!s) return -1;
  int64_t n = -1, bytes = 0;
  if (mstore_alerts_stats(s, &n, &bytes) != TN_OK) n = -1;
  mstore_close(s);
  return n;
}

static int seven_lines(void *arg) { return e2e_lines(mgr.alerts) >= 7; }

static void test_alerts_survive_full_disk(void) {
  e2e_join(fs, sizeof fs, env.dir, "alertsfs");
  REQUIRE(mkdir(fs, 0700) == 0);
  mounted = mount("tmpfs", fs, "tmpfs", 0, "size=64k") == 0;
  e2e_manager_init(&mgr, &env, "manager", NULL);
  if (mounted) {
    e2e_join(mgr.alerts, sizeof mgr.alerts, fs, "alerts.json");
    e2e_join(filler, sizeof filler, fs, "filler");
    fill(filler);
  } else {
    fprintf(stderr, "note: cannot mount a tmpfs (%s): the alerts file is /dev/full\n", strerror(errno));
    snprintf(mgr.alerts, sizeof mgr.alerts, "/dev/full");
  }
  REQUIRE(e2e_manager_start(&mgr) == 0);
  e2e_agent_init(&ag, &env, "001", mgr.port, NULL);
  e2e_agent_install_seed(&ag, &env, (const char *const[]){"ok", "ok", "ok", "ok"});
  REQUIRE(e2e_agent_start(&ag) == 0);
  REQUIRE(e2e_wait_converged(&mgr, &ag, "seed") == 0);
  REQUIRE(e2e_wait_text(mgr.log, "Cannot write the alerts file", 1, E2E_WAIT_MS) == 0);
  e2e_flag(&ag, 1000, "no");
  REQUIRE(e2e_agent_rescan(&ag) == 0);
  REQUIRE(e2e_wait_converged(&mgr, &ag, "seed") == 0);
  /* acknowledged, and every alert (4 first-seen checks + summary, 1000 failed + summary) held */
  CHECK_INT(queued_alerts(), 7);
  CHECK_INT(tmp_count(mgr.log, "Cannot write the alerts file"), 1); /* said once, not per retry */

  e2e_manager_stop(&mgr, SIGTERM);
  CHECK_INT(queued_alerts(), 7);
  if (mounted) {
    struct stat st;
    REQUIRE(stat(mgr.alerts, &st) == 0);
    CHECK_INT(st.st_size, 0);     /* nothing half-written */
    REQUIRE(unlink(filler) == 0); /* the disk frees */
  } else {
    e2e_join(mgr.alerts, sizeof mgr.alerts, mgr.dir, "alerts.json");
  }
  REQUIRE(e2e_manager_start(&mgr) == 0);
  CHECK(e2e_wait(seven_lines, NULL, E2E_WAIT_MS));
  CHECK(e2e_wait_text(mgr.log, "Wrote 7 alerts queued before the restart", 1, E2E_WAIT_MS) == 0);
  CHECK_INT(e2e_lines(mgr.alerts), 7);
  CHECK_INT(tmp_count(mgr.alerts, "\"location\":\"sca\""), 7);
  CHECK_INT(tmp_count(mgr.alerts, "\"id\":\"1000\""), 2);
  CHECK_INT(tmp_count(mgr.alerts, "\"id\":\"1001\""), 1);
  CHECK_INT(tmp_count(mgr.alerts, "\"id\":\"1002\""), 1);
  CHECK_INT(tmp_count(mgr.alerts, "\"id\":\"1003\""), 1);
  CHECK_INT(tmp_count(mgr.alerts, "\"type\":\"summary\""), 2);
  CHECK_INT(tmp_count(mgr.alerts, "\"result\":\"failed\",\"previous_result\":\"passed\""), 1);
  CHECK_INT(queued_alerts(), 0);

  /* Exactly once: another restart writes nothing again; new alerts go straight through. */
  e2e_manager_stop(&mgr, SIGTERM);
  REQUIRE(e2e_manager_start(&mgr) == 0);
  e2e_flag(&ag, 1000, "ok");
  REQUIRE(e2e_agent_rescan(&ag) == 0);
  REQUIRE(e2e_wait_converged(&mgr, &ag, "seed") == 0);
  CHECK(e2e_wait_text(mgr.alerts, "\"result\":\"passed\",\"previous_result\":\"failed\"", 1, E2E_WAIT_MS) ==
        0);
  CHECK(e2e_wait_text(mgr.alerts, "\"type\":\"summary\"", 3, E2E_WAIT_MS) == 0);
  CHECK_INT(e2e_lines(mgr.alerts), 9);
}

static void test_daemons_exit_cleanly(void) { CHECK(e2e_daemons_ok()); }

int main(void) {
  e2e_setup(&env, "e2e-alerts-full");
  RUN(test_alerts_survive_full_disk);
  e2e_agent_stop(&ag, SIGTERM);
  e2e_manager_stop(&mgr, SIGTERM);
  RUN(test_daemons_exit_cleanly);
  if (mounted) umount2(fs, MNT_DETACH);
  e2e_teardown(&env, test_failed_);
  return test_report();
}
