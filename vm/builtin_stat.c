/* builtin_stat.c — GNU coreutils 9.1 `stat` answered with statx(2) (tests/unit/test_builtin_stat.c
 * proves it against the real program on files of every type, owners, modes and unusual names).
 *
 * Accepted: `-L`/`--dereference`, `-c FMT`/`-cFMT`/`--format=FMT` (options may be clustered, as
 * in `-Lc`, and may follow the operands, as GNU getopt permutes them), one or more PATHs. With a
 * format each PATH prints FMT expanded and "\n"; without one, the default multi-line report.
 * Directives: %a %A %b %B %d %D %f %F %g %G %h %i %n %o %s %t %T %u %U %w %W %x %X %y %Y %z %Z
 * %Hd %Ld %Hr %Lr %%, with the flags - 0 # and a width / precision (not on times).
 * A PATH that cannot be stat'ed prints "ARGV0: cannot statx 'PATH': <strerror>" on stderr and
 * makes the exit status 1. stat flushes stdout after every PATH, so the merged stream is in
 * PATH order. Times are local times (TZ, as the program reads it).
 * Declines: other options or directives (%N, %m, %C, ...), `--`, a PATH the messages would quote
 * or escape in a way not reproduced here, SELinux enabled (the report would gain "Context:"). */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <inttypes.h>
#include <pwd.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

#include "builtin_int.h"
#include "err.h"

#define DEFAULT_HEAD "  File: %N\n  Size: %-10s\tBlocks: %-10b IO Block: %-6o %F\n"
#define DEFAULT_DEV "Device: %Hd,%Ld\tInode: %-11i Links: %-5h Device type: %Hr,%Lr\n"
#define DEFAULT_NODEV "Device: %Hd,%Ld\tInode: %-11i Links: %h\n"
#define DEFAULT_TAIL                                                                                         \
  "Access: (%04a/%10.10A)  Uid: (%5u/%8U)   Gid: (%5g/%8G)\nAccess: %x\nModify: %y\nChange: %z\n Birth: "    \
  "%w\n"

typedef struct target {
  const char *name;
  struct statx sx;
  int deref;
  int in_default; /* %N prints the plain name (and " -> target" for a symlink) */
} target;

/* Printable ASCII without quotes or backslash: quoted as 'name' in messages, printed as is in
 * the default report. */
static int plain_name(const char *s) {
  for (; *s; s++)
    if ((unsigned char)*s < 0x20 || (unsigned char)*s > 0x7e || *s == '\'' || *s == '\\' || *s == '"')
      return 0;
  return 1;
}

static const char *file_type(const struct statx *x) {
  switch (x->stx_mode & S_IFMT) {
  case S_IFREG: return x->stx_size == 0 ? "regular empty file" : "regular file";
  case S_IFDIR: return "directory";
  case S_IFLNK: return "symbolic link";
  case S_IFIFO: return "fifo";
  case S_IFSOCK: return "socket";
  case S_IFCHR: return "character special file";
  case S_IFBLK: return "block special file";
  default: return "weird file";
  }
}

static void mode_string(unsigned m, char out[11]) {
  switch (m & S_IFMT) {
  case S_IFREG: out[0] = '-'; break;
  case S_IFDIR: out[0] = 'd'; break;
  case S_IFLNK: out[0] = 'l'; break;
  case S_IFIFO: out[0] = 'p'; break;
  case S_IFSOCK: out[0] = 's'; break;
  case S_IFCHR: out[0] = 'c'; break;
  case S_IFBLK: out[0] = 'b'; break;
  default: out[0] = '?';
  }
  out[1] = m & S_IRUSR ? 'r' : '-';
  out[2] = m & S_IWUSR ? 'w' : '-';
  out[3] = m & S_ISUID ? (m & S_IXUSR ? 's' : 'S') : (m & S_IXUSR ? 'x' : '-');
  out[4] = m & S_IRGRP ? 'r' : '-';
  out[5] = m & S_IWGRP ? 'w' : '-';
  out[6] = m & S_ISGID ? (m & S_IXGRP ? 's' : 'S') : (m & S_IXGRP ? 'x' : '-');
  out[7] = m & S_IROTH ? 'r' : '-';
  out[8] = m & S_IWOTH ? 'w' : '-';
  out[9] = m & S_ISVTX ? (m & S_IXOTH ? 't' : 'T') : (m & S_IXOTH ? 'x' : '-');
  out[10] = 0;
}

