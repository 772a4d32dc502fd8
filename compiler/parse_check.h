/* parse_check.h — the `checks` section of the policy front end (parse_check.c), called by
 * parse.c. */
#ifndef TENET_PARSE_CHECK_H
#define TENET_PARSE_CHECK_H

#include "parse_int.h"

/* 5 when any check uses `name` without `title`, a mapping `compliance` or `mitre`; else 4.
 * checks may be anything (NULL too). */
int parse_schema(const ynode *checks);
/* The `checks` section (present) into c->ast->checks. */
void parse_checks(pctx *c, const ynode *checks);
/* Free what a check owns (not the check itself). */
void parse_check_clear(ast_check *k);

#endif
