/* session.c — the agent's connection to the manager (see session.h). */
#include "session.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "codec.h"
#include "daemon_log.h"
#include "err.h"
#include "failover.h"
#include "frame.h"
#include "outbox.h"
#include "strbuf.h"
#include "tls.h"

#define AGENT_VERSION "0.1.0"
#define FETCH_ROWS 64

/* One frame sent and not yet acknowledged. */
typedef struct inflight {
  uint64_t seq;
  size_t len;
} inflight;

struct agent_session {
  const agent_config *cfg;
  const agent_trust *trust;
  agent_store *store;
  tls_ctx *ctx;
  /* the connection (NULL while disconnected) */
  tls_conn *conn;
  frame_decoder *dec;
  strbuf out;     /* bytes to write */
  size_t out_off; /* first unwritten byte of out */
  uint64_t last_sent;
  inflight *fly;
  size_t nfly, capfly, fly_bytes;
  int got_ack; /* the manager acknowledged something on this connection */
  int drained; /* the outbox had nothing after last_sent at the last look */
  time_t connected_at;
  /* reconnecting: which manager next, and when (failover.h) */
  agent_failover fo;
  int64_t retry_timer; /* the pending connection attempt (0: none) */
  /* the loop */
  evloop *loop;
  agent_session_hooks hooks;
  int sock_fd; /* watched socket (-1: none) */
};

static void connect_now(agent_session *s);

static void on_retry(evloop *l, void *arg) {
  agent_session *s = arg;
  s->retry_timer = 0;
  connect_now(s);
}

/* Try to connect again in delay_ms. */
static void retry_later(agent_session *s, int64_t delay_ms) {
  if (!s->loop) return;
  evloop_cancel(s->loop, s->retry_timer);
  s->retry_timer = evloop_after(s->loop, delay_ms, on_retry, s);
  if (s->retry_timer < 0) {
    log_error("Cannot schedule the next connection attempt: out of memory");
    s->retry_timer = 0;
  }
}

agent_session *agent_session_new(const agent_config *cfg, const agent_trust *trust, tls_ctx *ctx, char *err,
                                 size_t errlen) {
  agent_session *s = calloc(1, sizeof *s);
  if (!s) {
    tls_ctx_free(ctx);
    snprintf(err, errlen, "out of memory");
    return NULL;
  }
  s->cfg = cfg;
  s->trust = trust;
  s->ctx = ctx;
  s->sock_fd = -1;
  agent_failover_init(&s->fo, cfg->manager.items, cfg->manager.n, cfg->reconnect_min * 1000,
                      cfg->reconnect_max * 1000, NULL, NULL);
  if (!(s->store = agent_store_open(cfg->state_db, err, errlen))) goto fail;
  return s;
fail:
  agent_session_free(s);
  return NULL;
}

static void unwatch_sock(agent_session *s) {
  if (s->loop && s->sock_fd >= 0) evloop_unwatch(s->loop, s->sock_fd);
  s->sock_fd = -1;
}

/* The attempt on the current manager failed (lost: a session ended, else the connection could not
 * be made): move to the next one and schedule the attempt, with one log line saying where and when. */
static void fail_over(agent_session *s, int lost, const char *why) {
  char was[300], next[300];
  agent_failover_addr_format(agent_failover_current(&s->fo), was, sizeof was);
  int64_t delay = agent_failover_failed(&s->fo);
  agent_failover_addr_format(agent_failover_current(&s->fo), next, sizeof next);
  if (why)
    log_warn("%s manager %s%s: %s (next attempt: %s in %lld.%03lld s)",
             lost ? "Connection to" : "Cannot connect to", was, lost ? " lost" : "", why, next,
             (long long)(delay / 1000), (long long)(delay % 1000));
  retry_later(s, delay);
}

