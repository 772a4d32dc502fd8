/* test_codegen.c — code generation (compiler/codegen*.c, meta.c, subst.c): ASTs built by hand,
 * then the emitted instructions, operands, flags, regex table, meta JSON (byte-exact), header,
 * variable substitution, condition handling, diagnostics and determinism are asserted. */
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bundle.h"
#include "compile.h"
#include "diag.h"
#include "osregex_lower.h"
#include "policy.h"
#include "program.h"
#include "rulekind.h"
#include "strbuf.h"
#include "test.h"

/* ---- AST builder --------------------------------------------------------------------------- */

#define MAX_CHECKS 16

static uint32_t next_line = 10;

static char *dup(const char *s) { return s ? strdup(s) : NULL; }

static policy_ast *new_policy(int schema) {
  policy_ast *a = calloc(1, sizeof *a);
  a->path = dup("/tmp/dir/pol.yml");
  a->schema = schema;
  a->id.s = dup("pol");
  a->name.s = dup("Policy");
  a->file.s = dup("pol.yml");
  a->description.s = dup("Desc");
  for (int i = 0; i < 32; i++)
    a->source_sha256[i] = (uint8_t)i;
  a->checks = calloc(MAX_CHECKS, sizeof *a->checks); /* fixed: tests keep pointers to checks */
  return a;
}

/* Fill check c: rules are quoted scalars at column 9 (their text starts at column 10), one per
 * line after the check's condition. The rule list ends with NULL. */
static void fill_check(ast_check *c, int64_t id, const char *cond, va_list ap) {
  memset(c, 0, sizeof *c);
  c->id = id;
  c->id_value = (double)id;
  c->pos = (srcpos){next_line, 5};
  char title[32];
  snprintf(title, sizeof title, "Check %lld", (long long)id);
  c->title.s = dup(title);
  c->condition.s = dup(cond);
  c->condition.pos = (srcpos){next_line + 1, 16};
  const char *r;
  while ((r = va_arg(ap, const char *)) != NULL) {
    c->rules = realloc(c->rules, (c->nrules + 1) * sizeof *c->rules);
    ast_rule *ar = &c->rules[c->nrules];
    ar->text = dup(r);
    ar->pos = (srcpos){next_line + 3 + (uint32_t)c->nrules, 9};
    ar->quoted = 1;
    c->nrules++;
  }
  next_line += 10;
}

static ast_check *add_check(policy_ast *a, int64_t id, const char *cond, ...) {
  if (a->nchecks == MAX_CHECKS) abort();
  ast_check *c = &a->checks[a->nchecks++];
  va_list ap;
  va_start(ap, cond);
  fill_check(c, id, cond, ap);
  va_end(ap);
  return c;
}

static void set_requirements(policy_ast *a, const char *cond, ...) {
  va_list ap;
  va_start(ap, cond);
  fill_check(&a->requirements, 0, cond, ap);
  va_end(ap);
  free(a->requirements.title.s);
  a->requirements.title.s = dup("Req");
  a->has_requirements = 1;
}

static void add_var(policy_ast *a, const char *name, const char *value) {
  a->variables = realloc(a->variables, (a->nvariables + 1) * sizeof *a->variables);
  a->variables[a->nvariables++] = (ast_variable){dup(name), dup(value), {3, 3}};
}

static void add_strs(ast_strlist *l, ...) {
  va_list ap;
  va_start(ap, l);
  const char *s;
  l->present = 1;
  while ((s = va_arg(ap, const char *)) != NULL) {
    l->items = realloc(l->items, (l->n + 1) * sizeof *l->items);
    l->items[l->n++] = (ast_string){dup(s), {1, 1}};
  }
  va_end(ap);
}

static void add_compliance(ast_check *c, const char *key, ...) {
  c->compliance_present = 1;
  c->compliance = realloc(c->compliance, (c->ncompliance + 1) * sizeof *c->compliance);
  ast_compliance *e = &c->compliance[c->ncompliance++];
  memset(e, 0, sizeof *e);
  e->key = dup(key);
  va_list ap;
  va_start(ap, key);
  const char *s;
  while ((s = va_arg(ap, const char *)) != NULL) {
    e->values = realloc(e->values, (e->nvalues + 1) * sizeof *e->values);
    e->values[e->nvalues++] = (ast_string){dup(s), {1, 1}};
  }
  va_end(ap);
}

static void free_strlist(ast_strlist *l) {
  for (size_t i = 0; i < l->n; i++)
    free(l->items[i].s);
  free(l->items);
}

static void free_check(ast_check *c) {
  free(c->id_text);
  free(c->title.s);
  free(c->description.s);
  free(c->rationale.s);
  free(c->remediation.s);
  free_strlist(&c->references);
  for (size_t i = 0; i < c->ncompliance; i++) {
    free(c->compliance[i].key);
    for (size_t j = 0; j < c->compliance[i].nvalues; j++)
      free(c->compliance[i].values[j].s);
    free(c->compliance[i].values);
  }
  free(c->compliance);
  free(c->mitre_json);
  free(c->condition.s);
  free(c->regex_type.s);
  for (size_t i = 0; i < c->nrules; i++)
    free(c->rules[i].text);
  free(c->rules);
}

static void free_policy(policy_ast *a) {
  free(a->path);
  free(a->id.s);
  free(a->name.s);
  free(a->file.s);
  free(a->description.s);
  free(a->regex_type.s);
  free_strlist(&a->references);
  if (a->has_requirements) free_check(&a->requirements);
  for (size_t i = 0; i < a->nvariables; i++)
    free(a->variables[i].name), free(a->variables[i].value);
  free(a->variables);
  for (size_t i = 0; i < a->nchecks; i++)
    free_check(&a->checks[i]);
  free(a->checks);
  free(a);
}

/* ---- program rendering --------------------------------------------------------------------- */

