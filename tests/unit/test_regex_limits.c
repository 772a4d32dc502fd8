/* test_regex_limits.c — PCRE2 match errors are never read as "no match" where Wazuh would see a
 * match: a lowered OS_Regex pattern that hits a PCRE2 limit is answered by the exact native
 * matcher; a regex_type: pcre2 pattern that hits it reads as no match (Wazuh's own reading,
 * SCA-SEMANTICS §4.5), counted and logged once per pattern. The limits are really hit: a
 * catastrophic pattern under PCRE2's default limit, and a lowered limit for the lowered forms
 * (the same lowered form compiled without a native twin shows the error). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "osregex_lower.h"
#include "program.h"
#include "regex.h"
#include "test.h"

static int logged;
static char last_log[600];
static void capture_log(const char *msg) {
  logged++;
  snprintf(last_log, sizeof last_log, "%s", msg);
}

/* (a+)+$ on "aaaa…ab" backtracks 2^n ways: PCRE2 stops at its default match limit. */
static void test_pcre2_catastrophic(void) {
  rx_set_log(capture_log);
  char err[200];
  rx *r = rx_compile("(a+)+$", RX_PCRE2, 0, NULL, err, sizeof err);
  REQUIRE(r);
  char subject[64];
  memset(subject, 'a', 40);
  strcpy(subject + 40, "b");
  size_t before = rx_match_errors();
  logged = 0;
  CHECK_INT(rx_match(r, subject, strlen(subject)), 0); /* Wazuh: rc < 0 is no match */
  CHECK(rx_match_errors() == before + 1);
  CHECK_INT(logged, 1);
  CHECK(strstr(last_log, "(a+)+$") && strstr(last_log, "limit"));
  CHECK_INT(rx_match_line(r, subject, strlen(subject)), 0);
  CHECK(rx_match_errors() == before + 2);
  CHECK_INT(logged, 1);                /* logged once per pattern */
  CHECK_INT(rx_match(r, "aaa", 3), 1); /* a subject within the limit still matches */
  rx_free(r);
  rx_set_log(NULL);
}

/* A lowered pattern under a limit its subject really exceeds: the native matcher answers. */
static void check_lowered(const char *pattern, const char *subject, int want) {
  char low[512], err[200];
  REQUIRE(osregex_lower(pattern, low, sizeof low) == 1);
  rx *lowered = rx_compile(pattern, RX_OSREGEX, 0, low, err, sizeof err);
  rx *native = rx_compile(pattern, RX_OSREGEX, 0, NULL, err, sizeof err);
  rx *bare = rx_compile(low, RX_PCRE2, 0, NULL, err, sizeof err); /* the lowered form alone */
  REQUIRE(lowered && native && bare);
  CHECK(strncmp(rx_engine(lowered), "pcre2", 5) == 0);
  size_t n = strlen(subject);
  CHECK_INT(rx_match(native, subject, n), want);
  CHECK_INT(rx_match(lowered, subject, n), want); /* before: no limit in reach */
  rx_set_log(capture_log);
  rx_set_match_limit(1);
  size_t before = rx_match_errors();
  CHECK_INT(rx_match(bare, subject, n), 0); /* the limit is really hit... */
  CHECK(rx_match_errors() == before + 1);
  CHECK_INT(rx_match(lowered, subject, n), want); /* ...and the lowered rx still answers right */
  CHECK_INT(rx_match_line(lowered, subject, n), want);
  char cap[64];
  CHECK_INT(rx_match_capture(lowered, subject, n, cap, sizeof cap) != 0, want);
  CHECK(rx_match_errors() == before + 1); /* no error counted for the lowered rx */
  rx_set_match_limit(0);
  rx_set_log(NULL);
  rx_free(lowered);
  rx_free(native);
  rx_free(bare);
}

static void test_lowered_fallback(void) {
  /* the case: a `not` rule on a line that matches must see the match */
  check_lowered("^\\s*PermitRootLogin\\s+yes", "   PermitRootLogin     yes", 1);
  check_lowered("^\\s*PermitRootLogin\\s+yes", "   PermitRootLogin     no, yes", 0);
  check_lowered("^\\s*Protocol\\s+2", "  Protocol   2", 1);
}

/* The captured group under a limit comes from the native matcher too. */
static void test_lowered_capture(void) {
  const char *pat = "^\\s*maxauthtries\\s+(\\d+)", *subject = "  MaxAuthTries   4";
  char low[512], err[200], cap[64];
  REQUIRE(osregex_lower(pat, low, sizeof low) == 1);
  rx *r = rx_compile(pat, RX_OSREGEX, 0, low, err, sizeof err);
  rx *bare = rx_compile(low, RX_PCRE2, 0, NULL, err, sizeof err);
  REQUIRE(r && bare);
  rx_set_log(capture_log);
  rx_set_match_limit(1);
  size_t before = rx_match_errors();
  CHECK_INT(rx_match_capture(bare, subject, strlen(subject), cap, sizeof cap), 0);
  CHECK(rx_match_errors() == before + 1); /* the limit is really hit */
  CHECK_INT(rx_match_capture(r, subject, strlen(subject), cap, sizeof cap), 1);
  CHECK_STR(cap, "4");
  rx_set_match_limit(0);
  rx_set_log(NULL);
  rx_free(r);
  rx_free(bare);
}

int main(void) {
  RUN(test_pcre2_catastrophic);
  RUN(test_lowered_fallback);
  RUN(test_lowered_capture);
  return test_report();
}
