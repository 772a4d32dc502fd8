/* ptest.c — policy test files: the YAML model and the --update rewrite (see ptest.h). */
#include "ptest.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "checkid.h"
#include "err.h"
#include "eval.h"
#include "strbuf.h"
#include "ydoc.h"

struct ptest_file {
  char *path;
  char *dir;    /* directory of path, with a trailing '/' ("" for the current directory) */
  char *policy; /* joined, or NULL */
  char *text;   /* the file's bytes (NUL-terminated) */
  size_t len;
  ydoc *doc;
  ptest_case *cases;
  size_t ncases;
};

const ptest_case *ptest_cases(const ptest_file *f, size_t *n) {
  *n = f->ncases;
  return f->cases;
}
const char *ptest_policy(const ptest_file *f) { return f->policy; }
const char *ptest_path(const ptest_file *f) { return f->path; }

void ptest_free(ptest_file *f) {
  if (!f) return;
  for (size_t i = 0; i < f->ncases; i++) {
    free(f->cases[i].root);
    free(f->cases[i].commands);
    free(f->cases[i].processes);
    free(f->cases[i].expect);
  }
  free(f->cases);
  ydoc_free(f->doc);
  free(f->text);
  free(f->policy);
  free(f->dir);
  free(f->path);
  free(f);
}

/* ---- reading ---- */

typedef struct reader {
  ptest_file *f;
  diag_list *d;
  int errors;
} reader;

