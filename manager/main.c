/* main.c — tenet-manager: wires the modules together and nothing else.
 *
 *   config (config.c) → `query` (query.c), or: log → pid file (locked) → TLS files + listening
 *   socket (server.c), store (store.c), alerts file (alerts.c): all opened while stderr is the
 *   operator's → background (daemon_proc.h) → integrity (integrity.c) → distribution
 *   (distribute.c) → server (server.c, the event loop) until SIGTERM/SIGINT. SIGHUP reopens the
 *   log and alerts files, re-reads the configuration (log_file and log_level apply at once; other
 *   changes are reported as needing a restart), re-reads the CRL and the bundle directory. At start
 *   the soft descriptor limit is raised to the hard one (server.c keeps max_connections below it). */
#include <signal.h>
#include <stdio.h>
#include <sys/resource.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "alerts.h"
#include "config.h"
#include "daemon_log.h"
#include "daemon_proc.h"
#include "distribute.h"
#include "err.h"
#include "integrity.h"
#include "query.h"
#include "server.h"
#include "store.h"
#include "tls.h"

static void usage(FILE *out) {
  fprintf(out, "usage: tenet-manager -c FILE [-f] [-t]\n"
               "       tenet-manager -c FILE query agents|checks|stats|hash ...   (query --help)\n"
               "  -c FILE        configuration file (key = value lines)\n"
               "  -f             stay in the foreground (log to stderr unless log_file is set)\n"
               "  -t             check the configuration, the TLS files, the directories the manager\n"
               "                 writes and (PostgreSQL) the store's connection and schema, then exit\n"
               "  --help-config  list every configuration option\n"
               "Signals: SIGTERM/SIGINT stop, SIGHUP re-reads the configuration and the bundle directory\n"
               "and reopens the log and alerts files.\n");
}

typedef struct wiring {
  const char *conf_path;
  manager_config *cfg;
  alerts *al;
  server *srv;
} wiring;

/* SIGHUP: reopen the files, apply what can change while running, re-read the bundles. */
static void reload(wiring *w) {
  char err[4096];
  manager_config n;
  manager_config *c = w->cfg;
  dlog_reopen();
  alerts_reopen(w->al);
  log_info("SIGHUP: log and alerts files reopened");
  if (manager_config_load(w->conf_path, &n, err, sizeof err) != TN_OK) {
    log_error("SIGHUP: configuration not re-read, the running one stays: %s", err);
  } else {
    const char *names[64];
    size_t k = manager_config_diff(c, &n, names, 64), restart = 0;
    for (size_t i = 0; i < k && i < 64; i++)
      if (strcmp(names[i], "log_level") != 0 && strcmp(names[i], "log_file") != 0) {
        log_warn("SIGHUP: option '%s' changed: restart tenet-manager to apply it", names[i]);
        restart++;
      }
    if (n.log_file[0] || !c->log_file[0]) { /* "" cannot replace a background daemon's log file */
      char *t = c->log_file;
      c->log_file = n.log_file;
      n.log_file = t;
    }
    c->log_level = n.log_level;
    if (dlog_open(NULL, c->log_file, c->log_level, err, sizeof err) != TN_OK) log_error("SIGHUP: %s", err);
    log_info("SIGHUP: configuration %s re-read: %zu option%s changed, %zu need%s a restart", w->conf_path, k,
             k == 1 ? "" : "s", restart, restart == 1 ? "s" : "");
  }
  manager_config_free(&n);
  if (c->crl[0]) server_reload_crl(w->srv, 1);
  if (c->bundle_dir[0]) {
    log_info("SIGHUP: re-reading the bundle directory");
    server_refresh_bundles(w->srv);
  }
}

static int on_signal(void *arg, int signo) {
  if (signo == SIGHUP) {
    reload(arg);
    return 0;
  }
  if (signo == SIGUSR1) return 0;
  log_info("Signal %d: stopping", signo);
  return 1;
}

/* Raise the soft RLIMIT_NOFILE to the hard limit: every agent connection is a descriptor. */
static void raise_nofile(void) {
  struct rlimit r;
  if (getrlimit(RLIMIT_NOFILE, &r) != 0 || r.rlim_cur >= r.rlim_max) return;
  rlim_t want = r.rlim_max;
  r.rlim_cur = want;
  if (setrlimit(RLIMIT_NOFILE, &r) != 0)
    log_warn("Cannot raise the descriptor limit to %llu", (unsigned long long)want);
}

