/* cmd_diff.c — `tenet diff OLD NEW`: what rolling out a new version of a policy changes.
 *
 * OLD and NEW are bundles or YAML policies (YAML is compiled in memory with the default options).
 * Checks are matched by id: added, removed, logic changed (condition or code: every instruction
 * compared by opcode, flags and operands, strings and regexes by content, never by table index),
 * metadata changed only (title, description, rationale, remediation, compliance, references...),
 * unchanged. Then the policy-integrity consequence: a new bundle hash makes the manager flush its
 * copy and request a dump, so every agent re-sends every check of the policy (ARCHITECTURE.md,
 * "Hashes and integrity"). Text for a reviewer, or --format json for a pipeline. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bundle.h"
#include "checkid.h"
#include "cli.h"
#include "cli_opt.h"
#include "crypto.h"
#include "err.h"
#include "load.h"
#include "strbuf.h"

typedef struct side {
  const char *path;
  loaded_policy lp;
  char hash[65]; /* bundle hash, lower-case hex */
} side;

enum change { SAME = 0, ADDED, REMOVED, LOGIC, META };
static const char *const change_names[] = {"unchanged", "added", "removed", "logic_changed", "metadata_changed"};

typedef struct entry {
  int64_t id;
  int change;
  const char *text;      /* borrowed: the check's 5.x text id, or NULL */
  const char *title;     /* borrowed: NEW's title (OLD's when removed) */
  const char *old_title; /* borrowed: OLD's title when it changed, else NULL */
} entry;

static void hex(const uint8_t *h, char out[65]) {
  for (int i = 0; i < 32; i++)
    snprintf(out + 2 * i, 3, "%02x", h[i]);
}

static int load_side(side *s, const crypto_key *key, char *err, size_t errlen) {
  load_options lo = {.pubkey = key, .allow_unsigned = !key};
  diag_list *diags = diag_list_new();
  int rc = load_policy(s->path, &lo, &s->lp, diags, err, errlen);
  if (rc != TN_OK) diag_print(diags, stderr, cli_use_color(stderr));
  diag_list_free(diags);
  if (rc != TN_OK) return rc;
  if (s->lp.from_bundle) {
    hex(s->lp.info.bundle_hash, s->hash);
    return TN_OK;
  }
  uint8_t *buf = NULL, h[CRYPTO_SHA256_LEN];
  size_t len = 0;
  rc = bundle_write(s->lp.prog, NULL, &buf, &len, err, errlen);
  if (rc == TN_OK) rc = bundle_written_hash(buf, len, h);
  if (rc == TN_OK) hex(h, s->hash);
  free(buf);
  return rc;
}

/* The logic of a code range as text: condition, then every instruction with its operands resolved
 * as opcodes.def describes them (strings and regexes by content, jumps as check-relative indexes). */
static void render_logic(const program *p, const prog_check *ck, strbuf *b) {
  strbuf_printf(b, "cond=%u\n", ck->condition);
  for (uint32_t k = ck->code; k < ck->code + ck->code_len && k < p->ncode; k++) {
    const insn *in = &p->code[k];
    strbuf_printf(b, "%s/%u", vm_opcode_name(in->op) ? vm_opcode_name(in->op) : "?", in->flags);
    const vm_opinfo *info = vm_opcode_info(in->op);
    static const char slot_names[SLOT__COUNT] = {'x', 'a', 'b', 'c'};
    for (int slot = 0; info && slot < SLOT__COUNT; slot++) {
      const vm_operand_info *kind = vm_operand_kind_info(info->kind[slot]);
      if (!kind || info->kind[slot] == OPK_NONE) continue;
      char field = slot_names[slot];
      uint32_t v = slot == SLOT_X ? in->x : slot == SLOT_A ? in->a : slot == SLOT_B ? in->b : in->c;
      if (strcmp(kind->domain, "rx") == 0 && v != PROG_NONE) {
        const prog_regex *r = v < p->nregexes ? &p->regexes[v] : NULL;
        strbuf_printf(b, " %c=rx(%u,%u,", field, r ? r->dialect : 0, r ? r->flags : 0);
        strbuf_json_str(b, r ? program_str(p, r->source) : "");
        strbuf_puts(b, ",");
        strbuf_json_str(b, r ? program_str(p, r->lowered) : "");
        strbuf_puts(b, ")");
      } else if (strcmp(kind->domain, "str") == 0 && v != PROG_NONE) {
        strbuf_printf(b, " %c=", field);
        strbuf_json_str(b, program_str(p, v));
      } else {
        strbuf_printf(b, " %c=%u", field, (unsigned)v);
      }
    }
    strbuf_puts(b, "\n");
  }
}

