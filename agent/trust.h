/* trust.h — which bundles the agent runs: signed by a key of its trust store, not expired, and
 * not older than a version it already ran for that policy id (anti-rollback, recorded in the
 * store). Also the atomic installation of a bundle the manager offers.
 *
 * The checks themselves are bundle admission (vm/keyring.h, shared with `tenet` and the manager);
 * this module holds the agent's part: its trust store as a keyring, the anti-rollback record in
 * its SQLite store, and installing offered bundles. A refusal is classified for the log line users
 * grep (agent_trust_refusal, i.e. keyring_refusal):
 *   tampered      the body does not match its hash, the structure or bytecode is corrupt, or the
 *                 signature does not verify with the trusted key that claims it
 *   wrong signer  signed by a key that is not in the trust store (or not signed at all)
 *   expired       past the bundle's expiry
 *   rollback      a lower version than one already run for the policy id */
#ifndef TENET_AGENT_TRUST_H
#define TENET_AGENT_TRUST_H

#include <stddef.h>
#include <stdint.h>

#include "bundle.h"
#include "program.h"
#include "store.h"

typedef struct agent_trust agent_trust; /* the trust store: public keys */

/* Load the public keys (.pub files, or directories of them). NULL with a message in err when a key
 * cannot be loaded or n == 0. Free with agent_trust_free (NULL is a no-op). */
agent_trust *agent_trust_new(const char *const *paths, size_t n, char *err, size_t errlen);
void agent_trust_free(agent_trust *t);

/* A bundle that passed every check. */
typedef struct agent_bundle {
  program *prog; /* owned */
  bundle_info info;
  char bundle_hash[65]; /* hex */
  char signer[17];      /* key id of the trusted key that signed it */
} agent_bundle;

/* Verify hostile bundle bytes: structure, hash and bytecode (bundle_read), a signature by a
 * trusted key, expiry against now. TN_OK fills out (free with agent_bundle_clear); otherwise
 * TN_ECORRUPT, TN_EINTEGRITY, TN_EVERSION, TN_ETOOBIG, TN_ESIGNATURE, TN_EUNSIGNED,
 * TN_EUNTRUSTED or TN_EEXPIRED with the reason in err. */
int agent_trust_verify(const agent_trust *t, const uint8_t *data, size_t len, int64_t now, agent_bundle *out,
                       char *err, size_t errlen);
/* The same for a file (TN_EIO when it cannot be read). */
int agent_trust_verify_file(const agent_trust *t, const char *path, int64_t now, agent_bundle *out, char *err,
                            size_t errlen);
void agent_bundle_clear(agent_bundle *b);

/* Anti-rollback: TN_OK when version is not below the highest recorded for policy_id, else
 * TN_EROLLBACK with keyring_check_version's message; *recorded (may be NULL) gets the recorded
 * version (0: none). */
int agent_trust_check_version(agent_store *s, const char *policy_id, uint64_t version, uint64_t *recorded,
                              char *err, size_t errlen);

/* The word for a refusal status ("tampered", "wrong signer", "expired", "rollback", ...). */
const char *agent_trust_refusal(int status);

/* Install an offered bundle into dir: admit it (agent_trust_verify plus anti-rollback against the
 * store), check that it is the policy and version the offer names, then write it atomically (temporary
 * file, fsync, rename over the file that holds this policy id, or DIR/<policy_id>.tnb) and record its
 * version. *installed = 0 when the same bundle is already installed. On refusal returns the status
 * with the reason in err. */
int agent_trust_install(const agent_trust *t, agent_store *s, const char *dir, const char *policy_id,
                        uint64_t version, const uint8_t *data, size_t len, int64_t now, int *installed,
                        char *err, size_t errlen);

/* Whether a directory entry name is a bundle file (*.tnb, not hidden). */
int agent_trust_is_bundle_name(const char *name);

#endif
