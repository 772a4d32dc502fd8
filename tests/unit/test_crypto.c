/* test_crypto.c — hashing and Ed25519 signing (vm/crypto.c): known SHA-256 vectors, key pairs
 * written to a temporary directory and read back, signatures that verify only with the right key
 * and the right message, and clear failures on missing or malformed key files. */
#include "test.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "crypto.h"
#include "err.h"

static char dir[] = "/tmp/tenet-crypto-XXXXXX";
static char err[512];

static void path_in(char *out, size_t n, const char *name) { snprintf(out, n, "%s/%s", dir, name); }

static void write_file(const char *path, const char *text) {
  FILE *f = fopen(path, "w");
  if (!f) return;
  fputs(text, f);
  fclose(f);
}

static void test_sha256_vectors(void) {
  uint8_t h[CRYPTO_SHA256_LEN];
  char hex[2 * CRYPTO_SHA256_LEN + 1];
  crypto_sha256("", 0, h);
  crypto_hex(h, sizeof h, hex);
  CHECK_STR(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  crypto_sha256("abc", 3, h);
  crypto_hex(h, sizeof h, hex);
  CHECK_STR(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  /* The results hash example of ARCHITECTURE.md. */
  const char *r = "passed,failed,failed,passed";
  crypto_sha256(r, strlen(r), h);
  crypto_hex(h, sizeof h, hex);
  CHECK_STR(hex, "1642ab1dc478052ac3556b5e700cd82adb69728008301882b9cbee0696ff2c84");
}

static void test_sha256_file(void) {
  char path[512];
  path_in(path, sizeof path, "data.txt");
  /* Larger than the read buffer, so the streaming path is exercised. */
  size_t n = 200000;
  char *buf = malloc(n);
  REQUIRE(buf);
  for (size_t i = 0; i < n; i++) buf[i] = (char)('a' + i % 26);
  FILE *f = fopen(path, "wb");
  REQUIRE(f);
  fwrite(buf, 1, n, f);
  fclose(f);
  uint8_t a[CRYPTO_SHA256_LEN], b[CRYPTO_SHA256_LEN];
  CHECK_INT(crypto_sha256_file(path, a), TN_OK);
  crypto_sha256(buf, n, b);
  CHECK(memcmp(a, b, sizeof a) == 0);
  free(buf);
  path_in(path, sizeof path, "missing.txt");
  CHECK_INT(crypto_sha256_file(path, a), TN_EIO);
}

static void test_hex(void) {
  const uint8_t b[] = {0x00, 0x0f, 0xa0, 0xff};
  char hex[9];
  crypto_hex(b, sizeof b, hex);
  CHECK_STR(hex, "000fa0ff");
  crypto_hex(b, 0, hex);
  CHECK_STR(hex, "");
}

static void test_keygen_files(void) {
  char name[512], key[512], pub[512];
  path_in(name, sizeof name, "alice");
  path_in(key, sizeof key, "alice.key");
  path_in(pub, sizeof pub, "alice.pub");
  CHECK_INT(crypto_keygen(name, err, sizeof err), TN_OK);
  struct stat st;
  REQUIRE(stat(key, &st) == 0);
  CHECK_INT(st.st_mode & 0777, 0600);
  REQUIRE(stat(pub, &st) == 0);

  char text[4096] = "";
  FILE *f = fopen(key, "r");
  REQUIRE(f);
  size_t n = fread(text, 1, sizeof text - 1, f);
  text[n] = '\0';
  fclose(f);
  CHECK(strstr(text, "-----BEGIN PRIVATE KEY-----") == text); /* PKCS#8 */
  f = fopen(pub, "r");
  REQUIRE(f);
  n = fread(text, 1, sizeof text - 1, f);
  text[n] = '\0';
  fclose(f);
  CHECK(strstr(text, "-----BEGIN PUBLIC KEY-----") == text); /* SubjectPublicKeyInfo */

  /* Never overwrite an existing key. */
  CHECK_INT(crypto_keygen(name, err, sizeof err), TN_EIO);
  CHECK(strstr(err, "already exists") != NULL);
}

static void test_sign_verify(void) {
  char name[512], key[512], pub[512];
  path_in(name, sizeof name, "bob");
  path_in(key, sizeof key, "bob.key");
  path_in(pub, sizeof pub, "bob.pub");
  REQUIRE(crypto_keygen(name, err, sizeof err) == TN_OK);
  crypto_key *priv = crypto_key_load_private(key, err, sizeof err);
  crypto_key *pk = crypto_key_load_public(pub, err, sizeof err);
  REQUIRE(priv && pk);

  /* The private and the public half agree on the raw key and the key id. */
  uint8_t raw1[CRYPTO_ED25519_PUB_LEN], raw2[CRYPTO_ED25519_PUB_LEN];
  CHECK_INT(crypto_key_public_raw(priv, raw1), TN_OK);
  CHECK_INT(crypto_key_public_raw(pk, raw2), TN_OK);
  CHECK(memcmp(raw1, raw2, sizeof raw1) == 0);
  uint8_t id1[CRYPTO_KEYID_LEN], id2[CRYPTO_KEYID_LEN], h[CRYPTO_SHA256_LEN];
  crypto_key_id(priv, id1);
  crypto_key_id(pk, id2);
  CHECK(memcmp(id1, id2, sizeof id1) == 0);
  crypto_sha256(raw1, sizeof raw1, h);
  CHECK(memcmp(id1, h, sizeof id1) == 0); /* first 8 bytes of SHA-256 of the raw key */

  const char *msg = "the bundle hash";
  uint8_t sig[CRYPTO_ED25519_SIG_LEN], sig2[CRYPTO_ED25519_SIG_LEN];
  CHECK_INT(crypto_sign(priv, msg, strlen(msg), sig), TN_OK);
  CHECK_INT(crypto_sign(priv, msg, strlen(msg), sig2), TN_OK);
  CHECK(memcmp(sig, sig2, sizeof sig) == 0); /* Ed25519 is deterministic */
  CHECK_INT(crypto_verify(pk, msg, strlen(msg), sig), TN_OK);
  CHECK_INT(crypto_verify(priv, msg, strlen(msg), sig), TN_OK);

  /* Tampered message, tampered signature. */
  CHECK_INT(crypto_verify(pk, "the bundle hasH", strlen(msg), sig), TN_ESIGNATURE);
  CHECK_INT(crypto_verify(pk, msg, strlen(msg) - 1, sig), TN_ESIGNATURE);
  for (size_t i = 0; i < sizeof sig; i += 7) {
    sig[i] ^= 0x01;
    CHECK_INT(crypto_verify(pk, msg, strlen(msg), sig), TN_ESIGNATURE);
    sig[i] ^= 0x01;
  }

  /* A public key cannot sign. */
  CHECK_INT(crypto_sign(pk, msg, strlen(msg), sig2), TN_EKEY);
  CHECK_INT(crypto_sign(NULL, msg, strlen(msg), sig2), TN_EKEY);

  /* A key rebuilt from its raw bytes verifies too. */
  crypto_key *fromraw = crypto_key_from_raw_public(raw1);
  REQUIRE(fromraw);
  CHECK_INT(crypto_verify(fromraw, msg, strlen(msg), sig), TN_OK);
  uint8_t id3[CRYPTO_KEYID_LEN];
  crypto_key_id(fromraw, id3);
  CHECK(memcmp(id1, id3, sizeof id1) == 0);
  crypto_key_free(fromraw);

  crypto_key_free(priv);
  crypto_key_free(pk);
}

static void test_wrong_key(void) {
  char n1[512], n2[512], k1[512], p2[512];
  path_in(n1, sizeof n1, "k1");
  path_in(n2, sizeof n2, "k2");
  path_in(k1, sizeof k1, "k1.key");
  path_in(p2, sizeof p2, "k2.pub");
  REQUIRE(crypto_keygen(n1, err, sizeof err) == TN_OK);
  REQUIRE(crypto_keygen(n2, err, sizeof err) == TN_OK);
  crypto_key *priv = crypto_key_load_private(k1, err, sizeof err);
  crypto_key *other = crypto_key_load_public(p2, err, sizeof err);
  REQUIRE(priv && other);
  uint8_t sig[CRYPTO_ED25519_SIG_LEN];
  REQUIRE(crypto_sign(priv, "m", 1, sig) == TN_OK);
  CHECK_INT(crypto_verify(other, "m", 1, sig), TN_ESIGNATURE);
  uint8_t a[CRYPTO_KEYID_LEN], b[CRYPTO_KEYID_LEN];
  crypto_key_id(priv, a);
  crypto_key_id(other, b);
  CHECK(memcmp(a, b, sizeof a) != 0);
  crypto_key_free(priv);
  crypto_key_free(other);
}

static void test_malformed_keys(void) {
  char path[512];
  path_in(path, sizeof path, "nope.key");
  CHECK(crypto_key_load_private(path, err, sizeof err) == NULL);
  CHECK(strstr(err, "cannot open") && strstr(err, "No such file"));
  CHECK(crypto_key_load_public(path, err, sizeof err) == NULL);
  CHECK(strstr(err, "cannot open public key") != NULL);

  path_in(path, sizeof path, "garbage.key");
  write_file(path, "this is not a key\n");
  CHECK(crypto_key_load_private(path, err, sizeof err) == NULL);
  CHECK(strstr(err, "not a PEM private key") != NULL);
  CHECK(crypto_key_load_public(path, err, sizeof err) == NULL);
  CHECK(strstr(err, "not a PEM public key") != NULL);

  path_in(path, sizeof path, "empty.pub");
  write_file(path, "");
  CHECK(crypto_key_load_public(path, err, sizeof err) == NULL);
  CHECK(strstr(err, "not a PEM public key") != NULL);

  /* A PEM block whose base64 body is broken. */
  path_in(path, sizeof path, "broken.key");
  write_file(path, "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEI!!!!\n-----END PRIVATE KEY-----\n");
  CHECK(crypto_key_load_private(path, err, sizeof err) == NULL);
  CHECK(strstr(err, "not a PEM private key") != NULL);

  /* Valid PEM keys of another type: an EC P-256 pair (PKCS#8 and SPKI). */
  path_in(path, sizeof path, "ec.key");
  write_file(path,
             "-----BEGIN PRIVATE KEY-----\n"
             "MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgyb+ADUsRS9blo1L8\n"
             "hOo5WmlKxZQkPBuNTm2cKA8Hsj2hRANCAAT/ccV9Gp7hrUc6VEj8VOpk//LJtRcj\n"
             "dG+y4Lg+K+k9eilnr76WqdQ5u79NM2Y7Bd2jREn4MkaRlzyXIIld7Xq+\n"
             "-----END PRIVATE KEY-----\n");
  CHECK(crypto_key_load_private(path, err, sizeof err) == NULL);
  CHECK(strstr(err, "not an Ed25519 key") != NULL);
  path_in(path, sizeof path, "ec.pub");
  write_file(path,
             "-----BEGIN PUBLIC KEY-----\n"
             "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE/3HFfRqe4a1HOlRI/FTqZP/yybUX\n"
             "I3RvsuC4PivpPXopZ6++lqnUObu/TTNmOwXdo0RJ+DJGkZc8lyCJXe16vg==\n"
             "-----END PUBLIC KEY-----\n");
  CHECK(crypto_key_load_public(path, err, sizeof err) == NULL);
  CHECK(strstr(err, "not an Ed25519 key") != NULL);

  /* The halves of a pair swapped. */
  char name[512], key[512], pub[512];
  path_in(name, sizeof name, "swap");
  path_in(key, sizeof key, "swap.key");
  path_in(pub, sizeof pub, "swap.pub");
  REQUIRE(crypto_keygen(name, err, sizeof err) == TN_OK);
  CHECK(crypto_key_load_private(pub, err, sizeof err) == NULL);
  CHECK(strstr(err, "is a public key, expected a private key") != NULL);
  CHECK(crypto_key_load_public(key, err, sizeof err) == NULL);
  CHECK(strstr(err, "is a private key, expected a public key") != NULL);
  crypto_key_free(NULL);
}

int main(void) {
  if (!mkdtemp(dir)) {
    perror("mkdtemp");
    return 1;
  }
  RUN(test_sha256_vectors);
  RUN(test_sha256_file);
  RUN(test_hex);
  RUN(test_keygen_files);
  RUN(test_sign_verify);
  RUN(test_wrong_key);
  RUN(test_malformed_keys);
  char cmd[600];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
  if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", dir);
  return test_report();
}
