/* bundle_int.h — constants shared by the two halves of the bundle format: the writer
 * (compiler/bundle_write.c) and the hostile-input reader (vm/bundle_read.c). Both sides take every
 * size, offset and limit from here, so the pair cannot drift apart.
 *
 * Layout of a bundle (all integers little-endian, written field by field, no padding):
 *
 *   body     header, then sections
 *   trailer  BUNDLE_TRAILER_SIZE bytes at the very end
 *
 * Header (BUNDLE_HEADER_SIZE = 89 bytes):
 *     0  magic "TNTB"                    4
 *     4  format version (u16)            2   BUNDLE_FORMAT_VERSION
 *     6  ISA version (u16)               2   VM_ISA_VERSION
 *     8  dialect (u8)                    1   enum prog_dialect
 *     9  flags (u32)                     4   PROGF_*
 *    13  policy version (u64)            8
 *    21  expiry (i64)                    8   unix seconds, 0 = never
 *    29  source SHA-256                 32
 *    61  policy id, name, file, description, references, source name: string ids (u32 each)  24
 *    85  section count (u32)             4
 *
 * Sections, in strictly ascending type order, each: type (u32), length (u32), then `length` bytes.
 * Every section is required except BSEC_REQUIREMENTS, which is present iff the policy has
 * requirements, and BSEC_CHECK_IDS; unknown types, duplicates and out-of-order sections are corrupt.
 *     BSEC_STRINGS       the string table verbatim (strtab_len bytes; starts and ends with NUL)
 *     BSEC_REGEXES       count (u32), then count records: source (u32), dialect (u8), flags (u8),
 *                        lowered (u32)                                           10 bytes each
 *     BSEC_CHECKS        count (u32), then count check records: id (i64), title (u32),
 *                        condition (u8), code (u32), code_len (u32), meta (u32), line (u32),
 *                        description, rationale, remediation, references, condition text (u32
 *                        string ids or PROG_NONE), compliance, ncompliance, rules, nrules (u32:
 *                        ranges of the list table)                               65 bytes each
 *     BSEC_REQUIREMENTS  one check record (65 bytes)
 *     BSEC_CODE          count (u32), then count instructions: op (u8), flags (u8), x (u16), a, b,
 *                        c (u32)                                                 16 bytes each
 *     BSEC_LINES         count (u32, equal to the code count), then one u32 YAML line per instruction
 *     BSEC_LISTS         count (u32), then count u32 string ids: the compliance (key, value) pairs
 *                        and rules the check records' ranges index (format version 2)
 *     BSEC_CHECK_IDS     optional, present iff a check has a text id (a 5.x string id that is not
 *                        an integer; vm/checkid.h): count (u32), then count records: check index
 *                        (u32, strictly ascending, < the check count), text id (u32 string id; the
 *                        check record's id is its checkid_text_key)              8 bytes each
 *                        Bundles without text ids are byte-identical to those of earlier versions.
 * A section's length must equal exactly what its counts imply; the body ends right after the last
 * section.
 *
 * Trailer (BUNDLE_TRAILER_SIZE = 109 bytes):
 *     0  magic "TNTS"                    4
 *     4  bundle hash                    32   SHA-256 of the body
 *    36  signed flag (u8)                1   0 or 1
 *    37  key id                          8   zero when unsigned
 *    45  signature                      64   Ed25519 over the bundle hash; zero when unsigned */
#ifndef TENET_BUNDLE_INT_H
#define TENET_BUNDLE_INT_H

#include <stdint.h>
#include <string.h>

#include "bundle.h"

#define BUNDLE_MAGIC "TNTB"
#define BUNDLE_TRAILER_MAGIC "TNTS"
#define BUNDLE_MAGIC_LEN 4

/* Header field offsets. */
enum {
  BH_MAGIC = 0,
  BH_FORMAT = 4,
  BH_ISA = 6,
  BH_DIALECT = 8,
  BH_FLAGS = 9,
  BH_POLICY_VERSION = 13,
  BH_EXPIRY = 21,
  BH_SOURCE_SHA256 = 29,
  BH_STRING_IDS = 61, /* policy_id, policy_name, policy_file, policy_description,
                         policy_references, source_name */
  BH_NSTRING_IDS = 6,
  BH_SECTION_COUNT = 85,
  BUNDLE_HEADER_SIZE = 89
};

/* Section types (and their required order). */
enum bundle_section {
  BSEC_STRINGS = 1,
  BSEC_REGEXES = 2,
  BSEC_CHECKS = 3,
  BSEC_REQUIREMENTS = 4,
  BSEC_CODE = 5,
  BSEC_LINES = 6,
  BSEC_LISTS = 7,
  BSEC_CHECK_IDS = 8,
  BSEC__MAX = 8
};

#define BUNDLE_SECTION_HEADER_SIZE 8 /* type + length */
#define BUNDLE_COUNT_SIZE 4          /* the u32 count that opens a table section */
#define BUNDLE_REGEX_SIZE 10
#define BUNDLE_CHECK_SIZE 65
#define BUNDLE_LIST_SIZE 4
#define BUNDLE_INSN_SIZE 16
#define BUNDLE_LINE_SIZE 4
#define BUNDLE_CHECK_ID_SIZE 8

/* Trailer field offsets (relative to the trailer's start). */
enum {
  BT_MAGIC = 0,
  BT_HASH = 4,
  BT_SIGNED = 36,
  BT_KEY_ID = 37,
  BT_SIGNATURE = 45,
  BUNDLE_TRAILER_SIZE = 109
};

/* Limits the reader enforces and the writer respects (beyond BUNDLE_MAX_SIZE overall). */
#define BUNDLE_MAX_SECTIONS BSEC__MAX
#define BUNDLE_MAX_STRTAB ((uint32_t)64 << 20) /* bytes of string table */
#define BUNDLE_MAX_REGEXES ((uint32_t)1 << 20)
#define BUNDLE_MAX_CHECKS ((uint32_t)1 << 20)
#define BUNDLE_MAX_CODE ((uint32_t)1 << 24) /* instructions */
#define BUNDLE_MAX_LISTS ((uint32_t)1 << 24) /* list entries */

/* Little-endian encoding, byte by byte (no struct dumps, no host-order assumptions). */
static inline void le_put16(uint8_t *p, uint16_t v) {
  p[0] = (uint8_t)v;
  p[1] = (uint8_t)(v >> 8);
}
static inline void le_put32(uint8_t *p, uint32_t v) {
  for (int i = 0; i < 4; i++) p[i] = (uint8_t)(v >> (8 * i));
}
static inline void le_put64(uint8_t *p, uint64_t v) {
  for (int i = 0; i < 8; i++) p[i] = (uint8_t)(v >> (8 * i));
}
static inline uint16_t le_get16(const uint8_t *p) { return (uint16_t)(p[0] | (p[1] << 8)); }
static inline uint32_t le_get32(const uint8_t *p) {
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static inline uint64_t le_get64(const uint8_t *p) {
  return (uint64_t)le_get32(p) | (uint64_t)le_get32(p + 4) << 32;
}

#endif
