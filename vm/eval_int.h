/* eval_int.h — what the rule evaluators (eval_<kind>.c) and the content matching they share
 * (content.c) have in common, for nobody else. */
#ifndef TENET_EVAL_INT_H
#define TENET_EVAL_INT_H

#include <stdint.h>
#include <string.h>

#include "eval.h"

/* The f: list logic of SCA-SEMANTICS §2.5 on a location list as written (after substitution):
 * existence when expr is PROG_NONE, else content matched by the matcher at expr. 4.x splits the
 * list on ','; 5.x takes it as one path (§10). Also used by d: for every matching entry. Sets
 * reasons; records no location. Returns EV_NOT_FOUND, EV_FOUND or EV_INVALID (eval_file.c). */
int eval_file_list(eval_ctx *c, const char *list, uint32_t expr);

/* Run the content matcher at expr over every line of a text in the 5.x way (§10): FOUND when a
 * line gives exactly 1, except that a matcher made of a single negated minterm means "no line
 * matches" (every line's value is non-zero); empty text is NOT_FOUND; a line giving 2 (an n:
 * error) is INVALID. Used by f: and c: in 5.x policies. */
int eval_content5(eval_ctx *c, uint32_t expr, const char *text, size_t len);

/* eval_content5 over a file read from fd as a stream (files too large for the cache): the same
 * lines and result, in memory one chunk and one line at a time. A line longer than
 * CONTENT5_LINE_MAX bytes (a sparse or binary file) and the scan's time budget (cache.h) stop the
 * read: INVALID with a reason saying which. path is for the reasons. */
#define CONTENT5_LINE_MAX ((size_t)16 << 20)
#define CONTENT5_CHUNK 65536
int eval_content5_stream(eval_ctx *c, uint32_t expr, int fd, const char *path);

/* strerror text (glibc's, as Wazuh prints it); thread-safe. */
static inline const char *eval_strerror(int e, char *buf, size_t n) { return strerror_r(e, buf, n); }

#endif
