/* test_rules.c — the rule-string grammar (compiler/rules.c, SCA-SEMANTICS §2.1 and §5): every
 * construct, every syntax error with its offset, and the n: comparison parser. */
#include <stdint.h>
#include <string.h>

#include "err.h"
#include "opcodes.h"
#include "rulekind.h"
#include "rules.h"
#include "test.h"

/* The text of a span, in a static buffer (tests only). */
static const char *sp(const rule *r, rule_span s) {
  static char buf[4][512];
  static int k;
  char *b = buf[k++ & 3];
  snprintf(b, 512, "%.*s", (int)s.len, r->src + s.off);
  return b;
}

/* Parse src, which must succeed. */
static void ok(const char *src, rule *r) {
  rule_error e = {0};
  int rc = rule_parse(src, r, &e);
  if (rc != TN_OK) fprintf(stderr, "unexpected error for '%s': %u %s\n", src, e.off, e.msg);
  REQUIRE(rc == TN_OK);
}

/* Parse src, which must fail at offset off with a message containing msg. */
static void bad(const char *src, uint32_t off, const char *msg) {
  rule r;
  rule_error e = {0};
  int rc = rule_parse(src, &r, &e);
  CHECK_INT(rc, TN_EPOLICY);
  if (rc != TN_EPOLICY) {
    rule_free(&r);
    return;
  }
  CHECK_INT(e.off, off);
  if (!strstr(e.msg, msg)) fprintf(stderr, "'%s': message '%s' lacks '%s'\n", src, e.msg, msg);
  CHECK(strstr(e.msg, msg) != NULL);
  CHECK(r.minterms == NULL && r.nminterms == 0);
}

static void test_file_existence(void) {
  rule r;
  ok("f:/etc/passwd", &r);
  CHECK_INT(r.type, RULE_FILE);
  CHECK_INT(r.negated, 0);
  CHECK_STR(sp(&r, r.location), "/etc/passwd");
  CHECK_INT(r.location.off, 2);
  CHECK_INT(r.has_content, 0);
  CHECK_INT(r.has_name, 0);
  CHECK_INT(r.nminterms, 0);
  rule_free(&r);
}

static void test_file_list_and_content(void) {
  rule r;
  ok("f:/a, /b,/c -> r:^x -> y", &r);
  /* the list is kept verbatim: splitting on ',' (no trimming) is the VM's job */
  CHECK_STR(sp(&r, r.location), "/a, /b,/c");
  CHECK_INT(r.has_content, 1);
  /* f: content is everything after the first " -> " */
  CHECK_STR(sp(&r, r.content), "r:^x -> y");
  REQUIRE(r.nminterms == 1);
  CHECK_INT(r.minterms[0].kind, MINTERM_REGEX);
  CHECK_STR(sp(&r, r.minterms[0].pattern), "^x -> y");
  CHECK_INT(r.minterms[0].pattern.off, 17);
  rule_free(&r);
}

static void test_negation_prefix(void) {
  rule r;
  ok("not f:/x", &r);
  CHECK_INT(r.negated, 1);
  CHECK_INT(r.type, RULE_FILE);
  CHECK_INT(r.location.off, 6);
  rule_free(&r);
  ok("NOT c:id -> r:root", &r);
  CHECK_INT(r.negated, 1);
  CHECK_INT(r.type, RULE_CMD);
  CHECK_STR(sp(&r, r.location), "id");
  rule_free(&r);
}

static void test_command(void) {
  rule r;
  ok("c:systemctl is-enabled foo", &r);
  CHECK_INT(r.type, RULE_CMD);
  CHECK_STR(sp(&r, r.location), "systemctl is-enabled foo");
  CHECK_INT(r.has_content, 0);
  rule_free(&r);
  ok("c:sshd -T -> n:^maxauthtries\\s(\\d+) compare <= 4", &r);
  REQUIRE(r.nminterms == 1);
  rule_minterm *m = &r.minterms[0];
  CHECK_INT(m->kind, MINTERM_NUMERIC);
  CHECK_INT(m->has_compare, 1);
  CHECK_STR(sp(&r, m->pattern), "^maxauthtries\\s(\\d+)");
  CHECK_STR(sp(&r, m->comparison), "<= 4");
  CHECK_STR(sp(&r, m->after_n), "^maxauthtries\\s(\\d+) compare <= 4");
  CHECK_INT(m->cmp, CMP_LE);
  CHECK_INT(m->value, 4);
  CHECK_STR(sp(&r, m->digits), "4");
  rule_free(&r);
}

