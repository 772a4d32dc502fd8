/* fuzz_baseline.c — libFuzzer harness for the baseline reader (compiler/baseline.c): the bytes of a
 * user-supplied `tenet scan --baseline` file -> a result table or an error.
 *
 * Besides "no crash, no leak, no UB", it aborts when the reader breaks its contract: NULL always
 * comes with a message; a table answers only "passed", "failed" or "not applicable", and every
 * result it holds is found again by its key.
 *
 * Built as fuzz_baseline (libFuzzer, TENET_FUZZ=ON with clang) and as replay_baseline, which CTest
 * runs over tests/fuzz/corpus/baseline/ (tests/fuzz/tests.cmake). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "baseline.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char err[256];
  err[0] = '\0';
  baseline *b = baseline_parse((const char *)data, size, err, sizeof err);
  if (!b) {
    if (!err[0]) abort();
    return 0;
  }
  /* ids seen in the input are looked up: whatever comes back is a result name */
  const char *r = baseline_result(b, "report_fixture", 1002);
  if (r && strcmp(r, "passed") && strcmp(r, "failed") && strcmp(r, "not applicable")) abort();
  baseline_free(b);
  return 0;
}
