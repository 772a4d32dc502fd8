/* test_bundle.c — the bundle format: compiler/bundle_write.c and vm/bundle_read.c together.
 *
 * Programs are built by hand with the builder API, written, read back and compared field by
 * field; the bytes must be deterministic; signatures must check against the right key only; and
 * every kind of damage — each byte flipped, every truncation, lying counts, lengths and offsets,
 * bad bytecode — must give the right error and never a crash (run under ASan: every read gets a
 * buffer of exactly the bundle's size). Structural damage is "resealed" (the body hash recomputed)
 * so that it reaches the structure checks instead of stopping at the integrity check. */
#include "test.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bundle.h"
#include "bundle_int.h"
#include "checkid.h"
#include "compile.h"
#include "crypto.h"
#include "err.h"
#include "program.h"

#define N PROG_NONE

static char dir[] = "/tmp/tenet-bundle-XXXXXX";
static char err[512];
static crypto_key *priv, *pub, *other_pub;

/* ---- building programs ---- */

static uint32_t E(program *p, uint8_t op, uint8_t flags, uint16_t x, uint32_t a, uint32_t b,
                  uint32_t c, uint32_t line) {
  return program_emit(p, op, flags, x, a, b, c, line);
}

static void add_check(program *p, int64_t id, uint8_t cond, uint32_t start, const char *title,
                      uint32_t line) {
  char meta[256];
  snprintf(meta, sizeof meta, "\"id\":%lld,\"title\":\"%s\",\"condition\":\"%s\"", (long long)id,
           title, vm_condition_name(cond));
  prog_check c = {.id = id,
                  .title = program_intern(p, title),
                  .condition = cond,
                  .code = start,
                  .code_len = p->ncode - start,
                  .meta = program_intern(p, meta),
                  .line = line};
  program_add_check(p, &c);
}

/* A policy with requirements and three checks covering every opcode, NOT, all conditions,
 * all regex dialects and flags, and matcher sequences; everything a bundle can carry is set. */
static program *build(void) {
  program *p = program_new();
  p->dialect = DIALECT_WAZUH4;
  p->flags = PROGF_REGISTRY;
  p->policy_version = 0x0102030405060708ull;
  p->expiry = -2; /* any i64 round-trips */
  for (int i = 0; i < 32; i++) p->source_sha256[i] = (uint8_t)(i * 7 + 1);
  p->policy_id = program_intern(p, "cis_debian12");
  p->policy_name = program_intern(p, "CIS Debian Linux 12 Benchmark");
  p->policy_file = program_intern(p, "cis_debian12.yml");
  p->policy_description = program_intern(p, "This document provides prescriptive guidance.");
  p->policy_references = program_intern(p, "https://www.cisecurity.org/cis-benchmarks/");
  p->source_name = program_intern(p, "cis_debian12.yml");

  uint32_t rx_root = program_add_regex(p, "^root:", RX_OSREGEX, RXF_LOWERED, "(?i)^root:");
  uint32_t rx_num = program_add_regex(p, "^MaxAuthTries\\s+(\\d+)", RX_PCRE2, RXF_CASELESS, NULL);
  uint32_t rx_conf = program_add_regex(p, ".conf$", RX_OSMATCH, 0, NULL);
  uint32_t rx_bad = program_add_regex(p, "((", RX_OSREGEX, RXF_BAD, NULL);

  uint32_t s = p->ncode; /* requirements (any): f:/etc/debian_version -> r:^12 */
  E(p, OP_FILE, 0, 0, program_intern(p, "/etc/debian_version"), 3, N, 8);
  E(p, OP_ANY, 0, 0, 2, 0, 0, 8);
  E(p, OP_RESULT, 0, COND_ANY, 0, 0, 0, 6);
  E(p, OP_MREGEX, 0, 0, rx_root, 0, 0, 8);
  E(p, OP_MEND, 0, 0, 0, 0, 0, 8);
  p->has_requirements = 1;
  p->requirements = (prog_check){.id = 0, .title = program_intern(p, "Debian 12"),
                                 .condition = COND_ANY, .code = s, .code_len = p->ncode - s,
                                 .meta = N, .line = 5};

  s = p->ncode; /* 5001 (all): f:/etc/ssh/sshd_config -> n:... compare <= 4; not c:who -> !r:x */
  E(p, OP_FILE, 0, 0, program_intern(p, "/etc/ssh/sshd_config"), 6, N, 20);
  E(p, OP_ALL, 0, 0, 5, 0, 0, 20);
  E(p, OP_CMD, 0, 0, program_intern(p, "who"), 8, N, 21);
  E(p, OP_NOT, 0, 0, 0, 0, 0, 21);
  E(p, OP_ALL, 0, 0, 5, 0, 0, 21);
  E(p, OP_RESULT, 0, COND_ALL, 0, 0, 0, 17);
  E(p, OP_MNUMERIC, 0, CMP_LE, rx_num, program_intern(p, "compare <= 4"), program_intern(p, "4"), 20);
  E(p, OP_MEND, 0, 0, 0, 0, 0, 20);
  E(p, OP_MREGEX, F_NEG, 0, rx_bad, 0, 0, 21);
  E(p, OP_MLITERAL, 0, 0, program_intern(p, "root"), 0, 0, 21);
  E(p, OP_MEND, 0, 0, 0, 0, 0, 21);
  add_check(p, 5001, COND_ALL, s, "Ensure SSH MaxAuthTries is set to 4 or less", 16);
  { /* its metadata as fields (format version 2): strings, compliance pairs and rules */
    prog_check *c = &p->checks[p->nchecks - 1];
    uint32_t comp[] = {program_intern(p, "cis"), program_intern(p, "5.2.7"), program_intern(p, "pci_dss"),
                       program_intern(p, "2.2,8.1")};
    uint32_t rules[] = {program_intern(p, "f:/etc/ssh/sshd_config -> n:^MaxAuthTries\\s+(\\d+) compare <= 4"),
                        program_intern(p, "not c:who -> !r:((")};
    c->description = program_intern(p, "Limit \"retries\"\n\u00e9");
    c->rationale = program_intern(p, "brute force");
    c->remediation = N;
    c->references = program_intern(p, "https://a,https://b");
    c->condition_text = program_intern(p, "all");
    c->compliance = program_add_list(p, comp, 4);
    c->ncompliance = 2;
    c->rules = program_add_list(p, rules, 2);
    c->nrules = 2;
  }

  s = p->ncode; /* 5002 (any): d:/etc -> .conf$ -> r:^root:; p:sshd */
  E(p, OP_DIR, 0, 0, program_intern(p, "/etc"), rx_conf, 5, 30);
  E(p, OP_ANY, 0, 0, 4, 0, 0, 30);
  E(p, OP_PROC, 0, 0, program_intern(p, "sshd"), 7, N, 31);
  E(p, OP_ANY, 0, 0, 4, 0, 0, 31);
  E(p, OP_RESULT, 0, COND_ANY, 0, 0, 0, 27);
  E(p, OP_MREGEX, 0, 0, rx_root, 0, 0, 30);
  E(p, OP_MEND, 0, 0, 0, 0, 0, 30);
  E(p, OP_MLITERAL, 0, 0, program_intern(p, "sshd"), 0, 0, 31);
  E(p, OP_MEND, 0, 0, 0, 0, 0, 31);
  add_check(p, 5002, COND_ANY, s, "Ensure sshd runs", 26);

  s = p->ncode; /* -7 (none): r:HKLM\X -> Val; f:/nonexistent */
  E(p, OP_REG, 0, 0, program_intern(p, "HKLM\\X"), program_intern(p, "Val"), N, 40);
  E(p, OP_NONE, 0, 0, 4, 0, 0, 40);
  E(p, OP_FILE, 0, 0, program_intern(p, "/nonexistent"), N, N, 41);
  E(p, OP_NONE, 0, 0, 4, 0, 0, 41);
  E(p, OP_RESULT, 0, COND_NONE, 0, 0, 0, 37);
  add_check(p, -7, COND_NONE, s, "Registry", 36);
  program_freeze(p);
  return p;
}