static void put_str(strbuf *b, const program *p, uint32_t id) {
  if (id == PROG_NONE)
    strbuf_puts(b, " -");
  else
    strbuf_printf(b, " '%s'", program_str(p, id));
}
static void put_addr(strbuf *b, uint32_t a) {
  if (a == PROG_NONE)
    strbuf_puts(b, " -");
  else
    strbuf_printf(b, " @%u", a);
}
static void put_rx(strbuf *b, uint32_t r) {
  if (r == PROG_NONE)
    strbuf_puts(b, " -");
  else
    strbuf_printf(b, " r%u", r);
}

/* One line of text per check: "OP[!|ns] operands; ..." (strings quoted, @relative, rN regexes). */
static char *code_text(const program *p, const prog_check *c) {
  static char out[8192];
  strbuf b = STRBUF_INIT;
  for (uint32_t i = 0; i < c->code_len; i++) {
    const insn *in = &p->code[c->code + i];
    if (i) strbuf_puts(&b, "; ");
    strbuf_puts(&b, vm_opcode_name(in->op));
    if (in->flags & F_NEG) strbuf_putc(&b, '!');
    if (in->flags & F_NOSHORT) strbuf_puts(&b, "ns");
    switch (in->op) {
    case OP_FILE:
    case OP_CMD:
    case OP_PROC: put_str(&b, p, in->a), put_addr(&b, in->b); break;
    case OP_DIR: put_str(&b, p, in->a), put_rx(&b, in->b), put_addr(&b, in->c); break;
    case OP_REG: put_str(&b, p, in->a), put_str(&b, p, in->b), put_addr(&b, in->c); break;
    case OP_ALL:
    case OP_ANY:
    case OP_NONE: put_addr(&b, in->a); break;
    case OP_RESULT: strbuf_printf(&b, " %s", vm_condition_name(in->x)); break;
    case OP_MREGEX: put_rx(&b, in->a); break;
    case OP_MNUMERIC:
      strbuf_printf(&b, " %s", vm_cmp_name(in->x));
      put_rx(&b, in->a), put_str(&b, p, in->b), put_str(&b, p, in->c);
      break;
    case OP_MLITERAL: put_str(&b, p, in->a); break;
    default: break;
    }
  }
  snprintf(out, sizeof out, "%s", b.data ? b.data : "");
  strbuf_free(&b);
  return out;
}

/* "dialect 'source' flags" of regex i, without RXF_LOWERED (asserted separately). */
static char *rx_text(const program *p, uint32_t i) {
  static char out[1024];
  static const char *names[] = {"?", "osregex", "pcre2", "osmatch"};
  const prog_regex *r = &p->regexes[i];
  snprintf(out, sizeof out, "%s '%s'%s%s", names[r->dialect <= 3 ? r->dialect : 0], program_str(p, r->source),
           r->flags & RXF_CASELESS ? " caseless" : "", r->flags & RXF_BAD ? " bad" : "");
  return out;
}

/* codegen_policy, and every program it returns must pass the bytecode verifier. */
static program *gen_with(const policy_ast *a, const compile_options *o, diag_list *d) {
  program *p = codegen_policy(a, o, d);
  if (p) {
    char err[256] = "";
    int rc = program_verify(p, err, sizeof err);
    if (rc != 0) fprintf(stderr, "verify: %s\n", err);
    CHECK_INT(rc, 0);
  }
  return p;
}

static program *gen(const policy_ast *a, diag_list *d) {
  compile_options o = COMPILE_OPTIONS_DEFAULT;
  return gen_with(a, &o, d);
}

/* The n-th diagnostic with this code, or NULL. */
static const diag *find_diag(const diag_list *d, const char *code, int nth) {
  for (size_t i = 0; i < d->n; i++)
    if (strcmp(d->items[i].code, code) == 0 && nth-- == 0) return &d->items[i];
  return NULL;
}

static void check_diag(const diag_list *d, const char *code, int nth, uint32_t line, uint32_t col,
                       const char *msg) {
  const diag *g = find_diag(d, code, nth);
  if (!g) fprintf(stderr, "no diagnostic %s #%d\n", code, nth);
  REQUIRE(g != NULL);
  CHECK_INT(g->line, line);
  CHECK_INT(g->col, col);
  CHECK_STR(g->message, msg);
}

static int starts_ends(const char *s, const char *pre, const char *post) {
  size_t n = strlen(s), a = strlen(pre), b = strlen(post);
  return n >= a + b && strncmp(s, pre, a) == 0 && strcmp(s + n - b, post) == 0;
}

/* ---- tests --------------------------------------------------------------------------------- */

static void test_single_rule_layout(void) {
  policy_ast *a = new_policy(4);
  add_check(a, 1000, "all", "f:/etc/passwd -> r:^root", NULL);
  diag_list *d = diag_list_new();
  program *p = gen(a, d);
  REQUIRE(p != NULL);
  CHECK(p->builder == NULL); /* frozen */
  CHECK_INT(d->n, 0);
  REQUIRE(p->nchecks == 1);
  const prog_check *c = &p->checks[0];
  CHECK_INT(c->id, 1000);
  CHECK_STR(program_str(p, c->title), "Check 1000");
  CHECK_INT(c->condition, COND_ALL);
  CHECK_INT(c->code, 0);
  CHECK_INT(c->code_len, 5);
  CHECK_INT(c->line, a->checks[0].pos.line);
  CHECK_STR(code_text(p, c), "FILE '/etc/passwd' @3; ALL @2; RESULT all; MREGEX r0; MEND");
  REQUIRE(p->nregexes == 1);
  CHECK_STR(rx_text(p, 0), "osregex '^root'");
  /* every instruction carries its rule's line; RESULT the check's */
  uint32_t rl = a->checks[0].rules[0].pos.line;
  CHECK_INT(p->lines[0], rl);
  CHECK_INT(p->lines[1], rl);
  CHECK_INT(p->lines[2], a->checks[0].pos.line);
  CHECK_INT(p->lines[3], rl);
  CHECK_INT(p->lines[4], rl);
  CHECK_INT(p->has_requirements, 0);
  CHECK_INT(p->flags, 0);
  program_free(p);
  diag_list_free(d);
  free_policy(a);
}

