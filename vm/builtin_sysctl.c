/* builtin_sysctl.c — procps-ng 4.0.2 `sysctl KEY...` / `sysctl -n KEY...` answered from /proc/sys
 * (tests/unit/test_builtin_sysctl.c proves it against the real program on every key of this host).
 *
 * Each KEY (dots, as written) reads /proc/sys/<KEY with dots as slashes>; every line of the value
 * prints as "KEY = line" ("line" alone with -n). The program writes as it goes, so the merged
 * stream is in key order. A missing key prints "sysctl: cannot stat /proc/sys/<path>: No such
 * file or directory"; a key without read permission bits prints nothing; a key whose read fails
 * with EIO (net.ipv6.conf.*.stable_secret) prints nothing. The exit status counts the failures.
 * Declines: any other option, a key with '/' or an empty key, a directory (sysctl lists it), a key
 * that cannot be opened or read otherwise, an empty value, lines of 1000 bytes or more (procps
 * reads in fixed chunks), a value not ending in a newline. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "builtin_int.h"
#include "err.h"

#define VALUE_MAX 65536
#define LINE_MAX_OK 1000

static int key_ok(const char *k) {
  if (!((*k >= 'a' && *k <= 'z') || (*k >= 'A' && *k <= 'Z') || (*k >= '0' && *k <= '9'))) return 0;
  for (; *k; k++)
    if (!((*k >= 'a' && *k <= 'z') || (*k >= 'A' && *k <= 'Z') || (*k >= '0' && *k <= '9') || *k == '_' ||
          *k == '-' || *k == '.'))
      return 0;
  return 1;
}

/* One key. Returns TN_OK (maybe setting *failed), TN_ENOTFOUND to decline. */
static int one(const char *key, int names, bout *o, int *failed) {
  char path[512] = "/proc/sys/";
  size_t pl = strlen(path), kl = strlen(key);
  if (pl + kl + 1 > sizeof path) return TN_ENOTFOUND;
  for (size_t i = 0; i <= kl; i++)
    path[pl + i] = key[i] == '.' ? '/' : key[i];
  struct stat st;
  if (stat(path, &st) != 0) {
    if (errno != ENOENT) return TN_ENOTFOUND;
    bout_errf(o, "sysctl: cannot stat %s: No such file or directory\n", path);
    (*failed)++;
    return TN_OK;
  }
  if (S_ISDIR(st.st_mode) || !S_ISREG(st.st_mode)) return TN_ENOTFOUND;
  if (!(st.st_mode & S_IRUSR)) return TN_OK; /* write-only: skipped silently */
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return TN_ENOTFOUND;
  char buf[VALUE_MAX];
  size_t n = 0;
  for (;;) {
    ssize_t r = read(fd, buf + n, sizeof buf - 1 - n);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) {
      int e = errno;
      close(fd);
      if (e == EIO && n == 0) {
        (*failed)++;
        return TN_OK;
      }
      return TN_ENOTFOUND;
    }
    if (r == 0) break;
    n += (size_t)r;
    if (n == sizeof buf - 1) {
      close(fd);
      return TN_ENOTFOUND;
    }
  }
  close(fd);
  if (n == 0 || buf[n - 1] != '\n') return TN_ENOTFOUND;
  for (size_t s = 0; s < n;) {
    const char *nl = memchr(buf + s, '\n', n - s);
    size_t len = (size_t)(nl - (buf + s)) + 1;
    if (len >= LINE_MAX_OK || memchr(buf + s, 0, len)) return TN_ENOTFOUND;
    if (names) bout_outf(o, "%s = ", key);
    bout_out(o, buf + s, len);
    s += len;
  }
  return TN_OK;
}

int builtin_sysctl_run(char *const *argv, size_t argc, bout *o) {
  int names = 1;
  size_t i = 1;
  if (i < argc && !strcmp(argv[i], "-n")) {
    names = 0;
    i++;
  }
  if (i == argc) return TN_ENOTFOUND;
  for (size_t k = i; k < argc; k++)
    if (!key_ok(argv[k])) return TN_ENOTFOUND;
  int failed = 0;
  for (size_t k = i; k < argc; k++) {
    int rc = one(argv[k], names, o, &failed);
    if (rc != TN_OK) return rc;
  }
  if (failed > 200) return TN_ENOTFOUND; /* the exit status is the count of failures */
  o->exit_code = failed;
  return TN_OK;
}
