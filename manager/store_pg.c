/* store_pg.c — the manager's PostgreSQL store backend (store.h, store_backend.h): several managers
 * share one database through libpq, each with one connection.
 *
 *   schema      versioned migrations (migrations[] below, applied in order); tenet_schema holds one
 *               row per applied version. A manager applies what is missing at start inside one
 *               transaction under a transaction-level advisory lock (its own two-int key space), so
 *               managers starting together migrate once; a store newer than this binary is refused.
 *   statements  every statement is prepared once per connection (PQprepare) and run with
 *               PQexecPrepared; ids sort byte-wise (COLLATE "C") as in SQLite.
 *   ownership   mstore_agent_claim: pg_try_advisory_lock(bigint) keyed by XXH64 of the agent id
 *               (the bigint key space is the claims' own); released at the connection's end, after
 *               the transaction that wrote the agent's last changes ends.
 *   nodes       a writer holds a session-level advisory lock on its node name (two int4 keys, the
 *               first NODE_KEY1) for its life: a second manager with the same node_name is refused;
 *               a node whose lock is free is dead, and its old alert claims may be taken over.
 *   outage      a lost connection fails the statement (TN_EDB with libpq's message), is logged once,
 *               and is opened again by a later mstore_begin at most once per RECONNECT_MS; the new
 *               session (mstore_session) holds none of the old one's claims.
 *
 * Only this file calls libpq (STYLE rule 10). */
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <xxhash.h>

#include "daemon_log.h"
#include "err.h"
#include "scan.h"
#include "store_backend.h"

/* Seed of the claims' XXH64 keys ("tenet-ag"). */
#define CLAIM_SEED 0x74656e65742d6167ULL
/* The migration lock: pg_advisory_xact_lock(int4, int4) lives in a key space apart from the
 * bigint claims ("tene", 13 for issue 13). */
#define MIGRATE_KEY1 1952804453
#define MIGRATE_KEY2 13
/* The node locks: pg_try_advisory_lock(int4, int4) with this first key ("tenf") and 31 bits of
 * XXH64 of the node name, apart from the claims (bigint) and the migration lock (second key 13). */
#define NODE_KEY1 1952804454
#define NODE_SEED 0x74656e65742d6e64ULL
/* Between two reconnection attempts. */
#define RECONNECT_MS 1000
/* libpq's connect timeout when the URI sets none (seconds): at start, and when reconnecting from
 * the event loop (which waits meanwhile; 2 is libpq's least). */
#define CONNECT_TIMEOUT "10"
#define RECONNECT_TIMEOUT "2"

#define COUNTER_COLUMNS                                                                                      \
  "frames_in, bytes_in, frames_out, bytes_out, hellos, deltas, delta_checks, dumps, dump_checks, "           \
  "dump_ends, summaries, policy_lists, duplicates, dumps_requested, offers_sent, dropped_checks"

#define ID "text COLLATE \"C\" NOT NULL"
#define COUNTER " bigint NOT NULL DEFAULT 0,"

/* migrations[i] takes the schema from version i to i + 1. Append only: a released step never
 * changes (a store that has it would not get the change). */
static const char *const migrations[] = {
    /* 1: the tables of the SQLite store, with the connection's node */
    "CREATE TABLE agents(agent_id " ID " PRIMARY KEY, first_seen bigint NOT NULL, last_seen bigint NOT NULL,"
    " version text NOT NULL DEFAULT '', hello_id text NOT NULL DEFAULT '', last_seq bigint NOT NULL DEFAULT "
    "0,"
    " frames_in" COUNTER " bytes_in" COUNTER " frames_out" COUNTER " bytes_out" COUNTER " hellos" COUNTER
    " deltas" COUNTER " delta_checks" COUNTER " dumps" COUNTER " dump_checks" COUNTER " dump_ends" COUNTER
    " summaries" COUNTER " policy_lists" COUNTER " duplicates" COUNTER " dumps_requested" COUNTER
    " offers_sent" COUNTER " dropped_checks bigint NOT NULL DEFAULT 0);"
    "CREATE TABLE policies(agent_id " ID ", policy_id " ID ", bundle_hash text NOT NULL,"
    " policy_version bigint NOT NULL, source_hash text NOT NULL, name text NOT NULL, file text NOT NULL,"
    " description text NOT NULL, refs text NOT NULL, scan_id bigint NOT NULL, passed bigint NOT NULL,"
    " failed bigint NOT NULL, invalid bigint NOT NULL, total_checks bigint NOT NULL,"
    " score double precision NOT NULL, start_time bigint NOT NULL, end_time bigint NOT NULL,"
    " summary_hash text NOT NULL, last_summary bigint NOT NULL, PRIMARY KEY(agent_id, policy_id));"
    "CREATE TABLE checks(agent_id " ID ", policy_id " ID ", check_id bigint NOT NULL, result text NOT NULL,"
    " reason text NOT NULL, scan_id bigint NOT NULL, event text NOT NULL, updated bigint NOT NULL,"
    " title text NOT NULL DEFAULT '', PRIMARY KEY(agent_id, policy_id, check_id));"
    "CREATE TABLE connections(agent_id " ID " PRIMARY KEY, connected integer NOT NULL, peer text NOT NULL,"
    " connected_at bigint NOT NULL, disconnected_at bigint NOT NULL, node text NOT NULL DEFAULT '');"
    "CREATE TABLE agent_stores(agent_id " ID " PRIMARY KEY, store_id text NOT NULL);"
    "CREATE TABLE alert_outbox(id bigserial PRIMARY KEY, line bytea NOT NULL);",
    /* 2: a starting manager resets its own connections only: find them without a scan */
    "CREATE INDEX connections_node ON connections(node) WHERE connected = 1;",
    /* 3: alerts are claimed by a node before it writes them; its drain under way is recorded */
    "ALTER TABLE alert_outbox ADD COLUMN claimed_by text COLLATE \"C\", ADD COLUMN claimed_at bigint;"
    "CREATE INDEX alert_outbox_claimed ON alert_outbox(claimed_by) WHERE claimed_by IS NOT NULL;"
    "CREATE TABLE alert_drains(node " ID
    " PRIMARY KEY, file_offset bigint NOT NULL, file_dev bigint NOT NULL,"
    " file_ino bigint NOT NULL, claimed_at bigint NOT NULL);",
};
#define SCHEMA_VERSION ((int)(sizeof migrations / sizeof *migrations))

enum {
  ST_AGENT_TOUCH,
  ST_AGENT_GET,
  ST_AGENT_SEQ,
  ST_AGENT_ADD,
  ST_AGENTS_EACH,
  ST_CONN_UP,
  ST_CONN_DOWN,
  ST_CONN_SEEN,
  ST_CONN_RESET,
  ST_POLICY_GET,
  ST_POLICY_PUT,
  ST_POLICY_DEL,
  ST_POLICY_IDS,
  ST_POLICIES_AGENT,
  ST_POLICIES_ALL,
  ST_CHECK_GET,
  ST_CHECK_PUT,
  ST_CHECKS_DEL,
  ST_CHECKS_DEL_OTHER,
  ST_CHECK_RESULTS,
  ST_CHECKS_EACH,
  ST_STORE_ID_GET,
  ST_STORE_ID_PUT,
  ST_AGENT_SEQ_RESET,
  ST_ALERT_ADD,
  ST_ALERTS_EACH,
  ST_ALERTS_DEL,
  ST_ALERTS_DEL_IDS,
  ST_ALERTS_STATS,
  ST_CLAIM,
  ST_UNLOCK,
  ST_NODE_LOCK,
  ST_NODE_HELD,
  ST_ALERTS_CLAIM,
  ST_ALERTS_CLAIMED,
  ST_DRAIN_PUT,
  ST_DRAIN_GET,
  ST_ALERTS_FINISH,
  ST_TAKEOVER_NODES,
  ST_TAKEOVER_RELEASE,
  ST__COUNT
};

