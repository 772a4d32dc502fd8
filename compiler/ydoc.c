/* ydoc.c — libyaml events -> the node tree of ydoc.h (the compiler's only libyaml user).
 *
 * One pass over the event stream with an explicit stack (no recursion, so nesting costs no C
 * stack), nodes and strings carved from an arena owned by the document. Aliases point at the
 * anchored node; every node carries its expanded weight so a document whose aliases would expand
 * beyond YDOC_MAX_EXPANDED nodes is refused before anyone walks it. */
#define TENET_YAML_LIBYAML
#include <yaml.h> /* libyaml: used only in this file */

#include "ydoc.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

/* ---- arena ---------------------------------------------------------------------------------- */

typedef struct chunk {
  struct chunk *next;
  size_t used, cap;
  max_align_t data[];
} chunk;

#define CHUNK_SIZE (64u << 10)

struct ydoc {
  chunk *chunks;
  const ynode *root;
};

static void *aalloc(ydoc *d, size_t n) {
  n = (n + sizeof(max_align_t) - 1) / sizeof(max_align_t) * sizeof(max_align_t);
  chunk *c = d->chunks;
  if (!c || c->cap - c->used < n) {
    size_t cap = n > CHUNK_SIZE / 4 ? n : CHUNK_SIZE;
    chunk *nc = malloc(sizeof(chunk) + cap);
    if (!nc) return NULL;
    nc->used = 0;
    nc->cap = cap;
    if (c && cap != CHUNK_SIZE) { /* a big block: keep filling the current chunk afterwards */
      nc->next = c->next;
      c->next = nc;
      nc->used = n;
      return nc->data;
    }
    nc->next = c;
    d->chunks = c = nc;
  }
  void *p = (char *)c->data + c->used;
  c->used += n;
  return p;
}

static char *adup(ydoc *d, const void *s, size_t n) {
  char *p = aalloc(d, n + 1);
  if (!p) return NULL;
  if (n) memcpy(p, s, n);
  p[n] = '\0';
  return p;
}

/* ---- a small string-keyed hash map (anchors; duplicate-key detection) ------------------------ */

typedef struct slot {
  const char *key;
  size_t len;
  void *val;
} slot;

typedef struct smap {
  slot *slots;
  size_t cap, n;
  int nocase;
} smap;

static size_t hashkey(const smap *m, const char *k, size_t len) {
  size_t h = 2166136261u;
  for (size_t i = 0; i < len; i++) {
    unsigned char c = (unsigned char)k[i];
    h = (h ^ (m->nocase ? (unsigned char)tolower(c) : c)) * 16777619u;
  }
  return h;
}

/* Keys may hold NULs (quoted "\0"), so compare by length. */
static int eqcase(const char *a, const char *b, size_t n) {
  for (size_t i = 0; i < n; i++)
    if (tolower((unsigned char)a[i]) != tolower((unsigned char)b[i])) return 0;
  return 1;
}

static int sameky(const smap *m, const slot *s, const char *k, size_t len) {
  if (s->len != len) return 0;
  return m->nocase ? eqcase(s->key, k, len) : memcmp(s->key, k, len) == 0;
}

/* The slot for k: its entry, or the empty slot where it would go. NULL when full. */
static slot *smap_slot(smap *m, const char *k, size_t len) {
  if (!m->cap) return NULL;
  for (size_t i = hashkey(m, k, len) & (m->cap - 1), probes = 0; probes < m->cap;
       i = (i + 1) & (m->cap - 1), probes++) {
    slot *s = &m->slots[i];
    if (!s->key || sameky(m, s, k, len)) return s;
  }
  return NULL;
}

static int smap_grow(smap *m) {
  size_t ncap = m->cap ? m->cap * 2 : 16;
  slot *old = m->slots;
  size_t ocap = m->cap;
  m->slots = calloc(ncap, sizeof(slot));
  if (!m->slots) {
    m->slots = old;
    return -1;
  }
  m->cap = ncap;
  for (size_t i = 0; i < ocap; i++)
    if (old[i].key) *smap_slot(m, old[i].key, old[i].len) = old[i];
  free(old);
  return 0;
}

