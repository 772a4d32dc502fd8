/* report_junit.c — the "junit" format: JUnit XML for CI test views. One <testsuite> per policy,
 * one <testcase> per check: failed → <failure> carrying the rationale and remediation; not
 * applicable → <skipped> with the reason; under an active waiver → <skipped> with the
 * justification, owner and expiry. Totals sit on the root, so the document is built in memory and
 * written in end. Text is XML-escaped and always valid UTF-8 (report_xml_escape). */
#include <stdlib.h>
#include <time.h>

#include "err.h"
#include "report.h"

typedef struct junit_state {
  strbuf doc;   /* the <testsuite> elements so far */
  strbuf suite; /* the testcases of the current policy */
  int tests, failures, skipped;
  int s_tests, s_failures, s_skipped;
} junit_state;

int report_junit_begin(report_ctx *ctx) {
  return (ctx->state = calloc(1, sizeof(junit_state))) ? TN_OK : TN_ENOMEM;
}

int report_junit_policy(report_ctx *ctx, const policy_scan *s) {
  junit_state *st = ctx->state;
  (void)s;
  strbuf_reset(&st->suite);
  st->s_tests = st->s_failures = st->s_skipped = 0;
  return TN_OK;
}

static void text_line(strbuf *b, const char *label, const char *v) {
  if (!v) return;
  strbuf_puts(b, label);
  report_xml_escape(b, v);
  strbuf_putc(b, '\n');
}

int report_junit_check(report_ctx *ctx, const policy_scan *s, const check_result *r) {
  if (!report_check_shown(ctx, s, r)) return TN_OK;
  junit_state *st = ctx->state;
  strbuf *b = &st->suite;
  prog_check_meta m;
  scan_check_meta(s, r, &m);
  const report_waiver *w = report_check_waiver(ctx, s, r);
  st->s_tests++;
  strbuf_puts(b, "    <testcase classname=\"");
  report_xml_escape(b, program_str(s->prog, s->prog ? s->prog->policy_id : PROG_NONE));
  char idb[CHECKID_BUF];
  strbuf_puts(b, "\" name=\"");
  report_xml_escape(b, report_check_id(r, idb));
  strbuf_puts(b, ": ");
  report_xml_escape(b, m.title);
  strbuf_puts(b, "\" time=\"0\"");
  const char *before = NULL;
  int changed = report_check_changed(ctx, s, r, &before);
  if (w && !w->expired) {
    st->s_skipped++;
    strbuf_puts(b, ">\n      <skipped message=\"waived: ");
    report_xml_escape(b, w->justification);
    strbuf_puts(b, "\">");
    text_line(b, "Result: ", scan_result_name(r->result));
    text_line(b, "Justification: ", w->justification);
    text_line(b, "Owner: ", w->owner);
    text_line(b, "Expires: ", w->expires);
    strbuf_puts(b, "</skipped>\n    </testcase>\n");
  } else if (r->result == EV_NOT_FOUND) {
    st->s_failures++;
    strbuf_puts(b, ">\n      <failure type=\"failed\" message=\"");
    report_xml_escape(b, m.title);
    strbuf_puts(b, "\">");
    text_line(b, "Rationale: ", m.rationale);
    text_line(b, "Remediation: ", m.remediation);
    if (m.ncompliance) {
      strbuf c = STRBUF_INIT;
      report_compliance_join(&c, &m, s->prog);
      text_line(b, "Compliance: ", c.data ? c.data : "");
      strbuf_free(&c);
    }
    if (w) text_line(b, "Waiver expired on ", w->expires);
    if (changed) text_line(b, "Baseline: ", before ? before : "(new check)");
    strbuf_puts(b, "</failure>\n    </testcase>\n");
  } else if (r->result == EV_INVALID) {
    st->s_skipped++;
    strbuf_puts(b, ">\n      <skipped message=\"not applicable: ");
    report_xml_escape(b, r->reason);
    strbuf_puts(b, "\">");
    if (w) text_line(b, "Waiver expired on ", w->expires);
    strbuf_puts(b, "</skipped>\n    </testcase>\n");
  } else
    strbuf_puts(b, "/>\n");
  return strbuf_ok(b) ? TN_OK : TN_ENOMEM;
}

int report_junit_summary(report_ctx *ctx, const policy_scan *s) {
  junit_state *st = ctx->state;
  strbuf *d = &st->doc;
  const program *p = s->prog;
  strbuf_puts(d, "  <testsuite name=\"");
  report_xml_escape(d, program_str(p, p ? p->policy_id : PROG_NONE));
  strbuf_printf(d, "\" tests=\"%d\" failures=\"%d\" errors=\"0\" skipped=\"%d\" time=\"0\" timestamp=\"",
                st->s_tests, st->s_failures, st->s_skipped);
  time_t t = (time_t)s->start_time;
  struct tm tm;
  char iso[32] = "";
  if (gmtime_r(&t, &tm)) strftime(iso, sizeof iso, "%Y-%m-%dT%H:%M:%S", &tm);
  strbuf_printf(d, "%s\">\n    <properties>\n      <property name=\"policy_name\" value=\"", iso);
  report_xml_escape(d, program_str(p, p ? p->policy_name : PROG_NONE));
  strbuf_printf(d, "\"/>\n      <property name=\"score\" value=\"%.2f\"/>\n", (double)s->score);
  strbuf_printf(d, "      <property name=\"scan_id\" value=\"%lld\"/>\n", (long long)s->scan_id);
  strbuf_printf(d, "      <property name=\"hash\" value=\"%s\"/>\n    </properties>\n", s->hash);
  if (st->suite.len) strbuf_append(d, st->suite.data, st->suite.len);
  strbuf_puts(d, "  </testsuite>\n");
  st->tests += st->s_tests;
  st->failures += st->s_failures;
  st->skipped += st->s_skipped;
  return strbuf_ok(d) && strbuf_ok(&st->suite) ? TN_OK : TN_ENOMEM;
}

int report_junit_end(report_ctx *ctx) {
  junit_state *st = ctx->state;
  if (!st) return TN_OK;
  int rc = strbuf_ok(&st->doc) ? TN_OK : TN_ENOMEM;
  if (rc == TN_OK) {
    FILE *out = ctx->opt->out;
    fprintf(out,
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"" REPORT_TOOL_NAME
            " scan\" tests=\"%d\" failures=\"%d\" errors=\"0\" skipped=\"%d\" time=\"%.3f\">\n",
            st->tests, st->failures, st->skipped, ctx->opt->seconds);
    if (st->doc.len) fwrite(st->doc.data, 1, st->doc.len, out);
    fputs("</testsuites>\n", out);
  }
  strbuf_free(&st->doc);
  strbuf_free(&st->suite);
  free(st);
  ctx->state = NULL;
  return rc;
}
