/* proto_hex.h — test helpers for hash fields, which travel as 32 raw bytes: hx() makes a field from
 * hex, xh() prints one as hex. Both use small rotating static buffers (fine for tests). */
#ifndef TENET_TEST_PROTO_HEX_H
#define TENET_TEST_PROTO_HEX_H

#include "codec.h"

static inline ProtobufCBinaryData hx(const char *hex) {
  static uint8_t store[16][CODEC_HASH_LEN];
  static unsigned next;
  ProtobufCBinaryData d;
  codec_hash_from_hex(&d, store[next++ % 16], hex);
  return d;
}

static inline const char *xh(ProtobufCBinaryData d) {
  static char out[16][2 * CODEC_HASH_LEN + 1];
  static unsigned next;
  char *o = out[next++ % 16];
  codec_hash_to_hex(&d, o);
  return o;
}

#endif
