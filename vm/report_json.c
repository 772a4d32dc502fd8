/* report_json.c — the "json" format: one JSON document for the whole run: the tool, then per
 * policy its identity, every check (result, what a reader sees — "waived" under an active waiver —,
 * reason, waiver, metadata, compliance, evidence and, with a baseline, the previous result), the
 * counts, score, hashes and times; then the skipped policies and the run's timings. `tenet scan
 * --baseline` reads this document back (compiler/baseline.c); its shape is in docs/REPORTS.md. */
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "event.h"
#include "report.h"

typedef struct json_state {
  int npolicies, nchecks; /* written so far: the commas between array members */
} json_state;

static void jstr(strbuf *b, const char *s) {
  if (s)
    strbuf_json_str(b, s);
  else
    strbuf_puts(b, "null");
}

static int flush(report_ctx *ctx, strbuf *b) {
  int rc = !strbuf_ok(b) ? TN_ENOMEM : fwrite(b->data, 1, b->len, ctx->opt->out) != b->len ? TN_EIO : TN_OK;
  strbuf_free(b);
  return rc;
}

int report_json_begin(report_ctx *ctx) {
  if (!(ctx->state = calloc(1, sizeof(json_state)))) return TN_ENOMEM;
  strbuf b = STRBUF_INIT;
  strbuf_puts(&b, "{\"tool\":{\"name\":\"" REPORT_TOOL_NAME "\",\"version\":\"" REPORT_TOOL_VERSION "\"},");
  strbuf_printf(&b, "\"format_version\":1,\"baseline\":%s,\"only_changes\":%s,\n\"policies\":[",
                ctx->opt->baseline ? "true" : "false", ctx->opt->only_changes ? "true" : "false");
  return flush(ctx, &b);
}

int report_json_policy(report_ctx *ctx, const policy_scan *s) {
  json_state *st = ctx->state;
  const program *p = s->prog;
  strbuf b = STRBUF_INIT;
  strbuf_puts(&b, st->npolicies++ ? ",\n{\"id\":" : "\n{\"id\":");
  strbuf_json_str(&b, program_str(p, p ? p->policy_id : PROG_NONE));
  strbuf_puts(&b, ",\"name\":");
  strbuf_json_str(&b, program_str(p, p ? p->policy_name : PROG_NONE));
  strbuf_puts(&b, ",\"file\":");
  strbuf_json_str(&b, program_str(p, p ? p->policy_file : PROG_NONE));
  strbuf_puts(&b, ",\"description\":");
  strbuf_json_str(&b, program_str(p, p ? p->policy_description : PROG_NONE));
  strbuf_printf(&b, ",\"scan_id\":%lld,\"checks\":[", (long long)s->scan_id);
  st->nchecks = 0;
  return flush(ctx, &b);
}

/* compliance as {"key": "value"} like the Wazuh event (values as the policy lists them, joined
 * with ','); pairs sharing a key are merged, in first-seen order. */
static void compliance(strbuf *b, const prog_check_meta *m, const program *p) {
  strbuf_putc(b, '{');
  int first = 1;
  for (uint32_t i = 0; i < m->ncompliance; i++) {
    uint32_t key = m->compliance[2 * i];
    int seen = 0;
    for (uint32_t j = 0; j < i && !seen; j++)
      seen = strcmp(program_str(p, m->compliance[2 * j]), program_str(p, key)) == 0;
    if (seen) continue;
    if (!first) strbuf_putc(b, ',');
    first = 0;
    strbuf_json_str(b, program_str(p, key));
    strbuf v = STRBUF_INIT;
    for (uint32_t j = i; j < m->ncompliance; j++)
      if (strcmp(program_str(p, m->compliance[2 * j]), program_str(p, key)) == 0)
        strbuf_printf(&v, "%s%s", v.len ? "," : "", program_str(p, m->compliance[2 * j + 1]));
    strbuf_putc(b, ':');
    strbuf_json_str(b, v.data ? v.data : "");
    if (!strbuf_ok(&v)) b->oom = 1;
    strbuf_free(&v);
  }
  strbuf_putc(b, '}');
}

