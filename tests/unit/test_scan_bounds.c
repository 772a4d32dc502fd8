/* test_scan_bounds.c — resource bounds and trust of `tenet scan`, end to end with the real binary
 * as a child process (its peak RSS read with wait4/getrusage):
 *   - a 3 GB sparse file under a 5.x content rule is streamed with a bounded line buffer (RSS
 *     stays small; the rule is not applicable with the line-length reason);
 *   - a 100 GiB sparse file under a 4.x content rule stops at --scan-budget, and the checks left
 *     are reported not applicable with the budget's reason;
 *   - twelve commands of 60 MB output each stay under the cache's byte cap, with results equal to
 *     --no-cache;
 *   - with --pubkey, a YAML source (no signature) is refused unless --allow-unsigned. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "test.h"

/* Peak RSS is only meaningful without a sanitizer (ASan's quarantine keeps freed memory). */
#if defined(__SANITIZE_ADDRESS__)
#define RSS_MEANINGFUL 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define RSS_MEANINGFUL 0
#endif
#endif
#ifndef RSS_MEANINGFUL
#define RSS_MEANINGFUL 1
#endif
#define CHECK_RSS(cond) CHECK(!RSS_MEANINGFUL || (cond))

static char dir[] = "/tmp/tenet-bounds-XXXXXX";
static const char *tenet;

typedef struct run {
  int status;  /* exit status, or -1 */
  long rss_kb; /* peak RSS of the child */
  double seconds;
  char out[1 << 16];
  char err[8192];
} run;

static void slurp(const char *path, char *buf, size_t cap) {
  buf[0] = 0;
  FILE *f = fopen(path, "r");
  if (!f) return;
  size_t n = fread(buf, 1, cap - 1, f);
  buf[n] = 0;
  fclose(f);
}

/* Run tenet with args (NULL-terminated) in dir; stdout and stderr captured. */
static void run_tenet(run *r, const char *const *args) {
  char out[4200], err[4200];
  snprintf(out, sizeof out, "%s/stdout", dir);
  snprintf(err, sizeof err, "%s/stderr", dir);
  const char *argv[32];
  int n = 0;
  argv[n++] = tenet;
  for (; *args && n < 31; args++)
    argv[n++] = *args;
  argv[n] = NULL;
  struct timespec t0, t1;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  pid_t pid = fork();
  if (pid == 0) {
    int o = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0600), e = open(err, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (o < 0 || e < 0 || chdir(dir) != 0) _exit(126);
    dup2(o, 1);
    dup2(e, 2);
    execv(tenet, (char *const *)argv);
    _exit(127);
  }
  int st = 0;
  struct rusage ru;
  memset(&ru, 0, sizeof ru);
  while (wait4(pid, &st, 0, &ru) < 0 && errno == EINTR)
    continue;
  clock_gettime(CLOCK_MONOTONIC, &t1);
  r->seconds = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
  r->status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  r->rss_kb = ru.ru_maxrss;
  slurp(out, r->out, sizeof r->out);
  slurp(err, r->err, sizeof r->err);
  fprintf(stderr, "  tenet %s ... exit %d, %.2f s, peak RSS %ld KiB\n", argv[1], r->status, r->seconds,
          r->rss_kb);
}

static void write_file(const char *name, const char *text) {
  char path[4200];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  FILE *f = fopen(path, "w");
  if (!f) return;
  fputs(text, f);
  fclose(f);
}

static int make_sparse(const char *name, off_t size) {
  char path[4200];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd < 0) return -1;
  int rc = ftruncate(fd, size);
  close(fd);
  return rc;
}

/* The sequence of "result" (or "status": not applicable) values of check events, joined with ','. */
static void results_of(const char *jsonl, char *buf, size_t cap) {
  size_t n = 0;
  buf[0] = 0;
  for (const char *p = jsonl; (p = strstr(p, "\"type\":\"check\""));) {
    const char *a = strstr(p, "\"result\":\""), *b = strstr(p, "\"status\":\"");
    const char *next = strstr(p + 1, "\"type\":\"");
    if (a && next && a > next) a = NULL;
    if (b && next && b > next) b = NULL;
    if (!a && !b) break;
    p = a ? a + 10 : b + 10;
    const char *q = strchr(p, '"');
    if (!q) break;
    n += (size_t)snprintf(buf + n, n < cap ? cap - n : 0, "%.*s,", (int)(q - p), p);
    p = q;
  }
}

static void test_sparse_5x_bounded(void) {
  REQUIRE(make_sparse("sparse3g", (off_t)3 << 30) == 0);
  char yml[8192];
  snprintf(yml, sizeof yml,
           "policy:\n  id: \"bounds_5x\"\n  file: \"b.yml\"\n  name: \"n\"\n  description: \"d\"\n"
           "checks:\n  - id: 1\n    title: \"sparse\"\n    condition: all\n    rules:\n"
           "      - 'f:%s/sparse3g -> r:^Port'\n",
           dir);
  write_file("b5.yml", yml);
  run r;
  const char *args[] = {"scan", "-f", "jsonl", "--dialect", "wazuh5", "b5.yml", NULL};
  run_tenet(&r, args);
  CHECK_INT(r.status, 0);
  CHECK_RSS(r.rss_kb < 200 * 1024); /* 4.25 GB before */
  CHECK(strstr(r.out, "\"status\":\"Not applicable\"") != NULL);
  CHECK(strstr(r.out, "Line longer than 16777216 bytes") != NULL);
}

