/* e2e_startup.c — scenario 10: the daemons start, reload and report like Debian daemons, with real
 * processes.
 *
 *   - a port already taken, a missing certificate: non-zero exit and the reason on stderr, in the
 *     background (the shell waits for the daemon's start-up) as in the foreground
 *   - in the background: exit 0 once running, the pid file (beside state_db by default) holds the
 *     daemon's pid and is locked (a second start says "already running"), SIGTERM removes it
 *   - -t checks the directories the daemon will write
 *   - SIGHUP re-reads the configuration (a broken file keeps the running one) and the bundles
 *   - `query agents` says whether each agent is connected, since when, and when it was last seen */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <sys/socket.h>

#include "harness.h"
#include "test.h"
#include "tmpdir.h"

static e2e_env env;
static e2e_manager mgr;
static e2e_agent ag;
static char out[16384];

/* dir/manager.conf for a manager on 127.0.0.1:port with the scenario's PKI (cert: another
 * certificate path, NULL: the real one) and more lines. */
static void manager_conf(char *conf, size_t cap, const char *dir, int port, const char *cert,
                         const char *extra) {
  mkdir(dir, 0700);
  snprintf(conf, cap, "%s/manager.conf", dir);
  char crt[PATH_MAX + 32];
  snprintf(crt, sizeof crt, "%s/manager.crt", env.pki);
  tmp_write(conf,
            "listen = 127.0.0.1:%d\ncert = %s\nkey = %s/manager.key\nca = %s/ca.crt\n"
            "state_db = %s/manager.db\nalerts_file = %s/alerts.json\nlog_file = %s/manager.log\n"
            "port_file = %s/port\n%s",
            port, cert ? cert : crt, env.pki, env.pki, dir, dir, dir, dir, extra ? extra : "");
}

static int exists(const char *path) { return access(path, F_OK) == 0; }

static int query(const char *conf, int json) {
  const char *q[] = {env.manager_bin, "-c", conf, "query", "agents", json ? "--json" : NULL, NULL};
  return e2e_run(q, out, sizeof out);
}

static void test_presence_connected(void) {
  e2e_manager_init(&mgr, &env, "manager", "bundle_poll_interval = 1h\n");
  REQUIRE(e2e_manager_start(&mgr) == 0);
  e2e_agent_init(&ag, &env, "001", mgr.port, NULL);
  const char *const values[4] = {"ok", "no", "no", "ok"};
  e2e_agent_install_seed(&ag, &env, values);
  REQUIRE(e2e_agent_start(&ag) == 0);
  REQUIRE(e2e_wait_converged(&mgr, &ag, "seed") == 0);
  CHECK_INT(query(mgr.conf, 0), 0);
  CHECK(strstr(out, "agent 001  (version 0.1.0, connected since ") != NULL);
  CHECK(strstr(out, " from 127.0.0.1:") != NULL && strstr(out, ", last seen ") != NULL);
  CHECK_INT(query(mgr.conf, 1), 0);
  CHECK(strstr(out, "\"agent_id\":\"001\",\"version\":\"0.1.0\",\"connected\":true,") != NULL);
  CHECK(strstr(out, "\"disconnected_at\":0,\"peer\":\"127.0.0.1:") != NULL);
}

/* Replace the first `from` in the file at path with `to`. */
static void edit(const char *path, const char *from, const char *to) {
  char *s = tmp_read(path);
  REQUIRE(s != NULL);
  char *at = strstr(s, from);
  REQUIRE(at != NULL);
  *at = '\0';
  tmp_write(path, "%s%s%s", s, to, at + strlen(from));
  free(s);
}

/* Open a TCP connection to the manager and close it at once. */
static void poke(int port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  REQUIRE(fd >= 0);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  CHECK_INT(connect(fd, (struct sockaddr *)&a, sizeof a), 0);
  close(fd);
}