static int user_name(uid_t u, char *buf, size_t cap) {
  struct passwd pw, *res = NULL;
  char tmp[4096];
  if (getpwuid_r(u, &pw, tmp, sizeof tmp, &res) != 0 || !res) return 0;
  snprintf(buf, cap, "%s", pw.pw_name);
  return 1;
}

static int group_name(gid_t g, char *buf, size_t cap) {
  struct group gr, *res = NULL;
  char tmp[4096];
  if (getgrgid_r(g, &gr, tmp, sizeof tmp, &res) != 0 || !res) return 0;
  snprintf(buf, cap, "%s", gr.gr_name);
  return 1;
}

/* "YYYY-MM-DD HH:MM:SS.NNNNNNNNN +ZZZZ" in local time. */
static int human_time(const struct statx_timestamp *t, char *buf, size_t cap) {
  time_t s = (time_t)t->tv_sec;
  struct tm tm;
  if (!localtime_r(&s, &tm)) return 0;
  long off = tm.tm_gmtoff;
  char sign = off < 0 ? '-' : '+';
  if (off < 0) off = -off;
  snprintf(buf, cap, "%04d-%02d-%02d %02d:%02d:%02d.%09u %c%02ld%02ld", tm.tm_year + 1900, tm.tm_mon + 1,
           tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, t->tv_nsec, sign, off / 3600, (off / 60) % 60);
  return tm.tm_year + 1900 >= 0 && tm.tm_year + 1900 <= 9999;
}

/* Print one value with the directive's flags/width/precision (spec, printf syntax without the
 * conversion) and conversion kind: 's' string, 'u' unsigned, 'd' signed, 'o' octal, 'x' hex. */
static void put(strbuf *b, const char *spec, char kind, const char *s, uint64_t u, int64_t d) {
  char f[64];
  size_t n = 0;
  f[n++] = '%';
  const char *p = spec;
  for (; (*p == '-' || *p == '0' || *p == '#') && n < sizeof f - 8; p++) { /* flags */
    if ((*p == '#' || *p == '0') && kind == 's') continue;
    if (*p == '#' && (kind == 'd' || kind == 'u')) continue;
    f[n++] = *p;
  }
  for (; *p && n < sizeof f - 8; p++) /* width and precision */
    f[n++] = *p;
  f[n] = 0;
  switch (kind) {
  case 's':
    strcat(f, "s");
    strbuf_printf(b, f, s);
    break;
  case 'u':
    strcat(f, PRIu64);
    strbuf_printf(b, f, u);
    break;
  case 'o':
    strcat(f, PRIo64);
    strbuf_printf(b, f, u);
    break;
  case 'x':
    strcat(f, PRIx64);
    strbuf_printf(b, f, u);
    break;
  default:
    strcat(f, PRId64);
    strbuf_printf(b, f, d);
    break;
  }
}