/* Find k; when absent, insert it with val. Returns the slot (NULL on allocation failure). */
static slot *smap_put(smap *m, const char *k, size_t len, void *val) {
  if ((m->n + 1) * 2 > m->cap && smap_grow(m) != 0) return NULL;
  slot *s = smap_slot(m, k, len);
  if (!s->key) {
    s->key = k;
    s->len = len;
    s->val = val;
    m->n++;
  }
  return s;
}

static void smap_clear(smap *m) {
  free(m->slots);
  memset(m, 0, sizeof(*m));
}

/* ---- the builder ---------------------------------------------------------------------------- */

typedef struct ybox {
  ynode n;
  size_t weight; /* nodes in the fully expanded subtree, capped just above YDOC_MAX_EXPANDED */
} ybox;

typedef struct frame {
  ybox *node;
  const ynode **kids; /* sequence items, or mapping keys and values alternating */
  size_t n, cap;
} frame;

typedef struct builder {
  ydoc *doc;
  diag_list *diags;
  const char *path;
  const char *data;
  size_t len;
  frame stack[YDOC_MAX_DEPTH];
  size_t depth;
  smap anchors; /* name -> ybox* (a redefinition replaces the earlier one) */
  int failed;
} builder;

static void fail(builder *b, const yaml_mark_t *m, const char *msg) {
  if (b->failed) return;
  b->failed = 1;
  diag_add(b->diags, DIAG_ERROR, "yaml", b->path, m ? (uint32_t)m->line + 1 : 1,
           m ? (uint32_t)m->column + 1 : 1, "%s", msg);
}

static ybox *newnode(builder *b, ynode_kind kind, const yaml_mark_t *m) {
  ybox *x = aalloc(b->doc, sizeof(ybox));
  if (!x) {
    fail(b, m, "out of memory while reading YAML");
    return NULL;
  }
  memset(x, 0, sizeof(*x));
  x->n.kind = kind;
  x->n.line = m->line + 1 > UINT32_MAX ? UINT32_MAX : (uint32_t)m->line + 1;
  x->n.col = m->column + 1 > UINT32_MAX ? UINT32_MAX : (uint32_t)m->column + 1;
  x->weight = 1;
  return x;
}

static void anchor(builder *b, const yaml_char_t *name, ybox *x, const yaml_mark_t *m) {
  if (!name) return;
  size_t len = strlen((const char *)name);
  char *k = adup(b->doc, name, len);
  slot *s = k ? smap_put(&b->anchors, k, len, x) : NULL;
  if (!s) {
    fail(b, m, "out of memory while reading YAML");
    return;
  }
  s->val = x;
}

/* Attach a finished node to the open container (or make it the root). */
static void attach(builder *b, ybox *x, const yaml_mark_t *m) {
  if (b->depth == 0) {
    b->doc->root = &x->n;
    return;
  }
  frame *f = &b->stack[b->depth - 1];
  f->node->weight += x->weight;
  if (f->node->weight > YDOC_MAX_EXPANDED) {
    char msg[128];
    snprintf(msg, sizeof(msg), "YAML document is too large (more than %u nodes once aliases are expanded)",
             (unsigned)YDOC_MAX_EXPANDED);
    fail(b, m, msg);
    return;
  }
  if (f->n == f->cap) {
    size_t ncap = f->cap ? f->cap * 2 : 8;
    const ynode **k = realloc(f->kids, ncap * sizeof(*k));
    if (!k) {
      fail(b, m, "out of memory while reading YAML");
      return;
    }
    f->kids = k;
    f->cap = ncap;
  }
  f->kids[f->n++] = &x->n;
}

