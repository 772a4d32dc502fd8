/* fuzz_bundle.c — libFuzzer harness for the bundle reader (vm/bundle_read.c + vm/verify.c).
 *
 * Each input is read twice: as it is, and "resealed" — with the trailer's body hash recomputed —
 * because a mutated body almost never matches its SHA-256 and would otherwise stop at the
 * integrity check, leaving the structure parser and the verifier unexplored. Whatever the reader
 * accepts must be canonical: writing the program back gives exactly the same body bytes (the
 * writer and reader are mirrored pairs), and the harness aborts when it does not.
 *
 * Built as fuzz_bundle (real libFuzzer, TENET_FUZZ=ON with clang) and as replay_bundle, which
 * CTest runs over tests/fuzz/corpus/bundle/ (tests/fuzz/tests.cmake). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bundle.h"
#include "bundle_int.h"
#include "err.h"

/* Read, and if accepted check that the program writes back to the same body. */
static void read_and_rewrite(const uint8_t *data, size_t size) {
  program *p = NULL;
  bundle_info info;
  char err[256] = "";
  int rc = bundle_read(data, size, &p, &info, err, sizeof err);
  if (rc != TN_OK) {
    if (p) abort(); /* *out must stay NULL on failure */
    if (!err[0]) abort(); /* every failure says why */
    return;
  }
  uint8_t *out = NULL;
  size_t outlen = 0;
  rc = bundle_write(p, NULL, &out, &outlen, err, sizeof err);
  if (rc != TN_OK || outlen != size || memcmp(out, data, info.body_len) != 0) {
    fprintf(stderr, "fuzz_bundle: accepted bundle is not canonical (rc %d: %s)\n", rc,
            rc == TN_OK ? "body differs" : err);
    abort();
  }
  free(out);
  program_free(p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  read_and_rewrite(data, size);
  if (size < (size_t)BUNDLE_HEADER_SIZE + BUNDLE_TRAILER_SIZE || size > ((size_t)1 << 20)) return 0;
  uint8_t *copy = malloc(size);
  if (!copy) return 0;
  memcpy(copy, data, size);
  size_t body = size - BUNDLE_TRAILER_SIZE;
  crypto_sha256(copy, body, copy + body + BT_HASH);
  read_and_rewrite(copy, size);
  free(copy);
  return 0;
}
