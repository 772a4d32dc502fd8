/* test.h — the tiny assertion kit every unit test uses.
 *
 * A test file defines functions `static void test_xxx(void)` and lists them in main() with RUN(test_xxx).
 * CHECK records a failure and goes on; REQUIRE stops the current test. main() ends with
 * `return test_report();`, which prints "N passed, N failed" and returns non-zero on any failure. */
#ifndef TENET_TEST_H
#define TENET_TEST_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <setjmp.h>
#include <ftw.h>

static int test_passed_, test_failed_, test_cur_failed_;
static jmp_buf test_jmp_;
static const char *test_name_;

#define CHECK(cond)                                                                    \
  do {                                                                                 \
    if (!(cond)) {                                                                     \
      fprintf(stderr, "%s:%d: %s: CHECK failed: %s\n", __FILE__, __LINE__, test_name_, \
              #cond);                                                                  \
      test_cur_failed_ = 1;                                                            \
    }                                                                                  \
  } while (0)

#define REQUIRE(cond)                                                                    \
  do {                                                                                   \
    if (!(cond)) {                                                                       \
      fprintf(stderr, "%s:%d: %s: REQUIRE failed: %s\n", __FILE__, __LINE__, test_name_, \
              #cond);                                                                    \
      test_cur_failed_ = 1;                                                              \
      longjmp(test_jmp_, 1);                                                             \
    }                                                                                    \
  } while (0)

#define CHECK_STR(a, b)                                                                       \
  do {                                                                                        \
    const char *a_ = (a), *b_ = (b);                                                          \
    if (!a_ || !b_ || strcmp(a_, b_) != 0) {                                                  \
      fprintf(stderr, "%s:%d: %s: CHECK_STR failed:\n  got:      %s\n  expected: %s\n",       \
              __FILE__, __LINE__, test_name_, a_ ? a_ : "(null)", b_ ? b_ : "(null)");        \
      test_cur_failed_ = 1;                                                                   \
    }                                                                                         \
  } while (0)

#define CHECK_INT(a, b)                                                                          \
  do {                                                                                           \
    long long a_ = (long long)(a), b_ = (long long)(b);                                          \
    if (a_ != b_) {                                                                              \
      fprintf(stderr, "%s:%d: %s: CHECK_INT failed: %s == %lld, expected %lld\n", __FILE__,      \
              __LINE__, test_name_, #a, a_, b_);                                                 \
      test_cur_failed_ = 1;                                                                      \
    }                                                                                            \
  } while (0)

#define RUN(fn)                                  \
  do {                                           \
    test_name_ = #fn;                            \
    test_cur_failed_ = 0;                        \
    if (setjmp(test_jmp_) == 0) fn();            \
    if (test_cur_failed_) test_failed_++;        \
    else test_passed_++;                         \
  } while (0)

static inline int test_report(void) {
  printf("%d passed, %d failed\n", test_passed_, test_failed_);
  return test_failed_ ? 1 : 0;
}

/* Remove a file or a whole directory tree (symlinks are removed, never followed). */
static inline int test_rm_entry_(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
  (void)st;
  (void)flag;
  (void)ftw;
  remove(path); /* depth first: a directory is empty by the time it is visited */
  return 0;
}
static inline void test_rm_rf(const char *path) { nftw(path, test_rm_entry_, 16, FTW_DEPTH | FTW_PHYS); }

/* Environment helpers: paths set by CTest (see tests/CMakeLists.txt). */
static inline const char *test_env(const char *name, const char *fallback) {
  const char *v = getenv(name);
  return v && *v ? v : fallback;
}

#endif
