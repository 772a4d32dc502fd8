/* load.c — YAML or bundle to a runnable program (see load.h). */
#include "load.h"

#include <string.h>

#include "err.h"
#include "keyring.h"

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
      return tn_err_set(err, errlen, TN_EPOLICY, "%s: policy has errors (run `tenet compile %s` to see them)",
                        path, path);
    }
    return TN_OK;
  }
  /* A bundle goes through admission: the keyring holds the --pubkey key, if any. */
  keyring *kr = keyring_new();
  if (!kr || (opt->pubkey && keyring_add_key(kr, opt->pubkey, "--pubkey") != TN_OK)) {
    keyring_free(kr);
    return tn_err_set(err, errlen, TN_ENOMEM, "%s: cannot hold the trusted key", path);
  }
  keyring_rules rules = {.empty = opt->allow_unsigned ? KEYRING_EMPTY_ANY : KEYRING_EMPTY_REFUSES,
                         .now = opt->now};
  keyring_admitted a;
  char why[512];
  int rc = keyring_admit_file(kr, path, &rules, &a, why, sizeof why);
  int empty = keyring_count(kr) == 0;
  keyring_free(kr);
  if (rc != TN_OK) {
    /* reading errors name the file already; the others get it in front */
    if (rc == TN_EIO || rc == TN_ETOOBIG) return tn_err_set(err, errlen, rc, "%s", why);
    return tn_err_set(err, errlen, rc, "%s: %s%s", path, why,
                      empty && rc == TN_EUNTRUSTED ? " (give --pubkey KEY.pub, or --allow-unsigned)" : "");
  }
  out->prog = a.prog;
  out->info = a.info;
  out->from_bundle = 1;
  out->signature_checked = a.signature_checked;
  return TN_OK;
}

void loaded_policy_free(loaded_policy *lp) {
  if (!lp) return;
  program_free(lp->prog);
  lp->prog = NULL;
}
