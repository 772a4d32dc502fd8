/* program.c — construction and destruction of programs (see program.h). */
#include "program.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "checkid.h"
#include "err.h"

/* Interning map: open addressing over string ids, keyed by the string's bytes. */
typedef struct builder {
  uint32_t *slots; /* str id + 1, 0 = empty */
  uint32_t cap;    /* power of two */
  uint32_t used;
  uint32_t strcap; /* allocated bytes of strtab */
  uint32_t codecap, checkcap, rxcap, listcap;
} builder;

/* Interning only (the slot a string takes, never its place in the string table, so bundles do
 * not depend on it): XXH3, which hashes the long metadata texts of a policy many times faster
 * than a byte-at-a-time hash. */
static uint64_t hash_bytes(const char *s, size_t n) { return XXH3_64bits(s, n); }

program *program_new(void) {
  program *p = calloc(1, sizeof *p);
  builder *b = calloc(1, sizeof *b);
  if (!p || !b) goto fail;
  p->dialect = DIALECT_WAZUH4;
  p->policy_version = 1;
  p->policy_references = PROG_NONE;
  b->cap = 256;
  b->slots = calloc(b->cap, sizeof *b->slots);
  b->strcap = 1024;
  p->strtab = malloc(b->strcap);
  if (!b->slots || !p->strtab) goto fail;
  p->strtab[0] = '\0';
  p->strtab_len = 1;
  p->builder = b;
  return p;
fail:
  if (b) free(b->slots);
  free(b);
  if (p) free(p->strtab);
  free(p);
  return NULL;
}

void program_freeze(program *p) {
  if (!p || !p->builder) return;
  builder *b = p->builder;
  free(b->slots);
  free(b);
  p->builder = NULL;
}

void program_free(program *p) {
  if (!p) return;
  program_freeze(p);
  free(p->strtab);
  free(p->regexes);
  free(p->checks);
  free(p->lists);
  free(p->code);
  free(p->lines);
  free(p);
}

const char *program_str(const program *p, uint32_t id) {
  if (!p || id == PROG_NONE || id >= p->strtab_len) return "";
  return p->strtab + id;
}

static int grow_map(builder *b, const program *p) {
  uint32_t ncap = b->cap * 2;
  uint32_t *ns = calloc(ncap, sizeof *ns);
  if (!ns) return -1;
  for (uint32_t i = 0; i < b->cap; i++) {
    if (!b->slots[i]) continue;
    const char *s = p->strtab + (b->slots[i] - 1);
    uint32_t h = (uint32_t)hash_bytes(s, strlen(s)) & (ncap - 1);
    while (ns[h]) h = (h + 1) & (ncap - 1);
    ns[h] = b->slots[i];
  }
  free(b->slots);
  b->slots = ns;
  b->cap = ncap;
  return 0;
}

uint32_t program_intern_len(program *p, const char *s, size_t len) {
  builder *b = p->builder;
  if (!b) return PROG_NONE;
  /* An embedded NUL would make the string unreadable: keep the part before it. */
  const char *nul = memchr(s, '\0', len);
  if (nul) len = (size_t)(nul - s);
  if (len == 0) return 0;
  if ((b->used + 1) * 2 > b->cap && grow_map(b, p) != 0) return PROG_NONE;
  uint32_t h = (uint32_t)hash_bytes(s, len) & (b->cap - 1);
  while (b->slots[h]) {
    const char *t = p->strtab + (b->slots[h] - 1);
    if (strncmp(t, s, len) == 0 && t[len] == '\0') return b->slots[h] - 1;
    h = (h + 1) & (b->cap - 1);
  }
  if (len > UINT32_MAX / 2 || p->strtab_len + len + 1 > UINT32_MAX / 2) return PROG_NONE;
  while (p->strtab_len + len + 1 > b->strcap) {
    char *n = realloc(p->strtab, (size_t)b->strcap * 2);
    if (!n) return PROG_NONE;
    p->strtab = n;
    b->strcap *= 2;
  }
  uint32_t id = p->strtab_len;
  memcpy(p->strtab + id, s, len);
  p->strtab[id + len] = '\0';
  p->strtab_len += (uint32_t)len + 1;
  b->slots[h] = id + 1;
  b->used++;
  return id;
}

