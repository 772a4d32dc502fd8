/* cmd_test.c — `tenet test POLICY [TESTFILE]`: offline, deterministic policy tests.
 *
 * Each case of the test file (ptest.h) is one scan of the policy with every f:/d: path resolved
 * inside the case's fixture root (fs.h), commands answered from the case's canned outputs and
 * processes from its list (providers of the per-scan cache, cache.h). The results are compared
 * with the expected ones and every difference printed (expected vs got, with reasons); exit 1 on
 * any difference or error. A command or process list a check asks for and the case lacks is an
 * error naming the check, never a silent "not applicable". --update rewrites the expected results. */
#include <getopt.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cache.h"
#include "checkid.h"
#include "cli.h"
#include "cli_opt.h"
#include "err.h"
#include "fs.h"
#include "load.h"
#include "ptest.h"
#include "scan.h"

/* What a case answers for, and what it was asked for and lacked. */
typedef struct provider {
  const ptest_case *c;
  pthread_mutex_t mu;
  char **missing; /* commands asked for without canned output (owned) */
  size_t nmissing;
  int processes_missing;
} provider;

static int canned_command(void *arg, const char *cmd, int timeout_s, size_t output_cap, runner_result *out,
                          char **reason) {
  provider *pv = arg;
  (void)timeout_s;
  for (size_t i = 0; i < pv->c->ncommands; i++) {
    const ptest_command *pc = &pv->c->commands[i];
    if (strcmp(pc->cmd, cmd) != 0) continue;
    size_t n = pc->output_len;
    memset(out, 0, sizeof *out);
    if (output_cap && n > output_cap) {
      n = output_cap;
      out->truncated = 1;
    }
    if (!(out->output = malloc(n + 1))) return TN_ENOMEM;
    memcpy(out->output, pc->output, n);
    out->output[n] = '\0';
    out->output_len = n;
    out->exit_code = pc->status;
    return TN_OK;
  }
  pthread_mutex_lock(&pv->mu);
  char **m = realloc(pv->missing, (pv->nmissing + 1) * sizeof *m);
  if (m) {
    pv->missing = m;
    if ((m[pv->nmissing] = strdup(cmd))) pv->nmissing++;
  }
  pthread_mutex_unlock(&pv->mu);
  size_t len = strlen(cmd) + strlen(pv->c->name) + 64;
  if ((*reason = malloc(len))) snprintf(*reason, len, "no canned output for command '%s' in test case '%s'", cmd, pv->c->name);
  return TN_ENOTFOUND;
}

static int canned_processes(void *arg, proclist **out, char **reason) {
  provider *pv = arg;
  if (!pv->c->has_processes) {
    pthread_mutex_lock(&pv->mu);
    pv->processes_missing = 1;
    pthread_mutex_unlock(&pv->mu);
    size_t len = strlen(pv->c->name) + 64;
    if ((*reason = malloc(len))) snprintf(*reason, len, "no process list in test case '%s'", pv->c->name);
    return TN_ENOTFOUND;
  }
  proclist *p = calloc(1, sizeof *p);
  size_t n = pv->c->nprocesses;
  if (!p || !(p->name = calloc(n + 1, sizeof *p->name)) || !(p->pid = calloc(n + 1, sizeof *p->pid))) {
    proclist_free(p);
    return TN_ENOMEM;
  }
  for (size_t i = 0; i < n; i++) {
    if (!(p->name[i] = strdup(pv->c->processes[i]))) {
      proclist_free(p);
      return TN_ENOMEM;
    }
    p->pid[i] = (int)i + 1;
    p->n++;
  }
  *out = p;
  return TN_OK;
}

static void help(FILE *out) {
  fprintf(out,
          "usage: tenet test [options] POLICY.yml|BUNDLE [TESTFILE]\n"
          "  Run the policy against the fixture cases of TESTFILE (default: POLICY with .yml replaced\n"
          "  by .test.yml) and print every check whose result differs from the expected one.\n"
          "  -u, --update     rewrite the expected results in TESTFILE with the results got\n"
          "  -c, --case NAME  run only this case\n"
          "  -j, --jobs N     worker threads (default: one per core)\n"
          "  -q, --quiet      print only differences and errors\n");
}

