/* checkid.h — check ids: the 64-bit key and the text a 5.x policy may give.
 *
 * Every place that keeps state (bundle check records, the agent and manager stores, the wire's
 * CheckDelta.check_id, the results hash order) keys a check by a 64-bit integer. A policy's integer
 * id is its own key (the compiler keeps integer ids within 32 bits). A 5.x policy may also give a
 * string id (`"s5"`, SCA-SEMANTICS §10 "Loading"); a string that holds an integer (`"5"`) is that
 * integer, any other string gets a key derived from its text, in a range no integer id reaches:
 * CHECKID_TEXT_BASE | the first 62 bits of SHA-256(text). The text travels beside the key as
 * metadata (bundle section BSEC_CHECK_IDS, check_result.id_text, CheckDetail.check_text_id) and is
 * what every output shows. */
#ifndef TENET_CHECKID_H
#define TENET_CHECKID_H

#include <stddef.h>
#include <stdint.h>

/* Keys of text ids are CHECKID_TEXT_BASE .. INT64_MAX; integer ids stay in int32 range. */
#define CHECKID_TEXT_BASE ((int64_t)1 << 62)
/* Longest text id the compiler accepts (bytes). */
#define CHECKID_TEXT_MAX 256
/* A buffer that holds any key in decimal. */
#define CHECKID_BUF 24

/* 1 when key is in the text-id range. */
int checkid_is_text_key(int64_t key);
/* The key of a text id (len bytes, need not be NUL-terminated). Deterministic across hosts and
 * versions: part of the bundle and store format. */
int64_t checkid_text_key(const char *text, size_t len);
/* An id as a user writes it outside a policy (a waiver, a baseline, a `tenet test` case): an
 * optional sign and decimal digits within int32 range is that integer (1 returned), anything else
 * is a text id (0 returned, *key = checkid_text_key). */
int checkid_parse(const char *s, size_t len, int64_t *key);
/* What outputs show for a check: text when not NULL, else key in decimal (written to buf). The
 * result is text or buf. */
const char *checkid_show(int64_t key, const char *text, char buf[CHECKID_BUF]);

#endif
