/* daemon_conf.c — the `key = value` reader behind both daemons' option tables (daemon_conf.h). */
#include "daemon_conf.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "daemon_log.h"
#include "err.h"
#include "strbuf.h"

#define CONF_LINE_MAX 8192

typedef struct reader {
  const char *file; /* for messages */
  char dir[PATH_MAX];
  strbuf errs;
  int nerr;
  int *seen_line; /* per option: line it was set on (0: not set in the file) */
} reader;

static void problem(reader *r, int line, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void problem(reader *r, int line, const char *fmt, ...) {
  if (r->nerr++) strbuf_putc(&r->errs, '\n');
  if (line)
    strbuf_printf(&r->errs, "%s:%d: ", r->file, line);
  else
    strbuf_printf(&r->errs, "%s: ", r->file);
  va_list ap;
  va_start(ap, fmt);
  strbuf_vprintf(&r->errs, fmt, ap);
  va_end(ap);
}

static char *trim(char *s);

int conf_parse_duration(const char *s, int64_t *seconds) {
  char *end;
  errno = 0;
  long long v = strtoll(s, &end, 10);
  if (end == s || errno || v < 0) return -1;
  long long mul = 1;
  if (*end) {
    switch (*end) {
    case 's': mul = 1; break;
    case 'm': mul = 60; break;
    case 'h': mul = 3600; break;
    case 'd': mul = 86400; break;
    case 'w': mul = 7 * 86400; break;
    default: return -1;
    }
    if (end[1]) return -1;
  }
  if (v > LLONG_MAX / mul) return -1;
  *seconds = v * mul;
  return 0;
}

int conf_parse_size(const char *s, int64_t *bytes) {
  char *end;
  errno = 0;
  long long v = strtoll(s, &end, 10);
  if (end == s || errno || v < 0) return -1;
  long long mul = 1;
  if (*end) {
    switch (toupper((unsigned char)*end)) {
    case 'K': mul = 1024; break;
    case 'M': mul = 1024 * 1024; break;
    case 'G': mul = 1024LL * 1024 * 1024; break;
    default: return -1;
    }
    if (end[1] && !(toupper((unsigned char)end[1]) == 'B' && !end[2]) &&
        !(toupper((unsigned char)end[1]) == 'I' && toupper((unsigned char)end[2]) == 'B' && !end[3]))
      return -1;
  }
  if (v > LLONG_MAX / mul) return -1;
  *bytes = v * mul;
  return 0;
}

int conf_parse_bool(const char *s, int *v) {
  static const char *const yes[] = {"yes", "true", "on", "1"}, *const no[] = {"no", "false", "off", "0"};
  for (int i = 0; i < 4; i++) {
    if (strcasecmp(s, yes[i]) == 0) return *v = 1, 0;
    if (strcasecmp(s, no[i]) == 0) return *v = 0, 0;
  }
  return -1;
}

int conf_parse_addr(const char *s, char **host, int *port) {
  *host = NULL;
  const char *colon, *h = s;
  size_t hl;
  if (*s == '[') {
    const char *close = strchr(s, ']');
    if (!close || close[1] != ':') return -1;
    h = s + 1;
    hl = (size_t)(close - h);
    colon = close + 1;
  } else {
    colon = strrchr(s, ':');
    if (!colon)
      colon = s - 1; /* only a port */
    else if (strchr(s, ':') != colon)
      return -1; /* bare IPv6 needs brackets */
    hl = colon >= s ? (size_t)(colon - s) : 0;
  }
  const char *p = colon + 1;
  char *end;
  errno = 0;
  long v = strtol(p, &end, 10);
  if (end == p || *end || errno || v < 0 || v > 65535) return -1;
  if (hl) {
    if (!(*host = strndup(h, hl))) return -1;
  }
  *port = (int)v;
  return 0;
}

void conf_addrs_free(conf_addrs *l) {
  if (!l) return;
  for (size_t i = 0; i < l->n; i++)
    free(l->items[i].host);
  free(l->items);
  l->items = NULL;
  l->n = 0;
}

static int same_addr(const conf_addr *a, const char *host, int port) {
  return a->port == port && strcmp(a->host ? a->host : "", host ? host : "") == 0;
}

int conf_parse_addrs(const char *s, int min_port, int max_port, int need_host, conf_addrs *out, char *err,
                     size_t errlen) {
  char *copy = strdup(s);
  if (!copy) {
    snprintf(err, errlen, "out of memory");
    return -1;
  }
  int several = strchr(s, ',') != NULL, rc = -1;
  size_t k = 0;
  char label[CONF_LINE_MAX + 64];
  for (char *p = copy, *next; p; p = next) {
    char *comma = strchr(p, ',');
    next = comma ? comma + 1 : NULL;
    if (comma) *comma = '\0';
    char *t = trim(p);
    k++;
    if (several)
      snprintf(label, sizeof label, "entry %zu ('%s')", k, t);
    else
      snprintf(label, sizeof label, "'%s'", t);
    if (!*t) {
      snprintf(err, errlen, "entry %zu is empty (write HOST:PORT, HOST:PORT ...)", k);
      goto out;
    }
    char *host;
    int port;
    if (conf_parse_addr(t, &host, &port) != 0) {
      snprintf(err, errlen, "%s is not HOST:PORT (e.g. 10.0.0.5:1515, [::1]:1515; several: a:1515, b:1515)",
               label);
      goto out;
    }
    if (port < min_port || port > max_port) {
      snprintf(err, errlen, "%s: port %d is out of range (%d to %d)", label, port, min_port, max_port);
      free(host);
      goto out;
    }
    if (need_host && !host) {
      snprintf(err, errlen, "%s names no host (e.g. 127.0.0.1:%d)", label, port);
      goto out;
    }
    for (size_t i = 0; i < out->n; i++)
      if (same_addr(&out->items[i], host, port)) {
        snprintf(err, errlen, "%s is already in the list", label);
        free(host);
        goto out;
      }
    conf_addr *n = realloc(out->items, (out->n + 1) * sizeof *n);
    if (!n) {
      snprintf(err, errlen, "out of memory");
      free(host);
      goto out;
    }
    out->items = n;
    out->items[out->n++] = (conf_addr){host, port};
  }
  rc = 0;
out:
  free(copy);
  return rc;
}

/* Resolve a relative path against the configuration file's directory. */
static char *resolve(reader *r, const char *v) {
  if (v[0] == '/' || !r->dir[0]) return strdup(v);
  char *out;
  if (asprintf(&out, "%s/%s", r->dir, v) < 0) return NULL;
  return out;
}

static void list_add(conf_list *l, char *item) {
  char **n = realloc(l->items, (l->n + 1) * sizeof *n);
  if (!n) {
    free(item);
    return;
  }
  l->items = n;
  l->items[l->n++] = item;
}

static char *trim(char *s) {
  while (isspace((unsigned char)*s))
    s++;
  char *e = s + strlen(s);
  while (e > s && isspace((unsigned char)e[-1]))
    *--e = '\0';
  return s;
}

/* Set one option from its text. Returns 0 or -1 (with a problem recorded). */
static int set(reader *r, const conf_option *o, void *cfg, const char *v, int line) {
  char *field = (char *)cfg + o->offset;
  switch (o->type) {
  case CONF_STRING:
  case CONF_PATH: {
    char **dst = (char **)field;
    char *nv = o->type == CONF_PATH && *v ? resolve(r, v) : strdup(v);
    if (!nv) break;
    free(*dst);
    *dst = nv;
    return 0;
  }
  case CONF_INT:
  case CONF_DURATION:
  case CONF_SIZE: {
    int64_t x;
    char *end;
    int bad;
    if (o->type == CONF_INT) {
      errno = 0;
      long long ll = strtoll(v, &end, 10);
      bad = end == v || *end || errno;
      x = ll;
    } else if (o->type == CONF_DURATION) {
      bad = conf_parse_duration(v, &x) != 0;
    } else {
      bad = conf_parse_size(v, &x) != 0;
    }
    if (bad) {
      problem(r, line, "%s: '%s' is not %s", o->name, v,
              o->type == CONF_INT        ? "an integer"
              : o->type == CONF_DURATION ? "a duration (e.g. 30s, 10m, 12h, 1d)"
                                         : "a size (e.g. 512K, 4M)");
      return -1;
    }
    if (x < o->min || x > o->max) {
      problem(r, line, "%s: %s is out of range (%lld to %lld%s)", o->name, v, (long long)o->min,
              (long long)o->max,
              o->type == CONF_DURATION ? " seconds"
              : o->type == CONF_SIZE   ? " bytes"
                                       : "");
      return -1;
    }
    *(int64_t *)field = x;
    return 0;
  }
  case CONF_BOOL:
    if (conf_parse_bool(v, (int *)field) != 0) {
      problem(r, line, "%s: '%s' is not yes or no", o->name, v);
      return -1;
    }
    return 0;
  case CONF_LEVEL:
    if (dlog_level_parse(v, (int *)field) != 0) {
      problem(r, line, "%s: '%s' is not a log level (debug, info, warning, error)", o->name, v);
      return -1;
    }
    return 0;
  case CONF_ADDR: {
    conf_addr *a = (conf_addr *)field;
    char *host;
    int port;
    if (conf_parse_addr(v, &host, &port) != 0) {
      problem(r, line, "%s: '%s' is not HOST:PORT (e.g. 127.0.0.1:1515, [::1]:1515, *:1515)", o->name, v);
      return -1;
    }
    if (port < o->min || port > o->max) {
      problem(r, line, "%s: port %d is out of range (%lld to %lld)", o->name, port, (long long)o->min,
              (long long)o->max);
      free(host);
      return -1;
    }
    free(a->host);
    a->host = host;
    a->port = port;
    return 0;
  }
  case CONF_ADDRS: {
    char why[512];
    if (conf_parse_addrs(v, (int)o->min, (int)o->max, (o->flags & CONF_NEED_HOST) != 0, (conf_addrs *)field,
                         why, sizeof why) != 0) {
      problem(r, line, "%s: %s", o->name, why);
      return -1;
    }
    return 0;
  }
  case CONF_LIST: {
    conf_list *l = (conf_list *)field;
    char *copy = strdup(v), *save = NULL;
    if (!copy) break;
    for (char *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
      char *t = trim(tok);
      if (!*t) continue;
      list_add(l, (o->flags & CONF_PATHS) ? resolve(r, t) : strdup(t));
    }
    free(copy);
    return 0;
  }
  }
  problem(r, line, "%s: out of memory", o->name);
  return -1;
}

/* Split "key = value # comment" in place. Returns 0, or -1 when the line is not key = value. */
static int split_line(char *s, char **key, char **val, const char **why) {
  char *eq = strchr(s, '=');
  if (!eq) {
    *why = "expected 'key = value'";
    return -1;
  }
  *eq = '\0';
  *key = trim(s);
  char *v = eq + 1;
  while (isspace((unsigned char)*v))
    v++;
  if (*v == '"') {
    char *close = strchr(v + 1, '"');
    if (!close) {
      *why = "unterminated quoted value";
      return -1;
    }
    *close = '\0';
    char *rest = trim(close + 1);
    if (*rest && *rest != '#') {
      *why = "text after a quoted value";
      return -1;
    }
    *val = v + 1;
  } else {
    for (char *p = v; *p; p++)
      if (*p == '#' && (p == v || isspace((unsigned char)p[-1]))) {
        *p = '\0';
        break;
      }
    *val = trim(v);
  }
  if (!**key) {
    *why = "missing option name before '='";
    return -1;
  }
  return 0;
}

int conf_load(const char *path, const conf_option *table, size_t n, void *cfg, char *err, size_t errlen) {
  reader r = {.file = path, .errs = STRBUF_INIT};
  r.dir[0] = '\0';
  char abs[PATH_MAX];
  if (realpath(path, abs)) {
    char *slash = strrchr(abs, '/');
    if (slash) {
      *slash = '\0';
      snprintf(r.dir, sizeof r.dir, "%s", abs[0] ? abs : "/");
    }
  }
  for (size_t i = 0; i < n; i++)
    if (table[i].dflt) set(&r, &table[i], cfg, table[i].dflt, 0);
  if (r.nerr) { /* a bad default is a bug in the table */
    snprintf(err, errlen, "built-in default: %s", r.errs.data ? r.errs.data : "?");
    strbuf_free(&r.errs);
    return TN_ECONFIG;
  }
  FILE *f = fopen(path, "r");
  if (!f) {
    snprintf(err, errlen, "cannot read configuration file %s: %s", path, strerror(errno));
    return TN_EIO;
  }
  r.seen_line = calloc(n ? n : 1, sizeof *r.seen_line);
  char buf[CONF_LINE_MAX + 2];
  int line = 0;
  while (fgets(buf, sizeof buf, f)) {
    line++;
    size_t len = strlen(buf);
    if (len && buf[len - 1] != '\n' && !feof(f)) {
      problem(&r, line, "line longer than %d characters", CONF_LINE_MAX);
      int c;
      while ((c = fgetc(f)) != EOF && c != '\n') {
      }
      continue;
    }
    char *s = trim(buf);
    if (!*s || *s == '#' || *s == ';') continue;
    char *key, *val;
    const char *why = NULL;
    if (split_line(s, &key, &val, &why) != 0) {
      problem(&r, line, "%s", why);
      continue;
    }
    size_t i;
    for (i = 0; i < n; i++)
      if (strcmp(table[i].name, key) == 0) break;
    if (i == n) {
      problem(&r, line, "unknown option '%s'", key);
      continue;
    }
    int appends = table[i].type == CONF_LIST || table[i].type == CONF_ADDRS;
    if (r.seen_line && r.seen_line[i] && !appends) {
      problem(&r, line, "option '%s' is set twice (first on line %d)", key, r.seen_line[i]);
      continue;
    }
    if (!*val && table[i].type != CONF_STRING && table[i].type != CONF_PATH && table[i].type != CONF_LIST) {
      problem(&r, line, "%s: missing value", key);
      continue;
    }
    if (table[i].type == CONF_LIST && r.seen_line && !r.seen_line[i]) { /* the file replaces the default */
      conf_list *l = (conf_list *)((char *)cfg + table[i].offset);
      for (size_t k = 0; k < l->n; k++)
        free(l->items[k]);
      l->n = 0;
    }
    if (table[i].type == CONF_ADDRS && r.seen_line && !r.seen_line[i])
      conf_addrs_free((conf_addrs *)((char *)cfg + table[i].offset));
    if (set(&r, &table[i], cfg, val, line) == 0 && r.seen_line) r.seen_line[i] = line;
  }
  if (ferror(f)) problem(&r, line, "read error: %s", strerror(errno));
  fclose(f);
  for (size_t i = 0; i < n; i++)
    if ((table[i].flags & CONF_REQUIRED) && r.seen_line && !r.seen_line[i])
      problem(&r, 0, "missing required option '%s' (%s)", table[i].name, table[i].help);
  free(r.seen_line);
  int rc = TN_OK;
  if (r.nerr) {
    snprintf(err, errlen, "%s", r.errs.data ? r.errs.data : "configuration error");
    rc = TN_ECONFIG;
  }
  strbuf_free(&r.errs);
  return rc;
}

void conf_free(const conf_option *table, size_t n, void *cfg) {
  for (size_t i = 0; i < n; i++) {
    char *field = (char *)cfg + table[i].offset;
    switch (table[i].type) {
    case CONF_STRING:
    case CONF_PATH:
      free(*(char **)field);
      *(char **)field = NULL;
      break;
    case CONF_ADDR:
      free(((conf_addr *)field)->host);
      ((conf_addr *)field)->host = NULL;
      break;
    case CONF_ADDRS: conf_addrs_free((conf_addrs *)field); break;
    case CONF_LIST: {
      conf_list *l = (conf_list *)field;
      for (size_t k = 0; k < l->n; k++)
        free(l->items[k]);
      free(l->items);
      l->items = NULL;
      l->n = 0;
      break;
    }
    default: break;
    }
  }
}

void conf_print_help(FILE *out, const conf_option *table, size_t n) {
  for (size_t i = 0; i < n; i++) {
    const conf_option *o = &table[i];
    char dflt[96];
    if (o->flags & CONF_REQUIRED)
      snprintf(dflt, sizeof dflt, "(required)");
    else if (o->dflt && *o->dflt)
      snprintf(dflt, sizeof dflt, "= %s", o->dflt);
    else
      snprintf(dflt, sizeof dflt, "(unset)");
    fprintf(out, "  %-20s %-22s %s\n", o->name, dflt, o->help);
  }
}

static int same_str(const char *a, const char *b) { return strcmp(a ? a : "", b ? b : "") == 0; }

/* Non-zero when option o holds the same value in a and b. */
static int same_value(const conf_option *o, const void *a, const void *b) {
  const char *fa = (const char *)a + o->offset, *fb = (const char *)b + o->offset;
  switch (o->type) {
  case CONF_STRING:
  case CONF_PATH: return same_str(*(char *const *)fa, *(char *const *)fb);
  case CONF_INT:
  case CONF_DURATION:
  case CONF_SIZE: return *(const int64_t *)fa == *(const int64_t *)fb;
  case CONF_BOOL:
  case CONF_LEVEL: return *(const int *)fa == *(const int *)fb;
  case CONF_ADDR: {
    const conf_addr *x = (const conf_addr *)fa, *y = (const conf_addr *)fb;
    return x->port == y->port && same_str(x->host, y->host);
  }
  case CONF_ADDRS: {
    const conf_addrs *x = (const conf_addrs *)fa, *y = (const conf_addrs *)fb;
    if (x->n != y->n) return 0;
    for (size_t k = 0; k < x->n; k++)
      if (!same_addr(&x->items[k], y->items[k].host, y->items[k].port)) return 0;
    return 1;
  }
  case CONF_LIST: {
    const conf_list *x = (const conf_list *)fa, *y = (const conf_list *)fb;
    if (x->n != y->n) return 0;
    for (size_t k = 0; k < x->n; k++)
      if (!same_str(x->items[k], y->items[k])) return 0;
    return 1;
  }
  default: return 1;
  }
}

size_t conf_diff(const conf_option *table, size_t n, const void *a, const void *b, const char **names,
                 size_t max) {
  size_t k = 0;
  for (size_t i = 0; i < n; i++)
    if (!same_value(&table[i], a, b)) {
      if (k < max) names[k] = table[i].name;
      k++;
    }
  return k;
}
