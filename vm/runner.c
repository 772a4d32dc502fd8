/* runner.c — command execution for c: rules (see runner.h, SCA-SEMANTICS §2.7).
 *
 * Every command runs under a reaper of its own: a forked process marked child subreaper
 * (PR_SET_CHILD_SUBREAPER) that starts the command and outlives it, so every orphan of the
 * command's tree — a background job, a daemon that called setsid() to leave the process group —
 * re-parents to the reaper instead of to init. The parent reads the merged output with poll()
 * until end of file, then waits for the reaper's report of the command's exit, both against one
 * monotonic deadline. Like Wazuh, a command "ends" only when its output ends: a background
 * grandchild still holding the pipe keeps it running until the timeout. Then the parent orders
 * the reaper to clean up: after a normal end it kills (SIGKILL) the command's process group and
 * every process re-parented to it, level by level, until it has no child left; on timeout it
 * first sends SIGTERM to the group and the orphans, waits a short grace period (Wazuh waits
 * forever after SIGTERM; a scan must not), then does the same. The group is signalled while the
 * command is still unreaped, so its id cannot have been reused. Nothing a command started
 * outlives runner_run.
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
#include <sys/prctl.h>
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

/* ---- the reaper ---- */

/* What the reaper reports about the command on the status pipe: its end (exit code and signal,
 * read without reaping it), or the errno of a failed fork (exit_code -1). */
typedef struct end_msg {
  int exit_code, term_signal;
} end_msg;

/* Orders on the control pipe (parent → reaper). End of file counts as ORDER_KILL. */
#define ORDER_KILL 'K' /* the command has ended: kill whatever it left behind */
#define ORDER_TERM 'T' /* timeout: SIGTERM, the grace period, then SIGKILL */

static int pidfd_for(pid_t pid) {
#ifdef SYS_pidfd_open
  return (int)syscall(SYS_pidfd_open, pid, 0);
#else
  (void)pid;
  return -1;
#endif
}

static void nap_ms(long ms) {
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000};
  nanosleep(&ts, NULL);
}

/* Has the command exited? Reads its status without reaping it (so its pid, which is also its
 * process group id, cannot be reused while we signal the group). */
static int peek_end(pid_t pid, end_msg *m) {
  siginfo_t si;
  memset(&si, 0, sizeof si);
  if (waitid(P_PID, (id_t)pid, &si, WEXITED | WNOHANG | WNOWAIT) != 0 || si.si_pid != pid) return 0;
  /* Wazuh reads WEXITSTATUS whatever ended the child: a signal reads as 0. */
  m->exit_code = si.si_code == CLD_EXITED ? si.si_status & 0xff : 0;
  m->term_signal = si.si_code == CLD_EXITED ? 0 : si.si_status;
  return 1;
}

/* Wait up to ms (-1: forever) for the command to exit. */
static int await_end(pid_t pid, int pidfd, int ms, end_msg *m) {
  int64_t deadline = ms < 0 ? -1 : now_ms() + ms;
  while (!peek_end(pid, m)) {
    int left = left_ms(deadline);
    if (left == 0) return 0;
    if (pidfd >= 0) {
      struct pollfd p = {pidfd, POLLIN, 0};
      poll(&p, 1, left);
    } else {
      nap_ms(left < 0 || left > 5 ? 5 : left);
    }
  }
  return 1;
}

/* Parse a decimal number; -1 when s holds anything else. */
static long parse_pid(const char *s) {
  long v = 0;
  if (!*s) return -1;
  for (; *s; s++) {
    if (*s < '0' || *s > '9' || v > 100000000) return -1;
    v = v * 10 + (*s - '0');
  }
  return v;
}

/* The parent pid in /proc/<pid>/stat, or -1. Only raw system calls: the reaper is a fork of a
 * possibly multi-threaded program and may not call malloc or stdio. */
static long parent_of(long pid) {
  char path[40] = "/proc/", digits[24], buf[512];
  int nd = 0;
  do
    digits[nd++] = (char)('0' + pid % 10);
  while ((pid /= 10) > 0);
  size_t k = 6;
  while (nd)
    path[k++] = digits[--nd];
  memcpy(path + k, "/stat", 6);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  ssize_t n = read(fd, buf, sizeof buf - 1);
  close(fd);
  if (n <= 0) return -1;
  buf[n] = 0;
  char *rp = NULL;
  for (char *q = buf; *q; q++)
    if (*q == ')') rp = q;
  if (!rp || rp[1] != ' ' || !rp[2] || rp[3] != ' ') return -1; /* ") S ppid ..." */
  long pp = 0;
  for (char *q = rp + 4; *q >= '0' && *q <= '9'; q++)
    pp = pp * 10 + (*q - '0');
  return pp;
}

