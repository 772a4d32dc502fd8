/* e2e_string_id.c — a 5.x policy with string check ids (`"s5"`, `"cis-1.2"`) beside an integer id,
 * through the real agent and manager: the agent keys each check by its 64-bit key (vm/checkid.h)
 * and sends the text in CheckDetail.id_text; the stores converge on the results hash taken in key
 * order (1000, then the text ids by key); the manager's alerts and `query checks` (text and JSON)
 * show "s5" as written, on a first contact, on a changed result, and after a dump the manager
 * asked for once it lost its store (the agent's stored detail carries the text). */
#include "harness.h"
#include "test.h"
#include "tmpdir.h"

/* sha256("passed,,failed") and sha256("passed,,passed"): 1000, cis-1.2, s5 in key order */
#define HASH_FAILED "eeb4a8cccb93223119b9f1e712628fe99aa01ac834a38c6d23cc882efb1210e4"
#define HASH_PASSED "d58a8e6b594ff9895ccf0dcfe5d2cecdfd05f6f7efda9c939324bcfc0289ba97"

static e2e_env env;
static e2e_manager mgr;
static e2e_agent ag;

static void install_policy(void) {
  char yml[sizeof ag.dir + 16], tnb[sizeof ag.bundles + 16];
  e2e_join(yml, sizeof yml, ag.dir, "ids.yml");
  e2e_join(tnb, sizeof tnb, ag.bundles, "ids.tnb");
  tmp_write(yml,
            "policy:\n"
            "  id: \"ids\"\n"
            "  file: \"ids.yml\"\n"
            "  name: \"String ids\"\n"
            "  description: \"A 5.x policy whose check ids are strings.\"\n"
            "variables:\n"
            "  $fx: %s\n"
            "checks:\n"
            "  - id: 1000\n"
            "    name: \"An integer id\"\n"
            "    condition: all\n"
            "    rules: ['f:$fx/flag1000 -> r:^ok']\n"
            "  - id: \"s5\"\n"
            "    name: \"A string id\"\n"
            "    compliance:\n"
            "      nist_800_53: [\"CM-6\"]\n"
            "    condition: all\n"
            "    rules: ['f:$fx/flags5 -> r:^ok']\n"
            "  - id: \"cis-1.2\"\n"
            "    name: \"Another string id, not applicable\"\n"
            "    condition: all\n"
            "    rules: ['f:$fx/flagcis -> r:^ok']\n",
            ag.fx);
  e2e_compile(&env, yml, tnb, "release", 1);
}

static void query(const char *const *argv, char *out, size_t cap) { CHECK_INT(e2e_run(argv, out, cap), 0); }

