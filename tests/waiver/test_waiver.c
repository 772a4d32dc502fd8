/* test_waiver.c — the waiver module (compiler/waiver.{c,h}): strict parsing with file:line:col
 * errors, active/expired/host-pattern lookups, the unknown policy/check warnings, detached
 * signatures (signed, tampered, untrusted, malformed, unsigned) with real keys on disk, and that
 * waivers leave a real scan's events and results hash untouched. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "compile.h"
#include "crypto.h"
#include "err.h"
#include "keyring.h"
#include "report.h"
#include "scan.h"
#include "test.h"
#include "vm.h"
#include "waiver.h"

static const char good[] = "waivers:\n"
                           "  - policy: pol_a\n"
                           "    checks: [1, 2]\n"
                           "    justification: \"accepted risk\"\n"
                           "    owner: alice\n"
                           "    expires: 2030-06-30\n"
                           "  - policy: pol_a\n"
                           "    checks: [3]\n"
                           "    justification: old\n"
                           "    owner: bob\n"
                           "    expires: 2020-01-31\n"
                           "  - policy: pol_a\n"
                           "    checks: [4]\n"
                           "    justification: web only\n"
                           "    owner: carol\n"
                           "    expires: 2030-01-01\n"
                           "    hosts: \"web-*\"\n";

static waiver_set *parse(const char *text, diag_list **diags, int *rc) {
  waiver_set *ws = waiver_set_new();
  *diags = diag_list_new();
  *rc = waiver_set_parse(ws, "w.yml", text, strlen(text), *diags);
  return ws;
}

/* The text of the first error as "line:col: message", for comparisons. */
static const char *first_error(diag_list *d, char *buf, size_t n) {
  for (size_t i = 0; i < d->n; i++)
    if (d->items[i].level == DIAG_ERROR) {
      snprintf(buf, n, "%u:%u: %s", (unsigned)d->items[i].line, (unsigned)d->items[i].col,
               d->items[i].message);
      return buf;
    }
  return "";
}

static void test_active_expired_hosts(void) {
  diag_list *d;
  int rc;
  waiver_set *ws = parse(good, &d, &rc);
  REQUIRE(rc == TN_OK);
  CHECK_INT(d->n, 0);
  CHECK_INT(waiver_set_count(ws), 3);
  REQUIRE(waiver_set_bind(ws, "db-1", "2025-05-01") == TN_OK);
  const report_waiver *w = waiver_set_lookup(ws, "pol_a", 2);
  REQUIRE(w != NULL);
  CHECK_STR(w->justification, "accepted risk");
  CHECK_STR(w->owner, "alice");
  CHECK_STR(w->expires, "2030-06-30");
  CHECK_INT(w->expired, 0);
  w = waiver_set_lookup(ws, "pol_a", 3); /* expired: still found, marked expired */
  REQUIRE(w != NULL);
  CHECK_INT(w->expired, 1);
  CHECK(waiver_set_lookup(ws, "pol_a", 4) == NULL); /* host pattern does not match db-1 */
  CHECK(waiver_set_lookup(ws, "pol_a", 5) == NULL);
  CHECK(waiver_set_lookup(ws, "pol_b", 1) == NULL);
  CHECK_INT(waiver_set_active(ws), 1);
  CHECK_INT(waiver_set_expired(ws), 1);
  REQUIRE(waiver_set_bind(ws, "web-7", "2030-06-30") == TN_OK); /* the expiry day still applies */
  CHECK(waiver_set_lookup(ws, "pol_a", 4) == NULL || waiver_set_lookup(ws, "pol_a", 4)->expired == 1);
  CHECK_INT(waiver_set_lookup(ws, "pol_a", 1)->expired, 0);
  REQUIRE(waiver_set_bind(ws, "WEB-7", "2029-12-31") == TN_OK); /* host names ignore case */
  CHECK(waiver_set_lookup(ws, "pol_a", 4) != NULL);
  REQUIRE(waiver_set_bind(ws, "web-7", "2029-12-31") == TN_OK);
  REQUIRE(waiver_set_lookup(ws, "pol_a", 4) != NULL);
  CHECK_STR(waiver_set_lookup(ws, "pol_a", 4)->owner, "carol");
  CHECK_INT(waiver_set_active(ws), 2);
  REQUIRE(waiver_set_bind(ws, "web-7", "2030-07-01") == TN_OK); /* the day after: expired */
  CHECK_INT(waiver_set_lookup(ws, "pol_a", 1)->expired, 1);
  CHECK_INT(waiver_set_bind(ws, "web-7", "2030-13-01"), TN_EUSAGE);
  CHECK_INT(waiver_set_bind(ws, "web-7", "tomorrow"), TN_EUSAGE);
  waiver_set_free(ws);
  diag_list_free(d);
  waiver_set_free(NULL);
}

