/* server.c — connections, frames and batches on the epoll loop (see server.h). */
#include "server.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "codec.h"
#include "daemon_log.h"
#include "err.h"
#include "evloop.h"
#include "frame.h"
#include "strbuf.h"
#include "tls.h"

/* Output a connection may hold before the agent is considered stuck. */
#define OUT_MAX ((size_t)256 << 20)
/* When accept() fails for want of descriptors or memory, the listener rests this long. */
#define ACCEPT_BACKOFF_MS 250
/* Descriptors kept free for the store, the logs, the bundle directory and the alerts file. */
#define FD_RESERVE 32
/* Refused and evicted connections are counted and logged at most this often. */
#define REFUSAL_LOG_MS 10000

/* Why a connection was turned away (counted, logged as one line per REFUSAL_LOG_MS). */
enum refusal { R_ADDRESS, R_EVICTED, R_FULL, R_HANDSHAKE, R_NREFUSAL };
static const char *const refusal_text[R_NREFUSAL] = {
    "over max_preauth_per_address", "evicted before Hello (max_preauth_connections)", "at max_connections",
    "TLS handshake not finished in handshake_timeout"};

enum conn_state { C_HANDSHAKE, C_HELLO, C_READY };

typedef struct conn {
  server *srv;
  int fd;
  tls_conn *tls;
  frame_decoder *dec;
  int state;
  char peer[80];
  char addr[80]; /* peer without the port */
  char agent_id[65];
  integrity_agent *ia;
  strbuf out;
  size_t out_off;
  int64_t deadline_ms;      /* handshake + Hello */
  int64_t last_frame_ms;    /* when the last whole frame arrived (idle_timeout) */
  int64_t partial_since_ms; /* bytes of an unfinished frame waiting since then (0: none) */
  int in_batch;             /* applied something in the open transaction */
  int more;                 /* stopped at the frame budget: read again without waiting */
  int dead;                 /* closed; freed by reap() once no loop holds a pointer to it */
  struct conn *prev, *next;
  struct conn *batch_next;
  struct conn *pre_prev, *pre_next; /* the pre-authentication list, oldest first (before Hello) */
  int pre;                          /* on that list */
  int claimed;                      /* holds its agent's claim in the store (mstore_agent_claim) */
  uint64_t session;                 /* the store session the claim was taken in */
} conn;

struct server {
  const manager_config *cfg;
  mstore *store;
  alerts *al;
  integrity *ig;
  distrib *dist;
  tls_ctx *ctx;
  evloop *loop;
  int lfd, port;
  conn *conns;
  size_t nconns;
  conn *batch;      /* connections with work in the open transaction */
  conn *dead;       /* closed connections waiting for reap() (linked through next) */
  int batch_failed; /* a store error: roll the batch back */
  int sigfd;
  int (*on_signal)(void *, int);
  void *sig_arg;
  int64_t max_conns;         /* max_connections, clamped below the descriptor limit */
  conn *pre_head, *pre_tail; /* connections before Hello, oldest first */
  size_t npre;
  int accept_paused;            /* the listener rests after EMFILE & co. */
  uint64_t refused[R_NREFUSAL]; /* since the last refusal log line */
  int64_t refused_logged_ms;
  struct stat crl_st; /* the CRL file as last loaded or tried (reload when it changes) */
};

static void on_conn(evloop *l, int fd, void *arg, int mask);

/* ---- connections ---- */

static void conn_close(conn *c, const char *why);
static void conn_drop(conn *c, const char *why);

static int64_t now_s(void) { return (int64_t)time(NULL); }

static void pre_add(conn *c) {
  server *s = c->srv;
  c->pre = 1;
  c->pre_next = NULL;
  c->pre_prev = s->pre_tail;
  if (s->pre_tail)
    s->pre_tail->pre_next = c;
  else
    s->pre_head = c;
  s->pre_tail = c;
  s->npre++;
}

static void pre_remove(conn *c) {
  server *s = c->srv;
  if (!c->pre) return;
  if (c->pre_prev)
    c->pre_prev->pre_next = c->pre_next;
  else
    s->pre_head = c->pre_next;
  if (c->pre_next)
    c->pre_next->pre_prev = c->pre_prev;
  else
    s->pre_tail = c->pre_prev;
  c->pre = 0;
  s->npre--;
}

/* A claim taken in a store session that has ended (a lost PostgreSQL connection) is gone. */
#define STALE_CLAIM "the store's connection was lost and the claim on this agent with it"

/* Put c in the open batch (beginning the transaction if needed). 0, -1, or -2 when c was closed
 * (its claim is gone). */
