/* pg_test.h — tests that need PostgreSQL: a fresh database in the throwaway cluster that the CTest
 * fixture `pg` started (scripts/pg-cluster.sh; tests/pg/pg.cmake gives such tests
 * TENET_PG_STATE=<its state file>).
 *
 *   char uri[512];
 *   int rc = pg_test_database("store", uri, sizeof uri);
 *   if (rc == 77) return 77;   // skipped: the reason is printed (CTest shows it)
 *
 * pg_test_database creates the database tenet_<tag>_<pid> (dropped first if a crashed run left
 * it) and writes its libpq URI into uri. Returns 0, 77 (skip: no server, or not run through the
 * fixture) or 1 (the cluster is there but refused: a failure, printed). */
#ifndef TENET_TESTS_PG_TEST_H
#define TENET_TESTS_PG_TEST_H

#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The cluster's URI (the postgres database) into uri; 0, 77 (printed why) or 1. */
static inline int pg_test_cluster(char *uri, size_t cap) {
  const char *path = getenv("TENET_PG_STATE");
  if (!path || !*path) {
    printf("skipped: TENET_PG_STATE is not set (run through ctest: the fixture 'pg' starts PostgreSQL)\n");
    return 77;
  }
  FILE *f = fopen(path, "r");
  if (!f) {
    printf("skipped: %s cannot be read (the fixture pg/cluster_start did not run)\n", path);
    return 77;
  }
  char line[1024] = "";
  if (!fgets(line, sizeof line, f)) line[0] = '\0';
  fclose(f);
  line[strcspn(line, "\n")] = '\0';
  if (strncmp(line, "skip=", 5) == 0) {
    printf("skipped: %s\n", line + 5);
    return 77;
  }
  if (strncmp(line, "uri=", 4) != 0 || strlen(line + 4) >= cap) {
    printf("error: %s holds '%s', neither uri= nor skip=\n", path, line);
    return 1;
  }
  snprintf(uri, cap, "%s", line + 4);
  return 0;
}

/* uri (postgresql:///DB?params) with the database name replaced by db, into out. */
static inline int pg_test_uri_for(const char *uri, const char *db, char *out, size_t cap) {
  const char *q = strchr(uri, '?');
  if (strncmp(uri, "postgresql:///", 14) != 0 || !q) return -1;
  int n = snprintf(out, cap, "postgresql:///%s%s", db, q);
  return n < 0 || (size_t)n >= cap ? -1 : 0;
}

static inline void pg_test_quiet_(void *arg, const char *msg) {
  (void)arg;
  (void)msg;
}

static inline int pg_test_database(const char *tag, char *uri, size_t cap) {
  char base[1024];
  int rc = pg_test_cluster(base, sizeof base);
  if (rc) return rc;
  char db[128], sql[300];
  snprintf(db, sizeof db, "tenet_%s_%ld", tag, (long)getpid());
  PGconn *c = PQconnectdb(base);
  if (PQstatus(c) != CONNECTION_OK) {
    printf("error: cannot connect to the test cluster (%s): %s", base, PQerrorMessage(c));
    PQfinish(c);
    return 1;
  }
  PQsetNoticeProcessor(c, pg_test_quiet_, NULL);
  snprintf(sql, sizeof sql, "DROP DATABASE IF EXISTS \"%s\" WITH (FORCE)", db);
  PGresult *r = PQexec(c, sql);
  PQclear(r);
  /* as docs/DAEMONS.md says: bytes as agents send them (SQLite's behaviour) */
  snprintf(sql, sizeof sql,
           "CREATE DATABASE \"%s\" ENCODING 'SQL_ASCII' LC_COLLATE 'C' LC_CTYPE 'C' TEMPLATE template0", db);
  r = PQexec(c, sql);
  int ok = PQresultStatus(r) == PGRES_COMMAND_OK;
  if (!ok) printf("error: %s: %s", sql, PQresultErrorMessage(r));
  PQclear(r);
  PQfinish(c);
  if (!ok) return 1;
  if (pg_test_uri_for(base, db, uri, cap) != 0) {
    printf("error: cannot make a URI for database %s from %s\n", db, base);
    return 1;
  }
  return 0;
}

#endif
