/* test_cli.c — the `tenet` binary end to end: deterministic bundles, keygen / sign / verify with
 * every rejection path (tampered byte, wrong key, unsigned where a key is required), inspect, and
 * compile diagnostics with exit status 1. Real processes in a temp dir. */
#include <stdarg.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

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

int main(void) {
  tenet = test_env("TENET_BIN", "build/tenet");
  REQUIRE(mkdtemp(dir) != NULL);
  write_file("demo.yml", policy);
  RUN(test_compile_is_deterministic);
  RUN(test_sign_and_verify);
  RUN(test_tampered_bytes_are_refused);
  RUN(test_inspect_shows_header_and_code);
  RUN(test_compile_errors_exit_1_with_positions);
  char cmd[4200];
  snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
  if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", dir);
  return test_report();
}
