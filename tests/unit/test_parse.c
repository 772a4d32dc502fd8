/* test_parse.c — the YAML front end: ydoc.c typing and lookups, parse.c/parse_check.c shapes,
 * schema detection, every corpus policy, and hostile input (errors, never crashes). */
#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "checkid.h"
#include "corpus.h"
#include "crypto.h"
#include "policy.h"
#include "program.h"
#include "test.h"
#include "ydoc.h"

/* ---- helpers ---------------------------------------------------------------------------------- */

static policy_ast *parse(const char *yaml, diag_list **d) {
  *d = diag_list_new();
  return policy_parse_buffer("t.yml", yaml, strlen(yaml), *d);
}

/* The diagnostic at line:col, or NULL. */
static const diag *find(const diag_list *d, uint32_t line, uint32_t col) {
  for (size_t i = 0; i < d->n; i++)
    if (d->items[i].line == line && d->items[i].col == col) return &d->items[i];
  return NULL;
}

static void dump(const diag_list *d) {
  if (d->n) diag_print(d, stderr, 0);
}

#define HEADER4 "policy:\n  id: \"p1\"\n  file: \"p1.yml\"\n  name: \"P\"\n  description: \"D\"\nchecks:\n"

/* ---- ydoc.c ----------------------------------------------------------------------------------- */

static void test_scalar_typing(void) {
  const char *y = "a: [12, 5.1, 1e3, 0x1A, inf, nan, -3]\n"
                  "b: [\"12\", '5.1', true, yes, ~, '', 1.1.1, 10.2.5, 164.312.b, abc]\n"
                  "c:\n";
  diag_list *d = diag_list_new();
  ydoc *doc = ydoc_parse("t.yml", y, strlen(y), d);
  REQUIRE(doc);
  CHECK_INT(d->n, 0);
  const ynode *a = ynode_get(ydoc_root(doc), "a"), *b = ynode_get(ydoc_root(doc), "b");
  REQUIRE(a && a->kind == YNODE_SEQUENCE && a->n == 7);
  REQUIRE(b && b->kind == YNODE_SEQUENCE && b->n == 10);
  for (size_t i = 0; i < a->n; i++)
    CHECK(a->items[i]->is_number && !ynode_is_string(a->items[i]));
  for (size_t i = 0; i < b->n; i++)
    CHECK(ynode_is_string(b->items[i]));
  CHECK(a->items[0]->number == 12);
  CHECK(a->items[3]->number == 26);
  CHECK(a->items[6]->number == -3);
  CHECK(b->items[0]->quoted && b->items[1]->quoted && !b->items[2]->quoted);
  CHECK_STR(b->items[2]->text, "true");
  CHECK_STR(b->items[4]->text, "~");
  CHECK_STR(b->items[5]->text, "");
  const ynode *c = ynode_get(ydoc_root(doc), "c"); /* an empty value is the empty string */
  REQUIRE(c);
  CHECK(ynode_is_string(c));
  CHECK_INT(c->len, 0);
  CHECK_STR(ynode_kind_name(a), "sequence");
  CHECK_STR(ynode_kind_name(a->items[0]), "number");
  CHECK_STR(ynode_kind_name(ydoc_root(doc)), "mapping");
  ydoc_free(doc);
  diag_list_free(d);
}

static void test_positions(void) {
  const char *y = "top:\n  - x: 'q'\n    y: plain\n";
  diag_list *d = diag_list_new();
  ydoc *doc = ydoc_parse("t.yml", y, strlen(y), d);
  REQUIRE(doc);
  const ynode *root = ydoc_root(doc);
  CHECK_INT(root->line, 1);
  CHECK_INT(root->col, 1);
  const ynode *seq = ynode_get(root, "top");
  REQUIRE(seq && seq->n == 1);
  const ynode *m = seq->items[0];
  CHECK_INT(m->line, 2); /* a block mapping starts at its first key */
  CHECK_INT(m->col, 5);
  const ynode *x = ynode_get(m, "x"), *yv = ynode_get(m, "y");
  REQUIRE(x && yv);
  CHECK_INT(x->line, 2);
  CHECK_INT(x->col, 8); /* the opening quote */
  CHECK_INT(yv->line, 3);
  CHECK_INT(yv->col, 8);
  ydoc_free(doc);
  diag_list_free(d);
}