static void test_every_rule_kind(void) {
  policy_ast *a = new_policy(4);
  add_check(a, 2, "any", "not f:/x", "c:cmd -> r:a && !n:^v (\\d+) compare >= 3 && Foo",
            "d:/etc -> r:\\.conf$ -> !r:x", "p:sshd", "c:echo", NULL);
  diag_list *d = diag_list_new();
  program *p = gen(a, d);
  REQUIRE(p != NULL);
  CHECK_INT(d->n, 0);
  const prog_check *c = &p->checks[0];
  CHECK_STR(code_text(p, c), "FILE '/x' -; NOT; ANY @11; "
                             "CMD 'cmd' @12; ANY @11; "
                             "DIR '/etc' r0 @16; ANY @11; "
                             "PROC 'sshd' @18; ANY @11; "
                             "CMD 'echo' -; ANY @11; "
                             "RESULT any; "
                             "MREGEX r1; MNUMERIC! >= r2 '>= 3' '3'; MLITERAL 'Foo'; MEND; "
                             "MREGEX! r3; MEND; "
                             "MLITERAL 'sshd'; MEND");
  CHECK_INT(c->code_len, 20);
  REQUIRE(p->nregexes == 4);
  CHECK_STR(rx_text(p, 0), "osregex '\\.conf$'"); /* d: names: OS_Regex after "r:" */
  CHECK_STR(rx_text(p, 1), "osregex 'a'");
  CHECK_STR(rx_text(p, 2), "osregex '^v (\\d+)'");
  CHECK_STR(rx_text(p, 3), "osregex 'x'");
  /* the matchers of rule 1 carry rule 1's line */
  CHECK_INT(p->lines[c->code + 12], a->checks[0].rules[1].pos.line);
  CHECK_INT(p->lines[c->code + 18], a->checks[0].rules[3].pos.line);
  program_free(p);
  diag_list_free(d);
  free_policy(a);
}

static void test_none_and_registry(void) {
  policy_ast *a = new_policy(4);
  add_check(a, 3, "none", "r:HKLM\\SOFTWARE\\X -> Val -> r:^1$", "r:HKLM\\Y", "not r:HKLM\\Z -> V", NULL);
  diag_list *d = diag_list_new();
  program *p = gen(a, d);
  REQUIRE(p != NULL);
  CHECK(p->flags & PROGF_REGISTRY);
  CHECK_STR(code_text(&*p, &p->checks[0]),
            "REG 'HKLM\\SOFTWARE\\X' 'Val' @8; NONE @7; REG 'HKLM\\Y' - -; NONE @7; "
            "REG 'HKLM\\Z' 'V' -; NOT; NONE @7; RESULT none; MREGEX r0; MEND");
  CHECK_INT(p->checks[0].condition, COND_NONE);
  program_free(p);
  diag_list_free(d);
  free_policy(a);
}

static void test_lowering(void) {
  policy_ast *a = new_policy(4);
  add_check(a, 1, "all", "f:/x -> r:^PermitRootLogin\\s+no && r:abc && r:\\w+\\d*\\p", NULL);
  diag_list *d = diag_list_new();
  program *p = gen(a, d);
  REQUIRE(p != NULL);
  REQUIRE(p->nregexes == 3);
  CHECK(p->regexes[1].flags & RXF_LOWERED); /* a plain literal always has a PCRE2 form */
  for (uint32_t i = 0; i < p->nregexes; i++) {
    const prog_regex *r = &p->regexes[i];
    char buf[4096];
    int lowers = osregex_lower(program_str(p, r->source), buf, sizeof buf) == 1;
    /* RXF_LOWERED exactly when the lowering exists (and PCRE2 accepts it) */
    if (r->flags & RXF_LOWERED) {
      CHECK(lowers);
      CHECK_STR(program_str(p, r->lowered), buf);
    } else {
      CHECK(r->lowered == PROG_NONE);
    }
  }
  program_free(p);
  diag_list_free(d);
  free_policy(a);
}

static void test_engine_selection(void) {
  policy_ast *a = new_policy(4);
  a->regex_type.s = dup("pcre2");
  add_check(a, 1, "all", "f:/x -> r:one", "d:/etc -> r:^two$", NULL);
  ast_check *c2 = add_check(a, 2, "all", "f:/x -> r:three", NULL);
  c2->regex_type.s = dup("osregex");
  ast_check *c3 = add_check(a, 3, "all", "f:/x -> n:(\\d+) compare > 1", NULL);
  c3->regex_type.s = dup("PCRE2"); /* exact "pcre2" only */
  diag_list *d = diag_list_new();
  program *p = gen(a, d);
  REQUIRE(p != NULL);
  REQUIRE(p->nregexes == 4);
  CHECK_STR(rx_text(p, 0), "osregex '^two$'"); /* d: names stay OS_Regex under pcre2 */
  CHECK_STR(rx_text(p, 1), "pcre2 'one'");
  CHECK_STR(rx_text(p, 2), "osregex 'three'");
  CHECK_STR(rx_text(p, 3), "osregex '(\\d+)'");
  CHECK(!(p->regexes[1].flags & RXF_LOWERED));
  program_free(p);
  diag_list_free(d);
  free_policy(a);

  /* policy default OS_Regex, check override pcre2; requirements follow the same selection */
  a = new_policy(4);
  set_requirements(a, "all", "f:/etc/os-release -> r:deb", NULL);
  a->requirements.regex_type.s = dup("pcre2");
  ast_check *c = add_check(a, 4, "all", "f:/x -> r:four", NULL);
  c->regex_type.s = dup("pcre2");
  add_check(a, 5, "all", "f:/x -> r:five", NULL);
  d = diag_list_new();
  p = gen(a, d);
  REQUIRE(p != NULL);
  REQUIRE(p->nregexes == 3);
  CHECK_STR(rx_text(p, 0), "pcre2 'deb'");
  CHECK_STR(rx_text(p, 1), "pcre2 'four'");
  CHECK_STR(rx_text(p, 2), "osregex 'five'");
  program_free(p);
  diag_list_free(d);
  free_policy(a);
}

