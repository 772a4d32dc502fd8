/* outbox.c — deltas, dumps and policy lists turned into queued frames (see outbox.h). */
#include "outbox.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec.h"
#include "daemon_log.h"
#include "err.h"
#include "eval.h"
#include "frame.h"
#include "event.h"
#include "strbuf.h"

int agent_outbox_result(int ev_result) {
  switch (ev_result) {
  case EV_FOUND: return TENET__CHECK_RESULT__PASSED;
  case EV_NOT_FOUND: return TENET__CHECK_RESULT__FAILED;
  default: return TENET__CHECK_RESULT__NOT_APPLICABLE;
  }
}

/* The CheckDetail of a result: its check's metadata (through the scan's program) and its evidence,
 * as fields pointing into the scan and the program (docs/RESULTS-FLOW.md). */
typedef struct detail_buf {
  Tenet__CheckDetail d;
  Tenet__Text text[4];
  Tenet__Compliance comp;
  Tenet__KeyValue *kv;   /* malloc'd, ncompliance */
  Tenet__KeyValue **kvp; /* malloc'd */
  Tenet__Location loc[LOC__COUNT];
  Tenet__Location *locp[LOC__COUNT];
} detail_buf;

static Tenet__Text *text_of(Tenet__Text *t, const char *value) {
  if (!value) return NULL;
  tenet__text__init(t);
  t->value = (char *)value;
  return t;
}

/* Fill b for result c of scan. Returns 1 (filled), 0 (the scan has no program: no detail) or -1
 * (out of memory). */
static int detail_fill(detail_buf *b, const policy_scan *scan, const check_result *c) {
  prog_check_meta m;
  if (scan_check_meta(scan, c, &m) != 0) return 0;
  Tenet__CheckDetail *d = &b->d;
  tenet__check_detail__init(d);
  d->policy = (char *)program_str(scan->prog, scan->prog->policy_name);
  d->title = (char *)m.title;
  if (c->id_text) d->id_text = (char *)c->id_text; /* a 5.x text id (check_id is its key) */
  d->description = text_of(&b->text[0], m.description);
  d->rationale = text_of(&b->text[1], m.rationale);
  d->remediation = text_of(&b->text[2], m.remediation);
  d->references = text_of(&b->text[3], m.references);
  if (m.has_compliance) {
    tenet__compliance__init(&b->comp);
    if (m.ncompliance) {
      if (!(b->kv = calloc(m.ncompliance, sizeof *b->kv)) ||
          !(b->kvp = calloc(m.ncompliance, sizeof *b->kvp)))
        return -1;
      for (uint32_t i = 0; i < m.ncompliance; i++) {
        tenet__key_value__init(&b->kv[i]);
        b->kv[i].key = (char *)program_str(scan->prog, m.compliance[2 * i]);
        b->kv[i].value = (char *)program_str(scan->prog, m.compliance[2 * i + 1]);
        b->kvp[i] = &b->kv[i];
      }
    }
    b->comp.entries = b->kvp;
    b->comp.n_entries = m.ncompliance;
    d->compliance = &b->comp;
  }
  for (int k = 0; k < LOC__COUNT; k++) {
    if (!c->loc[k]) continue;
    Tenet__Location *l = &b->loc[d->n_locations];
    tenet__location__init(l);
    l->kind = (char *)event_location_key(k);
    l->value = c->loc[k];
    b->locp[d->n_locations++] = l;
  }
  d->locations = b->locp;
  return 1;
}

static void detail_buf_free(detail_buf *b) {
  free(b->kv);
  free(b->kvp);
}

/* Frame env with the next outbox seq and queue it. */
static int enqueue(agent_store *s, Tenet__Envelope *env, const char *policy_id, size_t max_frame,
                   size_t *messages, char *err, size_t errlen) {
  uint64_t seq;
  int rc = agent_store_outbox_next_seq(s, &seq);
  if (rc != TN_OK) {
    snprintf(err, errlen, "%s", agent_store_error(s));
    return rc;
  }
  env->seq = seq;
  strbuf b = STRBUF_INIT;
  rc = codec_encode_framed(env, &b, max_frame, err, errlen);
  if (rc == TN_OK) {
    rc = agent_store_outbox_add(s, seq, codec_body_name(env->body_case), policy_id, (const uint8_t *)b.data,
                                b.len);
    if (rc != TN_OK)
      snprintf(err, errlen, "%s", agent_store_error(s));
    else if (messages)
      (*messages)++;
  }
  strbuf_free(&b);
  return rc;
}

