/* cache.h — the per-scan cache shared by all workers: each distinct command runs once, each file is
 * read once and the process list is built once per scan. Lookups of a key another worker is
 * already producing wait for it (in-flight de-duplication), so two workers never run the same
 * command at the same time. A cache created with enabled=0 passes every request through (used by
 * `tenet scan --no-cache` and the benchmarks). */
#ifndef TENET_CACHE_H
#define TENET_CACHE_H

#include <stddef.h>

typedef struct scan_cache scan_cache;

/* New cache (enabled: 1 cache, 0 pass through). NULL on allocation failure. */
scan_cache *scan_cache_new(int enabled);
/* Free the cache and everything it holds. NULL is a no-op. */
void scan_cache_free(scan_cache *c);

/* Counters (for tests and benchmarks): commands actually executed, files actually read. */
size_t scan_cache_commands_run(const scan_cache *c);
size_t scan_cache_files_read(const scan_cache *c);

#endif
