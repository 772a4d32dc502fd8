/* test_report.c — the report module (vm/report.h) and the structured check results it renders:
 * the format table, each format through the table, the metadata fields of a scanned check (titles
 * with quotes, newlines and non-ASCII), and, over the whole policy corpus, the fields equal to what
 * the Wazuh events splice from the pre-rendered metadata. */

#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "err.h"
#include "load.h"
#include "report.h"
#include "scan.h"
#include "strbuf.h"
#include "corpus.h"
#include "test.h"

static char dir[] = "/tmp/tenet-report-XXXXXX";
static char path[PATH_MAX];

/* Check 1 (fails): every metadata member, title with a quote, a newline, é and ✓.
 * Check 2 passes; check 3 is not applicable (a path through a regular file). */
static const char policy_yml[] = "policy:\n"
                                 "  id: \"rep\"\n"
                                 "  file: \"rep.yml\"\n"
                                 "  name: \"Report \\\"test\\\"\"\n"
                                 "  description: \"structured results\"\n"
                                 "variables:\n"
                                 "  $r: \"@ROOT@\"\n"
                                 "checks:\n"
                                 "  - id: 1\n"
                                 "    title: \"Quote \\\" and\\nnewline \\u00e9 \\u2713\"\n"
                                 "    description: \"d\\tx\"\n"
                                 "    rationale: \"why\"\n"
                                 "    remediation: \"fix it\"\n"
                                 "    compliance:\n"
                                 "      - cis: [\"1.1\", \"1.2\"]\n"
                                 "      - pci_dss: [\"2.2\"]\n"
                                 "    references:\n"
                                 "      - https://a\n"
                                 "      - https://b\n"
                                 "    condition: all\n"
                                 "    rules:\n"
                                 "      - 'f:$r/absent'\n"
                                 "  - id: 2\n"
                                 "    title: \"Plain\"\n"
                                 "    condition: any\n"
                                 "    rules: ['f:$r/present']\n"
                                 "  - id: 3\n"
                                 "    title: \"Through a file\"\n"
                                 "    condition: all\n"
                                 "    rules: ['f:$r/present/sub']\n";

typedef struct run {
  loaded_policy lp;
  vm_image *img;
  policy_scan scan;
} run;

static void run_policy(run *r) {
  memset(r, 0, sizeof *r);
  char err[512];
  load_options lo = {0};
  REQUIRE(load_policy(path, &lo, &r->lp, NULL, err, sizeof err) == TN_OK);
  REQUIRE((r->img = vm_image_load(r->lp.prog, err, sizeof err)));
  scan_options so = {.jobs = 2, .eval = EVAL_OPTIONS_DEFAULT, .scan_id = 77};
  REQUIRE(scan_run(r->img, NULL, NULL, &so, &r->scan) == TN_OK);
  REQUIRE(r->scan.status == SCAN_DONE && r->scan.nchecks == 3);
}

static void run_free(run *r) {
  policy_scan_free(&r->scan);
  vm_image_free(r->img);
  loaded_policy_free(&r->lp);
}

/* The report of scans in format name, as a malloc'd string. */
static char *render(const char *name, const policy_scan *scans, size_t n, int *rc) {
  char *buf = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&buf, &len);
  if (!f) return NULL;
  report_options ro = {.out = f, .color = 0, .seconds = 0};
  *rc = report_write(report_format_find(name), &ro, scans, n);
  fclose(f);
  return buf;
}

static void test_format_table(void) {
  CHECK(report_format_count() >= 2);
  CHECK(report_format_find("jsonl") != NULL);
  CHECK(report_format_find("text") != NULL);
  CHECK(report_format_find("xml") == NULL);
  CHECK(report_format_find(NULL) == NULL);
  CHECK(report_format_at(report_format_count()) == NULL);
  for (size_t i = 0; i < report_format_count(); i++) {
    const report_format *f = report_format_at(i);
    CHECK(f->name && *f->name && f->description && *f->description);
    CHECK(f->begin && f->policy && f->check && f->summary && f->end);
    CHECK(report_format_find(f->name) == f); /* names are unique */
  }
}