/* The smallest program: no regexes, no checks, no requirements, no code. */
static program *build_empty(void) {
  program *p = program_new();
  p->policy_id = program_intern(p, "empty");
  program_freeze(p);
  return p;
}

static void same_check(const prog_check *a, const prog_check *b) {
  CHECK_INT(a->id, b->id);
  CHECK_INT(a->title, b->title);
  CHECK_INT(a->condition, b->condition);
  CHECK_INT(a->code, b->code);
  CHECK_INT(a->code_len, b->code_len);
  CHECK_INT(a->meta, b->meta);
  CHECK_INT(a->line, b->line);
  CHECK_INT(a->description, b->description);
  CHECK_INT(a->rationale, b->rationale);
  CHECK_INT(a->remediation, b->remediation);
  CHECK_INT(a->references, b->references);
  CHECK_INT(a->condition_text, b->condition_text);
  CHECK_INT(a->compliance, b->compliance);
  CHECK_INT(a->ncompliance, b->ncompliance);
  CHECK_INT(a->rules, b->rules);
  CHECK_INT(a->nrules, b->nrules);
}

static void same_program(const program *a, const program *b) {
  CHECK_INT(a->dialect, b->dialect);
  CHECK_INT(a->flags, b->flags);
  CHECK(a->policy_version == b->policy_version);
  CHECK_INT(a->expiry, b->expiry);
  CHECK(memcmp(a->source_sha256, b->source_sha256, 32) == 0);
  CHECK_INT(a->policy_id, b->policy_id);
  CHECK_INT(a->policy_name, b->policy_name);
  CHECK_INT(a->policy_file, b->policy_file);
  CHECK_INT(a->policy_description, b->policy_description);
  CHECK_INT(a->policy_references, b->policy_references);
  CHECK_INT(a->source_name, b->source_name);
  CHECK_INT(a->strtab_len, b->strtab_len);
  if (a->strtab_len == b->strtab_len) CHECK(memcmp(a->strtab, b->strtab, a->strtab_len) == 0);
  CHECK_INT(a->nregexes, b->nregexes);
  for (uint32_t i = 0; i < a->nregexes && i < b->nregexes; i++) {
    CHECK_INT(a->regexes[i].source, b->regexes[i].source);
    CHECK_INT(a->regexes[i].dialect, b->regexes[i].dialect);
    CHECK_INT(a->regexes[i].flags, b->regexes[i].flags);
    CHECK_INT(a->regexes[i].lowered, b->regexes[i].lowered);
  }
  CHECK_INT(a->nchecks, b->nchecks);
  for (uint32_t i = 0; i < a->nchecks && i < b->nchecks; i++) same_check(&a->checks[i], &b->checks[i]);
  CHECK_INT(a->has_requirements, b->has_requirements);
  if (a->has_requirements && b->has_requirements) same_check(&a->requirements, &b->requirements);
  CHECK_INT(a->nlists, b->nlists);
  if (a->nlists == b->nlists && a->nlists) CHECK(memcmp(a->lists, b->lists, a->nlists * sizeof *a->lists) == 0);
  CHECK_INT(a->ncode, b->ncode);
  for (uint32_t i = 0; i < a->ncode && i < b->ncode; i++) {
    const insn *x = &a->code[i], *y = &b->code[i];
    CHECK(x->op == y->op && x->flags == y->flags && x->x == y->x && x->a == y->a && x->b == y->b &&
          x->c == y->c);
    CHECK_INT(a->lines[i], b->lines[i]);
  }
  CHECK(b->builder == NULL);
}

/* ---- byte-level helpers ---- */

static uint8_t *write_bundle(const program *p, const crypto_key *key, size_t *len) {
  uint8_t *out = NULL;
  int rc = bundle_write(p, key, &out, len, err, sizeof err);
  if (rc != TN_OK) fprintf(stderr, "bundle_write: %s\n", err);
  return rc == TN_OK ? out : NULL;
}

/* bundle_read on an exact-size private copy (so ASan sees any overread); returns the status. */
static bundle_info last_info;
static int read_rc(const uint8_t *data, size_t len) {
  uint8_t *copy = malloc(len ? len : 1);
  if (len) memcpy(copy, data, len);
  program *p = (program *)1;
  err[0] = '\0';
  int rc = bundle_read(copy, len, &p, &last_info, err, sizeof err);
  if (rc != TN_OK && p != NULL) rc = -1000; /* *out must be NULL on failure */
  program_free(p);
  free(copy);
  return rc;
}

/* Recompute the body hash into the trailer after a structural edit. */
static void reseal(uint8_t *b, size_t len) {
  crypto_sha256(b, len - BUNDLE_TRAILER_SIZE, b + len - BUNDLE_TRAILER_SIZE + BT_HASH);
}

/* Offset of section `type`'s section header, or 0 when absent. */
static size_t section_at(const uint8_t *b, size_t len, uint32_t type) {
  size_t pos = BUNDLE_HEADER_SIZE;
  uint32_t n = le_get32(b + BH_SECTION_COUNT);
  for (uint32_t i = 0; i < n && pos + 8 <= len; i++) {
    if (le_get32(b + pos) == type) return pos;
    pos += 8 + (size_t)le_get32(b + pos + 4);
  }
  return 0;
}

static int has(const char *s) { return strstr(err, s) != NULL; }

static uint8_t *dup_bytes(const uint8_t *b, size_t len) {
  uint8_t *c = malloc(len);
  memcpy(c, b, len);
  return c;
}

/* ---- tests ---- */