static void test_keys_case_and_duplicates(void) {
  const char *y = "Title: first\ntitle: second\nTITLE: third\nk: 1\nk: 2\n";
  diag_list *d = diag_list_new();
  ydoc *doc = ydoc_parse("t.yml", y, strlen(y), d);
  REQUIRE(doc);
  const ynode *t = ynode_get(ydoc_root(doc), "title");
  REQUIRE(t);
  CHECK_STR(t->text, "first");
  CHECK_STR(ynode_get(ydoc_root(doc), "tItLe")->text, "first");
  CHECK(ynode_get(ydoc_root(doc), "k")->number == 1);
  CHECK(ynode_get(ydoc_root(doc), "nope") == NULL);
  /* only the exact duplicate of k draws a warning */
  CHECK_INT(d->n, 1);
  CHECK_INT(diag_warnings(d), 1);
  const diag *w = find(d, 5, 1);
  REQUIRE(w);
  CHECK_STR(w->code, "duplicate-key");
  CHECK_STR(w->message, "duplicate key 'k' is ignored (first defined at line 4)");
  ydoc_free(doc);
  diag_list_free(d);
}

static void test_aliases_resolved(void) {
  const char *y = "base: &b [\"x\", \"y\"]\nuse: *b\nmap: &m {k: v}\nagain: *m\n";
  diag_list *d = diag_list_new();
  ydoc *doc = ydoc_parse("t.yml", y, strlen(y), d);
  REQUIRE(doc);
  const ynode *u = ynode_get(ydoc_root(doc), "use");
  REQUIRE(u && u->kind == YNODE_SEQUENCE && u->n == 2);
  CHECK_STR(u->items[1]->text, "y");
  CHECK_STR(ynode_get(ynode_get(ydoc_root(doc), "again"), "K")->text, "v");
  CHECK_INT(d->n, 0);
  ydoc_free(doc);
  diag_list_free(d);
}

static void test_yaml_syntax_error(void) {
  const char *y = "policy:\n  id: \"x\"\n bad: [\n";
  diag_list *d = diag_list_new();
  CHECK(policy_parse_buffer("t.yml", y, strlen(y), d) == NULL);
  CHECK_INT(diag_errors(d), 1);
  const diag *e = find(d, 3, 2);
  REQUIRE(e);
  CHECK_STR(e->message, "did not find expected key (while parsing a block mapping)");
  diag_list_free(d);
}

/* ---- hostile input ---------------------------------------------------------------------------- */

static void expect_rejected(const char *what, const char *data, size_t len, const char *needle) {
  diag_list *d = diag_list_new();
  policy_ast *a = policy_parse_buffer(what, data, len, d);
  CHECK(a == NULL);
  CHECK(diag_errors(d) >= 1);
  if (needle && d->n) {
    if (!strstr(d->items[0].message, needle)) dump(d);
    CHECK(strstr(d->items[0].message, needle) != NULL);
  }
  policy_ast_free(a);
  diag_list_free(d);
}

static void test_hostile_deep_nesting(void) {
  size_t n = 200000;
  char *s = malloc(2 * n + 1);
  REQUIRE(s);
  memset(s, '[', n);
  memset(s + n, ']', n);
  s[2 * n] = '\0';
  expect_rejected("deep.yml", s, 2 * n, "nesting is too deep");
  for (size_t i = 0; i < n; i++)
    s[i] = '{';
  expect_rejected("deep2.yml", s, n, "nesting is too deep");
  free(s);
}

static void test_hostile_billion_laughs(void) {
  char buf[4096];
  size_t off = (size_t)snprintf(buf, sizeof(buf), "a: &a [lol,lol,lol,lol,lol,lol,lol,lol,lol,lol]\n");
  for (int i = 1; i < 10; i++) {
    off += (size_t)snprintf(buf + off, sizeof(buf) - off, "%c: &%c [", 'a' + i, 'a' + i);
    for (int j = 0; j < 10; j++)
      off += (size_t)snprintf(buf + off, sizeof(buf) - off, "%s*%c", j ? "," : "", 'a' + i - 1);
    off += (size_t)snprintf(buf + off, sizeof(buf) - off, "]\n");
  }
  off += (size_t)snprintf(buf + off, sizeof(buf) - off, "policy: *j\n");
  expect_rejected("laughs.yml", buf, off, "once aliases are expanded");
  const char *rec = "a: &x [1, *x]\n";
  expect_rejected("rec.yml", rec, strlen(rec), "refers to a node that contains it");
  const char *undef = "a: *nope\n";
  expect_rejected("undef.yml", undef, strlen(undef), "undefined anchor");
}

