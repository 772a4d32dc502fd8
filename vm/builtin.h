/* builtin.h — answering common c: rule commands natively, byte for byte (docs/BUILTINS.md).
 *
 * A builtin produces exactly what the real program prints on this host through Wazuh's merged
 * stdout+stderr pipe, and its exit status — or it declines, and the real command runs. It declines
 * on anything it does not fully understand: an option, a locale other than C/POSIX/C.UTF-8, an
 * environment variable the program reads, a program that does not resolve to the file and the
 * package version it reproduces (vm/builtins.def), an input whose output it cannot prove. */
#ifndef TENET_BUILTIN_H
#define TENET_BUILTIN_H

#include <stddef.h>
#include <stdio.h>

#include "program.h"

/* What a builtin answered. `output` is the merged stream (owned, NUL-terminated, output_len
 * bytes); `out`/`err` the bytes that went to stdout and to stderr (owned), for tests. */
typedef struct builtin_result {
  int exit_code;
  char *output;
  size_t output_len;
  char *out, *err;
  size_t out_len, err_len;
} builtin_result;

/* Answer argv (argc words, NULL-terminated) natively. Returns TN_OK with *res filled (free with
 * builtin_result_free), TN_ENOTFOUND when no builtin answers (declined), or TN_ENOMEM. Safe to
 * call from several threads. */
int builtin_run(char *const *argv, size_t argc, builtin_result *res);
void builtin_result_free(builtin_result *res);

/* The builtin that would be consulted for command string cmd (tokenised like runner_tokenize),
 * by program name only (its table id, e.g. "stat"), or NULL. For `tenet inspect`: whether it
 * answers depends on the host, so this says "may be answered natively". */
const char *builtin_name_for(const char *cmd);

/* For `tenet inspect`: print to out a line "  builtins      N of M commands have a builtin" and
 * then, for each distinct command the program runs that has one, whether it answers it on this
 * host right now ("native") or declines ("runs"), and the command. */
void builtin_describe_program(FILE *out, const program *p);

/* How many commands the builtins answered in this process so far (for benchmarks). */
size_t builtin_answered_count(void);

/* Process-wide switch (default on; the environment variable TENET_NO_BUILTINS=1 turns it off at
 * start-up). runner_run consults the builtins only when enabled. */
void builtin_set_enabled(int on);
int builtin_enabled(void);

#endif
