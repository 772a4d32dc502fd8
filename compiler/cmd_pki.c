/* cmd_pki.c — `tenet pki`: create a CA, issue the manager's and the agents' certificates, and
 * revoke them (proto/pki.h does the work; this file parses arguments and tells the user what happened). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cli_opt.h"
#include "err.h"
#include "pki.h"

#define PKI_ERR_LEN 512

static const char usage_text[] =
    "usage: tenet pki init DIR [--name CA_NAME] [--days N] [--force]\n"
    "       tenet pki issue-manager DIR NAME [--san HOST]... [--days N] [--force]\n"
    "       tenet pki issue-agent DIR AGENT_ID [--days N] [--force]\n"
    "       tenet pki revoke DIR AGENT_ID|CERT\n"
    "\n"
    "  init           create a certificate authority: DIR/ca.crt and DIR/ca.key\n"
    "  issue-manager  DIR/manager.crt and .key, for the names agents connect to (--san, repeatable:\n"
    "                 a DNS name or an IP address; default localhost and 127.0.0.1)\n"
    "  issue-agent    DIR/agents/AGENT_ID.crt and .key; the certificate is the agent's identity\n"
    "                 (AGENT_ID: 1-64 characters of A-Z a-z 0-9 _ . -)\n"
    "  revoke         add the agent's certificate (DIR/agents/AGENT_ID.crt, or the PEM file CERT) to\n"
    "                 DIR/crl.pem, a CRL signed by the CA; the manager (option crl) reloads it on\n"
    "                 SIGHUP or when it changes, refuses the certificate and drops its connection\n"
    "  --days N       validity (default 3650 for the CA, 825 for certificates)\n"
    "  --force        replace existing files\n";

enum { OPT_DAYS = 1, OPT_FORCE, OPT_NAME, OPT_SAN };

/* The options of each subcommand: one table each, sharing rows. */
#define ROW_DAYS                                                                                             \
  { OPT_DAYS, "days", 0, "N", "validity in days (default 3650 for the CA, 825 for certificates)" }
#define ROW_FORCE                                                                                            \
  { OPT_FORCE, "force", 0, NULL, "replace existing files" }
static const cli_opt init_opts[] = {
    {OPT_NAME, "name", 0, "CA_NAME", "the CA's common name"}, ROW_DAYS, ROW_FORCE};
static const cli_opt manager_opts[] = {
    {OPT_SAN, "san", 0, "HOST", "a name agents dial: DNS name or IP address (repeatable)"},
    ROW_DAYS,
    ROW_FORCE};
static const cli_opt agent_opts[] = {ROW_DAYS, ROW_FORCE};

static const struct {
  const char *name;
  const cli_opt *opts;
  size_t nopts;
  int nargs; /* operands after the subcommand */
  const char *synopsis;
  const char *missing; /* what a short command line lacks */
} subs[] = {
    {"init", init_opts, sizeof init_opts / sizeof *init_opts, 1,
     "tenet pki init DIR [--name CA_NAME] [--days N] [--force]", "init needs DIR"},
    {"issue-manager", manager_opts, sizeof manager_opts / sizeof *manager_opts, 2,
     "tenet pki issue-manager DIR NAME [--san HOST]... [--days N] [--force]",
     "issue-manager needs DIR and NAME"},
    {"issue-agent", agent_opts, sizeof agent_opts / sizeof *agent_opts, 2,
     "tenet pki issue-agent DIR AGENT_ID [--days N] [--force]", "issue-agent needs DIR and AGENT_ID"},
    {"revoke", NULL, 0, 2, "tenet pki revoke DIR AGENT_ID|CERT",
     "revoke needs DIR and AGENT_ID (or a certificate file)"},
};
#define NSUBS (sizeof subs / sizeof *subs)

static int parse_days(const char *s, int *days) {
  char *end;
  errno = 0;
  long v = strtol(s, &end, 10);
  if (errno || *end || end == s || v < 1 || v > 36500) return -1;
  *days = (int)v;
  return 0;
}

static void print_result(const pki_result *r) {
  printf("wrote %s (%s, valid until %s)\n", r->cert, r->subject, r->not_after);
  if (r->alt_names[0]) printf("      names: %s\n", r->alt_names);
  printf("wrote %s (private key, mode 0600)\n", r->key);
}

/* `tenet pki revoke DIR WHO`. */
static int revoke(const char *dir, const char *who) {
  char err[PKI_ERR_LEN] = "";
  pki_revoked res;
  int already = 0;
  int st = pki_revoke(dir, who, &already, &res, err, sizeof err);
  if (st != TN_OK) {
    fprintf(stderr, "tenet pki revoke: %s\n", err[0] ? err : tn_strerror(st));
    return 1;
  }
  printf("%s %s (%s, serial %s)\n", already ? "already revoked:" : "revoked", res.cert, res.subject,
         res.serial);
  printf("wrote %s (%d revoked certificate%s)\n", res.crl, res.entries, res.entries == 1 ? "" : "s");
  printf("\nnext: the manager with crl = %s refuses it from its next check (within a second, or at\n"
         "SIGHUP) and drops the agent's connection; copy the file there if the manager runs elsewhere.\n",
         res.crl);
  return 0;
}

