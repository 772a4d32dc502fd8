/* test_report_formats.c — the report formats through the report API over a real scan of the
 * fixture policy (fixture/report-fixture.yml on the file tree fixture/root): waivers (an active
 * one on failed check 1002, an expired one on failed check 1004) in every format, pinned by golden
 * files golden/waived.<format> (TENET_UPDATE=1 rewrites them) and jsonl unchanged by them; the counts
 * the gate uses; XML escaping of hostile text; and the baseline reader on hostile input. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "baseline.h"
#include "err.h"
#include "event.h"
#include "load.h"
#include "report.h"
#include "scan.h"
#include "scanroot.h"
#include "strbuf.h"
#include "test.h"

static char src[PATH_MAX];

typedef struct run {
  loaded_policy lp;
  vm_image *img;
  policy_scan scan;
} run;

static void run_fixture(run *r) {
  memset(r, 0, sizeof *r);
  char err[512], path[PATH_MAX + 64], root[PATH_MAX + 64];
  snprintf(path, sizeof path, "%s/tests/report/fixture/report-fixture.yml", src);
  snprintf(root, sizeof root, "%s/tests/report/fixture/root", src);
  load_options lo = {0};
  REQUIRE(load_policy(path, &lo, &r->lp, NULL, err, sizeof err) == TN_OK);
  REQUIRE((r->img = vm_image_load(r->lp.prog, err, sizeof err)));
  scan_cache *cache = scan_cache_new(1);
  REQUIRE(cache);
  REQUIRE(scanroot_begin(cache, root, err, sizeof err) == TN_OK);
  scan_options so = {.jobs = 2, .eval = EVAL_OPTIONS_DEFAULT, .scan_id = 42};
  int rc = scan_run(r->img, NULL, cache, &so, &r->scan);
  scanroot_end();
  scan_cache_free(cache);
  REQUIRE(rc == TN_OK && r->scan.status == SCAN_DONE && r->scan.nchecks == 4);
  r->scan.start_time = r->scan.end_time = 1700000000;
  free(r->scan.summary);
  REQUIRE((r->scan.summary = event_render_summary(r->scan.prog, &r->scan)));
}

static void run_free(run *r) {
  policy_scan_free(&r->scan);
  vm_image_free(r->img);
  loaded_policy_free(&r->lp);
}

static const report_waiver active = {"Accepted risk: debug <needed> for the \"migration\" & é", "ops-team",
                                     "2099-12-31", 0};
static const report_waiver expired = {"Banner arrives with the next image", "alice", "2020-01-01", 1};

static const report_waiver *waivers(void *arg, const char *policy_id, int64_t check_id) {
  int *calls = arg;
  (*calls)++;
  if (strcmp(policy_id, "report_fixture") != 0) return NULL;
  return check_id == 1002 ? &active : check_id == 1004 ? &expired : NULL;
}

static char *render(const char *name, const policy_scan *s, int with_waivers) {
  char *buf = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&buf, &len);
  if (!f) return NULL;
  int calls = 0;
  report_options ro = {.out = f, .seconds = 0};
  if (with_waivers) {
    ro.waiver = waivers;
    ro.waiver_arg = &calls;
  }
  int rc = report_write(report_format_find(name), &ro, s, 1);
  fclose(f);
  CHECK_INT(rc, TN_OK);
  return buf;
}

/* Compare with golden/waived.<name>, or rewrite it under TENET_UPDATE=1. */
static void golden(const char *name, const char *got) {
  char path[PATH_MAX + 64];
  snprintf(path, sizeof path, "%s/tests/report/golden/waived.%s", src, name);
  if (getenv("TENET_UPDATE")) {
    FILE *f = fopen(path, "w");
    REQUIRE(f && fputs(got, f) >= 0 && fclose(f) == 0);
    return;
  }
  FILE *f = fopen(path, "r");
  REQUIRE(f);
  strbuf b = STRBUF_INIT;
  char chunk[4096];
  size_t n;
  while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
    strbuf_append(&b, chunk, n);
  fclose(f);
  if (!b.data || strcmp(b.data, got) != 0) fprintf(stderr, "golden/waived.%s differs; got:\n%s\n", name, got);
  CHECK(b.data && strcmp(b.data, got) == 0);
  strbuf_free(&b);
}