static void test_directory(void) {
  rule r;
  ok("d:/etc", &r);
  CHECK_INT(r.type, RULE_DIR);
  CHECK_INT(r.has_name, 0);
  CHECK_INT(r.has_content, 0);
  rule_free(&r);
  ok("d:/etc,/usr/lib -> r:\\.conf$", &r);
  CHECK_STR(sp(&r, r.location), "/etc,/usr/lib");
  CHECK_INT(r.has_name, 1);
  CHECK_STR(sp(&r, r.name), "r:\\.conf$");
  CHECK_INT(r.has_content, 0);
  CHECK_INT(r.nminterms, 0);
  rule_free(&r);
  ok("d:/etc/modprobe.d -> r:\\.conf -> r:blacklist -> x && !y", &r);
  CHECK_STR(sp(&r, r.name), "r:\\.conf");
  CHECK_INT(r.has_content, 1);
  /* the second split is the last: further " -> " belong to the content */
  CHECK_STR(sp(&r, r.content), "r:blacklist -> x && !y");
  REQUIRE(r.nminterms == 2);
  CHECK_STR(sp(&r, r.minterms[0].pattern), "blacklist -> x");
  CHECK_INT(r.minterms[1].kind, MINTERM_LITERAL);
  CHECK_INT(r.minterms[1].neg, 1);
  CHECK_STR(sp(&r, r.minterms[1].text), "y");
  rule_free(&r);
}

static void test_process(void) {
  rule r;
  ok("p:sshd", &r);
  CHECK_INT(r.type, RULE_PROC);
  CHECK_INT(r.has_content, 1);
  CHECK_INT(r.location.len, 0);
  CHECK_STR(sp(&r, r.content), "sshd");
  REQUIRE(r.nminterms == 1);
  CHECK_INT(r.minterms[0].kind, MINTERM_LITERAL);
  rule_free(&r);
  /* the whole body is content: " -> " has no meaning in p: */
  ok("p:r:avahi -> x", &r);
  REQUIRE(r.nminterms == 1);
  CHECK_INT(r.minterms[0].kind, MINTERM_REGEX);
  CHECK_STR(sp(&r, r.minterms[0].pattern), "avahi -> x");
  rule_free(&r);
  /* an empty p: body parses (it is an expression with no minterms) */
  ok("p:", &r);
  CHECK_INT(r.nminterms, 0);
  rule_free(&r);
}

static void test_registry(void) {
  rule r;
  ok("r:HKLM\\SYSTEM\\x -> Start -> n:(\\d+) compare == 4", &r);
  CHECK_INT(r.type, RULE_REG);
  CHECK_STR(sp(&r, r.location), "HKLM\\SYSTEM\\x");
  CHECK_INT(r.has_name, 1);
  CHECK_STR(sp(&r, r.name), "Start");
  CHECK_INT(r.has_content, 1);
  REQUIRE(r.nminterms == 1);
  CHECK_INT(r.minterms[0].cmp, CMP_EQ);
  rule_free(&r);
  ok("r:HKLM\\x -> Start", &r);
  CHECK_INT(r.has_name, 1);
  CHECK_INT(r.has_content, 0);
  rule_free(&r);
}

