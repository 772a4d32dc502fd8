/* report_text.c — the "text" format: per policy its id and name, every check that did not pass
 * (result, id, title; the reason when not applicable; NRUN for a 5.x check not run), then the counts, score and time; after
 * several policies, one line for the whole run. Titles come from the checks' metadata fields. */
#include <string.h>

#include "err.h"
#include "report.h"

#define RED "\033[31m"
#define YELLOW "\033[33m"
#define GREEN "\033[32m"
#define BOLD "\033[1m"
#define RESET "\033[0m"

static const char *result_word(int r, int color) {
  if (r == EV_FOUND) return color ? GREEN "pass" RESET : "pass";
  if (r == EV_NOT_FOUND) return color ? RED "FAIL" RESET : "FAIL";
  if (r == EV_NOT_RUN) return color ? YELLOW "NRUN" RESET : "NRUN"; /* 5.x: not run */
  return color ? YELLOW "N/A " RESET : "N/A ";
}

int report_text_begin(report_ctx *ctx) {
  (void)ctx;
  return TN_OK;
}

int report_text_policy(report_ctx *ctx, const policy_scan *s) {
  const program *p = s->prog;
  int color = ctx->opt->color;
  fprintf(ctx->opt->out, "%s%s%s  %s\n", color ? BOLD : "", program_str(p, p ? p->policy_id : PROG_NONE),
          color ? RESET : "", program_str(p, p ? p->policy_name : PROG_NONE));
  return TN_OK;
}

int report_text_check(report_ctx *ctx, const policy_scan *s, const check_result *r) {
  if (r->result == EV_FOUND) return TN_OK;
  prog_check_meta m;
  scan_check_meta(s, r, &m);
  FILE *out = ctx->opt->out;
  fprintf(out, "  %s  %-7lld %s\n", result_word(r->result, ctx->opt->color), (long long)r->id, m.title);
  if (r->result != EV_INVALID) return TN_OK;
  const char *why = r->reason ? r->reason : "";
  if (!s->prog || s->prog->dialect != DIALECT_WAZUH5) {
    fprintf(out, "                reason: %s\n", why);
    return TN_OK;
  }
  /* 5.x: one reason per invalid rule, newline-joined: one indented line each */
  for (const char *line = why, *nl;; line = nl + 1) {
    nl = strchr(line, '\n');
    fprintf(out, "                %s %.*s\n", line == why ? "reason:" : "       ", nl ? (int)(nl - line) : (int)strlen(line),
            line);
    if (!nl) break;
  }
  return TN_OK;
}

int report_text_summary(report_ctx *ctx, const policy_scan *s) {
  char nr[48] = "";
  if (s->not_run) snprintf(nr, sizeof nr, ", %d not run", s->not_run); /* 5.x only */
  fprintf(ctx->opt->out,
          "  %d passed, %d failed, %d not applicable%s — score %.1f%% (%zu checks; scan took %.2f s)\n\n",
          s->passed, s->failed, s->invalid, nr, (double)s->score, s->nchecks, ctx->opt->seconds);
  return TN_OK;
}

/* Several policies share one pool and one cache: say what the run as a whole cost. */
int report_text_end(report_ctx *ctx) {
  if (ctx->nscans > 1)
    fprintf(ctx->opt->out, "%zu policies scanned together in %.2f s (%zu commands run, %zu files read)\n",
            ctx->nscans, ctx->opt->seconds, ctx->scans[0].commands_run, ctx->scans[0].files_read);
  return TN_OK;
}
