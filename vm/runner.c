/* runner.c — command execution for c: rules (see runner.h, SCA-SEMANTICS §2.7).
 *
 * The parent reads the merged output with poll() until end of file, then waits for the child to
 * exit, both against one monotonic deadline. Like Wazuh, a command "ends" only when its output
 * ends: a background grandchild still holding the pipe keeps it running until the timeout. On
 * timeout the whole process group gets SIGTERM, then SIGKILL after a short grace period (Wazuh
 * waits forever after SIGTERM; a scan must not). The group is signalled while the leader is still
 * unreaped, so its id cannot have been reused.
 *
 * Before forking, the builtins (builtin.h) are asked: a command they answer byte for byte never
 * runs. Every command's wall time is remembered for the life of the process (runner_cost_us), so
 * a scan can start the slowest commands of the previous scan first. */
#include "runner.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "builtin.h"
#include "err.h"
#include "strbuf.h"

#define GRACE_MS 1000 /* SIGTERM → SIGKILL */
#define READ_CHUNK 65536

/* ---- time ---- */

static int64_t now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Milliseconds left before deadline (-1: no deadline), never negative. */
static int left_ms(int64_t deadline) {
  if (deadline < 0) return -1;
  int64_t d = deadline - now_ms();
  if (d <= 0) return 0;
  return d > INT32_MAX ? INT32_MAX : (int)d;
}

/* ---- the child ---- */

/* Between fork and exec only async-signal-safe calls: the program may be multi-threaded. glibc's
 * execvp searches PATH on the stack (no malloc) and falls back to /bin/sh on ENOEXEC, as Wazuh's
 * child does. */
static void child(int out_fd, char **argv, int maxfd) {
  struct sigaction dfl;
  memset(&dfl, 0, sizeof dfl);
  dfl.sa_handler = SIG_DFL;
  for (int s = 1; s < NSIG; s++)
    if (s != SIGKILL && s != SIGSTOP) sigaction(s, &dfl, NULL); /* ignored signals survive exec */
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, NULL);

  /* dup2 onto itself would keep O_CLOEXEC: move a low pipe end out of the way first */
  if (out_fd <= STDERR_FILENO) out_fd = fcntl(out_fd, F_DUPFD, STDERR_FILENO + 1);
  int nul = open("/dev/null", O_RDWR);
  if (nul < 0) _exit(1); /* Wazuh's child exits with a failure status here */
  if (dup2(nul, STDIN_FILENO) < 0 || dup2(out_fd, STDOUT_FILENO) < 0 || dup2(out_fd, STDERR_FILENO) < 0)
    _exit(RUNNER_EXEC_FAILED);
  /* Nothing of ours reaches the command, not even descriptors inherited without O_CLOEXEC. */
  long closed = -1;
#ifdef SYS_close_range
  closed = syscall(SYS_close_range, 3u, ~0u, 0u);
#endif
  for (int fd = 3; closed != 0 && fd < maxfd; fd++)
    close(fd);
  setsid();
  execvp(argv[0], argv);
  _exit(RUNNER_EXEC_FAILED);
}

/* ---- waiting ---- */

static int pidfd_for(pid_t pid) {
#ifdef SYS_pidfd_open
  int fd = (int)syscall(SYS_pidfd_open, pid, 0);
  if (fd >= 0) fcntl(fd, F_SETFD, FD_CLOEXEC);
  return fd;
#else
  (void)pid;
  return -1;
#endif
}

/* Wait until the child has exited (without reaping it) or the deadline passes.
 * Returns 1 when it has exited, 0 on deadline. */
static int wait_exit(pid_t pid, int pidfd, int64_t deadline) {
  int nap = 1;
  for (;;) {
    siginfo_t si;
    memset(&si, 0, sizeof si);
    int r = waitid(P_PID, (id_t)pid, &si, WEXITED | WNOHANG | WNOWAIT);
    if (r == 0 && si.si_pid == pid) return 1;
    if (r < 0 && errno != EINTR) return 1; /* nothing to wait for: treat as gone */
    int left = left_ms(deadline);
    if (left == 0) return 0;
    if (pidfd >= 0) {
      struct pollfd p = {pidfd, POLLIN, 0};
      poll(&p, 1, left);
    } else {
      struct timespec ts = {0, (long)nap * 1000000};
      if (left >= 0 && nap > left) ts.tv_nsec = (long)left * 1000000;
      nanosleep(&ts, NULL);
      if (nap < 50) nap *= 2;
    }
  }
}

static void reap(pid_t pid, runner_result *out) {
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
    continue;
  /* Wazuh reads WEXITSTATUS whatever ended the child: a signal reads as 0. */
  out->exit_code = WEXITSTATUS(status);
  out->term_signal = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
}

/* Timeout: SIGTERM to the group, a grace period, then SIGKILL to whatever is left of it. */
static void terminate(pid_t pid, int pidfd) {
  kill(-pid, SIGTERM);
  kill(pid, SIGTERM); /* in case the child had not reached setsid() yet */
  wait_exit(pid, pidfd, now_ms() + GRACE_MS);
  kill(-pid, SIGKILL);
  kill(pid, SIGKILL);
}

/* ---- costs ---- */

#define COST_SLOTS 4096 /* open addressing; commands beyond this are simply not remembered */

typedef struct cost_slot {
  char *cmd;
  int64_t us;
} cost_slot;

static pthread_mutex_t cost_mu = PTHREAD_MUTEX_INITIALIZER;
static cost_slot costs[COST_SLOTS];

