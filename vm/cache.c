/* cache.c — the per-scan cache shared by all workers (cache.h, cache_int.h).
 *
 * One mutex guards a chained hash table of entries keyed by (kind, text); an entry is inserted
 * "in flight" by the first thread that asks for it, produced outside the lock, then marked ready
 * and announced on one condition variable that every waiter rechecks. Entries never move and are
 * freed with the cache, so returned pointers stay valid for its lifetime.
 *
 * The bytes of file contents and command outputs held are capped (scan_cache_set_limit): an
 * entry whose payload would pass the cap is marked dropped when it is published; its producer
 * uses it and frees the payload on release, and every later lookup of that key produces a private
 * entry of its own (the command runs again, the file is read again), freed on its release. */
#include "cache_int.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <dirent.h>
#include <limits.h>
#include <stdio.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <xxhash.h>

#include "err.h"
#include "fs.h"
#include "strbuf.h"

enum { KIND_FILE = 1, KIND_COMMAND = 2, KIND_DIR = 3 };

typedef struct entry {
  struct entry *next; /* hash chain */
  uint64_t hash;
  int kind;
  int ready;
  int priv;    /* not in the table: the one caller's own, freed on release */
  int dropped; /* in the table but over the byte cap: its producer's payload is freed on release,
                  later lookups produce a private entry of their own */
  size_t bytes; /* payload bytes counted against the cap */
  union {
    cache_file file;
    cache_command command;
    cache_dir dir;
  } u;
  char key[]; /* NUL-terminated */
} entry;

struct scan_cache {
  int enabled;
  pthread_mutex_t mu;
  pthread_cond_t ready; /* broadcast whenever an entry or the process list becomes ready */
  entry **slot;
  size_t nslot, count;
  int procs_state; /* 0 not asked, 1 being built, 2 built */
  int procs_status;
  proclist *procs;
  char *procs_reason;
  scan_cache_command_fn command_fn; /* providers (cache.h); NULL: this host */
  void *command_arg;
  scan_cache_processes_fn processes_fn;
  void *processes_arg;
  size_t commands_run, files_read, hits; /* updated atomically */
  scan_cache_cost_fn cost_fn;             /* per-command cost hook (cache.h); NULL: none */
  void *cost_arg;
  size_t limit, held;               /* the byte cap and the payload bytes held (under mu) */
  int64_t budget_end;               /* CLOCK_MONOTONIC ms when the scan's time runs out; 0: none */
  char budget_reason[96];
};

scan_cache *scan_cache_new(int enabled) {
  scan_cache *c = calloc(1, sizeof *c);
  if (!c) return NULL;
  c->enabled = enabled;
  c->limit = SCAN_CACHE_BYTES_MAX;
  c->nslot = 64;
  c->slot = calloc(c->nslot, sizeof *c->slot);
  if (!c->slot || pthread_mutex_init(&c->mu, NULL) != 0) {
    free(c->slot);
    free(c);
    return NULL;
  }
  if (pthread_cond_init(&c->ready, NULL) != 0) {
    pthread_mutex_destroy(&c->mu);
    free(c->slot);
    free(c);
    return NULL;
  }
  return c;
}

static void payload_free(entry *e) {
  if (e->kind == KIND_FILE) {
    free((char *)e->u.file.data);
    e->u.file.data = NULL;
  } else if (e->kind == KIND_DIR) {
    for (size_t i = 0; i < e->u.dir.n; i++)
      free(e->u.dir.ents[i].name);
    free(e->u.dir.ents);
    e->u.dir.ents = NULL;
  } else {
    runner_result_free(&e->u.command.result);
    free(e->u.command.reason);
    e->u.command.reason = NULL;
  }
}

static void entry_free(entry *e) {
  payload_free(e);
  free(e);
}

void scan_cache_free(scan_cache *c) {
  if (!c) return;
  for (size_t i = 0; i < c->nslot; i++) {
    for (entry *e = c->slot[i], *next; e; e = next) {
      next = e->next;
      entry_free(e);
    }
  }
  free(c->slot);
  proclist_free(c->procs);
  free(c->procs_reason);
  pthread_cond_destroy(&c->ready);
  pthread_mutex_destroy(&c->mu);
  free(c);
}

size_t scan_cache_commands_run(const scan_cache *c) {
  return __atomic_load_n(&c->commands_run, __ATOMIC_RELAXED);
}
size_t scan_cache_files_read(const scan_cache *c) {
  return __atomic_load_n(&c->files_read, __ATOMIC_RELAXED);
}
size_t scan_cache_hits(const scan_cache *c) { return __atomic_load_n(&c->hits, __ATOMIC_RELAXED); }

