/* test_cache.c — the per-scan cache (vm/cache.c): each file read once, each command run once even
 * when several threads ask for it at the same moment (observed through a file the command appends
 * to), the process list built once, and the pass-through mode. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cache_int.h"
#include "err.h"
#include "test.h"

static char tmpdir[] = "/tmp/tenet_cache_XXXXXX";

static void path_in(char *out, size_t n, const char *name) { snprintf(out, n, "%s/%s", tmpdir, name); }

static void write_file(const char *path, const char *s, size_t n) {
  FILE *f = fopen(path, "wb");
  fwrite(s, 1, n, f);
  fclose(f);
}

static int count_lines(const char *path) {
  FILE *f = fopen(path, "r");
  if (!f) return 0;
  int n = 0, ch;
  while ((ch = fgetc(f)) != EOF)
    n += ch == '\n';
  fclose(f);
  return n;
}

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void test_files(void) {
  char a[256], missing[256], dir[256], fifo[256], big[256];
  path_in(a, sizeof a, "a.conf");
  path_in(missing, sizeof missing, "missing");
  path_in(dir, sizeof dir, "adir");
  path_in(fifo, sizeof fifo, "afifo");
  path_in(big, sizeof big, "big");
  write_file(a, "x=1\0y\n", 6);
  mkdir(dir, 0755);
  mkfifo(fifo, 0644);

  scan_cache *c = scan_cache_new(1);
  REQUIRE(c);
  const cache_file *f1 = scan_cache_get_file(c, a);
  const cache_file *f2 = scan_cache_get_file(c, a);
  REQUIRE(f1 && f2);
  CHECK(f1 == f2);
  CHECK_INT(f1->err, 0);
  CHECK_INT(f1->len, 6);
  CHECK(memcmp(f1->data, "x=1\0y\n", 6) == 0);
  CHECK_INT(scan_cache_files_read(c), 1);
  scan_cache_release_file(c, f1);
  scan_cache_release_file(c, f2);

  const cache_file *m = scan_cache_get_file(c, missing);
  CHECK_INT(m->err, ENOENT);
  CHECK(m->data == NULL);
  /* A directory opens but reads nothing, as fopen + fgets see it. */
  const cache_file *d = scan_cache_get_file(c, dir);
  CHECK_INT(d->err, 0);
  CHECK_INT(d->len, 0);
  /* A FIFO without a writer must not hang. */
  const cache_file *p = scan_cache_get_file(c, fifo);
  CHECK_INT(p->err, 0);
  CHECK_INT(p->len, 0);
  CHECK_INT(scan_cache_files_read(c), 4);

  /* Past CACHE_FILE_MAX the content is not held. */
  FILE *bf = fopen(big, "wb");
  REQUIRE(bf);
  REQUIRE(fseek(bf, (long)CACHE_FILE_MAX, SEEK_SET) == 0);
  fputs("tail\n", bf);
  fclose(bf);
  const cache_file *b = scan_cache_get_file(c, big);
  CHECK_INT(b->too_big, 1);
  CHECK(b->data == NULL);
  CHECK_INT(b->err, 0);
  scan_cache_free(c);

  /* Pass-through: every request reads again, entries are the caller's to release. */
  c = scan_cache_new(0);
  f1 = scan_cache_get_file(c, a);
  f2 = scan_cache_get_file(c, a);
  CHECK(f1 != f2);
  CHECK_INT(f2->len, 6);
  CHECK_INT(scan_cache_files_read(c), 2);
  scan_cache_release_file(c, f1);
  scan_cache_release_file(c, f2);
  scan_cache_free(c);
}

typedef struct asker {
  scan_cache *c;
  const char *cmd;
  int ok;
  const cache_command *got;
} asker;

static void *ask(void *arg) {
  asker *a = arg;
  const cache_command *r = scan_cache_get_command(a->c, a->cmd, 30, 0);
  a->got = r;
  a->ok = r && r->status == TN_OK && strcmp(r->result.output, "started\ndone\n") == 0;
  return NULL;
}

