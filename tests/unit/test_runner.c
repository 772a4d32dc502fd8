/* test_runner.c — the command runner (vm/runner.c): Wazuh's tokeniser, real child processes,
 * merged output, exit codes, timeouts that kill whole process groups, the output cap, and no
 * leaked descriptors or zombies under concurrent use. */
#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "err.h"
#include "runner.h"
#include "test.h"

static char tmpdir[] = "/tmp/tenet_runner_XXXXXX";

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int count_fds(void) {
  DIR *d = opendir("/proc/self/fd");
  int n = 0;
  struct dirent *e;
  while ((e = readdir(d)))
    n += e->d_name[0] != '.';
  closedir(d);
  return n - 1; /* the DIR's own descriptor */
}

/* Tokenise and compare with the expected words, given as a NULL-terminated list. */
static int tok_is(const char *cmd, const char *const *want) {
  char **v;
  size_t n;
  if (runner_tokenize(cmd, &v, &n) != TN_OK) return 0;
  size_t k = 0;
  int ok = 1;
  while (want[k])
    k++;
  if (k != n) ok = 0;
  for (size_t i = 0; ok && i < n; i++)
    ok = strcmp(v[i], want[i]) == 0;
  if (!ok) {
    fprintf(stderr, "  tokenize(%s) gave %zu words:", cmd, n);
    for (size_t i = 0; i < n; i++)
      fprintf(stderr, " [%s]", v[i]);
    fprintf(stderr, "\n");
  }
  CHECK(v[n] == NULL);
  runner_argv_free(v);
  return ok;
}

#define W(...) ((const char *const[]){__VA_ARGS__, NULL})
#define NONE ((const char *const[]){NULL})

static void test_tokenize(void) {
  CHECK(tok_is("ls -l /etc", W("ls", "-l", "/etc")));
  CHECK(tok_is("  ls   -l  ", W("ls", "-l")));
  CHECK(tok_is("", NONE));
  CHECK(tok_is("    ", NONE));
  CHECK(tok_is("sh -c \"echo a b\"", W("sh", "-c", "echo a b")));
  CHECK(tok_is("a \"\" b", W("a", "", "b")));
  CHECK(tok_is("\"\"", W("")));
  CHECK(tok_is("ab\"cd ef\"gh", W("abcd efgh")));
  CHECK(tok_is("a \"b c", W("a", "b c")));            /* unterminated quote */
  CHECK(tok_is("echo 'x y'", W("echo", "'x", "y'"))); /* single quotes are ordinary */
  CHECK(tok_is("a\\ b c", W("a b", "c")));            /* escaped space */
  CHECK(tok_is("a\\\"b", W("a\"b")));                 /* escaped quote */
  CHECK(tok_is("a\\\\b", W("a\\b")));                 /* escaped backslash */
  CHECK(tok_is("a\\nb", W("anb")));                   /* any byte: \n is just n */
  CHECK(tok_is("a b\\", W("a", "b")));                /* trailing backslash dropped */
  CHECK(tok_is("\\", NONE));
  CHECK(tok_is("\\ ", W(" ")));
  CHECK(tok_is("\"a\\\"b\"", W("a\"b"))); /* escapes work inside quotes */
  CHECK(tok_is("x \"a  b\"  y", W("x", "a  b", "y")));
  CHECK(tok_is("grep -E \"^a|b$\" /f", W("grep", "-E", "^a|b$", "/f")));
}

static void test_output_merged(void) {
  runner_result r;
  REQUIRE(runner_run("sh -c \"echo out; echo err >&2; echo out2\"", 10, 0, &r) == TN_OK);
  CHECK_STR(r.output, "out\nerr\nout2\n");
  CHECK_INT(r.output_len, 13);
  CHECK_INT(r.exit_code, 0);
  CHECK_INT(r.timed_out, 0);
  CHECK_INT(r.truncated, 0);
  runner_result_free(&r);

  /* No shell: $VAR, globs and pipes are passed through as bytes. */
  REQUIRE(runner_run("echo $HOME /* a|b", 10, 0, &r) == TN_OK);
  CHECK_STR(r.output, "$HOME /* a|b\n");
  runner_result_free(&r);

  /* Output with NUL bytes is kept whole. */
  REQUIRE(runner_run("printf a\\\\000b", 10, 0, &r) == TN_OK);
  CHECK_INT(r.output_len, 3);
  CHECK(memcmp(r.output, "a\0b", 3) == 0);
  runner_result_free(&r);

  /* stdin is /dev/null: cat ends at once with no output. */
  REQUIRE(runner_run("cat", 10, 0, &r) == TN_OK);
  CHECK_INT(r.output_len, 0);
  CHECK_STR(r.output, "");
  runner_result_free(&r);
}

