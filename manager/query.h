/* query.h — `tenet-manager -c FILE query ...`: what the manager knows, for people and scripts,
 * read from the store read-only (safe beside a running manager). An agent is "connected" when the
 * store says so and a manager holds the pid file (a killed manager leaves its last word behind):
 *
 *   query agents [--json]                  agents: connected now (and since when, from where) or
 *                                          since when not, last seen; their policies, score,
 *                                          counts, last scan
 *   query checks AGENT POLICY [--json]     one agent's checks of a policy (id, result, title, reason)
 *   query stats [AGENT] [--json]           traffic counters per agent (frames, bytes, messages)
 *   query hash AGENT POLICY                the results hash of the stored checks
 *
 * Returns the process exit status: 0, 1 (not found / store error), 2 (usage). */
#ifndef TENET_MANAGER_QUERY_H
#define TENET_MANAGER_QUERY_H

#include <stdio.h>

#include "config.h"

int manager_query(const manager_config *cfg, int argc, char **argv, FILE *out, FILE *errf);

#endif