static void test_minterm_split(void) {
  rule r;
  /* empty tokens (leading, doubled, trailing " && ") are dropped; nothing is trimmed */
  ok("f:/x ->  && r: a && && !0 && ", &r);
  REQUIRE(r.nminterms == 2);
  CHECK_INT(r.minterms[0].kind, MINTERM_REGEX);
  CHECK_STR(sp(&r, r.minterms[0].pattern), " a");
  /* after " && " the rest is "&& !0 && ": its first delimiter is the one before the end */
  CHECK_INT(r.minterms[1].kind, MINTERM_LITERAL);
  CHECK_INT(r.minterms[1].neg, 0);
  CHECK_STR(sp(&r, r.minterms[1].text), "&& !0");
  rule_free(&r);
  ok("f:/x -> a &&  && !0", &r);
  REQUIRE(r.nminterms == 2);
  CHECK_STR(sp(&r, r.minterms[0].text), "a");
  CHECK_INT(r.minterms[1].neg, 1);
  CHECK_STR(sp(&r, r.minterms[1].text), "0");
  CHECK_INT(r.minterms[1].text.off, 18);
  rule_free(&r);
  /* "f:/x -> " has an empty content: no minterms */
  ok("f:/x -> ", &r);
  CHECK_INT(r.has_content, 1);
  CHECK_INT(r.nminterms, 0);
  rule_free(&r);
  /* only " && " with one space each side separates */
  ok("f:/x -> a&&b &&c", &r);
  CHECK_INT(r.nminterms, 1);
  rule_free(&r);
}

static void test_minterm_prefixes(void) {
  rule r;
  ok("f:/x -> R:Up && N:(\\d) compare > 1 && !r:!x && !!y && r:", &r);
  REQUIRE(r.nminterms == 5);
  CHECK_INT(r.minterms[0].kind, MINTERM_REGEX);
  CHECK_STR(sp(&r, r.minterms[0].pattern), "Up");
  CHECK_INT(r.minterms[1].kind, MINTERM_NUMERIC);
  CHECK_INT(r.minterms[1].cmp, CMP_GT);
  CHECK_INT(r.minterms[2].neg, 1);
  CHECK_STR(sp(&r, r.minterms[2].pattern), "!x"); /* r:!x is a regex starting with '!' */
  CHECK_INT(r.minterms[3].neg, 1);                /* one '!' only */
  CHECK_INT(r.minterms[3].kind, MINTERM_LITERAL);
  CHECK_STR(sp(&r, r.minterms[3].text), "!y");
  CHECK_INT(r.minterms[4].kind, MINTERM_REGEX); /* empty regex */
  CHECK_INT(r.minterms[4].pattern.len, 0);
  rule_free(&r);
}

static void test_numeric_forms(void) {
  rule r;
  /* no " compare ": the whole text after n: is kept for Wazuh's reason */
  ok("f:/x -> n:^x (\\d+) compared 3", &r);
  REQUIRE(r.nminterms == 1);
  CHECK_INT(r.minterms[0].cmp, CMP_ERR_NOCOMPARE);
  CHECK_INT(r.minterms[0].has_compare, 0);
  CHECK_STR(sp(&r, r.minterms[0].after_n), "^x (\\d+) compared 3");
  rule_free(&r);
  /* the first " compare " splits */
  ok("f:/x -> n:a compare b compare >= 7", &r);
  CHECK_STR(sp(&r, r.minterms[0].pattern), "a");
  CHECK_STR(sp(&r, r.minterms[0].comparison), "b compare >= 7");
  CHECK_INT(r.minterms[0].cmp, CMP_GE);
  CHECK_INT(r.minterms[0].value, 7);
  rule_free(&r);
  ok("f:/x -> n:(\\d+) compare <=", &r);
  CHECK_INT(r.minterms[0].cmp, CMP_ERR_NOINT);
  rule_free(&r);
  ok("f:/x -> n:(\\d+) compare ~ 3", &r);
  CHECK_INT(r.minterms[0].cmp, CMP_ERR_BADOP);
  CHECK_INT(r.minterms[0].value, 3);
  rule_free(&r);
}

static unsigned cmp_of(const char *text, uint64_t *v) {
  size_t off, len;
  return rule_parse_comparison(text, strlen(text), v, &off, &len);
}

