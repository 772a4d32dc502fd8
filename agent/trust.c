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

#include "err.h"
#include "keyring.h"

struct agent_trust {
  keyring *ring;
};

agent_trust *agent_trust_new(const char *const *paths, size_t n, char *err, size_t errlen) {
  if (n == 0) {
    snprintf(err, errlen, "the trust store is empty: give at least one public key (trusted_keys)");
    return NULL;
  }
  agent_trust *t = calloc(1, sizeof *t);
  if (!t) {
    snprintf(err, errlen, "out of memory");
    return NULL;
  }
  if (!(t->ring = keyring_load(paths, n, err, errlen))) {
    free(t);
    return NULL;
  }
  return t;
}

void agent_trust_free(agent_trust *t) {
  if (!t) return;
  keyring_free(t->ring);
  free(t);
}

void agent_bundle_clear(agent_bundle *b) {
  if (!b) return;
  program_free(b->prog);
  memset(b, 0, sizeof *b);
}

const char *agent_trust_refusal(int status) { return keyring_refusal(status); }

/* An admitted bundle as the agent keeps it. */
static void take(agent_bundle *out, keyring_admitted *a) {
  out->prog = a->prog;
  out->info = a->info;
  memcpy(out->bundle_hash, a->bundle_hash, sizeof out->bundle_hash);
  memcpy(out->signer, a->signer, sizeof out->signer);
  a->prog = NULL;
  keyring_admitted_clear(a);
}

int agent_trust_verify(const agent_trust *t, const uint8_t *data, size_t len, int64_t now, agent_bundle *out,
                       char *err, size_t errlen) {
  memset(out, 0, sizeof *out);
  keyring_rules rules = {.now = now};
  keyring_admitted a;
  int rc = keyring_admit(t->ring, data, len, &rules, &a, err, errlen);
  if (rc == TN_OK) take(out, &a);
  return rc;
}

int agent_trust_verify_file(const agent_trust *t, const char *path, int64_t now, agent_bundle *out, char *err,
                            size_t errlen) {
  memset(out, 0, sizeof *out);
  keyring_rules rules = {.now = now};
  keyring_admitted a;
  int rc = keyring_admit_file(t->ring, path, &rules, &a, err, errlen);
  if (rc == TN_OK) take(out, &a);
  return rc;
}

/* The anti-rollback record: the highest version run for a policy id, from the agent's store. */
static int recorded_version(void *ctx, const char *policy_id, uint64_t *version, char *err, size_t errlen) {
  agent_store *s = ctx;
  int found = 0;
  int rc = agent_store_version_get(s, policy_id, version, &found);
  if (rc != TN_OK) {
    snprintf(err, errlen, "%s", agent_store_error(s));
    return rc;
  }
  if (!found) *version = 0;
  return TN_OK;
}

int agent_trust_check_version(agent_store *s, const char *policy_id, uint64_t version, uint64_t *recorded,
                              char *err, size_t errlen) {
  uint64_t v = 0;
  int rc = recorded_version(s, policy_id, &v, err, errlen);
  if (rc != TN_OK) return rc;
  if (recorded) *recorded = v;
  return keyring_check_version(policy_id, version, v, err, errlen);
}

int agent_trust_is_bundle_name(const char *name) {
  size_t n = strlen(name);
  return name[0] != '.' && n > 4 && strcmp(name + n - 4, ".tnb") == 0;
}

/* A file name for a policy id: [A-Za-z0-9_.-] kept, anything else as %XX. Policy ids are checked
 * (bundle_policy_id_check) before, so nothing is escaped and the name is at most
 * BUNDLE_POLICY_ID_MAX + 4 bytes, far below NAME_MAX and cap. */
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
    struct stat st; /* regular files only: a FIFO or device named *.tnb is no bundle */
    if (stat(p, &st) != 0 || !S_ISREG(st.st_mode)) {
      free(p);
      continue;
    }
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
  char why[256];
  if (bundle_policy_id_check(policy_id, why, sizeof why) != TN_OK) { /* never truncated into a file name */
    snprintf(err, errlen, "the offer names an invalid policy id: %s", why);
    return TN_ECORRUPT;
  }
  agent_bundle b;
  memset(&b, 0, sizeof b);
  keyring_rules rules = {.now = now, .last_version = recorded_version, .ctx = s};
  keyring_admitted a;
  int rc = keyring_admit(t->ring, data, len, &rules, &a, err, errlen);
  if (rc != TN_OK) return rc;
  take(&b, &a);
  const char *bid = program_str(b.prog, b.prog->policy_id);
  if (strcmp(bid, policy_id) != 0 || b.prog->policy_version != version) {
    snprintf(err, errlen,
             "the offer names policy '%s' version %llu but the bundle is policy '%s' version %llu", policy_id,
             (unsigned long long)version, bid, (unsigned long long)b.prog->policy_version);
    agent_bundle_clear(&b);
    return TN_ECORRUPT;
  }
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
