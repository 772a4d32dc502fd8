/* codec.c — Envelope <-> bytes with protobuf-c, plus the schema rules protobuf cannot express
 * (see codec.h). The only file that calls protobuf-c. */
#include "codec.h"

#include <stdio.h>
#include <string.h>

#include "checkid.h"
#include "crypto.h"
#include "err.h"
#include "frame.h"

const char *codec_body_name(Tenet__Envelope__BodyCase body) {
  switch (body) {
  case TENET__ENVELOPE__BODY__NOT_SET: return "none";
#define MESSAGE(BODY, member, name, dir, check, rep, repname)                                                \
  case TENET__ENVELOPE__BODY_##BODY: return name;
#include "messages.def"
#undef MESSAGE
  default: return "unknown";
  }
}

int codec_body_direction(Tenet__Envelope__BodyCase body) {
  switch (body) {
#define MESSAGE(BODY, member, name, dir, check, rep, repname)                                                \
  case TENET__ENVELOPE__BODY_##BODY: return dir;
#include "messages.def"
#undef MESSAGE
  default: return 0;
  }
}

const char *codec_result_name(Tenet__CheckResult result) {
  switch (result) {
  case TENET__CHECK_RESULT__PASSED: return "passed";
  case TENET__CHECK_RESULT__FAILED: return "failed";
  case TENET__CHECK_RESULT__NOT_APPLICABLE: return "not applicable";
  default: return "";
  }
}

/* ---- validation ----------------------------------------------------------------------------- */

/* A string field: NULL is a bug on the encode side and impossible on the decode side. */
static int check_str(const char *s, int nonempty, const char *field, char *err, size_t errlen) {
  if (!s) return tn_err_set(err, errlen, TN_EPROTO, "%s is NULL", field);
  if (nonempty && !*s) return tn_err_set(err, errlen, TN_EPROTO, "%s is empty", field);
  return TN_OK;
}

static int check_hash(ProtobufCBinaryData h, int may_be_empty, const char *field, char *err, size_t errlen) {
  if (h.len == 0 && may_be_empty) return TN_OK;
  if (h.len != CODEC_HASH_LEN)
    return tn_err_set(err, errlen, TN_EPROTO, "%s is %zu bytes long, not %d", field, h.len, CODEC_HASH_LEN);
  if (!h.data) return tn_err_set(err, errlen, TN_EPROTO, "%s is NULL", field);
  return TN_OK;
}

int codec_hash_from_hex(ProtobufCBinaryData *dst, uint8_t storage[CODEC_HASH_LEN], const char *hex) {
  dst->data = storage;
  dst->len = 0;
  if (!hex || !*hex) return TN_OK;
  if (strlen(hex) != 2 * CODEC_HASH_LEN) return TN_EPROTO;
  for (int i = 0; i < CODEC_HASH_LEN; i++) {
    int v = 0;
    for (int k = 0; k < 2; k++) {
      char ch = hex[2 * i + k];
      int d = ch >= '0' && ch <= '9' ? ch - '0' : ch >= 'a' && ch <= 'f' ? ch - 'a' + 10 : -1;
      if (d < 0) return TN_EPROTO;
      v = v * 16 + d;
    }
    storage[i] = (uint8_t)v;
  }
  dst->len = CODEC_HASH_LEN;
  return TN_OK;
}

void codec_hash_to_hex(const ProtobufCBinaryData *src, char out[2 * CODEC_HASH_LEN + 1]) {
  if (src->len == CODEC_HASH_LEN && src->data)
    crypto_hex(src->data, CODEC_HASH_LEN, out);
  else
    out[0] = '\0';
}

/* Return the status of expr unless it is TN_OK. */
#define TRY(expr)                                                                                            \
  do {                                                                                                       \
    int rc_ = (expr);                                                                                        \
    if (rc_ != TN_OK) return rc_;                                                                            \
  } while (0)

static int check_count(size_t n, const char *field, char *err, size_t errlen) {
  if (n > CODEC_MAX_REPEATED)
    return tn_err_set(err, errlen, TN_EPROTO, "%s has %zu elements, more than %d", field, n,
                      CODEC_MAX_REPEATED);
  return TN_OK;
}