static void test_comparison_operators(void) {
  uint64_t v;
  /* a leading '=' is equality, whatever follows (Wazuh's =>/=< bug) */
  CHECK_INT(cmp_of("= 3", &v), CMP_EQ);
  CHECK_INT(cmp_of("== 3", &v), CMP_EQ);
  CHECK_INT(cmp_of("=> 3", &v), CMP_EQ);
  CHECK_INT(cmp_of("=< 3", &v), CMP_EQ);
  CHECK_INT(cmp_of("!= 3", &v), CMP_NE);
  CHECK_INT(cmp_of("\\!= 3", &v), CMP_NE);
  CHECK_INT(cmp_of("<= 3", &v), CMP_LE);
  CHECK_INT(cmp_of(">= 3", &v), CMP_GE);
  CHECK_INT(cmp_of("< 3", &v), CMP_LT);
  CHECK_INT(cmp_of("> 3", &v), CMP_GT);
  /* order: != before <= before >= before < before > */
  CHECK_INT(cmp_of("<>!= 3", &v), CMP_NE);
  CHECK_INT(cmp_of(">= <= 3", &v), CMP_LE);
  CHECK_INT(cmp_of("> < 3", &v), CMP_LT);
  CHECK_INT(cmp_of("eq 3", &v), CMP_ERR_BADOP);
  /* no digits is reported before a bad operator */
  CHECK_INT(cmp_of("eq x", &v), CMP_ERR_NOINT);
  CHECK_INT(cmp_of("", &v), CMP_ERR_NOINT);
  /* value: first run of digits; sign lost; decimals truncated */
  CHECK_INT(cmp_of("> -1", &v), CMP_GT);
  CHECK_INT(v, 1);
  CHECK_INT(cmp_of(">= 1.5", &v), CMP_GE);
  CHECK_INT(v, 1);
  CHECK_INT(cmp_of("<= 0365", &v), CMP_LE);
  CHECK_INT(v, 365);
  size_t off, len;
  CHECK_INT(rule_parse_comparison("<= x12y34", 9, &v, &off, &len), CMP_LE);
  CHECK_INT(v, 12);
  CHECK_INT(off, 4);
  CHECK_INT(len, 2);
  /* huge values saturate */
  CHECK_INT(cmp_of("< 99999999999999999999999", &v), CMP_LT);
  CHECK(v == UINT64_MAX);
  CHECK_INT(cmp_of("< 4294967296", &v), CMP_LT);
  CHECK(v == 4294967296ull);
}

static void test_errors(void) {
  bad("", 0, "empty rule");
  bad(" f:/x", 0, "starts with whitespace");
  bad("\tf:/x", 0, "starts with whitespace");
  bad("Not f:/x", 0, "'Not' is not a negation");
  bad("nOT f:/x", 0, "'nOT' is not a negation");
  bad("not ", 4, "empty rule after 'not '");
  bad("not  f:/x", 4, "must follow 'not ' directly");
  bad("!f:/x", 0, "'!' before the rule type");
  bad("not !f:/x", 4, "'!' before the rule type");
  bad("file:/x", 0, "unknown rule type 'file'");
  bad("x:/y", 0, "unknown rule type 'x'");
  bad("F:/x", 0, "unknown rule type 'F'");
  bad("not fd:/x", 4, "unknown rule type 'fd'");
  bad(":/x", 0, "unknown rule type ''");
  bad("f /x", 0, "missing ':'");
  bad("f:", 2, "f: rule has an empty file list");
  bad("f: -> r:x", 2, "f: rule has an empty file list");
  bad("not d: -> x", 6, "d: rule has an empty directory list");
  bad("c:", 2, "c: rule has an empty command");
  bad("r:", 2, "r: rule has an empty registry key");
}

static void test_not_is_not_the_n_prefix(void) {
  rule r;
  /* "not" requires the space; "nota:" is an unknown type */
  bad("nota:/x", 0, "unknown rule type 'nota'");
  /* "n:" alone is not a rule type */
  bad("n:x", 0, "unknown rule type 'n'");
  ok("not p:sshd", &r);
  CHECK_INT(r.negated, 1);
  CHECK_INT(r.content.off, 6);
  rule_free(&r);
}

static void test_span_dup(void) {
  rule r;
  ok("c:echo hi -> r:hi", &r);
  char *s = rule_span_dup(&r, r.location);
  CHECK_STR(s, "echo hi");
  free(s);
  rule_free(&r);
  rule_free(NULL);
}

static int span_in(rule_span s, size_t n) { return (size_t)s.off + s.len <= n; }