#define POLICY_COLUMNS                                                                                       \
  "agent_id, policy_id, bundle_hash, policy_version, source_hash, name, file, description, refs, scan_id, "  \
  "passed, failed, invalid, total_checks, score, start_time, end_time, summary_hash, last_summary"

#define AGENT_COLUMNS                                                                                        \
  "agent_id, first_seen, last_seen, version, hello_id, last_seq, " COUNTER_COLUMNS                           \
  ", coalesce(connected, 0), coalesce(peer, ''), coalesce(connected_at, 0), coalesce(disconnected_at, 0), "  \
  "coalesce(node, '')"
#define AGENT_FROM " FROM agents LEFT JOIN connections USING(agent_id)"

static const char *const sql[ST__COUNT] = {
    [ST_AGENT_TOUCH] =
        "INSERT INTO agents(agent_id, first_seen, last_seen, version, hello_id) VALUES($1, $2, $2, $3, $4) "
        "ON CONFLICT(agent_id) DO UPDATE SET last_seen = $2, version = $3, hello_id = $4",
    [ST_AGENT_GET] = "SELECT " AGENT_COLUMNS AGENT_FROM " WHERE agent_id = $1",
    [ST_AGENT_SEQ] =
        "UPDATE agents SET last_seq = greatest(last_seq, $2), last_seen = greatest(last_seen, $3) "
        "WHERE agent_id = $1",
    [ST_AGENT_ADD] =
        "UPDATE agents SET frames_in = frames_in + $2, bytes_in = bytes_in + $3, frames_out = frames_out + "
        "$4, "
        "bytes_out = bytes_out + $5, hellos = hellos + $6, deltas = deltas + $7, "
        "delta_checks = delta_checks + $8, dumps = dumps + $9, dump_checks = dump_checks + $10, "
        "dump_ends = dump_ends + $11, summaries = summaries + $12, policy_lists = policy_lists + $13, "
        "duplicates = duplicates + $14, dumps_requested = dumps_requested + $15, "
        "offers_sent = offers_sent + $16, dropped_checks = dropped_checks + $17 WHERE agent_id = $1",
    [ST_AGENTS_EACH] = "SELECT " AGENT_COLUMNS AGENT_FROM " ORDER BY agent_id",
    [ST_CONN_UP] =
        "INSERT INTO connections(agent_id, connected, peer, connected_at, disconnected_at, node) "
        "VALUES($1, 1, $2, $3, 0, $4) ON CONFLICT(agent_id) DO UPDATE SET connected = 1, peer = $2, "
        "connected_at = $3, node = $4",
    /* only the node that recorded the connection ends it */
    [ST_CONN_DOWN] =
        "UPDATE connections SET connected = 0, disconnected_at = $2 WHERE agent_id = $1 AND node = $3",
    [ST_CONN_SEEN] = "UPDATE agents SET last_seen = greatest(last_seen, $2) WHERE agent_id = $1",
    [ST_CONN_RESET] =
        "UPDATE connections SET connected = 0, disconnected_at = $1 WHERE connected = 1 AND node = $2",
    [ST_POLICY_GET] = "SELECT " POLICY_COLUMNS " FROM policies WHERE agent_id = $1 AND policy_id = $2",
    [ST_POLICY_PUT] =
        "INSERT INTO policies(" POLICY_COLUMNS ") VALUES($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, "
        "$13, $14, $15, $16, $17, $18, $19) ON CONFLICT(agent_id, policy_id) DO UPDATE SET "
        "bundle_hash = $3, policy_version = $4, source_hash = $5, name = $6, file = $7, description = $8, "
        "refs = $9, scan_id = $10, passed = $11, failed = $12, invalid = $13, total_checks = $14, "
        "score = $15, start_time = $16, end_time = $17, summary_hash = $18, last_summary = $19",
    [ST_POLICY_DEL] = "DELETE FROM policies WHERE agent_id = $1 AND policy_id = $2",
    [ST_POLICY_IDS] = "SELECT policy_id FROM policies WHERE agent_id = $1 UNION "
                      "SELECT DISTINCT policy_id FROM checks WHERE agent_id = $1",
    [ST_POLICIES_AGENT] = "SELECT " POLICY_COLUMNS " FROM policies WHERE agent_id = $1 ORDER BY policy_id",
    [ST_POLICIES_ALL] = "SELECT " POLICY_COLUMNS " FROM policies ORDER BY agent_id, policy_id",
    [ST_CHECK_GET] = "SELECT result FROM checks WHERE agent_id = $1 AND policy_id = $2 AND check_id = $3",
    [ST_CHECK_PUT] = "INSERT INTO checks(agent_id, policy_id, check_id, result, reason, scan_id, event, "
                     "updated, title) VALUES($1, $2, $3, $4, $5, $6, $7, $8, $9) "
                     "ON CONFLICT(agent_id, policy_id, check_id) DO UPDATE SET result = $4, reason = $5, "
                     "scan_id = $6, event = $7, updated = $8, title = $9",
    [ST_CHECKS_DEL] = "DELETE FROM checks WHERE agent_id = $1 AND policy_id = $2",
    [ST_CHECKS_DEL_OTHER] = "DELETE FROM checks WHERE agent_id = $1 AND policy_id = $2 AND scan_id <> $3",
    [ST_CHECK_RESULTS] = "SELECT result FROM checks WHERE agent_id = $1 AND policy_id = $2 ORDER BY check_id",
    [ST_CHECKS_EACH] = "SELECT check_id, result, reason, scan_id, event, updated, title FROM checks "
                       "WHERE agent_id = $1 AND policy_id = $2 ORDER BY check_id",
    [ST_STORE_ID_GET] = "SELECT store_id FROM agent_stores WHERE agent_id = $1",
    [ST_STORE_ID_PUT] = "INSERT INTO agent_stores(agent_id, store_id) VALUES($1, $2) "
                        "ON CONFLICT(agent_id) DO UPDATE SET store_id = $2",
    [ST_AGENT_SEQ_RESET] = "UPDATE agents SET last_seq = 0 WHERE agent_id = $1",
    [ST_ALERT_ADD] = "INSERT INTO alert_outbox(line) VALUES($1)",
    /* rows another manager's drain holds are skipped, and this transaction holds the rows it read */
    [ST_ALERTS_EACH] = "SELECT id, line FROM alert_outbox ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED",
    [ST_ALERTS_DEL] = "DELETE FROM alert_outbox WHERE id <= $1",
    [ST_ALERTS_DEL_IDS] = "DELETE FROM alert_outbox WHERE id = ANY($1::bigint[])",
    [ST_ALERTS_STATS] = "SELECT count(*), coalesce(sum(length(line)), 0) FROM alert_outbox",
    [ST_CLAIM] = "SELECT pg_try_advisory_lock($1::bigint)",
    [ST_UNLOCK] = "SELECT count(pg_advisory_unlock(k)) FROM unnest($1::bigint[]) AS k",
    [ST_NODE_LOCK] = "SELECT pg_try_advisory_lock($1::integer, $2::integer)",
    /* a two-int4 advisory lock shows in pg_locks as (classid, objid, objsubid 2) */
    [ST_NODE_HELD] = "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND database = "
                     "(SELECT oid FROM pg_database WHERE datname = current_database()) AND classid = $1::oid "
                     "AND objid = $2::oid AND objsubid = 2",
    [ST_ALERTS_CLAIM] =
        "UPDATE alert_outbox SET claimed_by = $1, claimed_at = $2 WHERE id IN (SELECT id FROM "
        "alert_outbox WHERE claimed_by IS NULL ORDER BY id LIMIT $3 FOR UPDATE SKIP LOCKED)",
    [ST_ALERTS_CLAIMED] = "SELECT id, line FROM alert_outbox WHERE claimed_by = $1 ORDER BY id",
    [ST_DRAIN_PUT] = "INSERT INTO alert_drains(node, file_offset, file_dev, file_ino, claimed_at) "
                     "VALUES($1, $2, $3, $4, $5) ON CONFLICT(node) DO UPDATE SET file_offset = $2, "
                     "file_dev = $3, file_ino = $4, claimed_at = $5",
    [ST_DRAIN_GET] =
        "SELECT file_offset, file_dev, file_ino, claimed_at FROM alert_drains WHERE node = $1 FOR UPDATE",
    [ST_ALERTS_FINISH] = "WITH d AS (DELETE FROM alert_drains WHERE node = $1) "
                         "DELETE FROM alert_outbox WHERE claimed_by = $1",
    [ST_TAKEOVER_NODES] = "SELECT node FROM alert_drains WHERE node <> $1 AND claimed_at <= $2 ORDER BY node "
                          "FOR UPDATE SKIP LOCKED",
    [ST_TAKEOVER_RELEASE] = "WITH d AS (DELETE FROM alert_drains WHERE node = $1) UPDATE alert_outbox SET "
                            "claimed_by = NULL, claimed_at = NULL WHERE claimed_by = $1",
};

