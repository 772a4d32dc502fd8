/* fs.c — file-system calls with an optional root (fs.h).
 *
 * Two resolvers give the same answers (tests/unit/test_fs.c runs every case through both):
 *   openat2   one openat2(root, path, RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS) call; the path seen
 *             inside the root (fs_realpath) is read back from /proc/self/fd and cut at the root's
 *             own path.
 *   walk      component by component from the root: fstatat(AT_SYMLINK_NOFOLLOW) decides; a
 *             symlink's target (readlinkat) is spliced in front of the rest of the path (absolute:
 *             back to the root), ".." pops one directory but never the root, directories are entered
 *             with O_PATH | O_NOFOLLOW | O_DIRECTORY (a directory swapped for a symlink meanwhile
 *             fails instead of being followed), more than 40 links is ELOOP. The result is the
 *             parent directory's descriptor and the final name (opened with O_NOFOLLOW when it was
 *             followed), and the logical path inside the root. */
#include "fs.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "err.h"

#define MAX_LINKS 40

static int root_fd = -1;
static char *root_path;   /* resolved host path of the root, no trailing '/' ("" for "/") */
static int strategy;      /* enum fs_resolve */

const char *fs_root_get(void) { return root_fd >= 0 ? (*root_path ? root_path : "/") : NULL; }
int fs_root_strategy(void) { return root_fd >= 0 ? strategy : FS_RESOLVE_AUTO; }

/* open(2) reads a mode only with O_CREAT or O_TMPFILE (which includes O_DIRECTORY's bit). */
static int takes_mode(int flags) { return (flags & O_CREAT) || (flags & O_TMPFILE) == O_TMPFILE; }

static int openat2_in_root(const char *path, int flags, mode_t mode) {
  struct open_how how = {.flags = (unsigned)flags,
                         .mode = takes_mode(flags) ? mode : 0,
                         .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS};
  return (int)syscall(SYS_openat2, root_fd, path, &how, sizeof how);
}

int fs_root_set(const char *dir, int how, char *err, size_t errlen) {
  if (root_fd >= 0) close(root_fd);
  free(root_path);
  root_fd = -1;
  root_path = NULL;
  if (!dir) return TN_OK;
  char *real = realpath(dir, NULL);
  if (!real) {
    snprintf(err, errlen, "root directory '%s': %s", dir, strerror(errno));
    return TN_EIO;
  }
  int fd = open(real, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) {
    snprintf(err, errlen, "root directory '%s': %s", dir, strerror(errno));
    free(real);
    return TN_EIO;
  }
  if (strcmp(real, "/") == 0) real[0] = '\0';
  root_fd = fd;
  root_path = real;
  strategy = FS_RESOLVE_WALK;
  if (how != FS_RESOLVE_WALK) {
    int probe = openat2_in_root("/", O_PATH | O_CLOEXEC, 0);
    if (probe >= 0) {
      close(probe);
      strategy = FS_RESOLVE_OPENAT2;
    } else if (how == FS_RESOLVE_OPENAT2) {
      snprintf(err, errlen, "openat2(RESOLVE_IN_ROOT) is not available here: %s", strerror(errno));
      fs_root_set(NULL, 0, NULL, 0);
      return TN_EUSAGE;
    }
  }
  return TN_OK;
}

/* ---- the walk ---- */

typedef struct walked {
  int dirfd;     /* owned: the directory holding the final name */
  char *name;    /* owned: the final component, "." when the path names dirfd itself */
  char *logical; /* owned: the path inside the root, from "/" */
} walked;

static void walked_free(walked *w) {
  if (w->dirfd >= 0) close(w->dirfd);
  free(w->name);
  free(w->logical);
}

/* Resolve path inside the root. follow: resolve a final symlink too. A missing final component
 * is not an error here (the caller's operation reports it). Returns 0, or -1 with errno. */
