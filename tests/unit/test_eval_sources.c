/* test_eval_sources.c — the rule evaluators (vm/eval_file.c, eval_dir.c, eval_command.c,
 * eval_process.c) on real fixture trees, real commands and real processes: every row of the
 * result tables of SCA-SEMANTICS §2.5-§2.8 with its exact reason text, the per-line value rules
 * of §2.3, the location messages, and the 5.x differences of §10.
 *
 * Each case builds a tiny program with the builder API (a matcher, then the rule instruction),
 * compiles its regexes and calls the evaluator through an eval_ctx, like the interpreter does. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cache.h"
#include "eval.h"
#include "program.h"
#include "regex.h"
#include "test.h"

static char T[] = "/tmp/tenet_evsrc_XXXXXX"; /* fixture root */

/* ---- a program builder for one rule at a time ---- */

typedef struct rig {
  program *p;
  rx **rx;
  uint32_t ncompiled;
  eval_ctx c;
  eval_options opt;
  scan_cache *cache;
  int result;
} rig;

static void rig_init(rig *g, int dialect) {
  memset(g, 0, sizeof *g);
  g->p = program_new();
  g->p->dialect = (uint8_t)dialect;
  g->cache = scan_cache_new(1);
  g->opt = (eval_options)EVAL_OPTIONS_DEFAULT;
}

static void rig_free(rig *g) {
  for (uint32_t i = 0; i < g->ncompiled; i++)
    rx_free(g->rx[i]);
  free(g->rx);
  eval_ctx_free(&g->c);
  scan_cache_free(g->cache);
  program_free(g->p);
}

static uint32_t add_rx(rig *g, const char *src, uint8_t dialect) {
  uint8_t flags = dialect == RX_PCRE2 && g->p->dialect == DIALECT_WAZUH5 ? RXF_CASELESS : 0;
  return program_add_regex(g->p, src, dialect, flags, NULL);
}

static uint8_t cmp_of(const char *op) {
  if (op[0] == '=') return CMP_EQ;
  if (!strncmp(op, "!=", 2)) return CMP_NE;
  if (!strncmp(op, "<=", 2)) return CMP_LE;
  if (!strncmp(op, ">=", 2)) return CMP_GE;
  if (op[0] == '<') return CMP_LT;
  if (op[0] == '>') return CMP_GT;
  return CMP_ERR_BADOP;
}

/* Emit the matcher of a content expression (§2.1 minterms joined by " && "); PROG_NONE for NULL. */
static uint32_t emit_matcher(rig *g, const char *content) {
  if (!content) return PROG_NONE;
  uint8_t rxd = g->p->dialect == DIALECT_WAZUH5 ? RX_PCRE2 : RX_OSREGEX;
  char *copy = strdup(content), *s = copy;
  uint32_t first = PROG_NONE;
  while (*s) {
    char *end = strstr(s, " && ");
    if (end) *end = '\0';
    if (*s) {
      uint8_t fl = 0;
      if (*s == '!') fl = F_NEG, s++;
      uint32_t at;
      if (!strncasecmp(s, "r:", 2)) {
        at = program_emit(g->p, OP_MREGEX, fl, 0, add_rx(g, s + 2, rxd), 0, 0, 1);
      } else if (!strncasecmp(s, "n:", 2)) {
        char *cmp = strstr(s, " compare ");
        *cmp = '\0';
        const char *text = cmp + 9;
        const char *digits = text + strcspn(text, "0123456789");
        char *num = strndup(digits, strspn(digits, "0123456789"));
        at = program_emit(g->p, OP_MNUMERIC, fl, cmp_of(text), add_rx(g, s + 2, rxd),
                          program_intern(g->p, text), program_intern(g->p, num), 1);
        free(num);
      } else {
        at = program_emit(g->p, OP_MLITERAL, fl, 0, program_intern(g->p, s), 0, 0, 1);
      }
      if (first == PROG_NONE) first = at;
    }
    if (!end) break;
    s = end + 4;
  }
  program_emit(g->p, OP_MEND, 0, 0, PROG_NONE, PROG_NONE, PROG_NONE, 1);
  free(copy);
  return first;
}

/* The d: name pattern as the compiler stores it: "r:" → OS_Regex of the rest (OS_Match of the
 * whole text if that does not compile), anything else → OS_Match of the whole text. */
static uint32_t dir_name(rig *g, const char *name) {
  if (!name) return PROG_NONE;
  if (!strncasecmp(name, "r:", 2)) {
    char err[64];
    rx *probe = rx_compile(name + 2, RX_OSREGEX, 0, NULL, err, sizeof err);
    if (probe) {
      rx_free(probe);
      return add_rx(g, name + 2, RX_OSREGEX);
    }
  }
  return add_rx(g, name, RX_OSMATCH);
}