static int join_batch(conn *c) {
  server *s = c->srv;
  if (!mstore_in_transaction(s->store) && mstore_begin(s->store) != TN_OK) {
    log_error("Store: %s", mstore_error(s->store));
    return -1;
  }
  if (c->claimed && c->session != mstore_session(s->store)) {
    conn_close(c, STALE_CLAIM);
    return -2;
  }
  if (!c->in_batch) {
    c->in_batch = 1;
    c->batch_next = s->batch;
    s->batch = c;
  }
  return 0;
}

static void leave_batch(conn *c) {
  server *s = c->srv;
  if (!c->in_batch) return;
  for (conn **p = &s->batch; *p; p = &(*p)->batch_next)
    if (*p == c) {
      *p = c->batch_next;
      break;
    }
  c->in_batch = 0;
}

/* Append a frame for c. */
static int send_msg(conn *c, Tenet__Envelope *env) {
  char err[256];
  size_t before = c->out.len;
  int rc = codec_encode_framed(env, &c->out, (size_t)c->srv->cfg->max_frame, err, sizeof err);
  if (rc != TN_OK) {
    log_error("Cannot encode a %s for agent '%s': %s", codec_body_name(env->body_case), c->agent_id, err);
    return rc;
  }
  if (c->ia) {
    mstore_counters *k = integrity_agent_counters(c->ia);
    k->frames_out++;
    k->bytes_out += (int64_t)(c->out.len - before);
  }
  return TN_OK;
}

/* Write what the socket takes; watch for writability while bytes remain. Returns 0, or -1 when
 * the connection had to be closed. */
static int conn_flush(conn *c) {
  if (c->dead) return -1;
  while (c->out_off < c->out.len) {
    size_t n;
    char err[TLS_ERR_LEN];
    int rc = tls_conn_write(c->tls, c->out.data + c->out_off, c->out.len - c->out_off, &n, err, sizeof err);
    if (rc == TLS_WANT_WRITE || rc == TLS_WANT_READ) {
      evloop_set_mask(c->srv->loop, c->fd, EV_READABLE | EV_WRITABLE);
      if (c->out.len - c->out_off > OUT_MAX) {
        conn_drop(c, "the agent does not read what it is sent");
        return -1;
      }
      return 0;
    }
    if (rc != TN_OK) {
      conn_drop(c, err);
      return -1;
    }
    c->out_off += n;
  }
  strbuf_reset(&c->out);
  c->out_off = 0;
  evloop_set_mask(c->srv->loop, c->fd, EV_READABLE);
  return 0;
}

/* Free the closed connections (only where no loop holds a connection pointer). */
static void reap(server *s) {
  while (s->dead) {
    conn *c = s->dead;
    s->dead = c->batch_next;
    integrity_agent_free(c->ia);
    strbuf_free(&c->out);
    free(c);
  }
}

/* The store learns that c's agent left (committed with the open batch, or the next one). */
static void record_disconnect(conn *c) {
  server *s = c->srv;
  if ((!mstore_in_transaction(s->store) && mstore_begin(s->store) != TN_OK) ||
      mstore_agent_disconnected(s->store, c->agent_id, now_s()) != TN_OK) {
    log_error("Store: %s", mstore_error(s->store));
    s->batch_failed = 1;
  }
}

/* Close a connection: unlink it and release its socket at once; the memory waits for reap(), so a
 * loop walking the list may still step from it (its next pointer stays valid). Work it applied in
 * the open batch stays (it is valid); its counters and highest seq are written now. */
static void conn_end(conn *c, int level, const char *why) {
  server *s = c->srv;
  if (c->dead) return;
  if (c->in_batch) {
    if (integrity_agent_sync(s->ig, c->ia, now_s()) != TN_OK) s->batch_failed = 1;
    leave_batch(c);
  }
  if (c->state == C_READY) record_disconnect(c);
  if (c->claimed && c->session == mstore_session(s->store) &&
      mstore_agent_release(s->store, c->agent_id) != TN_OK)
    log_error("Store: %s", mstore_error(s->store));
  c->claimed = 0;
  if (why) {
    if (c->state == C_READY)
      dlog(level, "Agent '%s' (%s)%s: %s", c->agent_id, c->peer, level >= DLOG_WARNING ? "" : " disconnected",
           why);
    else /* a refusal is a WARNING, except where the caller counts it instead (DEBUG) */
      dlog(level == DLOG_DEBUG ? DLOG_DEBUG : DLOG_WARNING, "Connection from %s%s%s%s refused: %s", c->peer,
           c->agent_id[0] ? " (agent '" : "", c->agent_id, c->agent_id[0] ? "')" : "", why);
  }
  pre_remove(c);
  if (c->prev)
    c->prev->next = c->next;
  else
    s->conns = c->next;
  if (c->next) c->next->prev = c->prev;
  s->nconns--;
  evloop_unwatch(s->loop, c->fd);
  tls_conn_free(c->tls);
  c->tls = NULL;
  frame_decoder_free(c->dec);
  c->dec = NULL;
  c->dead = 1;
  c->more = 0;
  c->batch_next = s->dead;
  s->dead = c;
}