typedef struct pg_store {
  PGconn *conn;
  char *uri;
  int readonly, durable;
  int in_tx;         /* inside BEGIN .. COMMIT/ROLLBACK */
  int broken;        /* the connection was lost: reopened by a later begin */
  int outage_logged; /* the loss was logged (once per outage) */
  int64_t lost_ms;   /* when it was lost */
  int64_t retry_ms;  /* no reconnection attempt before this */
  uint64_t session;  /* 1, +1 at every reconnection */
  char node[64];     /* connections.node of this manager */
  int node_locked;   /* this session holds the node's lock */
  int64_t *release;  /* claims released inside the open transaction: unlocked at its end */
  size_t nrelease, crelease;
  char err[1024];
} pg_store;

static int64_t now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* "what: msg" with libpq's line breaks and indentation folded into single spaces. */
static void set_err(pg_store *s, const char *what, const char *msg) {
  int n = snprintf(s->err, sizeof s->err, "%s: ", what);
  size_t o = n > 0 && (size_t)n < sizeof s->err ? (size_t)n : 0;
  int space = 0;
  for (const char *p = msg ? msg : ""; *p && o + 1 < sizeof s->err; p++) {
    if (*p == '\n' || *p == '\t' || *p == ' ' || *p == '\r') {
      space = 1;
      continue;
    }
    if (space && o && s->err[o - 1] != ' ') s->err[o++] = ' ';
    space = 0;
    if (o + 1 < sizeof s->err) s->err[o++] = *p;
  }
  s->err[o] = '\0';
}

/* The connection is gone: every claim with it. Logged once per outage. */
static void mark_broken(pg_store *s) {
  if (!s->broken) {
    s->broken = 1;
    s->lost_ms = now_ms();
    s->retry_ms = s->lost_ms; /* the next begin tries at once */
  }
  s->nrelease = 0; /* an open transaction stays "open" until its commit (which fails) or rollback */
  if (!s->outage_logged && !s->readonly) {
    log_error("PostgreSQL store: %s (connection lost; reconnecting at most every %d ms, nothing is "
              "acknowledged meanwhile)",
              s->err, RECONNECT_MS);
    s->outage_logged = 1;
  }
}

static void quiet_notice(void *arg, const char *message) {
  (void)arg;
  (void)message;
}

/* ---- parameters and statements ---- */

#define MAX_PARAMS 20
typedef struct params {
  const char *v[MAX_PARAMS];
  int len[MAX_PARAMS], fmt[MAX_PARAMS];
  char num[MAX_PARAMS][32];
  int n;
} params;

static void p_text(params *p, const char *t) {
  p->v[p->n] = t ? t : "";
  p->len[p->n] = 0;
  p->fmt[p->n] = 0;
  p->n++;
}

static void p_int(params *p, int64_t x) {
  snprintf(p->num[p->n], sizeof p->num[p->n], "%lld", (long long)x);
  p_text(p, p->num[p->n]);
}

static void p_double(params *p, double x) {
  snprintf(p->num[p->n], sizeof p->num[p->n], "%.17g", x);
  p_text(p, p->num[p->n]);
}

static void p_bin(params *p, const void *b, size_t n) {
  p->v[p->n] = b;
  p->len[p->n] = (int)n;
  p->fmt[p->n] = 1;
  p->n++;
}

static int reconnect(pg_store *s);

/* Run prepared statement st; the result (PQclear it) or NULL with s->err set ("what: why"). */
static PGresult *run(pg_store *s, int st, const params *p, int binary, const char *what) {
  if (s->broken && !s->in_tx && !s->readonly) reconnect(s); /* outside a transaction: try again now */
  if (s->broken || !s->conn) {
    snprintf(s->err, sizeof s->err, "%s: the PostgreSQL connection is lost (reconnecting)", what);
    return NULL;
  }
  char name[16];
  snprintf(name, sizeof name, "tn%d", st);
  PGresult *r = PQexecPrepared(s->conn, name, p ? p->n : 0, p ? p->v : NULL, p ? p->len : NULL,
                               p ? p->fmt : NULL, binary);
  ExecStatusType t = PQresultStatus(r);
  if (t == PGRES_COMMAND_OK || t == PGRES_TUPLES_OK) return r;
  set_err(s, what, r ? PQresultErrorMessage(r) : PQerrorMessage(s->conn));
  PQclear(r);
  if (PQstatus(s->conn) == CONNECTION_BAD) mark_broken(s);
  return NULL;
}

/* Run a statement that returns no row we need; *changed (may be NULL) gets the rows it touched. */
static int exec_st(pg_store *s, int st, const params *p, const char *what, int *changed) {
  PGresult *r = run(s, st, p, 0, what);
  if (!r) return TN_EDB;
  if (changed) *changed = atoi(PQcmdTuples(r));
  PQclear(r);
  return TN_OK;
}

/* Run plain SQL (no parameters). */
static int exec_sql(pg_store *s, const char *q, const char *what) {
  PGresult *r = PQexec(s->conn, q);
  ExecStatusType t = PQresultStatus(r);
  if (t == PGRES_COMMAND_OK || t == PGRES_TUPLES_OK) {
    PQclear(r);
    return TN_OK;
  }
  set_err(s, what, r ? PQresultErrorMessage(r) : PQerrorMessage(s->conn));
  PQclear(r);
  if (PQstatus(s->conn) == CONNECTION_BAD) mark_broken(s);
  return TN_EDB;
}

static int64_t gi(const PGresult *r, int row, int col) { return strtoll(PQgetvalue(r, row, col), NULL, 10); }

static void gt(char *dst, size_t cap, const PGresult *r, int row, int col) {
  snprintf(dst, cap, "%s", PQgetvalue(r, row, col));
}

/* ---- connection, schema ---- */

