/* test_agent_state.c — the agent's durable state on a real SQLite file: the delta of a scan against
 * the stored state, what goes into the outbox for it (in the same transaction), dumps, the policy
 * list, acknowledgements, anti-rollback versions, and that an unfinished transaction (a kill -9 mid
 * scan) leaves the previous state intact. */
#include <limits.h>
#include <sys/time.h>

#include "agent/outbox.h"
#include "agent/store.h"
#include "agent/trust.h"
#include "codec.h"
#include "err.h"
#include "eval.h"
#include "frame.h"
#include "proto_hex.h"
#include "test.h"
#include "tmpdir.h"

#define SEED_HASH "1642ab1dc478052ac3556b5e700cd82adb69728008301882b9cbee0696ff2c84"
#define BUNDLE_A "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define BUNDLE_B "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
#define SOURCE "cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc"

static char dir[PATH_MAX], db[PATH_MAX + 16], err[1024];
static const agent_outbox_limits lim = {256, FRAME_MAX_DEFAULT};

/* A finished scan of policy "seed" with the given check ids and VM results. */
static void make_scan(policy_scan *s, int64_t scan_id, const int64_t *ids, const int *res, size_t n) {
  memset(s, 0, sizeof *s);
  s->status = SCAN_DONE;
  s->scan_id = scan_id;
  s->checks = calloc(n ? n : 1, sizeof *s->checks);
  s->nchecks = n;
  for (size_t i = 0; i < n; i++) {
    check_result *c = &s->checks[i];
    c->id = ids[i];
    c->result = res[i];
    if (res[i] == EV_INVALID) c->reason = strdup("Could not open file '/x'");
    const char *r = res[i] == EV_FOUND ? "passed" : res[i] == EV_NOT_FOUND ? "failed" : NULL;
    if (asprintf(&c->event,
                 "{\"type\":\"check\",\"id\":%lld,\"policy\":\"Seed "
                 "policy\",\"policy_id\":\"seed\",\"check\":{\"id\":%lld,"
                 "\"title\":\"check %lld\",\"rules\":[\"f:/x -> "
                 "r:^ok\"],\"condition\":\"all\",\"file\":\"/x\",%s%s%s}}",
                 (long long)scan_id, (long long)ids[i], (long long)ids[i],
                 r ? "\"result\":\"" : "\"status\":\"Not applicable\",\"reason\":\"", r ? r : c->reason,
                 "\"") < 0)
      abort();
    if (res[i] == EV_FOUND)
      s->passed++;
    else if (res[i] == EV_NOT_FOUND)
      s->failed++;
    else
      s->invalid++;
  }
  s->score = s->passed + s->failed ? (float)s->passed / ((float)s->passed + (float)s->failed) * 100 : 0;
  s->start_time = 1700000000;
  s->end_time = 1700000001;
}

static agent_policy_meta meta(const char *bundle, uint64_t version) {
  agent_policy_meta m = {.policy_id = "seed",
                         .name = "Seed policy",
                         .file = "seed.yml",
                         .description = "The seed document's table",
                         .references = "https://example.org/seed",
                         .policy_version = version};
  snprintf(m.bundle_hash, sizeof m.bundle_hash, "%s", bundle);
  snprintf(m.source_hash, sizeof m.source_hash, "%s", SOURCE);
  return m;
}

/* The outbox decoded, in order. */
typedef struct queued {
  Tenet__Envelope *m[64];
  size_t len[64];
  uint64_t seq[64];
  size_t n;
} queued;

static int take(void *arg, uint64_t seq, const char *kind, const uint8_t *frame, size_t len) {
  queued *q = arg;
  if (q->n == 64) return 1;
  REQUIRE(len > FRAME_HEADER_LEN);
  uint32_t n = (uint32_t)frame[0] << 24 | (uint32_t)frame[1] << 16 | (uint32_t)frame[2] << 8 | frame[3];
  CHECK_INT(n, len - FRAME_HEADER_LEN);
  int rc = codec_decode(frame + FRAME_HEADER_LEN, len - FRAME_HEADER_LEN, FRAME_MAX_DEFAULT, &q->m[q->n], err,
                        sizeof err);
  if (rc != TN_OK) fprintf(stderr, "decode: %s\n", err);
  REQUIRE(rc == TN_OK);
  CHECK_INT(q->m[q->n]->seq, seq);
  CHECK_STR(kind, codec_body_name(q->m[q->n]->body_case));
  q->len[q->n] = len;
  q->seq[q->n++] = seq;
  return 0;
}