int cmd_pki(int argc, char **argv) {
  if (argc < 2) {
    cli_usage_error("tenet pki", "missing a command: init, issue-manager, issue-agent or revoke");
    return 2;
  }
  if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "help") == 0) {
    fputs(usage_text, stdout);
    return 0;
  }
  const char *sub = argv[1];
  size_t k = 0;
  while (k < NSUBS && strcmp(sub, subs[k].name) != 0)
    k++;
  if (k == NSUBS) {
    const char *names[NSUBS];
    for (size_t i = 0; i < NSUBS; i++)
      names[i] = subs[i].name;
    const char *near = cli_suggest(sub, names, NSUBS);
    if (near) return cli_usage_error("tenet pki", "unknown command '%.60s'; did you mean '%s'?", sub, near);
    return cli_usage_error("tenet pki", "unknown command '%.60s' (init, issue-manager, issue-agent or revoke)", sub);
  }
  int is_init = k == 0, is_mgr = k == 1;
  char prog[64];
  snprintf(prog, sizeof prog, "tenet pki %s", sub);

  pki_options opt = {0, 0};
  const char *ca_name = NULL;
  const char **sans = calloc((size_t)argc, sizeof *sans);
  size_t nsans = 0;
  if (!sans) {
    fprintf(stderr, "%s: out of memory\n", prog);
    return 1;
  }
  cli_parser cl;
  cli_parser_init(&cl, prog, subs[k].opts, subs[k].nopts, argc - 1, argv + 1);
  for (int id; (id = cli_parser_next(&cl)) != CLI_END;) {
    int rc = -1;
    switch (id) {
    case OPT_FORCE: opt.force = 1; break;
    case OPT_NAME: ca_name = cl.value; break;
    case OPT_SAN: sans[nsans++] = cl.value; break;
    case OPT_DAYS:
      if (parse_days(cl.value, &opt.days) != 0)
        rc = cli_usage_error(prog, "--days needs a number of days from 1 to 36500");
      break;
    case CLI_HELP:
      cli_opt_print_help(stdout, subs[k].synopsis, subs[k].opts, subs[k].nopts);
      rc = 0;
      break;
    default: rc = 2; break;
    }
    if (rc >= 0) {
      free(sans);
      return rc;
    }
  }
  if (cl.npos != subs[k].nargs) {
    free(sans);
    if (cl.npos < subs[k].nargs) return cli_usage_error(prog, "%s", subs[k].missing);
    return cli_usage_error(prog, "unexpected argument '%.60s'", cl.pos[subs[k].nargs]);
  }
  const char *pos[2] = {cl.pos[0], cl.npos > 1 ? cl.pos[1] : NULL};
  if (strcmp(sub, "revoke") == 0) {
    free(sans);
    return revoke(pos[0], pos[1]);
  }

  const char *dir = pos[0];
  char err[PKI_ERR_LEN] = "";
  pki_result res;
  int st;
  if (is_init)
    st = pki_init(dir, ca_name, &opt, &res, err, sizeof err);
  else if (is_mgr)
    st = pki_issue_manager(dir, pos[1], sans, nsans, &opt, &res, err, sizeof err);
  else
    st = pki_issue_agent(dir, pos[1], &opt, &res, err, sizeof err);
  free(sans);
  if (st != TN_OK) {
    fprintf(stderr, "%s: %s\n", prog, err[0] ? err : tn_strerror(st));
    return 1;
  }

  print_result(&res);
  if (is_init) {
    if (opt.force)
      printf("note: certificates issued by the replaced CA no longer verify; issue them again\n");
    printf("\nnext: keep %s/ca.key secret (it can mint agents), then issue certificates:\n", dir);
    printf("  tenet pki issue-manager %s MANAGER_NAME [--san HOST]...\n", dir);
    printf("  tenet pki issue-agent %s AGENT_ID\n", dir);
  } else if (is_mgr) {
    printf("\nnext: in manager.conf set cert = %s, key = %s and ca = %s/ca.crt (docs/DAEMONS.md);\n",
           res.cert, res.key, dir);
    printf("agents must reach it by one of the names above (agent.conf: manager, manager_name). Issue "
           "agents:\n");
    printf("  tenet pki issue-agent %s AGENT_ID\n", dir);
  } else {
    printf("\nnext: copy %s, %s and %s/ca.crt to the agent's host; in its agent.conf:\n", res.cert, res.key,
           dir);
    printf("  cert = <path of %s.crt>\n  key = <path of %s.key>\n  ca = <path of ca.crt>\n", pos[1], pos[1]);
    printf("The manager will know this agent as '%s'.\n", pos[1]);
  }
  return 0;
}
