/* cli_opt.c — the option-table parser of the `tenet` commands, their --help text and the
 * did-you-mean suggestions (cli_opt.h). */
#include "cli_opt.h"

#include <getopt.h>

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#define CLI_MAX_CANDS 64 /* options of one command, plus --help */

void cli_parser_init(cli_parser *p, const char *prog, const cli_opt *opts, size_t nopts, int argc,
                     char **argv) {
  *p = (cli_parser){.prog = prog, .opts = opts, .nopts = nopts, .argc = argc, .argv = argv, .i = 1};
  p->pos = argv + 1;
}

int cli_usage_error(const char *prog, const char *fmt, ...) {
  va_list ap;
  fprintf(stderr, "%s: ", prog);
  va_start(ap, fmt);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  fprintf(stderr, "\nRun '%s --help' for its usage.\n", prog);
  return 2;
}

size_t cli_edit_distance(const char *a, const char *b) {
  size_t n = strlen(a), m = strlen(b);
  if (n > 64 || m > 64) return n > m ? n : m; /* longer than any option or command: never near */
  size_t d[65][65];
  for (size_t i = 0; i <= n; i++)
    d[i][0] = i;
  for (size_t j = 0; j <= m; j++)
    d[0][j] = j;
  for (size_t i = 1; i <= n; i++)
    for (size_t j = 1; j <= m; j++) {
      size_t cost = a[i - 1] != b[j - 1];
      size_t best = d[i - 1][j] + 1;
      if (d[i][j - 1] + 1 < best) best = d[i][j - 1] + 1;
      if (d[i - 1][j - 1] + cost < best) best = d[i - 1][j - 1] + cost;
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] && d[i - 2][j - 2] + 1 < best)
        best = d[i - 2][j - 2] + 1;
      d[i][j] = best;
    }
  return d[n][m];
}

const char *cli_suggest(const char *word, const char *const *cands, size_t ncands) {
  size_t len = strlen(word), best_d = (size_t)-1, nprefix = 0;
  const char *best = NULL, *prefix = NULL;
  for (size_t i = 0; i < ncands; i++) {
    if (strcmp(cands[i], word) == 0) return NULL; /* a known name: nothing to suggest */
    if (len >= 2 && strncmp(cands[i], word, len) == 0) {
      nprefix++;
      prefix = cands[i];
    }
    size_t d = cli_edit_distance(word, cands[i]);
    if (d < best_d) {
      best_d = d;
      best = cands[i];
    }
  }
  if (nprefix == 1) return prefix; /* an abbreviation of exactly one name */
  size_t limit = len / 3;
  if (limit < 1) limit = 1;
  if (limit > 3) limit = 3;
  return best && best_d > 0 && best_d <= limit && best_d < len ? best : NULL;
}

/* "unknown option '--x'" with the nearest option of the table, if one is near. */
static int unknown(cli_parser *p, const char *arg, int is_long, size_t namelen) {
  const char *cands[CLI_MAX_CANDS];
  size_t n = 0;
  for (size_t i = 0; i < p->nopts && n < CLI_MAX_CANDS - 1; i++)
    cands[n++] = p->opts[i].name;
  cands[n++] = "help";
  char word[128];
  const char *name = is_long ? arg + 2 : arg + 1;
  snprintf(word, sizeof word, "%.*s", (int)(namelen < sizeof word - 1 ? namelen : sizeof word - 1), name);
  const char *near = is_long || namelen > 1 ? cli_suggest(word, cands, n) : NULL;
  if (near)
    cli_usage_error(p->prog, "unknown option '%s%s'; did you mean '--%s'?", is_long ? "--" : "-", word, near);
  else
    cli_usage_error(p->prog, "unknown option '%s%s'", is_long ? "--" : "-", word);
  return CLI_ERROR;
}

/* The value of option o: inline (after '=' or in the same short group) or the next argument. */
static int take_value(cli_parser *p, const cli_opt *o, const char *inline_value, const char *spelled) {
  if (inline_value) {
    p->value = inline_value;
    return o->id;
  }
  if (p->i >= p->argc) {
    cli_usage_error(p->prog, "%s needs a value (%s)", spelled, o->arg);
    return CLI_ERROR;
  }
  p->value = p->argv[p->i++];
  return o->id;
}

