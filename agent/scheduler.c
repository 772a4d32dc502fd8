/* scheduler.c — scan cycles over the installed bundles, the thread that runs them and the loop
 * timer that times them (see scheduler.h). */
#include "scheduler.h"

#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "builtin.h"
#include "daemon_log.h"
#include "err.h"
#include "keyring.h"
#include "scan.h"
#include "vm.h"

/* One bundle file as last seen. */
typedef struct cached {
  char *path;
  dev_t dev;
  ino_t ino;
  off_t size;
  struct timespec mtime;
  int status;         /* TN_OK: loaded; else why it was refused (logged once per change) */
  int refusal_logged; /* for refusals found each cycle (expiry, rollback) */
  agent_bundle b;
  vm_image *img;
  int seen; /* present in this cycle's listing */
} cached;

struct agent_cycle {
  const agent_config *cfg;
  const agent_trust *trust;
  agent_store *store;
  cached *files;
  size_t nfiles, cap;
};

agent_cycle *agent_cycle_new(const agent_config *cfg, const agent_trust *trust, agent_store *store) {
  agent_cycle *c = calloc(1, sizeof *c);
  if (!c) return NULL;
  c->cfg = cfg;
  c->trust = trust;
  c->store = store;
  return c;
}

static void cached_clear(cached *f) {
  vm_image_free(f->img);
  agent_bundle_clear(&f->b);
  f->img = NULL;
}

void agent_cycle_free(agent_cycle *c) {
  if (!c) return;
  for (size_t i = 0; i < c->nfiles; i++) {
    cached_clear(&c->files[i]);
    free(c->files[i].path);
  }
  free(c->files);
  free(c);
}

static cached *lookup(agent_cycle *c, const char *path) {
  for (size_t i = 0; i < c->nfiles; i++)
    if (strcmp(c->files[i].path, path) == 0) return &c->files[i];
  if (c->nfiles == c->cap) {
    size_t ncap = c->cap ? c->cap * 2 : 8;
    cached *n = realloc(c->files, ncap * sizeof *n);
    if (!n) return NULL;
    c->files = n;
    c->cap = ncap;
  }
  cached *f = &c->files[c->nfiles];
  memset(f, 0, sizeof *f);
  if (!(f->path = strdup(path))) return NULL;
  f->status = -1;
  c->nfiles++;
  return f;
}

/* (Re)load f when its file changed since the last cycle. */
static void refresh(agent_cycle *c, cached *f, const struct stat *st, int64_t now) {
  if (f->status != -1 && f->dev == st->st_dev && f->ino == st->st_ino && f->size == st->st_size &&
      f->mtime.tv_sec == st->st_mtim.tv_sec && f->mtime.tv_nsec == st->st_mtim.tv_nsec)
    return;
  cached_clear(f);
  f->dev = st->st_dev;
  f->ino = st->st_ino;
  f->size = st->st_size;
  f->mtime = st->st_mtim;
  f->refusal_logged = 0;
  char why[512];
  f->status = agent_trust_verify_file(c->trust, f->path, now, &f->b, why, sizeof why);
  if (f->status != TN_OK) {
    log_warn("Refused bundle %s: %s: %s", f->path, agent_trust_refusal(f->status), why);
    f->refusal_logged = 1;
    return;
  }
  if (!(f->img = vm_image_load(f->b.prog, why, sizeof why))) {
    log_error("Cannot load bundle %s: %s", f->path, why);
    cached_clear(f);
    f->status = TN_ENOMEM;
    return;
  }
  log_info("Loaded bundle %s: policy '%s' version %llu (bundle hash %.16s..., signed by %s)", f->path,
           program_str(f->b.prog, f->b.prog->policy_id), (unsigned long long)f->b.prog->policy_version,
           f->b.bundle_hash, f->b.signer);
}

static int by_path(const void *a, const void *b) {
  return strcmp((*(cached *const *)a)->path, (*(cached *const *)b)->path);
}

/* The accepted bundles of this cycle, one per policy id (the highest version wins), in file-name
 * order. *out is malloc'd (pointers into c->files). */