static void drain(agent_store *s, queued *q, uint64_t after) {
  memset(q, 0, sizeof *q);
  REQUIRE(agent_store_outbox_each(s, after, 64, take, q) == TN_OK);
}

static void release(queued *q) {
  for (size_t i = 0; i < q->n; i++)
    codec_free(q->m[i]);
  q->n = 0;
}

static uint64_t ack_all(agent_store *s, queued *q) {
  uint64_t last = q->n ? q->seq[q->n - 1] : 0;
  int deleted = 0;
  if (last) REQUIRE(agent_store_outbox_ack(s, last, &deleted) == TN_OK);
  CHECK_INT(deleted, q->n);
  release(q);
  return last;
}

static const int64_t seed_ids[] = {1000, 1001, 1002, 1003};
static const int seed_res[] = {EV_FOUND, EV_NOT_FOUND, EV_NOT_FOUND, EV_FOUND};

static void test_first_scan_then_deltas(void) {
  agent_store *s = agent_store_open(db, err, sizeof err);
  REQUIRE(s);
  policy_scan scan;
  agent_record_result res;
  agent_policy_meta m = meta(BUNDLE_A, 1);

  /* First scan: every check is new. */
  make_scan(&scan, 11, seed_ids, seed_res, 4);
  REQUIRE(agent_outbox_record_scan(s, &m, &scan, &lim, &res, err, sizeof err) == TN_OK);
  policy_scan_free(&scan);
  CHECK_INT(res.changed, 4);
  CHECK_INT(res.messages, 2);
  CHECK_STR(res.results_hash, SEED_HASH);
  queued q;
  drain(s, &q, 0);
  REQUIRE(q.n == 2);
  struct timeval tv;
  gettimeofday(&tv, NULL);
  /* outbox sequence numbers start at the store's creation time in milliseconds */
  CHECK(q.seq[0] > (uint64_t)1600000000000ULL && q.seq[0] <= (uint64_t)tv.tv_sec * 1000 + 1000);
  CHECK_INT(q.seq[1], q.seq[0] + 1);
  REQUIRE(q.m[0]->body_case == TENET__ENVELOPE__BODY_CHECK_DELTAS);
  Tenet__CheckDeltas *d = q.m[0]->check_deltas;
  CHECK_STR(d->policy_id, "seed");
  CHECK_INT(d->scan_id, 11);
  CHECK_INT(d->dump, 0);
  REQUIRE(d->n_checks == 4);
  CHECK_INT(d->checks[2]->check_id, 1002);
  CHECK_INT(d->checks[2]->result, TENET__CHECK_RESULT__FAILED);
  CHECK(strstr(d->checks[2]->event_json, "\"title\":\"check 1002\"") != NULL);
  REQUIRE(q.m[1]->body_case == TENET__ENVELOPE__BODY_SCAN_SUMMARY);
  Tenet__ScanSummary *sum = q.m[1]->scan_summary;
  CHECK_STR(xh(sum->results_hash), SEED_HASH);
  CHECK_STR(xh(sum->bundle_hash), BUNDLE_A);
  CHECK_STR(sum->policy_name, "Seed policy"); /* first scan of a bundle: full metadata */
  CHECK_STR(xh(sum->source_hash), SOURCE);
  CHECK_INT(sum->passed, 2);
  CHECK_INT(sum->failed, 2);
  CHECK_INT(sum->total_checks, 4);
  CHECK_INT(sum->end_of_dump, 0);
  ack_all(s, &q);

  /* Unchanged rescan: only the summary, without the metadata. */
  make_scan(&scan, 12, seed_ids, seed_res, 4);
  REQUIRE(agent_outbox_record_scan(s, &m, &scan, &lim, &res, err, sizeof err) == TN_OK);
  policy_scan_free(&scan);
  CHECK_INT(res.changed, 0);
  CHECK_INT(res.messages, 1);
  drain(s, &q, 0);
  REQUIRE(q.n == 1 && q.m[0]->body_case == TENET__ENVELOPE__BODY_SCAN_SUMMARY);
  CHECK_STR(q.m[0]->scan_summary->policy_name, "");
  CHECK_STR(xh(q.m[0]->scan_summary->source_hash), "");
  CHECK_STR(xh(q.m[0]->scan_summary->results_hash), SEED_HASH);
  CHECK_INT(q.m[0]->scan_summary->scan_id, 12);
  printf("unchanged scan of one policy: %zu bytes in one frame\n", q.len[0]);
  CHECK(q.len[0] <= 200);
  ack_all(s, &q);

  /* One check changes: one delta. */
  int changed_res[] = {EV_FOUND, EV_NOT_FOUND, EV_FOUND, EV_FOUND};
  make_scan(&scan, 13, seed_ids, changed_res, 4);
  REQUIRE(agent_outbox_record_scan(s, &m, &scan, &lim, &res, err, sizeof err) == TN_OK);
  policy_scan_free(&scan);
  CHECK_INT(res.changed, 1);
  drain(s, &q, 0);
  REQUIRE(q.n == 2 && q.m[0]->body_case == TENET__ENVELOPE__BODY_CHECK_DELTAS);
  REQUIRE(q.m[0]->check_deltas->n_checks == 1);
  CHECK_INT(q.m[0]->check_deltas->checks[0]->check_id, 1002);
  CHECK_INT(q.m[0]->check_deltas->checks[0]->result, TENET__CHECK_RESULT__PASSED);
  ack_all(s, &q);

  /* A reason change alone is not a delta (Wazuh compares result strings only). */
  int na_res[] = {EV_FOUND, EV_INVALID, EV_FOUND, EV_FOUND};
  make_scan(&scan, 14, seed_ids, na_res, 4);
  REQUIRE(agent_outbox_record_scan(s, &m, &scan, &lim, &res, err, sizeof err) == TN_OK);
  policy_scan_free(&scan);
  CHECK_INT(res.changed, 1);
  drain(s, &q, 0);
  REQUIRE(q.n == 2);
  CHECK_INT(q.m[0]->check_deltas->checks[0]->result, TENET__CHECK_RESULT__NOT_APPLICABLE);
  CHECK_STR(q.m[0]->check_deltas->checks[0]->reason, "Could not open file '/x'");
  ack_all(s, &q);
  make_scan(&scan, 15, seed_ids, na_res, 4);
  free(scan.checks[1].reason);
  scan.checks[1].reason = strdup("Unknown reason");
  REQUIRE(agent_outbox_record_scan(s, &m, &scan, &lim, &res, err, sizeof err) == TN_OK);
  policy_scan_free(&scan);
  CHECK_INT(res.changed, 0);
  drain(s, &q, 0);
  ack_all(s, &q);

  /* A new bundle hash invalidates the stored results: every check again, with metadata. */
  agent_policy_meta m2 = meta(BUNDLE_B, 2);
  make_scan(&scan, 16, seed_ids, na_res, 4);
  REQUIRE(agent_outbox_record_scan(s, &m2, &scan, &lim, &res, err, sizeof err) == TN_OK);
  policy_scan_free(&scan);
  CHECK_INT(res.invalidated, 1);
  CHECK_INT(res.changed, 4);
  drain(s, &q, 0);
  REQUIRE(q.n == 2);
  CHECK_INT(q.m[0]->check_deltas->n_checks, 4);
  CHECK_STR(q.m[1]->scan_summary->policy_name, "Seed policy");
  CHECK_STR(xh(q.m[1]->scan_summary->bundle_hash), BUNDLE_B);
  CHECK_INT(q.m[1]->scan_summary->policy_version, 2);
  ack_all(s, &q);

  /* A check that disappears from the policy leaves the store and the hash. */
  const int64_t three[] = {1000, 1001, 1003};
  const int three_res[] = {EV_FOUND, EV_NOT_FOUND, EV_FOUND};
  make_scan(&scan, 17, three, three_res, 3);
  REQUIRE(agent_outbox_record_scan(s, &m2, &scan, &lim, &res, err, sizeof err) == TN_OK);
  policy_scan_free(&scan);
  char h[65];
  size_t n;
  REQUIRE(agent_store_results_hash(s, "seed", h, &n) == TN_OK);
  CHECK_INT(n, 3);
  CHECK_STR(h, "b43037ca28d95a69b6f9e03fcd826d2b253a6bb1b6ad28c4ae57a3a766ace610");
  CHECK_STR(res.results_hash, h);
  drain(s, &q, 0);
  ack_all(s, &q);

  /* Versions: the highest ever run is recorded. */
  uint64_t v, rec;
  int found;
  REQUIRE(agent_store_version_get(s, "seed", &v, &found) == TN_OK);
  CHECK(found && v == 2);
  CHECK_INT(agent_trust_check_version(s, "seed", 1, &rec, err, sizeof err), TN_EROLLBACK);
  CHECK_INT(rec, 2);
  CHECK(strstr(err, "version 1 is lower than version 2 already run for policy 'seed'") != NULL);
  CHECK_INT(agent_trust_check_version(s, "seed", 2, NULL, err, sizeof err), TN_OK);
  CHECK_INT(agent_trust_check_version(s, "other", 1, NULL, err, sizeof err), TN_OK);
  agent_store_close(s);
}