static void test_roundtrip(void) {
  program *p = build();
  REQUIRE(program_verify(p, err, sizeof err) == TN_OK);
  size_t len;
  uint8_t *b = write_bundle(p, NULL, &len);
  REQUIRE(b);
  program *q = NULL;
  bundle_info info;
  REQUIRE(bundle_read(b, len, &q, &info, err, sizeof err) == TN_OK);
  same_program(p, q);
  CHECK_INT(info.format_version, BUNDLE_FORMAT_VERSION);
  CHECK_INT(info.isa_version, VM_ISA_VERSION);
  CHECK_INT(info.is_signed, 0);
  CHECK_INT(info.body_len, len - BUNDLE_TRAILER_SIZE);
  uint8_t h[32];
  crypto_sha256(b, len - BUNDLE_TRAILER_SIZE, h);
  CHECK(memcmp(h, info.bundle_hash, 32) == 0);
  static const uint8_t zero[CRYPTO_ED25519_SIG_LEN];
  CHECK(memcmp(info.key_id, zero, CRYPTO_KEYID_LEN) == 0);
  CHECK(memcmp(info.signature, zero, CRYPTO_ED25519_SIG_LEN) == 0);
  CHECK_STR(program_str(q, q->policy_id), "cis_debian12");
  CHECK_STR(program_str(q, q->checks[0].title), "Ensure SSH MaxAuthTries is set to 4 or less");
  CHECK_STR(program_str(q, q->regexes[0].lowered), "(?i)^root:");

  /* The layout documented in bundle_int.h, checked on the bytes. */
  CHECK(memcmp(b, "TNTB", 4) == 0);
  CHECK_INT(le_get16(b + BH_FORMAT), BUNDLE_FORMAT_VERSION);
  CHECK_INT(le_get64(b + BH_POLICY_VERSION), 0x0102030405060708ull);
  CHECK(b[BH_POLICY_VERSION] == 0x08); /* little-endian */
  CHECK_INT(le_get32(b + BH_SECTION_COUNT), 7);
  size_t s = section_at(b, len, BSEC_STRINGS);
  CHECK_INT(s, BUNDLE_HEADER_SIZE);
  CHECK_INT(le_get32(b + s + 4), p->strtab_len);
  s = section_at(b, len, BSEC_CODE);
  REQUIRE(s);
  CHECK_INT(le_get32(b + s + 4), 4 + 16 * p->ncode);
  CHECK_INT(le_get32(b + s + 8), p->ncode);
  CHECK(memcmp(b + len - BUNDLE_TRAILER_SIZE, "TNTS", 4) == 0);
  program_free(q);
  free(b);

  /* Writing what was read gives the same bytes again. */
  b = write_bundle(p, NULL, &len);
  REQUIRE(bundle_read(b, len, &q, &info, err, sizeof err) == TN_OK);
  size_t len2;
  uint8_t *b2 = write_bundle(q, NULL, &len2);
  REQUIRE(b2);
  CHECK(len == len2 && memcmp(b, b2, len) == 0);
  free(b2);
  free(b);
  program_free(q);
  program_free(p);
}

static void test_roundtrip_empty(void) {
  program *p = build_empty();
  size_t len;
  uint8_t *b = write_bundle(p, NULL, &len);
  REQUIRE(b);
  CHECK_INT(len, BUNDLE_HEADER_SIZE + 6 * 8 + p->strtab_len + 5 * 4 + BUNDLE_TRAILER_SIZE);
  program *q = NULL;
  bundle_info info;
  REQUIRE(bundle_read(b, len, &q, &info, err, sizeof err) == TN_OK);
  same_program(p, q);
  CHECK(q->code == NULL && q->lines == NULL && q->checks == NULL && q->regexes == NULL);
  program_free(q);
  free(b);
  program_free(p);
}

static void test_deterministic(void) {
  program *p1 = build(), *p2 = build();
  size_t l1, l2, l3;
  uint8_t *a = write_bundle(p1, NULL, &l1), *b = write_bundle(p2, NULL, &l2);
  uint8_t *c = write_bundle(p1, NULL, &l3);
  REQUIRE(a && b && c);
  CHECK(l1 == l2 && memcmp(a, b, l1) == 0);
  CHECK(l1 == l3 && memcmp(a, c, l1) == 0);
  free(a);
  free(b);
  free(c);
  /* Signed bundles are deterministic too (Ed25519 signatures are). */
  a = write_bundle(p1, priv, &l1);
  b = write_bundle(p2, priv, &l2);
  REQUIRE(a && b);
  CHECK(l1 == l2 && memcmp(a, b, l1) == 0);
  /* The writer's hash (read back from its trailer) is the reader's bundle hash. */
  uint8_t wh[CRYPTO_SHA256_LEN];
  program *back = NULL;
  bundle_info bi;
  char e[256];
  CHECK_INT(bundle_written_hash(a, l1, wh), TN_OK);
  REQUIRE(bundle_read(a, l1, &back, &bi, e, sizeof e) == TN_OK);
  CHECK(memcmp(wh, bi.bundle_hash, sizeof wh) == 0);
  CHECK_INT(bundle_written_hash(a, 10, wh), TN_ECORRUPT);
  program_free(back);
  free(a);
  free(b);
  /* A different policy version gives a different hash. */
  p2->policy_version++;
  a = write_bundle(p1, NULL, &l1);
  b = write_bundle(p2, NULL, &l2);
  REQUIRE(a && b);
  CHECK(l1 == l2 && memcmp(a, b, l1) != 0);
  free(a);
  free(b);
  program_free(p1);
  program_free(p2);
}

static void test_signatures(void) {
  program *p = build();
  size_t len;
  uint8_t *b = write_bundle(p, priv, &len);
  REQUIRE(b);
  program *q = NULL;
  bundle_info info;
  REQUIRE(bundle_read(b, len, &q, &info, err, sizeof err) == TN_OK);
  same_program(p, q);
  CHECK_INT(info.is_signed, 1);
  uint8_t kid[CRYPTO_KEYID_LEN];
  crypto_key_id(pub, kid);
  CHECK(memcmp(kid, info.key_id, sizeof kid) == 0);
  CHECK_INT(bundle_check_signature(&info, pub, err, sizeof err), TN_OK);
  CHECK_INT(bundle_check_signature(&info, priv, err, sizeof err), TN_OK);
  CHECK_INT(bundle_check_signature(&info, other_pub, err, sizeof err), TN_EUNTRUSTED);
  CHECK(has("not by the trusted key"));
  CHECK_INT(crypto_verify(pub, info.bundle_hash, 32, info.signature), TN_OK); /* over the hash */
  program_free(q);
  free(b);

  /* Unsigned, when a key is required. */
  b = write_bundle(p, NULL, &len);
  REQUIRE(bundle_read(b, len, &q, &info, err, sizeof err) == TN_OK);
  CHECK_INT(bundle_check_signature(&info, pub, err, sizeof err), TN_EUNSIGNED);
  program_free(q);
  free(b);

  /* Same key id, different signature: a forged bundle re-using the trusted key id. */
  b = write_bundle(p, priv, &len);
  REQUIRE(bundle_read(b, len, &q, &info, err, sizeof err) == TN_OK);
  info.bundle_hash[0] ^= 1;
  CHECK_INT(bundle_check_signature(&info, pub, err, sizeof err), TN_ESIGNATURE);
  program_free(q);
  free(b);

  /* A public key cannot sign. */
  uint8_t *out = (uint8_t *)1;
  CHECK_INT(bundle_write(p, pub, &out, &len, err, sizeof err), TN_EKEY);
  CHECK(out == NULL);
  program_free(p);
}

/* Flip every byte of a small bundle: the reader (and then the signature check) must refuse each
 * one with the error that names the damaged part. */