struct dirent64_raw {
  uint64_t ino;
  int64_t off;
  unsigned short reclen;
  unsigned char type;
  char name[];
};

/* Send sig to every child of this process (the reaper): the command and every orphan of its
 * process tree re-parented here. Returns how many were signalled. */
static int signal_children(int sig) {
  pid_t self = getpid();
  int dfd = open("/proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC), found = 0;
  if (dfd < 0) return 0;
  char buf[4096] __attribute__((aligned(8)));
  long n;
  while ((n = syscall(SYS_getdents64, dfd, buf, sizeof buf)) > 0) {
    for (long off = 0; off < n;) {
      struct dirent64_raw *d = (struct dirent64_raw *)(buf + off);
      off += d->reclen;
      long pid = parse_pid(d->name);
      if (pid <= 0 || pid == self || parent_of(pid) != self) continue;
      kill((pid_t)pid, sig);
      found++;
    }
  }
  close(dfd);
  return found;
}

/* Kill the command's process group and every descendant, reap them all (the command last among
 * them may be reaped here too), until this process has no child left. Orphans of a killed child
 * re-parent here (child subreaper), so each turn reaches one more level of a tree. */
static void sweep(pid_t cmd) {
  kill(-cmd, SIGKILL); /* cmd is not reaped yet: its group id is still ours */
  for (;;) {
    signal_children(SIGKILL);
    int reaped = 0;
    pid_t w;
    while ((w = waitpid(-1, NULL, WNOHANG)) > 0)
      reaped++;
    if (w < 0 && errno == ECHILD) return;
    if (!reaped) nap_ms(1);
  }
}

/* Close every descriptor from 3 up except the three given (close_range between them). */
static void close_except(int a, int b, int c, int maxfd) {
  int k[3] = {a, b, c};
  for (int i = 0; i < 3; i++) /* sort the three */
    for (int j = i + 1; j < 3; j++)
      if (k[j] < k[i]) {
        int t = k[i];
        k[i] = k[j];
        k[j] = t;
      }
  int lo = 3;
  for (int i = 0; i <= 3; i++) {
    unsigned hi = i < 3 ? (unsigned)k[i] - 1 : ~0u;
    if (i < 3 && k[i] < lo) continue;
    long done = -1;
#ifdef SYS_close_range
    if ((unsigned)lo <= hi) done = syscall(SYS_close_range, (unsigned)lo, hi, 0u);
#endif
    for (int fd = lo; done != 0 && (unsigned)fd <= hi && fd < maxfd; fd++)
      close(fd);
    if (i < 3) lo = k[i] + 1;
  }
}

/* The reaper: a child subreaper between us and the command, so that nothing the command starts
 * can outlive it — not a background job, not a `setsid` escapee (a new session leaves the process
 * group, never the subreaper's tree). It starts the command, reports its end on st_w as soon as it
 * exits (the command's output may still be open: Wazuh's end is the end of the output, which the
 * parent sees), then waits for an order on ctl_r and kills every process the command left behind
 * before it exits. Runs only async-signal-safe calls. */
static void reaper(int out_w, int ctl_r, int st_w, char **argv, int maxfd) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = SIG_IGN; /* a terminal's ^C must not kill the reaper before the command */
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGQUIT, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);
  sigaction(SIGHUP, &sa, NULL);
  sigaction(SIGPIPE, &sa, NULL);
  sa.sa_handler = SIG_DFL;
  sigaction(SIGCHLD, &sa, NULL);
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, NULL);
  /* Another thread's pipe ends must not stay open here while its command runs. */
  close_except(out_w, ctl_r, st_w, maxfd);
  prctl(PR_SET_NAME, "tenet-reaper", 0, 0, 0);
  if (prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0) _exit(RUNNER_EXEC_FAILED);

  end_msg m = {0, 0};
  pid_t cmd = fork();
  if (cmd == 0) child(out_w, argv, maxfd);
  if (cmd < 0) {
    m.exit_code = -1;
    m.term_signal = errno;
    if (write(st_w, &m, sizeof m) < 0) _exit(1);
    _exit(0);
  }
  close(out_w);
  int pidfd = pidfd_for(cmd), ended = 0;
  char order = ORDER_KILL;
  for (;;) {
    struct pollfd p[2] = {{ctl_r, POLLIN, 0}, {pidfd, POLLIN, 0}};
    int np = !ended && pidfd >= 0 ? 2 : 1;
    int pr = poll(p, (nfds_t)np, !ended && pidfd < 0 ? 5 : -1);
    if (!ended && peek_end(cmd, &m)) {
      ended = 1;
      if (write(st_w, &m, sizeof m) < 0) { /* the parent is gone: fall through to the sweep */
      }
    }
    if (pr > 0 && p[0].revents) {
      ssize_t n = read(ctl_r, &order, 1);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) order = ORDER_KILL;
      break;
    }
  }
  if (order == ORDER_TERM && !ended) {
    kill(-cmd, SIGTERM);
    kill(cmd, SIGTERM); /* in case the child had not reached setsid() yet */
    signal_children(SIGTERM);
    await_end(cmd, pidfd, GRACE_MS, &m);
  }
  sweep(cmd);
  if (!ended && write(st_w, &m, sizeof m) < 0) _exit(1);
  _exit(0);
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
static void send_order(int ctl_w, char order) {
  while (write(ctl_w, &order, 1) < 0 && errno == EINTR)
    continue;
}

