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
/* Render the event of a structured check result r of program p: the check's pre-rendered
 * metadata (prog_check.meta, spliced as compiled), then r's locations, result and reason.
 * Returns a malloc'd string (caller frees) or NULL. */
char *event_render_check(const program *p, const check_result *r, int64_t scan_id);
/* The event key of a location kind (enum ev_location): "file", "directory", ...; NULL when out of
 * range. Static string. */
const char *event_location_key(int kind);
/* The text id (5.x string id) of the check event `event` rendered for the check keyed `key`: the
 * check object's "id" string, decoded into out (cap bytes). For stores that keep a check's key and
 * its event but no text-id column (the manager's `query checks`). Returns 1 when the event carries
 * a string id whose checkid_text_key is key, else 0 (out ""): an integer id, another shape, or an
 * event that does not belong to the key (it came from a peer: never trusted further). */
int event_check_text_id(const char *event, int64_t key, char *out, size_t cap);
/* Render the summary event of a finished scan (Tenet adds "bundle_hash" after "hash_file"). */
char *event_render_summary(const program *p, const policy_scan *s);

#endif