/* The streamed 5.x path (files over 16 MiB) gives the results of the in-memory one. */
static void write_lines(const char *name, size_t filler_lines, int final_newline) {
  char path[4200];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  FILE *f = fopen(path, "w");
  if (!f) return;
  fputs("# sshd_config\n\n", f);
  for (size_t i = 0; i < filler_lines; i++)
    fprintf(f, "#Option%zu value with some padding text to make the line longer\n", i);
  fputs(final_newline ? "PermitRootLogin no\n" : "PermitRootLogin no", f);
  fclose(f);
}

static void test_stream_5x_equals_memory(void) {
  write_lines("small.conf", 1000, 1);
  write_lines("big.conf", 300000, 1);     /* ~20 MB: streamed */
  write_lines("bignonl.conf", 300000, 0); /* no final newline */
  char yml[8192];
  int n =
      snprintf(yml, sizeof yml,
               "policy:\n  id: \"bounds_stream\"\n  file: \"s.yml\"\n  name: \"n\"\n  description: \"d\"\n"
               "checks:\n");
  const char *files[] = {"small.conf", "big.conf", "bignonl.conf"};
  const char *rules[] = {"r:^PermitRootLogin no$", "!r:^PermitRootLogin", "!r:^Port", "r:^#Option299999 ",
                         "r:^Port"};
  int id = 1;
  for (int fi = 0; fi < 3; fi++)
    for (int ri = 0; ri < 5; ri++)
      n += snprintf(
          yml + n, sizeof yml - (size_t)n,
          "  - id: %d\n    title: \"t%d\"\n    condition: all\n    rules:\n      - 'f:%s/%s -> %s'\n", id, id,
          dir, files[fi], rules[ri]),
          id++;
  write_file("s.yml", yml);
  run r;
  const char *args[] = {"scan", "-f", "jsonl", "--dialect", "wazuh5", "s.yml", NULL};
  run_tenet(&r, args);
  CHECK_INT(r.status, 0);
  char res[1024];
  results_of(r.out, res, sizeof res);
  /* small: found, a line matches the negated one, no Port line, no #Option299999 there, no Port */
  const char *want_small = "passed,failed,passed,failed,failed,";
  char want[1024];
  snprintf(want, sizeof want, "%s%s%s", want_small, "passed,failed,passed,passed,failed,",
           "passed,failed,passed,passed,failed,");
  CHECK_STR(res, want);
}

static void test_budget_stops_huge_file(void) {
  REQUIRE(make_sparse("sparse100g", (off_t)100 << 30) == 0);
  REQUIRE(make_sparse("sparse100h", (off_t)100 << 30) == 0);
  char yml[8192];
  snprintf(yml, sizeof yml,
           "policy:\n  id: \"bounds_budget\"\n  file: \"b.yml\"\n  name: \"n\"\n  description: \"d\"\n"
           "checks:\n  - id: 1\n    title: \"huge\"\n    condition: all\n    rules:\n"
           "      - 'f:%s/sparse100g -> r:^Port'\n"
           "  - id: 2\n    title: \"huge too\"\n    condition: all\n    rules:\n"
           "      - 'f:%s/sparse100h -> r:^Port'\n",
           dir, dir);
  write_file("b4.yml", yml);
  run r;
  const char *args[] = {"scan", "-f", "jsonl", "-j", "1", "--scan-budget", "2", "b4.yml", NULL};
  run_tenet(&r, args);
  CHECK_INT(r.status, 0);
  CHECK(r.seconds < 20); /* minutes without the budget */
  CHECK_RSS(r.rss_kb < 200 * 1024);
  char res[256];
  results_of(r.out, res, sizeof res);
  CHECK_STR(res, "Not applicable,Not applicable,");
  CHECK(strstr(r.out, "\"reason\":\"Scan time budget of 2 s exceeded: not evaluated\"") != NULL);
  CHECK(strstr(r.err, "2 check(s) not applicable") != NULL);

  /* a command is given no more than the time left, and then reported the same way */
  write_file("b6.yml",
             "policy:\n  id: \"bounds_budget_c\"\n  file: \"b.yml\"\n  name: \"n\"\n  description: \"d\"\n"
             "checks:\n  - id: 1\n    title: \"slow\"\n    condition: all\n    rules:\n"
             "      - 'c:sleep 20 -> r:x'\n");
  const char *slow[] = {"scan", "-f", "jsonl", "--scan-budget", "1", "b6.yml", NULL};
  run_tenet(&r, slow);
  CHECK_INT(r.status, 0);
  CHECK(r.seconds < 8);
  CHECK(strstr(r.out, "Scan time budget of 1 s exceeded") != NULL);

  /* a bad value is a usage error */
  const char *bad[] = {"scan", "--scan-budget", "soon", "b4.yml", NULL};
  run_tenet(&r, bad);
  CHECK_INT(r.status, 2);
  CHECK(strstr(r.err, "--scan-budget") != NULL);
}

