/* main.c — `tenet`: the policy compiler, inspector, signer and scanner. Only dispatches to cmd_*.c. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

static const struct {
  const char *name;
  int (*fn)(int, char **);
  const char *usage;
} commands[] = {
    {"compile", cmd_compile, "compile [-o OUT] [--key KEY] [--policy-version N] [--expires DAYS] [--strict] [--dialect wazuh4|wazuh5] POLICY.yml..."},
    {"inspect", cmd_inspect, "inspect [--pubkey KEY.pub] [--check ID] BUNDLE|POLICY.yml"},
    {"keygen", cmd_keygen, "keygen NAME                      (writes NAME.key and NAME.pub)"},
    {"verify", cmd_verify, "verify --pubkey KEY.pub BUNDLE..."},
    {"sign", cmd_sign, "sign --key KEY WAIVERS.yml...        (a detached signature: WAIVERS.yml.sig)"},
    {"scan", cmd_scan, "scan [--format jsonl|text] [--jobs N] [--no-cache] [--timeout S] [--pubkey KEY.pub | --allow-unsigned] BUNDLE|POLICY.yml..."},
    {"test", cmd_test, "test [--update] [--case NAME] POLICY.yml|BUNDLE [TESTFILE]   (offline fixture tests)"},
    {"diff", cmd_diff, "diff [--format text|json] OLD NEW   (bundles or YAML: what a rollout changes)"},
    {"bench", cmd_bench, "bench [--runs N] [--jobs N] [--format text|json] BUNDLE|POLICY.yml...   (scan speed vs the Wazuh-like mode)"},
    {"pki", cmd_pki, "pki init|issue-manager|issue-agent ...   (certificates for agent <-> manager TLS)"},
};

static void usage(FILE *out) {
  fprintf(out, "usage: tenet COMMAND [ARGS]\n\n");
  for (size_t i = 0; i < sizeof commands / sizeof *commands; i++) fprintf(out, "  tenet %s\n", commands[i].usage);
  fprintf(out, "\nRun `tenet COMMAND --help` for a command's options.\n");
}

int main(int argc, char **argv) {
  if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "help") == 0) {
    usage(argc < 2 ? stderr : stdout);
    return argc < 2 ? 2 : 0;
  }
  if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "version") == 0) {
    printf("tenet 0.1.0\n");
    return 0;
  }
  for (size_t i = 0; i < sizeof commands / sizeof *commands; i++)
    if (strcmp(argv[1], commands[i].name) == 0) return commands[i].fn(argc - 1, argv + 1);
  fprintf(stderr, "tenet: unknown command '%s'\n\n", argv[1]);
  usage(stderr);
  return 2;
}
