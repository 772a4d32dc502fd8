/* cmd_bench.c — `tenet bench`: how fast `tenet scan` is on this host, against the Wazuh-like way of
 * running the same policies (one check after another, every command run each time it is asked for:
 * `--jobs 1 --no-cache`). The two modes alternate run by run (ABBA: tenet first on even runs, the
 * Wazuh-like mode first on odd ones) so drift on a shared machine hits both alike, and the ratio is
 * of medians measured side by side. Reported: median, min and max of wall time and CPU (this
 * process, and its children: the commands), checks per second, commands run and cache hits; the
 * costliest commands (CPU of each, measured in the sequential runs where it is exact) and, from one
 * more sequential pass without cache that times each check alone, the slowest checks.
 * docs/BENCH.md explains every figure. */
#include <getopt.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "builtin.h"
#include "cache.h"
#include "checkid.h"
#include "cli.h"
#include "cli_opt.h"
#include "crypto.h"
#include "err.h"
#include "load.h"
#include "scan.h"
#include "strbuf.h"
#include "vm.h"

#define TOP 10
enum { MODE_TENET, MODE_WAZUH, NMODES };
static const char *const mode_name[NMODES] = {"tenet", "wazuh-like"};

typedef struct sample {
  double wall, cpu_self, cpu_children;
} sample;

typedef struct mode_stats {
  sample *s;                               /* one per run */
  size_t checks, commands_run, cache_hits; /* of the last run (the same every run) */
  size_t builtin_hits;                     /* commands answered natively (vm/builtin.h) in the last run */
} mode_stats;

typedef struct cmd_cost { /* one distinct command, summed over the Wazuh-like runs */
  char *cmd;
  size_t calls;
  double wall, cpu;
} cmd_cost;

typedef struct costs {
  pthread_mutex_t mu;
  cmd_cost *c;
  size_t n, cap;
  int oom;
} costs;

typedef struct check_time {
  size_t policy;
  int64_t id;
  const char *text; /* the 5.x text id, or NULL (borrowed from the program) */
  const char *title;
  double wall, cpu;
} check_time;

