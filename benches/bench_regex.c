/* bench_regex.c — throughput of rx_match on lowered OS_Regex patterns.
 *
 * Takes every r:/n: pattern of the Wazuh 4.14.7 OS_Regex-dialect policies that osregex_lower
 * translates, and a realistic set of lines (the text files of /etc on this host plus synthetic
 * sshd_config, sysctl, login.defs, audit and mount lines), and times matching every (pattern, line)
 * pair three ways:
 *   rx_match   — the VM's interface (lowered patterns on PCRE2 JIT, thread-local match data);
 *   bare       — a bare pcre2_jit_match loop over the same compiled lowered patterns and lines;
 *   native     — the native OS_Regex engine on the same patterns (for comparison).
 * rx_match and bare are repeated (7 times by default, interleaved) and the medians reported, with
 * MB/s of subject bytes and the ratio rx_match / bare (target >= 0.8); native runs 3 times.
 *
 * Usage: bench_regex [SHARED_DIR [LINE_KB [REPEATS]]]   (default SHARED_DIR: $TENET_SHARED_DIR, else ../shared) */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <ftw.h>
#include <pcre2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench_util.h"
#include "osregex_lower.h"
#include "regex.h"
#include "vm.h"
#include "ydoc.h"

#define NATIVE_REPEATS 3 /* the native engine is only a reference point, and slow */

typedef struct vec {
  char **v;
  size_t *len;
  size_t n, cap, bytes;
} vec;

static void vec_add(vec *s, const char *p, size_t len) {
  if (s->n == s->cap) {
    s->cap = s->cap ? s->cap * 2 : 1024;
    s->v = realloc(s->v, s->cap * sizeof *s->v);
    s->len = realloc(s->len, s->cap * sizeof *s->len);
    if (!s->v || !s->len) abort();
  }
  s->len[s->n] = len;
  s->v[s->n++] = strndup(p, len);
  s->bytes += len;
}

/* ---- patterns (rule grammar of SCA-SEMANTICS §2.1) --------------------------------------------- */

static void add_content(vec *s, const char *c) {
  while (*c) {
    const char *e = strstr(c, " && ");
    size_t len = e ? (size_t)(e - c) : strlen(c);
    const char *m = c;
    if (len && *m == '!') m++, len--;
    if (len >= 2 && (m[0] | 32) == 'r' && m[1] == ':') vec_add(s, m + 2, len - 2);
    if (len >= 2 && (m[0] | 32) == 'n' && m[1] == ':') {
      const char *cmp = strstr(m, " compare ");
      if (cmp && cmp < m + len) vec_add(s, m + 2, (size_t)(cmp - m - 2));
    }
    if (!e) break;
    c = e + 4;
  }
}

static void add_rule(vec *s, const char *r) {
  if (!strncmp(r, "not ", 4) || !strncmp(r, "NOT ", 4)) r += 4;
  char type = *r == '!' ? r[1] : r[0];
  const char *arrow = strstr(r, " -> ");
  if (!arrow) return;
  const char *rest = arrow + 4;
  if (type == 'd' || type == 'r') {
    rest = strstr(rest, " -> ");
    if (!rest) return;
    rest += 4;
  }
  add_content(s, rest);
}

static vec g_files;

static int collect_yml(const char *path, const struct stat *sb, int flag, struct FTW *f) {
  size_t n = strlen(path);
  if (flag == FTW_F && n > 4 && !strcmp(path + n - 4, ".yml")) vec_add(&g_files, path, n);
  return 0;
}

static void add_rules(vec *s, const ynode *rules) {
  for (size_t i = 0; rules && rules->kind == YNODE_SEQUENCE && i < rules->n; i++)
    if (ynode_is_string(rules->items[i])) add_rule(s, rules->items[i]->text);
}

static void load_patterns(vec *pats, const char *shared) {
  char dir[8192];
  snprintf(dir, sizeof dir, "%s/corpus/wazuh-4.14.7", shared);
  nftw(dir, collect_yml, 16, FTW_PHYS);
  static char buf[8 << 20];
  for (size_t i = 0; i < g_files.n; i++) {
    FILE *f = fopen(g_files.v[i], "rb");
    if (!f) continue;
    size_t n = fread(buf, 1, sizeof buf, f);
    fclose(f);
    diag_list *dl = diag_list_new();
    ydoc *d = ydoc_parse(g_files.v[i], buf, n, dl);
    const ynode *root = d ? ydoc_root(d) : NULL;
    const ynode *type = ynode_get(ynode_get(root, "policy"), "regex_type");
    if (!(type && ynode_is_string(type) && !strcmp(type->text, "pcre2"))) {
      const ynode *checks = ynode_get(root, "checks");
      for (size_t k = 0; checks && checks->kind == YNODE_SEQUENCE && k < checks->n; k++)
        add_rules(pats, ynode_get(checks->items[k], "rules"));
      add_rules(pats, ynode_get(ynode_get(root, "requirements"), "rules"));
    }
    ydoc_free(d);
    diag_list_free(dl);
  }
}

