/* test_proto.c — the codec: every message survives encode -> decode unchanged (also through a
 * frame), and hostile bytes (garbage, every truncation, out-of-range values, oversized input) are
 * refused with TN_EPROTO / TN_ETOOBIG instead of crashing or slipping through. */
#include <stdint.h>

#include "checkid.h"
#include "codec.h"
#include "err.h"
#include "frame.h"
#include "proto_hex.h"
#include "test.h"

#define H1 "1642ab1dc478052ac3556b5e700cd82adb69728008301882b9cbee0696ff2c84"
#define H2 "b43037ca28d95a69b6f9e03fcd826d2b253a6bb1b6ad28c4ae57a3a766ace610"
#define H3 "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

static char err[256];

/* Encode env, decode the bytes, return the decoded message (caller frees). */
static Tenet__Envelope *round_trip(const Tenet__Envelope *env) {
  strbuf sb = STRBUF_INIT;
  int rc = codec_encode(env, &sb, err, sizeof err);
  if (rc != TN_OK) fprintf(stderr, "encode: %s\n", err);
  REQUIRE(rc == TN_OK);
  Tenet__Envelope *out = NULL;
  rc = codec_decode(sb.data, sb.len, FRAME_MAX_DEFAULT, &out, err, sizeof err);
  if (rc != TN_OK) fprintf(stderr, "decode: %s\n", err);
  strbuf_free(&sb);
  REQUIRE(rc == TN_OK && out);
  CHECK_INT(out->seq, env->seq);
  CHECK_INT(out->body_case, env->body_case);
  return out;
}

static void test_hello(void) {
  Tenet__PolicyInfo p1 = TENET__POLICY_INFO__INIT, p2 = TENET__POLICY_INFO__INIT;
  p1.policy_id = "cis_debian12";
  p1.bundle_hash = hx(H1);
  p1.policy_version = 7;
  p2.policy_id = "tenet_base";
  p2.bundle_hash = hx(H2);
  p2.policy_version = 1;
  Tenet__PolicyInfo *ps[] = {&p1, &p2};
  Tenet__Hello h = TENET__HELLO__INIT;
  h.protocol = CODEC_PROTOCOL_VERSION;
  h.agent_id = "agent-001";
  h.agent_version = "0.1.0";
  h.n_policies = 2;
  h.policies = ps;
  Tenet__Envelope env = TENET__ENVELOPE__INIT;
  env.body_case = TENET__ENVELOPE__BODY_HELLO;
  env.hello = &h;
  Tenet__Envelope *m = round_trip(&env);
  CHECK_INT(m->hello->protocol, 1);
  CHECK_STR(m->hello->agent_id, "agent-001");
  CHECK_STR(m->hello->agent_version, "0.1.0");
  REQUIRE(m->hello->n_policies == 2);
  CHECK_STR(m->hello->policies[0]->policy_id, "cis_debian12");
  CHECK_STR(xh(m->hello->policies[0]->bundle_hash), H1);
  CHECK_INT(m->hello->policies[0]->policy_version, 7);
  CHECK_STR(m->hello->policies[1]->policy_id, "tenet_base");
  CHECK_STR(xh(m->hello->policies[1]->bundle_hash), H2);
  CHECK_STR(codec_body_name(m->body_case), "hello");
  codec_free(m);
}