static int walk(const char *path, int follow, walked *out) {
  size_t cap = 16, depth = 0;
  int *fds = malloc(cap * sizeof *fds);
  char *logical = malloc(PATH_MAX + 1), *rest = strdup(path), *link = malloc(PATH_MAX + 1);
  size_t *lens = malloc(cap * sizeof *lens), llen = 0;
  int links = 0, rc = -1, e = 0;
  out->dirfd = -1;
  out->name = out->logical = NULL;
  if (!fds || !logical || !rest || !link || !lens) {
    e = ENOMEM;
    goto done;
  }
  fds[0] = root_fd; /* not owned */
  lens[0] = 0;
  logical[0] = '\0';
  size_t pos = 0;
  for (;;) {
    while (rest[pos] == '/')
      pos++;
    if (!rest[pos]) { /* the path names the current directory */
      out->name = strdup(".");
      break;
    }
    size_t n = strcspn(rest + pos, "/");
    char comp[NAME_MAX + 1];
    if (n > NAME_MAX) {
      e = ENAMETOOLONG;
      goto done;
    }
    memcpy(comp, rest + pos, n);
    comp[n] = '\0';
    pos += n;
    int slash = rest[pos] == '/';
    size_t after = pos;
    while (rest[after] == '/')
      after++;
    int last = !rest[after];
    if (strcmp(comp, ".") == 0) continue;
    if (strcmp(comp, "..") == 0) {
      if (depth) {
        close(fds[depth]);
        depth--;
        llen = lens[depth];
        logical[llen] = '\0';
      }
      continue;
    }
    struct stat st;
    if (fstatat(fds[depth], comp, &st, AT_SYMLINK_NOFOLLOW) != 0) {
      if (last && !slash && errno == ENOENT) {
        out->name = strdup(comp);
        break;
      }
      e = errno;
      goto done;
    }
    if (S_ISLNK(st.st_mode) && (!last || slash || follow)) {
      if (++links > MAX_LINKS) {
        e = ELOOP;
        goto done;
      }
      ssize_t k = readlinkat(fds[depth], comp, link, PATH_MAX);
      if (k < 0) {
        e = errno;
        goto done;
      }
      if (k == 0) {
        e = ENOENT;
        goto done;
      }
      link[k] = '\0';
      size_t tail = strlen(rest + pos); /* "" or "/..." */
      char *nr = malloc((size_t)k + tail + 1);
      if (!nr) {
        e = ENOMEM;
        goto done;
      }
      memcpy(nr, link, (size_t)k);
      memcpy(nr + k, rest + pos, tail + 1);
      free(rest);
      rest = nr;
      pos = 0;
      if (link[0] == '/') { /* absolute: back to the root */
        while (depth)
          close(fds[depth--]);
        llen = 0;
        logical[0] = '\0';
      }
      continue;
    }
    if (last && !slash) {
      out->name = strdup(comp);
      break;
    }
    if (!S_ISDIR(st.st_mode)) {
      e = ENOTDIR;
      goto done;
    }
    if (llen + 1 + n > PATH_MAX) {
      e = ENAMETOOLONG;
      goto done;
    }
    int fd = openat(fds[depth], comp, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) {
      e = errno;
      goto done;
    }
    if (depth + 1 == cap) {
      int *nf = realloc(fds, 2 * cap * sizeof *nf);
      if (nf) fds = nf;
      size_t *nl = realloc(lens, 2 * cap * sizeof *nl);
      if (nl) lens = nl;
      if (!nf || !nl) {
        close(fd);
        e = ENOMEM;
        goto done;
      }
      cap *= 2;
    }
    fds[++depth] = fd;
    logical[llen++] = '/';
    memcpy(logical + llen, comp, n + 1);
    llen += n;
    lens[depth] = llen;
  }
  if (!out->name) {
    e = ENOMEM;
    goto done;
  }
  size_t nn = strcmp(out->name, ".") == 0 ? 0 : strlen(out->name);
  if (!(out->logical = malloc(llen + nn + 2))) {
    e = ENOMEM;
    goto done;
  }
  memcpy(out->logical, logical, llen);
  if (nn) {
    out->logical[llen] = '/';
    memcpy(out->logical + llen + 1, out->name, nn + 1);
  } else {
    strcpy(out->logical + llen, llen ? "" : "/");
  }
  out->dirfd = fcntl(fds[depth], F_DUPFD_CLOEXEC, 0);
  if (out->dirfd < 0) {
    e = errno;
    goto done;
  }
  rc = 0;
done:
  while (fds && depth)
    close(fds[depth--]);
  free(fds);
  free(lens);
  free(logical);
  free(rest);
  free(link);
  if (rc != 0) {
    walked_free(out);
    out->dirfd = -1;
    out->name = out->logical = NULL;
    errno = e;
  }
  return rc;
}

/* Open the final component of a walk (followed: O_NOFOLLOW keeps a swapped-in symlink out). */
static int walk_open(const char *path, int flags, mode_t mode) {
  walked w;
  if (walk(path, !(flags & O_NOFOLLOW), &w) != 0) return -1;
  int fd = openat(w.dirfd, w.name, flags | O_NOFOLLOW, mode);
  int e = errno;
  walked_free(&w);
  errno = e;
  return fd;
}

/* ---- the calls ---- */