static size_t select_bundles(agent_cycle *c, int64_t now, cached ***out, size_t *refused) {
  *out = NULL;
  *refused = 0;
  for (size_t i = 0; i < c->nfiles; i++)
    c->files[i].seen = 0;
  DIR *d = opendir(c->cfg->bundle_dir);
  if (!d) {
    log_error("Cannot read the bundle directory %s: %s", c->cfg->bundle_dir, strerror(errno));
    return 0;
  }
  struct dirent *e;
  while ((e = readdir(d))) {
    if (!agent_trust_is_bundle_name(e->d_name)) continue;
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", c->cfg->bundle_dir, e->d_name);
    struct stat st;
    if (stat(path, &st) != 0 || !S_ISREG(st.st_mode)) continue;
    cached *f = lookup(c, path);
    if (!f) continue;
    f->seen = 1;
    refresh(c, f, &st, now);
  }
  closedir(d);
  /* Forget files that disappeared. */
  for (size_t i = 0; i < c->nfiles;) {
    if (!c->files[i].seen) {
      cached_clear(&c->files[i]);
      free(c->files[i].path);
      c->files[i] = c->files[--c->nfiles];
    } else {
      i++;
    }
  }
  cached **sel = malloc((c->nfiles ? c->nfiles : 1) * sizeof *sel);
  if (!sel) return 0;
  size_t n = 0;
  for (size_t i = 0; i < c->nfiles; i++) {
    cached *f = &c->files[i];
    if (f->status != TN_OK) {
      (*refused)++;
      continue;
    }
    const program *p = f->b.prog;
    const char *pid = program_str(p, p->policy_id);
    char why[512];
    int rc = keyring_check_expiry(p, now, why, sizeof why); /* it may have expired since it was loaded */
    if (rc == TN_OK) rc = agent_trust_check_version(c->store, pid, p->policy_version, NULL, why, sizeof why);
    if (rc != TN_OK) {
      if (!f->refusal_logged) log_warn("Refused bundle %s: %s: %s", f->path, agent_trust_refusal(rc), why);
      f->refusal_logged = 1;
      (*refused)++;
      continue;
    }
    f->refusal_logged = 0;
    sel[n++] = f;
  }
  qsort(sel, n, sizeof *sel, by_path);
  /* One bundle per policy id: keep the highest version. */
  size_t k = 0;
  for (size_t i = 0; i < n; i++) {
    const char *pid = program_str(sel[i]->b.prog, sel[i]->b.prog->policy_id);
    size_t j;
    for (j = 0; j < k; j++)
      if (strcmp(program_str(sel[j]->b.prog, sel[j]->b.prog->policy_id), pid) == 0) break;
    if (j == k) {
      sel[k++] = sel[i];
      continue;
    }
    cached *keep = sel[j]->b.prog->policy_version >= sel[i]->b.prog->policy_version ? sel[j] : sel[i];
    cached *drop = keep == sel[j] ? sel[i] : sel[j];
    log_warn("Bundles %s and %s both hold policy '%s': running %s (version %llu)", drop->path, keep->path,
             pid, keep->path, (unsigned long long)keep->b.prog->policy_version);
    sel[j] = keep;
  }
  *out = sel;
  return k;
}

