/* scan.c — one policy scan: requirements first (SCA-SEMANTICS §3.3), then every check on a pool of
 * workers pulling check indexes from a shared counter (checks are independent), each worker with
 * its own evaluation context and all sharing one per-scan cache; then results sorted by check id,
 * counts, float32 score, results hash and summary. */
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

typedef struct pool {
  const vm_image *img;
  scan_cache *cache;
  const scan_options *opt;
  int64_t scan_id;
  check_result *out; /* in program order */
  uint32_t *order;   /* the order workers take checks in (see schedule) */
  atomic_size_t next, done;
  pthread_mutex_t progress_lock;
  atomic_int oom;
} pool;

static void run_one(pool *pl, eval_ctx *c, uint32_t i) {
  const program *p = pl->img->prog;
  const prog_check *chk = &p->checks[i];
  int r = vm_exec_check(c, chk);
  check_result *cr = &pl->out[i];
  cr->id = chk->id;
  cr->result = r;
  if (r == EV_INVALID) cr->reason = strdup(c->reason ? c->reason : "Unknown reason");
  cr->event = event_render_check(p, chk, pl->scan_id, r, cr->reason, c);
  if (!cr->event || (r == EV_INVALID && !cr->reason)) atomic_store(&pl->oom, 1);
}

static void *worker(void *arg) {
  pool *pl = arg;
  eval_ctx c;
  vm_ctx_init(&c, pl->img, pl->cache, &pl->opt->eval);
  size_t n = pl->img->prog->nchecks;
  for (;;) {
    size_t i = atomic_fetch_add(&pl->next, 1);
    if (i >= n) break;
    run_one(pl, &c, pl->order[i]);
    size_t done = atomic_fetch_add(&pl->done, 1) + 1;
    if (pl->opt->progress) {
      pthread_mutex_lock(&pl->progress_lock);
      pl->opt->progress(pl->opt->progress_arg, done, n);
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

/* The order workers take checks in: those that start with a command first, so the long commands
 * start early and the cheap file checks fill the tail; otherwise policy order. Results are sorted
 * by check id afterwards, so the order changes nothing but the wall time. */
static void schedule(const program *p, uint32_t *order) {
  uint32_t k = 0;
  for (uint32_t i = 0; i < p->nchecks; i++)
    if (starts_with_command(p, &p->checks[i])) order[k++] = i;
  for (uint32_t i = 0; i < p->nchecks; i++)
    if (!starts_with_command(p, &p->checks[i])) order[k++] = i;
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

static int worker_count(const scan_options *opt, size_t nchecks) {
  long n = opt->jobs > 0 ? opt->jobs : sysconf(_SC_NPROCESSORS_ONLN);
  if (n < 1) n = 1;
  if (n > 64) n = 64;
  if ((size_t)n > nchecks) n = nchecks ? (long)nchecks : 1;
  return (int)n;
}

/* Evaluate the requirements: met only when the outcome is passed. */
static int requirements_met(const vm_image *img, scan_cache *cache, const scan_options *opt, char **why) {
  const program *p = img->prog;
  if (!p->has_requirements) return 1;
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
static int fill_unmet(pool *pl) {
  const program *p = pl->img->prog;
  eval_ctx c;
  vm_ctx_init(&c, pl->img, pl->cache, &pl->opt->eval);
  for (uint32_t i = 0; i < p->nchecks; i++) {
    check_result *cr = &pl->out[i];
    cr->id = p->checks[i].id;
    cr->result = EV_INVALID;
    cr->reason = strdup("Policy requirements not met");
    cr->event = event_render_check(p, &p->checks[i], pl->scan_id, EV_INVALID, cr->reason, &c);
    if (!cr->reason || !cr->event) atomic_store(&pl->oom, 1);
  }
  eval_ctx_free(&c);
  return 0;
}

int scan_run(const vm_image *img, const uint8_t *bundle_hash, scan_cache *cache, const scan_options *opt,
             policy_scan *out) {
  const program *p = img->prog;
  memset(out, 0, sizeof *out);
  out->scan_id = opt->scan_id >= 0 ? opt->scan_id : random_scan_id();
  crypto_hex(p->source_sha256, sizeof p->source_sha256, out->hash_file);
  if (bundle_hash) crypto_hex(bundle_hash, CRYPTO_SHA256_LEN, out->bundle_hash);

  if (p->flags & PROGF_REGISTRY) {
    out->status = SCAN_NOT_RUNNABLE;
    if (asprintf(&out->message,
                 "Policy '%s' uses Windows registry rules (r:) and cannot run on this host. Skipping it.",
                 program_str(p, p->policy_id)) < 0)
      out->message = NULL;
    return TN_OK;
  }

  scan_cache *own = NULL;
  if (!cache && !(cache = own = scan_cache_new(1))) return TN_ENOMEM;
  size_t runs0 = scan_cache_commands_run(cache), reads0 = scan_cache_files_read(cache);

  pool pl = {.img = img, .cache = cache, .opt = opt, .scan_id = out->scan_id};
  pthread_mutex_init(&pl.progress_lock, NULL);
  int rc = TN_OK;
  if (p->nchecks && (!(pl.out = calloc(p->nchecks, sizeof *pl.out)) ||
                     !(pl.order = malloc(p->nchecks * sizeof *pl.order)))) {
    rc = TN_ENOMEM;
    goto done;
  }
  if (pl.order) schedule(p, pl.order);

  char *why = NULL;
  int met = requirements_met(img, cache, opt, &why);
  if (!met && p->dialect != DIALECT_WAZUH5) {
    out->status = SCAN_REQUIREMENTS_UNMET;
    out->message = why;
    goto done;
  }
  free(why);

  out->start_time = (int64_t)time(NULL);
  if (!met) {
    fill_unmet(&pl);
  } else {
    int n = worker_count(opt, p->nchecks);
    pthread_t *tids = calloc((size_t)n, sizeof *tids);
    int started = 0;
    for (int i = 1; tids && i < n; i++)
      if (pthread_create(&tids[i], NULL, worker, &pl) == 0) started = i;
      else break;
    worker(&pl); /* the calling thread works too */
    for (int i = 1; i <= started; i++) pthread_join(tids[i], NULL);
    free(tids);
  }
  out->end_time = (int64_t)time(NULL);
  if (atomic_load(&pl.oom)) {
    rc = TN_ENOMEM;
    goto done;
  }

  qsort(pl.out, p->nchecks, sizeof *pl.out, by_id);
  out->checks = pl.out;
  out->nchecks = p->nchecks;
  pl.out = NULL;
  int *results = malloc((out->nchecks ? out->nchecks : 1) * sizeof *results);
  if (!results) {
    rc = TN_ENOMEM;
    goto done;
  }
  for (size_t i = 0; i < out->nchecks; i++) {
    results[i] = out->checks[i].result;
    if (results[i] == EV_FOUND) out->passed++;
    else if (results[i] == EV_NOT_FOUND) out->failed++;
    else out->invalid++;
  }
  scan_results_hash(results, out->nchecks, out->hash);
  free(results);
  out->score = (out->passed + out->failed) ? (float)out->passed / ((float)out->failed + (float)out->passed) * 100
                                           : 0.0f;
  out->status = SCAN_DONE;
  /* Wazuh sends no summary for a policy with no stored check (SCA-SEMANTICS §11.39). */
  if (out->nchecks && !(out->summary = event_render_summary(p, out))) rc = TN_ENOMEM;

done:
  out->commands_run = scan_cache_commands_run(cache) - runs0;
  out->files_read = scan_cache_files_read(cache) - reads0;
  if (pl.out) {
    for (uint32_t i = 0; i < p->nchecks; i++) {
      free(pl.out[i].reason);
      free(pl.out[i].event);
    }
    free(pl.out);
  }
  free(pl.order);
  pthread_mutex_destroy(&pl.progress_lock);
  scan_cache_free(own);
  return rc;
}

void policy_scan_free(policy_scan *s) {
  if (!s) return;
  for (size_t i = 0; i < s->nchecks; i++) {
    free(s->checks[i].reason);
    free(s->checks[i].event);
  }
  free(s->checks);
  free(s->message);
  free(s->summary);
  memset(s, 0, sizeof *s);
}
