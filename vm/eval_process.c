/* eval_process.c — p: rules (SCA-SEMANTICS §2.8).
 *
 * The body is a content expression matched against each process name of the per-scan process
 * list (proclist.h): any non-zero value is FOUND (§2.3). No list at all is invalid with
 * "Process list is empty."; so is an empty one (the agent itself is always running, so only an
 * unreadable /proc gives one). Every p: rule records " Process: <body>". */
#include <string.h>

#include "cache_int.h"
#include "eval_int.h"

int eval_process(eval_ctx *c, const insn *in) {
  const char *body = program_str(c->prog, in->a);
  int status;
  const proclist *pl = scan_cache_get_processes(c->cache, &status);
  int v = EV_NOT_FOUND;
  if (!pl || pl->n == 0) {
    const char *why = pl ? NULL : scan_cache_processes_reason(c->cache); /* a provider declined */
    eval_set_reason(c, "%s", why ? why : "Process list is empty.");
    v = EV_INVALID;
  } else if (in->b != PROG_NONE) {
    for (size_t i = 0; i < pl->n && v == EV_NOT_FOUND; i++)
      if (vm_exec_matcher(c, in->b, pl->name[i], strlen(pl->name[i])) != 0) v = EV_FOUND;
  }
  if (pl) scan_cache_release_processes(c->cache, pl);
  eval_note_location(c, LOC_PROCESS, body);
  return v;
}