static void bad(reader *r, const ynode *n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void bad(reader *r, const ynode *n, const char *fmt, ...) {
  char msg[1024];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  diag_add(r->d, DIAG_ERROR, "test-file", r->f->path, n ? n->line : 1, n ? n->col : 1, "%s", msg);
  r->errors++;
}

static char *join(const char *dir, const char *rel) {
  size_t a = rel[0] == '/' ? 0 : strlen(dir), b = strlen(rel);
  char *s = malloc(a + b + 1);
  if (!s) return NULL;
  memcpy(s, dir, a);
  memcpy(s + a, rel, b + 1);
  return s;
}

static int is_string(const ynode *n) { return n && n->kind == YNODE_SCALAR; }

static int parse_result(const char *s, int *out) {
  if (strcmp(s, "passed") == 0) *out = EV_FOUND;
  else if (strcmp(s, "failed") == 0) *out = EV_NOT_FOUND;
  else if (strcmp(s, "not applicable") == 0) *out = EV_INVALID;
  else return -1;
  return 0;
}

static void read_commands(reader *r, ptest_case *c, const ynode *m) {
  if (m->kind != YNODE_MAPPING) {
    bad(r, m, "'commands' is a mapping of command -> output, not a %s", ynode_kind_name(m));
    return;
  }
  if (!(c->commands = calloc(m->n ? m->n : 1, sizeof *c->commands))) return;
  for (size_t i = 0; i < m->n; i++) {
    const ynode *k = m->pairs[i].key, *v = m->pairs[i].value;
    ptest_command *pc = &c->commands[c->ncommands];
    if (!is_string(k)) {
      bad(r, k, "a command is a string, not a %s", ynode_kind_name(k));
      continue;
    }
    pc->cmd = k->text;
    if (v->kind == YNODE_SCALAR) {
      pc->output = v->text;
      pc->output_len = v->len;
    } else if (v->kind == YNODE_MAPPING) {
      for (size_t j = 0; j < v->n; j++) {
        const ynode *kk = v->pairs[j].key, *vv = v->pairs[j].value;
        const char *key = is_string(kk) ? kk->text : "";
        if (strcmp(key, "output") == 0 && is_string(vv)) {
          pc->output = vv->text;
          pc->output_len = vv->len;
        } else if (strcmp(key, "status") == 0 && vv->kind == YNODE_SCALAR && vv->is_number &&
                   vv->number >= 0 && vv->number <= 255 && vv->number == (int)vv->number) {
          pc->status = (int)vv->number;
        } else {
          bad(r, kk, "command '%s': expected 'output: TEXT' or 'status: 0..255' here, not '%s'", k->text, key);
        }
      }
      if (!pc->output) {
        pc->output = "";
        pc->output_len = 0;
      }
    } else {
      bad(r, v, "command '%s': the output is a string or {output, status}, not a %s", k->text, ynode_kind_name(v));
      continue;
    }
    c->ncommands++;
  }
}

static void read_expect(reader *r, ptest_case *c, const ynode *m) {
  if (m->kind != YNODE_MAPPING) {
    bad(r, m, "'expect' is a mapping of check id -> result, not a %s", ynode_kind_name(m));
    return;
  }
  if (!(c->expect = calloc(m->n ? m->n : 1, sizeof *c->expect))) return;
  for (size_t i = 0; i < m->n; i++) {
    const ynode *k = m->pairs[i].key, *v = m->pairs[i].value;
    ptest_expect *e = &c->expect[c->nexpect];
    if (is_string(k) && k->quoted && k->len > 0 && !memchr(k->text, '\0', k->len)) {
      /* quoted: the id as the policy writes it ("5" is check 5, "s5" a 5.x text id) */
      if (!checkid_parse(k->text, k->len, &e->id)) e->text = k->text;
    } else if (!is_string(k) || !k->is_number || k->number != (double)(int64_t)k->number) {
      bad(r, k, "a check id is an integer, not '%s'", is_string(k) ? k->text : ynode_kind_name(k));
      continue;
    } else {
      e->id = (int64_t)k->number;
    }
    e->line = k->line;
    e->col = k->col;
    const ynode *res = v;
    if (v->kind == YNODE_MAPPING) {
      res = ynode_get(v, "result");
      const ynode *why = ynode_get(v, "reason");
      if (why && !is_string(why)) bad(r, why, "check %s: 'reason' is a string", k->text);
      else if (why) e->reason = why->text;
      for (size_t j = 0; j < v->n; j++) {
        const ynode *kk = v->pairs[j].key;
        if (!is_string(kk) || (strcmp(kk->text, "result") != 0 && strcmp(kk->text, "reason") != 0))
          bad(r, kk, "check %s: expected 'result' or 'reason' here, not '%s'", k->text,
              is_string(kk) ? kk->text : ynode_kind_name(kk));
      }
    }
    if (!is_string(res) || parse_result(res->text, &e->result) != 0) {
      bad(r, res ? res : v, "check %s: the result is passed, failed or not applicable, not '%s'", k->text,
          is_string(res) ? res->text : ynode_kind_name(res));
      continue;
    }
    c->nexpect++;
  }
}

/* Line helpers over the raw text (1-based lines). */
typedef struct lines {
  const char **start; /* start[i] for line i+1 */
  size_t *len;        /* without the newline */
  uint32_t n;
} lines;

static int lines_split(const char *text, size_t len, lines *l) {
  size_t cap = 64;
  l->n = 0;
  l->start = malloc(cap * sizeof *l->start);
  l->len = malloc(cap * sizeof *l->len);
  for (size_t pos = 0; pos < len && l->start && l->len;) {
    const char *nl = memchr(text + pos, '\n', len - pos);
    size_t n = nl ? (size_t)(nl - (text + pos)) : len - pos;
    if (l->n == cap) {
      cap *= 2;
      const char **s = realloc(l->start, cap * sizeof *s);
      if (s) l->start = s;
      size_t *ln = realloc(l->len, cap * sizeof *ln);
      if (ln) l->len = ln;
      if (!s || !ln) break;
    }
    l->start[l->n] = text + pos;
    l->len[l->n++] = n;
    pos += n + 1;
  }
  return l->start && l->len ? 0 : -1;
}

static void lines_free(lines *l) {
  free(l->start);
  free(l->len);
}

/* Whether line (1-based) is blank or a comment. */
static int filler(const lines *l, uint32_t line) {
  const char *s = l->start[line - 1];
  size_t n = l->len[line - 1], i = 0;
  while (i < n && (s[i] == ' ' || s[i] == '\t' || s[i] == '\r'))
    i++;
  return i == n || s[i] == '#';
}

/* Step back from last over blank and comment lines, not above first. */
static uint32_t trim_back(const lines *l, uint32_t first, uint32_t last) {
  while (last > first && filler(l, last))
    last--;
  return last;
}

static void read_case(reader *r, ptest_case *c, const ynode *m) {
  c->line = m->line;
  if (m->kind != YNODE_MAPPING) {
    bad(r, m, "a case is a mapping (name, root, commands, processes, expect), not a %s", ynode_kind_name(m));
    return;
  }
  c->key_col = m->n ? m->pairs[0].key->col : m->col;
  for (size_t i = 0; i < m->n; i++) {
    const ynode *k = m->pairs[i].key, *v = m->pairs[i].value;
    const char *key = is_string(k) ? k->text : "";
    if (strcmp(key, "name") == 0 && is_string(v)) {
      c->name = v->text;
    } else if (strcmp(key, "root") == 0 && is_string(v)) {
      c->root = join(r->f->dir, v->text);
    } else if (strcmp(key, "commands") == 0) {
      read_commands(r, c, v);
    } else if (strcmp(key, "processes") == 0) {
      if (v->kind != YNODE_SEQUENCE) {
        bad(r, v, "'processes' is a list of process names, not a %s", ynode_kind_name(v));
        continue;
      }
      c->has_processes = 1;
      if (!(c->processes = calloc(v->n ? v->n : 1, sizeof *c->processes))) continue;
      for (size_t j = 0; j < v->n; j++) {
        if (!is_string(v->items[j])) bad(r, v->items[j], "a process name is a string, not a %s", ynode_kind_name(v->items[j]));
        else c->processes[c->nprocesses++] = v->items[j]->text;
      }
    } else if (strcmp(key, "skipped") == 0 && is_string(v) && (strcmp(v->text, "true") == 0 || strcmp(v->text, "false") == 0)) {
      c->skipped = strcmp(v->text, "true") == 0;
    } else if (strcmp(key, "expect") == 0) {
      c->expect_line = k->line;
      c->expect_col = k->col;
      read_expect(r, c, v);
    } else {
      bad(r, k, "unexpected '%s' in a case (name, root, commands, processes, skipped, expect; a string "
                "for name and root, true or false for skipped)", key);
    }
  }
  if (!c->name) bad(r, m, "a case needs a 'name'");
  if (!c->root) bad(r, m, "case '%s' needs a 'root' directory (the file tree standing in for /)", c->name ? c->name : "?");
}

/* Where each case and its expect block end, for --update. */
static void layout(ptest_file *f, const ynode *root, const ynode *cases) {
  lines l;
  if (lines_split(f->text, f->len, &l) != 0) {
    lines_free(&l);
    return;
  }
  uint32_t after = l.n; /* last line of the cases sequence */
  for (size_t i = 0; i < root->n; i++)
    if (root->pairs[i].value == cases && i + 1 < root->n) after = root->pairs[i + 1].key->line - 1;
  for (size_t i = 0; i < f->ncases; i++) {
    ptest_case *c = &f->cases[i];
    const ynode *m = cases->items[i];
    uint32_t last = i + 1 < f->ncases ? cases->items[i + 1]->line - 1 : after;
    if (last < c->line) last = c->line;
    if (last > l.n) last = l.n;
    c->last_line = l.n ? trim_back(&l, c->line, last) : c->line;
    if (!c->expect_line || m->kind != YNODE_MAPPING) continue;
    uint32_t end = c->last_line;
    for (size_t j = 0; j < m->n; j++) {
      if (m->pairs[j].key->line != c->expect_line || m->pairs[j].key->col != c->expect_col) continue;
      if (j + 1 < m->n) end = m->pairs[j + 1].key->line ? m->pairs[j + 1].key->line - 1 : end;
    }
    if (end < c->expect_line) end = c->expect_line;
    c->expect_last = trim_back(&l, c->expect_line, end);
    for (size_t j = 0; j < m->n; j++) {
      const ynode *k = m->pairs[j].key;
      if ((k->line != c->expect_line || k->col != c->expect_col) && k->line >= c->expect_line &&
          k->line <= c->expect_last)
        c->flow = 1;
    }
  }
  lines_free(&l);
}

ptest_file *ptest_load(const char *path, diag_list *diags) {
  ptest_file *f = calloc(1, sizeof *f);
  reader r = {f, diags, 0};
  if (!f || !(f->path = strdup(path))) {
    free(f);
    return NULL;
  }
  const char *slash = strrchr(path, '/');
  f->dir = strndup(path, slash ? (size_t)(slash - path) + 1 : 0);
  FILE *fp = fopen(path, "re");
  if (!fp) {
    diag_add(diags, DIAG_ERROR, "test-file", path, 0, 0, "cannot read the test file: %s", strerror(errno));
    ptest_free(f);
    return NULL;
  }
  strbuf b = STRBUF_INIT;
  char chunk[65536];
  size_t n;
  while ((n = fread(chunk, 1, sizeof chunk, fp)) > 0 && b.len <= YDOC_MAX_INPUT)
    strbuf_append(&b, chunk, n);
  fclose(fp);
  strbuf_append(&b, "", 0);
  f->len = b.len;
  f->text = strbuf_take(&b);
  if (!f->dir || !f->text || !(f->doc = ydoc_parse(path, f->text, f->len, diags))) {
    ptest_free(f);
    return NULL;
  }
  const ynode *root = ydoc_root(f->doc), *cases = ynode_get(root, "cases");
  if (!root || root->kind != YNODE_MAPPING) {
    bad(&r, root, "a test file is a mapping with 'cases' (and optionally 'policy')");
  } else {
    for (size_t i = 0; i < root->n; i++) {
      const ynode *k = root->pairs[i].key, *v = root->pairs[i].value;
      const char *key = is_string(k) ? k->text : "";
      if (strcmp(key, "policy") == 0 && is_string(v)) f->policy = join(f->dir, v->text);
      else if (strcmp(key, "cases") != 0) bad(&r, k, "unexpected '%s' (a test file has 'policy' and 'cases')", key);
    }
    if (!cases || cases->kind != YNODE_SEQUENCE || cases->n == 0) {
      bad(&r, cases ? cases : root, "'cases' is a non-empty list of test cases");
    } else if ((f->cases = calloc(cases->n, sizeof *f->cases))) {
      f->ncases = cases->n;
      for (size_t i = 0; i < cases->n; i++)
        read_case(&r, &f->cases[i], cases->items[i]);
      for (size_t i = 0; i < cases->n; i++)
        for (size_t j = 0; j < i; j++)
          if (f->cases[i].name && f->cases[j].name && strcmp(f->cases[i].name, f->cases[j].name) == 0)
            bad(&r, cases->items[i], "a second case named '%s'", f->cases[i].name);
      layout(f, root, cases);
    }
  }
  if (r.errors) {
    ptest_free(f);
    return NULL;
  }
  return f;
}

/* ---- --update ---- */

static void put_quoted(strbuf *b, const char *s) {
  strbuf_puts(b, "\"");
  for (; *s; s++) {
    unsigned char ch = (unsigned char)*s;
    if (ch == '"' || ch == '\\') {
      char e[3] = {'\\', (char)ch, 0};
      strbuf_puts(b, e);
    } else if (ch < 0x20 || ch == 0x7f) {
      strbuf_printf(b, "\\x%02x", ch);
    } else {
      strbuf_append(b, s, 1);
    }
  }
  strbuf_puts(b, "\"");
}

static void put_block(strbuf *b, unsigned indent, const ptest_observed *obs, size_t n) {
  if (n == 0) {
    strbuf_puts(b, " {}\n");
    return;
  }
  strbuf_puts(b, "\n");
  for (size_t i = 0; i < n; i++) {
    if (obs[i].text) {
      strbuf_printf(b, "%*s", indent, "");
      put_quoted(b, obs[i].text);
      strbuf_puts(b, ": ");
    } else {
      strbuf_printf(b, "%*s%lld: ", indent, "", (long long)obs[i].id);
    }
    if (obs[i].result == EV_INVALID) {
      strbuf_puts(b, "{result: not applicable, reason: ");
      put_quoted(b, obs[i].reason ? obs[i].reason : "");
      strbuf_puts(b, "}\n");
    } else {
      strbuf_puts(b, obs[i].result == EV_FOUND ? "passed\n" : "failed\n");
    }
  }
}

int ptest_update(const ptest_file *f, const ptest_observed *const *obs, const size_t *nobs, char *err,
                 size_t errlen) {
  for (size_t i = 0; i < f->ncases; i++) {
    if (f->cases[i].flow) {
      snprintf(err, errlen, "%s:%u: case '%s' is written in flow style: write it in block style (one key per line) "
               "for --update", f->path, f->cases[i].line, f->cases[i].name);
      return TN_EUSAGE;
    }
  }
  lines l;
  if (lines_split(f->text, f->len, &l) != 0) {
    lines_free(&l);
    snprintf(err, errlen, "out of memory");
    return TN_ENOMEM;
  }
  strbuf b = STRBUF_INIT;
  for (uint32_t line = 1; line <= l.n; line++) {
    const ptest_case *c = NULL;
    size_t ci = 0;
    for (size_t i = 0; i < f->ncases; i++)
      if (f->cases[i].expect_line == line) c = &f->cases[i], ci = i;
    if (c && !(c->skipped && nobs[ci] == 0)) {
      strbuf_append(&b, l.start[line - 1], c->expect_col - 1);
      strbuf_puts(&b, "expect:");
      put_block(&b, c->expect_col - 1 + 2, obs[ci], nobs[ci]);
      line = c->expect_last;
      continue;
    }
    strbuf_append(&b, l.start[line - 1], l.len[line - 1]);
    strbuf_puts(&b, "\n");
    for (size_t i = 0; i < f->ncases; i++) {
      const ptest_case *e = &f->cases[i];
      if (e->last_line != line || e->expect_line || (e->skipped && nobs[i] == 0)) continue;
      strbuf_printf(&b, "%*sexpect:", (int)e->key_col - 1, "");
      put_block(&b, e->key_col - 1 + 2, obs[i], nobs[i]);
    }
  }
  lines_free(&l);
  if (!strbuf_ok(&b)) {
    strbuf_free(&b);
    snprintf(err, errlen, "out of memory");
    return TN_ENOMEM;
  }
  char tmp[4200];
  snprintf(tmp, sizeof tmp, "%s.tmp", f->path);
  FILE *fp = fopen(tmp, "we");
  int ok = fp && fwrite(b.data, 1, b.len, fp) == b.len;
  if (fp && fclose(fp) != 0) ok = 0;
  strbuf_free(&b);
  if (!ok || rename(tmp, f->path) != 0) {
    snprintf(err, errlen, "cannot write %s: %s", f->path, strerror(errno));
    unlink(tmp);
    return TN_EIO;
  }
  return TN_OK;
}
