/* json.c — strict recursive-descent JSON reader (see json.h). */
#include "json.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct parser {
  const char *s;
  size_t len, pos;
  char *err;
  size_t errlen;
  int failed;
} parser;

static void fail(parser *p, const char *what) {
  if (!p->failed && p->err && p->errlen) snprintf(p->err, p->errlen, "%s at byte %zu", what, p->pos);
  p->failed = 1;
}

static void skip_ws(parser *p) {
  while (p->pos < p->len &&
         (p->s[p->pos] == ' ' || p->s[p->pos] == '\t' || p->s[p->pos] == '\n' || p->s[p->pos] == '\r'))
    p->pos++;
}

void json_free(json_value *v) {
  if (!v) return;
  for (size_t i = 0; i < v->n; i++) {
    json_free(v->items[i]);
    if (v->keys) free(v->keys[i]);
  }
  free(v->items);
  free(v->keys);
  free(v->text);
  free(v);
}

static int hex4(parser *p, unsigned *out) {
  if (p->len - p->pos < 4) return -1;
  unsigned v = 0;
  for (int i = 0; i < 4; i++) {
    char c = p->s[p->pos + (size_t)i];
    v <<= 4;
    if (c >= '0' && c <= '9')
      v |= (unsigned)(c - '0');
    else if (c >= 'a' && c <= 'f')
      v |= (unsigned)(c - 'a' + 10);
    else if (c >= 'A' && c <= 'F')
      v |= (unsigned)(c - 'A' + 10);
    else
      return -1;
  }
  p->pos += 4;
  *out = v;
  return 0;
}

