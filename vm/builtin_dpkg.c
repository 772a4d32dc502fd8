/* builtin_dpkg.c — dpkg-query -s / -W and dpkg -s answered from /var/lib/dpkg/status (dpkg 1.21).
 *
 * What dpkg-query prints, as measured on this host (tests/unit/test_builtin_dpkg.c proves it for
 * every installed package and a set of absent ones):
 *   -s NAME...   per name, the package's status stanza as dpkg wrote it, and "\n" between names;
 *                an unknown name gives "dpkg-query: package 'NAME' is not installed and no
 *                information is available" on stderr. stdout is flushed once before the final
 *                "Use dpkg --info (= dpkg-deb --info) to examine archive files." (on any failure).
 *                Exit 1 on any failure, else 0. `dpkg -s` runs dpkg-query -s: same bytes.
 *   -W [-f=FMT] NAME...  the format once per matching package, packages in name order, each once;
 *                a name matching nothing gives "dpkg-query: no packages found matching NAME" on
 *                stderr after the listing was built (stdout flushed at exit). Exit 1 on any miss.
 * Declines: other options, names dpkg would fold or treat as patterns (anything but
 * [a-z0-9][a-z0-9+.-]+), a package with several instances or in any state but
 * "install ok installed", a name absent from the status file but present in the available file,
 * a package named in dpkg's pending journal (/var/lib/dpkg/updates, while dpkg runs), format directives other
 * than the plain fields below, format escapes, and outputs whose stdout/stderr interleaving is not certain.
 *
 * The status file is parsed once and re-read when its identity, size or mtime changes. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <stdio.h>
#include <unistd.h>

#include "builtin_int.h"
#include "err.h"

#define STATUS_PATH "/var/lib/dpkg/status"
#define AVAILABLE_PATH "/var/lib/dpkg/available"
#define UPDATES_DIR "/var/lib/dpkg/updates"
#define DB_MAX ((size_t)256 << 20)

typedef struct pkg {
  const char *name; /* points into the db text, NUL-terminated copies below */
  size_t name_len;
  const char *stanza; /* the stanza, through its last "\n" */
  size_t stanza_len;
  const char *status, *arch, *multiarch, *version; /* field values (copies), or "" */
  int dup;                                         /* another stanza has the same name */
} pkg;

typedef struct db {
  struct stat st_status, st_avail;
  int have_avail;
  char *text; /* the status file */
  pkg *pkgs;  /* sorted by name */
  size_t n;
  char **avail; /* sorted names in the available file */
  size_t navail;
  struct stat st_updates;
  char **touched; /* sorted names of the packages in dpkg's pending journal (updates/NNNN) */
  size_t ntouched;
  char *arena; /* field value copies */
} db;

static pthread_mutex_t db_mu = PTHREAD_MUTEX_INITIALIZER;
static db cur;
static int cur_ok;

static void db_clear(db *d) {
  free(d->text);
  free(d->pkgs);
  for (size_t i = 0; i < d->navail; i++)
    free(d->avail[i]);
  free(d->avail);
  for (size_t i = 0; i < d->ntouched; i++)
    free(d->touched[i]);
  free(d->touched);
  free(d->arena);
  memset(d, 0, sizeof *d);
}

static char *slurp(const char *path, size_t *len, struct stat *st) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return NULL;
  if (fstat(fd, st) != 0 || !S_ISREG(st->st_mode) || (size_t)st->st_size > DB_MAX) {
    close(fd);
    return NULL;
  }
  size_t cap = (size_t)st->st_size + 1, n = 0;
  char *buf = malloc(cap);
  while (buf) {
    if (n + 1 >= cap) { /* grew while we read: keep going */
      char *nb = cap * 2 > DB_MAX ? NULL : realloc(buf, cap * 2);
      if (!nb) {
        free(buf);
        buf = NULL;
        break;
      }
      buf = nb;
      cap *= 2;
    }
    ssize_t r = read(fd, buf + n, cap - 1 - n);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) {
      free(buf);
      buf = NULL;
      break;
    }
    if (r == 0) break;
    n += (size_t)r;
  }
  close(fd);
  if (!buf) return NULL;
  buf[n] = 0;
  *len = n;
  return buf;
}

