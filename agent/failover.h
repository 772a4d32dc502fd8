/* failover.h — which manager the agent dials next, and after how long.
 *
 * The agent holds the ordered list of `manager` addresses. It dials the first; every failure
 * (connect refused or timed out, TLS handshake refused, the manager closing the connection — also
 * right after Hello, which is how a manager turns away an agent another manager still serves — or
 * a session error) moves it to the next address, wrapping around, after a delay:
 *
 *   ceiling starts at reconnect_min and doubles after each failure, up to reconnect_max;
 *   delay   = uniform in [0, ceiling] ("full jitter"), so that agents a manager dropped together
 *             do not come back together.
 *
 * A session that lasted resets the ceiling to reconnect_min: one in which the manager acknowledged
 * a message (it stores what this agent sends), or that stayed up AGENT_FAILOVER_STABLE_S seconds
 * (an agent with nothing to send gets no Ack). The random source is injected, so that the schedule
 * is deterministic in tests; agent_failover_getrandom draws from getrandom(2). */
#ifndef TENET_AGENT_FAILOVER_H
#define TENET_AGENT_FAILOVER_H

#include <stddef.h>
#include <stdint.h>

#include "daemon_conf.h"

/* A session up this long resets the backoff even without an Ack (seconds). */
#define AGENT_FAILOVER_STABLE_S 30

/* A uniformly distributed 64-bit value. */
typedef uint64_t (*agent_failover_rand)(void *arg);

typedef struct agent_failover {
  const conf_addr *addrs; /* borrowed: the configuration's list */
  size_t n, cur;          /* cur: the address dialled next / in use */
  int64_t min_ms, max_ms;
  int64_t ceiling_ms; /* the next delay is uniform in [0, ceiling_ms] */
  uint64_t failures;  /* consecutive failures since the last session that lasted */
  agent_failover_rand rand;
  void *rand_arg;
} agent_failover;

/* Start at addrs[0] with the ceiling at min_ms (addrs borrowed; n >= 1; 0 < min_ms <= max_ms).
 * rand NULL: agent_failover_getrandom. */
void agent_failover_init(agent_failover *f, const conf_addr *addrs, size_t n, int64_t min_ms, int64_t max_ms,
                         agent_failover_rand rand, void *rand_arg);
/* The address to dial (or in use). */
const conf_addr *agent_failover_current(const agent_failover *f);
/* The attempt on the current address failed (or its session ended): move to the next address and
 * return the delay before dialling it (ms, uniform in [0, ceiling]); the ceiling then doubles up to
 * max_ms. */
int64_t agent_failover_failed(agent_failover *f);
/* The session lasted (see above): the next failure waits at most min_ms again. */
void agent_failover_stable(agent_failover *f);
/* "host:port", or "[v6]:port" for an IPv6 literal, into out (truncated to cap). Returns out. */
char *agent_failover_addr_format(const conf_addr *a, char *out, size_t cap);
/* A uniform 64-bit value from getrandom(2) (falls back to the monotonic clock mixed with a counter
 * when the kernel cannot give one). arg is unused. */
uint64_t agent_failover_getrandom(void *arg);

#endif
