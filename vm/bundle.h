/* bundle.h — the signed bundle format: writer (compiler/bundle_write.c) and reader
 * (vm/bundle_read.c) are mirrored pairs; review them together.
 *
 * Layout (little-endian, field by field, no padding; byte offsets and record sizes in
 * vm/bundle_int.h), everything before the trailer is the "body":
 *   header   (89 bytes) magic "TNTB", format version (u16), ISA version (u16), dialect (u8),
 *            flags (u32), policy version (u64), expiry (i64), source SHA-256 (32 bytes), policy
 *            id/name/file/description/references/source-name string ids (u32 each), section count (u32)
 *   sections (type u32, length u32, bytes) in this order, each exactly as long as its counts say:
 *            1 strings (the table verbatim), 2 regexes (count + 10-byte records), 3 checks (count +
 *            65-byte records), 4 requirements (one check record; only when the policy has them),
 *            5 code (count + 16-byte instructions), 6 lines (count = code count, u32 each),
 *            7 lists (count + u32 string ids: the checks' compliance pairs and rules),
 *            8 check ids (optional, only when a check has a 5.x text id: count + 8-byte records)
 *   trailer  (109 bytes) magic "TNTS", bundle hash (32: SHA-256 of the body), signed flag (u8),
 *            key id (8), signature (64: Ed25519 over the bundle hash; key id and signature are zero
 *            when unsigned)
 * The reader treats the bytes as hostile: magic and versions first (TN_EVERSION for another format
 * or ISA), then the hash (TN_EINTEGRITY), then every count bounded and every length and offset
 * checked, then the bytecode verified (program_verify) — corruption errors name the line of the
 * check that caught it. */
#ifndef TENET_BUNDLE_H
#define TENET_BUNDLE_H

#include <stddef.h>
#include <stdint.h>

#include "crypto.h"
#include "program.h"

/* 2: check records carry the metadata as fields (description ... rules) and a list table */
#define BUNDLE_FORMAT_VERSION 2
#define BUNDLE_MAX_SIZE ((size_t)256 << 20)

typedef struct bundle_info {
  uint16_t format_version;
  uint16_t isa_version;
  uint8_t bundle_hash[CRYPTO_SHA256_LEN]; /* SHA-256 of the body (recomputed and checked on read) */
  int is_signed;
  uint8_t key_id[CRYPTO_KEYID_LEN];
  uint8_t signature[CRYPTO_ED25519_SIG_LEN];
  size_t body_len;
} bundle_info;

/* Policy ids: 1 to BUNDLE_POLICY_ID_MAX bytes of [A-Za-z0-9_.-], the first a letter, a digit or
 * '_'. Every policy id of the published Wazuh policies fits (the longest has 30 bytes). The
 * compiler refuses other ids (an error at the id's line:col), bundle_write and bundle_read refuse
 * bundles that carry one, and the agent refuses offers naming one; so an id is a file name as it
 * is (far below NAME_MAX) and fits every buffer and column of the daemons whole. */
#define BUNDLE_POLICY_ID_MAX 128
/* TN_OK when id is a valid policy id, else TN_ECORRUPT with why ("policy id of 300 bytes (at
 * most 128)", "policy id has the byte 0x2f at offset 3 (...)"). */
int bundle_policy_id_check(const char *id, char *why, size_t cap);

/* Serialise p (deterministic: same program, same bytes); sign with key when not NULL.
 * *out is malloc'd (caller frees). Returns TN_OK, TN_ECORRUPT (p fails program_verify: the writer
 * never emits a bundle the reader would reject), TN_ETOOBIG, TN_EKEY or TN_ENOMEM, with a message
 * in err. */
int bundle_write(const program *p, const crypto_key *key, uint8_t **out, size_t *outlen, char *err,
                 size_t errlen);
/* The bundle hash of bytes bundle_write just produced (read from its trailer: trusted bytes only;
 * untrusted bundles go through bundle_read). Returns TN_OK, or TN_ECORRUPT when len is too short
 * to hold a trailer. */
int bundle_written_hash(const uint8_t *data, size_t len, uint8_t out[CRYPTO_SHA256_LEN]);

/* Parse hostile bytes into a program (caller frees with program_free) and fill info. Checks the
 * structure, the bundle hash and the bytecode; does not check the signature (see below).
 * Returns TN_OK, TN_ECORRUPT, TN_EVERSION, TN_EINTEGRITY, TN_ETOOBIG or TN_ENOMEM, with a message
 * in err. */
int bundle_read(const uint8_t *data, size_t len, program **out, bundle_info *info, char *err,
                size_t errlen);
/* Read a bundle file's bytes, bounded by BUNDLE_MAX_SIZE, without parsing them: *data is malloc'd
 * (caller frees). The file is opened non-blocking: a FIFO never hangs the caller (with no data
 * ready it reads as empty or fails with EAGAIN). Callers that want regular files only (the
 * agent's bundle directory) check with stat first. TN_OK, TN_EIO, TN_ETOOBIG or TN_ENOMEM with a
 * message in err. */
int bundle_file_load(const char *path, uint8_t **data, size_t *len, char *err, size_t errlen);
/* Read a bundle file (bundle_file_load) and parse it as bundle_read does; TN_EIO when the file
 * cannot be read. */
int bundle_read_file(const char *path, program **out, bundle_info *info, char *err, size_t errlen);
/* Check an already-read bundle's signature with a trusted public key: TN_OK, TN_EUNSIGNED,
 * TN_EUNTRUSTED (signed by another key) or TN_ESIGNATURE. */
int bundle_check_signature(const bundle_info *info, const crypto_key *pub, char *err, size_t errlen);

/* The bytecode verifier (vm/verify.c; mirror of compiler/emit): every opcode known, every operand
 * in range (strings, regexes, jumps and matcher addresses inside the check's own code range),
 * matchers well formed and ended by MEND, rules only in a check's main part. TN_OK or TN_ECORRUPT. */
int program_verify(const program *p, char *err, size_t errlen);

#endif
