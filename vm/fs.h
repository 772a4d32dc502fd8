/* fs.h — the file-system calls of the rule evaluators and the per-scan cache, with an optional
 * root directory (`tenet test` fixture trees, `tenet scan --root DIR` on a mounted image).
 *
 * Every fs_* function takes the same arguments and reports errors the same way (return value and
 * errno) as the libc call it is named after. With no root set they are exactly those libc calls
 * (same syscalls). With a root set, every path is resolved inside the root, symlinks included: an
 * absolute path or absolute symlink target starts at the root, ".." at the root stays at the root,
 * symlink loops give ELOOP — nothing escapes. fs_realpath returns the path as seen inside the root
 * ("/etc/ssh/sshd_config"), so reasons and events read as they would on that host.
 *
 * The root is one process-wide setting (the evaluators reach it without new arguments): set it
 * before a scan starts and clear it after the scan's workers are joined; never change it while a
 * scan runs. Resolution uses openat2(RESOLVE_IN_ROOT) where the kernel has it (Linux >= 5.6, probed
 * by fs_root_set) and a component-by-component walk (openat with O_NOFOLLOW, readlinkat) otherwise. */
#ifndef TENET_FS_H
#define TENET_FS_H

#include <dirent.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/vfs.h>

/* Resolution strategies (fs_root_set picks FS_RESOLVE_AUTO: openat2 when it works, else walk). */
enum fs_resolve { FS_RESOLVE_AUTO = 0, FS_RESOLVE_OPENAT2, FS_RESOLVE_WALK };

/* Make dir the root of every later fs_* call (NULL: no root, plain libc calls). how is an enum
 * fs_resolve (tests force each strategy; FS_RESOLVE_OPENAT2 fails when the kernel lacks it).
 * Returns TN_OK, or TN_EIO / TN_EUSAGE with a message in err (dir missing or not a directory). */
int fs_root_set(const char *dir, int how, char *err, size_t errlen);
/* The root's resolved absolute path, or NULL when none is set. Borrowed; valid until the next
 * fs_root_set. */
const char *fs_root_get(void);
/* The strategy in use (FS_RESOLVE_OPENAT2 or FS_RESOLVE_WALK), or FS_RESOLVE_AUTO with no root. */
int fs_root_strategy(void);

/* realpath(3): resolved NULL returns a malloc'd string the caller frees; else resolved must hold
 * PATH_MAX bytes. */
char *fs_realpath(const char *path, char *resolved);
int fs_stat(const char *path, struct stat *st);
int fs_lstat(const char *path, struct stat *st);
int fs_statfs(const char *path, struct statfs *st);
/* open(2) (mode read only with O_CREAT / O_TMPFILE). */
int fs_open(const char *path, int flags, ...);
/* fopen(3) for reading ("r", "rb", "re", "rbe"); other modes give EINVAL with a root set. */
FILE *fs_fopen(const char *path, const char *mode);
/* opendir(3); close with closedir. */
DIR *fs_opendir(const char *path);

#endif
