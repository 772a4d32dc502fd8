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
  runner_result result; /* see runner.h */
} cache_command;

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
 * TN_EIO when /proc cannot be read, TN_ENOMEM). */
const proclist *scan_cache_get_processes(scan_cache *c, int *status);
void scan_cache_release_processes(scan_cache *c, const proclist *p);

#endif
