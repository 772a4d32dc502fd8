/* event.c — rendering of check and summary events (SCA-SEMANTICS §6.2, §6.3). Key order and number
 * formatting follow what the Wazuh 4.x agent emits, so consumers of Wazuh events can read ours. */
#include "event.h"

#include <ctype.h>
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "checkid.h"

void event_json_number(strbuf *b, double d) {
  if (isnan(d) || isinf(d)) {
    strbuf_puts(b, "null");
    return;
  }
  if (d == (double)(long long)d && fabs(d) < 1e15) {
    strbuf_printf(b, "%lld", (long long)d);
    return;
  }
  char buf[32];
  snprintf(buf, sizeof buf, "%1.15g", d);
  /* cJSON keeps the 15-digit form when it reads back within a relative DBL_EPSILON of the value,
   * not only when it is exact (SCA-SEMANTICS §6.3): 4 passed / 17 failed prints 19.0476188659668. */
  double back = strtod(buf, NULL);
  double scale = fabs(back) > fabs(d) ? fabs(back) : fabs(d);
  if (fabs(back - d) > scale * DBL_EPSILON) snprintf(buf, sizeof buf, "%1.17g", d);
  strbuf_puts(b, buf);
}

static const char *const loc_keys[LOC__COUNT] = {
#define RULE(letter, op, eval, loc, key, ...) [loc] = key,
#include "rules.def"
#undef RULE
};

const char *event_location_key(int kind) { return kind >= 0 && kind < LOC__COUNT ? loc_keys[kind] : NULL; }

char *event_render_check(const program *p, const check_result *r, int64_t scan_id) {
  if (r->index >= p->nchecks) return NULL;
  const prog_check *chk = &p->checks[r->index];
  strbuf b = STRBUF_INIT;
  strbuf_printf(&b, "{\"type\":\"check\",\"id\":%lld,\"policy\":", (long long)scan_id);
  strbuf_json_str(&b, program_str(p, p->policy_name));
  strbuf_puts(&b, ",\"policy_id\":");
  strbuf_json_str(&b, program_str(p, p->policy_id));
  strbuf_puts(&b, ",\"check\":{");
  strbuf_puts(&b, program_str(p, chk->meta));
  for (int k = 0; k < LOC__COUNT; k++) {
    if (!r->loc[k]) continue;
    strbuf_printf(&b, ",\"%s\":", loc_keys[k]);
    strbuf_json_str(&b, r->loc[k]);
  }
  if (r->result == EV_NOT_RUN) {
    strbuf_puts(&b, ",\"status\":\"Not run\""); /* 5.x only (docs/PROTOCOL.md "Not run") */
  } else if (r->result == EV_INVALID) {
    strbuf_puts(&b, ",\"status\":\"Not applicable\",\"reason\":");
    strbuf_json_str(&b, r->reason ? r->reason : "Unknown reason");
  } else {
    strbuf_printf(&b, ",\"result\":\"%s\"", r->result == EV_FOUND ? "passed" : "failed");
  }
  strbuf_puts(&b, "}}");
  return strbuf_take(&b);
}

char *event_render_summary(const program *p, const policy_scan *s) {
  strbuf b = STRBUF_INIT;
  strbuf_printf(&b, "{\"type\":\"summary\",\"scan_id\":%lld,\"name\":", (long long)s->scan_id);
  strbuf_json_str(&b, program_str(p, p->policy_name));
  strbuf_puts(&b, ",\"policy_id\":");
  strbuf_json_str(&b, program_str(p, p->policy_id));
  strbuf_puts(&b, ",\"file\":");
  strbuf_json_str(&b, program_str(p, p->policy_file));
  strbuf_puts(&b, ",\"description\":");
  strbuf_json_str(&b, program_str(p, p->policy_description));
  if (p->policy_references != PROG_NONE) {
    strbuf_puts(&b, ",\"references\":");
    strbuf_json_str(&b, program_str(p, p->policy_references));
  }
  strbuf_printf(&b, ",\"passed\":%d,\"failed\":%d,\"invalid\":%d,\"total_checks\":%zu,\"score\":", s->passed,
                s->failed, s->invalid, s->nchecks);
  event_json_number(&b, (double)s->score);
  strbuf_printf(&b, ",\"start_time\":%lld,\"end_time\":%lld,\"hash\":\"%s\",\"hash_file\":\"%s\"",
                (long long)s->start_time, (long long)s->end_time, s->hash, s->hash_file);
  if (s->bundle_hash[0]) strbuf_printf(&b, ",\"bundle_hash\":\"%s\"", s->bundle_hash);
  strbuf_putc(&b, '}');
  return strbuf_take(&b);
}

int event_check_text_id(const char *event, int64_t key, char *out, size_t cap) {
  static const char at[] = ",\"check\":{\"id\":\""; /* a structural quote follows ',' in JSON */
  if (cap) out[0] = '\0';
  const char *p = event && checkid_is_text_key(key) ? strstr(event, at) : NULL;
  if (!p || cap == 0) return 0;
  size_t n = 0;
  for (p += sizeof at - 1; *p != '"'; p++) { /* strbuf_json_escape's escapes, nothing else */
    char c = *p;
    if (!c) return 0;
    if (c == '\\') {
      static const char from[] = "\"\\bfnrt", to[] = "\"\\\b\f\n\r\t";
      const char *e = *++p ? strchr(from, *p) : NULL;
      if (e) {
        c = to[e - from];
      } else if (*p == 'u' && p[1] == '0' && p[2] == '0' && isxdigit((unsigned char)p[3]) &&
                 isxdigit((unsigned char)p[4])) {
        char hx[3] = {p[3], p[4], 0};
        c = (char)strtol(hx, NULL, 16);
        p += 4;
      } else {
        return 0;
      }
    }
    if (n + 1 >= cap || c == '\0') return 0;
    out[n++] = c;
  }
  out[n] = '\0';
  if (checkid_text_key(out, n) == key) return 1;
  out[0] = '\0';
  return 0;
}
