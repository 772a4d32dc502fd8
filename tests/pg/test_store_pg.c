/* test_store_pg.c — the manager store's PostgreSQL backend against a real throwaway cluster (the
 * CTest fixture `pg`; skipped with the reason when PostgreSQL is not installed):
 *
 *   - the same sequence of every mstore_* operation on SQLite and on PostgreSQL prints the same
 *     transcript (rows, counts, order, results hashes — the ARCHITECTURE.md example included)
 *   - migrations from an empty database; a second open does not migrate again; a store newer
 *     than the binary is refused (writer, reader and -t probe); a reader refuses a bare database
 *   - ownership: a second handle ("manager") cannot claim an agent the first holds; it can once
 *     the first released it (a release inside a transaction waits for its end), closed its
 *     store, or was killed with SIGKILL
 *   - node-scoped connections: a starting manager resets only the rows its node recorded
 *   - alerts: two drainer processes on one database and 1,000 queued alerts write each alert
 *     exactly once across their two files
 *   - a lost connection (the server ends the session): TN_EDB with libpq's message, then the
 *     next begin reconnects in a new session whose claims start empty */
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>

#include "daemon_log.h"
#include "err.h"
#include "manager/alerts.h"
#include "manager/store.h"
#include "pg_test.h"
#include "strbuf.h"
#include "test.h"
#include "e2e/tmpdir.h"

static char dir[PATH_MAX], err[1024], uri[512];

/* ---- one transcript of every operation, on either backend ---- */

static int print_agent(void *arg, const mstore_agent *a) {
  strbuf *b = arg;
  strbuf_printf(b,
                "agent %s first %lld last %lld version %s hello %s seq %llu conn %d peer %s at %lld/%lld\n",
                a->agent_id, (long long)a->first_seen, (long long)a->last_seen, a->version, a->hello_id,
                (unsigned long long)a->last_seq, a->connected, a->peer, (long long)a->connected_at,
                (long long)a->disconnected_at);
  const int64_t *c = &a->c.frames_in;
  strbuf_puts(b, "  counters");
  for (int i = 0; i < MSTORE_NCOUNTERS; i++)
    strbuf_printf(b, " %lld", (long long)c[i]);
  strbuf_putc(b, '\n');
  return 0;
}

static int print_policy(void *arg, const mstore_policy *p) {
  strbuf *b = arg;
  strbuf_printf(
      b,
      "policy %s/%s bundle %s v%llu src %s name %s file %s desc %s refs %s scan %lld %lld/%lld/%lld/%lld "
      "score %.17g times %lld-%lld hash %s at %lld\n",
      p->agent_id, p->policy_id, p->bundle_hash, (unsigned long long)p->policy_version, p->source_hash,
      p->name, p->file, p->description, p->references, (long long)p->scan_id, (long long)p->passed,
      (long long)p->failed, (long long)p->invalid, (long long)p->total_checks, p->score,
      (long long)p->start_time, (long long)p->end_time, p->summary_hash, (long long)p->last_summary);
  return 0;
}

static int print_check(void *arg, const mstore_check *c) {
  strbuf *b = arg;
  strbuf_printf(b, "check %lld %s reason '%s' scan %lld event %s updated %lld title '%s'\n",
                (long long)c->check_id, c->result, c->reason, (long long)c->scan_id, c->event,
                (long long)c->updated, c->title);
  return 0;
}

static int print_alert(void *arg, int64_t id, const char *line, size_t len) {
  strbuf *b = arg;
  (void)id;
  strbuf_puts(b, "alert ");
  strbuf_append(b, line, len);
  return 0;
}

static int stop_at_first(void *arg, const mstore_agent *a) {
  (void)a;
  (*(int *)arg)++;
  return 7;
}

typedef struct ids_ctx {
  int64_t v[16];
  size_t n;
} ids_ctx;

static int collect_ids(void *arg, int64_t id, const char *line, size_t len) {
  ids_ctx *c = arg;
  (void)line;
  (void)len;
  if (c->n < 16) c->v[c->n++] = id;
  return 0;
}

#define T(x) REQUIRE((x) == TN_OK)

static void put_check(mstore *s, const char *agent, const char *policy, int64_t id, const char *result,
                      int64_t scan) {
  char event[64];
  snprintf(event, sizeof event, "{\"id\":%lld}", (long long)id);
  mstore_check c = {id,
                    result,
                    strcmp(result, "not applicable") == 0 ? "no file" : "",
                    scan,
                    event,
                    1700000100 + id,
                    "title \xc3\xa9"};
  T(mstore_check_put(s, agent, policy, &c));
}

static void hash_line(strbuf *b, mstore *s, const char *agent, const char *policy) {
  char h[65];
  size_t n = 99;
  T(mstore_results_hash(s, agent, policy, h, &n));
  strbuf_printf(b, "hash %s/%s %s over %zu\n", agent, policy, h, n);
}

