/* test_checkid.c — check keys and 5.x text ids (vm/checkid.h), and reading a text id back out of
 * a rendered event (event_check_text_id, for the manager's `query checks`). */
#include <string.h>

#include "checkid.h"
#include "event.h"
#include "test.h"

/* The key's definition, pinned: 2^62 | the first 62 bits of SHA-256 (big-endian). The values are
 * part of the bundle, store and wire formats. */
static void test_text_key(void) {
  /* sha256("s5") begins 3b96fc064fa874a8: top two bits cleared, bit 62 set: 0x7b96fc064fa874a8 */
  CHECK(checkid_text_key("s5", 2) == 8905582417208177832LL);
  CHECK(checkid_text_key("cis-1.2", 7) == 7679059502119933678LL);
  CHECK(checkid_text_key("s5x", 2) == checkid_text_key("s5", 2)); /* len counts, not the NUL */
  CHECK(checkid_text_key("s5", 2) != checkid_text_key("s6", 2));
  const char *texts[] = {"", "a", "s5", "\xff\xfe", "99999999999", "1.5", "-0"};
  for (size_t i = 0; i < sizeof texts / sizeof *texts; i++) {
    int64_t k = checkid_text_key(texts[i], strlen(texts[i]));
    CHECK(checkid_is_text_key(k));
    CHECK(k > INT32_MAX); /* above every integer id a policy may write */
  }
  CHECK(!checkid_is_text_key(INT32_MAX));
  CHECK(!checkid_is_text_key(-1));
  CHECK(!checkid_is_text_key(CHECKID_TEXT_BASE - 1));
}

static void test_parse_and_show(void) {
  int64_t k;
  CHECK_INT(checkid_parse("5", 1, &k), 1);
  CHECK(k == 5);
  CHECK_INT(checkid_parse("0042", 4, &k), 1);
  CHECK(k == 42);
  CHECK_INT(checkid_parse("-7", 2, &k), 1);
  CHECK(k == -7);
  CHECK_INT(checkid_parse("+3", 2, &k), 1);
  CHECK(k == 3);
  CHECK_INT(checkid_parse("2147483647", 10, &k), 1);
  CHECK(k == INT32_MAX);
  CHECK_INT(checkid_parse("2147483648", 10, &k), 0); /* beyond 32 bits: a text id */
  CHECK(k == checkid_text_key("2147483648", 10));
  CHECK_INT(checkid_parse("s5", 2, &k), 0);
  CHECK(k == checkid_text_key("s5", 2));
  CHECK_INT(checkid_parse("-", 1, &k), 0);
  CHECK_INT(checkid_parse("", 0, &k), 0);
  CHECK_INT(checkid_parse("123456789012345678901", 21, &k), 0);
  char buf[CHECKID_BUF];
  CHECK_STR(checkid_show(42, NULL, buf), "42");
  CHECK_STR(checkid_show(INT64_MIN, NULL, buf), "-9223372036854775808");
  CHECK_STR(checkid_show(checkid_text_key("s5", 2), "s5", buf), "s5");
}

static void test_event_text_id(void) {
  int64_t k = checkid_text_key("s\"5\n\x01", 5);
  char out[64];
  const char *ev =
      "{\"type\":\"check\",\"id\":1,\"policy\":\"a,\\\"check\\\":{\\\"id\\\":\\\"x\\\"\",\"policy_id\":\"p\","
      "\"check\":{\"id\":\"s\\\"5\\n\\u0001\",\"title\":\"t\"}}";
  CHECK_INT(event_check_text_id(ev, k, out, sizeof out), 1);
  CHECK_STR(out, "s\"5\n\x01");
  /* the key must be the text's */
  CHECK_INT(event_check_text_id(ev, checkid_text_key("s5", 2), out, sizeof out), 0);
  CHECK_STR(out, "");
  /* an integer key never reads the event */
  CHECK_INT(event_check_text_id("{\"check\":{\"id\":\"5\"}}", 5, out, sizeof out), 0);
  /* other shapes: a number, a bad escape, unterminated, too long for out */
  int64_t ks5 = checkid_text_key("s5", 2);
  CHECK_INT(event_check_text_id("{\"type\":\"check\",\"check\":{\"id\":5}}", ks5, out, sizeof out), 0);
  CHECK_INT(event_check_text_id("{\"a\":1,\"check\":{\"id\":\"s\\q5\"}}", ks5, out, sizeof out), 0);
  CHECK_INT(event_check_text_id("{\"a\":1,\"check\":{\"id\":\"s5", ks5, out, sizeof out), 0);
  CHECK_INT(event_check_text_id("{\"a\":1,\"check\":{\"id\":\"s5\"}}", ks5, out, 2), 0);
  CHECK_INT(event_check_text_id("{\"a\":1,\"check\":{\"id\":\"s5\"}}", ks5, out, 3), 1);
  CHECK_STR(out, "s5");
  CHECK_INT(event_check_text_id(NULL, ks5, out, sizeof out), 0);
}

int main(void) {
  RUN(test_text_key);
  RUN(test_parse_and_show);
  RUN(test_event_text_id);
  return test_report();
}
