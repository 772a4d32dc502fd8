/* report_html.c — the "html" format: one self-contained page (inline CSS and JS, a Content
 * Security Policy that forbids every fetch) for people and auditors. Per policy: its score and
 * counts, with a baseline the checks that changed since, then a table of checks — failed and not
 * applicable first with rationale, remediation, compliance, references, reason and evidence, then
 * waived, then passed — and one filter box over all of them. Rows are kept per policy and written
 * in summary; all text goes through report_xml_escape. */
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "event.h"
#include "report.h"

typedef struct html_state {
  strbuf bad, waived, passed, changes; /* rows of the current policy, by group */
  int nchanges, shown;
} html_state;

static const char head[] =
    "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
    "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; "
    "script-src 'unsafe-inline'\">\n"
    "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
    "<meta name=\"generator\" content=\"" REPORT_TOOL_NAME " " REPORT_TOOL_VERSION "\">\n"
    "<title>Tenet scan report</title>\n<style>\n"
    "body{font:14px/1.45 system-ui,-apple-system,'Segoe "
    "UI',sans-serif;margin:0;color:#1d2430;background:#f4f6f9}\n"
    "header{background:#1d2430;color:#fff;padding:16px "
    "28px;display:flex;align-items:center;gap:24px;flex-wrap:wrap}\n"
    "header h1{font-size:20px;margin:0}header .meta{color:#b8c2d0}\n"
    "#filter{margin-left:auto;padding:7px 10px;width:320px;border-radius:6px;border:1px solid "
    "#8893a5;font-size:14px}\n"
    "main{padding:8px 28px 40px}\n"
    "section.policy{background:#fff;border-radius:10px;box-shadow:0 1px 3px rgba(0,0,0,.12);margin:18px "
    "0;padding:16px 22px}\n"
    "section.policy h2{margin:0 0 4px;font-size:18px}.pdesc{color:#5a6475;margin:0 0 10px}\n"
    ".stats{display:flex;gap:12px;align-items:center;flex-wrap:wrap;margin:8px 0 14px}\n"
    ".score{font-size:28px;font-weight:700;margin-right:8px}\n"
    ".n{padding:3px 10px;border-radius:12px;font-weight:600;font-size:13px}\n"
    ".passed{background:#daf3e1;color:#17642f}.failed{background:#fbdcdc;color:#9b1c1c}\n"
    ".na{background:#fff0cc;color:#7a5200}.waived{background:#e2e6fb;color:#2e3a8c}\n"
    ".changed{background:#f1e0fb;color:#6a1b8c}\n"
    "table{border-collapse:collapse;width:100%}th,td{text-align:left;vertical-align:top;padding:6px "
    "8px;border-top:1px solid #e3e7ee}\n"
    "th{font-size:12px;text-transform:uppercase;color:#5a6475;border-top:none}\n"
    ".badge{display:inline-block;min-width:92px;text-align:center;padding:2px "
    "6px;border-radius:4px;font-size:12px;font-weight:700}\n"
    ".title{font-weight:600}.detail{margin:6px 0 2px;display:grid;grid-template-columns:130px 1fr;gap:3px "
    "10px}\n"
    ".detail dt{color:#5a6475;font-weight:600}.detail "
    "dd{margin:0;white-space:pre-wrap;word-break:break-word}\n"
    "table.checks td:nth-child(-n+2),table.changes td:first-child{width:1%;white-space:nowrap}\n"
    "table.changes{margin-bottom:14px}h3{font-size:14px;margin:10px 0 4px}\n"
    ".none{color:#5a6475;font-style:italic}footer{color:#5a6475;padding:0 28px 24px}\n"
    "</style>\n</head>\n<body>\n";

int report_html_begin(report_ctx *ctx) {
  if (!(ctx->state = calloc(1, sizeof(html_state)))) return TN_ENOMEM;
  FILE *out = ctx->opt->out;
  size_t n = 0;
  for (size_t k = 0; k < ctx->nscans; k++)
    n += ctx->scans[k].status == SCAN_DONE;
  fputs(head, out);
  fprintf(
      out,
      "<header><h1>Tenet scan report</h1><span class=\"meta\">%zu polic%s scanned in %.2f s%s%s</span>\n"
      "<input id=\"filter\" type=\"search\" placeholder=\"Filter checks: id, title, result, compliance…\" "
      "aria-label=\"Filter checks\"><span id=\"shown\" class=\"meta\"></span></header>\n<main>\n",
      n, n == 1 ? "y" : "ies", ctx->opt->seconds, ctx->opt->baseline ? " · compared with a baseline" : "",
      ctx->opt->only_changes ? " · only changed checks shown" : "");
  return TN_OK;
}

int report_html_policy(report_ctx *ctx, const policy_scan *s) {
  html_state *st = ctx->state;
  (void)s;
  strbuf_reset(&st->bad);
  strbuf_reset(&st->waived);
  strbuf_reset(&st->passed);
  strbuf_reset(&st->changes);
  st->nchanges = st->shown = 0;
  return TN_OK;
}

static const char *result_class(int result) {
  return result == EV_FOUND ? "passed" : result == EV_NOT_FOUND ? "failed" : "na";
}