/* Expand fmt for one target into b. Returns 0 when a directive is not reproduced here. */
static int expand(strbuf *b, const char *fmt, const target *t) {
  const struct statx *x = &t->sx;
  for (const char *p = fmt; *p; p++) {
    if (*p != '%') {
      strbuf_putc(b, *p);
      continue;
    }
    const char *start = ++p;
    while (*p == '-' || *p == '0' || *p == '#')
      p++;
    while (*p >= '0' && *p <= '9')
      p++;
    int has_prec = *p == '.';
    if (has_prec) {
      p++;
      while (*p >= '0' && *p <= '9')
        p++;
    }
    char mod = 0;
    if (*p == 'H' || *p == 'L') mod = *p++;
    char conv = *p;
    size_t slen = (size_t)((mod ? p - 1 : p) - start);
    char spec[32];
    if (slen >= sizeof spec) return 0;
    memcpy(spec, start, slen);
    spec[slen] = 0;
    if (mod && conv != 'd' && conv != 'r') return 0;
    char tmp[512];
    uint64_t dev = makedev(x->stx_dev_major, x->stx_dev_minor);
    switch (conv) {
    case '%':
      if (slen) return 0;
      strbuf_putc(b, '%');
      break;
    case 'n': put(b, spec, 's', t->name, 0, 0); break;
    case 'N': {
      if (!t->in_default || slen) return 0;
      strbuf_puts(b, t->name);
      if (S_ISLNK(x->stx_mode)) {
        ssize_t l = readlink(t->name, tmp, sizeof tmp - 1);
        if (l < 0 || (size_t)l >= sizeof tmp - 1) return 0;
        tmp[l] = 0;
        if (!plain_name(tmp)) return 0;
        strbuf_puts(b, " -> ");
        strbuf_puts(b, tmp);
      }
      break;
    }
    case 'a': put(b, spec, 'o', NULL, x->stx_mode & 07777, 0); break;
    case 'A':
      mode_string(x->stx_mode, tmp);
      put(b, spec, 's', tmp, 0, 0);
      break;
    case 'f': put(b, spec, 'x', NULL, x->stx_mode, 0); break;
    case 'F': put(b, spec, 's', file_type(x), 0, 0); break;
    case 'h': put(b, spec, 'u', NULL, x->stx_nlink, 0); break;
    case 'i': put(b, spec, 'u', NULL, x->stx_ino, 0); break;
    case 's': put(b, spec, 'd', NULL, 0, (int64_t)x->stx_size); break;
    case 'b': put(b, spec, 'u', NULL, x->stx_blocks, 0); break;
    case 'B': put(b, spec, 'u', NULL, 512, 0); break;
    case 'o': put(b, spec, 'u', NULL, x->stx_blksize, 0); break;
    case 'u': put(b, spec, 'u', NULL, x->stx_uid, 0); break;
    case 'g': put(b, spec, 'u', NULL, x->stx_gid, 0); break;
    case 'U': put(b, spec, 's', user_name(x->stx_uid, tmp, sizeof tmp) ? tmp : "UNKNOWN", 0, 0); break;
    case 'G': put(b, spec, 's', group_name(x->stx_gid, tmp, sizeof tmp) ? tmp : "UNKNOWN", 0, 0); break;
    case 'd':
      if (mod == 'H')
        put(b, spec, 'u', NULL, x->stx_dev_major, 0);
      else if (mod == 'L')
        put(b, spec, 'u', NULL, x->stx_dev_minor, 0);
      else
        put(b, spec, 'u', NULL, dev, 0);
      break;
    case 'D': put(b, spec, 'x', NULL, dev, 0); break;
    case 'r':
      if (mod == 'H')
        put(b, spec, 'u', NULL, x->stx_rdev_major, 0);
      else if (mod == 'L')
        put(b, spec, 'u', NULL, x->stx_rdev_minor, 0);
      else
        return 0;
      break;
    case 't': put(b, spec, 'x', NULL, x->stx_rdev_major, 0); break;
    case 'T': put(b, spec, 'x', NULL, x->stx_rdev_minor, 0); break;
    case 'w':
    case 'x':
    case 'y':
    case 'z': {
      if (has_prec) return 0;
      const struct statx_timestamp *ts = conv == 'w'   ? &x->stx_btime
                                         : conv == 'x' ? &x->stx_atime
                                         : conv == 'y' ? &x->stx_mtime
                                                       : &x->stx_ctime;
      if (conv == 'w' && !(x->stx_mask & STATX_BTIME)) {
        put(b, spec, 's', "-", 0, 0);
      } else {
        if (!human_time(ts, tmp, sizeof tmp)) return 0;
        put(b, spec, 's', tmp, 0, 0);
      }
      break;
    }
    case 'W':
    case 'X':
    case 'Y':
    case 'Z': {
      if (has_prec) return 0;
      const struct statx_timestamp *ts = conv == 'W'   ? &x->stx_btime
                                         : conv == 'X' ? &x->stx_atime
                                         : conv == 'Y' ? &x->stx_mtime
                                                       : &x->stx_ctime;
      int64_t v = conv == 'W' && !(x->stx_mask & STATX_BTIME) ? 0 : ts->tv_sec;
      put(b, spec, 'd', NULL, 0, v);
      break;
    }
    default: return 0; /* %N in formats, %m, %C, unknown letters, a lone % at the end */
    }
  }
  return 1;
}