static void on_scalar(builder *b, const yaml_event_t *e) {
  ybox *x = newnode(b, YNODE_SCALAR, &e->start_mark);
  if (!x) return;
  char *t = adup(b->doc, e->data.scalar.value, e->data.scalar.length);
  if (!t) {
    fail(b, &e->start_mark, "out of memory while reading YAML");
    return;
  }
  x->n.text = t;
  x->n.len = e->data.scalar.length;
  x->n.quoted = e->data.scalar.style == YAML_SINGLE_QUOTED_SCALAR_STYLE ||
                e->data.scalar.style == YAML_DOUBLE_QUOTED_SCALAR_STYLE;
  if (!x->n.quoted) {
    char *end;
    double v = strtod(t, &end);
    if (end != t && *end == '\0') {
      x->n.is_number = 1;
      x->n.number = v;
    }
  }
  anchor(b, e->data.scalar.anchor, x, &e->start_mark);
  attach(b, x, &e->start_mark);
}

static void on_start(builder *b, const yaml_event_t *e, ynode_kind kind) {
  if (b->depth == YDOC_MAX_DEPTH) {
    char msg[96];
    snprintf(msg, sizeof(msg), "YAML nesting is too deep (more than %d levels)", YDOC_MAX_DEPTH);
    fail(b, &e->start_mark, msg);
    return;
  }
  ybox *x = newnode(b, kind, &e->start_mark);
  if (!x) return;
  anchor(b, kind == YNODE_MAPPING ? e->data.mapping_start.anchor : e->data.sequence_start.anchor, x,
         &e->start_mark);
  b->stack[b->depth++] = (frame){x, NULL, 0, 0};
}

/* Warn about later exact duplicates of a key (they stay in the tree; lookups return the first). */
static void dupkeys(builder *b, const ynode_pair *pairs, size_t n) {
  smap seen = {NULL, 0, 0, 0};
  for (size_t i = 0; i < n; i++) {
    const ynode *k = pairs[i].key;
    slot *s = smap_put(&seen, k->text, k->len, (void *)k);
    if (!s) break; /* out of memory: the warnings are a courtesy */
    if (s->val != k) {
      const ynode *first = s->val;
      int show = k->len > 60 ? 60 : (int)k->len;
      diag_add(b->diags, DIAG_WARNING, "duplicate-key", b->path, k->line, k->col,
               "duplicate key '%.*s%s' is ignored (first defined at line %u)", show, k->text,
               k->len > 60 ? "..." : "", (unsigned)first->line);
    }
  }
  smap_clear(&seen);
}

static void on_end(builder *b, const yaml_event_t *e) {
  frame f = b->stack[--b->depth];
  ynode *n = &f.node->n;
  if (n->kind == YNODE_SEQUENCE) {
    const ynode **items = aalloc(b->doc, (f.n ? f.n : 1) * sizeof(*items));
    if (items && f.n) memcpy(items, f.kids, f.n * sizeof(*items));
    n->items = items;
    n->n = items ? f.n : 0;
  } else {
    ynode_pair *pairs = aalloc(b->doc, (f.n / 2 ? f.n / 2 : 1) * sizeof(*pairs));
    size_t np = 0;
    for (size_t i = 0; pairs && i + 1 < f.n; i += 2) {
      if (f.kids[i]->kind != YNODE_SCALAR) {
        diag_add(b->diags, DIAG_WARNING, "yaml-key", b->path, f.kids[i]->line, f.kids[i]->col,
                 "mapping key is not a scalar; the entry is ignored");
        continue;
      }
      pairs[np++] = (ynode_pair){f.kids[i], f.kids[i + 1]};
    }
    n->pairs = pairs;
    n->n = pairs ? np : 0;
    if (pairs) dupkeys(b, pairs, np);
  }
  free(f.kids);
  if (!n->items && !n->pairs) {
    fail(b, &e->start_mark, "out of memory while reading YAML");
    return;
  }
  attach(b, f.node, &e->start_mark);
}