static void test_waivers_every_format(void) {
  run r;
  run_fixture(&r);
  static const char *const names[] = {"text", "json", "junit", "sarif", "csv", "html"};
  char *out[6];
  for (int i = 0; i < 6; i++) {
    REQUIRE((out[i] = render(names[i], &r.scan, 1)));
    golden(names[i], out[i]);
  }
  /* what each format says about the active waiver (1002) and the expired one (1004) */
  CHECK(strstr(out[0], "WAIV  1002") && strstr(out[0], "waived (failed): Accepted risk") &&
        strstr(out[0], "FAIL  1004") && strstr(out[0], "waiver expired on 2020-01-01"));
  CHECK(
      strstr(out[1], "\"id\":1002,") && strstr(out[1], "\"result\":\"failed\",\"status\":\"waived\"") &&
      strstr(out[1], "\"owner\":\"ops-team\",\"expires\":\"2099-12-31\",\"expired\":false") &&
      strstr(out[1], "\"expires\":\"2020-01-01\",\"expired\":true") &&
      strstr(out[1], "\"counts\":{\"passed\":1,\"failed\":1,\"not_applicable\":1,\"waived\":1,\"total\":4}"));
  CHECK(strstr(out[2], "<skipped message=\"waived: Accepted risk: debug &lt;needed&gt; for the "
                       "&quot;migration&quot; &amp; é\">") &&
        strstr(out[2], "Waiver expired on 2020-01-01") && strstr(out[2], "failures=\"1\"") &&
        strstr(out[2], "skipped=\"2\""));
  CHECK(
      strstr(out[3], "\"suppressions\":[{\"kind\":\"external\",\"status\":\"accepted\",\"justification\":") &&
      strstr(out[3], "(waiver expired on 2020-01-01)"));
  CHECK(
      strstr(out[4],
             "report_fixture,1002,\"Ensure debug is off, \"\"really\"\" off <now> & é ✓\",failed,waived,") &&
      strstr(out[4], ",2099-12-31,no\r\n") && strstr(out[4], ",2020-01-01,yes\r\n"));
  CHECK(strstr(out[5], "data-result=\"waived\"") && strstr(out[5], "waiver expired on 2020-01-01") &&
        strstr(out[5], "<span class=\"n waived\">1 waived</span>"));
  for (int i = 0; i < 6; i++)
    free(out[i]);

  /* jsonl stays Wazuh-exact: byte-identical with and without waivers */
  char *plain = render("jsonl", &r.scan, 0), *waived = render("jsonl", &r.scan, 1);
  REQUIRE(plain && waived);
  CHECK_STR(waived, plain);
  free(plain);
  free(waived);
  run_free(&r);
}

/* The counts the gate of `tenet scan` reads: an active waiver moves a failure to waived, an expired
 * one does not. */
static void test_gate_counts(void) {
  run r;
  run_fixture(&r);
  int calls = 0, p, f, na, w;
  report_options ro = {.out = stdout, .waiver = waivers, .waiver_arg = &calls};
  report_ctx ctx = {.opt = &ro, .scans = &r.scan, .nscans = 1};
  report_scan_counts(&ctx, &r.scan, &p, &f, &na, &w);
  CHECK(p == 1 && f == 1 && na == 1 && w == 1);
  CHECK(calls == 4);
  CHECK_STR(report_check_status(&ctx, &r.scan, &r.scan.checks[1]), "waived");
  CHECK_STR(report_check_status(&ctx, &r.scan, &r.scan.checks[3]), "failed");
  ro.waiver = NULL;
  report_scan_counts(&ctx, &r.scan, &p, &f, &na, &w);
  CHECK(p == 1 && f == 2 && na == 1 && w == 0);
  CHECK(r.scan.failed == 2); /* the scan's own counts never change */
  run_free(&r);
}

static void test_xml_escape(void) {
  strbuf b = STRBUF_INIT;
  report_xml_escape(
      &b, "a<b>&\"c'\r\n\t\x01z \xc3\xa9\xe2\x9c\x93 \xff\xc3(\xed\xa0\x80\xf4\x90\x80\x80\xc0\xaf");
  CHECK_STR(b.data, "a&lt;b&gt;&amp;&quot;c&#39;&#13;\n\t\xef\xbf\xbdz \xc3\xa9\xe2\x9c\x93 "
                    "\xef\xbf\xbd\xef\xbf\xbd("            /* \xff, then \xc3 without its continuation */
                    "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd" /* a surrogate: 3 bytes */
                    "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd" /* past U+10FFFF: 4 */
                    "\xef\xbf\xbd\xef\xbf\xbd");                       /* overlong '/': 2 */
  strbuf_reset(&b);
  report_xml_escape(&b, NULL);
  CHECK(b.len == 0);
  strbuf_free(&b);
}

