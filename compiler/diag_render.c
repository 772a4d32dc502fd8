/* diag_render.c — diagnostics to text (gcc style, with source line, caret and notes), JSON (one
 * array) or SARIF 2.1.0 (one log, one run, the warnings.def rows as rules). See diag.h.
 *
 * Diagnostics stay structs until here (nothing parses back what was rendered). Source lines are
 * policy text, which is hostile: control bytes other than tab print as '?'. */
#include <stdlib.h>
#include <string.h>

#include "diag.h"
#include "strbuf.h"

int diag_format_parse(const char *name) {
  if (strcmp(name, "text") == 0) return DIAG_FORMAT_TEXT;
  if (strcmp(name, "json") == 0) return DIAG_FORMAT_JSON;
  if (strcmp(name, "sarif") == 0) return DIAG_FORMAT_SARIF;
  return -1;
}

static int cmp(const void *pa, const void *pb) {
  const diag *a = *(const diag *const *)pa, *b = *(const diag *const *)pb;
  int c = strcmp(a->file ? a->file : "", b->file ? b->file : "");
  if (c) return c;
  if (a->line != b->line) return a->line < b->line ? -1 : 1;
  if (a->col != b->col) return a->col < b->col ? -1 : 1;
  return a < b ? -1 : a > b; /* insertion order: the items array is in it */
}

/* The diagnostics in print order; NULL when there are none or memory ran out (the caller then
 * walks the list as it is). */
static const diag **ordered(const diag_list *d) {
  if (!d->n) return NULL;
  const diag **order = malloc(d->n * sizeof(*order));
  if (!order) return NULL;
  for (size_t i = 0; i < d->n; i++)
    order[i] = &d->items[i];
  qsort(order, d->n, sizeof(*order), cmp);
  return order;
}

static const char *file_of(const diag *g) { return g->file ? g->file : "<input>"; }

/* ---- text ------------------------------------------------------------------------------------- */

#define BOLD "\033[1m"
#define RED "\033[1;31m"
#define MAGENTA "\033[1;35m"
#define CYAN "\033[1;36m"
#define GREEN "\033[1;32m"
#define RESET "\033[0m"

/* The source line and a caret under column col (characters, 1-based), like gcc. */
static void caret_lines(diag_list *d, FILE *out, const char *file, uint32_t line, uint32_t col, int color) {
  size_t len;
  const char *s = diag_source_line(d, file, line, &len);
  if (!s) return;
  fprintf(out, " %5u | ", (unsigned)line);
  for (size_t i = 0; i < len; i++) {
    unsigned char c = (unsigned char)s[i];
    fputc(c == '\t' || (c >= 0x20 && c != 0x7f) ? c : '?', out);
  }
  fputs("\n       | ", out);
  uint32_t chars = 1;
  for (size_t i = 0; i < len && chars < col; i++) {
    unsigned char c = (unsigned char)s[i];
    if ((c & 0xC0) == 0x80) continue; /* UTF-8 continuation: part of the previous character */
    fputc(c == '\t' ? '\t' : ' ', out);
    chars++;
  }
  fprintf(out, "%s^%s\n", color ? GREEN : "", color ? RESET : "");
}

