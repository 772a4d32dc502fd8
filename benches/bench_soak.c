/* bench_soak.c — the manager under a hostile fleet for a bounded time: one real tenet-manager
 * process on 127.0.0.1 (its descriptor limit lowered to --nofile), N simulated agents in this
 * process over loopback TLS 1.3 (their own certificates, frames from the real codec) each sending an
 * unchanged ScanSummary every --interval seconds, and a hostile process running issue 8's items 4-7
 * at once from other loopback addresses:
 *
 *   flood      raw TCP connections that never start TLS, opened 20 every 100 ms and held (up to
 *              --held at a time), from 40 source addresses: descriptors and the pre-auth budget
 *   policies   an agent certificate sending a Hello naming 65,536 policies, then a PolicyList of
 *              65,536, once a second each (refused), and a PolicyList at the cap (applied)
 *   dribblers  8 agent certificates each holding a connection that sends a frame header then one
 *              byte a second (closed by frame_timeout, reconnected)
 *
 * Reported: good agents' summary round trips (send to Ack) p50/p99/max, the manager's RSS, open
 * descriptors and CPU sampled every second (a row every 5 s), and the hostile work done.
 * Usage:
 *   bench_soak [--manager PATH] [--agents 1000] [--duration 60] [--interval 2] [--nofile 1400]
 *              [--held 600] [--no-hostile]
 * The manager defaults to ../tenet-manager from this program's directory (the build tree's top). */
#include <arpa/inet.h>
#include <errno.h>
#include <dirent.h>
#include <ftw.h>
#include <limits.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench_fleet.h"
#include "bench_util.h"
#include "codec.h"
#include "err.h"
#include "frame.h"
#include "pki.h"
#include "strbuf.h"
#include "tls.h"

#define SEED_HASH "1642ab1dc478052ac3556b5e700cd82adb69728008301882b9cbee0696ff2c84"
#define BUNDLE_HASH "e04b3b8913840d18aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define NDRIBBLE 8

static char dir[PATH_MAX];

static void raise_nofile(void) {
  struct rlimit r;
  if (getrlimit(RLIMIT_NOFILE, &r) == 0 && r.rlim_cur < r.rlim_max) {
    r.rlim_cur = r.rlim_max;
    setrlimit(RLIMIT_NOFILE, &r);
  }
}

static void encode(strbuf *out, Tenet__Envelope *env) {
  char err[256];
  if (codec_encode_framed(env, out, FRAME_MAX_DEFAULT, err, sizeof err) != TN_OK) fleet_die("encode: %s", err);
}

/* A blocking TLS connection as id with a Hello naming npol policies (NULL on failure). */
static tls_conn *connect_as(const char *id, int port, size_t npol, char **ids, int timeout_ms) {
  tls_ctx *ctx = fleet_client_ctx(id);
  int fd;
  char err[256];
  tls_conn *c = NULL;
  if (tls_tcp_connect("127.0.0.1", port, timeout_ms, &fd, err, sizeof err) == TN_OK) {
    tls_tcp_timeout(fd, timeout_ms, NULL, 0);
    c = tls_conn_new(ctx, fd, "127.0.0.1", err, sizeof err);
  }
  tls_ctx_free(ctx);
  if (!c) return NULL;
  if (tls_conn_handshake(c, err, sizeof err) != TN_OK) {
    tls_conn_free(c);
    return NULL;
  }
  static uint8_t zero[32];
  Tenet__PolicyInfo *infos = npol ? calloc(npol, sizeof *infos) : NULL,
                    **ip = npol ? calloc(npol, sizeof *ip) : NULL;
  for (size_t i = 0; i < npol; i++) {
    tenet__policy_info__init(&infos[i]);
    infos[i].policy_id = ids[i];
    infos[i].policy_version = 1;
    infos[i].bundle_hash.data = zero;
    infos[i].bundle_hash.len = sizeof zero;
    ip[i] = &infos[i];
  }
  Tenet__Hello h = TENET__HELLO__INIT;
  h.protocol = CODEC_PROTOCOL_VERSION;
  h.agent_id = (char *)id;
  h.agent_version = "soak";
  h.n_policies = npol;
  h.policies = ip;
  Tenet__Envelope env = TENET__ENVELOPE__INIT;
  env.body_case = TENET__ENVELOPE__BODY_HELLO;
  env.hello = &h;
  strbuf b = STRBUF_INIT;
  encode(&b, &env);
  int rc = tls_conn_write_all(c, b.data, b.len, err, sizeof err);
  strbuf_free(&b);
  free(infos);
  free(ip);
  if (rc != TN_OK) {
    tls_conn_free(c);
    return NULL;
  }
  return c;
}