int report_json_check(report_ctx *ctx, const policy_scan *s, const check_result *r) {
  if (!report_check_shown(ctx, s, r)) return TN_OK;
  json_state *st = ctx->state;
  prog_check_meta m;
  scan_check_meta(s, r, &m);
  strbuf b = STRBUF_INIT;
  strbuf_printf(&b, "%s{\"id\":", st->nchecks++ ? ",\n" : "\n");
  report_check_id_json(&b, r);
  strbuf_puts(&b, ",\"title\":");
  strbuf_json_str(&b, m.title);
  strbuf_printf(&b, ",\"result\":\"%s\",\"status\":\"%s\",\"reason\":", scan_result_name(r->result),
                report_check_status(ctx, s, r));
  jstr(&b, r->reason);
  const report_waiver *w = report_check_waiver(ctx, s, r);
  strbuf_puts(&b, ",\"waiver\":");
  if (w) {
    strbuf_puts(&b, "{\"justification\":");
    jstr(&b, w->justification);
    strbuf_puts(&b, ",\"owner\":");
    jstr(&b, w->owner);
    strbuf_puts(&b, ",\"expires\":");
    jstr(&b, w->expires);
    strbuf_printf(&b, ",\"expired\":%s}", w->expired ? "true" : "false");
  } else
    strbuf_puts(&b, "null");
  if (ctx->opt->baseline) {
    const char *before;
    int changed = report_check_changed(ctx, s, r, &before);
    strbuf_puts(&b, ",\"baseline\":");
    jstr(&b, before);
    strbuf_printf(&b, ",\"changed\":%s", changed ? "true" : "false");
  }
  strbuf_puts(&b, ",\"description\":");
  jstr(&b, m.description);
  strbuf_puts(&b, ",\"rationale\":");
  jstr(&b, m.rationale);
  strbuf_puts(&b, ",\"remediation\":");
  jstr(&b, m.remediation);
  strbuf_puts(&b, ",\"references\":");
  jstr(&b, m.references);
  strbuf_puts(&b, ",\"condition\":");
  jstr(&b, m.condition);
  strbuf_puts(&b, ",\"compliance\":");
  compliance(&b, &m, s->prog);
  strbuf_puts(&b, ",\"rules\":[");
  for (uint32_t i = 0; i < m.nrules; i++) {
    if (i) strbuf_putc(&b, ',');
    strbuf_json_str(&b, program_str(s->prog, m.rules[i]));
  }
  strbuf_puts(&b, "],\"evidence\":{");
  for (int k = 0, n = 0; k < LOC__COUNT; k++) {
    if (!r->loc[k]) continue;
    if (n++) strbuf_putc(&b, ',');
    strbuf_json_str(&b, event_location_key(k));
    strbuf_putc(&b, ':');
    strbuf_json_str(&b, r->loc[k]);
  }
  strbuf_puts(&b, "}}");
  return flush(ctx, &b);
}

int report_json_summary(report_ctx *ctx, const policy_scan *s) {
  int passed, failed, invalid, waived, changes = 0;
  report_scan_counts(ctx, s, &passed, &failed, &invalid, &waived);
  for (size_t i = 0; i < s->nchecks; i++)
    changes += report_check_changed(ctx, s, &s->checks[i], NULL);
  strbuf b = STRBUF_INIT;
  strbuf_printf(
      &b,
      "],\n\"counts\":{\"passed\":%d,\"failed\":%d,\"not_applicable\":%d,\"waived\":%d,\"total\":%zu},"
      "\"wazuh_counts\":{\"passed\":%d,\"failed\":%d,\"not_applicable\":%d},\"score\":%.2f,",
      passed, failed, invalid, waived, s->nchecks, s->passed, s->failed, s->invalid, (double)s->score);
  if (ctx->opt->baseline) strbuf_printf(&b, "\"changes\":%d,", changes);
  strbuf_printf(
      &b,
      "\"start_time\":%lld,\"end_time\":%lld,\"hash\":\"%s\",\"hash_file\":\"%s\",\"bundle_hash\":\"%s\"}",
      (long long)s->start_time, (long long)s->end_time, s->hash, s->hash_file, s->bundle_hash);
  return flush(ctx, &b);
}

int report_json_end(report_ctx *ctx) {
  free(ctx->state);
  ctx->state = NULL;
  strbuf b = STRBUF_INIT;
  strbuf_puts(&b, "],\n\"skipped\":[");
  for (size_t k = 0, n = 0; k < ctx->nscans; k++) {
    const policy_scan *s = &ctx->scans[k];
    if (s->status == SCAN_DONE) continue;
    strbuf_puts(&b, n++ ? ",{\"id\":" : "{\"id\":");
    strbuf_json_str(&b, program_str(s->prog, s->prog ? s->prog->policy_id : PROG_NONE));
    strbuf_puts(&b, ",\"message\":");
    jstr(&b, s->message);
    strbuf_putc(&b, '}');
  }
  size_t runs = ctx->nscans ? ctx->scans[0].commands_run : 0,
         reads = ctx->nscans ? ctx->scans[0].files_read : 0;
  strbuf_printf(&b, "],\n\"timings\":{\"seconds\":%.3f,\"commands_run\":%zu,\"files_read\":%zu}}\n",
                ctx->opt->seconds, runs, reads);
  return flush(ctx, &b);
}