static void test_check_deltas(void) {
  static const char *ev =
      "{\"type\":\"check\",\"id\":1846571930,\"policy\":\"P\",\"policy_id\":\"p\",\"check\":{\"id\":33011,"
      "\"title\":\"Ensure nodev option set on /tmp partition.\",\"command\":\"findmnt -kn /tmp\","
      "\"status\":\"Not applicable\",\"reason\":\"Timeout overtaken running command 'findmnt -kn /tmp'\"}}";
  Tenet__CheckDelta c[3] = {TENET__CHECK_DELTA__INIT, TENET__CHECK_DELTA__INIT, TENET__CHECK_DELTA__INIT};
  c[0].check_id = 1000;
  c[0].result = TENET__CHECK_RESULT__PASSED;
  c[0].event_json = "{\"type\":\"check\"}";
  c[1].check_id = -5; /* ids are signed in the schema */
  c[1].result = TENET__CHECK_RESULT__FAILED;
  c[2].check_id = 33011;
  c[2].result = TENET__CHECK_RESULT__NOT_APPLICABLE;
  c[2].reason = "Timeout overtaken running command 'findmnt -kn /tmp'";
  c[2].event_json = (char *)ev;
  Tenet__CheckDelta *cs[] = {&c[0], &c[1], &c[2]};
  Tenet__CheckDeltas d = TENET__CHECK_DELTAS__INIT;
  d.policy_id = "cis_debian12";
  d.scan_id = 1846571930;
  d.n_checks = 3;
  d.checks = cs;
  d.dump = 1;
  Tenet__Envelope env = TENET__ENVELOPE__INIT;
  env.seq = 1234567890123ULL;
  env.body_case = TENET__ENVELOPE__BODY_CHECK_DELTAS;
  env.check_deltas = &d;
  Tenet__Envelope *m = round_trip(&env);
  Tenet__CheckDeltas *o = m->check_deltas;
  CHECK_STR(o->policy_id, "cis_debian12");
  CHECK_INT(o->scan_id, 1846571930);
  CHECK(o->dump);
  REQUIRE(o->n_checks == 3);
  CHECK_INT(o->checks[0]->check_id, 1000);
  CHECK_INT(o->checks[0]->result, TENET__CHECK_RESULT__PASSED);
  CHECK_STR(o->checks[0]->reason, "");
  CHECK_STR(o->checks[0]->event_json, "{\"type\":\"check\"}");
  CHECK_INT(o->checks[1]->check_id, -5);
  CHECK_STR(codec_result_name(o->checks[1]->result), "failed");
  CHECK_INT(o->checks[2]->result, TENET__CHECK_RESULT__NOT_APPLICABLE);
  CHECK_STR(o->checks[2]->reason, c[2].reason);
  CHECK_STR(o->checks[2]->event_json, ev);
  CHECK_STR(codec_result_name(o->checks[2]->result), "not applicable");
  codec_free(m);

  /* an empty batch is a valid message */
  d.n_checks = 0;
  d.checks = NULL;
  m = round_trip(&env);
  CHECK_INT(m->check_deltas->n_checks, 0);
  codec_free(m);
}

static void test_scan_summary(void) {
  Tenet__ScanSummary s = TENET__SCAN_SUMMARY__INIT;
  s.policy_id = "cis_debian12";
  s.policy_name = "CIS Debian Linux 12 Benchmark v1.1.0";
  s.scan_id = 2147483647;
  s.passed = 61;
  s.failed = 93;
  s.invalid = 4;
  s.total_checks = 158;
  s.score = 39.610389709472656f;
  s.start_time = 1717000000;
  s.end_time = 1717000042;
  s.results_hash = hx(H1);
  s.bundle_hash = hx(H2);
  s.source_hash = hx(H3);
  s.policy_version = 3;
  s.end_of_dump = 1;
  s.file = "cis_debian12.yml";
  s.description = "This document provides prescriptive guidance ...";
  s.references = "https://www.cisecurity.org/cis-benchmarks/";
  Tenet__Envelope env = TENET__ENVELOPE__INIT;
  env.seq = 42;
  env.body_case = TENET__ENVELOPE__BODY_SCAN_SUMMARY;
  env.scan_summary = &s;
  Tenet__Envelope *m = round_trip(&env);
  Tenet__ScanSummary *o = m->scan_summary;
  CHECK_STR(o->policy_id, s.policy_id);
  CHECK_STR(o->policy_name, s.policy_name);
  CHECK_INT(o->scan_id, 2147483647);
  CHECK_INT(o->passed, 61);
  CHECK_INT(o->failed, 93);
  CHECK_INT(o->invalid, 4);
  CHECK_INT(o->total_checks, 158);
  CHECK(o->score == 39.610389709472656f);
  CHECK_INT(o->start_time, 1717000000);
  CHECK_INT(o->end_time, 1717000042);
  CHECK_STR(xh(o->results_hash), H1);
  CHECK_STR(xh(o->bundle_hash), H2);
  CHECK_STR(xh(o->source_hash), H3);
  CHECK_INT(o->policy_version, 3);
  CHECK(o->end_of_dump);
  CHECK_STR(o->file, s.file);
  CHECK_STR(o->description, s.description);
  CHECK_STR(o->references, s.references);
  codec_free(m);

  /* source_hash may be unknown */
  s.source_hash = hx("");
  s.end_of_dump = 0;
  m = round_trip(&env);
  CHECK_STR(xh(m->scan_summary->source_hash), "");
  CHECK(!m->scan_summary->end_of_dump);
  codec_free(m);
}

