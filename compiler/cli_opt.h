/* cli_opt.h — the option table of a `tenet` command and its parser.
 *
 * A command describes its options once, one row each (long name, short letter, argument name,
 * help line); the same rows drive parsing, the `--help` text and the did-you-mean suggestion for a
 * mistyped option. Accepted forms: `--name VALUE`, `--name=VALUE`, `-x VALUE`, `-xVALUE`, grouped
 * flags `-qs`, and `--` to end the options. `-h` and `--help` are always known (CLI_HELP).
 *
 *   static const cli_opt opts[] = {{'o', "output", 'o', "OUT", "write the bundle to OUT"}, ...};
 *   cli_parser p;
 *   cli_parser_init(&p, "tenet compile", opts, sizeof opts / sizeof *opts, argc, argv);
 *   for (int id; (id = cli_parser_next(&p)) != CLI_END;)
 *     switch (id) { case 'o': out = p.value; break; case CLI_HELP: ...; case CLI_ERROR: return 2; }
 *   then p.pos[0 .. p.npos-1] are the operands, in order.
 *
 * Errors are printed by the parser to stderr as `PROG: message` followed by a pointer to `PROG --help`. */
#ifndef TENET_CLI_OPT_H
#define TENET_CLI_OPT_H

#include <stddef.h>
#include <stdio.h>

typedef struct cli_opt {
  int id;           /* returned by cli_parser_next for this option (> 0) */
  const char *name; /* long name without the dashes */
  char short_name;  /* one letter, or 0 */
  const char *arg;  /* name of its argument ("N", "KEY.pub"), or NULL for a flag */
  const char *help; /* one line for --help */
} cli_opt;

enum {
  CLI_END = 0,    /* no more options */
  CLI_HELP = -1,  /* -h or --help */
  CLI_ERROR = -2, /* unknown option, missing or unexpected value: already reported */
};

typedef struct cli_parser {
  const char *prog; /* "tenet scan": the prefix of messages */
  const cli_opt *opts;
  size_t nopts;
  int argc;
  char **argv;       /* argv[0] is the command; operands are moved to the front as they are met */
  int i;             /* next argv index */
  const char *group; /* rest of a group of short flags (-qs) */
  const char *value; /* the argument of the option just returned (NULL for a flag) */
  char **pos;        /* operands, in order (points into argv) */
  int npos;
} cli_parser;

/* Start parsing argv[1..argc-1] (argv[0] is the command name). argv is reordered in place. */
void cli_parser_init(cli_parser *p, const char *prog, const cli_opt *opts, size_t nopts, int argc,
                     char **argv);

/* The id of the next option (p->value holds its argument), CLI_HELP, CLI_ERROR, or CLI_END once
 * every argument is read (then p->pos / p->npos hold the operands). */
int cli_parser_next(cli_parser *p);

/* Print "usage: USAGE" and one aligned line per option (plus -h, --help) to out. */
void cli_opt_print_help(FILE *out, const char *usage, const cli_opt *opts, size_t nopts);

/* Report a bad invocation: "PROG: message" and "Run 'PROG --help' ..." on stderr. Returns 2, the
 * exit status of a usage error, so a command can `return cli_usage_error(...)`. */
int cli_usage_error(const char *prog, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Edit distance (Damerau-Levenshtein, adjacent transpositions count 1) between a and b. */
size_t cli_edit_distance(const char *a, const char *b);

/* The candidate nearest to word if it is near enough to be what the user meant, else NULL.
 * The returned pointer is one of cands (not owned by the caller). */
const char *cli_suggest(const char *word, const char *const *cands, size_t ncands);

/* For commands still parsed with getopt_long (opterr set to 0 before the loop): report the option
 * getopt_long just refused ('?') the way cli_parser does — "PROG: unknown option '--formt'; did you
 * mean '--format'?" or "PROG: option '--jobs' needs a value" — using getopt's optind/optopt and the
 * command's long options. Returns 2, the exit status of a usage error. */
struct option;
int cli_getopt_error(const char *prog, const struct option *longopts, char **argv);

#endif