int agent_cycle_run(agent_cycle *c, int64_t now, agent_cycle_stats *stats) {
  memset(stats, 0, sizeof *stats);
  if (!now) now = (int64_t)time(NULL);
  time_t t0 = time(NULL);
  log_info("Starting Security Configuration Assessment scan.");
  cached **sel;
  size_t n = select_bundles(c, now, &sel, &stats->refused);
  const char **ids = malloc((n ? n : 1) * sizeof *ids);
  if (!ids) {
    free(sel);
    return TN_ENOMEM;
  }
  agent_outbox_limits lim = {(size_t)c->cfg->batch_checks, (size_t)c->cfg->max_frame};
  scan_options opt = {
      .jobs = (int)c->cfg->workers,
      .eval = {(int)c->cfg->command_timeout, c->cfg->skip_nfs, (size_t)64 << 20},
      .scan_id = -1,
  };
  builtin_set_enabled(c->cfg->builtins);
  int first_err = TN_OK;
  /* Every policy of the cycle is scanned together: one pool, one cache, so a command that several
   * policies run (sshd -T, auditctl -l, ...) runs once per cycle. */
  const vm_image **imgs = malloc((n ? n : 1) * sizeof *imgs);
  const uint8_t **hashes = malloc((n ? n : 1) * sizeof *hashes);
  policy_scan *scans = calloc(n ? n : 1, sizeof *scans);
  int scan_rc = imgs && hashes && scans ? TN_OK : TN_ENOMEM;
  for (size_t i = 0; scan_rc == TN_OK && i < n; i++) {
    imgs[i] = sel[i]->img;
    hashes[i] = sel[i]->b.info.bundle_hash;
    log_info("Starting evaluation of policy: '%s'", sel[i]->path);
  }
  scan_cache *cache = scan_cache_new(1); /* the cycle's cache, under the scan budget */
  if (!cache) scan_rc = TN_ENOMEM;
  else scan_cache_set_budget(cache, (int)c->cfg->scan_budget);
  if (scan_rc == TN_OK && n) scan_rc = scan_run_many(imgs, hashes, n, cache, &opt, scans);
  if (cache && scan_cache_over_budget(cache)) log_warn("%s: raise scan_budget", scan_cache_budget_reason(cache));
  scan_cache_free(cache);
  for (size_t i = 0; i < n; i++) {
    cached *f = sel[i];
    const program *p = f->b.prog;
    const char *pid = program_str(p, p->policy_id);
    ids[i] = pid;
    policy_scan *sp = scans ? &scans[i] : NULL;
    int rc = scan_rc;
    if (rc != TN_OK) {
      log_error("Scan of policy '%s' failed: %s", pid, tn_strerror(rc));
      if (first_err == TN_OK) first_err = rc;
      if (sp) policy_scan_free(sp);
      continue;
    }
    policy_scan scan = *sp;
    memset(sp, 0, sizeof *sp);
    if (scan.status != SCAN_DONE) {
      log_info("%s", scan.message ? scan.message : "policy skipped");
      stats->skipped++;
      policy_scan_free(&scan);
      continue;
    }
    agent_policy_meta m = {
        .policy_id = pid,
        .name = program_str(p, p->policy_name),
        .file = program_str(p, p->policy_file),
        .description = program_str(p, p->policy_description),
        .references = program_str(p, p->policy_references),
        .policy_version = p->policy_version,
    };
    snprintf(m.bundle_hash, sizeof m.bundle_hash, "%s", f->b.bundle_hash);
    snprintf(m.source_hash, sizeof m.source_hash, "%s", scan.hash_file);
    agent_record_result res;
    char err[512];
    rc = agent_outbox_record_scan(c->store, &m, &scan, &lim, &res, err, sizeof err);
    if (rc != TN_OK) {
      log_error("Cannot record the scan of policy '%s': %s", pid, err);
      if (first_err == TN_OK) first_err = rc;
    } else {
      if (res.invalidated)
        log_info("Policy '%s' changed (bundle %.16s...): stored results invalidated, sending every check",
                 pid, f->b.bundle_hash);
      log_info("Evaluation finished for policy '%s': %d passed, %d failed, %d not applicable; %zu changed, "
               "results hash %s",
               f->path, scan.passed, scan.failed, scan.invalid, res.changed, res.results_hash);
      stats->changed += res.changed;
      stats->messages += res.messages;
      stats->policies++;
    }
    policy_scan_free(&scan);
  }
  free(scans);
  free(hashes);
  free(imgs);
  int queued = 0;
  char err[512];
  int rc = agent_outbox_record_policy_list(c->store, ids, n, &lim, &queued, err, sizeof err);
  if (rc != TN_OK) {
    log_error("Cannot record the policy list: %s", err);
    if (first_err == TN_OK) first_err = rc;
  } else if (queued) {
    stats->messages++;
  }
  free(ids);
  free(sel);
  log_info("Security Configuration Assessment scan finished. Duration: %d seconds.", (int)(time(NULL) - t0));
  return first_err;
}

/* ---- the thread, timed by the loop ---- */

struct agent_scheduler {
  const agent_config *cfg;
  const agent_trust *trust;
  int notify_fd;
  agent_store *store;
  agent_cycle *cycle;
  pthread_t thread;
  pthread_mutex_t lock;
  pthread_cond_t cond;
  int triggered, stopping;
  int64_t interval; /* seconds (under lock: the thread reads it for "Interval overtaken.") */
  uint64_t cycles;
  /* the loop's side */
  evloop *loop;
  int64_t timer;
};

static void notify(int fd) {
  uint64_t one = 1;
  while (write(fd, &one, sizeof one) < 0 && errno == EINTR) {
  }
}

