/* main.c — tenet-agent: wires the modules together and nothing else.
 *
 *   config (config.c) → log → background → trust store (trust.c) → scan thread (scheduler.c)
 *   → connection loop (session.c) until SIGTERM/SIGINT.
 * SIGUSR1 asks for a scan now; SIGHUP reopens the log file. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "config.h"
#include "daemon_log.h"
#include "daemon_proc.h"
#include "err.h"
#include "scheduler.h"
#include "session.h"
#include "tls.h"
#include "trust.h"

static void usage(FILE *out) {
  fprintf(out, "usage: tenet-agent -c FILE [-f] [-t]\n"
               "  -c FILE        configuration file (key = value lines)\n"
               "  -f             stay in the foreground (log to stderr unless log_file is set)\n"
               "  -t             check the configuration, the trust store and the TLS files, then exit\n"
               "  --help-config  list every configuration option\n"
               "Signals: SIGTERM/SIGINT stop, SIGUSR1 scans now, SIGHUP reopens the log file.\n");
}

typedef struct wiring {
  agent_scheduler *sched;
} wiring;

static int on_signal(void *arg, int signo) {
  wiring *w = arg;
  switch (signo) {
  case SIGUSR1:
    log_info("SIGUSR1: scanning now");
    agent_scheduler_trigger(w->sched);
    return 0;
  case SIGHUP:
    dlog_reopen();
    log_info("SIGHUP: log file reopened");
    return 0;
  default: log_info("Signal %d: stopping", signo); return 1;
  }
}

static void on_installed(void *arg, const char *policy_id) {
  wiring *w = arg;
  agent_scheduler_trigger(w->sched);
}

int main(int argc, char **argv) {
  const char *conf = NULL;
  int foreground = 0, test_only = 0;
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "-c") == 0 && i + 1 < argc)
      conf = argv[++i];
    else if (strcmp(argv[i], "-f") == 0)
      foreground = 1;
    else if (strcmp(argv[i], "-t") == 0)
      test_only = 1;
    else if (strcmp(argv[i], "--help-config") == 0) {
      agent_config_help(stdout);
      return 0;
    } else if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
      usage(stdout);
      return 0;
    } else {
      fprintf(stderr, "tenet-agent: unknown argument '%s'\n", argv[i]);
      usage(stderr);
      return 2;
    }
  }
  if (!conf) {
    usage(stderr);
    return 2;
  }
  char err[4096];
  agent_config cfg;
  if (agent_config_load(conf, &cfg, err, sizeof err) != TN_OK) {
    fprintf(stderr, "tenet-agent: %s\n", err);
    agent_config_free(&cfg);
    return 1;
  }
  agent_trust *trust =
      agent_trust_new((const char *const *)cfg.trusted_keys.items, cfg.trusted_keys.n, err, sizeof err);
  if (!trust) {
    fprintf(stderr, "tenet-agent: %s\n", err);
    agent_config_free(&cfg);
    return 1;
  }
  if (test_only) {
    tls_ctx *ctx = tls_ctx_new_client(cfg.cert, cfg.key, cfg.ca, err, sizeof err);
    if (!ctx) {
      fprintf(stderr, "tenet-agent: TLS: %s\n", err);
      agent_trust_free(trust);
      agent_config_free(&cfg);
      return 1;
    }
    tls_ctx_free(ctx);
    printf("tenet-agent: configuration %s is valid (%zu trusted keys)\n", conf, cfg.trusted_keys.n);
    agent_trust_free(trust);
    agent_config_free(&cfg);
    return 0;
  }
  if (!foreground && !cfg.log_file[0]) {
    fprintf(stderr, "tenet-agent: log_file must be set to run in the background (or use -f)\n");
    return 1;
  }
  if (dlog_open("tenet-agent", cfg.log_file, cfg.log_level, err, sizeof err) != TN_OK) {
    fprintf(stderr, "tenet-agent: %s\n", err);
    return 1;
  }
  if (!foreground && daemon_detach(err, sizeof err) != TN_OK) {
    log_error("%s", err);
    return 1;
  }
  int rc = 1, sigfd = -1, wakefd = -1;
  agent_scheduler *sched = NULL;
  agent_session *session = NULL;
  if (daemon_pidfile_write(cfg.pid_file, err, sizeof err) != TN_OK) {
    log_error("%s", err);
    goto out;
  }
  if ((sigfd = daemon_signalfd(err, sizeof err)) < 0 ||
      (wakefd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) < 0) {
    log_error("%s", sigfd < 0 ? err : strerror(errno));
    goto out;
  }
  if (!(session = agent_session_new(&cfg, trust, err, sizeof err))) {
    log_error("%s", err);
    goto out;
  }
  log_info("Started (agent '%s', manager %s:%d, bundles in %s, state in %s, scan every %llds)", cfg.agent_id,
           cfg.manager.host, cfg.manager.port, cfg.bundle_dir, cfg.state_db, (long long)cfg.scan_interval);
  if (!(sched = agent_scheduler_start(&cfg, trust, wakefd, err, sizeof err))) {
    log_error("%s", err);
    goto out;
  }
  wiring w = {sched};
  agent_session_hooks hooks = {wakefd, sigfd, on_signal, on_installed, &w};
  agent_session_run(session, &hooks);
  rc = 0;
out:
  agent_scheduler_stop(sched);
  agent_session_free(session);
  if (wakefd >= 0) close(wakefd);
  if (sigfd >= 0) close(sigfd);
  daemon_pidfile_remove(cfg.pid_file);
  agent_trust_free(trust);
  log_info("Stopped");
  agent_config_free(&cfg);
  return rc;
}