static void tamper_all(int sign) {
  program *p = build();
  size_t len;
  uint8_t *orig = write_bundle(p, sign ? priv : NULL, &len);
  REQUIRE(orig);
  const size_t body = len - BUNDLE_TRAILER_SIZE;
  const uint8_t masks[] = {0xff, 0x01, 0x80};
  size_t failures = 0;
  for (size_t m = 0; m < sizeof masks; m++)
    for (size_t i = 0; i < len; i++) {
      uint8_t *b = dup_bytes(orig, len);
      b[i] ^= masks[m];
      program *q = NULL;
      bundle_info info;
      int rc = bundle_read(b, len, &q, &info, err, sizeof err);
      if (rc == TN_OK) {
        rc = bundle_check_signature(&info, pub, err, sizeof err);
        program_free(q);
      } else if (q) {
        rc = -1000;
      }
      free(b);
      size_t t = i >= body ? i - body : 0;
      int want;
      if (i < BH_FORMAT) want = TN_ECORRUPT;                       /* magic */
      else if (i < BH_DIALECT) want = TN_EVERSION;                  /* versions */
      else if (i < body) want = TN_EINTEGRITY;                      /* the rest of the body */
      else if (t < BT_HASH) want = TN_ECORRUPT;                     /* trailer magic */
      else if (t < BT_SIGNED) want = TN_EINTEGRITY;                 /* the hash itself */
      else if (t == BT_SIGNED) want = sign || masks[m] != 0x01 ? TN_ECORRUPT : -1;
      else if (!sign) want = TN_ECORRUPT;                           /* junk in unsigned block */
      else if (t < BT_SIGNATURE) want = TN_EUNTRUSTED;              /* key id */
      else want = TN_ESIGNATURE;                                    /* signature */
      if (want == -1) { /* unsigned -> "signed" by a zero key id: read OK, untrusted key */
        want = TN_EUNTRUSTED;
      }
      if (rc != want) {
        if (failures++ < 5)
          fprintf(stderr, "byte %zu ^ 0x%02x: got %d (%s), want %d\n", i, masks[m], rc, err, want);
      }
      if (want == TN_ECORRUPT && rc == TN_ECORRUPT && !has("(bundle_read.c:")) failures++;
    }
  CHECK_INT(failures, 0);
  free(orig);
  program_free(p);
}

static void test_tamper_signed(void) { tamper_all(1); }
static void test_tamper_unsigned(void) { tamper_all(0); }

static void test_truncated_and_extended(void) {
  program *p = build();
  size_t len;
  uint8_t *b = write_bundle(p, priv, &len);
  REQUIRE(b);
  size_t ok = 0;
  for (size_t n = 0; n < len; n++) {
    int rc = read_rc(b, n);
    if (rc == TN_OK || rc == -1000) ok++;
    if (n < BUNDLE_HEADER_SIZE + BUNDLE_TRAILER_SIZE) CHECK(rc == TN_ECORRUPT && has("too short"));
    else CHECK(rc == TN_ECORRUPT);
  }
  CHECK_INT(ok, 0);
  /* One byte more at the end, or at the start. */
  uint8_t *x = malloc(len + 1);
  memcpy(x, b, len);
  x[len] = 0;
  CHECK_INT(read_rc(x, len + 1), TN_ECORRUPT);
  CHECK(has("trailer magic"));
  x[0] = 0;
  memcpy(x + 1, b, len);
  CHECK_INT(read_rc(x, len + 1), TN_ECORRUPT);
  CHECK(has("bad magic"));
  free(x);
  CHECK_INT(read_rc(NULL, 0), TN_ECORRUPT);
  free(b);
  program_free(p);
}

static void test_magic_and_versions(void) {
  program *p = build();
  size_t len;
  uint8_t *b = write_bundle(p, NULL, &len);
  REQUIRE(b);
  uint8_t *c = dup_bytes(b, len);
  memcpy(c, "TNTX", 4);
  CHECK_INT(read_rc(c, len), TN_ECORRUPT);
  CHECK(has("bad magic"));

  memcpy(c, b, len);
  le_put16(c + BH_FORMAT, BUNDLE_FORMAT_VERSION + 1);
  reseal(c, len);
  CHECK_INT(read_rc(c, len), TN_EVERSION);
  CHECK(has("format version 3 is newer"));
  CHECK_INT(last_info.format_version, BUNDLE_FORMAT_VERSION + 1);

  memcpy(c, b, len);
  le_put16(c + BH_ISA, VM_ISA_VERSION + 1);
  reseal(c, len);
  CHECK_INT(read_rc(c, len), TN_EVERSION);
  CHECK(has("ISA version") && has("newer"));

  memcpy(c, b, len);
  le_put16(c + BH_FORMAT, 0);
  CHECK_INT(read_rc(c, len), TN_EVERSION);
  CHECK(has("older"));

  /* A newer version is reported even when the rest is unreadable to this build. */
  memcpy(c, b, len);
  le_put16(c + BH_FORMAT, 0xffff);
  memset(c + BUNDLE_HEADER_SIZE, 0xee, len - BUNDLE_HEADER_SIZE);
  CHECK_INT(read_rc(c, len), TN_EVERSION);

  memcpy(c, b, len);
  memcpy(c + len - BUNDLE_TRAILER_SIZE, "TNTB", 4);
  CHECK_INT(read_rc(c, len), TN_ECORRUPT);
  CHECK(has("trailer magic"));

  /* Header fields the verifier rejects. */
  memcpy(c, b, len);
  c[BH_DIALECT] = 9;
  reseal(c, len);
  CHECK_INT(read_rc(c, len), TN_ECORRUPT);
  CHECK(has("unknown dialect 9"));
  memcpy(c, b, len);
  le_put32(c + BH_FLAGS, 0x80000001u);
  reseal(c, len);
  CHECK_INT(read_rc(c, len), TN_ECORRUPT);
  CHECK(has("unknown program flags"));
  free(c);
  free(b);
  program_free(p);
}