/* Tear the connection down (nothing scheduled). */
static void close_conn(agent_session *s) {
  unwatch_sock(s);
  tls_conn_free(s->conn);
  s->conn = NULL;
  frame_decoder_free(s->dec);
  s->dec = NULL;
  strbuf_reset(&s->out);
  s->out_off = 0;
  s->nfly = s->fly_bytes = 0;
  s->last_sent = 0;
}

/* The session ended (why: for the log): the next manager, after the backoff. */
static void disconnect(agent_session *s, const char *why) {
  if (!s->conn) return;
  close_conn(s);
  /* A session that lasted resets the backoff (failover.h). */
  if (s->got_ack || time(NULL) - s->connected_at >= AGENT_FAILOVER_STABLE_S) agent_failover_stable(&s->fo);
  fail_over(s, 1, why);
}

static int flush_out(agent_session *s, char *err, size_t errlen);

void agent_session_free(agent_session *s) {
  if (!s) return;
  if (s->conn) {
    char err[TLS_ERR_LEN];
    flush_out(s, err, sizeof err);
  }
  if (s->loop) {
    evloop_cancel(s->loop, s->retry_timer);
    if (s->hooks.wake_fd >= 0) evloop_unwatch(s->loop, s->hooks.wake_fd);
    evloop_set_before_sleep(s->loop, NULL, NULL);
    unwatch_sock(s);
    s->loop = NULL; /* nothing more to schedule */
  }
  if (s->conn) close_conn(s);
  strbuf_free(&s->out);
  free(s->fly);
  tls_ctx_free(s->ctx);
  agent_store_close(s->store);
  free(s);
}

/* Append one frame to the output. */
static int queue_frame(agent_session *s, Tenet__Envelope *env, char *err, size_t errlen) {
  return codec_encode_framed(env, &s->out, (size_t)s->cfg->max_frame, err, errlen);
}

static int send_hello(agent_session *s, char *err, size_t errlen) {
  char **ids = NULL;
  size_t n = 0;
  int rc = agent_store_policy_ids(s->store, &ids, &n);
  if (rc != TN_OK) {
    snprintf(err, errlen, "%s", agent_store_error(s->store));
    return rc;
  }
  Tenet__PolicyInfo *infos = calloc(n ? n : 1, sizeof *infos);
  Tenet__PolicyInfo **ptrs = calloc(n ? n : 1, sizeof *ptrs);
  agent_policy_row *rows = calloc(n ? n : 1, sizeof *rows);
  uint8_t(*hashes)[CODEC_HASH_LEN] = calloc(n ? n : 1, sizeof *hashes);
  size_t k = 0;
  rc = infos && ptrs && rows && hashes ? TN_OK : TN_ENOMEM;
  for (size_t i = 0; rc == TN_OK && i < n; i++) {
    int found;
    if ((rc = agent_store_policy_get(s->store, ids[i], &rows[k], &found)) != TN_OK) break;
    if (!found || strlen(rows[k].bundle_hash) != 64) {
      agent_policy_row_free(&rows[k]);
      continue;
    }
    tenet__policy_info__init(&infos[k]);
    infos[k].policy_id = ids[i];
    codec_hash_from_hex(&infos[k].bundle_hash, hashes[k], rows[k].bundle_hash);
    infos[k].policy_version = rows[k].policy_version;
    ptrs[k] = &infos[k];
    k++;
  }
  char *store_id = NULL;
  if (rc == TN_OK && (rc = agent_store_meta_get(s->store, "store_id", &store_id)) == TN_EDB)
    snprintf(err, errlen, "%s", agent_store_error(s->store));
  if (rc == TN_OK) {
    Tenet__Hello h = TENET__HELLO__INIT;
    h.store_id = store_id ? store_id : "";
    h.protocol = CODEC_PROTOCOL_VERSION;
    h.agent_id = s->cfg->agent_id;
    h.agent_version = AGENT_VERSION;
    h.policies = ptrs;
    h.n_policies = k;
    Tenet__Envelope env = TENET__ENVELOPE__INIT;
    env.body_case = TENET__ENVELOPE__BODY_HELLO;
    env.hello = &h;
    rc = queue_frame(s, &env, err, errlen);
  } else if (rc == TN_EDB) {
    snprintf(err, errlen, "%s", agent_store_error(s->store));
  } else {
    snprintf(err, errlen, "out of memory");
  }
  free(store_id);
  for (size_t i = 0; rows && i < k; i++)
    agent_policy_row_free(&rows[i]);
  free(rows);
  free(hashes);
  free(ptrs);
  free(infos);
  agent_store_strings_free(ids, n);
  return rc;
}

