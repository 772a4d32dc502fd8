/* test_conformance.c — the spec-driven conformance suite: runs the real `tenet scan` on fixture trees.
 *
 * Every tests/conformance/cases/NAME.case (format in tests/conformance/README.md) is run three times,
 * each time in a fresh temporary tree: with the default options, with `--jobs 1 --no-cache` and with
 * `--jobs 4`. The first run is compared with the case's expectations; the check events of the other
 * two runs must be identical to the first (scan id, times and the temporary path aside), and the
 * case's post-scan assertions must hold after every run.
 *
 *   test_conformance [SUBSTRING...]   run only the cases whose name contains one of the substrings
 *   test_conformance --default-policy compile and scan policies/debian12-baseline.yml (smoke test)
 *
 * Check ids: an integer, or a 5.x string id. Events must come in ascending key order, the key of a
 * string id that is not an integer being 2^62 | the first 62 bits (big-endian) of SHA-256 of its
 * text (docs/WAZUH5.md "String check ids"); it is computed here from that definition.
 *
 * Environment (set by CTest): TENET_SOURCE_DIR, TENET_BIN. TENET_CONFORMANCE_KEEP=1 keeps the
 * temporary trees and prints where they are. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "test.h"

#define SCAN_TIMEOUT_S 180 /* a whole scan of one case */
#define SHELL_TIMEOUT_S 60 /* setup, post and cleanup scripts */

/* ---------------------------------------------------------------------------------------------- */
/* Small helpers                                                                                  */

static void *xmalloc(size_t n) {
  void *p = malloc(n ? n : 1);
  if (!p) {
    perror("malloc");
    exit(2);
  }
  return p;
}

static char *xstrndup(const char *s, size_t n) {
  char *d = xmalloc(n + 1);
  memcpy(d, s, n);
  d[n] = '\0';
  return d;
}

static char *xstrdup(const char *s) { return xstrndup(s, strlen(s)); }

static char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *xasprintf(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  char *s = NULL;
  if (vasprintf(&s, fmt, ap) < 0) {
    perror("vasprintf");
    exit(2);
  }
  va_end(ap);
  return s;
}

/* A growable string. */
typedef struct sbuf {
  char *s;
  size_t len, cap;
} sbuf;

static void sb_addn(sbuf *b, const char *s, size_t n) {
  if (b->len + n + 1 > b->cap) {
    size_t cap = b->cap ? b->cap : 64;
    while (cap < b->len + n + 1) cap *= 2;
    char *ns = realloc(b->s, cap);
    if (!ns) {
      perror("realloc");
      exit(2);
    }
    b->s = ns;
    b->cap = cap;
  }
  memcpy(b->s + b->len, s, n);
  b->len += n;
  b->s[b->len] = '\0';
}

static void sb_add(sbuf *b, const char *s) { sb_addn(b, s, strlen(s)); }

static char *sb_take(sbuf *b) {
  if (!b->s) return xstrdup("");
  char *s = b->s;
  b->s = NULL;
  b->len = b->cap = 0;
  return s;
}

/* Replace every occurrence of `from` in `text` with `to` (new string). */
static char *replace_all(const char *text, const char *from, const char *to) {
  sbuf b = {0};
  size_t fl = strlen(from);
  const char *p = text, *q;
  while (fl && (q = strstr(p, from)) != NULL) {
    sb_addn(&b, p, (size_t)(q - p));
    sb_add(&b, to);
    p = q + fl;
  }
  sb_add(&b, p);
  return sb_take(&b);
}

static char *read_file(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  sbuf b = {0};
  char buf[65536];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, f)) > 0) sb_addn(&b, buf, n);
  fclose(f);
  if (len) *len = b.len;
  return sb_take(&b);
}

static int write_file(const char *path, const char *data) {
  FILE *f = fopen(path, "wb");
  if (!f) return -1;
  size_t n = strlen(data);
  int ok = fwrite(data, 1, n, f) == n;
  return (fclose(f) == 0 && ok) ? 0 : -1;
}

/* The key of a check id as written (n bytes): an integer (optional sign, decimal digits, int32
 * range) is itself; any other text is 2^62 | SHA-256(text)[0..8) big-endian, top two bits cleared. */
static long long id_key(const char *s, size_t n) {
  size_t i = n && (s[0] == '-' || s[0] == '+');
  int digits = i < n && n <= 20;
  for (size_t j = i; digits && j < n; j++) digits = s[j] >= '0' && s[j] <= '9';
  if (digits) {
    char buf[24];
    memcpy(buf, s, n);
    buf[n] = '\0';
    errno = 0;
    long long v = strtoll(buf, NULL, 10);
    if (!errno && v >= INT32_MIN && v <= INT32_MAX) return v;
  }
  unsigned char h[EVP_MAX_MD_SIZE];
  unsigned hl = 0;
  if (!EVP_Digest(s, n, h, &hl, EVP_sha256(), NULL)) exit(2);
  unsigned long long v = 0;
  for (int k = 0; k < 8; k++) v = v << 8 | h[k];
  return (long long)((1ULL << 62) | (v & ((1ULL << 62) - 1)));
}

/* ---------------------------------------------------------------------------------------------- */
/* A minimal JSON reader, enough for the events: every value keeps its raw text, strings are      */
/* decoded.                                                                                       */

enum { J_NULL, J_BOOL, J_NUM, J_STR, J_ARR, J_OBJ };

typedef struct jv {
  int t;
  const char *raw; /* points into the parsed line */
  size_t rawlen;
  char *s; /* J_STR: decoded */
  size_t n;
  char **keys;       /* J_OBJ */
  struct jv **items; /* J_ARR, J_OBJ */
} jv;

static void jfree(jv *v) {
  if (!v) return;
  for (size_t i = 0; i < v->n; i++) {
    if (v->keys) free(v->keys[i]);
    jfree(v->items[i]);
  }
  free(v->keys);
  free(v->items);
  free(v->s);
  free(v);
}

static void jskip(const char **p, const char *e) {
  while (*p < e && (**p == ' ' || **p == '\t' || **p == '\n' || **p == '\r')) (*p)++;
}

