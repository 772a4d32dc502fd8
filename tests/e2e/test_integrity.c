/* test_integrity.c — the two integrity mechanisms end to end at the logic level: an agent store
 * (agent/outbox.c) feeding the manager's integrity logic (manager/integrity.c) through encoded
 * frames, both on real SQLite files, with the manager's replies (Acks, DumpRequests) fed back.
 * Covers the seed document's table (check 1002 lost in transit: 1642ab1d… vs b43037ca…, a dump,
 * convergence), unchanged scans, changed results, a new bundle (the exact INFO line, flush, dump,
 * an alert per check), duplicates after a lost Ack, policy lists, checks that disappear, agent
 * isolation, and the alert lines themselves. */
#include <limits.h>

#include "agent/outbox.h"
#include "agent/store.h"
#include "codec.h"
#include "daemon_log.h"
#include "err.h"
#include "eval.h"
#include "frame.h"
#include "manager/alerts.h"
#include "manager/integrity.h"
#include "manager/store.h"
#include "test.h"
#include "tmpdir.h"

#define SEED_HASH "1642ab1dc478052ac3556b5e700cd82adb69728008301882b9cbee0696ff2c84"
#define MISSING_1002 "b43037ca28d95a69b6f9e03fcd826d2b253a6bb1b6ad28c4ae57a3a766ace610"
#define BUNDLE_A "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define BUNDLE_B "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"

static char dir[PATH_MAX], err[1024], logpath[PATH_MAX + 16], alertpath[PATH_MAX + 16];
static const agent_outbox_limits lim = {256, FRAME_MAX_DEFAULT};

typedef struct world {
  agent_store *as;
  mstore *ms;
  alerts *al;
  integrity *ig;
  integrity_agent *ia;
  /* copies of every frame delivered, to replay them */
  uint8_t *frames[256];
  size_t lens[256];
  size_t nframes;
  int dumps_requested;
} world;

/* The program of the checks' metadata (what the agent reads its check details from). */
static program *make_program(const int64_t *ids, size_t n) {
  program *p = program_new();
  REQUIRE(p);
  p->policy_name = program_intern(p, "Seed policy");
  p->policy_id = program_intern(p, "seed");
  for (size_t i = 0; i < n; i++) {
    char title[64], cis[32];
    snprintf(title, sizeof title, "Ensure flag %lld is ok", (long long)ids[i]);
    snprintf(cis, sizeof cis, "1.1.%lld", (long long)ids[i]);
    uint32_t comp[] = {program_intern(p, "cis"), program_intern(p, cis), program_intern(p, "cis_csc"),
                       program_intern(p, "5.1,6.2")};
    uint32_t rules[] = {program_intern(p, "f:/tmp/x -> r:^ok")};
    prog_check c = {.id = ids[i],
                    .title = program_intern(p, title),
                    .meta = PROG_NONE,
                    .description = program_intern(p, "d\"q\xc3\xa9"),
                    .rationale = program_intern(p, "r"),
                    .remediation = program_intern(p, "fix it"),
                    .references = program_intern(p, "https://a,https://b"),
                    .condition_text = program_intern(p, "all"),
                    .compliance = program_add_list(p, comp, 4),
                    .ncompliance = 2,
                    .rules = program_add_list(p, rules, 1),
                    .nrules = 1};
    REQUIRE(program_add_check(p, &c) == TN_OK);
  }
  return p;
}