static void test_structured_fields(void) {
  run r;
  run_policy(&r);
  const check_result *c = &r.scan.checks[0];
  CHECK_INT(c->id, 1);
  CHECK_INT(c->result, EV_NOT_FOUND);
  prog_check_meta m;
  CHECK_INT(scan_check_meta(&r.scan, c, &m), 0);
  CHECK_STR(m.title, "Quote \" and\nnewline \xc3\xa9 \xe2\x9c\x93");
  CHECK_STR(m.description, "d\tx");
  CHECK_STR(m.rationale, "why");
  CHECK_STR(m.remediation, "fix it");
  CHECK_STR(m.references, "https://a,https://b");
  CHECK_STR(m.condition, "all");
  REQUIRE(m.has_compliance && m.ncompliance == 2);
  CHECK_STR(program_str(r.scan.prog, m.compliance[0]), "cis");
  CHECK_STR(program_str(r.scan.prog, m.compliance[1]), "1.1,1.2");
  CHECK_STR(program_str(r.scan.prog, m.compliance[2]), "pci_dss");
  CHECK_STR(program_str(r.scan.prog, m.compliance[3]), "2.2");
  REQUIRE(m.nrules == 1);
  CHECK_STR(program_str(r.scan.prog, m.rules[0]),
            "f:$r/absent"); /* as written: 4.x substitutes in code only */
  char want[PATH_MAX + 16];
  snprintf(want, sizeof want, "%s/absent", dir);
  CHECK_STR(c->loc[LOC_FILE], want); /* the evidence, per kind */
  CHECK(c->loc[LOC_COMMAND] == NULL);

  /* a check without the optional members */
  CHECK_INT(scan_check_meta(&r.scan, &r.scan.checks[1], &m), 0);
  CHECK_STR(m.title, "Plain");
  CHECK(!m.description && !m.rationale && !m.remediation && !m.references && !m.has_compliance);

  /* not applicable: the reason is a field too */
  CHECK_INT(r.scan.checks[2].result, EV_INVALID);
  CHECK(r.scan.checks[2].reason && strstr(r.scan.checks[2].reason, "Not a directory"));

  /* a result that does not belong to the scan's program has no metadata */
  check_result bogus = {.id = 99, .index = 0};
  CHECK_INT(scan_check_meta(&r.scan, &bogus, &m), -1);
  CHECK_STR(m.title, "");
  run_free(&r);
}

static void test_jsonl(void) {
  run r;
  run_policy(&r);
  int rc;
  char *out = render("jsonl", &r.scan, 1, &rc);
  REQUIRE(out);
  CHECK_INT(rc, TN_OK);
  strbuf want = STRBUF_INIT;
  for (size_t i = 0; i < r.scan.nchecks; i++) {
    strbuf_puts(&want, r.scan.checks[i].event);
    strbuf_putc(&want, '\n');
  }
  strbuf_puts(&want, r.scan.summary);
  strbuf_putc(&want, '\n');
  CHECK_STR(out, want.data);
  /* the title as the Wazuh event escapes it (cJSON: \" and \n escaped, UTF-8 kept) */
  CHECK(strstr(out, "\"check\":{\"id\":1,\"title\":\"Quote \\\" and\\nnewline \xc3\xa9 \xe2\x9c\x93\","
                    "\"description\":\"d\\tx\",\"rationale\":\"why\",\"remediation\":\"fix it\","
                    "\"compliance\":{\"cis\":\"1.1,1.2\",\"pci_dss\":\"2.2\"},\"rules\":[") != NULL);
  CHECK(strstr(out, "\"id\":77,\"policy\":\"Report \\\"test\\\"\"") != NULL);
  strbuf_free(&want);
  free(out);
  run_free(&r);
}