static int connect_db(pg_store *s, const char *timeout) {
  const char *const kw[] = {"connect_timeout", "dbname", NULL};
  const char *const val[] = {timeout, s->uri, NULL};
  PQfinish(s->conn);
  s->conn = PQconnectdbParams(kw, val, 1);
  if (!s->conn) {
    snprintf(s->err, sizeof s->err, "PostgreSQL store: out of memory");
    return TN_ENOMEM;
  }
  if (PQstatus(s->conn) != CONNECTION_OK) {
    char what[512];
    snprintf(what, sizeof what, "PostgreSQL store (database '%s' on %s, port %s): cannot connect",
             PQdb(s->conn) ? PQdb(s->conn) : "?", PQhost(s->conn) ? PQhost(s->conn) : "?",
             PQport(s->conn) ? PQport(s->conn) : "?");
    set_err(s, what, PQerrorMessage(s->conn));
    return TN_EDB;
  }
  PQsetNoticeProcessor(s->conn, quiet_notice, NULL);
  char set[256];
  snprintf(set, sizeof set, "SET synchronous_commit = %s; SET default_transaction_read_only = %s",
           s->durable ? "on" : "off", s->readonly ? "on" : "off");
  return exec_sql(s, set, "PostgreSQL store: session settings");
}

static int prepare_all(pg_store *s) {
  for (int i = 0; i < ST__COUNT; i++) {
    char name[16];
    snprintf(name, sizeof name, "tn%d", i);
    PGresult *r = PQprepare(s->conn, name, sql[i], 0, NULL);
    if (PQresultStatus(r) != PGRES_COMMAND_OK) {
      char what[64];
      snprintf(what, sizeof what, "PostgreSQL store: preparing statement %d", i);
      set_err(s, what, PQresultErrorMessage(r));
      PQclear(r);
      return TN_EDB;
    }
    PQclear(r);
  }
  return TN_OK;
}

/* The schema version the store holds into *v (-1: no tenet_schema table, 0: no version yet). */
static int schema_version(pg_store *s, int *v) {
  PGresult *r = PQexec(s->conn, "SELECT to_regclass('tenet_schema') IS NULL");
  if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != 1) {
    set_err(s, "PostgreSQL store: reading the schema version", PQresultErrorMessage(r));
    PQclear(r);
    return TN_EDB;
  }
  int none = strcmp(PQgetvalue(r, 0, 0), "t") == 0;
  PQclear(r);
  if (none) {
    *v = -1;
    return TN_OK;
  }
  r = PQexec(s->conn, "SELECT coalesce(max(version), 0) FROM tenet_schema");
  if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) != 1) {
    set_err(s, "PostgreSQL store: reading the schema version", PQresultErrorMessage(r));
    PQclear(r);
    return TN_EDB;
  }
  *v = (int)gi(r, 0, 0);
  PQclear(r);
  return TN_OK;
}

static int too_new(pg_store *s, int v) {
  snprintf(s->err, sizeof s->err,
           "PostgreSQL store: its schema version %d is newer than this tenet-manager's (%d): upgrade "
           "tenet-manager (it does not write a store it does not know)",
           v, SCHEMA_VERSION);
  return TN_EDB;
}

/* Apply the missing migrations in one transaction under the migration lock: a second manager
 * starting at the same time waits, then finds nothing to do. */
static int migrate(pg_store *s) {
  char q[256];
  snprintf(q, sizeof q,
           "BEGIN; SELECT pg_advisory_xact_lock(%d, %d); CREATE TABLE IF NOT EXISTS tenet_schema("
           "version integer PRIMARY KEY, applied_at bigint NOT NULL, node text NOT NULL)",
           MIGRATE_KEY1, MIGRATE_KEY2);
  if (exec_sql(s, q, "PostgreSQL store: locking the schema") != TN_OK) goto fail;
  int v;
  if (schema_version(s, &v) != TN_OK) goto fail;
  if (v > SCHEMA_VERSION) {
    too_new(s, v);
    goto fail;
  }
  for (; v < SCHEMA_VERSION; v++) {
    char what[64];
    snprintf(what, sizeof what, "PostgreSQL store: migration to schema version %d", v + 1);
    if (exec_sql(s, migrations[v], what) != TN_OK) goto fail;
    params p = {0};
    char ver[16];
    snprintf(ver, sizeof ver, "%d", v + 1);
    p_text(&p, ver);
    p_int(&p, (int64_t)time(NULL));
    p_text(&p, s->node);
    PGresult *r =
        PQexecParams(s->conn, "INSERT INTO tenet_schema(version, applied_at, node) VALUES($1, $2, $3)", p.n,
                     NULL, p.v, p.len, p.fmt, 0);
    if (PQresultStatus(r) != PGRES_COMMAND_OK) {
      set_err(s, what, PQresultErrorMessage(r));
      PQclear(r);
      goto fail;
    }
    PQclear(r);
  }
  return exec_sql(s, "COMMIT", "PostgreSQL store: committing the schema");
fail:;
  PGresult *r = PQexec(s->conn, "ROLLBACK");
  PQclear(r);
  return TN_EDB;
}

/* A reader does not migrate: the schema must be this binary's. */
static int check_schema(pg_store *s) {
  int v;
  if (schema_version(s, &v) != TN_OK) return TN_EDB;
  if (v < 0) {
    snprintf(s->err, sizeof s->err,
             "PostgreSQL store: database '%s' is not a tenet-manager store yet (no tenet_schema table; "
             "tenet-manager creates it when it starts)",
             PQdb(s->conn));
    return TN_EDB;
  }
  if (v > SCHEMA_VERSION) return too_new(s, v);
  if (v < SCHEMA_VERSION) {
    snprintf(s->err, sizeof s->err,
             "PostgreSQL store: its schema version %d is older than this tenet-manager's (%d): start "
             "tenet-manager once to migrate it",
             v, SCHEMA_VERSION);
    return TN_EDB;
  }
  return TN_OK;
}

static void pg_close(void *h) {
  pg_store *s = h;
  if (!s) return;
  PQfinish(s->conn);
  free(s->release);
  free(s->uri);
  free(s);
}

/* Agents send bytes (file contents in reasons and events) that need not be valid UTF-8: a
 * SQL_ASCII database keeps them as sent, like SQLite; another encoding refuses them (their batch
 * rolls back and comes again). Said once at start. */
static void check_encoding(pg_store *s) {
  const char *enc = PQparameterStatus(s->conn, "server_encoding");
  if (!s->readonly && enc && strcmp(enc, "SQL_ASCII") != 0)
    log_warn("PostgreSQL store: database '%s' has encoding %s: text an agent sends that is not valid %s "
             "will be refused (its batch rolls back and the agent sends it again); create the database with "
             "ENCODING 'SQL_ASCII' TEMPLATE template0 (docs/DAEMONS.md)",
             PQdb(s->conn), enc, enc);
}

static void *pg_open(const char *uri, int readonly, int durable, char *err, size_t errlen) {
  pg_store *s = calloc(1, sizeof *s);
  if (!s || !(s->uri = strdup(uri))) {
    free(s);
    snprintf(err, errlen, "out of memory");
    return NULL;
  }
  s->readonly = readonly;
  s->durable = durable;
  s->session = 1;
  if (gethostname(s->node, sizeof s->node) != 0) snprintf(s->node, sizeof s->node, "localhost");
  s->node[sizeof s->node - 1] = '\0';
  if (connect_db(s, CONNECT_TIMEOUT) != TN_OK || (readonly ? check_schema(s) : migrate(s)) != TN_OK ||
      prepare_all(s) != TN_OK) {
    snprintf(err, errlen, "%s", s->err);
    pg_close(s);
    return NULL;
  }
  check_encoding(s);
  return s;
}

