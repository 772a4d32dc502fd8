/* eval_command.c — c: rules (SCA-SEMANTICS §2.7; 5.x: §10).
 *
 * 4.x: without a content part the rule is FOUND and nothing runs. Otherwise the command (already
 * substituted) runs once per scan through the cache, then:
 *   the timeout passed           invalid, "Timeout overtaken running command '%s'"
 *   exit status 127              invalid, "Invalid path or wrong permissions to run command '%s'"
 *                                (also after a timeout when the killed child reports 127: Wazuh
 *                                checks the status before the timeout)
 *   the child could not start    invalid, "Failed to run command '%s'. Returned code %d" (code 0)
 *   any other exit status        ignored: the output is matched line by line (lines.h); the loop
 *                                stops at a line giving exactly 1, else the last line's value is
 *                                the result; only 1 (found) and 2 (invalid) count.
 * 5.x: the command always runs; without content a successful run is FOUND; the output, trimmed of
 * newlines at both ends, is matched by eval_content5. A timeout is EV_NOT_RUN (no reason); a
 * command that cannot run is invalid, "Command execution failed: <cmd>"; a pattern that raises
 * the module's exception is invalid, "Invalid pattern '<pattern>' for command '<cmd>'".
 * Every c: rule records " Command: <command>". */
#include "cache_int.h"
#include "err.h"
#include "eval_int.h"
#include "lines.h"

static int match_lines4(eval_ctx *c, uint32_t expr, const runner_result *res) {
  line_list l;
  if (lines_command(res->output, res->output_len, &l) != TN_OK) return EV_NOT_FOUND;
  int v = EV_NOT_FOUND;
  for (size_t i = 0; i < l.n; i++) {
    v = vm_exec_matcher(c, expr, l.line[i], l.len[i]);
    if (v == EV_FOUND) break;
  }
  line_list_free(&l);
  return v == EV_FOUND || v == EV_INVALID ? v : EV_NOT_FOUND;
}

static int match_output5(eval_ctx *c, uint32_t expr, const runner_result *res) {
  const char *s = res->output;
  size_t n = res->output_len;
  while (n && *s == '\n')
    s++, n--;
  while (n && s[n - 1] == '\n')
    n--;
  return eval_content5(c, expr, s, n);
}

/* 5.x (CommandRuleEvaluator). */
static int run5(eval_ctx *c, const char *cmd, uint32_t expr, const cache_command *r) {
  if (r && r->reason) { /* a provider declined (cache.h) */
    eval_set_reason(c, "%s", r->reason);
    return EV_INVALID;
  }
  if (r && r->status == TN_OK && r->result.timed_out) return EV_NOT_RUN;
  if (!r || r->status != TN_OK || r->result.exit_code == RUNNER_EXEC_FAILED) {
    eval_set_reason(c, "Command execution failed: %s", cmd);
    return EV_INVALID;
  }
  if (expr == PROG_NONE) return EV_FOUND;
  if (eval_pattern_literal5(c, expr)) { /* a plain string: the whole output, trimmed, equals it */
    strbuf pat = STRBUF_INIT;
    eval_pattern_text5(c, expr, &pat);
    const char *s = r->result.output;
    size_t n = r->result.output_len;
    while (n && *s == '\n')
      s++, n--;
    while (n && s[n - 1] == '\n')
      n--;
    int eq = pat.data ? strlen(pat.data) == n && memcmp(pat.data, s, n) == 0 : n == 0;
    strbuf_free(&pat);
    return eq ? EV_FOUND : EV_NOT_FOUND;
  }
  int v = match_output5(c, expr, &r->result);
  if (v == EV_INVALID) {
    strbuf pat = STRBUF_INIT;
    eval_pattern_text5(c, expr, &pat);
    eval_set_reason(c, "Invalid pattern '%s' for command '%s'", pat.data ? pat.data : "", cmd);
    strbuf_free(&pat);
  }
  return v;
}

static int run(eval_ctx *c, const char *cmd, uint32_t expr) {
  static const eval_options defaults = EVAL_OPTIONS_DEFAULT;
  const eval_options *o = c->opt ? c->opt : &defaults;
  const cache_command *r = scan_cache_get_command(c->cache, cmd, o->command_timeout, o->output_cap);
  int v;
  if (c->prog->dialect == DIALECT_WAZUH5) {
    v = run5(c, cmd, expr, r);
    if (r) scan_cache_release_command(c->cache, r);
    return v;
  }
  if (r && r->reason) { /* a provider declined (cache.h): tenet test, tenet scan --root */
    eval_set_reason(c, "%s", r->reason);
    v = EV_INVALID;
  } else if (!r || r->status != TN_OK) {
    eval_set_reason(c, "Failed to run command '%s'. Returned code %d", cmd, 0);
    v = EV_INVALID;
  } else if (r->result.exit_code == RUNNER_EXEC_FAILED) {
    eval_set_reason(c, "Invalid path or wrong permissions to run command '%s'", cmd);
    v = EV_INVALID;
  } else if (r->result.timed_out) {
    eval_set_reason(c, "Timeout overtaken running command '%s'", cmd);
    v = EV_INVALID;
  } else if (expr == PROG_NONE) {
    v = EV_FOUND; /* 5.x only: ran successfully */
  } else if (c->prog->dialect == DIALECT_WAZUH5) {
    v = match_output5(c, expr, &r->result);
  } else {
    v = match_lines4(c, expr, &r->result);
  }
  scan_cache_release_command(c->cache, r);
  return v;
}

int eval_command(eval_ctx *c, const insn *in) {
  const char *cmd = program_str(c->prog, in->a);
  int v = in->b == PROG_NONE && c->prog->dialect != DIALECT_WAZUH5 ? EV_FOUND /* 4.x: not run */
                                                                   : run(c, cmd, in->b);
  eval_note_location(c, LOC_COMMAND, cmd);
  return v;
}
