/* bench_pgcluster.h — a throwaway PostgreSQL cluster for the benchmarks (bench_manager): initdb +
 * pg_ctl in a temp directory, listening only on a unix socket in that directory, superuser `tenet`,
 * trust authentication; run as `nobody` when the bench runs as root (the server refuses root).
 * Also: running psql/sqlite3 and other programs with their output captured, and the CPU time of
 * processes read from /proc (a process's own, or a server's with its children), which is how the
 * benchmarks split the machine's CPU between the bench, the managers and the database server.
 * Include after bench_fleet.h (fleet_die). */
#ifndef TENET_BENCH_PGCLUSTER_H
#define TENET_BENCH_PGCLUSTER_H

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench_fleet.h"

typedef struct pgcluster {
  char bin[PATH_MAX]; /* initdb, pg_ctl, postgres, psql */
  char dir[PATH_MAX]; /* socket directory; the data directory is dir/data */
  int port;           /* names the socket (.s.PGSQL.port); no TCP */
  pid_t postmaster;   /* 0 when not running */
  uid_t uid;          /* the server's user (nobody when started as root) */
  gid_t gid;
} pgcluster;

/* Run argv (as uid/gid when drop is non-zero) with stdout+stderr captured into out (NUL-terminated,
 * truncated at cap); returns the exit status (-1: did not run). */
