/* eval_ctx.c — per-check outputs of an evaluation: the reason (first one set wins, SCA-SEMANTICS
 * §2.10) and the event location messages (§6.2: " File: ...", duplicates dropped, at most 255,
 * each cut at 1024 bytes, classified by the first kind marker they contain). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eval.h"

#define LOC_MAX_MESSAGES 255
#define LOC_MAX_MESSAGE 1024

/* " File: " ... by location kind (rules.def's marker column). */
static const char *const markers[LOC__COUNT] = {
#define RULE(letter, op, eval, loc, key, marker, ...) [loc] = marker ": ",
#include "rules.def"
#undef RULE
};

void eval_set_reason(eval_ctx *c, const char *fmt, ...) {
  int five = c->prog && c->prog->dialect == DIALECT_WAZUH5;
  if (five ? c->rule_reason || (c->opt && c->opt->reasons_gcc) : c->reason != NULL) return;
  char *text = NULL;
  va_list ap;
  va_start(ap, fmt);
  if (vasprintf(&text, fmt, ap) < 0) text = NULL;
  va_end(ap);
  if (!text) return;
  c->rule_reason = 1;
  if (!c->reason) {
    c->reason = text;
    return;
  }
  char *joined = NULL;
  if (asprintf(&joined, "%s\n%s", c->reason, text) >= 0) {
    free(c->reason);
    c->reason = joined;
  }
  free(text);
}

void eval_note_location(eval_ctx *c, int kind, const char *value) {
  if (kind < 0 || kind >= LOC__COUNT || c->nloc_seen >= LOC_MAX_MESSAGES) return;
  /* Wazuh builds " <Kind>: <value>" into a 1024-byte buffer. */
  char msg[LOC_MAX_MESSAGE];
  snprintf(msg, sizeof msg, " %s%s", markers[kind], value);
  for (size_t i = 0; i < c->nloc_seen; i++)
    if (strcmp(c->loc_seen[i], msg) == 0) return;
  char **n = realloc(c->loc_seen, (c->nloc_seen + 1) * sizeof *n);
  if (!n) return;
  c->loc_seen = n;
  if (!(c->loc_seen[c->nloc_seen] = strdup(msg))) return;
  c->nloc_seen++;
  /* The message's kind is the first marker it contains, in Wazuh's order (§11.31), which is the
   * order of the kinds' values (rules.def's event_pos). */
  for (int i = 0; i < LOC__COUNT; i++) {
    const char *hit = strstr(msg, markers[i]);
    if (!hit) continue;
    strbuf *b = &c->loc[i];
    if (b->len) strbuf_putc(b, ',');
    strbuf_puts(b, hit + strlen(markers[i]));
    return;
  }
}

void eval_ctx_reset(eval_ctx *c) {
  free(c->reason);
  c->reason = NULL;
  c->rule_reason = 0;
  for (int i = 0; i < LOC__COUNT; i++) strbuf_reset(&c->loc[i]);
  for (size_t i = 0; i < c->nloc_seen; i++) free(c->loc_seen[i]);
  c->nloc_seen = 0;
}

void eval_ctx_free(eval_ctx *c) {
  if (!c) return;
  eval_ctx_reset(c);
  for (int i = 0; i < LOC__COUNT; i++) strbuf_free(&c->loc[i]);
  free(c->loc_seen);
  c->loc_seen = NULL;
}
