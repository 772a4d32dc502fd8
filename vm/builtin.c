/* builtin.c — the builtin dispatcher (builtin.h): the process-wide switch, the environment and
 * locale gate, resolving argv[0] the way execvp does, and the program/package check of builtins.def.
 * The output helpers the builtins share (builtin_int.h) live in builtin_out.c. */
#include "builtin.h"

#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "builtin_int.h"
#include "err.h"
#include "runner.h"

extern char **environ;

typedef struct builtin_row {
  const char *id, *name, *program, *package, *version;
  int (*run)(char *const *argv, size_t argc, bout *o);
} builtin_row;

static const builtin_row rows[] = {
#define BUILTIN(id, name, program, package, version, desc)                                                   \
  {#id, name, program, package, version, builtin_##id##_run},
#include "builtins.def"
#undef BUILTIN
};
#define NROWS (sizeof rows / sizeof rows[0])

/* ---- the switch ---- */

static pthread_once_t once = PTHREAD_ONCE_INIT;
static size_t answered;
static int enabled = 1;

static void init_enabled(void) {
  const char *e = getenv("TENET_NO_BUILTINS");
  if (e && *e && strcmp(e, "0") != 0) __atomic_store_n(&enabled, 0, __ATOMIC_RELAXED);
}

void builtin_set_enabled(int on) {
  pthread_once(&once, init_enabled);
  __atomic_store_n(&enabled, on ? 1 : 0, __ATOMIC_RELAXED);
}

size_t builtin_answered_count(void) { return __atomic_load_n(&answered, __ATOMIC_RELAXED); }

int builtin_enabled(void) {
  pthread_once(&once, init_enabled);
  return __atomic_load_n(&enabled, __ATOMIC_RELAXED);
}

/* ---- the gate ---- */

static int locale_ok(const char *v) {
  return !*v || !strcmp(v, "C") || !strcmp(v, "POSIX") || !strcmp(v, "C.UTF-8") || !strcmp(v, "C.utf8");
}

/* Environment variables that change what these programs print, beyond the locale: gettext's
 * language list, GNU option permutation and quoting, dpkg's database and configuration. */
static const char *const env_decline[] = {"LANGUAGE=", "POSIXLY_CORRECT=", "QUOTING_STYLE=", "DPKG_", NULL};

static int environment_ok(void) {
  for (char **e = environ; e && *e; e++) {
    const char *v = *e;
    if (!strncmp(v, "LC_", 3) || !strncmp(v, "LANG=", 5)) {
      const char *eq = strchr(v, '=');
      if (!eq || !locale_ok(eq + 1)) return 0;
    }
    for (const char *const *d = env_decline; *d; d++)
      if (!strncmp(v, *d, strlen(*d)) && (strchr(*d, '=') == NULL || v[strlen(*d)])) return 0;
  }
  return 1;
}

/* The file execvp(argv0) would run, as a realpath in out (PATH_MAX bytes); 0 when it would fail
 * or cannot be told. */
static int resolve(const char *argv0, char *out) {
  struct stat st;
  if (!*argv0) return 0;
  if (strchr(argv0, '/')) {
    if (stat(argv0, &st) != 0 || !S_ISREG(st.st_mode) || access(argv0, X_OK) != 0) return 0;
    return realpath(argv0, out) != NULL;
  }
  const char *path = getenv("PATH");
  if (!path) path = "/bin:/usr/bin"; /* glibc's execvp default */
  size_t nlen = strlen(argv0);
  for (const char *p = path;; p++) {
    const char *end = strchrnul(p, ':');
    size_t dlen = (size_t)(end - p);
    char cand[PATH_MAX];
    if (dlen + 1 + nlen + 1 > sizeof cand) return 0;
    if (dlen) {
      memcpy(cand, p, dlen);
      cand[dlen] = '/';
      memcpy(cand + dlen + 1, argv0, nlen + 1);
    } else {
      memcpy(cand, argv0, nlen + 1); /* an empty element is the current directory */
    }
    if (stat(cand, &st) == 0) {
      if (S_ISREG(st.st_mode) && access(cand, X_OK) == 0) return realpath(cand, out) != NULL;
      return 0; /* execvp would get EACCES here and go on; too subtle to follow: decline */
    }
    if (errno != ENOENT && errno != ENOTDIR) return 0;
    if (!*end) return 0;
    p = end;
  }
}

static const char *base_name(const char *s) {
  const char *b = strrchr(s, '/');
  return b ? b + 1 : s;
}

static const builtin_row *row_for(const char *argv0) {
  const char *b = base_name(argv0);
  for (size_t i = 0; i < NROWS; i++)
    if (!strcmp(rows[i].name, b)) return &rows[i];
  return NULL;
}

const char *builtin_name_for(const char *cmd) {
  char **argv;
  size_t argc;
  if (runner_tokenize(cmd, &argv, &argc) != TN_OK) return NULL;
  const builtin_row *r = argc ? row_for(argv[0]) : NULL;
  runner_argv_free(argv);
  return r ? r->id : NULL;
}

void builtin_describe_program(FILE *out, const program *p) {
  /* distinct command strings, in code order (a command appears in many checks) */
  uint32_t *seen = calloc(p->ncode ? p->ncode : 1, sizeof *seen);
  size_t nseen = 0, with = 0;
  if (!seen) return;
  for (uint32_t a = 0; a < p->ncode; a++) {
    const insn *in = &p->code[a];
    if (in->op != OP_CMD || (in->b == PROG_NONE && p->dialect != DIALECT_WAZUH5)) continue; /* never runs */
    size_t k = 0;
    while (k < nseen && seen[k] != in->a)
      k++;
    if (k < nseen) continue;
    seen[nseen++] = in->a;
    with += builtin_name_for(program_str(p, in->a)) != NULL;
  }
  fprintf(out, "  builtins      %zu of %zu commands have a builtin (native: answered on this host now)\n",
          with, nseen);
  for (size_t k = 0; k < nseen; k++) {
    const char *cmd = program_str(p, seen[k]);
    const char *id = builtin_name_for(cmd);
    if (!id) continue;
    char **argv;
    size_t argc;
    int native = 0;
    if (runner_tokenize(cmd, &argv, &argc) == TN_OK) {
      builtin_result r;
      native = builtin_run(argv, argc, &r) == TN_OK;
      builtin_result_free(&r);
      runner_argv_free(argv);
    }
    fprintf(out, "                %-6s  %-10s  %s\n", native ? "native" : "runs", id, cmd);
  }
  free(seen);
}

int builtin_run(char *const *argv, size_t argc, builtin_result *res) {
  memset(res, 0, sizeof *res);
  if (!argc || !builtin_enabled()) return TN_ENOTFOUND;
  const builtin_row *r = row_for(argv[0]);
  if (!r || !environment_ok()) return TN_ENOTFOUND;
  char real[PATH_MAX];
  if (!resolve(argv[0], real) || strcmp(real, r->program) != 0) return TN_ENOTFOUND;
  char ver[128];
  if (!builtin_dpkg_installed_version(r->package, ver, sizeof ver) ||
      strncmp(ver, r->version, strlen(r->version)))
    return TN_ENOTFOUND;

  bout o = {STRBUF_INIT, STRBUF_INIT, STRBUF_INIT, 0};
  int rc = r->run(argv, argc, &o);
  if (rc == TN_OK && (!strbuf_ok(&o.all) || !strbuf_ok(&o.out) || !strbuf_ok(&o.err))) rc = TN_ENOMEM;
  if (rc == TN_OK) {
    res->exit_code = o.exit_code;
    res->output_len = o.all.len;
    res->out_len = o.out.len;
    res->err_len = o.err.len;
    res->output = strbuf_take(&o.all);
    res->out = strbuf_take(&o.out);
    res->err = strbuf_take(&o.err);
    if (!res->output || !res->out || !res->err) rc = TN_ENOMEM;
  }
  strbuf_free(&o.all);
  strbuf_free(&o.out);
  strbuf_free(&o.err);
  if (rc != TN_OK) {
    builtin_result_free(res);
    return rc == TN_ENOMEM ? TN_ENOMEM : TN_ENOTFOUND;
  }
  __atomic_add_fetch(&answered, 1, __ATOMIC_RELAXED);
  return TN_OK;
}

void builtin_result_free(builtin_result *res) {
  if (!res) return;
  free(res->output);
  free(res->out);
  free(res->err);
  memset(res, 0, sizeof *res);
}
