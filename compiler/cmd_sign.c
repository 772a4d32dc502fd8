/* cmd_sign.c — `tenet sign --key KEY FILE...`: a detached Ed25519 signature (FILE.sig) for each
 * waiver file, after checking that it is one (a file with errors is not signed). `tenet verify`
 * checks them (cmd_keys.c); `tenet scan --pubkey` requires them (docs/WAIVERS.md). */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "cli_opt.h"
#include "crypto.h"
#include "err.h"
#include "waiver.h"

enum { OPT_KEY = 1 };
static const cli_opt sign_opts[] = {
    {OPT_KEY, "key", 'k', "KEY.key", "the Ed25519 private key to sign with (required; see `tenet keygen`)"},
};
static const char sign_usage[] = "tenet sign --key KEY.key WAIVERS.yml...   (writes WAIVERS.yml.sig next to each file)";

int cmd_sign(int argc, char **argv) {
  const char *keypath = NULL;
  cli_parser cl;
  cli_parser_init(&cl, "tenet sign", sign_opts, sizeof sign_opts / sizeof *sign_opts, argc, argv);
  for (int id; (id = cli_parser_next(&cl)) != CLI_END;) {
    switch (id) {
    case OPT_KEY: keypath = cl.value; break;
    case CLI_HELP: cli_opt_print_help(stdout, sign_usage, sign_opts, sizeof sign_opts / sizeof *sign_opts); return 0;
    default: return 2;
    }
  }
  if (!keypath) return cli_usage_error("tenet sign", "missing --key KEY.key (the private key to sign with)");
  if (cl.npos == 0) return cli_usage_error("tenet sign", "missing WAIVERS.yml (one or more waiver files)");
  char err[512];
  crypto_key *key = crypto_key_load_private(keypath, err, sizeof err);
  if (!key) {
    fprintf(stderr, "tenet sign: %s\n", err);
    return 1;
  }
  uint8_t id[CRYPTO_KEYID_LEN];
  char hex[2 * CRYPTO_KEYID_LEN + 1];
  crypto_key_id(key, id);
  crypto_hex(id, sizeof id, hex);
  int bad = 0;
  for (int i = 0; i < cl.npos; i++) {
    waiver_set *ws = waiver_set_new();
    diag_list *diags = diag_list_new();
    int rc = ws && diags ? waiver_set_load(ws, cl.pos[i], diags) : TN_ENOMEM;
    if (rc != TN_OK) {
      if (diags) diag_print(diags, stderr, cli_use_color(stderr));
      fprintf(stderr, "tenet sign: %s: not signed: %s\n", cl.pos[i],
              rc == TN_EPOLICY ? "the waiver file has errors" : tn_strerror(rc));
      bad = 1;
    } else if (waiver_sign_file(cl.pos[i], key, err, sizeof err) != TN_OK) {
      fprintf(stderr, "tenet sign: %s\n", err);
      bad = 1;
    } else {
      printf("wrote %s%s (%zu waivers, key %s)\n", cl.pos[i], WAIVER_SIG_SUFFIX, waiver_set_count(ws), hex);
    }
    diag_list_free(diags);
    waiver_set_free(ws);
  }
  crypto_key_free(key);
  return bad;
}