static void make_scan(policy_scan *s, int64_t scan_id, const int64_t *ids, const int *res, size_t n) {
  memset(s, 0, sizeof *s);
  s->prog = make_program(ids, n);
  s->status = SCAN_DONE;
  s->scan_id = scan_id;
  s->checks = calloc(n, sizeof *s->checks);
  s->nchecks = n;
  for (size_t i = 0; i < n; i++) {
    check_result *c = &s->checks[i];
    c->id = ids[i];
    c->index = (uint32_t)i;
    c->result = res[i];
    if (res[i] == EV_INVALID) c->reason = strdup("Could not open file '/tmp/x'");
    if (asprintf(&c->loc[LOC_FILE], "/tmp/flag%lld,/tmp/other", (long long)ids[i]) < 0) abort();
    if (asprintf(
            &c->event,
            "{\"type\":\"check\",\"id\":%lld,\"policy\":\"Seed "
            "policy\",\"policy_id\":\"seed\",\"check\":{\"id\":%lld,"
            "\"title\":\"Ensure flag %lld is ok\",\"description\":\"d\\\"q\\u00e9\",\"rationale\":\"r\","
            "\"remediation\":\"fix it\",\"compliance\":{\"cis\":\"1.1.%lld\",\"cis_csc\":\"5.1,6.2\"},"
            "\"rules\":[\"f:/tmp/x -> r:^ok\"],\"condition\":\"all\",\"references\":\"https://a,https://b\","
            "\"file\":\"/tmp/flag%lld,/tmp/other\",\"result\":\"x\"}}",
            (long long)scan_id, (long long)ids[i], (long long)ids[i], (long long)ids[i],
            (long long)ids[i]) < 0)
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
  s->end_time = 1700000002;
}

static void scan(world *w, const char *bundle, uint64_t version, int64_t scan_id, const int64_t *ids,
                 const int *res, size_t n) {
  agent_policy_meta m = {.policy_id = "seed",
                         .name = "Seed policy",
                         .file = "seed.yml",
                         .description = "Seed table",
                         .references = "",
                         .policy_version = version};
  snprintf(m.bundle_hash, sizeof m.bundle_hash, "%s", bundle);
  snprintf(m.source_hash, sizeof m.source_hash, "%064d", 0);
  policy_scan s;
  make_scan(&s, scan_id, ids, res, n);
  agent_record_result rr;
  int rc = agent_outbox_record_scan(w->as, &m, &s, &lim, &rr, err, sizeof err);
  if (rc != TN_OK) fprintf(stderr, "record: %s\n", err);
  program *prog = (program *)s.prog;
  policy_scan_free(&s);
  program_free(prog);
  REQUIRE(rc == TN_OK);
}

typedef struct pump_ctx {
  world *w;
  int failed;
} pump_ctx;

static int deliver(void *arg, uint64_t seq, const char *kind, const uint8_t *frame, size_t len) {
  pump_ctx *p = arg;
  world *w = p->w;
  Tenet__Envelope *m;
  if (codec_decode(frame + FRAME_HEADER_LEN, len - FRAME_HEADER_LEN, FRAME_MAX_DEFAULT, &m, err,
                   sizeof err) != TN_OK) {
    p->failed = 1;
    return 1;
  }
  if (w->nframes < 256) {
    w->frames[w->nframes] = malloc(len);
    memcpy(w->frames[w->nframes], frame, len);
    w->lens[w->nframes++] = len;
  }
  if (!mstore_in_transaction(w->ms) && mstore_begin(w->ms) != TN_OK) p->failed = 1;
  if (integrity_apply(w->ig, w->ia, m, 1700000100) != TN_OK) p->failed = 1;
  codec_free(m);
  return p->failed;
}

/* Commit the manager's batch and feed its replies back to the agent. */
static void settle(world *w) {
  if (mstore_in_transaction(w->ms)) {
    REQUIRE(integrity_agent_sync(w->ig, w->ia, 1700000100) == TN_OK);
    REQUIRE(mstore_commit(w->ms) == TN_OK);
  }
  REQUIRE(alerts_flush(w->al) == TN_OK);
  uint64_t ack = integrity_agent_take_ack(w->ia);
  if (ack) REQUIRE(agent_store_outbox_ack(w->as, ack, NULL) == TN_OK);
  const integrity_request *req;
  size_t n = integrity_agent_take_requests(w->ia, &req);
  for (size_t i = 0; i < n; i++) {
    w->dumps_requested++;
    REQUIRE(agent_outbox_record_dump(w->as, req[i].policy_id, req[i].flushed, &lim, NULL, err, sizeof err) ==
            TN_OK);
  }
}

/* Deliver the whole outbox (one batch per round) until the two sides are quiet. */
static void pump(world *w) {
  for (int round = 0; round < 10; round++) {
    size_t count, bytes;
    REQUIRE(agent_store_outbox_stats(w->as, &count, &bytes) == TN_OK);
    if (!count) return;
    pump_ctx p = {w, 0};
    REQUIRE(agent_store_outbox_each(w->as, 0, 1000, deliver, &p) == TN_OK);
    REQUIRE(!p.failed);
    settle(w);
  }
  CHECK(!"the exchange did not settle in 10 rounds");
}

static void open_world(world *w, const char *agent_db, const char *agent_id, int64_t drop) {
  memset(w, 0, sizeof *w);
  char p[PATH_MAX + 64];
  snprintf(p, sizeof p, "%s/%s", dir, agent_db);
  REQUIRE((w->as = agent_store_open(p, err, sizeof err)));
  snprintf(p, sizeof p, "%s/manager.db", dir);
  REQUIRE((w->ms = mstore_open(p, 0, 0, err, sizeof err)));
  REQUIRE((w->al = alerts_open(alertpath, err, sizeof err)));
  integrity_options o = {drop, 3};
  REQUIRE((w->ig = integrity_new(w->ms, w->al, &o)));
  REQUIRE((w->ia = integrity_agent_new(w->ig, agent_id)));
  Tenet__Hello h = TENET__HELLO__INIT;
  h.agent_id = (char *)agent_id;
  h.agent_version = "test";
  REQUIRE(mstore_begin(w->ms) == TN_OK);
  REQUIRE(integrity_hello(w->ig, w->ia, &h, 1700000000) == TN_OK);
  settle(w);
}

static void close_world(world *w) {
  for (size_t i = 0; i < w->nframes; i++)
    free(w->frames[i]);
  integrity_agent_free(w->ia);
  integrity_free(w->ig);
  alerts_close(w->al);
  mstore_close(w->ms);
  agent_store_close(w->as);
}

static void hashes(world *w, const char *agent_id, char agent_h[65], char mgr_h[65]) {
  size_t n;
  REQUIRE(agent_store_results_hash(w->as, "seed", agent_h, &n) == TN_OK);
  REQUIRE(mstore_results_hash(w->ms, agent_id, "seed", mgr_h, &n) == TN_OK);
}

static int lines(const char *path) {
  char *s = tmp_read(path);
  int n = 0;
  for (char *p = s; p && *p; p++)
    n += *p == '\n';
  free(s);
  return n;
}

static const int64_t ids[] = {1000, 1001, 1002, 1003};
static const int seed[] = {EV_FOUND, EV_NOT_FOUND, EV_NOT_FOUND, EV_FOUND};

static void test_seed_scenario(void) {
  world w;
  open_world(&w, "agent-002.db", "002", 1002);
  scan(&w, BUNDLE_A, 1, 501, ids, seed, 4);
  /* Deliver the first batch only: check 1002 is lost in transit. */
  pump_ctx p = {&w, 0};
  REQUIRE(agent_store_outbox_each(w.as, 0, 1000, deliver, &p) == TN_OK);
  REQUIRE(mstore_in_transaction(w.ms));
  char ah[65], mh[65];
  hashes(&w, "002", ah, mh);
  CHECK_STR(ah, SEED_HASH);
  CHECK_STR(mh, MISSING_1002);
  char line[512];
  snprintf(
      line, sizeof line,
      "INFO: Scan result integrity failed for policy 'seed' of agent '002'. Hash from DB: '%s', hash from "
      "summary: '%s'. Requesting DB dump.",
      MISSING_1002, SEED_HASH);
  CHECK_INT(tmp_count(logpath, line), 1);
  settle(&w);
  CHECK_INT(w.dumps_requested, 1);
  pump(&w);
  hashes(&w, "002", ah, mh);
  CHECK_STR(mh, SEED_HASH);
  CHECK_STR(ah, mh);
  CHECK_INT(tmp_count(logpath, "Policy 'seed' of agent '002' is in sync after a dump of 4 checks"), 1);
  /* alerts: 1000, 1001, 1003 first seen, the summary, then 1002 first seen from the dump */
  CHECK_INT(lines(alertpath), 5);
  CHECK_INT(tmp_count(alertpath, "\"type\":\"check\""), 4);
  CHECK_INT(tmp_count(alertpath, "\"type\":\"summary\""), 1);
  CHECK_INT(tmp_count(alertpath, "\"previous_result\""), 0);
  mstore_agent ag;
  int found;
  REQUIRE(mstore_agent_get(w.ms, "002", &ag, &found) == TN_OK && found);
  CHECK_INT(ag.c.dropped_checks, 1);
  CHECK_INT(ag.c.dumps_requested, 1);
  CHECK_INT(ag.c.dump_checks, 4);

  /* Unchanged rescan: the summary alone, no alert, no dump. */
  int before = lines(alertpath);
  scan(&w, BUNDLE_A, 1, 502, ids, seed, 4);
  pump(&w);
  CHECK_INT(lines(alertpath), before);
  CHECK_INT(w.dumps_requested, 1);
  REQUIRE(mstore_agent_get(w.ms, "002", &ag, &found) == TN_OK && found);
  CHECK_INT(ag.c.summaries, 2);
  CHECK_INT(ag.c.deltas, 1);

  /* 1001 failed -> passed: one check alert with the previous result, one summary alert. */
  const int changed[] = {EV_FOUND, EV_FOUND, EV_NOT_FOUND, EV_FOUND};
  scan(&w, BUNDLE_A, 1, 503, ids, changed, 4);
  pump(&w);
  CHECK_INT(lines(alertpath), before + 2);
  CHECK_INT(tmp_count(alertpath, "\"result\":\"passed\",\"previous_result\":\"failed\""), 1);
  hashes(&w, "002", ah, mh);
  CHECK_STR(ah, mh);

  /* A lost Ack: the agent sends the same frames again; the manager applies nothing twice. */
  size_t nf = w.nframes;
  REQUIRE(mstore_begin(w.ms) == TN_OK);
  for (size_t i = 0; i < nf; i++) {
    Tenet__Envelope *m;
    REQUIRE(codec_decode(w.frames[i] + 4, w.lens[i] - 4, FRAME_MAX_DEFAULT, &m, err, sizeof err) == TN_OK);
    REQUIRE(integrity_apply(w.ig, w.ia, m, 1700000200) == TN_OK);
    codec_free(m);
  }
  settle(&w);
  CHECK_INT(lines(alertpath), before + 2);
  REQUIRE(mstore_agent_get(w.ms, "002", &ag, &found) == TN_OK && found);
  CHECK_INT(ag.c.duplicates, (int64_t)nf);
  close_world(&w);
}

static void test_new_bundle(void) {
  world w;
  open_world(&w, "agent-002.db", "002", -1);
  int before = lines(alertpath);
  const int changed[] = {EV_FOUND, EV_FOUND, EV_NOT_FOUND, EV_FOUND};
  scan(&w, BUNDLE_B, 2, 601, ids, changed, 4);
  pump(&w);
  CHECK_INT(tmp_count(logpath,
                      "INFO: Policy 'seed' information for agent '002' is outdated. Requested latest scan "
                      "results."),
            1);
  /* every check arrives as new (no alert: same results), then the flushed dump alerts for each of
   * the 4 checks, then the end-of-dump summary alerts */
  CHECK_INT(lines(alertpath), before + 5);
  char ah[65], mh[65];
  hashes(&w, "002", ah, mh);
  CHECK_STR(ah, mh);
  mstore_policy p;
  int found;
  REQUIRE(mstore_policy_get(w.ms, "002", "seed", &p, &found) == TN_OK && found);
  CHECK_STR(p.bundle_hash, BUNDLE_B);
  CHECK_INT(p.policy_version, 2);
  CHECK_STR(p.name, "Seed policy");
  CHECK_STR(p.summary_hash, mh);
  mstore_policy_free(&p);

  /* A check the agent no longer has is removed at the end of a dump. */
  REQUIRE(mstore_begin(w.ms) == TN_OK);
  mstore_check extra = {1004, "passed", "", 1, "{}", 1, "gone"};
  REQUIRE(mstore_check_put(w.ms, "002", "seed", &extra) == TN_OK);
  REQUIRE(mstore_commit(w.ms) == TN_OK);
  scan(&w, BUNDLE_B, 2, 602, ids, changed, 4);
  pump(&w);
  hashes(&w, "002", ah, mh);
  CHECK_STR(ah, mh);
  CHECK_INT(tmp_count(logpath, "Agent '002' policy 'seed': removed 1 checks the agent no longer has"), 1);

  /* The agent stops running the policy: the manager deletes it. */
  int queued = 0;
  REQUIRE(agent_outbox_record_policy_list(w.as, NULL, 0, &lim, &queued, err, sizeof err) == TN_OK);
  CHECK_INT(queued, 1);
  pump(&w);
  size_t n;
  REQUIRE(mstore_results_hash(w.ms, "002", "seed", mh, &n) == TN_OK);
  CHECK_INT(n, 0);
  REQUIRE(mstore_policy_get(w.ms, "002", "seed", &p, &found) == TN_OK);
  CHECK_INT(found, 0);
  mstore_policy_free(&p);
  close_world(&w);
}

static void test_isolation(void) {
  /* Agent 003 runs the same policy id; its messages only ever touch its own rows. */
  world a, b;
  open_world(&a, "agent-003.db", "003", -1);
  scan(&a, BUNDLE_A, 1, 701, ids, seed, 4);
  pump(&a);
  open_world(&b, "agent-004.db", "004", -1);
  const int other[] = {EV_NOT_FOUND, EV_NOT_FOUND, EV_NOT_FOUND, EV_NOT_FOUND};
  scan(&b, BUNDLE_B, 5, 702, ids, other, 4);
  pump(&b);
  char ah[65], mh[65];
  hashes(&a, "003", ah, mh);
  CHECK_STR(mh, SEED_HASH);
  hashes(&b, "004", ah, mh);
  CHECK_STR(ah, mh);
  CHECK(strcmp(mh, SEED_HASH) != 0);
  CHECK_INT(tmp_count(logpath, "information for agent '003' is outdated"), 0);
  close_world(&b);
  close_world(&a);
}

/* Every alert line: the Wazuh shape, the check metadata from the structured detail the agent
 * sent (never from its event JSON), locations split into arrays, no rules. The exact bytes are
 * pinned by tests/unit/test_alerts.c. */
static void test_alert_fields(void) {
  char *all = tmp_read(alertpath);
  REQUIRE(all);
  int checked = 0, checks = 0;
  for (char *line = strtok(all, "\n"); line; line = strtok(NULL, "\n")) {
    CHECK(strncmp(line, "{\"timestamp\":\"", 14) == 0);
    CHECK(strstr(line, "\"location\":\"sca\",\"data\":{\"sca\":{\"type\":\"") != NULL);
    CHECK(line[strlen(line) - 1] == '}');
    if (strstr(line, "\"type\":\"check\"")) {
      const char *c = strstr(line, "\"policy\":\"Seed policy\",\"check\":{\"id\":\"");
      REQUIRE(c);
      char want[512];
      long long id = strtoll(c + 38, NULL, 10);
      snprintf(want, sizeof want,
               "\"id\":\"%lld\",\"title\":\"Ensure flag %lld is ok\",\"description\":\"d\\\"q\xc3\xa9\","
               "\"rationale\":\"r\",\"remediation\":\"fix it\",\"compliance\":{\"cis\":\"1.1.%lld\","
               "\"cis_csc\":\"5.1,6.2\"},\"references\":\"https://a,https://b\","
               "\"file\":[\"/tmp/flag%lld\",\"/tmp/other\"],\"result\":\"",
               id, id, id, id);
      if (!strstr(line, want)) fprintf(stderr, "alert: %s\nwant:  %s\n", line, want);
      CHECK(strstr(line, want) != NULL);
      CHECK(strstr(line, "\"rules\"") == NULL);
      checks++;
    } else {
      CHECK(strstr(line, "\"type\":\"summary\"") != NULL);
      CHECK(strstr(line, "\"policy\":\"Seed policy\",\"description\":\"Seed table\",\"policy_id\":\"seed\"") != NULL);
      CHECK(strstr(line, "\"file\":\"seed.yml\"}}}") != NULL);
    }
    checked++;
  }
  CHECK(checked > 10 && checks > 5);
  free(all);
}

int main(void) {
  tmp_make("integrity", dir, sizeof dir);
  snprintf(logpath, sizeof logpath, "%s/manager.log", dir);
  snprintf(alertpath, sizeof alertpath, "%s/alerts.json", dir);
  REQUIRE(dlog_open("tenet-manager", logpath, DLOG_INFO, err, sizeof err) == TN_OK);
  RUN(test_seed_scenario);
  RUN(test_new_bundle);
  RUN(test_isolation);
  RUN(test_alert_fields);
  dlog_close();
  tmp_remove(dir);
  return test_report();
}