static void test_dialect5(void) {
  policy_ast *a = new_policy(5);
  add_check(a, 1, "all", "f:/x -> r:Up", "not d:/etc -> sshd", NULL);
  diag_list *d = diag_list_new();
  program *p = gen(a, d);
  REQUIRE(p != NULL);
  CHECK_INT(p->dialect, DIALECT_WAZUH5);
  CHECK_STR(code_text(p, &p->checks[0]),
            "FILE '/x' @6; ALLns @5; DIR '/etc' r0 -; NOT; ALLns @5; RESULT all; MREGEX r1; MEND");
  CHECK_STR(rx_text(p, 0), "pcre2 '^sshd\\z'");     /* 5.x d: names: an exact name match (§10) */
  CHECK_STR(rx_text(p, 1), "pcre2 'Up' caseless"); /* 5.x: PCRE2, caseless */
  program_free(p);
  diag_list_free(d);

  /* the dialect option overrides the schema */
  compile_options o = COMPILE_OPTIONS_DEFAULT;
  o.dialect = DIALECT_WAZUH4;
  d = diag_list_new();
  p = gen_with(a, &o, d);
  REQUIRE(p != NULL);
  CHECK_INT(p->dialect, DIALECT_WAZUH4);
  CHECK_STR(rx_text(p, 1), "osregex 'Up'");
  CHECK_STR(code_text(p, &p->checks[0]),
            "FILE '/x' @6; ALL @5; DIR '/etc' r0 -; NOT; ALL @5; RESULT all; MREGEX r1; MEND");
  program_free(p);
  diag_list_free(d);
  free_policy(a);
}

static void test_bad_regex(void) {
  policy_ast *a = new_policy(4);
  ast_check *c = add_check(a, 1, "all", "f:/x -> r:\\/etc", "f:/x -> !n:\\/(\\d+) compare > 1", NULL);
  ast_check *c2 = add_check(a, 2, "all", "f:/x -> r:(", NULL);
  c2->regex_type.s = dup("pcre2");
  diag_list *d = diag_list_new();
  program *p = gen(a, d);
  REQUIRE(p != NULL); /* warnings only */
  REQUIRE(p->nregexes == 3);
  CHECK_STR(rx_text(p, 0), "osregex '\\/etc' bad");
  CHECK_STR(rx_text(p, 1), "osregex '\\/(\\d+)' bad");
  CHECK_STR(rx_text(p, 2), "pcre2 '(' bad");
  CHECK(p->regexes[0].lowered == PROG_NONE);
  CHECK_STR(code_text(p, &p->checks[0]),
            "FILE '/x' @5; ALL @4; FILE '/x' @7; ALL @4; RESULT all; MREGEX r0; MEND; "
            "MNUMERIC! > r1 '> 1' '1'; MEND");
  CHECK_INT(diag_warnings(d), 3);
  CHECK_INT(diag_errors(d), 0);
  const diag *g = find_diag(d, "bad-regex", 0);
  REQUIRE(g);
  CHECK_INT(g->line, c->rules[0].pos.line);
  CHECK_INT(g->col, 20); /* text at column 10, pattern at offset 10 */
  CHECK(starts_ends(g->message, "regex '\\/etc' does not compile (",
                    "): Wazuh evaluates r: as never matching"));
  g = find_diag(d, "bad-regex", 1);
  REQUIRE(g);
  CHECK_INT(g->col, 21);
  CHECK(starts_ends(g->message, "regex '\\/(\\d+)' does not compile (",
                    "): Wazuh evaluates n: as not applicable"));
  g = find_diag(d, "bad-regex", 2);
  REQUIRE(g);
  CHECK(starts_ends(g->message, "regex '(' does not compile (", "): Wazuh evaluates r: as never matching"));
  program_free(p);
  diag_list_free(d);
  free_policy(a);
}

static void test_dir_name_patterns(void) {
  policy_ast *a = new_policy(4);
  ast_check *c =
      add_check(a, 1, "any", "d:/etc -> r:\\/x", "d:/etc -> R:^a.conf", "d:/etc -> sshd_config -> r:x", NULL);
  diag_list *d = diag_list_new();
  program *p = gen(a, d);
  REQUIRE(p != NULL);
  REQUIRE(p->nregexes == 4);
  /* an r: name that does not compile falls back to OS_Match on the whole text */
  CHECK_STR(rx_text(p, 0), "osmatch 'r:\\/x'");
  CHECK_STR(rx_text(p, 1), "osregex '^a.conf'");
  CHECK_STR(rx_text(p, 2), "osmatch 'sshd_config'");
  CHECK_STR(code_text(p, &p->checks[0]),
            "DIR '/etc' r0 -; ANY @6; DIR '/etc' r1 -; ANY @6; DIR '/etc' r2 @7; ANY @6; RESULT any; "
            "MREGEX r3; MEND");
  const diag *g = find_diag(d, "bad-regex", 0);
  REQUIRE(g);
  CHECK_INT(g->line, c->rules[0].pos.line);
  CHECK_INT(g->col, 22);
  CHECK(starts_ends(g->message, "regex '\\/x' does not compile (",
                    "): Wazuh matches file names against 'r:\\/x' with OS_Match"));
  program_free(p);
  diag_list_free(d);
  free_policy(a);
}

static void test_literal_anchors(void) {
  policy_ast *a = new_policy(4);
  ast_check *c = add_check(a, 1, "all", "f:/x -> r:a$b|c$|^d^e && r:a\\$b", NULL);
  ast_check *c2 = add_check(a, 2, "all", "f:/x -> r:a$b", NULL);
  c2->regex_type.s = dup("pcre2"); /* PCRE2 anchors are anchors: no warning */
  diag_list *d = diag_list_new();
  program *p = gen(a, d);
  REQUIRE(p != NULL);
  CHECK_INT(d->n, 2);
  uint32_t line = c->rules[0].pos.line;
  check_diag(d, "literal-dollar", 0, line, 21, "'$' in mid-pattern matches a literal '$'");
  check_diag(d, "literal-caret", 0, line, 29, "'^' in mid-pattern matches a literal '^'");
  program_free(p);
  diag_list_free(d);
  free_policy(a);
}