void scan_cache_set_limit(scan_cache *c, size_t bytes) { c->limit = bytes; }

static int64_t mono_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void scan_cache_set_budget(scan_cache *c, int seconds) {
  c->budget_end = seconds > 0 ? mono_ms() + (int64_t)seconds * 1000 : 0;
  snprintf(c->budget_reason, sizeof c->budget_reason, "Scan time budget of %d s exceeded: not evaluated",
           seconds);
}

int scan_cache_over_budget(const scan_cache *c) { return c && c->budget_end && mono_ms() >= c->budget_end; }

const char *scan_cache_budget_reason(const scan_cache *c) { return c->budget_reason; }

/* Seconds left in the budget (rounded up, at least 1), or INT_MAX without one. */
static int budget_left_s(const scan_cache *c) {
  if (!c->budget_end) return INT_MAX;
  int64_t left = c->budget_end - mono_ms();
  return left <= 0 ? 1 : (int)((left + 999) / 1000);
}

size_t scan_cache_bytes_held(scan_cache *c) {
  pthread_mutex_lock(&c->mu);
  size_t n = c->held;
  pthread_mutex_unlock(&c->mu);
  return n;
}

/* ---- the table ---- */

static void grow(scan_cache *c) {
  size_t n = c->nslot * 2;
  entry **s = calloc(n, sizeof *s);
  if (!s) return; /* longer chains, still correct */
  for (size_t i = 0; i < c->nslot; i++) {
    for (entry *e = c->slot[i], *next; e; e = next) {
      next = e->next;
      e->next = s[e->hash & (n - 1)];
      s[e->hash & (n - 1)] = e;
    }
  }
  free(c->slot);
  c->slot = s;
  c->nslot = n;
}

static entry *entry_new(int kind, const char *key, size_t klen, uint64_t h) {
  entry *e = calloc(1, sizeof *e + klen + 1);
  if (!e) return NULL;
  e->kind = kind;
  e->hash = h;
  memcpy(e->key, key, klen + 1);
  return e;
}

/* Find or claim the entry for (kind, key). *produce is set when the caller must produce it and
 * then call publish(); otherwise the returned entry is ready. NULL on allocation failure. */
static entry *acquire(scan_cache *c, int kind, const char *key, int *produce) {
  size_t klen = strlen(key);
  uint64_t h = XXH3_64bits(key, klen) ^ (uint64_t)kind;
  *produce = 1;
  if (!c->enabled) return entry_new(kind, key, klen, h);
  pthread_mutex_lock(&c->mu);
  entry *e = c->slot[h & (c->nslot - 1)];
  while (e && !(e->hash == h && e->kind == kind && strcmp(e->key, key) == 0))
    e = e->next;
  if (e) {
    while (!e->ready)
      pthread_cond_wait(&c->ready, &c->mu);
    *produce = 0;
    if (e->dropped) { /* over the cap: this caller produces (re-runs, re-reads) its own */
      pthread_mutex_unlock(&c->mu);
      if ((e = entry_new(kind, key, klen, h))) e->priv = 1;
      *produce = 1;
      return e;
    }
    __atomic_add_fetch(&c->hits, 1, __ATOMIC_RELAXED);
  } else if ((e = entry_new(kind, key, klen, h))) {
    if (c->count >= c->nslot) grow(c);
    e->next = c->slot[h & (c->nslot - 1)];
    c->slot[h & (c->nslot - 1)] = e;
    c->count++;
  }
  pthread_mutex_unlock(&c->mu);
  return e;
}

/* Mark e ready. bytes: its payload's size, counted against the cap; an entry that would take the
 * bytes held past it is dropped (its producer still uses it, nobody else). */
static void publish(scan_cache *c, entry *e, size_t bytes) {
  if (!c->enabled || e->priv) {
    e->ready = 1;
    return;
  }
  pthread_mutex_lock(&c->mu);
  if (bytes > c->limit || c->held > c->limit - bytes) {
    e->dropped = 1;
  } else {
    e->bytes = bytes;
    c->held += bytes;
  }
  e->ready = 1;
  pthread_cond_broadcast(&c->ready);
  pthread_mutex_unlock(&c->mu);
}

static void release(scan_cache *c, const void *payload) {
  if (!payload) return;
  entry *e = (entry *)((const char *)payload - offsetof(entry, u));
  if (!c->enabled || e->priv) entry_free(e);
  else if (e->dropped) payload_free(e); /* only its producer ever holds a dropped entry */
}