static int same_logic(const program *a, const prog_check *ca, const program *b, const prog_check *cb) {
  strbuf x = STRBUF_INIT, y = STRBUF_INIT;
  render_logic(a, ca, &x);
  render_logic(b, cb, &y);
  int same = x.len == y.len && (x.len == 0 || memcmp(x.data, y.data, x.len) == 0);
  strbuf_free(&x);
  strbuf_free(&y);
  return same;
}

static int cmp_entry(const void *x, const void *y) {
  const entry *a = x, *b = y;
  return a->id < b->id ? -1 : a->id > b->id;
}

/* Policy-level differences, as short phrases. */
static size_t policy_changes(const program *o, const program *n, const char **out) {
  size_t k = 0;
#define FIELD(member, what) \
  if (strcmp(program_str(o, o->member), program_str(n, n->member)) != 0) out[k++] = what;
  FIELD(policy_id, "policy id")
  FIELD(policy_name, "name")
  FIELD(policy_file, "file")
  FIELD(policy_description, "description")
  FIELD(policy_references, "references")
#undef FIELD
  if (o->has_requirements != n->has_requirements ||
      (o->has_requirements && !same_logic(o, &o->requirements, n, &n->requirements)))
    out[k++] = "requirements";
  if (o->dialect != n->dialect) out[k++] = "dialect";
  if (o->policy_version != n->policy_version) out[k++] = "policy version";
  if (o->expiry != n->expiry) out[k++] = "expiry";
  if (memcmp(o->source_sha256, n->source_sha256, 32) != 0) out[k++] = "source YAML";
  return k;
}

static void help(FILE *out) {
  fprintf(out,
          "usage: tenet diff [options] OLD NEW   (each a bundle or a YAML policy)\n"
          "  Checks added, removed, with changed logic (code or regexes) and with changed metadata\n"
          "  only, and what a rollout does: a new bundle hash makes every agent re-send every check.\n"
          "  -f, --format F        text (default) or json\n"
          "  -p, --pubkey KEY.pub  bundles must be signed by this key (default: signatures not checked)\n");
}

