/* main.c — `tenet`: the policy compiler, inspector, signer and scanner. Only dispatches to cmd_*.c
 * through the command table below; `--version`, `help` and did-you-mean for a mistyped command. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bundle.h"
#include "cli.h"
#include "cli_opt.h"
#include "opcodes.h"

#ifndef TENET_VERSION
#define TENET_VERSION "0.1.0"
#endif

/* One row per command: name, entry point, synopsis (every option, as in the command's --help). */
static const struct {
  const char *name;
  int (*fn)(int, char **);
  const char *synopsis;
} commands[] = {
    {"compile", cmd_compile,
     "compile [-o OUT] [--key KEY.key] [--policy-version N] [--expires DAYS | --expiry EPOCH] [--strict]\n"
     "                [--dialect wazuh4|wazuh5] [--check] [--quiet] POLICY.yml..."},
    {"inspect", cmd_inspect, "inspect [--pubkey KEY.pub] [--check ID] BUNDLE|POLICY.yml"},
    {"keygen", cmd_keygen, "keygen NAME                  (writes NAME.key and NAME.pub)"},
    {"verify", cmd_verify, "verify --pubkey KEY.pub BUNDLE..."},
    {"sign", cmd_sign, "sign --key KEY WAIVERS.yml...        (a detached signature: WAIVERS.yml.sig)"},
    {"scan", cmd_scan,
     "scan [--format F[:PATH],...] [--output FILE] [--jobs N] [--no-cache] [--no-builtins] [--timeout S]\n"
     "             [--scan-budget S] [--cache-max MB]\n"
     "             [--root DIR] [--pubkey KEY.pub | --allow-unsigned] [--dialect wazuh4|wazuh5] [--reasons R]\n"
     "             [--waivers FILE]... [--baseline OLD.json [--only-changes]]\n"
     "             [--fail-on failed|not-applicable|none] [--min-score N] BUNDLE|POLICY.yml..."},
    {"test", cmd_test, "test [--update] [--case NAME] POLICY.yml|BUNDLE [TESTFILE]   (offline fixture tests)"},
    {"diff", cmd_diff, "diff [--format text|json] OLD NEW   (bundles or YAML: what a rollout changes)"},
    {"bench", cmd_bench, "bench [--runs N] [--jobs N] [--format text|json] BUNDLE|POLICY.yml...   (scan speed vs the Wazuh-like mode)"},
    {"pki", cmd_pki, "pki init|issue-manager|issue-agent DIR ...   (certificates for agent <-> manager TLS)"},
};
#define NCOMMANDS (sizeof commands / sizeof *commands)

static void usage(FILE *out) {
  fprintf(out, "usage: tenet COMMAND [ARGS]\n       tenet --version | --help | help COMMAND\n\ncommands:\n");
  for (size_t i = 0; i < NCOMMANDS; i++)
    fprintf(out, "  tenet %s\n", commands[i].synopsis);
  fprintf(out, "\nRun `tenet COMMAND --help` for a command's options (`man tenet` for the manual).\n");
}

static void version(void) {
  printf("tenet %s\nISA version %d, bundle format version %d\n", TENET_VERSION, VM_ISA_VERSION,
         BUNDLE_FORMAT_VERSION);
}

static int find_command(const char *name) {
  for (size_t i = 0; i < NCOMMANDS; i++)
    if (strcmp(name, commands[i].name) == 0) return (int)i;
  return -1;
}

/* "unknown command 'x'", with the nearest command or top-level option when one is near. */
static int unknown(const char *word) {
  const char *cands[NCOMMANDS + 3];
  size_t n = 0;
  for (size_t i = 0; i < NCOMMANDS; i++)
    cands[n++] = commands[i].name;
  const char *near;
  if (word[0] == '-') {
    const char *opts[] = {"--version", "--help"};
    near = cli_suggest(word, opts, 2);
    if (near) return cli_usage_error("tenet", "unknown option '%s'; did you mean '%s'?", word, near);
    return cli_usage_error("tenet", "unknown option '%s'", word);
  }
  cands[n++] = "help";
  cands[n++] = "version";
  near = cli_suggest(word, cands, n);
  if (near) return cli_usage_error("tenet", "unknown command '%s'; did you mean '%s'?", word, near);
  return cli_usage_error("tenet", "unknown command '%s'", word);
}

int main(int argc, char **argv) {
  if (argc < 2) {
    usage(stderr);
    return 2;
  }
  const char *cmd = argv[1];
  if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0) {
    usage(stdout);
    return 0;
  }
  if (strcmp(cmd, "--version") == 0 || strcmp(cmd, "-V") == 0 || strcmp(cmd, "version") == 0) {
    version();
    return 0;
  }
  if (strcmp(cmd, "help") == 0) { /* tenet help [COMMAND] */
    if (argc < 3) {
      usage(stdout);
      return 0;
    }
    int k = find_command(argv[2]);
    if (k < 0) return unknown(argv[2]);
    char *args[] = {argv[2], "--help", NULL};
    return commands[k].fn(2, args);
  }
  int k = find_command(cmd);
  if (k < 0) return unknown(cmd);
  return commands[k].fn(argc - 1, argv + 1);
}