/* ---- files ---- */

/* Read a whole file the way a line-by-line fgets reader would see it: open errors are reported,
 * a read error ends the content early. O_NONBLOCK: a FIFO swapped in for a regular file after
 * the existence check must not hang the scan. */
static void read_file(const char *path, cache_file *f) {
  int fd = fs_open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
  if (fd < 0) {
    f->err = errno;
    return;
  }
  strbuf b = STRBUF_INIT;
  char chunk[65536];
  for (;;) {
    ssize_t n = read(fd, chunk, sizeof chunk);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    if (b.len + (size_t)n > CACHE_FILE_MAX) {
      f->too_big = 1;
      break;
    }
    strbuf_append(&b, chunk, (size_t)n);
  }
  close(fd);
  if (f->too_big || !strbuf_ok(&b)) {
    if (!strbuf_ok(&b)) f->err = ENOMEM;
    strbuf_free(&b);
    return;
  }
  strbuf_append(&b, "", 0);
  f->len = b.len;
  f->data = strbuf_take(&b);
  if (!f->data) f->err = ENOMEM;
}

const cache_file *scan_cache_get_file(scan_cache *c, const char *path) {
  int produce;
  entry *e = acquire(c, KIND_FILE, path, &produce);
  if (!e) return NULL;
  if (produce) {
    read_file(path, &e->u.file);
    __atomic_add_fetch(&c->files_read, 1, __ATOMIC_RELAXED);
    publish(c, e, e->u.file.len);
  }
  return &e->u.file;
}

void scan_cache_release_file(scan_cache *c, const cache_file *f) { release(c, f); }

/* ---- commands ---- */

/* User + system seconds between two getrusage samples. */
static double rusage_delta(const struct rusage *a, const struct rusage *b) {
  return (double)(b->ru_utime.tv_sec - a->ru_utime.tv_sec) + (double)(b->ru_stime.tv_sec - a->ru_stime.tv_sec) +
         (double)(b->ru_utime.tv_usec - a->ru_utime.tv_usec + b->ru_stime.tv_usec - a->ru_stime.tv_usec) / 1e6;
}

void scan_cache_set_cost_hook(scan_cache *c, scan_cache_cost_fn fn, void *arg) {
  c->cost_fn = fn;
  c->cost_arg = arg;
}

