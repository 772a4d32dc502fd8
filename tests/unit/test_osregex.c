/* test_osregex.c — the native OS_Regex and OS_Match engines against Wazuh's real behaviour:
 * every vector of tests/data/osregex-vectors.json (match, captured groups and the pointer
 * OS_Regex returns), the SCA examples of SCA-SEMANTICS §4.4 and the OS_Match table of §4.6. */
#include <ctype.h>
#include <stdint.h>

#include "osregex.h"
#include "test.h"

/* ---- a small JSON reader, enough for the vectors file ------------------------------------ */

enum { J_NULL, J_BOOL, J_NUM, J_STR, J_ARR, J_OBJ };

typedef struct jv {
  int type;
  int b;
  char *s; /* J_STR (NUL-terminated, slen bytes) */
  size_t slen;
  struct jv **items; /* J_ARR values, J_OBJ values */
  char **keys;       /* J_OBJ keys */
  size_t n;
} jv;

typedef struct {
  const char *p, *end;
} jin;

static void ws(jin *in) {
  while (in->p < in->end && isspace((unsigned char)*in->p))
    in->p++;
}

static void jfree(jv *v) {
  if (!v) return;
  for (size_t i = 0; i < v->n; i++) {
    jfree(v->items[i]);
    if (v->keys) free(v->keys[i]);
  }
  free(v->items);
  free(v->keys);
  free(v->s);
  free(v);
}

static char *jstring(jin *in, size_t *outlen) {
  if (in->p >= in->end || *in->p != '"') return NULL;
  in->p++;
  size_t cap = 16, n = 0;
  char *s = malloc(cap);
  while (s && in->p < in->end && *in->p != '"') {
    unsigned c = (unsigned char)*in->p++;
    if (c == '\\') {
      if (in->p >= in->end) break;
      char e = *in->p++;
      switch (e) {
      case 'n': c = '\n'; break;
      case 't': c = '\t'; break;
      case 'r': c = '\r'; break;
      case 'b': c = '\b'; break;
      case 'f': c = '\f'; break;
      case 'u': {
        unsigned u = 0;
        for (int k = 0; k < 4 && in->p < in->end; k++) {
          char h = *in->p++;
          u = u * 16 + (unsigned)(isdigit((unsigned char)h) ? h - '0' : (tolower(h) - 'a' + 10));
        }
        c = u; /* the vectors only use ASCII */
        break;
      }
      default: c = (unsigned char)e;
      }
    }
    if (n + 2 > cap) {
      char *t = realloc(s, cap *= 2);
      if (!t) {
        free(s);
        return NULL;
      }
      s = t;
    }
    s[n++] = (char)c;
  }
  if (!s || in->p >= in->end) {
    free(s);
    return NULL;
  }
  in->p++;
  s[n] = 0;
  *outlen = n;
  return s;
}

static jv *jparse(jin *in) {
  ws(in);
  if (in->p >= in->end) return NULL;
  jv *v = calloc(1, sizeof *v);
  if (!v) return NULL;
  char c = *in->p;
  if (c == '"') {
    v->type = J_STR;
    if (!(v->s = jstring(in, &v->slen))) goto bad;
  } else if (c == '[' || c == '{') {
    int obj = c == '{';
    v->type = obj ? J_OBJ : J_ARR;
    in->p++;
    for (;;) {
      ws(in);
      if (in->p < in->end && *in->p == (obj ? '}' : ']')) {
        in->p++;
        break;
      }
      char *key = NULL;
      size_t klen;
      if (obj) {
        if (!(key = jstring(in, &klen))) goto bad;
        ws(in);
        if (in->p >= in->end || *in->p != ':') {
          free(key);
          goto bad;
        }
        in->p++;
      }
      jv *item = jparse(in);
      jv **items = realloc(v->items, (v->n + 1) * sizeof *items);
      char **keys = obj ? realloc(v->keys, (v->n + 1) * sizeof *keys) : NULL;
      if (!item || !items || (obj && !keys)) {
        free(key);
        jfree(item);
        if (items) v->items = items;
        if (keys) v->keys = keys;
        goto bad;
      }
      v->items = items;
      if (obj) {
        v->keys = keys;
        v->keys[v->n] = key;
      }
      v->items[v->n++] = item;
      ws(in);
      if (in->p < in->end && *in->p == ',') in->p++;
    }
  } else if (!strncmp(in->p, "true", 4) || !strncmp(in->p, "false", 5)) {
    v->type = J_BOOL;
    v->b = *in->p == 't';
    in->p += v->b ? 4 : 5;
  } else if (!strncmp(in->p, "null", 4)) {
    in->p += 4;
  } else {
    v->type = J_NUM;
    while (in->p < in->end && strchr("+-0123456789.eE", *in->p))
      in->p++;
  }
  return v;
bad:
  jfree(v);
  return NULL;
}

