/* osregex_class.c — look-ups over the escape class table osregex_class.def (see osregex_class.h). */
#include "osregex_class.h"

#include <stddef.h>

typedef struct row {
  unsigned char letter;
  const char *pcre2, *doc;
} row;

static const row ROWS[] = {
#define OSREGEX_CLASS(l, test, pcre2, doc) {l, pcre2, doc},
#include "osregex_class.def"
#undef OSREGEX_CLASS
};

static const char LETTERS[] = {
#define OSREGEX_CLASS(l, test, pcre2, doc) l,
#include "osregex_class.def"
#undef OSREGEX_CLASS
    '\0'};

static const row *find(unsigned letter) {
  for (size_t i = 0; i < sizeof ROWS / sizeof ROWS[0]; i++)
    if (ROWS[i].letter == letter) return &ROWS[i];
  return NULL;
}

const char *osregex_class_letters(void) { return LETTERS; }
int osregex_class_is_escape(unsigned letter) { return letter != 0 && find(letter) != NULL; }

const char *osregex_class_pcre2(unsigned letter) {
  const row *r = find(letter);
  return r ? r->pcre2 : NULL;
}

const char *osregex_class_doc(unsigned letter) {
  const row *r = find(letter);
  return r ? r->doc : NULL;
}