/* An active waiver wins over an expired one for the same check, whichever comes first. */
static void test_active_wins(void) {
  diag_list *d;
  int rc;
  waiver_set *ws = parse("waivers:\n"
                         "  - {policy: p, checks: [9], justification: old, owner: o, expires: 2001-01-01}\n"
                         "  - {policy: p, checks: [9], justification: new, owner: o, expires: 2099-01-01}\n",
                         &d, &rc);
  REQUIRE(rc == TN_OK);
  REQUIRE(waiver_set_bind(ws, "h", "2050-01-01") == TN_OK);
  CHECK_STR(waiver_set_lookup(ws, "p", 9)->justification, "new");
  waiver_set_free(ws);
  diag_list_free(d);
}

static void expect_error(const char *text, const char *want) {
  diag_list *d;
  int rc;
  char buf[512];
  waiver_set *ws = parse(text, &d, &rc);
  CHECK(rc != TN_OK);
  CHECK_INT(waiver_set_count(ws), 0); /* a file with errors adds nothing */
  CHECK_STR(first_error(d, buf, sizeof buf), want);
  waiver_set_free(ws);
  diag_list_free(d);
}

static void test_strict_errors(void) {
  expect_error("", "0:0: a waiver file is a mapping with one key, 'waivers' (a list), not an empty document");
  expect_error("- a\n", "1:1: a waiver file is a mapping with one key, 'waivers' (a list), not a sequence");
  expect_error("waiver: []\n", "1:1: unexpected key 'waiver' (a waiver file has one key, 'waivers')");
  expect_error("waivers: 3\n", "1:10: 'waivers' must be a list, not a number");
  expect_error("waivers:\n  - policy: p\n    checks: [1]\n    justification: j\n    owner: o\n",
               "2:5: this waiver has no 'expires' (every waiver expires: give a date YYYY-MM-DD)");
  expect_error("waivers:\n  - policy: p\n    checks: [1]\n    justification: j\n    owner: o\n    expires: "
               "2024-02-30\n",
               "6:14: 'expires' must be a date written YYYY-MM-DD, not '2024-02-30'");
  expect_error(
      "waivers:\n  - policy: p\n    checks: [1]\n    justification: j\n    owner: o\n    expires: 20240101\n",
      "6:14: 'expires' must be a string, not a number (quote it)");
  expect_error("waivers:\n  - policy: p\n    chekcs: [1]\n",
               "3:5: unknown key 'chekcs' in a waiver (did you mean 'checks'?)");
  expect_error("waivers:\n  - policy: p\n    checks: []\n    justification: j\n    owner: o\n    expires: "
               "2024-01-01\n",
               "3:13: 'checks' must be a non-empty list of check ids, not an empty list");
  expect_error("waivers:\n  - policy: p\n    checks: [1, x]\n    justification: j\n    owner: o\n    "
               "expires: 2024-01-01\n",
               "3:17: a check id must be a non-negative integer, not 'x'");
  expect_error("waivers:\n  - policy: p\n    checks: [1.5]\n    justification: j\n    owner: o\n    expires: "
               "2024-01-01\n",
               "3:14: a check id must be a non-negative integer, not '1.5'");
  expect_error("waivers:\n  - policy: p\n    checks: [1, 1]\n    justification: j\n    owner: o\n    "
               "expires: 2024-01-01\n",
               "3:17: check id 1 is listed twice in this waiver");
  expect_error("waivers:\n  - policy: p\n    policy: q\n", "3:5: key 'policy' given twice in one waiver");
  expect_error("waivers:\n  - policy: ''\n", "2:13: 'policy' must be a non-empty string without NUL bytes");
  expect_error(
      "waivers:\n  - just a string\n",
      "2:5: a waiver must be a mapping (policy, checks, justification, owner, expires), not a string");
  /* the YAML reader's own error */
  diag_list *d;
  int rc;
  waiver_set *ws = parse("waivers: [a, [b\n", &d, &rc);
  CHECK_INT(rc, TN_EPOLICY);
  CHECK(diag_errors(d) >= 1);
  waiver_set_free(ws);
  diag_list_free(d);
}

