/* runner.h — running one c: rule command the way the Wazuh 4.x agent does (SCA-SEMANTICS §2.7):
 * no shell, the command string tokenised on spaces with "..." grouping and backslash escapes,
 * fork + execvp with stdin from /dev/null, stdout and stderr merged into one pipe, the child in a
 * session (and process group) of its own, output capped, a timeout that terminates the whole
 * process group. An exec failure makes the child exit with 127 (Wazuh's EXECVE_ERROR).
 * Nothing the command starts outlives the call: when it returns, every process of the command's
 * tree (background jobs and setsid() escapees included) has been killed and reaped (runner.c).
 *
 * runner_run may be called from several threads at once: descriptors are close-on-exec, the
 * child only makes async-signal-safe calls before exec, and every child is reaped. */
#ifndef TENET_RUNNER_H
#define TENET_RUNNER_H

#include <stddef.h>
#include <stdint.h>

/* The exit status a child reports when its exec fails (Wazuh's EXECVE_ERROR). */
#define RUNNER_EXEC_FAILED 127

typedef struct runner_result {
  int timed_out;   /* the deadline passed before the output ended and the child exited */
  int exit_code;   /* WEXITSTATUS of the child, as Wazuh reads it: 0 when a signal ended it */
  int term_signal; /* the signal that ended the child, or 0 */
  int truncated;   /* the output reached the cap; the pipe was then closed */
  char *output;    /* owned: stdout+stderr, NUL-terminated, output_len bytes (may hold NULs) */
  size_t output_len;
} runner_result;

/* Split a command string into argv as Wazuh's w_strtok does: spaces separate words (runs of
 * spaces give no empty words); "..." groups words, the quotes are removed and "" is an empty
 * word; a backslash is removed and the next byte is taken literally (a trailing backslash is
 * dropped); single quotes are ordinary bytes. On success *argv is a NULL-terminated array
 * (caller frees with runner_argv_free) and *argc its length, possibly 0.
 * Returns TN_OK or TN_ENOMEM. */
int runner_tokenize(const char *cmd, char ***argv, size_t *argc);
void runner_argv_free(char **argv);

/* Run cmd. When the builtins are enabled (builtin.h) and one answers the command exactly, nothing
 * is forked and the result is the builtin's (output and exit code; never a timeout). timeout_s <= 0 waits
 * forever; output_cap 0 means no cap. On TN_OK *out holds the result (free with runner_result_free). A
 * command with no words at all runs nothing and reports exit code 0 with empty output: in Wazuh the child
 * dies in execvp(NULL) and a signal reads as status 0. Returns TN_OK, TN_ENOMEM, or TN_EEXEC when the child
 * could not be started (pipe or fork failure, errno preserved): Wazuh's "Failed to run command" case. */
int runner_run(const char *cmd, int timeout_s, size_t output_cap, runner_result *out);
/* The wall time in microseconds the last runner_run of exactly this command string took in this
 * process (builtin answers included), or -1 when it never ran. Remembered across scans (bounded
 * table), so a scheduler can start the slowest commands first. Thread-safe. */
int64_t runner_cost_us(const char *cmd);

/* Free the output of a result (the struct itself is the caller's). NULL is a no-op. */
void runner_result_free(runner_result *r);

#endif