static int check_hello(const Tenet__Hello *h, char *err, size_t errlen) {
  TRY(check_str(h->agent_id, 1, "hello.agent_id", err, errlen));
  TRY(check_count(h->n_policies, "hello.policies", err, errlen));
  TRY(check_str(h->agent_version, 0, "hello.agent_version", err, errlen));
  TRY(check_str(h->store_id, 0, "hello.store_id", err, errlen));
  if (strlen(h->store_id) > CODEC_STORE_ID_MAX)
    return tn_err_set(err, errlen, TN_EPROTO, "hello.store_id is longer than %d characters",
                      CODEC_STORE_ID_MAX);
  for (const char *c = h->store_id; *c; c++)
    if (!((*c >= '0' && *c <= '9') || (*c >= 'a' && *c <= 'f')))
      return tn_err_set(err, errlen, TN_EPROTO, "hello.store_id holds a character other than 0-9a-f");
  if (h->n_policies && !h->policies) return tn_err_set(err, errlen, TN_EPROTO, "hello.policies is NULL");
  for (size_t i = 0; i < h->n_policies; i++) {
    const Tenet__PolicyInfo *p = h->policies[i];
    if (!p) return tn_err_set(err, errlen, TN_EPROTO, "hello.policies[%zu] is NULL", i);
    TRY(check_str(p->policy_id, 1, "hello.policies[].policy_id", err, errlen));
    TRY(check_hash(p->bundle_hash, 0, "hello.policies[].bundle_hash", err, errlen));
  }
  return TN_OK;
}

/* A check detail: every string and element present, no more than CODEC_MAX_REPEATED elements. */
static int check_detail(const Tenet__CheckDetail *d, char *err, size_t errlen) {
  TRY(check_str(d->policy, 0, "check_deltas.checks[].detail.policy", err, errlen));
  TRY(check_str(d->title, 0, "check_deltas.checks[].detail.title", err, errlen));
  TRY(check_str(d->id_text, 0, "check_deltas.checks[].detail.id_text", err, errlen));
  const Tenet__Text *texts[] = {d->description, d->rationale, d->remediation, d->references};
  for (size_t i = 0; i < sizeof texts / sizeof *texts; i++)
    if (texts[i]) TRY(check_str(texts[i]->value, 0, "check_deltas.checks[].detail text", err, errlen));
  if (d->compliance) {
    TRY(check_count(d->compliance->n_entries, "check_deltas.checks[].detail.compliance.entries", err,
                    errlen));
    if (d->compliance->n_entries && !d->compliance->entries)
      return tn_err_set(err, errlen, TN_EPROTO, "check_deltas.checks[].detail.compliance.entries is NULL");
    for (size_t i = 0; i < d->compliance->n_entries; i++) {
      const Tenet__KeyValue *kv = d->compliance->entries[i];
      if (!kv)
        return tn_err_set(err, errlen, TN_EPROTO,
                          "check_deltas.checks[].detail.compliance.entries[%zu] is NULL", i);
      TRY(check_str(kv->key, 0, "check_deltas.checks[].detail.compliance.entries[].key", err, errlen));
      TRY(check_str(kv->value, 0, "check_deltas.checks[].detail.compliance.entries[].value", err, errlen));
    }
  }
  TRY(check_count(d->n_locations, "check_deltas.checks[].detail.locations", err, errlen));
  if (d->n_locations && !d->locations)
    return tn_err_set(err, errlen, TN_EPROTO, "check_deltas.checks[].detail.locations is NULL");
  for (size_t i = 0; i < d->n_locations; i++) {
    const Tenet__Location *l = d->locations[i];
    if (!l)
      return tn_err_set(err, errlen, TN_EPROTO, "check_deltas.checks[].detail.locations[%zu] is NULL", i);
    TRY(check_str(l->kind, 0, "check_deltas.checks[].detail.locations[].kind", err, errlen));
    TRY(check_str(l->value, 0, "check_deltas.checks[].detail.locations[].value", err, errlen));
  }
  return TN_OK;
}

