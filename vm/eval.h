/* eval.h — the evaluation context shared by the interpreter (exec.c) and the rule evaluators
 * (eval_<kind>.c, one per row of rules.def), which implement SCA-SEMANTICS §2.5-§2.8 exactly, on
 * top of the per-scan cache (cache.h).
 *
 * A rule evaluator returns EV_NOT_FOUND, EV_FOUND or EV_INVALID; it sets the check's reason only
 * through eval_set_reason (the first reason set wins, §2.10) and records the event location
 * message through eval_note_location (" File: ...", §6.2). Content is matched line by line through
 * vm_exec_matcher (content.c), which returns the raw per-line product of §2.3 (0, 1, 2, 3, 4, 6, ...);
 * each evaluator applies its own source's rule for odd values (§2.3, §11.11). */
#ifndef TENET_EVAL_H
#define TENET_EVAL_H

#include <stddef.h>
#include <stdint.h>

#include "program.h"
#include "regex.h"
#include "rulekind.h"
#include "strbuf.h"

/* EV_NOT_RUN exists only in the 5.x dialect (SCA-SEMANTICS §10): a command that timed out, and a
 * check with such a rule and no decision. It is never stored over a last known result. */
enum ev_result { EV_NOT_FOUND = 0, EV_FOUND = 1, EV_INVALID = 2, EV_NOT_RUN = 3 };

/* Kinds of event location message (rules.def's LOC column), numbered in the order the event
 * prints them (its event_pos column). */
enum ev_location {
#define RULE(letter, op, eval, loc, key, marker, epos, ...) loc = epos,
#include "rules.def"
#undef RULE
  LOC__COUNT = VM_RULE_KIND_COUNT
};

typedef struct scan_cache scan_cache; /* cache.h */

typedef struct eval_options {
  int command_timeout; /* seconds (Wazuh sca.commands_timeout, default 30) */
  int skip_nfs;        /* d: rules on NFS/CIFS are invalid (default 1) */
  size_t output_cap;   /* bytes of command output kept (default 64 MiB) */
  int reasons_gcc;     /* 5.x: no per-rule reason, as a GCC-built module reports (default 0) */
} eval_options;

#define EVAL_OPTIONS_DEFAULT {30, 1, (size_t)64 << 20, 0}

typedef struct eval_ctx {
  const program *prog;
  rx *const *rx;            /* compiled regexes by index; NULL where the pattern does not compile */
  const insn *code;         /* the running check's code: matcher addresses are relative to it */
  uint32_t code_len;
  scan_cache *cache;        /* per-scan cache shared by all workers (cache.h) */
  const eval_options *opt;
  /* per-check outputs (owned; reset by exec.c for every check) */
  char *reason;             /* 4.x: first reason set; 5.x: one per invalid rule, '\n'-joined; or NULL */
  int rule_reason;          /* 5.x: the running rule has set its reason (exec.c clears it per rule) */
  strbuf loc[LOC__COUNT];   /* ','-joined location values per kind */
  char **loc_seen;          /* messages recorded so far (duplicates are dropped, at most 255) */
  size_t nloc_seen;
} eval_ctx;

/* Set the check's reason (printf-style). 4.x: unless one is already set (the first wins, §2.10).
 * 5.x: the running rule's reason, appended after a '\n' to those of earlier rules, unless this
 * rule already set one (the module keeps one reason per invalid rule, §10); nothing when the
 * options ask for the GCC-built module's reasons (reasons_gcc). */
void eval_set_reason(eval_ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Record a location message of a kind (the value only, e.g. the file list); exact duplicates of
 * an earlier message and anything past 255 messages are dropped; values are cut at 1024 bytes. */
void eval_note_location(eval_ctx *c, int kind, const char *value);
/* Reset the per-check outputs. */
void eval_ctx_reset(eval_ctx *c);
void eval_ctx_free(eval_ctx *c);

/* Run the matcher that starts at instruction `expr` of the current check on one line; returns the
 * raw product value of SCA-SEMANTICS §2.3 (content.c). */
int vm_exec_matcher(eval_ctx *c, uint32_t expr, const char *line, size_t len);

/* Rule evaluators, one per row of rules.def, each in its own file (eval_file.c, ...). `in` is the
 * rule instruction (the row's opcode); the result is EV_NOT_FOUND, EV_FOUND or EV_INVALID. */
#define RULE(letter, op, eval, ...) int eval(eval_ctx *c, const insn *in);
#include "rules.def"
#undef RULE

#endif
