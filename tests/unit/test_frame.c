/* test_frame.c — length-prefixed frames: encoder, incremental decoder fed at every split point,
 * the size cap (rejected at the header, before any payload), truncated streams. */
#include <stdint.h>

#include "err.h"
#include "frame.h"
#include "strbuf.h"
#include "test.h"

/* A stream of frames of sizes 0, 1, 5, 300 and 5000 (payload byte i of frame f = f*31+i). */
static const size_t sizes[] = {0, 1, 5, 300, 5000};
#define NFRAMES (sizeof sizes / sizeof sizes[0])

static void build_stream(strbuf *sb) {
  for (size_t f = 0; f < NFRAMES; f++) {
    uint8_t *p = malloc(sizes[f] ? sizes[f] : 1);
    for (size_t i = 0; i < sizes[f]; i++)
      p[i] = (uint8_t)(f * 31 + i);
    REQUIRE(frame_encode(sb, p, sizes[f], FRAME_MAX_DEFAULT) == TN_OK);
    free(p);
  }
}

/* Drain d, checking each frame against the expected sequence; returns how many were taken. */
static size_t drain(frame_decoder *d, size_t next) {
  for (;;) {
    const uint8_t *p;
    size_t n;
    REQUIRE(frame_decoder_next(d, &p, &n) == TN_OK);
    if (!p) return next;
    REQUIRE(next < NFRAMES);
    CHECK_INT(n, sizes[next]);
    int same = 1;
    for (size_t i = 0; i < n; i++)
      same &= p[i] == (uint8_t)(next * 31 + i);
    CHECK(same);
    next++;
  }
}

static void test_header_big_endian(void) {
  uint8_t h[FRAME_HEADER_LEN];
  CHECK_INT(frame_header(0x01020304, FRAME_MAX_LIMIT, h), TN_OK);
  CHECK(h[0] == 1 && h[1] == 2 && h[2] == 3 && h[3] == 4);
  CHECK_INT(frame_header(11, 10, h), TN_ETOOBIG);
  CHECK_INT(frame_header(10, 10, h), TN_OK);
  strbuf sb = STRBUF_INIT;
  CHECK_INT(frame_encode(&sb, "abc", 3, FRAME_MAX_DEFAULT), TN_OK);
  CHECK_INT(sb.len, 7);
  CHECK(memcmp(sb.data, "\0\0\0\3abc", 7) == 0);
  CHECK_INT(frame_encode(&sb, "abcd", 4, 3), TN_ETOOBIG);
  CHECK_INT(sb.len, 7); /* unchanged */
  strbuf_free(&sb);
}

static void test_whole_stream_at_once(void) {
  strbuf sb = STRBUF_INIT;
  build_stream(&sb);
  frame_decoder *d = frame_decoder_new(0);
  REQUIRE(d);
  CHECK_INT(frame_decoder_max(d), FRAME_MAX_DEFAULT);
  CHECK_INT(frame_decoder_feed(d, sb.data, sb.len), TN_OK);
  CHECK_INT(drain(d, 0), NFRAMES);
  CHECK_INT(frame_decoder_buffered(d), 0);
  CHECK_INT(frame_decoder_finish(d), TN_OK);
  frame_decoder_free(d);
  strbuf_free(&sb);
}

/* Two chunks, split at every byte of the stream. */
static void test_every_split_point(void) {
  strbuf sb = STRBUF_INIT;
  build_stream(&sb);
  int all_ok = 1;
  for (size_t cut = 0; cut <= sb.len; cut++) {
    frame_decoder *d = frame_decoder_new(0);
    REQUIRE(d);
    size_t got = 0;
    all_ok &= frame_decoder_feed(d, sb.data, cut) == TN_OK;
    got = drain(d, got);
    all_ok &= frame_decoder_feed(d, sb.data + cut, sb.len - cut) == TN_OK;
    got = drain(d, got);
    all_ok &= got == NFRAMES && frame_decoder_finish(d) == TN_OK;
    frame_decoder_free(d);
    if (!all_ok) {
      fprintf(stderr, "split at %zu failed\n", cut);
      break;
    }
  }
  CHECK(all_ok);
  strbuf_free(&sb);
}

