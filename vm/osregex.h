/* osregex.h — an exact re-implementation of Wazuh's OS_Regex and OS_Match dialects, written from
 * the behavioural description in SCA-SEMANTICS §4 (quirks included) and checked against the 530
 * vectors of shared/conformance/osregex-vectors.json. Both are case-insensitive (as SCA uses them). */
#ifndef TENET_OSREGEX_H
#define TENET_OSREGEX_H

#include <stddef.h>

typedef struct osregex osregex;
typedef struct osmatch osmatch;

#define OSREGEX_MAX_GROUPS 32

/* Compile; NULL if OS_Regex would refuse the pattern (bad escape, nested or unbalanced parens,
 * '|' inside parens, pattern > 20480 bytes...). err gets a short reason. Caller frees. */
osregex *osregex_compile(const char *pattern, char *err, size_t errlen);
void osregex_free(osregex *re);
/* Execute on subject[0..len). Returns 1 on a match, 0 otherwise. When groups is not NULL, fills up
 * to maxgroups (start,end) offset pairs of the captured groups exactly as OS_Regex records them and
 * sets *ngroups. `end` (may be NULL) gets the offset OS_Regex's returned pointer points at. */
int osregex_exec(const osregex *re, const char *subject, size_t len, size_t (*groups)[2],
                 int maxgroups, int *ngroups, size_t *end);

osmatch *osmatch_compile(const char *pattern, char *err, size_t errlen);
void osmatch_free(osmatch *m);
int osmatch_exec(const osmatch *m, const char *subject, size_t len);

#endif