static void test_numeric(void) {
  policy_ast *a = new_policy(4);
  ast_check *c = add_check(a, 1, "all", "f:/x -> n:(\\d+) compared 3", "f:/x -> n:(\\d+) compare foo",
                           "f:/x -> n:(\\d+) compare ~ 5", "f:/x -> n:(\\d+) compare <= 99999999999",
                           "f:/x -> n:(\\d+) compare => -1.5", NULL);
  diag_list *d = diag_list_new();
  program *p = gen(a, d);
  REQUIRE(p != NULL);
  CHECK_STR(code_text(p, &p->checks[0]),
            "FILE '/x' @11; ALL @10; FILE '/x' @13; ALL @10; FILE '/x' @15; ALL @10; FILE '/x' @17; ALL @10; "
            "FILE '/x' @19; ALL @10; RESULT all; "
            "MNUMERIC <no 'compare'> - '(\\d+) compared 3' -; MEND; "
            "MNUMERIC <no integer> r0 'foo' -; MEND; "
            "MNUMERIC <bad operator> r0 '~ 5' '5'; MEND; "
            "MNUMERIC <= r0 '<= 99999999999' '99999999999'; MEND; "
            "MNUMERIC == r0 '=> -1.5' '1'; MEND");
  CHECK_INT(p->nregexes, 1); /* the same regex is shared */
  uint32_t l0 = c->rules[0].pos.line;
  check_diag(d, "bad-numeric", 0, l0, 18, "n: without ' compare ': Wazuh evaluates it as not applicable");
  check_diag(d, "bad-numeric", 1, l0 + 1, 34,
             "no integer in the comparison 'foo': Wazuh evaluates n: as not applicable");
  check_diag(d, "bad-numeric", 2, l0 + 2, 34,
             "no operator in the comparison '~ 5': Wazuh evaluates n: as not applicable");
  check_diag(d, "numeric-quirk", 0, l0 + 4, 34, "operator '=>' means '==' in Wazuh 4.x");
  check_diag(d, "numeric-quirk", 1, l0 + 4, 37, "the sign of '-1' is ignored: Wazuh compares with 1");
  check_diag(d, "numeric-quirk", 2, l0 + 4, 39, "the decimals of '1.5' are ignored: Wazuh compares with 1");
  CHECK_INT(d->n, 6);
  program_free(p);
  diag_list_free(d);
  free_policy(a);
}

static void test_conditions(void) {
  policy_ast *a = new_policy(4);
  ast_check *c1 = add_check(a, 1, "all required", "f:/a", NULL);
  ast_check *c2 = add_check(a, 2, "ALL", "f:/b", NULL);
  add_check(a, 3, "any ", "f:/c", NULL);
  add_check(a, 4, "none", "f:/d", NULL);
  add_check(a, 5, "any required", "f:/e", NULL);
  diag_list *d = diag_list_new();
  program *p = gen(a, d);
  REQUIRE(p != NULL);
  REQUIRE(p->nchecks == 3); /* Wazuh skips checks 2 and 3: no event, not counted */
  CHECK_INT(p->checks[0].id, 1);
  CHECK_INT(p->checks[0].condition, COND_ALL);
  CHECK_INT(p->checks[1].id, 4);
  CHECK_INT(p->checks[2].id, 5);
  CHECK_INT(p->checks[2].condition, COND_ANY);
  CHECK_STR(code_text(p, &p->checks[2]), "FILE '/e' -; ANY @2; RESULT any");
  /* the event keeps the condition as written */
  CHECK(strstr(program_str(p, p->checks[0].meta), "\"condition\":\"all required\"") != NULL);
  check_diag(d, "deprecated-required", 0, c1->condition.pos.line, 16,
             "modifier 'required' is deprecated: 'all required' means 'all'");
  check_diag(d, "invalid-condition", 0, c2->condition.pos.line, 16,
             "check 2 will be skipped: condition 'ALL' is invalid");
  check_diag(d, "invalid-condition", 1, c2->condition.pos.line + 10, 16,
             "check 3 will be skipped: condition 'any ' is invalid");
  check_diag(d, "deprecated-required", 1, c2->condition.pos.line + 30, 16,
             "modifier 'required' is deprecated: 'any required' means 'any'");
  /* the code of kept checks is contiguous; skipped ones emit nothing */
  CHECK_INT(p->checks[1].code, p->checks[0].code + p->checks[0].code_len);
  CHECK_INT(p->ncode, 9);
  program_free(p);
  diag_list_free(d);
  free_policy(a);
}

static void test_requirements(void) {
  policy_ast *a = new_policy(4);
  set_requirements(a, "any", "f:/etc/os-release -> r:Debian", "c:true", NULL);
  add_check(a, 7, "all", "f:/x", NULL);
  diag_list *d = diag_list_new();
  program *p = gen(a, d);
  REQUIRE(p != NULL);
  REQUIRE(p->has_requirements);
  const prog_check *r = &p->requirements;
  CHECK_INT(r->id, 0);
  CHECK(r->meta == PROG_NONE);
  CHECK_STR(program_str(p, r->title), "Req");
  CHECK_INT(r->condition, COND_ANY);
  CHECK_INT(r->code, 0);
  CHECK_STR(code_text(p, r),
            "FILE '/etc/os-release' @5; ANY @4; CMD 'true' -; ANY @4; RESULT any; MREGEX r0; MEND");
  CHECK_INT(p->checks[0].code, r->code_len);
  program_free(p);
  diag_list_free(d);
  free_policy(a);

  /* an invalid requirements condition: never met (Wazuh skips the policy's checks) */
  a = new_policy(4);
  set_requirements(a, "sometimes", "f:/etc/os-release", NULL);
  add_check(a, 7, "all", "f:/x", NULL);
  d = diag_list_new();
  p = gen(a, d);
  REQUIRE(p != NULL);
  REQUIRE(p->has_requirements);
  CHECK_STR(code_text(p, &p->requirements), "RESULT any");
  CHECK_INT(p->nchecks, 1);
  check_diag(
      d, "invalid-condition", 0, a->requirements.condition.pos.line, 16,
      "requirements can never be met: condition 'sometimes' is invalid (Wazuh skips the policy's checks)");
  program_free(p);
  diag_list_free(d);
  free_policy(a);
}