/* Evaluate one rule: op with its location (or p: body), d: name pattern and content. */
static int eval_rule(rig *g, int op, const char *loc, const char *name, const char *content) {
  uint32_t expr = emit_matcher(g, content), a, b = PROG_NONE, c = PROG_NONE;
  switch (op) {
  case OP_DIR: a = program_intern(g->p, loc), b = dir_name(g, name), c = expr; break;
  case OP_PROC: a = program_intern(g->p, content), b = expr; break;
  default: a = program_intern(g->p, loc), b = expr; break;
  }
  uint32_t at = program_emit(g->p, (uint8_t)op, 0, 0, a, b, c, 1);
  /* compile the regexes added since the last rule */
  g->rx = realloc(g->rx, (g->p->nregexes + 1) * sizeof *g->rx);
  for (; g->ncompiled < g->p->nregexes; g->ncompiled++) {
    const prog_regex *pr = &g->p->regexes[g->ncompiled];
    char err[64];
    g->rx[g->ncompiled] =
        rx_compile(program_str(g->p, pr->source), pr->dialect, pr->flags, NULL, err, sizeof err);
  }
  g->c.prog = g->p;
  g->c.rx = g->rx;
  g->c.code = g->p->code;
  g->c.code_len = g->p->ncode;
  g->c.cache = g->cache;
  g->c.opt = &g->opt;
  eval_ctx_reset(&g->c);
  const insn *in = &g->p->code[at];
  switch (op) {
  case OP_FILE: g->result = eval_file(&g->c, in); break;
  case OP_DIR: g->result = eval_dir(&g->c, in); break;
  case OP_CMD: g->result = eval_command(&g->c, in); break;
  default: g->result = eval_process(&g->c, in); break;
  }
  return g->result;
}

static const char *loc(rig *g, int kind) { return g->c.loc[kind].len ? g->c.loc[kind].data : ""; }

/* ---- fixtures ---- */

static char *P(const char *rel) { /* a path under T (static rotating buffers) */
  static char buf[8][4200];
  static int k;
  char *b = buf[k++ & 7];
  snprintf(b, sizeof buf[0], "%s/%s", T, rel);
  return b;
}

static void put(const char *rel, const char *s, size_t n) {
  FILE *f = fopen(P(rel), "wb");
  fwrite(s, 1, n, f);
  fclose(f);
}
#define PUT(rel, lit) put(rel, lit, sizeof(lit) - 1)

static void make_fixtures(void) {
  mkdir(P("f"), 0755);
  PUT("f/plain.conf", "PermitRootLogin no\n# comment\n");
  PUT("f/other.conf", "x=1\n");
  PUT("f/crlf.conf", "PermitRootLogin no\r\n");
  PUT("f/nul.conf", "abc\0PermitRootLogin\nlast\n");
  PUT("f/empty.conf", "");
  PUT("f/numbers.conf", "MaxAuthTries 4\n");
  symlink(P("f/plain.conf"), P("f/link"));
  symlink(P("f/nowhere"), P("f/dangling"));
  symlink(P("f/loop2"), P("f/loop1"));
  symlink(P("f/loop1"), P("f/loop2"));
  mkfifo(P("f/fifo"), 0644);
  mkdir(P("f/subdir"), 0755);
  /* a 2 KB boundary: PermitRootLogin starts at byte 2045 */
  char *big = malloc(4096);
  memset(big, '.', 2045);
  memcpy(big + 2045, "PermitRootLogin no\n", 19);
  put("f/chunked.conf", big, 2045 + 19);
  free(big);

  mkdir(P("d"), 0755);
  mkdir(P("d/etc"), 0755);
  PUT("d/etc/sshd_config", "PermitRootLogin no\n");
  mkdir(P("d/etc/sub"), 0755);
  mkdir(P("d/etc/sub/deep"), 0755);
  PUT("d/etc/sub/deep/a.rules", "-w /etc/sudoers -p wa -k scope\n");
  mkdir(P("d/other"), 0755);
  PUT("d/other/hidden.conf", "secret\n");
  symlink(P("d/other"), P("d/etc/linkdir"));
  symlink(P("d/etc/sshd_config"), P("d/etc/linkfile"));
  mkdir(P("d/comma"), 0755);
  PUT("d/comma/a,b", "x\n");
  mkdir(P("d/osm"), 0755);
  PUT("d/osm/xr:^zzzy", "x\n");
  mkdir(P("d/empty"), 0755);
}

/* ---- f: ---- */

static void test_file_existence(void) {
  rig g;
  rig_init(&g, DIALECT_WAZUH4);
  CHECK_INT(eval_rule(&g, OP_FILE, P("f/plain.conf"), NULL, NULL), EV_FOUND);
  CHECK(g.c.reason == NULL);
  CHECK_STR(loc(&g, LOC_FILE), P("f/plain.conf"));
  CHECK_INT(eval_rule(&g, OP_FILE, P("f/missing"), NULL, NULL), EV_NOT_FOUND);
  CHECK(g.c.reason == NULL);
  CHECK_INT(eval_rule(&g, OP_FILE, P("f/link"), NULL, NULL), EV_FOUND); /* symlinks followed */
  CHECK_INT(eval_rule(&g, OP_FILE, P("f/dangling"), NULL, NULL), EV_NOT_FOUND);
  CHECK(g.c.reason == NULL);

  char want[8192];
  CHECK_INT(eval_rule(&g, OP_FILE, P("f/loop1"), NULL, NULL), EV_INVALID);
  snprintf(want, sizeof want, "Could not resolve the real path of '%s': Too many levels of symbolic links",
           P("f/loop1"));
  CHECK_STR(g.c.reason, want);
  CHECK_INT(eval_rule(&g, OP_FILE, P("f/plain.conf/x"), NULL, NULL), EV_INVALID);
  snprintf(want, sizeof want, "Could not resolve the real path of '%s': Not a directory",
           P("f/plain.conf/x"));
  CHECK_STR(g.c.reason, want);
  CHECK_INT(eval_rule(&g, OP_FILE, P("f/subdir"), NULL, NULL), EV_INVALID);
  snprintf(want, sizeof want, "FILE_EXISTS(%s) -> RETURN_INVALID: Not a regular file.", P("f/subdir"));
  CHECK_STR(g.c.reason, want);
  CHECK_INT(eval_rule(&g, OP_FILE, P("f/fifo"), NULL, NULL), EV_INVALID);
  snprintf(want, sizeof want, "FILE_EXISTS(%s) -> RETURN_INVALID: Not a regular file.", P("f/fifo"));
  CHECK_STR(g.c.reason, want);
  CHECK_INT(eval_rule(&g, OP_FILE, "/dev/null", NULL, NULL), EV_INVALID); /* a device */
  CHECK_STR(g.c.reason, "FILE_EXISTS(/dev/null) -> RETURN_INVALID: Not a regular file.");
  rig_free(&g);
}

