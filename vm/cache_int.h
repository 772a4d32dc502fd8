/* cache_int.h — lookups in the per-scan cache (cache.h), for the rule evaluators.
 *
 * Every lookup returns an entry the caller must hand back with the matching release call once it
 * is done with it. With a caching scan_cache the entry lives as long as the cache (release does
 * nothing); with a pass-through cache (enabled=0) each lookup produces a fresh entry and release
 * frees it. A lookup of a key another thread is producing waits for that result. Entries are
 * read-only for the caller. */
#ifndef TENET_CACHE_INT_H
#define TENET_CACHE_INT_H

#include <stddef.h>

#include "cache.h"
#include "proclist.h"
#include "runner.h"

/* Files larger than this are not held in memory: the evaluator reads them as a stream. */
#define CACHE_FILE_MAX ((size_t)16 << 20)

typedef struct cache_file {
  int err;          /* 0, or the errno of opening the file (Wazuh's fopen failure) */
  int too_big;      /* longer than CACHE_FILE_MAX: data is NULL, read the path as a stream */
  const char *data; /* the bytes up to end of file or the first read error (NUL-terminated) */
  size_t len;
} cache_file;

typedef struct cache_command {
  int status;           /* TN_OK: result is valid; TN_EEXEC: the child could not be started;
                           TN_ENOMEM */
  int error;            /* errno for TN_EEXEC */
  char *reason;         /* a provider declined to produce the output (cache.h): why; else NULL */
  runner_result result; /* see runner.h */
} cache_command;

/* One entry of a directory listing: its name and the outcome of lstat("<dir as written>/<name>",
 * the path cut at PATH_MAX bytes as Wazuh's buffer cuts it). */
typedef struct cache_dirent {
  char *name;
  int lstat_err; /* 0, or the errno of lstat */
  unsigned mode; /* st_mode when lstat succeeded */
} cache_dirent;

/* A directory as a d: walk sees it: realpath, opendir, then every entry but "." and ".." in
 * readdir order. */
typedef struct cache_dir {
  int real_err;        /* 0, or the errno of realpath */
  int open_err;        /* 0, or the errno of opendir */
  int oom;             /* listing incomplete: out of memory */
  cache_dirent *ents;
  size_t n;
} cache_dir;

/* The listing of dir (as written in the rule, or built by the walk), made once per scan, so the
 * d: rules that walk the same tree (e.g. twelve walks of /etc in the CIS policies) list it once.
 * Returns NULL only on allocation failure. */
const cache_dir *scan_cache_get_dir(scan_cache *c, const char *dir);
void scan_cache_release_dir(scan_cache *c, const cache_dir *d);

/* The content of the file at path (the resolved path), read once per scan.
 * Returns NULL only on allocation failure. */
const cache_file *scan_cache_get_file(scan_cache *c, const char *path);
void scan_cache_release_file(scan_cache *c, const cache_file *f);

/* The outcome of running cmd (the command after variable substitution), run once per scan.
 * timeout_s and output_cap are those of the first request for that command.
 * Returns NULL only on allocation failure. */
const cache_command *scan_cache_get_command(scan_cache *c, const char *cmd, int timeout_s, size_t output_cap);
void scan_cache_release_command(scan_cache *c, const cache_command *r);

/* The process list, built once per scan. NULL when it cannot be built (*status says why:
 * TN_EIO when /proc cannot be read, TN_ENOMEM, or the status of a declining provider). */
const proclist *scan_cache_get_processes(scan_cache *c, int *status);
/* Why a processes provider declined to give a list (borrowed from the cache), or NULL: call
 * after scan_cache_get_processes returned NULL. */
const char *scan_cache_processes_reason(scan_cache *c);
void scan_cache_release_processes(scan_cache *c, const proclist *p);

#endif
