/* test_cli.c — the `tenet` binary end to end: deterministic bundles, keygen / sign / verify with
 * every rejection path (tampered byte, wrong key, unsigned where a key is required), inspect,
 * compile diagnostics with exit status 1, and the CLI basics (--version, every --help, did-you-mean,
 * `tenet CMD: message` errors, the usage listing scan's options). Real processes in a temp dir; the
 * option-table parser (compiler/cli_opt.c) is also tested directly. */
#include <stdarg.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bundle.h"
#include "cli_opt.h"
#include "opcodes.h"
#include "test.h"

static char dir[] = "/tmp/tenet-cli-XXXXXX";
static const char *tenet;

/* Run a shell command line with TENET and DIR set; capture stdout+stderr into out. Exit status. */
static int sh(char *out, size_t cap, const char *fmt, ...) {
  char cmd[8192], full[9000];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(cmd, sizeof cmd, fmt, ap);
  va_end(ap);
  snprintf(full, sizeof full, "cd %s && TENET='%s' sh -c '%s' 2>&1", dir, tenet, cmd);
  FILE *p = popen(full, "r");
  if (!p) return -1;
  size_t n = out ? fread(out, 1, cap - 1, p) : 0;
  if (out) out[n] = '\0';
  else {
    char sink[4096];
    while (fread(sink, 1, sizeof sink, p) > 0) {}
  }
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

static const char *policy =
    "policy:\n  id: \"cli_demo\"\n  file: \"demo.yml\"\n  name: \"CLI demo\"\n  description: \"d\"\n"
    "checks:\n  - id: 1\n    title: \"hosts file exists\"\n    condition: all\n    rules:\n      - 'f:/etc/hosts'\n";

static void test_compile_is_deterministic(void) {
  char out[8192];
  CHECK_INT(sh(out, sizeof out, "$TENET compile -q -o a.tnb demo.yml && $TENET compile -q -o b.tnb demo.yml && cmp a.tnb b.tnb"), 0);
  /* the same source from another directory gives the same bytes too */
  CHECK_INT(sh(out, sizeof out, "mkdir -p sub && cp demo.yml sub/ && $TENET compile -q -o c.tnb sub/demo.yml && cmp a.tnb c.tnb"), 0);
}

static void test_sign_and_verify(void) {
  char out[8192];
  REQUIRE(sh(out, sizeof out, "$TENET keygen k1 && $TENET keygen k2") == 0);
  struct stat st;
  char key[4200];
  snprintf(key, sizeof key, "%s/k1.key", dir);
  REQUIRE(stat(key, &st) == 0);
  CHECK_INT(st.st_mode & 0777, 0600);
  REQUIRE(sh(out, sizeof out, "$TENET compile -q --key k1.key --policy-version 3 -o s.tnb demo.yml") == 0);
  CHECK_INT(sh(out, sizeof out, "$TENET verify --pubkey k1.pub s.tnb"), 0);
  CHECK(strstr(out, "OK: policy cli_demo version 3") != NULL);
  /* wrong key */
  CHECK_INT(sh(out, sizeof out, "$TENET verify --pubkey k2.pub s.tnb"), 1);
  CHECK(strstr(out, "FAILED") != NULL);
  /* unsigned bundle where a key is required */
  CHECK_INT(sh(out, sizeof out, "$TENET verify --pubkey k1.pub a.tnb"), 1);
  CHECK_INT(sh(out, sizeof out, "$TENET scan --format jsonl --pubkey k1.pub a.tnb"), 1);
  CHECK(strstr(out, "not signed") != NULL || strstr(out, "unsigned") != NULL);
  /* a bundle without --pubkey or --allow-unsigned does not run */
  CHECK_INT(sh(out, sizeof out, "$TENET scan --format jsonl s.tnb"), 1);
  /* signed bundle runs with the right key */
  CHECK_INT(sh(out, sizeof out, "$TENET scan --format jsonl --pubkey k1.pub s.tnb"), 0);
  CHECK(strstr(out, "\"result\":\"passed\"") != NULL);
  CHECK(strstr(out, "\"type\":\"summary\"") != NULL);
}

static void test_tampered_bytes_are_refused(void) {
  char out[8192];
  struct stat st;
  char path[4200];
  snprintf(path, sizeof path, "%s/s.tnb", dir);
  REQUIRE(stat(path, &st) == 0);
  /* flip one bit at a spread of offsets (every byte of header, body and trailer regions): every
   * tampered copy must be refused */
  FILE *f = fopen(path, "rb");
  REQUIRE(f != NULL);
  unsigned char *orig = malloc((size_t)st.st_size);
  REQUIRE(fread(orig, 1, (size_t)st.st_size, f) == (size_t)st.st_size);
  fclose(f);
  char tpath[4200];
  snprintf(tpath, sizeof tpath, "%s/t.tnb", dir);
  for (off_t off = 0; off < st.st_size; off += st.st_size / 31 + 1) {
    orig[off] ^= 0x01;
    f = fopen(tpath, "wb");
    fwrite(orig, 1, (size_t)st.st_size, f);
    fclose(f);
    orig[off] ^= 0x01;
    int rc = sh(out, sizeof out, "$TENET verify --pubkey k1.pub t.tnb");
    if (rc != 1) fprintf(stderr, "tampered offset %lld accepted: %s\n", (long long)off, out);
    CHECK_INT(rc, 1);
  }
  free(orig);
  /* truncated */
  CHECK_INT(sh(out, sizeof out, "head -c 100 s.tnb > u.tnb && $TENET verify --pubkey k1.pub u.tnb"), 1);
}

static void test_inspect_shows_header_and_code(void) {
  char out[16384];
  CHECK_INT(sh(out, sizeof out, "$TENET inspect --pubkey k1.pub s.tnb"), 0);
  CHECK(strstr(out, "bundle hash") != NULL);
  CHECK(strstr(out, "VALID") != NULL);
  CHECK(strstr(out, "policy        cli_demo  (version 3)") != NULL);
  CHECK(strstr(out, "FILE") != NULL && strstr(out, "RESULT") != NULL);
  CHECK_INT(sh(out, sizeof out, "$TENET inspect --pubkey k2.pub s.tnb"), 1);
  CHECK(strstr(out, "INVALID") != NULL);
}

static void test_compile_errors_exit_1_with_positions(void) {
  char out[8192];
  write_file("bad.yml", "policy:\n  id: 12345\n  file: \"x\"\n  name: \"n\"\n  description: \"d\"\n"
                        "checks:\n  - id: 1\n    title: \"t\"\n    condition: all\n    rules:\n      - 'q:/x'\n");
  CHECK_INT(sh(out, sizeof out, "$TENET compile -o bad.tnb bad.yml"), 1);
  CHECK(strstr(out, "bad.yml:2:") != NULL);  /* the policy id that is not a string */
  CHECK(strstr(out, "bad.yml:11:") != NULL); /* the unknown rule type, in the same run */
  char bad[4200];
  snprintf(bad, sizeof bad, "%s/bad.tnb", dir);
  CHECK(access(bad, F_OK) != 0);
}

/* ---- CLI basics ------------------------------------------------------------------------------ */

static void test_version_names_isa_and_format(void) {
  char out[1024], want[128];
  CHECK_INT(sh(out, sizeof out, "$TENET --version"), 0);
  CHECK(strncmp(out, "tenet ", 6) == 0);
  snprintf(want, sizeof want, "ISA version %d, bundle format version %d\n", VM_ISA_VERSION, BUNDLE_FORMAT_VERSION);
  CHECK(strstr(out, want) != NULL);
}

static void test_every_help_exits_0(void) {
  static const char *cmds[] = {"",        "compile",   "inspect",           "keygen",
                               "verify",  "scan",      "pki",               "pki init",
                               "pki issue-manager",    "pki issue-agent",   "test",
                               "diff",    "sign",      "bench"};
  char out[16384];
  for (size_t i = 0; i < sizeof cmds / sizeof *cmds; i++) {
    int rc = sh(out, sizeof out, "$TENET %s --help 2>/dev/null", cmds[i]);
    if (rc != 0 || !strstr(out, "usage:")) fprintf(stderr, "tenet %s --help: status %d: %s\n", cmds[i], rc, out);
    CHECK_INT(rc, 0);
    CHECK(strstr(out, "usage:") != NULL);
  }
  CHECK_INT(sh(out, sizeof out, "$TENET help verify"), 0);
  CHECK(strstr(out, "--pubkey") != NULL);
  CHECK_INT(sh(out, sizeof out, "$TENET -h"), 0);
}

static void test_unknown_names_get_the_nearest(void) {
  char out[4096];
  CHECK_INT(sh(out, sizeof out, "$TENET scna x"), 2);
  CHECK(strstr(out, "tenet: unknown command 'scna'; did you mean 'scan'?") != NULL);
  CHECK_INT(sh(out, sizeof out, "$TENET complie x"), 2);
  CHECK(strstr(out, "did you mean 'compile'?") != NULL);
  CHECK_INT(sh(out, sizeof out, "$TENET --verison"), 2);
  CHECK(strstr(out, "tenet: unknown option '--verison'; did you mean '--version'?") != NULL);
  CHECK_INT(sh(out, sizeof out, "$TENET frobnicate"), 2);
  CHECK(strstr(out, "tenet: unknown command 'frobnicate'\n") != NULL);
  CHECK_INT(sh(out, sizeof out, "$TENET verify --pubky k1.pub s.tnb"), 2);
  CHECK(strstr(out, "tenet verify: unknown option '--pubky'; did you mean '--pubkey'?") != NULL);
  CHECK_INT(sh(out, sizeof out, "$TENET pki isue-agent pki a"), 2);
  CHECK(strstr(out, "tenet pki: unknown command 'isue-agent'; did you mean 'issue-agent'?") != NULL);
  CHECK_INT(sh(out, sizeof out, "$TENET pki issue-agent pki a --dyas 3"), 2);
  CHECK(strstr(out, "tenet pki issue-agent: unknown option '--dyas'; did you mean '--days'?") != NULL);
  CHECK_INT(sh(out, sizeof out, "$TENET pki init pki --san x"), 2); /* --san is issue-manager's */
  CHECK(strstr(out, "tenet pki init: unknown option '--san'") != NULL);
  /* commands parsed with getopt_long report through cli_getopt_error */
  CHECK_INT(sh(out, sizeof out, "$TENET compile --chek p.yml"), 2);
  CHECK(strstr(out, "tenet compile: unknown option '--chek'; did you mean '--check'?") != NULL);
  CHECK_INT(sh(out, sizeof out, "$TENET inspect --pubkee k.pub b.tnb"), 2);
  CHECK(strstr(out, "tenet inspect: unknown option '--pubkee'; did you mean '--pubkey'?") != NULL);
  CHECK_INT(sh(out, sizeof out, "$TENET test --updte p.yml"), 2);
  CHECK(strstr(out, "tenet test: unknown option '--updte'; did you mean '--update'?") != NULL);
  CHECK_INT(sh(out, sizeof out, "$TENET diff --formta json a b"), 2);
  CHECK(strstr(out, "tenet diff: unknown option '--formta'; did you mean '--format'?") != NULL);
  CHECK_INT(sh(out, sizeof out, "$TENET compile p.yml -o"), 2);
  CHECK(strstr(out, "tenet compile: option '-o' (--output) needs a value") != NULL);
  CHECK_INT(sh(out, sizeof out, "$TENET compile --quiet=1 p.yml"), 2);
  CHECK(strstr(out, "tenet compile: option '--quiet' takes no value") != NULL);
}

static void test_missing_operands_are_named(void) {
  char out[4096];
  CHECK_INT(sh(out, sizeof out, "$TENET compile"), 2);
  CHECK(strstr(out, "tenet compile: missing POLICY.yml") != NULL);
  CHECK_INT(sh(out, sizeof out, "$TENET keygen"), 2);
  CHECK(strstr(out, "tenet keygen: missing NAME") != NULL);
  CHECK_INT(sh(out, sizeof out, "$TENET verify s.tnb"), 2);
  CHECK(strstr(out, "tenet verify: missing --pubkey") != NULL);
  CHECK_INT(sh(out, sizeof out, "$TENET verify --pubkey k1.pub"), 2);
  CHECK(strstr(out, "tenet verify: missing BUNDLE") != NULL);
  CHECK_INT(sh(out, sizeof out, "$TENET verify --pubkey"), 2);
  CHECK(strstr(out, "tenet verify: --pubkey needs a value") != NULL);
  CHECK_INT(sh(out, sizeof out, "$TENET pki issue-manager pki"), 2);
  CHECK(strstr(out, "tenet pki issue-manager: issue-manager needs DIR and NAME") != NULL);
  CHECK_INT(sh(out, sizeof out, "$TENET pki init pki extra"), 2);
  CHECK(strstr(out, "tenet pki init: unexpected argument 'extra'") != NULL);
  CHECK_INT(sh(out, sizeof out, "$TENET pki"), 2);
  CHECK(strstr(out, "tenet pki: missing a command") != NULL);
  CHECK_INT(sh(out, sizeof out, "$TENET"), 2);
  CHECK(strstr(out, "usage: tenet COMMAND") != NULL);
}

/* The top-level usage lists every option `tenet scan --help` documents. */
static void test_usage_lists_every_scan_option(void) {
  char scan[8192], top[8192];
  REQUIRE(sh(scan, sizeof scan, "$TENET scan --help") == 0);
  REQUIRE(sh(top, sizeof top, "$TENET --help") == 0);
  int n = 0;
  for (const char *p = strstr(scan, "--"); p; p = strstr(p + 2, "--")) {
    char opt[64];
    size_t k = 0;
    while (k < sizeof opt - 1 && (p[k] == '-' || (p[k] >= 'a' && p[k] <= 'z'))) opt[k] = p[k], k++;
    opt[k] = '\0';
    if (k <= 2 || strcmp(opt, "--help") == 0) continue;
    n++;
    if (!strstr(top, opt)) fprintf(stderr, "tenet --help does not list scan's %s\n", opt);
    CHECK(strstr(top, opt) != NULL);
  }
  CHECK(n >= 7);
}

/* The parser itself: every accepted form, operands in order, errors. */
static void test_option_parser(void) {
  enum { O_OUT = 1, O_KEY, O_QUIET, O_STRICT };
  static const cli_opt opts[] = {{O_OUT, "output", 'o', "OUT", "where"},
                                 {O_KEY, "key", 'k', "KEY", "key"},
                                 {O_QUIET, "quiet", 'q', NULL, "quiet"},
                                 {O_STRICT, "strict", 's', NULL, "strict"}};
  char *argv[] = {"compile", "a.yml", "-o", "x.tnb", "--key=k.key", "-qs", "b.yml", "-kK2", "--", "-c.yml", NULL};
  cli_parser p;
  cli_parser_init(&p, "tenet compile", opts, 4, 10, argv);
  int ids[8], n = 0, id;
  const char *vals[8];
  while ((id = cli_parser_next(&p)) != CLI_END && n < 8) {
    vals[n] = p.value;
    ids[n++] = id;
  }
  REQUIRE(n == 5);
  CHECK_INT(ids[0], O_OUT);
  CHECK_STR(vals[0], "x.tnb");
  CHECK_INT(ids[1], O_KEY);
  CHECK_STR(vals[1], "k.key");
  CHECK_INT(ids[2], O_QUIET);
  CHECK_INT(ids[3], O_STRICT);
  CHECK_INT(ids[4], O_KEY);
  CHECK_STR(vals[4], "K2");
  REQUIRE(p.npos == 3);
  CHECK_STR(p.pos[0], "a.yml");
  CHECK_STR(p.pos[1], "b.yml");
  CHECK_STR(p.pos[2], "-c.yml");

  char *bad1[] = {"x", "--quiet=yes", NULL}, *bad2[] = {"x", "-o", NULL}, *help[] = {"x", "-qh", NULL};
  FILE *saved = stderr;
  stderr = fopen("/dev/null", "w"); /* the parser reports to stderr */
  cli_parser_init(&p, "x", opts, 4, 2, bad1);
  CHECK_INT(cli_parser_next(&p), CLI_ERROR);
  cli_parser_init(&p, "x", opts, 4, 2, bad2);
  CHECK_INT(cli_parser_next(&p), CLI_ERROR);
  fclose(stderr);
  stderr = saved;
  cli_parser_init(&p, "x", opts, 4, 2, help);
  CHECK_INT(cli_parser_next(&p), O_QUIET);
  CHECK_INT(cli_parser_next(&p), CLI_HELP);
}

static void test_edit_distance_and_suggestions(void) {
  CHECK_INT(cli_edit_distance("kitten", "sitting"), 3);
  CHECK_INT(cli_edit_distance("scna", "scan"), 1); /* a transposition counts once */
  CHECK_INT(cli_edit_distance("", "abc"), 3);
  CHECK_INT(cli_edit_distance("same", "same"), 0);
  static const char *cmds[] = {"compile", "inspect", "keygen", "verify", "scan", "pki"};
  CHECK_STR(cli_suggest("scna", cmds, 6), "scan");
  CHECK_STR(cli_suggest("inspec", cmds, 6), "inspect");
  CHECK_STR(cli_suggest("comp", cmds, 6), "compile"); /* an unambiguous abbreviation */
  CHECK_STR(cli_suggest("verfiy", cmds, 6), "verify");
  CHECK(cli_suggest("x", cmds, 6) == NULL);
  CHECK(cli_suggest("frobnicate", cmds, 6) == NULL);
  CHECK(cli_suggest("scan", cmds, 6) == NULL); /* an exact name is not a suggestion */
}

int main(void) {
  tenet = test_env("TENET_BIN", "build/tenet");
  REQUIRE(mkdtemp(dir) != NULL);
  write_file("demo.yml", policy);
  RUN(test_compile_is_deterministic);
  RUN(test_sign_and_verify);
  RUN(test_tampered_bytes_are_refused);
  RUN(test_inspect_shows_header_and_code);
  RUN(test_compile_errors_exit_1_with_positions);
  RUN(test_version_names_isa_and_format);
  RUN(test_every_help_exits_0);
  RUN(test_unknown_names_get_the_nearest);
  RUN(test_missing_operands_are_named);
  RUN(test_usage_lists_every_scan_option);
  RUN(test_option_parser);
  RUN(test_edit_distance_and_suggestions);
  char cmd[4200];
  snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
  if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", dir);
  return test_report();
}