/* Queue checks[0..n) as CheckDeltas, at most lim->batch_checks per message, halving a batch that
 * exceeds the frame cap; a single check too big for a frame goes without its event JSON. */
static int enqueue_checks(agent_store *s, const char *policy_id, int64_t scan_id, int dump,
                          Tenet__CheckDelta **checks, size_t n, const agent_outbox_limits *lim,
                          size_t *messages, char *err, size_t errlen) {
  size_t batch = lim->batch_checks ? lim->batch_checks : 256;
  for (size_t off = 0; off < n;) {
    size_t k = n - off < batch ? n - off : batch;
    Tenet__CheckDeltas d = TENET__CHECK_DELTAS__INIT;
    d.policy_id = (char *)policy_id;
    d.scan_id = scan_id;
    d.dump = dump;
    d.checks = checks + off;
    d.n_checks = k;
    Tenet__Envelope env = TENET__ENVELOPE__INIT;
    env.body_case = TENET__ENVELOPE__BODY_CHECK_DELTAS;
    env.check_deltas = &d;
    int rc = enqueue(s, &env, policy_id, lim->max_frame, messages, err, errlen);
    if (rc == TN_ETOOBIG && k > 1) {
      batch = k / 2;
      continue;
    }
    if (rc == TN_ETOOBIG) { /* one event above the frame cap: send the result without its JSON and detail */
      char *saved = checks[off]->event_json;
      Tenet__CheckDetail *saved_detail = checks[off]->detail;
      checks[off]->event_json = "";
      checks[off]->detail = NULL;
      rc = enqueue(s, &env, policy_id, lim->max_frame, messages, err, errlen);
      checks[off]->event_json = saved;
      checks[off]->detail = saved_detail;
    }
    if (rc != TN_OK) return rc;
    off += k;
  }
  return TN_OK;
}

static void fill_meta(Tenet__ScanSummary *sum, const agent_policy_meta *m, uint8_t src_hash[CODEC_HASH_LEN]) {
  sum->policy_name = (char *)(m->name ? m->name : "");
  sum->file = (char *)(m->file ? m->file : "");
  sum->description = (char *)(m->description ? m->description : "");
  sum->references = (char *)(m->references ? m->references : "");
  codec_hash_from_hex(&sum->source_hash, src_hash, m->source_hash);
}

/* ---- coalescing ---- */

/* What the waiting rows of a policy say, gathered before they are replaced by the net change. */
typedef struct pending_rows {
  uint64_t *seqs; /* rows to delete */
  size_t nseqs, capseqs;
  int64_t *ids; /* checks they carry, sorted and unique after collect */
  size_t nids, capids;
  int had_meta; /* a deleted summary carried the policy's metadata */
  int oom, bad;
} pending_rows;

static int push_seq(pending_rows *p, uint64_t seq) {
  if (p->nseqs == p->capseqs) {
    size_t n = p->capseqs ? p->capseqs * 2 : 16;
    uint64_t *v = realloc(p->seqs, n * sizeof *v);
    if (!v) return p->oom = 1;
    p->seqs = v;
    p->capseqs = n;
  }
  p->seqs[p->nseqs++] = seq;
  return 0;
}

static int push_id(pending_rows *p, int64_t id) {
  if (p->nids == p->capids) {
    size_t n = p->capids ? p->capids * 2 : 64;
    int64_t *v = realloc(p->ids, n * sizeof *v);
    if (!v) return p->oom = 1;
    p->ids = v;
    p->capids = n;
  }
  p->ids[p->nids++] = id;
  return 0;
}

/* One waiting row: scan deltas and plain summaries are superseded; dumps and the summary ending a
 * dump answer a DumpRequest and stay as they are. */
