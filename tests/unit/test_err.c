/* test_err.c — the status table (vm/err.def) and the one error-buffer helper, tn_err_set. */
#include "test.h"

#include "err.h"

static void test_set_formats_and_returns_status(void) {
  char buf[32];
  CHECK_INT(tn_err_set(buf, sizeof buf, TN_EIO, "cannot open %s: %d", "x.tnb", 2), TN_EIO);
  CHECK_STR(buf, "cannot open x.tnb: 2");
  CHECK_INT(tn_err_set(buf, sizeof buf, TN_OK, "%s", ""), TN_OK);
  CHECK_STR(buf, "");
}

static void test_set_truncates_and_tolerates_no_buffer(void) {
  char buf[8];
  memset(buf, 'z', sizeof buf);
  CHECK_INT(tn_err_set(buf, sizeof buf, TN_ETOOBIG, "%s", "0123456789"), TN_ETOOBIG);
  CHECK_STR(buf, "0123456"); /* always NUL-terminated */
  CHECK_INT(tn_err_set(NULL, 64, TN_ENOMEM, "out of memory"), TN_ENOMEM);
  buf[0] = 'q';
  CHECK_INT(tn_err_set(buf, 0, TN_EPROTO, "nothing written"), TN_EPROTO);
  CHECK_INT(buf[0], 'q');
}

static void test_every_status_has_a_message(void) {
  int n = 0;
#define ERR(sym, num, msg)                                                                                   \
  CHECK_STR(tn_strerror(TN_##sym), msg);                                                                     \
  CHECK(tn_strerror(num)[0] != '\0');                                                                        \
  n++;
#include "err.def"
#undef ERR
  CHECK(n >= 25);
  CHECK_STR(tn_strerror(-1), "unknown error");
  CHECK_STR(tn_strerror(100000), "unknown error");
}

int main(void) {
  RUN(test_set_formats_and_returns_status);
  RUN(test_set_truncates_and_tolerates_no_buffer);
  RUN(test_every_status_has_a_message);
  return test_report();
}
