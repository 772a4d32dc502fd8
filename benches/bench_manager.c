/* bench_manager.c — the manager under load: a real tenet-manager process on 127.0.0.1 and simulated
 * agents in this process, each with its own certificate, talking TLS 1.3 like tenet-agent does
 * (frames from the real codec, acknowledged by the real manager). Three measurements:
 *
 *   check events/s   K agents stream CheckDeltas of 256 checks whose results all flip every time
 *                    (so every event is stored, compared and alerted), W frames in flight each;
 *                    events counted when acknowledged (= committed)
 *   summaries/s      1,000 connected agents send unchanged ScanSummaries (the manager recomputes
 *                    each policy's results hash from its store and compares)
 *   bytes on the wire for an unchanged scan of one policy: the frame the agent's outbox
 *                    (agent/outbox.c) builds for it, and the TCP payload it takes inside TLS
 *                    (and the Ack back), measured with TCP_INFO
 *
 * Medians of --runs runs. Usage:
 *   bench_manager [--manager PATH] [--agents 1000] [--stream-agents 8] [--runs 5] [--frames 60]
 *                 [--summaries 30] [--durable yes|no]
 * The manager defaults to ../tenet-manager from this program's directory (the build tree's top). */
#include <errno.h>
#include <ftw.h>
#include <stdarg.h>
#include <limits.h>
#include <netinet/in.h>
#include <linux/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <sys/epoll.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench_fleet.h"
#include "bench_util.h"
#include "codec.h"
#include "err.h"
#include "eval.h"
#include "frame.h"
#include "outbox.h"
#include "pki.h"
#include "tls.h"

#define POLICY "bench"
#define CHECKS_PER_FRAME 256

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
  if (codec_encode_framed(env, &s->out, FRAME_MAX_DEFAULT, err, sizeof err) != TN_OK) fleet_die("encode: %s", err);
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
        if (codec_decode(p, len, FRAME_MAX_DEFAULT, &m, err, sizeof err) != TN_OK) fleet_die("decode: %s", err);
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

/* ---- the manager process ---- */