/* Print every check using opcode op (with command text cmd, when not NULL): the checks a missing
 * canned answer affects. */
static int name_checks(const program *p, const char *tf, const char *cname, int op, const char *cmd) {
  int named = 0;
  for (uint32_t i = 0; i < p->nchecks; i++) {
    const prog_check *ck = &p->checks[i];
    for (uint32_t k = ck->code; k < ck->code + ck->code_len && k < p->ncode; k++) {
      if (p->code[k].op != op || (cmd && strcmp(program_str(p, p->code[k].a), cmd) != 0)) continue;
      char idb[CHECKID_BUF];
      const char *id = checkid_show(ck->id, program_check_text_id(p, ck), idb);
      if (cmd)
        fprintf(stderr, "%s: error: case '%s': check %s runs command '%s', which has no canned output (add it under 'commands:')\n",
                tf, cname, id, cmd);
      else
        fprintf(stderr, "%s: error: case '%s': check %s has a process rule, and the case has no 'processes:' list\n",
                tf, cname, id);
      named = 1;
      break;
    }
  }
  if (!named)
    fprintf(stderr, "%s: error: case '%s': the policy's requirements %s, which the case does not answer\n", tf, cname,
            cmd ? "run a command" : "have a process rule");
  if (!named && cmd) fprintf(stderr, "  (command '%s')\n", cmd);
  return 1;
}

static void print_result(const char *label, int result, const char *reason) {
  printf("      %s %s", label, scan_result_name(result));
  if (result == EV_INVALID && reason) printf(" (reason: %s)", reason);
  putchar('\n');
}

/* Compare one case's results with its expectations; print the differences. Returns the number of
 * differences. */
static int compare(const program *p, const char *tf, const ptest_case *c, const policy_scan *s, int quiet) {
  int diffs = 0;
  size_t unlisted = 0;
  if (s->status != SCAN_DONE) {
    if (c->skipped) {
      if (!quiet) printf("%s: case '%s': policy skipped as expected (%s)\n", tf, c->name, s->message ? s->message : "");
      return 0;
    }
    printf("%s: case '%s': the policy did not run: %s\n", tf, c->name, s->message ? s->message : "skipped");
    return 1;
  }
  if (c->skipped) {
    printf("%s: case '%s': expected the policy to be skipped (requirements unmet), but it ran\n", tf, c->name);
    return 1;
  }
  for (size_t i = 0; i < c->nexpect; i++) {
    const ptest_expect *e = &c->expect[i];
    char idb[CHECKID_BUF];
    const char *eid = checkid_show(e->id, e->text, idb);
    const check_result *got = NULL;
    for (size_t k = 0; k < s->nchecks && !got; k++)
      if (s->checks[k].id == e->id) got = &s->checks[k];
    if (!got) {
      if (!diffs++) printf("%s: case '%s':\n", tf, c->name);
      printf("  %s:%u: check %s is expected but the policy has no such check\n", tf, e->line, eid);
      continue;
    }
    int same = got->result == e->result &&
               (e->result != EV_INVALID || !e->reason || (got->reason && strcmp(got->reason, e->reason) == 0));
    if (same) continue;
    if (!diffs++) printf("%s: case '%s':\n", tf, c->name);
    long idx = program_find_check(p, e->id);
    printf("  %s  %s  (%s:%u)\n", eid, idx >= 0 ? program_str(p, p->checks[idx].title) : "", tf, e->line);
    print_result("expected:", e->result, e->reason);
    print_result("got:     ", got->result, got->reason);
  }
  for (size_t k = 0; k < s->nchecks; k++) {
    int listed = 0;
    for (size_t i = 0; i < c->nexpect && !listed; i++)
      listed = c->expect[i].id == s->checks[k].id;
    unlisted += !listed;
  }
  if (diffs)
    printf("%s: case '%s': %d of %zu expectations differ\n", tf, c->name, diffs, c->nexpect);
  else if (!quiet)
    printf("%s: case '%s': %zu checks as expected (%d passed, %d failed, %d not applicable)\n", tf, c->name,
           c->nexpect, s->passed, s->failed, s->invalid);
  if (unlisted && !quiet)
    printf("%s: case '%s': %zu checks have no expectation (`tenet test --update` writes them)\n", tf, c->name, unlisted);
  return diffs;
}

