/* eval_dir.c — d: rules (SCA-SEMANTICS §2.6; 5.x: §10).
 *
 * For each directory of the list (4.x: split on ',', empty items dropped; 5.x: one path):
 *   - skip_nfs and statfs() says NFS (0x6969) or CIFS (0xFF534D42): invalid ("Directory '%s'
 *     flagged as NFS and skip_nfs is enabled");
 *   - no name pattern: existence — realpath (ENOENT: not found; else invalid, "Could not resolve
 *     the real path of '%s': %s"), then opendir (found; ENOENT: not found; anything else, ENOTDIR
 *     included, invalid: "Could not check directory existence for '%s': %s");
 *   - a name pattern: the walk below.
 * Every directory visited records " Directory: <dir>". FOUND ends the list; INVALID is sticky.
 *
 * The walk of one directory, recursively and without a depth limit:
 *   realpath fails (any error, ENOENT included): invalid, "Could not open dir '%s'" (after the
 *   resolve reason for errors other than ENOENT); opendir fails: invalid, "Could not open '%s': %s".
 *   Entries in readdir order, "." and ".." skipped, each as "<dir as written>/<name>" (cut to
 *   PATH_MAX bytes) and lstat'ed (failure: invalid, "Cannot check directory entry '%s" — the
 *   missing quote is Wazuh's); directories are walked, everything else (symlinks included; 5.x
 *   skips symlinks) is tested by name: a match runs the f: list logic on the entry path (content
 *   when the rule has one, else existence). FOUND stops everything; INVALID is sticky.
 *
 * 5.x (walk5 below) follows the module's DirRuleEvaluator instead: no NFS test, an explicit stack,
 * the invalid-directory rule for regex names, exact names opening their file by bare name, and the
 * module's reasons.
 *
 * The name test: rx[b] on the bare name. For a 4.x "r:" pattern (an OS_Regex) Wazuh also accepts
 * a name that OS_Match2 matches with the whole "r:<pattern>" text, so that is tried too. */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>

#include "cache_int.h"
#include "eval_int.h"
#include "fs.h"
#include "lines.h"

#define FS_NFS 0x6969UL
#define FS_CIFS 0xFF534D42UL

typedef struct walk {
  eval_ctx *c;
  const rx *name_rx; /* may be NULL: never matches */
  rx *name_osmatch;  /* 4.x r: patterns: OS_Match2 on "r:<pattern>"; owned; may be NULL */
  uint32_t expr;     /* content matcher or PROG_NONE */
  int skip_symlinks; /* 5.x */
} walk;

static int is_nfs(const char *dir) {
  struct statfs st;
  if (fs_statfs(dir, &st) != 0) return 0;
  unsigned long t = (unsigned long)(unsigned int)st.f_type;
  return t == FS_NFS || t == FS_CIFS;
}

static int name_matches(const walk *w, const char *name) {
  size_t n = strlen(name);
  if (w->name_rx && rx_match(w->name_rx, name, n)) return 1;
  return w->name_osmatch && rx_match(w->name_osmatch, name, n);
}

static int dir_exists(eval_ctx *c, const char *dir) {
  char eb[128];
  char *real = fs_realpath(dir, NULL);
  if (!real) {
    if (errno == ENOENT) return EV_NOT_FOUND;
    eval_set_reason(c, "Could not resolve the real path of '%s': %s", dir,
                    eval_strerror(errno, eb, sizeof eb));
    return EV_INVALID;
  }
  DIR *d = fs_opendir(real);
  int e = errno;
  free(real);
  if (d) {
    closedir(d);
    return EV_FOUND;
  }
  if (e == ENOENT) return EV_NOT_FOUND;
  eval_set_reason(c, "Could not check directory existence for '%s': %s", dir,
                  eval_strerror(e, eb, sizeof eb));
  return EV_INVALID;
}

