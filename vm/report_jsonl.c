/* report_jsonl.c — the "jsonl" format: the Wazuh 4.x check events of every policy (ascending
 * check id), then its summary event, one JSON object per line (SCA-SEMANTICS §6.2, §6.3). The
 * events are rendered from the structured results by vm/event.c. */
#include "err.h"
#include "report.h"

int report_jsonl_begin(report_ctx *ctx) {
  (void)ctx;
  return TN_OK;
}

int report_jsonl_policy(report_ctx *ctx, const policy_scan *s) {
  (void)ctx;
  (void)s;
  return TN_OK;
}

int report_jsonl_check(report_ctx *ctx, const policy_scan *s, const check_result *r) {
  (void)s;
  if (!r->event) return TN_ENOMEM;
  return fputs(r->event, ctx->opt->out) < 0 || putc('\n', ctx->opt->out) == EOF ? TN_EIO : TN_OK;
}

/* Wazuh sends no summary for a policy without checks: s->summary is NULL then. */
int report_jsonl_summary(report_ctx *ctx, const policy_scan *s) {
  if (!s->summary) return TN_OK;
  return fputs(s->summary, ctx->opt->out) < 0 || putc('\n', ctx->opt->out) == EOF ? TN_EIO : TN_OK;
}

int report_jsonl_end(report_ctx *ctx) {
  (void)ctx;
  return TN_OK;
}