/* Every operation of store.h in one fixed sequence; what each returns, printed into b. */
static void transcript(mstore *s, strbuf *b) {
  int found = -1, n = -1, claimed = -1;
  T(mstore_begin(s));
  CHECK(mstore_in_transaction(s));
  T(mstore_agent_touch(s, "002", "1.2", "002", 1700000000));
  T(mstore_agent_touch(s, "001", "1.0", "one", 1700000001));
  T(mstore_agent_touch(s, "001", "1.1", "001", 1700000005)); /* an update */
  T(mstore_agent_touch(s, "B", "1.1", "B", 1700000006));     /* sorts before lower case, after digits */
  T(mstore_agent_set_last_seq(s, "001", 41, 1700000009));
  T(mstore_agent_set_last_seq(s, "001", 40, 1700000007)); /* never backwards */
  mstore_counters c = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
  T(mstore_agent_add_counters(s, "001", &c));
  T(mstore_agent_add_counters(s, "001", &c));
  T(mstore_agent_claim(s, "001", &claimed));
  strbuf_printf(b, "claimed %d\n", claimed);
  T(mstore_agent_connected(s, "001", "127.0.0.1:4000", 1700000010));
  T(mstore_agent_connected(s, "002", "127.0.0.1:4001", 1700000011));
  T(mstore_agent_disconnected(s, "002", 1700000020));
  char sid[65];
  T(mstore_agent_store_id(s, "001", sid, &found));
  strbuf_printf(b, "store id found %d '%s'\n", found, sid);
  T(mstore_agent_new_store(s, "001", "s-1", 0));
  T(mstore_agent_new_store(s, "001", "s-2", 1)); /* forget: last_seq back to 0 */
  T(mstore_agent_store_id(s, "001", sid, &found));
  strbuf_printf(b, "store id found %d '%s'\n", found, sid);
  T(mstore_agent_set_last_seq(s, "001", 3, 1700000012));
  T(mstore_commit(s));
  CHECK(!mstore_in_transaction(s));

  T(mstore_begin(s));
  mstore_policy p = {.agent_id = "001",
                     .policy_id = "p",
                     .bundle_hash = "bh",
                     .policy_version = 7,
                     .source_hash = "sh",
                     .name = "Policy P",
                     .file = "p.yml",
                     .description = "d\nline",
                     .references = "https://x",
                     .scan_id = 5,
                     .passed = 2,
                     .failed = 2,
                     .invalid = 0,
                     .total_checks = 4,
                     .score = 50.0 / 3,
                     .start_time = 1700000030,
                     .end_time = 1700000031,
                     .summary_hash = "hh",
                     .last_summary = 1700000032};
  T(mstore_policy_put(s, &p));
  p.policy_version = 8;
  T(mstore_policy_put(s, &p)); /* replace */
  mstore_policy q = p;
  snprintf(q.policy_id, sizeof q.policy_id, "a-first");
  q.name = "";
  T(mstore_policy_put(s, &q));
  snprintf(q.agent_id, sizeof q.agent_id, "002");
  snprintf(q.policy_id, sizeof q.policy_id, "gone");
  T(mstore_policy_put(s, &q));
  /* ARCHITECTURE.md: passed, failed, failed, passed -> 1642ab1d... */
  put_check(s, "001", "p", 1004, "passed", 5);
  put_check(s, "001", "p", 1001, "passed", 5);
  put_check(s, "001", "p", 1002, "failed", 5);
  put_check(s, "001", "p", 1003, "failed", 5);
  hash_line(b, s, "001", "p");
  put_check(s, "001", "p", 1002, "failed", 4); /* an older scan's row */
  T(mstore_checks_delete_other_scans(s, "001", "p", 5, &n));
  strbuf_printf(b, "stale deleted %d\n", n);
  hash_line(b, s, "001", "p"); /* 1002 absent: "passed,failed,passed" */
  put_check(s, "001", "p", 1002, "failed", 5);
  put_check(s, "001", "p", 999, "not applicable", 5);
  put_check(s, "001", "p", 20, "passed", 5); /* numeric order: 20 before 999 */
  mstore_check raw = {21, "failed", "line 'caf\xe9' (Latin-1) \xff\xfe", 5, "{\"x\":\"\xe9\"}", 7, "t\x80"};
  T(mstore_check_put(s, "001", "p", &raw)); /* bytes that are not UTF-8: kept as sent */
  hash_line(b, s, "001", "p");
  hash_line(b, s, "001", "none");
  put_check(s, "002", "gone", 1, "passed", 1);
  put_check(s, "002", "orphan", 1, "failed", 1); /* checks without a policy row */
  char result[16];
  T(mstore_check_get(s, "001", "p", 999, result, &found));
  strbuf_printf(b, "check 999 found %d '%s'\n", found, result);
  T(mstore_check_get(s, "001", "p", 5, result, &found));
  strbuf_printf(b, "check 5 found %d '%s'\n", found, result);
  T(mstore_commit(s));

  T(mstore_begin(s));
  T(mstore_checks_each(s, "001", "p", print_check, b));
  mstore_policy g;
  T(mstore_policy_get(s, "001", "p", &g, &found));
  strbuf_printf(b, "policy get found %d\n", found);
  print_policy(b, &g);
  mstore_policy_free(&g);
  mstore_policy_free(&g); /* twice: the strings were cleared */
  T(mstore_policy_get(s, "001", "nope", &g, &found));
  strbuf_printf(b, "policy nope found %d\n", found);
  T(mstore_policies_each(s, NULL, print_policy, b));
  const char *keep[] = {"x"};
  int deleted = -1;
  T(mstore_policies_retain(s, "002", keep, 1, &deleted));
  strbuf_printf(b, "retained: %d deleted\n", deleted);
  T(mstore_policies_each(s, "002", print_policy, b));
  T(mstore_checks_each(s, "002", "orphan", print_check, b));
  const char *keep1[] = {"p", "a-first"};
  T(mstore_policies_retain(s, "001", keep1, 2, &deleted));
  strbuf_printf(b, "retained: %d deleted\n", deleted);
  T(mstore_policy_delete(s, "001", "a-first", &n));
  strbuf_printf(b, "policy delete: %d checks\n", n);
  T(mstore_policies_each(s, "001", print_policy, b));
  T(mstore_checks_delete(s, "001", "p", &n));
  strbuf_printf(b, "checks deleted %d\n", n);
  hash_line(b, s, "001", "p");
  T(mstore_commit(s));

  /* the rollback of a transaction leaves nothing */
  T(mstore_begin(s));
  T(mstore_agent_touch(s, "rolled", "1", "rolled", 1700000050));
  mstore_rollback(s);
  mstore_agent a;
  T(mstore_agent_get(s, "rolled", &a, &found));
  strbuf_printf(b, "rolled back agent found %d\n", found);
  T(mstore_agent_get(s, "001", &a, &found));
  strbuf_printf(b, "agent get found %d\n", found);
  print_agent(b, &a);
  T(mstore_agents_each(s, print_agent, b));
  int calls = 0;
  CHECK_INT(mstore_agents_each(s, stop_at_first, &calls), 7);
  CHECK_INT(calls, 1);

  /* connections: a manager starting resets what it recorded */
  T(mstore_connections_reset(s, 1700000060));
  T(mstore_agent_get(s, "001", &a, &found));
  strbuf_printf(b, "after reset: connected %d disconnected_at %lld\n", a.connected,
                (long long)a.disconnected_at);

  /* the alert outbox: binary-safe lines, oldest first, delete by range and by ids */
  T(mstore_begin(s));
  T(mstore_alert_add(s, "{\"a\":1}\n", 8));
  T(mstore_alert_add(s, "two\0bytes\n", 10));
  T(mstore_alert_add(s, "{\"a\":3}\n", 8));
  T(mstore_alert_add(s, "{\"a\":4}\n", 8));
  T(mstore_commit(s));
  int64_t cnt = -1, bytes = -1;
  T(mstore_alerts_stats(s, &cnt, &bytes));
  strbuf_printf(b, "alerts %lld, %lld bytes\n", (long long)cnt, (long long)bytes);
  T(mstore_alerts_each(s, 2, print_alert, b));
  T(mstore_alerts_each(s, 10, print_alert, b));
  strbuf_putc(b, '\n');
  ids_ctx ic = {{0}, 0};
  T(mstore_alerts_each(s, 10, collect_ids, &ic));
  CHECK_INT(ic.n, 4);
  int64_t some[2] = {ic.v[1], ic.v[3]};
  T(mstore_begin(s));
  T(mstore_alerts_delete_ids(s, some, 2));
  T(mstore_commit(s));
  T(mstore_alerts_each(s, 10, print_alert, b));
  T(mstore_begin(s));
  T(mstore_alerts_delete(s, ic.v[0]));
  T(mstore_commit(s));
  T(mstore_alerts_stats(s, &cnt, &bytes));
  strbuf_printf(b, "alerts %lld, %lld bytes\n", (long long)cnt, (long long)bytes);
  T(mstore_alerts_each(s, 10, print_alert, b));
}