static void test_sighup_manager(void) {
  /* at debug level a connection is logged when it arrives */
  int debug0 = tmp_count(mgr.log, "DEBUG: Connection from 127.0.0.1");
  poke(mgr.port);
  CHECK(e2e_wait_text(mgr.log, "DEBUG: Connection from 127.0.0.1", debug0 + 1, E2E_WAIT_MS) == 0);

  /* the bundle directory is read every hour: only SIGHUP can make the manager see version 2 now */
  char yml[PATH_MAX + 32], tnb[PATH_MAX + 64];
  static const int ids[] = {1000, 1001, 1002, 1003};
  e2e_join(yml, sizeof yml, env.dir, "seed-v2.yml");
  e2e_join(tnb, sizeof tnb, mgr.bundles, "seed.tnb");
  e2e_policy_write(yml, "seed", ag.fx, ids, 4, " (v2)");
  e2e_compile(&env, yml, tnb, "release", 2);
  kill(mgr.pid, SIGHUP);
  REQUIRE(e2e_wait_text(mgr.log, "SIGHUP: re-reading the bundle directory", 1, E2E_WAIT_MS) == 0);
  CHECK(e2e_wait_text(mgr.log, "SIGHUP: configuration ", 1, E2E_WAIT_MS) == 0);
  CHECK(tmp_count(mgr.log, "re-read: 0 options changed, 0 need a restart") == 1);
  REQUIRE(e2e_wait_text(ag.log, "Installed bundle for policy 'seed' version 2 from the manager", 1,
                        E2E_WAIT_MS) == 0);
  REQUIRE(e2e_wait_converged(&mgr, &ag, "seed") == 0);

  /* a broken file: the running configuration stays */
  FILE *f = fopen(mgr.conf, "a");
  REQUIRE(f != NULL);
  fprintf(f, "log_level = info\n");
  fclose(f);
  kill(mgr.pid, SIGHUP);
  REQUIRE(e2e_wait_text(mgr.log, "ERROR: SIGHUP: configuration not re-read, the running one stays: ", 1,
                        E2E_WAIT_MS) == 0);
  CHECK(tmp_count(mgr.log, "option 'log_level' is set twice") == 1);
  /* a good one: log_level applies now, max_connections needs a restart */
  edit(mgr.conf, "log_level = info\n", "max_connections = 50\n");
  edit(mgr.conf, "log_level = debug", "log_level = info");
  kill(mgr.pid, SIGHUP);
  REQUIRE(e2e_wait_text(mgr.log, "re-read: 2 options changed, 1 needs a restart", 1, E2E_WAIT_MS) == 0);
  CHECK(tmp_count(mgr.log,
                  "WARNING: SIGHUP: option 'max_connections' changed: restart tenet-manager to apply "
                  "it") == 1);
  /* a connection that closes during the handshake: logged at debug when it arrives (no longer
   * shown), as a warning when it is refused (still shown) */
  int debug = tmp_count(mgr.log, "DEBUG:");
  int refused = tmp_count(mgr.log, "closed during the TLS handshake");
  poke(mgr.port);
  REQUIRE(e2e_wait_text(mgr.log, "closed during the TLS handshake", refused + 1, E2E_WAIT_MS) == 0);
  CHECK_INT(tmp_count(mgr.log, "DEBUG:"), debug);
}

static void test_sighup_agent(void) {
  int scans = tmp_count(ag.log, "Security Configuration Assessment scan finished.");
  edit(ag.conf, "scan_interval = 1h", "scan_interval = 2h");
  kill(ag.pid, SIGHUP);
  REQUIRE(e2e_wait_text(ag.log, "SIGHUP: re-reading the bundles", 1, E2E_WAIT_MS) == 0);
  CHECK(tmp_count(ag.log, "SIGHUP: configuration ") == 1);
  CHECK(tmp_count(ag.log, "re-read: 1 option changed, 0 need a restart") == 1);
  CHECK(e2e_wait_text(ag.log, "Security Configuration Assessment scan finished.", scans + 1, E2E_WAIT_MS) ==
        0);
}

static int shows_disconnected(void *arg) {
  return query(mgr.conf, 0) == 0 && strstr(out, "agent 001  (version 0.1.0, disconnected since ") != NULL;
}

