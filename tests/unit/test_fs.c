/* test_fs.c — the file-system layer with a root (vm/fs.c): every path resolves inside the root,
 * symlinks included (absolute targets, ".." climbing past the root, loops), fs_realpath answers
 * as the host inside the root would, and both resolvers (openat2 and the component walk) give the
 * same answers. With no root, the calls are libc's. A real file tree in a temp dir. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>
#include <unistd.h>

#include "err.h"
#include "fs.h"
#include "test.h"

static char dir[] = "/tmp/tenet-fs-XXXXXX";
static char root[PATH_MAX];

static void put(const char *rel, const char *text) {
  char p[PATH_MAX];
  snprintf(p, sizeof p, "%s/%s", dir, rel);
  FILE *f = fopen(p, "w");
  fputs(text, f);
  fclose(f);
}

static void lnk(const char *target, const char *rel) {
  char p[PATH_MAX];
  snprintf(p, sizeof p, "%s/%s", dir, rel);
  if (symlink(target, p) != 0) perror(p);
}

static void sub(const char *rel) {
  char p[PATH_MAX];
  snprintf(p, sizeof p, "%s/%s", dir, rel);
  mkdir(p, 0755);
}

static void setup(void) {
  if (!mkdtemp(dir)) abort();
  sub("root");
  sub("root/etc");
  sub("root/etc/ssh");
  put("root/etc/hosts", "127.0.0.1 fixture\n");
  put("root/etc/ssh/sshd_config", "PermitRootLogin no\n");
  put("outside_secret", "host secret\n");
  lnk("/etc/hosts", "root/etc/abs");                       /* absolute: the fixture's /etc/hosts */
  lnk("../../../../../../etc/hosts", "root/etc/up");        /* climbs past the root: stays inside */
  lnk("/etc/passwd", "root/etc/escape_abs");                /* exists on the host, not in the root */
  lnk("../../../../../../etc/passwd", "root/etc/escape_up");
  lnk("../../outside_secret", "root/etc/peek");             /* the file beside the root */
  char abs_out[PATH_MAX + 32];
  snprintf(abs_out, sizeof abs_out, "%s/outside_secret", dir);
  lnk(abs_out, "root/etc/peek_abs");                        /* its absolute host path */
  lnk("loop_b", "root/loop_a");
  lnk("loop_a", "root/loop_b");
  lnk("/etc", "root/etclink");
  lnk("etc/ssh/../hosts", "root/rel");
  snprintf(root, sizeof root, "%s/root", dir);
}

/* The in-root realpath of path, or "E<errno>" on failure. */
static const char *rp(const char *path) {
  static char buf[PATH_MAX + 16];
  char *r = fs_realpath(path, NULL);
  if (!r) {
    snprintf(buf, sizeof buf, "E%d", errno);
    return buf;
  }
  snprintf(buf, sizeof buf, "%s", r);
  free(r);
  return buf;
}

static char *slurp(const char *path) {
  static char buf[256];
  FILE *f = fs_fopen(path, "re");
  if (!f) return NULL;
  size_t n = fread(buf, 1, sizeof buf - 1, f);
  buf[n] = '\0';
  fclose(f);
  return buf;
}

