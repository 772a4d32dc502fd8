/* codegen.c — code generation: checked policy AST -> program (compile.h's codegen_policy).
 *
 * Each check becomes one code range laid out as opcodes.def describes:
 *
 *   @0   RULE   (the opcode of the rule's kind in rules.def; operands point at its matcher, if any)
 *        [NOT]  (the rule was written "not ...")
 *        STEP   ALL/ANY/NONE a=@RESULT  (F_NOSHORT in the 5.x dialect: no short-circuit)
 *        ... one RULE [NOT] STEP per rule ...
 *   @k   RESULT x=condition
 *   @k+1 matchers: M* ... MEND, one block per rule with content, in rule order
 *
 * This file holds the policy- and check-level decisions of SCA-SEMANTICS §1.4 (variables), §2.4
 * (the regex engine of a check) and §3 (conditions, requirements); codegen_match.c emits matchers
 * and checks regexes, meta.c renders the event metadata, subst.c substitutes variables,
 * codegen_diag.c places a rule's diagnostics. How a rule's instruction is laid out comes from its
 * kind's row of vm/rules.def. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codegen_int.h"
#include "compile.h"
#include "err.h"
#include "rulekind.h"
#include "strbuf.h"

static int dialect_of(const policy_ast *ast, const compile_options *opt) {
  if (opt && (opt->dialect == DIALECT_WAZUH4 || opt->dialect == DIALECT_WAZUH5)) return opt->dialect;
  return ast->schema == 5 ? DIALECT_WAZUH5 : DIALECT_WAZUH4;
}

/* The regex engine of a check or of the requirements (§2.4; 5.x: PCRE2, caseless). */
static cg_engine engine_of(const cg *g, const ast_check *c) {
  cg_engine pcre = {RX_PCRE2, 0}, osregex = {RX_OSREGEX, 0};
  if (g->dialect == DIALECT_WAZUH5) return (cg_engine){RX_PCRE2, RXF_CASELESS};
  if (c->regex_type.s) return strcmp(c->regex_type.s, "pcre2") == 0 ? pcre : osregex;
  if (g->ast->regex_type.s && strcmp(g->ast->regex_type.s, "pcre2") == 0) return pcre;
  return osregex;
}

/* The condition of a check (§3.1): 1 and *cond when valid, 0 when Wazuh would skip the check (or
 * never meet the requirements). */
static int condition_of(cg *g, const ast_check *c, int is_req, uint8_t *cond) {
  static const struct {
    const char *text;
    uint8_t cond;
    int deprecated;
  } table[] = {{"all", COND_ALL, 0},
               {"any", COND_ANY, 0},
               {"none", COND_NONE, 0},
               {"all required", COND_ALL, 1},
               {"any required", COND_ANY, 1}};
  const char *s = c->condition.s;
  for (size_t i = 0; s && i < sizeof table / sizeof table[0]; i++) {
    if (strcmp(s, table[i].text) != 0) continue;
    *cond = table[i].cond;
    if (table[i].deprecated)
      diag_add(g->diags, DIAG_WARNING, "deprecated-required", g->file, c->condition.pos.line,
               c->condition.pos.col, "modifier 'required' is deprecated: '%s' means '%s'", s,
               vm_condition_name(table[i].cond));
    return 1;
  }
  if (!s) return 0; /* missing or not a string: the front end has reported it */
  srcpos at = c->condition.pos;
  if (is_req)
    diag_add(g->diags, DIAG_WARNING, "invalid-condition", g->file, at.line, at.col,
             "requirements can never be met: condition '%s' is invalid (Wazuh skips the policy's checks)", s);
  else if (c->id_is_text)
    diag_add(g->diags, DIAG_WARNING, "invalid-condition", g->file, at.line, at.col,
             "check '%s' will be skipped: condition '%s' is invalid", c->id_text, s);
  else
    diag_add(g->diags, DIAG_WARNING, "invalid-condition", g->file, at.line, at.col,
             "check %lld will be skipped: condition '%s' is invalid", (long long)c->id, s);
  return 0;
}

