/* keyring.c — trusted keys and bundle admission (see keyring.h): read, signature, expiry,
 * anti-rollback, in that order, with every refusal worded here. */
#include "keyring.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "err.h"

#define KEYID_HEX (2 * CRYPTO_KEYID_LEN + 1)
#define LISTED_IDS 4 /* trusted key ids a "not trusted" refusal lists */

typedef struct ring_key {
  crypto_key *key;
  uint8_t id[CRYPTO_KEYID_LEN];
  char *name;
} ring_key;

struct keyring {
  ring_key *keys;
  size_t n, cap;
};

keyring *keyring_new(void) { return calloc(1, sizeof(keyring)); }

void keyring_free(keyring *kr) {
  if (!kr) return;
  for (size_t i = 0; i < kr->n; i++) {
    crypto_key_free(kr->keys[i].key);
    free(kr->keys[i].name);
  }
  free(kr->keys);
  free(kr);
}

size_t keyring_count(const keyring *kr) { return kr ? kr->n : 0; }

/* Append key (owned from now on, freed on failure) named name. */
static int push(keyring *kr, crypto_key *key, const char *name) {
  char *copy = strdup(name ? name : "");
  if (!copy) goto oom;
  if (kr->n == kr->cap) {
    size_t ncap = kr->cap ? kr->cap * 2 : 4;
    ring_key *k = realloc(kr->keys, ncap * sizeof *k);
    if (!k) goto oom;
    kr->keys = k;
    kr->cap = ncap;
  }
  ring_key *rk = &kr->keys[kr->n++];
  rk->key = key;
  rk->name = copy;
  crypto_key_id(key, rk->id);
  return TN_OK;
oom:
  free(copy);
  crypto_key_free(key);
  return TN_ENOMEM;
}

int keyring_add_key(keyring *kr, const crypto_key *key, const char *name) {
  uint8_t raw[CRYPTO_ED25519_PUB_LEN];
  if (!kr || crypto_key_public_raw(key, raw) != TN_OK) return TN_EKEY;
  crypto_key *pub = crypto_key_from_raw_public(raw);
  if (!pub) return TN_ENOMEM;
  return push(kr, pub, name);
}

static int add_file(keyring *kr, const char *path, char *err, size_t errlen) {
  char why[512];
  crypto_key *key = crypto_key_load_public(path, why, sizeof why);
  if (!key) return tn_err_set(err, errlen, TN_EKEY, "trusted key %s: %s", path, why);
  int rc = push(kr, key, path);
  return rc == TN_OK ? rc : tn_err_set(err, errlen, rc, "out of memory");
}

static int is_pub_name(const char *name) {
  size_t n = strlen(name);
  return name[0] != '.' && n > 4 && strcmp(name + n - 4, ".pub") == 0;
}

static int by_name(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* Every *.pub of a directory, in name order; all or nothing. */
static int add_dir(keyring *kr, const char *path, char *err, size_t errlen) {
  DIR *d = opendir(path);
  if (!d) return tn_err_set(err, errlen, TN_EIO, "trusted keys %s: %s", path, strerror(errno));
  char **names = NULL;
  size_t n = 0, cap = 0;
  int rc = TN_OK;
  struct dirent *e;
  while ((e = readdir(d))) {
    if (!is_pub_name(e->d_name)) continue;
    if (n == cap) {
      char **nn = realloc(names, (cap = cap ? cap * 2 : 8) * sizeof *nn);
      if (!nn) {
        rc = TN_ENOMEM;
        break;
      }
      names = nn;
    }
    size_t len = strlen(path) + strlen(e->d_name) + 2;
    if (!(names[n] = malloc(len))) {
      rc = TN_ENOMEM;
      break;
    }
    snprintf(names[n++], len, "%s/%s", path, e->d_name);
  }
  closedir(d);
  if (rc != TN_OK) {
    tn_err_set(err, errlen, rc, "out of memory");
  } else if (n == 0) {
    rc = tn_err_set(err, errlen, TN_ENOTFOUND, "trusted keys %s: the directory holds no *.pub key", path);
  } else {
    qsort(names, n, sizeof *names, by_name);
    size_t before = kr->n;
    for (size_t i = 0; i < n && rc == TN_OK; i++)
      rc = add_file(kr, names[i], err, errlen);
    while (rc != TN_OK && kr->n > before) { /* all or nothing */
      kr->n--;
      crypto_key_free(kr->keys[kr->n].key);
      free(kr->keys[kr->n].name);
    }
  }
  for (size_t i = 0; i < n; i++)
    free(names[i]);
  free(names);
  return rc;
}

int keyring_add_path(keyring *kr, const char *path, char *err, size_t errlen) {
  if (!kr || !path) return tn_err_set(err, errlen, TN_EUSAGE, "no keyring or key path");
  struct stat st;
  if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) return add_dir(kr, path, err, errlen);
  return add_file(kr, path, err, errlen);
}

keyring *keyring_load(const char *const *paths, size_t n, char *err, size_t errlen) {
  keyring *kr = keyring_new();
  if (!kr) {
    tn_err_set(err, errlen, TN_ENOMEM, "out of memory");
    return NULL;
  }
  for (size_t i = 0; i < n; i++) {
    if (keyring_add_path(kr, paths[i], err, errlen) != TN_OK) {
      keyring_free(kr);
      return NULL;
    }
  }
  return kr;
}

/* ---- the checks ------------------------------------------------------------------------------ */