/* An orderly end (the peer left, shutdown, replaced): logged at INFO. */
static void conn_close(conn *c, const char *why) { conn_end(c, DLOG_INFO, why); }
/* The peer broke the protocol or the connection failed: logged as a WARNING. */
static void conn_drop(conn *c, const char *why) { conn_end(c, DLOG_WARNING, why); }

/* ---- bundle offers ---- */

static void offer(conn *c, const distrib_bundle *b) {
  Tenet__BundleOffer o = TENET__BUNDLE_OFFER__INIT;
  o.policy_id = b->policy_id;
  o.policy_version = b->version;
  o.bundle.data = b->data;
  o.bundle.len = b->len;
  Tenet__Envelope env = TENET__ENVELOPE__INIT;
  env.body_case = TENET__ENVELOPE__BODY_BUNDLE_OFFER;
  env.bundle_offer = &o;
  if (send_msg(c, &env) != TN_OK) return;
  integrity_agent_set_version(c->ia, b->policy_id, b->version);
  integrity_agent_counters(c->ia)->offers_sent++;
  log_info("Offered policy '%s' version %llu to agent '%s'", b->policy_id, (unsigned long long)b->version,
           c->agent_id);
}

/* Offer every bundle (only_changed: those that changed at the last refresh) newer than the agent's. */
static void offer_newer(conn *c, int only_changed) {
  distrib *d = c->srv->dist;
  if (!d) return;
  for (size_t i = 0; i < distrib_count(d); i++) {
    const distrib_bundle *b = distrib_at(d, i);
    if (only_changed && !distrib_changed(d, i)) continue;
    if (integrity_agent_version(c->ia, b->policy_id) < b->version) offer(c, b);
  }
}

static void refresh_bundles(evloop *l, void *arg) {
  server *s = arg;
  size_t changed = 0;
  if (distrib_refresh(s->dist, &changed) != TN_OK || !changed) return;
  for (conn *c = s->conns; c; c = c->next)
    if (!c->dead && c->state == C_READY) offer_newer(c, 1); /* written by before_sleep */
}

/* ---- messages ---- */

static void on_hello(conn *c, const Tenet__Hello *h) {
  server *s = c->srv;
  if (h->protocol != CODEC_PROTOCOL_VERSION) {
    char why[128];
    snprintf(why, sizeof why, "hello for protocol %u, this manager speaks %d: connection dropped",
             h->protocol, CODEC_PROTOCOL_VERSION);
    conn_drop(c, why);
    return;
  }
  /* One connection per agent: a new one replaces the old (the agent reconnected). */
  for (conn *o = s->conns; o; o = o->next)
    if (o != c && o->state == C_READY && strcmp(o->agent_id, c->agent_id) == 0) {
      conn_close(o, "replaced by a new connection");
      break;
    }
  /* Several managers on one store: serve the agent only while holding its claim. */
  int claimed = 0;
  if (mstore_agent_claim(s->store, c->agent_id, &claimed) != TN_OK) {
    log_error("Store: %s", mstore_error(s->store));
    conn_close(c, "cannot claim the agent in the store");
    return;
  }
  if (!claimed) {
    conn_close(c, "another manager still serves this agent (it holds the agent's claim)");
    return;
  }
  c->claimed = 1;
  c->session = mstore_session(s->store);
  if (!(c->ia = integrity_agent_new(s->ig, c->agent_id))) {
    conn_close(c, "out of memory");
    return;
  }
  if (join_batch(c) != 0 || integrity_hello(s->ig, c->ia, h, now_s()) != TN_OK) {
    s->batch_failed = 1;
    return;
  }
  if (mstore_agent_connected(s->store, c->agent_id, c->peer, now_s()) != TN_OK) {
    log_error("Store: %s", mstore_error(s->store));
    s->batch_failed = 1;
    return;
  }
  mstore_counters *k = integrity_agent_counters(c->ia);
  k->frames_in++;
  c->state = C_READY;
  pre_remove(c);
  if (strcmp(h->agent_id, c->agent_id) != 0)
    log_warn("Agent certificate '%s' (%s) sent Hello as '%s': using the certificate's id", c->agent_id,
             c->peer, h->agent_id);
  log_info("Agent '%s' connected from %s (version %s, %zu policies)", c->agent_id, c->peer, h->agent_version,
           h->n_policies);
  offer_newer(c, 0);
}

