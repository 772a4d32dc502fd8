/* waiver_sig.c — detached Ed25519 signatures of waiver files (FILE.sig, format in waiver.h): signed
 * with a bundle key, checked against a keyring with the keyring's own signature step and wording. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto.h"
#include "err.h"
#include "waiver.h"

#define SIG_MAGIC "tenet-signature 1"
#define SIG_DOMAIN "tenet-waiver-signature-1\n" /* a waiver signature never verifies anything else */
#define SIG_MAX 1024                            /* bytes of a .sig file */

/* The digest a waiver signature signs: SHA-256 of SIG_DOMAIN followed by the file's bytes. */
static int digest_of(const char *data, size_t len, uint8_t out[CRYPTO_SHA256_LEN]) {
  size_t dl = sizeof SIG_DOMAIN - 1;
  char *buf = malloc(dl + len + 1);
  if (!buf) return TN_ENOMEM;
  memcpy(buf, SIG_DOMAIN, dl);
  if (len) memcpy(buf + dl, data, len);
  crypto_sha256(buf, dl + len, out);
  free(buf);
  return TN_OK;
}

static char *sig_path(const char *path) {
  size_t n = strlen(path);
  char *p = malloc(n + sizeof WAIVER_SIG_SUFFIX);
  if (p) memcpy(memcpy(p, path, n) + n, WAIVER_SIG_SUFFIX, sizeof WAIVER_SIG_SUFFIX);
  return p;
}

int waiver_sign_file(const char *path, const crypto_key *priv, char *err, size_t errlen) {
  char *data = NULL, *sp = NULL, *tmp = NULL;
  size_t len;
  uint8_t dg[CRYPTO_SHA256_LEN], sig[CRYPTO_ED25519_SIG_LEN], id[CRYPTO_KEYID_LEN];
  char sighex[2 * CRYPTO_ED25519_SIG_LEN + 1], idhex[2 * CRYPTO_KEYID_LEN + 1];
  int rc = waiver_read_file(path, WAIVER_MAX_FILE, &data, &len);
  if (rc == TN_EIO) return tn_err_set(err, errlen, rc, "%s: cannot read: %s", path, strerror(errno));
  if (rc == TN_ETOOBIG) return tn_err_set(err, errlen, rc, "%s: larger than %u bytes", path, WAIVER_MAX_FILE);
  if (rc != TN_OK) return tn_err_set(err, errlen, rc, "out of memory");
  if ((rc = digest_of(data, len, dg)) != TN_OK) {
    tn_err_set(err, errlen, rc, "out of memory");
    goto out;
  }
  if ((rc = crypto_sign(priv, dg, sizeof dg, sig)) != TN_OK) {
    tn_err_set(err, errlen, rc, "signing %s failed (is the key a private key?)", path);
    goto out;
  }
  crypto_key_id(priv, id);
  crypto_hex(sig, sizeof sig, sighex);
  crypto_hex(id, sizeof id, idhex);
  if (!(sp = sig_path(path)) || !(tmp = malloc(strlen(sp) + 5))) {
    rc = tn_err_set(err, errlen, TN_ENOMEM, "out of memory");
    goto out;
  }
  strcat(strcpy(tmp, sp), ".tmp");
  FILE *f = fopen(tmp, "w");
  if (!f) {
    rc = tn_err_set(err, errlen, TN_EIO, "%s: cannot write: %s", tmp, strerror(errno));
    goto out;
  }
  int bad = fprintf(f, SIG_MAGIC "\nkey %s\ned25519 %s\n", idhex, sighex) < 0;
  bad |= fclose(f) != 0;
  if (bad || rename(tmp, sp) != 0) {
    rc = tn_err_set(err, errlen, TN_EIO, "%s: cannot write: %s", sp, strerror(errno));
    remove(tmp);
    goto out;
  }
out:
  free(tmp);
  free(sp);
  free(data);
  return rc;
}

/* n bytes from exactly 2n hex digits at s; 0 on success. */
static int unhex(const char *s, size_t slen, uint8_t *out, size_t n) {
  if (slen != 2 * n) return -1;
  for (size_t i = 0; i < n; i++) {
    int v = 0;
    for (int k = 0; k < 2; k++) {
      char c = s[2 * i + (size_t)k];
      int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
      if (d < 0) return -1;
      v = v * 16 + d;
    }
    out[i] = (uint8_t)v;
  }
  return 0;
}

/* Parse a .sig file's text into info's key id and signature; 0 on success, else the line (1-3)
 * that is wrong. */
static int parse_sig(const char *text, bundle_info *info) {
  const char *want[] = {SIG_MAGIC, "key ", "ed25519 "};
  const char *s = text;
  for (int line = 0; line < 3; line++) {
    const char *nl = strchr(s, '\n');
    if (!nl) return line + 1;
    size_t n = (size_t)(nl - s), w = strlen(want[line]);
    if (n < w || memcmp(s, want[line], w) != 0) return line + 1;
    if (line == 0 && n != w) return 1;
    if (line == 1 && unhex(s + w, n - w, info->key_id, CRYPTO_KEYID_LEN) != 0) return 2;
    if (line == 2 && unhex(s + w, n - w, info->signature, CRYPTO_ED25519_SIG_LEN) != 0) return 3;
    s = nl + 1;
  }
  return *s ? 4 : 0;
}

