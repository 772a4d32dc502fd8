/* fuzz_wire.c — libFuzzer harness for what a peer sends: the frame decoder (proto/frame.c) fed the
 * input in uneven chunks, then every whole frame through codec_decode (proto/codec.c).
 *
 * Invariants checked: a frame is never longer than the decoder's cap; codec_decode gives a
 * message exactly when it returns TN_OK, and an error always says why; whatever decodes
 * re-encodes (the codec accepts its own output). Built as fuzz_wire and replay_wire
 * (tests/fuzz/tests.cmake); seeds in tests/fuzz/corpus/wire/. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "codec.h"
#include "err.h"
#include "frame.h"

#define CAP 65536

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  frame_decoder *d = frame_decoder_new(CAP);
  if (!d) return 0;
  size_t off = 0, step = size ? (size_t)data[0] % 7 + 1 : 1;
  while (off < size) {
    size_t n = size - off < step ? size - off : step;
    if (frame_decoder_feed(d, data + off, n) != TN_OK) break; /* oversized: the caller drops the peer */
    off += n;
    const uint8_t *payload;
    size_t len;
    while (frame_decoder_next(d, &payload, &len) == TN_OK && payload) {
      if (len > CAP) abort();
      Tenet__Envelope *m = NULL;
      char err[256] = "";
      int rc = codec_decode(payload, len, CAP, &m, err, sizeof err);
      if ((rc == TN_OK) != (m != NULL)) abort();
      if (rc != TN_OK && !err[0]) abort();
      if (m) {
        strbuf out = STRBUF_INIT;
        if (codec_encode(m, &out, err, sizeof err) != TN_OK) abort();
        strbuf_free(&out);
        codec_free(m);
      }
    }
  }
  frame_decoder_finish(d);
  frame_decoder_free(d);
  return 0;
}
