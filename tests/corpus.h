/* corpus.h — the published-policy corpus (SHARED/corpus, test data that is not in the repository)
 * that a few tests run over when it is present.
 *
 * A test binary with a corpus part runs it only when called with --corpus; tests/CMakeLists.txt
 * registers that call as its own CTest test (corpus/<name>) with SKIP_RETURN_CODE TEST_SKIP, so a
 * clone without the corpus beside it reports the test as skipped, with the reason, instead of
 * failing it or passing it silently. SHARED is $TENET_SHARED_DIR (set by CTest), else ../shared. */
#ifndef TENET_TEST_CORPUS_H
#define TENET_TEST_CORPUS_H

#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "test.h"

#define TEST_SKIP 77 /* exit status CTest reports as "skipped" (SKIP_RETURN_CODE) */

/* 1 if argv asks for the corpus part (--corpus). */
static inline int test_corpus_wanted(int argc, char **argv) {
  return argc > 1 && strcmp(argv[1], "--corpus") == 0;
}

/* Fill buf with SHARED/corpus/sub and return it, or print why the corpus tests are skipped and
 * return NULL when that directory does not exist. */
static inline const char *test_corpus_dir(const char *sub, char *buf, size_t cap) {
  const char *shared = test_env("TENET_SHARED_DIR", "../shared");
  struct stat st;
  snprintf(buf, cap, "%s/corpus/%s", shared, sub);
  if (stat(buf, &st) == 0 && S_ISDIR(st.st_mode)) return buf;
  printf("SKIPPED: the published-policy corpus is not here (%s: no such directory; set "
         "TENET_SHARED_DIR to a folder holding corpus/)\n",
         buf);
  return NULL;
}

#endif
