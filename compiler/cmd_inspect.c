/* cmd_inspect.c — `tenet inspect`: a bundle's header, hashes and signature, then a disassembly of
 * every check with YAML line tags and the engine each regex runs on. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "builtin.h"
#include "checkid.h"
#include "cli.h"
#include "cli_opt.h"
#include "crypto.h"
#include "disasm.h"
#include "err.h"
#include "load.h"
#include "vm.h"

static void header(const char *path, const loaded_policy *lp, const vm_image *img, const char *sigline) {
  const program *p = lp->prog;
  char src[65];
  crypto_hex(p->source_sha256, sizeof p->source_sha256, src);
  printf("%s\n", path);
  if (lp->from_bundle) {
    char bh[65];
    crypto_hex(lp->info.bundle_hash, sizeof lp->info.bundle_hash, bh);
    printf("  format        bundle format %u, ISA %u, %zu-byte body\n", lp->info.format_version, lp->info.isa_version,
           lp->info.body_len);
    printf("  bundle hash   %s\n", bh);
    printf("  signature     %s\n", sigline);
  } else {
    printf("  format        YAML policy compiled in memory (no bundle hash, unsigned)\n");
  }
  printf("  policy        %s  (version %llu)\n", program_str(p, p->policy_id), (unsigned long long)p->policy_version);
  printf("  name          %s\n", program_str(p, p->policy_name));
  printf("  file          %s\n", program_str(p, p->policy_file));
  printf("  source        %s  sha256 %s\n", program_str(p, p->source_name), src);
  printf("  dialect       %s\n", p->dialect == DIALECT_WAZUH5 ? "wazuh5 (PCRE2 caseless, no short-circuit)" : "wazuh4");
  if (p->expiry) {
    time_t t = (time_t)p->expiry;
    char buf[64];
    strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S UTC", gmtime(&t));
    printf("  expires       %s%s\n", buf, t < time(NULL) ? "  (EXPIRED)" : "");
  } else {
    printf("  expires       never\n");
  }
  if (p->flags & PROGF_REGISTRY) printf("  platform      Windows only (uses registry rules)\n");
  printf("  requirements  %s\n", p->has_requirements ? program_str(p, p->requirements.title) : "(none)");
  size_t native = 0, bad = 0;
  for (uint32_t i = 0; i < p->nregexes; i++) {
    if (p->regexes[i].flags & RXF_BAD) bad++;
    else if (img && img->rx[i] && strcmp(rx_engine(img->rx[i]), "osregex") == 0) native++;
  }
  printf("  size          %u checks, %u instructions, %u regexes (%zu native OS_Regex, %zu lowered to PCRE2 JIT, %zu invalid), %u bytes of strings\n",
         p->nchecks, p->ncode, p->nregexes, native, img ? img->nlowered : 0, bad, p->strtab_len);
  builtin_describe_program(stdout, p);
  printf("\n");
}

int cmd_inspect(int argc, char **argv) {
  static const struct option opts[] = {{"pubkey", required_argument, 0, 'p'},
                                       {"check", required_argument, 0, 'c'},
                                       {"isa", no_argument, 0, 'i'},
                                       {"help", no_argument, 0, 'h'},
                                       {0, 0, 0, 0}};
  const char *pub = NULL, *only = NULL;
  int c, isa = 0;
  optind = 1;
  opterr = 0; /* unknown options are reported by cli_getopt_error, with a suggestion */
  while ((c = getopt_long(argc, argv, "p:c:h", opts, NULL)) != -1) {
    switch (c) {
    case 'p': pub = optarg; break;
    case 'c': only = optarg; break;
    case 'i': isa = 1; break;
    case 'h':
      printf("usage: tenet inspect [--pubkey KEY.pub] [--check ID] BUNDLE|POLICY.yml\n"
             "       tenet inspect --isa   (the instruction set, operand kinds and rule kinds)\n");
      return 0;
    default: return cli_getopt_error("tenet inspect", opts, argv);
    }
  }
  if (isa) { /* the VM's own tables: no bundle */
    if (optind != argc) {
      fprintf(stderr, "usage: tenet inspect --isa\n");
      return 2;
    }
    disasm_isa(stdout);
    return 0;
  }
  if (optind != argc - 1) {
    fprintf(stderr, "usage: tenet inspect [--pubkey KEY.pub] [--check ID] BUNDLE|POLICY.yml\n");
    return 2;
  }
  const char *path = argv[optind];
  char err[512];
  crypto_key *key = NULL;
  if (pub && !(key = crypto_key_load_public(pub, err, sizeof err))) {
    fprintf(stderr, "tenet inspect: %s\n", err);
    return 1;
  }
  /* inspect shows unsigned and unverified bundles too: the signature line says what was checked */
  load_options lo = {.pubkey = NULL, .allow_unsigned = 1};
  loaded_policy lp;
  diag_list *diags = diag_list_new();
  int rc = load_policy(path, &lo, &lp, diags, err, sizeof err);
  if (rc != TN_OK) {
    diag_print(diags, stderr, cli_use_color(stderr));
    fprintf(stderr, "tenet inspect: %s\n", err);
    diag_list_free(diags);
    crypto_key_free(key);
    return 1;
  }
  diag_list_free(diags);
  char sigline[1024];
  int status = 0;
  if (!lp.info.is_signed) {
    snprintf(sigline, sizeof sigline, "none (unsigned bundle)");
  } else {
    char kid[17];
    crypto_hex(lp.info.key_id, sizeof lp.info.key_id, kid);
    if (!key) {
      snprintf(sigline, sizeof sigline, "Ed25519 by key %s (not checked: give --pubkey)", kid);
    } else if (bundle_check_signature(&lp.info, key, err, sizeof err) == TN_OK) {
      snprintf(sigline, sizeof sigline, "Ed25519 by key %s: VALID for %s", kid, pub);
    } else {
      snprintf(sigline, sizeof sigline, "Ed25519 by key %s: INVALID for %s (%s)", kid, pub, err);
      status = 1;
    }
  }
  vm_image *img = vm_image_load(lp.prog, err, sizeof err);
  header(path, &lp, img, sigline);
  if (only) {
    int64_t key;
    checkid_parse(only, strlen(only), &key); /* an integer id, or a 5.x text id (`--check s5`) */
    long idx = program_find_check(lp.prog, key);
    if (idx < 0) {
      fprintf(stderr, "tenet inspect: no check with id %s\n", only);
      status = 1;
    } else {
      char label[320];
      snprintf(label, sizeof label, "check %s '%.200s'", only, program_str(lp.prog, lp.prog->checks[idx].title));
      disasm_check(stdout, lp.prog, &lp.prog->checks[idx], label);
    }
  } else {
    disasm_program(stdout, lp.prog, img);
  }
  vm_image_free(img);
  loaded_policy_free(&lp);
  crypto_key_free(key);
  return status;
}