static int collect_pending(void *arg, uint64_t seq, const char *kind, const uint8_t *frame, size_t len) {
  pending_rows *p = arg;
  Tenet__Envelope *m = NULL;
  char why[128];
  if (len < FRAME_HEADER_LEN ||
      codec_decode(frame + FRAME_HEADER_LEN, len - FRAME_HEADER_LEN, len, &m, why, sizeof why) != TN_OK) {
    p->bad = 1; /* left alone: sent as it is */
    return 0;
  }
  int rc = 0;
  if (m->body_case == TENET__ENVELOPE__BODY_CHECK_DELTAS && !m->check_deltas->dump) {
    for (size_t i = 0; !rc && i < m->check_deltas->n_checks; i++)
      rc = push_id(p, m->check_deltas->checks[i]->check_id);
    if (!rc) rc = push_seq(p, seq);
  } else if (m->body_case == TENET__ENVELOPE__BODY_SCAN_SUMMARY && !m->scan_summary->end_of_dump) {
    if (m->scan_summary->policy_name[0]) p->had_meta = 1;
    rc = push_seq(p, seq);
  }
  codec_free(m);
  return rc;
}

static int cmp_i64(const void *a, const void *b) {
  int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
  return x < y ? -1 : x > y;
}

/* With AGENT_OUTBOX_COALESCE_SCANS summaries of the policy waiting, take its waiting scan deltas and
 * summaries out of the outbox; the scan being recorded sends the current result of every check
 * they carried (the net change) and one summary. Inside the transaction. */
static int coalesce(agent_store *s, const char *pid, pending_rows *p) {
  size_t nsum = 0;
  int rc = agent_store_outbox_count(s, pid, "scan_summary", &nsum);
  if (rc != TN_OK || nsum < AGENT_OUTBOX_COALESCE_SCANS) return rc;
  if ((rc = agent_store_outbox_policy_each(s, pid, collect_pending, p)) != TN_OK) return rc;
  if (p->oom) return TN_ENOMEM;
  for (size_t i = 0; i < p->nseqs; i++)
    if ((rc = agent_store_outbox_delete(s, p->seqs[i])) != TN_OK) return rc;
  qsort(p->ids, p->nids, sizeof *p->ids, cmp_i64);
  size_t k = 0;
  for (size_t i = 0; i < p->nids; i++)
    if (!k || p->ids[k - 1] != p->ids[i]) p->ids[k++] = p->ids[i];
  p->nids = k;
  log_debug("Policy '%s': %zu waiting messages coalesced (%zu checks carry a net change)", pid, p->nseqs, k);
  return TN_OK;
}