static int check_deltas(const Tenet__CheckDeltas *d, char *err, size_t errlen) {
  TRY(check_str(d->policy_id, 1, "check_deltas.policy_id", err, errlen));
  if (d->scan_id < 0) return tn_err_set(err, errlen, TN_EPROTO, "check_deltas.scan_id is negative");
  TRY(check_count(d->n_checks, "check_deltas.checks", err, errlen));
  if (d->n_checks && !d->checks) return tn_err_set(err, errlen, TN_EPROTO, "check_deltas.checks is NULL");
  for (size_t i = 0; i < d->n_checks; i++) {
    const Tenet__CheckDelta *c = d->checks[i];
    if (!c) return tn_err_set(err, errlen, TN_EPROTO, "check_deltas.checks[%zu] is NULL", i);
    if (c->result != TENET__CHECK_RESULT__PASSED && c->result != TENET__CHECK_RESULT__FAILED &&
        c->result != TENET__CHECK_RESULT__NOT_APPLICABLE)
      return tn_err_set(err, errlen, TN_EPROTO, "check_deltas.checks[%zu].result is %d, not a check result",
                        i, (int)c->result);
    TRY(check_str(c->reason, 0, "check_deltas.checks[].reason", err, errlen));
    TRY(check_str(c->event_json, 0, "check_deltas.checks[].event_json", err, errlen));
    if (c->detail) TRY(check_detail(c->detail, err, errlen));
    if (c->detail && c->detail->id_text[0] &&
        checkid_text_key(c->detail->id_text, strlen(c->detail->id_text)) != c->check_id)
      return tn_err_set(err, errlen, TN_EPROTO,
                        "check_deltas.checks[%zu].detail.id_text is not the text of its check_id", i);
  }
  return TN_OK;
}

static int check_summary(const Tenet__ScanSummary *s, char *err, size_t errlen) {
  TRY(check_str(s->policy_id, 1, "scan_summary.policy_id", err, errlen));
  TRY(check_str(s->policy_name, 0, "scan_summary.policy_name", err, errlen));
  if (s->scan_id < 0) return tn_err_set(err, errlen, TN_EPROTO, "scan_summary.scan_id is negative");
  TRY(check_hash(s->results_hash, 0, "scan_summary.results_hash", err, errlen));
  TRY(check_hash(s->bundle_hash, 0, "scan_summary.bundle_hash", err, errlen));
  TRY(check_hash(s->source_hash, 1, "scan_summary.source_hash", err, errlen));
  TRY(check_str(s->file, 0, "scan_summary.file", err, errlen));
  TRY(check_str(s->description, 0, "scan_summary.description", err, errlen));
  TRY(check_str(s->references, 0, "scan_summary.references", err, errlen));
  return TN_OK;
}

static int check_policy_list(const Tenet__PolicyList *l, char *err, size_t errlen) {
  TRY(check_count(l->n_policy_ids, "policy_list.policy_ids", err, errlen));
  if (l->n_policy_ids && !l->policy_ids)
    return tn_err_set(err, errlen, TN_EPROTO, "policy_list.policy_ids is NULL");
  for (size_t i = 0; i < l->n_policy_ids; i++)
    TRY(check_str(l->policy_ids[i], 1, "policy_list.policy_ids[]", err, errlen));
  return TN_OK;
}

static int check_dump_end(const Tenet__DumpEnd *d, char *err, size_t errlen) {
  TRY(check_str(d->policy_id, 1, "dump_end.policy_id", err, errlen));
  if (d->scan_id < -1) return tn_err_set(err, errlen, TN_EPROTO, "dump_end.scan_id is below -1");
  return TN_OK;
}

static int check_ack(const Tenet__Ack *a, char *err, size_t errlen) {
  (void)a, (void)err, (void)errlen;
  return TN_OK;
}

static int check_dump_request(const Tenet__DumpRequest *d, char *err, size_t errlen) {
  return check_str(d->policy_id, 1, "dump_request.policy_id", err, errlen);
}

