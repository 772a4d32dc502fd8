/* proclist.c — the process list read from /proc (see proclist.h). */
#include "proclist.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <locale.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <wchar.h>
#include <wctype.h>

#include "err.h"

/* procps prints a command name in a UTF-8 locale character by character (mbrtowc): a byte that
 * does not start a valid character becomes one '?', a single-byte character that is not
 * printable becomes '?', a multibyte character that iswprint() refuses (C1 controls, U+FFFF,
 * unassigned code points...) becomes one '?', anything else is copied. The host's own C.UTF-8
 * tables are used, as ps would use them. */
static locale_t utf8;
static pthread_once_t utf8_once = PTHREAD_ONCE_INIT;

static void utf8_init(void) {
  static const char *const names[] = {"C.UTF-8", "C.utf8", "en_US.UTF-8", "en_US.utf8"};
  for (size_t i = 0; i < sizeof names / sizeof names[0] && !utf8; i++)
    utf8 = newlocale(LC_CTYPE_MASK, names[i], (locale_t)0);
}

/* Without any UTF-8 locale: RFC 3629 decoding, every valid character printable except the C1
 * controls and U+FFFE/U+FFFF. Returns the character's length, or -1. */
static int fallback_char(const unsigned char *s, size_t n, int *printable) {
  unsigned c = s[0], need, min;
  if (c < 0x80) {
    *printable = c >= 0x20 && c != 0x7f;
    return 1;
  }
  if (c >= 0xc2 && c <= 0xdf)
    need = 1, min = 0x80, c &= 0x1f;
  else if (c >= 0xe0 && c <= 0xef)
    need = 2, min = 0x800, c &= 0x0f;
  else if (c >= 0xf0 && c <= 0xf4)
    need = 3, min = 0x10000, c &= 0x07;
  else
    return -1;
  if (n < need + 1) return -1;
  for (unsigned k = 1; k <= need; k++) {
    if ((s[k] & 0xc0) != 0x80) return -1;
    c = c << 6 | (s[k] & 0x3f);
  }
  if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff)) return -1;
  *printable = !(c >= 0x80 && c <= 0x9f) && c != 0xfffe && c != 0xffff;
  return (int)need + 1;
}

size_t proclist_display_name(const char *comm, size_t n, char *out) {
  const unsigned char *s = (const unsigned char *)comm;
  size_t w = 0, i = 0;
  pthread_once(&utf8_once, utf8_init);
  locale_t old = utf8 ? uselocale(utf8) : (locale_t)0;
  mbstate_t st;
  memset(&st, 0, sizeof st);
  while (i < n && s[i]) {
    size_t k;
    int printable;
    if (utf8) {
      wchar_t wc;
      k = mbrtowc(&wc, comm + i, n - i, &st);
      if (k == (size_t)-1 || k == (size_t)-2 || k == 0) {
        memset(&st, 0, sizeof st);
        k = 1;
        printable = 0;
      } else {
        printable = k == 1 ? isprint(s[i]) != 0 : iswprint((wint_t)wc) != 0;
      }
    } else {
      int r = fallback_char(s + i, n - i, &printable);
      k = r < 0 ? 1 : (size_t)r;
      if (r < 0) printable = 0;
    }
    if (printable) {
      memcpy(out + w, s + i, k);
      w += k;
    } else {
      out[w++] = '?';
    }
    i += k;
  }
  if (utf8) uselocale(old);
  out[w] = '\0';
  size_t lead = 0; /* Wazuh's parser skips the spaces before the CMD text */
  while (lead < w && out[lead] == ' ')
    lead++;
  memmove(out, out + lead, w - lead + 1);
  return w - lead;
}

/* The comm of one process from /proc/PID/stat: between the first '(' and the last ')'.
 * Returns a malloc'd display name, NULL with errno = ESRCH when the process is gone or its stat
 * is unreadable, NULL with errno = ENOMEM. */
static char *read_name(int dirfd, const char *pid) {
  char path[64], buf[1024];
  snprintf(path, sizeof path, "%s/stat", pid);
  int fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) goto gone;
  ssize_t n;
  do
    n = read(fd, buf, sizeof buf - 1);
  while (n < 0 && errno == EINTR);
  close(fd);
  if (n <= 0) goto gone;
  buf[n] = '\0';
  char *open = memchr(buf, '(', (size_t)n);
  char *close_ = NULL;
  for (char *p = buf + n; p > buf;)
    if (*--p == ')') {
      close_ = p;
      break;
    }
  if (!open || !close_ || close_ < open) goto gone;
  size_t len = (size_t)(close_ - open - 1);
  char *name = malloc(len * 4 + 1);
  if (!name) {
    errno = ENOMEM;
    return NULL;
  }
  proclist_display_name(open + 1, len, name);
  return name;
gone:
  errno = ESRCH;
  return NULL;
}

static int by_pid(const void *a, const void *b) {
  const int *x = a, *y = b;
  return (*x > *y) - (*x < *y);
}

int proclist_read(proclist **out) {
  *out = NULL;
  DIR *d = opendir("/proc");
  if (!d) return TN_EIO;
  int *pids = NULL;
  size_t np = 0, cap = 0;
  struct dirent *e;
  while ((e = readdir(d))) {
    const char *s = e->d_name;
    if (!isdigit((unsigned char)*s)) continue;
    char *end;
    long v = strtol(s, &end, 10);
    if (*end || v <= 0 || v > 0x7fffffffL) continue;
    if (np == cap) {
      cap = cap ? cap * 2 : 256;
      int *n = realloc(pids, cap * sizeof *n);
      if (!n) goto oom;
      pids = n;
    }
    pids[np++] = (int)v;
  }
  qsort(pids, np, sizeof *pids, by_pid);

  proclist *pl = calloc(1, sizeof *pl);
  if (!pl) goto oom;
  pl->name = malloc((np ? np : 1) * sizeof *pl->name);
  pl->pid = malloc((np ? np : 1) * sizeof *pl->pid);
  if (!pl->name || !pl->pid) {
    proclist_free(pl);
    goto oom;
  }
  for (size_t i = 0; i < np; i++) {
    char num[16];
    snprintf(num, sizeof num, "%d", pids[i]);
    char *name = read_name(dirfd(d), num);
    if (!name) {
      if (errno == ENOMEM) {
        proclist_free(pl);
        goto oom;
      }
      continue; /* it ended meanwhile */
    }
    pl->name[pl->n] = name;
    pl->pid[pl->n++] = pids[i];
  }
  free(pids);
  closedir(d);
  *out = pl;
  return TN_OK;
oom:
  free(pids);
  closedir(d);
  return TN_ENOMEM;
}

void proclist_free(proclist *p) {
  if (!p) return;
  for (size_t i = 0; i < p->n; i++)
    free(p->name[i]);
  free(p->name);
  free(p->pid);
  free(p);
}
