/* waiver.c — waiver files: strict parsing into a set, binding to a host and a day, the lookup the
 * report renderers call, and the comparison with the scanned policies (waiver.h). */
#include "waiver.h"

#include <errno.h>
#include <fnmatch.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "checkid.h"
#include "err.h"
#include "ydoc.h"

typedef struct waiver {
  char *file;
  uint32_t line, col;
  char *policy;
  int64_t *checks;   /* keys (vm/checkid.h) */
  char **check_text; /* a 5.x text id as written (quoted in the file), or NULL */
  uint32_t *check_line, *check_col;
  size_t nchecks;
  char *justification, *owner, *expires, *hosts;
  report_waiver view; /* what the lookup returns */
  int here;           /* the host pattern matches the bound hostname (or there is none) */
} waiver;

struct waiver_set {
  waiver *w;
  size_t n, cap;
  char *host;
  char today[11];
};

static const char *const item_keys[] = {"policy", "checks", "justification", "owner", "expires", "hosts"};
#define NKEYS (sizeof item_keys / sizeof *item_keys)

waiver_set *waiver_set_new(void) {
  waiver_set *ws = calloc(1, sizeof *ws);
  if (ws) strcpy(ws->today, "0000-00-00");
  return ws;
}

static void waiver_clear(waiver *w) {
  free(w->file);
  free(w->policy);
  free(w->checks);
  for (size_t i = 0; w->check_text && i < w->nchecks; i++)
    free(w->check_text[i]);
  free(w->check_text);
  free(w->check_line);
  free(w->check_col);
  free(w->justification);
  free(w->owner);
  free(w->expires);
  free(w->hosts);
  memset(w, 0, sizeof *w);
}

void waiver_set_free(waiver_set *ws) {
  if (!ws) return;
  for (size_t i = 0; i < ws->n; i++)
    waiver_clear(&ws->w[i]);
  free(ws->w);
  free(ws->host);
  free(ws);
}

/* ---- parsing ---- */

typedef struct parser {
  const char *path;
  diag_list *diags;
  size_t errors;
  int oom;
} parser;