static void text1(diag_list *d, const diag *g, FILE *out, int color, int caret) {
  const char *file = file_of(g);
  diag_level eff = diag_effective(d, g);
  int warn = g->level == DIAG_WARNING;
  const char *hue = eff == DIAG_ERROR ? RED : MAGENTA;
  fprintf(out, "%s%s", color ? BOLD : "", file);
  if (g->line) fprintf(out, ":%u:%u", (unsigned)g->line, (unsigned)g->col);
  fprintf(out, ":%s %s%s:%s %s", color ? RESET : "", color ? hue : "",
          eff == DIAG_ERROR ? "error" : "warning", color ? RESET : "",
          g->message ? g->message : "(message lost: out of memory)");
  if (warn)
    fprintf(out, " [%s%s%s%s]", color ? hue : "", eff == DIAG_ERROR ? "-Werror=" : "-W", g->code,
            color ? RESET : "");
  fputc('\n', out);
  if (caret && g->line) caret_lines(d, out, g->file, g->line, g->col, color);
  for (size_t i = 0; i < g->nnotes; i++) {
    const diag_note *nt = &g->notes[i];
    fprintf(out, "%s%s", color ? BOLD : "", file);
    if (nt->line) fprintf(out, ":%u:%u", (unsigned)nt->line, (unsigned)nt->col);
    fprintf(out, ":%s %snote:%s %s\n", color ? RESET : "", color ? CYAN : "", color ? RESET : "",
            nt->message ? nt->message : "(message lost: out of memory)");
    if (caret && nt->line) caret_lines(d, out, g->file, nt->line, nt->col, color);
  }
}

/* ---- JSON ------------------------------------------------------------------------------------- */

static void jstr(strbuf *b, const char *s) {
  strbuf_putc(b, '"');
  if (s) strbuf_json_escape(b, s, strlen(s));
  strbuf_putc(b, '"');
}

static void json1(const diag_list *d, const diag *g, strbuf *b) {
  strbuf_puts(b, "{\"file\":");
  jstr(b, file_of(g));
  strbuf_printf(b, ",\"line\":%u,\"column\":%u,\"severity\":", (unsigned)g->line, (unsigned)g->col);
  jstr(b, diag_effective(d, g) == DIAG_ERROR ? "error" : "warning");
  strbuf_puts(b, ",\"code\":");
  jstr(b, g->code);
  strbuf_puts(b, ",\"message\":");
  jstr(b, g->message);
  strbuf_puts(b, ",\"notes\":[");
  for (size_t i = 0; i < g->nnotes; i++) {
    strbuf_puts(b, i ? ",{\"file\":" : "{\"file\":");
    jstr(b, file_of(g));
    strbuf_printf(b, ",\"line\":%u,\"column\":%u,\"message\":", (unsigned)g->notes[i].line,
                  (unsigned)g->notes[i].col);
    jstr(b, g->notes[i].message);
    strbuf_putc(b, '}');
  }
  strbuf_puts(b, "]}");
}

/* ---- SARIF 2.1.0 ------------------------------------------------------------------------------ */

/* A file path as a URI reference: unreserved characters and '/' as they are, the rest %XX. */
static void uri(strbuf *b, const char *path) {
  static const char hex[] = "0123456789ABCDEF";
  strbuf_putc(b, '"');
  for (const unsigned char *p = (const unsigned char *)path; *p; p++) {
    if ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
        strchr("-._~/", *p)) {
      strbuf_putc(b, (char)*p);
    } else {
      strbuf_putc(b, '%');
      strbuf_putc(b, hex[*p >> 4]);
      strbuf_putc(b, hex[*p & 15]);
    }
  }
  strbuf_putc(b, '"');
}

/* The members of a location object (without its braces): physicalLocation, and its region when
 * the line is known. */
static void location(strbuf *b, const char *file, uint32_t line, uint32_t col) {
  strbuf_puts(b, "\"physicalLocation\":{\"artifactLocation\":{\"uri\":");
  uri(b, file);
  strbuf_putc(b, '}');
  if (line)
    strbuf_printf(b, ",\"region\":{\"startLine\":%u,\"startColumn\":%u}", (unsigned)line,
                  col ? (unsigned)col : 1u);
  strbuf_putc(b, '}');
}