static void test_file_existence_lists(void) {
  rig g;
  rig_init(&g, DIALECT_WAZUH4);
  char list[8192];
  /* FOUND as soon as one item is found */
  snprintf(list, sizeof list, "%s,%s", P("f/missing"), P("f/plain.conf"));
  CHECK_INT(eval_rule(&g, OP_FILE, list, NULL, NULL), EV_FOUND);
  CHECK_STR(loc(&g, LOC_FILE), list); /* the whole list, once */
  /* otherwise INVALID if an item was invalid */
  snprintf(list, sizeof list, "%s,%s", P("f/subdir"), P("f/missing"));
  CHECK_INT(eval_rule(&g, OP_FILE, list, NULL, NULL), EV_INVALID);
  snprintf(list, sizeof list, "%s,%s,%s", P("f/subdir"), P("f/missing"), P("f/other.conf"));
  CHECK_INT(eval_rule(&g, OP_FILE, list, NULL, NULL), EV_FOUND);
  /* else NOT_FOUND; empty items are skipped */
  snprintf(list, sizeof list, ",%s,,%s,", P("f/missing"), P("f/dangling"));
  CHECK_INT(eval_rule(&g, OP_FILE, list, NULL, NULL), EV_NOT_FOUND);
  /* no trimming: " <path>" is another (missing) path */
  snprintf(list, sizeof list, "%s, %s", P("f/missing"), P("f/plain.conf"));
  CHECK_INT(eval_rule(&g, OP_FILE, list, NULL, NULL), EV_NOT_FOUND);
  rig_free(&g);
}

