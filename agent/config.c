/* config.c — tenet-agent's option table (see daemon_conf.h for the file format). */
#include "config.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "frame.h"

#define OPT(name, type, field, dflt, flags, min, max, help)                                                  \
  { name, type, offsetof(agent_config, field), dflt, flags, min, max, help }

static const conf_option options[] = {
    OPT("agent_id", CONF_STRING, agent_id, "", 0, 0, 0,
        "id sent in Hello (default: the certificate file's name without .crt)"),
    OPT("manager", CONF_ADDRS, manager, NULL, CONF_REQUIRED | CONF_NEED_HOST, 1, 65535,
        "manager addresses, HOST:PORT[, HOST:PORT ...], tried in order; on a failure the next one"),
    OPT("manager_name", CONF_STRING, manager_name, "", 0, 0, 0,
        "name every manager's certificate must carry (default: the host of the address dialled)"),
    OPT("cert", CONF_PATH, cert, NULL, CONF_REQUIRED, 0, 0,
        "this agent's certificate (PEM; its CN is the agent id)"),
    OPT("key", CONF_PATH, key, NULL, CONF_REQUIRED, 0, 0, "this agent's private key (PEM)"),
    OPT("ca", CONF_PATH, ca, NULL, CONF_REQUIRED, 0, 0,
        "CA certificate that signed the manager's certificate"),
    OPT("trusted_keys", CONF_LIST, trusted_keys, NULL, CONF_REQUIRED | CONF_PATHS, 0, 0,
        "public keys (.pub, comma-separated or repeated) bundles must be signed by"),
    OPT("bundle_dir", CONF_PATH, bundle_dir, NULL, CONF_REQUIRED, 0, 0,
        "directory of installed bundles (*.tnb)"),
    OPT("state_db", CONF_PATH, state_db, NULL, CONF_REQUIRED, 0, 0, "SQLite state database"),
    OPT("scan_interval", CONF_DURATION, scan_interval, "12h", 0, 1, 366 * 86400, "time between scan starts"),
    OPT("scan_on_start", CONF_BOOL, scan_on_start, "yes", 0, 0, 0, "scan as soon as the agent starts"),
    OPT("workers", CONF_INT, workers, "0", 0, 0, 64, "scan worker threads (0: one per CPU)"),
    OPT("command_timeout", CONF_DURATION, command_timeout, "30s", 0, 1, 300, "timeout of each c: command"),
    OPT("scan_budget", CONF_DURATION, scan_budget, "10m", 0, 0, 7 * 86400,
        "time a scan may spend reading files and running commands; the checks left are not "
        "applicable with that reason (0: no budget)"),
    OPT("skip_nfs", CONF_BOOL, skip_nfs, "yes", 0, 0, 0, "d: rules on NFS/CIFS mounts are not applicable"),
    OPT("builtins", CONF_BOOL, builtins, "yes", 0, 0, 0,
        "answer common commands natively (docs/BUILTINS.md)"),
    OPT("connect_timeout", CONF_DURATION, connect_timeout, "10s", 0, 1, 600,
        "TCP connect + TLS handshake timeout"),
    OPT("reconnect_min", CONF_DURATION, reconnect_min, "1s", 0, 1, 3600,
        "first reconnect delay (then doubled)"),
    OPT("reconnect_max", CONF_DURATION, reconnect_max, "60s", 0, 1, 86400, "cap of the reconnect delay"),
    OPT("batch_checks", CONF_INT, batch_checks, "256", 0, 1, 100000, "check events per CheckDeltas message"),
    OPT("max_frame", CONF_SIZE, max_frame, "4M", 0, 4096, (int64_t)FRAME_MAX_LIMIT,
        "largest frame sent or accepted"),
    OPT("send_window", CONF_SIZE, send_window, "1M", 0, 4096, (int64_t)1 << 30,
        "unacknowledged bytes in flight"),
    OPT("log_file", CONF_PATH, log_file, "", 0, 0, 0, "log file (default: stderr)"),
    OPT("log_level", CONF_LEVEL, log_level, "info", 0, 0, 0, "debug, info, warning or error"),
    OPT("pid_file", CONF_PATH, pid_file, "", 0, 0, 0,
        "pid file, locked while the daemon runs (default: tenet-agent.pid beside state_db)"),
};

#define NOPTIONS (sizeof options / sizeof *options)

/* The pid file defaults to the state directory (the directory of state_db). */
static int default_pid_file(agent_config *cfg) {
  if (cfg->pid_file && cfg->pid_file[0]) return TN_OK;
  const char *slash = strrchr(cfg->state_db, '/');
  int dirlen = slash ? (int)(slash - cfg->state_db) : 1;
  char *p = NULL;
  if (asprintf(&p, "%.*s/tenet-agent.pid", dirlen, slash ? cfg->state_db : ".") < 0) return TN_ENOMEM;
  free(cfg->pid_file);
  cfg->pid_file = p;
  return TN_OK;
}

size_t agent_config_diff(const agent_config *a, const agent_config *b, const char **names, size_t max) {
  return conf_diff(options, NOPTIONS, a, b, names, max);
}

int agent_config_load(const char *path, agent_config *cfg, char *err, size_t errlen) {
  memset(cfg, 0, sizeof *cfg);
  int rc = conf_load(path, options, NOPTIONS, cfg, err, errlen);
  if (rc != TN_OK) return rc;
  if (cfg->reconnect_min > cfg->reconnect_max) {
    snprintf(err, errlen, "%s: reconnect_min (%llds) is above reconnect_max (%llds)", path,
             (long long)cfg->reconnect_min, (long long)cfg->reconnect_max);
    return TN_ECONFIG;
  }
  if (!cfg->manager.n || !cfg->manager.items[0].host) { /* CONF_REQUIRED | CONF_NEED_HOST: a bug if so */
    snprintf(err, errlen, "%s: manager: a host is needed (e.g. 127.0.0.1:1515)", path);
    return TN_ECONFIG;
  }
  if (!cfg->agent_id[0]) { /* tenet pki names agent certificates AGENT_ID.crt */
    const char *base = strrchr(cfg->cert, '/');
    base = base ? base + 1 : cfg->cert;
    size_t n = strlen(base);
    if (n > 4 && strcmp(base + n - 4, ".crt") == 0) n -= 4;
    char *id = strndup(base, n);
    if (!id) return TN_ENOMEM;
    free(cfg->agent_id);
    cfg->agent_id = id;
  }
  if (!cfg->manager_name[0] && cfg->manager.n == 1) { /* several: each address's own host (session.c) */
    char *n = strdup(cfg->manager.items[0].host);
    if (!n) return TN_ENOMEM;
    free(cfg->manager_name);
    cfg->manager_name = n;
  }
  return default_pid_file(cfg);
}

void agent_config_free(agent_config *cfg) { conf_free(options, NOPTIONS, cfg); }

void agent_config_help(FILE *out) {
  fprintf(out, "tenet-agent configuration (key = value lines, '#' comments):\n");
  conf_print_help(out, options, NOPTIONS);
}
