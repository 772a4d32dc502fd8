/* cmd_scan.c — `tenet scan`: run policies (bundles or YAML) on this host once and print Wazuh-shaped
 * events (jsonl) or a readable report (text). One per-scan cache serves every policy of the run. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "builtin.h"
#include "cache.h"
#include "cli.h"
#include "crypto.h"
#include "err.h"
#include "load.h"
#include "scan.h"

#define RED "\033[31m"
#define YELLOW "\033[33m"
#define GREEN "\033[32m"
#define BOLD "\033[1m"
#define RESET "\033[0m"

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
  fprintf(out,
          "usage: tenet scan [options] BUNDLE|POLICY.yml...\n"
          "  -f, --format F        jsonl (Wazuh check events, then a summary per policy) or text\n"
          "                        (default: text on a terminal, jsonl otherwise)\n"
          "  -j, --jobs N          worker threads (default: one per core)\n"
          "      --no-cache        run every command and read every file each time it is asked for\n"
          "      --no-builtins     run every command, never answer one natively (docs/BUILTINS.md)\n"
          "  -t, --timeout S       command timeout in seconds (default 30, like Wazuh)\n"
          "  -p, --pubkey KEY.pub  bundles must be signed by this key\n"
          "      --allow-unsigned  run bundles without checking a signature\n"
          "  -d, --dialect D       YAML only: wazuh4 or wazuh5 semantics (default: from the schema)\n");
}

static const char *text_result(int r, int color) {
  if (r == EV_FOUND) return color ? GREEN "pass" RESET : "pass";
  if (r == EV_NOT_FOUND) return color ? RED "FAIL" RESET : "FAIL";
  return color ? YELLOW "N/A " RESET : "N/A ";
}

/* The check title from its event JSON, for the text report (the event is ours: the title is the
 * value of the first "title" key). */
static void print_title(const char *event) {
  const char *t = strstr(event, "\"title\":\"");
  if (!t) return;
  t += 9;
  for (; *t && *t != '"'; t++) {
    if (*t == '\\' && t[1]) t++;
    putchar(*t);
  }
}

static void report_text(const program *p, const policy_scan *s, double secs, int color) {
  printf("%s%s%s  %s\n", color ? BOLD : "", program_str(p, p->policy_id), color ? RESET : "",
         program_str(p, p->policy_name));
  for (size_t i = 0; i < s->nchecks; i++) {
    const check_result *c = &s->checks[i];
    if (c->result == EV_FOUND) continue;
    printf("  %s  %-7lld ", text_result(c->result, color), (long long)c->id);
    print_title(c->event);
    putchar('\n');
    if (c->result == EV_INVALID) printf("                reason: %s\n", c->reason);
  }
  printf("  %d passed, %d failed, %d not applicable — score %.1f%% (%zu checks; scan took %.2f s)\n\n", s->passed,
         s->failed, s->invalid, (double)s->score, s->nchecks, secs);
}

int cmd_scan(int argc, char **argv) {
  static const struct option opts[] = {
      {"format", required_argument, 0, 'f'}, {"jobs", required_argument, 0, 'j'},
      {"no-cache", no_argument, 0, 'C'},     {"timeout", required_argument, 0, 't'},
      {"pubkey", required_argument, 0, 'p'}, {"allow-unsigned", no_argument, 0, 'U'},
      {"dialect", required_argument, 0, 'd'}, {"help", no_argument, 0, 'h'}, {"no-builtins", no_argument, 0, 'B'},
      {0, 0, 0, 0}};
  int text = isatty(STDOUT_FILENO), use_cache = 1, c;
  scan_options so = {.jobs = 0, .eval = EVAL_OPTIONS_DEFAULT, .scan_id = -1};
  load_options lo = {0};
  const char *pub = NULL;
  optind = 1;
  while ((c = getopt_long(argc, argv, "f:j:t:p:d:h", opts, NULL)) != -1) {
    char *end;
    switch (c) {
    case 'f':
      if (strcmp(optarg, "jsonl") == 0) text = 0;
      else if (strcmp(optarg, "text") == 0) text = 1;
      else {
        fprintf(stderr, "tenet scan: --format is jsonl or text, not '%s'\n", optarg);
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
    case 'B': builtin_set_enabled(0); break;
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
    case 'h': help(stdout); return 0;
    default: help(stderr); return 2;
    }
  }
  if (optind >= argc) {
    help(stderr);
    return 2;
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
  clock_gettime(CLOCK_MONOTONIC, &t0);
  int rc = n ? scan_run_many((const vm_image *const *)imgs, hashes, n, cache, &so, scans) : TN_OK;
  clock_gettime(CLOCK_MONOTONIC, &t1);
  double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
  if (pr.enabled) fprintf(stderr, "\r\033[K");
  if (rc != TN_OK) {
    fprintf(stderr, "tenet scan: %s\n", tn_strerror(rc));
    status = 1;
  }
  for (size_t k = 0; rc == TN_OK && k < n; k++) {
    const policy_scan *sc = &scans[k];
    if (sc->status != SCAN_DONE) {
      fprintf(stderr, "tenet scan: %s\n", sc->message ? sc->message : "policy skipped");
    } else if (text) {
      report_text(lps[k].prog, sc, secs, color);
    } else {
      for (size_t c = 0; c < sc->nchecks; c++) puts(sc->checks[c].event);
      if (sc->summary) puts(sc->summary);
    }
  }
  if (text && n > 1 && rc == TN_OK)
    printf("%zu policies scanned together in %.2f s (%zu commands run, %zu files read)\n", n, secs,
           scans[0].commands_run, scans[0].files_read);
  fflush(stdout);
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
  scan_cache_free(cache);
  crypto_key_free(key);
  return status;
}