static void test_policy_list_dump_end(void) {
  char *ids[] = {"cis_debian12", "sca_distro_independent_linux"};
  Tenet__PolicyList l = TENET__POLICY_LIST__INIT;
  l.n_policy_ids = 2;
  l.policy_ids = ids;
  Tenet__Envelope env = TENET__ENVELOPE__INIT;
  env.seq = 9;
  env.body_case = TENET__ENVELOPE__BODY_POLICY_LIST;
  env.policy_list = &l;
  Tenet__Envelope *m = round_trip(&env);
  REQUIRE(m->policy_list->n_policy_ids == 2);
  CHECK_STR(m->policy_list->policy_ids[0], "cis_debian12");
  CHECK_STR(m->policy_list->policy_ids[1], "sca_distro_independent_linux");
  codec_free(m);
  l.n_policy_ids = 0; /* an agent with no policies */
  m = round_trip(&env);
  CHECK_INT(m->policy_list->n_policy_ids, 0);
  codec_free(m);

  Tenet__DumpEnd de = TENET__DUMP_END__INIT;
  de.policy_id = "cis_debian12";
  de.scan_id = -1;
  de.elements_sent = 0;
  env.body_case = TENET__ENVELOPE__BODY_DUMP_END;
  env.dump_end = &de;
  m = round_trip(&env);
  CHECK_STR(m->dump_end->policy_id, "cis_debian12");
  CHECK_INT(m->dump_end->scan_id, -1);
  CHECK_INT(m->dump_end->elements_sent, 0);
  codec_free(m);
  de.scan_id = 1846571930;
  de.elements_sent = 158;
  m = round_trip(&env);
  CHECK_INT(m->dump_end->scan_id, 1846571930);
  CHECK_INT(m->dump_end->elements_sent, 158);
  codec_free(m);
}

static void test_manager_messages(void) {
  Tenet__Ack a = TENET__ACK__INIT;
  a.seq = UINT64_MAX;
  Tenet__Envelope env = TENET__ENVELOPE__INIT;
  env.body_case = TENET__ENVELOPE__BODY_ACK;
  env.ack = &a;
  Tenet__Envelope *m = round_trip(&env);
  CHECK(m->ack->seq == UINT64_MAX);
  CHECK_STR(codec_body_name(m->body_case), "ack");
  codec_free(m);

  Tenet__DumpRequest r = TENET__DUMP_REQUEST__INIT;
  r.policy_id = "cis_debian12";
  r.flushed = 1;
  env.body_case = TENET__ENVELOPE__BODY_DUMP_REQUEST;
  env.dump_request = &r;
  m = round_trip(&env);
  CHECK_STR(m->dump_request->policy_id, "cis_debian12");
  CHECK(m->dump_request->flushed);
  codec_free(m);

  uint8_t bytes[1000];
  for (size_t i = 0; i < sizeof bytes; i++)
    bytes[i] = (uint8_t)(i * 7); /* includes NUL bytes */
  Tenet__BundleOffer b = TENET__BUNDLE_OFFER__INIT;
  b.policy_id = "cis_debian12";
  b.policy_version = 8;
  b.bundle.data = bytes;
  b.bundle.len = sizeof bytes;
  env.body_case = TENET__ENVELOPE__BODY_BUNDLE_OFFER;
  env.bundle_offer = &b;
  m = round_trip(&env);
  CHECK_STR(m->bundle_offer->policy_id, "cis_debian12");
  CHECK_INT(m->bundle_offer->policy_version, 8);
  REQUIRE(m->bundle_offer->bundle.len == sizeof bytes);
  CHECK(memcmp(m->bundle_offer->bundle.data, bytes, sizeof bytes) == 0);
  codec_free(m);
}

