/* bench_manager.c — the manager under load: real tenet-manager processes on 127.0.0.1 and simulated
 * agents in this process, each with its own certificate, talking TLS 1.3 like tenet-agent does
 * (frames from the real codec, acknowledged by the real manager). Measurements:
 *
 *   check events/s   K agents stream CheckDeltas of 256 checks whose results all flip every time
 *                    (so every event is stored, compared and alerted), W frames in flight each;
 *                    events counted when acknowledged (= committed)
 *   summaries/s      1,000 connected agents send unchanged ScanSummaries (the manager recomputes
 *                    each policy's results hash from its store and compares)
 *   CPU              of the managers, of the PostgreSQL server (its processes for that database and
 *                    the shared ones: WAL writer, checkpointer, ...) and of this program, per run,
 *                    beside the whole machine's busy CPU (other jobs on a shared machine show there)
 *   PostgreSQL writes transactions and WAL bytes per event and per summary (one more run each)
 *   bytes on the wire for an unchanged scan of one policy: the frame the agent's outbox
 *                    (agent/outbox.c) builds for it, and the TCP payload it takes inside TLS
 *                    (and the Ack back), measured with TCP_INFO
 *   storage          bytes per agent and per check row in each store, on a fresh store
 *
 * Configurations: the SQLite store with one manager, and PostgreSQL with N managers on one
 * database (a throwaway cluster this program starts and stops), the simulated agents spread over
 * the managers (agent i talks to manager i mod N). Every configuration runs side by side: its
 * managers and agents' connections stay up for the whole bench, and the runs are interleaved
 * (run 1 in the order given, run 2 in the reverse order, ...), so load on the machine hits all
 * alike. Medians of --runs runs. Usage:
 *   bench_manager [--store sqlite|pg|sqlite,pg] [--managers N[,N...]] [--manager PATH]
 *                 [--agents 1000] [--stream-agents 8] [--runs 5] [--frames 60] [--summaries 30]
 *                 [--durable yes|no] [--pg-set NAME=VALUE]... [--storage-agents 200]
 *                 [--storage-events FILE.jsonl] [--keep]
 * The manager defaults to ../tenet-manager from this program's directory (the build tree's top);
 * PostgreSQL's programs are found in $TENET_PG_BIN or the newest /usr/lib/postgresql/N/bin. */
#include <errno.h>
#include <ftw.h>
#include <stdarg.h>
#include <stddef.h>
#include <limits.h>
#include <netinet/in.h>
#include <linux/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench_fleet.h"
#include "bench_util.h"
#include "bench_pgcluster.h"
#include "codec.h"
#include "err.h"
#include "eval.h"
#include "frame.h"
#include "outbox.h"
#include "pki.h"
#include "tls.h"

#define POLICY "bench"
#define CHECKS_PER_FRAME 256
#define MAX_MANAGERS 8
#define MAX_CONFIGS 9
#define PG_DB_PREFIX "tenet_bench_"

static char dir[PATH_MAX];

/* ---- a simulated agent ---- */

typedef struct sim {
  char id[32];
  tls_conn *conn;
  frame_decoder *dec;
  strbuf out;
  size_t off;
  uint64_t next_seq, acked;
  int inflight;
  int64_t to_send, sent, done; /* frames */
  int flip;
  int want_write;
} sim;

static void send_now(sim *s, Tenet__Envelope *env) {
  char err[256];
  if (codec_encode_framed(env, &s->out, FRAME_MAX_DEFAULT, err, sizeof err) != TN_OK)
    fleet_die("encode: %s", err);
}

static void flush_blocking(sim *s) {
  char err[256];
  if (tls_conn_write_all(s->conn, s->out.data + s->off, s->out.len - s->off, err, sizeof err) != TN_OK)
    fleet_die("write: %s", err);
  strbuf_reset(&s->out);
  s->off = 0;
}

static void sim_connect(sim *s, int port) {
  tls_ctx *ctx = fleet_client_ctx(s->id);
  int fd;
  char err[256];
  if (tls_tcp_connect("127.0.0.1", port, 10000, &fd, err, sizeof err) != TN_OK) fleet_die("connect: %s", err);
  tls_tcp_timeout(fd, 30000, NULL, 0);
  if (!(s->conn = tls_conn_new(ctx, fd, "127.0.0.1", err, sizeof err))) fleet_die("%s", err);
  tls_ctx_free(ctx);
  if (tls_conn_handshake(s->conn, err, sizeof err) != TN_OK) fleet_die("handshake of %s: %s", s->id, err);
  if (!(s->dec = frame_decoder_new(0))) fleet_die("out of memory");
  Tenet__Hello h = TENET__HELLO__INIT;
  h.protocol = CODEC_PROTOCOL_VERSION;
  h.agent_id = s->id;
  h.agent_version = "bench";
  Tenet__Envelope env = TENET__ENVELOPE__INIT;
  env.body_case = TENET__ENVELOPE__BODY_HELLO;
  env.hello = &h;
  send_now(s, &env);
  flush_blocking(s);
  s->next_seq = 1;
}

/* One CheckDeltas of CHECKS_PER_FRAME checks, every result flipped since the last one. */
static void queue_deltas(sim *s) {
  static Tenet__CheckDelta d[CHECKS_PER_FRAME];
  static Tenet__CheckDelta *dp[CHECKS_PER_FRAME];
  static char events[CHECKS_PER_FRAME][512];
  int passed = s->flip ^= 1;
  for (int i = 0; i < CHECKS_PER_FRAME; i++) {
    tenet__check_delta__init(&d[i]);
    d[i].check_id = 10000 + i;
    d[i].result = passed ? TENET__CHECK_RESULT__PASSED : TENET__CHECK_RESULT__FAILED;
    snprintf(events[i], sizeof events[i],
             "{\"type\":\"check\",\"id\":%llu,\"policy\":\"Bench "
             "policy\",\"policy_id\":\"bench\",\"check\":{\"id\":%d,"
             "\"title\":\"Ensure setting %d is configured\",\"description\":\"A setting that matters.\","
             "\"rationale\":\"Because.\",\"remediation\":\"Configure it.\",\"compliance\":{\"cis\":\"1.%d\"},"
             "\"rules\":[\"f:/etc/bench%d -> "
             "r:^ok\"],\"condition\":\"all\",\"file\":\"/etc/bench%d\",\"result\":\"%s\"}}",
             (unsigned long long)s->next_seq, 10000 + i, i, i, i, i, passed ? "passed" : "failed");
    d[i].event_json = events[i];
    dp[i] = &d[i];
  }
  Tenet__CheckDeltas cd = TENET__CHECK_DELTAS__INIT;
  cd.policy_id = POLICY;
  cd.scan_id = (int64_t)s->next_seq;
  cd.checks = dp;
  cd.n_checks = CHECKS_PER_FRAME;
  Tenet__Envelope env = TENET__ENVELOPE__INIT;
  env.seq = s->next_seq++;
  env.body_case = TENET__ENVELOPE__BODY_CHECK_DELTAS;
  env.check_deltas = &cd;
  send_now(s, &env);
}