static void test_variables_4x(void) {
  policy_ast *a = new_policy(4);
  add_var(a, "$sshd", "/etc/ssh");
  add_var(a, "$sshd_file", "$sshd/sshd_config");
  add_var(a, "$x2", "$x1B");
  add_var(a, "$x1", "C");
  add_check(a, 1, "all", "f:$sshd_file -> r:$sshd", "c:echo $x2 $x1 -> $x1", "d:$sshd,$x1 -> $sshd",
            "p:$sshd", "r:$sshd -> $sshd", NULL);
  diag_list *d = diag_list_new();
  program *p = gen(a, d);
  REQUIRE(p != NULL);
  /* longest name first ($sshd_file before $sshd), stable among equal lengths ($x2 before $x1), and
   * a value naming a later variable is expanded again; only f:/d:/c: locations are substituted */
  CHECK_STR(code_text(p, &p->checks[0]),
            "FILE '/etc/ssh/sshd_config' @11; ALL @10; CMD 'echo CB C' @13; ALL @10; "
            "DIR '/etc/ssh,C' r0 -; ALL @10; PROC '$sshd' @15; ALL @10; REG '$sshd' '$sshd' -; ALL @10; "
            "RESULT all; MREGEX r1; MEND; MLITERAL '$x1'; MEND; MLITERAL '$sshd'; MEND");
  CHECK_STR(rx_text(p, 0), "osmatch '$sshd'");
  CHECK_STR(rx_text(p, 1), "osregex '$sshd'");
  /* the event's rules are the rules as written */
  CHECK(strstr(program_str(p, p->checks[0].meta),
               "\"rules\":[\"f:$sshd_file -> r:$sshd\",\"c:echo $x2 $x1 -> $x1\",") != NULL);
  program_free(p);
  diag_list_free(d);
  free_policy(a);
}

static void test_variables_5x(void) {
  policy_ast *a = new_policy(5);
  add_var(a, "$sshd", "/etc/ssh");
  add_var(a, "$sshd_file", "$sshd/sshd_config");
  ast_check *c = add_check(a, 1, "all", "f:$sshd_file -> r:$sshd", "p:$sshd", NULL);
  free(c->title.s);
  c->title.s = dup("About $sshd");
  diag_list *d = diag_list_new();
  program *p = gen(a, d);
  REQUIRE(p != NULL);
  /* 5.x: every string of the rule, and the metadata */
  CHECK_STR(code_text(p, &p->checks[0]),
            "FILE '/etc/ssh/sshd_config' @5; ALLns @4; PROC '/etc/ssh' @7; ALLns @4; RESULT all; "
            "MREGEX r0; MEND; MLITERAL '/etc/ssh'; MEND");
  CHECK_STR(rx_text(p, 0), "pcre2 '/etc/ssh' caseless");
  CHECK_STR(program_str(p, p->checks[0].title), "About /etc/ssh");
  CHECK_STR(program_str(p, p->checks[0].meta),
            "\"id\":1,\"title\":\"About /etc/ssh\",\"rules\":[\"f:/etc/ssh/sshd_config -> r:/etc/ssh\","
            "\"p:/etc/ssh\"],\"condition\":\"all\"");
  program_free(p);
  diag_list_free(d);
  free_policy(a);
}

static void test_meta_json(void) {
  policy_ast *a = new_policy(4);
  ast_check *c = add_check(a, 33011, "all", "c:findmnt -kn /tmp -> r:nodev", "f:/a\\b", NULL);
  free(c->title.s);
  c->title.s = dup("Ensure \"nodev\"");
  c->description.s = dup("line1\nline2\t\x01/é");
  c->rationale.s = dup("r");
  add_compliance(c, "cis", "1.1.2", NULL);
  add_compliance(c, "pci", "a", "b", NULL);
  add_compliance(c, "empty", NULL); /* no string value: nothing */
  add_strs(&c->references, "https://a", "https://b", NULL);
  ast_check *m = add_check(a, 2, "any", "f:/x", NULL);
  m->remediation.s = dup("fix");
  add_compliance(m, "pci_dss", "1", "2", NULL);
  m->compliance_is_map = 1; /* 5.x shape: {} under the 4.x dialect */
  ast_check *e = add_check(a, -3, "none", "f:/x", NULL);
  e->compliance_present = 1; /* present, empty */
  add_strs(&e->references, "", "b", NULL);
  diag_list *d = diag_list_new();
  program *p = gen(a, d);
  REQUIRE(p != NULL);
  REQUIRE(p->nchecks == 3);
  CHECK_STR(program_str(p, p->checks[0].meta),
            "\"id\":33011,\"title\":\"Ensure \\\"nodev\\\"\",\"description\":\"line1\\nline2\\t\\u0001/é\","
            "\"rationale\":\"r\",\"compliance\":{\"cis\":\"1.1.2\",\"pci\":\"a,b\"},"
            "\"rules\":[\"c:findmnt -kn /tmp -> r:nodev\",\"f:/a\\\\b\"],\"condition\":\"all\","
            "\"references\":\"https://a,https://b\"");
  CHECK_STR(program_str(p, p->checks[1].meta),
            "\"id\":2,\"title\":\"Check 2\",\"remediation\":\"fix\",\"compliance\":{},\"rules\":[\"f:/x\"],"
            "\"condition\":\"any\"");
  CHECK_STR(program_str(p, p->checks[2].meta),
            "\"id\":-3,\"title\":\"Check -3\",\"compliance\":{},\"rules\":[\"f:/x\"],\"condition\":\"none\","
            "\"references\":\",b\"");
  program_free(p);
  diag_list_free(d);

  /* the 5.x dialect renders the map shape; a string id stays a string */
  compile_options o = COMPILE_OPTIONS_DEFAULT;
  o.dialect = DIALECT_WAZUH5;
  m->id_text = dup("ssh-01");
  d = diag_list_new();
  p = gen_with(a, &o, d);
  REQUIRE(p != NULL);
  CHECK_STR(
      program_str(p, p->checks[1].meta),
      "\"id\":\"ssh-01\",\"title\":\"Check 2\",\"remediation\":\"fix\",\"compliance\":{\"pci_dss\":\"1,2\"},"
      "\"rules\":[\"f:/x\"],\"condition\":\"any\"");
  program_free(p);
  diag_list_free(d);
  free_policy(a);
}

