/* bundle_read.c — parse hostile bundle bytes into a program; the mirror of
 * compiler/bundle_write.c (each load_* reads what the dump_* of the same name wrote; the layout is
 * in bundle_int.h).
 *
 * Order of checks: size limit, magic and versions (so a newer bundle says "newer", not "corrupt"),
 * trailer magic, the bundle hash recomputed over the body (so any changed body byte is an
 * integrity error), the signature block's shape, then the structure section by section — every
 * length, count and offset checked against the bytes that remain, with arithmetic that cannot
 * overflow — and finally the bytecode (program_verify). The signature itself is checked by
 * bundle_check_signature, once the caller has chosen a key.
 *
 * Allocations are bounded by the input: a count is only believed once count × record size equals
 * the section's length, which is itself inside the input. Every corruption message names the line
 * that detected it: "corrupt bundle (bundle_read.c:N): …". */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bundle.h"
#include "bundle_int.h"
#include "err.h"

typedef struct reader {
  const uint8_t *data; /* the body */
  size_t len;          /* body length */
  size_t pos;
  char *err;
  size_t errlen;
} reader;

/* A corruption error naming the line that detected it (fmt must be a string literal). */
#define CORRUPT(fmt, ...)                                                                                    \
  tn_err_set(r->err, r->errlen, TN_ECORRUPT, "corrupt bundle (bundle_read.c:%d): " fmt, __LINE__,            \
             ##__VA_ARGS__)

/* Field readers over a range whose length the caller has already checked. */
static uint8_t get8(reader *r) { return r->data[r->pos++]; }
static uint16_t get16(reader *r) {
  uint16_t v = le_get16(r->data + r->pos);
  r->pos += 2;
  return v;
}
static uint32_t get32(reader *r) {
  uint32_t v = le_get32(r->data + r->pos);
  r->pos += 4;
  return v;
}
static uint64_t get64(reader *r) {
  uint64_t v = le_get64(r->data + r->pos);
  r->pos += 8;
  return v;
}
static void get_bytes(reader *r, void *dst, size_t n) {
  memcpy(dst, r->data + r->pos, n);
  r->pos += n;
}

static const char *section_name(uint32_t type) {
  switch (type) {
  case BSEC_STRINGS: return "string table";
  case BSEC_REGEXES: return "regex table";
  case BSEC_CHECKS: return "check table";
  case BSEC_REQUIREMENTS: return "requirements";
  case BSEC_CODE: return "code";
  case BSEC_LINES: return "line table";
  case BSEC_LISTS: return "list table";
  case BSEC_CHECK_IDS: return "check id table";
  }
  return "unknown section";
}

/* A table section is a u32 count then count records of `size` bytes; the section length `len`
 * must be exactly that. On success *count is believable (bounded by `max` and by the input). */
static int load_count(reader *r, uint32_t type, size_t len, size_t size, uint32_t max,
                      uint32_t *count) {
  if (len < BUNDLE_COUNT_SIZE)
    return CORRUPT("%s is %zu bytes, too short for its count", section_name(type), len);
  uint32_t n = get32(r);
  if (n > max) return CORRUPT("%s claims %u entries (limit %u)", section_name(type), n, max);
  if ((len - BUNDLE_COUNT_SIZE) / size != n || (len - BUNDLE_COUNT_SIZE) % size != 0)
    return CORRUPT("%s claims %u entries but holds %zu bytes for them", section_name(type), n,
                   len - BUNDLE_COUNT_SIZE);
  *count = n;
  return TN_OK;
}

static int load_header(reader *r, program *p, uint32_t *nsections) {
  r->pos = BH_DIALECT; /* magic and versions were checked before the hash */
  p->dialect = get8(r);
  p->flags = get32(r);
  p->policy_version = get64(r);
  p->expiry = (int64_t)get64(r);
  get_bytes(r, p->source_sha256, sizeof p->source_sha256);
  p->policy_id = get32(r);
  p->policy_name = get32(r);
  p->policy_file = get32(r);
  p->policy_description = get32(r);
  p->policy_references = get32(r);
  p->source_name = get32(r);
  *nsections = get32(r);
  if (*nsections > BUNDLE_MAX_SECTIONS)
    return CORRUPT("header claims %u sections (at most %u exist)", *nsections, BUNDLE_MAX_SECTIONS);
  return TN_OK;
}

static int load_strings(reader *r, program *p, size_t len) {
  if (len == 0) return CORRUPT("string table is empty (string 0 must be \"\")");
  if (len > BUNDLE_MAX_STRTAB)
    return CORRUPT("string table of %zu bytes (limit %u)", len, BUNDLE_MAX_STRTAB);
  if (r->data[r->pos] != '\0') return CORRUPT("string table does not start with the empty string");
  if (r->data[r->pos + len - 1] != '\0') return CORRUPT("string table does not end in NUL");
  p->strtab = malloc(len);
  if (!p->strtab) return tn_err_set(r->err, r->errlen, TN_ENOMEM, "out of memory (%zu bytes)", len);
  get_bytes(r, p->strtab, len);
  p->strtab_len = (uint32_t)len;
  return TN_OK;
}

static int load_regexes(reader *r, program *p, size_t len) {
  uint32_t n;
  int rc = load_count(r, BSEC_REGEXES, len, BUNDLE_REGEX_SIZE, BUNDLE_MAX_REGEXES, &n);
  if (rc != TN_OK || n == 0) return rc;
  p->regexes = calloc(n, sizeof *p->regexes);
  if (!p->regexes) return tn_err_set(r->err, r->errlen, TN_ENOMEM, "out of memory (%u regexes)", n);
  p->nregexes = n;
  for (uint32_t i = 0; i < n; i++) {
    prog_regex *x = &p->regexes[i];
    x->source = get32(r);
    x->dialect = get8(r);
    x->flags = get8(r);
    x->lowered = get32(r);
  }
  return TN_OK;
}

static void load_check(reader *r, prog_check *c) {
  c->id = (int64_t)get64(r);
  c->title = get32(r);
  c->condition = get8(r);
  c->code = get32(r);
  c->code_len = get32(r);
  c->meta = get32(r);
  c->line = get32(r);
  c->description = get32(r);
  c->rationale = get32(r);
  c->remediation = get32(r);
  c->references = get32(r);
  c->condition_text = get32(r);
  c->compliance = get32(r);
  c->ncompliance = get32(r);
  c->rules = get32(r);
  c->nrules = get32(r);
  c->text_id = PROG_NONE; /* BSEC_CHECK_IDS sets it */
}

static int load_checks(reader *r, program *p, size_t len) {
  uint32_t n;
  int rc = load_count(r, BSEC_CHECKS, len, BUNDLE_CHECK_SIZE, BUNDLE_MAX_CHECKS, &n);
  if (rc != TN_OK || n == 0) return rc;
  p->checks = calloc(n, sizeof *p->checks);
  if (!p->checks) return tn_err_set(r->err, r->errlen, TN_ENOMEM, "out of memory (%u checks)", n);
  p->nchecks = n;
  for (uint32_t i = 0; i < n; i++) load_check(r, &p->checks[i]);
  return TN_OK;
}

static int load_requirements(reader *r, program *p, size_t len) {
  if (len != BUNDLE_CHECK_SIZE)
    return CORRUPT("requirements section is %zu bytes, not %d", len, BUNDLE_CHECK_SIZE);
  load_check(r, &p->requirements);
  p->has_requirements = 1;
  return TN_OK;
}

static int load_code(reader *r, program *p, size_t len) {
  uint32_t n;
  int rc = load_count(r, BSEC_CODE, len, BUNDLE_INSN_SIZE, BUNDLE_MAX_CODE, &n);
  if (rc != TN_OK || n == 0) return rc;
  p->code = calloc(n, sizeof *p->code);
  if (!p->code) return tn_err_set(r->err, r->errlen, TN_ENOMEM, "out of memory (%u instructions)", n);
  p->ncode = n;
  for (uint32_t i = 0; i < n; i++) {
    insn *in = &p->code[i];
    in->op = get8(r);
    in->flags = get8(r);
    in->x = get16(r);
    in->a = get32(r);
    in->b = get32(r);
    in->c = get32(r);
  }
  return TN_OK;
}

static int load_lines(reader *r, program *p, size_t len) {
  uint32_t n;
  int rc = load_count(r, BSEC_LINES, len, BUNDLE_LINE_SIZE, BUNDLE_MAX_CODE, &n);
  if (rc != TN_OK) return rc;
  if (n != p->ncode)
    return CORRUPT("line table has %u entries for %u instructions", n, p->ncode);
  if (n == 0) return TN_OK;
  p->lines = calloc(n, sizeof *p->lines);
  if (!p->lines) return tn_err_set(r->err, r->errlen, TN_ENOMEM, "out of memory (%u lines)", n);
  for (uint32_t i = 0; i < n; i++) p->lines[i] = get32(r);
  return TN_OK;
}

static int load_lists(reader *r, program *p, size_t len) {
  uint32_t n;
  int rc = load_count(r, BSEC_LISTS, len, BUNDLE_LIST_SIZE, BUNDLE_MAX_LISTS, &n);
  if (rc != TN_OK || n == 0) return rc;
  p->lists = calloc(n, sizeof *p->lists);
  if (!p->lists) return tn_err_set(r->err, r->errlen, TN_ENOMEM, "out of memory (%u list entries)", n);
  p->nlists = n;
  for (uint32_t i = 0; i < n; i++)
    p->lists[i] = get32(r);
  return TN_OK;
}

/* The text ids of the checks that have one (program_verify_fields then checks each string id and
 * that the check's id is its key). */
static int load_check_ids(reader *r, program *p, size_t len) {
  uint32_t n;
  int rc = load_count(r, BSEC_CHECK_IDS, len, BUNDLE_CHECK_ID_SIZE, BUNDLE_MAX_CHECKS, &n);
  if (rc != TN_OK) return rc;
  if (n == 0) return CORRUPT("check id table is empty (it is written only when a check has a text id)");
  uint32_t prev = 0;
  for (uint32_t i = 0; i < n; i++) {
    uint32_t idx = get32(r), text = get32(r);
    if (idx >= p->nchecks) return CORRUPT("check id table entry %u: check %u of %u", i, idx, p->nchecks);
    if (i && idx <= prev) return CORRUPT("check id table entry %u: check %u not after %u", i, idx, prev);
    if (text == 0 || text == PROG_NONE) return CORRUPT("check id table entry %u: empty text id", i);
    p->checks[idx].text_id = text;
    prev = idx;
  }
  return TN_OK;
}

int bundle_policy_id_check(const char *id, char *why, size_t cap) {
  size_t n = strlen(id);
  if (n == 0) return tn_err_set(why, cap, TN_ECORRUPT, "policy id is empty");
  if (n > BUNDLE_POLICY_ID_MAX)
    return tn_err_set(why, cap, TN_ECORRUPT, "policy id of %zu bytes (at most %d)", n, BUNDLE_POLICY_ID_MAX);
  for (size_t i = 0; i < n; i++) {
    unsigned char ch = (unsigned char)id[i];
    int alnum = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9');
    if (alnum || ch == '_' || (i > 0 && (ch == '.' || ch == '-'))) continue;
    return tn_err_set(why, cap, TN_ECORRUPT,
                      "policy id has the byte 0x%02x at offset %zu (allowed: letters, digits, '_', and '.' "
                      "or '-' after the first byte)",
                      ch, i);
  }
  return TN_OK;
}

/* The metadata fields of the check records (program_verify_fields), once every section is loaded,
 * and the policy id (bundle_policy_id_check). */
static int load_fields(reader *r, const program *p) {
  char why[256];
  if (program_verify_fields(p, why, sizeof why) != TN_OK) return CORRUPT("%s", why);
  if (p->policy_id >= p->strtab_len) return CORRUPT("policy id: bad string id %u", p->policy_id);
  if (bundle_policy_id_check(program_str(p, p->policy_id), why, sizeof why) != TN_OK) return CORRUPT("%s", why);
  return TN_OK;
}

/* Sections in strictly ascending type order, each inside the body, the last one ending it. */
static int load_sections(reader *r, program *p, uint32_t nsections) {
  uint32_t last = 0, seen = 0;
  for (uint32_t s = 0; s < nsections; s++) {
    if (r->len - r->pos < BUNDLE_SECTION_HEADER_SIZE)
      return CORRUPT("section %u of %u: header runs past the end of the body", s + 1, nsections);
    uint32_t type = get32(r);
    size_t len = get32(r);
    if (type == 0 || type > BSEC__MAX) return CORRUPT("unknown section type %u", type);
    if (type <= last)
      return CORRUPT("%s section %s", section_name(type),
                     type == last ? "appears twice" : "out of order");
    if (len > r->len - r->pos)
      return CORRUPT("%s (%zu bytes) runs past the end of the body (%zu bytes left)",
                     section_name(type), len, r->len - r->pos);
    size_t end = r->pos + len;
    int rc = TN_OK;
    switch (type) {
    case BSEC_STRINGS: rc = load_strings(r, p, len); break;
    case BSEC_REGEXES: rc = load_regexes(r, p, len); break;
    case BSEC_CHECKS: rc = load_checks(r, p, len); break;
    case BSEC_REQUIREMENTS: rc = load_requirements(r, p, len); break;
    case BSEC_CODE: rc = load_code(r, p, len); break;
    case BSEC_LINES: rc = load_lines(r, p, len); break;
    case BSEC_LISTS: rc = load_lists(r, p, len); break;
    case BSEC_CHECK_IDS: rc = load_check_ids(r, p, len); break;
    }
    if (rc != TN_OK) return rc;
    if (r->pos != end) /* each loader consumes exactly its length; defence in depth */
      return CORRUPT("%s: read %zu bytes of %zu", section_name(type), r->pos - (end - len), len);
    last = type;
    seen |= 1u << type;
  }
  if (r->pos != r->len)
    return CORRUPT("%zu bytes after the last section", r->len - r->pos);
  static const uint32_t required[] = {BSEC_STRINGS, BSEC_REGEXES, BSEC_CHECKS,
                                      BSEC_CODE,    BSEC_LINES,   BSEC_LISTS};
  for (size_t i = 0; i < sizeof required / sizeof required[0]; i++)
    if (!(seen & (1u << required[i])))
      return CORRUPT("missing %s section", section_name(required[i]));
  return TN_OK;
}

/* The trailer's signature block: signed flag 0 or 1; an unsigned bundle has zero key id and
 * signature (so there is exactly one encoding of "unsigned"). */
static int load_trailer(reader *r, const uint8_t *t, bundle_info *info) {
  uint8_t flag = t[BT_SIGNED];
  if (flag > 1) return CORRUPT("signed flag is %u (0 or 1 expected)", flag);
  memcpy(info->key_id, t + BT_KEY_ID, CRYPTO_KEYID_LEN);
  memcpy(info->signature, t + BT_SIGNATURE, CRYPTO_ED25519_SIG_LEN);
  if (!flag) {
    for (size_t i = BT_KEY_ID; i < BUNDLE_TRAILER_SIZE; i++)
      if (t[i]) return CORRUPT("unsigned bundle carries a key id or signature");
  }
  info->is_signed = flag;
  return TN_OK;
}

int bundle_read(const uint8_t *data, size_t len, program **out, bundle_info *info, char *err,
                size_t errlen) {
  *out = NULL;
  memset(info, 0, sizeof *info);
  if (len > BUNDLE_MAX_SIZE)
    return tn_err_set(err, errlen, TN_ETOOBIG, "bundle of %zu bytes exceeds the limit of %zu bytes", len,
                      BUNDLE_MAX_SIZE);
  reader rr = {data, 0, 0, err, errlen}, *r = &rr;
  if (!data || len < (size_t)BUNDLE_HEADER_SIZE + BUNDLE_TRAILER_SIZE)
    return CORRUPT("%zu bytes is too short for a bundle (header and trailer take %d)", len,
                   BUNDLE_HEADER_SIZE + BUNDLE_TRAILER_SIZE);
  if (memcmp(data + BH_MAGIC, BUNDLE_MAGIC, BUNDLE_MAGIC_LEN) != 0)
    return CORRUPT("bad magic: not a Tenet bundle");
  info->format_version = le_get16(data + BH_FORMAT);
  info->isa_version = le_get16(data + BH_ISA);
  if (info->format_version != BUNDLE_FORMAT_VERSION)
    return tn_err_set(err, errlen, TN_EVERSION,
                      "bundle format version %u is %s than the supported version %u", info->format_version,
                      info->format_version > BUNDLE_FORMAT_VERSION ? "newer" : "older",
                      BUNDLE_FORMAT_VERSION);
  if (info->isa_version != VM_ISA_VERSION)
    return tn_err_set(err, errlen, TN_EVERSION, "bundle ISA version %u is %s than this VM's ISA version %u",
                      info->isa_version, info->isa_version > VM_ISA_VERSION ? "newer" : "older",
                      VM_ISA_VERSION);

  const uint8_t *t = data + len - BUNDLE_TRAILER_SIZE;
  if (memcmp(t + BT_MAGIC, BUNDLE_TRAILER_MAGIC, BUNDLE_MAGIC_LEN) != 0)
    return CORRUPT("bad trailer magic (truncated or extended bundle?)");
  rr.len = info->body_len = len - BUNDLE_TRAILER_SIZE;
  crypto_sha256(data, info->body_len, info->bundle_hash);
  if (memcmp(info->bundle_hash, t + BT_HASH, CRYPTO_SHA256_LEN) != 0) {
    char want[2 * CRYPTO_SHA256_LEN + 1], got[2 * CRYPTO_SHA256_LEN + 1];
    crypto_hex(t + BT_HASH, CRYPTO_SHA256_LEN, want);
    crypto_hex(info->bundle_hash, CRYPTO_SHA256_LEN, got);
    return tn_err_set(err, errlen, TN_EINTEGRITY,
                      "bundle hash does not match its body (recorded %.16s..., computed %.16s...)", want,
                      got);
  }
  int rc = load_trailer(r, t, info);
  if (rc != TN_OK) return rc;

  program *p = calloc(1, sizeof *p);
  if (!p) return tn_err_set(err, errlen, TN_ENOMEM, "out of memory");
  uint32_t nsections = 0;
  rc = load_header(r, p, &nsections);
  if (rc == TN_OK) rc = load_sections(r, p, nsections);
  if (rc == TN_OK) rc = load_fields(r, p);
  if (rc == TN_OK) rc = program_verify(p, err, errlen);
  if (rc != TN_OK) {
    program_free(p);
    return rc;
  }
  *out = p;
  return TN_OK;
}

int bundle_file_load(const char *path, uint8_t **data, size_t *len_out, char *err, size_t errlen) {
  *data = NULL;
  *len_out = 0;
  /* O_NONBLOCK: a FIFO named like a bundle must not hang the caller, in open() (no writer) or in
   * read() (a writer that never writes: EAGAIN, an error below). A regular file ignores the flag. */
  int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
  if (fd < 0) return tn_err_set(err, errlen, TN_EIO, "cannot open %s: %s", path, strerror(errno));
  /* Read at most BUNDLE_MAX_SIZE + 1 bytes: one more than allowed proves the file is too big,
   * whatever kind of file it is (st_size is only a hint). */
  size_t cap = 0, len = 0;
  struct stat st;
  uint8_t *buf = NULL;
  int rc = TN_OK;
  int regular = fstat(fd, &st) == 0 && S_ISREG(st.st_mode);
  if (regular && (uint64_t)st.st_size > BUNDLE_MAX_SIZE) {
    rc = tn_err_set(err, errlen, TN_ETOOBIG, "%s: %lld bytes exceeds the bundle limit of %zu bytes", path,
                    (long long)st.st_size, BUNDLE_MAX_SIZE);
    goto done;
  }
  cap = regular && st.st_size > 0 ? (size_t)st.st_size + 1 : 65536;
  buf = malloc(cap);
  if (!buf) {
    rc = tn_err_set(err, errlen, TN_ENOMEM, "out of memory");
    goto done;
  }
  for (;;) {
    if (len == cap) {
      if (cap > BUNDLE_MAX_SIZE) {
        rc = tn_err_set(err, errlen, TN_ETOOBIG, "%s: larger than the bundle limit of %zu bytes", path,
                        BUNDLE_MAX_SIZE);
        goto done;
      }
      size_t ncap = cap * 2 > BUNDLE_MAX_SIZE + 1 ? BUNDLE_MAX_SIZE + 1 : cap * 2;
      uint8_t *n = realloc(buf, ncap);
      if (!n) {
        rc = tn_err_set(err, errlen, TN_ENOMEM, "out of memory");
        goto done;
      }
      buf = n;
      cap = ncap;
    }
    ssize_t got = read(fd, buf + len, cap - len);
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) {
      rc = tn_err_set(err, errlen, TN_EIO, "cannot read %s: %s", path, strerror(errno));
      goto done;
    }
    if (got == 0) break;
    len += (size_t)got;
  }
done:
  close(fd);
  if (rc != TN_OK) {
    free(buf);
    return rc;
  }
  *data = buf;
  *len_out = len;
  return TN_OK;
}