/* The seed's 4 checks and a summary that matches them (the manager then has nothing to fix). */
#define SEED_HASH "1642ab1dc478052ac3556b5e700cd82adb69728008301882b9cbee0696ff2c84"
#define BUNDLE_HASH "e04b3b8913840d18aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"

static void queue_seed_checks(sim *s) {
  Tenet__CheckDelta d[4], *dp[4];
  static const int res[4] = {TENET__CHECK_RESULT__PASSED, TENET__CHECK_RESULT__FAILED,
                             TENET__CHECK_RESULT__FAILED, TENET__CHECK_RESULT__PASSED};
  for (int i = 0; i < 4; i++) {
    tenet__check_delta__init(&d[i]);
    d[i].check_id = 1000 + i;
    d[i].result = res[i];
    d[i].event_json = "{\"type\":\"check\",\"policy\":\"Seed\",\"check\":{\"title\":\"seed\"}}";
    dp[i] = &d[i];
  }
  Tenet__CheckDeltas cd = TENET__CHECK_DELTAS__INIT;
  cd.policy_id = "seed";
  cd.scan_id = 1;
  cd.checks = dp;
  cd.n_checks = 4;
  Tenet__Envelope env = TENET__ENVELOPE__INIT;
  env.seq = s->next_seq++;
  env.body_case = TENET__ENVELOPE__BODY_CHECK_DELTAS;
  env.check_deltas = &cd;
  send_now(s, &env);
}

static void queue_summary(sim *s, int metadata) {
  Tenet__ScanSummary sum = TENET__SCAN_SUMMARY__INIT;
  sum.policy_id = "seed";
  sum.scan_id = 1;
  sum.passed = 2;
  sum.failed = 2;
  sum.total_checks = 4;
  sum.score = 50;
  sum.start_time = 1700000000;
  sum.end_time = 1700000001;
  uint8_t rh[CODEC_HASH_LEN], bh[CODEC_HASH_LEN];
  codec_hash_from_hex(&sum.results_hash, rh, SEED_HASH);
  codec_hash_from_hex(&sum.bundle_hash, bh, BUNDLE_HASH);
  sum.policy_version = 1;
  if (metadata) {
    sum.policy_name = "Seed policy";
    sum.file = "seed.yml";
    sum.description = "The seed table";
  }
  Tenet__Envelope env = TENET__ENVELOPE__INIT;
  env.seq = s->next_seq++;
  env.body_case = TENET__ENVELOPE__BODY_SCAN_SUMMARY;
  env.scan_summary = &sum;
  send_now(s, &env);
}

/* ---- the load loop ---- */

typedef void (*queue_fn)(sim *s);
static void q_deltas(sim *s) { queue_deltas(s); }
static void q_summary(sim *s) { queue_summary(s, 0); }

/* Drive every sim until each has had `frames` frames acknowledged, at most `window` in flight. */
static double drive(sim *sims, int n, int64_t frames, int window, queue_fn q) {
  int ep = epoll_create1(0);
  for (int i = 0; i < n; i++) {
    sims[i].to_send = frames;
    sims[i].sent = sims[i].done = 0;
    sims[i].inflight = 0;
    sims[i].acked = sims[i].next_seq - 1;
    char err[256];
    tls_tcp_nonblock(tls_conn_fd(sims[i].conn), 1, err, sizeof err);
    struct epoll_event ev = {.events = EPOLLIN, .data.u32 = (uint32_t)i};
    epoll_ctl(ep, EPOLL_CTL_ADD, tls_conn_fd(sims[i].conn), &ev);
  }
  int remaining = n;
  double t0 = bench_now();
  /* prime */
  for (int i = 0; i < n; i++) {
    sim *s = &sims[i];
    while (s->inflight < window && s->sent < s->to_send) {
      q(s);
      s->sent++;
      s->inflight++;
    }
  }
  struct epoll_event evs[256];
  while (remaining) {
    /* write what is pending */
    for (int i = 0; i < n; i++) {
      sim *s = &sims[i];
      if (s->off >= s->out.len) continue;
      char err[256];
      size_t w;
      int rc = TN_OK;
      while (s->off < s->out.len && (rc = tls_conn_write(s->conn, s->out.data + s->off, s->out.len - s->off,
                                                         &w, err, sizeof err)) == TN_OK)
        s->off += w;
      if (s->off >= s->out.len) {
        strbuf_reset(&s->out);
        s->off = 0;
      } else if (rc != TLS_WANT_WRITE && rc != TLS_WANT_READ) {
        fleet_die("write (%s): %s", s->id, err);
      }
      int ww = s->off < s->out.len;
      if (ww != s->want_write) {
        struct epoll_event ev = {.events = EPOLLIN | (ww ? EPOLLOUT : 0), .data.u32 = (uint32_t)i};
        epoll_ctl(ep, EPOLL_CTL_MOD, tls_conn_fd(s->conn), &ev);
        s->want_write = ww;
      }
    }
    int k = epoll_wait(ep, evs, 256, 1000);
    for (int e = 0; e < k; e++) {
      sim *s = &sims[evs[e].data.u32];
      for (;;) {
        const uint8_t *p;
        size_t len;
        char err[256];
        int rc = tls_conn_read_frame(s->conn, s->dec, &p, &len, err, sizeof err);
        if (rc == TLS_WANT_READ || rc == TLS_WANT_WRITE) break;
        if (rc != TN_OK) fleet_die("read (%s): %s", s->id, err);
        Tenet__Envelope *m;
        if (codec_decode(p, len, FRAME_MAX_DEFAULT, &m, err, sizeof err) != TN_OK)
          fleet_die("decode: %s", err);
        if (m->body_case == TENET__ENVELOPE__BODY_ACK && m->ack->seq > s->acked) {
          int64_t newly = (int64_t)(m->ack->seq - s->acked);
          s->acked = m->ack->seq;
          s->done += newly;
          s->inflight -= (int)newly;
          if (s->done >= s->to_send) remaining--;
          while (s->inflight < window && s->sent < s->to_send) {
            q(s);
            s->sent++;
            s->inflight++;
          }
        }
        codec_free(m);
      }
    }
  }
  double dt = bench_now() - t0;
  for (int i = 0; i < n; i++) {
    epoll_ctl(ep, EPOLL_CTL_DEL, tls_conn_fd(sims[i].conn), NULL);
    char err[256];
    tls_tcp_nonblock(tls_conn_fd(sims[i].conn), 0, err, sizeof err);
  }
  close(ep);
  return dt;
}

