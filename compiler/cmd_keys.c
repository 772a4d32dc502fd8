/* cmd_keys.c — `tenet keygen` (an Ed25519 key pair) and `tenet verify` (signature + integrity of
 * bundles, or the detached signature of waiver files (*.yml, *.yaml: see `tenet sign`), against a
 * trusted public key, with a clear message for every failure). */
#include <stdio.h>
#include <string.h>

#include "bundle.h"
#include "cli.h"
#include "crypto.h"
#include "err.h"
#include "keyring.h"
#include "load.h"
#include "waiver.h"

int cmd_keygen(int argc, char **argv) {
  if (argc != 2 || argv[1][0] == '-') {
    fprintf(stderr, "usage: tenet keygen NAME   (writes NAME.key, mode 0600, and NAME.pub)\n");
    return argc == 2 && strcmp(argv[1], "--help") == 0 ? 0 : 2;
  }
  char err[512];
  if (crypto_keygen(argv[1], err, sizeof err) != TN_OK) {
    fprintf(stderr, "tenet keygen: %s\n", err);
    return 1;
  }
  crypto_key *k = crypto_key_load_public(strcat(strcpy((char[4096]){0}, argv[1]), ".pub"), err, sizeof err);
  uint8_t id[CRYPTO_KEYID_LEN];
  char hex[2 * CRYPTO_KEYID_LEN + 1] = "?";
  if (k) {
    crypto_key_id(k, id);
    crypto_hex(id, sizeof id, hex);
  }
  crypto_key_free(k);
  printf("wrote %s.key (private, keep it secret) and %s.pub (give it to agents); key id %s\n", argv[1], argv[1], hex);
  return 0;
}

int cmd_verify(int argc, char **argv) {
  const char *pub = NULL;
  int first = 1;
  if (argc >= 3 && strcmp(argv[1], "--pubkey") == 0) {
    pub = argv[2];
    first = 3;
  } else if (argc >= 2 && strncmp(argv[1], "--pubkey=", 9) == 0) {
    pub = argv[1] + 9;
    first = 2;
  }
  if (!pub || first >= argc) {
    fprintf(stderr, "usage: tenet verify --pubkey KEY.pub BUNDLE|WAIVERS.yml...\n");
    return 2;
  }
  char err[512];
  keyring *kr = keyring_new();
  if (!kr || keyring_add_path(kr, pub, err, sizeof err) != TN_OK) {
    fprintf(stderr, "tenet verify: %s\n", kr ? err : "out of memory");
    keyring_free(kr);
    return 1;
  }
  keyring_rules rules = {.no_expiry = 1}; /* signature + integrity: expiry is for those who run it */
  int bad = 0;
  for (int i = first; i < argc; i++) {
    if (load_is_yaml(argv[i])) { /* a waiver file and its FILE.sig */
      char signer[17];
      const char *from = NULL;
      int rc = waiver_verify_file(argv[i], kr, signer, &from, err, sizeof err);
      if (rc != TN_OK) {
        fprintf(stderr, "%s: FAILED: %s: %s\n", argv[i], keyring_refusal(rc), err);
        bad = 1;
      } else {
        printf("%s: OK: waiver file, signed by key %s (%s)\n", argv[i], signer, from ? from : "?");
      }
      continue;
    }
    keyring_admitted a;
    if (keyring_admit_file(kr, argv[i], &rules, &a, err, sizeof err) != TN_OK) {
      fprintf(stderr, "%s: FAILED: %s\n", argv[i], err);
      bad = 1;
      continue;
    }
    printf("%s: OK: policy %s version %llu, bundle hash %s, signed by key %s\n", argv[i],
           program_str(a.prog, a.prog->policy_id), (unsigned long long)a.prog->policy_version, a.bundle_hash,
           a.signer);
    keyring_admitted_clear(&a);
  }
  keyring_free(kr);
  return bad;
}
