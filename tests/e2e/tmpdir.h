/* tmpdir.h — temporary directories and small files for the daemon tests (header only). A test
 * makes a directory under $TMPDIR (or /tmp) and removes it at the end unless TENET_KEEP_TMP is set
 * (then its path is printed, to look at the databases and logs). */
#ifndef TENET_TEST_TMPDIR_H
#define TENET_TEST_TMPDIR_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <ftw.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static inline int tmp_rm_(const char *path, const struct stat *sb, int flag, struct FTW *ftw) {
  (void)sb;
  (void)flag;
  (void)ftw;
  return remove(path);
}

/* A new directory "<TMPDIR>/tenet-<tag>-XXXXXX" (path written into out). Aborts on failure. */
static inline void tmp_make(const char *tag, char *out, size_t cap) {
  const char *base = getenv("TMPDIR");
  snprintf(out, cap, "%s/tenet-%s-XXXXXX", base && *base ? base : "/tmp", tag);
  if (!mkdtemp(out)) {
    perror("mkdtemp");
    abort();
  }
}

/* Remove a directory tree made by tmp_make (kept when TENET_KEEP_TMP is set). */
static inline void tmp_remove(const char *dir) {
  if (getenv("TENET_KEEP_TMP")) {
    fprintf(stderr, "kept %s\n", dir);
    return;
  }
  nftw(dir, tmp_rm_, 16, FTW_DEPTH | FTW_PHYS);
}

/* Write a file from a printf format (aborts on failure). */
static inline void tmp_write(const char *path, const char *fmt, ...) {
  FILE *f = fopen(path, "w");
  if (!f) {
    perror(path);
    abort();
  }
  va_list ap;
  va_start(ap, fmt);
  vfprintf(f, fmt, ap);
  va_end(ap);
  fclose(f);
}

/* The whole file as a malloc'd string (NULL when it cannot be read). */
static inline char *tmp_read(const char *path) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  size_t cap = 4096, n = 0;
  char *buf = malloc(cap);
  size_t r;
  while (buf && (r = fread(buf + n, 1, cap - n - 1, f)) > 0) {
    n += r;
    if (cap - n - 1 == 0) {
      char *nb = realloc(buf, cap * 2);
      if (!nb) {
        free(buf);
        buf = NULL;
        break;
      }
      buf = nb;
      cap *= 2;
    }
  }
  fclose(f);
  if (buf) buf[n] = '\0';
  return buf;
}

/* Occurrences of needle in the file at path (0 when unreadable). */
static inline int tmp_count(const char *path, const char *needle) {
  char *s = tmp_read(path);
  int n = 0;
  for (const char *p = s; p && (p = strstr(p, needle)); p += strlen(needle))
    n++;
  free(s);
  return n;
}

#endif