static const jv *jget(const jv *o, const char *key) {
  if (!o || o->type != J_OBJ) return NULL;
  for (size_t i = 0; i < o->n; i++)
    if (!strcmp(o->keys[i], key)) return o->items[i];
  return NULL;
}

static jv *load_vectors(void) {
  char path[4096];
  snprintf(path, sizeof path, "%s/tests/data/osregex-vectors.json", test_env("TENET_SOURCE_DIR", "."));
  FILE *f = fopen(path, "rb");
  if (!f) {
    fprintf(stderr, "cannot open %s\n", path);
    return NULL;
  }
  static char buf[4 << 20];
  size_t n = fread(buf, 1, sizeof buf, f);
  fclose(f);
  jin in = {buf, buf + n};
  return jparse(&in);
}

/* ---- helpers -------------------------------------------------------------------------------- */

/* 1 if pattern matches subject (compile failure counts as no match); first group into g. */
static int rx(const char *pattern, const char *subject, char *g, size_t gcap) {
  osregex *re = osregex_compile(pattern, NULL, 0);
  if (!re) return 0;
  size_t groups[OSREGEX_MAX_GROUPS][2];
  int ng = 0;
  int m = osregex_exec(re, subject, strlen(subject), groups, OSREGEX_MAX_GROUPS, &ng, NULL);
  if (g && gcap) {
    g[0] = 0;
    if (m && ng > 0) snprintf(g, gcap, "%.*s", (int)(groups[0][1] - groups[0][0]), subject + groups[0][0]);
  }
  osregex_free(re);
  return m;
}

static int om(const char *pattern, const char *subject) {
  osmatch *m = osmatch_compile(pattern, NULL, 0);
  if (!m) return -1;
  int r = osmatch_exec(m, subject, strlen(subject));
  osmatch_free(m);
  return r;
}

/* ---- tests ---------------------------------------------------------------------------------- */