uint32_t program_intern(program *p, const char *s) { return program_intern_len(p, s, strlen(s)); }

#define GROW(arr, n, cap)                                      \
  do {                                                         \
    if ((n) >= (cap)) {                                        \
      uint32_t nc_ = (cap) ? (cap) * 2 : 64;                   \
      void *na_ = realloc((arr), (size_t)nc_ * sizeof *(arr)); \
      if (!na_) return PROG_NONE;                              \
      (arr) = na_;                                             \
      (cap) = nc_;                                             \
    }                                                          \
  } while (0)

uint32_t program_add_regex(program *p, const char *source, uint8_t dialect, uint8_t flags,
                           const char *lowered) {
  builder *b = p->builder;
  if (!b) return PROG_NONE;
  uint32_t src = program_intern(p, source);
  uint32_t low = lowered ? program_intern(p, lowered) : PROG_NONE;
  if (src == PROG_NONE || (lowered && low == PROG_NONE)) return PROG_NONE;
  for (uint32_t i = 0; i < p->nregexes; i++) {
    const prog_regex *r = &p->regexes[i];
    if (r->source == src && r->dialect == dialect && r->flags == flags && r->lowered == low) return i;
  }
  GROW(p->regexes, p->nregexes, b->rxcap);
  p->regexes[p->nregexes] = (prog_regex){.source = src, .dialect = dialect, .flags = flags, .lowered = low};
  return p->nregexes++;
}

uint32_t program_emit(program *p, uint8_t op, uint8_t flags, uint16_t x, uint32_t a, uint32_t b_,
                      uint32_t c, uint32_t line) {
  builder *b = p->builder;
  if (!b) return PROG_NONE;
  if (p->ncode >= b->codecap) {
    uint32_t nc = b->codecap ? b->codecap * 2 : 256;
    insn *ncode = realloc(p->code, (size_t)nc * sizeof *ncode);
    if (!ncode) return PROG_NONE;
    p->code = ncode;
    uint32_t *nl = realloc(p->lines, (size_t)nc * sizeof *nl);
    if (!nl) return PROG_NONE;
    p->lines = nl;
    b->codecap = nc;
  }
  p->code[p->ncode] = (insn){.op = op, .flags = flags, .x = x, .a = a, .b = b_, .c = c};
  p->lines[p->ncode] = line;
  return p->ncode++;
}

uint32_t program_add_list(program *p, const uint32_t *ids, uint32_t n) {
  builder *b = p->builder;
  if (!b) return PROG_NONE;
  uint32_t first = p->nlists;
  for (uint32_t i = 0; i < n; i++) {
    GROW(p->lists, p->nlists, b->listcap);
    p->lists[p->nlists++] = ids[i];
  }
  return first;
}

static const char *opt_str(const program *p, uint32_t id) {
  return id == PROG_NONE ? NULL : program_str(p, id);
}

/* A list range of the check, or none when it does not fit (a hand-built program). */
static const uint32_t *list_at(const program *p, uint32_t first, uint64_t n) {
  if (first == PROG_NONE || n == 0 || first > p->nlists || n > (uint64_t)p->nlists - first) return NULL;
  return p->lists + first;
}

void program_check_meta(const program *p, const prog_check *c, prog_check_meta *out) {
  memset(out, 0, sizeof *out);
  out->id_text = program_check_text_id(p, c);
  out->title = program_str(p, c->title);
  out->description = opt_str(p, c->description);
  out->rationale = opt_str(p, c->rationale);
  out->remediation = opt_str(p, c->remediation);
  out->references = opt_str(p, c->references);
  out->condition = opt_str(p, c->condition_text);
  out->has_compliance = c->compliance != PROG_NONE;
  if ((out->compliance = list_at(p, c->compliance, 2 * (uint64_t)c->ncompliance)))
    out->ncompliance = c->ncompliance;
  if ((out->rules = list_at(p, c->rules, c->nrules))) out->nrules = c->nrules;
}

