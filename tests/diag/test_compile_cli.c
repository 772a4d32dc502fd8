/* test_compile_cli.c — the warning options of the real `tenet compile`: --help lists every
 * warning code of warnings.def, -W options are accepted in order and change the exit status,
 * unknown ones are refused with a did-you-mean, and --diagnostics-format picks the rendering
 * (JSON/SARIF on standard output, the caret under the source line in text). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "diag.h"
#include "test.h"

static char dir[] = "/tmp/tenet-cli-XXXXXX";
static char policy[600];

/* Run `tenet compile ARGS` (ARGS already quoted); stdout+stderr into *out (caller frees). Returns
 * the exit status, or -1. */
static int run(const char *args, char **out) {
  char cmd[4096];
  snprintf(cmd, sizeof(cmd), "'%s' compile %s 2>&1", test_env("TENET_BIN", "build/tenet"), args);
  FILE *f = popen(cmd, "r");
  if (!f) return -1;
  size_t len = 0;
  FILE *m = open_memstream(out, &len);
  int ch;
  while ((ch = fgetc(f)) != EOF)
    fputc(ch, m);
  fclose(m);
  int st = pclose(f);
  return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void test_help_lists_codes(void) {
  char *out = NULL;
  CHECK_INT(run("--help", &out), 0);
  size_t n;
  const diag_code_info *c = diag_codes(&n);
  for (size_t i = 0; i < n; i++) {
    char want[96];
    snprintf(want, sizeof(want), "%s -W%s ", c[i].on_by_default ? "*" : " ", c[i].code);
    if (c[i].is_warning) CHECK(out && strstr(out, want) != NULL);
  }
  free(out);
}

static void test_options(void) {
  char args[2048], *out = NULL;
  /* one warning (unknown key) by default: exit 0; --strict: 1; -Wno-unknown-key with --strict: 0 */
  snprintf(args, sizeof(args), "-n '%s'", policy);
  CHECK_INT(run(args, &out), 0);
  CHECK(out && strstr(out, "did you mean 'compliance'? [-Wunknown-key]\n"));
  CHECK(out && strstr(out, "   9 |     complaince:\n       |     ^\n"));
  free(out);
  snprintf(args, sizeof(args), "-n --strict '%s'", policy);
  CHECK_INT(run(args, &out), 1);
  CHECK(out && strstr(out, "[-Werror=unknown-key]"));
  free(out);
  snprintf(args, sizeof(args), "-n --strict -Wno-unknown-key '%s'", policy);
  CHECK_INT(run(args, &out), 0);
  free(out);
  snprintf(args, sizeof(args), "-n -Werror=unknown-key -Wno-error=unknown-key '%s'", policy);
  CHECK_INT(run(args, &out), 0);
  free(out);
  snprintf(args, sizeof(args), "-n --no-caret '%s'", policy);
  CHECK_INT(run(args, &out), 0);
  CHECK(out && !strstr(out, " |"));
  free(out);
  /* refused options: exit 2 with the reason */
  snprintf(args, sizeof(args), "-n -Wno-unknown-kye '%s'", policy);
  CHECK_INT(run(args, &out), 2);
  CHECK_STR(out,
            "tenet compile: unknown warning option '-Wno-unknown-kye'; did you mean '-Wno-unknown-key'?\n");
  free(out);
  snprintf(args, sizeof(args), "-n -Wno-yaml '%s'", policy);
  CHECK_INT(run(args, &out), 2);
  free(out);
  snprintf(args, sizeof(args), "-n --diagnostics-format=xml '%s'", policy);
  CHECK_INT(run(args, &out), 2);
  CHECK_STR(out, "tenet compile: --diagnostics-format is text, json or sarif, not 'xml'\n");
  free(out);
}

static void test_machine_formats(void) {
  char args[2048], *out = NULL;
  snprintf(args, sizeof(args), "-n -q --diagnostics-format=json '%s'", policy);
  CHECK_INT(run(args, &out), 0);
  CHECK(out && strncmp(out, "[{\"file\":", 9) == 0);
  CHECK(out && strstr(out, "\"line\":9,\"column\":5,\"severity\":\"warning\",\"code\":\"unknown-key\""));
  free(out);
  snprintf(args, sizeof(args), "-n -q --diagnostics-format=sarif --strict '%s'", policy);
  CHECK_INT(run(args, &out), 1);
  CHECK(out && strstr(out, "\"version\":\"2.1.0\""));
  CHECK(out && strstr(out, "{\"ruleId\":\"unknown-key\""));
  CHECK(out && strstr(out, "\"level\":\"error\""));
  free(out);
}

int main(void) {
  if (!mkdtemp(dir)) {
    perror("mkdtemp");
    return 1;
  }
  snprintf(policy, sizeof(policy), "%s/p.yml", dir);
  FILE *f = fopen(policy, "w");
  if (!f) return 1;
  fputs("policy:\n  id: \"cli\"\n  file: \"p.yml\"\n  name: \"n\"\n  description: \"d\"\nchecks:\n"
        "  - id: 1\n    title: \"t\"\n    complaince:\n      - cis: [\"1\"]\n    condition: all\n"
        "    rules: ['f:/etc/passwd']\n",
        f);
  fclose(f);
  RUN(test_help_lists_codes);
  RUN(test_options);
  RUN(test_machine_formats);
  test_rm_rf(dir);
  return test_report();
}
