/* crypto.c — SHA-256 and Ed25519 on OpenSSL 3's EVP interface (see crypto.h).
 *
 * This is the only file that calls OpenSSL's crypto; TLS lives in proto/. Every function leaves
 * the OpenSSL error queue empty, so a failure here never shows up later in someone else's
 * ERR_get_error(). */
#include "crypto.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "err.h"

struct crypto_key {
  EVP_PKEY *pkey;
  int is_private;
};

/* ---- hashing ---- */

void crypto_sha256(const void *data, size_t len, uint8_t out[CRYPTO_SHA256_LEN]) {
  unsigned int n = 0;
  if (EVP_Digest(data, len, out, &n, EVP_sha256(), NULL) != 1 || n != CRYPTO_SHA256_LEN) {
    /* Only an allocation failure gets here; an all-zero hash never matches a real body. */
    memset(out, 0, CRYPTO_SHA256_LEN);
    ERR_clear_error();
  }
}

int crypto_sha256_file(const char *path, uint8_t out[CRYPTO_SHA256_LEN]) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return TN_EIO;
  EVP_MD_CTX *ctx = EVP_MD_CTX_new();
  int rc = TN_EIO;
  if (!ctx || EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1) {
    errno = ENOMEM;
    goto done;
  }
  uint8_t buf[65536];
  for (;;) {
    ssize_t n = read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) goto done;
    if (n == 0) break;
    if (EVP_DigestUpdate(ctx, buf, (size_t)n) != 1) {
      errno = ENOMEM;
      goto done;
    }
  }
  unsigned int len = 0;
  if (EVP_DigestFinal_ex(ctx, out, &len) == 1 && len == CRYPTO_SHA256_LEN) rc = TN_OK;
done:;
  int saved = errno;
  EVP_MD_CTX_free(ctx);
  close(fd);
  ERR_clear_error();
  errno = saved;
  return rc;
}

void crypto_hex(const uint8_t *bytes, size_t n, char *out) {
  static const char digits[] = "0123456789abcdef";
  for (size_t i = 0; i < n; i++) {
    out[2 * i] = digits[bytes[i] >> 4];
    out[2 * i + 1] = digits[bytes[i] & 15];
  }
  out[2 * n] = '\0';
}

/* ---- keys ---- */

static crypto_key *wrap(EVP_PKEY *pkey, int is_private) {
  crypto_key *k = malloc(sizeof *k);
  if (!k) {
    EVP_PKEY_free(pkey);
    return NULL;
  }
  k->pkey = pkey;
  k->is_private = is_private;
  return k;
}

/* Write one PEM file with the given mode; private keys are PKCS#8, public keys SPKI. The file must
 * not exist yet (O_EXCL): keygen never overwrites a key. */
static int write_pem(const char *path, EVP_PKEY *pkey, int private_key, char *err, size_t errlen) {
  int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, private_key ? 0600 : 0644);
  if (fd < 0) return tn_err_set(err, errlen, TN_EIO, "%s: %s", path, strerror(errno));
  /* The umask may only remove bits; make the private key's mode exactly 0600 regardless. */
  if (private_key && fchmod(fd, 0600) != 0) {
    int rc = tn_err_set(err, errlen, TN_EIO, "%s: %s", path, strerror(errno));
    close(fd);
    unlink(path);
    return rc;
  }
  FILE *f = fdopen(fd, "w");
  if (!f) {
    int rc = tn_err_set(err, errlen, TN_EIO, "%s: %s", path, strerror(errno));
    close(fd);
    unlink(path);
    return rc;
  }
  int ok = private_key ? PEM_write_PKCS8PrivateKey(f, pkey, NULL, NULL, 0, NULL, NULL)
                       : PEM_write_PUBKEY(f, pkey);
  int flushed = fflush(f) == 0 && fsync(fileno(f)) == 0;
  int saved = errno;
  if (fclose(f) != 0) flushed = 0;
  if (ok != 1 || !flushed) {
    int rc = tn_err_set(err, errlen, ok != 1 ? TN_EKEY : TN_EIO, "%s: cannot write the key: %s", path,
                        ok != 1 ? "encoding failed" : strerror(saved));
    unlink(path);
    ERR_clear_error();
    return rc;
  }
  return TN_OK;
}

int crypto_keygen(const char *name, char *err, size_t errlen) {
  size_t n = strlen(name);
  char *keypath = malloc(n + 5), *pubpath = malloc(n + 5);
  EVP_PKEY *pkey = NULL;
  int rc = TN_OK;
  if (!keypath || !pubpath) {
    rc = tn_err_set(err, errlen, TN_ENOMEM, "out of memory");
    goto done;
  }
  memcpy(keypath, name, n);
  memcpy(keypath + n, ".key", 5);
  memcpy(pubpath, name, n);
  memcpy(pubpath + n, ".pub", 5);

  pkey = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
  if (!pkey) {
    rc = tn_err_set(err, errlen, TN_EKEY, "cannot generate an Ed25519 key");
    goto done;
  }
  /* Refuse before writing anything when either file already exists. */
  if (access(keypath, F_OK) == 0 || access(pubpath, F_OK) == 0) {
    rc = tn_err_set(err, errlen, TN_EIO, "%s already exists: refusing to overwrite a key",
                    access(keypath, F_OK) == 0 ? keypath : pubpath);
    goto done;
  }
  rc = write_pem(keypath, pkey, 1, err, errlen);
  if (rc != TN_OK) goto done;
  rc = write_pem(pubpath, pkey, 0, err, errlen);
  if (rc != TN_OK) unlink(keypath);
done:
  EVP_PKEY_free(pkey);
  free(keypath);
  free(pubpath);
  ERR_clear_error();
  return rc;
}