static size_t put_utf8(char *o, unsigned cp) {
  if (cp < 0x80) {
    o[0] = (char)cp;
    return 1;
  }
  if (cp < 0x800) {
    o[0] = (char)(0xC0 | (cp >> 6));
    o[1] = (char)(0x80 | (cp & 0x3F));
    return 2;
  }
  if (cp < 0x10000) {
    o[0] = (char)(0xE0 | (cp >> 12));
    o[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
    o[2] = (char)(0x80 | (cp & 0x3F));
    return 3;
  }
  o[0] = (char)(0xF0 | (cp >> 18));
  o[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
  o[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
  o[3] = (char)(0x80 | (cp & 0x3F));
  return 4;
}

/* A string starting at the opening quote; *out malloc'd (unescaped, NUL-terminated). */
static char *parse_string(parser *p, size_t *outlen) {
  p->pos++; /* the quote */
  /* the unescaped form is never longer than the escaped one */
  size_t start = p->pos, cap = 0;
  while (start + cap < p->len && p->s[start + cap] != '"')
    cap += p->s[start + cap] == '\\' ? 2 : 1;
  char *o = malloc(cap + 1);
  if (!o) {
    fail(p, "out of memory");
    return NULL;
  }
  size_t n = 0;
  for (;;) {
    if (p->pos >= p->len) {
      fail(p, "unterminated string");
      break;
    }
    unsigned char c = (unsigned char)p->s[p->pos];
    if (c == '"') {
      p->pos++;
      o[n] = '\0';
      *outlen = n;
      return o;
    }
    if (c < 0x20) {
      fail(p, "control character in a string");
      break;
    }
    if (c != '\\') {
      o[n++] = (char)c;
      p->pos++;
      continue;
    }
    p->pos++;
    if (p->pos >= p->len) {
      fail(p, "unterminated escape");
      break;
    }
    char e = p->s[p->pos++];
    switch (e) {
    case '"': o[n++] = '"'; continue;
    case '\\': o[n++] = '\\'; continue;
    case '/': o[n++] = '/'; continue;
    case 'b': o[n++] = '\b'; continue;
    case 'f': o[n++] = '\f'; continue;
    case 'n': o[n++] = '\n'; continue;
    case 'r': o[n++] = '\r'; continue;
    case 't': o[n++] = '\t'; continue;
    case 'u': {
      unsigned cp;
      if (hex4(p, &cp) != 0) {
        fail(p, "bad \\u escape");
        goto bad;
      }
      if (cp >= 0xD800 && cp <= 0xDBFF) {
        unsigned lo;
        if (p->len - p->pos < 6 || p->s[p->pos] != '\\' || p->s[p->pos + 1] != 'u') {
          fail(p, "lone high surrogate");
          goto bad;
        }
        p->pos += 2;
        if (hex4(p, &lo) != 0 || lo < 0xDC00 || lo > 0xDFFF) {
          fail(p, "bad low surrogate");
          goto bad;
        }
        cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
      } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
        fail(p, "lone low surrogate");
        goto bad;
      }
      if (cp == 0) {
        fail(p, "\\u0000 in a string");
        goto bad;
      }
      /* \uXXXX is 6 input bytes for at most 3 output bytes; a surrogate pair 12 for 4 */
      n += put_utf8(o + n, cp);
      continue;
    }
    default: fail(p, "unknown escape"); goto bad;
    }
  }
bad:
  free(o);
  return NULL;
}

static json_value *parse_value(parser *p, int depth);

static json_value *new_value(parser *p, json_type t) {
  json_value *v = calloc(1, sizeof *v);
  if (!v)
    fail(p, "out of memory");
  else
    v->type = t;
  return v;
}

static int push(parser *p, json_value *v, char *key, json_value *item) {
  if ((v->n & (v->n - 1)) == 0) { /* grow at powers of two */
    size_t cap = v->n ? v->n * 2 : 4;
    json_value **ni = realloc(v->items, cap * sizeof *ni);
    if (ni) v->items = ni;
    if (!ni) goto oom;
    if (v->type == JSON_OBJECT) {
      char **nk = realloc(v->keys, cap * sizeof *nk);
      if (!nk) goto oom;
      v->keys = nk;
    }
  }
  v->items[v->n] = item;
  if (v->type == JSON_OBJECT) v->keys[v->n] = key;
  v->n++;
  return 0;
oom:
  fail(p, "out of memory");
  json_free(item);
  free(key);
  return -1;
}

static json_value *parse_container(parser *p, int depth, int object) {
  json_value *v = new_value(p, object ? JSON_OBJECT : JSON_ARRAY);
  if (!v) return NULL;
  p->pos++;
  skip_ws(p);
  char close = object ? '}' : ']';
  if (p->pos < p->len && p->s[p->pos] == close) {
    p->pos++;
    return v;
  }
  for (;;) {
    char *key = NULL;
    if (object) {
      skip_ws(p);
      if (p->pos >= p->len || p->s[p->pos] != '"') {
        fail(p, "expected a member name");
        break;
      }
      size_t kl;
      if (!(key = parse_string(p, &kl))) break;
      skip_ws(p);
      if (p->pos >= p->len || p->s[p->pos] != ':') {
        free(key);
        fail(p, "expected ':'");
        break;
      }
      p->pos++;
    }
    json_value *item = parse_value(p, depth + 1);
    if (!item) {
      free(key);
      break;
    }
    if (push(p, v, key, item) != 0) break;
    skip_ws(p);
    if (p->pos < p->len && p->s[p->pos] == ',') {
      p->pos++;
      continue;
    }
    if (p->pos < p->len && p->s[p->pos] == close) {
      p->pos++;
      return v;
    }
    fail(p, object ? "expected ',' or '}'" : "expected ',' or ']'");
    break;
  }
  json_free(v);
  return NULL;
}

static json_value *parse_number(parser *p) {
  size_t st = p->pos;
  const char *s = p->s;
  if (p->pos < p->len && s[p->pos] == '-') p->pos++;
  if (p->pos < p->len && s[p->pos] == '0') {
    p->pos++;
  } else if (p->pos < p->len && s[p->pos] >= '1' && s[p->pos] <= '9') {
    while (p->pos < p->len && s[p->pos] >= '0' && s[p->pos] <= '9')
      p->pos++;
  } else {
    fail(p, "bad number");
    return NULL;
  }
  if (p->pos < p->len && s[p->pos] == '.') {
    p->pos++;
    if (p->pos >= p->len || s[p->pos] < '0' || s[p->pos] > '9') {
      fail(p, "bad number");
      return NULL;
    }
    while (p->pos < p->len && s[p->pos] >= '0' && s[p->pos] <= '9')
      p->pos++;
  }
  if (p->pos < p->len && (s[p->pos] == 'e' || s[p->pos] == 'E')) {
    p->pos++;
    if (p->pos < p->len && (s[p->pos] == '+' || s[p->pos] == '-')) p->pos++;
    if (p->pos >= p->len || s[p->pos] < '0' || s[p->pos] > '9') {
      fail(p, "bad number");
      return NULL;
    }
    while (p->pos < p->len && s[p->pos] >= '0' && s[p->pos] <= '9')
      p->pos++;
  }
  json_value *v = new_value(p, JSON_NUMBER);
  if (!v) return NULL;
  v->len = p->pos - st;
  if (!(v->text = strndup(s + st, v->len))) {
    free(v);
    fail(p, "out of memory");
    return NULL;
  }
  return v;
}

static json_value *parse_word(parser *p, const char *word, json_type t) {
  size_t n = strlen(word);
  if (p->len - p->pos < n || memcmp(p->s + p->pos, word, n) != 0) {
    fail(p, "unexpected character");
    return NULL;
  }
  p->pos += n;
  return new_value(p, t);
}

static json_value *parse_value(parser *p, int depth) {
  if (depth > JSON_MAX_DEPTH) {
    fail(p, "nesting too deep");
    return NULL;
  }
  skip_ws(p);
  if (p->pos >= p->len) {
    fail(p, "unexpected end of input");
    return NULL;
  }
  char c = p->s[p->pos];
  switch (c) {
  case '{': return parse_container(p, depth, 1);
  case '[': return parse_container(p, depth, 0);
  case '"': {
    json_value *v = new_value(p, JSON_STRING);
    if (!v) return NULL;
    if (!(v->text = parse_string(p, &v->len))) {
      free(v);
      return NULL;
    }
    return v;
  }
  case 't': return parse_word(p, "true", JSON_TRUE);
  case 'f': return parse_word(p, "false", JSON_FALSE);
  case 'n': return parse_word(p, "null", JSON_NULL);
  default:
    if (c == '-' || (c >= '0' && c <= '9')) return parse_number(p);
    fail(p, "unexpected character");
    return NULL;
  }
}

json_value *json_parse(const char *s, size_t len, char *err, size_t errlen) {
  parser p = {s, len, 0, err, errlen, 0};
  json_value *v = parse_value(&p, 0);
  if (!v) return NULL;
  skip_ws(&p);
  if (p.pos != p.len) {
    fail(&p, "trailing characters");
    json_free(v);
    return NULL;
  }
  return v;
}

const json_value *json_get(const json_value *v, const char *key) {
  if (!v || v->type != JSON_OBJECT) return NULL;
  for (size_t i = 0; i < v->n; i++)
    if (strcmp(v->keys[i], key) == 0) return v->items[i];
  return NULL;
}

const char *json_str(const json_value *v) { return v && v->type == JSON_STRING ? v->text : NULL; }