/* Send what is queued and wait for the Ack of everything (blocking). */
static void sync_sim(sim *s) {
  flush_blocking(s);
  uint64_t want = s->next_seq - 1;
  while (s->acked < want) {
    const uint8_t *p;
    size_t len;
    char err[256];
    if (tls_conn_read_frame(s->conn, s->dec, &p, &len, err, sizeof err) != TN_OK)
      fleet_die("read (%s): %s", s->id, err);
    Tenet__Envelope *m;
    if (codec_decode(p, len, FRAME_MAX_DEFAULT, &m, err, sizeof err) != TN_OK) fleet_die("decode: %s", err);
    if (m->body_case == TENET__ENVELOPE__BODY_ACK && m->ack->seq > s->acked) s->acked = m->ack->seq;
    codec_free(m);
  }
}

/* ---- configurations and their manager processes ---- */

typedef struct sample {
  double rate;          /* events or summaries acknowledged per second */
  double wall;          /* seconds */
  double mgr, pg, self; /* CPU seconds of the managers, the PostgreSQL server, this program */
  double machine;       /* CPU seconds the whole machine was busy (every process, ours or not) */
} sample;

typedef struct config {
  char name[16]; /* "sqlite", "pg x2" */
  char tag[24];  /* in file and database names: "sqlite", "pg2" */
  int pg, nmgr;
  char db[64];                /* the PostgreSQL database */
  char store[PATH_MAX + 256]; /* the manager.conf line naming the store */
  pid_t mpid[MAX_MANAGERS];
  int port[MAX_MANAGERS];
  sim *st, *sims; /* streaming agents, summary agents (agent i talks to manager i mod nmgr) */
  sample *ev, *sv;
  double sync_s; /* the summary agents connected and in sync */
  int fds[MAX_MANAGERS], backends;
} config;

static pgcluster pg; /* postmaster 0 while no configuration uses PostgreSQL */
static const char *manager_bin;
static int durable_opt = 1;
static config *running[MAX_CONFIGS + 2]; /* configurations whose managers may be up (for at_exit) */
static int nrunning;

static void config_init(config *c, int use_pg, int nmgr, const char *tag) {
  memset(c, 0, sizeof *c);
  c->pg = use_pg;
  c->nmgr = nmgr;
  snprintf(c->tag, sizeof c->tag, "%s", tag);
  if (use_pg) {
    snprintf(c->name, sizeof c->name, "pg x%d", nmgr);
    snprintf(c->db, sizeof c->db, PG_DB_PREFIX "%s", tag);
    char sql[128], uri[PATH_MAX + 128];
    snprintf(sql, sizeof sql, "CREATE DATABASE %s", c->db);
    pgcluster_sql(&pg, "postgres", sql, NULL, 0);
    pgcluster_uri(&pg, c->db, uri, sizeof uri);
    snprintf(c->store, sizeof c->store, "store = %s", uri);
  } else {
    snprintf(c->name, sizeof c->name, "sqlite");
    snprintf(c->store, sizeof c->store, "state_db = %s/%s.db", dir, tag);
  }
}

/* Start manager k of configuration c and wait until it listens. */
static void start_manager(config *c, int k) {
  char conf[PATH_MAX + 64], portfile[PATH_MAX + 64], base[PATH_MAX + 48];
  snprintf(base, sizeof base, "%s/%s-m%d", dir, c->tag, k + 1);
  snprintf(conf, sizeof conf, "%s.conf", base);
  snprintf(portfile, sizeof portfile, "%s.port", base);
  FILE *f = fopen(conf, "w");
  if (!f) fleet_die("cannot write %s", conf);
  fprintf(f,
          "listen = 127.0.0.1:0\ncert = %s/manager.crt\nkey = %s/manager.key\nca = %s/ca.crt\n%s\n"
          "alerts_file = %s.alerts.json\nlog_file = %s.log\nlog_level = info\npid_file = %s.pid\n"
          "port_file = %s\ndurable = %s\nmax_connections = 5000\n",
          fleet_pki, fleet_pki, fleet_pki, c->store, base, base, base, portfile, durable_opt ? "yes" : "no");
  if (c->pg) fprintf(f, "node_name = bench-%s-m%d\n", c->tag, k + 1);
  fclose(f);
  pid_t pid = fork();
  if (pid == 0) {
    prctl(PR_SET_PDEATHSIG, SIGTERM); /* never outlives the bench, even killed */
    execl(manager_bin, manager_bin, "-c", conf, "-f", (char *)NULL);
    _exit(127);
  }
  c->mpid[k] = pid;
  if (k == 0 && nrunning < MAX_CONFIGS + 2) running[nrunning++] = c;
  for (int i = 0; i < 600; i++) {
    size_t len;
    char *p = bench_read_file(portfile, &len);
    if (p && atoi(p) > 0) {
      c->port[k] = atoi(p);
      free(p);
      return;
    }
    free(p);
    if (waitpid(pid, NULL, WNOHANG) == pid) break;
    usleep(50000);
  }
  fleet_die("manager %d of %s did not start (see %s.log)", k + 1, c->name, base);
}

static void stop_managers(config *c) {
  for (int k = 0; k < c->nmgr; k++)
    if (c->mpid[k] > 0) kill(c->mpid[k], SIGTERM);
  for (int k = 0; k < c->nmgr; k++)
    if (c->mpid[k] > 0) waitpid(c->mpid[k], NULL, 0);
  memset(c->mpid, 0, sizeof c->mpid);
}

/* On any exit (fleet_die included): no manager or PostgreSQL server outlives the bench. After a
 * failure the directories stay, for their logs. */
static int finished;
static void at_exit(void) {
  for (int i = 0; i < nrunning; i++)
    stop_managers(running[i]);
  nrunning = 0;
  if (pg.postmaster) {
    pgcluster_stop(&pg, !finished);
    if (!finished) fprintf(stderr, "%s: kept %s and %s for their logs\n", fleet_prog, dir, pg.dir);
  }
}