/* ---- a good agent ---- */

typedef struct sim {
  char id[32];
  tls_conn *conn;
  frame_decoder *dec;
  strbuf out;
  size_t off;
  uint64_t next_seq, acked;
  double sent_at, due; /* the summary in flight (sent_at > 0) and when the next is due */
  int want_write;
} sim;

static void queue_seed(sim *s) {
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
  encode(&s->out, &env);
}

static void queue_summary(sim *s) {
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
  sum.policy_name = "Seed policy";
  Tenet__Envelope env = TENET__ENVELOPE__INIT;
  env.seq = s->next_seq++;
  env.body_case = TENET__ENVELOPE__BODY_SCAN_SUMMARY;
  env.scan_summary = &sum;
  encode(&s->out, &env);
}

/* Read what arrived; returns 1 when an Ack covering everything sent came. */
static int sim_read(sim *s) {
  int all = 0;
  for (;;) {
    const uint8_t *p;
    size_t len;
    char err[256];
    int rc = tls_conn_read_frame(s->conn, s->dec, &p, &len, err, sizeof err);
    if (rc == TLS_WANT_READ || rc == TLS_WANT_WRITE) return all;
    if (rc != TN_OK) fleet_die("agent %s: read: %s", s->id, err);
    Tenet__Envelope *m;
    if (codec_decode(p, len, FRAME_MAX_DEFAULT, &m, err, sizeof err) != TN_OK) fleet_die("decode: %s", err);
    if (m->body_case == TENET__ENVELOPE__BODY_ACK && m->ack->seq > s->acked) {
      s->acked = m->ack->seq;
      if (s->acked == s->next_seq - 1) all = 1;
    }
    codec_free(m);
  }
}

static void sim_flush(sim *s) {
  char err[256];
  size_t w;
  int rc = TN_OK;
  while (s->off < s->out.len && (rc = tls_conn_write(s->conn, s->out.data + s->off, s->out.len - s->off, &w,
                                                     err, sizeof err)) == TN_OK)
    s->off += w;
  if (s->off >= s->out.len) {
    strbuf_reset(&s->out);
    s->off = 0;
  } else if (rc != TLS_WANT_WRITE && rc != TLS_WANT_READ) {
    fleet_die("agent %s: write: %s", s->id, err);
  }
}

/* ---- the hostile process ---- */

static int raw_connect(int port, int host) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) return -1;
  struct sockaddr_in src = {0}, dst = {0};
  src.sin_family = AF_INET;
  src.sin_addr.s_addr = htonl(0x7f000000u | (uint32_t)host);
  dst.sin_family = AF_INET;
  dst.sin_port = htons((uint16_t)port);
  dst.sin_addr.s_addr = htonl(0x7f000001u);
  if (bind(fd, (struct sockaddr *)&src, sizeof src) != 0 ||
      (connect(fd, (struct sockaddr *)&dst, sizeof dst) != 0 && errno != EINPROGRESS)) {
    close(fd);
    return -1;
  }
  return fd;
}

static volatile sig_atomic_t hostile_stop;
static void on_term(int sig) { hostile_stop = sig; }