/* Handle one decoded message. Returns 0, or -1 when c was closed. */
static int on_message(conn *c, const Tenet__Envelope *m, size_t framelen) {
  server *s = c->srv;
  if (c->dead) return -1;
  size_t npol = m->body_case == TENET__ENVELOPE__BODY_HELLO         ? m->hello->n_policies
                : m->body_case == TENET__ENVELOPE__BODY_POLICY_LIST ? m->policy_list->n_policy_ids
                                                                    : 0;
  if (npol > (size_t)s->cfg->max_policies) {
    char why[160];
    snprintf(why, sizeof why, "%s names %zu policies, more than max_policies (%lld): connection dropped",
             codec_body_name(m->body_case), npol, (long long)s->cfg->max_policies);
    conn_drop(c, why);
    return -1;
  }
  if (c->state == C_HELLO) {
    if (m->body_case != TENET__ENVELOPE__BODY_HELLO) {
      char why[96];
      snprintf(why, sizeof why, "the first message must be hello, not %s", codec_body_name(m->body_case));
      conn_drop(c, why);
      return -1;
    }
    on_hello(c, m->hello);
    if (c->dead || !c->ia) return -1;
    integrity_agent_counters(c->ia)->bytes_in += (int64_t)framelen;
    return 0;
  }
  mstore_counters *k = integrity_agent_counters(c->ia);
  k->frames_in++;
  k->bytes_in += (int64_t)framelen;
  if (m->body_case == TENET__ENVELOPE__BODY_HELLO) {
    conn_drop(c, "a second hello on one connection: connection dropped");
    return -1;
  }
  int joined = join_batch(c);
  if (joined == -2) return -1;
  if (joined != 0) {
    s->batch_failed = 1;
    return 0;
  }
  int rc = integrity_apply(s->ig, c->ia, m, now_s());
  if (rc == TN_EPROTO) {
    char why[96];
    snprintf(why, sizeof why, "agents do not send %s messages: connection dropped",
             codec_body_name(m->body_case));
    conn_drop(c, why);
    return -1;
  }
  if (rc != TN_OK) s->batch_failed = 1;
  return 0;
}

/* Read and apply up to frames_per_turn frames. */
static void conn_read(conn *c) {
  server *s = c->srv;
  char err[TLS_ERR_LEN + 64];
  if (c->dead) return;
  if (c->state == C_HANDSHAKE) {
    int rc = tls_conn_handshake(c->tls, err, sizeof err);
    if (rc == TLS_WANT_READ) return;
    if (rc == TLS_WANT_WRITE) {
      evloop_set_mask(s->loop, c->fd, EV_READABLE | EV_WRITABLE);
      return;
    }
    if (rc != TN_OK) {
      conn_drop(c, rc == TLS_CLOSED ? "closed during the TLS handshake" : err);
      return;
    }
    const char *id = tls_peer_id(c->tls);
    if (!id || strlen(id) >= sizeof c->agent_id) {
      conn_drop(c, "no usable agent id in the client certificate");
      return;
    }
    snprintf(c->agent_id, sizeof c->agent_id, "%s", id);
    c->state = C_HELLO;
    evloop_set_mask(s->loop, c->fd, EV_READABLE);
  }
  c->more = 0;
  int got = 0;
  for (int64_t n = 0; n < s->cfg->frames_per_turn; n++) {
    const uint8_t *payload;
    size_t len;
    int rc = tls_conn_read_frame(c->tls, c->dec, &payload, &len, err, sizeof err);
    if (rc == TLS_WANT_READ) {
      /* Bytes that do not make a whole frame yet (in the decoder or inside TLS): frame_timeout
       * runs from the first of them until a frame completes. */
      if (got) c->partial_since_ms = 0;
      if ((frame_decoder_buffered(c->dec) > 0 || !got) && !c->partial_since_ms)
        c->partial_since_ms = evloop_now_ms();
      return;
    }
    if (rc == TLS_WANT_WRITE) {
      evloop_set_mask(s->loop, c->fd, EV_READABLE | EV_WRITABLE);
      return;
    }
    if (rc == TLS_CLOSED) {
      conn_close(c, "connection closed");
      return;
    }
    if (rc != TN_OK) { /* oversized or truncated frame, TLS or network error */
      char why[TLS_ERR_LEN + 96];
      snprintf(why, sizeof why, "%s: connection dropped", err);
      conn_drop(c, why);
      return;
    }
    got = 1;
    c->last_frame_ms = evloop_now_ms();
    c->partial_since_ms = 0;
    Tenet__Envelope *m;
    char derr[256];
    rc = codec_decode(payload, len, (size_t)s->cfg->max_frame, &m, derr, sizeof derr);
    if (rc != TN_OK) {
      char why[320];
      snprintf(why, sizeof why, "malformed frame of %zu bytes (%s): connection dropped", len, derr);
      conn_drop(c, why);
      return;
    }
    int closed = on_message(c, m, len + FRAME_HEADER_LEN);
    codec_free(m);
    if (closed) return;
  }
  c->more = 1; /* budget spent: come back next turn even if epoll says nothing */
}