/* The first value of sql run on the database at u ("" for none), into out. 0 or -1 (printed). */
static int sql1(const char *u, const char *sql, char *out, size_t cap) {
  PGconn *c = PQconnectdb(u);
  PGresult *r = PQexec(c, sql);
  int st = PQresultStatus(r), rc = st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK ? 0 : -1;
  if (rc) printf("sql '%s': %s%s", sql, PQresultErrorMessage(r), PQerrorMessage(c));
  if (out) snprintf(out, cap, "%s", !rc && st == PGRES_TUPLES_OK && PQntuples(r) ? PQgetvalue(r, 0, 0) : "");
  PQclear(r);
  PQfinish(c);
  return rc;
}

static int sql_int(const char *u, const char *sql) {
  char v[64];
  return sql1(u, sql, v, sizeof v) == 0 ? atoi(v) : -1;
}

static int new_db(const char *tag, char *out, size_t cap) {
  int rc = pg_test_database(tag, out, cap);
  if (rc == 77) exit(77);
  REQUIRE(rc == 0);
  return 0;
}

static void test_same_transcript(void) {
  char sqlite[PATH_MAX + 32], pg[512];
  snprintf(sqlite, sizeof sqlite, "sqlite:%s/manager.db", dir);
  new_db("transcript", pg, sizeof pg);
  mstore *a = mstore_open(sqlite, 0, 0, err, sizeof err);
  REQUIRE(a);
  mstore *b = mstore_open(pg, 0, 0, err, sizeof err);
  if (!b) printf("%s\n", err);
  REQUIRE(b);
  CHECK_STR(mstore_backend_name(a), "sqlite");
  CHECK_STR(mstore_backend_name(b), "postgresql");
  CHECK(!mstore_shared(a) && mstore_shared(b));
  T(mstore_set_node(b, "node-a"));
  strbuf ta = STRBUF_INIT, tb = STRBUF_INIT;
  transcript(a, &ta);
  transcript(b, &tb);
  REQUIRE(strbuf_ok(&ta) && strbuf_ok(&tb));
  CHECK(ta.len == tb.len && memcmp(ta.data, tb.data, ta.len) == 0); /* binary-safe: an alert holds a NUL */
  if (ta.len != tb.len || memcmp(ta.data, tb.data, ta.len) != 0) {
    fwrite(ta.data, 1, ta.len, stdout);
    printf("---- postgresql:\n");
    fwrite(tb.data, 1, tb.len, stdout);
  }
  /* the example of ARCHITECTURE.md, then check 1002 missing */
  CHECK(
      strstr(ta.data, "hash 001/p 1642ab1dc478052ac3556b5e700cd82adb69728008301882b9cbee0696ff2c84 over 4"));
  CHECK(strstr(ta.data, "hash 001/p b43037ca"));
  if (getenv("TENET_VERBOSE")) printf("%s", ta.data);
  /* a reader beside the writer sees the same */
  mstore *r = mstore_open(pg, 1, 0, err, sizeof err);
  REQUIRE(r);
  mstore_agent ag;
  int found = 0;
  T(mstore_agent_get(r, "001", &ag, &found));
  CHECK(found && ag.last_seq == 3);
  CHECK_STR(ag.node, "node-a");
  CHECK(mstore_begin(r) == TN_OK && mstore_agent_touch(r, "x", "", "", 1) == TN_EDB); /* read-only */
  mstore_rollback(r);
  mstore_close(r);
  strbuf_free(&ta);
  strbuf_free(&tb);
  mstore_close(a);
  mstore_close(b);
}

