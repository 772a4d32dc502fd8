/* config.h — tenet-manager's options: one table (config.c), one struct. */
#ifndef TENET_MANAGER_CONFIG_H
#define TENET_MANAGER_CONFIG_H

#include <stdint.h>
#include <stdio.h>

#include "daemon_conf.h"

typedef struct manager_config {
  conf_addr listen;       /* where agents connect (port 0: ephemeral, see port_file) */
  char *cert, *key, *ca;  /* the manager's certificate + key, and the CA of the agents' */
  char *crl;              /* revoked certificates, PEM CRL ("" = none) */
  char *store;            /* mstore_open's string: sqlite:PATH or postgresql://... (config.c settles it) */
  char *state_db;         /* the SQLite store's path ("" with PostgreSQL) */
  char *node_name;        /* this manager in a shared store (default: the host name) */
  int durable;            /* every commit reaches the disk (synchronous=FULL) */
  char *alerts_file;      /* JSON lines */
  char *bundle_dir;       /* bundles to distribute ("" = none) */
  conf_list trusted_keys; /* distribute only bundles signed by these keys (empty: any signed bundle) */
  int64_t bundle_poll_interval; /* seconds between looks at bundle_dir */
  int64_t max_frame;            /* largest frame accepted or sent */
  int64_t max_connections;
  int64_t max_preauth_connections; /* connections before Hello (oldest evicted when full) */
  int64_t max_preauth_per_address; /* of those, from one IP address */
  int64_t max_policies;            /* policies per agent in Hello / PolicyList */
  int64_t handshake_timeout;       /* seconds to finish TLS and send Hello */
  int64_t frame_timeout;           /* seconds to finish a frame once started */
  int64_t idle_timeout;            /* seconds without a frame before closing (0: never) */
  int64_t tcp_keepalive;           /* keepalive idle seconds (0: off) */
  int64_t frames_per_turn;         /* frames read from one connection per loop iteration (fairness) */
  int64_t max_dump_retries;        /* re-requests after a dump that did not converge */
  char *log_file;
  int log_level;
  char *pid_file;  /* locked while running (default: tenet-manager.pid beside state_db or alerts_file) */
  char *port_file; /* the bound port is written here ("" = none) */
  int64_t alert_takeover;           /* seconds before a dead node's claimed alerts are released (0: never) */
  int64_t test_drop_check;          /* TEST ONLY: drop this check id once in transit (-1: off) */
  int test_crash_after_alert_write; /* TEST ONLY: _exit after a drain's write, before its finish */
} manager_config;

/* Load and check the configuration. Returns TN_OK or TN_EIO/TN_ECONFIG with every problem in err.
 * Free with manager_config_free even on error. */
int manager_config_load(const char *path, manager_config *cfg, char *err, size_t errlen);
void manager_config_free(manager_config *cfg);
/* The options whose values differ between a and b (names into names[0..max), in table order);
 * returns how many. */
size_t manager_config_diff(const manager_config *a, const manager_config *b, const char **names, size_t max);
void manager_config_help(FILE *out);

#endif