static int by_name(const void *a, const void *b) {
  const pkg *x = a, *y = b;
  int c = strcmp(x->name, y->name);
  return c ? c : (x->stanza > y->stanza) - (x->stanza < y->stanza);
}

static int by_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* The value of field `f` (case-insensitive name) in a stanza when it is one line, else NULL. */
static const char *field(const char *s, size_t len, const char *f, size_t *vlen) {
  size_t fl = strlen(f);
  const char *end = s + len;
  for (const char *l = s; l < end;) {
    const char *nl = memchr(l, '\n', (size_t)(end - l));
    if (!nl) nl = end;
    if ((size_t)(nl - l) > fl && !strncasecmp(l, f, fl) && l[fl] == ':') {
      const char *v = l + fl + 1;
      while (v < nl && (*v == ' ' || *v == '\t'))
        v++;
      if (nl + 1 < end && (nl[1] == ' ' || nl[1] == '\t')) return NULL; /* continued: not plain */
      *vlen = (size_t)(nl - v);
      return v;
    }
    l = nl + 1;
  }
  *vlen = 0;
  return "";
}

/* Split text into stanzas; call fn for each (start, len through its last newline). */
static size_t stanzas(char *text, size_t len, void (*fn)(void *, char *, size_t), void *arg) {
  size_t count = 0;
  char *p = text, *end = text + len;
  while (p < end) {
    while (p < end && *p == '\n')
      p++;
    if (p >= end) break;
    char *q = p;
    while (q < end) {
      char *nl = memchr(q, '\n', (size_t)(end - q));
      if (!nl) {
        q = end;
        break;
      }
      q = nl + 1;
      if (q >= end || *q == '\n') break;
    }
    if (fn) fn(arg, p, (size_t)(q - p));
    count++;
    p = q;
  }
  return count;
}

typedef struct loader {
  db *d;
  size_t arena_used, arena_cap;
  int bad;
} loader;

static const char *keep(loader *L, const char *v, size_t n) {
  if (L->arena_used + n + 1 > L->arena_cap) {
    L->bad = 1;
    return "";
  }
  char *dst = L->d->arena + L->arena_used;
  memcpy(dst, v, n);
  dst[n] = 0;
  L->arena_used += n + 1;
  return dst;
}

static void add_pkg(void *arg, char *s, size_t len) {
  loader *L = arg;
  pkg *k = &L->d->pkgs[L->d->n++];
  size_t vl;
  const char *v = field(s, len, "Package", &vl);
  if (!v || !vl) L->bad = 1;
  k->name = keep(L, v ? v : "", v ? vl : 0);
  k->name_len = strlen(k->name);
  k->stanza = s;
  k->stanza_len = len;
  v = field(s, len, "Status", &vl);
  k->status = v ? keep(L, v, vl) : "";
  v = field(s, len, "Architecture", &vl);
  k->arch = v ? keep(L, v, vl) : "";
  v = field(s, len, "Multi-Arch", &vl);
  k->multiarch = v ? keep(L, v, vl) : "";
  v = field(s, len, "Version", &vl);
  k->version = v ? keep(L, v, vl) : "";
}

static void add_avail(void *arg, char *s, size_t len) {
  db *d = arg;
  size_t vl;
  const char *v = field(s, len, "Package", &vl);
  char *name = v ? strndup(v, vl) : NULL;
  if (name) d->avail[d->navail++] = name;
}

static int same_file(const struct stat *a, const struct stat *b) {
  return a->st_dev == b->st_dev && a->st_ino == b->st_ino && a->st_size == b->st_size &&
         a->st_mtim.tv_sec == b->st_mtim.tv_sec && a->st_mtim.tv_nsec == b->st_mtim.tv_nsec;
}

typedef struct names {
  char **v;
  size_t n, cap;
  int bad;
} names;

