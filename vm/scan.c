/* scan.c — scanning policies: each policy's requirements first (SCA-SEMANTICS §3.3), then the
 * checks of every runnable policy on one pool of workers pulling jobs from a shared counter (checks
 * are independent), each worker with its own evaluation context and all sharing one per-scan
 * cache; then, per policy, results sorted by check id, counts, float32 score, results hash and
 * summary. One pool for all policies keeps both cores busy until the very last check, instead of
 * draining the pool at the end of every policy. */
#include "scan.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "crypto.h"
#include "err.h"
#include "event.h"
#include "runner.h"

typedef struct job {
  uint32_t policy; /* index into the scan's images */
  uint32_t check;  /* index into that program's checks */
} job;

typedef struct pool {
  const vm_image *const *imgs;
  policy_scan *outs;
  check_result **res; /* per policy, in program order */
  scan_cache *cache;
  const scan_options *opt;
  job *jobs;
  size_t njobs;
  atomic_size_t next, done;
  pthread_mutex_t progress_lock;
  atomic_int oom;
} pool;

/* The structured result of check i of p, then its Wazuh event rendered from it. TN_OK or TN_ENOMEM. */
static int fill_result(check_result *cr, const program *p, uint32_t i, int result, const char *reason,
                       const eval_ctx *c, int64_t scan_id) {
  cr->id = p->checks[i].id;
  cr->id_text = program_check_text_id(p, &p->checks[i]);
  cr->index = i;
  cr->result = result;
  if (reason && !(cr->reason = strdup(reason))) return TN_ENOMEM;
  for (int k = 0; k < LOC__COUNT; k++)
    if (c->loc[k].len && !(cr->loc[k] = strndup(c->loc[k].data, c->loc[k].len))) return TN_ENOMEM;
  return (cr->event = event_render_check(p, cr, scan_id)) ? TN_OK : TN_ENOMEM;
}

static void run_one(pool *pl, eval_ctx *c, job j) {
  const vm_image *img = pl->imgs[j.policy];
  const program *p = img->prog;
  const prog_check *chk = &p->checks[j.check];
  c->prog = p; /* the worker's context serves every policy; vm_exec_check resets its outputs */
  c->rx = img->rx;
  int r = vm_exec_check(c, chk);
  check_result *cr = &pl->res[j.policy][j.check];
  const char *none = p->dialect == DIALECT_WAZUH5 ? "" : "Unknown reason"; /* 5.x: no rule reason */
  if (fill_result(cr, p, j.check, r, r == EV_INVALID ? (c->reason ? c->reason : none) : NULL, c,
                  pl->outs[j.policy].scan_id) != TN_OK)
    atomic_store(&pl->oom, 1);
}

static void *worker(void *arg) {
  pool *pl = arg;
  eval_ctx c;
  vm_ctx_init(&c, pl->imgs[0], pl->cache, &pl->opt->eval);
  for (;;) {
    size_t i = atomic_fetch_add(&pl->next, 1);
    if (i >= pl->njobs) break;
    run_one(pl, &c, pl->jobs[i]);
    size_t done = atomic_fetch_add(&pl->done, 1) + 1;
    if (pl->opt->progress) {
      pthread_mutex_lock(&pl->progress_lock);
      pl->opt->progress(pl->opt->progress_arg, done, pl->njobs);
      pthread_mutex_unlock(&pl->progress_lock);
    }
  }
  eval_ctx_free(&c);
  return NULL;
}

/* Whether a check starts by running a command: commands cost milliseconds to seconds, file and
 * directory rules microseconds. */
static int starts_with_command(const program *p, const prog_check *chk) {
  if (!chk->code_len) return 0;
  const insn *in = &p->code[chk->code];
  return in->op == OP_CMD && (in->b != PROG_NONE || p->dialect == DIALECT_WAZUH5);
}

/* What a job's commands cost when they last ran in this process (runner_cost_us, microseconds;
 * a command never run counts as 0): the sort key of schedule(). */
