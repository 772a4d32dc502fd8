/* test_policy_id.c — Tenet's rule for policy ids (vm/bundle.h: 1 to 128 bytes of [A-Za-z0-9_.-],
 * the first a letter, digit or '_'): the check itself, bundle_write refusing a program that breaks
 * it, bundle_read refusing hostile bytes that carry one (a valid bundle with its id bytes edited
 * and the hash resealed), and the agent refusing an offer that names one before it builds a file
 * name from it. The compiler's error (line:col) is in tests/golden/diag/parse_policy_id_*.yml;
 * every id of the published corpus still compiles (diag/test_corpus). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/store.h"
#include "agent/trust.h"
#include "bundle.h"
#include "bundle_int.h"
#include "crypto.h"
#include "err.h"
#include "program.h"
#include "test.h"

static char err[512];

static void test_rule(void) {
  static const char *const good[] = {"cis_debian12",
                                     "sca_distro_independent_linux",
                                     "cis_macOS_15.Sequoia.yml",
                                     "cis_ubuntu26-04",
                                     "_x",
                                     "9",
                                     "web_vulnerabilities"};
  for (size_t i = 0; i < sizeof good / sizeof *good; i++)
    CHECK_INT(bundle_policy_id_check(good[i], err, sizeof err), TN_OK);
  static const char *const bad[] = {"",     "-x",          ".hidden", "a/b", "a b",
                                    "a\nb", "caf\xc3\xa9", "a%2F",    "..",  "x\x1b[2J"};
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
    CHECK_INT(bundle_policy_id_check(bad[i], err, sizeof err), TN_ECORRUPT);
  char id[200];
  memset(id, 'a', sizeof id);
  id[BUNDLE_POLICY_ID_MAX] = 0;
  CHECK_INT(bundle_policy_id_check(id, err, sizeof err), TN_OK);
  id[BUNDLE_POLICY_ID_MAX] = 'a';
  id[BUNDLE_POLICY_ID_MAX + 1] = 0;
  CHECK_INT(bundle_policy_id_check(id, err, sizeof err), TN_ECORRUPT);
  CHECK(strstr(err, "policy id of 129 bytes (at most 128)") != NULL);
}

static program *build(const char *id) {
  program *p = program_new();
  p->policy_id = program_intern(p, id);
  program_freeze(p);
  return p;
}

static void test_write_refuses(void) {
  program *p = build("a/b");
  uint8_t *out = NULL;
  size_t len = 0;
  CHECK_INT(bundle_write(p, NULL, &out, &len, err, sizeof err), TN_ECORRUPT);
  CHECK(out == NULL && strstr(err, "byte 0x2f at offset 1") != NULL);
  program_free(p);
}

static void test_read_refuses(void) {
  program *p = build("abc_defg");
  uint8_t *b = NULL;
  size_t len = 0;
  REQUIRE(bundle_write(p, NULL, &b, &len, err, sizeof err) == TN_OK);
  program_free(p);
  program *q = NULL;
  bundle_info info;
  REQUIRE(bundle_read(b, len, &q, &info, err, sizeof err) == TN_OK);
  program_free(q);
  /* the id's bytes in the string table, edited and resealed: structure and hash are fine */
  uint8_t *at = memmem(b, len, "abc_defg", 8);
  REQUIRE(at != NULL);
  at[3] = '/';
  crypto_sha256(b, len - BUNDLE_TRAILER_SIZE, b + len - BUNDLE_TRAILER_SIZE + BT_HASH);
  CHECK_INT(bundle_read(b, len, &q, &info, err, sizeof err), TN_ECORRUPT);
  CHECK(q == NULL);
  CHECK(strstr(err, "corrupt bundle (bundle_read.c:") != NULL &&
        strstr(err, "byte 0x2f at offset 3") != NULL);
  free(b);
}

static void test_agent_offer_refuses(void) {
  char dir[] = "/tmp/tenet-pid-XXXXXX", db[128], pub[128], name[128];
  REQUIRE(mkdtemp(dir) != NULL);
  snprintf(db, sizeof db, "%s/agent.db", dir);
  snprintf(name, sizeof name, "%s/k", dir);
  snprintf(pub, sizeof pub, "%s/k.pub", dir);
  REQUIRE(crypto_keygen(name, err, sizeof err) == TN_OK);
  const char *paths[] = {pub};
  agent_trust *t = agent_trust_new(paths, 1, err, sizeof err);
  REQUIRE(t);
  agent_store *s = agent_store_open(db, err, sizeof err);
  REQUIRE(s);
  char id[600];
  memset(id, 'p', sizeof id - 1); /* 599 bytes: escaped, it would pass NAME_MAX */
  id[sizeof id - 1] = 0;
  int installed = 1;
  const uint8_t junk[4] = {0};
  CHECK_INT(agent_trust_install(t, s, dir, id, 1, junk, sizeof junk, 0, &installed, err, sizeof err),
            TN_ECORRUPT);
  CHECK_INT(installed, 0);
  CHECK(strstr(err, "the offer names an invalid policy id: policy id of 599 bytes (at most 128)") != NULL);
  CHECK_INT(
      agent_trust_install(t, s, dir, "../../etc/x", 1, junk, sizeof junk, 0, &installed, err, sizeof err),
      TN_ECORRUPT);
  agent_store_close(s);
  agent_trust_free(t);
  char cmd[200];
  snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
  if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", dir);
}

int main(void) {
  RUN(test_rule);
  RUN(test_write_refuses);
  RUN(test_read_refuses);
  RUN(test_agent_offer_refuses);
  return test_report();
}