static void test_huge_counts(void) {
  program *p = build();
  size_t len;
  uint8_t *b = write_bundle(p, NULL, &len);
  REQUIRE(b);
  const uint32_t types[] = {BSEC_REGEXES, BSEC_CHECKS, BSEC_CODE, BSEC_LINES};
  const uint32_t counts[] = {0xffffffffu, 0x80000000u, (1u << 24) + 1, 1u << 20, 0x10000000u};
  uint8_t *c = malloc(len);
  for (size_t t = 0; t < 4; t++) {
    size_t s = section_at(b, len, types[t]);
    REQUIRE(s);
    uint32_t real = le_get32(b + s + 8);
    for (size_t k = 0; k < sizeof counts / sizeof counts[0]; k++) {
      memcpy(c, b, len);
      le_put32(c + s + 8, counts[k]);
      reseal(c, len);
      CHECK_INT(read_rc(c, len), TN_ECORRUPT);
      CHECK(has("claims"));
    }
    /* Off by one either way. */
    for (int d = -1; d <= 1; d += 2) {
      memcpy(c, b, len);
      le_put32(c + s + 8, real + (uint32_t)d);
      reseal(c, len);
      CHECK_INT(read_rc(c, len), TN_ECORRUPT);
    }
  }
  /* Huge section lengths. */
  const uint32_t all[] = {BSEC_STRINGS, BSEC_REGEXES, BSEC_CHECKS, BSEC_REQUIREMENTS, BSEC_CODE,
                          BSEC_LINES};
  for (size_t t = 0; t < 6; t++) {
    size_t s = section_at(b, len, all[t]);
    REQUIRE(s);
    const uint32_t lens[] = {0xffffffffu, 0xfffffff8u, (uint32_t)len};
    for (size_t k = 0; k < 3; k++) {
      memcpy(c, b, len);
      le_put32(c + s + 4, lens[k]);
      reseal(c, len);
      CHECK_INT(read_rc(c, len), TN_ECORRUPT);
      CHECK(has("runs past the end"));
    }
    /* One byte shorter: the section is inconsistent with its count, or the next one misparses. */
    memcpy(c, b, len);
    le_put32(c + s + 4, le_get32(b + s + 4) - 1);
    reseal(c, len);
    CHECK_INT(read_rc(c, len), TN_ECORRUPT);
  }
  /* Section count. */
  memcpy(c, b, len);
  le_put32(c + BH_SECTION_COUNT, 0xffffffffu);
  reseal(c, len);
  CHECK_INT(read_rc(c, len), TN_ECORRUPT);
  CHECK(has("sections"));
  free(c);
  free(b);
  program_free(p);
}

static void test_section_structure(void) {
  program *p = build();
  size_t len;
  uint8_t *b = write_bundle(p, NULL, &len);
  REQUIRE(b);
  uint8_t *c = malloc(len);
  size_t sreq = section_at(b, len, BSEC_REQUIREMENTS), schk = section_at(b, len, BSEC_CHECKS);
  size_t slines = section_at(b, len, BSEC_LINES);
  REQUIRE(sreq && schk && slines);

  memcpy(c, b, len); /* unknown section type */
  le_put32(c + sreq, BSEC__MAX + 1);
  reseal(c, len);
  CHECK_INT(read_rc(c, len), TN_ECORRUPT);
  CHECK(has("unknown section type 9"));
  le_put32(c + sreq, 0);
  reseal(c, len);
  CHECK_INT(read_rc(c, len), TN_ECORRUPT);
  CHECK(has("unknown section type 0"));

  memcpy(c, b, len); /* duplicate: the requirements section relabelled as a check table */
  le_put32(c + sreq, BSEC_CHECKS);
  reseal(c, len);
  CHECK_INT(read_rc(c, len), TN_ECORRUPT);
  CHECK(has("appears twice"));

  memcpy(c, b, len); /* out of order: the lines relabelled as requirements after the code */
  le_put32(c + slines, BSEC_REQUIREMENTS);
  reseal(c, len);
  CHECK_INT(read_rc(c, len), TN_ECORRUPT);
  CHECK(has("out of order"));

  memcpy(c, b, len); /* fewer sections than present: bytes left over */
  le_put32(c + BH_SECTION_COUNT, 5);
  reseal(c, len);
  CHECK_INT(read_rc(c, len), TN_ECORRUPT);
  CHECK(has("after the last section"));

  /* More sections than present: the empty program (6 sections) claiming 7. */
  program *e = build_empty();
  size_t elen;
  uint8_t *eb = write_bundle(e, NULL, &elen);
  REQUIRE(eb);
  le_put32(eb + BH_SECTION_COUNT, 7);
  reseal(eb, elen);
  CHECK_INT(read_rc(eb, elen), TN_ECORRUPT);
  CHECK(has("header runs past the end"));
  /* A required section missing: the empty program without its line table. */
  size_t el = section_at(eb, elen, BSEC_LINES);
  REQUIRE(el);
  uint8_t *cut = malloc(elen - 12);
  memcpy(cut, eb, el);
  memcpy(cut + el, eb + el + 12, elen - el - 12);
  le_put32(cut + BH_SECTION_COUNT, 5);
  reseal(cut, elen - 12);
  CHECK_INT(read_rc(cut, elen - 12), TN_ECORRUPT);
  CHECK(has("missing line table section"));
  free(cut);
  free(eb);
  program_free(e);

  memcpy(c, b, len); /* requirements of the wrong size */
  le_put32(c + sreq + 4, BUNDLE_CHECK_SIZE - 1);
  reseal(c, len);
  CHECK_INT(read_rc(c, len), TN_ECORRUPT);

  /* The line table one entry short, consistently (count and length agree). */
  uint8_t *shortl = malloc(len - 4);
  memcpy(shortl, b, slines + 12);
  memcpy(shortl + slines + 12, b + slines + 16, len - slines - 16);
  le_put32(shortl + slines + 4, le_get32(b + slines + 4) - 4);
  le_put32(shortl + slines + 8, p->ncode - 1);
  reseal(shortl, len - 4);
  CHECK_INT(read_rc(shortl, len - 4), TN_ECORRUPT);
  CHECK(has("line table has"));
  free(shortl);
  free(c);
  free(b);
  program_free(p);
}

/* Rewrite one instruction field / one check field of a written bundle and reseal it. */
static size_t insn_off(const uint8_t *b, size_t len, uint32_t index) {
  return section_at(b, len, BSEC_CODE) + 12 + (size_t)index * BUNDLE_INSN_SIZE;
}
static size_t check_off(const uint8_t *b, size_t len, uint32_t index) {
  return section_at(b, len, BSEC_CHECKS) + 12 + (size_t)index * BUNDLE_CHECK_SIZE;
}

