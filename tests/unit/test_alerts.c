/* test_alerts.c — the manager's check alerts written from structured check details
 * (manager/alerts.c): byte for byte the alerts the manager wrote when it still parsed the agents'
 * event JSON (the expected lines below were produced by that code from the equivalent events:
 * every field present, quotes, newlines, control characters and UTF-8 in the strings, every
 * location kind, an empty compliance object, no detail at all). Also the detail's round trip
 * through the codec, as the agent stores it for dumps, and its refusal of bad bytes. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "alerts.h"
#include "checkid.h"
#include "codec.h"
#include "err.h"
#include "test.h"
#include "e2e/tmpdir.h"

static char dir[4096], path[4200], err[256];

/* Today's alerts (after the timestamp) for the four checks of write_alerts. */
static const char *const expected[] = {
    "\"agent\":{\"id\":\"001\"},\"location\":\"sca\",\"data\":{\"sca\":{\"type\":\"check\",\"scan_id\":"
    "\"42\",\"policy\":\"Seed \\\"policy\\\"\",\"check\":{\"id\":\"1000\",\"title\":\"Quote \\\" "
    "and\\nnewline \xc3\xa9"
    " \xe2\x9c\x93"
    "\",\"description\":\"d\\tx\\u0001\",\"rationale\":\"why\",\"remediation\":\"fix \\\\ "
    "it\",\"compliance\":{\"cis\":\"1.1,1.2\",\"pci_dss\":\"2.2\"},\"references\":\"https://a,https://"
    "b\",\"file\":[\"/etc/a\",\"/etc/b\"],\"directory\":[\"/"
    "etc\"],\"registry\":[\"HKLM\\\\X\"],\"process\":[\"sshd\"],\"command\":[\"echo "
    "\\\"hi\\\"\",\"ls\"],\"result\":\"failed\",\"previous_result\":\"passed\"}}}}",
    "\"agent\":{\"id\":\"001\"},\"location\":\"sca\",\"data\":{\"sca\":{\"type\":\"check\",\"scan_id\":"
    "\"43\",\"policy\":\"Seed\",\"check\":{\"id\":\"1001\",\"title\":\"Only a "
    "title\",\"compliance\":{},\"command\":[\"x\"],\"result\":\"not applicable\",\"reason\":\"Could not open "
    "file '/x'\"}}}}",
    "\"agent\":{\"id\":\"002\"},\"location\":\"sca\",\"data\":{\"sca\":{\"type\":\"check\",\"scan_id\":"
    "\"44\",\"policy\":\"Named\",\"check\":{\"id\":\"1002\",\"result\":\"passed\",\"previous_result\":"
    "\"failed\"}}}}",
    "\"agent\":{\"id\":\"002\"},\"location\":\"sca\",\"data\":{\"sca\":{\"type\":\"check\",\"scan_id\":"
    "\"44\",\"policy\":\"seed\",\"check\":{\"id\":\"1003\",\"result\":\"passed\"}}}}",
};

static Tenet__Text *text(Tenet__Text *t, const char *v) {
  tenet__text__init(t);
  t->value = (char *)v;
  return t;
}

/* Check 1000: every member; its locations in the event's order (file, directory, process,
 * registry, command), which the alert reorders. */
typedef struct full {
  Tenet__CheckDetail d;
  Tenet__Text t[4];
  Tenet__Compliance comp;
  Tenet__KeyValue kv[2];
  Tenet__KeyValue *kvp[2];
  Tenet__Location loc[5];
  Tenet__Location *locp[5];
} full;