/* Parse rule i of check c into cr: the YAML text (4.x), or the text with every variable
 * substituted (5.x). Syntax errors are reported; returns 0, TN_EPOLICY or TN_ENOMEM. */
static int parse_rule(cg *g, const ast_rule *ar, cg_rule *cr) {
  memset(cr, 0, sizeof *cr);
  cr->ar = ar;
  cr->exact_cols = 1;
  cr->expr = PROG_NONE;
  const char *text = ar->text ? ar->text : "";
  rule_error e;
  int rc = rule_parse(text, &cr->r, &e);
  if (rc == TN_EPOLICY) {
    uint32_t line, col;
    cg_rule_pos(cr, e.off, &line, &col);
    diag_add(g->diags, DIAG_ERROR, "bad-rule", g->file, line, col, "%s", e.msg);
    g->errors++;
  }
  if (rc != TN_OK || g->dialect != DIALECT_WAZUH5 || g->vars.n == 0) return rc;
  cr->subst = subst_apply(&g->vars, text, strlen(text));
  if (!cr->subst) return TN_ENOMEM;
  if (strcmp(cr->subst, text) == 0) {
    free(cr->subst);
    cr->subst = NULL;
    return TN_OK;
  }
  rule_free(&cr->r);
  cr->exact_cols = 0;
  rc = rule_parse(cr->subst, &cr->r, &e);
  if (rc == TN_EPOLICY) {
    diag_add(g->diags, DIAG_ERROR, "bad-rule", g->file, ar->pos.line, ar->pos.col,
             "after variable substitution: %s", e.msg);
    g->errors++;
  }
  return rc;
}

static void free_rules(cg_rule *rules, size_t n) {
  for (size_t i = 0; rules && i < n; i++) {
    rule_free(&rules[i].r);
    free(rules[i].subst);
  }
  free(rules);
}

static uint32_t intern(cg *g, const char *s) {
  uint32_t id = program_intern(g->p, s ? s : "");
  if (id == PROG_NONE) g->oom = 1;
  return id;
}

/* The location string of a rule's instruction: 4.x substitutes variables in the locations of the
 * kinds rules.def marks RULE_SUBST4 (f:, d:, c:; §1.4); 5.x has already substituted the whole rule. */
static uint32_t location_str(cg *g, const cg_rule *cr, const vm_rule_kind *k) {
  const rule *r = &cr->r;
  if (g->dialect == DIALECT_WAZUH5 || !(k->flags & RULE_SUBST4)) {
    uint32_t id = program_intern_len(g->p, r->src + r->location.off, r->location.len);
    if (id == PROG_NONE) g->oom = 1;
    return id;
  }
  char *s = subst_apply(&g->vars, r->src + r->location.off, r->location.len);
  if (!s) {
    g->oom = 1;
    return PROG_NONE;
  }
  uint32_t id = intern(g, s);
  free(s);
  return id;
}

/* Emit a rule's instruction (its matcher address is already in cr->expr), laid out as its kind's
 * row of rules.def says: a = the location (the content text for a content-only kind), then the
 * name for a kind that has one (a regex or a string, as the opcode's b slot says), then the
 * content expression. The program gets the flags the kind needs (PROGF_REGISTRY for r:). */
static void emit_rule(cg *g, const cg_rule *cr) {
  const rule *r = &cr->r;
  const vm_rule_kind *k = vm_rule_kind_by_letter(r->type);
  uint32_t line = cr->ar->pos.line, a, b = cr->expr, c = PROG_NONE;
  if (k->shape == RULE_SHAPE_ONLY_CONTENT)
    a = program_intern_len(g->p, r->src + r->content.off, r->content.len);
  else
    a = location_str(g, cr, k);
  if (k->shape == RULE_SHAPE_NAME_CONTENT) {
    c = cr->expr;
    b = PROG_NONE;
    if (r->has_name) {
      b = vm_opcode_info(k->op)->kind[SLOT_B] == OPK_RX_OPT
              ? cg_name_regex(g, cr)
              : program_intern_len(g->p, r->src + r->name.off, r->name.len);
      if (b == PROG_NONE) g->oom = 1;
    }
  }
  g->p->flags |= k->progflags;
  if (a == PROG_NONE || g->oom || program_emit(g->p, k->op, 0, 0, a, b, c, line) == PROG_NONE) g->oom = 1;
}

