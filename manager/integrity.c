/* integrity.c — applying agent messages to the manager's store (see integrity.h). */
#include "integrity.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bundle.h"
#include "daemon_log.h"
#include "err.h"

struct integrity {
  mstore *store;
  alerts *al;
  integrity_options opt;
  int dropped; /* test_drop_check already applied */
};

/* A policy the agent was asked to dump (until its DumpEnd), and policy versions seen. */
typedef struct policy_state {
  char *policy_id;
  int pending;      /* a DumpRequest is outstanding */
  int retries;      /* consecutive dumps that did not converge */
  uint64_t version; /* last reported or offered */
  int dup_summary;  /* the last summary of this batch was a duplicate: its hash is checked at sync */
  char dup_hash[2 * CODEC_HASH_LEN + 1];
} policy_state;

struct integrity_agent {
  char agent_id[65];
  uint64_t last_seq; /* highest seq applied (store + this connection) */
  uint64_t ack;      /* highest seq received since the last take (0: none) */
  mstore_counters c;
  policy_state *ps;
  size_t nps, capps;
  integrity_request *req, *out;
  size_t nreq, capreq, nout;
};

integrity *integrity_new(mstore *store, alerts *al, const integrity_options *opt) {
  integrity *ig = calloc(1, sizeof *ig);
  if (!ig) return NULL;
  ig->store = store;
  ig->al = al;
  ig->opt = *opt;
  return ig;
}

void integrity_free(integrity *ig) { free(ig); }

integrity_agent *integrity_agent_new(integrity *ig, const char *agent_id) {
  integrity_agent *a = calloc(1, sizeof *a);
  if (!a) return NULL;
  snprintf(a->agent_id, sizeof a->agent_id, "%s", agent_id);
  return a;
}

void integrity_agent_free(integrity_agent *a) {
  if (!a) return;
  for (size_t i = 0; i < a->nps; i++)
    free(a->ps[i].policy_id);
  free(a->ps);
  free(a->req);
  free(a->out);
  free(a);
}

const char *integrity_agent_id(const integrity_agent *a) { return a->agent_id; }
mstore_counters *integrity_agent_counters(integrity_agent *a) { return &a->c; }

static policy_state *state(integrity_agent *a, const char *policy_id, int create) {
  for (size_t i = 0; i < a->nps; i++)
    if (strcmp(a->ps[i].policy_id, policy_id) == 0) return &a->ps[i];
  if (!create) return NULL;
  if (a->nps == a->capps) {
    size_t ncap = a->capps ? a->capps * 2 : 4;
    policy_state *n = realloc(a->ps, ncap * sizeof *n);
    if (!n) return NULL;
    a->ps = n;
    a->capps = ncap;
  }
  policy_state *p = &a->ps[a->nps];
  memset(p, 0, sizeof *p);
  if (!(p->policy_id = strdup(policy_id))) return NULL;
  a->nps++;
  return p;
}

uint64_t integrity_agent_version(const integrity_agent *a, const char *policy_id) {
  for (size_t i = 0; i < a->nps; i++)
    if (strcmp(a->ps[i].policy_id, policy_id) == 0) return a->ps[i].version;
  return 0;
}

void integrity_agent_set_version(integrity_agent *a, const char *policy_id, uint64_t version) {
  policy_state *p = state(a, policy_id, 1);
  if (p) p->version = version;
}

/* Queue a DumpRequest unless one is outstanding. */
static int request_dump(integrity_agent *a, const char *policy_id, int flushed) {
  policy_state *p = state(a, policy_id, 1);
  if (!p) return TN_ENOMEM;
  if (p->pending) return TN_OK;
  if (a->nreq == a->capreq) {
    size_t ncap = a->capreq ? a->capreq * 2 : 4;
    integrity_request *n = realloc(a->req, ncap * sizeof *n);
    if (!n) return TN_ENOMEM;
    a->req = n;
    a->capreq = ncap;
  }
  integrity_request *r = &a->req[a->nreq++];
  snprintf(r->policy_id, sizeof r->policy_id, "%s", policy_id);
  r->flushed = flushed;
  p->pending = 1;
  a->c.dumps_requested++;
  return TN_OK;
}