static void test_dump(void) {
  agent_store *s = agent_store_open(db, err, sizeof err);
  REQUIRE(s);
  agent_outbox_limits small = {2, FRAME_MAX_DEFAULT}; /* two checks per message */
  size_t added = 0;
  REQUIRE(agent_outbox_record_dump(s, "seed", 1, &small, &added, err, sizeof err) == TN_OK);
  queued q;
  drain(s, &q, 0);
  CHECK_INT(added, 4);
  REQUIRE(q.n == 4); /* 2 + 1 checks, dump end, summary */
  CHECK_INT(q.m[0]->check_deltas->dump, 1);
  CHECK_INT(q.m[0]->check_deltas->n_checks, 2);
  CHECK_INT(q.m[1]->check_deltas->n_checks, 1);
  CHECK_INT(q.m[0]->check_deltas->scan_id, 17);
  REQUIRE(q.m[2]->body_case == TENET__ENVELOPE__BODY_DUMP_END);
  CHECK_INT(q.m[2]->dump_end->scan_id, 17);
  CHECK_INT(q.m[2]->dump_end->elements_sent, 3);
  REQUIRE(q.m[3]->body_case == TENET__ENVELOPE__BODY_SCAN_SUMMARY);
  CHECK_INT(q.m[3]->scan_summary->end_of_dump, 1);
  CHECK_STR(q.m[3]->scan_summary->policy_name, "Seed policy");
  CHECK_INT(q.m[3]->scan_summary->scan_id, 17);
  ack_all(s, &q);

  /* Not flushed: no summary. Unknown policy: an empty dump. */
  REQUIRE(agent_outbox_record_dump(s, "seed", 0, &lim, &added, err, sizeof err) == TN_OK);
  REQUIRE(agent_outbox_record_dump(s, "nope", 1, &lim, &added, err, sizeof err) == TN_OK);
  drain(s, &q, 0);
  REQUIRE(q.n == 3);
  CHECK_INT(q.m[0]->check_deltas->n_checks, 3);
  CHECK_INT(q.m[1]->dump_end->elements_sent, 3);
  CHECK_STR(q.m[2]->dump_end->policy_id, "nope");
  CHECK_INT(q.m[2]->dump_end->scan_id, -1);
  CHECK_INT(q.m[2]->dump_end->elements_sent, 0);
  ack_all(s, &q);
  agent_store_close(s);
}

