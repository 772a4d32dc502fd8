/* harness.h — end-to-end scenarios with real processes: a temporary directory per scenario, a PKI
 * and signing keys made with the real `tenet` CLI, tenet-manager and tenet-agent started with
 * fork/exec on 127.0.0.1 ephemeral ports, small policies whose results the test controls through
 * fixture files (`f:$fx/flagNNNN -> r:^ok`: "ok" passes, "no" fails, no file is not applicable),
 * and waits that poll for a condition with a generous deadline (never a timed assertion).
 *
 * Stores: by default every manager has its own SQLite file. With TENET_E2E_STORE=pg (CTest's
 * e2e-pg/ variants, fixture `pg`), the scenario gets a fresh database in the test PostgreSQL
 * cluster (tests/pg_test.h) and every manager of the scenario is configured with `store = <its URI>`
 * and `node_name = <the manager's name>`; several managers then share that one database, and the
 * observers below open it with mstore_open and the same string. */
#ifndef TENET_E2E_HARNESS_H
#define TENET_E2E_HARNESS_H

#include <limits.h>
#include <signal.h>
#include <string.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include "manager/store.h"

#define E2E_WAIT_MS 30000 /* generous deadline for anything to happen */

typedef struct e2e_env {
  char dir[PATH_MAX]; /* the scenario's temporary directory */
  char store[1024];   /* PostgreSQL: the scenario database's URI; "": one SQLite file per manager */
  char pki[PATH_MAX + 8];
  char keys[PATH_MAX + 8];
  const char *tenet, *agent_bin, *manager_bin;
} e2e_env;

/* Make the directory, a CA, the manager's certificate (localhost, 127.0.0.1) and two signing key
 * pairs: keys/release.{key,pub} (trusted by agents) and keys/rogue.{key,pub} (not). With
 * TENET_E2E_STORE=pg, first a database for the scenario (named after tag); the process exits 77
 * (CTest: skipped) with the reason when PostgreSQL is unavailable. Aborts on failure. */
void e2e_setup(e2e_env *e, const char *tag);
/* e2e_setup for a scenario that runs only on PostgreSQL (several managers on one database):
 * the same, whatever TENET_E2E_STORE says. */
void e2e_setup_pg(e2e_env *e, const char *tag);
/* Remove the directory (kept with TENET_KEEP_TMP=1, or when the scenario failed). */
void e2e_teardown(e2e_env *e, int failed);
/* Issue pki/agents/ID.crt and .key. */
void e2e_issue_agent(e2e_env *e, const char *id);

/* Run a command to completion; its output (stdout + stderr) goes to out (may be NULL). Returns
 * the exit status (-1 when it did not exit normally). */
int e2e_run(const char *const argv[], char *out, size_t cap);

/* Write a policy with checks ids[0..n) to path: id policy_id, every check `f:<fx>/flag<ID> -> r:^ok`.
 * title_suffix changes the checks' titles (a new bundle hash with the same results). */
void e2e_policy_write(const char *path, const char *policy_id, const char *fx, const int *ids, size_t n,
                      const char *title_suffix);
/* Compile (and sign with keys/<key>.key) a policy into out with the given version. Aborts on failure. */
void e2e_compile(e2e_env *e, const char *yml, const char *out, const char *key, unsigned version);

/* ---- manager ---- */

typedef struct e2e_manager {
  e2e_env *env;
  char name[64]; /* its directory's name, and its node_name on PostgreSQL */
  /* db: the store as mstore_open takes it — dir/manager.db, or the scenario's PostgreSQL URI */
  char dir[PATH_MAX + 32], conf[PATH_MAX + 48], db[PATH_MAX + 48], alerts[PATH_MAX + 48], log[PATH_MAX + 48];
  /* bundles: dir/bundles, or a directory several managers share (set it before the start) */
  char bundles[PATH_MAX + 48], portfile[PATH_MAX + 48];
  char extra[1024]; /* more configuration lines */
  int port;         /* fixed after the first start, so agents find it again after a restart */
  pid_t pid;
} e2e_manager;