static int db(integrity *ig, int rc) {
  if (rc == TN_EDB) log_error("Store: %s", mstore_error(ig->store));
  return rc;
}

typedef struct resync_ctx {
  integrity_agent *a;
  int rc;
} resync_ctx;

static int resync_policy(void *arg, const mstore_policy *p) {
  resync_ctx *r = arg;
  return r->rc = request_dump(r->a, p->policy_id, 1);
}

/* The agent's Hello names its store: a store the manager has not seen for an agent it has
 * applied messages from (re-created database, restored snapshot, clock stepped back) numbers its
 * outbox afresh, possibly below what was applied. Forget the applied seq and ask for a dump of
 * every policy the manager holds or the agent reports, so both sides converge again. */
static int check_store(integrity *ig, integrity_agent *a, const Tenet__Hello *h) {
  if (!h->store_id || !h->store_id[0]) return TN_OK; /* an agent that predates store ids */
  char known[65];
  int found, agent_found;
  int rc = mstore_agent_store_id(ig->store, a->agent_id, known, &found);
  if (rc != TN_OK) return rc;
  if (found && strcmp(known, h->store_id) == 0) return TN_OK;
  mstore_agent ag;
  if ((rc = mstore_agent_get(ig->store, a->agent_id, &ag, &agent_found)) != TN_OK) return rc;
  int forget = agent_found && ag.last_seq > 0;
  if ((rc = mstore_agent_new_store(ig->store, a->agent_id, h->store_id, forget)) != TN_OK || !forget)
    return rc;
  log_warn("Agent '%s' has a new state store (id %s, was %s): its sequence numbers start over (%llu were "
           "applied); requesting a dump of every policy",
           a->agent_id, h->store_id, found ? known : "unknown", (unsigned long long)ag.last_seq);
  a->last_seq = 0;
  resync_ctx r = {a, TN_OK};
  rc = mstore_policies_each(ig->store, a->agent_id, resync_policy, &r);
  if (rc == TN_OK) rc = r.rc;
  for (size_t i = 0; rc == TN_OK && i < h->n_policies; i++)
    rc = request_dump(a, h->policies[i]->policy_id, 1);
  return rc;
}

/* An agent-supplied policy id outside Tenet's rule (bundle.h, what every bundle carries): the
 * message part naming it is refused whole and logged, never truncated into a store column. */
static int bad_policy_id(const integrity_agent *a, const char *what, const char *id) {
  char why[256];
  if (bundle_policy_id_check(id ? id : "", why, sizeof why) == TN_OK) return 0;
  log_warn("Agent '%s': %s names an invalid policy id (%zu bytes): %s; ignored", a->agent_id, what,
           id ? strlen(id) : 0, why);
  return 1;
}

/* 1 when every policy id a message names is valid (bad_policy_id logs the others). */
static int policy_ids_ok(const integrity_agent *a, const Tenet__Envelope *m) {
  const char *what = codec_body_name(m->body_case);
  switch (m->body_case) {
  case TENET__ENVELOPE__BODY_CHECK_DELTAS: return !bad_policy_id(a, what, m->check_deltas->policy_id);
  case TENET__ENVELOPE__BODY_SCAN_SUMMARY: return !bad_policy_id(a, what, m->scan_summary->policy_id);
  case TENET__ENVELOPE__BODY_DUMP_END: return !bad_policy_id(a, what, m->dump_end->policy_id);
  case TENET__ENVELOPE__BODY_POLICY_LIST:
    for (size_t i = 0; i < m->policy_list->n_policy_ids; i++)
      if (bad_policy_id(a, what, m->policy_list->policy_ids[i])) return 0;
    return 1;
  default: return 1;
  }
}