static void on_sock(evloop *l, int fd, void *arg, int mask);

/* Whichever manager this is, make it compare results hashes (outbox.h). A failure is logged: the
 * next scan's summary does the same, later. */
static void resync(agent_session *s) {
  agent_outbox_limits lim = {(size_t)s->cfg->batch_checks, (size_t)s->cfg->max_frame};
  size_t n = 0;
  char err[512];
  if (agent_outbox_record_resync(s->store, &lim, &n, err, sizeof err) != TN_OK)
    log_error("Cannot queue the summaries for the manager's hash check: %s", err);
  else if (n)
    log_debug("Queued %zu messages for the manager's hash check", n);
}

static void connect_now(agent_session *s) {
  char err[TLS_ERR_LEN];
  int fd;
  const agent_config *c = s->cfg;
  const conf_addr *a = agent_failover_current(&s->fo);
  const char *name = c->manager_name[0] ? c->manager_name : a->host;
  int timeout_ms = (int)c->connect_timeout * 1000;
  int rc = tls_tcp_connect(a->host, a->port, timeout_ms, &fd, err, sizeof err);
  if (rc == TN_OK && (rc = tls_tcp_timeout(fd, timeout_ms, err, sizeof err)) != TN_OK) close(fd);
  if (rc == TN_OK && !(s->conn = tls_conn_new(s->ctx, fd, name, err, sizeof err))) rc = TN_ETLS;
  if (rc == TN_OK && (rc = tls_conn_handshake(s->conn, err, sizeof err)) == TN_OK &&
      (rc = tls_tcp_timeout(fd, 0, err, sizeof err)) == TN_OK)
    rc = tls_tcp_nonblock(fd, 1, err, sizeof err);
  if (rc == TN_OK && !(s->dec = frame_decoder_new((size_t)c->max_frame))) {
    rc = TN_ENOMEM;
    snprintf(err, sizeof err, "out of memory");
  }
  s->got_ack = 0;
  s->drained = 0;
  s->connected_at = time(NULL);
  if (rc == TN_OK) rc = send_hello(s, err, sizeof err);
  if (rc == TN_OK) resync(s);
  if (rc == TN_OK) {
    s->sock_fd = tls_conn_fd(s->conn);
    if (evloop_watch(s->loop, s->sock_fd, EV_READABLE, on_sock, s) != 0) {
      s->sock_fd = -1;
      rc = TN_EIO;
      snprintf(err, sizeof err, "cannot watch the socket: %s", strerror(errno));
    }
  }
  if (rc != TN_OK) {
    if (s->conn) close_conn(s);
    fail_over(s, 0, err);
    return;
  }
  char addr[300];
  log_info("Connected to manager %s", agent_failover_addr_format(a, addr, sizeof addr));
}

/* ---- sending ---- */

static int take_row(void *arg, uint64_t seq, const char *kind, const uint8_t *frame, size_t len) {
  agent_session *s = arg;
  if (s->nfly == s->capfly) {
    size_t ncap = s->capfly ? s->capfly * 2 : 64;
    inflight *n = realloc(s->fly, ncap * sizeof *n);
    if (!n) return TN_ENOMEM;
    s->fly = n;
    s->capfly = ncap;
  }
  strbuf_append(&s->out, (const char *)frame, len);
  if (!strbuf_ok(&s->out)) return TN_ENOMEM;
  s->fly[s->nfly++] = (inflight){seq, len};
  s->fly_bytes += len;
  s->last_sent = seq;
  log_debug("Sending %s #%llu (%zu bytes)", kind, (unsigned long long)seq, len);
  return 0;
}