static void test_file_content(void) {
  rig g;
  rig_init(&g, DIALECT_WAZUH4);
  char want[8192], list[8192];
  CHECK_INT(eval_rule(&g, OP_FILE, P("f/plain.conf"), NULL, "r:^PermitRootLogin no"), EV_FOUND);
  CHECK_INT(eval_rule(&g, OP_FILE, P("f/plain.conf"), NULL, "r:^permitrootlogin NO"),
            EV_FOUND); /* caseless */
  CHECK_INT(eval_rule(&g, OP_FILE, P("f/plain.conf"), NULL, "r:^PermitRootLogin yes"), EV_NOT_FOUND);
  CHECK(g.c.reason == NULL);
  CHECK_INT(eval_rule(&g, OP_FILE, P("f/plain.conf"), NULL, "r:PermitRootLogin && r:no"), EV_FOUND);
  CHECK_INT(eval_rule(&g, OP_FILE, P("f/plain.conf"), NULL, "r:PermitRootLogin && r:comment"), EV_NOT_FOUND);
  CHECK_INT(eval_rule(&g, OP_FILE, P("f/plain.conf"), NULL, "# COMMENT"), EV_FOUND); /* literal, caseless */
  CHECK_INT(eval_rule(&g, OP_FILE, P("f/link"), NULL, "r:PermitRootLogin"), EV_FOUND);
  CHECK_INT(eval_rule(&g, OP_FILE, P("f/crlf.conf"), NULL, "r:no$"), EV_FOUND); /* CR trimmed */
  CHECK_INT(eval_rule(&g, OP_FILE, P("f/nul.conf"), NULL, "r:PermitRootLogin"),
            EV_NOT_FOUND); /* after a NUL */
  CHECK_INT(eval_rule(&g, OP_FILE, P("f/nul.conf"), NULL, "r:^last$"), EV_FOUND);
  CHECK_INT(eval_rule(&g, OP_FILE, P("f/empty.conf"), NULL, "!r:x"), EV_NOT_FOUND); /* no lines */
  CHECK_INT(eval_rule(&g, OP_FILE, P("f/chunked.conf"), NULL, "r:^PermitRootLogin"), EV_NOT_FOUND);
  CHECK_INT(eval_rule(&g, OP_FILE, P("f/chunked.conf"), NULL, "r:^rmitRootLogin no$"),
            EV_FOUND); /* 2 KB pieces */

  /* A missing file makes a content rule invalid. */
  CHECK_INT(eval_rule(&g, OP_FILE, P("f/missing"), NULL, "r:x"), EV_INVALID);
  snprintf(want, sizeof want, "Could not open file '%s'", P("f/missing"));
  CHECK_STR(g.c.reason, want);
  /* A file that is not regular: the existence reason comes first. */
  CHECK_INT(eval_rule(&g, OP_FILE, P("f/subdir"), NULL, "r:x"), EV_INVALID);
  snprintf(want, sizeof want, "FILE_EXISTS(%s) -> RETURN_INVALID: Not a regular file.", P("f/subdir"));
  CHECK_STR(g.c.reason, want);
  CHECK_INT(eval_rule(&g, OP_FILE, P("f/loop1"), NULL, "r:x"), EV_INVALID);
  snprintf(want, sizeof want, "Could not resolve the real path of '%s': Too many levels of symbolic links",
           P("f/loop1"));
  CHECK_STR(g.c.reason, want);
  /* A regular file that cannot be opened (write-only sysctl: EACCES even for root). */
  struct stat st;
  if (stat("/proc/sys/vm/drop_caches", &st) == 0 && S_ISREG(st.st_mode) &&
      open("/proc/sys/vm/drop_caches", O_RDONLY) < 0) {
    CHECK_INT(eval_rule(&g, OP_FILE, "/proc/sys/vm/drop_caches", NULL, "r:x"), EV_INVALID);
    CHECK_STR(g.c.reason, "Could not open file '/proc/sys/vm/drop_caches': Permission denied");
  }

  /* Lists: FOUND if any file matched (the reason of a missing one stays, but only N/A shows it). */
  snprintf(list, sizeof list, "%s,%s", P("f/missing"), P("f/plain.conf"));
  CHECK_INT(eval_rule(&g, OP_FILE, list, NULL, "r:PermitRootLogin"), EV_FOUND);
  snprintf(want, sizeof want, "Could not open file '%s'", P("f/missing"));
  CHECK_STR(g.c.reason, want);
  /* ... else INVALID if any file was missing, even though the others simply did not match */
  snprintf(list, sizeof list, "%s,%s", P("f/missing"), P("f/other.conf"));
  CHECK_INT(eval_rule(&g, OP_FILE, list, NULL, "r:PermitRootLogin"), EV_INVALID);
  snprintf(list, sizeof list, "%s,%s", P("f/other.conf"), P("f/missing"));
  CHECK_INT(eval_rule(&g, OP_FILE, list, NULL, "r:PermitRootLogin"), EV_INVALID);
  /* ... else NOT_FOUND */
  snprintf(list, sizeof list, "%s,%s", P("f/plain.conf"), P("f/other.conf"));
  CHECK_INT(eval_rule(&g, OP_FILE, list, NULL, "r:zzz"), EV_NOT_FOUND);
  CHECK(g.c.reason == NULL);
  /* each file is read once per scan */
  size_t before = scan_cache_files_read(g.cache);
  CHECK_INT(eval_rule(&g, OP_FILE, P("f/plain.conf"), NULL, "r:zzz"), EV_NOT_FOUND);
  CHECK_INT(eval_rule(&g, OP_FILE, P("f/link"), NULL, "r:yyy"), EV_NOT_FOUND); /* same real path */
  CHECK_INT(scan_cache_files_read(g.cache), before);
  rig_free(&g);
}

/* §2.3: the file scan stops at the first non-zero line value; 2 is invalid, 3 is "no match". */
static void test_file_line_values(void) {
  rig g;
  rig_init(&g, DIALECT_WAZUH4);
  /* n: that captures a number */
  CHECK_INT(eval_rule(&g, OP_FILE, P("f/numbers.conf"), NULL, "n:^MaxAuthTries\\s+(\\d+) compare <= 4"),
            EV_FOUND);
  CHECK_INT(eval_rule(&g, OP_FILE, P("f/numbers.conf"), NULL, "n:^MaxAuthTries\\s+(\\d+) compare < 4"),
            EV_NOT_FOUND);
  /* 2: a capture that is not a number makes the file (and the rule) invalid */
  CHECK_INT(eval_rule(&g, OP_FILE, P("f/plain.conf"), NULL, "n:^(\\w+) compare > 1"), EV_INVALID);
  CHECK_STR(g.c.reason, "Conversion error. Cannot convert 'PermitRootLogin' to integer.");
  /* 3 (= !2) on the first line stops the scan and counts as no match, although the second line
   * ("# comment") would give 1 */
  CHECK_INT(eval_rule(&g, OP_FILE, P("f/plain.conf"), NULL, "!n:^(\\w+) compare > 1"), EV_NOT_FOUND);
  CHECK_STR(g.c.reason, "Conversion error. Cannot convert 'PermitRootLogin' to integer.");
  /* a negated minterm: "some line does not match" (4.x) */
  CHECK_INT(eval_rule(&g, OP_FILE, P("f/plain.conf"), NULL, "!r:^#"), EV_FOUND);
  rig_free(&g);
}