int waiver_verify_data(const char *path, const char *data, size_t len, const keyring *kr, char signer[17],
                       const char **signer_name, char *err, size_t errlen) {
  char *sp = sig_path(path), *text = NULL;
  size_t tlen;
  if (!sp) return tn_err_set(err, errlen, TN_ENOMEM, "out of memory");
  int rc = waiver_read_file(sp, SIG_MAX, &text, &tlen);
  if (rc == TN_EIO && errno == ENOENT)
    rc = tn_err_set(err, errlen, TN_EUNSIGNED, "waiver file is not signed (no %s)", sp);
  else if (rc == TN_EIO)
    rc = tn_err_set(err, errlen, rc, "cannot read %s: %s", sp, strerror(errno));
  else if (rc == TN_ETOOBIG)
    rc = tn_err_set(err, errlen, TN_ECORRUPT, "%s is not a signature (too long)", sp);
  else if (rc != TN_OK)
    rc = tn_err_set(err, errlen, rc, "out of memory");
  bundle_info info = {.is_signed = 1};
  int line;
  if (rc == TN_OK && (strlen(text) != tlen || (line = parse_sig(text, &info)) != 0))
    rc = tn_err_set(err, errlen, TN_ECORRUPT,
                    "%s: line %d: not a tenet signature (expected '" SIG_MAGIC
                    "', 'key KEYID', 'ed25519 SIGNATURE')",
                    sp, strlen(text) != tlen ? 1 : line);
  if (rc == TN_OK && (rc = digest_of(data, len, info.bundle_hash)) != TN_OK)
    tn_err_set(err, errlen, rc, "out of memory");
  if (rc == TN_OK) {
    char why[512];
    rc = keyring_check_signature(kr, &info, KEYRING_EMPTY_REFUSES, signer, signer_name, why, sizeof why);
    /* the keyring words it for bundles: the same sentences, about this waiver file */
    const char *b = strncmp(why, "bundle ", 7) == 0 ? why + 7 : NULL;
    const char *q = strstr(why, "the bundle's");
    if (rc == TN_OK) {
    } else if (b) {
      tn_err_set(err, errlen, rc, "waiver %s", b);
    } else if (q) {
      tn_err_set(err, errlen, rc, "%.*sthe waiver's%s", (int)(q - why), why, q + 12);
    } else {
      tn_err_set(err, errlen, rc, "%s", why);
    }
  }
  free(text);
  free(sp);
  return rc;
}

int waiver_verify_file(const char *path, const keyring *kr, char signer[17], const char **signer_name,
                       char *err, size_t errlen) {
  char *data;
  size_t len;
  int rc = waiver_read_file(path, WAIVER_MAX_FILE, &data, &len);
  if (rc == TN_EIO) return tn_err_set(err, errlen, rc, "cannot read: %s", strerror(errno));
  if (rc == TN_ETOOBIG) return tn_err_set(err, errlen, rc, "larger than %u bytes", WAIVER_MAX_FILE);
  if (rc != TN_OK) return tn_err_set(err, errlen, rc, "out of memory");
  rc = waiver_verify_data(path, data, len, kr, signer, signer_name, err, errlen);
  free(data);
  return rc;
}

int waiver_set_load_trusted(waiver_set *ws, const char *path, const crypto_key *pubkey, int allow_unsigned,
                            diag_list *diags, char *err, size_t errlen) {
  char *data;
  size_t len;
  int rc = waiver_read_file(path, WAIVER_MAX_FILE, &data, &len);
  if (rc == TN_EIO) return tn_err_set(err, errlen, rc, "%s: cannot read: %s", path, strerror(errno));
  if (rc == TN_ETOOBIG) return tn_err_set(err, errlen, rc, "%s: larger than %u bytes", path, WAIVER_MAX_FILE);
  if (rc != TN_OK) return tn_err_set(err, errlen, rc, "out of memory");
  if (pubkey) { /* the bytes checked are the bytes parsed */
    keyring *kr = keyring_new();
    char why[512], signer[17];
    if (!kr || keyring_add_key(kr, pubkey, "--pubkey") != TN_OK) {
      rc = tn_err_set(err, errlen, TN_ENOMEM, "out of memory");
    } else if ((rc = waiver_verify_data(path, data, len, kr, signer, NULL, why, sizeof why)) != TN_OK) {
      if (rc == TN_EUNSIGNED && allow_unsigned)
        rc = TN_OK;
      else
        tn_err_set(err, errlen, rc, "%s: refused: %s: %s%s", path, keyring_refusal(rc), why,
                   rc == TN_EUNSIGNED
                       ? " (sign it with `tenet sign --key KEY FILE`, or give --allow-unsigned)"
                       : "");
    }
    keyring_free(kr);
  }
  if (rc == TN_OK && (rc = waiver_set_parse(ws, path, data, len, diags)) != TN_OK)
    tn_err_set(err, errlen, rc, "%s: waiver file has errors", path);
  free(data);
  return rc;
}