static int proc_run(char *const argv[], int drop, uid_t uid, gid_t gid, char *out, size_t cap) {
  int p[2];
  if (pipe(p) != 0) return -1;
  pid_t pid = fork();
  if (pid < 0) return -1;
  if (pid == 0) {
    dup2(p[1], 1);
    dup2(p[1], 2);
    close(p[0]);
    close(p[1]);
    int nul = open("/dev/null", O_RDONLY);
    if (nul >= 0) dup2(nul, 0);
    if (drop && (setgroups(0, NULL) != 0 || setgid(gid) != 0 || setuid(uid) != 0)) _exit(126);
    execv(argv[0], argv);
    execvp(argv[0], argv);
    _exit(127);
  }
  close(p[1]);
  size_t n = 0;
  char buf[4096];
  ssize_t r;
  while ((r = read(p[0], buf, sizeof buf)) > 0 || (r < 0 && errno == EINTR)) {
    if (r <= 0) continue;
    size_t k = (size_t)r;
    if (out && n + 1 < cap) {
      size_t room = cap - 1 - n;
      memcpy(out + n, buf, k < room ? k : room);
      n += k < room ? k : room;
    }
  }
  if (out && cap) out[n] = '\0';
  close(p[0]);
  int st;
  while (waitpid(pid, &st, 0) < 0)
    if (errno != EINTR) return -1;
  return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* The directory of the PostgreSQL server programs: $TENET_PG_BIN, else the newest
 * /usr/lib/postgresql/N/bin holding initdb. 0 when found. */
static int pgcluster_find_bin(char *out, size_t cap) {
  const char *env = getenv("TENET_PG_BIN");
  if (env && *env) {
    snprintf(out, cap, "%s", env);
    char p[PATH_MAX + 16];
    snprintf(p, sizeof p, "%s/initdb", out);
    return access(p, X_OK) == 0 ? 0 : -1;
  }
  glob_t g;
  if (glob("/usr/lib/postgresql/*/bin/initdb", 0, NULL, &g) != 0) return -1;
  int best = -1, bestv = -1;
  for (size_t i = 0; i < g.gl_pathc; i++) {
    int v = atoi(g.gl_pathv[i] + strlen("/usr/lib/postgresql/"));
    if (v > bestv && access(g.gl_pathv[i], X_OK) == 0) best = (int)i, bestv = v;
  }
  if (best >= 0) {
    snprintf(out, cap, "%s", g.gl_pathv[best]);
    *strrchr(out, '/') = '\0';
  }
  globfree(&g);
  return best >= 0 ? 0 : -1;
}

/* Start a cluster in a new temp directory; settings are extra `-c name=value` server options.
 * Dies with a clear message on any failure. */
static void pgcluster_start(pgcluster *c, const char *bin, const char *const *settings, int nsettings) {
  memset(c, 0, sizeof *c);
  snprintf(c->bin, sizeof c->bin, "%s", bin);
  const char *tmp = getenv("TMPDIR");
  snprintf(c->dir, sizeof c->dir, "%s/tenet-bench-pg-XXXXXX", tmp && *tmp ? tmp : "/tmp");
  if (!mkdtemp(c->dir)) fleet_die("mkdtemp: %s", strerror(errno));
  c->uid = getuid();
  c->gid = getgid();
  int drop = geteuid() == 0;
  if (drop) {
    struct passwd *pw = getpwnam("nobody");
    if (!pw) fleet_die("no user `nobody` to run PostgreSQL as (it refuses to run as root)");
    c->uid = pw->pw_uid;
    c->gid = pw->pw_gid;
    if (chown(c->dir, c->uid, c->gid) != 0) fleet_die("chown %s: %s", c->dir, strerror(errno));
  }
  c->port = 5432;
  char data[PATH_MAX + 8], exe[PATH_MAX + 16], log[PATH_MAX + 16], opts[4096], out[8192];
  snprintf(data, sizeof data, "%s/data", c->dir);
  snprintf(log, sizeof log, "%s/server.log", c->dir);
  snprintf(exe, sizeof exe, "%s/initdb", c->bin);
  char *initdb[] = {exe,  "-D",   data,         "-U",        "tenet", "--auth=trust",
                    "-E", "UTF8", "--locale=C", "--no-sync", NULL};
  if (proc_run(initdb, drop, c->uid, c->gid, out, sizeof out) != 0) fleet_die("initdb failed:\n%s", out);
  int n = snprintf(opts, sizeof opts, "-k %s -c listen_addresses= -p %d", c->dir, c->port);
  for (int i = 0; i < nsettings && n < (int)sizeof opts; i++)
    n += snprintf(opts + n, sizeof opts - (size_t)n, " -c %s", settings[i]);
  snprintf(exe, sizeof exe, "%s/pg_ctl", c->bin);
  char *start[] = {exe, "-D", data, "-l", log, "-w", "-t", "60", "-o", opts, "start", NULL};
  if (proc_run(start, drop, c->uid, c->gid, out, sizeof out) != 0) {
    size_t len;
    char *l = bench_read_file(log, &len);
    fleet_die("pg_ctl start failed:\n%s\n%s", out, l ? l : "");
  }
  char pidf[PATH_MAX + 32];
  snprintf(pidf, sizeof pidf, "%s/postmaster.pid", data);
  size_t len;
  char *p = bench_read_file(pidf, &len);
  if (!p || atoi(p) <= 0) fleet_die("no postmaster.pid in %s", data);
  c->postmaster = (pid_t)atoi(p);
  free(p);
}

/* A libpq URI of database db in the cluster, for manager.conf's `store =`. */
static void pgcluster_uri(const pgcluster *c, const char *db, char *out, size_t cap) {
  snprintf(out, cap, "postgresql:///%s?host=%s&port=%d&user=tenet", db, c->dir, c->port);
}

/* Run one SQL statement with psql in database db; the unaligned, tuples-only output goes to out.
 * Dies when psql fails. */
static void pgcluster_sql(const pgcluster *c, const char *db, const char *sql, char *out, size_t cap) {
  char exe[PATH_MAX + 16], port[16], buf[8192];
  snprintf(exe, sizeof exe, "%s/psql", c->bin);
  snprintf(port, sizeof port, "%d", c->port);
  char *argv[] = {exe,
                  "-X",
                  "-q",
                  "-A",
                  "-t",
                  "-F",
                  " ",
                  "-v",
                  "ON_ERROR_STOP=1",
                  "-h",
                  (char *)c->dir,
                  "-p",
                  port,
                  "-U",
                  "tenet",
                  "-d",
                  (char *)db,
                  "-c",
                  (char *)sql,
                  NULL};
  char *o = out ? out : buf;
  size_t oc = out ? cap : sizeof buf;
  if (proc_run(argv, 0, 0, 0, o, oc) != 0) fleet_die("psql (%s): %s\n%s", db, sql, o);
}

/* Stop the cluster (fast shutdown) and remove its directory unless keep. */
static void pgcluster_stop(pgcluster *c, int keep) {
  if (!c->postmaster) return;
  char data[PATH_MAX + 8], exe[PATH_MAX + 16], out[4096];
  snprintf(data, sizeof data, "%s/data", c->dir);
  snprintf(exe, sizeof exe, "%s/pg_ctl", c->bin);
  char *stop[] = {exe, "-D", data, "-m", "fast", "-w", "stop", NULL};
  if (proc_run(stop, geteuid() == 0, c->uid, c->gid, out, sizeof out) != 0)
    fprintf(stderr, "%s: pg_ctl stop: %s\n", fleet_prog, out);
  c->postmaster = 0;
  if (!keep) nftw(c->dir, fleet_rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* ---- CPU time from /proc ---- */

/* utime+stime (and cutime+cstime when with_children: children it has waited for) of pid in
 * seconds, and its parent into *ppid (may be NULL); -1 when the process is gone. */
static double proc_cpu(pid_t pid, int with_children, pid_t *ppid) {
  char path[64], buf[1024];
  snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
  int fd = open(path, O_RDONLY);
  if (fd < 0) return -1;
  ssize_t n = read(fd, buf, sizeof buf - 1);
  close(fd);
  if (n <= 0) return -1;
  buf[n] = '\0';
  char *p = strrchr(buf, ')'); /* the name may hold spaces and parentheses */
  if (!p) return -1;
  /* after ')': state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime cutime
   * cstime */
  char state;
  int pp;
  unsigned long long f[13];
  if (sscanf(p + 1, " %c %d %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu", &state, &pp,
             &f[0], &f[1], &f[2], &f[3], &f[4], &f[5], &f[6], &f[7], &f[8], &f[9], &f[10], &f[11],
             &f[12]) != 15)
    return -1;
  if (ppid) *ppid = pp;
  double ticks = (double)f[9] + (double)f[10] + (with_children ? (double)f[11] + (double)f[12] : 0);
  return ticks / (double)sysconf(_SC_CLK_TCK);
}

/* Whether the process title of pid names a database starting with prefix other than db (a backend
 * or autovacuum worker serving another benchmark database). */
static int proc_serves_other_db(pid_t pid, const char *prefix, const char *db) {
  char path[64], buf[512];
  snprintf(path, sizeof path, "/proc/%d/cmdline", (int)pid);
  int fd = open(path, O_RDONLY);
  if (fd < 0) return 0;
  ssize_t n = read(fd, buf, sizeof buf - 1);
  close(fd);
  if (n <= 0) return 0;
  for (ssize_t i = 0; i < n; i++)
    if (buf[i] == '\0') buf[i] = ' ';
  buf[n] = '\0';
  size_t pl = strlen(prefix);
  for (char *save = NULL, *t = strtok_r(buf, " ", &save); t; t = strtok_r(NULL, " ", &save))
    if (strncmp(t, prefix, pl) == 0 && strcmp(t, db) != 0) return 1;
  return 0;
}

/* CPU seconds the server has used for database db: the postmaster with every child it reaped,
 * plus its live children (backends, WAL writer, checkpointer, background writer, autovacuum),
 * leaving out live processes that serve another database whose name starts with prefix. Also the
 * number of live backends of db into *backends (may be NULL). */
static double pgcluster_cpu(const pgcluster *c, const char *prefix, const char *db, int *backends) {
  double total = proc_cpu(c->postmaster, 1, NULL);
  if (total < 0) fleet_die("the PostgreSQL server (pid %d) is gone", (int)c->postmaster);
  int nb = 0;
  DIR *d = opendir("/proc");
  if (!d) fleet_die("/proc: %s", strerror(errno));
  struct dirent *e;
  while ((e = readdir(d))) {
    if (e->d_name[0] < '1' || e->d_name[0] > '9') continue;
    pid_t pid = (pid_t)atoi(e->d_name), pp = 0;
    double cpu = proc_cpu(pid, 0, &pp);
    if (cpu < 0 || pp != c->postmaster) continue;
    if (proc_serves_other_db(pid, prefix, db)) continue;
    if (proc_serves_other_db(pid, prefix, "")) nb++; /* names db itself */
    total += cpu;
  }
  closedir(d);
  if (backends) *backends = nb;
  return total;
}

/* Open descriptors of pid (-1 when unreadable). */
static int proc_fds(pid_t pid) {
  char path[64];
  snprintf(path, sizeof path, "/proc/%d/fd", (int)pid);
  DIR *d = opendir(path);
  if (!d) return -1;
  int n = 0;
  struct dirent *e;
  while ((e = readdir(d)))
    if (e->d_name[0] != '.') n++;
  closedir(d);
  return n;
}

#endif
