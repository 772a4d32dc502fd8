/* builtin_systemctl.c — systemctl (systemd 252) on a host where systemd is not the running init
 * (/run/systemd/system absent: containers, chroots, build machines), the only case answered
 * (tests/unit/test_builtin_systemctl.c proves it against the real program).
 *
 * There systemctl cannot reach a manager, so every verb that needs one prints, on stderr,
 *   System has not been booted with systemd as init system (PID 1). Can't operate.
 *   Failed to connect to bus: Host is down
 * and exits 1: is-active and is-failed (with at least one unit), status, show, list-units.
 * is-enabled works offline from the unit files and stops at the first unit it cannot find; it is
 * answered only when the first unit named is absent from every unit directory (and has no SysV
 * script): "Failed to get unit file state for UNIT: No such file or directory" on stderr (UNIT with
 * ".service" appended when the name has no unit-type suffix), exit 1.
 * Declines: options, systemd booted, not root, SYSTEMD_* / SYSTEMCTL_* / DBUS_* variables in the
 * environment, unit names with characters systemd would escape, templates ('@'), paths, and any
 * unit that exists. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "builtin_int.h"
#include "err.h"

extern char **environ;

#define NOT_BOOTED                                                                                           \
  "System has not been booted with systemd as init system (PID 1). Can't operate.\n"                         \
  "Failed to connect to bus: Host is down\n"

/* The system unit search path of systemd 252 (lookup_paths_init), plus /lib for split-usr builds. */
static const char *const unit_dirs[] = {"/etc/systemd/system.control", "/run/systemd/system.control",
                                        "/run/systemd/transient",      "/run/systemd/generator.early",
                                        "/etc/systemd/system",         "/etc/systemd/system.attached",
                                        "/run/systemd/system",         "/run/systemd/system.attached",
                                        "/run/systemd/generator",      "/usr/local/lib/systemd/system",
                                        "/usr/lib/systemd/system",     "/lib/systemd/system",
                                        "/run/systemd/generator.late", NULL};

static const char *const unit_types[] = {".service", ".socket", ".target", ".device", ".mount", ".automount",
                                         ".swap",    ".timer",  ".path",   ".slice",  ".scope", NULL};

static int gate(void) {
  struct stat st;
  if (geteuid() != 0) return 0;
  if (lstat("/run/systemd/system", &st) == 0 || errno != ENOENT) return 0;
  for (char **e = environ; e && *e; e++)
    if (!strncmp(*e, "SYSTEMD_", 8) || !strncmp(*e, "SYSTEMCTL_", 10) || !strncmp(*e, "DBUS_", 5)) return 0;
  return 1;
}

/* Characters systemd keeps in a unit name without escaping it. */
static int name_ok(const char *s) {
  if (!*s || strlen(s) > 200) return 0;
  for (; *s; s++)
    if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') || *s == ':' ||
          *s == '_' || *s == '.' || *s == '-'))
      return 0;
  return 1;
}

static int has_type(const char *s) {
  size_t n = strlen(s);
  for (const char *const *t = unit_types; *t; t++) {
    size_t tl = strlen(*t);
    if (n > tl && !strcmp(s + n - tl, *t)) return 1;
  }
  return 0;
}

/* 1 when unit (full name) is absent everywhere, 0 when something of it exists or cannot be told. */
static int absent(const char *unit) {
  char p[512];
  struct stat st;
  for (const char *const *d = unit_dirs; *d; d++) {
    snprintf(p, sizeof p, "%s/%s", *d, unit);
    if (lstat(p, &st) == 0 || errno != ENOENT) return 0;
    snprintf(p, sizeof p, "%s/%s.d", *d, unit);
    if (lstat(p, &st) == 0 || errno != ENOENT) return 0;
  }
  return 1;
}

/* systemctl stops at the first unit whose state it cannot get: answered when that is the first
 * unit (the names after it must still be plain, as they are all parsed first). */
static int is_enabled(char *const *units, size_t n, bout *o) {
  char unit[256], sysv[300];
  struct stat st;
  for (size_t i = 0; i < n; i++)
    if (!name_ok(units[i]) || !strcmp(units[i], ".") || !strcmp(units[i], "..")) return TN_ENOTFOUND;
  snprintf(unit, sizeof unit, "%s%s", units[0], has_type(units[0]) ? "" : ".service");
  if (!absent(unit)) return TN_ENOTFOUND;
  size_t len = strlen(unit), sl = sizeof ".service" - 1;
  if (len > sl && !strcmp(unit + len - sl, ".service")) {
    snprintf(sysv, sizeof sysv, "/etc/init.d/%.*s", (int)(len - sl), unit);
    if (lstat(sysv, &st) == 0 || errno != ENOENT) return TN_ENOTFOUND; /* systemd-sysv-install */
  }
  bout_errf(o, "Failed to get unit file state for %s: No such file or directory\n", unit);
  o->exit_code = 1;
  return TN_OK;
}

int builtin_systemctl_run(char *const *argv, size_t argc, bout *o) {
  if (argc < 2) return TN_ENOTFOUND;
  for (size_t i = 1; i < argc; i++)
    if (argv[i][0] == '-') return TN_ENOTFOUND;
  if (!gate()) return TN_ENOTFOUND;
  const char *verb = argv[1];
  if (!strcmp(verb, "is-enabled")) return argc > 2 ? is_enabled(argv + 2, argc - 2, o) : TN_ENOTFOUND;
  int needs_unit = !strcmp(verb, "is-active") || !strcmp(verb, "is-failed");
  int bus_verb =
      needs_unit || !strcmp(verb, "status") || !strcmp(verb, "show") || !strcmp(verb, "list-units");
  if (!bus_verb || (needs_unit && argc < 3)) return TN_ENOTFOUND;
  bout_errs(o, NOT_BOOTED);
  o->exit_code = 1;
  return TN_OK;
}
