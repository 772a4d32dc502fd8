/* baseline.c — reading a `--format json` report back for `tenet scan --baseline` (baseline.h):
 * a small strict JSON parser (RFC 8259: no comments, no trailing commas; at most 64 levels, 256 MiB)
 * into a tree, then the policies[].id and policies[].checks[].{id,result} members into a sorted
 * table searched by (policy id, check id). */
#include "baseline.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "checkid.h"
#include "strbuf.h"

#define BASELINE_MAX_BYTES (256u << 20)
#define BASELINE_MAX_DEPTH 64

enum jtype { J_NULL, J_BOOL, J_NUM, J_STR, J_ARR, J_OBJ };

typedef struct jval {
  enum jtype type;
  char *str;           /* J_STR: the decoded string; J_NUM: its text */
  char **keys;         /* J_OBJ: member names (n of them) */
  struct jval **items; /* J_ARR, J_OBJ: n values */
  size_t n;
} jval;

typedef struct parser {
  const char *p, *end, *start;
  char *err;
  size_t errlen;
  int failed;
} parser;

typedef struct entry {
  char *policy;
  int64_t id;
  char *result;
} entry;

struct baseline {
  entry *e;
  size_t n;
};

static void jfree(jval *v) {
  if (!v) return;
  for (size_t i = 0; i < v->n; i++) {
    if (v->keys) free(v->keys[i]);
    jfree(v->items[i]);
  }
  free(v->keys);
  free(v->items);
  free(v->str);
  free(v);
}

static void fail(parser *ps, const char *fmt, ...) {
  if (ps->failed) return;
  ps->failed = 1;
  int line = 1;
  for (const char *q = ps->start; q < ps->p && q < ps->end; q++)
    line += *q == '\n';
  char msg[256];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  snprintf(ps->err, ps->errlen, "line %d: %s", line, msg);
}

static void ws(parser *ps) {
  while (ps->p < ps->end && (*ps->p == ' ' || *ps->p == '\t' || *ps->p == '\n' || *ps->p == '\r'))
    ps->p++;
}

static int hex4(parser *ps, unsigned *out) {
  if (ps->end - ps->p < 4) return 0;
  unsigned v = 0;
  for (int i = 0; i < 4; i++) {
    char c = ps->p[i];
    v = v * 16 + (unsigned)(c >= '0' && c <= '9'   ? c - '0'
                            : c >= 'a' && c <= 'f' ? c - 'a' + 10
                            : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                                   : 99);
    if (v > 0xFFFF) return 0;
  }
  ps->p += 4;
  *out = v;
  return 1;
}