/* Emit the code of a check whose rules are parsed: rules, steps, RESULT, then matchers. */
static void emit_check(cg *g, const ast_check *c, uint8_t cond, cg_rule *rules, size_t nrules,
                       prog_check *out) {
  static const uint8_t step[] = {[COND_ALL] = OP_ALL, [COND_ANY] = OP_ANY, [COND_NONE] = OP_NONE};
  uint8_t stepflags = g->dialect == DIALECT_WAZUH5 ? F_NOSHORT : 0;
  cg_engine eng = engine_of(g, c);
  /* layout: every address is relative to the check's first instruction */
  uint32_t result = 0;
  for (size_t i = 0; i < nrules; i++)
    result += 2u + (rules[i].r.negated ? 1u : 0u);
  uint32_t next = result + 1;
  for (size_t i = 0; i < nrules; i++) {
    if (!rules[i].r.has_content) continue;
    rules[i].expr = next;
    next += (uint32_t)rules[i].r.nminterms + 1;
  }
  uint32_t base = g->p->ncode;
  for (size_t i = 0; i < nrules && !g->oom; i++) {
    uint32_t line = rules[i].ar->pos.line;
    emit_rule(g, &rules[i]);
    if (rules[i].r.negated &&
        program_emit(g->p, OP_NOT, 0, 0, PROG_NONE, PROG_NONE, PROG_NONE, line) == PROG_NONE)
      g->oom = 1;
    if (program_emit(g->p, step[cond], stepflags, 0, result, PROG_NONE, PROG_NONE, line) == PROG_NONE)
      g->oom = 1;
  }
  if (program_emit(g->p, OP_RESULT, 0, cond, PROG_NONE, PROG_NONE, PROG_NONE, c->pos.line) == PROG_NONE)
    g->oom = 1;
  for (size_t i = 0; i < nrules && !g->oom; i++) {
    if (!rules[i].r.has_content) continue;
    cg_emit_content(g, &rules[i], eng); /* lands at base + rules[i].expr by the layout above */
  }
  out->condition = cond;
  out->code = base;
  out->code_len = g->p->ncode - base;
  out->line = c->pos.line;
}

/* Generate one check (or the requirements, is_req). Returns 1 when it is in the program, 0 when
 * Wazuh would skip it or it has errors. */
static int gen_check(cg *g, const ast_check *c, int is_req, prog_check *out) {
  memset(out, 0, sizeof *out);
  out->id = is_req ? 0 : c->id;
  out->meta = PROG_NONE;
  out->text_id = PROG_NONE; /* meta_check_fields interns it, after all code */
  uint8_t cond = COND_ALL;
  int valid = condition_of(g, c, is_req, &cond);
  cg_rule *rules = c->nrules ? calloc(c->nrules, sizeof *rules) : NULL;
  if (c->nrules && !rules) {
    g->oom = 1;
    return 0;
  }
  int bad = 0;
  for (size_t i = 0; i < c->nrules; i++) {
    int rc = parse_rule(g, &c->rules[i], &rules[i]);
    if (rc == TN_ENOMEM) g->oom = 1;
    if (rc != TN_OK) bad = 1;
  }
  int emitted = 0;
  if (!bad && !g->oom && (valid || is_req)) {
    const char *title = c->title.s ? c->title.s : "";
    char *t = g->dialect == DIALECT_WAZUH5 ? subst_apply(&g->vars, title, strlen(title)) : strdup(title);
    if (!t)
      g->oom = 1;
    else
      out->title = intern(g, t);
    free(t);
    if (!is_req) {
      char *meta = meta_render_check(c, g->dialect, g->dialect == DIALECT_WAZUH5 ? &g->vars : NULL);
      if (!meta)
        g->oom = 1;
      else
        out->meta = intern(g, meta);
      free(meta);
    }
    /* requirements with an invalid condition: no rules, "any" -> never met, as in Wazuh */
    if (!g->oom) emit_check(g, c, valid ? cond : COND_ANY, rules, valid ? c->nrules : 0, out);
    emitted = !g->oom;
  }
  free_rules(rules, c->nrules);
  return emitted;
}