static crypto_key *load(const char *path, int private_key, char *err, size_t errlen) {
  const char *what = private_key ? "private" : "public";
  FILE *f = fopen(path, "re");
  if (!f) {
    tn_err_set(err, errlen, TN_EKEY, "cannot open %s key %s: %s", what, path, strerror(errno));
    return NULL;
  }
  EVP_PKEY *pkey = private_key ? PEM_read_PrivateKey(f, NULL, NULL, NULL)
                               : PEM_read_PUBKEY(f, NULL, NULL, NULL);
  if (!pkey) {
    /* Say so when the other half of the pair was given. */
    int other = 0;
    rewind(f);
    ERR_clear_error();
    EVP_PKEY *o = private_key ? PEM_read_PUBKEY(f, NULL, NULL, NULL)
                              : PEM_read_PrivateKey(f, NULL, NULL, NULL);
    if (o) {
      other = 1;
      EVP_PKEY_free(o);
    }
    fclose(f);
    ERR_clear_error();
    if (other)
      tn_err_set(err, errlen, TN_EKEY, "%s: is a %s key, expected a %s key (%s)", path,
                 private_key ? "public" : "private", what, private_key ? "NAME.key" : "NAME.pub");
    else
      tn_err_set(err, errlen, TN_EKEY, "%s: not a PEM %s key", path, what);
    return NULL;
  }
  fclose(f);
  ERR_clear_error();
  if (EVP_PKEY_get_id(pkey) != EVP_PKEY_ED25519) {
    tn_err_set(err, errlen, TN_EKEY, "%s: not an Ed25519 key (found %s)", path,
               EVP_PKEY_get0_type_name(pkey) ? EVP_PKEY_get0_type_name(pkey) : "another type");
    EVP_PKEY_free(pkey);
    return NULL;
  }
  crypto_key *k = wrap(pkey, private_key);
  if (!k) tn_err_set(err, errlen, TN_ENOMEM, "out of memory");
  return k;
}

crypto_key *crypto_key_load_private(const char *path, char *err, size_t errlen) {
  return load(path, 1, err, errlen);
}

crypto_key *crypto_key_load_public(const char *path, char *err, size_t errlen) {
  return load(path, 0, err, errlen);
}

crypto_key *crypto_key_from_raw_public(const uint8_t raw[CRYPTO_ED25519_PUB_LEN]) {
  EVP_PKEY *pkey =
      EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, raw, CRYPTO_ED25519_PUB_LEN);
  if (!pkey) {
    ERR_clear_error();
    return NULL;
  }
  return wrap(pkey, 0);
}

void crypto_key_free(crypto_key *k) {
  if (!k) return;
  EVP_PKEY_free(k->pkey);
  free(k);
}

int crypto_key_public_raw(const crypto_key *k, uint8_t out[CRYPTO_ED25519_PUB_LEN]) {
  size_t n = CRYPTO_ED25519_PUB_LEN;
  if (!k || EVP_PKEY_get_raw_public_key(k->pkey, out, &n) != 1 || n != CRYPTO_ED25519_PUB_LEN) {
    ERR_clear_error();
    return TN_EKEY;
  }
  return TN_OK;
}

void crypto_key_id(const crypto_key *k, uint8_t out[CRYPTO_KEYID_LEN]) {
  uint8_t raw[CRYPTO_ED25519_PUB_LEN], h[CRYPTO_SHA256_LEN];
  if (crypto_key_public_raw(k, raw) != TN_OK) {
    memset(out, 0, CRYPTO_KEYID_LEN);
    return;
  }
  crypto_sha256(raw, sizeof raw, h);
  memcpy(out, h, CRYPTO_KEYID_LEN);
}

/* ---- signatures ---- */

int crypto_sign(const crypto_key *priv, const void *msg, size_t len,
                uint8_t sig[CRYPTO_ED25519_SIG_LEN]) {
  if (!priv || !priv->is_private) return TN_EKEY;
  EVP_MD_CTX *ctx = EVP_MD_CTX_new();
  size_t n = CRYPTO_ED25519_SIG_LEN;
  int ok = ctx && EVP_DigestSignInit(ctx, NULL, NULL, NULL, priv->pkey) == 1 &&
           EVP_DigestSign(ctx, sig, &n, msg, len) == 1 && n == CRYPTO_ED25519_SIG_LEN;
  EVP_MD_CTX_free(ctx);
  ERR_clear_error();
  if (!ok) memset(sig, 0, CRYPTO_ED25519_SIG_LEN);
  return ok ? TN_OK : TN_EKEY;
}

int crypto_verify(const crypto_key *pub, const void *msg, size_t len,
                  const uint8_t sig[CRYPTO_ED25519_SIG_LEN]) {
  if (!pub) return TN_ESIGNATURE;
  EVP_MD_CTX *ctx = EVP_MD_CTX_new();
  int ok = ctx && EVP_DigestVerifyInit(ctx, NULL, NULL, NULL, pub->pkey) == 1 &&
           EVP_DigestVerify(ctx, sig, CRYPTO_ED25519_SIG_LEN, msg, len) == 1;
  EVP_MD_CTX_free(ctx);
  ERR_clear_error();
  return ok ? TN_OK : TN_ESIGNATURE;
}
