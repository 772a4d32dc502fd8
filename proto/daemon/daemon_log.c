/* daemon_log.c — levelled log lines to stderr or a file (see daemon_log.h). */
#include "daemon_log.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "err.h"

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static int log_fd = -1; /* -1: stderr */
static int log_level = DLOG_INFO;
static char log_ident[64] = "tenet";
static char log_path[4096];

static const char *const level_names[] = {"DEBUG", "INFO", "WARNING", "ERROR"};

/* Repeated lines: a message identical to the previous one (same level and text) is counted, not
 * written; "last message repeated N times" follows when a different message comes, or once every
 * DLOG_REPEAT_FLUSH_S seconds while the same message keeps coming. Guarded by lock. */
#define DLOG_REPEAT_FLUSH_S 30
static char last_msg[8192];
static int last_level = -1;
static unsigned long long repeated;
static time_t repeat_since;

const char *dlog_level_name(int level) {
  return level >= DLOG_DEBUG && level <= DLOG_ERROR ? level_names[level] : "?";
}

int dlog_level_parse(const char *s, int *level) {
  static const char *const names[] = {"debug", "info", "warning", "error"};
  for (int i = 0; i < 4; i++)
    if (strcasecmp(s, names[i]) == 0) {
      *level = i;
      return 0;
    }
  if (strcasecmp(s, "warn") == 0) {
    *level = DLOG_WARNING;
    return 0;
  }
  return -1;
}

int dlog_enabled(int level) { return level >= __atomic_load_n(&log_level, __ATOMIC_RELAXED); }

static int open_file(const char *path, char *err, size_t errlen) {
  int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
  if (fd < 0 && err) snprintf(err, errlen, "cannot open log file %s: %s", path, strerror(errno));
  return fd;
}

int dlog_open(const char *ident, const char *path, int level, char *err, size_t errlen) {
  int fd = -1;
  if (path && *path && (fd = open_file(path, err, errlen)) < 0) return TN_EIO;
  pthread_mutex_lock(&lock);
  if (log_fd >= 0) close(log_fd);
  log_fd = fd;
  snprintf(log_path, sizeof log_path, "%s", fd >= 0 ? path : "");
  if (ident) snprintf(log_ident, sizeof log_ident, "%s", ident);
  __atomic_store_n(&log_level, level, __ATOMIC_RELAXED);
  pthread_mutex_unlock(&lock);
  return TN_OK;
}

int dlog_reopen(void) {
  pthread_mutex_lock(&lock);
  int rc = TN_OK;
  if (log_fd >= 0) {
    int fd = open_file(log_path, NULL, 0);
    if (fd >= 0) {
      close(log_fd);
      log_fd = fd;
    } else {
      rc = TN_EIO;
    }
  }
  pthread_mutex_unlock(&lock);
  return rc;
}

static void flush_repeats(const struct tm *tm);

void dlog_close(void) {
  dlog_flush_repeats();
  pthread_mutex_lock(&lock);
  if (log_fd >= 0) close(log_fd);
  log_fd = -1;
  log_path[0] = '\0';
  pthread_mutex_unlock(&lock);
}

size_t dlog_escape(char *dst, size_t cap, const char *src, size_t n) {
  static const char hex[] = "0123456789abcdef";
  size_t o = 0;
  if (!cap) return 0;
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)src[i];
    /* C0 controls, DEL, and C1 controls as UTF-8 (U+0080..U+009F: 0xC2 0x80..0x9F) */
    int c1 = c == 0xC2 && i + 1 < n && (unsigned char)src[i + 1] >= 0x80 && (unsigned char)src[i + 1] <= 0x9F;
    if (c >= 0x20 && c != 0x7F && !c1) {
      if (o + 1 >= cap) break;
      dst[o++] = (char)c;
      continue;
    }
    if (c1) c = (unsigned char)src[++i];
    if (o + 4 >= cap) break;
    dst[o++] = '\\';
    dst[o++] = 'x';
    dst[o++] = hex[c >> 4];
    dst[o++] = hex[c & 15];
  }
  dst[o] = '\0';
  return o;
}

static void write_line(const char *line, size_t n) {
  int fd = log_fd >= 0 ? log_fd : STDERR_FILENO;
  for (size_t off = 0; off < n;) {
    ssize_t w = write(fd, line + off, n - off);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) break;
    off += (size_t)w;
  }
}

/* Write "last message repeated N times" (at the repeated message's level) if lines were held back.
 * Called with lock held. */
static void flush_repeats(const struct tm *tm) {
  if (!repeated) return;
  char line[256];
  size_t n = strftime(line, sizeof line, "%Y/%m/%d %H:%M:%S ", tm);
  int k = snprintf(line + n, sizeof line - n, "%s: %s: last message repeated %llu times\n", log_ident,
                   dlog_level_name(last_level), repeated);
  if (k > 0) write_line(line, n + ((size_t)k < sizeof line - n ? (size_t)k : sizeof line - n - 1));
  repeated = 0;
}

/* 1 when the message text at level repeats the previous one and is held back (counted). Called with
 * lock held; otherwise remembers it as the last message and writes any pending repeat count. */
static int held_back(int level, const char *text, time_t now, const struct tm *tm) {
  if (level == last_level && strcmp(text, last_msg) == 0) {
    if (!repeated) repeat_since = now;
    repeated++;
    if (now - repeat_since >= DLOG_REPEAT_FLUSH_S) flush_repeats(tm);
    return 1;
  }
  flush_repeats(tm);
  last_level = level;
  snprintf(last_msg, sizeof last_msg, "%s", text);
  return 0;
}

void dlog_flush_repeats(void) {
  time_t now = time(NULL);
  struct tm tm;
  localtime_r(&now, &tm);
  pthread_mutex_lock(&lock);
  flush_repeats(&tm);
  pthread_mutex_unlock(&lock);
}

void dlog(int level, const char *fmt, ...) {
  if (!dlog_enabled(level)) return;
  char line[8192], msg[4096];
  time_t now = time(NULL);
  struct tm tm;
  localtime_r(&now, &tm);
  size_t n = strftime(line, sizeof line, "%Y/%m/%d %H:%M:%S ", &tm);
  pthread_mutex_lock(&lock);
  int k = snprintf(line + n, sizeof line - n, "%s: %s: ", log_ident, dlog_level_name(level));
  if (k > 0) n += (size_t)k < sizeof line - n ? (size_t)k : sizeof line - n - 1;
  size_t text = n;
  va_list ap;
  va_start(ap, fmt);
  k = vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  /* Messages quote what agents send: one message stays one line, and no control sequence reaches
   * the operator's terminal. */
  if (k > 0)
    n += dlog_escape(line + n, sizeof line - n - 1, msg, (size_t)k < sizeof msg ? (size_t)k : sizeof msg - 1);
  if (n >= sizeof line - 1) n = sizeof line - 2;
  line[n] = '\0';
  if (held_back(level, line + text, now, &tm)) {
    pthread_mutex_unlock(&lock);
    return;
  }
  line[n++] = '\n';
  write_line(line, n);
  pthread_mutex_unlock(&lock);
}
