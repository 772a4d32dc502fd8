/* cmd_pki.c — `tenet pki`: create a CA, issue the manager's and the agents' certificates, and
 * revoke them (proto/pki.h does the work; this file parses arguments and tells the user what happened). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
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

static int usage(const char *msg) {
  if (msg) fprintf(stderr, "tenet pki: %s\n", msg);
  fputs(usage_text, stderr);
  return 2;
}

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
static int revoke(int argc, char **argv) {
  if (argc != 4 || argv[2][0] == '-' || argv[3][0] == '-')
    return usage(argc < 4 ? "revoke needs DIR and AGENT_ID (or a certificate file)"
                          : "revoke takes DIR and AGENT_ID|CERT, no options");
  char err[PKI_ERR_LEN] = "";
  pki_revoked res;
  int already = 0;
  int st = pki_revoke(argv[2], argv[3], &already, &res, err, sizeof err);
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
  if (argc < 2 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0 ||
      strcmp(argv[1], "help") == 0) {
    if (argc < 2) return usage(NULL);
    fputs(usage_text, stdout);
    return 0;
  }
  const char *sub = argv[1];
  if (strcmp(sub, "revoke") == 0) return revoke(argc, argv);
  int is_init = strcmp(sub, "init") == 0, is_mgr = strcmp(sub, "issue-manager") == 0,
      is_agent = strcmp(sub, "issue-agent") == 0;
  if (!is_init && !is_mgr && !is_agent) {
    char msg[128];
    snprintf(msg, sizeof msg, "unknown command '%.60s'", sub);
    return usage(msg);
  }

  pki_options opt = {0, 0};
  const char *pos[2] = {NULL, NULL};
  int npos = 0, want = is_init ? 1 : 2;
  const char *ca_name = NULL;
  const char **sans = calloc((size_t)argc, sizeof *sans);
  size_t nsans = 0;
  if (!sans) {
    fprintf(stderr, "tenet pki: out of memory\n");
    return 1;
  }
  int rc = 0;
  for (int i = 2; i < argc && rc == 0; i++) {
    const char *a = argv[i];
    if (strcmp(a, "--force") == 0) {
      opt.force = 1;
    } else if (strcmp(a, "--days") == 0 || strcmp(a, "--san") == 0 || strcmp(a, "--name") == 0) {
      if (i + 1 >= argc) {
        char msg[64];
        snprintf(msg, sizeof msg, "%s needs a value", a);
        rc = usage(msg);
      } else if (strcmp(a, "--days") == 0) {
        if (parse_days(argv[++i], &opt.days) != 0)
          rc = usage("--days needs a number of days from 1 to 36500");
      } else if (strcmp(a, "--san") == 0 && is_mgr) {
        sans[nsans++] = argv[++i];
      } else if (strcmp(a, "--name") == 0 && is_init) {
        ca_name = argv[++i];
      } else {
        char msg[96];
        snprintf(msg, sizeof msg, "%s is not an option of '%s'", a, sub);
        rc = usage(msg);
      }
    } else if (a[0] == '-' && a[1]) {
      char msg[96];
      snprintf(msg, sizeof msg, "unknown option '%.60s'", a);
      rc = usage(msg);
    } else if (npos < want) {
      pos[npos++] = a;
    } else {
      char msg[96];
      snprintf(msg, sizeof msg, "unexpected argument '%.60s'", a);
      rc = usage(msg);
    }
  }
  if (rc == 0 && npos < want)
    rc = usage(is_init  ? "init needs DIR"
               : is_mgr ? "issue-manager needs DIR and NAME"
                        : "issue-agent needs DIR and AGENT_ID");
  if (rc != 0) {
    free(sans);
    return rc;
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
    fprintf(stderr, "tenet pki %s: %s\n", sub, err[0] ? err : tn_strerror(st));
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
    printf("\nnext: in manager.conf set cert = %s, key = %s and ca = %s/ca.crt (docs/DAEMONS.md);\n", res.cert,
           res.key, dir);
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
