/* tokenize.c — splitting a command line into words the way Wazuh does (w_strtok, SCA-SEMANTICS
 * §2.7): runner_tokenize and runner_argv_free (runner.h). Its own file so that the runner and the
 * builtins (which re-read a command's words) both call down into it. */
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "runner.h"
#include "strbuf.h"

/* ---- tokenising (Wazuh's w_strtok) ---- */

static int push_word(char ***v, size_t *n, size_t *cap, strbuf *w) {
  if (*n + 2 > *cap) {
    size_t nc = *cap ? *cap * 2 : 8;
    char **nv = realloc(*v, nc * sizeof *nv);
    if (!nv) return TN_ENOMEM;
    *v = nv;
    *cap = nc;
  }
  strbuf_append(w, "", 0); /* an empty word still needs its buffer */
  char *s = strbuf_take(w);
  if (!s) return TN_ENOMEM;
  (*v)[(*n)++] = s;
  (*v)[*n] = NULL;
  return TN_OK;
}

int runner_tokenize(const char *cmd, char ***argvp, size_t *argcp) {
  char **v = calloc(1, sizeof *v);
  size_t n = 0, cap = 1;
  strbuf w = STRBUF_INIT;
  int have = 0, quoting = 0, rc = TN_OK;
  if (!v) return TN_ENOMEM;
  for (const char *p = cmd; *p && rc == TN_OK; p++) {
    switch (*p) {
    case ' ':
      if (quoting) {
        strbuf_putc(&w, ' ');
        have = 1;
      } else if (have) {
        rc = push_word(&v, &n, &cap, &w);
        have = 0;
      }
      break;
    case '"':
      if (quoting) have = 1; /* a closing quote always yields a word, "" included */
      quoting = !quoting;
      break;
    case '\\':
      if (p[1]) {
        strbuf_putc(&w, *++p);
        have = 1;
      }
      break;
    default: strbuf_putc(&w, *p); have = 1;
    }
  }
  if (rc == TN_OK && have) rc = push_word(&v, &n, &cap, &w);
  if (rc == TN_OK && !strbuf_ok(&w)) rc = TN_ENOMEM;
  strbuf_free(&w);
  if (rc != TN_OK) {
    runner_argv_free(v);
    return rc;
  }
  *argvp = v;
  *argcp = n;
  return TN_OK;
}

void runner_argv_free(char **argv) {
  if (!argv) return;
  for (char **p = argv; *p; p++)
    free(*p);
  free(argv);
}