static void test_file_5x(void) {
  rig g;
  rig_init(&g, DIALECT_WAZUH5);
  char list[8192];
  CHECK_INT(eval_rule(&g, OP_FILE, P("f/plain.conf"), NULL, NULL), EV_FOUND);
  CHECK_INT(eval_rule(&g, OP_FILE, P("f/missing"), NULL, NULL), EV_NOT_FOUND);
  CHECK_INT(eval_rule(&g, OP_FILE, P("f/subdir"), NULL, NULL), EV_NOT_FOUND); /* not a regular file */
  CHECK_INT(eval_rule(&g, OP_FILE, P("f/loop1"), NULL, NULL), EV_INVALID);
  /* no comma lists: the whole text is one path */
  snprintf(list, sizeof list, "%s,%s", P("f/missing"), P("f/plain.conf"));
  CHECK_INT(eval_rule(&g, OP_FILE, list, NULL, NULL), EV_NOT_FOUND);
  /* a single negated minterm means "no line matches" */
  CHECK_INT(eval_rule(&g, OP_FILE, P("f/plain.conf"), NULL, "!r:^#"), EV_NOT_FOUND);
  CHECK_INT(eval_rule(&g, OP_FILE, P("f/other.conf"), NULL, "!r:^#"), EV_FOUND);
  CHECK_INT(eval_rule(&g, OP_FILE, P("f/empty.conf"), NULL, "!r:^#"), EV_NOT_FOUND);
  /* otherwise some line satisfies all minterms */
  CHECK_INT(eval_rule(&g, OP_FILE, P("f/plain.conf"), NULL, "r:Permit && !r:yes"), EV_FOUND);
  /* no 2 KB chunking */
  CHECK_INT(eval_rule(&g, OP_FILE, P("f/chunked.conf"), NULL, "r:^rmitRootLogin"), EV_NOT_FOUND);
  CHECK_INT(eval_rule(&g, OP_FILE, P("f/chunked.conf"), NULL, "r:PermitRootLogin no$"), EV_FOUND);
  CHECK_INT(eval_rule(&g, OP_FILE, P("f/missing"), NULL, "r:x"), EV_INVALID);
  rig_free(&g);
}

/* ---- d: ---- */

static void test_dir_existence(void) {
  rig g;
  rig_init(&g, DIALECT_WAZUH4);
  char want[8192];
  CHECK_INT(eval_rule(&g, OP_DIR, P("d/etc"), NULL, NULL), EV_FOUND);
  CHECK_STR(loc(&g, LOC_DIRECTORY), P("d/etc"));
  CHECK_INT(eval_rule(&g, OP_DIR, P("d/etc/linkdir"), NULL, NULL), EV_FOUND); /* resolved */
  CHECK_INT(eval_rule(&g, OP_DIR, P("d/missing"), NULL, NULL), EV_NOT_FOUND);
  CHECK(g.c.reason == NULL);
  CHECK_INT(eval_rule(&g, OP_DIR, P("f/dangling"), NULL, NULL), EV_NOT_FOUND);
  CHECK_INT(eval_rule(&g, OP_DIR, P("f/loop1"), NULL, NULL), EV_INVALID);
  snprintf(want, sizeof want, "Could not resolve the real path of '%s': Too many levels of symbolic links",
           P("f/loop1"));
  CHECK_STR(g.c.reason, want);
  /* a regular file: ENOTDIR from opendir */
  CHECK_INT(eval_rule(&g, OP_DIR, P("d/etc/sshd_config"), NULL, NULL), EV_INVALID);
  snprintf(want, sizeof want, "Could not check directory existence for '%s': Not a directory",
           P("d/etc/sshd_config"));
  CHECK_STR(g.c.reason, want);
  /* skip_nfs on a local directory changes nothing */
  g.opt.skip_nfs = 1;
  CHECK_INT(eval_rule(&g, OP_DIR, P("d/etc"), NULL, NULL), EV_FOUND);
  rig_free(&g);
}

