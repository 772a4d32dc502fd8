/* bundle_write.c — serialise a program into a (signed) bundle; the mirror of vm/bundle_read.c.
 *
 * The layout is documented once, in vm/bundle_int.h; each dump_* function here has a load_* twin
 * in bundle_read.c that reads the same fields in the same order. Output is deterministic: every
 * integer is written byte by byte in little-endian order, there is no padding, no timestamp and
 * nothing taken from uninitialised memory, so the same program always gives the same bytes.
 *
 * The writer refuses what the reader would reject: the program must pass program_verify and fit
 * the format's limits, so a bundle that leaves the compiler always loads. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bundle.h"
#include "bundle_int.h"
#include "err.h"

typedef struct writer {
  uint8_t *buf; /* exactly `size` bytes, computed up front */
  size_t size;
  size_t pos;
} writer;

static void put8(writer *w, uint8_t v) { w->buf[w->pos++] = v; }
static void put16(writer *w, uint16_t v) {
  le_put16(w->buf + w->pos, v);
  w->pos += 2;
}
static void put32(writer *w, uint32_t v) {
  le_put32(w->buf + w->pos, v);
  w->pos += 4;
}
static void put64(writer *w, uint64_t v) {
  le_put64(w->buf + w->pos, v);
  w->pos += 8;
}
static void put_bytes(writer *w, const void *src, size_t n) {
  if (n) memcpy(w->buf + w->pos, src, n);
  w->pos += n;
}

/* Section payload sizes (without the 8-byte section header). */
static size_t strings_size(const program *p) { return p->strtab_len; }
static size_t regexes_size(const program *p) {
  return BUNDLE_COUNT_SIZE + (size_t)p->nregexes * BUNDLE_REGEX_SIZE;
}
static size_t checks_size(const program *p) {
  return BUNDLE_COUNT_SIZE + (size_t)p->nchecks * BUNDLE_CHECK_SIZE;
}
static size_t code_size(const program *p) {
  return BUNDLE_COUNT_SIZE + (size_t)p->ncode * BUNDLE_INSN_SIZE;
}
static size_t lines_size(const program *p) {
  return BUNDLE_COUNT_SIZE + (size_t)p->ncode * BUNDLE_LINE_SIZE;
}
static size_t lists_size(const program *p) {
  return BUNDLE_COUNT_SIZE + (size_t)p->nlists * BUNDLE_LIST_SIZE;
}
static int has_text_id(const prog_check *c) { return c->text_id != PROG_NONE && c->text_id != 0; }
/* Checks with a text id: the optional BSEC_CHECK_IDS section is written iff there is one. */
static uint32_t text_ids(const program *p) {
  uint32_t n = 0;
  for (uint32_t i = 0; i < p->nchecks; i++) n += (uint32_t)has_text_id(&p->checks[i]);
  return n;
}
static size_t check_ids_size(const program *p) {
  return BUNDLE_COUNT_SIZE + (size_t)text_ids(p) * BUNDLE_CHECK_ID_SIZE;
}

static void dump_header(writer *w, const program *p, uint32_t nsections) {
  put_bytes(w, BUNDLE_MAGIC, BUNDLE_MAGIC_LEN);
  put16(w, BUNDLE_FORMAT_VERSION);
  put16(w, VM_ISA_VERSION);
  put8(w, p->dialect);
  put32(w, p->flags);
  put64(w, p->policy_version);
  put64(w, (uint64_t)p->expiry);
  put_bytes(w, p->source_sha256, sizeof p->source_sha256);
  put32(w, p->policy_id);
  put32(w, p->policy_name);
  put32(w, p->policy_file);
  put32(w, p->policy_description);
  put32(w, p->policy_references);
  put32(w, p->source_name);
  put32(w, nsections);
}

static void dump_section(writer *w, uint32_t type, size_t len) {
  put32(w, type);
  put32(w, (uint32_t)len);
}

