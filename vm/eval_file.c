/* eval_file.c — f: rules (SCA-SEMANTICS §2.5; 5.x: §10).
 *
 * 4.x, per item of the ','-split list (empty items skipped, no trimming):
 *   existence  realpath (ENOENT: not found; else invalid, "Could not resolve the real path of
 *              '%s': %s"), lstat of the resolved path (ENOENT: not found; else invalid, "Could not
 *              open '%s': %s"), a regular file is found, anything else is invalid
 *              ("FILE_EXISTS(%s) -> RETURN_INVALID: Not a regular file.").
 *   content    an item whose existence is not FOUND makes the list invalid ("Could not open file
 *              '%s'"); otherwise realpath again, open ("Could not open file '%s': %s"), and the
 *              lines of §2.2 until the first non-zero value: 1 is a match (the list is found, stop),
 *              2 makes the list invalid, anything else is no match in that file.
 * 5.x: the location is one path; existence is "a regular file" through symlinks (errors other than
 * a missing path are invalid); content needs an existing regular file (else invalid) and is
 * matched by eval_content5 (content.c), streamed for files over CACHE_FILE_MAX; content reads stop
 * when the scan's time budget runs out (invalid, with the budget's reason). 5.x reasons are the module's (SCA-SEMANTICS §10):
 * "File '%s' does not exist or is not a regular file", "Invalid pattern '%s' for file '%s'" and,
 * for an existence test that fails with an error, "File '%s' could not be resolved". */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cache_int.h"
#include "eval_int.h"
#include "fs.h"
#include "lines.h"

/* The scan's time budget (cache.h) has run out: the reason is set. */
static int over_budget(eval_ctx *c) {
  if (!scan_cache_over_budget(c->cache)) return 0;
  eval_set_reason(c, "%s", scan_cache_budget_reason(c->cache));
  return 1;
}

/* ---- 4.x ---- */

/* realpath as Wazuh's resolve step: RESOLVED with *out (caller frees), or NOT_FOUND (ENOENT) /
 * INVALID with its reason. */
enum { RESOLVED = -1 };

static int resolve(eval_ctx *c, const char *path, char **out) {
  *out = fs_realpath(path, NULL);
  if (*out) return RESOLVED;
  int e = errno;
  if (e == ENOENT) return EV_NOT_FOUND;
  char eb[128];
  eval_set_reason(c, "Could not resolve the real path of '%s': %s", path, eval_strerror(e, eb, sizeof eb));
  return EV_INVALID;
}

static int exists4(eval_ctx *c, const char *path) {
  char *real;
  int r = resolve(c, path, &real);
  if (r != RESOLVED) return r;
  struct stat st;
  int rc = fs_lstat(real, &st), e = errno;
  free(real);
  if (rc != 0) {
    if (e == ENOENT) return EV_NOT_FOUND;
    char eb[128];
    eval_set_reason(c, "Could not open '%s': %s", path, eval_strerror(e, eb, sizeof eb));
    return EV_INVALID;
  }
  if (S_ISREG(st.st_mode)) return EV_FOUND;
  eval_set_reason(c, "FILE_EXISTS(%s) -> RETURN_INVALID: Not a regular file.", path);
  return EV_INVALID;
}

/* The raw value of the first line whose matcher value is non-zero, or 0 (§2.3: the file scan
 * stops there). Files too large for the cache are read as a stream with fgets. */
static int scan4(eval_ctx *c, uint32_t expr, const cache_file *f, FILE *fp) {
  const char *line;
  size_t n;
  int v = 0;
  if (!fp) {
    lines_cursor cur;
    lines_cursor_init(&cur, f->data, f->len);
    while (!v && lines_file_next(&cur, &line, &n))
      v = vm_exec_matcher(c, expr, line, n);
    return v;
  }
  char buf[LINES_FGETS_SIZE];
  for (unsigned k = 1; !v && lines_file_stream_next(fp, buf, &line, &n); k++) {
    v = vm_exec_matcher(c, expr, line, n);
    if (k % 4096 == 0 && !v && over_budget(c)) return EV_INVALID; /* a huge (sparse) file */
  }
  return v;
}