static int check_bundle_offer(const Tenet__BundleOffer *o, char *err, size_t errlen) {
  TRY(check_str(o->policy_id, 1, "bundle_offer.policy_id", err, errlen));
  if (o->bundle.len == 0 || !o->bundle.data) return tn_err_set(err, errlen, TN_EPROTO, "bundle_offer.bundle is empty");
  return TN_OK;
}

int codec_validate(const Tenet__Envelope *m, char *err, size_t errlen) {
  if (!m) return tn_err_set(err, errlen, TN_EPROTO, "no message");
  switch (m->body_case) {
  case TENET__ENVELOPE__BODY__NOT_SET: return tn_err_set(err, errlen, TN_EPROTO, "envelope has no body");
#define MESSAGE(BODY, member, name, dir, check, rep, repname)                                                \
  case TENET__ENVELOPE__BODY_##BODY:                                                                         \
    if (!m->member) break;                                                                                   \
    return check(m->member, err, errlen);
#include "messages.def"
#undef MESSAGE
  default: return tn_err_set(err, errlen, TN_EPROTO, "envelope body case %d is unknown", (int)m->body_case);
  }
  return tn_err_set(err, errlen, TN_EPROTO, "envelope body %s is NULL", codec_body_name(m->body_case));
}

/* ---- encoding ------------------------------------------------------------------------------- */

/* A protobuf-c output buffer that appends to a strbuf. */
typedef struct sb_buffer {
  ProtobufCBuffer base;
  strbuf *sb;
} sb_buffer;

static void sb_append(ProtobufCBuffer *buf, size_t len, const uint8_t *data) {
  sb_buffer *b = (sb_buffer *)buf;
  strbuf_append(b->sb, (const char *)data, len);
}

/* Pack msg at the end of out; len is its packed size. */
static int pack(const Tenet__Envelope *msg, size_t len, strbuf *out, size_t start, char *err, size_t errlen) {
  sb_buffer b = {{sb_append}, out};
  size_t n = protobuf_c_message_pack_to_buffer(&msg->base, &b.base);
  if (!strbuf_ok(out)) {
    snprintf(err, errlen, "out of memory encoding a %s message", codec_body_name(msg->body_case));
    return TN_ENOMEM;
  }
  if (n != len) { /* cannot happen with a validated message; keep out as it was */
    out->len = start;
    if (out->data) out->data[start] = '\0';
    return tn_err_set(err, errlen, TN_EPROTO, "encoder wrote %zu bytes, expected %zu", n, len);
  }
  return TN_OK;
}

int codec_encode(const Tenet__Envelope *msg, strbuf *out, char *err, size_t errlen) {
  TRY(codec_validate(msg, err, errlen));
  size_t start = out->len;
  size_t len = protobuf_c_message_get_packed_size(&msg->base);
  return pack(msg, len, out, start, err, errlen);
}

int codec_encode_framed(const Tenet__Envelope *msg, strbuf *out, size_t max_frame, char *err, size_t errlen) {
  TRY(codec_validate(msg, err, errlen));
  size_t start = out->len;
  size_t len = protobuf_c_message_get_packed_size(&msg->base);
  uint8_t hdr[FRAME_HEADER_LEN];
  int rc = frame_header(len, max_frame, hdr);
  if (rc != TN_OK) {
    snprintf(err, errlen, "%s message of %zu bytes exceeds the %zu-byte frame limit",
             codec_body_name(msg->body_case), len, max_frame);
    return rc;
  }
  strbuf_append(out, (const char *)hdr, sizeof hdr);
  return pack(msg, len, out, start, err, errlen);
}

/* ---- decoding ------------------------------------------------------------------------------- */

/* protobuf-c sizes repeated fields from the input, so a frame of tiny elements (2 bytes each) would
 * make it allocate tens of times the frame's size. Before unpacking, walk the wire format of the
 * envelope and of each body with a repeated field and count those elements. */

enum { WIRE_VARINT = 0, WIRE_I64 = 1, WIRE_LEN = 2, WIRE_I32 = 5 };