static void test_presence_disconnected(void) {
  e2e_agent_stop(&ag, SIGTERM);
  REQUIRE(e2e_wait(shows_disconnected, NULL, E2E_WAIT_MS));
  CHECK(strstr(out, ", last seen ") != NULL);
  CHECK_INT(query(mgr.conf, 1), 0);
  CHECK(strstr(out, "\"connected\":false,") != NULL);
  CHECK(strstr(out, "\"disconnected_at\":0,") == NULL);
  /* a manager that is not running has nobody connected, whatever its store last said */
  e2e_agent_start(&ag);
  REQUIRE(e2e_wait_text(mgr.log, "Agent '001' connected from 127.0.0.1", 2, E2E_WAIT_MS) == 0);
  e2e_manager_stop(&mgr, SIGKILL);
  CHECK_INT(query(mgr.conf, 0), 0);
  CHECK(strstr(out, "agent 001  (version 0.1.0, not connected (the manager is not running), last seen ") !=
        NULL);
  e2e_agent_stop(&ag, SIGTERM);
}

static void test_port_taken(void) {
  e2e_manager m2;
  e2e_manager_init(&m2, &env, "manager-taken", NULL);
  REQUIRE(e2e_manager_start(&m2) == 0);
  char dir[PATH_MAX + 32], conf[PATH_MAX + 64], want[128], pid[PATH_MAX + 64];
  e2e_join(dir, sizeof dir, env.dir, "manager-2");
  manager_conf(conf, sizeof conf, dir, m2.port, NULL, NULL);
  snprintf(want, sizeof want, "tenet-manager: cannot listen on 127.0.0.1:%d: ", m2.port);
  const char *bg[] = {env.manager_bin, "-c", conf, NULL};
  CHECK_INT(e2e_run(bg, out, sizeof out), 1);
  CHECK(strstr(out, want) != NULL && strstr(out, "Address already in use") != NULL);
  const char *fg[] = {env.manager_bin, "-c", conf, "-f", NULL};
  CHECK_INT(e2e_run(fg, out, sizeof out), 1);
  CHECK(strstr(out, want) != NULL);
  e2e_join(pid, sizeof pid, dir, "tenet-manager.pid");
  CHECK(!exists(pid)); /* a daemon that did not start leaves no pid file */
  e2e_manager_stop(&m2, SIGTERM);
}

static void test_missing_certificate(void) {
  char dir[PATH_MAX + 32], conf[PATH_MAX + 64], none[PATH_MAX + 64];
  e2e_join(dir, sizeof dir, env.dir, "manager-3");
  e2e_join(none, sizeof none, env.dir, "none.crt");
  manager_conf(conf, sizeof conf, dir, 0, none, NULL);
  const char *bg[] = {env.manager_bin, "-c", conf, NULL};
  CHECK_INT(e2e_run(bg, out, sizeof out), 1);
  CHECK(strstr(out, "tenet-manager: TLS: ") != NULL && strstr(out, "none.crt") != NULL);
  /* an agent whose certificate is missing */
  e2e_agent a;
  e2e_agent_init(&a, &env, "002", 1, NULL);
  tmp_write(a.conf,
            "manager = 127.0.0.1:1\ncert = %s\nkey = %s/agents/002.key\nca = %s/ca.crt\n"
            "trusted_keys = %s/release.pub\nbundle_dir = %s\nstate_db = %s\nlog_file = %s\n",
            none, env.pki, env.pki, env.keys, a.bundles, a.db, a.log);
  const char *abg[] = {env.agent_bin, "-c", a.conf, NULL};
  CHECK_INT(e2e_run(abg, out, sizeof out), 1);
  CHECK(strstr(out, "tenet-agent: TLS: ") != NULL && strstr(out, "none.crt") != NULL);
}

static int file_gone(void *arg) { return !exists((const char *)arg); }

