/* trust.c — trust store, bundle verification, anti-rollback and atomic installation (trust.h). */
#include "trust.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "crypto.h"
#include "err.h"

struct agent_trust {
  crypto_key **keys;
  size_t n;
};

agent_trust *agent_trust_new(const char *const *paths, size_t n, char *err, size_t errlen) {
  if (n == 0) {
    snprintf(err, errlen, "the trust store is empty: give at least one public key (trusted_keys)");
    return NULL;
  }
  agent_trust *t = calloc(1, sizeof *t);
  if (!t || !(t->keys = calloc(n, sizeof *t->keys))) {
    free(t);
    snprintf(err, errlen, "out of memory");
    return NULL;
  }
  for (size_t i = 0; i < n; i++) {
    char why[256];
    if (!(t->keys[i] = crypto_key_load_public(paths[i], why, sizeof why))) {
      snprintf(err, errlen, "trusted key %s: %s", paths[i], why);
      t->n = i;
      agent_trust_free(t);
      return NULL;
    }
  }
  t->n = n;
  return t;
}

void agent_trust_free(agent_trust *t) {
  if (!t) return;
  for (size_t i = 0; i < t->n; i++)
    crypto_key_free(t->keys[i]);
  free(t->keys);
  free(t);
}

void agent_bundle_clear(agent_bundle *b) {
  if (!b) return;
  program_free(b->prog);
  memset(b, 0, sizeof *b);
}

const char *agent_trust_refusal(int status) {
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

/* Signature, then expiry, of a parsed bundle. */
static int check_parsed(const agent_trust *t, agent_bundle *out, int64_t now, char *err, size_t errlen) {
  int rc = TN_EUNTRUSTED;
  char why[256] = "";
  for (size_t i = 0; i < t->n; i++) {
    char w[256];
    int r = bundle_check_signature(&out->info, t->keys[i], w, sizeof w);
    if (r == TN_OK) {
      uint8_t id[CRYPTO_KEYID_LEN];
      crypto_key_id(t->keys[i], id);
      crypto_hex(id, sizeof id, out->signer);
      rc = TN_OK;
      break;
    }
    /* A key that matches the key id but does not verify says more than a mismatch. */
    if (r != TN_EUNTRUSTED || rc == TN_EUNTRUSTED) {
      rc = r;
      snprintf(why, sizeof why, "%s", w);
    }
  }
  if (rc == TN_EUNTRUSTED && out->info.is_signed) {
    char kid[2 * CRYPTO_KEYID_LEN + 1];
    crypto_hex(out->info.key_id, CRYPTO_KEYID_LEN, kid);
    snprintf(why, sizeof why, "signed by key %s, which is not in the trust store", kid);
  }
  if (rc != TN_OK) {
    snprintf(err, errlen, "%s", why);
    return rc;
  }
  if (out->prog->expiry && now > out->prog->expiry) {
    snprintf(err, errlen, "expired at %lld (now %lld)", (long long)out->prog->expiry, (long long)now);
    return TN_EEXPIRED;
  }
  return TN_OK;
}

int agent_trust_verify(const agent_trust *t, const uint8_t *data, size_t len, int64_t now, agent_bundle *out,
                       char *err, size_t errlen) {
  memset(out, 0, sizeof *out);
  int rc = bundle_read(data, len, &out->prog, &out->info, err, errlen);
  if (rc == TN_OK) rc = check_parsed(t, out, now, err, errlen);
  if (rc != TN_OK) {
    agent_bundle_clear(out);
    return rc;
  }
  crypto_hex(out->info.bundle_hash, CRYPTO_SHA256_LEN, out->bundle_hash);
  return TN_OK;
}

int agent_trust_verify_file(const agent_trust *t, const char *path, int64_t now, agent_bundle *out, char *err,
                            size_t errlen) {
  memset(out, 0, sizeof *out);
  int rc = bundle_read_file(path, &out->prog, &out->info, err, errlen);
  if (rc == TN_OK) rc = check_parsed(t, out, now, err, errlen);
  if (rc != TN_OK) {
    agent_bundle_clear(out);
    return rc;
  }
  crypto_hex(out->info.bundle_hash, CRYPTO_SHA256_LEN, out->bundle_hash);
  return TN_OK;
}

int agent_trust_check_version(agent_store *s, const char *policy_id, uint64_t version, uint64_t *recorded,
                              char *err, size_t errlen) {
  uint64_t v;
  int found;
  int rc = agent_store_version_get(s, policy_id, &v, &found);
  if (rc != TN_OK) {
    snprintf(err, errlen, "%s", agent_store_error(s));
    return rc;
  }
  if (recorded) *recorded = found ? v : 0;
  if (found && version < v) {
    snprintf(err, errlen, "version %llu is lower than version %llu already run for policy '%s'",
             (unsigned long long)version, (unsigned long long)v, policy_id);
    return TN_EROLLBACK;
  }
  return TN_OK;
}

int agent_trust_is_bundle_name(const char *name) {
  size_t n = strlen(name);
  return name[0] != '.' && n > 4 && strcmp(name + n - 4, ".tnb") == 0;
}

/* A file name for a policy id: [A-Za-z0-9_.-] kept, anything else as %XX. */
static void file_name_for(const char *policy_id, char *out, size_t cap) {
  size_t o = 0;
  for (const unsigned char *p = (const unsigned char *)policy_id; *p && o + 8 < cap; p++) {
    if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '_' ||
        *p == '-' || (*p == '.' && o > 0))
      out[o++] = (char)*p;
    else
      o += (size_t)snprintf(out + o, cap - o, "%%%02X", *p);
  }
  snprintf(out + o, cap - o, ".tnb");
}