/* One byte at a time, and in chunks of assorted sizes. */
static void test_small_chunks(void) {
  strbuf sb = STRBUF_INIT;
  build_stream(&sb);
  static const size_t chunk[] = {1, 2, 3, 4, 5, 7, 4096, 65537};
  for (size_t c = 0; c < sizeof chunk / sizeof chunk[0]; c++) {
    frame_decoder *d = frame_decoder_new(0);
    REQUIRE(d);
    size_t got = 0;
    for (size_t off = 0; off < sb.len; off += chunk[c]) {
      size_t n = sb.len - off < chunk[c] ? sb.len - off : chunk[c];
      REQUIRE(frame_decoder_feed(d, sb.data + off, n) == TN_OK);
      got = drain(d, got);
    }
    CHECK_INT(got, NFRAMES);
    CHECK_INT(frame_decoder_finish(d), TN_OK);
    frame_decoder_free(d);
  }
  strbuf_free(&sb);
}

/* Several whole frames fed together stay valid until the next feed. */
static void test_payloads_valid_until_feed(void) {
  strbuf sb = STRBUF_INIT;
  frame_encode(&sb, "one", 3, 100);
  frame_encode(&sb, "two", 3, 100);
  frame_decoder *d = frame_decoder_new(100);
  REQUIRE(d && frame_decoder_feed(d, sb.data, sb.len) == TN_OK);
  const uint8_t *a, *b;
  size_t na, nb;
  REQUIRE(frame_decoder_next(d, &a, &na) == TN_OK && a);
  REQUIRE(frame_decoder_next(d, &b, &nb) == TN_OK && b);
  CHECK(na == 3 && memcmp(a, "one", 3) == 0);
  CHECK(nb == 3 && memcmp(b, "two", 3) == 0);
  frame_decoder_free(d);
  strbuf_free(&sb);
}

/* An oversized length is refused as soon as its 4 header bytes arrive, without its payload. */
static void test_oversized_rejected_at_header(void) {
  frame_decoder *d = frame_decoder_new(1000);
  REQUIRE(d);
  uint8_t ok[FRAME_HEADER_LEN + 2] = {0, 0, 0, 2, 'h', 'i'};
  CHECK_INT(frame_decoder_feed(d, ok, sizeof ok), TN_OK);
  uint8_t big[FRAME_HEADER_LEN] = {0, 0, 0x03, 0xe9}; /* 1001 */
  CHECK_INT(frame_decoder_feed(d, big, 2), TN_OK);    /* half a header: not known yet */
  CHECK_INT(frame_decoder_feed(d, big + 2, 2), TN_ETOOBIG);
  CHECK(strstr(frame_decoder_error(d), "1001") != NULL);
  /* sticky: nothing more comes out, not even the frame that was whole */
  const uint8_t *p;
  size_t n;
  CHECK_INT(frame_decoder_next(d, &p, &n), TN_ETOOBIG);
  CHECK(p == NULL);
  CHECK_INT(frame_decoder_feed(d, ok, sizeof ok), TN_ETOOBIG);
  CHECK_INT(frame_decoder_finish(d), TN_ETOOBIG);
  frame_decoder_free(d);

  /* the largest possible length against the default cap */
  d = frame_decoder_new(0);
  REQUIRE(d);
  uint8_t huge[FRAME_HEADER_LEN] = {0xff, 0xff, 0xff, 0xff};
  CHECK_INT(frame_decoder_feed(d, huge, sizeof huge), TN_ETOOBIG);
  CHECK_INT(frame_decoder_buffered(d), 4); /* nothing beyond the header was accepted */
  frame_decoder_free(d);

  /* exactly the cap is fine */
  d = frame_decoder_new(3);
  strbuf sb = STRBUF_INIT;
  CHECK_INT(frame_encode(&sb, "abc", 3, 3), TN_OK);
  CHECK_INT(frame_decoder_feed(d, sb.data, sb.len), TN_OK);
  REQUIRE(frame_decoder_next(d, &p, &n) == TN_OK && p && n == 3);
  frame_decoder_free(d);
  strbuf_free(&sb);
}