static void on_alias(builder *b, const yaml_event_t *e) {
  const char *name = (const char *)e->data.alias.anchor;
  size_t len = strlen(name);
  slot *s = b->anchors.cap ? smap_slot(&b->anchors, name, len) : NULL;
  char msg[160];
  int show = len > 60 ? 60 : (int)len;
  if (!s || !s->key) {
    snprintf(msg, sizeof(msg), "alias '*%.*s' refers to an undefined anchor", show, name);
    fail(b, &e->start_mark, msg);
    return;
  }
  ybox *x = s->val;
  for (size_t i = 0; i < b->depth; i++) {
    if (b->stack[i].node == x) {
      snprintf(msg, sizeof(msg), "alias '*%.*s' refers to a node that contains it", show, name);
      fail(b, &e->start_mark, msg);
      return;
    }
  }
  attach(b, x, &e->start_mark);
}

/* libyaml's reader reports a byte offset, not a mark: turn it into line:col. */
static void offset_mark(const builder *b, size_t off, yaml_mark_t *m) {
  memset(m, 0, sizeof(*m));
  if (off > b->len) off = b->len;
  for (size_t i = 0; i < off; i++) {
    unsigned char c = (unsigned char)b->data[i];
    if (c == '\n') {
      m->line++;
      m->column = 0;
    } else if ((c & 0xC0) != 0x80) {
      m->column++;
    }
  }
}

/* The input byte at a mark (line and column count characters), or -1 past the end. */
static int byte_at(const builder *b, const yaml_mark_t *m) {
  size_t i = 0, line = 0, col = 0;
  while (i < b->len && line < m->line)
    if (b->data[i++] == '\n') line++;
  for (; i < b->len && b->data[i] != '\n'; i++) {
    if (((unsigned char)b->data[i] & 0xC0) == 0x80) continue;
    if (col++ == m->column) return (unsigned char)b->data[i];
  }
  return -1;
}

/* A note at libyaml's context mark (where the construct being read began), when it is elsewhere
 * than the problem: "quote opened here" for an unterminated quote. */
static void context_note(builder *b, const yaml_parser_t *p) {
  const yaml_mark_t *c = &p->context_mark, *m = &p->problem_mark;
  if (c->line == m->line && c->column == m->column) return;
  uint32_t line = (uint32_t)c->line + 1, col = (uint32_t)c->column + 1;
  const char *ctx = p->context, *what = ctx;
  static const char *const lead[] = {"while scanning an ", "while scanning a ", "while parsing an ",
                                     "while parsing a "};
  if (strcmp(ctx, "while scanning a quoted scalar") == 0) {
    diag_note_add(b->diags, line, col, "quote opened here");
    return;
  }
  for (size_t i = 0; i < sizeof(lead) / sizeof(*lead); i++)
    if (strncmp(ctx, lead[i], strlen(lead[i])) == 0) {
      what = ctx + strlen(lead[i]);
      break;
    }
  diag_note_add(b->diags, line, col, "the %s started here", what);
}

static void syntax_error(builder *b, const yaml_parser_t *p) {
  char msg[256];
  yaml_mark_t m = p->problem_mark;
  const char *problem = p->problem ? p->problem : "malformed YAML";
  if (p->error == YAML_MEMORY_ERROR) {
    snprintf(msg, sizeof(msg), "out of memory while reading YAML");
  } else if (p->error == YAML_READER_ERROR) {
    offset_mark(b, p->problem_offset, &m);
    if (p->problem_value != -1)
      snprintf(msg, sizeof(msg), "%s (byte 0x%02x)", problem, (unsigned)p->problem_value & 0xffu);
    else
      snprintf(msg, sizeof(msg), "%s", problem);
  } else {
    /* the most common mistake gets a hint: YAML never indents with tabs */
    const char *tab = byte_at(b, &m) == '\t' ? "; YAML does not allow tabs for indentation" : "";
    if (p->context)
      snprintf(msg, sizeof(msg), "%s (%s)%s", problem, p->context, tab);
    else
      snprintf(msg, sizeof(msg), "%s%s", problem, tab);
  }
  int had = b->failed;
  fail(b, &m, msg);
  if (!had && p->error != YAML_READER_ERROR && p->context) context_note(b, p);
}