/* Move outbox rows into the output while the window has room. */
static int fill(agent_session *s) {
  while (s->conn && s->fly_bytes < (size_t)s->cfg->send_window) {
    size_t before = s->nfly;
    int rc = agent_store_outbox_each(s->store, s->last_sent, FETCH_ROWS, take_row, s);
    if (rc == TN_EDB) {
      log_error("Cannot read the outbox: %s", agent_store_error(s->store));
      return rc;
    }
    if (rc != TN_OK) return rc;
    if (s->nfly - before < FETCH_ROWS) {
      s->drained = 1;
      break;
    }
  }
  return TN_OK;
}

/* Write what the socket takes. Returns TN_OK (maybe with bytes left), or an error. */
static int flush_out(agent_session *s, char *err, size_t errlen) {
  while (s->out_off < s->out.len) {
    size_t n;
    int rc = tls_conn_write(s->conn, s->out.data + s->out_off, s->out.len - s->out_off, &n, err, errlen);
    if (rc == TLS_WANT_WRITE || rc == TLS_WANT_READ) return TN_OK;
    if (rc != TN_OK) return rc;
    s->out_off += n;
  }
  if (s->out.len)
    log_debug("Wrote %zu bytes to the manager (%zu messages unacknowledged)", s->out.len, s->nfly);
  strbuf_reset(&s->out);
  s->out_off = 0;
  return TN_OK;
}

/* ---- receiving ---- */

static void on_ack(agent_session *s, uint64_t seq) {
  int deleted = 0;
  if (agent_store_outbox_ack(s->store, seq, &deleted) != TN_OK) {
    log_error("Cannot remove acknowledged messages: %s", agent_store_error(s->store));
    return;
  }
  size_t k = 0;
  for (size_t i = 0; i < s->nfly; i++) {
    if (s->fly[i].seq <= seq)
      s->fly_bytes -= s->fly[i].len;
    else
      s->fly[k++] = s->fly[i];
  }
  s->nfly = k;
  log_debug("Manager acknowledged up to #%llu (%d messages removed)", (unsigned long long)seq, deleted);
}

static void on_dump(agent_session *s, const Tenet__DumpRequest *r) {
  agent_outbox_limits lim = {(size_t)s->cfg->batch_checks, (size_t)s->cfg->max_frame};
  size_t n = 0;
  char err[512];
  log_info("Integration checksum failed for policy '%s'. Sending every stored check%s.", r->policy_id,
           r->flushed ? " and the last summary" : "");
  if (agent_outbox_record_dump(s->store, r->policy_id, r->flushed, &lim, &n, err, sizeof err) != TN_OK)
    log_error("Cannot queue the dump of policy '%s': %s", r->policy_id, err);
  else
    s->drained = 0;
}

static void on_offer(agent_session *s, const Tenet__BundleOffer *o) {
  const agent_session_hooks *h = &s->hooks;
  char err[512];
  int installed = 0;
  int rc =
      agent_trust_install(s->trust, s->store, s->cfg->bundle_dir, o->policy_id, o->policy_version,
                          o->bundle.data, o->bundle.len, (int64_t)time(NULL), &installed, err, sizeof err);
  if (rc != TN_OK) {
    log_warn("Refused bundle offer for policy '%s' version %llu: %s: %s", o->policy_id,
             (unsigned long long)o->policy_version, agent_trust_refusal(rc), err);
    return;
  }
  if (!installed) {
    log_debug("Bundle offer for policy '%s' version %llu is already installed", o->policy_id,
              (unsigned long long)o->policy_version);
    return;
  }
  log_info("Installed bundle for policy '%s' version %llu from the manager", o->policy_id,
           (unsigned long long)o->policy_version);
  if (h->on_installed) h->on_installed(h->arg, o->policy_id);
}