static int walk_dir(walk *w, const char *dir) {
  eval_ctx *c = w->c;
  char eb[128];
  const cache_dir *d = scan_cache_get_dir(c->cache, dir);
  if (!d || d->oom) {
    if (d) scan_cache_release_dir(c->cache, d);
    eval_set_reason(c, "Could not open dir '%s'", dir);
    return EV_INVALID;
  }
  int acc = EV_NOT_FOUND;
  char *path = NULL;
  if (d->real_err) {
    if (d->real_err != ENOENT)
      eval_set_reason(c, "Could not resolve the real path of '%s': %s", dir, eval_strerror(d->real_err, eb, sizeof eb));
    eval_set_reason(c, "Could not open dir '%s'", dir);
    acc = EV_INVALID;
  } else if (d->open_err) {
    eval_set_reason(c, "Could not open '%s': %s", dir, eval_strerror(d->open_err, eb, sizeof eb));
    acc = EV_INVALID;
  } else if (!(path = malloc(PATH_MAX + 1))) {
    eval_set_reason(c, "Could not open dir '%s'", dir);
    acc = EV_INVALID;
  }
  for (size_t i = 0; path && i < d->n; i++) {
    const cache_dirent *ent = &d->ents[i];
    snprintf(path, PATH_MAX + 1, "%s/%s", dir, ent->name); /* Wazuh's PATH_MAX+1 buffer: cut, not refused */
    if (ent->lstat_err) {
      eval_set_reason(c, "Cannot check directory entry '%s", path);
      acc = EV_INVALID;
      continue;
    }
    int r;
    if (w->skip_symlinks && S_ISLNK(ent->mode)) continue;
    if (S_ISDIR(ent->mode))
      r = walk_dir(w, path);
    else if (name_matches(w, ent->name))
      r = eval_file_list(c, path, w->expr);
    else
      continue;
    if (r == EV_FOUND) {
      acc = EV_FOUND;
      break;
    }
    if (r == EV_INVALID) acc = EV_INVALID;
  }
  free(path);
  scan_cache_release_dir(c->cache, d);
  return acc;
}

/* One listed directory. */
static int one_dir(walk *w, int has_name, const char *dir) {
  eval_ctx *c = w->c;
  int nfs_rule = !c->opt || c->opt->skip_nfs;
  if (nfs_rule && is_nfs(dir)) {
    eval_set_reason(c, "Directory '%s' flagged as NFS and skip_nfs is enabled", dir);
    return EV_INVALID;
  }
  return has_name ? walk_dir(w, dir) : dir_exists(c, dir);
}

/* ---- 5.x: DirRuleEvaluator (SCA-SEMANTICS §10) ---- */

/* The rule's pattern as the module holds it (everything after the first " -> "), for reasons. */
static void pattern5(eval_ctx *c, const insn *in, int is_rx, strbuf *out) {
  const program *p = c->prog;
  const prog_regex *pr = &p->regexes[in->b];
  const char *src = program_str(p, pr->source);
  if (is_rx) {
    strbuf_puts(out, "r:");
    strbuf_puts(out, src);
    if (in->c != PROG_NONE && c->code[in->c].op != OP_MEND && c->code[in->c + 1].op != OP_MEND) {
      strbuf_puts(out, " && ");
      eval_pattern_text5(c, in->c + 1, out);
    }
    return;
  }
  strbuf_puts(out, program_str(p, in->a)); /* unused: exact names have no pattern reason */
}

/* A regex name pattern on one file name, as PatternMatches does it: the name's lines (getline),
 * each against the minterms; the first minterm is the name regex (which, with content, the
 * compiler built from "<name> -> <first content minterm>": the module never splits the two),
 * the others the rule's later content minterms. 1 match, 0 not, -1 the module's exception. */