static int64_t job_cost(const pool *pl, job j) {
  const program *p = pl->imgs[j.policy]->prog;
  const prog_check *chk = &p->checks[j.check];
  int64_t sum = 0;
  for (uint32_t a = chk->code; a < chk->code + chk->code_len; a++)
    if (p->code[a].op == OP_CMD) {
      int64_t us = runner_cost_us(program_str(p, p->code[a].a));
      if (us > 0) sum += us;
    }
  return sum;
}

static int by_cost(const void *a, const void *b) {
  const int64_t *x = a, *y = b; /* {cost, original position} */
  if (x[0] != y[0]) return x[0] < y[0] ? 1 : -1;
  return (x[1] > y[1]) - (x[1] < y[1]);
}

/* The order workers take jobs in: checks that start with a command first, the slowest commands of
 * the previous scans in this process first (an agent learns its host's costs), so one slow
 * command does not set the wall time at the end of the scan and the cheap file checks fill the
 * tail; ties (and a first scan) keep policy order. Results are sorted by check id afterwards, so
 * the order changes nothing but the wall time. */
static void schedule(pool *pl, const int *runnable, size_t n) {
  size_t ncmd = 0;
  for (int pass = 0; pass < 2; pass++) {
    for (size_t k = 0; k < n; k++) {
      if (!runnable[k]) continue;
      const program *p = pl->imgs[k]->prog;
      for (uint32_t i = 0; i < p->nchecks; i++)
        if (starts_with_command(p, &p->checks[i]) == !pass)
          pl->jobs[pl->njobs++] = (job){.policy = (uint32_t)k, .check = i};
    }
    if (pass == 0) ncmd = pl->njobs;
  }
  int64_t(*key)[3] = malloc(ncmd * sizeof *key); /* cost, position, job (policy << 32 | check) */
  if (!key) return;                              /* keep the unsorted order */
  for (size_t i = 0; i < ncmd; i++) {
    key[i][0] = job_cost(pl, pl->jobs[i]);
    key[i][1] = (int64_t)i;
    key[i][2] = (int64_t)pl->jobs[i].policy << 32 | pl->jobs[i].check;
  }
  qsort(key, ncmd, sizeof *key, by_cost);
  for (size_t i = 0; i < ncmd; i++)
    pl->jobs[i] = (job){.policy = (uint32_t)(key[i][2] >> 32), .check = (uint32_t)key[i][2]};
  free(key);
}

static int by_id(const void *a, const void *b) {
  int64_t x = ((const check_result *)a)->id, y = ((const check_result *)b)->id;
  return (x > y) - (x < y);
}

static int64_t random_scan_id(void) {
  uint32_t v = 0;
  if (getrandom(&v, sizeof v, 0) != (ssize_t)sizeof v) v = (uint32_t)time(NULL) ^ (uint32_t)getpid();
  return (int64_t)(v & 0x7fffffffu);
}

static int worker_count(const scan_options *opt, size_t njobs) {
  long n = opt->jobs > 0 ? opt->jobs : sysconf(_SC_NPROCESSORS_ONLN);
  if (n < 1) n = 1;
  if (n > 64) n = 64;
  if ((size_t)n > njobs) n = njobs ? (long)njobs : 1;
  return (int)n;
}

/* Evaluate the requirements: met only when the outcome is passed. */
static int requirements_met(const vm_image *img, scan_cache *cache, const scan_options *opt, char **why) {
  const program *p = img->prog;
  if (!p->has_requirements) return 1;
  /* 5.x: requirements whose every rule was dropped at load are not evaluated (the module only
   * evaluates a non-empty rule list), so they are met */
  const prog_check *rq = &p->requirements;
  if (p->dialect == DIALECT_WAZUH5 && (!rq->code_len || p->code[rq->code].op == OP_RESULT)) return 1;
  eval_ctx c;
  vm_ctx_init(&c, img, cache, &opt->eval);
  int r = vm_exec_check(&c, &p->requirements);
  eval_ctx_free(&c);
  if (r == EV_FOUND) return 1;
  if (asprintf(why, "Skipping policy '%s': '%s'", program_str(p, p->policy_id),
               program_str(p, p->requirements.title)) < 0)
    *why = NULL;
  return 0;
}