static void test_text(void) {
  run r;
  run_policy(&r);
  int rc;
  char *out = render("text", &r.scan, 1, &rc);
  REQUIRE(out);
  CHECK_INT(rc, TN_OK);
  char want[4096];
  snprintf(
      want, sizeof want,
      "rep  Report \"test\"\n"
      "  FAIL  1       Quote \" and\nnewline \xc3\xa9 \xe2\x9c\x93\n"
      "  N/A   3       Through a file\n"
      "                reason: %s\n"
      "  1 passed, 1 failed, 1 not applicable \xe2\x80\x94 score 50.0%% (3 checks; scan took 0.00 s)\n\n",
      r.scan.checks[2].reason);
  CHECK_STR(out, want);
  free(out);

  /* several policies: one line for the run */
  policy_scan two[2] = {r.scan, r.scan};
  out = render("text", two, 2, &rc);
  REQUIRE(out);
  CHECK(strstr(out, "2 policies scanned together in 0.00 s (") != NULL);
  free(out);
  run_free(&r);
}

/* 5.x: a not-run check (NRUN, counted apart) and newline-joined reasons, one indented line each. */
static void test_text5(void) {
  run r;
  memset(&r, 0, sizeof r);
  char err[512];
  load_options lo = {0};
  lo.dialect = DIALECT_WAZUH5;
  REQUIRE(load_policy(path, &lo, &r.lp, NULL, err, sizeof err) == TN_OK);
  REQUIRE((r.img = vm_image_load(r.lp.prog, err, sizeof err)));
  scan_options so = {.jobs = 1, .eval = EVAL_OPTIONS_DEFAULT, .scan_id = 78};
  REQUIRE(scan_run(r.img, NULL, NULL, &so, &r.scan) == TN_OK);
  REQUIRE(r.scan.nchecks == 3);
  /* shape the results as a 5.x scan with a timeout would leave them */
  check_result *c = r.scan.checks;
  free(c[0].reason);
  c[0].result = EV_INVALID;
  c[0].reason = strdup("File '/a' does not exist or is not a regular file\nPath '/b' does not exist");
  c[1].result = EV_NOT_RUN;
  c[2].result = EV_FOUND;
  r.scan.passed = 1, r.scan.failed = 0, r.scan.invalid = 1, r.scan.not_run = 1, r.scan.score = 100;
  int rc;
  char *out = render("text", &r.scan, 1, &rc);
  REQUIRE(out);
  CHECK_INT(rc, TN_OK);
  CHECK_STR(out, "rep  Report \"test\"\n"
                 "  N/A   1       Quote \" and\nnewline \xc3\xa9 \xe2\x9c\x93\n"
                 "                reason: File '/a' does not exist or is not a regular file\n"
                 "                        Path '/b' does not exist\n"
                 "  NRUN  2       Plain\n"
                 "  1 passed, 0 failed, 1 not applicable, 1 not run \xe2\x80\x94 score 100.0% (3 checks; scan took "
                 "0.00 s)\n\n");
  free(out);
  run_free(&r);
}

/* Every format of the table renders a scan, and skips a policy that did not run. */
static void test_every_format(void) {
  run r;
  run_policy(&r);
  policy_scan skipped = {.status = SCAN_REQUIREMENTS_UNMET};
  for (size_t i = 0; i < report_format_count(); i++) {
    const char *name = report_format_at(i)->name;
    int rc;
    char *out = render(name, &r.scan, 1, &rc);
    REQUIRE(out);
    CHECK_INT(rc, TN_OK);
    if (strlen(out) == 0) fprintf(stderr, "format %s printed nothing\n", name);
    CHECK(strlen(out) > 0);
    free(out);
    policy_scan both[2] = {skipped, r.scan};
    char *out2 = render(name, both, 2, &rc);
    REQUIRE(out2);
    CHECK_INT(rc, TN_OK);
    free(out2);
  }
  run_free(&r);
}

/* 5.x text ids: every format shows the id as the policy writes it (escaped for its syntax); JSON
 * formats give it as a string, integer ids stay numbers. */
