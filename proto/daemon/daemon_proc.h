/* daemon_proc.h — process chores shared by both daemons: running in the background, the pid
 * file, and the signals a daemon handles through a signalfd (SIGTERM/SIGINT stop, SIGHUP reopens
 * the log, SIGUSR1 is the daemon's own "do it now"). */
#ifndef TENET_DAEMON_PROC_H
#define TENET_DAEMON_PROC_H

#include <stddef.h>

/* Detach from the terminal: fork, setsid, fork again, stdin/stdout/stderr to /dev/null, umask
 * 027, chdir("/"). The parent exits 0 once the child is running. Returns TN_OK in the daemon or
 * TN_EIO with a message in err. */
int daemon_detach(char *err, size_t errlen);

/* Write the process id to path (created 0644, replaced atomically). "" or NULL: nothing.
 * Returns TN_OK or TN_EIO. */
int daemon_pidfile_write(const char *path, char *err, size_t errlen);
/* Remove the pid file written above (if any). */
void daemon_pidfile_remove(const char *path);

/* Block SIGTERM, SIGINT, SIGHUP and SIGUSR1 in this thread (and threads started after) and return
 * a non-blocking signalfd that reports them; SIGPIPE is ignored. -1 with a message in err. Call it
 * before starting threads. */
int daemon_signalfd(char *err, size_t errlen);

#endif