static void test_string_ids(void) {
  e2e_manager_init(&mgr, &env, "manager", NULL);
  REQUIRE(e2e_manager_start(&mgr) == 0);
  e2e_agent_init(&ag, &env, "001", mgr.port, NULL);
  install_policy();
  e2e_flag(&ag, 1000, "ok");
  char fs5[sizeof ag.fx + 16];
  e2e_join(fs5, sizeof fs5, ag.fx, "flags5");
  tmp_write(fs5, "no\n");
  REQUIRE(e2e_agent_start(&ag) == 0);

  REQUIRE(e2e_wait_converged(&mgr, &ag, "ids") == 0);
  CHECK(e2e_same_checks(&mgr, &ag, "ids"));
  char mh[65], ah[65];
  CHECK_INT(e2e_manager_hash(&mgr, "001", "ids", mh), 3);
  CHECK_INT(e2e_agent_hash(&ag, "ids", ah), 3);
  CHECK_STR(mh, HASH_FAILED);
  CHECK_STR(ah, HASH_FAILED);

  /* the alerts name the checks as the policy does */
  REQUIRE(e2e_wait_text(mgr.alerts, "\"type\":\"summary\"", 1, E2E_WAIT_MS) == 0);
  CHECK_INT(tmp_count(mgr.alerts, "\"type\":\"check\""), 3);
  CHECK_INT(tmp_count(mgr.alerts, "\"check\":{\"id\":\"s5\",\"title\":\"A string id\""), 1);
  CHECK_INT(tmp_count(mgr.alerts, "\"check\":{\"id\":\"cis-1.2\","), 1);
  CHECK_INT(tmp_count(mgr.alerts, "\"check\":{\"id\":\"1000\","), 1);
  CHECK_INT(tmp_count(mgr.alerts, "\"nist_800_53\":\"CM-6\""), 1);

  char out[16384];
  const char *q1[] = {env.manager_bin, "-c", mgr.conf, "query", "checks", "001", "ids", NULL};
  query(q1, out, sizeof out);
  CHECK(strstr(out, "\ns5         failed          A string id\n") != NULL);
  CHECK(strstr(out, "\ncis-1.2    not applicable  Another string id, not applicable") != NULL);
  CHECK(strstr(out, "\n1000       passed          An integer id\n") != NULL);
  CHECK(strstr(out, HASH_FAILED) != NULL);
  const char *q2[] = {env.manager_bin, "-c", mgr.conf, "query", "checks", "001", "ids", "--json", NULL};
  query(q2, out, sizeof out);
  CHECK(strstr(out, "{\"id\":\"s5\",\"result\":\"failed\"") != NULL);
  CHECK(strstr(out, "{\"id\":1000,\"result\":\"passed\"") != NULL);
  /* key order: 1000, then cis-1.2 and s5 by key */
  const char *a = strstr(out, "\"id\":1000"), *b = strstr(out, "\"id\":\"cis-1.2\""),
             *c = strstr(out, "\"id\":\"s5\"");
  CHECK(a && b && c && a < b && b < c);

  /* a changed result: one delta, one alert with the previous result */
  tmp_write(fs5, "ok\n");
  REQUIRE(e2e_agent_rescan(&ag) == 0);
  REQUIRE(e2e_wait_text(mgr.alerts, "\"previous_result\":\"failed\"", 1, E2E_WAIT_MS) == 0);
  REQUIRE(e2e_wait_converged(&mgr, &ag, "ids") == 0);
  CHECK_INT(e2e_manager_hash(&mgr, "001", "ids", mh), 3);
  CHECK_STR(mh, HASH_PASSED);
  CHECK_INT(tmp_count(mgr.alerts, "\"check\":{\"id\":\"s5\","), 2);
  query(q1, out, sizeof out);
  CHECK(strstr(out, "\ns5         passed          A string id\n") != NULL);

  /* the manager loses its store: first contact again, a dump from the agent's store */
  e2e_manager_stop(&mgr, SIGTERM);
  char path[sizeof mgr.db + 8];
  unlink(mgr.db);
  snprintf(path, sizeof path, "%s-wal", mgr.db);
  unlink(path);
  snprintf(path, sizeof path, "%s-shm", mgr.db);
  unlink(path);
  REQUIRE(e2e_manager_start(&mgr) == 0);
  REQUIRE(e2e_wait_text(ag.log, "Connected to manager", 2, E2E_WAIT_MS) == 0);
  REQUIRE(e2e_agent_rescan(&ag) == 0); /* its summary names a policy the manager does not hold */
  REQUIRE(e2e_wait_text(mgr.alerts, "\"check\":{\"id\":\"s5\",", 3, E2E_WAIT_MS) == 0);
  CHECK(tmp_count(mgr.log, "Requesting DB dump") >= 1);
  REQUIRE(e2e_wait_converged(&mgr, &ag, "ids") == 0);
  CHECK(e2e_same_checks(&mgr, &ag, "ids"));
  query(q1, out, sizeof out);
  CHECK(strstr(out, "\ns5         passed          A string id\n") != NULL);

  e2e_agent_stop(&ag, SIGTERM);
  e2e_manager_stop(&mgr, SIGTERM);
}

static void test_daemons_exit_cleanly(void) { CHECK(e2e_daemons_ok()); }

int main(void) {
  e2e_setup(&env, "e2e-string-id");
  RUN(test_string_ids);
  e2e_agent_stop(&ag, SIGKILL);
  e2e_manager_stop(&mgr, SIGKILL);
  RUN(test_daemons_exit_cleanly);
  e2e_teardown(&env, test_failed_);
  return test_report();
}
