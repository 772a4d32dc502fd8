/* cache.h — the per-scan cache shared by all workers: each distinct command runs once, each file is
 * read once and the process list is built once per scan. Lookups of a key another worker is
 * already producing wait for it (in-flight de-duplication), so two workers never run the same
 * command at the same time. A cache created with enabled=0 passes every request through (used by
 * `tenet scan --no-cache` and the benchmarks). */
#ifndef TENET_CACHE_H
#define TENET_CACHE_H

#include <stddef.h>

#include "proclist.h"
#include "runner.h"

typedef struct scan_cache scan_cache;

/* New cache (enabled: 1 cache, 0 pass through). NULL on allocation failure. */
scan_cache *scan_cache_new(int enabled);
/* Free the cache and everything it holds. NULL is a no-op. */
void scan_cache_free(scan_cache *c);

/* The cap on the bytes of file contents and command outputs the cache holds at once (default
 * SCAN_CACHE_BYTES_MAX, 128 MiB). A result that would pass it is not kept: the rule that asked
 * for it gets it, and every later rule asking for the same command or file runs or reads it
 * again (a re-run command gives what a --no-cache scan would). Set it before the scan starts. */
#define SCAN_CACHE_BYTES_MAX ((size_t)128 << 20)
void scan_cache_set_limit(scan_cache *c, size_t bytes);
/* The payload bytes held now (tests). */
size_t scan_cache_bytes_held(scan_cache *c);

/* The scan's time budget: seconds from this call (<= 0: none, the default of a new cache). Once
 * it has run out, rules that would still read a file's content or run a command are not
 * applicable with the reason scan_cache_budget_reason gives ("Scan time budget of N s exceeded:
 * not evaluated"), a file being read stops, and a command is given no more than the time left.
 * `tenet scan --scan-budget` and the agent's scan_budget option set it (default 600 s). */
#define SCAN_CACHE_BUDGET_DEFAULT 600
void scan_cache_set_budget(scan_cache *c, int seconds);
int scan_cache_over_budget(const scan_cache *c);
const char *scan_cache_budget_reason(const scan_cache *c); /* borrowed from the cache */

/* Counters (for tests and benchmarks): commands actually executed, files actually read. */
size_t scan_cache_commands_run(const scan_cache *c);
size_t scan_cache_files_read(const scan_cache *c);
/* Requests answered from the cache without producing anything (commands, files, directories). */
size_t scan_cache_hits(const scan_cache *c);

/* Per-command cost (`tenet bench`): when set, fn is called after every command the cache runs, from
 * the worker that ran it, with the command, its wall time and the CPU its children used (the
 * RUSAGE_CHILDREN delta around it: exact only when no other command runs at the same time, i.e.
 * with one worker). Set it before the scan starts; fn NULL turns it off. */
typedef void (*scan_cache_cost_fn)(void *arg, const char *cmd, double wall_s, double children_cpu_s);
void scan_cache_set_cost_hook(scan_cache *c, scan_cache_cost_fn fn, void *arg);

/* Providers: stand-ins for this host's commands and processes, for scans of something other than
 * this host (`tenet test` answers from a test case, `tenet scan --root` runs commands chrooted).
 * Set them before the scan starts; they may be called from several workers at once (each distinct
 * command and the process list still only once per scan when the cache is enabled).
 *
 * A command provider either fills *out and returns TN_OK (out->output malloc'd, then owned by the
 * cache), or declines with a status other than TN_OK and a malloc'd *reason (owned by the cache):
 * every c: rule running that command is then not applicable with that reason. A processes
 * provider returns TN_OK with *out (owned by the cache), or declines the same way: p: rules are
 * not applicable with the reason. fn NULL restores this host's commands or processes. */
typedef int (*scan_cache_command_fn)(void *arg, const char *cmd, int timeout_s, size_t output_cap,
                                     runner_result *out, char **reason);
typedef int (*scan_cache_processes_fn)(void *arg, proclist **out, char **reason);
void scan_cache_set_command_provider(scan_cache *c, scan_cache_command_fn fn, void *arg);
void scan_cache_set_processes_provider(scan_cache *c, scan_cache_processes_fn fn, void *arg);

#endif
