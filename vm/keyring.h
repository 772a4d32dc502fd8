/* keyring.h — bundle admission: the one place that decides whether a bundle may run or be handed
 * out, and words the refusal.
 *
 * A keyring holds trusted Ed25519 public keys (NAME.pub files, or every *.pub of a directory).
 * Admitting a bundle takes these steps, in this order, and stops at the first that fails:
 *   1. read it as hostile bytes (bundle_read: size, versions, hash, structure, bytecode);
 *   2. find the key of the ring that signed it (by key id) and verify the signature with it;
 *   3. check its expiry against a clock;
 *   4. anti-rollback: compare its version with the highest version already run for its policy id
 *      (the caller keeps that record: the agent in its SQLite store).
 * The admitted bundle names its signer (key id, and the file the key came from).
 *
 * Users: `tenet verify`, `tenet scan` and `tenet inspect` (through compiler/load.c), the agent
 * (agent/trust.c) and the manager (manager/distribute.c). Every refusal message is written here,
 * once; docs/ADMISSION.md lists them. */
#ifndef TENET_KEYRING_H
#define TENET_KEYRING_H

#include <stddef.h>
#include <stdint.h>

#include "bundle.h"
#include "crypto.h"
#include "program.h"

typedef struct keyring keyring; /* opaque: the trusted public keys */

/* An empty keyring (NULL when out of memory). Free with keyring_free; keyring_free(NULL) is a no-op. */
keyring *keyring_new(void);
void keyring_free(keyring *kr);
/* Add a public key file, or every *.pub file (not hidden, in name order) of a directory. Returns
 * TN_OK; TN_EKEY ("trusted key PATH: why") when a key cannot be loaded; TN_EIO when the directory
 * cannot be read; TN_ENOTFOUND when a directory holds no *.pub file; TN_ENOMEM. On failure the
 * keyring keeps the keys it had. */
int keyring_add_path(keyring *kr, const char *path, char *err, size_t errlen);
/* Add a copy of the public half of an already loaded key, named name (e.g. its file). TN_OK,
 * TN_EKEY or TN_ENOMEM. */
int keyring_add_key(keyring *kr, const crypto_key *key, const char *name);
/* A keyring of n paths (files or directories) as keyring_add_path adds them; NULL with a message in
 * err when one fails. Caller frees. */
keyring *keyring_load(const char *const *paths, size_t n, char *err, size_t errlen);
/* Number of keys (0 for NULL). */
size_t keyring_count(const keyring *kr);

/* What an empty keyring admits (a ring with keys always verifies the signature with one of them). */
enum {
  KEYRING_EMPTY_REFUSES = 0, /* nothing: no key to check a signature with (agents, `tenet scan`) */
  KEYRING_EMPTY_SIGNED,      /* a signed bundle, signature not checked (manager without trusted_keys) */
  KEYRING_EMPTY_ANY,         /* any bundle, signed or not (`tenet scan --allow-unsigned`) */
};

/* The highest version already run for policy_id into *version (0: none). TN_OK, or an error status
 * with a message in err (the admission is then refused with that status). */
typedef int (*keyring_version_fn)(void *ctx, const char *policy_id, uint64_t *version, char *err,
                                  size_t errlen);

typedef struct keyring_rules {
  int empty;                       /* KEYRING_EMPTY_*: what an empty ring admits */
  int no_expiry;                   /* do not check the expiry (`tenet verify`, the manager) */
  int64_t now;                     /* the clock for the expiry; 0: time(NULL) */
  keyring_version_fn last_version; /* anti-rollback; NULL: not checked */
  void *ctx;                       /* passed to last_version */
  int keep_bytes;                  /* keyring_admit_file: keep the file's bytes in the result */
} keyring_rules;

/* An admitted bundle. */
typedef struct keyring_admitted {
  program *prog; /* owned */
  bundle_info info;
  char bundle_hash[65];    /* hex */
  int signature_checked;   /* 1: the signature verified with a key of the ring */
  char signer[17];         /* key id (hex) of that key; "" when the signature was not checked */
  const char *signer_name; /* the file that key came from (owned by the keyring); NULL when none */
  uint8_t *data;           /* keyring_admit_file with keep_bytes: the file's bytes (owned) */
  size_t len;
} keyring_admitted;

/* Admit hostile bundle bytes under rules (NULL: the defaults, all zero). TN_OK fills out (release
 * with keyring_admitted_clear); otherwise out is empty and the status is one of TN_ECORRUPT,
 * TN_EINTEGRITY, TN_EVERSION, TN_ETOOBIG, TN_ENOMEM (reading), TN_EUNSIGNED, TN_EUNTRUSTED,
 * TN_ESIGNATURE (signature), TN_EEXPIRED, TN_EROLLBACK, or what last_version returned, with the
 * reason in err. */
int keyring_admit(const keyring *kr, const uint8_t *data, size_t len, const keyring_rules *rules,
                  keyring_admitted *out, char *err, size_t errlen);
/* The same for a file (bounded by BUNDLE_MAX_SIZE; TN_EIO when it cannot be read). */
int keyring_admit_file(const keyring *kr, const char *path, const keyring_rules *rules, keyring_admitted *out,
                       char *err, size_t errlen);
/* Free what an admitted bundle owns and zero it; NULL is a no-op. */
void keyring_admitted_clear(keyring_admitted *a);

/* Step 2 alone, for a bundle already read: TN_OK (signer/signer_name filled when not NULL; signer
 * gets "" when an empty ring admitted the bundle without checking) or the refusal status. */
int keyring_check_signature(const keyring *kr, const bundle_info *info, int empty, char signer[17],
                            const char **signer_name, char *err, size_t errlen);
/* Step 3 alone: TN_OK or TN_EEXPIRED ("bundle expired at T (now N)"). */
int keyring_check_expiry(const program *p, int64_t now, char *err, size_t errlen);
/* Step 4 alone: TN_OK when version is not below last (the highest version already run for
 * policy_id; 0: none), else TN_EROLLBACK ("version V is lower than version L already run for
 * policy 'ID'"). */
int keyring_check_version(const char *policy_id, uint64_t version, uint64_t last, char *err, size_t errlen);

/* The word users grep for a refusal status, for log lines "Refused bundle X: WORD: reason":
 *   tampered       TN_ECORRUPT, TN_EINTEGRITY, TN_ESIGNATURE (the body, structure or bytecode is
 *                  damaged, or the signature does not verify with the trusted key that claims it)
 *   wrong signer   TN_EUNSIGNED, TN_EUNTRUSTED (not signed, or by a key that is not trusted)
 *   expired        TN_EEXPIRED
 *   rollback       TN_EROLLBACK
 *   unsupported version, too big, unreadable, refused (anything else). Never NULL. */
const char *keyring_refusal(int status);

#endif
