/* test_daemon_conf.c — the daemons' configuration files: every option of both tables, defaults,
 * relative paths resolved against the file's directory, and a clear error naming the line for
 * every kind of mistake (all of them reported in one go). */
#include <limits.h>

#include "agent/config.h"
#include "err.h"
#include "manager/config.h"
#include "test.h"
#include "tmpdir.h"

static char dir[PATH_MAX], path[PATH_MAX + 32], err[4096];

static void test_agent_full(void) {
  tmp_write(path, "# an agent\n"
                  "agent_id = 002\n"
                  "manager = 10.0.0.5:1515   # the manager\n"
                  "cert = certs/002.crt\n"
                  "key = /etc/tenet/002.key\n"
                  "ca = certs/ca.crt\n"
                  "trusted_keys = keys/a.pub, keys/b.pub\n"
                  "trusted_keys = /k/c.pub\n"
                  "bundle_dir = bundles\n"
                  "state_db = state.db\n"
                  "scan_interval = 10m\n"
                  "workers = 2\n"
                  "command_timeout = 5s\n"
                  "log_level = debug\n"
                  "log_file = \"my log #1.txt\"\n");
  agent_config c;
  int rc = agent_config_load(path, &c, err, sizeof err);
  if (rc != TN_OK) fprintf(stderr, "%s\n", err);
  REQUIRE(rc == TN_OK);
  CHECK_STR(c.agent_id, "002");
  REQUIRE(c.manager.n == 1);
  CHECK_STR(c.manager.items[0].host, "10.0.0.5");
  CHECK_INT(c.manager.items[0].port, 1515);
  CHECK_STR(c.manager_name, "10.0.0.5");
  char want[PATH_MAX + 64];
  snprintf(want, sizeof want, "%s/certs/002.crt", dir);
  CHECK_STR(c.cert, want);
  CHECK_STR(c.key, "/etc/tenet/002.key");
  CHECK_INT(c.trusted_keys.n, 3);
  snprintf(want, sizeof want, "%s/keys/b.pub", dir);
  if (c.trusted_keys.n == 3) {
    CHECK_STR(c.trusted_keys.items[1], want);
    CHECK_STR(c.trusted_keys.items[2], "/k/c.pub");
  }
  CHECK_INT(c.scan_interval, 600);
  CHECK_INT(c.workers, 2);
  CHECK_INT(c.command_timeout, 5);
  CHECK_INT(c.scan_on_start, 1);
  CHECK_INT(c.reconnect_max, 60);
  CHECK_INT(c.max_frame, 4 << 20);
  snprintf(want, sizeof want, "%s/my log #1.txt", dir);
  CHECK_STR(c.log_file, want);
  snprintf(want, sizeof want, "%s/tenet-agent.pid", dir); /* beside state_db by default */
  CHECK_STR(c.pid_file, want);
  agent_config_free(&c);
}

static void test_agent_id_from_cert(void) {
  tmp_write(path,
            "manager = localhost:1\ncert = /pki/agents/web-07.crt\nkey = k\nca = c\ntrusted_keys = t.pub\n"
            "bundle_dir = b\nstate_db = s\n");
  agent_config c;
  REQUIRE(agent_config_load(path, &c, err, sizeof err) == TN_OK);
  CHECK_STR(c.agent_id, "web-07");
  CHECK_INT(c.scan_interval, 12 * 3600);
  agent_config_free(&c);
}

static void test_agent_errors(void) {
  tmp_write(path, "manager = 10.0.0.5\n"      /* 1: no port */
                  "scan_interval = soon\n"    /* 2 */
                  "this line has no equals\n" /* 3 */
                  "colour = blue\n"           /* 4 */
                  "workers = 1000\n"          /* 5: out of range */
                  "scan_on_start = maybe\n"   /* 6 */
                  "scan_on_start = yes\n"     /* 7: set twice? no: 6 failed, so this is the first good one */
                  "log_level = loud\n");      /* 8 */
  agent_config c;
  int rc = agent_config_load(path, &c, err, sizeof err);
  CHECK_INT(rc, TN_ECONFIG);
  char want[PATH_MAX + 128];
#define HAS(line, text)                                                                                      \
  do {                                                                                                       \
    snprintf(want, sizeof want, "%s:%d: %s", path, line, text);                                              \
    if (!strstr(err, want)) fprintf(stderr, "missing: %s\nin:\n%s\n", want, err);                            \
    CHECK(strstr(err, want) != NULL);                                                                        \
  } while (0)
  HAS(1, "manager: '10.0.0.5' is not HOST:PORT");
  HAS(2, "scan_interval: 'soon' is not a duration");
  HAS(3, "expected 'key = value'");
  HAS(4, "unknown option 'colour'");
  HAS(5, "workers: 1000 is out of range (0 to 64)");
  HAS(6, "scan_on_start: 'maybe' is not yes or no");
  HAS(8, "log_level: 'loud' is not a log level");
  CHECK(strstr(err, "missing required option 'cert'") != NULL);
  CHECK(strstr(err, "missing required option 'state_db'") != NULL);
  CHECK(strstr(err, ":7:") == NULL);
  agent_config_free(&c);

  tmp_write(path, "state_db = a\nstate_db = b\n");
  rc = agent_config_load(path, &c, err, sizeof err);
  CHECK_INT(rc, TN_ECONFIG);
  HAS(2, "option 'state_db' is set twice (first on line 1)");
  agent_config_free(&c);

  rc = agent_config_load("/nonexistent/agent.conf", &c, err, sizeof err);
  CHECK_INT(rc, TN_EIO);
  CHECK(strstr(err, "cannot read configuration file /nonexistent/agent.conf") != NULL);
  agent_config_free(&c);
#undef HAS
}