/* Through a frame: encode_framed -> decoder -> decode. */
static void test_framed(void) {
  Tenet__DumpRequest r = TENET__DUMP_REQUEST__INIT;
  r.policy_id = "p1";
  Tenet__Envelope env = TENET__ENVELOPE__INIT;
  env.body_case = TENET__ENVELOPE__BODY_DUMP_REQUEST;
  env.dump_request = &r;
  strbuf sb = STRBUF_INIT;
  REQUIRE(codec_encode_framed(&env, &sb, FRAME_MAX_DEFAULT, err, sizeof err) == TN_OK);
  r.policy_id = "p2";
  REQUIRE(codec_encode_framed(&env, &sb, FRAME_MAX_DEFAULT, err, sizeof err) == TN_OK);
  frame_decoder *d = frame_decoder_new(0);
  REQUIRE(frame_decoder_feed(d, sb.data, sb.len) == TN_OK);
  const char *want[] = {"p1", "p2"};
  for (int i = 0; i < 2; i++) {
    const uint8_t *p;
    size_t n;
    REQUIRE(frame_decoder_next(d, &p, &n) == TN_OK && p);
    Tenet__Envelope *m;
    REQUIRE(codec_decode(p, n, FRAME_MAX_DEFAULT, &m, err, sizeof err) == TN_OK);
    CHECK_STR(m->dump_request->policy_id, want[i]);
    codec_free(m);
  }
  frame_decoder_free(d);

  /* a message larger than the frame cap is refused and leaves out unchanged */
  size_t big = FRAME_MAX_DEFAULT + 1;
  uint8_t *bytes = calloc(1, big);
  REQUIRE(bytes);
  Tenet__BundleOffer b = TENET__BUNDLE_OFFER__INIT;
  b.policy_id = "p";
  b.bundle.data = bytes;
  b.bundle.len = big;
  env.body_case = TENET__ENVELOPE__BODY_BUNDLE_OFFER;
  env.bundle_offer = &b;
  size_t before = sb.len;
  CHECK_INT(codec_encode_framed(&env, &sb, FRAME_MAX_DEFAULT, err, sizeof err), TN_ETOOBIG);
  CHECK(strstr(err, "bundle_offer") != NULL);
  CHECK_INT(sb.len, before);
  /* but fits a larger, configured cap */
  CHECK_INT(codec_encode_framed(&env, &sb, FRAME_MAX_DEFAULT * 2, err, sizeof err), TN_OK);
  free(bytes);
  strbuf_free(&sb);
}

/* Every strict prefix of an encoding is refused (an envelope's body is length-delimited, and an
 * envelope without a body is invalid). */
static void test_truncated(void) {
  Tenet__ScanSummary s = TENET__SCAN_SUMMARY__INIT;
  s.policy_id = "p";
  s.scan_id = 5;
  s.results_hash = hx(H1);
  s.bundle_hash = hx(H2);
  s.passed = 3;
  Tenet__Envelope env = TENET__ENVELOPE__INIT;
  env.seq = 300;
  env.body_case = TENET__ENVELOPE__BODY_SCAN_SUMMARY;
  env.scan_summary = &s;
  strbuf sb = STRBUF_INIT;
  REQUIRE(codec_encode(&env, &sb, err, sizeof err) == TN_OK);
  int all = 1;
  for (size_t cut = 0; cut < sb.len; cut++) {
    Tenet__Envelope *m = (Tenet__Envelope *)1;
    int rc = codec_decode(sb.data, cut, FRAME_MAX_DEFAULT, &m, err, sizeof err);
    if (rc != TN_EPROTO || m != NULL) {
      fprintf(stderr, "prefix of %zu bytes: rc %d\n", cut, rc);
      all = 0;
    }
    codec_free(rc == TN_OK ? m : NULL);
  }
  CHECK(all);
  Tenet__Envelope *m;
  CHECK_INT(codec_decode(sb.data, sb.len, FRAME_MAX_DEFAULT, &m, err, sizeof err), TN_OK);
  codec_free(m);
  /* the size limit is checked before parsing */
  CHECK_INT(codec_decode(sb.data, sb.len, sb.len - 1, &m, err, sizeof err), TN_ETOOBIG);
  CHECK(m == NULL);
  strbuf_free(&sb);
}

