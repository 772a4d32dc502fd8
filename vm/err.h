/* err.h — Tenet's status codes (declared once in err.def), their messages, and the one helper that
 * fills a caller-owned error buffer. */
#ifndef TENET_ERR_H
#define TENET_ERR_H

#include <stdarg.h>
#include <stddef.h>

enum tn_status {
#define ERR(sym, num, msg) TN_##sym = num,
#include "err.def"
#undef ERR
};

/* The message of a status code; never NULL ("unknown error" for an unknown code). */
const char *tn_strerror(int status);

/* Format a message into the caller's buffer err[errlen] (truncated, always NUL-terminated; nothing
 * is written when err is NULL or errlen is 0) and return rc, so that a failure reads
 * `return tn_err_set(err, errlen, TN_EIO, "cannot open %s", path);`. */
int tn_err_set(char *err, size_t errlen, int rc, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* The same with a va_list, for wrappers that add their own context. */
int tn_err_vset(char *err, size_t errlen, int rc, const char *fmt, va_list ap)
    __attribute__((format(printf, 4, 0)));

#endif