static void test_unknown_policy_and_check(void) {
  const char *yml = "policy:\n  id: pol_a\n  file: p.yml\n  name: P\n  description: D\n"
                    "checks:\n  - id: 1\n    title: one\n    condition: all\n    rules: ['f:/etc/passwd']\n"
                    "  - id: 2\n    title: two\n    condition: all\n    rules: ['f:/etc/passwd']\n";
  diag_list *cd = diag_list_new();
  compile_options co = COMPILE_OPTIONS_DEFAULT;
  program *p = compile_policy_buffer("p.yml", yml, strlen(yml), &co, cd);
  REQUIRE(p != NULL);
  diag_list *d;
  int rc;
  waiver_set *ws = parse(good, &d, &rc);
  REQUIRE(rc == TN_OK);
  REQUIRE(waiver_set_bind(ws, "web-1", "2025-01-01") == TN_OK);
  char *out = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&out, &len);
  const program *progs[] = {p};
  size_t n = waiver_set_check(ws, progs, 1, f);
  fclose(f);
  CHECK_INT(n, 3);
  CHECK_STR(out,
            "w.yml:8:14: warning: policy 'pol_a' has no check 3: this waiver entry applies to nothing\n"
            "w.yml:7:5: warning: waiver for policy 'pol_a' (owner bob) expired on 2020-01-31: its checks "
            "count again\n"
            "w.yml:13:14: warning: policy 'pol_a' has no check 4: this waiver entry applies to nothing\n");
  free(out);
  f = open_memstream(&out, &len);
  CHECK_INT(waiver_set_check(ws, NULL, 0, f), 3); /* no policy scanned: every waiver is for an unknown one */
  fclose(f);
  CHECK(
      strstr(out, "w.yml:2:5: warning: waiver for policy 'pol_a', which is not among the policies scanned") ==
      out);
  free(out);
  waiver_set_free(ws);
  diag_list_free(d);
  program_free(p);
  diag_list_free(cd);
}

/* Hostile input: every prefix of a valid file, and every single-byte change to it, parses to either
 * a whole set or an error that adds nothing (never a partial set, never a crash under ASan). */
static void test_hostile_inputs(void) {
  size_t n = strlen(good), ok = 0, refused = 0;
  char *buf = malloc(n + 1);
  REQUIRE(buf != NULL);
  for (size_t cut = 0; cut <= n; cut++) {
    for (int flip = -1; flip < (cut < n ? 3 : 0); flip++) {
      memcpy(buf, good, n + 1);
      if (flip >= 0) buf[cut] = (char[]){'\0', ':', '['}[flip];
      size_t len = flip >= 0 ? n : cut;
      waiver_set *ws = waiver_set_new();
      diag_list *d = diag_list_new();
      int rc = waiver_set_parse(ws, "h.yml", buf, len, d);
      if (rc == TN_OK) {
        ok++;
        CHECK(waiver_set_count(ws) <= 3);
        CHECK_INT(diag_errors(d), 0);
      } else {
        refused++;
        CHECK_INT(rc, TN_EPOLICY);
        CHECK_INT(waiver_set_count(ws), 0);
        CHECK(diag_errors(d) >= 1);
      }
      waiver_set_free(ws);
      diag_list_free(d);
    }
  }
  CHECK(ok > 0 && refused > 0);
  free(buf);
}