static void test_baseline_reader(void) {
  char err[256];
  const char ok[] = "{\"policies\":[{\"id\":\"p\\u00e9\",\"checks\":[{\"id\":2,\"result\":\"failed\"},"
                    "{\"id\":-1,\"result\":\"not applicable\",\"x\":[1.5e3,true,null,{}]}]},"
                    "{\"id\":\"q\",\"checks\":[]}], \"extra\": \"\\ud83d\\ude00\"}\n";
  baseline *b = baseline_parse(ok, sizeof ok - 1, err, sizeof err);
  REQUIRE(b);
  CHECK_INT(baseline_count(b), 2);
  CHECK_STR(baseline_result(b, "p\xc3\xa9", 2), "failed");
  CHECK_STR(baseline_result(b, "p\xc3\xa9", -1), "not applicable");
  CHECK(baseline_result(b, "p\xc3\xa9", 3) == NULL && baseline_result(b, "q", 2) == NULL);
  baseline_free(b);
  baseline_free(NULL);

  static const struct {
    const char *text, *msg;
  } bad[] = {
      {"", "line 1: unexpected end of file"},
      {"{\"policies\":[", "line 1: unexpected end of file"},
      {"{\"policies\":[]}x", "text after the JSON document"},
      {"{\"policies\":[],}", "expected a member name"},
      {"{\"policies\" []}", "expected ':'"},
      {"[1 2]", "expected ',' or ']'"},
      {"{\"a\":\"\x01\"}", "control character in a string"},
      {"{\"a\":\"\\x\"}", "bad escape in a string"},
      {"{\"a\":\"\\ud800\"}", "unpaired surrogate"},
      {"{\"a\":-}", "bad number"},
      {"{\"a\":nul}", "unexpected character 'n'"},
      {"\n\n{\"a\":\"unterminated", "line 3: unterminated string"},
      {"[]", "no \"policies\" array"},
      {"{\"policies\":{}}", "no \"policies\" array"},
      {"{\"policies\":[{\"id\":1,\"checks\":[]}]}", "policies[0]: needs a string \"id\""},
      {"{\"policies\":[{\"id\":\"p\",\"checks\":[{\"id\":\"1\",\"result\":\"passed\"}]}]}",
       "policies[0].checks[0]"},
      {"{\"policies\":[{\"id\":\"p\",\"checks\":[{\"id\":1.5,\"result\":\"passed\"}]}]}",
       "policies[0].checks[0]"},
      {"{\"policies\":[{\"id\":\"p\",\"checks\":[{\"id\":99999999999999999999,\"result\":\"passed\"}]}]}",
       "policies[0].checks[0]"},
      {"{\"policies\":[{\"id\":\"p\",\"checks\":[{\"id\":1,\"result\":\"waived\"}]}]}",
       "a \"result\" of passed"},
      {"{\"policies\":[{\"id\":\"p\",\"checks\":[{\"id\":1,\"result\":\"passed\"},{\"id\":1,\"result\":"
       "\"failed\"}]}]}",
       "policy p check 1 appears twice"},
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    err[0] = '\0';
    b = baseline_parse(bad[i].text, strlen(bad[i].text), err, sizeof err);
    CHECK(b == NULL);
    if (!strstr(err, bad[i].msg)) fprintf(stderr, "case %zu: got \"%s\", want \"%s\"\n", i, err, bad[i].msg);
    CHECK(strstr(err, bad[i].msg) != NULL);
    baseline_free(b);
  }
  /* nesting is limited, not recursed into until the stack runs out */
  size_t deep = 100000;
  char *d = malloc(deep);
  REQUIRE(d);
  memset(d, '[', deep);
  CHECK(baseline_parse(d, deep, err, sizeof err) == NULL && strstr(err, "nested deeper than 64 levels"));
  free(d);
  CHECK(baseline_load("/nonexistent/previous.json", err, sizeof err) == NULL &&
        strstr(err, "/nonexistent/previous.json: No such file or directory"));
}

int main(void) {
  const char *s = getenv("TENET_SOURCE_DIR");
  snprintf(src, sizeof src, "%s", s ? s : ".");
  RUN(test_waivers_every_format);
  RUN(test_gate_counts);
  RUN(test_xml_escape);
  RUN(test_baseline_reader);
  return test_report();
}
