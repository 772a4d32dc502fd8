/* test_keyring.c — bundle admission (vm/keyring.c) with real keys on disk and real bundles: the
 * right key among several is found and named, and each refusal (no key, wrong key, unsigned,
 * tampered body, tampered signature, expired, rollback) gets its status, its wording and its word. */
#include "test.h"

#include <sys/stat.h>
#include <unistd.h>

#include "bundle.h"
#include "compile.h"
#include "crypto.h"
#include "diag.h"
#include "err.h"
#include "keyring.h"

static char dir[] = "/tmp/tenet-keyring-XXXXXX";
static char err[512];
static crypto_key *priv_a, *priv_b, *priv_c; /* a and b are trusted (b in a directory), c is not */

static const char *policy_yml =
    "policy:\n  id: \"kr_demo\"\n  file: \"kr.yml\"\n  name: \"keyring demo\"\n  description: \"d\"\n"
    "checks:\n  - id: 1\n    title: \"hosts\"\n    condition: all\n    rules:\n      - 'f:/etc/hosts'\n";

static void path_of(char *out, size_t cap, const char *name) { snprintf(out, cap, "%s/%s", dir, name); }

static int has(const char *needle) {
  if (strstr(err, needle)) return 1;
  fprintf(stderr, "  message: %s\n  lacks:   %s\n", err, needle);
  return 0;
}

/* A bundle of the demo policy: version, expiry, signed with key (NULL: unsigned). Caller frees. */
static uint8_t *make(uint64_t version, int64_t expiry, const crypto_key *key, size_t *len) {
  compile_options co = COMPILE_OPTIONS_DEFAULT;
  co.policy_version = version;
  co.expiry = expiry;
  diag_list *d = diag_list_new();
  program *p = compile_policy_buffer("kr.yml", policy_yml, strlen(policy_yml), &co, d);
  diag_list_free(d);
  if (!p) return NULL;
  uint8_t *out = NULL;
  int rc = bundle_write(p, key, &out, len, err, sizeof err);
  program_free(p);
  return rc == TN_OK ? out : NULL;
}

static void write_bytes(const char *name, const uint8_t *b, size_t n) {
  char path[4200];
  path_of(path, sizeof path, name);
  FILE *f = fopen(path, "wb");
  REQUIRE(f != NULL);
  REQUIRE(fwrite(b, 1, n, f) == n);
  fclose(f);
}

static void hex_id(const crypto_key *k, char out[17]) {
  uint8_t id[CRYPTO_KEYID_LEN];
  crypto_key_id(k, id);
  crypto_hex(id, sizeof id, out);
}

/* The trusted ring: a.pub by file, the directory "ring" holding b.pub (and a non-key file). */
static keyring *trusted(void) {
  char a[4200], ring[4200];
  path_of(a, sizeof a, "a.pub");
  path_of(ring, sizeof ring, "ring");
  const char *paths[] = {a, ring};
  keyring *kr = keyring_load(paths, 2, err, sizeof err);
  if (!kr) fprintf(stderr, "keyring_load: %s\n", err);
  return kr;
}

static void test_loading(void) {
  keyring *kr = trusted();
  REQUIRE(kr);
  CHECK_INT(keyring_count(kr), 2);
  keyring_free(kr);
  keyring_free(NULL);

  char p[4200];
  const char *paths[1] = {p};
  path_of(p, sizeof p, "missing.pub");
  CHECK(keyring_load(paths, 1, err, sizeof err) == NULL);
  CHECK(has("trusted key ") && has("missing.pub"));
  path_of(p, sizeof p, "a.key"); /* the private half is not a trusted key */
  CHECK(keyring_load(paths, 1, err, sizeof err) == NULL);
  CHECK(has("expected a public key"));
  path_of(p, sizeof p, "empty");
  CHECK(keyring_load(paths, 1, err, sizeof err) == NULL);
  CHECK(has("holds no *.pub key"));
  kr = keyring_new();
  REQUIRE(kr);
  CHECK_INT(keyring_add_path(kr, p, err, sizeof err), TN_ENOTFOUND);
  CHECK_INT(keyring_count(kr), 0);
  CHECK_INT(keyring_add_key(kr, priv_c, "c"), TN_OK); /* only the public half is kept */
  CHECK_INT(keyring_count(kr), 1);
  keyring_free(kr);
}