static int pg_probe(const char *uri, char *err, size_t errlen) {
  pg_store s = {.readonly = 1};
  s.uri = (char *)uri;
  int v = 0, rc = connect_db(&s, CONNECT_TIMEOUT);
  if (rc == TN_OK && (rc = schema_version(&s, &v)) == TN_OK && v > SCHEMA_VERSION) rc = too_new(&s, v);
  if (rc != TN_OK) snprintf(err, errlen, "%s", s.err);
  PQfinish(s.conn);
  return rc;
}

/* A begin after the connection was lost: connect again (at most once per RECONNECT_MS). */
static int reconnect(pg_store *s) {
  int64_t now = now_ms();
  if (now < s->retry_ms) {
    snprintf(s->err, sizeof s->err, "PostgreSQL store: the connection is lost (reconnecting)");
    return TN_EDB;
  }
  s->retry_ms = now + RECONNECT_MS;
  if (connect_db(s, RECONNECT_TIMEOUT) != TN_OK || prepare_all(s) != TN_OK) return TN_EDB;
  s->broken = 0;
  s->session++;
  s->node_locked = 0; /* taken again by the next alert claim */
  if (s->outage_logged)
    log_info("PostgreSQL store: reconnected after %lld ms (a new session: this manager's claims on agents "
             "were released)",
             (long long)(now_ms() - s->lost_ms));
  s->outage_logged = 0;
  return TN_OK;
}

static const char *pg_error(const void *h) { return ((const pg_store *)h)->err; }

/* Take this node's lock unless this session holds it: TN_OK, or TN_EDB when another session (a
 * live manager with the same node name) holds it. */
#define NODE_LOCK_WAIT_MS 5000

static int node_lock(pg_store *s) {
  if (s->node_locked) return TN_OK;
  params p = {0};
  p_int(&p, NODE_KEY1);
  p_int(&p, (int64_t)(XXH64(s->node, strlen(s->node), NODE_SEED) & 0x7fffffff));
  PGresult *r = run(s, ST_NODE_LOCK, &p, 0, "locking the node name");
  if (!r) return TN_EDB;
  s->node_locked = PQntuples(r) == 1 && strcmp(PQgetvalue(r, 0, 0), "t") == 0;
  PQclear(r);
  if (!s->node_locked) {
    snprintf(s->err, sizeof s->err,
             "another tenet-manager runs as node '%s' on this database (its session holds the node's lock): "
             "give every manager its own node_name",
             s->node);
    return TN_EDB;
  }
  return TN_OK;
}

static int pg_set_node(void *h, const char *node) {
  pg_store *s = h;
  if (!node || !*node || strlen(node) >= sizeof s->node) {
    snprintf(s->err, sizeof s->err, "node name must have 1 to %zu bytes", sizeof s->node - 1);
    return TN_ECONFIG;
  }
  if (s->node_locked && strcmp(s->node, node) != 0) {
    snprintf(s->err, sizeof s->err, "the node name is set already ('%s')", s->node);
    return TN_ECONFIG;
  }
  snprintf(s->node, sizeof s->node, "%s", node);
  if (s->readonly) return TN_OK;
  /* The server ends a dead manager's session (and frees its lock) asynchronously, so a manager
   * restarted at once after a kill -9 may find its own old session still there: retry for up to
   * NODE_LOCK_WAIT_MS before deciding another live manager holds the name. */
  int64_t deadline = now_ms() + NODE_LOCK_WAIT_MS;
  int rc;
  while ((rc = node_lock(s)) != TN_OK && !s->broken && now_ms() < deadline)
    usleep(100 * 1000);
  return rc;
}

static uint64_t pg_session(const void *h) { return ((const pg_store *)h)->session; }

/* The text form of a bigint[] parameter ("{1,2,3}"), malloc'd (NULL: out of memory). */
static char *int64_array_text(const int64_t *v, size_t n) {
  char *arr = malloc(n * 24 + 3);
  if (!arr) return NULL;
  size_t off = 0;
  arr[off++] = '{';
  for (size_t i = 0; i < n; i++)
    off += (size_t)sprintf(arr + off, "%s%lld", i ? "," : "", (long long)v[i]);
  arr[off++] = '}';
  arr[off] = '\0';
  return arr;
}

/* ---- transactions ---- */

/* Unlock the claims released inside the transaction that just ended. */
static void release_deferred(pg_store *s) {
  if (!s->nrelease) return;
  char *arr = int64_array_text(s->release, s->nrelease);
  if (arr) {
    params p = {0};
    p_text(&p, arr);
    PGresult *r = run(s, ST_UNLOCK, &p, 0, "releasing agents");
    if (!r) log_error("PostgreSQL store: %s", s->err);
    PQclear(r);
    free(arr);
  }
  s->nrelease = 0;
}

static int pg_begin(void *h) {
  pg_store *s = h;
  if (s->broken && reconnect(s) != TN_OK) return TN_EDB;
  if (exec_sql(s, "BEGIN", "PostgreSQL store: BEGIN") != TN_OK) return TN_EDB;
  s->in_tx = 1;
  return TN_OK;
}

static int pg_commit(void *h) {
  pg_store *s = h;
  if (!s->in_tx) return TN_OK;
  if (s->broken) {
    s->in_tx = 0;
    return TN_EDB;
  }
  PGresult *r = PQexec(s->conn, "COMMIT");
  int ok = PQresultStatus(r) == PGRES_COMMAND_OK && strcmp(PQcmdStatus(r), "COMMIT") == 0;
  if (!ok) {
    /* an aborted transaction "commits" as ROLLBACK */
    set_err(s, "PostgreSQL store: COMMIT",
            PQresultStatus(r) == PGRES_COMMAND_OK ? "the transaction had failed and was rolled back"
                                                  : PQresultErrorMessage(r));
  }
  PQclear(r);
  s->in_tx = 0;
  if (PQstatus(s->conn) == CONNECTION_BAD) {
    mark_broken(s);
    return TN_EDB;
  }
  release_deferred(s);
  return ok ? TN_OK : TN_EDB;
}

static void pg_rollback(void *h) {
  pg_store *s = h;
  if (!s->in_tx) return;
  s->in_tx = 0;
  if (s->broken) return;
  PGresult *r = PQexec(s->conn, "ROLLBACK");
  PQclear(r);
  if (PQstatus(s->conn) == CONNECTION_BAD) {
    mark_broken(s);
    return;
  }
  release_deferred(s);
}

static int pg_in_transaction(const void *h) { return ((const pg_store *)h)->in_tx; }

/* ---- ownership ---- */

static int64_t claim_key(const char *agent_id) {
  return (int64_t)XXH64(agent_id, strlen(agent_id), CLAIM_SEED);
}

static int pg_agent_claim(void *h, const char *agent_id, int *claimed) {
  pg_store *s = h;
  *claimed = 0;
  params p = {0};
  p_int(&p, claim_key(agent_id));
  PGresult *r = run(s, ST_CLAIM, &p, 0, "claiming an agent");
  if (!r) return TN_EDB;
  *claimed = PQntuples(r) == 1 && strcmp(PQgetvalue(r, 0, 0), "t") == 0;
  PQclear(r);
  return TN_OK;
}