/* Policy header: identity, references, source, dialect, version. */
static void gen_header(cg *g, const compile_options *opt) {
  const policy_ast *a = g->ast;
  program *p = g->p;
  const subst_table *vars = g->dialect == DIALECT_WAZUH5 ? &g->vars : NULL;
  const char *fields[] = {a->name.s, a->file.s, a->description.s};
  uint32_t *ids[] = {&p->policy_name, &p->policy_file, &p->policy_description};
  for (size_t i = 0; i < 3; i++) {
    const char *s = fields[i] ? fields[i] : "";
    char *t = vars ? subst_apply(vars, s, strlen(s)) : strdup(s);
    if (!t)
      g->oom = 1;
    else
      *ids[i] = intern(g, t);
    free(t);
  }
  p->policy_id = intern(g, a->id.s);
  p->policy_references = PROG_NONE;
  if (a->references.n > 0) {
    strbuf b = STRBUF_INIT;
    for (size_t i = 0; i < a->references.n; i++) {
      if (i) strbuf_putc(&b, ',');
      strbuf_puts(&b, a->references.items[i].s ? a->references.items[i].s : "");
    }
    char *s = strbuf_take(&b);
    char *t = s && vars ? subst_apply(vars, s, strlen(s)) : NULL;
    if (!s || (vars && !t))
      g->oom = 1;
    else
      p->policy_references = intern(g, t ? t : s);
    free(s);
    free(t);
  }
  const char *path = a->path ? a->path : "";
  const char *slash = strrchr(path, '/');
  p->source_name = intern(g, slash ? slash + 1 : path);
  memcpy(p->source_sha256, a->source_sha256, sizeof p->source_sha256);
  p->dialect = (uint8_t)g->dialect;
  p->policy_version = opt && opt->policy_version ? opt->policy_version : 1;
  p->expiry = opt ? opt->expiry : 0;
}

program *codegen_policy(const policy_ast *ast, const compile_options *opt, diag_list *diags) {
  cg g = {0};
  g.ast = ast;
  g.diags = diags;
  g.file = ast->path ? ast->path : "";
  g.dialect = dialect_of(ast, opt);
  g.p = program_new();
  if (!g.p || subst_table_init(&g.vars, ast) != TN_OK) g.oom = 1;
  if (!g.oom) gen_header(&g, opt);
  if (!g.oom && ast->has_requirements) {
    prog_check req;
    if (gen_check(&g, &ast->requirements, 1, &req)) {
      g.p->requirements = req;
      g.p->has_requirements = 1;
    }
  }
  size_t *from = calloc(ast->nchecks + 1, sizeof *from); /* program check -> AST check */
  if (!from) g.oom = 1;
  for (size_t i = 0; i < ast->nchecks && !g.oom; i++) {
    prog_check pc;
    if (gen_check(&g, &ast->checks[i], 0, &pc) && (from[g.p->nchecks] = i, program_add_check(g.p, &pc)) != TN_OK)
      g.oom = 1;
  }
  /* The metadata as fields (meta.c), interned after all code so the code's string ids do not move. */
  const subst_table *vars = g.dialect == DIALECT_WAZUH5 ? &g.vars : NULL;
  if (!g.oom && g.p->has_requirements && meta_check_fields(g.p, NULL, g.dialect, vars, &g.p->requirements) != TN_OK)
    g.oom = 1;
  for (uint32_t j = 0; !g.oom && j < g.p->nchecks; j++)
    if (meta_check_fields(g.p, &ast->checks[from[j]], g.dialect, vars, &g.p->checks[j]) != TN_OK) g.oom = 1;
  free(from);
  subst_table_free(&g.vars);
  if (g.oom) diag_add(diags, DIAG_ERROR, "oom", g.file, 0, 0, "out of memory while generating code");
  if (g.oom || g.errors > 0) {
    program_free(g.p);
    return NULL;
  }
  program_freeze(g.p);
  return g.p;
}