/* Several keys: the one that signed is found (by file and in a directory) and named. */
static void test_right_key_found_and_named(void) {
  keyring *kr = trusted();
  REQUIRE(kr);
  const crypto_key *signers[] = {priv_a, priv_b};
  const char *names[] = {"a.pub", "ring/b.pub"};
  for (int i = 0; i < 2; i++) {
    size_t len;
    uint8_t *b = make(3, 0, signers[i], &len);
    REQUIRE(b);
    keyring_admitted a;
    REQUIRE(keyring_admit(kr, b, len, NULL, &a, err, sizeof err) == TN_OK);
    char want[17];
    hex_id(signers[i], want);
    CHECK_STR(a.signer, want);
    CHECK_INT(a.signature_checked, 1);
    REQUIRE(a.signer_name != NULL);
    CHECK(strstr(a.signer_name, names[i]) != NULL);
    CHECK_STR(program_str(a.prog, a.prog->policy_id), "kr_demo");
    CHECK_INT(a.prog->policy_version, 3);
    CHECK_INT(strlen(a.bundle_hash), 64);
    CHECK(a.data == NULL);
    keyring_admitted_clear(&a);
    keyring_admitted_clear(NULL);
    free(b);
  }
  /* from a file, keeping the bytes (the manager hands them out) */
  size_t len;
  uint8_t *b = make(3, 0, priv_b, &len);
  REQUIRE(b);
  write_bytes("good.tnb", b, len);
  char path[4200];
  path_of(path, sizeof path, "good.tnb");
  keyring_rules keep = {.keep_bytes = 1};
  keyring_admitted a;
  REQUIRE(keyring_admit_file(kr, path, &keep, &a, err, sizeof err) == TN_OK);
  CHECK(a.len == len && a.data && memcmp(a.data, b, len) == 0);
  keyring_admitted_clear(&a);
  free(b);
  keyring_free(kr);
}

static void test_wrong_key(void) {
  keyring *kr = trusted();
  REQUIRE(kr);
  size_t len;
  uint8_t *b = make(3, 0, priv_c, &len);
  REQUIRE(b);
  keyring_admitted a;
  CHECK_INT(keyring_admit(kr, b, len, NULL, &a, err, sizeof err), TN_EUNTRUSTED);
  char c[17], ka[17], kb[17];
  hex_id(priv_c, c);
  hex_id(priv_a, ka);
  hex_id(priv_b, kb);
  char want[128];
  snprintf(want, sizeof want, "signed by key %s, which is not in the trust store (trusted: %s, %s)", c, ka,
           kb);
  CHECK_STR(err, want);
  CHECK_STR(keyring_refusal(TN_EUNTRUSTED), "wrong signer");
  CHECK(a.prog == NULL);
  free(b);
  keyring_free(kr);
}