int integrity_hello(integrity *ig, integrity_agent *a, const Tenet__Hello *h, int64_t now) {
  int rc = mstore_agent_touch(ig->store, a->agent_id, h->agent_version, h->agent_id, now);
  if (rc != TN_OK) return db(ig, rc);
  if ((rc = check_store(ig, a, h)) != TN_OK) return db(ig, rc);
  mstore_agent ag;
  int found;
  if ((rc = mstore_agent_get(ig->store, a->agent_id, &ag, &found)) != TN_OK) return db(ig, rc);
  if (found && ag.last_seq > a->last_seq) a->last_seq = ag.last_seq;
  for (size_t i = 0; i < h->n_policies; i++)
    if (!bad_policy_id(a, "Hello", h->policies[i]->policy_id))
      integrity_agent_set_version(a, h->policies[i]->policy_id, h->policies[i]->policy_version);
  a->c.hellos++;
  return TN_OK;
}

/* ---- messages ---- */

static int apply_deltas(integrity *ig, integrity_agent *a, const Tenet__CheckDeltas *d, int64_t now) {
  if (d->dump) {
    a->c.dumps++;
    a->c.dump_checks += (int64_t)d->n_checks;
  } else {
    a->c.deltas++;
    a->c.delta_checks += (int64_t)d->n_checks;
  }
  for (size_t i = 0; i < d->n_checks; i++) {
    const Tenet__CheckDelta *c = d->checks[i];
    if (!d->dump && ig->opt.drop_check >= 0 && c->check_id == ig->opt.drop_check && !ig->dropped) {
      ig->dropped = 1;
      a->c.dropped_checks++;
      log_warn("TEST: dropping check %lld of policy '%s' from agent '%s' in transit (test_drop_check)",
               (long long)c->check_id, d->policy_id, a->agent_id);
      continue;
    }
    const char *result = codec_result_name(c->result);
    char prev[16];
    int found;
    int rc = mstore_check_get(ig->store, a->agent_id, d->policy_id, c->check_id, prev, &found);
    if (rc != TN_OK) return db(ig, rc);
    mstore_check row = {
        c->check_id, result, c->reason, d->scan_id, c->event_json, now, c->detail ? c->detail->title : ""};
    if ((rc = mstore_check_put(ig->store, a->agent_id, d->policy_id, &row)) != TN_OK) return db(ig, rc);
    if ((!found || strcmp(prev, result) != 0) &&
        (rc = alerts_check(ig->al, a->agent_id, d->policy_id, NULL, d->scan_id, c->check_id, result,
                           c->reason, c->detail, found ? prev : NULL)) != TN_OK)
      return db(ig, rc);
  }
  return TN_OK;
}

static char *dup_or_keep(char *old, const char *nv) {
  char *n = strdup(nv);
  if (!n) return old;
  free(old);
  return n;
}

