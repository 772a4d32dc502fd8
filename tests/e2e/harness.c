/* harness.c — processes, files and waits for the end-to-end scenarios (see harness.h). */
#include "harness.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "agent/store.h"
#include "err.h"
#include "pg_test.h"
#include "tmpdir.h"

static void die(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fprintf(stderr, "e2e harness: ");
  vfprintf(stderr, fmt, ap);
  fprintf(stderr, "\n");
  va_end(ap);
  exit(2);
}

static const char *env_or_die(const char *name) {
  const char *v = getenv(name);
  if (!v || !*v) die("%s is not set (run through ctest)", name);
  return v;
}

int e2e_run(const char *const argv[], char *out, size_t cap) {
  int pipefd[2];
  if (pipe(pipefd) != 0) return -1;
  pid_t pid = fork();
  if (pid < 0) return -1;
  if (pid == 0) {
    dup2(pipefd[1], 1);
    dup2(pipefd[1], 2);
    close(pipefd[0]);
    close(pipefd[1]);
    execv(argv[0], (char *const *)argv);
    _exit(127);
  }
  close(pipefd[1]);
  size_t n = 0;
  char buf[4096];
  ssize_t r;
  while ((r = read(pipefd[0], buf, sizeof buf)) > 0 || (r < 0 && errno == EINTR)) {
    if (r <= 0) continue;
    if (out && cap > 1) {
      size_t k = (size_t)r < cap - 1 - n ? (size_t)r : cap - 1 - n;
      memcpy(out + n, buf, k);
      n += k;
    }
  }
  close(pipefd[0]);
  if (out && cap) out[n] = '\0';
  int st;
  while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {
  }
  return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void run_or_die(const char *const argv[]) {
  char out[8192];
  int rc = e2e_run(argv, out, sizeof out);
  if (rc != 0) die("%s %s failed (%d):\n%s", argv[0], argv[1] ? argv[1] : "", rc, out);
}

/* A database for the scenario in the test cluster (exits 77 when there is none). */
static void pg_database(e2e_env *e, const char *tag) {
  char name[48];
  size_t k = 0;
  for (const char *p = tag; *p && k < sizeof name - 1; p++) /* a database name: [a-z0-9_] */
    name[k++] = (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ? *p : '_';
  name[k] = '\0';
  int rc = pg_test_database(name, e->store, sizeof e->store);
  if (rc == 77) exit(77);
  if (rc != 0) die("cannot create the scenario's PostgreSQL database");
}

static void setup(e2e_env *e, const char *tag, int pg) {
  memset(e, 0, sizeof *e);
  signal(SIGPIPE, SIG_IGN);
  if (pg) pg_database(e, tag);
  e->tenet = env_or_die("TENET_BIN");
  e->agent_bin = env_or_die("TENET_AGENT_BIN");
  e->manager_bin = env_or_die("TENET_MANAGER_BIN");
  tmp_make(tag, e->dir, sizeof e->dir);
  snprintf(e->pki, sizeof e->pki, "%s/pki", e->dir);
  snprintf(e->keys, sizeof e->keys, "%s/keys", e->dir);
  mkdir(e->keys, 0700);
  const char *init[] = {e->tenet, "pki", "init", e->pki, NULL};
  run_or_die(init);
  const char *mgr[] = {e->tenet, "pki", "issue-manager", e->pki, "localhost", NULL};
  run_or_die(mgr);
  char k1[PATH_MAX + 32], k2[PATH_MAX + 32];
  snprintf(k1, sizeof k1, "%s/release", e->keys);
  snprintf(k2, sizeof k2, "%s/rogue", e->keys);
  const char *g1[] = {e->tenet, "keygen", k1, NULL}, *g2[] = {e->tenet, "keygen", k2, NULL};
  run_or_die(g1);
  run_or_die(g2);
}

void e2e_setup(e2e_env *e, const char *tag) {
  const char *store = getenv("TENET_E2E_STORE");
  if (store && *store && strcmp(store, "pg") != 0 && strcmp(store, "sqlite") != 0)
    die("TENET_E2E_STORE is '%s': expected pg or sqlite", store);
  setup(e, tag, store && strcmp(store, "pg") == 0);
}

void e2e_setup_pg(e2e_env *e, const char *tag) { setup(e, tag, 1); }

void e2e_teardown(e2e_env *e, int failed) {
  if (failed) {
    fprintf(stderr, "scenario failed: its files are kept in %s\n", e->dir);
    return;
  }
  tmp_remove(e->dir);
}

void e2e_issue_agent(e2e_env *e, const char *id) {
  char crt[PATH_MAX + 128];
  snprintf(crt, sizeof crt, "%s/agents/%s.crt", e->pki, id);
  if (access(crt, R_OK) == 0) return;
  const char *argv[] = {e->tenet, "pki", "issue-agent", e->pki, id, NULL};
  run_or_die(argv);
}

void e2e_policy_write(const char *path, const char *policy_id, const char *fx, const int *ids, size_t n,
                      const char *title_suffix) {
  FILE *f = fopen(path, "w");
  if (!f) die("cannot write %s: %s", path, strerror(errno));
  fprintf(f,
          "policy:\n"
          "  id: \"%s\"\n"
          "  file: \"%s.yml\"\n"
          "  name: \"Seed policy %s\"\n"
          "  description: \"The table of the seed document: one check per fixture file.\"\n"
          "  references:\n"
          "    - https://example.org/tenet/seed\n"
          "variables:\n"
          "  $fx: %s\n"
          "checks:\n",
          policy_id, policy_id, policy_id, fx);
  for (size_t i = 0; i < n; i++)
    fprintf(f,
            "  - id: %d\n"
            "    title: \"Flag %d is ok%s\"\n"
            "    description: \"The fixture file flag%d says ok.\"\n"
            "    rationale: \"Tests control the result through the file.\"\n"
            "    remediation: \"echo ok > flag%d\"\n"
            "    compliance:\n"
            "      - cis: [\"1.%d\"]\n"
            "    condition: all\n"
            "    rules:\n"
            "      - 'f:$fx/flag%d -> r:^ok'\n",
            ids[i], ids[i], title_suffix ? title_suffix : "", ids[i], ids[i], ids[i] - 999, ids[i]);
  fclose(f);
}

void e2e_compile(e2e_env *e, const char *yml, const char *out, const char *key, unsigned version) {
  char k[PATH_MAX + 64], v[16];
  snprintf(k, sizeof k, "%s/%s.key", e->keys, key);
  snprintf(v, sizeof v, "%u", version);
  const char *argv[] = {e->tenet, "compile", "--key", k, "--policy-version", v, "-o", out, yml, NULL};
  run_or_die(argv);
}

/* ---- processes ---- */

static pid_t spawn(const char *bin, const char *conf, const char *outlog) {
  pid_t pid = fork();
  if (pid < 0) die("fork: %s", strerror(errno));
  if (pid == 0) {
    int fd = open(outlog, O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (fd >= 0) {
      dup2(fd, 1);
      dup2(fd, 2);
      close(fd);
    }
    execl(bin, bin, "-c", conf, "-f", (char *)NULL);
    _exit(127);
  }
  return pid;
}

static int bad_exits;
static char stderr_logs[32][PATH_MAX + 64];
static int nstderr_logs;

static void remember_log(const char *path) {
  for (int i = 0; i < nstderr_logs; i++)
    if (strcmp(stderr_logs[i], path) == 0) return;
  if (nstderr_logs < 32) snprintf(stderr_logs[nstderr_logs++], sizeof stderr_logs[0], "%s", path);
}

/* Stop a daemon; one asked to stop (SIGTERM) must exit with status 0. */
static void stop(pid_t *pid, int sig, const char *what) {
  if (*pid <= 0) return;
  kill(*pid, sig);
  for (int i = 0; i < 600; i++) { /* 30 s */
    int st;
    pid_t r = waitpid(*pid, &st, WNOHANG);
    if (r == *pid) {
      if (sig == SIGTERM && !(WIFEXITED(st) && WEXITSTATUS(st) == 0)) {
        fprintf(stderr, "%s did not exit cleanly on SIGTERM (status 0x%x)\n", what, st);
        bad_exits++;
      }
      *pid = 0;
      return;
    }
    if (r < 0 && errno == ECHILD) {
      *pid = 0;
      return;
    }
    usleep(50000);
  }
  fprintf(stderr, "%s did not stop within 30 s: killed\n", what);
  bad_exits++;
  kill(*pid, SIGKILL);
  waitpid(*pid, NULL, 0);
  *pid = 0;
}

int e2e_daemons_ok(void) {
  int ok = bad_exits == 0;
  for (int i = 0; i < nstderr_logs; i++) {
    static const char *const marks[] = {"AddressSanitizer", "LeakSanitizer", "runtime error:"};
    for (size_t k = 0; k < sizeof marks / sizeof *marks; k++)
      if (tmp_count(stderr_logs[i], marks[k])) {
        char *log = tmp_read(stderr_logs[i]);
        fprintf(stderr, "sanitizer report in %s:\n%s\n", stderr_logs[i], log ? log : "");
        free(log);
        ok = 0;
        break;
      }
  }
  return ok;
}

static int alive(pid_t pid) {
  if (pid <= 0) return 0;
  int st;
  return waitpid(pid, &st, WNOHANG) == 0;
}

void e2e_manager_init(e2e_manager *m, e2e_env *e, const char *name, const char *extra_conf) {
  memset(m, 0, sizeof *m);
  m->env = e;
  snprintf(m->name, sizeof m->name, "%s", name);
  snprintf(m->dir, sizeof m->dir, "%s/%s", e->dir, name);
  mkdir(m->dir, 0700);
  snprintf(m->conf, sizeof m->conf, "%s/manager.conf", m->dir);
  if (e->store[0])
    snprintf(m->db, sizeof m->db, "%s", e->store);
  else
    snprintf(m->db, sizeof m->db, "%s/manager.db", m->dir);
  snprintf(m->alerts, sizeof m->alerts, "%s/alerts.json", m->dir);
  snprintf(m->log, sizeof m->log, "%s/manager.log", m->dir);
  snprintf(m->bundles, sizeof m->bundles, "%s/bundles", m->dir);
  snprintf(m->portfile, sizeof m->portfile, "%s/port", m->dir);
  mkdir(m->bundles, 0700);
  snprintf(m->extra, sizeof m->extra, "%s", extra_conf ? extra_conf : "");
}

int e2e_manager_start(e2e_manager *m) {
  e2e_env *e = m->env;
  unlink(m->portfile);
  char store[sizeof m->db + sizeof m->name + sizeof m->dir + 96];
  if (e->store[0]) /* the pid file cannot default to the state file's directory: there is none */
    snprintf(store, sizeof store, "store = %s\nnode_name = %s\npid_file = %s/tenet-manager.pid\n", m->db,
             m->name, m->dir);
  else
    snprintf(store, sizeof store, "state_db = %s\n", m->db);
  tmp_write(m->conf,
            "# written by the e2e harness\n"
            "listen = 127.0.0.1:%d\n"
            "cert = %s/manager.crt\nkey = %s/manager.key\nca = %s/ca.crt\n"
            "%salerts_file = %s\nlog_file = %s\nlog_level = debug\n"
            "bundle_dir = %s\n%sport_file = %s\ndurable = no\n%s",
            m->port, e->pki, e->pki, e->pki, store, m->alerts, m->log, m->bundles,
            strstr(m->extra, "bundle_poll_interval") ? "" : "bundle_poll_interval = 1s\n", m->portfile,
            m->extra);
  char out[PATH_MAX + 64];
  snprintf(out, sizeof out, "%s/stderr.log", m->dir);
  remember_log(out);
  m->pid = spawn(e->manager_bin, m->conf, out);
  for (int i = 0; i < E2E_WAIT_MS / 50; i++) {
    char *p = tmp_read(m->portfile);
    if (p && atoi(p) > 0) {
      m->port = atoi(p);
      free(p);
      return 0;
    }
    free(p);
    if (!alive(m->pid)) break;
    usleep(50000);
  }
  char *log = tmp_read(out);
  fprintf(stderr, "manager did not start:\n%s\n", log ? log : "");
  free(log);
  return -1;
}

void e2e_manager_stop(e2e_manager *m, int sig) { stop(&m->pid, sig, "tenet-manager"); }

void e2e_agent_init(e2e_agent *a, e2e_env *e, const char *id, int port, const char *extra_conf) {
  memset(a, 0, sizeof *a);
  a->env = e;
  a->port = port;
  snprintf(a->id, sizeof a->id, "%s", id);
  snprintf(a->dir, sizeof a->dir, "%s/agent-%s", e->dir, id);
  mkdir(a->dir, 0700);
  snprintf(a->conf, sizeof a->conf, "%s/agent.conf", a->dir);
  snprintf(a->db, sizeof a->db, "%s/state.db", a->dir);
  snprintf(a->bundles, sizeof a->bundles, "%s/bundles", a->dir);
  snprintf(a->log, sizeof a->log, "%s/agent.log", a->dir);
  snprintf(a->fx, sizeof a->fx, "%s/fixtures", a->dir);
  mkdir(a->bundles, 0700);
  mkdir(a->fx, 0700);
  snprintf(a->extra, sizeof a->extra, "%s", extra_conf ? extra_conf : "");
  e2e_issue_agent(e, id);
}

void e2e_agent_managers(e2e_agent *a, const e2e_manager *const *ms, size_t n) {
  size_t k = 0;
  a->managers[0] = '\0';
  for (size_t i = 0; i < n; i++) {
    int w = snprintf(a->managers + k, sizeof a->managers - k, "%s127.0.0.1:%d", i ? ", " : "", ms[i]->port);
    if (w < 0 || (size_t)w >= sizeof a->managers - k) die("agent %s: too many managers", a->id);
    k += (size_t)w;
  }
  if (n) a->port = ms[0]->port;
}

int e2e_agent_start(e2e_agent *a) {
  e2e_env *e = a->env;
  char managers[sizeof a->managers];
  if (a->managers[0])
    snprintf(managers, sizeof managers, "%s", a->managers);
  else
    snprintf(managers, sizeof managers, "127.0.0.1:%d", a->port);
  tmp_write(a->conf,
            "# written by the e2e harness\n"
            "manager = %s\n"
            "cert = %s/agents/%s.crt\nkey = %s/agents/%s.key\nca = %s/ca.crt\n"
            "trusted_keys = %s/release.pub\n"
            "bundle_dir = %s\nstate_db = %s\nlog_file = %s\nlog_level = debug\n"
            "scan_interval = 1h\nworkers = 2\nreconnect_min = 1s\nreconnect_max = 2s\n%s",
            managers, e->pki, a->id, e->pki, a->id, e->pki, e->keys, a->bundles, a->db, a->log, a->extra);
  int started = tmp_count(a->log, "INFO: Started (agent");
  char out[PATH_MAX + 64];
  snprintf(out, sizeof out, "%s/stderr.log", a->dir);
  remember_log(out);
  a->pid = spawn(e->agent_bin, a->conf, out);
  /* SIGUSR1 before the agent blocks it would kill it: wait for its "Started" line. */
  for (int i = 0; i < E2E_WAIT_MS / 50; i++) {
    if (tmp_count(a->log, "INFO: Started (agent") > started) return 0;
    if (!alive(a->pid)) break;
    usleep(50000);
  }
  char *log = tmp_read(out);
  fprintf(stderr, "agent %s did not start:\n%s\n", a->id, log ? log : "");
  free(log);
  return -1;
}

void e2e_agent_stop(e2e_agent *a, int sig) { stop(&a->pid, sig, "tenet-agent"); }

void e2e_flag(e2e_agent *a, int check_id, const char *value) {
  char p[PATH_MAX + 96];
  snprintf(p, sizeof p, "%s/flag%d", a->fx, check_id);
  if (value)
    tmp_write(p, "%s\n", value);
  else
    unlink(p);
}

void e2e_agent_install_seed(e2e_agent *a, e2e_env *e, const char *const values[4]) {
  static const int ids[] = {1000, 1001, 1002, 1003};
  char yml[sizeof a->dir + 16], tnb[sizeof a->bundles + 16];
  e2e_join(yml, sizeof yml, a->dir, "seed.yml");
  e2e_join(tnb, sizeof tnb, a->bundles, "seed.tnb");
  e2e_policy_write(yml, "seed", a->fx, ids, 4, NULL);
  e2e_compile(e, yml, tnb, "release", 1);
  for (int i = 0; i < 4; i++)
    e2e_flag(a, ids[i], values[i]);
}

int e2e_agent_rescan(e2e_agent *a) {
  int n = tmp_count(a->log, "Security Configuration Assessment scan finished.");
  kill(a->pid, SIGUSR1);
  return e2e_wait_text(a->log, "Security Configuration Assessment scan finished.", n + 1, E2E_WAIT_MS);
}

/* ---- observing ---- */

int e2e_wait(int (*cond)(void *arg), void *arg, int timeout_ms) {
  struct timespec t0, t;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  for (;;) {
    int v = cond(arg);
    if (v) return v;
    clock_gettime(CLOCK_MONOTONIC, &t);
    if ((t.tv_sec - t0.tv_sec) * 1000 + (t.tv_nsec - t0.tv_nsec) / 1000000 > timeout_ms) return cond(arg);
    usleep(50000);
  }
}

typedef struct text_wait {
  const char *path, *needle;
  int count;
} text_wait;

static int has_text(void *arg) {
  text_wait *w = arg;
  return tmp_count(w->path, w->needle) >= w->count;
}

int e2e_wait_text(const char *path, const char *needle, int count, int timeout_ms) {
  text_wait w = {path, needle, count};
  if (e2e_wait(has_text, &w, timeout_ms)) return 0;
  fprintf(stderr, "timed out waiting for %d x \"%s\" in %s (found %d)\n", count, needle, path,
          tmp_count(path, needle));
  return -1;
}

size_t e2e_manager_hash(const e2e_manager *m, const char *agent, const char *policy, char out[65]) {
  char err[512];
  out[0] = '\0';
  mstore *s = mstore_open(m->db, 1, 0, err, sizeof err);
  if (!s) return 0;
  size_t n = 0;
  if (mstore_results_hash(s, agent, policy, out, &n) != TN_OK) n = 0;
  if (!n) out[0] = '\0';
  mstore_close(s);
  return n;
}

size_t e2e_agent_hash(const e2e_agent *a, const char *policy, char out[65]) {
  char err[512];
  out[0] = '\0';
  agent_store *s = agent_store_open(a->db, err, sizeof err);
  if (!s) return 0;
  size_t n = 0;
  if (agent_store_results_hash(s, policy, out, &n) != TN_OK) n = 0;
  if (!n) out[0] = '\0';
  agent_store_close(s);
  return n;
}

int e2e_manager_counters(const e2e_manager *m, const char *agent, mstore_counters *c, uint64_t *last_seq) {
  char err[512];
  memset(c, 0, sizeof *c);
  if (last_seq) *last_seq = 0;
  mstore *s = mstore_open(m->db, 1, 0, err, sizeof err);
  if (!s) return 0;
  mstore_agent a;
  int found = 0;
  if (mstore_agent_get(s, agent, &a, &found) == TN_OK && found) {
    *c = a.c;
    if (last_seq) *last_seq = a.last_seq;
  }
  mstore_close(s);
  return found;
}

typedef struct conv {
  const e2e_manager *m;
  const e2e_agent *a;
  const char *policy;
} conv;

static int converged(void *arg) {
  conv *c = arg;
  char mh[65], ah[65];
  size_t n = e2e_manager_hash(c->m, c->a->id, c->policy, mh);
  size_t k = e2e_agent_hash(c->a, c->policy, ah);
  return n > 0 && n == k && strcmp(mh, ah) == 0;
}

int e2e_wait_converged(const e2e_manager *m, const e2e_agent *a, const char *policy) {
  conv c = {m, a, policy};
  if (e2e_wait(converged, &c, E2E_WAIT_MS)) return 0;
  char mh[65], ah[65];
  size_t n = e2e_manager_hash(m, a->id, policy, mh), k = e2e_agent_hash(a, policy, ah);
  fprintf(stderr, "agent %s policy %s did not converge: agent %zu checks %s, manager %zu checks %s\n", a->id,
          policy, k, ah, n, mh);
  return -1;
}

typedef struct pairs {
  int64_t id[4096];
  char res[4096][16];
  size_t n;
} pairs;

static int agent_pair(void *arg, const agent_check_row *r) {
  pairs *p = arg;
  if (p->n == 4096) return 1;
  p->id[p->n] = r->check_id;
  snprintf(p->res[p->n++], 16, "%s",
           r->result == 1   ? "passed"
           : r->result == 2 ? "failed"
                            : "not applicable");
  return 0;
}

static int manager_pair(void *arg, const mstore_check *c) {
  pairs *p = arg;
  if (p->n == 4096) return 1;
  p->id[p->n] = c->check_id;
  snprintf(p->res[p->n++], 16, "%s", c->result);
  return 0;
}

int e2e_same_checks(const e2e_manager *m, const e2e_agent *a, const char *policy) {
  static pairs pa, pm;
  memset(&pa, 0, sizeof pa);
  memset(&pm, 0, sizeof pm);
  char err[512];
  agent_store *as = agent_store_open(a->db, err, sizeof err);
  mstore *ms = mstore_open(m->db, 1, 0, err, sizeof err);
  int ok = as && ms && agent_store_checks_each(as, policy, agent_pair, &pa) == TN_OK &&
           mstore_checks_each(ms, a->id, policy, manager_pair, &pm) == TN_OK && pa.n == pm.n;
  for (size_t i = 0; ok && i < pa.n; i++)
    ok = pa.id[i] == pm.id[i] && strcmp(pa.res[i], pm.res[i]) == 0;
  agent_store_close(as);
  mstore_close(ms);
  return ok;
}

int e2e_lines(const char *path) {
  char *s = tmp_read(path);
  int n = 0;
  for (char *p = s; p && *p; p++)
    n += *p == '\n';
  free(s);
  return n;
}

int e2e_count_all(const char *const *paths, size_t n, const char *needle) {
  int total = 0;
  for (size_t i = 0; i < n; i++)
    total += tmp_count(paths[i], needle);
  return total;
}

int64_t e2e_manager_outbox(const e2e_manager *m) {
  char err[512];
  mstore *s = mstore_open(m->db, 1, 0, err, sizeof err);
  int64_t count = -1, bytes = 0;
  if (s && mstore_alerts_stats(s, &count, &bytes) != TN_OK) count = -1;
  mstore_close(s);
  return count;
}

/* ---- alerts over several managers ---- */

/* The string value after key (e.g. "\"scan_id\":\"") in line, into out; 0 or -1 when absent. */
static int field(const char *line, const char *key, char *out, size_t cap) {
  const char *p = strstr(line, key);
  if (!p) return -1;
  p += strlen(key);
  const char *q = strchr(p, '"');
  if (!q || (size_t)(q - p) >= cap) return -1;
  memcpy(out, p, (size_t)(q - p));
  out[q - p] = '\0';
  return 0;
}

static int tally_line(e2e_alert_tally *t, const char *line) {
  char agent[65], type[16], scan[32], check[32] = "-1";
  if (field(line, "\"agent\":{\"id\":\"", agent, sizeof agent) ||
      field(line, "\"type\":\"", type, sizeof type) || field(line, "\"scan_id\":\"", scan, sizeof scan))
    return -1;
  int is_check = strcmp(type, "check") == 0;
  if (!is_check && strcmp(type, "summary") != 0) return -1;
  if (is_check && field(line, "\"check\":{\"id\":\"", check, sizeof check)) return -1;
  int64_t cid = strtoll(check, NULL, 10), sid = strtoll(scan, NULL, 10);
  t->lines++;
  if (is_check)
    t->checks++;
  else
    t->summaries++;
  for (size_t i = 0; i < t->n; i++) {
    e2e_alert_key *k = &t->key[i];
    if (k->check_id == cid && k->scan_id == sid && strcmp(k->agent, agent) == 0 &&
        strcmp(k->type, type) == 0) {
      k->count++;
      return 0;
    }
  }
  if (t->n == E2E_ALERT_KEYS) return -1;
  e2e_alert_key *k = &t->key[t->n++];
  snprintf(k->agent, sizeof k->agent, "%s", agent);
  snprintf(k->type, sizeof k->type, "%s", is_check ? "check" : "summary");
  k->check_id = cid;
  k->scan_id = sid;
  k->count = 1;
  return 0;
}

int e2e_alerts_tally(const char *const *paths, size_t n, e2e_alert_tally *t) {
  memset(t, 0, sizeof *t);
  for (size_t i = 0; i < n; i++) {
    char *s = tmp_read(paths[i]);
    for (char *line = s; line && *line;) {
      char *nl = strchr(line, '\n');
      if (!nl) { /* a writer killed in the middle of a line: the row is still queued in the store */
        t->torn++;
        break;
      }
      *nl = '\0';
      if (tally_line(t, line) != 0) {
        fprintf(stderr, "%s: not an alert this harness understands (or too many): %s\n", paths[i], line);
        free(s);
        return -1;
      }
      line = nl + 1;
    }
    free(s);
  }
  return 0;
}

int e2e_alerts_count(const e2e_alert_tally *t, const char *agent, int64_t check_id, int64_t scan_id) {
  const char *type = check_id < 0 ? "summary" : "check";
  for (size_t i = 0; i < t->n; i++) {
    const e2e_alert_key *k = &t->key[i];
    if (k->check_id == check_id && k->scan_id == scan_id && strcmp(k->agent, agent) == 0 &&
        strcmp(k->type, type) == 0)
      return k->count;
  }
  return 0;
}

int e2e_alerts_duplicates(const e2e_alert_tally *t) {
  int dup = 0;
  for (size_t i = 0; i < t->n; i++) {
    const e2e_alert_key *k = &t->key[i];
    if (k->count < 2) continue;
    fprintf(stderr, "duplicate alert: agent %s %s %lld scan %lld: %d lines\n", k->agent, k->type,
            (long long)k->check_id, (long long)k->scan_id, k->count);
    dup++;
  }
  return dup;
}

/* ---- a hand-driven TLS peer ---- */

int e2e_client_connect(e2e_client *cl, e2e_env *e, int port, const char *agent_id, const char *pki_dir) {
  memset(cl, 0, sizeof *cl);
  const char *pki = pki_dir ? pki_dir : e->pki;
  char crt[PATH_MAX + 128], key[PATH_MAX + 128], ca[PATH_MAX + 32];
  snprintf(ca, sizeof ca, "%s/ca.crt", e->pki); /* the manager's CA is always the scenario's */
  if (agent_id) {
    snprintf(crt, sizeof crt, "%s/agents/%s.crt", pki, agent_id);
    snprintf(key, sizeof key, "%s/agents/%s.key", pki, agent_id);
  }
  if (!(cl->ctx =
            tls_ctx_new_client(agent_id ? crt : NULL, agent_id ? key : NULL, ca, cl->err, sizeof cl->err)))
    return TN_ETLS;
  int fd;
  int rc = tls_tcp_connect("127.0.0.1", port, 10000, &fd, cl->err, sizeof cl->err);
  if (rc != TN_OK) return rc;
  tls_tcp_timeout(fd, 10000, NULL, 0);
  if (!(cl->conn = tls_conn_new(cl->ctx, fd, "127.0.0.1", cl->err, sizeof cl->err))) return TN_ETLS;
  if (!(cl->dec = frame_decoder_new(0))) return TN_ENOMEM;
  return tls_conn_handshake(cl->conn, cl->err, sizeof cl->err);
}

int e2e_client_send(e2e_client *cl, Tenet__Envelope *m) {
  strbuf b = STRBUF_INIT;
  int rc = codec_encode_framed(m, &b, FRAME_MAX_DEFAULT, cl->err, sizeof cl->err);
  if (rc == TN_OK) rc = tls_conn_write_all(cl->conn, b.data, b.len, cl->err, sizeof cl->err);
  strbuf_free(&b);
  return rc;
}

int e2e_client_send_raw(e2e_client *cl, const void *bytes, size_t len) {
  return tls_conn_write_all(cl->conn, bytes, len, cl->err, sizeof cl->err);
}

int e2e_client_read(e2e_client *cl, Tenet__Envelope **m, int timeout_ms) {
  *m = NULL;
  tls_tcp_timeout(tls_conn_fd(cl->conn), timeout_ms, NULL, 0);
  const uint8_t *p;
  size_t len;
  int rc = tls_conn_read_frame(cl->conn, cl->dec, &p, &len, cl->err, sizeof cl->err);
  if (rc != TN_OK) return rc;
  return codec_decode(p, len, FRAME_MAX_DEFAULT, m, cl->err, sizeof cl->err);
}

int e2e_client_closed_by_peer(e2e_client *cl, int timeout_ms) {
  for (;;) {
    Tenet__Envelope *m;
    int rc = e2e_client_read(cl, &m, timeout_ms);
    codec_free(m);
    if (rc == TN_OK) continue;
    return rc != TN_ETIMEOUT;
  }
}

void e2e_client_close(e2e_client *cl) {
  tls_conn_free(cl->conn);
  frame_decoder_free(cl->dec);
  tls_ctx_free(cl->ctx);
  memset(cl, 0, sizeof *cl);
}

int e2e_client_hello(e2e_client *cl, const char *agent_id) {
  Tenet__Hello h = TENET__HELLO__INIT;
  h.protocol = CODEC_PROTOCOL_VERSION;
  h.agent_id = (char *)agent_id;
  h.agent_version = "e2e";
  Tenet__Envelope env = TENET__ENVELOPE__INIT;
  env.body_case = TENET__ENVELOPE__BODY_HELLO;
  env.hello = &h;
  return e2e_client_send(cl, &env);
}

char *e2e_join(char *out, size_t cap, const char *dir, const char *name) {
  snprintf(out, cap, "%s/%s", dir, name);
  return out;
}

void e2e_seed_versions(e2e_env *e, char *fx, char *v1, char *v2, size_t cap) {
  char yml[PATH_MAX + 32];
  e2e_join(fx, cap, e->dir, "fx");
  mkdir(fx, 0700);
  e2e_join(yml, sizeof yml, e->dir, "seed.yml");
  e2e_join(v1, cap, e->dir, "seed-v1.tnb");
  e2e_join(v2, cap, e->dir, "seed-v2.tnb");
  const int ids[] = {1000, 1001, 1002, 1003};
  e2e_policy_write(yml, "seed", fx, ids, 4, NULL);
  e2e_compile(e, yml, v1, "release", 1);
  e2e_policy_write(yml, "seed", fx, ids, 4, " (v2)");
  e2e_compile(e, yml, v2, "release", 2);
}