/* 5.x: requirements not met → every check is reported not applicable (SCA-SEMANTICS §10). */
static void fill_unmet(pool *pl, uint32_t k) {
  const vm_image *img = pl->imgs[k];
  const program *p = img->prog;
  eval_ctx c;
  vm_ctx_init(&c, img, pl->cache, &pl->opt->eval);
  for (uint32_t i = 0; i < p->nchecks; i++) {
    if (fill_result(&pl->res[k][i], p, i, EV_INVALID, "Policy requirements not met", &c,
                    pl->outs[k].scan_id) != TN_OK)
      atomic_store(&pl->oom, 1);
  }
  eval_ctx_free(&c);
}

/* Decide what happens to policy k before the pool runs: 1 its checks run, 0 they do not. */
static int prepare(pool *pl, uint32_t k, const uint8_t *bundle_hash) {
  const vm_image *img = pl->imgs[k];
  const program *p = img->prog;
  policy_scan *out = &pl->outs[k];
  out->prog = p;
  out->scan_id = pl->opt->scan_id >= 0 ? pl->opt->scan_id : random_scan_id();
  crypto_hex(p->source_sha256, sizeof p->source_sha256, out->hash_file);
  if (bundle_hash) crypto_hex(bundle_hash, CRYPTO_SHA256_LEN, out->bundle_hash);
  if (p->flags & PROGF_REGISTRY) {
    out->status = SCAN_NOT_RUNNABLE;
    if (asprintf(&out->message,
                 "Policy '%s' uses Windows registry rules (r:) and cannot run on this host. Skipping it.",
                 program_str(p, p->policy_id)) < 0)
      out->message = NULL;
    return 0;
  }
  char *why = NULL;
  int met = requirements_met(img, pl->cache, pl->opt, &why);
  if (!met && p->dialect != DIALECT_WAZUH5) {
    out->status = SCAN_REQUIREMENTS_UNMET;
    out->message = why;
    return 0;
  }
  free(why);
  out->status = SCAN_DONE;
  if (p->nchecks && !(pl->res[k] = calloc(p->nchecks, sizeof **pl->res))) {
    atomic_store(&pl->oom, 1);
    return 0;
  }
  if (!met) {
    fill_unmet(pl, k);
    return 0;
  }
  return 1;
}

/* Counts, score, results hash and summary of a finished policy; takes ownership of res. */
static int finish(pool *pl, uint32_t k) {
  const program *p = pl->imgs[k]->prog;
  policy_scan *out = &pl->outs[k];
  check_result *res = pl->res[k];
  pl->res[k] = NULL;
  qsort(res, p->nchecks, sizeof *res, by_id);
  out->checks = res;
  out->nchecks = p->nchecks;
  int *results = malloc((out->nchecks ? out->nchecks : 1) * sizeof *results);
  if (!results) return TN_ENOMEM;
  for (size_t i = 0; i < out->nchecks; i++) {
    results[i] = out->checks[i].result;
    if (results[i] == EV_FOUND) out->passed++;
    else if (results[i] == EV_NOT_FOUND) out->failed++;
    else if (results[i] == EV_NOT_RUN) out->not_run++;
    else out->invalid++;
  }
  scan_results_hash(results, out->nchecks, out->hash);
  free(results);
  out->score = (out->passed + out->failed) ? (float)out->passed / ((float)out->failed + (float)out->passed) * 100
                                           : 0.0f;
  /* Wazuh sends no summary for a policy with no stored check (SCA-SEMANTICS §11.39). */
  if (out->nchecks && !(out->summary = event_render_summary(p, out))) return TN_ENOMEM;
  return TN_OK;
}

static void free_result(check_result *r) {
  free(r->reason);
  for (int k = 0; k < LOC__COUNT; k++)
    free(r->loc[k]);
  free(r->event);
}

