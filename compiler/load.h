/* load.h — getting a runnable policy from a path: a YAML policy is compiled in memory; a bundle goes
 * through admission (vm/keyring.h): read defensively, its signature checked against the trusted key
 * (unless unsigned bundles are explicitly allowed) and its expiry enforced. Used by `tenet scan` and
 * `tenet inspect`. */
#ifndef TENET_LOAD_H
#define TENET_LOAD_H

#include <stddef.h>
#include <stdint.h>

#include "bundle.h"
#include "compile.h"
#include "crypto.h"
#include "diag.h"
#include "program.h"

typedef struct load_options {
  const crypto_key *pubkey; /* trusted key; NULL: none given */
  int allow_unsigned;       /* run bundles without checking a signature */
  int dialect;              /* YAML only: 0 (from schema), 4 or 5 */
  int64_t now;              /* for expiry checks; 0 = time(NULL) */
} load_options;

typedef struct loaded_policy {
  program *prog;            /* owned */
  int from_bundle;
  int signature_checked;    /* the signature verified against load_options.pubkey */
  bundle_info info;         /* bundles only */
} loaded_policy;

/* 1 if the path names a YAML policy (by extension .yml/.yaml), else 0 (a bundle). */
int load_is_yaml(const char *path);
/* Load path into out (release with loaded_policy_free). Returns TN_OK or a status with a message in
 * err, "PATH: " and the keyring's wording for a refused bundle (compile diagnostics go to diags,
 * which may be NULL to discard them). */
int load_policy(const char *path, const load_options *opt, loaded_policy *out, diag_list *diags, char *err,
                size_t errlen);
void loaded_policy_free(loaded_policy *lp);

#endif