static void put_utf8(strbuf *b, unsigned cp) {
  if (cp < 0x80)
    strbuf_putc(b, (char)cp);
  else if (cp < 0x800) {
    strbuf_putc(b, (char)(0xC0 | (cp >> 6)));
    strbuf_putc(b, (char)(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    strbuf_putc(b, (char)(0xE0 | (cp >> 12)));
    strbuf_putc(b, (char)(0x80 | ((cp >> 6) & 0x3F)));
    strbuf_putc(b, (char)(0x80 | (cp & 0x3F)));
  } else {
    strbuf_putc(b, (char)(0xF0 | (cp >> 18)));
    strbuf_putc(b, (char)(0x80 | ((cp >> 12) & 0x3F)));
    strbuf_putc(b, (char)(0x80 | ((cp >> 6) & 0x3F)));
    strbuf_putc(b, (char)(0x80 | (cp & 0x3F)));
  }
}

/* At the opening quote. The decoded string (caller frees) or NULL after fail(). */
static char *string(parser *ps) {
  strbuf b = STRBUF_INIT;
  ps->p++;
  for (;;) {
    if (ps->p >= ps->end) {
      fail(ps, "unterminated string");
      break;
    }
    unsigned char c = (unsigned char)*ps->p++;
    if (c == '"') {
      char *s = strbuf_take(&b);
      if (!s) fail(ps, "out of memory");
      return s;
    }
    if (c < 0x20) {
      fail(ps, "control character in a string");
      break;
    }
    if (c != '\\') {
      strbuf_putc(&b, (char)c);
      continue;
    }
    if (ps->p >= ps->end) {
      fail(ps, "unterminated string");
      break;
    }
    char e = *ps->p++;
    const char *simple = strchr("\"\\/bfnrt", e);
    if (e && simple) {
      static const char out[] = "\"\\/\b\f\n\r\t";
      strbuf_putc(&b, out[simple - "\"\\/bfnrt"]);
      continue;
    }
    unsigned cp, lo;
    if (e != 'u' || !hex4(ps, &cp)) {
      fail(ps, "bad escape in a string");
      break;
    }
    if (cp >= 0xD800 && cp <= 0xDBFF) {
      if (ps->end - ps->p < 6 || ps->p[0] != '\\' || ps->p[1] != 'u' || (ps->p += 2, !hex4(ps, &lo)) ||
          lo < 0xDC00 || lo > 0xDFFF) {
        fail(ps, "unpaired surrogate in a string");
        break;
      }
      cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
    } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
      fail(ps, "unpaired surrogate in a string");
      break;
    }
    put_utf8(&b, cp);
  }
  strbuf_free(&b);
  return NULL;
}

static jval *value(parser *ps, int depth);

static int push(jval *v, char *key, jval *item) {
  if ((v->n & (v->n - 1)) == 0) { /* grow at powers of two */
    size_t cap = v->n ? v->n * 2 : 1;
    jval **items = realloc(v->items, cap * sizeof *items);
    if (!items) return 0;
    v->items = items;
    if (v->type == J_OBJ) {
      char **keys = realloc(v->keys, cap * sizeof *keys);
      if (!keys) return 0;
      v->keys = keys;
    }
  }
  if (v->type == J_OBJ) v->keys[v->n] = key;
  v->items[v->n++] = item;
  return 1;
}

static jval *container(parser *ps, int depth, jval *v) {
  char close = v->type == J_OBJ ? '}' : ']';
  ps->p++;
  ws(ps);
  if (ps->p < ps->end && *ps->p == close) {
    ps->p++;
    return v;
  }
  for (;;) {
    char *key = NULL;
    ws(ps);
    if (v->type == J_OBJ) {
      if (ps->p >= ps->end || *ps->p != '"') {
        fail(ps, "expected a member name");
        break;
      }
      if (!(key = string(ps))) break;
      ws(ps);
      if (ps->p >= ps->end || *ps->p != ':') {
        free(key);
        fail(ps, "expected ':'");
        break;
      }
      ps->p++;
    }
    jval *item = value(ps, depth + 1);
    if (!item || !push(v, key, item)) {
      free(key);
      jfree(item);
      fail(ps, "out of memory");
      break;
    }
    ws(ps);
    if (ps->p < ps->end && *ps->p == ',') {
      ps->p++;
      continue;
    }
    if (ps->p < ps->end && *ps->p == close) {
      ps->p++;
      return v;
    }
    fail(ps, "expected ',' or '%c'", close);
    break;
  }
  jfree(v);
  return NULL;
}

static jval *value(parser *ps, int depth) {
  ws(ps);
  if (depth > BASELINE_MAX_DEPTH) {
    fail(ps, "nested deeper than %d levels", BASELINE_MAX_DEPTH);
    return NULL;
  }
  if (ps->p >= ps->end) {
    fail(ps, "unexpected end of file");
    return NULL;
  }
  jval *v = calloc(1, sizeof *v);
  if (!v) {
    fail(ps, "out of memory");
    return NULL;
  }
  char c = *ps->p;
  if (c == '{' || c == '[') {
    v->type = c == '{' ? J_OBJ : J_ARR;
    return container(ps, depth, v);
  }
  if (c == '"') {
    v->type = J_STR;
    if ((v->str = string(ps))) return v;
  } else if (c == '-' || (c >= '0' && c <= '9')) {
    const char *s = ps->p;
    if (*ps->p == '-') ps->p++;
    size_t digits = 0;
    while (ps->p < ps->end && *ps->p >= '0' && *ps->p <= '9')
      ps->p++, digits++;
    if (digits && ps->p < ps->end && *ps->p == '.') {
      ps->p++;
      while (ps->p < ps->end && *ps->p >= '0' && *ps->p <= '9')
        ps->p++;
    }
    if (digits && ps->p < ps->end && (*ps->p == 'e' || *ps->p == 'E')) {
      ps->p++;
      if (ps->p < ps->end && (*ps->p == '+' || *ps->p == '-')) ps->p++;
      while (ps->p < ps->end && *ps->p >= '0' && *ps->p <= '9')
        ps->p++;
    }
    v->type = J_NUM;
    if (!digits)
      fail(ps, "bad number");
    else if ((v->str = strndup(s, (size_t)(ps->p - s))))
      return v;
    else
      fail(ps, "out of memory");
  } else {
    static const struct {
      const char *word;
      enum jtype type;
    } words[] = {{"null", J_NULL}, {"true", J_BOOL}, {"false", J_BOOL}};
    for (size_t i = 0; i < 3; i++) {
      size_t n = strlen(words[i].word);
      if ((size_t)(ps->end - ps->p) >= n && memcmp(ps->p, words[i].word, n) == 0) {
        ps->p += n;
        v->type = words[i].type;
        return v;
      }
    }
    fail(ps, "unexpected character '%c'", c >= 0x20 && c < 0x7f ? c : '?');
  }
  jfree(v);
  return NULL;
}

static const jval *member(const jval *o, const char *key, enum jtype type) {
  if (!o || o->type != J_OBJ) return NULL;
  for (size_t i = 0; i < o->n; i++)
    if (strcmp(o->keys[i], key) == 0) return o->items[i]->type == type ? o->items[i] : NULL;
  return NULL;
}

static int cmp_entry(const void *a, const void *b) {
  const entry *x = a, *y = b;
  int c = strcmp(x->policy, y->policy);
  return c ? c : (x->id > y->id) - (x->id < y->id);
}

static int valid_result(const char *s) {
  return strcmp(s, "passed") == 0 || strcmp(s, "failed") == 0 || strcmp(s, "not applicable") == 0;
}

/* Take the results out of the tree; 0 with err set when a member is missing or of the wrong type. */
static int collect(baseline *b, const jval *root, char *err, size_t errlen) {
  const jval *pols = member(root, "policies", J_ARR);
  if (!pols) {
    snprintf(err, errlen, "not a `tenet scan --format json` report (no \"policies\" array)");
    return 0;
  }
  size_t total = 0;
  for (size_t i = 0; i < pols->n; i++) {
    const jval *checks = member(pols->items[i], "checks", J_ARR);
    const jval *pid = member(pols->items[i], "id", J_STR);
    if (!checks || !pid) {
      snprintf(err, errlen, "policies[%zu]: needs a string \"id\" and a \"checks\" array", i);
      return 0;
    }
    total += checks->n;
  }
  if (total && !(b->e = calloc(total, sizeof *b->e))) {
    snprintf(err, errlen, "out of memory");
    return 0;
  }
  for (size_t i = 0; i < pols->n; i++) {
    const jval *checks = member(pols->items[i], "checks", J_ARR);
    const char *pid = member(pols->items[i], "id", J_STR)->str;
    for (size_t j = 0; j < checks->n; j++) {
      const jval *id = member(checks->items[j], "id", J_NUM),
                 *tid = member(checks->items[j], "id", J_STR), /* a 5.x text id */
                     *res = member(checks->items[j], "result", J_STR);
      char *end = "";
      errno = 0;
      long long v = id ? strtoll(id->str, &end, 10) : 0;
      int64_t key = v;
      /* a string is a 5.x text id (the report writes integer ids as numbers, never "5") */
      int text = tid && tid->str[0] && !checkid_parse(tid->str, strlen(tid->str), &key);
      if ((!id && !text) || *end || errno || !res || !valid_result(res->str)) {
        snprintf(err, errlen,
                 "policies[%zu].checks[%zu]: needs an integer or string \"id\" and a \"result\" of passed, "
                 "failed or not applicable",
                 i, j);
        return 0;
      }
      entry *e = &b->e[b->n++];
      e->id = key;
      if (!(e->policy = strdup(pid)) || !(e->result = strdup(res->str))) {
        snprintf(err, errlen, "out of memory");
        return 0;
      }
    }
  }
  if (b->n) qsort(b->e, b->n, sizeof *b->e, cmp_entry);
  for (size_t i = 1; i < b->n; i++)
    if (cmp_entry(&b->e[i - 1], &b->e[i]) == 0) {
      snprintf(err, errlen, "policy %s check %lld appears twice", b->e[i].policy, (long long)b->e[i].id);
      return 0;
    }
  return 1;
}

baseline *baseline_parse(const char *text, size_t len, char *err, size_t errlen) {
  parser ps = {.p = text, .end = text + len, .start = text, .err = err, .errlen = errlen};
  if (len > BASELINE_MAX_BYTES) {
    snprintf(err, errlen, "larger than %u MiB", BASELINE_MAX_BYTES >> 20);
    return NULL;
  }
  jval *root = value(&ps, 0);
  ws(&ps);
  if (root && ps.p < ps.end) fail(&ps, "text after the JSON document");
  if (ps.failed) {
    jfree(root);
    return NULL;
  }
  baseline *b = calloc(1, sizeof *b);
  if (!b || !collect(b, root, err, errlen)) {
    if (!b) snprintf(err, errlen, "out of memory");
    baseline_free(b);
    b = NULL;
  }
  jfree(root);
  return b;
}

baseline *baseline_load(const char *path, char *err, size_t errlen) {
  FILE *f = fopen(path, "rb");
  char why[400];
  if (!f) {
    snprintf(err, errlen, "%s: %s", path, strerror(errno));
    return NULL;
  }
  strbuf b = STRBUF_INIT;
  char chunk[65536];
  size_t n;
  while ((n = fread(chunk, 1, sizeof chunk, f)) > 0 && b.len <= BASELINE_MAX_BYTES)
    strbuf_append(&b, chunk, n);
  int rerr = ferror(f);
  fclose(f);
  if (rerr || !strbuf_ok(&b)) {
    snprintf(err, errlen, "%s: %s", path, rerr ? "read error" : "out of memory");
    strbuf_free(&b);
    return NULL;
  }
  baseline *bl = baseline_parse(b.data ? b.data : "", b.len, why, sizeof why);
  if (!bl) snprintf(err, errlen, "%s: %s", path, why);
  strbuf_free(&b);
  return bl;
}

void baseline_free(baseline *b) {
  if (!b) return;
  for (size_t i = 0; i < b->n; i++) {
    free(b->e[i].policy);
    free(b->e[i].result);
  }
  free(b->e);
  free(b);
}

size_t baseline_count(const baseline *b) { return b ? b->n : 0; }

const char *baseline_result(void *arg, const char *policy_id, int64_t check_id) {
  const baseline *b = arg;
  if (!b || !b->n) return NULL;
  entry key = {.policy = (char *)policy_id, .id = check_id};
  const entry *e = bsearch(&key, b->e, b->n, sizeof *b->e, cmp_entry);
  return e ? e->result : NULL;
}
