/* cmd_sign.c — `tenet sign --key KEY FILE...`: a detached Ed25519 signature (FILE.sig) for each
 * waiver file, after checking that it is one (a file with errors is not signed). `tenet verify`
 * checks them (cmd_keys.c); `tenet scan --pubkey` requires them (docs/WAIVERS.md). */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "crypto.h"
#include "err.h"
#include "waiver.h"

int cmd_sign(int argc, char **argv) {
  const char *keypath = NULL;
  int first = 1;
  if (argc >= 3 && strcmp(argv[1], "--key") == 0) {
    keypath = argv[2];
    first = 3;
  } else if (argc >= 2 && strncmp(argv[1], "--key=", 6) == 0) {
    keypath = argv[1] + 6;
    first = 2;
  }
  if (argc == 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
    printf("usage: tenet sign --key KEY WAIVERS.yml...   (writes WAIVERS.yml.sig next to each file)\n");
    return 0;
  }
  if (!keypath || first >= argc) {
    fprintf(stderr,
            "usage: tenet sign --key KEY WAIVERS.yml...   (writes WAIVERS.yml.sig next to each file)\n");
    return 2;
  }
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
  for (int i = first; i < argc; i++) {
    waiver_set *ws = waiver_set_new();
    diag_list *diags = diag_list_new();
    int rc = ws && diags ? waiver_set_load(ws, argv[i], diags) : TN_ENOMEM;
    if (rc != TN_OK) {
      if (diags) diag_print(diags, stderr, cli_use_color(stderr));
      fprintf(stderr, "tenet sign: %s: not signed: %s\n", argv[i],
              rc == TN_EPOLICY ? "the waiver file has errors" : tn_strerror(rc));
      bad = 1;
    } else if (waiver_sign_file(argv[i], key, err, sizeof err) != TN_OK) {
      fprintf(stderr, "tenet sign: %s\n", err);
      bad = 1;
    } else {
      printf("wrote %s%s (%zu waivers, key %s)\n", argv[i], WAIVER_SIG_SUFFIX, waiver_set_count(ws), hex);
    }
    diag_list_free(diags);
    waiver_set_free(ws);
  }
  crypto_key_free(key);
  return bad;
}