static void *run(void *arg) {
  agent_scheduler *s = arg;
  pthread_mutex_lock(&s->lock);
  for (;;) {
    while (!s->stopping && !s->triggered)
      pthread_cond_wait(&s->cond, &s->lock);
    if (s->stopping) break;
    s->triggered = 0;
    int64_t interval = s->interval;
    pthread_mutex_unlock(&s->lock);

    int64_t start = evloop_now_ms();
    agent_cycle_stats st;
    agent_cycle_run(s->cycle, 0, &st);
    if (st.messages) notify(s->notify_fd);
    if (evloop_now_ms() - start >= interval * 1000) log_warn("Interval overtaken.");

    pthread_mutex_lock(&s->lock);
    s->cycles++;
    pthread_cond_broadcast(&s->cond);
  }
  pthread_mutex_unlock(&s->lock);
  return NULL;
}

/* Wake the thread for a cycle. */
static void wake(agent_scheduler *s) {
  pthread_mutex_lock(&s->lock);
  s->triggered = 1;
  pthread_cond_broadcast(&s->cond);
  pthread_mutex_unlock(&s->lock);
}

static void on_timer(evloop *l, void *arg);

/* The next timed cycle, one interval from now. */
static void arm(agent_scheduler *s) {
  evloop_cancel(s->loop, s->timer);
  pthread_mutex_lock(&s->lock);
  int64_t interval = s->interval;
  pthread_mutex_unlock(&s->lock);
  if ((s->timer = evloop_after(s->loop, interval * 1000, on_timer, s)) < 0) {
    log_error("Cannot time the next scan: out of memory");
    s->timer = 0;
  }
}

static void on_timer(evloop *l, void *arg) {
  agent_scheduler *s = arg;
  s->timer = 0;
  wake(s);
  arm(s);
}

agent_scheduler *agent_scheduler_start(const agent_config *cfg, const agent_trust *trust, int notify_fd,
                                       evloop *loop, char *err, size_t errlen) {
  agent_scheduler *s = calloc(1, sizeof *s);
  if (!s) {
    snprintf(err, errlen, "out of memory");
    return NULL;
  }
  s->cfg = cfg;
  s->trust = trust;
  s->notify_fd = notify_fd;
  s->loop = loop;
  s->interval = cfg->scan_interval;
  s->triggered = cfg->scan_on_start;
  if (!(s->store = agent_store_open(cfg->state_db, err, errlen))) goto fail;
  if (!(s->cycle = agent_cycle_new(cfg, trust, s->store))) {
    snprintf(err, errlen, "out of memory");
    goto fail;
  }
  pthread_mutex_init(&s->lock, NULL);
  pthread_cond_init(&s->cond, NULL);
  if (pthread_create(&s->thread, NULL, run, s) != 0) {
    snprintf(err, errlen, "cannot start the scan thread: %s", strerror(errno));
    pthread_mutex_destroy(&s->lock);
    pthread_cond_destroy(&s->cond);
    goto fail;
  }
  arm(s);
  return s;
fail:
  agent_cycle_free(s->cycle);
  agent_store_close(s->store);
  free(s);
  return NULL;
}

void agent_scheduler_trigger(agent_scheduler *s) {
  wake(s);
  arm(s);
}

void agent_scheduler_set_interval(agent_scheduler *s, int64_t seconds) {
  pthread_mutex_lock(&s->lock);
  s->interval = seconds;
  pthread_mutex_unlock(&s->lock);
  arm(s);
}

uint64_t agent_scheduler_cycles(agent_scheduler *s) {
  pthread_mutex_lock(&s->lock);
  uint64_t n = s->cycles;
  pthread_mutex_unlock(&s->lock);
  return n;
}

void agent_scheduler_stop(agent_scheduler *s) {
  if (!s) return;
  evloop_cancel(s->loop, s->timer);
  pthread_mutex_lock(&s->lock);
  s->stopping = 1;
  pthread_cond_broadcast(&s->cond);
  pthread_mutex_unlock(&s->lock);
  pthread_join(s->thread, NULL);
  pthread_mutex_destroy(&s->lock);
  pthread_cond_destroy(&s->cond);
  agent_cycle_free(s->cycle);
  agent_store_close(s->store);
  free(s);
}