static void sarif_rules(strbuf *b) {
  size_t n;
  const diag_code_info *c = diag_codes(&n);
  for (size_t i = 0; i < n; i++) {
    strbuf_puts(b, i ? ",{\"id\":" : "{\"id\":");
    jstr(b, c[i].code);
    strbuf_puts(b, ",\"shortDescription\":{\"text\":");
    jstr(b, c[i].description);
    strbuf_printf(b, "},\"defaultConfiguration\":{\"enabled\":%s,\"level\":\"%s\"}",
                  !c[i].is_warning || c[i].on_by_default ? "true" : "false",
                  c[i].is_warning ? "warning" : "error");
    if (c[i].is_warning) {
      strbuf_puts(b, ",\"properties\":{\"option\":");
      char opt[64];
      snprintf(opt, sizeof(opt), "-W%s", c[i].code);
      jstr(b, opt);
      strbuf_putc(b, '}');
    }
    strbuf_putc(b, '}');
  }
}

static long rule_index(const char *code) {
  size_t n;
  const diag_code_info *c = diag_codes(&n);
  for (size_t i = 0; i < n; i++)
    if (strcmp(c[i].code, code) == 0) return (long)i;
  return -1;
}

static void sarif1(const diag_list *d, const diag *g, strbuf *b) {
  strbuf_puts(b, "{\"ruleId\":");
  jstr(b, g->code[0] ? g->code : "error");
  long idx = rule_index(g->code);
  if (idx >= 0) strbuf_printf(b, ",\"ruleIndex\":%ld", idx);
  strbuf_puts(b, ",\"level\":");
  jstr(b, diag_effective(d, g) == DIAG_ERROR ? "error" : "warning");
  strbuf_puts(b, ",\"message\":{\"text\":");
  jstr(b, g->message);
  strbuf_puts(b, "},\"locations\":[{");
  location(b, file_of(g), g->line, g->col);
  strbuf_puts(b, "}]");
  if (g->nnotes) {
    strbuf_puts(b, ",\"relatedLocations\":[");
    for (size_t i = 0; i < g->nnotes; i++) {
      if (i) strbuf_putc(b, ',');
      strbuf_printf(b, "{\"id\":%zu,", i);
      location(b, file_of(g), g->notes[i].line, g->notes[i].col);
      strbuf_puts(b, ",\"message\":{\"text\":");
      jstr(b, g->notes[i].message);
      strbuf_puts(b, "}}");
    }
    strbuf_putc(b, ']');
  }
  strbuf_putc(b, '}');
}

/* ---- entry points ----------------------------------------------------------------------------- */

void diag_render(diag_list *d, FILE *out, diag_format fmt, int color, int caret) {
  if (!d) return;
  const diag **order = ordered(d);
  size_t n = d->n;
#define ITEM(i) (order ? order[i] : &d->items[i])
  if (fmt == DIAG_FORMAT_TEXT) {
    for (size_t i = 0; i < n; i++)
      text1(d, ITEM(i), out, color, caret);
    free(order);
    return;
  }
  strbuf b = STRBUF_INIT;
  if (fmt == DIAG_FORMAT_JSON) {
    strbuf_putc(&b, '[');
    for (size_t i = 0; i < n; i++) {
      if (i) strbuf_putc(&b, ',');
      json1(d, ITEM(i), &b);
    }
    strbuf_puts(&b, "]\n");
  } else {
    strbuf_puts(&b, "{\"$schema\":\"https://json.schemastore.org/sarif-2.1.0.json\",\"version\":\"2.1.0\","
                    "\"runs\":[{\"tool\":{\"driver\":{\"name\":\"tenet\",\"rules\":[");
    sarif_rules(&b);
    strbuf_puts(&b, "]}},\"results\":[");
    for (size_t i = 0; i < n; i++) {
      if (i) strbuf_putc(&b, ',');
      sarif1(d, ITEM(i), &b);
    }
    strbuf_puts(&b, "]}]}\n");
  }
#undef ITEM
  if (strbuf_ok(&b))
    fwrite(b.data, 1, b.len, out);
  else
    fputs("tenet: out of memory rendering diagnostics\n", stderr);
  strbuf_free(&b);
  free(order);
}

void diag_print(const diag_list *d, FILE *out, int color) {
  /* without carets no source is read: the list is not changed */
  diag_render((diag_list *)d, out, DIAG_FORMAT_TEXT, color, 0);
}
