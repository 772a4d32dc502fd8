/* builtin_which.c — debianutils 5.7 `which PROGRAM...` (a POSIX shell script) answered natively
 * (tests/unit/test_builtin_which.c proves it against the real script).
 *
 * For a PROGRAM containing '/', it prints the PROGRAM when it is a regular file (after symlinks)
 * and executable; otherwise it walks PATH split on ':' (an empty element is ".", a trailing ':'
 * counts as one) and prints "DIR/PROGRAM" for the first DIR where that holds. Exit 0 when every
 * PROGRAM was found, 1 otherwise (also with no PROGRAM at all). Only stdout, in order.
 * Declines: any argument starting with '-' (the script's getopts), PATH unset. */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <fcntl.h>

#include "builtin_int.h"
#include "err.h"
#include "strbuf.h"

/* The script's test: [ -f P ] && [ -x P ] (dash: stat, then access with the effective ids). */
static int runnable(const char *p) {
  struct stat st;
  return stat(p, &st) == 0 && S_ISREG(st.st_mode) && faccessat(AT_FDCWD, p, X_OK, AT_EACCESS) == 0;
}

int builtin_which_run(char *const *argv, size_t argc, bout *o) {
  const char *path = getenv("PATH");
  if (!path) return TN_ENOTFOUND;
  for (size_t i = 1; i < argc; i++)
    if (argv[i][0] == '-') return TN_ENOTFOUND;
  int all_found = argc > 1;
  strbuf cand = STRBUF_INIT;
  for (size_t i = 1; i < argc; i++) {
    const char *prog = argv[i];
    int found = 0;
    if (strchr(prog, '/')) {
      if (runnable(prog)) {
        bout_outs(o, prog);
        bout_outs(o, "\n");
        found = 1;
      }
    } else {
      /* The script appends ':' to a PATH ending in one ':' after a non-colon, then splits it
       * with IFS=: (each ':' ends a field; a final empty field is dropped). */
      size_t plen = strlen(path);
      int extra = plen >= 2 && path[plen - 1] == ':' && path[plen - 2] != ':';
      const char *p = path, *end = path + plen;
      for (;;) {
        const char *colon = memchr(p, ':', (size_t)(end - p));
        const char *e = colon ? colon : end;
        if (!colon && e == p && !extra) break; /* the dropped final empty field */
        strbuf_reset(&cand);
        if (e == p)
          strbuf_putc(&cand, '.');
        else
          strbuf_append(&cand, p, (size_t)(e - p));
        strbuf_putc(&cand, '/');
        strbuf_puts(&cand, prog);
        if (!strbuf_ok(&cand)) break;
        if (runnable(cand.data)) {
          bout_out(o, cand.data, cand.len);
          bout_outs(o, "\n");
          found = 1;
          break;
        }
        if (!colon) {
          if (!extra) break;
          extra = 0; /* the appended ':' ends one more (empty) field */
          p = end;
          continue;
        }
        p = colon + 1;
      }
    }
    if (!found) all_found = 0;
  }
  int ok = strbuf_ok(&cand);
  strbuf_free(&cand);
  if (!ok) return TN_ENOMEM;
  o->exit_code = all_found ? 0 : 1;
  return TN_OK;
}