/* name: a directory of the scenario and the manager's node_name (distinct per manager). */
void e2e_manager_init(e2e_manager *m, e2e_env *e, const char *name, const char *extra_conf);
/* Start (writes the configuration, waits for the port file). Returns 0 or -1. The bundle directory
 * is read every second unless extra_conf sets bundle_poll_interval. */
int e2e_manager_start(e2e_manager *m);
/* SIGTERM and wait (sig = SIGKILL for a crash). */
void e2e_manager_stop(e2e_manager *m, int sig);

/* ---- agent ---- */

typedef struct e2e_agent {
  e2e_env *env;
  char id[64];
  char dir[PATH_MAX + 32], conf[PATH_MAX + 48], db[PATH_MAX + 48], bundles[PATH_MAX + 48], log[PATH_MAX + 48];
  char fx[PATH_MAX + 48]; /* fixture files flagNNNN */
  char extra[1024];
  char managers[512]; /* the agent's `manager =` list; "": 127.0.0.1:port */
  int port;
  pid_t pid;
} e2e_agent;

/* An agent with its own certificate (issued here), directories and configuration for a manager on
 * port. extra_conf: more lines (e.g. "agent_id = 009\n"). */
void e2e_agent_init(e2e_agent *a, e2e_env *e, const char *id, int port, const char *extra_conf);
/* Give the agent several managers, in this order (`manager = 127.0.0.1:P1, 127.0.0.1:P2, …`; the
 * managers started already, so their ports are known). Call before e2e_agent_start. */
void e2e_agent_managers(e2e_agent *a, const e2e_manager *const *ms, size_t n);
int e2e_agent_start(e2e_agent *a);
void e2e_agent_stop(e2e_agent *a, int sig);
/* Set the fixture of a check: "ok" (passed), "no" (failed) or NULL (not applicable). */
void e2e_flag(e2e_agent *a, int check_id, const char *value);
/* Install the seed policy (checks 1000-1003 reading flag files, version 1, signed with "release")
 * in the agent's bundle directory, each check's flag set to values[i] ("ok" passes, "no" fails). */
void e2e_agent_install_seed(e2e_agent *a, e2e_env *e, const char *const values[4]);
/* Two versions of the seed policy for offer tests: its flag files in a directory shared by every
 * agent (fx = DIR/fx, created), version 1 in v1 = DIR/seed-v1.tnb and version 2 (titles changed, so
 * a new bundle hash) in v2 = DIR/seed-v2.tnb, both signed with "release". Each buffer holds cap. */
void e2e_seed_versions(e2e_env *e, char *fx, char *v1, char *v2, size_t cap);
/* Ask for a scan now (SIGUSR1) and wait until it finished (the log's count of finished scans grows). */
int e2e_agent_rescan(e2e_agent *a);

/* ---- observing ---- */

/* Poll cond(arg) every 50 ms until it is non-zero or timeout_ms passed. Returns the last value. */
int e2e_wait(int (*cond)(void *arg), void *arg, int timeout_ms);
/* Wait until the file at path holds needle at least count times. Returns 0 or -1. */
int e2e_wait_text(const char *path, const char *needle, int count, int timeout_ms);
/* The manager's results hash of (agent, policy) from its store (""/0 checks when none). */
size_t e2e_manager_hash(const e2e_manager *m, const char *agent, const char *policy, char out[65]);
/* The agent's results hash of a policy from its store. */
size_t e2e_agent_hash(const e2e_agent *a, const char *policy, char out[65]);
/* The manager's counters for an agent (zero when unknown). Returns 1 when the agent is known. */
int e2e_manager_counters(const e2e_manager *m, const char *agent, mstore_counters *c, uint64_t *last_seq);
/* Wait until the manager holds the same results hash as the agent for the policy (and at least
 * one check). Returns 0 or -1 (and prints both). */