static void test_hostile_alias_text(void) {
  /* a megabyte string aliased into thousands of checks: refused, not copied */
  size_t big = 1 << 20, n = 4000;
  char *s = malloc(big + 64 * n + 256);
  REQUIRE(s);
  size_t off = (size_t)sprintf(s, "s: &s \"");
  memset(s + off, 'x', big);
  off += big;
  off += (size_t)sprintf(s + off, "\"\n" HEADER4);
  for (size_t i = 0; i < n; i++)
    off += (size_t)sprintf(s + off, "  - {id: %zu, title: *s, condition: all, rules: [*s]}\n", i + 1);
  diag_list *d = diag_list_new();
  policy_ast *a = policy_parse_buffer("alias-text.yml", s, off, d);
  CHECK(diag_errors(d) >= 1);
  int found = 0;
  for (size_t i = 0; i < d->n; i++)
    found |= strstr(d->items[i].message, "too large") != NULL;
  CHECK(found);
  policy_ast_free(a);
  diag_list_free(d);
  free(s);
}

static void test_hostile_garbage(void) {
  uint32_t x = 12345;
  char buf[512];
  for (int round = 0; round < 2000; round++) {
    size_t len = (size_t)(round % 500) + 1;
    for (size_t i = 0; i < len; i++) {
      x = x * 1103515245u + 12345u;
      /* mostly YAML punctuation, sometimes any byte */
      static const char alpha[] = "-:[]{}&*!|>'\"#%@ \n\tab1.,?";
      buf[i] = (x >> 24) < 32 ? (char)(x >> 16) : alpha[(x >> 16) % (sizeof(alpha) - 1)];
    }
    diag_list *d = diag_list_new();
    policy_ast *a = policy_parse_buffer("garbage.yml", buf, len, d);
    CHECK(a != NULL || diag_errors(d) > 0); /* NULL always comes with a reason */
    policy_ast_free(a);
    diag_list_free(d);
  }
  static const unsigned char bin[] = {0x00, 0xff, 0xfe, 0x01, 0x80, 0x7f, 'a', ':', 0xc3};
  expect_rejected("bin.yml", (const char *)bin, sizeof(bin), NULL);
  expect_rejected("nul.yml", "a: 1\0b: 2", 9, "control characters");
}

static void test_hostile_too_large(void) {
  size_t len = YDOC_MAX_INPUT + 1;
  char *s = calloc(1, len);
  REQUIRE(s);
  memset(s, '#', 16);
  expect_rejected("huge.yml", s, len, "too large");
  free(s);
}

/* ---- parse.c ---------------------------------------------------------------------------------- */