/* ---- lines ------------------------------------------------------------------------------------ */

static vec g_lines;
static size_t g_etc_budget;

static void add_text(const char *data, size_t n) {
  const char *p = data, *end = data + n;
  while (p < end && g_lines.bytes < g_etc_budget) {
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p);
    if (len > 2047) len = 2047; /* fgets-sized pieces, as the agent reads them */
    vec_add(&g_lines, p, len);
    p += len + (nl && p + len == nl);
  }
}

static int collect_etc(const char *path, const struct stat *sb, int flag, struct FTW *f) {
  if (flag != FTW_F || !S_ISREG(sb->st_mode) || sb->st_size > (1 << 20) || g_lines.bytes >= g_etc_budget)
    return 0;
  FILE *fp = fopen(path, "rb");
  if (!fp) return 0;
  static char buf[1 << 20];
  size_t n = fread(buf, 1, sizeof buf, fp);
  fclose(fp);
  if (memchr(buf, 0, n < 1024 ? n : 1024)) return 0; /* binary */
  add_text(buf, n);
  return 0;
}

static void synthetic_lines(size_t target) {
  static const char *tpl[] = {"PermitRootLogin %s",
                              "  MaxAuthTries %d",
                              "#Port %d",
                              "ClientAliveInterval\t%d",
                              "Ciphers aes128-ctr,aes192-ctr,aes256-ctr,chacha20-poly1305@openssh.com",
                              "X11Forwarding %s",
                              "net.ipv4.conf.all.accept_redirects = %d",
                              "kernel.randomize_va_space=%d",
                              "PASS_MAX_DAYS\t%d",
                              "PASS_MIN_DAYS %d",
                              "UMASK\t\t0%d",
                              "-a always,exit -F arch=b64 -S sethostname,setdomainname -k system-locale",
                              "-w /etc/sudoers -p wa -k scope",
                              "tmpfs /tmp tmpfs rw,nosuid,nodev,noexec,relatime,size=%dk 0 0",
                              "password requisite pam_pwquality.so retry=%d",
                              "auth required pam_faillock.so deny=%d unlock_time=900",
                              "root:$6$abc:%d:0:99999:7:::",
                              "LogLevel %s",
                              "Banner /etc/issue.net",
                              "ENCRYPT_METHOD SHA512"};
  static const char *words[] = {"no", "yes", "INFO", "VERBOSE", "prohibit-password"};
  char buf[256];
  for (unsigned i = 0; g_lines.bytes < target; i++) {
    const char *t = tpl[i % (sizeof tpl / sizeof *tpl)];
    int n = strstr(t, "%s") ? snprintf(buf, sizeof buf, t, words[i % 5])
                            : snprintf(buf, sizeof buf, t, (int)(i * 37 % 1000));
    vec_add(&g_lines, buf, (size_t)n);
  }
}

typedef struct set {
  rx **rx, **native;
  pcre2_code **code;
  size_t n;
} set;

static long run_rx(rx **r, size_t n) {
  long hits = 0;
  for (size_t p = 0; p < n; p++)
    for (size_t i = 0; i < g_lines.n; i++)
      hits += rx_match(r[p], g_lines.v[i], g_lines.len[i]);
  return hits;
}

/* The VM's own line matching: each pattern as a one-minterm matcher (MREGEX rx; MEND) run by
 * vm_exec_matcher, exactly as a content rule evaluates one line. */
static long run_vm(eval_ctx *c, size_t n) {
  long hits = 0;
  for (size_t p = 0; p < n; p++)
    for (size_t i = 0; i < g_lines.n; i++)
      hits += vm_exec_matcher(c, (uint32_t)(2 * p), g_lines.v[i], g_lines.len[i]) == 1;
  return hits;
}

static long run_bare(pcre2_code **c, size_t n, pcre2_match_data *md) {
  long hits = 0;
  for (size_t p = 0; p < n; p++)
    for (size_t i = 0; i < g_lines.n; i++)
      hits += pcre2_jit_match(c[p], (PCRE2_SPTR)g_lines.v[i], g_lines.len[i], 0, 0, md, NULL) >= 0;
  return hits;
}