static void cases(void) {
  CHECK_STR(rp("/"), "/");
  CHECK_STR(rp("/etc/hosts"), "/etc/hosts");
  CHECK_STR(rp("/../../etc/./hosts"), "/etc/hosts");
  CHECK_STR(rp("etc/hosts"), "/etc/hosts");
  CHECK_STR(rp("/etc/abs"), "/etc/hosts");
  CHECK_STR(rp("/etc/up"), "/etc/hosts");
  CHECK_STR(rp("/etclink/ssh/sshd_config"), "/etc/ssh/sshd_config");
  CHECK_STR(rp("/rel"), "/etc/hosts");
  CHECK_STR(rp("/etc/escape_abs"), "E2");
  CHECK_STR(rp("/etc/escape_up"), "E2");
  CHECK_STR(rp("/etc/peek"), "E2");
  CHECK_STR(rp("/etc/peek_abs"), "E2");
  CHECK_STR(rp("/loop_a"), "E40");
  CHECK_STR(rp("/etc/hosts/x"), "E20");
  CHECK_STR(rp("/etc/missing"), "E2");
  CHECK_STR(rp("/nodir/x"), "E2");
  char fixed[PATH_MAX];
  CHECK(fs_realpath("/etc/abs", fixed) == fixed);
  CHECK_STR(fixed, "/etc/hosts");

  CHECK_STR(slurp("/etc/abs"), "127.0.0.1 fixture\n");
  CHECK_STR(slurp("/etc/up"), "127.0.0.1 fixture\n");
  CHECK(slurp("/etc/escape_abs") == NULL && errno == ENOENT);
  CHECK(slurp("/etc/peek") == NULL && errno == ENOENT);
  CHECK(slurp("/loop_a") == NULL && errno == ELOOP);
  CHECK(fs_fopen("/etc/hosts", "w") == NULL && errno == EINVAL);

  struct stat st;
  CHECK(fs_lstat("/etc/abs", &st) == 0 && S_ISLNK(st.st_mode));
  CHECK(fs_stat("/etc/abs", &st) == 0 && S_ISREG(st.st_mode) && st.st_size == 18);
  CHECK(fs_stat("/etclink", &st) == 0 && S_ISDIR(st.st_mode));
  CHECK(fs_lstat("/etclink", &st) == 0 && S_ISLNK(st.st_mode));
  CHECK(fs_lstat("/etc/escape_abs", &st) == 0 && S_ISLNK(st.st_mode)); /* the link itself is there */
  CHECK(fs_stat("/etc/escape_abs", &st) != 0 && errno == ENOENT);
  CHECK(fs_stat("/loop_a", &st) != 0 && errno == ELOOP);
  CHECK(fs_stat("/etc/hosts/", &st) != 0 && errno == ENOTDIR);
  struct statfs sf;
  CHECK(fs_statfs("/etc", &sf) == 0);
  CHECK(fs_statfs("/etc/peek", &sf) != 0 && errno == ENOENT);

  int fd = fs_open("/etclink/hosts", O_RDONLY | O_CLOEXEC);
  CHECK(fd >= 0);
  if (fd >= 0) close(fd);
  CHECK(fs_open("/etc/escape_up", O_RDONLY) < 0 && errno == ENOENT);

  DIR *d = fs_opendir("/etclink");
  REQUIRE(d);
  int seen = 0;
  struct dirent *e;
  while ((e = readdir(d)))
    seen += strcmp(e->d_name, "hosts") == 0 || strcmp(e->d_name, "ssh") == 0;
  closedir(d);
  CHECK_INT(seen, 2);
  CHECK(fs_opendir("/etc/hosts") == NULL && errno == ENOTDIR);
  CHECK(fs_opendir("/etc/escape_abs") == NULL && errno == ENOENT);
}

static void test_walk(void) {
  char err[256];
  REQUIRE(fs_root_set(root, FS_RESOLVE_WALK, err, sizeof err) == TN_OK);
  CHECK_INT(fs_root_strategy(), FS_RESOLVE_WALK);
  CHECK_STR(fs_root_get(), root);
  cases();
  fs_root_set(NULL, 0, NULL, 0);
}

static void test_openat2(void) {
  char err[256];
  if (fs_root_set(root, FS_RESOLVE_OPENAT2, err, sizeof err) != TN_OK) {
    printf("openat2 not available here (%s): only the walk is tested\n", err);
    return;
  }
  CHECK_INT(fs_root_strategy(), FS_RESOLVE_OPENAT2);
  cases();
  fs_root_set(NULL, 0, NULL, 0);
}

static void test_root_slash_is_the_host(void) {
  char err[256];
  REQUIRE(fs_root_set("/", FS_RESOLVE_AUTO, err, sizeof err) == TN_OK);
  char *a = fs_realpath("/etc/hosts", NULL), *b = realpath("/etc/hosts", NULL);
  CHECK_STR(a, b);
  free(a);
  free(b);
  fs_root_set(NULL, 0, NULL, 0);
}

static void test_no_root_is_libc(void) {
  CHECK(fs_root_get() == NULL);
  CHECK_INT(fs_root_strategy(), FS_RESOLVE_AUTO);
  char path[PATH_MAX + 32];
  snprintf(path, sizeof path, "%s/root/etc/abs", dir);
  char *a = fs_realpath(path, NULL);
  CHECK_STR(a, "/etc/hosts"); /* the host's /etc/hosts: no root, plain realpath */
  free(a);
  struct stat st;
  snprintf(path, sizeof path, "%s/outside_secret", dir);
  CHECK(fs_stat(path, &st) == 0);
}

static void test_bad_root(void) {
  char err[256];
  CHECK_INT(fs_root_set("/nonexistent/tenet-root", FS_RESOLVE_AUTO, err, sizeof err), TN_EIO);
  CHECK(strstr(err, "/nonexistent/tenet-root") != NULL);
  CHECK(fs_root_get() == NULL);
  char file[PATH_MAX + 32];
  snprintf(file, sizeof file, "%s/outside_secret", dir);
  CHECK_INT(fs_root_set(file, FS_RESOLVE_AUTO, err, sizeof err), TN_EIO);
  CHECK(strstr(err, "Not a directory") != NULL);
}

int main(void) {
  setup();
  RUN(test_walk);
  RUN(test_openat2);
  RUN(test_root_slash_is_the_host);
  RUN(test_no_root_is_libc);
  RUN(test_bad_root);
  test_rm_rf(dir);
  return test_report();
}