static void item(strbuf *b, const char *label, const char *v) {
  if (!v || !*v) return;
  strbuf_printf(b, "<dt>%s</dt><dd>", label);
  report_xml_escape(b, v);
  strbuf_puts(b, "</dd>");
}

int report_html_check(report_ctx *ctx, const policy_scan *s, const check_result *r) {
  html_state *st = ctx->state;
  const char *before = NULL;
  int changed = report_check_changed(ctx, s, r, &before);
  if (changed) {
    strbuf *c = &st->changes;
    st->nchanges++;
    char idb[CHECKID_BUF];
    strbuf_puts(c, "<tr class=\"check\"><td>");
    report_xml_escape(c, report_check_id(r, idb));
    strbuf_puts(c, "</td><td>");
    prog_check_meta m;
    scan_check_meta(s, r, &m);
    report_xml_escape(c, m.title);
    strbuf_puts(c, "</td><td>");
    if (before)
      strbuf_printf(c, "<span class=\"badge %s\">%s</span>",
                    strcmp(before, "passed") == 0   ? "passed"
                    : strcmp(before, "failed") == 0 ? "failed"
                                                    : "na",
                    strcmp(before, "passed") == 0 || strcmp(before, "failed") == 0 ||
                            strcmp(before, "not applicable") == 0
                        ? before
                        : "other");
    else
      strbuf_puts(c, "<span class=\"none\">new check</span>");
    strbuf_printf(c, "</td><td><span class=\"badge %s\">%s</span></td></tr>\n", result_class(r->result),
                  scan_result_name(r->result));
  }
  if (!report_check_shown(ctx, s, r)) return TN_OK;
  st->shown++;
  prog_check_meta m;
  scan_check_meta(s, r, &m);
  const report_waiver *w = report_check_waiver(ctx, s, r);
  int waived = w && !w->expired;
  strbuf *b = waived ? &st->waived : r->result == EV_FOUND ? &st->passed : &st->bad;
  const char *cls = waived ? "waived" : result_class(r->result);
  strbuf_printf(b, "<tr class=\"check\" data-result=\"%s\" id=\"", report_check_status(ctx, s, r));
  report_xml_escape(b, program_str(s->prog, s->prog ? s->prog->policy_id : PROG_NONE));
  char idb[CHECKID_BUF];
  const char *cid = report_check_id(r, idb);
  strbuf_putc(b, '-');
  report_xml_escape(b, cid);
  strbuf_printf(b, "\"><td><span class=\"badge %s\">%s</span>%s</td><td>", cls,
                report_check_status(ctx, s, r),
                changed ? " <span class=\"badge changed\">changed</span>" : "");
  report_xml_escape(b, cid);
  strbuf_puts(b, "</td><td><div class=\"title\">");
  report_xml_escape(b, m.title);
  strbuf_puts(b, "</div>");
  if (r->result != EV_FOUND || w) {
    strbuf_puts(b, "<dl class=\"detail\">");
    if (w && !w->expired) {
      item(b, "Waived", w->justification);
      item(b, "Owner", w->owner);
      item(b, "Waiver expires", w->expires);
      item(b, "Result", scan_result_name(r->result));
    }
    if (w && w->expired) {
      strbuf e = STRBUF_INIT;
      strbuf_printf(&e, "waiver expired on %s (%s)", w->expires ? w->expires : "?",
                    w->justification ? w->justification : "");
      item(b, "Waiver", e.data);
      strbuf_free(&e);
    }
    if (r->result == EV_INVALID) item(b, "Reason", r->reason);
    if (r->result != EV_FOUND) {
      item(b, "Rationale", m.rationale);
      item(b, "Remediation", m.remediation);
      strbuf c = STRBUF_INIT;
      report_compliance_join(&c, &m, s->prog);
      item(b, "Compliance", c.data);
      strbuf_free(&c);
      item(b, "References", m.references);
      for (int k = 0; k < LOC__COUNT; k++) {
        if (!r->loc[k]) continue;
        strbuf l = STRBUF_INIT;
        strbuf_printf(&l, "Evidence (%s)", event_location_key(k));
        item(b, l.data ? l.data : "Evidence", r->loc[k]);
        strbuf_free(&l);
      }
    }
    if (changed) item(b, "Before", before ? before : "(not in the baseline)");
    strbuf_puts(b, "</dl>");
  }
  strbuf_puts(b, "</td></tr>\n");
  return strbuf_ok(b) && strbuf_ok(&st->changes) ? TN_OK : TN_ENOMEM;
}

