/* cmd_scan.c — `tenet scan`: run policies (bundles or YAML) on this host once and print the results
 * in one or several output formats of vm/report_formats.def (Wazuh events, a readable report, JSON,
 * JUnit, SARIF, CSV, HTML), each to stdout or a file written atomically; compare with a baseline
 * report; and gate: the exit status says whether the results pass --fail-on / --min-score
 * (docs/REPORTS.md). One per-scan cache serves every policy of the run, under one time budget
 * (--scan-budget). */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/stat.h>
#include <unistd.h>

#include "builtin.h"
#include "baseline.h"
#include "cache.h"
#include "cli.h"
#include "cli_opt.h"
#include "crypto.h"
#include "err.h"
#include "event.h"
#include "load.h"
#include "report.h"
#include "scan.h"
#include "scanroot.h"
#include "waiver.h"

/* Exit statuses (docs/REPORTS.md): 0 ok, 1 an error (a policy that cannot be loaded, a report that
 * cannot be written, ...), 2 bad usage, 3 the results fail the gate (--fail-on, --min-score). */
enum { SCAN_EXIT_OK = 0, SCAN_EXIT_ERROR = 1, SCAN_EXIT_USAGE = 2, SCAN_EXIT_GATE = 3 };

#define MAX_TARGETS 16

/* One output of the run: a format and where it goes (NULL: stdout, or --output). */
typedef struct target {
  const report_format *fmt;
  const char *path;
} target;

/* What to fail the run on: --fail-on failed counts failed checks; not-applicable counts failed and
 * not applicable ones; an active waiver never counts. */
enum { FAIL_ON_NONE, FAIL_ON_FAILED, FAIL_ON_NA };

typedef struct report_args {
  char *formats;        /* --format text,junit:report.xml,... (NULL: the default) */
  const char *output;   /* --output FILE: the one target without a path */
  int fail_on;          /* FAIL_ON_* */
  double min_score;     /* < 0: no minimum */
  const char *baseline; /* --baseline FILE.json */
  int only_changes;
  target t[MAX_TARGETS];
  size_t nt;
} report_args;

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

/* ---- report options: formats and outputs, baseline, gate ---------------------------------- */

