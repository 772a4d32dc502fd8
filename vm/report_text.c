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

/* A check that did not pass, or (with a baseline) changed result; an active waiver prints it as
 * waived with its justification, an expired one adds a line saying so. */
int report_text_check(report_ctx *ctx, const policy_scan *s, const check_result *r) {
  const char *before;
  int changed = report_check_changed(ctx, s, r, &before);
  if ((r->result == EV_FOUND && !changed) || !report_check_shown(ctx, s, r)) return TN_OK;
  prog_check_meta m;
  scan_check_meta(s, r, &m);
  FILE *out = ctx->opt->out;
  const report_waiver *w = report_check_waiver(ctx, s, r);
  int color = ctx->opt->color;
  char idb[CHECKID_BUF];
  const char *id = report_check_id(r, idb);
  if (w && !w->expired)
    fprintf(out, "  %s  %-7s %s\n", color ? "\033[36mWAIV\033[0m" : "WAIV", id, m.title);
  else
    fprintf(out, "  %s  %-7s %s\n", result_word(r->result, color), id, m.title);
  if (r->result == EV_INVALID) {
    const char *why = r->reason ? r->reason : "";
    if (!s->prog || s->prog->dialect != DIALECT_WAZUH5) {
      fprintf(out, "                reason: %s\n", why);
    } else { /* 5.x: one reason per invalid rule, newline-joined: one indented line each */
      for (const char *line = why, *nl;; line = nl + 1) {
        nl = strchr(line, '\n');
        fprintf(out, "                %s %.*s\n", line == why ? "reason:" : "       ",
                nl ? (int)(nl - line) : (int)strlen(line), line);
        if (!nl) break;
      }
    }
  }
  if (w && !w->expired)
    fprintf(out, "                waived (%s): %s — %s, until %s\n", scan_result_name(r->result),
            w->justification ? w->justification : "", w->owner ? w->owner : "", w->expires ? w->expires : "");
  else if (w)
    fprintf(out, "                waiver expired on %s\n", w->expires ? w->expires : "?");
  if (changed)
    fprintf(out, "                changed: %s -> %s\n", before ? before : "(new check)",
            scan_result_name(r->result));
  return TN_OK;
}

int report_text_summary(report_ctx *ctx, const policy_scan *s) {
  int waived, changes = 0;
  report_scan_counts(ctx, s, NULL, NULL, NULL, &waived);
  for (size_t i = 0; i < s->nchecks; i++)
    changes += report_check_changed(ctx, s, &s->checks[i], NULL);
  if (waived) fprintf(ctx->opt->out, "  %d check%s waived\n", waived, waived == 1 ? "" : "s");
  if (ctx->opt->baseline)
    fprintf(ctx->opt->out, "  %d check%s changed since the baseline\n", changes, changes == 1 ? "" : "s");
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