int e2e_wait_converged(const e2e_manager *m, const e2e_agent *a, const char *policy);
/* The agent's (check id, result) pairs and the manager's, compared: 1 when identical. */
int e2e_same_checks(const e2e_manager *m, const e2e_agent *a, const char *policy);
/* 1 when every daemon stopped so far with SIGTERM exited with status 0, and no daemon's stderr
 * holds a sanitizer report (AddressSanitizer, LeakSanitizer, UBSan "runtime error"). Prints why
 * not. Call after stopping the daemons. */
int e2e_daemons_ok(void);
/* Lines of a file. */
int e2e_lines(const char *path);
/* Occurrences of needle over several files (the logs or alerts files of several managers). */
int e2e_count_all(const char *const *paths, size_t n, const char *needle);
/* Alerts queued in the manager's store and not yet written to any alerts file (-1: no store). */
int64_t e2e_manager_outbox(const e2e_manager *m);

/* ---- alerts over several managers ---- */

#define E2E_ALERT_KEYS 8192

/* One (agent, type, check, scan) and how many alert lines carry it. */
typedef struct e2e_alert_key {
  char agent[65];
  char type[8];     /* "check" or "summary" */
  int64_t check_id; /* -1 for a summary */
  int64_t scan_id;
  int count;
} e2e_alert_key;

typedef struct e2e_alert_tally {
  e2e_alert_key key[E2E_ALERT_KEYS];
  size_t n;
  int lines, checks, summaries; /* alert lines read, of which checks and summaries */
  int torn;                     /* a last line without its newline (a writer killed mid-line) */
} e2e_alert_tally;

/* Read every alert line of the files (a missing file holds none) into t, counted per key. Returns
 * 0, or -1 (and prints the line) for a line that is not an alert or when keys overflow. */
int e2e_alerts_tally(const char *const *paths, size_t n, e2e_alert_tally *t);
/* The key's count in t (0 when absent); check_id -1 for a summary. */
int e2e_alerts_count(const e2e_alert_tally *t, const char *agent, int64_t check_id, int64_t scan_id);
/* Keys counted more than once (each printed). */
int e2e_alerts_duplicates(const e2e_alert_tally *t);

#endif

/* ---- a hand-driven TLS peer (a fake agent) ---- */

#include "codec.h"
#include "err.h"
#include "frame.h"
#include "tls.h"

typedef struct e2e_client {
  tls_ctx *ctx;
  tls_conn *conn;
  frame_decoder *dec;
  char err[512];
} e2e_client;

/* Connect to 127.0.0.1:port as agent_id (its certificate from pki_dir/agents/, issued when pki_dir
 * is the scenario's own PKI), or without a certificate when agent_id is NULL; pki_dir NULL: the
 * scenario's PKI. Completes the handshake (blocking, 10 s bound). Returns TN_OK or an error with
 * cl->err set. */
int e2e_client_connect(e2e_client *cl, e2e_env *e, int port, const char *agent_id, const char *pki_dir);
/* Send one message / raw bytes. */
int e2e_client_send(e2e_client *cl, Tenet__Envelope *m);
int e2e_client_send_raw(e2e_client *cl, const void *bytes, size_t len);
/* Read one message (blocking up to timeout_ms): TN_OK with *m (codec_free it), TLS_CLOSED, or an
 * error (TN_ETIMEOUT when nothing came). */
int e2e_client_read(e2e_client *cl, Tenet__Envelope **m, int timeout_ms);
/* Read until the connection ends: 1 when the peer closed it (or reset it) within timeout_ms. */
int e2e_client_closed_by_peer(e2e_client *cl, int timeout_ms);
void e2e_client_close(e2e_client *cl);
/* A Hello from agent_id. */
int e2e_client_hello(e2e_client *cl, const char *agent_id);

/* out = dir/name (returns out). */
char *e2e_join(char *out, size_t cap, const char *dir, const char *name);
