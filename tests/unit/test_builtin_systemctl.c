/* test_builtin_systemctl.c — systemctl (vm/builtin_systemctl.c) against the real systemctl on
 * this host: the verbs that need a running manager, is-enabled of absent units (every unit name
 * the corpus queries, alone and several at once, with and without a type suffix), units that exist
 * (the builtin must decline), and options. When systemd runs here
 * (or the test is not root), the builtin declines everything and the test checks just that. */
#include <dirent.h>
#include <sys/stat.h>

#include "builtin_diff.h"

/* The builtin answers only as root on a host where systemd is not running. */
static int declines_here(void) {
  struct stat st;
  return lstat("/run/systemd/system", &st) == 0 || geteuid() != 0;
}

static const char *const corpus_units[] = {"autofs.service",
                                           "avahi-daemon.socket",
                                           "avahi-daemon.service",
                                           "isc-dhcp-server.service",
                                           "isc-dhcp-server6.service",
                                           "named.service",
                                           "dnsmasq.service",
                                           "vsftpd.service",
                                           "slapd.service",
                                           "dovecot.socket",
                                           "dovecot.service",
                                           "nfs-server.service",
                                           "ypserv.service",
                                           "cups.socket",
                                           "cups.service",
                                           "rpcbind.socket",
                                           "rpcbind.service",
                                           "rsync.service",
                                           "smbd.service",
                                           "snmpd.service",
                                           "tftpd-hpa.service",
                                           "squid.service",
                                           "apache2.socket",
                                           "apache2.service",
                                           "nginx.service",
                                           "xinetd.service",
                                           "chrony.service",
                                           "bluetooth.service",
                                           "ufw.service",
                                           "ufw",
                                           "nftables",
                                           "nftables.service",
                                           "systemd-journal-upload.service",
                                           "systemd-journal-remote.socket",
                                           "rsyslog",
                                           "rsyslog.service",
                                           "auditd",
                                           "dailyaidecheck.service",
                                           "dailyaidecheck.timer",
                                           "autofs",
                                           "aidecheck.service",
                                           "aidecheck.timer",
                                           "dhcpd.service",
                                           "nfs.service",
                                           "httpd.service",
                                           "dovecot-imapd.socket",
                                           "dovecot-pop3d.socket",
                                           "rsyncd",
                                           "crond.service",
                                           "tmp.mount",
                                           "foo.bar",
                                           "systemd-timesyncd.service",
                                           "systemd-journald.service",
                                           "dbus-org.freedesktop.timesync1.service",
                                           "procps",
                                           "dbus",
                                           NULL};

static void test_bus_verbs(void) {
  diff_ = (diff_stats){0};
  for (const char *const *u = corpus_units; *u; u++) {
    DIFF("systemctl", "is-active", *u);
    DIFF("systemctl", "status", *u);
  }
  DIFF("systemctl", "is-active", "a", "b", "c");
  DIFF("systemctl", "is-failed", "auditd");
  DIFF("systemctl", "show", "avahi-daemon.socket", "avahi-daemon.service");
  DIFF("systemctl", "status");
  DIFF("systemctl", "show");
  DIFF("systemctl", "list-units");
  DIFF("/usr/bin/systemctl", "is-active", "Foo Bar");
  diff_report("systemctl verbs needing the manager");
  CHECK_INT(diff_.mismatched, 0);
  if (!declines_here())
    CHECK_INT(diff_.declined, 0);
  else
    CHECK_INT(diff_.answered, 0);
}

static void test_is_enabled(void) {
  diff_ = (diff_stats){0};
  int answered_min = 0;
  for (const char *const *u = corpus_units; *u; u++) {
    DIFF("systemctl", "is-enabled", *u);
  }
  DIFF("systemctl", "is-enabled", "nosuch", "tenet-absent.socket", "x.bar");
  DIFF("systemctl", "is-enabled", "dovecot.service", "dovecot-imapd.socket", "dovecot-pop3d.socket");
  DIFF("systemctl", "is-enabled", "systemd-timesyncd.service", "nosuch"); /* exists: declined */
  /* every unit file of the host: each exists, so each is declined, never answered wrongly */
  DIR *d = opendir("/usr/lib/systemd/system");
  struct dirent *e;
  int n = 0;
  while (d && (e = readdir(d)))
    if (e->d_name[0] != '.' && n++ % 4 == 0) DIFF("systemctl", "is-enabled", e->d_name);
  if (d) closedir(d);
  answered_min = 40;
  diff_report("systemctl is-enabled");
  CHECK_INT(diff_.mismatched, 0);
  if (!declines_here())
    CHECK(diff_.answered >= answered_min);
  else
    CHECK_INT(diff_.answered, 0);
}

static void test_declines(void) {
  const char *const cases[][4] = {
      {"systemctl", "is-active", NULL},
      {"systemctl", "is-enabled", NULL},
      {"systemctl", "--user", "is-active", NULL},
      {"systemctl", "is-active", "--quiet", "x"},
      {"systemctl", "list-unit-files", NULL},
      {"systemctl", "is-enabled", "foo@x.service", NULL},
      {"systemctl", "is-enabled", "/etc/x", NULL},
      {"systemctl", "is-enabled", "Foo Bar", NULL},
      {"systemctl", "start", "x", NULL},
      {"systemctl", NULL},
  };
  builtin_result b;
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    size_t argc = 0;
    while (argc < 4 && cases[i][argc])
      argc++;
    CHECK_INT(builtin_run((char *const *)cases[i], argc, &b), TN_ENOTFOUND);
  }
  setenv("SYSTEMCTL_SKIP_SYSV", "1", 1);
  CHECK_INT(
      builtin_run((char *const *)(const char *const[]){"systemctl", "is-enabled", "nosuch", NULL}, 3, &b),
      TN_ENOTFOUND);
  unsetenv("SYSTEMCTL_SKIP_SYSV");
}

int main(void) {
  builtin_set_enabled(1);
  RUN(test_bus_verbs);
  RUN(test_is_enabled);
  RUN(test_declines);
  return test_report();
}