static void test_valid_policy(void) {
  const char *y = "policy:\n"
                  "  ID: \"p1\"\n"
                  "  file: \"p1.yml\"\n"
                  "  name: \"Policy\"\n"
                  "  description: \"Desc\"\n"
                  "  references: [\"https://a\", 5, \"https://b\"]\n"
                  "  regex_type: pcre2\n"
                  "requirements:\n"
                  "  title: \"Req\"\n"
                  "  description: \"R\"\n"
                  "  condition: any\n"
                  "  rules: ['f:/etc/os-release']\n"
                  "variables:\n"
                  "  $sshd: /etc/ssh/sshd_config\n"
                  "checks:\n"
                  "  - id: 1000\n"
                  "    title: \"T\"\n"
                  "    impact: ignored\n"
                  "    compliance:\n"
                  "      - cis: [\"1.1.1\", 5.1]\n"
                  "      - pci_dss: [\"2.2\"]\n"
                  "    condition: all\n"
                  "    rules:\n"
                  "      - 'f:$sshd -> r:^Port'\n"
                  "      - f:/etc/passwd\n";
  diag_list *d;
  policy_ast *a = parse(y, &d);
  REQUIRE(a);
  CHECK_INT(diag_errors(d), 0);
  CHECK_INT(diag_warnings(d), 2); /* reference 5 and compliance 5.1 dropped */
  CHECK_INT(a->schema, 4);
  CHECK_STR(a->id.s, "p1");
  CHECK_INT(a->id.pos.line, 2);
  CHECK_INT(a->id.pos.col, 7);
  CHECK_STR(a->regex_type.s, "pcre2");
  CHECK_INT(a->references.n, 2);
  CHECK_STR(a->references.items[1].s, "https://b");
  CHECK(a->has_requirements);
  CHECK_STR(a->requirements.title.s, "Req");
  CHECK_INT(a->requirements.nrules, 1);
  CHECK_INT(a->nvariables, 1);
  CHECK_STR(a->variables[0].name, "$sshd");
  CHECK_STR(a->variables[0].value, "/etc/ssh/sshd_config");
  REQUIRE(a->nchecks == 1);
  ast_check *k = &a->checks[0];
  CHECK_INT(k->id, 1000);
  CHECK(k->id_text == NULL);
  CHECK_STR(k->title.s, "T");
  CHECK(k->compliance_present && !k->compliance_is_map);
  REQUIRE(k->ncompliance == 2);
  CHECK_STR(k->compliance[0].key, "cis");
  CHECK_INT(k->compliance[0].nvalues, 1);
  CHECK_STR(k->compliance[1].values[0].s, "2.2");
  REQUIRE(k->nrules == 2);
  CHECK_STR(k->rules[0].text, "f:$sshd -> r:^Port");
  CHECK(k->rules[0].quoted);
  CHECK_INT(k->rules[0].pos.line, 24);
  CHECK_INT(k->rules[0].pos.col, 9);
  CHECK(!k->rules[1].quoted);
  CHECK(k->mitre_json == NULL);
  uint8_t h[32];
  crypto_sha256(y, strlen(y), h);
  CHECK(memcmp(h, a->source_sha256, 32) == 0);
  policy_ast_free(a);
  diag_list_free(d);
}

static void test_schema_detection(void) {
  struct {
    const char *check;
    int schema;
  } cases[] = {
      {"  - {id: 1, title: t, condition: all, rules: [f:/a]}\n", 4},
      {"  - {id: 1, name: t, condition: all, rules: [f:/a]}\n", 5},
      {"  - {id: 1, title: t, name: n, condition: all, rules: [f:/a]}\n", 4},
      {"  - {id: 1, title: t, compliance: {pci_dss: [\"1\"]}, condition: all, rules: [f:/a]}\n", 5},
      {"  - {id: 1, title: t, compliance: [{cis: [\"1\"]}], condition: all, rules: [f:/a]}\n", 4},
      {"  - {id: 1, title: t, mitre: {tactic: {id: [TA1]}}, condition: all, rules: [f:/a]}\n", 5},
  };
  for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
    char y[1024];
    snprintf(y, sizeof(y), HEADER4 "%s", cases[i].check);
    diag_list *d;
    policy_ast *a = parse(y, &d);
    REQUIRE(a);
    if (diag_errors(d)) dump(d);
    CHECK_INT(diag_errors(d), 0);
    CHECK_INT(a->schema, cases[i].schema);
    policy_ast_free(a);
    diag_list_free(d);
  }
}

static void test_schema5_fields(void) {
  const char *y = HEADER4 "  - id: \"2000\"\n"
                          "    name: \"N\"\n"
                          "    compliance:\n"
                          "      pci_dss: [\"1.1\", \"1.2\"]\n"
                          "      cis: [\"9\"]\n"
                          "    mitre:\n"
                          "      tactic: {id: [\"TA0005\"], n: 3}\n"
                          "      q: \"a\\\"b\"\n"
                          "    condition: all\n"
                          "    rules: ['f:/a']\n"
                          "  - id: abc\n"
                          "    name: x\n"
                          "    condition: all\n"
                          "    rules: ['f:/a']\n";
  diag_list *d;
  policy_ast *a = parse(y, &d);
  REQUIRE(a);
  CHECK_INT(a->schema, 5);
  CHECK_INT(diag_errors(d), 0); /* `abc`: a 5.x text id */
  REQUIRE(a->nchecks == 2);
  CHECK(a->checks[1].id_is_text);
  CHECK_STR(a->checks[1].id_text, "abc");
  CHECK(a->checks[1].id == checkid_text_key("abc", 3));
  const diag *w = find(d, 11, 7); /* cis is not a 5.x framework */
  REQUIRE(w);
  CHECK(w->level == DIAG_WARNING);
  ast_check *k = &a->checks[0];
  CHECK_INT(k->id, 2000);
  CHECK_STR(k->id_text, "2000");
  CHECK(!k->id_is_text); /* a string holding an integer is that integer */
  CHECK_STR(k->title.s, "N");
  CHECK(k->compliance_is_map);
  REQUIRE(k->ncompliance == 1);
  CHECK_STR(k->compliance[0].key, "pci_dss");
  CHECK_INT(k->compliance[0].nvalues, 2);
  CHECK_STR(k->mitre_json, "{\"tactic\":{\"id\":[\"TA0005\"],\"n\":3},\"q\":\"a\\\"b\"}");
  policy_ast_free(a);
  diag_list_free(d);
}