static int apply_summary(integrity *ig, integrity_agent *a, const Tenet__ScanSummary *s, int64_t now) {
  a->c.summaries++;
  char results_hex[2 * CODEC_HASH_LEN + 1], bundle_hex[2 * CODEC_HASH_LEN + 1],
      source_hex[2 * CODEC_HASH_LEN + 1];
  codec_hash_to_hex(&s->results_hash, results_hex);
  codec_hash_to_hex(&s->bundle_hash, bundle_hex);
  codec_hash_to_hex(&s->source_hash, source_hex);
  integrity_agent_set_version(a, s->policy_id, s->policy_version);
  policy_state *dup = state(a, s->policy_id, 0);
  if (dup) dup->dup_summary = 0; /* this summary is checked here */
  mstore_policy p;
  int found, rc = mstore_policy_get(ig->store, a->agent_id, s->policy_id, &p, &found);
  if (rc != TN_OK) return db(ig, rc);
  if (!found) {
    snprintf(p.agent_id, sizeof p.agent_id, "%s", a->agent_id);
    snprintf(p.policy_id, sizeof p.policy_id, "%s", s->policy_id);
  }
  int outdated = found && strcmp(p.bundle_hash, bundle_hex) != 0;
  int hash_changed = !found || strcmp(p.summary_hash, results_hex) != 0;
  if (s->policy_name[0]) { /* the summary carries the policy's metadata */
    p.name = dup_or_keep(p.name, s->policy_name);
    p.file = dup_or_keep(p.file, s->file);
    p.description = dup_or_keep(p.description, s->description);
    p.references = dup_or_keep(p.references, s->references);
    snprintf(p.source_hash, sizeof p.source_hash, "%s", source_hex);
  }
  snprintf(p.bundle_hash, sizeof p.bundle_hash, "%s", bundle_hex);
  p.policy_version = s->policy_version;
  p.scan_id = s->scan_id;
  p.passed = s->passed;
  p.failed = s->failed;
  p.invalid = s->invalid;
  p.total_checks = s->total_checks;
  p.score = s->score;
  p.start_time = s->start_time;
  p.end_time = s->end_time;
  snprintf(p.summary_hash, sizeof p.summary_hash, "%s", results_hex);
  p.last_summary = now;
  if (outdated) {
    log_info("Policy '%s' information for agent '%s' is outdated. Requested latest scan results.",
             s->policy_id, a->agent_id);
    int n = 0;
    if ((rc = mstore_checks_delete(ig->store, a->agent_id, s->policy_id, &n)) != TN_OK) goto out;
    log_debug("Flushed %d stored checks of policy '%s' for agent '%s'", n, s->policy_id, a->agent_id);
    if ((rc = mstore_policy_put(ig->store, &p)) != TN_OK) goto out;
    policy_state *ps = state(a, s->policy_id, 1);
    if (ps) ps->pending = 0; /* whatever was asked before is moot */
    rc = request_dump(a, s->policy_id, 1);
    goto out;
  }
  if ((rc = mstore_policy_put(ig->store, &p)) != TN_OK) goto out;
  char mine[65];
  size_t n;
  if ((rc = mstore_results_hash(ig->store, a->agent_id, s->policy_id, mine, &n)) != TN_OK) goto out;
  if (strcmp(mine, results_hex) != 0) {
    policy_state *ps = state(a, s->policy_id, 0);
    if (!ps || !ps->pending) {
      /* Without the policy's metadata the dump must end with a full summary: ask as flushed. */
      int flushed = !p.name || !p.name[0];
      log_info("Scan result integrity failed for policy '%s' of agent '%s'. Hash from DB: '%s', hash from "
               "summary: "
               "'%s'. Requesting DB dump.",
               s->policy_id, a->agent_id, mine, results_hex);
      if ((rc = request_dump(a, s->policy_id, flushed)) != TN_OK) goto out;
    }
  }
  if (!found)
    log_info("Agent '%s' reports policy '%s' for the first time: %u checks, results hash %s", a->agent_id,
             s->policy_id, s->total_checks, results_hex);
  if (hash_changed || s->end_of_dump) rc = alerts_summary(ig->al, &p);
out:
  mstore_policy_free(&p);
  return db(ig, rc);
}

