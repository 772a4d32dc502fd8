/* test_hash.c — the results hash of ARCHITECTURE.md, with the seed document's vectors. */
#include "crypto.h"
#include "scan.h"
#include "test.h"

static void test_seed_agent_vector(void) {
  /* checks 1000..1003: passed, failed, failed, passed */
  int r[] = {EV_FOUND, EV_NOT_FOUND, EV_NOT_FOUND, EV_FOUND};
  char h[65];
  scan_results_hash(r, 4, h);
  CHECK_STR(h, "1642ab1dc478052ac3556b5e700cd82adb69728008301882b9cbee0696ff2c84");
}

static void test_seed_manager_vector_missing_check(void) {
  /* the manager's copy misses 1002: "passed,failed,passed" */
  const char *s[] = {"passed", "failed", "passed"};
  char h[65];
  scan_results_hash_strings(s, 3, h);
  CHECK_STR(h, "b43037ca28d95a69b6f9e03fcd826d2b253a6bb1b6ad28c4ae57a3a766ace610");
}

static void test_not_applicable_contributes_empty_string(void) {
  int r[] = {EV_FOUND, EV_NOT_FOUND, EV_INVALID, EV_FOUND};
  const char *s[] = {"passed", "failed", "not applicable", "passed"};
  char a[65], b[65], want[65];
  scan_results_hash(r, 4, a);
  scan_results_hash_strings(s, 4, b);
  /* sha256("passed,failed,,passed") */
  uint8_t d[32];
  crypto_sha256("passed,failed,,passed", 21, d);
  crypto_hex(d, 32, want);
  CHECK_STR(a, want);
  CHECK_STR(b, want);
  /* a single not-applicable check hashes the empty string */
  int one = EV_INVALID;
  scan_results_hash(&one, 1, a);
  CHECK_STR(a, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

static void test_result_names(void) {
  CHECK_STR(scan_result_name(EV_FOUND), "passed");
  CHECK_STR(scan_result_name(EV_NOT_FOUND), "failed");
  CHECK_STR(scan_result_name(EV_INVALID), "not applicable");
}

int main(void) {
  RUN(test_seed_agent_vector);
  RUN(test_seed_manager_vector_missing_check);
  RUN(test_not_applicable_contributes_empty_string);
  RUN(test_result_names);
  return test_report();
}