static void test_migrations(void) {
  char pg[512], v[64];
  new_db("migrate", pg, sizeof pg);
  /* a reader refuses a database no manager set up; the probe accepts it (a manager will) */
  CHECK(!mstore_open(pg, 1, 0, err, sizeof err));
  CHECK(strstr(err, "not a tenet-manager store yet") != NULL);
  CHECK_INT(mstore_probe(pg, err, sizeof err), TN_OK);
  mstore *s = mstore_open(pg, 0, 1, err, sizeof err);
  REQUIRE(s);
  mstore_close(s);
  int nver = sql_int(pg, "SELECT count(*) FROM tenet_schema");
  CHECK(nver >= 2);
  CHECK_INT(sql_int(pg, "SELECT max(version) FROM tenet_schema"), nver);
  REQUIRE(sql1(pg, "SELECT string_agg(applied_at::text, ',' ORDER BY version) FROM tenet_schema", v,
               sizeof v) == 0);
  /* a second open, and two at once: nothing applied again */
  s = mstore_open(pg, 0, 1, err, sizeof err);
  REQUIRE(s);
  pid_t kids[2];
  for (int i = 0; i < 2; i++) {
    kids[i] = fork();
    if (kids[i] == 0) {
      mstore *k = mstore_open(pg, 0, 1, err, sizeof err);
      _exit(k ? (mstore_close(k), 0) : 1);
    }
  }
  for (int i = 0; i < 2; i++) {
    int st;
    waitpid(kids[i], &st, 0);
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
  }
  char v2[64];
  REQUIRE(sql1(pg, "SELECT string_agg(applied_at::text, ',' ORDER BY version) FROM tenet_schema", v2,
               sizeof v2) == 0);
  CHECK_STR(v2, v);
  CHECK_INT(sql_int(pg, "SELECT count(*) FROM tenet_schema"), nver);
  mstore_close(s);
  /* a store newer than this binary: refused by the writer, the reader and the probe */
  char q[128];
  snprintf(q, sizeof q, "INSERT INTO tenet_schema VALUES(%d, 0, 'future')", nver + 1);
  REQUIRE(sql1(pg, q, NULL, 0) == 0);
  CHECK(!mstore_open(pg, 0, 1, err, sizeof err));
  CHECK(strstr(err, "is newer than this tenet-manager's") != NULL);
  CHECK(!mstore_open(pg, 1, 0, err, sizeof err));
  CHECK(strstr(err, "is newer than this tenet-manager's") != NULL);
  CHECK_INT(mstore_probe(pg, err, sizeof err), TN_EDB);
  CHECK_INT(sql_int(pg, "SELECT count(*) FROM tenet_schema"), nver + 1); /* untouched */
  /* strings that name no store; a server that is not there */
  CHECK_INT(mstore_check_string("mysql://x", err, sizeof err), TN_ECONFIG);
  CHECK_INT(mstore_check_string("sqlite:", err, sizeof err), TN_ECONFIG);
  CHECK(!mstore_open("postgresql:///nothing?host=/nonexistent&port=1", 0, 0, err, sizeof err));
  CHECK(strstr(err, "cannot connect") != NULL);
}

