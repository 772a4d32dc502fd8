/* test_regex.c — the regex module (vm/regex.c): every engine behind rx_*, capture semantics,
 * case handling, (ptr, len) subjects, bad patterns, and one rx shared by several threads. */
#include <pthread.h>

#include "osregex_lower.h"
#include "regex.h"
#include "test.h"

static int cap(const rx *r, const char *s, char *buf, size_t n) {
  return rx_match_capture(r, s, strlen(s), buf, n);
}

static void test_pcre2(void) {
  char err[128], g[32];
  rx *r = rx_compile("^Port\\s+(\\d+)", RX_PCRE2, 0, NULL, err, sizeof err);
  REQUIRE(r);
  CHECK(!strcmp(rx_engine(r), "pcre2-jit") || !strcmp(rx_engine(r), "pcre2"));
  CHECK(rx_match(r, "Port 22", 7));
  CHECK(!rx_match(r, "port 22", 7)); /* options 0: case-sensitive, as Wazuh 4.x */
  CHECK_INT(cap(r, "Port  2222", g, sizeof g), 1);
  CHECK_STR(g, "2222");
  CHECK_INT(cap(r, "Port x", g, sizeof g), 0);
  CHECK_STR(g, "");
  rx_free(r);

  r = rx_compile("^port\\s+(\\d+)", RX_PCRE2, RXF_CASELESS, NULL, err, sizeof err);
  REQUIRE(r);
  CHECK(rx_match(r, "PORT 22", 7));
  rx_free(r);

  r = rx_compile("abc", RX_PCRE2, 0, NULL, err, sizeof err); /* no groups: nothing captured */
  REQUIRE(r);
  CHECK_INT(cap(r, "xabcx", g, sizeof g), -1);
  rx_free(r);

  r = rx_compile("(a)?b", RX_PCRE2, 0, NULL, err, sizeof err); /* rc 1: nothing captured */
  REQUIRE(r);
  CHECK_INT(cap(r, "b", g, sizeof g), -1);
  CHECK_INT(cap(r, "ab", g, sizeof g), 1);
  CHECK_STR(g, "a");
  rx_free(r);

  r = rx_compile("(a)?(b)", RX_PCRE2, 0, NULL, err, sizeof err); /* unset group 1 reads "" */
  REQUIRE(r);
  CHECK_INT(cap(r, "b", g, sizeof g), 1);
  CHECK_STR(g, "");
  rx_free(r);

  r = rx_compile("(\\w+)", RX_PCRE2, 0, NULL, err, sizeof err); /* truncated to cap - 1 */
  REQUIRE(r);
  CHECK_INT(cap(r, "abcdefgh", g, 4), 1);
  CHECK_STR(g, "abc");
  rx_free(r);

  /* deep backtracking: past the JIT's default stack it retries on the thread's larger one */
  r = rx_compile("^(a|b)*c$", RX_PCRE2, 0, NULL, err, sizeof err);
  REQUIRE(r);
  size_t n = 200000;
  char *big = malloc(n + 1);
  REQUIRE(big);
  memset(big, 'a', n);
  big[n - 1] = 'c';
  big[n] = 0;
  CHECK(rx_match(r, big, n));
  big[n - 1] = 'a';
  CHECK(!rx_match(r, big, n));
  free(big);
  rx_free(r);

  CHECK(rx_compile("(", RX_PCRE2, 0, NULL, err, sizeof err) == NULL);
  CHECK(err[0] != 0);
}

