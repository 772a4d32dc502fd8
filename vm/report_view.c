/* report_view.c — what a reader sees of a check, shared by the renderers (report.h): the waiver
 * that applies, the status ("waived" or the result), the change against a baseline, whether the
 * check is shown, the counts as a reader sees them; and the text helpers (XML escaping that always
 * yields valid UTF-8, compliance joined). Kept apart from report.c (the format table and the walk),
 * which calls the renderers, so that renderers calling these never form a circle with it. */
#include <string.h>

#include "report.h"

const report_waiver *report_check_waiver(const report_ctx *ctx, const policy_scan *s, const check_result *r) {
  if (!ctx->opt->waiver || !s->prog) return NULL;
  return ctx->opt->waiver(ctx->opt->waiver_arg, program_str(s->prog, s->prog->policy_id), r->id);
}

const char *report_check_status(const report_ctx *ctx, const policy_scan *s, const check_result *r) {
  const report_waiver *w = report_check_waiver(ctx, s, r);
  return w && !w->expired ? "waived" : scan_result_name(r->result);
}

int report_check_changed(const report_ctx *ctx, const policy_scan *s, const check_result *r,
                         const char **before) {
  if (before) *before = NULL;
  if (!ctx->opt->baseline || !s->prog) return 0;
  const char *b = ctx->opt->baseline(ctx->opt->baseline_arg, program_str(s->prog, s->prog->policy_id), r->id);
  if (before) *before = b;
  return !b || strcmp(b, scan_result_name(r->result)) != 0;
}

int report_check_shown(const report_ctx *ctx, const policy_scan *s, const check_result *r) {
  return !ctx->opt->only_changes || report_check_changed(ctx, s, r, NULL);
}

void report_scan_counts(const report_ctx *ctx, const policy_scan *s, int *passed, int *failed, int *invalid,
                        int *waived) {
  int n[4] = {0, 0, 0, 0};
  for (size_t i = 0; i < s->nchecks; i++) {
    const check_result *r = &s->checks[i];
    const report_waiver *w = report_check_waiver(ctx, s, r);
    n[w && !w->expired ? 3 : r->result == EV_FOUND ? 0 : r->result == EV_NOT_FOUND ? 1 : 2]++;
  }
  if (passed) *passed = n[0];
  if (failed) *failed = n[1];
  if (invalid) *invalid = n[2];
  if (waived) *waived = n[3];
}

/* Length of the valid UTF-8 sequence at s (1..4), or 0 when it is not one (overlong forms,
 * surrogates and code points past U+10FFFF included); *cp gets the code point. */
static int utf8_seq(const unsigned char *s, unsigned *cp) {
  unsigned c = s[0];
  int n = c < 0x80 ? 1 : (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3 : (c & 0xF8) == 0xF0 ? 4 : 0;
  if (!n) return 0;
  unsigned v = n == 1 ? c : c & (0x7F >> n);
  for (int i = 1; i < n; i++) {
    if ((s[i] & 0xC0) != 0x80) return 0;
    v = (v << 6) | (s[i] & 0x3F);
  }
  static const unsigned min[5] = {0, 0, 0x80, 0x800, 0x10000};
  if (v < min[n] || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF)) return 0;
  *cp = v;
  return n;
}

void report_xml_escape(strbuf *b, const char *s) {
  const unsigned char *p = (const unsigned char *)(s ? s : "");
  while (*p) {
    unsigned cp;
    int n = utf8_seq(p, &cp);
    if (!n || (cp < 0x20 && cp != '\t' && cp != '\n' && cp != '\r') || cp == 0xFFFE || cp == 0xFFFF) {
      strbuf_puts(b, "\xEF\xBF\xBD");
      p += n ? n : 1;
      continue;
    }
    switch (cp) {
    case '&': strbuf_puts(b, "&amp;"); break;
    case '<': strbuf_puts(b, "&lt;"); break;
    case '>': strbuf_puts(b, "&gt;"); break;
    case '"': strbuf_puts(b, "&quot;"); break;
    case '\'': strbuf_puts(b, "&#39;"); break;
    case '\r': strbuf_puts(b, "&#13;"); break;
    default: strbuf_append(b, (const char *)p, (size_t)n);
    }
    p += n;
  }
}

const char *report_check_id(const check_result *r, char buf[CHECKID_BUF]) {
  return checkid_show(r->id, r->id_text, buf);
}

void report_check_id_json(strbuf *b, const check_result *r) {
  if (r->id_text)
    strbuf_json_str(b, r->id_text);
  else
    strbuf_printf(b, "%lld", (long long)r->id);
}

void report_compliance_join(strbuf *b, const prog_check_meta *m, const program *p) {
  for (uint32_t i = 0; i < m->ncompliance; i++)
    strbuf_printf(b, "%s%s:%s", i ? "; " : "", program_str(p, m->compliance[2 * i]),
                  program_str(p, m->compliance[2 * i + 1]));
}
