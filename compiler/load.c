/* load.c — YAML or bundle to a runnable program (see load.h). */
#include "load.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "err.h"

int load_is_yaml(const char *path) {
  const char *dot = strrchr(path, '.');
  return dot && (strcmp(dot, ".yml") == 0 || strcmp(dot, ".yaml") == 0);
}

int load_policy(const char *path, const load_options *opt, loaded_policy *out, diag_list *diags, char *err,
                size_t errlen) {
  memset(out, 0, sizeof *out);
  if (load_is_yaml(path)) {
    diag_list *own = diags ? NULL : diag_list_new();
    compile_options co = COMPILE_OPTIONS_DEFAULT;
    co.dialect = opt->dialect;
    out->prog = compile_policy_file(path, &co, diags ? diags : own);
    diag_list_free(own);
    if (!out->prog) {
      snprintf(err, errlen, "%s: policy has errors (run `tenet compile %s` to see them)", path, path);
      return TN_EPOLICY;
    }
    return TN_OK;
  }
  int rc = bundle_read_file(path, &out->prog, &out->info, err, errlen);
  if (rc != TN_OK) return rc;
  out->from_bundle = 1;
  if (opt->pubkey) {
    char why[256];
    rc = bundle_check_signature(&out->info, opt->pubkey, why, sizeof why);
    if (rc != TN_OK) {
      snprintf(err, errlen, "%s: %s", path, why);
      goto fail;
    }
    out->signature_checked = 1;
  } else if (!opt->allow_unsigned) {
    snprintf(err, errlen, "%s: refusing to run a bundle without checking its signature (give --pubkey KEY.pub, or --allow-unsigned)", path);
    rc = TN_EUNTRUSTED;
    goto fail;
  }
  int64_t now = opt->now ? opt->now : (int64_t)time(NULL);
  if (out->prog->expiry && now > out->prog->expiry) {
    snprintf(err, errlen, "%s: bundle expired at %lld (now %lld)", path, (long long)out->prog->expiry, (long long)now);
    rc = TN_EEXPIRED;
    goto fail;
  }
  return TN_OK;
fail:
  program_free(out->prog);
  out->prog = NULL;
  return rc;
}

void loaded_policy_free(loaded_policy *lp) {
  if (!lp) return;
  program_free(lp->prog);
  lp->prog = NULL;
}
