/* json.h — a small, strict JSON reader for the check events agents send (hostile input): the
 * manager reads them to fill the sca.check.* fields of its alerts. RFC 8259 syntax, nesting at
 * most JSON_MAX_DEPTH, strings unescaped to UTF-8 (\u0000 refused). Objects keep member order;
 * lookups take the first member of a name. */
#ifndef TENET_MANAGER_JSON_H
#define TENET_MANAGER_JSON_H

#include <stddef.h>

#define JSON_MAX_DEPTH 32

typedef enum json_type {
  JSON_NULL,
  JSON_FALSE,
  JSON_TRUE,
  JSON_NUMBER,
  JSON_STRING,
  JSON_ARRAY,
  JSON_OBJECT
} json_type;

typedef struct json_value {
  json_type type;
  char *text;                /* JSON_STRING: the unescaped string; JSON_NUMBER: the number as written */
  size_t len;                /* length of text */
  struct json_value **items; /* JSON_ARRAY / JSON_OBJECT: members in order */
  char **keys;               /* JSON_OBJECT: member names (unescaped) */
  size_t n;
} json_value;

/* Parse exactly one JSON value (surrounding whitespace allowed). NULL with a message naming the
 * byte offset in err. Free with json_free. */
json_value *json_parse(const char *s, size_t len, char *err, size_t errlen);
void json_free(json_value *v);

/* The first member named key of an object (NULL when v is not an object or has none). */
const json_value *json_get(const json_value *v, const char *key);
/* The string of a JSON_STRING, or NULL. */
const char *json_str(const json_value *v);

#endif