/* Read the reaper's report of the command's end, waiting until deadline (-1: forever).
 * Returns 1 with *m, 0 on deadline, -1 when the reaper closed the pipe without one. */
static int read_end(int st_r, int64_t deadline, end_msg *m) {
  size_t got = 0;
  while (got < sizeof *m) {
    struct pollfd p = {st_r, POLLIN, 0};
    int left = left_ms(deadline);
    if (left == 0) return 0;
    int pr = poll(&p, 1, left);
    if (pr < 0 && errno == EINTR) continue;
    if (pr == 0) continue;
    ssize_t n = read(st_r, (char *)m + got, sizeof *m - got);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return -1;
    got += (size_t)n;
  }
  return 1;
}

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

  int fds[2] = {-1, -1}, ctl[2] = {-1, -1}, st[2] = {-1, -1};
  if (pipe2(fds, O_CLOEXEC) < 0 || pipe2(ctl, O_CLOEXEC) < 0 || pipe2(st, O_CLOEXEC) < 0) {
    int e = errno;
    for (int i = 0; i < 2; i++) {
      if (fds[i] >= 0) close(fds[i]);
      if (ctl[i] >= 0) close(ctl[i]);
      if (st[i] >= 0) close(st[i]);
    }
    runner_argv_free(argv);
    errno = e;
    return TN_EEXEC;
  }
  struct rlimit rl;
  int maxfd = getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < 65536
                  ? (int)rl.rlim_cur
                  : 65536;
  pid_t pid = fork();
  if (pid == 0) reaper(fds[1], ctl[0], st[1], argv, maxfd);
  int fork_errno = errno;
  close(fds[1]);
  close(ctl[0]);
  close(st[1]);
  runner_argv_free(argv);
  if (pid < 0) {
    close(fds[0]);
    close(ctl[1]);
    close(st[0]);
    errno = fork_errno;
    return TN_EEXEC;
  }
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

  /* The command's end, then the order to clean up after it. */
  end_msg m = {0, 0};
  int got = 0;
  if (!out->timed_out && !oom) {
    got = read_end(st[0], deadline, &m);
    if (got == 0) out->timed_out = 1;
  }
  send_order(ctl[1], got == 1 ? ORDER_KILL : ORDER_TERM);
  close(ctl[1]);
  if (got != 1) got = read_end(st[0], -1, &m);
  close(st[0]);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
    continue;
  if (got == 1 && m.exit_code == -1) { /* the reaper could not fork the command */
    strbuf_free(&buf);
    errno = m.term_signal;
    return TN_EEXEC;
  }
  if (got != 1) { /* the reaper itself failed before starting anything */
    strbuf_free(&buf);
    errno = ECHILD;
    return TN_EEXEC;
  }
  out->exit_code = m.exit_code;
  out->term_signal = m.term_signal;

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
