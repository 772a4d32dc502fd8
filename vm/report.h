/* report.h — rendering finished scans in an output format: one table of formats
 * (report_formats.def), each a set of five renderer functions fed the structured results.
 *
 * report_write walks the scans in order and calls, for the chosen format:
 *   begin(ctx)                          once
 *   policy(ctx, scan)                   for each scan that ran (status SCAN_DONE), then
 *   check(ctx, scan, result)            for each of its checks, ascending id, then
 *   summary(ctx, scan)                  its counts, score and hashes
 *   end(ctx)                            once
 * A renderer reads the policy through scan->prog, a check's metadata through scan_check_meta and
 * everything else from the structs (scan.h); it never parses JSON. Formats that need the whole
 * run before writing (a document with a header holding totals) collect in begin..end and write
 * in end, keeping what they collect in ctx->state. */
#ifndef TENET_REPORT_H
#define TENET_REPORT_H

#include <stddef.h>
#include <stdio.h>

#include "checkid.h"
#include "scan.h"
#include "strbuf.h"

/* A waiver applying to one check (see `tenet scan --waivers`): the check is still evaluated and its
 * result and the results hash are unchanged; formats other than jsonl show it as "waived" (or, once
 * expired, the real result with the waiver marked expired) and gates do not count an active one. */
typedef struct report_waiver {
  const char *justification; /* why the check is waived */
  const char *owner;         /* who answers for it */
  const char *expires;       /* expiry date as written (YYYY-MM-DD) */
  int expired;               /* 1: past its expiry at scan time, so it no longer applies */
} report_waiver;

/* The waiver for (policy id, check id), or NULL. Owned by whoever supplies the function. */
typedef const report_waiver *(*report_waiver_fn)(void *arg, const char *policy_id, int64_t check_id);

/* The result ("passed", "failed", "not applicable") check_id of policy_id had in a previous run
 * (`tenet scan --baseline`), or NULL when that run did not have the check. Owned by the supplier. */
typedef const char *(*report_baseline_fn)(void *arg, const char *policy_id, int64_t check_id);

/* The name and version the structured formats (json, sarif, junit, html) print as the tool. */
#define REPORT_TOOL_NAME "tenet"
#define REPORT_TOOL_VERSION "0.1.0"

typedef struct report_options {
  FILE *out;      /* where the report goes */
  int color;      /* ANSI colours allowed (text formats) */
  double seconds; /* wall time of the whole run */
  report_waiver_fn waiver; /* may be NULL: no waivers */
  void *waiver_arg;
  report_baseline_fn baseline; /* may be NULL: no baseline to compare with */
  void *baseline_arg;
  int only_changes; /* with a baseline: formats other than jsonl show only the checks that changed */
} report_options;


typedef struct report_ctx {
  const report_options *opt;
  const policy_scan *scans; /* every scan of the run, in command-line order (also skipped ones) */
  size_t nscans;
  void *state; /* the format's own, NULL at begin; the format frees it by end */
} report_ctx;

/* The waiver of check r of scan s under ctx's options, or NULL (none supplied or none applies). */
const report_waiver *report_check_waiver(const report_ctx *ctx, const policy_scan *s, const check_result *r);

/* What a reader should see for check r: "waived" when an active (unexpired) waiver covers it,
 * else its result name ("passed", "failed", "not applicable"). Static. */
const char *report_check_status(const report_ctx *ctx, const policy_scan *s, const check_result *r);

/* 1 when a baseline is set and check r's result differs from it (or the baseline lacks the check);
 * *before (may be NULL) gets the baseline's result or NULL. 0 otherwise. */
int report_check_changed(const report_ctx *ctx, const policy_scan *s, const check_result *r, const char **before);

/* 1 when check r belongs in the report: always, except under only_changes for unchanged checks. */
int report_check_shown(const report_ctx *ctx, const policy_scan *s, const check_result *r);

/* Counts of scan s as a reader sees them: an active waiver moves a check from its result to
 * waived. Any pointer may be NULL. */
void report_scan_counts(const report_ctx *ctx, const policy_scan *s, int *passed, int *failed, int *invalid,
                        int *waived);

/* Append s as XML/HTML character data or attribute text: & < > " ' escaped, invalid UTF-8 and
 * characters XML 1.0 forbids (controls other than TAB, LF, CR) replaced by U+FFFD. s may be NULL. */
void report_xml_escape(strbuf *b, const char *s);

/* The id a check shows: its text id (5.x), else its integer id in decimal (written to buf). */
const char *report_check_id(const check_result *r, char buf[CHECKID_BUF]);
/* The id as a JSON value (appended to b): a number for an integer id, a string for a text id. */
void report_check_id_json(strbuf *b, const check_result *r);

/* The compliance pairs of m as "key:value; key:value" (appended to b). */
void report_compliance_join(strbuf *b, const prog_check_meta *m, const program *p);

/* Renderer functions return TN_OK or a status (TN_EIO, TN_ENOMEM) that stops the report. */
typedef int (*report_fn_begin)(report_ctx *ctx);
typedef int (*report_fn_policy)(report_ctx *ctx, const policy_scan *s);
typedef int (*report_fn_check)(report_ctx *ctx, const policy_scan *s, const check_result *r);
typedef int (*report_fn_summary)(report_ctx *ctx, const policy_scan *s);
typedef int (*report_fn_end)(report_ctx *ctx);

typedef struct report_format {
  const char *name;
  const char *description;
  report_fn_begin begin;
  report_fn_policy policy;
  report_fn_check check;
  report_fn_summary summary;
  report_fn_end end;
} report_format;

/* The format called name, or NULL. Static. */
const report_format *report_format_find(const char *name);
/* The formats in table order (i < report_format_count()). Static. */
size_t report_format_count(void);
const report_format *report_format_at(size_t i);

/* Render scans[0..n) with format f. Returns TN_OK, the first renderer error, or TN_EIO when
 * writing to opt->out failed. */
int report_write(const report_format *f, const report_options *opt, const policy_scan *scans, size_t n);

/* Declarations of every renderer function, from the table. */
#define REPORT_FORMAT(name, desc, b, p, c, s, e)                                                             \
  int b(report_ctx *ctx);                                                                                    \
  int p(report_ctx *ctx, const policy_scan *s_);                                                             \
  int c(report_ctx *ctx, const policy_scan *s_, const check_result *r_);                                     \
  int s(report_ctx *ctx, const policy_scan *s_);                                                             \
  int e(report_ctx *ctx);
#include "report_formats.def"
#undef REPORT_FORMAT

#endif