static void on_conn(evloop *l, int fd, void *arg, int mask) {
  conn *c = arg;
  if (c->dead) return;
  if ((mask & EV_WRITABLE) && c->state == C_HANDSHAKE) {
    conn_read(c);
    return;
  }
  if ((mask & EV_WRITABLE) && conn_flush(c) != 0) return;
  if (mask & EV_READABLE) conn_read(c);
}

/* ---- admission ---- */

static void on_accept(evloop *l, int lfd, void *arg, int mask);

static void resume_accept(evloop *l, void *arg) {
  server *s = arg;
  s->accept_paused = 0;
  evloop_set_mask(l, s->lfd, EV_READABLE);
}

/* accept() failed for want of descriptors or memory: the pending connection stays in the backlog,
 * so the listener stays readable. Stop watching it for a while instead of spinning. */
static void pause_accept(server *s, const char *why) {
  log_warn("Cannot accept connections (%s): not accepting for %d ms", why, ACCEPT_BACKOFF_MS);
  if (evloop_set_mask(s->loop, s->lfd, 0) != 0 ||
      evloop_after(s->loop, ACCEPT_BACKOFF_MS, resume_accept, s) < 0) {
    evloop_set_mask(s->loop, s->lfd, EV_READABLE);
    return;
  }
  s->accept_paused = 1;
}

static void refuse(server *s, enum refusal r) { s->refused[r]++; }

/* One line for the connections turned away since the last one (at most every REFUSAL_LOG_MS). */
static void log_refusals(server *s, int64_t now) {
  uint64_t total = 0;
  for (int r = 0; r < R_NREFUSAL; r++)
    total += s->refused[r];
  if (!total || now - s->refused_logged_ms < REFUSAL_LOG_MS) return;
  char detail[256] = "";
  size_t n = 0;
  for (int r = 0; r < R_NREFUSAL && n < sizeof detail; r++)
    if (s->refused[r])
      n += (size_t)snprintf(detail + n, sizeof detail - n, "%s%llu %s", n ? ", " : "",
                            (unsigned long long)s->refused[r], refusal_text[r]);
  log_warn("Turned away %llu connection%s before Hello: %s", (unsigned long long)total, total == 1 ? "" : "s",
           detail);
  memset(s->refused, 0, sizeof s->refused);
  s->refused_logged_ms = now;
}

/* Connections before Hello from this address. */
static int64_t pre_from(const server *s, const char *addr) {
  int64_t n = 0;
  for (const conn *c = s->pre_head; c; c = c->pre_next)
    n += strcmp(c->addr, addr) == 0;
  return n;
}

/* Admit a new connection from addr: 1, or 0 (refused). Makes room by evicting the oldest
 * connection that has not sent Hello when the pre-authentication budget or max_connections is
 * reached: a real agent finishes its handshake in milliseconds, a held socket waits to be evicted. */
static int admit(server *s, const char *addr) {
  if (pre_from(s, addr) >= s->cfg->max_preauth_per_address) {
    refuse(s, R_ADDRESS);
    return 0;
  }
  int64_t budget =
      s->cfg->max_preauth_connections < s->max_conns ? s->cfg->max_preauth_connections : s->max_conns;
  if ((int64_t)s->npre < budget && (int64_t)s->nconns < s->max_conns) return 1;
  if (!s->pre_head) {
    refuse(s, R_FULL);
    return 0;
  }
  refuse(s, R_EVICTED);
  conn_end(s->pre_head, DLOG_DEBUG, NULL);
  return 1;
}

