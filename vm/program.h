/* program.h — the in-memory form of a compiled policy.
 *
 * The compiler builds a program (program_new + the builder calls below), the bundle writer
 * serialises it, the bundle reader rebuilds it from hostile bytes, the verifier checks it and the VM
 * runs it. Everything a scan needs is here: policy metadata, strings, regexes, checks and code.
 *
 * Strings live in one table of NUL-terminated byte strings; a string id is the byte offset of its
 * first byte (offset 0 is always the empty string). Interning deduplicates, in first-use order, so
 * the same input always gives the same table (the compiler is deterministic). */
#ifndef TENET_PROGRAM_H
#define TENET_PROGRAM_H

#include <stddef.h>
#include <stdint.h>

#include "opcodes.h"

#define PROG_NONE UINT32_MAX

/* Which Wazuh evaluator's semantics the program follows (SCA-SEMANTICS §1-§5 vs §10). */
enum prog_dialect { DIALECT_WAZUH4 = 4, DIALECT_WAZUH5 = 5 };

/* Program-wide flags. */
#define PROGF_REGISTRY 0x1u /* uses r: registry rules: runnable only on Windows */

typedef struct insn {
  uint8_t op;    /* enum vm_opcode */
  uint8_t flags; /* F_NEG, F_NOSHORT */
  uint16_t x;    /* small operand: comparison operator, condition */
  uint32_t a, b, c;
} insn;

/* Regex dialects. */
enum rx_dialect { RX_OSREGEX = 1, RX_PCRE2 = 2, RX_OSMATCH = 3 };
/* Regex flags. */
#define RXF_CASELESS 0x1u /* PCRE2 compiled caseless (5.x dialect) */
#define RXF_LOWERED 0x2u  /* OS_Regex pattern proven equivalent to `lowered` (a PCRE2 pattern) */
#define RXF_BAD 0x4u      /* does not compile in its dialect: Wazuh treats it as "never matches" */

typedef struct prog_regex {
  uint32_t source;  /* str: the pattern as written in the policy */
  uint8_t dialect;  /* enum rx_dialect */
  uint8_t flags;    /* RXF_* */
  uint32_t lowered; /* str: the PCRE2 form when RXF_LOWERED, else PROG_NONE */
} prog_regex;

typedef struct prog_check {
  int64_t id;         /* check id (4.x: the integral part of the YAML number) */
  uint32_t title;     /* str */
  uint8_t condition;  /* enum vm_condition */
  uint32_t code;      /* first instruction of the check's code */
  uint32_t code_len;  /* number of instructions (rules, steps, RESULT, then matchers) */
  uint32_t meta;      /* str: pre-rendered JSON members of the event's "check" object, from "id"
                         through "condition" and "references" (no braces, no trailing comma) */
  uint32_t line;      /* YAML line of the check */
  /* The same metadata as fields, for renderers other than the Wazuh events (text, JUnit, SARIF,
   * the agent's wire): str ids, PROG_NONE when the policy does not give the member. Lists are
   * ranges of p->lists. Values are the event's: substituted (5.x), lists joined with ','. */
  uint32_t description, rationale, remediation; /* str or PROG_NONE */
  uint32_t references;                          /* str: joined with ',', or PROG_NONE */
  uint32_t condition_text;                      /* str: the condition as the policy writes it, or PROG_NONE */
  uint32_t compliance; /* first of 2 * ncompliance list entries (key, value str ids; the value
                          joined with ','), or PROG_NONE when the event has no compliance */
  uint32_t ncompliance;
  uint32_t rules; /* first of nrules list entries (str ids: each rule as written) */
  uint32_t nrules;
  uint32_t text_id; /* str: the 5.x string id as written when it is not an integer (id is then its
                       checkid_text_key), else PROG_NONE (or 0, in hand-built programs) */
} prog_check;

