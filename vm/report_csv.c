/* report_csv.c — the "csv" format (RFC 4180): a header row, then one row per check of every
 * policy, CRLF line ends; a field holding a comma, a double quote, CR or LF is quoted with its
 * quotes doubled (remediation texts hold all of them). Compliance is "key:value; key:value". */
#include <string.h>

#include "err.h"
#include "report.h"

static void field(strbuf *b, const char *v, int last) {
  v = v ? v : "";
  if (strpbrk(v, ",\"\r\n")) {
    strbuf_putc(b, '"');
    for (const char *p = v; *p; p++) {
      if (*p == '"') strbuf_putc(b, '"');
      strbuf_putc(b, *p);
    }
    strbuf_putc(b, '"');
  } else
    strbuf_puts(b, v);
  strbuf_puts(b, last ? "\r\n" : ",");
}

static int flush(report_ctx *ctx, strbuf *b) {
  int rc = !strbuf_ok(b) ? TN_ENOMEM : fwrite(b->data, 1, b->len, ctx->opt->out) != b->len ? TN_EIO : TN_OK;
  strbuf_free(b);
  return rc;
}

int report_csv_begin(report_ctx *ctx) {
  fputs("policy_id,check_id,title,result,status,reason,rationale,remediation,compliance,references,"
        "waiver_justification,waiver_owner,waiver_expires,waiver_expired",
        ctx->opt->out);
  fputs(ctx->opt->baseline ? ",baseline_result,changed\r\n" : "\r\n", ctx->opt->out);
  return TN_OK;
}

int report_csv_policy(report_ctx *ctx, const policy_scan *s) {
  (void)ctx;
  (void)s;
  return TN_OK;
}

int report_csv_check(report_ctx *ctx, const policy_scan *s, const check_result *r) {
  if (!report_check_shown(ctx, s, r)) return TN_OK;
  prog_check_meta m;
  scan_check_meta(s, r, &m);
  const report_waiver *w = report_check_waiver(ctx, s, r);
  strbuf b = STRBUF_INIT, c = STRBUF_INIT, id = STRBUF_INIT;
  report_compliance_join(&c, &m, s->prog);
  char idb[CHECKID_BUF];
  strbuf_puts(&id, report_check_id(r, idb));
  field(&b, program_str(s->prog, s->prog ? s->prog->policy_id : PROG_NONE), 0);
  field(&b, id.data, 0);
  field(&b, m.title, 0);
  field(&b, scan_result_name(r->result), 0);
  field(&b, report_check_status(ctx, s, r), 0);
  field(&b, r->reason, 0);
  field(&b, m.rationale, 0);
  field(&b, m.remediation, 0);
  field(&b, c.data, 0);
  field(&b, m.references, 0);
  field(&b, w ? w->justification : NULL, 0);
  field(&b, w ? w->owner : NULL, 0);
  field(&b, w ? w->expires : NULL, 0);
  field(&b, w ? (w->expired ? "yes" : "no") : NULL, !ctx->opt->baseline);
  if (ctx->opt->baseline) {
    const char *before;
    int changed = report_check_changed(ctx, s, r, &before);
    field(&b, before, 0);
    field(&b, changed ? "yes" : "no", 1);
  }
  int ok = strbuf_ok(&c) && strbuf_ok(&id);
  strbuf_free(&c);
  strbuf_free(&id);
  if (!ok) {
    strbuf_free(&b);
    return TN_ENOMEM;
  }
  return flush(ctx, &b);
}

int report_csv_summary(report_ctx *ctx, const policy_scan *s) {
  (void)ctx;
  (void)s;
  return TN_OK;
}

int report_csv_end(report_ctx *ctx) {
  (void)ctx;
  return TN_OK;
}