/* Twelve distinct 8 MB outputs, each asked for by two checks: under a 16 MiB cap the cache keeps
 * two of them and runs the others again; with a cap above them all it holds 96 MB. */
static void test_command_cache_cap(void) {
  char yml[16384];
  int n = snprintf(yml, sizeof yml,
                   "policy:\n  id: \"bounds_cache\"\n  file: \"c.yml\"\n  name: \"n\"\n  description: \"d\"\n"
                   "checks:\n");
  for (int k = 0; k < 24; k++)
    n += snprintf(yml + n, sizeof yml - (size_t)n,
                  "  - id: %d\n    title: \"big %d\"\n    condition: all\n    rules:\n"
                  "      - 'c:sh -c \"yes line%d | head -c %d\" -> r:line%d'\n",
                  k + 1, k, k % 12, 8000000 + k % 12, k % 12 == 5 ? 99 : k % 12);
  write_file("c.yml", yml);
  run capped, uncapped, uncached;
  const char *a1[] = {"scan", "-f", "jsonl", "-j", "2", "--cache-max", "16", "c.yml", NULL};
  const char *a2[] = {"scan", "-f", "jsonl", "-j", "2", "--cache-max", "1024", "c.yml", NULL};
  const char *a3[] = {"scan", "-f", "jsonl", "-j", "2", "--no-cache", "c.yml", NULL};
  run_tenet(&capped, a1);
  run_tenet(&uncapped, a2);
  run_tenet(&uncached, a3);
  CHECK_INT(capped.status, 0);
  CHECK_INT(uncapped.status, 0);
  CHECK_INT(uncached.status, 0);
  char r1[1024], r2[1024], r3[1024];
  results_of(capped.out, r1, sizeof r1);
  results_of(uncapped.out, r2, sizeof r2);
  results_of(uncached.out, r3, sizeof r3);
  CHECK(strlen(r1) > 24 * 6);
  CHECK_STR(r1, r3);
  CHECK_STR(r2, r3);
  CHECK(strstr(r1, "failed") != NULL && strstr(r1, "passed") != NULL); /* both outcomes present */
  CHECK_RSS(uncapped.rss_kb > 96 * 1024);                              /* every output held */
  CHECK_RSS(capped.rss_kb < 80 * 1024); /* 16 MiB held + what the workers use */
  CHECK_RSS(capped.rss_kb + 30 * 1024 < uncapped.rss_kb);
}

static void test_pubkey_refuses_yaml(void) {
  run r;
  const char *kg[] = {"keygen", "k", NULL};
  run_tenet(&r, kg);
  REQUIRE(r.status == 0);
  write_file(
      "p.yml",
      "policy:\n  id: \"bounds_pub\"\n  file: \"p.yml\"\n  name: \"n\"\n  description: \"d\"\n"
      "checks:\n  - id: 1\n    title: \"t\"\n    condition: all\n    rules:\n      - 'f:/etc/hosts'\n");
  const char *a1[] = {"scan", "-f", "jsonl", "--pubkey", "k.pub", "p.yml", NULL};
  run_tenet(&r, a1);
  CHECK_INT(r.status, 1);
  CHECK(strstr(r.err, "p.yml: a YAML policy carries no signature") != NULL);
  CHECK(strstr(r.out, "\"type\":\"check\"") == NULL); /* nothing ran */
  const char *a2[] = {"scan", "-f", "jsonl", "--pubkey", "k.pub", "--allow-unsigned", "p.yml", NULL};
  run_tenet(&r, a2);
  CHECK_INT(r.status, 0);
  CHECK(strstr(r.out, "\"type\":\"check\"") != NULL);
  /* a signed bundle with the key still runs */
  const char *c[] = {"compile", "-q", "--key", "k.key", "-o", "p.tnb", "p.yml", NULL};
  run_tenet(&r, c);
  REQUIRE(r.status == 0);
  const char *a3[] = {"scan", "-f", "jsonl", "--pubkey", "k.pub", "p.tnb", NULL};
  run_tenet(&r, a3);
  CHECK_INT(r.status, 0);
  CHECK(strstr(r.out, "\"type\":\"check\"") != NULL);
}

int main(void) {
  tenet = test_env("TENET_BIN", "build/tenet");
  REQUIRE(mkdtemp(dir) != NULL);
  RUN(test_sparse_5x_bounded);
  RUN(test_stream_5x_equals_memory);
  RUN(test_budget_stops_huge_file);
  RUN(test_command_cache_cap);
  RUN(test_pubkey_refuses_yaml);
  char cmd[4200];
  snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
  if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", dir);
  return test_report();
}