static int write_port(const char *path, int port, char *err, size_t errlen) {
  if (!path || !*path) return TN_OK;
  char tmp[4096];
  snprintf(tmp, sizeof tmp, "%s.tmp", path);
  FILE *f = fopen(tmp, "w");
  if (!f || fprintf(f, "%d\n", port) < 0 || fclose(f) != 0 || rename(tmp, path) != 0) {
    snprintf(err, errlen, "cannot write port file %s", path);
    return TN_EIO;
  }
  return TN_OK;
}

/* The directories the manager writes exist and are writable. */
static int check_dirs(const manager_config *cfg, char *err, size_t errlen) {
  int rc = TN_OK;
  if ((cfg->state_db[0] && (rc = daemon_dir_check("state_db", cfg->state_db, err, errlen)) != TN_OK) ||
      (rc = daemon_dir_check("alerts_file", cfg->alerts_file, err, errlen)) != TN_OK ||
      (rc = daemon_dir_check("pid_file", cfg->pid_file, err, errlen)) != TN_OK ||
      (cfg->log_file[0] && (rc = daemon_dir_check("log_file", cfg->log_file, err, errlen)) != TN_OK) ||
      (cfg->port_file[0] && (rc = daemon_dir_check("port_file", cfg->port_file, err, errlen)) != TN_OK))
    return rc;
  return TN_OK;
}

/* The store of cfg, named after this node. NULL with a message in err. */
static mstore *open_store(const manager_config *cfg, char *err, size_t errlen) {
  mstore *s = mstore_open(cfg->store, 0, cfg->durable, err, errlen);
  if (s && mstore_set_node(s, cfg->node_name) != TN_OK) {
    snprintf(err, errlen, "node_name: %s", mstore_error(s));
    mstore_close(s);
    return NULL;
  }
  return s;
}

