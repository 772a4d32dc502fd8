/* distribute.h — the bundles the manager hands out: every *.tnb file of a directory, admitted by the
 * keyring (vm/keyring.h: structure, hash, bytecode, a signature — by one of the manager's trusted keys
 * when it has any), one per policy id (the highest version). The server offers a bundle to an agent
 * when the agent's version of that policy id is lower (at Hello, and whenever a file changes: the
 * directory is looked at every bundle_poll_interval). Agents verify every offer themselves (signature,
 * expiry, anti-rollback): the manager is not trusted to sign. */
#ifndef TENET_MANAGER_DISTRIBUTE_H
#define TENET_MANAGER_DISTRIBUTE_H

#include <stddef.h>
#include <stdint.h>

typedef struct distrib distrib;

typedef struct distrib_bundle {
  char *path;
  char *policy_id;
  uint64_t version;
  uint8_t *data; /* the whole file */
  size_t len;
  char hash[65]; /* bundle hash */
} distrib_bundle;

/* Bundles of dir; trusted (may be empty) public key files or directories restrict them to those
 * signers. NULL with a message in err when a key cannot be loaded. The directory is read by
 * distrib_refresh. Free with distrib_free (NULL is a no-op). */
distrib *distrib_new(const char *dir, const char *const *trusted, size_t ntrusted, char *err, size_t errlen);
void distrib_free(distrib *d);

/* Look at the directory again: (re)load new or changed files, forget removed ones, log refused
 * files once. *changed gets how many policy ids got a different bundle. Returns TN_OK or TN_EIO. */
int distrib_refresh(distrib *d, size_t *changed);

/* The bundles on offer (one per policy id). */
size_t distrib_count(const distrib *d);
const distrib_bundle *distrib_at(const distrib *d, size_t i);
/* Non-zero when the bundle changed at the last refresh. */
int distrib_changed(const distrib *d, size_t i);

#endif