/* manager = HOST:PORT[, HOST:PORT ...]: order kept, IPv6 in brackets, a repeated line appends,
 * manager_name applies to all (unset with several: each address's own host). */
static void test_agent_manager_list(void) {
  static const char rest[] =
      "cert = c.crt\nkey = k\nca = ca\ntrusted_keys = t.pub\nbundle_dir = b\nstate_db = s\n";
  tmp_write(path, "manager = a.example:1515 ,[::1]:1516,10.0.0.7:1517\nmanager = b.example:2000\n%s", rest);
  agent_config c, d;
  int rc = agent_config_load(path, &c, err, sizeof err);
  if (rc != TN_OK) fprintf(stderr, "%s\n", err);
  REQUIRE(rc == TN_OK);
  REQUIRE(c.manager.n == 4);
  CHECK_STR(c.manager.items[0].host, "a.example");
  CHECK_INT(c.manager.items[0].port, 1515);
  CHECK_STR(c.manager.items[1].host, "::1");
  CHECK_INT(c.manager.items[1].port, 1516);
  CHECK_STR(c.manager.items[2].host, "10.0.0.7");
  CHECK_STR(c.manager.items[3].host, "b.example");
  CHECK_INT(c.manager.items[3].port, 2000);
  CHECK_STR(c.manager_name, ""); /* each address is checked against its own host */

  /* A different order is a different configuration (SIGHUP reports it). */
  tmp_write(path, "manager = [::1]:1516, a.example:1515, 10.0.0.7:1517, b.example:2000\n%s", rest);
  REQUIRE(agent_config_load(path, &d, err, sizeof err) == TN_OK);
  const char *names[8];
  CHECK_INT(agent_config_diff(&c, &d, names, 8), 1);
  CHECK_STR(names[0], "manager");
  agent_config_free(&d);
  agent_config_free(&c);

  tmp_write(path, "manager = m1:1, m2:2\nmanager_name = managers.example\n%s", rest);
  REQUIRE(agent_config_load(path, &c, err, sizeof err) == TN_OK);
  CHECK_INT(c.manager.n, 2);
  CHECK_STR(c.manager_name, "managers.example");
  agent_config_free(&c);

  char want[PATH_MAX + 256];
#define BAD(value, text)                                                                                     \
  do {                                                                                                       \
    tmp_write(path, "manager = %s\n%s", value, rest);                                                        \
    CHECK_INT(agent_config_load(path, &c, err, sizeof err), TN_ECONFIG);                                     \
    snprintf(want, sizeof want, "%s:1: manager: %s", path, text);                                            \
    if (!strstr(err, want)) fprintf(stderr, "missing: %s\nin:\n%s\n", want, err);                            \
    CHECK(strstr(err, want) != NULL);                                                                        \
    agent_config_free(&c);                                                                                   \
  } while (0)
  BAD("a:1, b", "entry 2 ('b') is not HOST:PORT");
  BAD("a:1,,b:2", "entry 2 is empty");
  BAD("a:1, b:2,", "entry 3 is empty");
  BAD("a:1, b:0", "entry 2 ('b:0'): port 0 is out of range (1 to 65535)");
  BAD("a:1, :1515", "entry 2 (':1515') names no host");
  BAD(":1515", "':1515' names no host");
  BAD("a:1, b:2, a:1", "entry 3 ('a:1') is already in the list");
  BAD("a:1, ::1:5", "entry 2 ('::1:5') is not HOST:PORT");
  BAD("a:99999", "'a:99999' is not HOST:PORT");
#undef BAD
  /* The same address on a second line is a repeat too; an empty value is missing. */
  tmp_write(path, "manager = a:1\nmanager = b:2, a:1\n%s", rest);
  CHECK_INT(agent_config_load(path, &c, err, sizeof err), TN_ECONFIG);
  snprintf(want, sizeof want, "%s:2: manager: entry 2 ('a:1') is already in the list", path);
  CHECK(strstr(err, want) != NULL);
  agent_config_free(&c);
  tmp_write(path, "manager =\n%s", rest);
  CHECK_INT(agent_config_load(path, &c, err, sizeof err), TN_ECONFIG);
  snprintf(want, sizeof want, "%s:1: manager: missing value", path);
  CHECK(strstr(err, want) != NULL);
  agent_config_free(&c);

  /* conf_parse_addrs on its own: entries kept before the bad one, and freed. */
  conf_addrs l = {0};
  CHECK(conf_parse_addrs("h1:1, h2:2, bad", 1, 65535, 1, &l, err, sizeof err) != 0);
  CHECK_INT(l.n, 2);
  CHECK_STR(err,
            "entry 3 ('bad') is not HOST:PORT (e.g. 10.0.0.5:1515, [::1]:1515; several: a:1515, b:1515)");
  conf_addrs_free(&l);
  CHECK_INT(l.n, 0);
  conf_addrs_free(NULL);
}

