/* test_builtin_stat.c — stat (vm/builtin_stat.c) against the real coreutils stat: files of every
 * type (regular, empty, directory, symlinks, fifo, socket, character and block devices), owners
 * and groups with and without names, special mode bits, names with spaces and unusual bytes,
 * system paths, missing paths; the default report, -L, and every format directive reproduced. */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/un.h>

#include "builtin_diff.h"

static char dir[] = "/tmp/tenet_bstat_XXXXXX";
static char paths[64][512];
static size_t npaths;

static const char *add(const char *name) {
  snprintf(paths[npaths], sizeof paths[npaths], "%s/%s", dir, name);
  return paths[npaths++];
}

static void make_file(const char *name, const char *content, mode_t mode, uid_t u, gid_t g) {
  const char *p = add(name);
  FILE *f = fopen(p, "w");
  if (f) {
    fputs(content, f);
    fclose(f);
  }
  chown(p, u, g);
  chmod(p, mode);
}

static void build_tree(void) {
  REQUIRE(mkdtemp(dir) != NULL);
  make_file("regular", "hello\n", 0644, 0, 0);
  make_file("empty", "", 0600, 1, 1);
  make_file("suid", "x", 04755, 0, 0);
  make_file("sgid-noexec", "x", 02640, 65534, 65534);
  make_file("nameless-owner", "x", 0640, 12345, 54321);
  make_file("all-bits", "x", 07777, 2, 3);
  make_file("no-bits", "x", 0, 0, 0);
  make_file("with space", "x", 0644, 0, 0);
  make_file("semi;colon(paren)$dollar", "x", 0644, 0, 0);
  make_file("it's", "x", 0644, 0, 0);        /* the builtin declines: quoting */
  make_file("new\nline", "x", 0644, 0, 0);   /* the builtin declines: escaping */
  make_file("caf\xc3\xa9", "x", 0644, 0, 0); /* the builtin declines: non-ASCII */
  const char *d = add("subdir");
  mkdir(d, 01777);
  chmod(d, 01777);
  const char *d2 = add("sticky-noexec");
  mkdir(d2, 01776);
  chmod(d2, 01776);
  symlink("regular", add("link"));
  symlink("subdir", add("link-dir"));
  symlink("nowhere", add("dangling"));
  symlink("link", add("link-link"));
  mkfifo(add("fifo"), 0620);
  const char *s = add("sock");
  int fd = socket(AF_UNIX, SOCK_STREAM, 0);
  struct sockaddr_un sa = {.sun_family = AF_UNIX};
  snprintf(sa.sun_path, sizeof sa.sun_path, "%s", s);
  bind(fd, (struct sockaddr *)&sa, sizeof sa);
  close(fd);
  mknod(add("chardev"), S_IFCHR | 0666, makedev(1, 3));
  mknod(add("blockdev"), S_IFBLK | 0660, makedev(7, 200));
  add("missing");
  /* system paths the corpus stats (not /tmp or /dev/shm: every process on the machine changes
   * their times, faster than two runs can agree) */
  const char *sys[] = {"/etc/passwd",
                       "/etc/shadow",
                       "/etc/cron.d",
                       "/boot",
                       "/dev/null",
                       "/usr/share",
                       "/proc/1",
                       "/usr/bin/which",
                       "/sbin/auditctl",
                       "/etc/issue.net",
                       "/usr",
                       "/",
                       "/proc/sys/kernel/osrelease"};
  for (size_t i = 0; i < sizeof sys / sizeof sys[0]; i++)
    snprintf(paths[npaths++], sizeof paths[0], "%s", sys[i]);
}

static const char *const formats[] = {
    "%a",
    "%#a %u %U %g %G",
    "%n %a %U %G",
    "%u-%g-%a",
    "%n %u %U %g %G",
    "%U %G",
    "%G",
    "%a %U %G",
    "%A %F %h %i %s %b %B %o",
    "%d %D %f %t %T %Hd %Ld %Hr %Lr",
    "%x|%y|%z|%w",
    "%X %Y %Z %W",
    "%-10s|%10n|%05a|%-6o|%8U|%-8G|%10.3A|%#x",
    "100%% %n",
    "%04a/%10.10A (%5u/%8U)",
};

