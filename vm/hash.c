/* hash.c — the results hash (ARCHITECTURE.md "Hashes and integrity"): SHA-256, lower-case hex, of the
 * results of one policy in ascending check id order joined with ','; a not-applicable check
 * contributes an empty string; an absent check contributes nothing. A 5.x not-run check contributes
 * its last known result: a scan without stored state (tenet scan) knows none and contributes the
 * empty string; the agent hashes its store, where not run never replaced the stored result. */
#include <string.h>

#include "crypto.h"
#include "scan.h"
#include "strbuf.h"

const char *scan_result_name(int result) {
  switch (result) {
  case EV_FOUND: return "passed";
  case EV_NOT_FOUND: return "failed";
  case EV_NOT_RUN: return "not run";
  default: return "not applicable";
  }
}

static void finish(strbuf *b, char out[65]) {
  uint8_t d[CRYPTO_SHA256_LEN];
  crypto_sha256(b->data ? b->data : "", b->len, d);
  crypto_hex(d, sizeof d, out);
  strbuf_free(b);
}

void scan_results_hash(const int *results, size_t n, char out[65]) {
  strbuf b = STRBUF_INIT;
  for (size_t i = 0; i < n; i++) {
    if (i) strbuf_putc(&b, ',');
    if (results[i] == EV_FOUND || results[i] == EV_NOT_FOUND) strbuf_puts(&b, scan_result_name(results[i]));
  }
  finish(&b, out);
}

void scan_results_hash_strings(const char *const *results, size_t n, char out[65]) {
  strbuf b = STRBUF_INIT;
  for (size_t i = 0; i < n; i++) {
    if (i) strbuf_putc(&b, ',');
    if (strcmp(results[i], "not applicable") != 0) strbuf_puts(&b, results[i]);
  }
  finish(&b, out);
}