static void test_conformance_vectors(void) {
  jv *root = load_vectors();
  REQUIRE(root != NULL);
  const jv *vec = jget(root, "vectors");
  REQUIRE(vec && vec->type == J_ARR);
  size_t total = vec->n, ok_match = 0, ok_end = 0, with_end = 0, compile_err = 0;
  for (size_t i = 0; i < vec->n; i++) {
    const jv *v = vec->items[i];
    const jv *pat = jget(v, "pattern"), *sub = jget(v, "subject"), *m = jget(v, "match");
    const jv *groups = jget(v, "groups"), *end = jget(v, "end"), *ce = jget(v, "compile_error");
    REQUIRE(pat && sub && m);
    char err[128];
    osregex *re = osregex_compile(pat->s, err, sizeof err);
    if (ce && ce->b) {
      compile_err++;
      CHECK(re == NULL);
    }
    size_t g[64][2], endoff = 0;
    int ng = 0;
    int got = re ? osregex_exec(re, sub->s, sub->slen, g, 64, &ng, &endoff) : 0;
    int good = got == m->b;
    if (good && got) {
      good = groups && (size_t)ng == groups->n;
      for (int k = 0; good && k < ng; k++) {
        const jv *eg = groups->items[k];
        good = g[k][1] - g[k][0] == eg->slen && !memcmp(sub->s + g[k][0], eg->s, eg->slen);
      }
    }
    if (good)
      ok_match++;
    else
      fprintf(stderr, "vector %zu: /%s/ on \"%s\": got match=%d groups=%d, want match=%d\n", i, pat->s,
              sub->s, got, ng, m->b);
    if (got && m->b && end) {
      with_end++;
      size_t want = sub->slen - end->slen;
      if (endoff == want)
        ok_end++;
      else
        fprintf(stderr, "vector %zu: end at %zu, want %zu\n", i, endoff, want);
    }
    osregex_free(re);
  }
  printf("osregex vectors: %zu total, %zu match+groups exact, %zu/%zu end pointers exact, "
         "%zu compile errors\n",
         total, ok_match, ok_end, with_end, compile_err);
  CHECK_INT(total, 530);
  CHECK_INT(ok_match, total);
  CHECK_INT(ok_end, with_end);
  jfree(root);
}

static void test_sca_examples(void) {
  char g[64];
  CHECK(rx("^\\s*PermitRootLogin\\s+no", "  permitrootlogin  NO", NULL, 0));
  CHECK(!rx("^\\s*PermitRootLogin\\s+no", "\tPermitRootLogin no", NULL, 0));
  CHECK(rx("^\\s*\\t*PermitRootLogin\\s*\\t*no", "\tPermitRootLogin\tno", NULL, 0));
  CHECK(!rx("Port\\s+22$", "Port 22 ", NULL, 0));
  CHECK(rx("masked|disabled", "Disabled", NULL, 0));
  CHECK(rx("\\.*.conf", "blacklist.conf", NULL, 0));
  CHECK(!rx("\\.*.conf", "conf", NULL, 0));
  CHECK(!rx("pam_unix.so", "pam_unixXso", NULL, 0));
  CHECK(rx("^maxstartups\\s+\\d+:(\\d+):\\d+", "maxstartups 10:30:100", g, sizeof g));
  CHECK_STR(g, "30");
  CHECK(rx("(\\d+)", "<= -5", g, sizeof g));
  CHECK_STR(g, "5");
  CHECK(!rx("key=\\\\s*\\t*scope", "key=\\s\tscope", NULL, 0));
  /* documented deviations (§4.2) */
  CHECK(!rx("(\\w+)(\\d+)", "abc123", NULL, 0));
  CHECK(!rx("\\w+1 \\w+2 \\w+3 \\w+4 \\w+5 \\w+6", "z1 x2 x3 x4 x5x5 x6", NULL, 0));
  CHECK(!rx("\\w*\\p*\\d*\\w*", "xy55", NULL, 0));
  CHECK(rx("^$", "", NULL, 0));
  CHECK(!rx("(^$)", "", NULL, 0));
  CHECK(rx("^a^b", "a^b", NULL, 0));
  CHECK(rx("a$b", "a$b", NULL, 0));
  CHECK(rx("ab+", "ab+", NULL, 0));
  CHECK(!rx("ab+", "abbb", NULL, 0));
  /* (\d+)\s* loses its capture when the subject ends inside a run of two or more digits */
  CHECK(rx("(\\d+)\\s*", "4", g, sizeof g));
  CHECK_STR(g, "4");
  CHECK(rx("(\\d+)\\s*", "44444", g, sizeof g));
  CHECK_STR(g, "");
}

