/* config.h — tenet-agent's options: one table (config.c), one struct. */
#ifndef TENET_AGENT_CONFIG_H
#define TENET_AGENT_CONFIG_H

#include <stdint.h>
#include <stdio.h>

#include "daemon_conf.h"

typedef struct agent_config {
  char *agent_id;          /* sent in Hello (informational: the certificate is the identity) */
  conf_addrs manager;      /* where managers listen, in the order tried (at least one; failover.h) */
  char *manager_name;      /* name every manager's certificate must carry ("" = each address's host;
                            * with a single address the loader sets it to that host) */
  char *cert, *key, *ca;   /* this agent's certificate + key, and the CA of the manager's */
  conf_list trusted_keys;  /* Ed25519 public keys (.pub) a bundle must be signed by (any of) */
  char *bundle_dir;        /* installed bundles (*.tnb) */
  char *state_db;          /* SQLite state (checks, outbox, anti-rollback) */
  int64_t scan_interval;   /* seconds between scan starts */
  int scan_on_start;       /* scan as soon as the agent starts */
  int64_t workers;         /* scan worker threads (0: one per CPU) */
  int64_t command_timeout; /* seconds per c: command (Wazuh sca.commands_timeout) */
  int skip_nfs;            /* d: rules on NFS/CIFS are not applicable */
  int builtins;            /* answer common commands natively (vm/builtin.h) */
  int64_t scan_budget;     /* seconds a cycle's scan may read files and run commands (0: none) */
  int64_t connect_timeout; /* seconds for TCP connect + TLS handshake */
  int64_t reconnect_min;   /* first reconnect delay, doubled after each failure ... */
  int64_t reconnect_max;   /* ... up to this cap */
  int64_t batch_checks;    /* check events per CheckDeltas message */
  int64_t max_frame;       /* largest frame sent or accepted (bytes) */
  int64_t send_window;     /* unacknowledged bytes in flight */
  char *log_file;          /* "" = stderr */
  int log_level;
  char *pid_file; /* locked while running (default: tenet-agent.pid beside state_db) */
} agent_config;

/* Load and check the configuration at path. Returns TN_OK or TN_EIO/TN_ECONFIG with every problem
 * in err (one per line, "FILE:LINE: ..."). Free with agent_config_free even on error. */
int agent_config_load(const char *path, agent_config *cfg, char *err, size_t errlen);
void agent_config_free(agent_config *cfg);
/* The options whose values differ between a and b (names into names[0..max), in table order);
 * returns how many. */
size_t agent_config_diff(const agent_config *a, const agent_config *b, const char **names, size_t max);
/* Print every option with its default and meaning. */
void agent_config_help(FILE *out);

#endif