/* Split a.formats ("F[:PATH],...") into a.t. Returns 0, or 2 (usage) with the reason printed. */
static int parse_targets(report_args *a) {
  int to_stdout = 0;
  for (char *save = NULL, *tok = strtok_r(a->formats, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
    char *colon = strchr(tok, ':');
    if (colon) *colon = '\0';
    const report_format *f = report_format_find(tok);
    if (!f) {
      fprintf(stderr, "tenet scan: unknown --format '%s' (", tok);
      for (size_t i = 0; i < report_format_count(); i++)
        fprintf(stderr, "%s%s", i ? ", " : "", report_format_at(i)->name);
      fprintf(stderr, ")\n");
      return SCAN_EXIT_USAGE;
    }
    if (colon && !colon[1]) {
      fprintf(stderr, "tenet scan: --format %s: empty path after ':'\n", tok);
      return SCAN_EXIT_USAGE;
    }
    if (a->nt == MAX_TARGETS) {
      fprintf(stderr, "tenet scan: at most %d outputs in one run\n", MAX_TARGETS);
      return SCAN_EXIT_USAGE;
    }
    const char *path = colon ? colon + 1 : a->output;
    if (!colon && to_stdout++) {
      fprintf(stderr, "tenet scan: only one format may go to %s; give the others a path (--format %s:FILE)\n",
              a->output ? "--output" : "stdout", tok);
      return SCAN_EXIT_USAGE;
    }
    for (size_t i = 0; path && i < a->nt; i++)
      if (a->t[i].path && strcmp(a->t[i].path, path) == 0) {
        fprintf(stderr, "tenet scan: two formats write to %s\n", path);
        return SCAN_EXIT_USAGE;
      }
    a->t[a->nt++] = (target){f, path};
  }
  if (!a->nt) {
    fprintf(stderr, "tenet scan: --format needs a format\n");
    return SCAN_EXIT_USAGE;
  }
  if (a->output && !to_stdout) {
    fprintf(stderr, "tenet scan: --output %s given but every format has its own path\n", a->output);
    return SCAN_EXIT_USAGE;
  }
  return 0;
}

/* Render one target: to stdout, or to its file through a temporary file in the same directory
 * renamed over it once complete (a reader never sees half a report). Returns TN_OK or a status,
 * with err set. */
static int write_target(const target *t, report_options ro, const policy_scan *scans, size_t n, char *err,
                        size_t errlen) {
  if (!t->path) {
    ro.out = stdout;
    int rc = report_write(t->fmt, &ro, scans, n);
    if (rc != TN_OK) snprintf(err, errlen, "writing the %s report: %s", t->fmt->name, tn_strerror(rc));
    return rc;
  }
  size_t len = strlen(t->path);
  char *tmp = malloc(len + 16);
  if (!tmp) {
    snprintf(err, errlen, "out of memory");
    return TN_ENOMEM;
  }
  memcpy(tmp, t->path, len);
  memcpy(tmp + len, ".tmp-XXXXXX", 12);
  int fd = mkstemp(tmp);
  FILE *f = fd < 0 ? NULL : fdopen(fd, "w");
  if (!f) {
    snprintf(err, errlen, "%s: %s", t->path, strerror(errno));
    if (fd >= 0) close(fd), unlink(tmp);
    free(tmp);
    return TN_EIO;
  }
  mode_t mask = umask(0);
  umask(mask);
  int chmod_rc = fchmod(fd, 0666 & ~mask); /* mkstemp's 0600 would make reports private */
  (void)chmod_rc;
  ro.out = f;
  ro.color = 0;
  int rc = report_write(t->fmt, &ro, scans, n);
  if (fclose(f) != 0 && rc == TN_OK) rc = TN_EIO;
  if (rc == TN_OK && rename(tmp, t->path) != 0) {
    snprintf(err, errlen, "%s: %s", t->path, strerror(errno));
    rc = TN_EIO;
  } else if (rc != TN_OK)
    snprintf(err, errlen, "%s: writing the %s report: %s", t->path, t->fmt->name, tn_strerror(rc));
  if (rc != TN_OK) unlink(tmp);
  free(tmp);
  return rc;
}

/* 1 when the results fail the gate: a check counted by --fail-on that no active waiver covers,
 * or a policy scoring under --min-score. Says why on stderr. */
static int gate_failed(const report_args *a, const report_options *ro, const policy_scan *scans, size_t n) {
  report_ctx ctx = {.opt = ro, .scans = scans, .nscans = n};
  int bad = 0;
  for (size_t k = 0; k < n; k++) {
    const policy_scan *s = &scans[k];
    if (s->status != SCAN_DONE) continue;
    const char *id = program_str(s->prog, s->prog->policy_id);
    int failed, invalid;
    report_scan_counts(&ctx, s, NULL, &failed, &invalid, NULL);
    int counted = a->fail_on == FAIL_ON_NONE ? 0 : a->fail_on == FAIL_ON_FAILED ? failed : failed + invalid;
    if (counted) {
      fprintf(stderr, "tenet scan: gate: %s has %d %s check%s (--fail-on %s)\n", id, counted,
              a->fail_on == FAIL_ON_FAILED ? "failed" : "failed or not applicable", counted == 1 ? "" : "s",
              a->fail_on == FAIL_ON_FAILED ? "failed" : "not-applicable");
      bad = 1;
    }
    if (a->min_score >= 0 && (double)s->score < a->min_score) {
      fprintf(stderr, "tenet scan: gate: %s scores %.1f%%, under --min-score %g\n", id, (double)s->score,
              a->min_score);
      bad = 1;
    }
  }
  return bad;
}

/* Tests pin the scan id and times through the environment (hidden, see docs/REPORTS.md):
 * TENET_TEST_SCAN_ID=N gives every policy the scan id N and TENET_TEST_SCAN_TIME=T
 * sets start and end time to T, the summary event re-rendered to match, and the run's seconds to 0. */
static int64_t test_scan_id(void) {
  const char *v = getenv("TENET_TEST_SCAN_ID");
  char *end;
  long long n = v && *v ? strtoll(v, &end, 10) : -1;
  return v && *v && !*end && n >= 0 ? n : -1;
}

static int fix_test_times(policy_scan *scans, size_t n, double *secs) {
  const char *v = getenv("TENET_TEST_SCAN_TIME");
  char *end;
  if (!v || !*v) return TN_OK;
  long long t = strtoll(v, &end, 10);
  if (*end || t < 0) return TN_OK;
  *secs = 0;
  for (size_t k = 0; k < n; k++) {
    policy_scan *s = &scans[k];
    if (s->status != SCAN_DONE) continue;
    s->start_time = s->end_time = t;
    if (!s->summary) continue;
    free(s->summary);
    if (!(s->summary = event_render_summary(s->prog, s))) return TN_ENOMEM;
  }
  return TN_OK;
}

static void help(FILE *out) {
  fprintf(out, "usage: tenet scan [options] BUNDLE|POLICY.yml...\n"
               "  -f, --format F        output format (default: text on a terminal, jsonl otherwise):\n");
  for (size_t i = 0; i < report_format_count(); i++)
    fprintf(out, "                          %-6s %s\n", report_format_at(i)->name,
            report_format_at(i)->description);
  fprintf(out, "      several at once: -f text,junit:report.xml,html:report.html (F[:PATH], one to stdout)\n"
               "  -o, --output FILE     write the format without a path to FILE (atomically) instead of stdout\n"
               "      --baseline OLD.json  compare with a previous --format json report: say which checks\n"
               "                        changed result (by policy id and check id) in text, json, csv, html\n"
               "      --only-changes    with --baseline: show only the checks that changed (not in jsonl)\n"
               "      --fail-on WHAT    gate: failed, not-applicable (failed or N/A) or none (default);\n"
               "                        checks under an active waiver never count\n"
               "      --min-score N     gate: every policy must score at least N (0-100)\n");
  fprintf(out, "  -j, --jobs N          worker threads (default: one per core)\n"
               "      --no-cache        run every command and read every file each time it is asked for\n"
               "      --no-builtins     run every command, never answer one natively (docs/BUILTINS.md)\n"
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
               "      --reasons=R       5.x reasons: wazuh5 (the module's, default) or wazuh5-gcc (empty, as\n"
               "                        Wazuh's GCC-built Linux packages report them; docs/DIVERGENCES.md)\n"
               "  -r, --root DIR        scan the file tree at DIR (a mounted image) as /; see docs/CI.md\n"
               "      --waivers FILE    waivers (repeatable; signed when --pubkey is given); see docs/WAIVERS.md\n"
               "exit status: 0 ok (gate passed), 1 error (a policy not loaded, a report not written),\n"
               "             2 bad usage, 3 the gate failed (--fail-on, --min-score); see docs/REPORTS.md\n",
          SCAN_CACHE_BYTES_MAX >> 20, SCAN_CACHE_BUDGET_DEFAULT);
}

enum { OPT_SCAN_BUDGET = 1001 };

int cmd_scan(int argc, char **argv) {
  static const struct option opts[] = {
      {"format", required_argument, 0, 'f'}, {"jobs", required_argument, 0, 'j'},
      {"no-cache", no_argument, 0, 'C'},     {"timeout", required_argument, 0, 't'},
      {"pubkey", required_argument, 0, 'p'}, {"allow-unsigned", no_argument, 0, 'U'},
      {"dialect", required_argument, 0, 'd'}, {"help", no_argument, 0, 'h'},
      {"root", required_argument, 0, 'r'},
      /* reports and gating */
      {"output", required_argument, 0, 'o'}, {"baseline", required_argument, 0, 'B'},
      {"only-changes", no_argument, 0, 'c'},  {"fail-on", required_argument, 0, 'F'},
      {"min-score", required_argument, 0, 'm'},
      {"no-builtins", no_argument, 0, 'N'},
      {"waivers", required_argument, 0, 'W'},
      {"reasons", required_argument, 0, 'R'},
      {"scan-budget", required_argument, 0, OPT_SCAN_BUDGET}, {"cache-max", required_argument, 0, 'M'},
      {0, 0, 0, 0}};
  report_args ra = {.fail_on = FAIL_ON_NONE, .min_score = -1};
  int use_cache = 1, c, budget = SCAN_CACHE_BUDGET_DEFAULT;
  long cache_max = (long)(SCAN_CACHE_BYTES_MAX >> 20);
  scan_options so = {.jobs = 0, .eval = EVAL_OPTIONS_DEFAULT, .scan_id = -1};
  load_options lo = {0};
  const char *pub = NULL, *root = NULL;
  /* --waivers: the paths, loaded once every option (--pubkey, --allow-unsigned) is known */
  const char *waiver_paths[64];
  size_t nwaiver_paths = 0;
  waiver_set *waivers = NULL;
  optind = 1;
  opterr = 0; /* unknown options are reported by cli_getopt_error, with a suggestion */
  while ((c = getopt_long(argc, argv, "f:o:j:t:p:d:r:h", opts, NULL)) != -1) {
    char *end;
    switch (c) {
    /* reports and gating (docs/REPORTS.md) */
    case 'f': ra.formats = optarg; break;
    case 'o': ra.output = optarg; break;
    case 'B': ra.baseline = optarg; break;
    case 'c': ra.only_changes = 1; break;
    case 'F':
      if (strcmp(optarg, "failed") == 0) ra.fail_on = FAIL_ON_FAILED;
      else if (strcmp(optarg, "not-applicable") == 0) ra.fail_on = FAIL_ON_NA;
      else if (strcmp(optarg, "none") == 0) ra.fail_on = FAIL_ON_NONE;
      else {
        fprintf(stderr, "tenet scan: --fail-on is failed, not-applicable or none\n");
        return SCAN_EXIT_USAGE;
      }
      break;
    case 'm':
      ra.min_score = strtod(optarg, &end);
      if (end == optarg || *end || !(ra.min_score >= 0 && ra.min_score <= 100)) {
        fprintf(stderr, "tenet scan: --min-score takes a score from 0 to 100\n");
        return SCAN_EXIT_USAGE;
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
    case 'N': builtin_set_enabled(0); break;
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
    case 'W':
      if (nwaiver_paths == sizeof waiver_paths / sizeof *waiver_paths) {
        fprintf(stderr, "tenet scan: at most 64 --waivers files\n");
        return 2;
      }
      waiver_paths[nwaiver_paths++] = optarg;
      break;
    case 'R':
      if (strcmp(optarg, "wazuh5") == 0) so.eval.reasons_gcc = 0;
      else if (strcmp(optarg, "wazuh5-gcc") == 0) so.eval.reasons_gcc = 1;
      else {
        fprintf(stderr, "tenet scan: --reasons is wazuh5 or wazuh5-gcc\n");
        return 2;
      }
      break;
    case 'M':
      cache_max = strtol(optarg, &end, 10);
      if (!*optarg || *end || cache_max < 0 || cache_max > 65536) {
        fprintf(stderr, "tenet scan: --cache-max takes MiB from 0 to 65536\n");
        return 2;
      }
      break;
    case OPT_SCAN_BUDGET:
      budget = (int)strtol(optarg, &end, 10);
      if (!*optarg || *end || budget < 0 || budget > 86400) {
        fprintf(stderr, "tenet scan: --scan-budget takes seconds from 0 (none) to 86400\n");
        return 2;
      }
      break;
    case 'h': help(stdout); return 0;
    default: return cli_getopt_error("tenet scan", opts, argv);
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
  char *formats = strdup(ra.formats ? ra.formats : ra.output || !isatty(STDOUT_FILENO) ? "jsonl" : "text");
  if (!formats) return SCAN_EXIT_ERROR;
  ra.formats = formats;
  int urc = parse_targets(&ra);
  if (!urc && ra.only_changes && !ra.baseline) {
    fprintf(stderr, "tenet scan: --only-changes needs --baseline\n");
    urc = SCAN_EXIT_USAGE;
  }
  if (urc) {
    free(formats);
    return urc;
  }
  char err[512];
  baseline *base = NULL;
  if (ra.baseline && !(base = baseline_load(ra.baseline, err, sizeof err))) {
    fprintf(stderr, "tenet scan: --baseline %s\n", err);
    free(formats);
    return SCAN_EXIT_ERROR;
  }
  so.scan_id = test_scan_id();
  crypto_key *key = NULL;
  if (pub && !(key = crypto_key_load_public(pub, err, sizeof err))) {
    fprintf(stderr, "tenet scan: %s\n", err);
    baseline_free(base);
    free(formats);
    return 1;
  }
  lo.pubkey = key;
  scan_cache *cache = scan_cache_new(use_cache);
  if (!cache) {
    fprintf(stderr, "tenet scan: out of memory\n");
    crypto_key_free(key);
    baseline_free(base);
    free(formats);
    return 1;
  }
  scan_cache_set_limit(cache, (size_t)cache_max << 20);
  if (root && scanroot_begin(cache, root, err, sizeof err) != TN_OK) {
    fprintf(stderr, "tenet scan: --root: %s\n", err);
    scan_cache_free(cache);
    crypto_key_free(key);
    baseline_free(base);
    free(formats);
    return 1;
  }
  /* A terminal report (text on stdout): colours and progress on stderr. */
  int text = 0, color = 0, status = 0;
  for (size_t i = 0; i < ra.nt; i++)
    if (strcmp(ra.t[i].fmt->name, "text") == 0) {
      text = 1;
      if (!ra.t[i].path) color = cli_use_color(stdout);
    }
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
  /* ---- waivers (docs/WAIVERS.md): checked and loaded before the scan; never change its results ---- */
  if (nwaiver_paths) {
    diag_list *wd = diag_list_new();
    const program **wprogs = calloc(n + 1, sizeof *wprogs);
    char hostname[256] = "", today[11];
    waivers = waiver_set_new();
    int wrc = waivers && wd && wprogs ? TN_OK : TN_ENOMEM;
    for (size_t w = 0; wrc == TN_OK && w < nwaiver_paths; w++)
      wrc = waiver_set_load_trusted(waivers, waiver_paths[w], key, lo.allow_unsigned, wd, err, sizeof err);
    if (wd) diag_print(wd, stderr, cli_use_color(stderr));
    if (wrc != TN_OK && wrc != TN_ENOMEM) fprintf(stderr, "tenet scan: %s\n", err);
    gethostname(hostname, sizeof hostname - 1);
    waiver_today(today);
    if (wrc == TN_OK && (wrc = waiver_set_bind(waivers, hostname, today)) == TN_OK) {
      for (size_t k = 0; k < n; k++) wprogs[k] = lps[k].prog;
      waiver_set_check(waivers, wprogs, n, stderr);
      fprintf(stderr, "tenet scan: waivers for host %s on %s: %zu active, %zu expired (of %zu)\n", hostname, today,
              waiver_set_active(waivers), waiver_set_expired(waivers), waiver_set_count(waivers));
    }
    if (wrc == TN_ENOMEM) fprintf(stderr, "tenet scan: out of memory\n");
    free(wprogs);
    diag_list_free(wd);
    if (wrc != TN_OK) {
      status = 1;
      goto out;
    }
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
  if (rc == TN_OK && (rc = fix_test_times(scans, n, &secs)) != TN_OK) {
    fprintf(stderr, "tenet scan: %s\n", tn_strerror(rc));
    status = 1;
  }
  /* The reports and the gate both read ro, with the waiver lookup (--waivers). */
  report_options ro = {.out = stdout, .color = color, .seconds = secs};
  if (waivers) ro.waiver = waiver_set_lookup, ro.waiver_arg = waivers;
  if (base) {
    ro.baseline = baseline_result;
    ro.baseline_arg = base;
    ro.only_changes = ra.only_changes;
  }
  for (size_t i = 0; rc == TN_OK && n && i < ra.nt; i++)
    if (write_target(&ra.t[i], ro, scans, n, err, sizeof err) != TN_OK) {
      fprintf(stderr, "tenet scan: %s\n", err);
      status = 1;
    }
  if (rc == TN_OK && status == 0 && gate_failed(&ra, &ro, scans, n)) status = SCAN_EXIT_GATE;
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
  baseline_free(base);
  free(formats);
  waiver_set_free(waivers);
  return status;
}