/* Random bytes never crash the decoder; a valid-looking result must pass validation. */
static void test_garbage(void) {
  static const uint8_t junk[] = {0xff, 0xff, 0xff, 0xff, 0xff};
  Tenet__Envelope *m;
  CHECK_INT(codec_decode(junk, sizeof junk, 100, &m, err, sizeof err), TN_EPROTO);
  CHECK(m == NULL);
  CHECK_INT(codec_decode("", 0, 100, &m, err, sizeof err), TN_EPROTO); /* no body */
  CHECK(strstr(err, "no body") != NULL);
  uint32_t x = 12345;
  uint8_t buf[64];
  int accepted = 0;
  for (int i = 0; i < 20000; i++) {
    size_t n = (size_t)(i % 64);
    for (size_t j = 0; j < n; j++) {
      x = x * 1103515245u + 12345u;
      buf[j] = (uint8_t)(x >> 16);
    }
    if (n > 0 && i % 3 == 0) buf[0] = 0x92; /* tag of field 18 (scan_summary), length-delimited */
    if (n > 1 && i % 3 == 0) buf[1] = 0x01;
    int rc = codec_decode(buf, n, 100, &m, err, sizeof err);
    CHECK(rc == TN_OK || rc == TN_EPROTO);
    if (rc == TN_OK) {
      accepted++;
      CHECK_INT(codec_validate(m, err, sizeof err), TN_OK);
      codec_free(m);
    }
  }
  (void)accepted;
}

/* Hand-written wire bytes: CheckDeltas{policy_id "p", checks [{check_id 1, result R}]}. */
static void test_result_out_of_range(void) {
  uint8_t wire[] = {0x8a, 0x01, 0x09, 0x0a, 0x01, 'p', 0x1a, 0x04, 0x08, 0x01, 0x10, 0x01};
  Tenet__Envelope *m;
  REQUIRE(codec_decode(wire, sizeof wire, 100, &m, err, sizeof err) == TN_OK);
  CHECK_INT(m->check_deltas->checks[0]->result, TENET__CHECK_RESULT__PASSED);
  codec_free(m);
  wire[sizeof wire - 1] = 7;
  CHECK_INT(codec_decode(wire, sizeof wire, 100, &m, err, sizeof err), TN_EPROTO);
  CHECK(strstr(err, "result") != NULL);
  wire[sizeof wire - 1] = 0; /* unspecified */
  CHECK_INT(codec_decode(wire, sizeof wire, 100, &m, err, sizeof err), TN_EPROTO);
}

/* Hand-written CheckDeltas{policy_id "p", checks: n x {check_id 1, result PASSED}}. */
static uint8_t *many_checks(size_t n, size_t *len) {
  size_t body = 3 + n * 6;
  uint8_t *w = malloc(body + 8), *p = w;
  *p++ = 0x8a; /* field 17, length-delimited */
  *p++ = 0x01;
  for (size_t v = body;; v >>= 7) { /* varint length */
    *p++ = (uint8_t)((v & 0x7f) | (v >= 0x80 ? 0x80 : 0));
    if (v < 0x80) break;
  }
  *p++ = 0x0a;
  *p++ = 0x01;
  *p++ = 'p';
  for (size_t i = 0; i < n; i++) {
    static const uint8_t c[] = {0x1a, 0x04, 0x08, 0x01, 0x10, 0x01};
    memcpy(p, c, sizeof c);
    p += sizeof c;
  }
  *len = (size_t)(p - w);
  return w;
}