static pid_t start_manager(const char *bin, int durable, int *port) {
  char conf[PATH_MAX + 32], portfile[PATH_MAX + 32];
  snprintf(conf, sizeof conf, "%s/manager.conf", dir);
  snprintf(portfile, sizeof portfile, "%s/port", dir);
  FILE *f = fopen(conf, "w");
  if (!f) fleet_die("cannot write %s", conf);
  fprintf(
      f,
      "listen = 127.0.0.1:0\ncert = %s/manager.crt\nkey = %s/manager.key\nca = %s/ca.crt\n"
      "state_db = %s/manager.db\nalerts_file = %s/alerts.json\nlog_file = %s/manager.log\nlog_level = info\n"
      "port_file = %s\ndurable = %s\nmax_connections = 5000\n",
      fleet_pki, fleet_pki, fleet_pki, dir, dir, dir, portfile, durable ? "yes" : "no");
  fclose(f);
  pid_t pid = fork();
  if (pid == 0) {
    execl(bin, bin, "-c", conf, "-f", (char *)NULL);
    _exit(127);
  }
  for (int i = 0; i < 200; i++) {
    size_t len;
    char *p = bench_read_file(portfile, &len);
    if (p && atoi(p) > 0) {
      *port = atoi(p);
      free(p);
      return pid;
    }
    free(p);
    usleep(50000);
  }
  fleet_die("the manager did not start (see %s/manager.log)", dir);
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

/* ---- main ---- */

int main(int argc, char **argv) {
  fleet_prog = "bench_manager";
  char manager[PATH_MAX + 64] = "";
  int agents = 1000, stream_agents = 8, runs = 5, durable = 1, keep = 0;
  int64_t frames = 60, summaries = 30;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
    if (strcmp(a, "--manager") == 0 && v)
      snprintf(manager, sizeof manager, "%s", argv[++i]);
    else if (strcmp(a, "--agents") == 0 && v)
      agents = atoi(argv[++i]);
    else if (strcmp(a, "--stream-agents") == 0 && v)
      stream_agents = atoi(argv[++i]);
    else if (strcmp(a, "--runs") == 0 && v)
      runs = atoi(argv[++i]);
    else if (strcmp(a, "--frames") == 0 && v)
      frames = atoll(argv[++i]);
    else if (strcmp(a, "--summaries") == 0 && v)
      summaries = atoll(argv[++i]);
    else if (strcmp(a, "--durable") == 0 && v)
      durable = strcmp(argv[++i], "no") != 0;
    else if (strcmp(a, "--keep") == 0)
      keep = 1;
    else {
      fprintf(
          stderr,
          "usage: bench_manager [--manager PATH] [--agents N] [--stream-agents N] [--runs N] [--frames N] "
          "[--summaries N] [--durable yes|no] [--keep]\n");
      return 2;
    }
  }
  if (agents < 1 || stream_agents < 1 || runs < 1 || frames < 1 || summaries < 1)
    fleet_die("counts must be positive");
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
  signal(SIGPIPE, SIG_IGN);

  const char *tmp = getenv("TMPDIR");
  snprintf(dir, sizeof dir, "%s/tenet-bench-manager-XXXXXX", tmp && *tmp ? tmp : "/tmp");
  if (!mkdtemp(dir)) fleet_die("mkdtemp: %s", strerror(errno));
  snprintf(fleet_pki, sizeof fleet_pki, "%s/pki", dir);
  char err[512];
  pki_result res;
  if (pki_init(fleet_pki, NULL, NULL, &res, err, sizeof err) != TN_OK) fleet_die("%s", err);
  if (pki_issue_manager(fleet_pki, "localhost", NULL, 0, NULL, &res, err, sizeof err) != TN_OK) fleet_die("%s", err);
  double t0 = bench_now();
  for (int i = 0; i < agents; i++) {
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
         durable ? "yes" : "no", sysconf(_SC_NPROCESSORS_ONLN), agents + stream_agents + 1, bench_now() - t0);

  int port;
  pid_t mpid = start_manager(manager, durable, &port);

  /* 1. check events */
  sim *st = calloc((size_t)stream_agents, sizeof *st);
  for (int i = 0; i < stream_agents; i++) {
    snprintf(st[i].id, sizeof st[i].id, "s%03d", i);
    sim_connect(&st[i], port);
  }
  drive(st, stream_agents, 2, 4, q_deltas); /* the rows exist from now on */
  double *ev = calloc((size_t)runs, sizeof *ev);
  int64_t per_run = (int64_t)stream_agents * frames * CHECKS_PER_FRAME;
  printf("check events: %d agents streaming CheckDeltas of %d checks (every result flips: stored, compared, "
         "alerted), "
         "4 frames in flight each, %lld events per run\n",
         stream_agents, CHECKS_PER_FRAME, (long long)per_run);
  for (int r = 0; r < runs; r++) {
    double dt = drive(st, stream_agents, frames, 4, q_deltas);
    ev[r] = (double)per_run / dt;
    printf("  run %d: %.0f events/s (%.2f s)\n", r + 1, ev[r], dt);
  }
  double ev_med = bench_median(ev, runs);
  printf("  median: %.0f check events/s (target >= 50000)\n", ev_med);
  for (int i = 0; i < stream_agents; i++) {
    tls_conn_free(st[i].conn);
    frame_decoder_free(st[i].dec);
    strbuf_free(&st[i].out);
  }

  /* 2. summaries with every agent connected */
  sim *sims = calloc((size_t)agents, sizeof *sims);
  t0 = bench_now();
  for (int i = 0; i < agents; i++) {
    snprintf(sims[i].id, sizeof sims[i].id, "a%05d", i);
    sim_connect(&sims[i], port);
  }
  for (int i = 0; i < agents; i++) { /* every agent's first scan: 4 checks and their summary */
    queue_seed_checks(&sims[i]);
    queue_summary(&sims[i], 1);
    flush_blocking(&sims[i]);
  }
  for (int i = 0; i < agents; i++)
    sync_sim(&sims[i]);
  printf("summaries: %d agents connected and in sync in %.1f s; each sends %lld unchanged summaries per run, "
         "4 in flight\n",
         agents, bench_now() - t0, (long long)summaries);
  double *sv = calloc((size_t)runs, sizeof *sv);
  for (int r = 0; r < runs; r++) {
    double dt = drive(sims, agents, summaries, 4, q_summary);
    sv[r] = (double)agents * (double)summaries / dt;
    printf("  run %d: %.0f summaries/s (%.2f s)\n", r + 1, sv[r], dt);
  }
  double sv_med = bench_median(sv, runs);
  printf("  median: %.0f summaries/s with %d connected agents\n", sv_med, agents);

  /* 3. bytes of an unchanged scan */
  size_t frame = 0, rows = 0;
  uint64_t wire_out = 0, wire_in = 0;
  unchanged_scan_bytes(port, &frame, &wire_out, &wire_in, &rows);
  printf(
      "unchanged scan of one policy (190 checks): %zu message, %zu bytes as a frame; on the wire %llu bytes "
      "agent -> manager (TLS 1.3 record), %llu bytes manager -> agent (the Ack) (target <= 200)\n",
      rows, frame, (unsigned long long)wire_out, (unsigned long long)wire_in);

  for (int i = 0; i < agents; i++) {
    tls_conn_free(sims[i].conn);
    frame_decoder_free(sims[i].dec);
    strbuf_free(&sims[i].out);
  }
  kill(mpid, SIGTERM);
  waitpid(mpid, NULL, 0);
  printf("RESULT check_events_per_s=%.0f summaries_per_s=%.0f agents=%d unchanged_scan_frame_bytes=%zu "
         "unchanged_scan_wire_bytes=%llu\n",
         ev_med, sv_med, agents, frame, (unsigned long long)wire_out);
  if (keep)
    printf("kept %s\n", dir);
  else
    nftw(dir, fleet_rm_entry, 16, FTW_DEPTH | FTW_PHYS);
  free(st);
  free(sims);
  free(ev);
  free(sv);
  return 0;
}