static void test_header(void) {
  policy_ast *a = new_policy(4);
  add_strs(&a->references, "https://r1", "https://r2", NULL);
  add_check(a, 1, "all", "f:/x", NULL);
  compile_options o = {0, 7, 99};
  diag_list *d = diag_list_new();
  program *p = gen_with(a, &o, d);
  REQUIRE(p != NULL);
  CHECK_STR(program_str(p, p->policy_id), "pol");
  CHECK_STR(program_str(p, p->policy_name), "Policy");
  CHECK_STR(program_str(p, p->policy_file), "pol.yml");
  CHECK_STR(program_str(p, p->policy_description), "Desc");
  CHECK_STR(program_str(p, p->policy_references), "https://r1,https://r2");
  CHECK_STR(program_str(p, p->source_name), "pol.yml");
  CHECK_INT(p->source_sha256[31], 31);
  CHECK_INT(p->dialect, DIALECT_WAZUH4);
  CHECK_INT(p->policy_version, 7);
  CHECK_INT(p->expiry, 99);
  program_free(p);
  diag_list_free(d);
  free_strlist(&a->references);
  memset(&a->references, 0, sizeof a->references);
  free(a->path);
  a->path = dup("bare.yaml");
  d = diag_list_new();
  p = gen_with(a, NULL, d);
  REQUIRE(p != NULL);
  CHECK(p->policy_references == PROG_NONE);
  CHECK_STR(program_str(p, p->source_name), "bare.yaml");
  CHECK_INT(p->policy_version, 1);
  CHECK_INT(p->expiry, 0);
  program_free(p);
  diag_list_free(d);
  free_policy(a);
}

static void test_rule_errors(void) {
  policy_ast *a = new_policy(4);
  ast_check *c = add_check(a, 1, "all", "file:/x", "not !f:/x", "f:/ok", NULL);
  ast_check *c2 = add_check(a, 2, "ALL", "x:/y", NULL); /* errors are reported in skipped checks too */
  c2->rules[0].quoted = 0;
  set_requirements(a, "all", "Not f:/x", NULL);
  diag_list *d = diag_list_new();
  program *p = gen(a, d);
  CHECK(p == NULL);
  CHECK_INT(diag_errors(d), 4);
  check_diag(d, "bad-rule", 0, a->requirements.rules[0].pos.line, 10,
             "'Not' is not a negation: write 'not ' or 'NOT ' (Wazuh rejects the policy)");
  check_diag(d, "bad-rule", 1, c->rules[0].pos.line, 10,
             "unknown rule type 'file' (expected f, d, c, p or r)");
  check_diag(d, "bad-rule", 2, c->rules[1].pos.line, 14,
             "'!' before the rule type is not allowed (Wazuh rejects the policy)");
  check_diag(d, "bad-rule", 3, c2->rules[0].pos.line, 9, "unknown rule type 'x' (expected f, d, c, p or r)");
  diag_list_free(d);
  free_policy(a);
}

static void test_substitution_error_5x(void) {
  policy_ast *a = new_policy(5);
  add_var(a, "$loc", "");
  ast_check *c = add_check(a, 1, "all", "f:$loc", NULL);
  diag_list *d = diag_list_new();
  program *p = gen(a, d);
  CHECK(p == NULL);
  check_diag(d, "bad-rule", 0, c->rules[0].pos.line, 9,
             "after variable substitution: f: rule has an empty file list");
  diag_list_free(d);
  free_policy(a);
}

static void test_empty_content(void) {
  policy_ast *a = new_policy(4);
  ast_check *c = add_check(a, 1, "all", "f:/x -> ", NULL);
  diag_list *d = diag_list_new();
  program *p = gen(a, d);
  REQUIRE(p != NULL);
  CHECK_STR(code_text(p, &p->checks[0]), "FILE '/x' @3; ALL @2; RESULT all; MEND");
  check_diag(d, "empty-content", 0, c->rules[0].pos.line, 18,
             "empty content expression: Wazuh counts every line as a match");
  program_free(p);
  diag_list_free(d);
  free_policy(a);
}

static void test_deterministic(void) {
  policy_ast *a = new_policy(4);
  add_var(a, "$d", "/etc");
  set_requirements(a, "all", "f:/etc/os-release -> r:x", NULL);
  add_check(a, 1, "any", "not f:$d/x -> r:a && !n:(\\d+) compare >= 3 && Foo", "d:$d -> r:\\.conf$ -> !r:x",
            NULL);
  add_check(a, 2, "none", "p:sshd", "c:echo", "f:/y -> r:\\/", NULL);
  diag_list *d1 = diag_list_new(), *d2 = diag_list_new();
  program *p1 = gen(a, d1), *p2 = gen(a, d2);
  REQUIRE(p1 && p2);
  CHECK_INT(p1->strtab_len, p2->strtab_len);
  CHECK(memcmp(p1->strtab, p2->strtab, p1->strtab_len) == 0);
  CHECK_INT(p1->ncode, p2->ncode);
  CHECK(memcmp(p1->code, p2->code, p1->ncode * sizeof *p1->code) == 0);
  CHECK(memcmp(p1->lines, p2->lines, p1->ncode * sizeof *p1->lines) == 0);
  CHECK_INT(p1->nregexes, p2->nregexes);
  for (uint32_t i = 0; i < p1->nregexes && i < p2->nregexes; i++) { /* field by field: padding */
    const prog_regex *x = &p1->regexes[i], *y = &p2->regexes[i];
    CHECK(x->source == y->source && x->dialect == y->dialect && x->flags == y->flags &&
          x->lowered == y->lowered);
  }
  CHECK_INT(p1->nchecks, p2->nchecks);
  for (uint32_t i = 0; i <= p1->nchecks && i <= p2->nchecks; i++) {
    const prog_check *x = i < p1->nchecks ? &p1->checks[i] : &p1->requirements;
    const prog_check *y = i < p2->nchecks ? &p2->checks[i] : &p2->requirements;
    CHECK(x->id == y->id && x->title == y->title && x->condition == y->condition && x->code == y->code &&
          x->code_len == y->code_len && x->meta == y->meta && x->line == y->line);
  }
  CHECK_INT(d1->n, d2->n);
  program_free(p1);
  program_free(p2);
  diag_list_free(d1);
  diag_list_free(d2);
  free_policy(a);
}