/* Interrupted (^C, SIGTERM): stop what was started, through at_exit. */
static void on_signal(int sig) { exit(128 + sig); }

static void sims_free(sim *s, int n) {
  for (int i = 0; s && i < n; i++) {
    tls_conn_free(s[i].conn);
    frame_decoder_free(s[i].dec);
    strbuf_free(&s[i].out);
  }
  free(s);
}

/* Connect c's streaming agents (and make their 256 rows exist), then its summary agents, each
 * sending its first scan (4 checks and their summary) and waiting until it is committed. */
static void config_connect(config *c, int stream_agents, int agents) {
  c->st = calloc((size_t)stream_agents, sizeof *c->st);
  c->sims = calloc((size_t)agents, sizeof *c->sims);
  if (!c->st || !c->sims) fleet_die("out of memory");
  for (int i = 0; i < stream_agents; i++) {
    snprintf(c->st[i].id, sizeof c->st[i].id, "s%03d", i);
    sim_connect(&c->st[i], c->port[i % c->nmgr]);
  }
  drive(c->st, stream_agents, 2, 4, q_deltas);
  double t0 = bench_now();
  for (int i = 0; i < agents; i++) {
    snprintf(c->sims[i].id, sizeof c->sims[i].id, "a%05d", i);
    sim_connect(&c->sims[i], c->port[i % c->nmgr]);
  }
  for (int i = 0; i < agents; i++) {
    queue_seed_checks(&c->sims[i]);
    queue_summary(&c->sims[i], 1);
    flush_blocking(&c->sims[i]);
  }
  for (int i = 0; i < agents; i++)
    sync_sim(&c->sims[i]);
  c->sync_s = bench_now() - t0;
}

/* ---- CPU of one run ---- */

typedef struct cpu_mark {
  double mgr, pg, self, machine;
} cpu_mark;

/* Busy CPU seconds of the whole machine since boot (/proc/stat: all but idle and iowait). */
static double machine_cpu(void) {
  FILE *f = fopen("/proc/stat", "r");
  unsigned long long v[8] = {0};
  int n = f ? fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2], &v[3], &v[4],
                     &v[5], &v[6], &v[7])
            : 0;
  if (f) fclose(f);
  if (n != 8) fleet_die("cannot read /proc/stat");
  return (double)(v[0] + v[1] + v[2] + v[5] + v[6] + v[7]) / (double)sysconf(_SC_CLK_TCK);
}

static double self_cpu(void) {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 + (double)ru.ru_stime.tv_sec +
         (double)ru.ru_stime.tv_usec / 1e6;
}

static cpu_mark cpu_now(const config *c) {
  cpu_mark m = {0, 0, self_cpu(), machine_cpu()};
  for (int k = 0; k < c->nmgr; k++) {
    double x = proc_cpu(c->mpid[k], 0, NULL);
    if (x < 0) fleet_die("manager %d of %s is gone (see %s/%s-m%d.log)", k + 1, c->name, dir, c->tag, k + 1);
    m.mgr += x;
  }
  if (c->pg) m.pg = pgcluster_cpu(&pg, PG_DB_PREFIX, c->db, NULL);
  return m;
}

/* One measured run of c: frames per agent driven through sims; work = what one run acknowledges. */
static sample measure(config *c, sim *sims, int n, int64_t frames, queue_fn q, double work) {
  cpu_mark a = cpu_now(c);
  double dt = drive(sims, n, frames, 4, q);
  cpu_mark b = cpu_now(c);
  sample s = {work / dt, dt, b.mgr - a.mgr, b.pg - a.pg, b.self - a.self, b.machine - a.machine};
  return s;
}

static double median_of(const sample *s, int n, size_t off) {
  double v[n];
  for (int i = 0; i < n; i++)
    v[i] = *(const double *)((const char *)&s[i] + off);
  return bench_median(v, n);
}
#define MEDIAN(s, n, field) median_of(s, n, offsetof(sample, field))

static void print_sample(const char *what, int run, const config *c, const sample *s) {
  printf(
      "  run %d %-7s %8.0f %s (%.2f s; CPU: managers %.2f s, PostgreSQL %.2f s, bench %.2f s; machine busy "
      "%.0f%%)\n",
      run, c->name, s->rate, what, s->wall, s->mgr, s->pg, s->self,
      100 * s->machine / (s->wall * (double)sysconf(_SC_NPROCESSORS_ONLN)));
  fflush(stdout);
}

/* The table of medians of one measurement over the configurations: rate, wall, CPU of each part,
 * the share of the machine's CPUs the bench's processes used and the share busy with anything
 * (other jobs on a shared machine included), and the managers' + server's CPU per item. */
static void print_medians(const char *what, config *cs, int nc, int runs, int ev) {
  printf("  %-7s %12s %7s %9s %9s %9s %6s %8s %12s\n", "", what, "wall s", "CPU mgr", "CPU pg", "CPU bench",
         "ours", "machine", "mgr+pg us/1");
  double ncpu = (double)sysconf(_SC_NPROCESSORS_ONLN);
  for (int i = 0; i < nc; i++) {
    const sample *s = ev ? cs[i].ev : cs[i].sv;
    double rate = MEDIAN(s, runs, rate), wall = MEDIAN(s, runs, wall), mgr = MEDIAN(s, runs, mgr),
           pgc = MEDIAN(s, runs, pg), self = MEDIAN(s, runs, self), mach = MEDIAN(s, runs, machine);
    printf("  %-7s %12.0f %7.2f %9.2f %9.2f %9.2f %5.0f%% %7.0f%% %12.1f\n", cs[i].name, rate, wall, mgr, pgc,
           self, 100 * (mgr + pgc + self) / (wall * ncpu), 100 * mach / (wall * ncpu),
           (mgr + pgc) * 1e6 / (rate * wall));
  }
}

/* ---- bytes of an unchanged scan ---- */

typedef struct rows_ctx {
  strbuf *out;
  uint64_t last;
  size_t n, last_len;
} rows_ctx;

static int collect_row(void *arg, uint64_t seq, const char *kind, const uint8_t *frame, size_t len) {
  rows_ctx *c = arg;
  strbuf_append(c->out, (const char *)frame, len);
  c->last = seq;
  c->last_len = len;
  c->n++;
  return 0;
}