static void test_osregex_native(void) {
  char err[128], g[32];
  rx *r = rx_compile("^\\s*maxauthtries\\s+(\\d+)", RX_OSREGEX, 0, NULL, err, sizeof err);
  REQUIRE(r);
  CHECK_STR(rx_engine(r), "osregex");
  CHECK_INT(cap(r, "  MaxAuthTries 4", g, sizeof g), 1);
  CHECK_STR(g, "4");
  CHECK_INT(cap(r, "\tMaxAuthTries 4", g, sizeof g), 0);
  rx_free(r);

  r = rx_compile("enabled|generated", RX_OSREGEX, 0, NULL, err, sizeof err);
  REQUIRE(r);
  CHECK_INT(cap(r, "Generated", g, sizeof g), -1); /* matched, no group recorded */
  CHECK_INT(cap(r, "disabled", g, sizeof g), 0);
  rx_free(r);

  CHECK(rx_compile("a\\/b", RX_OSREGEX, 0, NULL, err, sizeof err) == NULL);
  CHECK(err[0] != 0);
}

static void test_osregex_lowered(void) {
  const char *pats[] = {"^\\s*maxauthtries\\s+(\\d+)", "enabled|generated", "Port\\s+22$",
                        "^-a always,exit -F arch=b64 -S sethostname", "(\\d+) profiles are loaded"};
  const char *subj[] = {"MaxAuthTries 4",
                        " maxauthtries   10 # x",
                        "enabled",
                        "x generated",
                        "Port 22",
                        "Port 22 ",
                        "port\t22",
                        "-A ALWAYS,EXIT -F ARCH=B64 -S sethostname -k x",
                        "12 profiles are loaded.",
                        "profiles are loaded",
                        ""};
  for (size_t i = 0; i < sizeof pats / sizeof *pats; i++) {
    char low[1024], err[128];
    REQUIRE(osregex_lower(pats[i], low, sizeof low) == 1);
    rx *n = rx_compile(pats[i], RX_OSREGEX, 0, NULL, err, sizeof err);
    rx *l = rx_compile(pats[i], RX_OSREGEX, 0, low, err, sizeof err);
    REQUIRE(n && l);
    CHECK(!strcmp(rx_engine(l), "pcre2-jit") || !strcmp(rx_engine(l), "pcre2"));
    for (size_t k = 0; k < sizeof subj / sizeof *subj; k++) {
      char a[64], b[64];
      int ra = cap(n, subj[k], a, sizeof a), rb = cap(l, subj[k], b, sizeof b);
      CHECK_INT(ra, rb);
      if (ra == 1) CHECK_STR(a, b);
    }
    rx_free(n);
    rx_free(l);
  }
  char err[128];
  CHECK(rx_compile("abc", RX_OSREGEX, 0, "(", err, sizeof err) == NULL); /* PCRE2 rejects it */
}

static void test_osmatch(void) {
  char err[128], g[8];
  rx *r = rx_compile("^sshd_config$|.conf$", RX_OSMATCH, 0, NULL, err, sizeof err);
  REQUIRE(r);
  CHECK_STR(rx_engine(r), "osmatch");
  CHECK(rx_match(r, "SSHD_CONFIG", 11));
  CHECK(rx_match(r, "a.conf", 6));
  CHECK(!rx_match(r, "a.conf.bak", 10));
  CHECK_INT(cap(r, "x.conf", g, sizeof g), -1);
  CHECK_INT(cap(r, "x.cfg", g, sizeof g), 0);
  rx_free(r);
}