static int pg_agent_release(void *h, const char *agent_id) {
  pg_store *s = h;
  if (s->broken) return TN_OK; /* the session and its locks are gone */
  if (s->nrelease == s->crelease) {
    size_t nc = s->crelease ? s->crelease * 2 : 16;
    int64_t *nv = realloc(s->release, nc * sizeof *nv);
    if (!nv) return TN_ENOMEM;
    s->release = nv;
    s->crelease = nc;
  }
  s->release[s->nrelease++] = claim_key(agent_id);
  if (!s->in_tx) release_deferred(s);
  return TN_OK;
}

/* ---- agents ---- */

static int pg_agent_touch(void *h, const char *agent_id, const char *version, const char *hello_id,
                          int64_t now) {
  params p = {0};
  p_text(&p, agent_id);
  p_int(&p, now);
  p_text(&p, version);
  p_text(&p, hello_id);
  return exec_st(h, ST_AGENT_TOUCH, &p, "recording an agent", NULL);
}

static void read_agent(const PGresult *r, int row, mstore_agent *a) {
  memset(a, 0, sizeof *a);
  gt(a->agent_id, sizeof a->agent_id, r, row, 0);
  a->first_seen = gi(r, row, 1);
  a->last_seen = gi(r, row, 2);
  gt(a->version, sizeof a->version, r, row, 3);
  gt(a->hello_id, sizeof a->hello_id, r, row, 4);
  a->last_seq = (uint64_t)gi(r, row, 5);
  int64_t *c = &a->c.frames_in;
  for (int i = 0; i < MSTORE_NCOUNTERS; i++)
    c[i] = gi(r, row, 6 + i);
  a->connected = (int)gi(r, row, 6 + MSTORE_NCOUNTERS);
  gt(a->peer, sizeof a->peer, r, row, 7 + MSTORE_NCOUNTERS);
  a->connected_at = gi(r, row, 8 + MSTORE_NCOUNTERS);
  a->disconnected_at = gi(r, row, 9 + MSTORE_NCOUNTERS);
  gt(a->node, sizeof a->node, r, row, 10 + MSTORE_NCOUNTERS);
}

static int pg_agent_get(void *h, const char *agent_id, mstore_agent *a, int *found) {
  *found = 0;
  params p = {0};
  p_text(&p, agent_id);
  PGresult *r = run(h, ST_AGENT_GET, &p, 0, "reading an agent");
  if (!r) return TN_EDB;
  if (PQntuples(r) > 0) {
    read_agent(r, 0, a);
    *found = 1;
  }
  PQclear(r);
  return TN_OK;
}

static int pg_agent_set_last_seq(void *h, const char *agent_id, uint64_t seq, int64_t now) {
  params p = {0};
  p_text(&p, agent_id);
  p_int(&p, (int64_t)seq);
  p_int(&p, now);
  return exec_st(h, ST_AGENT_SEQ, &p, "recording an agent's seq", NULL);
}

static int pg_agent_add_counters(void *h, const char *agent_id, const mstore_counters *c) {
  params p = {0};
  p_text(&p, agent_id);
  const int64_t *v = &c->frames_in;
  for (int i = 0; i < MSTORE_NCOUNTERS; i++)
    p_int(&p, v[i]);
  return exec_st(h, ST_AGENT_ADD, &p, "updating counters", NULL);
}

static int pg_agents_each(void *h, mstore_agent_fn fn, void *arg) {
  PGresult *r = run(h, ST_AGENTS_EACH, NULL, 0, "listing agents");
  if (!r) return TN_EDB;
  int stop = 0;
  for (int i = 0; i < PQntuples(r) && !stop; i++) {
    mstore_agent a;
    read_agent(r, i, &a);
    stop = fn(arg, &a);
  }
  PQclear(r);
  return stop;
}

static int pg_agent_connected(void *h, const char *agent_id, const char *peer, int64_t now) {
  pg_store *s = h;
  params p = {0};
  p_text(&p, agent_id);
  p_text(&p, peer);
  p_int(&p, now);
  p_text(&p, s->node);
  return exec_st(s, ST_CONN_UP, &p, "recording a connection", NULL);
}

static int pg_agent_disconnected(void *h, const char *agent_id, int64_t now) {
  pg_store *s = h;
  params p = {0};
  p_text(&p, agent_id);
  p_int(&p, now);
  p_text(&p, s->node);
  int rc = exec_st(s, ST_CONN_DOWN, &p, "recording a disconnection", NULL);
  if (rc != TN_OK) return rc;
  p.n = 2;
  return exec_st(s, ST_CONN_SEEN, &p, "recording a disconnection", NULL);
}

static int pg_connections_reset(void *h, int64_t now) {
  pg_store *s = h;
  params p = {0};
  p_int(&p, now);
  p_text(&p, s->node);
  return exec_st(s, ST_CONN_RESET, &p, "resetting connections", NULL);
}

static int pg_agent_store_id(void *h, const char *agent_id, char out[65], int *found) {
  *found = 0;
  out[0] = '\0';
  params p = {0};
  p_text(&p, agent_id);
  PGresult *r = run(h, ST_STORE_ID_GET, &p, 0, "reading an agent's store id");
  if (!r) return TN_EDB;
  if (PQntuples(r) > 0) {
    gt(out, 65, r, 0, 0);
    *found = 1;
  }
  PQclear(r);
  return TN_OK;
}

static int pg_agent_new_store(void *h, const char *agent_id, const char *store_id, int forget) {
  params p = {0};
  p_text(&p, agent_id);
  p_text(&p, store_id);
  int rc = exec_st(h, ST_STORE_ID_PUT, &p, "recording an agent's store id", NULL);
  if (rc != TN_OK || !forget) return rc;
  p.n = 1;
  return exec_st(h, ST_AGENT_SEQ_RESET, &p, "resetting an agent's sequence numbers", NULL);
}

/* ---- alert outbox ---- */

static int pg_alert_add(void *h, const char *line, size_t len) {
  params p = {0};
  p_bin(&p, line, len);
  return exec_st(h, ST_ALERT_ADD, &p, "queuing an alert", NULL);
}

/* Hand each row of a binary (id, line) result to fn and free it: id is a big-endian int8, line the
 * bytea's bytes. A non-zero return of fn stops the walk and is returned. */
static int walk_alert_rows(PGresult *r, mstore_alert_fn fn, void *arg) {
  int stop = 0;
  for (int i = 0; i < PQntuples(r) && !stop; i++) {
    const unsigned char *b = (const unsigned char *)PQgetvalue(r, i, 0);
    uint64_t id = 0;
    for (int k = 0; k < 8 && PQgetlength(r, i, 0) == 8; k++)
      id = id << 8 | b[k];
    stop = fn(arg, (int64_t)id, PQgetvalue(r, i, 1), (size_t)PQgetlength(r, i, 1));
  }
  PQclear(r);
  return stop;
}

static int pg_alerts_each(void *h, size_t limit, mstore_alert_fn fn, void *arg) {
  params p = {0};
  p_int(&p, (int64_t)limit);
  PGresult *r = run(h, ST_ALERTS_EACH, &p, 1, "reading queued alerts");
  if (!r) return TN_EDB;
  return walk_alert_rows(r, fn, arg);
}

static int pg_alerts_delete(void *h, int64_t upto) {
  params p = {0};
  p_int(&p, upto);
  return exec_st(h, ST_ALERTS_DEL, &p, "deleting written alerts", NULL);
}

static int pg_alerts_delete_ids(void *h, const int64_t *ids, size_t n) {
  if (!n) return TN_OK;
  char *arr = int64_array_text(ids, n);
  if (!arr) return TN_ENOMEM;
  params p = {0};
  p_text(&p, arr);
  int rc = exec_st(h, ST_ALERTS_DEL_IDS, &p, "deleting written alerts", NULL);
  free(arr);
  return rc;
}