static void test_policy_list(void) {
  agent_store *s = agent_store_open(db, err, sizeof err);
  REQUIRE(s);
  const char *ids[] = {"seed", "other"};
  int queued_list = 0;
  REQUIRE(agent_outbox_record_policy_list(s, ids, 2, &lim, &queued_list, err, sizeof err) == TN_OK);
  CHECK_INT(queued_list, 1);
  queued q;
  drain(s, &q, 0);
  REQUIRE(q.n == 1 && q.m[0]->body_case == TENET__ENVELOPE__BODY_POLICY_LIST);
  REQUIRE(q.m[0]->policy_list->n_policy_ids == 2);
  CHECK_STR(q.m[0]->policy_list->policy_ids[0], "other"); /* sorted */
  ack_all(s, &q);
  /* Same list in another order: nothing to say. */
  const char *again[] = {"other", "seed"};
  REQUIRE(agent_outbox_record_policy_list(s, again, 2, &lim, &queued_list, err, sizeof err) == TN_OK);
  CHECK_INT(queued_list, 0);
  /* "seed" is no longer run: its state goes, the new list is queued. */
  REQUIRE(agent_outbox_record_policy_list(s, ids + 1, 1, &lim, &queued_list, err, sizeof err) == TN_OK);
  CHECK_INT(queued_list, 1);
  agent_policy_row row;
  int found;
  REQUIRE(agent_store_policy_get(s, "seed", &row, &found) == TN_OK);
  CHECK_INT(found, 0);
  char h[65];
  size_t n;
  REQUIRE(agent_store_results_hash(s, "seed", h, &n) == TN_OK);
  CHECK_INT(n, 0);
  drain(s, &q, 0);
  CHECK_INT(q.n, 1);
  ack_all(s, &q);
  agent_store_close(s);
}

