/* cmd_compile.c — `tenet compile`: policies to (optionally signed) bundles, with gcc-style
 * diagnostics for every problem found and exit status 1 on any error. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "bundle.h"
#include "cli.h"
#include "cli_opt.h"
#include "compile.h"
#include "crypto.h"
#include "err.h"

static void help(FILE *out) {
  fprintf(
      out,
      "usage: tenet compile [options] POLICY.yml...\n"
      "  -o, --output OUT        bundle file (one policy) or directory (several); default: NAME.tnb here\n"
      "  -k, --key KEY.key       sign with this Ed25519 private key (see `tenet keygen`)\n"
      "  -V, --policy-version N  monotonic policy version (agents refuse to go back), default 1\n"
      "  -e, --expires DAYS      bundle expires DAYS days from now (default: never)\n"
      "      --expiry EPOCH      bundle expires at this unix time\n"
      "  -s, --strict            treat warnings as errors (for CI): the same as -Werror\n"
      "  -d, --dialect D         wazuh4 or wazuh5 semantics (default: from the policy's schema)\n"
      "  -n, --check             check only: report diagnostics, write nothing\n"
      "  -q, --quiet             no summary line per policy\n"
      "      --diagnostics-format=F  text (default), json (one array) or sarif (SARIF 2.1.0); json and\n"
      "                          sarif go to standard output, the summary lines to standard error\n"
      "      --no-caret          text diagnostics without the source line and caret\n"
      "\n"
      "warning control, applied in order (like gcc):\n"
      "  -W<code>  -Wno-<code>   turn a warning on / off\n"
      "  -Werror  -Wno-error     every warning is / is not an error\n"
      "  -Werror=<code>          this warning is an error (and on); -Wno-error=<code>: it is not\n"
      "  -Wall                   every warning on, also those off by default;  -w: no warnings\n"
      "\n"
      "warnings (* = on by default):\n");
  size_t n;
  const diag_code_info *c = diag_codes(&n);
  for (size_t i = 0; i < n; i++)
    if (c[i].is_warning)
      fprintf(out, "  %s -W%-21s %s\n", c[i].on_by_default ? "*" : " ", c[i].code, c[i].description);
}

/* Write bytes to path atomically (temp file + rename) so a reader never sees half a bundle. */
static int write_atomic(const char *path, const uint8_t *data, size_t len) {
  char tmp[4096];
  if (snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid()) >= (int)sizeof tmp) return -1;
  int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return -1;
  size_t off = 0;
  while (off < len) {
    ssize_t w = write(fd, data + off, len - off);
    if (w < 0) {
      if (errno == EINTR) continue;
      close(fd);
      unlink(tmp);
      return -1;
    }
    off += (size_t)w;
  }
  if (fsync(fd) != 0 || close(fd) != 0 || rename(tmp, path) != 0) {
    int e = errno;
    unlink(tmp);
    errno = e;
    return -1;
  }
  return 0;
}

static char *output_path(const char *input, const char *out, int many) {
  char *copy = strdup(input), *base = basename(copy), *dot = strrchr(base, '.');
  if (dot) *dot = '\0';
  char *path = NULL;
  int r;
  if (out && !many)
    r = asprintf(&path, "%s", out);
  else if (out)
    r = asprintf(&path, "%s/%s.tnb", out, base);
  else
    r = asprintf(&path, "%s.tnb", base);
  free(copy);
  return r < 0 ? NULL : path;
}