int main(int argc, char **argv) {
  /* Nothing this daemon creates is for other users: state, alerts and logs are 0640 at most (the
   * stores restrict themselves to 0600, store.c). */
  umask(027);
  const char *conf = NULL;
  int foreground = 0, test_only = 0, qi = 0;
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "-c") == 0 && i + 1 < argc)
      conf = argv[++i];
    else if (strcmp(argv[i], "-f") == 0)
      foreground = 1;
    else if (strcmp(argv[i], "-t") == 0)
      test_only = 1;
    else if (strcmp(argv[i], "query") == 0) {
      qi = i + 1;
      break;
    } else if (strcmp(argv[i], "--help-config") == 0) {
      manager_config_help(stdout);
      return 0;
    } else if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
      usage(stdout);
      return 0;
    } else {
      fprintf(stderr, "tenet-manager: unknown argument '%s'\n", argv[i]);
      usage(stderr);
      return 2;
    }
  }
  if (!conf) {
    usage(stderr);
    return 2;
  }
  char err[4096];
  manager_config cfg;
  if (manager_config_load(conf, &cfg, err, sizeof err) != TN_OK) {
    fprintf(stderr, "tenet-manager: %s\n", err);
    manager_config_free(&cfg);
    return 1;
  }
  if (qi) {
    int rc = manager_query(&cfg, argc - qi, argv + qi, stdout, stderr);
    manager_config_free(&cfg);
    return rc;
  }
  int rc = 1, sigfd = -1, logging = 0, started = 0;
  daemon_pidfile *pidf = NULL;
  mstore *store = NULL;
  alerts *al = NULL;
  integrity *ig = NULL;
  distrib *dist = NULL;
  server *srv = NULL;
  if (test_only) {
    char why[TLS_ERR_LEN];
    tls_ctx *ctx = tls_ctx_new_server(cfg.cert, cfg.key, cfg.ca, why, sizeof why);
    if (!ctx || (cfg.crl[0] && tls_ctx_load_crl(ctx, cfg.crl, NULL, why, sizeof why) != TN_OK)) {
      tls_ctx_free(ctx);
      snprintf(err, sizeof err, "TLS: %s", why);
      goto fail;
    }
    tls_ctx_free(ctx);
    if (check_dirs(&cfg, err, sizeof err) != TN_OK || mstore_probe(cfg.store, err, sizeof err) != TN_OK)
      goto fail;
    printf("tenet-manager: configuration %s is valid\n", conf);
    rc = 0;
    goto out;
  }
  if (!foreground && !cfg.log_file[0]) {
    snprintf(err, sizeof err, "log_file must be set to run in the background (or use -f)");
    goto fail;
  }
  if (check_dirs(&cfg, err, sizeof err) != TN_OK ||
      dlog_open("tenet-manager", cfg.log_file, cfg.log_level, err, sizeof err) != TN_OK)
    goto fail;
  logging = 1;
  raise_nofile();
  /* Everything that can fail is tried while the operator still reads stderr: the pid file, the
   * certificates and keys, the port, the store and the alerts file. */
  if (daemon_pidfile_open(cfg.pid_file, &pidf, err, sizeof err) != TN_OK ||
      !(srv = server_new(&cfg, err, sizeof err)) || !(store = open_store(&cfg, err, sizeof err)))
    goto fail;
  mstore_close(store); /* a database connection must not cross fork(): reopened below */
  store = NULL;
  if (!(al = alerts_open(cfg.alerts_file, err, sizeof err))) goto fail;
  if (!foreground && daemon_detach(err, sizeof err) != TN_OK) goto fail;
  if (daemon_pidfile_update(pidf, err, sizeof err) != TN_OK ||
      (sigfd = daemon_signalfd(err, sizeof err)) < 0 || !(store = open_store(&cfg, err, sizeof err)))
    goto fail;
  /* Alerts go through the store's outbox: what a stopped manager could not write goes out now. */
  if (cfg.alerts_file[0] && alerts_attach(al, store, ALERTS_MAX_PENDING) != TN_OK) {
    snprintf(err, sizeof err, "%s", mstore_error(store));
    goto fail;
  }
  alerts_set_takeover(al, cfg.alert_takeover * 1000);
  if (cfg.test_crash_after_alert_write) {
    log_warn("TEST MODE: the manager exits right after writing a batch of alerts "
             "(test_crash_after_alert_write)");
    alerts_set_test_crash(al, 1);
  }
  if (alerts_pending(al) > 0) {
    int64_t n = alerts_pending(al);
    if (alerts_flush(al) == TN_OK)
      log_info("Wrote %lld alerts queued before the restart to %s", (long long)n, cfg.alerts_file);
  }
  integrity_options io = {cfg.test_drop_check, (int)cfg.max_dump_retries};
  if (!(ig = integrity_new(store, al, &io))) {
    snprintf(err, sizeof err, "out of memory");
    goto fail;
  }
  if (cfg.bundle_dir[0] && !(dist = distrib_new(cfg.bundle_dir, (const char *const *)cfg.trusted_keys.items,
                                                cfg.trusted_keys.n, err, sizeof err)))
    goto fail;
  if (cfg.test_drop_check >= 0)
    log_warn("TEST MODE: check %lld will be dropped once in transit (test_drop_check)",
             (long long)cfg.test_drop_check);
  if (server_start(srv, store, al, ig, dist, err, sizeof err) != TN_OK ||
      write_port(cfg.port_file, server_port(srv), err, sizeof err) != TN_OK)
    goto fail;
  if (mstore_shared(store))
    log_info("Listening on %s:%d (store %s as node '%s', alerts %s%s%s)",
             cfg.listen.host ? cfg.listen.host : "*", server_port(srv), mstore_backend_name(store),
             cfg.node_name, cfg.alerts_file, dist ? ", distributing " : "", dist ? cfg.bundle_dir : "");
  else
    log_info("Listening on %s:%d (store %s, alerts %s%s%s)", cfg.listen.host ? cfg.listen.host : "*",
             server_port(srv), cfg.state_db, cfg.alerts_file, dist ? ", distributing " : "",
             dist ? cfg.bundle_dir : "");
  daemon_ready();
  started = 1;
  wiring w = {conf, &cfg, al, srv};
  rc = server_run(srv, sigfd, on_signal, &w) == TN_OK ? 0 : 1;
  goto out;
fail:
  if (logging && cfg.log_file[0]) log_error("%s", err);
  fprintf(stderr, "tenet-manager: %s\n", err);
out:
  server_free(srv);
  distrib_free(dist);
  integrity_free(ig);
  alerts_close(al);
  mstore_close(store);
  if (sigfd >= 0) close(sigfd);
  daemon_pidfile_close(pidf);
  if (started) {
    dlog_flush_repeats();
    log_info("Stopped");
  }
  manager_config_free(&cfg);
  return rc;
}