static void test_offsets(void) {
  program *p = build();
  size_t len;
  uint8_t *b = write_bundle(p, NULL, &len);
  REQUIRE(b);
  uint8_t *c = malloc(len);
  size_t sstr = section_at(b, len, BSEC_STRINGS);
  const uint32_t strtab_len = p->strtab_len;

  memcpy(c, b, len); /* string table without the final NUL */
  c[sstr + 8 + strtab_len - 1] = 'x';
  reseal(c, len);
  CHECK_INT(read_rc(c, len), TN_ECORRUPT);
  CHECK(has("does not end in NUL"));
  memcpy(c, b, len); /* string 0 not empty */
  c[sstr + 8] = 'x';
  reseal(c, len);
  CHECK_INT(read_rc(c, len), TN_ECORRUPT);
  CHECK(has("empty string"));
  memcpy(c, b, len); /* empty string table */
  le_put32(c + sstr + 4, 0);
  reseal(c, len);
  CHECK_INT(read_rc(c, len), TN_ECORRUPT);

  /* String ids: past the table, inside a string, the header's and the checks'. */
  const uint32_t bad_ids[] = {strtab_len, strtab_len + 1000, 0xfffffffeu, p->policy_id + 2};
  for (size_t k = 0; k < 4; k++) {
    memcpy(c, b, len);
    le_put32(c + BH_STRING_IDS, bad_ids[k]);
    reseal(c, len);
    CHECK_INT(read_rc(c, len), TN_ECORRUPT);
    CHECK(has("policy id: bad string id"));
    memcpy(c, b, len);
    le_put32(c + check_off(b, len, 1) + 8, bad_ids[k]); /* title */
    reseal(c, len);
    CHECK_INT(read_rc(c, len), TN_ECORRUPT);
    CHECK(has("bad title"));
    memcpy(c, b, len);
    le_put32(c + insn_off(b, len, 5) + 4, bad_ids[k]); /* 5001's FILE path */
    reseal(c, len);
    CHECK_INT(read_rc(c, len), TN_ECORRUPT);
    CHECK(has("bad string id"));
  }
  /* Regex string ids. */
  size_t srx = section_at(b, len, BSEC_REGEXES);
  memcpy(c, b, len);
  le_put32(c + srx + 12, strtab_len);
  reseal(c, len);
  CHECK_INT(read_rc(c, len), TN_ECORRUPT);
  CHECK(has("bad source string id"));

  /* Check code ranges: out of range, overflowing, overlapping. */
  const size_t ck = check_off(b, len, 2); /* check -7 */
  memcpy(c, b, len);
  le_put32(c + ck + 13, p->ncode);
  reseal(c, len);
  CHECK_INT(read_rc(c, len), TN_ECORRUPT);
  CHECK(has("outside the code"));
  memcpy(c, b, len);
  le_put32(c + ck + 13, 0xfffffff0u);
  le_put32(c + ck + 17, 0x20);
  reseal(c, len);
  CHECK_INT(read_rc(c, len), TN_ECORRUPT);
  CHECK(has("outside the code"));
  memcpy(c, b, len);
  le_put32(c + ck + 17, p->ncode);
  reseal(c, len);
  CHECK_INT(read_rc(c, len), TN_ECORRUPT);
  /* Check 5002's code range given to check -7 as well (and its condition): both are well formed,
   * but they overlap. */
  memcpy(c, b, len);
  memcpy(c + ck + 12, c + check_off(b, len, 1) + 12, 9);
  reseal(c, len);
  CHECK_INT(read_rc(c, len), TN_ECORRUPT);
  CHECK(has("overlap"));
  /* Duplicate check id. */
  memcpy(c, b, len);
  memcpy(c + ck, c + check_off(b, len, 0), 8);
  reseal(c, len);
  CHECK_INT(read_rc(c, len), TN_ECORRUPT);
  CHECK(has("appears twice"));
  free(c);
  free(b);
  program_free(p);
}

static void test_bad_bytecode(void) {
  program *p = build();
  size_t len;
  uint8_t *b = write_bundle(p, NULL, &len);
  REQUIRE(b);
  uint8_t *c = malloc(len);
  /* Instruction 5 is check 5001's FILE; 6 its ALL (target @5); 10 its RESULT. */
  for (unsigned op = OP__COUNT; op < 256; op += 37) {
    memcpy(c, b, len);
    c[insn_off(b, len, 5)] = (uint8_t)op;
    reseal(c, len);
    CHECK_INT(read_rc(c, len), TN_ECORRUPT);
    CHECK(has("unknown opcode"));
  }
  memcpy(c, b, len); /* jump out of range */
  le_put32(c + insn_off(b, len, 6) + 4, 1000);
  reseal(c, len);
  CHECK_INT(read_rc(c, len), TN_ECORRUPT);
  CHECK(has("jump to @1000"));
  memcpy(c, b, len); /* jump inside, but not to the RESULT */
  le_put32(c + insn_off(b, len, 6) + 4, 2);
  reseal(c, len);
  CHECK_INT(read_rc(c, len), TN_ECORRUPT);
  memcpy(c, b, len); /* matcher address outside the check */
  le_put32(c + insn_off(b, len, 5) + 8, 100);
  reseal(c, len);
  CHECK_INT(read_rc(c, len), TN_ECORRUPT);
  CHECK(has("not a matcher of this check"));
  memcpy(c, b, len); /* unknown flag */
  c[insn_off(b, len, 5) + 1] = 0x40;
  reseal(c, len);
  CHECK_INT(read_rc(c, len), TN_ECORRUPT);
  memcpy(c, b, len); /* RESULT with another condition */
  le_put16(c + insn_off(b, len, 10) + 2, COND_NONE);
  reseal(c, len);
  CHECK_INT(read_rc(c, len), TN_ECORRUPT);
  memcpy(c, b, len); /* regex index out of range (MNUMERIC of 5001) */
  le_put32(c + insn_off(b, len, 11) + 4, p->nregexes);
  reseal(c, len);
  CHECK_INT(read_rc(c, len), TN_ECORRUPT);
  CHECK(has("regex 4 out of range"));
  memcpy(c, b, len); /* regex dialect */
  c[section_at(b, len, BSEC_REGEXES) + 12 + 4] = 0;
  reseal(c, len);
  CHECK_INT(read_rc(c, len), TN_ECORRUPT);
  CHECK(has("unknown dialect"));
  /* Every verifier message says where it was caught. */
  CHECK(has("(verify.c:"));
  free(c);
  free(b);
  program_free(p);
}

/* The metadata fields of check records (format 2): string ids must start strings, ranges must lie
 * in the list table, list entries must be string ids. Corrupted through the program, then written
 * by hand-patching the bytes the writer produced. */
static void test_check_fields(void) {
  program *p = build();
  size_t len;
  uint8_t *b = write_bundle(p, NULL, &len);
  REQUIRE(b);
  uint8_t *c = malloc(len);
  size_t schk = section_at(b, len, BSEC_CHECKS), slists = section_at(b, len, BSEC_LISTS);
  REQUIRE(schk && slists);
  size_t rec = schk + 8 + 4; /* first check record */
  size_t f_desc = rec + 29, f_comp = rec + 29 + 20, f_ncomp = f_comp + 4, f_rules = f_comp + 8, f_nrules = f_comp + 12;
  CHECK_INT(le_get32(b + f_desc), p->checks[0].description);
  CHECK_INT(le_get32(b + f_nrules), 2);

  memcpy(c, b, len);
  le_put32(c + f_desc, p->checks[0].description + 1); /* inside a string */
  reseal(c, len);
  CHECK_INT(read_rc(c, len), TN_ECORRUPT);
  CHECK(has("check 0: bad metadata string id"));

  memcpy(c, b, len);
  le_put32(c + f_ncomp, 0x80000001u); /* 2 * n overflows 32 bits */
  reseal(c, len);
  CHECK_INT(read_rc(c, len), TN_ECORRUPT);
  CHECK(has("compliance list"));

  memcpy(c, b, len);
  le_put32(c + f_rules, p->nlists); /* one past the end with 2 rules */
  reseal(c, len);
  CHECK_INT(read_rc(c, len), TN_ECORRUPT);
  CHECK(has("rule list"));

  memcpy(c, b, len);
  le_put32(c + f_rules, N); /* rules never absent */
  le_put32(c + f_nrules, 0);
  reseal(c, len);
  CHECK_INT(read_rc(c, len), TN_ECORRUPT);
  CHECK(has("rule list"));

  memcpy(c, b, len);
  le_put32(c + slists + 8 + 4, p->strtab_len); /* a list entry past the string table */
  reseal(c, len);
  CHECK_INT(read_rc(c, len), TN_ECORRUPT);
  CHECK(has("list entry 0: bad string id"));

  /* The writer refuses what the reader would reject. */
  p->checks[0].rules = p->nlists;
  uint8_t *out = NULL;
  size_t outlen = 0;
  CHECK_INT(bundle_write(p, NULL, &out, &outlen, err, sizeof err), TN_ECORRUPT);
  CHECK(out == NULL && strstr(err, "check 0: rule list") != NULL);
  p->checks[0].rules = le_get32(b + f_rules);

  /* The fields read back as the program wrote them. */
  program *q = NULL;
  bundle_info info;
  REQUIRE(bundle_read(b, len, &q, &info, err, sizeof err) == TN_OK);
  prog_check_meta m;
  program_check_meta(q, &q->checks[0], &m);
  CHECK_STR(m.title, "Ensure SSH MaxAuthTries is set to 4 or less");
  CHECK_STR(m.description, "Limit \"retries\"\n\u00e9");
  CHECK(m.remediation == NULL);
  CHECK_STR(m.references, "https://a,https://b");
  CHECK(m.has_compliance && m.ncompliance == 2);
  CHECK_STR(program_str(q, m.compliance[3]), "2.2,8.1");
  CHECK_INT(m.nrules, 2);
  CHECK_STR(program_str(q, m.rules[1]), "not c:who -> !r:((");
  program_check_meta(q, &q->checks[1], &m); /* a hand-built check: zeroed fields */
  CHECK(!m.has_compliance || m.ncompliance == 0);
  program_free(q);
  free(c);
  free(b);
  program_free(p);
}