static void on_accept(evloop *l, int lfd, void *arg, int mask) {
  server *s = arg;
  for (int i = 0; i < 256 && !s->accept_paused; i++) {
    int fd;
    char peer[80], err[TLS_ERR_LEN];
    int rc = tls_tcp_accept(lfd, &fd, peer, sizeof peer, err, sizeof err);
    if (rc == TLS_WANT_READ) return;
    if (rc != TN_OK) {
      int e = errno;
      if (e == EMFILE || e == ENFILE || e == ENOBUFS || e == ENOMEM)
        pause_accept(s, strerror(e));
      else if (e != ECONNABORTED && e != EPROTO && e != EPERM)
        log_warn("%s", err);
      if (e == ECONNABORTED || e == EPROTO || e == EPERM) continue; /* that one connection failed */
      return;
    }
    char addr[80];
    memcpy(addr, peer, sizeof addr);
    char *colon = strrchr(addr, ':');
    if (colon) *colon = '\0';
    if (!admit(s, addr)) {
      close(fd);
      continue;
    }
    if (tls_tcp_nonblock(fd, 1, err, sizeof err) != TN_OK ||
        (s->cfg->tcp_keepalive > 0 &&
         tls_tcp_keepalive(fd, (int)s->cfg->tcp_keepalive, err, sizeof err) != TN_OK)) {
      log_warn("Connection from %s: %s", peer, err);
      close(fd);
      continue;
    }
    conn *c = calloc(1, sizeof *c);
    if (!c) {
      close(fd);
      continue;
    }
    c->srv = s;
    c->fd = fd;
    snprintf(c->peer, sizeof c->peer, "%s", peer);
    snprintf(c->addr, sizeof c->addr, "%s", addr);
    if (!(c->tls = tls_conn_new(s->ctx, fd, NULL, err, sizeof err)) ||
        !(c->dec = frame_decoder_new((size_t)s->cfg->max_frame))) {
      log_warn("Connection from %s: %s", peer, c->tls ? "out of memory" : err);
      tls_conn_free(c->tls); /* without a connection, tls_conn_new closed fd itself */
      free(c);
      continue;
    }
    c->deadline_ms = evloop_now_ms() + s->cfg->handshake_timeout * 1000;
    c->last_frame_ms = evloop_now_ms();
    c->next = s->conns;
    if (s->conns) s->conns->prev = c;
    s->conns = c;
    s->nconns++;
    pre_add(c);
    if (evloop_watch(s->loop, fd, EV_READABLE, on_conn, c) != 0) {
      log_warn("Connection from %s: cannot watch it: %s", peer, strerror(errno));
      conn_close(c, NULL);
      continue;
    }
    log_debug("Connection from %s", peer);
  }
}

/* ---- revocation ---- */

static int same_file(const struct stat *a, const struct stat *b) {
  return a->st_ino == b->st_ino && a->st_dev == b->st_dev && a->st_size == b->st_size &&
         a->st_mtim.tv_sec == b->st_mtim.tv_sec && a->st_mtim.tv_nsec == b->st_mtim.tv_nsec;
}

/* A server context with the configured CRL (if any). NULL with a message in err. */
static tls_ctx *make_ctx(const manager_config *cfg, int *revoked, char *err, size_t errlen) {
  tls_ctx *ctx = tls_ctx_new_server(cfg->cert, cfg->key, cfg->ca, err, errlen);
  *revoked = 0;
  if (ctx && cfg->crl[0] && tls_ctx_load_crl(ctx, cfg->crl, revoked, err, errlen) != TN_OK) {
    tls_ctx_free(ctx);
    return NULL;
  }
  return ctx;
}

void server_reload_crl(server *s, int force) {
  const manager_config *cfg = s->cfg;
  if (!cfg->crl[0]) return;
  struct stat st;
  if (stat(cfg->crl, &st) != 0) {
    if (s->crl_st.st_ino || force)
      log_error("CRL %s: %s: the list loaded before stays", cfg->crl, strerror(errno));
    memset(&s->crl_st, 0, sizeof s->crl_st);
    return;
  }
  if (!force && same_file(&st, &s->crl_st)) return;
  s->crl_st = st;
  char err[TLS_ERR_LEN];
  int revoked;
  tls_ctx *ctx = make_ctx(cfg, &revoked, err, sizeof err);
  if (!ctx) {
    log_error("CRL not reloaded, the list loaded before stays: %s", err);
    return;
  }
  tls_ctx_free(s->ctx); /* connections keep the old context alive */
  s->ctx = ctx;
  int dropped = 0;
  for (conn *c = s->conns, *next; c; c = next) {
    next = c->next;
    if (!c->dead && c->state != C_HANDSHAKE && tls_conn_peer_revoked(ctx, c->tls)) {
      conn_drop(c, "its certificate is revoked: connection dropped");
      dropped++;
    }
  }
  log_info("CRL %s loaded: %d revoked certificate%s, %d connection%s dropped", cfg->crl, revoked,
           revoked == 1 ? "" : "s", dropped, dropped == 1 ? "" : "s");
}

/* ---- timeouts ---- */

static void sweep(evloop *l, void *arg) {
  server *s = arg;
  alerts_flush(s->al); /* alerts the file refused are retried even when no agent sends anything */
  const manager_config *cfg = s->cfg;
  int64_t now = evloop_now_ms();
  for (conn *c = s->conns, *next; c; c = next) {
    next = c->next;
    if (c->state == C_HANDSHAKE) {
      if (now > c->deadline_ms) { /* counted, not a line each: held sockets are a flood's tool */
        refuse(s, R_HANDSHAKE);
        conn_end(c, DLOG_DEBUG, "TLS handshake timed out");
      }
    } else if (c->state != C_READY) {
      if (now > c->deadline_ms) conn_drop(c, "no hello in time");
    } else if (c->claimed && c->session != mstore_session(s->store)) {
      conn_close(c, STALE_CLAIM);
    } else if (c->partial_since_ms && now - c->partial_since_ms > cfg->frame_timeout * 1000) {
      char why[128];
      snprintf(why, sizeof why, "a frame unfinished for more than frame_timeout (%llds): connection dropped",
               (long long)cfg->frame_timeout);
      conn_drop(c, why);
    } else if (cfg->idle_timeout > 0 && now - c->last_frame_ms > cfg->idle_timeout * 1000) {
      char why[128];
      snprintf(why, sizeof why, "no frame for idle_timeout (%llds)", (long long)cfg->idle_timeout);
      conn_close(c, why);
    }
  }
  log_refusals(s, now);
  server_reload_crl(s, 0);
  dlog_flush_repeats(); /* a repeated line is counted within a second */
}