/* The installed file holding policy_id, if any: *path malloc'd (NULL when none), *same = 1 when its
 * bundle hash is hash. */
static int find_installed(const char *dir, const char *policy_id, const uint8_t hash[32], char **path,
                          int *same) {
  *path = NULL;
  *same = 0;
  DIR *d = opendir(dir);
  if (!d) return errno == ENOENT ? TN_OK : TN_EIO;
  struct dirent *e;
  while ((e = readdir(d))) {
    if (!agent_trust_is_bundle_name(e->d_name)) continue;
    char *p;
    if (asprintf(&p, "%s/%s", dir, e->d_name) < 0) continue;
    program *prog = NULL;
    bundle_info info;
    char why[256];
    if (bundle_read_file(p, &prog, &info, why, sizeof why) == TN_OK &&
        strcmp(program_str(prog, prog->policy_id), policy_id) == 0) {
      *same = memcmp(info.bundle_hash, hash, 32) == 0;
      free(*path);
      *path = p;
      program_free(prog);
      if (*same) break;
      continue;
    }
    program_free(prog);
    free(p);
  }
  closedir(d);
  return TN_OK;
}

static int write_atomic(const char *dir, const char *target, const uint8_t *data, size_t len, char *err,
                        size_t errlen) {
  char tmp[4096];
  snprintf(tmp, sizeof tmp, "%s/.offer.XXXXXX", dir);
  int fd = mkstemp(tmp);
  if (fd < 0) {
    snprintf(err, errlen, "cannot create a file in %s: %s", dir, strerror(errno));
    return TN_EIO;
  }
  size_t off = 0;
  while (off < len) {
    ssize_t w = write(fd, data + off, len - off);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) break;
    off += (size_t)w;
  }
  int ok = off == len && fchmod(fd, 0644) == 0 && fsync(fd) == 0;
  int saved = errno;
  if (close(fd) != 0) ok = 0;
  if (!ok || rename(tmp, target) != 0) {
    if (ok) saved = errno;
    unlink(tmp);
    snprintf(err, errlen, "cannot install %s: %s", target, strerror(saved));
    return TN_EIO;
  }
  int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    fsync(dfd);
    close(dfd);
  }
  return TN_OK;
}

int agent_trust_install(const agent_trust *t, agent_store *s, const char *dir, const char *policy_id,
                        uint64_t version, const uint8_t *data, size_t len, int64_t now, int *installed,
                        char *err, size_t errlen) {
  *installed = 0;
  agent_bundle b;
  int rc = agent_trust_verify(t, data, len, now, &b, err, errlen);
  if (rc != TN_OK) return rc;
  const char *bid = program_str(b.prog, b.prog->policy_id);
  if (strcmp(bid, policy_id) != 0 || b.prog->policy_version != version) {
    snprintf(err, errlen,
             "the offer names policy '%s' version %llu but the bundle is policy '%s' version %llu", policy_id,
             (unsigned long long)version, bid, (unsigned long long)b.prog->policy_version);
    agent_bundle_clear(&b);
    return TN_ECORRUPT;
  }
  if ((rc = agent_trust_check_version(s, policy_id, version, NULL, err, errlen)) != TN_OK) goto out;
  char *existing = NULL;
  int same = 0;
  if ((rc = find_installed(dir, policy_id, b.info.bundle_hash, &existing, &same)) != TN_OK) {
    snprintf(err, errlen, "cannot read the bundle directory %s: %s", dir, strerror(errno));
    goto out;
  }
  if (!same) {
    char target[4096];
    if (existing) {
      snprintf(target, sizeof target, "%s", existing);
    } else {
      char name[1024];
      file_name_for(policy_id, name, sizeof name);
      snprintf(target, sizeof target, "%s/%s", dir, name);
    }
    rc = write_atomic(dir, target, data, len, err, errlen);
    if (rc == TN_OK) *installed = 1;
  }
  free(existing);
  if (rc == TN_OK && (rc = agent_store_version_raise(s, policy_id, version)) != TN_OK)
    snprintf(err, errlen, "%s", agent_store_error(s));
out:
  agent_bundle_clear(&b);
  return rc;
}