static void free_results(check_result *res, uint32_t n) {
  for (uint32_t i = 0; res && i < n; i++)
    free_result(&res[i]);
  free(res);
}

int scan_run_many(const vm_image *const *imgs, const uint8_t *const *bundle_hashes, size_t n, scan_cache *cache,
                  const scan_options *opt, policy_scan *outs) {
  memset(outs, 0, n * sizeof *outs);
  if (n == 0) return TN_OK;
  scan_cache *own = NULL;
  if (!cache && !(cache = own = scan_cache_new(1))) return TN_ENOMEM;
  size_t runs0 = scan_cache_commands_run(cache), reads0 = scan_cache_files_read(cache);

  pool pl = {.imgs = imgs, .outs = outs, .cache = cache, .opt = opt};
  pthread_mutex_init(&pl.progress_lock, NULL);
  int rc = TN_OK, *runnable = calloc(n, sizeof *runnable);
  size_t total = 0;
  if (!runnable || !(pl.res = calloc(n, sizeof *pl.res))) {
    rc = TN_ENOMEM;
    goto done;
  }
  for (size_t k = 0; k < n; k++) total += imgs[k]->prog->nchecks;
  if (total && !(pl.jobs = malloc(total * sizeof *pl.jobs))) {
    rc = TN_ENOMEM;
    goto done;
  }

  for (size_t k = 0; k < n; k++) runnable[k] = prepare(&pl, (uint32_t)k, bundle_hashes ? bundle_hashes[k] : NULL);
  schedule(&pl, runnable, n);
  int64_t start = (int64_t)time(NULL); /* Wazuh's start/end bracket the checks, after requirements */

  int nworkers = worker_count(opt, pl.njobs);
  pthread_t *tids = calloc((size_t)nworkers, sizeof *tids);
  int started = 0;
  for (int i = 1; tids && i < nworkers; i++) {
    if (pthread_create(&tids[i], NULL, worker, &pl) != 0) break;
    started = i;
  }
  worker(&pl); /* the calling thread works too */
  for (int i = 1; i <= started; i++) pthread_join(tids[i], NULL);
  free(tids);
  int64_t end = (int64_t)time(NULL);
  if (atomic_load(&pl.oom)) {
    rc = TN_ENOMEM;
    goto done;
  }
  for (size_t k = 0; k < n && rc == TN_OK; k++) {
    if (outs[k].status != SCAN_DONE) continue;
    outs[k].start_time = start;
    outs[k].end_time = end;
    rc = finish(&pl, (uint32_t)k);
  }

done:
  for (size_t k = 0; k < n; k++) {
    outs[k].commands_run = scan_cache_commands_run(cache) - runs0;
    outs[k].files_read = scan_cache_files_read(cache) - reads0;
    if (pl.res) free_results(pl.res[k], imgs[k]->prog->nchecks);
  }
  free(pl.res);
  free(pl.jobs);
  free(runnable);
  pthread_mutex_destroy(&pl.progress_lock);
  scan_cache_free(own);
  return rc;
}

int scan_run(const vm_image *img, const uint8_t *bundle_hash, scan_cache *cache, const scan_options *opt,
             policy_scan *out) {
  return scan_run_many(&img, &bundle_hash, 1, cache, opt, out);
}

void policy_scan_free(policy_scan *s) {
  if (!s) return;
  for (size_t i = 0; i < s->nchecks; i++)
    free_result(&s->checks[i]);
  free(s->checks);
  free(s->message);
  free(s->summary);
  memset(s, 0, sizeof *s);
}

int scan_check_meta(const policy_scan *s, const check_result *r, prog_check_meta *out) {
  if (!s->prog || r->index >= s->prog->nchecks || s->prog->checks[r->index].id != r->id) {
    memset(out, 0, sizeof *out);
    out->title = "";
    return -1;
  }
  program_check_meta(s->prog, &s->prog->checks[r->index], out);
  return 0;
}