static double now_mono(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static double cpu_of(int who) {
  struct rusage ru;
  getrusage(who, &ru);
  return (double)ru.ru_utime.tv_sec + (double)ru.ru_stime.tv_sec +
         ((double)ru.ru_utime.tv_usec + (double)ru.ru_stime.tv_usec) / 1e6;
}

static void add_cost(void *arg, const char *cmd, double wall, double cpu) {
  costs *cs = arg;
  pthread_mutex_lock(&cs->mu);
  size_t i = 0;
  while (i < cs->n && strcmp(cs->c[i].cmd, cmd) != 0)
    i++;
  if (i == cs->n) {
    if (cs->n == cs->cap) {
      size_t cap = cs->cap ? cs->cap * 2 : 64;
      cmd_cost *c = realloc(cs->c, cap * sizeof *c);
      if (!c) goto oom;
      cs->c = c;
      cs->cap = cap;
    }
    if (!(cs->c[i].cmd = strdup(cmd))) goto oom;
    cs->c[i].calls = 0;
    cs->c[i].wall = cs->c[i].cpu = 0;
    cs->n++;
  }
  cs->c[i].calls++;
  cs->c[i].wall += wall;
  cs->c[i].cpu += cpu;
  pthread_mutex_unlock(&cs->mu);
  return;
oom:
  cs->oom = 1;
  pthread_mutex_unlock(&cs->mu);
}

/* One scan of every image in the given mode; fills *out and the mode's counters. scans[] gets the
 * results (the caller frees them). */
static int run_once(vm_image **imgs, const uint8_t **hashes, size_t n, int mode, int jobs,
                    const eval_options *eo, costs *cs, policy_scan *scans, sample *out, mode_stats *ms) {
  scan_cache *cache = scan_cache_new(mode == MODE_TENET);
  if (!cache) return TN_ENOMEM;
  if (mode == MODE_WAZUH) scan_cache_set_cost_hook(cache, add_cost, cs);
  scan_options so = {.jobs = mode == MODE_TENET ? jobs : 1, .eval = *eo, .scan_id = 1};
  /* The Wazuh-like mode runs every command for real, as Wazuh does; the tenet mode as tenet scan
   * would (builtins unless --no-builtins / TENET_NO_BUILTINS). */
  int builtins_on = builtin_enabled();
  if (mode == MODE_WAZUH) builtin_set_enabled(0);
  size_t native0 = builtin_answered_count();
  double s0 = cpu_of(RUSAGE_SELF), c0 = cpu_of(RUSAGE_CHILDREN), t0 = now_mono();
  int rc = scan_run_many((const vm_image *const *)imgs, hashes, n, cache, &so, scans);
  out->wall = now_mono() - t0;
  out->cpu_self = cpu_of(RUSAGE_SELF) - s0;
  out->cpu_children = cpu_of(RUSAGE_CHILDREN) - c0;
  ms->builtin_hits = builtin_answered_count() - native0;
  builtin_set_enabled(builtins_on);
  ms->checks = 0;
  for (size_t k = 0; rc == TN_OK && k < n; k++)
    ms->checks += scans[k].nchecks;
  ms->commands_run = scan_cache_commands_run(cache);
  ms->cache_hits = scan_cache_hits(cache);
  scan_cache_free(cache);
  return rc;
}

/* The profiling pass: every check of every scanned policy alone, sequentially, without cache (so
 * each pays for its own commands and files). */
static int profile_checks(vm_image **imgs, size_t n, const policy_scan *scans, const eval_options *eo,
                          check_time **out, size_t *nout) {
  size_t total = 0;
  for (size_t k = 0; k < n; k++)
    if (scans[k].status == SCAN_DONE) total += imgs[k]->prog->nchecks;
  *out = calloc(total + 1, sizeof **out);
  *nout = 0;
  scan_cache *cache = scan_cache_new(0);
  if (!*out || !cache) {
    scan_cache_free(cache);
    return TN_ENOMEM;
  }
  for (size_t k = 0; k < n; k++) {
    if (scans[k].status != SCAN_DONE) continue;
    const program *p = imgs[k]->prog;
    eval_ctx c;
    vm_ctx_init(&c, imgs[k], cache, eo);
    for (uint32_t i = 0; i < p->nchecks; i++) {
      struct timespec a, b;
      double c0 = cpu_of(RUSAGE_CHILDREN), t0 = now_mono();
      clock_gettime(CLOCK_THREAD_CPUTIME_ID, &a);
      vm_exec_check(&c, &p->checks[i]);
      clock_gettime(CLOCK_THREAD_CPUTIME_ID, &b);
      check_time *ct = &(*out)[(*nout)++];
      prog_check_meta m;
      program_check_meta(p, &p->checks[i], &m);
      ct->policy = k;
      ct->id = p->checks[i].id;
      ct->text = program_check_text_id(p, &p->checks[i]);
      ct->title = m.title;
      ct->wall = now_mono() - t0;
      ct->cpu = (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9 +
                cpu_of(RUSAGE_CHILDREN) - c0;
    }
    eval_ctx_free(&c);
  }
  scan_cache_free(cache);
  return TN_OK;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}
static int by_wall_desc(const void *a, const void *b) {
  double x = ((const check_time *)a)->wall, y = ((const check_time *)b)->wall;
  return x > y ? -1 : x < y;
}
static int by_cpu_desc(const void *a, const void *b) {
  double x = ((const cmd_cost *)a)->cpu, y = ((const cmd_cost *)b)->cpu;
  return x > y ? -1 : x < y;
}

typedef struct stat3 {
  double median, min, max;
} stat3;

/* Median, min and max of field off of runs samples. */
static stat3 stats_of(const sample *s, size_t runs, size_t off) {
  double *v = malloc(runs * sizeof *v);
  stat3 r = {0, 0, 0};
  if (!v) return r;
  for (size_t i = 0; i < runs; i++)
    v[i] = *(const double *)((const char *)&s[i] + off);
  qsort(v, runs, sizeof *v, cmp_double);
  r.median = runs % 2 ? v[runs / 2] : (v[runs / 2 - 1] + v[runs / 2]) / 2;
  r.min = v[0];
  r.max = v[runs - 1];
  free(v);
  return r;
}

#define WALL offsetof(sample, wall)
#define SELF offsetof(sample, cpu_self)
#define CHILD offsetof(sample, cpu_children)

static void json_stat(strbuf *b, const char *name, stat3 s) {
  strbuf_printf(b, "\"%s\":{\"median\":%.6f,\"min\":%.6f,\"max\":%.6f}", name, s.median, s.min, s.max);
}

static void render_json(strbuf *b, char **paths, vm_image **imgs, size_t n, size_t runs, int jobs,
                        const int *order, mode_stats *ms, const check_time *ct, size_t nct, const costs *cs) {
  strbuf_printf(b, "{\"tenet_bench\":1,\"runs\":%zu,\"jobs\":%d,\"policies\":[", runs, jobs);
  for (size_t k = 0; k < n; k++) {
    strbuf_puts(b, k ? ",{\"path\":" : "{\"path\":");
    strbuf_json_str(b, paths[k]);
    strbuf_puts(b, ",\"id\":");
    strbuf_json_str(b, program_str(imgs[k]->prog, imgs[k]->prog->policy_id));
    strbuf_printf(b, ",\"checks\":%u}", imgs[k]->prog->nchecks);
  }
  strbuf_puts(b, "],\"sequence\":[");
  for (size_t i = 0; i < 2 * runs; i++)
    strbuf_printf(b, "%s\"%s\"", i ? "," : "", mode_name[order[i]]);
  strbuf_puts(b, "],\"modes\":{");
  for (int m = 0; m < NMODES; m++) {
    stat3 w = stats_of(ms[m].s, runs, WALL);
    strbuf_printf(b, "%s\"%s\":{\"jobs\":%d,\"cache\":%s,", m ? "," : "", mode_name[m],
                  m == MODE_TENET ? jobs : 1, m == MODE_TENET ? "true" : "false");
    json_stat(b, "wall", w);
    strbuf_putc(b, ',');
    json_stat(b, "cpu_self", stats_of(ms[m].s, runs, SELF));
    strbuf_putc(b, ',');
    json_stat(b, "cpu_children", stats_of(ms[m].s, runs, CHILD));
    strbuf_printf(
        b,
        ",\"checks\":%zu,\"checks_per_second\":%.1f,\"commands_run\":%zu,\"cache_hits\":%zu,"
        "\"builtin_hits\":%zu,\"samples\":[",
        ms[m].checks, w.median > 0 ? (double)ms[m].checks / w.median : 0.0, ms[m].commands_run,
        ms[m].cache_hits, ms[m].builtin_hits);
    for (size_t i = 0; i < runs; i++)
      strbuf_printf(b, "%s{\"wall\":%.6f,\"cpu_self\":%.6f,\"cpu_children\":%.6f}", i ? "," : "",
                    ms[m].s[i].wall, ms[m].s[i].cpu_self, ms[m].s[i].cpu_children);
    strbuf_puts(b, "]}");
  }
  double tw = stats_of(ms[MODE_TENET].s, runs, WALL).median,
         ww = stats_of(ms[MODE_WAZUH].s, runs, WALL).median;
  strbuf_printf(b, "},\"speedup\":%.3f,\"slowest_checks\":[", tw > 0 ? ww / tw : 0.0);
  for (size_t i = 0; i < nct && i < TOP; i++) {
    strbuf_puts(b, i ? ",{\"policy\":" : "{\"policy\":");
    strbuf_json_str(b, program_str(imgs[ct[i].policy]->prog, imgs[ct[i].policy]->prog->policy_id));
    strbuf_puts(b, ",\"id\":");
    if (ct[i].text)
      strbuf_json_str(b, ct[i].text);
    else
      strbuf_printf(b, "%lld", (long long)ct[i].id);
    strbuf_puts(b, ",\"title\":");
    strbuf_json_str(b, ct[i].title ? ct[i].title : "");
    strbuf_printf(b, ",\"wall\":%.6f,\"cpu\":%.6f}", ct[i].wall, ct[i].cpu);
  }
  strbuf_puts(b, "],\"costliest_commands\":[");
  for (size_t i = 0; i < cs->n && i < TOP; i++) {
    strbuf_puts(b, i ? ",{\"command\":" : "{\"command\":");
    strbuf_json_str(b, cs->c[i].cmd);
    strbuf_printf(b, ",\"calls_per_scan\":%.1f,\"cpu\":%.6f,\"wall\":%.6f}",
                  (double)cs->c[i].calls / (double)runs, cs->c[i].cpu / (double)runs,
                  cs->c[i].wall / (double)runs);
  }
  strbuf_puts(b, "]}\n");
}

static void render_text(FILE *o, char **paths, vm_image **imgs, size_t n, size_t runs, int jobs,
                        mode_stats *ms, const check_time *ct, size_t nct, const costs *cs) {
  fprintf(o, "tenet bench: %zu run%s of each mode, interleaved (ABBA)\n", runs, runs == 1 ? "" : "s");
  for (size_t k = 0; k < n; k++)
    fprintf(o, "  policy %s (%s): %u checks\n", program_str(imgs[k]->prog, imgs[k]->prog->policy_id),
            paths[k], imgs[k]->prog->nchecks);
  fprintf(o, "\nmedian [min-max] of %zu runs; CPU own: tenet itself, CPU children: the commands it ran\n",
          runs);
  fprintf(o, "%-30s %-24s %-24s %-26s %9s %9s %10s %7s\n", "mode", "wall s", "CPU own s", "CPU children s",
          "checks/s", "commands", "cache hits", "native");
  for (int m = 0; m < NMODES; m++) {
    stat3 w = stats_of(ms[m].s, runs, WALL), s = stats_of(ms[m].s, runs, SELF),
          c = stats_of(ms[m].s, runs, CHILD);
    char label[40], a[40], b[40], d[40];
    snprintf(label, sizeof label, "%s (jobs %d%s)", mode_name[m], m == MODE_TENET ? jobs : 1,
             m == MODE_TENET ? ", cache" : ", no cache");
    snprintf(a, sizeof a, "%.3f [%.3f-%.3f]", w.median, w.min, w.max);
    snprintf(b, sizeof b, "%.3f [%.3f-%.3f]", s.median, s.min, s.max);
    snprintf(d, sizeof d, "%.3f [%.3f-%.3f]", c.median, c.min, c.max);
    fprintf(o, "%-30s %-24s %-24s %-26s %9.1f %9zu %10zu %7zu\n", label, a, b, d,
            w.median > 0 ? (double)ms[m].checks / w.median : 0.0, ms[m].commands_run, ms[m].cache_hits,
            ms[m].builtin_hits);
  }
  double tw = stats_of(ms[MODE_TENET].s, runs, WALL).median,
         ww = stats_of(ms[MODE_WAZUH].s, runs, WALL).median;
  fprintf(o, "\nspeed-up over the Wazuh-like mode: %.2fx (median wall %.3f s vs %.3f s)\n",
          tw > 0 ? ww / tw : 0.0, tw, ww);
  fprintf(o, "\nslowest checks (each alone, sequential, no cache):\n  %10s %10s  %-24s %s\n", "wall s",
          "CPU s", "policy", "check");
  for (size_t i = 0; i < nct && i < TOP; i++) {
    char idb[CHECKID_BUF];
    fprintf(o, "  %10.4f %10.4f  %-24s %s %s\n", ct[i].wall, ct[i].cpu,
            program_str(imgs[ct[i].policy]->prog, imgs[ct[i].policy]->prog->policy_id),
            checkid_show(ct[i].id, ct[i].text, idb), ct[i].title ? ct[i].title : "");
  }
  fprintf(o,
          "\ncostliest commands (per Wazuh-like scan: CPU of the command and its children):\n  %10s %10s %6s "
          " %s\n",
          "CPU s", "wall s", "calls", "command");
  for (size_t i = 0; i < cs->n && i < TOP; i++)
    fprintf(o, "  %10.4f %10.4f %6.1f  %s\n", cs->c[i].cpu / (double)runs, cs->c[i].wall / (double)runs,
            (double)cs->c[i].calls / (double)runs, cs->c[i].cmd);
}

static void help(FILE *out) {
  fprintf(out, "usage: tenet bench [options] BUNDLE|POLICY.yml...\n"
               "  -n, --runs N          runs of each mode (default 5; 1 to 1000)\n"
               "  -j, --jobs N          workers of the tenet mode (default: one per core)\n"
               "  -f, --format F        text (default) or json (one document, for tracking over time)\n"
               "  -t, --timeout S       command timeout in seconds (default 30)\n"
               "  -p, --pubkey KEY.pub  bundles must be signed by this key\n"
               "      --allow-unsigned  run bundles without checking a signature\n"
               "  -v, --verbose         each run's mode and wall time on stderr, as it ends\n"
               "Each run scans the policies twice, as `tenet scan --jobs N` and as the Wazuh-like\n"
               "`--jobs 1 --no-cache`, alternating which goes first; see docs/BENCH.md.\n");
}

int cmd_bench(int argc, char **argv) {
  static const struct option opts[] = {{"runs", required_argument, 0, 'n'},
                                       {"jobs", required_argument, 0, 'j'},
                                       {"format", required_argument, 0, 'f'},
                                       {"timeout", required_argument, 0, 't'},
                                       {"pubkey", required_argument, 0, 'p'},
                                       {"allow-unsigned", no_argument, 0, 'U'},
                                       {"verbose", no_argument, 0, 'v'},
                                       {"help", no_argument, 0, 'h'},
                                       {0, 0, 0, 0}};
  long runs = 5;
  int jobs = 0, json = 0, verbose = 0, c;
  eval_options eo = EVAL_OPTIONS_DEFAULT;
  load_options lo = {0};
  const char *pub = NULL;
  optind = 1;
  opterr = 0; /* unknown options are reported by cli_getopt_error, with a suggestion */
  while ((c = getopt_long(argc, argv, "n:j:f:t:p:vh", opts, NULL)) != -1) {
    char *end;
    switch (c) {
    case 'n':
      runs = strtol(optarg, &end, 10);
      if (*end || runs < 1 || runs > 1000) {
        fprintf(stderr, "tenet bench: --runs takes a number from 1 to 1000\n");
        return 2;
      }
      break;
    case 'j':
      jobs = (int)strtol(optarg, &end, 10);
      if (*end || jobs < 1 || jobs > 256) {
        fprintf(stderr, "tenet bench: --jobs takes a number from 1 to 256\n");
        return 2;
      }
      break;
    case 'f':
      if (strcmp(optarg, "json") == 0)
        json = 1;
      else if (strcmp(optarg, "text") == 0)
        json = 0;
      else {
        fprintf(stderr, "tenet bench: unknown --format '%s' (text, json)\n", optarg);
        return 2;
      }
      break;
    case 't':
      eo.command_timeout = (int)strtol(optarg, &end, 10);
      if (*end || eo.command_timeout < 1 || eo.command_timeout > 3600) {
        fprintf(stderr, "tenet bench: --timeout takes seconds from 1 to 3600\n");
        return 2;
      }
      break;
    case 'p': pub = optarg; break;
    case 'U': lo.allow_unsigned = 1; break;
    case 'v': verbose = 1; break;
    case 'h': help(stdout); return 0;
    default: return cli_getopt_error("tenet bench", opts, argv);
    }
  }
  if (optind >= argc) {
    help(stderr);
    return 2;
  }
  if (jobs == 0) {
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    jobs = cpus < 1 ? 1 : cpus > 256 ? 256 : (int)cpus;
  }
  char err[512];
  crypto_key *key = NULL;
  if (pub && !(key = crypto_key_load_public(pub, err, sizeof err))) {
    fprintf(stderr, "tenet bench: %s\n", err);
    return 1;
  }
  lo.pubkey = key;
  size_t n = (size_t)(argc - optind), nload = 0, nct = 0;
  loaded_policy *lps = calloc(n, sizeof *lps);
  vm_image **imgs = calloc(n, sizeof *imgs);
  const uint8_t **hashes = calloc(n, sizeof *hashes);
  policy_scan *scans = calloc(n, sizeof *scans);
  int *order = calloc((size_t)runs * 2, sizeof *order);
  mode_stats ms[NMODES] = {{calloc((size_t)runs, sizeof(sample)), 0, 0, 0, 0},
                           {calloc((size_t)runs, sizeof(sample)), 0, 0, 0, 0}};
  costs cs = {.n = 0};
  check_time *ct = NULL;
  int status = 0, rc = TN_OK;
  pthread_mutex_init(&cs.mu, NULL);
  if (!lps || !imgs || !hashes || !scans || !order || !ms[0].s || !ms[1].s) {
    rc = TN_ENOMEM;
    goto out;
  }
  for (size_t k = 0; k < n; k++) {
    diag_list *d = diag_list_new();
    rc = load_policy(argv[optind + (int)k], &lo, &lps[k], d, err, sizeof err);
    if (rc != TN_OK) {
      diag_print(d, stderr, cli_use_color(stderr));
      fprintf(stderr, "tenet bench: %s\n", err);
    }
    diag_list_free(d);
    if (rc != TN_OK) {
      status = 1;
      goto out;
    }
    nload++;
    if (!(imgs[k] = vm_image_load(lps[k].prog, err, sizeof err))) {
      fprintf(stderr, "tenet bench: %s: %s\n", argv[optind + (int)k], err);
      status = 1;
      goto out;
    }
    hashes[k] = lps[k].from_bundle ? lps[k].info.bundle_hash : NULL;
  }
  for (long r = 0; r < runs && rc == TN_OK; r++) {
    for (int half = 0; half < 2 && rc == TN_OK; half++) {
      int mode = (int)((r + half) % 2); /* ABBA: tenet first on even runs */
      order[2 * r + half] = mode;
      rc = run_once(imgs, hashes, n, mode, jobs, &eo, &cs, scans, &ms[mode].s[r], &ms[mode]);
      if (verbose)
        fprintf(stderr, "tenet bench: run %ld/%ld %s: %.3f s wall, %zu checks, %zu commands run\n", r + 1,
                runs, mode_name[mode], ms[mode].s[r].wall, ms[mode].checks, ms[mode].commands_run);
      if (!(r == runs - 1 && half == 1))
        for (size_t k = 0; k < n; k++)
          policy_scan_free(&scans[k]);
    }
  }
  for (size_t k = 0; rc == TN_OK && k < n; k++)
    if (scans[k].status != SCAN_DONE)
      fprintf(stderr, "tenet bench: %s: %s\n", argv[optind + (int)k],
              scans[k].message ? scans[k].message : "skipped");
  if (rc == TN_OK) rc = profile_checks(imgs, n, scans, &eo, &ct, &nct);
  if (rc == TN_OK && cs.oom) rc = TN_ENOMEM;
  if (rc == TN_OK) {
    qsort(ct, nct, sizeof *ct, by_wall_desc);
    qsort(cs.c, cs.n, sizeof *cs.c, by_cpu_desc);
    if (json) {
      strbuf b = STRBUF_INIT;
      render_json(&b, argv + optind, imgs, n, (size_t)runs, jobs, order, ms, ct, nct, &cs);
      if (!strbuf_ok(&b))
        rc = TN_ENOMEM;
      else
        fwrite(b.data, 1, b.len, stdout);
      strbuf_free(&b);
    } else {
      render_text(stdout, argv + optind, imgs, n, (size_t)runs, jobs, ms, ct, nct, &cs);
    }
    if (rc == TN_OK && fflush(stdout) != 0) rc = TN_EIO;
  }
out:
  if (rc != TN_OK && !status) {
    fprintf(stderr, "tenet bench: %s\n", tn_strerror(rc));
    status = 1;
  }
  for (size_t k = 0; k < n && scans; k++)
    policy_scan_free(&scans[k]);
  for (size_t k = 0; k < nload; k++) {
    vm_image_free(imgs[k]);
    loaded_policy_free(&lps[k]);
  }
  for (size_t i = 0; i < cs.n; i++)
    free(cs.c[i].cmd);
  free(cs.c);
  pthread_mutex_destroy(&cs.mu);
  free(ct);
  free(ms[0].s);
  free(ms[1].s);
  free(order);
  free(scans);
  free(hashes);
  free(imgs);
  free(lps);
  crypto_key_free(key);
  return status;
}