static void test_dir_walk(void) {
  rig g;
  rig_init(&g, DIALECT_WAZUH4);
  char want[8192], list[8192];
  /* plain names are case-insensitive substrings (OS_Match) */
  CHECK_INT(eval_rule(&g, OP_DIR, P("d/etc"), "sshd_config", NULL), EV_FOUND);
  CHECK_INT(eval_rule(&g, OP_DIR, P("d/etc"), "SSHD_CONF", NULL), EV_FOUND);
  CHECK_INT(eval_rule(&g, OP_DIR, P("d/etc"), "^sshd_config$", NULL), EV_FOUND);
  CHECK_INT(eval_rule(&g, OP_DIR, P("d/etc"), "nomatch", NULL), EV_NOT_FOUND);
  CHECK(g.c.reason == NULL);
  /* recursion without depth limit */
  CHECK_INT(eval_rule(&g, OP_DIR, P("d/etc"), "r:\\.rules$", NULL), EV_FOUND);
  CHECK_INT(eval_rule(&g, OP_DIR, P("d"), "r:^a\\.rules$", NULL), EV_FOUND);
  /* content of the matching files */
  CHECK_INT(eval_rule(&g, OP_DIR, P("d/etc"), "r:\\.rules$", "r:^-w && r:/etc/sudoers"), EV_FOUND);
  CHECK_INT(eval_rule(&g, OP_DIR, P("d/etc"), "r:\\.rules$", "r:^-x"), EV_NOT_FOUND);
  /* a symlinked directory is not walked ... */
  CHECK_INT(eval_rule(&g, OP_DIR, P("d/etc"), "hidden.conf", NULL), EV_NOT_FOUND);
  /* ... but its name is tested: it resolves to a directory, which is not a regular file */
  CHECK_INT(eval_rule(&g, OP_DIR, P("d/etc"), "linkdir", NULL), EV_INVALID);
  snprintf(want, sizeof want, "FILE_EXISTS(%s/linkdir) -> RETURN_INVALID: Not a regular file.", P("d/etc"));
  CHECK_STR(g.c.reason, want);
  /* a symlink to a file is followed */
  CHECK_INT(eval_rule(&g, OP_DIR, P("d/etc"), "^linkfile$", "r:PermitRootLogin"), EV_FOUND);
  /* entry paths are "<dir as written>/<name>" */
  snprintf(list, sizeof list, "%s/", P("d/etc"));
  CHECK_INT(eval_rule(&g, OP_DIR, list, "linkdir", NULL), EV_INVALID);
  snprintf(want, sizeof want, "FILE_EXISTS(%s//linkdir) -> RETURN_INVALID: Not a regular file.", P("d/etc"));
  CHECK_STR(g.c.reason, want);
  /* a missing top directory is invalid here (not found for existence) */
  CHECK_INT(eval_rule(&g, OP_DIR, P("d/missing"), "x", NULL), EV_INVALID);
  snprintf(want, sizeof want, "Could not open dir '%s'", P("d/missing"));
  CHECK_STR(g.c.reason, want);
  /* other realpath errors: the resolve reason comes first */
  CHECK_INT(eval_rule(&g, OP_DIR, P("f/loop1"), "x", NULL), EV_INVALID);
  snprintf(want, sizeof want, "Could not resolve the real path of '%s': Too many levels of symbolic links",
           P("f/loop1"));
  CHECK_STR(g.c.reason, want);
  /* a file where a directory is expected */
  CHECK_INT(eval_rule(&g, OP_DIR, P("d/etc/sshd_config"), "x", NULL), EV_INVALID);
  snprintf(want, sizeof want, "Could not open '%s': Not a directory", P("d/etc/sshd_config"));
  CHECK_STR(g.c.reason, want);
  /* matching files go through the ',' splitter: "a,b" becomes two missing paths */
  CHECK_INT(eval_rule(&g, OP_DIR, P("d/comma"), "r:,", NULL), EV_NOT_FOUND);
  CHECK_INT(eval_rule(&g, OP_DIR, P("d/comma"), "r:,", "r:x"), EV_INVALID);
  snprintf(want, sizeof want, "Could not open file '%s/a'", P("d/comma"));
  CHECK_STR(g.c.reason, want);
  /* an r: pattern also accepts names that OS_Match matches with the whole "r:..." text */
  CHECK_INT(eval_rule(&g, OP_DIR, P("d/osm"), "r:^zzz", NULL), EV_FOUND);
  CHECK_INT(eval_rule(&g, OP_DIR, P("d/osm"), "r:^zzzz", NULL), EV_NOT_FOUND);
  CHECK_INT(eval_rule(&g, OP_DIR, P("d/empty"), "r:.", NULL), EV_NOT_FOUND);
  rig_free(&g);
}

static void test_dir_lists(void) {
  rig g;
  rig_init(&g, DIALECT_WAZUH4);
  char want[8192], list[8192];
  /* an INVALID directory, then a FOUND one: FOUND (the reason stays) */
  snprintf(list, sizeof list, "%s,%s", P("d/missing"), P("d/etc"));
  CHECK_INT(eval_rule(&g, OP_DIR, list, "sshd_config", NULL), EV_FOUND);
  snprintf(want, sizeof want, "Could not open dir '%s'", P("d/missing"));
  CHECK_STR(g.c.reason, want);
  CHECK_STR(loc(&g, LOC_DIRECTORY), list); /* one message per directory visited */
  /* NOT_FOUND never resets INVALID */
  CHECK_INT(eval_rule(&g, OP_DIR, list, "nomatch", NULL), EV_INVALID);
  /* FOUND stops the list: the second directory is not visited */
  snprintf(list, sizeof list, "%s,%s", P("d/etc"), P("d/missing"));
  CHECK_INT(eval_rule(&g, OP_DIR, list, "sshd_config", NULL), EV_FOUND);
  CHECK_STR(loc(&g, LOC_DIRECTORY), P("d/etc"));
  CHECK(g.c.reason == NULL);
  /* empty items are dropped */
  snprintf(list, sizeof list, ",,%s,", P("d/etc"));
  CHECK_INT(eval_rule(&g, OP_DIR, list, NULL, NULL), EV_FOUND);
  CHECK_STR(loc(&g, LOC_DIRECTORY), P("d/etc"));
  /* existence over a list */
  snprintf(list, sizeof list, "%s,%s", P("d/missing"), P("d/etc/sshd_config"));
  CHECK_INT(eval_rule(&g, OP_DIR, list, NULL, NULL), EV_INVALID);
  rig_free(&g);
}

