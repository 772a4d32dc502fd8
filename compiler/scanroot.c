/* scanroot.c — the command and process providers of `tenet scan --root DIR` (see scanroot.h). */
#include "scanroot.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "err.h"
#include "fs.h"
#include "runner.h"
#include "strbuf.h"

#define CHROOT_BIN "/usr/sbin/chroot"
/* The PATH a command is looked up on inside DIR (the one chroot's child inherits is the caller's;
 * these are the places Debian-like and RHEL-like roots keep binaries). */
static const char *const root_path[] = {"/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin"};

static char *root_dir; /* the root's resolved host path, owned */

static int decline(char **reason, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  if (vasprintf(reason, fmt, ap) < 0) *reason = NULL;
  va_end(ap);
  return TN_EEXEC;
}

static int executable_in_root(const char *path) {
  struct stat st;
  return fs_stat(path, &st) == 0 && S_ISREG(st.st_mode) && (st.st_mode & 0111);
}

/* 1 when argv0 names an executable file inside the root (found on root_path without a slash). */
static int find_in_root(const char *argv0) {
  if (strchr(argv0, '/')) return executable_in_root(argv0);
  char path[4096];
  for (size_t i = 0; i < sizeof root_path / sizeof *root_path; i++) {
    snprintf(path, sizeof path, "%s/%s", root_path[i], argv0);
    if (executable_in_root(path)) return 1;
  }
  return 0;
}

static int root_command(void *arg, const char *cmd, int timeout_s, size_t output_cap, runner_result *out,
                        char **reason) {
  (void)arg;
  if (geteuid() != 0)
    return decline(reason, "Command '%s' not run: --root runs commands chrooted into %s, which needs root privileges",
                   cmd, root_dir);
  if (access(CHROOT_BIN, X_OK) != 0)
    return decline(reason, "Command '%s' not run: %s is missing on this host", cmd, CHROOT_BIN);
  char **argv;
  size_t argc;
  if (runner_tokenize(cmd, &argv, &argc) != TN_OK) return decline(reason, "out of memory");
  int found = argc == 0 || find_in_root(argv[0]);
  if (!found) {
    int rc = decline(reason, "Command '%s' not run: '%s' is not in %s (commands of a --root scan run chrooted into it)",
                     cmd, argv[0], root_dir);
    runner_argv_free(argv);
    return rc;
  }
  runner_argv_free(argv);
  /* chroot DIR COMMAND...: DIR escaped for the runner's tokenizer, the command as written */
  strbuf b = STRBUF_INIT;
  strbuf_puts(&b, CHROOT_BIN " -- ");
  for (const char *p = root_dir; *p; p++) {
    if (*p == ' ' || *p == '"' || *p == '\\') strbuf_putc(&b, '\\');
    strbuf_putc(&b, *p);
  }
  strbuf_putc(&b, ' ');
  strbuf_puts(&b, cmd);
  if (!strbuf_ok(&b)) {
    strbuf_free(&b);
    return decline(reason, "out of memory");
  }
  int rc = runner_run(b.data, timeout_s, output_cap, out);
  strbuf_free(&b);
  if (rc != TN_OK) return decline(reason, "Command '%s' not run: %s", cmd, strerror(errno));
  if (out->exit_code == 125 && out->output && strncmp(out->output, "chroot: ", 8) == 0) {
    size_t n = strcspn(out->output, "\n");
    rc = decline(reason, "Command '%s' not run: %.*s", cmd, (int)n, out->output);
    runner_result_free(out);
    return rc;
  }
  return TN_OK;
}

static int root_processes(void *arg, proclist **out, char **reason) {
  (void)arg;
  *out = NULL;
  return decline(reason, "process list not available with --root");
}

int scanroot_begin(scan_cache *cache, const char *dir, char *err, size_t errlen) {
  int rc = fs_root_set(dir, FS_RESOLVE_AUTO, err, errlen);
  if (rc != TN_OK) return rc;
  free(root_dir);
  if (!(root_dir = strdup(fs_root_get()))) {
    fs_root_set(NULL, 0, NULL, 0);
    snprintf(err, errlen, "out of memory");
    return TN_ENOMEM;
  }
  scan_cache_set_command_provider(cache, root_command, NULL);
  scan_cache_set_processes_provider(cache, root_processes, NULL);
  return TN_OK;
}

void scanroot_end(void) {
  fs_root_set(NULL, 0, NULL, 0);
  free(root_dir);
  root_dir = NULL;
}