/* A stream cut anywhere inside a frame is reported as truncated at EOF. */
static void test_truncated_stream(void) {
  strbuf sb = STRBUF_INIT;
  frame_encode(&sb, "hello", 5, 100);
  frame_encode(&sb, "world!", 6, 100);
  size_t boundary = FRAME_HEADER_LEN + 5;
  for (size_t cut = 0; cut <= sb.len; cut++) {
    frame_decoder *d = frame_decoder_new(100);
    REQUIRE(d);
    REQUIRE(frame_decoder_feed(d, sb.data, cut) == TN_OK);
    const uint8_t *p;
    size_t n;
    do
      REQUIRE(frame_decoder_next(d, &p, &n) == TN_OK);
    while (p);
    int expect = (cut == 0 || cut == boundary || cut == sb.len) ? TN_OK : TN_EPROTO;
    int rc = frame_decoder_finish(d);
    if (rc != expect) fprintf(stderr, "cut at %zu: %s\n", cut, frame_decoder_error(d));
    CHECK_INT(rc, expect);
    if (expect == TN_EPROTO) CHECK(strstr(frame_decoder_error(d), "stream ended inside a frame") != NULL);
    frame_decoder_free(d);
  }
  strbuf_free(&sb);
}

/* The cap is configurable and clamped to what 32 bits can say. */
static void test_cap_configuration(void) {
  frame_decoder *d = frame_decoder_new(FRAME_MAX_LIMIT + (size_t)10);
  REQUIRE(d);
  CHECK_INT(frame_decoder_max(d), FRAME_MAX_LIMIT);
  frame_decoder_free(d);
  d = frame_decoder_new(16);
  CHECK_INT(frame_decoder_max(d), 16);
  uint8_t h[FRAME_HEADER_LEN] = {0, 0, 0, 17};
  CHECK_INT(frame_decoder_feed(d, h, sizeof h), TN_ETOOBIG);
  frame_decoder_free(d);
  frame_decoder_free(NULL);
}

/* A large frame followed by small ones: the decoder keeps working after releasing its buffer. */
static void test_large_then_small(void) {
  size_t big = (size_t)1 << 20;
  char *p = malloc(big);
  REQUIRE(p);
  memset(p, 'x', big);
  strbuf sb = STRBUF_INIT;
  frame_encode(&sb, p, big, FRAME_MAX_DEFAULT);
  frame_decoder *d = frame_decoder_new(0);
  REQUIRE(frame_decoder_feed(d, sb.data, sb.len) == TN_OK);
  const uint8_t *f;
  size_t n;
  REQUIRE(frame_decoder_next(d, &f, &n) == TN_OK && f && n == big);
  CHECK(f[0] == 'x' && f[big - 1] == 'x');
  strbuf_reset(&sb);
  frame_encode(&sb, "tail", 4, FRAME_MAX_DEFAULT);
  REQUIRE(frame_decoder_feed(d, sb.data, sb.len) == TN_OK);
  REQUIRE(frame_decoder_next(d, &f, &n) == TN_OK && f && n == 4);
  CHECK(memcmp(f, "tail", 4) == 0);
  CHECK_INT(frame_decoder_buffered(d), 0);
  frame_decoder_free(d);
  strbuf_free(&sb);
  free(p);
}

int main(void) {
  RUN(test_header_big_endian);
  RUN(test_whole_stream_at_once);
  RUN(test_every_split_point);
  RUN(test_small_chunks);
  RUN(test_payloads_valid_until_feed);
  RUN(test_oversized_rejected_at_header);
  RUN(test_truncated_stream);
  RUN(test_cap_configuration);
  RUN(test_large_then_small);
  return test_report();
}