/* An entry whose "<dir>/<name>" is longer than PATH_MAX: Wazuh's buffer cuts it and lstat fails. */
static void test_dir_entry_error(void) {
  rig g;
  rig_init(&g, DIALECT_WAZUH4);
  char dir[4200];
  int n = snprintf(dir, sizeof dir, "%s", P("d/etc"));
  while (n < 4090)
    n += snprintf(dir + n, sizeof dir - (size_t)n, "/.");
  CHECK_INT(eval_rule(&g, OP_DIR, dir, "sshd_config", NULL), EV_INVALID);
  char want[8400];
  REQUIRE(g.c.reason != NULL);
  /* the entry path in the reason is the cut one: exactly PATH_MAX bytes */
  snprintf(want, sizeof want, "Cannot check directory entry '%s/", dir);
  CHECK(strncmp(g.c.reason, want, strlen(want)) == 0);
  CHECK_INT(strlen(g.c.reason), strlen("Cannot check directory entry '") + PATH_MAX);
  CHECK(g.c.reason[strlen(g.c.reason) - 1] != '\''); /* the closing quote really is missing */
  rig_free(&g);
}

static void test_dir_5x(void) {
  rig g;
  rig_init(&g, DIALECT_WAZUH5);
  /* symlinks are skipped: a matching symlink to a directory is not invalid any more */
  CHECK_INT(eval_rule(&g, OP_DIR, P("d/etc"), "linkdir", NULL), EV_NOT_FOUND);
  CHECK_INT(eval_rule(&g, OP_DIR, P("d/etc"), "linkfile", NULL), EV_NOT_FOUND);
  CHECK_INT(eval_rule(&g, OP_DIR, P("d/etc"), "sshd_config", NULL), EV_FOUND);
  rig_free(&g);
}

/* ---- c: ---- */

static int lines_in(const char *path) {
  FILE *f = fopen(path, "r");
  if (!f) return 0;
  int n = 0, ch;
  while ((ch = fgetc(f)) != EOF)
    n += ch == '\n';
  fclose(f);
  return n;
}

static void test_command(void) {
  rig g;
  rig_init(&g, DIALECT_WAZUH4);
  char cmd[8192];
  /* no content: FOUND without running anything */
  snprintf(cmd, sizeof cmd, "sh -c \"echo ran >> %s\"", P("c-side"));
  CHECK_INT(eval_rule(&g, OP_CMD, cmd, NULL, NULL), EV_FOUND);
  CHECK_INT(lines_in(P("c-side")), 0);
  CHECK_INT(scan_cache_commands_run(g.cache), 0);
  CHECK_STR(loc(&g, LOC_COMMAND), cmd);

  CHECK_INT(eval_rule(&g, OP_CMD, "echo hello", NULL, "r:^hello$"), EV_FOUND);
  CHECK_INT(eval_rule(&g, OP_CMD, "echo hello", NULL, "r:bye"), EV_NOT_FOUND);
  CHECK_INT(scan_cache_commands_run(g.cache), 1); /* run once for both rules */
  CHECK_STR(loc(&g, LOC_COMMAND), "echo hello");
  /* exit codes other than 127 are ignored; stderr is matched too */
  CHECK_INT(eval_rule(&g, OP_CMD, "sh -c \"echo oops >&2; exit 3\"", NULL, "r:oops"), EV_FOUND);
  CHECK_INT(eval_rule(&g, OP_CMD, "sh -c \"exit 1\"", NULL, "r:x"), EV_NOT_FOUND);
  CHECK(g.c.reason == NULL);

  CHECK_INT(eval_rule(&g, OP_CMD, "/no/such/tool --x", NULL, "r:x"), EV_INVALID);
  CHECK_STR(g.c.reason, "Invalid path or wrong permissions to run command '/no/such/tool --x'");
  CHECK_INT(eval_rule(&g, OP_CMD, "sh -c \"exit 127\"", NULL, "r:x"), EV_INVALID);
  CHECK_STR(g.c.reason, "Invalid path or wrong permissions to run command 'sh -c \"exit 127\"'");
  g.opt.command_timeout = 1;
  CHECK_INT(eval_rule(&g, OP_CMD, "sleep 20", NULL, "r:x"), EV_INVALID);
  CHECK_STR(g.c.reason, "Timeout overtaken running command 'sleep 20'");
  rig_free(&g);
}

