/* bench_fleet.h — what the benchmarks that simulate a fleet of agents share (bench_manager,
 * bench_soak): dying with a message, a throwaway PKI in a temp directory (issuing agents' and TLS
 * client contexts for them), and removing that directory afterwards. Each program names itself in
 * fleet_prog and its PKI directory in fleet_pki before using them. */
#ifndef TENET_BENCH_FLEET_H
#define TENET_BENCH_FLEET_H

#include <ftw.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "err.h"
#include "pki.h"
#include "tls.h"

static const char *fleet_prog = "bench";
static char fleet_pki[PATH_MAX + 8]; /* the throwaway CA's directory */

static void fleet_die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void fleet_die(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fprintf(stderr, "%s: ", fleet_prog);
  vfprintf(stderr, fmt, ap);
  fprintf(stderr, "\n");
  va_end(ap);
  exit(1);
}

/* A TLS client context holding agent id's certificate (issued by fleet_issue). */
static tls_ctx *fleet_client_ctx(const char *id) {
  char crt[PATH_MAX + 64], key[PATH_MAX + 64], ca[PATH_MAX + 16], err[256];
  snprintf(crt, sizeof crt, "%s/agents/%s.crt", fleet_pki, id);
  snprintf(key, sizeof key, "%s/agents/%s.key", fleet_pki, id);
  snprintf(ca, sizeof ca, "%s/ca.crt", fleet_pki);
  tls_ctx *c = tls_ctx_new_client(crt, key, ca, err, sizeof err);
  if (!c) fleet_die("%s", err);
  return c;
}

/* Issue agent id's certificate from the throwaway CA. */
static void fleet_issue(const char *id) {
  char err[512];
  pki_result res;
  if (pki_issue_agent(fleet_pki, id, NULL, &res, err, sizeof err) != TN_OK) fleet_die("issue %s: %s", id, err);
}

/* nftw callback removing a tree depth first: nftw(dir, fleet_rm_entry, 16, FTW_DEPTH | FTW_PHYS). */
static int fleet_rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw) {
  (void)sb;
  (void)flag;
  (void)ftw;
  return remove(path);
}

#endif