static void test_check_ids(void) {
  const char *y = "policy:\n  id: \"1003\"\n  file: f\n  name: n\n  description: d\nchecks:\n"
                  "  - {id: 1000, title: t, condition: all, rules: [f:/a]}\n"
                  "  - {id: \"1001\", title: t, condition: all, rules: [f:/a]}\n"
                  "  - {id: 1000.7, title: t, condition: all, rules: [f:/a]}\n"
                  "  - {id: 1003, title: t, condition: all, rules: [f:/a]}\n"
                  "  - {id: 1e12, title: t, condition: all, rules: [f:/a]}\n"
                  "  - {id: [1], title: t, condition: all, rules: [f:/a]}\n"
                  "  - {title: t, condition: all, rules: [f:/a]}\n";
  diag_list *d;
  policy_ast *a = parse(y, &d);
  REQUIRE(a);
  struct {
    uint32_t line, col;
    diag_level level;
    const char *msg;
  } want[] = {
      {8, 10, DIAG_ERROR, "check id must be a number (unquote it: id: 1001)"},
      {9, 10, DIAG_WARNING, "check id 1000.7 is not an integer; it is truncated to 1000"},
      {9, 10, DIAG_ERROR, "duplicate check id 1000 (first defined at line 7)"},
      {10, 10, DIAG_ERROR, "duplicate check id 1003 (first defined at line 2 as the policy id)"},
      {11, 10, DIAG_ERROR, "check id 1e12 is out of range"},
      {12, 10, DIAG_ERROR, "check id must be a number, not a sequence"},
      {13, 5, DIAG_ERROR, "check: missing required field 'id'"},
  };
  CHECK_INT(d->n, sizeof(want) / sizeof(*want));
  for (size_t i = 0; i < sizeof(want) / sizeof(*want); i++) {
    int hit = 0;
    for (size_t j = 0; j < d->n; j++)
      hit |= d->items[j].line == want[i].line && d->items[j].col == want[i].col &&
             d->items[j].level == want[i].level && strcmp(d->items[j].message, want[i].msg) == 0;
    if (!hit) fprintf(stderr, "  missing: %u:%u %s\n", want[i].line, want[i].col, want[i].msg);
    CHECK(hit);
  }
  CHECK_INT(a->checks[2].id, 1000);
  CHECK(a->checks[2].id_value == 1000.7);
  policy_ast_free(a);
  diag_list_free(d);
}

static void test_rules_limits(void) {
  char *y = malloc(64 * 1024);
  REQUIRE(y);
  size_t off = (size_t)sprintf(y, HEADER4 "  - id: 1\n    title: t\n    condition: all\n    rules:\n");
  for (int i = 0; i < 256; i++)
    off += (size_t)sprintf(y + off, "      - 'f:/r%d'\n", i);
  diag_list *d;
  policy_ast *a = parse(y, &d);
  REQUIRE(a);
  CHECK_INT(diag_errors(d), 1);
  const diag *e = find(d, 11, 7);
  REQUIRE(e);
  CHECK_STR(e->message, "check 1 has 256 rules; at most 255 are allowed");
  policy_ast_free(a);
  diag_list_free(d);
  /* 255 is fine */
  char *last = strstr(y, "      - 'f:/r255'\n");
  REQUIRE(last);
  *last = '\0';
  a = parse(y, &d);
  REQUIRE(a);
  CHECK_INT(diag_errors(d), 0);
  CHECK_INT(a->checks[0].nrules, 255);
  policy_ast_free(a);
  diag_list_free(d);
  free(y);
}