/* Read and handle every whole frame available. Returns TN_OK or why the connection must close. */
static int receive(agent_session *s, char *err, size_t errlen) {
  for (;;) {
    const uint8_t *payload;
    size_t len;
    int rc = tls_conn_read_frame(s->conn, s->dec, &payload, &len, err, errlen);
    if (rc == TLS_WANT_READ || rc == TLS_WANT_WRITE) return TN_OK;
    if (rc == TLS_CLOSED) {
      snprintf(err, errlen, "closed by the manager");
      return rc;
    }
    if (rc != TN_OK) return rc;
    Tenet__Envelope *m;
    if ((rc = codec_decode(payload, len, (size_t)s->cfg->max_frame, &m, err, errlen)) != TN_OK) return rc;
    switch (m->body_case) {
    case TENET__ENVELOPE__BODY_ACK:
      s->got_ack = 1;
      on_ack(s, m->ack->seq);
      break;
    case TENET__ENVELOPE__BODY_DUMP_REQUEST: on_dump(s, m->dump_request); break;
    case TENET__ENVELOPE__BODY_BUNDLE_OFFER: on_offer(s, m->bundle_offer); break;
    default:
      snprintf(err, errlen, "the manager sent a %s message, which only agents send",
               codec_body_name(m->body_case));
      codec_free(m);
      return TN_EPROTO;
    }
    codec_free(m);
  }
}

/* ---- the loop ---- */

static void on_sock(evloop *l, int fd, void *arg, int mask) {
  agent_session *s = arg;
  char err[TLS_ERR_LEN + 256];
  if (s->conn && (mask & EV_WRITABLE) && flush_out(s, err, sizeof err) != TN_OK) disconnect(s, err);
  if (s->conn && (mask & EV_READABLE) && receive(s, err, sizeof err) != TN_OK) disconnect(s, err);
}

/* The scheduler queued rows: look at the outbox again. */
static void on_wake(evloop *l, int fd, void *arg, int mask) {
  agent_session *s = arg;
  uint64_t v;
  while (read(fd, &v, sizeof v) > 0) {
  }
  s->drained = 0;
}

/* Before the loop sleeps: refill the window from the outbox and write what the socket takes;
 * watch for writability only while bytes wait. */
static int pump(evloop *l, void *arg) {
  agent_session *s = arg;
  char err[TLS_ERR_LEN + 256];
  if (s->conn && !s->drained && fill(s) != TN_OK) disconnect(s, "cannot read the outbox");
  if (s->conn && flush_out(s, err, sizeof err) != TN_OK) disconnect(s, err);
  if (s->conn) evloop_set_mask(l, s->sock_fd, EV_READABLE | (s->out_off < s->out.len ? EV_WRITABLE : 0));
  return 0;
}

int agent_session_start(agent_session *s, evloop *loop, const agent_session_hooks *hooks, char *err,
                        size_t errlen) {
  s->loop = loop;
  s->hooks = *hooks;
  if (hooks->wake_fd >= 0 && evloop_watch(loop, hooks->wake_fd, EV_READABLE, on_wake, s) != 0) {
    snprintf(err, errlen, "cannot watch the wake-up descriptor: %s", strerror(errno));
    s->hooks.wake_fd = -1;
    return TN_EIO;
  }
  evloop_set_before_sleep(loop, pump, s);
  if ((s->retry_timer = evloop_after(loop, 0, on_retry, s)) < 0) { /* the first attempt at once */
    s->retry_timer = 0;
    snprintf(err, errlen, "out of memory");
    return TN_ENOMEM;
  }
  return TN_OK;
}