int program_add_check(program *p, const prog_check *c) {
  builder *b = p->builder;
  if (!b) return TN_EUSAGE;
  if (p->nchecks >= b->checkcap) {
    uint32_t nc = b->checkcap ? b->checkcap * 2 : 64;
    prog_check *n = realloc(p->checks, (size_t)nc * sizeof *n);
    if (!n) return TN_ENOMEM;
    p->checks = n;
    b->checkcap = nc;
  }
  p->checks[p->nchecks++] = *c;
  return TN_OK;
}

const char *program_check_text_id(const program *p, const prog_check *c) {
  return c->text_id == PROG_NONE || c->text_id == 0 ? NULL : program_str(p, c->text_id);
}

long program_find_check(const program *p, int64_t id) {
  for (uint32_t i = 0; i < p->nchecks; i++)
    if (p->checks[i].id == id) return (long)i;
  return -1;
}

/* ---- checking the metadata fields (the bundle reader and writer share this) ---- */

/* A string id: the start of a string of the table (PROG_NONE allowed when opt). */
static int str_id_ok(const program *p, uint32_t id, int opt) {
  if (opt && id == PROG_NONE) return 1;
  return id < p->strtab_len && (id == 0 || p->strtab[id - 1] == '\0');
}

/* A range of the list table: first (PROG_NONE allowed when opt, then n is 0) and n entries. */
static int range_ok(const program *p, uint32_t first, uint64_t n, int opt) {
  if (first == PROG_NONE) return opt && n == 0;
  return first <= p->nlists && n <= (uint64_t)p->nlists - first;
}

static int bad(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int bad(char *err, size_t errlen, const char *fmt, ...) {
  if (err && errlen) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
  }
  return TN_ECORRUPT;
}

static int check_fields(const program *p, const prog_check *c, const char *who, uint32_t i, char *err,
                        size_t errlen) {
  const uint32_t ids[] = {c->description, c->rationale, c->remediation, c->references, c->condition_text};
  for (size_t k = 0; k < sizeof ids / sizeof *ids; k++)
    if (!str_id_ok(p, ids[k], 1)) return bad(err, errlen, "%s %u: bad metadata string id %u", who, i, ids[k]);
  if (!range_ok(p, c->compliance, 2 * (uint64_t)c->ncompliance, 1))
    return bad(err, errlen, "%s %u: compliance list %u+%u outside the list table (%u)", who, i, c->compliance,
               c->ncompliance, p->nlists);
  if (!range_ok(p, c->rules, c->nrules, 0))
    return bad(err, errlen, "%s %u: rule list %u+%u outside the list table (%u)", who, i, c->rules, c->nrules,
               p->nlists);
  /* A text id is bound to its key: the key is derived from the text, and a key in the text range
   * has its text. */
  if (c->text_id != PROG_NONE && c->text_id != 0) {
    if (!str_id_ok(p, c->text_id, 0))
      return bad(err, errlen, "%s %u: bad text id string id %u", who, i, c->text_id);
    const char *t = program_str(p, c->text_id);
    int64_t as_int;
    if (checkid_parse(t, strlen(t), &as_int)) /* "5" is check 5, never a text id */
      return bad(err, errlen, "%s %u: text id '%.32s' is an integer", who, i, t);
    if (checkid_text_key(t, strlen(t)) != c->id)
      return bad(err, errlen, "%s %u: id %lld is not the key of its text id", who, i, (long long)c->id);
  } else if (checkid_is_text_key(c->id)) {
    return bad(err, errlen, "%s %u: id %lld is in the text-id range but has no text id", who, i,
               (long long)c->id);
  }
  return TN_OK;
}

int program_verify_fields(const program *p, char *err, size_t errlen) {
  if (!p->strtab || !p->strtab_len) return bad(err, errlen, "no string table");
  if (p->nlists && !p->lists) return bad(err, errlen, "no list table");
  for (uint32_t i = 0; i < p->nlists; i++)
    if (!str_id_ok(p, p->lists[i], 0))
      return bad(err, errlen, "list entry %u: bad string id %u", i, p->lists[i]);
  for (uint32_t i = 0; i < p->nchecks; i++) {
    int rc = check_fields(p, &p->checks[i], "check", i, err, errlen);
    if (rc != TN_OK) return rc;
  }
  return p->has_requirements ? check_fields(p, &p->requirements, "requirements", 0, err, errlen) : TN_OK;
}