/* Run one case: the scan inside its root with its providers. Returns TN_OK (out filled) or an
 * error printed. *errors counts missing canned answers. */
static int run_case(const vm_image *img, const program *p, const char *tf, const ptest_case *c, int jobs,
                    policy_scan *out, int *errors) {
  char err[512];
  struct stat st;
  if (stat(c->root, &st) != 0 || !S_ISDIR(st.st_mode)) {
    fprintf(stderr, "%s: error: case '%s': root '%s' is not a directory\n", tf, c->name, c->root);
    return TN_EIO;
  }
  if (fs_root_set(c->root, FS_RESOLVE_AUTO, err, sizeof err) != TN_OK) {
    fprintf(stderr, "%s: error: case '%s': %s\n", tf, c->name, err);
    return TN_EIO;
  }
  provider pv = {.c = c};
  pthread_mutex_init(&pv.mu, NULL);
  scan_cache *cache = scan_cache_new(1);
  int rc = TN_ENOMEM;
  if (cache) {
    scan_cache_set_command_provider(cache, canned_command, &pv);
    scan_cache_set_processes_provider(cache, canned_processes, &pv);
    scan_options so = {.jobs = jobs, .eval = EVAL_OPTIONS_DEFAULT, .scan_id = 0};
    rc = scan_run(img, NULL, cache, &so, out);
  }
  fs_root_set(NULL, 0, NULL, 0);
  scan_cache_free(cache);
  for (size_t i = 0; i < pv.nmissing; i++) {
    *errors += name_checks(p, tf, c->name, OP_CMD, pv.missing[i]);
    free(pv.missing[i]);
  }
  free(pv.missing);
  if (pv.processes_missing) *errors += name_checks(p, tf, c->name, OP_PROC, NULL);
  pthread_mutex_destroy(&pv.mu);
  if (rc != TN_OK) fprintf(stderr, "%s: error: case '%s': %s\n", tf, c->name, tn_strerror(rc));
  return rc;
}

/* The default test file: POLICY.yml -> POLICY.test.yml (a bundle: POLICY.tnb -> POLICY.test.yml). */
static char *default_testfile(const char *policy) {
  const char *dot = strrchr(policy, '.'), *slash = strrchr(policy, '/');
  size_t stem = dot && (!slash || dot > slash) ? (size_t)(dot - policy) : strlen(policy);
  char *s = malloc(stem + 10);
  if (s) snprintf(s, stem + 10, "%.*s.test.yml", (int)stem, policy);
  return s;
}