static void test_text_ids_every_format(void) {
  char p5[PATH_MAX + 16];
  snprintf(p5, sizeof p5, "%s/ids.yml", dir);
  FILE *f = fopen(p5, "w");
  REQUIRE(f);
  fprintf(f, "policy: {id: \"ids\", file: \"ids.yml\", name: \"n\", description: \"d\"}\n"
             "checks:\n"
             "  - {id: \"s<5>\", name: \"text\", condition: all, rules: ['f:%s/absent']}\n"
             "  - {id: 7, name: \"int\", condition: all, rules: ['f:%s/absent']}\n",
          dir, dir);
  fclose(f);
  run r;
  memset(&r, 0, sizeof r);
  char err[512];
  load_options lo = {0};
  REQUIRE(load_policy(p5, &lo, &r.lp, NULL, err, sizeof err) == TN_OK);
  REQUIRE((r.img = vm_image_load(r.lp.prog, err, sizeof err)));
  scan_options so = {.jobs = 1, .eval = EVAL_OPTIONS_DEFAULT, .scan_id = 77};
  REQUIRE(scan_run(r.img, NULL, NULL, &so, &r.scan) == TN_OK);
  REQUIRE(r.scan.nchecks == 2);
  CHECK(r.scan.checks[0].id == 7 && r.scan.checks[0].id_text == NULL); /* key order */
  CHECK_STR(r.scan.checks[1].id_text, "s<5>");
  static const struct {
    const char *format, *want[3];
  } cases[] = {
      {"text", {"  FAIL  s<5>    text\n", "  FAIL  7       int\n"}},
      {"jsonl", {"\"check\":{\"id\":\"s<5>\",\"title\":\"text\"", "\"check\":{\"id\":7,"}},
      {"json", {"{\"id\":\"s<5>\",\"title\":\"text\"", "{\"id\":7,\"title\":\"int\""}},
      {"csv", {"ids,s<5>,text,failed", "ids,7,int,failed"}},
      {"junit", {"name=\"s&lt;5&gt;: text\"", "name=\"7: int\""}},
      {"sarif", {"\"ids/s<5>\"", "\"check_id\":\"s<5>\"", "Check s<5> of policy ids failed: text"}},
      {"html", {"id=\"ids-s&lt;5&gt;\"", "<td>s&lt;5&gt;</td>", "<td>7</td>"}},
  };
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    int rc;
    char *out = render(cases[i].format, &r.scan, 1, &rc);
    REQUIRE(out);
    CHECK_INT(rc, TN_OK);
    for (int k = 0; k < 3 && cases[i].want[k]; k++)
      if (!strstr(out, cases[i].want[k])) {
        fprintf(stderr, "format %s: no '%s' in:\n%s\n", cases[i].format, cases[i].want[k], out);
        CHECK(0);
      }
    free(out);
  }
  run_free(&r);
}

/* ---- over the corpus: fields == the spliced metadata ---- */

static size_t compared, policies;
static int forced_dialect; /* 0: the policy's own; 4 or 5: load every policy under that dialect */

/* The members the Wazuh event splices (meta.c), rendered from the fields, after "id". */
static void render_members(const program *p, const prog_check *chk, strbuf *b) {
  prog_check_meta m;
  program_check_meta(p, chk, &m);
  strbuf_puts(b, ",\"title\":");
  strbuf_json_str(b, m.title);
  const char *opt[][2] = {
      {"description", m.description}, {"rationale", m.rationale}, {"remediation", m.remediation}};
  for (size_t i = 0; i < 3; i++)
    if (opt[i][1]) {
      strbuf_printf(b, ",\"%s\":", opt[i][0]);
      strbuf_json_str(b, opt[i][1]);
    }
  if (m.has_compliance) {
    strbuf_puts(b, ",\"compliance\":{");
    for (uint32_t i = 0; i < m.ncompliance; i++) {
      if (i) strbuf_putc(b, ',');
      strbuf_json_str(b, program_str(p, m.compliance[2 * i]));
      strbuf_putc(b, ':');
      strbuf_json_str(b, program_str(p, m.compliance[2 * i + 1]));
    }
    strbuf_putc(b, '}');
  }
  strbuf_puts(b, ",\"rules\":[");
  for (uint32_t i = 0; i < m.nrules; i++) {
    if (i) strbuf_putc(b, ',');
    strbuf_json_str(b, program_str(p, m.rules[i]));
  }
  strbuf_puts(b, "],\"condition\":");
  strbuf_json_str(b, m.condition ? m.condition : "");
  if (m.references) {
    strbuf_puts(b, ",\"references\":");
    strbuf_json_str(b, m.references);
  }
}