static void test_uncommitted_is_lost_committed_is_kept(void) {
  agent_store *s = agent_store_open(db, err, sizeof err);
  REQUIRE(s);
  policy_scan scan;
  agent_record_result res;
  agent_policy_meta m = meta(BUNDLE_A, 3);
  make_scan(&scan, 21, seed_ids, seed_res, 4);
  REQUIRE(agent_outbox_record_scan(s, &m, &scan, &lim, &res, err, sizeof err) == TN_OK);
  policy_scan_free(&scan);
  size_t count, bytes;
  REQUIRE(agent_store_outbox_stats(s, &count, &bytes) == TN_OK);
  CHECK_INT(count, 2);
  /* A scan that dies before its commit (the process killed): nothing of it remains. */
  REQUIRE(agent_store_begin(s) == TN_OK);
  agent_check_row r = {1000, 2, "", 22, "{}", NULL, 0};
  REQUIRE(agent_store_check_put(s, "seed", &r) == TN_OK);
  uint64_t seq;
  REQUIRE(agent_store_outbox_next_seq(s, &seq) == TN_OK);
  REQUIRE(agent_store_outbox_add(s, seq, "check_deltas", "seed", (const uint8_t *)"xxxx", 4) == TN_OK);
  agent_store_close(s); /* no commit */

  s = agent_store_open(db, err, sizeof err);
  REQUIRE(s);
  char h[65];
  size_t n;
  REQUIRE(agent_store_results_hash(s, "seed", h, &n) == TN_OK);
  CHECK_STR(h, SEED_HASH);
  REQUIRE(agent_store_outbox_stats(s, &count, &bytes) == TN_OK);
  CHECK_INT(count, 2);
  /* A later seq never reuses the lost one's number range below the committed ones. */
  REQUIRE(agent_store_begin(s) == TN_OK);
  uint64_t seq2;
  REQUIRE(agent_store_outbox_next_seq(s, &seq2) == TN_OK);
  agent_store_rollback(s);
  queued q;
  drain(s, &q, 0);
  CHECK(seq2 > q.seq[1]);
  ack_all(s, &q);
  agent_store_close(s);
}

static void test_batches_and_big_policies(void) {
  agent_store *s = agent_store_open(db, err, sizeof err);
  REQUIRE(s);
  enum { N = 600 };
  int64_t *ids = malloc(N * sizeof *ids);
  int *res = malloc(N * sizeof *res);
  for (int i = 0; i < N; i++) {
    ids[i] = 5000 + i;
    res[i] = i % 3 == 0 ? EV_FOUND : i % 3 == 1 ? EV_NOT_FOUND : EV_INVALID;
  }
  policy_scan scan;
  agent_record_result rr;
  agent_policy_meta m = meta(BUNDLE_B, 9);
  m.policy_id = "big";
  make_scan(&scan, 31, ids, res, N);
  REQUIRE(agent_outbox_record_scan(s, &m, &scan, &lim, &rr, err, sizeof err) == TN_OK);
  CHECK_INT(rr.changed, N);
  CHECK_INT(rr.messages, 4); /* 256 + 256 + 88, summary */
  /* A frame cap that fits only a few events splits the batches further. */
  agent_outbox_limits tiny = {256, 4096};
  agent_policy_meta m2 = meta(BUNDLE_A, 10);
  m2.policy_id = "big";
  REQUIRE(agent_outbox_record_scan(s, &m2, &scan, &tiny, &rr, err, sizeof err) == TN_OK);
  CHECK(rr.messages > 20);
  policy_scan_free(&scan);
  free(ids);
  free(res);
  REQUIRE(agent_store_outbox_ack(s, UINT64_MAX >> 1, NULL) == TN_OK);
  agent_store_close(s);
}

