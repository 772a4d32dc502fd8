/* test_policy_tools.c — `tenet test`, `tenet diff` and `tenet scan --root` end to end: the real
 * binary on fixture trees in a temp dir. tenet test: every rule kind (f, d, c, p, n on files and
 * commands), symlinks that try to leave the fixture root (absolute and ".."), a mismatch diff, a
 * command with no canned output (an error naming the check), --update; tenet diff on pairs of
 * small policies (text and json); scan --root (paths inside the root, the p: and c: reasons, and
 * a command really run chrooted when the test runs as root). */
#include <stdarg.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "test.h"

static char dir[] = "/tmp/tenet-ptools-XXXXXX";
static const char *tenet;

/* Run a shell command line in DIR with $TENET set; stdout+stderr into out. Exit status. */
static int sh(char *out, size_t cap, const char *fmt, ...) {
  char cmd[8192], full[9000];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(cmd, sizeof cmd, fmt, ap);
  va_end(ap);
  snprintf(full, sizeof full, "cd %s && TENET='%s' sh -c '%s' 2>&1", dir, tenet, cmd);
  FILE *p = popen(full, "r");
  if (!p) return -1;
  size_t n = fread(out, 1, cap - 1, p);
  out[n] = '\0';
  int st = pclose(p);
  return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void write_file(const char *name, const char *text) {
  char path[4096];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  FILE *f = fopen(path, "w");
  fputs(text, f);
  fclose(f);
}

static char *read_file(const char *name) {
  static char buf[65536];
  char path[4096];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  FILE *f = fopen(path, "r");
  if (!f) return NULL;
  size_t n = fread(buf, 1, sizeof buf - 1, f);
  buf[n] = '\0';
  fclose(f);
  return buf;
}

#define HEADER(id) "policy:\n  id: \"" id "\"\n  file: \"p.yml\"\n  name: \"tools\"\n  description: \"d\"\nchecks:\n"
#define CHECK_(id, title, rule) \
  "  - id: " #id "\n    title: \"" title "\"\n    condition: all\n    rules:\n      - '" rule "'\n"

static const char *policy =
    HEADER("tools")
    CHECK_(1, "hosts exists", "f:/etc/hosts")
    CHECK_(2, "hosts names the fixture", "f:/etc/hosts -> r:fixture")
    CHECK_(3, "sshd_config forbids root login", "d:/etc/ssh -> r:^sshd_config$ -> r:^PermitRootLogin no")
    CHECK_(4, "sshd effective config", "c:sshd -T -> r:^permitrootlogin no")
    CHECK_(5, "sshd runs", "p:sshd")
    CHECK_(6, "at most 4 auth tries", "f:/etc/ssh/sshd_config -> n:^MaxAuthTries\\s+(\\d+) compare <= 4")
    CHECK_(7, "ASLR", "c:sysctl kernel.randomize_va_space -> n:^kernel.randomize_va_space = (\\d+) compare == 2")
    CHECK_(8, "absolute symlink stays inside", "f:/etc/abs_escape")
    CHECK_(9, "dot-dot symlink stays inside", "f:/etc/up_escape -> r:root:")
    CHECK_(10, "symlink inside the root", "f:/etc/link_in -> r:fixture")
    CHECK_(11, "command missing on the host", "c:aide --check -> r:ok");

static const char *cases_good =
    "# the tools policy, tested\n"
    "cases:\n"
    "  - name: hardened\n"
    "    root: root\n"
    "    commands:\n"
    "      \"sshd -T\": |\n"
    "        port 22\n"
    "        permitrootlogin no\n"
    "      \"sysctl kernel.randomize_va_space\": \"kernel.randomize_va_space = 2\\n\"\n"
    "      \"aide --check\": {output: \"\", status: 127}\n"
    "    processes: [systemd, sshd]\n"
    "    # every result below was reviewed by hand\n"
    "    expect:\n"
    "      1: passed\n"
    "      2: passed\n"
    "      3: passed\n"
    "      4: passed\n"
    "      5: passed\n"
    "      6: passed\n"
    "      7: passed\n"
    "      8: failed\n"
    "      9: {result: not applicable, reason: \"Could not open file '/etc/up_escape'\"}\n"
    "      10: passed\n"
    "      11: {result: not applicable, reason: \"Invalid path or wrong permissions to run command 'aide --check'\"}\n"
    "  - name: weak\n"
    "    root: root\n"
    "    commands:\n"
    "      \"sshd -T\": \"permitrootlogin yes\"\n"
    "      \"sysctl kernel.randomize_va_space\": \"kernel.randomize_va_space = 1\"\n"
    "      \"aide --check\": \"ok\"\n"
    "    processes: [systemd]\n"
    "    expect:\n"
    "      4: failed\n"
    "      5: failed\n"
    "      7: failed\n"
    "      11: passed\n";

static void setup(void) {
  char out[4096];
  if (!mkdtemp(dir)) abort();
  write_file("p.yml", policy);
  write_file("p.test.yml", cases_good);
  if (sh(out, sizeof out, "mkdir -p root/etc/ssh && echo \"127.0.0.1 fixture\" > root/etc/hosts && "
                               "printf \"PermitRootLogin no\\nMaxAuthTries 3\\n\" > root/etc/ssh/sshd_config && "
                               "ln -s /etc/passwd root/etc/abs_escape && "
                               "ln -s ../../../../../../../etc/passwd root/etc/up_escape && "
                               "ln -s ../etc/./hosts root/etc/link_in") != 0)
    abort();
}

static void test_every_rule_kind_passes(void) {
  char out[16384];
  /* the host has what the escaping links point at: only the root keeps them out */
  REQUIRE(access("/etc/passwd", F_OK) == 0);
  int rc = sh(out, sizeof out, "$TENET test p.yml");
  if (rc != 0) fprintf(stderr, "%s", out);
  CHECK_INT(rc, 0);
  CHECK(strstr(out, "case 'hardened': 11 checks as expected (8 passed, 1 failed, 2 not applicable)") != NULL);
  CHECK(strstr(out, "2 of 2 cases pass") != NULL);
  /* the same with the test file named, and one case at a time */
  CHECK_INT(sh(out, sizeof out, "$TENET test -q p.yml p.test.yml && $TENET test --case weak p.yml"), 0);
  CHECK(strstr(out, "1 of 1 cases pass") != NULL);
}

static void test_mismatch_prints_a_diff(void) {
  char out[16384];
  write_file("wrong.test.yml",
             "cases:\n  - name: wrong\n    root: root\n    commands: {\"sshd -T\": \"permitrootlogin yes\", "
             "\"sysctl kernel.randomize_va_space\": \"\", \"aide --check\": \"\"}\n    processes: []\n"
             "    expect:\n      4: passed\n      5: {result: not applicable, reason: \"something else\"}\n"
             "      9: failed\n      99: passed\n");
  CHECK_INT(sh(out, sizeof out, "$TENET test p.yml wrong.test.yml"), 1);
  CHECK(strstr(out, "  4  sshd effective config  (wrong.test.yml:7)\n      expected: passed\n      got:      failed\n") != NULL);
  CHECK(strstr(out, "      expected: not applicable (reason: something else)\n"
                    "      got:      not applicable (reason: Process list is empty.)\n") != NULL);
  CHECK(strstr(out, "got:      not applicable (reason: Could not open file '/etc/up_escape')") != NULL);
  CHECK(strstr(out, "check 99 is expected but the policy has no such check") != NULL);
  CHECK(strstr(out, "4 of 4 expectations differ") != NULL);
  CHECK(strstr(out, "0 of 1 cases pass") != NULL);
}

static void test_missing_canned_output_is_an_error(void) {
  char out[16384];
  write_file("missing.test.yml",
             "cases:\n  - name: bare\n    root: root\n    commands:\n      \"sshd -T\": \"\"\n    processes: []\n");
  CHECK_INT(sh(out, sizeof out, "$TENET test p.yml missing.test.yml"), 1);
  CHECK(strstr(out, "missing.test.yml: error: case 'bare': check 7 runs command 'sysctl kernel.randomize_va_space', "
                    "which has no canned output (add it under 'commands:')") != NULL);
  CHECK(strstr(out, "check 11 runs command 'aide --check'") != NULL);
  CHECK(strstr(out, "(errors above)") != NULL);
  /* without a process list, a p: rule is an error too */
  write_file("noproc.test.yml", "cases:\n  - name: noproc\n    root: root\n    commands: {\"sshd -T\": \"\", "
                                "\"sysctl kernel.randomize_va_space\": \"\", \"aide --check\": \"\"}\n");
  CHECK_INT(sh(out, sizeof out, "$TENET test p.yml noproc.test.yml"), 1);
  CHECK(strstr(out, "case 'noproc': check 5 has a process rule, and the case has no 'processes:' list") != NULL);
  /* --update refuses to write results that came from missing answers */
  CHECK_INT(sh(out, sizeof out, "$TENET test --update p.yml missing.test.yml"), 1);
  CHECK(strstr(out, "not updated: fix the errors above first") != NULL);
  CHECK(strstr(read_file("missing.test.yml"), "expect") == NULL);
}

static void test_update_rewrites_only_expectations(void) {
  char out[16384];
  /* the good file without its expectations, and with a wrong one in the second case */
  char *good = strdup(cases_good), *cut = strstr(good, "    # every result");
  const char *weak = strstr(cases_good, "  - name: weak");
  char text[8192];
  snprintf(text, sizeof text, "%.*s# trailing comment kept\n%.*s      11: failed\n", (int)(cut - good), good,
           (int)(strstr(weak, "      11: passed") - weak), weak);
  free(good);
  write_file("u.test.yml", text);
  CHECK_INT(sh(out, sizeof out, "$TENET test p.yml u.test.yml"), 1);
  CHECK_INT(sh(out, sizeof out, "$TENET test --update p.yml u.test.yml"), 0);
  CHECK(strstr(out, "expected results rewritten for 2 cases") != NULL);
  const char *u = read_file("u.test.yml");
  REQUIRE(u);
  CHECK(strstr(u, "# the tools policy, tested\n") == u);
  CHECK(strstr(u, "    processes: [systemd, sshd]\n    expect:\n      1: passed\n") != NULL);
  CHECK(strstr(u, "command 'aide --check'\"}\n# trailing comment kept\n  - name: weak\n") != NULL);
  CHECK(strstr(u, "      9: {result: not applicable, reason: \"Could not open file '/etc/up_escape'\"}\n") != NULL);
  CHECK(strstr(u, "    processes: [systemd]\n    expect:\n      1: passed\n") != NULL);
  CHECK(strstr(u, "      11: passed\n") != NULL);
  int rc = sh(out, sizeof out, "$TENET test p.yml u.test.yml");
  if (rc) fprintf(stderr, "%s\n---\n%s", out, u);
  CHECK_INT(rc, 0);
  /* a second update changes nothing */
  char before[65536];
  snprintf(before, sizeof before, "%s", u);
  CHECK_INT(sh(out, sizeof out, "$TENET test --update p.yml u.test.yml"), 0);
  CHECK_STR(read_file("u.test.yml"), before);
}

static void test_bad_test_files(void) {
  char out[16384];
  write_file("bad.test.yml", "cases:\n  - name: a\n    rooot: root\n    expect:\n      x: passed\n      1: maybe\n");
  CHECK_INT(sh(out, sizeof out, "$TENET test p.yml bad.test.yml"), 1);
  CHECK(strstr(out, "bad.test.yml:3:5: error: unexpected 'rooot' in a case") != NULL);
  CHECK(strstr(out, "bad.test.yml:5:7: error: a check id is an integer, not 'x'") != NULL);
  CHECK(strstr(out, "bad.test.yml:6:10: error: check 1: the result is passed, failed or not applicable, not 'maybe'") != NULL);
  CHECK(strstr(out, "bad.test.yml:2:5: error: case 'a' needs a 'root' directory") != NULL);
  write_file("noroot.test.yml", "cases:\n  - name: a\n    root: nowhere\n");
  CHECK_INT(sh(out, sizeof out, "$TENET test p.yml noroot.test.yml"), 1);
  CHECK(strstr(out, "case 'a': root '") != NULL && strstr(out, "nowhere' is not a directory") != NULL);
  CHECK_INT(sh(out, sizeof out, "$TENET test p.yml absent.test.yml"), 1);
  CHECK(strstr(out, "cannot read the test file") != NULL);
}

static void test_diff_pairs(void) {
  char out[16384];
  write_file("d1.yml", HEADER("dp") CHECK_(1, "one", "f:/etc/hosts -> r:a") CHECK_(2, "two", "f:/etc/hosts")
                           CHECK_(3, "three", "c:id -> r:root") CHECK_(4, "four", "f:/etc/x"));
  /* 1: regex changed (logic); 2: title only (metadata); 3: unchanged; 4 removed; 5 added */
  write_file("d2.yml", HEADER("dp") CHECK_(1, "one", "f:/etc/hosts -> r:b") CHECK_(2, "two, renamed", "f:/etc/hosts")
                           CHECK_(3, "three", "c:id -> r:root") CHECK_(5, "five", "p:sshd"));
  CHECK_INT(sh(out, sizeof out, "$TENET diff d1.yml d2.yml"), 0);
  CHECK(strstr(out, "checks       4 -> 4: 1 added, 1 removed, 1 logic changed, 1 metadata only, 1 unchanged\n") != NULL);
  CHECK(strstr(out, "  added:\n    + 5  five\n") != NULL);
  CHECK(strstr(out, "  removed:\n    - 4  four\n") != NULL);
  CHECK(strstr(out, "    ~ 1  one\n") != NULL);
  CHECK(strstr(out, "    * 2  two, renamed  (was: two)\n") != NULL);
  CHECK(strstr(out, "rollout: rolling this out makes every agent re-send all 4 checks of policy dp") != NULL);
  CHECK_INT(sh(out, sizeof out, "$TENET diff --format json d1.yml d2.yml"), 0);
  CHECK(strstr(out, "\"bundle_hash_changed\":true,\"added\":[{\"id\":5,\"title\":\"five\"}],"
                    "\"removed\":[{\"id\":4,\"title\":\"four\"}],\"logic_changed\":[{\"id\":1,\"title\":\"one\"}],"
                    "\"metadata_changed\":[{\"id\":2,\"title\":\"two, renamed\",\"old_title\":\"two\"}],"
                    "\"unchanged\":1,\"policy_changes\":[\"source YAML\"],"
                    "\"rollout\":{\"resend_all\":true,\"checks_resent\":4,") != NULL);
  /* a bundle and its own YAML: same hash, nothing re-sent */
  CHECK_INT(sh(out, sizeof out, "$TENET compile -q -o d1.tnb d1.yml && $TENET diff d1.tnb d1.yml"), 0);
  CHECK(strstr(out, "(same)") != NULL && strstr(out, "0 added, 0 removed, 0 logic changed, 0 metadata only, 4 unchanged") != NULL);
  CHECK(strstr(out, "rollout: same bundle hash: agents keep their state and re-send nothing for policy dp") != NULL);
  /* a new policy version alone: same checks, a new hash */
  CHECK_INT(sh(out, sizeof out, "$TENET compile -q --policy-version 2 -o d1v2.tnb d1.yml && $TENET diff d1.tnb d1v2.tnb"), 0);
  CHECK(strstr(out, "policy       changed: policy version\n") != NULL && strstr(out, "4 unchanged") != NULL);
  CHECK(strstr(out, "re-send all 4 checks of policy dp") != NULL);
  /* errors */
  CHECK_INT(sh(out, sizeof out, "$TENET diff d1.yml"), 2);
  CHECK_INT(sh(out, sizeof out, "$TENET diff d1.yml nothere.tnb"), 1);
  CHECK(strstr(out, "nothere.tnb") != NULL);
  CHECK_INT(sh(out, sizeof out, "$TENET diff --format xml d1.yml d2.yml"), 2);
}

static void test_scan_root(void) {
  char out[16384];
  write_file("r.yml", HEADER("rt") CHECK_(1, "cat in root", "c:cat /etc/hosts -> r:fixture")
                          CHECK_(2, "missing binary", "c:sshd -T -> r:x") CHECK_(3, "processes", "p:init")
                          CHECK_(4, "file in root", "f:/etc/link_in -> r:fixture")
                          CHECK_(5, "escape", "f:/etc/abs_escape"));
  CHECK_INT(sh(out, sizeof out, "$TENET scan --format jsonl --root root r.yml"), 0);
  CHECK(strstr(out, "\"reason\":\"Command 'sshd -T' not run: 'sshd' is not in ") != NULL);
  CHECK(strstr(out, "\"process\":\"init\",\"status\":\"Not applicable\",\"reason\":\"process list not available with --root\"") != NULL);
  CHECK(strstr(out, "\"file\":\"/etc/link_in\",\"result\":\"passed\"") != NULL);
  CHECK(strstr(out, "\"file\":\"/etc/abs_escape\",\"result\":\"failed\"") != NULL);
  if (geteuid() == 0) { /* a real chroot: cat and its libraries copied into the root */
    CHECK_INT(sh(out, sizeof out, "mkdir -p root/usr/bin && cp /usr/bin/cat root/usr/bin/ && "
                                  "for l in $(ldd /usr/bin/cat | grep -o \"/[^ ]*\"); do mkdir -p root$(dirname $l) && cp $l root$l; done"), 0);
    CHECK_INT(sh(out, sizeof out, "$TENET scan --format jsonl --root root r.yml"), 0);
    CHECK(strstr(out, "\"command\":\"cat /etc/hosts\",\"result\":\"passed\"") != NULL);
  } else {
    CHECK(strstr(out, "needs root privileges") != NULL);
  }
  CHECK_INT(sh(out, sizeof out, "$TENET scan --root nowhere r.yml"), 1);
  CHECK(strstr(out, "tenet scan: --root: root directory 'nowhere'") != NULL);
}

/* 5.x string check ids in the tools: tenet test names them quoted ("s5": passed) and --update
 * writes them so; a waiver names "s5"; a baseline gives "id":"s5"; tenet diff shows s5. */
static void test_string_ids(void) {
  char out[16384];
  write_file("s5.yml", "policy: {id: \"ids\", file: \"s5.yml\", name: \"ids\", description: \"d\"}\n"
                       "checks:\n"
                       "  - {id: \"s5\", name: \"hosts exists\", condition: all, rules: ['f:/etc/hosts']}\n"
                       "  - {id: 7, name: \"missing file\", condition: all, rules: ['f:/etc/missing']}\n"
                       "  - {id: \"cis-1.2\", name: \"missing content\", condition: all, "
                       "rules: ['f:/etc/missing -> r:x']}\n");
  write_file("s5.test.yml", "cases:\n  - name: base\n    root: root\n    expect:\n"
                            "      \"s5\": passed\n      7: failed\n"
                            "      \"cis-1.2\": {result: not applicable, reason: \"File '/etc/missing' does not exist "
                            "or is not a regular file\"}\n");
  CHECK_INT(sh(out, sizeof out, "$TENET test s5.yml s5.test.yml"), 0);
  write_file("s5bad.test.yml", "cases:\n  - name: base\n    root: root\n    expect:\n      \"s5\": failed\n"
                               "      \"nope\": passed\n");
  CHECK_INT(sh(out, sizeof out, "$TENET test s5.yml s5bad.test.yml"), 1);
  CHECK(strstr(out, "\n  s5  hosts exists  (s5bad.test.yml:5)\n") != NULL);
  CHECK(strstr(out, "s5bad.test.yml:6: check nope is expected but the policy has no such check") != NULL);
  write_file("s5u.test.yml", "cases:\n  - name: base\n    root: root\n");
  CHECK_INT(sh(out, sizeof out, "$TENET test --update s5.yml s5u.test.yml"), 0);
  const char *u = read_file("s5u.test.yml");
  REQUIRE(u);
  CHECK(strstr(u, "      7: failed\n      \"cis-1.2\": {result: not applicable, reason: ") != NULL);
  CHECK(strstr(u, "\n      \"s5\": passed\n") != NULL);
  CHECK_INT(sh(out, sizeof out, "$TENET test s5.yml s5u.test.yml"), 0);

  /* a waiver names the text id (quoted); an unknown one is a warning naming it */
  write_file("w.yml", "waivers:\n  - policy: ids\n    checks: [\"s5\", \"nope\"]\n    justification: j\n"
                      "    owner: o\n    expires: 2999-01-01\n");
  CHECK_INT(sh(out, sizeof out, "$TENET scan --allow-unsigned --root root --waivers w.yml --format json s5.yml"), 0);
  CHECK(strstr(out, "{\"id\":\"s5\",\"title\":\"hosts exists\",\"result\":\"passed\",\"status\":\"waived\"") != NULL);
  CHECK(strstr(out, "{\"id\":7,\"title\":\"missing file\",\"result\":\"failed\",\"status\":\"failed\"") != NULL);
  CHECK(strstr(out, "w.yml:3:20: warning: policy 'ids' has no check nope: this waiver entry applies to nothing") !=
        NULL);

  /* a baseline that had s5 failed: s5 is the one change */
  write_file("base.json", "{\"policies\":[{\"id\":\"ids\",\"checks\":[{\"id\":\"s5\",\"result\":\"failed\"},"
                          "{\"id\":7,\"result\":\"failed\"},{\"id\":\"cis-1.2\",\"result\":\"not applicable\"}]}]}");
  CHECK_INT(sh(out, sizeof out, "$TENET scan --allow-unsigned --root root --baseline base.json --only-changes "
                                "--format text s5.yml"),
            0);
  CHECK(strstr(out, "  pass  s5      hosts exists\n                changed: failed -> passed\n") != NULL);
  CHECK(strstr(out, "1 check changed since the baseline") != NULL);

  /* tenet diff */
  write_file("s5b.yml", "policy: {id: \"ids\", file: \"s5.yml\", name: \"ids\", description: \"d\"}\n"
                        "checks:\n"
                        "  - {id: \"s5\", name: \"hosts is there\", condition: all, rules: ['f:/etc/hosts']}\n"
                        "  - {id: 7, name: \"missing file\", condition: all, rules: ['f:/etc/missing']}\n");
  CHECK_INT(sh(out, sizeof out, "$TENET diff s5.yml s5b.yml"), 0);
  CHECK(strstr(out, "    - cis-1.2  missing content\n") != NULL);
  CHECK(strstr(out, "    * s5  hosts is there  (was: hosts exists)\n") != NULL);
  CHECK_INT(sh(out, sizeof out, "$TENET diff --format json s5.yml s5b.yml"), 0);
  CHECK(strstr(out, "\"removed\":[{\"id\":\"cis-1.2\",\"title\":\"missing content\"}]") != NULL);
}

int main(void) {
  tenet = test_env("TENET_BIN", "build/tenet");
  setup();
  RUN(test_every_rule_kind_passes);
  RUN(test_mismatch_prints_a_diff);
  RUN(test_missing_canned_output_is_an_error);
  RUN(test_update_rewrites_only_expectations);
  RUN(test_bad_test_files);
  RUN(test_diff_pairs);
  RUN(test_scan_root);
  RUN(test_string_ids);
  test_rm_rf(dir);
  return test_report();
}
