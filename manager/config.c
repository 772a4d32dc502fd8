/* config.c — tenet-manager's option table (see daemon_conf.h for the file format), and the
 * store's settling: `store` or its SQLite shorthand `state_db`, exactly one. */
#include "config.h"

#include <limits.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "err.h"
#include "frame.h"
#include "store.h"

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
    OPT("store", CONF_STRING, store, "", 0, 0, 0,
        "every agent's state: sqlite:PATH, or postgresql://... (a libpq URI) shared by several managers"),
    OPT("state_db", CONF_PATH, state_db, "", 0, 0, 0,
        "SQLite store of every agent's state (= store = sqlite:PATH)"),
    OPT("node_name", CONF_STRING, node_name, "", 0, 0, 0,
        "this manager's name in a shared store: connections, logs (default: the host name)"),
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
        "pid file, locked while the daemon runs (default: tenet-manager.pid beside the SQLite store, or "
        "beside alerts_file with PostgreSQL)"),
    OPT("port_file", CONF_PATH, port_file, "", 0, 0, 0, "write the bound port here once listening"),
    OPT("alert_takeover", CONF_DURATION, alert_takeover, "10m", 0, 0, 31536000,
        "PostgreSQL: alerts a dead manager claimed this long ago are drained by another (they may repeat; 0: "
        "never)"),
    OPT("test_drop_check", CONF_INT, test_drop_check, "-1", 0, -1, INT64_MAX,
        "TEST ONLY: drop this check id once from the first CheckDeltas carrying it"),
    OPT("test_crash_after_alert_write", CONF_BOOL, test_crash_after_alert_write, "no", 0, 0, 0,
        "TEST ONLY: exit at once after writing a batch of alerts, before the store records it written"),
};

#define NOPTIONS (sizeof options / sizeof *options)

/* The pid file defaults to the state directory (the directory of state_db), or with a PostgreSQL
 * store to the directory of the alerts file. */
static int default_pid_file(manager_config *cfg) {
  if (cfg->pid_file && cfg->pid_file[0]) return TN_OK;
  const char *beside = cfg->state_db[0] ? cfg->state_db : cfg->alerts_file;
  const char *slash = strrchr(beside, '/');
  int dirlen = slash ? (int)(slash - beside) : 1;
  char *p = NULL;
  if (asprintf(&p, "%.*s/tenet-manager.pid", dirlen, slash ? beside : ".") < 0) return TN_ENOMEM;
  free(cfg->pid_file);
  cfg->pid_file = p;
  return TN_OK;
}

/* path made absolute against the directory of the configuration file conf, as CONF_PATH options
 * are (malloc'd). */
static char *beside_conf(const char *conf, const char *path) {
  char abs[PATH_MAX], *p = NULL;
  if (path[0] == '/' || !realpath(conf, abs)) return strdup(path);
  char *slash = strrchr(abs, '/');
  if (slash) *slash = '\0';
  if (asprintf(&p, "%s/%s", abs[0] ? abs : "", path) < 0) return NULL;
  return p;
}

/* Exactly one of store and state_db; afterwards store is the string mstore_open takes and, for
 * SQLite, state_db the file's absolute path ("" with PostgreSQL). */
static int settle_store(const char *conf, manager_config *cfg, char *err, size_t errlen) {
  if (cfg->store[0] && cfg->state_db[0]) {
    snprintf(err, errlen, "%s: set either 'store' or 'state_db' (its SQLite shorthand), not both", conf);
    return TN_ECONFIG;
  }
  if (!cfg->store[0] && !cfg->state_db[0]) {
    snprintf(err, errlen,
             "%s: missing required option 'store' (sqlite:PATH or postgresql://...; or state_db = PATH)",
             conf);
    return TN_ECONFIG;
  }
  char why[512];
  if (cfg->store[0] && mstore_check_string(cfg->store, why, sizeof why) != TN_OK) {
    snprintf(err, errlen, "%s: %s", conf, why);
    return TN_ECONFIG;
  }
  int pg = strncmp(cfg->store, "postgresql://", 13) == 0 || strncmp(cfg->store, "postgres://", 11) == 0;
  if (cfg->store[0] && !pg) { /* sqlite:PATH or a bare path: resolved like state_db */
    const char *path = strncmp(cfg->store, "sqlite:", 7) == 0 ? cfg->store + 7 : cfg->store;
    char *abs = beside_conf(conf, path);
    if (!abs) return TN_ENOMEM;
    free(cfg->state_db);
    cfg->state_db = abs;
  }
  if (!pg) {
    char *s = NULL;
    if (asprintf(&s, "sqlite:%s", cfg->state_db) < 0) return TN_ENOMEM;
    free(cfg->store);
    cfg->store = s;
  }
  if (!cfg->node_name[0]) {
    char host[256];
    if (gethostname(host, sizeof host) != 0) snprintf(host, sizeof host, "localhost");
    host[sizeof host - 1] = '\0';
    char *n = strdup(host);
    if (!n) return TN_ENOMEM;
    free(cfg->node_name);
    cfg->node_name = n;
  }
  if (strlen(cfg->node_name) > 63) {
    snprintf(err, errlen, "%s: node_name '%s' is longer than 63 bytes", conf, cfg->node_name);
    return TN_ECONFIG;
  }
  return TN_OK;
}

size_t manager_config_diff(const manager_config *a, const manager_config *b, const char **names, size_t max) {
  return conf_diff(options, NOPTIONS, a, b, names, max);
}

int manager_config_load(const char *path, manager_config *cfg, char *err, size_t errlen) {
  memset(cfg, 0, sizeof *cfg);
  int rc = conf_load(path, options, NOPTIONS, cfg, err, errlen);
  if (rc == TN_OK) rc = settle_store(path, cfg, err, errlen);
  return rc == TN_OK ? default_pid_file(cfg) : rc;
}

void manager_config_free(manager_config *cfg) { conf_free(options, NOPTIONS, cfg); }

void manager_config_help(FILE *out) {
  fprintf(out, "tenet-manager configuration (key = value lines, '#' comments):\n");
  conf_print_help(out, options, NOPTIONS);
}