static void make_full(full *f) {
  memset(f, 0, sizeof *f);
  tenet__check_detail__init(&f->d);
  f->d.policy = "Seed \"policy\"";
  f->d.title = "Quote \" and\nnewline \xc3\xa9 \xe2\x9c\x93";
  f->d.description = text(&f->t[0], "d\tx\x01");
  f->d.rationale = text(&f->t[1], "why");
  f->d.remediation = text(&f->t[2], "fix \\ it");
  f->d.references = text(&f->t[3], "https://a,https://b");
  tenet__compliance__init(&f->comp);
  static const char *const kv[][2] = {{"cis", "1.1,1.2"}, {"pci_dss", "2.2"}};
  for (int i = 0; i < 2; i++) {
    tenet__key_value__init(&f->kv[i]);
    f->kv[i].key = (char *)kv[i][0];
    f->kv[i].value = (char *)kv[i][1];
    f->kvp[i] = &f->kv[i];
  }
  f->comp.entries = f->kvp;
  f->comp.n_entries = 2;
  f->d.compliance = &f->comp;
  static const char *const locs[][2] = {{"file", "/etc/a,/etc/b"},
                                        {"directory", "/etc"},
                                        {"process", "sshd"},
                                        {"registry", "HKLM\\X"},
                                        {"command", "echo \"hi\",ls"}};
  for (int i = 0; i < 5; i++) {
    tenet__location__init(&f->loc[i]);
    f->loc[i].kind = (char *)locs[i][0];
    f->loc[i].value = (char *)locs[i][1];
    f->locp[i] = &f->loc[i];
  }
  f->d.locations = f->locp;
  f->d.n_locations = 5;
}

/* Write the four alerts, with check 1000's detail given by full_detail, and compare the file. */
static void write_and_compare(const Tenet__CheckDetail *full_detail) {
  unlink(path);
  alerts *a = alerts_open(path, err, sizeof err);
  REQUIRE(a);
  alerts_check(a, "001", "seed", NULL, 42, 1000, "failed", "", full_detail, "passed");

  Tenet__CheckDetail na = TENET__CHECK_DETAIL__INIT;
  Tenet__Compliance empty = TENET__COMPLIANCE__INIT;
  Tenet__Location cmd = TENET__LOCATION__INIT, unknown = TENET__LOCATION__INIT;
  Tenet__Location *locs[] = {&unknown, &cmd};
  na.policy = "Seed";
  na.title = "Only a title";
  na.compliance = &empty;
  unknown.kind = "mystery"; /* a kind this manager does not know: ignored */
  unknown.value = "?";
  cmd.kind = "command";
  cmd.value = "x";
  na.locations = locs;
  na.n_locations = 2;
  alerts_check(a, "001", "seed", NULL, 43, 1001, "not applicable", "Could not open file '/x'", &na, NULL);

  alerts_check(a, "002", "seed", "Named", 44, 1002, "passed", "", NULL, "failed"); /* no detail */
  alerts_check(a, "002", "seed", NULL, 44, 1003, "passed", "", NULL, NULL);
  REQUIRE(alerts_flush(a) == TN_OK);
  alerts_close(a);

  FILE *f = fopen(path, "r");
  REQUIRE(f);
  char line[8192];
  size_t n = 0;
  while (fgets(line, sizeof line, f)) {
    REQUIRE(n < sizeof expected / sizeof *expected);
    line[strcspn(line, "\n")] = '\0';
    CHECK(strncmp(line, "{\"timestamp\":\"", 14) == 0);
    const char *rest = strstr(line, "\"agent\":");
    REQUIRE(rest);
    CHECK_STR(rest, expected[n]);
    n++;
  }
  fclose(f);
  CHECK_INT(n, sizeof expected / sizeof *expected);
}

static void test_alerts_byte_identical(void) {
  full f;
  make_full(&f);
  write_and_compare(&f.d);
}

/* The detail as the agent stores it (codec_detail_encode) and reads it back for a dump gives the
 * same alert. */
