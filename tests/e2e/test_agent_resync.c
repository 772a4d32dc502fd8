/* test_agent_resync.c — what a new session queues so that any manager compares results hashes
 * (agent_outbox_record_resync, agent/outbox.h), on a real SQLite store: each policy's last summary
 * again (metadata included, end_of_dump false, a fresh seq after everything waiting) and the last
 * policy list; nothing for what already waits, so repeated sessions without an Ack add nothing;
 * nothing for a policy without a stored summary or a store that never scanned. */
#include <limits.h>

#include "agent/outbox.h"
#include "agent/store.h"
#include "codec.h"
#include "err.h"
#include "eval.h"
#include "frame.h"
#include "test.h"
#include "tmpdir.h"

static char dir[PATH_MAX], db[PATH_MAX + 16], err[1024];
static const agent_outbox_limits lim = {256, FRAME_MAX_DEFAULT};

/* A finished scan of policy_id: checks 1..n, passed when odd, failed when even. */
static void make_scan(policy_scan *s, const char *policy_id, int64_t scan_id, size_t n) {
  memset(s, 0, sizeof *s);
  s->status = SCAN_DONE;
  s->scan_id = scan_id;
  s->checks = calloc(n, sizeof *s->checks);
  s->nchecks = n;
  for (size_t i = 0; i < n; i++) {
    check_result *c = &s->checks[i];
    c->id = (int64_t)i + 1;
    c->result = i % 2 == 0 ? EV_FOUND : EV_NOT_FOUND;
    if (asprintf(
            &c->event,
            "{\"type\":\"check\",\"id\":%lld,\"policy\":\"P\",\"policy_id\":\"%s\",\"check\":{\"id\":%lld,"
            "\"title\":\"c\",\"result\":\"%s\"}}",
            (long long)scan_id, policy_id, (long long)c->id, i % 2 == 0 ? "passed" : "failed") < 0)
      abort();
    if (i % 2 == 0)
      s->passed++;
    else
      s->failed++;
  }
  s->score = (float)s->passed / ((float)s->passed + (float)s->failed) * 100;
  s->start_time = 1700000000;
  s->end_time = 1700000001;
}

static void record(agent_store *s, const char *policy_id, size_t nchecks, char hash[65]) {
  agent_policy_meta m = {.policy_id = policy_id,
                         .name = "Policy name",
                         .file = "p.yml",
                         .description = "what it checks",
                         .references = "https://example.org",
                         .policy_version = 3};
  memset(m.bundle_hash, 'a', 64);
  memset(m.source_hash, 'c', 64);
  policy_scan scan;
  agent_record_result res;
  make_scan(&scan, policy_id, 42, nchecks);
  int rc = agent_outbox_record_scan(s, &m, &scan, &lim, &res, err, sizeof err);
  if (rc != TN_OK) fprintf(stderr, "record_scan: %s\n", err);
  REQUIRE(rc == TN_OK);
  memcpy(hash, res.results_hash, 65);
  policy_scan_free(&scan);
}

/* The outbox decoded, in order. */
typedef struct queued {
  Tenet__Envelope *m[16];
  uint64_t seq[16];
  size_t n;
} queued;

static int take(void *arg, uint64_t seq, const char *kind, const uint8_t *frame, size_t len) {
  queued *q = arg;
  if (q->n == 16) return 1;
  REQUIRE(len > FRAME_HEADER_LEN);
  REQUIRE(codec_decode(frame + FRAME_HEADER_LEN, len - FRAME_HEADER_LEN, FRAME_MAX_DEFAULT, &q->m[q->n], err,
                       sizeof err) == TN_OK);
  CHECK_STR(kind, codec_body_name(q->m[q->n]->body_case));
  q->seq[q->n++] = seq;
  return 0;
}

static void drain(agent_store *s, queued *q) {
  memset(q, 0, sizeof *q);
  REQUIRE(agent_store_outbox_each(s, 0, 16, take, q) == TN_OK);
}

static void release(queued *q) {
  for (size_t i = 0; i < q->n; i++)
    codec_free(q->m[i]);
  q->n = 0;
}