static void fail(parser *p, const ynode *at, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void fail(parser *p, const ynode *at, const char *fmt, ...) {
  char *msg = NULL;
  va_list ap;
  va_start(ap, fmt);
  if (vasprintf(&msg, fmt, ap) < 0) msg = NULL;
  va_end(ap);
  diag_add(p->diags, DIAG_ERROR, "waiver", p->path, at ? at->line : 0, at ? at->col : 0, "%s",
           msg ? msg : "out of memory");
  free(msg);
  p->errors++;
}

static char *dup_text(parser *p, const ynode *n) {
  char *s = strndup(n->text, n->len);
  if (!s) p->oom = 1;
  return s;
}

/* A non-empty string scalar (no NUL inside), copied; NULL after a diagnostic otherwise. */
static char *get_string(parser *p, const ynode *v, const char *key) {
  if (!ynode_is_string(v)) {
    fail(p, v, "'%s' must be a string, not a %s (quote it)", key, ynode_kind_name(v));
    return NULL;
  }
  if (v->len == 0 || strlen(v->text) != v->len) {
    fail(p, v, "'%s' must be a non-empty string without NUL bytes", key);
    return NULL;
  }
  return dup_text(p, v);
}

/* 1 when s is a real calendar date written YYYY-MM-DD. */
static int valid_date(const char *s) {
  if (strlen(s) != 10 || s[4] != '-' || s[7] != '-') return 0;
  for (int i = 0; i < 10; i++)
    if (i != 4 && i != 7 && (s[i] < '0' || s[i] > '9')) return 0;
  int y = atoi(s), m = atoi(s + 5), d = atoi(s + 8);
  static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (y < 1 || m < 1 || m > 12 || d < 1) return 0;
  int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  return d <= mdays[m - 1] + (m == 2 && leap);
}

static void parse_checks(parser *p, const ynode *v, waiver *w) {
  if (!v || v->kind != YNODE_SEQUENCE || v->n == 0) {
    fail(p, v, "'checks' must be a non-empty list of check ids, not %s",
         v && v->kind == YNODE_SEQUENCE ? "an empty list" : ynode_kind_name(v));
    return;
  }
  w->checks = calloc(v->n, sizeof *w->checks);
  w->check_line = calloc(v->n, sizeof *w->check_line);
  w->check_col = calloc(v->n, sizeof *w->check_col);
  w->check_text = calloc(v->n, sizeof *w->check_text);
  if (!w->checks || !w->check_line || !w->check_col || !w->check_text) {
    p->oom = 1;
    return;
  }
  for (size_t i = 0; i < v->n; i++) {
    const ynode *c = v->items[i];
    int64_t key;
    /* A quoted id names a check as the policy writes it: "5" is check 5, "s5" a 5.x text id. */
    if (c->kind == YNODE_SCALAR && c->quoted && c->len > 0 && c->len <= CHECKID_TEXT_MAX &&
        !memchr(c->text, '\0', c->len)) {
      int integer = checkid_parse(c->text, c->len, &key);
      for (size_t k = 0; k < w->nchecks; k++)
        if (w->checks[k] == key) {
          fail(p, c, "check id %s is listed twice in this waiver", c->text);
          goto next;
        }
      if (!integer && !(w->check_text[w->nchecks] = strdup(c->text))) {
        p->oom = 1;
        return;
      }
      w->checks[w->nchecks] = key;
      w->check_line[w->nchecks] = c->line;
      w->check_col[w->nchecks] = c->col;
      w->nchecks++;
      continue;
    }
    if (c->kind != YNODE_SCALAR || !c->is_number || c->number != floor(c->number) || c->number < 0 ||
        c->number > 9007199254740992.0) {
      if (c->kind == YNODE_SCALAR)
        fail(p, c, "a check id must be a non-negative integer, not '%s'%s", c->text,
             c->quoted ? " (quoted: a string)" : "");
      else
        fail(p, c, "a check id must be a non-negative integer, not a %s", ynode_kind_name(c));
      continue;
    }
    for (size_t k = 0; k < w->nchecks; k++)
      if (w->checks[k] == (int64_t)c->number) {
        fail(p, c, "check id %s is listed twice in this waiver", c->text);
        goto next;
      }
    w->checks[w->nchecks] = (int64_t)c->number;
    w->check_line[w->nchecks] = c->line;
    w->check_col[w->nchecks] = c->col;
    w->nchecks++;
  next:;
  }
}

/* One item of the waivers list into w; diagnostics for everything wrong with it. */
static void parse_item(parser *p, const ynode *it, waiver *w) {
  w->line = it->line;
  w->col = it->col;
  if (it->kind != YNODE_MAPPING) {
    fail(p, it, "a waiver must be a mapping (policy, checks, justification, owner, expires), not a %s",
         ynode_kind_name(it));
    return;
  }
  const ynode *seen[NKEYS] = {0};
  for (size_t i = 0; i < it->n; i++) {
    const ynode *k = it->pairs[i].key, *v = it->pairs[i].value;
    if (!ynode_is_string(k)) {
      fail(p, k, "a waiver's keys are names, not a %s", ynode_kind_name(k));
      continue;
    }
    size_t j = 0;
    while (j < NKEYS && strcmp(k->text, item_keys[j]) != 0)
      j++;
    if (j == NKEYS) {
      const char *near = diag_suggest(k->text, k->len, item_keys, NKEYS);
      if (near)
        fail(p, k, "unknown key '%s' in a waiver (did you mean '%s'?)", k->text, near);
      else
        fail(p, k,
             "unknown key '%s' in a waiver (known: policy, checks, justification, owner, expires, hosts)",
             k->text);
      continue;
    }
    if (seen[j]) {
      fail(p, k, "key '%s' given twice in one waiver", k->text);
      continue;
    }
    seen[j] = v;
    switch (j) {
    case 0: w->policy = get_string(p, v, "policy"); break;
    case 1: parse_checks(p, v, w); break;
    case 2: w->justification = get_string(p, v, "justification"); break;
    case 3: w->owner = get_string(p, v, "owner"); break;
    case 4:
      if ((w->expires = get_string(p, v, "expires")) && !valid_date(w->expires)) {
        fail(p, v, "'expires' must be a date written YYYY-MM-DD, not '%s'", w->expires);
        free(w->expires);
        w->expires = NULL;
      }
      break;
    case 5: w->hosts = get_string(p, v, "hosts"); break;
    }
  }
  for (size_t j = 0; j < NKEYS - 1; j++) /* every key but hosts is required */
    if (!seen[j])
      fail(p, it, "this waiver has no '%s'%s", item_keys[j],
           j == 4 ? " (every waiver expires: give a date YYYY-MM-DD)" : "");
}

int waiver_set_parse(waiver_set *ws, const char *path, const char *data, size_t len, diag_list *diags) {
  if (len > WAIVER_MAX_FILE) {
    diag_add(diags, DIAG_ERROR, "limit", path, 0, 0, "waiver file larger than %u bytes", WAIVER_MAX_FILE);
    return TN_ETOOBIG;
  }
  parser p = {.path = path, .diags = diags};
  ydoc *doc = ydoc_parse(path, data, len, diags);
  if (!doc) return TN_EPOLICY;
  const ynode *root = ydoc_root(doc), *list = NULL;
  if (!root || root->kind != YNODE_MAPPING) {
    fail(&p, root, "a waiver file is a mapping with one key, 'waivers' (a list), not %s%s", root ? "a " : "",
         root ? ynode_kind_name(root) : "an empty document");
  } else {
    for (size_t i = 0; i < root->n; i++) {
      const ynode *k = root->pairs[i].key;
      if (ynode_is_string(k) && strcmp(k->text, "waivers") == 0 && !list)
        list = root->pairs[i].value;
      else
        fail(&p, k, "unexpected key '%s' (a waiver file has one key, 'waivers')",
             ynode_is_string(k) ? k->text : ynode_kind_name(k));
    }
    if (!list && !p.errors)
      fail(&p, root, "no 'waivers' list");
    else if (list && list->kind != YNODE_SEQUENCE)
      fail(&p, list, "'waivers' must be a list, not a %s", ynode_kind_name(list));
  }
  size_t n = list && list->kind == YNODE_SEQUENCE ? list->n : 0;
  if (ws->n + n > WAIVER_MAX_COUNT) {
    diag_add(diags, DIAG_ERROR, "limit", path, list->line, list->col, "more than %u waivers",
             WAIVER_MAX_COUNT);
    ydoc_free(doc);
    return TN_ETOOBIG;
  }
  waiver *ws_new = n ? calloc(n, sizeof *ws_new) : NULL;
  if (n && !ws_new) p.oom = 1;
  for (size_t i = 0; i < n && !p.oom; i++) {
    parse_item(&p, list->items[i], &ws_new[i]);
    if (!(ws_new[i].file = strdup(path))) p.oom = 1;
  }
  ydoc_free(doc);
  int rc = p.oom ? TN_ENOMEM : p.errors ? TN_EPOLICY : TN_OK;
  if (rc == TN_OK && ws->n + n > ws->cap) {
    size_t cap = ws->n + n + 8;
    waiver *w = realloc(ws->w, cap * sizeof *w);
    if (!w)
      rc = TN_ENOMEM;
    else
      ws->w = w, ws->cap = cap;
  }
  if (rc == TN_OK) {
    for (size_t i = 0; i < n; i++) {
      waiver *w = &ws_new[i];
      w->view = (report_waiver){.justification = w->justification, .owner = w->owner, .expires = w->expires};
      ws->w[ws->n++] = *w;
    }
    free(ws_new);
    return waiver_set_bind(ws, ws->host ? ws->host : "", ws->today); /* bind the new ones too */
  }
  if (rc == TN_ENOMEM) diag_add(diags, DIAG_ERROR, "oom", path, 0, 0, "out of memory reading the waivers");
  for (size_t i = 0; i < n; i++)
    waiver_clear(&ws_new[i]);
  free(ws_new);
  return rc;
}

int waiver_read_file(const char *path, size_t max, char **out, size_t *len) {
  *out = NULL;
  *len = 0;
  FILE *f = fopen(path, "rb");
  if (!f) return TN_EIO;
  size_t cap = 4096, n = 0;
  char *buf = malloc(cap + 1);
  int rc = buf ? TN_OK : TN_ENOMEM;
  while (rc == TN_OK) {
    if (n == cap) {
      if (cap > max) {
        rc = TN_ETOOBIG;
        break;
      }
      char *b = realloc(buf, cap * 2 + 1);
      if (!b) {
        rc = TN_ENOMEM;
        break;
      }
      buf = b;
      cap *= 2;
    }
    size_t got = fread(buf + n, 1, cap - n, f);
    n += got;
    if (got == 0) {
      if (ferror(f)) rc = TN_EIO;
      break;
    }
  }
  int e = errno;
  fclose(f);
  if (rc == TN_OK && n > max) rc = TN_ETOOBIG;
  if (rc != TN_OK) {
    free(buf);
    errno = e;
    return rc;
  }
  buf[n] = '\0';
  *out = buf;
  *len = n;
  return TN_OK;
}

int waiver_set_load(waiver_set *ws, const char *path, diag_list *diags) {
  char *data;
  size_t len;
  int rc = waiver_read_file(path, WAIVER_MAX_FILE, &data, &len);
  if (rc == TN_ETOOBIG)
    diag_add(diags, DIAG_ERROR, "limit", path, 0, 0, "waiver file larger than %u bytes", WAIVER_MAX_FILE);
  else if (rc == TN_EIO)
    diag_add(diags, DIAG_ERROR, "io", path, 0, 0, "cannot read waiver file: %s", strerror(errno));
  else if (rc != TN_OK)
    diag_add(diags, DIAG_ERROR, "oom", path, 0, 0, "out of memory reading the waiver file");
  if (rc != TN_OK) return rc;
  rc = waiver_set_parse(ws, path, data, len, diags);
  free(data);
  return rc;
}

/* ---- binding and lookup ---- */

void waiver_today(char out[11]) {
  time_t now = time(NULL);
  struct tm tm;
  localtime_r(&now, &tm);
  strftime(out, 11, "%Y-%m-%d", &tm);
}

int waiver_set_bind(waiver_set *ws, const char *hostname, const char *today) {
  if (!valid_date(today) && strcmp(today, "0000-00-00") != 0) return TN_EUSAGE;
  if (hostname != ws->host) {
    char *h = strdup(hostname ? hostname : "");
    if (!h) return TN_ENOMEM;
    free(ws->host);
    ws->host = h;
  }
  memmove(ws->today, today, 11);
  for (size_t i = 0; i < ws->n; i++) {
    waiver *w = &ws->w[i];
    w->here = !w->hosts || fnmatch(w->hosts, ws->host, FNM_CASEFOLD) == 0;
    w->view.expired = strcmp(ws->today, w->expires) > 0;
  }
  return TN_OK;
}

const report_waiver *waiver_set_lookup(void *arg, const char *policy_id, int64_t check_id) {
  const waiver_set *ws = arg;
  const report_waiver *expired = NULL;
  for (size_t i = 0; ws && policy_id && i < ws->n; i++) {
    const waiver *w = &ws->w[i];
    if (!w->here || strcmp(w->policy, policy_id) != 0) continue;
    for (size_t k = 0; k < w->nchecks; k++) {
      if (w->checks[k] != check_id) continue;
      if (!w->view.expired) return &w->view;
      if (!expired) expired = &w->view;
    }
  }
  return expired;
}

size_t waiver_set_count(const waiver_set *ws) { return ws ? ws->n : 0; }

size_t waiver_set_active(const waiver_set *ws) {
  size_t n = 0;
  for (size_t i = 0; ws && i < ws->n; i++)
    n += ws->w[i].here && !ws->w[i].view.expired;
  return n;
}

size_t waiver_set_expired(const waiver_set *ws) {
  size_t n = 0;
  for (size_t i = 0; ws && i < ws->n; i++)
    n += ws->w[i].here && ws->w[i].view.expired;
  return n;
}

/* ---- against the scanned policies ---- */

size_t waiver_set_check(const waiver_set *ws, const program *const *progs, size_t n, FILE *out) {
  size_t warned = 0;
  for (size_t i = 0; ws && i < ws->n; i++) {
    const waiver *w = &ws->w[i];
    const program *pr = NULL;
    for (size_t k = 0; k < n && !pr; k++)
      if (progs[k] && strcmp(program_str(progs[k], progs[k]->policy_id), w->policy) == 0) pr = progs[k];
    if (!pr) {
      fprintf(out,
              "%s:%u:%u: warning: waiver for policy '%s', which is not among the policies scanned: it "
              "applies to nothing\n",
              w->file, w->line, w->col, w->policy);
      warned++;
      continue;
    }
    char idb[CHECKID_BUF];
    for (size_t k = 0; k < w->nchecks; k++)
      if (program_find_check(pr, w->checks[k]) < 0) {
        fprintf(out, "%s:%u:%u: warning: policy '%s' has no check %s: this waiver entry applies to nothing\n",
                w->file, w->check_line[k], w->check_col[k], w->policy,
                checkid_show(w->checks[k], w->check_text[k], idb));
        warned++;
      }
    if (w->here && w->view.expired) {
      fprintf(out,
              "%s:%u:%u: warning: waiver for policy '%s' (owner %s) expired on %s: its checks count again\n",
              w->file, w->line, w->col, w->policy, w->owner, w->expires);
      warned++;
    }
  }
  return warned;
}
