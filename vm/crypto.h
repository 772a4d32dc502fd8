/* crypto.h — hashing and signing: the only module that calls OpenSSL's crypto (TLS lives in proto/).
 *
 * Keys are Ed25519. A private key file (NAME.key) is PKCS#8 PEM; a public key file (NAME.pub) is
 * SubjectPublicKeyInfo PEM. A key id is the first 8 bytes of SHA-256 over the raw 32-byte public
 * key, printed as 16 lower-case hex digits. */
#ifndef TENET_CRYPTO_H
#define TENET_CRYPTO_H

#include <stddef.h>
#include <stdint.h>

#define CRYPTO_SHA256_LEN 32
#define CRYPTO_ED25519_PUB_LEN 32
#define CRYPTO_ED25519_SIG_LEN 64
#define CRYPTO_KEYID_LEN 8

/* SHA-256 of a buffer. */
void crypto_sha256(const void *data, size_t len, uint8_t out[CRYPTO_SHA256_LEN]);
/* SHA-256 of a file's bytes. Returns TN_OK or TN_EIO (errno kept). */
int crypto_sha256_file(const char *path, uint8_t out[CRYPTO_SHA256_LEN]);
/* Lower-case hex of n bytes into out (2n+1 bytes). */
void crypto_hex(const uint8_t *bytes, size_t n, char *out);

typedef struct crypto_key crypto_key; /* opaque: a private or public Ed25519 key */

/* Generate a key pair and write NAME.key (mode 0600) and NAME.pub. Never overwrites: an existing
 * NAME.key or NAME.pub gives TN_EIO. Returns TN_OK, TN_EIO or TN_EKEY. */
int crypto_keygen(const char *name, char *err, size_t errlen);
/* Load a private key (NAME.key) or public key (NAME.pub). NULL on failure with a message in err. */
crypto_key *crypto_key_load_private(const char *path, char *err, size_t errlen);
crypto_key *crypto_key_load_public(const char *path, char *err, size_t errlen);
/* A public key from its raw 32 bytes. */
crypto_key *crypto_key_from_raw_public(const uint8_t raw[CRYPTO_ED25519_PUB_LEN]);
void crypto_key_free(crypto_key *k);
/* Raw public key bytes and key id of a (private or public) key. */
int crypto_key_public_raw(const crypto_key *k, uint8_t out[CRYPTO_ED25519_PUB_LEN]);
void crypto_key_id(const crypto_key *k, uint8_t out[CRYPTO_KEYID_LEN]);

/* Sign / verify a message with Ed25519. sign returns TN_OK or TN_EKEY; verify returns TN_OK or
 * TN_ESIGNATURE. */
int crypto_sign(const crypto_key *priv, const void *msg, size_t len, uint8_t sig[CRYPTO_ED25519_SIG_LEN]);
int crypto_verify(const crypto_key *pub, const void *msg, size_t len, const uint8_t sig[CRYPTO_ED25519_SIG_LEN]);

#endif
