/* main.c — tenet-agent: wires the modules together and nothing else.
 *
 *   config (config.c) → log → pid file (locked) → trust store (trust.c), TLS files, state
 *   database, bundle directory: all checked while stderr is the operator's → background
 *   (daemon_proc.h) → event loop (evloop.h) with the connection (session.c) and the scan timer
 *   (scheduler.c, whose thread runs the scans) until SIGTERM/SIGINT.
 * SIGUSR1 asks for a scan now; SIGHUP reopens the log, re-reads the configuration (log_file,
 * log_level and scan_interval apply at once; other changes are reported as needing a restart) and
 * re-reads the bundles (a scan). */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "config.h"
#include "daemon_log.h"
#include "daemon_proc.h"
#include "err.h"
#include "evloop.h"
#include "failover.h"
#include "scheduler.h"
#include "session.h"
#include "store.h"
#include "tls.h"
#include "trust.h"

static void usage(FILE *out) {
  fprintf(out, "usage: tenet-agent -c FILE [-f] [-t]\n"
               "  -c FILE        configuration file (key = value lines)\n"
               "  -f             stay in the foreground (log to stderr unless log_file is set)\n"
               "  -t             check the configuration, the trust store, the TLS files and the\n"
               "                 directories the agent writes, then exit\n"
               "  --help-config  list every configuration option\n"
               "Signals: SIGTERM/SIGINT stop, SIGUSR1 scans now, SIGHUP re-reads the configuration and\n"
               "the bundles and reopens the log file.\n");
}

typedef struct wiring {
  const char *conf_path;
  agent_config *cfg;
  agent_scheduler *sched;
} wiring;

/* SIGHUP: reopen the log, apply what can change while running, rescan the bundles. */
static void reload(wiring *w) {
  char err[4096];
  agent_config n;
  agent_config *c = w->cfg;
  dlog_reopen();
  if (agent_config_load(w->conf_path, &n, err, sizeof err) != TN_OK) {
    log_error("SIGHUP: configuration not re-read, the running one stays: %s", err);
  } else {
    const char *names[64];
    size_t k = agent_config_diff(c, &n, names, 64), restart = 0;
    for (size_t i = 0; i < k && i < 64; i++)
      if (strcmp(names[i], "log_level") != 0 && strcmp(names[i], "log_file") != 0 &&
          strcmp(names[i], "scan_interval") != 0) {
        log_warn("SIGHUP: option '%s' changed: restart tenet-agent to apply it", names[i]);
        restart++;
      }
    /* A daemon in the background keeps a log file: "" cannot replace one. */
    if (n.log_file[0] || !c->log_file[0]) {
      char *t = c->log_file;
      c->log_file = n.log_file;
      n.log_file = t;
    }
    c->log_level = n.log_level;
    if (dlog_open(NULL, c->log_file, c->log_level, err, sizeof err) != TN_OK) log_error("SIGHUP: %s", err);
    if (c->scan_interval != n.scan_interval) {
      c->scan_interval = n.scan_interval;
      agent_scheduler_set_interval(w->sched, n.scan_interval);
    }
    log_info("SIGHUP: configuration %s re-read: %zu option%s changed, %zu need%s a restart", w->conf_path, k,
             k == 1 ? "" : "s", restart, restart == 1 ? "s" : "");
  }
  agent_config_free(&n);
  log_info("SIGHUP: re-reading the bundles");
  agent_scheduler_trigger(w->sched);
}

static void on_signal(evloop *l, int fd, void *arg, int mask) {
  wiring *w = arg;
  struct signalfd_siginfo si;
  while (read(fd, &si, sizeof si) == (ssize_t)sizeof si) {
    switch (si.ssi_signo) {
    case SIGUSR1:
      log_info("SIGUSR1: scanning now");
      agent_scheduler_trigger(w->sched);
      break;
    case SIGHUP: reload(w); break;
    default:
      log_info("Signal %d: stopping", (int)si.ssi_signo);
      evloop_stop(l);
      return;
    }
  }
}

static void on_installed(void *arg, const char *policy_id) {
  wiring *w = arg;
  agent_scheduler_trigger(w->sched);
}

/* What the agent will need, checked before it detaches. TN_OK or an error in err. */
static int check_files(const agent_config *cfg, tls_ctx **ctx, char *err, size_t errlen) {
  char why[TLS_ERR_LEN];
  if (!(*ctx = tls_ctx_new_client(cfg->cert, cfg->key, cfg->ca, why, sizeof why))) {
    snprintf(err, errlen, "TLS: %s", why);
    return TN_ETLS;
  }
  int rc;
  if ((rc = daemon_dir_check("state_db", cfg->state_db, err, errlen)) != TN_OK ||
      (rc = daemon_dir_check_dir("bundle_dir", cfg->bundle_dir, err, errlen)) != TN_OK ||
      (rc = daemon_dir_check("pid_file", cfg->pid_file, err, errlen)) != TN_OK ||
      (cfg->log_file[0] && (rc = daemon_dir_check("log_file", cfg->log_file, err, errlen)) != TN_OK))
    return rc;
  return TN_OK;
}