/* A child that opens the store, claims agent, says so on the pipe and waits to be killed. */
static pid_t holder(const char *pg, const char *agent) {
  int fds[2];
  REQUIRE(pipe(fds) == 0);
  pid_t pid = fork();
  if (pid == 0) {
    close(fds[0]);
    mstore *s = mstore_open(pg, 0, 0, err, sizeof err);
    int claimed = 0;
    char ok = s && mstore_agent_claim(s, agent, &claimed) == TN_OK && claimed ? 'y' : 'n';
    if (write(fds[1], &ok, 1) != 1) _exit(1);
    for (;;)
      pause();
  }
  close(fds[1]);
  char ok = 0;
  REQUIRE(read(fds[0], &ok, 1) == 1);
  close(fds[0]);
  CHECK(ok == 'y');
  return pid;
}

static int claim(mstore *s, const char *agent) {
  int claimed = -1;
  T(mstore_agent_claim(s, agent, &claimed));
  return claimed;
}

/* A claim that a session ending elsewhere frees: the server ends that session asynchronously. */
static int claim_soon(mstore *s, const char *agent) {
  int got = 0;
  for (int i = 0; i < 100 && !got; i++)
    if (!(got = claim(s, agent))) usleep(50000);
  return got;
}

static void test_claims(void) {
  char pg[512];
  new_db("claims", pg, sizeof pg);
  mstore *m1 = mstore_open(pg, 0, 0, err, sizeof err), *m2 = mstore_open(pg, 0, 0, err, sizeof err);
  REQUIRE(m1 && m2);
  CHECK_INT(claim(m1, "001"), 1);
  CHECK_INT(claim(m2, "001"), 0); /* the first manager serves it */
  CHECK_INT(claim(m2, "002"), 1); /* another agent: free */
  CHECK_INT(claim(m1, "002"), 0);
  T(mstore_agent_release(m1, "001"));
  CHECK_INT(claim(m2, "001"), 1);
  /* a release inside a transaction takes effect when it ends */
  T(mstore_begin(m2));
  T(mstore_agent_release(m2, "001"));
  CHECK_INT(claim(m1, "001"), 0);
  T(mstore_commit(m2));
  CHECK_INT(claim(m1, "001"), 1);
  /* claims stack: two claims need two releases */
  CHECK_INT(claim(m1, "001"), 1);
  T(mstore_agent_release(m1, "001"));
  CHECK_INT(claim(m2, "001"), 0);
  T(mstore_agent_release(m1, "001"));
  CHECK_INT(claim(m2, "001"), 1);
  /* closing the store ends the session and its claims */
  mstore_close(m2);
  CHECK_INT(claim_soon(m1, "002"), 1);
  /* a manager killed with SIGKILL: its claim goes with its session */
  pid_t k = holder(pg, "003");
  CHECK_INT(claim(m1, "003"), 0);
  kill(k, SIGKILL);
  int st;
  waitpid(k, &st, 0);
  CHECK_INT(claim_soon(m1, "003"), 1);
  /* SQLite: a claim always succeeds */
  char sqlite[PATH_MAX + 32];
  snprintf(sqlite, sizeof sqlite, "%s/claims.db", dir);
  mstore *l = mstore_open(sqlite, 0, 0, err, sizeof err);
  REQUIRE(l);
  CHECK_INT(claim(l, "003"), 1);
  T(mstore_agent_release(l, "003"));
  CHECK(mstore_session(l) == 1);
  mstore_close(l);
  mstore_close(m1);
}