/* ---- signatures, with real key files ---- */

static char dir[] = "/tmp/tenet-test-waiver-XXXXXX";

static void write_file(const char *path, const char *text) {
  FILE *f = fopen(path, "w");
  REQUIRE(f != NULL);
  fputs(text, f);
  fclose(f);
}

static void test_signatures(void) {
  char kname[512], oname[512], path[512], sig[560], err[512], signer[17];
  snprintf(kname, sizeof kname, "%s/release", dir);
  snprintf(oname, sizeof oname, "%s/other", dir);
  snprintf(path, sizeof path, "%s/w.yml", dir);
  snprintf(sig, sizeof sig, "%s/w.yml.sig", dir);
  REQUIRE(crypto_keygen(kname, err, sizeof err) == TN_OK);
  REQUIRE(crypto_keygen(oname, err, sizeof err) == TN_OK);
  strcat(kname, ".key");
  crypto_key *priv = crypto_key_load_private(kname, err, sizeof err);
  REQUIRE(priv != NULL);
  strcpy(kname + strlen(kname) - 4, ".pub");
  strcat(oname, ".pub");
  keyring *kr = keyring_new(), *other = keyring_new();
  REQUIRE(keyring_add_path(kr, kname, err, sizeof err) == TN_OK);
  REQUIRE(keyring_add_path(other, oname, err, sizeof err) == TN_OK);
  write_file(path, good);

  /* unsigned */
  CHECK_INT(waiver_verify_file(path, kr, signer, NULL, err, sizeof err), TN_EUNSIGNED);
  CHECK(strstr(err, "waiver file is not signed") != NULL);
  /* signed */
  REQUIRE(waiver_sign_file(path, priv, err, sizeof err) == TN_OK);
  const char *from = NULL;
  CHECK_INT(waiver_verify_file(path, kr, signer, &from, err, sizeof err), TN_OK);
  CHECK_STR(from, kname);
  CHECK_INT(strlen(signer), 16);
  /* by a key the ring does not trust */
  CHECK_INT(waiver_verify_file(path, other, signer, NULL, err, sizeof err), TN_EUNTRUSTED);
  CHECK(strstr(err, "which is not in the trust store") != NULL);
  CHECK_STR(keyring_refusal(TN_EUNTRUSTED), "wrong signer");
  /* through the scan's loader: signed is accepted, the same bytes parsed */
  crypto_key *pub = crypto_key_load_public(kname, err, sizeof err);
  REQUIRE(pub != NULL);
  diag_list *d = diag_list_new();
  waiver_set *ws = waiver_set_new();
  CHECK_INT(waiver_set_load_trusted(ws, path, pub, 0, d, err, sizeof err), TN_OK);
  CHECK_INT(waiver_set_count(ws), 3);
  waiver_set_free(ws);
  /* tampered: one byte of the file changed after signing */
  char *t = strdup(good);
  t[strlen(t) - 3] = 'X';
  write_file(path, t);
  free(t);
  CHECK_INT(waiver_verify_file(path, kr, signer, NULL, err, sizeof err), TN_ESIGNATURE);
  CHECK(strstr(err, "waiver signature does not verify with key ") == err);
  CHECK_STR(keyring_refusal(TN_ESIGNATURE), "tampered");
  ws = waiver_set_new();
  CHECK_INT(waiver_set_load_trusted(ws, path, pub, 1, d, err, sizeof err), TN_ESIGNATURE); /* never allowed */
  CHECK(strstr(err, "refused: tampered: waiver signature does not verify") != NULL);
  CHECK_INT(waiver_set_count(ws), 0);
  waiver_set_free(ws);
  /* malformed signature file */
  write_file(sig, "tenet-signature 1\nkey zz\ned25519 00\n");
  CHECK_INT(waiver_verify_file(path, kr, signer, NULL, err, sizeof err), TN_ECORRUPT);
  CHECK(strstr(err, "line 2: not a tenet signature") != NULL);
  /* unsigned with a key: refused, unless unsigned files are allowed */
  remove(sig);
  write_file(path, good);
  ws = waiver_set_new();
  CHECK_INT(waiver_set_load_trusted(ws, path, pub, 0, d, err, sizeof err), TN_EUNSIGNED);
  CHECK(strstr(err, "refused: wrong signer: waiver file is not signed") != NULL);
  CHECK_INT(waiver_set_load_trusted(ws, path, pub, 1, d, err, sizeof err), TN_OK);
  CHECK_INT(waiver_set_load_trusted(ws, path, NULL, 0, d, err, sizeof err), TN_OK); /* no key: not checked */
  CHECK_INT(waiver_set_count(ws), 6);
  waiver_set_free(ws);
  diag_list_free(d);
  crypto_key_free(pub);
  crypto_key_free(priv);
  keyring_free(kr);
  keyring_free(other);
}