int fs_open(const char *path, int flags, ...) {
  mode_t mode = 0;
  if (takes_mode(flags)) {
    va_list ap;
    va_start(ap, flags);
    mode = (mode_t)va_arg(ap, int);
    va_end(ap);
  }
  if (root_fd < 0) return open(path, flags, mode);
  if (strategy == FS_RESOLVE_OPENAT2) return openat2_in_root(path, flags, mode);
  return walk_open(path, flags, mode);
}

/* An O_PATH descriptor of path inside the root (follow: through a final symlink). */
static int open_path(const char *path, int follow) {
  return fs_open(path, O_PATH | O_CLOEXEC | (follow ? 0 : O_NOFOLLOW));
}

static int stat_in_root(const char *path, struct stat *st, int follow) {
  if (strategy == FS_RESOLVE_WALK) {
    walked w;
    if (walk(path, follow, &w) != 0) return -1;
    int rc = fstatat(w.dirfd, w.name, st, AT_SYMLINK_NOFOLLOW), e = errno;
    walked_free(&w);
    errno = e;
    return rc;
  }
  int fd = open_path(path, follow);
  if (fd < 0) return -1;
  int rc = fstat(fd, st), e = errno;
  close(fd);
  errno = e;
  return rc;
}

int fs_stat(const char *path, struct stat *st) {
  return root_fd < 0 ? stat(path, st) : stat_in_root(path, st, 1);
}

int fs_lstat(const char *path, struct stat *st) {
  return root_fd < 0 ? lstat(path, st) : stat_in_root(path, st, 0);
}

int fs_statfs(const char *path, struct statfs *st) {
  if (root_fd < 0) return statfs(path, st);
  int fd = open_path(path, 1);
  if (fd < 0) return -1;
  int rc = fstatfs(fd, st), e = errno;
  close(fd);
  errno = e;
  return rc;
}

/* The logical path of an openat2 descriptor: its host path cut at the root. NULL (errno set)
 * when the host path is not under the root's path (a bind mount): the caller walks instead. */
static char *logical_of(int fd) {
  char proc[64], *host = malloc(PATH_MAX + 1);
  if (!host) return NULL;
  snprintf(proc, sizeof proc, "/proc/self/fd/%d", fd);
  ssize_t k = readlink(proc, host, PATH_MAX);
  size_t rl = strlen(root_path);
  if (k < 0 || (size_t)k < rl || memcmp(host, root_path, rl) != 0 || (host[rl] && host[rl] != '/')) {
    free(host);
    errno = EXDEV;
    return NULL;
  }
  host[k] = '\0';
  char *logical = strdup(host[rl] ? host + rl : "/");
  free(host);
  return logical;
}

char *fs_realpath(const char *path, char *resolved) {
  if (root_fd < 0) return realpath(path, resolved);
  char *logical = NULL;
  if (strategy == FS_RESOLVE_OPENAT2) {
    int fd = open_path(path, 1);
    if (fd < 0) return NULL;
    logical = logical_of(fd);
    close(fd);
  }
  if (!logical) {
    walked w;
    if (walk(path, 1, &w) != 0) return NULL;
    struct stat st;
    if (fstatat(w.dirfd, w.name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
      int e = errno;
      walked_free(&w);
      errno = e;
      return NULL;
    }
    logical = w.logical;
    w.logical = NULL;
    walked_free(&w);
  }
  if (!resolved) return logical;
  if (strlen(logical) >= PATH_MAX) {
    free(logical);
    errno = ENAMETOOLONG;
    return NULL;
  }
  strcpy(resolved, logical);
  free(logical);
  return resolved;
}

FILE *fs_fopen(const char *path, const char *mode) {
  if (root_fd < 0) return fopen(path, mode);
  int flags = O_RDONLY;
  if (mode[0] != 'r') {
    errno = EINVAL;
    return NULL;
  }
  for (const char *m = mode + 1; *m; m++) {
    if (*m == 'e') flags |= O_CLOEXEC;
    else if (*m != 'b') {
      errno = EINVAL;
      return NULL;
    }
  }
  int fd = fs_open(path, flags);
  if (fd < 0) return NULL;
  FILE *f = fdopen(fd, "r");
  if (!f) {
    int e = errno;
    close(fd);
    errno = e;
  }
  return f;
}

DIR *fs_opendir(const char *path) {
  if (root_fd < 0) return opendir(path);
  int fd = fs_open(path, O_RDONLY | O_DIRECTORY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) return NULL;
  DIR *d = fdopendir(fd);
  if (!d) {
    int e = errno;
    close(fd);
    errno = e;
  }
  return d;
}
