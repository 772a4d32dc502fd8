/* report.c — the output format table and the walk that feeds a format's renderers (report.h). */
#include "report.h"

#include <string.h>

#include "err.h"

static const report_format formats[] = {
#define REPORT_FORMAT(name, desc, b, p, c, s, e) {#name, desc, b, p, c, s, e},
#include "report_formats.def"
#undef REPORT_FORMAT
};

#define NFORMATS (sizeof formats / sizeof formats[0])

const report_format *report_format_find(const char *name) {
  for (size_t i = 0; name && i < NFORMATS; i++)
    if (strcmp(formats[i].name, name) == 0) return &formats[i];
  return NULL;
}

size_t report_format_count(void) { return NFORMATS; }

const report_format *report_format_at(size_t i) { return i < NFORMATS ? &formats[i] : NULL; }

int report_write(const report_format *f, const report_options *opt, const policy_scan *scans, size_t n) {
  report_ctx ctx = {.opt = opt, .scans = scans, .nscans = n};
  int rc = f->begin(&ctx);
  for (size_t k = 0; rc == TN_OK && k < n; k++) {
    const policy_scan *s = &scans[k];
    if (s->status != SCAN_DONE) continue;
    rc = f->policy(&ctx, s);
    for (size_t i = 0; rc == TN_OK && i < s->nchecks; i++)
      rc = f->check(&ctx, s, &s->checks[i]);
    if (rc == TN_OK) rc = f->summary(&ctx, s);
  }
  int erc = f->end(&ctx); /* always: it frees the format's state */
  if (rc == TN_OK) rc = erc;
  if (fflush(opt->out) != 0 || ferror(opt->out)) return rc == TN_OK ? TN_EIO : rc;
  return rc;
}