/* Every prefix of tricky rules parses or fails cleanly, and every span stays inside the string. */
static void test_prefixes_stay_in_bounds(void) {
  static const char *const rules[] = {
      "not d:/a,/b -> r:x -> !n:^(\\d+) compare >= -1.5 && lit &&  && r: y",
      "NOT r:HKLM\\x -> v -> n:a compare  && !!q",
      "c:sh -c \"a -> b\" -> r:-> && x",
      "p:!r:a && n:b compare =<7",
  };
  char buf[256];
  for (size_t k = 0; k < sizeof rules / sizeof rules[0]; k++) {
    size_t n = strlen(rules[k]);
    for (size_t len = 0; len <= n; len++) {
      memcpy(buf, rules[k], len);
      buf[len] = '\0';
      rule r;
      rule_error e;
      int rc = rule_parse(buf, &r, &e);
      REQUIRE(rc == TN_OK || rc == TN_EPOLICY);
      if (rc == TN_EPOLICY) {
        CHECK(e.off <= len);
        continue;
      }
      CHECK(span_in(r.body, len) && span_in(r.location, len) && span_in(r.name, len) &&
            span_in(r.content, len));
      for (size_t i = 0; i < r.nminterms; i++) {
        const rule_minterm *m = &r.minterms[i];
        CHECK(span_in(m->text, len) && span_in(m->pattern, len) && span_in(m->after_n, len) &&
              span_in(m->comparison, len) && span_in(m->digits, len));
        CHECK(m->text.len > 0 || m->neg); /* "!" alone: the negated empty literal */
      }
      rule_free(&r);
    }
  }
}

/* The grammar is driven by vm/rules.def: every row's letter is a rule type whose body splits as
 * its shape says, whose empty location is the row's error, and the unknown-type error lists the
 * letters in row order. */
static void test_every_rule_kind_parses_by_its_shape(void) {
  char letters[64] = "";
  for (size_t i = 0; i < VM_RULE_KIND_COUNT; i++) {
    const vm_rule_kind *k = vm_rule_kind_at(i);
    char src[64];
    rule r;
    snprintf(src, sizeof src, "%c:loc -> name -> r:x", k->letter);
    ok(src, &r);
    CHECK_INT(r.type, k->letter);
    CHECK(r.has_content);
    switch (k->shape) {
    case RULE_SHAPE_CONTENT:
      CHECK_STR(sp(&r, r.location), "loc");
      CHECK(!r.has_name);
      CHECK_STR(sp(&r, r.content), "name -> r:x");
      break;
    case RULE_SHAPE_NAME_CONTENT:
      CHECK_STR(sp(&r, r.location), "loc");
      CHECK(r.has_name);
      CHECK_STR(sp(&r, r.name), "name");
      CHECK_STR(sp(&r, r.content), "r:x");
      break;
    default:
      CHECK_INT(r.location.len, 0);
      CHECK_STR(sp(&r, r.content), "loc -> name -> r:x");
      break;
    }
    rule_free(&r);
    if (k->empty) {
      char msg[96];
      snprintf(src, sizeof src, "%c: -> r:x", k->letter);
      snprintf(msg, sizeof msg, "%c: rule has an empty %s", k->letter, k->empty);
      bad(src, 2, msg);
    }
    size_t n = strlen(letters);
    snprintf(letters + n, sizeof letters - n, "%s%c", i == 0 ? "" : i + 1 == VM_RULE_KIND_COUNT ? " or " : ", ",
             k->letter);
  }
  char msg[128];
  snprintf(msg, sizeof msg, "unknown rule type 'q' (expected %s)", letters);
  bad("q:/x", 0, msg);
}

int main(void) {
  RUN(test_file_existence);
  RUN(test_file_list_and_content);
  RUN(test_negation_prefix);
  RUN(test_command);
  RUN(test_directory);
  RUN(test_process);
  RUN(test_registry);
  RUN(test_minterm_split);
  RUN(test_minterm_prefixes);
  RUN(test_numeric_forms);
  RUN(test_comparison_operators);
  RUN(test_errors);
  RUN(test_not_is_not_the_n_prefix);
  RUN(test_span_dup);
  RUN(test_prefixes_stay_in_bounds);
  RUN(test_every_rule_kind_parses_by_its_shape);
  return test_report();
}