static void test_exit_codes(void) {
  runner_result r;
  REQUIRE(runner_run("sh -c \"echo x; exit 3\"", 10, 0, &r) == TN_OK);
  CHECK_INT(r.exit_code, 3);
  CHECK_STR(r.output, "x\n");
  runner_result_free(&r);

  REQUIRE(runner_run("/nonexistent/tenet-no-such-binary arg", 10, 0, &r) == TN_OK);
  CHECK_INT(r.exit_code, RUNNER_EXEC_FAILED);
  CHECK_INT(r.output_len, 0);
  runner_result_free(&r);

  REQUIRE(runner_run("tenet-no-such-command-in-path", 10, 0, &r) == TN_OK);
  CHECK_INT(r.exit_code, RUNNER_EXEC_FAILED);
  runner_result_free(&r);

  /* A directory cannot be executed (EACCES). */
  REQUIRE(runner_run(tmpdir, 10, 0, &r) == TN_OK);
  CHECK_INT(r.exit_code, RUNNER_EXEC_FAILED);
  runner_result_free(&r);

  /* A command that really exits 127 looks the same. */
  REQUIRE(runner_run("sh -c \"exit 127\"", 10, 0, &r) == TN_OK);
  CHECK_INT(r.exit_code, 127);
  runner_result_free(&r);

  /* Killed by a signal: Wazuh's WEXITSTATUS reads 0. */
  REQUIRE(runner_run("sh -c \"echo before; kill -9 $$\"", 10, 0, &r) == TN_OK);
  CHECK_INT(r.exit_code, 0);
  CHECK_INT(r.term_signal, SIGKILL);
  CHECK_STR(r.output, "before\n");
  runner_result_free(&r);

  /* A script without #! runs through /bin/sh, as execvp does for Wazuh. */
  char path[256];
  snprintf(path, sizeof path, "%s/noshebang", tmpdir);
  FILE *f = fopen(path, "w");
  fputs("echo from-script\n", f);
  fclose(f);
  chmod(path, 0755);
  REQUIRE(runner_run(path, 10, 0, &r) == TN_OK);
  CHECK_STR(r.output, "from-script\n");
  CHECK_INT(r.exit_code, 0);
  runner_result_free(&r);

  /* No words at all: nothing runs, status 0, empty output. */
  REQUIRE(runner_run("   ", 10, 0, &r) == TN_OK);
  CHECK_INT(r.exit_code, 0);
  CHECK_STR(r.output, "");
  runner_result_free(&r);
}

/* State of a pid: 1 alive, 0 gone (or a zombie). */
static int alive(pid_t pid) {
  char p[64], buf[512];
  snprintf(p, sizeof p, "/proc/%d/stat", (int)pid);
  FILE *f = fopen(p, "r");
  if (!f) return 0;
  size_t n = fread(buf, 1, sizeof buf - 1, f);
  fclose(f);
  buf[n] = 0;
  char *rp = strrchr(buf, ')');
  return rp && rp[1] == ' ' && rp[2] != 'Z' && rp[2] != 'X';
}

static int eventually_gone(pid_t pid) {
  for (int i = 0; i < 200; i++) {
    if (!alive(pid)) return 1;
    usleep(10000);
  }
  return 0;
}

static void test_timeout(void) {
  runner_result r;
  double t0 = now_s();
  REQUIRE(runner_run("sleep 30", 1, 0, &r) == TN_OK);
  double dt = now_s() - t0;
  CHECK_INT(r.timed_out, 1);
  CHECK(dt >= 0.9 && dt < 5);
  CHECK_INT(r.term_signal, SIGTERM);
  runner_result_free(&r);

  /* The child exits at once but a background grandchild keeps the pipe: like Wazuh, the
   * command has not ended until its output ends, so it times out; the whole process group
   * (the grandchild too) is terminated. */
  char pidfile[256], cmd[512];
  snprintf(pidfile, sizeof pidfile, "%s/bg.pid", tmpdir);
  snprintf(cmd, sizeof cmd, "sh -c \"sleep 30 & echo $! > %s; echo started\"", pidfile);
  t0 = now_s();
  REQUIRE(runner_run(cmd, 1, 0, &r) == TN_OK);
  dt = now_s() - t0;
  CHECK_INT(r.timed_out, 1);
  CHECK(dt < 5);
  FILE *f = fopen(pidfile, "r");
  REQUIRE(f);
  int bg = 0;
  CHECK(fscanf(f, "%d", &bg) == 1);
  fclose(f);
  CHECK(bg > 0 && eventually_gone(bg));
  runner_result_free(&r);

  /* A child that ignores SIGTERM is killed after the grace period. */
  t0 = now_s();
  REQUIRE(runner_run("sh -c \"trap '' TERM; sleep 30; echo survived\"", 1, 0, &r) == TN_OK);
  dt = now_s() - t0;
  CHECK_INT(r.timed_out, 1);
  CHECK(dt < 5);
  CHECK(strstr(r.output, "survived") == NULL);
  runner_result_free(&r);

  /* A fast command well inside its timeout. */
  REQUIRE(runner_run("echo quick", 30, 0, &r) == TN_OK);
  CHECK_INT(r.timed_out, 0);
  CHECK_STR(r.output, "quick\n");
  runner_result_free(&r);
}