/* Four workers ask for the same slow command at once: it runs once, all four get its output. */
static void test_command_once(void) {
  char side[256], cmd[512];
  path_in(side, sizeof side, "side-effect");
  unlink(side);
  snprintf(cmd, sizeof cmd, "sh -c \"echo run >> %s; echo started; sleep 1; echo done\"", side);
  scan_cache *c = scan_cache_new(1);
  asker a[4];
  pthread_t t[4];
  double t0 = now_s();
  for (int i = 0; i < 4; i++) {
    a[i] = (asker){c, cmd, 0, NULL};
    pthread_create(&t[i], NULL, ask, &a[i]);
  }
  for (int i = 0; i < 4; i++)
    pthread_join(t[i], NULL);
  double dt = now_s() - t0;
  for (int i = 0; i < 4; i++) {
    CHECK(a[i].ok);
    CHECK(a[i].got == a[0].got);
    scan_cache_release_command(c, a[i].got);
  }
  CHECK_INT(count_lines(side), 1);
  CHECK_INT(scan_cache_commands_run(c), 1);
  CHECK(dt < 1.9); /* the waiters did not run it again after the first */

  /* Later requests are served from the cache. */
  const cache_command *r = scan_cache_get_command(c, cmd, 30, 0);
  CHECK(r == a[0].got);
  CHECK_INT(count_lines(side), 1);
  scan_cache_free(c);

  /* Pass-through: each request runs it. */
  unlink(side);
  c = scan_cache_new(0);
  for (int i = 0; i < 2; i++) {
    a[i] = (asker){c, cmd, 0, NULL};
    pthread_create(&t[i], NULL, ask, &a[i]);
  }
  for (int i = 0; i < 2; i++) {
    pthread_join(t[i], NULL);
    CHECK(a[i].ok);
  }
  CHECK(a[0].got != a[1].got);
  for (int i = 0; i < 2; i++)
    scan_cache_release_command(c, a[i].got);
  CHECK_INT(count_lines(side), 2);
  CHECK_INT(scan_cache_commands_run(c), 2);
  scan_cache_free(c);
}

static void test_command_outcomes(void) {
  scan_cache *c = scan_cache_new(1);
  const cache_command *r = scan_cache_get_command(c, "/no/such/binary", 10, 0);
  CHECK_INT(r->status, TN_OK);
  CHECK_INT(r->result.exit_code, 127);
  r = scan_cache_get_command(c, "sleep 10", 1, 0);
  CHECK_INT(r->status, TN_OK);
  CHECK_INT(r->result.timed_out, 1);
  r = scan_cache_get_command(c, "yes", 10, 100);
  CHECK_INT(r->result.output_len, 100);
  CHECK_INT(r->result.truncated, 1);
  CHECK_INT(scan_cache_commands_run(c), 3);
  scan_cache_free(c);
}

typedef struct stress {
  scan_cache *c;
  unsigned seed;
  int bad;
} stress;

static void *stress_worker(void *arg) {
  stress *s = arg;
  for (int i = 0; i < 60; i++) {
    int k = (int)(rand_r(&s->seed) % 25);
    char cmd[64], want[64];
    snprintf(cmd, sizeof cmd, "echo key%d", k);
    snprintf(want, sizeof want, "key%d\n", k);
    const cache_command *r = scan_cache_get_command(s->c, cmd, 10, 0);
    if (!r || r->status != TN_OK || strcmp(r->result.output, want) != 0) s->bad++;
    scan_cache_release_command(s->c, r);
  }
  return NULL;
}

/* Many workers, a few hundred requests over 25 distinct commands: each runs exactly once. */
static void test_stress(void) {
  scan_cache *c = scan_cache_new(1);
  stress s[6];
  pthread_t t[6];
  for (int i = 0; i < 6; i++) {
    s[i] = (stress){c, (unsigned)i * 7919u + 1, 0};
    pthread_create(&t[i], NULL, stress_worker, &s[i]);
  }
  for (int i = 0; i < 6; i++) {
    pthread_join(t[i], NULL);
    CHECK_INT(s[i].bad, 0);
  }
  CHECK(scan_cache_commands_run(c) <= 25);
  /* And the table keeps working past its first size. */
  char path[256];
  for (int i = 0; i < 300; i++) {
    char name[32];
    snprintf(name, sizeof name, "many-%d", i);
    path_in(path, sizeof path, name);
    write_file(path, name, strlen(name));
  }
  for (int round = 0; round < 2; round++) {
    for (int i = 0; i < 300; i++) {
      char name[32];
      snprintf(name, sizeof name, "many-%d", i);
      path_in(path, sizeof path, name);
      const cache_file *f = scan_cache_get_file(c, path);
      CHECK(f && f->len == strlen(name) && memcmp(f->data, name, f->len) == 0);
    }
  }
  CHECK_INT(scan_cache_files_read(c), 300);
  scan_cache_free(c);
}

