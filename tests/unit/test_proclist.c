/* test_proclist.c — the process list (vm/proclist.c) against real child processes: renamed with
 * prctl, executed under distinctive file names, exited but unreaped, vanished; names compared
 * with what `ps -p PID` prints (parsed the way Wazuh parses it) when ps is installed. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "err.h"
#include "proclist.h"
#include "test.h"

static char tmpdir[] = "/tmp/tenet_proclist_XXXXXX";

static void test_display_name(void) {
  char out[64];
  struct {
    const char *in;
    size_t n;
    const char *want;
  } cases[] = {
      {"sshd", 4, "sshd"},
      {"a b", 3, "a b"},
      {"a\tb", 3, "a?b"}, /* control bytes */
      {"\x01x\x1f", 3, "?x?"},
      {"a\x7f", 2, "a?"},                /* DEL */
      {"caf\xc3\xa9", 5, "caf\xc3\xa9"}, /* valid UTF-8 is kept */
      {"\xe9x", 2, "?x"},                /* invalid UTF-8 */
      {"\xc2\x85z", 3, "?z"},            /* C1 control U+0085: one character, one '?' */
      {"\xc0\xaf", 2, "??"},             /* overlong: two bad bytes */
      {"\xed\xa0\x80", 3, "???"},        /* surrogate */
      {"x\xe2\x82", 3, "x??"},           /* cut short at the end */
      {"x\xe2\x82y", 4, "x??y"},
      {"\xef\xbf\xbf", 3, "?"},    /* U+FFFF is not printable */
      {"\xc2\xa0", 2, "\xc2\xa0"}, /* U+00A0 is */
      {"\xe2\x82\xac", 3, "\xe2\x82\xac"},
      {"\xf0\x9f\x98\x80", 4, "\xf0\x9f\x98\x80"},
      {"  lead", 6, "lead"}, /* Wazuh skips leading spaces */
      {"trail  ", 7, "trail  "},
      {"a)b(c", 5, "a)b(c"},
      {"", 0, ""},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    size_t n = proclist_display_name(cases[i].in, cases[i].n, out);
    CHECK_STR(out, cases[i].want);
    CHECK_INT(n, strlen(cases[i].want));
  }
}

/* A child that renames itself (prctl) and waits; returns its pid once the name is set. */
static pid_t spawn_named(const char *name) {
  int p[2];
  if (pipe(p) != 0) return -1;
  pid_t pid = fork();
  if (pid == 0) {
    prctl(PR_SET_NAME, name, 0, 0, 0);
    close(p[0]);
    if (write(p[1], "k", 1) != 1) _exit(1);
    for (;;)
      pause();
  }
  close(p[1]);
  char b;
  if (read(p[0], &b, 1) != 1) pid = -1;
  close(p[0]);
  return pid;
}

static void stop(pid_t pid) {
  kill(pid, SIGKILL);
  waitpid(pid, NULL, 0);
}

static const char *name_of(const proclist *pl, pid_t pid) {
  for (size_t i = 0; i < pl->n; i++)
    if (pl->pid[i] == pid) return pl->name[i];
  return NULL;
}

/* What Wazuh gets from `ps -p PID`: the text after the first space that follows the first ':'
 * of the first line holding a ':', leading spaces skipped, up to the newline. NULL: no line. */
static char *ps_name(pid_t pid) {
  const char *ps = access("/bin/ps", X_OK) == 0       ? "/bin/ps"
                   : access("/usr/bin/ps", X_OK) == 0 ? "/usr/bin/ps"
                                                      : NULL;
  if (!ps) return NULL;
  char cmd[128], buf[2048];
  snprintf(cmd, sizeof cmd, "LC_ALL=C.UTF-8 %s -p %d 2>/dev/null", ps, (int)pid);
  FILE *f = popen(cmd, "r");
  if (!f) return NULL;
  char *res = NULL;
  while (!res && fgets(buf, sizeof buf, f)) {
    char *c = strchr(buf, ':');
    if (!c) continue;
    char *sp = strchr(c, ' ');
    if (!sp) continue;
    sp++;
    while (*sp == ' ')
      sp++;
    char *nl = strchr(sp, '\n');
    if (nl) *nl = '\0';
    res = strdup(sp);
  }
  pclose(f);
  return res;
}

static int have_ps(void) { return access("/bin/ps", X_OK) == 0 || access("/usr/bin/ps", X_OK) == 0; }