static void test_no_key(void) {
  keyring *kr = keyring_new();
  REQUIRE(kr);
  size_t len;
  uint8_t *s = make(3, 0, priv_a, &len), *u = NULL;
  REQUIRE(s);
  keyring_admitted a;
  /* an empty ring refuses by default, even a signed bundle: nothing to check it with */
  CHECK_INT(keyring_admit(kr, s, len, NULL, &a, err, sizeof err), TN_EUNTRUSTED);
  CHECK(has("no trusted key to check the bundle's signature with"));
  /* the manager without trusted_keys: signed bundles, not verified */
  keyring_rules signed_only = {.empty = KEYRING_EMPTY_SIGNED};
  REQUIRE(keyring_admit(kr, s, len, &signed_only, &a, err, sizeof err) == TN_OK);
  CHECK_INT(a.signature_checked, 0);
  CHECK_STR(a.signer, "");
  CHECK(a.signer_name == NULL);
  keyring_admitted_clear(&a);
  size_t ulen;
  u = make(3, 0, NULL, &ulen);
  REQUIRE(u);
  CHECK_INT(keyring_admit(kr, u, ulen, &signed_only, &a, err, sizeof err), TN_EUNSIGNED);
  CHECK_STR(err, "bundle is not signed");
  /* --allow-unsigned */
  keyring_rules any = {.empty = KEYRING_EMPTY_ANY};
  REQUIRE(keyring_admit(kr, u, ulen, &any, &a, err, sizeof err) == TN_OK);
  CHECK_INT(a.signature_checked, 0);
  keyring_admitted_clear(&a);
  keyring_free(kr);
  /* a ring with keys never admits an unsigned bundle, whatever the empty-ring rule */
  kr = trusted();
  REQUIRE(kr);
  CHECK_INT(keyring_admit(kr, u, ulen, &any, &a, err, sizeof err), TN_EUNSIGNED);
  CHECK_STR(keyring_refusal(TN_EUNSIGNED), "wrong signer");
  keyring_free(kr);
  free(s);
  free(u);
}

static void test_tampered(void) {
  keyring *kr = trusted();
  REQUIRE(kr);
  size_t len;
  uint8_t *b = make(3, 0, priv_a, &len);
  REQUIRE(b);
  keyring_admitted a;
  b[len / 2] ^= 0x20; /* the body */
  int rc = keyring_admit(kr, b, len, NULL, &a, err, sizeof err);
  CHECK(rc == TN_EINTEGRITY || rc == TN_ECORRUPT);
  CHECK_STR(keyring_refusal(rc), "tampered");
  b[len / 2] ^= 0x20;
  b[len - 1] ^= 0x01; /* the signature: the body is intact */
  CHECK_INT(keyring_admit(kr, b, len, NULL, &a, err, sizeof err), TN_ESIGNATURE);
  char ka[17], want[96];
  hex_id(priv_a, ka);
  snprintf(want, sizeof want, "bundle signature does not verify with key %s", ka);
  CHECK_STR(err, want);
  CHECK_STR(keyring_refusal(TN_ESIGNATURE), "tampered");
  /* on disk too, and a file that is not there */
  write_bytes("bad.tnb", b, len);
  char path[4200];
  path_of(path, sizeof path, "bad.tnb");
  CHECK_INT(keyring_admit_file(kr, path, NULL, &a, err, sizeof err), TN_ESIGNATURE);
  path_of(path, sizeof path, "none.tnb");
  CHECK_INT(keyring_admit_file(kr, path, NULL, &a, err, sizeof err), TN_EIO);
  CHECK(has("cannot open"));
  CHECK_STR(keyring_refusal(TN_EIO), "unreadable");
  free(b);
  keyring_free(kr);
}

static void test_expired(void) {
  keyring *kr = trusted();
  REQUIRE(kr);
  size_t len;
  uint8_t *b = make(3, 1000000, priv_a, &len);
  REQUIRE(b);
  keyring_admitted a;
  keyring_rules before = {.now = 999999}, after = {.now = 1000001},
                unchecked = {.now = 1000001, .no_expiry = 1};
  REQUIRE(keyring_admit(kr, b, len, &before, &a, err, sizeof err) == TN_OK);
  keyring_admitted_clear(&a);
  CHECK_INT(keyring_admit(kr, b, len, &after, &a, err, sizeof err), TN_EEXPIRED);
  CHECK_STR(err, "bundle expired at 1000000 (now 1000001)");
  CHECK_STR(keyring_refusal(TN_EEXPIRED), "expired");
  REQUIRE(keyring_admit(kr, b, len, &unchecked, &a, err, sizeof err) == TN_OK);
  keyring_admitted_clear(&a);
  CHECK_INT(keyring_admit(kr, b, len, NULL, &a, err, sizeof err), TN_EEXPIRED); /* the real clock */
  free(b);
  keyring_free(kr);
}

