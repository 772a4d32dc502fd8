/* event.h — Wazuh 4.x-shaped JSON events (SCA-SEMANTICS §6.2, §6.3), printed the way cJSON prints them. */
#ifndef TENET_EVENT_H
#define TENET_EVENT_H

#include "eval.h"
#include "program.h"
#include "scan.h"
#include "strbuf.h"

/* Append a number the way cJSON_PrintUnformatted does (integers plainly, else %1.15g, or %1.17g
 * when %1.15g does not round-trip). */
void event_json_number(strbuf *b, double d);
/* Render a check event from the check's pre-rendered metadata and its outcome (c holds the
 * location messages). Returns a malloc'd string or NULL. */
char *event_render_check(const program *p, const prog_check *chk, int64_t scan_id, int result,
                         const char *reason, const eval_ctx *c);
/* Render the summary event of a finished scan (Tenet adds "bundle_hash" after "hash_file"). */
char *event_render_summary(const program *p, const policy_scan *s);

#endif