static void test_manager(void) {
  tmp_write(path, "listen = 127.0.0.1:0\ncert = m.crt\nkey = m.key\nca = ca.crt\nstate_db = /var/lib/m.db\n"
                  "alerts_file = alerts.json\ntest_drop_check = 1002\n");
  manager_config c;
  int rc = manager_config_load(path, &c, err, sizeof err);
  if (rc != TN_OK) fprintf(stderr, "%s\n", err);
  REQUIRE(rc == TN_OK);
  CHECK_STR(c.listen.host, "127.0.0.1");
  CHECK_INT(c.listen.port, 0);
  CHECK_INT(c.test_drop_check, 1002);
  CHECK_INT(c.durable, 1);
  CHECK_STR(c.bundle_dir, "");
  CHECK_INT(c.trusted_keys.n, 0);
  CHECK_INT(c.bundle_poll_interval, 2);
  CHECK_STR(c.pid_file, "/var/lib/tenet-manager.pid"); /* beside state_db by default */
  /* what changed between two loads (SIGHUP): nothing, then the options that differ, in table order */
  manager_config d;
  REQUIRE(manager_config_load(path, &d, err, sizeof err) == TN_OK);
  const char *names[8];
  CHECK_INT(manager_config_diff(&c, &d, names, 8), 0);
  manager_config_free(&d);
  tmp_write(path, "listen = 127.0.0.1:0\ncert = m.crt\nkey = m.key\nca = ca.crt\nstate_db = /var/lib/m.db\n"
                  "alerts_file = alerts.json\ntest_drop_check = 1002\nlog_level = debug\n"
                  "trusted_keys = k.pub\npid_file = /run/m.pid\n");
  REQUIRE(manager_config_load(path, &d, err, sizeof err) == TN_OK);
  CHECK_INT(manager_config_diff(&c, &d, names, 8), 3);
  CHECK_STR(names[0], "trusted_keys");
  CHECK_STR(names[1], "log_level");
  CHECK_STR(names[2], "pid_file");
  CHECK_INT(manager_config_diff(&c, &d, names, 1), 3); /* counted beyond max */
  manager_config_free(&d);
  manager_config_free(&c);

  tmp_write(path, "listen = [::1]:1515\ncert = m.crt\nkey = m.key\nca = ca.crt\nstate_db = m.db\n"
                  "alerts_file = a\nmax_frame = 2M\n");
  REQUIRE(manager_config_load(path, &c, err, sizeof err) == TN_OK);
  CHECK_STR(c.listen.host, "::1");
  CHECK_INT(c.test_drop_check, -1);
  CHECK_INT(c.max_frame, 2 << 20);
  manager_config_free(&c);

  tmp_write(path, "listen = 127.0.0.1:99999\nmax_frame = 12Q\n");
  rc = manager_config_load(path, &c, err, sizeof err);
  CHECK_INT(rc, TN_ECONFIG);
  CHECK(strstr(err, ":1: listen: '127.0.0.1:99999' is not HOST:PORT") != NULL);
  CHECK(strstr(err, ":2: max_frame: '12Q' is not a size") != NULL);
  CHECK(strstr(err, "missing required option 'alerts_file'") != NULL);
  manager_config_free(&c);
}

static void test_parsers(void) {
  int64_t v;
  CHECK(conf_parse_duration("90", &v) == 0 && v == 90);
  CHECK(conf_parse_duration("2h", &v) == 0 && v == 7200);
  CHECK(conf_parse_duration("1w", &v) == 0 && v == 604800);
  CHECK(conf_parse_duration("-1s", &v) != 0);
  CHECK(conf_parse_duration("1hh", &v) != 0);
  CHECK(conf_parse_size("4M", &v) == 0 && v == 4 << 20);
  CHECK(conf_parse_size("512KiB", &v) == 0 && v == 512 << 10);
  char *host;
  int port;
  CHECK(conf_parse_addr("*:1515", &host, &port) == 0 && host && strcmp(host, "*") == 0 && port == 1515);
  free(host);
  CHECK(conf_parse_addr(":7", &host, &port) == 0 && !host && port == 7);
  CHECK(conf_parse_addr("::1:7", &host, &port) != 0);
  CHECK(conf_parse_addr("h:x", &host, &port) != 0);
}

int main(void) {
  tmp_make("conf", dir, sizeof dir);
  snprintf(path, sizeof path, "%s/daemon.conf", dir);
  RUN(test_agent_full);
  RUN(test_agent_id_from_cert);
  RUN(test_agent_errors);
  RUN(test_agent_manager_list);
  RUN(test_manager);
  RUN(test_parsers);
  tmp_remove(dir);
  return test_report();
}