static int name_matches5(eval_ctx *c, const rx *name_rx, uint32_t rest, const char *name) {
  lines_cursor cur;
  size_t len = strlen(name);
  lines_cursor_init(&cur, name, len);
  const char *line;
  size_t n;
  while (lines_text5_next(&cur, &line, &n)) {
    if (!name_rx) return -1;
    if (!rx_match_line(name_rx, line, n)) continue;
    int v = rest == PROG_NONE ? 1 : eval_line5(c, rest, line, n);
    if (v != 0) return v;
  }
  return 0;
}

typedef struct dstack {
  char **v;
  size_t n, cap;
} dstack;

/* Push dir/name (name NULL: dir itself). 0, or -1 out of memory. */
static int push(dstack *s, const char *dir, const char *name) {
  if (s->n == s->cap) {
    size_t cap = s->cap ? s->cap * 2 : 16;
    char **nv = realloc(s->v, cap * sizeof *nv);
    if (!nv) return -1;
    s->v = nv;
    s->cap = cap;
  }
  int k = !name                ? ((s->v[s->n] = strdup(dir)) ? 0 : -1)
          : strcmp(dir, "/") == 0 ? asprintf(&s->v[s->n], "/%s", name) : asprintf(&s->v[s->n], "%s/%s", dir, name);
  if (k < 0) return -1;
  s->n++;
  return 0;
}

/* The walk with a file-name pattern: the root must exist, resolve and be a directory; then a stack
 * of directories (the root first; subdirectories pushed in listing order, the last pushed visited
 * next); symlinks skipped; every other non-directory entry tested by name. A regex rule is
 * invalid when a visited non-empty directory had no entry tested (only subdirectories and
 * symlinks) — the walk ends there. */
static int walk5(eval_ctx *c, const insn *in, const char *root) {
  const program *p = c->prog;
  const prog_regex *pr = &p->regexes[in->b];
  int is_rx = (pr->flags & RXF_CASELESS) != 0; /* "r:" names are caseless PCRE2; exact names not */
  const rx *name_rx = c->rx[in->b];
  uint32_t rest = PROG_NONE;
  if (is_rx && in->c != PROG_NONE) rest = in->c + 1; /* the first content minterm is in the name */
  struct stat st;
  if (fs_stat(root, &st) != 0) {
    eval_set_reason(c, "Path '%s' does not exist", root);
    return EV_INVALID;
  }
  char *real = fs_realpath(root, NULL);
  if (!real) {
    eval_set_reason(c, "Directory '%s' could not be resolved", root);
    return EV_INVALID;
  }
  if (fs_stat(real, &st) != 0 || !S_ISDIR(st.st_mode)) {
    eval_set_reason(c, "Path '%s' is not a directory", real);
    free(real);
    return EV_INVALID;
  }
  dstack s = {0};
  int v = EV_NOT_FOUND, done = 0;
  if (push(&s, real, NULL) != 0) {
    eval_set_reason(c, "Directory '%s' could not be listed", real);
    free(real);
    free(s.v);
    return EV_INVALID;
  }
  while (s.n && !done) {
    char *cur = s.v[--s.n];
    const cache_dir *d = scan_cache_get_dir(c->cache, cur);
    if (!d || d->oom || d->real_err || d->open_err) {
      eval_set_reason(c, "Directory '%s' could not be listed", cur);
      v = EV_INVALID;
      done = 1;
    }
    int tested = 0;
    for (size_t i = 0; !done && i < d->n; i++) {
      const cache_dirent *ent = &d->ents[i];
      if (ent->lstat_err) {
        eval_set_reason(c, "Directory '%s' could not be listed", cur);
        v = EV_INVALID;
        done = 1;
        break;
      }
      if (S_ISLNK(ent->mode)) continue;
      if (S_ISDIR(ent->mode)) {
        if (push(&s, cur, ent->name) != 0) {
          eval_set_reason(c, "Directory '%s' could not be listed", cur);
          v = EV_INVALID;
          done = 1;
        }
        continue;
      }
      if (is_rx) {
        int m = name_matches5(c, name_rx, rest, ent->name);
        if (m >= 0) tested = 1;
        if (m == 1) {
          v = EV_FOUND;
          done = 1;
        }
      } else if (name_rx && rx_match(name_rx, ent->name, strlen(ent->name))) {
        done = 1;
        if (in->c == PROG_NONE) {
          v = EV_FOUND;
        } else {
          /* the module opens the file by its bare name, relative to the working directory */
          v = eval_file_content5(c, ent->name, in->c);
          if (v == -2) v = EV_INVALID; /* a limit of the stream stopped it: its reason is set */
          if (v == -1) {
            eval_set_reason(c, "Failed to read contents of file '%s' in directory '%s'", ent->name, real);
            v = EV_INVALID;
          }
        }
      }
    }
    if (!done && is_rx && d && d->n && !tested) {
      strbuf pat = STRBUF_INIT;
      pattern5(c, in, is_rx, &pat);
      eval_set_reason(c, "Invalid pattern '%s' for directory '%s'", pat.data ? pat.data : "", real);
      strbuf_free(&pat);
      v = EV_INVALID;
      done = 1;
    }
    if (d) scan_cache_release_dir(c->cache, d);
    free(cur);
  }
  while (s.n)
    free(s.v[--s.n]);
  free(s.v);
  free(real);
  return v;
}