static void dump_strings(writer *w, const program *p) {
  dump_section(w, BSEC_STRINGS, strings_size(p));
  put_bytes(w, p->strtab, p->strtab_len);
}

static void dump_regexes(writer *w, const program *p) {
  dump_section(w, BSEC_REGEXES, regexes_size(p));
  put32(w, p->nregexes);
  for (uint32_t i = 0; i < p->nregexes; i++) {
    const prog_regex *r = &p->regexes[i];
    put32(w, r->source);
    put8(w, r->dialect);
    put8(w, r->flags);
    put32(w, r->lowered);
  }
}

static void dump_check(writer *w, const prog_check *c) {
  put64(w, (uint64_t)c->id);
  put32(w, c->title);
  put8(w, c->condition);
  put32(w, c->code);
  put32(w, c->code_len);
  put32(w, c->meta);
  put32(w, c->line);
  put32(w, c->description);
  put32(w, c->rationale);
  put32(w, c->remediation);
  put32(w, c->references);
  put32(w, c->condition_text);
  put32(w, c->compliance);
  put32(w, c->ncompliance);
  put32(w, c->rules);
  put32(w, c->nrules);
}

static void dump_checks(writer *w, const program *p) {
  dump_section(w, BSEC_CHECKS, checks_size(p));
  put32(w, p->nchecks);
  for (uint32_t i = 0; i < p->nchecks; i++) dump_check(w, &p->checks[i]);
}

static void dump_requirements(writer *w, const program *p) {
  dump_section(w, BSEC_REQUIREMENTS, BUNDLE_CHECK_SIZE);
  dump_check(w, &p->requirements);
}

static void dump_code(writer *w, const program *p) {
  dump_section(w, BSEC_CODE, code_size(p));
  put32(w, p->ncode);
  for (uint32_t i = 0; i < p->ncode; i++) {
    const insn *in = &p->code[i];
    put8(w, in->op);
    put8(w, in->flags);
    put16(w, in->x);
    put32(w, in->a);
    put32(w, in->b);
    put32(w, in->c);
  }
}

static void dump_lines(writer *w, const program *p) {
  dump_section(w, BSEC_LINES, lines_size(p));
  put32(w, p->ncode);
  for (uint32_t i = 0; i < p->ncode; i++) put32(w, p->lines[i]);
}

static void dump_lists(writer *w, const program *p) {
  dump_section(w, BSEC_LISTS, lists_size(p));
  put32(w, p->nlists);
  for (uint32_t i = 0; i < p->nlists; i++)
    put32(w, p->lists[i]);
}

static void dump_check_ids(writer *w, const program *p) {
  dump_section(w, BSEC_CHECK_IDS, check_ids_size(p));
  put32(w, text_ids(p));
  for (uint32_t i = 0; i < p->nchecks; i++)
    if (has_text_id(&p->checks[i])) {
      put32(w, i);
      put32(w, p->checks[i].text_id);
    }
}

/* The trailer: hash of the body written so far, then the signature block. */
static int dump_trailer(writer *w, const crypto_key *key, char *err, size_t errlen) {
  uint8_t hash[CRYPTO_SHA256_LEN], keyid[CRYPTO_KEYID_LEN] = {0}, sig[CRYPTO_ED25519_SIG_LEN] = {0};
  crypto_sha256(w->buf, w->pos, hash);
  if (key) {
    if (crypto_sign(key, hash, sizeof hash, sig) != TN_OK)
      return tn_err_set(err, errlen, TN_EKEY, "cannot sign the bundle: the key is not a private Ed25519 key");
    crypto_key_id(key, keyid);
  }
  put_bytes(w, BUNDLE_TRAILER_MAGIC, BUNDLE_MAGIC_LEN);
  put_bytes(w, hash, sizeof hash);
  put8(w, key ? 1 : 0);
  put_bytes(w, keyid, sizeof keyid);
  put_bytes(w, sig, sizeof sig);
  return TN_OK;
}