static void ack_all(agent_store *s) { REQUIRE(agent_store_outbox_ack(s, UINT64_MAX >> 1, NULL) == TN_OK); }

static void test_empty_store(void) {
  agent_store *s = agent_store_open(db, err, sizeof err);
  REQUIRE(s);
  size_t n = 99;
  REQUIRE(agent_outbox_record_resync(s, &lim, &n, err, sizeof err) == TN_OK);
  CHECK_INT(n, 0);
  queued q;
  drain(s, &q);
  CHECK_INT(q.n, 0);
  agent_store_close(s);
}

static void test_resync(void) {
  agent_store *s = agent_store_open(db, err, sizeof err);
  REQUIRE(s);
  char h1[65], h2[65];
  record(s, "p1", 5, h1);
  record(s, "p2", 2, h2);
  const char *ids[] = {"p2", "p1"};
  REQUIRE(agent_outbox_record_policy_list(s, ids, 2, &lim, NULL, err, sizeof err) == TN_OK);

  /* Everything waits already: a summary per policy and the list. Nothing is added. */
  size_t n = 99;
  REQUIRE(agent_outbox_record_resync(s, &lim, &n, err, sizeof err) == TN_OK);
  CHECK_INT(n, 0);

  /* A manager acknowledged all of it; the next session queues the hash check. */
  queued q;
  drain(s, &q);
  uint64_t last = q.seq[q.n - 1];
  release(&q);
  ack_all(s);
  REQUIRE(agent_outbox_record_resync(s, &lim, &n, err, sizeof err) == TN_OK);
  CHECK_INT(n, 3);
  drain(s, &q);
  REQUIRE(q.n == 3);
  CHECK(q.seq[0] > last);
  const char *want_ids[] = {"p1", "p2"};
  const char *want_hash[] = {h1, h2};
  for (int i = 0; i < 2; i++) {
    REQUIRE(q.m[i]->body_case == TENET__ENVELOPE__BODY_SCAN_SUMMARY);
    Tenet__ScanSummary *sum = q.m[i]->scan_summary;
    CHECK_STR(sum->policy_id, want_ids[i]);
    CHECK_INT(q.m[i]->seq, q.seq[i]);
    CHECK_INT(sum->end_of_dump, 0);
    CHECK_STR(sum->policy_name, "Policy name"); /* a manager without a copy gets the metadata */
    CHECK_INT(sum->scan_id, 42);
    CHECK_INT(sum->policy_version, 3);
    char hex[65];
    codec_hash_to_hex(&sum->results_hash, hex);
    CHECK_STR(hex, want_hash[i]);
  }
  REQUIRE(q.m[2]->body_case == TENET__ENVELOPE__BODY_POLICY_LIST);
  REQUIRE(q.m[2]->policy_list->n_policy_ids == 2);
  CHECK_STR(q.m[2]->policy_list->policy_ids[0], "p1");
  CHECK_STR(q.m[2]->policy_list->policy_ids[1], "p2");
  uint64_t list_seq = q.seq[2];
  release(&q);

  /* Sessions that end before an Ack add nothing more. */
  for (int i = 0; i < 3; i++) {
    REQUIRE(agent_outbox_record_resync(s, &lim, &n, err, sizeof err) == TN_OK);
    CHECK_INT(n, 0);
  }
  /* Only what no longer waits is queued again (here: the list). */
  REQUIRE(agent_store_outbox_delete(s, list_seq) == TN_OK);
  REQUIRE(agent_outbox_record_resync(s, &lim, &n, err, sizeof err) == TN_OK);
  CHECK_INT(n, 1);
  size_t rows = 0, bytes = 0;
  REQUIRE(agent_store_outbox_stats(s, &rows, &bytes) == TN_OK);
  CHECK_INT(rows, 3);
  agent_store_close(s);
}

int main(void) {
  tmp_make("resync", dir, sizeof dir);
  snprintf(db, sizeof db, "%s/agent.db", dir);
  RUN(test_empty_store);
  RUN(test_resync);
  tmp_remove(dir);
  return test_report();
}