static void test_not_a_state_db(void) {
  char other[PATH_MAX + 32];
  snprintf(other, sizeof other, "%s/garbage.db", dir);
  tmp_write(other, "this is not a database, just text that is long enough to look like a header........\n");
  agent_store *s = agent_store_open(other, err, sizeof err);
  CHECK(s == NULL);
  CHECK(strstr(err, "garbage.db") != NULL);
  agent_store_close(s);
}

/* 5.x "not run" (docs/PROTOCOL.md 6.7): a not-run check never replaces the stored result, is not
 * deleted as stale, sends no delta, and the results hash keeps the last known result. */
static void test_not_run_keeps_last_state(void) {
  char path[PATH_MAX + 32];
  snprintf(path, sizeof path, "%s/notrun.db", dir);
  agent_store *s = agent_store_open(path, err, sizeof err);
  REQUIRE(s);
  policy_scan scan;
  agent_record_result res;
  agent_policy_meta m = meta(BUNDLE_A, 1);
  queued q;
  make_scan(&scan, 21, seed_ids, seed_res, 4);
  REQUIRE(agent_outbox_record_scan(s, &m, &scan, &lim, &res, err, sizeof err) == TN_OK);
  policy_scan_free(&scan);
  CHECK_STR(res.results_hash, SEED_HASH);
  drain(s, &q, 0);
  ack_all(s, &q);

  /* 1000 (passed) and 1002 (failed) time out; 1004 is new and times out: nothing known. */
  const int64_t ids[] = {1000, 1001, 1002, 1003, 1004};
  const int now[] = {EV_FOUND, EV_NOT_FOUND, EV_NOT_FOUND, EV_FOUND, EV_FOUND};
  make_scan(&scan, 22, ids, now, 5);
  scan.checks[0].result = EV_NOT_RUN;
  scan.checks[2].result = EV_NOT_RUN;
  scan.checks[4].result = EV_NOT_RUN;
  REQUIRE(agent_outbox_record_scan(s, &m, &scan, &lim, &res, err, sizeof err) == TN_OK);
  policy_scan_free(&scan);
  CHECK_INT(res.changed, 0);
  CHECK_STR(res.results_hash, SEED_HASH);
  int64_t *sid = NULL;
  int *sres = NULL;
  size_t n = 0;
  REQUIRE(agent_store_check_results(s, "seed", &sid, &sres, &n) == TN_OK);
  REQUIRE(n == 4); /* kept, not stale; 1004 has no row */
  CHECK_INT(sid[0], 1000);
  CHECK_INT(sres[0], TENET__CHECK_RESULT__PASSED);
  CHECK_INT(sid[2], 1002);
  CHECK_INT(sres[2], TENET__CHECK_RESULT__FAILED);
  free(sid);
  free(sres);
  drain(s, &q, 0);
  REQUIRE(q.n == 1 && q.m[0]->body_case == TENET__ENVELOPE__BODY_SCAN_SUMMARY);
  CHECK_STR(xh(q.m[0]->scan_summary->results_hash), SEED_HASH);
  ack_all(s, &q);

  /* The commands run again with the old results: still no change. */
  make_scan(&scan, 23, seed_ids, seed_res, 4);
  REQUIRE(agent_outbox_record_scan(s, &m, &scan, &lim, &res, err, sizeof err) == TN_OK);
  policy_scan_free(&scan);
  CHECK_INT(res.changed, 0);
  CHECK_STR(res.results_hash, SEED_HASH);
  drain(s, &q, 0);
  ack_all(s, &q);
  agent_store_close(s);
}

int main(void) {
  tmp_make("agent-state", dir, sizeof dir);
  snprintf(db, sizeof db, "%s/agent.db", dir);
  RUN(test_first_scan_then_deltas);
  RUN(test_dump);
  RUN(test_policy_list);
  RUN(test_uncommitted_is_lost_committed_is_kept);
  RUN(test_batches_and_big_policies);
  RUN(test_not_a_state_db);
  RUN(test_not_run_keeps_last_state);
  tmp_remove(dir);
  return test_report();
}