static void test_trailer(void) {
  program *p = build();
  size_t len;
  uint8_t *b = write_bundle(p, NULL, &len);
  REQUIRE(b);
  uint8_t *c = dup_bytes(b, len);
  c[len - BUNDLE_TRAILER_SIZE + BT_SIGNED] = 2;
  CHECK_INT(read_rc(c, len), TN_ECORRUPT);
  CHECK(has("signed flag is 2"));
  memcpy(c, b, len); /* unsigned, but with a key id */
  c[len - BUNDLE_TRAILER_SIZE + BT_KEY_ID + 3] = 1;
  CHECK_INT(read_rc(c, len), TN_ECORRUPT);
  CHECK(has("unsigned bundle carries"));
  memcpy(c, b, len); /* claims signed, with zero key id and signature */
  c[len - BUNDLE_TRAILER_SIZE + BT_SIGNED] = 1;
  CHECK_INT(read_rc(c, len), TN_OK);
  CHECK_INT(last_info.is_signed, 1);
  CHECK_INT(bundle_check_signature(&last_info, pub, err, sizeof err), TN_EUNTRUSTED);
  free(c);
  free(b);
  program_free(p);
}

static void test_too_big(void) {
  uint8_t small[16] = {0};
  program *q = NULL;
  bundle_info info;
  CHECK_INT(bundle_read(small, BUNDLE_MAX_SIZE + 1, &q, &info, err, sizeof err), TN_ETOOBIG);
  CHECK(q == NULL);
  /* A sparse file just over the limit is refused without being read. */
  char path[512];
  snprintf(path, sizeof path, "%s/huge.tnb", dir);
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  REQUIRE(fd >= 0);
  CHECK(ftruncate(fd, (off_t)BUNDLE_MAX_SIZE + 1) == 0);
  close(fd);
  CHECK_INT(bundle_read_file(path, &q, &info, err, sizeof err), TN_ETOOBIG);
  CHECK(q == NULL);
  unlink(path);
}

static void test_read_file(void) {
  program *p = build();
  size_t len;
  uint8_t *b = write_bundle(p, priv, &len);
  REQUIRE(b);
  char path[512];
  snprintf(path, sizeof path, "%s/policy.tnb", dir);
  FILE *f = fopen(path, "wb");
  REQUIRE(f);
  fwrite(b, 1, len, f);
  fclose(f);
  program *q = NULL;
  bundle_info info;
  REQUIRE(bundle_read_file(path, &q, &info, err, sizeof err) == TN_OK);
  same_program(p, q);
  CHECK_INT(bundle_check_signature(&info, pub, err, sizeof err), TN_OK);
  program_free(q);
  snprintf(path, sizeof path, "%s/missing.tnb", dir);
  CHECK_INT(bundle_read_file(path, &q, &info, err, sizeof err), TN_EIO);
  CHECK(has("cannot open") && has("missing.tnb"));
  CHECK(q == NULL);
  /* An empty file and a directory. */
  snprintf(path, sizeof path, "%s/empty.tnb", dir);
  f = fopen(path, "wb");
  REQUIRE(f);
  fclose(f);
  CHECK_INT(bundle_read_file(path, &q, &info, err, sizeof err), TN_ECORRUPT);
  CHECK_INT(bundle_read_file(dir, &q, &info, err, sizeof err), TN_EIO);
  free(b);
  program_free(p);
}

/* bundle_file_load: the file's exact bytes, unparsed (the keyring keeps them for the manager). */
static void test_file_load(void) {
  program *p = build();
  size_t len;
  uint8_t *b = write_bundle(p, priv, &len);
  REQUIRE(b);
  char path[512];
  snprintf(path, sizeof path, "%s/load.tnb", dir);
  FILE *f = fopen(path, "wb");
  REQUIRE(f);
  fwrite(b, 1, len, f);
  fclose(f);
  uint8_t *data = NULL;
  size_t n = 0;
  REQUIRE(bundle_file_load(path, &data, &n, err, sizeof err) == TN_OK);
  CHECK(n == len && memcmp(data, b, len) == 0);
  free(data);
  /* a character device reads as a stream: empty, not an error here (bundle_read refuses it) */
  REQUIRE(bundle_file_load("/dev/null", &data, &n, err, sizeof err) == TN_OK);
  CHECK_INT(n, 0);
  free(data);
  snprintf(path, sizeof path, "%s/absent.tnb", dir);
  data = (uint8_t *)1;
  CHECK_INT(bundle_file_load(path, &data, &n, err, sizeof err), TN_EIO);
  CHECK(data == NULL && n == 0);
  CHECK(has("cannot open") && has("absent.tnb"));
  snprintf(path, sizeof path, "%s/huge2.tnb", dir);
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  REQUIRE(fd >= 0);
  CHECK(ftruncate(fd, (off_t)BUNDLE_MAX_SIZE + 1) == 0);
  close(fd);
  CHECK_INT(bundle_file_load(path, &data, &n, err, sizeof err), TN_ETOOBIG);
  CHECK(data == NULL);
  unlink(path);
  free(b);
  program_free(p);
}

static void test_writer_refuses_invalid(void) {
  program *p = build();
  p->code[7].op = 200;
  uint8_t *out = (uint8_t *)1;
  size_t len = 99;
  CHECK_INT(bundle_write(p, NULL, &out, &len, err, sizeof err), TN_ECORRUPT);
  CHECK(out == NULL && len == 0);
  CHECK(has("unknown opcode 200"));
  program_free(p);
}

/* 5.x text ids (vm/checkid.h): the optional check id table carries them, written only when a
 * check has one (so integer-id bundles keep their bytes), read back onto the checks, and bound to
 * the keys: damage to it is corruption, never a wrong id. */