static int pg_alerts_stats(void *h, int64_t *count, int64_t *bytes) {
  PGresult *r = run(h, ST_ALERTS_STATS, NULL, 0, "counting queued alerts");
  if (!r) return TN_EDB;
  *count = gi(r, 0, 0);
  *bytes = gi(r, 0, 1);
  PQclear(r);
  return TN_OK;
}

/* ---- alert drains ---- */

static int pg_alerts_claim(void *h, size_t limit, int64_t now, size_t *claimed) {
  pg_store *s = h;
  *claimed = 0;
  if (node_lock(s) != TN_OK) return TN_EDB;
  params p = {0};
  p_text(&p, s->node);
  p_int(&p, now);
  p_int(&p, (int64_t)limit);
  int n = 0, rc = exec_st(s, ST_ALERTS_CLAIM, &p, "claiming queued alerts", &n);
  *claimed = rc == TN_OK && n > 0 ? (size_t)n : 0;
  return rc;
}

static int pg_alerts_claimed_each(void *h, mstore_alert_fn fn, void *arg) {
  pg_store *s = h;
  params p = {0};
  p_text(&p, s->node);
  PGresult *r = run(s, ST_ALERTS_CLAIMED, &p, 1, "reading claimed alerts");
  if (!r) return TN_EDB;
  return walk_alert_rows(r, fn, arg);
}

static int pg_drain_put(void *h, const mstore_drain *d) {
  pg_store *s = h;
  params p = {0};
  p_text(&p, s->node);
  p_int(&p, d->file_offset);
  p_int(&p, (int64_t)d->file_dev);
  p_int(&p, (int64_t)d->file_ino);
  p_int(&p, d->claimed_at);
  return exec_st(s, ST_DRAIN_PUT, &p, "recording an alert drain", NULL);
}

static int pg_drain_get(void *h, mstore_drain *d, int *found) {
  pg_store *s = h;
  *found = 0;
  if (node_lock(s) != TN_OK) return TN_EDB;
  params p = {0};
  p_text(&p, s->node);
  PGresult *r = run(s, ST_DRAIN_GET, &p, 0, "reading the alert drain");
  if (!r) return TN_EDB;
  if ((*found = PQntuples(r) == 1)) {
    d->file_offset = gi(r, 0, 0);
    d->file_dev = (uint64_t)gi(r, 0, 1);
    d->file_ino = (uint64_t)gi(r, 0, 2);
    d->claimed_at = gi(r, 0, 3);
  }
  PQclear(r);
  return TN_OK;
}

static int pg_alerts_finish(void *h) {
  pg_store *s = h;
  params p = {0};
  p_text(&p, s->node);
  return exec_st(s, ST_ALERTS_FINISH, &p, "deleting written alerts", NULL);
}

/* Is another session holding the lock of node? 1, 0, or -1 (error). */
static int node_held(pg_store *s, const char *node) {
  params p = {0};
  p_int(&p, NODE_KEY1);
  p_int(&p, (int64_t)(XXH64(node, strlen(node), NODE_SEED) & 0x7fffffff));
  PGresult *r = run(s, ST_NODE_HELD, &p, 0, "looking for a node's lock");
  if (!r) return -1;
  int held = gi(r, 0, 0) > 0;
  PQclear(r);
  return held;
}

static int pg_alerts_takeover(void *h, int64_t before, int64_t *released) {
  pg_store *s = h;
  *released = 0;
  params p = {0};
  p_text(&p, s->node);
  p_int(&p, before);
  PGresult *r = run(s, ST_TAKEOVER_NODES, &p, 0, "looking for dead nodes' alert drains");
  if (!r) return TN_EDB;
  int rc = TN_OK;
  for (int i = 0; i < PQntuples(r) && rc == TN_OK; i++) {
    const char *node = PQgetvalue(r, i, 0);
    int held = node_held(s, node);
    if (held < 0) rc = TN_EDB;
    if (held) continue; /* alive (or starting): it recovers its own drain */
    params q = {0};
    p_text(&q, node);
    int n = 0;
    if ((rc = exec_st(s, ST_TAKEOVER_RELEASE, &q, "releasing a dead node's alerts", &n)) != TN_OK) break;
    *released += n;
    log_warn(
        "Alerts: node '%s' died during an alert drain and did not come back: its %d claimed alert(s) are "
        "released to any manager's drain; those the dead node had already written to its own alerts file "
        "will appear twice (alert_takeover)",
        node, n);
  }
  PQclear(r);
  return rc;
}

/* ---- policies ---- */

static int read_policy(const PGresult *r, int row, mstore_policy *p) {
  memset(p, 0, sizeof *p);
  gt(p->agent_id, sizeof p->agent_id, r, row, 0);
  gt(p->policy_id, sizeof p->policy_id, r, row, 1);
  gt(p->bundle_hash, sizeof p->bundle_hash, r, row, 2);
  p->policy_version = (uint64_t)gi(r, row, 3);
  gt(p->source_hash, sizeof p->source_hash, r, row, 4);
  char **strs[4] = {&p->name, &p->file, &p->description, &p->references};
  for (int i = 0; i < 4; i++)
    if (!(*strs[i] = strdup(PQgetvalue(r, row, 5 + i)))) {
      mstore_policy_strings_free(p);
      return TN_ENOMEM;
    }
  p->scan_id = gi(r, row, 9);
  p->passed = gi(r, row, 10);
  p->failed = gi(r, row, 11);
  p->invalid = gi(r, row, 12);
  p->total_checks = gi(r, row, 13);
  p->score = strtod(PQgetvalue(r, row, 14), NULL);
  p->start_time = gi(r, row, 15);
  p->end_time = gi(r, row, 16);
  gt(p->summary_hash, sizeof p->summary_hash, r, row, 17);
  p->last_summary = gi(r, row, 18);
  return TN_OK;
}

static int pg_policy_get(void *h, const char *agent_id, const char *policy_id, mstore_policy *pol,
                         int *found) {
  *found = 0;
  memset(pol, 0, sizeof *pol);
  params p = {0};
  p_text(&p, agent_id);
  p_text(&p, policy_id);
  PGresult *r = run(h, ST_POLICY_GET, &p, 0, "reading a policy");
  if (!r) return TN_EDB;
  int rc = TN_OK;
  if (PQntuples(r) > 0) {
    rc = read_policy(r, 0, pol);
    *found = rc == TN_OK;
  }
  PQclear(r);
  return rc;
}

static int pg_policy_put(void *h, const mstore_policy *pol) {
  params p = {0};
  p_text(&p, pol->agent_id);
  p_text(&p, pol->policy_id);
  p_text(&p, pol->bundle_hash);
  p_int(&p, (int64_t)pol->policy_version);
  p_text(&p, pol->source_hash);
  p_text(&p, pol->name);
  p_text(&p, pol->file);
  p_text(&p, pol->description);
  p_text(&p, pol->references);
  p_int(&p, pol->scan_id);
  p_int(&p, pol->passed);
  p_int(&p, pol->failed);
  p_int(&p, pol->invalid);
  p_int(&p, pol->total_checks);
  p_double(&p, pol->score);
  p_int(&p, pol->start_time);
  p_int(&p, pol->end_time);
  p_text(&p, pol->summary_hash);
  p_int(&p, pol->last_summary);
  return exec_st(h, ST_POLICY_PUT, &p, "writing a policy", NULL);
}

static int pg_checks_delete(void *h, const char *agent_id, const char *policy_id, int *n) {
  params p = {0};
  p_text(&p, agent_id);
  p_text(&p, policy_id);
  int changed = 0;
  int rc = exec_st(h, ST_CHECKS_DEL, &p, "deleting checks", &changed);
  if (n) *n = rc == TN_OK ? changed : 0;
  return rc;
}

