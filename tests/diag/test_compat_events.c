/* test_compat_events.c — the metadata shapes the compiler accepts because Wazuh 4.14.7 loads them
 * (SCA-SEMANTICS §1.2, §1.6) produce Wazuh's events: the real `tenet scan --format jsonl` runs
 * a tiny fixture policy and each check's "check" object and the summary are compared with what
 * the Wazuh agent sends (references given as a scalar: no "references" key at all; a mapping: its
 * string values joined; non-string items: dropped; a misspelled key: ignored; a key in another
 * case: read). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "test.h"

static char dir[] = "/tmp/tenet-compat-XXXXXX";

static const char policy[] = "policy:\n"
                             "  id: \"compat_events\"\n"
                             "  file: \"compat_events.yml\"\n"
                             "  name: \"compat\"\n"
                             "  description: \"d\"\n"
                             "  references: \"https://example.com/policy\"\n"
                             "checks:\n"
                             "  - id: 1\n"
                             "    title: \"string\"\n"
                             "    references: \"https://example.com/1\"\n"
                             "    condition: all\n"
                             "    rules: ['f:@ROOT@/a']\n"
                             "  - id: 2\n"
                             "    title: \"number\"\n"
                             "    references: 5.1\n"
                             "    condition: all\n"
                             "    rules: ['f:@ROOT@/a']\n"
                             "  - id: 3\n"
                             "    title: \"mapping\"\n"
                             "    references: {a: \"https://m1\", b: 2, c: \"https://m3\"}\n"
                             "    condition: all\n"
                             "    rules: ['f:@ROOT@/a']\n"
                             "  - id: 4\n"
                             "    title: \"list with a number\"\n"
                             "    references: [\"https://l1\", 7, \"https://l2\"]\n"
                             "    condition: all\n"
                             "    rules: ['f:@ROOT@/a']\n"
                             "  - id: 5\n"
                             "    Title: \"key in another case\"\n"
                             "    complaince:\n"
                             "      - cis: [\"1.1\"]\n"
                             "    condition: all\n"
                             "    rules: ['f:@ROOT@/a']\n";

/* The "check" object of each event, in order, as Wazuh 4.x builds it. */
static const char *const want_checks[] = {
    "\"check\":{\"id\":1,\"title\":\"string\",\"rules\":[\"f:@ROOT@/a\"],\"condition\":\"all\","
    "\"file\":\"@ROOT@/a\",\"result\":\"passed\"}}",
    "\"check\":{\"id\":2,\"title\":\"number\",\"rules\":[\"f:@ROOT@/a\"],\"condition\":\"all\","
    "\"file\":\"@ROOT@/a\",\"result\":\"passed\"}}",
    "\"check\":{\"id\":3,\"title\":\"mapping\",\"rules\":[\"f:@ROOT@/a\"],\"condition\":\"all\","
    "\"references\":\"https://m1,https://m3\",\"file\":\"@ROOT@/a\",\"result\":\"passed\"}}",
    "\"check\":{\"id\":4,\"title\":\"list with a number\",\"rules\":[\"f:@ROOT@/a\"],\"condition\":\"all\","
    "\"references\":\"https://l1,https://l2\",\"file\":\"@ROOT@/a\",\"result\":\"passed\"}}",
    "\"check\":{\"id\":5,\"title\":\"key in another case\",\"rules\":[\"f:@ROOT@/a\"],\"condition\":\"all\","
    "\"file\":\"@ROOT@/a\",\"result\":\"passed\"}}",
};

/* s with every @ROOT@ replaced by dir (caller frees). */
static char *rooted(const char *s) {
  size_t n = strlen(s) + 1, extra = strlen(dir);
  for (const char *p = strstr(s, "@ROOT@"); p; p = strstr(p + 1, "@ROOT@"))
    n += extra;
  char *out = malloc(n), *o = out;
  if (!out) abort();
  for (const char *p = s; *p;) {
    if (strncmp(p, "@ROOT@", 6) == 0) {
      o = stpcpy(o, dir);
      p += 6;
    } else {
      *o++ = *p++;
    }
  }
  *o = '\0';
  return out;
}

static void write_file(const char *path, const char *text) {
  FILE *f = fopen(path, "w");
  REQUIRE(f);
  fputs(text, f);
  fclose(f);
}

static void test_reference_shapes_events(void) {
  char path[512], cmd[2048], line[8192];
  snprintf(path, sizeof(path), "%s/a", dir);
  write_file(path, "x\n");
  snprintf(path, sizeof(path), "%s/compat_events.yml", dir);
  char *yml = rooted(policy);
  write_file(path, yml);
  free(yml);
  snprintf(cmd, sizeof(cmd), "'%s' scan --format jsonl --allow-unsigned '%s' 2>/dev/null",
           test_env("TENET_BIN", "build/tenet"), path);
  FILE *f = popen(cmd, "r");
  REQUIRE(f);
  size_t nchecks = 0, nsummary = 0;
  while (fgets(line, sizeof(line), f)) {
    line[strcspn(line, "\n")] = '\0';
    if (strncmp(line, "{\"type\":\"check\"", 15) == 0) {
      const char *obj = strstr(line, "\"check\":{");
      REQUIRE(obj);
      if (nchecks < sizeof(want_checks) / sizeof(*want_checks)) {
        char *want = rooted(want_checks[nchecks]);
        CHECK_STR(obj, want);
        free(want);
      }
      nchecks++;
    } else if (strncmp(line, "{\"type\":\"summary\"", 17) == 0) {
      nsummary++;
      CHECK(strstr(line, "\"references\"") == NULL); /* the policy's string references: dropped */
      CHECK(strstr(line, "\"description\":\"d\",\"passed\":5,") != NULL);
    }
  }
  int st = pclose(f);
  CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
  CHECK_INT(nchecks, 5);
  CHECK_INT(nsummary, 1);
}

int main(void) {
  if (!mkdtemp(dir)) {
    perror("mkdtemp");
    return 1;
  }
  RUN(test_reference_shapes_events);
  test_rm_rf(dir);
  return test_report();
}