int cmd_test(int argc, char **argv) {
  static const struct option opts[] = {{"update", no_argument, 0, 'u'}, {"case", required_argument, 0, 'c'},
                                       {"jobs", required_argument, 0, 'j'}, {"quiet", no_argument, 0, 'q'},
                                       {"help", no_argument, 0, 'h'},     {0, 0, 0, 0}};
  int update = 0, jobs = 0, quiet = 0, o;
  const char *only = NULL;
  optind = 1;
  opterr = 0; /* unknown options are reported by cli_getopt_error, with a suggestion */
  while ((o = getopt_long(argc, argv, "uc:j:qh", opts, NULL)) != -1) {
    char *end;
    switch (o) {
    case 'u': update = 1; break;
    case 'c': only = optarg; break;
    case 'q': quiet = 1; break;
    case 'j':
      jobs = (int)strtol(optarg, &end, 10);
      if (*end || jobs < 1 || jobs > 256) {
        fprintf(stderr, "tenet test: --jobs takes a number from 1 to 256\n");
        return 2;
      }
      break;
    case 'h': help(stdout); return 0;
    default: return cli_getopt_error("tenet test", opts, argv);
    }
  }
  if (optind >= argc || argc - optind > 2) {
    help(stderr);
    return 2;
  }
  const char *policy = argv[optind];
  char *tf = argc - optind == 2 ? strdup(argv[optind + 1]) : default_testfile(policy);
  diag_list *diags = diag_list_new();
  ptest_file *f = tf && diags ? ptest_load(tf, diags) : NULL;
  if (!f) {
    diag_print(diags, stderr, cli_use_color(stderr));
    fprintf(stderr, "tenet test: %s: the test file has errors\n", tf ? tf : "?");
    diag_list_free(diags);
    free(tf);
    return 1;
  }
  diag_list_free(diags);
  /* the policy: compiled in memory (YAML) or read (a bundle: no signature needed, nothing runs on a host) */
  load_options lo = {.allow_unsigned = 1};
  loaded_policy lp;
  char err[512];
  diags = diag_list_new();
  int rc = load_policy(policy, &lo, &lp, diags, err, sizeof err);
  if (rc != TN_OK) {
    diag_print(diags, stderr, cli_use_color(stderr));
    fprintf(stderr, "tenet test: %s\n", err);
    diag_list_free(diags);
    ptest_free(f);
    free(tf);
    return 1;
  }
  diag_list_free(diags);
  vm_image *img = vm_image_load(lp.prog, err, sizeof err);
  if (!img) {
    fprintf(stderr, "tenet test: %s: %s\n", policy, err);
    loaded_policy_free(&lp);
    ptest_free(f);
    free(tf);
    return 1;
  }
  size_t ncases;
  const ptest_case *cases = ptest_cases(f, &ncases);
  policy_scan *scans = calloc(ncases, sizeof *scans);
  ptest_observed **obs = calloc(ncases, sizeof *obs);
  size_t *nobs = calloc(ncases, sizeof *nobs);
  int errors = 0, diffs = 0, ran = 0, passed = 0;
  int oom = !scans || !obs || !nobs;
  if (oom) {
    fprintf(stderr, "tenet test: out of memory\n");
    errors++;
  }
  for (size_t i = 0; !oom && i < ncases; i++) {
    if (only && strcmp(cases[i].name, only) != 0) continue;
    ran++;
    int before = errors;
    if (run_case(img, lp.prog, tf, &cases[i], jobs, &scans[i], &errors) != TN_OK) {
      errors++;
      continue;
    }
    int d = compare(lp.prog, tf, &cases[i], &scans[i], quiet) != 0;
    diffs += d;
    passed += !d && errors == before;
    if (scans[i].status == SCAN_DONE && (obs[i] = calloc(scans[i].nchecks + 1, sizeof **obs))) {
      for (size_t k = 0; k < scans[i].nchecks; k++)
        obs[i][k] = (ptest_observed){scans[i].checks[k].id, scans[i].checks[k].id_text,
                                     scans[i].checks[k].result, scans[i].checks[k].reason};
      nobs[i] = scans[i].nchecks;
    }
  }
  if (only && !ran) {
    fprintf(stderr, "tenet test: %s has no case named '%s'\n", tf, only);
    errors++;
  }
  int status = errors || diffs ? 1 : 0;
  if (update && only && !errors) {
    fprintf(stderr, "tenet test: --update rewrites every case: run it without --case\n");
    status = 2;
  } else if (update && errors) {
    fprintf(stderr, "tenet test: %s not updated: fix the errors above first\n", tf);
  } else if (update) {
    rc = ptest_update(f, (const ptest_observed *const *)obs, nobs, err, sizeof err);
    if (rc != TN_OK) {
      fprintf(stderr, "tenet test: %s\n", err);
      status = 1;
    } else {
      printf("%s: expected results rewritten for %zu cases: review the diff\n", tf, ncases);
      status = 0;
    }
  } else if (!quiet || status) {
    printf("%s: %d of %d cases pass%s\n", tf, passed, ran, errors ? " (errors above)" : "");
  }
  for (size_t i = 0; i < ncases; i++) {
    if (scans) policy_scan_free(&scans[i]);
    if (obs) free(obs[i]);
  }
  free(scans);
  free(obs);
  free(nobs);
  vm_image_free(img);
  loaded_policy_free(&lp);
  ptest_free(f);
  free(tf);
  return status;
}
