/* cmd_scan.c — `tenet scan`: run policies (bundles or YAML) on this host once and print the results
 * in an output format of vm/report_formats.def (Wazuh events, a readable report, ...). One per-scan
 * cache serves every policy of the run, under one time budget (--scan-budget). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cache.h"
#include "cli.h"
#include "crypto.h"
#include "err.h"
#include "load.h"
#include "report.h"
#include "scan.h"
#include "scanroot.h"

typedef struct progress {
  const char *policy;
  int enabled;
} progress;

static void show_progress(void *arg, size_t done, size_t total) {
  progress *pr = arg;
  if (!pr->enabled) return;
  fprintf(stderr, "\r\033[K%s: %zu/%zu checks", pr->policy, done, total);
  fflush(stderr);
}

static void help(FILE *out) {
  fprintf(out, "usage: tenet scan [options] BUNDLE|POLICY.yml...\n"
               "  -f, --format F        output format (default: text on a terminal, jsonl otherwise):\n");
  for (size_t i = 0; i < report_format_count(); i++)
    fprintf(out, "                          %-6s %s\n", report_format_at(i)->name,
            report_format_at(i)->description);
  fprintf(out, "  -j, --jobs N          worker threads (default: one per core)\n"
               "      --no-cache        run every command and read every file each time it is asked for\n"
               "  -t, --timeout S       command timeout in seconds (default 30, like Wazuh)\n"
               "  -p, --pubkey KEY.pub  bundles must be signed by this key; YAML sources, which carry no\n"
               "                        signature, are then refused unless --allow-unsigned is given\n"
               "      --allow-unsigned  run bundles without checking a signature (and YAML with --pubkey)\n"
               "      --cache-max MB    cap on the MiB of command outputs and file contents the per-scan\n"
               "                        cache holds; results past it are produced again when asked\n"
               "                        for (default %zu)\n"
               "      --scan-budget S   stop reading files and running commands after S seconds; the\n"
               "                        checks left are not applicable with that reason (default %d,\n"
               "                        0: no budget)\n"
               "  -d, --dialect D       YAML only: wazuh4 or wazuh5 semantics (default: from the schema)\n"
               "  -r, --root DIR        scan the file tree at DIR (a mounted image) as /; see docs/CI.md\n",
          SCAN_CACHE_BYTES_MAX >> 20, SCAN_CACHE_BUDGET_DEFAULT);
}

int cmd_scan(int argc, char **argv) {
  static const struct option opts[] = {
      {"format", required_argument, 0, 'f'}, {"jobs", required_argument, 0, 'j'},
      {"no-cache", no_argument, 0, 'C'},     {"timeout", required_argument, 0, 't'},
      {"pubkey", required_argument, 0, 'p'}, {"allow-unsigned", no_argument, 0, 'U'},
      {"dialect", required_argument, 0, 'd'}, {"help", no_argument, 0, 'h'},
      {"root", required_argument, 0, 'r'},   {"scan-budget", required_argument, 0, 'B'},
      {"cache-max", required_argument, 0, 'M'},
      {0, 0, 0, 0}};
  const report_format *fmt = report_format_find(isatty(STDOUT_FILENO) ? "text" : "jsonl");
  int use_cache = 1, c, budget = SCAN_CACHE_BUDGET_DEFAULT;
  long cache_max = (long)(SCAN_CACHE_BYTES_MAX >> 20);
  scan_options so = {.jobs = 0, .eval = EVAL_OPTIONS_DEFAULT, .scan_id = -1};
  load_options lo = {0};
  const char *pub = NULL, *root = NULL;
  optind = 1;
  while ((c = getopt_long(argc, argv, "f:j:t:p:d:r:h", opts, NULL)) != -1) {
    char *end;
    switch (c) {
    case 'f':
      if (!(fmt = report_format_find(optarg))) {
        fprintf(stderr, "tenet scan: unknown --format '%s' (", optarg);
        for (size_t i = 0; i < report_format_count(); i++)
          fprintf(stderr, "%s%s", i ? ", " : "", report_format_at(i)->name);
        fprintf(stderr, ")\n");
        return 2;
      }
      break;
    case 'j':
      so.jobs = (int)strtol(optarg, &end, 10);
      if (*end || so.jobs < 1 || so.jobs > 256) {
        fprintf(stderr, "tenet scan: --jobs takes a number from 1 to 256\n");
        return 2;
      }
      break;
    case 'C': use_cache = 0; break;
    case 't':
      so.eval.command_timeout = (int)strtol(optarg, &end, 10);
      if (*end || so.eval.command_timeout < 1 || so.eval.command_timeout > 3600) {
        fprintf(stderr, "tenet scan: --timeout takes seconds from 1 to 3600\n");
        return 2;
      }
      break;
    case 'p': pub = optarg; break;
    case 'U': lo.allow_unsigned = 1; break;
    case 'd':
      if (strcmp(optarg, "wazuh4") == 0) lo.dialect = DIALECT_WAZUH4;
      else if (strcmp(optarg, "wazuh5") == 0) lo.dialect = DIALECT_WAZUH5;
      else {
        fprintf(stderr, "tenet scan: --dialect is wazuh4 or wazuh5\n");
        return 2;
      }
      break;
    case 'r': root = optarg; break;
    case 'M':
      cache_max = strtol(optarg, &end, 10);
      if (!*optarg || *end || cache_max < 0 || cache_max > 65536) {
        fprintf(stderr, "tenet scan: --cache-max takes MiB from 0 to 65536\n");
        return 2;
      }
      break;
    case 'B':
      budget = (int)strtol(optarg, &end, 10);
      if (!*optarg || *end || budget < 0 || budget > 86400) {
        fprintf(stderr, "tenet scan: --scan-budget takes seconds from 0 (none) to 86400\n");
        return 2;
      }
      break;
    case 'h': help(stdout); return 0;
    default: help(stderr); return 2;
    }
  }
  if (optind >= argc) {
    help(stderr);
    return 2;
  }
  /* A key asks for signed policies: a YAML source cannot carry a signature, so it would run
   * unchecked. Refuse it unless unsigned sources are allowed explicitly. */
  if (pub && !lo.allow_unsigned) {
    int refused = 0;
    for (int i = optind; i < argc; i++) {
      if (!load_is_yaml(argv[i])) continue;
      fprintf(stderr, "tenet scan: %s: a YAML policy carries no signature, but --pubkey asks for signed "
                      "bundles (compile and sign it, or add --allow-unsigned)\n", argv[i]);
      refused = 1;
    }
    if (refused) return 1;
  }
  char err[512];
  crypto_key *key = NULL;
  if (pub && !(key = crypto_key_load_public(pub, err, sizeof err))) {
    fprintf(stderr, "tenet scan: %s\n", err);
    return 1;
  }
  lo.pubkey = key;
  scan_cache *cache = scan_cache_new(use_cache);
  if (!cache) {
    fprintf(stderr, "tenet scan: out of memory\n");
    crypto_key_free(key);
    return 1;
  }
  scan_cache_set_limit(cache, (size_t)cache_max << 20);
  if (root && scanroot_begin(cache, root, err, sizeof err) != TN_OK) {
    fprintf(stderr, "tenet scan: --root: %s\n", err);
    scan_cache_free(cache);
    crypto_key_free(key);
    return 1;
  }
  int text = strcmp(fmt->name, "text") == 0; /* a terminal report: colours and progress on stderr */
  int color = text && cli_use_color(stdout), status = 0;
  progress pr = {.enabled = text && isatty(STDERR_FILENO)};
  so.progress = show_progress;
  so.progress_arg = &pr;
  /* Load (and verify) every policy first, then scan them together on one pool. */
  size_t cap = (size_t)(argc - optind), n = 0;
  loaded_policy *lps = calloc(cap, sizeof *lps);
  vm_image **imgs = calloc(cap, sizeof *imgs);
  const uint8_t **hashes = calloc(cap, sizeof *hashes);
  policy_scan *scans = calloc(cap, sizeof *scans);
  if (!lps || !imgs || !hashes || !scans) {
    fprintf(stderr, "tenet scan: out of memory\n");
    status = 1;
    goto out;
  }
  for (int i = optind; i < argc; i++) {
    diag_list *diags = diag_list_new();
    int rc = load_policy(argv[i], &lo, &lps[n], diags, err, sizeof err);
    if (rc != TN_OK) {
      diag_print(diags, stderr, cli_use_color(stderr));
      fprintf(stderr, "tenet scan: %s\n", err);
      diag_list_free(diags);
      status = 1;
      continue;
    }
    diag_list_free(diags);
    if (!(imgs[n] = vm_image_load(lps[n].prog, err, sizeof err))) {
      fprintf(stderr, "tenet scan: %s: %s\n", argv[i], err);
      loaded_policy_free(&lps[n]);
      status = 1;
      continue;
    }
    hashes[n] = lps[n].from_bundle ? lps[n].info.bundle_hash : NULL;
    n++;
  }
  pr.policy = n == 1 ? program_str(lps[0].prog, lps[0].prog->policy_id) : "scanning";
  struct timespec t0, t1;
  scan_cache_set_budget(cache, budget);
  clock_gettime(CLOCK_MONOTONIC, &t0);
  int rc = n ? scan_run_many((const vm_image *const *)imgs, hashes, n, cache, &so, scans) : TN_OK;
  clock_gettime(CLOCK_MONOTONIC, &t1);
  double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
  if (pr.enabled) fprintf(stderr, "\r\033[K");
  if (rc != TN_OK) {
    fprintf(stderr, "tenet scan: %s\n", tn_strerror(rc));
    status = 1;
  }
  for (size_t k = 0; rc == TN_OK && k < n; k++)
    if (scans[k].status != SCAN_DONE)
      fprintf(stderr, "tenet scan: %s\n", scans[k].message ? scans[k].message : "policy skipped");
  if (rc == TN_OK && scan_cache_over_budget(cache)) {
    size_t left = 0;
    for (size_t k = 0; k < n; k++)
      for (size_t i = 0; i < scans[k].nchecks; i++)
        left += scans[k].checks[i].reason && strstr(scans[k].checks[i].reason, scan_cache_budget_reason(cache));
    fprintf(stderr, "tenet scan: %s: %zu check(s) not applicable for it (raise --scan-budget)\n",
            scan_cache_budget_reason(cache), left);
  }
  report_options ro = {.out = stdout, .color = color, .seconds = secs};
  if (rc == TN_OK && n && (rc = report_write(fmt, &ro, scans, n)) != TN_OK) {
    fprintf(stderr, "tenet scan: writing the report: %s\n", tn_strerror(rc));
    status = 1;
  }
out:
  for (size_t k = 0; k < n; k++) {
    policy_scan_free(&scans[k]);
    vm_image_free(imgs[k]);
    loaded_policy_free(&lps[k]);
  }
  free(scans);
  free(hashes);
  free(imgs);
  free(lps);
  if (root) scanroot_end();
  scan_cache_free(cache);
  crypto_key_free(key);
  return status;
}