static void hostile(int port, int held_max, const char *stats_path) {
  signal(SIGTERM, on_term);
  raise_nofile();
  enum { N = 65536 };
  char(*ids)[16] = malloc(N * sizeof *ids);
  char **ptrs = malloc(N * sizeof *ptrs);
  if (!ids || !ptrs) fleet_die("out of memory");
  for (int i = 0; i < N; i++) {
    snprintf(ids[i], sizeof ids[i], "p%05d", i);
    ptrs[i] = ids[i];
  }
  int *held = calloc((size_t)held_max, sizeof *held), nheld = 0, head = 0;
  tls_conn *drib[NDRIBBLE] = {0};
  unsigned long long opened = 0, floods = 0, lists = 0, capped = 0, dribbles = 0;
  double last_policy = 0, last_drip = 0;
  int host = 0;
  while (!hostile_stop) {
    double now = bench_now();
    for (int i = 0; i < 20; i++) { /* flood */
      int fd = raw_connect(port, 2 + host++ % 40);
      if (fd < 0) continue;
      opened++;
      if (nheld == held_max) {
        close(held[head]);
        held[head] = fd;
        head = (head + 1) % held_max;
      } else {
        held[nheld++] = fd;
      }
    }
    if (now - last_policy >= 1.0) { /* 65,536 policies in Hello, then in a PolicyList */
      last_policy = now;
      tls_conn *c = connect_as("hostile", port, N, ptrs, 3000);
      if (c) {
        floods++;
        tls_conn_free(c);
      }
      if ((c = connect_as("hostile", port, 0, NULL, 3000))) {
        for (int k = 0; k < 2; k++) {
          Tenet__PolicyList pl = TENET__POLICY_LIST__INIT;
          pl.n_policy_ids = k ? 1024 : N; /* at the cap first (applied), then 64 times it */
          pl.policy_ids = ptrs;
          Tenet__Envelope env = TENET__ENVELOPE__INIT;
          env.seq = (uint64_t)(now * 1000) + (uint64_t)k;
          env.body_case = TENET__ENVELOPE__BODY_POLICY_LIST;
          env.policy_list = &pl;
          strbuf b = STRBUF_INIT;
          encode(&b, &env);
          char err[256];
          if (tls_conn_write_all(c, b.data, b.len, err, sizeof err) == TN_OK) k ? lists++ : capped++;
          strbuf_free(&b);
        }
        tls_conn_free(c);
      }
    }
    if (now - last_drip >= 1.0) { /* partial frames, one byte a second */
      last_drip = now;
      for (int i = 0; i < NDRIBBLE; i++) {
        char err[256];
        uint8_t b = 1;
        if (drib[i] && tls_conn_write_all(drib[i], &b, 1, err, sizeof err) != TN_OK) {
          tls_conn_free(drib[i]);
          drib[i] = NULL;
        }
        if (!drib[i]) {
          char id[32];
          snprintf(id, sizeof id, "dribble%d", i);
          if ((drib[i] = connect_as(id, port, 0, NULL, 3000))) {
            const uint8_t hdr[] = {0, 0, 0, 200};
            if (tls_conn_write_all(drib[i], hdr, sizeof hdr, err, sizeof err) == TN_OK) dribbles++;
          }
        }
      }
    }
    usleep(100000);
  }
  FILE *f = fopen(stats_path, "w");
  if (f) {
    fprintf(
        f,
        "hostile: %llu raw connections opened (%d held at a time), %llu Hellos and %llu PolicyLists of 65536 "
        "policies, %llu PolicyLists of 1024, %llu dribbling connections\n",
        opened, held_max, floods, lists, capped, dribbles);
    fclose(f);
  }
  _exit(0);
}

/* ---- the manager process ---- */

