/* cli.h — the `tenet` command-line tool: one entry point per command (cmd_*.c). Each takes
 * argc/argv with argv[0] the command name and returns the process exit status. */
#ifndef TENET_CLI_H
#define TENET_CLI_H

#include <stdio.h>

int cmd_compile(int argc, char **argv);
int cmd_inspect(int argc, char **argv);
int cmd_keygen(int argc, char **argv);
int cmd_verify(int argc, char **argv);
int cmd_scan(int argc, char **argv);
int cmd_pki(int argc, char **argv);
int cmd_test(int argc, char **argv);
int cmd_diff(int argc, char **argv);
int cmd_sign(int argc, char **argv);
int cmd_bench(int argc, char **argv);

/* Colour only on a terminal and when NO_COLOR is unset. */
int cli_use_color(FILE *f);

#endif