int bundle_read_file(const char *path, program **out, bundle_info *info, char *err, size_t errlen) {
  *out = NULL;
  memset(info, 0, sizeof *info);
  uint8_t *buf;
  size_t len;
  int rc = bundle_file_load(path, &buf, &len, err, errlen);
  if (rc != TN_OK) return rc;
  rc = bundle_read(buf, len, out, info, err, errlen);
  free(buf);
  return rc;
}

int bundle_check_signature(const bundle_info *info, const crypto_key *pub, char *err,
                           size_t errlen) {
  if (!info->is_signed) return tn_err_set(err, errlen, TN_EUNSIGNED, "bundle is not signed");
  uint8_t want[CRYPTO_KEYID_LEN];
  crypto_key_id(pub, want);
  if (memcmp(want, info->key_id, CRYPTO_KEYID_LEN) != 0) {
    char a[2 * CRYPTO_KEYID_LEN + 1], b[2 * CRYPTO_KEYID_LEN + 1];
    crypto_hex(info->key_id, CRYPTO_KEYID_LEN, a);
    crypto_hex(want, CRYPTO_KEYID_LEN, b);
    return tn_err_set(err, errlen, TN_EUNTRUSTED, "bundle is signed by key %s, not by the trusted key %s", a,
                      b);
  }
  if (crypto_verify(pub, info->bundle_hash, CRYPTO_SHA256_LEN, info->signature) != TN_OK) {
    char a[2 * CRYPTO_KEYID_LEN + 1];
    crypto_hex(info->key_id, CRYPTO_KEYID_LEN, a);
    return tn_err_set(err, errlen, TN_ESIGNATURE, "bundle signature does not verify with key %s", a);
  }
  return TN_OK;
}