/* "manager H:P" or "managers H:P, H:P, ..." (truncated to cap) for the start line. */
static void managers_text(const agent_config *cfg, char *out, size_t cap) {
  size_t off = (size_t)snprintf(out, cap, "manager%s ", cfg->manager.n > 1 ? "s" : "");
  for (size_t i = 0; i < cfg->manager.n && off < cap; i++) {
    char addr[300];
    off += (size_t)snprintf(out + off, cap - off, "%s%s", i ? ", " : "",
                            agent_failover_addr_format(&cfg->manager.items[i], addr, sizeof addr));
  }
}

/* A loop big enough for any descriptor this process may hold. */
static int loop_size(void) {
  struct rlimit r;
  if (getrlimit(RLIMIT_NOFILE, &r) != 0 || r.rlim_cur == RLIM_INFINITY || r.rlim_cur > 65536) return 65536;
  return r.rlim_cur < 1024 ? 1024 : (int)r.rlim_cur;
}

int main(int argc, char **argv) {
  /* Nothing this daemon creates is for other users: state, alerts and logs are 0640 at most (the
   * stores restrict themselves to 0600, store.c). */
  umask(027);
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
  int rc = 1, sigfd = -1, wakefd = -1;
  agent_trust *trust = NULL;
  tls_ctx *ctx = NULL;
  daemon_pidfile *pidf = NULL;
  evloop *loop = NULL;
  agent_scheduler *sched = NULL;
  agent_session *session = NULL;
  int logging = 0, started = 0;
  if (!(trust = agent_trust_new((const char *const *)cfg.trusted_keys.items, cfg.trusted_keys.n, err,
                                sizeof err)) ||
      check_files(&cfg, &ctx, err, sizeof err) != TN_OK)
    goto fail;
  if (test_only) {
    printf("tenet-agent: configuration %s is valid (%zu trusted keys)\n", conf, cfg.trusted_keys.n);
    rc = 0;
    goto out;
  }
  if (!foreground && !cfg.log_file[0]) {
    snprintf(err, sizeof err, "log_file must be set to run in the background (or use -f)");
    goto fail;
  }
  if (dlog_open("tenet-agent", cfg.log_file, cfg.log_level, err, sizeof err) != TN_OK) goto fail;
  logging = 1;
  /* Everything that can fail is tried while the operator still reads stderr. */
  if (daemon_pidfile_open(cfg.pid_file, &pidf, err, sizeof err) != TN_OK) goto fail;
  agent_store *probe = agent_store_open(cfg.state_db, err, sizeof err);
  if (!probe) goto fail;
  agent_store_close(probe); /* an SQLite connection must not cross fork(): reopened below */
  if (!foreground && daemon_detach(err, sizeof err) != TN_OK) goto fail;
  if (daemon_pidfile_update(pidf, err, sizeof err) != TN_OK) goto fail;
  if ((sigfd = daemon_signalfd(err, sizeof err)) < 0) goto fail;
  if ((wakefd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) < 0 || !(loop = evloop_new(loop_size()))) {
    snprintf(err, sizeof err, "%s", strerror(errno));
    goto fail;
  }
  session = agent_session_new(&cfg, trust, ctx, err, sizeof err);
  ctx = NULL; /* the session's now */
  if (!session || !(sched = agent_scheduler_start(&cfg, trust, wakefd, loop, err, sizeof err))) goto fail;
  wiring w = {conf, &cfg, sched};
  agent_session_hooks hooks = {wakefd, on_installed, &w};
  if (evloop_watch(loop, sigfd, EV_READABLE, on_signal, &w) != 0) {
    snprintf(err, sizeof err, "cannot watch signals: %s", strerror(errno));
    goto fail;
  }
  if (agent_session_start(session, loop, &hooks, err, sizeof err) != TN_OK) goto fail;
  char managers[1024];
  managers_text(&cfg, managers, sizeof managers);
  log_info("Started (agent '%s', %s, bundles in %s, state in %s, scan every %llds)", cfg.agent_id, managers,
           cfg.bundle_dir, cfg.state_db, (long long)cfg.scan_interval);
  daemon_ready();
  started = 1;
  if (evloop_run(loop) != 0)
    log_error("The event loop failed: %s", strerror(errno));
  else
    rc = 0;
  goto out;
fail:
  if (logging && cfg.log_file[0]) log_error("%s", err);
  fprintf(stderr, "tenet-agent: %s\n", err);
out:
  agent_scheduler_stop(sched);
  agent_session_free(session);
  evloop_free(loop);
  tls_ctx_free(ctx);
  if (wakefd >= 0) close(wakefd);
  if (sigfd >= 0) close(sigfd);
  daemon_pidfile_close(pidf);
  agent_trust_free(trust);
  if (started) log_info("Stopped");
  agent_config_free(&cfg);
  return rc;
}