/* The last-version record of a fake caller: one policy id, one version. */
typedef struct record {
  const char *policy_id;
  uint64_t version;
  int fail;
  int calls;
} record;

static int last_run(void *ctx, const char *policy_id, uint64_t *version, char *e, size_t elen) {
  record *r = ctx;
  r->calls++;
  if (r->fail) {
    snprintf(e, elen, "store is unreadable");
    return TN_EDB;
  }
  *version = strcmp(policy_id, r->policy_id) == 0 ? r->version : 0;
  return TN_OK;
}

static void test_rollback(void) {
  keyring *kr = trusted();
  REQUIRE(kr);
  size_t len;
  uint8_t *v2 = make(2, 0, priv_a, &len);
  REQUIRE(v2);
  keyring_admitted a;
  record rec = {"kr_demo", 3, 0, 0};
  keyring_rules rules = {.last_version = last_run, .ctx = &rec};
  CHECK_INT(keyring_admit(kr, v2, len, &rules, &a, err, sizeof err), TN_EROLLBACK);
  CHECK_STR(err, "version 2 is lower than version 3 already run for policy 'kr_demo'");
  CHECK_STR(keyring_refusal(TN_EROLLBACK), "rollback");
  CHECK_INT(rec.calls, 1);
  rec.version = 2; /* the same version again is not a rollback */
  REQUIRE(keyring_admit(kr, v2, len, &rules, &a, err, sizeof err) == TN_OK);
  keyring_admitted_clear(&a);
  rec.policy_id = "another"; /* versions are per policy id */
  rec.version = 9;
  REQUIRE(keyring_admit(kr, v2, len, &rules, &a, err, sizeof err) == TN_OK);
  keyring_admitted_clear(&a);
  rec.fail = 1; /* the record cannot be read: refused with its status */
  CHECK_INT(keyring_admit(kr, v2, len, &rules, &a, err, sizeof err), TN_EDB);
  CHECK_STR(err, "store is unreadable");
  /* the signature comes first: a wrong signer is not asked for its version */
  free(v2);
  v2 = make(2, 0, priv_c, &len);
  REQUIRE(v2);
  rec.fail = 0;
  rec.calls = 0;
  CHECK_INT(keyring_admit(kr, v2, len, &rules, &a, err, sizeof err), TN_EUNTRUSTED);
  CHECK_INT(rec.calls, 0);
  CHECK_INT(keyring_check_version("p", 5, 0, err, sizeof err), TN_OK);
  free(v2);
  keyring_free(kr);
}

int main(void) {
  REQUIRE(mkdtemp(dir) != NULL);
  const char *names[] = {"a", "ring/b", "c"};
  crypto_key **keys[] = {&priv_a, &priv_b, &priv_c};
  char p[4200];
  path_of(p, sizeof p, "ring");
  REQUIRE(mkdir(p, 0755) == 0);
  path_of(p, sizeof p, "empty");
  REQUIRE(mkdir(p, 0755) == 0);
  for (int i = 0; i < 3; i++) {
    path_of(p, sizeof p, names[i]);
    REQUIRE(crypto_keygen(p, err, sizeof err) == TN_OK);
    strcat(p, ".key");
    REQUIRE((*keys[i] = crypto_key_load_private(p, err, sizeof err)) != NULL);
  }
  path_of(p, sizeof p, "ring/b.key"); /* only *.pub files of a directory are keys */
  REQUIRE(access(p, F_OK) == 0);
  path_of(p, sizeof p, "ring/.hidden.pub");
  FILE *f = fopen(p, "w");
  REQUIRE(f != NULL);
  fputs("not a key\n", f);
  fclose(f);
  RUN(test_loading);
  RUN(test_right_key_found_and_named);
  RUN(test_wrong_key);
  RUN(test_no_key);
  RUN(test_tampered);
  RUN(test_expired);
  RUN(test_rollback);
  for (int i = 0; i < 3; i++)
    crypto_key_free(*keys[i]);
  test_rm_rf(dir);
  return test_report();
}