int cmd_diff(int argc, char **argv) {
  static const struct option opts[] = {{"format", required_argument, 0, 'f'},
                                       {"pubkey", required_argument, 0, 'p'},
                                       {"help", no_argument, 0, 'h'},
                                       {0, 0, 0, 0}};
  int json = 0, c;
  const char *pub = NULL;
  optind = 1;
  opterr = 0; /* unknown options are reported by cli_getopt_error, with a suggestion */
  while ((c = getopt_long(argc, argv, "f:p:h", opts, NULL)) != -1) {
    switch (c) {
    case 'f':
      if (strcmp(optarg, "json") == 0) json = 1;
      else if (strcmp(optarg, "text") == 0) json = 0;
      else {
        fprintf(stderr, "tenet diff: --format is text or json, not '%s'\n", optarg);
        return 2;
      }
      break;
    case 'p': pub = optarg; break;
    case 'h': help(stdout); return 0;
    default: return cli_getopt_error("tenet diff", opts, argv);
    }
  }
  if (argc - optind != 2) {
    help(stderr);
    return 2;
  }
  char err[512];
  crypto_key *key = NULL;
  if (pub && !(key = crypto_key_load_public(pub, err, sizeof err))) {
    fprintf(stderr, "tenet diff: %s\n", err);
    return 1;
  }
  side s[2] = {{.path = argv[optind]}, {.path = argv[optind + 1]}};
  for (int i = 0; i < 2; i++) {
    if (load_side(&s[i], key, err, sizeof err) != TN_OK) {
      fprintf(stderr, "tenet diff: %s\n", err);
      loaded_policy_free(&s[0].lp);
      loaded_policy_free(&s[1].lp);
      crypto_key_free(key);
      return 1;
    }
  }
  crypto_key_free(key);
  const program *o = s[0].lp.prog, *n = s[1].lp.prog;
  entry *ents = calloc((size_t)o->nchecks + n->nchecks + 1, sizeof *ents);
  if (!ents) {
    fprintf(stderr, "tenet diff: out of memory\n");
    loaded_policy_free(&s[0].lp);
    loaded_policy_free(&s[1].lp);
    return 1;
  }
  size_t ne = 0, count[5] = {0};
  for (uint32_t i = 0; i < n->nchecks; i++) {
    const prog_check *cn = &n->checks[i];
    long j = program_find_check(o, cn->id);
    entry *e = &ents[ne++];
    e->id = cn->id;
    e->text = program_check_text_id(n, cn);
    e->title = program_str(n, cn->title);
    if (j < 0) {
      e->change = ADDED;
    } else {
      const prog_check *co = &o->checks[j];
      if (strcmp(program_str(o, co->title), e->title) != 0) e->old_title = program_str(o, co->title);
      if (!same_logic(o, co, n, cn)) e->change = LOGIC;
      else if (e->old_title || strcmp(program_str(o, co->meta), program_str(n, cn->meta)) != 0) e->change = META;
    }
  }
  for (uint32_t i = 0; i < o->nchecks; i++) {
    if (program_find_check(n, o->checks[i].id) >= 0) continue;
    ents[ne++] = (entry){o->checks[i].id, REMOVED, program_check_text_id(o, &o->checks[i]),
                         program_str(o, o->checks[i].title), NULL};
  }
  qsort(ents, ne, sizeof *ents, cmp_entry);
  for (size_t i = 0; i < ne; i++)
    count[ents[i].change]++;
  const char *pchanges[16];
  size_t npc = policy_changes(o, n, pchanges);
  int hash_changed = strcmp(s[0].hash, s[1].hash) != 0;
  const char *pid = program_str(n, n->policy_id);
  int id_changed = strcmp(program_str(o, o->policy_id), pid) != 0;
  strbuf msg = STRBUF_INIT;
  if (id_changed)
    strbuf_printf(&msg, "the policy id changes from %s to %s: agents report a new policy and send all %u of its checks",
                  program_str(o, o->policy_id), pid, n->nchecks);
  else if (hash_changed)
    strbuf_printf(&msg, "rolling this out makes every agent re-send all %u checks of policy %s (the bundle hash changes, "
                  "so the manager flushes its copy and requests a full dump)", n->nchecks, pid);
  else
    strbuf_printf(&msg, "same bundle hash: agents keep their state and re-send nothing for policy %s", pid);

  strbuf b = STRBUF_INIT;
  if (json) {
    strbuf_puts(&b, "{");
    for (int i = 0; i < 2; i++) {
      const program *p = s[i].lp.prog;
      strbuf_printf(&b, "%s:{\"path\":", i ? ",\"new\"" : "\"old\"");
      strbuf_json_str(&b, s[i].path);
      strbuf_puts(&b, ",\"policy_id\":");
      strbuf_json_str(&b, program_str(p, p->policy_id));
      strbuf_printf(&b, ",\"policy_version\":%llu,\"bundle_hash\":\"%s\",\"checks\":%u}",
                    (unsigned long long)p->policy_version, s[i].hash, p->nchecks);
    }
    strbuf_printf(&b, ",\"bundle_hash_changed\":%s", hash_changed ? "true" : "false");
    for (int k = ADDED; k <= META; k++) {
      strbuf_printf(&b, ",\"%s\":[", change_names[k]);
      int first = 1;
      for (size_t i = 0; i < ne; i++) {
        if (ents[i].change != k) continue;
        strbuf_printf(&b, "%s{\"id\":", first ? "" : ",");
        if (ents[i].text)
          strbuf_json_str(&b, ents[i].text);
        else
          strbuf_printf(&b, "%lld", (long long)ents[i].id);
        strbuf_puts(&b, ",\"title\":");
        strbuf_json_str(&b, ents[i].title);
        if (ents[i].old_title) {
          strbuf_puts(&b, ",\"old_title\":");
          strbuf_json_str(&b, ents[i].old_title);
        }
        strbuf_puts(&b, "}");
        first = 0;
      }
      strbuf_puts(&b, "]");
    }
    strbuf_printf(&b, ",\"unchanged\":%zu,\"policy_changes\":[", count[SAME]);
    for (size_t i = 0; i < npc; i++) {
      if (i) strbuf_puts(&b, ",");
      strbuf_json_str(&b, pchanges[i]);
    }
    strbuf_printf(&b, "],\"rollout\":{\"resend_all\":%s,\"checks_resent\":%u,\"message\":",
                  hash_changed ? "true" : "false", hash_changed ? n->nchecks : 0);
    strbuf_json_str(&b, msg.data ? msg.data : "");
    strbuf_puts(&b, "}}\n");
  } else {
    strbuf_printf(&b, "policy %s: %s -> %s\n", pid, s[0].path, s[1].path);
    strbuf_printf(&b, "  bundle hash  %.16s… -> %.16s…  (%s)\n", s[0].hash, s[1].hash, hash_changed ? "changed" : "same");
    strbuf_printf(&b, "  checks       %u -> %u: %zu added, %zu removed, %zu logic changed, %zu metadata only, %zu unchanged\n",
                  o->nchecks, n->nchecks, count[ADDED], count[REMOVED], count[LOGIC], count[META], count[SAME]);
    if (npc) {
      strbuf_puts(&b, "  policy       changed:");
      for (size_t i = 0; i < npc; i++)
        strbuf_printf(&b, "%s %s", i ? "," : "", pchanges[i]);
      strbuf_puts(&b, "\n");
    }
    static const char *const heads[] = {NULL, "added", "removed", "logic changed (code, condition or regexes)",
                                        "metadata changed only"};
    static const char marks[] = " +-~*";
    for (int k = ADDED; k <= META; k++) {
      if (!count[k]) continue;
      strbuf_printf(&b, "  %s:\n", heads[k]);
      for (size_t i = 0; i < ne; i++) {
        if (ents[i].change != k) continue;
        char idb[CHECKID_BUF];
        strbuf_printf(&b, "    %c %s  %s", marks[k], checkid_show(ents[i].id, ents[i].text, idb), ents[i].title);
        if (ents[i].old_title) strbuf_printf(&b, "  (was: %s)", ents[i].old_title);
        strbuf_puts(&b, "\n");
      }
    }
    strbuf_printf(&b, "rollout: %s\n", msg.data ? msg.data : "");
  }
  int status = strbuf_ok(&b) && strbuf_ok(&msg) ? 0 : 1;
  if (status) fprintf(stderr, "tenet diff: out of memory\n");
  else fwrite(b.data, 1, b.len, stdout);
  strbuf_free(&b);
  strbuf_free(&msg);
  free(ents);
  loaded_policy_free(&s[0].lp);
  loaded_policy_free(&s[1].lp);
  return status;
}
