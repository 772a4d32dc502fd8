/* builtin_int.h — what the builtin dispatcher (builtin.c) shares with the builtins (builtin_*.c).
 *
 * A builtin writes through bout_out/bout_err in the order the real program's bytes reach the
 * merged pipe (each builtin's file says how its program buffers stdout), sets the exit code and
 * returns TN_OK; or returns TN_ENOTFOUND to decline (anything written is then discarded). */
#ifndef TENET_BUILTIN_INT_H
#define TENET_BUILTIN_INT_H

#include <stddef.h>

#include "strbuf.h"

typedef struct bout {
  strbuf all, out, err; /* merged stream, stdout only, stderr only */
  int exit_code;
} bout;

void bout_out(bout *o, const char *s, size_t n);
void bout_err(bout *o, const char *s, size_t n);
void bout_outs(bout *o, const char *s);
void bout_errs(bout *o, const char *s);
void bout_outf(bout *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void bout_errf(bout *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Flush a fully buffered stdout the way glibc's stdio does at exit: the program wrote its stderr
 * lines as they came (unbuffered) and its stdout text `pending` goes out at the end. Declines
 * (returns 0) when pending is larger than one pipe buffer (4096 bytes) and stderr is not empty,
 * since glibc would then have written part of it earlier. Returns 1 when the order is exact. */
int bout_flush_at_exit(bout *o, strbuf *pending);

/* Whether name is a Debian package name dpkg accepts as is: [a-z0-9][a-z0-9+.-]+ (lower case
 * only: upper-case names are accepted by dpkg and folded; the builtins decline them). */
int builtin_pkg_name_ok(const char *name);

/* Version of an installed package in /var/lib/dpkg/status ("install ok installed"), copied into
 * buf; 0 when unknown. Used by the dispatcher to check the program's version. */
int builtin_dpkg_installed_version(const char *package, char *buf, size_t cap);

#define BUILTIN(id, name, program, package, version, desc)                                                   \
  int builtin_##id##_run(char *const *argv, size_t argc, bout *o);
#include "builtins.def"
#undef BUILTIN

#endif
