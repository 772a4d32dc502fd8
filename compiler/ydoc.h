/* ydoc.h — the compiler's YAML reader: libyaml events -> a read-only node tree with 1-based
 * line:col on every node. This is the only file pair that knows libyaml.
 *
 * Scalars are typed the way Wazuh 4.x's YAML -> JSON conversion does (SCA-SEMANTICS §1.1): a
 * single- or double-quoted scalar is a string; any other scalar is a number when strtod consumes
 * all of it (12, 5.1, 1e3, 0x1A, inf, nan) and a string otherwise (true, yes, ~ and "" stay strings).
 * Mapping lookups compare keys case-insensitively and return the first match; a later key spelled
 * exactly like an earlier one is kept in the tree but draws a warning. Aliases are resolved by
 * sharing the anchored node (the tree is a DAG), within a bound on the expanded size, so
 * billion-laughs input is an error.
 *
 * Hostile input is expected: input size, nesting depth and expanded node count are limited, and
 * every failure becomes a diagnostic, never a crash. */

#ifndef TENET_YDOC_H
#define TENET_YDOC_H

#include <stddef.h>
#include <stdint.h>

#include "diag.h"

#define YDOC_MAX_INPUT (64u << 20)   /* bytes of YAML accepted */
#define YDOC_MAX_DEPTH 64            /* nesting of sequences and mappings */
#define YDOC_MAX_EXPANDED (1u << 20) /* nodes, counting every alias expansion */

typedef enum { YNODE_SCALAR = 1, YNODE_SEQUENCE, YNODE_MAPPING } ynode_kind;

typedef struct ynode ynode;

typedef struct ynode_pair {
  const ynode *key, *value;
} ynode_pair;

struct ynode {
  ynode_kind kind;
  uint32_t line, col; /* 1-based; a quoted scalar starts at its opening quote */
  /* scalars */
  const char *text; /* NUL-terminated (may also hold NULs when quoted: see len) */
  size_t len;
  int quoted;    /* written '...' or "..." */
  int is_number; /* typed as a number (never when quoted) */
  double number; /* the value when is_number */
  /* sequences: n items; mappings: n pairs in document order */
  size_t n;
  const ynode **items;
  const ynode_pair *pairs;
};

typedef struct ydoc ydoc; /* opaque: owns every node and string of one document */

/* Parse the first YAML document of data[0..len). path is used for diagnostics only. Returns the
 * document (caller frees with ydoc_free), or NULL when the input is not YAML or breaks a limit;
 * the reason was added to diags as an error. Non-fatal oddities (non-scalar mapping keys,
 * duplicate keys, a second document) are added as warnings. */
ydoc *ydoc_parse(const char *path, const char *data, size_t len, diag_list *diags);
/* The root node, or NULL when the stream holds no document (empty file, comments only). */
const ynode *ydoc_root(const ydoc *d);
/* Free a document and all its nodes. NULL is a no-op. */
void ydoc_free(ydoc *d);

/* Value of the first pair of mapping m whose scalar key equals key, ignoring ASCII case; NULL when
 * there is none or m is not a mapping. Borrowed from the document. */
const ynode *ynode_get(const ynode *m, const char *key);
/* Non-zero when n is a scalar typed as a string. */
int ynode_is_string(const ynode *n);
/* What n is, for messages: "string", "number", "sequence" or "mapping" ("nothing" for NULL). */
const char *ynode_kind_name(const ynode *n);

#endif