int builtin_stat_run(char *const *argv, size_t argc, bout *o) {
  int deref = 0;
  const char *fmt = NULL;
  size_t nops = 0;
  char *const *ops[64];
  for (size_t i = 1; i < argc; i++) {
    const char *a = argv[i];
    if (a[0] != '-' || !a[1]) {
      if (nops == sizeof ops / sizeof ops[0]) return TN_ENOTFOUND;
      ops[nops++] = &argv[i];
      continue;
    }
    if (a[1] == '-') {
      if (!strcmp(a, "--dereference"))
        deref = 1;
      else if (!strncmp(a, "--format=", 9))
        fmt = a + 9;
      else
        return TN_ENOTFOUND;
      continue;
    }
    for (const char *c = a + 1; *c; c++) {
      if (*c == 'L') {
        deref = 1;
      } else if (*c == 'c') {
        if (c[1])
          fmt = c + 1;
        else if (i + 1 < argc)
          fmt = argv[++i];
        else
          return TN_ENOTFOUND;
        break;
      } else {
        return TN_ENOTFOUND;
      }
    }
  }
  if (!nops || access("/sys/fs/selinux/enforce", F_OK) == 0) return TN_ENOTFOUND;

  strbuf pending = STRBUF_INIT;
  int failures = 0, rc = TN_OK;
  tzset();
  for (size_t k = 0; k < nops && rc == TN_OK; k++) {
    strbuf_reset(&pending);
    target t = {.name = *ops[k], .deref = deref, .in_default = fmt == NULL};
    unsigned mask = STATX_BASIC_STATS | STATX_BTIME;
    int flags = AT_NO_AUTOMOUNT | (deref ? 0 : AT_SYMLINK_NOFOLLOW);
    if (!*t.name || !strcmp(t.name, "-") || !plain_name(t.name)) {
      rc = TN_ENOTFOUND;
      break;
    }
    if (statx(AT_FDCWD, t.name, flags, mask, &t.sx) != 0) {
      const char *why = strerrordesc_np(errno);
      if (!why) {
        rc = TN_ENOTFOUND;
        break;
      }
      bout_errf(o, "%s: cannot statx '%s': %s\n", argv[0], t.name, why);
      failures++;
      continue;
    }
    if (fmt) {
      if (!expand(&pending, fmt, &t)) rc = TN_ENOTFOUND;
      strbuf_putc(&pending, '\n');
    } else {
      int dev = S_ISCHR(t.sx.stx_mode) || S_ISBLK(t.sx.stx_mode);
      if (!expand(&pending, DEFAULT_HEAD, &t) || !expand(&pending, dev ? DEFAULT_DEV : DEFAULT_NODEV, &t) ||
          !expand(&pending, DEFAULT_TAIL, &t))
        rc = TN_ENOTFOUND;
    }
    if (rc == TN_OK && !strbuf_ok(&pending)) rc = TN_ENOMEM;
    if (rc == TN_OK) bout_out(o, pending.data, pending.len); /* flushed per PATH */
  }
  strbuf_free(&pending);
  o->exit_code = failures ? 1 : 0;
  return rc;
}