static int content4(eval_ctx *c, const char *path, uint32_t expr) {
  if (over_budget(c)) return EV_INVALID;
  char *real;
  int r = resolve(c, path, &real);
  if (r != RESOLVED) {
    eval_set_reason(c, "Could not open file '%s'", path);
    return EV_INVALID;
  }
  const cache_file *f = scan_cache_get_file(c->cache, real);
  FILE *fp = NULL;
  int e = !f ? ENOMEM : f->err;
  if (!e && f->too_big && !(fp = fs_fopen(real, "re"))) e = errno;
  int v;
  if (e) {
    char eb[128];
    eval_set_reason(c, "Could not open file '%s': %s", path, eval_strerror(e, eb, sizeof eb));
    v = EV_INVALID;
  } else {
    v = scan4(c, expr, f, fp);
  }
  if (fp) fclose(fp);
  scan_cache_release_file(c->cache, f);
  free(real);
  return v;
}

static int list4(eval_ctx *c, const char *list, uint32_t expr) {
  char *copy = strdup(list), *save = NULL;
  if (!copy) {
    eval_set_reason(c, "Could not open file '%s'", list);
    return EV_INVALID;
  }
  int acc = EV_NOT_FOUND;
  for (char *item = strtok_r(copy, ",", &save); item; item = strtok_r(NULL, ",", &save)) {
    if (expr == PROG_NONE) {
      int r = exists4(c, item);
      if (r == EV_FOUND) {
        acc = EV_FOUND;
        break;
      }
      if (r == EV_INVALID) acc = EV_INVALID;
      continue;
    }
    if (exists4(c, item) != EV_FOUND) { /* a missing file too: the content rule is not applicable */
      acc = EV_INVALID;
      eval_set_reason(c, "Could not open file '%s'", item);
      continue;
    }
    int r = content4(c, item, expr);
    if (r == EV_FOUND) {
      acc = EV_FOUND;
      break;
    }
    if (r == EV_INVALID) acc = EV_INVALID;
  }
  free(copy);
  return acc;
}

/* ---- 5.x ---- */

/* std::filesystem exists() && is_regular_file(), through symlinks: 1 a regular file, 0 not (or
 * missing), -1 the module's exception (an error other than a missing path). */
static int regular5(const char *path) {
  struct stat st;
  if (fs_stat(path, &st) == 0) return S_ISREG(st.st_mode) ? 1 : 0;
  return errno == ENOENT || errno == ENOTDIR ? 0 : -1;
}

int eval_file_content5(eval_ctx *c, const char *path, uint32_t expr) {
  const cache_file *f = scan_cache_get_file(c->cache, path);
  int r;
  if (!f || f->err) {
    r = -1;
  } else if (f->too_big) {
    /* streamed with a bounded line buffer (content.c); -2: a limit stopped it, reason set */
    int fd = fs_open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    r = fd >= 0 ? eval_content5_stream(c, expr, fd, path) : -1;
    if (fd >= 0) close(fd);
  } else {
    r = eval_content5(c, expr, f->data, f->len);
  }
  scan_cache_release_file(c->cache, f);
  return r;
}

/* FileRuleEvaluator: existence is "exists and is a regular file" (an error is invalid); content
 * needs a regular file, then the whole file through eval_content5. Reasons: §10's wording. */
static int file5(eval_ctx *c, const char *path, uint32_t expr) {
  int reg = regular5(path);
  if (expr == PROG_NONE) {
    if (reg >= 0) return reg ? EV_FOUND : EV_NOT_FOUND;
    eval_set_reason(c, "File '%s' could not be resolved", path);
    return EV_INVALID;
  }
  if (reg == 0) {
    eval_set_reason(c, "File '%s' does not exist or is not a regular file", path);
    return EV_INVALID;
  }
  if (over_budget(c)) return EV_INVALID;
  int r = eval_file_content5(c, path, expr);
  if (r == -2) return EV_INVALID; /* a limit of the stream stopped it: its reason is set */
  if (r == -1) {
    eval_set_reason(c, "File '%s' does not exist or is not a regular file", path);
    return EV_INVALID;
  }
  if (r == EV_INVALID) {
    strbuf pat = STRBUF_INIT;
    eval_pattern_text5(c, expr, &pat);
    eval_set_reason(c, "Invalid pattern '%s' for file '%s'", pat.data ? pat.data : "", path);
    strbuf_free(&pat);
  }
  return r;
}

/* ---- entry points ---- */

int eval_file_list(eval_ctx *c, const char *list, uint32_t expr) {
  if (c->prog->dialect == DIALECT_WAZUH5) return file5(c, list, expr);
  return list4(c, list, expr);
}

int eval_file(eval_ctx *c, const insn *in) {
  const char *list = program_str(c->prog, in->a);
  int r = eval_file_list(c, list, in->b);
  eval_note_location(c, LOC_FILE, list);
  return r;
}
