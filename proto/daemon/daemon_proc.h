/* daemon_proc.h — process chores shared by both daemons: starting like a Debian daemon (every
 * check done while the operator still sees stderr, then detach), the locked pid file, checking
 * the directories a daemon writes, and the signals a daemon handles through a signalfd
 * (SIGTERM/SIGINT stop, SIGHUP re-reads, SIGUSR1 is the daemon's own "do it now").
 *
 * Start-up order (both main.c): configuration → log → pid file (created and locked) → what can
 * fail (port, store, certificates and keys) → daemon_detach → daemon_pidfile_update → the rest
 * → daemon_ready. The shell that started the daemon gets its exit status only at daemon_ready (0),
 * or 1 when the daemon exits before (its message is already on stderr). */
#ifndef TENET_DAEMON_PROC_H
#define TENET_DAEMON_PROC_H

#include <stddef.h>
#include <sys/types.h>

/* Detach from the terminal: fork, setsid, fork again, stdin to /dev/null, umask 027, chdir("/").
 * The original process waits: it exits 0 when the daemon calls daemon_ready, 1 when the daemon
 * exits first. stdout and stderr stay open until daemon_ready, so start-up errors still reach the
 * operator. Returns TN_OK in the daemon or TN_EIO with a message in err (in the original
 * process, before any fork succeeded). */
int daemon_detach(char *err, size_t errlen);
/* Start-up is complete: stdout and stderr go to /dev/null and the waiting process exits 0. A
 * no-op when the daemon did not detach (foreground, -f). */
void daemon_ready(void);

typedef struct daemon_pidfile daemon_pidfile;

/* Create path (0644) and take an exclusive flock(2) on it, then write this process's id. Fails
 * with TN_EIO and "PATH: tenet-... is already running (pid N)" when another process holds the
 * lock. The lock belongs to the open file, so it survives daemon_detach; call
 * daemon_pidfile_update in the daemon to write its own id. The object is owned by the caller
 * (daemon_pidfile_close). */
int daemon_pidfile_open(const char *path, daemon_pidfile **out, char *err, size_t errlen);
/* Rewrite the file with the current process id. TN_OK or TN_EIO. */
int daemon_pidfile_update(daemon_pidfile *p, char *err, size_t errlen);
/* Remove the file and release the lock. NULL is a no-op. */
void daemon_pidfile_close(daemon_pidfile *p);
/* The id written in the pid file at path when a live process holds its lock; 0 when nobody does
 * (no file, or a stale one). */
pid_t daemon_pidfile_owner(const char *path);

/* Check that the directory that will hold file (its dirname) exists and that this process may
 * create files in it. what names the option in the message ("state_db"). TN_OK or TN_EIO with
 * "what: DIR: why" in err. */
int daemon_dir_check(const char *what, const char *file, char *err, size_t errlen);
/* The same for a directory itself (e.g. bundle_dir, which the agent writes bundles into). */
int daemon_dir_check_dir(const char *what, const char *dir, char *err, size_t errlen);

/* Block SIGTERM, SIGINT, SIGHUP and SIGUSR1 in this thread (and threads started after) and return
 * a non-blocking signalfd that reports them; SIGPIPE is ignored. -1 with a message in err. Call it
 * before starting threads. */
int daemon_signalfd(char *err, size_t errlen);

#endif
