/* fuzz_check_detail.c — libFuzzer harness for the structured check details a peer sends
 * (proto/tenet.proto CheckDetail, inside CheckDelta) and the agent keeps in its store for dumps:
 * codec_detail_decode over the bytes, then the manager's alert written from what decoded
 * (manager/alerts.c, in memory).
 *
 * Invariants: a detail decodes exactly when the codec returns TN_OK and an error always says why;
 * whatever decodes re-encodes (the codec accepts its own output) to bytes that decode again; an
 * alert from any decoded detail is one complete line. Built as fuzz_check_detail and
 * replay_check_detail (tests/fuzz/tests.cmake); seeds in tests/fuzz/corpus/check_detail/. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "alerts.h"
#include "codec.h"
#include "err.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char err[256] = "";
  Tenet__CheckDetail *d = NULL;
  int rc = codec_detail_decode(data, size, &d, err, sizeof err);
  if ((rc == TN_OK) != (d != NULL)) abort();
  if (rc != TN_OK) {
    if (!err[0]) abort(); /* every refusal says why */
    return 0;
  }
  strbuf b = STRBUF_INIT;
  if (codec_detail_encode(d, &b, err, sizeof err) == TN_OK) {
    Tenet__CheckDetail *again = NULL;
    if (codec_detail_decode(b.data, b.len, &again, err, sizeof err) != TN_OK) abort();
    codec_detail_free(again);
  } else if (strbuf_ok(&b)) {
    abort(); /* a decoded detail always re-encodes */
  }
  strbuf_free(&b);
  alerts *a = alerts_open(NULL, err, sizeof err); /* in memory */
  if (a) {
    alerts_check(a, "fuzz", "policy", NULL, 1, 1, "failed", "", d, "passed");
    alerts_discard(a);
    alerts_close(a);
  }
  codec_detail_free(d);
  return 0;
}
