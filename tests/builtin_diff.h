/* builtin_diff.h — differential testing of the builtins (vm/builtin.h) against the real programs
 * on this host, shared by tests/unit/test_builtin_*.c.
 *
 * diff_argv(argv) asks the builtin; when it answers, the real program runs twice: once with
 * stdout and stderr on separate pipes (compared byte for byte with the builtin's, with the exit
 * status), once through runner_run with the builtins off, exactly as a scan runs it (merged pipe,
 * compared with the builtin's merged output and exit code). A decline is counted, not an error;
 * each test states how many inputs must have been answered. Mismatches are printed in full. */
#ifndef TENET_BUILTIN_DIFF_H
#define TENET_BUILTIN_DIFF_H

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "builtin.h"
#include "err.h"
#include "runner.h"
#include "strbuf.h"
#include "test.h"

extern char **environ;

typedef struct diff_stats {
  int answered, declined, mismatched;
} diff_stats;

static diff_stats diff_;

/* Run argv with separate stdout/stderr pipes; -1 exit on spawn failure. */
static inline int diff_spawn(char *const *argv, strbuf *out, strbuf *err) {
  int po[2], pe[2];
  if (pipe(po) || pipe(pe)) return -1;
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&fa, po[1], 1);
  posix_spawn_file_actions_adddup2(&fa, pe[1], 2);
  posix_spawn_file_actions_addclose(&fa, po[0]);
  posix_spawn_file_actions_addclose(&fa, pe[0]);
  pid_t pid;
  int rc = posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ);
  posix_spawn_file_actions_destroy(&fa);
  close(po[1]);
  close(pe[1]);
  if (rc != 0) {
    close(po[0]);
    close(pe[0]);
    return -1;
  }
  struct pollfd p[2] = {{po[0], POLLIN, 0}, {pe[0], POLLIN, 0}};
  int open_ = 2;
  char buf[65536];
  while (open_) {
    if (poll(p, 2, -1) < 0 && errno != EINTR) break;
    for (int i = 0; i < 2; i++) {
      if (p[i].fd < 0 || !p[i].revents) continue;
      ssize_t n = read(p[i].fd, buf, sizeof buf);
      if (n > 0) {
        strbuf_append(i ? err : out, buf, (size_t)n);
      } else if (n == 0 || errno != EINTR) {
        close(p[i].fd);
        p[i].fd = -1;
        open_--;
      }
    }
  }
  int st = 0;
  while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
    continue;
  strbuf_append(out, "", 0);
  strbuf_append(err, "", 0);
  return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* argv as a command string runner_tokenize splits back into argv. */
static inline char *diff_join(char *const *argv) {
  strbuf b = STRBUF_INIT;
  for (size_t i = 0; argv[i]; i++) {
    if (i) strbuf_putc(&b, ' ');
    strbuf_putc(&b, '"');
    for (const char *p = argv[i]; *p; p++) {
      if (*p == '"' || *p == '\\') strbuf_putc(&b, '\\');
      strbuf_putc(&b, *p);
    }
    strbuf_putc(&b, '"');
  }
  return strbuf_take(&b);
}

static int diff_show_on_;

static inline void diff_show(const char *what, char *const *argv, const char *got, const char *want) {
  if (!diff_show_on_) return;
  fprintf(stderr, "MISMATCH (%s) for:", what);
  for (size_t i = 0; argv[i]; i++)
    fprintf(stderr, " [%s]", argv[i]);
  fprintf(stderr, "\n--- builtin\n%s\n--- real\n%s\n---\n", got, want);
}

/* One comparison; 1 answered and equal, 0 declined, -1 mismatch (printed when diff_show_on_). */
static inline int diff_once(char *const *argv) {
  size_t argc = 0;
  while (argv[argc])
    argc++;
  builtin_result b;
  int rc = builtin_run(argv, argc, &b);
  if (rc == TN_ENOTFOUND) return 0;
  if (rc != TN_OK) return -1;
  int bad = 0;
  strbuf out = STRBUF_INIT, err = STRBUF_INIT;
  int code = diff_spawn(argv, &out, &err);
  char sc[32], bc[32];
  snprintf(sc, sizeof sc, "exit %d", code);
  snprintf(bc, sizeof bc, "exit %d", b.exit_code);
  if (code != b.exit_code) diff_show("exit status", argv, bc, sc), bad = 1;
  if (out.len != b.out_len || memcmp(out.data, b.out, b.out_len))
    diff_show("stdout", argv, b.out, out.data), bad = 1;
  if (err.len != b.err_len || memcmp(err.data, b.err, b.err_len))
    diff_show("stderr", argv, b.err, err.data), bad = 1;
  strbuf_free(&out);
  strbuf_free(&err);

  char *cmd = diff_join(argv);
  int was = builtin_enabled();
  builtin_set_enabled(0);
  runner_result r;
  if (runner_run(cmd, 60, 0, &r) != TN_OK) {
    bad = 1;
  } else {
    snprintf(sc, sizeof sc, "exit %d", r.exit_code);
    if (r.exit_code != b.exit_code) diff_show("merged exit", argv, bc, sc), bad = 1;
    if (r.output_len != b.output_len || memcmp(r.output, b.output, b.output_len))
      diff_show("merged output", argv, b.output, r.output), bad = 1;
    runner_result_free(&r);
  }
  builtin_set_enabled(was);
  free(cmd);
  builtin_result_free(&b);
  return bad ? -1 : 1;
}

/* Compare one command and count the outcome. A mismatch is retried twice before it counts: the
 * host moves between two runs (an access time updated by the first run's read, a file another
 * process rewrote), and only a difference that persists is a fault; the last attempt prints it. */
static inline int diff_argv(char *const *argv) {
  int r = 0;
  for (int attempt = 0; attempt < 3; attempt++) {
    diff_show_on_ = attempt == 2;
    r = diff_once(argv);
    if (r >= 0) break;
  }
  if (r > 0)
    diff_.answered++;
  else if (r == 0)
    diff_.declined++;
  else
    diff_.mismatched++;
  return r;
}

/* diff_argv over a literal list: DIFF("stat", "-c", "%a", path). */
#define DIFF(...) diff_argv((char *const *)(const char *const[]){__VA_ARGS__, NULL})

static inline void diff_report(const char *what) {
  printf("%s: %d answered and identical, %d declined, %d mismatched\n", what, diff_.answered, diff_.declined,
         diff_.mismatched);
}

#endif