/* A frame of tiny repeated elements cannot make the decoder allocate without bound. */
static void test_repeated_limit(void) {
  size_t len;
  uint8_t *w = many_checks(CODEC_MAX_REPEATED, &len);
  Tenet__Envelope *m;
  REQUIRE(codec_decode(w, len, FRAME_MAX_DEFAULT, &m, err, sizeof err) == TN_OK);
  CHECK_INT(m->check_deltas->n_checks, CODEC_MAX_REPEATED);
  /* and the encoder produces the same bytes */
  strbuf sb = STRBUF_INIT;
  REQUIRE(codec_encode(m, &sb, err, sizeof err) == TN_OK);
  CHECK(sb.len == len && memcmp(sb.data, w, len) == 0);
  strbuf_free(&sb);
  /* one more is refused on the encode side too */
  Tenet__CheckDelta **more = malloc((CODEC_MAX_REPEATED + 1) * sizeof *more);
  memcpy(more, m->check_deltas->checks, CODEC_MAX_REPEATED * sizeof *more);
  more[CODEC_MAX_REPEATED] = more[0];
  Tenet__CheckDelta **saved = m->check_deltas->checks;
  m->check_deltas->checks = more;
  m->check_deltas->n_checks++;
  CHECK_INT(codec_validate(m, err, sizeof err), TN_EPROTO);
  m->check_deltas->checks = saved;
  m->check_deltas->n_checks--;
  free(more);
  codec_free(m);
  free(w);

  w = many_checks(CODEC_MAX_REPEATED + 1, &len);
  CHECK_INT(codec_decode(w, len, FRAME_MAX_DEFAULT, &m, err, sizeof err), TN_ETOOBIG);
  CHECK(strstr(err, "check_deltas.checks") != NULL);
  free(w);

  /* PolicyList of 65537 one-letter ids, split over two occurrences of the body */
  size_t half = CODEC_MAX_REPEATED / 2 + 1, blen = half * 3;
  uint8_t *pl = malloc(2 * (blen + 8)), *p = pl;
  for (int rep = 0; rep < 2; rep++) {
    *p++ = 0x9a; /* field 19 */
    *p++ = 0x01;
    for (size_t v = blen;; v >>= 7) {
      *p++ = (uint8_t)((v & 0x7f) | (v >= 0x80 ? 0x80 : 0));
      if (v < 0x80) break;
    }
    for (size_t i = 0; i < half; i++) {
      *p++ = 0x0a;
      *p++ = 0x01;
      *p++ = 'a';
    }
  }
  CHECK_INT(codec_decode(pl, (size_t)(p - pl), FRAME_MAX_DEFAULT, &m, err, sizeof err), TN_ETOOBIG);
  CHECK(strstr(err, "policy_list.policy_ids") != NULL);
  free(pl);
}

/* Fields added by a later protocol revision are skipped, not refused. */
static void test_unknown_fields_skipped(void) {
  /* Ack{seq 5} + unknown envelope field 99 (varint 1) */
  uint8_t wire[] = {0x82, 0x02, 0x02, 0x08, 0x05, 0x98, 0x06, 0x01};
  Tenet__Envelope *m;
  REQUIRE(codec_decode(wire, sizeof wire, 100, &m, err, sizeof err) == TN_OK);
  CHECK_INT(m->body_case, TENET__ENVELOPE__BODY_ACK);
  CHECK_INT(m->ack->seq, 5);
  codec_free(m);
}