static void add_name(void *arg, char *st, size_t len) {
  names *ns = arg;
  size_t vl;
  const char *v = field(st, len, "Package", &vl);
  if (!v || !vl) {
    ns->bad = 1;
    return;
  }
  if (ns->n == ns->cap) {
    size_t nc = ns->cap ? ns->cap * 2 : 16;
    char **nv = realloc(ns->v, nc * sizeof *nv);
    if (!nv) {
      ns->bad = 1;
      return;
    }
    ns->v = nv;
    ns->cap = nc;
  }
  if (!(ns->v[ns->n] = strndup(v, vl)))
    ns->bad = 1;
  else
    ns->n++;
}

/* The packages named in dpkg's journal (updates/ files with all-digit names, which dpkg-query
 * applies over the status file): the builtins decline for them. 0 when it cannot be read. */
static int read_journal(db *d) {
  names ns = {0};
  DIR *dp = opendir(UPDATES_DIR);
  if (!dp) return errno == ENOENT;
  struct dirent *e;
  while ((e = readdir(dp))) {
    const char *n = e->d_name;
    if (!*n || n[strspn(n, "0123456789")]) continue; /* ".", "..", tmp.i: not read by dpkg-query */
    char path[sizeof UPDATES_DIR + 300];
    snprintf(path, sizeof path, "%s/%s", UPDATES_DIR, n);
    size_t len;
    struct stat st;
    char *t = slurp(path, &len, &st);
    if (!t) {
      ns.bad = 1;
      break;
    }
    stanzas(t, len, add_name, &ns);
    free(t);
  }
  closedir(dp);
  d->touched = ns.v;
  d->ntouched = ns.n;
  if (ns.bad) return 0;
  if (d->ntouched) qsort(d->touched, d->ntouched, sizeof *d->touched, by_str);
  return 1;
}

/* Make `cur` reflect the files on disk; 0 when it cannot (then the builtins decline). Called
 * with db_mu held. */
static int db_refresh(void) {
  struct stat s1, s2, s3;
  int have_avail = stat(AVAILABLE_PATH, &s2) == 0;
  if (stat(STATUS_PATH, &s1) != 0) return 0;
  int have_updates = stat(UPDATES_DIR, &s3) == 0;
  if (!have_updates) memset(&s3, 0, sizeof s3);
  if (cur_ok && same_file(&s1, &cur.st_status) && have_avail == cur.have_avail &&
      (!have_avail || same_file(&s2, &cur.st_avail)) && same_file(&s3, &cur.st_updates))
    return 1;
  db_clear(&cur);
  cur_ok = 0;
  db d;
  memset(&d, 0, sizeof d);
  size_t len;
  d.text = slurp(STATUS_PATH, &len, &d.st_status);
  if (!d.text) return 0;
  size_t n = stanzas(d.text, len, NULL, NULL);
  loader L = {&d, 0, len + 5 * n + 1, 0};
  d.pkgs = calloc(n ? n : 1, sizeof *d.pkgs);
  d.arena = malloc(L.arena_cap);
  if (!d.pkgs || !d.arena) {
    db_clear(&d);
    return 0;
  }
  stanzas(d.text, len, add_pkg, &L);
  qsort(d.pkgs, d.n, sizeof *d.pkgs, by_name);
  for (size_t i = 1; i < d.n; i++)
    if (!strcmp(d.pkgs[i].name, d.pkgs[i - 1].name)) d.pkgs[i].dup = d.pkgs[i - 1].dup = 1;
  d.st_updates = s3;
  if (!read_journal(&d)) L.bad = 1;
  d.have_avail = have_avail;
  if (have_avail) {
    size_t alen;
    char *at = slurp(AVAILABLE_PATH, &alen, &d.st_avail);
    if (!at) L.bad = 1;
    if (at) {
      size_t an = stanzas(at, alen, NULL, NULL);
      d.avail = calloc(an ? an : 1, sizeof *d.avail);
      if (d.avail) {
        stanzas(at, alen, add_avail, &d);
        qsort(d.avail, d.navail, sizeof *d.avail, by_str);
      } else {
        L.bad = 1;
      }
      free(at);
    }
  }
  if (L.bad) {
    db_clear(&d);
    return 0;
  }
  cur = d;
  cur_ok = 1;
  return 1;
}