static pid_t start_manager(const char *bin, int nofile, int *port) {
  char conf[PATH_MAX + 32], portfile[PATH_MAX + 32];
  snprintf(conf, sizeof conf, "%s/manager.conf", dir);
  snprintf(portfile, sizeof portfile, "%s/port", dir);
  FILE *f = fopen(conf, "w");
  if (!f) fleet_die("cannot write %s", conf);
  fprintf(
      f,
      "listen = 127.0.0.1:0\ncert = %s/manager.crt\nkey = %s/manager.key\nca = %s/ca.crt\ncrl = %s/crl.pem\n"
      "state_db = %s/manager.db\nalerts_file = %s/alerts.json\nlog_file = %s/manager.log\nlog_level = info\n"
      "port_file = %s\ndurable = yes\nmax_connections = 10000\nhandshake_timeout = 5s\nframe_timeout = 5s\n",
      fleet_pki, fleet_pki, fleet_pki, fleet_pki, dir, dir, dir, portfile);
  fclose(f);
  pid_t pid = fork();
  if (pid == 0) {
    struct rlimit r = {(rlim_t)nofile, (rlim_t)nofile};
    if (nofile > 0 && setrlimit(RLIMIT_NOFILE, &r) != 0) _exit(126);
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

typedef struct sample {
  long rss_kb, fds;
  long long ticks;
} sample;

static sample take_sample(pid_t pid) {
  sample s = {-1, 0, -1};
  char path[64], line[256];
  snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
  FILE *f = fopen(path, "r");
  if (f) {
    while (fgets(line, sizeof line, f))
      if (sscanf(line, "VmRSS: %ld", &s.rss_kb) == 1) break;
    fclose(f);
  }
  snprintf(path, sizeof path, "/proc/%d/fd", (int)pid);
  DIR *d = opendir(path);
  if (d) {
    for (struct dirent *e; (e = readdir(d));)
      s.fds += e->d_name[0] != '.';
    closedir(d);
  }
  snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
  if ((f = fopen(path, "r"))) {
    char buf[1024];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    buf[n] = '\0';
    char *p = strrchr(buf, ')');
    long long ut, st;
    if (p && sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lld %lld", &ut, &st) == 2)
      s.ticks = ut + st;
    fclose(f);
  }
  return s;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

int main(int argc, char **argv) {
  fleet_prog = "bench_soak";
  char manager[PATH_MAX + 64] = "";
  int agents = 1000, nofile = 1400, held_max = 600, with_hostile = 1;
  double duration = 60, interval = 2;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
    if (strcmp(a, "--manager") == 0 && v)
      snprintf(manager, sizeof manager, "%s", argv[++i]);
    else if (strcmp(a, "--agents") == 0 && v)
      agents = atoi(argv[++i]);
    else if (strcmp(a, "--duration") == 0 && v)
      duration = atof(argv[++i]);
    else if (strcmp(a, "--interval") == 0 && v)
      interval = atof(argv[++i]);
    else if (strcmp(a, "--nofile") == 0 && v)
      nofile = atoi(argv[++i]);
    else if (strcmp(a, "--held") == 0 && v)
      held_max = atoi(argv[++i]);
    else if (strcmp(a, "--no-hostile") == 0)
      with_hostile = 0;
    else {
      fprintf(stderr,
              "usage: bench_soak [--manager PATH] [--agents N] [--duration S] [--interval S] [--nofile N] "
              "[--held N] [--no-hostile]\n");
      return 2;
    }
  }
  if (agents < 1 || agents > 100000 || duration <= 0 || duration > 3600 || interval <= 0 || held_max < 1 ||
      held_max > 100000)
    fleet_die("out of range: 1-100000 agents, a duration of at most 3600 s, a positive interval, 1-100000 held");
  if (!manager[0]) {
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
  raise_nofile();

  const char *tmp = getenv("TMPDIR");
  snprintf(dir, sizeof dir, "%s/tenet-bench-soak-XXXXXX", tmp && *tmp ? tmp : "/tmp");
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
  fleet_issue("hostile");
  for (int i = 0; i < NDRIBBLE; i++) {
    char id[32];
    snprintf(id, sizeof id, "dribble%d", i);
    fleet_issue(id);
  }
  fleet_issue("revoked");
  int already;
  pki_revoked rv;
  if (pki_revoke(fleet_pki, "revoked", &already, &rv, err, sizeof err) != TN_OK) fleet_die("%s", err);
  printf("bench_soak: %s, %ld CPUs; %d certificates issued in %.1f s\n", manager,
         sysconf(_SC_NPROCESSORS_ONLN), agents + NDRIBBLE + 2, bench_now() - t0);

  int port;
  pid_t mpid = start_manager(manager, nofile, &port);
  sim *sims = calloc((size_t)agents, sizeof *sims);
  t0 = bench_now();
  for (int i = 0; i < agents; i++) {
    sim *s = &sims[i];
    snprintf(s->id, sizeof s->id, "a%05d", i);
    if (!(s->conn = connect_as(s->id, port, 0, NULL, 30000))) fleet_die("agent %s cannot connect", s->id);
    if (!(s->dec = frame_decoder_new(0))) fleet_die("out of memory");
    s->next_seq = 1;
    tls_tcp_nonblock(tls_conn_fd(s->conn), 1, err, sizeof err);
    queue_seed(s);
    queue_summary(s);
    sim_flush(s);
  }
  for (int i = 0; i < agents; i++) { /* every agent in sync before the clock starts */
    sim *s = &sims[i];
    double give_up = bench_now() + 30;
    while (s->acked < s->next_seq - 1) {
      struct pollfd pfd = {tls_conn_fd(s->conn), (short)(POLLIN | (s->off < s->out.len ? POLLOUT : 0)), 0};
      poll(&pfd, 1, 100);
      sim_flush(s);
      sim_read(s);
      if (bench_now() > give_up) fleet_die("agent %s: no Ack for its seed within 30 s", s->id);
    }
  }
  printf("%d agents connected and in sync in %.1f s; each sends an unchanged summary every %.1f s for %.0f s "
         "(manager RLIMIT_NOFILE %d)\n",
         agents, bench_now() - t0, interval, duration, nofile);

  char stats[PATH_MAX + 32];
  snprintf(stats, sizeof stats, "%s/hostile.txt", dir);
  pid_t hpid = -1;
  if (with_hostile) {
    fflush(stdout);
    if ((hpid = fork()) == 0) hostile(port, held_max, stats);
    if (hpid < 0) fleet_die("fork: %s", strerror(errno));
  }

  int ep = epoll_create1(EPOLL_CLOEXEC);
  for (int i = 0; i < agents; i++) {
    struct epoll_event ev = {.events = EPOLLIN, .data.u32 = (uint32_t)i};
    epoll_ctl(ep, EPOLL_CTL_ADD, tls_conn_fd(sims[i].conn), &ev);
    sims[i].due = bench_now() + interval * (double)i / (double)agents; /* staggered */
  }
  size_t nlat = 0, caplat = 1024;
  double *lat = malloc(caplat * sizeof *lat);
  long tck = sysconf(_SC_CLK_TCK);
  sample first = take_sample(mpid), prev = first, last = first;
  long rss_max = first.rss_kb, fds_max = first.fds, fds_min = first.fds;
  double start = bench_now(), next_sample = start + 1, prev_t = start;
  int second = 0;
  printf("     t   RSS (KiB)   fds   CPU%%   acks\n");
  printf("  %4d  %10ld  %4ld   %4s  %5d\n", 0, first.rss_kb, first.fds, "-", 0);
  size_t acks_at_row = 0;
  struct epoll_event evs[256];
  for (;;) {
    double now = bench_now();
    if (now - start >= duration) break;
    for (int i = 0; i < agents; i++) {
      sim *s = &sims[i];
      if (s->sent_at == 0 && now >= s->due) {
        queue_summary(s);
        s->sent_at = now;
        s->due = now + interval;
      }
      if (s->off < s->out.len) sim_flush(s);
      int ww = s->off < s->out.len;
      if (ww != s->want_write) {
        struct epoll_event ev = {.events = EPOLLIN | (ww ? EPOLLOUT : 0), .data.u32 = (uint32_t)i};
        epoll_ctl(ep, EPOLL_CTL_MOD, tls_conn_fd(s->conn), &ev);
        s->want_write = ww;
      }
    }
    int k = epoll_wait(ep, evs, 256, 10);
    for (int e = 0; e < k; e++) {
      sim *s = &sims[evs[e].data.u32];
      if (sim_read(s) && s->sent_at > 0) {
        if (nlat == caplat && !(lat = realloc(lat, (caplat *= 2) * sizeof *lat))) fleet_die("out of memory");
        lat[nlat++] = bench_now() - s->sent_at;
        s->sent_at = 0;
      }
    }
    if ((now = bench_now()) >= next_sample) {
      second++;
      next_sample += 1;
      last = take_sample(mpid);
      if (last.rss_kb > rss_max) rss_max = last.rss_kb;
      if (last.fds > fds_max) fds_max = last.fds;
      if (last.fds < fds_min) fds_min = last.fds;
      if (second % 5 == 0) {
        printf("  %4d  %10ld  %4ld  %5.1f  %5zu\n", second, last.rss_kb, last.fds,
               100.0 * (double)(last.ticks - prev.ticks) / (double)tck / (now - prev_t), nlat - acks_at_row);
        prev = last;
        prev_t = now;
        acks_at_row = nlat;
      }
    }
  }
  double elapsed = bench_now() - start;
  sample end = take_sample(mpid);
  size_t outstanding = 0;
  for (int i = 0; i < agents; i++)
    outstanding += sims[i].sent_at > 0;
  if (hpid > 0) {
    kill(hpid, SIGTERM);
    waitpid(hpid, NULL, 0);
    size_t len;
    char *h = bench_read_file(stats, &len);
    if (h) printf("%s", h);
    free(h);
  }
  qsort(lat, nlat, sizeof *lat, cmp_double);
  double p50 = nlat ? lat[nlat / 2] : 0, p99 = nlat ? lat[(size_t)((double)nlat * 0.99)] : 0,
         mx = nlat ? lat[nlat - 1] : 0;
  double cpu = (double)(end.ticks - first.ticks) / (double)tck;
  printf("summaries acknowledged: %zu in %.0f s (%zu still in flight at the end); round trip p50 %.1f ms, "
         "p99 %.1f "
         "ms, max %.1f ms (target p99 < 1000 ms)\n",
         nlat, elapsed, outstanding, p50 * 1e3, p99 * 1e3, mx * 1e3);
  printf("manager: RSS %ld KiB at the start, %ld at the end, %ld at most; open descriptors %ld at the start, "
         "%ld "
         "at the end, %ld-%ld; CPU %.1f s (%.0f%% of one core)\n",
         first.rss_kb, end.rss_kb, rss_max, first.fds, end.fds, fds_min, fds_max, cpu, 100 * cpu / elapsed);
  char logp[PATH_MAX + 32];
  snprintf(logp, sizeof logp, "%s/manager.log", dir);
  struct stat lst;
  long loglen = stat(logp, &lst) == 0 ? (long)lst.st_size : -1;
  printf("manager log: %ld bytes\n", loglen);
  printf("RESULT agents=%d duration_s=%.0f acks=%zu p50_ms=%.1f p99_ms=%.1f max_ms=%.1f rss_start_kb=%ld "
         "rss_end_kb=%ld fds_start=%ld fds_end=%ld cpu_pct=%.0f\n",
         agents, elapsed, nlat, p50 * 1e3, p99 * 1e3, mx * 1e3, first.rss_kb, end.rss_kb, first.fds, end.fds,
         100 * cpu / elapsed);
  for (int i = 0; i < agents; i++) {
    tls_conn_free(sims[i].conn);
    frame_decoder_free(sims[i].dec);
    strbuf_free(&sims[i].out);
  }
  free(sims);
  free(lat);
  close(ep);
  kill(mpid, SIGTERM);
  int status;
  waitpid(mpid, &status, 0);
  if (getenv("BENCH_KEEP"))
    printf("kept %s\n", dir);
  else
    nftw(dir, fleet_rm_entry, 16, FTW_DEPTH | FTW_PHYS);
  return 0;
}