int agent_outbox_record_scan(agent_store *s, const agent_policy_meta *m, const policy_scan *scan,
                             const agent_outbox_limits *lim, agent_record_result *res, char *err,
                             size_t errlen) {
  memset(res, 0, sizeof *res);
  const char *pid = m->policy_id;
  Tenet__CheckDelta *deltas = calloc(scan->nchecks ? scan->nchecks : 1, sizeof *deltas);
  Tenet__CheckDelta **dptr = calloc(scan->nchecks ? scan->nchecks : 1, sizeof *dptr);
  detail_buf *details = calloc(scan->nchecks ? scan->nchecks : 1, sizeof *details);
  strbuf enc = STRBUF_INIT;
  int64_t *ids = NULL;
  int *results = NULL;
  size_t nstored = 0;
  strbuf full = STRBUF_INIT;
  agent_policy_row row;
  memset(&row, 0, sizeof row);
  pending_rows pend = {0};
  int rc = TN_ENOMEM, found = 0;
  if (!deltas || !dptr || !details) {
    snprintf(err, errlen, "out of memory");
    goto out;
  }
  if ((rc = agent_store_begin(s)) != TN_OK) goto dberr;
  if ((rc = agent_store_policy_get(s, pid, &row, &found)) != TN_OK) goto dberr_rb;
  res->invalidated = found && strcmp(row.bundle_hash, m->bundle_hash) != 0;
  if (res->invalidated && (rc = agent_store_checks_delete(s, pid)) != TN_OK) goto dberr_rb;
  if ((rc = agent_store_check_results(s, pid, &ids, &results, &nstored)) != TN_OK) goto dberr_rb;
  if ((rc = coalesce(s, pid, &pend)) == TN_ENOMEM) {
    snprintf(err, errlen, "out of memory");
    goto rb;
  }
  if (rc != TN_OK) goto dberr_rb;

  /* Both lists ascend by check id: merge to find what is new or changed. */
  size_t j = 0, nd = 0;
  for (size_t i = 0; i < scan->nchecks; i++) {
    const check_result *c = &scan->checks[i];
    int r = agent_outbox_result(c->result);
    while (j < nstored && ids[j] < c->id)
      j++;
    if (c->result == EV_NOT_RUN) { /* 5.x: the last known state stays, nothing is sent */
      if ((rc = agent_store_check_keep(s, pid, c->id, scan->scan_id)) != TN_OK) goto dberr_rb;
      continue;
    }
    int same = j < nstored && ids[j] == c->id && results[j] == r;
    agent_check_row cr = {c->id, r, c->reason ? c->reason : "", scan->scan_id, c->event ? c->event : "",
                          NULL,  0};
    int has_detail = detail_fill(&details[i], scan, c);
    if (has_detail < 0) {
      rc = TN_ENOMEM;
      snprintf(err, errlen, "out of memory");
      goto rb;
    }
    strbuf_reset(&enc);
    if (has_detail && (rc = codec_detail_encode(&details[i].d, &enc, err, errlen)) != TN_OK) goto rb;
    cr.detail = enc.data;
    cr.detail_len = has_detail ? enc.len : 0;
    if ((rc = agent_store_check_put(s, pid, &cr)) != TN_OK) goto dberr_rb;
    if (same && !(pend.nids && bsearch(&c->id, pend.ids, pend.nids, sizeof *pend.ids, cmp_i64))) continue;
    Tenet__CheckDelta *d = &deltas[nd];
    tenet__check_delta__init(d);
    d->check_id = c->id;
    d->result = (Tenet__CheckResult)r;
    d->reason = (char *)cr.reason;
    d->event_json = (char *)cr.event;
    d->detail = has_detail ? &details[i].d : NULL;
    dptr[nd++] = d;
  }
  if ((rc = agent_store_checks_delete_stale(s, pid, scan->scan_id)) != TN_OK) goto dberr_rb;
  size_t nnow = 0;
  if ((rc = agent_store_results_hash(s, pid, res->results_hash, &nnow)) != TN_OK) goto dberr_rb;
  res->changed = nd;
  if ((rc = enqueue_checks(s, pid, scan->scan_id, 0, dptr, nd, lim, &res->messages, err, errlen)) != TN_OK)
    goto rb;

  /* The summary: Wazuh sends none for a policy without stored checks (SCA-SEMANTICS §11.39). */
  Tenet__ScanSummary sum = TENET__SCAN_SUMMARY__INIT;
  uint8_t res_hash[CODEC_HASH_LEN], bundle_hash[CODEC_HASH_LEN], src_hash[CODEC_HASH_LEN];
  sum.policy_id = (char *)pid;
  sum.scan_id = scan->scan_id;
  sum.passed = (uint32_t)scan->passed;
  sum.failed = (uint32_t)scan->failed;
  sum.invalid = (uint32_t)scan->invalid;
  sum.total_checks = (uint32_t)scan->nchecks;
  sum.score = scan->score;
  sum.start_time = scan->start_time;
  sum.end_time = scan->end_time;
  codec_hash_from_hex(&sum.results_hash, res_hash, res->results_hash);
  codec_hash_from_hex(&sum.bundle_hash, bundle_hash, m->bundle_hash);
  sum.policy_version = m->policy_version;
  Tenet__Envelope env = TENET__ENVELOPE__INIT;
  env.body_case = TENET__ENVELOPE__BODY_SCAN_SUMMARY;
  env.scan_summary = &sum;
  if (nnow) {
    /* The stored copy (for dumps) always carries the metadata. */
    fill_meta(&sum, m, src_hash);
    sum.end_of_dump = 1;
    if ((rc = codec_encode(&env, &full, err, errlen)) != TN_OK) goto rb;
    sum.end_of_dump = 0;
    int first_of_bundle = !found || res->invalidated || !row.summary || pend.had_meta;
    if (!first_of_bundle) {
      sum.policy_name = sum.file = sum.description = sum.references = "";
      sum.source_hash.len = 0;
    }
    if ((rc = enqueue(s, &env, pid, lim->max_frame, &res->messages, err, errlen)) != TN_OK) goto rb;
  }
  agent_policy_row nrow = {
      .policy_version = m->policy_version, .scan_id = scan->scan_id, .last_scan = scan->end_time};
  snprintf(nrow.bundle_hash, sizeof nrow.bundle_hash, "%s", m->bundle_hash);
  memcpy(nrow.results_hash, res->results_hash, sizeof nrow.results_hash);
  if (nnow) {
    nrow.summary = (uint8_t *)full.data;
    nrow.summary_len = full.len;
  }
  if ((rc = agent_store_policy_put(s, pid, &nrow)) != TN_OK) goto dberr_rb;
  if ((rc = agent_store_version_raise(s, pid, m->policy_version)) != TN_OK) goto dberr_rb;
  if ((rc = agent_store_commit(s)) != TN_OK) goto dberr_rb;
  goto out;

dberr_rb:
  snprintf(err, errlen, "%s", agent_store_error(s));
rb:
  agent_store_rollback(s);
  memset(res, 0, sizeof *res);
  goto out;
dberr:
  snprintf(err, errlen, "%s", agent_store_error(s));
out:
  free(pend.seqs);
  free(pend.ids);
  agent_policy_row_free(&row);
  strbuf_free(&full);
  free(ids);
  free(results);
  free(deltas);
  free(dptr);
  for (size_t i = 0; details && i < scan->nchecks; i++)
    detail_buf_free(&details[i]);
  free(details);
  strbuf_free(&enc);
  return rc;
}