static int compare_policy(const char *fpath, const struct stat *st, int flag, struct FTW *ftw) {
  (void)st;
  (void)ftw;
  size_t n = strlen(fpath);
  if (flag != FTW_F || n < 4 || strcmp(fpath + n - 4, ".yml") != 0) return 0;
  loaded_policy lp;
  char err[512];
  load_options lo = {.dialect = forced_dialect};
  if (load_policy(fpath, &lo, &lp, NULL, err, sizeof err) != TN_OK) return 0; /* not every file compiles */
  policies++;
  const program *p = lp.prog;
  for (uint32_t i = 0; i < p->nchecks; i++) {
    const char *meta = program_str(p, p->checks[i].meta);
    const char *after_id =
        meta[5] == '"' ? strstr(meta + 6, "\",") + 1 : strchr(meta, ','); /* "id":"x" or "id":N */
    strbuf b = STRBUF_INIT;
    render_members(p, &p->checks[i], &b);
    if (!after_id || strcmp(after_id, b.data) != 0) {
      fprintf(stderr, "%s check %lld:\n  spliced: %s\n  fields:  %s\n", fpath, (long long)p->checks[i].id,
              after_id ? after_id : meta, b.data);
      CHECK(0);
    }
    compared++;
    strbuf_free(&b);
  }
  loaded_policy_free(&lp);
  return 0;
}

/* Each policy under its own dialect, then under 4.x (5.x map-shaped compliance renders as {}) and
 * under 5.x (variables substituted in every member). */
static char corpus[PATH_MAX]; /* SHARED/corpus (tests/corpus.h) */
static void test_fields_match_splice_on_corpus(void) {
  static const int dialects[] = {0, DIALECT_WAZUH4, DIALECT_WAZUH5};
  for (size_t d = 0; d < sizeof dialects / sizeof *dialects; d++) {
    forced_dialect = dialects[d];
    compared = policies = 0;
    REQUIRE(nftw(corpus, compare_policy, 16, FTW_PHYS) == 0);
    printf("dialect %d: structured fields equal the spliced metadata: %zu checks of %zu policies\n",
           forced_dialect, compared, policies);
    CHECK(policies > 10 && compared > 1000);
  }
}

/* The policy above in a fresh directory, with the file its checks look at. */
static void setup(void) {
  REQUIRE(mkdtemp(dir) != NULL);
  snprintf(path, sizeof path, "%s/present", dir);
  FILE *f = fopen(path, "w");
  REQUIRE(f && fputs("x\n", f) >= 0 && fclose(f) == 0);
  snprintf(path, sizeof path, "%s/rep.yml", dir);
  REQUIRE((f = fopen(path, "w")));
  for (const char *s = policy_yml; *s; s++) {
    if (strncmp(s, "@ROOT@", 6) == 0) {
      fputs(dir, f);
      s += 5;
    } else {
      fputc(*s, f);
    }
  }
  REQUIRE(fclose(f) == 0);
}

int main(int argc, char **argv) {
  if (test_corpus_wanted(argc, argv)) { /* corpus/test_report: skipped without the corpus */
    if (!test_corpus_dir("", corpus, sizeof corpus)) return TEST_SKIP;
    RUN(test_fields_match_splice_on_corpus);
    return test_report();
  }
  RUN(setup);
  RUN(test_format_table);
  RUN(test_structured_fields);
  RUN(test_jsonl);
  RUN(test_text);
  RUN(test_text5);
  RUN(test_every_format);
  RUN(test_text_ids_every_format);
  test_rm_rf(dir);
  return test_report();
}
