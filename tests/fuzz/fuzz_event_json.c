/* fuzz_event_json.c — libFuzzer harness for the manager's JSON reader (manager/json.c), which
 * parses the check events agents send (hostile input) to fill the sca.* fields of alerts.
 *
 * Invariants: json_parse gives a value exactly when it does not write an error; lookups on any
 * value are safe; an object's keys and members are all present. Built as fuzz_event_json and
 * replay_event_json (tests/fuzz/tests.cmake); seeds in tests/fuzz/corpus/event_json/. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"

static void walk(const json_value *v, int depth) {
  if (depth > JSON_MAX_DEPTH + 1) abort(); /* the reader bounds nesting */
  if ((v->type == JSON_STRING || v->type == JSON_NUMBER) && !v->text) abort();
  for (size_t i = 0; i < v->n; i++) {
    if (!v->items[i]) abort();
    if (v->type == JSON_OBJECT && !v->keys[i]) abort();
    walk(v->items[i], depth + 1);
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char err[256] = "";
  json_value *v = json_parse((const char *)data, size, err, sizeof err);
  if (!v) {
    if (!err[0]) abort(); /* every refusal says why */
    return 0;
  }
  walk(v, 0);
  const json_value *check = json_get(v, "check");
  (void)json_str(json_get(check, "title"));
  (void)json_str(json_get(check, "result"));
  (void)json_get(json_get(check, "compliance"), "cis");
  json_free(v);
  return 0;
}
