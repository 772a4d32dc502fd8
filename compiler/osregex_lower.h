/* osregex_lower.h — translating an OS_Regex pattern into an equivalent PCRE2 pattern.
 *
 * The VM runs a lowered pattern on PCRE2's JIT instead of the native OS_Regex scanner, so a
 * lowering is produced only when it provably gives the same match/no-match and the same first
 * capture group as native OS_Regex on every subject (the conditions are documented at the top of
 * osregex_lower.c). */
#ifndef TENET_OSREGEX_LOWER_H
#define TENET_OSREGEX_LOWER_H

#include <stddef.h>

/* Lower an OS_Regex pattern (as written in the policy, case-insensitive as SCA uses it).
 * On success returns 1 and writes a NUL-terminated, self-contained PCRE2 pattern into out (it
 * carries its own case-insensitivity and is meant to be compiled with options 0, byte semantics).
 * Returns 0 — and leaves out unspecified — when the pattern does not compile as OS_Regex, when
 * equivalence cannot be shown (the pattern then stays on the native engine), or when the result
 * does not fit in outcap bytes. */
int osregex_lower(const char *pattern, char *out, size_t outcap);

#endif