/* ---- the batch ---- */

static void send_replies(conn *c) {
  uint64_t ack = integrity_agent_take_ack(c->ia);
  if (ack) {
    Tenet__Ack a = TENET__ACK__INIT;
    a.seq = ack;
    Tenet__Envelope env = TENET__ENVELOPE__INIT;
    env.body_case = TENET__ENVELOPE__BODY_ACK;
    env.ack = &a;
    send_msg(c, &env);
  }
  const integrity_request *req;
  size_t n = integrity_agent_take_requests(c->ia, &req);
  for (size_t i = 0; i < n; i++) {
    Tenet__DumpRequest d = TENET__DUMP_REQUEST__INIT;
    d.policy_id = (char *)req[i].policy_id;
    d.flushed = req[i].flushed;
    Tenet__Envelope env = TENET__ENVELOPE__INIT;
    env.body_case = TENET__ENVELOPE__BODY_DUMP_REQUEST;
    env.dump_request = &d;
    send_msg(c, &env);
  }
}

/* Commit the open batch, then reply. On failure roll back and close every connection of the batch
 * (their agents send the same messages again). */
static void commit_batch(server *s) {
  int64_t now = now_s();
  for (conn *c = s->batch; c && !s->batch_failed; c = c->batch_next)
    if (integrity_agent_sync(s->ig, c->ia, now) != TN_OK) s->batch_failed = 1;
  /* the batch's alerts are claimed (and the last written ones deleted) in its own transaction */
  if (mstore_in_transaction(s->store) && !s->batch_failed && alerts_precommit(s->al) != TN_OK) s->batch_failed = 1;
  if (mstore_in_transaction(s->store) && !s->batch_failed && mstore_commit(s->store) != TN_OK) {
    log_error("Store commit failed: %s", mstore_error(s->store));
    s->batch_failed = 1;
  }
  if (s->batch_failed) {
    mstore_rollback(s->store);
    alerts_discard(s->al);
    while (s->batch) {
      conn *c = s->batch;
      leave_batch(c);
      conn_close(c, "its batch was rolled back");
    }
    log_error("A batch was rolled back; its agents will send it again");
    s->batch_failed = 0;
    return;
  }
  alerts_flush(s->al);
  while (s->batch) {
    conn *c = s->batch;
    leave_batch(c);
    send_replies(c);
  }
}

static int before_sleep(evloop *l, void *arg) {
  server *s = arg;
  /* Connections that stopped at their frame budget get another turn before the commit. */
  for (conn *c = s->conns, *next; c; c = next) {
    next = c->next;
    if (c->more) conn_read(c);
  }
  if (s->batch || mstore_in_transaction(s->store)) commit_batch(s);
  int busy = 0;
  for (conn *c = s->conns, *next; c; c = next) {
    next = c->next;
    if (!c->dead && c->out_off < c->out.len) conn_flush(c);
  }
  for (conn *c = s->conns; c; c = c->next)
    busy |= c->more;
  reap(s);
  return busy;
}

static void on_signalfd(evloop *l, int fd, void *arg, int mask) {
  server *s = arg;
  struct signalfd_siginfo si;
  while (read(fd, &si, sizeof si) == (ssize_t)sizeof si)
    if (s->on_signal && s->on_signal(s->sig_arg, (int)si.ssi_signo)) evloop_stop(l);
}

/* ---- life ---- */

/* max_connections, lowered to what the descriptor limit (RLIMIT_NOFILE) leaves once the
 * descriptors open now and FD_RESERVE are counted (with a warning). */
static int64_t clamp_connections(int64_t want) {
  struct rlimit r;
  if (getrlimit(RLIMIT_NOFILE, &r) != 0 || r.rlim_cur == RLIM_INFINITY) return want;
  int64_t open_now = 0;
  DIR *d = opendir("/proc/self/fd");
  if (d) {
    for (struct dirent *e; (e = readdir(d));)
      open_now += e->d_name[0] != '.';
    closedir(d);
  } else {
    open_now = 16;
  }
  int64_t room = (int64_t)r.rlim_cur - open_now - FD_RESERVE;
  if (room < 1) room = 1;
  if (want <= room) return want;
  log_warn("max_connections %lld lowered to %lld: the descriptor limit is %llu (RLIMIT_NOFILE; %lld open, "
           "%d kept in reserve)",
           (long long)want, (long long)room, (unsigned long long)r.rlim_cur, (long long)open_now, FD_RESERVE);
  return room;
}