/* The existence test: exists() && is_directory() through symlinks; an error is invalid. */
static int exists5(eval_ctx *c, const char *dir) {
  struct stat st;
  if (fs_stat(dir, &st) == 0) return S_ISDIR(st.st_mode) ? EV_FOUND : EV_NOT_FOUND;
  if (errno == ENOENT || errno == ENOTDIR) return EV_NOT_FOUND;
  eval_set_reason(c, "Directory '%s' could not be resolved", dir);
  return EV_INVALID;
}

int eval_dir(eval_ctx *c, const insn *in) {
  const program *p = c->prog;
  const char *list = program_str(p, in->a);
  int has_name = in->b != PROG_NONE && in->b < p->nregexes;
  walk w = {c, NULL, NULL, in->c, p->dialect == DIALECT_WAZUH5};
  if (has_name) {
    w.name_rx = c->rx[in->b];
    const prog_regex *pr = &p->regexes[in->b];
    if (p->dialect != DIALECT_WAZUH5 && pr->dialect == RX_OSREGEX) {
      const char *src = program_str(p, pr->source);
      size_t n = strlen(src);
      char *whole = malloc(n + 3);
      if (whole) {
        memcpy(whole, "r:", 2);
        memcpy(whole + 2, src, n + 1);
        char err[64];
        w.name_osmatch = rx_compile(whole, RX_OSMATCH, 0, NULL, err, sizeof err);
        free(whole);
      }
    }
  }

  int found = EV_NOT_FOUND;
  if (p->dialect == DIALECT_WAZUH5) {
    found = has_name ? walk5(c, in, list) : exists5(c, list);
    eval_note_location(c, LOC_DIRECTORY, list);
  } else {
    /* split on ',' with empty items dropped (w_strtok_r_str_delim) */
    const char *s = list;
    while (*s) {
      while (*s == ',')
        s++;
      if (!*s) break;
      const char *end = strchr(s, ',');
      size_t n = end ? (size_t)(end - s) : strlen(s);
      char *dir = strndup(s, n);
      if (!dir) {
        eval_set_reason(c, "Could not open dir '%s'", list);
        found = EV_INVALID;
        break;
      }
      int r = one_dir(&w, has_name, dir);
      if (r == EV_FOUND)
        found = EV_FOUND;
      else if (r == EV_INVALID)
        found = EV_INVALID;
      eval_note_location(c, LOC_DIRECTORY, dir);
      free(dir);
      if (found == EV_FOUND) break;
      s += n;
    }
  }
  if (w.name_osmatch) rx_free(w.name_osmatch);
  return found;
}