static const pkg *find(const char *name) {
  size_t lo = 0, hi = cur.n;
  while (lo < hi) {
    size_t mid = (lo + hi) / 2;
    int c = strcmp(cur.pkgs[mid].name, name);
    if (c == 0) return &cur.pkgs[mid];
    if (c < 0)
      lo = mid + 1;
    else
      hi = mid;
  }
  return NULL;
}

static int in_available(const char *name) {
  return cur.navail && bsearch(&name, cur.avail, cur.navail, sizeof *cur.avail, by_str) != NULL;
}

/* Look a name up. Returns 1 found (*k set), 0 absent everywhere, -1 when the builtin must decline. */
static int lookup(const char *name, const pkg **k) {
  if (!builtin_pkg_name_ok(name)) return -1;
  if (cur.ntouched && bsearch(&name, cur.touched, cur.ntouched, sizeof *cur.touched, by_str)) return -1;
  *k = find(name);
  if (!*k) return in_available(name) ? -1 : 0;
  if ((*k)->dup || strcmp((*k)->status, "install ok installed") != 0) return -1;
  return 1;
}

int builtin_dpkg_installed_version(const char *package, char *buf, size_t cap) {
  pthread_mutex_lock(&db_mu);
  const pkg *k;
  int ok = db_refresh() && lookup(package, &k) == 1 && strlen(k->version) < cap;
  if (ok) strcpy(buf, k->version);
  pthread_mutex_unlock(&db_mu);
  return ok;
}

/* ---- -s ---- */

static int show_status(char *const *names, size_t n, bout *o) {
  strbuf pending = STRBUF_INIT;
  int failures = 0;
  for (size_t i = 0; i < n; i++) {
    const pkg *k;
    int r = lookup(names[i], &k);
    if (r < 0) {
      strbuf_free(&pending);
      return TN_ENOTFOUND;
    }
    if (r == 0) {
      bout_errf(o, "dpkg-query: package '%s' is not installed and no information is available\n", names[i]);
      failures++;
    } else {
      strbuf_append(&pending, k->stanza, k->stanza_len);
    }
    if (i + 1 < n) strbuf_putc(&pending, '\n');
  }
  int exact = bout_flush_at_exit(o, &pending);
  strbuf_free(&pending);
  if (!exact) return TN_ENOTFOUND;
  if (failures) bout_errs(o, "Use dpkg --info (= dpkg-deb --info) to examine archive files.\n");
  o->exit_code = failures ? 1 : 0;
  return TN_OK;
}

/* ---- -W ---- */

/* The native architecture: dpkg's own (dpkg is always a native package). */
static const char *native_arch(void) {
  const pkg *k = find("dpkg");
  return k && !k->dup ? k->arch : NULL;
}

static int render(strbuf *b, const char *fmt, const pkg *k, const char *native) {
  for (const char *p = fmt; *p; p++) {
    if (*p == '\\') return 0;
    if (*p != '$') {
      strbuf_putc(b, *p);
      continue;
    }
    if (p[1] != '{') return 0;
    const char *close = strchr(p + 2, '}');
    if (!close) return 0;
    size_t fl = (size_t)(close - (p + 2));
    const char *f = p + 2;
#define IS(lit) (fl == sizeof lit - 1 && !strncmp(f, lit, fl))
    const char *st = k->status, *sp1 = strchr(st, ' '), *sp2 = sp1 ? strchr(sp1 + 1, ' ') : NULL;
    if (!sp2) return 0;
    if (IS("Package")) {
      strbuf_puts(b, k->name);
    } else if (IS("binary:Package")) {
      strbuf_puts(b, k->name);
      int foreign = *k->arch && strcmp(k->arch, "all") && strcmp(k->arch, native);
      if (!strcmp(k->multiarch, "same") || foreign) {
        strbuf_putc(b, ':');
        strbuf_puts(b, k->arch);
      }
    } else if (IS("Status")) {
      strbuf_puts(b, st);
    } else if (IS("db:Status-Want")) {
      strbuf_append(b, st, (size_t)(sp1 - st));
    } else if (IS("db:Status-Eflag")) {
      strbuf_append(b, sp1 + 1, (size_t)(sp2 - sp1 - 1));
    } else if (IS("db:Status-Status")) {
      strbuf_puts(b, sp2 + 1);
    } else if (IS("Version")) {
      strbuf_puts(b, k->version);
    } else if (IS("Architecture")) {
      strbuf_puts(b, k->arch);
    } else {
      return 0;
    }
#undef IS
    p = close;
  }
  return 1;
}

