/* vm.h — the virtual machine: a loaded image (a program with its regexes compiled and JIT-ed once)
 * and the execution of one check on it. */
#ifndef TENET_VM_H
#define TENET_VM_H

#include <stddef.h>

#include "eval.h"
#include "program.h"
#include "regex.h"

typedef struct vm_image {
  const program *prog; /* borrowed: must outlive the image */
  rx **rx;             /* one per regex; NULL where the pattern does not compile */
  size_t nlowered;     /* regexes running on PCRE2 JIT through lowering */
} vm_image;

/* Compile every regex of p once. Returns NULL on allocation failure (err says why). A pattern that
 * does not compile is not an error: Wazuh treats it as never matching (r:) or invalid (n:).
 * Caller frees with vm_image_free. */
vm_image *vm_image_load(const program *p, char *err, size_t errlen);
void vm_image_free(vm_image *img);

/* Prepare an evaluation context for a worker (zeroed outputs). Free with eval_ctx_free. */
void vm_ctx_init(eval_ctx *c, const vm_image *img, scan_cache *cache, const eval_options *opt);

/* Run one check (or the requirements) on this host. Returns EV_FOUND, EV_NOT_FOUND or EV_INVALID;
 * the reason and location messages are left in c (reset at the start of each call). */
int vm_exec_check(eval_ctx *c, const prog_check *chk);

/* The per-line value of an n: minterm (numeric.c): 0, 1 or 2, with the reason texts of §5. */
int vm_numeric_minterm(eval_ctx *c, const insn *in, const char *line, size_t len);

#endif
