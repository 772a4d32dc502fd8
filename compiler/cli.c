/* cli.c — what the `tenet` commands (cmd_*.c) share besides their entry points (cli.h). Kept out
 * of main.c, which calls the commands, so that the commands need not call back into it. */
#include <stdlib.h>
#include <unistd.h>

#include "cli.h"

int cli_use_color(FILE *f) { return isatty(fileno(f)) && !getenv("NO_COLOR"); }