/* ---- waivers never change a scan ---- */

static int always_active(int64_t id) { return id % 2 == 0; }
static const report_waiver *lookup_even(void *arg, const char *policy, int64_t id) {
  (void)policy;
  return always_active(id) ? arg : NULL;
}

static void test_jsonl_unchanged(void) {
  const char *yml =
      "policy:\n  id: pol_j\n  file: j.yml\n  name: J\n  description: D\n"
      "checks:\n  - id: 1\n    title: one\n    condition: all\n    rules: ['f:/etc/passwd -> r:^root']\n"
      "  - id: 2\n    title: two\n    condition: all\n    rules: ['f:/etc/passwd -> r:^tenet_nobody']\n"
      "  - id: 3\n    title: three\n    condition: all\n    rules: ['f:/tenet/none -> r:x']\n";
  diag_list *cd = diag_list_new();
  compile_options co = COMPILE_OPTIONS_DEFAULT;
  program *p = compile_policy_buffer("j.yml", yml, strlen(yml), &co, cd);
  REQUIRE(p != NULL);
  char err[256];
  vm_image *img = vm_image_load(p, err, sizeof err);
  REQUIRE(img != NULL);
  scan_options so = {.jobs = 1, .eval = EVAL_OPTIONS_DEFAULT, .scan_id = 42};
  policy_scan s;
  REQUIRE(scan_run(img, NULL, NULL, &so, &s) == TN_OK);
  report_waiver rw = {.justification = "j", .owner = "o", .expires = "2099-01-01"};
  char *plain = NULL, *waived = NULL;
  size_t l1, l2;
  FILE *f = open_memstream(&plain, &l1);
  report_options ro = {.out = f};
  REQUIRE(report_write(report_format_find("jsonl"), &ro, &s, 1) == TN_OK);
  fclose(f);
  f = open_memstream(&waived, &l2);
  ro = (report_options){.out = f, .waiver = lookup_even, .waiver_arg = &rw};
  REQUIRE(report_write(report_format_find("jsonl"), &ro, &s, 1) == TN_OK);
  fclose(f);
  CHECK_STR(waived, plain);
  CHECK(strstr(plain, "\"result\":\"failed\"") != NULL); /* the waived check 2 still reads failed */
  free(plain);
  free(waived);
  policy_scan_free(&s);
  vm_image_free(img);
  program_free(p);
  diag_list_free(cd);
}

int main(void) {
  if (!mkdtemp(dir)) return 1;
  RUN(test_active_expired_hosts);
  RUN(test_active_wins);
  RUN(test_strict_errors);
  RUN(test_unknown_policy_and_check);
  RUN(test_hostile_inputs);
  RUN(test_signatures);
  RUN(test_jsonl_unchanged);
  test_rm_rf(dir);
  return test_report();
}
