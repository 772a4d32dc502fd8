/* test_lower.c — differential test of the OS_Regex → PCRE2 lowering (compiler/osregex_lower.c).
 *
 * Every distinct r:/n: regex (and r: directory-name pattern) of the OS_Regex-dialect policies of
 * the Wazuh 4.14.7 corpus (read with the compiler's YAML reader) is lowered; for each lowered one, thousands
 * of subjects built from the pattern (instances of its tokens with case flips, tab/space swaps, insertions,
 * deletions, truncations, noise, long lines) are run through the native engine and the lowered PCRE2 form,
 * which must agree on match/no-match and on the first captured group. The lowered share of the
 * corpus must be at least 90%. */
#include <ftw.h>
#include <stdint.h>

#include "osregex.h"
#include "osregex_class.h"
#include "osregex_lower.h"
#include "regex.h"
#include "ydoc.h"
#include "corpus.h"
#include "test.h"

/* ---- corpus patterns -------------------------------------------------------------------------- */

typedef struct strset {
  char **v;
  size_t n, cap;
} strset;

static void set_add(strset *s, const char *p, size_t len) {
  if (s->n == s->cap) {
    s->cap = s->cap ? s->cap * 2 : 256;
    s->v = realloc(s->v, s->cap * sizeof *s->v);
    if (!s->v) abort();
  }
  s->v[s->n++] = strndup(p, len);
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static void set_unique(strset *s) {
  qsort(s->v, s->n, sizeof *s->v, cmp_str);
  size_t w = 0;
  for (size_t i = 0; i < s->n; i++) {
    if (w && !strcmp(s->v[w - 1], s->v[i]))
      free(s->v[i]);
    else
      s->v[w++] = s->v[i];
  }
  s->n = w;
}

/* Add the regexes of one content expression (minterms joined by " && "). */
static void add_content(strset *s, const char *c) {
  while (*c) {
    const char *e = strstr(c, " && ");
    size_t len = e ? (size_t)(e - c) : strlen(c);
    const char *m = c;
    if (len && *m == '!') m++, len--;
    if (len >= 2 && (m[0] == 'r' || m[0] == 'R') && m[1] == ':') {
      set_add(s, m + 2, len - 2);
    } else if (len >= 2 && (m[0] == 'n' || m[0] == 'N') && m[1] == ':') {
      const char *cmp = strstr(m, " compare ");
      if (cmp && cmp < m + len) set_add(s, m + 2, (size_t)(cmp - m - 2));
    }
    if (!e) break;
    c = e + 4;
  }
}

/* Add the regexes of one rule string (SCA-SEMANTICS §2.1). */
static void add_rule(strset *s, const char *r) {
  if (!strncmp(r, "not ", 4) || !strncmp(r, "NOT ", 4)) r += 4;
  if (*r == '!') r++;
  char type = *r;
  const char *colon = strchr(r, ':');
  if (!colon) return;
  const char *arrow = strstr(r, " -> ");
  if (type == 'p' && !arrow) {
    add_content(s, colon + 1);
    return;
  }
  if (!arrow) return;
  const char *rest = arrow + 4;
  if (type == 'd' || type == 'r') {
    const char *arrow2 = strstr(rest, " -> ");
    size_t nlen = arrow2 ? (size_t)(arrow2 - rest) : strlen(rest);
    if (type == 'd' && nlen >= 2 && rest[0] == 'r' && rest[1] == ':') set_add(s, rest + 2, nlen - 2);
    if (arrow2) add_content(s, arrow2 + 4);
    return;
  }
  add_content(s, rest);
}

static void add_rules(strset *s, const ynode *rules) {
  if (!rules || rules->kind != YNODE_SEQUENCE) return;
  for (size_t i = 0; i < rules->n; i++)
    if (ynode_is_string(rules->items[i])) add_rule(s, rules->items[i]->text);
}

/* The r:/n: patterns of one policy, unless it is written for PCRE2 (regex_type: pcre2). */
static int load_policy(strset *s, const char *path) {
  FILE *f = fopen(path, "rb");
  if (!f) return -1;
  static char buf[8 << 20];
  size_t n = fread(buf, 1, sizeof buf, f);
  fclose(f);
  diag_list *dl = diag_list_new();
  ydoc *d = ydoc_parse(path, buf, n, dl);
  const ynode *root = d ? ydoc_root(d) : NULL;
  const ynode *type = ynode_get(ynode_get(root, "policy"), "regex_type");
  int pcre = type && ynode_is_string(type) && !strcmp(type->text, "pcre2");
  const ynode *checks = ynode_get(root, "checks");
  if (!pcre && checks && checks->kind == YNODE_SEQUENCE) {
    for (size_t i = 0; i < checks->n; i++)
      add_rules(s, ynode_get(checks->items[i], "rules"));
    add_rules(s, ynode_get(ynode_get(root, "requirements"), "rules"));
  }
  ydoc_free(d);
  diag_list_free(dl);
  return root ? 0 : -1;
}

static strset g_files;

static int collect(const char *path, const struct stat *sb, int flag, struct FTW *ftw) {
  size_t n = strlen(path);
  if (flag == FTW_F && n > 4 && (!strcmp(path + n - 4, ".yml") || !strcmp(path + n - 5, ".yaml")))
    set_add(&g_files, path, n);
  return 0;
}

/* ---- subject generation ----------------------------------------------------------------------- */

static uint64_t rng = 0x9e3779b97f4a7c15ull;
static unsigned rnd(unsigned n) {
  rng ^= rng << 13;
  rng ^= rng >> 7;
  rng ^= rng << 17;
  return n ? (unsigned)(rng % n) : 0;
}

static const char *reps(char e) {
  switch (e) {
  case 'w': return "aZ5-@_q";
  case 'W': return " !\t/\x80~.";
  case 'd': return "0479";
  case 'D': return "a :-\tZ";
  case 's': return " ";
  case 'S': return "x\t:9";
  case 't': return "\t";
  case 'p': return "!:=(|.-";
  case '.': return "a :\t0/";
  default: return NULL;
  }
}

typedef struct gtok {
  char kind; /* 'l' literal, 'e' escape, '+', '*' */
  char c;
} gtok;

typedef struct galt {
  gtok t[512];
  int n, begin, end;
} galt;

/* Split a pattern into alternatives of generator tokens (parentheses dropped). */
static int gparse(const char *p, galt *alts, int max) {
  int na = 0;
  galt *a = &alts[na++];
  memset(a, 0, sizeof *a);
  size_t len = strlen(p);
  for (size_t i = 0; i < len && a->n < 500; i++) {
    char c = p[i];
    if (c == '|') {
      if (na == max) break;
      a = &alts[na++];
      memset(a, 0, sizeof *a);
      continue;
    }
    if (c == '^' && a->n == 0 && !a->begin) {
      a->begin = 1;
      continue;
    }
    if (c == '$' && (i + 1 == len || p[i + 1] == '|')) {
      a->end = 1;
      continue;
    }
    if (c == '(' || c == ')') continue;
    if (c == '\\' && i + 1 < len) {
      char q = p[i + 2];
      a->t[a->n++] = (gtok){q == '+' || q == '*' ? q : 'e', p[i + 1]};
      i += (q == '+' || q == '*') ? 2 : 1;
      continue;
    }
    a->t[a->n++] = (gtok){'l', c};
  }
  return na;
}

static char noise_pick(const char *noise, size_t nn) { return noise[rnd((unsigned)nn)]; }

static void put_class_char(char *s, size_t *n, char e) {
  const char *r = reps(e);
  s[(*n)++] = r ? r[rnd((unsigned)strlen(r))] : e;
}

/* An instance of one alternative, mutated. */
static size_t gen_instance(const galt *a, const char *noise, size_t nn, char *s, size_t cap) {
  size_t n = 0;
  if (!a->begin || rnd(4) == 0)
    for (unsigned k = rnd(4); k && n < cap; k--)
      s[n++] = noise_pick(noise, nn);
  for (int i = 0; i < a->n && n + 8 < cap; i++) {
    gtok t = a->t[i];
    if (t.kind == 'l') {
      char c = t.c;
      if (rnd(3) == 0 && c >= 'a' && c <= 'z')
        c -= 32;
      else if (rnd(3) == 0 && c >= 'A' && c <= 'Z')
        c += 32;
      s[n++] = c;
    } else if (t.kind == 'e') {
      put_class_char(s, &n, t.c);
    } else {
      unsigned k = (t.kind == '+' ? 1 : 0) + rnd(4);
      for (; k && n + 8 < cap; k--)
        put_class_char(s, &n, t.c);
    }
  }
  if (!a->end || rnd(4) == 0)
    for (unsigned k = rnd(4); k && n < cap; k--)
      s[n++] = noise_pick(noise, nn);
  for (unsigned m = rnd(3); m; m--) { /* mutations */
    if (!n) break;
    unsigned at = rnd((unsigned)n), op = rnd(6);
    if (op == 0)
      s[at] = noise_pick(noise, nn);
    else if (op == 1)
      memmove(s + at, s + at + 1, --n - at);
    else if (op == 2 && n + 1 < cap) {
      memmove(s + at + 1, s + at, n - at);
      s[at] = noise_pick(noise, nn);
      n++;
    } else if (op == 3)
      s[at] = s[at] == ' ' ? '\t' : s[at] == '\t' ? ' ' : s[at];
    else if (op == 4)
      n = at;
    else if (op == 5 && s[at] >= 'a' && s[at] <= 'z')
      s[at] -= 32;
  }
  return n;
}

/* ---- the differential check ------------------------------------------------------------------ */

static long g_subjects, g_disagree;

static void compare(const char *pat, const char *low, rx *nat, rx *pc, const char *s, size_t n) {
  char a[256], b[256];
  int ra = rx_match_capture(nat, s, n, a, sizeof a);
  int rb = rx_match_capture(pc, s, n, b, sizeof b);
  g_subjects++;
  if (ra == rb && (ra != 1 || !strcmp(a, b))) return;
  if (g_disagree++ < 10) {
    fprintf(stderr, "DISAGREE /%s/ lowered /%s/ on \"", pat, low);
    for (size_t i = 0; i < n; i++)
      fprintf(stderr, (unsigned char)s[i] < 32 || (unsigned char)s[i] > 126 ? "\\x%02x" : "%c",
              (unsigned char)s[i]);
    fprintf(stderr, "\": native %d '%s', pcre2 %d '%s'\n", ra, ra == 1 ? a : "", rb, rb == 1 ? b : "");
  }
}

static void check_pattern(const char *pat, const char *low) {
  char err[128];
  rx *nat = rx_compile(pat, RX_OSREGEX, 0, NULL, err, sizeof err);
  rx *pc = rx_compile(pat, RX_OSREGEX, 0, low, err, sizeof err);
  CHECK(nat && pc);
  if (!nat || !pc) {
    fprintf(stderr, "cannot compile /%s/ -> /%s/: %s\n", pat, low, err);
    rx_free(nat);
    rx_free(pc);
    return;
  }
  static galt alts[64];
  int na = gparse(pat, alts, 64);
  char noise[512];
  size_t nn = 0;
  const char *base = " \t=:#/0a\n\xff,.x";
  for (const char *q = base; *q; q++)
    noise[nn++] = *q;
  for (int i = 0; i < na; i++)
    for (int k = 0; k < alts[i].n && nn + 8 < sizeof noise; k++) {
      gtok t = alts[i].t[k];
      if (t.kind == 'l') {
        noise[nn++] = t.c;
        if (t.c >= 'a' && t.c <= 'z') noise[nn++] = (char)(t.c - 32);
      } else if (reps(t.c)) {
        for (const char *r = reps(t.c); *r && nn + 1 < sizeof noise; r++)
          noise[nn++] = *r;
      } else {
        noise[nn++] = t.c;
      }
    }
  char s[4096];
  compare(pat, low, nat, pc, "", 0);
  for (int i = 0; i < 1200; i++) {
    size_t n = gen_instance(&alts[rnd((unsigned)na)], noise, nn, s, 200);
    compare(pat, low, nat, pc, s, n);
  }
  for (int i = 0; i < 300; i++) {
    size_t n = rnd(24);
    for (size_t k = 0; k < n; k++)
      s[k] = noise_pick(noise, nn);
    compare(pat, low, nat, pc, s, n);
  }
  for (int i = 0; i < 6; i++) { /* long lines: noise with instances inside */
    size_t n = 0;
    while (n + 220 < 2047) {
      if (rnd(8) == 0)
        n += gen_instance(&alts[rnd((unsigned)na)], noise, nn, s + n, 200);
      else
        s[n++] = noise_pick(noise, nn);
    }
    compare(pat, low, nat, pc, s, n);
  }
  rx_free(nat);
  rx_free(pc);
}

static const char *corpus_dir; /* SHARED/corpus/wazuh-4.14.7 (corpus.h) */

static void test_corpus_differential(void) {
  const char *dir = corpus_dir;
  REQUIRE(nftw(dir, collect, 16, FTW_PHYS) == 0);
  set_unique(&g_files);
  REQUIRE(g_files.n > 0);
  strset pats = {0};
  for (size_t i = 0; i < g_files.n; i++)
    CHECK(load_policy(&pats, g_files.v[i]) == 0);
  set_unique(&pats);
  size_t lowered = 0;
  char low[65536];
  for (size_t i = 0; i < pats.n; i++) {
    if (osregex_lower(pats.v[i], low, sizeof low) != 1) continue;
    lowered++;
    check_pattern(pats.v[i], low);
  }
  double ratio = pats.n ? (double)lowered / (double)pats.n : 0;
  printf("lowering: %zu policies, %zu distinct patterns, %zu lowered (%.1f%%), %ld subjects compared, "
         "%ld disagreements\n",
         g_files.n, pats.n, lowered, 100.0 * ratio, g_subjects, g_disagree);
  CHECK(pats.n > 1000);
  CHECK(ratio >= 0.90);
  CHECK_INT(g_disagree, 0);
  for (size_t i = 0; i < pats.n; i++)
    free(pats.v[i]);
  free(pats.v);
  for (size_t i = 0; i < g_files.n; i++)
    free(g_files.v[i]);
  free(g_files.v);
}

/* ---- the conditions, one by one --------------------------------------------------------------- */

static int lowers(const char *p) {
  char buf[4096];
  return osregex_lower(p, buf, sizeof buf);
}

static void test_refusals(void) {
  CHECK(!lowers("a\\/b"));        /* does not compile */
  CHECK(!lowers("\\w+\\s*\\d"));  /* D: \d can start after \w+ */
  CHECK(!lowers("\\.*:"));        /* D: \. swallows the ':' */
  CHECK(!lowers("\\d+\\s+x"));    /* R: restart skips a start position */
  CHECK(!lowers("foo\\s*\\t*"));  /* E: "foo" at the end does not match natively */
  CHECK(!lowers("\\w*\\w*\\w*")); /* D */
  CHECK(!lowers("\\d*$"));        /* N */
  CHECK(!lowers("(\\d+)\\s*"));   /* G: the close stays at the first digit */
  CHECK(!lowers("(\\w+\\s*)"));   /* G: the close is never recorded */
  CHECK(!lowers("xyz(\\w*)"));    /* G: empty group at the end is not reported */
  CHECK(!lowers("(a)(b)"));       /* adjacent groups never match */
  CHECK(!lowers("a()b"));
  char tiny[8];
  CHECK(!osregex_lower("abcdefgh", tiny, sizeof tiny)); /* does not fit */
}

static void test_forms(void) {
  char buf[4096];
  REQUIRE(osregex_lower("^\\s*PermitRootLogin\\s+no", buf, sizeof buf));
  CHECK_STR(buf, "(?i)^\\x20*+permitrootlogin\\x20++no");
  REQUIRE(osregex_lower("^maxauthtries\\s(\\d+)", buf, sizeof buf));
  CHECK_STR(buf, "(?i)^maxauthtries\\x20([0-9]++)");
  REQUIRE(osregex_lower("Port\\s+22$", buf, sizeof buf));
  CHECK_STR(buf, "(?i)port\\x20++22\\z");
  REQUIRE(osregex_lower("masked|disabled", buf, sizeof buf));
  CHECK_STR(buf, "(?i)(?:masked)|(?:disabled)");
  REQUIRE(osregex_lower("a(b)|c(d)", buf, sizeof buf));
  CHECK_STR(buf, "(?i)(?|^[\\x00-\\xff]*?(?:a(b))|^[\\x00-\\xff]*?(?:c(d)))");
  /* E, repaired: inside the \s* run OS_Regex accepts the pending \d+ (and reports no group) */
  REQUIRE(osregex_lower("^maxsessions\\s*(\\d+)", buf, sizeof buf));
  CHECK_STR(buf, "(?i)(?|^maxsessions\\x20*+([0-9]++)|^maxsessions\\x20++\\z)");
  rx *n = rx_compile("^maxsessions\\s*(\\d+)", RX_OSREGEX, 0, NULL, NULL, 0);
  rx *l = rx_compile("^maxsessions\\s*(\\d+)", RX_OSREGEX, 0, buf, NULL, 0);
  REQUIRE(n && l);
  char g[16];
  CHECK_INT(rx_match_capture(n, "MaxSessions  ", 13, g, sizeof g), -1);
  CHECK_INT(rx_match_capture(l, "MaxSessions  ", 13, g, sizeof g), -1);
  CHECK_INT(rx_match_capture(n, "MaxSessions", 11, g, sizeof g), 0);
  CHECK_INT(rx_match_capture(l, "MaxSessions", 11, g, sizeof g), 0);
  CHECK_INT(rx_match_capture(l, "MaxSessions 10", 14, g, sizeof g), 1);
  CHECK_STR(g, "10");
  rx_free(n);
  rx_free(l);
  REQUIRE(osregex_lower("^$", buf, sizeof buf));
  CHECK_STR(buf, "(?i)^\\z");
  REQUIRE(osregex_lower("", buf, sizeof buf));
  CHECK_STR(buf, "(?i)");
}

/* Engines agree on the examples where OS_Regex differs from a textbook regex. */
static void test_spot_checks(void) {
  const char *p = "^\\s*\\t*PASS_MAX_DAYS\\s+(\\d+)";
  char low[512];
  REQUIRE(osregex_lower(p, low, sizeof low));
  rx *a = rx_compile(p, RX_OSREGEX, 0, NULL, NULL, 0), *b = rx_compile(p, RX_OSREGEX, 0, low, NULL, 0);
  REQUIRE(a && b);
  CHECK_STR(rx_engine(b), "pcre2-jit");
  const char *subj[] = {"PASS_MAX_DAYS 99", "  \tpass_max_days  365", "PASS_MAX_DAYS", "#PASS_MAX_DAYS 1",
                        "PASS_MAX_DAYS 5x", "PASS_MAX_DAYS\t5",       "PASS_MAX_DAYS "};
  for (size_t i = 0; i < sizeof subj / sizeof *subj; i++) {
    char x[64], y[64];
    int rx_a = rx_match_capture(a, subj[i], strlen(subj[i]), x, sizeof x);
    int rx_b = rx_match_capture(b, subj[i], strlen(subj[i]), y, sizeof y);
    CHECK_INT(rx_a, rx_b);
    if (rx_a == 1) CHECK_STR(x, y);
  }
  rx_free(a);
  rx_free(b);
}

/* The one class table (vm/osregex_class.def): every escape OS_Regex accepts lowers to the table's
 * PCRE2 text, and for every subject byte the native matcher, the table's byte test and PCRE2 running
 * the lowered pattern agree. NUL is not tried: it ends a subject for both engines. Every other
 * escape letter is refused by both the native compiler and the lowering. */
static void test_class_table(void) {
  const char *letters = osregex_class_letters();
  CHECK_INT((long)strlen(letters), 15);
  for (unsigned e = 1; e < 256; e++) {
    char pat[3] = {'\\', (char)e, 0}, low[256], err[128];
    osregex *nat = osregex_compile(pat, err, sizeof err);
    int lowered = osregex_lower(pat, low, sizeof low);
    int escape = osregex_class_is_escape(e);
    CHECK_INT(escape, strchr(letters, (int)e) != NULL);
    CHECK_INT(nat != NULL, escape);
    CHECK_INT(lowered, escape);
    if (!nat || !lowered) {
      osregex_free(nat);
      continue;
    }
    char want[128];
    snprintf(want, sizeof want, "(?i)%s", osregex_class_pcre2(e));
    CHECK_STR(low, want);
    rx *pc = rx_compile(low, RX_PCRE2, 0, NULL, err, sizeof err);
    REQUIRE(pc != NULL);
    long disagree = 0;
    for (unsigned c = 1; c < 256; c++) {
      char subj[1] = {(char)c};
      int table = osregex_class_has(e, c);
      int native = osregex_exec(nat, subj, 1, NULL, 0, NULL, NULL);
      int pcre = rx_match(pc, subj, 1);
      if (table != native || table != pcre) {
        if (disagree++ < 3)
          fprintf(stderr, "escape \\%c, byte 0x%02x: table %d, native %d, pcre2 %d ('%s')\n", (int)e, c, table,
                  native, pcre, low);
      }
    }
    CHECK_INT(disagree, 0);
    rx_free(pc);
    osregex_free(nat);
  }
}

int main(int argc, char **argv) {
  if (test_corpus_wanted(argc, argv)) { /* CTest: corpus/test_lower, skipped without the corpus */
    char dir[4096];
    if (!(corpus_dir = test_corpus_dir("wazuh-4.14.7", dir, sizeof dir))) return TEST_SKIP;
    RUN(test_corpus_differential);
    return test_report();
  }
  RUN(test_class_table);
  RUN(test_refusals);
  RUN(test_forms);
  RUN(test_spot_checks);
  return test_report();
}