static void test_output_cap(void) {
  runner_result r;
  /* `yes` never stops on its own: at the cap the pipe is closed and it dies of SIGPIPE. */
  double t0 = now_s();
  REQUIRE(runner_run("yes abc", 20, 4096, &r) == TN_OK);
  CHECK(now_s() - t0 < 10);
  CHECK_INT(r.timed_out, 0);
  CHECK_INT(r.truncated, 1);
  CHECK_INT(r.output_len, 4096);
  CHECK(memcmp(r.output, "abc\nabc\n", 8) == 0);
  CHECK_INT(r.output[4096], '\0');
  CHECK_INT(r.exit_code, 0); /* SIGPIPE reads as 0 */
  runner_result_free(&r);

  /* Below the cap nothing is lost; large output is read completely. */
  REQUIRE(runner_run("head -c 3000000 /dev/zero", 20, 0, &r) == TN_OK);
  CHECK_INT(r.output_len, 3000000);
  CHECK_INT(r.truncated, 0);
  runner_result_free(&r);
}

static void test_no_leaks(void) {
  int before = count_fds();
  for (int i = 0; i < 20; i++) {
    runner_result r;
    REQUIRE(runner_run(i % 2 ? "true" : "/no/such/thing", 10, 0, &r) == TN_OK);
    runner_result_free(&r);
  }
  runner_result r;
  REQUIRE(runner_run("sleep 5", 1, 0, &r) == TN_OK);
  runner_result_free(&r);
  CHECK_INT(count_fds(), before);
  /* Every child was reaped. */
  errno = 0;
  CHECK(waitpid(-1, NULL, WNOHANG) == -1 && errno == ECHILD);

  /* The child sees only stdin/stdout/stderr: no descriptor of ours leaks into it. */
  REQUIRE(runner_run("ls /proc/self/fd", 10, 0, &r) == TN_OK);
  /* ls itself opens one directory descriptor (3); nothing else. */
  CHECK_STR(r.output, "0\n1\n2\n3\n");
  runner_result_free(&r);
}

typedef struct job {
  int id;
  int failures;
  double worst;
} job;

static void *worker(void *arg) {
  job *j = arg;
  char cmd[128], want[64];
  for (int i = 0; i < 15; i++) {
    snprintf(cmd, sizeof cmd, "echo job%d-%d", j->id, i);
    snprintf(want, sizeof want, "job%d-%d\n", j->id, i);
    double t0 = now_s();
    runner_result r;
    if (runner_run(cmd, 10, 0, &r) != TN_OK || strcmp(r.output, want) != 0) j->failures++;
    double dt = now_s() - t0;
    if (dt > j->worst) j->worst = dt;
    runner_result_free(&r);
  }
  return NULL;
}

static void *sleeper(void *arg) {
  runner_result r;
  for (int i = 0; i < 3; i++) {
    if (runner_run("sleep 2", 10, 0, &r) == TN_OK) runner_result_free(&r);
  }
  return arg;
}

/* Several threads at once: each gets its own output, and no command waits for another thread's
 * long-running child (which would happen if a pipe end leaked into it). */
static void test_concurrent(void) {
  pthread_t s, t[6];
  job jobs[6];
  pthread_create(&s, NULL, sleeper, NULL);
  usleep(100000);
  for (int i = 0; i < 6; i++) {
    jobs[i] = (job){i, 0, 0};
    pthread_create(&t[i], NULL, worker, &jobs[i]);
  }
  for (int i = 0; i < 6; i++) {
    pthread_join(t[i], NULL);
    CHECK_INT(jobs[i].failures, 0);
    CHECK(jobs[i].worst < 1.5);
  }
  pthread_join(s, NULL);
  errno = 0;
  CHECK(waitpid(-1, NULL, WNOHANG) == -1 && errno == ECHILD);
}

/* The child gets default signal dispositions even when ours ignore SIGPIPE. */
static void test_signals_reset(void) {
  signal(SIGPIPE, SIG_IGN);
  runner_result r;
  REQUIRE(runner_run("sh -c \"yes | head -n 1\"", 10, 0, &r) == TN_OK);
  CHECK_STR(r.output, "y\n"); /* no "yes: standard output: Broken pipe" */
  runner_result_free(&r);
  signal(SIGPIPE, SIG_DFL);
}

int main(void) {
  if (!mkdtemp(tmpdir)) return 2;
  RUN(test_tokenize);
  RUN(test_output_merged);
  RUN(test_exit_codes);
  RUN(test_timeout);
  RUN(test_output_cap);
  RUN(test_no_leaks);
  RUN(test_concurrent);
  RUN(test_signals_reset);
  char cmd[512];
  snprintf(cmd, sizeof cmd, "rm -rf %s", tmpdir);
  if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", tmpdir);
  return test_report();
}
