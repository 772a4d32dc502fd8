/* daemon_proc.c — background mode, pid file, signals (see daemon_proc.h). */
#include "daemon_proc.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "err.h"

int daemon_detach(char *err, size_t errlen) {
  int pipefd[2];
  if (pipe(pipefd) != 0) {
    snprintf(err, errlen, "pipe: %s", strerror(errno));
    return TN_EIO;
  }
  pid_t pid = fork();
  if (pid < 0) {
    snprintf(err, errlen, "fork: %s", strerror(errno));
    return TN_EIO;
  }
  if (pid > 0) { /* wait until the daemon says it is running */
    close(pipefd[1]);
    char c;
    ssize_t n;
    do
      n = read(pipefd[0], &c, 1);
    while (n < 0 && errno == EINTR);
    waitpid(pid, NULL, 0);
    _exit(n == 1 ? 0 : 1);
  }
  close(pipefd[0]);
  if (setsid() < 0) {
    snprintf(err, errlen, "setsid: %s", strerror(errno));
    return TN_EIO;
  }
  pid = fork();
  if (pid < 0) {
    snprintf(err, errlen, "fork: %s", strerror(errno));
    return TN_EIO;
  }
  if (pid > 0) _exit(0);
  umask(027);
  if (chdir("/") != 0) {
  }
  int fd = open("/dev/null", O_RDWR);
  if (fd >= 0) {
    dup2(fd, 0);
    dup2(fd, 1);
    dup2(fd, 2);
    if (fd > 2) close(fd);
  }
  char ok = 1;
  if (write(pipefd[1], &ok, 1) != 1) {
  }
  close(pipefd[1]);
  return TN_OK;
}

int daemon_pidfile_write(const char *path, char *err, size_t errlen) {
  if (!path || !*path) return TN_OK;
  char tmp[4096];
  snprintf(tmp, sizeof tmp, "%s.tmp", path);
  FILE *f = fopen(tmp, "w");
  if (!f || fprintf(f, "%ld\n", (long)getpid()) < 0 || fclose(f) != 0 || rename(tmp, path) != 0) {
    snprintf(err, errlen, "cannot write pid file %s: %s", path, strerror(errno));
    return TN_EIO;
  }
  return TN_OK;
}

void daemon_pidfile_remove(const char *path) {
  if (path && *path) unlink(path);
}

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