static int show_list(const char *fmt, char *const *names, size_t n, bout *o) {
  const char *native = native_arch();
  if (!native) return TN_ENOTFOUND;
  const pkg **hit = calloc(n, sizeof *hit);
  if (!hit) return TN_ENOMEM;
  int failures = 0, rc = TN_OK;
  for (size_t i = 0; i < n && rc == TN_OK; i++) {
    int r = lookup(names[i], &hit[i]);
    if (r < 0) rc = TN_ENOTFOUND;
    if (r == 0) hit[i] = NULL;
  }
  /* the listing walks the database in name order, each package once */
  strbuf pending = STRBUF_INIT;
  for (size_t j = 0; j < cur.n && rc == TN_OK; j++)
    for (size_t i = 0; i < n; i++)
      if (hit[i] == &cur.pkgs[j]) {
        if (!render(&pending, fmt, hit[i], native)) rc = TN_ENOTFOUND;
        break;
      }
  for (size_t i = 0; i < n && rc == TN_OK; i++)
    if (!hit[i]) {
      bout_errf(o, "dpkg-query: no packages found matching %s\n", names[i]);
      failures++;
    }
  if (rc == TN_OK && !bout_flush_at_exit(o, &pending)) rc = TN_ENOTFOUND;
  strbuf_free(&pending);
  free(hit);
  o->exit_code = failures ? 1 : 0;
  return rc;
}

/* ---- entry points ---- */

static int query(char *const *argv, size_t argc, bout *o, int dpkg_front_end) {
  int mode = 0; /* 's' or 'W' */
  const char *fmt = NULL;
  size_t i = 1;
  for (; i < argc && argv[i][0] == '-'; i++) {
    const char *a = argv[i];
    if (!strcmp(a, "-s") || !strcmp(a, "--status")) {
      if (mode) return TN_ENOTFOUND;
      mode = 's';
    } else if (!dpkg_front_end && (!strcmp(a, "-W") || !strcmp(a, "--show"))) {
      if (mode) return TN_ENOTFOUND;
      mode = 'W';
    } else if (!dpkg_front_end && !fmt && !strncmp(a, "-f=", 3)) {
      fmt = a + 3;
    } else if (!dpkg_front_end && !fmt && !strncmp(a, "--showformat=", 13)) {
      fmt = a + 13;
    } else {
      return TN_ENOTFOUND;
    }
  }
  if (!mode || i == argc || (fmt && mode != 'W')) return TN_ENOTFOUND;
  pthread_mutex_lock(&db_mu);
  int rc = TN_ENOTFOUND;
  if (db_refresh())
    rc = mode == 's' ? show_status(argv + i, argc - i, o)
                     : show_list(fmt ? fmt : "${binary:Package}\t${Version}\n", argv + i, argc - i, o);
  pthread_mutex_unlock(&db_mu);
  return rc;
}

int builtin_dpkg_query_run(char *const *argv, size_t argc, bout *o) { return query(argv, argc, o, 0); }

int builtin_dpkg_run(char *const *argv, size_t argc, bout *o) { return query(argv, argc, o, 1); }