static size_t cost_hash(const char *s) {
  size_t h = 1469598103934665603u;
  for (; *s; s++)
    h = (h ^ (unsigned char)*s) * 1099511628211u;
  return h;
}

/* The slot of cmd, or the empty slot where it would go, or NULL when the table is full. Called
 * with cost_mu held. */
static cost_slot *cost_find(const char *cmd) {
  size_t h = cost_hash(cmd);
  for (size_t i = 0; i < COST_SLOTS; i++) {
    cost_slot *c = &costs[(h + i) % COST_SLOTS];
    if (!c->cmd || !strcmp(c->cmd, cmd)) return c;
  }
  return NULL;
}

static void cost_note(const char *cmd, int64_t us) {
  pthread_mutex_lock(&cost_mu);
  cost_slot *c = cost_find(cmd);
  if (c && !c->cmd) c->cmd = strdup(cmd);
  if (c && c->cmd) c->us = us;
  pthread_mutex_unlock(&cost_mu);
}

int64_t runner_cost_us(const char *cmd) {
  pthread_mutex_lock(&cost_mu);
  cost_slot *c = cost_find(cmd);
  int64_t us = c && c->cmd ? c->us : -1;
  pthread_mutex_unlock(&cost_mu);
  return us;
}

static int64_t now_us(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* ---- builtins ---- */

/* Ask the builtins; 1 when one answered (out filled), 0 when the command must run. */
static int try_builtin(char **argv, size_t argc, size_t output_cap, runner_result *out) {
  builtin_result b;
  if (builtin_run(argv, argc, &b) != TN_OK) return 0;
  if (output_cap && b.output_len >= output_cap) { /* the real run would be cut: let it run */
    builtin_result_free(&b);
    return 0;
  }
  out->exit_code = b.exit_code;
  out->output = b.output;
  out->output_len = b.output_len;
  b.output = NULL;
  builtin_result_free(&b);
  return 1;
}

/* ---- running ---- */

static int run_forked(char **argv, int timeout_s, size_t output_cap, runner_result *out);

int runner_run(const char *cmd, int timeout_s, size_t output_cap, runner_result *out) {
  memset(out, 0, sizeof *out);
  char **argv;
  size_t argc;
  int rc = runner_tokenize(cmd, &argv, &argc);
  if (rc != TN_OK) return rc;
  if (argc == 0) { /* see runner.h: nothing runs, status 0, no output */
    runner_argv_free(argv);
    out->output = calloc(1, 1);
    return out->output ? TN_OK : TN_ENOMEM;
  }
  int64_t t0 = now_us();
  if (try_builtin(argv, argc, output_cap, out)) {
    runner_argv_free(argv);
    cost_note(cmd, now_us() - t0);
    return TN_OK;
  }
  rc = run_forked(argv, timeout_s, output_cap, out);
  cost_note(cmd, now_us() - t0);
  return rc;
}

/* Fork and exec argv (owned: freed here), reading its merged output. */
static int run_forked(char **argv, int timeout_s, size_t output_cap, runner_result *out) {
  strbuf buf = STRBUF_INIT;

  int fds[2];
  if (pipe2(fds, O_CLOEXEC) < 0) {
    int e = errno;
    runner_argv_free(argv);
    errno = e;
    return TN_EEXEC;
  }
  struct rlimit rl;
  int maxfd = getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < 65536
                  ? (int)rl.rlim_cur
                  : 65536;
  pid_t pid = fork();
  if (pid == 0) child(fds[1], argv, maxfd);
  int fork_errno = errno;
  close(fds[1]);
  runner_argv_free(argv);
  if (pid < 0) {
    close(fds[0]);
    errno = fork_errno;
    return TN_EEXEC;
  }
  int pidfd = pidfd_for(pid);
  int64_t deadline = timeout_s > 0 ? now_ms() + (int64_t)timeout_s * 1000 : -1;

  /* Read until end of file, the cap or the deadline. */
  char *chunk = malloc(READ_CHUNK);
  int oom = chunk == NULL;
  for (;;) {
    struct pollfd p = {fds[0], POLLIN, 0};
    int left = left_ms(deadline);
    if (left == 0) {
      out->timed_out = 1;
      break;
    }
    int pr = poll(&p, 1, left);
    if (pr < 0 && errno == EINTR) continue;
    if (pr == 0) continue; /* deadline re-checked above */
    if (pr < 0 || oom) break;
    ssize_t n = read(fds[0], chunk, READ_CHUNK);
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
    if (n <= 0) break;
    size_t take = (size_t)n;
    if (output_cap && buf.len + take >= output_cap) {
      take = output_cap - buf.len;
      out->truncated = 1;
    }
    strbuf_append(&buf, chunk, take);
    if (!strbuf_ok(&buf)) oom = 1;
    if (out->truncated) break; /* closing the pipe: further writes get EPIPE, never block */
  }
  free(chunk);
  close(fds[0]);

  if (!out->timed_out && !wait_exit(pid, pidfd, deadline)) out->timed_out = 1;
  if (out->timed_out || oom) terminate(pid, pidfd);
  reap(pid, out);
  if (pidfd >= 0) close(pidfd);

  strbuf_append(&buf, "", 0);
  out->output_len = buf.len;
  out->output = strbuf_take(&buf);
  if (oom || !out->output) {
    free(out->output);
    memset(out, 0, sizeof *out);
    return TN_ENOMEM;
  }
  return TN_OK;
}

void runner_result_free(runner_result *r) {
  if (!r) return;
  free(r->output);
  r->output = NULL;
  r->output_len = 0;
}