/* ---- dumps ---- */

typedef struct dump_ctx {
  Tenet__CheckDelta *items; /* owned copies */
  size_t n, cap;
  int oom;
} dump_ctx;

static int collect(void *arg, const agent_check_row *r) {
  dump_ctx *d = arg;
  if (d->n == d->cap) {
    size_t ncap = d->cap ? d->cap * 2 : 64;
    Tenet__CheckDelta *ni = realloc(d->items, ncap * sizeof *ni);
    if (!ni) return d->oom = 1;
    d->items = ni;
    d->cap = ncap;
  }
  Tenet__CheckDelta *c = &d->items[d->n];
  tenet__check_delta__init(c);
  c->check_id = r->check_id;
  c->result = (Tenet__CheckResult)r->result;
  c->reason = strdup(r->reason);
  c->event_json = strdup(r->event);
  if (!c->reason || !c->event_json) {
    free(c->reason);
    free(c->event_json);
    return d->oom = 1;
  }
  /* The stored detail; a row without one (or an unreadable one) goes without, like an old agent's. */
  char why[128];
  if (r->detail_len && codec_detail_decode(r->detail, r->detail_len, &c->detail, why, sizeof why) != TN_OK)
    c->detail = NULL;
  d->n++;
  return 0;
}

int agent_outbox_record_dump(agent_store *s, const char *policy_id, int flushed,
                             const agent_outbox_limits *lim, size_t *messages, char *err, size_t errlen) {
  size_t added = 0;
  dump_ctx d = {0};
  Tenet__CheckDelta **ptr = NULL;
  Tenet__Envelope *stored = NULL;
  agent_policy_row row;
  memset(&row, 0, sizeof row);
  int found = 0, rc;
  if ((rc = agent_store_begin(s)) != TN_OK) goto dberr;
  if ((rc = agent_store_policy_get(s, policy_id, &row, &found)) != TN_OK) goto dberr_rb;
  rc = agent_store_checks_each(s, policy_id, collect, &d);
  if (d.oom) {
    rc = TN_ENOMEM;
    snprintf(err, errlen, "out of memory reading policy '%s'", policy_id);
    goto rb;
  }
  if (rc != TN_OK) goto dberr_rb;
  int64_t scan_id = found && d.n ? row.scan_id : -1;
  if (d.n) {
    if (!(ptr = malloc(d.n * sizeof *ptr))) {
      rc = TN_ENOMEM;
      snprintf(err, errlen, "out of memory");
      goto rb;
    }
    for (size_t i = 0; i < d.n; i++)
      ptr[i] = &d.items[i];
    if ((rc = enqueue_checks(s, policy_id, scan_id < 0 ? 0 : scan_id, 1, ptr, d.n, lim, &added, err,
                             errlen)) != TN_OK)
      goto rb;
  }
  Tenet__DumpEnd end = TENET__DUMP_END__INIT;
  end.policy_id = (char *)policy_id;
  end.scan_id = scan_id;
  end.elements_sent = (uint32_t)d.n;
  Tenet__Envelope env = TENET__ENVELOPE__INIT;
  env.body_case = TENET__ENVELOPE__BODY_DUMP_END;
  env.dump_end = &end;
  if ((rc = enqueue(s, &env, policy_id, lim->max_frame, &added, err, errlen)) != TN_OK) goto rb;
  if (flushed && found && row.summary && d.n) {
    if ((rc = codec_decode(row.summary, row.summary_len, row.summary_len, &stored, err, errlen)) != TN_OK)
      goto rb;
    if (stored->body_case != TENET__ENVELOPE__BODY_SCAN_SUMMARY) {
      rc = TN_EPROTO;
      snprintf(err, errlen, "stored summary of policy '%s' is a %s message", policy_id,
               codec_body_name(stored->body_case));
      goto rb;
    }
    stored->scan_summary->end_of_dump = 1;
    if ((rc = enqueue(s, stored, policy_id, lim->max_frame, &added, err, errlen)) != TN_OK) goto rb;
  }
  if ((rc = agent_store_commit(s)) != TN_OK) goto dberr_rb;
  if (messages) *messages = added;
  goto out;
dberr_rb:
  snprintf(err, errlen, "%s", agent_store_error(s));
rb:
  agent_store_rollback(s);
  goto out;
dberr:
  snprintf(err, errlen, "%s", agent_store_error(s));
out:
  codec_free(stored);
  for (size_t i = 0; i < d.n; i++) {
    free(d.items[i].reason);
    free(d.items[i].event_json);
    codec_detail_free(d.items[i].detail);
  }
  free(d.items);
  free(ptr);
  agent_policy_row_free(&row);
  return rc;
}