static void test_detail_roundtrip(void) {
  full f;
  make_full(&f);
  strbuf b = STRBUF_INIT;
  REQUIRE(codec_detail_encode(&f.d, &b, err, sizeof err) == TN_OK);
  Tenet__CheckDetail *d = NULL;
  REQUIRE(codec_detail_decode(b.data, b.len, &d, err, sizeof err) == TN_OK);
  CHECK_STR(d->title, f.d.title);
  CHECK(d->rationale && strcmp(d->rationale->value, "why") == 0);
  write_and_compare(d);
  codec_detail_free(d);

  /* absent members stay absent */
  Tenet__CheckDetail bare = TENET__CHECK_DETAIL__INIT;
  bare.title = "t";
  strbuf_reset(&b);
  REQUIRE(codec_detail_encode(&bare, &b, err, sizeof err) == TN_OK);
  REQUIRE(codec_detail_decode(b.data, b.len, &d, err, sizeof err) == TN_OK);
  CHECK(!d->description && !d->compliance && !d->references && d->n_locations == 0);
  codec_detail_free(d);

  /* bad bytes: truncated, a field of the wrong wire type, NULL strings on the encode side */
  strbuf_reset(&b);
  REQUIRE(codec_detail_encode(&f.d, &b, err, sizeof err) == TN_OK);
  CHECK(codec_detail_decode(b.data, b.len - 3, &d, err, sizeof err) == TN_EPROTO && d == NULL);
  CHECK(strlen(err) > 0);
  static const uint8_t wrong[] = {0x10, 0x01}; /* title (2) as a varint */
  CHECK(codec_detail_decode(wrong, sizeof wrong, &d, err, sizeof err) == TN_EPROTO);
  bare.title = NULL;
  CHECK(codec_detail_encode(&bare, &b, err, sizeof err) == TN_EPROTO);
  CHECK(strstr(err, "title") != NULL);
  codec_detail_free(NULL);
  strbuf_free(&b);
}

/* Many tiny locations: refused before protobuf-c allocates them. */
static void test_detail_element_cap(void) {
  size_t n = CODEC_MAX_REPEATED + 1;
  uint8_t *buf = malloc(2 * n);
  REQUIRE(buf);
  for (size_t i = 0; i < n; i++) {
    buf[2 * i] = (8 << 3) | 2; /* locations, length-delimited */
    buf[2 * i + 1] = 0;        /* empty Location */
  }
  Tenet__CheckDetail *d = NULL;
  CHECK_INT(codec_detail_decode(buf, 2 * n, &d, err, sizeof err), TN_ETOOBIG);
  CHECK(d == NULL);
  CHECK(codec_detail_decode(buf, 2 * (n - 1), &d, err, sizeof err) == TN_OK);
  codec_detail_free(d);
  free(buf);
}

/* A 5.x text id: the alert shows it as written (check_id is its key); it survives the detail's
 * round trip through the codec (the agent's stored detail, a dump). */
static void test_text_id(void) {
  Tenet__CheckDetail d = TENET__CHECK_DETAIL__INIT;
  d.policy = "P";
  d.title = "T";
  d.id_text = "s\"5";
  strbuf b = STRBUF_INIT;
  REQUIRE(codec_detail_encode(&d, &b, err, sizeof err) == TN_OK);
  Tenet__CheckDetail *back = NULL;
  REQUIRE(codec_detail_decode(b.data, b.len, &back, err, sizeof err) == TN_OK);
  CHECK_STR(back->id_text, "s\"5");
  unlink(path);
  alerts *a = alerts_open(path, err, sizeof err);
  REQUIRE(a);
  alerts_check(a, "001", "ids", NULL, 42, checkid_text_key("s\"5", 3), "passed", "", back, NULL);
  d.id_text = ""; /* an integer id: the key, as before */
  alerts_check(a, "001", "ids", NULL, 42, 9, "passed", "", &d, NULL);
  REQUIRE(alerts_flush(a) == TN_OK);
  alerts_close(a);
  char *all = tmp_read(path);
  REQUIRE(all);
  CHECK(strstr(all, "\"check\":{\"id\":\"s\\\"5\",\"title\":\"T\"") != NULL);
  CHECK(strstr(all, "\"check\":{\"id\":\"9\",\"title\":\"T\"") != NULL);
  free(all);
  codec_detail_free(back);
  strbuf_free(&b);
}

int main(void) {
  tmp_make("alerts", dir, sizeof dir);
  snprintf(path, sizeof path, "%s/alerts.json", dir);
  RUN(test_alerts_byte_identical);
  RUN(test_detail_roundtrip);
  RUN(test_detail_element_cap);
  RUN(test_text_id);
  test_rm_rf(dir);
  return test_report();
}
