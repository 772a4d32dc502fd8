/* daemon_proc.c — detaching, the locked pid file, directory checks, signals (see daemon_proc.h). */
#include "daemon_proc.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "err.h"

/* The write end of the pipe the original process waits on (-1: not detached, or ready). */
static int ready_fd = -1;

int daemon_detach(char *err, size_t errlen) {
  int pipefd[2];
  if (pipe2(pipefd, O_CLOEXEC) != 0) {
    snprintf(err, errlen, "pipe: %s", strerror(errno));
    return TN_EIO;
  }
  pid_t pid = fork();
  if (pid < 0) {
    snprintf(err, errlen, "fork: %s", strerror(errno));
    close(pipefd[0]);
    close(pipefd[1]);
    return TN_EIO;
  }
  if (pid > 0) { /* wait until the daemon says it is running, or is gone */
    close(pipefd[1]);
    char c = 0;
    ssize_t n;
    do
      n = read(pipefd[0], &c, 1);
    while (n < 0 && errno == EINTR);
    waitpid(pid, NULL, 0);
    _exit(n == 1 && c == 1 ? 0 : 1);
  }
  close(pipefd[0]);
  if (setsid() < 0) { /* cannot happen after fork; the parent sees the exit */
    fprintf(stderr, "setsid: %s\n", strerror(errno));
    _exit(1);
  }
  pid = fork();
  if (pid < 0) {
    fprintf(stderr, "fork: %s\n", strerror(errno));
    _exit(1);
  }
  if (pid > 0) _exit(0);
  umask(027);
  if (chdir("/") != 0) {
  }
  int fd = open("/dev/null", O_RDWR);
  if (fd >= 0) {
    dup2(fd, 0);
    if (fd > 2) close(fd);
  }
  ready_fd = pipefd[1];
  return TN_OK;
}

void daemon_ready(void) {
  if (ready_fd < 0) return;
  int fd = open("/dev/null", O_RDWR);
  if (fd >= 0) {
    dup2(fd, 1);
    dup2(fd, 2);
    if (fd > 2) close(fd);
  }
  char ok = 1;
  if (write(ready_fd, &ok, 1) != 1) {
  }
  close(ready_fd);
  ready_fd = -1;
}

/* ---- the pid file ---- */

struct daemon_pidfile {
  int fd;
  char *path;
};

static pid_t read_pid(int fd) {
  char buf[32];
  ssize_t n = pread(fd, buf, sizeof buf - 1, 0);
  if (n <= 0) return 0;
  buf[n] = '\0';
  long v = strtol(buf, NULL, 10);
  return v > 0 && v <= INT_MAX ? (pid_t)v : 0;
}

int daemon_pidfile_update(daemon_pidfile *p, char *err, size_t errlen) {
  char buf[32];
  int n = snprintf(buf, sizeof buf, "%ld\n", (long)getpid());
  if (ftruncate(p->fd, 0) != 0 || pwrite(p->fd, buf, (size_t)n, 0) != n) {
    snprintf(err, errlen, "cannot write pid file %s: %s", p->path, strerror(errno));
    return TN_EIO;
  }
  return TN_OK;
}

int daemon_pidfile_open(const char *path, daemon_pidfile **out, char *err, size_t errlen) {
  *out = NULL;
  daemon_pidfile *p = calloc(1, sizeof *p);
  if (!p || !(p->path = strdup(path))) {
    free(p);
    snprintf(err, errlen, "out of memory");
    return TN_ENOMEM;
  }
  if ((p->fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644)) < 0) {
    snprintf(err, errlen, "cannot create pid file %s: %s", path, strerror(errno));
    free(p->path);
    free(p);
    return TN_EIO;
  }
  if (flock(p->fd, LOCK_EX | LOCK_NB) != 0) {
    int e = errno;
    if (e == EWOULDBLOCK)
      snprintf(err, errlen, "pid file %s: already running (pid %ld)", path, (long)read_pid(p->fd));
    else
      snprintf(err, errlen, "cannot lock pid file %s: %s", path, strerror(e));
    close(p->fd); /* not ours: leave the file alone */
    free(p->path);
    free(p);
    return TN_EIO;
  }
  if (daemon_pidfile_update(p, err, errlen) != TN_OK) {
    daemon_pidfile_close(p);
    return TN_EIO;
  }
  *out = p;
  return TN_OK;
}

void daemon_pidfile_close(daemon_pidfile *p) {
  if (!p) return;
  unlink(p->path); /* while still holding the lock: nobody else can own this name yet */
  close(p->fd);
  free(p->path);
  free(p);
}

pid_t daemon_pidfile_owner(const char *path) {
  if (!path || !*path) return 0;
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return 0;
  pid_t pid = 0;
  if (flock(fd, LOCK_SH | LOCK_NB) != 0 && errno == EWOULDBLOCK) pid = read_pid(fd);
  close(fd); /* a shared lock we got goes with the descriptor */
  return pid;
}

/* ---- directories ---- */

int daemon_dir_check_dir(const char *what, const char *dir, char *err, size_t errlen) {
  struct stat st;
  if (stat(dir, &st) != 0) {
    snprintf(err, errlen, "%s: %s: %s", what, dir, strerror(errno));
    return TN_EIO;
  }
  if (!S_ISDIR(st.st_mode)) {
    snprintf(err, errlen, "%s: %s: not a directory", what, dir);
    return TN_EIO;
  }
  if (access(dir, W_OK | X_OK) != 0) {
    snprintf(err, errlen, "%s: %s: not writable: %s", what, dir, strerror(errno));
    return TN_EIO;
  }
  return TN_OK;
}

int daemon_dir_check(const char *what, const char *file, char *err, size_t errlen) {
  char dir[PATH_MAX];
  const char *slash = strrchr(file, '/');
  if (!slash)
    snprintf(dir, sizeof dir, ".");
  else if (slash == file)
    snprintf(dir, sizeof dir, "/");
  else
    snprintf(dir, sizeof dir, "%.*s", (int)(slash - file), file);
  return daemon_dir_check_dir(what, dir, err, errlen);
}

/* ---- signals ---- */

int daemon_signalfd(char *err, size_t errlen) {
  signal(SIGPIPE, SIG_IGN);
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGHUP);
  sigaddset(&set, SIGUSR1);
  if (sigprocmask(SIG_BLOCK, &set, NULL) != 0) {
    snprintf(err, errlen, "sigprocmask: %s", strerror(errno));
    return -1;
  }
  int fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
  if (fd < 0) snprintf(err, errlen, "signalfd: %s", strerror(errno));
  return fd;
}
