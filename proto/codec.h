/* codec.h — Envelope messages (proto/tenet.proto) to bytes and back: the only module that calls
 * protobuf-c.
 *
 * The generated structs are used as they are (tenet.pb-c.h, generated into the build tree): build a
 * message on the stack with its INIT macro, e.g.
 *
 *   Tenet__Ack ack = TENET__ACK__INIT;
 *   ack.seq = 42;
 *   Tenet__Envelope env = TENET__ENVELOPE__INIT;
 *   env.body_case = TENET__ENVELOPE__BODY_ACK;
 *   env.ack = &ack;
 *   codec_encode_framed(&env, &out, FRAME_MAX_DEFAULT, err, sizeof err);
 *
 * and read decoded ones through their fields. Nothing outside this file calls protobuf_c_* or the
 * generated tenet__*__pack/unpack functions.
 *
 * Both directions check a message against the rules of the schema that protobuf cannot express
 * (codec_validate): a decoded message is hostile input, an encoded one would be a bug. */
#ifndef TENET_CODEC_H
#define TENET_CODEC_H

#include <stddef.h>
#include <stdint.h>

#include "strbuf.h"
#include "tenet.pb-c.h"

/* The protocol revision carried in Hello.protocol. */
#define CODEC_PROTOCOL_VERSION 1

/* Length of a hash on the wire: SHA-256 as 32 raw bytes (64 lower-case hex digits elsewhere). */
#define CODEC_HASH_LEN 32
/* Longest Hello.store_id accepted (an agent sends 32 hex digits). */
#define CODEC_STORE_ID_MAX 64

/* Point a hash field at storage filled from 64 lower-case hex digits; "" or NULL gives an empty
 * field. Returns TN_OK or TN_EPROTO (not 64 hex digits; the field is left empty). */
int codec_hash_from_hex(ProtobufCBinaryData *dst, uint8_t storage[CODEC_HASH_LEN], const char *hex);
/* The 64 hex digits of a hash field, or "" when it is empty or malformed. */
void codec_hash_to_hex(const ProtobufCBinaryData *src, char out[2 * CODEC_HASH_LEN + 1]);

/* The most elements a repeated field may carry (Hello.policies, CheckDeltas.checks,
 * PolicyList.policy_ids): a bound on the memory one frame can make the decoder allocate. Senders
 * split larger batches. */
#define CODEC_MAX_REPEATED 65536

/* The name of a body case as written in the schema ("hello", "check_deltas", ...; "none" for
 * NOT_SET, "unknown" otherwise). Static string. */
const char *codec_body_name(Tenet__Envelope__BodyCase body);

/* Who may send a message body (messages.def): CODEC_FROM_AGENT or CODEC_FROM_MANAGER; 0 for
 * NOT_SET or an unknown body. */
enum { CODEC_FROM_AGENT = 1, CODEC_FROM_MANAGER = 2 };
int codec_body_direction(Tenet__Envelope__BodyCase body);

/* The Wazuh result string of a check result: "passed", "failed", "not applicable" ("" for
 * anything else). Static string. */
const char *codec_result_name(Tenet__CheckResult result);

/* Check the rules protobuf cannot express: exactly one body is set; ids (policy ids, the Hello
 * agent id) are non-empty; hashes are CODEC_HASH_LEN bytes (a summary's
 * source_hash may also be empty); check results are PASSED, FAILED or NOT_APPLICABLE; a dump end's
 * scan_id is >= -1 and other scan ids >= 0; a bundle offer carries bytes; no repeated field holds
 * more than CODEC_MAX_REPEATED elements; no string or repeated element is NULL. Returns TN_OK, or TN_EPROTO
 * with the offending field named in err. */
int codec_validate(const Tenet__Envelope *msg, char *err, size_t errlen);

/* Validate msg (codec_validate), then append its protobuf encoding to out.
 * Returns TN_OK, TN_EPROTO (invalid message; out unchanged) or TN_ENOMEM. */
int codec_encode(const Tenet__Envelope *msg, strbuf *out, char *err, size_t errlen);

/* Like codec_encode, but append one whole frame (frame.h: 4-byte big-endian length + encoding).
 * Returns TN_OK, TN_EPROTO, TN_ETOOBIG (encoding longer than max_frame; out unchanged) or
 * TN_ENOMEM. */
int codec_encode_framed(const Tenet__Envelope *msg, strbuf *out, size_t max_frame, char *err, size_t errlen);

/* Decode hostile bytes: refuse len > max_len (TN_ETOOBIG) and repeated fields longer than
 * CODEC_MAX_REPEATED (TN_ETOOBIG, counted on the wire before anything is allocated), parse
 * (TN_EPROTO on malformed or truncated protobuf), then codec_validate (TN_EPROTO). On TN_OK *out is a new
 * message the caller frees with codec_free; on error *out is NULL and err says why. */
int codec_decode(const void *buf, size_t len, size_t max_len, Tenet__Envelope **out, char *err,
                 size_t errlen);

/* Free a message returned by codec_decode. codec_free(NULL) is a no-op. Do not pass messages built
 * by hand. */
void codec_free(Tenet__Envelope *msg);

/* A CheckDetail on its own, for the agent's store (a check's detail is kept for dumps): validated
 * like inside an envelope, then appended to out. TN_OK, TN_EPROTO or TN_ENOMEM. */
int codec_detail_encode(const Tenet__CheckDetail *d, strbuf *out, char *err, size_t errlen);
/* Decode a stored detail as hostile bytes (at most FRAME_MAX_DEFAULT bytes and
 * CODEC_MAX_REPEATED elements): TN_OK with *out to free with codec_detail_free, TN_ETOOBIG or
 * TN_EPROTO. */
int codec_detail_decode(const void *buf, size_t len, Tenet__CheckDetail **out, char *err, size_t errlen);
/* Free a detail from codec_detail_decode; NULL is a no-op. */
void codec_detail_free(Tenet__CheckDetail *d);

#endif
