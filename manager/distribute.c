/* distribute.c — the bundle directory the manager distributes (see distribute.h). */
#include "distribute.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "daemon_log.h"
#include "err.h"
#include "keyring.h"

/* One file as last seen. */
typedef struct file_entry {
  char *path;
  struct stat st;
  int ok; /* parsed and accepted */
  distrib_bundle b;
  int seen;
} file_entry;

struct distrib {
  char *dir;
  keyring *ring; /* trusted keys; empty: any signed bundle */
  file_entry *files;
  size_t nfiles, capfiles;
  /* the selection: one per policy id */
  const distrib_bundle **sel;
  int *changed;
  char **sel_hash; /* hash of the previous selection by position, for change detection */
  size_t nsel;
};

distrib *distrib_new(const char *dir, const char *const *trusted, size_t ntrusted, char *err, size_t errlen) {
  distrib *d = calloc(1, sizeof *d);
  if (!d || !(d->dir = strdup(dir))) {
    free(d);
    snprintf(err, errlen, "out of memory");
    return NULL;
  }
  if (!(d->ring = keyring_load(trusted, ntrusted, err, errlen))) {
    distrib_free(d);
    return NULL;
  }
  return d;
}

static void bundle_clear(distrib_bundle *b) {
  free(b->policy_id);
  free(b->data);
  memset(b, 0, sizeof *b);
}

void distrib_free(distrib *d) {
  if (!d) return;
  for (size_t i = 0; i < d->nfiles; i++) {
    bundle_clear(&d->files[i].b);
    free(d->files[i].path);
  }
  for (size_t i = 0; i < d->nsel; i++)
    free(d->sel_hash[i]);
  keyring_free(d->ring);
  free(d->files);
  free(d->sel);
  free(d->changed);
  free(d->sel_hash);
  free(d->dir);
  free(d);
}

/* Admit one file into f->b: read, checked and signed (by a trusted key when the manager has any).
 * Expiry and anti-rollback are the agents' to check. */
static void load(distrib *d, file_entry *f) {
  bundle_clear(&f->b);
  f->ok = 0;
  keyring_rules rules = {.empty = KEYRING_EMPTY_SIGNED, .no_expiry = 1, .keep_bytes = 1};
  keyring_admitted a;
  char why[512];
  int rc = keyring_admit_file(d->ring, f->path, &rules, &a, why, sizeof why);
  if (rc != TN_OK) {
    log_warn("Refused bundle %s for distribution: %s: %s", f->path, keyring_refusal(rc), why);
    return;
  }
  f->b.policy_id = strdup(program_str(a.prog, a.prog->policy_id));
  f->b.version = a.prog->policy_version;
  f->b.data = a.data;
  f->b.len = a.len;
  f->b.path = f->path;
  memcpy(f->b.hash, a.bundle_hash, sizeof f->b.hash);
  a.data = NULL;
  keyring_admitted_clear(&a);
  if (!f->b.policy_id) {
    bundle_clear(&f->b);
    return;
  }
  f->ok = 1;
  log_info("Distributing %s: policy '%s' version %llu (bundle hash %.16s...)", f->path, f->b.policy_id,
           (unsigned long long)f->b.version, f->b.hash);
}

static file_entry *entry(distrib *d, const char *path) {
  for (size_t i = 0; i < d->nfiles; i++)
    if (strcmp(d->files[i].path, path) == 0) return &d->files[i];
  if (d->nfiles == d->capfiles) {
    size_t ncap = d->capfiles ? d->capfiles * 2 : 8;
    file_entry *n = realloc(d->files, ncap * sizeof *n);
    if (!n) return NULL;
    d->files = n;
    d->capfiles = ncap;
  }
  file_entry *f = &d->files[d->nfiles];
  memset(f, 0, sizeof *f);
  if (!(f->path = strdup(path))) return NULL;
  f->st.st_ino = (ino_t)-1;
  d->nfiles++;
  return f;
}

static int same_stat(const struct stat *a, const struct stat *b) {
  return a->st_dev == b->st_dev && a->st_ino == b->st_ino && a->st_size == b->st_size &&
         a->st_mtim.tv_sec == b->st_mtim.tv_sec && a->st_mtim.tv_nsec == b->st_mtim.tv_nsec;
}

int distrib_refresh(distrib *d, size_t *changed) {
  *changed = 0;
  DIR *dir = opendir(d->dir);
  if (!dir) {
    log_warn("Cannot read the bundle directory %s: %s", d->dir, strerror(errno));
    return TN_EIO;
  }
  for (size_t i = 0; i < d->nfiles; i++)
    d->files[i].seen = 0;
  struct dirent *e;
  while ((e = readdir(dir))) {
    size_t n = strlen(e->d_name);
    if (e->d_name[0] == '.' || n <= 4 || strcmp(e->d_name + n - 4, ".tnb") != 0) continue;
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", d->dir, e->d_name);
    struct stat st;
    if (stat(path, &st) != 0 || !S_ISREG(st.st_mode)) continue;
    file_entry *f = entry(d, path);
    if (!f) continue;
    f->seen = 1;
    if (same_stat(&f->st, &st)) continue;
    f->st = st;
    load(d, f);
  }
  closedir(dir);
  for (size_t i = 0; i < d->nfiles;) {
    if (!d->files[i].seen) {
      log_info("Bundle %s was removed from the distribution directory", d->files[i].path);
      bundle_clear(&d->files[i].b);
      free(d->files[i].path);
      d->files[i] = d->files[--d->nfiles];
    } else {
      i++;
    }
  }
  /* Select one bundle per policy id (highest version; then the first path). */
  const distrib_bundle **sel = calloc(d->nfiles ? d->nfiles : 1, sizeof *sel);
  int *chg = calloc(d->nfiles ? d->nfiles : 1, sizeof *chg);
  char **hashes = calloc(d->nfiles ? d->nfiles : 1, sizeof *hashes);
  if (!sel || !chg || !hashes) {
    free(sel);
    free(chg);
    free(hashes);
    return TN_EIO;
  }
  size_t ns = 0;
  for (size_t i = 0; i < d->nfiles; i++) {
    const distrib_bundle *b = &d->files[i].b;
    if (!d->files[i].ok) continue;
    size_t j;
    for (j = 0; j < ns; j++)
      if (strcmp(sel[j]->policy_id, b->policy_id) == 0) break;
    if (j == ns)
      sel[ns++] = b;
    else if (b->version > sel[j]->version ||
             (b->version == sel[j]->version && strcmp(b->path, sel[j]->path) < 0))
      sel[j] = b;
  }
  for (size_t j = 0; j < ns; j++) {
    hashes[j] = strdup(sel[j]->hash);
    chg[j] = 1;
    for (size_t k = 0; k < d->nsel; k++)
      if (d->sel_hash[k] && strcmp(d->sel_hash[k], sel[j]->hash) == 0) chg[j] = 0;
    if (chg[j]) (*changed)++;
  }
  for (size_t k = 0; k < d->nsel; k++)
    free(d->sel_hash[k]);
  free(d->sel_hash);
  free(d->sel);
  free(d->changed);
  d->sel = sel;
  d->changed = chg;
  d->sel_hash = hashes;
  d->nsel = ns;
  return TN_OK;
}

size_t distrib_count(const distrib *d) { return d->nsel; }
const distrib_bundle *distrib_at(const distrib *d, size_t i) { return i < d->nsel ? d->sel[i] : NULL; }
int distrib_changed(const distrib *d, size_t i) { return i < d->nsel ? d->changed[i] : 0; }
