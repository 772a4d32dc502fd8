/* test_builtin_sysctl.c — sysctl KEY... and sysctl -n KEY... (vm/builtin_sysctl.c) against the
 * real procps sysctl: every key under /proc/sys one by one, groups of keys, absent keys mixed
 * with present ones, both spellings of the program, and the forms the builtin must decline. */
#include <ftw.h>

#include "builtin_diff.h"

/* Counters the kernel changes between any two reads (every process started moves them): their
 * values cannot be compared across two runs, only the shape of the answer. */
static const char *const volatile_keys[] = {"fs.dentry-state",
                                            "fs.file-nr",
                                            "fs.inode-nr",
                                            "fs.inode-state",
                                            "fs.aio-nr",
                                            "kernel.random.uuid",
                                            "kernel.random.entropy_avail",
                                            "kernel.ns_last_pid",
                                            "kernel.pty.nr",
                                            "fs.quota.syncs",
                                            NULL};

static int is_volatile(const char *k) {
  for (const char *const *v = volatile_keys; *v; v++)
    if (!strcmp(*v, k)) return 1;
  return !strncmp(k, "fs.quota.", 9) || !strncmp(k, "net.netfilter.nf_conntrack_count", 32);
}

static char **keys;
static size_t nkeys, capkeys;

static int collect(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
  (void)st;
  (void)ftw;
  if (flag != FTW_F) return 0;
  const char *k = path + strlen("/proc/sys/");
  char *key = strdup(k);
  for (char *p = key; *p; p++)
    if (*p == '/')
      *p = '.';
    else if (*p == '.') { /* a dot in a component (a VLAN interface): not expressible with dots */
      free(key);
      return 0;
    }
  if (nkeys == capkeys) {
    capkeys = capkeys ? capkeys * 2 : 512;
    keys = realloc(keys, capkeys * sizeof *keys);
  }
  if (is_volatile(key)) {
    free(key);
    return 0;
  }
  keys[nkeys++] = key;
  return 0;
}

static void test_every_key(void) {
  nftw("/proc/sys", collect, 32, FTW_PHYS);
  REQUIRE(nkeys > 100);
  diff_ = (diff_stats){0};
  for (size_t i = 0; i < nkeys; i++)
    DIFF("sysctl", keys[i]);
  diff_report("sysctl KEY, every key");
  CHECK_INT(diff_.mismatched, 0);
  CHECK(diff_.answered > (int)(nkeys * 9 / 10)); /* declines: unreadable keys only */
}

static void test_groups_and_n(void) {
  diff_ = (diff_stats){0};
  for (size_t i = 0; i + 4 < nkeys; i += 5) {
    DIFF("sysctl", "-n", keys[i], keys[i + 1], keys[i + 2], keys[i + 3], keys[i + 4]);
    DIFF("/sbin/sysctl", keys[i], "kernel.tenet_no_such_key", keys[i + 1]);
  }
  DIFF("sysctl", "net.ipv4.ip_forward", "net.ipv6.conf.all.stable_secret", "kernel.osrelease");
  DIFF("sysctl", "vm.compact_memory");
  DIFF("sysctl", "-n", "fs.nosuch.key");
  DIFF("/usr/sbin/sysctl", "net.ipv4.tcp_rmem");
  diff_report("sysctl groups, -n, absent keys");
  CHECK_INT(diff_.mismatched, 0);
  CHECK(diff_.answered > (int)(nkeys / 5));
}

/* Volatile counters: answered, one "key = value" line each. */
static void test_volatile_shape(void) {
  for (const char *const *v = volatile_keys; *v; v++) {
    char path[256];
    snprintf(path, sizeof path, "/proc/sys/%s", *v);
    for (char *p = path + 10; *p; p++)
      if (*p == '.') *p = '/';
    if (access(path, R_OK) != 0) continue;
    builtin_result b;
    REQUIRE(builtin_run((char *const *)(const char *const[]){"sysctl", *v, NULL}, 2, &b) == TN_OK);
    CHECK(!strncmp(b.output, *v, strlen(*v)) && !strncmp(b.output + strlen(*v), " = ", 3));
    CHECK(b.output_len && b.output[b.output_len - 1] == '\n' && b.exit_code == 0);
    builtin_result_free(&b);
  }
}

static void test_declines(void) {
  const char *const cases[][4] = {
      {"sysctl", "-a", NULL},        {"sysctl", "net.ipv4", NULL},    {"sysctl", "net/ipv4/ip_forward", NULL},
      {"sysctl", "", NULL},          {"sysctl", "-w", "a.b=1", NULL}, {"sysctl", NULL},
      {"sysctl", "-e", "x.y", NULL}, {"sysctl", "a.b=1", NULL},
  };
  builtin_result b;
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    size_t argc = 0;
    while (cases[i][argc])
      argc++;
    CHECK_INT(builtin_run((char *const *)cases[i], argc, &b), TN_ENOTFOUND);
  }
}

int main(void) {
  builtin_set_enabled(1);
  RUN(test_every_key);
  RUN(test_groups_and_n);
  RUN(test_volatile_shape);
  RUN(test_declines);
  for (size_t i = 0; i < nkeys; i++)
    free(keys[i]);
  free(keys);
  return test_report();
}