static void test_every_file_every_format(void) {
  diff_ = (diff_stats){0};
  int expect_declined = 0;
  for (size_t i = 0; i < npaths; i++) {
    const char *p = paths[i];
    int odd = strchr(p, '\'') || strchr(p, '\n') || strstr(p, "caf\xc3");
    expect_declined += odd ? 4 + 2 * (int)(sizeof formats / sizeof formats[0]) : 0;
    DIFF("stat", p);
    DIFF("stat", "-L", p);
    DIFF("/usr/bin/stat", "--dereference", p);
    DIFF("stat", p, "-L");
    for (size_t f = 0; f < sizeof formats / sizeof formats[0]; f++) {
      DIFF("stat", "-c", formats[f], p);
      DIFF("stat", "-Lc", formats[f], p);
    }
  }
  diff_report("stat: every file, every format");
  CHECK_INT(diff_.mismatched, 0);
  CHECK_INT(diff_.declined, expect_declined);
}

static void test_forms(void) {
  diff_ = (diff_stats){0};
  const char *a = paths[0], *b = paths[1], *missing = NULL;
  for (size_t i = 0; i < npaths; i++)
    if (strstr(paths[i], "/missing")) missing = paths[i];
  REQUIRE(missing != NULL);
  DIFF("stat", "-c%u-%g-%a", a);
  DIFF("stat", "-L", "-c%u-%g-%a", a, b);
  DIFF("stat", "--format=%n %a", a, b, "/etc/passwd");
  DIFF("stat", a, "-c", "%n");
  DIFF("stat", "-c", "%n %a", missing, a, "/nonexistent/x", b);
  DIFF("stat", missing);
  DIFF("stat", a, missing);
  DIFF("/usr/bin/stat", "-Lc", "%a", missing);
  DIFF("stat", "-c", "%n", "/etc/passwd/x");
  diff_report("stat: option forms, several files, missing files");
  CHECK_INT(diff_.mismatched, 0);
  CHECK_INT(diff_.declined, 0);
}

static void test_declines(void) {
  const char *const cases[][5] = {
      {"stat", "-f", "/", NULL},
      {"stat", "-t", "/", NULL},
      {"stat", "-c", "%N", "/", NULL},
      {"stat", "-c", "%m", "/", NULL},
      {"stat", "-c", "%C", "/", NULL},
      {"stat", "--printf=%n", "/", NULL},
      {"stat", "--", "/", NULL},
      {"stat", "-", NULL},
      {"stat", NULL},
      {"stat", "-c", "%x.3", "/", NULL},
      {"stat", "-c", "%.3X", "/", NULL},
      {"stat", "-c", "%j", "/", NULL},
  };
  builtin_result r;
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    size_t argc = 0;
    while (cases[i][argc])
      argc++;
    int rc = builtin_run((char *const *)cases[i], argc, &r);
    if (rc == TN_OK) builtin_result_free(&r);
    if (i == 9)
      CHECK_INT(rc, TN_OK); /* "%x.3": a time then ".3", answered */
    else
      CHECK_INT(rc, TN_ENOTFOUND);
  }
  setenv("QUOTING_STYLE", "c", 1);
  CHECK_INT(builtin_run((char *const *)(const char *const[]){"stat", "/", NULL}, 2, &r), TN_ENOTFOUND);
  unsetenv("QUOTING_STYLE");
  setenv("LANG", "fr_FR.UTF-8", 1);
  CHECK_INT(builtin_run((char *const *)(const char *const[]){"stat", "/", NULL}, 2, &r), TN_ENOTFOUND);
  unsetenv("LANG");
}

/* A time zone other than UTC changes the report's times: both sides follow TZ. */
static void test_time_zone(void) {
  diff_ = (diff_stats){0};
  setenv("TZ", "America/New_York", 1);
  DIFF("stat", "/etc/passwd");
  DIFF("stat", "-c", "%y %z", paths[0]);
  setenv("TZ", "Asia/Kolkata", 1);
  DIFF("stat", "-c", "%x %w", paths[0]);
  unsetenv("TZ");
  CHECK_INT(diff_.mismatched, 0);
  CHECK_INT(diff_.answered, 3);
}

int main(void) {
  builtin_set_enabled(1);
  build_tree();
  RUN(test_every_file_every_format);
  RUN(test_forms);
  RUN(test_declines);
  RUN(test_time_zone);
  test_rm_rf(dir);
  return test_report();
}