static void test_renamed_children(void) {
  /* The first ones are checked against fixed expectations, all of them against ps. */
  const char *names[] = {"tenet-ren-a",
                         "tenet sp ace",
                         "tn(par)en)",
                         "tn\tctl\x01",
                         "tn-caf\xc3\xa9",
                         "tn-bad\xe9",
                         "tn\xc2\x85"
                         "c1",
                         "  tn-lead",
                         "tn-trail  ",
                         "tn-0123456789abcdef"};
  const char *want[] = {"tenet-ren-a", "tenet sp ace", "tn(par)en)", "tn?ctl?",    "tn-caf\xc3\xa9",
                        "tn-bad?",     "tn?c1",        "tn-lead",    "tn-trail  ", "tn-0123456789ab"};
  const char *more[] = {"tn\xee\x80\x80", "tn\xe2\x82",     "tn\xc2\x9f\xc2\xa0", "tn\xf0\x9f\x98\x80!",
                        "tn\xe0\x80\x80", "tn\xef\xbf\xbf", "tn\xed\x9f\xbf",     "\x7f\x80\xff"};
  enum { N = sizeof names / sizeof names[0], M = sizeof more / sizeof more[0] };
  pid_t pids[N], mpids[M];
  for (int i = 0; i < N; i++)
    REQUIRE((pids[i] = spawn_named(names[i])) > 0);
  for (int i = 0; i < M; i++)
    REQUIRE((mpids[i] = spawn_named(more[i])) > 0);
  proclist *pl;
  REQUIRE(proclist_read(&pl) == TN_OK);
  CHECK(pl->n >= N + 1);
  for (int i = 0; i < N; i++) {
    const char *got = name_of(pl, pids[i]);
    CHECK_STR(got, want[i]);
    if (have_ps()) {
      char *ps = ps_name(pids[i]);
      CHECK_STR(got, ps); /* the same subject as the 4.x agent's ps parse */
      free(ps);
    }
  }
  for (int i = 0; i < M && have_ps(); i++) {
    char *ps = ps_name(mpids[i]);
    CHECK_STR(name_of(pl, mpids[i]), ps);
    free(ps);
  }
  /* Ascending PID order, ourselves included. */
  for (size_t i = 1; i < pl->n; i++)
    CHECK(pl->pid[i - 1] < pl->pid[i]);
  CHECK(name_of(pl, getpid()) != NULL);
  proclist_free(pl);
  for (int i = 0; i < N; i++)
    stop(pids[i]);
  for (int i = 0; i < M; i++)
    stop(mpids[i]);
}

/* A program run under a distinctive file name: comm is the file name, cut to 15 bytes. */
static void test_exec_name(void) {
  char path[256];
  snprintf(path, sizeof path, "%s/tenet-sleeper-binary", tmpdir);
  char cmd[512];
  snprintf(cmd, sizeof cmd, "cp /bin/sleep '%s'", path);
  REQUIRE(system(cmd) == 0);
  pid_t pid = fork();
  if (pid == 0) {
    execl(path, path, "30", (char *)NULL);
    _exit(127);
  }
  REQUIRE(pid > 0);
  /* Wait until the exec has happened. */
  const char *got = NULL;
  proclist *pl = NULL;
  for (int i = 0; i < 200; i++) {
    proclist_free(pl);
    REQUIRE(proclist_read(&pl) == TN_OK);
    got = name_of(pl, pid);
    if (got && strcmp(got, "tenet-sleeper-b") == 0) break;
    usleep(10000);
  }
  CHECK_STR(got, "tenet-sleeper-b");
  if (have_ps()) {
    char *ps = ps_name(pid);
    CHECK_STR(got, ps);
    free(ps);
  }
  proclist_free(pl);
  stop(pid);

  /* Once reaped, it is gone from the list. */
  REQUIRE(proclist_read(&pl) == TN_OK);
  CHECK(name_of(pl, pid) == NULL);
  proclist_free(pl);
}

/* An exited child that is not reaped yet (a zombie) is still listed, as ps lists it. */
static void test_zombie(void) {
  pid_t pid = spawn_named("tenet-zombie");
  REQUIRE(pid > 0);
  kill(pid, SIGKILL);
  siginfo_t si;
  REQUIRE(waitid(P_PID, (id_t)pid, &si, WEXITED | WNOWAIT) == 0);
  proclist *pl;
  REQUIRE(proclist_read(&pl) == TN_OK);
  CHECK_STR(name_of(pl, pid), "tenet-zombie");
  if (have_ps()) {
    char *ps = ps_name(pid);
    CHECK_STR(name_of(pl, pid), ps);
    free(ps);
  }
  proclist_free(pl);
  waitpid(pid, NULL, 0);
}

/* Processes appearing and vanishing while the list is read: every read succeeds and lists only
 * complete names. */
static void test_churn(void) {
  pid_t churner = fork();
  if (churner == 0) {
    for (;;) {
      pid_t c = fork();
      if (c == 0) {
        prctl(PR_SET_NAME, "tenet-churn", 0, 0, 0);
        _exit(0);
      }
      if (c > 0) waitpid(c, NULL, 0);
    }
  }
  REQUIRE(churner > 0);
  int ok = 1;
  for (int i = 0; i < 100 && ok; i++) {
    proclist *pl;
    if (proclist_read(&pl) != TN_OK)
      ok = 0;
    else {
      for (size_t k = 0; k < pl->n; k++)
        if (!pl->name[k] || pl->pid[k] <= 0) ok = 0;
      proclist_free(pl);
    }
  }
  CHECK(ok);
  stop(churner);
}

int main(void) {
  if (!mkdtemp(tmpdir)) return 2;
  RUN(test_display_name);
  RUN(test_renamed_children);
  RUN(test_exec_name);
  RUN(test_zombie);
  RUN(test_churn);
  char cmd[512];
  snprintf(cmd, sizeof cmd, "rm -rf %s", tmpdir);
  if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", tmpdir);
  return test_report();
}
