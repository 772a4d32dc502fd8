/* daemon_log.h — the daemons' log: one line per message, levelled, to stderr or an append-only
 * file, in Wazuh's layout so people can grep the same lines:
 *
 *   2025/01/31 12:00:00 tenet-manager: INFO: Policy 'p' information for agent '002' is outdated. ...
 *
 * Control characters in a message are escaped (dlog_escape). Thread-safe (one write(2) per line
 * under a mutex). Messages below the configured level are
 * dropped before they are formatted. */
#ifndef TENET_DAEMON_LOG_H
#define TENET_DAEMON_LOG_H

#include <stddef.h>

enum dlog_level { DLOG_DEBUG = 0, DLOG_INFO, DLOG_WARNING, DLOG_ERROR };

/* Start logging as `ident` (e.g. "tenet-agent") at `level` to the file at path (created 0640,
 * appended), or to stderr when path is NULL or "". Returns TN_OK or TN_EIO with a message in err.
 * May be called again (e.g. after reading the configuration) to switch destination. */
int dlog_open(const char *ident, const char *path, int level, char *err, size_t errlen);
/* Reopen the log file (after rotation, on SIGHUP). Returns TN_OK or TN_EIO. */
int dlog_reopen(void);
/* Close the log file; later messages go to stderr. */
void dlog_close(void);

/* Parse "debug", "info", "warning" or "error" into *level. Returns 0 or -1. */
int dlog_level_parse(const char *s, int *level);
/* The name of a level ("DEBUG", ...) as printed in log lines. */
const char *dlog_level_name(int level);
/* Non-zero when messages at this level are written. */
int dlog_enabled(int level);

/* Copy src[0..n) into dst (cap bytes, NUL-terminated), writing control characters (C0, DEL and
 * UTF-8-encoded C1) as \xNN so text an agent sent cannot break a line or drive a terminal.
 * Truncates at cap; returns the length written. Every log message goes through it. */
size_t dlog_escape(char *dst, size_t cap, const char *src, size_t n);

/* Log one message (printf-style; a trailing newline is added). A message identical to the previous
 * one (level and text) is not written again: "last message repeated N times" follows at the next
 * different message, at most 30 s after the first repeat while it keeps repeating, or at
 * dlog_flush_repeats. */
void dlog(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Write the pending "last message repeated N times" line now, if any (e.g. from a periodic timer,
 * and before exiting). */
void dlog_flush_repeats(void);

#define log_debug(...) (dlog_enabled(DLOG_DEBUG) ? dlog(DLOG_DEBUG, __VA_ARGS__) : (void)0)
#define log_info(...) dlog(DLOG_INFO, __VA_ARGS__)
#define log_warn(...) dlog(DLOG_WARNING, __VA_ARGS__)
#define log_error(...) dlog(DLOG_ERROR, __VA_ARGS__)

#endif