static int apply_dump_end(integrity *ig, integrity_agent *a, const Tenet__DumpEnd *d) {
  a->c.dump_ends++;
  policy_state *ps = state(a, d->policy_id, 1);
  if (ps) ps->pending = 0;
  int n = 0, rc;
  if (d->scan_id < 0)
    rc = mstore_checks_delete(ig->store, a->agent_id, d->policy_id, &n);
  else
    rc = mstore_checks_delete_other_scans(ig->store, a->agent_id, d->policy_id, d->scan_id, &n);
  if (rc != TN_OK) return db(ig, rc);
  if (n)
    log_info("Agent '%s' policy '%s': removed %d checks the agent no longer has", a->agent_id, d->policy_id,
             n);
  char mine[65];
  size_t cnt;
  if ((rc = mstore_results_hash(ig->store, a->agent_id, d->policy_id, mine, &cnt)) != TN_OK)
    return db(ig, rc);
  mstore_policy p;
  int found;
  if ((rc = mstore_policy_get(ig->store, a->agent_id, d->policy_id, &p, &found)) != TN_OK) return db(ig, rc);
  if (found && strcmp(mine, p.summary_hash) != 0) {
    if (ps && ps->retries < ig->opt.max_dump_retries) {
      ps->retries++;
      log_info(
          "Scan result integrity failed for policy '%s' of agent '%s' after a dump. Hash from DB: '%s', hash "
          "from summary: '%s'. Requesting DB dump.",
          d->policy_id, a->agent_id, mine, p.summary_hash);
      rc = request_dump(a, d->policy_id, 0);
    } else {
      log_error("Policy '%s' of agent '%s' does not converge after %d dumps (DB '%s', summary '%s'); waiting "
                "for the "
                "next summary",
                d->policy_id, a->agent_id, ig->opt.max_dump_retries, mine, p.summary_hash);
      if (ps) ps->retries = 0;
    }
  } else {
    if (ps) ps->retries = 0;
    log_info("Policy '%s' of agent '%s' is in sync after a dump of %u checks (results hash %s)", d->policy_id,
             a->agent_id, d->elements_sent, mine);
  }
  mstore_policy_free(&p);
  return db(ig, rc);
}

