/* report_sarif.c — the "sarif" format: one SARIF 2.1.0 log, one run. Every failed check is a
 * result whose rule is "<policy id>/<check id>" (the rule carries the title, description,
 * rationale and remediation; compliance goes in both properties bags); a failed check under an
 * active waiver keeps its result with an accepted external suppression holding the justification.
 * Passed and not applicable checks produce nothing. Built in memory, written in end. */
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "event.h"
#include "report.h"

typedef struct sarif_state {
  strbuf rules, results;
  int nrules;
} sarif_state;

int report_sarif_begin(report_ctx *ctx) {
  return (ctx->state = calloc(1, sizeof(sarif_state))) ? TN_OK : TN_ENOMEM;
}

int report_sarif_policy(report_ctx *ctx, const policy_scan *s) {
  (void)ctx;
  (void)s;
  return TN_OK;
}

static void text_obj(strbuf *b, const char *key, const char *v) {
  strbuf_printf(b, ",\"%s\":{\"text\":", key);
  strbuf_json_str(b, v);
  strbuf_putc(b, '}');
}

/* "properties":{"policy":...,"compliance":{"key":"v1, v2"},...} */
static void properties(strbuf *b, const policy_scan *s, const prog_check_meta *m, const check_result *r) {
  strbuf_puts(b, ",\"properties\":{\"policy\":");
  strbuf_json_str(b, program_str(s->prog, s->prog ? s->prog->policy_id : PROG_NONE));
  strbuf_puts(b, ",\"check_id\":");
  report_check_id_json(b, r);
  strbuf_puts(b, ",\"compliance\":{");
  for (uint32_t i = 0; i < m->ncompliance; i++) {
    const char *key = program_str(s->prog, m->compliance[2 * i]);
    int seen = 0;
    for (uint32_t j = 0; j < i && !seen; j++)
      seen = strcmp(program_str(s->prog, m->compliance[2 * j]), key) == 0;
    if (seen) continue;
    strbuf c = STRBUF_INIT;
    for (uint32_t j = i; j < m->ncompliance; j++)
      if (strcmp(program_str(s->prog, m->compliance[2 * j]), key) == 0)
        strbuf_printf(&c, "%s%s", c.len ? "," : "", program_str(s->prog, m->compliance[2 * j + 1]));
    if (b->len && b->data[b->len - 1] != '{') strbuf_putc(b, ',');
    strbuf_json_str(b, key);
    strbuf_putc(b, ':');
    strbuf_json_str(b, c.data ? c.data : "");
    strbuf_free(&c);
  }
  strbuf_putc(b, '}');
}