static void test_node_connections(void) {
  char pg[512];
  new_db("nodes", pg, sizeof pg);
  mstore *m1 = mstore_open(pg, 0, 0, err, sizeof err), *m2 = mstore_open(pg, 0, 0, err, sizeof err);
  REQUIRE(m1 && m2);
  T(mstore_set_node(m1, "m1"));
  T(mstore_set_node(m2, "m2"));
  CHECK_INT(mstore_set_node(m2, ""), TN_ECONFIG);
  T(mstore_agent_touch(m1, "a1", "1", "a1", 100));
  T(mstore_agent_touch(m2, "a2", "1", "a2", 100));
  T(mstore_agent_connected(m1, "a1", "10.0.0.1:1", 101));
  T(mstore_agent_connected(m2, "a2", "10.0.0.2:1", 102));
  T(mstore_connections_reset(m1, 200)); /* m1 restarts: a2 stays m2's */
  mstore_agent a;
  int found;
  T(mstore_agent_get(m2, "a1", &a, &found));
  CHECK(found && !a.connected && a.disconnected_at == 200);
  CHECK_STR(a.node, "m1");
  T(mstore_agent_get(m1, "a2", &a, &found));
  CHECK(found && a.connected && a.connected_at == 102);
  CHECK_STR(a.node, "m2");
  /* the agent moves to m1: m2's late disconnect does not mark it gone */
  T(mstore_agent_connected(m1, "a2", "10.0.0.2:2", 300));
  T(mstore_agent_disconnected(m2, "a2", 301));
  T(mstore_agent_get(m1, "a2", &a, &found));
  CHECK(a.connected && a.connected_at == 300);
  CHECK_STR(a.node, "m1");
  mstore_close(m1);
  mstore_close(m2);
}

/* A drainer process: its own store connection (node name) and alerts file; once both are open (the byte on
 * go), drains until the outbox is empty. */
static void drainer(const char *pg, const char *node, const char *file, int ready, int go) {
  mstore *s = mstore_open(pg, 0, 0, err, sizeof err);
  if (!s || mstore_set_node(s, node) != TN_OK) _exit(6);
  alerts *al = alerts_open(file, err, sizeof err);
  if (!al || alerts_attach(al, s, 0) != TN_OK) _exit(2);
  char b = 'r';
  if (write(ready, &b, 1) != 1 || read(go, &b, 1) != 1) _exit(5);
  for (int i = 0; i < 2000; i++) {
    if (alerts_flush(al) != TN_OK) _exit(3);
    int64_t n = -1, bytes;
    if (mstore_alerts_stats(s, &n, &bytes) != TN_OK) _exit(4);
    if (n == 0) break;
    usleep(1000);
  }
  alerts_close(al);
  mstore_close(s);
  _exit(0);
}

static void test_two_drainers(void) {
  char pg[512];
  new_db("drain", pg, sizeof pg);
  mstore *s = mstore_open(pg, 0, 0, err, sizeof err);
  REQUIRE(s);
  enum { N = 1000 };
  T(mstore_begin(s));
  for (int i = 0; i < N; i++) {
    char line[64];
    int n = snprintf(line, sizeof line, "{\"alert\":%d}\n", i);
    T(mstore_alert_add(s, line, (size_t)n));
  }
  T(mstore_commit(s));
  char f[2][PATH_MAX + 16];
  pid_t kids[2];
  int ready[2], go[2];
  REQUIRE(pipe(ready) == 0 && pipe(go) == 0);
  for (int i = 0; i < 2; i++) {
    snprintf(f[i], sizeof f[i], "%s/alerts-%d.json", dir, i);
    if ((kids[i] = fork()) == 0) drainer(pg, i ? "d1" : "d0", f[i], ready[1], go[0]);
  }
  char b;
  REQUIRE(read(ready[0], &b, 1) == 1 && read(ready[0], &b, 1) == 1); /* both connected: start together */
  REQUIRE(write(go[1], "gg", 2) == 2);
  for (int i = 0; i < 2; i++) {
    int st;
    waitpid(kids[i], &st, 0);
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
  }
  static int seen[N];
  int total = 0, per[2] = {0, 0};
  for (int i = 0; i < 2; i++) {
    char *text = tmp_read(f[i]);
    REQUIRE(text);
    for (char *p = text; (p = strstr(p, "{\"alert\":")); p++) {
      int k = atoi(p + 9);
      REQUIRE(k >= 0 && k < N);
      seen[k]++;
      total++;
      per[i]++;
    }
    free(text);
  }
  int once = 0;
  for (int i = 0; i < N; i++)
    once += seen[i] == 1;
  CHECK_INT(total, N);
  CHECK_INT(once, N);
  printf("two drainers: %d and %d alerts\n", per[0], per[1]);
  int64_t n = -1, bytes;
  T(mstore_alerts_stats(s, &n, &bytes));
  CHECK_INT(n, 0);
  mstore_close(s);
}