/* ---- policy list ---- */

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

int agent_outbox_record_policy_list(agent_store *s, const char *const *ids, size_t n,
                                    const agent_outbox_limits *lim, int *queued, char *err, size_t errlen) {
  if (queued) *queued = 0;
  const char **sorted = malloc((n ? n : 1) * sizeof *sorted);
  char *prev = NULL, **stored = NULL;
  size_t nstored = 0;
  strbuf joined = STRBUF_INIT;
  int rc = TN_ENOMEM;
  if (!sorted) {
    snprintf(err, errlen, "out of memory");
    return rc;
  }
  if (n) memcpy(sorted, ids, n * sizeof *sorted);
  qsort(sorted, n, sizeof *sorted, cmp_str);
  for (size_t i = 0; i < n; i++) {
    strbuf_puts(&joined, sorted[i]);
    strbuf_putc(&joined, '\n');
  }
  if (!strbuf_ok(&joined)) {
    snprintf(err, errlen, "out of memory");
    goto out;
  }
  const char *now = joined.data ? joined.data : "";
  if ((rc = agent_store_begin(s)) != TN_OK) goto dberr;
  if ((rc = agent_store_policy_ids(s, &stored, &nstored)) != TN_OK) goto dberr_rb;
  for (size_t i = 0; i < nstored; i++)
    if (!bsearch(&stored[i], sorted, n, sizeof *sorted, cmp_str) &&
        (rc = agent_store_policy_delete(s, stored[i])) != TN_OK)
      goto dberr_rb;
  if ((rc = agent_store_meta_get(s, "policy_list", &prev)) != TN_OK) goto dberr_rb;
  if (!prev || strcmp(prev, now) != 0) {
    Tenet__PolicyList pl = TENET__POLICY_LIST__INIT;
    pl.policy_ids = (char **)sorted;
    pl.n_policy_ids = n;
    Tenet__Envelope env = TENET__ENVELOPE__INIT;
    env.body_case = TENET__ENVELOPE__BODY_POLICY_LIST;
    env.policy_list = &pl;
    if ((rc = enqueue(s, &env, NULL, lim->max_frame, NULL, err, errlen)) != TN_OK) goto rb;
    if ((rc = agent_store_meta_put(s, "policy_list", now)) != TN_OK) goto dberr_rb;
    if (queued) *queued = 1;
  }
  if ((rc = agent_store_commit(s)) != TN_OK) goto dberr_rb;
  goto out;
dberr_rb:
  snprintf(err, errlen, "%s", agent_store_error(s));
rb:
  agent_store_rollback(s);
  goto out;
dberr:
  snprintf(err, errlen, "%s", agent_store_error(s));
out:
  free(prev);
  agent_store_strings_free(stored, nstored);
  strbuf_free(&joined);
  free(sorted);
  return rc;
}

/* ---- resync at a new session ---- */