int report_sarif_check(report_ctx *ctx, const policy_scan *s, const check_result *r) {
  if (r->result != EV_NOT_FOUND || !report_check_shown(ctx, s, r)) return TN_OK;
  sarif_state *st = ctx->state;
  prog_check_meta m;
  scan_check_meta(s, r, &m);
  const char *pid = program_str(s->prog, s->prog ? s->prog->policy_id : PROG_NONE);
  strbuf id = STRBUF_INIT;
  char idb[CHECKID_BUF];
  const char *cid = report_check_id(r, idb);
  strbuf_printf(&id, "%s/%s", pid, cid);

  strbuf *b = &st->rules;
  strbuf_puts(b, st->nrules ? ",\n{\"id\":" : "\n{\"id\":");
  strbuf_json_str(b, id.data);
  text_obj(b, "shortDescription", m.title);
  if (m.description) text_obj(b, "fullDescription", m.description);
  if (m.remediation) text_obj(b, "help", m.remediation);
  properties(b, s, &m, r);
  strbuf_puts(b, ",\"rationale\":");
  if (m.rationale)
    strbuf_json_str(b, m.rationale);
  else
    strbuf_puts(b, "null");
  strbuf_puts(b, ",\"references\":");
  if (m.references)
    strbuf_json_str(b, m.references);
  else
    strbuf_puts(b, "null");
  strbuf_puts(b, "}}");

  const report_waiver *w = report_check_waiver(ctx, s, r);
  b = &st->results;
  strbuf_puts(b, st->nrules ? ",\n{\"ruleId\":" : "\n{\"ruleId\":");
  strbuf_json_str(b, id.data);
  strbuf_printf(b,
                ",\"ruleIndex\":%d,\"kind\":\"fail\",\"level\":\"error\",\"message\":{\"text\":", st->nrules);
  strbuf msg = STRBUF_INIT;
  strbuf_printf(&msg, "Check %s of policy %s failed: %s", cid, pid, m.title);
  if (w && w->expired) strbuf_printf(&msg, " (waiver expired on %s)", w->expires ? w->expires : "?");
  strbuf_json_str(b, msg.data);
  strbuf_free(&msg);
  strbuf_puts(b, "}");
  if (w && !w->expired) {
    strbuf_puts(b, ",\"suppressions\":[{\"kind\":\"external\",\"status\":\"accepted\",\"justification\":");
    strbuf_json_str(b, w->justification ? w->justification : "");
    strbuf_puts(b, ",\"properties\":{\"owner\":");
    strbuf_json_str(b, w->owner ? w->owner : "");
    strbuf_puts(b, ",\"expires\":");
    strbuf_json_str(b, w->expires ? w->expires : "");
    strbuf_puts(b, "}}]");
  }
  properties(b, s, &m, r);
  strbuf_puts(b, ",\"scan_id\":");
  strbuf_printf(b, "%lld,\"evidence\":{", (long long)s->scan_id);
  for (int k = 0, n = 0; k < LOC__COUNT; k++) {
    if (!r->loc[k]) continue;
    if (n++) strbuf_putc(b, ',');
    strbuf_json_str(b, event_location_key(k));
    strbuf_putc(b, ':');
    strbuf_json_str(b, r->loc[k]);
  }
  strbuf_puts(b, "}");
  if (w && w->expired) {
    strbuf_puts(b, ",\"waiver_expired\":");
    strbuf_json_str(b, w->expires ? w->expires : "");
  }
  strbuf_puts(b, "}}");
  st->nrules++;
  int ok = strbuf_ok(&id);
  strbuf_free(&id);
  return ok && strbuf_ok(&st->rules) && strbuf_ok(b) ? TN_OK : TN_ENOMEM;
}

int report_sarif_summary(report_ctx *ctx, const policy_scan *s) {
  (void)ctx;
  (void)s;
  return TN_OK;
}

int report_sarif_end(report_ctx *ctx) {
  sarif_state *st = ctx->state;
  if (!st) return TN_OK;
  int rc = strbuf_ok(&st->rules) && strbuf_ok(&st->results) ? TN_OK : TN_ENOMEM;
  if (rc == TN_OK) {
    FILE *out = ctx->opt->out;
    fputs("{\"$schema\":\"https://json.schemastore.org/"
          "sarif-2.1.0.json\",\"version\":\"2.1.0\",\"runs\":[{\"tool\":"
          "{\"driver\":{\"name\":\"" REPORT_TOOL_NAME "\",\"version\":\"" REPORT_TOOL_VERSION "\","
          "\"informationUri\":\"https://documentation.wazuh.com/current/user-manual/capabilities/"
          "sec-config-assessment/\","
          "\"rules\":[",
          out);
    if (st->rules.len) fwrite(st->rules.data, 1, st->rules.len, out);
    fputs("]}},\n\"results\":[", out);
    if (st->results.len) fwrite(st->results.data, 1, st->results.len, out);
    fputs("],\n\"properties\":{\"policies\":[", out);
    for (size_t k = 0, n = 0; k < ctx->nscans; k++) {
      const policy_scan *s = &ctx->scans[k];
      if (s->status != SCAN_DONE) continue;
      strbuf b = STRBUF_INIT;
      strbuf_puts(&b, n++ ? ",{\"id\":" : "{\"id\":");
      strbuf_json_str(&b, program_str(s->prog, s->prog ? s->prog->policy_id : PROG_NONE));
      strbuf_printf(&b,
                    ",\"scan_id\":%lld,\"score\":%.2f,\"passed\":%d,\"failed\":%d,\"not_applicable\":%d,"
                    "\"hash\":\"%s\"}",
                    (long long)s->scan_id, (double)s->score, s->passed, s->failed, s->invalid, s->hash);
      if (strbuf_ok(&b))
        fwrite(b.data, 1, b.len, out);
      else
        rc = TN_ENOMEM;
      strbuf_free(&b);
    }
    fputs("]}}]}\n", out);
  }
  strbuf_free(&st->rules);
  strbuf_free(&st->results);
  free(st);
  ctx->state = NULL;
  return rc;
}