static void test_lost_connection(void) {
  char pg[512], pid[32];
  new_db("lost", pg, sizeof pg);
  mstore *s = mstore_open(pg, 0, 0, err, sizeof err), *other = mstore_open(pg, 0, 0, err, sizeof err);
  REQUIRE(s && other);
  CHECK_INT(claim(s, "001"), 1);
  uint64_t session = mstore_session(s);
  /* the server ends s's session (as a restart or a network cut would) in the middle of a batch */
  T(mstore_begin(s));
  char q[512];
  snprintf(q, sizeof q,
           "SELECT count(pg_terminate_backend(pid)) FROM pg_locks WHERE locktype = 'advisory' AND granted "
           "AND pid <> pg_backend_pid() AND database = (SELECT oid FROM pg_database WHERE datname = "
           "current_database())");
  REQUIRE(sql1(pg, q, pid, sizeof pid) == 0);
  CHECK_STR(pid, "1");
  int rc = mstore_agent_touch(s, "001", "1", "001", 1);
  CHECK_INT(rc, TN_EDB);
  CHECK(strstr(mstore_error(s), "recording an agent: ") != NULL);
  printf("lost: %s\n", mstore_error(s));
  CHECK_INT(mstore_commit(s), TN_EDB); /* nothing was committed: nothing may be acknowledged */
  mstore_rollback(s);
  CHECK_INT(claim_soon(other, "001"), 1); /* the lost session's claim is gone */
  rc = mstore_begin(s);                   /* reconnects */
  if (rc != TN_OK) printf("begin: %s\n", mstore_error(s));
  REQUIRE(rc == TN_OK);
  CHECK(mstore_session(s) == session + 1);
  T(mstore_agent_touch(s, "001", "1", "001", 2));
  T(mstore_commit(s));
  CHECK_INT(claim(s, "001"), 0);
  mstore_agent a;
  int found = 0;
  T(mstore_agent_get(other, "001", &a, &found));
  CHECK(found && a.last_seen == 2);
  mstore_close(s);
  mstore_close(other);
}