/* Subjects are (ptr, len): nothing past len is read, and an embedded NUL ends the subject. */
static void test_subject_bounds(void) {
  char low[256];
  REQUIRE(osregex_lower("abc$", low, sizeof low));
  rx *e[4] = {rx_compile("abc$", RX_OSREGEX, 0, NULL, NULL, 0),
              rx_compile("abc$", RX_OSREGEX, 0, low, NULL, 0), rx_compile("abc$", RX_PCRE2, 0, NULL, NULL, 0),
              rx_compile("abc$", RX_OSMATCH, 0, NULL, NULL, 0)};
  for (int i = 0; i < 4; i++) {
    REQUIRE(e[i]);
    CHECK(rx_match(e[i], "xabcdef", 4));
    CHECK(!rx_match(e[i], "xabcdef", 7));
    CHECK(rx_match(e[i], "xabc\0def", 8));
    CHECK(!rx_match(e[i], "xab\0cdef", 8));
    rx_free(e[i]);
  }
  /* without '$' a lowered pattern runs on the whole buffer: a match past the NUL must not count */
  REQUIRE(osregex_lower("(abc)", low, sizeof low));
  rx *l = rx_compile("(abc)", RX_OSREGEX, 0, low, NULL, 0);
  REQUIRE(l);
  char g[8];
  CHECK_INT(rx_match_capture(l, "zz\0abc", 6, g, sizeof g), 0);
  CHECK_INT(rx_match_capture(l, "zabc\0abc", 8, g, sizeof g), 1);
  CHECK_STR(g, "abc");
  CHECK(!rx_match(l, "ab\0c", 4));
  rx_free(l);
  rx_free(NULL);
  CHECK(!rx_match(NULL, "x", 1));
}

/* ---- one rx, several threads ------------------------------------------------------------------- */

#define NTHREADS 4
#define NSUBJ 64
#define ROUNDS 400

typedef struct job {
  rx *r[3];
  char subj[NSUBJ][48];
  int want[3][NSUBJ];
  char wantg[3][NSUBJ][16];
  int bad;
} job;

static void *worker(void *arg) {
  job *j = arg;
  for (int round = 0; round < ROUNDS; round++)
    for (int e = 0; e < 3; e++)
      for (int i = 0; i < NSUBJ; i++) {
        char g[16];
        int rc = rx_match_capture(j->r[e], j->subj[i], strlen(j->subj[i]), g, sizeof g);
        if (rc != j->want[e][i] || (rc == 1 && strcmp(g, j->wantg[e][i])))
          __atomic_add_fetch(&j->bad, 1, __ATOMIC_RELAXED);
      }
  return NULL;
}

static void test_threads(void) {
  static job j;
  const char *p = "^\\s*maxsessions\\s+(\\d+)";
  char low[256];
  REQUIRE(osregex_lower(p, low, sizeof low));
  j.r[0] = rx_compile(p, RX_OSREGEX, 0, NULL, NULL, 0);
  j.r[1] = rx_compile(p, RX_OSREGEX, 0, low, NULL, 0);
  j.r[2] = rx_compile("^\\s*MaxSessions\\s+(\\d+)", RX_PCRE2, RXF_CASELESS, NULL, NULL, 0);
  REQUIRE(j.r[0] && j.r[1] && j.r[2]);
  for (int i = 0; i < NSUBJ; i++)
    snprintf(j.subj[i], sizeof j.subj[i], "%sMaxSessions%s%d", i % 3 ? "  " : "", i % 4 ? " " : "=", i * 7);
  for (int e = 0; e < 3; e++)
    for (int i = 0; i < NSUBJ; i++)
      j.want[e][i] =
          rx_match_capture(j.r[e], j.subj[i], strlen(j.subj[i]), j.wantg[e][i], sizeof j.wantg[e][i]);
  pthread_t t[NTHREADS];
  for (int i = 0; i < NTHREADS; i++)
    REQUIRE(pthread_create(&t[i], NULL, worker, &j) == 0);
  for (int i = 0; i < NTHREADS; i++)
    pthread_join(t[i], NULL);
  CHECK_INT(j.bad, 0);
  CHECK_INT(j.want[1][1], 1);
  CHECK_STR(j.wantg[1][1], "7");
  CHECK_INT(j.want[0][4], 0); /* "MaxSessions=28": '=' is not \s */
  for (int e = 0; e < 3; e++)
    rx_free(j.r[e]);
}

int main(void) {
  RUN(test_pcre2);
  RUN(test_osregex_native);
  RUN(test_osregex_lowered);
  RUN(test_osmatch);
  RUN(test_subject_bounds);
  RUN(test_threads);
  return test_report();
}
