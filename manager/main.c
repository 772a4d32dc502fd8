/* main.c — tenet-manager: wires the modules together and nothing else.
 *
 *   config (config.c) → `query` (query.c), or: log → background → store (store.c) → alerts
 *   (alerts.c) → integrity (integrity.c) → distribution (distribute.c) → server (server.c, the
 *   epoll loop) until SIGTERM/SIGINT. SIGHUP reopens the log and alerts files. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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
               "  -t             check the configuration and the TLS files, then exit\n"
               "  --help-config  list every configuration option\n"
               "Signals: SIGTERM/SIGINT stop, SIGHUP reopens the log and alerts files.\n");
}

static int on_signal(void *arg, int signo) {
  alerts *al = arg;
  if (signo == SIGHUP) {
    dlog_reopen();
    alerts_reopen(al);
    log_info("SIGHUP: log and alerts files reopened");
    return 0;
  }
  if (signo == SIGUSR1) return 0;
  log_info("Signal %d: stopping", signo);
  return 1;
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

int main(int argc, char **argv) {
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
  if (test_only) {
    tls_ctx *ctx = tls_ctx_new_server(cfg.cert, cfg.key, cfg.ca, err, sizeof err);
    if (!ctx) {
      fprintf(stderr, "tenet-manager: TLS: %s\n", err);
      manager_config_free(&cfg);
      return 1;
    }
    tls_ctx_free(ctx);
    printf("tenet-manager: configuration %s is valid\n", conf);
    manager_config_free(&cfg);
    return 0;
  }
  if (!foreground && !cfg.log_file[0]) {
    fprintf(stderr, "tenet-manager: log_file must be set to run in the background (or use -f)\n");
    manager_config_free(&cfg);
    return 1;
  }
  if (dlog_open("tenet-manager", cfg.log_file, cfg.log_level, err, sizeof err) != TN_OK) {
    fprintf(stderr, "tenet-manager: %s\n", err);
    manager_config_free(&cfg);
    return 1;
  }
  if (!foreground && daemon_detach(err, sizeof err) != TN_OK) {
    log_error("%s", err);
    manager_config_free(&cfg);
    return 1;
  }
  int rc = 1, sigfd = -1;
  mstore *store = NULL;
  alerts *al = NULL;
  integrity *ig = NULL;
  distrib *dist = NULL;
  server *srv = NULL;
  if (daemon_pidfile_write(cfg.pid_file, err, sizeof err) != TN_OK ||
      (sigfd = daemon_signalfd(err, sizeof err)) < 0 ||
      !(store = mstore_open(cfg.state_db, 0, cfg.durable, err, sizeof err)) ||
      !(al = alerts_open(cfg.alerts_file, err, sizeof err))) {
    log_error("%s", err);
    goto out;
  }
  integrity_options io = {cfg.test_drop_check, (int)cfg.max_dump_retries};
  if (!(ig = integrity_new(store, al, &io))) {
    log_error("out of memory");
    goto out;
  }
  if (cfg.bundle_dir[0] && !(dist = distrib_new(cfg.bundle_dir, (const char *const *)cfg.trusted_keys.items,
                                                cfg.trusted_keys.n, err, sizeof err))) {
    log_error("%s", err);
    goto out;
  }
  if (cfg.test_drop_check >= 0)
    log_warn("TEST MODE: check %lld will be dropped once in transit (test_drop_check)",
             (long long)cfg.test_drop_check);
  if (!(srv = server_new(&cfg, store, al, ig, dist, err, sizeof err))) {
    log_error("%s", err);
    goto out;
  }
  if (write_port(cfg.port_file, server_port(srv), err, sizeof err) != TN_OK) {
    log_error("%s", err);
    goto out;
  }
  log_info("Listening on %s:%d (store %s, alerts %s%s%s)", cfg.listen.host ? cfg.listen.host : "*",
           server_port(srv), cfg.state_db, cfg.alerts_file, dist ? ", distributing " : "",
           dist ? cfg.bundle_dir : "");
  rc = server_run(srv, sigfd, on_signal, al) == TN_OK ? 0 : 1;
out:
  server_free(srv);
  distrib_free(dist);
  integrity_free(ig);
  alerts_close(al);
  mstore_close(store);
  if (sigfd >= 0) close(sigfd);
  daemon_pidfile_remove(cfg.pid_file);
  log_info("Stopped");
  manager_config_free(&cfg);
  return rc;
}