/* Read a varint at *p (< end). Returns 0 or -1 when malformed. */
static int get_varint(const uint8_t **p, const uint8_t *end, uint64_t *v) {
  uint64_t r = 0;
  for (int shift = 0; shift < 64 && *p < end; shift += 7) {
    uint8_t b = *(*p)++;
    r |= (uint64_t)(b & 0x7f) << shift;
    if (!(b & 0x80)) {
      *v = r;
      return 0;
    }
  }
  return -1;
}

/* Walk the fields of one message in [p, end). For each length-delimited field numbered `field`,
 * call fn(arg, bytes, len) when fn is not NULL, and count it in *count. Returns 0 or -1. */
static int walk(const uint8_t *p, const uint8_t *end, uint32_t field,
                int (*fn)(void *, const uint8_t *, size_t), void *arg, size_t *count) {
  while (p < end) {
    uint64_t key, v;
    if (get_varint(&p, end, &key) != 0) return -1;
    uint32_t type = (uint32_t)(key & 7);
    uint64_t num = key >> 3;
    switch (type) {
    case WIRE_VARINT:
      if (get_varint(&p, end, &v) != 0) return -1;
      break;
    case WIRE_I64:
      if (end - p < 8) return -1;
      p += 8;
      break;
    case WIRE_I32:
      if (end - p < 4) return -1;
      p += 4;
      break;
    case WIRE_LEN:
      if (get_varint(&p, end, &v) != 0 || v > (uint64_t)(end - p)) return -1;
      if (num == field) {
        (*count)++;
        if (fn && fn(arg, p, (size_t)v) != 0) return -1;
      }
      p += v;
      break;
    default: return -1; /* groups: not in this schema */
    }
  }
  return 0;
}

typedef struct body_count {
  uint32_t repeated_field; /* inside the body */
  size_t n;
} body_count;

static int count_in_body(void *arg, const uint8_t *p, size_t len) {
  body_count *bc = arg;
  return walk(p, p + len, bc->repeated_field, NULL, NULL, &bc->n);
}

/* The elements of the repeated fields inside check details (locations and compliance entries),
 * summed over every check of a CheckDeltas body: one total bounded like a top-level field. */
static int count_entries(void *arg, const uint8_t *p, size_t len) {
  size_t *total = arg;
  return walk(p, p + len, 1, NULL, NULL, total); /* Compliance.entries */
}
static int count_detail(void *arg, const uint8_t *p, size_t len) {
  size_t *total = arg;
  if (walk(p, p + len, 8, NULL, NULL, total) != 0) return -1; /* CheckDetail.locations */
  size_t seen = 0;
  return walk(p, p + len, 6, count_entries, total, &seen); /* CheckDetail.compliance */
}
static int count_check(void *arg, const uint8_t *p, size_t len) {
  size_t seen = 0;
  return walk(p, p + len, 5, count_detail, arg, &seen); /* CheckDelta.detail */
}
static int count_deltas(void *arg, const uint8_t *p, size_t len) {
  size_t seen = 0;
  return walk(p, p + len, 3, count_check, arg, &seen); /* CheckDeltas.checks */
}

/* TN_OK, TN_ETOOBIG (too many elements) or TN_EPROTO (malformed wire format). */
static int check_repeated(const uint8_t *buf, size_t len, char *err, size_t errlen) {
  static const struct {
    uint32_t body, repeated;
    const char *name;
  } bodies[] = {
#define MESSAGE(BODY, member, name, dir, check, rep, repname) {TENET__ENVELOPE__BODY_##BODY, rep, repname},
#include "messages.def"
#undef MESSAGE
  };
  for (size_t i = 0; i < sizeof bodies / sizeof bodies[0]; i++) {
    if (!bodies[i].repeated) continue;
    body_count bc = {bodies[i].repeated, 0};
    size_t seen = 0;
    if (walk(buf, buf + len, bodies[i].body, count_in_body, &bc, &seen) != 0)
      return tn_err_set(err, errlen, TN_EPROTO, "malformed protobuf message (%zu bytes)", len);
    if (bc.n > CODEC_MAX_REPEATED) {
      snprintf(err, errlen, "%s has %zu elements, more than %d", bodies[i].name, bc.n, CODEC_MAX_REPEATED);
      return TN_ETOOBIG;
    }
  }
  size_t details = 0, seen = 0;
  if (walk(buf, buf + len, TENET__ENVELOPE__BODY_CHECK_DELTAS, count_deltas, &details, &seen) != 0)
    return tn_err_set(err, errlen, TN_EPROTO, "malformed protobuf message (%zu bytes)", len);
  if (details > CODEC_MAX_REPEATED) {
    snprintf(err, errlen,
             "check_deltas.checks[].detail holds %zu locations and compliance entries, more than %d", details,
             CODEC_MAX_REPEATED);
    return TN_ETOOBIG;
  }
  return TN_OK;
}