int bundle_write(const program *p, const crypto_key *key, uint8_t **out, size_t *outlen, char *err,
                 size_t errlen) {
  *out = NULL;
  *outlen = 0;
  int rc = program_verify(p, err, errlen);
  if (rc == TN_OK) rc = program_verify_fields(p, err, errlen);
  if (rc == TN_OK) rc = bundle_policy_id_check(program_str(p, p->policy_id), err, errlen);
  if (rc != TN_OK) return rc;
  if (p->strtab_len > BUNDLE_MAX_STRTAB)
    return tn_err_set(err, errlen, TN_ETOOBIG, "string table of %u bytes exceeds the bundle limit of %u",
                      p->strtab_len, BUNDLE_MAX_STRTAB);
  if (p->nregexes > BUNDLE_MAX_REGEXES)
    return tn_err_set(err, errlen, TN_ETOOBIG, "%u regexes exceed the bundle limit of %u", p->nregexes,
                      BUNDLE_MAX_REGEXES);
  if (p->nchecks > BUNDLE_MAX_CHECKS)
    return tn_err_set(err, errlen, TN_ETOOBIG, "%u checks exceed the bundle limit of %u", p->nchecks,
                      BUNDLE_MAX_CHECKS);
  if (p->ncode > BUNDLE_MAX_CODE)
    return tn_err_set(err, errlen, TN_ETOOBIG, "%u instructions exceed the bundle limit of %u", p->ncode,
                      BUNDLE_MAX_CODE);
  if (p->nlists > BUNDLE_MAX_LISTS)
    return tn_err_set(err, errlen, TN_ETOOBIG, "%u list entries exceed the bundle limit of %u", p->nlists,
                      BUNDLE_MAX_LISTS);

  /* Every term is bounded by the limits above, so the sum cannot overflow a size_t. */
  uint32_t nids = text_ids(p);
  uint32_t nsections = 6 + (p->has_requirements ? 1 : 0) + (nids ? 1 : 0);
  size_t size = BUNDLE_HEADER_SIZE + (size_t)nsections * BUNDLE_SECTION_HEADER_SIZE + strings_size(p) +
                regexes_size(p) + checks_size(p) + (p->has_requirements ? BUNDLE_CHECK_SIZE : 0) +
                code_size(p) + lines_size(p) + lists_size(p) + (nids ? check_ids_size(p) : 0) +
                BUNDLE_TRAILER_SIZE;
  if (size > BUNDLE_MAX_SIZE)
    return tn_err_set(err, errlen, TN_ETOOBIG, "bundle of %zu bytes exceeds the limit of %zu bytes", size,
                      BUNDLE_MAX_SIZE);

  writer w = {malloc(size), size, 0};
  if (!w.buf) return tn_err_set(err, errlen, TN_ENOMEM, "out of memory (%zu bytes)", size);
  dump_header(&w, p, nsections);
  dump_strings(&w, p);
  dump_regexes(&w, p);
  dump_checks(&w, p);
  if (p->has_requirements) dump_requirements(&w, p);
  dump_code(&w, p);
  dump_lines(&w, p);
  dump_lists(&w, p);
  if (nids) dump_check_ids(&w, p);
  rc = dump_trailer(&w, key, err, errlen);
  if (rc != TN_OK) {
    free(w.buf);
    return rc;
  }
  if (w.pos != w.size) { /* the size computation and the dump_* functions disagree: a bug here */
    free(w.buf);
    return tn_err_set(err, errlen, TN_ECORRUPT, "bundle writer: wrote %zu bytes, expected %zu", w.pos,
                      w.size);
  }
  *out = w.buf;
  *outlen = w.size;
  return TN_OK;
}

int bundle_written_hash(const uint8_t *data, size_t len, uint8_t out[CRYPTO_SHA256_LEN]) {
  if (len < BUNDLE_TRAILER_SIZE) return TN_ECORRUPT;
  memcpy(out, data + len - BUNDLE_TRAILER_SIZE + BUNDLE_MAGIC_LEN, CRYPTO_SHA256_LEN); /* after "TNTS" */
  return TN_OK;
}