static program *compile5(const char *yaml) {
  diag_list *d = diag_list_new();
  program *p = compile_policy_buffer("ids.yml", yaml, strlen(yaml), NULL, d);
  if (!p) diag_print(d, stderr, 0);
  diag_list_free(d);
  return p;
}

static void test_text_ids(void) {
  const char *head = "policy: {id: \"ids\", file: \"ids.yml\", name: \"n\", description: \"d\"}\nchecks:\n";
  char y[1024];
  snprintf(y, sizeof y,
           "%s  - {id: \"s5\", name: a, condition: all, rules: ['f:/a']}\n"
           "  - {id: 7, name: b, condition: all, rules: ['f:/a']}\n"
           "  - {id: \"cis-1.2\", name: c, condition: all, rules: ['f:/a']}\n",
           head);
  program *p = compile5(y);
  REQUIRE(p);
  size_t len;
  uint8_t *b = write_bundle(p, NULL, &len);
  REQUIRE(b);
  size_t sids = section_at(b, len, BSEC_CHECK_IDS);
  REQUIRE(sids);
  CHECK_INT(le_get32(b + BH_SECTION_COUNT), 7);
  CHECK_INT(le_get32(b + sids + 4), 4 + 2 * BUNDLE_CHECK_ID_SIZE);
  program *q = NULL;
  bundle_info info;
  REQUIRE(bundle_read(b, len, &q, &info, err, sizeof err) == TN_OK);
  same_program(p, q);
  REQUIRE(q->nchecks == 3);
  CHECK_STR(program_check_text_id(q, &q->checks[0]), "s5");
  CHECK(program_check_text_id(q, &q->checks[1]) == NULL);
  CHECK_STR(program_check_text_id(q, &q->checks[2]), "cis-1.2");
  CHECK(q->checks[0].id == checkid_text_key("s5", 2));
  CHECK(q->checks[1].id == 7);
  prog_check_meta m;
  program_check_meta(q, &q->checks[2], &m);
  CHECK_STR(m.id_text, "cis-1.2");
  program_free(q);

  /* damage, resealed so that it reaches the structure checks */
  uint8_t *c = malloc(len);
  size_t e0 = sids + 8 + 4; /* first record: index, text */
  memcpy(c, b, len);
  le_put32(c + e0, 3); /* index beyond the checks */
  reseal(c, len);
  CHECK_INT(read_rc(c, len), TN_ECORRUPT);
  CHECK(has("check id table entry 0: check 3 of 3"));
  memcpy(c, b, len);
  le_put32(c + e0 + 8, 0); /* second record's index not after the first */
  reseal(c, len);
  CHECK_INT(read_rc(c, len), TN_ECORRUPT);
  CHECK(has("not after"));
  memcpy(c, b, len);
  le_put32(c + e0 + 4, le_get32(b + e0 + 12)); /* s5 given cis-1.2's text: not its key */
  reseal(c, len);
  CHECK_INT(read_rc(c, len), TN_ECORRUPT);
  CHECK(has("is not the key of its text id"));
  memcpy(c, b, len);
  le_put32(c + e0 + 4, 0); /* an empty text */
  reseal(c, len);
  CHECK_INT(read_rc(c, len), TN_ECORRUPT);
  CHECK(has("empty text id"));
  memcpy(c, b, len);
  le_put32(c + sids + 8, 0); /* an empty table (written only when a check has a text id) */
  reseal(c, len);
  CHECK_INT(read_rc(c, len), TN_ECORRUPT);
  /* the table dropped: a key in the text range without its text */
  memcpy(c, b, len);
  le_put32(c + BH_SECTION_COUNT, 6);
  size_t cut = len - (len - BUNDLE_TRAILER_SIZE - sids);
  memmove(c + sids, c + len - BUNDLE_TRAILER_SIZE, BUNDLE_TRAILER_SIZE);
  reseal(c, cut);
  CHECK_INT(read_rc(c, cut), TN_ECORRUPT);
  CHECK(has("in the text-id range but has no text id"));
  free(c);
  free(b);
  program_free(p);

  /* a text that holds an integer is never a text id ("5" is check 5) */
  snprintf(y, sizeof y, "%s  - {id: \"s5\", name: \"5\", condition: all, rules: ['f:/a']}\n", head);
  p = compile5(y);
  REQUIRE(p);
  p->checks[0].text_id = p->checks[0].title;
  p->checks[0].id = checkid_text_key("5", 1);
  CHECK_INT(program_verify_fields(p, err, sizeof err), TN_ECORRUPT);
  CHECK(has("text id '5' is an integer"));
  program_free(p);

  /* integer ids only ("5" is the integer 5): no table, the bytes of before */
  snprintf(y, sizeof y,
           "%s  - {id: \"5\", name: a, condition: all, rules: ['f:/a']}\n"
           "  - {id: 7, name: b, condition: all, rules: ['f:/a']}\n",
           head);
  p = compile5(y);
  REQUIRE(p);
  b = write_bundle(p, NULL, &len);
  REQUIRE(b);
  CHECK(section_at(b, len, BSEC_CHECK_IDS) == 0);
  CHECK_INT(le_get32(b + BH_SECTION_COUNT), 6);
  for (uint32_t i = 0; i < p->nchecks; i++) CHECK(program_check_text_id(p, &p->checks[i]) == NULL);
  free(b);
  program_free(p);
}

int main(void) {
  if (!mkdtemp(dir)) {
    perror("mkdtemp");
    return 1;
  }
  char name[560], path[600];
  snprintf(name, sizeof name, "%s/signer", dir);
  if (crypto_keygen(name, err, sizeof err) != TN_OK) return fprintf(stderr, "%s\n", err), 1;
  snprintf(path, sizeof path, "%s.key", name);
  priv = crypto_key_load_private(path, err, sizeof err);
  snprintf(path, sizeof path, "%s.pub", name);
  pub = crypto_key_load_public(path, err, sizeof err);
  snprintf(name, sizeof name, "%s/other", dir);
  if (crypto_keygen(name, err, sizeof err) != TN_OK) return fprintf(stderr, "%s\n", err), 1;
  snprintf(path, sizeof path, "%s.pub", name);
  other_pub = crypto_key_load_public(path, err, sizeof err);
  if (!priv || !pub || !other_pub) return fprintf(stderr, "keys: %s\n", err), 1;

  RUN(test_roundtrip);
  RUN(test_roundtrip_empty);
  RUN(test_deterministic);
  RUN(test_signatures);
  RUN(test_tamper_signed);
  RUN(test_tamper_unsigned);
  RUN(test_truncated_and_extended);
  RUN(test_magic_and_versions);
  RUN(test_huge_counts);
  RUN(test_section_structure);
  RUN(test_offsets);
  RUN(test_bad_bytecode);
  RUN(test_check_fields);
  RUN(test_trailer);
  RUN(test_too_big);
  RUN(test_read_file);
  RUN(test_file_load);
  RUN(test_writer_refuses_invalid);
  RUN(test_text_ids);

  crypto_key_free(priv);
  crypto_key_free(pub);
  crypto_key_free(other_pub);
  char cmd[700];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
  if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", dir);
  return test_report();
}
