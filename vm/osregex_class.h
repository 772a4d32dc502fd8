/* osregex_class.h — OS_Regex's escape classes, declared once in osregex_class.def and shared by the
 * native matcher (vm/osregex.c) and the OS_Regex → PCRE2 lowering (compiler/osregex_lower.c), whose
 * proof of equivalence holds only while both read the same table. */
#ifndef TENET_OSREGEX_CLASS_H
#define TENET_OSREGEX_CLASS_H

#include <string.h>

/* Does the raw subject byte c belong to the class of escape letter (e.g. 'w' for \w)? 0 for a
 * letter that is not an escape. Inline: the native matcher calls it for every subject byte. */
static inline int osregex_class_has(unsigned letter, unsigned c) {
  switch (letter) {
#define OSREGEX_CLASS(l, test, pcre2, doc)                                                                   \
  case l:                                                                                                    \
    return (test) ? 1 : 0;
#include "osregex_class.def"
#undef OSREGEX_CLASS
  }
  return 0;
}

/* The escape letters, in table order, as a NUL-terminated string (static storage). */
const char *osregex_class_letters(void);
/* 1 when letter may follow a backslash in an OS_Regex pattern, else 0 (NUL is never one). */
int osregex_class_is_escape(unsigned letter);
/* The PCRE2 equivalent of an escape (static storage), or NULL for a letter that is not one. */
const char *osregex_class_pcre2(unsigned letter);
/* What an escape matches, in words (static storage), or NULL. */
const char *osregex_class_doc(unsigned letter);

#endif