static void tcp_bytes(int fd, uint64_t *sent, uint64_t *received) {
  struct tcp_info ti;
  socklen_t l = sizeof ti;
  memset(&ti, 0, sizeof ti);
  getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &l);
  *sent = ti.tcpi_bytes_acked;
  *received = ti.tcpi_bytes_received;
}

/* A 190-check policy scanned twice by the agent's own code (agent/outbox.c); the second scan
 * changes nothing. Its outbox rows go to the manager over TLS as tenet-agent sends them. */
static void unchanged_scan_bytes(int port, size_t *frame, uint64_t *wire_out, uint64_t *wire_in,
                                 size_t *rows) {
  char db[PATH_MAX + 16], err[512];
  snprintf(db, sizeof db, "%s/agent.db", dir);
  agent_store *as = agent_store_open(db, err, sizeof err);
  if (!as) fleet_die("%s", err);
  agent_outbox_limits lim = {256, FRAME_MAX_DEFAULT};
  agent_policy_meta m = {.policy_id = "cis_debian12",
                         .name = "CIS Debian Linux 12 Benchmark v1.1.0",
                         .file = "cis_debian12.yml",
                         .description = "Prescriptive guidance.",
                         .references = "",
                         .policy_version = 7};
  snprintf(m.bundle_hash, sizeof m.bundle_hash, "%s", BUNDLE_HASH);
  snprintf(m.source_hash, sizeof m.source_hash, "%s", SEED_HASH);
  sim s = {0};
  snprintf(s.id, sizeof s.id, "bytes");
  sim_connect(&s, port);
  for (int round = 0; round < 2; round++) {
    policy_scan ps;
    memset(&ps, 0, sizeof ps);
    ps.status = SCAN_DONE;
    uint32_t r;
    if (getrandom(&r, sizeof r, 0) != sizeof r) r = 123456789;
    ps.scan_id = r & 0x7fffffff; /* a real scan id: 31 random bits */
    ps.nchecks = 190;
    ps.checks = calloc(ps.nchecks, sizeof *ps.checks);
    for (size_t i = 0; i < ps.nchecks; i++) {
      ps.checks[i].id = 33000 + (int64_t)i;
      ps.checks[i].result = i % 3 ? EV_NOT_FOUND : EV_FOUND;
      if (asprintf(&ps.checks[i].event, "{\"type\":\"check\",\"id\":%lld,\"check\":{\"id\":%lld}}",
                   (long long)ps.scan_id, (long long)ps.checks[i].id) < 0)
        fleet_die("out of memory");
      if (ps.checks[i].result == EV_FOUND)
        ps.passed++;
      else
        ps.failed++;
    }
    ps.score = (float)ps.passed / (float)(ps.passed + ps.failed) * 100;
    ps.start_time = (int64_t)time(NULL);
    ps.end_time = ps.start_time + 41;
    agent_record_result rr;
    if (agent_outbox_record_scan(as, &m, &ps, &lim, &rr, err, sizeof err) != TN_OK) fleet_die("%s", err);
    policy_scan_free(&ps);
    rows_ctx c = {&s.out, 0, 0, 0};
    if (agent_store_outbox_each(as, 0, 1000, collect_row, &c) != TN_OK) fleet_die("outbox");
    uint64_t s0, r0, s1, r1;
    int fd = tls_conn_fd(s.conn);
    tcp_bytes(fd, &s0, &r0);
    s.next_seq = c.last + 1;
    sync_sim(&s);
    usleep(100000); /* let TCP's own acknowledgement of the last segment arrive */
    tcp_bytes(fd, &s1, &r1);
    if (agent_store_outbox_ack(as, c.last, NULL) != TN_OK) fleet_die("ack");
    if (round == 1) {
      *frame = c.last_len;
      *rows = c.n;
      *wire_out = s1 - s0;
      *wire_in = r1 - r0;
    }
  }
  agent_store_close(as);
  tls_conn_free(s.conn);
  frame_decoder_free(s.dec);
  strbuf_free(&s.out);
}

/* ---- what PostgreSQL writes ---- */

/* WAL position (bytes) and the next transaction id of the cluster: immediate, unlike the
 * statistics views, and only write transactions take an id. */
typedef struct pg_mark {
  double wal;
  long long xid;
} pg_mark;

static pg_mark pg_mark_now(void) {
  char out[256];
  pg_mark m = {0, 0};
  pgcluster_sql(
      &pg, "postgres",
      "SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), '0/0'), pg_snapshot_xmax(pg_current_snapshot())", out,
      sizeof out);
  if (sscanf(out, "%lf %lld", &m.wal, &m.xid) != 2) fleet_die("cannot read the WAL position: %s", out);
  return m;
}

/* One more run of each PostgreSQL configuration, between two marks (the other configurations are
 * idle meanwhile): transactions committed and WAL written per item. */
static void pg_profile(const char *what, const char *whats, config *cs, int nc, int events, int n,
                       int64_t frames, double work) {
  printf("PostgreSQL writes per %s (one more run of each configuration; transactions = transaction ids "
         "taken):\n",
         what);
  for (int i = 0; i < nc; i++) {
    config *c = &cs[i];
    if (!c->pg) continue;
    pg_mark a = pg_mark_now();
    sample s = events ? measure(c, c->st, n, frames, q_deltas, work)
                      : measure(c, c->sims, n, frames, q_summary, work);
    pg_mark b = pg_mark_now();
    double tx = (double)(b.xid - a.xid), wal = b.wal - a.wal;
    printf("  %-7s %8.0f %s/s: %.0f transactions (%.0f/s, %.1f %s each), WAL %.0f bytes per %s (%.1f MB/s)\n",
           c->name, s.rate, whats, tx, tx / s.wall, tx > 0 ? work / tx : 0, whats, wal / work, what,
           wal / s.wall / 1e6);
  }
}

/* ---- storage per agent and per check ---- */

/* Run sqlite3 on the file (read-only) and return its output in out. */
static void sqlite_query(const char *db, const char *sql, char *out, size_t cap) {
  char *argv[] = {"sqlite3", "-readonly", "-separator", " ", (char *)db, (char *)sql, NULL};
  if (proc_run(argv, 0, 0, 0, out, cap) != 0) fleet_die("sqlite3 %s: %s\n%s", db, sql, out);
}

/* Check events of a real scan (`tenet scan --format jsonl` output) for the storage measurement:
 * each "check" line is sent as it is, as check 1, 2, ... of policy "real". */
static char **real_events;
static size_t nreal;