static int short_option(cli_parser *p) {
  char c = *p->group++;
  char spelled[3] = {'-', c, 0};
  if (c == 'h') {
    p->group = NULL;
    return CLI_HELP;
  }
  for (size_t k = 0; k < p->nopts; k++) {
    const cli_opt *o = &p->opts[k];
    if (o->short_name != c) continue;
    if (!o->arg) {
      if (!*p->group) p->group = NULL;
      return o->id;
    }
    const char *rest = *p->group ? p->group : NULL;
    p->group = NULL;
    return take_value(p, o, rest, spelled);
  }
  p->group = NULL;
  return unknown(p, spelled, 0, 1);
}

int cli_parser_next(cli_parser *p) {
  p->value = NULL;
  if (p->group) return short_option(p);
  while (p->i < p->argc) {
    char *a = p->argv[p->i++];
    if (strcmp(a, "--") == 0) { /* everything after is an operand */
      while (p->i < p->argc)
        p->pos[p->npos++] = p->argv[p->i++];
      break;
    }
    if (a[0] != '-' || a[1] == '\0') { /* an operand ("-" alone too: stdin by convention) */
      p->pos[p->npos++] = a;
      continue;
    }
    if (a[1] != '-') {
      p->group = a + 1;
      return short_option(p);
    }
    const char *name = a + 2, *eq = strchr(name, '=');
    size_t len = eq ? (size_t)(eq - name) : strlen(name);
    if (len == 4 && strncmp(name, "help", 4) == 0) return CLI_HELP;
    for (size_t k = 0; k < p->nopts; k++) {
      const cli_opt *o = &p->opts[k];
      if (strlen(o->name) != len || strncmp(o->name, name, len) != 0) continue;
      if (!o->arg && eq) {
        cli_usage_error(p->prog, "--%s takes no value", o->name);
        return CLI_ERROR;
      }
      if (!o->arg) return o->id;
      char spelled[80];
      snprintf(spelled, sizeof spelled, "--%s", o->name);
      return take_value(p, o, eq ? eq + 1 : NULL, spelled);
    }
    return unknown(p, a, 1, len);
  }
  return CLI_END;
}

void cli_opt_print_help(FILE *out, const char *usage, const cli_opt *opts, size_t nopts) {
  fprintf(out, "usage: %s\n", usage);
  if (!nopts) return;
  size_t width = strlen("--help");
  for (size_t i = 0; i < nopts; i++) {
    size_t w = 2 + strlen(opts[i].name) + (opts[i].arg ? 1 + strlen(opts[i].arg) : 0);
    if (w > width) width = w;
  }
  fprintf(out, "\noptions:\n");
  for (size_t i = 0; i < nopts; i++) {
    char left[160];
    snprintf(left, sizeof left, "--%s%s%s", opts[i].name, opts[i].arg ? " " : "",
             opts[i].arg ? opts[i].arg : "");
    if (opts[i].short_name)
      fprintf(out, "  -%c, %-*s  %s\n", opts[i].short_name, (int)width, left, opts[i].help);
    else
      fprintf(out, "      %-*s  %s\n", (int)width, left, opts[i].help);
  }
  fprintf(out, "  -h, %-*s  %s\n", (int)width, "--help", "show this help and exit");
}

int cli_getopt_error(const char *prog, const struct option *longopts, char **argv) {
  const char *word = optind > 0 ? argv[optind - 1] : "";
  if (strncmp(word, "--", 2) != 0 || !word[2]) { /* a short option: unknown, or missing its value */
    for (const struct option *o = longopts; optopt && o->name; o++)
      if (o->val == optopt && o->has_arg == required_argument)
        return cli_usage_error(prog, "option '-%c' (--%s) needs a value", optopt, o->name);
    if (optopt) return cli_usage_error(prog, "unknown option '-%c'", optopt);
    return cli_usage_error(prog, "unknown option '%s'", word);
  }
  char name[128];
  size_t n = strcspn(word + 2, "=");
  snprintf(name, sizeof name, "%.*s", (int)(n < sizeof name - 1 ? n : sizeof name - 1), word + 2);
  const char *cands[128];
  size_t ncands = 0;
  for (const struct option *o = longopts; o->name && ncands < 128; o++) {
    if (strcmp(o->name, name) == 0) {
      if (o->has_arg == no_argument) return cli_usage_error(prog, "option '--%s' takes no value", name);
      return cli_usage_error(prog, "option '--%s' needs a value", name);
    }
    cands[ncands++] = o->name;
  }
  const char *near = cli_suggest(name, cands, ncands);
  if (near) return cli_usage_error(prog, "unknown option '--%s'; did you mean '--%s'?", name, near);
  return cli_usage_error(prog, "unknown option '--%s'", name);
}