/* The rules protobuf cannot express, on the encode side (a bug) and through decode. */
static void test_validation(void) {
  Tenet__Envelope env = TENET__ENVELOPE__INIT;
  strbuf sb = STRBUF_INIT;
  CHECK_INT(codec_encode(&env, &sb, err, sizeof err), TN_EPROTO); /* no body */
  CHECK_INT(sb.len, 0);

  Tenet__ScanSummary s = TENET__SCAN_SUMMARY__INIT;
  s.policy_id = "p";
  s.results_hash = hx(H1);
  s.bundle_hash = hx(H2);
  env.body_case = TENET__ENVELOPE__BODY_SCAN_SUMMARY;
  env.scan_summary = &s;
  CHECK_INT(codec_validate(&env, err, sizeof err), TN_OK);
  s.results_hash = hx("1642AB1DC478052AC3556B5E700CD82ADB69728008301882B9CBEE0696FF2C84"); /* upper case */
  CHECK_INT(codec_encode(&env, &sb, err, sizeof err), TN_EPROTO);
  CHECK(strstr(err, "scan_summary.results_hash") != NULL);
  s.results_hash = hx("abc");
  CHECK_INT(codec_validate(&env, err, sizeof err), TN_EPROTO);
  s.results_hash = hx(H1);
  s.bundle_hash = hx("");
  CHECK_INT(codec_validate(&env, err, sizeof err), TN_EPROTO);
  s.bundle_hash = hx(H2);
  s.source_hash = (ProtobufCBinaryData){3, (uint8_t *)"zzz"}; /* not 32 bytes */
  CHECK_INT(codec_validate(&env, err, sizeof err), TN_EPROTO);
  s.source_hash = hx("");
  s.policy_id = "";
  CHECK_INT(codec_validate(&env, err, sizeof err), TN_EPROTO);
  CHECK(strstr(err, "policy_id is empty") != NULL);
  s.policy_id = "p";
  s.scan_id = -1;
  CHECK_INT(codec_validate(&env, err, sizeof err), TN_EPROTO);
  s.scan_id = 0;
  s.file = NULL; /* NULL strings are refused, not sent as "" by accident */
  CHECK_INT(codec_validate(&env, err, sizeof err), TN_EPROTO);
  s.file = "";
  CHECK_INT(codec_validate(&env, err, sizeof err), TN_OK);

  env.scan_summary = NULL;
  CHECK_INT(codec_validate(&env, err, sizeof err), TN_EPROTO);

  Tenet__Hello h = TENET__HELLO__INIT;
  env.body_case = TENET__ENVELOPE__BODY_HELLO;
  env.hello = &h;
  CHECK_INT(codec_validate(&env, err, sizeof err), TN_EPROTO); /* empty agent id */
  h.agent_id = "a";
  CHECK_INT(codec_validate(&env, err, sizeof err), TN_OK);
  Tenet__PolicyInfo pi = TENET__POLICY_INFO__INIT;
  Tenet__PolicyInfo *pis[] = {&pi, NULL};
  pi.policy_id = "p";
  pi.bundle_hash = hx(H1);
  h.policies = pis;
  h.n_policies = 2;
  CHECK_INT(codec_validate(&env, err, sizeof err), TN_EPROTO); /* NULL element */
  h.n_policies = 1;
  CHECK_INT(codec_validate(&env, err, sizeof err), TN_OK);

  Tenet__DumpEnd de = TENET__DUMP_END__INIT;
  de.policy_id = "p";
  de.scan_id = -2;
  env.body_case = TENET__ENVELOPE__BODY_DUMP_END;
  env.dump_end = &de;
  CHECK_INT(codec_validate(&env, err, sizeof err), TN_EPROTO);

  Tenet__BundleOffer b = TENET__BUNDLE_OFFER__INIT;
  b.policy_id = "p";
  env.body_case = TENET__ENVELOPE__BODY_BUNDLE_OFFER;
  env.bundle_offer = &b;
  CHECK_INT(codec_validate(&env, err, sizeof err), TN_EPROTO); /* no bytes */

  env.body_case = (Tenet__Envelope__BodyCase)99;
  CHECK_INT(codec_validate(&env, err, sizeof err), TN_EPROTO);
  CHECK_STR(codec_body_name(env.body_case), "unknown");
  CHECK_INT(sb.len, 0);
  strbuf_free(&sb);
  codec_free(NULL);
}

/* Every body of the Envelope's oneof (read from the generated descriptor) has a row in
 * messages.def: a name that is the schema's field name, a direction from its field number (16-31:
 * agent -> manager, 32-47: manager -> agent), and a validation that refuses it without its body. */