const cache_command *scan_cache_get_command(scan_cache *c, const char *cmd, int timeout_s,
                                            size_t output_cap) {
  int produce;
  entry *e = acquire(c, KIND_COMMAND, cmd, &produce);
  if (!e) return NULL;
  if (produce) {
    cache_command *r = &e->u.command;
    struct timespec t0, t1;
    struct rusage u0, u1;
    if (c->cost_fn) {
      clock_gettime(CLOCK_MONOTONIC, &t0);
      getrusage(RUSAGE_CHILDREN, &u0);
    }
    int left = budget_left_s(c);
    int cut = c->budget_end && (timeout_s <= 0 || left < timeout_s); /* the budget ends first */
    if (cut) timeout_s = left;
    int skipped = scan_cache_over_budget(c);
    if (skipped) {
      r->status = TN_ETIMEOUT;
      r->reason = strdup(c->budget_reason);
      if (!r->reason) r->status = TN_ENOMEM;
    } else if (c->command_fn) {
      r->status = c->command_fn(c->command_arg, cmd, timeout_s, output_cap, &r->result, &r->reason);
      if (r->status != TN_OK && !r->reason) r->status = TN_ENOMEM;
      if (r->status != TN_OK) runner_result_free(&r->result);
    } else {
      r->status = runner_run(cmd, timeout_s, output_cap, &r->result);
    }
    if (r->status == TN_OK && r->result.timed_out && cut && scan_cache_over_budget(c)) {
      runner_result_free(&r->result); /* stopped by the budget, not by its own timeout */
      memset(&r->result, 0, sizeof r->result);
      r->status = TN_ETIMEOUT;
      r->reason = strdup(c->budget_reason);
      if (!r->reason) r->status = TN_ENOMEM;
    }
    r->error = r->status == TN_EEXEC ? errno : 0;
    if (c->cost_fn && !skipped) {
      clock_gettime(CLOCK_MONOTONIC, &t1);
      getrusage(RUSAGE_CHILDREN, &u1);
      c->cost_fn(c->cost_arg, cmd, (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9,
                 rusage_delta(&u0, &u1));
    }
    if (!skipped) __atomic_add_fetch(&c->commands_run, 1, __ATOMIC_RELAXED);
    publish(c, e, r->result.output_len);
  }
  return &e->u.command;
}

void scan_cache_release_command(scan_cache *c, const cache_command *r) { release(c, r); }

/* ---- processes ---- */

/* The process list from the provider or this host's /proc; *reason set when a provider declines. */
static int read_processes(scan_cache *c, proclist **p, char **reason) {
  *p = NULL;
  if (!c->processes_fn) return proclist_read(p);
  int st = c->processes_fn(c->processes_arg, p, reason);
  if (st != TN_OK) {
    proclist_free(*p);
    *p = NULL;
  }
  return st;
}

const proclist *scan_cache_get_processes(scan_cache *c, int *status) {
  if (!c->enabled) {
    proclist *p;
    char *reason = NULL;
    *status = read_processes(c, &p, &reason);
    if (reason) { /* kept for scan_cache_processes_reason: the first reason is enough */
      pthread_mutex_lock(&c->mu);
      if (!c->procs_reason) c->procs_reason = reason, reason = NULL;
      pthread_mutex_unlock(&c->mu);
      free(reason);
    }
    return *status == TN_OK ? p : NULL;
  }
  pthread_mutex_lock(&c->mu);
  if (c->procs_state == 0) {
    c->procs_state = 1;
    pthread_mutex_unlock(&c->mu);
    proclist *p = NULL;
    char *reason = NULL;
    int st = read_processes(c, &p, &reason);
    pthread_mutex_lock(&c->mu);
    c->procs = p;
    c->procs_reason = reason;
    c->procs_status = st;
    c->procs_state = 2;
    pthread_cond_broadcast(&c->ready);
  }
  while (c->procs_state != 2)
    pthread_cond_wait(&c->ready, &c->mu);
  *status = c->procs_status;
  const proclist *p = c->procs;
  pthread_mutex_unlock(&c->mu);
  return p;
}

void scan_cache_release_processes(scan_cache *c, const proclist *p) {
  if (!c->enabled) proclist_free((proclist *)p);
}

const char *scan_cache_processes_reason(scan_cache *c) {
  pthread_mutex_lock(&c->mu);
  const char *r = c->procs_reason;
  pthread_mutex_unlock(&c->mu);
  return r;
}

void scan_cache_set_command_provider(scan_cache *c, scan_cache_command_fn fn, void *arg) {
  c->command_fn = fn;
  c->command_arg = arg;
}

void scan_cache_set_processes_provider(scan_cache *c, scan_cache_processes_fn fn, void *arg) {
  c->processes_fn = fn;
  c->processes_arg = arg;
}

/* ---- directories ---- */

static void list_dir(const char *dir, cache_dir *d) {
  char *real = fs_realpath(dir, NULL);
  if (!real) {
    d->real_err = errno ? errno : ENOENT;
    return;
  }
  DIR *dp = fs_opendir(real);
  int e = errno;
  free(real);
  if (!dp) {
    d->open_err = e ? e : EIO;
    return;
  }
  char *path = malloc(PATH_MAX + 1);
  size_t cap = 0;
  struct dirent *ent;
  while (path && (ent = readdir(dp))) {
    const char *name = ent->d_name;
    if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0) continue;
    if (d->n == cap) {
      size_t ncap = cap ? cap * 2 : 32;
      cache_dirent *n = realloc(d->ents, ncap * sizeof *n);
      if (!n) break;
      d->ents = n;
      cap = ncap;
    }
    cache_dirent *de = &d->ents[d->n];
    if (!(de->name = strdup(name))) break;
    snprintf(path, PATH_MAX + 1, "%s/%s", dir, name); /* Wazuh's PATH_MAX+1 buffer: cut, not refused */
    struct stat st;
    de->lstat_err = fs_lstat(path, &st) == 0 ? 0 : errno;
    de->mode = de->lstat_err ? 0 : (unsigned)st.st_mode;
    d->n++;
  }
  if (!path || ent) d->oom = 1; /* stopped early */
  free(path);
  closedir(dp);
}

const cache_dir *scan_cache_get_dir(scan_cache *c, const char *dir) {
  int produce;
  entry *e = acquire(c, KIND_DIR, dir, &produce);
  if (!e) return NULL;
  if (produce) {
    list_dir(dir, &e->u.dir);
    publish(c, e, 0); /* listings are small: never dropped */
  }
  return &e->u.dir;
}

void scan_cache_release_dir(scan_cache *c, const cache_dir *d) { release(c, d); }