int codec_decode(const void *buf, size_t len, size_t max_len, Tenet__Envelope **out, char *err,
                 size_t errlen) {
  *out = NULL;
  if (len > max_len) {
    snprintf(err, errlen, "message of %zu bytes exceeds the %zu-byte limit", len, max_len);
    return TN_ETOOBIG;
  }
  TRY(check_repeated(buf, len, err, errlen));
  ProtobufCMessage *m =
      protobuf_c_message_unpack(&tenet__envelope__descriptor, NULL, len, (const uint8_t *)buf);
  if (!m) return tn_err_set(err, errlen, TN_EPROTO, "malformed protobuf message (%zu bytes)", len);
  Tenet__Envelope *env = (Tenet__Envelope *)m;
  int rc = codec_validate(env, err, errlen);
  if (rc != TN_OK) {
    codec_free(env);
    return rc;
  }
  *out = env;
  return TN_OK;
}

void codec_free(Tenet__Envelope *msg) {
  if (msg) protobuf_c_message_free_unpacked(&msg->base, NULL);
}

/* ---- a check detail on its own ---------------------------------------------------------------- */

int codec_detail_encode(const Tenet__CheckDetail *d, strbuf *out, char *err, size_t errlen) {
  TRY(check_detail(d, err, errlen));
  size_t start = out->len, len = protobuf_c_message_get_packed_size(&d->base);
  sb_buffer b = {{sb_append}, out};
  size_t n = protobuf_c_message_pack_to_buffer(&d->base, &b.base);
  if (!strbuf_ok(out)) {
    snprintf(err, errlen, "out of memory encoding a check detail");
    return TN_ENOMEM;
  }
  if (n != len) {
    out->len = start;
    if (out->data) out->data[start] = '\0';
    return tn_err_set(err, errlen, TN_EPROTO, "encoder wrote %zu bytes, expected %zu", n, len);
  }
  return TN_OK;
}

int codec_detail_decode(const void *buf, size_t len, Tenet__CheckDetail **out, char *err, size_t errlen) {
  *out = NULL;
  if (len > FRAME_MAX_DEFAULT) {
    snprintf(err, errlen, "check detail of %zu bytes exceeds the %zu-byte limit", len, FRAME_MAX_DEFAULT);
    return TN_ETOOBIG;
  }
  size_t total = 0;
  if (count_detail(&total, buf, len) != 0)
    return tn_err_set(err, errlen, TN_EPROTO, "malformed check detail (%zu bytes)", len);
  if (total > CODEC_MAX_REPEATED) {
    snprintf(err, errlen, "check detail holds %zu locations and compliance entries, more than %d", total,
             CODEC_MAX_REPEATED);
    return TN_ETOOBIG;
  }
  ProtobufCMessage *m = protobuf_c_message_unpack(&tenet__check_detail__descriptor, NULL, len, buf);
  if (!m) return tn_err_set(err, errlen, TN_EPROTO, "malformed check detail (%zu bytes)", len);
  Tenet__CheckDetail *d = (Tenet__CheckDetail *)m;
  int rc = check_detail(d, err, errlen);
  if (rc != TN_OK) {
    codec_detail_free(d);
    return rc;
  }
  *out = d;
  return TN_OK;
}

void codec_detail_free(Tenet__CheckDetail *d) {
  if (d) protobuf_c_message_free_unpacked(&d->base, NULL);
}