static void real_events_load(const char *path) {
  size_t len;
  char *text = bench_read_file(path, &len);
  if (!text) fleet_die("cannot read %s", path);
  for (char *save = NULL, *l = strtok_r(text, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
    if (!strstr(l, "\"type\":\"check\"")) continue;
    char **grown = realloc(real_events, (nreal + 1) * sizeof *grown);
    if (!grown || !(grown[nreal] = strdup(l))) fleet_die("out of memory");
    real_events = grown;
    nreal++;
  }
  free(text);
  if (!nreal) fleet_die("%s: no check events (give the jsonl output of tenet scan)", path);
}

/* The real events as CheckDeltas frames of at most 64 checks. */
static void queue_real_events(sim *s) {
  Tenet__CheckDelta d[64], *dp[64];
  for (size_t base = 0; base < nreal; base += 64) {
    size_t n = nreal - base < 64 ? nreal - base : 64;
    for (size_t i = 0; i < n; i++) {
      tenet__check_delta__init(&d[i]);
      d[i].check_id = (int64_t)(base + i + 1);
      d[i].result = strstr(real_events[base + i], "\"result\":\"passed\"") ? TENET__CHECK_RESULT__PASSED
                                                                           : TENET__CHECK_RESULT__FAILED;
      d[i].event_json = real_events[base + i];
      dp[i] = &d[i];
    }
    Tenet__CheckDeltas cd = TENET__CHECK_DELTAS__INIT;
    cd.policy_id = "real";
    cd.scan_id = 1;
    cd.checks = dp;
    cd.n_checks = n;
    Tenet__Envelope env = TENET__ENVELOPE__INIT;
    env.seq = s->next_seq++;
    env.body_case = TENET__ENVELOPE__BODY_CHECK_DELTAS;
    env.check_deltas = &cd;
    send_now(s, &env);
  }
}

/* A fresh store of the kind of c with one manager: nagents agents each send a CheckDeltas of 256
 * checks (the events of the ingest runs) — or the real events of --storage-events — and a first
 * scan of 4 checks with its summary; then the manager stops and each table's rows and bytes are
 * read from the store (SQLite: dbstat pages; PostgreSQL: pg_total_relation_size, heap + indexes
 * + TOAST). */
static void storage_measure(config *c, int nagents) {
  start_manager(c, 0);
  sim *s = calloc((size_t)nagents, sizeof *s);
  if (!s) fleet_die("out of memory");
  for (int i = 0; i < nagents; i++) {
    snprintf(s[i].id, sizeof s[i].id, "a%05d", i);
    sim_connect(&s[i], c->port[0]);
    if (nreal)
      queue_real_events(&s[i]);
    else
      queue_deltas(&s[i]);
    queue_seed_checks(&s[i]);
    queue_summary(&s[i], 1);
    flush_blocking(&s[i]);
  }
  for (int i = 0; i < nagents; i++)
    sync_sim(&s[i]);
  sims_free(s, nagents);
  usleep(500000); /* the disconnections recorded */
  stop_managers(c);
  char file[PATH_MAX + 48], out[16384], sql[512], tables[4096];
  snprintf(file, sizeof file, "%s/%s.db", dir, c->tag);
  if (c->pg)
    pgcluster_sql(&pg, c->db, "SELECT string_agg(relname, ' ' ORDER BY relname) FROM pg_stat_user_tables",
                  tables, sizeof tables);
  else
    sqlite_query(file,
                 "SELECT group_concat(name, ' ') FROM (SELECT name FROM sqlite_schema WHERE type = 'table' "
                 "AND name NOT LIKE 'sqlite_%' ORDER BY name)",
                 tables, sizeof tables);
  if (nreal)
    printf("storage, %s: %d agents, each sent the %zu check events of --storage-events and a first scan of 4 "
           "checks with its summary\n",
           c->name, nagents, nreal);
  else
    printf(
        "storage, %s: %d agents, each sent a CheckDeltas of 256 checks and a first scan of 4 checks with its "
        "summary\n",
        c->name, nagents);
  printf("  %-14s %10s %12s %10s\n", "table", "rows", "bytes", "bytes/row");
  double total = 0;
  for (char *save = NULL, *t = strtok_r(tables, " \n", &save); t; t = strtok_r(NULL, " \n", &save)) {
    long long rows = 0, bytes = 0;
    if (c->pg) {
      snprintf(sql, sizeof sql, "SELECT (SELECT count(*) FROM \"%s\"), pg_total_relation_size('\"%s\"')", t,
               t);
      pgcluster_sql(&pg, c->db, sql, out, sizeof out);
    } else {
      snprintf(sql, sizeof sql,
               "SELECT (SELECT count(*) FROM \"%s\"), (SELECT coalesce(sum(pgsize), 0) FROM dbstat "
               "WHERE name IN (SELECT name FROM sqlite_schema WHERE tbl_name = '%s'))",
               t, t);
      sqlite_query(file, sql, out, sizeof out);
    }
    if (sscanf(out, "%lld %lld", &rows, &bytes) != 2) fleet_die("cannot read the size of %s: %s", t, out);
    total += (double)bytes;
    printf("  %-14s %10lld %12lld %10.0f\n", t, rows, bytes, rows ? (double)bytes / (double)rows : 0.0);
  }
  long long n = 0, ev = 0;
  if (c->pg)
    pgcluster_sql(&pg, c->db, "SELECT count(*), sum(length(event)) FROM checks", out, sizeof out);
  else
    sqlite_query(file, "SELECT count(*), sum(length(event)) FROM checks", out, sizeof out);
  if (sscanf(out, "%lld %lld", &n, &ev) != 2) fleet_die("cannot read the checks: %s", out);
  if (c->pg)
    pgcluster_sql(&pg, c->db, "SELECT pg_total_relation_size('checks')", out, sizeof out);
  else
    sqlite_query(file,
                 "SELECT sum(pgsize) FROM dbstat WHERE name IN (SELECT name FROM sqlite_schema WHERE "
                 "tbl_name = 'checks')",
                 out, sizeof out);
  double cbytes = atof(out);
  printf("  all tables: %.0f bytes, %.0f per agent; a check row: %.0f bytes for an event of %.0f bytes on "
         "average (%.0f bytes beside the event)\n",
         total, total / nagents, cbytes / (double)n, (double)ev / (double)n,
         (cbytes - (double)ev) / (double)n);
  printf("RESULT storage=%s agents=%d check_rows=%lld bytes_total=%.0f bytes_per_agent=%.0f "
         "bytes_per_check=%.0f "
         "event_bytes_per_check=%.0f\n",
         c->pg ? "pg" : "sqlite", nagents, n, total, total / nagents, cbytes / (double)n,
         (double)ev / (double)n);
}

/* ---- main ---- */

static void usage(void) {
  fprintf(
      stderr,
      "usage: bench_manager [--store sqlite|pg|sqlite,pg] [--managers N[,N...]] [--manager PATH] [--agents "
      "N]\n"
      "                     [--stream-agents N] [--runs N] [--frames N] [--summaries N] [--durable yes|no]\n"
      "                     [--pg-set NAME=VALUE]... [--storage-agents N] [--storage-events FILE.jsonl] "
      "[--keep]\n");
  exit(2);
}

/* A comma-separated list of positive integers into v (at most max); returns how many. */
static int parse_list(const char *s, int *v, int max) {
  int n = 0;
  for (const char *p = s; *p;) {
    char *end;
    long x = strtol(p, &end, 10);
    if (end == p || x < 1 || x > MAX_MANAGERS || n == max || (*end && *end != ',')) return -1;
    v[n++] = (int)x;
    p = *end ? end + 1 : end;
  }
  return n;
}

int main(int argc, char **argv) {
  fleet_prog = "bench_manager";
  char manager[PATH_MAX + 64] = "";
  int agents = 1000, stream_agents = 8, runs = 5, keep = 0, storage_agents = 200;
  int use_sqlite = 1, use_pg = 0, mgrs[MAX_MANAGERS] = {1}, nmgrs = 1, nset = 0;
  const char *settings[32];
  int64_t frames = 60, summaries = 30;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
    if (!v && strcmp(a, "--keep") != 0) usage();
    if (strcmp(a, "--manager") == 0)
      snprintf(manager, sizeof manager, "%s", argv[++i]);
    else if (strcmp(a, "--store") == 0) {
      i++;
      use_sqlite = strcmp(v, "sqlite") == 0 || strcmp(v, "sqlite,pg") == 0 || strcmp(v, "pg,sqlite") == 0;
      use_pg = strcmp(v, "pg") == 0 || strcmp(v, "sqlite,pg") == 0 || strcmp(v, "pg,sqlite") == 0;
      if (!use_sqlite && !use_pg) fleet_die("--store takes sqlite, pg or sqlite,pg (not %s)", v);
    } else if (strcmp(a, "--managers") == 0) {
      if ((nmgrs = parse_list(argv[++i], mgrs, MAX_MANAGERS)) < 1)
        fleet_die("--managers takes a list of counts from 1 to %d (not %s)", MAX_MANAGERS, v);
    } else if (strcmp(a, "--pg-set") == 0) {
      if (nset == 32 || !strchr(v, '=')) fleet_die("--pg-set takes NAME=VALUE (at most 32 of them)");
      settings[nset++] = argv[++i];
    } else if (strcmp(a, "--agents") == 0)
      agents = atoi(argv[++i]);
    else if (strcmp(a, "--stream-agents") == 0)
      stream_agents = atoi(argv[++i]);
    else if (strcmp(a, "--runs") == 0)
      runs = atoi(argv[++i]);
    else if (strcmp(a, "--frames") == 0)
      frames = atoll(argv[++i]);
    else if (strcmp(a, "--summaries") == 0)
      summaries = atoll(argv[++i]);
    else if (strcmp(a, "--storage-events") == 0)
      real_events_load(argv[++i]);
    else if (strcmp(a, "--storage-agents") == 0)
      storage_agents = atoi(argv[++i]);
    else if (strcmp(a, "--durable") == 0)
      durable_opt = strcmp(argv[++i], "no") != 0;
    else if (strcmp(a, "--keep") == 0)
      keep = 1;
    else
      usage();
  }
  if (agents < 1 || stream_agents < 1 || runs < 1 || frames < 1 || summaries < 1 || storage_agents < 0)
    fleet_die("counts must be positive");
  if (use_sqlite && !use_pg && (nmgrs != 1 || mgrs[0] != 1))
    fleet_die("the SQLite store serves one manager (one writer per file): --managers needs --store pg");
  if (!manager[0]) { /* build/benches/bench_manager -> build/tenet-manager (or build/manager/) */
    char self[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n <= 0) fleet_die("cannot find myself; give --manager");
    self[n] = '\0';
    char *slash = strrchr(self, '/');
    if (slash) *slash = '\0';
    snprintf(manager, sizeof manager, "%s/../tenet-manager", self);
    if (access(manager, X_OK) != 0) snprintf(manager, sizeof manager, "%s/../manager/tenet-manager", self);
  }
  if (access(manager, X_OK) != 0) fleet_die("%s: not an executable (give --manager)", manager);
  manager_bin = manager;
  char pgbin[PATH_MAX];
  if (use_pg && pgcluster_find_bin(pgbin, sizeof pgbin) != 0)
    fleet_die(
        "PostgreSQL server not installed (apt-get install postgresql), or set TENET_PG_BIN to its bin/");
  signal(SIGPIPE, SIG_IGN);
  atexit(at_exit);
  signal(SIGINT, on_signal);
  signal(SIGTERM, on_signal);

  const char *tmp = getenv("TMPDIR");
  snprintf(dir, sizeof dir, "%s/tenet-bench-manager-XXXXXX", tmp && *tmp ? tmp : "/tmp");
  if (!mkdtemp(dir)) fleet_die("mkdtemp: %s", strerror(errno));
  snprintf(fleet_pki, sizeof fleet_pki, "%s/pki", dir);
  char err[512];
  pki_result res;
  if (pki_init(fleet_pki, NULL, NULL, &res, err, sizeof err) != TN_OK) fleet_die("%s", err);
  if (pki_issue_manager(fleet_pki, "localhost", NULL, 0, NULL, &res, err, sizeof err) != TN_OK)
    fleet_die("%s", err);
  double t0 = bench_now();
  int issued = agents > storage_agents ? agents : storage_agents;
  for (int i = 0; i < issued; i++) {
    char id[32];
    snprintf(id, sizeof id, "a%05d", i);
    fleet_issue(id);
  }
  for (int i = 0; i < stream_agents; i++) {
    char id[32];
    snprintf(id, sizeof id, "s%03d", i);
    fleet_issue(id);
  }
  fleet_issue("bytes");
  printf("bench_manager: %s (durable = %s), %ld CPUs; %d certificates issued in %.1f s\n", manager,
         durable_opt ? "yes" : "no", sysconf(_SC_NPROCESSORS_ONLN), issued + stream_agents + 1,
         bench_now() - t0);

  /* every configuration up, side by side */
  static config cs[MAX_CONFIGS];
  int nc = 0;
  if (use_pg) {
    pgcluster_start(&pg, pgbin, settings, nset);
    printf("PostgreSQL: %s, socket in %s, server pid %d", pgbin, pg.dir, (int)pg.postmaster);
    for (int i = 0; i < nset; i++)
      printf("%s%s", i ? ", " : "; ", settings[i]);
    printf("\n");
  }
  if (use_sqlite) config_init(&cs[nc++], 0, 1, "sqlite");
  for (int i = 0; use_pg && i < nmgrs && nc < MAX_CONFIGS; i++) {
    char tag[16];
    snprintf(tag, sizeof tag, "pg%d", mgrs[i]);
    config_init(&cs[nc++], 1, mgrs[i], tag);
  }
  for (int i = 0; i < nc; i++) {
    for (int k = 0; k < cs[i].nmgr; k++)
      start_manager(&cs[i], k);
    config_connect(&cs[i], stream_agents, agents);
    cs[i].ev = calloc((size_t)runs, sizeof *cs[i].ev);
    cs[i].sv = calloc((size_t)runs, sizeof *cs[i].sv);
    if (!cs[i].ev || !cs[i].sv) fleet_die("out of memory");
    printf("%-7s %d manager(s) up; %d streaming agents and %d agents connected and in sync in %.1f s;",
           cs[i].name, cs[i].nmgr, stream_agents, agents, cs[i].sync_s);
    for (int k = 0; k < cs[i].nmgr; k++)
      printf(" manager %d: %d descriptors", k + 1, cs[i].fds[k] = proc_fds(cs[i].mpid[k]));
    if (cs[i].pg) {
      pgcluster_cpu(&pg, PG_DB_PREFIX, cs[i].db, &cs[i].backends);
      printf("; PostgreSQL backends of %s: %d", cs[i].db, cs[i].backends);
    }
    printf("\n");
    fflush(stdout);
  }

  /* 1. check events, the configurations interleaved */
  int64_t per_run = (int64_t)stream_agents * frames * CHECKS_PER_FRAME;
  printf("check events: %d agents streaming CheckDeltas of %d checks (every result flips: stored, compared, "
         "alerted), 4 frames in flight each, %lld events per run and configuration\n",
         stream_agents, CHECKS_PER_FRAME, (long long)per_run);
  for (int r = 0; r < runs; r++)
    for (int j = 0; j < nc; j++) {
      config *c = &cs[r % 2 ? nc - 1 - j : j];
      c->ev[r] = measure(c, c->st, stream_agents, frames, q_deltas, (double)per_run);
      print_sample("events/s", r + 1, c, &c->ev[r]);
    }
  printf("check events, medians of %d runs:\n", runs);
  print_medians("events/s", cs, nc, runs, 1);
  if (use_pg) pg_profile("event", "events", cs, nc, 1, stream_agents, frames, (double)per_run);

  /* 2. summaries with every agent connected */
  printf(
      "summaries: %d connected agents per configuration, each sends %lld unchanged summaries per run, 4 in "
      "flight\n",
      agents, (long long)summaries);
  for (int r = 0; r < runs; r++)
    for (int j = 0; j < nc; j++) {
      config *c = &cs[r % 2 ? nc - 1 - j : j];
      c->sv[r] = measure(c, c->sims, agents, summaries, q_summary, (double)agents * (double)summaries);
      print_sample("summ/s", r + 1, c, &c->sv[r]);
    }
  printf("summaries, medians of %d runs:\n", runs);
  print_medians("summaries/s", cs, nc, runs, 0);
  if (use_pg)
    pg_profile("summary", "summaries", cs, nc, 0, agents, summaries, (double)agents * (double)summaries);

  /* 3. bytes of an unchanged scan (the store does not change them: measured on the first) */
  size_t frame = 0, rows = 0;
  uint64_t wire_out = 0, wire_in = 0;
  unchanged_scan_bytes(cs[0].port[0], &frame, &wire_out, &wire_in, &rows);
  printf(
      "unchanged scan of one policy (190 checks): %zu message, %zu bytes as a frame; on the wire %llu bytes "
      "agent -> manager (TLS 1.3 record), %llu bytes manager -> agent (the Ack) (target <= 200)\n",
      rows, frame, (unsigned long long)wire_out, (unsigned long long)wire_in);

  for (int i = 0; i < nc; i++) {
    sims_free(cs[i].st, stream_agents);
    sims_free(cs[i].sims, agents);
    stop_managers(&cs[i]);
  }
  for (int i = 0; i < nc; i++)
    printf("RESULT store=%s managers=%d check_events_per_s=%.0f summaries_per_s=%.0f agents=%d "
           "events_cpu_managers_s=%.2f events_cpu_pg_s=%.2f events_wall_s=%.2f summaries_cpu_managers_s=%.2f "
           "summaries_cpu_pg_s=%.2f summaries_wall_s=%.2f unchanged_scan_frame_bytes=%zu "
           "unchanged_scan_wire_bytes=%llu\n",
           cs[i].pg ? "pg" : "sqlite", cs[i].nmgr, MEDIAN(cs[i].ev, runs, rate), MEDIAN(cs[i].sv, runs, rate),
           agents, MEDIAN(cs[i].ev, runs, mgr), MEDIAN(cs[i].ev, runs, pg), MEDIAN(cs[i].ev, runs, wall),
           MEDIAN(cs[i].sv, runs, mgr), MEDIAN(cs[i].sv, runs, pg), MEDIAN(cs[i].sv, runs, wall), frame,
           (unsigned long long)wire_out);
  fflush(stdout);

  /* 4. storage, on fresh stores */
  if (storage_agents > 0) {
    static config sc;
    if (use_sqlite) {
      config_init(&sc, 0, 1, "sqlite_storage");
      storage_measure(&sc, storage_agents);
    }
    if (use_pg) {
      config_init(&sc, 1, 1, "pg_storage");
      storage_measure(&sc, storage_agents);
    }
  }

  finished = 1;
  nrunning = 0; /* every manager has stopped */
  if (use_pg) pgcluster_stop(&pg, 0);
  if (keep)
    printf("kept %s\n", dir);
  else
    nftw(dir, fleet_rm_entry, 16, FTW_DEPTH | FTW_PHYS);
  for (int i = 0; i < nc; i++) {
    free(cs[i].ev);
    free(cs[i].sv);
  }
  return 0;
}
