/* daemon_conf.h — the daemons' configuration files: `key = value` lines read through one table
 * with a row per option (Redis config.c style). Each daemon's config.c declares its table; this
 * module parses, converts, applies defaults and reports every problem with the line that has it:
 *
 *   # comment                       blank lines and lines starting with '#' or ';' are ignored
 *   manager = 127.0.0.1:1515        a value ends at the end of the line or at " #" (a comment)
 *   log_file = "/var/log/my #1.log" quotes keep spaces and '#'
 *
 * Errors look like a compiler's: `agent.conf:7: scan_interval: 'soon' is not a duration (e.g. 30s,
 * 10m, 12h, 1d)`. Relative paths (CONF_PATH) are resolved against the configuration file's
 * directory, so a daemon that changes directory keeps working. */
#ifndef TENET_DAEMON_CONF_H
#define TENET_DAEMON_CONF_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

enum conf_type {
  CONF_STRING,   /* char * (malloc'd) */
  CONF_PATH,     /* char * (malloc'd, absolute) */
  CONF_INT,      /* int64_t, within [min, max] */
  CONF_DURATION, /* int64_t seconds: N with an optional suffix s, m, h, d or w; within [min, max] */
  CONF_SIZE,     /* int64_t bytes: N with an optional suffix K, M or G (powers of 1024) */
  CONF_BOOL,     /* int: yes/no, true/false, on/off, 1/0 */
  CONF_LEVEL,    /* int: a daemon_log.h level (debug, info, warning, error) */
  CONF_ADDR,     /* conf_addr: host:port ("[v6]:port" for IPv6 literals), port within [min, max] */
  CONF_LIST,     /* conf_list: comma-separated values; a repeated option appends; paths resolved */
  CONF_ADDRS,    /* conf_addrs: comma-separated CONF_ADDR entries, in order; a repeated option appends;
                  * an empty, malformed or repeated entry is an error naming the entry */
};

#define CONF_REQUIRED 0x1 /* no default: the file must set it */
#define CONF_PATHS 0x2    /* CONF_LIST: the items are paths (resolved like CONF_PATH) */

#define CONF_NEED_HOST 0x4 /* CONF_ADDRS: every entry names a host (no ":port" alone) */

typedef struct conf_addr {
  char *host; /* malloc'd */
  int port;
} conf_addr;

/* An ordered list of addresses (CONF_ADDRS). */
typedef struct conf_addrs {
  conf_addr *items; /* malloc'd, each host malloc'd */
  size_t n;
} conf_addrs;

typedef struct conf_list {
  char **items; /* malloc'd strings */
  size_t n;
} conf_list;

typedef struct conf_option {
  const char *name;
  int type;         /* enum conf_type */
  size_t offset;    /* offsetof the field in the daemon's config struct */
  const char *dflt; /* the default as it would be written in the file; NULL: none */
  int flags;        /* CONF_REQUIRED, CONF_PATHS */
  int64_t min, max; /* bounds for CONF_INT, CONF_DURATION, CONF_SIZE and CONF_ADDR ports */
  const char *help; /* one line for `--help-config` */
} conf_option;

/* Read path into cfg (a zeroed struct the table describes): defaults first, then the file.
 * Returns TN_OK, TN_EIO (cannot read the file) or TN_ECONFIG; err gets every problem, one per line
 * ("FILE:LINE: ..."), as much as fits. On error cfg may be partly filled: call conf_free. */
int conf_load(const char *path, const conf_option *table, size_t n, void *cfg, char *err, size_t errlen);
/* Free what conf_load allocated in cfg. */
void conf_free(const conf_option *table, size_t n, void *cfg);
/* The options whose values differ between two structs the table describes (after a SIGHUP re-read):
 * their names (static strings) into names[0..max), in table order. Returns how many differ. */
size_t conf_diff(const conf_option *table, size_t n, const void *a, const void *b, const char **names,
                 size_t max);
/* Print the table: one line per option with its default and help. */
void conf_print_help(FILE *out, const conf_option *table, size_t n);

/* Parsers shared with command lines (0 on success, -1 on a malformed value). */
int conf_parse_duration(const char *s, int64_t *seconds);
int conf_parse_size(const char *s, int64_t *bytes);
int conf_parse_bool(const char *s, int *v);
/* "host:port", "[v6]:port" or ":port"/"port" (host NULL). *host is malloc'd or NULL. */
int conf_parse_addr(const char *s, char **host, int *port);
/* Append the comma-separated addresses of s to *out (CONF_ADDRS's syntax; entries are trimmed).
 * Ports must lie in [min_port, max_port]; with need_host every entry names a host; an entry already
 * in *out is refused. Returns 0, or -1 with why (e.g. "entry 2 ('x:1') is not HOST:PORT ...") in
 * err; on error *out keeps the entries before the bad one. Free with conf_addrs_free. */
int conf_parse_addrs(const char *s, int min_port, int max_port, int need_host, conf_addrs *out, char *err,
                     size_t errlen);
/* Free the entries of l and empty it (l itself is not freed). NULL is a no-op. */
void conf_addrs_free(conf_addrs *l);

#endif
