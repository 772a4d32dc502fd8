/* cmd_keys.c — `tenet keygen` (an Ed25519 key pair) and `tenet verify` (signature + integrity of
 * bundles, or the detached signature of waiver files (*.yml, *.yaml: see `tenet sign`), against a
 * trusted public key, with a clear message for every failure). */
#include <stdio.h>
#include <string.h>

#include "bundle.h"
#include "cli.h"
#include "cli_opt.h"
#include "crypto.h"
#include "err.h"
#include "keyring.h"
#include "load.h"
#include "waiver.h"

static const char keygen_usage[] = "tenet keygen NAME   (writes NAME.key, mode 0600, and NAME.pub)";

int cmd_keygen(int argc, char **argv) {
  cli_parser p;
  cli_parser_init(&p, "tenet keygen", NULL, 0, argc, argv);
  for (int id; (id = cli_parser_next(&p)) != CLI_END;) {
    if (id == CLI_HELP) {
      cli_opt_print_help(stdout, keygen_usage, NULL, 0);
      return 0;
    }
    return 2; /* CLI_ERROR: reported */
  }
  if (p.npos != 1)
    return cli_usage_error("tenet keygen", "%s",
                           p.npos ? "one NAME only" : "missing NAME (the file name of the key pair)");
  const char *name = p.pos[0];
  char err[512];
  if (crypto_keygen(name, err, sizeof err) != TN_OK) {
    fprintf(stderr, "tenet keygen: %s\n", err);
    return 1;
  }
  char pubpath[4096];
  snprintf(pubpath, sizeof pubpath, "%s.pub", name);
  crypto_key *k = crypto_key_load_public(pubpath, err, sizeof err);
  uint8_t id[CRYPTO_KEYID_LEN];
  char hex[2 * CRYPTO_KEYID_LEN + 1] = "?";
  if (k) {
    crypto_key_id(k, id);
    crypto_hex(id, sizeof id, hex);
  }
  crypto_key_free(k);
  printf("wrote %s.key (private, keep it secret) and %s.pub (give it to agents); key id %s\n", name, name,
         hex);
  return 0;
}

enum { OPT_PUBKEY = 1 };
static const cli_opt verify_opts[] = {
    {OPT_PUBKEY, "pubkey", 'p', "KEY.pub", "the public key bundles must be signed by (required)"},
};
static const char verify_usage[] = "tenet verify --pubkey KEY.pub BUNDLE|WAIVERS.yml...";

int cmd_verify(int argc, char **argv) {
  const char *pub = NULL;
  cli_parser cl;
  cli_parser_init(&cl, "tenet verify", verify_opts, sizeof verify_opts / sizeof *verify_opts, argc, argv);
  for (int id; (id = cli_parser_next(&cl)) != CLI_END;) {
    switch (id) {
    case OPT_PUBKEY: pub = cl.value; break;
    case CLI_HELP:
      cli_opt_print_help(stdout, verify_usage, verify_opts, sizeof verify_opts / sizeof *verify_opts);
      return 0;
    default: return 2;
    }
  }
  if (!pub)
    return cli_usage_error("tenet verify", "missing --pubkey KEY.pub (the key bundles must be signed by)");
  if (cl.npos == 0) return cli_usage_error("tenet verify", "missing BUNDLE (one or more .tnb files, or waiver files)");
  char err[512];
  keyring *kr = keyring_new();
  if (!kr || keyring_add_path(kr, pub, err, sizeof err) != TN_OK) {
    fprintf(stderr, "tenet verify: %s\n", kr ? err : "out of memory");
    keyring_free(kr);
    return 1;
  }
  keyring_rules rules = {.no_expiry = 1}; /* signature + integrity: expiry is for those who run it */
  int bad = 0;
  for (int i = 0; i < cl.npos; i++) {
    if (load_is_yaml(cl.pos[i])) { /* a waiver file and its FILE.sig */
      char signer[17];
      const char *from = NULL;
      int rc = waiver_verify_file(cl.pos[i], kr, signer, &from, err, sizeof err);
      if (rc != TN_OK) {
        fprintf(stderr, "tenet verify: %s: FAILED: %s: %s\n", cl.pos[i], keyring_refusal(rc), err);
        bad = 1;
      } else {
        printf("%s: OK: waiver file, signed by key %s (%s)\n", cl.pos[i], signer, from ? from : "?");
      }
      continue;
    }
    keyring_admitted a;
    if (keyring_admit_file(kr, cl.pos[i], &rules, &a, err, sizeof err) != TN_OK) {
      fprintf(stderr, "tenet verify: %s: FAILED: %s\n", cl.pos[i], err);
      bad = 1;
      continue;
    }
    printf("%s: OK: policy %s version %llu, bundle hash %s, signed by key %s\n", cl.pos[i],
           program_str(a.prog, a.prog->policy_id), (unsigned long long)a.prog->policy_version, a.bundle_hash,
           a.signer);
    keyring_admitted_clear(&a);
  }
  keyring_free(kr);
  return bad;
}