/* Queue the stored summary of policy_id again unless a summary of it waits. */
static int resync_policy(agent_store *s, const char *policy_id, const agent_outbox_limits *lim, size_t *added,
                         char *err, size_t errlen) {
  size_t waiting = 0;
  int found = 0, rc;
  agent_policy_row row;
  memset(&row, 0, sizeof row);
  Tenet__Envelope *stored = NULL;
  if ((rc = agent_store_outbox_count(s, policy_id, "scan_summary", &waiting)) != TN_OK ||
      (!waiting && (rc = agent_store_policy_get(s, policy_id, &row, &found)) != TN_OK)) {
    snprintf(err, errlen, "%s", agent_store_error(s));
    goto out;
  }
  if (waiting || !found || !row.summary) goto out;
  if ((rc = codec_decode(row.summary, row.summary_len, row.summary_len, &stored, err, errlen)) != TN_OK)
    goto out;
  if (stored->body_case != TENET__ENVELOPE__BODY_SCAN_SUMMARY) {
    rc = TN_EPROTO;
    snprintf(err, errlen, "stored summary of policy '%s' is a %s message", policy_id,
             codec_body_name(stored->body_case));
    goto out;
  }
  stored->scan_summary->end_of_dump = 0;
  rc = enqueue(s, stored, policy_id, lim->max_frame, added, err, errlen);
out:
  codec_free(stored);
  agent_policy_row_free(&row);
  return rc;
}

/* Queue the last policy list recorded (meta "policy_list", one id per line) unless one waits. */
static int resync_policy_list(agent_store *s, const agent_outbox_limits *lim, size_t *added, char *err,
                              size_t errlen) {
  size_t waiting = 0;
  char *list = NULL;
  int rc;
  if ((rc = agent_store_outbox_count(s, NULL, "policy_list", &waiting)) != TN_OK ||
      (!waiting && (rc = agent_store_meta_get(s, "policy_list", &list)) != TN_OK)) {
    snprintf(err, errlen, "%s", agent_store_error(s));
    return rc;
  }
  if (waiting || !list) return TN_OK;
  size_t n = 0, cap = 8;
  char **ids = malloc(cap * sizeof *ids);
  rc = ids ? TN_OK : TN_ENOMEM;
  for (char *p = list, *nl; rc == TN_OK && *p; p = nl + 1) {
    if (!(nl = strchr(p, '\n'))) break; /* every id ends with '\n' */
    *nl = '\0';
    if (n == cap) {
      char **g = realloc(ids, (cap *= 2) * sizeof *g);
      if (!g) {
        rc = TN_ENOMEM;
        break;
      }
      ids = g;
    }
    ids[n++] = p;
  }
  if (rc == TN_ENOMEM) snprintf(err, errlen, "out of memory");
  if (rc == TN_OK) {
    Tenet__PolicyList pl = TENET__POLICY_LIST__INIT;
    pl.policy_ids = ids;
    pl.n_policy_ids = n;
    Tenet__Envelope env = TENET__ENVELOPE__INIT;
    env.body_case = TENET__ENVELOPE__BODY_POLICY_LIST;
    env.policy_list = &pl;
    rc = enqueue(s, &env, NULL, lim->max_frame, added, err, errlen);
  }
  free(ids);
  free(list);
  return rc;
}

int agent_outbox_record_resync(agent_store *s, const agent_outbox_limits *lim, size_t *messages, char *err,
                               size_t errlen) {
  char **ids = NULL;
  size_t n = 0, added = 0;
  int rc;
  if ((rc = agent_store_begin(s)) != TN_OK) {
    snprintf(err, errlen, "%s", agent_store_error(s));
    return rc;
  }
  if ((rc = agent_store_policy_ids(s, &ids, &n)) != TN_OK) snprintf(err, errlen, "%s", agent_store_error(s));
  for (size_t i = 0; rc == TN_OK && i < n; i++)
    rc = resync_policy(s, ids[i], lim, &added, err, errlen);
  if (rc == TN_OK) rc = resync_policy_list(s, lim, &added, err, errlen);
  if (rc == TN_OK && (rc = agent_store_commit(s)) != TN_OK) snprintf(err, errlen, "%s", agent_store_error(s));
  if (rc != TN_OK) {
    agent_store_rollback(s);
    added = 0;
  }
  agent_store_strings_free(ids, n);
  if (messages) *messages = added;
  return rc;
}