/* Run a shell command; its stdout + stderr into out. Returns the exit status. */
static int run(const char *cmd, char *out, size_t cap) {
  char full[4 * PATH_MAX + 16];
  snprintf(full, sizeof full, "%s 2>&1", cmd);
  FILE *f = popen(full, "r");
  REQUIRE(f);
  size_t n = fread(out, 1, cap - 1, f);
  out[n] = '\0';
  int st = pclose(f);
  return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void populate(mstore *s, const char *node) {
  T(mstore_set_node(s, node));
  T(mstore_begin(s));
  T(mstore_agent_touch(s, "001", "1.0", "001", 1700000000));
  T(mstore_agent_connected(s, "001", "127.0.0.1:5000", 1700000001));
  mstore_policy p = {.agent_id = "001",
                     .policy_id = "p",
                     .bundle_hash = "bh",
                     .policy_version = 3,
                     .source_hash = "sh",
                     .name = "P",
                     .file = "p.yml",
                     .description = "",
                     .references = "",
                     .scan_id = 9,
                     .passed = 1,
                     .failed = 1,
                     .total_checks = 2,
                     .score = 50,
                     .start_time = 1700000002,
                     .end_time = 1700000003,
                     .summary_hash = "x",
                     .last_summary = 1700000004};
  T(mstore_policy_put(s, &p));
  put_check(s, "001", "p", 2, "failed", 9);
  put_check(s, "001", "p", 1, "passed", 9);
  T(mstore_commit(s));
}

/* `tenet-manager query` and `-t` on both backends; the store options' errors. */
static void test_query_and_config(void) {
  const char *bin = getenv("TENET_MANAGER_BIN"), *tenet = getenv("TENET_BIN");
  REQUIRE(bin && tenet);
  char pg[512], sqlite[PATH_MAX + 32], conf[2][PATH_MAX + 32], cmd[4 * PATH_MAX], out[2][16384];
  new_db("query", pg, sizeof pg);
  snprintf(sqlite, sizeof sqlite, "%s/query.db", dir);
  snprintf(cmd, sizeof cmd, "%s pki init %s/pki && %s pki issue-manager %s/pki localhost", tenet, dir, tenet,
           dir);
  REQUIRE(run(cmd, out[0], sizeof out[0]) == 0);
  const char *stores[2] = {sqlite, pg};
  for (int i = 0; i < 2; i++) {
    mstore *s = mstore_open(stores[i], 0, 0, err, sizeof err);
    REQUIRE(s);
    populate(s, "m-one");
    mstore_close(s);
    snprintf(conf[i], sizeof conf[i], "%s/manager-%d.conf", dir, i);
    FILE *f = fopen(conf[i], "w");
    REQUIRE(f);
    fprintf(f,
            "cert = %s/pki/manager.crt\nkey = %s/pki/manager.key\nca = %s/pki/ca.crt\nalerts_file = "
            "%s/alerts-%d.json\n%s = %s\nnode_name = m-one\n",
            dir, dir, dir, dir, i, i ? "store" : "state_db", stores[i]);
    fclose(f);
  }
  const char *queries[] = {"checks 001 p", "checks 001 p --json", "hash 001 p", "stats 001", "stats --json"};
  for (size_t q = 0; q < sizeof queries / sizeof *queries; q++) {
    int rc[2];
    for (int i = 0; i < 2; i++) {
      snprintf(cmd, sizeof cmd, "%s -c %s query %s", bin, conf[i], queries[q]);
      rc[i] = run(cmd, out[i], sizeof out[i]);
    }
    CHECK_INT(rc[0], 0);
    CHECK_INT(rc[1], 0);
    CHECK_STR(out[1], out[0]);
  }
  CHECK(strstr(out[0], "\"agent_id\":\"001\"") != NULL);
  /* query agents: PostgreSQL says which node serves the agent (several managers: the store's word) */
  snprintf(cmd, sizeof cmd, "%s -c %s query agents", bin, conf[1]);
  CHECK_INT(run(cmd, out[1], sizeof out[1]), 0);
  CHECK(strstr(out[1], "from 127.0.0.1:5000 to node m-one") != NULL);
  snprintf(cmd, sizeof cmd, "%s -c %s query agents --json", bin, conf[1]);
  CHECK_INT(run(cmd, out[1], sizeof out[1]), 0);
  CHECK(strstr(out[1], "\"connected\":true") && strstr(out[1], "\"node\":\"m-one\""));
  snprintf(cmd, sizeof cmd, "%s -c %s query agents --json", bin, conf[0]);
  CHECK_INT(run(cmd, out[0], sizeof out[0]), 0);
  CHECK(strstr(out[0], "\"node\"") == NULL); /* SQLite: as before */
  /* -t connects to PostgreSQL */
  for (int i = 0; i < 2; i++) {
    snprintf(cmd, sizeof cmd, "%s -c %s -t", bin, conf[i]);
    CHECK_INT(run(cmd, out[i], sizeof out[i]), 0);
    CHECK(strstr(out[i], "is valid") != NULL);
  }
  char bad[PATH_MAX + 32];
  snprintf(bad, sizeof bad, "%s/bad.conf", dir);
  const char *cases[][2] = {
      {"store = postgresql:///nothing_here?host=/nonexistent&port=1\n", "cannot connect"},
      {"store = mysql://x/y\n", "unknown kind"},
      {"store = sqlite:\n", "no path after 'sqlite:'"},
      {"store = sqlite:a.db\nstate_db = b.db\n", "not both"},
      {"", "missing required option 'store'"},
  };
  for (size_t k = 0; k < sizeof cases / sizeof *cases; k++) {
    FILE *f = fopen(bad, "w");
    REQUIRE(f);
    fprintf(f,
            "cert = %s/pki/manager.crt\nkey = %s/pki/manager.key\nca = %s/pki/ca.crt\nalerts_file = "
            "%s/a.json\n%s",
            dir, dir, dir, dir, cases[k][0]);
    fclose(f);
    snprintf(cmd, sizeof cmd, "%s -c %s -t", bin, bad);
    CHECK_INT(run(cmd, out[0], sizeof out[0]), 1);
    if (!strstr(out[0], cases[k][1])) printf("case %zu: %s", k, out[0]);
    CHECK(strstr(out[0], cases[k][1]) != NULL);
  }
  /* sqlite:RELATIVE is resolved beside the configuration file, as state_db is */
  FILE *f = fopen(bad, "w");
  REQUIRE(f);
  fprintf(f, "cert = c\nkey = k\nca = a\nalerts_file = a.json\nstore = sqlite:query.db\n");
  fclose(f);
  snprintf(cmd, sizeof cmd, "cd / && %s -c %s query hash 001 p", bin, bad);
  CHECK_INT(run(cmd, out[0], sizeof out[0]), 0);
  CHECK(strlen(out[0]) == 65);
}

int main(void) {
  char probe[512];
  int rc = pg_test_cluster(probe, sizeof probe);
  if (rc) return rc;
  tmp_make("store-pg", dir, sizeof dir);
  char logpath[PATH_MAX + 16];
  snprintf(logpath, sizeof logpath, "%s/manager.log", dir);
  REQUIRE(dlog_open("tenet-manager", logpath, DLOG_INFO, err, sizeof err) == TN_OK);
  (void)uri;
  RUN(test_same_transcript);
  RUN(test_migrations);
  RUN(test_claims);
  RUN(test_node_connections);
  RUN(test_two_drainers);
  RUN(test_lost_connection);
  RUN(test_query_and_config);
  dlog_close();
  CHECK(tmp_count(logpath, "connection lost; reconnecting") == 1);
  CHECK(tmp_count(logpath, "reconnected after") == 1);
  tmp_remove(dir);
  return test_report();
}