int main(int argc, char **argv) {
  const char *shared = bench_shared_dir(argc, argv);
  size_t line_kb = argc > 2 ? (size_t)atol(argv[2]) : 1024;
  int repeats = argc > 3 ? atoi(argv[3]) : 7;
  if (repeats < 1) repeats = 1;

  vec pats = {0};
  load_patterns(&pats, shared);
  if (!pats.n) {
    fprintf(stderr, "bench_regex: no patterns under %s/corpus/wazuh-4.14.7\n", shared);
    return 1;
  }
  g_etc_budget = line_kb * 1024 * 3 / 4;
  nftw("/etc", collect_etc, 32, FTW_PHYS);
  size_t etc_lines = g_lines.n, etc_bytes = g_lines.bytes;
  synthetic_lines(line_kb * 1024);

  set s = {calloc(pats.n, sizeof(rx *)), calloc(pats.n, sizeof(rx *)), calloc(pats.n, sizeof(pcre2_code *)),
           0};
  char low[65536];
  size_t distinct = 0;
  for (size_t i = 0; i < pats.n; i++) {
    int dup = 0;
    for (size_t k = 0; k < i && !dup; k++)
      dup = !strcmp(pats.v[k], pats.v[i]);
    if (dup) continue;
    distinct++;
    if (osregex_lower(pats.v[i], low, sizeof low) != 1) continue;
    int ec;
    PCRE2_SIZE eo;
    pcre2_code *c = pcre2_compile((PCRE2_SPTR)low, PCRE2_ZERO_TERMINATED, 0, &ec, &eo, NULL);
    rx *r = rx_compile(pats.v[i], RX_OSREGEX, 0, low, NULL, 0);
    rx *nat = rx_compile(pats.v[i], RX_OSREGEX, 0, NULL, NULL, 0);
    if (!c || !r || !nat || pcre2_jit_compile(c, PCRE2_JIT_COMPLETE) != 0) {
      pcre2_code_free(c);
      rx_free(r);
      rx_free(nat);
      continue;
    }
    s.code[s.n] = c;
    s.rx[s.n] = r;
    s.native[s.n++] = nat;
  }
  pcre2_match_data *md = pcre2_match_data_create(16, NULL);
  program *prog = program_new();
  for (size_t p = 0; p < s.n; p++) {
    program_emit(prog, OP_MREGEX, 0, 0, (uint32_t)p, 0, 0, 0);
    program_emit(prog, OP_MEND, 0, 0, 0, 0, 0, 0);
  }
  eval_ctx vc;
  memset(&vc, 0, sizeof vc);
  vc.prog = prog;
  vc.rx = s.rx;
  vc.code = prog->code;
  vc.code_len = prog->ncode;
  double mb = (double)g_lines.bytes * (double)s.n / 1e6;
  printf("bench_regex: %zu distinct corpus patterns, %zu lowered and JIT-compiled\n", distinct, s.n);
  printf("lines: %zu (%.2f MB; %zu lines / %.2f MB from /etc, the rest synthetic)\n", g_lines.n,
         (double)g_lines.bytes / 1e6, etc_lines, (double)etc_bytes / 1e6);
  printf("work per run: %zu x %zu = %.1f M matches, %.1f MB of subject; %d repeats, medians below\n", s.n,
         g_lines.n, (double)s.n * (double)g_lines.n / 1e6, mb, repeats);

  double *tr = calloc((size_t)repeats, sizeof *tr), *tb = calloc((size_t)repeats, sizeof *tb);
  double *tn = calloc((size_t)repeats, sizeof *tn), *tv = calloc((size_t)repeats, sizeof *tv);
  long hr = 0, hb = 0, hn = 0, hv = 0;
  for (int k = 0; k < repeats; k++) { /* interleaved, alternating order, so drift hits both alike */
    for (int third = 0; third < 3; third++) {
      double t0 = bench_now();
      int which = (k + third) % 3;
      if (which == 0) {
        hr = run_rx(s.rx, s.n);
        tr[k] = bench_now() - t0;
      } else if (which == 1) {
        hb = run_bare(s.code, s.n, md);
        tb[k] = bench_now() - t0;
      } else {
        hv = run_vm(&vc, s.n);
        tv[k] = bench_now() - t0;
      }
    }
  }
  int nrep = repeats < NATIVE_REPEATS ? repeats : NATIVE_REPEATS;
  for (int k = 0; k < nrep; k++) {
    double t0 = bench_now();
    hn = run_rx(s.native, s.n);
    tn[k] = bench_now() - t0;
  }
  double mr = bench_median(tr, repeats), mbare = bench_median(tb, repeats), mn = bench_median(tn, nrep), mv = bench_median(tv, repeats);
  printf("rx_match (pcre2-jit): %8.3f s  %9.1f MB/s  %ld matches\n", mr, mb / mr, hr);
  printf("VM matcher (MREGEX):  %8.3f s  %9.1f MB/s  %ld matches\n", mv, mb / mv, hv);
  printf("bare pcre2_jit_match: %8.3f s  %9.1f MB/s  %ld matches\n", mbare, mb / mbare, hb);
  printf("native OS_Regex:      %8.3f s  %9.1f MB/s  %ld matches  (median of %d)\n", mn, mb / mn, hn, nrep);
  printf("ratio VM matcher/bare (throughput): %.3f  (target >= 0.8)\n", mbare / mv);
  printf("ratio rx_match/bare (throughput):   %.3f\n", mbare / mr);
  printf("speed-up of lowering over native: %.1fx\n", mn / mr);
  int ok = hr == hb && hr == hn && hr == hv;
  if (!ok) printf("MISMATCH: engines disagree on the number of matches\n");
  for (size_t i = 0; i < s.n; i++) {
    rx_free(s.rx[i]);
    rx_free(s.native[i]);
    pcre2_code_free(s.code[i]);
  }
  pcre2_match_data_free(md);
  return ok ? 0 : 1;
}
