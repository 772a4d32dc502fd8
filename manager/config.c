/* config.c — tenet-manager's option table (see daemon_conf.h for the file format). */
#include "config.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "frame.h"

#define OPT(name, type, field, dflt, flags, min, max, help)                                                  \
  { name, type, offsetof(manager_config, field), dflt, flags, min, max, help }

static const conf_option options[] = {
    OPT("listen", CONF_ADDR, listen, "*:1515", 0, 0, 65535,
        "address agents connect to, HOST:PORT (port 0: any free port)"),
    OPT("cert", CONF_PATH, cert, NULL, CONF_REQUIRED, 0, 0, "the manager's certificate (PEM)"),
    OPT("key", CONF_PATH, key, NULL, CONF_REQUIRED, 0, 0, "the manager's private key (PEM)"),
    OPT("ca", CONF_PATH, ca, NULL, CONF_REQUIRED, 0, 0,
        "CA certificate that signed the agents' certificates"),
    OPT("crl", CONF_PATH, crl, "", 0, 0, 0,
        "revoked agent certificates (PEM CRL from `tenet pki revoke`), re-read on SIGHUP and when it "
        "changes"),
    OPT("state_db", CONF_PATH, state_db, NULL, CONF_REQUIRED, 0, 0, "SQLite store of every agent's state"),
    OPT("durable", CONF_BOOL, durable, "yes", 0, 0, 0,
        "fsync every commit (no: survive crashes of the process only)"),
    OPT("alerts_file", CONF_PATH, alerts_file, NULL, CONF_REQUIRED, 0, 0, "alerts, one JSON object per line"),
    OPT("bundle_dir", CONF_PATH, bundle_dir, "", 0, 0, 0, "bundles (*.tnb) to distribute to agents"),
    OPT("trusted_keys", CONF_LIST, trusted_keys, "", CONF_PATHS, 0, 0,
        "distribute only bundles signed by these public keys (default: any signed bundle)"),
    OPT("bundle_poll_interval", CONF_DURATION, bundle_poll_interval, "2s", 0, 1, 3600,
        "how often bundle_dir is read"),
    OPT("max_frame", CONF_SIZE, max_frame, "4M", 0, 4096, (int64_t)FRAME_MAX_LIMIT,
        "largest frame accepted or sent"),
    OPT("max_connections", CONF_INT, max_connections, "10000", 0, 1, 1000000, "concurrent agent connections"),
    OPT("max_preauth_connections", CONF_INT, max_preauth_connections, "256", 0, 1, 1000000,
        "connections still in the TLS handshake or before Hello (the oldest goes when full)"),
    OPT("max_preauth_per_address", CONF_INT, max_preauth_per_address, "16", 0, 1, 1000000,
        "connections before Hello from one IP address"),
    OPT("max_policies", CONF_INT, max_policies, "1024", 0, 1, 65536,
        "policies one agent may name in Hello or PolicyList"),
    OPT("handshake_timeout", CONF_DURATION, handshake_timeout, "10s", 0, 1, 600,
        "time to finish TLS and send Hello"),
    OPT("frame_timeout", CONF_DURATION, frame_timeout, "60s", 0, 1, 3600,
        "time to finish a frame once its first bytes arrived"),
    OPT("idle_timeout", CONF_DURATION, idle_timeout, "0", 0, 0, 31536000,
        "close an agent's connection after this long without a frame (0: never)"),
    OPT("tcp_keepalive", CONF_DURATION, tcp_keepalive, "60s", 0, 0, 86400,
        "TCP keepalive idle time on agent connections (0: off)"),
    OPT("frames_per_turn", CONF_INT, frames_per_turn, "64", 0, 1, 100000,
        "frames read from one agent per loop turn"),
    OPT("max_dump_retries", CONF_INT, max_dump_retries, "3", 0, 0, 100,
        "dumps re-requested when one does not converge"),
    OPT("log_file", CONF_PATH, log_file, "", 0, 0, 0, "log file (default: stderr)"),
    OPT("log_level", CONF_LEVEL, log_level, "info", 0, 0, 0, "debug, info, warning or error"),
    OPT("pid_file", CONF_PATH, pid_file, "", 0, 0, 0,
        "pid file, locked while the daemon runs (default: tenet-manager.pid beside state_db)"),
    OPT("port_file", CONF_PATH, port_file, "", 0, 0, 0, "write the bound port here once listening"),
    OPT("test_drop_check", CONF_INT, test_drop_check, "-1", 0, -1, INT64_MAX,
        "TEST ONLY: drop this check id once from the first CheckDeltas carrying it"),
};

#define NOPTIONS (sizeof options / sizeof *options)

/* The pid file defaults to the state directory (the directory of state_db). */
static int default_pid_file(manager_config *cfg) {
  if (cfg->pid_file && cfg->pid_file[0]) return TN_OK;
  const char *slash = strrchr(cfg->state_db, '/');
  int dirlen = slash ? (int)(slash - cfg->state_db) : 1;
  char *p = NULL;
  if (asprintf(&p, "%.*s/tenet-manager.pid", dirlen, slash ? cfg->state_db : ".") < 0) return TN_ENOMEM;
  free(cfg->pid_file);
  cfg->pid_file = p;
  return TN_OK;
}

size_t manager_config_diff(const manager_config *a, const manager_config *b, const char **names, size_t max) {
  return conf_diff(options, NOPTIONS, a, b, names, max);
}

int manager_config_load(const char *path, manager_config *cfg, char *err, size_t errlen) {
  memset(cfg, 0, sizeof *cfg);
  int rc = conf_load(path, options, NOPTIONS, cfg, err, errlen);
  return rc == TN_OK ? default_pid_file(cfg) : rc;
}

void manager_config_free(manager_config *cfg) { conf_free(options, NOPTIONS, cfg); }

void manager_config_help(FILE *out) {
  fprintf(out, "tenet-manager configuration (key = value lines, '#' comments):\n");
  conf_print_help(out, options, NOPTIONS);
}
