/* frame.h — length-prefixed frames: a 4-byte big-endian payload length, then the payload.
 *
 * The encoder refuses payloads above a cap; the incremental decoder accepts the byte stream in
 * chunks of any size (whatever a non-blocking read returned), yields whole frames, refuses a frame
 * as soon as its header announces more than the cap (before buffering it), and reports a stream
 * that ends inside a frame. Frames carry bytes; what is inside them is codec.h's business. */
#ifndef TENET_FRAME_H
#define TENET_FRAME_H

#include <stddef.h>
#include <stdint.h>

#include "strbuf.h"

#define FRAME_HEADER_LEN 4
/* The default cap on a payload: 4 MiB. */
#define FRAME_MAX_DEFAULT ((size_t)4 << 20)
/* The largest cap the 32-bit length field can express. */
#define FRAME_MAX_LIMIT ((size_t)UINT32_MAX)

/* Fill hdr with the header of a len-byte payload. Returns TN_OK, or TN_ETOOBIG when len > max
 * (or len > FRAME_MAX_LIMIT). */
int frame_header(size_t len, size_t max, uint8_t hdr[FRAME_HEADER_LEN]);

/* Append one frame (header + payload) to out. Returns TN_OK, TN_ETOOBIG (len > max; out
 * unchanged) or TN_ENOMEM. */
int frame_encode(strbuf *out, const void *payload, size_t len, size_t max);

typedef struct frame_decoder frame_decoder; /* opaque */

/* A decoder for frames of at most max payload bytes (0: FRAME_MAX_DEFAULT; values above
 * FRAME_MAX_LIMIT are clamped). NULL when out of memory. Free with frame_decoder_free. */
frame_decoder *frame_decoder_new(size_t max);
void frame_decoder_free(frame_decoder *d);

/* Add len bytes of the stream (copied). Every frame header that becomes complete is checked at
 * once. Returns TN_OK, TN_ETOOBIG (a header announces a payload above the cap) or TN_ENOMEM.
 * Errors are sticky: the stream cannot be resynchronised, so the connection should be closed.
 * Feed what one read returned, then drain with frame_decoder_next. */
int frame_decoder_feed(frame_decoder *d, const void *data, size_t len);

/* Take the next whole frame. Returns TN_OK with *payload and *len set, TN_OK with *payload = NULL
 * and *len = 0 when no whole frame is buffered yet, or the sticky error. *payload points into the
 * decoder and stays valid until the next frame_decoder_feed or frame_decoder_free. */
int frame_decoder_next(frame_decoder *d, const uint8_t **payload, size_t *len);

/* At end of stream: TN_OK when the stream ended on a frame boundary, TN_EPROTO when it ended
 * inside a frame header or payload (truncated), or the sticky error. Frames not yet taken with
 * frame_decoder_next are not an error. */
int frame_decoder_finish(frame_decoder *d);

/* Bytes buffered and not yet returned by frame_decoder_next. */
size_t frame_decoder_buffered(const frame_decoder *d);

/* The cap of this decoder. */
size_t frame_decoder_max(const frame_decoder *d);

/* A sentence describing the last error ("" when none). Owned by the decoder. */
const char *frame_decoder_error(const frame_decoder *d);

#endif
