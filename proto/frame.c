/* frame.c — length-prefixed frames: encoder and incremental decoder (see frame.h).
 *
 * The decoder keeps one buffer: bytes before `rpos` were handed out, bytes in [rpos, scan) are whole
 * frames whose headers were checked, bytes from `scan` on are an incomplete frame. Feeding first
 * drops the handed-out prefix, appends, then advances `scan` over every frame that became whole,
 * checking each header as soon as its four bytes are present. */
#include "frame.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"

/* A buffer bigger than this is released once drained, so an idle connection that once received a
 * large frame does not keep it. */
#define FRAME_KEEP_CAP ((size_t)64 << 10)

struct frame_decoder {
  uint8_t *buf;
  size_t len, cap;
  size_t rpos; /* first byte not yet returned by next */
  size_t scan; /* first byte of the incomplete frame (rpos <= scan <= len) */
  size_t max;
  int status; /* sticky error, TN_OK while healthy */
  char err[128];
};

static uint32_t get_be32(const uint8_t *p) {
  return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

int frame_header(size_t len, size_t max, uint8_t hdr[FRAME_HEADER_LEN]) {
  if (len > max || len > FRAME_MAX_LIMIT) return TN_ETOOBIG;
  hdr[0] = (uint8_t)(len >> 24);
  hdr[1] = (uint8_t)(len >> 16);
  hdr[2] = (uint8_t)(len >> 8);
  hdr[3] = (uint8_t)len;
  return TN_OK;
}

int frame_encode(strbuf *out, const void *payload, size_t len, size_t max) {
  uint8_t hdr[FRAME_HEADER_LEN];
  int rc = frame_header(len, max, hdr);
  if (rc != TN_OK) return rc;
  strbuf_append(out, (const char *)hdr, sizeof hdr);
  strbuf_append(out, (const char *)payload, len);
  return strbuf_ok(out) ? TN_OK : TN_ENOMEM;
}

frame_decoder *frame_decoder_new(size_t max) {
  frame_decoder *d = calloc(1, sizeof *d);
  if (!d) return NULL;
  if (max == 0) max = FRAME_MAX_DEFAULT;
  d->max = max > FRAME_MAX_LIMIT ? FRAME_MAX_LIMIT : max;
  return d;
}

void frame_decoder_free(frame_decoder *d) {
  if (!d) return;
  free(d->buf);
  free(d);
}

/* Drop the bytes already handed out. */
static void compact(frame_decoder *d) {
  if (d->rpos == 0) return;
  size_t keep = d->len - d->rpos;
  if (keep == 0 && d->cap > FRAME_KEEP_CAP) {
    free(d->buf);
    d->buf = NULL;
    d->cap = 0;
  } else if (keep) {
    memmove(d->buf, d->buf + d->rpos, keep);
  }
  d->len = keep;
  d->scan -= d->rpos;
  d->rpos = 0;
}

static int reserve(frame_decoder *d, size_t extra) {
  if (extra > SIZE_MAX - d->len) return TN_ENOMEM;
  size_t need = d->len + extra;
  if (need <= d->cap) return TN_OK;
  size_t ncap = d->cap ? d->cap : 4096;
  while (ncap < need)
    ncap = ncap > SIZE_MAX / 2 ? need : ncap * 2;
  uint8_t *n = realloc(d->buf, ncap);
  if (!n) return TN_ENOMEM;
  d->buf = n;
  d->cap = ncap;
  return TN_OK;
}

int frame_decoder_feed(frame_decoder *d, const void *data, size_t len) {
  if (d->status != TN_OK) return d->status;
  compact(d);
  if (len == 0) return TN_OK;
  if (reserve(d, len) != TN_OK) {
    snprintf(d->err, sizeof d->err, "out of memory buffering %zu bytes", len);
    return d->status = TN_ENOMEM;
  }
  memcpy(d->buf + d->len, data, len);
  d->len += len;
  while (d->len - d->scan >= FRAME_HEADER_LEN) {
    uint32_t n = get_be32(d->buf + d->scan);
    if (n > d->max) {
      snprintf(d->err, sizeof d->err, "frame of %u bytes exceeds the %zu-byte limit", (unsigned)n, d->max);
      return d->status = TN_ETOOBIG;
    }
    if (d->len - d->scan - FRAME_HEADER_LEN < n) break;
    d->scan += FRAME_HEADER_LEN + (size_t)n;
  }
  return TN_OK;
}

int frame_decoder_next(frame_decoder *d, const uint8_t **payload, size_t *len) {
  *payload = NULL;
  *len = 0;
  if (d->status != TN_OK) return d->status;
  if (d->rpos == d->scan) return TN_OK;
  size_t n = get_be32(d->buf + d->rpos);
  *payload = d->buf + d->rpos + FRAME_HEADER_LEN;
  *len = n;
  d->rpos += FRAME_HEADER_LEN + n;
  return TN_OK;
}

int frame_decoder_finish(frame_decoder *d) {
  if (d->status != TN_OK) return d->status;
  size_t partial = d->len - d->scan;
  if (partial == 0) return TN_OK;
  if (partial < FRAME_HEADER_LEN)
    snprintf(d->err, sizeof d->err, "stream ended inside a frame header (%zu of %d bytes)", partial,
             FRAME_HEADER_LEN);
  else
    snprintf(d->err, sizeof d->err, "stream ended inside a frame (%zu of %u payload bytes)",
             partial - FRAME_HEADER_LEN, (unsigned)get_be32(d->buf + d->scan));
  return d->status = TN_EPROTO;
}

size_t frame_decoder_buffered(const frame_decoder *d) { return d->len - d->rpos; }

size_t frame_decoder_max(const frame_decoder *d) { return d->max; }

const char *frame_decoder_error(const frame_decoder *d) { return d->err; }
