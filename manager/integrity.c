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
    if (!found || strcmp(prev, result) != 0)
      alerts_check(ig->al, a->agent_id, d->policy_id, NULL, d->scan_id, c->check_id, result, c->reason,
                   c->detail, found ? prev : NULL);
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
  char results_hex[2 * CODEC_HASH_LEN + 1], bundle_hex[2 * CODEC_HASH_LEN + 1], source_hex[2 * CODEC_HASH_LEN + 1];
  codec_hash_to_hex(&s->results_hash, results_hex);
  codec_hash_to_hex(&s->bundle_hash, bundle_hex);
  codec_hash_to_hex(&s->source_hash, source_hex);
  integrity_agent_set_version(a, s->policy_id, s->policy_version);
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
  if (hash_changed || s->end_of_dump) alerts_summary(ig->al, &p);
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

static int apply_policy_list(integrity *ig, integrity_agent *a, const Tenet__PolicyList *l) {
  a->c.policy_lists++;
  int deleted = 0;
  int rc = mstore_policies_retain(ig->store, a->agent_id, (const char *const *)l->policy_ids, l->n_policy_ids,
                                  &deleted);
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
  if (m->seq > a->ack) a->ack = m->seq;
  if (m->seq && m->seq <= a->last_seq) {
    a->c.duplicates++;
    log_debug("Agent '%s': %s #%llu was already applied; skipped", a->agent_id, codec_body_name(m->body_case),
              (unsigned long long)m->seq);
    return TN_OK;
  }
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

int integrity_agent_sync(integrity *ig, integrity_agent *a, int64_t now) {
  int rc = mstore_agent_add_counters(ig->store, a->agent_id, &a->c);
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