static int pg_policy_delete(void *h, const char *agent_id, const char *policy_id, int *checks) {
  int rc = pg_checks_delete(h, agent_id, policy_id, checks);
  if (rc != TN_OK) return rc;
  params p = {0};
  p_text(&p, agent_id);
  p_text(&p, policy_id);
  return exec_st(h, ST_POLICY_DEL, &p, "deleting a policy", NULL);
}

static int pg_policies_retain(void *h, const char *agent_id, const char *const *ids, size_t n, int *deleted) {
  *deleted = 0;
  params p = {0};
  p_text(&p, agent_id);
  PGresult *r = run(h, ST_POLICY_IDS, &p, 0, "listing policies");
  if (!r) return TN_EDB;
  int rc = TN_OK;
  for (int i = 0; rc == TN_OK && i < PQntuples(r); i++) {
    const char *stored = PQgetvalue(r, i, 0);
    size_t j;
    for (j = 0; j < n; j++)
      if (strcmp(ids[j], stored) == 0) break;
    if (j < n) continue;
    rc = pg_policy_delete(h, agent_id, stored, NULL);
    if (rc == TN_OK) (*deleted)++;
  }
  PQclear(r);
  return rc;
}

static int pg_policies_each(void *h, const char *agent_id, mstore_policy_fn fn, void *arg) {
  params p = {0};
  if (agent_id) p_text(&p, agent_id);
  PGresult *r = run(h, agent_id ? ST_POLICIES_AGENT : ST_POLICIES_ALL, &p, 0, "listing policies");
  if (!r) return TN_EDB;
  int stop = 0;
  for (int i = 0; i < PQntuples(r) && !stop; i++) {
    mstore_policy pol;
    if (read_policy(r, i, &pol) != TN_OK) {
      stop = TN_ENOMEM;
      break;
    }
    stop = fn(arg, &pol);
    mstore_policy_strings_free(&pol);
  }
  PQclear(r);
  return stop;
}

/* ---- checks ---- */

static int pg_check_get(void *h, const char *agent_id, const char *policy_id, int64_t check_id,
                        char result[16], int *found) {
  *found = 0;
  result[0] = '\0';
  params p = {0};
  p_text(&p, agent_id);
  p_text(&p, policy_id);
  p_int(&p, check_id);
  PGresult *r = run(h, ST_CHECK_GET, &p, 0, "reading a check");
  if (!r) return TN_EDB;
  if (PQntuples(r) > 0) {
    gt(result, 16, r, 0, 0);
    *found = 1;
  }
  PQclear(r);
  return TN_OK;
}

static int pg_check_put(void *h, const char *agent_id, const char *policy_id, const mstore_check *c) {
  params p = {0};
  p_text(&p, agent_id);
  p_text(&p, policy_id);
  p_int(&p, c->check_id);
  p_text(&p, c->result);
  p_text(&p, c->reason);
  p_int(&p, c->scan_id);
  p_text(&p, c->event);
  p_int(&p, c->updated);
  p_text(&p, c->title);
  return exec_st(h, ST_CHECK_PUT, &p, "writing a check", NULL);
}

static int pg_checks_delete_other_scans(void *h, const char *agent_id, const char *policy_id, int64_t scan_id,
                                        int *n) {
  params p = {0};
  p_text(&p, agent_id);
  p_text(&p, policy_id);
  p_int(&p, scan_id);
  int changed = 0;
  int rc = exec_st(h, ST_CHECKS_DEL_OTHER, &p, "deleting stale checks", &changed);
  if (n) *n = rc == TN_OK ? changed : 0;
  return rc;
}

/* The same hash as the SQLite store's: the results by ascending check id (ARCHITECTURE.md). */
static int pg_results_hash(void *h, const char *agent_id, const char *policy_id, char out[65], size_t *n) {
  params p = {0};
  p_text(&p, agent_id);
  p_text(&p, policy_id);
  PGresult *r = run(h, ST_CHECK_RESULTS, &p, 0, "reading results");
  if (!r) {
    if (n) *n = 0;
    return TN_EDB;
  }
  size_t cnt = (size_t)PQntuples(r);
  const char **v = malloc((cnt ? cnt : 1) * sizeof *v);
  if (!v) {
    PQclear(r);
    return TN_ENOMEM;
  }
  for (size_t i = 0; i < cnt; i++)
    v[i] = PQgetvalue(r, (int)i, 0);
  scan_results_hash_strings(v, cnt, out);
  free(v);
  PQclear(r);
  if (n) *n = cnt;
  return TN_OK;
}

static int pg_checks_each(void *h, const char *agent_id, const char *policy_id, mstore_check_fn fn,
                          void *arg) {
  params p = {0};
  p_text(&p, agent_id);
  p_text(&p, policy_id);
  PGresult *r = run(h, ST_CHECKS_EACH, &p, 0, "reading checks");
  if (!r) return TN_EDB;
  int stop = 0;
  for (int i = 0; i < PQntuples(r) && !stop; i++) {
    mstore_check c = {
        .check_id = gi(r, i, 0),
        .result = PQgetvalue(r, i, 1),
        .reason = PQgetvalue(r, i, 2),
        .scan_id = gi(r, i, 3),
        .event = PQgetvalue(r, i, 4),
        .updated = gi(r, i, 5),
        .title = PQgetvalue(r, i, 6),
    };
    stop = fn(arg, &c);
  }
  PQclear(r);
  return stop;
}

const mstore_backend mstore_backend_pg = {
    .name = "postgresql",
    .shared = 1,
    .open = pg_open,
    .close = pg_close,
    .probe = pg_probe,
    .error = pg_error,
    .set_node = pg_set_node,
    .session = pg_session,
    .begin = pg_begin,
    .commit = pg_commit,
    .rollback = pg_rollback,
    .in_transaction = pg_in_transaction,
    .agent_claim = pg_agent_claim,
    .agent_release = pg_agent_release,
    .agent_touch = pg_agent_touch,
    .agent_get = pg_agent_get,
    .agent_set_last_seq = pg_agent_set_last_seq,
    .agent_add_counters = pg_agent_add_counters,
    .agent_connected = pg_agent_connected,
    .agent_disconnected = pg_agent_disconnected,
    .connections_reset = pg_connections_reset,
    .agents_each = pg_agents_each,
    .agent_store_id = pg_agent_store_id,
    .agent_new_store = pg_agent_new_store,
    .alert_add = pg_alert_add,
    .alerts_each = pg_alerts_each,
    .alerts_delete = pg_alerts_delete,
    .alerts_delete_ids = pg_alerts_delete_ids,
    .alerts_stats = pg_alerts_stats,
    .alerts_claim = pg_alerts_claim,
    .alerts_claimed_each = pg_alerts_claimed_each,
    .drain_put = pg_drain_put,
    .drain_get = pg_drain_get,
    .alerts_finish = pg_alerts_finish,
    .alerts_takeover = pg_alerts_takeover,
    .policy_get = pg_policy_get,
    .policy_put = pg_policy_put,
    .policy_delete = pg_policy_delete,
    .policies_retain = pg_policies_retain,
    .policies_each = pg_policies_each,
    .check_get = pg_check_get,
    .check_put = pg_check_put,
    .checks_delete = pg_checks_delete,
    .checks_delete_other_scans = pg_checks_delete_other_scans,
    .results_hash = pg_results_hash,
    .checks_each = pg_checks_each,
};