/* After the first document: warn when another one follows (it is not read). */
static void trailing(builder *b, yaml_parser_t *p) {
  yaml_event_t e;
  if (!yaml_parser_parse(p, &e)) return;
  if (e.type == YAML_DOCUMENT_START_EVENT)
    diag_add(b->diags, DIAG_WARNING, "yaml-documents", b->path, (uint32_t)e.start_mark.line + 1,
             (uint32_t)e.start_mark.column + 1,
             "only the first YAML document is read; the rest of the file is ignored");
  yaml_event_delete(&e);
}

static void run(builder *b, yaml_parser_t *p) {
  for (;;) {
    yaml_event_t e;
    if (!yaml_parser_parse(p, &e)) {
      syntax_error(b, p);
      return;
    }
    int done = 0;
    switch (e.type) {
    case YAML_SCALAR_EVENT: on_scalar(b, &e); break;
    case YAML_SEQUENCE_START_EVENT: on_start(b, &e, YNODE_SEQUENCE); break;
    case YAML_MAPPING_START_EVENT: on_start(b, &e, YNODE_MAPPING); break;
    case YAML_SEQUENCE_END_EVENT:
    case YAML_MAPPING_END_EVENT: on_end(b, &e); break;
    case YAML_ALIAS_EVENT: on_alias(b, &e); break;
    case YAML_DOCUMENT_END_EVENT:
      done = 1;
      trailing(b, p);
      break;
    case YAML_STREAM_END_EVENT: done = 1; break;
    default: break;
    }
    yaml_event_delete(&e);
    if (done || b->failed) return;
  }
}

ydoc *ydoc_parse(const char *path, const char *data, size_t len, diag_list *diags) {
  builder b;
  memset(&b, 0, sizeof(b));
  b.diags = diags;
  b.path = path;
  b.data = data;
  b.len = len;
  if (len > YDOC_MAX_INPUT) {
    char msg[96];
    snprintf(msg, sizeof(msg), "file is too large (more than %u MiB)", (unsigned)(YDOC_MAX_INPUT >> 20));
    fail(&b, NULL, msg);
    return NULL;
  }
  b.doc = calloc(1, sizeof(ydoc));
  if (!b.doc) {
    fail(&b, NULL, "out of memory while reading YAML");
    return NULL;
  }
  yaml_parser_t p;
  if (!yaml_parser_initialize(&p)) {
    free(b.doc);
    fail(&b, NULL, "out of memory while reading YAML");
    return NULL;
  }
  yaml_parser_set_input_string(&p, (const unsigned char *)(data ? data : ""), data ? len : 0);
  run(&b, &p);
  yaml_parser_delete(&p);
  while (b.depth)
    free(b.stack[--b.depth].kids);
  smap_clear(&b.anchors);
  if (b.failed) {
    ydoc_free(b.doc);
    return NULL;
  }
  return b.doc;
}

const ynode *ydoc_root(const ydoc *d) { return d ? d->root : NULL; }

void ydoc_free(ydoc *d) {
  if (!d) return;
  for (chunk *c = d->chunks, *next; c; c = next) {
    next = c->next;
    free(c);
  }
  free(d);
}

/* ---- lookups -------------------------------------------------------------------------------- */

const ynode *ynode_get(const ynode *m, const char *key) {
  if (!m || m->kind != YNODE_MAPPING) return NULL;
  size_t len = strlen(key);
  for (size_t i = 0; i < m->n; i++) {
    const ynode *k = m->pairs[i].key;
    if (k->len == len && eqcase(k->text, key, len)) return m->pairs[i].value;
  }
  return NULL;
}

int ynode_is_string(const ynode *n) { return n && n->kind == YNODE_SCALAR && !n->is_number; }

const char *ynode_kind_name(const ynode *n) {
  if (!n) return "nothing";
  switch (n->kind) {
  case YNODE_SCALAR: return n->is_number ? "number" : "string";
  case YNODE_SEQUENCE: return "sequence";
  case YNODE_MAPPING: return "mapping";
  }
  return "nothing";
}