static void test_processes(void) {
  scan_cache *c = scan_cache_new(1);
  int st1 = -1, st2 = -1;
  const proclist *p1 = scan_cache_get_processes(c, &st1);
  const proclist *p2 = scan_cache_get_processes(c, &st2);
  CHECK_INT(st1, TN_OK);
  CHECK_INT(st2, TN_OK);
  CHECK(p1 && p1 == p2);
  CHECK(p1->n > 0);
  scan_cache_release_processes(c, p1);
  scan_cache_release_processes(c, p2);
  scan_cache_free(c);

  c = scan_cache_new(0);
  p1 = scan_cache_get_processes(c, &st1);
  p2 = scan_cache_get_processes(c, &st2);
  CHECK(p1 && p2 && p1 != p2);
  scan_cache_release_processes(c, p1);
  scan_cache_release_processes(c, p2);
  scan_cache_free(c);
  scan_cache_free(NULL);
}

/* Directory listings: realpath/opendir outcomes and every entry with its lstat result, in readdir
 * order; listed once per scan when caching, afresh when passing through. */
static void test_dirs(void) {
  char d[512], f[600], l[600], sub[600], missing[600];
  path_in(d, sizeof d, "listing");
  REQUIRE(mkdir(d, 0755) == 0);
  snprintf(f, sizeof f, "%s/file.conf", d);
  write_file(f, "x\n", 2);
  snprintf(sub, sizeof sub, "%s/sub", d);
  REQUIRE(mkdir(sub, 0755) == 0);
  snprintf(l, sizeof l, "%s/dangling", d);
  REQUIRE(symlink("/nonexistent/target", l) == 0);
  snprintf(missing, sizeof missing, "%s/missing", d);

  scan_cache *c = scan_cache_new(1);
  const cache_dir *a = scan_cache_get_dir(c, d);
  REQUIRE(a != NULL);
  CHECK_INT(a->real_err, 0);
  CHECK_INT(a->open_err, 0);
  CHECK_INT(a->oom, 0);
  CHECK_INT(a->n, 3);
  int seen = 0;
  for (size_t i = 0; i < a->n; i++) {
    CHECK_INT(a->ents[i].lstat_err, 0);
    const char *n = a->ents[i].name;
    unsigned mode = a->ents[i].mode;
    if (!strcmp(n, "file.conf") && S_ISREG(mode)) seen |= 1;
    if (!strcmp(n, "sub") && S_ISDIR(mode)) seen |= 2;
    if (!strcmp(n, "dangling") && S_ISLNK(mode)) seen |= 4;
  }
  CHECK_INT(seen, 7);
  CHECK(scan_cache_get_dir(c, d) == a); /* listed once */
  const cache_dir *m = scan_cache_get_dir(c, missing);
  REQUIRE(m != NULL);
  CHECK_INT(m->real_err, ENOENT);
  const cache_dir *nd = scan_cache_get_dir(c, f); /* a regular file: opendir fails */
  REQUIRE(nd != NULL);
  CHECK_INT(nd->real_err, 0);
  CHECK_INT(nd->open_err, ENOTDIR);
  scan_cache_free(c);

  c = scan_cache_new(0);
  const cache_dir *x = scan_cache_get_dir(c, d), *y = scan_cache_get_dir(c, d);
  REQUIRE(x && y);
  CHECK(x != y); /* pass-through: listed each time */
  CHECK_INT(x->n, 3);
  scan_cache_release_dir(c, x);
  scan_cache_release_dir(c, y);
  scan_cache_free(c);
}

int main(void) {
  if (!mkdtemp(tmpdir)) return 2;
  RUN(test_files);
  RUN(test_dirs);
  RUN(test_command_once);
  RUN(test_command_outcomes);
  RUN(test_stress);
  RUN(test_processes);
  char cmd[512];
  snprintf(cmd, sizeof cmd, "rm -rf %s", tmpdir);
  if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", tmpdir);
  return test_report();
}
