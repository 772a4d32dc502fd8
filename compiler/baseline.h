/* baseline.h — a previous run's results for `tenet scan --baseline FILE.json`: the checks of a
 * `--format json` report (vm/report_json.c), keyed by policy id and check id (never by scan id),
 * read back defensively: it is a user-supplied file, so sizes, nesting and every member's type are
 * checked and a bad file is a clear error. */
#ifndef TENET_BASELINE_H
#define TENET_BASELINE_H

#include <stddef.h>
#include <stdint.h>

typedef struct baseline baseline;

/* Read path. Returns the baseline (free with baseline_free), or NULL with the reason in err
 * ("FILE: line L: ..." for a syntax error). */
baseline *baseline_load(const char *path, char *err, size_t errlen);
/* Parse a report held in memory (len bytes, need not be NUL-terminated). Same contract. */
baseline *baseline_parse(const char *text, size_t len, char *err, size_t errlen);
void baseline_free(baseline *b);

/* Number of (policy, check) results held. */
size_t baseline_count(const baseline *b);

/* The result ("passed", "failed", "not applicable") of check_id of policy_id, or NULL when the
 * baseline lacks it. Borrowed from b. Matches report_baseline_fn (vm/report.h) with arg = b. */
const char *baseline_result(void *b, const char *policy_id, int64_t check_id);

#endif