static int cmp_id(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* The stored policies of one agent that its PolicyList does not name (found by binary search in the
 * sorted list: O(S log M), not O(S * M)). */
typedef struct stale_walk {
  char **ids; /* sorted */
  size_t n;
  char **stale;
  size_t nstale, cap;
  int rc;
} stale_walk;

static int collect_stale(void *arg, const mstore_policy *p) {
  stale_walk *w = arg;
  const char *key = p->policy_id;
  if (w->n && bsearch(&key, w->ids, w->n, sizeof *w->ids, cmp_id)) return 0;
  if (w->nstale == w->cap) {
    size_t ncap = w->cap ? w->cap * 2 : 8;
    char **n = realloc(w->stale, ncap * sizeof *n);
    if (!n) return w->rc = TN_ENOMEM;
    w->stale = n;
    w->cap = ncap;
  }
  if (!(w->stale[w->nstale] = strdup(key))) return w->rc = TN_ENOMEM;
  w->nstale++;
  return 0;
}

static int apply_policy_list(integrity *ig, integrity_agent *a, const Tenet__PolicyList *l) {
  a->c.policy_lists++;
  stale_walk w = {NULL, l->n_policy_ids, NULL, 0, 0, TN_OK};
  if (w.n) {
    if (!(w.ids = malloc(w.n * sizeof *w.ids))) return TN_ENOMEM;
    memcpy(w.ids, l->policy_ids, w.n * sizeof *w.ids);
    qsort(w.ids, w.n, sizeof *w.ids, cmp_id);
  }
  int rc = mstore_policies_each(ig->store, a->agent_id, collect_stale, &w);
  if (rc == TN_OK) rc = w.rc;
  int deleted = 0;
  for (size_t i = 0; i < w.nstale; i++) {
    if (rc == TN_OK && (rc = mstore_policy_delete(ig->store, a->agent_id, w.stale[i], NULL)) == TN_OK)
      deleted++;
    free(w.stale[i]);
  }
  free(w.stale);
  free(w.ids);
  if (rc != TN_OK) return db(ig, rc);
  if (deleted) log_info("Agent '%s' no longer runs %d stored policies: deleted", a->agent_id, deleted);
  return TN_OK;
}

int integrity_apply(integrity *ig, integrity_agent *a, const Tenet__Envelope *m, int64_t now) {
  switch (m->body_case) {
  case TENET__ENVELOPE__BODY_CHECK_DELTAS:
  case TENET__ENVELOPE__BODY_SCAN_SUMMARY:
  case TENET__ENVELOPE__BODY_POLICY_LIST:
  case TENET__ENVELOPE__BODY_DUMP_END: break;
  default: return TN_EPROTO;
  }
  if (m->seq && m->seq <= a->last_seq) {
    if (m->seq > a->ack) a->ack = m->seq;
    a->c.duplicates++;
    log_debug("Agent '%s': %s #%llu was already applied; skipped", a->agent_id, codec_body_name(m->body_case),
              (unsigned long long)m->seq);
    /* A skipped summary must not hide a mismatch: its hash is compared at the end of the batch
     * (integrity_agent_sync), after whatever follows it in the resend. */
    if (m->body_case == TENET__ENVELOPE__BODY_SCAN_SUMMARY) {
      policy_state *ps = state(a, m->scan_summary->policy_id, 1);
      if (!ps) return TN_ENOMEM;
      ps->dup_summary = 1;
      codec_hash_to_hex(&m->scan_summary->results_hash, ps->dup_hash);
    }
    return TN_OK;
  }
  /* Backpressure: with the alert outbox at its cap, nothing that may alert is applied (the batch
   * rolls back, nothing is acknowledged, the agent sends it again later). */
  if ((m->body_case == TENET__ENVELOPE__BODY_CHECK_DELTAS ||
       m->body_case == TENET__ENVELOPE__BODY_SCAN_SUMMARY) &&
      alerts_full(ig->al))
    return TN_ETOOBIG;
  if (m->seq > a->ack) a->ack = m->seq;
  int rc;
  if (!policy_ids_ok(a, m)) { /* refused and logged; acknowledged so that it is not sent again */
    if (m->seq > a->last_seq) a->last_seq = m->seq;
    return TN_OK;
  }
  switch (m->body_case) {
  case TENET__ENVELOPE__BODY_CHECK_DELTAS: rc = apply_deltas(ig, a, m->check_deltas, now); break;
  case TENET__ENVELOPE__BODY_SCAN_SUMMARY: rc = apply_summary(ig, a, m->scan_summary, now); break;
  case TENET__ENVELOPE__BODY_POLICY_LIST: rc = apply_policy_list(ig, a, m->policy_list); break;
  default: rc = apply_dump_end(ig, a, m->dump_end); break;
  }
  if (rc == TN_OK && m->seq > a->last_seq) a->last_seq = m->seq;
  return rc;
}

/* A duplicate summary was the last word on its policy in this batch: compare its results hash with
 * the stored checks' and ask for a dump when they differ (and none is outstanding). */
static int check_duplicates(integrity *ig, integrity_agent *a) {
  for (size_t i = 0; i < a->nps; i++) {
    policy_state *ps = &a->ps[i];
    if (!ps->dup_summary) continue;
    ps->dup_summary = 0;
    char mine[65];
    size_t n;
    int rc = mstore_results_hash(ig->store, a->agent_id, ps->policy_id, mine, &n);
    if (rc != TN_OK) return rc;
    if (strcmp(mine, ps->dup_hash) == 0 || ps->pending) continue;
    log_info("Scan result integrity failed for policy '%s' of agent '%s' (a summary already applied was sent "
             "again). Hash from DB: '%s', hash from summary: '%s'. Requesting DB dump.",
             ps->policy_id, a->agent_id, mine, ps->dup_hash);
    if ((rc = request_dump(a, ps->policy_id, 1)) != TN_OK) return rc;
  }
  return TN_OK;
}

int integrity_agent_sync(integrity *ig, integrity_agent *a, int64_t now) {
  int rc = check_duplicates(ig, a);
  if (rc != TN_OK) return db(ig, rc);
  rc = mstore_agent_add_counters(ig->store, a->agent_id, &a->c);
  if (rc == TN_OK) rc = mstore_agent_set_last_seq(ig->store, a->agent_id, a->last_seq, now);
  if (rc == TN_OK) memset(&a->c, 0, sizeof a->c);
  return db(ig, rc);
}

uint64_t integrity_agent_take_ack(integrity_agent *a) {
  uint64_t s = a->ack;
  a->ack = 0;
  return s;
}

size_t integrity_agent_take_requests(integrity_agent *a, const integrity_request **out) {
  free(a->out);
  a->out = a->req;
  a->nout = a->nreq;
  a->req = NULL;
  a->nreq = a->capreq = 0;
  *out = a->out;
  return a->nout;
}