typedef struct program {
  /* header */
  uint8_t dialect;          /* enum prog_dialect */
  uint32_t flags;           /* PROGF_* */
  uint64_t policy_version;  /* monotonic, set by `tenet compile --policy-version N` (default 1) */
  int64_t expiry;           /* unix seconds after which agents refuse the bundle; 0 = never */
  uint8_t source_sha256[32];/* SHA-256 of the source YAML bytes (hash_file in events) */
  uint32_t policy_id;       /* str */
  uint32_t policy_name;     /* str */
  uint32_t policy_file;     /* str: the policy's `file` field */
  uint32_t policy_description; /* str */
  uint32_t policy_references;  /* str: references joined with ',', or PROG_NONE when none */
  uint32_t source_name;     /* str: base name of the source YAML (for inspect) */

  /* tables */
  char *strtab;             /* owned; strtab_len bytes of NUL-terminated strings */
  uint32_t strtab_len;
  prog_regex *regexes;      /* owned */
  uint32_t nregexes;
  prog_check *checks;       /* owned, in policy (YAML) order */
  uint32_t nchecks;
  int has_requirements;
  prog_check requirements;  /* valid when has_requirements (meta = PROG_NONE, id = 0) */
  uint32_t *lists;          /* owned: str ids the checks' compliance and rules ranges index */
  uint32_t nlists;
  insn *code;               /* owned */
  uint32_t *lines;          /* owned, one YAML line per instruction */
  uint32_t ncode;

  void *builder;            /* private interning state while building; NULL once frozen/read */
} program;

/* A new, empty program (dialect 4, version 1, string table holding ""). NULL on allocation failure. */
program *program_new(void);
/* Free a program and everything it owns. NULL is a no-op. */
void program_free(program *p);

/* The string with id `id`, or "" for PROG_NONE or an out-of-range id. Borrowed from p. */
const char *program_str(const program *p, uint32_t id);

/* Builder calls (compiler only). Each returns PROG_NONE on allocation failure. */
uint32_t program_intern(program *p, const char *s);                 /* str id */
uint32_t program_intern_len(program *p, const char *s, size_t len); /* str id; s need not be NUL-terminated */
uint32_t program_add_regex(program *p, const char *source, uint8_t dialect, uint8_t flags,
                           const char *lowered /* may be NULL */);    /* regex index (deduplicated) */
uint32_t program_emit(program *p, uint8_t op, uint8_t flags, uint16_t x, uint32_t a, uint32_t b,
                      uint32_t c, uint32_t line);                    /* instruction index */
/* Append n str ids to the lists; returns the index of the first (p->nlists when n == 0), or
 * PROG_NONE on allocation failure. */
uint32_t program_add_list(program *p, const uint32_t *ids, uint32_t n);
/* Append a check (copied). Returns 0 or TN_ENOMEM. */
int program_add_check(program *p, const prog_check *c);
/* Drop the builder state; the program is then read-only. */
void program_freeze(program *p);

/* The structured metadata of a check (str ids resolved; borrowed from p). */
typedef struct prog_check_meta {
  const char *id_text; /* the check's text id (program_check_text_id), NULL for an integer id */
  const char *title;
  const char *description, *rationale, *remediation, *references; /* NULL when absent */
  const char *condition;                                          /* NULL when absent */
  int has_compliance;         /* the event carries a "compliance" object (possibly empty) */
  const uint32_t *compliance; /* ncompliance (key, value) pairs of str ids: program_str them */
  uint32_t ncompliance;
  const uint32_t *rules; /* nrules str ids */
  uint32_t nrules;
} prog_check_meta;
void program_check_meta(const program *p, const prog_check *c, prog_check_meta *out);

/* Check the metadata fields of every check record: string ids start strings of the table (or are
 * PROG_NONE where a member may be absent), compliance and rule ranges lie inside the list table,
 * every list entry is a string id. TN_OK or TN_ECORRUPT with the check named in err. The bundle
 * reader runs it on hostile bytes, the writer before it emits a bundle. */
int program_verify_fields(const program *p, char *err, size_t errlen);

/* The text id of a check (a 5.x string id that is not an integer), borrowed from p; NULL when the
 * check's id is an integer. */
const char *program_check_text_id(const program *p, const prog_check *c);

/* Index of the check with this id, or -1. Linear; callers that need speed build their own map. */
long program_find_check(const program *p, int64_t id);

#endif