/* §2.2/§2.3 for commands: the loop stops only at a line giving 1, else the LAST line decides. */
static void test_command_lines(void) {
  rig g;
  rig_init(&g, DIALECT_WAZUH4);
  const char *foobar = "printf foo\\\\nbar\\\\n"; /* prints "foo\nbar\n" */
  CHECK_INT(eval_rule(&g, OP_CMD, foobar, NULL, "r:^bar$"), EV_FOUND);
  CHECK_INT(eval_rule(&g, OP_CMD, foobar, NULL, "!r:foo"), EV_FOUND);
  /* output "foo\n" is two lines, "foo" and "": the empty last line satisfies !r:foo */
  CHECK_INT(eval_rule(&g, OP_CMD, "echo foo", NULL, "!r:foo"), EV_FOUND);
  CHECK_INT(eval_rule(&g, OP_CMD, "printf foo", NULL, "!r:foo"), EV_NOT_FOUND);
  /* no output: one empty line */
  CHECK_INT(eval_rule(&g, OP_CMD, "true", NULL, "!r:x"), EV_FOUND);
  CHECK_INT(eval_rule(&g, OP_CMD, "true", NULL, "r:^$"), EV_FOUND);
  /* line continuation: "a\\\nb" is one line "a\nb" */
  CHECK_INT(eval_rule(&g, OP_CMD, "printf a\\\\\\\\\\\\nb", NULL, "r:^b"), EV_NOT_FOUND);
  CHECK_INT(eval_rule(&g, OP_CMD, "printf a\\\\nb", NULL, "r:^b"), EV_FOUND);
  /* numbers: 1 stops; a 2 on the last line is INVALID; a 2 before a later 0 is forgotten */
  CHECK_INT(eval_rule(&g, OP_CMD, "printf 3\\\\n7", NULL, "n:^(\\d+) compare > 5"), EV_FOUND);
  CHECK_INT(eval_rule(&g, OP_CMD, "printf 7\\\\nx", NULL, "n:^(\\d+) compare > 5"), EV_FOUND);
  CHECK_INT(eval_rule(&g, OP_CMD, "printf 3\\\\nx", NULL, "n:^(\\d+) compare > 5"), EV_NOT_FOUND);
  CHECK_INT(eval_rule(&g, OP_CMD, "printf x\\\\nab", NULL, "n:^(\\w+) compare > 5"), EV_INVALID);
  CHECK_STR(g.c.reason, "Conversion error. Cannot convert 'x' to integer.");
  CHECK_INT(eval_rule(&g, OP_CMD, "printf ab\\\\n1", NULL, "n:^(\\w+) compare > 5"), EV_NOT_FOUND);
  /* 3 (= !2) on the last line: neither found nor invalid */
  CHECK_INT(eval_rule(&g, OP_CMD, "printf ab", NULL, "!n:^(\\w+) compare > 5"), EV_NOT_FOUND);
  rig_free(&g);
}

static void test_command_5x(void) {
  rig g;
  rig_init(&g, DIALECT_WAZUH5);
  char cmd[8192];
  /* without content the command runs, and a successful run is FOUND */
  snprintf(cmd, sizeof cmd, "sh -c \"echo ran >> %s\"", P("c5-side"));
  CHECK_INT(eval_rule(&g, OP_CMD, cmd, NULL, NULL), EV_FOUND);
  CHECK_INT(lines_in(P("c5-side")), 1);
  CHECK_INT(eval_rule(&g, OP_CMD, "/no/such/tool", NULL, NULL), EV_INVALID);
  /* single negated minterm: no line matches */
  CHECK_INT(eval_rule(&g, OP_CMD, "printf foo\\\\nbar\\\\n", NULL, "!r:foo"), EV_NOT_FOUND);
  CHECK_INT(eval_rule(&g, OP_CMD, "printf bar\\\\nbaz\\\\n", NULL, "!r:foo"), EV_FOUND);
  CHECK_INT(eval_rule(&g, OP_CMD, "echo FOO", NULL, "r:foo"), EV_FOUND); /* PCRE2 caseless */
  rig_free(&g);
}

/* ---- p: ---- */

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

static void test_process(void) {
  pid_t child = spawn_named("tenet-evproc");
  REQUIRE(child > 0);
  rig g;
  rig_init(&g, DIALECT_WAZUH4);
  CHECK_INT(eval_rule(&g, OP_PROC, NULL, NULL, "tenet-evproc"), EV_FOUND);
  CHECK_STR(loc(&g, LOC_PROCESS), "tenet-evproc");
  CHECK_INT(eval_rule(&g, OP_PROC, NULL, NULL, "TENET-EVPROC"), EV_FOUND);    /* literal: caseless */
  CHECK_INT(eval_rule(&g, OP_PROC, NULL, NULL, "tenet-evpro"), EV_NOT_FOUND); /* whole name */
  CHECK_INT(eval_rule(&g, OP_PROC, NULL, NULL, "r:^tenet-ev"), EV_FOUND);
  CHECK_INT(eval_rule(&g, OP_PROC, NULL, NULL, "r:^tenet-ev && r:proc$"), EV_FOUND);
  CHECK_INT(eval_rule(&g, OP_PROC, NULL, NULL, "tenet-no-such-process-name"), EV_NOT_FOUND);
  CHECK(g.c.reason == NULL);
  /* any non-zero value counts: 3 (= !2) is FOUND here */
  CHECK_INT(eval_rule(&g, OP_PROC, NULL, NULL, "!n:^(tenet-evproc) compare > 1 && r:^tenet-evproc$"),
            EV_FOUND);
  rig_free(&g);
  kill(child, SIGKILL);
  waitpid(child, NULL, 0);

  /* gone once it has been reaped (a new scan, a new list) */
  rig_init(&g, DIALECT_WAZUH4);
  CHECK_INT(eval_rule(&g, OP_PROC, NULL, NULL, "tenet-evproc"), EV_NOT_FOUND);
  rig_free(&g);
}

int main(void) {
  if (!mkdtemp(T)) return 2;
  make_fixtures();
  RUN(test_file_existence);
  RUN(test_file_existence_lists);
  RUN(test_file_content);
  RUN(test_file_line_values);
  RUN(test_file_5x);
  RUN(test_dir_existence);
  RUN(test_dir_walk);
  RUN(test_dir_lists);
  RUN(test_dir_entry_error);
  RUN(test_dir_5x);
  RUN(test_command);
  RUN(test_command_lines);
  RUN(test_command_5x);
  RUN(test_process);
  char cmd[512];
  snprintf(cmd, sizeof cmd, "rm -rf %s", T);
  if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", T);
  return test_report();
}