int cmd_compile(int argc, char **argv) {
  static const struct option opts[] = {{"output", required_argument, 0, 'o'},
                                       {"key", required_argument, 0, 'k'},
                                       {"policy-version", required_argument, 0, 'V'},
                                       {"expires", required_argument, 0, 'e'},
                                       {"expiry", required_argument, 0, 'E'},
                                       {"strict", no_argument, 0, 's'},
                                       {"dialect", required_argument, 0, 'd'},
                                       {"check", no_argument, 0, 'n'},
                                       {"quiet", no_argument, 0, 'q'},
                                       {"help", no_argument, 0, 'h'},
                                       {"diagnostics-format", required_argument, 0, 'F'},
                                       {"no-caret", no_argument, 0, 'C'},
                                       {0, 0, 0, 0}};
  const char *out = NULL, *keypath = NULL;
  compile_options co = COMPILE_OPTIONS_DEFAULT;
  int check_only = 0, quiet = 0, caret = 1, format = DIAG_FORMAT_TEXT, c;
  diag_list *wopts = diag_list_new(); /* the warning options, copied into each policy's list */
  if (!wopts) {
    fprintf(stderr, "tenet compile: out of memory\n");
    return 1;
  }
  char werr[256];
  optind = 1;
  opterr = 0; /* unknown options are reported by cli_getopt_error, with a suggestion */
  while ((c = getopt_long(argc, argv, "o:k:V:e:sd:nqhW:w", opts, NULL)) != -1) {
    char *end;
    switch (c) {
    case 'o': out = optarg; break;
    case 'k': keypath = optarg; break;
    case 'V':
      errno = 0;
      co.policy_version = strtoull(optarg, &end, 10);
      if (errno || *end || optarg[0] == '-' || co.policy_version == 0) {
        fprintf(stderr, "tenet compile: --policy-version takes a positive integer, not '%s'\n", optarg);
        diag_list_free(wopts);
        return 2;
      }
      break;
    case 'e': {
      long days = strtol(optarg, &end, 10);
      if (*end || days <= 0) {
        fprintf(stderr, "tenet compile: --expires takes a positive number of days, not '%s'\n", optarg);
        diag_list_free(wopts);
        return 2;
      }
      co.expiry = (int64_t)time(NULL) + (int64_t)days * 86400;
      break;
    }
    case 'E':
      co.expiry = strtoll(optarg, &end, 10);
      if (*end || co.expiry <= 0) {
        fprintf(stderr, "tenet compile: --expiry takes a unix time, not '%s'\n", optarg);
        diag_list_free(wopts);
        return 2;
      }
      break;
    case 's': wopts->strict = 1; break;
    case 'w':
    case 'W': {
      char opt[256];
      snprintf(opt, sizeof(opt), "-%c%s", c, c == 'W' ? optarg : "");
      if (diag_option(wopts, opt, werr, sizeof(werr)) != 0) {
        fprintf(stderr, "tenet compile: %s\n", werr);
        diag_list_free(wopts);
        return 2;
      }
      break;
    }
    case 'F':
      if ((format = diag_format_parse(optarg)) < 0) {
        fprintf(stderr, "tenet compile: --diagnostics-format is text, json or sarif, not '%s'\n", optarg);
        diag_list_free(wopts);
        return 2;
      }
      break;
    case 'C': caret = 0; break;
    case 'd':
      if (strcmp(optarg, "wazuh4") == 0)
        co.dialect = DIALECT_WAZUH4;
      else if (strcmp(optarg, "wazuh5") == 0)
        co.dialect = DIALECT_WAZUH5;
      else {
        fprintf(stderr, "tenet compile: --dialect is wazuh4 or wazuh5, not '%s'\n", optarg);
        diag_list_free(wopts);
        return 2;
      }
      break;
    case 'n': check_only = 1; break;
    case 'q': quiet = 1; break;
    case 'h':
      help(stdout);
      diag_list_free(wopts);
      return 0;
    default:
      diag_list_free(wopts);
      return cli_getopt_error("tenet compile", opts, argv);
    }
  }
  int ninputs = argc - optind;
  if (ninputs < 1) {
    fprintf(stderr, "tenet compile: missing POLICY.yml (the policy file(s) to compile)\n");
    help(stderr);
    diag_list_free(wopts);
    return 2;
  }
  struct stat st;
  int many = ninputs > 1;
  if (out && many && (stat(out, &st) != 0 || !S_ISDIR(st.st_mode))) {
    fprintf(stderr, "tenet compile: with several policies, -o must name an existing directory\n");
    diag_list_free(wopts);
    return 2;
  }
  if (out && !many && stat(out, &st) == 0 && S_ISDIR(st.st_mode)) many = 1; /* -o DIR with one policy */

  crypto_key *key = NULL;
  if (keypath) {
    char err[512];
    if (!(key = crypto_key_load_private(keypath, err, sizeof err))) {
      fprintf(stderr, "tenet compile: %s\n", err);
      diag_list_free(wopts);
      return 1;
    }
  }

  int failed = 0, color = cli_use_color(stderr);
  FILE *summary = format == DIAG_FORMAT_TEXT ? stdout : stderr; /* stdout carries the JSON/SARIF */
  for (int i = optind; i < argc; i++) {
    diag_list *diags = diag_list_new();
    if (!diags) {
      fprintf(stderr, "tenet compile: out of memory\n");
      failed = 1;
      break;
    }
    diag_options_copy(diags, wopts);
    program *p = compile_policy_file(argv[i], &co, diags);
    if (format == DIAG_FORMAT_TEXT) diag_render(diags, stderr, DIAG_FORMAT_TEXT, color, caret);
    if (!p || diag_errors(diags) > 0) {
      fprintf(stderr, "%s: %zu error(s), %zu warning(s); no bundle written\n", argv[i], diag_errors(diags),
              diag_warnings(diags));
      failed = 1;
      program_free(p);
      diag_list_take(wopts, diags);
      diag_list_free(diags);
      continue;
    }
    uint8_t *bytes = NULL;
    size_t len = 0;
    char err[512];
    int rc = bundle_write(p, key, &bytes, &len, err, sizeof err);
    char *path = rc == TN_OK && !check_only ? output_path(argv[i], out, many) : NULL;
    if (rc != TN_OK) {
      fprintf(stderr, "%s: %s\n", argv[i], err);
      failed = 1;
    } else if (!check_only && (!path || write_atomic(path, bytes, len) != 0)) {
      fprintf(stderr, "%s: cannot write %s: %s\n", argv[i], path ? path : "bundle", strerror(errno));
      failed = 1;
    } else if (!quiet) {
      uint8_t hash[CRYPTO_SHA256_LEN];
      char hex[2 * CRYPTO_SHA256_LEN + 1] = "";
      if (bundle_written_hash(bytes, len, hash) == TN_OK) crypto_hex(hash, sizeof hash, hex);
      fprintf(summary, "%s -> %s: policy %s version %llu, %u checks, %zu bytes, %s, bundle hash %s", argv[i],
              check_only ? "(checked)" : path, program_str(p, p->policy_id),
              (unsigned long long)p->policy_version, p->nchecks, len, key ? "signed" : "unsigned", hex);
      if (diag_warnings(diags)) fprintf(summary, ", %zu warning(s)", diag_warnings(diags));
      fputc('\n', summary);
    }
    free(path);
    free(bytes);
    program_free(p);
    diag_list_take(wopts, diags);
    diag_list_free(diags);
  }
  /* every policy's diagnostics were moved into wopts: one JSON array / one SARIF run for all */
  if (format != DIAG_FORMAT_TEXT) diag_render(wopts, stdout, (diag_format)format, 0, 0);
  diag_list_free(wopts);
  crypto_key_free(key);
  return failed ? 1 : 0;
}
