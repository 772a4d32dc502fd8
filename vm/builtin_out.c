/* builtin_out.c — the output helpers the builtins share (builtin_int.h): the merged, stdout and
 * stderr streams of a builtin's answer, glibc's exit-time flush order, and the package-name test.
 * A file of its own so the builtins call down into it and the dispatcher calls down into them. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "builtin_int.h"


void bout_out(bout *o, const char *s, size_t n) {
  strbuf_append(&o->all, s, n);
  strbuf_append(&o->out, s, n);
}

void bout_err(bout *o, const char *s, size_t n) {
  strbuf_append(&o->all, s, n);
  strbuf_append(&o->err, s, n);
}

void bout_outs(bout *o, const char *s) { bout_out(o, s, strlen(s)); }
void bout_errs(bout *o, const char *s) { bout_err(o, s, strlen(s)); }

static void vput(bout *o, int to_err, const char *fmt, va_list ap) {
  strbuf t = STRBUF_INIT;
  strbuf_vprintf(&t, fmt, ap);
  if (!strbuf_ok(&t)) {
    o->all.oom = 1;
  } else if (t.len) {
    (to_err ? bout_err : bout_out)(o, t.data, t.len);
  }
  strbuf_free(&t);
}

void bout_outf(bout *o, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vput(o, 0, fmt, ap);
  va_end(ap);
}

void bout_errf(bout *o, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vput(o, 1, fmt, ap);
  va_end(ap);
}

#define PIPE_BUF_STDIO 4096 /* glibc's stdout buffer on a pipe (st_blksize) */

int bout_flush_at_exit(bout *o, strbuf *pending) {
  if (!strbuf_ok(pending)) {
    o->all.oom = 1;
    return 1;
  }
  if (pending->len > PIPE_BUF_STDIO && o->err.len) return 0;
  if (pending->len) bout_out(o, pending->data, pending->len);
  return 1;
}

int builtin_pkg_name_ok(const char *s) {
  if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9')) || !s[1]) return 0;
  for (; *s; s++)
    if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '+' || *s == '-' || *s == '.'))
      return 0;
  return 1;
}

