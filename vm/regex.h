/* regex.h — the VM's regex engines behind one interface: the exact native OS_Regex matcher
 * (osregex.c), OS_Match (osmatch.c, d: file names) and PCRE2 with JIT (this module is the only
 * place that calls PCRE2).
 *
 * A compiled rx is immutable and may be shared by any number of threads; per-thread scratch
 * (PCRE2 match data, JIT stack) is kept in thread-local storage. Subjects are byte strings of
 * length len (the byte at subject[len] need not be NUL). */
#ifndef TENET_REGEX_H
#define TENET_REGEX_H

#include <stddef.h>
#include <stdint.h>

#include "program.h"

typedef struct rx rx;

/* Compile a pattern.
 *   dialect: RX_OSREGEX (case-insensitive, Wazuh OS_Regex), RX_PCRE2 (options 0 — case-sensitive,
 *            byte semantics — or caseless with RXF_CASELESS), RX_OSMATCH (Wazuh OS_Match).
 *   lowered: for RX_OSREGEX, a PCRE2 pattern proven equivalent (osregex_lower.c); when given, the
 *            matcher runs it on PCRE2 JIT instead of the native engine. NULL: native.
 * Returns NULL when the pattern does not compile in its dialect (err receives the reason).
 * Caller owns the result (rx_free). */
rx *rx_compile(const char *pattern, int dialect, unsigned flags, const char *lowered, char *err,
               size_t errlen);
void rx_free(rx *r);

/* 1 if the pattern matches somewhere in subject, else 0. */
int rx_match(const rx *r, const char *subject, size_t len);

/* rx_match for a subject that holds no NUL byte in [0, len) — the VM's lines (lines.c cuts every
 * 4.x line at its first NUL, as Wazuh's C strings end there) — without scanning for one. */
int rx_match_line(const rx *r, const char *line, size_t len);

/* Match and copy the first capture group (NUL-terminated, truncated to cap-1) into buf.
 * Returns 1 on a match with a group captured, 0 on no match, -1 on a match that captured nothing
 * (SCA's "no string was captured" case). */
int rx_match_capture(const rx *r, const char *subject, size_t len, char *buf, size_t cap);

/* Match errors. A lowered OS_Regex pattern that hits a PCRE2 limit (match, depth or heap limit,
 * JIT stack) is answered by the exact native matcher instead, so its result equals Wazuh's. A
 * regex_type: pcre2 pattern has no other engine: the error reads as no match, as Wazuh's SCA
 * reads a non-positive pcre2_match result (SCA-SEMANTICS §4.5); it is counted and logged once per
 * pattern through the log function (default: one line on stderr). */
typedef void (*rx_log_fn)(const char *msg);
void rx_set_log(rx_log_fn fn); /* NULL: stderr */
/* Match errors counted so far in this process. */
size_t rx_match_errors(void);
/* The match and depth limits of every PCRE2 match (0: PCRE2's default of 10,000,000, which is
 * Wazuh's). Lowering it makes limit errors reachable with small subjects (tests, tuning). */
void rx_set_match_limit(uint32_t limit);

/* The engine this rx runs on: "osregex", "osmatch", "pcre2-jit" or "pcre2" (JIT unavailable). */
const char *rx_engine(const rx *r);

#endif
