/* err.c — messages of the status codes in err.def, and filling an error buffer (err.h). */
#include "err.h"

#include <stdio.h>

const char *tn_strerror(int status) {
  switch (status) {
#define ERR(sym, num, msg) \
  case num:                \
    return msg;
#include "err.def"
#undef ERR
  }
  return "unknown error";
}

int tn_err_vset(char *err, size_t errlen, int rc, const char *fmt, va_list ap) {
  if (err && errlen) vsnprintf(err, errlen, fmt, ap);
  return rc;
}

int tn_err_set(char *err, size_t errlen, int rc, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  tn_err_vset(err, errlen, rc, fmt, ap);
  va_end(ap);
  return rc;
}