int keyring_check_signature(const keyring *kr, const bundle_info *info, int empty, char signer[17],
                            const char **signer_name, char *err, size_t errlen) {
  if (signer) signer[0] = '\0';
  if (signer_name) *signer_name = NULL;
  size_t n = keyring_count(kr);
  if (n == 0) {
    if (empty == KEYRING_EMPTY_ANY) return TN_OK;
    if (empty == KEYRING_EMPTY_SIGNED)
      return info->is_signed ? TN_OK : tn_err_set(err, errlen, TN_EUNSIGNED, "bundle is not signed");
    return tn_err_set(err, errlen, TN_EUNTRUSTED, "no trusted key to check the bundle's signature with");
  }
  if (!info->is_signed) return tn_err_set(err, errlen, TN_EUNSIGNED, "bundle is not signed");
  char kid[KEYID_HEX];
  crypto_hex(info->key_id, CRYPTO_KEYID_LEN, kid);
  int claimed = 0;
  for (size_t i = 0; i < n; i++) {
    const ring_key *k = &kr->keys[i];
    if (memcmp(k->id, info->key_id, CRYPTO_KEYID_LEN) != 0) continue;
    claimed = 1;
    if (crypto_verify(k->key, info->bundle_hash, CRYPTO_SHA256_LEN, info->signature) != TN_OK) continue;
    if (signer) memcpy(signer, kid, KEYID_HEX);
    if (signer_name) *signer_name = k->name;
    return TN_OK;
  }
  /* A trusted key that claims the bundle but does not verify it: the bundle was changed. */
  if (claimed)
    return tn_err_set(err, errlen, TN_ESIGNATURE, "bundle signature does not verify with key %s", kid);
  char list[LISTED_IDS * (KEYID_HEX + 2) + 8];
  size_t o = 0;
  list[0] = '\0';
  for (size_t i = 0; i < n && i < LISTED_IDS; i++) {
    if (i) o += (size_t)snprintf(list + o, sizeof list - o, ", ");
    crypto_hex(kr->keys[i].id, CRYPTO_KEYID_LEN, list + o);
    o += KEYID_HEX - 1;
  }
  if (n > LISTED_IDS) snprintf(list + o, sizeof list - o, ", ...");
  return tn_err_set(err, errlen, TN_EUNTRUSTED,
                    "signed by key %s, which is not in the trust store (trusted: %s)", kid, list);
}

int keyring_check_expiry(const program *p, int64_t now, char *err, size_t errlen) {
  if (p->expiry && now > p->expiry)
    return tn_err_set(err, errlen, TN_EEXPIRED, "bundle expired at %lld (now %lld)", (long long)p->expiry,
                      (long long)now);
  return TN_OK;
}

int keyring_check_version(const char *policy_id, uint64_t version, uint64_t last, char *err, size_t errlen) {
  if (version < last)
    return tn_err_set(err, errlen, TN_EROLLBACK,
                      "version %llu is lower than version %llu already run for policy '%s'",
                      (unsigned long long)version, (unsigned long long)last, policy_id);
  return TN_OK;
}

/* Steps 2-4 on a bundle step 1 has read into out. */
static int check(const keyring *kr, const keyring_rules *r, keyring_admitted *out, char *err, size_t errlen) {
  int rc = keyring_check_signature(kr, &out->info, r->empty, out->signer, &out->signer_name, err, errlen);
  if (rc != TN_OK) return rc;
  out->signature_checked = out->signer[0] != '\0';
  if (!r->no_expiry) {
    int64_t now = r->now ? r->now : (int64_t)time(NULL);
    if ((rc = keyring_check_expiry(out->prog, now, err, errlen)) != TN_OK) return rc;
  }
  if (r->last_version) {
    const char *pid = program_str(out->prog, out->prog->policy_id);
    uint64_t last = 0;
    if ((rc = r->last_version(r->ctx, pid, &last, err, errlen)) != TN_OK) return rc;
    if ((rc = keyring_check_version(pid, out->prog->policy_version, last, err, errlen)) != TN_OK) return rc;
  }
  crypto_hex(out->info.bundle_hash, CRYPTO_SHA256_LEN, out->bundle_hash);
  return TN_OK;
}

int keyring_admit(const keyring *kr, const uint8_t *data, size_t len, const keyring_rules *rules,
                  keyring_admitted *out, char *err, size_t errlen) {
  static const keyring_rules defaults;
  memset(out, 0, sizeof *out);
  int rc = bundle_read(data, len, &out->prog, &out->info, err, errlen);
  if (rc == TN_OK) rc = check(kr, rules ? rules : &defaults, out, err, errlen);
  if (rc != TN_OK) keyring_admitted_clear(out);
  return rc;
}

int keyring_admit_file(const keyring *kr, const char *path, const keyring_rules *rules, keyring_admitted *out,
                       char *err, size_t errlen) {
  memset(out, 0, sizeof *out);
  uint8_t *data;
  size_t len;
  int rc = bundle_file_load(path, &data, &len, err, errlen);
  if (rc != TN_OK) return rc;
  rc = keyring_admit(kr, data, len, rules, out, err, errlen);
  if (rc == TN_OK && rules && rules->keep_bytes) {
    out->data = data;
    out->len = len;
  } else {
    free(data);
  }
  return rc;
}

void keyring_admitted_clear(keyring_admitted *a) {
  if (!a) return;
  program_free(a->prog);
  free(a->data);
  memset(a, 0, sizeof *a);
}

const char *keyring_refusal(int status) {
  switch (status) {
  case TN_ECORRUPT:
  case TN_EINTEGRITY:
  case TN_ESIGNATURE: return "tampered";
  case TN_EUNSIGNED:
  case TN_EUNTRUSTED: return "wrong signer";
  case TN_EEXPIRED: return "expired";
  case TN_EROLLBACK: return "rollback";
  case TN_EVERSION: return "unsupported version";
  case TN_ETOOBIG: return "too big";
  case TN_EIO: return "unreadable";
  default: return "refused";
  }
}