/* CheckDetail.id_text (a 5.x text id) travels beside check_id, which must be its key: a message
 * whose text and key disagree is refused on both sides of the wire. */
static void test_text_id(void) {
  Tenet__CheckDetail det = TENET__CHECK_DETAIL__INIT;
  det.policy = "P";
  det.title = "T";
  det.id_text = "s5";
  Tenet__CheckDelta c = TENET__CHECK_DELTA__INIT;
  c.check_id = checkid_text_key("s5", 2);
  c.result = TENET__CHECK_RESULT__PASSED;
  c.detail = &det;
  Tenet__CheckDelta *cs[] = {&c};
  Tenet__CheckDeltas d = TENET__CHECK_DELTAS__INIT;
  d.policy_id = "ids";
  d.scan_id = 1;
  d.n_checks = 1;
  d.checks = cs;
  Tenet__Envelope env = TENET__ENVELOPE__INIT;
  env.seq = 1;
  env.body_case = TENET__ENVELOPE__BODY_CHECK_DELTAS;
  env.check_deltas = &d;
  Tenet__Envelope *m = round_trip(&env);
  CHECK_STR(m->check_deltas->checks[0]->detail->id_text, "s5");
  CHECK(m->check_deltas->checks[0]->check_id == c.check_id);
  codec_free(m);

  strbuf sb = STRBUF_INIT;
  c.check_id = 5; /* not the key of "s5" */
  CHECK_INT(codec_encode(&env, &sb, err, sizeof err), TN_EPROTO);
  CHECK(strstr(err, "check_deltas.checks[0].detail.id_text is not the text of its check_id") != NULL);
  /* the same bytes from a peer: encoded by hand without validation, refused on decode */
  size_t n = tenet__envelope__get_packed_size(&env);
  uint8_t *raw = malloc(n);
  tenet__envelope__pack(&env, raw);
  m = NULL;
  CHECK_INT(codec_decode(raw, n, FRAME_MAX_DEFAULT, &m, err, sizeof err), TN_EPROTO);
  CHECK(m == NULL);
  free(raw);
  det.id_text = ""; /* an integer id: no text */
  CHECK_INT(codec_validate(&env, err, sizeof err), TN_OK);
  strbuf_free(&sb);
}

static void test_message_table_covers_the_schema(void) {
  const ProtobufCMessageDescriptor *d = &tenet__envelope__descriptor;
  int bodies = 0;
  for (unsigned i = 0; i < d->n_fields; i++) {
    const ProtobufCFieldDescriptor *f = &d->fields[i];
    if (!(f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF)) continue;
    bodies++;
    Tenet__Envelope__BodyCase body = (Tenet__Envelope__BodyCase)f->id;
    CHECK_STR(codec_body_name(body), f->name);
    CHECK_INT(codec_body_direction(body), f->id < 32 ? CODEC_FROM_AGENT : CODEC_FROM_MANAGER);
    Tenet__Envelope env = TENET__ENVELOPE__INIT;
    env.body_case = body; /* the body pointer left NULL */
    char err[128];
    CHECK_INT(codec_validate(&env, err, sizeof err), TN_EPROTO);
    CHECK(strstr(err, "is NULL") != NULL);
  }
  CHECK(bodies >= 8);
  CHECK_STR(codec_body_name((Tenet__Envelope__BodyCase)99), "unknown");
  CHECK_INT(codec_body_direction((Tenet__Envelope__BodyCase)99), 0);
}

int main(void) {
  RUN(test_message_table_covers_the_schema);
  RUN(test_hello);
  RUN(test_check_deltas);
  RUN(test_scan_summary);
  RUN(test_policy_list_dump_end);
  RUN(test_manager_messages);
  RUN(test_framed);
  RUN(test_truncated);
  RUN(test_garbage);
  RUN(test_result_out_of_range);
  RUN(test_repeated_limit);
  RUN(test_unknown_fields_skipped);
  RUN(test_validation);
  RUN(test_text_id);
  return test_report();
}
