/* scan.h — running a whole policy on this host: requirements, then every check on a small worker
 * pool sharing one per-scan cache, then structured check results (result, reason, evidence, the
 * check's metadata through the program), the Wazuh-shaped events rendered from them, the summary
 * and the results hash. Renderers of other formats read the structs (vm/report.h), never the JSON. */
#ifndef TENET_SCAN_H
#define TENET_SCAN_H

#include <stddef.h>
#include <stdint.h>

#include "cache.h"
#include "eval.h"
#include "vm.h"

typedef void (*scan_progress_fn)(void *arg, size_t done, size_t total);

typedef struct scan_options {
  int jobs;               /* workers; <= 0: one per online CPU */
  eval_options eval;
  scan_progress_fn progress; /* may be NULL; called from workers, serialised by the scanner */
  void *progress_arg;
  int64_t scan_id;        /* < 0: draw a random non-negative id (Wazuh's scan id) */
} scan_options;

enum scan_status {
  SCAN_DONE = 0,          /* checks evaluated; events and summary rendered */
  SCAN_REQUIREMENTS_UNMET,/* 4.x: policy skipped, no events, no summary (SCA-SEMANTICS §3.3) */
  SCAN_NOT_RUNNABLE,      /* uses Windows registry rules on a non-Windows host */
};

typedef struct check_result {
  int64_t id;     /* the check's key (vm/checkid.h): its integer id, or the key of its text id */
  const char *id_text; /* a 5.x text id (`"s5"`), borrowed from the program; NULL for an integer
                          id. What outputs show: checkid_show(id, id_text, buf) */
  uint32_t index; /* the check in the program: prog->checks[index] (metadata: scan_check_meta) */
  int result;     /* EV_FOUND (passed), EV_NOT_FOUND (failed), EV_INVALID (not applicable),
                     EV_NOT_RUN (5.x: not run — a command timed out, no decision; no reason) */
  char *reason;   /* EV_INVALID only: the first reason set, or "Unknown reason"; else NULL */
  char *loc[LOC__COUNT]; /* evidence per location kind (enum ev_location): the ','-joined values
                            the event prints, or NULL when the check recorded none of that kind */
  char *event;           /* the Wazuh check event rendered from the fields above (event_render_check),
                            one line of JSON without newline: what `--format jsonl` prints and the agent
                            stores and sends */
} check_result;

typedef struct policy_scan {
  const program *prog;      /* the scanned program, borrowed from the image (valid while it lives);
                               NULL for a scan built by hand */
  int status;               /* enum scan_status */
  char *message;            /* why a policy was skipped (NULL when SCAN_DONE) */
  int64_t scan_id;
  check_result *checks;     /* ascending check id (key) */
  size_t nchecks;
  int passed, failed, invalid;
  int not_run;              /* 5.x: checks not run (in total_checks, none of the three counts) */
  float score;              /* Wazuh's float32 score (not-applicable excluded) */
  int64_t start_time, end_time;
  char hash[65];            /* results hash (ARCHITECTURE.md): sha256 of results joined with ',' */
  char hash_file[65];       /* SHA-256 of the source YAML */
  char bundle_hash[65];     /* SHA-256 of the bundle body ("" for a policy compiled in memory) */
  char *summary;            /* the summary event as one line of JSON, or NULL when none */
  size_t commands_run, files_read; /* cache counters for the whole run (all its policies) */
} policy_scan;

/* Scan one loaded policy. bundle_hash may be NULL. cache may be NULL (a private cache is used,
 * enabled). Returns TN_OK (see out->status) or TN_ENOMEM. Free out with policy_scan_free. */
int scan_run(const vm_image *img, const uint8_t *bundle_hash, scan_cache *cache,
             const scan_options *opt, policy_scan *out);
void policy_scan_free(policy_scan *s);

/* The metadata of a result's check (title, description, compliance, rules, ...; see program.h),
 * borrowed from s->prog. Returns 0, or -1 (out zeroed, title "") when the scan has no program or
 * the index is out of range. */
int scan_check_meta(const policy_scan *s, const check_result *r, prog_check_meta *out);

/* Scan n policies together: each policy's requirements, then the checks of every runnable policy
 * on one worker pool (so the pool never drains between policies), sharing one cache. outs[i] is
 * what scan_run would give for imgs[i] (its own scan id, events, counts, hash, summary);
 * bundle_hashes may be NULL, or hold NULL entries. Free each outs[i] with policy_scan_free. */
int scan_run_many(const vm_image *const *imgs, const uint8_t *const *bundle_hashes, size_t n, scan_cache *cache,
                  const scan_options *opt, policy_scan *outs);

/* The results hash of ARCHITECTURE.md over results in ascending check id order:
 * EV_FOUND → "passed", EV_NOT_FOUND → "failed", EV_INVALID → "" ; joined with ','. */
void scan_results_hash(const int *results, size_t n, char out[65]);
/* Same over result strings ("passed", "failed", "not applicable" or "" for N/A). */
void scan_results_hash_strings(const char *const *results, size_t n, char out[65]);

/* Name of a result for events and stores: "passed", "failed", "not applicable", "not run". */
const char *scan_result_name(int result);

#endif