static void test_compliance_shapes(void) {
  const char *y = HEADER4 "  - id: 1\n"
                          "    title: t\n"
                          "    compliance:\n"
                          "      - cis: \"1.1.1\"\n"
                          "      - pci: [5.1]\n"
                          "      - nist: {a: \"x\"}\n"
                          "      - gdpr: [\"IV\"]\n"
                          "    condition: all\n"
                          "    rules: ['f:/a']\n"
                          "  - id: 2\n"
                          "    title: t\n"
                          "    compliance: []\n"
                          "    condition: all\n"
                          "    rules: ['f:/a']\n";
  diag_list *d;
  policy_ast *a = parse(y, &d);
  REQUIRE(a);
  CHECK_INT(diag_errors(d), 0);
  CHECK_INT(diag_warnings(d), 3);
  ast_check *k = &a->checks[0];
  REQUIRE(k->ncompliance == 2); /* the scalar and the all-numbers entries produce nothing */
  CHECK_STR(k->compliance[0].key, "nist");
  CHECK_STR(k->compliance[0].values[0].s, "x");
  CHECK_STR(k->compliance[1].key, "gdpr");
  CHECK(a->checks[1].compliance_present);
  CHECK_INT(a->checks[1].ncompliance, 0);
  policy_ast_free(a);
  diag_list_free(d);
}

static void test_missing_file(void) {
  diag_list *d = diag_list_new();
  CHECK(policy_parse_file("/nonexistent/dir/policy.yml", d) == NULL);
  CHECK_INT(diag_errors(d), 1);
  CHECK_INT(d->items[0].line, 0);
  CHECK(strstr(d->items[0].message, "cannot open policy file") != NULL);
  diag_list_free(d);
}

/* ---- corpus ----------------------------------------------------------------------------------- */

static int corpus_files, corpus_errors;

static int corpus_one(const char *path, const struct stat *st, int type, struct FTW *ftw) {
  size_t n = strlen(path);
  if (type != FTW_F || n < 4 || strcmp(path + n - 4, ".yml") != 0) return 0;
  diag_list *d = diag_list_new();
  policy_ast *a = policy_parse_file(path, d);
  corpus_files++;
  if (!a || diag_errors(d)) {
    corpus_errors++;
    dump(d);
  }
  CHECK(a != NULL);
  CHECK_INT(diag_errors(d), 0);
  if (a) CHECK(a->nchecks > 0);
  printf("  %-70s schema %d, %3zu checks, %zu warnings\n", path, a ? a->schema : 0, a ? a->nchecks : 0,
         diag_warnings(d));
  policy_ast_free(a);
  diag_list_free(d);
  return 0;
}

static char corpus4[4096], corpus5[4096]; /* SHARED/corpus/wazuh-4.14.7 and wazuh-5.x-head (corpus.h) */

static void test_corpus(void) {
  CHECK_INT(nftw(corpus4, corpus_one, 16, FTW_PHYS), 0);
  int n4 = corpus_files;
  CHECK_INT(nftw(corpus5, corpus_one, 16, FTW_PHYS), 0);
  CHECK(n4 >= 10);
  CHECK(corpus_files - n4 >= 10);
  CHECK_INT(corpus_errors, 0);
}

/* 5.x string ids (SCA-SEMANTICS §10 "Loading"): any string under the 5.x dialect, keyed by
 * checkid_text_key; "5" and 5 are one id; --dialect wazuh4 keeps the 4.x rule, --dialect wazuh5
 * opens it to a 4.x-schema policy. */
