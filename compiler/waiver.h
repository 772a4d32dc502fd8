/* waiver.h — waivers: "this check does not count here, because ..., until ...", kept outside the
 * policy in YAML files (docs/WAIVERS.md), read strictly with the compiler's YAML reader, and
 * optionally signed with a detached Ed25519 signature (FILE.sig) by the same keys as bundles.
 *
 *   waivers:
 *     - policy: tenet_debian12_baseline     # policy id
 *       checks: [90065, 90066]              # check ids of that policy (at least one)
 *       justification: "CUPS serves the office printers"
 *       owner: "it-ops@example.com"
 *       expires: 2027-06-30                 # YYYY-MM-DD, required; applies through that day
 *       hosts: "print-*"                    # optional: glob on the hostname (fnmatch, ignoring case)
 *
 * A waiver never changes an evaluation, an event or a results hash: it is looked up by the report
 * renderers (report_options.waiver) and the gate, and only for the hosts its pattern matches. Past
 * its expiry it stops applying and is reported as expired. */
#ifndef TENET_WAIVER_H
#define TENET_WAIVER_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "diag.h"
#include "keyring.h"
#include "program.h"
#include "report.h"

#define WAIVER_MAX_FILE (4u << 20) /* bytes of a waiver file */
#define WAIVER_MAX_COUNT 100000u   /* waivers across all files of a set */
#define WAIVER_SIG_SUFFIX ".sig"

typedef struct waiver_set waiver_set; /* opaque: the waivers of every file loaded into it */

/* An empty set (NULL when out of memory). Free with waiver_set_free; NULL is a no-op. */
waiver_set *waiver_set_new(void);
void waiver_set_free(waiver_set *ws);

/* Parse the waiver file data[0..len) (path for diagnostics) and add its waivers to ws. Every
 * problem is a diagnostic `path:line:col: error: ...` in diags. Returns TN_OK, TN_EPOLICY (the file
 * has errors: none of its waivers is added), TN_ETOOBIG or TN_ENOMEM. */
int waiver_set_parse(waiver_set *ws, const char *path, const char *data, size_t len, diag_list *diags);
/* The same for a file read from disk (TN_EIO when it cannot be read, with a diagnostic). */
int waiver_set_load(waiver_set *ws, const char *path, diag_list *diags);

/* Fix the host and the day the set is looked up for: hostname (copied) is matched against each
 * waiver's host pattern; today (YYYY-MM-DD) decides which waivers have expired (a waiver expires
 * after its expiry day). Until bound, the hostname is "" and the day 0000-00-00. Returns TN_OK,
 * TN_EUSAGE (today is not a YYYY-MM-DD date) or TN_ENOMEM. */
int waiver_set_bind(waiver_set *ws, const char *hostname, const char *today);
/* Today's local date as YYYY-MM-DD into out[11]. */
void waiver_today(char out[11]);

/* The waiver of (policy id, check id) for the bound host: an active one first, else an expired one
 * (expired = 1), else NULL. A report_waiver_fn: arg is the waiver_set. Borrowed from the set. */
const report_waiver *waiver_set_lookup(void *ws, const char *policy_id, int64_t check_id);

/* Waivers in the set; of those whose host pattern matches the bound host, how many are active and
 * how many have expired on the bound day. */
size_t waiver_set_count(const waiver_set *ws);
size_t waiver_set_active(const waiver_set *ws);
size_t waiver_set_expired(const waiver_set *ws);

/* Compare the set with the policies scanned (progs[0..n)): a line `file:line:col: warning: ...` on
 * out, at the waiver (or check id), for each waiver naming a policy id none of them has, for each
 * check id its policy does not have, and for each waiver of this host that has expired. Returns
 * the number of warnings written. */
size_t waiver_set_check(const waiver_set *ws, const program *const *progs, size_t n, FILE *out);

/* Detached signatures (waiver_sig.c). A signature file is text:
 *   tenet-signature 1
 *   key KEYID            (16 hex digits: the signer's key id)
 *   ed25519 SIGNATURE    (128 hex digits)
 * over the SHA-256 of "tenet-waiver-signature-1\n" followed by the file's bytes. */

/* Sign the file at path with priv, writing path.sig (replaced if present). Returns TN_OK, TN_EIO,
 * TN_ETOOBIG, TN_EKEY or TN_ENOMEM with a message in err. */
int waiver_sign_file(const char *path, const crypto_key *priv, char *err, size_t errlen);
/* Check path.sig against the file's bytes data[0..len) with the keys of kr, in the keyring's
 * wording ("waiver signature does not verify with key K", "signed by key K, which is not in the
 * trust store (...)"). signer (17 bytes) gets the key id, signer_name (may be NULL) the key's file.
 * Returns TN_OK, TN_EUNSIGNED (no path.sig), TN_ECORRUPT (a malformed path.sig), TN_ESIGNATURE,
 * TN_EUNTRUSTED, TN_EIO or TN_ENOMEM, with a message in err. */
int waiver_verify_data(const char *path, const char *data, size_t len, const keyring *kr, char signer[17],
                       const char **signer_name, char *err, size_t errlen);
/* The same, reading the file at path (bounded by WAIVER_MAX_FILE). */
int waiver_verify_file(const char *path, const keyring *kr, char signer[17], const char **signer_name,
                       char *err, size_t errlen);
/* Read path once, check its signature when pubkey is not NULL (a missing path.sig is accepted only
 * with allow_unsigned; a malformed, tampered or untrusted one never), then parse the same bytes into
 * ws. Returns TN_OK, or a status with a message in err: "PATH: refused: WORD: why" (keyring_refusal
 * words) for a signature, "PATH: waiver file has errors" (the errors are in diags), or a read error. */
int waiver_set_load_trusted(waiver_set *ws, const char *path, const crypto_key *pubkey, int allow_unsigned,
                            diag_list *diags, char *err, size_t errlen);
/* Read a whole file of at most max bytes into *out (malloc'd, NUL-terminated; caller frees).
 * TN_OK, TN_EIO (errno kept), TN_ETOOBIG or TN_ENOMEM. */
int waiver_read_file(const char *path, size_t max, char **out, size_t *len);

#endif