int report_html_summary(report_ctx *ctx, const policy_scan *s) {
  html_state *st = ctx->state;
  const program *p = s->prog;
  int passed, failed, invalid, waived;
  report_scan_counts(ctx, s, &passed, &failed, &invalid, &waived);
  strbuf b = STRBUF_INIT;
  strbuf_puts(&b, "<section class=\"policy\" data-policy=\"");
  report_xml_escape(&b, program_str(p, p ? p->policy_id : PROG_NONE));
  strbuf_puts(&b, "\">\n<h2>");
  report_xml_escape(&b, program_str(p, p ? p->policy_id : PROG_NONE));
  strbuf_puts(&b, " — ");
  report_xml_escape(&b, program_str(p, p ? p->policy_name : PROG_NONE));
  strbuf_puts(&b, "</h2>\n<p class=\"pdesc\">");
  report_xml_escape(&b, program_str(p, p ? p->policy_description : PROG_NONE));
  strbuf_printf(&b,
                "</p>\n<div class=\"stats\"><span class=\"score\">%.1f%%</span>"
                "<span class=\"n passed\">%d passed</span><span class=\"n failed\">%d failed</span>"
                "<span class=\"n na\">%d not applicable</span><span class=\"n waived\">%d waived</span>"
                "<span class=\"meta\">%zu checks · scan %lld · results hash %.12s…</span></div>\n",
                (double)s->score, passed, failed, invalid, waived, s->nchecks, (long long)s->scan_id,
                s->hash);
  if (ctx->opt->baseline) {
    strbuf_printf(&b, "<h3>Changed since the baseline (%d)</h3>\n", st->nchanges);
    if (st->nchanges) {
      strbuf_puts(
          &b, "<table class=\"changes\"><thead><tr><th>ID</th><th>Check</th><th>Before</th><th>Now</th></tr>"
              "</thead><tbody>\n");
      strbuf_append(&b, st->changes.data, st->changes.len);
      strbuf_puts(&b, "</tbody></table>\n");
    } else
      strbuf_puts(&b, "<p class=\"none\">No check changed.</p>\n");
  }
  strbuf_puts(
      &b,
      "<table class=\"checks\"><thead><tr><th>Result</th><th>ID</th><th>Check</th></tr></thead><tbody>\n");
  if (st->bad.len) strbuf_append(&b, st->bad.data, st->bad.len);
  if (st->waived.len) strbuf_append(&b, st->waived.data, st->waived.len);
  if (st->passed.len) strbuf_append(&b, st->passed.data, st->passed.len);
  if (!st->shown) strbuf_puts(&b, "<tr><td colspan=\"3\" class=\"none\">No check to show.</td></tr>\n");
  strbuf_puts(&b, "</tbody></table>\n</section>\n");
  int rc = !strbuf_ok(&b) || !strbuf_ok(&st->bad) || !strbuf_ok(&st->waived) || !strbuf_ok(&st->passed)
               ? TN_ENOMEM
           : fwrite(b.data, 1, b.len, ctx->opt->out) != b.len ? TN_EIO
                                                              : TN_OK;
  strbuf_free(&b);
  return rc;
}

static const char script[] =
    "<script>\n"
    "(function () {\n"
    "  var box = document.getElementById('filter'), shown = document.getElementById('shown');\n"
    "  var rows = Array.prototype.slice.call(document.querySelectorAll('table.checks tr.check'));\n"
    "  function apply() {\n"
    "    var q = box.value.trim().toLowerCase(), n = 0;\n"
    "    rows.forEach(function (r) {\n"
    "      var hit = !q || r.textContent.toLowerCase().indexOf(q) >= 0;\n"
    "      r.style.display = hit ? '' : 'none';\n"
    "      n += hit ? 1 : 0;\n"
    "    });\n"
    "    shown.textContent = n + ' of ' + rows.length + ' checks shown';\n"
    "  }\n"
    "  box.addEventListener('input', apply);\n"
    "  var h = decodeURIComponent(location.hash.replace(/^#filter=/, ''));\n"
    "  if (location.hash.indexOf('#filter=') === 0) box.value = h;\n"
    "  apply();\n"
    "})();\n"
    "</script>\n";

int report_html_end(report_ctx *ctx) {
  html_state *st = ctx->state;
  if (!st) return TN_OK;
  FILE *out = ctx->opt->out;
  int skipped = 0;
  for (size_t k = 0; k < ctx->nscans; k++) {
    const policy_scan *s = &ctx->scans[k];
    if (s->status == SCAN_DONE) continue;
    strbuf b = STRBUF_INIT;
    strbuf_puts(&b, skipped++ ? "" : "<section class=\"policy\"><h2>Skipped policies</h2>\n");
    strbuf_puts(&b, "<p>");
    report_xml_escape(&b, program_str(s->prog, s->prog ? s->prog->policy_id : PROG_NONE));
    strbuf_puts(&b, ": ");
    report_xml_escape(&b, s->message ? s->message : "policy skipped");
    strbuf_puts(&b, "</p>\n");
    if (strbuf_ok(&b)) fwrite(b.data, 1, b.len, out);
    strbuf_free(&b);
  }
  if (skipped) fputs("</section>\n", out);
  fputs("</main>\n<footer>Generated by " REPORT_TOOL_NAME " " REPORT_TOOL_VERSION
        ". Results follow the Wazuh 4.x SCA semantics; waivers never change them.</footer>\n",
        out);
  fputs(script, out);
  fputs("</body>\n</html>\n", out);
  strbuf_free(&st->bad);
  strbuf_free(&st->waived);
  strbuf_free(&st->passed);
  strbuf_free(&st->changes);
  free(st);
  ctx->state = NULL;
  return TN_OK;
}