static void test_string_ids(void) {
  const char *y5 = HEADER4 "  - {id: \"s5\", name: a, condition: all, rules: ['f:/a']}\n"
                           "  - {id: 5, name: b, condition: all, rules: ['f:/a']}\n"
                           "  - {id: \"5\", name: c, condition: all, rules: ['f:/a']}\n"
                           "  - {id: \"s5\", name: d, condition: all, rules: ['f:/a']}\n"
                           "  - {id: \"\", name: e, condition: all, rules: ['f:/a']}\n"
                           "  - {id: \"a\\0b\", name: f, condition: all, rules: ['f:/a']}\n"
                           "  - {id: \"99999999999\", name: g, condition: all, rules: ['f:/a']}\n"
                           "  - {id: \"-3\", name: h, condition: all, rules: ['f:/a']}\n";
  diag_list *d = diag_list_new();
  policy_ast *a = policy_parse_buffer("t.yml", y5, strlen(y5), d);
  REQUIRE(a);
  CHECK_INT(a->schema, 5);
  CHECK_STR(find(d, 9, 10)->message, "duplicate check id 5 (first defined at line 8)");
  CHECK_STR(find(d, 10, 10)->message, "duplicate check id 's5' (first defined at line 7)");
  CHECK_STR(find(d, 11, 10)->message, "check id must not be an empty string");
  CHECK_STR(find(d, 12, 10)->message, "check id must not contain a NUL byte");
  CHECK_INT(diag_errors(d), 4);
  CHECK(a->checks[0].id_is_text && a->checks[0].id == checkid_text_key("s5", 2));
  CHECK(checkid_is_text_key(a->checks[0].id));
  CHECK(!a->checks[1].id_is_text && a->checks[1].id == 5);
  CHECK(!a->checks[2].id_is_text && a->checks[2].id == 5);
  CHECK(a->checks[6].id_is_text); /* beyond 32 bits: a text id, not a range error */
  CHECK_STR(a->checks[6].id_text, "99999999999");
  CHECK(!a->checks[7].id_is_text && a->checks[7].id == -3);
  policy_ast_free(a);
  diag_list_free(d);

  /* --dialect wazuh4 on a 5.x schema: "5" still reads, "s5" is refused as before */
  const char *one = HEADER4 "  - {id: \"s5\", name: a, condition: all, rules: ['f:/a']}\n"
                            "  - {id: \"6\", name: b, condition: all, rules: ['f:/a']}\n";
  d = diag_list_new();
  a = policy_parse_buffer_as("t.yml", one, strlen(one), DIALECT_WAZUH4, d);
  REQUIRE(a);
  CHECK_INT(diag_errors(d), 1);
  CHECK_STR(find(d, 7, 10)->message, "check id must be an integer or a string holding one");
  CHECK(a->checks[1].id == 6);
  policy_ast_free(a);
  diag_list_free(d);

  /* a 4.x schema: refused by default, a text id under --dialect wazuh5 */
  const char *four = HEADER4 "  - {id: \"s5\", title: a, condition: all, rules: ['f:/a']}\n";
  d = diag_list_new();
  a = policy_parse_buffer("t.yml", four, strlen(four), d);
  REQUIRE(a);
  CHECK_INT(a->schema, 4);
  CHECK_INT(diag_errors(d), 1);
  policy_ast_free(a);
  diag_list_free(d);
  d = diag_list_new();
  a = policy_parse_buffer_as("t.yml", four, strlen(four), DIALECT_WAZUH5, d);
  REQUIRE(a);
  CHECK_INT(diag_errors(d), 0);
  CHECK(a->checks[0].id_is_text);
  CHECK_STR(a->checks[0].id_text, "s5");
  policy_ast_free(a);
  diag_list_free(d);
}

int main(int argc, char **argv) {
  if (test_corpus_wanted(argc, argv)) { /* CTest: corpus/test_parse, skipped without the corpus */
    if (!test_corpus_dir("wazuh-4.14.7", corpus4, sizeof corpus4) ||
        !test_corpus_dir("wazuh-5.x-head", corpus5, sizeof corpus5))
      return TEST_SKIP;
    RUN(test_corpus);
    return test_report();
  }
  RUN(test_scalar_typing);
  RUN(test_positions);
  RUN(test_keys_case_and_duplicates);
  RUN(test_aliases_resolved);
  RUN(test_yaml_syntax_error);
  RUN(test_hostile_deep_nesting);
  RUN(test_hostile_billion_laughs);
  RUN(test_hostile_alias_text);
  RUN(test_hostile_garbage);
  RUN(test_hostile_too_large);
  RUN(test_valid_policy);
  RUN(test_schema_detection);
  RUN(test_schema5_fields);
  RUN(test_string_ids);
  RUN(test_check_ids);
  RUN(test_rules_limits);
  RUN(test_compliance_shapes);
  RUN(test_missing_file);
  return test_report();
}
