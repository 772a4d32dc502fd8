/* test_event.c — events are printed the way the Wazuh 4.x agent (cJSON) prints them. */
#include "err.h"
#include "event.h"
#include "test.h"

static char *num(double d) {
  static char buf[64];
  strbuf b = STRBUF_INIT;
  event_json_number(&b, d);
  snprintf(buf, sizeof buf, "%s", b.data ? b.data : "");
  strbuf_free(&b);
  return buf;
}

static void test_numbers_like_cjson(void) {
  CHECK_STR(num(0), "0");
  CHECK_STR(num(100), "100");
  CHECK_STR(num(-5), "-5");
  /* 1 passed / 2 failed in float32, printed as a double (SCA-SEMANTICS §6.3) */
  float score = (float)1 / ((float)2 + (float)1) * 100;
  CHECK_STR(num((double)score), "33.333335876464844");
  float s2 = (float)61 / ((float)93 + (float)61) * 100;
  CHECK_STR(num((double)s2), "39.610389709472656");
  CHECK_STR(num(0.5), "0.5");
  /* 15 digits kept when they read back within a relative DBL_EPSILON, though not exactly (cJSON's
   * compare_double; SCA-SEMANTICS §6.3): pairs (passed, failed) checked against the 4.14.7 rule. */
  static const struct { int passed, failed; const char *text; } near[] = {
      {4, 17, "19.0476188659668"}, {1, 11, "8.33333396911621"}, {1, 20, "4.7619047164917"},
      {1, 26, "3.70370364189148"}, {2, 1, "66.6666717529297"},  {1, 53, "1.85185182094574"},
  };
  for (size_t i = 0; i < sizeof near / sizeof near[0]; i++) {
    float s = (float)near[i].passed / ((float)near[i].failed + (float)near[i].passed) * 100;
    CHECK_STR(num((double)s), near[i].text);
  }
}

static void test_json_escaping_like_cjson(void) {
  strbuf b = STRBUF_INIT;
  strbuf_json_str(&b, "a\"b\\c\n\t\x01/é");
  CHECK_STR(b.data, "\"a\\\"b\\\\c\\n\\t\\u0001/é\"");
  strbuf_free(&b);
}

static void test_check_event_shape(void) {
  program *p = program_new();
  p->policy_name = program_intern(p, "Demo policy");
  p->policy_id = program_intern(p, "demo");
  prog_check chk = {.id = 1000, .meta = program_intern(p, "\"id\":1000,\"title\":\"T\",\"rules\":[\"f:/x\"],\"condition\":\"all\"")};
  REQUIRE(program_add_check(p, &chk) == TN_OK);
  check_result r = {.id = 1000, .index = 0, .result = EV_NOT_FOUND};
  r.loc[LOC_FILE] = "/x";
  r.loc[LOC_COMMAND] = "echo \"hi\"";
  char *ev = event_render_check(p, &r, 42);
  CHECK_STR(ev, "{\"type\":\"check\",\"id\":42,\"policy\":\"Demo policy\",\"policy_id\":\"demo\",\"check\":{\"id\":1000,"
                "\"title\":\"T\",\"rules\":[\"f:/x\"],\"condition\":\"all\",\"file\":\"/x\",\"command\":\"echo \\\"hi\\\"\","
                "\"result\":\"failed\"}}");
  free(ev);
  r.result = EV_INVALID;
  ev = event_render_check(p, &r, 42);
  CHECK(strstr(ev, "\"status\":\"Not applicable\",\"reason\":\"Unknown reason\"}}") != NULL);
  free(ev);
  r.index = 1; /* no such check */
  CHECK(event_render_check(p, &r, 42) == NULL);
  program_free(p);
}

/* The evaluator's location list drops exact duplicates before a result carries it. */
static void test_location_duplicates_dropped(void) {
  eval_ctx c;
  memset(&c, 0, sizeof c);
  eval_note_location(&c, LOC_FILE, "/x");
  eval_note_location(&c, LOC_FILE, "/x");
  eval_note_location(&c, LOC_FILE, "/y");
  CHECK_STR(c.loc[LOC_FILE].data, "/x,/y");
  eval_ctx_free(&c);
}

static void test_location_classified_by_first_marker(void) {
  /* a command containing "File: " is filed as a file (SCA-SEMANTICS §11.31) */
  eval_ctx c;
  memset(&c, 0, sizeof c);
  eval_note_location(&c, LOC_COMMAND, "echo File: x");
  CHECK_INT(c.loc[LOC_COMMAND].len, 0);
  CHECK_STR(c.loc[LOC_FILE].data, "x");
  eval_ctx_free(&c);
}

int main(void) {
  RUN(test_numbers_like_cjson);
  RUN(test_json_escaping_like_cjson);
  RUN(test_check_event_shape);
  RUN(test_location_classified_by_first_marker);
  RUN(test_location_duplicates_dropped);
  return test_report();
}