static void utf8_put(sbuf *b, unsigned cp) {
  char o[4];
  size_t n;
  if (cp < 0x80) {
    o[0] = (char)cp;
    n = 1;
  } else if (cp < 0x800) {
    o[0] = (char)(0xC0 | (cp >> 6));
    o[1] = (char)(0x80 | (cp & 0x3F));
    n = 2;
  } else if (cp < 0x10000) {
    o[0] = (char)(0xE0 | (cp >> 12));
    o[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
    o[2] = (char)(0x80 | (cp & 0x3F));
    n = 3;
  } else {
    o[0] = (char)(0xF0 | (cp >> 18));
    o[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    o[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    o[3] = (char)(0x80 | (cp & 0x3F));
    n = 4;
  }
  sb_addn(b, o, n);
}

static int hex4(const char *p, const char *e, unsigned *out) {
  if (e - p < 4) return -1;
  unsigned v = 0;
  for (int i = 0; i < 4; i++) {
    char c = p[i];
    v <<= 4;
    if (c >= '0' && c <= '9') v |= (unsigned)(c - '0');
    else if (c >= 'a' && c <= 'f') v |= (unsigned)(c - 'a' + 10);
    else if (c >= 'A' && c <= 'F') v |= (unsigned)(c - 'A' + 10);
    else return -1;
  }
  *out = v;
  return 0;
}

/* Parse a string starting at the opening quote; returns the decoded text or NULL. */
static char *jstring(const char **p, const char *e) {
  sbuf b = {0};
  (*p)++;
  while (*p < e) {
    unsigned char c = (unsigned char)**p;
    if (c == '"') {
      (*p)++;
      return sb_take(&b);
    }
    if (c < 0x20) break;
    if (c != '\\') {
      sb_addn(&b, *p, 1);
      (*p)++;
      continue;
    }
    (*p)++;
    if (*p >= e) break;
    char esc = **p;
    (*p)++;
    switch (esc) {
    case '"': sb_add(&b, "\""); break;
    case '\\': sb_add(&b, "\\"); break;
    case '/': sb_add(&b, "/"); break;
    case 'b': sb_add(&b, "\b"); break;
    case 'f': sb_add(&b, "\f"); break;
    case 'n': sb_add(&b, "\n"); break;
    case 'r': sb_add(&b, "\r"); break;
    case 't': sb_add(&b, "\t"); break;
    case 'u': {
      unsigned cp, lo;
      if (hex4(*p, e, &cp)) goto bad;
      *p += 4;
      if (cp >= 0xD800 && cp < 0xDC00 && e - *p >= 6 && (*p)[0] == '\\' && (*p)[1] == 'u' &&
          hex4(*p + 2, e, &lo) == 0 && lo >= 0xDC00 && lo < 0xE000) {
        cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
        *p += 6;
      }
      utf8_put(&b, cp);
      break;
    }
    default: goto bad;
    }
  }
bad:
  free(b.s);
  return NULL;
}

static jv *jvalue(const char **p, const char *e, int depth);

static void jpush(jv *v, char *key, jv *item) {
  v->items = realloc(v->items, (v->n + 1) * sizeof *v->items);
  if (v->t == J_OBJ) v->keys = realloc(v->keys, (v->n + 1) * sizeof *v->keys);
  if (!v->items || (v->t == J_OBJ && !v->keys)) {
    perror("realloc");
    exit(2);
  }
  if (v->t == J_OBJ) v->keys[v->n] = key;
  v->items[v->n++] = item;
}

static jv *jvalue(const char **p, const char *e, int depth) {
  jskip(p, e);
  if (*p >= e || depth > 64) return NULL;
  jv *v = calloc(1, sizeof *v);
  if (!v) exit(2);
  v->raw = *p;
  char c = **p;
  if (c == '{' || c == '[') {
    v->t = c == '{' ? J_OBJ : J_ARR;
    char close = c == '{' ? '}' : ']';
    (*p)++;
    jskip(p, e);
    if (*p < e && **p == close) {
      (*p)++;
    } else {
      for (;;) {
        char *key = NULL;
        if (v->t == J_OBJ) {
          jskip(p, e);
          if (*p >= e || **p != '"' || !(key = jstring(p, e))) goto bad;
          jskip(p, e);
          if (*p >= e || **p != ':') {
            free(key);
            goto bad;
          }
          (*p)++;
        }
        jv *item = jvalue(p, e, depth + 1);
        if (!item) {
          free(key);
          goto bad;
        }
        jpush(v, key, item);
        jskip(p, e);
        if (*p < e && **p == ',') {
          (*p)++;
          continue;
        }
        if (*p < e && **p == close) {
          (*p)++;
          break;
        }
        goto bad;
      }
    }
  } else if (c == '"') {
    v->t = J_STR;
    if (!(v->s = jstring(p, e))) goto bad;
  } else if (c == '-' || (c >= '0' && c <= '9')) {
    v->t = J_NUM;
    while (*p < e && strchr("+-0123456789.eE", **p)) (*p)++;
  } else if (e - *p >= 4 && memcmp(*p, "true", 4) == 0) {
    v->t = J_BOOL;
    *p += 4;
  } else if (e - *p >= 5 && memcmp(*p, "false", 5) == 0) {
    v->t = J_BOOL;
    *p += 5;
  } else if (e - *p >= 4 && memcmp(*p, "null", 4) == 0) {
    v->t = J_NULL;
    *p += 4;
  } else {
    goto bad;
  }
  v->rawlen = (size_t)(*p - v->raw);
  return v;
bad:
  jfree(v);
  return NULL;
}

/* Parse one whole line; NULL unless it is exactly one JSON value. */
static jv *jparse(const char *line) {
  const char *p = line, *e = line + strlen(line);
  jv *v = jvalue(&p, e, 0);
  if (!v) return NULL;
  jskip(&p, e);
  if (p != e) {
    jfree(v);
    return NULL;
  }
  return v;
}

static jv *jget(const jv *o, const char *key) {
  if (!o || o->t != J_OBJ) return NULL;
  for (size_t i = 0; i < o->n; i++)
    if (strcmp(o->keys[i], key) == 0) return o->items[i];
  return NULL;
}

/* Look up a path such as "file", "compliance.cis" or "rules[0]" below an object. */
static jv *jpath(const jv *o, const char *path) {
  char *copy = xstrdup(path), *save = NULL;
  const jv *cur = o;
  for (char *part = strtok_r(copy, ".", &save); part && cur; part = strtok_r(NULL, ".", &save)) {
    char *br = strchr(part, '[');
    if (br) *br = '\0';
    if (*part) cur = jget(cur, part);
    while (br && cur) {
      long idx = strtol(br + 1, &br, 10);
      if (*br != ']' || cur->t != J_ARR || idx < 0 || (size_t)idx >= cur->n) {
        cur = NULL;
        break;
      }
      cur = cur->items[idx];
      br = strchr(br, '[');
    }
  }
  free(copy);
  return (jv *)cur;
}

/* The value as text: decoded for strings, raw JSON otherwise (new string). */
static char *jtext(const jv *v) {
  if (!v) return NULL;
  if (v->t == J_STR) return xstrdup(v->s);
  return xstrndup(v->raw, v->rawlen);
}

/* ---------------------------------------------------------------------------------------------- */
/* Case files                                                                                     */

typedef struct tcase {
  char *name;
  char *path;
  char *setup, *policy, *post, *cleanup;
  char *post_inline; /* "post: CMD" lines of the expect section */
  char *args;
  char **expect; /* expectation lines */
  int *expect_lineno;
  size_t nexpect;
  char *error; /* syntax error in the case file, or NULL */
} tcase;

static void tcase_free(tcase *c) {
  free(c->name);
  free(c->path);
  free(c->setup);
  free(c->policy);
  free(c->post);
  free(c->post_inline);
  free(c->cleanup);
  free(c->args);
  for (size_t i = 0; i < c->nexpect; i++) free(c->expect[i]);
  free(c->expect);
  free(c->expect_lineno);
  free(c->error);
}

static int tcase_load(tcase *c, const char *dir, const char *file) {
  memset(c, 0, sizeof *c);
  c->path = xasprintf("%s/%s", dir, file);
  c->name = xstrndup(file, strlen(file) - strlen(".case"));
  char *text = read_file(c->path, NULL);
  if (!text) {
    c->error = xasprintf("cannot read %s: %s", c->path, strerror(errno));
    return -1;
  }
  sbuf sec = {0};
  char **target = NULL; /* section being filled */
  int in_expect = 0, lineno = 0;
  char *save = NULL;
  /* Split by hand: strtok would drop empty lines, which matter inside YAML and scripts. */
  for (char *line = text; line; line = save) {
    char *nl = strchr(line, '\n');
    save = nl ? nl + 1 : NULL;
    if (nl) *nl = '\0';
    if (!nl && !*line) break;
    lineno++;
    if (strncmp(line, "--- ", 4) == 0) {
      if (target) *target = sb_take(&sec);
      target = NULL;
      in_expect = 0;
      const char *name = line + 4;
      if (strcmp(name, "setup") == 0) target = &c->setup;
      else if (strcmp(name, "policy") == 0) target = &c->policy;
      else if (strcmp(name, "post") == 0) target = &c->post;
      else if (strcmp(name, "cleanup") == 0) target = &c->cleanup;
      else if (strcmp(name, "args") == 0) target = &c->args;
      else if (strcmp(name, "expect") == 0) in_expect = 1;
      else {
        c->error = xasprintf("%s:%d: unknown section '%s'", c->path, lineno, name);
        break;
      }
      if (target && *target) {
        c->error = xasprintf("%s:%d: duplicate section '%s'", c->path, lineno, name);
        break;
      }
      continue;
    }
    if (target) {
      sb_add(&sec, line);
      sb_add(&sec, "\n");
    } else if (in_expect) {
      const char *p = line;
      while (*p == ' ' || *p == '\t') p++;
      if (!*p || *p == '#') continue;
      if (strncmp(p, "post: ", 6) == 0) { /* same as a line of the post section */
        char *more = xasprintf("%s%s\n", c->post_inline ? c->post_inline : "", p + 6);
        free(c->post_inline);
        c->post_inline = more;
        continue;
      }
      c->expect = realloc(c->expect, (c->nexpect + 1) * sizeof *c->expect);
      c->expect_lineno = realloc(c->expect_lineno, (c->nexpect + 1) * sizeof *c->expect_lineno);
      if (!c->expect || !c->expect_lineno) exit(2);
      c->expect[c->nexpect] = xstrdup(p);
      c->expect_lineno[c->nexpect++] = lineno;
    }
  }
  if (target) *target = sb_take(&sec);
  free(sec.s);
  free(text);
  if (!c->error && !c->policy) c->error = xasprintf("%s: no '--- policy' section", c->path);
  if (!c->error && !c->nexpect) c->error = xasprintf("%s: no expectations", c->path);
  return c->error ? -1 : 0;
}

/* ---------------------------------------------------------------------------------------------- */
/* Processes                                                                                      */

/* Run argv in cwd with ROOT=root, stdin from /dev/null and stdout/stderr to the given files (or
 * /dev/null). Returns the wait status, or -1 when it could not start; *timed_out is set when the
 * process group had to be killed after timeout_s seconds. */
static int run_proc(char *const argv[], const char *cwd, const char *root, const char *out_path,
                    const char *err_path, int timeout_s, int *timed_out) {
  *timed_out = 0;
  fflush(stdout);
  fflush(stderr);
  pid_t pid = fork();
  if (pid < 0) return -1;
  if (pid == 0) {
    setpgid(0, 0);
    if (cwd && chdir(cwd) != 0) _exit(126);
    if (root) setenv("ROOT", root, 1);
    int in = open("/dev/null", O_RDONLY);
    int out = open(out_path ? out_path : "/dev/null", O_WRONLY | O_CREAT | O_TRUNC, 0644);
    int err = open(err_path ? err_path : "/dev/null", O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (in < 0 || out < 0 || err < 0) _exit(126);
    dup2(in, 0);
    dup2(out, 1);
    dup2(err, 2);
    if (in > 2) close(in);
    if (out > 2) close(out);
    if (err > 2) close(err);
    signal(SIGPIPE, SIG_DFL);
    execv(argv[0], argv);
    _exit(127);
  }
  setpgid(pid, pid); /* both sides, to win the race */
  struct timespec start, now, nap = {0, 5 * 1000 * 1000};
  clock_gettime(CLOCK_MONOTONIC, &start);
  int st = 0;
  for (;;) {
    pid_t r = waitpid(pid, &st, WNOHANG);
    if (r == pid) break;
    if (r < 0 && errno != EINTR) return -1;
    clock_gettime(CLOCK_MONOTONIC, &now);
    if (now.tv_sec - start.tv_sec >= timeout_s) {
      *timed_out = 1;
      kill(-pid, SIGKILL);
      kill(pid, SIGKILL);
      waitpid(pid, &st, 0);
      break;
    }
    nanosleep(&nap, NULL);
  }
  return st;
}

static char *describe_status(int st, int timed_out) {
  if (timed_out) return xstrdup("killed after the runner's timeout");
  if (st < 0) return xstrdup("could not be started");
  if (WIFSIGNALED(st)) return xasprintf("killed by signal %d (%s)", WTERMSIG(st), strsignal(WTERMSIG(st)));
  return xasprintf("exit status %d", WEXITSTATUS(st));
}

/* Run a shell script text with /bin/sh -e. Returns 0 on success; *msg describes a failure. */
static int run_shell(const char *script, const char *work, const char *root, const char *tag, char **msg) {
  char *path = xasprintf("%s/%s.sh", work, tag);
  char *out = xasprintf("%s/%s.out", work, tag);
  if (write_file(path, script) != 0) {
    *msg = xasprintf("cannot write %s", path);
    free(path);
    free(out);
    return -1;
  }
  char *argv[] = {"/bin/sh", "-e", path, NULL};
  int to;
  int st = run_proc(argv, root, root, out, out, SHELL_TIMEOUT_S, &to);
  int rc = 0;
  if (to || st < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
    char *d = describe_status(st, to);
    char *o = read_file(out, NULL);
    *msg = xasprintf("%s script failed (%s)%s%s", tag, d, o && *o ? ": " : "", o ? o : "");
    free(d);
    free(o);
    rc = -1;
  }
  free(path);
  free(out);
  return rc;
}

/* ---------------------------------------------------------------------------------------------- */
/* One scan                                                                                       */

typedef struct event {
  long long id; /* key (id_key) */
  char *shown;  /* the id as the event gives it: a number's text or a string's decoded text */
  jv *ev;    /* whole event */
  jv *check; /* its "check" object */
} event;

typedef struct scan_out {
  int status, timed_out;
  char *stderr_text;
  event *ev;
  size_t nev;
  jv **summaries;
  size_t nsum;
  char **norm; /* normalised check events, for comparing runs */
  char *norm_summary;
  char **problems; /* structural problems found while reading the output */
  size_t nproblems;
} scan_out;

static void scan_out_free(scan_out *o) {
  for (size_t i = 0; i < o->nev; i++) {
    jfree(o->ev[i].ev);
    free(o->ev[i].shown);
    free(o->norm[i]);
  }
  free(o->ev);
  free(o->norm);
  for (size_t i = 0; i < o->nsum; i++) jfree(o->summaries[i]);
  free(o->summaries);
  free(o->norm_summary);
  for (size_t i = 0; i < o->nproblems; i++) free(o->problems[i]);
  free(o->problems);
  free(o->stderr_text);
  memset(o, 0, sizeof *o);
}

static void problem(scan_out *o, char *msg) {
  o->problems = realloc(o->problems, (o->nproblems + 1) * sizeof *o->problems);
  if (!o->problems) exit(2);
  o->problems[o->nproblems++] = msg;
}

/* Normalised text of a value: raw JSON with the temporary root replaced by @ROOT@. */
static char *norm_text(const jv *v, const char *root) {
  char *raw = xstrndup(v->raw, v->rawlen);
  char *n = replace_all(raw, root, "@ROOT@");
  free(raw);
  return n;
}

static void read_output(scan_out *o, char *text, const char *root) {
  /* Tokenises `text` in place: the parsed values point into it, so it must outlive them. */
  long long last_id = LLONG_MIN;
  int have_scan_id = 0;
  char *scan_id = NULL;
  int lineno = 0;
  char *save = NULL;
  for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
    lineno++;
    jv *v = jparse(line);
    if (!v || v->t != J_OBJ) {
      problem(o, xasprintf("output line %d is not a JSON object: %.300s", lineno, line));
      jfree(v);
      continue;
    }
    jv *type = jget(v, "type");
    if (!type || type->t != J_STR) {
      problem(o, xasprintf("output line %d has no string \"type\": %.300s", lineno, line));
      jfree(v);
      continue;
    }
    jv *sid = jget(v, !strcmp(type->s, "summary") ? "scan_id" : "id");
    if (!sid || sid->t != J_NUM) {
      problem(o, xasprintf("output line %d has no numeric scan id: %.300s", lineno, line));
    } else if (!have_scan_id) {
      have_scan_id = 1;
      scan_id = xstrndup(sid->raw, sid->rawlen);
    } else if (strlen(scan_id) != sid->rawlen || memcmp(scan_id, sid->raw, sid->rawlen) != 0) {
      problem(o, xasprintf("output line %d: scan id %.*s differs from the first event's %s", lineno,
                           (int)sid->rawlen, sid->raw, scan_id));
    }
    if (strcmp(type->s, "check") == 0) {
      jv *check = jget(v, "check");
      jv *id = jpath(check, "id");
      if (!check || check->t != J_OBJ || !id || (id->t != J_NUM && !(id->t == J_STR && id->s[0]))) {
        problem(o, xasprintf("output line %d: check event without check.id: %.300s", lineno, line));
        jfree(v);
        continue;
      }
      char *shown = id->t == J_STR ? xstrdup(id->s) : xstrndup(id->raw, id->rawlen);
      long long cid = id->t == J_STR ? id_key(shown, strlen(shown)) : strtoll(id->raw, NULL, 10);
      if (o->nsum) problem(o, xasprintf("output line %d: check event %s after the summary", lineno, shown));
      if (cid <= last_id)
        problem(o, xasprintf("output line %d: check %s (key %lld) is not in ascending check-id order (after "
                             "key %lld)",
                             lineno, shown, cid, last_id));
      last_id = cid;
      o->ev = realloc(o->ev, (o->nev + 1) * sizeof *o->ev);
      o->norm = realloc(o->norm, (o->nev + 1) * sizeof *o->norm);
      if (!o->ev || !o->norm) exit(2);
      /* The normalised form: policy id + the whole check object, path-independent. */
      jv *pid = jget(v, "policy_id");
      char *ct = norm_text(check, root);
      char *pt = pid ? jtext(pid) : xstrdup("(none)");
      o->norm[o->nev] = xasprintf("policy_id=%s check=%s", pt, ct);
      free(ct);
      free(pt);
      o->ev[o->nev].id = cid;
      o->ev[o->nev].shown = shown;
      o->ev[o->nev].ev = v;
      o->ev[o->nev].check = check;
      o->nev++;
    } else if (strcmp(type->s, "summary") == 0) {
      o->summaries = realloc(o->summaries, (o->nsum + 1) * sizeof *o->summaries);
      if (!o->summaries) exit(2);
      o->summaries[o->nsum++] = v;
      /* Normalised summary: every member but the per-run ones. */
      sbuf b = {0};
      for (size_t i = 0; i < v->n; i++) {
        const char *k = v->keys[i];
        if (!strcmp(k, "scan_id") || !strcmp(k, "start_time") || !strcmp(k, "end_time") ||
            !strcmp(k, "hash_file") || !strcmp(k, "first_scan"))
          continue;
        char *t = norm_text(v->items[i], root);
        sb_add(&b, k);
        sb_add(&b, "=");
        sb_add(&b, t);
        sb_add(&b, " ");
        free(t);
      }
      free(o->norm_summary);
      o->norm_summary = sb_take(&b);
    } else {
      problem(o, xasprintf("output line %d: unexpected event type '%s'", lineno, type->s));
      jfree(v);
    }
  }
  free(scan_id);
}

static const char *MODE_ARGS[3][3] = {{NULL}, {"--jobs", "1", "--no-cache"}, {"--jobs", "4", NULL}};
static const char *MODE_NAME[3] = {"default options", "--jobs 1 --no-cache", "--jobs 4"};

/* The output text must outlive the parsed values (they point into it): kept per run. */
typedef struct run_ctx {
  char *work, *root;
  char *output_text;
  scan_out out;
} run_ctx;

static void run_ctx_free(run_ctx *r, int keep) {
  if (r->work) {
    if (keep) fprintf(stderr, "    (kept %s)\n", r->work);
    else test_rm_rf(r->work);
  }
  free(r->work);
  free(r->root);
  free(r->output_text);
  scan_out_free(&r->out);
  memset(r, 0, sizeof *r);
}

static char *tmp_base(void) {
  const char *t = test_env("TMPDIR", "/tmp");
  char *real = realpath(t, NULL);
  return real ? real : xstrdup("/tmp");
}

/* Make the work tree, run setup, write the policy and scan. Returns 0 when the scan ran (its output
 * is in r->out); failures are reported through *msg. */
static int run_case_once(const tcase *c, int mode, run_ctx *r, char **msg) {
  char *base = tmp_base();
  char *tmpl = xasprintf("%s/tenet-cf.XXXXXX", base);
  free(base);
  if (!mkdtemp(tmpl)) {
    *msg = xasprintf("mkdtemp: %s", strerror(errno));
    free(tmpl);
    return -1;
  }
  r->work = tmpl;
  r->root = xasprintf("%s/root", r->work);
  if (mkdir(r->root, 0755) != 0) {
    *msg = xasprintf("mkdir %s: %s", r->root, strerror(errno));
    return -1;
  }
  if (c->setup) {
    char *script = replace_all(c->setup, "@ROOT@", r->root);
    int rc = run_shell(script, r->work, r->root, "setup", msg);
    free(script);
    if (rc) return -1;
  }
  char *policy = replace_all(c->policy, "@ROOT@", r->root);
  char *policy_path = xasprintf("%s/policy.yml", r->work);
  if (write_file(policy_path, policy) != 0) {
    *msg = xasprintf("cannot write %s", policy_path);
    free(policy);
    free(policy_path);
    return -1;
  }
  free(policy);

  const char *bin = test_env("TENET_BIN", NULL);
  char *argv[64];
  int n = 0;
  char *args_copy = c->args ? xstrdup(c->args) : NULL, *save = NULL;
  argv[n++] = (char *)bin;
  argv[n++] = "scan";
  argv[n++] = "--format";
  argv[n++] = "jsonl";
  argv[n++] = "--allow-unsigned";
  for (int i = 0; i < 3 && MODE_ARGS[mode][i]; i++) argv[n++] = (char *)MODE_ARGS[mode][i];
  if (args_copy)
    for (char *a = strtok_r(args_copy, " \t\n", &save); a && n < 60; a = strtok_r(NULL, " \t\n", &save))
      argv[n++] = a;
  argv[n++] = policy_path;
  argv[n] = NULL;

  char *out_path = xasprintf("%s/scan.jsonl", r->work);
  char *err_path = xasprintf("%s/scan.err", r->work);
  r->out.status = run_proc(argv, r->root, r->root, out_path, err_path, SCAN_TIMEOUT_S, &r->out.timed_out);
  r->output_text = read_file(out_path, NULL);
  r->out.stderr_text = read_file(err_path, NULL);
  if (!r->output_text) r->output_text = xstrdup("");
  if (!r->out.stderr_text) r->out.stderr_text = xstrdup("");
  free(out_path);
  free(err_path);
  free(policy_path);
  free(args_copy);
  /* read_output tokenises the text in place; the parsed values point into it and live as long as r. */
  read_output(&r->out, r->output_text, r->root);
  return 0;
}

/* ---------------------------------------------------------------------------------------------- */
/* Expectations                                                                                   */

static int failures_in_case;

static void fail(const tcase *c, int lineno, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void fail(const tcase *c, int lineno, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  if (lineno > 0) fprintf(stderr, "  %s:%d: ", c->path, lineno);
  else fprintf(stderr, "  %s: ", c->path);
  vfprintf(stderr, fmt, ap);
  fputc('\n', stderr);
  va_end(ap);
  failures_in_case++;
  test_cur_failed_ = 1;
}

static event *find_event(scan_out *o, long long id) {
  for (size_t i = 0; i < o->nev; i++)
    if (o->ev[i].id == id) return &o->ev[i];
  return NULL;
}

/* Describe what a check event says, for messages. */
static char *event_outcome(const event *e) {
  jv *res = jget(e->check, "result");
  jv *st = jget(e->check, "status");
  jv *why = jget(e->check, "reason");
  if (res && res->t == J_STR && !st) return xstrdup(res->s);
  if (st && st->t == J_STR && strcmp(st->s, "Not applicable") == 0 && !res)
    return xasprintf("not applicable: %s", why && why->t == J_STR ? why->s : "(no reason field)");
  if (st && st->t == J_STR && strcmp(st->s, "Not run") == 0 && !res && !why) return xstrdup("not run"); /* 5.x */
  char *raw = xstrndup(e->check->raw, e->check->rawlen);
  char *m = xasprintf("malformed outcome in %s", raw);
  free(raw);
  return m;
}

static void check_expectations(const tcase *c, scan_out *o, const char *root) {
  size_t nid = 0;
  long long *listed = xmalloc(sizeof(long long) * (c->nexpect + 1));
  int want_summary = -1; /* -1: unspecified, 0: none, 1: one */
  for (size_t i = 0; i < c->nexpect; i++) {
    int ln = c->expect_lineno[i];
    char *line0 = replace_all(c->expect[i], "@ROOT@", root);
    char *line1 = replace_all(line0, "@SP@", " ");
    char *line = replace_all(line1, "@NL@", "\n"); /* 5.x reasons are newline-joined */
    free(line0);
    free(line1);
    /* A result line starts with a check id: an integer, or a 5.x string id (no spaces). */
    int keyword = !strncmp(line, "summary ", 8) || !strncmp(line, "summary-field ", 14) ||
                  !strcmp(line, "nosummary") || !strncmp(line, "checks ", 7);
    char *end = keyword ? NULL : strchr(line, ' ');
    char *idtok = end && end != line ? xstrndup(line, (size_t)(end - line)) : NULL;
    long long id = idtok ? id_key(idtok, strlen(idtok)) : 0;
    if (idtok) {
      const char *what = end + 1;
      event *e = find_event(o, id);
      if (!strcmp(what, "passed") || !strcmp(what, "failed") || !strncmp(what, "not applicable: ", 16) ||
          !strcmp(what, "not run") || !strcmp(what, "absent")) {
        listed[nid++] = id;
        if (!strcmp(what, "absent")) {
          if (e) {
            char *got = event_outcome(e);
            fail(c, ln, "check %s: expected no event, got %s", idtok, got);
            free(got);
          }
        } else if (!e) {
          fail(c, ln, "check %s: expected %s, got no event", idtok, what);
        } else {
          char *got = event_outcome(e);
          if (strcmp(got, what) != 0) {
            char *w = replace_all(what, root, "@ROOT@"), *g = replace_all(got, root, "@ROOT@");
            fail(c, ln, "check %s:\n      expected: %s\n      actual:   %s", idtok, w, g);
            free(w);
            free(g);
          }
          free(got);
        }
      } else if (!strncmp(what, "field ", 6) || !strncmp(what, "nofield ", 8) || !strncmp(what, "event ", 6)) {
        int want = what[0] != 'n', whole = what[0] == 'e';
        const char *spec = what + (want ? 6 : 8);
        const char *eq = want ? strchr(spec, '=') : NULL;
        if (want && !eq) {
          fail(c, ln, "case syntax: 'field NAME=VALUE' expected");
        } else if (!e) {
          fail(c, ln, "check %s: no event to look for field '%s' in", idtok, spec);
        } else {
          char *name = want ? xstrndup(spec, (size_t)(eq - spec)) : xstrdup(spec);
          jv *f = jpath(whole ? e->ev : e->check, name);
          char *got = jtext(f);
          char *w = want ? replace_all(eq + 1, root, "@ROOT@") : NULL;
          char *g = got ? replace_all(got, root, "@ROOT@") : NULL;
          if (want && !got)
            fail(c, ln, "check %s: field %s: expected \"%s\", the field is absent", idtok, name, w);
          else if (want && strcmp(got, eq + 1) != 0)
            fail(c, ln, "check %s: field %s:\n      expected: %s\n      actual:   %s", idtok, name, w, g);
          else if (!want && got)
            fail(c, ln, "check %s: field %s should be absent, got \"%s\"", idtok, name, g);
          free(w);
          free(g);
          free(name);
          free(got);
        }
      } else {
        fail(c, ln, "case syntax: unknown expectation '%s'", what);
      }
    } else if (!strncmp(line, "summary ", 8)) {
      want_summary = 1;
      jv *s = o->nsum ? o->summaries[0] : NULL;
      char *copy = xstrdup(line + 8), *save = NULL;
      for (char *kv = strtok_r(copy, " ", &save); kv; kv = strtok_r(NULL, " ", &save)) {
        char *eq = strchr(kv, '=');
        if (!eq) {
          fail(c, ln, "case syntax: 'summary KEY=VALUE...' expected");
          break;
        }
        *eq = '\0';
        if (!s) {
          fail(c, ln, "summary: expected %s=%s, got no summary", kv, eq + 1);
          continue;
        }
        jv *f = jget(s, kv);
        char *got = jtext(f);
        int same = got && strcmp(got, eq + 1) == 0;
        if (!same && got && f->t == J_NUM) same = strtod(got, NULL) == strtod(eq + 1, NULL);
        if (!same) fail(c, ln, "summary: %s: expected %s, got %s", kv, eq + 1, got ? got : "(absent)");
        free(got);
      }
      free(copy);
    } else if (!strncmp(line, "summary-field ", 14)) {
      want_summary = 1;
      jv *s = o->nsum ? o->summaries[0] : NULL;
      char *eq = strchr(line + 14, '=');
      if (!eq) {
        fail(c, ln, "case syntax: 'summary-field KEY=VALUE' expected");
      } else {
        char *key = xstrndup(line + 14, (size_t)(eq - (line + 14)));
        char *got = s ? jtext(jget(s, key)) : NULL;
        if (!got || strcmp(got, eq + 1) != 0)
          fail(c, ln, "summary: %s:\n      expected: %s\n      actual:   %s", key, eq + 1, got ? got : "(absent)");
        free(key);
        free(got);
      }
    } else if (!strcmp(line, "nosummary")) {
      want_summary = 0;
    } else if (!strncmp(line, "checks ", 7)) {
      long n = strtol(line + 7, NULL, 10);
      if ((long)o->nev != n) fail(c, ln, "expected %ld check events, got %zu", n, o->nev);
    } else {
      fail(c, ln, "case syntax: unknown expectation '%s'", line);
    }
    free(idtok);
    free(line);
  }
  /* Every event must be accounted for by a result line. */
  for (size_t i = 0; i < o->nev; i++) {
    int found = 0;
    for (size_t j = 0; j < nid; j++) found |= listed[j] == o->ev[i].id;
    if (!found) {
      char *got = event_outcome(&o->ev[i]);
      fail(c, 0, "check %s: unexpected event (%s)", o->ev[i].shown, got);
      free(got);
    }
  }
  if (want_summary == 0 && o->nsum) fail(c, 0, "expected no summary, got %zu", o->nsum);
  if (want_summary == 1 && o->nsum != 1) fail(c, 0, "expected one summary, got %zu", o->nsum);
  free(listed);
}

/* The post-scan assertions: each non-empty, non-comment line runs through /bin/sh and must exit 0. */
static void check_post(const tcase *c, const run_ctx *r, int mode) {
  if (!c->post && !c->post_inline) return;
  char *all = xasprintf("%s%s", c->post ? c->post : "", c->post_inline ? c->post_inline : "");
  char *text = replace_all(all, "@ROOT@", r->root), *save = NULL;
  free(all);
  for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
    const char *p = line;
    while (*p == ' ' || *p == '\t') p++;
    if (!*p || *p == '#') continue;
    char *argv[] = {"/bin/sh", "-c", (char *)p, NULL};
    int to;
    int st = run_proc(argv, r->root, r->root, NULL, NULL, SHELL_TIMEOUT_S, &to);
    if (to || st < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
      fail(c, 0, "post assertion failed after the scan with %s: %s", MODE_NAME[mode], p);
  }
  free(text);
}

static void run_cleanup(const tcase *c, const run_ctx *r) {
  if (!c->cleanup || !r->root) return;
  char *script = replace_all(c->cleanup, "@ROOT@", r->root);
  char *msg = NULL;
  if (run_shell(script, r->work, r->root, "cleanup", &msg) != 0) {
    fprintf(stderr, "  %s: warning: %s\n", c->path, msg);
    free(msg);
  }
  free(script);
}

/* Report a scan that did not exit 0 or wrote structural problems. Returns 1 if it is unusable. */
static int check_scan_health(const tcase *c, const run_ctx *r, int mode) {
  const scan_out *o = &r->out;
  int bad = 0;
  if (o->timed_out || o->status < 0 || WIFSIGNALED(o->status)) {
    char *d = describe_status(o->status, o->timed_out);
    fail(c, 0, "tenet scan (%s) %s; stderr:\n%s", MODE_NAME[mode], d, o->stderr_text);
    free(d);
    bad = 1;
  } else if (WEXITSTATUS(o->status) != 0 && o->nev == 0 && o->nsum == 0) {
    /* No output and a failure status: the scan did not run (e.g. the policy was rejected). Cases
     * that expect no output at all (requirements not met) accept any exit status. */
    int expects_output = 0;
    for (size_t i = 0; i < c->nexpect; i++) {
      const char *e = c->expect[i];
      if (strstr(e, " passed") || strstr(e, " failed") || strstr(e, " not applicable: ") ||
          strstr(e, " not run") || !strncmp(e, "summary", 7))
        expects_output = 1;
    }
    if (expects_output) {
      fail(c, 0, "tenet scan (%s) exit status %d and no output; stderr:\n%s", MODE_NAME[mode],
           WEXITSTATUS(o->status), o->stderr_text);
      bad = 1;
    }
  }
  if (!bad && o->stderr_text && strstr(o->stderr_text, ": error: ")) {
    fail(c, 0, "tenet scan (%s) reported errors:\n%s", MODE_NAME[mode], o->stderr_text);
    bad = 1;
  }
  for (size_t i = 0; i < o->nproblems; i++) fail(c, 0, "(%s) %s", MODE_NAME[mode], o->problems[i]);
  return bad;
}

static void compare_runs(const tcase *c, const run_ctx *a, const run_ctx *b, int mode) {
  const scan_out *x = &a->out, *y = &b->out;
  size_t n = x->nev > y->nev ? x->nev : y->nev;
  int shown = 0;
  for (size_t i = 0; i < n && shown < 5; i++) {
    const char *l = i < x->nev ? x->norm[i] : "(no event)";
    const char *m = i < y->nev ? y->norm[i] : "(no event)";
    if (strcmp(l, m) != 0) {
      fail(c, 0, "check event %zu differs between the default run and the run with %s:\n      default: %s\n      %s: %s",
           i + 1, MODE_NAME[mode], l, MODE_NAME[mode], m);
      shown++;
    }
  }
  const char *s1 = x->norm_summary ? x->norm_summary : "(none)";
  const char *s2 = y->norm_summary ? y->norm_summary : "(none)";
  if (strcmp(s1, s2) != 0)
    fail(c, 0, "summary differs between the default run and the run with %s:\n      default: %s\n      %s: %s",
         MODE_NAME[mode], s1, MODE_NAME[mode], s2);
}

/* The case must agree with itself: the summary counts it expects must be those of its result lines. */
static void check_case_consistency(const tcase *c) {
  long passed = 0, failed = 0, invalid = 0, notrun = 0;
  for (size_t i = 0; i < c->nexpect; i++) {
    const char *e = c->expect[i], *sp = strchr(e, ' ');
    if (!sp || sp == e || !strncmp(e, "summary ", 8) || !strncmp(e, "summary-field ", 14) ||
        !strncmp(e, "checks ", 7))
      continue; /* a result line starts with a check id (an integer or a 5.x string id) */
    if (!strcmp(sp + 1, "not run")) notrun++; /* 5.x: in total_checks only */
    else if (!strcmp(sp + 1, "passed")) passed++;
    else if (!strcmp(sp + 1, "failed")) failed++;
    else if (!strncmp(sp + 1, "not applicable:", 15)) invalid++; /* "not applicable:@SP@": empty reason */
  }
  for (size_t i = 0; i < c->nexpect; i++) {
    if (strncmp(c->expect[i], "summary ", 8) != 0) continue;
    const char *keys[] = {"passed=", "failed=", "invalid=", "total_checks="};
    long want[] = {passed, failed, invalid, passed + failed + invalid + notrun};
    for (int k = 0; k < 4; k++) {
      const char *at = strstr(c->expect[i], keys[k]);
      if (at && (at == c->expect[i] || at[-1] == ' ') && strtol(at + strlen(keys[k]), NULL, 10) != want[k])
        fail(c, c->expect_lineno[i], "case inconsistent: %s%ld expected from its result lines", keys[k], want[k]);
    }
  }
}

static void run_case(const tcase *c) {
  if (c->error) {
    fail(c, 0, "%s", c->error);
    return;
  }
  check_case_consistency(c);
  int keep = atoi(test_env("TENET_CONFORMANCE_KEEP", "0"));
  run_ctx runs[3];
  memset(runs, 0, sizeof runs);
  for (int mode = 0; mode < 3; mode++) {
    char *msg = NULL;
    int rc = run_case_once(c, mode, &runs[mode], &msg);
    if (rc != 0) {
      fail(c, 0, "(%s) %s", MODE_NAME[mode], msg);
      free(msg);
    } else if (!check_scan_health(c, &runs[mode], mode)) {
      if (mode == 0) check_expectations(c, &runs[0].out, runs[0].root);
      else if (runs[0].root) compare_runs(c, &runs[0], &runs[mode], mode);
      check_post(c, &runs[mode], mode);
    }
    run_cleanup(c, &runs[mode]);
    /* Only the default run is needed after this point; free the others right away. */
    if (mode > 0) run_ctx_free(&runs[mode], keep);
  }
  run_ctx_free(&runs[0], keep);
}

/* ---------------------------------------------------------------------------------------------- */
/* The default policy: it must compile cleanly (--strict) and scan this host without trouble.     */

static void test_default_policy(void) {
  const char *src = test_env("TENET_SOURCE_DIR", ".");
  const char *bin = test_env("TENET_BIN", NULL);
  REQUIRE(bin != NULL);
  char *policy = xasprintf("%s/policies/debian12-baseline.yml", src);
  char *base = tmp_base();
  char *work = xasprintf("%s/tenet-cf.XXXXXX", base);
  free(base);
  REQUIRE(mkdtemp(work) != NULL);
  char *bundle = xasprintf("%s/debian12-baseline.tnb", work);
  char *out = xasprintf("%s/out", work), *err = xasprintf("%s/err", work);
  int to;

  char *cargv[] = {(char *)bin, "compile", "--strict", "-o", bundle, policy, NULL};
  int st = run_proc(cargv, work, work, out, err, SCAN_TIMEOUT_S, &to);
  char *errtext = read_file(err, NULL);
  if (to || st < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
    fprintf(stderr, "  tenet compile --strict %s failed:\n%s\n", policy, errtext ? errtext : "");
    test_cur_failed_ = 1;
  }
  free(errtext);

  char *sargv[] = {(char *)bin, "scan", "--format", "jsonl", "--allow-unsigned", policy, NULL};
  st = run_proc(sargv, work, work, out, err, SCAN_TIMEOUT_S, &to);
  char *text = read_file(out, NULL);
  errtext = read_file(err, NULL);
  if (to || st < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
    char *d = describe_status(st, to);
    fprintf(stderr, "  tenet scan %s: %s\n%s\n", policy, d, errtext ? errtext : "");
    free(d);
    test_cur_failed_ = 1;
  }
  scan_out o = {0};
  if (text) read_output(&o, text, work);
  for (size_t i = 0; i < o.nproblems; i++) {
    fprintf(stderr, "  default policy scan: %s\n", o.problems[i]);
    test_cur_failed_ = 1;
  }
  size_t pass = 0, failc = 0, na = 0;
  for (size_t i = 0; i < o.nev; i++) {
    if (o.ev[i].id < 90000) {
      fprintf(stderr, "  default policy: check id %lld is below 90000\n", o.ev[i].id);
      test_cur_failed_ = 1;
    }
    jv *res = jget(o.ev[i].check, "result");
    if (res && res->t == J_STR && !strcmp(res->s, "passed")) pass++;
    else if (res) failc++;
    else na++;
  }
  if (o.nev) {
    /* Requirements met (this host is Debian 12): every check reports, one summary closes. */
    if (o.nev < 45) {
      fprintf(stderr, "  default policy: only %zu check events (at least 45 expected)\n", o.nev);
      test_cur_failed_ = 1;
    }
    if (o.nsum != 1) {
      fprintf(stderr, "  default policy: %zu summaries\n", o.nsum);
      test_cur_failed_ = 1;
    }
  }
  printf("default policy on this host: %zu checks (%zu passed, %zu failed, %zu not applicable)\n", o.nev,
         pass, failc, na);
  scan_out_free(&o);
  free(text);
  free(errtext);
  test_rm_rf(work);
  free(work);
  free(bundle);
  free(out);
  free(err);
  free(policy);
}

/* ---------------------------------------------------------------------------------------------- */

/* Load and run one case as one test of the "N passed, N failed" report. */
static void run_one(const char *dir, const char *file) {
  tcase c;
  tcase_load(&c, dir, file);
  test_name_ = c.name;
  test_cur_failed_ = 0;
  failures_in_case = 0;
  struct timespec t0, t1;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  if (setjmp(test_jmp_) == 0) run_case(&c);
  clock_gettime(CLOCK_MONOTONIC, &t1);
  double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
  if (test_cur_failed_) test_failed_++;
  else test_passed_++;
  printf("%-4s %-28s (%d problem%s, %.1f s)\n", test_cur_failed_ ? "FAIL" : "ok", c.name, failures_in_case,
         failures_in_case == 1 ? "" : "s", secs);
  fflush(stdout);
  tcase_free(&c);
}

static int by_name(const struct dirent **a, const struct dirent **b) { return strcmp((*a)->d_name, (*b)->d_name); }

static int is_case(const struct dirent *d) {
  size_t n = strlen(d->d_name);
  return n > 5 && strcmp(d->d_name + n - 5, ".case") == 0;
}

int main(int argc, char **argv) {
  const char *src = test_env("TENET_SOURCE_DIR", NULL);
  const char *bin = test_env("TENET_BIN", NULL);
  if (!src || !bin) {
    fprintf(stderr, "TENET_SOURCE_DIR and TENET_BIN must be set (run through ctest)\n");
    return 2;
  }
  if (access(bin, X_OK) != 0) {
    fprintf(stderr, "%s: %s\n", bin, strerror(errno));
    return 2;
  }
  signal(SIGPIPE, SIG_IGN);

  if (argc > 1 && strcmp(argv[1], "--default-policy") == 0) {
    RUN(test_default_policy);
    return test_report();
  }

  char *dir = xasprintf("%s/tests/conformance/cases", src);
  struct dirent **names = NULL;
  int n = scandir(dir, &names, is_case, by_name);
  if (n < 0) {
    fprintf(stderr, "%s: %s\n", dir, strerror(errno));
    return 2;
  }
  int ran = 0;
  for (int i = 0; i < n; i++) {
    int selected = argc < 2;
    for (int a = 1; a < argc; a++) selected |= strstr(names[i]->d_name, argv[a]) != NULL;
    if (selected) {
      run_one(dir, names[i]->d_name);
      ran++;
    }
    free(names[i]);
  }
  free(names);
  free(dir);
  if (!ran) fprintf(stderr, "no case selected\n");
  return test_report();
}