static void test_compile_errors(void) {
  char err[64] = "";
  CHECK(osregex_compile("a\\/b", err, sizeof err) == NULL);
  CHECK(err[0] != 0);
  CHECK(osregex_compile("a\\-b", NULL, 0) == NULL);
  CHECK(osregex_compile("a\\n", NULL, 0) == NULL);
  CHECK(osregex_compile("abc\\", NULL, 0) == NULL);
  CHECK(osregex_compile("(a|b)", NULL, 0) == NULL);
  CHECK(osregex_compile("a((b))", NULL, 0) == NULL);
  CHECK(osregex_compile("a)b(", NULL, 0) == NULL);
  CHECK(osregex_compile("(ab", NULL, 0) == NULL);
  CHECK(osregex_compile(NULL, NULL, 0) == NULL);
  char *big = malloc(20482);
  REQUIRE(big);
  memset(big, 'a', 20481);
  big[20481] = 0;
  CHECK(osregex_compile(big, NULL, 0) == NULL);
  big[20480] = 0;
  osregex *re = osregex_compile(big, NULL, 0);
  CHECK(re != NULL);
  osregex_free(re);
  free(big);
  osregex *ok = osregex_compile("\\(\\)\\$\\|\\<\\\\", NULL, 0);
  CHECK(ok != NULL);
  CHECK(osregex_exec(ok, "()$|<\\", 6, NULL, 0, NULL, NULL));
  osregex_free(ok);
  osregex_free(NULL);
}

static void test_length_aware(void) {
  /* The subject is (ptr, len): bytes after len are not read, an embedded NUL ends it. */
  osregex *re = osregex_compile("abc$", NULL, 0);
  REQUIRE(re);
  CHECK(osregex_exec(re, "xabcdef", 4, NULL, 0, NULL, NULL));
  CHECK(!osregex_exec(re, "xabcdef", 7, NULL, 0, NULL, NULL));
  CHECK(osregex_exec(re, "xabc\0def", 8, NULL, 0, NULL, NULL));
  osregex_free(re);
  re = osregex_compile("^(\\w+) (\\w+) (\\w+)$", NULL, 0);
  REQUIRE(re);
  size_t g[2][2];
  int ng = -1;
  CHECK(osregex_exec(re, "one two three", 13, g, 2, &ng, NULL));
  CHECK_INT(ng, 2); /* capped at maxgroups */
  CHECK_INT(g[1][0], 4);
  CHECK_INT(g[1][1], 7);
  osregex_free(re);
}

static void test_osmatch(void) {
  CHECK_INT(om("^x$", "X"), 1);
  CHECK_INT(om("^x$", "xx"), 0);
  CHECK_INT(om("^abc", "ABCdef"), 1);
  CHECK_INT(om("^abc", "xabc"), 0);
  CHECK_INT(om("conf$", "a.CONF"), 1);
  CHECK_INT(om("conf$", "conf.d"), 0);
  CHECK_INT(om("issue", "my-Issue.net"), 1);
  CHECK_INT(om("issue", "iss"), 0);
  CHECK_INT(om("", "anything"), 1);
  CHECK_INT(om("a|^b$|c$", "b"), 1);
  CHECK_INT(om("a|^b$|c$", "bc"), 1);
  CHECK_INT(om("a|^b$|c$", "bd"), 0);
  CHECK_INT(om("!x", "abc"), 1);
  CHECK_INT(om("!x", "xyz"), 0);
  CHECK_INT(om("*.conf", "a.conf"), 0); /* no wildcards */
  CHECK_INT(om("*.conf", "*.conf"), 1);
  CHECK_INT(om("a\\.b", "a\\.b"), 1); /* no escapes */
  CHECK_INT(om("^$", ""), 1);
  CHECK_INT(om("^$", "a"), 0);
  osmatch *m = osmatch_compile("^abc$", NULL, 0);
  REQUIRE(m);
  CHECK_INT(osmatch_exec(m, "abcdef", 3), 1);
  CHECK_INT(osmatch_exec(m, "abc\0", 4), 1);
  osmatch_free(m);
  osmatch_free(NULL);
}

int main(void) {
  RUN(test_conformance_vectors);
  RUN(test_sca_examples);
  RUN(test_compile_errors);
  RUN(test_length_aware);
  RUN(test_osmatch);
  return test_report();
}