/* End to end through the YAML front end: columns of plain and quoted rules. */
static void test_from_yaml(void) {
  static const char yml[] = "policy:\n"
                            "  id: p\n"
                            "  name: P\n"
                            "  file: p.yml\n"
                            "  description: D\n"
                            "checks:\n"
                            "  - id: 1\n"
                            "    title: T\n"
                            "    condition: all\n"
                            "    rules:\n"
                            "      - 'f:/x -> r:a$b'\n"
                            "      - f:/y -> r:\\/\n";
  diag_list *d = diag_list_new();
  compile_options o = COMPILE_OPTIONS_DEFAULT;
  program *p = compile_policy_buffer("t.yml", yml, sizeof yml - 1, &o, d);
  REQUIRE(p != NULL);
  CHECK_STR(code_text(p, &p->checks[0]),
            "FILE '/x' @5; ALL @4; FILE '/y' @7; ALL @4; RESULT all; MREGEX r0; MEND; MREGEX r1; MEND");
  check_diag(d, "literal-dollar", 0, 11, 21, "'$' in mid-pattern matches a literal '$'");
  const diag *g = find_diag(d, "bad-regex", 0);
  REQUIRE(g);
  CHECK_INT(g->line, 12);
  CHECK_INT(g->col, 19);
  program_free(p);
  diag_list_free(d);
}

/* 5.x dialect: d: name patterns are PCRE2 (caseless) and plain names exact (SCA-SEMANTICS §10). */
static void test_dir_names_5x(void) {
  policy_ast *a = new_policy(5);
  add_check(a, 1, "all", "d:/etc -> r:\\*\\.conf", "d:/etc -> sshd_config", NULL);
  diag_list *d = diag_list_new();
  program *p = gen(a, d);
  REQUIRE(p != NULL);
  REQUIRE(p->nregexes == 2);
  CHECK_INT(p->regexes[0].dialect, RX_PCRE2);
  CHECK_INT(p->regexes[0].flags & RXF_CASELESS, RXF_CASELESS);
  CHECK_STR(program_str(p, p->regexes[0].source), "\\*\\.conf");
  CHECK_INT(p->regexes[1].dialect, RX_PCRE2);
  CHECK_INT(p->regexes[1].flags & RXF_CASELESS, 0);
  CHECK_STR(program_str(p, p->regexes[1].source), "^sshd\\_config\\z");
  CHECK_INT(diag_errors(d) + diag_warnings(d), 0);
  program_free(p);
  diag_list_free(d);
  free_policy(a);
}

/* Code generation lays every kind of vm/rules.def out by its row: its opcode; a = the location (the
 * content text for a content-only kind); the name, when the shape has one, then the expression;
 * the kind's program flags; and the 4.x dialect substitutes variables in the location exactly for
 * RULE_SUBST4 kinds. */
static void test_rule_kinds_from_table(void) {
  for (size_t i = 0; i < VM_RULE_KIND_COUNT; i++) {
    const vm_rule_kind *k = vm_rule_kind_at(i);
    char text[64];
    if (k->shape == RULE_SHAPE_NAME_CONTENT)
      snprintf(text, sizeof text, "%c:$D/loc -> n -> r:x", k->letter);
    else if (k->shape == RULE_SHAPE_CONTENT)
      snprintf(text, sizeof text, "%c:$D/loc -> r:x", k->letter);
    else
      snprintf(text, sizeof text, "%c:r:x", k->letter);
    policy_ast *a = new_policy(4);
    add_var(a, "$D", "/etc");
    add_check(a, 1, "all", text, NULL);
    diag_list *d = diag_list_new();
    program *p = gen(a, d);
    REQUIRE(p != NULL);
    const insn *in = &p->code[p->checks[0].code];
    CHECK_INT(in->op, k->op);
    const char *want_a = k->shape == RULE_SHAPE_ONLY_CONTENT ? "r:x"
                         : (k->flags & RULE_SUBST4)          ? "/etc/loc"
                                                             : "$D/loc";
    CHECK_STR(program_str(p, in->a), want_a);
    uint32_t expr = k->shape == RULE_SHAPE_NAME_CONTENT ? in->c : in->b;
    CHECK_INT(expr, 3); /* rule, step, RESULT, then the matcher */
    if (k->shape == RULE_SHAPE_NAME_CONTENT)
      CHECK(in->b != PROG_NONE);
    else
      CHECK_INT(in->c, PROG_NONE);
    CHECK_INT(p->flags & k->progflags, k->progflags);
    program_free(p);
    diag_list_free(d);
    free_policy(a);
  }
}

int main(void) {
  RUN(test_single_rule_layout);
  RUN(test_every_rule_kind);
  RUN(test_none_and_registry);
  RUN(test_lowering);
  RUN(test_engine_selection);
  RUN(test_dialect5);
  RUN(test_bad_regex);
  RUN(test_dir_name_patterns);
  RUN(test_literal_anchors);
  RUN(test_numeric);
  RUN(test_conditions);
  RUN(test_requirements);
  RUN(test_variables_4x);
  RUN(test_variables_5x);
  RUN(test_meta_json);
  RUN(test_header);
  RUN(test_rule_errors);
  RUN(test_substitution_error_5x);
  RUN(test_empty_content);
  RUN(test_deterministic);
  RUN(test_from_yaml);
  RUN(test_dir_names_5x);
  RUN(test_rule_kinds_from_table);
  return test_report();
}