server *server_new(const manager_config *cfg, char *err, size_t errlen) {
  server *s = calloc(1, sizeof *s);
  if (!s) {
    snprintf(err, errlen, "out of memory");
    return NULL;
  }
  s->cfg = cfg;
  s->lfd = -1;
  s->sigfd = -1;
  char why[TLS_ERR_LEN];
  int revoked;
  if (cfg->crl[0] && stat(cfg->crl, &s->crl_st) != 0) {
    snprintf(err, errlen, "CRL %s: %s (`tenet pki revoke` writes it)", cfg->crl, strerror(errno));
    goto fail;
  }
  if (!(s->ctx = make_ctx(cfg, &revoked, why, sizeof why))) {
    snprintf(err, errlen, "TLS: %s", why);
    goto fail;
  }
  if (tls_tcp_listen(cfg->listen.host, cfg->listen.port, 1024, &s->lfd, &s->port, why, sizeof why) != TN_OK) {
    if (strncmp(why, "cannot listen on ", 17) == 0) /* it names the address already */
      snprintf(err, errlen, "%s", why);
    else
      snprintf(err, errlen, "listen on %s:%d: %s", cfg->listen.host ? cfg->listen.host : "*",
               cfg->listen.port, why);
    goto fail;
  }
  if (tls_tcp_nonblock(s->lfd, 1, why, sizeof why) != TN_OK) {
    snprintf(err, errlen, "listen on %s:%d: %s", cfg->listen.host ? cfg->listen.host : "*", cfg->listen.port,
             why);
    goto fail;
  }
  return s;
fail:
  server_free(s);
  return NULL;
}

int server_start(server *s, mstore *store, alerts *al, integrity *ig, distrib *dist, char *err,
                 size_t errlen) {
  const manager_config *cfg = s->cfg;
  s->store = store;
  s->al = al;
  s->ig = ig;
  s->dist = dist;
  /* Whoever the store says is connected was connected to a manager that is gone. */
  if (mstore_connections_reset(store, now_s()) != TN_OK) {
    snprintf(err, errlen, "%s", mstore_error(store));
    return TN_EDB;
  }
  s->max_conns = clamp_connections(cfg->max_connections);
  int setsize = (int)s->max_conns + FD_RESERVE + 64;
  if (!(s->loop = evloop_new(setsize))) {
    snprintf(err, errlen, "cannot create the event loop: %s", strerror(errno));
    return TN_EIO;
  }
  if (evloop_watch(s->loop, s->lfd, EV_READABLE, on_accept, s) != 0 ||
      evloop_every(s->loop, 1000, sweep, s) < 0 ||
      (dist && evloop_every(s->loop, cfg->bundle_poll_interval * 1000, refresh_bundles, s) < 0)) {
    snprintf(err, errlen, "cannot set up the event loop: %s", strerror(errno));
    return TN_EIO;
  }
  evloop_set_before_sleep(s->loop, before_sleep, s);
  if (dist) {
    size_t changed;
    distrib_refresh(dist, &changed);
  }
  return TN_OK;
}

void server_refresh_bundles(server *s) {
  if (s->dist && s->loop) refresh_bundles(s->loop, s);
}

int server_port(const server *s) { return s->port; }

int server_run(server *s, int signal_fd, int (*on_signal)(void *arg, int signo), void *arg) {
  s->on_signal = on_signal;
  s->sig_arg = arg;
  if (signal_fd >= 0 && evloop_watch(s->loop, signal_fd, EV_READABLE, on_signalfd, s) != 0) return TN_EIO;
  int rc = evloop_run(s->loop);
  if (signal_fd >= 0) evloop_unwatch(s->loop, signal_fd);
  return rc == 0 ? TN_OK : TN_EIO;
}

void server_free(server *s) {
  if (!s) return;
  if (s->loop && (s->batch || mstore_in_transaction(s->store))) commit_batch(s);
  while (s->conns) {
    conn *c = s->conns;
    if (conn_flush(c) == 0) conn_close(c, NULL);
  }
  reap(s);
  /* the disconnections just recorded */
  if (s->store && mstore_in_transaction(s->store) && mstore_commit(s->store) != TN_OK) {
    log_error("Store commit failed: %s", mstore_error(s->store));
    mstore_rollback(s->store);
  }
  if (s->loop && s->lfd >= 0) evloop_unwatch(s->loop, s->lfd);
  if (s->lfd >= 0) close(s->lfd);
  evloop_free(s->loop);
  tls_ctx_free(s->ctx);
  free(s);
}