static void test_background(void) {
  char dir[PATH_MAX + 32], conf[PATH_MAX + 64], pidfile[PATH_MAX + 64], portfile[PATH_MAX + 64];
  char logfile[PATH_MAX + 64];
  e2e_join(dir, sizeof dir, env.dir, "manager-4");
  manager_conf(conf, sizeof conf, dir, 0, NULL, NULL);
  e2e_join(pidfile, sizeof pidfile, dir, "tenet-manager.pid");
  e2e_join(portfile, sizeof portfile, dir, "port");
  e2e_join(logfile, sizeof logfile, dir, "manager.log");
  const char *bg[] = {env.manager_bin, "-c", conf, NULL};
  CHECK_INT(e2e_run(bg, out, sizeof out), 0);
  CHECK_STR(out, "");
  /* running once the shell has its status: the pid file and the port are there already */
  REQUIRE(exists(pidfile) && exists(portfile));
  char *p = tmp_read(pidfile);
  pid_t pid = p ? (pid_t)atoi(p) : 0;
  free(p);
  REQUIRE(pid > 1);
  CHECK_INT(kill(pid, 0), 0);
  char want[96];
  snprintf(want, sizeof want, "already running (pid %ld)", (long)pid);
  CHECK_INT(e2e_run(bg, out, sizeof out), 1);
  CHECK(strstr(out, want) != NULL);
  CHECK(exists(pidfile)); /* the loser leaves the winner's pid file alone */
  kill(pid, SIGTERM);
  CHECK(e2e_wait(file_gone, pidfile, E2E_WAIT_MS));
  CHECK(e2e_wait_text(logfile, "INFO: Stopped", 1, E2E_WAIT_MS) == 0);
}

static void test_config_check(void) {
  char dir[PATH_MAX + 32], conf[PATH_MAX + 64];
  e2e_join(dir, sizeof dir, env.dir, "manager-5");
  manager_conf(conf, sizeof conf, dir, 0, NULL, NULL);
  const char *t[] = {env.manager_bin, "-c", conf, "-t", NULL};
  CHECK_INT(e2e_run(t, out, sizeof out), 0);
  CHECK(strstr(out, "is valid") != NULL);
  edit(conf, "/manager.db", "/missing/manager.db");
  CHECK_INT(e2e_run(t, out, sizeof out), 1);
  CHECK(strstr(out, "state_db: ") != NULL && strstr(out, "/missing: No such file or directory") != NULL);
  edit(conf, "/missing/manager.db", "/manager.db");
  edit(conf, "alerts_file = ", "alerts_file = /dev/null/alerts.json\n# ");
  CHECK_INT(e2e_run(t, out, sizeof out), 1);
  CHECK(strstr(out, "alerts_file: /dev/null: not a directory") != NULL);
  /* the agent: its bundle directory must exist */
  e2e_agent a;
  e2e_agent_init(&a, &env, "003", 1, NULL);
  tmp_write(a.conf,
            "manager = 127.0.0.1:1\ncert = %s/agents/003.crt\nkey = %s/agents/003.key\nca = %s/ca.crt\n"
            "trusted_keys = %s/release.pub\nbundle_dir = %s/nowhere\nstate_db = %s\nlog_file = %s\n",
            env.pki, env.pki, env.pki, env.keys, a.dir, a.db, a.log);
  const char *at[] = {env.agent_bin, "-c", a.conf, "-t", NULL};
  CHECK_INT(e2e_run(at, out, sizeof out), 1);
  CHECK(strstr(out, "bundle_dir: ") != NULL && strstr(out, "/nowhere: No such file or directory") != NULL);
  edit(a.conf, "/nowhere", "/bundles");
  CHECK_INT(e2e_run(at, out, sizeof out), 0);
  CHECK(strstr(out, "is valid") != NULL);
}

static void test_daemons_exit_cleanly(void) { CHECK(e2e_daemons_ok()); }

int main(void) {
  e2e_setup(&env, "e2e-startup");
  RUN(test_presence_connected);
  RUN(test_sighup_manager);
  RUN(test_sighup_agent);
  RUN(test_presence_disconnected);
  RUN(test_port_taken);
  RUN(test_missing_certificate);
  RUN(test_background);
  RUN(test_config_check);
  e2e_agent_stop(&ag, SIGKILL);
  e2e_manager_stop(&mgr, SIGKILL);
  RUN(test_daemons_exit_cleanly);
  e2e_teardown(&env, test_failed_);
  return test_report();
}
