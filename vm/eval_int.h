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

/* Run the content matcher at expr over every line of a text in the 5.x way (§10; a plain-string
 * pattern: a line equal to the whole pattern, see eval_pattern_literal5): FOUND when a
 * line gives exactly 1, except that a matcher made of a single negated minterm means "no line
 * matches" (every line's value is non-zero); empty text is NOT_FOUND; a line giving 2 (an n:
 * error) is INVALID. Used by f: and c: in 5.x policies. */
int eval_content5(eval_ctx *c, uint32_t expr, const char *text, size_t len);

/* Whether the 5.x module reads the content pattern at expr as a plain string (it starts with
 * none of r:, !r:, n:, !n:): a file then needs a line equal to the whole pattern text (done by
 * eval_content5), a command's whole output must equal it. */
int eval_pattern_literal5(eval_ctx *c, uint32_t expr);

/* The 5.x content test of one file read by path (as given: the d: exact-name quirk passes a bare
 * name): EV_FOUND, EV_NOT_FOUND, EV_INVALID (an exception while matching), or -1 when the file
 * cannot be read, or -2 when a limit stopped the read of a large file (line length, the scan's time
 * budget; that reason is set). Sets no other reason (eval_file.c). */
int eval_file_content5(eval_ctx *c, const char *path, uint32_t expr);

/* One subject line against the minterms at expr in the 5.x order (first failing minterm stops):
 * 1 all pass, 0 not, -1 the module's exception (a regex that does not compile, an n: error). */
int eval_line5(eval_ctx *c, uint32_t expr, const char *line, size_t len);

/* The content pattern at expr as the policy wrote it ("r:a && !r:b", n: as "n:<regex> compare
 * <comparison>"), appended to out: the text the 5.x reasons quote. */
void eval_pattern_text5(eval_ctx *c, uint32_t expr, strbuf *out);

/* eval_content5 over a file read from fd as a stream (files too large for the cache): the same
 * lines and result, in memory one chunk and one line at a time. A line longer than
 * CONTENT5_LINE_MAX bytes (a sparse or binary file) or the scan's time budget (cache.h) stops the
 * read: -2, with a reason saying which. path is for the reasons (content.c). */
#define CONTENT5_LINE_MAX ((size_t)16 << 20)
#define CONTENT5_CHUNK 65536
int eval_content5_stream(eval_ctx *c, uint32_t expr, int fd, const char *path);

/* strerror text (glibc's, as Wazuh prints it); thread-safe. */
static inline const char *eval_strerror(int e, char *buf, size_t n) { return strerror_r(e, buf, n); }

#endif
